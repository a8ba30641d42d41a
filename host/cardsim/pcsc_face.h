/*
 * pcsc_face.h - the virtual card as a PC/SC application sees it through a
 * contactless reader (PC/SC part 3): the ATR the reader builds, and the
 * pseudo-APDUs (CLA FF) that a real reader answers itself. Used where the
 * card sits behind a plain pipe (vpcd) or in-process (the sim: reader), so
 * that both look like a real reader. Other APDUs go to the card unchanged.
 * Hosted. Errors: LEAL_E_NO_SPACE, LEAL_E_CARD_REMOVED (torn), LEAL_E_NO_CARD.
 *
 * Storage cards (MIFARE Classic) answer FF 82/86/B0/D6 (and vendor forms)
 * through an entry in pcsc_face.c's `storage[]` table: see struct
 * pcsc_face_storage.
 */
#ifndef LEAL_PCSC_FACE_H
#define LEAL_PCSC_FACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardsim.h"

/* Per-connection state of the reader side (loaded keys, authentication). */
struct pcsc_face {
    struct cardsim *card;
    struct cardsim_ident id; /* from the last activation */
    /* For storage-card handlers: FF 82 key slots and the last FF 86 result. */
    uint8_t keys[2][6];
    bool key_loaded[2];
    int auth_block; /* -1: none */
};

/* What a card technology adds to the reader's own answers. */
struct pcsc_face_storage {
    enum cardsim_kind kind;
    /* PC/SC part 3 ATR of a storage card (3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN ...). */
    leal_err (*atr)(const struct pcsc_face *f, uint8_t *atr, size_t cap, size_t *len);
    /* A CLA FF APDU other than FF CA; answers with SW (6A 81 when unsupported). */
    leal_err (*apdu)(struct pcsc_face *f, const uint8_t *apdu, size_t len, uint8_t *resp,
                     size_t cap, size_t *resp_len);
};

/* MIFARE Classic's entry (pcsc_face_classic.c). */
extern const struct pcsc_face_storage pcsc_face_classic;

void pcsc_face_init(struct pcsc_face *f, struct cardsim *card);
/* Field on (activation); fills f->id. */
LEAL_MUST_CHECK leal_err pcsc_face_power_on(struct pcsc_face *f);
void pcsc_face_power_off(struct pcsc_face *f);
/* The ATR: ISO 14443-4 cards 3B 8n 80 01 <ATS historical bytes> TCK. */
LEAL_MUST_CHECK leal_err pcsc_face_atr(const struct pcsc_face *f, uint8_t *atr, size_t cap,
                                       size_t *len);
/* One APDU: FF CA 00 00 (UID), FF CA 01 00 (ATS historical bytes), other FF
 * to the card's storage handler, the rest to the card. */
LEAL_MUST_CHECK leal_err pcsc_face_apdu(struct pcsc_face *f, const uint8_t *apdu, size_t len,
                                        uint8_t *resp, size_t cap, size_t *resp_len);
/* Historical bytes of an ATS (TL T0 [TA] [TB] [TC] hist). */
LEAL_MUST_CHECK leal_err pcsc_face_ats_historical(const uint8_t *ats, size_t ats_len,
                                                  const uint8_t **hist, size_t *hist_len);

#endif
