/*
 * classic_keys.h - the per-card MIFARE Classic keys of LAYOUT.md 3.1/3.2:
 * AN10922 over M = UID || 4C 01 x || system identifier (KEYS.md: "LEAL" ||
 * issuer BE32 || program BE32). Sector keys A/B (roles classic-a, classic-b,
 * mad-b with x = 0) are the first 6 bytes, x = sector; the AES-SIV seal key
 * is K1 (x = F1) || K2 (x = F2) from role classic-seal.
 * Freestanding; masters and outputs belong to the caller, wiped here on exit.
 * Errors: LEAL_E_ARG (UID not 4..10 bytes), provider errors.
 */
#ifndef LEAL_CLASSIC_KEYS_H
#define LEAL_CLASSIC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "keys/crypto.h"

/* The card a key is for: its UID (4..10 bytes) and the program it belongs
 * to, which together make KEYS.md's diversification input. */
struct classic_keys_card {
    const uint8_t *uid;
    size_t uid_len;
    uint32_t issuer_id;
    uint32_t program_id;
};

/* Key A or B of one sector (x = sector), from a classic-a, classic-b or mad-b master. */
LEAL_MUST_CHECK leal_err classic_keys_sector(const struct crypto_provider *cp,
                                             const uint8_t master[16],
                                             const struct classic_keys_card *card, uint8_t sector,
                                             uint8_t key[6]);

/* The AES-SIV seal key of the card's records, from a classic-seal master. */
LEAL_MUST_CHECK leal_err classic_keys_seal(const struct crypto_provider *cp,
                                           const uint8_t master[16],
                                           const struct classic_keys_card *card, uint8_t key[32]);

#endif
