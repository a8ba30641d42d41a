/* issuance_classic.c - the desk on MIFARE Classic 1K/4K (LAYOUT.md 3; issuance_ops.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/classic/classic_keys.h"
#include "cardlayout/classic/mfclassic.h"
#include "cardlayout/layout.h"
#include "issuance_books.h"
#include "issuance_ops.h"
#include "keys/base/ct.h"
#include "keys/hosted/provider_openssl.h"

#define SECTORS CLASSIC_CARD_SECTORS

static const uint8_t transport_key[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static const uint8_t mad_key_a[6] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};

/* One desk operation on one Classic card. */
struct cdesk {
    struct issuance *is;
    const struct reader_card *rc;
    struct classic_keys_card card; /* what its keys are diversified from */
    enum ledger_card_tech tech;
    struct classic_card cc;
    /* The reader as classic_card sees it: the real one, with bytes counted as
     * the MIFARE commands a PN53x passes (cardsim.h): auth 12 -> ACK 1, read
     * 2 -> 16, write 18 -> ACK 1. */
    const struct card_reader *real;
    struct card_reader counting;
    unsigned long bytes;
    struct classic_card_keys k;
    uint8_t seal[32];
    uint8_t package_seed[32];
    uint8_t package_pub[32];
    uint8_t key_set_version; /* classic-a's: the key terminals use */
    /* Key rotation (keys/KEYS.md): the current version of each role; the
     * version of key A and key B (sector 0: mad-b) each sector is believed to
     * have (k holds those keys), proven where an authentication opened it. */
    uint8_t cur_a, cur_b, cur_m, cur_s, cur_p;
    uint8_t va[SECTORS], vb[SECTORS];
    bool a_ok[SECTORS], b_ok[SECTORS];
    /* Every seal and package version the keystore holds, as classic_card asks. */
    struct classic_card_keyring ring;
    struct classic_record_key seal_key; /* the current seal, for the records the desk writes */
    struct classic_card_secrets secrets;
    /* The card as read (classic_card.h): identity, both slots, the current
     * one, and the versions each record opened with (0: none). */
    struct classic_card_view v;
    bool just_personalised; /* slot 1 holds nothing this issuance wrote */
    /* Issuance and erase: which key opened each sector (classic_card_probe). */
    enum classic_card_sector st[SECTORS];
    bool any_leal, any_foreign;
    /* A state a stage sealed into the other slot for its commit. */
    struct classic_record_state next;
    uint8_t next_span[CLASSIC_RECORD_STATE_SPAN];
};

static bool has_stored_value(const struct identity *id)
{
    return (id->flags & IDENTITY_FLAG_STORED_VALUE) != 0;
}

/* LEDGER_TECH_CLASSIC_1K or _4K from the card's ATR, 0 for anything else. */
static enum ledger_card_tech classic_tech(const struct reader_card *rc)
{
    /* PC/SC part 3 storage-card ATR: 3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN
     * (NN 0001 Classic 1K, 0002 Classic 4K); sim: and nfc: build the same. */
    static const uint8_t rid[] = {0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06};
    const uint8_t *h = rc->atr + 4;
    if (rc->atr_len < 4 + 11 || memcmp(h, rid, sizeof rid) != 0 || h[9] != 0x00)
        return 0;
    return h[10] == 0x01 ? LEDGER_TECH_CLASSIC_1K : h[10] == 0x02 ? LEDGER_TECH_CLASSIC_4K : 0;
}

static enum key_role sector_role(uint8_t type, unsigned s)
{
    return type == CLASSIC_KEY_A ? KEY_ROLE_CLASSIC_A
           : s == 0              ? KEY_ROLE_MAD_B
                                 : KEY_ROLE_CLASSIC_B;
}

/* Every version of a role the keystore holds, oldest first. */
static const struct key_slot *versions_of(const struct cdesk *d, enum key_role role)
{
    const struct key_program *p;
    if (keyset_program(d->is->keys, d->is->program_id, &p) != LEAL_OK)
        return NULL;
    return &p->roles[role - KEY_ROLE_FIRST];
}

/* Key A or B of sector s at a version, into k, and the version believed. */
static leal_err set_sector_key(struct cdesk *d, uint8_t type, unsigned s, uint8_t version)
{
    const struct key_version *v;
    leal_err err =
        keyset_version(d->is->keys, d->is->program_id, sector_role(type, s), version, &v);
    if (err == LEAL_OK)
        err = classic_keys_sector(d->is->cp, v->key, &d->card, (uint8_t)s,
                                  type == CLASSIC_KEY_A ? d->k.a[s] : d->k.b[s]);
    if (err == LEAL_OK)
        (type == CLASSIC_KEY_A ? d->va : d->vb)[s] = version;
    return err;
}

static leal_err raw_auth(struct cdesk *d, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    d->bytes += 12 + 1;
    return d->real->classic_auth(d->real->ctx, block, key_type, key);
}

/* A leal key that does not open sector s: the card may be on another version
 * of the role (a rotation that has not reached it yet, or a re-key torn
 * half way). Every other version the keystore holds is tried, newest first,
 * 1 RT each; the one that opens becomes the sector's, and the guess for the
 * sectors of that role not opened yet. */
static leal_err try_versions(struct cdesk *d, uint8_t block, uint8_t type, unsigned s)
{
    bool a = type == CLASSIC_KEY_A;
    uint8_t tried = a ? d->va[s] : d->vb[s];
    const struct key_slot *vs = versions_of(d, sector_role(type, s));
    leal_err err;
    for (int i = vs ? vs->nversions - 1 : -1; i >= 0; i--) {
        uint8_t v = vs->v[i].version;
        if (v == tried)
            continue;
        if ((err = set_sector_key(d, type, s, v)) != LEAL_OK)
            return err;
        d->cc.round_trips++;
        err = raw_auth(d, block, type, a ? d->k.a[s] : d->k.b[s]);
        if (err == LEAL_OK) {
            (a ? d->a_ok : d->b_ok)[s] = true;
            for (unsigned t = a ? 1 : 0; t < SECTORS; t++)
                if (!(a ? d->a_ok : d->b_ok)[t] && sector_role(type, t) == sector_role(type, s) &&
                    (err = set_sector_key(d, type, t, v)) != LEAL_OK)
                    return err;
            return LEAL_OK;
        }
        if (err != LEAL_E_CARD_AUTHENTICATION)
            return err;
    }
    if ((err = set_sector_key(d, type, s, tried)) != LEAL_OK)
        return err;
    return LEAL_E_CARD_AUTHENTICATION;
}

static leal_err count_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    struct cdesk *d = ctx;
    unsigned s = mfclassic_block_sector(block);
    bool a = key_type == CLASSIC_KEY_A, leal_key;
    leal_err err;
    /* Only leal's own keys of sectors 0..5 have versions (not the transport
     * key, not the public MAD key A). */
    leal_key = s < SECTORS && !(a && s == 0) && leal_ct_equal(key, a ? d->k.a[s] : d->k.b[s], 6);
    err = raw_auth(d, block, key_type, key);
    if (!leal_key)
        return err;
    if (err == LEAL_OK)
        (a ? d->a_ok : d->b_ok)[s] = true;
    return err == LEAL_E_CARD_AUTHENTICATION ? try_versions(d, block, key_type, s) : err;
}

static leal_err count_read(void *ctx, uint8_t block, uint8_t out[16])
{
    struct cdesk *d = ctx;
    d->bytes += 2 + 16;
    return d->real->classic_read(d->real->ctx, block, out);
}

static leal_err count_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    struct cdesk *d = ctx;
    d->bytes += 18 + 1;
    return d->real->classic_write(d->real->ctx, block, data);
}

static leal_err master(const struct cdesk *d, enum key_role role, const struct key_version **v)
{
    return keyset_current(d->is->keys, d->is->program_id, role, v);
}

static leal_err ring_seal(void *ctx, unsigned nth, uint8_t key[32], uint8_t *version);
static leal_err ring_package_public(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version);

/* classic_card's view of this desk: the card's keys and the keystore's versions. */
static void cdesk_secrets(struct cdesk *d)
{
    d->seal_key.cp = d->is->cp;
    d->seal_key.key = d->seal;
    d->ring.cp = d->is->cp;
    d->ring.ctx = d;
    d->ring.seal = ring_seal;
    d->ring.package_public = ring_package_public;
    d->secrets.keys = &d->k;
    d->secrets.ring = &d->ring;
    d->secrets.uid = d->rc->uid;
    d->secrets.uid_len = d->rc->uid_len;
    d->secrets.issuer_id = d->is->keys->issuer_id;
    d->secrets.program_id = d->is->program_id;
}

/* Every key of this card, from its UID (LAYOUT.md 3.1, 3.2). */
static leal_err cdesk_open(struct cdesk *d, struct issuance *is, struct reader *r,
                           const struct reader_card *rc, enum ledger_card_tech tech)
{
    const struct crypto_provider *cp = is->cp;
    const struct key_version *ka, *kb, *km, *ks, *kp;
    leal_err err;

    memset(d, 0, sizeof *d);
    d->is = is;
    d->rc = rc;
    d->card.uid = rc->uid;
    d->card.uid_len = rc->uid_len;
    d->card.issuer_id = is->keys->issuer_id;
    d->card.program_id = is->program_id;
    d->tech = tech;
    d->real = reader_card_reader(r);
    d->counting.ctx = d;
    d->counting.transceive = NULL; /* classic_card moves blocks only */
    d->counting.classic_auth = count_auth;
    d->counting.classic_read = count_read;
    d->counting.classic_write = count_write;
    classic_card_init(&d->cc, &d->counting);
    if ((err = master(d, KEY_ROLE_CLASSIC_A, &ka)) != LEAL_OK ||
        (err = master(d, KEY_ROLE_CLASSIC_B, &kb)) != LEAL_OK ||
        (err = master(d, KEY_ROLE_MAD_B, &km)) != LEAL_OK ||
        (err = master(d, KEY_ROLE_CLASSIC_SEAL, &ks)) != LEAL_OK ||
        (err = master(d, KEY_ROLE_PACKAGE_SIGNING, &kp)) != LEAL_OK)
        return err;
    d->key_set_version = ka->version;
    d->cur_a = ka->version;
    d->cur_b = kb->version;
    d->cur_m = km->version;
    d->cur_s = ks->version;
    d->cur_p = kp->version;
    for (unsigned s = 0; s < SECTORS; s++) {
        d->va[s] = ka->version;
        d->vb[s] = s == 0 ? km->version : kb->version;
    }
    for (uint8_t s = 0; s < CLASSIC_CARD_SECTORS; s++) {
        if (s == 0)
            memcpy(d->k.a[0], mad_key_a, 6);
        else if ((err = classic_keys_sector(cp, ka->key, &d->card, s, d->k.a[s])) != LEAL_OK)
            return err;
        if ((err = classic_keys_sector(cp, s == 0 ? km->key : kb->key, &d->card, s, d->k.b[s])) !=
            LEAL_OK)
            return err;
    }
    if ((err = classic_keys_seal(cp, ks->key, &d->card, d->seal)) != LEAL_OK)
        return err;
    memcpy(d->package_seed, kp->key, 32);
    cdesk_secrets(d);
    return crypto_openssl_ed25519_public(d->package_seed, d->package_pub);
}

static void cdesk_close(struct cdesk *d, struct issuance_card *out)
{
    if (out) {
        out->round_trips += d->cc.round_trips;
        out->bytes += d->bytes;
    }
    leal_wipe(&d->k, sizeof d->k);
    leal_wipe(d->seal, sizeof d->seal);
    leal_wipe(d->package_seed, sizeof d->package_seed);
    leal_wipe(&d->v, sizeof d->v);
}

static leal_err auth(struct cdesk *d, unsigned sector, uint8_t type, const uint8_t key[6])
{
    return classic_card_auth(&d->cc, sector, type, key);
}

/* The seal key of a classic-seal version for this card. */
static leal_err seal_at(const struct cdesk *d, const struct key_version *v, uint8_t out[32])
{
    return classic_keys_seal(d->is->cp, v->key, &d->card, out);
}

/* The nth of the versions vs holds other than cur, newest first (nth from 1). */
static const struct key_version *nth_other(const struct key_slot *vs, uint8_t cur, unsigned nth)
{
    for (int i = vs ? vs->nversions - 1 : -1; i >= 0; i--)
        if (vs->v[i].version != cur && --nth == 0)
            return &vs->v[i];
    return NULL;
}

/* classic_card's keyring: the current seal key and package public key first,
 * then every other version the keystore holds, newest first. */
static leal_err ring_seal(void *ctx, unsigned nth, uint8_t key[32], uint8_t *version)
{
    struct cdesk *d = ctx;
    const struct key_version *v;
    if (nth == 0) {
        memcpy(key, d->seal, 32);
        *version = d->cur_s;
        return LEAL_OK;
    }
    if ((v = nth_other(versions_of(d, KEY_ROLE_CLASSIC_SEAL), d->cur_s, nth)) == NULL)
        return LEAL_E_NOT_FOUND;
    *version = v->version;
    return seal_at(d, v, key);
}

static leal_err ring_package_public(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version)
{
    struct cdesk *d = ctx;
    const struct key_version *v;
    if (nth == 0) {
        memcpy(pub, d->package_pub, 32);
        *version = d->cur_p;
        return LEAL_OK;
    }
    if ((v = nth_other(versions_of(d, KEY_ROLE_PACKAGE_SIGNING), d->cur_p, nth)) == NULL)
        return LEAL_E_NOT_FOUND;
    *version = v->version;
    return crypto_openssl_ed25519_public(v->key, pub);
}

/* The identity of the card, opened and verified (seal, signature, UID,
 * issuer, program: classic_card.h), and of the kind the ATR claims. */
static leal_err read_identity(struct cdesk *d, struct identity *id)
{
    leal_err err = classic_card_read_view_identity(&d->cc, &d->secrets, &d->v);
    if (err == LEAL_OK && d->v.id.card_kind != (uint8_t)d->tech)
        err = LEAL_E_CARD_TAMPERED; /* sealed and signed with our keys, yet not ours */
    if (err == LEAL_OK)
        *id = d->v.id;
    return err;
}

/* Both state slots as read, for a card id: classic_card_normalise_slots. */
static leal_err normalise_slots(struct cdesk *d, uint64_t card_id)
{
    return classic_card_normalise_slots(&d->ring, card_id, &d->v);
}

/* Blocks of the identity span in sectors 1, 2, 3 (LAYOUT.md 3.2). */
static const unsigned identity_blocks[LAYOUT_CLASSIC_IDENTITY_SECTORS] = {3, 3, 2};

/* Writes the data blocks of sector s that a re-key changes (the identity's
 * part of span, or the state span), after an authentication. */
static leal_err write_span(struct cdesk *d, unsigned s, const uint8_t *span)
{
    unsigned n = s >= LAYOUT_CLASSIC_STATE_SECTOR0 ? 3 : identity_blocks[s - 1];
    size_t off = s >= LAYOUT_CLASSIC_STATE_SECTOR0 ? 0 : 48 * (s - 1);
    leal_err err = LEAL_OK;
    for (unsigned b = 0; b < n && err == LEAL_OK; b++)
        err = classic_card_write_block(&d->cc, mfclassic_sector_first_block(s) + b,
                                       span + off + 16 * b);
    return err;
}

/* An identity that opens under no version (verdict: the error it gave): a
 * re-key torn while it was being written. The ledger kept the identity being
 * written, by UID; since Classic UIDs are not unique, the one taken is the
 * one whose card id opens a state slot of this card (sealed with the card id
 * in its associated data). It is written again whole with key B and read
 * back. With none, the card keeps its verdict. */
static leal_err finish_identity(struct cdesk *d, struct identity *id, leal_err verdict)
{
    uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN];
    struct ledger_span kept = {span, sizeof span, 0};
    int64_t card_id = 0;
    leal_err err = classic_card_read_state(&d->cc, &d->k, d->v.slot[0], d->v.slot[1]);
    for (int nth = 0; err == LEAL_OK; nth++) {
        if ((err = ledger_card_rewrite_find(d->is->ledger, d->rc->uid, d->rc->uid_len, nth,
                                            &card_id, &kept)) != LEAL_OK ||
            card_id == 0)
            break;
        if (kept.len != sizeof span || (err = normalise_slots(d, (uint64_t)card_id)) != LEAL_OK)
            continue;
        if (d->v.slot_seal_version[0] != 0 || d->v.slot_seal_version[1] != 0)
            break;
    }
    if (err != LEAL_OK)
        return err;
    if (card_id == 0)
        return verdict;
    for (unsigned s = LAYOUT_CLASSIC_IDENTITY_SECTOR; s < LAYOUT_CLASSIC_STATE_SECTOR0; s++)
        if ((err = auth(d, s, CLASSIC_KEY_B, d->k.b[s])) != LEAL_OK ||
            (err = write_span(d, s, span)) != LEAL_OK)
            return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_TAMPERED : err;
    return read_identity(d, id);
}

/* What the ledger recorded of the card's key B versions, where no
 * authentication proved one yet. */
static leal_err learn_versions(struct cdesk *d, int64_t card_id, uint8_t rec[LEDGER_KEY_ROLES])
{
    leal_err err = ledger_card_keys_get(d->is->ledger, card_id, rec);
    for (unsigned s = 0; err == LEAL_OK && s < SECTORS; s++) {
        uint8_t v = rec[sector_role(CLASSIC_KEY_B, s) - 1];
        if (!d->b_ok[s] && v != 0 && v != d->vb[s])
            err = set_sector_key(d, CLASSIC_KEY_B, s, v);
    }
    return err;
}

static leal_err record_versions(struct cdesk *d, int64_t card_id)
{
    uint8_t v[LEDGER_KEY_ROLES] = {0};
    leal_err err;
    v[KEY_ROLE_CLASSIC_A - 1] = d->cur_a;
    v[KEY_ROLE_CLASSIC_B - 1] = d->cur_b;
    v[KEY_ROLE_MAD_B - 1] = d->cur_m;
    v[KEY_ROLE_CLASSIC_SEAL - 1] = d->cur_s;
    v[KEY_ROLE_PACKAGE_SIGNING - 1] = d->cur_p;
    if ((err = ledger_card_keys_set(d->is->ledger, card_id, v)) != LEAL_OK)
        return err;
    return ledger_card_rewrite_drop(d->is->ledger, card_id);
}

/* The card's keys and records to the keystore's current versions (KEYS.md
 * rotation), after a read that opened every sector with key A and both the
 * identity and the state. Sector by sector under key B: the identity's blocks
 * re-sealed and re-signed (kept in the ledger first, so a tear in between is
 * finished from there), the state re-sealed into the other slot with seq + 1
 * (the older slot stays valid until it is written), then the trailer with the
 * new keys A and B, last. Nothing is sent when every version is current and
 * the ledger records so. */
/* A re-key in the making: what is behind, and the records re-sealed. */
struct rekey_plan {
    bool id_new, st_new, b_known;
    unsigned other; /* the state slot written */
    bool changed[KEY_ROLE_COUNT + 1];
    struct classic_record_state st;
    uint8_t ispan[CLASSIC_RECORD_IDENTITY_SPAN], sspan[CLASSIC_RECORD_STATE_SPAN];
};

/* The identity re-sealed and re-signed under the current versions, kept in
 * the ledger before it is written; the state re-sealed into the other slot
 * at seq + 1. */
static leal_err reseal(struct cdesk *d, const struct issuance_card *out, struct rekey_plan *p)
{
    uint8_t irec[IDENTITY_LEN], msg[IDENTITY_MAX_SIGNED], sig[64];
    size_t ml;
    leal_err err;
    if (p->id_new &&
        ((err = identity_encode(&d->v.id, irec)) != LEAL_OK ||
         (err = identity_signed_message(irec, d->rc->uid, d->rc->uid_len, msg, &ml)) != LEAL_OK ||
         (err = crypto_openssl_ed25519_sign(d->package_seed, msg, ml, sig)) != LEAL_OK ||
         (err = classic_record_identity_seal(&d->seal_key, irec, sig, p->ispan)) != LEAL_OK ||
         (err = ledger_card_rewrite_put(d->is->ledger, out->card_id, p->ispan, sizeof p->ispan)) !=
             LEAL_OK))
        return err;
    if (!p->st_new)
        return LEAL_OK;
    p->st.body = out->state;
    p->st.body.seq = out->state.seq + 1u;
    p->st.purse = (uint32_t)out->purse_cents;
    return classic_record_state_seal(&d->seal_key, (uint64_t)out->card_id, p->other, &p->st,
                                     p->sspan);
}

/* Sector by sector under key B: the re-sealed records' blocks, then the
 * trailer with the current keys A and B (1 RT), last. */
static leal_err rekey_sectors(struct cdesk *d, struct rekey_plan *p)
{
    leal_err err;
    for (unsigned s = 0; s < SECTORS; s++) {
        bool ids =
            p->id_new && s >= LAYOUT_CLASSIC_IDENTITY_SECTOR && s < LAYOUT_CLASSIC_STATE_SECTOR0;
        bool sts = p->st_new && s == LAYOUT_CLASSIC_STATE_SECTOR0 + p->other;
        uint8_t cur_b = s ? d->cur_b : d->cur_m;
        bool keys_current = (s == 0 || d->va[s] == d->cur_a) && d->vb[s] == cur_b;
        if (!ids && !sts && p->b_known && keys_current)
            continue;
        if ((err = auth(d, s, CLASSIC_KEY_B, d->k.b[s])) != LEAL_OK ||
            (ids && (err = write_span(d, s, p->ispan)) != LEAL_OK) ||
            (sts && (err = write_span(d, s, p->sspan)) != LEAL_OK))
            return err;
        /* The authentication may have found key B on another version. */
        if ((s == 0 || d->va[s] == d->cur_a) && d->vb[s] == cur_b)
            continue;
        p->changed[KEY_ROLE_CLASSIC_A] =
            p->changed[KEY_ROLE_CLASSIC_A] || (s > 0 && d->va[s] != d->cur_a);
        p->changed[sector_role(CLASSIC_KEY_B, s)] =
            p->changed[sector_role(CLASSIC_KEY_B, s)] || d->vb[s] != cur_b;
        if ((s > 0 && (err = set_sector_key(d, CLASSIC_KEY_A, s, d->cur_a)) != LEAL_OK) ||
            (err = set_sector_key(d, CLASSIC_KEY_B, s, cur_b)) != LEAL_OK ||
            (err = classic_card_write_trailer(&d->cc, &d->k, s)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

/* What the card carries after the re-key: versions, and a state moved to
 * the other slot (its counter and mark recorded); then the versions into
 * the ledger. */
static leal_err rekey_done(struct cdesk *d, struct rekey_plan *p, struct issuance_card *out)
{
    leal_err err;
    p->changed[KEY_ROLE_CLASSIC_SEAL] =
        p->st_new || (p->id_new && d->v.id_seal_version != d->cur_s);
    p->changed[KEY_ROLE_PACKAGE_SIGNING] = p->id_new && d->v.id_package_version != d->cur_p;
    for (int r = KEY_ROLE_FIRST; r <= KEY_ROLE_LAST; r++)
        out->rekeyed += p->changed[r];
    if (p->id_new) {
        d->v.id_seal_version = d->cur_s;
        d->v.id_package_version = d->cur_p;
    }
    if (p->st_new) {
        d->v.current = p->other;
        d->v.state = p->st;
        d->v.slot_seal_version[p->other] = d->cur_s;
        out->state.seq = p->st.body.seq;
        out->taps = p->st.body.seq - CLASSIC_CARD_INITIAL_SEQ;
        memcpy(d->v.slot[p->other], p->sspan, sizeof p->sspan);
        memcpy(d->v.slot_tag[p->other], p->sspan + 2, sizeof d->v.slot_tag[p->other]);
        memcpy(d->v.mark, p->sspan + 2, sizeof d->v.mark);
        memcpy(out->mark, p->sspan + 2, sizeof out->mark);
        if ((err = ledger_card_set_counter(d->is->ledger, out->card_id, out->taps)) != LEAL_OK ||
            (err = ledger_card_set_seen_mark(d->is->ledger, out->card_id, out->state.seq,
                                             out->purse_cents, out->state.points, out->mark)) !=
                LEAL_OK)
            return err;
    }
    return record_versions(d, out->card_id);
}

static leal_err rekey(struct cdesk *d, struct issuance_card *out)
{
    uint8_t rec[LEDGER_KEY_ROLES];
    struct rekey_plan p;
    bool work;
    leal_err err;

    memset(&p, 0, sizeof p);
    p.id_new = d->v.id_seal_version != d->cur_s || d->v.id_package_version != d->cur_p;
    p.st_new = d->v.slot_seal_version[d->v.current] != d->cur_s;
    p.other = d->v.current ^ 1u;
    work = p.id_new || p.st_new;
    if ((err = learn_versions(d, out->card_id, rec)) != LEAL_OK)
        return err;
    p.b_known = rec[KEY_ROLE_CLASSIC_B - 1] != 0 && rec[KEY_ROLE_MAD_B - 1] != 0;
    for (unsigned s = 0; s < SECTORS; s++)
        work = work || !p.b_known || (s > 0 && d->va[s] != d->cur_a) ||
               d->vb[s] != (s ? d->cur_b : d->cur_m);
    if (!work) {
        if (rec[KEY_ROLE_CLASSIC_A - 1] == d->cur_a && rec[KEY_ROLE_CLASSIC_SEAL - 1] == d->cur_s &&
            rec[KEY_ROLE_PACKAGE_SIGNING - 1] == d->cur_p)
            return LEAL_OK;
        return record_versions(d, out->card_id);
    }
    if ((err = reseal(d, out, &p)) == LEAL_OK && (err = rekey_sectors(d, &p)) == LEAL_OK)
        err = rekey_done(d, &p, out);
    leal_wipe(&p, sizeof p);
    return err;
}

/* What a terminal reads (identity 11, both slots 8 = 19 RT), checked on its
 * own by classic_card; out->classic_cap_cents is the program's cap, which the
 * codec applies to the current slot (the purse rule). */
static leal_err read_card(struct cdesk *d, struct issuance_card *out)
{
    struct classic_record_state st;
    struct identity id;
    leal_err err;

    if ((err = read_identity(d, &id)) == LEAL_E_CARD_TAMPERED || err == LEAL_E_LAYOUT_VERSION)
        err = finish_identity(d, &id, err);
    if (err != LEAL_OK)
        return err;
    /* Stored value (LAYOUT.md 3.2): off unless the identity says the program
     * enabled it; then at most the program's Classic cap. */
    out->stored_value = has_stored_value(&id);
    out->card_id = (int64_t)id.card_id;
    out->issuer_id = id.issuer_id;
    out->program_id = id.program_id;
    out->key_set_version = id.key_set_version;
    out->tech = d->tech;
    memcpy(out->uid, d->rc->uid, d->rc->uid_len);
    out->uid_len = d->rc->uid_len;
    /* Both slots, the current one judged by the purse rule in the codec (right
     * after personalisation slot 1 was never written: sector 5 only opened). A
     * current state that breaks the rule is tampering, not a reason to fall
     * back to the older slot (which would hide it). */
    d->secrets.purse_cap = out->classic_cap_cents <= 0           ? 0
                           : out->classic_cap_cents > UINT32_MAX ? UINT32_MAX
                                                                 : (uint32_t)out->classic_cap_cents;
    if ((err = classic_card_read_view_state(&d->cc, &d->secrets, d->just_personalised, &d->v)) !=
        LEAL_OK)
        return err;
    st = d->v.state;
    out->state = st.body;
    out->layout_version = LAYOUT_VERSION; /* no bonos on Classic yet (LAYOUT.md 4.5) */
    out->purse_cents = (int32_t)st.purse;
    out->taps = st.body.seq - CLASSIC_CARD_INITIAL_SEQ;
    /* The current slot's SIV tag marks this state (LAYOUT.md 3.2: V at 2). */
    memcpy(out->mark, d->v.mark, sizeof out->mark);
    out->has_mark = true;
    return LEAL_OK;
}

/* Whether the MAD (public key A) declares leal's sectors: another issuer's or
 * program's leal card. */
static bool mad_says_leal(struct cdesk *d)
{
    uint8_t mad[32], info;
    uint16_t aids[MFCLASSIC_MAD1_SECTORS];
    if (classic_card_read_mad(&d->cc, mad) != LEAL_OK ||
        mfclassic_mad1_decode(mad, &info, aids) != LEAL_OK)
        return false;
    return aids[LAYOUT_CLASSIC_IDENTITY_SECTOR - 1] == LAYOUT_MAD_AID;
}

/* The sealed, signed identity and the sealed opening state (slot 0). */
static leal_err build_records(struct cdesk *d, int64_t card_id, const struct issuance_opening *o,
                              uint8_t ispan[CLASSIC_RECORD_IDENTITY_SPAN],
                              uint8_t sspan[CLASSIC_RECORD_STATE_SPAN])
{
    struct identity id;
    struct classic_record_state st;
    uint8_t rec[IDENTITY_LEN], msg[IDENTITY_MAX_SIGNED], sig[64];
    size_t ml;
    leal_err err;

    memset(&id, 0, sizeof id);
    memset(&st, 0, sizeof st);
    id.card_id = (uint64_t)card_id;
    id.issuer_id = d->is->keys->issuer_id;
    id.program_id = d->is->program_id;
    id.key_set_version = d->key_set_version;
    id.card_kind = (uint8_t)d->tech;
    /* Fixed UID; stored value as the program has it now (LAYOUT.md 1.1, 3.2). */
    id.flags = o->stored_value ? IDENTITY_FLAG_STORED_VALUE : 0;
    id.issued_day = (uint32_t)(time(NULL) / 86400);
    st.body.seq = CLASSIC_CARD_INITIAL_SEQ;
    st.body.points = o->points;
    st.body.period = o->period; /* welcomed: RULES.md 3 */
    st.body.tier = o->tier;     /* a replacement's: the account's */
    memcpy(st.body.buckets, o->buckets, sizeof o->buckets);
    st.purse = (uint32_t)o->purse;
    if ((err = identity_encode(&id, rec)) != LEAL_OK ||
        (err = identity_signed_message(rec, d->rc->uid, d->rc->uid_len, msg, &ml)) != LEAL_OK ||
        (err = crypto_openssl_ed25519_sign(d->package_seed, msg, ml, sig)) != LEAL_OK ||
        (err = classic_record_identity_seal(&d->seal_key, rec, sig, ispan)) != LEAL_OK)
        return err;
    return classic_record_state_seal(&d->seal_key, (uint64_t)card_id, 0, &st, sspan);
}

/* Verification of what was written, with the new keys A: the MAD (3 RT), the
 * identity (11 RT), slot 0 (4 RT) and sector 5 opened (1 RT: slot 1 was not
 * written); slot 0 current at the initial seq. */
static leal_err classic_verify(void *s, int64_t card_id, const struct issuance_opening *o,
                               struct issuance_card *out)
{
    struct cdesk *d = s;
    uint8_t mad[32], info;
    uint16_t aids[MFCLASSIC_MAD1_SECTORS];
    leal_err err;

    if ((err = classic_card_read_mad(&d->cc, mad)) != LEAL_OK)
        return err;
    if (mfclassic_mad1_decode(mad, &info, aids) != LEAL_OK)
        return LEAL_E_CARD_TAMPERED;
    for (unsigned sec = 1; sec <= MFCLASSIC_MAD1_SECTORS; sec++)
        if (aids[sec - 1] != (sec < CLASSIC_CARD_SECTORS ? LAYOUT_MAD_AID : 0))
            return LEAL_E_CARD_TAMPERED;
    d->just_personalised = true;
    err = read_card(d, out);
    d->just_personalised = false;
    if (err != LEAL_OK)
        return err;
    if (out->card_id != card_id || d->v.current != 0 ||
        out->state.seq != CLASSIC_CARD_INITIAL_SEQ || out->state.points != o->points ||
        out->purse_cents != o->purse || out->stored_value != o->stored_value ||
        out->state.tier != o->tier || memcmp(out->state.buckets, o->buckets, sizeof o->buckets))
        return LEAL_E_CARD_TAMPERED;
    return LEAL_OK;
}

static leal_err classic_open(const struct issuance_contact *c, void **session)
{
    struct cdesk *d = calloc(1, sizeof *d);
    if (d == NULL)
        return LEAL_E_NO_MEMORY;
    *session = d;
    return cdesk_open(d, c->is, c->reader, &c->rc, c->tech);
}

static void classic_close(void *s, struct issuance_card *out)
{
    struct cdesk *d = s;
    if (d == NULL)
        return;
    cdesk_close(d, out);
    leal_wipe(d, sizeof *d);
    free(d);
}

static leal_err classic_read(void *s, struct issuance_card *out)
{
    return read_card(s, out);
}

/* The seq the desk last saw with other contents: a fork (LAYOUT.md 3.3). */
static void classic_judge_mark(void *s, const struct ledger_card *lc, bool intent_mark,
                               const struct issuance_card *out, char *why, size_t why_len)
{
    (void)s;
    (void)intent_mark;
    why[0] = '\0';
    if (lc->has_seen_mark && lc->seen_at > 0 && (int64_t)out->state.seq == lc->seen_seq &&
        !leal_ct_equal(out->mark, lc->seen_mark, sizeof out->mark))
        snprintf(why, why_len,
                 "its state at seq %u is not the one the desk last saw at that seq: a "
                 "forged or forked state",
                 out->state.seq);
}

/* A state write waits until a person settled a top-up in flight. */
static leal_err classic_rekey(void *s, struct issuance_card *out)
{
    return out->unsettled ? LEAL_OK : rekey(s, out);
}

/* A new state in the other slot (seq + 1, POINTS, PURSE) of a card just
 * read, sealed for the commit (4 RT when written). */
static leal_err next_state(struct cdesk *d, const struct issuance_card *out, uint32_t points,
                           uint32_t purse)
{
    memset(&d->next, 0, sizeof d->next);
    d->next.body = out->state;
    d->next.body.points = points;
    d->next.purse = purse;
    return classic_card_seal_next(&d->secrets, &d->v, &d->next, d->next_span);
}

/* A host top-up: the other slot with seq + 1 and purse + cents. */
static leal_err classic_credit_stage(void *s, const struct issuance_card *out, int64_t cents,
                                     struct ledger_pending_topup *t)
{
    struct cdesk *d = s;
    leal_err err = next_state(d, out, out->state.points, (uint32_t)(out->purse_cents + cents));
    if (err != LEAL_OK)
        return err;
    t->seq_before = out->state.seq;
    t->seq_after = d->next.body.seq;
    t->purse_after = d->next.purse;
    snprintf(t->request_id, sizeof t->request_id, "card:%lld:seq:%u", (long long)out->card_id,
             d->next.body.seq);
    t->has_mark = true;
    memcpy(t->mark, d->next_span + 2, sizeof t->mark);
    return LEAL_OK;
}

static leal_err classic_state_stage(void *s, const struct issuance_card *out, uint32_t points,
                                    uint32_t purse, struct ledger_pending_sync *p)
{
    p->seq_before = out->state.seq;
    p->seq_after = (uint32_t)(out->state.seq + 1u);
    return next_state(s, out, points, purse);
}

/* The staged state written (authenticate + 3 writes), then what the card
 * holds: current slot, view. */
static leal_err classic_state_commit(void *s, struct issuance_card *out)
{
    struct cdesk *d = s;
    leal_err err = classic_card_write_next(&d->cc, &d->secrets, &d->next, d->next_span, &d->v);
    if (err != LEAL_OK)
        return err;
    memcpy(out->mark, d->next_span + 2, sizeof out->mark);
    out->state = d->next.body;
    out->purse_cents = (int32_t)d->next.purse;
    out->taps = d->next.body.seq - CLASSIC_CARD_INITIAL_SEQ;
    return LEAL_OK;
}

static bool identity_sectors_leal(const struct cdesk *d)
{
    return d->st[1] == CLASSIC_CARD_SECTOR_LEAL && d->st[2] == CLASSIC_CARD_SECTOR_LEAL &&
           d->st[3] == CLASSIC_CARD_SECTOR_LEAL;
}

/* Which key opens each sector, and whose identity the card carries if it
 * opens (our own torn issuance, or somebody's card). */
static leal_err classic_inspect(void *s, struct issuance_card *out)
{
    struct cdesk *d = s;
    struct identity id;
    leal_err err;
    out->tech = d->tech;
    if ((err = classic_card_probe(&d->cc, transport_key, &d->k, d->st)) != LEAL_OK)
        return err;
    for (unsigned sec = 0; sec < CLASSIC_CARD_SECTORS; sec++) {
        d->any_leal = d->any_leal || d->st[sec] == CLASSIC_CARD_SECTOR_LEAL;
        d->any_foreign = d->any_foreign || d->st[sec] == CLASSIC_CARD_SECTOR_FOREIGN;
    }
    if (!identity_sectors_leal(d))
        return LEAL_OK;
    err = read_identity(d, &id);
    if (err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD || err == LEAL_E_READER)
        return err;
    if (err == LEAL_OK) {
        out->card_id = (int64_t)id.card_id;
        out->issuer_id = id.issuer_id;
        out->program_id = id.program_id;
    }
    return LEAL_OK;
}

static bool classic_torn_here(void *s, const struct ledger_card *c)
{
    const struct cdesk *d = s;
    return (c->tech == LEDGER_TECH_CLASSIC_1K || c->tech == LEDGER_TECH_CLASSIC_4K) &&
           c->uid_len == d->rc->uid_len && memcmp(c->uid, d->rc->uid, c->uid_len) == 0;
}

/* A sector under keys that are not ours: on our own torn issuance (ours in
 * part, or resuming a PENDING card with this UID) a trailer write was torn
 * into garbage, and that sector is lost for good; otherwise another issuer's
 * leal card, or another system's card. */
static leal_err classic_pending_record(void *s, bool resuming, struct ledger_card *lc)
{
    struct cdesk *d = s;
    if (d->any_foreign)
        return d->any_leal || resuming ? LEAL_E_CARD_MEMORY_DAMAGED
               : mad_says_leal(d)      ? LEAL_E_CARD_ALREADY_ISSUED
                                       : LEAL_E_CARD_NOT_BLANK;
    lc->tech = d->tech;
    lc->layout_version = LAYOUT_VERSION;
    lc->keyset_version = d->key_set_version;
    memcpy(lc->uid, d->rc->uid, d->rc->uid_len);
    lc->uid_len = d->rc->uid_len;
    return LEAL_OK;
}

/* A torn issuance starts over (sectors under leal's keys back to transport),
 * then the card is made and its keys' versions recorded. */
static leal_err classic_personalise(void *s, int64_t card_id, const struct issuance_opening *o,
                                    struct issuance_card *out)
{
    struct cdesk *d = s;
    uint8_t ispan[CLASSIC_RECORD_IDENTITY_SPAN], sspan[CLASSIC_RECORD_STATE_SPAN];
    leal_err err = LEAL_OK;
    for (unsigned sec = 0; sec < CLASSIC_CARD_SECTORS && err == LEAL_OK; sec++)
        if (d->st[sec] == CLASSIC_CARD_SECTOR_LEAL)
            err = classic_card_to_transport(&d->cc, &d->k, sec);
    out->resumed = d->any_leal;
    if (err == LEAL_OK && (err = build_records(d, card_id, o, ispan, sspan)) == LEAL_OK &&
        (err = classic_card_personalise(&d->cc, transport_key, &d->k, ispan, sspan)) == LEAL_OK)
        err = record_versions(d, card_id);
    leal_wipe(ispan, sizeof ispan);
    return err;
}

/* Whose card, from its identity while it is still there (a card torn in an
 * earlier erase may have lost it already: it is finished). A card in the
 * transport state, or with a sector under keys not ours, is not leal's. */
static leal_err classic_erase_identify(void *s, struct issuance_card *out)
{
    struct cdesk *d = s;
    struct identity id;
    leal_err err;
    if ((err = classic_card_probe(&d->cc, transport_key, &d->k, d->st)) != LEAL_OK)
        return err;
    for (unsigned sec = 0; sec < CLASSIC_CARD_SECTORS; sec++) {
        if (d->st[sec] == CLASSIC_CARD_SECTOR_FOREIGN)
            return LEAL_E_CARD_NOT_LEAL;
        d->any_leal = d->any_leal || d->st[sec] == CLASSIC_CARD_SECTOR_LEAL;
    }
    if (!d->any_leal)
        return LEAL_E_CARD_NOT_LEAL;
    if (!identity_sectors_leal(d))
        return LEAL_OK;
    if ((err = read_identity(d, &id)) == LEAL_OK) {
        out->card_id = (int64_t)id.card_id;
        out->issuer_id = id.issuer_id;
        out->program_id = id.program_id;
        out->tech = d->tech;
    }
    return err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD || err == LEAL_E_READER ? err
                                                                                       : LEAL_OK;
}

/* Back to the transport state: state sectors first, the identity and the MAD last. */
static leal_err classic_erase(void *s, struct issuance_card *out)
{
    struct cdesk *d = s;
    leal_err err;
    (void)out;
    for (unsigned i = CLASSIC_CARD_SECTORS; i-- > 0;)
        if (d->st[i] == CLASSIC_CARD_SECTOR_LEAL &&
            (err = classic_card_to_transport(&d->cc, &d->k, i)) != LEAL_OK)
            return err;
    return LEAL_OK;
}

static bool classic_claims(const struct reader_card *rc, enum ledger_card_tech *tech)
{
    *tech = classic_tech(rc);
    return *tech != 0;
}

const struct issuance_card_ops issuance_classic_ops = {
    .name = "classic",
    .claims = classic_claims,
    .open = classic_open,
    .close = classic_close,
    .read = classic_read,
    .judge_mark = classic_judge_mark,
    .rekey = classic_rekey,
    .upgrade = NULL,
    .add_tmac = NULL,
    .credit_stage = classic_credit_stage,
    .credit_commit = classic_state_commit,
    .state_stage = classic_state_stage,
    .state_commit = classic_state_commit,
    .inspect = classic_inspect,
    .torn_here = classic_torn_here,
    .pending_record = classic_pending_record,
    .personalise = classic_personalise,
    .verify = classic_verify,
    .erase_identify = classic_erase_identify,
    .erase = classic_erase,
};
