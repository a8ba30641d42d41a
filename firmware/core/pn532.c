/* pn532.c - the PN532 over a byte stream (pn532.h). */
#include "pn532.h"

#include "keys/base/bytes.h"
#include "keys/base/ct.h"

/* Status byte of InDataExchange/InCommunicateThru (User Manual §7.1): the
 * low 6 bits are the error, bit 6 says more data follows (MI). */
#define ST_ERROR_MASK 0x3F
#define ST_MORE 0x40
#define ST_MIFARE_AUTH 0x14
#define ST_NOT_ACCEPTABLE 0x27
#define ST_RELEASED 0x29
/* Frames of an earlier command (pn532.h: resynchronisation) skipped while
 * waiting for one command's ACK and for its answer. */
#define PN532_STALE_FRAMES 3
/* pn532_begin's drain: the silence that ends it, and the most it reads. */
#define PN532_DRAIN_MS 10
#define PN532_DRAIN_MAX (4 * PN532_MAX_FRAME)

void pn532_init(struct pn532 *d, const struct pn532_port *port)
{
    leal_memset(d, 0, sizeof *d);
    d->port = port;
    d->ack_timeout_ms = PN532_ACK_TIMEOUT_MS;
    d->answer_timeout_ms = PN532_ANSWER_TIMEOUT_MS;
}

/* Reads until one whole frame is in d->frame. LEAL_E_FORMAT: a damaged one
 * (its bytes dropped). */
static leal_err read_frame(struct pn532 *d, unsigned timeout_ms)
{
    for (;;) {
        size_t consumed = 0, n = 0;
        leal_err err = LEAL_E_TRUNCATED;
        if (d->rx_len > 0) {
            err = pn532_frame_parse(d->rx, d->rx_len, &d->frame, &consumed);
            leal_memmove(d->rx, d->rx + consumed, d->rx_len - consumed);
            d->rx_len -= consumed;
            if (err != LEAL_E_TRUNCATED)
                return err;
            if (d->rx_len == sizeof d->rx)
                d->rx_len = 0; /* longer than any frame: noise */
        }
        err = d->port->read(d->port->ctx, d->rx + d->rx_len, sizeof d->rx - d->rx_len, &n,
                            timeout_ms);
        if (err != LEAL_OK)
            return err;
        if (n == 0 || n > sizeof d->rx - d->rx_len)
            return LEAL_E_READER;
        d->rx_len += n;
    }
}

/* Its frame buffer in a frame of its own: inlined (a board linked with -flto) it would
 * sit under the whole exchange, the card's cryptography included. */
LEAL_NOINLINE static leal_err send_frame(struct pn532 *d, const uint8_t *cmd, size_t n)
{
    uint8_t body[PN532_MAX_BODY];
    size_t len = 0;
    leal_err err;
    if (n > sizeof body - 1)
        return LEAL_E_NO_SPACE;
    body[0] = PN532_TFI_HOST;
    leal_memcpy(body + 1, cmd, n);
    err = pn532_frame_build(body, n + 1, d->tx, sizeof d->tx, &len);
    leal_wipe(body, sizeof body); /* Classic keys pass through here */
    if (err == LEAL_OK)
        err = d->port->write(d->port->ctx, d->tx, len);
    leal_wipe(d->tx, len);
    return err;
}

/* The answer to cmd after its ACK; asks once more (NACK) for a damaged one,
 * aborts (ACK) one that does not come, and skips an ACK or another
 * command's answer (an earlier run's) a few times at most. */
static leal_err read_answer(struct pn532 *d, uint8_t cmd)
{
    int damaged = 0, stale = 0;
    for (;;) {
        leal_err err = read_frame(d, d->answer_timeout_ms);
        if (err == LEAL_E_FORMAT) {
            if (++damaged > 1)
                return LEAL_E_READER;
            err = d->port->write(d->port->ctx, pn532_frame_nack, sizeof pn532_frame_nack);
            if (err != LEAL_OK)
                return err;
            continue;
        }
        if (err == LEAL_E_TIMEOUT) {
            (void)d->port->write(d->port->ctx, pn532_frame_ack, sizeof pn532_frame_ack);
            return LEAL_E_TIMEOUT;
        }
        if (err != LEAL_OK)
            return err;
        if (d->frame.kind == PN532_FRAME_INFO) {
            /* The syntax-error frame (body 7F): the PN532 did not understand cmd. */
            if (d->frame.len == 1 && d->frame.body[0] == 0x7F)
                return LEAL_E_READER;
            if (d->frame.len >= 2 && d->frame.body[0] == PN532_TFI_PN532 &&
                d->frame.body[1] == (uint8_t)(cmd + 1))
                return LEAL_OK;
        }
        if (++stale > PN532_STALE_FRAMES)
            return LEAL_E_PROTOCOL;
    }
}

leal_err pn532_command(struct pn532 *d, const uint8_t *cmd, size_t n, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    leal_err err;
    if (out_len)
        *out_len = 0;
    if (d == NULL || d->port == NULL || cmd == NULL || n == 0 || out_len == NULL ||
        (out == NULL && cap > 0))
        return LEAL_E_ARG;
    d->rx_len = 0; /* whatever came before belongs to no command of ours */
    if ((err = send_frame(d, cmd, n)) != LEAL_OK)
        return err;
    /* The PN532 acknowledges a command before it answers it: an answer
     * before the ACK is an earlier command's, skipped (a few at most). */
    for (int stale = 0;; stale++) {
        err = read_frame(d, d->ack_timeout_ms);
        if (err != LEAL_OK || d->frame.kind != PN532_FRAME_INFO || stale == PN532_STALE_FRAMES)
            break;
    }
    if (err == LEAL_E_TIMEOUT || err == LEAL_E_FORMAT ||
        (err == LEAL_OK && d->frame.kind != PN532_FRAME_ACK))
        return LEAL_E_READER; /* no ACK: no PN532 there, or it did not take the frame */
    if (err != LEAL_OK)
        return err;
    if ((err = read_answer(d, cmd[0])) != LEAL_OK)
        return err;
    if (d->frame.len - 2 > cap)
        return LEAL_E_NO_SPACE;
    if (d->frame.len > 2)
        leal_memcpy(out, d->frame.body + 2, d->frame.len - 2);
    *out_len = d->frame.len - 2;
    return LEAL_OK;
}

/* Reads and drops what the line holds until it stays silent PN532_DRAIN_MS
 * (or PN532_DRAIN_MAX bytes came: a line that never stops is left to the
 * next command's ACK wait). */
static leal_err drain(struct pn532 *d)
{
    size_t total = 0;
    while (total < PN532_DRAIN_MAX) {
        size_t n = 0;
        leal_err err = d->port->read(d->port->ctx, d->rx, sizeof d->rx, &n, PN532_DRAIN_MS);
        if (err == LEAL_E_TIMEOUT)
            break;
        if (err != LEAL_OK)
            return err;
        if (n == 0)
            break;
        total += n;
    }
    d->rx_len = 0;
    return LEAL_OK;
}

leal_err pn532_begin(struct pn532 *d, uint8_t firmware[4])
{
    /* HSU wake-up: the PN532 sleeps until it sees 55 and needs the line busy
     * long enough to start its oscillator (User Manual §7.2.11, libnfc). */
    static const uint8_t wakeup[16] = {0x55, 0x55};
    static const uint8_t sam_normal[2] = {PN532_CMD_SAM_CONFIGURATION, 0x01};
    static const uint8_t version[1] = {PN532_CMD_GET_FIRMWARE_VERSION};
    static const uint8_t max_retries[5] = {PN532_CMD_RF_CONFIGURATION, 0x05, 0x00, 0x01, 0x02};
    uint8_t out[8];
    size_t n = 0;
    leal_err err;

    if (d == NULL || d->port == NULL)
        return LEAL_E_ARG;
    if ((err = d->port->write(d->port->ctx, wakeup, sizeof wakeup)) != LEAL_OK)
        return err;
    /* The PN532 may not have been reset with us: an ACK aborts a command of
     * an earlier run still under way, and what it had sent is dropped. */
    if ((err = d->port->write(d->port->ctx, pn532_frame_ack, sizeof pn532_frame_ack)) != LEAL_OK ||
        (err = drain(d)) != LEAL_OK)
        return err;
    if ((err = pn532_command(d, sam_normal, sizeof sam_normal, out, sizeof out, &n)) != LEAL_OK)
        return err;
    if ((err = pn532_command(d, version, sizeof version, out, sizeof out, &n)) != LEAL_OK)
        return err;
    if (n != 4 || out[0] != 0x32)
        return LEAL_E_READER; /* not a PN532 */
    if (firmware)
        leal_memcpy(firmware, out, 4);
    return pn532_command(d, max_retries, sizeof max_retries, out, sizeof out, &n);
}

/* A status byte's error -> leal_err. An RF failure is a Classic card's
 * refusal (its NAK) on a Classic command, else a card that stopped answering
 * (libnfc maps both to ERFTRANS; reader_nfc.c reads it the same way). */
static leal_err status_err(uint8_t status, bool classic)
{
    switch (status & ST_ERROR_MASK) {
    case 0x00:
        return LEAL_OK;
    case ST_MIFARE_AUTH:
        return LEAL_E_CARD_AUTHENTICATION;
    case ST_NOT_ACCEPTABLE:
    case ST_RELEASED:
        return LEAL_E_CARD_REMOVED;
    default:
        return classic ? LEAL_E_CARD_PERMISSION_DENIED : LEAL_E_CARD_REMOVED;
    }
}

/* RATS (E0, FSDI 5 = 64 bytes, CID 0) through InCommunicateThru, for a card
 * the PN532 did not send RATS to itself (SetParameters fAutomaticRATS off). */
static leal_err rats(struct pn532 *d)
{
    static const uint8_t cmd[3] = {PN532_CMD_IN_COMMUNICATE_THRU, 0xE0, 0x50};
    uint8_t out[1 + LEAL_MAX_ATS];
    size_t n = 0;
    leal_err err = pn532_command(d, cmd, sizeof cmd, out, sizeof out, &n);
    if (err != LEAL_OK)
        return err;
    if (n < 1)
        return LEAL_E_PROTOCOL;
    if ((err = status_err(out[0], false)) != LEAL_OK)
        return err;
    if (n < 2 || out[1] != n - 1)
        return LEAL_E_PROTOCOL; /* TL counts the ATS itself */
    leal_memcpy(d->target.ats, out + 1, n - 1);
    d->target.ats_len = n - 1;
    return LEAL_OK;
}

/* InListPassiveTarget's answer: NbTg Tg SENS_RES(2) SEL_RES NFCIDLength NFCID [ATS]. */
static leal_err parse_target(struct pn532 *d, const uint8_t *p, size_t n)
{
    struct pn532_target *t = &d->target;
    size_t ul;
    leal_memset(t, 0, sizeof *t);
    if (n < 1)
        return LEAL_E_PROTOCOL;
    if (p[0] == 0)
        return LEAL_E_NO_CARD;
    if (n < 6 || p[1] != 1)
        return LEAL_E_PROTOCOL;
    ul = p[5];
    if (ul == 0 || ul > sizeof t->uid || n < 6 + ul || n - 6 - ul > sizeof t->ats)
        return LEAL_E_PROTOCOL;
    t->atqa[0] = p[2];
    t->atqa[1] = p[3];
    t->sak = p[4];
    leal_memcpy(t->uid, p + 6, ul);
    t->uid_len = ul;
    if (n > 6 + ul) {
        if (p[6 + ul] != n - 6 - ul)
            return LEAL_E_PROTOCOL; /* TL counts the ATS itself */
        leal_memcpy(t->ats, p + 6 + ul, n - 6 - ul);
        t->ats_len = n - 6 - ul;
    }
    return LEAL_OK;
}

/* InListPassiveTarget 01 00 [initiator data]. */
static leal_err list_target(struct pn532 *d, const uint8_t *init, size_t init_len)
{
    uint8_t cmd[3 + 1 + LEAL_MAX_UID], out[8 + LEAL_MAX_UID + LEAL_MAX_ATS];
    size_t n = 0;
    leal_err err;
    d->selected = false;
    cmd[0] = PN532_CMD_IN_LIST_PASSIVE_TARGET;
    cmd[1] = 0x01; /* MaxTg: one card */
    cmd[2] = 0x00; /* BrTy: 106 kbps type A */
    if (init_len > 0)
        leal_memcpy(cmd + 3, init, init_len);
    err = pn532_command(d, cmd, 3 + init_len, out, sizeof out, &n);
    if (err == LEAL_OK)
        err = parse_target(d, out, n);
    if (err == LEAL_OK && (d->target.sak & 0x20) && d->target.ats_len == 0)
        err = rats(d);
    if (err == LEAL_OK)
        d->selected = true;
    return err;
}

leal_err pn532_select(struct pn532 *d, struct pn532_target *t)
{
    leal_err err;
    if (d == NULL || d->port == NULL)
        return LEAL_E_ARG;
    if ((err = list_target(d, NULL, 0)) != LEAL_OK)
        return err;
    if (t)
        *t = d->target;
    return LEAL_OK;
}

void pn532_release(struct pn532 *d)
{
    static const uint8_t all[2] = {PN532_CMD_IN_RELEASE, 0x00};
    uint8_t out[4];
    size_t n = 0;
    if (d == NULL || !d->selected)
        return;
    d->selected = false;
    if (pn532_command(d, all, sizeof all, out, sizeof out, &n) != LEAL_OK)
        return; /* a card or PN532 gone away is released too */
}

/* One InDataExchange with target 1, fetching the rest of an MI-chained
 * answer; resp receives the card's bytes after the status byte. A card
 * without ISO 14443-4 gets only Classic commands (pn_transceive refuses it
 * APDUs), so its status bytes are read as a Classic card's. */
static leal_err exchange(struct pn532 *d, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                         size_t cap, size_t *resp_len)
{
    uint8_t params[2 + PN532_MAX_FRAME], out[PN532_MAX_BODY];
    size_t n = 0, total = 0, plen = 2 + cmd_len;
    bool classic = !(d->target.sak & 0x20);
    leal_err err;

    *resp_len = 0;
    if (!d->selected)
        return LEAL_E_NO_CARD;
    if (cmd_len > sizeof params - 2)
        return LEAL_E_NO_SPACE;
    params[0] = PN532_CMD_IN_DATA_EXCHANGE;
    params[1] = 0x01; /* Tg */
    leal_memcpy(params + 2, cmd, cmd_len);
    for (;;) {
        err = pn532_command(d, params, plen, out, sizeof out, &n);
        leal_wipe(params, plen);
        if (err != LEAL_OK)
            return err;
        if (n < 1)
            return LEAL_E_PROTOCOL;
        if ((err = status_err(out[0], classic)) != LEAL_OK)
            return err;
        if (n - 1 > cap - total)
            return LEAL_E_NO_SPACE;
        leal_memcpy(resp + total, out + 1, n - 1);
        total += n - 1;
        if (!(out[0] & ST_MORE))
            break;
        params[0] = PN532_CMD_IN_DATA_EXCHANGE;
        params[1] = 0x01; /* "40 01": the next part of the answer (REFERENCE.md §4.1) */
        plen = 2;
    }
    *resp_len = total;
    return LEAL_OK;
}

static leal_err pn_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                              size_t resp_cap, size_t *resp_len)
{
    struct pn532 *d = ctx;
    if (resp_len)
        *resp_len = 0;
    if (d == NULL || cmd == NULL || cmd_len == 0 || resp == NULL || resp_len == NULL)
        return LEAL_E_ARG;
    /* A storage card (no ISO 14443-4) takes no APDUs. */
    if (d->selected && !(d->target.sak & 0x20))
        return LEAL_E_PROTOCOL;
    return exchange(d, cmd, cmd_len, resp, resp_cap, resp_len);
}

/* Selects the same card again by its UID (a 7-byte one with its cascade tag,
 * ISO 14443-3 §6.5.4), after a failed authentication halted it. */
static leal_err reselect(struct pn532 *d)
{
    uint8_t init[1 + LEAL_MAX_UID];
    size_t n = 0;
    leal_err err;
    if (d->target.uid_len == 7)
        init[n++] = 0x88;
    leal_memcpy(init + n, d->target.uid, d->target.uid_len);
    n += d->target.uid_len;
    err = list_target(d, init, n);
    return err == LEAL_E_NO_CARD ? LEAL_E_CARD_REMOVED : err;
}

static leal_err pn_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    struct pn532 *d = ctx;
    uint8_t cmd[12], resp[16];
    size_t n = 0;
    leal_err err;
    if (d == NULL || key == NULL || (key_type != CLASSIC_KEY_A && key_type != CLASSIC_KEY_B))
        return LEAL_E_ARG;
    if (!d->selected)
        return LEAL_E_NO_CARD;
    if (d->target.uid_len < 4)
        return LEAL_E_PROTOCOL;
    /* The PN532 seeds Crypto1 with the UID's last four bytes. */
    cmd[0] = key_type;
    cmd[1] = block;
    leal_memcpy(cmd + 2, key, 6);
    leal_memcpy(cmd + 8, d->target.uid + d->target.uid_len - 4, 4);
    err = exchange(d, cmd, sizeof cmd, resp, sizeof resp, &n);
    leal_wipe(cmd, sizeof cmd);
    if (err == LEAL_E_CARD_AUTHENTICATION || err == LEAL_E_CARD_PERMISSION_DENIED) {
        leal_err e2 = reselect(d);
        return e2 == LEAL_OK ? LEAL_E_CARD_AUTHENTICATION : e2;
    }
    return err;
}

static leal_err pn_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    struct pn532 *d = ctx;
    uint8_t cmd[2] = {0x30, block}, resp[18];
    size_t n = 0;
    leal_err err;
    if (d == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = exchange(d, cmd, sizeof cmd, resp, sizeof resp, &n)) != LEAL_OK)
        return err;
    if (n != 16)
        return LEAL_E_PROTOCOL;
    leal_memcpy(out, resp, 16);
    return LEAL_OK;
}

static leal_err pn_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    struct pn532 *d = ctx;
    uint8_t cmd[18], resp[16];
    size_t n = 0;
    if (d == NULL || data == NULL)
        return LEAL_E_ARG;
    cmd[0] = 0xA0;
    cmd[1] = block;
    leal_memcpy(cmd + 2, data, 16);
    return exchange(d, cmd, sizeof cmd, resp, sizeof resp, &n);
}

void pn532_card_reader(struct pn532 *d, struct card_reader *out)
{
    out->ctx = d;
    out->transceive = pn_transceive;
    out->classic_auth = pn_classic_auth;
    out->classic_read = pn_classic_read;
    out->classic_write = pn_classic_write;
}
