/*
 * ledger_simulate.h - `leal rules simulate`: the recorded sales and refunds
 * of a period (ledger_sale.h) replayed under another rule set (today's, or a
 * proposed one), beside what they really gave, per account and in total.
 * Each account starts the period in the state it really had (points and
 * stamps from the lines dated before its first event in the period, spend
 * buckets from the sales and refunds before it) and then lives only by the
 * replay: its sales in time order (a refund after a sale at the same
 * instant), daily caps counted from the replayed points of each local day,
 * a refund taking back its share of what the replayed sale gave (what the
 * sale really gave when it lies before the period). Other entries in the
 * period (manual posts, expiry, card redemptions) are not replayed. Read in
 * one read transaction. Hosted.
 * Errors: LEAL_E_ARG, LEAL_E_DATE (from after to), LEAL_E_UNKNOWN_ID (no such
 * program), LEAL_E_RULES_* (the engine refused a recorded sale under the
 * rules given: ledger_errmsg names the sale), LEAL_E_NO_MEMORY, LEAL_E_DB*.
 */
#ifndef LEAL_LEDGER_SIMULATE_H
#define LEAL_LEDGER_SIMULATE_H

#include <stdint.h>

#include "firmware/core/rules.h"
#include "ledger.h"

struct ledger_sim_request {
    int64_t program_id;
    const char *from, *to;             /* local dates YYYY-MM-DD, inclusive */
    const struct rules_program *rules; /* what the period is replayed under */
};

/* One account's period. Points are net: sales less refunds. */
struct ledger_sim_account {
    int64_t account_id;
    int64_t customer_id; /* 0: a gift account */
    int64_t sales, refunds;
    int64_t real_points; /* what the sales gave less what refunds took back */
    int64_t sim_points;  /* the same under the rules given */
};

struct ledger_sim_totals {
    int64_t accounts, sales, refunds;
    int64_t sales_cents, refunds_cents;
    int64_t real_points, sim_points;
};

/* cb per account with an event in the period, by account id (a non-zero
 * return stops the walk with LEAL_E_INTERRUPTED); totals into *out. */
typedef int (*ledger_sim_cb)(void *ctx, const struct ledger_sim_account *a);
LEAL_MUST_CHECK leal_err ledger_simulate(struct ledger *l, const struct ledger_sim_request *rq,
                                         ledger_sim_cb cb, void *ctx,
                                         struct ledger_sim_totals *out);

#endif
