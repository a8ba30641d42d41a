/*
 * rules.h - the rules engine: what a sale earns on a card under a program's rules
 * (points, tier, stamps, rewards), what a refund takes back, rewards redeemed
 * and bono sessions used. One engine for the host and for offline terminals:
 * pure functions of their inputs (same input, same output, no clock, no
 * globals), plain caller-owned structs, no allocation. Freestanding.
 * The spec, with examples, is firmware/core/RULES.md.
 * Time is the store's local civil time as the caller converted it (DST is the
 * caller's conversion; the engine compares wall-clock readings).
 * Errors: LEAL_E_ARG (NULL), LEAL_E_RULES_PROGRAM, LEAL_E_RULES_SALE,
 * LEAL_E_RULES_POINTS, LEAL_E_RULES_TIER, LEAL_E_RULES_REWARD,
 * LEAL_E_RULES_BONO_EMPTY, LEAL_E_RULES_BONO_EXPIRED, LEAL_E_RULES_REFUND,
 * LEAL_E_RULES_CARD_FULL, LEAL_E_AMOUNT_RANGE. On error *out is zeroed: nothing
 * half computed is ever returned.
 */
#ifndef LEAL_RULES_H
#define LEAL_RULES_H

#include <stdint.h>

#include "cardlayout/records/state.h"
#include "keys/base/err.h"

#define RULES_MAX_TIERS 7                     /* tiers 1..7 on the card; 0 = none */
#define RULES_MAX_RULES 16                    /* earning rules per program */
#define RULES_MAX_RULE_STORES 8               /* stores a rule names (0 = every store) */
#define RULES_MAX_RULE_CATS 8                 /* categories a rule names (0 = the whole sale) */
#define RULES_MAX_ITEMS 16                    /* category lines in one sale */
#define RULES_STAMP_CARDS 4                   /* stamp cards per program (STATE_STAMPS) */
#define RULES_MAX_REWARDS 16                  /* catalogue entries */
#define RULES_MAX_LINES (3 + RULES_MAX_RULES) /* base, tier, welcome, one per rule */

#define RULES_MAX_SALE_CENTS 100000000LL /* 1000000.00 in one sale */
#define RULES_MAX_RATE_MILLI 1000000LL   /* 1000 points per euro */
#define RULES_MAX_MULTIPLIER 20000u      /* x20.000 (milli) */
#define RULES_MAX_BONUS 1000000u         /* fixed bonus, welcome, caps: points */
#define RULES_MIN_YEAR 2000
#define RULES_MAX_YEAR 2199

/* Local civil date and time of the sale in the store's zone (no zone, no DST flag). */
struct rules_civil {
    uint16_t year;          /* RULES_MIN_YEAR..RULES_MAX_YEAR */
    uint8_t month;          /* 1..12 */
    uint8_t day;            /* 1..days in month */
    uint8_t hour;           /* 0..23 */
    uint8_t minute, second; /* 0..59 */
};

struct rules_tier {
    uint32_t threshold_units;  /* whole euros spent over the card's 4-bucket window */
    uint32_t multiplier_milli; /* 1000 = base rate only, 1500 = base plus half */
};

enum rules_kind { RULES_MULTIPLIER = 1, RULES_BONUS = 2 };
enum rules_combine { RULES_STACK = 1, RULES_BEST = 2 };

struct rules_rule {
    uint32_t id;                       /* the program's name for it (lines carry it); not 0 */
    uint8_t kind;                      /* enum rules_kind */
    uint8_t combine;                   /* enum rules_combine */
    uint32_t multiplier_milli;         /* MULTIPLIER: 2000 = double points (adds base x 1.000) */
    uint32_t bonus_points;             /* BONUS: fixed points once per sale */
    uint32_t from_day, to_day;         /* local dates, days since 1970-01-01, inclusive; 0 = open */
    uint8_t weekdays;                  /* bit 0 Monday .. bit 6 Sunday; 0 = every day */
    uint16_t start_minute, end_minute; /* local [start, end) in minutes of the day; equal: all
                                          day; start > end runs past midnight */
    uint8_t n_stores;
    uint8_t n_categories; /* beside n_stores: no padding (a terminal holds 16 rules in RAM) */
    uint32_t stores[RULES_MAX_RULE_STORES];
    uint16_t categories[RULES_MAX_RULE_CATS];
    int64_t min_spend_cents; /* the qualifying spend must reach it */
    uint32_t cap_per_sale;   /* points this rule gives in one sale at most; 0 = no cap */
    uint32_t cap_per_day;    /* ... to one card in one local day; 0 = no cap */
};

enum rules_stamp_per { RULES_STAMP_PER_SALE = 1, RULES_STAMP_PER_ITEM = 2 };

struct rules_stamp {
    uint8_t per;             /* enum rules_stamp_per */
    uint16_t category;       /* 0 = any (per sale: the whole sale; per item: every item) */
    uint8_t goal;            /* N stamps give one reward (2..255) */
    uint32_t reward_id;      /* what the till hands over at N */
    int64_t min_spend_cents; /* per sale: the qualifying spend must reach it */
};

enum rules_reward_kind {
    RULES_REWARD_PRODUCT = 1,  /* value: the product id the till hands over */
    RULES_REWARD_VOUCHER = 2,  /* value: euro discount, cents */
    RULES_REWARD_PERCENT = 3,  /* value: discount on the sale, basis points (1..10000) */
    RULES_REWARD_CASHBACK = 4, /* value: cents accrued in the ledger, never on the card */
};

struct rules_reward {
    uint32_t id; /* not 0, unique in the catalogue */
    uint8_t kind;
    uint32_t cost_points; /* not 0 */
    int64_t value;
    uint8_t min_tier; /* 0 = everyone */
};

/* The counts side by side, before the lists: no padding after each. */
struct rules_program {
    int64_t rate_milli;      /* thousandths of a point per euro (1200 = 1,2 points/euro) */
    uint32_t welcome_points; /* on a card's first earn (state period 0: never welcomed) */
    uint8_t n_tiers, n_rules, n_stamps, n_rewards;
    struct rules_tier tiers[RULES_MAX_TIERS]; /* tier i+1; thresholds strictly ascending */
    struct rules_rule rules[RULES_MAX_RULES];
    struct rules_stamp stamps[RULES_STAMP_CARDS]; /* stamp card i is state.stamps[i] */
    struct rules_reward rewards[RULES_MAX_REWARDS];
};

struct rules_item {
    uint16_t category; /* not 0 */
    uint16_t quantity; /* 1.. */
    int64_t amount_cents;
};

struct rules_sale {
    int64_t amount_cents; /* what the customer paid: 0..RULES_MAX_SALE_CENTS */
    uint32_t store_id;
    struct rules_civil local;
    uint8_t n_items; /* items add up to at most amount_cents; the rest has no category */
    struct rules_item items[RULES_MAX_ITEMS];
};

/* The card as a tap finds it: its state body (LAYOUT.md 1.2) and, from the
 * caller's records, the points each rule already gave this card on the sale's
 * local day (zeros when none; only rules with cap_per_day read it). */
struct rules_card {
    struct state_body state;
    uint32_t rule_points_today[RULES_MAX_RULES];
};

enum rules_source {
    RULES_LINE_BASE = 1,
    RULES_LINE_TIER = 2,
    RULES_LINE_WELCOME = 3,
    RULES_LINE_RULE = 4
};

struct rules_line {
    uint8_t source;     /* enum rules_source */
    uint8_t rule_index; /* RULE: index in the program */
    uint32_t id;        /* RULE: rule id; TIER: tier number */
    int64_t points;     /* > 0 */
};

/* Why a rule gave what it gave (one per program rule). */
enum rules_status {
    RULES_APPLIED = 1,     /* gave its full points */
    RULES_CAPPED = 2,      /* gave less: a cap was reached in this sale */
    RULES_CAP_REACHED = 3, /* gave nothing: its cap was already reached */
    RULES_OUTRANKED = 4,   /* a best-only rule that another best-only rule beat */
    RULES_NOT_DATE = 5,
    RULES_NOT_WEEKDAY = 6,
    RULES_NOT_TIME = 7,
    RULES_NOT_STORE = 8,
    RULES_NO_CATEGORY = 9, /* no item of its categories in the sale */
    RULES_BELOW_MIN = 10,  /* qualifying spend under its minimum */
    RULES_NOTHING = 11,    /* matched, but its points round to 0 */
};

/* What a sale gave, kept by the caller (ledger entry, terminal journal) so
 * that a refund takes back exactly that. */
struct rules_earned {
    int64_t amount_cents;
    int64_t points;                      /* every line, welcome included */
    uint16_t period;                     /* the bucket's period */
    uint16_t units;                      /* whole euros added to that bucket */
    uint16_t stamps[RULES_STAMP_CARDS];  /* stamps given per stamp card */
    uint16_t rewards[RULES_STAMP_CARDS]; /* rewards granted per stamp card */
};

struct rules_result {
    int64_t points; /* sum of the lines */
    uint8_t n_lines;
    struct rules_line lines[RULES_MAX_LINES];
    uint8_t status[RULES_MAX_RULES];
    uint8_t tier_before;     /* from the buckets rolled to the sale: the tier this sale earns at */
    struct state_body after; /* the new state; seq as given (the card writer steps it) */
    struct rules_earned earned;
};

struct rules_refund {
    struct rules_earned original;
    int64_t already_refunded_cents; /* earlier refunds of the same sale */
    int64_t refund_cents;           /* this refund, 1..what is left */
    struct rules_civil local;       /* when (rolls the buckets) */
};

struct rules_refund_result {
    int64_t points_back;  /* taken off the card */
    int64_t points_short; /* owed beyond what the card holds (spent since) */
    uint16_t units_back;  /* taken off the sale's bucket (0 once it left the window) */
    uint16_t stamps_back[RULES_STAMP_CARDS];
    uint16_t rewards_reversed[RULES_STAMP_CARDS]; /* stamp rewards already handed over */
    uint16_t stamps_short[RULES_STAMP_CARDS];
    struct state_body after;
};

struct rules_redeemed {
    uint8_t kind;           /* enum rules_reward_kind */
    int64_t product_id;     /* PRODUCT */
    int64_t discount_cents; /* VOUCHER, PERCENT: what the till takes off */
    int64_t cashback_cents; /* CASHBACK: for the ledger to hold until the desk loads it */
    struct state_body after;
};

/* floor(spend_cents * rate_milli / 100000): fractions of a point are never
 * credited; a negative spend (refund) rounds toward zero. The one rounding rule
 * (ledger_points_for_spend calls it). LEAL_E_ARG if rate_milli < 0,
 * LEAL_E_AMOUNT_RANGE if the product overflows. */
LEAL_MUST_CHECK leal_err rules_points_for_spend(int64_t spend_cents, int64_t rate_milli,
                                                int64_t *points);

/* LEAL_OK if the program is well formed, else LEAL_E_RULES_PROGRAM. */
LEAL_MUST_CHECK leal_err rules_program_check(const struct rules_program *p);

/* Which part of a program is at fault, so that a command can name it ("rule 3"). */
enum rules_part {
    RULES_PART_NONE = 0,
    RULES_PART_PROGRAM = 1, /* rate, welcome points or a count */
    RULES_PART_TIER = 2,
    RULES_PART_RULE = 3, /* includes a rule repeating an earlier rule's id */
    RULES_PART_STAMP = 4,
    RULES_PART_REWARD = 5, /* includes a reward repeating an earlier reward's id */
};

struct rules_problem {
    uint8_t part;  /* enum rules_part */
    uint8_t index; /* 0-based index of the first tier, rule, stamp card or reward at fault */
};

/* As rules_program_check; *where names the first part at fault (RULES_PART_NONE if none). */
LEAL_MUST_CHECK leal_err rules_program_problem(const struct rules_program *p,
                                               struct rules_problem *where);

/* Days since 1970-01-01 of a valid civil date; LEAL_E_RULES_SALE if the
 * date or time does not exist (Feb 30, 24:00, years outside 2000..2199). */
LEAL_MUST_CHECK leal_err rules_civil_days(const struct rules_civil *c, uint32_t *days);

/* The period index of a date: months since 2000-01, plus 1 (2000-01 is 1;
 * 0 is a card that never earned). */
uint16_t rules_period(const struct rules_civil *c);

/* The tier that spend over the window gives (0 = none). */
uint8_t rules_tier_for(const struct rules_program *p, uint32_t window_units);

/* A sale on a card: points with a line per contribution, the new state. */
LEAL_MUST_CHECK leal_err rules_earn(const struct rules_program *p, const struct rules_card *card,
                                    const struct rules_sale *sale, struct rules_result *out);

/* A refund (whole or part) of a sale that earned `original`. */
LEAL_MUST_CHECK leal_err rules_refund(const struct rules_program *p, const struct state_body *card,
                                      const struct rules_refund *r,
                                      struct rules_refund_result *out);

/* Redeem catalogue reward reward_id; sale_cents is the sale a PERCENT reward discounts. */
LEAL_MUST_CHECK leal_err rules_redeem(const struct rules_program *p, const struct state_body *card,
                                      uint32_t reward_id, int64_t sale_cents,
                                      struct rules_redeemed *out);

/* A bono: one session per tap, refused at zero and after its last day
 * (expires_day: days since 1970, inclusive; 0 = never). */
LEAL_MUST_CHECK leal_err rules_bono_use(uint16_t sessions_left, uint32_t expires_day,
                                        const struct rules_civil *local, uint16_t *left_after);

#endif
