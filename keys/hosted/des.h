/*
 * des.h - DES and 3DES for the DESFire legacy (0x0A) and ISO (0x1A)
 * authentications, host only: the virtual card and host tools. Built on
 * OpenSSL's default provider: single DES is 3DES with three equal keys and
 * 2-key 3DES is K1 K2 K1, so the legacy provider is never loaded.
 * Keys are 8, 16 or 24 bytes; parity bits are ignored. Lengths are multiples
 * of 8. Errors: LEAL_E_ARG (key or length), LEAL_E_CRYPTO. Hosted.
 */
#ifndef LEAL_DES_H
#define LEAL_DES_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

#define DES_BLOCK 8

LEAL_MUST_CHECK leal_err des_ecb_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[8],
                                         uint8_t out[8]);
LEAL_MUST_CHECK leal_err des_ecb_decrypt(const uint8_t *key, size_t key_len, const uint8_t in[8],
                                         uint8_t out[8]);
/* CBC; iv is updated to the last ciphertext block so calls chain. */
LEAL_MUST_CHECK leal_err des_cbc_encrypt(const uint8_t *key, size_t key_len, uint8_t iv[8],
                                         const uint8_t *in, uint8_t *out, size_t len);
LEAL_MUST_CHECK leal_err des_cbc_decrypt(const uint8_t *key, size_t key_len, uint8_t iv[8],
                                         const uint8_t *in, uint8_t *out, size_t len);

#endif
