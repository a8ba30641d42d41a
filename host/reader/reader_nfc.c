/*
 * reader_nfc.c - libnfc 1.8 as a leal reader. The only file that sees
 * libnfc's NFC_E* codes (STYLE.md convention 3).
 */
#include "reader_nfc.h"

#include <nfc/nfc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys/base/ct.h"

#define NFC_TIMEOUT_MS 1000 /* per exchange; DESFire commands answer in tens of ms */

struct reader_nfc {
    nfc_context *ctx;
    nfc_device *dev;
    nfc_target target;
    bool selected;
};

/* libnfc's codes (nfc.h) to leal's. ERFTRANS is an RF-level failure: on a
 * Classic command it is the card's NAK (access refused); otherwise the card
 * did not answer, i.e. it is gone. */
static leal_err map_err(int res, bool classic)
{
    switch (res) {
    case NFC_ETIMEOUT:
        return LEAL_E_TIMEOUT;
    case NFC_EOVFLOW:
        return LEAL_E_NO_SPACE;
    case NFC_ENOTSUCHDEV:
        return LEAL_E_NO_READER;
    case NFC_ETGRELEASED:
        return LEAL_E_CARD_REMOVED;
    case NFC_ERFTRANS:
        return classic ? LEAL_E_CARD_PERMISSION_DENIED : LEAL_E_CARD_REMOVED;
    case NFC_EMFCAUTHFAIL:
        return LEAL_E_CARD_AUTHENTICATION;
    case NFC_EOPABORTED:
        return LEAL_E_INTERRUPTED;
    case NFC_ENOTIMPL:
    case NFC_EDEVNOTSUPP:
        return LEAL_E_UNSUPPORTED;
    default: /* NFC_EIO, NFC_EINVARG, NFC_ESOFT, NFC_ECHIP */
        return LEAL_E_READER;
    }
}

leal_err reader_nfc_open(const char *connstring, struct reader_nfc **out)
{
    struct reader_nfc *r;
    leal_err err;
    int res;

    if (out == NULL || connstring == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if (strlen(connstring) >= sizeof(nfc_connstring))
        return LEAL_E_ARG;
    if ((r = calloc(1, sizeof *r)) == NULL)
        return LEAL_E_NO_MEMORY;
    nfc_init(&r->ctx);
    if (r->ctx == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto fail;
    }
    if ((r->dev = nfc_open(r->ctx, connstring)) == NULL) {
        err = LEAL_E_NO_READER;
        goto fail;
    }
    if ((res = nfc_initiator_init(r->dev)) < 0 ||
        (res = nfc_device_set_property_bool(r->dev, NP_INFINITE_SELECT, false)) < 0) {
        err = map_err(res, false);
        goto fail;
    }
    *out = r;
    return LEAL_OK;
fail:
    reader_nfc_close(r);
    return err;
}

void reader_nfc_close(struct reader_nfc *r)
{
    if (r == NULL)
        return;
    if (r->dev) {
        if (r->selected)
            (void)nfc_initiator_deselect_target(r->dev);
        nfc_close(r->dev);
    }
    if (r->ctx)
        nfc_exit(r->ctx);
    free(r);
}

const char *reader_nfc_name(const struct reader_nfc *r)
{
    return nfc_device_get_name(r->dev);
}

static const nfc_modulation mod_14443a = {.nmt = NMT_ISO14443A, .nbr = NBR_106};

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

leal_err reader_nfc_select(struct reader_nfc *r, unsigned timeout_ms, struct reader_nfc_card *card)
{
    unsigned waited = 0;
    int res;

    if (card)
        memset(card, 0, sizeof *card);
    if (r == NULL)
        return LEAL_E_ARG;
    r->selected = false;
    for (;;) {
        res = nfc_initiator_select_passive_target(r->dev, mod_14443a, NULL, 0, &r->target);
        if (res < 0)
            return map_err(res, false);
        if (res > 0)
            break;
        if (waited >= timeout_ms)
            return LEAL_E_NO_CARD;
        sleep_ms(100);
        waited += 100;
    }
    r->selected = true;
    if (card) {
        const nfc_iso14443a_info *a = &r->target.nti.nai;
        size_t ul = a->szUidLen < sizeof card->uid ? a->szUidLen : sizeof card->uid;
        size_t al = a->szAtsLen < sizeof card->ats ? a->szAtsLen : sizeof card->ats;
        memcpy(card->uid, a->abtUid, ul);
        card->uid_len = ul;
        memcpy(card->atqa, a->abtAtqa, 2);
        card->sak = a->btSak;
        memcpy(card->ats, a->abtAts, al);
        card->ats_len = al;
    }
    return LEAL_OK;
}

void reader_nfc_release(struct reader_nfc *r)
{
    if (r && r->selected)
        (void)nfc_initiator_deselect_target(r->dev);
    if (r)
        r->selected = false;
}

static leal_err exchange(struct reader_nfc *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                         size_t cap, size_t *resp_len, bool classic)
{
    int res;
    *resp_len = 0;
    if (!r->selected)
        return LEAL_E_NO_CARD;
    res = nfc_initiator_transceive_bytes(r->dev, cmd, cmd_len, resp, cap, NFC_TIMEOUT_MS);
    if (res < 0)
        return map_err(res, classic);
    *resp_len = (size_t)res;
    return LEAL_OK;
}

static leal_err nfc_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    if (resp_len)
        *resp_len = 0;
    if (ctx == NULL || cmd == NULL || resp == NULL || resp_len == NULL)
        return LEAL_E_ARG;
    return exchange(ctx, cmd, cmd_len, resp, resp_cap, resp_len, false);
}

/* Selects the same card again (after a failed authentication halted it). */
static leal_err reselect(struct reader_nfc *r)
{
    const nfc_iso14443a_info *a = &r->target.nti.nai;
    uint8_t init[1 + sizeof a->abtUid];
    size_t n = 0;
    nfc_target t;
    int res;
    /* A 7-byte UID is selected through its cascade tag (ISO 14443-3 §6.5.4). */
    if (a->szUidLen == 7)
        init[n++] = 0x88;
    memcpy(init + n, a->abtUid, a->szUidLen);
    n += a->szUidLen;
    res = nfc_initiator_select_passive_target(r->dev, mod_14443a, init, n, &t);
    if (res < 0)
        return map_err(res, false);
    if (res == 0) {
        r->selected = false;
        return LEAL_E_CARD_REMOVED;
    }
    return LEAL_OK;
}

static leal_err nfc_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    struct reader_nfc *r = ctx;
    uint8_t cmd[12], resp[16];
    size_t rl;
    leal_err err;

    if (r == NULL || key == NULL || (key_type != CLASSIC_KEY_A && key_type != CLASSIC_KEY_B))
        return LEAL_E_ARG;
    if (!r->selected)
        return LEAL_E_NO_CARD;
    /* The PN53x seeds Crypto1 with the UID's last four bytes. */
    cmd[0] = key_type;
    cmd[1] = block;
    memcpy(cmd + 2, key, 6);
    memcpy(cmd + 8, r->target.nti.nai.abtUid + r->target.nti.nai.szUidLen - 4, 4);
    err = exchange(r, cmd, sizeof cmd, resp, sizeof resp, &rl, true);
    leal_wipe(cmd, sizeof cmd);
    if (err == LEAL_E_CARD_AUTHENTICATION || err == LEAL_E_CARD_PERMISSION_DENIED) {
        leal_err e2 = reselect(r);
        return e2 == LEAL_OK ? LEAL_E_CARD_AUTHENTICATION : e2;
    }
    return err;
}

static leal_err nfc_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    struct reader_nfc *r = ctx;
    uint8_t cmd[2] = {0x30, block}, resp[18];
    size_t rl;
    leal_err err;
    if (r == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = exchange(r, cmd, 2, resp, sizeof resp, &rl, true)) != LEAL_OK)
        return err;
    if (rl != 16)
        return LEAL_E_PROTOCOL;
    memcpy(out, resp, 16);
    return LEAL_OK;
}

static leal_err nfc_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    struct reader_nfc *r = ctx;
    uint8_t cmd[18], resp[16];
    size_t rl;
    if (r == NULL || data == NULL)
        return LEAL_E_ARG;
    cmd[0] = 0xA0;
    cmd[1] = block;
    memcpy(cmd + 2, data, 16);
    return exchange(r, cmd, sizeof cmd, resp, sizeof resp, &rl, true);
}

void reader_nfc_card_reader(struct reader_nfc *r, struct card_reader *out)
{
    out->ctx = r;
    out->transceive = nfc_transceive;
    out->classic_auth = nfc_classic_auth;
    out->classic_read = nfc_classic_read;
    out->classic_write = nfc_classic_write;
}
