/*
 * identity.h - the identity record of LAYOUT.md 1.1 (32 bytes): card id,
 * issuer id, program id, key-set version, card kind, flags, issue day.
 * Encode checks the rules before writing; decode parses outside bytes with a
 * bounded reader and refuses anything the rules forbid. Freestanding.
 * Errors: LEAL_E_ARG (encode of invalid fields), LEAL_E_TRUNCATED,
 * LEAL_E_TRAILING, LEAL_E_LAYOUT_VERSION, LEAL_E_FORMAT, LEAL_E_SIGNATURE.
 */
#ifndef LEAL_IDENTITY_H
#define LEAL_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "keys/crypto.h"

#define IDENTITY_LEN 32
#define IDENTITY_MAX_SIGNED (IDENTITY_LEN + 10) /* record || UID (4..10 bytes) */

enum identity_kind {
    IDENTITY_DESFIRE_EV1 = 1,
    IDENTITY_DESFIRE_EV2 = 2,
    IDENTITY_DESFIRE_EV3 = 3,
    IDENTITY_CLASSIC_1K = 4,
    IDENTITY_CLASSIC_4K = 5,
};

#define IDENTITY_FLAG_RANDOM_UID 0x01
#define IDENTITY_FLAG_STORED_VALUE 0x02

struct identity {
    uint64_t card_id;
    uint32_t issuer_id;
    uint32_t program_id;
    uint8_t key_set_version;
    uint8_t card_kind; /* enum identity_kind */
    uint8_t flags;
    uint32_t issued_day; /* days since 1970-01-01 */
};

/* out = the 32-byte record; LEAL_E_ARG if a field breaks LAYOUT.md's rules. */
LEAL_MUST_CHECK leal_err identity_encode(const struct identity *id, uint8_t out[IDENTITY_LEN]);

/* Parses exactly one record of len bytes. */
LEAL_MUST_CHECK leal_err identity_decode(const uint8_t *p, size_t len, struct identity *out);

/* The Ed25519 message of a Classic identity: record || UID (LAYOUT.md 3.2). */
LEAL_MUST_CHECK leal_err identity_signed_message(const uint8_t rec[IDENTITY_LEN],
                                                 const uint8_t *uid, size_t uid_len,
                                                 uint8_t out[IDENTITY_MAX_SIGNED], size_t *out_len);

/* LEAL_OK if sig is the package key's signature of rec || uid, else LEAL_E_SIGNATURE. */
LEAL_MUST_CHECK leal_err identity_verify(const struct crypto_provider *cp,
                                         const uint8_t public_key[32],
                                         const uint8_t rec[IDENTITY_LEN], const uint8_t *uid,
                                         size_t uid_len, const uint8_t sig[64]);

#endif
