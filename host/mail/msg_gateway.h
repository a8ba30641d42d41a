/*
 * msg_gateway.h - SMS and WhatsApp through an HTTP gateway (issue 17): one
 * outbound request per message to the program's webhook (URL, method,
 * header lines, a body made from its template), whose answer decides: a
 * 2xx status is sent, anything else is not. The gateway's secret (an API
 * key, a token) lives in a file of its own, mode 0600, and goes only into
 * the header lines that name {{secret}}: never into the ledger, a log or an
 * error. Hosted. Errors: LEAL_E_GATEWAY_SECRET, LEAL_E_GATEWAY_UNREACHABLE,
 * LEAL_E_GATEWAY_STATUS, LEAL_E_GATEWAY_REJECTED, LEAL_E_GATEWAY_CONFIG,
 * LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_MSG_GATEWAY_H
#define LEAL_MSG_GATEWAY_H

#include <stddef.h>

#include "keys/base/err.h"

/* The largest secret file, and header lines together. */
#define MSG_GATEWAY_SECRET_MAX 4096
#define MSG_GATEWAY_HEADERS_MAX 2048

struct msg_gateway {
    const char *url;         /* http:// or https:// */
    const char *method;      /* "POST" or "PUT" */
    const char *format;      /* "json" or "form": how values are escaped, and the Content-Type */
    const char *headers;     /* "Name: value" lines (LF); {{secret}} is the secret file's */
    const char *secret_file; /* path, or "" for none */
    unsigned timeout_s;      /* the whole request; 0: 30 seconds */
};

/* in escaped for a body of format (JSON string contents, or
 * application/x-www-form-urlencoded), malloc'd into *out. */
LEAL_MUST_CHECK leal_err msg_gateway_escape(const char *format, const char *in, char **out);

/* 0 if the header lines are "Name: value" lines (a token name, printable
 * values, at most MSG_GATEWAY_HEADERS_MAX bytes) using no variable but
 * {{secret}}; else LEAL_E_GATEWAY_CONFIG. */
LEAL_MUST_CHECK leal_err msg_gateway_headers_check(const char *headers);

/* 0 if path is a secret file send would read: a regular file of this
 * user, mode 0600 or stricter, a non-empty first line of printable bytes;
 * else LEAL_E_GATEWAY_SECRET. */
LEAL_MUST_CHECK leal_err msg_gateway_secret_check(const char *path);

/* Sends body through g; *status: the HTTP status (0: none). LEAL_OK for a
 * 2xx answer. A 4xx other than 408 (timeout) and 429 (too many requests)
 * says the request itself is wrong and will stay wrong:
 * LEAL_E_GATEWAY_REJECTED, with why naming the status, the start of the
 * gateway's answer (printable bytes only) and what to check. Any other
 * status (408, 429, 5xx, ...): LEAL_E_GATEWAY_STATUS, with why naming it;
 * without an answer: LEAL_E_GATEWAY_UNREACHABLE. Both may pass later.
 * *retry_after_s: the seconds of a 429 or 503 answer's Retry-After header
 * (either form, as libcurl reads it), else 0. */
LEAL_MUST_CHECK leal_err msg_gateway_send(const struct msg_gateway *g, const char *body,
                                          long *status, long *retry_after_s, char *why, size_t cap);

/* An SMS's length: GSM-7 (3GPP TS 23.038's default alphabet, its
 * extension characters ^ { } \ [ ~ ] | EUR counting two) when every
 * character is in it, else UCS-2 (UTF-16 units). One SMS holds 160 GSM-7
 * characters or 70 UCS-2 units; a longer text goes as a concatenated SMS of
 * parts of 153 or 67. Text that is not UTF-8 counts as UCS-2, a byte a unit. */
#define MSG_SMS_MAX_PARTS 3
struct msg_sms_length {
    size_t units; /* septets (GSM-7) or UTF-16 units (UCS-2) */
    int ucs2;     /* 1: some character is outside GSM-7 */
    size_t parts; /* SMS it takes (1 for an empty text) */
};
void msg_sms_length(const char *text, struct msg_sms_length *out);

#endif
