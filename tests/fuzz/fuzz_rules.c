/* fuzz_rules.c - the rules engine on programs, cards and sales built from any
 * bytes (mostly within range, so that most programs pass the check): never a
 * sanitizer finding, and the invariants of RULES.md hold: the lines sum to the
 * points and each is positive, the card gains exactly those points, the tier
 * written is the buckets' tier, a full refund takes back exactly what the
 * sale gave (points, bucket euros, stamps) and two partial refunds that add up
 * to the sale take back the same as one full refund. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "firmware/core/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
    const uint8_t *p;
    size_t n;
    int wild; /* one input in 8: any field may take any 32-bit value */
};

static uint32_t take(struct src *s, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v = v << 8 | (s->n > 0 ? *s->p : 0u);
        if (s->n > 0) {
            s->p++;
            s->n--;
        }
    }
    return v;
}

/* In [lo, hi]; in a wild input, one time in 16 any 32-bit value (the refusals). */
static uint32_t pick(struct src *s, uint32_t lo, uint32_t hi)
{
    uint32_t v = take(s, 2);
    if (s->wild && (v & 15) == 0)
        return take(s, 4);
    return lo + v % (hi - lo + 1);
}

static void build(struct src *s, struct rules_program *p, struct rules_card *c,
                  struct rules_sale *sale)
{
    memset(p, 0, sizeof *p);
    memset(c, 0, sizeof *c);
    memset(sale, 0, sizeof *sale);
    p->rate_milli = pick(s, 0, 5000);
    p->welcome_points = pick(s, 0, 500);
    p->n_tiers = (uint8_t)pick(s, 0, RULES_MAX_TIERS);
    for (unsigned i = 0, t = 0; i < RULES_MAX_TIERS; i++) {
        t += pick(s, 1, 300);
        p->tiers[i].threshold_units = t;
        p->tiers[i].multiplier_milli = pick(s, 1000, 3000);
    }
    p->n_rules = (uint8_t)pick(s, 0, RULES_MAX_RULES);
    for (unsigned i = 0; i < RULES_MAX_RULES; i++) {
        struct rules_rule *r = &p->rules[i];
        r->id = i + 1;
        r->kind = (uint8_t)pick(s, 1, 2);
        r->combine = (uint8_t)pick(s, 1, 2);
        if (r->kind == RULES_MULTIPLIER)
            r->multiplier_milli = pick(s, 1001, 5000);
        else
            r->bonus_points = pick(s, 1, 200);
        if (take(s, 1) & 1) {
            r->from_day = pick(s, 20780, 20800);
            r->to_day = r->from_day + pick(s, 0, 20);
        }
        r->weekdays = (uint8_t)pick(s, 0, 127);
        r->start_minute = (uint16_t)pick(s, 0, 1440);
        r->end_minute = (uint16_t)pick(s, 0, 1440);
        r->n_stores = (uint8_t)pick(s, 0, 2);
        r->stores[0] = pick(s, 1, 3);
        r->stores[1] = pick(s, 1, 3);
        r->n_categories = (uint8_t)pick(s, 0, 2);
        r->categories[0] = (uint16_t)pick(s, 1, 4);
        r->categories[1] = (uint16_t)pick(s, 1, 4);
        r->min_spend_cents = pick(s, 0, 5000);
        r->cap_per_sale = pick(s, 0, 100);
        r->cap_per_day = pick(s, 0, 100);
        c->rule_points_today[i] = pick(s, 0, 120);
    }
    p->n_stamps = (uint8_t)pick(s, 0, RULES_STAMP_CARDS);
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        p->stamps[i].per = (uint8_t)pick(s, 1, 2);
        p->stamps[i].category = (uint16_t)pick(s, 0, 4);
        p->stamps[i].goal = (uint8_t)pick(s, 2, 12);
        p->stamps[i].reward_id = i + 1;
        p->stamps[i].min_spend_cents = pick(s, 0, 2000);
        c->state.stamps[i] = (uint8_t)pick(s, 0, 11);
    }
    c->state.points = pick(s, 0, 100000);
    c->state.period = (uint16_t)pick(s, 0, 330);
    for (unsigned i = 0; i < STATE_BUCKETS; i++)
        c->state.buckets[i] = (uint16_t)pick(s, 0, 700);
    sale->amount_cents = pick(s, 0, 200000);
    sale->store_id = pick(s, 1, 3);
    sale->local.year = (uint16_t)pick(s, 2026, 2027);
    sale->local.month = (uint8_t)pick(s, 1, 12);
    sale->local.day = (uint8_t)pick(s, 1, 28);
    sale->local.hour = (uint8_t)pick(s, 0, 23);
    sale->local.minute = (uint8_t)pick(s, 0, 59);
    sale->local.second = (uint8_t)pick(s, 0, 59);
    sale->n_items = (uint8_t)pick(s, 0, 4);
    for (unsigned i = 0; i < RULES_MAX_ITEMS; i++) {
        sale->items[i].category = (uint16_t)pick(s, 1, 4);
        sale->items[i].quantity = (uint16_t)pick(s, 1, 5);
        sale->items[i].amount_cents = pick(s, 0, (uint32_t)(sale->amount_cents / 4));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct src s = {data, size, size > 0 && (data[0] & 7) == 0};
    struct rules_program p;
    struct rules_card c;
    struct rules_sale sale;
    struct rules_result r;
    struct rules_refund rf;
    struct rules_refund_result full, a, b;
    int64_t sum = 0, split;

    build(&s, &p, &c, &sale);
    if (rules_earn(&p, &c, &sale, &r) != LEAL_OK)
        return 0;
    for (unsigned i = 0; i < r.n_lines; i++) {
        if (r.lines[i].points <= 0)
            __builtin_trap();
        sum += r.lines[i].points;
    }
    if (sum != r.points || r.earned.points != r.points ||
        r.after.points != c.state.points + (uint64_t)r.points || r.after.seq != c.state.seq)
        __builtin_trap();
    {
        uint32_t w = 0;
        for (unsigned i = 0; i < STATE_BUCKETS; i++)
            w += r.after.buckets[i];
        if (r.after.tier != rules_tier_for(&p, w))
            __builtin_trap();
    }
    if (sale.amount_cents == 0)
        return 0;

    memset(&rf, 0, sizeof rf);
    rf.original = r.earned;
    rf.refund_cents = sale.amount_cents;
    rf.local = sale.local;
    if (rules_refund(&p, &r.after, &rf, &full) != LEAL_OK)
        __builtin_trap();
    if (full.points_back != r.points || full.points_short != 0 ||
        full.after.points != c.state.points || full.units_back != r.earned.units)
        __builtin_trap();
    for (unsigned i = 0; i < p.n_stamps; i++)
        if (c.state.stamps[i] < p.stamps[i].goal &&
            (full.after.stamps[i] != c.state.stamps[i] || full.stamps_short[i] != 0 ||
             full.rewards_reversed[i] != r.earned.rewards[i]))
            __builtin_trap();

    /* the same refund in two parts */
    split = (int64_t)(take(&s, 4) % (uint64_t)sale.amount_cents);
    if (split == 0)
        return 0;
    rf.refund_cents = split;
    if (rules_refund(&p, &r.after, &rf, &a) != LEAL_OK)
        __builtin_trap();
    rf.already_refunded_cents = split;
    rf.refund_cents = sale.amount_cents - split;
    if (rules_refund(&p, &a.after, &rf, &b) != LEAL_OK)
        __builtin_trap();
    if (a.points_back + b.points_back != full.points_back ||
        a.units_back + b.units_back != full.units_back || b.after.points != full.after.points)
        __builtin_trap();
    for (unsigned i = 0; i < STATE_BUCKETS; i++)
        if (b.after.buckets[i] != full.after.buckets[i])
            __builtin_trap();
    for (unsigned i = 0; i < p.n_stamps; i++)
        if (c.state.stamps[i] < p.stamps[i].goal && b.after.stamps[i] != full.after.stamps[i])
            __builtin_trap();
    return 0;
}
