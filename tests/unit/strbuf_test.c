/* strbuf_test.c - host/strbuf: appends keep exact bytes and one NUL after
 * them, printf, reset, the bound (LEAL_E_TOO_LARGE) and a first failure
 * that sticks, with exact lengths and contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host/strbuf.h"

static void test_strbuf_appends_exact_bytes(void **state)
{
    struct strbuf b = {0};
    (void)state;
    assert_null(b.p);
    strbuf_add(&b, NULL, 0);
    assert_non_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.p[0], '\0');
    strbuf_str(&b, "{");
    strbuf_add(&b, "a\0b", 3);
    strbuf_printf(&b, "%lld,%s}", -12LL, "x\"y");
    assert_int_equal(strbuf_err(&b), LEAL_OK);
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.p, "{a\0b-12,x\"y}", 13); /* and the NUL after */
    strbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    /* Growth across doublings keeps every byte. */
    for (int i = 0; i < 1000; i++)
        strbuf_printf(&b, "%03d", i);
    assert_int_equal(strbuf_err(&b), LEAL_OK);
    assert_int_equal(b.len, 3000);
    assert_memory_equal(b.p, "000001002", 9);
    assert_memory_equal(b.p + 2997, "999", 4);
    strbuf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
}

static void test_strbuf_bound_and_sticky_failure(void **state)
{
    struct strbuf b = {0};
    (void)state;
    b.max = 8;
    strbuf_str(&b, "12345678");
    assert_int_equal(strbuf_err(&b), LEAL_OK);
    assert_string_equal(b.p, "12345678");
    strbuf_str(&b, "9");
    assert_int_equal(strbuf_err(&b), LEAL_E_TOO_LARGE);
    assert_string_equal(b.p, "12345678");
    strbuf_reset(&b); /* a failure outlives a reset */
    strbuf_str(&b, "a");
    assert_int_equal(strbuf_err(&b), LEAL_E_TOO_LARGE);
    assert_int_equal(b.len, 0);
    strbuf_free(&b);
    assert_int_equal(strbuf_err(&b), LEAL_OK);

    b.max = 4;
    strbuf_printf(&b, "%d", 12345);
    assert_int_equal(strbuf_err(&b), LEAL_E_TOO_LARGE);
    assert_int_equal(b.len, 0);
    strbuf_free(&b);

    /* A writer's own failure: the first one stays. */
    strbuf_str(&b, "ok");
    strbuf_fail(&b, LEAL_E_NO_MEMORY);
    strbuf_fail(&b, LEAL_E_ARG);
    strbuf_str(&b, "more");
    assert_int_equal(strbuf_err(&b), LEAL_E_NO_MEMORY);
    assert_string_equal(b.p, "ok");
    strbuf_wipe(&b);
    assert_null(b.p);
    assert_int_equal(strbuf_err(&b), LEAL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strbuf_appends_exact_bytes),
        cmocka_unit_test(test_strbuf_bound_and_sticky_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
