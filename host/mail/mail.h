/*
 * mail.h - e-mail out through SMTP (libcurl): a program's server settings,
 * its credentials read from a 0600 file (never logged, never in an error,
 * wiped from memory after use), and a message as plain text with an optional
 * HTML alternative (multipart/alternative, UTF-8, base64 bodies so no line or
 * byte of the text can break the MIME structure). Messages to customers
 * (issue 17) and the back office's sign-in links (issue 16) send through it.
 * Hosted.
 *
 * Safety: every address and header is checked before a byte is sent (no CR,
 * LF or other control characters, so no header injection); credentials are
 * never sent over a connection without TLS (MAIL_TLS_NONE with credentials is
 * refused); the server's certificate is always verified (ca_file adds a
 * private CA, it never turns verification off).
 *
 * Errors: LEAL_E_MAIL_CONFIG, LEAL_E_MAIL_CREDENTIALS, LEAL_E_MAIL_ADDRESS,
 * LEAL_E_MAIL_UNREACHABLE (transient: retry later), LEAL_E_MAIL_AUTH,
 * LEAL_E_MAIL_REFUSED (permanent: a 5xx answer), LEAL_E_MAIL_TLS,
 * LEAL_E_TEXT (a body or subject not valid UTF-8), LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_MAIL_H
#define LEAL_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

/* How the connection is protected. STARTTLS is the default (value 0). */
enum mail_tls {
    MAIL_TLS_STARTTLS = 0, /* plain connect, then STARTTLS required before anything else */
    MAIL_TLS_IMPLICIT = 1, /* TLS from the first byte (smtps, usually port 465) */
    MAIL_TLS_NONE = 2      /* no TLS: only for a relay on this machine; no credentials */
};

#define MAIL_CREDENTIAL_MAX 256 /* bytes of a user name or password */

struct mail_server {
    const char *host;        /* name or address of the SMTP server */
    uint16_t port;           /* 0: 587 (STARTTLS), 465 (IMPLICIT) or 25 (NONE) */
    enum mail_tls tls;       /* see above */
    const char *from;        /* sender address (envelope and From:) */
    const char *from_name;   /* display name in From:, may be NULL */
    const char *credentials; /* path of a 0600 file "USER\nPASSWORD\n"; NULL: no AUTH */
    const char *ca_file;     /* PEM file of a CA to trust besides the system's; NULL: none */
    unsigned timeout_s;      /* whole exchange; 0: 60 seconds */
};

struct mail_message {
    const char *to;          /* one recipient address */
    const char *subject;     /* UTF-8, one line */
    const char *text;        /* the plain-text body, UTF-8 */
    const char *html;        /* the HTML alternative, UTF-8; NULL: text only */
    const char *message_id;  /* "LOCAL@DOMAIN" without <>; NULL: random */
    const char *unsubscribe; /* List-Unsubscribe target (a URL); NULL: no header */
    int64_t date;            /* Date: in Unix seconds (UTC); 0: now */
    /* A second List-Unsubscribe target, the one-click web link (RFC 8058),
     * after the first; it adds "List-Unsubscribe-Post: List-Unsubscribe=One-Click".
     * NULL: none. Needs unsubscribe. */
    const char *unsubscribe_post;
};

/* Reads the credentials file at path: a regular file owned by this user,
 * mode 0600 or stricter (else LEAL_E_MAIL_CREDENTIALS), the user on the first
 * line and the password on the second. user and pass must hold
 * MAIL_CREDENTIAL_MAX + 1 bytes; the caller wipes them (explicit_bzero). */
LEAL_MUST_CHECK leal_err mail_credentials_read(const char *path, char *user, char *pass);

/* The credentials file's n bytes (no NUL, at most 1024) parsed as above:
 * line endings LF or CRLF, both lines non-empty and at most
 * MAIL_CREDENTIAL_MAX bytes; else LEAL_E_MAIL_CREDENTIALS. */
LEAL_MUST_CHECK leal_err mail_credentials_parse(const char *data, size_t n, char *user, char *pass);

/* 0 if addr is a plausible single address (LOCAL@DOMAIN, printable ASCII or
 * UTF-8, no spaces, quotes, angle brackets or controls, at most 254 bytes);
 * LEAL_E_MAIL_ADDRESS otherwise. */
LEAL_MUST_CHECK leal_err mail_address_check(const char *addr);

/* The message exactly as it goes on the wire (CRLF lines, without SMTP's
 * dot-stuffing), malloc'd into *out (NUL-terminated; *len excludes the NUL).
 * The same server and message (with date and message_id set) give the same
 * bytes: the MIME boundary is derived from the content. */
LEAL_MUST_CHECK leal_err mail_compose(const struct mail_server *srv, const struct mail_message *m,
                                      char **out, size_t *len);

/* Sends m through srv. On failure why (if not NULL) gets one line naming the
 * server and its answer (never a credential). */
LEAL_MUST_CHECK leal_err mail_send(const struct mail_server *srv, const struct mail_message *m,
                                   char *why, size_t why_cap);

#endif
