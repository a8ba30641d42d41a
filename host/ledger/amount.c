/* amount.c - euros in cents and whole units, parsed strictly (see amount.h). */
#include "amount.h"

#include <stdio.h>

#include "keys/base/limits.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Accumulates digits s[*i..] into *v (at least one digit), refusing values
 * above max before the multiplication that would pass it. */
static leal_err digits(const char *s, size_t len, size_t *i, int64_t max, int64_t *v, size_t *n)
{
    *n = 0;
    while (*i < len && is_digit(s[*i])) {
        int64_t d = s[*i] - '0';
        if (*v > (max - d) / 10)
            return LEAL_E_AMOUNT_RANGE;
        *v = *v * 10 + d;
        (*i)++;
        (*n)++;
    }
    return LEAL_OK;
}

leal_err amount_parse(const char *s, size_t len, int64_t *cents)
{
    leal_err err;
    size_t i = 0, n = 0, nd = 0;
    int64_t whole = 0, frac = 0;
    int neg = 0;

    *cents = 0;
    if (s == NULL || len == 0 || len > LEAL_MAX_AMOUNT_TEXT)
        return len > LEAL_MAX_AMOUNT_TEXT ? LEAL_E_AMOUNT_RANGE : LEAL_E_AMOUNT;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    err = digits(s, len, &i, AMOUNT_MAX_CENTS / 100, &whole, &n);
    if (err != LEAL_OK)
        return err;
    if (n == 0)
        return LEAL_E_AMOUNT;
    if (i < len) {
        if (s[i] != '.' && s[i] != ',')
            return LEAL_E_AMOUNT;
        i++;
        err = digits(s, len, &i, 99, &frac, &nd);
        /* A third decimal (or "1.234" meant as a thousand) is ambiguous: refuse. */
        if (err != LEAL_OK || nd == 0 || nd > 2 || i != len)
            return LEAL_E_AMOUNT;
        if (nd == 1)
            frac *= 10;
    }
    *cents = (neg ? -1 : 1) * (whole * 100 + frac);
    return LEAL_OK;
}

leal_err amount_parse_units(const char *s, size_t len, int64_t *units)
{
    leal_err err;
    size_t i = 0, n = 0;
    int64_t v = 0;
    int neg = 0;

    *units = 0;
    if (s == NULL || len == 0 || len > LEAL_MAX_AMOUNT_TEXT)
        return len > LEAL_MAX_AMOUNT_TEXT ? LEAL_E_AMOUNT_RANGE : LEAL_E_AMOUNT;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    err = digits(s, len, &i, AMOUNT_MAX_UNITS, &v, &n);
    if (err != LEAL_OK)
        return err;
    if (n == 0 || i != len)
        return LEAL_E_AMOUNT;
    *units = neg ? -v : v;
    return LEAL_OK;
}

leal_err amount_format(int64_t cents, char *out, size_t cap)
{
    /* The magnitude as unsigned, so INT64_MIN formats without overflow. */
    uint64_t m = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    int n;
    if (out == NULL || cap == 0)
        return LEAL_E_NO_SPACE;
    n = snprintf(out, cap, "%s%llu.%02llu", cents < 0 ? "-" : "", (unsigned long long)(m / 100),
                 (unsigned long long)(m % 100));
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return LEAL_E_NO_SPACE;
    }
    return LEAL_OK;
}

const char *amount_text(int64_t cents, char buf[AMOUNT_FORMAT_MAX])
{
    if (amount_format(cents, buf, AMOUNT_FORMAT_MAX) != LEAL_OK)
        buf[0] = '\0'; /* unreachable: AMOUNT_FORMAT_MAX holds INT64_MIN's text */
    return buf;
}
