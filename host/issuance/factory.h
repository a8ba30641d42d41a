/*
 * factory.h - the one step of issuance that leaves AES: a blank DESFire card's
 * PICC master key is the factory DES key (eight zero bytes). This module
 * authenticates with it (ISO authentication 0x1A, the EV1 CBC chaining and
 * CMACs) and, in that one session, readies the PICC and changes the PICC
 * master key to the card's diversified AES key, which ends it; the
 * freestanding driver (cardlayout/desfire) stays AES-only. The factory key is
 * public: a DES session proves only that the card is blank. DES is host-only
 * (keys/hosted/des.h).
 * Errors: reader errors, LEAL_E_CARD_AUTHENTICATION (the card is not on its
 * factory key), card statuses, LEAL_E_PROTOCOL, LEAL_E_CRYPTO. Hosted.
 */
#ifndef LEAL_FACTORY_H
#define LEAL_FACTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "keys/crypto.h"

/* With the PICC selected: authenticate with the factory DES key, then ChangeKey
 * 0x80 (PICC master to AES) to new_key with version. Counts exchanges in *rt. */
LEAL_MUST_CHECK leal_err factory_picc_to_aes(const struct card_reader *reader,
                                             const struct crypto_provider *cp,
                                             const uint8_t new_key[16], uint8_t version,
                                             unsigned *rt);

/* With the PICC selected, a blank card made ready for an application under
 * one ISO authentication with the factory DES key: DeleteApplication app_aid
 * (only with delete_app: a torn setup left it, empty), CreateApplication
 * app_aid, ChangeKeySettings picc_settings, then ChangeKey 0x80, the PICC
 * master key to new_key (AES, version), which ends the session: 5 RT (6 with
 * the delete). The factory key is public, so the session proves only that
 * the card is blank; every answer's CMAC is checked all the same. A tear
 * leaves the card on its factory key until the ChangeKey. */
struct factory_setup {
    const uint8_t *new_key; /* 16 bytes */
    uint8_t version;
    uint8_t picc_settings;
    bool delete_app;
    const uint8_t *app_aid; /* 3 bytes, as sent */
    uint8_t app_settings1, app_settings2;
    uint16_t app_iso_fid;
    const uint8_t *app_df_name;
    size_t app_df_name_len;
};
LEAL_MUST_CHECK leal_err factory_picc_setup(const struct card_reader *reader,
                                            const struct crypto_provider *cp,
                                            const struct factory_setup *s, unsigned *rt);

/* With the PICC selected: authenticate with the factory DES key and read the
 * card's real 7-byte UID (GetCardUID, answer enciphered under the session),
 * changing nothing: a random-UID card's UID before anything is written. */
LEAL_MUST_CHECK leal_err factory_card_uid(const struct card_reader *reader,
                                          const struct crypto_provider *cp, uint8_t uid[7],
                                          unsigned *rt);

/* Under an AES session with the PICC master key (d authenticated at PICC
 * level): changes the PICC master key back to the factory DES key (eight zero
 * bytes), as `leal card erase` leaves a card. The session ends. */
struct desfire;
LEAL_MUST_CHECK leal_err factory_picc_to_des(struct desfire *d);

#endif
