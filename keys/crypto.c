/* crypto.c - provider check and the CMAC variants built on a provider's AES. */
#include "crypto.h"

#include "base/bytes.h"
#include "base/ct.h"

leal_err crypto_provider_check(const struct crypto_provider *cp)
{
    if (cp == NULL || cp->name == NULL || cp->aes128_ecb_encrypt == NULL ||
        cp->aes128_ecb_decrypt == NULL || cp->aes128_cbc_encrypt == NULL ||
        cp->aes128_cbc_decrypt == NULL || cp->aes128_cmac == NULL || cp->sha256 == NULL ||
        cp->ed25519_verify == NULL || cp->random == NULL)
        return LEAL_E_ARG;
    return LEAL_OK;
}

void crypto_gf_double(const uint8_t in[16], uint8_t out[16])
{
    uint8_t msb = in[0] >> 7;
    for (int i = 0; i < 15; i++)
        out[i] = (uint8_t)(in[i] << 1 | in[i + 1] >> 7);
    out[15] = (uint8_t)(in[15] << 1);
    /* Constant-time: the mask is 0x87 or 0 without branching on the secret bit. */
    out[15] ^= (uint8_t)(0x87 & (uint8_t)(0u - msb));
}

leal_err crypto_cmac_subkeys(const struct crypto_provider *cp, const uint8_t key[16],
                             uint8_t k1[16], uint8_t k2[16])
{
    uint8_t l[16] = {0};
    leal_err err = cp->aes128_ecb_encrypt(key, l, l);
    if (err == LEAL_OK) {
        crypto_gf_double(l, k1);
        crypto_gf_double(k1, k2);
    }
    leal_wipe(l, sizeof l);
    return err;
}

leal_err crypto_cmac_iv(const struct crypto_provider *cp, const uint8_t key[16],
                        const uint8_t iv[16], const uint8_t *msg, size_t len, uint8_t mac[16])
{
    uint8_t k1[16], k2[16], x[16], last[16];
    leal_err err;
    size_t full = len == 0 ? 0 : (len - 1) / 16; /* blocks before the last */
    size_t tail = len - full * 16;

    if ((err = crypto_cmac_subkeys(cp, key, k1, k2)) != LEAL_OK)
        goto out;
    if (iv)
        leal_memcpy(x, iv, 16);
    else
        leal_memset(x, 0, 16);
    for (size_t b = 0; b < full; b++) {
        for (int i = 0; i < 16; i++)
            x[i] ^= msg[b * 16 + (size_t)i];
        if ((err = cp->aes128_ecb_encrypt(key, x, x)) != LEAL_OK)
            goto out;
    }
    leal_memset(last, 0, 16);
    if (tail > 0)
        leal_memcpy(last, msg + full * 16, tail);
    if (tail == 16) {
        for (int i = 0; i < 16; i++)
            last[i] ^= k1[i];
    } else {
        last[tail] = 0x80;
        for (int i = 0; i < 16; i++)
            last[i] ^= k2[i];
    }
    for (int i = 0; i < 16; i++)
        x[i] ^= last[i];
    if ((err = cp->aes128_ecb_encrypt(key, x, x)) != LEAL_OK)
        goto out;
    leal_memcpy(mac, x, 16);
out:
    leal_wipe(k1, sizeof k1);
    leal_wipe(k2, sizeof k2);
    leal_wipe(x, sizeof x);
    leal_wipe(last, sizeof last);
    return err;
}
