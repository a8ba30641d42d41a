/*
 * base45.h - Base45 (RFC 9285): bytes as characters of QR alphanumeric mode,
 * so a QR code carries binary at 5.5 bits a character. Two bytes become three
 * characters (value = a*256 + b = c + d*45 + e*45^2, written c d e), a last
 * odd byte two. Decoding refuses a character outside the 45 of the alphabet,
 * a length of 3k+1 and a group whose value does not fit its bytes (RFC 9285
 * section 6), so every byte string has exactly one encoding.
 * Errors: LEAL_E_FORMAT (not Base45), LEAL_E_NO_SPACE (output too small).
 * Freestanding.
 */
#ifndef LEAL_BASE45_H
#define LEAL_BASE45_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

/* Characters for n bytes (without a terminating NUL). */
size_t base45_encoded_len(size_t n);

/* Writes the encoding of in[0..len) and a NUL to out (cap >= encoded_len + 1);
 * *out_len is the character count. */
LEAL_MUST_CHECK leal_err base45_encode(const uint8_t *in, size_t len, char *out, size_t cap,
                                       size_t *out_len);

/* Decodes len characters (no NUL needed) into out; *out_len bytes. On any
 * error *out_len is 0 and out's contents are unspecified. */
LEAL_MUST_CHECK leal_err base45_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                                       size_t *out_len);

#endif
