/* sam.c - the SAM-shaped key interface and the software SAM (sam.h). */
#include "sam.h"

#include "cardlayout/classic/classic_keys.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/derive.h"

#define SAM_UID_MIN 4

leal_err sam_check(const struct sam *s)
{
    if (s == NULL || s->info == NULL || s->current_version == NULL || s->desfire_key == NULL ||
        s->classic_sector_key == NULL || s->classic_seal_key == NULL || s->package_public == NULL ||
        s->journal_key == NULL)
        return LEAL_E_ARG;
    return LEAL_OK;
}

/* ---- adapters to cardlayout/ ---- */

static leal_err desfire_current(void *ctx, enum key_role role, uint8_t *version)
{
    const struct sam *s = ctx;
    return s->current_version(s->ctx, role, version);
}

static leal_err desfire_card_key(void *ctx, const struct desfire_card_div *card, enum key_role role,
                                 uint8_t version, const uint8_t aid[3], uint8_t out[16])
{
    const struct sam *s = ctx;
    const struct sam_card c = {card->id, card->len};
    return s->desfire_key(s->ctx, &c, role, version, aid, out);
}

void sam_desfire_keys(const struct sam *s, struct desfire_card_keys *out)
{
    out->ctx = (void *)(uintptr_t)s; /* the driver never writes through it */
    out->current_version = desfire_current;
    out->card_key = desfire_card_key;
}

leal_err sam_classic_keys(const struct sam *s, const uint8_t *uid, size_t uid_len, uint8_t version,
                          struct classic_card_keys *out)
{
    const struct sam_card c = {uid, uid_len};
    struct classic_card_keys k;
    leal_err err = LEAL_OK;
    if (s == NULL || uid == NULL || uid_len < SAM_UID_MIN || uid_len > LEAL_MAX_UID)
        return LEAL_E_ARG;
    leal_memset(&k, 0, sizeof k);
    for (uint8_t sector = 1; sector < CLASSIC_CARD_SECTORS && err == LEAL_OK; sector++)
        err = s->classic_sector_key(s->ctx, &c, version, sector, k.a[sector]);
    if (err == LEAL_OK)
        leal_memcpy(out, &k, sizeof k);
    leal_wipe(&k, sizeof k);
    return err;
}

static leal_err ring_seal(void *ctx, unsigned nth, uint8_t key[32], uint8_t *version)
{
    const struct sam_classic_ring *r = ctx;
    const struct sam_card c = {r->uid, r->uid_len};
    return r->sam->classic_seal_key(r->sam->ctx, &c, nth, key, version);
}

static leal_err ring_public(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version)
{
    const struct sam_classic_ring *r = ctx;
    return r->sam->package_public(r->sam->ctx, nth, pub, version);
}

leal_err sam_classic_keyring(const struct sam *s, const struct crypto_provider *cp,
                             const uint8_t *uid, size_t uid_len, struct sam_classic_ring *ring_ctx,
                             struct classic_card_keyring *out)
{
    if (s == NULL || uid == NULL || uid_len < SAM_UID_MIN || uid_len > LEAL_MAX_UID)
        return LEAL_E_ARG;
    ring_ctx->sam = s;
    leal_memcpy(ring_ctx->uid, uid, uid_len);
    ring_ctx->uid_len = uid_len;
    out->cp = cp;
    out->ctx = ring_ctx;
    out->seal = ring_seal;
    out->package_public = ring_public;
    return LEAL_OK;
}

leal_err sam_package_keys(const struct sam *s, struct package_key *keys, size_t cap, size_t *n)
{
    leal_err err;
    *n = 0;
    for (unsigned nth = 0;; nth++) {
        struct package_key k;
        err = s->package_public(s->ctx, nth, k.public_key, &k.version);
        if (err == LEAL_E_NOT_FOUND)
            return LEAL_OK;
        if (err != LEAL_OK)
            return err;
        if (*n == cap)
            return LEAL_E_NO_SPACE;
        keys[(*n)++] = k;
    }
}

/* ---- the software SAM ---- */

/* The bundle's slot of a role a terminal holds; NULL for any other role. */
static const struct sam_soft_aes *soft_slot(const struct sam_soft *soft, enum key_role role)
{
    switch (role) {
    case KEY_ROLE_TERMINAL:
        return &soft->terminal;
    case KEY_ROLE_CLASSIC_A:
        return &soft->classic_a;
    case KEY_ROLE_CLASSIC_SEAL:
        return &soft->classic_seal;
    default:
        return NULL;
    }
}

/* The master of role at version, or why not. */
static leal_err soft_master(const struct sam_soft *soft, enum key_role role, uint8_t version,
                            const uint8_t **master)
{
    const struct sam_soft_aes *slot;
    if (!soft->open)
        return LEAL_E_STATE;
    if ((slot = soft_slot(soft, role)) == NULL)
        return LEAL_E_PERMISSION;
    for (uint8_t i = 0; i < slot->n; i++)
        if (slot->version[i] == version) {
            *master = slot->key[i];
            return LEAL_OK;
        }
    return LEAL_E_KEY_VERSION;
}

static leal_err soft_info(void *ctx, struct sam_info *out)
{
    const struct sam_soft *soft = ctx;
    if (!soft->open)
        return LEAL_E_STATE;
    *out = soft->who;
    return LEAL_OK;
}

static leal_err soft_current(void *ctx, enum key_role role, uint8_t *version)
{
    const struct sam_soft *soft = ctx;
    const struct sam_soft_aes *slot;
    if (!soft->open)
        return LEAL_E_STATE;
    if ((slot = soft_slot(soft, role)) == NULL)
        return LEAL_E_PERMISSION;
    if (slot->n == 0)
        return LEAL_E_KEY_VERSION;
    *version = slot->version[slot->n - 1]; /* ascending (bundle_decode) */
    return LEAL_OK;
}

static leal_err card_ok(const struct sam_card *card)
{
    return card == NULL || card->id == NULL || card->id_len < SAM_UID_MIN ||
                   card->id_len > LEAL_MAX_UID
               ? LEAL_E_ARG
               : LEAL_OK;
}

static leal_err soft_desfire_key(void *ctx, const struct sam_card *card, enum key_role role,
                                 uint8_t version, const uint8_t aid[3], uint8_t out[16])
{
    const struct sam_soft *soft = ctx;
    const uint8_t *master;
    leal_err err;
    if ((err = card_ok(card)) != LEAL_OK)
        return err;
    if (role != KEY_ROLE_TERMINAL) /* the only DESFire key a terminal holds */
        return soft->open ? LEAL_E_PERMISSION : LEAL_E_STATE;
    if ((err = soft_master(soft, role, version, &master)) != LEAL_OK)
        return err;
    const struct derive_card_input in = {card->id, card->id_len, aid, soft->who.issuer_id,
                                         soft->who.program_id};
    return derive_card_key(soft->cp, master, &in, out);
}

static leal_err soft_sector_key(void *ctx, const struct sam_card *card, uint8_t version,
                                uint8_t sector, uint8_t key[6])
{
    const struct sam_soft *soft = ctx;
    const uint8_t *master;
    leal_err err;
    if ((err = card_ok(card)) != LEAL_OK)
        return err;
    if (sector >= CLASSIC_CARD_SECTORS)
        return LEAL_E_ARG;
    if ((err = soft_master(soft, KEY_ROLE_CLASSIC_A, version, &master)) != LEAL_OK)
        return err;
    const struct classic_keys_card c = {card->id, card->id_len, soft->who.issuer_id,
                                        soft->who.program_id};
    return classic_keys_sector(soft->cp, master, &c, sector, key);
}

/* The index of a slot's nth version, newest first (n versions, ascending). */
static leal_err nth_version(uint8_t n, unsigned nth, unsigned *i)
{
    if (nth >= n)
        return LEAL_E_NOT_FOUND;
    *i = n - 1u - nth;
    return LEAL_OK;
}

static leal_err soft_seal_key(void *ctx, const struct sam_card *card, unsigned nth, uint8_t key[32],
                              uint8_t *version)
{
    const struct sam_soft *soft = ctx;
    unsigned i;
    leal_err err;
    if ((err = card_ok(card)) != LEAL_OK)
        return err;
    if (!soft->open)
        return LEAL_E_STATE;
    if ((err = nth_version(soft->classic_seal.n, nth, &i)) != LEAL_OK)
        return err;
    const struct classic_keys_card c = {card->id, card->id_len, soft->who.issuer_id,
                                        soft->who.program_id};
    if ((err = classic_keys_seal(soft->cp, soft->classic_seal.key[i], &c, key)) != LEAL_OK)
        return err;
    *version = soft->classic_seal.version[i];
    return LEAL_OK;
}

static leal_err soft_package_public(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version)
{
    const struct sam_soft *soft = ctx;
    unsigned i;
    leal_err err;
    if (!soft->open)
        return LEAL_E_STATE;
    if ((err = nth_version(soft->package_public.n, nth, &i)) != LEAL_OK)
        return err;
    leal_memcpy(pub, soft->package_public.key[i], 32);
    *version = soft->package_public.version[i];
    return LEAL_OK;
}

static leal_err soft_journal_key(void *ctx, uint8_t key[16], uint8_t *version)
{
    const struct sam_soft *soft = ctx;
    if (!soft->open)
        return LEAL_E_STATE;
    leal_memcpy(key, soft->journal_key, 16);
    *version = soft->who.journal_key_version;
    return LEAL_OK;
}

/* A bundle slot's versions into n, version[] and key_len-byte keys (the
 * first key_len bytes of each: AES masters are 16 of the slot's 32). */
LEAL_NOINLINE static void take_slot(const struct key_slot *from, uint8_t *n,
                                    uint8_t version[LEAL_MAX_KEY_VERSIONS], uint8_t *keys,
                                    size_t key_len)
{
    *n = from->nversions; /* at most LEAL_MAX_KEY_VERSIONS: the length of from->v */
    for (uint8_t i = 0; i < from->nversions; i++) {
        version[i] = from->v[i].version;
        leal_memcpy(keys + i * key_len, from->v[i].key, key_len);
    }
}

#define TAKE(to, from)                                                                             \
    take_slot((from), &(to)->n, (to)->version, &(to)->key[0][0], sizeof(to)->key[0])

leal_err sam_soft_open(struct sam_soft *soft, const struct crypto_provider *cp,
                       const struct bundle *b, struct sam *s)
{
    if (soft == NULL || cp == NULL || b == NULL || s == NULL)
        return LEAL_E_ARG;
    TAKE(&soft->terminal, &b->terminal);
    TAKE(&soft->classic_a, &b->classic_a);
    TAKE(&soft->classic_seal, &b->classic_seal);
    TAKE(&soft->package_public, &b->package_public);
    TAKE(&soft->qr_public, &b->qr_public);
    soft->who = (struct sam_info){b->issuer_id, b->program_id, b->terminal_id, b->expires,
                                  b->journal_version};
    leal_memcpy(soft->journal_key, b->journal_key, sizeof soft->journal_key);
    soft->cp = cp;
    soft->open = 1;
    s->ctx = soft;
    s->info = soft_info;
    s->current_version = soft_current;
    s->desfire_key = soft_desfire_key;
    s->classic_sector_key = soft_sector_key;
    s->classic_seal_key = soft_seal_key;
    s->package_public = soft_package_public;
    s->journal_key = soft_journal_key;
    return LEAL_OK;
}

void sam_soft_close(struct sam_soft *soft)
{
    if (soft == NULL)
        return;
    leal_wipe(soft, sizeof *soft); /* open is 0 after */
}
