/*
 * sha256.h - SHA-256 (FIPS 180-4 6.2), incremental. Constant time in the
 * message bytes (no table indexed by data, no data-dependent branch); the
 * time depends on the length only. Freestanding, no allocation; the context
 * is the caller's (108 bytes).
 */
#ifndef LEAL_PORTABLE_SHA256_H
#define LEAL_PORTABLE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PORTABLE_SHA256_LEN 32

struct portable_sha256 {
    uint32_t h[8];
    uint64_t bytes; /* message length so far */
    uint8_t block[64];
};

void portable_sha256_init(struct portable_sha256 *ctx);
/* msg may be NULL when len is 0. */
void portable_sha256_update(struct portable_sha256 *ctx, const uint8_t *msg, size_t len);
/* Writes the digest and wipes ctx. */
void portable_sha256_final(struct portable_sha256 *ctx, uint8_t digest[32]);

#endif
