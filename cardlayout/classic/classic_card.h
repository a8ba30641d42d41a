/*
 * classic_card.h - the leal sectors of a MIFARE Classic card through struct
 * card_reader (LAYOUT.md 3): read the MAD, the sealed identity span and both
 * state slots with key A, write a state slot with key A, and personalise a
 * blank card from its transport key (data blocks first, trailer last in each
 * sector, since the keys change with it). Every call counts its reader calls
 * (auth, read or write: one round trip each) in round_trips.
 * Freestanding; keys are the caller's, derived with classic_keys.h. Records
 * are sealed/opened with classic_record.h; this module moves blocks only.
 * Errors: the reader's (LEAL_E_CARD_AUTHENTICATION for a wrong key,
 * LEAL_E_CARD_PERMISSION_DENIED when access bits refuse, LEAL_E_CARD_REMOVED),
 * LEAL_E_ARG.
 */
#ifndef LEAL_CLASSIC_CARD_H
#define LEAL_CLASSIC_CARD_H

#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "cardlayout/records/classic_record.h"

#define CLASSIC_CARD_SECTORS 6 /* leal uses sectors 0..5 */

/* Keys A and B of sectors 0..5 (key A of sector 0 is the public MAD key). */
struct classic_card_keys {
    uint8_t a[CLASSIC_CARD_SECTORS][6];
    uint8_t b[CLASSIC_CARD_SECTORS][6];
};

struct classic_card {
    const struct card_reader *reader;
    unsigned round_trips;
};

void classic_card_init(struct classic_card *c, const struct card_reader *reader);

/* The MAD v1 blocks 1-2 (32 bytes), with the public key A: 3 round trips. */
LEAL_MUST_CHECK leal_err classic_card_read_mad(struct classic_card *c, uint8_t mad[32]);
/* The identity span (blocks 4-6, 8-10, 12-13) with key A: 11 round trips. */
LEAL_MUST_CHECK leal_err classic_card_read_identity(struct classic_card *c,
                                                    const struct classic_card_keys *k,
                                                    uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN]);
/* Both state slots (sectors 4 and 5) with key A: 8 round trips. */
LEAL_MUST_CHECK leal_err classic_card_read_state(struct classic_card *c,
                                                 const struct classic_card_keys *k,
                                                 uint8_t slot0[CLASSIC_RECORD_STATE_SPAN],
                                                 uint8_t slot1[CLASSIC_RECORD_STATE_SPAN]);
/* One state slot with key A: 4 round trips. */
LEAL_MUST_CHECK leal_err classic_card_write_state(struct classic_card *c,
                                                  const struct classic_card_keys *k, unsigned slot,
                                                  const uint8_t span[CLASSIC_RECORD_STATE_SPAN]);
/* The trailer of sector 0..5 with keys k and LAYOUT.md 3.1's access bits,
 * after an authentication with the sector's key B (a re-key): 1 round trip. */
LEAL_MUST_CHECK leal_err classic_card_write_trailer(struct classic_card *c,
                                                    const struct classic_card_keys *k,
                                                    unsigned sector);
/* A blank card (every sector 0..5 opens with transport key A) to leal's layout:
 * MAD, identity, slot 0 = state, slot 1 zero, and the trailers of LAYOUT.md 3.1:
 * 28 round trips. */
LEAL_MUST_CHECK leal_err classic_card_personalise(
    struct classic_card *c, const uint8_t transport_key[6], const struct classic_card_keys *k,
    const uint8_t identity[CLASSIC_RECORD_IDENTITY_SPAN],
    const uint8_t state[CLASSIC_RECORD_STATE_SPAN]);

#endif
