/*
 * desfire_sim_crypto.c - the virtual DESFire's ciphers: AES-128 through the
 * OpenSSL provider, (3)DES through keys/hosted/des.h; CBC built from single
 * blocks as the card chains them, CMAC for 64- and 128-bit blocks, and the
 * CRCs of DESFire (CRC32 of EV1, CRC16 of ISO 14443-A for D40 legacy); and
 * the originality signature an EV2/EV3 is given at production.
 */
#include "desfire_sim.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keys/base/ct.h"
#include "keys/hosted/des.h"
#include "keys/hosted/provider_openssl.h"

size_t df_key_len(int keytype)
{
    return keytype == DF_KEY_3K3DES ? 24 : 16;
}

/* DES-family keys carry their version in the parity bits of the first 8 bytes
 * (as libfreefare's mifare_desfire_key_get_version reads it). */
uint8_t df_key_version(int keytype, const struct df_key *k)
{
    uint8_t v = 0;
    if (keytype == DF_KEY_AES)
        return k->version;
    for (int i = 0; i < 8; i++)
        v = (uint8_t)(v | (k->k[i] & 1) << (7 - i));
    return v;
}

leal_err df_cipher_set(struct df_cipher *c, int keytype, const uint8_t *key, size_t key_len)
{
    memset(c, 0, sizeof *c);
    if (key_len > sizeof c->key)
        return LEAL_E_ARG;
    if (keytype == DF_KEY_AES) {
        if (key_len != 16)
            return LEAL_E_ARG;
        c->aes = true;
        c->bs = 16;
    } else {
        if (key_len != 8 && key_len != 16 && key_len != 24)
            return LEAL_E_ARG;
        c->bs = 8;
    }
    memcpy(c->key, key, key_len);
    c->key_len = key_len;
    return LEAL_OK;
}

leal_err df_ecb(const struct df_cipher *c, bool enc, const uint8_t *in, uint8_t *out)
{
    if (c->aes)
        return enc ? crypto_openssl()->aes128_ecb_encrypt(c->key, in, out)
                   : crypto_openssl()->aes128_ecb_decrypt(c->key, in, out);
    return enc ? des_ecb_encrypt(c->key, c->key_len, in, out)
               : des_ecb_decrypt(c->key, c->key_len, in, out);
}

leal_err df_cbc_encrypt(const struct df_cipher *c, uint8_t *iv, const uint8_t *in, uint8_t *out,
                        size_t len)
{
    uint8_t x[16];
    leal_err err = LEAL_OK;
    if (len % c->bs != 0)
        return LEAL_E_ARG;
    for (size_t off = 0; off < len; off += c->bs) {
        for (size_t i = 0; i < c->bs; i++)
            x[i] = in[off + i] ^ iv[i];
        if ((err = df_ecb(c, true, x, out + off)) != LEAL_OK)
            break;
        memcpy(iv, out + off, c->bs);
    }
    leal_wipe(x, sizeof x);
    return err;
}

leal_err df_cbc_decrypt(const struct df_cipher *c, uint8_t *iv, const uint8_t *in, uint8_t *out,
                        size_t len)
{
    uint8_t x[16], next[16];
    leal_err err = LEAL_OK;
    if (len % c->bs != 0)
        return LEAL_E_ARG;
    for (size_t off = 0; off < len; off += c->bs) {
        memcpy(next, in + off, c->bs);
        if ((err = df_ecb(c, false, in + off, x)) != LEAL_OK)
            break;
        for (size_t i = 0; i < c->bs; i++)
            out[off + i] = x[i] ^ iv[i];
        memcpy(iv, next, c->bs);
    }
    leal_wipe(x, sizeof x);
    return err;
}

static void dbl(const uint8_t *in, uint8_t *out, size_t bs)
{
    uint8_t msb = in[0] >> 7;
    for (size_t i = 0; i + 1 < bs; i++)
        out[i] = (uint8_t)(in[i] << 1 | in[i + 1] >> 7);
    out[bs - 1] = (uint8_t)(in[bs - 1] << 1);
    out[bs - 1] ^= (uint8_t)((bs == 16 ? 0x87 : 0x1B) & (uint8_t)(0u - msb));
}

leal_err df_cmac(const struct df_cipher *c, uint8_t *iv, const uint8_t *msg, size_t len,
                 uint8_t *mac)
{
    uint8_t l[16] = {0}, k1[16], k2[16], x[16], last[16];
    size_t bs = c->bs;
    size_t full = len == 0 ? 0 : (len - 1) / bs;
    size_t tail = len - full * bs;
    leal_err err;

    if ((err = df_ecb(c, true, l, l)) != LEAL_OK)
        goto out;
    dbl(l, k1, bs);
    dbl(k1, k2, bs);
    memcpy(x, iv, bs);
    for (size_t b = 0; b < full; b++) {
        for (size_t i = 0; i < bs; i++)
            x[i] ^= msg[b * bs + i];
        if ((err = df_ecb(c, true, x, x)) != LEAL_OK)
            goto out;
    }
    memset(last, 0, sizeof last);
    if (tail)
        memcpy(last, msg + full * bs, tail);
    if (tail == bs) {
        for (size_t i = 0; i < bs; i++)
            last[i] ^= k1[i];
    } else {
        last[tail] = 0x80;
        for (size_t i = 0; i < bs; i++)
            last[i] ^= k2[i];
    }
    for (size_t i = 0; i < bs; i++)
        x[i] ^= last[i];
    if ((err = df_ecb(c, true, x, x)) != LEAL_OK)
        goto out;
    memcpy(iv, x, bs);
    memcpy(mac, x, bs);
out:
    leal_wipe(l, sizeof l);
    leal_wipe(k1, sizeof k1);
    leal_wipe(k2, sizeof k2);
    leal_wipe(x, sizeof x);
    return err;
}

/* CRC32 as DESFire EV1 uses it: IEEE 802.3 polynomial (reflected EDB88320),
 * preset FFFFFFFF, no final inversion. */
uint32_t df_crc32(const uint8_t *p, size_t n, uint32_t crc)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return crc;
}

/* CRC_A of ISO/IEC 14443-3 (preset 6363, reflected 8408), as D40 legacy uses. */
uint16_t df_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0x6363;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)(p[i] ^ (crc & 0xFF));
        b = (uint8_t)(b ^ (b << 4));
        crc = (uint16_t)((crc >> 8) ^ ((uint16_t)b << 8) ^ ((uint16_t)b << 3) ^ (b >> 4));
    }
    return crc;
}

/* ------------------------------------------------- originality signature */

leal_err df_sign_originality(struct df_state *st, const char *pem_path)
{
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    ECDSA_SIG *es = NULL;
    const BIGNUM *r, *s;
    const unsigned char *p;
    unsigned char der[128];
    size_t der_len = sizeof der;
    char group[32];
    leal_err err = LEAL_E_FORMAT;

    if (st->personality == DF_EV1)
        return LEAL_E_UNSUPPORTED;
    if ((bio = BIO_new_file(pem_path, "r")) == NULL) {
        err = LEAL_E_IO;
        goto out;
    }
    if ((key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) != 1 ||
        strcmp(group, "secp224r1") != 0)
        goto out;
    err = LEAL_E_CRYPTO;
    /* As NXP signs: ECDSA over the 7-byte UID itself, no hash. */
    if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL || EVP_PKEY_sign_init(ctx) <= 0 ||
        EVP_PKEY_sign(ctx, der, &der_len, st->uid, 7) <= 0)
        goto out;
    p = der;
    if ((es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, st->sig, DF_SIG_LEN / 2) != DF_SIG_LEN / 2 ||
        BN_bn2binpad(s, st->sig + DF_SIG_LEN / 2, DF_SIG_LEN / 2) != DF_SIG_LEN / 2)
        goto out;
    st->has_sig = true;
    err = LEAL_OK;
out:
    ERR_clear_error();
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return err;
}
