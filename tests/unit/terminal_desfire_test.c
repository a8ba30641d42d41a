/* terminal_desfire_test.c - an offline terminal's taps on MIFARE DESFire
 * (firmware/core/terminal.h) through the virtual card, the core on the
 * portable provider: earn, pay, pay + earn, redeem, stamp, bono, void and
 * balance with exact points, euros, sessions, journal entries and round
 * trips; every refusal reason journaled with the card left as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/layout.h"
#include "host/reader/reader.h"
#include "tests/lib/till.h"

/* The terminal sends AuthenticateEV2First first (terminal.c); these EV1 cards
 * answer it ILLEGAL_COMMAND, one exchange before their AA. */
#define EV1_PROBE 1

static struct terminal_request earn_of(int64_t cents)
{
    struct terminal_request q;
    memset(&q, 0, sizeof q);
    q.op = TERMINAL_EARN;
    q.amount_cents = cents;
    return q;
}

static void test_earn_writes_points_stamps_and_journal(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q = earn_of(2350);
    struct terminal_result r;
    struct journal_entry e;
    struct card_view v;

    till_make_desfire(f, 5000, 0);
    till_open(&t, f, 3, NULL);
    q.n_items = 1;
    q.items[0] = (struct rules_item){3, 1, 320};
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.card_id, TILL_CARD_ID);
    assert_int_equal(r.card_kind, JOURNAL_CARD_DESFIRE);
    /* 23 base points for 23.50, and rule 77 doubles the 3.20 of cafe: +3. */
    assert_int_equal(r.points, 26);
    assert_int_equal(r.n_lines, 2);
    assert_int_equal(r.lines[0].source, RULES_LINE_BASE);
    assert_int_equal(r.lines[0].points, 23);
    assert_int_equal(r.lines[1].source, RULES_LINE_RULE);
    assert_int_equal(r.lines[1].id, 77);
    assert_int_equal(r.lines[1].points, 3);
    assert_int_equal(r.before.points, 25);
    assert_int_equal(r.after.points, 51);
    assert_int_equal(r.after.seq, 2);
    assert_int_equal(r.after.stamps[0], 1);
    assert_int_equal(r.after.buckets[0], 23);
    assert_int_equal(r.taps_before, 1);
    assert_int_equal(r.taps_after, 2);
    /* select, authenticate (2), state, counter; write, debit, commit */
    assert_int_equal(r.round_trips, 8 + EV1_PROBE);

    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_EARN);
    assert_int_equal(e.card_kind, JOURNAL_CARD_DESFIRE);
    assert_int_equal(e.terminal_id, 3);
    assert_int_equal(e.seq, 2);
    assert_int_equal(r.entry.seq, 2);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    assert_int_equal(e.counter_before, 1);
    assert_int_equal(e.counter_after, 2);
    assert_int_equal(e.package_version, 4);
    assert_int_equal(e.amount_cents, 2350);
    assert_int_equal(e.purse_cents, 0);
    assert_int_equal(e.points, 26);
    assert_int_equal(e.points_after, 51);
    assert_int_equal(e.stamps_after[0], 1);
    assert_int_equal(e.quantity, 1); /* the stamp the sale gave */
    assert_int_equal(e.item, 0);     /* no stamp reward */
    assert_int_equal(e.n_lines, 4);  /* base, rule 77, the two state lines */
    till_expect_state_lines(&e, &r.before);
    assert_int_equal(e.lines[1].source, RULES_LINE_RULE);
    assert_int_equal(e.lines[1].id, 77);
    assert_int_equal(e.lines[1].points, 3);
    assert_int_equal(e.utc_seconds, TILL_NOW);
    assert_int_equal(e.utc_offset_minutes, 120);

    /* The same day, 5.00 of cafe more: rule 77 would give 5, but this card
     * had 3 of its 5 a day (from this terminal's journal): 2. */
    till_present(&t);
    q = earn_of(500);
    q.n_items = 1;
    q.items[0] = (struct rules_item){3, 1, 500};
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.n_lines, 2);
    assert_int_equal(r.lines[1].id, 77);
    assert_int_equal(r.lines[1].points, 2);
    assert_int_equal(r.points, 7);
    /* The next local day (02:30 there, UTC+2) the cap starts again. */
    t.now.utc_seconds = TILL_NOW + 4 * 3600 + 4 * 60;
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.lines[1].points, 5);
    assert_int_equal(r.points, 10);

    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 68);
    assert_int_equal(v.state.seq, 4);
    assert_int_equal(v.state.stamps[0], 0); /* three sales: the stamp card's reward */
    assert_int_equal(v.purse_cents, 5000);
    assert_int_equal(v.taps, 4);
    till_close(&t);
}

static void test_pay_pay_earn_balance_and_void(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e;

    till_make_desfire(f, 5000, 0);
    till_open(&t, f, 3, NULL);

    q = till_request(TERMINAL_PAY, 0, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_before, 5000);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.points, 0);
    assert_int_equal(r.after.seq, 2);
    /* + GetValue purse and Debit purse */
    assert_int_equal(r.round_trips, 10 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_PAY);
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.purse_after, 4700);
    assert_int_equal(e.counter_before, 1);
    assert_int_equal(e.counter_after, 2);
    till_expect_desfire(&t, 2, 25, 4700, 2);

    q = till_request(TERMINAL_PAY_EARN, 300, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 4400);
    assert_int_equal(r.points, 3);
    assert_int_equal(r.after.points, 28);
    assert_int_equal(r.round_trips, 10 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_PAY_EARN);
    assert_int_equal(e.amount_cents, 300);
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.points, 3);
    assert_int_equal(e.n_lines, 3); /* base, the two state lines */
    till_expect_state_lines(&e, &r.before);
    assert_int_equal(e.purse_after, 4400);
    assert_int_equal(e.points_after, 28);
    assert_int_equal(e.counter_after, 3);
    till_expect_desfire(&t, 3, 28, 4400, 3);

    /* The void gives back the purse (LimitedCredit) and the points. */
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.points, -3);
    assert_int_equal(r.after.points, 25);
    assert_int_equal(r.after.seq, 4);
    /* select, auth (2), state, counter, purse; write, LimitedCredit, debit, commit */
    assert_int_equal(r.round_trips, 10 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_VOID);
    assert_int_equal(e.ref_seq, 3); /* the pay + earn */
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.points, -3);
    assert_int_equal(e.purse_after, 4700);
    assert_int_equal(e.counter_before, 3);
    assert_int_equal(e.counter_after, 4);
    till_expect_desfire(&t, 4, 25, 4700, 4);

    /* Nothing left to void: the void is never voided. */
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);

    q = till_request(TERMINAL_BALANCE, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.after.points, 25);
    assert_int_equal(r.taps_after, 4);
    /* select, auth (2), state, counter, purse, bonos */
    assert_int_equal(r.round_trips, 7 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_BALANCE);
    assert_int_equal(e.counter_before, 4);
    assert_int_equal(e.counter_after, 4);
    assert_int_equal(e.purse_after, 4700);
    assert_int_equal(till_entries(&t, NULL, 0), 5);
    till_expect_desfire(&t, 4, 25, 4700, 4);
    till_close(&t);
}

static void test_redeem_stamp_and_bono(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e;
    struct card_view v;

    till_make_desfire(f, 0, 5); /* bono 21: 5 sessions (the sale is tap 1) */
    till_open(&t, f, 3, NULL);

    q = till_request(TERMINAL_REDEEM, 0, 0, 5);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.points, -10);
    assert_int_equal(r.after.points, 15);
    assert_int_equal(r.redeemed.kind, RULES_REWARD_PRODUCT);
    assert_int_equal(r.redeemed.product_id, 1234);
    assert_int_equal(r.round_trips, 8 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_REDEEM);
    assert_int_equal(e.item, 5);
    assert_int_equal(e.points, -10);
    assert_int_equal(e.points_after, 15);

    /* Too few points for reward 6 (30): refused by the engine, journaled. */
    q = till_request(TERMINAL_REDEEM, 0, 0, 6);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_RULES_POINTS);

    /* Three stamps on card 0: the third grants reward 9, the count starts over. */
    q = till_request(TERMINAL_STAMP, 0, 0, 0);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
        assert_int_equal(r.outcome, TERMINAL_DONE);
        assert_int_equal(r.after.stamps[0], i % 3);
        assert_int_equal(r.stamp_rewards[0], i == 3 ? 1 : 0);
        assert_int_equal(r.round_trips, 8 + EV1_PROBE);
    }
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_STAMP);
    assert_int_equal(e.item, 0);
    assert_int_equal(e.quantity, 1);
    assert_int_equal(e.stamps_after[0], 0);
    q = till_request(TERMINAL_STAMP, 0, 0, 1);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_STAMP_CARD);

    q = till_request(TERMINAL_BONO, 0, 0, 21);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.bono_left, 4);
    assert_int_equal(r.after.seq, r.before.seq); /* a bono use writes no state */
    /* select, auth (2), state, counter, bonos; write bonos, debit, commit */
    assert_int_equal(r.round_trips, 9 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_BONO);
    assert_int_equal(e.item, 21);
    assert_int_equal(e.quantity, 1);
    assert_int_equal(e.bono_left, 4);
    assert_int_equal(e.counter_after, e.counter_before + 1);

    /* Its void gives the session back. */
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_VOID);
    assert_int_equal(e.quantity, -1);
    assert_int_equal(e.bono_left, 5);
    /* select, auth (2), state, counter, bonos; write bonos, debit, commit */
    assert_int_equal(r.round_trips, 9 + EV1_PROBE);
    q = till_request(TERMINAL_BONO, 0, 0, 22);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NO_BONO);
    assert_int_equal(r.round_trips, 6 + EV1_PROBE); /* the read with the bonos: nothing written */

    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 15);
    assert_int_equal(v.state.stamps[0], 0);
    assert_int_equal(v.bonos.slot[0].id, 21);
    assert_int_equal(v.bonos.slot[0].sessions, 5);
    /* sale 1, redeem 1, stamps 3, bono 1, void 1 */
    assert_int_equal(v.taps, 7);
    till_close(&t);
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct package_hot hot = {TILL_CARD_ID, PACKAGE_HOT_LOST};
    struct package_floor floor = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, 0, 2, 0, {0}};
    struct terminal_result r;
    struct journal_entry e;

    till_make_desfire(f, 5000, 0);

    /* Hot-listed. */
    till_open(&t, f, 3, &(struct till_package){.hot = &hot, .hot_count = 1});
    assert_int_equal(till_expect_refused(
                         &t, &(struct terminal_request){.op = TERMINAL_EARN, .amount_cents = 100},
                         LEAL_E_TERMINAL_HOT_LISTED),
                     5 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    assert_int_equal(e.amount_cents, 100);
    assert_int_equal(e.points_after, 25);
    till_close(&t);

    /* Behind its floor: the host saw 2 taps, the card shows 1 (a restored copy). */
    till_open(&t, f, 3, &(struct till_package){.floors = &floor, .floor_count = 1});
    assert_int_equal(till_expect_refused(
                         &t, &(struct terminal_request){.op = TERMINAL_EARN, .amount_cents = 100},
                         LEAL_E_TERMINAL_BEHIND_FLOOR),
                     5 + EV1_PROBE);
    till_close(&t);
    floor.taps = 1; /* at the floor: taken */
    till_open(&t, f, 3, &(struct till_package){.floors = &floor, .floor_count = 1});
    q = earn_of(100);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    till_close(&t);

    /* An expired package: valid until an hour from now, tapped two hours on. */
    till_open(&t, f, 3, &(struct till_package){.valid_until = TILL_NOW + 3600});
    t.now.utc_seconds = TILL_NOW + 7200;
    assert_int_equal(till_expect_refused(
                         &t, &(struct terminal_request){.op = TERMINAL_EARN, .amount_cents = 100},
                         LEAL_E_PACKAGE_EXPIRED),
                     5 + EV1_PROBE);
    till_close(&t);

    /* Offline caps: 10.00 a day, 15.00 between syncs. */
    till_open(&t, f, 3, &(struct till_package){.cap_day_cents = 1000, .cap_sync_cents = 1500});
    q = till_request(TERMINAL_PAY, 0, 800, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(
        till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_PAY, .pay_cents = 300},
                            LEAL_E_TERMINAL_CAP_DAY),
        6 + EV1_PROBE);
    t.now.utc_seconds += 86400; /* the next day: the day's cap again, not the sync's */
    assert_int_equal(
        till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_PAY, .pay_cents = 800},
                            LEAL_E_TERMINAL_CAP_SYNC),
        6 + EV1_PROBE);
    q = till_request(TERMINAL_PAY, 0, 700, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 3500);
    /* More than the purse holds; a top-up. */
    assert_int_equal(
        till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_PAY, .pay_cents = 3501},
                            LEAL_E_TERMINAL_FUNDS),
        6 + EV1_PROBE);
    assert_int_equal(till_expect_refused(
                         &t, &(struct terminal_request){.op = TERMINAL_TOPUP, .amount_cents = 1000},
                         LEAL_E_TERMINAL_TOPUP_OFFLINE),
                     5 + EV1_PROBE);
    till_close(&t);
    /* earn 1.00 (taps 2), pay 8.00, pay 7.00 */
    till_expect_desfire(&t, 4, 26, 3500, 4);
    reader_close(t.r);
}

static void test_another_programs_card_is_refused(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct journal_entry e;

    till_make_desfire(f, 0, 0);
    assert_int_equal(keyset_add_program(f->keys, 8, 1700000000, till_openssl_random), LEAL_OK);
    /* A terminal of program 8: its keys do not open program 7's card, whose
     * identity then says whose it is. */
    till_open(&t, f, 3, &(struct till_package){.program_id = 8});
    assert_int_equal(till_expect_refused(
                         &t, &(struct terminal_request){.op = TERMINAL_EARN, .amount_cents = 100},
                         LEAL_E_CARD_NOT_LEAL),
                     5 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.card_id, TILL_CARD_ID); /* as its identity names it */
    assert_int_equal(e.counter_before, 0);     /* nothing of it was read */
    till_close(&t);
}

/* The card's state body as the desk reads it, seq aside. */
static void expect_state(struct till *t, const struct state_body *want, uint32_t seq)
{
    struct card_view v;
    till_read_desfire(t->f, &v);
    assert_int_equal(v.state.seq, seq);
    assert_int_equal(v.state.points, want->points);
    assert_int_equal(v.state.tier, want->tier);
    assert_memory_equal(v.state.stamps, want->stamps, sizeof want->stamps);
    assert_int_equal(v.state.period, want->period);
    assert_memory_equal(v.state.buckets, want->buckets, sizeof want->buckets);
    till_present(t);
}

/* One void after the terminal restarted: the last operation is taken from
 * its journal and undone exactly as the terminal's memory undoes it. */
static void void_after_restart(struct till *t, const struct terminal_request *q,
                               const struct state_body *before, int32_t purse, uint16_t bono,
                               unsigned round_trips)
{
    struct terminal_request vd = till_request(TERMINAL_VOID, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry op, e;
    assert_int_equal(till_tap(t, q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    till_last_entry(t, &op);
    till_restart(t);
    assert_int_equal(till_tap(t, &vd, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, round_trips + EV1_PROBE);
    assert_int_equal(r.purse_after, purse);
    assert_int_equal(r.after.points, before->points);
    till_last_entry(t, &e);
    assert_int_equal(e.op, JOURNAL_OP_VOID);
    assert_int_equal(e.ref_epoch, op.epoch);
    assert_int_equal(e.ref_seq, op.seq);
    assert_int_equal(e.item, op.item);
    assert_int_equal(e.purse_cents, op.purse_cents);
    assert_int_equal(e.points, -op.points);
    assert_int_equal(e.quantity, -op.quantity);
    assert_int_equal(e.points_after, before->points);
    assert_int_equal(e.counter_before, op.counter_after);
    assert_int_equal(e.counter_after, op.counter_after + 1);
    if (op.op == JOURNAL_OP_BONO)
        assert_int_equal(e.bono_left, bono);
    /* Once voided, nothing more: not after another restart either. */
    assert_int_equal(till_tap(t, &vd, &r), LEAL_OK);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);
    till_restart(t);
    assert_int_equal(till_expect_refused(t, &vd, LEAL_E_TERMINAL_NOTHING_TO_VOID), 5 + EV1_PROBE);
}

static void test_void_after_a_restart(void **state)
{
    struct fixture *f = *state;
    struct till t, b;
    struct terminal_request q;
    struct terminal_result r;
    struct card_view v;

    till_make_desfire(f, 5000, 5); /* taps 2: the credit and the bono's sale */
    till_open(&t, f, 3, NULL);
    q = earn_of(2350);
    q.n_items = 1;
    q.items[0] = (struct rules_item){3, 1, 320};
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK); /* 51 points, stamp 1, 23 in bucket 0 */
    till_read_desfire(f, &v);
    till_present(&t);
    assert_int_equal(v.state.buckets[0], 23);
    assert_int_equal(v.state.stamps[0], 1);

    /* pay + earn: purse, points, the sale's stamp and units back */
    q = till_request(TERMINAL_PAY_EARN, 300, 300, 0);
    void_after_restart(&t, &q, &v.state, 5000, 0, 10);
    expect_state(&t, &v.state, 4);
    till_expect_desfire(&t, 4, 51, 5000, 5);

    /* redeem: the points back */
    q = till_request(TERMINAL_REDEEM, 0, 0, 6); /* voucher, 30 points */
    void_after_restart(&t, &q, &v.state, 0, 0, 8);
    expect_state(&t, &v.state, 6);

    /* a stamp that completed the card (2 + 1 = 3: reward 9): back to 2 */
    q = till_request(TERMINAL_STAMP, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.after.stamps[0], 2);
    till_read_desfire(f, &v);
    till_present(&t);
    void_after_restart(&t, &q, &v.state, 0, 0, 8);
    expect_state(&t, &v.state, 9);

    /* a bono session: back to 5 (bonos read and written, no state: 9 RT) */
    q = till_request(TERMINAL_BONO, 0, 0, 21);
    void_after_restart(&t, &q, &v.state, 0, 5, 9);
    expect_state(&t, &v.state, 9);
    till_read_desfire(f, &v);
    till_present(&t);
    assert_int_equal(v.bonos.slot[0].sessions, 5);
    assert_int_equal(v.taps, 12);

    /* an earn, then the card taps at another terminal: its counter moved on,
     * so the restarted terminal voids nothing. */
    q = earn_of(500);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    till_open(&b, f, 4, NULL);
    assert_int_equal(till_tap(&b, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    till_close(&b);
    till_restart(&t);
    assert_int_equal(till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_VOID},
                                         LEAL_E_TERMINAL_NOTHING_TO_VOID),
                     5 + EV1_PROBE);
    till_expect_desfire(&t, 11, 61, 5000, 14);
    till_close(&t);
}

/* An earn in a new month rolls the card's period (its buckets move on one);
 * voided after a restart, the card goes back to the period and buckets it
 * had, from the earn's state lines (JOURNAL.md "State lines"), exactly as the
 * terminal's memory would undo it. */
static void test_void_after_a_restart_undoes_a_period_roll(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q = earn_of(1000);
    struct terminal_result r;
    struct journal_entry e;
    struct card_view v;

    till_make_desfire(f, 0, 0);
    till_open(&t, f, 3, NULL);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK); /* 28 May: 35 points, 10 in May */
    till_read_desfire(f, &v);
    till_present(&t);
    assert_int_equal(v.state.points, 35);
    assert_int_equal(v.state.period, (2026 - 2000) * 12 + 5);
    assert_int_equal(v.state.buckets[0], 10);
    assert_int_equal(v.state.buckets[1], 0);
    assert_int_equal(v.state.stamps[0], 1);

    /* 2 June: 20.00 rolls the card into June (buckets 20, 10), then the void. */
    t.now.utc_seconds = TILL_NOW + 5 * 86400;
    q = earn_of(2000);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.after.period, (2026 - 2000) * 12 + 6);
    assert_int_equal(r.after.buckets[0], 20);
    assert_int_equal(r.after.buckets[1], 10);
    assert_int_equal(r.after.points, 55);
    till_last_entry(&t, &e);
    till_expect_state_lines(&e, &v.state); /* May's period and buckets */
    till_restart(&t);
    struct terminal_request vd = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &vd, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 35);
    expect_state(&t, &v.state, v.state.seq + 2);
    till_close(&t);
}

/* The till's rules with a second stamp card: one stamp per cafe item, 4 give
 * reward 5. */
static void two_stamp_cards(struct rules_set *s)
{
    till_rules(s);
    s->program.n_stamps = 2;
    s->program.stamps[1] = (struct rules_stamp){RULES_STAMP_PER_ITEM, 3, 4, 5, 0};
}

/* On a program of two stamp cards an earn that stamped both is voided after
 * a restart: each card's count back, from the earn's state lines (the entry's
 * quantity is only their sum). */
static void test_void_after_a_restart_with_two_stamp_cards(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct till_package pp = {0};
    struct terminal_request q = earn_of(500);
    struct terminal_result r;
    struct card_view v;

    pp.rules = two_stamp_cards;
    till_make_desfire(f, 0, 0);
    till_open(&t, f, 3, &pp);
    q.n_items = 1;
    q.items[0] = (struct rules_item){3, 1, 500};
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    till_read_desfire(f, &v);
    till_present(&t);
    assert_int_equal(v.state.stamps[0], 1);
    assert_int_equal(v.state.stamps[1], 1);

    q.items[0] = (struct rules_item){3, 2, 800}; /* two cafe items: 1 + 2 stamps */
    q.amount_cents = 800;
    void_after_restart(&t, &q, &v.state, 0, 0, 8);
    expect_state(&t, &v.state, v.state.seq + 2);
    till_close(&t);
}

/* A random-UID card (LAYOUT.md 2.4): its anticollision UID changes at every
 * activation, so the terminal reads its plain identity first for the card id
 * its keys are diversified with (+1 RT on every tap), then everything as on
 * a fixed-UID card, with exact points, euros, sessions, journal entries. */
static void test_random_uid_card(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e;
    struct reader_card rc;
    struct package_hot hot = {TILL_CARD_ID, PACKAGE_HOT_LOST};

    till_make_desfire_uid(f, 5000, 5, true); /* taps 2: the credit, the bono's sale */
    till_open(&t, f, 3, NULL);
    assert_int_equal(reader_card_info(t.r, &rc), LEAL_OK);
    assert_int_equal(rc.uid_len, 4);
    assert_int_equal(rc.uid[0], 0x08);

    q = earn_of(2350);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.card_id, TILL_CARD_ID);
    assert_int_equal(r.points, 23);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.taps_before, 2);
    assert_int_equal(r.taps_after, 3);
    /* select, identity, authenticate (2), state, counter; write, debit, commit */
    assert_int_equal(r.round_trips, 9 + EV1_PROBE);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_EARN);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    assert_int_equal(e.counter_before, 2);
    assert_int_equal(e.counter_after, 3);
    assert_int_equal(e.points_after, 48);

    till_present(&t); /* out of the field and back: another UID, the same card */
    q = till_request(TERMINAL_PAY_EARN, 1000, 700, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 4300);
    assert_int_equal(r.after.points, 58);
    assert_int_equal(r.round_trips, 11 + EV1_PROBE);

    q = till_request(TERMINAL_REDEEM, 0, 0, 5);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.round_trips, 9 + EV1_PROBE);
    q = till_request(TERMINAL_STAMP, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.after.stamps[0], 0); /* the earn's, the pay + earn's, this: reward */
    assert_int_equal(r.stamp_rewards[0], 1);
    assert_int_equal(r.round_trips, 9 + EV1_PROBE);
    q = till_request(TERMINAL_BONO, 0, 0, 21);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.bono_left, 4);
    assert_int_equal(r.round_trips, 10 + EV1_PROBE);
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 10 + EV1_PROBE);
    q = till_request(TERMINAL_PAY, 0, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.purse_after, 4000);
    assert_int_equal(r.round_trips, 11 + EV1_PROBE);
    /* and its void after a restart */
    till_restart(&t);
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 4300);
    assert_int_equal(r.round_trips, 11 + EV1_PROBE);
    q = till_request(TERMINAL_BALANCE, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.round_trips, 8 + EV1_PROBE);
    assert_int_equal(r.purse_after, 4300);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.taps_after, 10);
    till_expect_desfire(&t, 7, 48, 4300, 10);
    till_close(&t);

    /* Refused after the read (hot-listed): the read's 6. */
    till_open(&t, f, 3, &(struct till_package){.hot = &hot, .hot_count = 1});
    assert_int_equal(till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_EARN},
                                         LEAL_E_TERMINAL_HOT_LISTED),
                     6 + EV1_PROBE);
    till_close(&t);
    /* Another program's terminal: the plain identity names program 7, so the
     * card is refused before any key is tried (select, identity: 2 RT). */
    assert_int_equal(keyset_add_program(f->keys, 8, 1700000000, till_openssl_random), LEAL_OK);
    till_open(&t, f, 3, &(struct till_package){.program_id = 8});
    assert_int_equal(till_expect_refused(&t, &(struct terminal_request){.op = TERMINAL_EARN},
                                         LEAL_E_CARD_NOT_LEAL),
                     2);
    till_last_entry(&t, &e);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    till_close(&t);
}

/* A journal full of entries the host has not acknowledged: the earn stops
 * before the commit, its staged writes die with the session, the card is as
 * it was, and nothing is journaled. */
static void test_full_journal_leaves_the_card_untouched(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_request q = till_request(TERMINAL_EARN, 500, 0, 0);
    struct terminal_result r;
    unsigned taps = 0;
    leal_err err;

    till_make_desfire(f, 0, 0);
    till_open(&t, f, 3, NULL);
    /* 4 units of 8 slots: the EPOCH, then balances until the last unit
     * would have to be erased over unacknowledged entries (one slot is kept
     * for the journal's own ACK or RECOVERY). */
    while ((err = till_tap(&t, &bal, &r)) == LEAL_OK)
        taps++;
    assert_int_equal(err, LEAL_E_JOURNAL_FULL);
    assert_int_equal(taps, TILL_JOURNAL_UNITS * (TILL_JOURNAL_UNIT / JOURNAL_SLOT) - 2);
    till_present(&t);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_E_JOURNAL_FULL);
    /* the read (5), the staged write and debit (2), AbortTransaction */
    assert_int_equal(r.round_trips, 8 + EV1_PROBE);
    assert_int_equal(till_entries(&t, NULL, 0), taps);
    till_expect_desfire(&t, 1, 25, 0, 0);
    till_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_earn_writes_points_stamps_and_journal,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_pay_pay_earn_balance_and_void, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_redeem_stamp_and_bono, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_another_programs_card_is_refused, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_full_journal_leaves_the_card_untouched,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_void_after_a_restart, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_random_uid_card, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_void_after_a_restart_undoes_a_period_roll,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_void_after_a_restart_with_two_stamp_cards,
                                        desk_fixture_setup, desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
