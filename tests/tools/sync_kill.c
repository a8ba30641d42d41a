/*
 * sync_kill.c - `leal sync` with a deterministic SIGKILL, for tests only
 * (never installed, never linked into the product): the same command
 * (cmd_sync, host/cli/cmd_sync.c), with LEAL_SYNC_KILL_AT=N set the process
 * kills itself with SIGKILL right after the Nth terminal_entry row has been
 * written in the ledger (inside its batch's transaction, before the entry's
 * movements and the commit), as `kill -9` at that instant would. Without the
 * variable it is `leal sync`. Used by tests/integration/sync_kill.sh.
 *
 *   LEAL_SYNC_KILL_AT=N sync_kill import FILE... [leal sync import's options]
 *
 * The hook is SQLite's statement profile callback (sqlite3_trace_v2,
 * SQLITE_TRACE_PROFILE), which runs when a statement's step has finished:
 * terminal_entry is a WITHOUT ROWID table, so update hooks do not see it.
 * It is installed on every connection the process opens through
 * sqlite3_auto_extension, before the command runs.
 */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/cli/cli.h"
#include "host/keys/passphrase.h"
#include "keys/hosted/secmem.h"

static unsigned long long kill_at, rows;

/* The statement the import runs for each entry it takes
 * (host/ledger/ledger_terminal.c TE_INSERT_SQL). */
static const char entry_insert[] = "INSERT INTO terminal_entry(";

static int on_statement(unsigned type, void *ctx, void *stmt, void *x)
{
    const char *sql = sqlite3_sql(stmt);
    (void)ctx;
    (void)x;
    if (type != SQLITE_TRACE_PROFILE || sql == NULL ||
        strncmp(sql, entry_insert, sizeof entry_insert - 1) != 0)
        return 0;
    if (++rows == kill_at) {
        static const char msg[] = "sync_kill: SIGKILL after a terminal_entry row\n";
        (void)!write(2, msg, sizeof msg - 1);
        (void)kill(getpid(), SIGKILL);
        _exit(99); /* not reached */
    }
    return 0;
}

static int install(sqlite3 *db, char **errmsg, const struct sqlite3_api_routines *api)
{
    (void)errmsg;
    (void)api;
    return sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, on_statement, NULL);
}

int main(int argc, char **argv)
{
    const char *s = getenv("LEAL_SYNC_KILL_AT");
    char *end;
    if (secmem_process_harden() != LEAL_OK) {
        fprintf(stderr, "sync_kill: cannot turn off core dumps\n");
        return 1;
    }
    passphrase_take_env();
    if (s != NULL) {
        errno = 0;
        kill_at = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || kill_at == 0) {
            fprintf(stderr, "sync_kill: LEAL_SYNC_KILL_AT '%s': write a row number from 1\n", s);
            return 2;
        }
        /* sqlite3_auto_extension's prototype takes void (*)(void). */
        if (sqlite3_auto_extension((void (*)(void))install) != SQLITE_OK) {
            fprintf(stderr, "sync_kill: cannot install the hook\n");
            return 1;
        }
    }
    return cmd_sync(argc, argv);
}
