/* reward_test.c - rewards redeemed at the host and cashback loaded at the
 * desk (issue 12; host/ledger/ledger_reward.h, issuance_load_cashback) on
 * the virtual DESFire card through the sim: reader: a cashback reward of
 * 5.00 for 100 points takes exactly 100 points and owes 5.00 (asset
 * CASHBACK), once per request id; refused below its cost with nothing
 * posted; the points reach the card at `leal card sync`; the desk loads the
 * 10.00 owed onto the purse in one top-up (purse and account 30.00, the
 * program's cashback account -10.00, nothing owed after), and a second load
 * writes nothing; the load torn at every exchange each way is loaded
 * exactly once by the next read or not at all, then loaded. ledger_verify
 * clean throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/issuance/issuance.h"
#include "host/ledger/ledger_reward.h"
#include "host/ledger/ledger_rules.h"
#include "tests/lib/desk_fixture.h"

static const uint8_t uid7[7] = {0x04, 0x21, 0x22, 0x33, 0x44, 0x55, 0x66};

/* The catalogue: 1 "cashback" 5.00 for 100 points, 2 "coffee" product 42
 * for 50 points. */
static leal_err add_rewards(struct ledger_rules *r, void *ctx)
{
    (void)ctx;
    r->set.program.rewards[0] = (struct rules_reward){1, RULES_REWARD_CASHBACK, 100, 500, 0};
    r->set.program.rewards[1] = (struct rules_reward){2, RULES_REWARD_PRODUCT, 50, 42, 0};
    r->set.program.n_rewards = 2;
    snprintf(r->reward_name[0], sizeof r->reward_name[0], "cashback");
    snprintf(r->reward_name[1], sizeof r->reward_name[1], "coffee");
    return LEAL_OK;
}

static int setup(void **state)
{
    struct fixture *f;
    struct ledger_rules_change c = {"test", "catalogue", "rewards added", add_rewards, NULL, {0, 0},
                                    0};
    int rc = desk_fixture_setup(state);
    f = *state;
    assert_int_equal(ledger_rules_change(f->ledger, 7, &c), LEAL_OK);
    return rc;
}

static struct reader *issue(struct fixture *f, int64_t account, struct issuance_card *out)
{
    return desk_fixture_issue(f, uid7, account, 2000, out);
}

static int64_t balance(struct fixture *f, int64_t account, const char *program_account,
                       const char *asset)
{
    int64_t v = 0;
    if (program_account &&
        ledger_program_account(f->ledger, 7, program_account, &account) != LEAL_OK)
        return 0;
    assert_int_equal(ledger_balance(f->ledger, account, asset, &v), LEAL_OK);
    return v;
}

static leal_err redeem(struct fixture *f, int64_t account, uint32_t reward, const char *key,
                       struct ledger_reward_result *out)
{
    struct ledger_reward_request rq = {.program_id = 7,
                                       .account_id = account,
                                       .reward_id = reward,
                                       .operator_name = "test",
                                       .request_id = key};
    return ledger_reward_redeem(f->ledger, &rq, out);
}

static void test_cashback_redeemed_then_loaded(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct ledger_reward_result res, again;
    struct reader *r = issue(f, f->account, &v);
    desk_fixture_post_points(f, f->account, 250, "test:points");
    assert_int_equal(redeem(f, f->account, 1, "r1", &res), LEAL_OK);
    assert_false(res.replayed);
    assert_int_equal(res.kind, RULES_REWARD_CASHBACK);
    assert_int_equal(res.points, 100);
    assert_int_equal(res.cashback_cents, 500);
    assert_int_equal(res.points_after, 150);
    assert_int_equal(res.cashback_owed_cents, 500);
    /* The same request again: the same entry, nothing moves twice. */
    assert_int_equal(redeem(f, f->account, 1, "r1", &again), LEAL_OK);
    assert_true(again.replayed);
    assert_int_equal(again.entry_id, res.entry_id);
    assert_int_equal(again.points, 100);
    assert_int_equal(again.cashback_cents, 500);
    assert_int_equal(again.cashback_owed_cents, 500);
    assert_int_equal(redeem(f, f->account, 2, "r2", &res), LEAL_OK);
    assert_int_equal(res.kind, RULES_REWARD_PRODUCT);
    assert_int_equal(res.product_id, 42);
    assert_int_equal(res.points, 50);
    assert_int_equal(redeem(f, f->account, 9, "r4", &res), LEAL_E_RULES_REWARD);
    assert_int_equal(balance(f, f->account, NULL, "PTS"), 100);
    assert_int_equal(redeem(f, f->account, 1, "r5", &res), LEAL_OK);
    assert_int_equal(res.points_after, 0);
    assert_int_equal(res.cashback_owed_cents, 1000);
    /* Below its cost: refused, nothing posted. */
    assert_int_equal(redeem(f, f->account, 1, "r3", &res), LEAL_E_RULES_POINTS);
    assert_int_equal(balance(f, f->account, NULL, "CASHBACK"), 1000);
    assert_int_equal(balance(f, 0, "points_redeemed", "PTS"), 250);
    assert_int_equal(balance(f, 0, "cashback_owed", "CASHBACK"), -1000);
    desk_fixture_balances(f, f->account, 2000, 0);
    /* The points reach the card as the ledger's changes: 250 then -250. */
    assert_int_equal(issuance_sync(&f->is, r, &w), LEAL_OK);
    assert_int_equal(w.state.points, 0);
    assert_true(w.agrees);
    assert_int_equal(w.purse_cents, 2000);
    /* The desk loads the 10.00 owed: one top-up, exactly the cashback. */
    assert_int_equal(issuance_load_cashback(&f->is, r, &w), LEAL_OK);
    assert_int_equal(w.cashback_cents, 1000);
    assert_int_equal(w.purse_cents, 3000);
    assert_true(w.agrees);
    desk_fixture_balances(f, f->account, 3000, 0);
    assert_int_equal(balance(f, f->account, NULL, "CASHBACK"), 0);
    assert_int_equal(balance(f, 0, "cashback_owed", "CASHBACK"), 0);
    assert_int_equal(balance(f, 0, "cashback", "EUR"), -1000);
    assert_int_equal(balance(f, 0, "cash", "EUR"), -2000);
    /* Nothing owed: nothing written. */
    v = w;
    assert_int_equal(issuance_load_cashback(&f->is, r, &w), LEAL_OK);
    assert_int_equal(w.cashback_cents, 0);
    assert_int_equal(w.taps, v.taps);
    assert_int_equal(w.purse_cents, 3000);
    reader_close(r);
}

/* The load torn at each exchange, each way: the next read posts it (the
 * card shows it: exactly once) or drops it (the cashback still owed, then
 * loaded), the account's euros always the card's. */
static void test_load_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    unsigned loaded_by_read = 0, runs = 0;
    for (size_t way = 0; way < DESK_FIXTURE_TEAR_WAYS; way++) {
        for (unsigned n = 1;; n++) {
            struct issuance_card out, view;
            struct ledger_reward_result res;
            char name[32];
            int64_t account;
            struct reader *r;
            leal_err err;
            snprintf(name, sizeof name, "load torn %zu %u", way, n);
            account = desk_fixture_customer(f, name);
            r = issue(f, account, &out);
            desk_fixture_post_points(f, account, 100, name);
            assert_int_equal(redeem(f, account, 1, name, &res), LEAL_OK);
            desk_fixture_tear_arm(r, way, n);
            err = issuance_load_cashback(&f->is, r, &view);
            if (!desk_fixture_tear_fired(r)) {
                assert_int_equal(err, LEAL_OK);
                assert_int_equal(view.purse_cents, 2500);
                reader_close(r);
                break;
            }
            runs++;
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
            assert_true(view.agrees);
            if (view.purse_cents == 2500) {
                assert_int_equal(view.recovered, 1);
                assert_int_equal(balance(f, account, NULL, "CASHBACK"), 0);
                loaded_by_read++;
            } else {
                assert_int_equal(view.purse_cents, 2000);
                assert_int_equal(balance(f, account, NULL, "CASHBACK"), 500);
                assert_int_equal(issuance_load_cashback(&f->is, r, &view), LEAL_OK);
                assert_int_equal(view.cashback_cents, 500);
                assert_int_equal(view.purse_cents, 2500);
            }
            desk_fixture_balances(f, account, 2500, 0);
            assert_int_equal(issuance_load_cashback(&f->is, r, &view), LEAL_OK);
            assert_int_equal(view.cashback_cents, 0);
            reader_close(r);
        }
    }
    print_message("cashback load torn: %u runs, %u loaded by the next read\n", runs,
                  loaded_by_read);
    /* 17 exchanges (the read's 9, then the top-up's) of 7 ways: posted by
     * the next read when the commit's answer was lost or power went once
     * the commit record was written (5), as for a top-up. */
    assert_int_equal(runs, 7 * 17);
    assert_int_equal(loaded_by_read, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cashback_redeemed_then_loaded, setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_load_torn_at_every_exchange, setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
