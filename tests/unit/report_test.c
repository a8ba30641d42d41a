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
 * A second ledger (rep10) holds a program with rules: sales through the
 * rules engine at tier multipliers, three campaigns two of which overlap,
 * a stamp card, refunds and bonos; campaigns, liabilities of every asset at
 * every day's end (month ends and firsts), customers by tier, activity and
 * the stamp card's redemptions against the engine's results and the lines.
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
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_sale.h"
#include "host/ledger/ledger_settle.h"
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
 * within one month the window's own entries unless it starts on the
 * month's first day or ends on its last), a whole month, from a month's
 * first day or to its last, or neither inside a month: customers, tiers,
 * retention and activity against the generator's tally, day by day. */
static int month_of(int d)
{
    return d < NOV_FIRST ? 0 : NOV_FIRST;
}

static void test_windows(void **state)
{
    static const int win[][2] = {{3, 45},
                                 {10, 20},
                                 {20, 40},
                                 {30, 31},
                                 {0, 30},
                                 {25, 59},
                                 {0, 12},
                                 {12, 30},
                                 {1, 12},
                                 {13, 13},
                                 {23, 23},
                                 {NOV_FIRST, 45},
                                 {NOV_FIRST + 3, NOV_FIRST + 20}};
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

/* ---- A program with rules (rep10) ------------------------------------------ */

/* Program 8 in a ledger of its own: 2 shops (Europe/Madrid), 16 customers
 * (the lower-numbered buy more), 61 days (2026-10-01 to 11-30) of sales
 * through the rules engine (ledger_sale_post) at 1 point a euro: tier 1 at
 * 60 euros over the tier window (x1.5), tier 2 at 200 (x2); three campaigns,
 * rule 21 double points 5 to 25 October, rule 22 +5 a sale 15 October to 10
 * November (both on 15 to 25 October), rule 23 +3 a sale of 20.00 or more at
 * s2 in November; a stamp card (a stamp a sale, the 4th gives reward 1);
 * one sale in ten half refunded ten minutes on; bonos of two kinds sold
 * and sessions used (entries of the shape ledger_bono.c posts, dated: its
 * own are dated now). Beside it the test's own tally of what the engine gave
 * and what was posted: per sale its day, shop, euros and each rule's points;
 * per customer and day what they held, their tier after their newest sale
 * and whether they were active. */
#define RPROG 8
#define RSHOPS 2
#define RCUST 16
#define RDAYS 61
#define RSALES_DAY 6
#define RRULES 3
#define RASSETS 4

static const uint32_t rule_ids[RRULES] = {21, 22, 23};
/* In the order the liabilities report sorts its rows. */
static const char *const rassets[RASSETS] = {"BONO:1", "BONO:2", "PTS", "STAMP:1"};
enum { A_BONO1, A_BONO2, A_PTS, A_STAMP };

struct rsale {
    int day, shop;
    int64_t cents, rule_pts[RRULES];
    bool has[RRULES];
};

struct rfx {
    char *dir, db[512];
    struct ledger *l;
    struct report_db *rdb;
    struct rules_program rules;
    int64_t store[RSHOPS], acct[RCUST], cash, bono_acc[4];  /* sold, revenue, issued, used */
    int64_t held[RCUST][RASSETS];                           /* now, as posted */
    int64_t units[RDAYS][RASSETS], holders[RDAYS][RASSETS]; /* at each day's end */
    int tier[RCUST][RDAYS];       /* after the newest sale up to the day's end; -1: none */
    uint8_t active[RCUST][RDAYS]; /* bit s: an entry of theirs at shop s that day */
    struct rsale sale[RDAYS * RSALES_DAY];
    size_t nsales;
    int64_t issued; /* the sales' points less the refunds' */
    /* Stamp rewards the sales of a day gave, less those their refunds undid. */
    int64_t stamp_rewards[RDAYS], rewards_reversed;
    int tiers_seen[3];
    uint64_t rng;
    int nreq;
};

static struct rfx R;

static uint32_t rrnd(uint32_t n)
{
    R.rng ^= R.rng << 13;
    R.rng ^= R.rng >> 7;
    R.rng ^= R.rng << 17;
    return (uint32_t)(R.rng % n);
}

static int64_t rsql_int(const char *sql)
{
    return test_sql_i64(R.db, -1, "%s", sql);
}

/* Writes to the ledger file behind the ledger's back. */
static void rexec(const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(R.db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
}

static void rrule(struct ledger_rules *r, int i, uint8_t kind, uint32_t amount, int from, int to,
                  const char *name)
{
    struct rules_rule *x = &r->set.program.rules[i];
    memset(x, 0, sizeof *x);
    x->id = rule_ids[i];
    x->kind = kind;
    x->combine = RULES_STACK;
    if (kind == RULES_MULTIPLIER)
        x->multiplier_milli = amount;
    else
        x->bonus_points = amount;
    x->from_day = (uint32_t)(DAY0 + from);
    x->to_day = (uint32_t)(DAY0 + to);
    snprintf(r->rule_name[i], LEDGER_RULES_NAME, "%s", name);
}

static leal_err rules_edit(struct ledger_rules *r, void *ctx)
{
    struct rules_program *p = &r->set.program;
    (void)ctx;
    p->n_tiers = 2;
    p->tiers[0] = (struct rules_tier){60, 1500};
    p->tiers[1] = (struct rules_tier){200, 2000};
    snprintf(r->tier_name[0], LEDGER_RULES_NAME, "Plata");
    snprintf(r->tier_name[1], LEDGER_RULES_NAME, "Oro");
    p->n_rules = RRULES;
    rrule(r, 0, RULES_MULTIPLIER, 2000, 4, 24, "Doble octubre");
    rrule(r, 1, RULES_BONUS, 5, 14, 40, "Otono +5");
    rrule(r, 2, RULES_BONUS, 3, NOV_FIRST, RDAYS - 1, "Tienda 2");
    p->rules[2].n_stores = 1;
    p->rules[2].stores[0] = (uint32_t)R.store[1];
    p->rules[2].min_spend_cents = 2000;
    p->n_rewards = 1;
    p->rewards[0] = (struct rules_reward){1, RULES_REWARD_PRODUCT, 100, 77, 0};
    snprintf(r->reward_name[0], LEDGER_RULES_NAME, "Cafe");
    p->n_stamps = 1;
    p->stamps[0] = (struct rules_stamp){RULES_STAMP_PER_SALE, 0, 4, 1, 0};
    snprintf(r->stamp_name[0], LEDGER_RULES_NAME, "Sellos");
    r->set.n_bonos = 2;
    r->set.bonos[0] = (struct rules_bono_kind){1, 10, 0, 4500};
    r->set.bonos[1] = (struct rules_bono_kind){2, 5, 0, 3000};
    snprintf(r->bono_name[0], LEDGER_RULES_NAME, "10 sesiones");
    snprintf(r->bono_name[1], LEDGER_RULES_NAME, "5 sesiones");
    return LEAL_OK;
}

/* A later version renames rule 21: the report shows its newest name. */
static leal_err rules_rename(struct ledger_rules *r, void *ctx)
{
    (void)ctx;
    snprintf(r->rule_name[0], LEDGER_RULES_NAME, "Doble puntos");
    return LEAL_OK;
}

static void rsale_post(int c, int shop, int day, int64_t at, int64_t cents)
{
    struct ledger_sale_request rq;
    struct ledger_sale_result out;
    char req[32];
    struct rsale *s = &R.sale[R.nsales++];
    memset(&rq, 0, sizeof rq);
    snprintf(req, sizeof req, "r%d", R.nreq++);
    rq.account_id = R.acct[c];
    rq.store_id = R.store[shop];
    rq.at = at;
    rq.amount_cents = cents;
    rq.request_id = req;
    rq.operator_name = "till";
    rq.rules = &R.rules;
    rq.rules_version = 2;
    leal_err err = ledger_sale_post(R.l, &rq, &out);
    if (err != LEAL_OK)
        fail_msg("sale: %s: %s", leal_errname(err), ledger_errmsg(R.l));
    assert_int_equal(out.points_settled, 0);
    assert_true(out.entry_id > 0);
    *s = (struct rsale){.day = day, .shop = shop, .cents = cents};
    for (size_t i = 0; i < out.r.n_lines; i++) {
        const struct rules_line *ln = &out.r.lines[i];
        if (ln->source != RULES_LINE_RULE)
            continue;
        for (int k = 0; k < RRULES; k++)
            if (ln->id == rule_ids[k]) {
                s->rule_pts[k] += ln->points;
                s->has[k] = true;
            }
    }
    R.held[c][A_PTS] += out.r.points;
    assert_int_equal(R.held[c][A_PTS], out.r.after.points);
    R.held[c][A_STAMP] = out.r.after.stamps[0];
    R.issued += out.r.points;
    R.stamp_rewards[day] += out.r.earned.rewards[0];
    R.tier[c][day] = out.r.after.tier;
    R.tiers_seen[out.r.after.tier]++;
    R.active[c][day] |= (uint8_t)(1u << shop);
    if (rrnd(10) != 0)
        return;
    /* Half of it or all refunded ten minutes on. */
    struct ledger_refund_request fq = {0};
    struct ledger_refund_result fo;
    snprintf(req, sizeof req, "r%d", R.nreq++);
    fq.sale_id = out.sale_id;
    fq.amount_cents = rrnd(2) ? cents / 2 : 0;
    fq.at = at + 600;
    fq.request_id = req;
    fq.operator_name = "till";
    fq.rules = &R.rules;
    if ((err = ledger_sale_refund(R.l, &fq, &fo)) != LEAL_OK)
        fail_msg("refund: %s: %s", leal_errname(err), ledger_errmsg(R.l));
    assert_int_equal(fo.r.points_short, 0);
    R.held[c][A_PTS] -= fo.r.points_back;
    assert_int_equal(R.held[c][A_PTS], fo.r.after.points);
    R.held[c][A_STAMP] = fo.r.after.stamps[0];
    R.issued -= fo.r.points_back;
    R.stamp_rewards[day] -= fo.r.rewards_reversed[0];
    R.rewards_reversed += fo.r.rewards_reversed[0];
}

/* A bono of kind k (0, 1: BONO:1, BONO:2) sold to c (sessions > 0) or one
 * session used (-1), as ledger_bono.c posts it: the sessions from
 * bonos_issued or to bonos_used, the euros deferred on bonos_sold. */
static void rbono(int c, int k, int shop, int day, int64_t at, int64_t sessions)
{
    static const int64_t price[2] = {4500, 3000}, n[2] = {10, 5};
    bool sale = sessions > 0;
    int64_t cents = sale ? price[k] : price[k] / n[k], id;
    struct ledger_line lines[4];
    char req[32];
    bool rep;
    memset(lines, 0, sizeof lines);
    lines[0] = (struct ledger_line){R.acct[c], "", sessions, 0};
    lines[1] = (struct ledger_line){R.bono_acc[sale ? 2 : 3], "", -sessions, 0};
    lines[2] = (struct ledger_line){sale ? R.cash : R.bono_acc[0], "EUR", -cents, 0};
    lines[3] = (struct ledger_line){R.bono_acc[sale ? 0 : 1], "EUR", cents, 0};
    snprintf(lines[0].asset, sizeof lines[0].asset, "BONO:%d", k + 1);
    snprintf(lines[1].asset, sizeof lines[1].asset, "BONO:%d", k + 1);
    snprintf(req, sizeof req, "r%d", R.nreq++);
    struct ledger_entry e = {.program_id = RPROG,
                             .kind = sale ? "transfer" : "redeem",
                             .at = at,
                             .store_id = R.store[shop],
                             .request_id = req,
                             .operator_name = "desk",
                             .reason = sale ? "bono sold at the desk" : "bono session used",
                             .reference = "",
                             .nlines = 4,
                             .lines = lines};
    leal_err err = ledger_post(R.l, &e, &id, &rep);
    if (err != LEAL_OK)
        fail_msg("bono: %s: %s", leal_errname(err), ledger_errmsg(R.l));
    R.held[c][k] += sessions;
    R.active[c][day] |= (uint8_t)(1u << shop);
}

static void rday(int d)
{
    int64_t day0 = OCT1 + (int64_t)d * 86400;
    for (int i = 0; i < RSALES_DAY; i++) {
        uint32_t a = rrnd(RCUST), b = rrnd(RCUST);
        int shop = (int)rrnd(RSHOPS);
        /* The last at 22:30 UTC: the next day in Madrid (October) or its
         * last hour; the rules read local dates, the reports UTC days. */
        int64_t at = day0 + (i == RSALES_DAY - 1 ? 81000 : 32400 + i * 1800);
        rsale_post((int)(a < b ? a : b), shop, d, at,
                   500 + 100 * (int64_t)rrnd(60) + (int64_t)rrnd(100));
    }
    if (d % 7 == 3)
        rbono((d / 7) % RCUST, d % 2, (int)rrnd(RSHOPS), d, day0 + 50000, d % 2 ? 5 : 10);
    if (d % 3 == 1)
        for (int k = 0; k < RCUST * 2; k++) {
            int c = (d + k) % RCUST, kind = k / RCUST;
            if (R.held[c][kind] > 0) {
                rbono(c, kind, (int)rrnd(RSHOPS), d, day0 + 60000, -1);
                break;
            }
        }
    for (int c = 0; c < RCUST; c++) {
        for (int k = 0; k < RASSETS; k++) {
            R.units[d][k] += R.held[c][k];
            R.holders[d][k] += R.held[c][k] != 0;
        }
    }
}

static int rsetup(void **state)
{
    static const char *const bono_names[4] = {"bonos_sold", "bonos_revenue", "bonos_issued",
                                              "bonos_used"};
    struct ledger_program p = {.id = RPROG,
                               .kind = LEDGER_PROGRAM_CHAIN,
                               .points_per_euro_milli = 1000,
                               .purse_cap_cents = LEDGER_PURSE_CAP_DEFAULT};
    struct ledger_rules_change ch = {"test", "autumn", "campaigns", rules_edit, NULL, {0, 0}, 0};
    struct ledger_rules_change rn = {"test", "renamed", "rule 21 renamed", rules_rename, NULL,
                                     {0, 0}, 0};
    int64_t id;
    uint32_t version;
    char sql[256];
    memset(&R, 0, sizeof R);
    R.rng = 0x2545f4914f6cdd1du;
    R.dir = test_tmpdir_fast();
    snprintf(R.db, sizeof R.db, "%s/rules.db", R.dir);
    snprintf(p.code, sizeof p.code, "rules");
    snprintf(p.name, sizeof p.name, "Rules");
    assert_int_equal(ledger_open(R.db, &R.l), LEAL_OK);
    assert_int_equal(ledger_program_create(R.l, &p, &id), LEAL_OK);
    for (int s = 0; s < RSHOPS; s++) {
        char code[16];
        snprintf(code, sizeof code, "s%d", s + 1);
        assert_int_equal(ledger_store_add(R.l, RPROG, code, code, "Europe/Madrid", &R.store[s]),
                         LEAL_OK);
    }
    for (int c = 0; c < RCUST; c++) {
        struct ledger_customer cu = {.program_id = RPROG};
        int64_t cid;
        snprintf(cu.name, sizeof cu.name, "r%d", c);
        assert_int_equal(ledger_customer_add(R.l, &cu, &cid, &R.acct[c]), LEAL_OK);
        for (int d = 0; d < RDAYS; d++)
            R.tier[c][d] = -1;
    }
    assert_int_equal(ledger_settle_value_set(R.l, RPROG, VALUE, "test"), LEAL_OK);
    assert_int_equal(ledger_rules_change(R.l, RPROG, &ch), LEAL_OK);
    assert_int_equal(ledger_rules_change(R.l, RPROG, &rn), LEAL_OK);
    assert_int_equal(ledger_rules_load(R.l, RPROG, &R.rules, &version), LEAL_OK);
    assert_int_equal(version, 2);
    /* The bono accounts, as ledger_bono.c makes them at a program's first bono. */
    for (int i = 0; i < 4; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO account(program_id, kind, name, created_at) VALUES (%d, "
                 "'program', '%s', %lld)",
                 RPROG, bono_names[i], (long long)OCT1);
        rexec(sql);
        assert_int_equal(ledger_program_account(R.l, RPROG, bono_names[i], &R.bono_acc[i]),
                         LEAL_OK);
    }
    /* The customers joined the day before the first sale. */
    snprintf(sql, sizeof sql, "UPDATE customer SET created_at = %lld WHERE program_id = %d",
             (long long)(OCT1 - 43200), RPROG);
    rexec(sql);
    assert_int_equal(ledger_program_account(R.l, RPROG, "cash", &R.cash), LEAL_OK);
    for (int d = 0; d < RDAYS; d++)
        rday(d);
    /* A day without a sale of theirs keeps the tier of the day before. */
    for (int c = 0; c < RCUST; c++)
        for (int d = 1; d < RDAYS; d++)
            if (R.tier[c][d] < 0)
                R.tier[c][d] = R.tier[c][d - 1];
    assert_int_equal(report_db_open(R.db, &R.rdb), LEAL_OK);
    *state = &R;
    return 0;
}

static int rteardown(void **state)
{
    (void)state;
    report_db_close(R.rdb);
    ledger_close(R.l);
    test_rmtree(R.dir);
    free(R.dir);
    return 0;
}

static void rrun(const char *name, int from, int to, const char *store, struct report *r)
{
    struct report_query q = {name, RPROG, store, DAY0 + from, DAY0 + to, 0, NULL};
    leal_err err = report_run(R.rdb, &q, r);
    if (err != LEAL_OK)
        fail_msg("report %s: %s: %s", name, leal_errname(err), report_db_errmsg(R.rdb));
}

/* The data is what the checks need: every tier, every asset, every rule. */
static void test_rules_data(void **state)
{
    (void)state;
    assert_true(R.tiers_seen[0] > 0 && R.tiers_seen[1] > 0 && R.tiers_seen[2] > 0);
    for (int k = 0; k < RASSETS; k++)
        assert_true(R.units[RDAYS - 1][k] > 0);
    for (int k = 0; k < RRULES; k++) {
        size_t n = 0;
        for (size_t i = 0; i < R.nsales; i++)
            n += R.sale[i].has[k];
        assert_true(n > 5);
    }
    /* Rules 21 and 22 both gave points to sales of 15 to 25 October. */
    size_t both = 0;
    for (size_t i = 0; i < R.nsales; i++)
        both += R.sale[i].has[0] && R.sale[i].has[1];
    assert_true(both > 20);
    /* 22:30 UTC on 4 October is 5 October in Madrid: rule 21 gave that
     * sale points, yet it belongs to the report's 4 October (UTC). */
    size_t early = 0;
    for (size_t i = 0; i < R.nsales; i++)
        early += R.sale[i].day == 3 && R.sale[i].has[0];
    assert_int_equal(early, 1);
    assert_int_equal(rsql_int("SELECT count(*) FROM sale_line WHERE source = 2"),
                     rsql_int("SELECT count(*) FROM sale WHERE tier_before > 0"));
}

/* campaigns over windows inside the rules' dates, across them, at one shop
 * and at all, against the tally: per rule with points in the window, the
 * points its lines gave and its sales' count and euros; every row the
 * window's sales and those of as many days just before. */
static void test_campaigns(void **state)
{
    static const struct {
        int from, to, shop; /* shop -1: all */
    } win[] = {{0, 30, -1}, {14, 40, -1},       {NOV_FIRST, RDAYS - 1, 1},
               {19, 21, 0}, {4, RDAYS - 1, -1}, {24, 35, 1},
               {41, 45, -1}};
    static const char *const codes[RSHOPS] = {"s1", "s2"};
    (void)state;
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        int from = win[w].from, to = win[w].to, len = to - from + 1;
        int64_t pts[RRULES] = {0}, n[RRULES] = {0}, amt[RRULES] = {0};
        int64_t sales = 0, amount = 0, before = 0, amount_before = 0;
        size_t rows = 0;
        struct report r;
        for (size_t i = 0; i < R.nsales; i++) {
            const struct rsale *s = &R.sale[i];
            if (win[w].shop >= 0 && s->shop != win[w].shop)
                continue;
            if (s->day >= from - len && s->day < from) {
                before++;
                amount_before += s->cents;
            }
            if (s->day < from || s->day > to)
                continue;
            sales++;
            amount += s->cents;
            for (int k = 0; k < RRULES; k++) {
                pts[k] += s->rule_pts[k];
                n[k] += s->has[k];
                amt[k] += s->has[k] ? s->cents : 0;
            }
        }
        rrun("campaigns", from, to, win[w].shop >= 0 ? codes[win[w].shop] : NULL, &r);
        const struct report_part *p = &r.part[0];
        for (int k = 0; k < RRULES; k++) {
            if (n[k] == 0)
                continue;
            assert_true(rows < p->nrows);
            assert_int_equal(cell(p, rows, "rule"), rule_ids[k]);
            assert_string_equal(text(p, rows, "name"), k == 0   ? "Doble puntos"
                                                       : k == 1 ? "Otono +5"
                                                                : "Tienda 2");
            assert_int_equal(cell(p, rows, "points"), pts[k]);
            assert_int_equal(cell(p, rows, "sales_with_rule"), n[k]);
            assert_int_equal(cell(p, rows, "amount_with_rule"), amt[k]);
            assert_int_equal(cell(p, rows, "sales"), sales);
            assert_int_equal(cell(p, rows, "amount"), amount);
            assert_int_equal(cell(p, rows, "sales_before"), before);
            assert_int_equal(cell(p, rows, "amount_before"), amount_before);
            rows++;
        }
        assert_int_equal(p->nrows, rows);
        /* The points the report gives per rule are the engine's lines. */
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(sum(sl.points), 0) FROM sale_line sl JOIN sale s ON s.id = "
                 "sl.sale_id WHERE sl.source = 4 AND s.at >= %lld AND s.at < %lld%s",
                 (long long)((DAY0 + from) * 86400), (long long)((DAY0 + to + 1) * 86400),
                 win[w].shop < 0    ? ""
                 : win[w].shop == 0 ? " AND s.store_id = (SELECT id FROM store WHERE code = 's1')"
                                    : " AND s.store_id = (SELECT id FROM store WHERE code = 's2')");
        assert_int_equal(col_sum(p, "points"), rsql_int(sql));
        report_free(&r);
    }
}

/* What the customers' accounts held of asset before second end, from the
 * lines: units, and accounts holding some. */
static void rheld_sql(const char *asset, int64_t end, int64_t *units, int64_t *holders)
{
    char sql[768];
    static const char *const what[2] = {"coalesce(sum(b), 0)", "count(nullif(b, 0))"};
    for (int i = 0; i < 2; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT %s FROM (SELECT sum(l.amount) AS b FROM line l JOIN entry e ON e.id = "
                 "l.entry_id JOIN account a ON a.id = l.account_id WHERE a.program_id = %d AND "
                 "a.kind <> 'program' AND l.asset = '%s' AND e.at < %lld GROUP BY l.account_id)",
                 what[i], RPROG, asset, (long long)end);
        *(i ? holders : units) = rsql_int(sql);
    }
}

/* Liabilities at the end of every day from two before the first to one
 * after the last (month ends and firsts among them), each asset's units,
 * holders and value against the tally at that day's end and against the
 * lines dated before it summed per account: points (earned at tier
 * multipliers and campaign rules, refunds taken back) valued, stamps and
 * bono sessions held without a value. */
static void test_liabilities_assets(void **state)
{
    (void)state;
    for (int d = -2; d <= RDAYS; d++) {
        int t = d < RDAYS ? d : RDAYS - 1;
        struct report r;
        size_t rows = 0;
        rrun("liabilities", d, d, NULL, &r);
        const struct report_part *p = &r.part[0];
        for (int k = 0; k < RASSETS; k++) {
            int64_t units = d < 0 ? 0 : R.units[t][k], holders = d < 0 ? 0 : R.holders[t][k];
            int64_t su, sh;
            rheld_sql(rassets[k], (DAY0 + d + 1) * 86400, &su, &sh);
            assert_int_equal(su, units);
            assert_int_equal(sh, holders);
            if (units == 0 && holders == 0)
                continue;
            assert_true(rows < p->nrows);
            assert_string_equal(text(p, rows, "asset"), rassets[k]);
            assert_int_equal(cell(p, rows, "units"), units);
            assert_int_equal(cell(p, rows, "holders"), holders);
            const struct report_cell *v = report_cell_at(p, rows, report_col_index(p, "value"));
            if (k == A_PTS)
                assert_int_equal(cell(p, rows, "value"), units * VALUE);
            else
                assert_true(v->null);
            rows++;
        }
        assert_int_equal(p->nrows, rows);
        report_free(&r);
    }
}

/* customers' tiers part over windows within a month and across months, of
 * the whole program and at one shop: the customers active in the window
 * (a sale, a refund or a bono of theirs there) by the tier their newest sale
 * up to the window's end left them in (0: none), against the tally. */
static void test_customers_tiers(void **state)
{
    static const struct {
        int from, to, shop;
    } win[] = {{3, 20, -1},        {20, 45, -1},
               {0, RDAYS - 1, -1}, {NOV_FIRST, RDAYS - 1, -1},
               {10, 50, 1},        {NOV_FIRST + 2, NOV_FIRST + 9, 0}};
    static const char *const codes[RSHOPS] = {"s1", "s2"};
    (void)state;
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        int64_t by_tier[RULES_MAX_TIERS + 1] = {0}, active = 0;
        size_t rows = 0;
        struct report r;
        for (int c = 0; c < RCUST; c++) {
            unsigned mask = win[w].shop < 0 ? 0xffu : 1u << win[w].shop;
            bool in = false;
            for (int d = win[w].from; d <= win[w].to; d++)
                in = in || (R.active[c][d] & mask) != 0;
            if (!in)
                continue;
            active++;
            by_tier[R.tier[c][win[w].to] < 0 ? 0 : R.tier[c][win[w].to]]++;
        }
        rrun("customers", win[w].from, win[w].to, win[w].shop >= 0 ? codes[win[w].shop] : NULL, &r);
        assert_int_equal(cell(&r.part[0], 0, "customers"), RCUST);
        assert_int_equal(cell(&r.part[0], 0, "new"), 0);
        assert_int_equal(cell(&r.part[0], 0, "active"), active);
        const struct report_part *p = &r.part[1];
        for (int t = 0; t <= RULES_MAX_TIERS; t++) {
            if (by_tier[t] == 0)
                continue;
            assert_true(rows < p->nrows);
            assert_int_equal(cell(p, rows, "tier"), t);
            assert_int_equal(cell(p, rows, "customers"), by_tier[t]);
            rows++;
        }
        assert_int_equal(p->nrows, rows);
        assert_true(win[w].to < 30 || rows >= 2); /* tiers beyond 0 by November */
        report_free(&r);
    }
}

/* activity and breakage of the rules program: the points the sales gave
 * (base, tier, campaigns) less what refunds took back, against the engine's
 * results; every sale an earn at a shop without a card. */
static void test_rules_activity(void **state)
{
    struct report r;
    (void)state;
    rrun("activity", 0, RDAYS - 1, NULL, &r);
    assert_int_equal(col_sum(&r.part[0], "points_issued"), R.issued);
    assert_int_equal(col_sum(&r.part[0], "sales_no_card"), (int64_t)R.nsales);
    assert_int_equal(col_sum(&r.part[0], "points_redeemed"), 0);
    report_free(&r);
    rrun("breakage", 0, RDAYS - 1, NULL, &r);
    assert_int_equal(col_sum(&r.part[0], "points_issued"), R.issued);
    report_free(&r);
}

/* redemptions of the rules program: the stamp card's rewards (4 stamps
 * each, on the sale's entry, "sale") over windows, less those a refund of
 * their sale undid (counted against the reward, as a void counts against
 * what it reverses), against the engine's results; whole days (the
 * summaries) and a part of a day (the entries). */
static void test_stamp_redemptions(void **state)
{
    static const int win[][2] = {{0, RDAYS - 1}, {3, 45}, {NOV_FIRST + 3, NOV_FIRST + 3}, {7, 9}};
    (void)state;
    assert_true(R.rewards_reversed > 0);
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        int64_t n = 0;
        struct report r;
        for (int d = win[w][0]; d <= win[w][1]; d++)
            n += R.stamp_rewards[d];
        assert_true(n > 0);
        rrun("redemptions", win[w][0], win[w][1], NULL, &r);
        const struct report_part *p = &r.part[0];
        for (size_t i = 0; p->nrows != 1 && i < p->nrows; i++)
            print_message("%s %s %lld %lld (want sale STAMP:1 %lld %lld)\n", text(p, i, "reward"),
                          text(p, i, "asset"), (long long)cell(p, i, "redemptions"),
                          (long long)cell(p, i, "units"), (long long)n, (long long)(4 * n));
        assert_int_equal(p->nrows, 1);
        assert_string_equal(text(p, 0, "reward"), "sale");
        assert_string_equal(text(p, 0, "asset"), "STAMP:1");
        assert_int_equal(cell(p, 0, "redemptions"), n);
        assert_int_equal(cell(p, 0, "units"), 4 * n);
        report_free(&r);
        /* The same from the entries: the window a second short of its last day. */
        struct report_query q = {"redemptions",    RPROG, NULL, DAY0 + win[w][0],
                                 DAY0 + win[w][1], 0,     NULL};
        assert_int_equal(report_run_at(R.rdb, &q, (DAY0 + win[w][0]) * 86400,
                                       (DAY0 + win[w][1] + 1) * 86400 - 1, &r),
                         LEAL_OK);
        assert_int_equal(r.part[0].nrows, 1);
        assert_int_equal(cell(&r.part[0], 0, "redemptions"), n);
        assert_int_equal(cell(&r.part[0], 0, "units"), 4 * n);
        report_free(&r);
    }
}

/* REDEEM_FIX_MIGRATION (42 -> 43): a ledger whose redemptions summary was
 * counted the old way (a refund undoing a stamp reward as one more
 * redemption) is recomputed when this leal opens it, to exactly the rows
 * the entries give. */
/* What the migrations after 43 added, taken out so that the copy is a
 * version-42 file (a later migration adds its own here, as in
 * messages_occasions.sh's list). */
#define UNDO_AFTER_43                                                                              \
    "DROP TABLE erasure_request; DROP TABLE card_holder; ALTER TABLE customer_note DROP COLUMN "   \
    "user_id; ALTER TABLE customer_note DROP COLUMN edited_at; DROP TABLE web_reset; ALTER "       \
    "TABLE web_user DROP COLUMN email; "

static void test_redeem_fix_migration(void **state)
{
    char copy[600], sql[1200];
    struct ledger *l = NULL;
    (void)state;
    snprintf(copy, sizeof copy, "%s/v42.db", R.dir);
    assert_int_equal(ledger_backup(R.l, copy, false), LEAL_OK);
    int64_t right = rsql_int("SELECT sum(redemptions) FROM report_redeem");
    assert_true(R.rewards_reversed > 0);
    snprintf(sql, sizeof sql,
             "UPDATE report_redeem SET redemptions = redemptions + %lld WHERE (day, store_id, "
             "reward, asset) = (SELECT day, store_id, reward, asset FROM report_redeem WHERE asset "
             "= 'STAMP:1' ORDER BY day LIMIT 1); " UNDO_AFTER_43 "PRAGMA user_version = 42",
             (long long)(2 * R.rewards_reversed));
    sqlite3 *h;
    assert_int_equal(sqlite3_open(copy, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
    assert_int_equal(test_sql_i64(copy, -1, "%s", "SELECT sum(redemptions) FROM report_redeem"),
                     right + 2 * R.rewards_reversed);
    assert_int_equal(ledger_open(copy, &l), LEAL_OK);
    assert_int_equal(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
    assert_int_equal(test_sql_i64(copy, -1, "%s", "SELECT sum(redemptions) FROM report_redeem"),
                     right);
    ledger_close(l);
    /* Row for row what the ledger it was copied from holds (R's ledger does
     * not keep the bonos' deferred euros, so `ledger verify` is not asked). */
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM (SELECT * FROM report_redeem EXCEPT SELECT * FROM "
             "o.report_redeem)) + (SELECT count(*) FROM (SELECT * FROM o.report_redeem EXCEPT "
             "SELECT * FROM report_redeem))");
    assert_int_equal(sqlite3_open(copy, &h), SQLITE_OK);
    char attach[700];
    snprintf(attach, sizeof attach, "ATTACH '%s' AS o", R.db);
    assert_int_equal(sqlite3_exec(h, attach, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
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
    const struct CMUnitTest rules_tests[] = {
        cmocka_unit_test(test_rules_data),           cmocka_unit_test(test_campaigns),
        cmocka_unit_test(test_liabilities_assets),   cmocka_unit_test(test_customers_tiers),
        cmocka_unit_test(test_rules_activity),       cmocka_unit_test(test_stamp_redemptions),
        cmocka_unit_test(test_redeem_fix_migration),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + cmocka_run_group_tests(rules_tests, rsetup, rteardown);
}
