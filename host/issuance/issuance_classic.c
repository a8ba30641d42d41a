/* issuance_classic.c - the desk on MIFARE Classic 1K/4K (LAYOUT.md 3; issuance_ops.h). */
#include <stdio.h>
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
/* The state seq a new card starts at: taps are counted from it. */
#define INITIAL_SEQ 1u

/* What opens a sector: the transport key A (blank), leal's key B, or neither. */
enum sector_state { SECTOR_TRANSPORT, SECTOR_LEAL, SECTOR_FOREIGN };

/* One desk operation on one Classic card. */
struct cdesk {
    struct issuance *is;
    const struct reader_card *rc;
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
     * have (k holds those keys), proven where an authentication opened it;
     * the versions the identity and each state slot opened with (0: none). */
    uint8_t cur_a, cur_b, cur_m, cur_s, cur_p;
    uint8_t va[SECTORS], vb[SECTORS];
    bool a_ok[SECTORS], b_ok[SECTORS];
    uint8_t id_seal, id_pkg, slot_seal[2];
    uint8_t raw_tag[2][LEDGER_CARD_MARK_LEN]; /* each slot's SIV tag as on the card */
    struct identity id;                       /* as read */
    uint8_t slot0[CLASSIC_RECORD_STATE_SPAN], slot1[CLASSIC_RECORD_STATE_SPAN];
    unsigned current; /* the current state slot after a read */
    char unsettled_why[256];
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
        err = classic_keys_sector(d->is->cp, v->key, d->rc->uid, d->rc->uid_len,
                                  d->is->keys->issuer_id, d->is->program_id, (uint8_t)s,
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

/* Every key of this card, from its UID (LAYOUT.md 3.1, 3.2). */
static leal_err cdesk_open(struct cdesk *d, struct issuance *is, struct reader *r,
                           const struct reader_card *rc, enum ledger_card_tech tech)
{
    const struct crypto_provider *cp = is->cp;
    const struct key_version *ka, *kb, *km, *ks, *kp;
    uint32_t issuer = is->keys->issuer_id, program = is->program_id;
    leal_err err;

    memset(d, 0, sizeof *d);
    d->is = is;
    d->rc = rc;
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
        else if ((err = classic_keys_sector(cp, ka->key, rc->uid, rc->uid_len, issuer, program, s,
                                            d->k.a[s])) != LEAL_OK)
            return err;
        if ((err = classic_keys_sector(cp, s == 0 ? km->key : kb->key, rc->uid, rc->uid_len, issuer,
                                       program, s, d->k.b[s])) != LEAL_OK)
            return err;
    }
    if ((err = classic_keys_seal(cp, ks->key, rc->uid, rc->uid_len, issuer, program, d->seal)) !=
        LEAL_OK)
        return err;
    memcpy(d->package_seed, kp->key, 32);
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
}

static leal_err auth(struct cdesk *d, unsigned sector, uint8_t type, const uint8_t key[6])
{
    d->cc.round_trips++;
    return d->cc.reader->classic_auth(d->cc.reader->ctx,
                                      (uint8_t)mfclassic_sector_first_block(sector), type, key);
}

static leal_err write_block(struct cdesk *d, unsigned block, const uint8_t data[16])
{
    d->cc.round_trips++;
    return d->cc.reader->classic_write(d->cc.reader->ctx, (uint8_t)block, data);
}

/* Which key opens each of sectors 0..5: 1 round trip a sector on a blank card. */
static leal_err probe(struct cdesk *d, enum sector_state st[CLASSIC_CARD_SECTORS])
{
    leal_err err;
    for (unsigned s = 0; s < CLASSIC_CARD_SECTORS; s++) {
        if ((err = auth(d, s, CLASSIC_KEY_A, transport_key)) == LEAL_OK) {
            st[s] = SECTOR_TRANSPORT;
            continue;
        }
        if (err != LEAL_E_CARD_AUTHENTICATION)
            return err;
        if ((err = auth(d, s, CLASSIC_KEY_B, d->k.b[s])) == LEAL_OK)
            st[s] = SECTOR_LEAL;
        else if (err == LEAL_E_CARD_AUTHENTICATION)
            st[s] = SECTOR_FOREIGN;
        else
            return err;
    }
    return LEAL_OK;
}

/* A sector under leal's key B back to the transport state: data blocks zero,
 * then the factory trailer FFFFFFFFFFFF FF0780 69 FFFFFFFFFFFF. */
static leal_err to_transport(struct cdesk *d, unsigned s)
{
    static const uint8_t zero[16] = {0};
    static const uint8_t cond[4] = {0, 0, 0, 1};
    uint8_t t[16];
    leal_err err;
    if ((err = auth(d, s, CLASSIC_KEY_B, d->k.b[s])) != LEAL_OK)
        return err;
    for (unsigned b = s == 0 ? 1 : 0; b < 3; b++)
        if ((err = write_block(d, mfclassic_sector_first_block(s) + b, zero)) != LEAL_OK)
            return err;
    if ((err = mfclassic_trailer_build(transport_key, cond, 0x69, transport_key, t)) != LEAL_OK)
        return err;
    return write_block(d, mfclassic_trailer_block(s), t);
}

/* The seal key of a classic-seal version for this card. */
static leal_err seal_at(const struct cdesk *d, const struct key_version *v, uint8_t out[32])
{
    return classic_keys_seal(d->is->cp, v->key, d->rc->uid, d->rc->uid_len, d->is->keys->issuer_id,
                             d->is->program_id, out);
}

/* Opens the identity span under whichever classic-seal and package versions
 * it was written with (newest first; a wrong seal fails at the SIV tag, so
 * the package keys are tried only under the seal that opens). */
static leal_err open_identity(struct cdesk *d, const uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN],
                              struct identity *id)
{
    const struct key_slot *ss = versions_of(d, KEY_ROLE_CLASSIC_SEAL);
    const struct key_slot *ps = versions_of(d, KEY_ROLE_PACKAGE_SIGNING);
    uint8_t seal[32], pub[32];
    leal_err err = LEAL_E_CARD_TAMPERED;
    for (int i = ss ? ss->nversions - 1 : -1; i >= 0; i--) {
        if ((err = seal_at(d, &ss->v[i], seal)) != LEAL_OK)
            break;
        err = classic_record_identity_open(d->is->cp, seal, span, d->rc->uid, d->rc->uid_len,
                                           d->package_pub, id);
        for (int j = ps->nversions - 1; err == LEAL_E_SIGNATURE && j >= 0; j--) {
            if (ps->v[j].version == d->cur_p)
                continue;
            if ((err = crypto_openssl_ed25519_public(ps->v[j].key, pub)) == LEAL_OK)
                err = classic_record_identity_open(d->is->cp, seal, span, d->rc->uid,
                                                   d->rc->uid_len, pub, id);
            if (err == LEAL_OK)
                d->id_pkg = ps->v[j].version;
        }
        if (err == LEAL_OK && d->id_pkg == 0)
            d->id_pkg = d->cur_p;
        if (err == LEAL_OK)
            d->id_seal = ss->v[i].version;
        if (err != LEAL_E_CARD_TAMPERED && err != LEAL_E_SIGNATURE)
            break;
    }
    leal_wipe(seal, sizeof seal);
    return err;
}

/* The identity of the card, opened and verified (seal, signature, UID, kind). */
static leal_err read_identity(struct cdesk *d, struct identity *id)
{
    uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN];
    leal_err err = classic_card_read_identity(&d->cc, &d->k, span);
    if (err != LEAL_OK)
        return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_NOT_LEAL : err;
    d->id_seal = d->id_pkg = 0;
    err = open_identity(d, span, id);
    if (err != LEAL_OK)
        return err == LEAL_E_LAYOUT_VERSION || err == LEAL_E_NO_MEMORY ? err : LEAL_E_CARD_TAMPERED;
    if (id->issuer_id != d->is->keys->issuer_id || id->program_id != d->is->program_id ||
        id->card_kind != (uint8_t)d->tech)
        return LEAL_E_CARD_TAMPERED; /* sealed and signed with our keys, yet not ours */
    return LEAL_OK;
}

/* A top-up left pending by a tear between the card write and the ledger's
 * commit (LAYOUT.md 3.3), settled from what the card shows: at seq_after with
 * purse_after, the write took: the entry is posted (and the intent removed, in
 * one transaction); still at seq_before, it did not (a torn write leaves the
 * other slot invalid, so the old slot wins): the intent is dropped; anything
 * else is a disagreement, named and left for a person. */
static leal_err settle_pending(struct cdesk *d, const struct ledger_card *lc,
                               struct issuance_card *out)
{
    struct ledger_pending_topup t;
    bool found = false, replayed = false;
    leal_err err = ledger_pending_topup_get(d->is->ledger, lc->card_id, &t, &found);
    if (err != LEAL_OK || !found)
        return err;
    if ((int64_t)out->state.seq == t.seq_after && (int64_t)out->purse_cents == t.purse_after) {
        if ((err = issuance_post_seq_topup(d->is, lc->card_id, lc->account_id,
                                           (uint32_t)t.seq_after, t.cents, &replayed)) != LEAL_OK)
            return err;
        out->recovered += !replayed;
        return LEAL_OK;
    }
    if ((int64_t)out->state.seq == t.seq_before) {
        if ((err = ledger_pending_topup_drop(d->is->ledger, lc->card_id, t.request_id)) != LEAL_OK)
            return err;
        out->dropped++;
        return LEAL_OK;
    }
    out->unsettled = true;
    out->unsettled_cents = t.cents;
    snprintf(d->unsettled_why, sizeof d->unsettled_why,
             "a top-up of %lld.%02lld (seq %lld to %lld, purse %lld.%02lld) is neither on the card "
             "nor undone: the card is at seq %u with %d.%02d",
             (long long)(t.cents / 100), (long long)(t.cents % 100), (long long)t.seq_before,
             (long long)t.seq_after, (long long)(t.purse_after / 100),
             (long long)(t.purse_after % 100), out->state.seq, out->purse_cents / 100,
             out->purse_cents % 100);
    return LEAL_OK;
}

/* Both state slots opened under whichever classic-seal version each was
 * written with and put back, in memory, under the current one, so that the
 * selection rules (LAYOUT.md 3.2) judge them together. */
static leal_err normalise_slots(struct cdesk *d, uint64_t card_id)
{
    static const struct classic_record_purse any = {true, UINT32_MAX};
    const struct key_slot *ss = versions_of(d, KEY_ROLE_CLASSIC_SEAL);
    struct classic_record_state st;
    uint8_t seal[32];
    leal_err err = LEAL_OK;
    for (unsigned slot = 0; slot < 2 && err == LEAL_OK; slot++) {
        uint8_t *span = slot ? d->slot1 : d->slot0;
        d->slot_seal[slot] = 0;
        memcpy(d->raw_tag[slot], span + 2, sizeof d->raw_tag[slot]);
        for (int i = ss ? ss->nversions - 1 : -1; i >= 0 && err == LEAL_OK; i--) {
            if ((err = seal_at(d, &ss->v[i], seal)) != LEAL_OK ||
                classic_record_state_open(d->is->cp, seal, card_id, slot, span, &any, &st) !=
                    LEAL_OK)
                continue;
            d->slot_seal[slot] = ss->v[i].version;
            if (ss->v[i].version != d->cur_s)
                err = classic_record_state_seal(d->is->cp, d->seal, card_id, slot, &st, span);
            break;
        }
    }
    leal_wipe(seal, sizeof seal);
    leal_wipe(&st, sizeof st);
    return err;
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
        err = write_block(d, mfclassic_sector_first_block(s) + b, span + off + 16 * b);
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
    int64_t card_id = 0;
    size_t len = 0;
    leal_err err = classic_card_read_state(&d->cc, &d->k, d->slot0, d->slot1);
    for (int nth = 0; err == LEAL_OK; nth++) {
        if ((err = ledger_card_rewrite_find(d->is->ledger, d->rc->uid, d->rc->uid_len, nth,
                                            &card_id, span, sizeof span, &len)) != LEAL_OK ||
            card_id == 0)
            break;
        if (len != sizeof span || (err = normalise_slots(d, (uint64_t)card_id)) != LEAL_OK)
            continue;
        if (d->slot_seal[0] != 0 || d->slot_seal[1] != 0)
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
static leal_err rekey(struct cdesk *d, struct issuance_card *out)
{
    uint8_t rec[LEDGER_KEY_ROLES], ispan[CLASSIC_RECORD_IDENTITY_SPAN];
    uint8_t sspan[CLASSIC_RECORD_STATE_SPAN];
    struct classic_record_state st;
    bool id_new = d->id_seal != d->cur_s || d->id_pkg != d->cur_p;
    bool st_new = d->slot_seal[d->current] != d->cur_s, changed[KEY_ROLE_COUNT + 1] = {false};
    bool work = id_new || st_new, b_known;
    unsigned other = d->current ^ 1u;
    leal_err err;

    if ((err = learn_versions(d, out->card_id, rec)) != LEAL_OK)
        return err;
    b_known = rec[KEY_ROLE_CLASSIC_B - 1] != 0 && rec[KEY_ROLE_MAD_B - 1] != 0;
    for (unsigned s = 0; s < SECTORS; s++)
        work = work || !b_known || (s > 0 && d->va[s] != d->cur_a) ||
               d->vb[s] != (s ? d->cur_b : d->cur_m);
    if (!work) {
        if (rec[KEY_ROLE_CLASSIC_A - 1] == d->cur_a && rec[KEY_ROLE_CLASSIC_SEAL - 1] == d->cur_s &&
            rec[KEY_ROLE_PACKAGE_SIGNING - 1] == d->cur_p)
            return LEAL_OK;
        return record_versions(d, out->card_id);
    }
    memset(&st, 0, sizeof st);
    if (id_new) {
        uint8_t irec[IDENTITY_LEN], msg[IDENTITY_MAX_SIGNED], sig[64];
        size_t ml;
        if ((err = identity_encode(&d->id, irec)) != LEAL_OK ||
            (err = identity_signed_message(irec, d->rc->uid, d->rc->uid_len, msg, &ml)) !=
                LEAL_OK ||
            (err = crypto_openssl_ed25519_sign(d->package_seed, msg, ml, sig)) != LEAL_OK ||
            (err = classic_record_identity_seal(d->is->cp, d->seal, irec, sig, ispan)) != LEAL_OK ||
            (err = ledger_card_rewrite_put(d->is->ledger, out->card_id, ispan, sizeof ispan)) !=
                LEAL_OK)
            goto out;
    }
    if (st_new) {
        st.body = out->state;
        st.body.seq = out->state.seq + 1u;
        st.purse = (uint32_t)out->purse_cents;
        if ((err = classic_record_state_seal(d->is->cp, d->seal, (uint64_t)out->card_id, other, &st,
                                             sspan)) != LEAL_OK)
            goto out;
    }
    for (unsigned s = 0; s < SECTORS; s++) {
        bool ids =
            id_new && s >= LAYOUT_CLASSIC_IDENTITY_SECTOR && s < LAYOUT_CLASSIC_STATE_SECTOR0;
        bool sts = st_new && s == LAYOUT_CLASSIC_STATE_SECTOR0 + other;
        uint8_t cur_b = s ? d->cur_b : d->cur_m;
        if (!ids && !sts && b_known && (s == 0 || d->va[s] == d->cur_a) && d->vb[s] == cur_b)
            continue;
        if ((err = auth(d, s, CLASSIC_KEY_B, d->k.b[s])) != LEAL_OK ||
            (ids && (err = write_span(d, s, ispan)) != LEAL_OK) ||
            (sts && (err = write_span(d, s, sspan)) != LEAL_OK))
            goto out;
        if ((s == 0 || d->va[s] == d->cur_a) && d->vb[s] == cur_b)
            continue;
        /* The new keys, then the trailer that carries them (1 RT). */
        changed[KEY_ROLE_CLASSIC_A] =
            changed[KEY_ROLE_CLASSIC_A] || (s > 0 && d->va[s] != d->cur_a);
        changed[sector_role(CLASSIC_KEY_B, s)] =
            changed[sector_role(CLASSIC_KEY_B, s)] || d->vb[s] != cur_b;
        if ((s > 0 && (err = set_sector_key(d, CLASSIC_KEY_A, s, d->cur_a)) != LEAL_OK) ||
            (err = set_sector_key(d, CLASSIC_KEY_B, s, cur_b)) != LEAL_OK ||
            (err = classic_card_write_trailer(&d->cc, &d->k, s)) != LEAL_OK)
            goto out;
    }
    changed[KEY_ROLE_CLASSIC_SEAL] = st_new || (id_new && d->id_seal != d->cur_s);
    changed[KEY_ROLE_PACKAGE_SIGNING] = id_new && d->id_pkg != d->cur_p;
    for (int r = KEY_ROLE_FIRST; r <= KEY_ROLE_LAST; r++)
        out->rekeyed += changed[r];
    if (id_new) {
        d->id_seal = d->cur_s;
        d->id_pkg = d->cur_p;
    }
    if (st_new) {
        d->current = other;
        d->slot_seal[other] = d->cur_s;
        out->state.seq = st.body.seq;
        out->taps = st.body.seq - INITIAL_SEQ;
        memcpy(other ? d->slot1 : d->slot0, sspan, sizeof sspan);
        memcpy(d->raw_tag[other], sspan + 2, sizeof d->raw_tag[other]);
        memcpy(out->mark, sspan + 2, sizeof out->mark);
        if ((err = ledger_card_set_counter(d->is->ledger, out->card_id, out->taps)) != LEAL_OK ||
            (err = ledger_card_set_seen_mark(d->is->ledger, out->card_id, out->state.seq,
                                             out->purse_cents, out->state.points, out->mark)) !=
                LEAL_OK)
            goto out;
    }
    err = record_versions(d, out->card_id);
out:
    leal_wipe(ispan, sizeof ispan);
    leal_wipe(sspan, sizeof sspan);
    return err;
}

/* What a terminal reads (identity 11, both slots 8 = 19 RT), checked, then
 * compared with the ledger. */
static leal_err read_card(struct cdesk *d, struct issuance_card *out)
{
    /* Every sealed slot is a candidate: the rule below judges the current one. */
    static const struct classic_record_purse any = {true, UINT32_MAX};
    struct classic_record_state st;
    struct identity id;
    struct ledger_card lc;
    leal_err err;

    if ((err = read_identity(d, &id)) == LEAL_E_CARD_TAMPERED || err == LEAL_E_LAYOUT_VERSION)
        err = finish_identity(d, &id, err);
    if (err != LEAL_OK)
        return err;
    d->id = id;
    /* Stored value (LAYOUT.md 3.2): off unless the identity says the program
     * enabled it; then at most the program's Classic cap. */
    if ((err = issuance_purse_caps(d->is, out)) != LEAL_OK)
        return err;
    out->stored_value = has_stored_value(&id);
    out->card_id = (int64_t)id.card_id;
    out->issuer_id = id.issuer_id;
    out->program_id = id.program_id;
    out->key_set_version = id.key_set_version;
    out->tech = d->tech;
    memcpy(out->uid, d->rc->uid, d->rc->uid_len);
    out->uid_len = d->rc->uid_len;
    if ((err = classic_card_read_state(&d->cc, &d->k, d->slot0, d->slot1)) != LEAL_OK ||
        (err = normalise_slots(d, id.card_id)) != LEAL_OK)
        return err;
    if ((err = classic_record_state_select(d->is->cp, d->seal, id.card_id, d->slot0, d->slot1, &any,
                                           &st, &d->current)) != LEAL_OK)
        return err == LEAL_E_LAYOUT_VERSION ? err : LEAL_E_CARD_TAMPERED;
    /* A current state that breaks the rule is tampering, not a reason to fall
     * back to the older slot (which would hide it). */
    if (out->stored_value ? (int64_t)st.purse > out->classic_cap_cents : st.purse != 0)
        return LEAL_E_CARD_TAMPERED;
    out->state = st.body;
    out->purse_cents = (int32_t)st.purse;
    out->taps = st.body.seq - INITIAL_SEQ;
    /* The current slot's SIV tag marks this state (LAYOUT.md 3.2: V at 2). */
    memcpy(out->mark, d->raw_tag[d->current], sizeof out->mark);
    out->has_mark = true;

    if ((err = issuance_ledger_card(d->is, out, &lc)) != LEAL_OK || lc.card_id == 0)
        return err;
    if (lc.status != LEDGER_CARD_PENDING) {
        /* Behind the ledger (a restored dump, a clone, a slot zeroed so the
         * older one wins), or the seq the desk last saw with other contents
         * (a fork): judged before anything is settled from it. */
        if ((int64_t)out->taps < lc.last_counter)
            return issuance_judge(d->is, &lc, out->stored_value, out);
        if (lc.has_seen_mark && lc.seen_at > 0 && (int64_t)out->state.seq == lc.seen_seq &&
            !leal_ct_equal(out->mark, lc.seen_mark, sizeof out->mark)) {
            char why[160];
            snprintf(why, sizeof why,
                     "its state at seq %u is not the one the desk last saw at that seq: a "
                     "forged or forked state",
                     out->state.seq);
            return issuance_verdict(d->is, out, why);
        }
    }
    if ((err = settle_pending(d, &lc, out)) != LEAL_OK)
        return err;
    if (!out->unsettled &&
        (err = issuance_settle_sync(d->is, &lc, out->state.seq, out, d->unsettled_why,
                                    sizeof d->unsettled_why)) != LEAL_OK)
        return err;
    if (lc.status != LEDGER_CARD_PENDING &&
        (err = issuance_judge(d->is, &lc, out->stored_value, out)) != LEAL_OK)
        return err;
    if (lc.status != LEDGER_CARD_PENDING && (int64_t)out->taps > lc.last_counter &&
        (err = ledger_card_set_counter(d->is->ledger, out->card_id, out->taps)) != LEAL_OK)
        return err;
    /* The purse is compared only on a card that carries one: with stored value
     * off the account's euros live in the ledger only. */
    if ((err = issuance_compare(d->is, &lc, out->stored_value, out)) != LEAL_OK)
        return err;
    if (out->unsettled) {
        out->agrees = false;
        snprintf(out->why, sizeof out->why, "%s", d->unsettled_why);
        return LEAL_OK; /* a state write waits until a person settled it */
    }
    /* A card no longer the account's is left as it is. */
    if (lc.status == LEDGER_CARD_LOST || lc.status == LEDGER_CARD_REPLACED)
        return LEAL_OK;
    err = rekey(d, out);
    return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_TAMPERED : err;
}

static leal_err classic_read(const struct issuance_contact *c, struct issuance_card *out)
{
    struct cdesk d;
    leal_err err;
    if ((err = cdesk_open(&d, c->is, c->reader, &c->rc, c->tech)) == LEAL_OK)
        err = read_card(&d, out);
    cdesk_close(&d, out);
    return err;
}

/* A host top-up of a card just read (out filled by read_card, d->current its
 * current slot): the intent in the ledger, the other slot written with seq + 1
 * and purse + cents (authenticate + 3 writes = 4 RT), then the entry posted and
 * the intent removed in one transaction (LAYOUT.md 3.3). */
static leal_err topup_on(struct cdesk *d, struct issuance_card *out, int64_t cents)
{
    struct classic_record_state st;
    struct ledger_pending_topup t;
    uint8_t span[CLASSIC_RECORD_STATE_SPAN];
    unsigned slot = d->current ^ 1u;
    bool replayed = false;
    leal_err err;

    if ((err = issuance_topup_allowed(out, cents)) != LEAL_OK)
        return err;
    if (out->unsettled)
        return LEAL_E_CARD_TOPUP_UNSETTLED;
    /* The card's flag (signed at issuance) and the program's cap now. */
    if (!out->stored_value || out->classic_cap_cents == 0)
        return LEAL_E_CARD_STORED_VALUE_OFF;
    if (out->purse_cents + cents > out->classic_cap_cents)
        return LEAL_E_CARD_BOUNDARY;
    memset(&st, 0, sizeof st);
    st.body = out->state;
    st.body.seq = out->state.seq + 1u; /* serial arithmetic: wraps */
    st.purse = (uint32_t)(out->purse_cents + cents);
    memset(&t, 0, sizeof t);
    t.card_id = out->card_id;
    t.seq_before = out->state.seq;
    t.seq_after = st.body.seq;
    t.purse_after = st.purse;
    t.cents = cents;
    snprintf(t.request_id, sizeof t.request_id, "card:%lld:seq:%u", (long long)out->card_id,
             st.body.seq);
    if ((err = classic_record_state_seal(d->is->cp, d->seal, (uint64_t)out->card_id, slot, &st,
                                         span)) != LEAL_OK)
        return err;
    t.has_mark = true;
    memcpy(t.mark, span + 2, sizeof t.mark);
    if ((err = ledger_pending_topup_add(d->is->ledger, &t)) != LEAL_OK)
        return err;
    /* A tear from here on leaves the intent for the next read to settle. */
    if ((err = classic_card_write_state(&d->cc, &d->k, slot, span)) != LEAL_OK)
        return err;
    if ((err = issuance_post_seq_topup(d->is, out->card_id, out->ledger.account_id, st.body.seq,
                                       cents, &replayed)) != LEAL_OK)
        return err;
    d->current = slot;
    memcpy(slot ? d->slot1 : d->slot0, span, sizeof span);
    memcpy(out->mark, span + 2, sizeof out->mark);
    out->state = st.body;
    out->purse_cents = (int32_t)st.purse;
    out->taps = st.body.seq - INITIAL_SEQ;
    if ((err = ledger_card_set_counter(d->is->ledger, out->card_id, out->taps)) != LEAL_OK ||
        (err = ledger_card_find_by_id(d->is->ledger, out->card_id, &out->ledger)) != LEAL_OK)
        return err;
    return issuance_compare(d->is, &out->ledger, true, out);
}

static leal_err classic_topup(const struct issuance_contact *c, int64_t cents,
                              struct issuance_card *out)
{
    struct cdesk d;
    leal_err err;
    if ((err = cdesk_open(&d, c->is, c->reader, &c->rc, c->tech)) == LEAL_OK &&
        (err = read_card(&d, out)) == LEAL_OK)
        err = !out->agrees && out->ledger.card_id == 0 ? LEAL_E_CARD_NOT_LEAL
                                                       : topup_on(&d, out, cents);
    cdesk_close(&d, out);
    return err;
}

/* A new state in the other slot (seq + 1, POINTS, PURSE) of a card just
 * read: sealed into span; 4 RT when written. */
static leal_err next_state(struct cdesk *d, const struct issuance_card *out, uint32_t points,
                           uint32_t purse, struct classic_record_state *st,
                           uint8_t span[CLASSIC_RECORD_STATE_SPAN])
{
    memset(st, 0, sizeof *st);
    st->body = out->state;
    st->body.seq = out->state.seq + 1u; /* serial arithmetic: wraps */
    st->body.points = points;
    st->purse = purse;
    return classic_record_state_seal(d->is->cp, d->seal, (uint64_t)out->card_id, d->current ^ 1u,
                                     st, span);
}

/* What the card holds once the other slot was written: current slot, view,
 * counter and what the desk saw. */
static leal_err took_state(struct cdesk *d, struct issuance_card *out,
                           const struct classic_record_state *st,
                           const uint8_t span[CLASSIC_RECORD_STATE_SPAN])
{
    d->current ^= 1u;
    memcpy(d->current ? d->slot1 : d->slot0, span, CLASSIC_RECORD_STATE_SPAN);
    memcpy(out->mark, span + 2, sizeof out->mark);
    out->state = st->body;
    out->purse_cents = (int32_t)st->purse;
    out->taps = st->body.seq - INITIAL_SEQ;
    return ledger_card_set_counter(d->is->ledger, out->card_id, out->taps);
}

/* leal card sync on a card just read (issuance.h). */
static leal_err sync_on(struct cdesk *d, struct issuance_card *out)
{
    struct ledger_pending_sync p;
    struct classic_record_state st;
    uint8_t span[CLASSIC_RECORD_STATE_SPAN];
    leal_err err;
    if ((err = issuance_sync_plan(d->is, out, &p)) != LEAL_OK || p.points == 0)
        return err;
    p.seq_before = out->state.seq;
    p.seq_after = (uint32_t)(out->state.seq + 1u);
    if ((err = next_state(d, out, (uint32_t)p.points_after, (uint32_t)out->purse_cents, &st,
                          span)) != LEAL_OK ||
        (err = ledger_pending_sync_add(d->is->ledger, &p)) != LEAL_OK)
        return err;
    /* A tear from here on leaves the intent for the next read to settle. */
    if ((err = classic_card_write_state(&d->cc, &d->k, d->current ^ 1u, span)) != LEAL_OK ||
        (err = ledger_pending_sync_settle(d->is->ledger, out->card_id)) != LEAL_OK)
        return err;
    out->sync_points = p.points;
    if ((err = took_state(d, out, &st, span)) != LEAL_OK ||
        (err = ledger_card_find_by_id(d->is->ledger, out->card_id, &out->ledger)) != LEAL_OK)
        return err;
    return issuance_compare(d->is, &out->ledger, out->stored_value, out);
}

static leal_err classic_sync(const struct issuance_contact *c, struct issuance_card *out)
{
    struct cdesk d;
    leal_err err;
    if ((err = cdesk_open(&d, c->is, c->reader, &c->rc, c->tech)) == LEAL_OK &&
        (err = read_card(&d, out)) == LEAL_OK)
        err = sync_on(&d, out);
    cdesk_close(&d, out);
    return err;
}

/* The old card of a replacement emptied: the other slot at seq + 1 with no
 * points and no money (issuance.h). */
static leal_err empty_on(struct cdesk *d, struct issuance_card *out)
{
    struct classic_record_state st;
    struct issuance_card now;
    uint8_t span[CLASSIC_RECORD_STATE_SPAN];
    leal_err err;
    if (out->purse_cents == 0 && out->state.points == 0)
        return LEAL_OK;
    if ((err = next_state(d, out, 0, 0, &st, span)) != LEAL_OK ||
        (err = classic_card_write_state(&d->cc, &d->k, d->current ^ 1u, span)) != LEAL_OK)
        return err;
    /* out keeps what was taken off; what the card now holds is recorded. */
    now = *out;
    if ((err = took_state(d, &now, &st, span)) != LEAL_OK)
        return err;
    out->taps = now.taps;
    return ledger_card_set_seen_mark(d->is->ledger, out->card_id, st.body.seq, 0, 0, now.mark);
}

static leal_err classic_empty_old(const struct issuance_contact *c, int64_t old_card_id,
                                  struct issuance_card *out)
{
    struct cdesk d;
    leal_err err;
    if ((err = cdesk_open(&d, c->is, c->reader, &c->rc, c->tech)) == LEAL_OK &&
        (err = read_card(&d, out)) == LEAL_OK &&
        (err = issuance_old_check(c->is, old_card_id, out)) == LEAL_OK)
        err = empty_on(&d, out);
    cdesk_close(&d, out);
    return err;
}

struct pending_ctx {
    const struct reader_card *rc;
    int64_t found;
};

static int find_pending(void *ctx, const struct ledger_card *c)
{
    struct pending_ctx *p = ctx;
    if (c->status != LEDGER_CARD_PENDING ||
        (c->tech != LEDGER_TECH_CLASSIC_1K && c->tech != LEDGER_TECH_CLASSIC_4K) ||
        c->uid_len != p->rc->uid_len || memcmp(c->uid, p->rc->uid, c->uid_len) != 0)
        return 0;
    p->found = c->card_id;
    return 1;
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

/* The sealed, signed identity and the sealed initial state. */
static leal_err build_records(struct cdesk *d, int64_t card_id, const struct state_body *body,
                              bool stored_value, uint32_t purse,
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
    id.flags = stored_value ? IDENTITY_FLAG_STORED_VALUE : 0;
    id.issued_day = (uint32_t)(time(NULL) / 86400);
    st.body = *body;
    st.purse = purse;
    if ((err = identity_encode(&id, rec)) != LEAL_OK ||
        (err = identity_signed_message(rec, d->rc->uid, d->rc->uid_len, msg, &ml)) != LEAL_OK ||
        (err = crypto_openssl_ed25519_sign(d->package_seed, msg, ml, sig)) != LEAL_OK ||
        (err = classic_record_identity_seal(d->is->cp, d->seal, rec, sig, ispan)) != LEAL_OK)
        return err;
    return classic_record_state_seal(d->is->cp, d->seal, (uint64_t)card_id, 0, &st, sspan);
}

/* Verification as a terminal reads: the MAD (3 RT), then the read (19 RT);
 * slot 0 current at the initial seq, slot 1 still zero. */
static leal_err verify(struct cdesk *d, int64_t card_id, const struct state_body *body,
                       bool stored_value, int64_t purse, struct issuance_card *out)
{
    static const uint8_t zero[CLASSIC_RECORD_STATE_SPAN] = {0};
    uint8_t mad[32], info;
    uint16_t aids[MFCLASSIC_MAD1_SECTORS];
    leal_err err;

    if ((err = classic_card_read_mad(&d->cc, mad)) != LEAL_OK)
        return err;
    if (mfclassic_mad1_decode(mad, &info, aids) != LEAL_OK)
        return LEAL_E_CARD_TAMPERED;
    for (unsigned s = 1; s <= MFCLASSIC_MAD1_SECTORS; s++)
        if (aids[s - 1] != (s < CLASSIC_CARD_SECTORS ? LAYOUT_MAD_AID : 0))
            return LEAL_E_CARD_TAMPERED;
    if ((err = read_card(d, out)) != LEAL_OK)
        return err;
    if (out->card_id != card_id || d->current != 0 || out->state.seq != INITIAL_SEQ ||
        out->state.points != body->points || out->purse_cents != purse ||
        out->stored_value != stored_value || !leal_ct_equal(d->slot1, zero, sizeof zero))
        return LEAL_E_CARD_TAMPERED;
    return LEAL_OK;
}

static leal_err classic_issue(const struct issuance_contact *c, const struct issuance_request *req,
                              struct issuance_card *out)
{
    enum sector_state st[CLASSIC_CARD_SECTORS];
    uint8_t ispan[CLASSIC_RECORD_IDENTITY_SPAN], sspan[CLASSIC_RECORD_STATE_SPAN];
    struct state_body body;
    struct ledger_card lc;
    struct pending_ctx pend;
    struct cdesk d;
    int64_t card_id = 0, purse;
    bool any_leal = false, any_foreign = false, resumed = false, stored_value;
    struct issuance *is = c->is;
    const struct reader_card *rc = &c->rc;
    enum ledger_card_tech tech = c->tech;
    leal_err err;

    memset(&body, 0, sizeof body);
    body.seq = INITIAL_SEQ;
    /* Money the card cannot take is refused before the card or the ledger is
     * touched: an opening top-up, or a replaced card's share of the account's
     * euros (a DESFire replacement moves it), where the program has stored
     * value off on Classic (with the amount for the desk to say), or past its
     * Classic cap. */
    out->tech = tech;
    if ((err = issuance_purse_caps(is, out)) != LEAL_OK)
        return err;
    stored_value = out->classic_cap_cents > 0;
    if (req->replacing &&
        (err = issuance_replaced_share(is, req, 0, "EUR", &out->account_eur)) != LEAL_OK)
        return err;
    purse = req->replacing ? out->account_eur : 0;
    if (req->topup_cents < 0 || purse < 0)
        return LEAL_E_RANGE;
    if (!stored_value && (req->topup_cents > 0 || purse != 0))
        return LEAL_E_CARD_STORED_VALUE_OFF;
    if (purse + req->topup_cents > out->classic_cap_cents)
        return LEAL_E_CARD_BOUNDARY;
    if ((err = cdesk_open(&d, is, c->reader, &c->rc, tech)) != LEAL_OK ||
        (err = probe(&d, st)) != LEAL_OK)
        goto out;
    for (unsigned s = 0; s < CLASSIC_CARD_SECTORS; s++) {
        any_leal = any_leal || st[s] == SECTOR_LEAL;
        any_foreign = any_foreign || st[s] == SECTOR_FOREIGN;
    }
    /* A card whose identity opens is somebody's card, unless it is our own torn
     * issuance (PENDING): then it is made again. */
    if (st[1] == SECTOR_LEAL && st[2] == SECTOR_LEAL && st[3] == SECTOR_LEAL) {
        struct identity id;
        err = read_identity(&d, &id);
        if (err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD || err == LEAL_E_READER)
            goto out;
        if (err == LEAL_OK) {
            bool known = ledger_card_find_by_id(is->ledger, (int64_t)id.card_id, &lc) == LEAL_OK;
            out->card_id = (int64_t)id.card_id;
            out->issuer_id = id.issuer_id;
            out->program_id = id.program_id;
            if (known)
                out->ledger = lc;
            if (!known || lc.status != LEDGER_CARD_PENDING) {
                err = LEAL_E_CARD_ALREADY_ISSUED;
                goto out;
            }
        }
    }
    /* Begun for this account and torn? Then it is PENDING with this UID. */
    pend.rc = rc;
    pend.found = 0;
    if ((err = ledger_card_each_of_account(is->ledger, req->account_id, find_pending, &pend)) !=
        LEAL_OK)
        goto out;
    if (any_foreign) {
        /* A sector under keys that are not ours. On our own torn issuance (ours
         * in part, or PENDING with this UID) a trailer write was torn into
         * garbage: that sector is lost for good. Otherwise another issuer's
         * leal card, or another system's card. */
        err = any_leal || pend.found ? LEAL_E_CARD_MEMORY_DAMAGED
              : mad_says_leal(&d)    ? LEAL_E_CARD_ALREADY_ISSUED
                                     : LEAL_E_CARD_NOT_BLANK;
        goto out;
    }
    if (pend.found) {
        card_id = pend.found;
    } else {
        memset(&lc, 0, sizeof lc);
        lc.account_id = req->account_id;
        lc.tech = tech;
        lc.status = LEDGER_CARD_PENDING;
        lc.layout_version = LAYOUT_VERSION;
        lc.keyset_version = d.key_set_version;
        memcpy(lc.uid, rc->uid, rc->uid_len);
        lc.uid_len = rc->uid_len;
        do {
            if ((err = issuance_new_card_id(is, &card_id)) != LEAL_OK)
                goto out;
            lc.card_id = card_id;
            err = ledger_card_add(is->ledger, &lc);
        } while (err == LEAL_E_DUPLICATE_ID);
        if (err != LEAL_OK)
            goto out;
    }
    out->card_id = card_id;
    /* What the card starts with: welcome points, or a replaced card's points
     * (and its euros, checked above against the program's Classic cap). */
    if ((err = issuance_opening_points(is, req, card_id, &body.points)) != LEAL_OK)
        goto out;
    /* A torn issuance starts over: sectors under leal's keys back to transport. */
    for (unsigned s = 0; s < CLASSIC_CARD_SECTORS; s++)
        if (st[s] == SECTOR_LEAL && (err = to_transport(&d, s)) != LEAL_OK)
            goto out;
    resumed = any_leal;
    if ((err = build_records(&d, card_id, &body, stored_value, (uint32_t)purse, ispan, sspan)) !=
            LEAL_OK ||
        (err = classic_card_personalise(&d.cc, transport_key, &d.k, ispan, sspan)) != LEAL_OK ||
        (err = record_versions(&d, card_id)) != LEAL_OK)
        goto out;
    /* Verified as a terminal will read it, then active in the ledger. */
    if ((err = verify(&d, card_id, &body, stored_value, purse, out)) != LEAL_OK)
        goto out;
    if ((err = issuance_activate(is, req, card_id, out)) != LEAL_OK)
        goto out;
    out->resumed = resumed;
    if ((err = ledger_card_find_by_id(is->ledger, card_id, &out->ledger)) != LEAL_OK)
        goto out;
    /* The opening top-up on the card just verified: its read was the verification. */
    if (req->topup_cents > 0)
        err = topup_on(&d, out, req->topup_cents);
out:
    leal_wipe(ispan, sizeof ispan);
    cdesk_close(&d, out);
    return err;
}

static leal_err classic_erase(const struct issuance_contact *c, struct issuance_card *out)
{
    enum sector_state st[CLASSIC_CARD_SECTORS];
    struct ledger_card lc;
    struct identity id;
    struct cdesk d;
    bool any_leal = false;
    struct issuance *is = c->is;
    enum ledger_card_tech tech = c->tech;
    leal_err err;

    if ((err = cdesk_open(&d, is, c->reader, &c->rc, tech)) != LEAL_OK ||
        (err = probe(&d, st)) != LEAL_OK)
        goto out;
    for (unsigned s = 0; s < CLASSIC_CARD_SECTORS; s++) {
        if (st[s] == SECTOR_FOREIGN) {
            err = LEAL_E_CARD_NOT_LEAL;
            goto out;
        }
        any_leal = any_leal || st[s] == SECTOR_LEAL;
    }
    if (!any_leal) {
        err = LEAL_E_CARD_NOT_LEAL; /* already in the transport state */
        goto out;
    }
    /* Whose card: the identity, while it is still there. The ledger marks it
     * lost before the card is touched, so a torn erase never leaves an active
     * card in the ledger that does not read. (A card torn in an earlier erase
     * may have lost its identity already: it is finished here.) */
    if (st[1] == SECTOR_LEAL && st[2] == SECTOR_LEAL && st[3] == SECTOR_LEAL &&
        (err = read_identity(&d, &id)) == LEAL_OK) {
        out->card_id = (int64_t)id.card_id;
        out->issuer_id = id.issuer_id;
        out->program_id = id.program_id;
        out->tech = tech;
        if ((err = ledger_card_find_by_id(is->ledger, out->card_id, &lc)) == LEAL_OK) {
            out->ledger = lc;
            /* A live card holding money as the desk last read it (stored value):
             * replace it or spend it first, as on DESFire. */
            if ((lc.status == LEDGER_CARD_ACTIVE || lc.status == LEDGER_CARD_BLOCKED) &&
                lc.seen_purse_cents > 0) {
                out->purse_cents = (int32_t)lc.seen_purse_cents;
                err = LEAL_E_CARD_BOUNDARY;
                goto out;
            }
            if (lc.status != LEDGER_CARD_LOST && lc.status != LEDGER_CARD_REPLACED &&
                (err = ledger_card_change_status(is->ledger, out->card_id, LEDGER_CARD_LOST,
                                                 "erased at the desk", issuance_operator(is))) !=
                    LEAL_OK)
                goto out;
        } else if (err != LEAL_E_UNKNOWN_ID) {
            goto out;
        }
    } else if (err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD || err == LEAL_E_READER) {
        goto out;
    }
    /* State sectors first, the identity and the MAD last. */
    for (unsigned i = CLASSIC_CARD_SECTORS; i-- > 0;)
        if (st[i] == SECTOR_LEAL && (err = to_transport(&d, i)) != LEAL_OK)
            goto out;
    err = LEAL_OK;
out:
    cdesk_close(&d, out);
    return err;
}

static bool classic_claims(const struct reader_card *rc, enum ledger_card_tech *tech)
{
    *tech = classic_tech(rc);
    return *tech != 0;
}

const struct issuance_card_ops issuance_classic_ops = {
    .name = "classic",
    .claims = classic_claims,
    .issue = classic_issue,
    .read = classic_read,
    .topup = classic_topup,
    .sync = classic_sync,
    .empty_old = classic_empty_old,
    .erase = classic_erase,
};
