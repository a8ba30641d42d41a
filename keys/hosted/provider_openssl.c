/* provider_openssl.c - crypto_provider over OpenSSL 3 EVP. */
#include "provider_openssl.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "../base/ct.h"

static crypto_openssl_reporter reporter;

void crypto_openssl_set_reporter(crypto_openssl_reporter report)
{
    reporter = report;
}

leal_err crypto_openssl_error(leal_err err, const char *what)
{
    char text[512];
    size_t n = 0;
    unsigned long e;
    text[0] = '\0';
    /* Every queued error, oldest (the cause) first; the queue ends empty. */
    while ((e = ERR_get_error()) != 0) {
        if (n > 0 && n + 2 < sizeof text) {
            memcpy(text + n, "; ", 3);
            n += 2;
        }
        if (n + 1 < sizeof text) {
            ERR_error_string_n(e, text + n, sizeof text - n);
            n = strlen(text);
        }
    }
    return reporter ? reporter(err, "openssl", what, text) : err;
}

/* AES-128 in ECB and CBC mode, fetched once when the provider is set up
 * (crypto_openssl): the EVP_aes_128_*() objects make every EVP_CipherInit
 * look the algorithm up again by name (about 1.4 us a call against 0.5 us
 * fetched; a desk card read makes 26 calls). Never freed, as OpenSSL's own
 * tables are not (crypto_openssl); they hold no key. */
static EVP_CIPHER *aes_ecb, *aes_cbc;

static const EVP_CIPHER *aes128_ecb(void)
{
    return aes_ecb ? aes_ecb : EVP_aes_128_ecb();
}

static const EVP_CIPHER *aes128_cbc(void)
{
    return aes_cbc ? aes_cbc : EVP_aes_128_cbc();
}

/* The bytes one call enciphers or deciphers: len bytes from in to out. */
struct cipher_io {
    const uint8_t *in;
    uint8_t *out;
    size_t len;
};

static leal_err cipher(const EVP_CIPHER *c, int enc, const uint8_t key[16], const uint8_t *iv,
                       const struct cipher_io *io)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const uint8_t *in = io->in;
    uint8_t *out = io->out;
    size_t len = io->len;
    int outl = 0, finl = 0;
    leal_err err = LEAL_E_CRYPTO;

    if (ctx == NULL || len > INT_MAX)
        goto out;
    if (EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 ||
        EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1 || (size_t)(outl + finl) != len)
        goto out;
    err = LEAL_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return err == LEAL_OK ? err : crypto_openssl_error(err, "AES (EVP_Cipher)");
}

static leal_err ecb_encrypt(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    return cipher(aes128_ecb(), 1, key, NULL, &(struct cipher_io){in, out, 16});
}

static leal_err ecb_decrypt(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    return cipher(aes128_ecb(), 0, key, NULL, &(struct cipher_io){in, out, 16});
}

static leal_err cbc_encrypt(const uint8_t key[16], uint8_t iv[16], const uint8_t *in, uint8_t *out,
                            size_t len)
{
    leal_err err;
    if (len % 16 != 0)
        return LEAL_E_ARG;
    if (len == 0)
        return LEAL_OK;
    err = cipher(aes128_cbc(), 1, key, iv, &(struct cipher_io){in, out, len});
    if (err == LEAL_OK)
        memcpy(iv, out + len - 16, 16);
    return err;
}

static leal_err cbc_decrypt(const uint8_t key[16], uint8_t iv[16], const uint8_t *in, uint8_t *out,
                            size_t len)
{
    uint8_t next_iv[16];
    leal_err err;
    if (len % 16 != 0)
        return LEAL_E_ARG;
    if (len == 0)
        return LEAL_OK;
    memcpy(next_iv, in + len - 16, 16); /* before in-place decryption overwrites it */
    err = cipher(aes128_cbc(), 0, key, iv, &(struct cipher_io){in, out, len});
    if (err == LEAL_OK)
        memcpy(iv, next_iv, 16);
    return err;
}

/* CMAC over AES-128-CBC set up once (crypto_openssl) under an all-zero key
 * (OpenSSL copies only a keyed CMAC context): each call copies it and keys
 * the copy. Fetching "CMAC" and naming its cipher at every call looked both
 * up again by name, once per entry of a journal import. Holds no secret;
 * never freed, as aes_ecb. */
static EVP_MAC_CTX *cmac_blank;
/* SHA-256 fetched once: EVP_sha256() makes every EVP_Digest fetch it by name. */
static EVP_MD *sha256_md;

static EVP_MAC_CTX *cmac_ctx(const uint8_t key[16])
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
    if (cmac_blank != NULL) {
        ctx = EVP_MAC_CTX_dup(cmac_blank);
        if (ctx != NULL && EVP_MAC_init(ctx, key, 16, NULL) != 1) {
            EVP_MAC_CTX_free(ctx);
            ctx = NULL;
        }
        return ctx;
    }
    mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (ctx != NULL && EVP_MAC_init(ctx, key, 16, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static leal_err cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t out[16])
{
    EVP_MAC_CTX *ctx = cmac_ctx(key);
    size_t outl = 0;
    leal_err err = LEAL_E_CRYPTO;

    if (ctx == NULL || EVP_MAC_update(ctx, msg, len) != 1 ||
        EVP_MAC_final(ctx, out, &outl, 16) != 1 || outl != 16)
        goto out;
    err = LEAL_OK;
out:
    EVP_MAC_CTX_free(ctx);
    return err == LEAL_OK ? err : crypto_openssl_error(err, "AES-CMAC (EVP_MAC)");
}

static leal_err sha256(const uint8_t *msg, size_t len, uint8_t digest[32])
{
    unsigned int outl = 0;
    if (EVP_Digest(msg, len, digest, &outl, sha256_md ? sha256_md : EVP_sha256(), NULL) != 1 ||
        outl != 32)
        return crypto_openssl_error(LEAL_E_CRYPTO, "SHA-256 (EVP_Digest)");
    return LEAL_OK;
}

static leal_err ed25519_verify(const uint8_t public_key[32], const uint8_t *msg, size_t len,
                               const uint8_t sig[64])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    leal_err err = LEAL_E_CRYPTO;
    int r;

    if (pk == NULL) {
        err = LEAL_E_SIGNATURE; /* not a valid point: no signature can verify */
        goto out;
    }
    if (ctx == NULL || EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pk, NULL) != 1)
        goto out;
    r = EVP_DigestVerify(ctx, sig, 64, msg, len);
    err = r == 1 ? LEAL_OK : r == 0 ? LEAL_E_SIGNATURE : LEAL_E_CRYPTO;
    /* OpenSSL reports some malformed signatures as errors (-1): still "does not verify". */
    if (err == LEAL_E_CRYPTO)
        err = LEAL_E_SIGNATURE;
out:
    /* A signature that does not verify leaves nothing queued; anything queued is told. */
    if (ERR_peek_error() != 0)
        (void)crypto_openssl_error(err, "Ed25519 verify (EVP_DigestVerify)");
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return err;
}

static leal_err random_bytes(uint8_t *out, size_t n)
{
    if (n > INT_MAX || RAND_bytes(out, (int)n) != 1)
        return crypto_openssl_error(LEAL_E_RANDOM, "RAND_bytes");
    return LEAL_OK;
}

static const struct crypto_provider openssl_provider = {
    .name = "openssl",
    .aes128_ecb_encrypt = ecb_encrypt,
    .aes128_ecb_decrypt = ecb_decrypt,
    .aes128_cbc_encrypt = cbc_encrypt,
    .aes128_cbc_decrypt = cbc_decrypt,
    .aes128_cmac = cmac,
    .sha256 = sha256,
    .ed25519_verify = ed25519_verify,
    .random = random_bytes,
};

/* cmac_blank: CMAC with its cipher named, under the all-zero key (NULL
 * without a default provider: each call then fetches as before). */
static EVP_MAC_CTX *cmac_blank_new(void)
{
    static const uint8_t zero[16];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    if (ctx != NULL && EVP_MAC_init(ctx, zero, sizeof zero, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

const struct crypto_provider *crypto_openssl(void)
{
    static bool initialised;
    /* No OPENSSL_cleanup at exit: it frees every algorithm and name table
     * OpenSSL built (6 % of a desk card read's instructions, measured with
     * callgrind) for a process that is ending anyway. It holds no key: the
     * contexts that held one are freed, wiped, where they were used. Only the
     * first initialisation decides, so this comes before any other use. */
    if (!initialised) {
        (void)OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
        /* Without them (no default provider), each call looks up as before. */
        aes_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
        aes_cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
        sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
        cmac_blank = cmac_blank_new();
        if (aes_ecb == NULL || aes_cbc == NULL || sha256_md == NULL || cmac_blank == NULL)
            ERR_clear_error();
        initialised = true;
    }
    return &openssl_provider;
}

leal_err crypto_openssl_ed25519_public(const uint8_t seed[32], uint8_t public_key[32])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    size_t len = 32;
    leal_err err = LEAL_E_CRYPTO;
    if (pk && EVP_PKEY_get_raw_public_key(pk, public_key, &len) == 1 && len == 32)
        err = LEAL_OK;
    EVP_PKEY_free(pk);
    return err == LEAL_OK ? err : crypto_openssl_error(err, "Ed25519 public key (EVP_PKEY)");
}

leal_err crypto_openssl_ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t len,
                                     uint8_t sig[64])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = 64;
    leal_err err = LEAL_E_CRYPTO;
    if (pk && ctx && EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, pk, NULL) == 1 &&
        EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == 64)
        err = LEAL_OK;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return err == LEAL_OK ? err : crypto_openssl_error(err, "Ed25519 sign (EVP_DigestSign)");
}
