/* cmd_ledger_copy.c - `leal ledger copy --from SOURCE --to DEST` (ledger_copy in ledger.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char help[] =
    "usage: leal ledger copy --from sqlite:FILE|postgresql://... --to "
    "sqlite:FILE|postgresql://...\n"
    "                        [--json]\n"
    "copies a ledger into a new one of the other backend (a shop's file to the chain's\n"
    "PostgreSQL server, or back), in one transaction, and compares every entry and its\n"
    "lines with the source before committing; then verifies the copy's books. The\n"
    "destination must be empty (a new file, or a database without a ledger or with an\n"
    "empty one). What PostgreSQL does not hold yet (customers, sales, ...) is refused.\n";

/* "sqlite:FILE" is FILE; a PostgreSQL URI is itself; anything else NULL. */
static const char *where(const char *s)
{
    if (s && strncmp(s, "sqlite:", 7) == 0 && s[7])
        return s + 7;
    if (s && (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0))
        return s;
    return NULL;
}

static void remove_new_file(const char *path)
{
    static const char *const side[] = {"", "-wal", "-shm", "-journal"};
    char p[4200];
    for (size_t i = 0; i < N(side); i++) {
        snprintf(p, sizeof p, "%s%s", path, side[i]);
        (void)unlink(p);
    }
}

int ledger_copy_cli(int argc, char **argv)
{
    enum { O_FROM, O_TO, O_JSON, O_HELP };
    struct lcli_opt o[] = {
        [O_FROM] = {"from", 0, 0},
        [O_TO] = {"to", 0, 0},
        [O_JSON] = {"json", 1, 0},
        [O_HELP] = {"help", 1, 0},
    };
    const char *pos[LCLI_MAX_POS], *from, *to;
    size_t npos = LCLI_MAX_POS;
    struct ledger *src = NULL, *dst = NULL;
    struct ledger_copy_stats s;
    bool new_file = false;
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (o[O_HELP].val) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 0)
        return cli_usage("leal ledger copy takes --from and --to, no other argument");
    from = where(o[O_FROM].val);
    to = where(o[O_TO].val);
    if (from == NULL || to == NULL)
        return cli_usage("--from and --to are sqlite:FILE or postgresql://...");
    if (from != o[O_FROM].val && to != o[O_TO].val)
        return cli_usage("both are SQLite files: 'leal backup' copies a file");
    if (strcmp(from, to) == 0)
        return cli_usage("--from and --to name the same ledger");
    if (to != o[O_TO].val) {
        if (access(to, F_OK) == 0)
            return cli_error(LEAL_E_EXISTS, CLI_EXIT_USAGE,
                             "%s already exists; copy into a new file", to);
        new_file = true;
    }
    if ((rc = lcli_open(from, &src)) != 0)
        return rc;
    if ((rc = lcli_create(to, &dst)) != 0) {
        ledger_close(src);
        return rc;
    }
    err = ledger_copy(src, dst, &s);
    if (err != LEAL_OK)
        rc = lcli_fail(dst, err, "ledger copy");
    ledger_close(src);
    ledger_close(dst);
    if (err != LEAL_OK) {
        if (new_file)
            remove_new_file(to);
        return rc;
    }
    if (o[O_JSON].val)
        printf("{\"rows\":%lld,\"entries\":%lld}\n", (long long)s.rows, (long long)s.entries);
    else
        printf("copied %lld rows; %lld entries compared with the source; the copy's books are "
               "ok\n",
               (long long)s.rows, (long long)s.entries);
    return CLI_EXIT_OK;
}
