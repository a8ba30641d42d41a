/*
 * classic_sim.c - MIFARE Classic memory and access conditions. The tables are
 * NXP MF1S50yyX (1K) / MF1S70yyX (4K) datasheet §8.7 "Access conditions",
 * written in the datasheet's C1 C2 C3 order (libfreefare's comments
 * list them C3C2C1).
 */
#include "classic_sim.h"

#include <string.h>

#include "keys/base/bytes.h"
#include "keys/base/ct.h"

#define KA 1 /* key A */
#define KB 2 /* key B */
#define KAB (KA | KB)

/* Data blocks: index C1<<2|C2<<1|C3; columns read, write, increment,
 * decrement/transfer/restore. */
static const uint8_t data_rights[8][4] = {
    /* 000 */ {KAB, KAB, KAB, KAB}, /* transport configuration */
    /* 001 */ {KAB, 0, 0, KAB},     /* value block */
    /* 010 */ {KAB, 0, 0, 0},       /* read/write block */
    /* 011 */ {KB, KB, 0, 0},       /* read/write block */
    /* 100 */ {KAB, KB, 0, 0},      /* read/write block */
    /* 101 */ {KB, 0, 0, 0},        /* read/write block */
    /* 110 */ {KAB, KB, KB, KAB},   /* value block */
    /* 111 */ {0, 0, 0, 0},         /* read/write block */
};

/* Sector trailer: columns key A write, access bits read, access bits write,
 * key B read, key B write (key A is never readable). */
static const uint8_t trailer_rights[8][5] = {
    /* 000 */ {KA, KA, 0, KA, KA},
    /* 001 */ {KA, KA, KA, KA, KA}, /* transport configuration */
    /* 010 */ {0, KA, 0, KA, 0},
    /* 011 */ {KB, KAB, KB, 0, KB},
    /* 100 */ {KB, KAB, 0, 0, KB},
    /* 101 */ {0, KAB, KB, 0, 0},
    /* 110 */ {0, KAB, 0, 0, 0},
    /* 111 */ {0, KAB, 0, 0, 0},
};

static uint8_t key_bit(uint8_t key)
{
    return key == CLASSIC_CMD_AUTH_B ? KB : KA;
}

leal_err classic_access_decode(const uint8_t ab[3], uint8_t cond[4])
{
    /* byte6 = ~C2<<4 | ~C1, byte7 = C1<<4 | ~C3, byte8 = C3<<4 | C2 (nibbles, bit i = block i) */
    uint8_t c1 = ab[1] >> 4, c2 = ab[2] & 15, c3 = ab[2] >> 4;
    if ((uint8_t)(~ab[0] & 15) != c1 || (uint8_t)((~ab[0] >> 4) & 15) != c2 ||
        (uint8_t)(~ab[1] & 15) != c3)
        return LEAL_E_FORMAT;
    for (unsigned i = 0; i < 4; i++)
        cond[i] = (uint8_t)(((c1 >> i) & 1) << 2 | ((c2 >> i) & 1) << 1 | ((c3 >> i) & 1));
    return LEAL_OK;
}

void classic_access_encode(const uint8_t cond[4], uint8_t ab[3])
{
    uint8_t c1 = 0, c2 = 0, c3 = 0;
    for (unsigned i = 0; i < 4; i++) {
        c1 |= (uint8_t)(((cond[i] >> 2) & 1) << i);
        c2 |= (uint8_t)(((cond[i] >> 1) & 1) << i);
        c3 |= (uint8_t)((cond[i] & 1) << i);
    }
    ab[0] = (uint8_t)((~c2 & 15) << 4 | (~c1 & 15));
    ab[1] = (uint8_t)(c1 << 4 | (~c3 & 15));
    ab[2] = (uint8_t)(c3 << 4 | c2);
}

bool classic_keyb_readable(uint8_t cond)
{
    return (trailer_rights[cond & 7][3] & KA) != 0;
}

bool classic_data_allowed(uint8_t cond, enum classic_op op, uint8_t key, bool keyb_readable)
{
    /* Datasheet: "if Key B may be read in the corresponding Sector Trailer it
     * cannot serve for authentication"; the card refuses every access after it. */
    if (key == CLASSIC_CMD_AUTH_B && keyb_readable)
        return false;
    if ((unsigned)op > CLASSIC_OP_DECREMENT)
        return false;
    return (data_rights[cond & 7][op] & key_bit(key)) != 0;
}

void classic_trailer_rights(uint8_t cond, uint8_t key, struct classic_trailer_rights *out)
{
    const uint8_t *r = trailer_rights[cond & 7];
    uint8_t k = key_bit(key);
    out->keya_write = (r[0] & k) != 0;
    out->access_read = (r[1] & k) != 0;
    out->access_write = (r[2] & k) != 0;
    out->keyb_read = (r[3] & k) != 0;
    out->keyb_write = (r[4] & k) != 0;
}

/* 1K: 16 sectors of 4 blocks. 4K: 32 of 4 then 8 of 16 (blocks 128..255). */
unsigned classic_sector_of(unsigned block)
{
    return block < 128 ? block / 4 : 32 + (block - 128) / 16;
}

unsigned classic_sector_first(unsigned sector)
{
    return sector < 32 ? sector * 4 : 128 + (sector - 32) * 16;
}

unsigned classic_sector_blocks(unsigned sector)
{
    return sector < 32 ? 4 : 16;
}

unsigned classic_access_group(unsigned block)
{
    unsigned s = classic_sector_of(block);
    unsigned i = block - classic_sector_first(s);
    if (classic_sector_blocks(s) == 4)
        return i;
    return i == 15 ? 3 : i / 5;
}

void classic_value_encode(int32_t value, uint8_t addr, uint8_t out[16])
{
    uint32_t v = (uint32_t)value;
    store_le32(out, v);
    store_le32(out + 4, ~v);
    store_le32(out + 8, v);
    out[12] = addr;
    out[13] = (uint8_t)~addr;
    out[14] = addr;
    out[15] = (uint8_t)~addr;
}

leal_err classic_value_decode(const uint8_t blk[16], int32_t *value, uint8_t *addr)
{
    uint32_t v = load_le32(blk);
    uint8_t a = blk[12], na = (uint8_t)~a;
    if (load_le32(blk + 4) != (uint32_t)~v || load_le32(blk + 8) != v || blk[14] != a ||
        blk[13] != na || blk[15] != na)
        return LEAL_E_FORMAT;
    *value = (int32_t)v;
    *addr = blk[12];
    return LEAL_OK;
}

static bool is_trailer(unsigned block)
{
    unsigned s = classic_sector_of(block);
    return block == classic_sector_first(s) + classic_sector_blocks(s) - 1;
}

static const uint8_t *trailer_of(const struct classic_sim *c, unsigned sector)
{
    return c->mem[classic_sector_first(sector) + classic_sector_blocks(sector) - 1];
}

leal_err classic_sim_init(struct classic_sim *c, bool is_4k, const uint8_t *uid, size_t uid_len)
{
    static const uint8_t transport[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07,
                                          0x80, 0x69, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    struct cardsim_ident id;

    if (c == NULL || uid == NULL || (uid_len != 4 && uid_len != 7))
        return LEAL_E_ARG;
    /* 88 is the cascade tag (ISO 14443-3 §6.5.4): never a UID's first byte in a cascade level. */
    if (uid[0] == 0x88 || (uid_len == 7 && uid[3] == 0x88))
        return LEAL_E_ARG;
    memset(c, 0, sizeof *c);
    c->nblocks = is_4k ? CLASSIC_4K_BLOCKS : CLASSIC_1K_BLOCKS;
    memcpy(c->uid, uid, uid_len);
    c->uid_len = uid_len;
    for (unsigned s = 0; s < classic_sector_of(c->nblocks - 1) + 1; s++)
        memcpy(c->mem[classic_sector_first(s) + classic_sector_blocks(s) - 1], transport, 16);
    /* Block 0: UID, then (4-byte UID) BCC, SAK, ATQA as transmitted and NXP's
     * manufacturer bytes 62..69; a 7-byte UID is followed by SAK and ATQA too. */
    classic_sim_ident(c, &id);
    memcpy(c->mem[0], uid, uid_len);
    if (uid_len == 4) {
        c->mem[0][4] = (uint8_t)(uid[0] ^ uid[1] ^ uid[2] ^ uid[3]);
        c->mem[0][5] = id.sak;
        c->mem[0][6] = id.atqa[0];
        c->mem[0][7] = id.atqa[1];
        for (unsigned i = 8; i < 16; i++)
            c->mem[0][i] = (uint8_t)(0x62 + i - 8);
    } else {
        c->mem[0][7] = id.sak;
        c->mem[0][8] = id.atqa[0];
        c->mem[0][9] = id.atqa[1];
        for (unsigned i = 10; i < 16; i++)
            c->mem[0][i] = (uint8_t)(0x62 + i - 10);
    }
    return LEAL_OK;
}

void classic_sim_ident(const struct classic_sim *c, struct cardsim_ident *id)
{
    memset(id, 0, sizeof *id);
    memcpy(id->uid, c->uid, c->uid_len);
    id->uid_len = c->uid_len;
    /* ISO 14443-3 ATQA bits 7..6 give the UID size (01 = double); NXP MF1S50/70 §8.5. */
    id->atqa[0] = (uint8_t)((c->nblocks == CLASSIC_4K_BLOCKS ? 0x02 : 0x04) |
                            (c->uid_len == 7 ? 0x40 : 0x00));
    id->atqa[1] = 0x00;
    id->sak = c->nblocks == CLASSIC_4K_BLOCKS ? 0x18 : 0x08;
    id->ats_len = 0;
}

void classic_sim_activate(struct classic_sim *c)
{
    c->state = CLASSIC_ACTIVE;
    c->reg_valid = false;
}

void classic_sim_deactivate(struct classic_sim *c)
{
    c->state = CLASSIC_IDLE;
    c->reg_valid = false;
}

static void answer(uint8_t *resp, size_t *resp_len, uint8_t b)
{
    resp[0] = b;
    *resp_len = 1;
}

/* NAK (MF1S50yyX §9.3: 0 = invalid operation with a valid transfer buffer,
 * 4 = with an invalid one), and the card drops to idle: the session is lost. */
static void nak(struct classic_sim *c, uint8_t *resp, size_t *resp_len)
{
    answer(resp, resp_len, c->reg_valid ? CLASSIC_NAK_BUFFER_VALID : CLASSIC_NAK);
    c->state = CLASSIC_IDLE;
    c->reg_valid = false;
}

/* The access condition of block for the current session, or -1 if the block is
 * out of range, not in the authenticated sector, or the sector is blocked. */
static int session_cond(const struct classic_sim *c, unsigned block, bool *keyb_readable)
{
    uint8_t cond[4];
    unsigned s;
    if (c->state != CLASSIC_AUTH || block >= c->nblocks)
        return -1;
    s = classic_sector_of(block);
    if (s != c->auth_sector)
        return -1;
    if (classic_access_decode(trailer_of(c, s) + 6, cond) != LEAL_OK)
        return -1;
    *keyb_readable = classic_keyb_readable(cond[3]);
    return cond[classic_access_group(block)];
}

static leal_err eeprom_write(struct classic_sim *c, unsigned block, const uint8_t data[16],
                             const struct classic_sim_tear *tear)
{
    if (tear == NULL) {
        memcpy(c->mem[block], data, 16);
        return LEAL_OK;
    }
    if (tear->leaves == CARDSIM_TORN_NEW)
        memcpy(c->mem[block], data, 16);
    else if (tear->leaves == CARDSIM_TORN_GARBAGE)
        memcpy(c->mem[block], tear->garbage, 16);
    c->state = CLASSIC_IDLE;
    c->reg_valid = false;
    return LEAL_E_CARD_REMOVED;
}

static leal_err do_auth(struct classic_sim *c, const uint8_t *cmd, uint8_t *resp, size_t *resp_len)
{
    unsigned block = cmd[1];
    const uint8_t *t;
    bool ok;

    if (block >= c->nblocks) {
        nak(c, resp, resp_len);
        return LEAL_OK;
    }
    t = trailer_of(c, classic_sector_of(block));
    /* The reader's Crypto1 is seeded with the UID's last 4 bytes (the UID itself
     * for a single-size UID); a wrong UID is a failed authentication. */
    ok = leal_ct_equal(cmd + 8, c->uid + c->uid_len - 4, 4);
    ok = leal_ct_equal(cmd + 2, cmd[0] == CLASSIC_CMD_AUTH_A ? t : t + 10, 6) && ok;
    if (!ok) {
        /* The card's Crypto1 answer does not verify: it stops answering. */
        c->state = CLASSIC_IDLE;
        c->reg_valid = false;
        return LEAL_OK;
    }
    c->state = CLASSIC_AUTH;
    c->auth_sector = classic_sector_of(block);
    c->auth_key = cmd[0];
    answer(resp, resp_len, CLASSIC_ACK);
    return LEAL_OK;
}

static leal_err do_read(struct classic_sim *c, unsigned block, uint8_t *resp, size_t *resp_len)
{
    bool kbr = false;
    int cond = session_cond(c, block, &kbr);
    struct classic_trailer_rights tr;

    if (cond < 0) {
        nak(c, resp, resp_len);
        return LEAL_OK;
    }
    if (!is_trailer(block)) {
        if (!classic_data_allowed((uint8_t)cond, CLASSIC_OP_READ, c->auth_key, kbr)) {
            nak(c, resp, resp_len);
            return LEAL_OK;
        }
        memcpy(resp, c->mem[block], 16);
        *resp_len = 16;
        return LEAL_OK;
    }
    classic_trailer_rights((uint8_t)cond, c->auth_key, &tr);
    if (!tr.access_read) {
        nak(c, resp, resp_len);
        return LEAL_OK;
    }
    /* Key A reads as zeros always, key B where it may not be read. */
    memset(resp, 0, 16);
    memcpy(resp + 6, c->mem[block] + 6, 4);
    if (tr.keyb_read)
        memcpy(resp + 10, c->mem[block] + 10, 6);
    *resp_len = 16;
    return LEAL_OK;
}

static leal_err do_write(struct classic_sim *c, unsigned block, const uint8_t *data, uint8_t *resp,
                         size_t *resp_len, const struct classic_sim_tear *tear)
{
    bool kbr = false;
    int cond = session_cond(c, block, &kbr);
    struct classic_trailer_rights tr;
    uint8_t next[16];
    leal_err err;

    /* Block 0 (manufacturer block) is read-only after production. */
    if (cond < 0 || block == 0) {
        nak(c, resp, resp_len);
        return LEAL_OK;
    }
    if (!is_trailer(block)) {
        if (!classic_data_allowed((uint8_t)cond, CLASSIC_OP_WRITE, c->auth_key, kbr)) {
            nak(c, resp, resp_len);
            return LEAL_OK;
        }
        memcpy(next, data, 16);
    } else {
        classic_trailer_rights((uint8_t)cond, c->auth_key, &tr);
        if (!tr.keya_write && !tr.access_write && !tr.keyb_write) {
            nak(c, resp, resp_len);
            return LEAL_OK;
        }
        /* Each part changes only where the key may write it; byte 9 goes with
         * the access bits. Malformed access bits are written as given: the
         * datasheet says the sector is then blocked for good. */
        memcpy(next, c->mem[block], 16);
        if (tr.keya_write)
            memcpy(next, data, 6);
        if (tr.access_write)
            memcpy(next + 6, data + 6, 4);
        if (tr.keyb_write)
            memcpy(next + 10, data + 10, 6);
    }
    if ((err = eeprom_write(c, block, next, tear)) != LEAL_OK)
        return err;
    answer(resp, resp_len, CLASSIC_ACK);
    return LEAL_OK;
}

/* Increment, decrement, restore: into the transfer buffer only (no EEPROM write). */
static leal_err do_value(struct classic_sim *c, const uint8_t *cmd, uint8_t *resp, size_t *resp_len)
{
    unsigned block = cmd[1];
    bool kbr = false;
    int cond = session_cond(c, block, &kbr);
    enum classic_op op =
        cmd[0] == CLASSIC_CMD_INCREMENT ? CLASSIC_OP_INCREMENT : CLASSIC_OP_DECREMENT;
    int32_t v;
    uint8_t addr;
    uint32_t operand = load_le32(cmd + 2);

    if (cond < 0 || is_trailer(block) || block == 0 ||
        !classic_data_allowed((uint8_t)cond, op, c->auth_key, kbr) ||
        classic_value_decode(c->mem[block], &v, &addr) != LEAL_OK) {
        nak(c, resp, resp_len);
        return LEAL_OK;
    }
    /* Values are 32-bit two's complement; the card does not saturate. */
    if (cmd[0] == CLASSIC_CMD_INCREMENT)
        c->reg = (uint32_t)v + operand;
    else if (cmd[0] == CLASSIC_CMD_DECREMENT)
        c->reg = (uint32_t)v - operand;
    else
        c->reg = (uint32_t)v;
    c->reg_addr = addr;
    c->reg_valid = true;
    answer(resp, resp_len, CLASSIC_ACK);
    return LEAL_OK;
}

static leal_err do_transfer(struct classic_sim *c, unsigned block, uint8_t *resp, size_t *resp_len,
                            const struct classic_sim_tear *tear)
{
    bool kbr = false;
    int cond = session_cond(c, block, &kbr);
    uint8_t next[16];
    leal_err err;

    if (cond < 0 || !c->reg_valid || is_trailer(block) || block == 0 ||
        !classic_data_allowed((uint8_t)cond, CLASSIC_OP_DECREMENT, c->auth_key, kbr)) {
        nak(c, resp, resp_len);
        return LEAL_OK;
    }
    /* The address byte travels with the value from the source block. */
    classic_value_encode((int32_t)c->reg, c->reg_addr, next);
    if ((err = eeprom_write(c, block, next, tear)) != LEAL_OK)
        return err;
    answer(resp, resp_len, CLASSIC_ACK);
    return LEAL_OK;
}

void classic_sim_tear_next(struct classic_sim *c, const struct classic_sim_tear *tear)
{
    c->tear_next = tear != NULL;
    if (tear)
        c->tear = *tear;
}

leal_err classic_sim_exchange(struct classic_sim *c, const uint8_t *cmd, size_t cmd_len,
                              uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
    const struct classic_sim_tear *tear = c && c->tear_next ? &c->tear : NULL;
    if (c)
        c->tear_next = false;
    if (resp_len)
        *resp_len = 0;
    if (c == NULL || resp == NULL || resp_len == NULL || (cmd == NULL && cmd_len > 0) ||
        resp_cap < CLASSIC_BLOCK_SIZE)
        return LEAL_E_ARG;
    if (c->state == CLASSIC_IDLE || cmd_len == 0)
        return LEAL_OK;
    switch (cmd[0]) {
    case CLASSIC_CMD_AUTH_A:
    case CLASSIC_CMD_AUTH_B:
        if (cmd_len == 12)
            return do_auth(c, cmd, resp, resp_len);
        break;
    case CLASSIC_CMD_READ:
        if (cmd_len == 2)
            return do_read(c, cmd[1], resp, resp_len);
        break;
    case CLASSIC_CMD_WRITE:
        if (cmd_len == 18)
            return do_write(c, cmd[1], cmd + 2, resp, resp_len, tear);
        break;
    case CLASSIC_CMD_INCREMENT:
    case CLASSIC_CMD_DECREMENT:
    case CLASSIC_CMD_RESTORE:
        if (cmd_len == 6)
            return do_value(c, cmd, resp, resp_len);
        break;
    case CLASSIC_CMD_TRANSFER:
        if (cmd_len == 2)
            return do_transfer(c, cmd[1], resp, resp_len, tear);
        break;
    case CLASSIC_CMD_HALT:
        if (cmd_len == 2 && cmd[1] == 0x00) {
            /* HLTA: the card halts and says nothing. */
            c->state = CLASSIC_IDLE;
            c->reg_valid = false;
            return LEAL_OK;
        }
        break;
    default:
        break;
    }
    nak(c, resp, resp_len);
    return LEAL_OK;
}
