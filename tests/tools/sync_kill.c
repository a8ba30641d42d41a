/*
 * sync_kill.c - `leal sync` with a deterministic SIGKILL, for tests only
 * (never installed, never linked into the product): the same command
 * (host/cli/cmd_sync.c), whose process kills itself with SIGKILL right after
 * the Nth SQL statement of a chosen kind has finished, as `kill -9` at that
 * instant would. Used by tests/integration/sync_kill.sh.
 *
 * Which statements count (the kill point's spec):
 *   on    insert  statements beginning INSERT
 *         commit  COMMIT and RELEASE (a transaction, or a savepoint in it),
 *                 and a write outside a transaction (committed by itself)
 *         write   statements that change the database, and commit's
 *         stmt    every statement
 *   sql   only statements whose text contains this (empty: any)
 *   from  counting begins at the first statement whose text contains this
 *         (empty: at once), e.g. the held-entry retry's or reconciliation's
 *         first query: the kill points of that step only
 *   at    N, from 1; 0 counts without killing (a trace of what counts, each
 *         statement's number and text, is written to stderr)
 *
 * One run, the spec in the environment (without LEAL_SYNC_KILL_AT it is
 * `leal sync`):
 *   LEAL_SYNC_KILL_AT=N [LEAL_SYNC_KILL_ON=insert] [LEAL_SYNC_KILL_SQL=TEXT]
 *   [LEAL_SYNC_KILL_FROM=TEXT] sync_kill import FILE... [options]
 *
 * Many runs, one keystore open: the scrypt of the keystore costs about a
 * second of CPU per process (more under ASan), the rest of a small import a
 * few hundredths, so a test with a hundred kill points would pay minutes for
 * the KDF alone. `sync_kill serve [--keystore P] [--passphrase-file F]`
 * opens the keystore once (as leal sync import does, journal masters only)
 * and reads requests from stdin, one a line, fields separated by tabs:
 *   OUT  ON|none  AT  SQL|-  FROM|-  sync import FILE... [options]
 *   OUT  none     0   -      -       ledger ARGS...
 * and runs each in a child process of its own (fork: a fresh process state
 * for each run, the keys copied in, never re-derived), its stdout and stderr
 * to the file OUT, with the hook armed as the spec says. It answers each
 * request with one line: the child's exit status (128 + the signal if one
 * ended it: 137 for the SIGKILL) and how many statements counted. The keys
 * reach the child through a private copy (secmem pages are not inherited by
 * a fork); the parent wipes it when stdin ends.
 *
 * The hook is SQLite's statement profile callback (sqlite3_trace_v2,
 * SQLITE_TRACE_PROFILE), which runs when a statement's step has finished
 * (a COMMIT's: the transaction is in the WAL): update hooks see neither
 * WITHOUT ROWID tables (terminal_entry) nor commits. It is installed on
 * every connection the process opens through sqlite3_auto_extension.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/cli/cli.h"
#include "host/cli/ledger_cli.h"
#include "host/keys/passphrase.h"
#include "keys/base/ct.h"
#include "keys/hosted/secmem.h"
#include "keys/keyset.h"

enum kill_on { ON_NONE, ON_INSERT, ON_COMMIT, ON_WRITE, ON_STMT };

static struct {
    enum kill_on on;
    unsigned long long at;
    char sql[256], from[256];
} spec;
static bool started;
/* Statements counted: shared with the serving parent (an anonymous shared
 * mapping), so that it knows the count even of a child it saw killed. */
static unsigned long long *counted;

static bool is_commit(const char *sql)
{
    return strncasecmp(sql, "COMMIT", 6) == 0 || strncasecmp(sql, "RELEASE", 7) == 0;
}

/* A write outside any transaction: SQLite committed it by itself, a commit
 * boundary with no COMMIT statement (settings, PRAGMA, aside). */
static bool autocommitted(sqlite3_stmt *stmt, const char *sql)
{
    return !sqlite3_stmt_readonly(stmt) && strncasecmp(sql, "PRAGMA", 6) != 0 &&
           sqlite3_get_autocommit(sqlite3_db_handle(stmt));
}

static bool counts(sqlite3_stmt *stmt, const char *sql)
{
    if (spec.sql[0] && strstr(sql, spec.sql) == NULL)
        return false;
    switch (spec.on) {
    case ON_INSERT:
        return strncasecmp(sql, "INSERT", 6) == 0;
    case ON_COMMIT:
        return is_commit(sql) || autocommitted(stmt, sql);
    case ON_WRITE:
        return !sqlite3_stmt_readonly(stmt) || is_commit(sql);
    case ON_STMT:
        return true;
    case ON_NONE:
        break;
    }
    return false;
}

static int on_statement(unsigned type, void *ctx, void *p, void *x)
{
    sqlite3_stmt *stmt = p;
    const char *sql = sqlite3_sql(stmt), *tag;
    unsigned long long n;
    (void)ctx;
    (void)x;
    if (type != SQLITE_TRACE_PROFILE || sql == NULL || spec.on == ON_NONE)
        return 0;
    if (!started && spec.from[0] && strstr(sql, spec.from) == NULL)
        return 0;
    started = true;
    if (!counts(stmt, sql))
        return 0;
    n = ++*counted;
    /* The trace names a write committed by itself a COMMIT, as it is one. */
    tag = autocommitted(stmt, sql) ? "COMMIT (autocommit) " : "";
    if (spec.at == 0)
        fprintf(stderr, "sync_kill: #%llu %s%.100s\n", n, tag, sql);
    if (n == spec.at) {
        fprintf(stderr, "sync_kill: SIGKILL after statement #%llu: %s%.100s\n", n, tag, sql);
        fflush(stderr);
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

/* The spec from its words; 0, or the line saying what is wrong. */
static int spec_set(const char *on, const char *at, const char *sql, const char *from)
{
    static const char *const names[] = {"none", "insert", "commit", "write", "stmt"};
    char *end;
    size_t i = 0;
    while (i < sizeof names / sizeof names[0] && strcmp(on, names[i]) != 0)
        i++;
    if (i == sizeof names / sizeof names[0]) {
        fprintf(stderr, "sync_kill: on '%s': write insert, commit, write, stmt or none\n", on);
        return 2;
    }
    spec.on = (enum kill_on)i;
    errno = 0;
    spec.at = strtoull(at, &end, 10);
    if (errno != 0 || end == at || *end != '\0' || at[0] == '-') {
        fprintf(stderr, "sync_kill: at '%s': write a statement number from 1 (0: count)\n", at);
        return 2;
    }
    if (strlen(sql) >= sizeof spec.sql || strlen(from) >= sizeof spec.from) {
        fprintf(stderr, "sync_kill: the statement text to match is too long\n");
        return 2;
    }
    snprintf(spec.sql, sizeof spec.sql, "%s", sql);
    snprintf(spec.from, sizeof spec.from, "%s", from);
    started = false;
    *counted = 0;
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *s = getenv(name);
    return s ? s : dflt;
}

/* One request's command in this (child) process. */
static int run(int argc, char **argv, const struct keyset *plain)
{
    struct keyset *ks;
    int rc;
    if (argc >= 2 && strcmp(argv[0], "sync") == 0 && strcmp(argv[1], "import") == 0) {
        if ((ks = secmem_alloc(sizeof *ks)) == NULL)
            return 1;
        memcpy(ks, plain, sizeof *ks);
        rc = sync_cli_import(argc - 1, argv + 1, ks);
        sync_cli_free_keys(ks);
        return rc;
    }
    if (argc >= 1 && strcmp(argv[0], "ledger") == 0)
        return cmd_ledger(argc, argv);
    fprintf(stderr, "sync_kill: a request runs 'sync import ...' or 'ledger ...'\n");
    return 2;
}

/* One request line: its child's exit status, or -1 for a bad request. */
static int serve_one(char *line, const struct keyset *plain)
{
    char *w[40];
    int n = 0, fd, status;
    pid_t pid;
    for (char *s = strtok(line, "\t\n"); s != NULL && n < 40; s = strtok(NULL, "\t\n"))
        w[n++] = s;
    if (n < 6 ||
        spec_set(w[1], w[2], strcmp(w[3], "-") ? w[3] : "", strcmp(w[4], "-") ? w[4] : "") != 0) {
        fprintf(stderr, "sync_kill: a request is OUT ON AT SQL FROM COMMAND..., tab-separated\n");
        return -1;
    }
    w[n] = NULL;
    fflush(NULL);
    if ((pid = fork()) < 0) {
        perror("sync_kill: fork");
        return -1;
    }
    if (pid == 0) {
        if ((fd = open(w[0], O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 || dup2(fd, 1) < 0 ||
            dup2(fd, 2) < 0)
            _exit(3);
        close(fd);
        /* _exit: the exit handlers are the parent's (its passphrase copy,
         * in secmem pages this process did not inherit). */
        status = run(n - 5, w + 5, plain);
        fflush(NULL);
        _exit(status);
    }
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int serve(int argc, char **argv)
{
    struct lcli_opt o[] = {{"keystore", 0, 0}, {"passphrase-file", 0, 0}};
    const char *pos[1];
    size_t npos = 0;
    struct keyset *ks = NULL, *plain;
    char line[8192];
    int rc;
    if ((rc = lcli_parse(argc, argv, o, 2, pos, &npos)) != 0)
        return rc;
    if ((rc = sync_cli_journal_keys(o, 2, &ks)) != 0)
        return rc;
    plain = mmap(NULL, sizeof *plain, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (plain == MAP_FAILED) {
        sync_cli_free_keys(ks);
        return 1;
    }
    (void)madvise(plain, sizeof *plain, MADV_DONTDUMP);
    memcpy(plain, ks, sizeof *plain);
    sync_cli_free_keys(ks);
    rc = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        int st = serve_one(line, plain);
        if (st < 0)
            rc = 2;
        printf("%d %llu\n", st, *counted);
        fflush(stdout);
    }
    leal_wipe(plain, sizeof *plain);
    munmap(plain, sizeof *plain);
    return rc;
}

int main(int argc, char **argv)
{
    const char *at = getenv("LEAL_SYNC_KILL_AT");
    int rc;
    if (secmem_process_harden() != LEAL_OK) {
        fprintf(stderr, "sync_kill: cannot turn off core dumps\n");
        return 1;
    }
    passphrase_take_env();
    counted =
        mmap(NULL, sizeof *counted, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counted == MAP_FAILED)
        return 1;
    /* sqlite3_auto_extension's prototype takes void (*)(void). */
    if (sqlite3_auto_extension((void (*)(void))install) != SQLITE_OK) {
        fprintf(stderr, "sync_kill: cannot install the hook\n");
        return 1;
    }
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (at != NULL) {
        if ((rc = spec_set(env_or("LEAL_SYNC_KILL_ON", "insert"), at,
                           env_or("LEAL_SYNC_KILL_SQL", ""), env_or("LEAL_SYNC_KILL_FROM", ""))) !=
            0)
            return rc;
        if (spec.at == 0 && spec.on != ON_NONE)
            fprintf(stderr, "sync_kill: counting, no kill\n");
    }
    return cmd_sync(argc, argv);
}
