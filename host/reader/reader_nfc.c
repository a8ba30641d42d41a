/*
 * reader_nfc.c - libnfc 1.8 as a leal reader. The only file that sees
 * libnfc's NFC_E* codes (foreign errors become leal_err where they enter:
 * ARCHITECTURE.md, Where to add); nfc_strerror's text for
 * them is recorded in the log where they become leal_err (report()).
 */
#include "reader_nfc.h"

#include <nfc/nfc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/log/log.h"
#include "keys/base/ct.h"
#include "reader_backend.h"

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

/* map_err, with libnfc's text for the device's last error logged; what: the
 * libnfc call that failed. */
static leal_err report(nfc_device *dev, int res, bool classic, const char *what)
{
    return log_foreign(map_err(res, classic), "libnfc", what, nfc_strerror(dev));
}

/* libnfc logs its own errors to stderr (e.g. "Unable to find USB busses"
 * where there is no USB); leal reports through leal_err, and only the CLI
 * prints. A user who wants libnfc's log sets LIBNFC_LOG_LEVEL. */
static void quiet_libnfc(void)
{
    (void)setenv("LIBNFC_LOG_LEVEL", "0", 0);
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
    quiet_libnfc();
    nfc_init(&r->ctx);
    if (r->ctx == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto fail;
    }
    if ((r->dev = nfc_open(r->ctx, connstring)) == NULL) {
        /* No device, so no nfc_strerror: say what was asked for. */
        err = log_foreign(LEAL_E_NO_READER, "libnfc", "nfc_open", connstring);
        goto fail;
    }
    if ((res = nfc_initiator_init(r->dev)) < 0 ||
        (res = nfc_device_set_property_bool(r->dev, NP_INFINITE_SELECT, false)) < 0) {
        err = report(r->dev, res, false, "nfc_initiator_init");
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
            return report(r->dev, res, false, "nfc_initiator_select_passive_target");
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

/* Where a card's answer goes: buf holds cap bytes, len is what came. */
struct nfc_answer {
    uint8_t *buf;
    size_t cap;
    size_t len;
};

static leal_err exchange(struct reader_nfc *r, const uint8_t *cmd, size_t cmd_len,
                         struct nfc_answer *answer, bool classic)
{
    int res;
    answer->len = 0;
    if (!r->selected)
        return LEAL_E_NO_CARD;
    res = nfc_initiator_transceive_bytes(r->dev, cmd, cmd_len, answer->buf, answer->cap,
                                         NFC_TIMEOUT_MS);
    if (res < 0)
        return report(r->dev, res, classic, "nfc_initiator_transceive_bytes");
    answer->len = (size_t)res;
    return LEAL_OK;
}

static leal_err nfc_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    struct nfc_answer answer = {resp, resp_cap, 0};
    leal_err err;
    if (resp_len)
        *resp_len = 0;
    if (ctx == NULL || cmd == NULL || resp == NULL || resp_len == NULL)
        return LEAL_E_ARG;
    err = exchange(ctx, cmd, cmd_len, &answer, false);
    *resp_len = answer.len;
    return err;
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
        return report(r->dev, res, false, "nfc_initiator_select_passive_target (again)");
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
    struct nfc_answer answer = {resp, sizeof resp, 0};
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
    err = exchange(r, cmd, sizeof cmd, &answer, true);
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
    struct nfc_answer answer = {resp, sizeof resp, 0};
    leal_err err;
    if (r == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = exchange(r, cmd, 2, &answer, true)) != LEAL_OK)
        return err;
    if (answer.len != 16)
        return LEAL_E_PROTOCOL;
    memcpy(out, resp, 16);
    return LEAL_OK;
}

static leal_err nfc_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    struct reader_nfc *r = ctx;
    uint8_t cmd[18], resp[16];
    struct nfc_answer answer = {resp, sizeof resp, 0};
    if (r == NULL || data == NULL)
        return LEAL_E_ARG;
    cmd[0] = 0xA0;
    cmd[1] = block;
    memcpy(cmd + 2, data, 16);
    return exchange(r, cmd, sizeof cmd, &answer, true);
}

void reader_nfc_card_reader(struct reader_nfc *r, struct card_reader *out)
{
    out->ctx = r;
    out->transceive = nfc_transceive;
    out->classic_auth = nfc_classic_auth;
    out->classic_read = nfc_classic_read;
    out->classic_write = nfc_classic_write;
}

/* ------------------------------------------------ the reader-layer backend */

struct nfc_backend {
    struct reader_nfc *r;
    struct reader_nfc_card card;
};

static leal_err b_list(struct reader_entry *out, size_t cap, size_t *n)
{
    nfc_context *ctx = NULL;
    nfc_connstring conns[8];
    size_t found;

    quiet_libnfc();
    nfc_init(&ctx);
    if (ctx == NULL)
        return LEAL_OK; /* no libnfc configuration: no nfc: readers */
    found = nfc_list_devices(ctx, conns, sizeof conns / sizeof conns[0]);
    for (size_t i = 0; i < found && *n < cap; i++) {
        struct reader_entry *e = &out[*n];
        memset(e, 0, sizeof *e);
        snprintf(e->spec, sizeof e->spec, "nfc:%s", conns[i]);
        snprintf(e->name, sizeof e->name, "%s", conns[i]);
        (*n)++;
    }
    nfc_exit(ctx);
    return LEAL_OK;
}

static leal_err b_open(const char *arg, void **ctx, char *name, size_t name_cap, bool *is_virtual)
{
    struct nfc_backend *b;
    char first[sizeof(nfc_connstring)];
    leal_err err;

    if (arg == NULL || *arg == '\0') {
        /* The first device libnfc lists. */
        nfc_context *c = NULL;
        nfc_connstring conns[1];
        quiet_libnfc();
        nfc_init(&c);
        if (c == NULL || nfc_list_devices(c, conns, 1) == 0) {
            if (c)
                nfc_exit(c);
            return LEAL_E_NO_READER;
        }
        snprintf(first, sizeof first, "%s", conns[0]);
        nfc_exit(c);
        arg = first;
    }
    if ((b = calloc(1, sizeof *b)) == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = reader_nfc_open(arg, &b->r)) != LEAL_OK) {
        free(b);
        return err;
    }
    snprintf(name, name_cap, "nfc:%s", arg);
    *is_virtual = false; /* a libnfc device is a local serial/USB device */
    *ctx = b;
    return LEAL_OK;
}

static leal_err b_wait_card(void *ctx, unsigned timeout_ms)
{
    struct nfc_backend *b = ctx;
    return reader_nfc_select(b->r, timeout_ms, &b->card);
}

static leal_err b_card_info(void *ctx, struct reader_card *info)
{
    struct nfc_backend *b = ctx;
    if (!b->r->selected)
        return LEAL_E_NO_CARD;
    memset(info, 0, sizeof *info);
    memcpy(info->uid, b->card.uid, b->card.uid_len);
    info->uid_len = b->card.uid_len;
    reader_build_atr(b->r->target.nti.nai.btSak, b->r->target.nti.nai.abtAts,
                     b->r->target.nti.nai.szAtsLen, info);
    return LEAL_OK;
}

static leal_err b_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                             size_t resp_cap, size_t *resp_len)
{
    struct nfc_backend *b = ctx;
    *resp_len = 0;
    /* A storage card (no ISO 14443-4, SAK bit 6 clear) takes no APDUs. */
    if (b->r->selected && !(b->r->target.nti.nai.btSak & 0x20))
        return LEAL_E_PROTOCOL;
    return nfc_transceive(b->r, cmd, cmd_len, resp, resp_cap, resp_len);
}

static leal_err b_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    return nfc_classic_auth(((struct nfc_backend *)ctx)->r, block, key_type, key);
}

static leal_err b_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    return nfc_classic_read(((struct nfc_backend *)ctx)->r, block, out);
}

static leal_err b_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    return nfc_classic_write(((struct nfc_backend *)ctx)->r, block, data);
}

static void b_release(void *ctx)
{
    reader_nfc_release(((struct nfc_backend *)ctx)->r);
}

static void b_close(void *ctx)
{
    struct nfc_backend *b = ctx;
    if (b == NULL)
        return;
    reader_nfc_close(b->r);
    free(b);
}

const struct reader_backend reader_nfc_backend = {
    .scheme = "nfc",
    .list = b_list,
    .open = b_open,
    .wait_card = b_wait_card,
    .card_info = b_card_info,
    .transceive = b_transceive,
    .classic_auth = b_classic_auth,
    .classic_read = b_classic_read,
    .classic_write = b_classic_write,
    .release = b_release,
    .close = b_close,
};
