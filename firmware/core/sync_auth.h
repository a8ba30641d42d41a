/*
 * sync_auth.h - how a terminal proves itself to `leal serve` when it syncs
 * over HTTPS (README "Terminals over the network"): no password, a MAC with
 * the terminal's own journal key over a fresh server challenge and the
 * request's body.
 *
 * Exchange: POST /terminal/challenge (header X-Leal-Terminal: ID) answers 32
 * hex digits, a 16-byte nonce the server keeps for SYNC_AUTH_NONCE_SECONDS
 * and takes once; the request that follows carries
 *     X-Leal-Auth: 1.TERMINAL.KEYVERSION.NONCEHEX.MACHEX
 * with MAC = CMAC(Ka, "LEALSYNC" | op | 01 | terminal BE32 | key version |
 * 00 | nonce | CMAC(Kb, body)), Ka = CMAC(journal key, "leal sync auth key
 * v1") and Kb = CMAC(journal key, "leal sync body key v1"): keys of their
 * own, so no request MAC is ever a journal entry's MAC. op is 'J' (a journal
 * upload) or 'P' (a package download, empty body). A replay names a nonce
 * already taken and is refused; a cut request never reached the handler.
 * Freestanding; no allocation. Errors: LEAL_E_NET_MALFORMED, the provider's.
 */
#ifndef LEAL_SYNC_AUTH_H
#define LEAL_SYNC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"
#include "keys/crypto.h"

#define SYNC_AUTH_NONCE_LEN 16
#define SYNC_AUTH_NONCE_SECONDS 120
#define SYNC_AUTH_OP_JOURNAL 'J'
#define SYNC_AUTH_OP_PACKAGE 'P'
/* "1." + 10 + "." + 3 + "." + 32 + "." + 32, and a NUL. */
#define SYNC_AUTH_HEADER_MAX 96

struct sync_auth {
    uint32_t terminal_id;
    uint8_t key_version;
    uint8_t nonce[SYNC_AUTH_NONCE_LEN];
    uint8_t mac[16];
};

/* The request MAC of a->terminal_id, a->key_version, a->nonce over
 * body[0..len) for op, with the terminal's journal key; into a->mac. */
LEAL_MUST_CHECK leal_err sync_auth_mac(const struct crypto_provider *cp,
                                       const uint8_t journal_key[16], uint8_t op,
                                       const uint8_t *body, size_t len, struct sync_auth *a);

/* a as the X-Leal-Auth value, NUL-terminated, into out[SYNC_AUTH_HEADER_MAX]. */
void sync_auth_format(const struct sync_auth *a, char out[SYNC_AUTH_HEADER_MAX]);

/* Parses an X-Leal-Auth value of len bytes (no NUL needed): exactly the
 * form above, lowercase hex, decimals without leading zeros. */
LEAL_MUST_CHECK leal_err sync_auth_parse(const char *s, size_t len, struct sync_auth *a);

/* The challenge's text: exactly 2 * SYNC_AUTH_NONCE_LEN lowercase hex digits. */
void sync_auth_nonce_format(const uint8_t nonce[SYNC_AUTH_NONCE_LEN],
                            char out[2 * SYNC_AUTH_NONCE_LEN + 1]);
LEAL_MUST_CHECK leal_err sync_auth_nonce_parse(const char *s, size_t len,
                                               uint8_t nonce[SYNC_AUTH_NONCE_LEN]);

#endif
