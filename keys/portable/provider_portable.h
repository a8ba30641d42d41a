/*
 * provider_portable.h - the crypto provider without OpenSSL, for terminals and
 * bare-metal ports: AES-128 (ECB, CBC), AES-CMAC, SHA-256 and Ed25519
 * verification (with SHA-512). C11, freestanding (no allocator, no stdio, no
 * OS header, no 128-bit integer; 32-bit targets welcome). Same answers as the
 * OpenSSL provider on every input (tested differentially), same contracts
 * (crypto.h); every member but random always returns LEAL_OK, except CBC on
 * a length not a multiple of 16 (LEAL_E_ARG) and a signature that does not
 * verify (LEAL_E_SIGNATURE).
 *
 * Constant time: AES and CMAC (no table lookups: the S-box is computed with
 * bitwise operations, aes.h), SHA-256/512 (time depends on lengths only).
 * Not constant time: Ed25519 verification, which handles public data only
 * (key, message, signature; ed25519.h).
 * Stack, the sum of gcc 12's -fstack-usage (x86-64, -O2) along each call's
 * deepest chain: ECB 560 bytes, CBC 640, CMAC 672, SHA-256 576, Ed25519
 * verification 2,440 (the largest: 1,584 its own frame, 848 in SHA-512).
 * Speed: make bench (tests/bench/bench_portable.c).
 */
#ifndef LEAL_PROVIDER_PORTABLE_H
#define LEAL_PROVIDER_PORTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../crypto.h"

/* The table's members; each as its crypto_provider member documents. */
LEAL_MUST_CHECK leal_err crypto_portable_aes128_ecb_encrypt(const uint8_t key[16],
                                                            const uint8_t in[16], uint8_t out[16]);
LEAL_MUST_CHECK leal_err crypto_portable_aes128_ecb_decrypt(const uint8_t key[16],
                                                            const uint8_t in[16], uint8_t out[16]);
LEAL_MUST_CHECK leal_err crypto_portable_aes128_cbc_encrypt(const uint8_t key[16], uint8_t iv[16],
                                                            const uint8_t *in, uint8_t *out,
                                                            size_t len);
LEAL_MUST_CHECK leal_err crypto_portable_aes128_cbc_decrypt(const uint8_t key[16], uint8_t iv[16],
                                                            const uint8_t *in, uint8_t *out,
                                                            size_t len);
LEAL_MUST_CHECK leal_err crypto_portable_aes128_cmac(const uint8_t key[16], const uint8_t *msg,
                                                     size_t len, uint8_t mac[16]);
LEAL_MUST_CHECK leal_err crypto_portable_sha256(const uint8_t *msg, size_t len, uint8_t digest[32]);
LEAL_MUST_CHECK leal_err crypto_portable_ed25519_verify(const uint8_t public_key[32],
                                                        const uint8_t *msg, size_t len,
                                                        const uint8_t sig[64]);

/* The provider with the port's random function (leal_err (*)(uint8_t *, size_t),
 * "cryptographically secure bytes, or LEAL_E_RANDOM"), as a constant
 * initializer:
 *   static const struct crypto_provider terminal_crypto =
 *       CRYPTO_PORTABLE_PROVIDER(port_random);
 * The table stays const (in flash on a microcontroller), needs no start-up
 * call and cannot be used half set up; a port without a random source passes
 * a function that answers LEAL_E_RANDOM. */
#define CRYPTO_PORTABLE_PROVIDER(random_fn)                                                        \
    {                                                                                              \
        .name = "portable", .aes128_ecb_encrypt = crypto_portable_aes128_ecb_encrypt,              \
        .aes128_ecb_decrypt = crypto_portable_aes128_ecb_decrypt,                                  \
        .aes128_cbc_encrypt = crypto_portable_aes128_cbc_encrypt,                                  \
        .aes128_cbc_decrypt = crypto_portable_aes128_cbc_decrypt,                                  \
        .aes128_cmac = crypto_portable_aes128_cmac, .sha256 = crypto_portable_sha256,              \
        .ed25519_verify = crypto_portable_ed25519_verify, .random = (random_fn),                   \
    }

#endif
