/*
 * diversify.h - AES-128 key diversification exactly as NXP AN10922 §2.2:
 * D = 0x01 || M, padded with 0x80 00.. to 32 bytes; CMAC over D with K2 on
 * the last block when padded, K1 when M is 31 bytes. M is the card's
 * diversification input (UID or card id, AID, system identifier; KEYS.md).
 * Freestanding; crypto through the provider.
 * Errors: LEAL_E_ARG for M empty or longer than 31 bytes; provider errors.
 */
#ifndef LEAL_DIVERSIFY_H
#define LEAL_DIVERSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

LEAL_MUST_CHECK leal_err diversify_aes128(const struct crypto_provider *cp,
                                          const uint8_t master[16], const uint8_t *m, size_t m_len,
                                          uint8_t out[16]);

#endif
