/*
 * state.h - the state a tap reads and writes whole (LAYOUT.md 1.2): the
 * 23-byte state body, and the 32-byte DESFire state file that carries it
 * (layout version || card id || body). The state file's version byte is the
 * card's layout version (1, or 2: the card has the bono file, LAYOUT.md 4);
 * any other is refused. seq steps by one on every write and is compared in
 * serial-number arithmetic. Freestanding.
 * Errors: LEAL_E_ARG, LEAL_E_TRUNCATED, LEAL_E_TRAILING, LEAL_E_NO_SPACE,
 * LEAL_E_LAYOUT_VERSION, LEAL_E_FORMAT.
 */
#ifndef LEAL_STATE_H
#define LEAL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/buf.h"

#define STATE_BODY_LEN 23
#define STATE_FILE_LEN 32
#define STATE_STAMPS 4
#define STATE_BUCKETS 4

struct state_body {
    uint32_t seq;
    uint32_t points;
    uint8_t tier;
    uint8_t stamps[STATE_STAMPS];
    uint16_t period;                 /* program period index of buckets[0] */
    uint16_t buckets[STATE_BUCKETS]; /* whole currency units spent: period, period-1, ... */
};

/* The body (STATE_BODY_LEN bytes) to w or from r; *out is unchanged on a
 * failure, and a failed call leaves w or r at no defined place (every
 * caller gives up on it). */
LEAL_MUST_CHECK leal_err state_body_put(struct buf_writer *w, const struct state_body *s);
LEAL_MUST_CHECK leal_err state_body_get(struct buf_reader *r, struct state_body *out);

/* The DESFire state file: version (LAYOUT_VERSION or LAYOUT_VERSION_BONOS) ||
 * card id (BE64) || body. card_id must not be 0. */
LEAL_MUST_CHECK leal_err state_file_encode(uint8_t version, uint64_t card_id,
                                           const struct state_body *s, uint8_t out[STATE_FILE_LEN]);
LEAL_MUST_CHECK leal_err state_file_decode(const uint8_t *p, size_t len, uint8_t *version,
                                           uint64_t *card_id, struct state_body *out);
/* Whether a state file of this version byte is one this code knows. */
bool state_version_known(uint8_t version);

/* true if seq a is newer than seq b (RFC 1982 serial arithmetic on 32 bits). */
bool state_seq_newer(uint32_t a, uint32_t b);

#endif
