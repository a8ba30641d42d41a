/* keystore.c - scrypt + AES-256-GCM container (see keystore.h for the format). */
#include "keystore.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "../base/buf.h"
#include "../base/ct.h"
#include "../base/limits.h"
#include "provider_openssl.h"
#include "secmem.h"

#define FORMAT_VERSION 1
#define KDF_SCRYPT 1
#define SALT_LEN 16
#define NONCE_LEN 12

struct header {
    uint8_t kind;
    uint8_t version;
    struct keystore_kdf kdf;
    uint8_t salt[SALT_LEN];
    uint8_t nonce[NONCE_LEN];
    uint32_t length;
};

/* Format 1's parameters: r and p leal's, N from 2^KEYSTORE_LOG2N_MIN to the
 * default's. Anything else in a header is a crafted or damaged file, refused
 * before any scrypt work (N = 2^22, p = 4 would cost 4 GiB and a minute and
 * a half per open); none costs more than the default. */
static leal_err kdf_bounds(struct keystore_kdf k)
{
    const struct keystore_kdf d = KEYSTORE_KDF_DEFAULT;
    if (k.log2_n < KEYSTORE_LOG2N_MIN || k.log2_n > d.log2_n || k.r != d.r || k.p != d.p)
        return LEAL_E_KEYSTORE_CORRUPT;
    return LEAL_OK;
}

leal_err keystore_kdf_for(unsigned log2_n, struct keystore_kdf *kdf)
{
    struct keystore_kdf k = KEYSTORE_KDF_DEFAULT;
    if (log2_n < KEYSTORE_LOG2N_MIN || log2_n > k.log2_n)
        return LEAL_E_ARG;
    k.log2_n = (uint8_t)log2_n;
    *kdf = k;
    return LEAL_OK;
}

static leal_err derive(struct keystore_pass pass, struct keystore_kdf k,
                       const uint8_t salt[SALT_LEN], uint8_t key[32])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    uint64_t n = (uint64_t)1 << k.log2_n;
    uint32_t r = k.r, p = k.p;
    uint64_t maxmem = 2 * 128 * (uint64_t)r * n + (1u << 20);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass.text, pass.len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, SALT_LEN),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    leal_err err = LEAL_OK;
    if (ctx == NULL || EVP_KDF_derive(ctx, key, 32, params) != 1)
        err = crypto_openssl_error(LEAL_E_CRYPTO, "scrypt (EVP_KDF_derive)");
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return err;
}

static leal_err put_header(const struct header *h, uint8_t out[KEYSTORE_HEADER_LEN])
{
    struct buf_writer w;
    leal_err err;
    buf_writer_init(&w, out, KEYSTORE_HEADER_LEN);
    if ((err = buf_put_bytes(&w, (const uint8_t *)"LEAL", 4)) != LEAL_OK ||
        (err = buf_put_u8(&w, h->kind)) != LEAL_OK ||
        (err = buf_put_u8(&w, h->version)) != LEAL_OK || (err = buf_put_be16(&w, 0)) != LEAL_OK ||
        (err = buf_put_u8(&w, KDF_SCRYPT)) != LEAL_OK ||
        (err = buf_put_u8(&w, h->kdf.log2_n)) != LEAL_OK ||
        (err = buf_put_u8(&w, h->kdf.r)) != LEAL_OK ||
        (err = buf_put_u8(&w, h->kdf.p)) != LEAL_OK ||
        (err = buf_put_bytes(&w, h->salt, SALT_LEN)) != LEAL_OK ||
        (err = buf_put_bytes(&w, h->nonce, NONCE_LEN)) != LEAL_OK ||
        (err = buf_put_be32(&w, h->length)) != LEAL_OK)
        return err;
    return buf_writer_len(&w) == KEYSTORE_HEADER_LEN ? LEAL_OK : LEAL_E_INTERNAL;
}

/* Parses and bounds-checks the header; the ciphertext and tag must follow exactly. */
static leal_err get_header(enum keystore_kind kind, const uint8_t *in, size_t len, struct header *h)
{
    struct buf_reader r;
    uint8_t magic[4], kdf_id;
    uint16_t reserved;
    leal_err err;

    buf_reader_init(&r, in, len);
    if (buf_get_bytes(&r, magic, 4) != LEAL_OK || memcmp(magic, "LEAL", 4) != 0 ||
        buf_get_u8(&r, &h->kind) != LEAL_OK)
        return LEAL_E_FORMAT;
    if (h->kind != kind)
        return LEAL_E_FORMAT;
    if (buf_get_u8(&r, &h->version) != LEAL_OK)
        return LEAL_E_KEYSTORE_CORRUPT;
    if (h->version > FORMAT_VERSION)
        return LEAL_E_KEYSTORE_VERSION;
    if (h->version != FORMAT_VERSION)
        return LEAL_E_KEYSTORE_CORRUPT;
    if (buf_get_be16(&r, &reserved) != LEAL_OK || buf_get_u8(&r, &kdf_id) != LEAL_OK ||
        buf_get_u8(&r, &h->kdf.log2_n) != LEAL_OK || buf_get_u8(&r, &h->kdf.r) != LEAL_OK ||
        buf_get_u8(&r, &h->kdf.p) != LEAL_OK || buf_get_bytes(&r, h->salt, SALT_LEN) != LEAL_OK ||
        buf_get_bytes(&r, h->nonce, NONCE_LEN) != LEAL_OK ||
        buf_get_be32(&r, &h->length) != LEAL_OK)
        return LEAL_E_KEYSTORE_CORRUPT;
    if (reserved != 0 || kdf_id != KDF_SCRYPT)
        return LEAL_E_KEYSTORE_CORRUPT;
    if ((err = kdf_bounds(h->kdf)) != LEAL_OK)
        return err;
    if ((size_t)h->length + KEYSTORE_TAG_LEN != buf_remaining(&r) ||
        h->length > LEAL_MAX_KEYSTORE_FILE)
        return LEAL_E_KEYSTORE_CORRUPT;
    return LEAL_OK;
}

/* What one sealing or opening works on: the header as associated data, and
 * len bytes from in to out. */
struct gcm_io {
    const uint8_t *aad;
    size_t aad_len;
    const uint8_t *in;
    size_t len;
    uint8_t *out;
};

static leal_err gcm(int enc, const uint8_t key[32], const uint8_t nonce[NONCE_LEN],
                    const struct gcm_io *io, uint8_t tag[KEYSTORE_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const uint8_t *aad = io->aad, *in = io->in;
    size_t aad_len = io->aad_len, len = io->len;
    uint8_t *out = io->out;
    int outl = 0, finl = 0;
    leal_err err = LEAL_E_CRYPTO;

    if (ctx == NULL || len > INT32_MAX || aad_len > INT32_MAX)
        goto out;
    if (EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, enc, NULL) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1 ||
        EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KEYSTORE_TAG_LEN, (void *)tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1) {
        /* Decryption: the tag did not match. */
        err = enc ? LEAL_E_CRYPTO : LEAL_E_PASSPHRASE;
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KEYSTORE_TAG_LEN, tag) != 1)
        goto out;
    err = LEAL_OK;
out:
    /* A wrong passphrase is told by its own error; OpenSSL's text adds nothing. */
    if (err == LEAL_E_CRYPTO)
        (void)crypto_openssl_error(err, "AES-256-GCM (EVP_Cipher)");
    ERR_clear_error();
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

leal_err keystore_seal(enum keystore_kind kind, struct keystore_pass pass, struct keystore_kdf kdf,
                       struct keystore_bytes plain, uint8_t **out, size_t *out_len)
{
    struct header h = {.kind = (uint8_t)kind, .version = FORMAT_VERSION, .kdf = kdf};
    uint8_t key[32];
    uint8_t *buf = NULL;
    size_t total;
    leal_err err;

    *out = NULL;
    *out_len = 0;
    if ((err = kdf_bounds(kdf)) != LEAL_OK)
        return LEAL_E_ARG;
    if (plain.len > LEAL_MAX_KEYSTORE_FILE)
        return LEAL_E_TOO_LARGE;
    h.length = (uint32_t)plain.len;
    if (RAND_bytes(h.salt, SALT_LEN) != 1 || RAND_bytes(h.nonce, NONCE_LEN) != 1)
        return crypto_openssl_error(LEAL_E_RANDOM, "RAND_bytes");
    total = KEYSTORE_HEADER_LEN + plain.len + KEYSTORE_TAG_LEN;
    if ((buf = secmem_alloc(total)) == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = put_header(&h, buf)) != LEAL_OK ||
        (err = derive(pass, kdf, h.salt, key)) != LEAL_OK ||
        (err = gcm(1, key, h.nonce,
                   &(struct gcm_io){buf, KEYSTORE_HEADER_LEN, plain.p, plain.len,
                                    buf + KEYSTORE_HEADER_LEN},
                   buf + KEYSTORE_HEADER_LEN + plain.len)) != LEAL_OK)
        goto out;
    *out = buf;
    *out_len = total;
    buf = NULL;
out:
    leal_wipe(key, sizeof key);
    keystore_free(buf, total);
    return err;
}

leal_err keystore_peek(enum keystore_kind kind, const uint8_t *in, size_t len)
{
    struct header h;
    return get_header(kind, in, len, &h);
}

leal_err keystore_open(enum keystore_kind kind, struct keystore_pass pass,
                       struct keystore_bytes sealed, uint8_t **plain, size_t *plain_len)
{
    const uint8_t *in = sealed.p;
    struct header h;
    uint8_t key[32], tag[KEYSTORE_TAG_LEN];
    uint8_t *buf = NULL;
    leal_err err;

    *plain = NULL;
    *plain_len = 0;
    if ((err = get_header(kind, in, sealed.len, &h)) != LEAL_OK)
        return err;
    if ((buf = secmem_alloc(h.length ? h.length : 1)) == NULL)
        return LEAL_E_NO_MEMORY;
    memcpy(tag, in + KEYSTORE_HEADER_LEN + h.length, KEYSTORE_TAG_LEN);
    if ((err = derive(pass, h.kdf, h.salt, key)) != LEAL_OK ||
        (err =
             gcm(0, key, h.nonce,
                 &(struct gcm_io){in, KEYSTORE_HEADER_LEN, in + KEYSTORE_HEADER_LEN, h.length, buf},
                 tag)) != LEAL_OK)
        goto out;
    *plain = buf;
    *plain_len = h.length;
    buf = NULL;
out:
    leal_wipe(key, sizeof key);
    keystore_free(buf, h.length);
    return err;
}

void keystore_free(uint8_t *p, size_t len)
{
    if (p == NULL)
        return;
    leal_wipe(p, len);
    secmem_free(p);
}
