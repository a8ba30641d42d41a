/*
 * ledger_catalogue_test.c - adding and removing catalogue items in a rule
 * set (host/ledger/ledger_catalogue.h): exact sets after each edit (tiers in
 * threshold order with the rewards' tiers following, the next free ids),
 * and each refusal with its words and numbers, the set untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/ledger/ledger_catalogue.h"

static struct ledger_rules lr, kept;

/* A set with tiers at 100 and 500 euros, reward 4 for tier 2, stamp card 1 giving it. */
static int setup(void **state)
{
    uint32_t made;
    struct ledger_cat_why w;
    struct rules_tier t1 = {100, 1500}, t2 = {500, 2000};
    struct rules_reward gift = {4, RULES_REWARD_PRODUCT, 50, 1001, 2};
    struct rules_stamp card = {RULES_STAMP_PER_SALE, 0, 5, 4, 0};
    (void)state;
    memset(&lr, 0, sizeof lr);
    assert_int_equal(ledger_cat_tier_add(&lr, &t2, "Oro", &made, &w), LEAL_OK);
    assert_int_equal(made, 1);
    assert_int_equal(ledger_cat_tier_add(&lr, &t1, "Plata", &made, &w), LEAL_OK);
    assert_int_equal(made, 1); /* before Oro, by threshold */
    assert_int_equal(ledger_cat_reward_add(&lr, &gift, "Regalo", &made, &w), LEAL_OK);
    assert_int_equal(made, 4);
    assert_int_equal(ledger_cat_stamp_add(&lr, &card, "Cafés", &made, &w), LEAL_OK);
    assert_int_equal(made, 1);
    return 0;
}

static void refused(leal_err got, leal_err want, const struct ledger_cat_why *w, const char *text)
{
    char out[160];
    assert_int_equal(got, want);
    assert_non_null(w->fmt);
    snprintf(out, sizeof out, w->fmt, w->a, w->b);
    assert_string_equal(out, text);
    assert_memory_equal(&lr, &kept, sizeof lr);
}

static void tiers_in_order_rewards_follow(void **state)
{
    uint32_t made;
    struct ledger_cat_why w;
    struct rules_tier t = {300, 1800};
    (void)state;
    assert_int_equal(lr.set.program.n_tiers, 2);
    assert_int_equal(lr.set.program.tiers[0].threshold_units, 100);
    assert_string_equal(lr.tier_name[0], "Plata");
    assert_string_equal(lr.tier_name[1], "Oro");
    assert_int_equal(lr.set.program.rewards[0].min_tier, 2);
    assert_int_equal(ledger_cat_tier_add(&lr, &t, "Bronce", &made, &w), LEAL_OK);
    assert_int_equal(made, 2);
    assert_int_equal(lr.set.program.tiers[1].threshold_units, 300);
    assert_int_equal(lr.set.program.tiers[2].threshold_units, 500);
    assert_string_equal(lr.tier_name[2], "Oro");
    assert_int_equal(lr.set.program.rewards[0].min_tier, 3); /* still Oro */
    assert_int_equal(ledger_cat_tier_remove(&lr, 1, &w), LEAL_OK);
    assert_int_equal(lr.set.program.n_tiers, 2);
    assert_string_equal(lr.tier_name[0], "Bronce");
    assert_string_equal(lr.tier_name[2], "");
    assert_int_equal(lr.set.program.rewards[0].min_tier, 2); /* still Oro */
}

static void refusals_leave_the_set(void **state)
{
    uint32_t made = 0;
    struct ledger_cat_why w;
    struct rules_tier t = {500, 1000};
    struct rules_reward r = {0, RULES_REWARD_VOUCHER, 10, 500, 0};
    struct rules_stamp s = {RULES_STAMP_PER_ITEM, 0, 3, 9, 0};
    (void)state;
    kept = lr;
    refused(ledger_cat_tier_add(&lr, &t, "Otro", &made, &w), LEAL_E_RULES_PROGRAM, &w,
            "tier 2 already starts at 500 euros");
    refused(ledger_cat_tier_add(&lr, &t, "ORO", &made, &w), LEAL_E_RULES_PROGRAM, &w,
            "tier 2 already has that name");
    refused(ledger_cat_tier_remove(&lr, 2, &w), LEAL_E_RULES_PROGRAM, &w,
            "reward 4 asks for tier 2; remove it or the tier stays");
    refused(ledger_cat_tier_remove(&lr, 3, &w), LEAL_E_UNKNOWN_ID, &w, "there is no tier 3");
    refused(ledger_cat_reward_add(&lr, &r, "regalo", &made, &w), LEAL_E_RULES_PROGRAM, &w,
            "reward 4 already has that name");
    r.id = 4;
    refused(ledger_cat_reward_add(&lr, &r, "Vale", &made, &w), LEAL_E_RULES_PROGRAM, &w,
            "there is a reward 4 already");
    refused(ledger_cat_reward_remove(&lr, 4, &w), LEAL_E_RULES_PROGRAM, &w,
            "stamp card 1 hands over reward 4; remove it or the reward stays");
    refused(ledger_cat_stamp_add(&lr, &s, "Tés", &made, &w), LEAL_E_RULES_PROGRAM, &w,
            "there is no reward 9 for the stamp card to hand over");
    refused(ledger_cat_bono_remove(&lr, 1, &w), LEAL_E_UNKNOWN_ID, &w, "there is no bono 1");
    assert_int_equal(made, 0);
    /* Renaming an item to its own name is no clash; to another's is. */
    assert_int_equal(ledger_cat_name_free(&lr, LEDGER_CAT_TIER, 1, "oro", &w), LEAL_OK);
    refused(ledger_cat_name_free(&lr, LEDGER_CAT_TIER, 0, "oro", &w), LEAL_E_RULES_PROGRAM, &w,
            "tier 2 already has that name");
}

static void stamp_cards_go_last_first_ids_run_on(void **state)
{
    uint32_t made;
    struct ledger_cat_why w;
    struct rules_stamp s = {RULES_STAMP_PER_ITEM, 0, 3, 4, 0};
    struct rules_reward r = {0, RULES_REWARD_VOUCHER, 10, 500, 0};
    struct rules_bono_kind b = {0, 10, 90, 4500};
    (void)state;
    assert_int_equal(ledger_cat_stamp_add(&lr, &s, "Tés", &made, &w), LEAL_OK);
    assert_int_equal(made, 2);
    kept = lr;
    refused(ledger_cat_stamp_remove(&lr, 1, &w), LEAL_E_RULES_PROGRAM, &w,
            "only the last stamp card (2) can be removed: cards keep their stamps by position");
    assert_int_equal(ledger_cat_stamp_remove(&lr, 2, &w), LEAL_OK);
    assert_int_equal(ledger_cat_stamp_remove(&lr, 1, &w), LEAL_OK);
    assert_int_equal(lr.set.program.n_stamps, 0);
    assert_int_equal(ledger_cat_reward_add(&lr, &r, "Vale", &made, &w), LEAL_OK);
    assert_int_equal(made, 5); /* above every id */
    assert_int_equal(ledger_cat_reward_remove(&lr, 4, &w), LEAL_OK);
    assert_int_equal(lr.set.program.n_rewards, 1);
    assert_int_equal(lr.set.program.rewards[0].id, 5);
    assert_string_equal(lr.reward_name[0], "Vale");
    assert_string_equal(lr.reward_name[1], "");
    assert_int_equal(ledger_cat_bono_add(&lr, &b, "Yoga", &made, &w), LEAL_OK);
    assert_int_equal(made, 1);
    assert_int_equal(ledger_cat_bono_add(&lr, &b, "Pilates", &made, &w), LEAL_OK);
    assert_int_equal(made, 2);
    assert_int_equal(ledger_cat_bono_remove(&lr, 1, &w), LEAL_OK);
    assert_int_equal(lr.set.n_bonos, 1);
    assert_int_equal(lr.set.bonos[0].id, 2);
    assert_string_equal(lr.bono_name[0], "Pilates");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(tiers_in_order_rewards_follow, setup),
        cmocka_unit_test_setup(refusals_leave_the_set, setup),
        cmocka_unit_test_setup(stamp_cards_go_last_first_ids_run_on, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
