/* fuzz_pn532_driver.c - the PN532 driver (firmware/core/pn532.h) answered by
 * arbitrary serial bytes: each read hands out the next piece of the input (the
 * first byte of a piece is its length), silence once it is used up. Selects a
 * card, then one APDU, a Classic authentication and a block read; whatever
 * comes back, lengths stay inside their buffers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "firmware/core/pn532.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct line {
    const uint8_t *p;
    size_t left;
};

static leal_err line_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return LEAL_OK;
}

static leal_err line_read(void *ctx, uint8_t *p, size_t cap, size_t *n, unsigned timeout_ms)
{
    struct line *l = ctx;
    size_t want;
    (void)timeout_ms;
    *n = 0;
    if (l->left == 0)
        return LEAL_E_TIMEOUT;
    want = (size_t)l->p[0] + 1;
    l->p++;
    l->left--;
    if (want > l->left)
        want = l->left;
    if (want > cap)
        want = cap;
    if (want == 0)
        return LEAL_E_TIMEOUT;
    memcpy(p, l->p, want);
    l->p += want;
    l->left -= want;
    *n = want;
    return LEAL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static struct pn532 d;
    struct line l = {data, size};
    struct pn532_port port = {&l, line_write, line_read};
    struct pn532_target t;
    struct card_reader r;
    uint8_t resp[64], block[16];
    size_t n = 0;

    pn532_init(&d, &port);
    pn532_card_reader(&d, &r);
    if (pn532_select(&d, &t) == LEAL_OK) {
        if (t.uid_len > sizeof t.uid || t.ats_len > sizeof t.ats)
            __builtin_trap();
        if (r.transceive(r.ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp, sizeof resp,
                         &n) == LEAL_OK &&
            n > sizeof resp)
            __builtin_trap();
        if (r.classic_auth(r.ctx, 4, CLASSIC_KEY_A, key) == LEAL_OK)
            (void)r.classic_read(r.ctx, 4, block);
    }
    return 0;
}
