/*
 * cli_pg.c - which commands run on a PostgreSQL ledger (README, "The ledger
 * on PostgreSQL"). A command not yet ported is refused before it opens
 * anything: it would reach a table the PostgreSQL schema does not hold yet.
 * The rest of the CLI does not know the backend; host/ledger chooses it from
 * the --db URI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger.h"

/* "COMMAND SUBCOMMAND" that run there. */
static const char *const ported[] = {
    "ledger init",      "ledger post",
    "ledger void",      "ledger verify",
    "program create",   "program show",
    "store add",        "terminal add",
    "account add",      "account add-card",
    "account show",     "ledger copy",
    "sync import",      "sync ack",
    "reconcile",        "reward add",
    "stamp add",        "reconcile accept",
    "package show",             /* reads a file, not the ledger */
    "terminal package", "sale", /* leal sale --account ... */
    "sale refund",      "sale category",
    "rules simulate",   "rule add",
    "rule list",        "rule show",
    "rule end",         "rule history",
    "rule welcome",     "tier add",
    "tier list",        "tier remove",
    "reward list",      "reward show",
    "reward remove",    "reward redeem",
    "stamp list",       "stamp remove",
    "bono add",         "bono list",
    "bono show",        "bono remove",
    "bono sell",        "bono use", /* the card in the reader: its desk read too */
    "bono expire",      "reward honour",
    "ledger expire",    "ledger import",
    "account history",  "keys export-terminal", /* checks the terminal in the ledger */
    "qr issue",         "qr enrol",
    "qr revoke",        "qr decode", /* decode, verify, device, certifier: no ledger */
    "qr verify",        "qr device",
    "qr certifier",     "serve", /* the back office, its portal and terminals */
    "program set",      "terminal new-epoch",
};

/* Commands every subcommand of which runs there (an unknown one is then
 * the command's own usage error, as on SQLite). */
static const char *const whole[] = {
    "rule",     "tier",
    "stamp",    "sale",
    "report",   "settle",
    "card",     "desk",
    "segment",  "mail",
    "user",     "backup",
    "customer", "messages",
    "keys",     /* only export-terminal reads the ledger */ "readers" /* reads none */,
    "agent" /* the keys; it holds no PostgreSQL connection */};

static bool is_pg(const char *db)
{
    return db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0);
}

int cli_pg_scope(int argc, char **argv)
{
    const char *db = getenv("LEAL_DB"), *sub = "";
    char what[96];
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
    if (!is_pg(db))
        return -1;
    /* Help opens nothing. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            return -1;
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        if (strcmp(argv[1], whole[i]) == 0)
            return -1;
    if (argc > 2 && argv[2][0] != '-')
        sub = argv[2];
    snprintf(what, sizeof what, "%s%s%s", argv[1], sub[0] ? " " : "", sub);
    for (size_t i = 0; i < sizeof ported / sizeof ported[0]; i++)
        if (strcmp(what, ported[i]) == 0)
            return -1;
    return cli_error(LEAL_E_PG_UNSUPPORTED, CLI_EXIT_USAGE,
                     "leal %s does not run on a PostgreSQL ledger yet; use an SQLite ledger "
                     "(--db FILE) for it",
                     what);
}
