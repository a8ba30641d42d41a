/*
 * qr_certifier_server.h - the QR certifier (`leal qr certifier`): a small
 * process that holds one thing, the current `qr` key of one program, and
 * certifies phones' public keys for `leal serve` (the customer portal's
 * spending-code page), so that the web process never holds a key (issue 16,
 * privilege separation). It answers over a UNIX socket (mode 0600, the peer
 * checked with SO_PEERCRED on every connection: only its own user), one
 * request per connection, each message within a time limit
 * (QR_CERTIFIER_MESSAGE_MS), in qr_certifier_proto.h's messages.
 *
 * What it checks before it signs: the program is its own, the caps and the
 * refresh period are within the limits it was started with, every field is
 * in range (the decoder). It dates the certificate itself (issued today on
 * its own clock, refresh by today + the days asked). What it cannot check:
 * that the account is the signed-in customer's and the virtual card id is
 * new; the web process does (host/qr/qr_certifier_client.h) and records the
 * phone in the ledger. A web process taken over can thus have phones of any
 * account of the program certified within the caps (each certificate shows
 * in the certifier's output); it can never get the key, sign a static code
 * or a package, or go above the caps.
 *
 * The key lives in secmem.h memory and is wiped when run returns (SIGTERM,
 * SIGINT, SIGHUP). Hosted (Linux).
 * Errors: LEAL_E_UNKNOWN_PROGRAM / LEAL_E_KEY_VERSION (the key set lacks the
 * program or its `qr` key), LEAL_E_ARG (limits out of range), those of
 * agent_sock.h (listening), LEAL_E_NO_MEMORY, LEAL_E_CRYPTO.
 */
#ifndef LEAL_QR_CERTIFIER_SERVER_H
#define LEAL_QR_CERTIFIER_SERVER_H

#include <stdint.h>

#include "host/qr/qr_certifier_proto.h"
#include "keys/keyset.h"

/* A peer has this long to send its request and take the answer. */
#define QR_CERTIFIER_MESSAGE_MS 2000u

struct qr_certifier_server;

struct qr_certifier_config {
    const char *socket_path;
    uint32_t program_id;
    uint32_t max_cap_tx_cents;  /* >= 1 */
    uint32_t max_cap_day_cents; /* >= max_cap_tx_cents */
    uint8_t max_refresh_days;   /* 1..QR_CERTIFIER_MAX_REFRESH */
    /* Told of every certificate signed (the CLI prints a line); may be NULL. */
    void (*certified_cb)(void *ctx, const struct qr_certifier_request *rq, const struct qr_cert *c);
    void *ctx;
};

/* Copies the program's current `qr` key out of ks (the caller then wipes
 * ks) and listens on cfg->socket_path. */
LEAL_MUST_CHECK leal_err qr_certifier_server_open(const struct qr_certifier_config *cfg,
                                                  const struct keyset *ks,
                                                  struct qr_certifier_server **out);
/* What STATUS answers (program, key version, public key, limits). */
void qr_certifier_server_status(const struct qr_certifier_server *s,
                                struct qr_certifier_status *st);
/* Answers requests until SIGTERM, SIGINT or SIGHUP; the key is wiped on return. */
LEAL_MUST_CHECK leal_err qr_certifier_server_run(struct qr_certifier_server *s);
/* Wipes the key, removes the socket, frees s; NULL allowed. */
void qr_certifier_server_close(struct qr_certifier_server *s);

#endif
