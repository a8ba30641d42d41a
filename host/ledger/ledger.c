/*
 * ledger.c - the SQLite book of record (see ledger.h). SQLite is reached
 * only through prepared statements with bound parameters; its result codes
 * are mapped to leal_err here (db_err) and its text copied into l->msg.
 */
#include "ledger.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "amount.h"
#include "firmware/core/rules.h"
#include "host/file.h"
#include "host/text.h"
#include "keys/base/buf.h"
#include "keys/base/hex.h"
#include "keys/hosted/provider_openssl.h"
#include "schema.h"

/* Writers wait this long for one another (a till and an import at once)
 * instead of failing with "database is locked". */
#define BUSY_TIMEOUT_MS 30000
#define MAX_REQUEST_ID 128

enum st {
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_KEY_TERMINAL,
    ST_KEY_REQUEST,
    ST_PROGRAM_EXISTS,
    ST_STORE_GET,
    ST_TERMINAL_GET,
    ST_CARD_PROGRAM,
    ST_ENTRY_GET,
    ST_VOID_OF,
    ST_ENTRY_INSERT,
    ST_ACCOUNT_GET,
    ST_LINE_INSERT,
    ST_BALANCE_ADD,
    ST_BALANCE_GET,
    ST_LOT_INSERT,
    ST_LOT_OPEN,
    ST_LOT_TAKE,
    ST_LOT_USE_INSERT,
    ST_LOT_USED_BY,
    ST_LOT_GIVE,
    ST_LOT_USE_GIVE,
    ST_PROGRAM_EXPIRY,
    ST_ACCOUNT_FULL,
    ST_COUNT
};

static const char *const st_sql[ST_COUNT] = {
    [ST_SAVEPOINT] = "SAVEPOINT leal_post",
    [ST_RELEASE] = "RELEASE leal_post",
    [ST_ROLLBACK_TO] = "ROLLBACK TO leal_post",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_KEY_TERMINAL] = "SELECT id, content_hash FROM entry WHERE terminal_id = ?1 AND "
                        "terminal_epoch = ?2 AND terminal_seq = ?3 AND terminal_seq IS NOT NULL",
    [ST_KEY_REQUEST] = "SELECT id, content_hash FROM entry WHERE request_id = ?1 AND "
                       "request_id IS NOT NULL",
    [ST_PROGRAM_EXISTS] = "SELECT 1 FROM program WHERE id = ?1",
    [ST_STORE_GET] = "SELECT program_id FROM store WHERE id = ?1",
    [ST_TERMINAL_GET] = "SELECT t.store_id, s.program_id, t.epoch FROM terminal t JOIN store s "
                        "ON s.id = t.store_id WHERE t.id = ?1",
    [ST_CARD_PROGRAM] = "SELECT a.program_id FROM card c JOIN account a ON a.id = c.account_id "
                        "WHERE c.card_id = ?1",
    [ST_ENTRY_GET] = "SELECT kind, program_id, store_id, card_id FROM entry WHERE id = ?1",
    [ST_VOID_OF] = "SELECT id, content_hash FROM entry WHERE reverses = ?1 AND kind = 'void'",
    [ST_ENTRY_INSERT] =
        "INSERT INTO entry(program_id, kind, at, store_id, terminal_id, terminal_epoch, "
        "terminal_seq, request_id, operator, reason, reference, spend_cents, reverses, card_id, "
        "content_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [ST_ACCOUNT_GET] = "SELECT program_id, kind FROM account WHERE id = ?1",
    [ST_LINE_INSERT] =
        "INSERT INTO line(entry_id, account_id, asset, amount) VALUES (?1, ?2, ?3, ?4)",
    /* The balance moves as a delta in the write transaction (DESIGN.md: the
     * TiBillet lost update). The result is known from the transaction's
     * balance cache (struct bal_cache), read once per transaction with
     * ST_BALANCE_GET, so a negative result is refused without a RETURNING. */
    [ST_BALANCE_ADD] = "INSERT INTO balance(account_id, asset, amount) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT (account_id, asset) DO UPDATE SET amount = amount + ?3",
    [ST_BALANCE_GET] = "SELECT amount FROM balance WHERE account_id = ?1 AND asset = ?2",
    [ST_LOT_INSERT] = "INSERT INTO lot(account_id, asset, line_id, expires_at, original, "
                      "remaining) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    /* Nearest expiry first, lots without expiry last; when reversing an
     * earn, the lots that entry created come first. */
    [ST_LOT_OPEN] = "SELECT id, remaining FROM lot WHERE account_id = ?1 AND asset = ?2 AND "
                    "remaining > 0 ORDER BY (line_id IN (SELECT id FROM line WHERE entry_id = "
                    "?3)) DESC, expires_at IS NULL, expires_at, id",
    [ST_LOT_TAKE] = "UPDATE lot SET remaining = remaining - ?2 WHERE id = ?1",
    [ST_LOT_USE_INSERT] = "INSERT INTO lot_use(line_id, lot_id, amount) VALUES (?1, ?2, ?3)",
    [ST_LOT_USED_BY] = "SELECT u.line_id, u.lot_id, u.amount FROM lot_use u JOIN line n ON n.id "
                       "= u.line_id WHERE n.entry_id = ?1 AND n.account_id = ?2 AND n.asset = "
                       "?3 AND u.amount > 0 ORDER BY u.line_id, u.lot_id",
    [ST_LOT_GIVE] = "UPDATE lot SET remaining = remaining + ?2 WHERE id = ?1",
    [ST_LOT_USE_GIVE] = "UPDATE lot_use SET amount = amount - ?3 WHERE line_id = ?1 AND "
                        "lot_id = ?2",
    [ST_PROGRAM_EXPIRY] = "SELECT points_expiry_days FROM program WHERE id = ?1",
    [ST_ACCOUNT_FULL] = "SELECT id, program_id, customer_id, kind, name FROM account WHERE id = ?1",
};

/* What this write transaction has read of rows a post consults again and
 * again: balances (which it also moves), accounts and programs. A post then
 * knows each new balance without reading it back, and an account's program
 * and kind without a query per line. Valid only inside one write
 * transaction: emptied when one begins and when a savepoint is rolled back.
 * post_locked is the only writer of balance and keeps it in step; accounts
 * and programs are never updated or deleted. Open addressing, linear
 * probing, capacity a power of two, at most half full. */
enum txc_kind {
    TXC_FREE,
    TXC_BALANCE, /* (account, asset): v = amount */
    TXC_ACCOUNT, /* (account, ""): v = program, kind */
    TXC_PROGRAM, /* (program, ""): it exists */
};

struct txc_slot {
    int64_t id;
    int64_t v;
    enum txc_kind what;
    enum ledger_account_kind kind;
    char asset[LEDGER_MAX_ASSET];
};

struct txc {
    struct txc_slot *slot;
    size_t cap, used;
};

enum batch_mode {
    BATCH_NONE,
    BATCH_SAVEPOINT, /* a failed post undoes only itself */
    BATCH_WHOLE,     /* a failed post fails the batch: only a rollback follows */
};

struct ledger {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    /* Customer search, prepared once per form (a desk searches again and again). */
    sqlite3_stmt *search_st[LEDGER_SEARCH_ALL + 1];
    enum batch_mode in_batch;
    bool batch_failed;
    bool bulk; /* has run a whole batch: bulk settings, checkpoint at close */
    struct txc cache;
    int version;
    char msg[512];
};

static void set_msg(struct ledger *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(struct ledger *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->msg, sizeof l->msg, fmt, ap);
    va_end(ap);
}

const char *ledger_errmsg(const struct ledger *l)
{
    return l ? l->msg : "";
}

int ledger_schema_version(const struct ledger *l)
{
    return l ? l->version : 0;
}

/* Maps an SQLite result code to a leal_err and keeps SQLite's text. */
static leal_err db_err(struct ledger *l, int rc)
{
    int ext = sqlite3_extended_errcode(l->db);
    set_msg(l, "%s", sqlite3_errmsg(l->db));
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return LEAL_E_DB_BUSY;
    case SQLITE_CORRUPT:
        return LEAL_E_DB_CORRUPT;
    case SQLITE_NOTADB:
        return LEAL_E_DB_NOT_LEAL;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
        return LEAL_E_IO;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return LEAL_E_PERMISSION;
    case SQLITE_NOMEM:
        return LEAL_E_NO_MEMORY;
    case SQLITE_CONSTRAINT:
        if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
            return LEAL_E_UNKNOWN_ID;
        if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
            return LEAL_E_DUPLICATE_ID;
        if (ext == SQLITE_CONSTRAINT_DATATYPE)
            return LEAL_E_OVERFLOW;
        return LEAL_E_ARG;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return LEAL_E_TOO_LARGE;
    default:
        return LEAL_E_DB;
    }
}

/* A cached statement, reset and with its bindings cleared. step() resets a
 * statement that has run to its end or failed, so only one left on a row
 * needs a reset here. */
static leal_err prep(struct ledger *l, enum st id, sqlite3_stmt **out)
{
    int rc;
    *out = NULL;
    if (l->st[id] == NULL) {
        rc = sqlite3_prepare_v3(l->db, st_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &l->st[id], NULL);
        if (rc != SQLITE_OK)
            return db_err(l, rc);
    } else {
        if (sqlite3_stmt_busy(l->st[id]))
            sqlite3_reset(l->st[id]);
        sqlite3_clear_bindings(l->st[id]);
    }
    *out = l->st[id];
    return LEAL_OK;
}

/* A one-off statement (queries the CLI makes once per run). */
static leal_err prep_once(struct ledger *l, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(l->db, sql, -1, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return db_err(l, rc);
    }
    return LEAL_OK;
}

/* Steps st once: *row is 1 for a row, 0 when done. A statement that has
 * run to its end (or failed) is reset, ready for new bindings. */
static leal_err step(struct ledger *l, sqlite3_stmt *st, int *row)
{
    int rc = sqlite3_step(st);
    if (row)
        *row = 0;
    if (rc == SQLITE_ROW) {
        if (row)
            *row = 1;
        return LEAL_OK;
    }
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return LEAL_OK;
    }
    {
        leal_err err = db_err(l, rc);
        sqlite3_reset(st);
        return err;
    }
}

/* 1 while st has a row; 0 at its end or on an error (then in *err). For
 * `while (next_row(l, st, &err))`. */
static int next_row(struct ledger *l, sqlite3_stmt *st, leal_err *err)
{
    int row;
    *err = step(l, st, &row);
    return *err == LEAL_OK && row;
}

/* Steps st once: LEAL_OK on a row; no row is LEAL_E_UNKNOWN_ID naming "what key". */
static leal_err step_found(struct ledger *l, sqlite3_stmt *st, const char *what, int64_t key)
{
    int row;
    leal_err err = step(l, st, &row);
    if (err == LEAL_OK && !row) {
        set_msg(l, "%s %lld", what, (long long)key);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

/* Integer parameters ?1, ?2, ... for the *_i64 helpers: I64S(a, b) is the
 * array and its length. */
#define I64S(...)                                                                                  \
    (const int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

static void bind_i64s(sqlite3_stmt *st, const int64_t *v, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
}

/* Runs a cached statement whose parameters are all integers, once. */
static leal_err run_i64(struct ledger *l, enum st id, const int64_t *v, int n)
{
    sqlite3_stmt *st;
    leal_err err = prep(l, id, &st);
    if (err == LEAL_OK) {
        bind_i64s(st, v, n);
        err = step(l, st, NULL);
        sqlite3_reset(st);
    }
    return err;
}

static leal_err run(struct ledger *l, enum st id)
{
    return run_i64(l, id, NULL, 0);
}

/* A one-off statement with its integer parameters bound (*st NULL on failure). */
static leal_err prep_i64(struct ledger *l, const char *sql, sqlite3_stmt **st, const int64_t *v,
                         int n)
{
    leal_err err = prep_once(l, sql, st);
    if (err == LEAL_OK)
        bind_i64s(*st, v, n);
    return err;
}

/* Runs a one-off statement whose parameters are all integers, once. */
static leal_err exec_i64(struct ledger *l, const char *sql, const int64_t *v, int n)
{
    sqlite3_stmt *st;
    leal_err err = prep_i64(l, sql, &st, v, n);
    if (err == LEAL_OK)
        err = step(l, st, NULL);
    sqlite3_finalize(st);
    return err;
}

/* A one-off lookup of one row by ?1 = key: on LEAL_OK *st stands on the row;
 * no row is LEAL_E_UNKNOWN_ID naming "what key". The caller finalizes *st. */
static leal_err find_row(struct ledger *l, const char *sql, int64_t key, const char *what,
                         sqlite3_stmt **st)
{
    leal_err err = prep_i64(l, sql, st, I64S(key));
    return err == LEAL_OK ? step_found(l, *st, what, key) : err;
}

/* The first column of the first row of a one-off query, or 0 without a row. */
static leal_err query_int(struct ledger *l, const char *sql, const int64_t *v, int n, int64_t *out)
{
    sqlite3_stmt *st;
    int row;
    leal_err err = prep_i64(l, sql, &st, v, n);
    *out = 0;
    if (err != LEAL_OK)
        return err;
    err = step(l, st, &row);
    if (err == LEAL_OK && row)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return err;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && s[0])
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_int_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v != 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* ---- The transaction's cache ---- */

static void txc_clear(struct ledger *l)
{
    if (l->cache.used)
        memset(l->cache.slot, 0, l->cache.cap * sizeof *l->cache.slot);
    l->cache.used = 0;
}

static size_t txc_hash(enum txc_kind what, int64_t id, const char *asset, size_t mask)
{
    uint64_t h = ((uint64_t)id * 4 + (uint64_t)what) * UINT64_C(0x9e3779b97f4a7c15);
    for (const char *c = asset; *c; c++)
        h = (h ^ (uint8_t)*c) * UINT64_C(0x100000001b3);
    return (size_t)(h ^ (h >> 29)) & mask;
}

/* The slot of (what, id, asset), or the free slot where it belongs. */
static struct txc_slot *txc_find(struct txc *c, enum txc_kind what, int64_t id, const char *asset)
{
    size_t mask = c->cap - 1, i = txc_hash(what, id, asset, mask);
    while (c->slot[i].what != TXC_FREE &&
           (c->slot[i].what != what || c->slot[i].id != id || strcmp(c->slot[i].asset, asset) != 0))
        i = (i + 1) & mask;
    return &c->slot[i];
}

static leal_err txc_grow(struct txc *c)
{
    size_t ncap = c->cap ? 2 * c->cap : 256;
    struct txc n = {calloc(ncap, sizeof *n.slot), ncap, c->used};
    if (n.slot == NULL)
        return LEAL_E_NO_MEMORY;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i].what != TXC_FREE)
            *txc_find(&n, c->slot[i].what, c->slot[i].id, c->slot[i].asset) = c->slot[i];
    free(c->slot);
    *c = n;
    return LEAL_OK;
}

/* The slot for (what, id, asset): *fresh is 1 when it was not cached yet (the
 * caller fills it from the ledger and calls txc_keep, or leaves it free). */
static leal_err txc_get(struct ledger *l, enum txc_kind what, int64_t id, const char *asset,
                        struct txc_slot **out, int *fresh)
{
    leal_err err;
    *out = NULL;
    if (2 * (l->cache.used + 1) > l->cache.cap && (err = txc_grow(&l->cache)) != LEAL_OK)
        return err;
    *out = txc_find(&l->cache, what, id, asset);
    *fresh = (*out)->what == TXC_FREE;
    return LEAL_OK;
}

static void txc_keep(struct ledger *l, struct txc_slot *s, enum txc_kind what, int64_t id,
                     const char *asset)
{
    s->what = what;
    s->id = id;
    snprintf(s->asset, sizeof s->asset, "%s", asset);
    l->cache.used++;
}

/* The balance's cache slot, read from the ledger (0 without a row) the first
 * time this transaction asks. */
static leal_err bal_get(struct ledger *l, int64_t account_id, const char *asset,
                        struct txc_slot **out)
{
    sqlite3_stmt *st;
    leal_err err;
    int row, fresh;
    if ((err = txc_get(l, TXC_BALANCE, account_id, asset, out, &fresh)) != LEAL_OK || !fresh)
        return err;
    if ((err = prep(l, ST_BALANCE_GET, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
    err = step(l, st, &row);
    (*out)->v = row ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (err == LEAL_OK)
        txc_keep(l, *out, TXC_BALANCE, account_id, asset);
    return err;
}

/* ---- Transactions ---- */

/* BEGIN IMMEDIATE: the write lock up front, so two writers never deadlock
 * upgrading a read. What the balance cache held belongs to an older snapshot. */
static leal_err begin_write(struct ledger *l)
{
    txc_clear(l);
    return run(l, ST_BEGIN);
}

/* Every write: its own transaction, a savepoint inside the caller's batch, or
 * nothing inside a batch that fails whole. */
static leal_err tx_begin(struct ledger *l)
{
    switch (l->in_batch) {
    case BATCH_WHOLE:
        if (l->batch_failed) {
            set_msg(l, "an earlier write failed this batch; roll it back");
            return LEAL_E_STATE;
        }
        return LEAL_OK;
    case BATCH_SAVEPOINT:
        return run(l, ST_SAVEPOINT);
    case BATCH_NONE:
        break;
    }
    return begin_write(l);
}

static leal_err tx_end(struct ledger *l, leal_err err)
{
    if (l->in_batch == BATCH_WHOLE) {
        /* Half a post is in the transaction: the batch can only be rolled back. */
        if (err != LEAL_OK)
            l->batch_failed = true;
        return err;
    }
    if (err == LEAL_OK) {
        err = run(l, l->in_batch ? ST_RELEASE : ST_COMMIT);
        if (err == LEAL_OK)
            return LEAL_OK;
    }
    if (l->in_batch) {
        txc_clear(l);
        if (run(l, ST_ROLLBACK_TO) == LEAL_OK && run(l, ST_RELEASE) == LEAL_OK)
            return err;
    }
    if (!sqlite3_get_autocommit(l->db))
        (void)run(l, ST_ROLLBACK);
    return err;
}

/* tx_end for a function that hands back a new id: a failed transaction leaves *id 0. */
static leal_err tx_end_id(struct ledger *l, leal_err err, int64_t *id)
{
    err = tx_end(l, err);
    if (err != LEAL_OK)
        *id = 0;
    return err;
}

static leal_err exec(struct ledger *l, const char *sql);

/* A connection that imports (whole batches) dirties index and balance pages
 * all over a large file at every commit. It checkpoints every 64 Ki pages of
 * WAL (256 MiB at 4 KiB pages) instead of every 1000: a page that every
 * batch rewrites is copied into the file once per checkpoint rather than
 * once per commit (the WAL itself still takes each commit whole, and
 * synchronous=FULL still syncs it). ledger_close checkpoints what it leaves. */
static leal_err bulk_settings(struct ledger *l)
{
    leal_err err;
    if (l->bulk)
        return LEAL_OK;
    if ((err = exec(l, "PRAGMA wal_autocheckpoint = 65536")) != LEAL_OK)
        return err;
    l->bulk = true;
    return LEAL_OK;
}

static leal_err batch_begin(struct ledger *l, enum batch_mode mode)
{
    leal_err err;
    if (l->in_batch)
        return LEAL_E_STATE;
    if (mode == BATCH_WHOLE && (err = bulk_settings(l)) != LEAL_OK)
        return err;
    err = begin_write(l);
    if (err == LEAL_OK) {
        l->in_batch = mode;
        l->batch_failed = false;
    }
    return err;
}

leal_err ledger_batch_begin(struct ledger *l)
{
    return batch_begin(l, BATCH_SAVEPOINT);
}

leal_err ledger_batch_begin_whole(struct ledger *l)
{
    return batch_begin(l, BATCH_WHOLE);
}

leal_err ledger_batch_commit(struct ledger *l)
{
    leal_err err;
    if (!l->in_batch)
        return LEAL_E_STATE;
    if (l->batch_failed) {
        ledger_batch_rollback(l);
        set_msg(l, "a write in the batch failed; the batch was rolled back");
        return LEAL_E_STATE;
    }
    err = run(l, ST_COMMIT);
    if (err != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    l->in_batch = BATCH_NONE;
    return LEAL_OK;
}

void ledger_batch_rollback(struct ledger *l)
{
    if (!l->in_batch)
        return;
    if (!sqlite3_get_autocommit(l->db))
        (void)run(l, ST_ROLLBACK);
    txc_clear(l);
    l->in_batch = BATCH_NONE;
    l->batch_failed = false;
}

/* ---- Opening and migrations ---- */

static leal_err pragma_int(struct ledger *l, const char *sql, int64_t *v)
{
    return query_int(l, sql, NULL, 0, v);
}

static leal_err pragma_text(struct ledger *l, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    int row;
    leal_err err = prep_once(l, sql, &st);
    out[0] = '\0';
    if (err != LEAL_OK)
        return err;
    err = step(l, st, &row);
    if (err == LEAL_OK && row)
        col_text(st, 0, out, cap);
    sqlite3_finalize(st);
    return err;
}

static leal_err exec(struct ledger *l, const char *sql)
{
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LEAL_OK : db_err(l, rc);
}

/* Applies migrations from..to-1 inside one BEGIN IMMEDIATE, re-reading the
 * version under the lock (another process may have done it meanwhile). */
static leal_err migrate(struct ledger *l, int to)
{
    leal_err err;
    int64_t v;
    char sql[64];
    if ((err = exec(l, "BEGIN IMMEDIATE")) != LEAL_OK)
        return err;
    err = pragma_int(l, "PRAGMA user_version", &v);
    for (; err == LEAL_OK && v < to; v++)
        err = exec(l, schema_migration((int)v));
    if (err == LEAL_OK) {
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", SCHEMA_APPLICATION_ID);
        err = exec(l, sql);
    }
    if (err == LEAL_OK) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", to);
        err = exec(l, sql);
    }
    if (err == LEAL_OK)
        err = exec(l, "COMMIT");
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
        return db_err(l, sqlite3_errcode(l->db));
    if ((err = exec(l, "PRAGMA foreign_keys = ON")) != LEAL_OK)
        return err;
    if ((err = pragma_int(l, "PRAGMA foreign_keys", &v)) != LEAL_OK)
        return err;
    if (v != 1) {
        set_msg(l, "foreign_keys is %lld, not 1", (long long)v);
        return LEAL_E_DB_SETTINGS;
    }
    if ((err = pragma_text(l, "PRAGMA journal_mode = WAL", mode, sizeof mode)) != LEAL_OK)
        return err;
    if (strcmp(mode, "wal") != 0) {
        set_msg(l, "journal_mode is %s, not wal", mode);
        return LEAL_E_DB_SETTINGS;
    }
    /* 64 MiB of page cache: a journal import touches the entry, line and
     * key indexes of a large file; the default 2 MiB turns that into reads. */
    if ((err = exec(l, "PRAGMA cache_size = -65536")) != LEAL_OK)
        return err;
    /* Savepoint sub-journals in memory: each post in a batch is a savepoint,
     * and a temporary file for them costs a write per page touched. */
    if ((err = exec(l, "PRAGMA temp_store = MEMORY")) != LEAL_OK)
        return err;
    /* A till loses power: every commit is on disk before it is acknowledged. */
    if ((err = exec(l, "PRAGMA synchronous = FULL")) != LEAL_OK)
        return err;
    if ((err = pragma_int(l, "PRAGMA synchronous", &v)) != LEAL_OK)
        return err;
    if (v != 2) {
        set_msg(l, "synchronous is %lld, not 2 (FULL)", (long long)v);
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
        leal_err err = l->db ? db_err(l, rc) : LEAL_E_NO_MEMORY;
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
static leal_err open_why(const char *path, int create, struct ledger **out, char *why, size_t cap);

leal_err ledger_open(const char *path, struct ledger **out)
{
    return ledger_open_why(path, out, NULL, 0);
}

leal_err ledger_open_why(const char *path, struct ledger **out, char *why, size_t cap)
{
    return open_why(path, 1, out, why, cap);
}

leal_err ledger_open_existing_why(const char *path, struct ledger **out, char *why, size_t cap)
{
    return open_why(path, 0, out, why, cap);
}

static leal_err open_why(const char *path, int create, struct ledger **out, char *why, size_t cap)
{
    struct ledger *l = NULL;
    leal_err err;
    int64_t version, app, tables;
    char bak[4200];

    *out = NULL;
    if (why && cap)
        why[0] = '\0';
    if ((err = raw_open_flags(path, create, &l)) != LEAL_OK)
        return err;
    if ((err = settings(l)) != LEAL_OK)
        goto out;
    if ((err = pragma_int(l, "PRAGMA user_version", &version)) != LEAL_OK)
        goto out;
    if ((err = pragma_int(l, "PRAGMA application_id", &app)) != LEAL_OK)
        goto out;
    if ((err = pragma_int(l, "SELECT count(*) FROM sqlite_schema", &tables)) != LEAL_OK)
        goto out;
    if ((tables > 0 || version > 0) && app != SCHEMA_APPLICATION_ID) {
        set_msg(l, "application_id is %lld", (long long)app);
        err = LEAL_E_DB_NOT_LEAL;
        goto out;
    }
    if (version > LEDGER_SCHEMA_VERSION) {
        set_msg(l, "the file has schema version %lld; this leal knows up to %d", (long long)version,
                LEDGER_SCHEMA_VERSION);
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
    if (why && cap)
        snprintf(why, cap, "%s", l ? l->msg : "");
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
    /* What an import left in the WAL goes into the file now, not at the next
     * small write of another process (which would wait for all of it).
     * PASSIVE: never waits for readers; what they hold stays for later. */
    if (l->bulk)
        (void)sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(l->st[i]);
    for (int i = 0; i <= LEDGER_SEARCH_ALL; i++)
        sqlite3_finalize(l->search_st[i]);
    sqlite3_close(l->db);
    free(l->cache.slot);
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

/* The SQLite backup API into a 0600 file in a private folder made beside
 * dest, fsync, rename into place: no name another user can plant a
 * symbolic link at, and no half-written dest. */
static leal_err copy_db(struct ledger *l, const char *dest, bool replace)
{
    char dir[4200], tmp[4300], parent[4200];
    sqlite3 *to = NULL;
    sqlite3_backup *b;
    struct stat st;
    leal_err err;
    int rc;

    if ((err = file_parent(dest, parent, sizeof parent)) != LEAL_OK)
        return err;
    if (!replace && lstat(dest, &st) == 0) {
        set_msg(l, "%s already exists", dest);
        return LEAL_E_EXISTS;
    }
    if ((err = file_private_dir(dest, dir, sizeof dir)) != LEAL_OK) {
        if (err == LEAL_E_NOT_FOUND)
            set_msg(l, "folder %s does not exist", parent);
        else
            set_msg(l, "cannot write in folder %s", parent);
        return err;
    }
    snprintf(tmp, sizeof tmp, "%s/copy.db", dir);
    if ((err = file_create_new(tmp, 0600)) != LEAL_OK) {
        set_msg(l, "cannot create a file in folder %s", parent);
        goto out;
    }
    rc = sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK) {
        set_msg(l, "%s: %s", parent, to ? sqlite3_errmsg(to) : "out of memory");
        err = LEAL_E_IO;
        goto out;
    }
    b = sqlite3_backup_init(to, "main", l->db, "main");
    if (b == NULL) {
        set_msg(l, "%s", sqlite3_errmsg(to));
        err = LEAL_E_IO;
        goto out;
    }
    /* All pages in one step: a consistent snapshot of one read transaction. */
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        set_msg(l, "backup: %s", sqlite3_errstr(rc));
        err =
            (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? LEAL_E_DB_BUSY : LEAL_E_IO;
        goto out;
    }
    /* The copy is a plain rollback-journal file: self-contained, no -wal beside it. */
    rc = sqlite3_exec(to, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        set_msg(l, "backup: %s", sqlite3_errmsg(to));
        err = LEAL_E_IO;
        goto out;
    }
    sqlite3_close(to);
    to = NULL;
    if ((err = file_sync(tmp)) != LEAL_OK) {
        set_msg(l, "cannot sync the copy in folder %s", parent);
        goto out;
    }
    if ((err = file_rename(tmp, dest, replace)) != LEAL_OK) {
        if (err == LEAL_E_EXISTS)
            set_msg(l, "%s already exists", dest);
        else
            set_msg(l, "cannot rename the copy to %s", dest);
        goto out;
    }
out:
    if (to)
        sqlite3_close(to);
    remove_scratch(dir, tmp);
    return err;
}

leal_err ledger_backup(struct ledger *l, const char *dest, bool replace)
{
    if (l == NULL || dest == NULL || dest[0] == '\0')
        return LEAL_E_ARG;
    return copy_db(l, dest, replace);
}

/* ---- Validation helpers ---- */

/* Text a person typed: at most LEDGER_TEXT-1 bytes of valid UTF-8 without
 * control characters or bidirectional controls (host/text.h). */
static leal_err text_ok(struct ledger *l, const char *what, const char *s)
{
    char why[64];
    if (s == NULL)
        return LEAL_OK;
    if (strlen(s) >= LEDGER_TEXT) {
        set_msg(l, "%s is longer than %d bytes", what, LEDGER_TEXT - 1);
        return LEAL_E_TEXT;
    }
    if (text_check(s, why, sizeof why) != LEAL_OK) {
        set_msg(l, "%s: %s", what, why);
        return LEAL_E_TEXT;
    }
    return LEAL_OK;
}

static int empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

leal_err ledger_asset_check(const char *asset)
{
    size_t n;
    if (asset == NULL)
        return LEAL_E_ASSET;
    if (strcmp(asset, "EUR") == 0 || strcmp(asset, "PTS") == 0)
        return LEAL_OK;
    if (strncmp(asset, "STAMP:", 6) != 0)
        return LEAL_E_ASSET;
    for (n = 6; asset[n]; n++) {
        char c = asset[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return LEAL_E_ASSET;
    }
    return n > 6 && n <= 6 + 32 ? LEAL_OK : LEAL_E_ASSET;
}

leal_err ledger_timezone_check(const char *tz)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    unsigned char magic[4];
    struct stat sb;
    size_t n = tz ? strlen(tz) : 0;
    FILE *f;
    int fd, ok;
    if (n == 0 || n > 64 || tz[0] == '/')
        return LEAL_E_TIMEZONE;
    /* Names as the tz database spells them: no "." or ".." component, so a
     * name never leaves the zoneinfo folder. */
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || c == '/' || c == '.'))
            return LEAL_E_TIMEZONE;
        if (c == '.' && (i == 0 || tz[i - 1] == '/'))
            return LEAL_E_TIMEZONE;
    }
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", tz);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return LEAL_E_TIMEZONE;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (f = fdopen(fd, "rb")) == NULL) {
        close(fd);
        return LEAL_E_TIMEZONE;
    }
    ok = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok ? LEAL_OK : LEAL_E_TIMEZONE;
}

static const char *const system_namespaces[] = {LEDGER_SYSTEM_NAMESPACES};

bool ledger_request_id_reserved(const char *request_id)
{
    for (size_t i = 0; request_id && i < sizeof system_namespaces / sizeof system_namespaces[0];
         i++)
        if (strncmp(request_id, system_namespaces[i], strlen(system_namespaces[i])) == 0)
            return true;
    return false;
}

static int64_t now(void)
{
    return (int64_t)time(NULL);
}

leal_err ledger_points_for_spend(int64_t spend_cents, int64_t points_per_euro_milli,
                                 int64_t *points)
{
    /* One rounding rule for the host and the terminals: the rules engine's. */
    return rules_points_for_spend(spend_cents, points_per_euro_milli, points);
}

/* ---- Programs, stores, terminals ---- */

static const char *program_kind_name(enum ledger_program_kind k)
{
    switch (k) {
    case LEDGER_PROGRAM_SINGLE:
        return "single";
    case LEDGER_PROGRAM_CHAIN:
        return "chain";
    case LEDGER_PROGRAM_COLLECTIVE:
        return "collective";
    }
    return NULL;
}

static const char *const program_accounts[] = {LEDGER_PROGRAM_ACCOUNTS};

/* 0 <= classic <= purse <= LEDGER_PURSE_CAP_MAX (the schema checks it too). */
static leal_err caps_ok(struct ledger *l, int64_t purse, int64_t classic)
{
    if (purse < 0 || purse > LEDGER_PURSE_CAP_MAX) {
        set_msg(l, "purse cap %lld cents (0..%d)", (long long)purse, LEDGER_PURSE_CAP_MAX);
        return LEAL_E_AMOUNT_RANGE;
    }
    if (classic < 0 || classic > purse) {
        set_msg(l, "Classic stored-value cap %lld cents is above the purse cap %lld",
                (long long)classic, (long long)purse);
        return LEAL_E_AMOUNT_RANGE;
    }
    return LEAL_OK;
}

static leal_err limits_ok(struct ledger *l, int64_t cents, int64_t units)
{
    if (cents < 1 || cents > AMOUNT_MAX_CENTS || units < 1 || units > AMOUNT_MAX_UNITS) {
        set_msg(l, "limits per operation: 0.01 to 99999999999.99 euros, 1 to %lld units",
                (long long)AMOUNT_MAX_UNITS);
        return LEAL_E_AMOUNT_RANGE;
    }
    return LEAL_OK;
}

leal_err ledger_program_set_limits(struct ledger *l, int64_t id, int64_t max_cents_per_operation,
                                   int64_t max_units_per_operation)
{
    leal_err err;
    if ((err = limits_ok(l, max_cents_per_operation, max_units_per_operation)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = exec_i64(l,
                   "UPDATE program SET max_cents_per_operation = ?2, max_units_per_operation = ?3 "
                   "WHERE id = ?1",
                   I64S(id, max_cents_per_operation, max_units_per_operation));
    if (err == LEAL_OK && sqlite3_changes(l->db) != 1) {
        set_msg(l, "program %lld", (long long)id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return tx_end(l, err);
}

leal_err ledger_program_limit_check(struct ledger *l, int64_t program_id, const char *asset,
                                    int64_t amount)
{
    struct ledger_program p;
    char text[AMOUNT_FORMAT_MAX];
    leal_err err;
    int eur = asset && strcmp(asset, "EUR") == 0;
    int64_t limit, mag = amount < 0 ? -amount : amount;
    if ((err = ledger_program_get(l, program_id, &p)) != LEAL_OK)
        return err;
    limit = eur ? p.max_cents_per_operation : p.max_units_per_operation;
    if (mag <= limit)
        return LEAL_OK;
    if (eur)
        set_msg(l, "program %lld allows %s EUR in one operation", (long long)program_id,
                amount_text(limit, text));
    else
        set_msg(l, "program %lld allows %lld %s in one operation", (long long)program_id,
                (long long)limit, asset ? asset : "");
    return LEAL_E_OVER_LIMIT;
}

leal_err ledger_program_create(struct ledger *l, const struct ledger_program *p, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    int64_t pid, max_cents, max_units;
    const char *kind = program_kind_name(p->kind);

    *id = 0;
    if (kind == NULL || p->id < 0 || p->id > 4294967295LL || empty(p->code) || empty(p->name) ||
        p->points_per_euro_milli < 0 || p->points_per_euro_milli > 1000000000 ||
        p->points_expiry_days < 0 || p->points_expiry_days > 36500)
        return LEAL_E_ARG;
    if ((err = caps_ok(l, p->purse_cap_cents, p->classic_stored_value_cap_cents)) != LEAL_OK)
        return err;
    max_cents = p->max_cents_per_operation ? p->max_cents_per_operation
                                           : LEDGER_MAX_CENTS_PER_OPERATION_DEFAULT;
    max_units = p->max_units_per_operation ? p->max_units_per_operation
                                           : LEDGER_MAX_UNITS_PER_OPERATION_DEFAULT;
    if ((err = limits_ok(l, max_cents, max_units)) != LEAL_OK)
        return err;
    if ((err = text_ok(l, "program code", p->code)) != LEAL_OK ||
        (err = text_ok(l, "program name", p->name)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = prep_once(l,
                    "INSERT INTO program(id, code, name, kind, points_per_euro_milli, "
                    "points_expiry_days, created_at, purse_cap_cents, "
                    "classic_stored_value_cap_cents, max_cents_per_operation, "
                    "max_units_per_operation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                    "?11)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    bind_int_or_null(st, 1, p->id);
    sqlite3_bind_text(st, 2, p->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, p->points_per_euro_milli);
    sqlite3_bind_int64(st, 6, p->points_expiry_days);
    sqlite3_bind_int64(st, 7, now());
    sqlite3_bind_int64(st, 8, p->purse_cap_cents);
    sqlite3_bind_int64(st, 9, p->classic_stored_value_cap_cents);
    sqlite3_bind_int64(st, 10, max_cents);
    sqlite3_bind_int64(st, 11, max_units);
    if ((err = step(l, st, NULL)) != LEAL_OK)
        goto out;
    pid = sqlite3_last_insert_rowid(l->db);
    sqlite3_finalize(st);
    err = prep_once(l,
                    "INSERT INTO account(program_id, kind, name, created_at) "
                    "VALUES (?1, 'program', ?2, ?3)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    for (size_t i = 0; i < sizeof program_accounts / sizeof program_accounts[0]; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, pid);
        sqlite3_bind_text(st, 2, program_accounts[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now());
        if ((err = step(l, st, NULL)) != LEAL_OK)
            goto out;
    }
    *id = pid;
out:
    sqlite3_finalize(st);
    return tx_end_id(l, err, id);
}

leal_err ledger_program_get(struct ledger *l, int64_t id, struct ledger_program *out)
{
    sqlite3_stmt *st;
    char kind[16];
    leal_err err;
    memset(out, 0, sizeof *out);
    err = find_row(l,
                   "SELECT id, code, name, kind, points_per_euro_milli, points_expiry_days, "
                   "purse_cap_cents, classic_stored_value_cap_cents, max_cents_per_operation, "
                   "max_units_per_operation FROM program WHERE id = ?1",
                   id, "program", &st);
    if (err == LEAL_OK) {
        out->id = sqlite3_column_int64(st, 0);
        col_text(st, 1, out->code, sizeof out->code);
        col_text(st, 2, out->name, sizeof out->name);
        col_text(st, 3, kind, sizeof kind);
        out->kind = strcmp(kind, "single") == 0  ? LEDGER_PROGRAM_SINGLE
                    : strcmp(kind, "chain") == 0 ? LEDGER_PROGRAM_CHAIN
                                                 : LEDGER_PROGRAM_COLLECTIVE;
        out->points_per_euro_milli = sqlite3_column_int64(st, 4);
        out->points_expiry_days = sqlite3_column_int64(st, 5);
        out->purse_cap_cents = sqlite3_column_int64(st, 6);
        out->classic_stored_value_cap_cents = sqlite3_column_int64(st, 7);
        out->max_cents_per_operation = sqlite3_column_int64(st, 8);
        out->max_units_per_operation = sqlite3_column_int64(st, 9);
    }
    sqlite3_finalize(st);
    return err;
}

/* Under the write lock: how many accounts with a live Classic card, and open
 * Classic top-ups, would hold more than cap. */
static leal_err classic_over_cap(struct ledger *l, int64_t program, int64_t cap, int64_t *n)
{
    return query_int(
        l,
        "SELECT (SELECT count(DISTINCT a.id) FROM account a JOIN card c ON c.account_id = a.id "
        "JOIN balance b ON b.account_id = a.id AND b.asset = 'EUR' WHERE a.program_id = ?1 AND "
        "c.tech IN ('classic-1k','classic-4k') AND c.status IN ('active','blocked') AND "
        "b.amount > ?2) + (SELECT count(*) FROM card_pending_topup t JOIN card c ON c.card_id = "
        "t.card_id JOIN account a ON a.id = c.account_id WHERE a.program_id = ?1 AND "
        "t.purse_after > ?2)",
        I64S(program, cap), n);
}

leal_err ledger_program_set_purse(struct ledger *l, int64_t id, int64_t purse_cap_cents,
                                  int64_t classic_stored_value_cap_cents)
{
    struct ledger_program p;
    int64_t over = 0;
    leal_err err;
    if ((err = caps_ok(l, purse_cap_cents, classic_stored_value_cap_cents)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_program_get(l, id, &p)) != LEAL_OK)
        goto out;
    if (classic_stored_value_cap_cents < p.classic_stored_value_cap_cents) {
        if ((err = classic_over_cap(l, id, classic_stored_value_cap_cents, &over)) != LEAL_OK)
            goto out;
        if (over > 0) {
            set_msg(l,
                    "%lld account(s) with a Classic card of program %lld hold more than %lld "
                    "cents",
                    (long long)over, (long long)id, (long long)classic_stored_value_cap_cents);
            err = LEAL_E_PURSE_CAP_HELD;
            goto out;
        }
    }
    err = exec_i64(l,
                   "UPDATE program SET purse_cap_cents = ?2, classic_stored_value_cap_cents = ?3 "
                   "WHERE id = ?1",
                   I64S(id, purse_cap_cents, classic_stored_value_cap_cents));
out:
    return tx_end(l, err);
}

leal_err ledger_program_account(struct ledger *l, int64_t program_id, const char *name,
                                int64_t *account_id)
{
    sqlite3_stmt *st;
    int row;
    leal_err err;
    *account_id = 0;
    err = prep_once(l, "SELECT id FROM account WHERE program_id = ?1 AND name = ?2", &st);
    if (err != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, program_id);
    sqlite3_bind_text(st, 2, name ? name : "", -1, SQLITE_STATIC);
    err = step(l, st, &row);
    if (err == LEAL_OK && !row) {
        set_msg(l, "program %lld has no account '%s'", (long long)program_id, name ? name : "");
        err = LEAL_E_UNKNOWN_ID;
    }
    if (err == LEAL_OK)
        *account_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return err;
}

static leal_err exists(struct ledger *l, enum st id, int64_t key, const char *what);

leal_err ledger_store_add(struct ledger *l, int64_t program_id, const char *code, const char *name,
                          const char *timezone, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    *id = 0;
    if (empty(code) || empty(name) || empty(timezone))
        return LEAL_E_ARG;
    if ((err = text_ok(l, "store code", code)) != LEAL_OK ||
        (err = text_ok(l, "store name", name)) != LEAL_OK)
        return err;
    if (ledger_timezone_check(timezone) != LEAL_OK) {
        set_msg(l, "time zone '%s' is not in the tz database (write it like Europe/Madrid)",
                timezone);
        return LEAL_E_TIMEZONE;
    }
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = exists(l, ST_PROGRAM_EXISTS, program_id, "program")) != LEAL_OK)
        goto out;
    err = prep_once(l,
                    "INSERT INTO store(program_id, code, name, timezone, created_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, program_id);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, timezone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now());
    if ((err = step(l, st, NULL)) == LEAL_OK)
        *id = sqlite3_last_insert_rowid(l->db);
out:
    sqlite3_finalize(st);
    return tx_end_id(l, err, id);
}

leal_err ledger_terminal_add(struct ledger *l, int64_t store_id, const char *name, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    *id = 0;
    if (empty(name))
        return LEAL_E_ARG;
    if ((err = text_ok(l, "terminal name", name)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = exists(l, ST_STORE_GET, store_id, "store")) != LEAL_OK)
        goto out;
    err = prep_once(l, "INSERT INTO terminal(store_id, name, created_at) VALUES (?1, ?2, ?3)", &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, store_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now());
    if ((err = step(l, st, NULL)) == LEAL_OK)
        *id = sqlite3_last_insert_rowid(l->db);
out:
    sqlite3_finalize(st);
    return tx_end_id(l, err, id);
}

leal_err ledger_terminal_new_epoch(struct ledger *l, int64_t terminal_id, int64_t *epoch)
{
    sqlite3_stmt *st;
    leal_err err;
    *epoch = 0;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = find_row(l, "UPDATE terminal SET epoch = epoch + 1 WHERE id = ?1 RETURNING epoch",
                   terminal_id, "terminal", &st);
    if (err == LEAL_OK)
        *epoch = sqlite3_column_int64(st, 0);
    if (err == LEAL_OK)
        err = step(l, st, NULL);
    sqlite3_finalize(st);
    return tx_end_id(l, err, epoch);
}

/* LEAL_OK if a cached single-key lookup finds a row, LEAL_E_UNKNOWN_ID naming what otherwise. */
static leal_err exists(struct ledger *l, enum st id, int64_t key, const char *what)
{
    sqlite3_stmt *st;
    leal_err err = prep(l, id, &st);
    if (err != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, key);
    err = step_found(l, st, what, key);
    sqlite3_reset(st);
    return err;
}

/* ---- Customers ---- */

static int date_ok(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 0, m = 0, d = 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    return 1;
}

static leal_err customer_check(struct ledger *l, const struct ledger_customer *c)
{
    leal_err err;
    if ((err = text_ok(l, "name", c->name)) != LEAL_OK ||
        (err = text_ok(l, "surname", c->surname)) != LEAL_OK ||
        (err = text_ok(l, "e-mail", c->email)) != LEAL_OK ||
        (err = text_ok(l, "phone", c->phone)) != LEAL_OK ||
        (err = text_ok(l, "gender", c->gender)) != LEAL_OK ||
        (err = text_ok(l, "address", c->address)) != LEAL_OK ||
        (err = text_ok(l, "preferences", c->preferences)) != LEAL_OK)
        return err;
    if (c->birth_date[0] && !date_ok(c->birth_date)) {
        set_msg(l, "birth date '%s'", c->birth_date);
        return LEAL_E_DATE;
    }
    return LEAL_OK;
}

/* The search keys of a customer (name, surname, phone): ?11 ?12 ?13. */
struct pii_keys {
    char name[4 * LEDGER_TEXT], surname[4 * LEDGER_TEXT], phone[4 * LEDGER_TEXT];
};

static leal_err pii_keys(struct ledger *l, const struct ledger_customer *c, struct pii_keys *k)
{
    if (text_fold(c->name, k->name, sizeof k->name) != LEAL_OK ||
        text_fold(c->surname, k->surname, sizeof k->surname) != LEAL_OK ||
        text_phone_key(c->phone, k->phone, sizeof k->phone) != LEAL_OK) {
        set_msg(l, "name, surname or phone");
        return LEAL_E_TEXT;
    }
    return LEAL_OK;
}

static void bind_keys(sqlite3_stmt *st, const struct pii_keys *k)
{
    sqlite3_bind_text(st, 11, k->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, k->surname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, k->phone, -1, SQLITE_STATIC);
}

static void bind_pii(sqlite3_stmt *st, const struct ledger_customer *c)
{
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->surname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c->birth_date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, c->gender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, c->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, c->preferences, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, now());
}

leal_err ledger_customer_add(struct ledger *l, const struct ledger_customer *c, int64_t *id,
                             int64_t *account_id)
{
    sqlite3_stmt *st = NULL;
    struct ledger_customer tmp;
    struct pii_keys keys;
    leal_err err;
    *id = 0;
    *account_id = 0;
    if ((err = customer_check(l, c)) != LEAL_OK || (err = pii_keys(l, c, &keys)) != LEAL_OK)
        return err;
    tmp = *c;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = exists(l, ST_PROGRAM_EXISTS, c->program_id, "program")) != LEAL_OK)
        goto out;
    if ((err = exec_i64(l, "INSERT INTO customer(program_id, created_at) VALUES (?1, ?2)",
                        I64S(c->program_id, now()))) != LEAL_OK)
        goto out;
    tmp.id = sqlite3_last_insert_rowid(l->db);
    err = prep_once(l,
                    "INSERT INTO customer_pii(customer_id, name, surname, email, phone, "
                    "birth_date, gender, address, preferences, updated_at, name_key, "
                    "surname_key, phone_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                    "?11, ?12, ?13)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    bind_pii(st, &tmp);
    bind_keys(st, &keys);
    if ((err = step(l, st, NULL)) != LEAL_OK)
        goto out;
    if ((err = exec_i64(l,
                        "INSERT INTO account(program_id, customer_id, kind, created_at) "
                        "VALUES (?1, ?2, 'customer', ?3)",
                        I64S(c->program_id, tmp.id, now()))) != LEAL_OK)
        goto out;
    *id = tmp.id;
    *account_id = sqlite3_last_insert_rowid(l->db);
    err = exec_i64(l, "UPDATE customer SET account_id = ?2 WHERE id = ?1", I64S(*id, *account_id));
out:
    sqlite3_finalize(st);
    err = tx_end(l, err);
    if (err != LEAL_OK) {
        *id = 0;
        *account_id = 0;
    }
    return err;
}

#define CUSTOMER_COLUMNS                                                                           \
    "c.id, c.program_id, c.account_id, "                                                           \
    "c.created_at, p.name, p.surname, p.email, p.phone, p.birth_date, p.gender, p.address, "       \
    "p.preferences FROM customer c JOIN customer_pii p ON p.customer_id = c.id"

static void customer_row(sqlite3_stmt *st, struct ledger_customer *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->program_id = sqlite3_column_int64(st, 1);
    c->account_id = sqlite3_column_int64(st, 2);
    c->created_at = sqlite3_column_int64(st, 3);
    col_text(st, 4, c->name, sizeof c->name);
    col_text(st, 5, c->surname, sizeof c->surname);
    col_text(st, 6, c->email, sizeof c->email);
    col_text(st, 7, c->phone, sizeof c->phone);
    col_text(st, 8, c->birth_date, sizeof c->birth_date);
    col_text(st, 9, c->gender, sizeof c->gender);
    col_text(st, 10, c->address, sizeof c->address);
    col_text(st, 11, c->preferences, sizeof c->preferences);
}

leal_err ledger_customer_get(struct ledger *l, int64_t id, struct ledger_customer *out)
{
    sqlite3_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    err = find_row(l, "SELECT " CUSTOMER_COLUMNS " WHERE c.id = ?1", id, "customer", &st);
    if (err == LEAL_OK)
        customer_row(st, out);
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_customer_update(struct ledger *l, const struct ledger_customer *c)
{
    sqlite3_stmt *st = NULL;
    struct pii_keys keys;
    leal_err err;
    if ((err = customer_check(l, c)) != LEAL_OK || (err = pii_keys(l, c, &keys)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = prep_once(l,
                    "UPDATE customer_pii SET name = ?2, surname = ?3, email = ?4, phone = ?5, "
                    "birth_date = ?6, gender = ?7, address = ?8, preferences = ?9, updated_at = "
                    "?10, name_key = ?11, surname_key = ?12, phone_key = ?13 WHERE customer_id = "
                    "?1",
                    &st);
    if (err != LEAL_OK)
        goto out;
    bind_pii(st, c);
    bind_keys(st, &keys);
    if ((err = step(l, st, NULL)) != LEAL_OK)
        goto out;
    if (sqlite3_changes(l->db) != 1) {
        set_msg(l, "customer %lld", (long long)c->id);
        err = LEAL_E_UNKNOWN_ID;
    }
out:
    sqlite3_finalize(st);
    return tx_end(l, err);
}

/* Each search form is served by an index (schema.c): the name and surname
 * keys, the phone key and the e-mail on customer_pii, card_id (primary key)
 * and uid on card; ledger_check_plans proves it. The limit is in the SQL
 * (?6, -1 for none). */
static const char *const search_where[] = {
    [LEDGER_SEARCH_EMAIL] = "p.email = ?1",
    [LEDGER_SEARCH_PHONE] = "p.phone_key = ?1",
    [LEDGER_SEARCH_CARD_ID] = "c.id IN (SELECT a.customer_id FROM card k JOIN account a ON "
                              "a.id = k.account_id WHERE k.card_id = ?2)",
    [LEDGER_SEARCH_UID] = "c.id IN (SELECT a.customer_id FROM card k JOIN account a ON a.id "
                          "= k.account_id WHERE k.uid = ?3)",
    [LEDGER_SEARCH_ALL] = "1",
};

/* A key prefix as an index range [?1, ?1 || U+10FFFF) on one key column, in
 * key order, the program filtered on the way, stopping at the limit. */
#define NAME_ARM(col)                                                                              \
    "SELECT * FROM (SELECT q.customer_id, q." col " AS k FROM customer_pii q JOIN customer r ON "  \
    "r.id = q.customer_id WHERE q." col " >= ?1 AND q." col " < ?5 AND (?4 = 0 OR r.program_id "   \
    "= ?4) ORDER BY q." col " LIMIT ?6)"

/* The first ?6 matches of the name and of the surname, merged: the first ?6
 * of their union by the key that matched (a customer once). */
#define NAME_SEARCH_SQL                                                                            \
    "SELECT " CUSTOMER_COLUMNS " JOIN (SELECT customer_id, min(k) AS k FROM (" NAME_ARM(           \
        "name_key") " UNION ALL " NAME_ARM("surname_key") ") GROUP BY customer_id) matched ON "    \
                                                          "matched.customer_id = c.id ORDER BY "   \
                                                          "matched.k, c.id LIMIT ?6"

static void search_sql(enum ledger_search_by by, char *sql, size_t cap)
{
    if (by == LEDGER_SEARCH_NAME) {
        snprintf(sql, cap, "%s", NAME_SEARCH_SQL);
        return;
    }
    snprintf(sql, cap,
             "SELECT " CUSTOMER_COLUMNS " WHERE %s AND (?4 = 0 OR c.program_id = ?4) "
             "ORDER BY c.id LIMIT ?6",
             search_where[by]);
}

leal_err ledger_customer_search(struct ledger *l, int64_t program_id, enum ledger_search_by by,
                                const char *q, size_t limit, ledger_customer_cb cb, void *ctx)
{
    char sql[2048], key[4 * LEDGER_TEXT], end[4 * LEDGER_TEXT + 8];
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len = 0;
    sqlite3_stmt *st;
    leal_err err;
    int64_t card_id = 0;

    if (by < LEDGER_SEARCH_NAME || by > LEDGER_SEARCH_ALL || (by != LEDGER_SEARCH_ALL && empty(q)))
        return LEAL_E_ARG;
    if (q && (err = text_ok(l, "search text", q)) != LEAL_OK)
        return err;
    key[0] = '\0';
    if (by == LEDGER_SEARCH_NAME && text_fold(q, key, sizeof key) != LEAL_OK)
        return LEAL_E_TEXT;
    if (by == LEDGER_SEARCH_PHONE && text_phone_key(q, key, sizeof key) != LEAL_OK)
        return LEAL_E_TEXT;
    snprintf(end, sizeof end, "%s\xf4\x8f\xbf\xbf", key);
    if (by == LEDGER_SEARCH_CARD_ID) {
        char *e;
        long long v = strtoll(q, &e, 10);
        if (*e != '\0' || v <= 0) {
            set_msg(l, "card id '%s'", q);
            return LEAL_E_NUMBER;
        }
        card_id = v;
    }
    if (by == LEDGER_SEARCH_UID) {
        size_t len = strlen(q);
        if (len == 0 || leal_hex_decode(q, len, uid, sizeof uid, &uid_len) != LEAL_OK) {
            set_msg(l, "UID '%s'", q);
            return LEAL_E_NUMBER;
        }
    }
    if ((st = l->search_st[by]) == NULL) {
        search_sql(by, sql, sizeof sql);
        if ((err = prep_once(l, sql, &st)) != LEAL_OK)
            return err;
        l->search_st[by] = st;
    }
    sqlite3_clear_bindings(st);
    if (by == LEDGER_SEARCH_NAME || by == LEDGER_SEARCH_PHONE)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    else if (by == LEDGER_SEARCH_EMAIL)
        sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    if (by == LEDGER_SEARCH_NAME)
        sqlite3_bind_text(st, 5, end, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, card_id);
    if (by == LEDGER_SEARCH_UID)
        sqlite3_bind_blob(st, 3, uid, (int)uid_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, program_id);
    sqlite3_bind_int64(st, 6, limit > 0 && limit < (size_t)INT64_MAX ? (int64_t)limit : -1);
    while (next_row(l, st, &err)) {
        struct ledger_customer c;
        customer_row(st, &c);
        if (cb(ctx, &c) != 0)
            break;
    }
    sqlite3_reset(st); /* kept prepared; its bindings pointed at this frame */
    sqlite3_clear_bindings(st);
    return err;
}

static int channel_ok(const char *c)
{
    static const char *const ch[] = {"email", "sms", "phone", "post", "whatsapp"};
    for (size_t i = 0; c && i < sizeof ch / sizeof ch[0]; i++)
        if (strcmp(c, ch[i]) == 0)
            return 1;
    return 0;
}

leal_err ledger_consent_add(struct ledger *l, int64_t customer_id, const char *channel,
                            bool granted, const char *method, const char *recorded_by, int64_t at)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    if (!channel_ok(channel))
        return LEAL_E_USAGE;
    if (empty(method) || empty(recorded_by))
        return LEAL_E_REASON_REQUIRED;
    if ((err = text_ok(l, "consent method", method)) != LEAL_OK ||
        (err = text_ok(l, "recorded by", recorded_by)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = prep_once(l,
                    "INSERT INTO consent(customer_id, channel, granted, at, method, recorded_by) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, granted ? 1 : 0);
    sqlite3_bind_int64(st, 4, at ? at : now());
    sqlite3_bind_text(st, 5, method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, recorded_by, -1, SQLITE_STATIC);
    err = step(l, st, NULL);
    if (err == LEAL_E_UNKNOWN_ID)
        set_msg(l, "customer %lld", (long long)customer_id);
out:
    sqlite3_finalize(st);
    return tx_end(l, err);
}

leal_err ledger_consent_each(struct ledger *l, int64_t customer_id, ledger_consent_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    leal_err err;
    err = prep_i64(l,
                   "SELECT channel, granted, at, method, recorded_by FROM consent WHERE id IN "
                   "(SELECT max(id) FROM consent WHERE customer_id = ?1 GROUP BY channel) "
                   "ORDER BY channel",
                   &st, I64S(customer_id));
    if (err != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        struct ledger_consent c;
        memset(&c, 0, sizeof c);
        col_text(st, 0, c.channel, sizeof c.channel);
        c.granted = sqlite3_column_int(st, 1) != 0;
        c.at = sqlite3_column_int64(st, 2);
        col_text(st, 3, c.method, sizeof c.method);
        col_text(st, 4, c.recorded_by, sizeof c.recorded_by);
        if (cb(ctx, &c) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

#define NOTES_SQL                                                                                  \
    "SELECT id, at, author, text FROM customer_note WHERE customer_id = ?1 ORDER BY id"

leal_err ledger_note_add(struct ledger *l, int64_t customer_id, const char *author,
                         const char *text, int64_t at)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    if (empty(author) || empty(text))
        return LEAL_E_REASON_REQUIRED;
    if ((err = text_ok(l, "author", author)) != LEAL_OK ||
        (err = text_ok(l, "note", text)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = prep_once(l,
                    "INSERT INTO customer_note(customer_id, at, author, text) VALUES (?1, ?2, ?3, "
                    "?4)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_int64(st, 2, at ? at : now());
    sqlite3_bind_text(st, 3, author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
    err = step(l, st, NULL);
    if (err == LEAL_E_UNKNOWN_ID)
        set_msg(l, "customer %lld", (long long)customer_id);
out:
    sqlite3_finalize(st);
    return tx_end(l, err);
}

leal_err ledger_note_each(struct ledger *l, int64_t customer_id, ledger_note_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    leal_err err = prep_i64(l, NOTES_SQL, &st, I64S(customer_id));
    if (err != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        struct ledger_note n;
        memset(&n, 0, sizeof n);
        n.id = sqlite3_column_int64(st, 0);
        n.at = sqlite3_column_int64(st, 1);
        col_text(st, 2, n.author, sizeof n.author);
        col_text(st, 3, n.text, sizeof n.text);
        if (cb(ctx, &n) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

/* ---- Accounts ---- */

leal_err ledger_account_add(struct ledger *l, int64_t program_id, int64_t customer_id, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    *id = 0;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = exists(l, ST_PROGRAM_EXISTS, program_id, "program")) != LEAL_OK)
        goto out;
    if (customer_id != 0) {
        struct ledger_customer c;
        if ((err = ledger_customer_get(l, customer_id, &c)) != LEAL_OK)
            goto out;
        if (c.program_id != program_id) {
            set_msg(l, "customer %lld is in program %lld", (long long)customer_id,
                    (long long)c.program_id);
            err = LEAL_E_WRONG_PROGRAM;
            goto out;
        }
    }
    err = prep_once(l,
                    "INSERT INTO account(program_id, customer_id, kind, created_at) VALUES (?1, "
                    "?2, ?3, ?4)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, program_id);
    bind_int_or_null(st, 2, customer_id);
    sqlite3_bind_text(st, 3, customer_id ? "customer" : "gift", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now());
    if ((err = step(l, st, NULL)) == LEAL_OK)
        *id = sqlite3_last_insert_rowid(l->db);
out:
    sqlite3_finalize(st);
    return tx_end_id(l, err, id);
}

static enum ledger_account_kind account_kind(const unsigned char *k)
{
    if (k && strcmp((const char *)k, "program") == 0)
        return LEDGER_ACCOUNT_PROGRAM;
    if (k && strcmp((const char *)k, "gift") == 0)
        return LEDGER_ACCOUNT_GIFT;
    return LEDGER_ACCOUNT_CUSTOMER;
}

leal_err ledger_account_get(struct ledger *l, int64_t id, struct ledger_account *out)
{
    sqlite3_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    /* Cached: the journal import looks an account up for every entry. */
    if ((err = prep(l, ST_ACCOUNT_FULL, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, id);
    err = step_found(l, st, "account", id);
    if (err == LEAL_OK) {
        out->id = sqlite3_column_int64(st, 0);
        out->program_id = sqlite3_column_int64(st, 1);
        out->customer_id = sqlite3_column_int64(st, 2);
        out->kind = account_kind(sqlite3_column_text(st, 3));
        col_text(st, 4, out->name, sizeof out->name);
    }
    sqlite3_reset(st);
    return err;
}

leal_err ledger_balance(struct ledger *l, int64_t account_id, const char *asset, int64_t *amount)
{
    sqlite3_stmt *st;
    int row;
    leal_err err;
    *amount = 0;
    if ((err = ledger_asset_check(asset)) != LEAL_OK)
        return err;
    err = prep_once(l, "SELECT amount FROM balance WHERE account_id = ?1 AND asset = ?2", &st);
    if (err != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
    err = step(l, st, &row);
    if (err == LEAL_OK && row)
        *amount = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_balance_each(struct ledger *l, int64_t account_id, ledger_balance_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    leal_err err;
    err = prep_i64(l, "SELECT asset, amount FROM balance WHERE account_id = ?1 ORDER BY asset", &st,
                   I64S(account_id));
    if (err != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        char asset[LEDGER_MAX_ASSET];
        col_text(st, 0, asset, sizeof asset);
        if (cb(ctx, asset, sqlite3_column_int64(st, 1)) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

/* ---- Cards ---- */

static const char *const tech_names[] = {
    [LEDGER_TECH_DESFIRE_EV1] = "desfire-ev1", [LEDGER_TECH_DESFIRE_EV2] = "desfire-ev2",
    [LEDGER_TECH_DESFIRE_EV3] = "desfire-ev3", [LEDGER_TECH_CLASSIC_1K] = "classic-1k",
    [LEDGER_TECH_CLASSIC_4K] = "classic-4k",   [LEDGER_TECH_VIRTUAL_QR] = "virtual-qr",
};
static const char *const status_names[] = {
    [LEDGER_CARD_PENDING] = "pending",   [LEDGER_CARD_ACTIVE] = "active",
    [LEDGER_CARD_BLOCKED] = "blocked",   [LEDGER_CARD_LOST] = "lost",
    [LEDGER_CARD_REPLACED] = "replaced",
};

const char *ledger_card_tech_name(enum ledger_card_tech t)
{
    return t >= LEDGER_TECH_DESFIRE_EV1 && t <= LEDGER_TECH_VIRTUAL_QR ? tech_names[t] : "?";
}

const char *ledger_card_status_name(enum ledger_card_status s)
{
    return s >= LEDGER_CARD_PENDING && s <= LEDGER_CARD_REPLACED ? status_names[s] : "?";
}

leal_err ledger_card_tech_parse(const char *s, enum ledger_card_tech *t)
{
    *t = 0;
    for (int i = LEDGER_TECH_DESFIRE_EV1; s && i <= LEDGER_TECH_VIRTUAL_QR; i++)
        if (strcmp(s, tech_names[i]) == 0) {
            *t = (enum ledger_card_tech)i;
            return LEAL_OK;
        }
    return LEAL_E_USAGE;
}

leal_err ledger_card_status_parse(const char *s, enum ledger_card_status *st)
{
    *st = 0;
    for (int i = LEDGER_CARD_PENDING; s && i <= LEDGER_CARD_REPLACED; i++)
        if (strcmp(s, status_names[i]) == 0) {
            *st = (enum ledger_card_status)i;
            return LEAL_OK;
        }
    return LEAL_E_USAGE;
}

/* Appends to the card's history; inside the caller's transaction. */
static leal_err card_event_add(struct ledger *l, int64_t card_id, enum ledger_card_status status,
                               const char *reason, const char *operator_name)
{
    sqlite3_stmt *st;
    leal_err err = prep_once(l,
                             "INSERT INTO card_event(card_id, at, status, reason, operator) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
                             &st);
    if (err != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, card_id);
    sqlite3_bind_int64(st, 2, now());
    sqlite3_bind_text(st, 3, ledger_card_status_name(status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, operator_name, -1, SQLITE_STATIC);
    err = step(l, st, NULL);
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_add(struct ledger *l, const struct ledger_card *c)
{
    sqlite3_stmt *st = NULL;
    struct ledger_account a;
    leal_err err;
    if (c->card_id <= 0 || c->uid_len > LEAL_MAX_UID ||
        strcmp(ledger_card_tech_name(c->tech), "?") == 0 ||
        strcmp(ledger_card_status_name(c->status), "?") == 0 || c->keyset_version < 0 ||
        c->layout_version < 0 || c->last_counter < 0)
        return LEAL_E_ARG;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_account_get(l, c->account_id, &a)) != LEAL_OK)
        goto out;
    if (a.kind == LEDGER_ACCOUNT_PROGRAM || (c->program_id && c->program_id != a.program_id)) {
        set_msg(l, "account %lld", (long long)c->account_id);
        err = LEAL_E_WRONG_PROGRAM;
        goto out;
    }
    err = prep_once(l,
                    "INSERT INTO card(card_id, account_id, uid, tech, status, keyset_version, "
                    "layout_version, last_counter, issued_at, updated_at) VALUES (?1, ?2, ?3, ?4, "
                    "?5, ?6, ?7, ?8, ?9, ?9)",
                    &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, c->card_id);
    sqlite3_bind_int64(st, 2, c->account_id);
    sqlite3_bind_blob(st, 3, c->uid, (int)c->uid_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ledger_card_tech_name(c->tech), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ledger_card_status_name(c->status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, c->keyset_version);
    sqlite3_bind_int64(st, 7, c->layout_version);
    sqlite3_bind_int64(st, 8, c->last_counter);
    sqlite3_bind_int64(st, 9, c->issued_at ? c->issued_at : now());
    err = step(l, st, NULL);
    if (err == LEAL_E_DUPLICATE_ID)
        set_msg(l, "card %lld", (long long)c->card_id);
    if (err == LEAL_OK)
        err = card_event_add(l, c->card_id, c->status, "issued", "");
out:
    sqlite3_finalize(st);
    return tx_end(l, err);
}

#define CARD_COLUMNS                                                                               \
    "c.card_id, c.account_id, a.program_id, c.uid, c.tech, c.status, c.keyset_version, "           \
    "c.layout_version, c.last_counter, c.issued_at, coalesce(c.seen_at, 0), "                      \
    "coalesce(c.seen_seq, 0), coalesce(c.seen_purse, 0), coalesce(c.seen_points, 0), "             \
    "c.seen_mark, c.synced_entry FROM card c JOIN account a ON a.id = c.account_id"

static void card_row(sqlite3_stmt *st, struct ledger_card *c)
{
    const void *uid = sqlite3_column_blob(st, 3);
    int n = sqlite3_column_bytes(st, 3);
    char t[32];
    memset(c, 0, sizeof *c);
    c->card_id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    c->program_id = sqlite3_column_int64(st, 2);
    if (uid && n > 0 && (size_t)n <= sizeof c->uid) {
        memcpy(c->uid, uid, (size_t)n);
        c->uid_len = (size_t)n;
    }
    col_text(st, 4, t, sizeof t);
    if (ledger_card_tech_parse(t, &c->tech) != LEAL_OK)
        c->tech = 0;
    col_text(st, 5, t, sizeof t);
    if (ledger_card_status_parse(t, &c->status) != LEAL_OK)
        c->status = 0;
    c->keyset_version = sqlite3_column_int64(st, 6);
    c->layout_version = sqlite3_column_int64(st, 7);
    c->last_counter = sqlite3_column_int64(st, 8);
    c->issued_at = sqlite3_column_int64(st, 9);
    c->seen_at = sqlite3_column_int64(st, 10);
    c->seen_seq = sqlite3_column_int64(st, 11);
    c->seen_purse_cents = sqlite3_column_int64(st, 12);
    c->seen_points = sqlite3_column_int64(st, 13);
    if (sqlite3_column_bytes(st, 14) == LEDGER_CARD_MARK_LEN) {
        memcpy(c->seen_mark, sqlite3_column_blob(st, 14), LEDGER_CARD_MARK_LEN);
        c->has_seen_mark = true;
    }
    c->synced_entry = sqlite3_column_int64(st, 15);
}

leal_err ledger_card_find_by_id(struct ledger *l, int64_t card_id, struct ledger_card *out)
{
    sqlite3_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    err = find_row(l, "SELECT " CARD_COLUMNS " WHERE c.card_id = ?1", card_id, "card", &st);
    if (err == LEAL_OK)
        card_row(st, out);
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_each_of_account(struct ledger *l, int64_t account_id, ledger_card_cb cb,
                                     void *ctx)
{
    sqlite3_stmt *st;
    leal_err err;
    if ((err = prep_i64(l, "SELECT " CARD_COLUMNS " WHERE c.account_id = ?1 ORDER BY c.card_id",
                        &st, I64S(account_id))) != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        struct ledger_card c;
        card_row(st, &c);
        if (cb(ctx, &c) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

static int status_change_ok(enum ledger_card_status from, enum ledger_card_status to)
{
    switch (from) {
    case LEDGER_CARD_PENDING:
        return to != LEDGER_CARD_PENDING;
    case LEDGER_CARD_ACTIVE:
        return to == LEDGER_CARD_BLOCKED || to == LEDGER_CARD_LOST || to == LEDGER_CARD_REPLACED;
    case LEDGER_CARD_BLOCKED:
        return to == LEDGER_CARD_ACTIVE || to == LEDGER_CARD_LOST || to == LEDGER_CARD_REPLACED;
    case LEDGER_CARD_LOST:
        return to == LEDGER_CARD_REPLACED;
    case LEDGER_CARD_REPLACED:
        return 0;
    }
    return 0;
}

/* Reads the card under the write lock and updates it: the check and the
 * change are one transaction. */
static leal_err card_update(struct ledger *l, int64_t card_id, int status, int64_t counter,
                            const char *reason, const char *operator_name)
{
    sqlite3_stmt *st = NULL;
    struct ledger_card c;
    leal_err err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        goto out;
    if (status && !status_change_ok(c.status, (enum ledger_card_status)status)) {
        set_msg(l, "card %lld is %s", (long long)card_id, ledger_card_status_name(c.status));
        err = LEAL_E_CARD_STATUS_CHANGE;
        goto out;
    }
    if (!status && counter < c.last_counter) {
        set_msg(l, "card %lld counter %lld is below the known %lld", (long long)card_id,
                (long long)counter, (long long)c.last_counter);
        err = LEAL_E_CARD_TAMPERED;
        goto out;
    }
    err = prep_once(l,
                    status ? "UPDATE card SET status = ?2, updated_at = ?3 WHERE card_id = ?1"
                           : "UPDATE card SET last_counter = ?2, updated_at = ?3 WHERE card_id = "
                             "?1",
                    &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, card_id);
    if (status)
        sqlite3_bind_text(st, 2, ledger_card_status_name((enum ledger_card_status)status), -1,
                          SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, counter);
    sqlite3_bind_int64(st, 3, now());
    err = step(l, st, NULL);
    if (err == LEAL_OK && status)
        err = card_event_add(l, card_id, (enum ledger_card_status)status, reason, operator_name);
out:
    sqlite3_finalize(st);
    return tx_end(l, err);
}

leal_err ledger_card_set_uid(struct ledger *l, int64_t card_id, const uint8_t *uid, size_t uid_len)
{
    sqlite3_stmt *st = NULL;
    struct ledger_card c;
    leal_err err;
    if (uid == NULL || uid_len == 0 || uid_len > LEAL_MAX_UID)
        return LEAL_E_ARG;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        goto out;
    /* Only while issuing: afterwards the UID is evidence, not a setting. */
    if (c.status != LEDGER_CARD_PENDING) {
        set_msg(l, "card %lld is %s", (long long)card_id, ledger_card_status_name(c.status));
        err = LEAL_E_CARD_STATUS_CHANGE;
        goto out;
    }
    if ((err = prep_once(l, "UPDATE card SET uid = ?2, updated_at = ?3 WHERE card_id = ?1", &st)) !=
        LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, card_id);
    sqlite3_bind_blob(st, 2, uid, (int)uid_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now());
    err = step(l, st, NULL);
out:
    sqlite3_finalize(st);
    return tx_end(l, err);
}

leal_err ledger_card_set_status(struct ledger *l, int64_t card_id, enum ledger_card_status status)
{
    if (strcmp(ledger_card_status_name(status), "?") == 0)
        return LEAL_E_ARG;
    return ledger_card_change_status(l, card_id, status, "", "");
}

leal_err ledger_card_change_status(struct ledger *l, int64_t card_id,
                                   enum ledger_card_status status, const char *reason,
                                   const char *operator_name)
{
    leal_err err;
    if (strcmp(ledger_card_status_name(status), "?") == 0 || reason == NULL ||
        operator_name == NULL)
        return LEAL_E_ARG;
    if ((err = text_ok(l, "reason", reason)) != LEAL_OK ||
        (err = text_ok(l, "operator", operator_name)) != LEAL_OK)
        return err;
    return card_update(l, card_id, (int)status, 0, reason, operator_name);
}

leal_err ledger_card_set_counter(struct ledger *l, int64_t card_id, int64_t counter)
{
    if (counter < 0)
        return LEAL_E_ARG;
    return card_update(l, card_id, 0, counter, NULL, NULL);
}

leal_err ledger_card_set_seen(struct ledger *l, int64_t card_id, int64_t seq, int64_t purse_cents,
                              int64_t points)
{
    leal_err err;
    if (seq < 0 || purse_cents < 0 || points < 0)
        return LEAL_E_ARG;
    err = exec_i64(l,
                   "UPDATE card SET seen_at = ?2, seen_seq = ?3, seen_purse = ?4, seen_points = "
                   "?5 WHERE card_id = ?1",
                   I64S(card_id, now(), seq, purse_cents, points));
    if (err == LEAL_OK && sqlite3_changes(l->db) == 0) {
        set_msg(l, "card %lld", (long long)card_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

leal_err ledger_card_set_seen_mark(struct ledger *l, int64_t card_id, int64_t seq,
                                   int64_t purse_cents, int64_t points,
                                   const uint8_t mark[LEDGER_CARD_MARK_LEN])
{
    sqlite3_stmt *st;
    leal_err err;
    if (mark == NULL || seq < 0 || purse_cents < 0 || points < 0)
        return LEAL_E_ARG;
    if ((err = prep_i64(l,
                        "UPDATE card SET seen_at = ?2, seen_seq = ?3, seen_purse = ?4, "
                        "seen_points = ?5, seen_mark = ?6 WHERE card_id = ?1",
                        &st, I64S(card_id, now(), seq, purse_cents, points))) != LEAL_OK)
        return err;
    sqlite3_bind_blob(st, 6, mark, LEDGER_CARD_MARK_LEN, SQLITE_STATIC);
    err = step(l, st, NULL);
    if (err == LEAL_OK && sqlite3_changes(l->db) == 0) {
        set_msg(l, "card %lld", (long long)card_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    sqlite3_finalize(st);
    return err;
}

/* Whether the card's newest event already has this status and reason. */
static leal_err newest_event_says(struct ledger *l, int64_t card_id, enum ledger_card_status status,
                                  const char *reason, bool *says)
{
    sqlite3_stmt *st;
    int row;
    leal_err err;
    *says = false;
    if ((err = prep_once(l,
                         "SELECT status, reason FROM card_event WHERE card_id = ?1 ORDER BY id "
                         "DESC LIMIT 1",
                         &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, card_id);
    if ((err = step(l, st, &row)) == LEAL_OK && row) {
        const unsigned char *s = sqlite3_column_text(st, 0), *r = sqlite3_column_text(st, 1);
        *says = s && r && strcmp((const char *)s, ledger_card_status_name(status)) == 0 &&
                strcmp((const char *)r, reason) == 0;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_verdict(struct ledger *l, int64_t card_id, const char *reason,
                             const char *operator_name, bool *blocked)
{
    struct ledger_card c;
    bool says;
    leal_err err;
    *blocked = false;
    if (reason == NULL || reason[0] == '\0' || operator_name == NULL)
        return LEAL_E_ARG;
    if ((err = text_ok(l, "reason", reason)) != LEAL_OK ||
        (err = text_ok(l, "operator", operator_name)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        return tx_end(l, err);
    if (c.status == LEDGER_CARD_PENDING) {
        set_msg(l, "card %lld is %s", (long long)card_id, ledger_card_status_name(c.status));
        return tx_end(l, LEAL_E_CARD_STATUS_CHANGE);
    }
    if (c.status == LEDGER_CARD_ACTIVE) {
        err = exec_i64(l, "UPDATE card SET status = 'blocked', updated_at = ?2 WHERE card_id = ?1",
                       I64S(card_id, now()));
        if (err == LEAL_OK)
            err = card_event_add(l, card_id, LEDGER_CARD_BLOCKED, reason, operator_name);
        *blocked = err == LEAL_OK;
    } else if ((err = newest_event_says(l, card_id, c.status, reason, &says)) == LEAL_OK && !says) {
        err = card_event_add(l, card_id, c.status, reason, operator_name);
    }
    err = tx_end(l, err);
    if (err != LEAL_OK)
        *blocked = false;
    return err;
}

/* ---- Card key versions (KEYS.md rotation) ---- */

#define CARD_KEYS_SQL "SELECT role, version FROM card_key WHERE card_id = ?1"
/* Live cards of a program on a role's version, and those with none recorded. */
#define CARD_KEYS_COUNT_SQL                                                                        \
    "SELECT count(*), count(*) FILTER (WHERE k.version IS NULL) FROM card c JOIN account a ON "    \
    "a.id = c.account_id LEFT JOIN card_key k ON k.card_id = c.card_id AND k.role = ?2 WHERE "     \
    "a.program_id = ?1 AND c.status IN ('pending','active','blocked') AND (k.version IS NULL OR "  \
    "k.version = ?3)"

leal_err ledger_card_keys_get(struct ledger *l, int64_t card_id, uint8_t versions[LEDGER_KEY_ROLES])
{
    sqlite3_stmt *st;
    int row = 0;
    leal_err err = prep_i64(l, CARD_KEYS_SQL, &st, I64S(card_id));
    memset(versions, 0, LEDGER_KEY_ROLES);
    while (err == LEAL_OK && (err = step(l, st, &row)) == LEAL_OK && row) {
        int64_t role = sqlite3_column_int64(st, 0), version = sqlite3_column_int64(st, 1);
        if (role >= 1 && role <= LEDGER_KEY_ROLES && version >= 1 && version <= 255)
            versions[role - 1] = (uint8_t)version;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_keys_set(struct ledger *l, int64_t card_id,
                              const uint8_t versions[LEDGER_KEY_ROLES])
{
    sqlite3_stmt *st;
    leal_err err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = find_row(l, "SELECT 1 FROM card WHERE card_id = ?1", card_id, "card", &st);
    sqlite3_finalize(st);
    for (int r = 0; err == LEAL_OK && r < LEDGER_KEY_ROLES; r++)
        if (versions[r] != 0)
            err = exec_i64(l,
                           "INSERT INTO card_key(card_id, role, version) VALUES (?1, ?2, ?3) ON "
                           "CONFLICT (card_id, role) DO UPDATE SET version = excluded.version",
                           I64S(card_id, r + 1, versions[r]));
    return tx_end(l, err);
}

leal_err ledger_card_keys_count(struct ledger *l, int64_t program_id, int role, int version,
                                int64_t *cards, int64_t *unknown)
{
    sqlite3_stmt *st;
    int row = 0;
    leal_err err = prep_i64(l, CARD_KEYS_COUNT_SQL, &st, I64S(program_id, role, version));
    *cards = *unknown = 0;
    if (err == LEAL_OK && (err = step(l, st, &row)) == LEAL_OK && row) {
        *cards = sqlite3_column_int64(st, 0);
        *unknown = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return err;
}

#define CARD_REWRITE_SQL                                                                           \
    "SELECT r.card_id, r.span FROM card c JOIN card_identity_rewrite r ON r.card_id = c.card_id "  \
    "WHERE c.uid = ?1 AND c.status IN ('pending','active','blocked') ORDER BY r.created_at DESC, " \
    "r.card_id DESC LIMIT 1 OFFSET ?2"

leal_err ledger_card_rewrite_put(struct ledger *l, int64_t card_id, const uint8_t *span, size_t len)
{
    sqlite3_stmt *st;
    leal_err err;
    if (span == NULL || len == 0 || len > 256)
        return LEAL_E_ARG;
    if ((err = prep_once(l,
                         "INSERT INTO card_identity_rewrite(card_id, span, created_at) VALUES (?1, "
                         "?2, ?3) ON CONFLICT (card_id) DO UPDATE SET span = excluded.span, "
                         "created_at = excluded.created_at",
                         &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, card_id);
    sqlite3_bind_blob(st, 2, span, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now());
    err = step(l, st, NULL);
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_rewrite_find(struct ledger *l, const uint8_t *uid, size_t uid_len, int nth,
                                  int64_t *card_id, uint8_t *span, size_t cap, size_t *len)
{
    sqlite3_stmt *st;
    int row = 0;
    leal_err err;
    *card_id = 0;
    *len = 0;
    if (uid == NULL || uid_len == 0 || uid_len > LEAL_MAX_UID || nth < 0)
        return LEAL_E_ARG;
    if ((err = prep_once(l, CARD_REWRITE_SQL, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_blob(st, 1, uid, (int)uid_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, nth);
    if ((err = step(l, st, &row)) == LEAL_OK && row) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (n <= cap) {
            *card_id = sqlite3_column_int64(st, 0);
            memcpy(span, sqlite3_column_blob(st, 1), n);
            *len = n;
        }
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_rewrite_drop(struct ledger *l, int64_t card_id)
{
    return exec_i64(l, "DELETE FROM card_identity_rewrite WHERE card_id = ?1", I64S(card_id));
}

leal_err ledger_terminal_program(struct ledger *l, int64_t terminal_id, int64_t *program_id)
{
    sqlite3_stmt *st;
    leal_err err = find_row(l,
                            "SELECT s.program_id FROM terminal t JOIN store s ON s.id = "
                            "t.store_id WHERE t.id = ?1",
                            terminal_id, "terminal", &st);
    *program_id = err == LEAL_OK ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return err;
}

#define CARD_EVENT_COLUMNS "e.id, e.card_id, e.at, e.status, e.reason, e.operator"
#define CARD_HISTORY_SQL                                                                           \
    "SELECT " CARD_EVENT_COLUMNS " FROM card_event e WHERE e.card_id = ?1 ORDER BY e.id"
/* The newest event of each hot card; card_hot serves the status test. */
#define CARD_HOTLIST_SQL                                                                           \
    "SELECT " CARD_EVENT_COLUMNS " FROM card c JOIN account a ON a.id = c.account_id"              \
    " JOIN card_event e ON e.id = (SELECT max(id) FROM card_event WHERE card_id = c.card_id)"      \
    " WHERE c.status IN ('blocked','lost','replaced') AND a.program_id = ?1 ORDER BY c.card_id"

static void card_event_row(sqlite3_stmt *st, struct ledger_card_event *e)
{
    char t[32];
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->card_id = sqlite3_column_int64(st, 1);
    e->at = sqlite3_column_int64(st, 2);
    col_text(st, 3, t, sizeof t);
    if (ledger_card_status_parse(t, &e->status) != LEAL_OK)
        e->status = 0;
    col_text(st, 4, e->reason, sizeof e->reason);
    col_text(st, 5, e->operator_name, sizeof e->operator_name);
}

static leal_err card_events(struct ledger *l, const char *sql, int64_t key, ledger_card_event_cb cb,
                            void *ctx)
{
    sqlite3_stmt *st;
    leal_err err;
    if ((err = prep_i64(l, sql, &st, I64S(key))) != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        struct ledger_card_event e;
        card_event_row(st, &e);
        if (cb(ctx, &e) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_history(struct ledger *l, int64_t card_id, ledger_card_event_cb cb, void *ctx)
{
    struct ledger_card c;
    leal_err err = ledger_card_find_by_id(l, card_id, &c);
    if (err != LEAL_OK)
        return err;
    return card_events(l, CARD_HISTORY_SQL, card_id, cb, ctx);
}

leal_err ledger_card_hotlist(struct ledger *l, int64_t program_id, ledger_card_event_cb cb,
                             void *ctx)
{
    return card_events(l, CARD_HOTLIST_SQL, program_id, cb, ctx);
}

/* ---- The journal ---- */

static const char *const entry_kinds[] = {"adjust", "earn", "redeem", "topup",     "spend",
                                          "refund", "void", "expire", "gift_sale", "transfer"};

static int kind_ok(const char *k)
{
    for (size_t i = 0; k && i < sizeof entry_kinds / sizeof entry_kinds[0]; i++)
        if (strcmp(k, entry_kinds[i]) == 0)
            return 1;
    return 0;
}

/* Checks an entry before any database work: key form, texts, assets,
 * amounts, and that every asset's lines sum to zero. */
static leal_err entry_check(struct ledger *l, const struct ledger_entry *e)
{
    leal_err err;
    if (e->program_id <= 0 || !kind_ok(e->kind) || e->lines == NULL || e->at < 0 ||
        e->store_id < 0 || e->terminal_id < 0 || e->reverses < 0 || e->card_id < 0) {
        set_msg(l, "malformed entry");
        return LEAL_E_ARG;
    }
    if (e->nlines < 2 || e->nlines > LEDGER_MAX_LINES) {
        set_msg(l, "an entry has 2 to %d lines, not %zu", LEDGER_MAX_LINES, e->nlines);
        return LEAL_E_UNBALANCED;
    }
    /* Exactly one idempotency key. */
    if (empty(e->request_id) == (e->terminal_id == 0) ||
        (e->terminal_id != 0 && (e->terminal_epoch < 1 || e->terminal_seq < 0))) {
        set_msg(l, "an entry needs either a request id or terminal id, epoch and sequence");
        return LEAL_E_ARG;
    }
    if (!empty(e->request_id) && strlen(e->request_id) > MAX_REQUEST_ID) {
        set_msg(l, "request id longer than %d", MAX_REQUEST_ID);
        return LEAL_E_TEXT;
    }
    if ((err = text_ok(l, "request id", e->request_id)) != LEAL_OK ||
        (err = text_ok(l, "operator", e->operator_name)) != LEAL_OK ||
        (err = text_ok(l, "reason", e->reason)) != LEAL_OK ||
        (err = text_ok(l, "reference", e->reference)) != LEAL_OK)
        return err;
    /* Every movement says why and who (DESIGN.md): a reason, and an operator
     * unless a terminal recorded it. */
    if (empty(e->reason) || (empty(e->operator_name) && e->terminal_id == 0)) {
        set_msg(l, "entry without %s", empty(e->reason) ? "reason" : "operator");
        return LEAL_E_REASON_REQUIRED;
    }
    if ((strcmp(e->kind, "void") == 0 || strcmp(e->kind, "refund") == 0) && e->reverses == 0) {
        set_msg(l, "a %s names the entry it reverses", e->kind);
        return LEAL_E_ARG;
    }
    if (e->spend_cents < -AMOUNT_MAX_CENTS || e->spend_cents > AMOUNT_MAX_CENTS) {
        set_msg(l, "qualifying spend");
        return LEAL_E_AMOUNT_RANGE;
    }
    for (size_t i = 0; i < e->nlines; i++) {
        const struct ledger_line *ln = &e->lines[i];
        if (memchr(ln->asset, '\0', sizeof ln->asset) == NULL ||
            ledger_asset_check(ln->asset) != LEAL_OK) {
            set_msg(l, "line %zu", i + 1);
            return LEAL_E_ASSET;
        }
        if (ln->amount == 0 || ln->account_id <= 0 || ln->expires_at < 0) {
            set_msg(l, "line %zu: %s", i + 1, ln->amount == 0 ? "amount is zero" : "malformed");
            return ln->amount == 0 ? LEAL_E_AMOUNT : LEAL_E_ARG;
        }
        if (ln->amount < -AMOUNT_MAX_CENTS || ln->amount > AMOUNT_MAX_CENTS) {
            set_msg(l, "line %zu", i + 1);
            return LEAL_E_AMOUNT_RANGE;
        }
    }
    for (size_t i = 0; i < e->nlines; i++) {
        const struct ledger_line *ln = &e->lines[i];
        int64_t sum = 0;
        /* Sum this asset once, at its first line; |sum| stays far inside int64. */
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->lines[j].asset, ln->asset) == 0)
                goto next;
        for (size_t j = i; j < e->nlines; j++)
            if (strcmp(e->lines[j].asset, ln->asset) == 0)
                sum += e->lines[j].amount;
        if (sum != 0) {
            set_msg(l, "%s lines sum to %lld", ln->asset, (long long)sum);
            return LEAL_E_UNBALANCED;
        }
    next:;
    }
    return LEAL_OK;
}

static leal_err put_i64(struct buf_writer *w, int64_t v)
{
    return buf_put_be64(w, (uint64_t)v);
}

static leal_err put_str(struct buf_writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    leal_err err = buf_put_be32(w, (uint32_t)n);
    return err == LEAL_OK && n ? buf_put_bytes(w, (const uint8_t *)s, n) : err;
}

/*
 * The entry's content hash: SHA-256 over this canonical encoding, as
 * lowercase hex. Integers are 8-byte big-endian two's complement; strings a
 * 4-byte big-endian length then their bytes (NULL and "" are the same).
 *   "leal-entry-v1" program_id kind at store_id terminal_id terminal_epoch
 *   terminal_seq request_id operator reason reference spend_cents reverses
 *   card_id nlines (account_id asset amount expires_at)*nlines
 * Fields are as the caller gave them (at = 0 means "now" and is hashed as 0),
 * lines in the caller's order: "the same content" is exactly this byte string.
 */
static leal_err entry_hash(const struct ledger_entry *e, char hex[65])
{
    static const char magic[] = "leal-entry-v1";
    uint8_t enc[16 + 15 * 8 + 5 * (4 + LEDGER_TEXT) +
                LEDGER_MAX_LINES * (3 * 8 + 4 + LEDGER_MAX_ASSET)];
    uint8_t md[32];
    struct buf_writer w;
    leal_err err;

    buf_writer_init(&w, enc, sizeof enc);
    err = buf_put_bytes(&w, (const uint8_t *)magic, sizeof magic - 1);
    if (err == LEAL_OK)
        err = put_i64(&w, e->program_id);
    if (err == LEAL_OK)
        err = put_str(&w, e->kind);
    if (err == LEAL_OK)
        err = put_i64(&w, e->at);
    if (err == LEAL_OK)
        err = put_i64(&w, e->store_id);
    if (err == LEAL_OK)
        err = put_i64(&w, e->terminal_id);
    if (err == LEAL_OK)
        err = put_i64(&w, e->terminal_epoch);
    if (err == LEAL_OK)
        err = put_i64(&w, e->terminal_seq);
    if (err == LEAL_OK)
        err = put_str(&w, e->request_id);
    if (err == LEAL_OK)
        err = put_str(&w, e->operator_name);
    if (err == LEAL_OK)
        err = put_str(&w, e->reason);
    if (err == LEAL_OK)
        err = put_str(&w, e->reference);
    if (err == LEAL_OK)
        err = put_i64(&w, e->spend_cents);
    if (err == LEAL_OK)
        err = put_i64(&w, e->reverses);
    if (err == LEAL_OK)
        err = put_i64(&w, e->card_id);
    if (err == LEAL_OK)
        err = put_i64(&w, (int64_t)e->nlines);
    for (size_t i = 0; err == LEAL_OK && i < e->nlines; i++) {
        err = put_i64(&w, e->lines[i].account_id);
        if (err == LEAL_OK)
            err = put_str(&w, e->lines[i].asset);
        if (err == LEAL_OK)
            err = put_i64(&w, e->lines[i].amount);
        if (err == LEAL_OK)
            err = put_i64(&w, e->lines[i].expires_at);
    }
    if (err == LEAL_OK)
        err = crypto_openssl()->sha256(enc, buf_writer_len(&w), md);
    if (err != LEAL_OK)
        return err;
    return leal_hex_encode(md, sizeof md, false, hex, 65);
}

/* Looks the key up; *id 0 if unused, else the entry and its stored hash. */
static leal_err key_lookup(struct ledger *l, const struct ledger_entry *e, int64_t *id,
                           char hash[65])
{
    sqlite3_stmt *st;
    int row;
    leal_err err;
    *id = 0;
    hash[0] = '\0';
    if (e->terminal_id) {
        if ((err = prep(l, ST_KEY_TERMINAL, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, e->terminal_id);
        sqlite3_bind_int64(st, 2, e->terminal_epoch);
        sqlite3_bind_int64(st, 3, e->terminal_seq);
    } else {
        if ((err = prep(l, ST_KEY_REQUEST, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_text(st, 1, e->request_id, -1, SQLITE_STATIC);
    }
    err = step(l, st, &row);
    if (err == LEAL_OK && row) {
        *id = sqlite3_column_int64(st, 0);
        col_text(st, 1, hash, 65);
    }
    sqlite3_reset(st);
    return err;
}

/* Gives back to the lots that entry `reversed` took from on this account,
 * up to amount; what remains is a new lot. */
static leal_err lots_credit(struct ledger *l, const struct ledger_entry *e,
                            const struct ledger_line *ln, int64_t line_id, int64_t at)
{
    sqlite3_stmt *st;
    int64_t left = ln->amount, expires = ln->expires_at;
    leal_err err = LEAL_OK;
    int row;

    if (e->reverses) {
        /* Collect first: the updates below must not run under the open query. */
        int64_t uses[LEDGER_MAX_LINES][3];
        size_t n = 0;
        if ((err = prep(l, ST_LOT_USED_BY, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, e->reverses);
        sqlite3_bind_int64(st, 2, ln->account_id);
        sqlite3_bind_text(st, 3, ln->asset, -1, SQLITE_STATIC);
        while (next_row(l, st, &err) && n < LEDGER_MAX_LINES) {
            uses[n][0] = sqlite3_column_int64(st, 0);
            uses[n][1] = sqlite3_column_int64(st, 1);
            uses[n][2] = sqlite3_column_int64(st, 2);
            n++;
        }
        sqlite3_reset(st);
        for (size_t i = 0; err == LEAL_OK && i < n && left > 0; i++) {
            int64_t give = uses[i][2] < left ? uses[i][2] : left;
            if ((err = run_i64(l, ST_LOT_GIVE, I64S(uses[i][1], give))) != LEAL_OK ||
                (err = run_i64(l, ST_LOT_USE_GIVE, I64S(uses[i][0], uses[i][1], give))) != LEAL_OK)
                break;
            left -= give;
        }
        if (err != LEAL_OK || left == 0)
            return err;
    }
    if (expires == 0) {
        int64_t days = 0;
        if ((err = prep(l, ST_PROGRAM_EXPIRY, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, e->program_id);
        err = step(l, st, &row);
        if (err == LEAL_OK && row)
            days = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (err != LEAL_OK)
            return err;
        if (days > 0)
            expires = at + days * 86400;
    }
    if ((err = prep(l, ST_LOT_INSERT, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, ln->account_id);
    sqlite3_bind_text(st, 2, ln->asset, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, line_id);
    bind_int_or_null(st, 4, expires);
    sqlite3_bind_int64(st, 5, left);
    return step(l, st, NULL);
}

/* Takes -ln->amount from the account's open lots, nearest expiry first. */
static leal_err lots_debit(struct ledger *l, const struct ledger_entry *e,
                           const struct ledger_line *ln, int64_t line_id)
{
    sqlite3_stmt *st;
    int64_t need = -ln->amount;
    leal_err err;
    int row;

    while (need > 0) {
        int64_t lot, rem, take;
        if ((err = prep(l, ST_LOT_OPEN, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, ln->account_id);
        sqlite3_bind_text(st, 2, ln->asset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, e->reverses);
        err = step(l, st, &row);
        lot = row ? sqlite3_column_int64(st, 0) : 0;
        rem = row ? sqlite3_column_int64(st, 1) : 0;
        sqlite3_reset(st);
        if (err != LEAL_OK)
            return err;
        if (!row) {
            set_msg(l, "account %lld: lots hold less than the balance", (long long)ln->account_id);
            return LEAL_E_LEDGER_MISMATCH;
        }
        take = rem < need ? rem : need;
        if ((err = run_i64(l, ST_LOT_TAKE, I64S(lot, take))) != LEAL_OK ||
            (err = run_i64(l, ST_LOT_USE_INSERT, I64S(line_id, lot, take))) != LEAL_OK)
            return err;
        need -= take;
    }
    return LEAL_OK;
}

/* A cached lookup by ?1 = key of a row whose first column is its program:
 * LEAL_E_UNKNOWN_ID without a row, LEAL_E_WRONG_PROGRAM in another program,
 * both naming "what key". */
static leal_err in_program(struct ledger *l, enum st id, int64_t key, int64_t program,
                           const char *what)
{
    sqlite3_stmt *st;
    int64_t prog;
    leal_err err;
    int row;
    if ((err = prep(l, id, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, key);
    err = step(l, st, &row);
    prog = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (err != LEAL_OK)
        return err;
    if (!row || prog != program) {
        set_msg(l, "%s %lld", what, (long long)key);
        return row ? LEAL_E_WRONG_PROGRAM : LEAL_E_UNKNOWN_ID;
    }
    return LEAL_OK;
}

/* Reads entry id (its program, store and card into out) for reversing it:
 * an unknown entry or a void is refused. */
static leal_err entry_to_reverse(struct ledger *l, int64_t id, struct ledger_entry *out)
{
    sqlite3_stmt *st;
    char kind[16];
    leal_err err;
    if ((err = prep(l, ST_ENTRY_GET, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, id);
    err = step_found(l, st, "entry", id);
    col_text(st, 0, kind, sizeof kind);
    out->program_id = sqlite3_column_int64(st, 1);
    out->store_id = sqlite3_column_int64(st, 2);
    out->card_id = sqlite3_column_int64(st, 3);
    sqlite3_reset(st);
    if (err == LEAL_OK && strcmp(kind, "void") == 0) {
        set_msg(l, "entry %lld is a void", (long long)id);
        err = LEAL_E_VOID_OF_VOID;
    }
    return err;
}

/* exists(ST_PROGRAM_EXISTS) through the transaction's cache. */
static leal_err program_known(struct ledger *l, int64_t program_id)
{
    struct txc_slot *s;
    int fresh;
    leal_err err = txc_get(l, TXC_PROGRAM, program_id, "", &s, &fresh);
    if (err == LEAL_OK && fresh &&
        (err = exists(l, ST_PROGRAM_EXISTS, program_id, "program")) == LEAL_OK)
        txc_keep(l, s, TXC_PROGRAM, program_id, "");
    return err;
}

/* An account's program and kind through the transaction's cache: *found 0
 * for an unknown account. */
static leal_err account_of(struct ledger *l, int64_t account_id, int *found, int64_t *program,
                           enum ledger_account_kind *kind)
{
    sqlite3_stmt *st;
    struct txc_slot *s;
    int fresh;
    leal_err err = txc_get(l, TXC_ACCOUNT, account_id, "", &s, &fresh);
    if (err != LEAL_OK)
        return err;
    if (fresh) {
        if ((err = prep(l, ST_ACCOUNT_GET, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, account_id);
        err = step(l, st, found);
        s->v = sqlite3_column_int64(st, 0);
        s->kind = account_kind(sqlite3_column_text(st, 1));
        sqlite3_reset(st);
        if (err != LEAL_OK || !*found) {
            s->v = 0;
            s->kind = 0;
            return err;
        }
        txc_keep(l, s, TXC_ACCOUNT, account_id, "");
    }
    *found = 1;
    *program = s->v;
    *kind = s->kind;
    return LEAL_OK;
}

/* The references an entry makes, checked for existence and program. */
static leal_err entry_refs(struct ledger *l, const struct ledger_entry *e, int64_t *store_id)
{
    sqlite3_stmt *st;
    leal_err err;
    int row;

    *store_id = e->store_id;
    if ((err = program_known(l, e->program_id)) != LEAL_OK)
        return err;
    if (e->terminal_id) {
        int64_t tstore, tprog, epoch;
        if ((err = prep(l, ST_TERMINAL_GET, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, e->terminal_id);
        err = step_found(l, st, "terminal", e->terminal_id);
        tstore = sqlite3_column_int64(st, 0);
        tprog = sqlite3_column_int64(st, 1);
        epoch = sqlite3_column_int64(st, 2);
        sqlite3_reset(st);
        if (err != LEAL_OK)
            return err;
        if (tprog != e->program_id || (e->store_id && e->store_id != tstore)) {
            set_msg(l, "terminal %lld", (long long)e->terminal_id);
            return LEAL_E_WRONG_PROGRAM;
        }
        if (e->terminal_epoch > epoch) {
            set_msg(l, "terminal %lld is at epoch %lld, not %lld", (long long)e->terminal_id,
                    (long long)epoch, (long long)e->terminal_epoch);
            return LEAL_E_UNKNOWN_ID;
        }
        *store_id = tstore;
    } else if (e->store_id) {
        if ((err = in_program(l, ST_STORE_GET, e->store_id, e->program_id, "store")) != LEAL_OK)
            return err;
    }
    if (e->card_id) {
        if ((err = in_program(l, ST_CARD_PROGRAM, e->card_id, e->program_id, "card")) != LEAL_OK)
            return err;
    }
    if (e->reverses) {
        struct ledger_entry orig;
        if ((err = entry_to_reverse(l, e->reverses, &orig)) != LEAL_OK)
            return err;
        if (orig.program_id != e->program_id) {
            set_msg(l, "entry %lld", (long long)e->reverses);
            return LEAL_E_WRONG_PROGRAM;
        }
        if (strcmp(e->kind, "void") == 0) {
            if ((err = prep(l, ST_VOID_OF, &st)) != LEAL_OK)
                return err;
            sqlite3_bind_int64(st, 1, e->reverses);
            err = step(l, st, &row);
            int64_t by = row ? sqlite3_column_int64(st, 0) : 0;
            sqlite3_reset(st);
            if (err != LEAL_OK)
                return err;
            if (row) {
                set_msg(l, "entry %lld was voided by entry %lld", (long long)e->reverses,
                        (long long)by);
                return LEAL_E_ALREADY_VOIDED;
            }
        }
    }
    return LEAL_OK;
}

static leal_err post_locked(struct ledger *l, const struct ledger_entry *e, const char *hash,
                            int64_t *entry_id, bool *replayed)
{
    sqlite3_stmt *st;
    leal_err err;
    int64_t id, store_id, at = e->at ? e->at : now();
    char old[65];
    int row;

    if ((err = key_lookup(l, e, &id, old)) != LEAL_OK)
        return err;
    if (id != 0) {
        if (strcmp(old, hash) == 0) {
            *entry_id = id;
            *replayed = true;
            return LEAL_OK;
        }
        /* A second, different void of the same entry says what it is. */
        if (strcmp(e->kind, "void") == 0 && entry_refs(l, e, &store_id) == LEAL_E_ALREADY_VOIDED)
            return LEAL_E_ALREADY_VOIDED;
        set_msg(l, "the key is entry %lld's", (long long)id);
        return LEAL_E_IDEMPOTENCY_CONFLICT;
    }
    if ((err = entry_refs(l, e, &store_id)) != LEAL_OK)
        return err;
    if ((err = prep(l, ST_ENTRY_INSERT, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, e->program_id);
    sqlite3_bind_text(st, 2, e->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    bind_int_or_null(st, 4, store_id);
    bind_int_or_null(st, 5, e->terminal_id);
    if (e->terminal_id) {
        sqlite3_bind_int64(st, 6, e->terminal_epoch);
        sqlite3_bind_int64(st, 7, e->terminal_seq);
    }
    bind_text_or_null(st, 8, e->terminal_id ? NULL : e->request_id);
    sqlite3_bind_text(st, 9, e->operator_name ? e->operator_name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, e->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, e->reference ? e->reference : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, e->spend_cents);
    bind_int_or_null(st, 13, e->reverses);
    bind_int_or_null(st, 14, e->card_id);
    sqlite3_bind_text(st, 15, hash, 64, SQLITE_STATIC);
    if ((err = step(l, st, NULL)) != LEAL_OK)
        return err;
    id = sqlite3_last_insert_rowid(l->db);

    for (size_t i = 0; i < e->nlines; i++) {
        const struct ledger_line *ln = &e->lines[i];
        int64_t prog, line_id, bal;
        enum ledger_account_kind kind;
        struct txc_slot *bs;

        if ((err = account_of(l, ln->account_id, &row, &prog, &kind)) != LEAL_OK)
            return err;
        if (!row || prog != e->program_id) {
            set_msg(l, "account %lld", (long long)ln->account_id);
            return row ? LEAL_E_WRONG_PROGRAM : LEAL_E_UNKNOWN_ID;
        }
        if ((err = prep(l, ST_LINE_INSERT, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, ln->account_id);
        sqlite3_bind_text(st, 3, ln->asset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, ln->amount);
        if ((err = step(l, st, NULL)) != LEAL_OK)
            return err;
        line_id = sqlite3_last_insert_rowid(l->db);

        if ((err = bal_get(l, ln->account_id, ln->asset, &bs)) != LEAL_OK ||
            (err = prep(l, ST_BALANCE_ADD, &st)) != LEAL_OK)
            return err;
        sqlite3_bind_int64(st, 1, ln->account_id);
        sqlite3_bind_text(st, 2, ln->asset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, ln->amount);
        err = step(l, st, NULL);
        sqlite3_reset(st);
        if (err != LEAL_OK)
            return err;
        /* The row took the delta, so the sum fits: SQLite refuses an overflow. */
        bs->v += ln->amount;
        bal = bs->v;
        if (kind == LEDGER_ACCOUNT_PROGRAM)
            continue;
        if (bal < 0) {
            set_msg(l, "account %lld would hold %lld %s", (long long)ln->account_id, (long long)bal,
                    ln->asset);
            return LEAL_E_INSUFFICIENT_FUNDS;
        }
        if (strcmp(ln->asset, "PTS") == 0) {
            err =
                ln->amount > 0 ? lots_credit(l, e, ln, line_id, at) : lots_debit(l, e, ln, line_id);
            if (err != LEAL_OK)
                return err;
        }
    }
    *entry_id = id;
    return LEAL_OK;
}

leal_err ledger_post(struct ledger *l, const struct ledger_entry *e, int64_t *entry_id,
                     bool *replayed)
{
    char hash[65];
    leal_err err;

    *entry_id = 0;
    *replayed = false;
    l->msg[0] = '\0';
    if ((err = entry_check(l, e)) != LEAL_OK)
        return err;
    if ((err = entry_hash(e, hash)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = post_locked(l, e, hash, entry_id, replayed);
    err = tx_end(l, err);
    if (err != LEAL_OK) {
        *entry_id = 0;
        *replayed = false;
    }
    return err;
}

/* ---- Card and ledger drift ---- */

#define DRIFT_SQL                                                                                  \
    "SELECT coalesce(sum(n.amount), 0), count(DISTINCT e.id), coalesce(max(e.id), 0) FROM card c " \
    "JOIN line n ON n.account_id = c.account_id AND n.entry_id > c.synced_entry JOIN entry e ON "  \
    "e.id = n.entry_id WHERE c.card_id = ?1 AND n.asset = 'PTS' AND (e.request_id IS NULL OR "     \
    "substr(e.request_id, 1, 5) <> 'card:')"

leal_err ledger_card_drift(struct ledger *l, int64_t card_id, struct ledger_drift *out)
{
    sqlite3_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = find_row(l, "SELECT 1 FROM card WHERE card_id = ?1", card_id, "card", &st)) !=
        LEAL_OK) {
        sqlite3_finalize(st);
        return err;
    }
    sqlite3_finalize(st);
    if ((err = find_row(l, DRIFT_SQL, card_id, "card", &st)) == LEAL_OK) {
        out->points = sqlite3_column_int64(st, 0);
        out->entries = sqlite3_column_int64(st, 1);
        out->upto = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (err != LEAL_OK || out->upto == 0)
        return err;
    if ((err = find_row(l, "SELECT at, kind FROM entry WHERE id = ?1", out->upto, "entry", &st)) ==
        LEAL_OK) {
        out->newest_at = sqlite3_column_int64(st, 0);
        col_text(st, 1, out->newest_kind, sizeof out->newest_kind);
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_card_synced_now(struct ledger *l, int64_t card_id)
{
    leal_err err = exec_i64(l,
                            "UPDATE card SET synced_entry = coalesce((SELECT max(id) FROM entry), "
                            "0) WHERE card_id = ?1",
                            I64S(card_id));
    if (err == LEAL_OK && sqlite3_changes(l->db) == 0) {
        set_msg(l, "card %lld", (long long)card_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

leal_err ledger_pending_sync_add(struct ledger *l, const struct ledger_pending_sync *p)
{
    leal_err err;
    l->msg[0] = '\0';
    if (p->card_id <= 0 || p->seq_before < 0 || p->seq_before > UINT32_MAX ||
        p->seq_after != (p->seq_before + 1) % (INT64_C(1) << 32) || p->points == 0 ||
        p->points_after < 0 || p->points_after > UINT32_MAX || p->upto_entry <= 0)
        return LEAL_E_ARG;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = exists(l, ST_CARD_PROGRAM, p->card_id, "card")) == LEAL_OK &&
        (err = exec_i64(l,
                        "INSERT INTO card_pending_sync(card_id, seq_before, seq_after, "
                        "points_after, points, upto_entry, created_at) VALUES (?1, ?2, ?3, ?4, "
                        "?5, ?6, ?7)",
                        I64S(p->card_id, p->seq_before, p->seq_after, p->points_after, p->points,
                             p->upto_entry, now()))) == LEAL_E_DUPLICATE_ID)
        set_msg(l, "card %lld already has a sync in flight", (long long)p->card_id);
    return tx_end(l, err);
}

#define PENDING_SYNC_SQL                                                                           \
    "SELECT card_id, seq_before, seq_after, points_after, points, upto_entry, created_at FROM "    \
    "card_pending_sync WHERE card_id = ?1"

leal_err ledger_pending_sync_get(struct ledger *l, int64_t card_id, struct ledger_pending_sync *out,
                                 bool *found)
{
    sqlite3_stmt *st;
    int row;
    leal_err err;
    memset(out, 0, sizeof *out);
    *found = false;
    if ((err = prep_i64(l, PENDING_SYNC_SQL, &st, I64S(card_id))) != LEAL_OK)
        return err;
    if ((err = step(l, st, &row)) == LEAL_OK && row) {
        out->card_id = sqlite3_column_int64(st, 0);
        out->seq_before = sqlite3_column_int64(st, 1);
        out->seq_after = sqlite3_column_int64(st, 2);
        out->points_after = sqlite3_column_int64(st, 3);
        out->points = sqlite3_column_int64(st, 4);
        out->upto_entry = sqlite3_column_int64(st, 5);
        out->created_at = sqlite3_column_int64(st, 6);
        *found = true;
    }
    sqlite3_finalize(st);
    return err;
}

/* Removes the card's sync intent inside the caller's transaction. */
static leal_err sync_delete(struct ledger *l, int64_t card_id)
{
    leal_err err = exec_i64(l, "DELETE FROM card_pending_sync WHERE card_id = ?1", I64S(card_id));
    if (err == LEAL_OK && sqlite3_changes(l->db) != 1) {
        set_msg(l, "card %lld has no sync in flight", (long long)card_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

leal_err ledger_pending_sync_drop(struct ledger *l, int64_t card_id)
{
    leal_err err;
    l->msg[0] = '\0';
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    return tx_end(l, sync_delete(l, card_id));
}

leal_err ledger_pending_sync_settle(struct ledger *l, int64_t card_id)
{
    struct ledger_pending_sync p;
    bool found;
    leal_err err;
    l->msg[0] = '\0';
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_pending_sync_get(l, card_id, &p, &found)) == LEAL_OK && !found) {
        set_msg(l, "card %lld has no sync in flight", (long long)card_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    if (err == LEAL_OK)
        err = sync_delete(l, card_id);
    if (err == LEAL_OK)
        err = exec_i64(l,
                       "UPDATE card SET synced_entry = max(synced_entry, ?2) WHERE account_id = "
                       "(SELECT account_id FROM card WHERE card_id = ?1) AND (card_id = ?1 OR "
                       "status IN ('active','blocked'))",
                       I64S(card_id, p.upto_entry));
    return tx_end(l, err);
}

/* ---- Classic top-ups in flight ---- */

leal_err ledger_pending_topup_add(struct ledger *l, const struct ledger_pending_topup *p)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    l->msg[0] = '\0';
    if (p->card_id <= 0 || p->seq_before < 0 || p->seq_before > UINT32_MAX ||
        p->seq_after != (p->seq_before + 1) % (INT64_C(1) << 32) || p->cents <= 0 ||
        p->purse_after < p->cents || p->purse_after > LEDGER_PURSE_CAP_MAX ||
        empty(p->request_id) || strlen(p->request_id) >= sizeof p->request_id)
        return LEAL_E_ARG;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = exists(l, ST_CARD_PROGRAM, p->card_id, "card")) != LEAL_OK)
        goto out;
    if ((err = prep_once(l,
                         "INSERT INTO card_pending_topup(card_id, seq_before, seq_after, "
                         "purse_after, cents, request_id, created_at, mark) VALUES (?1, ?2, ?3, "
                         "?4, ?5, ?6, ?7, ?8)",
                         &st)) != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, p->card_id);
    sqlite3_bind_int64(st, 2, p->seq_before);
    sqlite3_bind_int64(st, 3, p->seq_after);
    sqlite3_bind_int64(st, 4, p->purse_after);
    sqlite3_bind_int64(st, 5, p->cents);
    sqlite3_bind_text(st, 6, p->request_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now());
    if (p->has_mark)
        sqlite3_bind_blob(st, 8, p->mark, LEDGER_CARD_MARK_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    if ((err = step(l, st, NULL)) == LEAL_E_DUPLICATE_ID)
        set_msg(l, "card %lld already has a top-up in flight", (long long)p->card_id);
out:
    sqlite3_finalize(st);
    return tx_end(l, err);
}

/* Every desk read of a Classic card asks this. */
#define PENDING_TOPUP_SQL                                                                          \
    "SELECT card_id, seq_before, seq_after, purse_after, cents, request_id, created_at, mark "     \
    "FROM card_pending_topup WHERE card_id = ?1"

leal_err ledger_pending_topup_get(struct ledger *l, int64_t card_id,
                                  struct ledger_pending_topup *out, bool *found)
{
    sqlite3_stmt *st;
    int row;
    leal_err err;
    memset(out, 0, sizeof *out);
    *found = false;
    if ((err = prep_once(l, PENDING_TOPUP_SQL, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, card_id);
    err = step(l, st, &row);
    if (err == LEAL_OK && row) {
        out->card_id = sqlite3_column_int64(st, 0);
        out->seq_before = sqlite3_column_int64(st, 1);
        out->seq_after = sqlite3_column_int64(st, 2);
        out->purse_after = sqlite3_column_int64(st, 3);
        out->cents = sqlite3_column_int64(st, 4);
        col_text(st, 5, out->request_id, sizeof out->request_id);
        out->created_at = sqlite3_column_int64(st, 6);
        if (sqlite3_column_bytes(st, 7) == LEDGER_CARD_MARK_LEN) {
            memcpy(out->mark, sqlite3_column_blob(st, 7), LEDGER_CARD_MARK_LEN);
            out->has_mark = true;
        }
        *found = true;
    }
    sqlite3_finalize(st);
    return err;
}

/* Deletes the card's intent with that request id, inside the caller's transaction. */
static leal_err pending_delete(struct ledger *l, int64_t card_id, const char *request_id)
{
    sqlite3_stmt *st;
    leal_err err;
    if ((err = prep_once(l, "DELETE FROM card_pending_topup WHERE card_id = ?1 AND request_id = ?2",
                         &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, card_id);
    sqlite3_bind_text(st, 2, request_id ? request_id : "", -1, SQLITE_STATIC);
    err = step(l, st, NULL);
    if (err == LEAL_OK && sqlite3_changes(l->db) != 1) {
        set_msg(l, "card %lld has no top-up in flight with request id '%s'", (long long)card_id,
                request_id ? request_id : "");
        err = LEAL_E_UNKNOWN_ID;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_pending_topup_drop(struct ledger *l, int64_t card_id, const char *request_id)
{
    leal_err err;
    l->msg[0] = '\0';
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    return tx_end(l, pending_delete(l, card_id, request_id));
}

leal_err ledger_pending_topup_settle(struct ledger *l, const struct ledger_entry *e,
                                     int64_t *entry_id, bool *replayed)
{
    char hash[65];
    leal_err err;

    *entry_id = 0;
    *replayed = false;
    l->msg[0] = '\0';
    if ((err = entry_check(l, e)) != LEAL_OK)
        return err;
    if (e->card_id <= 0 || empty(e->request_id))
        return LEAL_E_ARG;
    if ((err = entry_hash(e, hash)) != LEAL_OK)
        return err;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    /* The intent goes first: without it nothing is posted. Its mark becomes
     * the card's: the state the ledger now knows the card is in. */
    err = exec_i64(l,
                   "UPDATE card SET seen_mark = coalesce((SELECT mark FROM card_pending_topup "
                   "WHERE card_id = ?1), seen_mark) WHERE card_id = ?1",
                   I64S(e->card_id));
    if (err == LEAL_OK)
        err = pending_delete(l, e->card_id, e->request_id);
    if (err == LEAL_OK)
        err = post_locked(l, e, hash, entry_id, replayed);
    err = tx_end(l, err);
    if (err != LEAL_OK) {
        *entry_id = 0;
        *replayed = false;
    }
    return err;
}

leal_err ledger_void(struct ledger *l, int64_t entry_id, const char *request_id,
                     const char *operator_name, const char *reason, int64_t *void_id,
                     bool *replayed)
{
    struct ledger_line lines[LEDGER_MAX_LINES];
    struct ledger_entry e;
    sqlite3_stmt *st;
    char key[64];
    size_t n = 0;
    leal_err err;

    *void_id = 0;
    *replayed = false;
    memset(&e, 0, sizeof e);
    memset(lines, 0, sizeof lines);
    /* Entries never change, so reading the original outside the write
     * transaction is safe; ledger_post re-checks voids under the lock. */
    if ((err = entry_to_reverse(l, entry_id, &e)) != LEAL_OK)
        return err;
    if ((err = prep_i64(
             l, "SELECT account_id, asset, amount FROM line WHERE entry_id = ?1 ORDER BY id", &st,
             I64S(entry_id))) != LEAL_OK)
        return err;
    while (next_row(l, st, &err) && n < LEDGER_MAX_LINES) {
        lines[n].account_id = sqlite3_column_int64(st, 0);
        col_text(st, 1, lines[n].asset, sizeof lines[n].asset);
        lines[n].amount = -sqlite3_column_int64(st, 2);
        n++;
    }
    sqlite3_finalize(st);
    if (err != LEAL_OK)
        return err;
    snprintf(key, sizeof key, "void:%lld", (long long)entry_id);
    e.kind = "void";
    e.request_id = empty(request_id) ? key : request_id;
    e.operator_name = operator_name;
    e.reason = reason;
    e.reverses = entry_id;
    e.nlines = n;
    e.lines = lines;
    return ledger_post(l, &e, void_id, replayed);
}

leal_err ledger_expire_points(struct ledger *l, int64_t program_id, int64_t at,
                              const char *operator_name, int64_t *accounts, int64_t *points)
{
    sqlite3_stmt *st = NULL;
    int64_t expired_acct, total = 0, (*due)[2] = NULL;
    size_t n = 0, cap = 0;
    leal_err err;
    int own_batch = l->in_batch == BATCH_NONE;

    *accounts = 0;
    *points = 0;
    if (at <= 0 || empty(operator_name))
        return at <= 0 ? LEAL_E_ARG : LEAL_E_REASON_REQUIRED;
    if ((err = ledger_program_account(l, program_id, "points_expired", &expired_acct)) != LEAL_OK)
        return err;
    /* One transaction: nothing may spend the expired lots between finding
     * them and moving them. */
    if (own_batch && (err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    err = prep_i64(l,
                   "SELECT o.account_id, sum(o.remaining) FROM lot o JOIN account a ON a.id = "
                   "o.account_id WHERE a.program_id = ?1 AND o.asset = 'PTS' AND o.remaining > "
                   "0 AND o.expires_at <= ?2 GROUP BY o.account_id ORDER BY o.account_id",
                   &st, I64S(program_id, at));
    if (err != LEAL_OK)
        goto out;
    /* Read them all first: posting changes the lots (and their index) the
     * query walks. */
    while (next_row(l, st, &err)) {
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            void *p = realloc(due, ncap * sizeof *due);
            if (p == NULL) {
                err = LEAL_E_NO_MEMORY;
                goto out;
            }
            due = p;
            cap = ncap;
        }
        due[n][0] = sqlite3_column_int64(st, 0);
        due[n][1] = sqlite3_column_int64(st, 1);
        n++;
    }
    for (size_t i = 0; err == LEAL_OK && i < n; i++) {
        struct ledger_line lines[2];
        struct ledger_entry e;
        char req[64];
        int64_t id;
        bool rep;
        memset(lines, 0, sizeof lines);
        memset(&e, 0, sizeof e);
        lines[0].account_id = due[i][0];
        lines[0].amount = -due[i][1];
        lines[1].account_id = expired_acct;
        lines[1].amount = due[i][1];
        snprintf(lines[0].asset, sizeof lines[0].asset, "PTS");
        snprintf(lines[1].asset, sizeof lines[1].asset, "PTS");
        snprintf(req, sizeof req, "expire:%lld:%lld", (long long)due[i][0], (long long)at);
        e.program_id = program_id;
        e.kind = "expire";
        e.at = at;
        e.request_id = req;
        e.operator_name = operator_name;
        e.reason = "points expired";
        e.lines = lines;
        e.nlines = 2;
        err = ledger_post(l, &e, &id, &rep);
        total += due[i][1];
    }
out:
    sqlite3_finalize(st);
    free(due);
    if (own_batch) {
        if (err == LEAL_OK)
            err = ledger_batch_commit(l);
        else
            ledger_batch_rollback(l);
    }
    if (err == LEAL_OK) {
        *accounts = (int64_t)n;
        *points = total;
    }
    return err;
}

static void movement_row(sqlite3_stmt *st, struct ledger_movement *m)
{
    memset(m, 0, sizeof *m);
    m->entry_id = sqlite3_column_int64(st, 0);
    m->at = sqlite3_column_int64(st, 1);
    col_text(st, 2, m->kind, sizeof m->kind);
    col_text(st, 3, m->reason, sizeof m->reason);
    col_text(st, 4, m->operator_name, sizeof m->operator_name);
    col_text(st, 5, m->reference, sizeof m->reference);
    m->reverses = sqlite3_column_int64(st, 6);
    m->account_id = sqlite3_column_int64(st, 7);
    col_text(st, 8, m->asset, sizeof m->asset);
    m->amount = sqlite3_column_int64(st, 9);
    col_text(st, 10, m->timezone, sizeof m->timezone);
}

#define MOVEMENT_COLUMNS                                                                           \
    "e.id, e.at, e.kind, e.reason, e.operator, e.reference, e.reverses, n.account_id, n.asset, "   \
    "n.amount, s.timezone FROM line n JOIN entry e ON e.id = n.entry_id LEFT JOIN store s ON "     \
    "s.id = e.store_id"

#define HISTORY_SQL                                                                                \
    "SELECT " MOVEMENT_COLUMNS " WHERE n.account_id = ?1 AND n.entry_id IN (SELECT DISTINCT "      \
    "entry_id FROM line WHERE account_id = ?1 AND entry_id < ?2 ORDER BY entry_id DESC LIMIT "     \
    "?3) ORDER BY n.entry_id DESC, n.id"

/* Runs sql (integer parameters v) and hands each movement to cb until it
 * returns non-zero; *n counts the movements handed over. */
static leal_err movements(struct ledger *l, const char *sql, const int64_t *v, int nv,
                          ledger_movement_cb cb, void *ctx, int *n)
{
    sqlite3_stmt *st;
    leal_err err = prep_i64(l, sql, &st, v, nv);
    *n = 0;
    if (err != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        struct ledger_movement m;
        movement_row(st, &m);
        (*n)++;
        if (cb(ctx, &m) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_history(struct ledger *l, int64_t account_id, int64_t before, size_t limit,
                        ledger_movement_cb cb, void *ctx)
{
    int n;
    return movements(l, HISTORY_SQL,
                     I64S(account_id, before > 0 ? before : INT64_MAX,
                          limit > 0 && limit < (size_t)INT64_MAX ? (int64_t)limit : -1),
                     cb, ctx, &n);
}

leal_err ledger_entry_lines(struct ledger *l, int64_t entry_id, ledger_movement_cb cb, void *ctx)
{
    int n;
    leal_err err = movements(l, "SELECT " MOVEMENT_COLUMNS " WHERE n.entry_id = ?1 ORDER BY n.id",
                             I64S(entry_id), cb, ctx, &n);
    if (err == LEAL_OK && n == 0) {
        set_msg(l, "entry %lld", (long long)entry_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

/* ---- Verify ---- */

/* Runs a query that must return no rows; the first row describes the first
 * difference (columns: a text and three integers). */
static leal_err expect_empty(struct ledger *l, const char *sql, const char *fmt)
{
    sqlite3_stmt *st;
    leal_err err;
    int row;
    if ((err = prep_once(l, sql, &st)) != LEAL_OK)
        return err;
    err = step(l, st, &row);
    if (err == LEAL_OK && row) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        set_msg(l, fmt, t ? (const char *)t : "", (long long)sqlite3_column_int64(st, 1),
                (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
        err = LEAL_E_LEDGER_MISMATCH;
    }
    sqlite3_finalize(st);
    return err;
}

/* Every check of ledger_verify: one pass over each table (an index probe per
 * row at most), never a scan per row. ledger_check_plans proves it. */
static const struct {
    const char *sql;
    const char *fmt;
} verify_checks[] = {
    {"SELECT asset, entry_id, sum(amount), 0 FROM line GROUP BY entry_id, asset HAVING "
     "sum(amount) <> 0 ORDER BY entry_id LIMIT 1",
     "%s: entry %lld lines sum to %lld, not 0%.0lld"},
    {"SELECT '', id, 0, 0 FROM entry e WHERE (SELECT count(*) FROM line WHERE entry_id = "
     "e.id) < 2 ORDER BY id LIMIT 1",
     "%sentry %lld has fewer than 2 lines%.0lld%.0lld"},
    /* Each idempotency key once (the unique indexes say so; this proves it). */
    {"SELECT request_id, count(*), min(id), max(id) FROM entry WHERE request_id IS NOT NULL "
     "GROUP BY request_id HAVING count(*) > 1 LIMIT 1",
     "request id %s appears %lld times (entries %lld and %lld)"},
    {"SELECT terminal_id || '/' || terminal_epoch || '/' || terminal_seq, count(*), min(id), "
     "max(id) FROM entry WHERE terminal_seq IS NOT NULL GROUP BY terminal_id, "
     "terminal_epoch, terminal_seq HAVING count(*) > 1 LIMIT 1",
     "terminal key %s appears %lld times (entries %lld and %lld)"},
    {"SELECT '', reverses, count(*), 0 FROM entry WHERE kind = 'void' GROUP BY reverses "
     "HAVING count(*) > 1 LIMIT 1",
     "%sentry %lld is voided %lld times%.0lld"},
};

/* The stored balances against the lines (both ways), non-negative outside
 * the program's accounts, and the points lots against the points balances:
 * one GROUP BY over balances, lines and lots together, so each table is read
 * once. Each (account, asset) gets the first of these it breaks, and the
 * first difference reported is the lowest kind, then account and asset:
 *   1 a balance row that is not the sum of its lines;
 *   2 lines without a balance row;
 *   3 a customer's or gift card's balance below zero;
 *   4 lots that do not hold the balance: exactly a customer's or gift card's
 *     PTS balance, nothing anywhere else. */
#define VERIFY_BOOKS_SQL                                                                           \
    "SELECT kind, asset, account_id, b, n, o FROM (SELECT account_id, asset, b, n, o, CASE WHEN "  \
    "hb AND b <> n THEN 1 WHEN NOT hb AND hn THEN 2 WHEN NOT prog AND b < 0 THEN 3 WHEN iif(NOT "  \
    "prog AND asset = 'PTS', b, 0) <> o THEN 4 END AS kind FROM (SELECT account_id, asset, "       \
    "sum(b) AS b, sum(n) AS n, sum(o) AS o, max(hb) AS hb, max(hn) AS hn, max(prog) AS prog "      \
    "FROM (SELECT x.account_id, x.asset, x.amount AS b, 0 AS n, 0 AS o, 1 AS hb, 0 AS hn, "        \
    "coalesce(a.kind = 'program', 0) AS prog FROM balance x LEFT JOIN account a ON a.id = "        \
    "x.account_id UNION ALL SELECT account_id, asset, 0, amount, 0, 0, 1, 0 FROM line UNION ALL "  \
    "SELECT account_id, asset, 0, 0, remaining, 0, 0, 0 FROM lot) GROUP BY account_id, asset)) "   \
    "WHERE kind IS NOT NULL ORDER BY kind, account_id, asset LIMIT 1"

static leal_err verify_books(struct ledger *l)
{
    static const char *const fmt[] = {
        [1] = "%s: account %lld balance is %lld but its lines sum to %lld",
        [2] = "%s: account %lld has no balance row (%lld) but its lines sum to %lld",
        [3] = "%s: account %lld is negative (%lld)%.0lld",
        [4] = "%s: account %lld balance is %lld but its lots hold %lld",
    };
    sqlite3_stmt *st;
    leal_err err;
    int row;
    if ((err = prep_once(l, VERIFY_BOOKS_SQL, &st)) != LEAL_OK)
        return err;
    err = step(l, st, &row);
    if (err == LEAL_OK && row) {
        int kind = sqlite3_column_int(st, 0);
        const unsigned char *asset = sqlite3_column_text(st, 1);
        /* Columns: kind, asset, account, balance, lines, lots. */
        long long b = kind == 2 ? 0 : sqlite3_column_int64(st, 3);
        long long other = kind == 3 ? 0 : sqlite3_column_int64(st, kind == 4 ? 5 : 4);
        set_msg(l, fmt[kind >= 1 && kind <= 4 ? kind : 1], asset ? (const char *)asset : "",
                (long long)sqlite3_column_int64(st, 2), b, other);
        err = LEAL_E_LEDGER_MISMATCH;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_verify(struct ledger *l, struct ledger_stats *stats)
{
    leal_err err;
    char qc[256];

    l->msg[0] = '\0';
    if (stats)
        memset(stats, 0, sizeof *stats);
    /* One read transaction: every check sees the same snapshot. */
    if ((err = exec(l, "BEGIN")) != LEAL_OK)
        return err;
    err = pragma_text(l, "PRAGMA quick_check", qc, sizeof qc);
    if (err == LEAL_OK && strcmp(qc, "ok") != 0) {
        set_msg(l, "quick_check: %s", qc);
        err = LEAL_E_DB_CORRUPT;
    }
    /* In the order they always ran: the entries, then the books, then the keys. */
    for (size_t i = 0; err == LEAL_OK && i < 2; i++)
        err = expect_empty(l, verify_checks[i].sql, verify_checks[i].fmt);
    if (err == LEAL_OK)
        err = verify_books(l);
    for (size_t i = 2; err == LEAL_OK && i < sizeof verify_checks / sizeof verify_checks[0]; i++)
        err = expect_empty(l, verify_checks[i].sql, verify_checks[i].fmt);
    if (err == LEAL_OK && stats) {
        err = pragma_int(l, "SELECT count(*) FROM entry", &stats->entries);
        if (err == LEAL_OK)
            err = pragma_int(l, "SELECT count(*) FROM line", &stats->lines);
        if (err == LEAL_OK)
            err = pragma_int(l, "SELECT count(*) FROM account", &stats->accounts);
    }
    (void)sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    return err;
}

/* ---- Query plans ---- */

/* Runs EXPLAIN QUERY PLAN on sql; a full scan of a table is an error. */
static leal_err plan_ok(struct ledger *l, const char *sql)
{
    char q[4096];
    sqlite3_stmt *st;
    leal_err err;
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    if ((err = prep_once(l, q, &st)) != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        const unsigned char *d = sqlite3_column_text(st, 3);
        /* A scan of a table is refused; of a constant row or of a subquery's
         * rows (each bounded by LIMIT, as the name search's arms are), not. */
        if (d && strncmp((const char *)d, "SCAN ", 5) == 0 &&
            strcmp((const char *)d, "SCAN CONSTANT ROW") != 0 &&
            strncmp((const char *)d, "SCAN (subquery-", 15) != 0 &&
            strcmp((const char *)d, "SCAN matched") != 0) {
            set_msg(l, "%s: %.200s", (const char *)d, sql);
            err = LEAL_E_INTERNAL;
            break;
        }
    }
    sqlite3_finalize(st);
    return err;
}

/* Runs EXPLAIN QUERY PLAN on a whole-ledger check (ledger_verify): it may
 * read a table through once, but every lookup it makes per row is an index
 * probe. Refused: a scan inside a correlated subquery or nested inside
 * another loop (after a SCAN or SEARCH under the same parent: a scan per
 * row), and an automatic index (a lookup the schema has no index for). */
static leal_err plan_one_pass(struct ledger *l, const char *sql)
{
    enum { MAX_ROWS = 96 };
    int id[MAX_ROWS], parent[MAX_ROWS], loop[MAX_ROWS], corr[MAX_ROWS];
    char q[2048];
    sqlite3_stmt *st;
    leal_err err;
    int n = 0;
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    if ((err = prep_once(l, q, &st)) != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        int scan, p = -1;
        if (d == NULL || n == MAX_ROWS) {
            set_msg(l, "query plan not understood: %.200s", sql);
            err = LEAL_E_INTERNAL;
            break;
        }
        id[n] = sqlite3_column_int(st, 0);
        parent[n] = sqlite3_column_int(st, 1);
        scan = strncmp(d, "SCAN ", 5) == 0 && strcmp(d, "SCAN CONSTANT ROW") != 0;
        loop[n] = scan || strncmp(d, "SEARCH ", 7) == 0;
        for (int i = 0; i < n; i++)
            if (id[i] == parent[n])
                p = i;
        corr[n] = strncmp(d, "CORRELATED ", 11) == 0 || (p >= 0 && corr[p]);
        if (strstr(d, "AUTOMATIC") != NULL) {
            set_msg(l, "%s: %.200s", d, sql);
            err = LEAL_E_INTERNAL;
            break;
        }
        for (int i = 0; scan && i < n; i++)
            if (parent[i] == parent[n] && loop[i]) {
                set_msg(l, "%s inside another loop: %.200s", d, sql);
                err = LEAL_E_INTERNAL;
                break;
            }
        if (err == LEAL_OK && scan && corr[n]) {
            set_msg(l, "%s in a correlated subquery: %.200s", d, sql);
            err = LEAL_E_INTERNAL;
        }
        if (err != LEAL_OK)
            break;
        n++;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_check_plans(struct ledger *l)
{
    static const char *const lookups[] = {
        HISTORY_SQL,
        "SELECT " CARD_COLUMNS " WHERE c.card_id = ?1",
        "SELECT " CARD_COLUMNS " WHERE c.account_id = ?1 ORDER BY c.card_id",
        "SELECT " CUSTOMER_COLUMNS " WHERE c.id = ?1",
        "SELECT id FROM account WHERE program_id = ?1 AND name = ?2",
        "SELECT amount FROM balance WHERE account_id = ?1 AND asset = ?2",
        "SELECT asset, amount FROM balance WHERE account_id = ?1 ORDER BY asset",
        "SELECT channel, granted, at, method, recorded_by FROM consent WHERE id IN (SELECT "
        "max(id) FROM consent WHERE customer_id = ?1 GROUP BY channel) ORDER BY channel",
        "SELECT account_id, asset, amount FROM line WHERE entry_id = ?1 ORDER BY id",
        CARD_HISTORY_SQL,
        CARD_HOTLIST_SQL,
        NOTES_SQL,
        PENDING_TOPUP_SQL,
        PENDING_SYNC_SQL,
        DRIFT_SQL,
        "DELETE FROM card_pending_topup WHERE card_id = ?1 AND request_id = ?2",
        CARD_KEYS_SQL,
        CARD_REWRITE_SQL,
    };
    char sql[2048];
    leal_err err = LEAL_OK;
    for (int i = 0; err == LEAL_OK && i < ST_COUNT; i++)
        if (strncmp(st_sql[i], "SELECT", 6) == 0 || strncmp(st_sql[i], "UPDATE", 6) == 0)
            err = plan_ok(l, st_sql[i]);
    for (size_t i = 0; err == LEAL_OK && i < sizeof lookups / sizeof lookups[0]; i++)
        err = plan_ok(l, lookups[i]);
    for (int by = LEDGER_SEARCH_NAME; err == LEAL_OK && by < LEDGER_SEARCH_ALL; by++) {
        search_sql((enum ledger_search_by)by, sql, sizeof sql);
        err = plan_ok(l, sql);
    }
    for (size_t i = 0; err == LEAL_OK && i < sizeof verify_checks / sizeof verify_checks[0]; i++)
        err = plan_one_pass(l, verify_checks[i].sql);
    if (err == LEAL_OK)
        err = plan_one_pass(l, VERIFY_BOOKS_SQL);
    return err;
}

/* ---- Terminal packages ---- */

leal_err ledger_terminal_next_package(struct ledger *l, int64_t terminal_id, int64_t *version)
{
    sqlite3_stmt *st;
    leal_err err;
    *version = 0;
    if ((err = tx_begin(l)) != LEAL_OK)
        return err;
    err = find_row(l,
                   "UPDATE terminal SET package_version = package_version + 1 WHERE id = ?1 "
                   "RETURNING package_version",
                   terminal_id, "terminal", &st);
    if (err == LEAL_OK)
        *version = sqlite3_column_int64(st, 0);
    if (err == LEAL_OK)
        err = step(l, st, NULL);
    sqlite3_finalize(st);
    return tx_end_id(l, err, version);
}

leal_err ledger_package_cards(struct ledger *l, int64_t program_id, ledger_package_card_cb cb,
                              void *ctx)
{
    sqlite3_stmt *st;
    leal_err err;
    if ((err = prep_i64(l,
                        "SELECT c.card_id, c.tech, c.status, c.last_counter, c.seen_seq, "
                        "c.seen_mark FROM card c JOIN account a ON a.id = c.account_id "
                        "WHERE a.program_id = ?1 ORDER BY c.card_id",
                        &st, I64S(program_id))) != LEAL_OK)
        return err;
    while (next_row(l, st, &err)) {
        struct ledger_package_card c = {0};
        const char *tech = (const char *)sqlite3_column_text(st, 1);
        const char *status = (const char *)sqlite3_column_text(st, 2);
        c.card_id = sqlite3_column_int64(st, 0);
        if (ledger_card_tech_parse(tech ? tech : "", &c.tech) != LEAL_OK ||
            ledger_card_status_parse(status ? status : "", &c.status) != LEAL_OK) {
            set_msg(l, "card %lld has an unknown tech or status", (long long)c.card_id);
            err = LEAL_E_DB_CORRUPT;
            break;
        }
        c.last_counter = sqlite3_column_int64(st, 3);
        c.has_seen_seq = sqlite3_column_type(st, 4) != SQLITE_NULL;
        c.seen_seq = sqlite3_column_int64(st, 4);
        if (sqlite3_column_type(st, 5) == SQLITE_BLOB &&
            sqlite3_column_bytes(st, 5) == LEDGER_CARD_MARK_LEN) {
            memcpy(c.seen_mark, sqlite3_column_blob(st, 5), LEDGER_CARD_MARK_LEN);
            c.has_seen_mark = true;
        }
        if (cb(ctx, &c) != 0) {
            err = LEAL_E_INTERRUPTED;
            break;
        }
    }
    sqlite3_finalize(st);
    return err;
}
