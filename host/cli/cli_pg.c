/*
 * cli_pg.c - which commands run on a PostgreSQL ledger (README, "The ledger
 * on PostgreSQL"). Every command runs there today; one added later and not
 * ported is refused before it opens anything: it would reach a table the
 * PostgreSQL schema does not hold yet.
 * The rest of the CLI does not know the backend; host/ledger chooses it from
 * the --db URI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger.h"

/* The commands that run there, every subcommand of each (an unknown
 * subcommand is then the command's own usage error, as on SQLite). A command
 * added to leal.c and not listed here is refused before it opens anything. */
static const char *const on_pg[] = {
    "keys",    /* only export-terminal reads the ledger */
    "readers", /* reads none */
    "card",    "program",   "store",    "terminal", "package", "rule", "tier",  "reward",
    "stamp",   "bono",      "customer", "account",  "ledger",  "sale", "rules", "backup",
    "sync",    "reconcile", "settle",   "report",   "desk",    "qr",   "agent", /* the keys; it
                                                                                   holds no
                                                                                   PostgreSQL
                                                                                   connection */
    "serve",   "user",      "mail",     "messages", "segment",
};

static bool is_pg(const char *db)
{
    return db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0);
}

int cli_pg_scope(int argc, char **argv)
{
    const char *db = getenv("LEAL_DB");
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
    if (!is_pg(db))
        return -1;
    /* Help opens nothing. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            return -1;
    for (size_t i = 0; i < sizeof on_pg / sizeof on_pg[0]; i++)
        if (strcmp(argv[1], on_pg[i]) == 0)
            return -1;
    return cli_error(LEAL_E_PG_UNSUPPORTED, CLI_EXIT_USAGE,
                     "leal %s does not run on a PostgreSQL ledger yet; use an SQLite ledger "
                     "(--db FILE) for it",
                     argv[1]);
}
