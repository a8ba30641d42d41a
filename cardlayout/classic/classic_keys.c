/* classic_keys.c - LAYOUT.md 3.1/3.2 key derivation for MIFARE Classic. */
#include "classic_keys.h"

#include "cardlayout/layout.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/base/limits.h"
#include "keys/diversify.h"

static leal_err derive(const struct crypto_provider *cp, const uint8_t master[16],
                       const struct classic_keys_card *card, uint8_t x, uint8_t out[16])
{
    uint8_t m[LEAL_MAX_UID + 3 + 12];
    size_t n = 0;
    leal_err err;

    if (cp == NULL || master == NULL || card == NULL || card->uid == NULL || card->uid_len < 4 ||
        card->uid_len > LEAL_MAX_UID)
        return LEAL_E_ARG;
    leal_memcpy(m, card->uid, card->uid_len);
    n = card->uid_len;
    m[n++] = (uint8_t)(LAYOUT_MAD_AID & 0xFF); /* the MAD AID, low byte first: 4C 01 */
    m[n++] = (uint8_t)(LAYOUT_MAD_AID >> 8);
    m[n++] = x;
    m[n++] = 'L';
    m[n++] = 'E';
    m[n++] = 'A';
    m[n++] = 'L';
    store_be32(m + n, card->issuer_id);
    store_be32(m + n + 4, card->program_id);
    n += 8;
    err = diversify_aes128(cp, master, m, n, out);
    leal_wipe(m, sizeof m);
    return err;
}

leal_err classic_keys_sector(const struct crypto_provider *cp, const uint8_t master[16],
                             const struct classic_keys_card *card, uint8_t sector, uint8_t key[6])
{
    uint8_t full[16];
    leal_err err;

    if (key == NULL)
        return LEAL_E_ARG;
    err = derive(cp, master, card, sector, full);
    if (err == LEAL_OK)
        leal_memcpy(key, full, 6); /* cut to 48 bits (KEYS.md) */
    leal_wipe(full, sizeof full);
    return err;
}

leal_err classic_keys_seal(const struct crypto_provider *cp, const uint8_t master[16],
                           const struct classic_keys_card *card, uint8_t key[32])
{
    leal_err err;

    if (key == NULL)
        return LEAL_E_ARG;
    if ((err = derive(cp, master, card, LAYOUT_CLASSIC_SEAL_K1, key)) != LEAL_OK ||
        (err = derive(cp, master, card, LAYOUT_CLASSIC_SEAL_K2, key + 16)) != LEAL_OK)
        leal_wipe(key, 32);
    return err;
}
