/* card_info.c - describing the card in the reader (card_info.h). */
#include "card_info.h"

#include <string.h>

#include "keys/base/bytes.h"
#include "keys/hosted/provider_openssl.h"

static const char *desfire_name(uint8_t major)
{
    switch (major) {
    case 0x00:
        return "MIFARE DESFire (MF3ICD40)";
    case 0x01:
        return "MIFARE DESFire EV1";
    case 0x12:
        return "MIFARE DESFire EV2";
    case 0x22:
        return "MIFARE DESFire EV2 XL";
    case 0x33:
        return "MIFARE DESFire EV3";
    case 0x30:
        return "MIFARE DESFire Light";
    default:
        return "MIFARE DESFire (unknown version)";
    }
}

/* PC/SC part 3 storage-card ATR: 3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN. */
static const char *storage_name(const struct reader_card *c)
{
    static const uint8_t rid[] = {0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06};
    const uint8_t *h = c->atr + 4;
    if (c->atr_len < 4 + 11 || memcmp(h, rid, sizeof rid) != 0)
        return NULL;
    if (h[9] == 0x00 && h[10] == 0x01)
        return "MIFARE Classic 1K";
    if (h[9] == 0x00 && h[10] == 0x02)
        return "MIFARE Classic 4K";
    if (h[9] == 0x00 && h[10] == 0x03)
        return "MIFARE Ultralight";
    return "storage card (unknown)";
}

/* Sectors of a MIFARE Classic 1K (16) or 4K (40) whose key A / key B is still
 * the factory key FFFFFFFFFFFF: an authentication per sector and key. */
static leal_err classic_factory_keys(struct reader *r, struct desk_card_info *out)
{
    static const uint8_t factory[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const struct card_reader *cr = reader_card_reader(r);
    for (unsigned s = 0; s < out->classic_sectors; s++) {
        uint8_t block = (uint8_t)(s < 32 ? s * 4 : 128 + (s - 32) * 16);
        for (int k = 0; k < 2; k++) {
            leal_err err =
                cr->classic_auth(cr->ctx, block, k ? CLASSIC_KEY_B : CLASSIC_KEY_A, factory);
            if (err == LEAL_OK)
                *(k ? &out->factory_key_b : &out->factory_key_a) |= (uint64_t)1 << s;
            else if (err != LEAL_E_CARD_AUTHENTICATION)
                return err;
        }
    }
    return LEAL_OK;
}

/* Free memory and applications; a status the card answers leaves them out. */
static leal_err desfire_details(struct desfire *d, struct desk_card_info *out)
{
    leal_err err = desfire_get_free_memory(d, &out->free_memory);
    out->has_free_memory = err == LEAL_OK;
    if (err != LEAL_OK && (err == LEAL_E_PROTOCOL || !desfire_card_refused(d, err)))
        return err;
    err = desfire_get_application_ids(d, out->aids, DESFIRE_MAX_APPS, &out->naids);
    out->apps_listed = err == LEAL_OK;
    if (err != LEAL_OK && (err == LEAL_E_PROTOCOL || !desfire_card_refused(d, err)))
        return err;
    return LEAL_OK;
}

/* A DESFire answers GetVersion; any other card is named by its ATR. */
static leal_err identify(struct reader *r, struct desk_card_info *out, const char **doing)
{
    struct desfire d;
    leal_err err;
    desfire_init(&d, reader_card_reader(r), crypto_openssl());
    *doing = "asking the card its version";
    err = desfire_get_version(&d, &out->version);
    if (err == LEAL_OK && out->version.hw[0] == 0x04 && out->version.hw[1] == 0x01) {
        out->desfire = true;
        out->type = desfire_name(out->version.hw[3]);
        *doing = "reading the card";
        err = desfire_details(&d, out);
    } else if (err == LEAL_OK || desfire_card_refused(&d, err)) {
        memset(&out->version, 0, sizeof out->version);
        out->type = storage_name(&out->card);
        if (out->type == NULL)
            out->type = "unknown ISO 14443-4 card";
        else if (strncmp(out->type, "MIFARE Classic", 14) == 0)
            out->classic_sectors = strcmp(out->type, "MIFARE Classic 4K") == 0 ? 40 : 16;
        err = LEAL_OK;
    }
    desfire_clear(&d);
    return err;
}

leal_err desk_card_info(struct reader *r, unsigned timeout_ms, struct desk_card_info *out,
                        const char **doing)
{
    leal_err err;
    memset(out, 0, sizeof *out);
    *doing = NULL; /* waiting for the card, or its UID and ATR */
    if ((err = reader_wait_card(r, timeout_ms)) != LEAL_OK ||
        (err = reader_card_info(r, &out->card)) != LEAL_OK ||
        (err = identify(r, out, doing)) != LEAL_OK)
        return err;
    if (out->classic_sectors) {
        *doing = "trying the factory keys on the card";
        err = classic_factory_keys(r, out);
    }
    return err;
}
