/* reader_part3.c - PC/SC part 3 MIFARE Classic pseudo-APDUs (reader_part3.h). */
#include "reader_part3.h"

#include <string.h>

static leal_err part3(const struct reader_backend *b, void *ctx, const uint8_t *apdu, size_t len,
                      uint8_t *data, size_t want)
{
    uint8_t resp[64];
    size_t rl;
    leal_err err = b->transceive(ctx, apdu, len, resp, sizeof resp, &rl);
    if (err != LEAL_OK)
        return err;
    if (rl < 2)
        return LEAL_E_PROTOCOL;
    if (resp[rl - 2] == 0x90 && resp[rl - 1] == 0x00) {
        if (rl - 2 != want)
            return LEAL_E_PROTOCOL;
        if (want)
            memcpy(data, resp, want);
        return LEAL_OK;
    }
    if (resp[rl - 2] == 0x69 && resp[rl - 1] == 0x82)
        return LEAL_E_CARD_PERMISSION_DENIED;
    if (resp[rl - 2] == 0x63 && resp[rl - 1] == 0x00)
        return want ? LEAL_E_CARD_PERMISSION_DENIED : LEAL_E_CARD_AUTHENTICATION;
    return LEAL_E_CARD_STATUS;
}

leal_err reader_part3_classic_auth(const struct reader_backend *b, void *ctx, uint8_t block,
                                   uint8_t key_type, const uint8_t key[6])
{
    uint8_t load[11] = {0xFF, 0x82, 0x00, 0x00, 0x06};
    uint8_t auth[10] = {0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, key_type, 0x00};
    leal_err err;
    if (key_type != CLASSIC_KEY_A && key_type != CLASSIC_KEY_B)
        return LEAL_E_ARG;
    memcpy(load + 5, key, 6);
    if ((err = part3(b, ctx, load, sizeof load, NULL, 0)) != LEAL_OK)
        return err;
    err = part3(b, ctx, auth, sizeof auth, NULL, 0);
    return err == LEAL_E_CARD_STATUS ? LEAL_E_CARD_AUTHENTICATION : err;
}

leal_err reader_part3_classic_read(const struct reader_backend *b, void *ctx, uint8_t block,
                                   uint8_t out[16])
{
    uint8_t apdu[5] = {0xFF, 0xB0, 0x00, block, 0x10};
    return part3(b, ctx, apdu, sizeof apdu, out, 16);
}

leal_err reader_part3_classic_write(const struct reader_backend *b, void *ctx, uint8_t block,
                                    const uint8_t data[16])
{
    uint8_t apdu[21] = {0xFF, 0xD6, 0x00, block, 0x10};
    memcpy(apdu + 5, data, 16);
    return part3(b, ctx, apdu, sizeof apdu, NULL, 0);
}
