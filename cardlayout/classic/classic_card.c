/* classic_card.c - leal's MIFARE Classic sectors through struct card_reader. */
#include "classic_card.h"

#include "cardlayout/classic/mfclassic.h"
#include "cardlayout/layout.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

/* The MAD key A is public (NXP AN10787). */
static const uint8_t mad_key_a[6] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};

void classic_card_init(struct classic_card *c, const struct card_reader *reader)
{
    c->reader = reader;
    c->round_trips = 0;
    c->transport_open = 0;
}

static leal_err auth(struct classic_card *c, unsigned sector, uint8_t type, const uint8_t key[6])
{
    c->transport_open = 0;
    c->round_trips++;
    return c->reader->classic_auth(c->reader->ctx, (uint8_t)mfclassic_sector_first_block(sector),
                                   type, key);
}

static leal_err read_blocks(struct classic_card *c, unsigned sector, unsigned n, uint8_t *out)
{
    leal_err err;
    c->transport_open = 0;
    for (unsigned i = 0; i < n; i++) {
        c->round_trips++;
        if ((err = c->reader->classic_read(c->reader->ctx,
                                           (uint8_t)(mfclassic_sector_first_block(sector) + i),
                                           out + 16 * i)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

static leal_err write_blocks(struct classic_card *c, unsigned sector, unsigned first, unsigned n,
                             const uint8_t *data)
{
    leal_err err;
    c->transport_open = 0;
    for (unsigned i = 0; i < n; i++) {
        c->round_trips++;
        if ((err = c->reader->classic_write(
                 c->reader->ctx, (uint8_t)(mfclassic_sector_first_block(sector) + first + i),
                 data + 16 * i)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

leal_err classic_card_auth(struct classic_card *c, unsigned sector, uint8_t type,
                           const uint8_t key[6])
{
    if (c == NULL || key == NULL || (type != CLASSIC_KEY_A && type != CLASSIC_KEY_B))
        return LEAL_E_ARG;
    return auth(c, sector, type, key);
}

leal_err classic_card_write_block(struct classic_card *c, unsigned block, const uint8_t data[16])
{
    if (c == NULL || data == NULL || block > 0xFF)
        return LEAL_E_ARG;
    c->transport_open = 0;
    c->round_trips++;
    return c->reader->classic_write(c->reader->ctx, (uint8_t)block, data);
}

leal_err classic_card_probe(struct classic_card *c, const uint8_t transport_key[6],
                            const struct classic_card_keys *k,
                            enum classic_card_sector st[CLASSIC_CARD_SECTORS])
{
    leal_err err;

    if (c == NULL || transport_key == NULL || k == NULL || st == NULL)
        return LEAL_E_ARG;
    for (unsigned s = CLASSIC_CARD_SECTORS; s-- > 0;) {
        if ((err = auth(c, s, CLASSIC_KEY_A, transport_key)) == LEAL_OK) {
            st[s] = CLASSIC_CARD_SECTOR_TRANSPORT;
            continue;
        }
        if (err != LEAL_E_CARD_AUTHENTICATION)
            return err;
        if ((err = auth(c, s, CLASSIC_KEY_B, k->b[s])) == LEAL_OK)
            st[s] = CLASSIC_CARD_SECTOR_LEAL;
        else if (err == LEAL_E_CARD_AUTHENTICATION)
            st[s] = CLASSIC_CARD_SECTOR_FOREIGN;
        else
            return err;
    }
    /* The last authentication was sector 0's: still open if it was the transport
     * key's. */
    c->transport_open = st[0] == CLASSIC_CARD_SECTOR_TRANSPORT ? 1 : 0;
    return LEAL_OK;
}

leal_err classic_card_to_transport(struct classic_card *c, const struct classic_card_keys *k,
                                   unsigned sector)
{
    static const uint8_t zero[16] = {0};
    static const uint8_t cond[4] = {0, 0, 0, 1};
    static const uint8_t factory_key[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint8_t t[16];
    leal_err err;

    if (c == NULL || k == NULL || sector >= CLASSIC_CARD_SECTORS)
        return LEAL_E_ARG;
    if ((err = auth(c, sector, CLASSIC_KEY_B, k->b[sector])) != LEAL_OK)
        return err;
    for (unsigned b = sector == 0 ? 1 : 0; b < 3; b++)
        if ((err = write_blocks(c, sector, b, 1, zero)) != LEAL_OK)
            return err;
    if ((err = mfclassic_trailer_build(factory_key, cond, 0x69, factory_key, t)) != LEAL_OK)
        return err;
    return classic_card_write_block(c, mfclassic_trailer_block(sector), t);
}

leal_err classic_card_read_mad(struct classic_card *c, uint8_t mad[32])
{
    leal_err err;
    if (c == NULL || mad == NULL)
        return LEAL_E_ARG;
    if ((err = auth(c, 0, CLASSIC_KEY_A, mad_key_a)) != LEAL_OK)
        return err;
    c->transport_open = 0;
    c->round_trips += 2;
    if ((err = c->reader->classic_read(c->reader->ctx, 1, mad)) != LEAL_OK)
        return err;
    return c->reader->classic_read(c->reader->ctx, 2, mad + 16);
}

/* Blocks of the identity span in each of sectors 1, 2, 3 (LAYOUT.md 3.2). */
static const unsigned identity_blocks[LAYOUT_CLASSIC_IDENTITY_SECTORS] = {3, 3, 2};

leal_err classic_card_read_identity(struct classic_card *c, const struct classic_card_keys *k,
                                    uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN])
{
    size_t off = 0;
    leal_err err;

    if (c == NULL || k == NULL || span == NULL)
        return LEAL_E_ARG;
    for (unsigned i = 0; i < LAYOUT_CLASSIC_IDENTITY_SECTORS; i++) {
        unsigned s = LAYOUT_CLASSIC_IDENTITY_SECTOR + i;
        if ((err = auth(c, s, CLASSIC_KEY_A, k->a[s])) != LEAL_OK ||
            (err = read_blocks(c, s, identity_blocks[i], span + off)) != LEAL_OK)
            return err;
        off += 16 * identity_blocks[i];
    }
    return LEAL_OK;
}

leal_err classic_card_read_state(struct classic_card *c, const struct classic_card_keys *k,
                                 uint8_t slot0[CLASSIC_RECORD_STATE_SPAN],
                                 uint8_t slot1[CLASSIC_RECORD_STATE_SPAN])
{
    leal_err err;
    unsigned s0 = LAYOUT_CLASSIC_STATE_SECTOR0, s1 = LAYOUT_CLASSIC_STATE_SECTOR0 + 1;

    if (c == NULL || k == NULL || slot0 == NULL || slot1 == NULL)
        return LEAL_E_ARG;
    if ((err = auth(c, s0, CLASSIC_KEY_A, k->a[s0])) != LEAL_OK ||
        (err = read_blocks(c, s0, 3, slot0)) != LEAL_OK ||
        (err = auth(c, s1, CLASSIC_KEY_A, k->a[s1])) != LEAL_OK)
        return err;
    return read_blocks(c, s1, 3, slot1);
}

leal_err classic_card_read_issued_state(struct classic_card *c, const struct classic_card_keys *k,
                                        uint8_t slot0[CLASSIC_RECORD_STATE_SPAN])
{
    leal_err err;
    unsigned s0 = LAYOUT_CLASSIC_STATE_SECTOR0, s1 = LAYOUT_CLASSIC_STATE_SECTOR0 + 1;

    if (c == NULL || k == NULL || slot0 == NULL)
        return LEAL_E_ARG;
    if ((err = auth(c, s0, CLASSIC_KEY_A, k->a[s0])) != LEAL_OK ||
        (err = read_blocks(c, s0, 3, slot0)) != LEAL_OK)
        return err;
    return auth(c, s1, CLASSIC_KEY_A, k->a[s1]);
}

leal_err classic_card_write_state(struct classic_card *c, const struct classic_card_keys *k,
                                  unsigned slot, const uint8_t span[CLASSIC_RECORD_STATE_SPAN])
{
    unsigned s = LAYOUT_CLASSIC_STATE_SECTOR0 + slot;
    leal_err err;

    if (c == NULL || k == NULL || span == NULL || slot > 1)
        return LEAL_E_ARG;
    if ((err = auth(c, s, CLASSIC_KEY_A, k->a[s])) != LEAL_OK)
        return err;
    return write_blocks(c, s, 0, 3, span);
}

/* Access conditions (C1C2C3) of LAYOUT.md 3.1. */
static const uint8_t cond_read_ab_write_b[4] = {4, 4, 4, 3};
static const uint8_t cond_state[4] = {0, 0, 0, 3};

static leal_err seal_sector(struct classic_card *c, const struct classic_card_keys *k, unsigned s,
                            const uint8_t cond[4], uint8_t gpb)
{
    uint8_t t[16];
    leal_err err;
    if ((err = mfclassic_trailer_build(s == 0 ? mad_key_a : k->a[s], cond, gpb, k->b[s], t)) !=
        LEAL_OK)
        return err;
    c->transport_open = 0;
    c->round_trips++;
    err = c->reader->classic_write(c->reader->ctx, (uint8_t)mfclassic_trailer_block(s), t);
    leal_wipe(t, sizeof t);
    return err;
}

leal_err classic_card_write_trailer(struct classic_card *c, const struct classic_card_keys *k,
                                    unsigned sector)
{
    if (c == NULL || k == NULL || sector >= CLASSIC_CARD_SECTORS)
        return LEAL_E_ARG;
    if (sector == 0)
        return seal_sector(c, k, 0, cond_read_ab_write_b, LAYOUT_CLASSIC_GPB_MAD);
    return seal_sector(c, k, sector,
                       sector < LAYOUT_CLASSIC_STATE_SECTOR0 ? cond_read_ab_write_b : cond_state,
                       0x00);
}

leal_err classic_card_personalise(struct classic_card *c, const uint8_t transport_key[6],
                                  const struct classic_card_keys *k,
                                  const uint8_t identity[CLASSIC_RECORD_IDENTITY_SPAN],
                                  const uint8_t state[CLASSIC_RECORD_STATE_SPAN])
{
    uint16_t aids[MFCLASSIC_MAD1_SECTORS] = {0};
    uint8_t mad[32];
    size_t off = 0;
    leal_err err;

    if (c == NULL || transport_key == NULL || k == NULL || identity == NULL || state == NULL)
        return LEAL_E_ARG;
    for (unsigned s = 1; s < CLASSIC_CARD_SECTORS; s++)
        aids[s - 1] = LAYOUT_MAD_AID;
    if ((err = mfclassic_mad1_encode(0x00, aids, mad)) != LEAL_OK)
        return err;
    /* Sector 0: MAD in blocks 1-2 (block 0 is the manufacturer's); the probe's
     * session with the transport key serves if it is still open. */
    if ((c->transport_open != 1 && (err = auth(c, 0, CLASSIC_KEY_A, transport_key)) != LEAL_OK) ||
        (err = write_blocks(c, 0, 1, 2, mad)) != LEAL_OK ||
        (err = seal_sector(c, k, 0, cond_read_ab_write_b, LAYOUT_CLASSIC_GPB_MAD)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < LAYOUT_CLASSIC_IDENTITY_SECTORS; i++) {
        unsigned s = LAYOUT_CLASSIC_IDENTITY_SECTOR + i;
        if ((err = auth(c, s, CLASSIC_KEY_A, transport_key)) != LEAL_OK ||
            (err = write_blocks(c, s, 0, identity_blocks[i], identity + off)) != LEAL_OK ||
            (err = seal_sector(c, k, s, cond_read_ab_write_b, 0x00)) != LEAL_OK)
            return err;
        off += 16 * identity_blocks[i];
    }
    /* Slot 0 gets the state; slot 1 only its trailer (nothing sealed for this
     * card is there to be wiped, and whatever is does not open). */
    for (unsigned slot = 0; slot < 2; slot++) {
        unsigned s = LAYOUT_CLASSIC_STATE_SECTOR0 + slot;
        if ((err = auth(c, s, CLASSIC_KEY_A, transport_key)) != LEAL_OK ||
            (slot == 0 && (err = write_blocks(c, s, 0, 3, state)) != LEAL_OK) ||
            (err = seal_sector(c, k, s, cond_state, 0x00)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

static leal_err one_seal(void *ctx, unsigned nth, uint8_t key[32], uint8_t *version)
{
    const struct classic_card_one_key *one = ctx;
    if (nth > 0)
        return LEAL_E_NOT_FOUND;
    leal_memcpy(key, one->seal, 32);
    *version = 1;
    return LEAL_OK;
}

static leal_err one_public(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version)
{
    const struct classic_card_one_key *one = ctx;
    if (nth > 0)
        return LEAL_E_NOT_FOUND;
    leal_memcpy(pub, one->package_pub, 32);
    *version = 1;
    return LEAL_OK;
}

void classic_card_keyring_one(const struct crypto_provider *cp, struct classic_card_one_key *one,
                              struct classic_card_keyring *ring)
{
    ring->cp = cp;
    ring->ctx = one;
    ring->seal = one_seal;
    ring->package_public = one_public;
}

/* An identity span to open, and what it must be bound to. */
struct sealed_identity {
    const struct classic_card_keyring *ring;
    const uint8_t *span;
    const uint8_t *uid;
    size_t uid_len;
};

/* The identity under one seal key, with every package version while the
 * signature is what fails. */
static leal_err open_under_seal(const struct sealed_identity *si, const uint8_t seal[32],
                                struct identity *id, uint8_t *package_version)
{
    const struct classic_card_keyring *ring = si->ring;
    const struct classic_record_key k = {ring->cp, seal};
    uint8_t pub[32];
    leal_err err = LEAL_E_SIGNATURE;
    for (unsigned nth = 0; err == LEAL_E_SIGNATURE; nth++) {
        leal_err got = ring->package_public(ring->ctx, nth, pub, package_version);
        if (got != LEAL_OK)
            return got == LEAL_E_NOT_FOUND ? LEAL_E_SIGNATURE : got;
        err = classic_record_identity_open(&k, si->span, si->uid, si->uid_len, pub, id);
    }
    return err;
}

leal_err classic_card_open_identity(const struct classic_card_keyring *ring,
                                    const uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN],
                                    const uint8_t *uid, size_t uid_len, struct identity *id,
                                    uint8_t versions[2])
{
    const struct sealed_identity si = {ring, span, uid, uid_len};
    uint8_t seal[32];
    leal_err err = LEAL_E_CARD_TAMPERED;

    if (ring == NULL || span == NULL || id == NULL || versions == NULL)
        return LEAL_E_ARG;
    versions[0] = versions[1] = 0;
    for (unsigned nth = 0; err == LEAL_E_CARD_TAMPERED || err == LEAL_E_SIGNATURE; nth++) {
        leal_err got = ring->seal(ring->ctx, nth, seal, &versions[0]);
        if (got != LEAL_OK) {
            err = got == LEAL_E_NOT_FOUND ? err : got;
            break;
        }
        err = open_under_seal(&si, seal, id, &versions[1]);
    }
    if (err != LEAL_OK)
        versions[0] = versions[1] = 0;
    leal_wipe(seal, sizeof seal);
    return err;
}

/* Slot i under the nth seal versions until one opens; re-sealed under the
 * current one (cur) if an older one did. */
static leal_err normalise_slot(const struct classic_card_keyring *ring, const uint8_t cur[32],
                               uint64_t card_id, unsigned slot, struct classic_card_view *v)
{
    static const struct classic_record_purse any = {true, 0xFFFFFFFFu};
    struct classic_record_state st;
    uint8_t seal[32], version;
    leal_err err = LEAL_OK;

    v->slot_seal_version[slot] = 0;
    for (unsigned nth = 0;; nth++) {
        if ((err = ring->seal(ring->ctx, nth, seal, &version)) != LEAL_OK) {
            err = err == LEAL_E_NOT_FOUND ? LEAL_OK : err; /* opens under none: invalid */
            break;
        }
        if (classic_record_state_open(&(const struct classic_record_key){ring->cp, seal}, card_id,
                                      slot, v->slot[slot], &any, &st) != LEAL_OK)
            continue;
        v->slot_seal_version[slot] = version;
        if (nth > 0)
            err = classic_record_state_seal(&(const struct classic_record_key){ring->cp, cur},
                                            card_id, slot, &st, v->slot[slot]);
        break;
    }
    leal_wipe(seal, sizeof seal);
    leal_wipe(&st, sizeof st);
    return err;
}

leal_err classic_card_normalise_slots(const struct classic_card_keyring *ring, uint64_t card_id,
                                      struct classic_card_view *v)
{
    uint8_t cur[32], version;
    leal_err err;

    if (ring == NULL || v == NULL)
        return LEAL_E_ARG;
    if ((err = ring->seal(ring->ctx, 0, cur, &version)) != LEAL_OK)
        return err;
    for (unsigned slot = 0; slot < 2 && err == LEAL_OK; slot++) {
        leal_memcpy(v->slot_tag[slot], v->slot[slot] + 2, sizeof v->slot_tag[slot]);
        err = normalise_slot(ring, cur, card_id, slot, v);
    }
    leal_wipe(cur, sizeof cur);
    return err;
}

leal_err classic_card_read_view_identity(struct classic_card *c,
                                         const struct classic_card_secrets *s,
                                         struct classic_card_view *v)
{
    uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN], versions[2];
    leal_err err;

    if (c == NULL || s == NULL || s->keys == NULL || s->ring == NULL || v == NULL)
        return LEAL_E_ARG;
    leal_memset(v, 0, sizeof *v);
    if ((err = classic_card_read_identity(c, s->keys, span)) != LEAL_OK)
        return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_NOT_LEAL : err;
    if ((err = classic_card_open_identity(s->ring, span, s->uid, s->uid_len, &v->id, versions)) !=
        LEAL_OK)
        return err == LEAL_E_LAYOUT_VERSION || err == LEAL_E_NO_MEMORY ? err : LEAL_E_CARD_TAMPERED;
    v->id_seal_version = versions[0];
    v->id_package_version = versions[1];
    if (v->id.issuer_id != s->issuer_id || v->id.program_id != s->program_id)
        return LEAL_E_CARD_TAMPERED; /* sealed and signed with these keys, yet not
                                        this program's */
    return LEAL_OK;
}

leal_err classic_card_read_view_state(struct classic_card *c, const struct classic_card_secrets *s,
                                      bool just_personalised, struct classic_card_view *v)
{
    struct classic_record_purse policy;
    uint8_t cur[32], version;
    leal_err err;

    if (c == NULL || s == NULL || s->keys == NULL || s->ring == NULL || v == NULL)
        return LEAL_E_ARG;
    if (just_personalised)
        leal_memset(v->slot[1], 0, sizeof v->slot[1]);
    if ((err = just_personalised
                   ? classic_card_read_issued_state(c, s->keys, v->slot[0])
                   : classic_card_read_state(c, s->keys, v->slot[0], v->slot[1])) != LEAL_OK ||
        (err = classic_card_normalise_slots(s->ring, v->id.card_id, v)) != LEAL_OK ||
        (err = s->ring->seal(s->ring->ctx, 0, cur, &version)) != LEAL_OK)
        return err;
    /* The purse rule of LAYOUT.md 3.2, applied by the codec to the current slot.
     */
    policy.enabled = (v->id.flags & IDENTITY_FLAG_STORED_VALUE) != 0;
    policy.cap = s->purse_cap;
    err = classic_record_state_select(
        &(const struct classic_record_key){s->ring->cp, cur}, v->id.card_id,
        (const uint8_t *const[]){v->slot[0], v->slot[1]}, &policy, &v->state, &v->current);
    leal_wipe(cur, sizeof cur);
    if (err != LEAL_OK)
        return err == LEAL_E_LAYOUT_VERSION ? err : LEAL_E_CARD_TAMPERED;
    leal_memcpy(v->mark, v->slot_tag[v->current], sizeof v->mark);
    return LEAL_OK;
}

leal_err classic_card_read_view(struct classic_card *c, const struct classic_card_secrets *s,
                                struct classic_card_view *out)
{
    leal_err err = classic_card_read_view_identity(c, s, out);
    if (err == LEAL_OK)
        err = classic_card_read_view_state(c, s, false, out);
    if (err != LEAL_OK && out != NULL)
        leal_wipe(out, sizeof *out);
    return err;
}

leal_err classic_card_seal_next(const struct classic_card_secrets *s,
                                const struct classic_card_view *v,
                                struct classic_record_state *next,
                                uint8_t span[CLASSIC_RECORD_STATE_SPAN])
{
    uint8_t cur[32], version;
    leal_err err;

    if (s == NULL || s->ring == NULL || v == NULL || next == NULL || span == NULL)
        return LEAL_E_ARG;
    next->body.seq = v->state.body.seq + 1u; /* serial arithmetic: wraps */
    if ((err = s->ring->seal(s->ring->ctx, 0, cur, &version)) != LEAL_OK)
        return err;
    err = classic_record_state_seal(&(const struct classic_record_key){s->ring->cp, cur},
                                    v->id.card_id, v->current ^ 1u, next, span);
    leal_wipe(cur, sizeof cur);
    return err;
}

leal_err classic_card_write_next(struct classic_card *c, const struct classic_card_secrets *s,
                                 const struct classic_record_state *next,
                                 const uint8_t span[CLASSIC_RECORD_STATE_SPAN],
                                 struct classic_card_view *v)
{
    uint8_t cur[32], version;
    unsigned other;
    leal_err err;

    if (c == NULL || s == NULL || s->keys == NULL || s->ring == NULL || next == NULL ||
        span == NULL || v == NULL)
        return LEAL_E_ARG;
    other = v->current ^ 1u;
    if ((err = s->ring->seal(s->ring->ctx, 0, cur, &version)) != LEAL_OK)
        return err;
    leal_wipe(cur, sizeof cur);
    if ((err = classic_card_write_state(c, s->keys, other, span)) != LEAL_OK)
        return err;
    v->current = other;
    v->state = *next;
    leal_memcpy(v->slot[other], span, CLASSIC_RECORD_STATE_SPAN);
    leal_memcpy(v->slot_tag[other], span + 2, sizeof v->slot_tag[other]);
    leal_memcpy(v->mark, span + 2, sizeof v->mark);
    v->slot_seal_version[other] = version;
    return LEAL_OK;
}

void classic_card_fill_view(const struct classic_card_view *v, const struct classic_card_secrets *s,
                            struct card_view *out)
{
    leal_memset(out, 0, sizeof *out);
    card_view_set_identity(out, &v->id);
    out->uid_len = s->uid_len < sizeof out->uid ? s->uid_len : sizeof out->uid;
    leal_memcpy(out->uid, s->uid, out->uid_len);
    out->state = v->state.body;
    out->layout_version = LAYOUT_VERSION; /* Classic has no bono record yet (LAYOUT.md 4.5) */
    out->purse_cents = (int32_t)v->state.purse;
    out->taps = v->state.body.seq - CLASSIC_CARD_INITIAL_SEQ;
    out->slot = (uint8_t)v->current;
    out->has_mark = true;
    leal_memcpy(out->mark, v->mark, sizeof out->mark);
    out->key_version[KEY_ROLE_CLASSIC_SEAL] = v->id_seal_version;
    out->key_version[KEY_ROLE_PACKAGE_SIGNING] = v->id_package_version;
}
