/* keyset.c - the key hierarchy in memory and its encoding. */
#include "keyset.h"

#include "base/buf.h"
#include "base/bytes.h"
#include "base/ct.h"
#include "base/limits.h"

/* The encoding's own version, inside the encrypted container. */
#define KEYSET_ENCODING_VERSION 1

/* LEAL_MAX_PROGRAMS is chosen so that a full keyset fits a keystore file. */
_Static_assert(KEYSET_MAX_ENCODED <= LEAL_MAX_KEYSTORE_FILE,
               "a full keyset must fit a keystore file");

static const struct key_role_info roles[KEY_ROLE_COUNT] = {
    {KEY_ROLE_PICC_MASTER, "picc-master", KEY_KIND_AES128, false,
     "DESFire card master key (replaces the factory key at issuance)"},
    {KEY_ROLE_APP_MASTER, "app-master", KEY_KIND_AES128, false,
     "DESFire application master key (creates files, writes identity)"},
    {KEY_ROLE_PURSE_CREDIT, "purse-credit", KEY_KIND_AES128, false,
     "DESFire purse credit key (top-ups; host only)"},
    {KEY_ROLE_TERMINAL, "terminal", KEY_KIND_AES128, true,
     "DESFire terminal key (debit, points, stamps, counter, log)"},
    {KEY_ROLE_PACKAGE_SIGNING, "package", KEY_KIND_ED25519, true,
     "signs terminal packages and card identities (terminals get the public key)"},
    {KEY_ROLE_QR, "qr", KEY_KIND_ED25519, true, "signs QR codes (terminals get the public key)"},
    {KEY_ROLE_JOURNAL_MAC, "journal", KEY_KIND_AES128, false,
     "terminal journal MAC master (each terminal gets its own derived key)"},
    {KEY_ROLE_CLASSIC_A, "classic-a", KEY_KIND_AES128, true,
     "MIFARE Classic sector key A master (terminals: read and write state)"},
    {KEY_ROLE_CLASSIC_B, "classic-b", KEY_KIND_AES128, false,
     "MIFARE Classic sector key B master (host: identity, trailers)"},
    {KEY_ROLE_CLASSIC_SEAL, "classic-seal", KEY_KIND_AES128, true,
     "MIFARE Classic record sealing master (AES-SIV)"},
    {KEY_ROLE_MAD_B, "mad-b", KEY_KIND_AES128, false, "MIFARE Classic MAD sector key B master"},
    {KEY_ROLE_TMAC, "tmac", KEY_KIND_AES128, false,
     "DESFire EV2/EV3 Transaction MAC key (host only: checks the TMVs cards compute)"},
};

/* Roles a program written before KEY_ROLE_TMAC lacks (its encoding lists
 * one role fewer); such a slot stays empty until rotated. */
static int roles_encoded(const struct key_program *p)
{
    return p->roles[KEY_ROLE_TMAC - KEY_ROLE_FIRST].nversions == 0 ? KEY_ROLE_COUNT - 1
                                                                   : KEY_ROLE_COUNT;
}

bool keyset_name_valid(const uint8_t *name, size_t len)
{
    if (len == 0 || len > LEAL_MAX_ISSUER_NAME)
        return false;
    for (size_t i = 0; i < len; i++)
        if (name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

const struct key_role_info *keyset_role_info(enum key_role role)
{
    if (role < KEY_ROLE_FIRST || role > KEY_ROLE_LAST)
        return NULL;
    return &roles[role - KEY_ROLE_FIRST];
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

const struct key_role_info *keyset_role_by_name(const char *name)
{
    for (int i = 0; i < KEY_ROLE_COUNT; i++)
        if (name && str_eq(roles[i].name, name))
            return &roles[i];
    return NULL;
}

size_t keyset_key_len(enum key_kind kind)
{
    return kind == KEY_KIND_ED25519 ? 32 : 16;
}

leal_err keyset_program(const struct keyset *ks, uint32_t program_id,
                        const struct key_program **out)
{
    *out = NULL;
    for (int i = 0; i < ks->nprograms; i++)
        if (ks->programs[i].id == program_id) {
            *out = &ks->programs[i];
            return LEAL_OK;
        }
    return LEAL_E_UNKNOWN_PROGRAM;
}

leal_err keyset_current(const struct keyset *ks, uint32_t program_id, enum key_role role,
                        const struct key_version **out)
{
    const struct key_program *p;
    leal_err err;
    *out = NULL;
    if (keyset_role_info(role) == NULL)
        return LEAL_E_UNKNOWN_ROLE;
    if ((err = keyset_program(ks, program_id, &p)) != LEAL_OK)
        return err;
    const struct key_slot *s = &p->roles[role - KEY_ROLE_FIRST];
    if (s->nversions == 0)
        return LEAL_E_KEY_VERSION;
    *out = &s->v[s->nversions - 1];
    return LEAL_OK;
}

leal_err keyset_version(const struct keyset *ks, uint32_t program_id, enum key_role role,
                        uint8_t version, const struct key_version **out)
{
    const struct key_program *p;
    leal_err err;
    *out = NULL;
    if (keyset_role_info(role) == NULL)
        return LEAL_E_UNKNOWN_ROLE;
    if ((err = keyset_program(ks, program_id, &p)) != LEAL_OK)
        return err;
    const struct key_slot *s = &p->roles[role - KEY_ROLE_FIRST];
    for (int i = 0; i < s->nversions; i++)
        if (s->v[i].version == version) {
            *out = &s->v[i];
            return LEAL_OK;
        }
    return LEAL_E_KEY_VERSION;
}

leal_err keyset_add_program(struct keyset *ks, uint32_t program_id, uint64_t now,
                            leal_err (*random)(uint8_t *out, size_t n))
{
    const struct key_program *existing;
    struct key_program *p;
    leal_err err;

    if (program_id == 0)
        return LEAL_E_RANGE;
    if (keyset_program(ks, program_id, &existing) == LEAL_OK)
        return LEAL_E_PROGRAM_EXISTS;
    if (ks->nprograms >= LEAL_MAX_PROGRAMS)
        return LEAL_E_TOO_LARGE;
    p = &ks->programs[ks->nprograms];
    leal_memset(p, 0, sizeof *p);
    p->id = program_id;
    p->created = now;
    for (int i = 0; i < KEY_ROLE_COUNT; i++) {
        struct key_version *v = &p->roles[i].v[0];
        v->version = 1;
        v->created = now;
        if ((err = random(v->key, keyset_key_len(roles[i].kind))) != LEAL_OK) {
            leal_wipe(p, sizeof *p);
            return err;
        }
        p->roles[i].nversions = 1;
    }
    ks->nprograms++;
    return LEAL_OK;
}

leal_err keyset_rotate(struct keyset *ks, uint32_t program_id, enum key_role role, uint64_t now,
                       leal_err (*random)(uint8_t *out, size_t n), uint8_t *new_version)
{
    const struct key_role_info *info = keyset_role_info(role);
    struct key_program *p = NULL;
    struct key_slot *s;
    struct key_version *v;
    leal_err err;

    *new_version = 0;
    if (info == NULL)
        return LEAL_E_UNKNOWN_ROLE;
    for (int i = 0; i < ks->nprograms; i++)
        if (ks->programs[i].id == program_id)
            p = &ks->programs[i];
    if (p == NULL)
        return LEAL_E_UNKNOWN_PROGRAM;
    s = &p->roles[role - KEY_ROLE_FIRST];
    if (s->nversions >= LEAL_MAX_KEY_VERSIONS ||
        (s->nversions > 0 && s->v[s->nversions - 1].version == 255))
        return LEAL_E_TOO_LARGE;
    v = &s->v[s->nversions];
    /* An empty slot (a role newer than the keystore) starts at version 1. */
    v->version = (uint8_t)(s->nversions > 0 ? s->v[s->nversions - 1].version + 1 : 1);
    v->created = now;
    if ((err = random(v->key, keyset_key_len(info->kind))) != LEAL_OK) {
        leal_wipe(v, sizeof *v);
        return err;
    }
    s->nversions++;
    *new_version = v->version;
    return LEAL_OK;
}

leal_err keyset_put_slot(struct buf_writer *w, enum key_kind kind, const struct key_slot *s)
{
    leal_err err = buf_put_u8(w, s->nversions);
    for (int i = 0; err == LEAL_OK && i < s->nversions; i++) {
        if ((err = buf_put_u8(w, s->v[i].version)) != LEAL_OK ||
            (err = buf_put_be64(w, s->v[i].created)) != LEAL_OK)
            break;
        err = buf_put_bytes(w, s->v[i].key, keyset_key_len(kind));
    }
    return err;
}

leal_err keyset_get_slot(struct buf_reader *r, enum key_kind kind, struct key_slot *s)
{
    leal_err err;
    uint8_t n;
    leal_memset(s, 0, sizeof *s);
    if ((err = buf_get_u8(r, &n)) != LEAL_OK)
        return err;
    if (n == 0)
        return LEAL_E_FORMAT;
    if (n > LEAL_MAX_KEY_VERSIONS)
        return LEAL_E_TOO_LARGE;
    for (int i = 0; i < n; i++) {
        struct key_version *v = &s->v[i];
        if ((err = buf_get_u8(r, &v->version)) != LEAL_OK ||
            (err = buf_get_be64(r, &v->created)) != LEAL_OK ||
            (err = buf_get_bytes(r, v->key, keyset_key_len(kind))) != LEAL_OK)
            goto fail;
        /* Versions strictly ascending, never 0: the newest is the last. */
        if (v->version == 0 || (i > 0 && v->version <= s->v[i - 1].version)) {
            err = LEAL_E_FORMAT;
            goto fail;
        }
    }
    s->nversions = n;
    return LEAL_OK;
fail:
    leal_wipe(s, sizeof *s);
    return err;
}

leal_err keyset_encode(const struct keyset *ks, uint8_t *out, size_t cap, size_t *len)
{
    struct buf_writer w;
    size_t name_len = 0;
    leal_err err;

    *len = 0;
    while (name_len <= LEAL_MAX_ISSUER_NAME && ks->issuer_name[name_len])
        name_len++;
    if (name_len == 0 || name_len > LEAL_MAX_ISSUER_NAME)
        return LEAL_E_ARG;
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_u8(&w, KEYSET_ENCODING_VERSION)) != LEAL_OK ||
        (err = buf_put_be32(&w, ks->issuer_id)) != LEAL_OK ||
        (err = buf_put_be64(&w, ks->created)) != LEAL_OK ||
        (err = buf_put_u8(&w, (uint8_t)name_len)) != LEAL_OK ||
        (err = buf_put_bytes(&w, (const uint8_t *)ks->issuer_name, name_len)) != LEAL_OK ||
        (err = buf_put_u8(&w, ks->nprograms)) != LEAL_OK)
        return err;
    for (int i = 0; i < ks->nprograms; i++) {
        const struct key_program *p = &ks->programs[i];
        if ((err = buf_put_be32(&w, p->id)) != LEAL_OK ||
            (err = buf_put_be64(&w, p->created)) != LEAL_OK ||
            (err = buf_put_u8(&w, (uint8_t)roles_encoded(p))) != LEAL_OK)
            return err;
        for (int r = 0; r < roles_encoded(p); r++)
            if ((err = buf_put_u8(&w, (uint8_t)roles[r].role)) != LEAL_OK ||
                (err = keyset_put_slot(&w, roles[r].kind, &p->roles[r])) != LEAL_OK)
                return err;
    }
    *len = buf_writer_len(&w);
    return LEAL_OK;
}

leal_err keyset_decode(const uint8_t *in, size_t len, struct keyset *ks)
{
    struct buf_reader r;
    uint8_t version, name_len, nroles, count;
    leal_err err;

    leal_memset(ks, 0, sizeof *ks);
    buf_reader_init(&r, in, len);
    if ((err = buf_get_u8(&r, &version)) != LEAL_OK)
        goto out;
    if (version != KEYSET_ENCODING_VERSION) {
        err = LEAL_E_KEYSTORE_VERSION;
        goto out;
    }
    if ((err = buf_get_be32(&r, &ks->issuer_id)) != LEAL_OK ||
        (err = buf_get_be64(&r, &ks->created)) != LEAL_OK ||
        (err = buf_get_u8(&r, &name_len)) != LEAL_OK)
        goto out;
    if (name_len == 0 || name_len > LEAL_MAX_ISSUER_NAME) {
        err = LEAL_E_FORMAT;
        goto out;
    }
    if ((err = buf_get_bytes(&r, (uint8_t *)ks->issuer_name, name_len)) != LEAL_OK ||
        (err = buf_get_u8(&r, &count)) != LEAL_OK)
        goto out;
    if (!keyset_name_valid((const uint8_t *)ks->issuer_name, name_len)) {
        err = LEAL_E_FORMAT;
        goto out;
    }
    if (count > LEAL_MAX_PROGRAMS) {
        err = LEAL_E_FORMAT;
        goto out;
    }
    for (int i = 0; i < count; i++) {
        struct key_program *p = &ks->programs[i];
        const struct key_program *dup;
        if ((err = buf_get_be32(&r, &p->id)) != LEAL_OK ||
            (err = buf_get_be64(&r, &p->created)) != LEAL_OK ||
            (err = buf_get_u8(&r, &nroles)) != LEAL_OK)
            goto out;
        /* A program id once, never 0; every role present, in table order
         * (a program made before the tmac role lacks only that one). */
        ks->nprograms = (uint8_t)i;
        if (p->id == 0 || keyset_program(ks, p->id, &dup) == LEAL_OK ||
            (nroles != KEY_ROLE_COUNT && nroles != KEY_ROLE_COUNT - 1)) {
            err = LEAL_E_FORMAT;
            goto out;
        }
        for (int k = 0; k < nroles; k++) {
            uint8_t role;
            if ((err = buf_get_u8(&r, &role)) != LEAL_OK)
                goto out;
            if (role != roles[k].role) {
                err = LEAL_E_FORMAT;
                goto out;
            }
            if ((err = keyset_get_slot(&r, roles[k].kind, &p->roles[k])) != LEAL_OK)
                goto out;
        }
    }
    ks->nprograms = count;
    err = buf_expect_end(&r);
out:
    if (err != LEAL_OK)
        keyset_clear(ks);
    return err;
}

leal_err keyset_keep_program(struct keyset *ks, uint32_t program_id)
{
    int at = -1;
    for (int i = 0; i < ks->nprograms; i++)
        if (ks->programs[i].id == program_id)
            at = i;
    if (at < 0)
        return LEAL_E_UNKNOWN_PROGRAM;
    if (at != 0)
        leal_memcpy(&ks->programs[0], &ks->programs[at], sizeof ks->programs[0]);
    leal_wipe(&ks->programs[1], sizeof ks->programs - sizeof ks->programs[0]);
    ks->nprograms = 1;
    return LEAL_OK;
}

void keyset_clear(struct keyset *ks)
{
    leal_wipe(ks, sizeof *ks);
}
