/* strbuf.c - a growing buffer of bytes (strbuf.h). */
#include "host/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL, or the failure set. */
static int room(struct strbuf *b, size_t n)
{
    size_t max = b->max ? b->max : STRBUF_MAX_DEFAULT, cap;
    char *p;
    if (b->err != LEAL_OK)
        return 0;
    if (n > max || b->len > max - n) {
        b->err = LEAL_E_TOO_LARGE;
        return 0;
    }
    if (b->p != NULL && b->len + n < b->cap)
        return 1;
    cap = b->cap ? b->cap : 256;
    while (cap <= b->len + n)
        cap *= 2;
    if ((p = realloc(b->p, cap)) == NULL) {
        b->err = LEAL_E_NO_MEMORY;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void strbuf_add(struct strbuf *b, const void *s, size_t n)
{
    if (!room(b, n))
        return;
    if (n > 0)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void strbuf_str(struct strbuf *b, const char *s)
{
    strbuf_add(b, s, strlen(s));
}

void strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n;
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0) {
        if (b->err == LEAL_OK)
            b->err = LEAL_E_ARG;
        return;
    }
    if (!room(b, (size_t)n))
        return;
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    b->len += (size_t)n;
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void strbuf_fail(struct strbuf *b, leal_err err)
{
    if (b->err == LEAL_OK)
        b->err = err;
}

void strbuf_reset(struct strbuf *b)
{
    b->len = 0;
    if (b->p != NULL)
        b->p[0] = '\0';
}

leal_err strbuf_err(const struct strbuf *b)
{
    return b->err;
}

void strbuf_free(struct strbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = LEAL_OK;
}

void strbuf_wipe(struct strbuf *b)
{
    if (b->p != NULL)
        explicit_bzero(b->p, b->cap);
    strbuf_free(b);
}
