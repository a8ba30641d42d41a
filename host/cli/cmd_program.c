/* cmd_program.c - `leal program create`, `leal store add`, `leal terminal add|new-epoch`. */
#include <string.h>

#include "cli.h"
#include "host/ledger/amount.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char program_help[] =
    "usage: leal program create --code CODE --name NAME [--kind single|chain|collective]\n"
    "                           [--id N] [--points-per-euro 1,2] [--points-expiry-days N]\n"
    "                           [--db PATH] [--json]\n"
    "A program is one loyalty scheme: a single shop, a chain whose shops share nothing,\n"
    "or a collective of shops sharing customers and promotions. Its points rate is\n"
    "points per euro with up to two decimals; fractions of a point are never credited.\n";

int cmd_program(int argc, char **argv)
{
    struct lcli_opt o[] = {{"code", 0, 0},
                           {"name", 0, 0},
                           {"kind", 0, 0},
                           {"id", 0, 0},
                           {"points-per-euro", 0, 0},
                           {"points-expiry-days", 0, 0},
                           {"db", 0, 0},
                           {"json", 1, 0},
                           {"help", 1, 0}};
    struct ledger_program p;
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS], *v;
    size_t npos;
    int64_t id = 0, rate = 0;
    leal_err err;
    int rc;

    if ((rc = lcli_parse(argc, argv, o, N(o), pos, LCLI_MAX_POS, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(program_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1 || strcmp(pos[0], "create") != 0)
        return cli_usage("leal program: expected 'create'");
    memset(&p, 0, sizeof p);
    p.kind = LEDGER_PROGRAM_SINGLE;
    v = lcli_get(o, N(o), "kind");
    if (v && strcmp(v, "single") == 0)
        p.kind = LEDGER_PROGRAM_SINGLE;
    else if (v && strcmp(v, "chain") == 0)
        p.kind = LEDGER_PROGRAM_CHAIN;
    else if (v && strcmp(v, "collective") == 0)
        p.kind = LEDGER_PROGRAM_COLLECTIVE;
    else if (v)
        return cli_usage("--kind is single, chain or collective, not '%s'", v);
    if (!lcli_get(o, N(o), "code") || !lcli_get(o, N(o), "name"))
        return cli_usage("leal program create needs --code and --name");
    snprintf(p.code, sizeof p.code, "%s", lcli_get(o, N(o), "code"));
    snprintf(p.name, sizeof p.name, "%s", lcli_get(o, N(o), "name"));
    if ((v = lcli_get(o, N(o), "id")) &&
        ((err = lcli_id(v, &p.id)) != LEAL_OK || p.id > 4294967295LL))
        return cli_fail(LEAL_E_NUMBER, "--id '%s' (1..4294967295)", v);
    /* "1,2" points per euro is 120 hundredths = 1200 thousandths. */
    if ((v = lcli_get(o, N(o), "points-per-euro"))) {
        if ((err = amount_parse(v, strlen(v), &rate)) != LEAL_OK || rate < 0 || rate > 100000)
            return cli_fail(err ? err : LEAL_E_AMOUNT_RANGE, "--points-per-euro '%s'", v);
        p.points_per_euro_milli = rate * 10;
    } else {
        p.points_per_euro_milli = 1000;
    }
    if ((v = lcli_get(o, N(o), "points-expiry-days"))) {
        if (strcmp(v, "0") != 0 &&
            (lcli_id(v, &p.points_expiry_days) != LEAL_OK || p.points_expiry_days > 36500))
            return cli_fail(LEAL_E_NUMBER, "--points-expiry-days '%s' (0..36500)", v);
    }
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    err = ledger_program_create(l, &p, &id);
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "program create");
    } else if (lcli_get(o, N(o), "json")) {
        printf("{\"id\":%lld,\"code\":", (long long)id);
        cli_json_string(stdout, p.code);
        printf("}\n");
    } else {
        printf("program %lld created (%s)\n", (long long)id, p.code);
    }
    ledger_close(l);
    return rc;
}

static const char store_help[] =
    "usage: leal store add --program ID --code CODE --name NAME --tz ZONE [--db PATH] [--json]\n"
    "A store belongs to a program and has an IANA time zone (Europe/Madrid); times are\n"
    "stored in UTC.\n";

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

    if ((rc = lcli_parse(argc, argv, o, N(o), pos, LCLI_MAX_POS, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(store_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1 || strcmp(pos[0], "add") != 0)
        return cli_usage("leal store: expected 'add'");
    if (!lcli_get(o, N(o), "code") || !lcli_get(o, N(o), "name") || !lcli_get(o, N(o), "tz"))
        return cli_usage("leal store add needs --program, --code, --name and --tz");
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
    "A terminal belongs to a store. A reinstalled terminal starts a new epoch, and\n"
    "its journal sequence starts again from 1 within it.\n";

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

    if ((rc = lcli_parse(argc, argv, o, N(o), pos, LCLI_MAX_POS, &npos)) != 0)
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
        if (!lcli_get(o, N(o), "name"))
            return cli_usage("leal terminal add needs --name");
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
