/*
 * factory.h - the one step of issuance that leaves AES: a blank DESFire card's
 * PICC master key is the factory DES key (eight zero bytes). This module
 * authenticates with it (ISO authentication 0x1A, the EV1 CBC chaining) and
 * at once changes the PICC master key to the card's diversified AES key, so
 * no other command ever runs under a DES session and the freestanding driver
 * (cardlayout/desfire) stays AES-only. DES is host-only (keys/hosted/des.h).
 * Errors: reader errors, LEAL_E_CARD_AUTHENTICATION (the card is not on its
 * factory key), card statuses, LEAL_E_PROTOCOL, LEAL_E_CRYPTO. Hosted.
 */
#ifndef LEAL_FACTORY_H
#define LEAL_FACTORY_H

#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "keys/crypto.h"

/* With the PICC selected: authenticate with the factory DES key, then ChangeKey
 * 0x80 (PICC master to AES) to new_key with version. Counts exchanges in *rt. */
LEAL_MUST_CHECK leal_err factory_picc_to_aes(const struct card_reader *reader,
                                             const struct crypto_provider *cp,
                                             const uint8_t new_key[16], uint8_t version,
                                             unsigned *rt);

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
