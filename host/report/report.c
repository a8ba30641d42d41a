/*
 * report.c - the reports (report.h): a read-only connection to the ledger,
 * one SQL per part, rows into typed cells. The queries read the book as it
 * is kept (host/ledger/schema.c): an entry's kind says what it was, a void
 * counts against the kind of the entry it reverses, the program's own
 * accounts (points_issued, points_redeemed, points_expired, adjustments,
 * stamps_redeemed) carry each movement's other side, customers' and gift
 * cards' lines carry what they hold.
 */
#include "report.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger.h"
#include "host/ledger/ledger_rows.h"
#include "host/ledger/ledger_settle.h"

#define DAY_SECONDS 86400

/* A read-only SQLite connection of its own (report_db_open), or an open
 * ledger of either backend read through ledger_rows.h (report_db_on_ledger:
 * l, pg when it is PostgreSQL's, snap while report_db_begin's snapshot is
 * open). */
struct report_db {
    sqlite3 *db;
    struct ledger *l;
    bool pg, snap;
    bool owned; /* l is this report_db's own connection (report_db_open of a URI) */
    char msg[512];
};

/* ---- Days ---------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void report_civil(int64_t day, int *y, int *m, int *d)
{
    int64_t z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

void report_day_str(int64_t day, char *out, size_t cap)
{
    int y, m, d;
    report_civil(day, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
}

void report_month_str(int64_t day, char *out, size_t cap)
{
    int y, m, d;
    report_civil(day, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d", y, m);
}

leal_err report_day_parse(const char *s, int64_t *day)
{
    int v[3] = {0, 0, 0}, y, m, d;
    static const int width[3] = {4, 2, 2};
    const char *p = s;
    for (int f = 0; f < 3; f++) {
        for (int k = 0; k < width[f]; k++, p++) {
            if (*p < '0' || *p > '9')
                return LEAL_E_DATE;
            v[f] = v[f] * 10 + (*p - '0');
        }
        if (*p != (f < 2 ? '-' : '\0'))
            return LEAL_E_DATE;
        p++;
    }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1)
        return LEAL_E_DATE;
    *day = days_from_civil(v[0], v[1], v[2]);
    report_civil(*day, &y, &m, &d);
    return y == v[0] && m == v[1] && d == v[2] ? LEAL_OK : LEAL_E_DATE;
}

/* ---- The connection ------------------------------------------------------ */

static leal_err db_err(struct report_db *db, int rc)
{
    snprintf(db->msg, sizeof db->msg, "%s", sqlite3_errmsg(db->db));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return LEAL_E_DB_BUSY;
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
        return LEAL_E_DB_CORRUPT;
    return rc == SQLITE_NOMEM ? LEAL_E_NO_MEMORY : LEAL_E_DB;
}

/* A query's rows on either kind of report_db: cur_open binds v[0..n-1] to
 * ?1..?n, cur_next steps (1 on a row), cur_close finalizes (also after a
 * failed cur_open). */
struct cur {
    struct report_db *db;
    sqlite3_stmt *st;
    struct ledger_rows *rows;
};

static leal_err ledger_fail(struct report_db *db, leal_err err)
{
    snprintf(db->msg, sizeof db->msg, "%s", ledger_errmsg(db->l));
    return err;
}

static leal_err cur_open(struct report_db *db, const char *sql, const int64_t *v, int n,
                         struct cur *c)
{
    leal_err err;
    int rc;
    *c = (struct cur){db, NULL, NULL};
    if (db->l)
        return (err = ledger_rows_run(db->l, sql, v, n, &c->rows)) == LEAL_OK
                   ? LEAL_OK
                   : ledger_fail(db, err);
    if ((rc = sqlite3_prepare_v2(db->db, sql, -1, &c->st, NULL)) != SQLITE_OK)
        return db_err(db, rc);
    for (int i = 0, k = sqlite3_bind_parameter_count(c->st); i < n && i < k; i++)
        sqlite3_bind_int64(c->st, i + 1, v[i]);
    return LEAL_OK;
}

static int cur_next(struct cur *c, leal_err *err)
{
    int rc;
    if (c->rows) {
        int row = ledger_rows_next(c->rows, err);
        if (*err != LEAL_OK)
            ledger_fail(c->db, *err);
        return row;
    }
    rc = sqlite3_step(c->st);
    *err = rc == SQLITE_ROW || rc == SQLITE_DONE ? LEAL_OK : db_err(c->db, rc);
    return rc == SQLITE_ROW;
}

static bool cur_null(struct cur *c, int i)
{
    return c->rows ? ledger_rows_null(c->rows, i) : sqlite3_column_type(c->st, i) == SQLITE_NULL;
}

static int64_t cur_i64(struct cur *c, int i)
{
    return c->rows ? ledger_rows_i64(c->rows, i) : sqlite3_column_int64(c->st, i);
}

static const char *cur_text(struct cur *c, int i)
{
    const unsigned char *t;
    if (c->rows)
        return ledger_rows_text(c->rows, i);
    t = sqlite3_column_text(c->st, i);
    return t ? (const char *)t : "";
}

static void cur_close(struct cur *c)
{
    ledger_rows_close(c->rows);
    sqlite3_finalize(c->st);
    c->rows = NULL;
    c->st = NULL;
}

static leal_err query_int(struct report_db *db, const char *sql, const int64_t *v, int n,
                          int64_t *out)
{
    struct cur c;
    leal_err err = cur_open(db, sql, v, n, &c);
    *out = 0;
    if (err == LEAL_OK && cur_next(&c, &err))
        *out = cur_i64(&c, 0);
    cur_close(&c);
    return err;
}

/* report_db_open of a PostgreSQL URI: a ledger connection of its own. */
static leal_err open_pg(const char *uri, struct report_db *db)
{
    char why[256] = "";
    leal_err err = ledger_open_existing_why(uri, &db->l, why, sizeof why);
    if (err != LEAL_OK) {
        snprintf(db->msg, sizeof db->msg, "%s", why);
        return err;
    }
    db->owned = true;
    db->pg = ledger_rows_pg(db->l);
    return LEAL_OK;
}

leal_err report_db_open(const char *path, struct report_db **out)
{
    struct report_db *db = calloc(1, sizeof *db);
    int64_t version = 0;
    leal_err err;
    *out = NULL;
    if (db == NULL)
        return LEAL_E_NO_MEMORY;
    if (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0) {
        if ((err = open_pg(path, db)) != LEAL_OK) {
            report_db_close(db);
            return err;
        }
        *out = db;
        return LEAL_OK;
    }
    int rc = sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err = rc == SQLITE_CANTOPEN ? LEAL_E_NO_LEDGER : db_err(db, rc);
        report_db_close(db);
        return err;
    }
    sqlite3_busy_timeout(db->db, 30000);
    if ((err = query_int(db, "PRAGMA user_version", NULL, 0, &version)) == LEAL_OK &&
        version != LEDGER_SCHEMA_VERSION) {
        snprintf(db->msg, sizeof db->msg, "ledger schema %lld, this leal's %d", (long long)version,
                 LEDGER_SCHEMA_VERSION);
        err = LEAL_E_REPORT_SCHEMA;
    }
    if (err != LEAL_OK) {
        report_db_close(db);
        return err;
    }
    *out = db;
    return LEAL_OK;
}

leal_err report_db_on_ledger(struct ledger *l, struct report_db **out)
{
    struct report_db *db = calloc(1, sizeof *db);
    *out = db;
    if (db == NULL)
        return LEAL_E_NO_MEMORY;
    db->l = l;
    db->pg = ledger_rows_pg(l);
    return LEAL_OK;
}

void report_db_close(struct report_db *db)
{
    if (db == NULL)
        return;
    if (db->snap)
        ledger_read_end(db->l);
    if (db->owned)
        ledger_close(db->l);
    sqlite3_close(db->db);
    free(db);
}

bool report_db_lost(const struct report_db *db)
{
    return db && db->l && ledger_lost(db->l);
}

const char *report_db_errmsg(const struct report_db *db)
{
    return db ? db->msg : "";
}

leal_err report_db_version(struct report_db *db, int64_t *version)
{
    *version = 0;
    if (db->pg)
        return query_int(db, "SELECT n FROM ledger_version", NULL, 0, version);
    return query_int(db, "PRAGMA data_version", NULL, 0, version);
}

/* The snapshot of a ledger's report_db: its read transaction (REPEATABLE
 * READ READ ONLY on PostgreSQL). */
static leal_err snap_begin(struct report_db *db)
{
    leal_err err = ledger_read_begin(db->l);
    if (err != LEAL_OK)
        return ledger_fail(db, err);
    db->snap = true;
    return LEAL_OK;
}

static void snap_end(struct report_db *db)
{
    db->snap = false;
    ledger_read_end(db->l);
}

leal_err report_db_begin(struct report_db *db, int64_t *version)
{
    leal_err err;
    *version = 0;
    if (db->pg) {
        /* A connection of its own closed or lost since: made again first. On
         * PostgreSQL the version is read in the snapshot itself, so it is
         * the version of exactly what the snapshot sees. */
        if (db->owned && (err = ledger_reconnect(db->l)) != LEAL_OK)
            return ledger_fail(db, err);
        if ((err = snap_begin(db)) == LEAL_OK && (err = report_db_version(db, version)) != LEAL_OK)
            snap_end(db);
        return err;
    }
    if ((err = report_db_version(db, version)) != LEAL_OK)
        return err;
    if (db->l)
        return snap_begin(db);
    int rc = sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL);
    return rc == SQLITE_OK ? LEAL_OK : db_err(db, rc);
}

void report_db_end(struct report_db *db)
{
    if (db->l) {
        if (db->snap)
            snap_end(db);
        return;
    }
    sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
}

/* ---- Parts ----------------------------------------------------------------- */

const struct report_cell *report_cell_at(const struct report_part *p, size_t r, size_t c)
{
    return &p->cell[r * p->ncols + c];
}

size_t report_col_index(const struct report_part *p, const char *name)
{
    size_t c = 0;
    while (c < p->ncols && strcmp(p->col[c].name, name) != 0)
        c++;
    return c;
}

void report_free(struct report *r)
{
    for (size_t i = 0; i < REPORT_MAX_PARTS; i++) {
        struct report_part *p = &r->part[i];
        for (size_t k = 0; p->cell && k < p->nrows * p->ncols; k++)
            free(p->cell[k].s);
        free(p->cell);
        p->cell = NULL;
        p->nrows = p->cap = 0;
    }
}

/* The parameters every query may use: ?1 program, ?2 first second, ?3 the
 * second after the last day, ?4 store (0: all), ?5 point value (cents), ?6
 * the first day and ?7 the last (days since 1970, when days is set); ?8 to
 * ?11 are a report's own (liabilities). */
#define N_PARAMS 11
struct params {
    int64_t v[N_PARAMS];
    /* The window is whole UTC days: the summaries the ledger keeps per day
     * (report_day) and per customer and month (report_visit, by first and
     * last day; host/ledger/report_sum_sql.h) can answer instead of the
     * entries. exact: a customer's first and last day of each month say
     * whether they were active in the window's part of it: its first and
     * last day fall in different months (the first month's part runs to
     * its end, the last's from its start), or it starts on its month's
     * first day, or ends on its month's last day. Not for a window inside
     * one month that reaches neither end of it: a customer active before it
     * and after it in that month may not have been in it. */
    bool days, exact;
    struct ledger *ledger; /* settlement only */
};

static leal_err add_row(struct report_part *p)
{
    if (p->nrows == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct report_cell *c = realloc(p->cell, cap * p->ncols * sizeof *c);
        if (c == NULL)
            return LEAL_E_NO_MEMORY;
        p->cell = c;
        p->cap = cap;
    }
    memset(&p->cell[p->nrows * p->ncols], 0, p->ncols * sizeof *p->cell);
    p->nrows++;
    return LEAL_OK;
}

static leal_err take_row(struct report_part *p, struct cur *st)
{
    leal_err err = add_row(p);
    struct report_cell *c = &p->cell[(p->nrows - 1) * p->ncols];
    for (size_t i = 0; err == LEAL_OK && i < p->ncols; i++) {
        int k = (int)i;
        c[i].null = cur_null(st, k);
        if (p->col[i].type != REPORT_TEXT) {
            c[i].i = cur_i64(st, k);
            continue;
        }
        c[i].s = strdup(cur_text(st, k));
        if (c[i].s == NULL)
            err = LEAL_E_NO_MEMORY;
    }
    return err;
}

/* A part: its name, its columns (as many as its SQL's) and its SQL. */
struct part_def {
    const char *name;
    const struct report_col *cols;
    size_t ncols;
    const char *sql;
};

/* The next part of r, from def. */
static leal_err run_part(struct report_db *db, struct report *r, const struct part_def *def,
                         const struct params *pa)
{
    struct report_part *p = &r->part[r->nparts++];
    struct cur st;
    leal_err err, step = LEAL_OK;
    snprintf(p->name, sizeof p->name, "%s", def->name);
    p->ncols = def->ncols;
    memcpy(p->col, def->cols, def->ncols * sizeof *def->cols);
    err = cur_open(db, def->sql, pa->v, N_PARAMS, &st);
    while (err == LEAL_OK && cur_next(&st, &step))
        err = take_row(p, &st);
    cur_close(&st);
    return err != LEAL_OK ? err : step;
}

#define COLS(a) a, sizeof(a) / sizeof((a)[0])

/* ---- The reports ------------------------------------------------------------ */

/* The day an entry's second falls on, and the first day of its month: the
 * one place the dialects differ (SQLite's strftime and julianday,
 * PostgreSQL's date arithmetic); a query that needs it is written once as
 * a macro of the month's macro, and report_db's pg picks the text. Text is
 * ordered by its bytes on both (COLLATE BINARY, PostgreSQL's "C"). */
#define DAY_OF(at) "((" at ") / 86400)"
#define MONTH_OF(at)                                                                               \
    "CAST(julianday(strftime('%Y-%m-01', " at ", 'unixepoch')) - 2440587.5 AS INTEGER)"
#define PG_MONTH_OF(at)                                                                            \
    "(date_trunc('month', (DATE '1970-01-01' + ((" at ") / 86400)::int)::timestamp)::date - "      \
    "DATE '1970-01-01')"

/* The program's entries in the window (at the store), each with the kind it
 * counts as (a void: the kind it reverses, counted negatively by sign). */
#define ENTRIES_CTE                                                                                \
    "ent AS MATERIALIZED (SELECT e.id, " DAY_OF(                                                   \
        "e.at") " AS day, coalesce(e.store_id, 0) AS store_id, "                                   \
                "coalesce(r.kind, e.kind) AS kind, CASE WHEN e.kind = "                            \
                "'void' THEN -1 ELSE 1 END AS sgn, "                                               \
                "coalesce(e.card_id, r.card_id) AS card_id FROM entry "                            \
                "e LEFT JOIN entry r ON r.id = "                                                   \
                "e.reverses AND e.kind = 'void' WHERE e.program_id = "                             \
                "?1 AND e.at >= ?2 AND e.at < ?3 AND "                                             \
                "(?4 = 0 OR e.store_id = ?4))"

/* activity: per day and store (no store: ''), sales (entries that earn or
 * pay, voided ones taken off) by what identified the customer (a card, a
 * QR code, neither), points issued (earned: the points_issued account's
 * other side, refunds taking theirs back), redeemed, expired and adjusted by
 * hand, purse euros loaded (top-ups, gift card sales) and spent (purse
 * payments less refunds to the purse). Each side summed per day and store
 * before the two are put together: PostgreSQL, which cannot tell how few
 * days and stores the window's entries have, sorted every line of the
 * window to disk to group them at the end (5.5 s at 1,000,000 entries). */
static const char activity_sql[] =
    "WITH " ENTRIES_CTE ", x AS (SELECT e.day, e.store_id, "
    "sum(CASE WHEN c.tech IS NOT NULL AND c.tech <> 'virtual-qr' THEN e.sgn ELSE 0 END) AS card, "
    "sum(CASE WHEN c.tech = 'virtual-qr' THEN e.sgn ELSE 0 END) AS qr, "
    "sum(CASE WHEN c.tech IS NULL THEN e.sgn ELSE 0 END) AS nocard, "
    "0 AS pi, 0 AS pr, 0 AS pe, 0 AS pa, 0 AS el, 0 AS es "
    "FROM ent e LEFT JOIN card c ON c.card_id = e.card_id WHERE e.kind IN ('earn', 'spend') "
    "GROUP BY e.day, e.store_id UNION ALL SELECT e.day, e.store_id, 0, 0, 0, "
    "sum(CASE WHEN a.name = 'points_issued' AND l.asset = 'PTS' THEN -l.amount ELSE 0 END), "
    "sum(CASE WHEN a.name = 'points_redeemed' AND l.asset = 'PTS' THEN l.amount ELSE 0 END), "
    "sum(CASE WHEN a.name = 'points_expired' AND l.asset = 'PTS' THEN l.amount ELSE 0 END), "
    "sum(CASE WHEN a.name = 'adjustments' AND l.asset = 'PTS' THEN -l.amount ELSE 0 END), "
    "sum(CASE WHEN a.kind <> 'program' AND l.asset = 'EUR' AND e.kind IN ('topup', 'gift_sale') "
    "THEN l.amount ELSE 0 END), "
    "sum(CASE WHEN a.kind <> 'program' AND l.asset = 'EUR' AND e.kind IN ('spend', 'refund') "
    "THEN -l.amount ELSE 0 END) "
    "FROM ent e JOIN line l ON l.entry_id = e.id JOIN account a ON a.id = l.account_id "
    "GROUP BY e.day, e.store_id) "
    "SELECT x.day, coalesce(s.code, ''), sum(x.card), sum(x.qr), sum(x.nocard), sum(x.pi), "
    "sum(x.pr), sum(x.pe), sum(x.pa), sum(x.el), sum(x.es) FROM x LEFT JOIN store s ON s.id = "
    "x.store_id GROUP BY x.day, x.store_id, s.code ORDER BY x.day, coalesce(s.code, '') COLLATE "
    "BINARY";

static const struct report_col activity_cols[] = {
    {"day", REPORT_DATE},
    {"store", REPORT_TEXT},
    {"sales_card", REPORT_INT},
    {"sales_qr", REPORT_INT},
    {"sales_no_card", REPORT_INT},
    {"points_issued", REPORT_INT},
    {"points_redeemed", REPORT_INT},
    {"points_expired", REPORT_INT},
    {"points_adjusted", REPORT_INT},
    {"purse_loaded", REPORT_EUR},
    {"purse_spent", REPORT_EUR},
};

/* refused: what the terminals' journals told the import and it could not
 * post or explain (host/ledger/ledger_terminal.h's findings: a broken MAC
 * or chain, a gap, a post the ledger refused ('held'), ...), per day the
 * import saw it, the terminal's store and the finding's kind. */
static const char refused_sql[] = "SELECT " DAY_OF(
    "f.at") ", s.code, f.kind, count(*) FROM sync_finding f "
            "JOIN terminal t ON t.id = f.terminal_id JOIN store s ON s.id = t.store_id "
            "WHERE s.program_id = ?1 AND f.at >= ?2 AND f.at < ?3 AND (?4 = 0 OR s.id = ?4) "
            "GROUP BY 1, 2, 3 ORDER BY 1, s.code COLLATE BINARY, f.kind COLLATE BINARY";

static const struct report_col refused_cols[] = {
    {"day", REPORT_DATE}, {"store", REPORT_TEXT}, {"reason", REPORT_TEXT}, {"taps", REPORT_INT}};

/* activity over whole days: the same figures as kept per day and store in
 * report_day (a row for each day and store with an entry). */
static const char activity_sum_sql[] =
    "SELECT d.day, coalesce(s.code, ''), d.sales_card, d.sales_qr, d.sales_no_card, "
    "d.points_issued, d.points_redeemed, d.points_expired, d.points_adjusted, d.purse_loaded, "
    "d.purse_spent FROM report_day d LEFT JOIN store s ON s.id = d.store_id WHERE d.program_id "
    "= ?1 AND d.day >= ?6 AND d.day <= ?7 AND (?4 = 0 OR d.store_id = ?4) ORDER BY d.day, "
    "coalesce(s.code, '')";

static leal_err report_activity(struct report_db *db, struct report *r, const struct params *pa)
{
    leal_err err = run_part(db, r,
                            &(const struct part_def){"activity", COLS(activity_cols),
                                                     pa->days ? activity_sum_sql : activity_sql},
                            pa);
    r->chart = (struct report_chart_spec){.part = 0, .x = 0, .ny = 3, .y = {5, 6, 7}};
    return err == LEAL_OK
               ? run_part(db, r,
                          &(const struct part_def){"refused", COLS(refused_cols), refused_sql}, pa)
               : err;
}

/* liabilities: at the end of --to, what customers' accounts and gift cards
 * hold per asset, how many accounts hold some, and what it is worth: points
 * at the point value, euros as they are (stamps and bono sessions: no value
 * here). Each account's balance less what moved after the date: the
 * months of report_held from ?8 on (its net movement per account, asset and
 * month; rep8) and ?11 times the lines of [?9, ?10), the part of the date's
 * month nearer to it (read through entry_program_at): before the date
 * added back when the months from its own are taken off, after it taken off
 * when only the later months are. One aggregate grouped per account and
 * asset: a date in the past reads a row per account and month after it,
 * not every line after it (8.3 s at 10 M entries for a date eleven months
 * back through the lines). */
#define HELD_BALANCES                                                                              \
    "WITH held AS (SELECT x.asset, sum(x.a) AS b FROM (SELECT b.account_id AS id, b.asset, "       \
    "b.amount AS a FROM balance b JOIN account a ON a.id = b.account_id WHERE a.program_id = ?1 "  \
    "AND a.kind <> 'program' UNION ALL "
#define HELD_ASSETS                                                                                \
    " AND a.program_id = ?1 AND a.kind <> 'program') x GROUP BY x.id, x.asset) "                   \
    "SELECT asset, sum(CASE WHEN b <> 0 THEN 1 ELSE 0 END), sum(b), CASE WHEN asset = 'EUR' THEN " \
    "sum(b) WHEN asset = 'PTS' AND ?5 > 0 THEN sum(b) * ?5 END FROM held GROUP BY asset HAVING "   \
    "sum(CASE WHEN b <> 0 THEN 1 ELSE 0 END) > 0 OR sum(b) <> 0 ORDER BY asset COLLATE BINARY"
static const char liabilities_sql[] =
    HELD_BALANCES "SELECT h.account_id, h.asset, -h.amount FROM report_held h WHERE h.program_id = "
                  "?1 AND h.month >= ?8 AND ?4 = 0 UNION ALL SELECT l.account_id, l.asset, ?11 * "
                  "l.amount FROM entry e JOIN line l ON l.entry_id = e.id JOIN account a ON a.id = "
                  "l.account_id WHERE e.program_id = ?1 AND e.at >= ?9 AND e.at < ?10 AND ?4 = "
                  "0" HELD_ASSETS;
/* The same on PostgreSQL, whose ledger keeps no report_held: each balance
 * less every line after the date. */
static const char liabilities_lines_sql[] =
    HELD_BALANCES "SELECT l.account_id, l.asset, -l.amount FROM entry e JOIN line l ON l.entry_id "
                  "= e.id JOIN account a ON a.id = l.account_id WHERE e.program_id = ?1 AND e.at "
                  ">= ?3" HELD_ASSETS;

static const struct report_col liabilities_cols[] = {
    {"asset", REPORT_TEXT}, {"holders", REPORT_INT}, {"units", REPORT_INT}, {"value", REPORT_EUR}};

static leal_err report_liabilities(struct report_db *db, struct report *r, const struct params *pa)
{
    struct params p = *pa;
    int y, m, d;
    /* The month of the second ?3 starts at ms and the next at me (UTC). */
    int64_t at = pa->v[2],
            day = at >= 0 ? at / DAY_SECONDS : -((-at + DAY_SECONDS - 1) / DAY_SECONDS);
    report_civil(day, &y, &m, &d);
    int64_t ms = days_from_civil(y, m, 1) * DAY_SECONDS,
            me = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * DAY_SECONDS;
    bool early = at - ms <= me - at;
    p.v[7] = (early ? ms : me) / DAY_SECONDS;
    p.v[8] = early ? ms : at;
    p.v[9] = early ? at : me;
    p.v[10] = early ? 1 : -1;
    r->chart = (struct report_chart_spec){.part = 0, .x = 0, .ny = 1, .y = {3}, .bars = true};
    return run_part(db, r,
                    &(const struct part_def){"liabilities", COLS(liabilities_cols),
                                             db->pg ? liabilities_lines_sql : liabilities_sql},
                    &p);
}

/* redemptions: per reward (the redeeming entry's reference, or its reason
 * when it has none; a void, or a refund undoing a sale's stamp rewards,
 * counts against the one it reverses; report_sum_sql.h's RS_UNDONE) and asset
 * (points, or a stamp card's stamps), how many and how much. Read from the
 * two program accounts' lines (line_account) to their entries: only
 * redemptions are read, never the window's other entries (through
 * entry_program_at SQLite read every entry of the year: 4.7 s against 1.1 s
 * at 845,000 entries). */
static const char redemptions_sql[] =
    "SELECT * FROM (SELECT CASE WHEN coalesce(r.reference, e.reference) <> '' THEN "
    "coalesce(r.reference, e.reference) ELSE coalesce(r.reason, e.reason) END AS reward, l.asset "
    "AS asset, sum(CASE WHEN e.kind IN ('void', 'refund') THEN -1 ELSE 1 END), sum(l.amount) "
    "FROM account a CROSS JOIN line l ON l.account_id = a.id CROSS JOIN entry e ON e.id = "
    "l.entry_id LEFT JOIN entry r ON r.id = e.reverses AND e.kind IN ('void', 'refund') WHERE "
    "e.program_id = "
    "?1 AND e.at >= ?2 AND e.at < ?3 AND (?4 = 0 OR e.store_id = ?4) AND a.program_id = ?1 AND "
    "a.kind = 'program' AND a.name IN ('points_redeemed', 'stamps_redeemed') GROUP BY 1, 2) x "
    "ORDER BY x.reward COLLATE BINARY, x.asset COLLATE BINARY";

/* redemptions over whole days: the same per day and store in report_redeem. */
static const char redemptions_sum_sql[] =
    "SELECT reward, asset, sum(redemptions), sum(units) FROM report_redeem WHERE program_id = ?1 "
    "AND day >= ?6 AND day <= ?7 AND (?4 = 0 OR store_id = ?4) GROUP BY 1, 2 ORDER BY 1, 2";

static const struct report_col redemptions_cols[] = {{"reward", REPORT_TEXT},
                                                     {"asset", REPORT_TEXT},
                                                     {"redemptions", REPORT_INT},
                                                     {"units", REPORT_INT}};

static leal_err report_redemptions(struct report_db *db, struct report *r, const struct params *pa)
{
    r->chart = (struct report_chart_spec){.part = 0, .x = 0, .ny = 1, .y = {2}, .bars = true};
    return run_part(db, r,
                    &(const struct part_def){"redemptions", COLS(redemptions_cols),
                                             pa->days ? redemptions_sum_sql : redemptions_sql},
                    pa);
}

/* breakage: per month, points issued, redeemed and expired (the program
 * accounts' other side) and what the expired were worth at the point
 * value: the points customers let lapse. */
#define BREAKAGE_SQL(MONTH)                                                                        \
    "SELECT " MONTH(                                                                               \
        "e.at") ", sum(CASE WHEN a.name = 'points_issued' THEN -l.amount ELSE 0 END), "            \
                "sum(CASE WHEN a.name = 'points_redeemed' THEN l.amount ELSE 0 END), sum(CASE "    \
                "WHEN a.name "                                                                     \
                "= 'points_expired' THEN l.amount ELSE 0 END), CASE WHEN ?5 > 0 THEN ?5 * "        \
                "sum(CASE WHEN "                                                                   \
                "a.name = 'points_expired' THEN l.amount ELSE 0 END) END FROM entry e JOIN line "  \
                "l ON "                                                                            \
                "l.entry_id = e.id JOIN account a ON a.id = l.account_id WHERE e.program_id = ?1 " \
                "AND e.at "                                                                        \
                ">= ?2 AND e.at < ?3 AND (?4 = 0 OR e.store_id = ?4) AND a.kind = 'program' AND "  \
                "l.asset "                                                                         \
                "= 'PTS' AND a.name IN ('points_issued', 'points_redeemed', 'points_expired') "    \
                "GROUP BY 1 "                                                                      \
                "ORDER BY 1"
static const char *const breakage_sql[2] = {BREAKAGE_SQL(MONTH_OF), BREAKAGE_SQL(PG_MONTH_OF)};

static const struct report_col breakage_cols[] = {
    {"month", REPORT_MONTH},        {"points_issued", REPORT_INT}, {"points_redeemed", REPORT_INT},
    {"points_expired", REPORT_INT}, {"expired_value", REPORT_EUR},
};

/* breakage over whole days: report_day's point figures per month, the
 * months with a line on one of the three accounts. */
static const char breakage_sum_sql[] = "SELECT " MONTH_OF(
    "d.day * 86400") ", sum(d.points_issued), sum(d.points_redeemed), "
                     "sum(d.points_expired), CASE WHEN ?5 > 0 THEN ?5 * sum(d.points_expired) END "
                     "FROM "
                     "report_day d WHERE d.program_id = ?1 AND d.day >= ?6 AND d.day <= ?7 AND (?4 "
                     "= 0 OR "
                     "d.store_id = ?4) GROUP BY 1 HAVING sum(d.point_lines) > 0 ORDER BY 1";

static leal_err report_breakage(struct report_db *db, struct report *r, const struct params *pa)
{
    r->chart = (struct report_chart_spec){.part = 0, .x = 0, .ny = 3, .y = {1, 2, 3}, .bars = true};
    return run_part(db, r,
                    &(const struct part_def){"breakage", COLS(breakage_cols),
                                             pa->days ? breakage_sum_sql : breakage_sql[db->pg]},
                    pa);
}

/* The customers (by customer account) with a line in the program's entries
 * of [from, to) at the store, expiries aside (not something they did): the
 * accounts the window's lines moved first, then their customers (each line
 * looked its account up before: SQLite's customers report over three days
 * of 1,000,000 entries took 4.1 s that way, 3.2 s this way). */
#define ACTIVE_CTE(name, from, to)                                                                 \
    name " AS MATERIALIZED (SELECT DISTINCT a.customer_id AS id FROM (SELECT DISTINCT "            \
         "l.account_id AS id FROM entry e JOIN line l ON l.entry_id = e.id WHERE e.program_id = "  \
         "?1 AND e.at >= " from " AND e.at < " to " AND (?4 = 0 OR e.store_id = ?4) AND e.kind "   \
         "<> 'expire') x JOIN account a ON a.id = x.id WHERE a.kind = 'customer')"

/* customers: at the end of --to, how many customers the program has; how
 * many joined in the window; how many were active in it (a movement of
 * theirs); how many had been active before it and were not in it (lapsed). */
#define CUSTOMERS_COUNTS                                                                           \
    " SELECT (SELECT count(*) FROM customer WHERE program_id = ?1 AND created_at < ?3), "          \
    "(SELECT count(*) FROM customer WHERE program_id = ?1 AND created_at >= ?2 AND created_at < "  \
    "?3), (SELECT count(*) FROM per WHERE now = 1), (SELECT count(*) FROM per WHERE before = 1 "   \
    "AND now = 0)"
static const char customers_sql[] =
    "WITH per AS MATERIALIZED (SELECT a.customer_id AS id, max(CASE WHEN e.at >= ?2 THEN 1 ELSE 0 "
    "END) AS now, max(CASE WHEN e.at < ?2 THEN 1 ELSE 0 END) AS before FROM entry e JOIN line l ON "
    "l.entry_id = e.id JOIN account a ON "
    "a.id = l.account_id WHERE e.program_id = ?1 AND e.at < ?3 AND (?4 = 0 OR e.store_id = ?4) "
    "AND a.kind = 'customer' AND e.kind <> 'expire' GROUP BY 1)" CUSTOMERS_COUNTS;

/* The same over whole days of the whole program from report_visit (one row
 * per customer and month up to --to): active before the window if their
 * first day is before it; active in it if a month's first day is not after
 * it and its last day not before it, when that is exact (params' exact:
 * customers_sum_sql); otherwise the window's own entries say who was
 * active (customers_month_sql). Through the entries SQLite took 12 s for a
 * month of 1,000,000 entries. */
#define VISITS_UPTO "FROM report_visit WHERE program_id = ?1 AND month <= ?7"
static const char customers_sum_sql[] =
    "WITH per AS MATERIALIZED (SELECT customer_id AS id, max(first_day <= ?7 AND last_day >= "
    "?6) AS now, max(first_day < ?6) AS before " VISITS_UPTO " GROUP BY 1)" CUSTOMERS_COUNTS;
static const char customers_month_sql[] = "WITH " ACTIVE_CTE(
    "act", "?2", "?3") ", per AS MATERIALIZED (SELECT id, max(now) AS now, "
                       "max(before) AS before FROM (SELECT customer_id AS id, 0 AS now, first_day "
                       "< ?6 AS before " VISITS_UPTO
                       " UNION ALL SELECT id, 1, 0 FROM act) GROUP BY 1)" CUSTOMERS_COUNTS;

static const struct report_col customers_cols[] = {
    {"customers", REPORT_INT}, {"new", REPORT_INT}, {"active", REPORT_INT}, {"lapsed", REPORT_INT}};

/* tiers: the customers active in the window by the tier their newest sale
 * up to --to left them in (tier 0: none or no sale through the rules). */
static const char tiers_sql[] = "WITH " ACTIVE_CTE(
    "act", "?2",
    "?3") " SELECT tier, count(*) FROM (SELECT coalesce((SELECT s.tier_after FROM sale s JOIN "
          "account a ON a.id = s.account_id WHERE a.customer_id = act.id AND s.at < ?3 ORDER BY "
          "s.at DESC, s.id DESC LIMIT 1), 0) AS tier FROM act) t GROUP BY tier ORDER BY tier";

/* The same from report_visit, when that is exact (as above). */
#define VISITS_IN                                                                                  \
    "FROM report_visit WHERE program_id = ?1 AND month > ?6 - 31 AND month <= ?7 AND first_day "   \
    "<= ?7 AND last_day >= ?6"
static const char tiers_sum_sql[] =
    "WITH act AS MATERIALIZED (SELECT DISTINCT customer_id AS id " VISITS_IN
    ") SELECT coalesce((SELECT s.tier_after FROM sale s JOIN account a ON a.id = s.account_id "
    "WHERE a.customer_id = act.id AND s.at < ?3 ORDER BY s.at DESC, s.id DESC LIMIT 1), 0) AS "
    "tier, count(*) FROM act GROUP BY 1 ORDER BY 1";

static const struct report_col tiers_cols[] = {{"tier", REPORT_INT}, {"customers", REPORT_INT}};

static leal_err report_customers(struct report_db *db, struct report *r, const struct params *pa)
{
    bool sum = pa->days && pa->v[3] == 0;
    const char *sql = !sum ? customers_sql : pa->exact ? customers_sum_sql : customers_month_sql;
    leal_err err =
        run_part(db, r, &(const struct part_def){"customers", COLS(customers_cols), sql}, pa);
    r->chart = (struct report_chart_spec){.part = 1, .x = 0, .ny = 1, .y = {1}, .bars = true};
    sql = sum && pa->exact ? tiers_sum_sql : tiers_sql;
    return err == LEAL_OK
               ? run_part(db, r, &(const struct part_def){"tiers", COLS(tiers_cols), sql}, pa)
               : err;
}

/* retention: customers who joined in the window by the month they joined
 * (cohort), and for each later month of the window how many of them were
 * active (a movement of theirs at the store) in it. Each active (customer,
 * month) looks its customer up by id: joined the other way round, SQLite
 * scanned the active pairs once per customer who joined (3 minutes at
 * 100,000 customers once customer_program_created exists). */
#define RETENTION_BY_COHORT(MONTH)                                                                 \
    " SELECT " MONTH("c.created_at") ", size.n, act.month, count(*) FROM act CROSS JOIN customer " \
                                     "c ON c.id = act.id JOIN size ON size.cohort = " MONTH(       \
                                         "c.created_at") " WHERE c.program_id = ?1 AND "           \
                                                         "c.created_at >= ?2 AND c.created_at < "  \
                                                         "?3 GROUP BY 1, 2, 3 ORDER BY 1, 3"
#define RETENTION_SIZE(MONTH)                                                                      \
    "WITH size AS (SELECT " MONTH(                                                                 \
        "created_at") " AS cohort, count(*) AS n FROM customer WHERE "                             \
                      "program_id = ?1 AND created_at >= ?2 AND created_at < ?3 GROUP BY 1), "
#define RETENTION_SQL(MONTH)                                                                       \
    RETENTION_SIZE(MONTH)                                                                          \
    "act AS MATERIALIZED (SELECT DISTINCT a.customer_id AS id, " MONTH(                            \
        "e.at") " AS month FROM entry e JOIN line l ON l.entry_id = e.id JOIN account a ON a.id "  \
                "= l.account_id WHERE e.program_id = ?1 AND e.at >= ?2 AND e.at < ?3 AND (?4 = 0 " \
                "OR e.store_id = ?4) AND a.kind = 'customer' AND e.kind <> "                       \
                "'expire')" RETENTION_BY_COHORT(MONTH)
static const char *const retention_sql[2] = {RETENTION_SQL(MONTH_OF), RETENTION_SQL(PG_MONTH_OF)};
/* The same over whole days of the whole program, when report_visit says
 * exactly who was active (params' exact): each (customer, month) of
 * report_visit with a day in the window (8.6 s through the entries on
 * SQLite for a month of 1,000,000 entries). */
static const char retention_sum_sql[] =
    RETENTION_SIZE(MONTH_OF) "act AS MATERIALIZED (SELECT customer_id AS id, month " VISITS_IN
                             ")" RETENTION_BY_COHORT(MONTH_OF);

static const struct report_col retention_cols[] = {{"cohort", REPORT_MONTH},
                                                   {"joined", REPORT_INT},
                                                   {"month", REPORT_MONTH},
                                                   {"active", REPORT_INT}};

static leal_err report_retention(struct report_db *db, struct report *r, const struct params *pa)
{
    bool sum = pa->days && pa->exact && pa->v[3] == 0;
    r->chart = (struct report_chart_spec){.part = 0, .x = 2, .ny = 1, .y = {3}, .bars = true};
    return run_part(db, r,
                    &(const struct part_def){"retention", COLS(retention_cols),
                                             sum ? retention_sum_sql : retention_sql[db->pg]},
                    pa);
}

/* campaigns: per earning rule (its newest name), the points it gave in
 * the window's sales through the rules engine (as given at the sale) and
 * those sales' count and euros; beside them all the program's sales in
 * the window and in as many days just before it. */
static const char campaigns_sql[] =
    "WITH win AS (SELECT count(*) AS n, coalesce(sum(amount_cents), 0) AS amt FROM sale WHERE "
    "program_id = ?1 AND at >= ?2 AND at < ?3 AND (?4 = 0 OR store_id = ?4)), "
    "bef AS (SELECT count(*) AS n, coalesce(sum(amount_cents), 0) AS amt FROM sale WHERE "
    "program_id = ?1 AND at >= 2 * ?2 - ?3 AND at < ?2 AND (?4 = 0 OR store_id = ?4)), "
    "r AS (SELECT sl.rule_id AS id, sum(sl.points) AS pts, count(DISTINCT s.id) AS n, "
    "sum(s.amount_cents) AS amt FROM sale_line sl JOIN sale s ON s.id = sl.sale_id WHERE "
    "sl.source = 4 AND s.program_id = ?1 AND s.at >= ?2 AND s.at < ?3 AND (?4 = 0 OR "
    "s.store_id = ?4) GROUP BY 1) "
    "SELECT r.id, coalesce((SELECT name FROM rule_set_name WHERE program_id = ?1 AND part = 3 AND "
    "item = r.id ORDER BY version DESC LIMIT 1), ''), r.pts, r.n, r.amt, win.n, win.amt, bef.n, "
    "bef.amt FROM r, win, bef ORDER BY r.id";

static const struct report_col campaigns_cols[] = {
    {"rule", REPORT_INT},
    {"name", REPORT_TEXT},
    {"points", REPORT_INT},
    {"sales_with_rule", REPORT_INT},
    {"amount_with_rule", REPORT_EUR},
    {"sales", REPORT_INT},
    {"amount", REPORT_EUR},
    {"sales_before", REPORT_INT},
    {"amount_before", REPORT_EUR},
};

static leal_err report_campaigns(struct report_db *db, struct report *r, const struct params *pa)
{
    r->chart = (struct report_chart_spec){.part = 0, .x = 1, .ny = 1, .y = {2}, .bars = true};
    return run_part(db, r,
                    &(const struct part_def){"campaigns", COLS(campaigns_cols), campaigns_sql}, pa);
}

/* settlement: each month of the window as `leal settle` shows it (host/
 * ledger/ledger_settle.h; a settled month as settled, else a preview, which
 * takes every entry no settled month took: after an unsettled month the next
 * includes it), a row per shop, then no shop and the collective's pool. */
static const struct report_col settlement_cols[] = {
    {"month", REPORT_MONTH},         {"row", REPORT_TEXT},
    {"store", REPORT_TEXT},          {"points_collected", REPORT_INT},
    {"points_paid_out", REPORT_INT}, {"purse_loaded", REPORT_EUR},
    {"purse_spent", REPORT_EUR},     {"balance", REPORT_EUR},
};

static leal_err settle_rows(struct report_part *p, const struct ledger_settlement *s, int64_t day)
{
    leal_err err = LEAL_OK;
    for (size_t i = 0; err == LEAL_OK && i < s->nrows; i++) {
        const struct ledger_settle_row *w = &s->rows[i];
        if ((err = add_row(p)) != LEAL_OK)
            break;
        struct report_cell *c = &p->cell[(p->nrows - 1) * p->ncols];
        int64_t v[8] = {day,
                        0,
                        0,
                        w->points_collected,
                        w->points_paid_out,
                        w->purse_loaded_cents,
                        w->purse_spent_cents,
                        w->balance_cents};
        for (size_t k = 0; k < 8; k++)
            c[k].i = v[k];
        c[1].s = strdup(w->store_id == LEDGER_SETTLE_POOL      ? "pool"
                        : w->store_id == LEDGER_SETTLE_NO_SHOP ? "no-shop"
                                                               : "shop");
        c[2].s = strdup(w->code);
        if (c[1].s == NULL || c[2].s == NULL)
            err = LEAL_E_NO_MEMORY;
    }
    return err;
}

static leal_err report_settlement(struct report_db *db, struct report *r, const struct params *pa)
{
    struct report_part *p = &r->part[r->nparts++];
    struct ledger_settlement *s = malloc(sizeof *s);
    int y, m, d, ty, tm;
    leal_err err = s ? LEAL_OK : LEAL_E_NO_MEMORY;
    snprintf(p->name, sizeof p->name, "settlement");
    p->ncols = sizeof settlement_cols / sizeof settlement_cols[0];
    memcpy(p->col, settlement_cols, sizeof settlement_cols);
    r->chart = (struct report_chart_spec){.part = 0, .x = 2, .ny = 1, .y = {7}, .bars = true};
    if (pa->ledger == NULL)
        err = LEAL_E_ARG;
    report_civil(r->from_day, &y, &m, &d);
    report_civil(r->to_day, &ty, &tm, &d);
    while (err == LEAL_OK && (y < ty || (y == ty && m <= tm))) {
        struct ledger_settle_request rq = {r->program_id, y, m, false, NULL};
        if ((err = ledger_settle(pa->ledger, &rq, s)) != LEAL_OK)
            snprintf(db->msg, sizeof db->msg, "%04d-%02d%s%s", y, m,
                     ledger_errmsg(pa->ledger)[0] ? ": " : "", ledger_errmsg(pa->ledger));
        else
            err = settle_rows(p, s, days_from_civil(y, m, 1));
        y += m == 12;
        m = m == 12 ? 1 : m + 1;
    }
    free(s);
    return err;
}

struct report_def {
    const char *name, *summary;
    bool whole_program; /* refuses --store */
    /* Reads through the ledger's own transactions (settlement: ledger_settle
     * per month), not in one snapshot. */
    bool own_tx;
    leal_err (*run)(struct report_db *db, struct report *r, const struct params *pa);
};

static const struct report_def defs[] = {
    {"activity",
     "per day and store: sales by card/QR, points issued/redeemed/expired, purse "
     "loaded/spent; taps refused and why",
     false, false, report_activity},
    {"liabilities",
     "at the end of --to: points, euros, stamps and bono sessions customers hold, "
     "valued",
     true, false, report_liabilities},
    {"redemptions", "per reward: redemptions and points or stamps", false, false,
     report_redemptions},
    {"breakage", "per month: points issued, redeemed and expired (with their value)", false, false,
     report_breakage},
    {"customers", "customers, new, active and lapsed; active ones by tier", false, false,
     report_customers},
    {"retention", "customers who joined per month and how many were active each month after", false,
     false, report_retention},
    {"campaigns",
     "per earning rule: points given and its sales, against all sales in the window "
     "and just before",
     false, false, report_campaigns},
    {"settlement", "per month, a collective's settlement between its shops (as leal settle)", true,
     true, report_settlement},
};

const char *report_name(size_t i)
{
    return i < sizeof defs / sizeof defs[0] ? defs[i].name : NULL;
}

const char *report_summary(size_t i)
{
    return i < sizeof defs / sizeof defs[0] ? defs[i].summary : NULL;
}

/* ?4 and ?5 of q, and the program's existence. */
static leal_err resolve(struct report_db *db, const struct report_query *q, bool whole,
                        struct report *r)
{
    struct cur st;
    int64_t n;
    leal_err err = query_int(db, "SELECT count(*) FROM program WHERE id = ?1",
                             (const int64_t[]){q->program_id}, 1, &n);
    if (err != LEAL_OK)
        return err;
    if (n == 0)
        return LEAL_E_UNKNOWN_PROGRAM;
    r->point_value_cents = q->point_value_cents;
    if (r->point_value_cents == 0 &&
        (err = query_int(db,
                         "SELECT point_value_cents FROM settle_value WHERE program_id = ?1 "
                         "ORDER BY id DESC LIMIT 1",
                         (const int64_t[]){q->program_id}, 1, &r->point_value_cents)) != LEAL_OK)
        return err;
    if (q->store == NULL)
        return LEAL_OK;
    if (whole)
        return LEAL_E_REPORT_STORE;
    /* The program's stores compared here: the queries bind integers only. */
    r->store_id = 0;
    err = cur_open(db, "SELECT id, code FROM store WHERE program_id = ?1",
                   (const int64_t[]){q->program_id}, 1, &st);
    while (err == LEAL_OK && r->store_id == 0 && cur_next(&st, &err))
        if (strcmp(cur_text(&st, 1), q->store) == 0)
            r->store_id = cur_i64(&st, 0);
    cur_close(&st);
    if (err != LEAL_OK)
        return err;
    return r->store_id ? LEAL_OK : LEAL_E_REPORT_STORE;
}

leal_err report_run(struct report_db *db, const struct report_query *q, struct report *out)
{
    return report_run_at(db, q, q->from_day * DAY_SECONDS, (q->to_day + 1) * DAY_SECONDS, out);
}

leal_err report_run_at(struct report_db *db, const struct report_query *q, int64_t from_at,
                       int64_t to_at, struct report *out)
{
    const struct report_def *d = NULL;
    leal_err err;
    memset(out, 0, sizeof *out);
    db->msg[0] = '\0';
    for (size_t i = 0; i < sizeof defs / sizeof defs[0] && q->name; i++)
        if (strcmp(defs[i].name, q->name) == 0)
            d = &defs[i];
    if (d == NULL)
        return LEAL_E_REPORT_UNKNOWN;
    if (q->to_day < q->from_day)
        return LEAL_E_REPORT_RANGE;
    snprintf(out->name, sizeof out->name, "%s", d->name);
    out->program_id = q->program_id;
    out->from_day = q->from_day;
    out->to_day = q->to_day;
    /* Inside report_db_begin's snapshot already: read in it. On a ledger,
     * not for a report that reads through the ledger's transactions. */
    bool own = db->l ? !db->snap && !d->own_tx : sqlite3_get_autocommit(db->db) != 0;
    if (own && db->l) {
        if ((err = snap_begin(db)) != LEAL_OK)
            return err;
    } else if (own) {
        int rc = sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return db_err(db, rc);
    }
    if ((err = resolve(db, q, d->whole_program, out)) == LEAL_OK) {
        struct params pa = {{q->program_id, from_at, to_at, out->store_id, out->point_value_cents,
                             from_at / DAY_SECONDS, to_at / DAY_SECONDS - 1},
                            false,
                            false,
                            q->ledger};
        int y0, m0, y1, m1, d0, d1, dd;
        /* The summaries are SQLite's (its ledger keeps them at each COMMIT);
         * PostgreSQL's counts from the entries. */
        pa.days = !db->pg && from_at >= 0 && from_at % DAY_SECONDS == 0 &&
                  to_at % DAY_SECONDS == 0 && to_at > from_at;
        report_civil(pa.v[5], &y0, &m0, &d0);
        report_civil(pa.v[6], &y1, &m1, &dd);
        report_civil(pa.v[6] + 1, &dd, &dd, &d1);
        pa.exact = y0 != y1 || m0 != m1 || d0 == 1 || d1 == 1;
        err = d->run(db, out, &pa);
    }
    if (own && db->l)
        snap_end(db);
    else if (own)
        sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    return err;
}

/* The active customers of [?2, ?3) per store (a store's code), then in all
 * (NULL code: a customer active at two stores counts once). */
static const char dash_active_sql[] =
    "WITH act AS MATERIALIZED (SELECT DISTINCT e.store_id AS store, a.customer_id AS id FROM "
    "entry e JOIN line l ON l.entry_id = e.id JOIN account a ON a.id = l.account_id WHERE "
    "e.program_id = ?1 AND e.at >= ?2 AND e.at < ?3 AND a.kind = 'customer' AND e.kind <> "
    "'expire') "
    "SELECT s.code, count(*) FROM act JOIN store s ON s.id = act.store GROUP BY act.store, s.code "
    "UNION ALL SELECT NULL, count(DISTINCT id) FROM act";

leal_err report_dash_customers(struct report_db *db, int64_t program, int64_t from_at,
                               int64_t to_at, struct report_dash_figures *f)
{
    const int64_t v[3] = {program, from_at, to_at};
    struct cur st;
    leal_err err;
    db->msg[0] = '\0';
    f->active = 0;
    if ((err = query_int(db,
                         "SELECT count(*) FROM customer WHERE program_id = ?1 AND created_at < ?3",
                         v, 3, &f->customers)) != LEAL_OK ||
        (err = query_int(db,
                         "SELECT count(*) FROM customer WHERE program_id = ?1 AND created_at >= "
                         "?2 AND created_at < ?3",
                         v, 3, &f->joined)) != LEAL_OK)
        return err;
    err = cur_open(db, dash_active_sql, v, 3, &st);
    while (err == LEAL_OK && cur_next(&st, &err)) {
        if (!cur_null(&st, 0))
            f->each(f->ctx, cur_text(&st, 0), cur_i64(&st, 1));
        else
            f->active = cur_i64(&st, 1);
    }
    cur_close(&st);
    return err;
}
