/*
 * card_reader.h - the only door from cardlayout/ to a card (cf. libnfc's pn53x_io):
 * a const table of functions plus the backend's context. Backends live in
 * host/reader/ (pcsc, nfc, sim) and in a terminal's port. Every member is
 * required. Buffers belong to the caller. Freestanding.
 *
 * transceive: one ISO 14443-4 exchange (an ISO 7816-4 APDU, or a DESFire
 *   native frame where the backend passes those), response with status bytes.
 * classic_*: MIFARE Classic through whatever the reader offers (PC/SC part 3
 *   pseudo-APDUs, libnfc MIFARE commands); authentication proves key
 *   knowledge at the reader, which then keeps the Crypto1 session.
 * Errors: LEAL_E_CARD_REMOVED, LEAL_E_NO_CARD, LEAL_E_READER, LEAL_E_TIMEOUT,
 *   LEAL_E_NO_SPACE, LEAL_E_CARD_AUTHENTICATION (classic_auth),
 *   LEAL_E_CARD_PERMISSION_DENIED (access bits refuse).
 */
#ifndef LEAL_CARD_READER_H
#define LEAL_CARD_READER_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

#define CLASSIC_KEY_A 0x60
#define CLASSIC_KEY_B 0x61

struct card_reader {
    void *ctx;
    leal_err (*transceive)(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                           size_t resp_cap, size_t *resp_len);
    leal_err (*classic_auth)(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6]);
    leal_err (*classic_read)(void *ctx, uint8_t block, uint8_t out[16]);
    leal_err (*classic_write)(void *ctx, uint8_t block, const uint8_t data[16]);
};

#endif
