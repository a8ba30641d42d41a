/* terminal_bundle.c - a terminal key bundle's lifetime and content (terminal_bundle.h). */
#include "terminal_bundle.h"

#include <string.h>

#include "host/books/parse.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"

leal_err desk_bundle_expiry(const char *date, int64_t now, int64_t *expires)
{
    leal_err err = books_parse_date(date, expires);
    if (err != LEAL_OK)
        return err;
    *expires += 86400; /* valid through the whole day named, UTC */
    if (*expires <= now)
        return LEAL_E_BUNDLE_EXPIRED;
    if (*expires > now + (int64_t)LEAL_MAX_BUNDLE_DAYS * 86400)
        return LEAL_E_RANGE;
    return LEAL_OK;
}

/* The public halves of an Ed25519 role's versions. */
static leal_err public_slot(const struct key_slot *secret, struct key_slot *pub)
{
    leal_err err = LEAL_OK;
    memset(pub, 0, sizeof *pub);
    for (int i = 0; i < secret->nversions && err == LEAL_OK; i++) {
        pub->v[i].version = secret->v[i].version;
        pub->v[i].created = secret->v[i].created;
        err = crypto_openssl_ed25519_public(secret->v[i].key, pub->v[i].key);
    }
    pub->nversions = secret->nversions;
    return err;
}

leal_err desk_bundle_fill(const struct keyset *ks, const struct desk_bundle_for *f,
                          struct bundle *b)
{
    const struct key_program *prog;
    const struct key_version *journal;
    leal_err err;
    if ((err = keyset_program(ks, f->program_id, &prog)) != LEAL_OK ||
        (err = keyset_current(ks, f->program_id, KEY_ROLE_JOURNAL_MAC, &journal)) != LEAL_OK)
        return err;
    b->issuer_id = ks->issuer_id;
    memcpy(b->issuer_name, ks->issuer_name, sizeof b->issuer_name);
    b->program_id = f->program_id;
    b->terminal_id = f->terminal_id;
    b->created = (uint64_t)f->now;
    b->expires = (uint64_t)f->expires;
    b->terminal = prog->roles[KEY_ROLE_TERMINAL - KEY_ROLE_FIRST];
    b->classic_a = prog->roles[KEY_ROLE_CLASSIC_A - KEY_ROLE_FIRST];
    b->classic_seal = prog->roles[KEY_ROLE_CLASSIC_SEAL - KEY_ROLE_FIRST];
    b->journal_version = journal->version;
    if ((err = derive_journal_key(crypto_openssl(), journal->key, ks->issuer_id, f->program_id,
                                  f->terminal_id, b->journal_key)) != LEAL_OK ||
        (err = public_slot(&prog->roles[KEY_ROLE_PACKAGE_SIGNING - KEY_ROLE_FIRST],
                           &b->package_public)) != LEAL_OK)
        return err;
    return public_slot(&prog->roles[KEY_ROLE_QR - KEY_ROLE_FIRST], &b->qr_public);
}
