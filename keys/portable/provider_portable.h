/*
 * provider_portable.h - the crypto provider without OpenSSL, for terminals and
 * bare-metal ports: AES-128 (ECB, CBC), AES-CMAC, SHA-256, and SHA-512 for
 * the Ed25519 verification that comes next. C11, freestanding (no allocator,
 * no stdio, no OS header, no 128-bit integer; 32-bit targets welcome). Same
 * answers as the OpenSSL provider (tested differentially), same contracts
 * (crypto.h).
 *
 * Constant time: AES and CMAC (no table lookups: the S-box is computed with
 * bitwise operations, aes.h), SHA-256/512 (time depends on lengths only).
 * Stack, the sum of gcc 12's -fstack-usage (x86-64, -O2) along each call's
 * deepest chain: ECB 560 bytes, CBC 640, CMAC 672, SHA-256 576, SHA-512 1,088.
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

#endif
