/*
 * lots.h - points as lots: when an earned lot expires, which lot a spend
 * takes first, how much it takes, and when a lot is due to expire. The
 * ledger (host/ledger/ledger_post.c) and an offline terminal apply the same
 * rules. Pure functions of their inputs, no allocation. Freestanding.
 * Times are Unix seconds; an expiry of 0 means "never".
 * Errors: LEAL_E_ARG (negative days), LEAL_E_AMOUNT_RANGE (overflow).
 */
#ifndef LEAL_LOTS_H
#define LEAL_LOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "keys/base/err.h"

#define LOTS_DAY_SECONDS 86400

/* An open lot as a spend sees it. */
struct lots_lot {
    int64_t id;         /* older lots have smaller ids */
    int64_t remaining;  /* > 0 */
    int64_t expires_at; /* 0 = never */
    bool of_reversed;   /* made by the entry a void reverses */
};

/* When a lot earned at `at` expires under a program's expiry of expiry_days
 * (0: never, *expires_at = 0); a line's own expiry, when it has one, wins. */
LEAL_MUST_CHECK leal_err lots_expiry(int64_t at, int64_t expiry_days, int64_t line_expires_at,
                                     int64_t *expires_at);

/* True if lot a is spent before lot b: the lots of the entry being reversed
 * first (a void takes back what its entry gave), then the nearest expiry,
 * lots that never expire last, then the oldest. The ledger's ST_LOT_OPEN
 * orders by exactly this. */
bool lots_before(const struct lots_lot *a, const struct lots_lot *b);

/* What a spend still needing `need` takes from a lot holding `remaining`. */
int64_t lots_take(int64_t remaining, int64_t need);

/* True if a lot expiring at expires_at has expired at `at` (its last second
 * is expires_at - 1). */
bool lots_expired(int64_t expires_at, int64_t at);

#endif
