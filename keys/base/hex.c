/* hex.c - the hex codec (hex.h). */
#include "hex.h"

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

leal_err leal_hex_encode(const uint8_t *p, size_t n, bool upper, char *out, size_t cap)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    if (out == NULL || (p == NULL && n > 0))
        return LEAL_E_ARG;
    if (cap == 0 || n > (cap - 1) / 2) {
        if (cap > 0)
            out[0] = '\0';
        return LEAL_E_NO_SPACE;
    }
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0F];
    }
    out[2 * n] = '\0';
    return LEAL_OK;
}

leal_err leal_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
    if (n == NULL)
        return LEAL_E_ARG;
    *n = 0;
    if ((s == NULL || out == NULL) && len > 0)
        return LEAL_E_ARG;
    if (len % 2 != 0)
        return LEAL_E_FORMAT;
    if (len / 2 > cap)
        return LEAL_E_NO_SPACE;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = digit_value(s[2 * i]), lo = digit_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return LEAL_E_FORMAT;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = len / 2;
    return LEAL_OK;
}
