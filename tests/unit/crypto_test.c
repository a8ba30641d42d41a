/* crypto_test.c - the OpenSSL provider and the CMAC helpers against published vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys/crypto.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

static const struct crypto_provider *cp;

static void test_provider_is_complete(void **state)
{
    (void)state;
    struct crypto_provider broken = *crypto_openssl();
    assert_int_equal(crypto_provider_check(crypto_openssl()), LEAL_OK);
    broken.random = NULL;
    assert_int_equal(crypto_provider_check(&broken), LEAL_E_ARG);
    assert_int_equal(crypto_provider_check(NULL), LEAL_E_ARG);
}

static void test_aes128_ecb_fips197(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("fips197_aes128.txt", &v);
    for (int i = 0; i < n; i++) {
        uint8_t k[16], p[16], c[16], out[16];
        vectors_hex(&v[i], "K", k, 16);
        vectors_hex(&v[i], "P", p, 16);
        vectors_hex(&v[i], "C", c, 16);
        assert_int_equal(cp->aes128_ecb_encrypt(k, p, out), LEAL_OK);
        assert_memory_equal(out, c, 16);
        assert_int_equal(cp->aes128_ecb_decrypt(k, c, out), LEAL_OK);
        assert_memory_equal(out, p, 16);
    }
    free(v);
}

static void test_aes128_cbc_sp800_38a_chains_iv(void **state)
{
    (void)state;
    struct vector_record *v;
    uint8_t k[16], iv0[16], iv[16], p[64], c[64], out[64];
    vectors_load("sp800_38a_aes128_cbc.txt", &v);
    vectors_hex(&v[0], "K", k, 16);
    vectors_hex(&v[0], "IV", iv0, 16);
    assert_int_equal(vectors_hex(&v[0], "P", p, 64), 64);
    vectors_hex(&v[0], "C", c, 64);
    /* Two calls of 32 bytes with the IV carried over equal one call of 64. */
    memcpy(iv, iv0, 16);
    assert_int_equal(cp->aes128_cbc_encrypt(k, iv, p, out, 32), LEAL_OK);
    assert_int_equal(cp->aes128_cbc_encrypt(k, iv, p + 32, out + 32, 32), LEAL_OK);
    assert_memory_equal(out, c, 64);
    assert_memory_equal(iv, c + 48, 16);
    memcpy(iv, iv0, 16);
    memcpy(out, c, 64);
    assert_int_equal(cp->aes128_cbc_decrypt(k, iv, out, out, 48), LEAL_OK); /* in place */
    assert_int_equal(cp->aes128_cbc_decrypt(k, iv, out + 48, out + 48, 16), LEAL_OK);
    assert_memory_equal(out, p, 64);
    assert_int_equal(cp->aes128_cbc_encrypt(k, iv, p, out, 15), LEAL_E_ARG);
    free(v);
}

static void test_cmac_rfc4493_provider_and_iv_variant(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("rfc4493_cmac.txt", &v);
    uint8_t k1[16], k2[16], ek1[16], ek2[16];
    for (int i = 0; i < n; i++) {
        uint8_t k[16], m[64], t[16], out[16], zero[16] = {0};
        vectors_hex(&v[i], "K", k, 16);
        size_t mlen = vectors_hex(&v[i], "M", m, sizeof m);
        vectors_hex(&v[i], "T", t, 16);
        assert_int_equal(cp->aes128_cmac(k, m, mlen, out), LEAL_OK);
        assert_memory_equal(out, t, 16);
        memset(out, 0, 16);
        assert_int_equal(crypto_cmac_iv(cp, k, NULL, m, mlen, out), LEAL_OK);
        assert_memory_equal(out, t, 16);
        memset(out, 0, 16);
        assert_int_equal(crypto_cmac_iv(cp, k, zero, m, mlen, out), LEAL_OK);
        assert_memory_equal(out, t, 16);
        if (i == 0) {
            uint8_t k0[16];
            vectors_hex(&v[0], "K", k0, 16);
            vectors_hex(&v[0], "K1", ek1, 16);
            vectors_hex(&v[0], "K2", ek2, 16);
            assert_int_equal(crypto_cmac_subkeys(cp, k0, k1, k2), LEAL_OK);
            assert_memory_equal(k1, ek1, 16);
            assert_memory_equal(k2, ek2, 16);
        }
    }
    free(v);
}

static void test_cmac_iv_reproduces_desfire_chain(void **state)
{
    (void)state;
    struct vector_record *v;
    uint8_t key[16], cmd[8], resp[8], cmd_mac[16], resp_mac[16], out[16];
    vectors_load("elmu_desfire_cmac_chain.txt", &v);
    vectors_hex(&v[0], "SESSION", key, 16);
    size_t cl = vectors_hex(&v[0], "CMD", cmd, sizeof cmd);
    size_t rl = vectors_hex(&v[0], "RESP", resp, sizeof resp);
    vectors_hex(&v[0], "CMD_CMAC", cmd_mac, 16);
    vectors_hex(&v[0], "RESP_CMAC", resp_mac, 16);
    assert_int_equal(crypto_cmac_iv(cp, key, NULL, cmd, cl, out), LEAL_OK);
    assert_memory_equal(out, cmd_mac, 16);
    assert_int_equal(crypto_cmac_iv(cp, key, out, resp, rl, out), LEAL_OK);
    assert_memory_equal(out, resp_mac, 16);
    free(v);
}

static void test_sha256_nist(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("nist_sha256.txt", &v);
    for (int i = 0; i < n; i++) {
        uint8_t m[128], d[32], out[32];
        size_t ml = vectors_hex(&v[i], "M", m, sizeof m);
        vectors_hex(&v[i], "D", d, 32);
        assert_int_equal(cp->sha256(m, ml, out), LEAL_OK);
        assert_memory_equal(out, d, 32);
    }
    free(v);
}

static void test_ed25519_rfc8032_sign_and_verify(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("rfc8032_ed25519.txt", &v);
    for (int i = 0; i < n; i++) {
        uint8_t sk[32], pk[32], m[64], sig[64], out[64], pub[32];
        vectors_hex(&v[i], "SECRET", sk, 32);
        vectors_hex(&v[i], "PUBLIC", pk, 32);
        size_t ml = vectors_hex(&v[i], "MESSAGE", m, sizeof m);
        vectors_hex(&v[i], "SIGNATURE", sig, 64);
        assert_int_equal(crypto_openssl_ed25519_public(sk, pub), LEAL_OK);
        assert_memory_equal(pub, pk, 32);
        assert_int_equal(crypto_openssl_ed25519_sign(sk, m, ml, out), LEAL_OK);
        assert_memory_equal(out, sig, 64);
        assert_int_equal(cp->ed25519_verify(pk, m, ml, sig), LEAL_OK);
        /* Any flipped bit in the signature or the message is refused. */
        out[i * 7 % 64] ^= 0x01;
        assert_int_equal(cp->ed25519_verify(pk, m, ml, out), LEAL_E_SIGNATURE);
        m[ml] = 0x00;
        assert_int_equal(cp->ed25519_verify(pk, m, ml + 1, sig), LEAL_E_SIGNATURE);
    }
    free(v);
}

static void test_random_fills_and_differs(void **state)
{
    (void)state;
    uint8_t a[32] = {0}, b[32] = {0};
    assert_int_equal(cp->random(a, sizeof a), LEAL_OK);
    assert_int_equal(cp->random(b, sizeof b), LEAL_OK);
    assert_memory_not_equal(a, b, 32);
}

static int setup(void **state)
{
    (void)state;
    cp = crypto_openssl();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_is_complete),
        cmocka_unit_test(test_aes128_ecb_fips197),
        cmocka_unit_test(test_aes128_cbc_sp800_38a_chains_iv),
        cmocka_unit_test(test_cmac_rfc4493_provider_and_iv_variant),
        cmocka_unit_test(test_cmac_iv_reproduces_desfire_chain),
        cmocka_unit_test(test_sha256_nist),
        cmocka_unit_test(test_ed25519_rfc8032_sign_and_verify),
        cmocka_unit_test(test_random_fills_and_differs),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
