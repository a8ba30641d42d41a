/*
 * bundle.h - the terminal key bundle: what one offline terminal of one
 * program holds (KEYS.md "Who holds what"): the terminal, classic-a and
 * classic-seal masters (every version, so cards not yet rotated still work),
 * the terminal's own journal MAC key, and the public keys that verify
 * packages, card identities and QR codes, and the pins of the sync server's
 * TLS key (SHA-256 of its SubjectPublicKeyInfo; two for a key rollover).
 * Never purse-credit, picc-master, app-master, classic-b, mad-b or any
 * private signing key.
 * A bundle without pins encodes as version 1, with pins as version 2.
 * This is the plaintext codec; keys/hosted/keystore.h encrypts it.
 * Freestanding. Errors: LEAL_E_FORMAT, LEAL_E_TRUNCATED, LEAL_E_TRAILING,
 * LEAL_E_KEYSTORE_VERSION, LEAL_E_BUNDLE_WRONG_ISSUER,
 * LEAL_E_BUNDLE_WRONG_PROGRAM, LEAL_E_BUNDLE_EXPIRED.
 */
#ifndef LEAL_BUNDLE_H
#define LEAL_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "keyset.h"

/* The current server key and the next one, while terminals move over. */
#define BUNDLE_MAX_SERVER_PINS 2
#define BUNDLE_PIN_LEN 32

struct bundle {
    uint32_t issuer_id;
    char issuer_name[LEAL_MAX_ISSUER_NAME + 1];
    uint32_t program_id;
    uint32_t terminal_id;
    uint64_t created;
    uint64_t expires; /* unix time; the bundle is refused from this second on */
    struct key_slot terminal;
    struct key_slot classic_a;
    struct key_slot classic_seal;
    uint8_t journal_version; /* version of the journal master it came from */
    uint8_t journal_key[16];
    struct key_slot package_public; /* 32-byte Ed25519 public keys by version */
    struct key_slot qr_public;
    uint8_t server_pin_count; /* 0 to BUNDLE_MAX_SERVER_PINS, distinct */
    uint8_t server_pin[BUNDLE_MAX_SERVER_PINS][BUNDLE_PIN_LEN];
};

#define BUNDLE_MAX_ENCODED                                                                         \
    (40 + LEAL_MAX_ISSUER_NAME + 5 * (1 + LEAL_MAX_KEY_VERSIONS * (9 + KEY_MAX_LEN)) + 17 + 1 +    \
     BUNDLE_MAX_SERVER_PINS * BUNDLE_PIN_LEN)

LEAL_MUST_CHECK leal_err bundle_encode(const struct bundle *b, uint8_t *out, size_t cap,
                                       size_t *len);
LEAL_MUST_CHECK leal_err bundle_decode(const uint8_t *in, size_t len, struct bundle *b);
/* Is this bundle for this issuer and program, and not expired at now? */
LEAL_MUST_CHECK leal_err bundle_check(const struct bundle *b, uint32_t issuer_id,
                                      uint32_t program_id, uint64_t now);
void bundle_clear(struct bundle *b);

#endif
