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
}

static leal_err auth(struct classic_card *c, unsigned sector, uint8_t type, const uint8_t key[6])
{
    c->round_trips++;
    return c->reader->classic_auth(c->reader->ctx, (uint8_t)mfclassic_sector_first_block(sector),
                                   type, key);
}

static leal_err read_blocks(struct classic_card *c, unsigned sector, unsigned n, uint8_t *out)
{
    leal_err err;
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
    for (unsigned i = 0; i < n; i++) {
        c->round_trips++;
        if ((err = c->reader->classic_write(
                 c->reader->ctx, (uint8_t)(mfclassic_sector_first_block(sector) + first + i),
                 data + 16 * i)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

leal_err classic_card_read_mad(struct classic_card *c, uint8_t mad[32])
{
    leal_err err;
    if (c == NULL || mad == NULL)
        return LEAL_E_ARG;
    if ((err = auth(c, 0, CLASSIC_KEY_A, mad_key_a)) != LEAL_OK)
        return err;
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
    static const uint8_t zero[CLASSIC_RECORD_STATE_SPAN] = {0};
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
    /* Sector 0: MAD in blocks 1-2 (block 0 is the manufacturer's). */
    if ((err = auth(c, 0, CLASSIC_KEY_A, transport_key)) != LEAL_OK ||
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
    for (unsigned slot = 0; slot < 2; slot++) {
        unsigned s = LAYOUT_CLASSIC_STATE_SECTOR0 + slot;
        if ((err = auth(c, s, CLASSIC_KEY_A, transport_key)) != LEAL_OK ||
            (err = write_blocks(c, s, 0, 3, slot == 0 ? state : zero)) != LEAL_OK ||
            (err = seal_sector(c, k, s, cond_state, 0x00)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}
