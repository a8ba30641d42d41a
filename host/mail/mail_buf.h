/*
 * mail_buf.h - host/mail's growing text buffer, shared by the composer
 * (mail.c) and the template renderer (mail_render.c). A failed append sets
 * oom and later appends do nothing, so a writer checks once at the end.
 * Hosted; internal to host/mail.
 */
#ifndef LEAL_MAIL_BUF_H
#define LEAL_MAIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct mail_buf {
    char *p; /* NUL-terminated after every append; NULL before the first */
    size_t len, cap;
    bool oom;
};

/* Appends n bytes of s. */
void mail_buf_add(struct mail_buf *b, const char *s, size_t n);

#endif
