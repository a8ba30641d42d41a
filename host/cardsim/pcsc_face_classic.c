/*
 * pcsc_face_classic.c - MIFARE Classic behind a contactless PC/SC reader, in
 * the dialect real readers speak (PC/SC Part 3 and the ACR122U and
 * Identiv/SCM reader manuals):
 *   PC/SC part 3 storage-card commands (§3.2.2.1):
 *     FF 82 00 KeyNo 06 key6          LOAD KEYS (volatile; KeyNo 00/01, or 60/61)
 *     FF 86 00 00 05 01 00 blk 60|61 KeyNo   GENERAL AUTHENTICATE
 *     FF B0 00 blk 10                 READ BINARY (one block)
 *     FF D6 00 blk 10 data16          UPDATE BINARY
 *   ACS ACR122U API (value blocks, and its older authenticate):
 *     FF 88 00 blk 60|61 KeyNo        LOAD/AUTHENTICATE (obsolete form)
 *     FF D7 00 blk 05 op value4(MSB first)   VALUE BLOCK: op 00 store, 01 increment,
 *                                      02 decrement; FF D7 00 src 02 03 dst: restore
 *     FF B1 00 blk 04                 READ VALUE BLOCK (value MSB first)
 * Status words: 90 00; 63 00 authentication failed; 69 82 security status
 * not satisfied (the card refused: access bits, not authenticated, not a
 * value block); 67 00 wrong length; 69 88 no such key slot; 69 86 key not
 * loaded; 6A 81 not supported; 6A 82 block out of range; 6C xx wrong Le.
 * A failed authentication or a refused access halts the card; the reader
 * selects it again (as readers do), so the next FF 86 can succeed.
 */
#include <string.h>

#include "cardsim.h"
#include "classic_sim.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "pcsc_face.h"

static leal_err sw(uint8_t *resp, size_t cap, size_t *resp_len, uint8_t sw1, uint8_t sw2)
{
    if (cap < 2)
        return LEAL_E_NO_SPACE;
    resp[0] = sw1;
    resp[1] = sw2;
    *resp_len = 2;
    return LEAL_OK;
}

static unsigned nblocks(const struct pcsc_face *f)
{
    return f->id.sak == 0x18 ? CLASSIC_4K_BLOCKS : CLASSIC_1K_BLOCKS;
}

/* 3B 8F 80 01 80 4F 0C RID(A0 00 00 03 06) SS NN NN 00 00 00 00 TCK (PC/SC
 * part 3 §3.1.3.2.3.1): SS 03 = ISO 14443 A part 3, NN 0001 Classic 1K, 0002 4K. */
static leal_err classic_atr(const struct pcsc_face *f, uint8_t *atr, size_t cap, size_t *len)
{
    static const uint8_t head[] = {0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C,
                                   0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00};
    uint8_t tck = 0;
    *len = 0;
    if (cap < 20)
        return LEAL_E_NO_SPACE;
    memcpy(atr, head, sizeof head);
    atr[14] = nblocks(f) == CLASSIC_4K_BLOCKS ? 0x02 : 0x01;
    memset(atr + 15, 0, 4);
    for (size_t i = 1; i < 19; i++)
        tck ^= atr[i];
    atr[19] = tck;
    *len = 20;
    return LEAL_OK;
}

/* One native command to the card; *ok says whether it was accepted (ACK or 16 bytes). */
static leal_err card_cmd(struct pcsc_face *f, const uint8_t *cmd, size_t n, uint8_t out[16],
                         bool *ok)
{
    uint8_t r[CLASSIC_BLOCK_SIZE];
    size_t rl = 0;
    leal_err err;
    *ok = false;
    if ((err = cardsim_transceive(f->card, cmd, n, r, sizeof r, &rl)) != LEAL_OK)
        return err;
    if (rl == 16 && out) {
        memcpy(out, r, 16);
        *ok = true;
    } else if (rl == 1 && r[0] == CLASSIC_ACK) {
        *ok = true;
    }
    if (!*ok) {
        /* The card went idle: select it again, as the reader does before the next command. */
        f->auth_block = -1;
        cardsim_deactivate(f->card);
        err = cardsim_activate(f->card, &f->id);
    }
    return err;
}

static int key_slot(uint8_t keyno)
{
    if (keyno == 0x00 || keyno == 0x60)
        return 0;
    if (keyno == 0x01 || keyno == 0x61)
        return 1;
    return -1;
}

/* abk: block, key type (60 A, 61 B) and key number, as both commands carry
 * them (GENERAL AUTHENTICATE and ACR122U's FF 88). */
static leal_err authenticate(struct pcsc_face *f, const uint8_t abk[3], uint8_t *resp, size_t cap,
                             size_t *resp_len)
{
    uint8_t cmd[12], blk = abk[0], type = abk[1];
    int slot = key_slot(abk[2]);
    bool ok;
    leal_err err;

    if (type != CLASSIC_CMD_AUTH_A && type != CLASSIC_CMD_AUTH_B)
        return sw(resp, cap, resp_len, 0x6A, 0x81);
    if (slot < 0)
        return sw(resp, cap, resp_len, 0x69, 0x88);
    if (!f->key_loaded[slot])
        return sw(resp, cap, resp_len, 0x69, 0x86);
    if (blk >= nblocks(f))
        return sw(resp, cap, resp_len, 0x6A, 0x82);
    cmd[0] = type;
    cmd[1] = blk;
    memcpy(cmd + 2, f->keys[slot], 6);
    memcpy(cmd + 8, f->id.uid + f->id.uid_len - 4, 4);
    err = card_cmd(f, cmd, sizeof cmd, NULL, &ok);
    leal_wipe(cmd, sizeof cmd);
    if (err != LEAL_OK)
        return err;
    if (!ok)
        return sw(resp, cap, resp_len, 0x63, 0x00);
    f->auth_block = blk;
    return sw(resp, cap, resp_len, 0x90, 0x00);
}

static leal_err value_op(struct pcsc_face *f, const uint8_t *apdu, size_t len, uint8_t *resp,
                         size_t cap, size_t *resp_len)
{
    uint8_t blk = apdu[3], cmd[18];
    bool ok;
    leal_err err;

    if (len == 7 && apdu[4] == 0x02 && apdu[5] == 0x03) {
        /* Restore src, transfer to dst (ACR122U "restore value block"). */
        uint8_t rst[6] = {CLASSIC_CMD_RESTORE, blk, 0, 0, 0, 0},
                tr[2] = {CLASSIC_CMD_TRANSFER, apdu[6]};
        if ((err = card_cmd(f, rst, 6, NULL, &ok)) != LEAL_OK || !ok)
            return err != LEAL_OK ? err : sw(resp, cap, resp_len, 0x69, 0x82);
        if ((err = card_cmd(f, tr, 2, NULL, &ok)) != LEAL_OK || !ok)
            return err != LEAL_OK ? err : sw(resp, cap, resp_len, 0x69, 0x82);
        return sw(resp, cap, resp_len, 0x90, 0x00);
    }
    if (len != 10 || apdu[4] != 0x05)
        return sw(resp, cap, resp_len, 0x67, 0x00);
    uint32_t v = load_be32(apdu + 6);
    switch (apdu[5]) {
    case 0x00: /* store: write a value block whose address byte is the block */
        cmd[0] = CLASSIC_CMD_WRITE;
        cmd[1] = blk;
        classic_value_encode((int32_t)v, blk, cmd + 2);
        if ((err = card_cmd(f, cmd, 18, NULL, &ok)) != LEAL_OK)
            return err;
        break;
    case 0x01:
    case 0x02:
        cmd[0] = apdu[5] == 0x01 ? CLASSIC_CMD_INCREMENT : CLASSIC_CMD_DECREMENT;
        cmd[1] = blk;
        store_le32(cmd + 2, v);
        if ((err = card_cmd(f, cmd, 6, NULL, &ok)) != LEAL_OK)
            return err;
        if (ok) {
            cmd[0] = CLASSIC_CMD_TRANSFER;
            if ((err = card_cmd(f, cmd, 2, NULL, &ok)) != LEAL_OK)
                return err;
        }
        break;
    default:
        return sw(resp, cap, resp_len, 0x6A, 0x81);
    }
    return ok ? sw(resp, cap, resp_len, 0x90, 0x00) : sw(resp, cap, resp_len, 0x69, 0x82);
}

static leal_err classic_apdu(struct pcsc_face *f, const uint8_t *apdu, size_t len, uint8_t *resp,
                             size_t cap, size_t *resp_len)
{
    uint8_t cmd[18], data[16];
    bool ok;
    leal_err err;

    *resp_len = 0;
    switch (apdu[1]) {
    case 0x82: /* LOAD KEYS */
        if (len != 11 || apdu[4] != 6)
            return sw(resp, cap, resp_len, 0x67, 0x00);
        if ((apdu[2] != 0x00 && apdu[2] != 0x20) || key_slot(apdu[3]) < 0)
            return sw(resp, cap, resp_len, 0x69, 0x88);
        memcpy(f->keys[key_slot(apdu[3])], apdu + 5, 6);
        f->key_loaded[key_slot(apdu[3])] = true;
        return sw(resp, cap, resp_len, 0x90, 0x00);
    case 0x86: /* GENERAL AUTHENTICATE, data: version 01, address MSB LSB, key type, key number */
        if (len != 10 || apdu[4] != 5 || apdu[5] != 0x01)
            return sw(resp, cap, resp_len, 0x67, 0x00);
        if (apdu[6] != 0x00)
            return sw(resp, cap, resp_len, 0x6A, 0x82);
        return authenticate(f, apdu + 7, resp, cap, resp_len);
    case 0x88: /* ACR122U: FF 88 00 blk type keyno */
        if (len != 6)
            return sw(resp, cap, resp_len, 0x67, 0x00);
        return authenticate(f, apdu + 3, resp, cap, resp_len);
    case 0xB0: /* READ BINARY */
    case 0xB1: /* ACR122U READ VALUE BLOCK */
        if (len != 5)
            return sw(resp, cap, resp_len, 0x67, 0x00);
        if (apdu[2] != 0x00 || apdu[3] >= nblocks(f))
            return sw(resp, cap, resp_len, 0x6A, 0x82);
        if (apdu[4] != (apdu[1] == 0xB0 ? 0x10 : 0x04) && apdu[4] != 0x00)
            return sw(resp, cap, resp_len, 0x6C, apdu[1] == 0xB0 ? 0x10 : 0x04);
        cmd[0] = CLASSIC_CMD_READ;
        cmd[1] = apdu[3];
        if ((err = card_cmd(f, cmd, 2, data, &ok)) != LEAL_OK)
            return err;
        if (!ok)
            return sw(resp, cap, resp_len, 0x69, 0x82);
        if (cap < 18)
            return LEAL_E_NO_SPACE;
        if (apdu[1] == 0xB0) {
            memcpy(resp, data, 16);
            *resp_len = 16;
        } else {
            int32_t v;
            uint8_t addr;
            if (classic_value_decode(data, &v, &addr) != LEAL_OK)
                return sw(resp, cap, resp_len, 0x69, 0x82);
            store_be32(resp, (uint32_t)v);
            *resp_len = 4;
        }
        resp[*resp_len] = 0x90;
        resp[*resp_len + 1] = 0x00;
        *resp_len += 2;
        return LEAL_OK;
    case 0xD6: /* UPDATE BINARY */
        if (len != 21 || apdu[4] != 0x10)
            return sw(resp, cap, resp_len, 0x67, 0x00);
        if (apdu[2] != 0x00 || apdu[3] >= nblocks(f))
            return sw(resp, cap, resp_len, 0x6A, 0x82);
        cmd[0] = CLASSIC_CMD_WRITE;
        cmd[1] = apdu[3];
        memcpy(cmd + 2, apdu + 5, 16);
        if ((err = card_cmd(f, cmd, 18, NULL, &ok)) != LEAL_OK)
            return err;
        return ok ? sw(resp, cap, resp_len, 0x90, 0x00) : sw(resp, cap, resp_len, 0x69, 0x82);
    case 0xD7:
        if (len < 5)
            return sw(resp, cap, resp_len, 0x67, 0x00);
        if (apdu[2] != 0x00 || apdu[3] >= nblocks(f))
            return sw(resp, cap, resp_len, 0x6A, 0x82);
        return value_op(f, apdu, len, resp, cap, resp_len);
    default:
        return sw(resp, cap, resp_len, 0x6A, 0x81);
    }
}

const struct pcsc_face_storage pcsc_face_classic = {
    .kind = CARDSIM_CLASSIC,
    .atr = classic_atr,
    .apdu = classic_apdu,
};
