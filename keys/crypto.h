/*
 * crypto.h - the crypto provider interface: the only way cardlayout/ and
 * firmware/core/ reach cryptography, so they stay freestanding.
 *
 * A provider is a const table of functions; every member is required
 * (crypto_provider_check() refuses a NULL one). Keys and buffers belong to
 * the caller; a provider keeps no pointer past return. The OpenSSL 3
 * provider is in keys/hosted/provider_openssl.h; the freestanding one for
 * terminals in keys/portable/provider_portable.h. Freestanding.
 */
#ifndef LEAL_CRYPTO_H
#define LEAL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define CRYPTO_AES_BLOCK 16
#define CRYPTO_AES128_KEY 16
#define CRYPTO_SHA256_LEN 32
#define CRYPTO_ED25519_PUBLIC 32
#define CRYPTO_ED25519_SIGNATURE 64

struct crypto_provider {
    const char *name;
    /* One block; in and out may alias. */
    leal_err (*aes128_ecb_encrypt)(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);
    leal_err (*aes128_ecb_decrypt)(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);
    /* len is a multiple of 16; iv is updated to the last ciphertext block, so
     * calls chain as one CBC stream (DESFire keeps its IV across commands). */
    leal_err (*aes128_cbc_encrypt)(const uint8_t key[16], uint8_t iv[16], const uint8_t *in,
                                   uint8_t *out, size_t len);
    leal_err (*aes128_cbc_decrypt)(const uint8_t key[16], uint8_t iv[16], const uint8_t *in,
                                   uint8_t *out, size_t len);
    /* AES-CMAC (NIST SP 800-38B, RFC 4493), full 16 bytes. */
    leal_err (*aes128_cmac)(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t mac[16]);
    leal_err (*sha256)(const uint8_t *msg, size_t len, uint8_t digest[32]);
    /* LEAL_OK if sig is a valid RFC 8032 Ed25519 signature, LEAL_E_SIGNATURE if not. */
    leal_err (*ed25519_verify)(const uint8_t public_key[32], const uint8_t *msg, size_t len,
                               const uint8_t sig[64]);
    /* Cryptographically secure random bytes, or LEAL_E_RANDOM. */
    leal_err (*random)(uint8_t *out, size_t n);
};

/* LEAL_OK if every member is set, LEAL_E_ARG otherwise. */
LEAL_MUST_CHECK leal_err crypto_provider_check(const struct crypto_provider *cp);

/* Doubling in GF(2^128) with the polynomial x^128 + x^7 + x^2 + x + 1 (Rb =
 * 0x87), in constant time: CMAC's subkeys (RFC 4493 2.3) and AES-SIV's dbl()
 * (RFC 5297 2.3). in and out may be the same buffer. */
void crypto_gf_double(const uint8_t in[16], uint8_t out[16]);

/* CMAC subkeys K1, K2 of key (RFC 4493 2.3). */
LEAL_MUST_CHECK leal_err crypto_cmac_subkeys(const struct crypto_provider *cp,
                                             const uint8_t key[16], uint8_t k1[16], uint8_t k2[16]);

/* AES-CMAC whose CBC starts from iv instead of zero, as DESFire EV1 chains its
 * MACs (the previous CMAC is the next IV). iv NULL gives plain CMAC. */
LEAL_MUST_CHECK leal_err crypto_cmac_iv(const struct crypto_provider *cp, const uint8_t key[16],
                                        const uint8_t iv[16], const uint8_t *msg, size_t len,
                                        uint8_t mac[16]);

#endif
