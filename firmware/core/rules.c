/* rules.c - the rules engine (rules.h; the spec is RULES.md). */
#include "rules.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/bytes.h"

leal_err rules_points_for_spend(int64_t spend_cents, int64_t rate_milli, int64_t *points)
{
    int64_t p;
    *points = 0;
    if (rate_milli < 0)
        return LEAL_E_ARG;
    if (__builtin_mul_overflow(spend_cents, rate_milli, &p))
        return LEAL_E_AMOUNT_RANGE;
    /* cents * (points/1000 per euro) / 100 cents per euro; C division truncates
     * toward zero: floor for earning, symmetric for refunds. */
    *points = p / 100000;
    return LEAL_OK;
}

/* floor(spend * rate * (m - 1000) / 1e8): the extra a multiplier m (milli) adds
 * over the base rate, from the same spend. Bounds checked by the callers keep
 * this under 2^63; the overflow checks make sure. */
static leal_err extra_for(int64_t spend, int64_t rate, uint32_t m, int64_t *pts)
{
    int64_t a, b;
    *pts = 0;
    if (m <= 1000)
        return LEAL_OK;
    if (__builtin_mul_overflow(spend, rate, &a) || __builtin_mul_overflow(a, (int64_t)m - 1000, &b))
        return LEAL_E_AMOUNT_RANGE;
    *pts = b / 100000000;
    return LEAL_OK;
}

/* ---- civil time ---- */

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
    static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29u : d[m - 1];
}

leal_err rules_civil_days(const struct rules_civil *c, uint32_t *days)
{
    unsigned y, m;
    uint32_t n = 0;
    *days = 0;
    if (c == NULL)
        return LEAL_E_ARG;
    y = c->year;
    m = c->month;
    if (y < RULES_MIN_YEAR || y > RULES_MAX_YEAR || m < 1 || m > 12 || c->day < 1 ||
        c->day > month_days(y, m) || c->hour > 23 || c->minute > 59 || c->second > 59)
        return LEAL_E_RULES_SALE;
    /* 2000-01-01 is day 10957; count whole years then months (at most 200 + 11 steps). */
    n = 10957;
    for (unsigned i = 2000; i < y; i++)
        n += leap(i) ? 366u : 365u;
    for (unsigned i = 1; i < m; i++)
        n += month_days(y, i);
    *days = n + c->day - 1u;
    return LEAL_OK;
}

uint16_t rules_period(const struct rules_civil *c)
{
    return (uint16_t)((c->year - 2000u) * 12u + c->month);
}

/* Monday 0 .. Sunday 6; 1970-01-01 was a Thursday. */
static unsigned weekday(uint32_t days)
{
    return (days + 3u) % 7u;
}

/* ---- program check ---- */

static leal_err check_rule(const struct rules_rule *r)
{
    if (r->id == 0 || (r->combine != RULES_STACK && r->combine != RULES_BEST))
        return LEAL_E_RULES_PROGRAM;
    if (r->kind == RULES_MULTIPLIER) {
        if (r->multiplier_milli <= 1000 || r->multiplier_milli > RULES_MAX_MULTIPLIER ||
            r->bonus_points != 0)
            return LEAL_E_RULES_PROGRAM;
    } else if (r->kind == RULES_BONUS) {
        if (r->bonus_points == 0 || r->bonus_points > RULES_MAX_BONUS || r->multiplier_milli != 0)
            return LEAL_E_RULES_PROGRAM;
    } else {
        return LEAL_E_RULES_PROGRAM;
    }
    if (r->from_day != 0 && r->to_day != 0 && r->from_day > r->to_day)
        return LEAL_E_RULES_PROGRAM;
    if (r->weekdays > 0x7F || r->start_minute > 1440 || r->end_minute > 1440)
        return LEAL_E_RULES_PROGRAM;
    if (r->n_stores > RULES_MAX_RULE_STORES || r->n_categories > RULES_MAX_RULE_CATS)
        return LEAL_E_RULES_PROGRAM;
    for (unsigned i = 0; i < r->n_categories; i++)
        if (r->categories[i] == 0)
            return LEAL_E_RULES_PROGRAM;
    if (r->min_spend_cents < 0 || r->min_spend_cents > RULES_MAX_SALE_CENTS ||
        r->cap_per_sale > RULES_MAX_BONUS || r->cap_per_day > RULES_MAX_BONUS)
        return LEAL_E_RULES_PROGRAM;
    return LEAL_OK;
}

static leal_err fault(struct rules_problem *where, uint8_t part, unsigned index)
{
    where->part = part;
    where->index = (uint8_t)index;
    return LEAL_E_RULES_PROGRAM;
}

leal_err rules_program_problem(const struct rules_program *p, struct rules_problem *where)
{
    if (where == NULL)
        return LEAL_E_ARG;
    where->part = RULES_PART_NONE;
    where->index = 0;
    if (p == NULL)
        return LEAL_E_ARG;
    if (p->rate_milli < 0 || p->rate_milli > RULES_MAX_RATE_MILLI ||
        p->welcome_points > RULES_MAX_BONUS || p->n_tiers > RULES_MAX_TIERS ||
        p->n_rules > RULES_MAX_RULES || p->n_stamps > RULES_STAMP_CARDS ||
        p->n_rewards > RULES_MAX_REWARDS)
        return fault(where, RULES_PART_PROGRAM, 0);
    for (unsigned i = 0; i < p->n_tiers; i++) {
        const struct rules_tier *t = &p->tiers[i];
        if (t->threshold_units == 0 ||
            (i > 0 && t->threshold_units <= p->tiers[i - 1].threshold_units) ||
            t->multiplier_milli < 1000 || t->multiplier_milli > RULES_MAX_MULTIPLIER)
            return fault(where, RULES_PART_TIER, i);
    }
    for (unsigned i = 0; i < p->n_rules; i++) {
        if (check_rule(&p->rules[i]) != LEAL_OK)
            return fault(where, RULES_PART_RULE, i);
        for (unsigned j = 0; j < i; j++)
            if (p->rules[j].id == p->rules[i].id)
                return fault(where, RULES_PART_RULE, i);
    }
    for (unsigned i = 0; i < p->n_stamps; i++) {
        const struct rules_stamp *s = &p->stamps[i];
        if ((s->per != RULES_STAMP_PER_SALE && s->per != RULES_STAMP_PER_ITEM) || s->goal < 2 ||
            s->min_spend_cents < 0 || s->min_spend_cents > RULES_MAX_SALE_CENTS)
            return fault(where, RULES_PART_STAMP, i);
    }
    for (unsigned i = 0; i < p->n_rewards; i++) {
        const struct rules_reward *w = &p->rewards[i];
        if (w->id == 0 || w->cost_points == 0 || w->min_tier > p->n_tiers || w->value < 0)
            return fault(where, RULES_PART_REWARD, i);
        if (w->kind == RULES_REWARD_PERCENT) {
            if (w->value < 1 || w->value > 10000)
                return fault(where, RULES_PART_REWARD, i);
        } else if (w->kind == RULES_REWARD_VOUCHER || w->kind == RULES_REWARD_CASHBACK) {
            if (w->value < 1 || w->value > RULES_MAX_SALE_CENTS)
                return fault(where, RULES_PART_REWARD, i);
        } else if (w->kind != RULES_REWARD_PRODUCT) {
            return fault(where, RULES_PART_REWARD, i);
        }
        for (unsigned j = 0; j < i; j++)
            if (p->rewards[j].id == w->id)
                return fault(where, RULES_PART_REWARD, i);
    }
    return LEAL_OK;
}

leal_err rules_program_check(const struct rules_program *p)
{
    struct rules_problem where;
    return rules_program_problem(p, &where);
}

/* ---- tiers and buckets ---- */

uint8_t rules_tier_for(const struct rules_program *p, uint32_t window_units)
{
    uint8_t t = 0;
    for (unsigned i = 0; i < p->n_tiers && i < RULES_MAX_TIERS; i++)
        if (window_units >= p->tiers[i].threshold_units)
            t = (uint8_t)(i + 1);
    return t;
}

static uint32_t window_units(const struct state_body *s)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < STATE_BUCKETS; i++)
        sum += s->buckets[i];
    return sum;
}

/* Move bucket 0 to period `to` when it is later than the card's (a card that
 * never earned, period 0, starts there with empty buckets). Never backwards:
 * a sale dated before the card's period lands in an older bucket. */
static void roll(struct state_body *s, uint16_t to)
{
    unsigned shift;
    if (s->period == 0) {
        leal_memset(s->buckets, 0, sizeof s->buckets);
        s->period = to;
        return;
    }
    if (to <= s->period)
        return;
    shift = (unsigned)(to - s->period);
    for (unsigned i = STATE_BUCKETS; i-- > 0;)
        s->buckets[i] = i >= shift ? s->buckets[i - shift] : (uint16_t)0;
    s->period = to;
}

/* ---- earning ---- */

static leal_err check_sale(const struct rules_sale *sale, uint32_t *days)
{
    int64_t sum = 0;
    leal_err e = rules_civil_days(&sale->local, days);
    if (e != LEAL_OK)
        return e;
    if (sale->amount_cents < 0 || sale->amount_cents > RULES_MAX_SALE_CENTS ||
        sale->n_items > RULES_MAX_ITEMS)
        return LEAL_E_RULES_SALE;
    for (unsigned i = 0; i < sale->n_items; i++) {
        const struct rules_item *it = &sale->items[i];
        if (it->category == 0 || it->quantity == 0 || it->amount_cents < 0 ||
            it->amount_cents > RULES_MAX_SALE_CENTS)
            return LEAL_E_RULES_SALE;
        sum += it->amount_cents;
    }
    return sum <= sale->amount_cents ? LEAL_OK : LEAL_E_RULES_SALE;
}

static bool has_category(const uint16_t *cats, unsigned n, uint16_t c)
{
    for (unsigned i = 0; i < n; i++)
        if (cats[i] == c)
            return true;
    return false;
}

/* Does rule r apply to this sale (date, weekday, time, store)? RULES_APPLIED or why not. */
static uint8_t rule_matches(const struct rules_rule *r, const struct rules_sale *sale,
                            uint32_t days)
{
    uint32_t sec = sale->local.hour * 3600u + sale->local.minute * 60u + sale->local.second;
    uint32_t start = r->start_minute * 60u, end = r->end_minute * 60u;
    if ((r->from_day != 0 && days < r->from_day) || (r->to_day != 0 && days > r->to_day))
        return RULES_NOT_DATE;
    if (r->weekdays != 0 && !(r->weekdays & (1u << weekday(days))))
        return RULES_NOT_WEEKDAY;
    if (start < end && !(sec >= start && sec < end))
        return RULES_NOT_TIME;
    if (start > end && !(sec >= start || sec < end))
        return RULES_NOT_TIME;
    if (r->n_stores > 0) {
        bool found = false;
        for (unsigned i = 0; i < r->n_stores; i++)
            found = found || r->stores[i] == sale->store_id;
        if (!found)
            return RULES_NOT_STORE;
    }
    return RULES_APPLIED;
}

/* The rule's points before caps, or a status saying why none. */
static leal_err rule_points(const struct rules_program *p, const struct rules_rule *r,
                            const struct rules_sale *sale, uint32_t days, int64_t *pts,
                            uint8_t *status)
{
    int64_t q = 0;
    *pts = 0;
    *status = rule_matches(r, sale, days);
    if (*status != RULES_APPLIED)
        return LEAL_OK;
    if (r->n_categories == 0) {
        q = sale->amount_cents;
    } else {
        bool any = false;
        for (unsigned i = 0; i < sale->n_items; i++)
            if (has_category(r->categories, r->n_categories, sale->items[i].category)) {
                q += sale->items[i].amount_cents;
                any = true;
            }
        if (!any) {
            *status = RULES_NO_CATEGORY;
            return LEAL_OK;
        }
    }
    if (q < r->min_spend_cents || q == 0) {
        *status = RULES_BELOW_MIN;
        return LEAL_OK;
    }
    if (r->kind == RULES_BONUS) {
        *pts = r->bonus_points;
        return LEAL_OK;
    }
    return extra_for(q, p->rate_milli, r->multiplier_milli, pts);
}

static void apply_caps(const struct rules_rule *r, uint32_t today, int64_t *pts, uint8_t *status)
{
    int64_t want = *pts;
    if (r->cap_per_sale != 0 && *pts > (int64_t)r->cap_per_sale)
        *pts = r->cap_per_sale;
    if (r->cap_per_day != 0) {
        int64_t room = today >= r->cap_per_day ? 0 : (int64_t)r->cap_per_day - today;
        if (*pts > room)
            *pts = room;
    }
    if (want > 0 && *pts == 0)
        *status = RULES_CAP_REACHED;
    else if (*pts < want)
        *status = RULES_CAPPED;
    else if (want == 0)
        *status = RULES_NOTHING;
}

static void add_line(struct rules_result *out, uint8_t source, uint8_t index, uint32_t id,
                     int64_t pts)
{
    struct rules_line *l;
    if (pts <= 0 || out->n_lines >= RULES_MAX_LINES)
        return;
    l = &out->lines[out->n_lines++];
    l->source = source;
    l->rule_index = index;
    l->id = id;
    l->points = pts;
    out->points += pts;
}

static uint32_t stamps_for(const struct rules_stamp *s, const struct rules_sale *sale)
{
    uint32_t n = 0;
    int64_t q = 0;
    if (s->per == RULES_STAMP_PER_ITEM) {
        for (unsigned i = 0; i < sale->n_items; i++)
            if (s->category == 0 || sale->items[i].category == s->category)
                n += sale->items[i].quantity;
        return n;
    }
    if (s->category == 0) {
        q = sale->amount_cents;
    } else {
        for (unsigned i = 0; i < sale->n_items; i++)
            if (sale->items[i].category == s->category)
                q += sale->items[i].amount_cents;
    }
    return q > 0 && q >= s->min_spend_cents ? 1u : 0u;
}

/* Base points, the tier's extra and the welcome, as lines of r. */
static leal_err earn_base(const struct rules_program *p, const struct rules_card *card,
                          const struct rules_sale *sale, uint8_t tier, struct rules_result *r)
{
    int64_t base, tier_extra;
    leal_err e;

    if ((e = rules_points_for_spend(sale->amount_cents, p->rate_milli, &base)) != LEAL_OK)
        return e;
    add_line(r, RULES_LINE_BASE, 0, 0, base);
    if (tier > 0) {
        e = extra_for(sale->amount_cents, p->rate_milli, p->tiers[tier - 1].multiplier_milli,
                      &tier_extra);
        if (e != LEAL_OK)
            return e;
        add_line(r, RULES_LINE_TIER, 0, tier, tier_extra);
    }
    if (card->state.period == 0 && sale->amount_cents > 0)
        add_line(r, RULES_LINE_WELCOME, 0, 0, p->welcome_points);
    return LEAL_OK;
}

/* Each rule alone, capped; then best-only rules compete, stacking rules add. */
static leal_err earn_rules(const struct rules_program *p, const struct rules_card *card,
                           const struct rules_sale *sale, uint32_t days, struct rules_result *r)
{
    int64_t pts[RULES_MAX_RULES];
    int best = -1;
    leal_err e;

    for (unsigned i = 0; i < p->n_rules; i++) {
        const struct rules_rule *rule = &p->rules[i];
        e = rule_points(p, rule, sale, days, &pts[i], &r->status[i]);
        if (e != LEAL_OK)
            return e;
        if (r->status[i] == RULES_APPLIED)
            apply_caps(rule, card->rule_points_today[i], &pts[i], &r->status[i]);
        if (rule->combine == RULES_BEST && pts[i] > 0 && (best < 0 || pts[i] > pts[best]))
            best = (int)i;
    }
    for (unsigned i = 0; i < p->n_rules; i++) {
        if (p->rules[i].combine == RULES_BEST && pts[i] > 0 && (int)i != best) {
            r->status[i] = RULES_OUTRANKED;
            continue;
        }
        add_line(r, RULES_LINE_RULE, (uint8_t)i, p->rules[i].id, pts[i]);
    }
    return LEAL_OK;
}

/* Stamps: given, rewards at the goal, the remainder stays on the card. */
static leal_err earn_stamps(const struct rules_program *p, const struct rules_card *card,
                            const struct rules_sale *sale, struct rules_result *r)
{
    for (unsigned i = 0; i < p->n_stamps; i++) {
        const struct rules_stamp *s = &p->stamps[i];
        uint32_t given = stamps_for(s, sale);
        uint32_t total = card->state.stamps[i] + given;
        if (given > 0xFFFFu)
            return LEAL_E_RULES_CARD_FULL;
        r->earned.stamps[i] = (uint16_t)given;
        if (given == 0)
            continue; /* untouched, even a count over a goal lowered since */
        r->earned.rewards[i] = (uint16_t)(total / s->goal);
        r->after.stamps[i] = (uint8_t)(total % s->goal);
    }
    return LEAL_OK;
}

/* Points onto the card; spend into the sale's bucket; the new tier. */
static leal_err earn_onto_card(const struct rules_program *p, const struct rules_card *card,
                               const struct rules_sale *sale, uint16_t period,
                               struct rules_result *r)
{
    uint16_t units;

    if (r->points > (int64_t)UINT32_MAX - card->state.points)
        return LEAL_E_RULES_CARD_FULL;
    r->after.points = card->state.points + (uint32_t)r->points;
    units = (uint16_t)(sale->amount_cents / 100 > 0xFFFF ? 0xFFFF : sale->amount_cents / 100);
    if (period != 0 && period <= r->after.period && r->after.period - period < STATE_BUCKETS) {
        unsigned idx = (unsigned)(r->after.period - period);
        uint32_t room = 0xFFFFu - r->after.buckets[idx];
        if (units > room)
            units = (uint16_t)room; /* a full bucket stays full; the refund takes back units */
        r->after.buckets[idx] = (uint16_t)(r->after.buckets[idx] + units);
    } else {
        units = 0; /* dated before the card's window: no bucket holds it */
    }
    r->after.tier = rules_tier_for(p, window_units(&r->after));

    r->earned.amount_cents = sale->amount_cents;
    r->earned.points = r->points;
    r->earned.period = period;
    r->earned.units = units;
    return LEAL_OK;
}

/* Worked out in *out itself (no second rules_result on the stack: a
 * terminal's earn is its deepest use of it), zeroed again on an error. */
leal_err rules_earn(const struct rules_program *p, const struct rules_card *card,
                    const struct rules_sale *sale, struct rules_result *out)
{
    uint32_t days;
    uint16_t period;
    leal_err e;

    if (out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if (p == NULL || card == NULL || sale == NULL)
        return LEAL_E_ARG;
    if ((e = rules_program_check(p)) != LEAL_OK || (e = check_sale(sale, &days)) != LEAL_OK)
        return e;
    out->after = card->state;
    period = rules_period(&sale->local);

    /* The tier this sale earns at: from the buckets rolled to the sale's period. */
    if (sale->amount_cents > 0 || out->after.period != 0)
        roll(&out->after, period); /* a 0.00 sale leaves a new card new (welcome still due) */
    out->tier_before = rules_tier_for(p, window_units(&out->after));

    if ((e = earn_base(p, card, sale, out->tier_before, out)) != LEAL_OK ||
        (e = earn_rules(p, card, sale, days, out)) != LEAL_OK ||
        (e = earn_stamps(p, card, sale, out)) != LEAL_OK ||
        (e = earn_onto_card(p, card, sale, period, out)) != LEAL_OK) {
        leal_memset(out, 0, sizeof *out);
        return e;
    }
    return LEAL_OK;
}

/* ---- refunds ---- */

/* The share of x for refunded cents [already, already + now) of amount:
 * floor(x * (already + now) / amount) - floor(x * already / amount), so the
 * shares of refunds that add up to the whole sale add up to x exactly. */
static int64_t share(int64_t x, int64_t already, int64_t now, int64_t amount)
{
    if (amount <= 0)
        return x;
    return x * (already + now) / amount - x * already / amount;
}

leal_err rules_refund(const struct rules_program *p, const struct state_body *card,
                      const struct rules_refund *rf, struct rules_refund_result *out)
{
    struct rules_refund_result r;
    const struct rules_earned *o;
    uint32_t days;
    uint16_t period;
    int64_t pts;
    leal_err e;

    if (out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if (p == NULL || card == NULL || rf == NULL)
        return LEAL_E_ARG;
    if ((e = rules_program_check(p)) != LEAL_OK ||
        (e = rules_civil_days(&rf->local, &days)) != LEAL_OK)
        return e;
    o = &rf->original;
    if (o->amount_cents < 0 || o->amount_cents > RULES_MAX_SALE_CENTS || o->points < 0 ||
        o->points > (int64_t)UINT32_MAX || rf->already_refunded_cents < 0 || rf->refund_cents <= 0)
        return LEAL_E_RULES_REFUND;
    if (rf->already_refunded_cents > o->amount_cents ||
        rf->refund_cents > o->amount_cents - rf->already_refunded_cents)
        return LEAL_E_RULES_REFUND;

    leal_memset(&r, 0, sizeof r);
    r.after = *card;
    period = rules_period(&rf->local);
    if (r.after.period != 0)
        roll(&r.after, period);

    pts = share(o->points, rf->already_refunded_cents, rf->refund_cents, o->amount_cents);
    r.points_back = pts > (int64_t)r.after.points ? (int64_t)r.after.points : pts;
    r.points_short = pts - r.points_back;
    r.after.points -= (uint32_t)r.points_back;

    if (o->period != 0 && o->period <= r.after.period &&
        r.after.period - o->period < STATE_BUCKETS) {
        unsigned idx = (unsigned)(r.after.period - o->period);
        int64_t u = share(o->units, rf->already_refunded_cents, rf->refund_cents, o->amount_cents);
        if (u > r.after.buckets[idx])
            u = r.after.buckets[idx];
        r.units_back = (uint16_t)u;
        r.after.buckets[idx] = (uint16_t)(r.after.buckets[idx] - u);
    }

    for (unsigned i = 0; i < p->n_stamps && i < RULES_STAMP_CARDS; i++) {
        int64_t back =
            share(o->stamps[i], rf->already_refunded_cents, rf->refund_cents, o->amount_cents);
        int64_t c = (int64_t)r.after.stamps[i] - back;
        unsigned reversed = 0;
        while (c < 0 && reversed < o->rewards[i]) {
            c += p->stamps[i].goal;
            reversed++;
        }
        r.stamps_back[i] = (uint16_t)back;
        r.rewards_reversed[i] = (uint16_t)reversed;
        if (c < 0) {
            r.stamps_short[i] = (uint16_t)-c;
            c = 0;
        }
        r.after.stamps[i] = (uint8_t)c;
    }
    r.after.tier = rules_tier_for(p, window_units(&r.after));
    *out = r;
    return LEAL_OK;
}

/* ---- rewards and bonos ---- */

leal_err rules_redeem(const struct rules_program *p, const struct state_body *card,
                      uint32_t reward_id, int64_t sale_cents, struct rules_redeemed *out)
{
    const struct rules_reward *w = NULL;
    struct rules_redeemed r;
    leal_err e;

    if (out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if (p == NULL || card == NULL)
        return LEAL_E_ARG;
    if ((e = rules_program_check(p)) != LEAL_OK)
        return e;
    for (unsigned i = 0; i < p->n_rewards; i++)
        if (p->rewards[i].id == reward_id)
            w = &p->rewards[i];
    if (w == NULL || reward_id == 0)
        return LEAL_E_RULES_REWARD;
    if (w->min_tier > card->tier)
        return LEAL_E_RULES_TIER;
    if (card->points < w->cost_points)
        return LEAL_E_RULES_POINTS;
    if (w->kind == RULES_REWARD_PERCENT && (sale_cents <= 0 || sale_cents > RULES_MAX_SALE_CENTS))
        return LEAL_E_RULES_SALE;
    leal_memset(&r, 0, sizeof r);
    r.kind = w->kind;
    r.after = *card;
    r.after.points -= w->cost_points;
    switch (w->kind) {
    case RULES_REWARD_PRODUCT:
        r.product_id = w->value;
        break;
    case RULES_REWARD_VOUCHER:
        r.discount_cents = w->value;
        break;
    case RULES_REWARD_PERCENT:
        r.discount_cents = sale_cents * w->value / 10000; /* floor: never over the percentage */
        break;
    default:
        r.cashback_cents = w->value;
        break;
    }
    *out = r;
    return LEAL_OK;
}

leal_err rules_bono_use(uint16_t sessions_left, uint32_t expires_day,
                        const struct rules_civil *local, uint16_t *left_after)
{
    uint32_t days;
    leal_err e;
    if (left_after == NULL)
        return LEAL_E_ARG;
    *left_after = sessions_left;
    if ((e = rules_civil_days(local, &days)) != LEAL_OK)
        return e;
    if (expires_day != 0 && days > expires_day)
        return LEAL_E_RULES_BONO_EXPIRED;
    if (sessions_left == 0)
        return LEAL_E_RULES_BONO_EMPTY;
    *left_after = (uint16_t)(sessions_left - 1);
    return LEAL_OK;
}
