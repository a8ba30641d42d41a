/*
 * report_test.c - every report (host/report/report.h, issue 17) on a real
 * ledger of generated activity (tests/lib/report_gen: 3 stores, 30
 * customers with a DESFire card, a QR card or none, 60 days from
 * 2026-10-01 of earns, redemptions, top-ups, purse payments, adjustments,
 * voids and expiries, all through ledger_post). Each report is checked two
 * ways: row by row against the generator's own tally of what it posted, and
 * in total against an independent SQL of the test's own over the customers'
 * side of the books (the reports read the program's side, or differently
 * joined). Refusals: unknown report, program and store, a store given to a
 * report of the whole program, --to before --from, an old schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "host/ledger/ledger.h"
#include "host/report/report.h"
#include "tests/lib/report_gen.h"
#include "tests/lib/testutil.h"

#define PROGRAM 7
#define OCT1 INT64_C(1790812800) /* 2026-10-01 00:00 UTC */
#define DAY0 (OCT1 / 86400)
#define DAYS 60
#define SHOPS 3
#define NCUST 30
#define VALUE 2      /* cents a point */
#define NOV_FIRST 31 /* day index of 2026-11-01 */

struct fx {
    char *dir, db[512];
    struct ledger *l;
    struct report_db *rdb;
    struct report_gen g;
};

static struct fx F;

static int setup(void **state)
{
    struct report_gen_opts o = {.program_id = PROGRAM,
                                .shops = SHOPS,
                                .customers = NCUST,
                                .days = DAYS,
                                .entries = 1500,
                                .start = OCT1,
                                .seed = 17,
                                .snap_day = 29,
                                .point_value_cents = VALUE,
                                .collective = true};
    F.dir = test_tmpdir_fast();
    snprintf(F.db, sizeof F.db, "%s/ledger.db", F.dir);
    assert_int_equal(ledger_open(F.db, &F.l), LEAL_OK);
    assert_int_equal(report_gen_run(F.l, F.db, &o, &F.g), LEAL_OK);
    assert_true(F.g.posted > 900);
    assert_int_equal(report_db_open(F.db, &F.rdb), LEAL_OK);
    *state = &F;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    report_db_close(F.rdb);
    ledger_close(F.l);
    report_gen_free(&F.g);
    test_rmtree(F.dir);
    free(F.dir);
    return 0;
}

/* Runs report name over days [from, to] (indexes from OCT1) at store (NULL: all). */
static void run(const char *name, int from, int to, const char *store, struct report *r)
{
    struct report_query q = {name, PROGRAM, store, DAY0 + from, DAY0 + to, 0, NULL};
    leal_err err = report_run(F.rdb, &q, r);
    if (err != LEAL_OK)
        fail_msg("report %s: %s: %s", name, leal_errname(err), report_db_errmsg(F.rdb));
}

static int64_t sql_int(const char *sql)
{
    return test_sql_i64(F.db, -1, "%s", sql);
}

static int64_t cell(const struct report_part *p, size_t r, const char *col)
{
    size_t c = report_col_index(p, col);
    assert_true(c < p->ncols);
    assert_false(report_cell_at(p, r, c)->null);
    return report_cell_at(p, r, c)->i;
}

static const char *text(const struct report_part *p, size_t r, const char *col)
{
    size_t c = report_col_index(p, col);
    assert_true(c < p->ncols);
    return report_cell_at(p, r, c)->s;
}

static int64_t col_sum(const struct report_part *p, const char *col)
{
    int64_t s = 0;
    for (size_t r = 0; r < p->nrows; r++)
        s += cell(p, r, col);
    return s;
}

/* The shop index of a store code ("" : no store). */
static int shop_of(const char *code)
{
    return code[0] ? atoi(code + 1) - 1 : SHOPS;
}

/* Every row against the tally; the touched cells all appear. */
static void activity_rows(const struct report_part *p, int only_shop)
{
    size_t touched = 0;
    for (int d = 0; d < DAYS; d++)
        for (int s = 0; s <= SHOPS; s++)
            touched += report_gen_cell(&F.g, d, s)->touched && (only_shop < 0 || s == only_shop);
    assert_int_equal(p->nrows, touched);
    for (size_t r = 0; r < p->nrows; r++) {
        int d = (int)(cell(p, r, "day") - DAY0), s = shop_of(text(p, r, "store"));
        const struct report_gen_cell *t = report_gen_cell(&F.g, d, s);
        assert_true(d >= 0 && d < DAYS && t->touched);
        assert_int_equal(cell(p, r, "sales_card"), t->card);
        assert_int_equal(cell(p, r, "sales_qr"), t->qr);
        assert_int_equal(cell(p, r, "sales_no_card"), t->nocard);
        assert_int_equal(cell(p, r, "points_issued"), t->issued);
        assert_int_equal(cell(p, r, "points_redeemed"), t->redeemed);
        assert_int_equal(cell(p, r, "points_expired"), t->expired);
        assert_int_equal(cell(p, r, "points_adjusted"), t->adjusted);
        assert_int_equal(cell(p, r, "purse_loaded"), t->loaded);
        assert_int_equal(cell(p, r, "purse_spent"), t->spent);
    }
}

/* The customers' side: PTS or EUR of customer accounts in entries of kind
 * (a void: of the kind it reverses), signed as the customer sees it. */
static int64_t customer_side(const char *asset, const char *kinds)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(l.amount), 0) FROM line l JOIN account a ON a.id = l.account_id "
             "JOIN entry e ON e.id = l.entry_id WHERE a.kind = 'customer' AND a.program_id = %d "
             "AND l.asset = '%s' AND CASE WHEN e.kind = 'void' THEN (SELECT kind FROM entry WHERE "
             "id = e.reverses) ELSE e.kind END IN (%s)",
             PROGRAM, asset, kinds);
    return sql_int(sql);
}

static void test_activity(void **state)
{
    struct report r;
    (void)state;
    run("activity", 0, DAYS - 1, NULL, &r);
    assert_int_equal(r.nparts, 2);
    activity_rows(&r.part[0], -1);
    const struct report_part *p = &r.part[0];
    assert_int_equal(col_sum(p, "points_issued"), customer_side("PTS", "'earn'"));
    assert_int_equal(col_sum(p, "points_redeemed"), -customer_side("PTS", "'redeem'"));
    assert_int_equal(col_sum(p, "points_expired"), -customer_side("PTS", "'expire'"));
    assert_int_equal(col_sum(p, "points_adjusted"), customer_side("PTS", "'adjust'"));
    assert_int_equal(col_sum(p, "purse_loaded"), customer_side("EUR", "'topup'"));
    assert_int_equal(col_sum(p, "purse_spent"), -customer_side("EUR", "'spend'"));
    assert_true(col_sum(p, "points_expired") > 0);
    /* Sales: entries that earn or pay less their voids, by the card's technology. */
    int64_t sales = sql_int(
        "SELECT sum(CASE WHEN kind = 'void' THEN -1 ELSE 1 END) FROM entry e WHERE program_id = 7 "
        "AND (kind IN ('earn', 'spend') OR (kind = 'void' AND (SELECT kind FROM entry WHERE id = "
        "e.reverses) IN ('earn', 'spend')))");
    int64_t qr = sql_int("SELECT sum(CASE WHEN e.kind = 'void' THEN -1 ELSE 1 END) FROM entry e "
                         "JOIN card c ON c.card_id = e.card_id WHERE e.program_id = 7 AND c.tech "
                         "= 'virtual-qr' AND (e.kind IN ('earn', 'spend') OR (e.kind = 'void' AND "
                         "(SELECT kind FROM entry WHERE id = e.reverses) IN ('earn', 'spend')))");
    assert_int_equal(
        col_sum(p, "sales_card") + col_sum(p, "sales_qr") + col_sum(p, "sales_no_card"), sales);
    assert_int_equal(col_sum(p, "sales_qr"), qr);
    assert_true(qr > 0 && col_sum(p, "sales_card") > 0 && col_sum(p, "sales_no_card") > 0);
    report_free(&r);
}

static void test_activity_store(void **state)
{
    struct report r;
    (void)state;
    run("activity", 0, DAYS - 1, "s2", &r);
    activity_rows(&r.part[0], 1);
    for (size_t i = 0; i < r.part[0].nrows; i++)
        assert_string_equal(text(&r.part[0], i, "store"), "s2");
    report_free(&r);
    /* A window: November only. */
    run("activity", NOV_FIRST, DAYS - 1, NULL, &r);
    for (size_t i = 0; i < r.part[0].nrows; i++)
        assert_true(cell(&r.part[0], i, "day") >= DAY0 + NOV_FIRST);
    int64_t issued = 0;
    for (int d = NOV_FIRST; d < DAYS; d++)
        for (int s = 0; s <= SHOPS; s++)
            issued += report_gen_cell(&F.g, d, s)->issued;
    assert_int_equal(col_sum(&r.part[0], "points_issued"), issued);
    report_free(&r);
}

static void test_refused(void **state)
{
    struct report r;
    (void)state;
    run("activity", 0, DAYS - 1, NULL, &r);
    const struct report_part *p = &r.part[1];
    int64_t taps = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        int64_t want = 0;
        for (int k = 0; k < REPORT_GEN_FINDINGS; k++)
            want += DAY0 + F.g.finding_day[k] == cell(p, i, "day") &&
                    F.g.finding_shop[k] == shop_of(text(p, i, "store")) &&
                    strcmp(F.g.finding_kind[k], text(p, i, "reason")) == 0;
        assert_int_equal(cell(p, i, "taps"), want);
        taps += want;
    }
    assert_int_equal(taps, REPORT_GEN_FINDINGS);
    report_free(&r);
}

static void liabilities_check(const struct report_part *p, int64_t pts, int64_t pts_holders,
                              int64_t eur, int64_t eur_holders)
{
    assert_int_equal(p->nrows, 2); /* EUR, PTS: the generator moves nothing else */
    assert_string_equal(text(p, 0, "asset"), "EUR");
    assert_int_equal(cell(p, 0, "units"), eur);
    assert_int_equal(cell(p, 0, "holders"), eur_holders);
    assert_int_equal(cell(p, 0, "value"), eur);
    assert_string_equal(text(p, 1, "asset"), "PTS");
    assert_int_equal(cell(p, 1, "units"), pts);
    assert_int_equal(cell(p, 1, "holders"), pts_holders);
    assert_int_equal(cell(p, 1, "value"), pts * VALUE);
}

static void test_liabilities(void **state)
{
    struct report r;
    (void)state;
    run("liabilities", 0, 29, NULL, &r);
    assert_int_equal(r.point_value_cents, VALUE);
    liabilities_check(&r.part[0], F.g.snap_pts, F.g.snap_pts_holders, F.g.snap_eur,
                      F.g.snap_eur_holders);
    report_free(&r);
    /* At the end: the ledger's own balances (the balance table) agree. */
    run("liabilities", 0, DAYS - 1, NULL, &r);
    liabilities_check(
        &r.part[0],
        sql_int("SELECT sum(b.amount) FROM balance b JOIN account a ON a.id = b.account_id WHERE "
                "a.program_id = 7 AND a.kind <> 'program' AND b.asset = 'PTS'"),
        sql_int("SELECT count(*) FROM balance b JOIN account a ON a.id = b.account_id WHERE "
                "a.program_id = 7 AND a.kind <> 'program' AND b.asset = 'PTS' AND b.amount <> 0"),
        sql_int("SELECT sum(b.amount) FROM balance b JOIN account a ON a.id = b.account_id WHERE "
                "a.program_id = 7 AND a.kind <> 'program' AND b.asset = 'EUR'"),
        sql_int("SELECT count(*) FROM balance b JOIN account a ON a.id = b.account_id WHERE "
                "a.program_id = 7 AND a.kind <> 'program' AND b.asset = 'EUR' AND b.amount <> 0"));
    int64_t pts = 0;
    for (int c = 0; c < NCUST; c++)
        pts += F.g.pts[c];
    assert_int_equal(cell(&r.part[0], 1, "units"), pts);
    report_free(&r);
}

/* Liabilities at the end of every day of the two months (rep8: today's
 * balances less report_held's months after the date and the part of its
 * month nearer to it, taken from the lines before the date when it is early
 * in its month, after it when late) against the lines dated before the
 * date's end, summed per account: units and holders per asset. */
static void held_expect(int64_t end, const char *asset, int64_t *units, int64_t *holders)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(b), 0) FROM (SELECT sum(l.amount) AS b FROM line l JOIN entry "
             "e ON e.id = l.entry_id JOIN account a ON a.id = l.account_id WHERE a.program_id = 7 "
             "AND a.kind <> 'program' AND l.asset = '%s' AND e.at < %lld GROUP BY l.account_id)",
             asset, (long long)end);
    *units = sql_int(sql);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT sum(l.amount) AS b FROM line l JOIN entry e ON e.id = "
             "l.entry_id JOIN account a ON a.id = l.account_id WHERE a.program_id = 7 AND a.kind "
             "<> 'program' AND l.asset = '%s' AND e.at < %lld GROUP BY l.account_id) WHERE b <> 0",
             asset, (long long)end);
    *holders = sql_int(sql);
}

static void test_liabilities_days(void **state)
{
    static const char *const assets[] = {"EUR", "PTS"};
    size_t checked = 0;
    (void)state;
    for (int d = 0; d < DAYS; d++) {
        struct report r;
        run("liabilities", d, d, NULL, &r);
        const struct report_part *p = &r.part[0];
        size_t rows = 0;
        for (size_t k = 0; k < 2; k++) {
            int64_t units, holders;
            held_expect((DAY0 + d + 1) * 86400, assets[k], &units, &holders);
            if (units == 0 && holders == 0)
                continue;
            assert_true(rows < p->nrows);
            assert_string_equal(text(p, rows, "asset"), assets[k]);
            assert_int_equal(cell(p, rows, "units"), units);
            assert_int_equal(cell(p, rows, "holders"), holders);
            rows++;
            checked += units != 0;
        }
        assert_int_equal(p->nrows, rows);
        report_free(&r);
    }
    assert_true(checked > DAYS); /* both assets held on most days */
}

/* Redemptions over windows inside and across months, all stores and one
 * (rep8: over whole days from report_redeem) against the lines on the
 * points_redeemed account of the window's entries. */
static void test_redemptions_windows(void **state)
{
    static const int win[][2] = {{3, 45}, {10, 20}, {30, 31}, {0, 59}, {45, 45}};
    (void)state;
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++)
        for (int st = 0; st < 2; st++) {
            char sql[768];
            struct report r;
            int64_t from = (DAY0 + win[w][0]) * 86400, to = (DAY0 + win[w][1] + 1) * 86400;
            const char *store =
                st ? " AND e.store_id = (SELECT id FROM store WHERE code = 's2')" : "";
            run("redemptions", win[w][0], win[w][1], st ? "s2" : NULL, &r);
            snprintf(sql, sizeof sql,
                     "SELECT coalesce(sum(l.amount), 0) FROM line l JOIN entry e ON e.id = "
                     "l.entry_id JOIN account a ON a.id = l.account_id WHERE e.program_id = 7 AND "
                     "a.name = 'points_redeemed' AND e.at >= %lld AND e.at < %lld%s",
                     (long long)from, (long long)to, store);
            assert_int_equal(col_sum(&r.part[0], "units"), sql_int(sql));
            snprintf(sql, sizeof sql,
                     "SELECT coalesce(sum(CASE WHEN e.kind = 'void' THEN -1 ELSE 1 END), 0) FROM "
                     "line l JOIN entry e ON e.id = l.entry_id JOIN account a ON a.id = "
                     "l.account_id WHERE e.program_id = 7 AND a.name = 'points_redeemed' AND e.at "
                     ">= %lld AND e.at < %lld%s",
                     (long long)from, (long long)to, store);
            assert_int_equal(col_sum(&r.part[0], "redemptions"), sql_int(sql));
            snprintf(sql, sizeof sql,
                     "SELECT count(DISTINCT CASE WHEN coalesce(r.reference, e.reference) <> '' "
                     "THEN coalesce(r.reference, e.reference) ELSE coalesce(r.reason, e.reason) "
                     "END) FROM line l JOIN entry e ON e.id = l.entry_id LEFT JOIN entry r ON r.id "
                     "= e.reverses JOIN account a ON a.id = l.account_id WHERE e.program_id = 7 "
                     "AND a.name = 'points_redeemed' AND e.at >= %lld AND e.at < %lld%s",
                     (long long)from, (long long)to, store);
            assert_int_equal(r.part[0].nrows, sql_int(sql));
            report_free(&r);
        }
}

static void test_redemptions(void **state)
{
    struct report r;
    (void)state;
    run("redemptions", 0, DAYS - 1, NULL, &r);
    const struct report_part *p = &r.part[0];
    assert_int_equal(p->nrows, REPORT_GEN_REWARDS);
    for (size_t i = 0; i < p->nrows; i++) {
        int k = 0;
        while (k < REPORT_GEN_REWARDS - 1 &&
               strcmp(report_gen_rewards[k], text(p, i, "reward")) != 0)
            k++;
        assert_string_equal(report_gen_rewards[k], text(p, i, "reward"));
        assert_string_equal(text(p, i, "asset"), "PTS");
        assert_int_equal(cell(p, i, "redemptions"), F.g.reward_count[k]);
        assert_int_equal(cell(p, i, "units"), F.g.reward_pts[k]);
    }
    assert_int_equal(col_sum(p, "units"), -customer_side("PTS", "'redeem'"));
    assert_int_equal(
        col_sum(p, "redemptions"),
        sql_int("SELECT count(*) FROM entry WHERE program_id = 7 AND kind = 'redeem'") -
            sql_int("SELECT count(*) FROM entry v JOIN entry e ON e.id = v.reverses "
                    "WHERE v.kind = 'void' AND e.kind = 'redeem'"));
    report_free(&r);
}

static void test_breakage(void **state)
{
    struct report r;
    (void)state;
    run("breakage", 0, DAYS - 1, NULL, &r);
    const struct report_part *p = &r.part[0];
    assert_int_equal(p->nrows, 2); /* October, November */
    for (size_t i = 0; i < 2; i++) {
        int first = i ? NOV_FIRST : 0, last = i ? DAYS : NOV_FIRST;
        int64_t issued = 0, redeemed = 0, expired = 0;
        for (int d = first; d < last; d++)
            for (int s = 0; s <= SHOPS; s++) {
                issued += report_gen_cell(&F.g, d, s)->issued;
                redeemed += report_gen_cell(&F.g, d, s)->redeemed;
                expired += report_gen_cell(&F.g, d, s)->expired;
            }
        assert_int_equal(cell(p, i, "month"), DAY0 + first);
        assert_int_equal(cell(p, i, "points_issued"), issued);
        assert_int_equal(cell(p, i, "points_redeemed"), redeemed);
        assert_int_equal(cell(p, i, "points_expired"), expired);
        assert_int_equal(cell(p, i, "expired_value"), expired * VALUE);
    }
    assert_int_equal(col_sum(p, "points_expired"), -customer_side("PTS", "'expire'"));
    report_free(&r);
}

static bool active_in(int c, int from, int to)
{
    for (int d = from; d <= to; d++)
        if (F.g.active[(size_t)c * DAYS + (size_t)d])
            return true;
    return false;
}

static void test_customers(void **state)
{
    struct report r;
    int64_t total = 0, fresh = 0, active = 0, lapsed = 0;
    (void)state;
    for (int c = 0; c < NCUST; c++) {
        total += F.g.join_day[c] <= DAYS - 1;
        fresh += F.g.join_day[c] >= NOV_FIRST;
        active += active_in(c, NOV_FIRST, DAYS - 1);
        lapsed += !active_in(c, NOV_FIRST, DAYS - 1) && active_in(c, 0, NOV_FIRST - 1);
    }
    run("customers", NOV_FIRST, DAYS - 1, NULL, &r);
    const struct report_part *p = &r.part[0];
    assert_int_equal(p->nrows, 1);
    assert_int_equal(cell(p, 0, "customers"), total);
    assert_int_equal(cell(p, 0, "new"), fresh);
    assert_int_equal(cell(p, 0, "active"), active);
    assert_int_equal(cell(p, 0, "lapsed"), lapsed);
    assert_true(fresh > 0 && active > 0 && lapsed > 0);
    /* No sale went through the rules: every active customer is in tier 0. */
    assert_int_equal(r.part[1].nrows, 1);
    assert_int_equal(cell(&r.part[1], 0, "tier"), 0);
    assert_int_equal(cell(&r.part[1], 0, "customers"), active);
    report_free(&r);
}

static void test_retention(void **state)
{
    struct report r;
    size_t rows = 0;
    (void)state;
    run("retention", 0, DAYS - 1, NULL, &r);
    const struct report_part *p = &r.part[0];
    for (int cm = 0; cm < 2; cm++)
        for (int m = 0; m < 2; m++) {
            int64_t joined = 0, active = 0, cfirst = cm ? NOV_FIRST : 0,
                    clast = cm ? DAYS : NOV_FIRST;
            for (int c = 0; c < NCUST; c++) {
                bool in = F.g.join_day[c] >= cfirst && F.g.join_day[c] < clast;
                joined += in;
                active += in && active_in(c, m ? NOV_FIRST : 0, m ? DAYS - 1 : NOV_FIRST - 1);
            }
            if (active == 0)
                continue;
            assert_true(rows < p->nrows);
            assert_int_equal(cell(p, rows, "cohort"), DAY0 + cfirst);
            assert_int_equal(cell(p, rows, "joined"), joined);
            assert_int_equal(cell(p, rows, "month"), DAY0 + (m ? NOV_FIRST : 0));
            assert_int_equal(cell(p, rows, "active"), active);
            rows++;
        }
    assert_int_equal(p->nrows, rows);
    assert_true(rows >= 3);
    report_free(&r);
}

/* settlement: each shop's month from the tally (collected: earned there;
 * paid out: redeemed there; purse loaded and spent there), the desk's
 * top-ups on the no-shop row, the pool minus the rest, the rows summing to
 * zero. A month not settled takes every entry not settled before it (as
 * `leal settle --preview`): November's figures include October's. */
static void test_settlement(void **state)
{
    struct report r;
    struct report_query q = {"settlement", PROGRAM, NULL, DAY0, DAY0 + DAYS - 1, 0, F.l};
    (void)state;
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_OK);
    const struct report_part *p = &r.part[0];
    assert_int_equal(p->nrows, 2 * (SHOPS + 2));
    for (size_t i = 0; i < p->nrows; i++) {
        int month = (int)(i / (SHOPS + 2)), row = (int)(i % (SHOPS + 2));
        /* October is not settled: November's preview takes October's entries too. */
        int first = 0, last = month ? DAYS : NOV_FIRST;
        int64_t want[4] = {0, 0, 0, 0}, balance = 0;
        assert_int_equal(cell(p, i, "month"), DAY0 + (month ? NOV_FIRST : 0));
        assert_string_equal(text(p, i, "row"), row < SHOPS    ? "shop"
                                               : row == SHOPS ? "no-shop"
                                                              : "pool");
        for (int s = 0; s <= SHOPS; s++) {
            if (row <= SHOPS && s != row)
                continue;
            for (int d = first; d < last; d++) {
                const struct report_gen_cell *t = report_gen_cell(&F.g, d, s);
                want[0] += t->issued;
                want[1] += t->redeemed;
                want[2] += t->loaded;
                want[3] += t->spent;
            }
        }
        balance = VALUE * (want[1] - want[0]) + want[3] - want[2];
        if (row > SHOPS) /* the pool: minus every other row */
            for (int k = 0; k < 4; k++)
                want[k] = -want[k];
        assert_int_equal(cell(p, i, "points_collected"), want[0]);
        assert_int_equal(cell(p, i, "points_paid_out"), want[1]);
        assert_int_equal(cell(p, i, "purse_loaded"), want[2]);
        assert_int_equal(cell(p, i, "purse_spent"), want[3]);
        assert_int_equal(cell(p, i, "balance"), row > SHOPS ? -balance : balance);
    }
    assert_int_equal(col_sum(p, "balance"), 0);
    report_free(&r);
    q.ledger = NULL;
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_E_ARG);
    report_free(&r);
}

static void test_refusals(void **state)
{
    struct report r;
    struct report_query q = {"activity", PROGRAM, NULL, DAY0, DAY0 + 1, 0, NULL};
    (void)state;
    q.name = "nonsense";
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_E_REPORT_UNKNOWN);
    report_free(&r);
    q.name = "activity";
    q.program_id = 99;
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_E_UNKNOWN_PROGRAM);
    report_free(&r);
    q.program_id = PROGRAM;
    q.store = "s9";
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_E_REPORT_STORE);
    report_free(&r);
    q.name = "liabilities";
    q.store = "s1";
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_E_REPORT_STORE);
    report_free(&r);
    q.store = NULL;
    q.to_day = DAY0 - 1;
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_E_REPORT_RANGE);
    report_free(&r);
    /* --point-value given: it wins over the program's settlement value. */
    q.to_day = DAY0 + DAYS - 1;
    q.point_value_cents = 5;
    assert_int_equal(report_run(F.rdb, &q, &r), LEAL_OK);
    assert_int_equal(cell(&r.part[0], 1, "value"), cell(&r.part[0], 1, "units") * 5);
    report_free(&r);
}

static void test_old_schema_and_days(void **state)
{
    struct report_db *db = NULL;
    char path[600];
    int64_t day;
    (void)state;
    snprintf(path, sizeof path, "%s/old.db", F.dir);
    assert_int_equal(ledger_create_at_version(path, LEDGER_SCHEMA_VERSION - 1), LEAL_OK);
    assert_int_equal(report_db_open(path, &db), LEAL_E_REPORT_SCHEMA);
    assert_null(db);
    snprintf(path, sizeof path, "%s/missing.db", F.dir);
    assert_int_equal(report_db_open(path, &db), LEAL_E_NO_LEDGER);
    assert_int_equal(report_day_parse("2026-10-01", &day), LEAL_OK);
    assert_int_equal(day, DAY0);
    assert_int_equal(report_day_parse("2024-02-29", &day), LEAL_OK);
    assert_int_equal(report_day_parse("2026-02-29", &day), LEAL_E_DATE);
    assert_int_equal(report_day_parse("2026-1-01", &day), LEAL_E_DATE);
    assert_int_equal(report_day_parse("2026-10-01x", &day), LEAL_E_DATE);
}

/* Windows that start and end inside months, span two or lie within one
 * (rep7: the reports read the ledger's summaries, report_day per day and
 * report_visit per customer and month with its first and last day, and
 * within one month the window's own entries): customers, tiers, retention
 * and activity against the generator's tally, day by day. */
static int month_of(int d)
{
    return d < NOV_FIRST ? 0 : NOV_FIRST;
}

static void test_windows(void **state)
{
    static const int win[][2] = {{3, 45}, {10, 20}, {20, 40}, {30, 31}, {0, 30}, {25, 59}};
    (void)state;
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        int from = win[w][0], to = win[w][1];
        int64_t total = 0, fresh = 0, active = 0, lapsed = 0, issued = 0;
        size_t touched = 0, rows = 0;
        struct report r;
        for (int c = 0; c < NCUST; c++) {
            bool now = active_in(c, from, to);
            total += F.g.join_day[c] <= to;
            fresh += F.g.join_day[c] >= from && F.g.join_day[c] <= to;
            active += now;
            lapsed += !now && from > 0 && active_in(c, 0, from - 1);
        }
        run("customers", from, to, NULL, &r);
        assert_int_equal(cell(&r.part[0], 0, "customers"), total);
        assert_int_equal(cell(&r.part[0], 0, "new"), fresh);
        assert_int_equal(cell(&r.part[0], 0, "active"), active);
        assert_int_equal(cell(&r.part[0], 0, "lapsed"), lapsed);
        assert_int_equal(r.part[1].nrows, active > 0);
        if (active > 0)
            assert_int_equal(cell(&r.part[1], 0, "customers"), active);
        report_free(&r);
        run("retention", from, to, NULL, &r);
        for (int cm = month_of(from); cm <= month_of(to); cm += NOV_FIRST)
            for (int m = cm; m <= month_of(to); m += NOV_FIRST) {
                int64_t joined = 0, act = 0;
                int mfrom = m > from ? m : from,
                    mto = m == 0 && to >= NOV_FIRST ? NOV_FIRST - 1 : to;
                for (int c = 0; c < NCUST; c++) {
                    int j = F.g.join_day[c];
                    bool in = j >= from && j <= to && month_of(j) == cm;
                    joined += in;
                    act += in && active_in(c, mfrom, mto);
                }
                if (act == 0)
                    continue;
                assert_true(rows < r.part[0].nrows);
                assert_int_equal(cell(&r.part[0], rows, "cohort"), DAY0 + cm);
                assert_int_equal(cell(&r.part[0], rows, "joined"), joined);
                assert_int_equal(cell(&r.part[0], rows, "month"), DAY0 + m);
                assert_int_equal(cell(&r.part[0], rows, "active"), act);
                rows++;
            }
        assert_int_equal(r.part[0].nrows, rows);
        report_free(&r);
        run("activity", from, to, "s2", &r);
        for (int d = from; d <= to; d++) {
            touched += report_gen_cell(&F.g, d, 1)->touched;
            issued += report_gen_cell(&F.g, d, 1)->issued;
        }
        assert_int_equal(r.part[0].nrows, touched);
        assert_int_equal(col_sum(&r.part[0], "points_issued"), issued);
        report_free(&r);
    }
}

/* ledger verify recomputes the summaries from the entries: a figure
 * changed behind the ledger's back, or a customer's month taken out, is
 * found; put back, the books verify again. */
/* Writes to the ledger file behind the ledger's back. */
static void sql_exec(const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(F.db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
}

static void test_verify_summaries(void **state)
{
    char sql[512];
    (void)state;
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_OK);
    snprintf(sql, sizeof sql,
             "UPDATE report_day SET purse_spent = purse_spent + 1 WHERE day = %lld AND store_id "
             "= 0",
             (long long)(DAY0 + 19));
    sql_exec(sql);
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(F.l), "the report summary of 2026-10-20 differs from the "
                                            "entries (program 7, store 0)");
    snprintf(sql, sizeof sql,
             "UPDATE report_day SET purse_spent = purse_spent - 1 WHERE day = %lld AND store_id "
             "= 0",
             (long long)(DAY0 + 19));
    sql_exec(sql);
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_OK);
    int64_t c = sql_int("SELECT max(customer_id) FROM report_visit");
    snprintf(sql, sizeof sql,
             "CREATE TABLE keep AS SELECT * FROM report_visit WHERE customer_id = %lld; DELETE "
             "FROM report_visit WHERE customer_id = %lld",
             (long long)c, (long long)c);
    sql_exec(sql);
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_non_null(strstr(ledger_errmsg(F.l), "differs from the entries (program 7, customer"));
    sql_exec("INSERT INTO report_visit SELECT * FROM keep; DROP TABLE keep");
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_OK);
    /* rep8's two: an account's month moved, a day's redemption taken out. */
    sql_exec("UPDATE report_held SET amount = amount + 1 WHERE (month, "
             "account_id, asset) = (SELECT month, account_id, asset FROM report_held ORDER BY "
             "month, account_id, asset LIMIT 1)");
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_non_null(strstr(ledger_errmsg(F.l),
                           "the liabilities summary of the month from 2026-10-01 "
                           "differs from the entries (program 7, account"));
    sql_exec("UPDATE report_held SET amount = amount - 1 WHERE (month, account_id, asset) = "
             "(SELECT month, account_id, asset FROM report_held ORDER BY month, account_id, "
             "asset LIMIT 1)");
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_OK);
    sql_exec("CREATE TABLE keep AS SELECT * FROM report_redeem WHERE day = (SELECT max(day) FROM "
             "report_redeem); DELETE FROM report_redeem WHERE day = (SELECT max(day) FROM "
             "report_redeem)");
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_non_null(strstr(ledger_errmsg(F.l), "the redemptions summary of 2026-11-"));
    sql_exec("INSERT INTO report_redeem SELECT * FROM keep; DROP TABLE keep");
    assert_int_equal(ledger_verify(F.l, NULL), LEAL_OK);
    leal_err perr = ledger_check_plans(F.l);
    if (perr != LEAL_OK)
        fail_msg("plans: %s", ledger_errmsg(F.l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activity),
        cmocka_unit_test(test_activity_store),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_liabilities),
        cmocka_unit_test(test_redemptions),
        cmocka_unit_test(test_liabilities_days),
        cmocka_unit_test(test_redemptions_windows),
        cmocka_unit_test(test_breakage),
        cmocka_unit_test(test_customers),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_settlement),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_old_schema_and_days),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_verify_summaries),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
