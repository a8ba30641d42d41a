/*
 * simcard.h - test helpers around the virtual card: a card with a fixed UID,
 * a scripted random source (queued bytes, then a deterministic stream), and
 * exact-bytes exchanges that fail the cmocka test on any difference.
 */
#ifndef LEAL_TEST_SIMCARD_H
#define LEAL_TEST_SIMCARD_H

#include <stddef.h>
#include <stdint.h>

#include "host/cardsim/cardsim.h"

struct simcard {
    struct cardsim *card;
    struct cardsim_ident id;
    uint8_t queue[512];
    size_t queue_len, queue_off;
    uint32_t stream;
};

/* UID 04 11 22 33 44 55 66, activated. */
void simcard_new(struct simcard *s, const char *type);
void simcard_free(struct simcard *s);
/* Queues bytes (hex) for the card's next random draws. */
void simcard_rng(struct simcard *s, const char *hex);
/* cardsim_transceive of cmd (hex); asserts the answer equals resp (hex). */
void simcard_expect(struct simcard *s, const char *cmd, const char *resp);
/* Exchange for desfire_host (dfh_xfer_fn); ctx is a struct simcard. */
int simcard_xfer(void *ctx, const uint8_t *frame, size_t len, uint8_t *resp, size_t cap,
                 size_t *resp_len);
/* Answer to cmd (hex) as lowercase hex in out (static buffer). */
const char *simcard_hex(struct simcard *s, const char *cmd);

#endif
