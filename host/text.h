/*
 * text.h - text a person typed, checked and folded: UTF-8 validity, the
 * characters a ledger refuses (controls, bidirectional overrides), the
 * accent- and case-blind search key of a name, and the normal form of a
 * phone number.
 *
 * UTF-8 is RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), no
 * code point above U+10FFFF. Refused in text fields: C0 controls, DEL, C1
 * controls (U+0080..U+009F) and the bidirectional embedding, override and
 * isolate controls U+202A..U+202E and U+2066..U+2069 (they reorder what a
 * shop assistant sees, "Trojan Source"). Pure functions, no allocation;
 * hosted only because the CLI and the ledger are.
 */
#ifndef LEAL_TEXT_H
#define LEAL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

/* Decodes the UTF-8 sequence at s (n bytes available, n >= 1): its length
 * (1..4) with the code point in *cp, or 0 if the bytes are not valid UTF-8
 * (*cp is then 0xFFFD). */
size_t text_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);

/* LEAL_OK if s is valid UTF-8 without a refused character (see above);
 * LEAL_E_TEXT otherwise, with *why (if not NULL) naming the problem in a few
 * words ("not valid UTF-8", "a bidirectional control (U+202E)"). */
LEAL_MUST_CHECK leal_err text_check(const char *s, char *why, size_t why_cap);

/* The search key of a name: lower case, accents and other diacritics dropped
 * (Latin-1 and Latin Extended-A letters to their base letters: "Núñez" ->
 * "nunez", "Ærø" -> "aero", "ß" -> "ss"; combining marks U+0300..U+036F
 * dropped, so decomposed input folds alike), runs of blanks to one space,
 * trimmed. Other characters are kept as they are. LEAL_E_TEXT if s is not
 * valid UTF-8, LEAL_E_TOO_LARGE if the key does not fit cap (with its NUL). */
LEAL_MUST_CHECK leal_err text_fold(const char *s, char *out, size_t cap);

/* The normal form of a phone number: its digits, with blanks, dots, dashes,
 * slashes and parentheses ignored; an international prefix ("+" or "00") is
 * kept as "+", except Spain's (+34 / 0034, before a digit other than 0), which is dropped so that
 * "+34 612 345 679", "0034612345679" and "612345679" are one number.
 * A number with other characters is folded like a name (text_fold), so it
 * still compares equal to itself. Same errors as text_fold. */
LEAL_MUST_CHECK leal_err text_phone_key(const char *s, char *out, size_t cap);

#endif
