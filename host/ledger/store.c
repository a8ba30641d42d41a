/*
 * store.c - the SQLite store under the concerns: statements, errors, transactions, batches (see
 * ledger.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/log/log.h"
#include "host/strbuf.h"
#include "ledger.h"
#include "report_sum_sql.h"
#include "store.h"
#include "store_pg.h"
#include "host/grow.h"

/* ---- Statements ---- */

/* This store's statements are SQLite's: struct store_stmt is never defined,
 * a pointer to one is a sqlite3_stmt pointer. */
static sqlite3_stmt *S(struct store_stmt *st)
{
    return (sqlite3_stmt *)(void *)st;
}

const char *const store_sql[ST_COUNT] = {
    [ST_SAVEPOINT] = "SAVEPOINT leal_post",
    [ST_RELEASE] = "RELEASE leal_post",
    [ST_ROLLBACK_TO] = "ROLLBACK TO leal_post",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    /* A read snapshot (ledger_read_begin): the read lock is taken by its first query. */
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
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
    /* The balance moves as a delta in the write transaction (ARCHITECTURE.md: no lost
     * update between concurrent writers). The result is known from the transaction's
     * balance cache (struct bal_cache), read once per transaction with
     * ST_BALANCE_GET, so a negative result is refused without a RETURNING. */
    [ST_BALANCE_ADD] = "INSERT INTO balance(account_id, asset, amount) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT (account_id, asset) DO UPDATE SET amount = balance.amount + ?3",
    [ST_BALANCE_GET] = "SELECT amount FROM balance WHERE account_id = ?1 AND asset = ?2",
    [ST_LOT_INSERT] = "INSERT INTO lot(account_id, asset, line_id, expires_at, original, "
                      "remaining) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    /* Nearest expiry first, lots without expiry last; when reversing an
     * earn, the lots that entry created come first. */
    [ST_LOT_OPEN] = "SELECT id, remaining FROM lot WHERE account_id = ?1 AND asset = ?2 AND "
                    "remaining > 0 ORDER BY (line_id IN (SELECT id FROM line WHERE entry_id = "
                    "?3)) DESC, expires_at IS NULL, expires_at, id",
    /* The same order when no entry is reversed, from the index alone: the
     * nearest dated lot, else the oldest lot without expiry (ST_LOT_OPEN
     * sorts every open lot of the account at each debit). */
    [ST_LOT_DATED] = "SELECT id, remaining FROM lot WHERE account_id = ?1 AND asset = ?2 AND "
                     "remaining > 0 AND expires_at IS NOT NULL ORDER BY expires_at, id LIMIT 1",
    [ST_LOT_UNDATED] = "SELECT id, remaining FROM lot WHERE account_id = ?1 AND asset = ?2 AND "
                       "remaining > 0 AND expires_at IS NULL ORDER BY id LIMIT 1",
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
    [ST_CARD_ACCOUNT] = "SELECT c.account_id, a.program_id FROM card c JOIN account a ON a.id = "
                        "c.account_id WHERE c.card_id = ?1",
    /* The report summaries take the transaction's entries (store_commit). */
    [ST_REPORT_DAY_FLUSH] = REPORT_DAY_FLUSH,
    [ST_REPORT_VISIT_FLUSH] = REPORT_VISIT_FLUSH,
    [ST_REPORT_HELD_FLUSH] = REPORT_HELD_FLUSH,
    [ST_REPORT_REDEEM_FLUSH] = REPORT_REDEEM_FLUSH,
    [ST_REPORT_MARK_MOVE] = REPORT_MARK_MOVE,
};

const char *ledger_errmsg(const struct ledger *l)
{
    return l ? l->msg : "";
}

int ledger_schema_version(const struct ledger *l)
{
    return l ? l->version : 0;
}

/* The leal_err for an SQLite result code (ext: its extended code). */
static leal_err db_code_err(int rc, int ext)
{
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

/* Maps an SQLite result code to a leal_err, keeps SQLite's text for
 * ledger_errmsg and records it in the log (with the extended code) where it
 * became the leal_err. */
leal_err store_db_err(struct ledger *l, int rc)
{
    int ext = sqlite3_extended_errcode(l->db);
    const char *text = sqlite3_errmsg(l->db);
    char what[32];
    store_set_msg(l, "%s", text);
    snprintf(what, sizeof what, "result code %d", ext);
    return log_foreign(db_code_err(rc, ext), "sqlite", what, text);
}

/* A cached statement, reset and with its bindings cleared. store_step() resets a
 * statement that has run to its end or failed, so only one left on a row
 * needs a reset here. */
leal_err store_prep(struct ledger *l, enum st id, struct store_stmt **out)
{
    int rc;
    *out = NULL;
    if (l->pg) {
        leal_err err = LEAL_OK;
        if (l->st[id] == NULL)
            err = store_pg_prep(l, store_sql[id], &l->st[id]);
        else
            store_pg_reset(l->st[id], true);
        *out = l->st[id];
        return err;
    }
    if (l->st[id] == NULL) {
        rc = sqlite3_prepare_v3(l->db, store_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                (sqlite3_stmt **)(void *)&l->st[id], NULL);
        if (rc != SQLITE_OK)
            return store_db_err(l, rc);
    } else {
        if (sqlite3_stmt_busy(S(l->st[id])))
            sqlite3_reset(S(l->st[id]));
        sqlite3_clear_bindings(S(l->st[id]));
    }
    *out = l->st[id];
    return LEAL_OK;
}

/* One-off statements stay prepared after store_finalize, by connection and
 * SQL text, so a process that asks the same questions again (leal desk, a
 * till's service) parses each once: preparing was most of a desk read's
 * ledger time. store_finalize resets one that is here (nothing held, no
 * bindings) and finalizes any other; store_forget finalizes a connection's
 * before it closes. One thread at a time, as every struct ledger. */
#define ONCE_SLOTS 48
static struct once_slot {
    sqlite3 *db;
    sqlite3_stmt *st;
    const char *asked;  /* the text's address when last asked for (a hint only) */
    unsigned long used; /* when last handed out, for eviction */
    bool busy;          /* handed out and not yet finalized */
} once_slots[ONCE_SLOTS];
static unsigned long once_clock;

static bool once_is(const struct once_slot *o, sqlite3 *db, const char *sql)
{
    return o->st && !o->busy && o->db == db && strcmp(sqlite3_sql(o->st), sql) == 0;
}

/* Callers mostly pass the same string constant again: the slot last asked
 * for at that address is tried first (its text still compared: a buffer
 * may hold other SQL at the same address), then every slot by its text. */
static struct once_slot *once_find(sqlite3 *db, const char *sql)
{
    for (int i = 0; i < ONCE_SLOTS; i++)
        if (once_slots[i].asked == sql && once_is(&once_slots[i], db, sql))
            return &once_slots[i];
    for (int i = 0; i < ONCE_SLOTS; i++)
        if (once_is(&once_slots[i], db, sql))
            return &once_slots[i];
    return NULL;
}

/* A slot for a new statement: a free one, else the least recently used
 * one not handed out (finalized), else none. */
static struct once_slot *once_room(void)
{
    struct once_slot *old = NULL;
    for (int i = 0; i < ONCE_SLOTS; i++) {
        struct once_slot *o = &once_slots[i];
        if (o->st == NULL)
            return o;
        if (!o->busy && (old == NULL || o->used < old->used))
            old = o;
    }
    if (old) {
        sqlite3_finalize(old->st);
        memset(old, 0, sizeof *old);
    }
    return old;
}

/* A one-off statement (the caller store_finalize()s it). */
leal_err store_prep_once(struct ledger *l, const char *sql, struct store_stmt **out)
{
    struct once_slot *o;
    sqlite3_stmt *st;
    leal_err err;
    int rc;
    /* A statement that may read balances reads them moved (store_bal_add). */
    if (l->bal_dirty && strstr(sql, "balance") != NULL && (err = store_bal_flush(l)) != LEAL_OK) {
        *out = NULL;
        return err;
    }
    if (l->pg)
        return store_pg_prep(l, sql, out);
    o = once_find(l->db, sql);
    if (o == NULL) {
        rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            *out = NULL;
            return store_db_err(l, rc);
        }
        /* Only a whole single statement is kept (its text is the key). */
        if (st && strcmp(sqlite3_sql(st), sql) == 0 && (o = once_room()) != NULL) {
            o->db = l->db;
            o->st = st;
        }
        if (o == NULL) {
            *out = (struct store_stmt *)(void *)st;
            return LEAL_OK;
        }
    }
    o->busy = true;
    o->asked = sql;
    o->used = ++once_clock;
    *out = (struct store_stmt *)(void *)o->st;
    return LEAL_OK;
}

void store_forget(struct ledger *l)
{
    for (int i = 0; i < ONCE_SLOTS; i++)
        if (once_slots[i].st && once_slots[i].db == l->db) {
            sqlite3_finalize(once_slots[i].st);
            memset(&once_slots[i], 0, sizeof once_slots[i]);
        }
}

/* Steps st once: *row is 1 for a row, 0 when done. A statement that has
 * run to its end (or failed) is reset, ready for new bindings. */
leal_err store_step(struct ledger *l, struct store_stmt *st, int *row)
{
    int rc;
    if (store_pg_owns(st))
        return store_pg_step(l, st, row);
    rc = sqlite3_step(S(st));
    if (row)
        *row = 0;
    if (rc == SQLITE_ROW) {
        if (row)
            *row = 1;
        return LEAL_OK;
    }
    if (rc == SQLITE_DONE) {
        sqlite3_reset(S(st));
        return LEAL_OK;
    }
    {
        leal_err err = store_db_err(l, rc);
        sqlite3_reset(S(st));
        return err;
    }
}

/* 1 while st has a row; 0 at its end or on an error (then in *err). For
 * `while (store_next_row(l, st, &err))`. */
int store_next_row(struct ledger *l, struct store_stmt *st, leal_err *err)
{
    int row;
    *err = store_step(l, st, &row);
    return *err == LEAL_OK && row;
}

/* Steps st once: LEAL_OK on a row; no row is LEAL_E_UNKNOWN_ID naming "what key". */
leal_err store_step_found(struct ledger *l, struct store_stmt *st, const char *what, int64_t key)
{
    int row;
    leal_err err = store_step(l, st, &row);
    if (err == LEAL_OK && !row) {
        store_set_msg(l, "%s %lld", what, (long long)key);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

/* Integer parameters ?1, ?2, ... for the *_i64 helpers: I64S(a, b) is the
 * array and its length. */
#define I64S(...)                                                                                  \
    (const int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

static void store_bind_i64s(struct store_stmt *st, const int64_t *v, int n)
{
    for (int i = 0; i < n; i++)
        store_bind_i64(st, i + 1, v[i]);
}

/* Runs a cached statement whose parameters are all integers, once. */
leal_err store_run_i64(struct ledger *l, enum st id, const int64_t *v, int n)
{
    struct store_stmt *st;
    leal_err err = store_prep(l, id, &st);
    if (err == LEAL_OK) {
        store_bind_i64s(st, v, n);
        err = store_step(l, st, NULL);
        store_reset(st);
    }
    return err;
}

static leal_err store_run(struct ledger *l, enum st id)
{
    return store_run_i64(l, id, NULL, 0);
}

/* A one-off statement with its integer parameters bound (*st NULL on failure). */
leal_err store_prep_i64(struct ledger *l, const char *sql, struct store_stmt **st, const int64_t *v,
                        int n)
{
    leal_err err = store_prep_once(l, sql, st);
    if (err == LEAL_OK)
        store_bind_i64s(*st, v, n);
    return err;
}

/* Runs a one-off statement whose parameters are all integers, once. */
leal_err store_exec_i64(struct ledger *l, const char *sql, const int64_t *v, int n)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(l, sql, &st, v, n);
    if (err == LEAL_OK)
        err = store_step(l, st, NULL);
    store_finalize(st);
    return err;
}

/* A one-off lookup of one row by ?1 = key: on LEAL_OK *st stands on the row;
 * no row is LEAL_E_UNKNOWN_ID naming "what key". The caller finalizes *st. */
leal_err store_find_row(struct ledger *l, const char *sql, int64_t key, const char *what,
                        struct store_stmt **st)
{
    leal_err err = store_prep_i64(l, sql, st, I64S(key));
    return err == LEAL_OK ? store_step_found(l, *st, what, key) : err;
}

/* The first column of the first row of a one-off query, or 0 without a row. */
leal_err store_query_int(struct ledger *l, const char *sql, const int64_t *v, int n, int64_t *out)
{
    struct store_stmt *st;
    int row;
    leal_err err = store_prep_i64(l, sql, &st, v, n);
    *out = 0;
    if (err != LEAL_OK)
        return err;
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        *out = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

void store_col_text(struct store_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = store_col_str(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* ---- The transaction's cache ---- */

static bool store_in_tx(struct ledger *l);

static void store_txc_clear(struct ledger *l)
{
    if (l->cache.used)
        memset(l->cache.slot, 0, l->cache.cap * sizeof *l->cache.slot);
    l->cache.used = 0;
    memset(&l->untaken, 0, sizeof l->untaken);
    l->bal_dirty = false;
    l->undo_n = 0;
    l->sp_depth = 0;
}

bool ledger_lost(const struct ledger *l)
{
    return l && l->pg && store_pg_lost(l);
}

leal_err ledger_reconnect(struct ledger *l)
{
    if (l == NULL || l->pg == NULL)
        return LEAL_OK;
    leal_err err = store_pg_reconnect(l);
    /* A lost connection's balances cached for its transaction are gone with it. */
    if (err != LEAL_OK || !store_pg_in_tx(l))
        store_txc_clear(l);
    return err;
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
leal_err store_txc_get(struct ledger *l, enum txc_kind what, int64_t id, const char *asset,
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

void store_txc_keep(struct ledger *l, struct txc_slot *s, enum txc_kind what, int64_t id,
                    const char *asset)
{
    s->what = what;
    s->id = id;
    snprintf(s->asset, sizeof s->asset, "%s", asset);
    l->cache.used++;
}

/* The balance's cache slot, read from the ledger (0 without a row) the first
 * time this transaction asks. */
leal_err store_bal_get(struct ledger *l, int64_t account_id, const char *asset,
                       struct txc_slot **out)
{
    struct store_stmt *st;
    leal_err err;
    int row, fresh;
    if ((err = store_txc_get(l, TXC_BALANCE, account_id, asset, out, &fresh)) != LEAL_OK || !fresh)
        return err;
    if ((err = store_prep(l, ST_BALANCE_GET, &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, account_id);
    store_bind_text(st, 2, asset);
    err = store_step(l, st, &row);
    (*out)->v = row ? store_col_i64(st, 0) : 0;
    (*out)->db = (*out)->v;
    (*out)->v2 = row;
    store_reset(st);
    if (err == LEAL_OK)
        store_txc_keep(l, *out, TXC_BALANCE, account_id, asset);
    return err;
}

/* Inside a savepoint: s as it is now, for a ROLLBACK TO (store_undo). */
static leal_err bal_touch(struct ledger *l, const struct txc_slot *s)
{
    struct txc_undo *u;
    if (l->sp_depth == 0)
        return LEAL_OK;
    if (grow_room(&l->undo, &l->undo_cap, l->undo_n, sizeof *l->undo) != LEAL_OK)
        return LEAL_E_NO_MEMORY;
    u = &l->undo[l->undo_n++];
    u->account = s->id;
    u->v = s->v;
    u->v2 = s->v2;
    u->db = s->db;
    memcpy(u->asset, s->asset, sizeof u->asset);
    return LEAL_OK;
}

leal_err store_bal_add(struct ledger *l, struct txc_slot *s, int64_t amount)
{
    int64_t sum;
    leal_err err;
    if (__builtin_add_overflow(s->v, amount, &sum)) {
        store_set_msg(l, "account %lld: %s balance out of range", (long long)s->id, s->asset);
        return LEAL_E_OVERFLOW;
    }
    if ((err = bal_touch(l, s)) != LEAL_OK)
        return err;
    s->v = sum;
    if (s->v2 == 0)
        s->v2 = -1; /* its row is made, even if the moves sum to 0 */
    l->bal_dirty = true;
    return LEAL_OK;
}

/* PostgreSQL's store_bal_flush: every moved balance in one statement, its
 * accounts, assets and deltas as three arrays (ST_BALANCE_ADD for each, one
 * round trip in all). */
#define BAL_ADD_ALL_SQL                                                                            \
    "INSERT INTO balance(account_id, asset, amount) SELECT a, s, d FROM unnest(?1::bigint[], "     \
    "?2::text[], ?3::bigint[]) AS u(a, s, d) ON CONFLICT (account_id, asset) DO UPDATE SET "       \
    "amount = balance.amount + excluded.amount"

/* One element of an array literal: ',' before all but the first; text in
 * double quotes with '"' and '\\' escaped. */
static void array_elem(struct strbuf *b, const char *text, int64_t v)
{
    if (b->len > 1)
        strbuf_add(b, ",", 1);
    if (text == NULL) {
        strbuf_printf(b, "%lld", (long long)v);
        return;
    }
    strbuf_add(b, "\"", 1);
    for (const char *c = text; *c; c++) {
        if (*c == '"' || *c == '\\')
            strbuf_add(b, "\\", 1);
        strbuf_add(b, c, 1);
    }
    strbuf_add(b, "\"", 1);
}

static leal_err bal_flush_pg(struct ledger *l)
{
    struct strbuf acc = {0}, asset = {0}, delta = {0};
    leal_err err = LEAL_OK;
    bool any = false;
    strbuf_add(&acc, "{", 1);
    strbuf_add(&asset, "{", 1);
    strbuf_add(&delta, "{", 1);
    for (size_t i = 0; i < l->cache.cap && err == LEAL_OK; i++) {
        struct txc_slot *s = &l->cache.slot[i];
        if (s->what != TXC_BALANCE || (s->v == s->db && s->v2 >= 0))
            continue;
        if ((err = bal_touch(l, s)) != LEAL_OK)
            break;
        array_elem(&acc, NULL, s->id);
        array_elem(&asset, s->asset, 0);
        array_elem(&delta, NULL, s->v - s->db);
        any = true;
    }
    strbuf_add(&acc, "}", 1);
    strbuf_add(&asset, "}", 1);
    strbuf_add(&delta, "}", 1);
    if (err == LEAL_OK && (err = strbuf_err(&acc)) == LEAL_OK &&
        (err = strbuf_err(&asset)) == LEAL_OK)
        err = strbuf_err(&delta);
    /* Clean before the write: store_prep_once flushes a dirty cache first. */
    l->bal_dirty = false;
    if (err == LEAL_OK && any)
        err = store_write(l, BAL_ADD_ALL_SQL,
                          SVALS(SV_TEXT(acc.p), SV_TEXT(asset.p), SV_TEXT(delta.p)), NULL);
    for (size_t i = 0; err == LEAL_OK && i < l->cache.cap; i++) {
        struct txc_slot *s = &l->cache.slot[i];
        if (s->what != TXC_BALANCE || (s->v == s->db && s->v2 >= 0))
            continue;
        s->db = s->v;
        s->v2 = 1;
    }
    strbuf_free(&acc);
    strbuf_free(&asset);
    strbuf_free(&delta);
    if (err != LEAL_OK)
        l->bal_dirty = true;
    return err;
}

leal_err store_bal_flush(struct ledger *l)
{
    leal_err err = LEAL_OK;
    if (!l->bal_dirty)
        return LEAL_OK;
    if (!store_in_tx(l)) {
        store_txc_clear(l);
        return LEAL_OK;
    }
    if (l->pg)
        return bal_flush_pg(l);
    for (size_t i = 0; i < l->cache.cap && err == LEAL_OK; i++) {
        struct txc_slot *s = &l->cache.slot[i];
        if (s->what != TXC_BALANCE || (s->v == s->db && s->v2 >= 0))
            continue;
        if ((err = bal_touch(l, s)) == LEAL_OK &&
            (err = store_run_vals(l, ST_BALANCE_ADD,
                                  SVALS(SV_I64(s->id), SV_TEXT(s->asset), SV_I64(s->v - s->db)),
                                  NULL)) == LEAL_OK) {
            s->db = s->v;
            s->v2 = 1;
        }
    }
    if (err == LEAL_OK)
        l->bal_dirty = false;
    return err;
}

/* A ROLLBACK TO of the innermost savepoint: the balance slots as they were
 * when it began (its rows went back with it). */
static void store_undo(struct ledger *l)
{
    size_t mark = l->sp_mark[l->sp_depth - 1];
    while (l->undo_n > mark) {
        const struct txc_undo *u = &l->undo[--l->undo_n];
        struct txc_slot *s = txc_find(&l->cache, TXC_BALANCE, u->account, u->asset);
        if (s->what != TXC_BALANCE)
            continue; /* never: slots are only dropped all at once */
        s->v = u->v;
        s->v2 = u->v2;
        s->db = u->db;
        if (s->v != s->db || s->v2 < 0)
            l->bal_dirty = true;
    }
}

leal_err store_card_get(struct ledger *l, int64_t card_id, struct txc_slot **out, int *found)
{
    struct store_stmt *st;
    leal_err err;
    int fresh;
    *found = 1;
    if ((err = store_txc_get(l, TXC_CARD, card_id, "", out, &fresh)) != LEAL_OK || !fresh)
        return err;
    if ((err = store_prep(l, ST_CARD_ACCOUNT, &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, card_id);
    err = store_step(l, st, found);
    if (err == LEAL_OK && *found) {
        (*out)->v = store_col_i64(st, 0);
        (*out)->v2 = store_col_i64(st, 1);
        store_txc_keep(l, *out, TXC_CARD, card_id, "");
    }
    store_reset(st);
    return err;
}

leal_err store_terminal_get(struct ledger *l, int64_t terminal_id, struct txc_slot **out)
{
    struct store_stmt *st;
    leal_err err;
    int fresh;
    if ((err = store_txc_get(l, TXC_TERMINAL, terminal_id, "", out, &fresh)) != LEAL_OK ||
        (!fresh && (*out)->v2 != 0))
        return err;
    if ((err = store_prep(l, ST_TERMINAL_GET, &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, terminal_id);
    err = store_step_found(l, st, "terminal", terminal_id);
    if (err == LEAL_OK) {
        (*out)->v = store_col_i64(st, 0);
        (*out)->v2 = store_col_i64(st, 1);
        (*out)->db = store_col_i64(st, 2);
        if (fresh)
            store_txc_keep(l, *out, TXC_TERMINAL, terminal_id, "");
    }
    store_reset(st);
    return err;
}

void store_txc_terminal_moved(struct ledger *l, int64_t terminal_id)
{
    struct txc_slot *s;
    if (l->cache.cap == 0)
        return;
    s = txc_find(&l->cache, TXC_TERMINAL, terminal_id, "");
    if (s->what == TXC_TERMINAL)
        s->v2 = 0;
}

enum ledger_account_kind ledger_account_kind_of(const unsigned char *k)
{
    if (k && strcmp((const char *)k, "program") == 0)
        return LEDGER_ACCOUNT_PROGRAM;
    if (k && strcmp((const char *)k, "gift") == 0)
        return LEDGER_ACCOUNT_GIFT;
    return LEDGER_ACCOUNT_CUSTOMER;
}

#define PREFETCH_CARDS_SQL                                                                         \
    "SELECT c.card_id, c.account_id, a.program_id, a.kind, b.asset, b.amount FROM card c JOIN "    \
    "account a ON a.id = c.account_id LEFT JOIN balance b ON b.account_id = a.id WHERE c.card_id " \
    "= ANY(?1::bigint[])"

/* One row of PREFETCH_CARDS_SQL into the cache. */
static leal_err prefetch_row(struct ledger *l, struct store_stmt *st)
{
    struct txc_slot *s;
    int64_t account = store_col_i64(st, 1), program = store_col_i64(st, 2);
    int fresh;
    leal_err err = store_txc_get(l, TXC_CARD, store_col_i64(st, 0), "", &s, &fresh);
    if (err == LEAL_OK && fresh) {
        s->v = account;
        s->v2 = program;
        store_txc_keep(l, s, TXC_CARD, store_col_i64(st, 0), "");
    }
    if (err == LEAL_OK &&
        (err = store_txc_get(l, TXC_ACCOUNT, account, "", &s, &fresh)) == LEAL_OK && fresh) {
        s->v = program;
        s->kind = ledger_account_kind_of(store_col_str(st, 3));
        store_txc_keep(l, s, TXC_ACCOUNT, account, "");
    }
    if (err != LEAL_OK || store_col_type(st, 4) == STORE_NULL)
        return err;
    char asset[LEDGER_MAX_ASSET];
    store_col_text(st, 4, asset, sizeof asset);
    if ((err = store_txc_get(l, TXC_BALANCE, account, asset, &s, &fresh)) == LEAL_OK && fresh) {
        s->v = s->db = store_col_i64(st, 5);
        s->v2 = 1;
        store_txc_keep(l, s, TXC_BALANCE, account, asset);
    }
    return err;
}

leal_err store_txc_prefetch_cards(struct ledger *l, const int64_t *cards, size_t n)
{
    struct strbuf ids = {0};
    struct store_stmt *st;
    leal_err err;
    if (l->pg == NULL || n == 0 || !store_in_tx(l) || l->in_read)
        return LEAL_OK;
    strbuf_add(&ids, "{", 1);
    for (size_t i = 0; i < n; i++)
        array_elem(&ids, NULL, cards[i]);
    strbuf_add(&ids, "}", 1);
    if ((err = strbuf_err(&ids)) != LEAL_OK) {
        strbuf_free(&ids);
        return err;
    }
    if ((err = store_prep_once(l, PREFETCH_CARDS_SQL, &st)) == LEAL_OK) {
        store_bind_text(st, 1, ids.p);
        while (err == LEAL_OK && store_next_row(l, st, &err))
            err = prefetch_row(l, st);
        store_finalize(st);
    }
    strbuf_free(&ids);
    return err;
}

leal_err store_expiry_get(struct ledger *l, int64_t program_id, int64_t *days)
{
    struct txc_slot *s;
    int fresh;
    leal_err err = store_txc_get(l, TXC_EXPIRY, program_id, "", &s, &fresh);
    if (err == LEAL_OK && fresh &&
        (err = store_query_cached(l, ST_PROGRAM_EXPIRY, program_id, &s->v)) == LEAL_OK)
        store_txc_keep(l, s, TXC_EXPIRY, program_id, "");
    *days = err == LEAL_OK ? s->v : 0;
    return err;
}

/* ---- Transactions ---- */

/* Inside a transaction (a batch, a read snapshot, a failed write's). */
static bool store_in_tx(struct ledger *l)
{
    return l->pg ? store_pg_in_tx(l) : !sqlite3_get_autocommit(l->db);
}

/* A write asked for inside a read snapshot (ledger_read_begin). */
static leal_err read_only(struct ledger *l)
{
    store_set_msg(l, "a read snapshot is open: end it before writing");
    return LEAL_E_STATE;
}

/* BEGIN IMMEDIATE: the write lock up front, so two writers never deadlock
 * upgrading a read. What the balance cache held belongs to an older snapshot. */
static leal_err store_begin_write(struct ledger *l)
{
    store_txc_clear(l);
    l->summarize = false;
    return store_run(l, ST_BEGIN);
}

/* COMMIT, the report summaries first taking the entries the transaction
 * posted: one pass over them per transaction (a batch's 10,000 at once),
 * inside it, so the summaries and the entries never disagree. */
static leal_err store_commit(struct ledger *l)
{
    leal_err err = store_bal_flush(l);
    if (err == LEAL_OK && l->summarize && !l->pg) {
        err = store_run(l, ST_REPORT_DAY_FLUSH);
        if (err == LEAL_OK)
            err = store_run(l, ST_REPORT_VISIT_FLUSH);
        if (err == LEAL_OK)
            err = store_run(l, ST_REPORT_HELD_FLUSH);
        if (err == LEAL_OK)
            err = store_run(l, ST_REPORT_REDEEM_FLUSH);
        if (err == LEAL_OK)
            err = store_run(l, ST_REPORT_MARK_MOVE);
    }
    l->summarize = false;
    return err == LEAL_OK ? store_run(l, ST_COMMIT) : err;
}

/* Every write: its own transaction, a savepoint inside the caller's batch, or
 * nothing inside a batch that fails whole. */
leal_err store_tx_begin(struct ledger *l)
{
    leal_err err;
    if (l->in_read)
        return read_only(l);
    switch (l->in_batch) {
    case BATCH_WHOLE:
    case BATCH_CHECKED:
        if (l->batch_failed) {
            store_set_msg(l, "an earlier write failed this batch; roll it back");
            return LEAL_E_STATE;
        }
        return LEAL_OK;
    case BATCH_SAVEPOINT:
        if (l->sp_depth == STORE_SAVEPOINTS) {
            store_set_msg(l, "more than %d writes inside one another", STORE_SAVEPOINTS);
            return LEAL_E_STATE;
        }
        if ((err = store_run(l, ST_SAVEPOINT)) == LEAL_OK)
            l->sp_mark[l->sp_depth++] = l->undo_n;
        return err;
    case BATCH_NONE:
        break;
    }
    return store_begin_write(l);
}

leal_err store_tx_end(struct ledger *l, leal_err err)
{
    if (l->in_batch == BATCH_WHOLE || l->in_batch == BATCH_CHECKED) {
        /* Half a post is in the transaction: the batch can only be rolled back. */
        if (err != LEAL_OK)
            l->batch_failed = true;
        return err;
    }
    if (err == LEAL_OK) {
        err = l->in_batch ? store_run(l, ST_RELEASE) : store_commit(l);
        if (err == LEAL_OK) {
            /* The savepoint's moves are its caller's now (the whole
             * transaction's at the outermost). */
            if (l->in_batch && --l->sp_depth == 0)
                l->undo_n = 0;
            return LEAL_OK;
        }
    }
    if (l->in_batch && l->sp_depth > 0) {
        store_undo(l);
        if (--l->sp_depth == 0)
            l->undo_n = 0;
        if (store_run(l, ST_ROLLBACK_TO) == LEAL_OK && store_run(l, ST_RELEASE) == LEAL_OK)
            return err;
    }
    store_txc_clear(l);
    if (store_in_tx(l))
        (void)store_run(l, ST_ROLLBACK);
    return err;
}

/* tx_end for a function that hands back a new id: a failed transaction leaves *id 0. */
leal_err store_tx_end_id(struct ledger *l, leal_err err, int64_t *id)
{
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *id = 0;
    return err;
}

leal_err store_exec(struct ledger *l, const char *sql)
{
    leal_err err;
    int rc;
    if (l->bal_dirty && strstr(sql, "balance") != NULL && (err = store_bal_flush(l)) != LEAL_OK)
        return err;
    if (l->pg)
        return store_pg_exec(l, sql);
    rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LEAL_OK : store_db_err(l, rc);
}

/* The tables an import grows, for ledger_stats_refresh. */
#define STATS_IMPORT_TABLES "ANALYZE entry, line, lot, terminal_entry, balance"

leal_err ledger_stats_refresh(struct ledger *l, int64_t n)
{
    int64_t counted = 0;
    leal_err err;
    if (l->pg == NULL || n == 0)
        return LEAL_OK;
    if (store_in_tx(l)) {
        store_set_msg(l, "statistics are refreshed between transactions");
        return LEAL_E_STATE;
    }
    if (n < 0)
        return store_pg_exec(l, "ANALYZE");
    /* reltuples: -1 never counted (PostgreSQL 14 and later). */
    if ((err = store_query_int(
             l, "SELECT reltuples::bigint FROM pg_class WHERE oid = 'entry'::regclass", NULL, 0,
             &counted)) != LEAL_OK)
        return err;
    if (counted >= 0 && n <= counted / 10)
        return LEAL_OK;
    return store_pg_exec(l, STATS_IMPORT_TABLES);
}

/* A connection that imports (whole batches) dirties index and balance pages
 * all over a large file at every commit. It checkpoints every 64 Ki pages of
 * WAL (256 MiB at 4 KiB pages) instead of every 1000: a page that every
 * batch rewrites is copied into the file once per checkpoint rather than
 * once per commit (the WAL itself still takes each commit whole, and
 * synchronous=FULL still syncs it). ledger_close checkpoints what it leaves. */
static leal_err bulk_settings(struct ledger *l)
{
    leal_err err;
    if (l->bulk || l->pg)
        return LEAL_OK;
    if ((err = store_exec(l, "PRAGMA wal_autocheckpoint = 65536")) != LEAL_OK)
        return err;
    l->bulk = true;
    return LEAL_OK;
}

static leal_err batch_begin(struct ledger *l, enum batch_mode mode)
{
    leal_err err;
    if (l->in_batch)
        return LEAL_E_STATE;
    if (l->in_read)
        return read_only(l);
    if (mode != BATCH_SAVEPOINT && (err = bulk_settings(l)) != LEAL_OK)
        return err;
    err = store_begin_write(l);
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

leal_err ledger_batch_begin_checked(struct ledger *l)
{
    return batch_begin(l, BATCH_CHECKED);
}

leal_err ledger_batch_commit(struct ledger *l)
{
    leal_err err;
    if (!l->in_batch)
        return LEAL_E_STATE;
    if (l->batch_failed) {
        ledger_batch_rollback(l);
        store_set_msg(l, "a write in the batch failed; the batch was rolled back");
        return LEAL_E_STATE;
    }
    err = store_commit(l);
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
    if (store_in_tx(l))
        (void)store_run(l, ST_ROLLBACK);
    store_txc_clear(l);
    l->in_batch = BATCH_NONE;
    l->batch_failed = false;
}

/* Each statement outside a transaction is a transaction of its own, whose
 * start costs more than a lookup by key (WAL read lock, a check that the
 * file is unchanged): several lookups in a row share one here. */
leal_err ledger_read_begin(struct ledger *l)
{
    leal_err err;
    if (l->in_batch || l->in_read || store_in_tx(l))
        return LEAL_E_STATE;
    if ((err = store_run(l, ST_BEGIN_READ)) == LEAL_OK)
        l->in_read = true;
    return err;
}

void ledger_read_end(struct ledger *l)
{
    if (!l->in_read)
        return;
    l->in_read = false;
    if (store_in_tx(l))
        (void)store_run(l, ST_COMMIT);
}

/* LEAL_OK if a cached single-key lookup finds a row, LEAL_E_UNKNOWN_ID naming what otherwise. */
leal_err store_exists(struct ledger *l, enum st id, int64_t key, const char *what)
{
    struct store_stmt *st;
    leal_err err = store_prep(l, id, &st);
    if (err != LEAL_OK)
        return err;
    store_bind_i64(st, 1, key);
    err = store_step_found(l, st, what, key);
    store_reset(st);
    return err;
}

leal_err store_table_names(struct ledger *l, char (*names)[64], int cap, int *n)
{
    struct store_stmt *st;
    leal_err err = store_prep_once(
        l,
        l->pg ? "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
              : "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1",
        &st);
    *n = 0;
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        if (*n == cap) {
            store_set_msg(l, "more than %d tables", cap);
            err = LEAL_E_TOO_LARGE;
            break;
        }
        store_col_text(st, 0, names[(*n)++], 64);
    }
    store_reset(st);
    store_finalize(st);
    return err;
}

leal_err store_pragma_int(struct ledger *l, const char *sql, int64_t *v)
{
    return store_query_int(l, sql, NULL, 0, v);
}

leal_err store_pragma_text(struct ledger *l, const char *sql, char *out, size_t cap)
{
    struct store_stmt *st;
    int row;
    leal_err err = store_prep_once(l, sql, &st);
    out[0] = '\0';
    if (err != LEAL_OK)
        return err;
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        store_col_text(st, 0, out, cap);
    store_finalize(st);
    return err;
}

void store_bind(struct store_stmt *st, const struct store_val *v, int n)
{
    store_bind_at(st, 1, v, n);
}

void store_bind_at(struct store_stmt *st, int first, const struct store_val *v, int n)
{
    if (store_pg_owns(st)) {
        for (int i = 0; i < n; i++)
            store_pg_bind(st, first + i, &v[i]);
        return;
    }
    for (int i = 0; i < n; i++) {
        switch (v[i].kind) {
        case STORE_I64:
            sqlite3_bind_int64(S(st), first + i, v[i].i);
            break;
        case STORE_TEXT:
            sqlite3_bind_text(S(st), first + i, v[i].p, -1, SQLITE_STATIC);
            break;
        case STORE_BLOB:
            sqlite3_bind_blob(S(st), first + i, v[i].p, (int)v[i].n, SQLITE_STATIC);
            break;
        case STORE_NULL:
            sqlite3_bind_null(S(st), first + i);
            break;
        }
    }
}

static leal_err write_step(struct ledger *l, struct store_stmt *st, int64_t *new_id)
{
    leal_err err = store_step(l, st, NULL);
    if (new_id)
        *new_id = err != LEAL_OK ? 0 : l->pg ? l->pg_last_id : sqlite3_last_insert_rowid(l->db);
    return err;
}

leal_err store_write(struct ledger *l, const char *sql, const struct store_val *v, int n,
                     int64_t *new_id)
{
    struct store_stmt *st;
    leal_err err = store_prep_once(l, sql, &st);
    if (err == LEAL_OK) {
        store_bind(st, v, n);
        err = write_step(l, st, new_id);
    } else if (new_id) {
        *new_id = 0;
    }
    store_finalize(st);
    return err;
}

leal_err store_run_vals(struct ledger *l, enum st id, const struct store_val *v, int n,
                        int64_t *new_id)
{
    struct store_stmt *st;
    leal_err err = store_prep(l, id, &st);
    if (err == LEAL_OK) {
        store_bind(st, v, n);
        err = write_step(l, st, new_id);
        store_reset(st);
    } else if (new_id) {
        *new_id = 0;
    }
    return err;
}

int64_t store_changes(struct ledger *l)
{
    return l->pg ? l->pg_changes : sqlite3_changes64(l->db);
}

leal_err store_changed(struct ledger *l, const char *what, int64_t key)
{
    if (store_changes(l) != 0)
        return LEAL_OK;
    store_set_msg(l, "%s %lld", what, (long long)key);
    return LEAL_E_UNKNOWN_ID;
}

leal_err store_query_cached(struct ledger *l, enum st id, int64_t key, int64_t *out)
{
    struct store_stmt *st;
    int row;
    leal_err err = store_prep(l, id, &st);
    *out = 0;
    if (err != LEAL_OK)
        return err;
    store_bind_i64(st, 1, key);
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        *out = store_col_i64(st, 0);
    store_reset(st);
    return err;
}

void store_bind_i64(struct store_stmt *st, int i, int64_t v)
{
    if (store_pg_owns(st))
        store_pg_bind(st, i, &SV_I64(v));
    else
        sqlite3_bind_int64(S(st), i, v);
}

void store_bind_text(struct store_stmt *st, int i, const char *s)
{
    if (store_pg_owns(st))
        store_pg_bind(st, i, &SV_TEXT(s));
    else
        sqlite3_bind_text(S(st), i, s, -1, SQLITE_STATIC);
}

void store_bind_blob(struct store_stmt *st, int i, const void *p, size_t n)
{
    if (store_pg_owns(st))
        store_pg_bind(st, i, &SV_BLOB(p, n));
    else
        sqlite3_bind_blob(S(st), i, p, (int)n, SQLITE_STATIC);
}

int64_t store_col_i64(struct store_stmt *st, int i)
{
    return store_pg_owns(st) ? store_pg_col_i64(st, i) : sqlite3_column_int64(S(st), i);
}

const unsigned char *store_col_str(struct store_stmt *st, int i)
{
    return store_pg_owns(st) ? store_pg_col_str(st, i) : sqlite3_column_text(S(st), i);
}

const void *store_col_blob(struct store_stmt *st, int i)
{
    return store_pg_owns(st) ? store_pg_col_blob(st, i) : sqlite3_column_blob(S(st), i);
}

int store_col_bytes(struct store_stmt *st, int i)
{
    return store_pg_owns(st) ? store_pg_col_bytes(st, i) : sqlite3_column_bytes(S(st), i);
}

int store_col_count(struct store_stmt *st)
{
    return store_pg_owns(st) ? store_pg_col_count(st) : sqlite3_column_count(S(st));
}

const char *store_col_name(struct store_stmt *st, int i)
{
    return store_pg_owns(st) ? store_pg_col_name(st, i) : sqlite3_column_name(S(st), i);
}

enum store_kind store_col_type(struct store_stmt *st, int i)
{
    if (store_pg_owns(st))
        return store_pg_col_type(st, i);
    switch (sqlite3_column_type(S(st), i)) {
    case SQLITE_INTEGER:
        return STORE_I64;
    case SQLITE_TEXT:
        return STORE_TEXT;
    case SQLITE_BLOB:
        return STORE_BLOB;
    default:
        return STORE_NULL;
    }
}

void store_reset(struct store_stmt *st)
{
    if (store_pg_owns(st))
        store_pg_reset(st, false);
    else
        sqlite3_reset(S(st));
}

void store_reset_clear(struct store_stmt *st)
{
    if (store_pg_owns(st)) {
        store_pg_reset(st, true);
        return;
    }
    sqlite3_reset(S(st));
    sqlite3_clear_bindings(S(st));
}

void store_finalize(struct store_stmt *st)
{
    if (store_pg_owns(st)) {
        store_pg_finalize(st);
        return;
    }
    for (int i = 0; st && i < ONCE_SLOTS; i++)
        if (once_slots[i].st == S(st)) {
            sqlite3_reset(S(st));
            sqlite3_clear_bindings(S(st));
            once_slots[i].busy = false;
            return;
        }
    sqlite3_finalize(S(st));
}

void store_end_read(struct ledger *l)
{
    if (l->pg)
        (void)store_pg_exec(l, "COMMIT");
    else
        (void)sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
}
