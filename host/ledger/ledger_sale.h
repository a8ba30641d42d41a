/*
 * ledger_sale.h - an online sale and its refunds through the rules engine
 * (firmware/core/rules.h): the host side of what a tap does. The account's
 * rules state (points, stamps per stamp card, the tier's spend buckets, the
 * points each rule gave it on the sale's local day) is derived from the
 * ledger, never from card data; the engine's result is posted as one entry
 * (kind "earn": points as lots with the program's expiry, stamps as assets
 * STAMP:1..STAMP:4) and recorded per line, item and stamp card, so a refund
 * takes back exactly what the sale gave and `leal rules simulate` can replay
 * it. Each call is one transaction; a request id makes a retry post nothing
 * and say so. Times are converted to the store's zone with the tz database.
 * Hosted. Errors: as ledger.h, LEAL_E_RULES_* from the engine,
 * LEAL_E_TIMEZONE, LEAL_E_IDEMPOTENCY_CONFLICT, LEAL_E_RULES_REFUND (nothing
 * left to refund, or more than is left); ledger_errmsg() holds detail.
 */
#ifndef LEAL_LEDGER_SALE_H
#define LEAL_LEDGER_SALE_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/core/rules.h"
#include "ledger.h"

/* A sale's request id is at most this long (its entry's is "sale:" + it). */
#define LEDGER_SALE_MAX_REQUEST 120
#define LEDGER_CATEGORY_NAME 33 /* 1..32 of a-z 0-9 _ - and a NUL */

/* The civil reading of instant `at` (unix seconds) in zone tz (checked with
 * ledger_timezone_check): LEAL_E_TIMEZONE for a zone the tz database lacks,
 * LEAL_E_RULES_SALE for a year outside RULES_MIN_YEAR..RULES_MAX_YEAR. */
LEAL_MUST_CHECK leal_err ledger_local_civil(const char *tz, int64_t at, struct rules_civil *out);

/* ---- Categories: a program's names for the engine's numbered categories ---- */

/* code 0: the next free code. LEAL_E_DUPLICATE_ID if the name or code is
 * taken, LEAL_E_TEXT for a name that is not 1..32 of a-z 0-9 _ -. */
LEAL_MUST_CHECK leal_err ledger_category_add(struct ledger *l, int64_t program_id, const char *name,
                                             int64_t *code);
/* LEAL_E_UNKNOWN_ID (naming it) for a name the program does not define. */
LEAL_MUST_CHECK leal_err ledger_category_code(struct ledger *l, int64_t program_id,
                                              const char *name, uint16_t *code);
/* The name of a code ("" when the program has none for it). */
LEAL_MUST_CHECK leal_err ledger_category_name(struct ledger *l, int64_t program_id, uint16_t code,
                                              char name[LEDGER_CATEGORY_NAME]);
typedef int (*ledger_category_cb)(void *ctx, uint16_t code, const char *name);
LEAL_MUST_CHECK leal_err ledger_category_each(struct ledger *l, int64_t program_id,
                                              ledger_category_cb cb, void *ctx);

/* ---- Sales ---- */

struct ledger_sale_request {
    int64_t account_id; /* 0: the card's account */
    int64_t card_id;    /* 0: none (a sale on an account) */
    int64_t store_id;   /* required; its zone gives the local time */
    int64_t at;         /* unix seconds; 0: now (a retry then matches any time) */
    int64_t amount_cents;
    uint8_t n_items;
    struct rules_item items[RULES_MAX_ITEMS];
    const char *request_id; /* required, 1..LEDGER_SALE_MAX_REQUEST */
    const char *operator_name;
    const struct rules_program *rules; /* the program's rules (ledger_rules_load) */
    int64_t rules_version;             /* recorded with the sale; 0: none */
};

struct ledger_sale_result {
    int64_t sale_id;
    int64_t entry_id; /* 0: the sale earned nothing (no entry) */
    int64_t account_id;
    bool replayed;            /* the request id was posted before: nothing new */
    struct rules_civil local; /* the sale's local time at its store */
    struct rules_card before; /* the account's state as derived for the sale */
    struct rules_result r;    /* lines, statuses, tier, stamps, rewards, state after */
    /* Owed points (RULES.md 6) this sale settled first: the account was
     * credited r.points less these, and r.after.points is its balance after. */
    int64_t points_settled;
};

/* Posts a sale (see the top of this file). A replay fills sale_id,
 * entry_id, account_id, local and from r the lines, points, earned, tier
 * before and state after as first recorded (statuses are not kept). */
LEAL_MUST_CHECK leal_err ledger_sale_post(struct ledger *l, const struct ledger_sale_request *rq,
                                          struct ledger_sale_result *out);

/* The account's rules state for a sale at local time `local`, derived from
 * the ledger: PTS balance, STAMP:1..4 balances, spend buckets from the
 * recorded sales and refunds, the points each program rule gave the account
 * on local's date (what a rule gave counts against its daily cap even if
 * refunded since). */
LEAL_MUST_CHECK leal_err ledger_sale_state(struct ledger *l, const struct rules_program *p,
                                           int64_t account_id, const struct rules_civil *local,
                                           struct rules_card *out);

/* The period a card of the account carries (RULES.md 3: the newest a sale
 * or refund rolled to, or the month of a desk welcome): 0 when the account
 * was never welcomed and never earned, so the engine's welcome is still due.
 * What a new or replacement card is personalised with. */
LEAL_MUST_CHECK leal_err ledger_sale_period(struct ledger *l, int64_t account_id, uint16_t *period);

/* The period (months since 2000-01, plus 1) of UTC instant `at`; at least 1. */
uint16_t ledger_sale_utc_period(int64_t at);

/* The account's state body as it was before instant `before`: points and
 * stamps from the lines of entries dated before it, period and buckets from
 * the sales and refunds dated before it, the tier from p. What `leal rules
 * simulate` starts a period from. */
LEAL_MUST_CHECK leal_err ledger_sale_state_before(struct ledger *l, const struct rules_program *p,
                                                  int64_t account_id, int64_t before,
                                                  struct state_body *out);

/* The account's tier at an instant as the engine reckons it (RULES.md). */
struct ledger_sale_tier {
    uint8_t tier;    /* rules_tier_for of spent */
    uint32_t spent;  /* whole euros of its sales over the tier window */
    uint32_t points; /* its points */
};

/* The account's tier at instant now into *out: the tier window is the 4
 * monthly buckets ending with now's month (the state's buckets moved on to
 * now, as the engine rolls them at the next sale). What the customer portal
 * shows and what tier messages compare (ledger_messages.h). */
LEAL_MUST_CHECK leal_err ledger_sale_tier_now(struct ledger *l, const struct rules_program *p,
                                              int64_t account_id, int64_t now,
                                              struct ledger_sale_tier *out);

/* ---- Refunds ---- */

struct ledger_refund_request {
    int64_t sale_id;
    int64_t amount_cents; /* 0: everything not yet refunded */
    int64_t at;           /* 0: now */
    const char *request_id;
    const char *operator_name;
    const struct rules_program *rules;
};

struct ledger_refund_result {
    int64_t refund_id;
    int64_t entry_id; /* 0: nothing to take back (the sale earned nothing) */
    int64_t sale_id, account_id;
    bool replayed;
    int64_t amount_cents;         /* this refund */
    int64_t already_cents;        /* refunded before it */
    int64_t sale_cents;           /* the sale's amount */
    struct rules_refund_result r; /* points, stamps and spend taken back */
    int64_t points_owed;          /* the account's owed points now (RULES.md 6) */
};

/* The points account_id owes (RULES.md 6): what its refunds could not take
 * back (points_short), less what its later sales settled. */
LEAL_MUST_CHECK leal_err ledger_sale_points_owed(struct ledger *l, int64_t account_id,
                                                 int64_t *owed);

/* Takes back what sale rq->sale_id gave, in proportion to the amount
 * (RULES.md section 6). LEAL_E_RULES_REFUND if nothing or less is left
 * (ledger_errmsg says how much). */
LEAL_MUST_CHECK leal_err ledger_sale_refund(struct ledger *l,
                                            const struct ledger_refund_request *rq,
                                            struct ledger_refund_result *out);

/* What a recorded sale gave (amount, points, bucket period and units,
 * stamps and rewards per stamp card): what its refunds take back from. */
LEAL_MUST_CHECK leal_err ledger_sale_earned(struct ledger *l, int64_t sale_id,
                                            struct rules_earned *out);

/* The program of a recorded sale (LEAL_E_UNKNOWN_ID naming it if none). */
LEAL_MUST_CHECK leal_err ledger_sale_program(struct ledger *l, int64_t sale_id,
                                             int64_t *program_id);

/* The stamp asset of stamp card i (0..3): "STAMP:1".."STAMP:4". */
void ledger_stamp_asset(unsigned i, char out[LEDGER_MAX_ASSET]);

#endif
