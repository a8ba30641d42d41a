/* fuzz_mail_dsn.c - host/mail's bounce parser (mail_dsn_parse) and mbox
 * splitter (mail_mbox_next) on any bytes, given without a NUL after them
 * (a copy of exactly size bytes, so ASan sees any read past the end). Never
 * a crash; mbox messages lie inside the input, in order, without overlap,
 * and the walk ends; on LEAL_OK the report's fields are NUL-terminated,
 * its status a class 2, 4 or 5 code, its token empty or 32 lowercase hex
 * digits, its recipient lowercase, at least one recipient group; on an
 * error the result is all zero. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/mail/mail_dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *m, size_t n)
{
    struct mail_dsn d;
    leal_err err = mail_dsn_parse(m, n, &d);
    if (err == LEAL_OK) {
        if (!memchr(d.action, 0, sizeof d.action) || !memchr(d.status, 0, sizeof d.status) ||
            !memchr(d.recipient, 0, sizeof d.recipient) ||
            !memchr(d.diagnostic, 0, sizeof d.diagnostic) || !memchr(d.token, 0, sizeof d.token) ||
            !memchr(d.report_id, 0, sizeof d.report_id))
            abort();
        if (!strchr("245", d.status[0]) || d.status[0] == '\0' || d.status[1] != '.' ||
            d.recipients == 0)
            abort();
        size_t tl = strlen(d.token);
        if (tl != 0 && tl != 32)
            abort();
        for (size_t i = 0; i < tl; i++)
            if (!strchr("0123456789abcdef", d.token[i]))
                abort();
        for (const char *p = d.recipient; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                abort();
    } else {
        static const struct mail_dsn zero;
        if (err != LEAL_E_DSN_MALFORMED || memcmp(&d, &zero, sizeof d) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    size_t off = 0, start = 0, len = 0, last = 0, count = 0;
    while (mail_mbox_next(in, size, &off, &start, &len)) {
        if (start < last || start + len > size || off > size || ++count > size + 1)
            abort();
        last = start + len;
        check(in + start, len);
    }
    if (size && count == 0)
        abort();
    free(in);
    return 0;
}
