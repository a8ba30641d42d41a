/* fuzz_portable_diff.c - the portable provider (keys/portable/) against the
 * OpenSSL provider on the fuzzer's bytes: byte 0 % 8 picks the function, then
 * a 16-byte key, a 16-byte IV and the message (CBC keeps whole blocks). For
 * Ed25519 (6) key || IV is a seed OpenSSL signs the message with, and byte
 * 0 / 8 flips one bit of signature, key or message (0: none); (7) verifies
 * the raw bytes as public key, signature and message. Any difference in
 * output, IV or answer is a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "keys/crypto.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"
#include "keys/portable/sha512.h"

#define MAX_MSG 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const void *a, const void *b, size_t n)
{
    if (memcmp(a, b, n) != 0)
        __builtin_trap();
}

static void cbc(const uint8_t key[16], const uint8_t iv[16], const uint8_t *msg, size_t len,
                int enc)
{
    static uint8_t a[MAX_MSG], b[MAX_MSG];
    uint8_t iva[16], ivb[16];
    const struct crypto_provider *ossl = crypto_openssl();
    leal_err ea, eb;
    len -= len % 16;
    memcpy(iva, iv, 16);
    memcpy(ivb, iv, 16);
    ea = (enc ? crypto_portable_aes128_cbc_encrypt
              : crypto_portable_aes128_cbc_decrypt)(key, iva, msg, a, len);
    eb = (enc ? ossl->aes128_cbc_encrypt : ossl->aes128_cbc_decrypt)(key, ivb, msg, b, len);
    if (ea != LEAL_OK || eb != LEAL_OK)
        __builtin_trap();
    same(a, b, len);
    same(iva, ivb, 16);
}

/* OpenSSL signs msg under seed; one bit of sig || pk || msg flipped (or none). */
static void ed25519_signed(const uint8_t seed[32], const uint8_t *msg, size_t len, unsigned flip)
{
    static uint8_t buf[96 + MAX_MSG];
    uint8_t *sig = buf, *pk = buf + 64, *m = buf + 96;
    leal_err ea, eb;
    if (crypto_openssl_ed25519_public(seed, pk) != LEAL_OK ||
        crypto_openssl_ed25519_sign(seed, msg, len, sig) != LEAL_OK)
        __builtin_trap();
    memcpy(m, msg, len);
    if (flip > 0) {
        size_t bit = ((size_t)flip * 2654435761u + len) % (8 * (96 + len));
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    ea = crypto_portable_ed25519_verify(pk, m, len, sig);
    eb = crypto_openssl()->ed25519_verify(pk, m, len, sig);
    if (ea != eb || (flip == 0 && ea != LEAL_OK))
        __builtin_trap();
}

static void ed25519_raw(const uint8_t *data, size_t size)
{
    uint8_t pk[32] = {0}, sig[64] = {0};
    size_t len = size > 97 ? size - 97 : 0;
    memcpy(pk, data + 1, size > 33 ? 32 : size - 1);
    if (size > 33)
        memcpy(sig, data + 33, size > 97 ? 64 : size - 33);
    if (len > MAX_MSG)
        len = MAX_MSG;
    if (crypto_portable_ed25519_verify(pk, data + 97, len, sig) !=
        crypto_openssl()->ed25519_verify(pk, data + 97, len, sig))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct crypto_provider *ossl = crypto_openssl();
    uint8_t key[16] = {0}, iv[16] = {0}, a[64], b[64];
    const uint8_t *msg = data + 33;
    size_t len = size > 33 ? size - 33 : 0;
    unsigned int blen = 0;
    if (size == 0)
        return 0;
    memcpy(key, data + 1, size > 17 ? 16 : size - 1);
    if (size > 17)
        memcpy(iv, data + 17, size > 33 ? 16 : size - 17);
    if (len > MAX_MSG)
        len = MAX_MSG;
    switch (data[0] % 8) {
    case 0:
        if (crypto_portable_aes128_ecb_encrypt(key, iv, a) != LEAL_OK ||
            ossl->aes128_ecb_encrypt(key, iv, b) != LEAL_OK)
            __builtin_trap();
        same(a, b, 16);
        if (crypto_portable_aes128_ecb_decrypt(key, iv, a) != LEAL_OK ||
            ossl->aes128_ecb_decrypt(key, iv, b) != LEAL_OK)
            __builtin_trap();
        same(a, b, 16);
        break;
    case 1:
    case 2:
        cbc(key, iv, msg, len, data[0] % 8 == 1);
        break;
    case 3:
        if (crypto_portable_aes128_cmac(key, msg, len, a) != LEAL_OK ||
            ossl->aes128_cmac(key, msg, len, b) != LEAL_OK)
            __builtin_trap();
        same(a, b, 16);
        break;
    case 4:
        if (crypto_portable_sha256(msg, len, a) != LEAL_OK || ossl->sha256(msg, len, b) != LEAL_OK)
            __builtin_trap();
        same(a, b, 32);
        break;
    case 5:
        portable_sha512(msg, len, a);
        if (EVP_Digest(msg, len, b, &blen, EVP_sha512(), NULL) != 1 || blen != 64)
            __builtin_trap();
        same(a, b, 64);
        break;
    case 6: {
        uint8_t seed[32];
        memcpy(seed, key, 16);
        memcpy(seed + 16, iv, 16);
        ed25519_signed(seed, msg, len, data[0] / 8u);
        break;
    }
    default:
        ed25519_raw(data, size);
        break;
    }
    return 0;
}
