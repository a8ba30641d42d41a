/*
 * ed25519.h - Ed25519 signature verification (RFC 8032 5.1.7), the check
 * OpenSSL 3 makes, so the two providers agree on every input: S must be
 * below L; A is decoded as RFC 8032 5.1.3 says but, as OpenSSL does, its y
 * is taken modulo p (a non-canonical y is not refused) and x = 0 with the
 * sign bit set is read as x = 0; then the cofactorless equation
 * [S]B = R + [k]A is checked as encode([S]B - [k]A) == R byte for byte, so
 * an R that is not a canonical point encoding never verifies. Small-order
 * A and R are not refused (nor does OpenSSL refuse them).
 * Not constant time: every input is public. Field arithmetic in 10 signed
 * limbs of 25.5 bits (int32 storage, int64 products): no 128-bit integers.
 * Freestanding, no allocation; 2,440 bytes of stack (provider_portable.h).
 */
#ifndef LEAL_PORTABLE_ED25519_H
#define LEAL_PORTABLE_ED25519_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

/* LEAL_OK if sig is a valid signature of msg under public_key, else
 * LEAL_E_SIGNATURE. msg may be NULL when len is 0. */
LEAL_MUST_CHECK leal_err portable_ed25519_verify(const uint8_t public_key[32], const uint8_t *msg,
                                                 size_t len, const uint8_t sig[64]);

#endif
