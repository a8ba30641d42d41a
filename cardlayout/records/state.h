/*
 * state.h - the state a tap reads and writes whole (LAYOUT.md 1.2): the
 * 23-byte state body, and the DESFire state file that carries it (layout
 * version || card id || body: 32 bytes; at version 3 || the purse mirror: 36).
 * The state file's version byte is the card's layout version (1; 2: the card
 * has the bono file, LAYOUT.md 4; 3: and the purse mirror, LAYOUT.md 2.10);
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
/* Layout version 3 (LAYOUT.md 2.10): the 32 bytes, then the purse mirror. */
#define STATE_FILE_MIRROR_LEN 36
#define STATE_FILE_MAX STATE_FILE_MIRROR_LEN
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

/* The DESFire state file: version (LAYOUT_VERSION, LAYOUT_VERSION_BONOS or
 * LAYOUT_VERSION_MIRROR) || card id (BE64) || body, and at version 3 the
 * purse mirror (BE u32, cents, 0 .. INT32_MAX: what the purse holds once
 * the write that carries it commits). card_id must not be 0.
 * state_file_encode writes the 32 bytes of versions 1 and 2 (version 3:
 * LEAL_E_ARG); state_file_encode_mirror any version (the mirror ignored
 * below 3), *len its length. The decoders take any known version, each at
 * its exact length; state_file_decode drops the mirror (0 below 3). */
LEAL_MUST_CHECK leal_err state_file_encode(uint8_t version, uint64_t card_id,
                                           const struct state_body *s, uint8_t out[STATE_FILE_LEN]);
LEAL_MUST_CHECK leal_err state_file_encode_mirror(uint8_t version, uint64_t card_id,
                                                  const struct state_body *s, int32_t mirror,
                                                  uint8_t out[STATE_FILE_MAX], size_t *len);
LEAL_MUST_CHECK leal_err state_file_decode(const uint8_t *p, size_t len, uint8_t *version,
                                           uint64_t *card_id, struct state_body *out);
LEAL_MUST_CHECK leal_err state_file_decode_mirror(const uint8_t *p, size_t len, uint8_t *version,
                                                  uint64_t *card_id, struct state_body *out,
                                                  int32_t *mirror);
/* The first 32 bytes of any version's file (what a journal's TMAC entry
 * carries of a layout-3 file, firmware/core/JOURNAL.md): version, card id
 * and body, the mirror not read. */
LEAL_MUST_CHECK leal_err state_file_decode_head(const uint8_t *p, size_t len, uint8_t *version,
                                                uint64_t *card_id, struct state_body *out);
/* Whether a state file of this version byte is one this code knows. */
bool state_version_known(uint8_t version);
/* The state file's length at version (32 or 36), 0 for an unknown one. */
size_t state_file_len(uint8_t version);

/* true if seq a is newer than seq b (RFC 1982 serial arithmetic on 32 bits). */
bool state_seq_newer(uint32_t a, uint32_t b);

#endif
