/* portable_diff_test.c - the portable provider (keys/portable/) against the
 * OpenSSL provider on pseudo-random inputs: both must give the same bytes.
 * 10^5 cases in all (the CASES_* below); the generator's seed is fixed so a
 * failure names a case that can be replayed (LEAL_DIFF_SEED overrides it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "keys/crypto.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"
#include "keys/portable/sha512.h"

#define CASES_ECB 20000
#define CASES_CBC 15000
#define CASES_CMAC 25000
#define CASES_SHA256 18000
#define CASES_SHA512 18000
#define CASES_ED25519 4000 /* a quarter valid, a quarter each with a bit flipped in M, A, sig */
#define MAX_MSG 300

static const struct crypto_provider *ossl;
static uint64_t rng;

/* xorshift64* (Vigna): reproducible, not for keys. */
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(next() >> 56);
}

static size_t below(size_t n)
{
    return (size_t)(next() % n);
}

static void test_diff_aes128_ecb(void **state)
{
    (void)state;
    for (int c = 0; c < CASES_ECB; c++) {
        uint8_t key[16], in[16], a[16], b[16];
        fill(key, 16);
        fill(in, 16);
        assert_int_equal(crypto_portable_aes128_ecb_encrypt(key, in, a), LEAL_OK);
        assert_int_equal(ossl->aes128_ecb_encrypt(key, in, b), LEAL_OK);
        assert_memory_equal(a, b, 16);
        assert_int_equal(crypto_portable_aes128_ecb_decrypt(key, in, a), LEAL_OK);
        assert_int_equal(ossl->aes128_ecb_decrypt(key, in, b), LEAL_OK);
        assert_memory_equal(a, b, 16);
    }
    print_message("ecb: %d cases\n", CASES_ECB);
}

/* The portable side runs in two calls cut at a random block, half in place:
 * the IV it carries must make them one CBC stream, as OpenSSL's one call. */
static void test_diff_aes128_cbc(void **state)
{
    (void)state;
    for (int c = 0; c < CASES_CBC; c++) {
        uint8_t key[16], iv[16], iva[16], ivb[16], in[MAX_MSG], a[MAX_MSG], b[MAX_MSG];
        size_t blocks = below(MAX_MSG / 16 + 1), cut = 16 * below(blocks + 1), len = 16 * blocks;
        int enc = c & 1, in_place = c & 2;
        leal_err (*pt)(const uint8_t *, uint8_t *, const uint8_t *, uint8_t *, size_t) =
            enc ? crypto_portable_aes128_cbc_encrypt : crypto_portable_aes128_cbc_decrypt;
        fill(key, 16);
        fill(iv, 16);
        fill(in, len);
        memcpy(iva, iv, 16);
        memcpy(ivb, iv, 16);
        memcpy(a, in, len);
        assert_int_equal(pt(key, iva, in_place ? a : in, a, cut), LEAL_OK);
        assert_int_equal(pt(key, iva, in_place ? a + cut : in + cut, a + cut, len - cut), LEAL_OK);
        assert_int_equal(
            (enc ? ossl->aes128_cbc_encrypt : ossl->aes128_cbc_decrypt)(key, ivb, in, b, len),
            LEAL_OK);
        assert_memory_equal(a, b, len);
        assert_memory_equal(iva, ivb, 16);
    }
    print_message("cbc: %d cases\n", CASES_CBC);
}

static void test_diff_aes128_cmac(void **state)
{
    (void)state;
    for (int c = 0; c < CASES_CMAC; c++) {
        uint8_t key[16], msg[MAX_MSG], a[16], b[16];
        size_t len = below(MAX_MSG + 1);
        fill(key, 16);
        fill(msg, len);
        assert_int_equal(crypto_portable_aes128_cmac(key, msg, len, a), LEAL_OK);
        assert_int_equal(ossl->aes128_cmac(key, msg, len, b), LEAL_OK);
        assert_memory_equal(a, b, 16);
    }
    print_message("cmac: %d cases\n", CASES_CMAC);
}

static void test_diff_sha256(void **state)
{
    (void)state;
    for (int c = 0; c < CASES_SHA256; c++) {
        uint8_t msg[MAX_MSG], a[32], b[32];
        size_t len = below(MAX_MSG + 1);
        fill(msg, len);
        assert_int_equal(crypto_portable_sha256(msg, len, a), LEAL_OK);
        assert_int_equal(ossl->sha256(msg, len, b), LEAL_OK);
        assert_memory_equal(a, b, 32);
    }
    print_message("sha256: %d cases\n", CASES_SHA256);
}

/* SHA-512 is not a provider member (Ed25519 uses it inside): OpenSSL's EVP directly. */
static void test_diff_sha512(void **state)
{
    (void)state;
    for (int c = 0; c < CASES_SHA512; c++) {
        uint8_t msg[MAX_MSG], a[64], b[64];
        unsigned int blen = 0;
        size_t len = below(MAX_MSG + 1);
        fill(msg, len);
        portable_sha512(msg, len, a);
        assert_int_equal(EVP_Digest(msg, len, b, &blen, EVP_sha512(), NULL), 1);
        assert_int_equal(blen, 64);
        assert_memory_equal(a, b, 64);
    }
    print_message("sha512: %d cases\n", CASES_SHA512);
}

/* OpenSSL signs; then the valid signature and one flipped bit of the message,
 * the public key and the signature: both providers answer alike each time. */
static void test_diff_ed25519(void **state)
{
    (void)state;
    int accepted = 0;
    for (int c = 0; c < CASES_ED25519; c += 4) {
        uint8_t seed[32], pk[32], sig[64], msg[MAX_MSG];
        size_t len = below(MAX_MSG + 1);
        fill(seed, 32);
        fill(msg, len);
        assert_int_equal(crypto_openssl_ed25519_public(seed, pk), LEAL_OK);
        assert_int_equal(crypto_openssl_ed25519_sign(seed, msg, len, sig), LEAL_OK);
        for (int variant = 0; variant < 4; variant++) {
            uint8_t *target = variant == 1 ? msg : variant == 2 ? pk : sig;
            size_t size = variant == 1 ? len : variant == 2 ? 32 : 64, bit = 0;
            leal_err a, b;
            if (variant > 0 && size > 0) {
                bit = below(size * 8);
                target[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
            a = crypto_portable_ed25519_verify(pk, msg, len, sig);
            b = ossl->ed25519_verify(pk, msg, len, sig);
            if (a != b)
                fail_msg("case %d variant %d bit %zu: portable %d, openssl %d", c, variant, bit, a,
                         b);
            if (variant == 0)
                assert_int_equal(a, LEAL_OK);
            accepted += a == LEAL_OK;
            if (variant > 0 && size > 0)
                target[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
    print_message("ed25519: %d cases, %d accepted by both\n", CASES_ED25519, accepted);
}

static int setup(void **state)
{
    const char *seed = getenv("LEAL_DIFF_SEED");
    (void)state;
    ossl = crypto_openssl();
    rng = seed ? strtoull(seed, NULL, 0) : 0x6c65616c2d313321ULL;
    if (rng == 0)
        rng = 1;
    print_message("seed 0x%016llx\n", (unsigned long long)rng);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_aes128_ecb),  cmocka_unit_test(test_diff_aes128_cbc),
        cmocka_unit_test(test_diff_aes128_cmac), cmocka_unit_test(test_diff_sha256),
        cmocka_unit_test(test_diff_sha512),      cmocka_unit_test(test_diff_ed25519),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
