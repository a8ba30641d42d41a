/* amount_test.c - host/ledger/amount: euros in cents, strictly parsed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host/ledger/amount.h"
#include "host/ledger/ledger.h"

static leal_err parse(const char *s, int64_t *v)
{
    return amount_parse(s, strlen(s), v);
}

static void test_amount_parse_accepts_dot_and_comma(void **state)
{
    static const struct {
        const char *s;
        int64_t cents;
    } ok[] = {
        {"12.50", 1250},
        {"12,50", 1250},
        {"12", 1200},
        {"12.5", 1250},
        {"0,07", 7},
        {"-0.07", -7},
        {"-12,5", -1250},
        {"0", 0},
        {"007.10", 710},
        {"1234,56", 123456},
        {"99999999999.99", 9999999999999},
    };
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        assert_int_equal(parse(ok[i].s, &v), LEAL_OK);
        assert_int_equal(v, ok[i].cents);
    }
}

static void test_amount_parse_refuses_ambiguous_and_malformed(void **state)
{
    static const char *const bad[] = {
        "",   "1.234,56", "1,234.56", "1.234", "12.345", "12.",   ".5",
        ",5", "+12",      " 12",      "12 ",   "12e3",   "1_000", "--1",
        "-",  "1,2,3",    "0x10",     "12.5a", "12..5",  "1'000", "١٢",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 99;
        assert_int_equal(parse(bad[i], &v), LEAL_E_AMOUNT);
        assert_int_equal(v, 0);
    }
}

static void test_amount_parse_refuses_overflow(void **state)
{
    int64_t v = 5;
    (void)state;
    assert_int_equal(parse("100000000000.00", &v), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(v, 0);
    assert_int_equal(parse("92233720368547758.08", &v), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(parse("-9223372036854775808", &v), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(parse("999999999999999999999999", &v), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(parse("0000000000000000000000001", &v), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(amount_parse_units("10000000000000", 14, &v), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(amount_parse_units("9999999999999", 13, &v), LEAL_OK);
    assert_int_equal(v, INT64_C(9999999999999));
}

static void test_amount_parse_units_whole_numbers_only(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(amount_parse_units("150", 3, &v), LEAL_OK);
    assert_int_equal(v, 150);
    assert_int_equal(amount_parse_units("-20", 3, &v), LEAL_OK);
    assert_int_equal(v, -20);
    assert_int_equal(amount_parse_units("1.5", 3, &v), LEAL_E_AMOUNT);
    assert_int_equal(amount_parse_units("1,000", 5, &v), LEAL_E_AMOUNT);
    assert_int_equal(amount_parse_units("", 0, &v), LEAL_E_AMOUNT);
    /* Only len bytes are read: no NUL needed. */
    assert_int_equal(amount_parse("12.50xyz", 5, &v), LEAL_OK);
    assert_int_equal(v, 1250);
}

static void test_amount_format_two_decimals(void **state)
{
    char out[AMOUNT_FORMAT_MAX];
    char small[5];
    (void)state;
    assert_int_equal(amount_format(1250, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "12.50");
    assert_int_equal(amount_format(-7, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "-0.07");
    assert_int_equal(amount_format(0, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "0.00");
    assert_int_equal(amount_format(INT64_MIN, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "-92233720368547758.08");
    assert_int_equal(amount_format(INT64_MAX, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "92233720368547758.07");
    assert_int_equal(amount_format(12345, small, sizeof small), LEAL_E_NO_SPACE);
    assert_string_equal(small, "");
}

/* Negative amounts keep one sign and two positive decimals: the hand-written
 * "%lld.%02lld" copies that amount_text replaced printed -150 as "-1.-50". */
static void test_amount_negative_text(void **state)
{
    char out[AMOUNT_FORMAT_MAX];
    (void)state;
    assert_int_equal(amount_format(-150, out, sizeof out), LEAL_OK);
    assert_string_equal(out, "-1.50");
    assert_ptr_equal(amount_text(-150, out), out);
    assert_string_equal(out, "-1.50");
    assert_string_equal(amount_text(-5, out), "-0.05");
    assert_string_equal(amount_text(-100, out), "-1.00");
    assert_string_equal(amount_text(4999, out), "49.99");
    assert_string_equal(amount_text(INT64_MIN, out), "-92233720368547758.08");
}

static void test_points_rounding_rule(void **state)
{
    int64_t p = -1;
    (void)state;
    /* "1,2 puntos por cada euro": 1200 thousandths of a point per euro. */
    assert_int_equal(ledger_points_for_spend(1000, 1200, &p), LEAL_OK);
    assert_int_equal(p, 12);
    assert_int_equal(ledger_points_for_spend(1099, 1200, &p), LEAL_OK);
    assert_int_equal(p, 13); /* 13.188 */
    assert_int_equal(ledger_points_for_spend(83, 1200, &p), LEAL_OK);
    assert_int_equal(p, 0); /* 0.996 */
    assert_int_equal(ledger_points_for_spend(84, 1200, &p), LEAL_OK);
    assert_int_equal(p, 1); /* 1.008 */
    assert_int_equal(ledger_points_for_spend(-1099, 1200, &p), LEAL_OK);
    assert_int_equal(p, -13); /* a full refund takes back exactly what was given */
    assert_int_equal(ledger_points_for_spend(INT64_MAX / 1000, 1200, &p), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(p, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amount_parse_accepts_dot_and_comma),
        cmocka_unit_test(test_amount_parse_refuses_ambiguous_and_malformed),
        cmocka_unit_test(test_amount_parse_refuses_overflow),
        cmocka_unit_test(test_amount_parse_units_whole_numbers_only),
        cmocka_unit_test(test_amount_format_two_decimals),
        cmocka_unit_test(test_amount_negative_text),
        cmocka_unit_test(test_points_rounding_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
