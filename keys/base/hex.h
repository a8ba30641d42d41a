/*
 * hex.h - bytes as hexadecimal text and back: leal's one hex codec (card
 * files, UIDs typed at the desk, fingerprints, hashes kept in the ledger).
 * Encoding writes two digits a byte and a NUL; decoding takes exactly len
 * characters, two a byte, either case, nothing else (no sign, space,
 * separator or "0x"). Bounded: the caller gives every capacity. Freestanding.
 * Errors: LEAL_E_NO_SPACE (output too small), LEAL_E_FORMAT (odd length or a
 * character that is not a hex digit), LEAL_E_ARG (NULL with a length).
 */
#ifndef LEAL_HEX_H
#define LEAL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Writes the n bytes at p as 2n digits and a NUL into out (cap >= 2n + 1),
 * lower-case, or upper-case when upper. On error out is "" (if cap > 0). */
LEAL_MUST_CHECK leal_err leal_hex_encode(const uint8_t *p, size_t n, bool upper, char *out,
                                         size_t cap);

/* Decodes the len characters at s into out (at most cap bytes); *n gets
 * len / 2. On error *n is 0 and out holds nothing meaningful. */
LEAL_MUST_CHECK leal_err leal_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap,
                                         size_t *n);

#endif
