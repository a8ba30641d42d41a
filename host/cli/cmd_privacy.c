/* cmd_privacy.c - `leal customer export|erase` (host/privacy): what leal
 * holds about a person, as JSON; their personal data erased for good. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/privacy/privacy.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char privacy_help[] =
    "usage: leal customer export CUSTOMER [--text] [--db PATH]\n"
    "       leal customer erase CUSTOMER --confirm --cards block|keep [--operator NAME]\n"
    "                            [--db PATH] [--json]\n"
    "export prints, as one JSON object, every row of every table that names the customer\n"
    "(personal data, consents, notes, accounts, balances, cards and their history, entries\n"
    "and lines, lots, sales, refunds, bonos, terminal entries and findings of their cards);\n"
    "with --text the same rows for a person to read, table by table, a line per field.\n"
    "erase pseudonymises the customer: name, surname, e-mail, phone, birth date, gender,\n"
    "address and preferences emptied, their notes removed, the customer marked erased with a\n"
    "note saying when and by whom; the ledger's entries, balances and cards stay, so 'leal\n"
    "ledger verify' holds. --cards is the decision on their cards, taken in the same\n"
    "transaction and written in the note: block (every active card, QR phones included,\n"
    "becomes blocked, its history saying why and by whom, and terminals refuse it from their\n"
    "next package) or keep (the cards go on earning and paying, anonymously). The\n"
    "database is then vacuumed so the old bytes leave the file. It cannot be undone.\n";

/* The ledger file at --db or the default, checked by a normal open. */
static int ledger_file(const char *db, char *out, size_t cap)
{
    struct ledger *l = NULL;
    int rc = lcli_open_path(db, &l, out, cap);
    ledger_close(l);
    return rc;
}

static int erased_before(int64_t id)
{
    return cli_error(LEAL_E_STATE, CLI_EXIT_USAGE, "customer %lld was erased before; nothing to do",
                     (long long)id);
}

static const char *operator_of(const struct lcli_opt *o)
{
    const char *u = getenv("USER");
    return o[1].val ? o[1].val : u && u[0] ? u : "leal";
}

/* export and erase on a PostgreSQL ledger: through the ledger's own
 * connection, so a failure says what the server refused. */
static int privacy_pg(const char *db, int64_t id, bool erase, const struct lcli_opt *o)
{
    struct ledger *l = NULL;
    char what[64];
    leal_err err;
    int rc = lcli_open(db, &l);
    if (rc != 0)
        return rc;
    bool block = erase && strcmp(o[6].val, "block") == 0;
    int64_t blocked = 0;
    snprintf(what, sizeof what, "customer %s", erase ? "erase" : "export");
    if (erase)
        err = ledger_customer_erase_cards(l, id, operator_of(o),
                                          LEDGER_ERASED_NOTE "; cards kept by decision",
                                          (int64_t)time(NULL), block ? &blocked : NULL);
    else
        err = privacy_export_ledger(l, id, o[5].val != NULL, stdout);
    if (err == LEAL_E_UNKNOWN_ID)
        rc = cli_fail(err, "customer %lld", (long long)id);
    else if (err == LEAL_E_STATE)
        rc = erased_before(id);
    else if (err != LEAL_OK)
        rc = lcli_fail(l, err, what);
    else if (erase && o[3].val)
        printf("{\"customer\":%lld,\"erased\":true,\"cards\":\"%s\",\"cards_blocked\":%lld}\n",
               (long long)id, o[6].val, (long long)blocked);
    else if (erase && block)
        printf("customer %lld: personal data erased; the ledger keeps their entries; %lld "
               "card(s) blocked\n",
               (long long)id, (long long)blocked);
    else if (erase)
        printf("customer %lld: personal data erased; the ledger keeps their entries; their "
               "cards kept\n",
               (long long)id);
    ledger_close(l);
    return rc;
}

int customer_privacy(int argc, char **argv)
{
    struct lcli_opt o[] = {{"confirm", true, NULL}, {"operator", false, NULL}, {"db", false, NULL},
                           {"json", true, NULL},    {"help", true, NULL},      {"text", true, NULL},
                           {"cards", false, NULL}};
    const char *pos[1];
    size_t npos = 1;
    char path[4096];
    int64_t id;
    bool erase = strcmp(argv[0], "erase") == 0;
    int rc = lcli_parse(argc, argv, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (o[4].val) {
        fputs(privacy_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1 || lcli_id(pos[0], &id) != LEAL_OK)
        return cli_usage("leal customer %s needs a customer id", argv[0]);
    if (erase && o[5].val)
        return cli_usage("--text goes with leal customer export");
    if (!erase && o[6].val)
        return cli_usage("--cards goes with leal customer erase");
    if (erase && o[0].val == NULL)
        return cli_usage("leal customer erase cannot be undone: add --confirm");
    if (erase && (!o[6].val || (strcmp(o[6].val, "block") != 0 && strcmp(o[6].val, "keep") != 0)))
        return cli_usage("leal customer erase needs the decision on the customer's cards: "
                         "--cards block (terminals refuse them) or --cards keep (they go on "
                         "working, anonymously)");
    const char *db = o[2].val ? o[2].val : getenv("LEAL_DB");
    if (db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0))
        return privacy_pg(db, id, erase, o);
    if ((rc = ledger_file(o[2].val, path, sizeof path)) != 0)
        return rc;
    if (!erase) {
        leal_err err = privacy_export_as(path, id, o[5].val != NULL, stdout);
        return err == LEAL_OK ? CLI_EXIT_OK : cli_fail(err, "customer %lld", (long long)id);
    }
    struct privacy_erasure e = {.operator_name = operator_of(o),
                                .block_cards = strcmp(o[6].val, "block") == 0,
                                .cards_decided = true};
    leal_err err = privacy_erase_as(path, id, &e);
    if (err == LEAL_E_STATE)
        return erased_before(id);
    if (err != LEAL_OK)
        return cli_fail(err, "customer %lld", (long long)id);
    if (o[3].val)
        printf("{\"customer\":%lld,\"erased\":true,\"cards\":\"%s\",\"cards_blocked\":%lld}\n",
               (long long)id, o[6].val, (long long)e.cards_blocked);
    else if (e.block_cards)
        printf("customer %lld: personal data erased; the ledger keeps their entries; %lld "
               "card(s) blocked\n",
               (long long)id, (long long)e.cards_blocked);
    else
        printf("customer %lld: personal data erased; the ledger keeps their entries; their "
               "cards kept\n",
               (long long)id);
    return CLI_EXIT_OK;
}

static const char retention_help[] =
    "usage: leal customer retention --program ID --years N [--dry-run | --confirm]\n"
    "                               [--operator NAME] [--db PATH]\n"
    "Erases, as 'leal customer erase' does, the personal data of the program's customers with\n"
    "no entry on their accounts (or, without any, no sign-up) in the last N years (N * 365\n"
    "days), one customer at a time; run it from cron. --dry-run counts them and changes\n"
    "nothing; without it --confirm is needed. Customers erased before are skipped.\n";

int customer_retention(int argc, char **argv)
{
    struct lcli_opt o[] = {{"program", false, NULL},  {"years", false, NULL},
                           {"dry-run", true, NULL},   {"confirm", true, NULL},
                           {"operator", false, NULL}, {"db", false, NULL},
                           {"help", true, NULL}};
    const char *pos[1];
    size_t npos = 0;
    char path[4096], *end = NULL;
    struct privacy_retention r = {.now = (int64_t)time(NULL)};
    int64_t n = 0;
    int rc = lcli_parse(argc, argv, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (o[6].val) {
        fputs(retention_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 0 || !o[0].val || lcli_id(o[0].val, &r.program_id) != LEAL_OK)
        return cli_usage("leal customer retention needs --program ID");
    long years = o[1].val ? strtol(o[1].val, &end, 10) : 0;
    if (!o[1].val || *end != '\0' || years < 1 || years > 100)
        return cli_usage("leal customer retention needs --years N (1..100)");
    r.years = (int)years;
    r.dry_run = o[2].val != NULL;
    if (!r.dry_run && !o[3].val)
        return cli_usage("retention erases for good: add --confirm (or --dry-run to count)");
    const char *u = getenv("USER");
    r.operator_name = o[4].val ? o[4].val : u && u[0] ? u : "leal";
    if ((rc = ledger_file(o[5].val, path, sizeof path)) != 0)
        return rc;
    leal_err err = privacy_retain(path, &r, &n);
    if (err != LEAL_OK)
        return cli_fail(err, "retention of program %lld", (long long)r.program_id);
    printf("program %lld: %lld customer%s inactive for %d year%s %s\n", (long long)r.program_id,
           (long long)n, n == 1 ? "" : "s", r.years, r.years == 1 ? "" : "s",
           r.dry_run ? "would be erased" : "erased");
    return CLI_EXIT_OK;
}
