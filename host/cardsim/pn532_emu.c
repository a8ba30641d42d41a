/*
 * pn532_emu.c - the PN532 command set as libnfc 1.8 uses it. Command codes
 * and answers: NXP PN532 User Manual (UM0701-02) §7, and libnfc 1.8's
 * chips/pn53x.c and drivers/pn532_uart.c.
 */
#include "pn532_emu.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/pn532_frame.h"
#include "keys/base/buf.h"

enum {
    CMD_DIAGNOSE = 0x00,
    CMD_GET_FIRMWARE_VERSION = 0x02,
    CMD_GET_GENERAL_STATUS = 0x04,
    CMD_READ_REGISTER = 0x06,
    CMD_WRITE_REGISTER = 0x08,
    CMD_SET_PARAMETERS = 0x12,
    CMD_SAM_CONFIGURATION = 0x14,
    CMD_POWER_DOWN = 0x16,
    CMD_RF_CONFIGURATION = 0x32,
    CMD_IN_DATA_EXCHANGE = 0x40,
    CMD_IN_COMMUNICATE_THRU = 0x42,
    CMD_IN_DESELECT = 0x44,
    CMD_IN_LIST_PASSIVE_TARGET = 0x4A,
    CMD_IN_PSL = 0x4E,
    CMD_IN_RELEASE = 0x52,
    CMD_IN_SELECT = 0x54,
    CMD_IN_AUTO_POLL = 0x60,
};

#define PARAM_AUTO_RATS 0x10   /* SetParameters fAutomaticRATS */
#define REG_CIU_STATUS2 0x6338 /* bit 3: MFCrypto1On */
#define STATUS2_CRYPTO1_ON 0x08
#define MAX_MESSAGE 4096 /* a chained InDataExchange message, either way */
#define INBUF 2048

struct pn532_emu {
    struct cardsim *card;
    uint8_t regs[0x10000]; /* the whole 16-bit register space, echoing writes */
    uint8_t params;
    bool selected; /* target 1 is listed */
    bool iso_dep;  /* RATS done: ISO 14443-4 exchanges */
    struct cardsim_ident id;
    /* MI chaining: host to card, and card to host. */
    uint8_t tx[MAX_MESSAGE];
    size_t tx_len;
    uint8_t rx[MAX_MESSAGE];
    size_t rx_len, rx_off;
    /* Serial line. */
    uint8_t in[INBUF];
    size_t in_len;
    uint8_t last[LEAL_MAX_PN532_FRAME];
    size_t last_len;
    pn532_trace_fn trace;
    void *trace_ctx;
};

void pn532_emu_set_trace(struct pn532_emu *e, pn532_trace_fn fn, void *ctx)
{
    e->trace = fn;
    e->trace_ctx = ctx;
}

leal_err pn532_emu_new(struct cardsim *card, struct pn532_emu **out)
{
    struct pn532_emu *e;
    if (out == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if ((e = calloc(1, sizeof *e)) == NULL)
        return LEAL_E_NO_MEMORY;
    e->card = card;
    /* Power-on default of SetParameters: fAutomaticATR_RES | fAutomaticRATS. */
    e->params = 0x14;
    *out = e;
    return LEAL_OK;
}

void pn532_emu_free(struct pn532_emu *e)
{
    free(e);
}

/* Deselect: the field stays on (cardsim_halt keeps a random UID). */
static void release(struct pn532_emu *e)
{
    if (e->selected && e->card)
        cardsim_halt(e->card);
    e->selected = false;
    e->iso_dep = false;
    e->tx_len = 0;
    e->rx_len = e->rx_off = 0;
    e->regs[REG_CIU_STATUS2] &= (uint8_t)~STATUS2_CRYPTO1_ON;
}

void pn532_emu_set_card(struct pn532_emu *e, struct cardsim *card)
{
    release(e);
    e->card = card;
}

/* Short answer helpers: D5, code + 1, then bytes. */
static leal_err reply(uint8_t cmd, const uint8_t *p, size_t n, uint8_t *resp, size_t cap,
                      size_t *resp_len)
{
    struct buf_writer w;
    leal_err err;
    buf_writer_init(&w, resp, cap);
    if ((err = buf_put_u8(&w, PN532_TFI_PN532)) != LEAL_OK ||
        (err = buf_put_u8(&w, (uint8_t)(cmd + 1))) != LEAL_OK ||
        (n > 0 && (err = buf_put_bytes(&w, p, n)) != LEAL_OK))
        return err;
    *resp_len = buf_writer_len(&w);
    return LEAL_OK;
}

static leal_err reply_status(uint8_t cmd, uint8_t status, uint8_t *resp, size_t cap,
                             size_t *resp_len)
{
    return reply(cmd, &status, 1, resp, cap, resp_len);
}

/* InListPassiveTarget MaxTg BrTy [InitiatorData]: one 106 kbps type A target. */
static leal_err list_passive(struct pn532_emu *e, struct buf_reader *r, uint8_t *resp, size_t cap,
                             size_t *resp_len)
{
    uint8_t maxtg, brty, init[16], out[64];
    size_t ilen = buf_remaining(r), n = 0;
    struct cardsim_ident id;

    if (buf_get_u8(r, &maxtg) != LEAL_OK || buf_get_u8(r, &brty) != LEAL_OK || maxtg == 0 ||
        maxtg > 2) {
        *resp_len = 0;
        return LEAL_OK;
    }
    ilen = buf_remaining(r);
    release(e);
    if (brty != 0x00 || e->card == NULL || ilen > sizeof init ||
        buf_get_bytes(r, init, ilen) != LEAL_OK)
        return reply_status(CMD_IN_LIST_PASSIVE_TARGET, 0, resp, cap, resp_len);
    if (cardsim_activate(e->card, &id) != LEAL_OK)
        return reply_status(CMD_IN_LIST_PASSIVE_TARGET, 0, resp, cap, resp_len);
    if (ilen > 0) {
        /* Select by UID: a 7-byte UID comes with its cascade tag (88 u0 u1 u2 u3..u6). */
        uint8_t want[16];
        size_t wl = 0;
        if (id.uid_len == 7)
            want[wl++] = 0x88;
        memcpy(want + wl, id.uid, id.uid_len);
        wl += id.uid_len;
        if (ilen != wl || memcmp(init, want, wl) != 0) {
            cardsim_halt(e->card);
            return reply_status(CMD_IN_LIST_PASSIVE_TARGET, 0, resp, cap, resp_len);
        }
    }
    e->id = id;
    e->selected = true;
    e->iso_dep = id.ats_len > 0 && (e->params & PARAM_AUTO_RATS) != 0;
    /* NbTg Tg SENS_RES(MSB first) SEL_RES NFCIDLength NFCID1 [ATS with TL]. */
    out[n++] = 1;
    out[n++] = 1;
    out[n++] = id.atqa[1];
    out[n++] = id.atqa[0];
    out[n++] = id.sak;
    out[n++] = (uint8_t)id.uid_len;
    memcpy(out + n, id.uid, id.uid_len);
    n += id.uid_len;
    if (e->iso_dep) {
        memcpy(out + n, id.ats, id.ats_len);
        n += id.ats_len;
    }
    return reply(CMD_IN_LIST_PASSIVE_TARGET, out, n, resp, cap, resp_len);
}

/* Sends the next piece of the card's answer (status byte with MI while more follows). */
static leal_err send_rx(struct pn532_emu *e, uint8_t *resp, size_t cap, size_t *resp_len)
{
    uint8_t out[1 + PN532_MAX_EXCHANGE];
    size_t n = e->rx_len - e->rx_off;
    bool more = n > PN532_MAX_EXCHANGE;
    if (more)
        n = PN532_MAX_EXCHANGE;
    out[0] = more ? 0x40 : 0x00;
    memcpy(out + 1, e->rx + e->rx_off, n);
    e->rx_off += n;
    if (!more)
        e->rx_len = e->rx_off = 0;
    return reply(CMD_IN_DATA_EXCHANGE, out, 1 + n, resp, cap, resp_len);
}

/* The card's answer to one whole command -> PN532 status (0 = e->rx holds data). */
static uint8_t exchange(struct pn532_emu *e)
{
    size_t n = 0;
    leal_err err;
    bool classic = cardsim_kind(e->card) == CARDSIM_CLASSIC;
    bool auth = classic && e->tx_len > 0 && (e->tx[0] == 0x60 || e->tx[0] == 0x61);

    e->rx_len = e->rx_off = 0;
    if (!classic && !e->iso_dep)
        return PN532_ST_TIMEOUT; /* a DESFire without RATS does not understand ISO-DEP */
    err = cardsim_transceive(e->card, e->tx, e->tx_len, e->rx, sizeof e->rx, &n);
    e->tx_len = 0;
    if (err == LEAL_E_CARD_REMOVED) {
        e->selected = false;
        e->iso_dep = false;
        return PN532_ST_TIMEOUT;
    }
    if (err != LEAL_OK)
        return PN532_ST_TIMEOUT;
    if (!classic) {
        e->rx_len = n;
        return 0;
    }
    /* Classic answers (classic_sim.h): 16 data bytes, ACK 0A, a 4-bit NAK, or nothing. */
    if (n == 0) {
        e->regs[REG_CIU_STATUS2] &= (uint8_t)~STATUS2_CRYPTO1_ON;
        return auth ? PN532_ST_MIFARE_AUTH : PN532_ST_TIMEOUT;
    }
    if (n == 1 && e->rx[0] == 0x0A) {
        if (auth)
            e->regs[REG_CIU_STATUS2] |= STATUS2_CRYPTO1_ON;
        return 0;
    }
    if (n == 1) {
        e->regs[REG_CIU_STATUS2] &= (uint8_t)~STATUS2_CRYPTO1_ON;
        return PN532_ST_INVALID_FRAME;
    }
    e->rx_len = n;
    return 0;
}

/* InDataExchange Tg DataOut: Tg bit 6 (MI) says more data follows. */
static leal_err data_exchange(struct pn532_emu *e, struct buf_reader *r, uint8_t *resp, size_t cap,
                              size_t *resp_len)
{
    uint8_t tg, status;
    size_t n;
    if (buf_get_u8(r, &tg) != LEAL_OK) {
        *resp_len = 0;
        return LEAL_OK;
    }
    n = buf_remaining(r);
    if (!e->selected || e->card == NULL || (tg & 0x0F) != 1)
        return reply_status(CMD_IN_DATA_EXCHANGE, PN532_ST_NOT_ACCEPTABLE, resp, cap, resp_len);
    /* libnfc fetches the rest of an MI answer by resending "40 01" with no data. */
    if (n == 0 && e->rx_len > e->rx_off && e->tx_len == 0)
        return send_rx(e, resp, cap, resp_len);
    if (e->tx_len + n > sizeof e->tx) {
        e->tx_len = 0;
        return reply_status(CMD_IN_DATA_EXCHANGE, PN532_ST_NOT_ACCEPTABLE, resp, cap, resp_len);
    }
    if (buf_get_bytes(r, e->tx + e->tx_len, n) != LEAL_OK)
        return LEAL_E_INTERNAL;
    e->tx_len += n;
    if (tg & 0x40)
        return reply_status(CMD_IN_DATA_EXCHANGE, 0, resp, cap, resp_len);
    status = exchange(e);
    if (status != 0)
        return reply_status(CMD_IN_DATA_EXCHANGE, status, resp, cap, resp_len);
    return send_rx(e, resp, cap, resp_len);
}

/* InCommunicateThru: raw frames. A DESFire answers RATS (E0 xx) with its ATS
 * when the PN532 did not send RATS itself, and an R(NAK) (B2/B3, libnfc's
 * presence check) with an R(ACK); everything else (the B', SR, CT, iClass
 * and barcode probes of nfc-list, RATS to a Classic card) gets no answer. */
static leal_err communicate_thru(struct pn532_emu *e, struct buf_reader *r, uint8_t *resp,
                                 size_t cap, size_t *resp_len)
{
    uint8_t b0, out[1 + LEAL_MAX_ATS];
    bool desfire = e->selected && e->card && cardsim_kind(e->card) == CARDSIM_DESFIRE;
    if (buf_get_u8(r, &b0) != LEAL_OK)
        return reply_status(CMD_IN_COMMUNICATE_THRU, PN532_ST_TIMEOUT, resp, cap, resp_len);
    if (desfire && !e->iso_dep && b0 == 0xE0 && buf_remaining(r) == 1 && e->id.ats_len > 0) {
        e->iso_dep = true;
        out[0] = 0;
        memcpy(out + 1, e->id.ats, e->id.ats_len);
        return reply(CMD_IN_COMMUNICATE_THRU, out, 1 + e->id.ats_len, resp, cap, resp_len);
    }
    if (desfire && e->iso_dep && (b0 == 0xB2 || b0 == 0xB3) && buf_remaining(r) == 0) {
        out[0] = 0;
        out[1] = (uint8_t)(0xA2 | (b0 & 1));
        return reply(CMD_IN_COMMUNICATE_THRU, out, 2, resp, cap, resp_len);
    }
    if (e->selected && e->card && cardsim_kind(e->card) == CARDSIM_CLASSIC) {
        /* A Classic card goes idle on a frame it does not understand. */
        cardsim_halt(e->card);
        e->regs[REG_CIU_STATUS2] &= (uint8_t)~STATUS2_CRYPTO1_ON;
    }
    return reply_status(CMD_IN_COMMUNICATE_THRU, PN532_ST_TIMEOUT, resp, cap, resp_len);
}

static leal_err read_register(struct pn532_emu *e, struct buf_reader *r, uint8_t *resp, size_t cap,
                              size_t *resp_len)
{
    uint8_t out[128];
    size_t n = 0;
    uint16_t a;
    while (buf_remaining(r) >= 2 && n < sizeof out) {
        if (buf_get_be16(r, &a) != LEAL_OK)
            break;
        out[n++] = e->regs[a];
    }
    if (n == 0 || buf_remaining(r) != 0) {
        *resp_len = 0;
        return LEAL_OK;
    }
    return reply(CMD_READ_REGISTER, out, n, resp, cap, resp_len);
}

static leal_err write_register(struct pn532_emu *e, struct buf_reader *r, uint8_t *resp, size_t cap,
                               size_t *resp_len)
{
    uint16_t a;
    uint8_t v;
    if (buf_remaining(r) == 0 || buf_remaining(r) % 3 != 0) {
        *resp_len = 0;
        return LEAL_OK;
    }
    while (buf_get_be16(r, &a) == LEAL_OK && buf_get_u8(r, &v) == LEAL_OK)
        e->regs[a] = v;
    return reply(CMD_WRITE_REGISTER, NULL, 0, resp, cap, resp_len);
}

static leal_err general_status(const struct pn532_emu *e, uint8_t *resp, size_t cap,
                               size_t *resp_len)
{
    /* Err, Field, NbTg, [Tg BrRx BrTx Type], SAM status. */
    uint8_t st[8] = {0x00, 0x01, 0x00, 0x00};
    size_t n = 4;
    if (e->selected) {
        st[2] = 1;
        st[3] = 1; /* Tg */
        st[4] = 0; /* 106 kbps */
        st[5] = 0;
        st[6] = 0x00; /* ISO/IEC 14443 type A */
        st[7] = 0x00;
        n = 8;
    }
    return reply(CMD_GET_GENERAL_STATUS, st, n, resp, cap, resp_len);
}

static leal_err rf_configuration(struct pn532_emu *e, struct buf_reader *r, uint8_t *resp,
                                 size_t cap, size_t *resp_len)
{
    uint8_t item, field;
    if (buf_get_u8(r, &item) != LEAL_OK)
        return LEAL_OK;
    if (item == 0x01) {
        if (buf_get_u8(r, &field) != LEAL_OK)
            return LEAL_OK;
        if ((field & 1) == 0) {
            release(e); /* field off: the card leaves it */
            if (e->card)
                cardsim_deactivate(e->card);
        }
    }
    return reply(CMD_RF_CONFIGURATION, NULL, 0, resp, cap, resp_len);
}

leal_err pn532_emu_command(struct pn532_emu *e, const uint8_t *body, size_t len, uint8_t *resp,
                           size_t cap, size_t *resp_len)
{
    struct buf_reader r;
    uint8_t tfi, cmd, b;
    static const uint8_t firmware[4] = {0x32, 0x01, 0x06, 0x07}; /* PN532 v1.6, ISO A+B+18092 */

    if (resp_len)
        *resp_len = 0;
    if (e == NULL || (body == NULL && len > 0) || resp == NULL || resp_len == NULL)
        return LEAL_E_ARG;
    buf_reader_init(&r, body, len);
    if (buf_get_u8(&r, &tfi) != LEAL_OK || tfi != PN532_TFI_HOST || buf_get_u8(&r, &cmd) != LEAL_OK)
        return LEAL_OK;
    switch (cmd) {
    case CMD_DIAGNOSE:
        /* NumTst 0 (communication line test) echoes its data; the rest report success. */
        if (buf_get_u8(&r, &b) != LEAL_OK)
            return LEAL_OK;
        return b == 0x00 ? reply(cmd, body + 2, len - 2, resp, cap, resp_len)
                         : reply_status(cmd, 0x00, resp, cap, resp_len);
    case CMD_GET_FIRMWARE_VERSION:
        return reply(cmd, firmware, sizeof firmware, resp, cap, resp_len);
    case CMD_GET_GENERAL_STATUS:
        return general_status(e, resp, cap, resp_len);
    case CMD_READ_REGISTER:
        return read_register(e, &r, resp, cap, resp_len);
    case CMD_WRITE_REGISTER:
        return write_register(e, &r, resp, cap, resp_len);
    case CMD_SET_PARAMETERS:
        if (buf_get_u8(&r, &b) != LEAL_OK)
            return LEAL_OK;
        e->params = b;
        return reply(cmd, NULL, 0, resp, cap, resp_len);
    case CMD_SAM_CONFIGURATION:
        if (buf_get_u8(&r, &b) != LEAL_OK || b < 1 || b > 4)
            return LEAL_OK;
        return reply(cmd, NULL, 0, resp, cap, resp_len);
    case CMD_POWER_DOWN:
        release(e);
        if (e->card)
            cardsim_deactivate(e->card); /* the field goes off */
        return reply_status(cmd, 0x00, resp, cap, resp_len);
    case CMD_RF_CONFIGURATION:
        return rf_configuration(e, &r, resp, cap, resp_len);
    case CMD_IN_LIST_PASSIVE_TARGET:
        return list_passive(e, &r, resp, cap, resp_len);
    case CMD_IN_PSL:
        return reply_status(cmd, e->selected ? 0x00 : PN532_ST_NOT_ACCEPTABLE, resp, cap, resp_len);
    case CMD_IN_DATA_EXCHANGE:
        return data_exchange(e, &r, resp, cap, resp_len);
    case CMD_IN_COMMUNICATE_THRU:
        return communicate_thru(e, &r, resp, cap, resp_len);
    case CMD_IN_DESELECT:
    case CMD_IN_RELEASE:
        release(e);
        return reply_status(cmd, 0x00, resp, cap, resp_len);
    case CMD_IN_SELECT:
        if (!e->selected || e->card == NULL)
            return reply_status(cmd, PN532_ST_NOT_ACCEPTABLE, resp, cap, resp_len);
        return reply_status(cmd, 0x00, resp, cap, resp_len);
    case CMD_IN_AUTO_POLL:
        return reply_status(cmd, 0x00, resp, cap, resp_len);
    default:
        return LEAL_OK;
    }
}

static leal_err put(uint8_t *out, size_t cap, size_t *len, const uint8_t *p, size_t n)
{
    if (cap - *len < n)
        return LEAL_E_NO_SPACE;
    memcpy(out + *len, p, n);
    *len += n;
    return LEAL_OK;
}

leal_err pn532_emu_input(struct pn532_emu *e, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    leal_err err = LEAL_OK;
    size_t used = 0;

    if (out_len)
        *out_len = 0;
    if (e == NULL || (in == NULL && n > 0) || out == NULL || out_len == NULL)
        return LEAL_E_ARG;
    while (used < n || e->in_len > 0) {
        struct pn532_frame f;
        size_t take = n - used, consumed = 0;
        uint8_t resp[PN532_MAX_BODY];
        size_t rl = 0;

        if (take > sizeof e->in - e->in_len)
            take = sizeof e->in - e->in_len;
        memcpy(e->in + e->in_len, in + used, take);
        e->in_len += take;
        used += take;
        err = pn532_frame_parse(e->in, e->in_len, &f, &consumed);
        memmove(e->in, e->in + consumed, e->in_len - consumed);
        e->in_len -= consumed;
        if (err == LEAL_E_TRUNCATED) {
            err = LEAL_OK;
            if (e->in_len == sizeof e->in)
                e->in_len = 0; /* a "frame" longer than any: junk */
            if (used == n)
                break;
            continue;
        }
        if (err == LEAL_E_FORMAT) {
            err = LEAL_OK;
            continue; /* a damaged frame is not acknowledged; the host times out */
        }
        if (err != LEAL_OK)
            return err;
        if (f.kind == PN532_FRAME_ACK)
            continue; /* the host aborts the running command: nothing runs long here */
        if (f.kind == PN532_FRAME_NACK) {
            if (e->last_len > 0 && (err = put(out, cap, out_len, e->last, e->last_len)) != LEAL_OK)
                return err;
            continue;
        }
        if (f.len < 2 || f.body[0] != PN532_TFI_HOST)
            continue;
        if ((err = put(out, cap, out_len, pn532_frame_ack, sizeof pn532_frame_ack)) != LEAL_OK)
            return err;
        if (e->trace)
            e->trace(e->trace_ctx, true, f.body, f.len);
        if ((err = pn532_emu_command(e, f.body, f.len, resp, sizeof resp, &rl)) != LEAL_OK)
            return err;
        if (e->trace)
            e->trace(e->trace_ctx, false, resp, rl);
        if (rl == 0) {
            memcpy(e->last, pn532_frame_error, sizeof pn532_frame_error);
            e->last_len = sizeof pn532_frame_error;
        } else if ((err = pn532_frame_build(resp, rl, e->last, sizeof e->last, &e->last_len)) !=
                   LEAL_OK) {
            return err;
        }
        if ((err = put(out, cap, out_len, e->last, e->last_len)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}
