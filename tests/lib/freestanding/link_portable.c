/*
 * link_portable.c - linked, never run, by link_portable.sh: a program that
 * calls every function of the portable crypto provider (keys/portable/) and
 * is linked with -nostdlib against keys/, keys/base/ and keys/portable/
 * objects built freestanding. Any use of the C library there (malloc, stdio,
 * ...) is an undefined symbol here. The memory functions a C compiler may
 * call by itself come from mem.c, as a bare-metal port gives them.
 */
#include <stddef.h>
#include <stdint.h>

#include "keys/portable/provider_portable.h"
#include "keys/portable/sha512.h"

void portable_link_start(void);

volatile unsigned portable_link_result;

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out, (void)n;
    return LEAL_E_RANDOM;
}

/* The table as a port declares it: const, in read-only memory. */
static const struct crypto_provider portable = CRYPTO_PORTABLE_PROVIDER(no_random);

void portable_link_start(void)
{
    static const uint8_t key[16] = {1, 2, 3};
    uint8_t iv[16] = {0}, buf[32] = {0}, digest[64];
    unsigned bad = 0;
    bad |= crypto_portable_aes128_ecb_encrypt(key, buf, buf) != LEAL_OK;
    bad |= crypto_portable_aes128_ecb_decrypt(key, buf, buf) != LEAL_OK;
    bad |= crypto_portable_aes128_cbc_encrypt(key, iv, buf, buf, sizeof buf) != LEAL_OK;
    bad |= crypto_portable_aes128_cbc_decrypt(key, iv, buf, buf, sizeof buf) != LEAL_OK;
    bad |= crypto_portable_aes128_cmac(key, buf, sizeof buf, iv) != LEAL_OK;
    bad |= crypto_portable_sha256(buf, sizeof buf, digest) != LEAL_OK;
    portable_sha512(buf, sizeof buf, digest);
    bad |= portable.ed25519_verify(digest, buf, sizeof buf, digest) != LEAL_E_SIGNATURE;
    bad |= crypto_provider_check(&portable) != LEAL_OK;
    bad |= portable.random(buf, 1) != LEAL_E_RANDOM;
    portable_link_result = bad | digest[0];
    for (;;) {
    }
}
