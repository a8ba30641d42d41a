/*
 * ledger.h - the book of record: programs, stores, terminals, customers,
 * accounts, cards, and a double-entry journal of euros (cents), points and
 * stamps, in one SQLite file (WAL, synchronous=FULL asserted at open,
 * foreign keys on, STRICT tables, schema versioned by PRAGMA user_version).
 *
 * Every write runs in one BEGIN IMMEDIATE transaction (or inside a caller's
 * batch), and balances move only as `balance = balance + ?` in the same
 * transaction as their entry: there is no read-then-write of a balance, so
 * concurrent processes cannot lose an update. Entries are never updated or
 * deleted; a void is a new entry with the opposite lines.
 *
 * Memory: a struct ledger is heap-allocated (ledger_open/ledger_close); every
 * other struct is the caller's, filled through out-parameters. A struct
 * ledger is used by one thread at a time (its connection has no mutex). Hosted.
 * Errors: LEAL_E_DB*, LEAL_E_UNKNOWN_ID, LEAL_E_DUPLICATE_ID, LEAL_E_UNBALANCED,
 * LEAL_E_IDEMPOTENCY_CONFLICT, LEAL_E_ALREADY_VOIDED, LEAL_E_VOID_OF_VOID,
 * LEAL_E_INSUFFICIENT_FUNDS, LEAL_E_WRONG_PROGRAM, LEAL_E_ASSET, LEAL_E_TEXT,
 * LEAL_E_AMOUNT_RANGE, LEAL_E_LEDGER_MISMATCH, LEAL_E_PURSE_CAP_HELD; ledger_errmsg()
 * holds detail. Where an SQLite error becomes a leal_err, SQLite's own text
 * and extended result code also go to host/log (log_foreign, debug level).
 *
 * Inside (host/ledger/): one file per concern (ledger_program, _customer,
 * _query, _card, _pending, _post, _verify) over store.h, the only way they
 * reach a database; store.c and ledger_open.c are the SQLite backend
 * (statements, transactions, open, migrations from schema.c, backup). The
 * rules a terminal shares are freestanding: points for a spend and its
 * rounding (firmware/core/rules.h), lot expiry and spending order
 * (firmware/core/lots.h). A second backend (PostgreSQL) implements store.h
 * in a file of its own (?N becomes $N, store_write's new id a RETURNING id),
 * with its own open and migrations in place of ledger_open.c and schema.c;
 * with two backends linked, store.h's functions become a const table of
 * function pointers chosen at open. The concerns do not change.
 */
#ifndef LEAL_LEDGER_H
#define LEAL_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"
#include "keys/base/limits.h"

#define LEDGER_SCHEMA_VERSION 46

/* The note an erasure leaves in place of the customer's notes (host/privacy,
 * ledger_customer_erase), before the cards decision it may add. */
#define LEDGER_ERASED_NOTE "personal data erased at the customer's request (leal customer erase)"
#define LEDGER_MAX_LINES 64
#define LEDGER_MAX_ASSET 40 /* "STAMP:" + 32 + NUL, rounded up */
#define LEDGER_TEXT LEAL_MAX_TEXT_FIELD
#define LEDGER_MAX_BATCH 100000

struct ledger;

/* ---- Opening ---------------------------------------------------------- */

struct crypto_provider;

/* How ledger_open_with opens a ledger. */
struct ledger_open_options {
    /* Hashes an entry's content (SHA-256: a retried request is recognised by
     * it). Required; the ledger keeps the pointer until ledger_close. */
    const struct crypto_provider *crypto;
    /* A missing file is LEAL_E_NO_LEDGER instead of a new ledger (the CLI
     * creates a ledger only when asked to). */
    bool must_exist;
    /* If not NULL, the detail of a failure is copied here. */
    char *why;
    size_t why_cap;
};

/* Opens the ledger at path, creating it if missing unless o->must_exist. A
 * database of an older schema is first copied to "PATH.schema-vN.bak"
 * (SQLite backup API) and then migrated; a newer one is refused with
 * LEAL_E_DB_SCHEMA_NEWER; a file that is not a leal ledger gives
 * LEAL_E_DB_NOT_LEAL. Checks that WAL and synchronous=FULL are really in
 * force (LEAL_E_DB_SETTINGS otherwise). LEAL_E_ARG without a complete
 * crypto provider. */
LEAL_MUST_CHECK leal_err ledger_open_with(const char *path, const struct ledger_open_options *o,
                                          struct ledger **out);

/* ledger_open_with with the OpenSSL provider (ledger_openssl.c: a program
 * that calls these links keys/hosted/provider_openssl; one that must not
 * calls ledger_open_with). ledger_open creates a missing file;
 * ledger_open_why also copies the detail of a failure into why;
 * ledger_open_existing_why refuses a missing file with LEAL_E_NO_LEDGER. */
LEAL_MUST_CHECK leal_err ledger_open(const char *path, struct ledger **out);
LEAL_MUST_CHECK leal_err ledger_open_why(const char *path, struct ledger **out, char *why,
                                         size_t cap);
LEAL_MUST_CHECK leal_err ledger_open_existing_why(const char *path, struct ledger **out, char *why,
                                                  size_t cap);
/* Closes l (NULL is fine); rolls back an unfinished batch. */
void ledger_close(struct ledger *l);
/* Detail of the last error (SQLite's text, copied, or the first difference
 * found by ledger_verify); "" if none. */
const char *ledger_errmsg(const struct ledger *l);
/* The schema version of the open file (LEDGER_SCHEMA_VERSION after open). */
int ledger_schema_version(const struct ledger *l);
/* A server's connection (`leal serve`, one per thread): ledger_lost is true
 * when a PostgreSQL ledger's connection to its server is gone (a statement
 * found it so); ledger_reconnect, called between transactions, first looks
 * whether the server closed the idle connection (it reads what waits on the
 * socket, no statement), then makes a lost one again (the lost one's
 * transaction was rolled back by the server), and is LEAL_E_PG_CONNECT
 * while the server does not answer, ledger_errmsg() one line saying why. An
 * SQLite ledger is never lost. */
bool ledger_lost(const struct ledger *l);
LEAL_MUST_CHECK leal_err ledger_reconnect(struct ledger *l);

/* A batch: one transaction around many ledger_post calls (terminal import,
 * bench). A failed post inside a batch undoes only itself (a savepoint). */
LEAL_MUST_CHECK leal_err ledger_batch_begin(struct ledger *l);
/* A batch that is refused whole when any write in it fails (the journal
 * import): no savepoint per post. After a failed write every further write
 * gives LEAL_E_STATE and ledger_batch_commit rolls the batch back and gives
 * LEAL_E_STATE: nothing of it is kept. */
LEAL_MUST_CHECK leal_err ledger_batch_begin_whole(struct ledger *l);
/* A batch as ledger_batch_begin_whole's, except that a post the ledger
 * refuses (LEAL_E_INSUFFICIENT_FUNDS, _UNKNOWN_ID, _WRONG_PROGRAM,
 * _ALREADY_VOIDED, _VOID_OF_VOID, _IDEMPOTENCY_CONFLICT, the entry's own
 * checks) is refused before it writes anything, so it changes nothing and
 * the batch goes on (the terminal journal import: a refused entry is held).
 * No savepoint per post; any other failed write fails the batch. */
LEAL_MUST_CHECK leal_err ledger_batch_begin_checked(struct ledger *l);
LEAL_MUST_CHECK leal_err ledger_batch_commit(struct ledger *l);
void ledger_batch_rollback(struct ledger *l);
/* A read snapshot: the queries until ledger_read_end see one state of the
 * ledger and share one transaction's start (a view that asks several
 * questions). Reads only: a write or batch in between is refused (LEAL_E_STATE). LEAL_E_STATE
 * inside a batch or another snapshot (then read as usual: each query its own);
 * ledger_read_end does nothing for a snapshot that did not begin. */
LEAL_MUST_CHECK leal_err ledger_read_begin(struct ledger *l);
void ledger_read_end(struct ledger *l);
/* After a bulk write of n new entries (an import, between its
 * transactions): on PostgreSQL, when n is more than a tenth of the entries
 * the planner's statistics last counted (or they never counted any), ANALYZE
 * of the tables an import grows (entry, line, lot, terminal_entry, balance),
 * now rather than at autovacuum's next visit, a minute or more later: a
 * report planned on the counts from before the import nested its loops the
 * wrong way round (`leal report customers` 24 s instead of 0.06 s on the
 * bench's chain). n < 0: the whole database, whatever its counts (after
 * `leal ledger copy`). Nothing on SQLite; LEAL_E_STATE inside a transaction. */
LEAL_MUST_CHECK leal_err ledger_stats_refresh(struct ledger *l, int64_t n);

/* ---- Programs, stores, terminals -------------------------------------- */

enum ledger_program_kind {
    LEDGER_PROGRAM_SINGLE = 1,     /* one shop ("monopunto") */
    LEDGER_PROGRAM_CHAIN = 2,      /* a chain's shops; programs share nothing */
    LEDGER_PROGRAM_COLLECTIVE = 3, /* independent shops, one customer base */
};

struct ledger_program {
    int64_t id; /* 1..4294967295 (KEYS.md: the program id in key diversification) */
    char code[64];
    char name[LEDGER_TEXT];
    enum ledger_program_kind kind;
    /* Earning rate in thousandths of a point per euro: "1,2 puntos por cada
     * euro" is 1200. See ledger_points_for_spend for the rounding. */
    int64_t points_per_euro_milli;
    int64_t points_expiry_days; /* 0: points never expire */
    /* Stored value, in cents: every card's purse cap (a DESFire purse file's
     * upper limit, set at issuance; top-ups are bound by it), and the cap on a
     * MIFARE Classic card: 0 = stored value off on Classic (the default;
     * Classic money can be copied), else at most purse_cap_cents. */
    int64_t purse_cap_cents;
    int64_t classic_stored_value_cap_cents;
    /* Sanity limits on one manual operation (a manual post, welcome points),
     * beyond which the CLI asks for an explicit override: euros in cents, and
     * points or stamps. 0 at creation: the defaults below. */
    int64_t max_cents_per_operation;
    int64_t max_units_per_operation;
    /* The program's locale, "en" or "es" ("" at creation: "en"); the back
     * office's users of a Spanish program see Spanish unless told. */
    char locale[3];
};

/* A program's per-operation limits unless told otherwise: 1000.00 euros and
 * 100000 points (or stamps). */
#define LEDGER_MAX_CENTS_PER_OPERATION_DEFAULT 100000
#define LEDGER_MAX_UNITS_PER_OPERATION_DEFAULT 100000

/* A program's purse cap unless told otherwise: 1000.00 euros. */
#define LEDGER_PURSE_CAP_DEFAULT 100000
/* The largest purse cap: a DESFire value file holds a signed 32-bit value. */
#define LEDGER_PURSE_CAP_MAX 2147483647

/* The program's own accounts, created with it (the other side of every line
 * that involves a customer). */
#define LEDGER_PROGRAM_ACCOUNTS                                                                    \
    "cash", "topups", "points_issued", "points_redeemed", "points_expired", "gift_sold",           \
        "breakage", "adjustments", "stamps_issued", "stamps_redeemed"

/* Creates a program (p->id 0: next free id) and its program accounts.
 * LEAL_E_AMOUNT_RANGE unless 0 <= classic cap <= purse cap <= LEDGER_PURSE_CAP_MAX. */
LEAL_MUST_CHECK leal_err ledger_program_create(struct ledger *l, const struct ledger_program *p,
                                               int64_t *id);
LEAL_MUST_CHECK leal_err ledger_program_get(struct ledger *l, int64_t id,
                                            struct ledger_program *out);
/* Changes a program's purse cap and Classic stored-value cap (as in struct
 * ledger_program) in one transaction. Cards already issued keep what is on
 * them (a DESFire purse file keeps its limit). A Classic cap is never lowered
 * below what a Classic card may hold (a card over its program's cap reads as
 * tampered, LAYOUT.md 3.2): LEAL_E_PURSE_CAP_HELD if an account with a live
 * Classic card holds more euros than the new cap, or a pending top-up would
 * leave more. LEAL_E_AMOUNT_RANGE, LEAL_E_UNKNOWN_ID. */
LEAL_MUST_CHECK leal_err ledger_program_set_purse(struct ledger *l, int64_t id,
                                                  int64_t purse_cap_cents,
                                                  int64_t classic_stored_value_cap_cents);
/* Changes a program's per-operation limits (1..AMOUNT_MAX_CENTS cents,
 * 1..AMOUNT_MAX_UNITS units): LEAL_E_AMOUNT_RANGE, LEAL_E_UNKNOWN_ID. */
LEAL_MUST_CHECK leal_err ledger_program_set_limits(struct ledger *l, int64_t id,
                                                   int64_t max_cents_per_operation,
                                                   int64_t max_units_per_operation);
/* LEAL_OK if |amount| of asset is within program_id's limit for one manual
 * operation; LEAL_E_OVER_LIMIT otherwise, ledger_errmsg() naming the limit
 * ("program 1 allows 100000 PTS in one operation"). */
LEAL_MUST_CHECK leal_err ledger_program_limit_check(struct ledger *l, int64_t program_id,
                                                    const char *asset, int64_t amount);
/* The id of program account NAME (one of LEDGER_PROGRAM_ACCOUNTS). */
LEAL_MUST_CHECK leal_err ledger_program_account(struct ledger *l, int64_t program_id,
                                                const char *name, int64_t *account_id);

/* The rounding rule, stated once: points earned on a qualifying spend are
 * floor(spend_cents * points_per_euro_milli / 100000), i.e. fractions of a
 * point are never credited (1,2 points per euro on 10.99 euros is 13 points:
 * 13.188 rounded down). Negative spends (refunds) round toward zero, so a
 * refund of the whole sale takes back exactly what the sale gave.
 * LEAL_E_AMOUNT_RANGE if the product would overflow. */
LEAL_MUST_CHECK leal_err ledger_points_for_spend(int64_t spend_cents, int64_t points_per_euro_milli,
                                                 int64_t *points);

/* LEAL_OK if tz names a zone of the tz database: a file starting "TZif"
 * under $TZDIR or /usr/share/zoneinfo, reached by a name of A-Z a-z 0-9 _ - +
 * and "/" with no component starting with "." ("Madrid" and "../x" are
 * refused); LEAL_E_TIMEZONE otherwise. */
LEAL_MUST_CHECK leal_err ledger_timezone_check(const char *tz);

/* A store belongs to a program and has an IANA time zone ("Europe/Madrid",
 * checked with ledger_timezone_check: LEAL_E_TIMEZONE). */
LEAL_MUST_CHECK leal_err ledger_store_add(struct ledger *l, int64_t program_id, const char *code,
                                          const char *name, const char *timezone, int64_t *id);
/* The store a desk of program_id posts at: want when it is one of the
 * program's stores (LEAL_E_UNKNOWN_ID none; LEAL_E_WRONG_PROGRAM another
 * program's); want 0: the program's only store, 0 when it has none or
 * several (the desk's entries are then "no shop" in settlement). */
LEAL_MUST_CHECK leal_err ledger_desk_store(struct ledger *l, int64_t program_id, int64_t want,
                                           int64_t *store_id);
/* A terminal belongs to a store; it starts at epoch 1. */
LEAL_MUST_CHECK leal_err ledger_terminal_add(struct ledger *l, int64_t store_id, const char *name,
                                             int64_t *id);
/* A terminal's program (LEAL_E_UNKNOWN_ID if the ledger does not know it). */
LEAL_MUST_CHECK leal_err ledger_terminal_program(struct ledger *l, int64_t terminal_id,
                                                 int64_t *program_id);
/* Where a terminal stands: its store, the store's name and IANA zone. */
struct ledger_terminal_site {
    int64_t store_id;
    char store_name[LEDGER_TEXT];
    char timezone[72];
};
LEAL_MUST_CHECK leal_err ledger_terminal_site(struct ledger *l, int64_t terminal_id,
                                              struct ledger_terminal_site *out);
/* A reinstalled terminal starts a new epoch (its sequence restarts). */
LEAL_MUST_CHECK leal_err ledger_terminal_new_epoch(struct ledger *l, int64_t terminal_id,
                                                   int64_t *epoch);

/* ---- Customers ---------------------------------------------------------- */

/* Personal data lives in its own table so that erasure (pseudonymisation)
 * never touches the ledger. Empty strings mean "not given". */
struct ledger_customer {
    int64_t id;
    int64_t program_id;
    int64_t account_id; /* the account created with the customer */
    int64_t created_at;
    char name[LEDGER_TEXT];
    char surname[LEDGER_TEXT];
    char email[LEDGER_TEXT];
    char phone[LEDGER_TEXT];
    char birth_date[16]; /* YYYY-MM-DD or "" */
    char gender[LEDGER_TEXT];
    char address[LEDGER_TEXT];
    char preferences[LEDGER_TEXT];
};

/* Adds a customer and their account in one transaction (c->program_id set). */
LEAL_MUST_CHECK leal_err ledger_customer_add(struct ledger *l, const struct ledger_customer *c,
                                             int64_t *id, int64_t *account_id);
LEAL_MUST_CHECK leal_err ledger_customer_get(struct ledger *l, int64_t id,
                                             struct ledger_customer *out);
/* Replaces the personal data of customer c->id with c's fields. */
LEAL_MUST_CHECK leal_err ledger_customer_update(struct ledger *l, const struct ledger_customer *c);

enum ledger_search_by {
    LEDGER_SEARCH_NAME = 1, /* prefix of name or surname, accent- and case-blind */
    LEDGER_SEARCH_EMAIL,    /* exact, case-insensitive */
    LEDGER_SEARCH_PHONE,    /* exact, in the normal form of text_phone_key */
    LEDGER_SEARCH_CARD_ID,  /* exact card id (decimal) */
    LEDGER_SEARCH_UID,      /* exact UID (hex) */
    LEDGER_SEARCH_ALL,      /* every customer (list), by id */
};
typedef int (*ledger_customer_cb)(void *ctx, const struct ledger_customer *c);
/* Calls cb for each match (at most limit, applied in SQL; 0: no limit); a
 * non-zero return from cb stops the walk. program_id 0: every program.
 * Order: by id, except LEDGER_SEARCH_NAME: alphabetically by the folded name
 * or surname that matched (text_fold: "jose" finds "José", "nunez" finds
 * "Núñez"), then by id. Every form is an index range (ledger_check_plans). */
struct ledger_search {
    int64_t program_id; /* 0: every program */
    enum ledger_search_by by;
    const char *q;
    size_t limit; /* 0: no limit */
};
LEAL_MUST_CHECK leal_err ledger_customer_search(struct ledger *l, const struct ledger_search *s,
                                                ledger_customer_cb cb, void *ctx);

/* Consent per channel ("email", "sms", "phone", "post", "whatsapp") and
 * purpose (LEDGER_CONSENT_PURPOSES: "marketing", campaigns; "service", the
 * occasions' and tier messages; "profiling", segments exported for
 * analysis): an append-only record of when, how, by whom and with what
 * evidence. A row grants or withdraws a set of purposes on one channel; the
 * consent of (channel, purpose) is the latest row naming both. */
#define LEDGER_CONSENT_NPURPOSES 3
extern const char *const ledger_consent_purposes[LEDGER_CONSENT_NPURPOSES];
struct ledger_consent_change {
    const char *channel;
    bool granted;
    const char *method;       /* how it was given ("form", "phone"...), required */
    const char *recorded_by;  /* required */
    int64_t at;               /* 0: now */
    const char *purposes;     /* comma-separated; NULL or "": "marketing,service" (what a consent
                                 per channel meant before purposes) */
    const char *evidence;     /* e.g. "signed, kept in the shop"; NULL: "" */
    const char *text_version; /* the version of the consent text the person was shown
                                 (e.g. "alta-v3"); NULL: "" (not recorded) */
};
LEAL_MUST_CHECK leal_err ledger_consent_add(struct ledger *l, int64_t customer_id,
                                            const struct ledger_consent_change *c);
struct ledger_consent {
    char channel[16];
    bool granted;
    int64_t at;
    char method[LEDGER_TEXT];
    char recorded_by[LEDGER_TEXT];
    char purposes[40]; /* the row's purposes ("marketing,service", ...) */
    char purpose[16];  /* ledger_consent_purpose_each: the purpose this row decides */
    char evidence[LEDGER_TEXT];
    char text_version[LEDGER_TEXT]; /* "" where it was not recorded */
};
typedef int (*ledger_consent_cb)(void *ctx, const struct ledger_consent *c);
/* The current (latest) consent of each channel, by channel name. */
LEAL_MUST_CHECK leal_err ledger_consent_each(struct ledger *l, int64_t customer_id,
                                             ledger_consent_cb cb, void *ctx);
/* The current consent of each (channel, purpose) any row names, by channel
 * then purpose: the latest row naming both (its purpose in c->purpose). */
LEAL_MUST_CHECK leal_err ledger_consent_purpose_each(struct ledger *l, int64_t customer_id,
                                                     ledger_consent_cb cb, void *ctx);
/* *granted: the latest consent of customer_id for (channel, purpose) is a
 * grant (false without any). LEAL_E_CONSENT_PURPOSE for an unknown purpose. */
LEAL_MUST_CHECK leal_err ledger_consent_granted(struct ledger *l, int64_t customer_id,
                                                const char *channel, const char *purpose,
                                                bool *granted);
/* purposes (comma-separated, any order, no repeats) in the canonical order
 * of ledger_consent_purposes into out; NULL or "" gives "marketing,service".
 * LEAL_E_CONSENT_PURPOSE for an unknown word, a repeat or an empty item. */
LEAL_MUST_CHECK leal_err ledger_consent_purposes_norm(const char *purposes, char *out, size_t cap);
LEAL_MUST_CHECK leal_err ledger_note_add(struct ledger *l, int64_t customer_id, const char *author,
                                         const char *text, int64_t at);
struct ledger_note {
    int64_t id;
    int64_t at;
    char author[LEDGER_TEXT];
    char text[LEDGER_TEXT];
    int64_t user_id;   /* the back-office user who signed it; 0: the desk (--by NAME) */
    int64_t edited_at; /* 0: never edited (host/ledger/ledger_note.h) */
};
typedef int (*ledger_note_cb)(void *ctx, const struct ledger_note *n);
/* The customer's notes, oldest first. */
LEAL_MUST_CHECK leal_err ledger_note_each(struct ledger *l, int64_t customer_id, ledger_note_cb cb,
                                          void *ctx);

/* A customer's personal data erased (pseudonymised) on any backend, as
 * host/privacy does on SQLite: the personal fields and search keys emptied,
 * their notes removed, the customer marked erased at `now` with a note
 * naming operator_name (its text `note`, NULL: "personal data erased at the
 * customer's request (leal customer erase)"), in one write transaction; entries, balances and
 * cards untouched. On PostgreSQL the tables that held the personal data are
 * then vacuumed, so the old row versions leave them. LEAL_E_UNKNOWN_ID (no
 * such customer), LEAL_E_STATE (erased before); nothing written then. */
LEAL_MUST_CHECK leal_err ledger_customer_erase(struct ledger *l, int64_t customer_id,
                                               const char *operator_name, const char *note,
                                               int64_t now);
/* ledger_customer_erase with the cards decision "block": in the same
 * transaction the customer's active cards are blocked, each with a card
 * event saying why and by whom (terminals refuse them from the next
 * package), *cards_blocked how many, and the note says "...; cards blocked
 * by decision: N" instead of note. cards_blocked NULL: as
 * ledger_customer_erase. */
LEAL_MUST_CHECK leal_err ledger_customer_erase_cards(struct ledger *l, int64_t customer_id,
                                                     const char *operator_name, const char *note,
                                                     int64_t now, int64_t *cards_blocked);
/* Who erases, and how (ledger_customer_erase_by). */
struct ledger_erase_as {
    const char *operator_name;
    int64_t user_id; /* the back-office user, 0: the command line */
    const char *note;
    int64_t now;
    int64_t *cards_blocked; /* NULL: the cards kept; else block them, how many */
};
/* ledger_customer_erase_cards carried out by the back-office user
 * as->user_id, as host/privacy does on SQLite, in the same transaction:
 * the customer's pending erasure request marked done by as->operator_name
 * with its audit line 'customer.erase' (the request before, the erasure
 * after; none without a request), and the personal data the audit log
 * holds emptied (a note's text, a card holder's name, the fields of the
 * back office's customer.create and customer.edit lines; the lines stay). */
LEAL_MUST_CHECK leal_err ledger_customer_erase_by(struct ledger *l, int64_t customer_id,
                                                  const struct ledger_erase_as *as);
/* Whether the customer exists (*erased_at -1 if not, 0 if not erased). */
LEAL_MUST_CHECK leal_err ledger_customer_state(struct ledger *l, int64_t customer_id,
                                               int64_t *erased_at);

/* One column of a row read by ledger_rows: its name and value (text is
 * NUL-terminated; p and n valid until the callback returns). */
enum ledger_cell_kind { LEDGER_CELL_NULL, LEDGER_CELL_INT, LEDGER_CELL_TEXT, LEDGER_CELL_BLOB };
struct ledger_cell {
    const char *name;
    enum ledger_cell_kind kind;
    int64_t i;
    const void *p;
    size_t n;
};
typedef int (*ledger_row_cb)(void *ctx, const struct ledger_cell *cells, int ncells);
/* Every row of sql, a SELECT whose parameter ?1 (if any) is id, to cb
 * (which stops it by returning non-zero), column by column with names:
 * the privacy export's reader on any backend. At most 64 columns. */
LEAL_MUST_CHECK leal_err ledger_rows(struct ledger *l, const char *sql, int64_t id,
                                     ledger_row_cb cb, void *ctx);
/* Whether the ledger has a table of that name. */
LEAL_MUST_CHECK leal_err ledger_has_table(struct ledger *l, const char *table, bool *yes);

/* ---- Accounts and balances ---------------------------------------------- */

enum ledger_account_kind {
    LEDGER_ACCOUNT_CUSTOMER = 1, /* a customer's; never below zero */
    LEDGER_ACCOUNT_GIFT = 2,     /* a gift card with no customer; never below zero */
    LEDGER_ACCOUNT_PROGRAM = 3,  /* the program's own side; may go negative */
};

struct ledger_account {
    int64_t id;
    int64_t program_id;
    int64_t customer_id; /* 0: none */
    enum ledger_account_kind kind;
    char name[64]; /* program accounts only */
};

/* A customer account (customer_id != 0) or a gift account (customer_id 0). */
LEAL_MUST_CHECK leal_err ledger_account_add(struct ledger *l, int64_t program_id,
                                            int64_t customer_id, int64_t *id);
LEAL_MUST_CHECK leal_err ledger_account_get(struct ledger *l, int64_t id,
                                            struct ledger_account *out);
/* Balance of one asset (0 if the account never moved it). */
LEAL_MUST_CHECK leal_err ledger_balance(struct ledger *l, int64_t account_id, const char *asset,
                                        int64_t *amount);
typedef int (*ledger_balance_cb)(void *ctx, const char *asset, int64_t amount);
/* Every asset the account holds, in the order of the asset names' bytes
 * (UTF-8; "EUR" < "PTS" < "STAMP:B" < "STAMP:a") on both backends. */
LEAL_MUST_CHECK leal_err ledger_balance_each(struct ledger *l, int64_t account_id,
                                             ledger_balance_cb cb, void *ctx);

/* Assets: "EUR" (cents), "PTS" (points), "STAMP:name" (name: 1..32 of
 * a-z 0-9 _ -), "BONO:id" (sessions of bono kind id, 1..4294967295 in
 * decimal: ledger_bono.h), "CASHBACK" (cents of cashback owed to the
 * account until the desk loads them: ledger_reward.h). LEAL_OK or LEAL_E_ASSET. */
LEAL_MUST_CHECK leal_err ledger_asset_check(const char *asset);

/* ---- Cards -------------------------------------------------------------- */

enum ledger_card_tech {
    LEDGER_TECH_DESFIRE_EV1 = 1,
    LEDGER_TECH_DESFIRE_EV2 = 2,
    LEDGER_TECH_DESFIRE_EV3 = 3,
    LEDGER_TECH_CLASSIC_1K = 4,
    LEDGER_TECH_CLASSIC_4K = 5,
    LEDGER_TECH_VIRTUAL_QR = 6,
};
enum ledger_card_status {
    LEDGER_CARD_PENDING = 1, /* personalised, not yet handed over */
    LEDGER_CARD_ACTIVE = 2,
    LEDGER_CARD_BLOCKED = 3, /* reversible */
    LEDGER_CARD_LOST = 4,    /* final except for replacement */
    LEDGER_CARD_REPLACED = 5 /* final */
};

#define LEDGER_CARD_MARK_LEN 16
struct ledger_card {
    int64_t card_id; /* issuer-assigned identity, 1..2^63-1, unique */
    int64_t account_id;
    int64_t program_id; /* filled from the account */
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len; /* recorded, not unique */
    enum ledger_card_tech tech;
    enum ledger_card_status status;
    int64_t keyset_version;
    int64_t layout_version;
    int64_t last_counter; /* last on-card transaction counter the host saw */
    int64_t issued_at;
    /* What the desk last read from the card, verified (seen_at 0: never;
     * else when the desk first read this state: ledger_card_set_seen). */
    int64_t seen_at;
    int64_t seen_seq;
    int64_t seen_purse_cents;
    int64_t seen_points;
    /* What marks the state the desk last saw or wrote (has_seen_mark false:
     * never recorded): the newest DESFire log record, or the SIV tag of a
     * Classic card's current state slot (LAYOUT.md 2.7, 3.3). */
    bool has_seen_mark;
    uint8_t seen_mark[LEDGER_CARD_MARK_LEN];
    /* The newest entry whose change of the account's points the card
     * carries (ledger_card_drift). */
    int64_t synced_entry;
};

/* Records a card (status as given, normally PENDING or ACTIVE).
 * LEAL_E_DUPLICATE_ID if the card id exists. */
LEAL_MUST_CHECK leal_err ledger_card_add(struct ledger *l, const struct ledger_card *c);
LEAL_MUST_CHECK leal_err ledger_card_find_by_id(struct ledger *l, int64_t card_id,
                                                struct ledger_card *out);
/* Allowed: PENDING->ACTIVE|BLOCKED|LOST|REPLACED, ACTIVE<->BLOCKED, ACTIVE|BLOCKED
 * ->LOST|REPLACED, LOST->REPLACED; anything else LEAL_E_CARD_STATUS_CHANGE. */
LEAL_MUST_CHECK leal_err ledger_card_set_status(struct ledger *l, int64_t card_id,
                                                enum ledger_card_status status);
/* The same, recording why and who in the card's history in the same
 * transaction (ledger_card_set_status records an empty reason). */
LEAL_MUST_CHECK leal_err ledger_card_change_status(struct ledger *l, int64_t card_id,
                                                   enum ledger_card_status status,
                                                   const char *reason, const char *operator_name);

/* One status a card took (ledger_card_add records the first). */
struct ledger_card_event {
    int64_t id;
    int64_t card_id;
    int64_t at;
    enum ledger_card_status status;
    char reason[LEDGER_TEXT];
    char operator_name[LEDGER_TEXT];
};
typedef int (*ledger_card_event_cb)(void *ctx, const struct ledger_card_event *e);
/* Oldest first. */
LEAL_MUST_CHECK leal_err ledger_card_history(struct ledger *l, int64_t card_id,
                                             ledger_card_event_cb cb, void *ctx);
/* The program's hot list: every card blocked, lost or replaced, by card id,
 * each with its newest event (since when and why). Terminals refuse them. */
LEAL_MUST_CHECK leal_err ledger_card_hotlist(struct ledger *l, int64_t program_id,
                                             ledger_card_event_cb cb, void *ctx);
/* Records what a verified desk read found on the card. seen_at becomes now
 * only when seq, purse or points differ from what was last seen (or nothing
 * was): reading an unchanged card writes nothing. */
LEAL_MUST_CHECK leal_err ledger_card_set_seen(struct ledger *l, int64_t card_id, int64_t seq,
                                              int64_t purse_cents, int64_t points);
/* The same with the mark of that state (struct ledger_card's seen_mark), in
 * one statement; a different mark also counts as a new state. */
LEAL_MUST_CHECK leal_err ledger_card_set_seen_mark(struct ledger *l, int64_t card_id, int64_t seq,
                                                   int64_t purse_cents, int64_t points,
                                                   const uint8_t mark[LEDGER_CARD_MARK_LEN]);
/* The desk's verdict on a card that lies about money (tampered, behind the
 * ledger, a fork; LAYOUT.md 2.7, 3.3), in one transaction: an ACTIVE card
 * becomes BLOCKED with reason in its history (*blocked set); a card already
 * BLOCKED, LOST or REPLACED keeps its status and gets the reason in its
 * history unless its newest event already says it. A PENDING card:
 * LEAL_E_CARD_STATUS_CHANGE. Nothing is posted. */
LEAL_MUST_CHECK leal_err ledger_card_verdict(struct ledger *l, int64_t card_id, const char *reason,
                                             const char *operator_name, bool *blocked);
/* Records the real UID of a random-UID card, learned during issuance (PENDING
 * only; LEAL_E_CARD_STATUS_CHANGE otherwise). */
LEAL_MUST_CHECK leal_err ledger_card_set_uid(struct ledger *l, int64_t card_id, const uint8_t *uid,
                                             size_t uid_len);
/* Records the card's newer layout version (cardlayout/LAYOUT.md 4.1: a
 * version-1 card upgraded at the desk); a lower one than recorded, or 0, is
 * LEAL_E_ARG (the card's layout never goes back). */
LEAL_MUST_CHECK leal_err ledger_card_set_layout(struct ledger *l, int64_t card_id,
                                                int64_t layout_version);
/* Records a newer on-card counter; a lower one than known is refused with
 * LEAL_E_CARD_TAMPERED (a restored dump or a clone). */
LEAL_MUST_CHECK leal_err ledger_card_set_counter(struct ledger *l, int64_t card_id,
                                                 int64_t counter);
/* The key version of each role a card carries (keys/KEYS.md: role numbers
 * 1..LEDGER_KEY_ROLES), versions[role - 1]; 0 where none is recorded (a role
 * the card does not use, or a card recorded before versions were kept). */
#define LEDGER_KEY_ROLES 12
LEAL_MUST_CHECK leal_err ledger_card_keys_get(struct ledger *l, int64_t card_id,
                                              uint8_t versions[LEDGER_KEY_ROLES]);
/* Records the non-zero versions given, in one transaction (LEAL_E_UNKNOWN_ID
 * for a card the ledger does not know). */
LEAL_MUST_CHECK leal_err ledger_card_keys_set(struct ledger *l, int64_t card_id,
                                              const uint8_t versions[LEDGER_KEY_ROLES]);
/* How many cards of a program that are not lost or replaced carry version of
 * role; *unknown: how many of them have no version recorded for it. */
LEAL_MUST_CHECK leal_err ledger_card_keys_count(struct ledger *l, int64_t program_id, int role,
                                                int version, int64_t *cards, int64_t *unknown);
/* A Classic identity span being written at the desk (at most one per card,
 * replaced by the next): kept before the card is written, found by UID when
 * the card's identity does not open, dropped once the card carries it. */
LEAL_MUST_CHECK leal_err ledger_card_rewrite_put(struct ledger *l, int64_t card_id,
                                                 const uint8_t *span, size_t len);
/* A caller's buffer for a kept span: len is what was copied into data. */
struct ledger_span {
    uint8_t *data;
    size_t cap;
    size_t len;
};
/* The nth (0: newest) of the live cards with this UID that have one (Classic
 * UIDs are not unique): *card_id 0 (and span->len 0) when there is no nth or
 * it does not fit span->cap. */
LEAL_MUST_CHECK leal_err ledger_card_rewrite_find(struct ledger *l, const uint8_t *uid,
                                                  size_t uid_len, int nth, int64_t *card_id,
                                                  struct ledger_span *span);
LEAL_MUST_CHECK leal_err ledger_card_rewrite_drop(struct ledger *l, int64_t card_id);
typedef int (*ledger_card_cb)(void *ctx, const struct ledger_card *c);
LEAL_MUST_CHECK leal_err ledger_card_each_of_account(struct ledger *l, int64_t account_id,
                                                     ledger_card_cb cb, void *ctx);
const char *ledger_card_tech_name(enum ledger_card_tech t);
const char *ledger_card_status_name(enum ledger_card_status s);
/* Name to value ("desfire-ev2", "active"); LEAL_E_USAGE if unknown. */
LEAL_MUST_CHECK leal_err ledger_card_tech_parse(const char *s, enum ledger_card_tech *t);
LEAL_MUST_CHECK leal_err ledger_card_status_parse(const char *s, enum ledger_card_status *st);

/* ---- The journal -------------------------------------------------------- */

/* Request-id namespaces leal's own postings use (card reads and top-ups,
 * voids, expiry, card sync, the desk): a request id a person or a file gives
 * (ledger post, void, import) must not start with one of them, or it could
 * take a key the desk will need (ledger_request_id_reserved). */
#define LEDGER_SYSTEM_NAMESPACES                                                                   \
    "card:", "void:", "expire:", "sync:", "desk:", "sale:", "refund:", "qrhold:", "birthday:"
bool ledger_request_id_reserved(const char *request_id);

struct ledger_line {
    int64_t account_id;
    char asset[LEDGER_MAX_ASSET];
    int64_t amount; /* non-zero; |amount| <= AMOUNT_MAX_CENTS */
    /* For PTS credited to a customer or gift account: the lot's expiry (unix
     * seconds, UTC); 0 uses the program's points_expiry_days (or none). */
    int64_t expires_at;
};

/* An entry. The idempotency key is exactly one of: terminal_id + terminal_epoch
 * + terminal_seq (journal import), or request_id (host). Text fields may be
 * NULL (= ""). kind: "adjust", "earn", "redeem", "topup", "spend", "refund",
 * "void", "expire", "gift_sale", "transfer". */
struct ledger_entry {
    int64_t program_id;
    const char *kind;
    int64_t at;          /* unix seconds UTC; 0: now (then 0 is what the hash covers) */
    int64_t store_id;    /* 0: none (filled from the terminal if one is given) */
    int64_t terminal_id; /* 0: none */
    int64_t terminal_epoch;
    int64_t terminal_seq;
    const char *request_id;
    const char *operator_name;
    const char *reason;
    const char *reference;
    int64_t spend_cents; /* qualifying spend this entry was earned on, 0 if none */
    int64_t reverses;    /* the entry a refund or void reverses, 0 if none */
    int64_t card_id;     /* 0: none */
    size_t nlines;
    const struct ledger_line *lines;
};

/* Posts e: lines must be 2..LEDGER_MAX_LINES and sum to zero per asset
 * (LEAL_E_UNBALANCED); customer and gift accounts cannot go below zero
 * (LEAL_E_INSUFFICIENT_FUNDS). PTS credited to a customer or gift account
 * become lots; PTS taken from one consume lots nearest expiry first (lots
 * without expiry last), and a reversal gives back to the lots it took from.
 * Idempotency: the SHA-256 of the entry's canonical encoding (ledger.c,
 * entry_hash) is stored with it; posting the same key again with the same
 * hash sets *replayed and returns the original id; with a different hash,
 * LEAL_E_IDEMPOTENCY_CONFLICT. Nothing is written on any error. */
LEAL_MUST_CHECK leal_err ledger_post(struct ledger *l, const struct ledger_entry *e,
                                     int64_t *entry_id, bool *replayed);

/* Voids entry_id with an entry of kind "void" whose lines are its lines
 * negated (reason and operator required). LEAL_E_VOID_OF_VOID,
 * LEAL_E_ALREADY_VOIDED, LEAL_E_UNKNOWN_ID; request_id NULL: "void:<id>". */
struct ledger_void_request {
    int64_t entry_id;
    const char *request_id; /* NULL or "": "void:<entry_id>" */
    const char *operator_name;
    const char *reason;
};
LEAL_MUST_CHECK leal_err ledger_void(struct ledger *l, const struct ledger_void_request *rq,
                                     int64_t *void_id, bool *replayed);

/* Points expiry: for every account of the program whose PTS lots expired at
 * or before `at`, posts one entry of kind "expire" moving what is left of
 * them to the program's points_expired account (request id
 * "expire:ACCOUNT:AT", so running it twice changes nothing). All in one
 * transaction. *accounts and *points say how much moved. */
LEAL_MUST_CHECK leal_err ledger_expire_points(struct ledger *l, int64_t program_id, int64_t at,
                                              const char *operator_name, int64_t *accounts,
                                              int64_t *points);

/* A top-up in flight (MIFARE Classic, LAYOUT.md 3.3; DESFire, 2.7): recorded
 * before the card is written, then either settled (the card shows seq_after
 * and purse_after: the entry is posted, the intent removed and its mark made
 * the card's seen_mark in one transaction) or dropped (the card still shows
 * seq_before). On a Classic card seq is the state seq; on a DESFire card the
 * taps (0x7FFFFFFF - the card-enforced counter). */
struct ledger_pending_topup {
    int64_t card_id;
    int64_t seq_before;  /* the card's state seq before the write */
    int64_t seq_after;   /* seq_before + 1 (mod 2^32) */
    int64_t purse_after; /* cents on the card once written */
    int64_t cents;       /* the top-up, 1..purse_after */
    char request_id[64]; /* the entry's idempotency key */
    int64_t store_id;    /* the store the desk loaded it at (0: none) */
    int64_t created_at;
    /* What marks the card's state once written (the DESFire log record, the
     * Classic slot's SIV tag): the card's seen_mark when settled. */
    bool has_mark;
    uint8_t mark[LEDGER_CARD_MARK_LEN];
};
/* Records p (created_at is set). LEAL_E_DUPLICATE_ID if the card already has
 * one open; LEAL_E_UNKNOWN_ID if the card is unknown; LEAL_E_ARG if p breaks a
 * rule above. */
LEAL_MUST_CHECK leal_err ledger_pending_topup_add(struct ledger *l,
                                                  const struct ledger_pending_topup *p);
/* The card's open intent: *found false (and out zeroed) if there is none. */
LEAL_MUST_CHECK leal_err ledger_pending_topup_get(struct ledger *l, int64_t card_id,
                                                  struct ledger_pending_topup *out, bool *found);
/* Removes the card's intent with that request id (the card write never took
 * effect); LEAL_E_UNKNOWN_ID if there is none. */
LEAL_MUST_CHECK leal_err ledger_pending_topup_drop(struct ledger *l, int64_t card_id,
                                                   const char *request_id);
/* Posts e (as ledger_post) and removes the intent of card e->card_id whose
 * request id is e->request_id, in one transaction; LEAL_E_UNKNOWN_ID if there
 * is no such intent (nothing posted). */
LEAL_MUST_CHECK leal_err ledger_pending_topup_settle(struct ledger *l, const struct ledger_entry *e,
                                                     int64_t *entry_id, bool *replayed);

/* Card and ledger drift (leal card sync): the account's point changes the
 * card does not carry, i.e. the PTS lines on the card's account after its
 * synced_entry of entries the desk did not make for a card (request id not
 * 'card:...'): posted by hand, imported, voided, expired. */
struct ledger_drift {
    int64_t points;  /* their sum (0: none) */
    int64_t entries; /* how many entries */
    int64_t upto;    /* the newest of them (0: none) */
    int64_t newest_at;
    char newest_kind[16];
};
LEAL_MUST_CHECK leal_err ledger_card_drift(struct ledger *l, int64_t card_id,
                                           struct ledger_drift *out);
/* The card carries every change of its account's points so far
 * (synced_entry = the newest entry): a new card that takes over an account's
 * balances (a replacement) or joins cards that carry them (a family card). */
LEAL_MUST_CHECK leal_err ledger_card_synced_now(struct ledger *l, int64_t card_id);
/* A sync in flight: the card's points brought to the ledger by `points`
 * (points_after on the card once written), carrying the account's changes up
 * to entry upto_entry. seq: the Classic state seq, the DESFire taps. */
struct ledger_pending_sync {
    int64_t card_id;
    int64_t seq_before, seq_after; /* seq_after = seq_before + 1 (mod 2^32) */
    int64_t points_after;
    int64_t points; /* non-zero */
    int64_t upto_entry;
    int64_t created_at;
};
/* Records p (created_at set): LEAL_E_DUPLICATE_ID if the card has one open,
 * LEAL_E_UNKNOWN_ID for an unknown card, LEAL_E_ARG if p breaks a rule. */
LEAL_MUST_CHECK leal_err ledger_pending_sync_add(struct ledger *l,
                                                 const struct ledger_pending_sync *p);
LEAL_MUST_CHECK leal_err ledger_pending_sync_get(struct ledger *l, int64_t card_id,
                                                 struct ledger_pending_sync *out, bool *found);
/* The card never took it: removed (LEAL_E_UNKNOWN_ID if none). */
LEAL_MUST_CHECK leal_err ledger_pending_sync_drop(struct ledger *l, int64_t card_id);
/* The card shows it: removed, and in the same transaction every live card of
 * the account (and this one) carries the changes up to its upto_entry
 * (LEAL_E_UNKNOWN_ID if there is none: nothing changes). */
LEAL_MUST_CHECK leal_err ledger_pending_sync_settle(struct ledger *l, int64_t card_id);

/* One line of an entry as history shows it. */
struct ledger_movement {
    int64_t entry_id;
    int64_t at;
    char kind[16];
    char reason[LEDGER_TEXT];
    char operator_name[LEDGER_TEXT];
    char reference[LEDGER_TEXT];
    int64_t reverses;
    int64_t account_id;
    char asset[LEDGER_MAX_ASSET];
    int64_t amount;
    char timezone[72]; /* the entry's store's time zone; "" if no store */
};
typedef int (*ledger_movement_cb)(void *ctx, const struct ledger_movement *m);
/* The lines touching account_id of its newest `limit` entries with id <
 * before (0: from the newest), newest first. */
LEAL_MUST_CHECK leal_err ledger_history(struct ledger *l, int64_t account_id, int64_t before,
                                        size_t limit, ledger_movement_cb cb, void *ctx);
/* Every line of one entry (LEAL_E_UNKNOWN_ID if none). */
LEAL_MUST_CHECK leal_err ledger_entry_lines(struct ledger *l, int64_t entry_id,
                                            ledger_movement_cb cb, void *ctx);

struct ledger_stats {
    int64_t entries;
    int64_t lines;
    int64_t accounts;
};
/* Recomputes every balance from the lines and every lot total from the
 * lots, checks that each entry sums to zero per asset and each idempotency
 * key appears once, that each online sale and refund is its entry's (by its
 * key) and records the points that entry moves, and runs SQLite's
 * quick_check. LEAL_E_LEDGER_MISMATCH
 * with the first difference in ledger_errmsg(). stats may be NULL. */
LEAL_MUST_CHECK leal_err ledger_verify(struct ledger *l, struct ledger_stats *stats);

/* Checks with EXPLAIN QUERY PLAN that every lookup the library makes (the
 * posting path, cards, accounts, history, customer search) is served by an
 * index: LEAL_E_INTERNAL naming the first full table scan otherwise. */
LEAL_MUST_CHECK leal_err ledger_check_plans(struct ledger *l);

/* An online, consistent copy of the whole database to dest (SQLite backup
 * API into a 0600 file in a private folder made beside dest, fsync, rename):
 * writers wait, readers go on. From a PostgreSQL ledger, an SQLite ledger
 * file made the same way by ledger_copy from one REPEATABLE READ snapshot
 * (writers go on; every entry compared, the copy's books verified; its
 * errors as ledger_copy's). Without replace an existing dest is refused
 * (LEAL_E_EXISTS); a missing folder is LEAL_E_NOT_FOUND; ledger_errmsg()
 * names the file or folder. */
LEAL_MUST_CHECK leal_err ledger_backup(struct ledger *l, const char *dest, bool replace);

/* Creates a new database at schema version v (1..LEDGER_SCHEMA_VERSION)
 * without migrating it further: for migration tests. */
LEAL_MUST_CHECK leal_err ledger_create_at_version(const char *path, int v);

/* ---- Terminal packages (firmware/core/PACKAGE.md) ---------------------- */

/* The terminal's next package version, recorded in the same transaction:
 * one more than the last one built for it (1 first), so it only goes up. */
LEAL_MUST_CHECK leal_err ledger_terminal_next_package(struct ledger *l, int64_t terminal_id,
                                                      int64_t *version);
/* What a terminal package says about one card. */
struct ledger_package_card {
    int64_t card_id;
    enum ledger_card_tech tech;
    enum ledger_card_status status;
    int64_t last_counter; /* taps: DESFire 0x7FFFFFFF - counter, Classic seq - 1 */
    bool has_seen_seq;    /* the desk read the card's state */
    int64_t seen_seq;
    bool has_seen_mark;
    uint8_t seen_mark[LEDGER_CARD_MARK_LEN];
};
typedef int (*ledger_package_card_cb)(void *ctx, const struct ledger_package_card *c);
/* Every card of the program, ascending by card id; a non-zero return from cb
 * stops the walk with LEAL_E_INTERRUPTED. */
LEAL_MUST_CHECK leal_err ledger_package_cards(struct ledger *l, int64_t program_id,
                                              ledger_package_card_cb cb, void *ctx);

/* ---- Copy between backends (ledger_copy.c) --------------------------- */

struct ledger_copy_stats {
    int64_t rows;    /* rows copied, all tables */
    int64_t entries; /* entries compared, with their lines, after the copy */
};
/* Copies the ledger from into to, an empty ledger of either backend (SQLite
 * or PostgreSQL), in one write transaction of to, from one read snapshot of
 * from: the tables the PostgreSQL schema holds (programs, stores,
 * terminals, rule sets and what each package was built with, customers
 * with their personal data, consent and notes, accounts, balances, cards,
 * entries, lines, lots, terminal journals, sales categories, sales and
 * their refunds, tags and segments, mail settings, back-office users and
 * their audit). Before the commit every entry of from is compared with
 * its copy, column by column with its lines; after it ledger_verify checks
 * the copy's books (each sale and refund against its entry among them).
 * A source holding rows of another table (messages, ...) is refused with
 * LEAL_E_PG_UNSUPPORTED naming it, a destination that is not empty with
 * LEAL_E_EXISTS, a difference with LEAL_E_LEDGER_MISMATCH; nothing is then
 * written. The detail is in ledger_errmsg(to). */
LEAL_MUST_CHECK leal_err ledger_copy(struct ledger *from, struct ledger *to,
                                     struct ledger_copy_stats *stats);

#endif
