/*
 * reader_nfc.h - the `nfc:CONNSTRING` reader backend: a libnfc device (e.g.
 * nfc:pn532_uart:/dev/ttyUSB0) as a cardlayout/card_reader.h reader. The card is
 * selected as ISO 14443-A at 106 kbps; DESFire frames go through libnfc's
 * transceive (the PN53x does ISO-DEP), MIFARE Classic commands through the
 * PN53x's Crypto1 (auth 60|61 blk key6 uid4, read 30, write A0). After a
 * failed Classic authentication the card halts, so the backend re-selects it
 * before answering LEAL_E_CARD_AUTHENTICATION. libnfc's negative codes are
 * mapped to leal_err in reader_nfc.c only. Hosted; heap object.
 * Errors: LEAL_E_NO_READER, LEAL_E_NO_CARD, LEAL_E_CARD_REMOVED, LEAL_E_READER,
 * LEAL_E_TIMEOUT, LEAL_E_NO_SPACE, LEAL_E_CARD_AUTHENTICATION,
 * LEAL_E_CARD_PERMISSION_DENIED.
 */
#ifndef LEAL_READER_NFC_H
#define LEAL_READER_NFC_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "keys/base/err.h"
#include "keys/base/limits.h"

struct reader_nfc;

/* What anticollision and RATS told about the selected card. */
struct reader_nfc_card {
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len;
    uint8_t atqa[2]; /* as libnfc shows it: 00 04 for a Classic 1K, 03 44 for a DESFire */
    uint8_t sak;
    uint8_t ats[LEAL_MAX_ATS]; /* without TL, as libnfc gives it */
    size_t ats_len;
};

/* connstring is libnfc's (without the "nfc:" prefix). */
LEAL_MUST_CHECK leal_err reader_nfc_open(const char *connstring, struct reader_nfc **out);
void reader_nfc_close(struct reader_nfc *r);
/* Selects a card in the field, polling until timeout_ms (0: once). */
LEAL_MUST_CHECK leal_err reader_nfc_select(struct reader_nfc *r, unsigned timeout_ms,
                                           struct reader_nfc_card *card);
/* Ends the exchange with the card (deselect). */
void reader_nfc_release(struct reader_nfc *r);
/* The cardlayout/card_reader.h view of r (valid while r is open). */
void reader_nfc_card_reader(struct reader_nfc *r, struct card_reader *out);
/* libnfc's name of the device. */
const char *reader_nfc_name(const struct reader_nfc *r);

#endif
