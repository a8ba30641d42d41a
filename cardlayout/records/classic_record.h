/*
 * classic_record.h - MIFARE Classic sealed records (LAYOUT.md 3.2):
 * version || type || V (16) || C, sealed with AES-SIV under the card's seal
 * key, associated data card id || sector || slot || type || version, over a
 * span of whole blocks whose unused tail is zero. On top: the identity
 * (record || Ed25519 signature over record || UID) and the state (body ||
 * purse) in two slots, the current one chosen by validity and seq.
 * Freestanding; crypto through the provider. Outputs are written only on
 * success. Errors: LEAL_E_ARG, LEAL_E_LAYOUT_VERSION, LEAL_E_CARD_TAMPERED
 * (does not open, or breaks a rule), LEAL_E_SIGNATURE, provider errors.
 */
#ifndef LEAL_CLASSIC_RECORD_H
#define LEAL_CLASSIC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/records/identity.h"
#include "cardlayout/records/state.h"
#include "keys/crypto.h"

#define CLASSIC_RECORD_HEADER 18 /* version, type, V */
#define CLASSIC_RECORD_IDENTITY_PLAIN (IDENTITY_LEN + 64)
#define CLASSIC_RECORD_IDENTITY_SPAN 128 /* 8 blocks: sectors 1-3 */
#define CLASSIC_RECORD_STATE_PLAIN (STATE_BODY_LEN + 4)
#define CLASSIC_RECORD_STATE_SPAN 48 /* 3 blocks: one sector */

struct classic_record_state {
    struct state_body body;
    uint32_t purse; /* cents; 0 unless the program enables stored value */
};

/* Stored value on Classic: off unless enabled, and then capped. */
struct classic_record_purse {
    bool enabled;
    uint32_t cap;
};

/* The key a card's records are sealed under (classic_keys_seal: 32 bytes),
 * with the provider that runs AES-SIV. */
struct classic_record_key {
    const struct crypto_provider *cp;
    const uint8_t *key;
};

/* Where a record sits on the card: its associated data (LAYOUT.md 3.2). */
struct classic_record_place {
    uint64_t card_id;
    uint8_t sector;
    uint8_t slot;
    uint8_t type;
};

/* Seals pt_len bytes into span (span_len bytes, zero-padded) for a place. */
LEAL_MUST_CHECK leal_err classic_record_seal(const struct classic_record_key *k,
                                             const struct classic_record_place *at,
                                             const uint8_t *pt, size_t pt_len, uint8_t *span,
                                             size_t span_len);

/* Opens a record of the place's type with exactly pt_len bytes of plaintext from span. */
LEAL_MUST_CHECK leal_err classic_record_open(const struct classic_record_key *k,
                                             const struct classic_record_place *at,
                                             const uint8_t *span, size_t span_len, uint8_t *pt,
                                             size_t pt_len);

/* Identity in sectors 1-3: rec is an encoded identity record, sig its signature. */
LEAL_MUST_CHECK leal_err classic_record_identity_seal(const struct classic_record_key *k,
                                                      const uint8_t rec[IDENTITY_LEN],
                                                      const uint8_t sig[64],
                                                      uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN]);
/* Opens, decodes and verifies (signature over rec || uid with the package public key,
 * Classic card kind). */
LEAL_MUST_CHECK leal_err classic_record_identity_open(
    const struct classic_record_key *k, const uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN],
    const uint8_t *uid, size_t uid_len, const uint8_t public_key[32], struct identity *out);

/* State in slot 0 (sector 4) or 1 (sector 5). */
LEAL_MUST_CHECK leal_err classic_record_state_seal(const struct classic_record_key *k,
                                                   uint64_t card_id, unsigned slot,
                                                   const struct classic_record_state *s,
                                                   uint8_t span[CLASSIC_RECORD_STATE_SPAN]);
LEAL_MUST_CHECK leal_err classic_record_state_open(const struct classic_record_key *k,
                                                   uint64_t card_id, unsigned slot,
                                                   const uint8_t span[CLASSIC_RECORD_STATE_SPAN],
                                                   const struct classic_record_purse *policy,
                                                   struct classic_record_state *out);

/* The current state of the two slots (slots[0], slots[1]: CLASSIC_RECORD_STATE_SPAN
 * bytes each) and its slot number (the next write goes to the other one).
 * LEAL_E_CARD_TAMPERED if neither slot is valid, if both are valid with one seq
 * and different contents, or if the current slot breaks the purse policy (the
 * older slot is not a fallback: that would hide the tampering). */
LEAL_MUST_CHECK leal_err classic_record_state_select(
    const struct classic_record_key *k, uint64_t card_id, const uint8_t *const slots[2],
    const struct classic_record_purse *policy, struct classic_record_state *out, unsigned *current);

#endif
