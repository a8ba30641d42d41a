/* diversify.c - NXP AN10922 AES-128 key diversification. */
#include "diversify.h"

#include "base/bytes.h"
#include "base/ct.h"
#include "base/limits.h"

leal_err diversify_aes128(const struct crypto_provider *cp, const uint8_t master[16],
                          const uint8_t *m, size_t m_len, uint8_t out[16])
{
    uint8_t d[32], k1[16], k2[16], iv[16] = {0};
    const uint8_t *subkey;
    leal_err err;

    if (m == NULL || m_len == 0 || m_len > LEAL_MAX_DIVERSIFY_INPUT)
        return LEAL_E_ARG;
    if ((err = crypto_cmac_subkeys(cp, master, k1, k2)) != LEAL_OK)
        goto out;
    /* AN10922 pads to 32 bytes even for a short M; padding to one block
     * instead was libfreefare's issue #91. */
    leal_memset(d, 0, sizeof d);
    d[0] = 0x01;
    leal_memcpy(d + 1, m, m_len);
    if (m_len + 1 < sizeof d) {
        d[m_len + 1] = 0x80;
        subkey = k2;
    } else {
        subkey = k1;
    }
    for (int i = 0; i < 16; i++)
        d[16 + i] ^= subkey[i];
    if ((err = cp->aes128_cbc_encrypt(master, iv, d, d, sizeof d)) != LEAL_OK)
        goto out;
    leal_memcpy(out, d + 16, 16);
out:
    leal_wipe(d, sizeof d);
    leal_wipe(k1, sizeof k1);
    leal_wipe(k2, sizeof k2);
    leal_wipe(iv, sizeof iv);
    return err;
}
