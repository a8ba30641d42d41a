/* sale_test.c - host/ledger/ledger_sale: online sales and refunds through the
 * rules engine on a real ledger, with exact points, lines, stamps, buckets
 * and balances; the store's local time with tzdata (Europe/Madrid's DST
 * days); idempotency; refusals that write nothing. */
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
#include "host/ledger/ledger_sale.h"
#include "host/ledger/ledger_simulate.h"
#include "tests/lib/testutil.h"

#define CAFE 1

/* 2026-12-01 16:00:00 UTC is 17:00 in Madrid (CET). */
#define DEC1_1600 1796140800
#define DEC1_2230 1796164200 /* 23:30 Madrid, still 1 December */
#define DEC1_2330 1796167800 /* 00:30 Madrid, 2 December */
#define DEC2_0900 1796202000
#define YEAR (365 * 86400)

struct fx {
    char *dir;
    char path[512];
    struct ledger *l;
    int64_t program, store, alice, acct, issued, st_issued, st_redeemed, adjustments;
    struct rules_program rules;
};

/* 1,2 points a euro, 50 welcome points, silver at 100 euros (x1.5); double
 * points on coffee (best), +10 a sale (stack) at most 15 a day; a stamp per
 * coffee, the 10th gives reward 7. */
static void rules_fill(struct rules_program *p)
{
    memset(p, 0, sizeof *p);
    p->rate_milli = 1200;
    p->welcome_points = 50;
    p->n_tiers = 1;
    p->tiers[0] = (struct rules_tier){100, 1500};
    p->n_rules = 2;
    p->rules[0].id = 11;
    p->rules[0].kind = RULES_MULTIPLIER;
    p->rules[0].combine = RULES_BEST;
    p->rules[0].multiplier_milli = 2000;
    p->rules[0].n_categories = 1;
    p->rules[0].categories[0] = CAFE;
    p->rules[1].id = 12;
    p->rules[1].kind = RULES_BONUS;
    p->rules[1].combine = RULES_STACK;
    p->rules[1].bonus_points = 10;
    p->rules[1].cap_per_day = 15;
    p->n_stamps = 1;
    p->stamps[0] = (struct rules_stamp){RULES_STAMP_PER_ITEM, CAFE, 10, 7, 0};
}

static int setup(void **state)
{
    static struct fx f;
    struct ledger_program p = {.code = "sol",
                               .name = "Café Sol",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .points_per_euro_milli = 1200,
                               .points_expiry_days = 365};
    struct ledger_customer c;
    int64_t code = 0;
    memset(&f, 0, sizeof f);
    f.dir = test_tmpdir();
    snprintf(f.path, sizeof f.path, "%s/ledger.db", f.dir);
    assert_int_equal(ledger_open(f.path, &f.l), LEAL_OK);
    assert_int_equal(ledger_program_create(f.l, &p, &f.program), LEAL_OK);
    assert_int_equal(
        ledger_store_add(f.l, f.program, "sol-1", "Sol Centro", "Europe/Madrid", &f.store),
        LEAL_OK);
    memset(&c, 0, sizeof c);
    c.program_id = f.program;
    snprintf(c.name, sizeof c.name, "Alicia");
    assert_int_equal(ledger_customer_add(f.l, &c, &f.alice, &f.acct), LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "points_issued", &f.issued), LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "stamps_issued", &f.st_issued),
                     LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "stamps_redeemed", &f.st_redeemed),
                     LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "adjustments", &f.adjustments),
                     LEAL_OK);
    assert_int_equal(ledger_category_add(f.l, f.program, "cafe", &code), LEAL_OK);
    assert_int_equal(code, CAFE);
    rules_fill(&f.rules);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    test_rmtree(f->dir);
    free(f->dir);
    return 0;
}

static int64_t bal(struct fx *f, int64_t acct, const char *asset)
{
    int64_t v = -999;
    assert_int_equal(ledger_balance(f->l, acct, asset, &v), LEAL_OK);
    return v;
}

static int64_t count(struct fx *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static struct ledger_sale_request sale_rq(struct fx *f, const char *req, int64_t at, int64_t cents)
{
    struct ledger_sale_request rq;
    memset(&rq, 0, sizeof rq);
    rq.account_id = f->acct;
    rq.store_id = f->store;
    rq.at = at;
    rq.amount_cents = cents;
    rq.request_id = req;
    rq.operator_name = "Marta";
    rq.rules = &f->rules;
    rq.rules_version = 1;
    return rq;
}

static void item(struct ledger_sale_request *rq, uint16_t cat, uint16_t qty, int64_t cents)
{
    rq->items[rq->n_items++] = (struct rules_item){cat, qty, cents};
}

static void assert_line(const struct rules_result *r, unsigned i, uint8_t source, uint32_t id,
                        int64_t points)
{
    assert_true(i < r->n_lines);
    assert_int_equal(r->lines[i].source, source);
    assert_int_equal(r->lines[i].id, id);
    assert_int_equal(r->lines[i].points, points);
}

static void civil_is(const struct rules_civil *c, unsigned y, unsigned mo, unsigned d, unsigned h,
                     unsigned mi, unsigned s)
{
    assert_int_equal(c->year, y);
    assert_int_equal(c->month, mo);
    assert_int_equal(c->day, d);
    assert_int_equal(c->hour, h);
    assert_int_equal(c->minute, mi);
    assert_int_equal(c->second, s);
}

static void test_sale_local_time_madrid_dst(void **state)
{
    struct rules_civil c;
    (void)state;
    setenv("TZ", "America/New_York", 1);
    /* Spring forward, 2026-03-29: 01:59:59 CET is followed by 03:00:00 CEST. */
    assert_int_equal(ledger_local_civil("Europe/Madrid", 1774745999, &c), LEAL_OK);
    civil_is(&c, 2026, 3, 29, 1, 59, 59);
    assert_int_equal(ledger_local_civil("Europe/Madrid", 1774746000, &c), LEAL_OK);
    civil_is(&c, 2026, 3, 29, 3, 0, 0);
    /* Fall back, 2026-10-25: 02:30 happens twice, an hour apart. */
    assert_int_equal(ledger_local_civil("Europe/Madrid", 1792888200, &c), LEAL_OK);
    civil_is(&c, 2026, 10, 25, 2, 30, 0);
    assert_int_equal(ledger_local_civil("Europe/Madrid", 1792891800, &c), LEAL_OK);
    civil_is(&c, 2026, 10, 25, 2, 30, 0);
    assert_int_equal(ledger_local_civil("Europe/Madrid", 1792890000, &c), LEAL_OK);
    civil_is(&c, 2026, 10, 25, 2, 0, 0);
    assert_int_equal(ledger_local_civil("UTC", DEC1_2330, &c), LEAL_OK);
    civil_is(&c, 2026, 12, 1, 23, 30, 0);
    /* The caller's zone is left as it was. */
    assert_string_equal(getenv("TZ"), "America/New_York");
    assert_int_equal(ledger_local_civil("Madrid", DEC1_1600, &c), LEAL_E_TIMEZONE);
    assert_int_equal(ledger_local_civil("../etc/passwd", DEC1_1600, &c), LEAL_E_TIMEZONE);
    assert_int_equal(ledger_local_civil("UTC", 946641600, &c), LEAL_E_RULES_SALE); /* 1999 */
    assert_string_equal(getenv("TZ"), "America/New_York");
    unsetenv("TZ");
}

/* Sale A: 23.50 with 3 coffees (3.20) at 17:00 on 1 December, a new account. */
static void post_a(struct fx *f, struct ledger_sale_result *out)
{
    struct ledger_sale_request rq = sale_rq(f, "a1", DEC1_1600, 2350);
    item(&rq, CAFE, 3, 320);
    assert_int_equal(ledger_sale_post(f->l, &rq, out), LEAL_OK);
}

/* Sale B: 80.00 with 8 coffees (8.00) at 23:30 the same local day. */
static void post_b(struct fx *f, struct ledger_sale_result *out)
{
    struct ledger_sale_request rq = sale_rq(f, "b1", DEC1_2230, 8000);
    item(&rq, CAFE, 8, 800);
    assert_int_equal(ledger_sale_post(f->l, &rq, out), LEAL_OK);
}

/* Sale C: 10.00, nothing by category, at 00:30 on 2 December in Madrid
 * (23:30 on 1 December in UTC). */
static void post_c(struct fx *f, struct ledger_sale_result *out)
{
    struct ledger_sale_request rq = sale_rq(f, "c1", DEC1_2330, 1000);
    assert_int_equal(ledger_sale_post(f->l, &rq, out), LEAL_OK);
}

static void test_sale_earns_lines_stamps_tier_from_the_ledger(void **state)
{
    struct fx *f = *state;
    struct ledger_sale_result a, b, c;

    post_a(f, &a);
    assert_false(a.replayed);
    assert_int_equal(a.account_id, f->acct);
    civil_is(&a.local, 2026, 12, 1, 17, 0, 0);
    assert_int_equal(a.before.state.period, 0); /* never earned: welcome */
    /* base floor(23.50 x 1.2) 28, welcome 50, coffee double floor(3.84) 3, +10. */
    assert_int_equal(a.r.points, 91);
    assert_int_equal(a.r.n_lines, 4);
    assert_line(&a.r, 0, RULES_LINE_BASE, 0, 28);
    assert_line(&a.r, 1, RULES_LINE_WELCOME, 0, 50);
    assert_line(&a.r, 2, RULES_LINE_RULE, 11, 3);
    assert_line(&a.r, 3, RULES_LINE_RULE, 12, 10);
    assert_int_equal(a.r.earned.stamps[0], 3);
    assert_int_equal(a.r.after.tier, 0);
    assert_int_equal(a.r.after.buckets[0], 23);
    assert_int_equal(bal(f, f->acct, "PTS"), 91);
    assert_int_equal(bal(f, f->issued, "PTS"), -91);
    assert_int_equal(bal(f, f->acct, "STAMP:1"), 3);
    assert_int_equal(bal(f, f->st_issued, "STAMP:1"), -3);
    /* The points are one lot with the program's expiry, from the sale's time. */
    assert_int_equal(count(f, "SELECT count(*) FROM lot WHERE original = 91 AND expires_at = "
                              "1796140800 + 365 * 86400"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM entry WHERE kind = 'earn' AND request_id = "
                              "'sale:a1' AND spend_cents = 2350 AND at = 1796140800"),
                     1);

    /* B, the same local day: the +10 rule has 5 left of its 15; 3 + 8 stamps
     * make a reward at 10 and leave 1; 23 + 80 euros reach silver. */
    post_b(f, &b);
    assert_int_equal(b.before.state.points, 91);
    assert_int_equal(b.before.state.stamps[0], 3);
    assert_int_equal(b.before.state.buckets[0], 23);
    assert_int_equal(b.before.rule_points_today[0], 3);
    assert_int_equal(b.before.rule_points_today[1], 10);
    assert_int_equal(b.r.points, 110); /* 96 + 9 + 5 */
    assert_line(&b.r, 0, RULES_LINE_BASE, 0, 96);
    assert_line(&b.r, 1, RULES_LINE_RULE, 11, 9);
    assert_line(&b.r, 2, RULES_LINE_RULE, 12, 5);
    assert_int_equal(b.r.status[1], RULES_CAPPED);
    assert_int_equal(b.r.earned.rewards[0], 1);
    assert_int_equal(b.r.after.stamps[0], 1);
    assert_int_equal(b.r.after.tier, 1);
    assert_int_equal(bal(f, f->acct, "STAMP:1"), 1);
    assert_int_equal(bal(f, f->st_redeemed, "STAMP:1"), 10);
    assert_int_equal(count(f, "SELECT count(*) FROM line WHERE entry_id = (SELECT entry_id FROM "
                              "sale WHERE request_id = 'b1')"),
                     6);

    /* C at 00:30 local on 2 December: a new day for the cap (in UTC it would
     * still be the 1st, the cap reached); silver earns its extra half. */
    post_c(f, &c);
    civil_is(&c.local, 2026, 12, 2, 0, 30, 0);
    assert_int_equal(c.before.state.tier, 1);
    assert_int_equal(c.before.rule_points_today[1], 0);
    assert_int_equal(c.r.points, 28); /* 12 + tier 6 + 10 */
    assert_line(&c.r, 0, RULES_LINE_BASE, 0, 12);
    assert_line(&c.r, 1, RULES_LINE_TIER, 1, 6);
    assert_line(&c.r, 2, RULES_LINE_RULE, 12, 10);
    assert_int_equal(c.r.status[0], RULES_NO_CATEGORY);
    assert_int_equal(bal(f, f->acct, "PTS"), 229);
    assert_int_equal(count(f, "SELECT count(*) FROM sale_line"), 10);
    assert_int_equal(count(f, "SELECT count(*) FROM sale_item"), 2);
    assert_int_equal(count(f, "SELECT local_date = '2026-12-02' AND local_time = '00:30:00' FROM "
                              "sale WHERE request_id = 'c1'"),
                     1);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_sale_request_id_posts_once(void **state)
{
    struct fx *f = *state;
    struct ledger_sale_result a, again;
    struct ledger_sale_request rq = sale_rq(f, "a1", DEC1_1600, 2351);

    post_a(f, &a);
    post_a(f, &again);
    assert_true(again.replayed);
    assert_int_equal(again.sale_id, a.sale_id);
    assert_int_equal(again.entry_id, a.entry_id);
    assert_int_equal(again.r.points, 91);
    assert_int_equal(again.r.n_lines, 4);
    assert_line(&again.r, 2, RULES_LINE_RULE, 11, 3);
    assert_int_equal(again.r.earned.stamps[0], 3);
    assert_int_equal(again.r.after.buckets[0], 23);
    civil_is(&again.local, 2026, 12, 1, 17, 0, 0);
    assert_int_equal(bal(f, f->acct, "PTS"), 91);
    /* The same key with other content is refused, and writes nothing. */
    item(&rq, CAFE, 3, 320);
    assert_int_equal(ledger_sale_post(f->l, &rq, &again), LEAL_E_IDEMPOTENCY_CONFLICT);
    assert_non_null(strstr(ledger_errmsg(f->l), "is sale 1's"));
    assert_int_equal(again.sale_id, 0);
    assert_int_equal(count(f, "SELECT count(*) FROM sale"), 1);
    assert_int_equal(bal(f, f->acct, "PTS"), 91);
}

static void test_sale_refunds_take_back_exactly(void **state)
{
    struct fx *f = *state;
    struct ledger_sale_result a, b, c;
    struct ledger_refund_request rq = {0, 0, DEC2_0900, "ra", "Marta", &f->rules};
    struct ledger_refund_result r;
    struct rules_card card;

    post_a(f, &a);
    post_b(f, &b);
    post_c(f, &c);
    /* A whole: its 91 points, 23 euros of spend; its 3 stamps against the 1
     * left: 1 taken, 2 short (B's reward used the others). */
    rq.sale_id = a.sale_id;
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_OK);
    assert_int_equal(r.amount_cents, 2350);
    assert_int_equal(r.r.points_back, 91);
    assert_int_equal(r.r.points_short, 0);
    assert_int_equal(r.r.units_back, 23);
    assert_int_equal(r.r.stamps_back[0], 3);
    assert_int_equal(r.r.stamps_short[0], 2);
    assert_int_equal(r.r.after.tier, 0); /* 113 - 23 = 90 euros: below silver */
    assert_int_equal(bal(f, f->acct, "PTS"), 138);
    assert_int_equal(bal(f, f->acct, "STAMP:1"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM entry WHERE kind = 'refund' AND reverses = 1 "
                              "AND spend_cents = -2350"),
                     1);

    /* B in two parts: 30.00 then the rest; floor shares that add up to the
     * whole: 41 + 69 = 110 points, 30 + 50 euros, 3 + 5 stamps. The first
     * part takes 3 stamps from none: B's reward is reversed (10 back). */
    rq.sale_id = b.sale_id;
    rq.amount_cents = 3000;
    rq.request_id = "rb1";
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_OK);
    assert_int_equal(r.already_cents, 0);
    assert_int_equal(r.r.points_back, 41);
    assert_int_equal(r.r.units_back, 30);
    assert_int_equal(r.r.stamps_back[0], 3);
    assert_int_equal(r.r.rewards_reversed[0], 1);
    assert_int_equal(bal(f, f->acct, "STAMP:1"), 7);
    assert_int_equal(bal(f, f->st_redeemed, "STAMP:1"), 0);
    assert_int_equal(bal(f, f->acct, "PTS"), 97);
    /* The same request again: nothing new. */
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_OK);
    assert_true(r.replayed);
    assert_int_equal(r.r.points_back, 41);
    assert_int_equal(r.r.rewards_reversed[0], 1);
    assert_int_equal(bal(f, f->acct, "PTS"), 97);

    rq.amount_cents = 0;
    rq.request_id = "rb2";
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_OK);
    assert_int_equal(r.amount_cents, 5000);
    assert_int_equal(r.already_cents, 3000);
    assert_int_equal(r.r.points_back, 69);
    assert_int_equal(r.r.units_back, 50);
    assert_int_equal(r.r.stamps_back[0], 5);
    assert_int_equal(bal(f, f->acct, "PTS"), 28); /* C's, no more */
    assert_int_equal(bal(f, f->acct, "STAMP:1"), 2);

    /* Nothing left of B; more than is left of C. Neither writes anything. */
    rq.request_id = "rb3";
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_E_RULES_REFUND);
    assert_string_equal(ledger_errmsg(f->l), "sale 2 (80.00) is refunded in full");
    rq.sale_id = c.sale_id;
    rq.amount_cents = 2000;
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_E_RULES_REFUND);
    assert_string_equal(ledger_errmsg(f->l), "sale 3 has 10.00 left to refund, not 20.00");
    assert_int_equal(count(f, "SELECT count(*) FROM sale_refund"), 3);
    rq.sale_id = 99;
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_E_UNKNOWN_ID);

    /* What is left, derived from the ledger: C alone. */
    assert_int_equal(ledger_sale_state(f->l, &f->rules, f->acct, &c.local, &card), LEAL_OK);
    assert_int_equal(card.state.points, 28);
    assert_int_equal(card.state.stamps[0], 2);
    assert_int_equal(card.state.period, 324);
    assert_int_equal(card.state.buckets[0], 10);
    assert_int_equal(card.state.tier, 0);
    assert_int_equal(card.rule_points_today[1], 10);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_sale_state_points_are_the_ledger_balance(void **state)
{
    struct fx *f = *state;
    struct ledger_line lines[2];
    struct ledger_entry e;
    struct ledger_sale_result a;
    struct rules_card card;
    int64_t id;
    bool rep;

    post_a(f, &a);
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0] = (struct ledger_line){f->acct, "PTS", 1000, 0};
    lines[1] = (struct ledger_line){f->adjustments, "PTS", -1000, 0};
    e.program_id = f->program;
    e.kind = "adjust";
    e.request_id = "adj";
    e.operator_name = "Marta";
    e.reason = "goodwill";
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
    assert_int_equal(ledger_sale_state(f->l, &f->rules, f->acct, &a.local, &card), LEAL_OK);
    assert_int_equal(card.state.points, 1091);
    assert_int_equal(card.state.stamps[0], 3);
    assert_int_equal(card.state.period, 324);
    assert_int_equal(card.rule_points_today[0], 3);
    assert_int_equal(card.rule_points_today[1], 10);
}

static void test_sale_refusals_write_nothing(void **state)
{
    struct fx *f = *state;
    struct ledger_program p2 = {.code = "otro",
                                .name = "Otro",
                                .kind = LEDGER_PROGRAM_SINGLE,
                                .points_per_euro_milli = 1000};
    struct ledger_card card;
    struct ledger_sale_result out;
    struct ledger_sale_request rq = sale_rq(f, "x1", DEC1_1600, 1000);
    int64_t prog2, store2;

    assert_int_equal(ledger_program_create(f->l, &p2, &prog2), LEAL_OK);
    assert_int_equal(ledger_store_add(f->l, prog2, "o-1", "Otro", "Europe/Lisbon", &store2),
                     LEAL_OK);
    rq.store_id = store2;
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_E_WRONG_PROGRAM);
    rq.store_id = f->store;
    rq.operator_name = "";
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_E_REASON_REQUIRED);
    rq.operator_name = "Marta";
    rq.amount_cents = RULES_MAX_SALE_CENTS + 1;
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_E_RULES_SALE);
    rq.amount_cents = 1000;
    item(&rq, CAFE, 1, 1001); /* items above the sale */
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_E_RULES_SALE);
    rq.n_items = 0;
    rq.request_id = "";
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_E_TEXT);
    rq.request_id = "x1";

    /* By card: its account; a blocked card is refused. */
    memset(&card, 0, sizeof card);
    card.card_id = 4242;
    card.account_id = f->acct;
    card.uid_len = 7;
    card.tech = LEDGER_TECH_DESFIRE_EV2;
    card.status = LEDGER_CARD_BLOCKED;
    card.keyset_version = 1;
    card.layout_version = 1;
    assert_int_equal(ledger_card_add(f->l, &card), LEAL_OK);
    rq.account_id = 0;
    rq.card_id = 4242;
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_E_CARD_BLOCKED);
    assert_string_equal(ledger_errmsg(f->l), "card 4242 is blocked");
    assert_int_equal(count(f, "SELECT count(*) FROM sale"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 0);
    assert_int_equal(ledger_card_set_status(f->l, 4242, LEDGER_CARD_ACTIVE), LEAL_OK);
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_OK);
    assert_int_equal(out.account_id, f->acct);
    assert_int_equal(count(f, "SELECT count(*) FROM entry WHERE card_id = 4242"), 1);
}

static int cat_cb(void *ctx, uint16_t code, const char *name)
{
    char *s = ctx;
    size_t n = strlen(s);
    snprintf(s + n, 128 - n, "%u=%s;", (unsigned)code, name);
    return 0;
}

static void test_sale_categories_by_name(void **state)
{
    struct fx *f = *state;
    char name[LEDGER_CATEGORY_NAME], all[128] = "";
    int64_t code = 40;
    uint16_t c16;

    assert_int_equal(ledger_category_add(f->l, f->program, "libros", &code), LEAL_OK);
    assert_int_equal(code, 40);
    code = 0;
    assert_int_equal(ledger_category_add(f->l, f->program, "prensa", &code), LEAL_OK);
    assert_int_equal(code, 41);
    code = 0;
    assert_int_equal(ledger_category_add(f->l, f->program, "cafe", &code), LEAL_E_DUPLICATE_ID);
    assert_int_equal(code, 0);
    code = 40;
    assert_int_equal(ledger_category_add(f->l, f->program, "otra", &code), LEAL_E_DUPLICATE_ID);
    code = 0;
    assert_int_equal(ledger_category_add(f->l, f->program, "Café", &code), LEAL_E_TEXT);
    assert_int_equal(ledger_category_code(f->l, f->program, "libros", &c16), LEAL_OK);
    assert_int_equal(c16, 40);
    assert_int_equal(ledger_category_code(f->l, f->program, "te", &c16), LEAL_E_UNKNOWN_ID);
    assert_string_equal(ledger_errmsg(f->l), "program 1 has no category 'te'");
    assert_int_equal(ledger_category_name(f->l, f->program, 41, name), LEAL_OK);
    assert_string_equal(name, "prensa");
    assert_int_equal(ledger_category_each(f->l, f->program, cat_cb, all), LEAL_OK);
    assert_string_equal(all, "1=cafe;40=libros;41=prensa;");
}

/* ---- leal rules simulate ---- */

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return (*x >> 8) & 0xFFFFu;
}

struct month {
    int64_t acct[4];
    int64_t sales, refunds, points; /* what posting one by one gave, net */
    int64_t base;                   /* the base rate alone, by hand: floor shares */
};

/* December 2026 in Madrid: 4 customers, 1 to 4 sales a day each between
 * 08:00 and 21:00 local (07:00..20:00 UTC), a coffee or two now and then,
 * and a refund of every 7th sale 10 minutes later (whole or part), posted
 * one by one in time order. */
static void post_month(struct fx *f, struct month *m)
{
    uint32_t x = 20261201;
    memset(m, 0, sizeof *m);
    m->acct[0] = f->acct;
    for (int i = 1; i < 4; i++) {
        struct ledger_customer c;
        int64_t id;
        memset(&c, 0, sizeof c);
        c.program_id = f->program;
        snprintf(c.name, sizeof c.name, "Cliente %d", i);
        assert_int_equal(ledger_customer_add(f->l, &c, &id, &m->acct[i]), LEAL_OK);
    }
    for (int day = 0; day < 31; day++) {
        int64_t t = DEC1_1600 - 9 * 3600 + (int64_t)day * 86400; /* 07:00 UTC */
        int n = 1 + (int)(lcg(&x) % 10);
        for (int k = 0; k < n; k++) {
            struct ledger_sale_request rq;
            struct ledger_sale_result r;
            char req[32];
            int64_t cents = 100 + (int64_t)(lcg(&x) % 15000), base;
            t += 600 + (int64_t)(lcg(&x) % 4000);
            snprintf(req, sizeof req, "m%d-%d", day, k);
            rq = sale_rq(f, req, t, cents);
            rq.account_id = m->acct[lcg(&x) % 4];
            if (lcg(&x) % 3 == 0)
                item(&rq, CAFE, (uint16_t)(1 + lcg(&x) % 3), cents / 4);
            assert_int_equal(ledger_sale_post(f->l, &rq, &r), LEAL_OK);
            m->sales++;
            m->points += r.r.points;
            base = cents * 1200 / 100000;
            m->base += base;
            if (m->sales % 7 == 0) {
                struct ledger_refund_request rf = {r.sale_id, 0, t + 600, req, "Marta", &f->rules};
                struct ledger_refund_result out;
                if (m->sales % 14 == 0)
                    rf.amount_cents = 1 + (int64_t)lcg(&x) % cents;
                assert_int_equal(ledger_sale_refund(f->l, &rf, &out), LEAL_OK);
                m->refunds++;
                m->points -= out.r.points_back;
                m->base -= base * out.amount_cents / cents;
            }
        }
    }
}

struct sim_seen {
    int n;
    struct ledger_sim_account a[8];
};

static int sim_cb(void *ctx, const struct ledger_sim_account *a)
{
    struct sim_seen *s = ctx;
    if (s->n < 8)
        s->a[s->n] = *a;
    s->n++;
    return 0;
}

static void test_sale_simulate_month_equals_posting(void **state)
{
    struct fx *f = *state;
    struct month m;
    struct sim_seen seen = {0};
    struct ledger_sim_totals tot;
    struct ledger_sim_request rq = {f->program, "2026-12-01", "2026-12-31", &f->rules};
    struct rules_program base_only;
    int64_t sum = 0;

    post_month(f, &m);
    print_message("a generated month: %lld sales, %lld refunds, %lld points net\n",
                  (long long)m.sales, (long long)m.refunds, (long long)m.points);
    assert_true(m.sales > 150);
    assert_true(m.refunds > 20);
    /* Under the rules the sales were posted with: exactly what they gave. */
    assert_int_equal(ledger_simulate(f->l, &rq, sim_cb, &seen, &tot), LEAL_OK);
    assert_int_equal(tot.accounts, 4);
    assert_int_equal(seen.n, 4);
    assert_int_equal(tot.sales, m.sales);
    assert_int_equal(tot.refunds, m.refunds);
    assert_int_equal(tot.real_points, m.points);
    assert_int_equal(tot.sim_points, m.points);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(seen.a[i].account_id, m.acct[i]);
        assert_int_equal(seen.a[i].sim_points, seen.a[i].real_points);
        assert_int_equal(seen.a[i].real_points, bal(f, m.acct[i], "PTS"));
        sum += seen.a[i].real_points;
    }
    assert_int_equal(sum, m.points);
    /* Under the base rate alone: floor(cents x 1,2) a sale, less each
     * refund's floor share, as counted by hand while posting. */
    memset(&base_only, 0, sizeof base_only);
    base_only.rate_milli = 1200;
    rq.rules = &base_only;
    seen.n = 0;
    assert_int_equal(ledger_simulate(f->l, &rq, sim_cb, &seen, &tot), LEAL_OK);
    assert_int_equal(tot.real_points, m.points);
    print_message("the same month under the base rate alone: %lld points\n",
                  (long long)tot.sim_points);
    assert_int_equal(tot.sim_points, m.base);
    assert_true(tot.sim_points < tot.real_points);
    /* The second half of the month starts from the state the first half left. */
    rq.rules = &f->rules;
    rq.from = "2026-12-16";
    assert_int_equal(ledger_simulate(f->l, &rq, NULL, NULL, &tot), LEAL_OK);
    assert_int_equal(tot.sim_points, tot.real_points);
    assert_true(tot.sales < m.sales);
    rq.from = "2026-12-32";
    assert_int_equal(ledger_simulate(f->l, &rq, NULL, NULL, &tot), LEAL_E_DATE);
    rq.from = "2026-12-31";
    rq.to = "2026-12-30";
    assert_int_equal(ledger_simulate(f->l, &rq, NULL, NULL, &tot), LEAL_E_DATE);
}

static void add_card(struct fx *f, int64_t card_id, enum ledger_card_status status)
{
    struct ledger_card card;
    memset(&card, 0, sizeof card);
    card.card_id = card_id;
    card.account_id = f->acct;
    card.uid_len = 7;
    card.tech = LEDGER_TECH_DESFIRE_EV2;
    card.status = status;
    card.keyset_version = 1;
    card.layout_version = 1;
    assert_int_equal(ledger_card_add(f->l, &card), LEAL_OK);
}

/* One welcome per account (RULES.md 3): the desk's welcome points (the
 * issuance's "card:ID:welcome" entry, 20 points on 1 November) make the
 * account's period November's, so the rules' 50 are never given on top, not
 * by the card it was given to, not by its replacement, not by the account,
 * not in a simulation. Sale A alone is 28 + 3 + 10 after it (91 with the
 * rules' welcome on an account never welcomed). */
static void test_sale_desk_welcome_is_the_only_welcome(void **state)
{
    struct fx *f = *state;
    struct ledger_line lines[2];
    struct ledger_entry e;
    struct ledger_sale_result a, c;
    struct ledger_sale_request rq;
    struct ledger_customer cu;
    struct ledger_sim_request sim = {.from = "2026-12-01", .to = "2026-12-31"};
    struct ledger_sim_totals tot;
    uint16_t period = 9;
    int64_t id, bob, bob_acct;
    bool rep;

    add_card(f, 5151, LEDGER_CARD_ACTIVE);
    assert_int_equal(ledger_sale_period(f->l, f->acct, &period), LEAL_OK);
    assert_int_equal(period, 0); /* never welcomed, never earned */
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0] = (struct ledger_line){f->acct, "PTS", 20, 0};
    lines[1] = (struct ledger_line){f->issued, "PTS", -20, 0};
    e.program_id = f->program;
    e.kind = "earn";
    e.at = 1793491200; /* 2026-11-01 00:00 UTC */
    e.card_id = 5151;
    e.request_id = "card:5151:welcome";
    e.operator_name = "desk";
    e.reason = "welcome points";
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
    assert_int_equal(ledger_sale_period(f->l, f->acct, &period), LEAL_OK);
    assert_int_equal(period, (2026 - 2000) * 12 + 11);

    /* The card is lost and replaced: the new card's account was welcomed. */
    assert_int_equal(ledger_card_set_status(f->l, 5151, LEDGER_CARD_REPLACED), LEAL_OK);
    add_card(f, 5152, LEDGER_CARD_ACTIVE);
    assert_int_equal(ledger_sale_period(f->l, f->acct, &period), LEAL_OK);
    assert_int_equal(period, 323);
    rq = sale_rq(f, "a1", DEC1_1600, 2350);
    item(&rq, CAFE, 3, 320);
    rq.account_id = 0;
    rq.card_id = 5152;
    assert_int_equal(ledger_sale_post(f->l, &rq, &a), LEAL_OK);
    assert_int_equal(a.r.points, 28 + 3 + 10);
    assert_int_equal(a.r.n_lines, 3);
    assert_line(&a.r, 0, RULES_LINE_BASE, 0, 28);
    assert_line(&a.r, 1, RULES_LINE_RULE, 11, 3);
    assert_line(&a.r, 2, RULES_LINE_RULE, 12, 10);
    assert_int_equal(a.r.after.period, 324);
    assert_int_equal(bal(f, f->acct, "PTS"), 20 + 41);
    assert_int_equal(count(f, "SELECT count(*) FROM sale_line WHERE source = 3"), 0);
    /* Replayed under the same rules, December gives what it gave: no welcome. */
    sim.program_id = f->program;
    sim.rules = &f->rules;
    assert_int_equal(ledger_simulate(f->l, &sim, NULL, NULL, &tot), LEAL_OK);
    assert_int_equal(tot.sim_points, 41);
    assert_int_equal(tot.real_points, 41);

    /* Another customer, never welcomed: the rules' welcome, once. */
    memset(&cu, 0, sizeof cu);
    cu.program_id = f->program;
    snprintf(cu.name, sizeof cu.name, "Bruno");
    assert_int_equal(ledger_customer_add(f->l, &cu, &bob, &bob_acct), LEAL_OK);
    rq = sale_rq(f, "c1", DEC1_1600, 2350);
    item(&rq, CAFE, 3, 320);
    rq.account_id = bob_acct;
    assert_int_equal(ledger_sale_post(f->l, &rq, &c), LEAL_OK);
    assert_int_equal(c.r.points, 28 + 50 + 3 + 10);
    assert_line(&c.r, 1, RULES_LINE_WELCOME, 0, 50);
}

/* RULES.md 6: points a refund cannot take back (spent since the sale) are
 * owed by the account, never a negative balance, and its next sales settle
 * them before crediting anything. Sale A gives 91; 91 are spent; A refunded:
 * 0 back, 91 short, owed 91. C (00:30 on 2 December: 12 + 10) settles 22 of
 * them (nothing credited, no entry), owed 69; D (80.00 with 8 coffees later
 * that day: 96 + 9 + 5, the bonus capped at 15 a day) settles the other 69
 * and credits 41. */
static void test_sale_refund_short_is_owed_and_settled(void **state)
{
    struct fx *f = *state;
    struct ledger_line lines[2];
    struct ledger_entry e;
    struct ledger_sale_result a, c, d, again;
    struct ledger_refund_request rq = {0, 0, DEC1_2230, "ra", "Marta", &f->rules};
    struct ledger_refund_result r;
    struct ledger_sale_request dq = sale_rq(f, "d1", DEC2_0900, 8000);
    int64_t id, owed = -1;
    bool rep;

    post_a(f, &a);
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0] = (struct ledger_line){f->acct, "PTS", -91, 0};
    lines[1] = (struct ledger_line){f->adjustments, "PTS", 91, 0};
    e.program_id = f->program;
    e.kind = "adjust";
    e.request_id = "spent";
    e.operator_name = "Marta";
    e.reason = "spent at the till";
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
    rq.sale_id = a.sale_id;
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_OK);
    assert_int_equal(r.r.points_back, 0);
    assert_int_equal(r.r.points_short, 91);
    assert_int_equal(r.points_owed, 91);
    assert_int_equal(bal(f, f->acct, "PTS"), 0); /* never below 0 */
    assert_int_equal(ledger_sale_points_owed(f->l, f->acct, &owed), LEAL_OK);
    assert_int_equal(owed, 91);
    assert_int_equal(ledger_sale_refund(f->l, &rq, &r), LEAL_OK); /* replayed: owed now */
    assert_true(r.replayed);
    assert_int_equal(r.points_owed, 91);

    post_c(f, &c);
    assert_int_equal(c.r.points, 12 + 10);
    assert_int_equal(c.points_settled, 22);
    assert_int_equal(c.entry_id, 0); /* nothing credited, no stamps */
    assert_int_equal(c.r.after.points, 0);
    assert_int_equal(bal(f, f->acct, "PTS"), 0);
    assert_int_equal(ledger_sale_points_owed(f->l, f->acct, &owed), LEAL_OK);
    assert_int_equal(owed, 69);

    item(&dq, CAFE, 8, 800);
    assert_int_equal(ledger_sale_post(f->l, &dq, &d), LEAL_OK);
    assert_int_equal(d.r.points, 96 + 9 + 5);
    assert_int_equal(d.points_settled, 69);
    assert_int_equal(d.r.after.points, 41);
    assert_int_equal(bal(f, f->acct, "PTS"), 41);
    assert_int_equal(ledger_sale_points_owed(f->l, f->acct, &owed), LEAL_OK);
    assert_int_equal(owed, 0);
    assert_int_equal(count(f, "SELECT sum(owed_settled) FROM sale"), 91);
    /* A replay answers what was settled then. */
    assert_int_equal(ledger_sale_post(f->l, &dq, &again), LEAL_OK);
    assert_true(again.replayed);
    assert_int_equal(again.points_settled, 69);
    assert_int_equal(again.r.after.points, 41);
    assert_int_equal(bal(f, f->acct, "PTS"), 41);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sale_local_time_madrid_dst),
        cmocka_unit_test_setup_teardown(test_sale_earns_lines_stamps_tier_from_the_ledger, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sale_request_id_posts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sale_refunds_take_back_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sale_state_points_are_the_ledger_balance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sale_refusals_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sale_categories_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sale_simulate_month_equals_posting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sale_desk_welcome_is_the_only_welcome, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sale_refund_short_is_owed_and_settled, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
