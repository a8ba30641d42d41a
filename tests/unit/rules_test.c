/* rules_test.c - the rules engine (firmware/core/rules.h, RULES.md): each rule
 * alone and in combination with exact points, the edges (a window ending at
 * 20:00 and a sale at 20:00:00, the Europe/Madrid DST days, a tier threshold
 * hit exactly, a cap reached mid-sale), tiers up and down, stamps reaching N,
 * bonos reaching zero, rewards, and refunds reversing exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "firmware/core/rules.h"
#include "host/ledger/ledger.h"

#define CAFE 3
#define BOOKS 4

/* 2026-12-01 is a Tuesday (day 20788); period 2026-12 = 26 * 12 + 12 = 324. */
#define DEC1 20788u
#define P_DEC 324

static struct rules_program prog;
static struct rules_card card;
static struct rules_sale sale;
static struct rules_result res;

static int setup(void **state)
{
    (void)state;
    memset(&prog, 0, sizeof prog);
    memset(&card, 0, sizeof card);
    memset(&sale, 0, sizeof sale);
    memset(&res, 0, sizeof res);
    prog.rate_milli = 1000; /* 1 point per euro */
    card.state.seq = 7;
    card.state.period = P_DEC; /* has earned before: no welcome unless a test says so */
    sale.amount_cents = 2000;
    sale.store_id = 1;
    sale.local = (struct rules_civil){2026, 12, 1, 17, 0, 0};
    return 0;
}

static struct rules_rule *add_rule(uint32_t id, uint8_t kind, uint8_t combine, uint32_t value)
{
    struct rules_rule *r = &prog.rules[prog.n_rules++];
    memset(r, 0, sizeof *r);
    r->id = id;
    r->kind = kind;
    r->combine = combine;
    if (kind == RULES_MULTIPLIER)
        r->multiplier_milli = value;
    else
        r->bonus_points = value;
    return r;
}

static void at(uint8_t day, uint8_t h, uint8_t m, uint8_t s)
{
    sale.local = (struct rules_civil){2026, 12, day, h, m, s};
}

static void item(uint16_t cat, uint16_t qty, int64_t cents)
{
    sale.items[sale.n_items++] = (struct rules_item){cat, qty, cents};
}

static void assert_same_state(const struct state_body *a, const struct state_body *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->points, b->points);
    assert_int_equal(a->tier, b->tier);
    for (int i = 0; i < STATE_STAMPS; i++)
        assert_int_equal(a->stamps[i], b->stamps[i]);
    assert_int_equal(a->period, b->period);
    for (int i = 0; i < STATE_BUCKETS; i++)
        assert_int_equal(a->buckets[i], b->buckets[i]);
}

static int64_t earn(void)
{
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_OK);
    return res.points;
}

static void test_points_rule_is_the_ledgers(void **state)
{
    int64_t a, b;
    (void)state;
    assert_int_equal(rules_points_for_spend(1099, 1200, &a), LEAL_OK);
    assert_int_equal(a, 13);
    assert_int_equal(rules_points_for_spend(-1099, 1200, &a), LEAL_OK);
    assert_int_equal(a, -13);
    assert_int_equal(rules_points_for_spend(83, 1200, &a), LEAL_OK);
    assert_int_equal(a, 0);
    assert_int_equal(rules_points_for_spend(1, -1, &a), LEAL_E_ARG);
    assert_int_equal(rules_points_for_spend(INT64_MAX / 1000, 1200, &a), LEAL_E_AMOUNT_RANGE);
    for (int64_t c = -3000; c <= 3000; c += 7) {
        assert_int_equal(rules_points_for_spend(c, 1234, &a), LEAL_OK);
        assert_int_equal(ledger_points_for_spend(c, 1234, &b), LEAL_OK);
        assert_int_equal(a, b);
    }
}

static void test_base_rate_alone_one_line(void **state)
{
    (void)state;
    prog.rate_milli = 1200;
    sale.amount_cents = 2350;
    assert_int_equal(earn(), 28); /* 28.2 */
    assert_int_equal(res.n_lines, 1);
    assert_int_equal(res.lines[0].source, RULES_LINE_BASE);
    assert_int_equal(res.lines[0].points, 28);
    assert_int_equal(res.after.points, 28);
    assert_int_equal(res.after.seq, 7); /* the card writer steps seq */
    assert_int_equal(res.after.buckets[0], 23);
    assert_int_equal(res.earned.units, 23);
    assert_int_equal(res.earned.period, P_DEC);
}

static void test_welcome_bonus_on_first_earn_only(void **state)
{
    (void)state;
    prog.welcome_points = 50;
    card.state.period = 0; /* never earned */
    assert_int_equal(earn(), 70);
    assert_int_equal(res.n_lines, 2);
    assert_int_equal(res.lines[1].source, RULES_LINE_WELCOME);
    assert_int_equal(res.lines[1].points, 50);
    assert_int_equal(res.after.period, P_DEC);
    card.state = res.after;
    assert_int_equal(earn(), 20);
    assert_int_equal(res.after.points, 90);
    /* a 0.00 sale leaves a new card new: the welcome waits for a real earn */
    card.state = (struct state_body){0};
    sale.amount_cents = 0;
    assert_int_equal(earn(), 0);
    assert_int_equal(res.after.period, 0);
}

static void test_time_window_ending_at_20_excludes_20_00_00(void **state)
{
    struct rules_rule *r;
    (void)state;
    r = add_rule(1, RULES_MULTIPLIER, RULES_STACK, 2000); /* double points */
    r->weekdays = 1u << 1;                                /* Tuesday */
    r->start_minute = 16 * 60;
    r->end_minute = 20 * 60;
    at(1, 19, 59, 59);
    assert_int_equal(earn(), 40);
    assert_int_equal(res.status[0], RULES_APPLIED);
    assert_int_equal(res.lines[1].source, RULES_LINE_RULE);
    assert_int_equal(res.lines[1].id, 1);
    assert_int_equal(res.lines[1].points, 20);
    at(1, 20, 0, 0);
    assert_int_equal(earn(), 20);
    assert_int_equal(res.status[0], RULES_NOT_TIME);
    at(1, 16, 0, 0);
    assert_int_equal(earn(), 40);
    at(1, 15, 59, 59);
    assert_int_equal(earn(), 20);
    at(2, 17, 0, 0); /* Wednesday */
    assert_int_equal(earn(), 20);
    assert_int_equal(res.status[0], RULES_NOT_WEEKDAY);
}

static void test_window_past_midnight(void **state)
{
    struct rules_rule *r;
    (void)state;
    r = add_rule(1, RULES_BONUS, RULES_STACK, 5);
    r->start_minute = 22 * 60;
    r->end_minute = 2 * 60;
    at(1, 23, 30, 0);
    assert_int_equal(earn(), 25);
    at(1, 1, 59, 59);
    assert_int_equal(earn(), 25);
    at(1, 2, 0, 0);
    assert_int_equal(earn(), 20);
    at(1, 21, 59, 59);
    assert_int_equal(earn(), 20);
}

static void test_date_range_inclusive(void **state)
{
    struct rules_rule *r;
    (void)state;
    r = add_rule(9, RULES_BONUS, RULES_STACK, 100);
    r->from_day = DEC1;
    r->to_day = DEC1 + 23; /* 2026-12-24 */
    at(24, 23, 59, 59);
    assert_int_equal(earn(), 120);
    at(25, 0, 0, 0);
    assert_int_equal(earn(), 20);
    assert_int_equal(res.status[0], RULES_NOT_DATE);
    sale.local = (struct rules_civil){2026, 11, 30, 12, 0, 0};
    assert_int_equal(earn(), 20);
    assert_int_equal(res.status[0], RULES_NOT_DATE);
}

static void test_stores_of_a_collective(void **state)
{
    struct rules_rule *r;
    (void)state;
    r = add_rule(2, RULES_BONUS, RULES_STACK, 10);
    r->n_stores = 2;
    r->stores[0] = 7;
    r->stores[1] = 9;
    sale.store_id = 8;
    assert_int_equal(earn(), 20);
    assert_int_equal(res.status[0], RULES_NOT_STORE);
    sale.store_id = 9;
    assert_int_equal(earn(), 30);
}

static void test_category_multiplier_on_its_spend_only(void **state)
{
    struct rules_rule *r;
    (void)state;
    r = add_rule(3, RULES_MULTIPLIER, RULES_STACK, 3000); /* triple points on coffee */
    r->n_categories = 1;
    r->categories[0] = CAFE;
    sale.amount_cents = 2350;
    item(BOOKS, 1, 2030);
    assert_int_equal(earn(), 23);
    assert_int_equal(res.status[0], RULES_NO_CATEGORY);
    item(CAFE, 2, 320);
    assert_int_equal(earn(), 29); /* 23 + floor(3.20 x 2) = 23 + 6 */
    assert_int_equal(res.lines[1].points, 6);
}

static void test_minimum_spend(void **state)
{
    (void)state;
    add_rule(4, RULES_BONUS, RULES_STACK, 100)->min_spend_cents = 5000;
    sale.amount_cents = 4999;
    assert_int_equal(earn(), 49);
    assert_int_equal(res.status[0], RULES_BELOW_MIN);
    sale.amount_cents = 5000;
    assert_int_equal(earn(), 150);
    assert_int_equal(res.status[0], RULES_APPLIED);
}

static void test_best_only_and_stacking_combine(void **state)
{
    (void)state;
    add_rule(10, RULES_MULTIPLIER, RULES_BEST, 2000); /* +10 on 10.00 */
    add_rule(11, RULES_MULTIPLIER, RULES_BEST, 3000); /* +20 */
    add_rule(12, RULES_BONUS, RULES_STACK, 10);
    sale.amount_cents = 1000;
    assert_int_equal(earn(), 40); /* 10 base + 20 best + 10 stacked (RULES.md example) */
    assert_int_equal(res.n_lines, 3);
    assert_int_equal(res.status[0], RULES_OUTRANKED);
    assert_int_equal(res.status[1], RULES_APPLIED);
    assert_int_equal(res.lines[1].id, 11);
    assert_int_equal(res.lines[2].id, 12);
    /* a tie goes to the first in program order */
    prog.rules[1].multiplier_milli = 2000;
    assert_int_equal(earn(), 30);
    assert_int_equal(res.lines[1].id, 10);
    assert_int_equal(res.status[1], RULES_OUTRANKED);
    /* both stacking: both add */
    prog.rules[0].combine = RULES_STACK;
    prog.rules[1].combine = RULES_STACK;
    assert_int_equal(earn(), 40);
    /* RULES.md's example: silver (x1.5), A x2 best, B x3 best, C +10 stack */
    prog.rules[0].combine = RULES_BEST;
    prog.rules[1].combine = RULES_BEST;
    prog.rules[1].multiplier_milli = 3000;
    prog.n_tiers = 1;
    prog.tiers[0] = (struct rules_tier){100, 1500};
    card.state.buckets[1] = 100;
    assert_int_equal(earn(), 45);
    assert_int_equal(res.lines[1].source, RULES_LINE_TIER);
    assert_int_equal(res.lines[1].points, 5);
}

static void test_cap_per_sale(void **state)
{
    (void)state;
    add_rule(5, RULES_MULTIPLIER, RULES_STACK, 5000)->cap_per_sale = 25;
    sale.amount_cents = 1000;
    assert_int_equal(earn(), 35); /* +40 capped to 25 */
    assert_int_equal(res.status[0], RULES_CAPPED);
    sale.amount_cents = 500;
    assert_int_equal(earn(), 25); /* +20 under the cap */
    assert_int_equal(res.status[0], RULES_APPLIED);
}

static void test_cap_per_day_reached_mid_sale(void **state)
{
    (void)state;
    add_rule(6, RULES_MULTIPLIER, RULES_STACK, 2000)->cap_per_day = 100;
    sale.amount_cents = 3000;
    card.rule_points_today[0] = 90;
    assert_int_equal(earn(), 40); /* 30 base + 10 of the rule's 30 */
    assert_int_equal(res.status[0], RULES_CAPPED);
    assert_int_equal(res.lines[1].points, 10);
    card.rule_points_today[0] = 100;
    assert_int_equal(earn(), 30);
    assert_int_equal(res.status[0], RULES_CAP_REACHED);
    assert_int_equal(res.n_lines, 1);
    /* a best-only rule capped to 0 leaves the field to the other */
    add_rule(7, RULES_MULTIPLIER, RULES_BEST, 1500);
    prog.rules[0].combine = RULES_BEST;
    assert_int_equal(earn(), 45);
    assert_int_equal(res.status[1], RULES_APPLIED);
}

/* The caller's conversion (host: the store's zone from tzdata) of an instant. */
static struct rules_civil madrid(time_t utc)
{
    struct tm tm;
    assert_non_null(localtime_r(&utc, &tm));
    return (struct rules_civil){
        (uint16_t)(tm.tm_year + 1900), (uint8_t)(tm.tm_mon + 1), (uint8_t)tm.tm_mday,
        (uint8_t)tm.tm_hour,           (uint8_t)tm.tm_min,       (uint8_t)tm.tm_sec};
}

static void test_dst_days_in_europe_madrid(void **state)
{
    struct rules_rule *r;
    struct rules_civil c;
    (void)state;
    assert_int_equal(setenv("TZ", "Europe/Madrid", 1), 0);
    tzset();
    r = add_rule(8, RULES_BONUS, RULES_STACK, 5);
    r->start_minute = 2 * 60;
    r->end_minute = 3 * 60;

    /* 2026-03-29: 02:00 CET becomes 03:00 CEST; 01:00:00 UTC is 1774746000. */
    c = madrid(1774746000 - 1);
    assert_true(c.day == 29 && c.hour == 1 && c.minute == 59 && c.second == 59);
    sale.local = c;
    assert_int_equal(earn(), 20);
    c = madrid(1774746000);
    assert_true(c.day == 29 && c.hour == 3 && c.minute == 0 && c.second == 0);
    sale.local = c;
    assert_int_equal(earn(), 20); /* the 02:00-03:00 window did not happen that day */
    assert_int_equal(res.status[0], RULES_NOT_TIME);
    /* 02:30 that day exists on no clock the host converts; a terminal handed it
     * evaluates it as written (RULES.md: the engine reads wall-clock time). */
    sale.local = (struct rules_civil){2026, 3, 29, 2, 30, 0};
    assert_int_equal(earn(), 25);

    /* 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice. */
    c = madrid(1792888200); /* 00:30 UTC */
    assert_true(c.month == 10 && c.day == 25 && c.hour == 2 && c.minute == 30);
    sale.local = c;
    assert_int_equal(earn(), 25);
    c = madrid(1792888200 + 3600); /* 01:30 UTC: the same wall clock again */
    assert_true(c.month == 10 && c.day == 25 && c.hour == 2 && c.minute == 30);
    sale.local = c;
    assert_int_equal(earn(), 25);  /* both passes are inside the window */
    c = madrid(1792891800 + 1800); /* 02:00 UTC = 03:00 CET */
    assert_true(c.hour == 3 && c.minute == 0 && c.second == 0);
    sale.local = c;
    assert_int_equal(earn(), 20);
    unsetenv("TZ");
    tzset();
}

static void set_tiers(void)
{
    prog.n_tiers = 2;
    prog.tiers[0] = (struct rules_tier){100, 1500}; /* silver: +half */
    prog.tiers[1] = (struct rules_tier){500, 2000}; /* gold: double */
}

static void test_tier_threshold_hit_exactly(void **state)
{
    (void)state;
    set_tiers();
    card.state.tier = 0; /* what the card says is never trusted: recomputed */
    card.state.buckets[0] = 300;
    card.state.buckets[1] = 150;
    card.state.buckets[2] = 30;
    card.state.buckets[3] = 10;   /* 490 */
    sale.amount_cents = 999;      /* 9 units: 499 */
    assert_int_equal(earn(), 13); /* 9 base + floor(4.995) silver */
    assert_int_equal(res.tier_before, 1);
    assert_int_equal(res.after.tier, 1);
    assert_int_equal(res.lines[1].source, RULES_LINE_TIER);
    assert_int_equal(res.lines[1].id, 1);
    sale.amount_cents = 1000; /* 10 units: 500 exactly */
    assert_int_equal(earn(), 15);
    assert_int_equal(res.tier_before, 1);
    assert_int_equal(res.after.tier, 2);
    assert_int_equal(res.after.buckets[0], 310);
    card.state = res.after;
    assert_int_equal(earn(), 20); /* the next sale earns at gold */
    assert_int_equal(res.tier_before, 2);
}

static void test_tier_down_as_buckets_roll(void **state)
{
    (void)state;
    set_tiers();
    card.state.tier = 2;
    card.state.buckets[0] = 300;
    card.state.buckets[1] = 150;
    card.state.buckets[2] = 40;
    card.state.buckets[3] = 10;                              /* 500: gold */
    card.state.points = 1000000;                             /* a big balance buys no tier */
    sale.amount_cents = 50;                                  /* 0 units */
    sale.local = (struct rules_civil){2027, 2, 1, 12, 0, 0}; /* two periods on */
    assert_int_equal(earn(), 0);
    assert_int_equal(res.after.period, P_DEC + 2);
    assert_int_equal(res.after.buckets[0], 0);
    assert_int_equal(res.after.buckets[1], 0);
    assert_int_equal(res.after.buckets[2], 300);
    assert_int_equal(res.after.buckets[3], 150);
    assert_int_equal(res.tier_before, 1);
    assert_int_equal(res.after.tier, 1);
    sale.local = (struct rules_civil){2027, 4, 1, 12, 0, 0}; /* window empty */
    assert_int_equal(earn(), 0);
    assert_int_equal(res.after.tier, 0);
    /* a sale dated in an older period of the window lands in its bucket */
    sale.local = (struct rules_civil){2026, 10, 31, 12, 0, 0};
    sale.amount_cents = 1000;
    assert_int_equal(earn(), 20); /* gold before: 10 + 10 */
    assert_int_equal(res.after.period, P_DEC);
    assert_int_equal(res.after.buckets[2], 50);
    assert_int_equal(res.earned.period, P_DEC - 2);
}

static void set_stamps(void)
{
    prog.n_stamps = 2;
    prog.stamps[0] = (struct rules_stamp){RULES_STAMP_PER_ITEM, CAFE, 10, 501, 0};
    prog.stamps[1] = (struct rules_stamp){RULES_STAMP_PER_SALE, 0, 5, 502, 500};
}

static void test_stamps_reaching_n(void **state)
{
    (void)state;
    set_stamps();
    card.state.stamps[0] = 8;
    card.state.stamps[1] = 4;
    card.state.stamps[3] = 9; /* no stamp card 3: untouched */
    item(CAFE, 3, 450);
    earn();
    assert_int_equal(res.earned.stamps[0], 3);
    assert_int_equal(res.earned.rewards[0], 1); /* 11: one free coffee, 1 left */
    assert_int_equal(res.after.stamps[0], 1);
    assert_int_equal(res.earned.stamps[1], 1);
    assert_int_equal(res.earned.rewards[1], 1);
    assert_int_equal(res.after.stamps[1], 0);
    assert_int_equal(res.after.stamps[3], 9);
    sale.amount_cents = 499; /* under the per-sale minimum */
    sale.items[0].amount_cents = 450;
    earn();
    assert_int_equal(res.earned.stamps[1], 0);
    assert_int_equal(res.after.stamps[1], 4);
    card.state.stamps[0] = 0;
    sale.items[0].quantity = 25;
    earn();
    assert_int_equal(res.earned.rewards[0], 2);
    assert_int_equal(res.after.stamps[0], 5);
}

static void test_bono_reaches_zero_and_refuses(void **state)
{
    struct rules_civil d = {2026, 12, 1, 10, 0, 0};
    uint16_t left = 2, next = 99;
    (void)state;
    assert_int_equal(rules_bono_use(left, DEC1, &d, &next), LEAL_OK);
    assert_int_equal(next, 1);
    assert_int_equal(rules_bono_use(next, DEC1, &d, &left), LEAL_OK);
    assert_int_equal(left, 0);
    assert_int_equal(rules_bono_use(left, DEC1, &d, &next), LEAL_E_RULES_BONO_EMPTY);
    assert_int_equal(next, 0);
    d.day = 2;
    assert_int_equal(rules_bono_use(5, DEC1, &d, &next), LEAL_E_RULES_BONO_EXPIRED);
    assert_int_equal(next, 5);
    assert_int_equal(rules_bono_use(5, 0, &d, &next), LEAL_OK);
    assert_int_equal(next, 4);
}

static void test_rewards_catalogue(void **state)
{
    struct rules_redeemed r;
    struct state_body s = {0};
    (void)state;
    set_tiers();
    prog.n_rewards = 5;
    prog.rewards[0] = (struct rules_reward){1, RULES_REWARD_PRODUCT, 100, 7001, 0};
    prog.rewards[1] = (struct rules_reward){2, RULES_REWARD_VOUCHER, 500, 500, 0};
    prog.rewards[2] = (struct rules_reward){3, RULES_REWARD_PERCENT, 300, 1000, 0};
    prog.rewards[3] = (struct rules_reward){4, RULES_REWARD_CASHBACK, 1000, 1000, 0};
    prog.rewards[4] = (struct rules_reward){5, RULES_REWARD_PRODUCT, 10, 7002, 2};
    s.points = 1000;
    assert_int_equal(rules_redeem(&prog, &s, 1, 0, &r), LEAL_OK);
    assert_int_equal(r.product_id, 7001);
    assert_int_equal(r.after.points, 900);
    assert_int_equal(rules_redeem(&prog, &s, 2, 0, &r), LEAL_OK);
    assert_int_equal(r.discount_cents, 500);
    assert_int_equal(rules_redeem(&prog, &s, 3, 2355, &r), LEAL_OK);
    assert_int_equal(r.discount_cents, 235); /* 10 % of 23.55, rounded down */
    assert_int_equal(r.after.points, 700);
    assert_int_equal(rules_redeem(&prog, &s, 3, 0, &r), LEAL_E_RULES_SALE);
    assert_int_equal(rules_redeem(&prog, &s, 4, 0, &r), LEAL_OK);
    assert_int_equal(r.kind, RULES_REWARD_CASHBACK);
    assert_int_equal(r.cashback_cents, 1000);
    assert_int_equal(r.discount_cents, 0);
    assert_int_equal(r.after.points, 0);
    s.points = 999;
    assert_int_equal(rules_redeem(&prog, &s, 4, 0, &r), LEAL_E_RULES_POINTS);
    assert_int_equal(r.after.points, 0); /* zeroed: nothing half computed */
    assert_int_equal(rules_redeem(&prog, &s, 5, 0, &r), LEAL_E_RULES_TIER);
    s.tier = 2;
    assert_int_equal(rules_redeem(&prog, &s, 5, 0, &r), LEAL_OK);
    assert_int_equal(rules_redeem(&prog, &s, 6, 0, &r), LEAL_E_RULES_REWARD);
}

/* A sale with every kind of gain (welcome, tier, rule, stamps with a reward). */
static void rich_sale(void)
{
    set_tiers();
    set_stamps();
    prog.welcome_points = 50;
    add_rule(1, RULES_MULTIPLIER, RULES_STACK, 2000);
    card.state = (struct state_body){0};
    card.state.seq = 3;
    earn(); /* first earn: 20 + 50 welcome */
    card.state = res.after;
    card.state.buckets[1] = 120; /* silver */
    card.state.tier = 1;
    card.state.stamps[0] = 9;
    card.state.stamps[1] = 3;
    sale.amount_cents = 2350;
    item(CAFE, 2, 350);
}

static void test_full_refund_reverses_exactly(void **state)
{
    struct rules_refund rf;
    struct rules_refund_result rr;
    struct state_body before;
    (void)state;
    rich_sale();
    assert_int_equal(card.state.points, 90);
    before = card.state;
    assert_int_equal(earn(), 57); /* 23 + 11 silver + 23 rule */
    assert_int_equal(res.earned.units, 23);
    assert_int_equal(res.earned.rewards[0], 1);
    assert_int_equal(res.after.stamps[0], 1);
    memset(&rf, 0, sizeof rf);
    rf.original = res.earned;
    rf.refund_cents = 2350;
    rf.local = sale.local;
    assert_int_equal(rules_refund(&prog, &res.after, &rf, &rr), LEAL_OK);
    assert_int_equal(rr.points_back, 57);
    assert_int_equal(rr.points_short, 0);
    assert_int_equal(rr.units_back, 23);
    assert_int_equal(rr.stamps_back[0], 2);
    assert_int_equal(rr.rewards_reversed[0], 1); /* the free coffee was handed over */
    assert_same_state(&rr.after, &before);
    /* the first sale's refund takes its welcome back too, and no second welcome follows */
    setup(NULL);
    prog.welcome_points = 50;
    card.state.period = 0;
    earn();
    rf.original = res.earned;
    rf.refund_cents = 2000;
    assert_int_equal(rules_refund(&prog, &res.after, &rf, &rr), LEAL_OK);
    assert_int_equal(rr.points_back, 70);
    assert_int_equal(rr.after.points, 0);
    card.state = rr.after;
    assert_int_equal(earn(), 20);
}

static void test_partial_refunds_add_up_to_the_whole(void **state)
{
    struct rules_refund rf;
    struct rules_refund_result rr;
    struct state_body before;
    (void)state;
    rich_sale();
    before = card.state;
    earn();
    memset(&rf, 0, sizeof rf);
    rf.original = res.earned;
    rf.local = sale.local;
    rf.refund_cents = 700;
    assert_int_equal(rules_refund(&prog, &res.after, &rf, &rr), LEAL_OK);
    assert_int_equal(rr.points_back, 16); /* floor(57 x 7.00 / 23.50) = floor(16.98) */
    assert_int_equal(rr.units_back, 6);   /* floor(23 x 700 / 2350) = floor(6.85) */
    assert_int_equal(rr.stamps_back[0], 0);
    assert_int_equal(rr.after.points, 90 + 57 - 16);
    rf.already_refunded_cents = 700;
    rf.refund_cents = 1651;
    assert_int_equal(rules_refund(&prog, &rr.after, &rf, &rr), LEAL_E_RULES_REFUND);
    rf.refund_cents = 1650;
    struct state_body mid = res.after;
    mid.points -= 16;
    mid.buckets[0] = (uint16_t)(mid.buckets[0] - 6);
    assert_int_equal(rules_refund(&prog, &mid, &rf, &rr), LEAL_OK);
    assert_int_equal(rr.points_back, 41);
    assert_int_equal(rr.units_back, 17);
    assert_int_equal(rr.stamps_back[0], 2);
    assert_same_state(&rr.after, &before);
    rf.already_refunded_cents = 2350;
    rf.refund_cents = 1;
    assert_int_equal(rules_refund(&prog, &rr.after, &rf, &rr), LEAL_E_RULES_REFUND);
}

static void test_refund_after_points_were_spent(void **state)
{
    struct rules_refund rf;
    struct rules_refund_result rr;
    (void)state;
    earn();
    res.after.points = 5; /* spent on a reward since */
    memset(&rf, 0, sizeof rf);
    rf.original = res.earned;
    rf.refund_cents = 2000;
    rf.local = sale.local;
    assert_int_equal(rules_refund(&prog, &res.after, &rf, &rr), LEAL_OK);
    assert_int_equal(rr.points_back, 5);
    assert_int_equal(rr.points_short, 15);
    assert_int_equal(rr.after.points, 0);
}

static void test_refused_inputs(void **state)
{
    (void)state;
    sale.local = (struct rules_civil){2027, 2, 29, 12, 0, 0};
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_SALE);
    sale.local = (struct rules_civil){2028, 2, 29, 24, 0, 0};
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_SALE);
    sale.local.hour = 23;
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_OK);
    item(CAFE, 1, 2001);
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_SALE);
    sale.n_items = 0;
    sale.amount_cents = RULES_MAX_SALE_CENTS + 1;
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_SALE);
    sale.amount_cents = 100;
    prog.n_tiers = 2;
    prog.tiers[0] = (struct rules_tier){500, 1500};
    prog.tiers[1] = (struct rules_tier){500, 2000};
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_PROGRAM);
    prog.n_tiers = 0;
    add_rule(1, RULES_BONUS, RULES_STACK, 5);
    add_rule(1, RULES_BONUS, RULES_STACK, 6);
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_PROGRAM);
    prog.rules[1].id = 2;
    prog.rules[1].combine = 0;
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_PROGRAM);
    prog.rules[1].combine = RULES_BEST;
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_OK);
    card.state.points = UINT32_MAX - 11; /* 1 + 5 + 6 = 12 would not fit */
    assert_int_equal(rules_earn(&prog, &card, &sale, &res), LEAL_E_RULES_CARD_FULL);
    assert_int_equal(res.points, 0);
    assert_int_equal(res.n_lines, 0);
    card.state.points = UINT32_MAX - 12;
    assert_int_equal(earn(), 12);
    assert_int_equal(res.after.points, UINT32_MAX);
}

static void test_program_problem_names_the_part(void **state)
{
    struct rules_problem w;
    (void)state;
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_OK);
    assert_int_equal(w.part, RULES_PART_NONE);
    add_rule(1, RULES_BONUS, RULES_STACK, 5);
    add_rule(2, RULES_MULTIPLIER, RULES_BEST, 2000);
    add_rule(3, RULES_BONUS, RULES_STACK, 5);
    prog.rules[2].from_day = DEC1 + 1;
    prog.rules[2].to_day = DEC1; /* an empty date range */
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.part, RULES_PART_RULE);
    assert_int_equal(w.index, 2);
    prog.rules[2].to_day = 0;
    prog.rules[2].id = 2; /* repeats rule 1's id */
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.part, RULES_PART_RULE);
    assert_int_equal(w.index, 2);
    prog.rules[2].id = 3;
    prog.rules[1].multiplier_milli = 1000; /* a multiplier that adds nothing */
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.index, 1);
    prog.rules[1].multiplier_milli = 2000;
    set_tiers();
    prog.tiers[1].threshold_units = 100; /* not above silver */
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.part, RULES_PART_TIER);
    assert_int_equal(w.index, 1);
    set_tiers();
    set_stamps();
    prog.stamps[1].goal = 1;
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.part, RULES_PART_STAMP);
    assert_int_equal(w.index, 1);
    prog.stamps[1].goal = 5;
    prog.n_rewards = 2;
    prog.rewards[0] = (struct rules_reward){1, RULES_REWARD_PERCENT, 100, 10001, 0};
    prog.rewards[1] = (struct rules_reward){1, RULES_REWARD_PRODUCT, 100, 7, 0};
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.part, RULES_PART_REWARD);
    assert_int_equal(w.index, 0); /* over 100 % */
    prog.rewards[0].value = 10000;
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.index, 1); /* same id */
    prog.rewards[1].id = 2;
    prog.rewards[1].min_tier = 3; /* no tier 3 */
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.index, 1);
    prog.rewards[1].min_tier = 2;
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_OK);
    assert_int_equal(w.part, RULES_PART_NONE);
    prog.rate_milli = RULES_MAX_RATE_MILLI + 1;
    assert_int_equal(rules_program_problem(&prog, &w), LEAL_E_RULES_PROGRAM);
    assert_int_equal(w.part, RULES_PART_PROGRAM);
}

static void test_refund_after_the_bucket_left_the_window(void **state)
{
    struct rules_refund rf;
    struct rules_refund_result rr;
    (void)state;
    set_tiers();
    card.state.buckets[0] = 150; /* silver */
    earn();                      /* 20 + 10 silver */
    assert_int_equal(res.points, 30);
    assert_int_equal(res.after.buckets[0], 170);
    memset(&rf, 0, sizeof rf);
    rf.original = res.earned;
    rf.refund_cents = 2000;
    rf.local = (struct rules_civil){2027, 3, 1, 10, 0, 0}; /* 3 periods on: still in */
    assert_int_equal(rules_refund(&prog, &res.after, &rf, &rr), LEAL_OK);
    assert_int_equal(rr.points_back, 30);
    assert_int_equal(rr.units_back, 20);
    assert_int_equal(rr.after.period, P_DEC + 3);
    assert_int_equal(rr.after.buckets[3], 150);
    assert_int_equal(rr.after.tier, 1);
    rf.local.month = 4; /* 4 periods on: the sale's bucket is gone, the points are not */
    assert_int_equal(rules_refund(&prog, &res.after, &rf, &rr), LEAL_OK);
    assert_int_equal(rr.points_back, 30);
    assert_int_equal(rr.units_back, 0);
    assert_int_equal(rr.after.tier, 0);
    rf.local.month = 13;
    assert_int_equal(rules_refund(&prog, &res.after, &rf, &rr), LEAL_E_RULES_SALE);
    assert_int_equal(rr.points_back, 0);
}

static void test_same_input_same_output(void **state)
{
    struct rules_result a, b;
    (void)state;
    rich_sale();
    memset(&a, 0x55, sizeof a);
    memset(&b, 0xAA, sizeof b);
    assert_int_equal(rules_earn(&prog, &card, &sale, &a), LEAL_OK);
    assert_int_equal(rules_earn(&prog, &card, &sale, &b), LEAL_OK);
    assert_int_equal(memcmp(&a, &b, sizeof a), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(test_points_rule_is_the_ledgers),
        T(test_base_rate_alone_one_line),
        T(test_welcome_bonus_on_first_earn_only),
        T(test_time_window_ending_at_20_excludes_20_00_00),
        T(test_window_past_midnight),
        T(test_date_range_inclusive),
        T(test_stores_of_a_collective),
        T(test_category_multiplier_on_its_spend_only),
        T(test_minimum_spend),
        T(test_best_only_and_stacking_combine),
        T(test_cap_per_sale),
        T(test_cap_per_day_reached_mid_sale),
        T(test_dst_days_in_europe_madrid),
        T(test_tier_threshold_hit_exactly),
        T(test_tier_down_as_buckets_roll),
        T(test_stamps_reaching_n),
        T(test_bono_reaches_zero_and_refuses),
        T(test_rewards_catalogue),
        T(test_full_refund_reverses_exactly),
        T(test_partial_refunds_add_up_to_the_whole),
        T(test_refund_after_points_were_spent),
        T(test_refused_inputs),
        T(test_program_problem_names_the_part),
        T(test_refund_after_the_bucket_left_the_window),
        T(test_same_input_same_output),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
