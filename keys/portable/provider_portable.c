/* provider_portable.c - the crypto_provider members over aes.c, sha256.c, ed25519.c. */
#include "provider_portable.h"

#include "../base/bytes.h"
#include "../base/ct.h"
#include "aes.h"
#include "ed25519.h"
#include "sha256.h"

leal_err crypto_portable_aes128_ecb_encrypt(const uint8_t key[16], const uint8_t in[16],
                                            uint8_t out[16])
{
    struct portable_aes128 ks;
    portable_aes128_init(&ks, key);
    portable_aes128_encrypt(&ks, in, out);
    leal_wipe(&ks, sizeof ks);
    return LEAL_OK;
}

leal_err crypto_portable_aes128_ecb_decrypt(const uint8_t key[16], const uint8_t in[16],
                                            uint8_t out[16])
{
    struct portable_aes128 ks;
    portable_aes128_init(&ks, key);
    portable_aes128_decrypt(&ks, in, out);
    leal_wipe(&ks, sizeof ks);
    return LEAL_OK;
}

leal_err crypto_portable_aes128_cbc_encrypt(const uint8_t key[16], uint8_t iv[16],
                                            const uint8_t *in, uint8_t *out, size_t len)
{
    struct portable_aes128 ks;
    if (len % 16 != 0)
        return LEAL_E_ARG;
    portable_aes128_init(&ks, key);
    for (size_t off = 0; off < len; off += 16) {
        for (int i = 0; i < 16; i++)
            iv[i] ^= in[off + (size_t)i];
        portable_aes128_encrypt(&ks, iv, iv);
        leal_memcpy(out + off, iv, 16);
    }
    leal_wipe(&ks, sizeof ks);
    return LEAL_OK;
}

leal_err crypto_portable_aes128_cbc_decrypt(const uint8_t key[16], uint8_t iv[16],
                                            const uint8_t *in, uint8_t *out, size_t len)
{
    struct portable_aes128 ks;
    uint8_t block[16], plain[16];
    if (len % 16 != 0)
        return LEAL_E_ARG;
    portable_aes128_init(&ks, key);
    for (size_t off = 0; off < len; off += 16) {
        leal_memcpy(block, in + off, 16); /* before an in-place write overwrites it */
        portable_aes128_decrypt(&ks, block, plain);
        for (int i = 0; i < 16; i++)
            out[off + (size_t)i] = (uint8_t)(plain[i] ^ iv[i]);
        leal_memcpy(iv, block, 16);
    }
    leal_wipe(&ks, sizeof ks);
    leal_wipe(plain, sizeof plain);
    return LEAL_OK;
}

leal_err crypto_portable_aes128_cmac(const uint8_t key[16], const uint8_t *msg, size_t len,
                                     uint8_t mac[16])
{
    struct portable_aes128 ks;
    uint8_t k1[16], k2[16], x[16] = {0};
    size_t full = len == 0 ? 0 : (len - 1) / 16; /* blocks before the last (RFC 4493 2.4) */
    size_t tail = len - full * 16;

    portable_aes128_init(&ks, key);
    portable_aes128_encrypt(&ks, x, k1); /* L = AES(K, 0) */
    crypto_gf_double(k1, k1);
    crypto_gf_double(k1, k2);
    for (size_t b = 0; b < full; b++) {
        for (int i = 0; i < 16; i++)
            x[i] ^= msg[b * 16 + (size_t)i];
        portable_aes128_encrypt(&ks, x, x);
    }
    for (size_t i = 0; i < tail; i++)
        x[i] ^= msg[full * 16 + i];
    if (tail == 16) {
        for (int i = 0; i < 16; i++)
            x[i] ^= k1[i];
    } else {
        x[tail] ^= 0x80;
        for (int i = 0; i < 16; i++)
            x[i] ^= k2[i];
    }
    portable_aes128_encrypt(&ks, x, mac);
    leal_wipe(&ks, sizeof ks);
    leal_wipe(k1, sizeof k1);
    leal_wipe(k2, sizeof k2);
    leal_wipe(x, sizeof x);
    return LEAL_OK;
}

leal_err crypto_portable_sha256(const uint8_t *msg, size_t len, uint8_t digest[32])
{
    struct portable_sha256 ctx;
    portable_sha256_init(&ctx);
    portable_sha256_update(&ctx, msg, len);
    portable_sha256_final(&ctx, digest);
    return LEAL_OK;
}

leal_err crypto_portable_ed25519_verify(const uint8_t public_key[32], const uint8_t *msg,
                                        size_t len, const uint8_t sig[64])
{
    return portable_ed25519_verify(public_key, msg, len, sig);
}
