/* pcsc_face.c - a contactless PC/SC reader's own answers (see pcsc_face.h). */
#include "pcsc_face.h"

#include <string.h>

/* Storage-card pseudo-APDUs per card kind. MIFARE Classic adds its entry:
 *   &pcsc_face_classic,   (defined in pcsc_face_classic.c)   */
static const struct pcsc_face_storage *const storage[] = {
    &pcsc_face_classic,
};

static const struct pcsc_face_storage *storage_for(const struct cardsim *card)
{
    for (size_t i = 0; i < sizeof storage / sizeof storage[0]; i++)
        if (storage[i] && storage[i]->kind == cardsim_kind(card))
            return storage[i];
    return NULL;
}

void pcsc_face_init(struct pcsc_face *f, struct cardsim *card)
{
    memset(f, 0, sizeof *f);
    f->card = card;
    f->auth_block = -1;
}

leal_err pcsc_face_power_on(struct pcsc_face *f)
{
    f->auth_block = -1;
    memset(f->key_loaded, 0, sizeof f->key_loaded);
    return cardsim_activate(f->card, &f->id);
}

void pcsc_face_power_off(struct pcsc_face *f)
{
    cardsim_deactivate(f->card);
    f->auth_block = -1;
}

leal_err pcsc_face_ats_historical(const uint8_t *ats, size_t ats_len, const uint8_t **hist,
                                  size_t *hist_len)
{
    size_t off = 2;
    if (ats_len < 2 || ats[0] != ats_len)
        return LEAL_E_FORMAT;
    /* T0 bits 5..7 say which of TA, TB, TC follow (ISO/IEC 14443-4 5.2). */
    for (int bit = 0x10; bit <= 0x40; bit <<= 1)
        if (ats[1] & bit)
            off++;
    if (off > ats_len)
        return LEAL_E_FORMAT;
    *hist = ats + off;
    *hist_len = ats_len - off;
    return LEAL_OK;
}

leal_err pcsc_face_atr(const struct pcsc_face *f, uint8_t *atr, size_t cap, size_t *len)
{
    const struct pcsc_face_storage *s = storage_for(f->card);
    const uint8_t *hist;
    size_t hl;
    uint8_t tck = 0;
    leal_err err;

    *len = 0;
    if (f->id.ats_len == 0) {
        if (s == NULL)
            return LEAL_E_UNSUPPORTED;
        return s->atr(f, atr, cap, len);
    }
    if ((err = pcsc_face_ats_historical(f->id.ats, f->id.ats_len, &hist, &hl)) != LEAL_OK)
        return err;
    if (hl > 15 || 5 + hl > cap)
        return LEAL_E_NO_SPACE;
    /* PC/SC part 3 3.1.3.2.3.2: TS 3B, T0 8n, TD1 80, TD2 01, historical, TCK. */
    atr[0] = 0x3B;
    atr[1] = (uint8_t)(0x80 | hl);
    atr[2] = 0x80;
    atr[3] = 0x01;
    memcpy(atr + 4, hist, hl);
    for (size_t i = 1; i < 4 + hl; i++)
        tck ^= atr[i];
    atr[4 + hl] = tck;
    *len = 5 + hl;
    return LEAL_OK;
}

static leal_err sw(uint8_t *resp, size_t cap, size_t *resp_len, uint8_t sw1, uint8_t sw2)
{
    if (cap < 2)
        return LEAL_E_NO_SPACE;
    resp[0] = sw1;
    resp[1] = sw2;
    *resp_len = 2;
    return LEAL_OK;
}

/* GET DATA (PC/SC part 3 3.2.2.1.3): P1 00 UID, P1 01 historical bytes. */
static leal_err get_data(struct pcsc_face *f, const uint8_t *apdu, size_t len, uint8_t *resp,
                         size_t cap, size_t *resp_len)
{
    const uint8_t *p;
    size_t n, le;
    if (len != 5)
        return sw(resp, cap, resp_len, 0x67, 0x00);
    if (apdu[3] != 0x00)
        return sw(resp, cap, resp_len, 0x6A, 0x81);
    if (apdu[2] == 0x00) {
        p = f->id.uid;
        n = f->id.uid_len;
    } else if (apdu[2] == 0x01 && f->id.ats_len) {
        if (pcsc_face_ats_historical(f->id.ats, f->id.ats_len, &p, &n) != LEAL_OK)
            return sw(resp, cap, resp_len, 0x6A, 0x81);
    } else {
        return sw(resp, cap, resp_len, 0x6A, 0x81);
    }
    le = apdu[4];
    if (le != 0 && le < n)
        return sw(resp, cap, resp_len, 0x6C, (uint8_t)n); /* wrong Le: the right one */
    if (n + 2 > cap)
        return LEAL_E_NO_SPACE;
    memcpy(resp, p, n);
    resp[n] = 0x90;
    resp[n + 1] = 0x00;
    *resp_len = n + 2;
    return LEAL_OK;
}

leal_err pcsc_face_apdu(struct pcsc_face *f, const uint8_t *apdu, size_t len, uint8_t *resp,
                        size_t cap, size_t *resp_len)
{
    const struct pcsc_face_storage *s;
    *resp_len = 0;
    if (!cardsim_active(f->card))
        return LEAL_E_NO_CARD;
    if (len >= 1 && apdu[0] == 0xFF) {
        if (len < 4)
            return sw(resp, cap, resp_len, 0x67, 0x00);
        if (apdu[1] == 0xCA)
            return get_data(f, apdu, len, resp, cap, resp_len);
        if ((s = storage_for(f->card)) != NULL)
            return s->apdu(f, apdu, len, resp, cap, resp_len);
        return sw(resp, cap, resp_len, 0x6A, 0x81);
    }
    /* A storage card (MIFARE Classic: no ISO 14443-4) never sees an APDU:
     * the reader refuses it itself. */
    if (f->id.ats_len == 0 && storage_for(f->card) != NULL)
        return sw(resp, cap, resp_len, 0x6A, 0x81);
    return cardsim_transceive(f->card, apdu, len, resp, cap, resp_len);
}
