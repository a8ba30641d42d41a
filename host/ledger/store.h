/*
 * store.h - the seam between the ledger's concerns and its database. The
 * concerns (ledger_card, _customer, _pending, _post, _program, _query,
 * _verify) hold the book-keeping and reach the database only through these
 * functions: statements by SQL text with ?N parameters (struct store_val),
 * rows through store_col_*, one write transaction at a time (store_tx_*),
 * errors as leal_err with the detail in l->msg. They include no SQLite
 * header. store.c and ledger_open.c implement it on SQLite; ledger.h says
 * where another backend plugs in. Private to host/ledger. Hosted; one
 * thread at a time.
 */
#ifndef LEAL_LEDGER_STORE_H
#define LEAL_LEDGER_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "keys/crypto.h"
#include "ledger.h"

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
    ST_BEGIN_READ,
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
    ST_LOT_DATED,
    ST_LOT_UNDATED,
    ST_LOT_TAKE,
    ST_LOT_USE_INSERT,
    ST_LOT_USED_BY,
    ST_LOT_GIVE,
    ST_LOT_USE_GIVE,
    ST_PROGRAM_EXPIRY,
    ST_ACCOUNT_FULL,
    ST_CARD_ACCOUNT,
    ST_REPORT_DAY_FLUSH,
    ST_REPORT_VISIT_FLUSH,
    ST_REPORT_HELD_FLUSH,
    ST_REPORT_REDEEM_FLUSH,
    ST_REPORT_MARK_MOVE,
    ST_COUNT
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
    TXC_CARD,    /* (card, ""): v = account, v2 = its program (cards never change account) */
    /* (terminal, ""): v = its store, v2 = the store's program, db = its
     * epoch; v2 0 when the epoch moved since (store_txc_terminal_moved): read
     * again. Terminals never change store. */
    TXC_TERMINAL,
    TXC_EXPIRY, /* (program, ""): v = its points_expiry_days (never updated) */
    /* An import's reads of what it does not write (ledger_terminal.c):
     * (terminal, package version in decimal): v = its rule-set version, v2
     * 1 when package_rules has the row, 0 when not; (program, ""): v = its
     * newest rule-set version (0: none). */
    TXC_PACKAGE_RULES,
    TXC_RULES_NEWEST,
};

struct txc_slot {
    int64_t id;
    int64_t v, v2;
    /* TXC_BALANCE: what the balance row holds so far in this transaction;
     * v - db is the delta store_bal_flush writes (v2: 1 the row exists, 0
     * not, -1 not yet but a line moved it: the row is made even when the
     * moves sum to 0, as ledger verify expects). */
    int64_t db;
    enum txc_kind what;
    enum ledger_account_kind kind;
    char asset[LEDGER_MAX_ASSET];
};

struct txc {
    struct txc_slot *slot;
    size_t cap, used;
};

/* A balance slot as it was before a post inside a savepoint moved it
 * (store_bal_add, store_bal_flush): a ROLLBACK TO puts it back. */
struct txc_undo {
    int64_t account;
    int64_t v, v2, db;
    char asset[LEDGER_MAX_ASSET];
};

/* Savepoints inside one another (a post inside a caller's write). */
#define STORE_SAVEPOINTS 16

enum batch_mode {
    BATCH_NONE,
    BATCH_SAVEPOINT, /* a failed post undoes only itself */
    BATCH_WHOLE,     /* a failed post fails the batch: only a rollback follows */
    /* As BATCH_WHOLE, except that a post the ledger refuses before writing
     * anything (ledger_post's checks) leaves the batch going on. */
    BATCH_CHECKED,
};

/* terminal_entry's columns as an INSERT names them (ledger_terminal.c,
 * ledger_post.c). */
#define STORE_TE_INSERT                                                                            \
    "INSERT INTO terminal_entry(terminal_id, epoch, seq, op, card_id, at, key_version, mac, "      \
    "outcome, entry_id, raw, taken_at)"

/* PostgreSQL: the terminal_entry row ledger_terminal_take is taking
 * (l->te while it books the entry). The post keyed by the same (terminal,
 * epoch, seq) writes it in the entry's own statement, outcome 'posted' and
 * entry_id the new entry, and sets entry_id here; a post that then fails
 * sets it back to 0 (its savepoint took the row away with it), and the
 * taker writes the row itself when entry_id is not its posted entry. */
struct store_te_row {
    int64_t terminal, epoch, seq, op, card_id, at, key_version, taken_at;
    const void *mac, *raw;
    size_t mac_len, raw_len;
    int64_t entry_id;
};

/* A prepared statement of the store (opaque: SQLite's in store.c). */
struct store_stmt;
struct sqlite3;
struct pg_conn; /* libpq's PGconn */

struct ledger {
    struct sqlite3 *db;
    /* Not NULL: a PostgreSQL ledger (store_pg.h), db is NULL. */
    struct pg_conn *pg;
    int64_t pg_changes, pg_last_id;
    /* In a write transaction (BEGIN IMMEDIATE), and whether a statement of
     * it changed a row: then its COMMIT first raises ledger_version
     * (store_pg.c); a replay or a check that writes nothing leaves it. */
    bool pg_write, pg_wrote;
    struct store_stmt *st[ST_COUNT];
    /* Customer search, prepared once per form (a desk searches again and again). */
    struct store_stmt *search_st[LEDGER_SEARCH_ALL + 1];
    enum batch_mode in_batch;
    bool batch_failed;
    bool bulk;    /* has run a whole batch: bulk settings, checkpoint at close */
    bool in_read; /* between ledger_read_begin and ledger_read_end */
    /* The write transaction posted entries: the report summaries take
     * them before its COMMIT (SQLite only; report_sum_sql.h). */
    bool summarize;
    struct txc cache;
    /* Terminal keys (terminal, epoch, seq first..last) this write
     * transaction found untaken under its lock (ledger_terminal_untaken):
     * no entry holds one either (an entry with a terminal key is posted in
     * the transaction that takes its terminal_entry), so a post keyed by one
     * does not look for it (key_lookup); the unique index still refuses a
     * second. Emptied with the cache. */
    struct {
        int64_t terminal, epoch, first, last;
    } untaken;
    /* PostgreSQL: the journal entry being taken (struct store_te_row), or NULL. */
    struct store_te_row *te;
    /* Balance moves in the cache not yet written (store_bal_flush), and
     * the undo log of the savepoints open (sp_mark[i]: its length when the
     * i-th began). */
    bool bal_dirty;
    struct txc_undo *undo;
    size_t undo_n, undo_cap;
    size_t sp_mark[STORE_SAVEPOINTS];
    int sp_depth;
    /* SHA-256 of an entry's content (ledger_open_with). */
    const struct crypto_provider *crypto;
    int version;
    char msg[512];
};

/* Integer parameters ?1, ?2, ... for the *_i64 helpers: I64S(a, b) is the
 * array and its length. */
#define I64S(...)                                                                                  \
    (const int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

/* One parameter of a statement. SV_TEXT(NULL) and SV_BLOB(NULL, 0) bind SQL NULL. */
enum store_kind { STORE_NULL, STORE_I64, STORE_TEXT, STORE_BLOB };
struct store_val {
    enum store_kind kind;
    int64_t i;
    const void *p;
    size_t n;
};
#define SV_NULL ((struct store_val){.kind = STORE_NULL})
#define SV_I64(v) ((struct store_val){.kind = STORE_I64, .i = (v)})
#define SV_TEXT(s) ((struct store_val){.kind = STORE_TEXT, .p = (s)})
#define SV_BLOB(b, len) ((struct store_val){.kind = STORE_BLOB, .p = (b), .n = (len)})
/* NULL for "" and for 0: the optional columns. */
#define SV_TEXT_OR_NULL(s)                                                                         \
    ((struct store_val){.kind = (s) && (s)[0] ? STORE_TEXT : STORE_NULL, .p = (s)})
#define SV_I64_OR_NULL(v) ((struct store_val){.kind = (v) ? STORE_I64 : STORE_NULL, .i = (v)})
/* Parameters ?1, ?2, ...: SVALS(SV_I64(a), SV_TEXT(b)) is the array and its length. */
#define SVALS(...)                                                                                 \
    (const struct store_val[]){__VA_ARGS__},                                                       \
        (int)(sizeof((struct store_val[]){__VA_ARGS__}) / sizeof(struct store_val))

void store_set_msg(struct ledger *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps an SQLite result code to a leal_err and keeps SQLite's text. */
leal_err store_db_err(struct ledger *l, int rc);
/* The SQL of each cached statement (ledger_check_plans reads them all). */
extern const char *const store_sql[ST_COUNT];

/* A cached statement, reset and with its bindings cleared. */
leal_err store_prep(struct ledger *l, enum st id, struct store_stmt **out);
/* A statement by its SQL text, for the caller to store_finalize(); it stays
 * prepared for the next call with the same text on this connection. */
leal_err store_prep_once(struct ledger *l, const char *sql, struct store_stmt **out);
/* Finalizes what store_prep_once kept for l: before its connection closes. */
void store_forget(struct ledger *l);
/* Steps st once: *row is 1 for a row, 0 when done. A statement that has
 * run to its end (or failed) is reset, ready for new bindings. */
leal_err store_step(struct ledger *l, struct store_stmt *st, int *row);
/* 1 while st has a row; 0 at its end or on an error (then in *err). */
int store_next_row(struct ledger *l, struct store_stmt *st, leal_err *err);
/* Steps st once: LEAL_OK on a row; no row is LEAL_E_UNKNOWN_ID naming "what key". */
leal_err store_step_found(struct ledger *l, struct store_stmt *st, const char *what, int64_t key);
/* Runs a cached statement whose parameters are all integers, once. */
leal_err store_run_i64(struct ledger *l, enum st id, const int64_t *v, int n);
/* A one-off statement with its integer parameters bound (*st NULL on failure). */
leal_err store_prep_i64(struct ledger *l, const char *sql, struct store_stmt **st, const int64_t *v,
                        int n);
/* Runs a one-off statement whose parameters are all integers, once. */
leal_err store_exec_i64(struct ledger *l, const char *sql, const int64_t *v, int n);
/* A one-off lookup of one row by ?1 = key: on LEAL_OK *st stands on the row;
 * no row is LEAL_E_UNKNOWN_ID naming "what key". The caller finalizes *st. */
leal_err store_find_row(struct ledger *l, const char *sql, int64_t key, const char *what,
                        struct store_stmt **st);
/* The first integer column of a cached statement's first row with ?1 = key,
 * or 0 without a row. */
leal_err store_query_cached(struct ledger *l, enum st id, int64_t key, int64_t *out);
/* The first column of the first row of a one-off query, or 0 without a row. */
leal_err store_query_int(struct ledger *l, const char *sql, const int64_t *v, int n, int64_t *out);
void store_col_text(struct store_stmt *st, int i, char *out, size_t cap);
/* One parameter ?i (from 1); text and blobs are not copied: they must live
 * until the statement is stepped. */
void store_bind_i64(struct store_stmt *st, int i, int64_t v);
void store_bind_text(struct store_stmt *st, int i, const char *s);
void store_bind_blob(struct store_stmt *st, int i, const void *p, size_t n);
/* Column i (from 0) of the row st stands on. */
int64_t store_col_i64(struct store_stmt *st, int i);
const unsigned char *store_col_str(struct store_stmt *st, int i);
const void *store_col_blob(struct store_stmt *st, int i);
int store_col_bytes(struct store_stmt *st, int i);
enum store_kind store_col_type(struct store_stmt *st, int i);
/* The row's number of columns and the name of column i (NULL out of range). */
int store_col_count(struct store_stmt *st);
const char *store_col_name(struct store_stmt *st, int i);
/* Ready to run again (store_reset_clear also drops the bindings); a
 * one-off statement is finalized (NULL is fine). */
void store_reset(struct store_stmt *st);
void store_reset_clear(struct store_stmt *st);
void store_finalize(struct store_stmt *st);
/* Binds v[0..n-1] to ?1..?n (store_bind_at: to ?first..). */
void store_bind(struct store_stmt *st, const struct store_val *v, int n);
void store_bind_at(struct store_stmt *st, int first, const struct store_val *v, int n);
/* Runs a one-off statement that returns no rows (INSERT, UPDATE, DELETE)
 * with its parameters; *new_id (if not NULL) is the row an INSERT made. */
leal_err store_write(struct ledger *l, const char *sql, const struct store_val *v, int n,
                     int64_t *new_id);
/* Runs a cached statement that returns no rows with its parameters. */
leal_err store_run_vals(struct ledger *l, enum st id, const struct store_val *v, int n,
                        int64_t *new_id);
/* How many rows the last write changed. */
int64_t store_changes(struct ledger *l);
/* LEAL_OK if the last write changed a row, else LEAL_E_UNKNOWN_ID naming "what key". */
leal_err store_changed(struct ledger *l, const char *what, int64_t key);
/* SQL without parameters or rows (pragmas, BEGIN, COMMIT). */
leal_err store_exec(struct ledger *l, const char *sql);
leal_err store_pragma_int(struct ledger *l, const char *sql, int64_t *v);
leal_err store_pragma_text(struct ledger *l, const char *sql, char *out, size_t cap);
/* The names of the database's tables (of 64 bytes), in *n; more than cap
 * is LEAL_E_TOO_LARGE (a caller never checks only some of them). */
leal_err store_table_names(struct ledger *l, char (*names)[64], int cap, int *n);
/* LEAL_OK if a cached single-key lookup finds a row, LEAL_E_UNKNOWN_ID naming what otherwise. */
leal_err store_exists(struct ledger *l, enum st id, int64_t key, const char *what);

leal_err store_txc_get(struct ledger *l, enum txc_kind what, int64_t id, const char *asset,
                       struct txc_slot **out, int *fresh);
void store_txc_keep(struct ledger *l, struct txc_slot *s, enum txc_kind what, int64_t id,
                    const char *asset);
/* The balance's cache slot, read from the ledger (0 without a row) the first
 * time this transaction asks. */
leal_err store_bal_get(struct ledger *l, int64_t account_id, const char *asset,
                       struct txc_slot **out);
/* Moves the balance of slot s (from store_bal_get) by amount in the cache
 * only: the row takes the sum of a transaction's moves once, before COMMIT
 * or before any other statement reads the balance table (store_bal_flush),
 * still as a delta inside the write transaction. LEAL_E_OVERFLOW past
 * int64. */
leal_err store_bal_add(struct ledger *l, struct txc_slot *s, int64_t amount);
/* Writes the cache's balance moves to their rows (nothing outside a
 * transaction: what a rolled-back one moved is dropped). */
leal_err store_bal_flush(struct ledger *l);
/* The card's cache slot (v: its account, v2: the account's program), read
 * from the ledger the first time this transaction asks: *found 0 (nothing
 * kept) for a card the ledger does not hold. An import asks twice per entry. */
leal_err store_card_get(struct ledger *l, int64_t card_id, struct txc_slot **out, int *found);
/* The terminal's row through the cache (TXC_TERMINAL): LEAL_E_UNKNOWN_ID
 * naming it when there is none. store_txc_terminal_moved after any write
 * of its epoch (the next store_terminal_get reads it again). */
leal_err store_terminal_get(struct ledger *l, int64_t terminal_id, struct txc_slot **out);
void store_txc_terminal_moved(struct ledger *l, int64_t terminal_id);
/* PostgreSQL: the cards' accounts, those accounts' program and kind and
 * their balance rows into the write transaction's cache, in one statement
 * (an import's batch, which would read each at its first use). What the
 * cache holds already stays. Nothing on SQLite (no round trips) or outside
 * a write transaction. */
leal_err store_txc_prefetch_cards(struct ledger *l, const int64_t *cards, size_t n);
/* The program's points_expiry_days through the cache (TXC_EXPIRY). */
leal_err store_expiry_get(struct ledger *l, int64_t program_id, int64_t *days);

/* Ends a read transaction begun with store_exec(l, "BEGIN"); a failure
 * leaves l->msg alone (the reader's finding stays). */
void store_end_read(struct ledger *l);
/* Every write: its own transaction, a savepoint inside the caller's batch, or
 * nothing inside a batch that fails whole. */
leal_err store_tx_begin(struct ledger *l);
leal_err store_tx_end(struct ledger *l, leal_err err);
/* store_tx_end for a function that hands back a new id: a failed transaction leaves *id 0. */
leal_err store_tx_end_id(struct ledger *l, leal_err err, int64_t *id);

/* ---- Shared by the concerns (ledger_check.c) ---- */

/* Text a person typed: at most LEDGER_TEXT-1 bytes of valid UTF-8 without
 * control characters or bidirectional controls (host/text.h). */
leal_err ledger_text_ok(struct ledger *l, const char *what, const char *s);
int ledger_empty(const char *s);
int64_t ledger_now(void);

/* ---- Shared by the concerns (the others) ---- */

/* ledger_post.c: an entry's checks, its content hash, and the post itself
 * inside a write transaction (ledger_pending.c settles a top-up with it). */
leal_err ledger_entry_check(struct ledger *l, const struct ledger_entry *e);
leal_err ledger_entry_hash(const struct crypto_provider *cp, const struct ledger_entry *e,
                           char hex[65]);
leal_err ledger_post_locked(struct ledger *l, const struct ledger_entry *e, const char *hash,
                            int64_t *entry_id, bool *replayed);
/* ledger_post_locked in two halves: the first reads only, and every refusal
 * of the post comes from it (its key taken by other content, its references,
 * each line's account and what the lines leave on a customer's balance,
 * line by line); *id is the entry a replay names (*replayed), else 0. The
 * second writes the entry checked (LEAL_E_* there is no refusal but a
 * failure: the transaction holds half a post). */
struct post_checked {
    int64_t store_id;
    int64_t at;
};
leal_err ledger_post_check(struct ledger *l, const struct ledger_entry *e, const char *hash,
                           int64_t *entry_id, bool *replayed, struct post_checked *c);
leal_err ledger_post_write(struct ledger *l, const struct ledger_entry *e, const char *hash,
                           const struct post_checked *c, int64_t *entry_id);
/* store.c (below the queries that read it): an account's kind column. */
enum ledger_account_kind ledger_account_kind_of(const unsigned char *k);
/* ledger_customer.c: the SQL of a customer search by one form. */
void ledger_search_sql(enum ledger_search_by by, bool pg, char *sql, size_t cap);

#endif
