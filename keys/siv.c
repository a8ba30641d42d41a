/* siv.c - AES-SIV (RFC 5297) on the provider's AES-ECB and CMAC. */
#include "siv.h"

#include "base/bytes.h"
#include "base/ct.h"
#include "base/limits.h"

static int ad_ok(struct siv_ad_list ad)
{
    if (ad.n > SIV_MAX_AD || (ad.n > 0 && ad.items == NULL))
        return 0;
    for (size_t i = 0; i < ad.n; i++)
        if (ad.items[i].len > LEAL_MAX_RECORD || (ad.items[i].len > 0 && ad.items[i].p == NULL))
            return 0;
    return 1;
}

/* The arguments both directions check: LEAL_E_ARG, LEAL_E_TOO_LARGE or LEAL_OK. */
static leal_err args_check(const struct crypto_provider *cp, const uint8_t *key, const uint8_t *v,
                           struct siv_ad_list ad, struct siv_io io)
{
    if (cp == NULL || key == NULL || v == NULL || !ad_ok(ad) ||
        (io.len > 0 && (io.in == NULL || io.out == NULL)))
        return LEAL_E_ARG;
    return io.len > LEAL_MAX_RECORD ? LEAL_E_TOO_LARGE : LEAL_OK;
}

/* RFC 5297 §2.4 S2V with the plaintext (last) as the last component. */
static leal_err s2v(const struct crypto_provider *cp, const uint8_t k1[16], struct siv_ad_list ad,
                    struct siv_ad last, uint8_t v[16])
{
    static const uint8_t zero[16] = {0};
    uint8_t d[16], mac[16], t[LEAL_MAX_RECORD > 16 ? LEAL_MAX_RECORD : 16];
    const uint8_t *pt = last.p;
    size_t len = last.len;
    leal_err err;

    if ((err = cp->aes128_cmac(k1, zero, 16, d)) != LEAL_OK)
        goto out;
    for (size_t i = 0; i < ad.n; i++) {
        if ((err = cp->aes128_cmac(k1, ad.items[i].p, ad.items[i].len, mac)) != LEAL_OK)
            goto out;
        crypto_gf_double(d, d); /* RFC 5297 §2.3 dbl() */
        for (int j = 0; j < 16; j++)
            d[j] ^= mac[j];
    }
    if (len >= 16) {
        /* T = Sn xorend D */
        leal_memcpy(t, pt, len);
        for (int j = 0; j < 16; j++)
            t[len - 16 + (size_t)j] ^= d[j];
        err = cp->aes128_cmac(k1, t, len, v);
    } else {
        /* T = dbl(D) xor pad(Sn) */
        crypto_gf_double(d, d);
        leal_memset(t, 0, 16);
        if (len > 0)
            leal_memcpy(t, pt, len);
        t[len] = 0x80;
        for (int j = 0; j < 16; j++)
            t[j] ^= d[j];
        err = cp->aes128_cmac(k1, t, 16, v);
    }
out:
    leal_wipe(d, sizeof d);
    leal_wipe(mac, sizeof mac);
    leal_wipe(t, sizeof t);
    return err;
}

/* CTR from Q = V with bits 63 and 31 (of the last 64) cleared; 128-bit big-endian counter. */
static leal_err ctr(const struct crypto_provider *cp, const uint8_t k2[16], const uint8_t v[16],
                    struct siv_io io)
{
    const uint8_t *in = io.in;
    uint8_t *out = io.out, q[16], ks[16];
    size_t len = io.len;
    leal_err err = LEAL_OK;

    leal_memcpy(q, v, 16);
    q[8] &= 0x7f;
    q[12] &= 0x7f;
    for (size_t off = 0; off < len; off += 16) {
        size_t n = len - off < 16 ? len - off : 16;
        if ((err = cp->aes128_ecb_encrypt(k2, q, ks)) != LEAL_OK)
            goto out;
        for (size_t j = 0; j < n; j++)
            out[off + j] = in[off + j] ^ ks[j];
        for (int j = 15; j >= 0; j--)
            if (++q[j] != 0)
                break;
    }
out:
    leal_wipe(q, sizeof q);
    leal_wipe(ks, sizeof ks);
    return err;
}

leal_err siv_encrypt(const struct crypto_provider *cp, const uint8_t key[32], struct siv_ad_list ad,
                     struct siv_io pt_to_ct, uint8_t v[16])
{
    uint8_t tag[16];
    leal_err err;

    if ((err = args_check(cp, key, v, ad, pt_to_ct)) != LEAL_OK)
        return err;
    if ((err = s2v(cp, key, ad, (struct siv_ad){pt_to_ct.in, pt_to_ct.len}, tag)) != LEAL_OK)
        goto out;
    if ((err = ctr(cp, key + 16, tag, pt_to_ct)) != LEAL_OK)
        goto out;
    leal_memcpy(v, tag, 16);
out:
    leal_wipe(tag, sizeof tag);
    return err;
}

leal_err siv_decrypt(const struct crypto_provider *cp, const uint8_t key[32], struct siv_ad_list ad,
                     const uint8_t v[16], struct siv_io ct_to_pt)
{
    uint8_t tag[16];
    leal_err err;

    if ((err = args_check(cp, key, v, ad, ct_to_pt)) != LEAL_OK)
        return err;
    if ((err = ctr(cp, key + 16, v, ct_to_pt)) != LEAL_OK)
        goto out;
    if ((err = s2v(cp, key, ad, (struct siv_ad){ct_to_pt.out, ct_to_pt.len}, tag)) != LEAL_OK)
        goto out;
    if (!leal_ct_equal(tag, v, 16))
        err = LEAL_E_MAC;
out:
    if (err != LEAL_OK && ct_to_pt.len > 0 && ct_to_pt.out != NULL)
        leal_wipe(ct_to_pt.out, ct_to_pt.len);
    leal_wipe(tag, sizeof tag);
    return err;
}
