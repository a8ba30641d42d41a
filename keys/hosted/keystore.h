/*
 * keystore.h - leal's encrypted container, used for the keystore, its
 * backups and terminal bundles (the kind byte tells them apart).
 *
 *   "LEAL" kind(1) format-version(1) 00 00
 *   kdf-id(1)=1 log2N(1) r(1) p(1) salt(16)      scrypt via OpenSSL EVP_KDF "SCRYPT"
 *   nonce(12) length(4, BE)
 *   ciphertext(length) tag(16)                   AES-256-GCM, AAD = all header bytes
 *
 * The header is authenticated, so a flipped bit anywhere is refused as a
 * wrong passphrase or an altered file. KDF parameters are kept in the header;
 * format 1 accepts r = 8, p = 1 and N from 2^10 to 2^17 (leal writes 2^17
 * unless told less, keystore_kdf_for), so a forged header is refused before
 * any key derivation and cannot make us spend more than one default open.
 * Buffers holding plaintext come from secmem.h (out of core dumps, locked
 * where allowed). Hosted (OpenSSL 3).
 * Errors: LEAL_E_FORMAT (not this kind of file), LEAL_E_KEYSTORE_VERSION
 * (newer format), LEAL_E_KEYSTORE_CORRUPT (truncated, bad parameters),
 * LEAL_E_PASSPHRASE (tag mismatch), LEAL_E_CRYPTO, LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_KEYSTORE_H
#define LEAL_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

enum keystore_kind {
    KEYSTORE_KIND_KEYSTORE = 'K',
    KEYSTORE_KIND_BACKUP = 'B',
    KEYSTORE_KIND_BUNDLE = 'T',
};

struct keystore_kdf {
    uint8_t log2_n;
    uint8_t r;
    uint8_t p;
};

/* scrypt N = 2^17, r = 8, p = 1: 128 MiB and about half a second per open. */
#define KEYSTORE_KDF_DEFAULT ((struct keystore_kdf){17, 8, 1})
/* The cheapest N a file may name, 2^10: 1 MiB and a few milliseconds, for
 * tests and demos that open their files hundreds of times. A lower N makes
 * a stolen file's passphrase cheaper to guess by the same factor. */
#define KEYSTORE_LOG2N_MIN 10
#define KEYSTORE_HEADER_LEN 44
#define KEYSTORE_TAG_LEN 16

/* A passphrase: len bytes at text (no terminator needed); never kept. */
struct keystore_pass {
    const char *text;
    size_t len;
};

/* Bytes handed in to seal or open: len bytes at p. */
struct keystore_bytes {
    const uint8_t *p;
    size_t len;
};

/* The parameters to seal with: KEYSTORE_KDF_DEFAULT, or N = 2^log2_n with
 * the default r and p when log2_n is from KEYSTORE_LOG2N_MIN to the
 * default's (LEAL_E_ARG otherwise). */
LEAL_MUST_CHECK leal_err keystore_kdf_for(unsigned log2_n, struct keystore_kdf *kdf);
/* Encrypts plain under pass; *out is released with keystore_free. kdf must
 * be one keystore_kdf_for gives (LEAL_E_ARG otherwise). */
LEAL_MUST_CHECK leal_err keystore_seal(enum keystore_kind kind, struct keystore_pass pass,
                                       struct keystore_kdf kdf, struct keystore_bytes plain,
                                       uint8_t **out, size_t *out_len);
/* Checks the header (kind, version, parameters) without a passphrase. */
LEAL_MUST_CHECK leal_err keystore_peek(enum keystore_kind kind, const uint8_t *in, size_t len);
/* Decrypts sealed; *plain (secmem.h memory) must be released with keystore_free. */
LEAL_MUST_CHECK leal_err keystore_open(enum keystore_kind kind, struct keystore_pass pass,
                                       struct keystore_bytes sealed, uint8_t **plain,
                                       size_t *plain_len);
/* Wipes and frees a buffer from seal/open (or secmem_alloc); NULL allowed. */
void keystore_free(uint8_t *p, size_t len);

#endif
