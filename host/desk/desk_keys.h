/*
 * desk_keys.h - the one place a desk card command gets its keys. Today it
 * asks the desk agent of this user first (host/agent: the keystore unlocked
 * once), and otherwise unlocks the keystore file (passphrase from
 * --passphrase-file, the environment or a prompt: host/keys/passphrase.h).
 * What comes back is trimmed to one program and to the roles the command
 * needs, in memory kept out of swap and core dumps (keys/hosted/secmem.h),
 * and wiped by desk_keys_release(), with the crypto provider they are used
 * with (OpenSSL's, crypto_provider_check()ed before any key is touched).
 * Hosted; nothing here prints.
 * Errors: by stage (struct desk_keys.failed): crypto_provider_check, file
 * paths, passphrase_get, keyfile_load, LEAL_E_NO_MEMORY,
 * LEAL_E_UNKNOWN_PROGRAM, LEAL_E_USAGE (the keystore holds several programs
 * and none was named).
 */
#ifndef LEAL_DESK_KEYS_H
#define LEAL_DESK_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "keys/crypto.h"
#include "keys/keyset.h"

/* Role masks: bit (1 << role). */
#define DESK_ROLE(r) (1u << (unsigned)(r))
/* Every role a desk card operation (issue, read, top-up, replace, sync,
 * erase; DESFire and Classic; re-keying to current versions) may use: not
 * the QR or journal keys, which only terminals and the ledger's import need. */
#define DESK_ROLES_CARD                                                                            \
    (DESK_ROLE(KEY_ROLE_PICC_MASTER) | DESK_ROLE(KEY_ROLE_APP_MASTER) |                            \
     DESK_ROLE(KEY_ROLE_PURSE_CREDIT) | DESK_ROLE(KEY_ROLE_TERMINAL) |                             \
     DESK_ROLE(KEY_ROLE_PACKAGE_SIGNING) | DESK_ROLE(KEY_ROLE_CLASSIC_A) |                         \
     DESK_ROLE(KEY_ROLE_CLASSIC_B) | DESK_ROLE(KEY_ROLE_CLASSIC_SEAL) |                            \
     DESK_ROLE(KEY_ROLE_MAD_B) | DESK_ROLE(KEY_ROLE_TMAC))

struct desk_key_request {
    const char *keystore_path;   /* NULL: the default keystore */
    const char *passphrase_file; /* NULL: LEAL_PASSPHRASE, else a prompt */
    uint32_t program_id;         /* 0: the keystore's only program */
    uint32_t roles;              /* DESK_ROLE() bits kept; the others are wiped */
};

/* Where acquisition stopped, for the front end's message. */
enum desk_keys_stage {
    DESK_KEYS_OK,
    DESK_KEYS_PROVIDER,   /* the crypto provider is incomplete (crypto_provider_check) */
    DESK_KEYS_NO_PATH,    /* no keystore path given and no default */
    DESK_KEYS_PASSPHRASE, /* passphrase_get failed */
    DESK_KEYS_MEMORY,     /* no locked memory */
    DESK_KEYS_AGENT,      /* an agent socket not safe to believe (LEAL_E_PERMISSION) */
    DESK_KEYS_LOAD,       /* the keystore file did not open (path in keystore_path) */
    DESK_KEYS_PROGRAMS,   /* several programs and none named (count in nprograms) */
    DESK_KEYS_PROGRAM,    /* the named program is not in the keystore */
};

struct desk_keys {
    struct keyset *keys;              /* secmem; NULL until acquired */
    const struct crypto_provider *cp; /* the provider the keys are used with */
    uint32_t program_id;              /* the program kept */
    bool from_agent;                  /* the desk agent gave them (no passphrase was asked) */
    enum desk_keys_stage failed;
    int nprograms;
    char keystore_path[4096];
};

/* Gets the keys of one program, trimmed to req->roles, into k (NULL keys
 * on failure, with k->failed saying where). */
LEAL_MUST_CHECK leal_err desk_keys_acquire(const struct desk_key_request *req, struct desk_keys *k);
/* Wipes and frees the keys; k may be zeroed or NULL. */
void desk_keys_release(struct desk_keys *k);

#endif
