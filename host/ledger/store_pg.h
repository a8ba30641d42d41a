/*
 * store_pg.h - the PostgreSQL backend of store.h (store_pg.c, on libpq) and
 * its schema (schema_pg.c). ledger_open_with opens a ledger here when its
 * path is a URI "postgresql://..." or "postgres://..."; store.c hands a
 * ledger whose l->pg is set, and any statement store_pg_owns, to these
 * functions, so the concerns never know which database they talk to.
 *
 * Transactions: a write transaction is READ COMMITTED and takes one
 * transaction-scoped advisory lock per ledger database at BEGIN (released
 * at COMMIT or ROLLBACK), the counterpart of SQLite's BEGIN IMMEDIATE: the
 * concerns check, then write (an idempotency key looked up before its
 * entry is inserted, a balance read once into the transaction's cache and
 * moved by deltas after, lots chosen then taken) on the understanding that
 * no other writer runs in between, and the lock keeps that true with no
 * retry loop. The balance still moves as a delta (amount = amount + d) and
 * the idempotency keys are unique indexes, so no write depends on the lock
 * alone for its arithmetic. Readers never wait for it: a read snapshot
 * (ledger_read_begin, ledger_verify) is REPEATABLE READ READ ONLY.
 * Private to host/ledger. One thread at a time per struct ledger.
 */
#ifndef LEAL_LEDGER_STORE_PG_H
#define LEAL_LEDGER_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "store.h"

/* The PostgreSQL schema's own version (schema_version table): migrations in
 * schema_pg.c, independent of LEDGER_SCHEMA_VERSION (SQLite's). */
#define STORE_PG_SCHEMA_VERSION 12

/* The SQL that takes schema_version v to v+1 (NULL out of range). */
const char *store_pg_migration(int from);

/* 1 if path names a PostgreSQL database (postgresql:// or postgres://). */
bool store_pg_uri(const char *path);
/* ledger_open_with for a PostgreSQL URI (store_pg_open.c): connects, creates
 * or migrates the schema (o->must_exist: a database without it is
 * LEAL_E_NO_LEDGER). On an error *out may hold the half-open ledger, its
 * l->msg saying why, for the caller to ledger_close. */
leal_err store_pg_open(const char *uri, const struct ledger_open_options *o, struct ledger **out);
void store_pg_close(struct ledger *l);

/* Statements (store.c's functions of the same name without "_pg"). */
bool store_pg_owns(const struct store_stmt *st);
leal_err store_pg_prep(struct ledger *l, const char *sql, struct store_stmt **out);
leal_err store_pg_step(struct ledger *l, struct store_stmt *st, int *row);
void store_pg_bind(struct store_stmt *st, int i, const struct store_val *v);
int64_t store_pg_col_i64(struct store_stmt *st, int i);
const unsigned char *store_pg_col_str(struct store_stmt *st, int i);
const void *store_pg_col_blob(struct store_stmt *st, int i);
int store_pg_col_bytes(struct store_stmt *st, int i);
enum store_kind store_pg_col_type(struct store_stmt *st, int i);
int store_pg_col_count(struct store_stmt *st);
const char *store_pg_col_name(struct store_stmt *st, int i);
void store_pg_reset(struct store_stmt *st, bool clear);
void store_pg_finalize(struct store_stmt *st);
/* SQL without parameters (several statements are fine). */
leal_err store_pg_exec(struct ledger *l, const char *sql);
/* 1 inside a transaction (SQLite: !sqlite3_get_autocommit). */
bool store_pg_in_tx(struct ledger *l);
/* 1 when the connection to the server is lost (ledger_lost). */
bool store_pg_lost(const struct ledger *l);
/* A lost connection made again (ledger_reconnect): LEAL_E_PG_CONNECT when
 * the server does not answer, l->msg saying why. */
leal_err store_pg_reconnect(struct ledger *l);

#endif
