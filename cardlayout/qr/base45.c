/* base45.c - Base45 (RFC 9285) over caller buffers. */
#include "base45.h"

static const char alphabet[45] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* The value of c in the alphabet, or -1. */
static int value_of(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    for (int i = 36; i < 45; i++)
        if (alphabet[i] == c)
            return i;
    return -1;
}

size_t base45_encoded_len(size_t n)
{
    return n / 2 * 3 + (n % 2) * 2;
}

leal_err base45_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t need = base45_encoded_len(len);
    size_t o = 0;
    if (out_len == NULL || out == NULL || (in == NULL && len > 0))
        return LEAL_E_ARG;
    if (len > (SIZE_MAX - 1) / 3 || need + 1 > cap)
        return LEAL_E_NO_SPACE;
    for (size_t i = 0; i + 1 < len; i += 2) {
        unsigned v = (unsigned)in[i] * 256u + in[i + 1];
        out[o++] = alphabet[v % 45u];
        out[o++] = alphabet[v / 45u % 45u];
        out[o++] = alphabet[v / 2025u];
    }
    if (len % 2 == 1) {
        unsigned v = in[len - 1];
        out[o++] = alphabet[v % 45u];
        out[o++] = alphabet[v / 45u];
    }
    out[o] = '\0';
    *out_len = o;
    return LEAL_OK;
}

leal_err base45_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t o = 0;
    if (out_len == NULL || (in == NULL && len > 0) || (out == NULL && cap > 0))
        return LEAL_E_ARG;
    *out_len = 0;
    if (len % 3 == 1)
        return LEAL_E_FORMAT;
    if (len / 3 * 2 + (len % 3 == 2 ? 1u : 0u) > cap)
        return LEAL_E_NO_SPACE;
    for (size_t i = 0; i < len; i += 3) {
        size_t group = len - i >= 3 ? 3 : 2;
        unsigned long v = 0, scale = 1;
        for (size_t k = 0; k < group; k++) {
            int d = value_of(in[i + k]);
            if (d < 0)
                return LEAL_E_FORMAT;
            v += (unsigned long)d * scale;
            scale *= 45u;
        }
        if (group == 3) {
            if (v > 0xFFFFu)
                return LEAL_E_FORMAT;
            out[o++] = (uint8_t)(v >> 8);
            out[o++] = (uint8_t)(v & 0xFFu);
        } else {
            if (v > 0xFFu)
                return LEAL_E_FORMAT;
            out[o++] = (uint8_t)v;
        }
    }
    *out_len = o;
    return LEAL_OK;
}
