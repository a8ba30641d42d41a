/*
 * report.h - the figures a shop reads (issue 17): each report is one or more
 * parts (tables with typed columns: text, integers, euros in cents, dates,
 * months), computed by SQL over the ledger: an open ledger of either backend
 * read through host/ledger/ledger_rows.h (report_db_on_ledger: `leal
 * report`), or a ledger file through a read-only SQLite connection of its
 * own (report_db_open: the back office), all parts in one read transaction
 * (one state of the ledger: on PostgreSQL REPEATABLE READ READ ONLY). The
 * SQL is written once, differing only where the dialects must (a month's
 * first day; text ordered by bytes on both). On SQLite a report over whole
 * days reads the summaries the ledger keeps (report_day, report_visit,
 * report_held, report_redeem); on PostgreSQL, which keeps none, the same
 * figures come from the entries. Settlement reads through ledger_settle's
 * own transactions, a month at a time. The writers (report_out.h: CSV, JSON, XLSX; report_chart.h:
 * SVG) work on any report. Days are UTC; --from/--to are whole days, inclusive. What each report
 * counts is stated in report.c beside its SQL and in `leal report --help`. Memory: a struct report
 * owns its rows (report_free). Hosted. Errors: LEAL_E_NO_LEDGER, LEAL_E_DB*, LEAL_E_REPORT_*,
 * LEAL_E_UNKNOWN_PROGRAM, LEAL_E_NO_MEMORY, settlement's LEAL_E_SETTLE_*;
 * report_db_errmsg() holds detail.
 */
#ifndef LEAL_REPORT_H
#define LEAL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

#define REPORT_MAX_COLS 12
#define REPORT_MAX_PARTS 4
#define REPORT_NAME 32

enum report_type {
    REPORT_TEXT = 1,
    REPORT_INT,   /* a count or units (points, stamps, sessions) */
    REPORT_EUR,   /* cents, shown as euros with two decimals */
    REPORT_DATE,  /* days since 1970-01-01 (UTC), shown YYYY-MM-DD */
    REPORT_MONTH, /* the day a month starts, shown YYYY-MM */
};

struct report_col {
    char name[REPORT_NAME];
    enum report_type type;
};

/* One cell: null (no figure: a value with no point value known), else i
 * for every type but text, s (malloc'd) for text. */
struct report_cell {
    bool null;
    int64_t i;
    char *s;
};

struct report_part {
    char name[REPORT_NAME];
    size_t ncols;
    struct report_col col[REPORT_MAX_COLS];
    size_t nrows, cap;
    struct report_cell *cell; /* row r, column c: cell[r * ncols + c] */
};

/* What a report's chart draws (report_chart.h): the rows of part, summed by
 * column x, one series per column in y; a line over time or bars. */
struct report_chart_spec {
    size_t part;
    size_t x;
    size_t ny;
    size_t y[4];
    bool bars;
};

struct report_query {
    const char *name; /* one of report_names() */
    int64_t program_id;
    const char *store;        /* a store's code, or NULL: every store */
    int64_t from_day, to_day; /* days since 1970-01-01, inclusive */
    /* The value of a point in cents for liabilities and breakage; 0: the
     * program's settlement value (leal settle value) or, without one, no
     * value (null cells). */
    int64_t point_value_cents;
    /* The open ledger, for settlement (ledger_settle's previews; a settled
     * month as settled). NULL: settlement is LEAL_E_ARG. */
    struct ledger *ledger;
};

struct report {
    char name[REPORT_NAME];
    int64_t program_id;
    int64_t store_id; /* 0: every store */
    int64_t from_day, to_day;
    int64_t point_value_cents; /* 0: none known */
    size_t nparts;
    struct report_part part[REPORT_MAX_PARTS];
    struct report_chart_spec chart;
};

struct report_db;
struct ledger;

/* Opens the ledger at path read-only (it must exist and be at this leal's
 * schema version: open it once with any ledger command to migrate it); a
 * postgresql:// URI opens a connection of its own to that ledger (its
 * thread's: a lost one is made again by the next report_db_begin). */
LEAL_MUST_CHECK leal_err report_db_open(const char *path, struct report_db **out);
/* Reads the open ledger l (SQLite or PostgreSQL) through its own
 * connection; l must outlive *out, which report_db_close frees without
 * closing l. */
LEAL_MUST_CHECK leal_err report_db_on_ledger(struct ledger *l, struct report_db **out);
void report_db_close(struct report_db *db);
const char *report_db_errmsg(const struct report_db *db);
/* True when db reads PostgreSQL and its connection to the server is lost
 * (ledger_lost): a failure then is the server's absence, not the report's. */
bool report_db_lost(const struct report_db *db);
/* One read snapshot over several reports (the dashboard's): between
 * report_db_begin and report_db_end every report_run reads the same state
 * of the ledger. *version is the ledger's data version (report_db_version)
 * taken just before on SQLite, read in the snapshot on PostgreSQL. */
LEAL_MUST_CHECK leal_err report_db_begin(struct report_db *db, int64_t *version);
void report_db_end(struct report_db *db);
/* The ledger's data version as this connection sees it: a figure computed
 * at version v is still exact while the version stays v. On SQLite,
 * PRAGMA data_version (it changes when any other connection or process
 * commits to the file); on PostgreSQL, ledger_version's counter, which
 * every write transaction raises by one in itself just before its COMMIT
 * (host/ledger/store_pg.c), so it changes exactly when a write commits,
 * whoever commits it, and never for a rolled-back one. */
LEAL_MUST_CHECK leal_err report_db_version(struct report_db *db, int64_t *version);

/* The reports, in the order --help lists them, each with a line saying what
 * it holds; NULL past the last. */
const char *report_name(size_t i);
const char *report_summary(size_t i);

/* Runs q into *out (zeroed first; report_free it even on failure).
 * LEAL_E_REPORT_UNKNOWN for a name not listed, LEAL_E_REPORT_RANGE when
 * to_day < from_day, LEAL_E_UNKNOWN_PROGRAM, LEAL_E_REPORT_STORE for a store
 * code the program lacks (or a store given to a report of the whole
 * program). */
LEAL_MUST_CHECK leal_err report_run(struct report_db *db, const struct report_query *q,
                                    struct report *out);
/* report_run over the seconds [from_at, to_at) instead of q's UTC days (a
 * store's local day, for the back office's dashboard); q->from_day and
 * to_day still name the period in *out. Rows that are per day stay UTC days. */
LEAL_MUST_CHECK leal_err report_run_at(struct report_db *db, const struct report_query *q,
                                       int64_t from_at, int64_t to_at, struct report *out);
void report_free(struct report *r);

/* The dashboard's customer figures over the seconds [from_at, to_at) of
 * program, as the customers report counts them: the customers at to_at,
 * those who joined in the window, those active in it (a movement of theirs,
 * expiries aside) in all; then each(ctx, code, active) for each store with
 * an active customer (entries without a store count in the total only).
 * One pass over the window's entries, where the customers report run per
 * store also grouped each customer's whole history (for "lapsed", which
 * the dashboard does not show). Reads in report_db_begin's snapshot when
 * one is open. */
struct report_dash_figures {
    int64_t customers, joined, active;                          /* out */
    void (*each)(void *ctx, const char *store, int64_t active); /* in */
    void *ctx;
};
LEAL_MUST_CHECK leal_err report_dash_customers(struct report_db *db, int64_t program,
                                               int64_t from_at, int64_t to_at,
                                               struct report_dash_figures *f);

/* Cell r, c of a part. */
const struct report_cell *report_cell_at(const struct report_part *p, size_t r, size_t c);
/* The index of column name in p, or p->ncols if none. */
size_t report_col_index(const struct report_part *p, const char *name);

/* Day/month text: "2026-11-03", "2026-11". */
void report_day_str(int64_t day, char *out, size_t cap);
void report_month_str(int64_t day, char *out, size_t cap);
/* "YYYY-MM-DD" to days since 1970-01-01; LEAL_E_DATE if not a real date. */
LEAL_MUST_CHECK leal_err report_day_parse(const char *s, int64_t *day);
/* Days since 1970-01-01 to civil year, month (1..12), day (1..31). */
void report_civil(int64_t day, int *y, int *m, int *d);

#endif
