/* text_test.c - host/text: UTF-8 checks, accent- and case-blind name keys,
 * phone normal form (issue 10 sections 4 and 5), with exact bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host/text.h"

static void test_text_check_refuses_bad_utf8_and_controls(void **state)
{
    static const struct {
        const char *s;
        const char *why;
    } bad[] = {
        {"Jo\xff"
         "e",
         "not valid UTF-8 (byte 0xFF at 2)"},
        {"\xc0\xaf", "not valid UTF-8 (byte 0xC0 at 0)"},         /* overlong "/" */
        {"\xe0\x80\xaf", "not valid UTF-8 (byte 0xE0 at 0)"},     /* overlong, 3 bytes */
        {"\xed\xa0\x80", "not valid UTF-8 (byte 0xED at 0)"},     /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", "not valid UTF-8 (byte 0xF4 at 0)"}, /* U+110000 */
        {"ab\xc3", "not valid UTF-8 (byte 0xC3 at 2)"},           /* truncated */
        {"a\tb", "a control character (U+0009)"},
        {"a\x7f", "a control character (U+007F)"},
        {"a\xc2\x85", "a control character (U+0085)"},
        {"x\xe2\x80\xaa", "a bidirectional control (U+202A)"},
        {"x\xe2\x80\xae", "a bidirectional control (U+202E)"},
        {"x\xe2\x81\xa6", "a bidirectional control (U+2066)"},
        {"x\xe2\x81\xa9", "a bidirectional control (U+2069)"},
    };
    static const char *const good[] = {"",
                                       "José Núñez",
                                       "Ærø",
                                       "日本",
                                       "\xf0\x9f\x98\x80",
                                       "a\xe2\x80\xa9" /* U+2029 is not a bidi control */,
                                       "x\xe2\x81\xaa" /* U+206A, just past the isolates */};
    char why[64];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(text_check(bad[i].s, why, sizeof why), LEAL_E_TEXT);
        assert_string_equal(why, bad[i].why);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(text_check(good[i], why, sizeof why), LEAL_OK);
        assert_string_equal(why, "");
    }
}

static void test_text_fold_drops_accents_and_case(void **state)
{
    static const struct {
        const char *in, *key;
    } v[] = {
        {"José", "jose"},
        {"NÚÑEZ", "nunez"},
        {"Núñez", "nunez"},
        {"Jose\xcc\x81", "jose"}, /* decomposed: e + U+0301 */
        {"  María   José ", "maria jose"},
        {"Ærø", "aero"},
        {"Straße", "strasse"},
        {"Łódź", "lodz"},
        {"Œuvre", "oeuvre"},
        {"Žižek", "zizek"},
        {"Şahin Ğ", "sahin g"},
        {"Þór", "thor"},
        {"Ĳssel", "ijssel"},
        {"ÿ×÷", "y×÷"},
        {"Çağla", "cagla"},
        {"日本", "日本"},
        {"O'Brien-Smith", "o'brien-smith"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(text_fold(v[i].in, out, sizeof out), LEAL_OK);
        assert_string_equal(out, v[i].key);
    }
    assert_int_equal(text_fold("Jo\xff", out, sizeof out), LEAL_E_TEXT);
    assert_int_equal(text_fold("abcdef", out, 6), LEAL_E_TOO_LARGE);
    assert_string_equal(out, "");
    assert_int_equal(text_fold("ßßß", out, 6), LEAL_E_TOO_LARGE);
    assert_int_equal(text_fold("ßß", out, 6), LEAL_OK);
    assert_string_equal(out, "ssss");
}

static void test_text_phone_key_one_normal_form(void **state)
{
    static const struct {
        const char *in, *key;
    } v[] = {
        {"612345679", "612345679"},
        {"612 345 679", "612345679"},
        {"612-34-56-79", "612345679"},
        {"+34 612 345 679", "612345679"},
        {"+34612345679", "612345679"},
        {"0034 612 345 679", "612345679"},
        {"(+34) 612.345.679", "612345679"},
        {"+44 20 7946 0958", "+442079460958"},
        {"0044 20 7946 0958", "+442079460958"},
        {"91 555 12 34", "915551234"},
        {"ext. 12", "ext. 12"},
        {"+34 61\t", "61"},                     /* folds to a number: keyed as one (fuzz_text) */
        {")+3400000000006)", "+3400000000006"}, /* no Spanish number starts with 0 (fuzz_text) */
        {"", ""},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(text_phone_key(v[i].in, out, sizeof out), LEAL_OK);
        assert_string_equal(out, v[i].key);
    }
    assert_int_equal(text_phone_key("612345679", out, 9), LEAL_E_TOO_LARGE);
}

static void test_text_utf8_next_lengths(void **state)
{
    uint32_t cp;
    (void)state;
    assert_int_equal(text_utf8_next((const uint8_t *)"A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(text_utf8_next((const uint8_t *)"\xc3\xb1", 2, &cp), 2);
    assert_int_equal(cp, 0xF1);
    assert_int_equal(text_utf8_next((const uint8_t *)"\xe2\x80\xae", 3, &cp), 3);
    assert_int_equal(cp, 0x202E);
    assert_int_equal(text_utf8_next((const uint8_t *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(text_utf8_next((const uint8_t *)"\xe2\x80\xae", 2, &cp), 0);
    assert_int_equal(cp, 0xFFFD);
    assert_int_equal(text_utf8_next((const uint8_t *)"\x80", 1, &cp), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_check_refuses_bad_utf8_and_controls),
        cmocka_unit_test(test_text_fold_drops_accents_and_case),
        cmocka_unit_test(test_text_phone_key_one_normal_form),
        cmocka_unit_test(test_text_utf8_next_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
