/* diversify_test.c - AN10922 AES-128 diversification against NXP's published examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys/diversify.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

static void test_diversify_an10922_examples(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("an10922_diversify.txt", &v);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        uint8_t master[16], m[31], key[16], out[16];
        vectors_hex(&v[i], "MASTER", master, 16);
        size_t ml = vectors_hex(&v[i], "M", m, sizeof m);
        vectors_hex(&v[i], "KEY", key, 16);
        assert_int_equal(diversify_aes128(crypto_openssl(), master, m, ml, out), LEAL_OK);
        assert_memory_equal(out, key, 16);
    }
    free(v);
}

static void test_diversify_input_is_uid_aid_sysid(void **state)
{
    (void)state;
    struct vector_record *v;
    uint8_t master[16], uid[7], aid[3], sys[7], m[31], key[16], out[16];
    vectors_load("an10922_diversify.txt", &v);
    vectors_hex(&v[0], "MASTER", master, 16);
    size_t ul = vectors_hex(&v[0], "UID", uid, sizeof uid);
    size_t al = vectors_hex(&v[0], "AID", aid, sizeof aid);
    size_t sl = vectors_hex(&v[0], "SYSID", sys, sizeof sys);
    vectors_hex(&v[0], "KEY", key, 16);
    memcpy(m, uid, ul);
    memcpy(m + ul, aid, al);
    memcpy(m + ul + al, sys, sl);
    assert_memory_equal(sys, "NXP Abu", 7);
    assert_int_equal(diversify_aes128(crypto_openssl(), master, m, ul + al + sl, out), LEAL_OK);
    assert_memory_equal(out, key, 16);
    free(v);
}

static void test_diversify_short_input_is_not_plain_cmac(void **state)
{
    (void)state;
    struct vector_record *v;
    uint8_t master[16], m[31], wrong[16], out[16];
    vectors_load("an10922_diversify.txt", &v);
    vectors_hex(&v[1], "MASTER", master, 16);
    size_t ml = vectors_hex(&v[1], "M", m, sizeof m);
    vectors_hex(&v[1], "PLAIN_CMAC", wrong, 16);
    assert_int_equal(diversify_aes128(crypto_openssl(), master, m, ml, out), LEAL_OK);
    assert_memory_not_equal(out, wrong, 16);
    free(v);
}

static void test_diversify_full_block_uses_k1_as_plain_cmac(void **state)
{
    (void)state;
    /* With 31 bytes of M, D is exactly 32 bytes: AN10922 is then plain CMAC(01 || M). */
    uint8_t master[16], m[32], out[16], ref[16];
    for (int i = 0; i < 16; i++)
        master[i] = (uint8_t)(i * 17);
    m[0] = 0x01;
    for (int i = 1; i < 32; i++)
        m[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(diversify_aes128(crypto_openssl(), master, m + 1, 31, out), LEAL_OK);
    assert_int_equal(crypto_openssl()->aes128_cmac(master, m, 32, ref), LEAL_OK);
    assert_memory_equal(out, ref, 16);
}

static void test_diversify_refuses_bad_length(void **state)
{
    (void)state;
    uint8_t master[16] = {0}, m[32] = {0}, out[16];
    assert_int_equal(diversify_aes128(crypto_openssl(), master, m, 0, out), LEAL_E_ARG);
    assert_int_equal(diversify_aes128(crypto_openssl(), master, m, 32, out), LEAL_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diversify_an10922_examples),
        cmocka_unit_test(test_diversify_input_is_uid_aid_sysid),
        cmocka_unit_test(test_diversify_short_input_is_not_plain_cmac),
        cmocka_unit_test(test_diversify_full_block_uses_k1_as_plain_cmac),
        cmocka_unit_test(test_diversify_refuses_bad_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
