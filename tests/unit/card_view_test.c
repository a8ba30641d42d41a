/* card_view_test.c - the view both card types fill: an identity copied into it,
 * with random_uid and stored_value as the card type and flags say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/card_view.h"

static void test_desfire_identity_always_stores_value(void **state)
{
    struct identity id = {.card_id = 123456789012ULL,
                          .issuer_id = 7,
                          .program_id = 3,
                          .key_set_version = 2,
                          .card_kind = IDENTITY_DESFIRE_EV2,
                          .flags = IDENTITY_FLAG_RANDOM_UID,
                          .issued_day = 20424};
    struct card_view v;
    (void)state;
    memset(&v, 0xA5, sizeof v);
    card_view_set_identity(&v, &id);
    assert_int_equal(v.card_id, 123456789012ULL);
    assert_int_equal(v.issuer_id, 7);
    assert_int_equal(v.program_id, 3);
    assert_int_equal(v.kind, IDENTITY_DESFIRE_EV2);
    assert_int_equal(v.key_set_version, 2);
    assert_int_equal(v.identity_flags, IDENTITY_FLAG_RANDOM_UID);
    assert_int_equal(v.issued_day, 20424);
    assert_true(v.random_uid);
    assert_true(v.stored_value);
    assert_true(card_view_is_desfire(&v));
}

static void test_classic_identity_stores_value_only_when_flagged(void **state)
{
    struct identity id = {.card_id = 100000000001ULL,
                          .issuer_id = 1,
                          .program_id = 1,
                          .key_set_version = 1,
                          .card_kind = IDENTITY_CLASSIC_4K,
                          .flags = 0,
                          .issued_day = 1};
    struct card_view v;
    (void)state;
    memset(&v, 0, sizeof v);
    card_view_set_identity(&v, &id);
    assert_int_equal(v.kind, IDENTITY_CLASSIC_4K);
    assert_false(v.random_uid);
    assert_false(v.stored_value);
    assert_false(card_view_is_desfire(&v));
    id.flags = IDENTITY_FLAG_STORED_VALUE;
    card_view_set_identity(&v, &id);
    assert_true(v.stored_value);
    assert_int_equal(v.identity_flags, IDENTITY_FLAG_STORED_VALUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desfire_identity_always_stores_value),
        cmocka_unit_test(test_classic_identity_stores_value_only_when_flagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
