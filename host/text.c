/* text.c - UTF-8 checks, name folding and phone normal form (see text.h). */
#include "text.h"

#include <stdio.h>
#include <string.h>

size_t text_utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint32_t c;
    size_t len;
    *cp = 0xFFFD;
    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        c = s[0] & 0x1Fu;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        c = s[0] & 0x0Fu;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        c = s[0] & 0x07u;
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10FFFF ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static int refused(uint32_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

leal_err text_check(const char *s, char *why, size_t why_cap)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = s ? strlen(s) : 0;
    if (why && why_cap)
        why[0] = '\0';
    while (n > 0) {
        uint32_t c;
        size_t k = text_utf8_next(p, n, &c);
        if (k == 0) {
            if (why && why_cap)
                snprintf(why, why_cap, "not valid UTF-8 (byte 0x%02X at %zu)", p[0],
                         (size_t)(p - (const uint8_t *)s));
            return LEAL_E_TEXT;
        }
        if (refused(c)) {
            if (why && why_cap)
                snprintf(why, why_cap, "%s (U+%04X)",
                         c >= 0x2000 ? "a bidirectional control" : "a control character",
                         (unsigned)c);
            return LEAL_E_TEXT;
        }
        p += k;
        n -= k;
    }
    return LEAL_OK;
}

/* Base letters of U+00C0..U+00FF and U+0100..U+017F; '.' keeps the character,
 * upper case marks a two-letter base (A ae, T th, S ss, J ij, O oe). */
static const char latin1[] = "aaaaaaAceeeeiiiidnooooo.ouuuuyTSaaaaaaAceeeeiiiidnooooo.ouuuuyTy";
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiJJjjkkk"
                                  "llllllllllnnnnnnnnnooooooOOrrrrrrssssssssttttttuuuuuuuuuuuuwwyyy"
                                  "zzzzzzs";
_Static_assert(sizeof latin1 == 64 + 1, "one base per Latin-1 letter");
_Static_assert(sizeof latin_ext_a == 128 + 1, "one base per Latin Extended-A letter");

struct out {
    char *p;
    size_t len, cap;
    int full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put_base(struct out *o, char b)
{
    switch (b) {
    case 'A':
        put(o, "ae", 2);
        break;
    case 'T':
        put(o, "th", 2);
        break;
    case 'S':
        put(o, "ss", 2);
        break;
    case 'J':
        put(o, "ij", 2);
        break;
    case 'O':
        put(o, "oe", 2);
        break;
    default:
        put(o, &b, 1);
    }
}

leal_err text_fold(const char *s, char *out, size_t cap)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = s ? strlen(s) : 0;
    struct out o = {out, 0, cap, 0};
    int blank = 0;
    if (cap == 0)
        return LEAL_E_TOO_LARGE;
    out[0] = '\0';
    while (n > 0 && !o.full) {
        uint32_t c;
        size_t k = text_utf8_next(p, n, &c);
        if (k == 0)
            return LEAL_E_TEXT;
        if (c == ' ' || c == '\t' || c == 0xA0) {
            blank = o.len > 0;
        } else if (c >= 0x300 && c <= 0x36F) {
            /* a combining mark: the letter before it already stands */
        } else {
            if (blank)
                put(&o, " ", 1);
            blank = 0;
            if (c < 0x80) {
                char a = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
                put(&o, &a, 1);
            } else if (c >= 0xC0 && c <= 0xFF && latin1[c - 0xC0] != '.') {
                put_base(&o, latin1[c - 0xC0]);
            } else if (c >= 0x100 && c <= 0x17F) {
                put_base(&o, latin_ext_a[c - 0x100]);
            } else {
                put(&o, (const char *)p, k);
            }
        }
        p += k;
        n -= k;
    }
    if (o.full) {
        out[0] = '\0';
        return LEAL_E_TOO_LARGE;
    }
    out[o.len] = '\0';
    return LEAL_OK;
}

static leal_err phone_number(const char *s, char *out, size_t cap, int *plain);

leal_err text_phone_key(const char *s, char *out, size_t cap)
{
    char folded[512];
    leal_err err;
    int plain;
    if ((err = phone_number(s, out, cap, &plain)) != LEAL_OK || plain)
        return err;
    /* Not a plain number: compared as folded text, unless folding made it one
     * ("+34 61\t" folds to "+34 61"), so that a key is its own key. */
    if ((err = text_fold(s, folded, sizeof folded)) != LEAL_OK)
        return err;
    if ((err = phone_number(folded, out, cap, &plain)) != LEAL_OK || plain)
        return err;
    if (strlen(folded) >= cap)
        return LEAL_E_TOO_LARGE;
    snprintf(out, cap, "%s", folded);
    return LEAL_OK;
}

/* The number form of s if it is a plain number (*plain 1), else *plain 0. */
static leal_err phone_number(const char *s, char *out, size_t cap, int *plain)
{
    char digits[256];
    size_t nd = 0;
    int intl = 0;
    const char *p = s ? s : "";
    *plain = 1;
    if (cap == 0)
        return LEAL_E_TOO_LARGE;
    out[0] = '\0';
    for (; *p; p++) {
        if (*p == '+' && nd == 0 && !intl) {
            intl = 1; /* "+34", "(+34)": before the first digit only */
        } else if (*p >= '0' && *p <= '9') {
            if (nd + 1 >= sizeof digits)
                return LEAL_E_TOO_LARGE;
            digits[nd++] = *p;
        } else if (!strchr(" .-/()", *p)) {
            *plain = 0;
            return LEAL_OK;
        }
    }
    digits[nd] = '\0';
    if (!intl && nd > 2 && digits[0] == '0' && digits[1] == '0') {
        intl = 1;
        memmove(digits, digits + 2, nd - 1);
        nd -= 2;
    }
    if (intl && nd > 2 && digits[0] == '3' && digits[1] == '4' && digits[2] != '0') {
        intl = 0; /* Spain: the national number (which never starts with 0) */
        memmove(digits, digits + 2, nd - 1);
        nd -= 2;
    }
    if (nd + (size_t)intl + 1 > cap)
        return LEAL_E_TOO_LARGE;
    snprintf(out, cap, "%s%s", intl ? "+" : "", digits);
    return LEAL_OK;
}
