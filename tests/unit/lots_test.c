/* lots_test.c - points as lots (firmware/core/lots.h): the expiry a new lot
 * gets, the order a spend takes lots in, what it takes from each, and when
 * a lot is due, with exact values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "firmware/core/lots.h"

#define AT INT64_C(1764547200) /* 2025-12-01 00:00:00 UTC */

static void test_lots_expiry_adds_the_programs_days(void **state)
{
    int64_t e = -1;
    (void)state;
    assert_int_equal(lots_expiry(AT, 365, 0, &e), LEAL_OK);
    assert_int_equal(e, AT + 365 * INT64_C(86400));
    assert_int_equal(lots_expiry(AT, 1, 0, &e), LEAL_OK);
    assert_int_equal(e, INT64_C(1764633600));
}

static void test_lots_expiry_zero_days_never_expires(void **state)
{
    int64_t e = -1;
    (void)state;
    assert_int_equal(lots_expiry(AT, 0, 0, &e), LEAL_OK);
    assert_int_equal(e, 0);
}

static void test_lots_expiry_a_lines_own_expiry_wins(void **state)
{
    int64_t e = -1;
    (void)state;
    assert_int_equal(lots_expiry(AT, 365, AT + 10, &e), LEAL_OK);
    assert_int_equal(e, AT + 10);
    assert_int_equal(lots_expiry(AT, 0, AT + 10, &e), LEAL_OK);
    assert_int_equal(e, AT + 10);
}

static void test_lots_expiry_refuses_negative_days_and_overflow(void **state)
{
    int64_t e = -1;
    (void)state;
    assert_int_equal(lots_expiry(AT, -1, 0, &e), LEAL_E_ARG);
    assert_int_equal(e, 0);
    e = -1;
    assert_int_equal(lots_expiry(INT64_MAX - 100, 1, 0, &e), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(e, 0);
    e = -1;
    assert_int_equal(lots_expiry(AT, INT64_MAX / 1000, 0, &e), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(e, 0);
}

/* A reversed entry's lots first; within each group nearest expiry, lots
 * that never expire last, then oldest first (the ledger's ST_LOT_OPEN). */
static void test_lots_before_orders_a_spend(void **state)
{
    const struct lots_lot lots[] = {
        {.id = 1, .remaining = 5, .expires_at = 0},
        {.id = 2, .remaining = 5, .expires_at = AT + 200},
        {.id = 3, .remaining = 5, .expires_at = AT + 100},
        {.id = 4, .remaining = 5, .expires_at = 0, .of_reversed = true},
        {.id = 5, .remaining = 5, .expires_at = AT + 100},
        {.id = 6, .remaining = 5, .expires_at = AT + 900, .of_reversed = true},
    };
    const int64_t want[] = {6, 4, 3, 5, 2, 1};
    size_t n = sizeof lots / sizeof lots[0];
    bool used[sizeof lots / sizeof lots[0]] = {false};
    (void)state;
    for (size_t k = 0; k < n; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (!used[i] && (best == n || lots_before(&lots[i], &lots[best])))
                best = i;
        used[best] = true;
        assert_int_equal(lots[best].id, want[k]);
    }
    assert_false(lots_before(&lots[2], &lots[2]));
}

static void test_lots_take_is_what_the_lot_holds_at_most(void **state)
{
    (void)state;
    assert_int_equal(lots_take(30, 12), 12);
    assert_int_equal(lots_take(12, 30), 12);
    assert_int_equal(lots_take(7, 7), 7);
}

static void test_lots_expired_at_its_expiry_second(void **state)
{
    (void)state;
    assert_false(lots_expired(AT, AT - 1));
    assert_true(lots_expired(AT, AT));
    assert_true(lots_expired(AT, AT + 1));
    assert_false(lots_expired(0, INT64_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lots_expiry_adds_the_programs_days),
        cmocka_unit_test(test_lots_expiry_zero_days_never_expires),
        cmocka_unit_test(test_lots_expiry_a_lines_own_expiry_wins),
        cmocka_unit_test(test_lots_expiry_refuses_negative_days_and_overflow),
        cmocka_unit_test(test_lots_before_orders_a_spend),
        cmocka_unit_test(test_lots_take_is_what_the_lot_holds_at_most),
        cmocka_unit_test(test_lots_expired_at_its_expiry_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
