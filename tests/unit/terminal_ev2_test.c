/* terminal_ev2_test.c - an offline terminal's taps on DESFire EV2 and EV3
 * cards under EV2 secure messaging (firmware/core/terminal.c, issue 19):
 * earn, pay, pay + earn, void, redeem and balance through the virtual card
 * with exact points, euros, journal entries and round trips, each card then
 * read back at the desk; the AuthenticateEV2First the card sees; an EV1
 * beside them; and a card the package knows as EV2 whose 71 is answered as
 * an EV1 would (a downgrade in the field) refused before anything is
 * written; a random-UID EV3; an EV1 the package's floor names as one,
 * opened with AA first (its UID kept by the terminal, or a random-UID
 * card's card id looked up before the authentication). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/desfire/desfire_tmac.h"
#include "cardlayout/layout.h"
#include "host/reader/reader.h"
#include "keys/base/bytes.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/till.h"

/* A reader between the terminal and the card: counts the DESFire commands
 * the card is sent by code, and (downgrade) answers AuthenticateEV2First
 * itself with ILLEGAL_COMMAND, as an EV1 does, without the card seeing it. */
struct field {
    const struct card_reader *inner;
    struct card_reader self;
    bool downgrade;
    unsigned sent[256];
};

static leal_err field_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                 size_t resp_cap, size_t *resp_len)
{
    struct field *w = ctx;
    uint8_t ins = cmd_len > 1 && cmd[0] == 0x90 ? cmd[1] : 0;
    if (w->downgrade && ins == 0x71 && resp_cap >= 2) {
        resp[0] = 0x91;
        resp[1] = 0x1C;
        *resp_len = 2;
        return LEAL_OK;
    }
    w->sent[ins]++;
    return w->inner->transceive(w->inner->ctx, cmd, cmd_len, resp, resp_cap, resp_len);
}

/* Wraps the till's reader (again after each till_present); on w already
 * wrapping it, starts w's counts again. */
static void field_on(struct till *t, struct field *w, bool downgrade)
{
    const struct card_reader *inner = t->port.reader == &w->self ? w->inner : t->port.reader;
    memset(w, 0, sizeof *w);
    w->inner = inner;
    w->self = *w->inner;
    w->self.ctx = w;
    w->self.transceive = field_transceive;
    w->downgrade = downgrade;
    t->port.reader = &w->self;
}

/* Earn, pay, pay + earn, void, redeem and balance on one card of type:
 * every tap under EV2 secure messaging (71 answered, never AA). */
static void transactions_on(struct fixture *f, const char *type)
{
    struct till t;
    struct field w;
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e;

    till_make_desfire_type(f, type, 5000, 0, false);
    till_open(&t, f, 3, NULL);

    /* earn 23.50: 23 points; select, AuthenticateEV2First (2), state,
     * counter; write, debit, commit */
    field_on(&t, &w, false);
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(w.sent[0x71], 1);
    assert_int_equal(w.sent[0xAA], 0);
    assert_int_equal(r.card_id, TILL_CARD_ID);
    assert_int_equal(r.points, 23);
    assert_int_equal(r.before.points, 25);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.after.seq, 2);
    assert_int_equal(r.taps_before, 1);
    assert_int_equal(r.taps_after, 2);
    assert_int_equal(r.round_trips, 8);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_EARN);
    assert_int_equal(e.card_kind, JOURNAL_CARD_DESFIRE);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    assert_int_equal(e.amount_cents, 2350);
    assert_int_equal(e.points, 23);
    assert_int_equal(e.points_after, 48);
    assert_int_equal(e.counter_before, 1);
    assert_int_equal(e.counter_after, 2);
    assert_int_equal(e.n_lines, 3); /* base, the two state lines */
    till_expect_state_lines(&e, &r.before);
    till_expect_desfire(&t, 2, 48, 5000, 2);

    /* pay 3.00: + GetValue purse, Debit purse (FULL, enciphered with IVc) */
    field_on(&t, &w, false);
    q = till_request(TERMINAL_PAY, 0, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(w.sent[0xDC], 2); /* purse and counter */
    assert_int_equal(r.purse_before, 5000);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.points, 0);
    assert_int_equal(r.round_trips, 10);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_PAY);
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.purse_after, 4700);
    assert_int_equal(e.counter_before, 2);
    assert_int_equal(e.counter_after, 3);
    till_expect_desfire(&t, 3, 48, 4700, 3);

    /* pay 3.00 + earn 3.00 */
    field_on(&t, &w, false);
    q = till_request(TERMINAL_PAY_EARN, 300, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(r.purse_after, 4400);
    assert_int_equal(r.points, 3);
    assert_int_equal(r.after.points, 51);
    assert_int_equal(r.round_trips, 10);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_PAY_EARN);
    assert_int_equal(e.amount_cents, 300);
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.points, 3);
    assert_int_equal(e.purse_after, 4400);
    assert_int_equal(e.points_after, 51);
    assert_int_equal(e.counter_after, 4);
    till_expect_desfire(&t, 4, 51, 4400, 4);

    /* void: LimitedCredit gives the 3.00 back (FULL), the points go */
    field_on(&t, &w, false);
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(w.sent[0x1C], 1);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.points, -3);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.after.seq, 5);
    assert_int_equal(r.round_trips, 10);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_VOID);
    assert_int_equal(e.ref_seq, 4); /* the pay + earn */
    assert_int_equal(e.purse_cents, 300);
    assert_int_equal(e.points, -3);
    assert_int_equal(e.purse_after, 4700);
    assert_int_equal(e.counter_before, 4);
    assert_int_equal(e.counter_after, 5);
    till_expect_desfire(&t, 5, 48, 4700, 5);

    /* redeem reward 5 (product 1234, 10 points) */
    field_on(&t, &w, false);
    q = till_request(TERMINAL_REDEEM, 0, 0, 5);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(r.points, -10);
    assert_int_equal(r.after.points, 38);
    assert_int_equal(r.redeemed.kind, RULES_REWARD_PRODUCT);
    assert_int_equal(r.redeemed.product_id, 1234);
    assert_int_equal(r.round_trips, 8);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_REDEEM);
    assert_int_equal(e.item, 5);
    assert_int_equal(e.points, -10);
    assert_int_equal(e.points_after, 38);
    assert_int_equal(e.counter_after, 6);
    till_expect_desfire(&t, 6, 38, 4700, 6);

    /* balance: select, auth (2), state, counter, purse, bonos */
    field_on(&t, &w, false);
    q = till_request(TERMINAL_BALANCE, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.after.points, 38);
    assert_int_equal(r.taps_after, 6);
    assert_int_equal(r.round_trips, 7);
    assert_int_equal(w.sent[0xAA], 0);
    till_close(&t);
}

static void test_ev2_transactions(void **state)
{
    transactions_on(*state, "desfire-ev2");
}

static void test_ev3_transactions(void **state)
{
    transactions_on(*state, "desfire-ev3");
}

/* An EV1 answers 71 ILLEGAL_COMMAND and is opened with AA: one exchange
 * more, everything else as before. */
static void test_ev1_keeps_aa(void **state)
{
    struct till t;
    struct field w;
    struct terminal_request q = till_request(TERMINAL_EARN, 2350, 0, 0);
    struct terminal_result r;

    till_make_desfire(*state, 5000, 0);
    till_open(&t, *state, 3, NULL);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_false(r.ev2);
    assert_int_equal(w.sent[0x71], 1);
    assert_int_equal(w.sent[0xAA], 1);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.round_trips, 9);
    till_expect_desfire(&t, 2, 48, 5000, 2);
    till_close(&t);
}

/* A DESFire EV1 (random_uid or fixed-UID) the package's floor fl names,
 * made and tapped once with q at a terminal opened with fl: 48 points after,
 * an AA session, round_trips exchanges. A fixed-UID card still sends 71
 * first (its UID tells nothing before the read) and the terminal keeps its
 * UID; a random-UID card is named by the card id of its plain identity, so
 * AA comes first and nothing is kept. The till stays open. */
static void named_ev1_first_tap(struct fixture *f, bool random_uid, struct package_floor *fl,
                                const struct terminal_request *q, unsigned round_trips,
                                struct till *t, struct field *w, struct terminal_result *r)
{
    till_make_desfire_uid(f, 5000, 0, random_uid);
    till_open(t, f, 3, &(struct till_package){.floors = fl, .floor_count = 1});
    field_on(t, w, false);
    assert_int_equal(till_tap(t, q, r), LEAL_OK);
    assert_int_equal(r->outcome, TERMINAL_DONE);
    assert_false(r->ev2);
    assert_int_equal(w->sent[0x71], random_uid ? 0 : 1);
    assert_int_equal(w->sent[0xAA], 1);
    assert_int_equal(r->card_id, TILL_CARD_ID);
    assert_int_equal(r->after.points, 48);
    assert_int_equal(r->round_trips, round_trips);
    assert_int_equal(t->t.ev1_count, random_uid ? 0 : 1);
}

/* The same card's tap of q at a terminal whose package names no card: 71
 * first, then AA, round_trips exchanges, no UID kept. The till stays open. */
static void unnamed_ev1_tap(struct fixture *f, const struct terminal_request *q,
                            unsigned round_trips, struct till *t, struct field *w,
                            struct terminal_result *r)
{
    till_open(t, f, 3, NULL);
    field_on(t, w, false);
    assert_int_equal(till_tap(t, q, r), LEAL_OK);
    assert_int_equal(r->outcome, TERMINAL_DONE);
    assert_false(r->ev2);
    assert_int_equal(w->sent[0x71], 1);
    assert_int_equal(w->sent[0xAA], 1);
    assert_int_equal(r->round_trips, round_trips);
    assert_int_equal(t->t.ev1_count, 0);
}

/* The package's floor names the card as an EV1 (no EV2 flag): a fixed-UID
 * card's first tap at a terminal still sends 71 (its UID tells nothing
 * before the read) and the terminal keeps the UID; its next taps there send
 * AA first, one exchange less (issue 13: earn 9 -> 8, pay + earn 11 -> 10).
 * A card of the same UID whose floor says EV2 is refused as a downgrade and
 * forgotten (71 first again); a restarted terminal forgets (RAM only). */
static void test_ev1_named_aa_first(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct field w;
    struct terminal_request q = till_request(TERMINAL_EARN, 2350, 0, 0);
    struct terminal_result r;
    struct package_floor fl = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, 0, 1, 0, {0}};

    /* select, 71, AA (2), state, counter; write, debit, commit */
    named_ev1_first_tap(f, false, &fl, &q, 9, &t, &w, &r);

    /* earn: select, AA (2), state, counter; write, debit, commit */
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_false(r.ev2);
    assert_int_equal(w.sent[0x71], 0);
    assert_int_equal(w.sent[0xAA], 1);
    assert_int_equal(r.points, 23);
    assert_int_equal(r.after.points, 71);
    assert_int_equal(r.round_trips, 8);

    /* pay 3.00 + earn 23.50: + GetValue purse, Debit purse */
    field_on(&t, &w, false);
    q = till_request(TERMINAL_PAY_EARN, 2350, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(w.sent[0x71], 0);
    assert_int_equal(r.after.points, 94);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.round_trips, 10);
    till_expect_desfire(&t, 4, 94, 4700, 4);

    /* A package naming the same card as an EV2 reaches a terminal that
     * keeps the UID (its memory carried over, as a package update at a
     * running terminal leaves it): AA first, refused as a downgrade before
     * anything is written, the UID forgotten; the next tap sends 71 again. */
    uint8_t kept[TERMINAL_EV1_UIDS][TERMINAL_EV1_UID_LEN];
    uint8_t kept_count = t.t.ev1_count;
    memcpy(kept, t.t.ev1_uid, sizeof kept);
    till_close(&t);
    fl.flags = PACKAGE_FLOOR_EV2;
    fl.taps = 4;
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    memcpy(t.t.ev1_uid, kept, sizeof kept);
    t.t.ev1_count = kept_count;
    field_on(&t, &w, false);
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_CARD_EV2_DOWNGRADE);
    assert_int_equal(w.sent[0x71], 0);
    assert_int_equal(w.sent[0x3D] + w.sent[0xDC] + w.sent[0xC7], 0);
    assert_int_equal(t.t.ev1_count, 0);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(w.sent[0x71], 1);
    assert_int_equal(w.sent[0xAA], 1);
    till_expect_desfire(&t, 4, 94, 4700, 4);
    till_close(&t);

    /* Not named (no floor): 71 first, and nothing kept (so again next tap). */
    unnamed_ev1_tap(f, &q, 9, &t, &w, &r);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(w.sent[0x71], 1);
    assert_int_equal(r.round_trips, 9);
    till_close(&t);
}

/* A random-UID EV1 the floor names (its card id, from the plain identity
 * read before the authentication): AA first from its first tap. */
static void test_random_uid_ev1_named(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct field w;
    struct terminal_request q = till_request(TERMINAL_PAY_EARN, 2350, 300, 0);
    struct terminal_result r;
    struct package_floor fl = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, 0, 1, 0, {0}};

    /* select, identity, AA (2), state, counter, purse;
     * write, debit purse, debit counter, commit */
    named_ev1_first_tap(f, true, &fl, &q, 11, &t, &w, &r);
    assert_int_equal(r.purse_after, 4700);
    till_close(&t);

    /* Not named (no floor): 71 first, as today: 12. */
    unnamed_ev1_tap(f, &q, 12, &t, &w, &r);
    till_expect_desfire(&t, 3, 71, 4400, 3);
    till_close(&t);
}

/* A random-UID EV3 (LAYOUT.md 2.4): its plain identity first (the card id
 * diversifies its keys), then AuthenticateEV2First as on a fixed-UID card. */
static void test_random_uid_ev3(void **state)
{
    struct till t;
    struct field w;
    struct terminal_request q = till_request(TERMINAL_PAY_EARN, 2350, 300, 0);
    struct terminal_result r;

    till_make_desfire_type(*state, "desfire-ev3", 5000, 0, true);
    till_open(&t, *state, 3, NULL);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(w.sent[0x71], 1);
    assert_int_equal(w.sent[0xAA], 0);
    assert_int_equal(r.card_id, TILL_CARD_ID);
    assert_int_equal(r.points, 23);
    assert_int_equal(r.after.points, 48);
    assert_int_equal(r.purse_after, 4700);
    /* select, identity, 71 (2), state, counter, purse; write, debit purse, debit counter, commit */
    assert_int_equal(r.round_trips, 11);
    till_expect_desfire(&t, 2, 48, 4700, 2);
    till_close(&t);
}

/* The package's floor names the card as an EV2 (its issuance): a field that
 * answers 71 as an EV1 gets an AA session, which the terminal refuses
 * (journaled, nothing written). Without the floor's EV2 flag the same tap
 * goes through under AA: the flag is what stops the downgrade. */
static void test_downgrade_refused(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct field w;
    struct terminal_request q = till_request(TERMINAL_PAY, 0, 300, 0);
    struct terminal_result r;
    struct journal_entry e;
    struct package_floor fl = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2, 1, 0, {0}};

    till_make_desfire_type(f, "desfire-ev3", 5000, 0, false);
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    field_on(&t, &w, true);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_CARD_EV2_DOWNGRADE);
    assert_false(r.ev2);
    assert_int_equal(w.sent[0x71], 0); /* the card never saw it */
    assert_int_equal(w.sent[0xAA], 1);
    assert_int_equal(w.sent[0x3D] + w.sent[0xDC] + w.sent[0xC7], 0); /* nothing written */
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_REFUSAL);
    assert_int_equal(e.reason, LEAL_E_CARD_EV2_DOWNGRADE);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    assert_int_equal(e.counter_after, e.counter_before);
    till_expect_desfire(&t, 1, 25, 5000, 1);
    /* The same card, the field honest: EV2, done. */
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(r.purse_after, 4700);
    till_expect_desfire(&t, 2, 25, 4700, 2);
    till_close(&t);

    /* No EV2 flag (an EV1 floor): the downgraded tap is taken as an EV1's. */
    fl.flags = 0;
    fl.taps = 2;
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    field_on(&t, &w, true);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_false(r.ev2);
    assert_int_equal(r.purse_after, 4400);
    till_close(&t);
}

static const uint8_t till_uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

/* The newest entry is the TMAC entry of r's operation: the TMC and TMV the
 * commit answered, the commands' flags, and a TMV that the host's
 * computation over the entry's own bytes, with the card's tmac key, gives
 * exactly (and that a one-byte change of what the card wrote breaks). */
static void expect_tmac(struct fixture *f, struct till *t, const struct terminal_result *r,
                        uint32_t tmc, uint32_t flags, struct journal_tmac *m)
{
    struct journal_entry e;
    struct desfire_tmi tmi;
    uint8_t key[16], want[8];
    assert_true(r->tmac);
    assert_int_equal(r->tmc, tmc);
    assert_int_equal(r->tmac_entry.epoch, r->entry.epoch);
    assert_int_equal(r->tmac_entry.seq, r->entry.seq + 1);
    till_last_entry(t, &e);
    assert_int_equal(e.op, JOURNAL_OP_TMAC);
    assert_int_equal(e.card_kind, JOURNAL_CARD_DESFIRE);
    assert_int_equal(e.card_id, TILL_CARD_ID);
    assert_int_equal(e.ref_epoch, r->entry.epoch);
    assert_int_equal(e.ref_seq, r->entry.seq);
    assert_int_equal(e.counter_before, r->taps_before);
    assert_int_equal(e.counter_after, r->taps_after);
    assert_int_equal(journal_tmac_get(&e, m), LEAL_OK);
    assert_int_equal(m->tmc, tmc);
    assert_int_equal(m->flags, flags);
    assert_memory_equal(m->tmv, r->tmv, 8);
    if (flags & JOURNAL_TMAC_NO_COUNTER) { /* no counter read: none in either entry */
        assert_int_equal(m->counter, 0);
        assert_int_equal(r->taps_before, JOURNAL_COUNTER_NONE);
        assert_int_equal(r->taps_after, JOURNAL_COUNTER_NONE);
    } else {
        assert_int_equal(m->counter, 0x7FFFFFFF - (int32_t)r->taps_before);
    }
    till_tmac_key(f, key);
    assert_int_equal(journal_tmac_tmi(m, &tmi), LEAL_OK);
    assert_int_equal(desfire_tmv(crypto_openssl(), key, tmc, till_uid, &tmi, want), LEAL_OK);
    assert_memory_equal(want, m->tmv, 8);
    m->state_after[9 + 7] ^= 1; /* one point more than the card wrote */
    assert_int_equal(journal_tmac_tmi(m, &tmi), LEAL_OK);
    assert_int_equal(desfire_tmv(crypto_openssl(), key, tmc, till_uid, &tmi, want), LEAL_OK);
    assert_memory_not_equal(want, m->tmv, 8);
    m->state_after[9 + 7] ^= 1;
}

/* An EV3 with the Transaction MAC file, its package floor saying so
 * (PACKAGE_FLOOR_TMAC): each tap that writes commits asking for TMC and TMV
 * (no exchange more) and journals them in a TMAC entry right after its
 * operation's; an earn reads and debits no counter, its TMC stands for it
 * (issue 19: 6 exchanges, both entries' counters JOURNAL_COUNTER_NONE, the
 * TMAC entry's flag 40), a pay + earn and a void read and debit it (10, as
 * without); a balance commits nothing; the same card without the floor's
 * flag commits as before, earn 8, no TMAC entry. */
static void test_tmac_journaled(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e;
    struct journal_tmac m;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};

    till_make_desfire_tmac_v2(f, "desfire-ev3", 5000, 0, false);
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});

    /* earn 23.50: the top-up's commit was TMC 1, this one 2; no counter */
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 6);
    assert_int_equal(r.after.points, 48);
    expect_tmac(f, &t, &r, 2, JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_NO_COUNTER, &m);
    till_last_entry(&t, &e);
    assert_int_equal(e.counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(e.counter_after, JOURNAL_COUNTER_NONE);
    {
        struct journal_entry op[2];
        assert_int_equal(till_entries(&t, op, 2), 2);
        assert_int_equal(op[0].op, JOURNAL_OP_EARN);
        assert_int_equal(op[0].counter_before, JOURNAL_COUNTER_NONE);
        assert_int_equal(op[0].counter_after, JOURNAL_COUNTER_NONE);
    }
    till_expect_desfire(&t, 2, 48, 5000, 1); /* the counter at the top-up's tap */
    assert_int_equal(m.state_before[0], LAYOUT_VERSION_BONOS);
    assert_int_equal(load_be32(m.state_before + 13), 25); /* points before */
    assert_int_equal(load_be32(m.state_after + 13), 48);  /* points after */
    assert_int_equal(till_entries(&t, NULL, 0), 2);

    /* pay 3.00 + earn 3.00: GetValue and Debit purse in the TMI */
    q = till_request(TERMINAL_PAY_EARN, 300, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 10);
    assert_int_equal(r.purse_after, 4700);
    expect_tmac(f, &t, &r, 3,
                JOURNAL_TMAC_PURSE_READ | JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_DEBIT, &m);
    assert_int_equal(m.purse, 5000);
    assert_int_equal(m.purse_moved, 300);

    /* void: LimitedCredit gives the 3.00 back */
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 5000);
    expect_tmac(f, &t, &r, 4,
                JOURNAL_TMAC_PURSE_READ | JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_LIMITED_CREDIT,
                &m);
    assert_int_equal(m.purse, 4700);
    assert_int_equal(m.purse_moved, 300);

    /* balance: no commit, no TMAC entry */
    q = till_request(TERMINAL_BALANCE, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_false(r.tmac);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_BALANCE);
    assert_int_equal(till_entries(&t, NULL, 0), 7);
    till_expect_desfire(&t, 4, 48, 5000, 3);
    till_close(&t);

    /* Without the floor's flag: a commit as before (earn 8), no TMAC entry. */
    fl.flags = PACKAGE_FLOOR_EV2;
    fl.taps = 3;
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 8);
    assert_false(r.tmac);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_EARN);
    assert_int_equal(e.counter_before, 3);
    assert_int_equal(e.counter_after, 4);
    till_close(&t);
}

/* Issue 19's earn in 6 on an EV2 and an EV3 with the Transaction MAC file
 * whose floor says so: select, AuthenticateEV2First (2), ReadData state,
 * WriteData state, CommitTransaction, exactly; no GetValue (6C) and no
 * Debit (DC) reaches the card, its counter stays, its TMC steps. The same
 * card under a floor without the file's flag: 8, the counter read and
 * debited. The earn's void, at once and after a restart, reads the counter
 * (8) and finds the card as the earn left it by its seq and state; a redeem
 * on the card with the file still reads the counter (8: only the earn
 * drops it). */
static void earn_in_six(struct fixture *f, const char *type)
{
    struct till t;
    struct field w;
    struct terminal_request q = till_request(TERMINAL_EARN, 2350, 0, 0);
    struct terminal_result r;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};

    till_make_desfire_tmac_v2(f, type, 5000, 0, false);
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(r.round_trips, 6);
    assert_int_equal(w.sent[0x6C], 0);
    assert_int_equal(w.sent[0xDC], 0);
    assert_int_equal(w.sent[0x71], 1);
    assert_int_equal(w.sent[0xBD], 1);
    assert_int_equal(w.sent[0x3D], 1);
    assert_int_equal(w.sent[0xC7], 1);
    assert_int_equal(r.tmc, 2);
    assert_int_equal(r.after.points, 48);
    till_expect_desfire(&t, 2, 48, 5000, 1);
    /* Its void reads the counter (8) and checks the card by its seq and
     * state (the earn's entry has no counter after to compare): 48 -> 25. */
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 8);
    assert_int_equal(r.after.points, 25);
    assert_int_equal(r.taps_before, 1);
    assert_int_equal(r.tmc, 3);
    till_expect_desfire(&t, 3, 25, 5000, 2);
    /* The same after a restart (the last operation from the journal: the
     * earn's state lines say the seq before). */
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.round_trips, 6);
    assert_int_equal(r.after.points, 48);
    till_restart(&t);
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 25);
    assert_int_equal(r.tmc, 5);
    till_expect_desfire(&t, 5, 25, 5000, 3);
    /* a redeem keeps the counter: 8 */
    q = till_request(TERMINAL_REDEEM, 0, 0, 5);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 8);
    assert_int_equal(w.sent[0x6C], 1);
    assert_int_equal(w.sent[0xDC], 1);
    assert_int_equal(r.taps_before, 3);
    assert_int_equal(r.taps_after, 4);
    assert_int_equal(r.tmc, 6);
    till_close(&t);

    /* Without the file's flag in the floor: the counter as before, 8. */
    fl.flags = PACKAGE_FLOOR_EV2;
    fl.taps = 4;
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 8);
    assert_int_equal(w.sent[0x6C], 1);
    assert_int_equal(w.sent[0xDC], 1);
    assert_false(r.tmac);
    assert_int_equal(r.taps_before, 4);
    assert_int_equal(r.taps_after, 5);
    till_close(&t);
}

/* The card's state file as the terminal key reads it whole (layout 3: 36
 * bytes, LAYOUT.md 2.10): its seq and purse mirror; *purse the card's own
 * GetValue. */
static void card_mirror(struct fixture *f, uint32_t *seq, int32_t *mirror, int32_t *purse)
{
    struct desfire_card_keys keys;
    struct desfire_card c;
    struct reader *r = till_desk_session(f, &keys, &c);
    uint8_t st[STATE_FILE_MAX], version;
    size_t n = 0;
    uint64_t id;
    struct state_body b;
    assert_int_equal(desfire_card_terminal_session(&c), LEAL_OK);
    assert_int_equal(
        desfire_read_file(&c.d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, st, sizeof st, &n), LEAL_OK);
    assert_int_equal(n, STATE_FILE_MIRROR_LEN);
    assert_int_equal(state_file_decode_mirror(st, n, &version, &id, &b, mirror), LEAL_OK);
    assert_int_equal(version, LAYOUT_VERSION_MIRROR);
    assert_int_equal(id, TILL_CARD_ID);
    *seq = b.seq;
    assert_int_equal(desfire_get_value(&c.d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, purse), LEAL_OK);
    desfire_card_clear(&c);
    reader_close(r);
}

static void expect_mirror(struct till *t, uint32_t seq, int32_t purse)
{
    uint32_t s = 0;
    int32_t m = -1, p = -1;
    card_mirror(t->f, &s, &m, &p);
    assert_int_equal(s, seq);
    assert_int_equal(m, purse);
    assert_int_equal(p, purse);
    till_present(t);
}

/* What a stolen terminal key can do: the state written again (seq + 1) with
 * a purse mirror of its choosing, committed. */
static void lie_mirror(struct fixture *f, int32_t mirror)
{
    struct desfire_card_keys keys;
    struct desfire_card c;
    struct reader *r = till_desk_session(f, &keys, &c);
    uint8_t st[STATE_FILE_MAX], version;
    size_t n = 0;
    uint64_t id;
    int32_t was;
    struct state_body b;
    assert_int_equal(desfire_card_terminal_session(&c), LEAL_OK);
    assert_int_equal(
        desfire_read_file(&c.d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, st, sizeof st, &n), LEAL_OK);
    assert_int_equal(state_file_decode_mirror(st, n, &version, &id, &b, &was), LEAL_OK);
    b.seq++;
    assert_int_equal(state_file_encode_mirror(version, id, &b, mirror, st, &n), LEAL_OK);
    assert_int_equal(desfire_write_data(&c.d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st, n),
                     LEAL_OK);
    assert_int_equal(desfire_commit(&c.d), LEAL_OK);
    desfire_card_clear(&c);
    reader_close(r);
}

/* Issue 19's pay + earn in 7 on a layout-3 EV2/EV3 (LAYOUT.md 2.10) whose
 * floor names the Transaction MAC file: select, AuthenticateEV2First (2),
 * ReadData state (whole: 36 bytes, the mirror), WriteData state (the mirror
 * less the payment), Debit purse, CommitTransaction; no GetValue (6C), one
 * Debit (DC: the purse's), the counter left, the TMC stepped. The TMAC
 * entry (flags 80 | 40 | 10 | 04) carries the mirror read, and the host's
 * TMV over its bytes is the card's (the mirror written is in the TMI). A
 * pay alone is 7 too. The void of a pay (LimitedCredit, the counter read:
 * 9) at once and after a restart gives the mirror back with the purse. A
 * payment the mirror cannot cover is refused before any write (4); a
 * mirror that lies high is stopped by the purse's lower limit (91 BE):
 * refused, nothing committed (seq, purse, TMC as they were). */
static void pay_in_seven(struct fixture *f, const char *type)
{
    struct till t;
    struct field w;
    struct terminal_request q = till_request(TERMINAL_PAY_EARN, 300, 300, 0);
    struct terminal_result r;
    struct journal_tmac m;
    struct journal_entry e[4];
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const uint32_t flags = JOURNAL_TMAC_MIRROR | JOURNAL_TMAC_NO_COUNTER |
                           JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_DEBIT;

    /* Issued (seq 1), topped up at the desk with 50.00: seq 2, mirror 5000. */
    till_make_desfire_tmac(f, type, 5000, 0, false);
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    expect_mirror(&t, 2, 5000);

    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.ev2);
    assert_int_equal(r.round_trips, 7);
    assert_int_equal(w.sent[0x71], 1);
    assert_int_equal(w.sent[0xBD], 1);
    assert_int_equal(w.sent[0x6C], 0);
    assert_int_equal(w.sent[0x3D], 1);
    assert_int_equal(w.sent[0xDC], 1);
    assert_int_equal(w.sent[0xC7], 1);
    assert_int_equal(r.purse_before, 5000);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.after.points, 28);
    assert_int_equal(r.after.seq, 3);
    assert_int_equal(r.tmc, 2);
    expect_tmac(f, &t, &r, 2, flags, &m);
    assert_int_equal(m.purse, 5000);
    assert_int_equal(m.purse_moved, 300);
    assert_int_equal(m.state_before[0], LAYOUT_VERSION_MIRROR);
    /* The operation's entry: counters none, purse after 47.00, state lines. */
    assert_int_equal(till_entries(&t, e, 2), 2);
    assert_int_equal(e[0].op, JOURNAL_OP_PAY_EARN);
    assert_int_equal(e[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[0].purse_after, 4700);
    assert_int_equal(e[0].purse_cents, 300);
    expect_mirror(&t, 3, 4700);
    till_expect_desfire(&t, 3, 28, 4700, 1); /* the counter untouched: the top-up's 1 */

    /* A pay alone: 7, its entry with state lines (a restart settles it by seq). */
    q = till_request(TERMINAL_PAY, 0, 200, 0);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 7);
    assert_int_equal(w.sent[0x6C], 0);
    assert_int_equal(w.sent[0xDC], 1);
    assert_int_equal(r.purse_after, 4500);
    assert_int_equal(r.tmc, 3);
    assert_int_equal(till_entries(&t, e, 4), 4);
    assert_int_equal(e[2].op, JOURNAL_OP_PAY);
    assert_int_equal(e[2].n_lines, JOURNAL_STATE_LINES);
    assert_int_equal(e[2].counter_before, JOURNAL_COUNTER_NONE);
    expect_mirror(&t, 4, 4500);

    /* Its void at once: LimitedCredit 2.00, the counter read and debited (9). */
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 9);
    assert_int_equal(w.sent[0x6C], 1); /* the counter's GetValue, not the purse's */
    assert_int_equal(w.sent[0x1C], 1);
    assert_int_equal(r.purse_after, 4700);
    expect_tmac(f, &t, &r, 4,
                JOURNAL_TMAC_MIRROR | JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_LIMITED_CREDIT, &m);
    assert_int_equal(m.purse, 4500);
    expect_mirror(&t, 5, 4700);

    /* Again, voided after a restart (the pay's state lines give its seq before). */
    q = till_request(TERMINAL_PAY, 0, 200, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.round_trips, 7);
    assert_int_equal(r.purse_after, 4500);
    till_restart(&t);
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(r.after.seq, 7);
    assert_int_equal(r.tmc, 6);
    expect_mirror(&t, 7, 4700);
    till_expect_desfire(&t, 7, 28, 4700, 3);

    /* More than the mirror: refused before any write (select, 71 x2, read). */
    q = till_request(TERMINAL_PAY, 0, 4701, 0);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_FUNDS);
    assert_int_equal(r.round_trips, 4);
    assert_int_equal(w.sent[0x3D], 0);
    expect_mirror(&t, 7, 4700);

    /* A mirror that lies high (a stolen terminal key wrote 900.00): the
     * payment passes the terminal's check and the card's Debit refuses it
     * (91 BE); nothing commits. */
    lie_mirror(f, 90000);
    till_present(&t);
    q = till_request(TERMINAL_PAY_EARN, 300, 5000, 0);
    field_on(&t, &w, false);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_CARD_BOUNDARY);
    assert_int_equal(w.sent[0xDC], 1);
    assert_int_equal(w.sent[0xC7], 0);
    assert_false(r.tmac);
    {
        uint32_t seq = 0;
        int32_t mirror = 0, purse = 0;
        card_mirror(f, &seq, &mirror, &purse);
        assert_int_equal(seq, 8); /* the lie's write, not the tap's */
        assert_int_equal(mirror, 90000);
        assert_int_equal(purse, 4700);
        till_present(&t);
    }
    /* The desk's read sees the mirror is not the purse. */
    {
        struct card_view v;
        till_read_desfire(f, &v);
        assert_true(v.mirror_differs);
        assert_int_equal(v.purse_cents, 4700);
        till_present(&t);
    }
    till_close(&t);
}

static void test_pay_in_seven_ev2(void **state)
{
    pay_in_seven(*state, "desfire-ev2");
}

static void test_pay_in_seven_ev3(void **state)
{
    pay_in_seven(*state, "desfire-ev3");
}

static void test_earn_in_six_ev2(void **state)
{
    earn_in_six(*state, "desfire-ev2");
}

static void test_earn_in_six_ev3(void **state)
{
    earn_in_six(*state, "desfire-ev3");
}

static bool skip_yes(void *ctx, uint64_t card_id, uint8_t layout_version)
{
    (void)ctx;
    (void)layout_version;
    return card_id == TILL_CARD_ID;
}

static bool skip_no(void *ctx, uint64_t card_id, uint8_t layout_version)
{
    (void)ctx;
    (void)layout_version;
    (void)card_id;
    return false;
}

/* The driver's half of issue 19's earn in 6 (LAYOUT.md 2.7 "what 6
 * needs"), which the terminal's earn uses (test_earn_in_six_ev2/ev3): on an EV3 with the
 * Transaction MAC file, desfire_card_tap_read told after the state read that the card's TMC stands
 * for its counter reads no counter, desfire_card_stage debits none, and the earn is select,
 * AuthenticateEV2First (2), ReadData state, WriteData state, CommitTransaction: 6 exchanges; the
 * TMC answered steps from the top-up's 1 to 2, the counter stays at 1 tap, and the TMV is the
 * card's over a TMI without the counter's commands (a TMAC entry's flag
 * 40), which the same bytes with the counter's commands do not give. Told
 * otherwise, the same card reads and debits its counter as before (8). */
static void test_driver_earn_without_counter(void **state)
{
    struct fixture *f = *state;
    struct desfire_card_keys keys;
    struct desfire_card c;
    struct reader *r;
    struct card_view v, back;
    struct state_body next;
    struct journal_tmac m, got;
    struct journal_entry e;
    struct desfire_tmi tmi;
    uint8_t key[16], want[8];

    till_make_desfire_tmac_v2(f, "desfire-ev3", 5000, 0, false);
    till_tmac_key(f, key);
    r = till_desk_session(f, &keys, &c);
    c.sm = DESFIRE_CARD_SM_EV2;
    c.counter_skip = skip_yes;
    assert_int_equal(desfire_card_tap_read(&c, 0, &v), LEAL_OK);
    assert_int_equal(c.d.round_trips, 4);
    assert_true(c.no_counter);
    assert_int_equal(v.card_id, TILL_CARD_ID);
    assert_int_equal(v.taps, 0);
    assert_int_equal(v.counter, 0);
    assert_int_equal(v.state.points, 25);
    next = v.state;
    next.points = 48;
    next.seq = 2;
    assert_int_equal(desfire_card_stage(&c, &(struct desfire_card_change){&next, NULL, 0, 0}, &v),
                     LEAL_OK);
    assert_int_equal(c.d.round_trips, 5);
    memset(&m, 0, sizeof m);
    assert_int_equal(desfire_card_commit_tmac(&c, &m.tmc, m.tmv), LEAL_OK);
    assert_int_equal(c.d.round_trips, 6);
    assert_int_equal(m.tmc, 2);
    desfire_card_clear(&c);
    reader_close(r);

    m.flags = JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_NO_COUNTER;
    assert_int_equal(state_file_encode(v.layout_version, v.card_id, &v.state, m.state_before),
                     LEAL_OK);
    assert_int_equal(state_file_encode(v.layout_version, v.card_id, &next, m.state_after), LEAL_OK);
    assert_int_equal(journal_tmac_tmi(&m, &tmi), LEAL_OK);
    assert_int_equal(desfire_tmv(crypto_openssl(), key, 2, till_uid, &tmi, want), LEAL_OK);
    assert_memory_equal(want, m.tmv, 8);
    got = m; /* the counter's commands in the TMI: not what the card MACed */
    got.flags = JOURNAL_TMAC_STATE_WRITTEN;
    got.counter = 0x7FFFFFFF - 1;
    assert_int_equal(journal_tmac_tmi(&got, &tmi), LEAL_OK);
    assert_int_equal(desfire_tmv(crypto_openssl(), key, 2, till_uid, &tmi, want), LEAL_OK);
    assert_memory_not_equal(want, m.tmv, 8);
    /* the entry's codec: flag 40 with line 2's id 0; any other id refused */
    memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_TMAC;
    journal_tmac_put(&m, &e);
    assert_int_equal(e.item, 0x44);
    assert_int_equal(journal_tmac_get(&e, &got), LEAL_OK);
    assert_int_equal(got.flags, m.flags);
    assert_int_equal(got.counter, 0);
    assert_memory_equal(got.state_after, m.state_after, sizeof m.state_after);
    e.lines[1].id = 0x7FFFFFFE;
    assert_int_equal(journal_tmac_get(&e, &got), LEAL_E_JOURNAL_MALFORMED);

    till_read_desfire(f, &back);
    assert_int_equal(back.taps, 1); /* the counter untouched */
    assert_int_equal(back.state.points, 48);
    assert_int_equal(back.state.seq, 2);

    /* told the counter is wanted: read and debited as before, 8 exchanges */
    r = till_desk_session(f, &keys, &c);
    c.sm = DESFIRE_CARD_SM_EV2;
    c.counter_skip = skip_no;
    assert_int_equal(desfire_card_tap_read(&c, 0, &v), LEAL_OK);
    assert_false(c.no_counter);
    assert_int_equal(v.taps, 1);
    next = v.state;
    next.seq = 3;
    assert_int_equal(desfire_card_stage(&c, &(struct desfire_card_change){&next, NULL, 0, 0}, &v),
                     LEAL_OK);
    assert_int_equal(desfire_card_commit_tmac(&c, &m.tmc, m.tmv), LEAL_OK);
    assert_int_equal(c.d.round_trips, 8);
    assert_int_equal(m.tmc, 3);
    desfire_card_clear(&c);
    reader_close(r);
    till_read_desfire(f, &back);
    assert_int_equal(back.taps, 2);
}

/* The package floor of a card with the Transaction MAC file carries the
 * highest TMC the host proved (PACKAGE.md): a commit answering a TMC not
 * above it is a copy or a clone (the genuine card had counted that far), so
 * the tap is refused after the commit (LEAL_E_TERMINAL_TMC_BEHIND),
 * journaled as a refusal after the operation's and TMAC entries, naming the
 * operation's entry with the card as the commit left it, and nothing is
 * left to void. Behind (5 against 2), one above (3 against 2: done) and
 * equal (4 against 4). */
static void test_tmc_floor(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct terminal_result r;
    struct journal_entry e[4];
    struct journal_tmac m;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};

    till_make_desfire_tmac_v2(f, "desfire-ev3", 5000, 0, false);
    fl.seq = 5; /* its TMC floor (package_floor_tmc): the host proved 5, the commit answers 2 */
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_TMC_BEHIND);
    assert_int_equal(r.round_trips, 6); /* no counter: the floor is the TMC's */
    assert_true(r.tmac);
    assert_int_equal(r.tmc, 2);
    assert_int_equal(r.after.points, 48); /* what the card took */
    assert_int_equal(till_entries(&t, e, 4), 3);
    assert_int_equal(e[0].op, JOURNAL_OP_EARN);
    assert_int_equal(e[0].counter_after, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[1].op, JOURNAL_OP_TMAC);
    assert_int_equal(journal_tmac_get(&e[1], &m), LEAL_OK);
    assert_int_equal(m.tmc, 2);
    assert_int_equal(e[2].op, JOURNAL_OP_REFUSAL);
    assert_int_equal(e[2].reason, LEAL_E_TERMINAL_TMC_BEHIND);
    assert_int_equal(e[2].item, TERMINAL_EARN);
    assert_int_equal(e[2].amount_cents, 2350);
    assert_int_equal(e[2].ref_epoch, e[0].epoch);
    assert_int_equal(e[2].ref_seq, e[0].seq);
    assert_int_equal(e[2].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[2].counter_after, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[2].points_after, 48);
    assert_int_equal(e[2].purse_after, 0); /* an earn reads no purse */
    assert_int_equal(r.entry.epoch, e[2].epoch);
    assert_int_equal(r.entry.seq, e[2].seq);
    assert_int_equal(r.tmac_entry.seq, e[1].seq);
    /* not this terminal's operation to undo (and the card is on its local
     * hot list now: test_local_hot_list) */
    assert_false(t.t.last.valid);
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    till_expect_refused(&t, &q, LEAL_E_TERMINAL_LOCAL_HOT);
    till_expect_desfire(&t, 2, 48, 5000, 1); /* the counter not debited */
    till_close(&t);

    /* The floor at TMC 2, the commit answers 3: done (the floor's taps, 2,
     * above the card's counter, 1, are not asked: no counter was read). */
    fl.seq = 2;
    fl.taps = 2;
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    q = till_request(TERMINAL_EARN, 100, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.reason, 0);
    assert_int_equal(r.tmc, 3);
    assert_int_equal(r.after.points, 49);
    assert_int_equal(r.round_trips, 6);
    till_close(&t);

    /* The floor at 4, the commit of a pay (which reads the counter) answers
     * 4: the genuine card had made it. */
    fl.seq = 4;
    fl.taps = 1;
    till_open(&t, f, 3, &(struct till_package){.floors = &fl, .floor_count = 1});
    q = till_request(TERMINAL_PAY, 0, 300, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_TMC_BEHIND);
    assert_int_equal(r.tmc, 4);
    assert_int_equal(r.purse_after, 4700);
    assert_int_equal(till_entries(&t, e, 4), 3);
    assert_int_equal(e[2].op, JOURNAL_OP_REFUSAL);
    assert_int_equal(e[2].item, TERMINAL_PAY);
    assert_int_equal(e[2].purse_cents, 300);
    assert_int_equal(e[2].purse_after, 4700);
    assert_int_equal(e[2].counter_after, 2);
    till_expect_desfire(&t, 4, 49, 4700, 2);
    till_close(&t);
}

/* A card refused after its commit as a copy (test_tmc_floor) stands on the
 * terminal's local hot list: its next taps here are refused after the read,
 * before anything is staged (LEAL_E_TERMINAL_LOCAL_HOT, 5 RT, the card as it
 * was), after a restart (the summary rebuilt from the journal) and without
 * a summary (the list terminal_open walks the journal for), under a newer
 * package the host built before it had the refusal; once the host has
 * acknowledged it and a newer package is in force, the package decides. */
static void test_local_hot_list(void **state)
{
    struct fixture *f = *state;
    struct till t;
    struct terminal_request q;
    struct terminal_result r;
    struct terminal_setup s;
    struct journal_entry e[8];
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 5, {0}};
    struct till_package pp = {.floors = &fl, .floor_count = 1, .version = 4};

    till_make_desfire_tmac_v2(f, "desfire-ev3", 5000, 0, false);
    till_open(&t, f, 3, &pp);
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_TMC_BEHIND);
    assert_int_equal(r.after.points, 48);
    /* The next tap: refused after the read, nothing staged or written (an
     * earn reads no counter on this card: 4 RT). */
    assert_int_equal(till_expect_refused(&t, &q, LEAL_E_TERMINAL_LOCAL_HOT), 4);
    till_last_entry(&t, &e[0]);
    assert_int_equal(e[0].op, JOURNAL_OP_REFUSAL);
    assert_int_equal(e[0].item, TERMINAL_EARN);
    assert_int_equal(e[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[0].points_after, 48);
    assert_int_equal(e[0].package_version, 4);
    q = till_request(TERMINAL_PAY, 0, 300, 0);
    assert_int_equal(till_expect_refused(&t, &q, LEAL_E_TERMINAL_LOCAL_HOT), 6);
    till_last_entry(&t, &e[0]);
    assert_int_equal(e[0].counter_before, 1); /* a pay reads it */
    till_expect_desfire(&t, 2, 48, 5000, 1);
    /* A restart: the summary is rebuilt from the journal. */
    till_restart(&t);
    assert_true(journal_sum_current(&t.sum, &t.j));
    assert_int_equal(t.sum.hot.n, 1);
    assert_int_equal(t.sum.hot.h[0].card_id, TILL_CARD_ID);
    q = till_request(TERMINAL_EARN, 2350, 0, 0);
    assert_int_equal(till_expect_refused(&t, &q, LEAL_E_TERMINAL_LOCAL_HOT), 4);
    /* The summary's list said "no room": the journal is walked. */
    t.sum.hot.n = 0;
    t.sum.hot.over = true;
    till_expect_refused(&t, &q, LEAL_E_TERMINAL_LOCAL_HOT);
    /* No summary at all (the board): the list terminal_open walked for. */
    s = t.t.s;
    terminal_close(&t.t);
    s.sum = NULL;
    assert_int_equal(terminal_open(&t.t, &s), LEAL_OK);
    assert_int_equal(t.t.hot.n, 1);
    till_expect_refused(&t, &q, LEAL_E_TERMINAL_LOCAL_HOT);
    /* A newer package built before the host had the refusal: it stands. */
    fl.seq = 2;
    fl.taps = 2;
    pp.version = 5;
    till_load(&t, &pp);
    till_expect_refused(&t, &q, LEAL_E_TERMINAL_LOCAL_HOT);
    till_expect_desfire(&t, 2, 48, 5000, 1);
    /* The host acknowledged it, package 5 in force: the tap is the package's
     * to judge (its floor's TMC 2; the commit answers 3). */
    till_ack(&t);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.tmc, 3);
    assert_int_equal(r.after.points, 71);
    assert_int_equal(r.round_trips, 6);
    assert_int_equal(t.t.hot.n, 0);
    till_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ev2_transactions, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ev3_transactions, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ev1_keeps_aa, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_downgrade_refused, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ev1_named_aa_first, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_random_uid_ev1_named, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_random_uid_ev3, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_journaled, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmc_floor, desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_driver_earn_without_counter, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_local_hot_list, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_pay_in_seven_ev2, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_pay_in_seven_ev3, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_earn_in_six_ev2, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_earn_in_six_ev3, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
