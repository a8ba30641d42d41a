/* classic_record.c - LAYOUT.md 3.2 sealed records on MIFARE Classic. */
#include "classic_record.h"

#include "cardlayout/layout.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/siv.h"

#define AD_LEN 12

static void make_ad(uint8_t ad[AD_LEN], const struct classic_record_place *at)
{
    store_be64(ad, at->card_id);
    ad[8] = at->sector;
    ad[9] = at->slot;
    ad[10] = at->type;
    ad[11] = LAYOUT_VERSION;
}

static bool key_ok(const struct classic_record_key *k)
{
    return k != NULL && k->cp != NULL && k->key != NULL;
}

leal_err classic_record_seal(const struct classic_record_key *k,
                             const struct classic_record_place *at, const uint8_t *pt,
                             size_t pt_len, uint8_t *span, size_t span_len)
{
    uint8_t ad[AD_LEN];
    struct siv_ad a = {ad, AD_LEN};
    leal_err err;

    if (!key_ok(k) || at == NULL || pt == NULL || span == NULL ||
        span_len < CLASSIC_RECORD_HEADER + pt_len)
        return LEAL_E_ARG;
    make_ad(ad, at);
    leal_memset(span, 0, span_len);
    span[0] = LAYOUT_VERSION;
    span[1] = at->type;
    err = siv_encrypt(k->cp, k->key, (struct siv_ad_list){&a, 1},
                      (struct siv_io){pt, span + CLASSIC_RECORD_HEADER, pt_len}, span + 2);
    if (err != LEAL_OK)
        leal_wipe(span, span_len);
    return err;
}

leal_err classic_record_open(const struct classic_record_key *k,
                             const struct classic_record_place *at, const uint8_t *span,
                             size_t span_len, uint8_t *pt, size_t pt_len)
{
    uint8_t ad[AD_LEN];
    struct siv_ad a = {ad, AD_LEN};
    struct buf_reader r;
    const uint8_t *v, *c;
    uint8_t version, rtype, z;
    leal_err err;

    if (!key_ok(k) || at == NULL || span == NULL || pt == NULL)
        return LEAL_E_ARG;
    buf_reader_init(&r, span, span_len);
    if ((err = buf_get_u8(&r, &version)) != LEAL_OK || (err = buf_get_u8(&r, &rtype)) != LEAL_OK ||
        (err = buf_get_view(&r, SIV_TAG_LEN, &v)) != LEAL_OK ||
        (err = buf_get_view(&r, pt_len, &c)) != LEAL_OK)
        return LEAL_E_CARD_TAMPERED;
    if (version != LAYOUT_VERSION)
        return version == 0 ? LEAL_E_CARD_TAMPERED : LEAL_E_LAYOUT_VERSION;
    if (rtype != at->type)
        return LEAL_E_CARD_TAMPERED;
    while (buf_remaining(&r) > 0) {
        if (buf_get_u8(&r, &z) != LEAL_OK || z != 0)
            return LEAL_E_CARD_TAMPERED;
    }
    make_ad(ad, at);
    err =
        siv_decrypt(k->cp, k->key, (struct siv_ad_list){&a, 1}, v, (struct siv_io){c, pt, pt_len});
    return err == LEAL_E_MAC ? LEAL_E_CARD_TAMPERED : err;
}

/* The identity delivers the card id, so its AD carries card id 0 (LAYOUT.md 3.2). */
static const struct classic_record_place identity_place = {0, LAYOUT_CLASSIC_IDENTITY_SECTOR, 0,
                                                           LAYOUT_TYPE_IDENTITY};

leal_err classic_record_identity_seal(const struct classic_record_key *k,
                                      const uint8_t rec[IDENTITY_LEN], const uint8_t sig[64],
                                      uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN])
{
    uint8_t pt[CLASSIC_RECORD_IDENTITY_PLAIN];
    leal_err err;

    if (rec == NULL || sig == NULL)
        return LEAL_E_ARG;
    leal_memcpy(pt, rec, IDENTITY_LEN);
    leal_memcpy(pt + IDENTITY_LEN, sig, 64);
    err =
        classic_record_seal(k, &identity_place, pt, sizeof pt, span, CLASSIC_RECORD_IDENTITY_SPAN);
    leal_wipe(pt, sizeof pt);
    return err;
}

leal_err classic_record_identity_open(const struct classic_record_key *k,
                                      const uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN],
                                      const uint8_t *uid, size_t uid_len,
                                      const uint8_t public_key[32], struct identity *out)
{
    uint8_t pt[CLASSIC_RECORD_IDENTITY_PLAIN];
    struct identity id;
    leal_err err;

    if (out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if ((err = classic_record_open(k, &identity_place, span, CLASSIC_RECORD_IDENTITY_SPAN, pt,
                                   sizeof pt)) != LEAL_OK)
        goto out;
    if ((err = identity_decode(pt, IDENTITY_LEN, &id)) != LEAL_OK) {
        if (err != LEAL_E_LAYOUT_VERSION)
            err = LEAL_E_CARD_TAMPERED;
        goto out;
    }
    if (id.card_kind != IDENTITY_CLASSIC_1K && id.card_kind != IDENTITY_CLASSIC_4K) {
        err = LEAL_E_CARD_TAMPERED;
        goto out;
    }
    if ((err = identity_verify(k->cp, public_key, pt, uid, uid_len, pt + IDENTITY_LEN)) != LEAL_OK)
        goto out;
    *out = id;
out:
    leal_wipe(pt, sizeof pt);
    return err;
}

/* State slot 0 or 1 of a card: sector 4 or 5. */
static struct classic_record_place state_place(uint64_t card_id, unsigned slot)
{
    struct classic_record_place at = {card_id, (uint8_t)(LAYOUT_CLASSIC_STATE_SECTOR0 + slot),
                                      (uint8_t)slot, LAYOUT_TYPE_STATE};
    return at;
}

leal_err classic_record_state_seal(const struct classic_record_key *k, uint64_t card_id,
                                   unsigned slot, const struct classic_record_state *s,
                                   uint8_t span[CLASSIC_RECORD_STATE_SPAN])
{
    uint8_t pt[CLASSIC_RECORD_STATE_PLAIN];
    struct classic_record_place at;
    struct buf_writer w;
    leal_err err;

    if (s == NULL || slot > 1 || card_id == 0)
        return LEAL_E_ARG;
    buf_writer_init(&w, pt, sizeof pt);
    if ((err = state_body_put(&w, &s->body)) != LEAL_OK ||
        (err = buf_put_be32(&w, s->purse)) != LEAL_OK)
        return err;
    at = state_place(card_id, slot);
    err = classic_record_seal(k, &at, pt, sizeof pt, span, CLASSIC_RECORD_STATE_SPAN);
    leal_wipe(pt, sizeof pt);
    return err;
}

/* Stored value is off unless the program enables it, and then capped (LAYOUT.md 3.2). */
static bool breaks_purse_rule(const struct classic_record_purse *policy, uint32_t purse)
{
    return policy->enabled ? purse > policy->cap : purse != 0;
}

leal_err classic_record_state_open(const struct classic_record_key *k, uint64_t card_id,
                                   unsigned slot, const uint8_t span[CLASSIC_RECORD_STATE_SPAN],
                                   const struct classic_record_purse *policy,
                                   struct classic_record_state *out)
{
    uint8_t pt[CLASSIC_RECORD_STATE_PLAIN];
    struct classic_record_place at;
    struct buf_reader r;
    struct classic_record_state s;
    leal_err err;

    if (out == NULL || policy == NULL || slot > 1)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    at = state_place(card_id, slot);
    if ((err = classic_record_open(k, &at, span, CLASSIC_RECORD_STATE_SPAN, pt, sizeof pt)) !=
        LEAL_OK)
        goto out;
    buf_reader_init(&r, pt, sizeof pt);
    if ((err = state_body_get(&r, &s.body)) != LEAL_OK ||
        (err = buf_get_be32(&r, &s.purse)) != LEAL_OK || (err = buf_expect_end(&r)) != LEAL_OK)
        goto out;
    if (breaks_purse_rule(policy, s.purse)) {
        err = LEAL_E_CARD_TAMPERED;
        goto out;
    }
    *out = s;
out:
    leal_wipe(pt, sizeof pt);
    return err;
}

static bool same_state(const struct classic_record_state *a, const struct classic_record_state *b)
{
    struct buf_writer wa, wb;
    uint8_t ea[CLASSIC_RECORD_STATE_PLAIN], eb[CLASSIC_RECORD_STATE_PLAIN];
    buf_writer_init(&wa, ea, sizeof ea);
    buf_writer_init(&wb, eb, sizeof eb);
    if (state_body_put(&wa, &a->body) != LEAL_OK || buf_put_be32(&wa, a->purse) != LEAL_OK ||
        state_body_put(&wb, &b->body) != LEAL_OK || buf_put_be32(&wb, b->purse) != LEAL_OK)
        return false;
    return leal_memcmp(ea, eb, sizeof ea) == 0;
}

leal_err classic_record_state_select(const struct classic_record_key *k, uint64_t card_id,
                                     const uint8_t *const slots[2],
                                     const struct classic_record_purse *policy,
                                     struct classic_record_state *out, unsigned *current)
{
    /* Both slots are opened under no purse rule and the rule is applied to the
     * current one only: a newer slot that breaks it is tampering, never a
     * reason to fall back to the older slot (which would hide it). */
    static const struct classic_record_purse any = {true, 0xFFFFFFFFu};
    struct classic_record_state s[2];
    leal_err e0, e1;

    if (out == NULL || current == NULL || policy == NULL || slots == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    *current = 0;
    e0 = classic_record_state_open(k, card_id, 0, slots[0], &any, &s[0]);
    e1 = classic_record_state_open(k, card_id, 1, slots[1], &any, &s[1]);
    /* Errors other than "this slot is not valid" (bad arguments, the provider) are
     * not a slot verdict and go up unchanged. */
    if (e0 != LEAL_OK && e0 != LEAL_E_CARD_TAMPERED && e0 != LEAL_E_LAYOUT_VERSION)
        return e0;
    if (e1 != LEAL_OK && e1 != LEAL_E_CARD_TAMPERED && e1 != LEAL_E_LAYOUT_VERSION)
        return e1;
    if (e0 != LEAL_OK && e1 != LEAL_OK)
        return e0 == LEAL_E_LAYOUT_VERSION || e1 == LEAL_E_LAYOUT_VERSION ? LEAL_E_LAYOUT_VERSION
                                                                          : LEAL_E_CARD_TAMPERED;
    unsigned pick;
    if (e0 != LEAL_OK)
        pick = 1;
    else if (e1 != LEAL_OK)
        pick = 0;
    else if (s[0].body.seq == s[1].body.seq)
        pick = same_state(&s[0], &s[1]) ? 0 : 2;
    else
        pick = state_seq_newer(s[1].body.seq, s[0].body.seq) ? 1 : 0;
    if (pick > 1 || breaks_purse_rule(policy, s[pick].purse))
        return LEAL_E_CARD_TAMPERED;
    *out = s[pick];
    *current = pick;
    return LEAL_OK;
}
