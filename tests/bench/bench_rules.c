/*
 * bench_rules.c - rule evaluations per second (issue 12): rules_earn on a full
 * program (16 rules of every kind, some best-only, with windows, stores,
 * categories and caps; 7 tiers; 4 stamp cards; a sale of 8 category lines)
 * against the same-run reference of a base-rate-only program on a plain sale.
 * Runs are interleaved (A B A B) and the median of each side is taken.
 * Prints evaluations per second of each and the ratio full / base.
 * Environment: LEAL_BENCH_RULES_EVALS (200000 per run), LEAL_BENCH_RULES_RUNS (7).
 * Reports only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firmware/core/rules.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static volatile int64_t sink;

/* Evaluations per second over n evaluations (the sale's cents vary so nothing is hoisted). */
static double run(const struct rules_program *p, const struct rules_card *c,
                  struct rules_sale *sale, long n)
{
    struct rules_result r;
    int64_t base = sale->amount_cents;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        sale->amount_cents = base + (i & 63);
        if (rules_earn(p, c, sale, &r) != LEAL_OK) {
            fprintf(stderr, "bench_rules: rules_earn refused the bench's own sale\n");
            exit(1);
        }
        sink += r.points;
    }
    sale->amount_cents = base;
    return (double)n / (now_s() - t0);
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    long x = v ? strtol(v, NULL, 10) : 0;
    return x > 0 ? x : def;
}

int main(void)
{
    static struct rules_program base, full;
    static struct rules_card card;
    static struct rules_sale plain, rich;
    long n = env_long("LEAL_BENCH_RULES_EVALS", 200000);
    long runs = env_long("LEAL_BENCH_RULES_RUNS", 7);
    double *a = calloc((size_t)runs, sizeof *a), *b = calloc((size_t)runs, sizeof *b);
    if (a == NULL || b == NULL)
        return 1;

    base.rate_milli = 1200;
    full.rate_milli = 1200;
    full.welcome_points = 50;
    full.n_tiers = RULES_MAX_TIERS;
    for (unsigned i = 0; i < RULES_MAX_TIERS; i++)
        full.tiers[i] = (struct rules_tier){100u * (i + 1), 1000u + 100u * (i + 1)};
    full.n_rules = RULES_MAX_RULES;
    for (unsigned i = 0; i < RULES_MAX_RULES; i++) {
        struct rules_rule *r = &full.rules[i];
        r->id = i + 1;
        r->combine = i % 3 == 0 ? RULES_BEST : RULES_STACK;
        if (i % 2 == 0) {
            r->kind = RULES_MULTIPLIER;
            r->multiplier_milli = 1500 + 100 * i;
        } else {
            r->kind = RULES_BONUS;
            r->bonus_points = 5 + i;
        }
        r->weekdays = (uint8_t)(i % 4 == 0 ? 0x7F : 0x1F);
        r->start_minute = (uint16_t)(i % 5 == 0 ? 0 : 8 * 60);
        r->end_minute = (uint16_t)(i % 5 == 0 ? 0 : 22 * 60);
        r->n_stores = (uint8_t)(i % 2);
        r->stores[0] = 1;
        r->n_categories = (uint8_t)(i % 3 == 1 ? 2 : 0);
        r->categories[0] = 3;
        r->categories[1] = 5;
        r->min_spend_cents = i % 4 == 3 ? 1000 : 0;
        r->cap_per_sale = i % 5 == 2 ? 50 : 0;
        r->cap_per_day = i % 7 == 3 ? 200 : 0;
    }
    full.n_stamps = RULES_STAMP_CARDS;
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++)
        full.stamps[i] =
            (struct rules_stamp){(uint8_t)(i % 2 ? RULES_STAMP_PER_SALE : RULES_STAMP_PER_ITEM),
                                 (uint16_t)(i + 2), 10, i + 1, 500};
    card.state.points = 1234;
    card.state.period = 324;
    card.state.buckets[0] = 120;
    card.state.buckets[1] = 90;
    plain.amount_cents = 4250;
    plain.store_id = 1;
    plain.local = (struct rules_civil){2026, 12, 1, 17, 30, 0};
    rich = plain;
    rich.n_items = 8;
    for (unsigned i = 0; i < 8; i++)
        rich.items[i] = (struct rules_item){(uint16_t)(i + 1), (uint16_t)(1 + i % 3), 500};

    for (long k = 0; k < runs; k++) {
        a[k] = run(&base, &card, &plain, n);
        b[k] = run(&full, &card, &rich, n);
    }
    qsort(a, (size_t)runs, sizeof *a, cmp_double);
    qsort(b, (size_t)runs, sizeof *b, cmp_double);
    printf(
        "rules_earn, base rate only (reference): %.0f evaluations/s (median of %ld runs of %ld)\n",
        a[runs / 2], runs, n);
    printf("rules_earn, 16 rules + 7 tiers + 4 stamp cards, 8 items: %.0f evaluations/s\n",
           b[runs / 2]);
    printf("ratio full / base-only: %.3f\n", b[runs / 2] / a[runs / 2]);
    free(a);
    free(b);
    return 0;
}
