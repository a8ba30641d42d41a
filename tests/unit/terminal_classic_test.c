/* terminal_classic_test.c - an offline terminal's taps on MIFARE Classic 1K
 * (firmware/core/terminal.h) through the virtual card, the core on the
 * portable provider: earn, pay, pay + earn, redeem, stamp, void and balance
 * with exact points, euros, seq, journal entries and round trips (the read
 * of LAYOUT.md 3.3, 19, and the other slot's write, 4); bonos refused (none
 * on Classic); the refusals a Classic card has of its own: records that do
 * not open, another program's keys, a seq behind the floor and a fork. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/till.h"

static void test_classic_operations(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e;

    till_make_classic(f, 2000);
    till_open(&t, f, 3, NULL);

    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    q.n_items = 1;
    q.items[0] = (struct rules_item){3, 1, 320};
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.card_kind, JOURNAL_CARD_CLASSIC);
    assert_int_equal(r.card_id, TILL_CARD_ID);
    assert_int_equal(r.points, 26);
    assert_int_equal(r.after.points, 51);
    assert_int_equal(r.after.seq, 2);
    assert_int_equal(r.taps_before, 1); /* Classic: the state seq */
    assert_int_equal(r.taps_after, 2);
    assert_int_equal(r.purse_after, 2000);
    /* the read (identity 11, slots 8), then the other slot (auth + 3 writes) */
    assert_int_equal(r.round_trips, 23);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_EARN);
    assert_int_equal(e.card_kind, JOURNAL_CARD_CLASSIC);
    assert_int_equal(e.counter_before, 1);
    assert_int_equal(e.counter_after, 2);
    assert_int_equal(e.points, 26);
    assert_int_equal(e.n_lines, 4); /* base, rule 77, the two state lines */
    till_expect_state_lines(&e, &r.before);
    assert_int_equal(e.purse_after, 2000);
    till_expect_classic(&t, 2, 51, 2000);

    q = till_request(TERMINAL_PAY, 0, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 1700);
    assert_int_equal(r.round_trips, 23);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_PAY);
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.purse_after, 1700);
    till_expect_classic(&t, 3, 51, 1700);

    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 2000);
    assert_int_equal(r.after.seq, 4);
    assert_int_equal(r.round_trips, 23);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_VOID);
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.ref_seq, 3);
    till_expect_classic(&t, 4, 51, 2000);

    q = till_request(TERMINAL_PAY_EARN, 1000, 500, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.points, 10);
    assert_int_equal(r.purse_after, 1500);
    assert_int_equal(r.after.points, 61);
    assert_int_equal(r.round_trips, 23);

    q = till_request(TERMINAL_REDEEM, 0, 0, 6); /* voucher 2.00 for 30 points */
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.redeemed.kind, RULES_REWARD_VOUCHER);
    assert_int_equal(r.redeemed.discount_cents, 200);
    assert_int_equal(r.after.points, 31);
    assert_int_equal(r.round_trips, 23);

    q = till_request(TERMINAL_STAMP, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    /* earn and pay + earn each gave a stamp: this third one completes the card */
    assert_int_equal(r.after.stamps[0], 0);
    assert_int_equal(r.stamp_rewards[0], 1);
    assert_int_equal(r.round_trips, 23);

    q = till_request(TERMINAL_BONO, 0, 0, 21);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NO_BONO);
    assert_int_equal(r.round_trips, 19); /* the read: nothing written */

    q = till_request(TERMINAL_BALANCE, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 19);
    assert_int_equal(r.purse_after, 1500);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_BALANCE);
    assert_int_equal(e.counter_before, 7);
    assert_int_equal(e.counter_after, 7);
    assert_int_equal(till_entries(&t, NULL, 0), 8);
    till_expect_classic(&t, 7, 31, 1500);
    till_close(&t);
}

static void test_classic_refusals(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct package_floor behind = {TILL_CARD_ID, PACKAGE_FLOOR_CLASSIC, 0, 1, 0, {0}};
    struct package_floor fork = {TILL_CARD_ID,
                                 PACKAGE_FLOOR_CLASSIC,
                                 PACKAGE_FLOOR_TAG_KNOWN,
                                 0,
                                 1,
                                 {1, 2, 3, 4, 5, 6, 7, 8}};
    struct package_floor desfire = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, 0, 0, 0, {0}};
    struct terminal_request q = till_request(TERMINAL_PAY, 0, 100, 0);
    struct terminal_request earn = till_request(TERMINAL_EARN, 100, 0, 0);
    struct terminal_result r;

    till_make_classic(f, 0);

    /* Records that do not open under the terminal's seal key. */
    till_open(&t, f, 3, NULL);
    t.wrong_seal = true;
    assert_int_equal(till_expect_refused(&t, &earn, LEAL_E_CARD_TAMPERED), 11);
    t.wrong_seal = false;
    /* No stored value to pay from (purse 0 of a card with stored value: funds). */
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_FUNDS);
    till_close(&t);

    /* The host saw seq 2 (1 tap); the card shows seq 1: a restored dump. */
    till_open(&t, f, 3, &(struct till_package){.floors = &behind, .floor_count = 1});
    assert_int_equal(till_expect_refused(&t, &earn, LEAL_E_TERMINAL_BEHIND_FLOOR), 19);
    till_close(&t);
    /* The host saw seq 1 with another slot tag: a fork. */
    till_open(&t, f, 3, &(struct till_package){.floors = &fork, .floor_count = 1});
    assert_int_equal(till_expect_refused(&t, &earn, LEAL_E_TERMINAL_BEHIND_FLOOR), 19);
    till_close(&t);
    /* A floor of the other card type for this card id. */
    till_open(&t, f, 3, &(struct till_package){.floors = &desfire, .floor_count = 1});
    assert_int_equal(till_expect_refused(&t, &earn, LEAL_E_TERMINAL_BEHIND_FLOOR), 19);
    till_close(&t);

    /* Another program's terminal: its keys A do not open the card. */
    assert_int_equal(keyset_add_program(f->keys, 8, 1700000000, till_openssl_random), LEAL_OK);
    till_open(&t, f, 3, &(struct till_package){.program_id = 8});
    assert_int_equal(till_expect_refused(&t, &earn, LEAL_E_CARD_NOT_LEAL), 1);
    till_close(&t);
    till_expect_classic(&t, 1, 25, 0);
    till_close(&t);
}

/* The package's refusals on a Classic card, each journaled with the card
 * left as it was (after the read: 19 round trips): hot-listed, an expired
 * package, a top-up (never offline), and the offline caps (10.00 a day,
 * 15.00 between syncs) on its stored value. */
static void test_classic_package_refusals(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct package_hot hot = {TILL_CARD_ID, PACKAGE_HOT_BLOCKED};
    struct terminal_request earn = till_request(TERMINAL_EARN, 100, 0, 0);
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e;

    till_make_classic(f, 5000);
    till_open(&t, f, 3, &(struct till_package){.hot = &hot, .hot_count = 1});
    assert_int_equal(till_expect_refused(&t, &earn, LEAL_E_TERMINAL_HOT_LISTED), 19);
    till_last_entry(&t, &e);
    assert_int_equal(e.card_kind, JOURNAL_CARD_CLASSIC);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    assert_int_equal(e.points_after, 25);
    assert_int_equal(e.purse_after, 5000);
    till_close(&t);

    till_open(&t, f, 3, &(struct till_package){.valid_until = TILL_NOW + 3600});
    t.now.utc_seconds = TILL_NOW + 7200;
    assert_int_equal(till_expect_refused(&t, &earn, LEAL_E_PACKAGE_EXPIRED), 19);
    till_close(&t);

    /* A top-up: never offline (no credit key), refused after the read. */
    till_open(&t, f, 3, NULL);
    assert_int_equal(till_expect_refused(
                         &t, &(struct terminal_request){.op = TERMINAL_TOPUP, .amount_cents = 1000},
                         LEAL_E_TERMINAL_TOPUP_OFFLINE),
                     19);
    till_close(&t);

    till_open(&t, f, 3, &(struct till_package){.cap_day_cents = 1000, .cap_sync_cents = 1500});
    q = till_request(TERMINAL_PAY, 0, 800, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 4200);
    assert_int_equal(
        till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_PAY, .pay_cents = 300},
                            LEAL_E_TERMINAL_CAP_DAY),
        19);
    t.now.utc_seconds += 86400; /* the next day: the day's cap again, not the sync's */
    assert_int_equal(
        till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_PAY, .pay_cents = 800},
                            LEAL_E_TERMINAL_CAP_SYNC),
        19);
    q = till_request(TERMINAL_PAY_EARN, 700, 700, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 3500);
    assert_int_equal(r.after.points, 32);
    /* after the EPOCH: the pay, the two refusals, the pay + earn */
    assert_int_equal(till_entries(&t, NULL, 0), 4);
    till_close(&t);
    till_expect_classic(&t, 3, 32, 3500);
    till_close(&t);
}

/* A void after the terminal restarted (its last operation from its
 * journal): a payment's euros back into the other slot, exactly the card the
 * payment found, seq onward. */
static void test_classic_void_after_a_restart(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q = till_request(TERMINAL_EARN, 2350, 0, 0);
    struct terminal_request vd = till_request(TERMINAL_VOID, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry pay, e;

    till_make_classic(f, 2000);
    till_open(&t, f, 3, NULL);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK); /* 48 points, seq 2 */
    q = till_request(TERMINAL_PAY_EARN, 1000, 500, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.after.points, 58);
    assert_int_equal(r.purse_after, 1500);
    till_last_entry(&t, &pay);
    till_restart(&t);
    assert_int_equal(till_tap(&t, &vd, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 23);
    assert_int_equal(r.after.seq, 4);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.after.stamps[0], 1);
    assert_int_equal(r.after.buckets[0], 23);
    assert_int_equal(r.purse_after, 2000);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_VOID);
    assert_int_equal(e.ref_epoch, pay.epoch);
    assert_int_equal(e.ref_seq, pay.seq);
    assert_int_equal(e.purse_cents, 500);
    assert_int_equal(e.points, -10);
    assert_int_equal(e.quantity, -1);
    assert_int_equal(e.counter_before, 3);
    assert_int_equal(e.counter_after, 4);
    till_expect_classic(&t, 4, 48, 2000);
    till_restart(&t);
    assert_int_equal(till_expect_refused(&t, &vd, LEAL_E_TERMINAL_NOTHING_TO_VOID), 19);
    till_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_classic_operations, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_refusals, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_void_after_a_restart, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_package_refusals, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
