/*
 * cardsim_services.c - what the generic layer offers engines
 * (cardsim_engine.h "Services"): their state, the card's random numbers,
 * power and tearing as cardsim.c recorded them, and the hex/JSON helpers of
 * card files. Engines call only this file, never cardsim.c, so the engine
 * table in cardsim.c and the engines it lists form no circle.
 */
#include "cardsim_card.h"

#include <stdlib.h>

#include "keys/base/hex.h"
#include "keys/hosted/provider_openssl.h"

bool cardsim_powered_up(const struct cardsim *card)
{
    return !card->powered;
}

leal_err cardsim_random(struct cardsim *card, uint8_t *out, size_t n)
{
    if (card->rng)
        return card->rng(card->rng_ctx, out, n);
    return crypto_openssl()->random(out, n);
}

void *cardsim_engine_state(const struct cardsim *card)
{
    return card->state;
}

const struct cardsim_tear *cardsim_tear_now(const struct cardsim *card)
{
    return card->tearing ? &card->tear : NULL;
}

json_t *cardsim_json_hex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    json_t *j = NULL;
    if (s == NULL)
        return NULL;
    if (leal_hex_encode(p, n, false, s, 2 * n + 1) == LEAL_OK)
        j = json_string(s);
    free(s);
    return j;
}

leal_err cardsim_json_get_hex(json_t *obj, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    json_t *j = json_object_get(obj, name);
    const char *s;
    size_t sl, n;

    if (!json_is_string(j))
        return LEAL_E_FORMAT;
    s = json_string_value(j);
    sl = json_string_length(j);
    if (sl % 2 != 0)
        return LEAL_E_FORMAT;
    n = sl / 2;
    if (len == NULL ? n != cap : n > cap)
        return LEAL_E_FORMAT;
    if (leal_hex_decode(s, sl, out, cap, &n) != LEAL_OK)
        return LEAL_E_FORMAT;
    if (len)
        *len = n;
    return LEAL_OK;
}

leal_err cardsim_json_get_int(json_t *obj, const char *name, long long lo, long long hi,
                              long long *v)
{
    json_t *j = json_object_get(obj, name);
    long long x;
    if (!json_is_integer(j))
        return LEAL_E_FORMAT;
    x = json_integer_value(j);
    if (x < lo || x > hi)
        return LEAL_E_FORMAT;
    *v = x;
    return LEAL_OK;
}

leal_err cardsim_json_get_bool(json_t *obj, const char *name, bool *v)
{
    json_t *j = json_object_get(obj, name);
    if (j == NULL) {
        *v = false;
        return LEAL_OK;
    }
    if (!json_is_boolean(j))
        return LEAL_E_FORMAT;
    *v = json_is_true(j);
    return LEAL_OK;
}
