/*
 * web_server.h - `leal serve`: the back office over HTTP (libmicrohttpd, one
 * internal thread, so one ledger connection serves every request in turn;
 * on PostgreSQL it is checked before each request and made again when lost,
 * a request meanwhile answered 503, LEAL_E_PG_CONNECT;
 * the mail of sign-in and reset links goes out from a thread of its own after
 * the answer, host/web/web_mail.h).
 * Routes: the JSON API under /api/ (host/web/web_api.h: each checked against
 * the role table before its handler), the pages embedded in the program
 * (host/web/web_static.h). A request to /api/ is authenticated by the
 * leal_session cookie; a state change also needs the session's CSRF token
 * in X-CSRF-Token and a JSON body (Content-Type: application/json). Every
 * answer carries Cache-Control: no-store and a Content-Security-Policy that
 * allows the page's own scripts only. TLS when a certificate and key are
 * given (then the session cookie is Secure). This file and host/web link the
 * ledger and never the keystore (tests/integration/web_serve.sh proves it).
 * Hosted. Errors: LEAL_E_WEB_LISTEN, those of books_open and host/file.h.
 */
#ifndef LEAL_WEB_SERVER_H
#define LEAL_WEB_SERVER_H

#include <stdint.h>

#include "host/ledger/ledger.h"

struct web_server;

/* Routes under a prefix that a program adds to the server without host/web
 * linking what they need (`leal serve --terminals`: host/sync/sync_net.h).
 * The server hands handle only whole requests (a body cut before its last
 * byte is never seen), of at most body_max bytes (else 413). */
struct web_hook_answer {
    unsigned status;
    const char *type;
    uint8_t *body; /* malloc'ed; the server frees it */
    size_t len;
};
struct web_hook_request {
    const char *method, *url;
    const char *(*header)(void *conn, const char *name); /* NULL when absent */
    void *conn;
    const uint8_t *body;
    size_t len;
};
struct web_hook {
    const char *prefix; /* "/terminal/" */
    size_t body_max;
    void (*handle)(void *ctx, const struct web_hook_request *rq, struct web_hook_answer *a);
    void *ctx;
};

struct web_server_options {
    const char *listen;   /* "ADDRESS:PORT" (IPv4 or [IPv6]); port 0: any free one */
    const char *tls_cert; /* PEM files, both or neither */
    const char *tls_key;
    /* The ledger's file, opened read-only for host/report (the dashboard),
     * or its postgresql:// URI (the dashboard's thread then connects on its
     * own; the pages' reports read l); NULL: those routes answer 503. */
    const char *db_path;
    /* The address customers reach the server at ("https://club.example.com",
     * no trailing slash), put in the portal's sign-in links; NULL: the
     * listening address. */
    const char *public_url;
    const struct web_hook *hook; /* NULL: none */
    /* The QR certifier's socket (`leal qr certifier`, host/qr/qr_certifier_server.h)
     * the portal asks to certify a phone's key; NULL: enrolment is unavailable. */
    const char *qr_certifier;
    /* The directory `leal terminal package -o` writes the terminals'
     * packages into (DIR/terminal-ID.lpkg, as --terminals serves them): the
     * terminals page reads each package's version and validity there (the
     * ledger keeps no validity); NULL: the page says it is not known. */
    const char *packages_dir;
};

/* Starts serving l (the server uses it from its thread until stopped);
 * *port is the port it listens on. */
LEAL_MUST_CHECK leal_err web_server_start(struct ledger *l, const struct web_server_options *o,
                                          struct web_server **out, unsigned *port);
/* Stops serving; l is the caller's again. NULL is fine. */
void web_server_stop(struct web_server *s);

#endif
