/*
 * keyfile.h - the keystore, backup and terminal bundle as files: read with a
 * cap, decrypted and decoded whole before anything is trusted, written
 * atomically with mode 0600 (host/file.h) into a folder that must exist
 * (none is created: LEAL_E_NOT_FOUND). Plaintext is held in secmem.h memory.
 * Hosted.
 * Errors: those of host/file.h and keys/hosted/keystore.h, plus keyset.h and
 * bundle.h decode errors (reported as LEAL_E_KEYSTORE_CORRUPT), LEAL_E_EXISTS.
 */
#ifndef LEAL_KEYFILE_H
#define LEAL_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "keys/bundle.h"
#include "keys/hosted/keystore.h"
#include "keys/keyset.h"

/* Decrypts the keystore (or a backup, by kind) at path into ks (caller-allocated). */
LEAL_MUST_CHECK leal_err keyfile_load(const char *path, enum keystore_kind kind, const char *pass,
                                      size_t pass_len, struct keyset *ks);
/* How a keystore or backup file is sealed (keys/hosted/keystore.h): its
 * kind, the passphrase, and the stretching of the passphrase into a key. */
struct keyfile_seal {
    enum keystore_kind kind;
    const char *pass;
    size_t pass_len;
    struct keystore_kdf kdf;
};
/* Encrypts ks as seal says and replaces path; with exclusive, refuses an
 * existing file (LEAL_E_EXISTS). */
LEAL_MUST_CHECK leal_err keyfile_store(const char *path, const struct keyfile_seal *seal,
                                       const struct keyset *ks, bool exclusive);
LEAL_MUST_CHECK leal_err keyfile_load_bundle(const char *path, const char *pass, size_t pass_len,
                                             struct bundle *b);
LEAL_MUST_CHECK leal_err keyfile_store_bundle(const char *path, const char *pass, size_t pass_len,
                                              struct keystore_kdf kdf, const struct bundle *b);

/* A short public fingerprint of a key (16 hex digits + NUL), safe to show. */
LEAL_MUST_CHECK leal_err keyfile_fingerprint(enum key_role role, const struct key_version *v,
                                             char out[17]);

#endif
