/*
 * siv.h - AES-SIV (RFC 5297, AES-CMAC-SIV with two AES-128 keys): deterministic
 * authenticated encryption, used to seal MIFARE Classic records (LAYOUT.md
 * §3.2). key = K1 (S2V, CMAC) || K2 (CTR). Associated data is a list of
 * strings, each its own S2V component; the plaintext is the last one.
 * Freestanding, no allocation; AES through the crypto provider. pt and ct
 * may be the same buffer. Lengths are capped at LEAL_MAX_RECORD.
 * Errors: LEAL_E_ARG (NULL, too many components), LEAL_E_TOO_LARGE, LEAL_E_MAC
 * (siv_decrypt: tag mismatch; the output is then wiped), provider errors.
 */
#ifndef LEAL_SIV_H
#define LEAL_SIV_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define SIV_KEY_LEN 32
#define SIV_TAG_LEN 16
#define SIV_MAX_AD 8 /* RFC 5297 allows 126; leal uses one */

struct siv_ad {
    const uint8_t *p;
    size_t len;
};

/* The associated data: n strings (at most SIV_MAX_AD), in S2V order. */
struct siv_ad_list {
    const struct siv_ad *items;
    size_t n;
};

/* The message: len bytes read from in and written to out (the same buffer
 * allowed); in and out may be NULL when len is 0. */
struct siv_io {
    const uint8_t *in;
    uint8_t *out;
    size_t len;
};

/* pt.in to ct.out: V = S2V(K1, ad..., pt); ct = pt xor CTR(K2, V with bits
 * 31 and 63 cleared). */
LEAL_MUST_CHECK leal_err siv_encrypt(const struct crypto_provider *cp, const uint8_t key[32],
                                     struct siv_ad_list ad, struct siv_io pt_to_ct, uint8_t v[16]);

/* ct.in to pt.out, then checks V; LEAL_E_MAC (pt wiped) if it does not match. */
LEAL_MUST_CHECK leal_err siv_decrypt(const struct crypto_provider *cp, const uint8_t key[32],
                                     struct siv_ad_list ad, const uint8_t v[16],
                                     struct siv_io ct_to_pt);

#endif
