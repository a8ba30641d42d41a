/*
 * sync_net.h - terminals syncing over HTTPS (README "Terminals over the
 * network"): the routes `leal serve --terminals DIR` adds under /terminal/,
 * behind host/web's hook (so host/web itself never links a key).
 *
 *   POST /terminal/challenge   X-Leal-Terminal: ID; answers a fresh nonce
 *                              (firmware/core/sync_auth.h) for that terminal,
 *                              valid SYNC_AUTH_NONCE_SECONDS: its expiry and a
 *                              MAC under the process's secret, so the server
 *                              stores none and asking for more pushes none
 *                              out; usable once.
 *   POST /terminal/journal     X-Leal-Auth over the body, a journal export:
 *                              sync_import's path, exactly as `leal sync
 *                              import` takes a file, then reconciliation;
 *                              answers the ack (JOURNAL_ACK_LEN bytes).
 *   GET  /terminal/package     X-Leal-Auth over no body: DIR/terminal-ID.lpkg
 *                              as `leal terminal package` wrote it.
 * A request whose nonce is not one this process gave for its terminal,
 * used or expired is refused (LEAL_E_NET_REPLAY, 409) before its MAC is
 * looked at; a nonce is used once a request with it verifies, and the
 * server remembers the used ones until they expire (if more verified in that
 * time than it can remember: LEAL_E_NET_BUSY, 503); a MAC that does not
 * verify with the named terminal's journal key, or a terminal the ledger
 * does not know, is LEAL_E_NET_AUTH (401); an upload whose export names
 * another terminal than the one authenticated is LEAL_E_JOURNAL_TERMINAL
 * (403). A request cut before its last byte never reaches this file (the
 * web server answers only whole requests), and a retried whole upload is
 * taken once by sync_import's own exactly-once. Errors are one line of
 * text/plain: "LEAL_E_NAME: sentence". Single-threaded (the web server's one
 * thread). Hosted.
 */
#ifndef LEAL_SYNC_NET_H
#define LEAL_SYNC_NET_H

#include <stddef.h>
#include <stdint.h>

#include "host/sync/sync.h"

struct sync_net;

/* Keys (journal masters only), the ledger, and the folder of packages; all
 * the caller's, used until sync_net_close. */
LEAL_MUST_CHECK leal_err sync_net_open(struct ledger *l, const struct sync_keys *k,
                                       const char *packages_dir, struct sync_net **out);
void sync_net_close(struct sync_net *n);

/* One answer; body is malloc'ed (the caller frees it). */
struct sync_net_answer {
    unsigned status;
    const char *type;
    uint8_t *body;
    size_t len;
};

/* One request under /terminal/: terminal and auth are the X-Leal-Terminal
 * and X-Leal-Auth headers (NULL when absent), now the UTC seconds. */
struct sync_net_request {
    const char *method, *path, *terminal, *auth;
    const uint8_t *body;
    size_t len;
    uint64_t now;
};
void sync_net_handle(struct sync_net *n, const struct sync_net_request *rq,
                     struct sync_net_answer *a);

#endif
