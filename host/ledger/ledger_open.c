/*
 * ledger_open.c - opening a ledger, migrating its schema, closing it, backing it up (see ledger.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/file.h"
#include "host/log/log.h"
#include "host/text.h"
#include "keys/crypto.h"
#include "ledger.h"
#include "schema.h"
#include "store.h"
#include "store_pg.h"

/* ---- Opening and migrations ---- */

/* Applies migrations from..to-1 inside one BEGIN IMMEDIATE, re-reading the
 * version under the lock (another process may have done it meanwhile). */
static leal_err migrate(struct ledger *l, int to)
{
    leal_err err;
    int64_t v;
    char sql[64];
    if ((err = store_exec(l, "BEGIN IMMEDIATE")) != LEAL_OK)
        return err;
    err = store_pragma_int(l, "PRAGMA user_version", &v);
    for (; err == LEAL_OK && v < to; v++)
        err = store_exec(l, schema_migration((int)v));
    if (err == LEAL_OK) {
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", SCHEMA_APPLICATION_ID);
        err = store_exec(l, sql);
    }
    if (err == LEAL_OK) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", to);
        err = store_exec(l, sql);
    }
    if (err == LEAL_OK)
        err = store_exec(l, "COMMIT");
    if (err != LEAL_OK && !sqlite3_get_autocommit(l->db))
        (void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

/* leal_fold(TEXT) and leal_phone_key(TEXT): host/text.h as SQL functions,
 * for the migration that keys existing customers. Text that does not fold
 * (not UTF-8, written before it was checked) keys as itself. */
static void sql_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char key[4 * LEDGER_TEXT];
    const char *in = (const char *)sqlite3_value_text(argv[0]);
    leal_err (*fn)(const char *, char *, size_t) = sqlite3_user_data(ctx);
    (void)argc;
    if (in == NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    if (fn(in, key, sizeof key) != LEAL_OK)
        snprintf(key, sizeof key, "%s", in);
    sqlite3_result_text(ctx, key, -1, SQLITE_TRANSIENT);
}

static leal_err settings(struct ledger *l)
{
    leal_err err;
    int64_t v;
    char mode[16];
    sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
    if (sqlite3_create_function_v2(l->db, "leal_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   (void *)text_fold, sql_key, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(l->db, "leal_phone_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   (void *)text_phone_key, sql_key, NULL, NULL, NULL) != SQLITE_OK)
        return store_db_err(l, sqlite3_errcode(l->db));
    if ((err = store_exec(l, "PRAGMA foreign_keys = ON")) != LEAL_OK)
        return err;
    if ((err = store_pragma_int(l, "PRAGMA foreign_keys", &v)) != LEAL_OK)
        return err;
    if (v != 1) {
        store_set_msg(l, "foreign_keys is %lld, not 1", (long long)v);
        return LEAL_E_DB_SETTINGS;
    }
    if ((err = store_pragma_text(l, "PRAGMA journal_mode = WAL", mode, sizeof mode)) != LEAL_OK)
        return err;
    if (strcmp(mode, "wal") != 0) {
        store_set_msg(l, "journal_mode is %s, not wal", mode);
        return LEAL_E_DB_SETTINGS;
    }
    /* 64 MiB of page cache: a journal import touches the entry, line and
     * key indexes of a large file; the default 2 MiB turns that into reads. */
    if ((err = store_exec(l, "PRAGMA cache_size = -65536")) != LEAL_OK)
        return err;
    /* Savepoint sub-journals in memory: each post in a batch is a savepoint,
     * and a temporary file for them costs a write per page touched. */
    if ((err = store_exec(l, "PRAGMA temp_store = MEMORY")) != LEAL_OK)
        return err;
    /* A till loses power: every commit is on disk before it is acknowledged. */
    if ((err = store_exec(l, "PRAGMA synchronous = FULL")) != LEAL_OK)
        return err;
    if ((err = store_pragma_int(l, "PRAGMA synchronous", &v)) != LEAL_OK)
        return err;
    if (v != 2) {
        store_set_msg(l, "synchronous is %lld, not 2 (FULL)", (long long)v);
        return LEAL_E_DB_SETTINGS;
    }
    return LEAL_OK;
}

static leal_err raw_open_flags(const char *path, int create, struct ledger **out)
{
    struct ledger *l = calloc(1, sizeof *l);
    int rc;
    *out = NULL;
    if (l == NULL)
        return LEAL_E_NO_MEMORY;
    /* A new ledger is made 0600 whatever the umask; SQLite gives its -wal
     * and -shm the database file's mode. */
    if (create && strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0) {
        leal_err made = file_create_new(path, 0600);
        (void)made; /* on failure, SQLite's open below says what is wrong */
    }
    /* leal never asks SQLite how much memory it uses: no global counters
     * (and their mutex) around every allocation. Refused, harmlessly, once
     * SQLite is initialised. */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* A struct ledger is used by one thread at a time (ledger.h): no mutex
     * around every SQLite call. */
    rc = sqlite3_open_v2(
        path, &l->db,
        SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK && !create && (rc & 0xff) == SQLITE_CANTOPEN && access(path, F_OK) != 0) {
        sqlite3_close(l->db);
        free(l);
        return LEAL_E_NO_LEDGER;
    }
    if (rc != SQLITE_OK) {
        leal_err err = l->db ? store_db_err(l, rc) : LEAL_E_NO_MEMORY;
        sqlite3_close(l->db);
        free(l);
        return err;
    }
    sqlite3_extended_result_codes(l->db, 1);
    *out = l;
    return LEAL_OK;
}

static leal_err raw_open(const char *path, struct ledger **out)
{
    return raw_open_flags(path, 1, out);
}

static leal_err copy_db(struct ledger *l, const char *dest, bool replace);

leal_err ledger_open_with(const char *path, const struct ledger_open_options *o,
                          struct ledger **out)
{
    struct ledger *l = NULL;
    leal_err err;
    int64_t version, app, tables;
    char bak[4200];

    *out = NULL;
    if (o->why && o->why_cap)
        o->why[0] = '\0';
    if (path == NULL || crypto_provider_check(o->crypto) != LEAL_OK)
        return LEAL_E_ARG;
    if (store_pg_uri(path)) {
        if ((err = store_pg_open(path, o, out)) == LEAL_OK)
            return LEAL_OK;
        l = *out;
        *out = NULL;
        if (o->why && o->why_cap && err != LEAL_E_NO_LEDGER)
            snprintf(o->why, o->why_cap, "%s", l ? l->msg : "");
        ledger_close(l);
        return err;
    }
    if ((err = raw_open_flags(path, !o->must_exist, &l)) != LEAL_OK)
        return err;
    l->crypto = o->crypto;
    if ((err = settings(l)) != LEAL_OK)
        goto out;
    if ((err = store_pragma_int(l, "PRAGMA user_version", &version)) != LEAL_OK)
        goto out;
    if ((err = store_pragma_int(l, "PRAGMA application_id", &app)) != LEAL_OK)
        goto out;
    if ((err = store_pragma_int(l, "SELECT count(*) FROM sqlite_schema", &tables)) != LEAL_OK)
        goto out;
    if ((tables > 0 || version > 0) && app != SCHEMA_APPLICATION_ID) {
        store_set_msg(l, "application_id is %lld", (long long)app);
        err = LEAL_E_DB_NOT_LEAL;
        goto out;
    }
    if (version > LEDGER_SCHEMA_VERSION) {
        store_set_msg(l, "the file has schema version %lld; this leal knows up to %d",
                      (long long)version, LEDGER_SCHEMA_VERSION);
        err = LEAL_E_DB_SCHEMA_NEWER;
        goto out;
    }
    if (version > 0 && version < LEDGER_SCHEMA_VERSION) {
        /* An older schema: keep a copy of it before changing anything. */
        snprintf(bak, sizeof bak, "%s.schema-v%lld.bak", path, (long long)version);
        if ((err = copy_db(l, bak, true)) != LEAL_OK)
            goto out;
    }
    if (version < LEDGER_SCHEMA_VERSION && (err = migrate(l, LEDGER_SCHEMA_VERSION)) != LEAL_OK)
        goto out;
    l->version = LEDGER_SCHEMA_VERSION;
    *out = l;
    l = NULL;
out:
    if (o->why && o->why_cap)
        snprintf(o->why, o->why_cap, "%s", l ? l->msg : "");
    ledger_close(l);
    return err;
}

leal_err ledger_create_at_version(const char *path, int v)
{
    struct ledger *l = NULL;
    leal_err err;
    if (v < 1 || v > LEDGER_SCHEMA_VERSION)
        return LEAL_E_ARG;
    if ((err = raw_open(path, &l)) != LEAL_OK)
        return err;
    if ((err = settings(l)) == LEAL_OK)
        err = migrate(l, v);
    ledger_close(l);
    return err;
}

void ledger_close(struct ledger *l)
{
    if (l == NULL)
        return;
    ledger_batch_rollback(l);
    ledger_read_end(l);
    /* What an import left in the WAL goes into the file now, not at the next
     * small write of another process (which would wait for all of it).
     * PASSIVE: never waits for readers; what they hold stays for later. */
    if (l->bulk && l->db)
        (void)sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    for (int i = 0; i < ST_COUNT; i++)
        store_finalize(l->st[i]);
    for (int i = 0; i <= LEDGER_SEARCH_ALL; i++)
        store_finalize(l->search_st[i]);
    store_forget(l);
    if (l->pg)
        store_pg_close(l);
    else
        sqlite3_close(l->db);
    free(l->cache.slot);
    free(l->undo);
    free(l);
}

/* ---- Backup ---- */

/* Removes what a failed or finished copy left in its private folder. */
static void remove_scratch(const char *dir, const char *tmp)
{
    static const char *const side[] = {"", "-journal", "-wal", "-shm"};
    char p[4300];
    for (size_t i = 0; i < sizeof side / sizeof side[0]; i++) {
        snprintf(p, sizeof p, "%s%s", tmp, side[i]);
        (void)unlink(p);
    }
    (void)rmdir(dir);
}

/* A backup's scratch: dest's parent folder, a private folder made beside
 * dest and an empty 0600 copy.db in it, so no name another user can plant a
 * symbolic link at. On an error l's message names the folder, and nothing
 * is left behind but what remove_scratch takes away. */
struct scratch {
    char parent[4200], dir[4200], tmp[4300];
};

static leal_err scratch_begin(struct ledger *l, const char *dest, bool replace, struct scratch *s)
{
    struct stat st;
    leal_err err;
    s->dir[0] = s->tmp[0] = '\0';
    if ((err = file_parent(dest, s->parent, sizeof s->parent)) != LEAL_OK)
        return err;
    if (!replace && lstat(dest, &st) == 0) {
        store_set_msg(l, "%s already exists", dest);
        return LEAL_E_EXISTS;
    }
    if ((err = file_private_dir(dest, s->dir, sizeof s->dir)) != LEAL_OK) {
        if (err == LEAL_E_NOT_FOUND)
            store_set_msg(l, "folder %s does not exist", s->parent);
        else
            store_set_msg(l, "cannot write in folder %s", s->parent);
        s->dir[0] = '\0';
        return err;
    }
    snprintf(s->tmp, sizeof s->tmp, "%s/copy.db", s->dir);
    if ((err = file_create_new(s->tmp, 0600)) != LEAL_OK)
        store_set_msg(l, "cannot create a file in folder %s", s->parent);
    return err;
}

/* The finished copy made a plain rollback-journal file (self-contained, no
 * -wal beside it), synced and renamed to dest: no half-written dest. */
static leal_err scratch_place(struct ledger *l, const struct scratch *s, const char *dest,
                              bool replace)
{
    sqlite3 *db = NULL;
    leal_err err;
    if (sqlite3_open_v2(s->tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        store_set_msg(l, "backup: %s", db ? sqlite3_errmsg(db) : "out of memory");
        err = log_foreign(LEAL_E_IO, "sqlite", "journal_mode", db ? sqlite3_errmsg(db) : NULL);
        sqlite3_close(db);
        return err;
    }
    sqlite3_close(db);
    if ((err = file_sync(s->tmp)) != LEAL_OK) {
        store_set_msg(l, "cannot sync the copy in folder %s", s->parent);
        return err;
    }
    if ((err = file_rename(s->tmp, dest, replace)) != LEAL_OK) {
        if (err == LEAL_E_EXISTS)
            store_set_msg(l, "%s already exists", dest);
        else
            store_set_msg(l, "cannot rename the copy to %s", dest);
    }
    return err;
}

static void scratch_end(const struct scratch *s)
{
    if (s->dir[0])
        remove_scratch(s->dir, s->tmp);
}

/* The SQLite backup API into the scratch copy, then into place. */
static leal_err copy_db(struct ledger *l, const char *dest, bool replace)
{
    struct scratch s;
    sqlite3 *to = NULL;
    sqlite3_backup *b;
    leal_err err;
    int rc;

    if ((err = scratch_begin(l, dest, replace, &s)) != LEAL_OK)
        goto out;
    rc = sqlite3_open_v2(s.tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK) {
        store_set_msg(l, "%s: %s", s.parent, to ? sqlite3_errmsg(to) : "out of memory");
        err = log_foreign(LEAL_E_IO, "sqlite", "sqlite3_open_v2", to ? sqlite3_errmsg(to) : NULL);
        goto out;
    }
    b = sqlite3_backup_init(to, "main", l->db, "main");
    if (b == NULL) {
        store_set_msg(l, "%s", sqlite3_errmsg(to));
        err = log_foreign(LEAL_E_IO, "sqlite", "sqlite3_backup_init", sqlite3_errmsg(to));
        goto out;
    }
    /* All pages in one step: a consistent snapshot of one read transaction. */
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        store_set_msg(l, "backup: %s", sqlite3_errstr(rc));
        err = log_foreign(
            (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? LEAL_E_DB_BUSY : LEAL_E_IO,
            "sqlite", "sqlite3_backup_step", sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_close(to);
    to = NULL;
    err = scratch_place(l, &s, dest, replace);
out:
    if (to)
        sqlite3_close(to);
    scratch_end(&s);
    return err;
}

/* A PostgreSQL ledger's backup: ledger_copy (one REPEATABLE READ READ ONLY
 * snapshot of the server, every entry compared, the copy's books verified)
 * into a new SQLite ledger in the scratch, then into place as copy_db's. The
 * file is a ledger of its own: --db FILE reads it, `leal ledger copy` takes
 * it back to a server. */
static leal_err pg_copy_db(struct ledger *l, const char *dest, bool replace)
{
    const struct ledger_open_options o = {.crypto = l->crypto};
    struct ledger *to = NULL;
    struct ledger_copy_stats stats;
    struct scratch s;
    leal_err err;

    if ((err = scratch_begin(l, dest, replace, &s)) != LEAL_OK)
        goto out;
    if ((err = ledger_open_with(s.tmp, &o, &to)) != LEAL_OK) {
        store_set_msg(l, "cannot make the copy's ledger in folder %s", s.parent);
        goto out;
    }
    err = ledger_copy(l, to, &stats);
    if (err != LEAL_OK)
        store_set_msg(l, "%s", to->msg);
    ledger_close(to);
    if (err == LEAL_OK)
        err = scratch_place(l, &s, dest, replace);
out:
    scratch_end(&s);
    return err;
}

leal_err ledger_backup(struct ledger *l, const char *dest, bool replace)
{
    if (l == NULL || dest == NULL || dest[0] == '\0')
        return LEAL_E_ARG;
    return l->pg ? pg_copy_db(l, dest, replace) : copy_db(l, dest, replace);
}
