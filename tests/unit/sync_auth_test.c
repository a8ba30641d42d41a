/* sync_auth_test.c - a terminal's sync request MAC and header
 * (firmware/core/sync_auth.h): the MAC against vectors computed apart
 * (python3-cryptography's CMAC, the construction of sync_auth.h), each input
 * changing it, the header's exact text and every malformed form refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/sync_auth.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

static const uint8_t jk[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t body[] = "journal bytes";

static struct sync_auth base(void)
{
    struct sync_auth a;
    memset(&a, 0, sizeof a);
    a.terminal_id = 7;
    a.key_version = 1;
    for (int i = 0; i < SYNC_AUTH_NONCE_LEN; i++)
        a.nonce[i] = (uint8_t)(0x10 + i);
    return a;
}

static void hex_eq(const uint8_t *got, const char *want)
{
    uint8_t w[16];
    assert_int_equal(hex_decode(want, w, sizeof w), 16);
    assert_memory_equal(got, w, 16);
}

static void test_vectors(void **state)
{
    struct sync_auth a = base(), p = base();
    (void)state;
    assert_int_equal(
        sync_auth_mac(crypto_openssl(), jk, SYNC_AUTH_OP_JOURNAL, body, sizeof body - 1, &a),
        LEAL_OK);
    hex_eq(a.mac, "fbceff5d8467d6a645ca37a1fcf485e8");
    assert_int_equal(sync_auth_mac(crypto_openssl(), jk, SYNC_AUTH_OP_PACKAGE, NULL, 0, &p),
                     LEAL_OK);
    hex_eq(p.mac, "0b7ffa5af9f9ce6e3c75fb150d2cbc93");
}

static void test_every_input_counts(void **state)
{
    struct sync_auth ref = base(), a;
    uint8_t other[sizeof body];
    (void)state;
    assert_int_equal(
        sync_auth_mac(crypto_openssl(), jk, SYNC_AUTH_OP_JOURNAL, body, sizeof body - 1, &ref),
        LEAL_OK);
    a = base();
    a.terminal_id = 8;
    assert_int_equal(
        sync_auth_mac(crypto_openssl(), jk, SYNC_AUTH_OP_JOURNAL, body, sizeof body - 1, &a),
        LEAL_OK);
    assert_memory_not_equal(a.mac, ref.mac, 16);
    a = base();
    a.nonce[15] ^= 1;
    assert_int_equal(
        sync_auth_mac(crypto_openssl(), jk, SYNC_AUTH_OP_JOURNAL, body, sizeof body - 1, &a),
        LEAL_OK);
    assert_memory_not_equal(a.mac, ref.mac, 16);
    a = base();
    memcpy(other, body, sizeof other);
    other[0] ^= 1;
    assert_int_equal(
        sync_auth_mac(crypto_openssl(), jk, SYNC_AUTH_OP_JOURNAL, other, sizeof other - 1, &a),
        LEAL_OK);
    assert_memory_not_equal(a.mac, ref.mac, 16);
    a = base();
    assert_int_equal(sync_auth_mac(crypto_openssl(), jk, 'X', body, sizeof body - 1, &a),
                     LEAL_E_ARG);
}

static void test_header(void **state)
{
    static const char text[] =
        "1.7.1.101112131415161718191a1b1c1d1e1f.fbceff5d8467d6a645ca37a1fcf485e8";
    static const char *bad[] = {
        "2.7.1.101112131415161718191a1b1c1d1e1f.fbceff5d8467d6a645ca37a1fcf485e8",
        "1.07.1.101112131415161718191a1b1c1d1e1f.fbceff5d8467d6a645ca37a1fcf485e8",
        "1.7.256.101112131415161718191a1b1c1d1e1f.fbceff5d8467d6a645ca37a1fcf485e8",
        "1.4294967296.1.101112131415161718191a1b1c1d1e1f.fbceff5d8467d6a645ca37a1fcf485e8",
        "1.7.1.101112131415161718191A1B1C1D1E1F.fbceff5d8467d6a645ca37a1fcf485e8",
        "1.7.1.101112131415161718191a1b1c1d1e1f.fbceff5d8467d6a645ca37a1fcf485e",
        "1.7.1.101112131415161718191a1b1c1d1e1f.fbceff5d8467d6a645ca37a1fcf485e8 ",
        "1.7.1.101112131415161718191a1b1c1d1e1ffbceff5d8467d6a645ca37a1fcf485e8",
        "",
    };
    struct sync_auth a = base(), back;
    char out[SYNC_AUTH_HEADER_MAX];
    (void)state;
    assert_int_equal(
        sync_auth_mac(crypto_openssl(), jk, SYNC_AUTH_OP_JOURNAL, body, sizeof body - 1, &a),
        LEAL_OK);
    sync_auth_format(&a, out);
    assert_string_equal(out, text);
    assert_int_equal(sync_auth_parse(text, strlen(text), &back), LEAL_OK);
    assert_memory_equal(&back, &a, sizeof a);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sync_auth_parse(bad[i], strlen(bad[i]), &back), LEAL_E_NET_MALFORMED);
}

static void test_nonce(void **state)
{
    uint8_t n[SYNC_AUTH_NONCE_LEN];
    char out[2 * SYNC_AUTH_NONCE_LEN + 1];
    (void)state;
    assert_int_equal(sync_auth_nonce_parse("101112131415161718191a1b1c1d1e1f", 32, n), LEAL_OK);
    sync_auth_nonce_format(n, out);
    assert_string_equal(out, "101112131415161718191a1b1c1d1e1f");
    assert_int_equal(sync_auth_nonce_parse("101112131415161718191a1b1c1d1e1", 31, n),
                     LEAL_E_NET_MALFORMED);
    assert_int_equal(sync_auth_nonce_parse("101112131415161718191a1b1c1d1eg1", 32, n),
                     LEAL_E_NET_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_every_input_counts),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_nonce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
