/* cmd_program.c - `leal program create|set|show`, `leal store add`, `leal terminal
 * add|new-epoch`. */
#include <string.h>

#include "cli.h"
#include "host/ledger/amount.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char program_help[] =
    "usage: leal program create --code CODE --name NAME [--kind single|chain|collective]\n"
    "                           [--id N] [--points-per-euro 1,2] [--points-expiry-days N]\n"
    "                           [--purse-cap EUR] [--classic-stored-value-cap EUR|off]\n"
    "                           [--max-euros-per-operation EUR]\n"
    "                           [--max-points-per-operation N] [--locale en|es]\n"
    "                           [--db PATH] [--json]\n"
    "       leal program set ID [--purse-cap EUR] [--classic-stored-value-cap EUR|off]\n"
    "                           [--max-euros-per-operation EUR]\n"
    "                           [--max-points-per-operation N] [--db PATH] [--json]\n"
    "       leal program show ID [--db PATH] [--json]\n"
    "A program is one loyalty scheme: a single shop, a chain whose shops share nothing,\n"
    "or a collective of shops sharing customers and promotions. Its points rate is\n"
    "points per euro with up to two decimals; fractions of a point are never credited.\n"
    "Stored value: --purse-cap is the most a card's purse holds (default 1000,00; a\n"
    "DESFire card keeps the cap it was issued with). MIFARE Classic cards carry no\n"
    "money unless --classic-stored-value-cap enables it, up to that amount; 'off'\n"
    "(the default) turns it off. Keep it off or small: a Classic card can be copied,\n"
    "and a stolen terminal bundle can forge Classic money up to the cap on every\n"
    "card issued with it (keys/KEYS.md).\n"
    "Sanity limits: one manual post or welcome bonus above --max-euros-per-operation\n"
    "(default 1000,00) or --max-points-per-operation (points or stamps, default\n"
    "100000) is refused unless confirmed with --over-limit.\n"
    "--locale es makes Spanish the back office's language for the program's users\n"
    "(default en; each user can change it with 'leal user set NAME --lang').\n";

/* Euros for a cap: 0..LEDGER_PURSE_CAP_MAX cents, or "off" (0) where allowed. */
static int parse_cap(const char *opt, const char *v, bool off_ok, int64_t *cents)
{
    if (off_ok && strcmp(v, "off") == 0) {
        *cents = 0;
        return 0;
    }
    if (amount_parse(v, strlen(v), cents) != LEAL_OK || *cents < 0 || *cents > LEDGER_PURSE_CAP_MAX)
        return cli_usage("--%s '%s': write euros like 200 or 12,50 (0 to 21474836.47)%s", opt, v,
                         off_ok ? ", or off" : "");
    return 0;
}

/* The per-operation limits given on the command line over the ones in p. */
static int limits_from_opts(const struct lcli_opt *o, size_t n, struct ledger_program *p)
{
    const char *v;
    if ((v = lcli_get(o, n, "max-euros-per-operation")) &&
        (amount_parse(v, strlen(v), &p->max_cents_per_operation) != LEAL_OK ||
         p->max_cents_per_operation < 1))
        return cli_usage("--max-euros-per-operation '%s': write euros like 500 or 12,50 (more "
                         "than 0)",
                         v);
    if ((v = lcli_get(o, n, "max-points-per-operation")) &&
        lcli_id(v, &p->max_units_per_operation) != LEAL_OK)
        return cli_usage("--max-points-per-operation '%s': a whole number from 1", v);
    if (p->max_units_per_operation > AMOUNT_MAX_UNITS)
        return cli_fail(LEAL_E_AMOUNT_RANGE, "--max-points-per-operation '%s'", v);
    return 0;
}

/* The caps given on the command line over the ones in p, checked together. */
static int caps_from_opts(const struct lcli_opt *o, size_t n, struct ledger_program *p)
{
    const char *v;
    int rc;
    if ((v = lcli_get(o, n, "purse-cap")) &&
        (rc = parse_cap("purse-cap", v, false, &p->purse_cap_cents)) != 0)
        return rc;
    if ((v = lcli_get(o, n, "classic-stored-value-cap")) &&
        (rc = parse_cap("classic-stored-value-cap", v, true, &p->classic_stored_value_cap_cents)) !=
            0)
        return rc;
    if (p->classic_stored_value_cap_cents > p->purse_cap_cents) {
        char a[AMOUNT_FORMAT_MAX], b[AMOUNT_FORMAT_MAX];
        lcli_amount_str("EUR", p->classic_stored_value_cap_cents, a, sizeof a);
        lcli_amount_str("EUR", p->purse_cap_cents, b, sizeof b);
        return cli_usage("--classic-stored-value-cap %s is above the purse cap %s; raise "
                         "--purse-cap or lower it",
                         a, b);
    }
    return 0;
}

static const char *kind_name(enum ledger_program_kind k)
{
    return k == LEDGER_PROGRAM_CHAIN        ? "chain"
           : k == LEDGER_PROGRAM_COLLECTIVE ? "collective"
                                            : "single";
}

static void print_program(const struct ledger_program *p, bool json)
{
    char rate[AMOUNT_FORMAT_MAX], cap[AMOUNT_FORMAT_MAX], ccap[AMOUNT_FORMAT_MAX];
    if (json) {
        printf("{\"id\":%lld,\"code\":", (long long)p->id);
        cli_json_string(stdout, p->code);
        printf(",\"name\":");
        cli_json_string(stdout, p->name);
        printf(",\"kind\":\"%s\",\"points_per_euro_milli\":%lld,\"points_expiry_days\":%lld,"
               "\"purse_cap_cents\":%lld,\"classic_stored_value_cap_cents\":%lld,"
               "\"max_cents_per_operation\":%lld,\"max_units_per_operation\":%lld,\"locale\":\"%"
               "s\"}\n",
               kind_name(p->kind), (long long)p->points_per_euro_milli,
               (long long)p->points_expiry_days, (long long)p->purse_cap_cents,
               (long long)p->classic_stored_value_cap_cents, (long long)p->max_cents_per_operation,
               (long long)p->max_units_per_operation, p->locale);
        return;
    }
    lcli_amount_str("EUR", p->points_per_euro_milli / 10, rate, sizeof rate);
    lcli_amount_str("EUR", p->purse_cap_cents, cap, sizeof cap);
    lcli_amount_str("EUR", p->classic_stored_value_cap_cents, ccap, sizeof ccap);
    printf("%-16s %lld (%s)\n", "program", (long long)p->id, p->code);
    printf("%-16s %s\n", "name", p->name);
    printf("%-16s %s\n", "kind", kind_name(p->kind));
    printf("%-16s %s\n", "locale", p->locale);
    printf("%-16s %s per euro\n", "points", rate);
    if (p->points_expiry_days)
        printf("%-16s after %lld days\n", "points expire", (long long)p->points_expiry_days);
    else
        printf("%-16s never\n", "points expire");
    printf("%-16s %s\n", "purse cap", cap);
    if (p->classic_stored_value_cap_cents)
        printf("%-16s on, up to %s a card\n", "Classic purse", ccap);
    else
        printf("%-16s off\n", "Classic purse");
    lcli_amount_str("EUR", p->max_cents_per_operation, cap, sizeof cap);
    printf("%-16s %s EUR, %lld points or stamps\n", "one operation", cap,
           (long long)p->max_units_per_operation);
}

/* `leal program set ID` and `leal program show ID`. */
static int program_id_cmd(const struct lcli_opt *o, size_t n, const char *sub, const char *idarg)
{
    struct ledger_program p;
    struct ledger *l = NULL;
    int64_t id;
    bool set = strcmp(sub, "set") == 0;
    bool caps = lcli_get(o, n, "purse-cap") || lcli_get(o, n, "classic-stored-value-cap");
    bool limits =
        lcli_get(o, n, "max-euros-per-operation") || lcli_get(o, n, "max-points-per-operation");
    leal_err err;
    int rc;

    if (lcli_id(idarg, &id) != LEAL_OK || id > 4294967295LL)
        return cli_usage("leal program %s: bad program id '%s'", sub, idarg);
    if (set && !caps && !limits)
        return cli_usage("leal program set needs --purse-cap, --classic-stored-value-cap, "
                         "--max-euros-per-operation or --max-points-per-operation");
    /* Malformed amounts are refused before the database is opened. */
    memset(&p, 0, sizeof p);
    p.purse_cap_cents = LEDGER_PURSE_CAP_MAX;
    if (set && ((rc = caps_from_opts(o, n, &p)) != 0 || (rc = limits_from_opts(o, n, &p)) != 0))
        return rc;
    if ((rc = lcli_open(lcli_get(o, n, "db"), &l)) != 0)
        return rc;
    if ((err = ledger_program_get(l, id, &p)) != LEAL_OK) {
        rc = lcli_fail(l, err, "program");
        goto out;
    }
    if (set) {
        if ((rc = caps_from_opts(o, n, &p)) != 0 || (rc = limits_from_opts(o, n, &p)) != 0)
            goto out;
        /* Both kinds of setting in one transaction. */
        if ((err = ledger_batch_begin(l)) != LEAL_OK ||
            (caps &&
             (err = ledger_program_set_purse(l, id, p.purse_cap_cents,
                                             p.classic_stored_value_cap_cents)) != LEAL_OK) ||
            (limits && (err = ledger_program_set_limits(l, id, p.max_cents_per_operation,
                                                        p.max_units_per_operation)) != LEAL_OK) ||
            (err = ledger_batch_commit(l)) != LEAL_OK) {
            ledger_batch_rollback(l);
            rc = lcli_fail(l, err, "program set");
            goto out;
        }
        if ((err = ledger_program_get(l, id, &p)) != LEAL_OK) {
            rc = lcli_fail(l, err, "program");
            goto out;
        }
    }
    print_program(&p, lcli_get(o, n, "json") != NULL);
out:
    ledger_close(l);
    return rc;
}

/* create's program from the options, every value checked. */
static int program_from_opts(const struct lcli_opt *o, size_t n, struct ledger_program *p)
{
    const char *v;
    int64_t rate = 0;
    leal_err err;
    int rc;

    memset(p, 0, sizeof *p);
    p->kind = LEDGER_PROGRAM_SINGLE;
    v = lcli_get(o, n, "kind");
    if (v && strcmp(v, "single") == 0)
        p->kind = LEDGER_PROGRAM_SINGLE;
    else if (v && strcmp(v, "chain") == 0)
        p->kind = LEDGER_PROGRAM_CHAIN;
    else if (v && strcmp(v, "collective") == 0)
        p->kind = LEDGER_PROGRAM_COLLECTIVE;
    else if (v)
        return cli_usage("--kind is single, chain or collective, not '%s'", v);
    if (!lcli_get(o, n, "code") || !lcli_get(o, n, "name") || !lcli_get(o, n, "code")[0] ||
        !lcli_get(o, n, "name")[0])
        return cli_usage("leal program create needs --code and --name (not empty)");
    snprintf(p->code, sizeof p->code, "%s", lcli_get(o, n, "code"));
    snprintf(p->name, sizeof p->name, "%s", lcli_get(o, n, "name"));
    if ((v = lcli_get(o, n, "locale")) && strcmp(v, "en") != 0 && strcmp(v, "es") != 0)
        return cli_usage("--locale is en or es, not '%s'", v);
    snprintf(p->locale, sizeof p->locale, "%s", v ? v : "en");
    if ((v = lcli_get(o, n, "id")) &&
        ((err = lcli_id(v, &p->id)) != LEAL_OK || p->id > 4294967295LL))
        return cli_fail(LEAL_E_NUMBER, "--id '%s' (1..4294967295)", v);
    /* "1,2" points per euro is 120 hundredths = 1200 thousandths. */
    if ((v = lcli_get(o, n, "points-per-euro"))) {
        if ((err = amount_parse(v, strlen(v), &rate)) != LEAL_OK || rate < 0 || rate > 100000)
            return cli_fail(err ? err : LEAL_E_AMOUNT_RANGE, "--points-per-euro '%s'", v);
        p->points_per_euro_milli = rate * 10;
    } else {
        p->points_per_euro_milli = 1000;
    }
    if ((v = lcli_get(o, n, "points-expiry-days"))) {
        if (strcmp(v, "0") != 0 &&
            (lcli_id(v, &p->points_expiry_days) != LEAL_OK || p->points_expiry_days > 36500))
            return cli_fail(LEAL_E_NUMBER, "--points-expiry-days '%s' (0..36500)", v);
    }
    /* Stored value: 1000,00 a card, off on Classic unless asked for. */
    p->purse_cap_cents = LEDGER_PURSE_CAP_DEFAULT;
    p->classic_stored_value_cap_cents = 0;
    if ((rc = caps_from_opts(o, n, p)) != 0 || (rc = limits_from_opts(o, n, p)) != 0)
        return rc;
    return 0;
}

int cmd_program(int argc, char **argv)
{
    struct lcli_opt o[] = {{"code", 0, 0},
                           {"name", 0, 0},
                           {"kind", 0, 0},
                           {"id", 0, 0},
                           {"points-per-euro", 0, 0},
                           {"points-expiry-days", 0, 0},
                           {"purse-cap", 0, 0},
                           {"classic-stored-value-cap", 0, 0},
                           {"max-euros-per-operation", 0, 0},
                           {"max-points-per-operation", 0, 0},
                           {"db", 0, 0},
                           {"json", 1, 0},
                           {"help", 1, 0},
                           {"locale", 0, 0}};
    struct ledger_program p;
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    int64_t id = 0;
    leal_err err;
    int rc;

    npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(program_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos == 2 && (strcmp(pos[0], "set") == 0 || strcmp(pos[0], "show") == 0))
        return program_id_cmd(o, N(o), pos[0], pos[1]);
    if (npos != 1 || strcmp(pos[0], "create") != 0)
        return cli_usage("leal program: expected 'create', 'set ID' or 'show ID'");
    if ((rc = program_from_opts(o, N(o), &p)) != 0)
        return rc;
    if ((rc = lcli_create(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    err = ledger_program_create(l, &p, &id);
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "program create");
    } else if (lcli_get(o, N(o), "json")) {
        if ((err = ledger_program_get(l, id, &p)) != LEAL_OK)
            rc = lcli_fail(l, err, "program create");
        else
            print_program(&p, true);
    } else {
        printf("program %lld created (%s)\n", (long long)id, p.code);
    }
    ledger_close(l);
    return rc;
}

static const char store_help[] =
    "usage: leal store add --program ID --code CODE --name NAME --tz ZONE [--db PATH] [--json]\n"
    "A store belongs to a program and has a time zone of the tz database\n"
    "(Europe/Madrid; /usr/share/zoneinfo). Times are stored in UTC and shown in the\n"
    "store's local time.\n";

int cmd_store(int argc, char **argv)
{
    struct lcli_opt o[] = {{"program", 0, 0}, {"code", 0, 0}, {"name", 0, 0}, {"tz", 0, 0},
                           {"db", 0, 0},      {"json", 1, 0}, {"help", 1, 0}};
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS], *v;
    size_t npos;
    int64_t prog, id = 0;
    leal_err err;
    int rc;

    npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(store_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1 || strcmp(pos[0], "add") != 0)
        return cli_usage("leal store: expected 'add'");
    if (!lcli_get(o, N(o), "code") || !lcli_get(o, N(o), "name") || !lcli_get(o, N(o), "tz") ||
        !lcli_get(o, N(o), "code")[0] || !lcli_get(o, N(o), "name")[0])
        return cli_usage("leal store add needs --program, --code, --name and --tz (not empty)");
    if (ledger_timezone_check(lcli_get(o, N(o), "tz")) != LEAL_OK)
        return cli_fail(LEAL_E_TIMEZONE, "--tz '%s'", lcli_get(o, N(o), "tz"));
    v = lcli_get(o, N(o), "program");
    if (lcli_id(v, &prog) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--program '%s'", v ? v : "");
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    err = ledger_store_add(l, prog, lcli_get(o, N(o), "code"), lcli_get(o, N(o), "name"),
                           lcli_get(o, N(o), "tz"), &id);
    if (err != LEAL_OK)
        rc = lcli_fail(l, err, "store add");
    else if (lcli_get(o, N(o), "json"))
        printf("{\"id\":%lld}\n", (long long)id);
    else
        printf("store %lld added to program %lld\n", (long long)id, (long long)prog);
    ledger_close(l);
    return rc;
}

static const char terminal_help[] =
    "usage: leal terminal add --store ID --name NAME [--db PATH] [--json]\n"
    "       leal terminal new-epoch TERMINAL [--db PATH] [--json]\n"
    "       leal terminal package --terminal ID -o FILE [--valid-days N] [--day-cap EUR]\n"
    "                             [--sync-cap EUR] [--keystore PATH] [--passphrase-file FILE]\n"
    "                             [--db PATH] [--json]\n"
    "A terminal belongs to a store. A reinstalled terminal starts a new epoch, and\n"
    "its journal sequence starts again from 1 within it. 'package' writes the\n"
    "terminal's signed package (firmware/core/PACKAGE.md): the hot list (blocked,\n"
    "lost and replaced cards), what the ledger last saw of each active card, the\n"
    "offline spend caps per card (default 50,00 a day and 200,00 between syncs), the\n"
    "program's current rule set (leal rule, tier, reward, stamp, bono) at its rate,\n"
    "valid --valid-days days (default 7), with a version above the last one built\n"
    "for that terminal; signed with the keystore's package key (mode 0600).\n";

int cmd_terminal(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"store", 0, 0}, {"name", 0, 0}, {"db", 0, 0}, {"json", 1, 0}, {"help", 1, 0}};
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS], *v;
    size_t npos;
    int64_t store = 0, term = 0, id = 0;
    leal_err err;
    int rc, add;

    if (argc > 1 && strcmp(argv[1], "package") == 0 &&
        !(argc > 2 && strcmp(argv[2], "--help") == 0))
        return terminal_package(argc, argv);
    npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(terminal_help, stdout);
        return CLI_EXIT_OK;
    }
    add = npos == 1 && strcmp(pos[0], "add") == 0;
    if (!add && !(npos == 2 && strcmp(pos[0], "new-epoch") == 0))
        return cli_usage("leal terminal: expected 'add' or 'new-epoch TERMINAL'");
    if (add) {
        v = lcli_get(o, N(o), "store");
        if (lcli_id(v, &store) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--store '%s'", v ? v : "");
        if (!lcli_get(o, N(o), "name") || !lcli_get(o, N(o), "name")[0])
            return cli_usage("leal terminal add needs --name (not empty)");
    } else if (lcli_id(pos[1], &term) != LEAL_OK) {
        return cli_fail(LEAL_E_NUMBER, "terminal '%s'", pos[1]);
    }
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if (add)
        err = ledger_terminal_add(l, store, lcli_get(o, N(o), "name"), &id);
    else
        err = ledger_terminal_new_epoch(l, term, &id);
    if (err != LEAL_OK)
        rc = lcli_fail(l, err, add ? "terminal add" : "terminal new-epoch");
    else if (lcli_get(o, N(o), "json"))
        printf(add ? "{\"id\":%lld,\"epoch\":1}\n" : "{\"epoch\":%lld}\n", (long long)id);
    else if (add)
        printf("terminal %lld added to store %lld (epoch 1)\n", (long long)id, (long long)store);
    else
        printf("terminal %lld is now at epoch %lld\n", (long long)term, (long long)id);
    ledger_close(l);
    return rc;
}
