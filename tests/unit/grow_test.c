/* grow_test.c - host/grow: room for one more keeps every element, doubles
 * from 16, and refuses a size that would overflow with the array and its
 * capacity untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "host/grow.h"

static void test_grow_keeps_elements_and_doubles(void **state)
{
    int64_t *v = NULL;
    size_t n = 0, cap = 0, caps_seen = 0;
    size_t caps[8] = {0};
    (void)state;
    for (int64_t i = 0; i < 1000; i++) {
        size_t before = cap;
        assert_int_equal(grow_room(&v, &cap, n, sizeof *v), LEAL_OK);
        assert_true(cap > n);
        if (cap != before && caps_seen < 8)
            caps[caps_seen++] = cap;
        v[n++] = i * 7 - 3;
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i], (int64_t)i * 7 - 3);
    assert_int_equal(caps_seen, 7);
    assert_int_equal(caps[0], 16);
    assert_int_equal(caps[1], 32);
    assert_int_equal(caps[6], 1024);
    assert_int_equal(cap, 1024);
    /* Room already there: nothing moves. */
    int64_t *same = v;
    assert_int_equal(grow_room(&v, &cap, 1000, sizeof *v), LEAL_OK);
    assert_ptr_equal(v, same);
    assert_int_equal(cap, 1024);
    free(v);
}

static void test_grow_refuses_overflow_untouched(void **state)
{
    char *v = NULL;
    size_t cap = 0;
    (void)state;
    assert_int_equal(grow_room(&v, &cap, 0, 4), LEAL_OK);
    assert_int_equal(cap, 16);
    v[15] = 'x';
    char *before = v;
    size_t big = SIZE_MAX / 8;
    cap = 16;
    assert_int_equal(grow_room(&v, &cap, 16, big), LEAL_E_NO_MEMORY);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 16);
    assert_int_equal(v[15], 'x');
    assert_int_equal(grow_room(NULL, &cap, 0, 1), LEAL_E_ARG);
    assert_int_equal(grow_room(&v, NULL, 0, 1), LEAL_E_ARG);
    assert_int_equal(grow_room(&v, &cap, 0, 0), LEAL_E_ARG);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_keeps_elements_and_doubles),
        cmocka_unit_test(test_grow_refuses_overflow_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
