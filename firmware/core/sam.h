/*
 * sam.h - the terminal's keys, reached the way a SAM (an NXP MIFARE SAM AV3
 * beside the reader) gives them: the terminal core asks for "the key of role
 * R at version V diversified for this card" and gets that card's key only;
 * the masters (terminal, classic-a, classic-seal, every version: KEYS.md
 * "Who holds what") never leave the SAM, so a hardware SAM can replace the
 * software one below without the core changing. What else the SAM holds:
 * the terminal's own journal key (already diversified per terminal: it is
 * handed to the journal, which keeps it until journal_close), the package
 * and QR public keys, and who the terminal is (issuer, program, terminal id,
 * the bundle's expiry).
 *
 * struct sam is the interface; sam_desfire_keys and sam_classic_* adapt it
 * to what cardlayout/ asks (struct desfire_card_keys, classic_card_keys,
 * classic_card_keyring). The software SAM (sam_soft_*) holds a copy of an
 * opened terminal bundle (keys/bundle.h) and wipes it on close.
 * Errors: LEAL_E_ARG, LEAL_E_KEY_VERSION (a version the SAM does not hold),
 * LEAL_E_PERMISSION (a role a terminal never holds: purse-credit,
 * app-master...), LEAL_E_NOT_FOUND (past the last version of a keyring),
 * LEAL_E_STATE (closed), the provider's own.
 * Freestanding: no allocation; crypto through keys/crypto.h.
 */
#ifndef LEAL_SAM_H
#define LEAL_SAM_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/desfire/desfire_card.h"
#include "firmware/core/package.h"
#include "keys/base/err.h"
#include "keys/bundle.h"
#include "keys/crypto.h"
#include "keys/keyset.h"

/* Who the SAM's keys belong to. */
struct sam_info {
    uint32_t issuer_id;
    uint32_t program_id;
    uint32_t terminal_id;
    uint64_t expires; /* unix time; the keys are not to be used from this second on */
    uint8_t journal_key_version;
};

/* A card, as its keys are diversified (KEYS.md): the UID (Classic, fixed-UID
 * DESFire) or the 8-byte card id (random-UID DESFire). */
struct sam_card {
    const uint8_t *id;
    size_t id_len; /* 4..10 */
};

/*
 * The interface. Every member is required; ctx is the first argument of
 * each. Outputs are written only on success.
 * - current_version: the newest version of role the SAM holds (what cards
 *   are brought to). Roles: terminal, classic-a, classic-seal.
 * - desfire_key: role terminal at version, diversified for the card and the
 *   application aid (3 bytes as SelectApplication sends them).
 * - classic_sector_key: key A of sector for the card, from classic-a at
 *   version (the first 6 bytes of the diversified key, LAYOUT.md 3.1).
 * - classic_seal_key: the nth classic-seal version (0 the newest, then older
 *   ones), diversified for the card (AES-SIV, 32 bytes), and its version.
 * - package_public: the nth package public key (0 the newest), its version.
 * - journal_key: the terminal's journal key and its master's version.
 */
struct sam {
    void *ctx;
    leal_err (*info)(void *ctx, struct sam_info *out);
    leal_err (*current_version)(void *ctx, enum key_role role, uint8_t *version);
    leal_err (*desfire_key)(void *ctx, const struct sam_card *card, enum key_role role,
                            uint8_t version, const uint8_t aid[3], uint8_t out[16]);
    leal_err (*classic_sector_key)(void *ctx, const struct sam_card *card, uint8_t version,
                                   uint8_t sector, uint8_t key[6]);
    leal_err (*classic_seal_key)(void *ctx, const struct sam_card *card, unsigned nth,
                                 uint8_t key[32], uint8_t *version);
    leal_err (*package_public)(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version);
    leal_err (*journal_key)(void *ctx, uint8_t key[16], uint8_t *version);
};

/* LEAL_OK if every member of s is set, LEAL_E_ARG otherwise. */
LEAL_MUST_CHECK leal_err sam_check(const struct sam *s);

/* The DESFire driver's key source (cardlayout/desfire/desfire_card.h) over s:
 * out->ctx is s, which must outlive out. */
void sam_desfire_keys(const struct sam *s, struct desfire_card_keys *out);

/* The sector keys A of a Classic card (sectors 1..5; sector 0's is the
 * public MAD key, and keys B are never a terminal's: left zero) at classic-a
 * version. LEAL_E_ARG for a UID outside 4..10 bytes. */
LEAL_MUST_CHECK leal_err sam_classic_keys(const struct sam *s, const uint8_t *uid, size_t uid_len,
                                          uint8_t version, struct classic_card_keys *out);

/* A Classic card's keyring (classic_card.h) over s: its seal keys and the
 * package public keys, every version the SAM holds, newest first. ring_ctx
 * holds the card's UID and must outlive out. */
struct sam_classic_ring {
    const struct sam *sam;
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len;
};
LEAL_MUST_CHECK leal_err sam_classic_keyring(const struct sam *s, const struct crypto_provider *cp,
                                             const uint8_t *uid, size_t uid_len,
                                             struct sam_classic_ring *ring_ctx,
                                             struct classic_card_keyring *out);

/* Every package public key the SAM holds (newest first), as package_verify
 * takes them; *n how many. LEAL_E_NO_SPACE if more than cap. */
LEAL_MUST_CHECK leal_err sam_package_keys(const struct sam *s, struct package_key *keys, size_t cap,
                                          size_t *n);

/* The software SAM: a terminal bundle's keys in RAM, masters included (as a
 * hardware SAM holds them in its own memory). Only what a SAM answers is
 * kept, each key at its own length (struct bundle keeps every key in 32
 * bytes with its creation time, and the issuer's name): 536 bytes on the
 * Cortex-M3 board (4 versions a role), where the bundle takes 1,120. */
struct sam_soft_aes { /* 16-byte AES masters of one role, ascending by version */
    uint8_t n;
    uint8_t version[LEAL_MAX_KEY_VERSIONS];
    uint8_t key[LEAL_MAX_KEY_VERSIONS][16];
};
struct sam_soft_public { /* Ed25519 public keys of one role, ascending by version */
    uint8_t n;
    uint8_t version[LEAL_MAX_KEY_VERSIONS];
    uint8_t key[LEAL_MAX_KEY_VERSIONS][CRYPTO_ED25519_PUBLIC];
};
struct sam_soft {
    const struct crypto_provider *cp;
    struct sam_info who; /* issuer, program, terminal, expiry, journal key version */
    struct sam_soft_aes terminal, classic_a, classic_seal;
    uint8_t journal_key[16];
    struct sam_soft_public package_public, qr_public;
    int open;
};

/* Copies b's keys into soft (the caller wipes its own copy: bundle_clear)
 * and fills s. b must have been decoded by bundle_decode (its slots
 * ascending, no more than LEAL_MAX_KEY_VERSIONS versions each). */
LEAL_MUST_CHECK leal_err sam_soft_open(struct sam_soft *soft, const struct crypto_provider *cp,
                                       const struct bundle *b, struct sam *s);

/* Wipes every key; s answers LEAL_E_STATE after. */
void sam_soft_close(struct sam_soft *soft);

#endif
