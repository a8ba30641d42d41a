/* des.c - DES/3DES on OpenSSL's default provider (DES-EDE3 with expanded keys). */
#include "des.h"

#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "keys/base/ct.h"
#include "provider_openssl.h"

/* Single DES = EDE3 with K K K; 2-key = K1 K2 K1 (SP 800-67 keying options). */
static leal_err expand(const uint8_t *key, size_t key_len, uint8_t k3[24])
{
    if (key == NULL)
        return LEAL_E_ARG;
    switch (key_len) {
    case 8:
        memcpy(k3, key, 8);
        memcpy(k3 + 8, key, 8);
        memcpy(k3 + 16, key, 8);
        return LEAL_OK;
    case 16:
        memcpy(k3, key, 16);
        memcpy(k3 + 16, key, 8);
        return LEAL_OK;
    case 24:
        memcpy(k3, key, 24);
        return LEAL_OK;
    default:
        return LEAL_E_ARG;
    }
}

/* The bytes one call enciphers or deciphers: len bytes from in to out. */
struct des_io {
    const uint8_t *in;
    uint8_t *out;
    size_t len;
};

static leal_err run(const EVP_CIPHER *c, int enc, const uint8_t *key, size_t key_len,
                    const uint8_t *iv, const struct des_io *io)
{
    EVP_CIPHER_CTX *ctx = NULL;
    const uint8_t *in = io->in;
    uint8_t *out = io->out, k3[24];
    size_t len = io->len;
    int outl = 0, finl = 0;
    leal_err err;

    if ((err = expand(key, key_len, k3)) != LEAL_OK)
        return err;
    err = LEAL_E_CRYPTO;
    if (len % DES_BLOCK != 0 || len > INT_MAX) {
        err = LEAL_E_ARG;
        goto out;
    }
    if (len == 0) {
        err = LEAL_OK;
        goto out;
    }
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    if (EVP_CipherInit_ex2(ctx, c, k3, iv, enc, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 ||
        EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1 || (size_t)(outl + finl) != len)
        goto out;
    err = LEAL_OK;
out:
    if (err == LEAL_E_CRYPTO)
        (void)crypto_openssl_error(err, "DES (EVP_Cipher)");
    EVP_CIPHER_CTX_free(ctx);
    leal_wipe(k3, sizeof k3);
    return err;
}

leal_err des_ecb_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[8], uint8_t out[8])
{
    return run(EVP_des_ede3_ecb(), 1, key, key_len, NULL, &(struct des_io){in, out, 8});
}

leal_err des_ecb_decrypt(const uint8_t *key, size_t key_len, const uint8_t in[8], uint8_t out[8])
{
    return run(EVP_des_ede3_ecb(), 0, key, key_len, NULL, &(struct des_io){in, out, 8});
}

leal_err des_cbc_encrypt(const uint8_t *key, size_t key_len, uint8_t iv[8], const uint8_t *in,
                         uint8_t *out, size_t len)
{
    leal_err err = run(EVP_des_ede3_cbc(), 1, key, key_len, iv, &(struct des_io){in, out, len});
    if (err == LEAL_OK && len > 0)
        memcpy(iv, out + len - 8, 8);
    return err;
}

leal_err des_cbc_decrypt(const uint8_t *key, size_t key_len, uint8_t iv[8], const uint8_t *in,
                         uint8_t *out, size_t len)
{
    uint8_t next[8];
    leal_err err;
    if (len % DES_BLOCK != 0)
        return LEAL_E_ARG;
    if (len > 0)
        memcpy(next, in + len - 8, 8); /* in and out may alias */
    err = run(EVP_des_ede3_cbc(), 0, key, key_len, iv, &(struct des_io){in, out, len});
    if (err == LEAL_OK && len > 0)
        memcpy(iv, next, 8);
    return err;
}
