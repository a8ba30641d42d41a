/*
 * reader_pcsc.c - the pcsc: backend on libpcsclite. The only file where
 * pcsc-lite's LONG codes exist: they become leal_err here (map()), with
 * pcsc-lite's text for them recorded in the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winscard.h>

#include "host/log/log.h"
#include "reader_backend.h"
#include "reader_part3.h"

struct pcsc {
    SCARDCONTEXT ctx;
    SCARDHANDLE card;
    DWORD proto;
    bool connected;
    /* The connection outlived a command (leal desk --stdio): the card is the
     * one connected before, so what it told about itself still holds. */
    bool reused;
    bool have_info;
    struct reader_card info;
    char name[READER_MAX_NAME];
};

/* no_card: what "no card" means here (gone mid-exchange, or not there yet). */
static leal_err code(LONG rv, leal_err no_card)
{
    switch (rv) {
    case SCARD_S_SUCCESS:
        return LEAL_OK;
    case SCARD_E_TIMEOUT:
        return LEAL_E_TIMEOUT;
    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_REMOVED_CARD:
        return no_card;
    case SCARD_W_RESET_CARD: /* someone reset it: our session on the card is gone */
        return LEAL_E_CARD_REMOVED;
    case SCARD_E_SHARING_VIOLATION:
        return LEAL_E_READER_BUSY;
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_E_NO_READERS_AVAILABLE:
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_READER_UNAVAILABLE:
        return LEAL_E_NO_READER;
    case SCARD_E_INSUFFICIENT_BUFFER:
        return LEAL_E_NO_SPACE;
    case SCARD_E_PROTO_MISMATCH:
    case SCARD_E_CARD_UNSUPPORTED:
    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_UNSUPPORTED_CARD:
        return LEAL_E_CARD_UNKNOWN;
    case SCARD_E_NO_MEMORY:
        return LEAL_E_NO_MEMORY;
    default:
        return LEAL_E_READER;
    }
}

/* what: the pcsc-lite call that answered rv. */
static leal_err map(LONG rv, leal_err no_card, const char *what)
{
    leal_err err = code(rv, no_card);
    /* pcsc_stringify_error's buffer lasts until its next call: log_foreign copies it. */
    return err == LEAL_OK ? err : log_foreign(err, "pcsc", what, pcsc_stringify_error(rv));
}

static leal_err list_names(SCARDCONTEXT ctx, char **names, DWORD *len)
{
    LONG rv;
    *names = NULL;
    *len = 0;
    rv = SCardListReaders(ctx, NULL, NULL, len);
    if (rv == SCARD_E_NO_READERS_AVAILABLE || *len == 0)
        return LEAL_OK;
    if (rv != SCARD_S_SUCCESS)
        return map(rv, LEAL_E_NO_CARD, "SCardListReaders");
    if ((*names = calloc(1, *len + 1)) == NULL)
        return LEAL_E_NO_MEMORY;
    rv = SCardListReaders(ctx, NULL, *names, len);
    if (rv == SCARD_E_NO_READERS_AVAILABLE) {
        free(*names);
        *names = NULL;
        *len = 0;
        return LEAL_OK;
    }
    if (rv != SCARD_S_SUCCESS) {
        free(*names);
        *names = NULL;
        return map(rv, LEAL_E_NO_CARD, "SCardListReaders");
    }
    return LEAL_OK;
}

static leal_err pcsc_list(struct reader_entry *out, size_t cap, size_t *n)
{
    SCARDCONTEXT ctx;
    char *names = NULL;
    DWORD len;
    leal_err err;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
    if (rv == SCARD_E_NO_SERVICE)
        return LEAL_OK; /* no pcscd: no PC/SC readers */
    if (rv != SCARD_S_SUCCESS)
        return map(rv, LEAL_E_NO_CARD, "SCardEstablishContext");
    if ((err = list_names(ctx, &names, &len)) == LEAL_OK && names) {
        for (const char *p = names; *p && *n < cap; p += strlen(p) + 1) {
            SCARD_READERSTATE st;
            struct reader_entry *e = &out[(*n)++];
            memset(e, 0, sizeof *e);
            snprintf(e->spec, sizeof e->spec, "pcsc:%s", p);
            snprintf(e->name, sizeof e->name, "%s", p);
            e->is_virtual = reader_name_is_virtual(p);
            memset(&st, 0, sizeof st);
            st.szReader = p;
            st.dwCurrentState = SCARD_STATE_UNAWARE;
            if (SCardGetStatusChange(ctx, 0, &st, 1) == SCARD_S_SUCCESS)
                e->card_present = (st.dwEventState & SCARD_STATE_PRESENT) != 0;
        }
    }
    free(names);
    SCardReleaseContext(ctx);
    return err;
}

static void pcsc_close(void *vctx);

static leal_err pcsc_open(const char *arg, void **vctx, char *name, size_t name_cap,
                          bool *is_virtual)
{
    struct pcsc *p = calloc(1, sizeof *p);
    char *names = NULL;
    DWORD len;
    const char *found = NULL;
    leal_err err;
    LONG rv;

    if (p == NULL)
        return LEAL_E_NO_MEMORY;
    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
    if (rv != SCARD_S_SUCCESS) {
        free(p);
        return map(rv, LEAL_E_NO_CARD, "SCardEstablishContext");
    }
    if ((err = list_names(p->ctx, &names, &len)) != LEAL_OK)
        goto fail;
    for (const char *q = names; names && *q; q += strlen(q) + 1)
        if (arg == NULL || *arg == '\0' || strcmp(q, arg) == 0) {
            found = q;
            break;
        }
    if (found == NULL || strlen(found) >= sizeof p->name) {
        err = LEAL_E_NO_READER;
        goto fail;
    }
    memcpy(p->name, found, strlen(found) + 1);
    snprintf(name, name_cap, "%s", p->name);
    *is_virtual = reader_name_is_virtual(p->name);
    free(names);
    *vctx = p;
    return LEAL_OK;
fail:
    free(names);
    pcsc_close(p);
    return err;
}

static leal_err pcsc_wait_card(void *vctx, unsigned timeout_ms)
{
    struct pcsc *p = vctx;
    SCARD_READERSTATE st;
    LONG rv;

    if (p->connected) {
        /* Kept as it is, unasked: a card that left since makes the first
         * exchange fail (pcscd refuses the old handle), which drops it. */
        p->reused = true;
        return LEAL_OK;
    }
    memset(&st, 0, sizeof st);
    st.szReader = p->name;
    st.dwCurrentState = SCARD_STATE_UNAWARE;
    rv = SCardGetStatusChange(p->ctx, 0, &st, 1);
    if (rv != SCARD_S_SUCCESS)
        return map(rv, LEAL_E_NO_CARD, "SCardGetStatusChange");
    if (!(st.dwEventState & SCARD_STATE_PRESENT)) {
        if (timeout_ms == 0)
            return LEAL_E_NO_CARD;
        st.dwCurrentState = st.dwEventState;
        /* Wait for the state to change; a card arriving is the change we want. */
        while (!(st.dwEventState & SCARD_STATE_PRESENT)) {
            rv = SCardGetStatusChange(p->ctx, timeout_ms, &st, 1);
            if (rv == SCARD_E_TIMEOUT)
                return LEAL_E_NO_CARD;
            if (rv != SCARD_S_SUCCESS)
                return map(rv, LEAL_E_NO_CARD, "SCardGetStatusChange");
            st.dwCurrentState = st.dwEventState;
        }
    }
    rv = SCardConnect(p->ctx, p->name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                      &p->card, &p->proto);
    if (rv != SCARD_S_SUCCESS)
        return map(rv, LEAL_E_NO_CARD, "SCardConnect");
    p->connected = true;
    return LEAL_OK;
}

static void pcsc_release(void *vctx);

static leal_err transmit(struct pcsc *p, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                         size_t resp_cap, size_t *resp_len)
{
    const SCARD_IO_REQUEST *pci = p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    DWORD rl = (DWORD)resp_cap;
    LONG rv;

    *resp_len = 0;
    if (!p->connected)
        return LEAL_E_NO_CARD;
    rv = SCardTransmit(p->card, pci, cmd, (DWORD)cmd_len, NULL, resp, &rl);
    if (rv == SCARD_S_SUCCESS && rl < 2) {
        /* No status word: the card did not answer. vpcd reports a card that
         * left mid-exchange this way (success, zero bytes). */
        rv = SCARD_W_REMOVED_CARD;
    }
    if (rv == SCARD_E_NOT_TRANSACTED || rv == SCARD_W_UNPOWERED_CARD ||
        rv == SCARD_E_READER_UNAVAILABLE) {
        /* The reader lost the card mid-exchange, or failed: ask which. */
        SCARD_READERSTATE st;
        memset(&st, 0, sizeof st);
        st.szReader = p->name;
        st.dwCurrentState = SCARD_STATE_UNAWARE;
        if (SCardGetStatusChange(p->ctx, 0, &st, 1) == SCARD_S_SUCCESS &&
            (!(st.dwEventState & SCARD_STATE_PRESENT) || (st.dwEventState & SCARD_STATE_EMPTY)))
            rv = SCARD_W_REMOVED_CARD;
    }
    if (rv != SCARD_S_SUCCESS) {
        if (rv == SCARD_W_REMOVED_CARD || rv == SCARD_W_RESET_CARD || rv == SCARD_E_NO_SMARTCARD) {
            pcsc_release(p);
        }
        return map(rv, LEAL_E_CARD_REMOVED, "SCardTransmit");
    }
    *resp_len = rl;
    return LEAL_OK;
}

static leal_err pcsc_card_info(void *vctx, struct reader_card *info)
{
    struct pcsc *p = vctx;
    uint8_t resp[64];
    size_t rl;
    DWORD atr_len = sizeof info->atr, state, proto, nl = 0;
    LONG rv;
    leal_err err;

    if (!p->connected)
        return LEAL_E_NO_CARD;
    if (p->reused && p->have_info) {
        *info = p->info;
        return LEAL_OK;
    }
    rv = SCardStatus(p->card, NULL, &nl, &state, &proto, info->atr, &atr_len);
    if (rv != SCARD_S_SUCCESS)
        return map(rv, LEAL_E_CARD_REMOVED, "SCardStatus");
    info->atr_len = atr_len;
    /* PC/SC part 3 GET DATA: the reader answers these itself. */
    if ((err = transmit(p, (const uint8_t *)"\xFF\xCA\x00\x00\x00", 5, resp, sizeof resp, &rl)) !=
        LEAL_OK)
        return err;
    if (rl >= 2 && rl - 2 <= sizeof info->uid && resp[rl - 2] == 0x90 && resp[rl - 1] == 0x00) {
        memcpy(info->uid, resp, rl - 2);
        info->uid_len = rl - 2;
    }
    if ((err = transmit(p, (const uint8_t *)"\xFF\xCA\x01\x00\x00", 5, resp, sizeof resp, &rl)) !=
        LEAL_OK)
        return err;
    if (rl >= 2 && rl - 2 <= sizeof info->historical && resp[rl - 2] == 0x90 &&
        resp[rl - 1] == 0x00) {
        memcpy(info->historical, resp, rl - 2);
        info->historical_len = rl - 2;
    }
    p->info = *info;
    p->have_info = true;
    return LEAL_OK;
}

static leal_err pcsc_transceive(void *vctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                size_t resp_cap, size_t *resp_len)
{
    return transmit(vctx, cmd, cmd_len, resp, resp_cap, resp_len);
}

static leal_err pcsc_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    return reader_part3_classic_auth(&reader_pcsc_backend, ctx, block, key_type, key);
}

static leal_err pcsc_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    return reader_part3_classic_read(&reader_pcsc_backend, ctx, block, out);
}

static leal_err pcsc_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    return reader_part3_classic_write(&reader_pcsc_backend, ctx, block, data);
}

static void pcsc_release(void *vctx)
{
    struct pcsc *p = vctx;
    if (p->connected)
        SCardDisconnect(p->card, SCARD_LEAVE_CARD);
    p->connected = false;
    p->reused = false;
    p->have_info = false;
}

static leal_err pcsc_wait_removed(void *vctx, unsigned timeout_ms)
{
    struct pcsc *p = vctx;
    SCARD_READERSTATE st;
    LONG rv;

    memset(&st, 0, sizeof st);
    st.szReader = p->name;
    st.dwCurrentState = SCARD_STATE_UNAWARE;
    rv = SCardGetStatusChange(p->ctx, 0, &st, 1);
    for (;;) {
        if (rv == SCARD_E_TIMEOUT)
            return LEAL_E_TIMEOUT;
        if (rv != SCARD_S_SUCCESS)
            return map(rv, LEAL_E_NO_CARD, "SCardGetStatusChange");
        if (st.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE))
            return LEAL_E_NO_READER;
        if (!(st.dwEventState & SCARD_STATE_PRESENT))
            return LEAL_OK;
        if (timeout_ms == 0)
            return LEAL_E_TIMEOUT;
        /* pcscd tells when the reader's state changes: nothing asks the card. */
        st.dwCurrentState = st.dwEventState;
        rv = SCardGetStatusChange(p->ctx, timeout_ms, &st, 1);
    }
}

static void pcsc_close(void *vctx)
{
    struct pcsc *p = vctx;
    if (p == NULL)
        return;
    pcsc_release(p);
    SCardReleaseContext(p->ctx);
    free(p);
}

const struct reader_backend reader_pcsc_backend = {
    .scheme = "pcsc",
    .list = pcsc_list,
    .open = pcsc_open,
    .wait_card = pcsc_wait_card,
    .card_info = pcsc_card_info,
    .transceive = pcsc_transceive,
    .classic_auth = pcsc_classic_auth,
    .classic_read = pcsc_classic_read,
    .classic_write = pcsc_classic_write,
    .release = pcsc_release,
    .wait_removed = pcsc_wait_removed,
    .close = pcsc_close,
};

bool reader_name_is_virtual(const char *name)
{
    /* Debian's vsmartcard-vpcd names its readers "Virtual PCD 00 00", "... 00 01". */
    return name && strstr(name, "Virtual PCD") != NULL;
}
