/*
 * ledger_rows.h - read-only queries by SQL text over an open ledger, for the
 * modules that compute figures from the book outside host/ledger (host/
 * report): the same statement runs on either backend through store.h (the
 * SQLite dialect; PostgreSQL's store rewrites ?N, CROSS JOIN ... ON and
 * COLLATE BINARY, store_pg.c), so a caller writes its SQL once and differs
 * only where the dialects must (ledger_rows_pg says which one it talks to).
 * The caller's SQL is its own constant text, every value a bound integer;
 * it must only read (SELECT or WITH ... SELECT). Inside ledger_read_begin's
 * snapshot every query sees one state of the ledger (on PostgreSQL a
 * REPEATABLE READ READ ONLY transaction). Cells: NULL is told apart from 0;
 * integers come as int64 (PostgreSQL's sum() of a BIGINT is numeric: its
 * text read as an integer), text as UTF-8 valid until the next row.
 * Memory: ledger_rows_close frees what ledger_rows_run made (NULL is fine).
 * Hosted. One thread at a time per ledger. Errors: those of ledger.h,
 * LEAL_E_PG_* on PostgreSQL; ledger_errmsg() holds detail.
 */
#ifndef LEAL_LEDGER_ROWS_H
#define LEAL_LEDGER_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

struct ledger_rows;

/* True for a PostgreSQL ledger. */
bool ledger_rows_pg(const struct ledger *l);
/* Prepares sql with v[0..n-1] bound to ?1..?n (a parameter the text does
 * not use is fine) and runs it; *out stands before its first row. */
LEAL_MUST_CHECK leal_err ledger_rows_run(struct ledger *l, const char *sql, const int64_t *v, int n,
                                         struct ledger_rows **out);
/* 1 on the next row, 0 at the end or on an error (then in *err). */
int ledger_rows_next(struct ledger_rows *r, leal_err *err);
/* Column i (from 0) of the row r stands on. */
bool ledger_rows_null(struct ledger_rows *r, int i);
int64_t ledger_rows_i64(struct ledger_rows *r, int i);
/* "" for NULL. */
const char *ledger_rows_text(struct ledger_rows *r, int i);
void ledger_rows_close(struct ledger_rows *r);

#endif
