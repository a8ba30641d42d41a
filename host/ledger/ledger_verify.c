/*
 * ledger_verify.c - checking the books and the query plans (see ledger.h).
 */
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "ledger_bono.h"
#include "ledger_sale_sql.h"
#include "ledger_sql.h"
#include "report_sum_sql.h"
#include "store.h"

/* ---- Verify ---- */

/* Runs a query that must return no rows; the first row describes the first
 * difference (columns: a text and three integers). */
static leal_err expect_empty(struct ledger *l, const char *sql, const char *fmt)
{
    struct store_stmt *st;
    leal_err err;
    int row;
    if ((err = store_prep_once(l, sql, &st)) != LEAL_OK)
        return err;
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row) {
        const unsigned char *t = store_col_str(st, 0);
        store_set_msg(l, fmt, t ? (const char *)t : "", (long long)store_col_i64(st, 1),
                      (long long)store_col_i64(st, 2), (long long)store_col_i64(st, 3));
        err = LEAL_E_LEDGER_MISMATCH;
    }
    store_finalize(st);
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
    /* Bonos (ledger_bono.h): what each account's bono kinds still defer adds
     * up, per program, to its bonos_sold liability. */
    {"SELECT '', h.program_id, h.deferred, coalesce(b.amount, 0) FROM (SELECT a.program_id AS "
     "program_id, sum(x.deferred_cents) AS deferred FROM bono_holding x JOIN account a ON a.id = "
     "x.account_id GROUP BY a.program_id) h LEFT JOIN account s ON s.program_id = h.program_id "
     "AND s.name = 'bonos_sold' LEFT JOIN balance b ON b.account_id = s.id AND b.asset = 'EUR' "
     "WHERE h.deferred <> coalesce(b.amount, 0) LIMIT 1",
     "%sprogram %lld: its accounts' bonos defer %lld cents but bonos_sold holds %lld"},
    /* And per account and kind, both ways: every holding is explained by the
     * entries that sold and used that kind on that account (its deferred
     * euros are what they put into bonos_sold and took out; a holding with no
     * such entry, or deferring euros with no session left, is unexplained),
     * and every account's sessions or deferred euros of a kind have their
     * holding. */
    {"SELECT CASE WHEN h = 0 THEN printf('account %d holds %d sessions and %d deferred cents of "
     "bono %d but has no bono holding', acc, sess, e, bono) WHEN n = 0 THEN printf('account %d "
     "has a holding of bono %d (%d deferred cents) but no entry ever sold it', acc, bono, d) "
     "WHEN d <> e THEN printf('account %d, bono %d: its holding defers %d cents but the entries "
     "that sold and used it leave %d in bonos_sold', acc, bono, d, e) ELSE printf('account %d, "
     "bono %d: its holding defers %d cents with %d sessions left', acc, bono, d, sess) END, 0, "
     "0, 0 FROM (SELECT acc, bono, sum(d) AS d, sum(e) AS e, max(h) AS h, sum(n) AS n, "
     "sum(sess) AS sess FROM (SELECT account_id AS acc, bono_id AS bono, deferred_cents AS d, 0 "
     "AS e, 1 AS h, 0 AS n, 0 AS sess FROM bono_holding UNION ALL SELECT x.account_id, "
     "CAST(substr(x.asset, 6) AS INTEGER), 0, 0, 0, 1, x.amount FROM line x JOIN account a ON "
     "a.id = x.account_id WHERE substr(x.asset, 1, 5) = 'BONO:' AND a.kind <> 'program' UNION "
     "ALL SELECT x.account_id, CAST(substr(x.asset, 6) AS INTEGER), 0, y.amount, 0, 0, 0 FROM "
     "account s JOIN line y ON y.account_id = s.id JOIN line x ON x.entry_id = y.entry_id JOIN "
     "account a ON a.id = x.account_id WHERE s.name = 'bonos_sold' AND y.asset = 'EUR' AND "
     "substr(x.asset, 1, 5) = 'BONO:' AND a.kind <> 'program') u GROUP BY acc, bono) g WHERE (h = "
     "0 "
     "AND (sess <> 0 OR e <> 0)) OR (h = 1 AND (n = 0 OR d <> e OR (d > 0 AND sess <= 0))) "
     "ORDER BY acc, bono LIMIT 1",
     "%s%.0lld%.0lld%.0lld"},
    /* Sales and refunds (ledger_sale.h) against their entries: a sale's
     * entry is the one its key names ("sale:" + its request id; a refund's
     * "refund:") and moves the account's points by what the sale recorded,
     * less the owed points it settled (a refund: by what it took back); no
     * entry moves none. */
    {"SELECT CASE WHEN k = 0 THEN w || ' ' || id || ': entry ' || eid || ' is not its entry' ELSE "
     "w || ' ' || id || ' records ' || want || ' points for account ' || acc || ' but its entry "
     "moves ' || got END, 0, 0, 0 FROM (SELECT 'sale' AS w, s.id AS id, s.entry_id AS eid, "
     "s.account_id AS acc, s.points - s.owed_settled AS want, coalesce(sum(x.amount), 0) AS got, "
     "CASE WHEN s.entry_id IS NULL OR e.request_id = 'sale:' || s.request_id THEN 1 ELSE 0 END "
     "AS k FROM sale s LEFT JOIN entry e ON e.id = s.entry_id LEFT JOIN line x ON x.entry_id = "
     "e.id AND x.account_id = s.account_id AND x.asset = 'PTS' GROUP BY s.id, e.id UNION ALL "
     "SELECT 'refund', r.id, r.entry_id, r.account_id, -r.points_back, coalesce(sum(x.amount), "
     "0), CASE WHEN r.entry_id IS NULL OR e.request_id = 'refund:' || r.request_id THEN 1 ELSE 0 "
     "END FROM sale_refund r LEFT JOIN entry e ON e.id = r.entry_id LEFT JOIN line x ON "
     "x.entry_id = e.id AND x.account_id = r.account_id AND x.asset = 'PTS' GROUP BY r.id, e.id) "
     "v WHERE k = 0 OR want <> got ORDER BY w DESC, id LIMIT 1",
     "%s%.0lld%.0lld%.0lld"},
};

/* The report summaries (report_sum_sql.h; SQLite only) against the same
 * rows computed from the entries: a row that differs, is missing or has no
 * entry behind it. */
static const struct {
    const char *sql;
    const char *fmt;
} verify_summaries[] = {
    {"SELECT date(day * 86400, 'unixepoch'), program_id, store_id, 0 FROM (SELECT program_id, "
     "day, store_id, sum(c1) AS c1, sum(c2) AS c2, sum(c3) AS c3, sum(p1) AS p1, sum(p2) AS p2, "
     "sum(p3) AS p3, sum(p4) AS p4, sum(e1) AS e1, sum(e2) AS e2, sum(n) AS n, sum(h) AS h FROM "
     "(SELECT program_id, day, store_id, sales_card AS c1, sales_qr AS c2, sales_no_card AS c3, "
     "points_issued AS p1, points_redeemed AS p2, points_expired AS p3, points_adjusted AS p4, "
     "purse_loaded AS e1, purse_spent AS e2, point_lines AS n, 1 AS h FROM report_day UNION ALL "
     "SELECT program_id, day, store_id, -c1, -c2, -c3, -p1, -p2, -p3, -p4, -e1, -e2, -n, 2 FROM "
     "(" REPORT_DAY_FROM("0") ")) GROUP BY program_id, day, store_id) WHERE h <> 3 OR c1 <> 0 "
                              "OR c2 <> 0 OR c3 <> 0 OR p1 <> 0 OR p2 <> 0 OR p3 <> 0 OR p4 <> 0 "
                              "OR e1 <> 0 OR e2 <> 0 OR "
                              "n <> 0 ORDER BY day LIMIT 1",
     "the report summary of %s differs from the entries (program %lld, store %lld)%.0lld"},
    {"SELECT date(month * 86400, 'unixepoch'), program_id, customer_id, 0 FROM (SELECT "
     "program_id, month, customer_id, first_day AS f, last_day AS l, 1 AS h FROM report_visit "
     "UNION ALL SELECT program_id, month, customer_id, first_day, last_day, 2 FROM "
     "(" REPORT_VISIT_FROM("0") ")) GROUP BY program_id, month, customer_id HAVING sum(h) <> 3 OR "
                                "min(f) <> max(f) OR "
                                "min(l) <> max(l) ORDER BY month LIMIT 1",
     "the report summary of the month from %s differs from the entries (program %lld, customer "
     "%lld)%.0lld"},
    {"SELECT date(month * 86400, 'unixepoch'), program_id, account_id, 0 FROM (SELECT "
     "program_id, month, account_id, asset, amount AS a, 1 AS h FROM report_held UNION ALL "
     "SELECT program_id, month, account_id, asset, -amount, 2 FROM (" REPORT_HELD_FROM(
         "0") ")) GROUP BY program_id, month, account_id, asset HAVING sum(h) <> 3 OR sum(a) <> 0 "
              "ORDER BY month LIMIT 1",
     "the liabilities summary of the month from %s differs from the entries (program %lld, "
     "account %lld)%.0lld"},
    {"SELECT date(day * 86400, 'unixepoch'), program_id, store_id, 0 FROM (SELECT program_id, "
     "day, store_id, reward AS w, asset AS t, redemptions AS n, units AS u, 1 AS h FROM "
     "report_redeem UNION ALL SELECT program_id, day, store_id, reward, asset, -redemptions, "
     "-units, 2 FROM (" REPORT_REDEEM_FROM(
         "0") ")) GROUP BY program_id, day, store_id, w, t "
              "HAVING sum(h) <> 3 "
              "OR sum(n) <> 0 OR sum(u) <> 0 ORDER BY day LIMIT 1",
     "the redemptions summary of %s differs from the entries (program %lld, store %lld)%.0lld"},
};

/* The stored balances against the lines (both ways), non-negative outside
 * the program's accounts, and the points lots against the points balances:
 * one GROUP BY over balances, lines and lots together, so each table is read
 * once. Each (account, asset) gets the first of these it breaks, and the
 * first difference reported is the lowest kind, then account and asset (in
 * the asset's bytes, as account show lists them: SQLite's BINARY collation,
 * PostgreSQL's "C" whatever the database's own, so both backends report the
 * same one):
 *   1 a balance row that is not the sum of its lines;
 *   2 lines without a balance row;
 *   3 a customer's or gift card's balance below zero;
 *   4 lots that do not hold the balance: exactly a customer's or gift card's
 *     PTS balance, nothing anywhere else. */
#define VERIFY_BOOKS_SQL_BY(ASSET_ORDER)                                                           \
    "SELECT kind, asset, account_id, b, n, o FROM (SELECT account_id, asset, b, n, o, CASE WHEN "  \
    "hb = 1 AND b <> n THEN 1 WHEN hb = 0 AND hn = 1 THEN 2 WHEN prog = 0 AND b < 0 THEN 3 WHEN "  \
    "CASE WHEN prog = 0 AND asset = 'PTS' THEN b ELSE 0 END <> o THEN 4 END AS kind FROM (SELECT " \
    "account_id, asset, sum(b) AS b, sum(n) AS n, sum(o) AS o, max(hb) AS hb, max(hn) AS hn, "     \
    "max(prog) AS prog FROM (SELECT x.account_id, x.asset, x.amount AS b, 0 AS n, 0 AS o, 1 AS "   \
    "hb, 0 AS hn, CASE WHEN a.kind = 'program' THEN 1 ELSE 0 END AS prog FROM balance x LEFT "     \
    "JOIN account a ON a.id = x.account_id UNION ALL SELECT account_id, asset, 0, amount, 0, 0, "  \
    "1, 0 FROM line UNION ALL SELECT account_id, asset, 0, 0, remaining, 0, 0, 0 FROM lot) u "     \
    "GROUP BY account_id, asset) g) k WHERE kind IS NOT NULL ORDER BY kind, "                      \
    "account_id, " ASSET_ORDER " LIMIT 1"
#define VERIFY_BOOKS_SQL VERIFY_BOOKS_SQL_BY("asset")
#define VERIFY_BOOKS_PG_SQL VERIFY_BOOKS_SQL_BY("asset COLLATE \"C\"")

static leal_err verify_books(struct ledger *l)
{
    static const char *const fmt[] = {
        [1] = "%s: account %lld balance is %lld but its lines sum to %lld",
        [2] = "%s: account %lld has no balance row (%lld) but its lines sum to %lld",
        [3] = "%s: account %lld is negative (%lld)%.0lld",
        [4] = "%s: account %lld balance is %lld but its lots hold %lld",
    };
    struct store_stmt *st;
    leal_err err;
    int row;
    if ((err = store_prep_once(l, l->pg ? VERIFY_BOOKS_PG_SQL : VERIFY_BOOKS_SQL, &st)) != LEAL_OK)
        return err;
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row) {
        int kind = (int)store_col_i64(st, 0);
        const unsigned char *asset = store_col_str(st, 1);
        /* Columns: kind, asset, account, balance, lines, lots. */
        long long b = kind == 2 ? 0 : store_col_i64(st, 3);
        long long other = kind == 3 ? 0 : store_col_i64(st, kind == 4 ? 5 : 4);
        store_set_msg(l, fmt[kind >= 1 && kind <= 4 ? kind : 1], asset ? (const char *)asset : "",
                      (long long)store_col_i64(st, 2), b, other);
        err = LEAL_E_LEDGER_MISMATCH;
    }
    store_finalize(st);
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
    if ((err = store_exec(l, "BEGIN")) != LEAL_OK)
        return err;
    err = store_pragma_text(l, "PRAGMA quick_check", qc, sizeof qc);
    if (err == LEAL_OK && strcmp(qc, "ok") != 0) {
        store_set_msg(l, "quick_check: %s", qc);
        err = LEAL_E_DB_CORRUPT;
    }
    /* In the order they always ran: the entries, then the books, then the keys. */
    for (size_t i = 0; err == LEAL_OK && i < 2; i++)
        err = expect_empty(l, verify_checks[i].sql, verify_checks[i].fmt);
    if (err == LEAL_OK)
        err = verify_books(l);
    for (size_t i = 2; err == LEAL_OK && i < sizeof verify_checks / sizeof verify_checks[0]; i++)
        err = expect_empty(l, verify_checks[i].sql, verify_checks[i].fmt);
    for (size_t i = 0;
         err == LEAL_OK && !l->pg && i < sizeof verify_summaries / sizeof verify_summaries[0]; i++)
        err = expect_empty(l, verify_summaries[i].sql, verify_summaries[i].fmt);
    if (err == LEAL_OK && stats) {
        err = store_pragma_int(l, "SELECT count(*) FROM entry", &stats->entries);
        if (err == LEAL_OK)
            err = store_pragma_int(l, "SELECT count(*) FROM line", &stats->lines);
        if (err == LEAL_OK)
            err = store_pragma_int(l, "SELECT count(*) FROM account", &stats->accounts);
    }
    store_end_read(l);
    return err;
}

/* ---- Query plans ---- */

/* Runs EXPLAIN QUERY PLAN on sql; a full scan of a table is an error. */
static leal_err plan_ok(struct ledger *l, const char *sql)
{
    char q[4096];
    struct store_stmt *st;
    leal_err err;
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    if ((err = store_prep_once(l, q, &st)) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        const unsigned char *d = store_col_str(st, 3);
        /* A scan of a table is refused; of a constant row or of a subquery's
         * rows (each bounded by LIMIT, as the name search's arms are: the
         * subqueries it names matched, arms and arm for PostgreSQL), not. */
        if (d && strncmp((const char *)d, "SCAN ", 5) == 0 &&
            strcmp((const char *)d, "SCAN CONSTANT ROW") != 0 &&
            strncmp((const char *)d, "SCAN (subquery-", 15) != 0 &&
            strcmp((const char *)d, "SCAN matched") != 0 &&
            strcmp((const char *)d, "SCAN arms") != 0 && strcmp((const char *)d, "SCAN arm") != 0) {
            store_set_msg(l, "%s: %.200s", (const char *)d, sql);
            err = LEAL_E_INTERNAL;
            break;
        }
    }
    store_finalize(st);
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
    char q[8192];
    struct store_stmt *st;
    leal_err err;
    int n = 0;
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    if ((err = store_prep_once(l, q, &st)) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        const char *d = (const char *)store_col_str(st, 3);
        int scan, p = -1;
        if (d == NULL || n == MAX_ROWS) {
            store_set_msg(l, "query plan not understood: %.200s", sql);
            err = LEAL_E_INTERNAL;
            break;
        }
        id[n] = (int)store_col_i64(st, 0);
        parent[n] = (int)store_col_i64(st, 1);
        scan = strncmp(d, "SCAN ", 5) == 0 && strcmp(d, "SCAN CONSTANT ROW") != 0;
        loop[n] = scan || strncmp(d, "SEARCH ", 7) == 0;
        for (int i = 0; i < n; i++)
            if (id[i] == parent[n])
                p = i;
        corr[n] = strncmp(d, "CORRELATED ", 11) == 0 || (p >= 0 && corr[p]);
        if (strstr(d, "AUTOMATIC") != NULL) {
            store_set_msg(l, "%s: %.200s", d, sql);
            err = LEAL_E_INTERNAL;
            break;
        }
        for (int i = 0; scan && i < n; i++)
            if (parent[i] == parent[n] && loop[i]) {
                store_set_msg(l, "%s inside another loop: %.200s", d, sql);
                err = LEAL_E_INTERNAL;
                break;
            }
        if (err == LEAL_OK && scan && corr[n]) {
            store_set_msg(l, "%s in a correlated subquery: %.200s", d, sql);
            err = LEAL_E_INTERNAL;
        }
        if (err != LEAL_OK)
            break;
        n++;
    }
    store_finalize(st);
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
        "SELECT channel, granted, at, method, recorded_by, purposes, evidence FROM consent WHERE "
        "id IN (SELECT max(id) FROM consent WHERE customer_id = ?1 GROUP BY channel) ORDER BY "
        "channel",
        "SELECT account_id, asset, amount FROM line WHERE entry_id = ?1 ORDER BY id",
        CARD_HISTORY_SQL,
        CARD_HOTLIST_SQL,
        NOTES_SQL,
        PENDING_TOPUP_SQL,
        PENDING_SYNC_SQL,
        "SELECT card_id, bono_id, seq_before, seq_after, sessions, cents, file_after, "
        "request_id, created_at FROM card_pending_bono WHERE card_id = ?1",
        "SELECT deferred_cents FROM bono_holding WHERE account_id = ?1 AND bono_id = ?2",
        BONO_SEEN_SQL,
        BONO_HOLDINGS_SQL,
        DRIFT_SQL,
        "DELETE FROM card_pending_topup WHERE card_id = ?1 AND request_id = ?2",
        CARD_KEYS_SQL,
        CARD_REWRITE_SQL,
        SALE_SQL_LOOKUPS,
    };
    char sql[2048];
    leal_err err = LEAL_OK;
    for (int i = 0; err == LEAL_OK && i < ST_COUNT; i++)
        if (strncmp(store_sql[i], "SELECT", 6) == 0 || strncmp(store_sql[i], "UPDATE", 6) == 0)
            err = plan_ok(l, store_sql[i]);
    for (size_t i = 0; err == LEAL_OK && i < sizeof lookups / sizeof lookups[0]; i++)
        err = plan_ok(l, lookups[i]);
    for (int by = LEDGER_SEARCH_NAME; err == LEAL_OK && by < LEDGER_SEARCH_ALL; by++) {
        ledger_search_sql((enum ledger_search_by)by, false, sql, sizeof sql);
        err = plan_ok(l, sql);
    }
    for (size_t i = 0; err == LEAL_OK && i < sizeof verify_checks / sizeof verify_checks[0]; i++)
        err = plan_one_pass(l, verify_checks[i].sql);
    if (err == LEAL_OK)
        err = plan_one_pass(l, VERIFY_BOOKS_SQL);
    for (size_t i = 0;
         err == LEAL_OK && !l->pg && i < sizeof verify_summaries / sizeof verify_summaries[0]; i++)
        err = plan_one_pass(l, verify_summaries[i].sql);
    return err;
}
