/* simcard.c - test helpers around the virtual card (see simcard.h). */
#include "simcard.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static leal_err rng(void *ctx, uint8_t *out, size_t n)
{
    struct simcard *s = ctx;
    for (size_t i = 0; i < n; i++) {
        if (s->queue_off < s->queue_len) {
            out[i] = s->queue[s->queue_off++];
        } else {
            s->stream = s->stream * 1103515245u + 12345u;
            out[i] = (uint8_t)(s->stream >> 16);
        }
    }
    return LEAL_OK;
}

void simcard_new(struct simcard *s, const char *type)
{
    static const uint8_t uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    memset(s, 0, sizeof *s);
    s->stream = 1;
    assert_int_equal(cardsim_new(type, uid, 7, false, &s->card), LEAL_OK);
    cardsim_set_rng(s->card, rng, s);
    assert_int_equal(cardsim_activate(s->card, &s->id), LEAL_OK);
}

void simcard_free(struct simcard *s)
{
    cardsim_free(s->card);
    s->card = NULL;
}

void simcard_rng(struct simcard *s, const char *hex)
{
    long n = hex_decode(hex, s->queue + s->queue_len, sizeof s->queue - s->queue_len);
    assert_true(n >= 0);
    s->queue_len += (size_t)n;
}

int simcard_xfer(void *ctx, const uint8_t *frame, size_t len, uint8_t *resp, size_t cap,
                 size_t *resp_len)
{
    struct simcard *s = ctx;
    return cardsim_transceive(s->card, frame, len, resp, cap, resp_len) == LEAL_OK ? 0 : -1;
}

const char *simcard_hex(struct simcard *s, const char *cmd)
{
    static char out[2 * 600 + 1];
    uint8_t c[600], r[600];
    size_t rl = 0;
    long n = hex_decode(cmd, c, sizeof c);
    leal_err err;
    assert_true(n >= 0);
    err = cardsim_transceive(s->card, c, (size_t)n, r, sizeof r, &rl);
    if (err != LEAL_OK) {
        snprintf(out, sizeof out, "error %d", (int)err);
        return out;
    }
    hex_encode(r, rl, out);
    return out;
}

void simcard_expect(struct simcard *s, const char *cmd, const char *resp)
{
    uint8_t want[600];
    char want_hex[2 * 600 + 1];
    long n = hex_decode(resp, want, sizeof want);
    assert_true(n >= 0);
    hex_encode(want, (size_t)n, want_hex);
    assert_string_equal(simcard_hex(s, cmd), want_hex);
}
