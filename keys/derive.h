/*
 * derive.h - the exact diversification inputs of KEYS.md, in one place, so
 * host and terminal derive the same card keys. All derivations are NXP
 * AN10922 AES-128 (keys/diversify.h) over M = id || AID || system id, where
 * id is the 7-byte UID of a fixed-UID card or the 8-byte issuer-assigned card
 * id of a random-UID card, and the system id is "LEAL" || issuer id (BE32)
 * || program id (BE32). Freestanding; crypto through the provider.
 */
#ifndef LEAL_DERIVE_H
#define LEAL_DERIVE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define DERIVE_SYSTEM_ID_LEN 12
#define DERIVE_CARD_ID_LEN 8

void derive_system_id(uint32_t issuer_id, uint32_t program_id, uint8_t out[12]);

/* What a card key is diversified from: M = id || aid || system id. */
struct derive_card_input {
    const uint8_t *id; /* the UID (4..10 bytes) or the card id (8 bytes) */
    size_t id_len;
    const uint8_t *aid; /* 3 bytes, as the card's application is selected */
    uint32_t issuer_id;
    uint32_t program_id;
};

/* A card key from a role master. LEAL_E_ARG if id_len is outside 4..10. */
LEAL_MUST_CHECK leal_err derive_card_key(const struct crypto_provider *cp, const uint8_t master[16],
                                         const struct derive_card_input *in, uint8_t out[16]);

/* A terminal's own journal MAC key: M = "J" || issuer || program || terminal (BE32 each). */
LEAL_MUST_CHECK leal_err derive_journal_key(const struct crypto_provider *cp,
                                            const uint8_t master[16], uint32_t issuer_id,
                                            uint32_t program_id, uint32_t terminal_id,
                                            uint8_t out[16]);

#endif
