/*
 * keyset.h - the issuer's key hierarchy in memory (KEYS.md), and its binary
 * encoding (the plaintext inside an encrypted keystore or backup).
 *
 * An issuer has programs; a program has one master per role; a role keeps
 * every version it has had (rotation adds one, old ones stay readable for
 * cards not yet updated). AES roles hold 16-byte masters, Ed25519 roles
 * 32-byte private seeds. A struct keyset is large (see the limits): host
 * code allocates it. Freestanding; encoding through buf.h.
 * Errors: LEAL_E_FORMAT, LEAL_E_TRUNCATED, LEAL_E_TRAILING, LEAL_E_NO_SPACE,
 * LEAL_E_UNKNOWN_ROLE, LEAL_E_UNKNOWN_PROGRAM, LEAL_E_PROGRAM_EXISTS,
 * LEAL_E_KEY_VERSION.
 */
#ifndef LEAL_KEYSET_H
#define LEAL_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"

/* Stable numbers: they are stored in keystores and bundles. */
enum key_role {
    KEY_ROLE_PICC_MASTER = 1,
    KEY_ROLE_APP_MASTER = 2,
    KEY_ROLE_PURSE_CREDIT = 3,
    KEY_ROLE_TERMINAL = 4,
    KEY_ROLE_PACKAGE_SIGNING = 5,
    KEY_ROLE_QR = 6,
    KEY_ROLE_JOURNAL_MAC = 7,
    KEY_ROLE_CLASSIC_A = 8,
    KEY_ROLE_CLASSIC_B = 9,
    KEY_ROLE_CLASSIC_SEAL = 10,
    KEY_ROLE_MAD_B = 11,
    /* DESFire EV2/EV3 AppTransactionMACKey (LAYOUT.md 2.9): host only. A
     * keystore made before it decodes with this slot empty (no version) and
     * encodes back the same bytes; `leal keys rotate tmac` adds version 1. */
    KEY_ROLE_TMAC = 12,
};
#define KEY_ROLE_FIRST KEY_ROLE_PICC_MASTER
#define KEY_ROLE_LAST KEY_ROLE_TMAC
#define KEY_ROLE_COUNT (KEY_ROLE_LAST - KEY_ROLE_FIRST + 1)

enum key_kind {
    KEY_KIND_AES128 = 1,  /* 16-byte master, diversified per card (AN10922) */
    KEY_KIND_ED25519 = 2, /* 32-byte private seed; others get the public key */
};

struct key_role_info {
    enum key_role role;
    const char *name; /* short word used on the command line */
    enum key_kind kind;
    bool in_bundle; /* a terminal bundle carries it (secret, or public for Ed25519) */
    const char *purpose;
};

#define KEY_MAX_LEN 32

struct key_version {
    uint8_t version;  /* 1..255; equals the key-version byte on the card */
    uint64_t created; /* unix time */
    uint8_t key[KEY_MAX_LEN];
};

struct key_slot {
    uint8_t nversions;
    struct key_version v[LEAL_MAX_KEY_VERSIONS]; /* ascending by version */
};

struct key_program {
    uint32_t id; /* > 0 */
    uint64_t created;
    struct key_slot roles[KEY_ROLE_COUNT]; /* index role - KEY_ROLE_FIRST */
};

struct keyset {
    uint32_t issuer_id;
    char issuer_name[LEAL_MAX_ISSUER_NAME + 1];
    uint64_t created;
    uint8_t nprograms;
    struct key_program programs[LEAL_MAX_PROGRAMS];
};

/* Role table lookups; NULL when unknown. */
const struct key_role_info *keyset_role_info(enum key_role role);
const struct key_role_info *keyset_role_by_name(const char *name);
/* Bytes of key material for a kind: 16 or 32. */
size_t keyset_key_len(enum key_kind kind);

/* Program lookup; LEAL_E_UNKNOWN_PROGRAM if absent. */
LEAL_MUST_CHECK leal_err keyset_program(const struct keyset *ks, uint32_t program_id,
                                        const struct key_program **out);
/* The newest version of a role in a program. */
LEAL_MUST_CHECK leal_err keyset_current(const struct keyset *ks, uint32_t program_id,
                                        enum key_role role, const struct key_version **out);
/* A given version (for cards still on an older key set); LEAL_E_KEY_VERSION if absent. */
LEAL_MUST_CHECK leal_err keyset_version(const struct keyset *ks, uint32_t program_id,
                                        enum key_role role, uint8_t version,
                                        const struct key_version **out);

/* Adds a program with version 1 of every role, keys taken from random().
 * random fills n bytes (the crypto provider's random). */
LEAL_MUST_CHECK leal_err keyset_add_program(struct keyset *ks, uint32_t program_id, uint64_t now,
                                            leal_err (*random)(uint8_t *out, size_t n));
/* Adds the next version of a role in a program (keeping the old ones). */
LEAL_MUST_CHECK leal_err keyset_rotate(struct keyset *ks, uint32_t program_id, enum key_role role,
                                       uint64_t now, leal_err (*random)(uint8_t *out, size_t n),
                                       uint8_t *new_version);

/* Binary encoding; decode checks every field and refuses trailing bytes. */
LEAL_MUST_CHECK leal_err keyset_encode(const struct keyset *ks, uint8_t *out, size_t cap,
                                       size_t *len);
LEAL_MUST_CHECK leal_err keyset_decode(const uint8_t *in, size_t len, struct keyset *ks);

/* An issuer name: 1..LEAL_MAX_ISSUER_NAME bytes, no control characters (so a
 * decoded name encodes back to the same bytes and prints safely). */
bool keyset_name_valid(const uint8_t *name, size_t len);

/* Wipes every program but program_id (a command that works for one program
 * keeps no other program's keys in memory); LEAL_E_UNKNOWN_PROGRAM if absent.
 * The result is not for saving back (it is no longer the whole keystore). */
LEAL_MUST_CHECK leal_err keyset_keep_program(struct keyset *ks, uint32_t program_id);

/* Wipes every key. */
void keyset_clear(struct keyset *ks);

/* Role slots inside a keyset or bundle: encode and decode one (shared with bundle.c).
 * Decoding a slot of more than LEAL_MAX_KEY_VERSIONS versions is LEAL_E_TOO_LARGE
 * (a board built with fewer than the host's 16, limits.h); none is LEAL_E_FORMAT. */
struct buf_writer;
struct buf_reader;
LEAL_MUST_CHECK leal_err keyset_put_slot(struct buf_writer *w, enum key_kind kind,
                                         const struct key_slot *s);
LEAL_MUST_CHECK leal_err keyset_get_slot(struct buf_reader *r, enum key_kind kind,
                                         struct key_slot *s);

/* Largest encoding of a keyset, for the caller's buffer. */
#define KEYSET_MAX_ENCODED                                                                         \
    (16 + LEAL_MAX_ISSUER_NAME +                                                                   \
     LEAL_MAX_PROGRAMS * (16 + KEY_ROLE_COUNT * (2 + LEAL_MAX_KEY_VERSIONS * (9 + KEY_MAX_LEN))))

#endif
