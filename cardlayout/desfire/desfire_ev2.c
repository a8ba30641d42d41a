/* desfire_ev2.c - DESFire EV2 secure messaging primitives (desfire_ev2.h). */
#include "desfire_ev2.h"

#include "keys/base/bytes.h"
#include "keys/base/ct.h"

void desfire_ev2_sv(uint8_t l0, uint8_t l1, const uint8_t rnd_a[16], const uint8_t rnd_b[16],
                    uint8_t sv[DESFIRE_EV2_SV_LEN])
{
    sv[0] = l0;
    sv[1] = l1;
    sv[2] = 0x00;
    sv[3] = 0x01;
    sv[4] = 0x00;
    sv[5] = 0x80;
    sv[6] = rnd_a[0];
    sv[7] = rnd_a[1];
    for (int i = 0; i < 6; i++)
        sv[8 + i] = (uint8_t)(rnd_a[2 + i] ^ rnd_b[i]);
    leal_memcpy(sv + 14, rnd_b + 6, 10);
    leal_memcpy(sv + 24, rnd_a + 8, 8);
}

leal_err desfire_ev2_session_keys(const struct crypto_provider *cp, const uint8_t key[16],
                                  const uint8_t rnd_a[16], const uint8_t rnd_b[16], uint8_t enc[16],
                                  uint8_t mac[16])
{
    uint8_t sv[DESFIRE_EV2_SV_LEN];
    leal_err err;
    desfire_ev2_sv(0xA5, 0x5A, rnd_a, rnd_b, sv);
    err = cp->aes128_cmac(key, sv, sizeof sv, enc);
    if (err == LEAL_OK) {
        desfire_ev2_sv(0x5A, 0xA5, rnd_a, rnd_b, sv);
        err = cp->aes128_cmac(key, sv, sizeof sv, mac);
    }
    leal_wipe(sv, sizeof sv);
    if (err != LEAL_OK) {
        leal_wipe(enc, 16);
        leal_wipe(mac, 16);
    }
    return err;
}

leal_err desfire_ev2_iv(const struct crypto_provider *cp, const uint8_t enc[16], bool response,
                        const uint8_t ti[DESFIRE_EV2_TI_LEN], uint16_t ctr, uint8_t iv[16])
{
    uint8_t in[16] = {0};
    in[0] = response ? 0x5A : 0xA5;
    in[1] = response ? 0xA5 : 0x5A;
    leal_memcpy(in + 2, ti, DESFIRE_EV2_TI_LEN);
    store_le16(in + 6, ctr);
    return cp->aes128_ecb_encrypt(enc, in, iv);
}

leal_err desfire_ev2_mac(const struct crypto_provider *cp, const uint8_t mac_key[16],
                         const struct desfire_ev2_msg *m, uint8_t mact[DESFIRE_EV2_MACT_LEN])
{
    uint8_t in[7 + DESFIRE_EV2_MAC_DATA_MAX], full[16];
    leal_err err;
    if (m->len > DESFIRE_EV2_MAC_DATA_MAX)
        return LEAL_E_ARG;
    in[0] = m->code;
    store_le16(in + 1, m->ctr);
    leal_memcpy(in + 3, m->ti, DESFIRE_EV2_TI_LEN);
    if (m->len > 0)
        leal_memcpy(in + 7, m->data, m->len);
    if ((err = cp->aes128_cmac(mac_key, in, 7 + m->len, full)) == LEAL_OK)
        for (int i = 0; i < DESFIRE_EV2_MACT_LEN; i++)
            mact[i] = full[2 * i + 1]; /* the even-numbered bytes counting from 1 */
    leal_wipe(in, 7 + m->len);
    leal_wipe(full, sizeof full);
    return err;
}

size_t desfire_ev2_pad(uint8_t *buf, size_t len)
{
    size_t pl = (len / 16 + 1) * 16;
    buf[len] = 0x80;
    for (size_t i = len + 1; i < pl; i++)
        buf[i] = 0x00;
    return pl;
}

bool desfire_ev2_unpad(const uint8_t *buf, size_t len, size_t *data_len)
{
    size_t i;
    *data_len = 0;
    if (len == 0 || len % 16 != 0)
        return false;
    for (i = len; i > len - 16 && buf[i - 1] == 0x00; i--)
        ;
    if (i == len - 16 || buf[i - 1] != 0x80)
        return false;
    *data_len = i - 1;
    return true;
}

static void rotl1(const uint8_t in[16], uint8_t out[16])
{
    for (int i = 0; i < 15; i++)
        out[i] = in[i + 1];
    out[15] = in[0];
}

leal_err desfire_ev2_auth_token(const struct crypto_provider *cp, const uint8_t key[16],
                                const uint8_t ek_rnd_b[16], const uint8_t rnd_a[16],
                                uint8_t rnd_b[16], uint8_t token[32])
{
    uint8_t iv[16] = {0};
    leal_err err;
    if ((err = cp->aes128_cbc_decrypt(key, iv, ek_rnd_b, rnd_b, 16)) != LEAL_OK)
        return err;
    leal_memcpy(token, rnd_a, 16);
    rotl1(rnd_b, token + 16);
    leal_memset(iv, 0, sizeof iv); /* EV2: IV zero for the token too (AN12196 6.6) */
    err = cp->aes128_cbc_encrypt(key, iv, token, token, 32);
    if (err != LEAL_OK)
        leal_wipe(token, 32);
    return err;
}

leal_err desfire_ev2_auth_answer(const struct crypto_provider *cp, const uint8_t key[16],
                                 const uint8_t *ans, size_t len, const uint8_t rnd_a[16],
                                 uint8_t *ti)
{
    uint8_t iv[16] = {0}, d[32], rot[16];
    const size_t want = ti != NULL ? 32 : 16;
    const size_t at = ti != NULL ? DESFIRE_EV2_TI_LEN : 0;
    leal_err err;
    if (len != want)
        return LEAL_E_ARG;
    if ((err = cp->aes128_cbc_decrypt(key, iv, ans, d, len)) != LEAL_OK)
        goto out;
    rotl1(rnd_a, rot);
    /* The card proves it holds the key by returning RndA rotated. */
    if (!leal_ct_equal(d + at, rot, 16)) {
        err = LEAL_E_CARD_AUTHENTICATION;
        goto out;
    }
    if (ti != NULL)
        leal_memcpy(ti, d, DESFIRE_EV2_TI_LEN);
out:
    leal_wipe(d, sizeof d);
    leal_wipe(rot, sizeof rot);
    return err;
}
