/* desk_keys.c - keys for a desk card command (desk_keys.h). */
#include "desk_keys.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/agent/agent_client.h"
#include "host/file.h"
#include "host/keys/keyfile.h"
#include "host/keys/passphrase.h"
#include "keys/base/ct.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/hosted/secmem.h"

static leal_err fail(struct desk_keys *k, enum desk_keys_stage stage, leal_err err)
{
    k->failed = stage;
    if (k->keys) {
        keyset_clear(k->keys);
        secmem_free(k->keys);
        k->keys = NULL;
    }
    return err;
}

/* Wipes every role of the kept program that roles does not name. */
static void keep_roles(struct keyset *ks, uint32_t roles)
{
    for (int r = KEY_ROLE_FIRST; r <= KEY_ROLE_LAST; r++) {
        if (roles & DESK_ROLE(r))
            continue;
        for (uint8_t p = 0; p < ks->nprograms; p++)
            leal_wipe(&ks->programs[p].roles[r - KEY_ROLE_FIRST], sizeof ks->programs[p].roles[0]);
    }
}

/* The program named, or the keystore's only one. */
static leal_err choose_program(struct desk_keys *k, uint32_t wanted)
{
    const struct key_program *kp;
    if (wanted == 0) {
        k->nprograms = k->keys->nprograms;
        if (k->keys->nprograms != 1)
            return fail(k, DESK_KEYS_PROGRAMS, LEAL_E_USAGE);
        wanted = k->keys->programs[0].id;
    } else if (keyset_program(k->keys, wanted, &kp) != LEAL_OK) {
        return fail(k, DESK_KEYS_PROGRAM, LEAL_E_UNKNOWN_PROGRAM);
    }
    k->program_id = wanted;
    return LEAL_OK;
}

/* The program's card keys from a running desk agent of this user (host/agent):
 * LEAL_OK when they came (k->program_id is theirs), LEAL_E_NOT_FOUND when the
 * keystore is to be unlocked here (no agent, or one holding another keystore
 * or program), LEAL_E_PERMISSION for an agent socket not safe to believe. */
static leal_err keys_from_agent(struct desk_keys *k, uint32_t program)
{
    char canon[PATH_MAX];
    leal_err err;
    if (realpath(k->keystore_path, canon) == NULL)
        return LEAL_E_NOT_FOUND;
    err = agent_client_keys(canon, program, k->keys, &k->program_id);
    if (err == LEAL_E_PERMISSION)
        return err;
    return err == LEAL_OK ? LEAL_OK : LEAL_E_NOT_FOUND;
}

/* The keys: from the desk agent when it runs, else the keystore file unlocked
 * with the user's passphrase. */
static leal_err unlock_keystore(const struct desk_key_request *req, struct desk_keys *k)
{
    struct passphrase pass;
    leal_err err;
    if (req->keystore_path) {
        if ((size_t)snprintf(k->keystore_path, sizeof k->keystore_path, "%s", req->keystore_path) >=
            sizeof k->keystore_path)
            return fail(k, DESK_KEYS_LOAD, LEAL_E_TOO_LARGE);
    } else if ((err = file_default_path("keystore", k->keystore_path, sizeof k->keystore_path)) !=
               LEAL_OK) {
        return fail(k, DESK_KEYS_NO_PATH, err);
    }
    if ((k->keys = secmem_alloc(sizeof *k->keys)) == NULL)
        return fail(k, DESK_KEYS_MEMORY, LEAL_E_NO_MEMORY);
    if ((err = keys_from_agent(k, req->program_id)) == LEAL_OK) {
        k->from_agent = true;
        return LEAL_OK;
    }
    if (err == LEAL_E_PERMISSION)
        return fail(k, DESK_KEYS_AGENT, err);
    if ((err = passphrase_get(req->passphrase_file, "LEAL_PASSPHRASE", "keystore", false, &pass)) !=
        LEAL_OK)
        return fail(k, DESK_KEYS_PASSPHRASE, err);
    err = keyfile_load(k->keystore_path, KEYSTORE_KIND_KEYSTORE, pass.text, pass.len, k->keys);
    passphrase_clear(&pass);
    if (err != LEAL_OK)
        return fail(k, DESK_KEYS_LOAD, err);
    return LEAL_OK;
}

leal_err desk_keys_acquire(const struct desk_key_request *req, struct desk_keys *k)
{
    leal_err err;
    memset(k, 0, sizeof *k);
    /* The provider the desk installs, checked once here, before a key is
     * unlocked (crypto_provider_check refuses a table with a member missing). */
    k->cp = crypto_openssl();
    if ((err = crypto_provider_check(k->cp)) != LEAL_OK)
        return fail(k, DESK_KEYS_PROVIDER, err);
    if ((err = unlock_keystore(req, k)) != LEAL_OK)
        return err;
    if ((err = choose_program(k, k->from_agent ? k->program_id : req->program_id)) != LEAL_OK)
        return err;
    /* Only this program's keys, and only the roles asked for, stay in memory. */
    if ((err = keyset_keep_program(k->keys, k->program_id)) != LEAL_OK)
        return fail(k, DESK_KEYS_PROGRAM, err);
    keep_roles(k->keys, req->roles);
    k->failed = DESK_KEYS_OK;
    return LEAL_OK;
}

void desk_keys_release(struct desk_keys *k)
{
    if (k == NULL || k->keys == NULL)
        return;
    keyset_clear(k->keys);
    secmem_free(k->keys);
    k->keys = NULL;
}
