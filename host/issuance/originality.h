/*
 * originality.h - NXP's originality signature of MIFARE DESFire EV2 and EV3:
 * an ECDSA signature on secp224r1 over the card's 7-byte UID, the UID itself
 * taken as the message (no hash), 56 bytes r || s, read with Read_Sig (3C 00).
 * NXP writes it at production with a private key only NXP holds; an emulator
 * or a cloned "magic" card cannot make one for its UID. The public keys are
 * NXP's published DESFire EV2, EV2 XL and EV3 keys (sources in
 * originality.c).
 *
 * Tests: the environment variable LEAL_ORIGINALITY_TEST_KEY, when set, holds
 * the only trusted public key instead (57 bytes hex, 04 || X || Y on
 * secp224r1), so that the virtual card (leal-cardsim new --originality-key)
 * can be signed with a test key pair. It is for tests only: whoever sets it
 * decides which cards are genuine.
 *
 * Errors: LEAL_E_CARD_NOT_GENUINE (the signature does not verify under any
 * trusted key), LEAL_E_CONFIG (LEAL_ORIGINALITY_TEST_KEY is not such a key),
 * LEAL_E_CRYPTO. Hosted (OpenSSL).
 */
#ifndef LEAL_ORIGINALITY_H
#define LEAL_ORIGINALITY_H

#include <stdint.h>

#include "keys/base/err.h"

#define ORIGINALITY_UID_LEN 7
#define ORIGINALITY_SIG_LEN 56
#define ORIGINALITY_PUB_LEN 57

/* Verifies sig over uid under pub (04 || X || Y on secp224r1). */
LEAL_MUST_CHECK leal_err originality_verify_with(const uint8_t pub[ORIGINALITY_PUB_LEN],
                                                 const uint8_t uid[ORIGINALITY_UID_LEN],
                                                 const uint8_t sig[ORIGINALITY_SIG_LEN]);

/* Verifies sig over uid under NXP's DESFire EV2/EV3 keys (or the test key). */
LEAL_MUST_CHECK leal_err originality_verify(const uint8_t uid[ORIGINALITY_UID_LEN],
                                            const uint8_t sig[ORIGINALITY_SIG_LEN]);

#endif
