/*
 * sha512.h - SHA-512 (FIPS 180-4 6.4), incremental, for Ed25519 (RFC 8032).
 * Constant time in the message bytes; the time depends on the length only.
 * 64-bit words on any target (a 32-bit CPU does them in pairs). Freestanding,
 * no allocation; the context is the caller's (208 bytes).
 */
#ifndef LEAL_PORTABLE_SHA512_H
#define LEAL_PORTABLE_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define PORTABLE_SHA512_LEN 64

struct portable_sha512 {
    uint64_t h[8];
    uint64_t bytes; /* message length so far (2^64 bytes is enough here) */
    uint8_t block[128];
};

void portable_sha512_init(struct portable_sha512 *ctx);
/* msg may be NULL when len is 0. */
void portable_sha512_update(struct portable_sha512 *ctx, const uint8_t *msg, size_t len);
/* Writes the digest and wipes ctx. */
void portable_sha512_final(struct portable_sha512 *ctx, uint8_t digest[64]);
/* One call: digest of len bytes at msg. */
void portable_sha512(const uint8_t *msg, size_t len, uint8_t digest[64]);

#endif
