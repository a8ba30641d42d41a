/*
 * aes.h - AES-128 (FIPS 197) without tables, in constant time: the S-box is
 * computed, not looked up. The 16 bytes of the state (or the 4 of a key
 * schedule word) are transposed into 8 bit-planes and inverted in GF(2^8)
 * as x^254 with bitwise ANDs and XORs (4 multiplications, 7 squarings), then
 * the affine map; so no memory address and no branch depends on a key or
 * data byte. Cost: one S-box layer is about 800 word operations (two 8x8
 * bit transposes each way, 4 multiplications of 8 Horner steps, 7 squarings,
 * the affine map), 10 per block plus 10 in the key schedule: about 4 us per
 * one-block ECB call on the test machine, 0.1x OpenSSL's AES-NI (make bench).
 * Freestanding, no allocation; the schedule is the caller's and holds the key.
 */
#ifndef LEAL_PORTABLE_AES_H
#define LEAL_PORTABLE_AES_H

#include <stdint.h>

#define PORTABLE_AES128_ROUND_KEYS 176

struct portable_aes128 {
    uint8_t rk[PORTABLE_AES128_ROUND_KEYS]; /* 11 round keys, FIPS 197 5.2 */
};

/* Expands key into ks (FIPS 197 5.2). Wipe ks with leal_wipe() after use. */
void portable_aes128_init(struct portable_aes128 *ks, const uint8_t key[16]);
/* One block; in and out may alias. */
void portable_aes128_encrypt(const struct portable_aes128 *ks, const uint8_t in[16],
                             uint8_t out[16]);
void portable_aes128_decrypt(const struct portable_aes128 *ks, const uint8_t in[16],
                             uint8_t out[16]);

#endif
