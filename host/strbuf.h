/*
 * strbuf.h - a growing buffer of bytes for the host's writers (charts as
 * SVG, mail messages and templates, QR images, the ledger's PostgreSQL
 * array literals). Appends copy their bytes to the end and keep one NUL
 * after them (not counted in len), so p is a C string while only text went
 * in. It grows by doubling, never past its bound: max bytes (0, as in an
 * all-zero buffer, is STRBUF_MAX_DEFAULT). The first failure sticks: every
 * later append does nothing and strbuf_err says why (LEAL_E_NO_MEMORY: an
 * allocation failed; LEAL_E_TOO_LARGE: past the bound; LEAL_E_ARG: a
 * format the C library could not print), so a writer checks once, at the
 * end. An all-zero struct strbuf is an empty buffer (p NULL until the first
 * append). The owner frees it with strbuf_free (strbuf_wipe first zeroes
 * every byte it held, for secrets), or takes p (then free(p)). Hosted; one
 * thread at a time per buffer.
 */
#ifndef LEAL_STRBUF_H
#define LEAL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "keys/base/err.h"

#define STRBUF_MAX_DEFAULT ((size_t)64 << 20)

struct strbuf {
    char *p;    /* the bytes, NUL after them; NULL before the first append */
    size_t len; /* bytes held, the NUL not counted */
    size_t cap; /* bytes allocated */
    size_t max; /* the bound on len; 0: STRBUF_MAX_DEFAULT */
    leal_err err;
};

/* Appends n bytes of s (NULL is fine when n is 0: the buffer then exists). */
void strbuf_add(struct strbuf *b, const void *s, size_t n);
/* Appends the C string s. */
void strbuf_str(struct strbuf *b, const char *s);
/* Appends what printf would print. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Records a writer's own failure (its first failure sticks, as an append's). */
void strbuf_fail(struct strbuf *b, leal_err err);
/* Empties it (len 0, the NUL at p[0] if p), keeping its memory and any failure. */
void strbuf_reset(struct strbuf *b);
/* LEAL_OK, or the first failure. */
LEAL_MUST_CHECK leal_err strbuf_err(const struct strbuf *b);
/* Frees it: an empty buffer again. */
void strbuf_free(struct strbuf *b);
/* As strbuf_free, every allocated byte zeroed first. */
void strbuf_wipe(struct strbuf *b);

#endif
