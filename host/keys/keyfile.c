/* keyfile.c - keystore, backup and bundle files. */
#include "keyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/file.h"
#include "keys/base/ct.h"
#include "keys/base/hex.h"
#include "keys/base/limits.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/hosted/secmem.h"

/* Reads path (at most cap bytes) and opens it with the passphrase of seal
 * (the stretching is the file's own). */
static leal_err open_file(const char *path, size_t cap, const struct keyfile_seal *seal,
                          uint8_t **plain, size_t *plain_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    leal_err err;
    if ((err = file_read(path, cap, &data, &len)) != LEAL_OK)
        return err == LEAL_E_TOO_LARGE ? LEAL_E_KEYSTORE_CORRUPT : err;
    err = keystore_open(seal->kind, (struct keystore_pass){seal->pass, seal->pass_len},
                        (struct keystore_bytes){data, len}, plain, plain_len);
    free(data);
    return err;
}

leal_err keyfile_load(const char *path, enum keystore_kind kind, const char *pass, size_t pass_len,
                      struct keyset *ks)
{
    const struct keyfile_seal seal = {.kind = kind, .pass = pass, .pass_len = pass_len};
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    leal_err err = open_file(path, LEAL_MAX_KEYSTORE_FILE, &seal, &plain, &plain_len);
    if (err != LEAL_OK)
        return err;
    err = keyset_decode(plain, plain_len, ks);
    keystore_free(plain, plain_len);
    /* Authenticated but undecodable: written by a buggy or newer leal. */
    if (err != LEAL_OK && err != LEAL_E_KEYSTORE_VERSION)
        err = LEAL_E_KEYSTORE_CORRUPT;
    return err;
}

static leal_err store(const char *path, const struct keyfile_seal *seal, const uint8_t *plain,
                      size_t plain_len, bool exclusive)
{
    struct stat st;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    leal_err err;
    if (exclusive && lstat(path, &st) == 0)
        return LEAL_E_EXISTS;
    /* No folder is created here: a backup aimed at an unmounted disk must
     * fail, not land on the local one (the CLI creates the keystore's own). */
    if ((err = keystore_seal(seal->kind, (struct keystore_pass){seal->pass, seal->pass_len},
                             seal->kdf, (struct keystore_bytes){plain, plain_len}, &sealed,
                             &sealed_len)) != LEAL_OK)
        return err;
    /* exclusive: refused atomically even if a file appeared meanwhile. */
    err = exclusive ? file_write_new(path, sealed, sealed_len, 0600)
                    : file_write_atomic(path, sealed, sealed_len, 0600);
    keystore_free(sealed, sealed_len);
    return err;
}

leal_err keyfile_store(const char *path, const struct keyfile_seal *seal, const struct keyset *ks,
                       bool exclusive)
{
    uint8_t *plain = secmem_alloc(KEYSET_MAX_ENCODED);
    size_t plain_len = 0;
    leal_err err;
    if (plain == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = keyset_encode(ks, plain, KEYSET_MAX_ENCODED, &plain_len)) == LEAL_OK)
        err = store(path, seal, plain, plain_len, exclusive);
    keystore_free(plain, KEYSET_MAX_ENCODED);
    return err;
}

leal_err keyfile_load_bundle(const char *path, const char *pass, size_t pass_len, struct bundle *b)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    const struct keyfile_seal seal = {
        .kind = KEYSTORE_KIND_BUNDLE, .pass = pass, .pass_len = pass_len};
    leal_err err = open_file(path, LEAL_MAX_BUNDLE_FILE, &seal, &plain, &plain_len);
    if (err != LEAL_OK)
        return err;
    err = bundle_decode(plain, plain_len, b);
    keystore_free(plain, plain_len);
    if (err != LEAL_OK && err != LEAL_E_KEYSTORE_VERSION)
        err = LEAL_E_KEYSTORE_CORRUPT;
    return err;
}

leal_err keyfile_store_bundle(const char *path, const char *pass, size_t pass_len,
                              struct keystore_kdf kdf, const struct bundle *b)
{
    const struct keyfile_seal seal = {KEYSTORE_KIND_BUNDLE, pass, pass_len, kdf};
    uint8_t *plain = secmem_alloc(BUNDLE_MAX_ENCODED);
    size_t plain_len = 0;
    leal_err err;
    if (plain == NULL)
        return LEAL_E_NO_MEMORY;
    err = bundle_encode(b, plain, BUNDLE_MAX_ENCODED, &plain_len);
    if (err == LEAL_OK)
        err = store(path, &seal, plain, plain_len, false);
    keystore_free(plain, BUNDLE_MAX_ENCODED);
    return err;
}

leal_err keyfile_fingerprint(enum key_role role, const struct key_version *v, char out[17])
{
    const struct key_role_info *info = keyset_role_info(role);
    uint8_t msg[16 + KEY_MAX_LEN], digest[32], pub[32];
    const uint8_t *material = v->key;
    size_t n;
    leal_err err;

    if (info == NULL)
        return LEAL_E_UNKNOWN_ROLE;
    /* Signing roles are identified by their public key, which others also hold. */
    if (info->kind == KEY_KIND_ED25519) {
        if ((err = crypto_openssl_ed25519_public(v->key, pub)) != LEAL_OK)
            return err;
        material = pub;
    }
    memcpy(msg, "leal-fingerprint", 16);
    n = keyset_key_len(info->kind);
    memcpy(msg + 16, material, n);
    err = crypto_openssl()->sha256(msg, 16 + n, digest);
    leal_wipe(msg, sizeof msg);
    if (err != LEAL_OK)
        return err;
    return leal_hex_encode(digest, 8, false, out, 17);
}
