/*
 * mail_dsn.h - delivery status notifications (RFC 3464), the bounces a mail
 * server returns, read from outside bytes (issue 17: `leal messages
 * bounces`). A bounded parser: it reads only the n bytes it is given (no NUL
 * needed), allocates nothing, copies every field into fixed buffers
 * (truncated, never overrun) and takes time linear in n.
 *
 * What it reads: a message whose Content-Type is multipart/report with
 * report-type=delivery-status (RFC 6522); its message/delivery-status part
 * (or message/global-delivery-status, RFC 6533): the per-recipient groups'
 * Action, Status, Final-Recipient, Original-Recipient and Diagnostic-Code;
 * and the returned message (message/rfc822, text/rfc822-headers or
 * message/global-headers): its Message-ID. Header fields may be folded and
 * lines end in LF or CRLF. Transfer encodings are not decoded (RFC 2046
 * gives the message types no encoding but 7bit, 8bit and binary).
 *
 * Also the messages of an mbox file (mail_mbox_next). Hosted (no OS calls).
 * Errors: LEAL_E_DSN_MALFORMED.
 */
#ifndef LEAL_MAIL_DSN_H
#define LEAL_MAIL_DSN_H

#include <stddef.h>

#include "keys/base/err.h"

#define MAIL_DSN_MAX (4u << 20) /* the largest report read, in bytes */

struct mail_dsn {
    /* The recipient group read: the first whose Action is "failed", else
     * the first "delayed", else the first. Lowercase. */
    char action[16];
    char status[10];      /* "5.1.1": class 2, 4 or 5, then 1-3 and 1-3 digits */
    char recipient[255];  /* the rfc822 Original-Recipient, else Final-Recipient, lowercase;
                             "" if neither is an rfc822 address */
    char diagnostic[200]; /* Diagnostic-Code's text after "smtp;"; printable ASCII
                             (other bytes as '?'), "" if none */
    /* The returned message's Message-ID when it is leal's "<TOKEN.N@DOMAIN>"
     * (TOKEN 32 lowercase hex digits, N the send attempt, 1 to 999999 without
     * a leading zero) or the older "<TOKEN@DOMAIN>": TOKEN; "" otherwise. */
    char token[33];
    unsigned attempt; /* N; 0 for "<TOKEN@DOMAIN>" or no token */
    /* The report's own Message-ID as it is (printable ASCII), "" if none:
     * with the fields above it tells one report from another. */
    char report_id[128];
    size_t recipients; /* how many recipient groups the report has */
};

/* Parses the report in data[0..n) into *out (zeroed first).
 * LEAL_E_DSN_MALFORMED when it is not a multipart/report of type
 * delivery-status, has no delivery-status part, no recipient group or a
 * recipient group without a valid Action and Status, or is over MAIL_DSN_MAX
 * bytes. */
LEAL_MUST_CHECK leal_err mail_dsn_parse(const char *data, size_t n, struct mail_dsn *out);

/* The messages of a file: an mbox (it starts with "From "; each message
 * starts at a "From " line at the start or after an empty line, the line
 * itself left out) or else one message (the whole file). Call with *off 0
 * first; each call gives the next message as data[*start .. *start + *len)
 * and returns 1, or 0 when there is none left. */
int mail_mbox_next(const char *data, size_t n, size_t *off, size_t *start, size_t *len);

#endif
