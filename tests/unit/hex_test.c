/* hex_test.c - keys/base/hex: the one hex codec, exact text both ways and
 * every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keys/base/hex.h"

static void test_hex_encode_exact(void **state)
{
    const uint8_t b[] = {0x04, 0xA1, 0xFF, 0x00, 0x7E};
    char out[11], small[10];
    (void)state;
    assert_int_equal(leal_hex_encode(b, sizeof b, false, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "04a1ff007e");
    assert_int_equal(leal_hex_encode(b, sizeof b, true, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "04A1FF007E");
    assert_int_equal(leal_hex_encode(b, 0, false, out, 1), LEAL_OK);
    assert_string_equal(out, "");
    /* One byte short of room for the NUL: refused, and the output is empty. */
    memset(small, 'x', sizeof small);
    assert_int_equal(leal_hex_encode(b, sizeof b, false, small, sizeof small), LEAL_E_NO_SPACE);
    assert_string_equal(small, "");
    assert_int_equal(leal_hex_encode(b, sizeof b, false, out, 0), LEAL_E_NO_SPACE);
    assert_int_equal(leal_hex_encode(NULL, 1, false, out, sizeof out), LEAL_E_ARG);
}

static void test_hex_decode_exact(void **state)
{
    uint8_t out[8];
    size_t n = 99;
    (void)state;
    assert_int_equal(leal_hex_decode("04a1FF007e", 10, out, sizeof out, &n), LEAL_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, ((const uint8_t[]){0x04, 0xA1, 0xFF, 0x00, 0x7E}), 5);
    /* len, not the NUL, ends the input. */
    assert_int_equal(leal_hex_decode("0102zz", 4, out, sizeof out, &n), LEAL_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out, ((const uint8_t[]){0x01, 0x02}), 2);
    assert_int_equal(leal_hex_decode("", 0, out, sizeof out, &n), LEAL_OK);
    assert_int_equal(n, 0);
}

static void test_hex_decode_refusals(void **state)
{
    static const char *const bad[] = {"0", "0g", "g0", " 1", "-1", "+1", "0x", "1 ", "é"};
    uint8_t out[4];
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        assert_int_equal(leal_hex_decode(bad[i], strlen(bad[i]), out, sizeof out, &n),
                         LEAL_E_FORMAT);
        assert_int_equal(n, 0);
    }
    n = 99;
    assert_int_equal(leal_hex_decode("0102030405", 10, out, sizeof out, &n), LEAL_E_NO_SPACE);
    assert_int_equal(n, 0);
    assert_int_equal(leal_hex_decode("01020304", 8, out, sizeof out, &n), LEAL_OK);
    assert_int_equal(n, 4);
    assert_int_equal(leal_hex_decode(NULL, 2, out, sizeof out, &n), LEAL_E_ARG);
    assert_int_equal(leal_hex_decode("01", 2, out, sizeof out, NULL), LEAL_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_encode_exact),
        cmocka_unit_test(test_hex_decode_exact),
        cmocka_unit_test(test_hex_decode_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
