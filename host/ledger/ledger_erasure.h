/*
 * ledger_erasure.h - a customer's request to have their personal data erased
 * (issue 16's back office, issue 17's right to erasure): a manager or admin
 * records when the customer asked (a date) and by which channel; the request
 * stays pending until `leal customer erase` (host/privacy/privacy.h) carries
 * it out and marks it done in the same transaction. At most one request per
 * customer is pending (LEAL_E_ERASURE_PENDING); an erased customer takes no
 * new one (LEAL_E_STATE). Each write is one transaction, or part of the
 * caller's batch (the request and its audit line). Errors: those of ledger.h,
 * LEAL_E_UNKNOWN_ID, LEAL_E_DATE, LEAL_E_ARG (another channel). Hosted;
 * SQLite only.
 */
#ifndef LEAL_LEDGER_ERASURE_H
#define LEAL_LEDGER_ERASURE_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

struct ledger_erasure {
    int64_t id, customer_id;
    char asked_on[11]; /* YYYY-MM-DD: when the customer asked */
    char channel[8];   /* desk, email, post, phone or portal */
    int64_t user_id;   /* who recorded it (0: the command line) */
    char recorded_by[LEDGER_TEXT];
    int64_t recorded_at;
    int64_t done_at; /* 0: pending */
    char done_by[LEDGER_TEXT];
};

/* Whether channel is one a request may come by. */
bool ledger_erasure_channel_ok(const char *channel);
/* Records r's customer_id, asked_on, channel, user_id and recorded_by (now). */
LEAL_MUST_CHECK leal_err ledger_erasure_request(struct ledger *l, const struct ledger_erasure *r,
                                                int64_t *id);
/* The customer's latest request (pending or done); *found false without one. */
LEAL_MUST_CHECK leal_err ledger_erasure_of(struct ledger *l, int64_t customer_id,
                                           struct ledger_erasure *out, bool *found);

#endif
