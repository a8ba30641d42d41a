/*
 * amount.h - euros as integer cents and points as integers, parsed from and
 * formatted for people. Accepted: an optional '-', digits, and optionally one
 * decimal separator ('.' or ',') followed by one or two digits: "12", "12.5",
 * "12,50", "-0.07". Refused: thousands separators ("1.234,56", "1,234.50" are
 * ambiguous), more than two decimals, spaces, '+', empty parts (".5", "12.").
 * Magnitudes above AMOUNT_MAX_CENTS are refused before any arithmetic could
 * overflow. Hosted (no allocation; no locale).
 * Errors: LEAL_E_AMOUNT (malformed), LEAL_E_AMOUNT_RANGE (too large),
 * LEAL_E_NUMBER (malformed integer), LEAL_E_NO_SPACE (format buffer).
 */
#ifndef LEAL_AMOUNT_H
#define LEAL_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

/* 99,999,999,999.99 euros: far above any loyalty movement, and small enough
 * that 90,000 such lines still sum inside int64. */
#define AMOUNT_MAX_CENTS INT64_C(9999999999999)
/* Largest points or stamp count in one line. */
#define AMOUNT_MAX_UNITS INT64_C(9999999999999)
/* "-99999999999.99" plus NUL. */
#define AMOUNT_FORMAT_MAX 24

/* Parses len bytes of s (no NUL needed) as euros into *cents. */
LEAL_MUST_CHECK leal_err amount_parse(const char *s, size_t len, int64_t *cents);

/* Parses len bytes of s as a whole number of points or stamps (optional '-';
 * no separators, no decimals) into *units; LEAL_E_AMOUNT if malformed. */
LEAL_MUST_CHECK leal_err amount_parse_units(const char *s, size_t len, int64_t *units);

/* Writes cents as euros with two decimals ("-12.50") and a NUL; any int64. */
LEAL_MUST_CHECK leal_err amount_format(int64_t cents, char *out, size_t cap);
/* amount_format into buf, which holds any int64's text, for building messages:
 * returns buf. Every euro amount leal shows goes through amount_format. */
const char *amount_text(int64_t cents, char buf[AMOUNT_FORMAT_MAX]);

#endif
