/* lots.c - points as lots (lots.h). */
#include "lots.h"

leal_err lots_expiry(int64_t at, int64_t expiry_days, int64_t line_expires_at, int64_t *expires_at)
{
    int64_t span;
    *expires_at = 0;
    if (expiry_days < 0)
        return LEAL_E_ARG;
    if (line_expires_at != 0) {
        *expires_at = line_expires_at;
        return LEAL_OK;
    }
    if (expiry_days == 0)
        return LEAL_OK;
    if (__builtin_mul_overflow(expiry_days, (int64_t)LOTS_DAY_SECONDS, &span) ||
        __builtin_add_overflow(at, span, expires_at)) {
        *expires_at = 0;
        return LEAL_E_AMOUNT_RANGE;
    }
    return LEAL_OK;
}

bool lots_before(const struct lots_lot *a, const struct lots_lot *b)
{
    if (a->of_reversed != b->of_reversed)
        return a->of_reversed;
    if ((a->expires_at == 0) != (b->expires_at == 0))
        return b->expires_at == 0;
    if (a->expires_at != b->expires_at)
        return a->expires_at < b->expires_at;
    return a->id < b->id;
}

int64_t lots_take(int64_t remaining, int64_t need)
{
    return remaining < need ? remaining : need;
}

bool lots_expired(int64_t expires_at, int64_t at)
{
    return expires_at != 0 && expires_at <= at;
}
