/* terminal_tear_test.c - a tap torn at every card command (firmware/core/
 * terminal.h): DESFire earn, pay, bono, redeem, stamp and the void of a
 * payment torn before each command reaches the card, after it ran with its
 * answer lost, and inside the commit at each step; Classic earn, pay, redeem,
 * stamp and void torn the same way at each of its 23 commands, a torn block
 * left old, new or garbage. After each tear the card is read at a second
 * terminal, tapped at the first again, then tapped at the second for the
 * same operation. Whatever the point: the card holds exactly the state
 * before or exactly the one the operation makes; the second terminal reads
 * it as it is and moves it by exactly one operation more; the first
 * terminal's journal has the operation standing exactly when the card holds
 * it (a commit with no answer is settled at the re-tap, not done or unknown
 * from the card's own counter); the two journals account for every point,
 * euro, stamp, session and tap: none created or lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/records/classic_record.h"
#include "host/cardsim/cardsim.h"
#include "host/reader/reader.h"
#include "tests/lib/till.h"

/* The terminal sends AuthenticateEV2First first (terminal.c): an EV1 answers
 * it ILLEGAL_COMMAND, one read command more before its AA. */
#define EV1_PROBE 1

/* What a card shows of the transaction: the quantities it moves. */
struct shown {
    uint32_t seq, points, taps;
    int64_t purse;
    uint16_t bono;
    uint8_t stamps; /* stamp card 0's count */
};

static struct shown shown_now(struct till *t, bool desfire)
{
    struct shown s;
    memset(&s, 0, sizeof s);
    if (desfire) {
        struct card_view v;
        till_read_desfire(t->f, &v);
        s = (struct shown){v.state.seq,   v.state.points,           v.taps,
                           v.purse_cents, v.bonos.slot[0].sessions, v.state.stamps[0]};
        assert_false(v.mirror_differs); /* layout 3: the mirror is the purse, torn or not */
    } else {
        struct classic_record_state st;
        till_read_classic(t->f, &st);
        s = (struct shown){st.body.seq, st.body.points,   st.body.seq, st.purse,
                           0,           st.body.stamps[0]};
    }
    return s;
}

static bool same(const struct shown *a, const struct shown *b)
{
    return a->seq == b->seq && a->points == b->points && a->taps == b->taps &&
           a->purse == b->purse && a->bono == b->bono && a->stamps == b->stamps;
}

/* What a journal says moved on the card: operations standing (a settle
 * "not done" takes its operation back). Stamps: the quantity of earns and
 * stamps and of their voids (negative); a bono's is sessions. */
static struct shown journal_moved(struct till *t)
{
    struct journal_entry e[64];
    unsigned n = till_entries(t, e, 64);
    struct shown m = {0, 0, 0, 0, 0, 0};
    assert_true(n <= 64);
    for (unsigned i = 0; i < n; i++) {
        bool undone = false;
        if (e[i].op > JOURNAL_OP_VOID)
            continue;
        for (unsigned j = i + 1; j < n; j++)
            if (e[j].op == JOURNAL_OP_SETTLE && e[j].ref_epoch == e[i].epoch &&
                e[j].ref_seq == e[i].seq && e[j].item == JOURNAL_SETTLED_NOT_DONE)
                undone = true;
        if (undone)
            continue;
        m.points += (uint32_t)e[i].points;
        /* host changes the write carried (not part of the entry's points) */
        for (unsigned l = 0; l < e[i].n_lines; l++)
            if (e[i].lines[l].source == JOURNAL_LINE_HOST)
                m.points += (uint32_t)e[i].lines[l].points;
        if (e[i].op == JOURNAL_OP_VOID) /* a void's purse is given back */
            m.purse += e[i].purse_cents;
        else
            m.purse -= e[i].purse_cents;
        m.taps += e[i].counter_after - e[i].counter_before;
        if (e[i].op == JOURNAL_OP_BONO || (e[i].op == JOURNAL_OP_VOID && e[i].bono_left != 0))
            m.bono = (uint16_t)(m.bono + e[i].quantity); /* a bono's void: its session back */
        else
            m.stamps = (uint8_t)(m.stamps + e[i].quantity); /* an earn's quantity: its stamps */
    }
    return m;
}

/* How the tears of a sweep ended. */
struct tally {
    unsigned read_failed, refused, doubt_done, doubt_not_done;
};

struct tear_case {
    struct tally expect;
    bool desfire;
    struct terminal_request q;
    unsigned commands;  /* exchanges of the whole tap; the last one commits */
    struct shown delta; /* what a done operation moves: seq, points, taps, purse, bono used,
                           stamps */
    uint8_t first;      /* an operation the first terminal does untorn before (0: none) */
    bool writes_only;   /* Classic: the torn-block kinds only at the 3 block writes (a torn
                           read or authentication leaves no block: one kind is the same tear) */
    bool reads_only;    /* a balance: no write, no commit (one tear kind per command) */
};

/* The DESFire card a sweep makes (the EV2/EV3 sweep sets it), whether its
 * UID is random, and the package both terminals load (NULL: none; the
 * named-EV1 sweeps give a floor naming the card as an EV1). */
static const char *desfire_type = "desfire-ev1";
static bool desfire_random_uid;
static const struct till_package *tear_package;
/* The card made with the Transaction MAC file, and the points of the host
 * change the package carries for it at seq (0: none): applied exactly once,
 * by whichever write first takes the card from the seq the record names. */
static bool tear_tmac;
static int32_t tear_host;
/* The swept tap reads no counter (an earn on such a card, its floor saying
 * so: issue 19's earn in 6). */
static bool tear_no_counter;
/* The card issued at layout 3 (its state's purse mirror, LAYOUT.md 2.10),
 * not a layout-2 card upgraded with the file. */
static bool tear_mirror;

static void run_tear(struct fixture *f, const struct tear_case *c, const struct cardsim_tear *tear,
                     struct tally *n)
{
    struct till a, b;
    struct terminal_result ra, rb, rr;
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct shown start, before, after, moved, again, final;
    unsigned entries;
    leal_err err;
    bool done;

    if (c->desfire && tear_tmac && tear_mirror)
        till_make_desfire_tmac(f, desfire_type, 5000, 5, desfire_random_uid);
    else if (c->desfire && tear_tmac)
        till_make_desfire_tmac_v2(f, desfire_type, 5000, 5, desfire_random_uid);
    else if (c->desfire)
        till_make_desfire_type(f, desfire_type, 5000, 5, desfire_random_uid);
    else
        till_make_classic(f, 5000);
    till_open(&a, f, 3, tear_package);
    start = shown_now(&a, c->desfire);
    till_present(&a);
    before = start;
    if (c->first) { /* what the torn void is to undo */
        struct terminal_request q1 = till_request(c->first, 1000, 300, 0);
        assert_int_equal(till_tap(&a, &q1, &ra), LEAL_OK);
        assert_int_equal(ra.outcome, TERMINAL_DONE);
        before = shown_now(&a, c->desfire); /* else nothing touched the card since start */
        till_present(&a);
    }
    entries = till_entries(&a, NULL, 0);
    cardsim_set_tear(reader_sim_card(a.r), tear);
    err = till_tap(&a, &c->q, &ra);
    assert_true(cardsim_torn(reader_sim_card(a.r)));
    after = shown_now(&a, c->desfire);
    till_present(&a);
    done = !same(&before, &after);
    if (done) { /* exactly what the operation makes, with the host change */
        assert_int_equal(after.seq, before.seq + c->delta.seq);
        assert_int_equal(after.points, before.points + c->delta.points + (uint32_t)tear_host);
        assert_int_equal(after.taps, before.taps + c->delta.taps);
        assert_int_equal(after.purse, before.purse - c->delta.purse);
        assert_int_equal(after.bono, before.bono - c->delta.bono);
        assert_int_equal(after.stamps, (uint8_t)(before.stamps + c->delta.stamps));
    }
    /* What the first terminal said of its tap. */
    if (err != LEAL_OK) {
        assert_int_equal(err, LEAL_E_CARD_REMOVED);
        assert_false(done);
        assert_int_equal(till_entries(&a, NULL, 0), entries);
        n->read_failed++;
    } else if (ra.outcome == TERMINAL_REFUSED) {
        assert_int_equal(ra.reason, LEAL_E_CARD_REMOVED);
        assert_false(done);
        n->refused++;
    } else {
        assert_int_equal(ra.outcome, TERMINAL_IN_DOUBT);
        if (done)
            n->doubt_done++;
        else
            n->doubt_not_done++;
    }

    /* A second terminal reads the card as it is. */
    till_open(&b, f, 4, tear_package);
    assert_int_equal(till_tap(&b, &bal, &rb), LEAL_OK);
    assert_int_equal(rb.outcome, TERMINAL_DONE);
    assert_false(rb.settled);
    assert_int_equal(rb.after.points, after.points);
    assert_int_equal(rb.after.seq, after.seq);
    assert_int_equal(rb.purse_after, after.purse);
    assert_int_equal(rb.taps_after, c->desfire ? after.taps : after.seq);

    /* The first again: a commit with no answer is settled from the card. */
    till_present(&a);
    assert_int_equal(till_tap(&a, &bal, &rr), LEAL_OK);
    assert_int_equal(rr.outcome, TERMINAL_DONE);
    if (err == LEAL_OK && ra.outcome == TERMINAL_IN_DOUBT) {
        assert_true(rr.settled);
        assert_int_equal(rr.settled_item,
                         done ? JOURNAL_SETTLED_UNKNOWN : JOURNAL_SETTLED_NOT_DONE);
    } else {
        assert_false(rr.settled);
    }
    /* The customer taps again at the second terminal for the same thing: it
     * starts from the card as it is (a void there has nothing of its own to
     * undo: refused, journaled). */
    till_present(&b);
    assert_int_equal(till_tap(&b, &c->q, &rb), LEAL_OK);
    assert_int_equal(rb.before.points, after.points);
    /* an earn on a card with the Transaction MAC file reads no counter */
    assert_int_equal(rb.taps_before, tear_no_counter ? JOURNAL_COUNTER_NONE
                                     : c->desfire    ? after.taps
                                                     : after.seq);
    if (c->q.op == TERMINAL_VOID) {
        assert_int_equal(rb.outcome, TERMINAL_REFUSED);
        assert_int_equal(rb.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);
    } else {
        assert_int_equal(rb.outcome, TERMINAL_DONE);
    }
    final = shown_now(&b, c->desfire);
    if (rb.outcome == TERMINAL_DONE) { /* exactly one operation more; the host change if the
                                          first terminal's write did not take it */
        assert_int_equal(final.seq, after.seq + c->delta.seq);
        assert_int_equal(final.points,
                         after.points + c->delta.points + (done ? 0u : (uint32_t)tear_host));
        assert_int_equal(final.purse, after.purse - c->delta.purse);
        assert_int_equal(final.bono, after.bono - c->delta.bono);
    } else {
        assert_true(same(&final, &after));
    }
    /* The journals and the card agree: nothing created, nothing lost. */
    moved = journal_moved(&a);
    again = journal_moved(&b);
    assert_int_equal(start.points + moved.points + again.points, final.points);
    if (tear_host != 0) /* the operations done, and the host change on the card once */
        assert_int_equal(final.points,
                         start.points + (done ? 2u : 1u) * c->delta.points + (uint32_t)tear_host);
    assert_int_equal(start.purse + moved.purse + again.purse, final.purse);
    assert_int_equal(start.bono - moved.bono - again.bono, final.bono);
    assert_int_equal((uint8_t)(start.stamps + moved.stamps + again.stamps), final.stamps);
    assert_int_equal((c->desfire ? start.taps : start.seq) + moved.taps + again.taps,
                     c->desfire ? final.taps : final.seq);
    till_close(&b);
    till_close(&a);
}

static struct tally sweep(struct fixture *f, const struct tear_case *c)
{
    struct tally n = {0, 0, 0, 0};
    static const enum cardsim_torn_block blocks[] = {CARDSIM_TORN_OLD, CARDSIM_TORN_NEW,
                                                     CARDSIM_TORN_GARBAGE};
    unsigned cases = 0;
    for (unsigned k = 1; k <= c->commands; k++) {
        for (int p = CARDSIM_TEAR_BEFORE_COMMAND; p <= CARDSIM_TEAR_BEFORE_ANSWER; p++) {
            unsigned nb =
                c->desfire || c->reads_only || (c->writes_only && k + 3 <= c->commands) ? 1 : 3;
            for (unsigned bl = 0; bl < nb; bl++) {
                struct cardsim_tear t = {(enum cardsim_tear_point)p, k, blocks[bl], 0};
                run_tear(f, c, &t, &n);
                cases++;
            }
        }
    }
    /* Inside the commit: nothing written, the commit record, then each file. */
    for (unsigned step = 0; c->desfire && !c->reads_only && step <= 4; step++) {
        struct cardsim_tear t = {CARDSIM_TEAR_INSIDE_COMMIT, c->commands, CARDSIM_TORN_OLD, step};
        run_tear(f, c, &t, &n);
        cases++;
    }
    assert_int_equal(cases, n.read_failed + n.refused + n.doubt_done + n.doubt_not_done);
    assert_int_equal(n.read_failed, c->expect.read_failed);
    assert_int_equal(n.refused, c->expect.refused);
    assert_int_equal(n.doubt_done, c->expect.doubt_done);
    assert_int_equal(n.doubt_not_done, c->expect.doubt_not_done);
    return n;
}

/* Expected, by where the tear falls: a read command (both points: the tap
 * ends, no entry); a staged write (refused, journaled, nothing committed);
 * the commit (in doubt: its answer lost, or power lost inside it once the
 * commit record is written (steps 1..4), the card holds it; the command
 * never reaching the card, or step 0, it does not). DESFire earn: 5 read
 * commands, 2 staged, the commit. */
static void test_desfire_earn_torn_everywhere(void **state)
{
    struct tear_case c = {{10 + 2 * EV1_PROBE, 4, 5, 2},
                          true,
                          till_request(TERMINAL_EARN, 1000, 0, 0),
                          8 + EV1_PROBE,
                          {1, 10, 1, 0, 0, 1},
                          0,
                          false,
                          false};
    sweep(*state, &c);
}

/* The same earn on an EV2 and an EV3 under EV2 secure messaging (the 71
 * answered, no probe): 5 read commands (select, AuthenticateEV2First's two
 * frames, state, counter), 2 staged, the commit, each MACt-checked. */
static void test_desfire_ev2_earn_torn_everywhere(void **state)
{
    struct tear_case c = {
        {10, 4, 5, 2}, true, till_request(TERMINAL_EARN, 1000, 0, 0), 8, {1, 10, 1, 0, 0, 1}, 0,
        false,         false};
    desfire_type = "desfire-ev2";
    sweep(*state, &c);
    desfire_type = "desfire-ev3";
    sweep(*state, &c);
    desfire_type = "desfire-ev1";
}

/* Issue 19's earn in 6 under tears: an EV2 and an EV3 with the Transaction
 * MAC file, their package floor saying so (both terminals hold it, neither
 * syncs): the earn reads and debits no counter (select,
 * AuthenticateEV2First's two frames and the state read: 4 read commands;
 * WriteData state staged; the commit: 6), every entry of the tap with
 * counter JOURNAL_COUNTER_NONE. Torn before and after every command and
 * inside the commit: the card holds the earn or not, its counter never
 * moves; the first terminal settles its unanswered commit from the state's
 * seq (not done at the seq before, unknown otherwise: never done); the
 * second terminal's earn (no counter either) moves the card by exactly one
 * earn more. 8 read tears, 2 refused, 7 at the commit (5 done, 2 not). On
 * the EV3 the package also carries +40 points at the card's seq
 * (PACKAGE_CHANGE_AT_SEQ, issue 19's blocker (1)): applied exactly once, by
 * whichever write first takes the card from that seq. */
static void test_desfire_tmac_host_change_torn_everywhere(void **state)
{
    struct fixture *f = *state;
    struct card_view v;
    till_make_desfire_tmac_v2(f, "desfire-ev3", 5000, 5, false);
    till_read_desfire(f, &v);
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 0, 0, {0}};
    struct package_pending pend = {
        TILL_CARD_ID, v.taps, 9, 40, PACKAGE_CHANGE_ADJUST | PACKAGE_CHANGE_AT_SEQ, 0, 0,
        v.state.seq};
    struct till_package pkg = {
        .floors = &fl, .floor_count = 1, .pending = &pend, .pending_count = 1};
    struct till_package plain = {.floors = &fl, .floor_count = 1};
    struct tear_case c = {
        {8, 2, 5, 2}, true, till_request(TERMINAL_EARN, 1000, 0, 0), 6, {1, 10, 0, 0, 0, 1}, 0,
        false,        false};
    tear_tmac = true;
    tear_no_counter = true;
    desfire_type = "desfire-ev2";
    tear_package = &plain;
    sweep(f, &c);
    desfire_type = "desfire-ev3";
    tear_package = &pkg;
    tear_host = 40;
    sweep(f, &c);
    tear_host = 0;
    tear_no_counter = false;
    tear_tmac = false;
    tear_package = NULL;
    desfire_type = "desfire-ev1";
}

/* Issue 19's pay + earn in 7 under tears: a layout-3 EV2 and EV3 (the purse
 * mirror in the state, LAYOUT.md 2.10) whose floor names the Transaction MAC
 * file: select, AuthenticateEV2First's two frames and the state read (4 read
 * commands), WriteData state and Debit purse staged, the commit: 7. No
 * counter read or debited; every entry's counter none. Torn before and
 * after every command and inside the commit: the card holds the whole pay +
 * earn (seq, points, purse and its mirror) or none of it, the mirror always
 * the purse (shown_now); the first terminal settles its unanswered commit
 * from the seq; the second's pay + earn moves the card by exactly one more.
 * 8 read tears, 4 refused, 7 at the commit (5 done, 2 not). */
static void test_desfire_mirror_pay_earn_torn_everywhere(void **state)
{
    struct fixture *f = *state;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 0, 0, {0}};
    struct till_package plain = {.floors = &fl, .floor_count = 1};
    struct tear_case c = {{8, 4, 5, 2},
                          true,
                          till_request(TERMINAL_PAY_EARN, 1000, 300, 0),
                          7,
                          {1, 10, 0, 300, 0, 1},
                          0,
                          false,
                          false};
    tear_tmac = true;
    tear_mirror = true;
    tear_no_counter = true;
    tear_package = &plain;
    desfire_type = "desfire-ev2";
    sweep(f, &c);
    desfire_type = "desfire-ev3";
    sweep(f, &c);
    tear_no_counter = false;
    tear_mirror = false;
    tear_tmac = false;
    tear_package = NULL;
    desfire_type = "desfire-ev1";
}

/* An EV1 the package's floor names as one (no EV2 flag) gets AA first, no
 * 71 probe: a fixed-UID card once a balance at the first terminal proved
 * its UID there (5 read commands: select, AA's two frames, state, counter;
 * 2 staged; the commit), a random-UID card from its first tap (its plain
 * identity first: 6 read commands). The same tallies as an EV2's earn (the
 * random-UID card's + 2 read tears), every tear settled as before. */
static void test_desfire_named_ev1_earn_torn_everywhere(void **state)
{
    struct package_floor fl = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, 0, 0, 0, {0}};
    struct till_package pkg = {.floors = &fl, .floor_count = 1};
    struct tear_case c = {{10, 4, 5, 2},
                          true,
                          till_request(TERMINAL_EARN, 1000, 0, 0),
                          8,
                          {1, 10, 1, 0, 0, 1},
                          TERMINAL_BALANCE,
                          false,
                          false};
    tear_package = &pkg;
    sweep(*state, &c);
    c.expect.read_failed = 12;
    c.commands = 9;
    c.first = 0;
    desfire_random_uid = true;
    sweep(*state, &c);
    desfire_random_uid = false;
    tear_package = NULL;
}

/* 6 read commands (+ purse), 3 staged (+ Debit purse), the commit. */
static void test_desfire_pay_torn_everywhere(void **state)
{
    struct tear_case c = {{12 + 2 * EV1_PROBE, 6, 5, 2},
                          true,
                          till_request(TERMINAL_PAY, 0, 300, 0),
                          10 + EV1_PROBE,
                          {1, 0, 1, 300, 0, 0},
                          0,
                          false,
                          false};
    sweep(*state, &c);
}

/* 6 read commands (+ bonos), 2 staged (bonos, counter), the commit. */
static void test_desfire_bono_torn_everywhere(void **state)
{
    struct tear_case c = {{12 + 2 * EV1_PROBE, 4, 5, 2},
                          true,
                          till_request(TERMINAL_BONO, 0, 0, 21),
                          9 + EV1_PROBE,
                          {0, 0, 1, 0, 1, 0},
                          0,
                          false,
                          false};
    sweep(*state, &c);
}

/* A redeem (reward 5, 10 points) and a stamp: as the earn, 5 read commands,
 * 2 staged, the commit. */
static void test_desfire_redeem_torn_everywhere(void **state)
{
    struct tear_case c = {{10 + 2 * EV1_PROBE, 4, 5, 2},
                          true,
                          till_request(TERMINAL_REDEEM, 0, 0, 5),
                          8 + EV1_PROBE,
                          {1, (uint32_t)-10, 1, 0, 0, 0},
                          0,
                          false,
                          false};
    sweep(*state, &c);
}

static void test_desfire_stamp_torn_everywhere(void **state)
{
    struct tear_case c = {{10 + 2 * EV1_PROBE, 4, 5, 2},
                          true,
                          till_request(TERMINAL_STAMP, 0, 0, 0),
                          8 + EV1_PROBE,
                          {1, 0, 1, 0, 0, 1},
                          0,
                          false,
                          false};
    sweep(*state, &c);
}

/* The void of a 3.00 payment the first terminal made untorn: 6 read
 * commands (+ purse), 3 staged (state, LimitedCredit, counter), the commit;
 * done, the purse gets its 3.00 back. */
static void test_desfire_void_torn_everywhere(void **state)
{
    struct tear_case c = {{12 + 2 * EV1_PROBE, 6, 5, 2},
                          true,
                          till_request(TERMINAL_VOID, 0, 0, 0),
                          10 + EV1_PROBE,
                          {1, 0, 1, -300, 0, 0},
                          TERMINAL_PAY,
                          false,
                          false};
    sweep(*state, &c);
}

/* Classic: 19 read commands, each torn 6 ways (2 points x 3 torn-block
 * kinds); the slot write (auth + 3 blocks) is the commit: done only when
 * the last block was written (its answer lost: 3), else the current slot
 * still wins (21). */
static void test_classic_earn_torn_everywhere(void **state)
{
    struct tear_case c = {
        {114, 0, 3, 21}, false, till_request(TERMINAL_EARN, 1000, 0, 0), 23, {1, 10, 1, 0, 0, 1}, 0,
        false,           false};
    sweep(*state, &c);
}

static void test_classic_pay_torn_everywhere(void **state)
{
    struct tear_case c = {
        {114, 0, 3, 21}, false, till_request(TERMINAL_PAY, 0, 300, 0), 23, {1, 0, 1, 300, 0, 0}, 0,
        false,           false};
    sweep(*state, &c);
}

/* Classic redeem, stamp and the void of a 3.00 payment: the 19 read
 * commands and the slot's authentication torn both ways, each block write
 * both ways with the block left old, new or garbage (58 tears each): done
 * only when the last block was written (its answer lost: 3). */
static void test_classic_redeem_torn_everywhere(void **state)
{
    struct tear_case c = {{38, 0, 3, 17},
                          false,
                          till_request(TERMINAL_REDEEM, 0, 0, 5),
                          23,
                          {1, (uint32_t)-10, 1, 0, 0, 0},
                          0,
                          true,
                          false};
    sweep(*state, &c);
}

static void test_classic_stamp_torn_everywhere(void **state)
{
    struct tear_case c = {
        {38, 0, 3, 17}, false, till_request(TERMINAL_STAMP, 0, 0, 0), 23, {1, 0, 1, 0, 0, 1}, 0,
        true,           false};
    sweep(*state, &c);
}

static void test_classic_void_torn_everywhere(void **state)
{
    struct tear_case c = {{38, 0, 3, 17},
                          false,
                          till_request(TERMINAL_VOID, 0, 0, 0),
                          23,
                          {1, 0, 1, -300, 0, 0},
                          TERMINAL_PAY,
                          true,
                          false};
    sweep(*state, &c);
}

/* A payment of 3.00 with an earn of 10.00: as the payment, 6 read commands,
 * 3 staged (state, Debit purse, counter), the commit; done, +10 points, one
 * stamp and 3.00 less. */
static void test_desfire_pay_earn_torn_everywhere(void **state)
{
    struct tear_case c = {{12 + 2 * EV1_PROBE, 6, 5, 2},
                          true,
                          till_request(TERMINAL_PAY_EARN, 1000, 300, 0),
                          10 + EV1_PROBE,
                          {1, 10, 1, 300, 0, 1},
                          0,
                          false,
                          false};
    sweep(*state, &c);
}

/* Classic pay + earn: as the payment, each of the 23 commands torn 6 ways. */
static void test_classic_pay_earn_torn_everywhere(void **state)
{
    struct tear_case c = {{114, 0, 3, 21},
                          false,
                          till_request(TERMINAL_PAY_EARN, 1000, 300, 0),
                          23,
                          {1, 10, 1, 300, 0, 1},
                          0,
                          false,
                          false};
    sweep(*state, &c);
}

/* A balance reads and writes nothing: torn at any of its commands (DESFire
 * 7, Classic 19) the tap ends with no entry and the card as it was; the
 * second terminal and the re-tap read it unchanged. */
static void test_desfire_balance_torn_everywhere(void **state)
{
    struct tear_case c = {{14 + 2 * EV1_PROBE, 0, 0, 0},
                          true,
                          till_request(TERMINAL_BALANCE, 0, 0, 0),
                          7 + EV1_PROBE,
                          {0, 0, 0, 0, 0, 0},
                          0,
                          false,
                          true};
    sweep(*state, &c);
}

static void test_classic_balance_torn_everywhere(void **state)
{
    struct tear_case c = {
        {38, 0, 0, 0}, false, till_request(TERMINAL_BALANCE, 0, 0, 0), 19, {0, 0, 0, 0, 0, 0}, 0,
        false,         true};
    sweep(*state, &c);
}

/* A commit with no answer, and the card goes on at another terminal before
 * it comes back: the first terminal settles nothing (the card moved on) and
 * voids nothing; the host reads it from the counters: the second journal's
 * entry starts where the first one's said it would end. */
static void test_in_doubt_card_moves_on_elsewhere(void **state)
{
    struct fixture *f = *state;
    struct till a, b;
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_request vd = till_request(TERMINAL_VOID, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry ea, eb;

    till_make_desfire(f, 0, 0);
    till_open(&a, f, 3, NULL);
    cardsim_set_tear(
        reader_sim_card(a.r),
        &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_ANSWER, 8 + EV1_PROBE, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&a, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    till_last_entry(&a, &ea);
    assert_int_equal(ea.op, JOURNAL_OP_EARN);

    till_open(&b, f, 4, NULL);
    assert_int_equal(till_tap(&b, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 45); /* 25 + 10 (a's, committed) + 10 */
    till_last_entry(&b, &eb);
    assert_int_equal(eb.counter_before, ea.counter_after);
    till_close(&b);

    till_present(&a);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_true(r.settled); /* the card went on elsewhere: the host decides */
    assert_int_equal(r.settled_item, JOURNAL_SETTLED_UNKNOWN);
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);
    till_close(&a);
}

/* A commit that never reached the card (torn before it was sent), then the
 * card earns once at another terminal, so it shows exactly the counter and
 * seq the torn entry says it left (and the same 35 points): back at the
 * first terminal the card cannot say whose commit made that step (the state
 * carries no writer), so the balance settles the doubt unknown (0A, item
 * 03, naming the entry), never done; the host settles it from the other
 * journal (sync_reconcile_test.c). type: a DESFire's (NULL: Classic);
 * commit: the commit's command; counter: the card's counter before. */
static void torn_then_same_step_elsewhere(struct fixture *f, const char *type, unsigned commit,
                                          uint32_t counter)
{
    struct till a, b;
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry ea[4], eb[2];

    if (type != NULL)
        till_make_desfire_type(f, type, 0, 0, false);
    else
        till_make_classic(f, 0);
    till_open(&a, f, 3, NULL);
    cardsim_set_tear(reader_sim_card(a.r), &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND,
                                                                  commit, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&a, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);

    till_open(&b, f, 4, NULL);
    assert_int_equal(till_tap(&b, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_false(r.settled);
    assert_int_equal(r.after.points, 35); /* 25 + b's 10: a's never reached the card */
    assert_int_equal(till_entries(&b, eb, 2), 1);
    till_close(&b);

    till_present(&a);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.settled);
    assert_int_equal(r.settled_item, JOURNAL_SETTLED_UNKNOWN);
    assert_int_equal(r.after.points, 35);
    assert_int_equal(r.taps_after, counter + 1);
    assert_int_equal(till_entries(&a, ea, 4), 3); /* the earn, its settle, the balance */
    /* Both journals claim the same step of the card's counter and seq. */
    assert_int_equal(ea[0].op, JOURNAL_OP_EARN);
    assert_int_equal(eb[0].op, JOURNAL_OP_EARN);
    assert_int_equal(ea[0].counter_before, counter);
    assert_int_equal(eb[0].counter_before, counter);
    assert_int_equal(ea[0].counter_after, counter + 1);
    assert_int_equal(eb[0].counter_after, counter + 1);
    assert_int_equal(ea[0].points_after, 35);
    assert_int_equal(eb[0].points_after, 35);
    assert_int_equal(ea[1].op, JOURNAL_OP_SETTLE);
    assert_int_equal(ea[1].ref_epoch, ea[0].epoch);
    assert_int_equal(ea[1].ref_seq, ea[0].seq);
    assert_int_equal(ea[1].item, JOURNAL_SETTLED_UNKNOWN);
    assert_int_equal(ea[1].counter_before, counter + 1);
    assert_int_equal(ea[1].points_after, 35);
    assert_int_equal(ea[2].op, JOURNAL_OP_BALANCE);
    /* Settled once. */
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(r.after.points, 35);
    till_close(&a);
}

static void test_desfire_torn_then_same_step_elsewhere(void **state)
{
    torn_then_same_step_elsewhere(*state, "desfire-ev1", 8 + EV1_PROBE, 0);
    torn_then_same_step_elsewhere(*state, "desfire-ev2", 8, 0);
    torn_then_same_step_elsewhere(*state, "desfire-ev3", 8, 0);
}

static void test_classic_torn_then_same_step_elsewhere(void **state)
{
    torn_then_same_step_elsewhere(*state, NULL, 23, 1); /* seq 1 after the issue */
}

/* A commit that never reached the card, then the terminal restarts (its
 * memory of the doubt lost): at the card's next tap there the card still
 * at the entry's counter before is settled not done (JOURNAL_OP_SETTLE,
 * item 02, naming the entry), the balance shows nothing moved, and a void
 * has nothing to undo. commit: the commit's command (DESFire's
 * CommitTransaction; Classic's last block of the slot); counter: the
 * card's journal counter before the earn (DESFire taps, Classic seq). */
static void restart_settles(struct fixture *f, bool desfire, unsigned commit, uint32_t points,
                            uint32_t counter)
{
    struct till a;
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_request vd = till_request(TERMINAL_VOID, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry e[8];
    unsigned n;

    if (desfire)
        till_make_desfire(f, 0, 0);
    else
        till_make_classic(f, 0);
    till_open(&a, f, 3, NULL);
    cardsim_set_tear(reader_sim_card(a.r), &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND,
                                                                  commit, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&a, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    till_restart(&a);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.settled);
    assert_int_equal(r.settled_item, JOURNAL_SETTLED_NOT_DONE);
    assert_int_equal(r.after.points, points);
    assert_int_equal(r.taps_after, counter);
    n = till_entries(&a, e, 8);
    assert_int_equal(n, 3); /* the earn, its settle, the balance */
    assert_int_equal(e[0].op, JOURNAL_OP_EARN);
    assert_int_equal(e[0].counter_before, counter);
    assert_int_equal(e[0].counter_after, counter + 1);
    assert_int_equal(e[0].points_after, points + 10);
    assert_int_equal(e[1].op, JOURNAL_OP_SETTLE);
    assert_int_equal(e[1].ref_epoch, e[0].epoch);
    assert_int_equal(e[1].ref_seq, e[0].seq);
    assert_int_equal(e[1].item, JOURNAL_SETTLED_NOT_DONE);
    assert_int_equal(e[1].counter_before, counter);
    assert_int_equal(e[2].op, JOURNAL_OP_BALANCE);
    /* Settled once: the next tap settles nothing, and there is nothing to void. */
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);
    /* A second restart reads the settle: still nothing to settle or void. */
    till_restart(&a);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(r.after.points, points);
    till_close(&a);
}

static void test_desfire_restart_settles_unanswered_commit(void **state)
{
    restart_settles(*state, true, 8 + EV1_PROBE, 25, 0); /* a fresh card: 0 taps */
}

static void test_classic_restart_settles_unanswered_commit(void **state)
{
    restart_settles(*state, false, 23, 25, 1); /* seq 1 after the issue */
}

static void restart(struct till *a, bool walk);

/* Issue 19's earn without the counter (an EV3 with the Transaction MAC file,
 * its floor saying so) torn at its commit, then the terminal restarts: the
 * card's state seq, which the earn's state lines give as it was before,
 * settles it. The commit never reached the card (seq still the one before):
 * settled not done at the next tap there, once, nothing to void; the commit
 * reached the card, its answer lost (seq after): nothing is settled (as with
 * the counter: after a restart only "not done" is said) and the void finds
 * the card as the earn left it. With the summary and with the walk. */
static void restart_settles_no_counter(struct fixture *f, bool walk)
{
    struct till a;
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_request vd = till_request(TERMINAL_VOID, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry e[8];
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 0, 0, {0}};
    struct till_package pkg = {.floors = &fl, .floor_count = 1};

    till_make_desfire_tmac_v2(f, "desfire-ev3", 0, 0, false);
    till_open(&a, f, 3, &pkg);
    cardsim_set_tear(reader_sim_card(a.r),
                     &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND, 6, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&a, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    assert_int_equal(r.round_trips, 6);
    restart(&a, walk);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.settled);
    assert_int_equal(r.settled_item, JOURNAL_SETTLED_NOT_DONE);
    assert_int_equal(r.after.points, 25);
    assert_int_equal(till_entries(&a, e, 8), 3); /* the earn, its settle, the balance */
    assert_int_equal(e[0].op, JOURNAL_OP_EARN);
    assert_int_equal(e[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[0].counter_after, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[1].op, JOURNAL_OP_SETTLE);
    assert_int_equal(e[1].ref_seq, e[0].seq);
    assert_int_equal(e[1].item, JOURNAL_SETTLED_NOT_DONE);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);

    /* The commit reached the card, its answer lost. */
    cardsim_set_tear(reader_sim_card(a.r),
                     &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_ANSWER, 6, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&a, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    restart(&a, walk);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(r.after.points, 35);
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 25);
    till_close(&a);
}

static void test_desfire_no_counter_restart_settles(void **state)
{
    restart_settles_no_counter(*state, false);
    restart_settles_no_counter(*state, true);
}

/* A restart; walk: the terminal opened without its summary (sum NULL), so
 * its last operation comes from terminal.c's own walk of the journal rather
 * than journal_sum's. */
static void restart(struct till *a, bool walk)
{
    struct terminal_setup s;
    till_restart(a);
    if (!walk)
        return;
    s = a->t.s;
    s.sum = NULL;
    terminal_close(&a->t);
    assert_int_equal(terminal_open(&a->t, &s), LEAL_OK);
}

/* The same for a void: its entry journaled, its commit never reached the
 * card, then the terminal restarts. The card still at the void's counter
 * before (holding the earn) is settled not done at its next tap there (the
 * settle names the void), like any other torn operation; the earn stays
 * standing on the card and in the journal, and nothing is voided after that
 * (a void settled not done leaves nothing to void, as without the restart).
 * A void whose commit did reach the card is not settled at a restart (the
 * card at its counter after), and is never voided itself. */
static void restart_settles_void(struct fixture *f, bool desfire, unsigned commit, uint32_t points,
                                 uint32_t counter, bool walk)
{
    struct till a;
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_request vd = till_request(TERMINAL_VOID, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry e[12];
    unsigned n;

    if (desfire)
        till_make_desfire(f, 0, 0);
    else
        till_make_classic(f, 0);
    till_open(&a, f, 3, NULL);
    assert_int_equal(till_tap(&a, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, points + 10);
    cardsim_set_tear(reader_sim_card(a.r), &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND,
                                                                  commit, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    restart(&a, walk);
    assert_int_equal(till_tap(&a, &bal, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.settled);
    assert_int_equal(r.settled_item, JOURNAL_SETTLED_NOT_DONE);
    assert_int_equal(r.after.points, points + 10); /* the earn stands on the card */
    assert_int_equal(r.taps_after, counter + 1);
    n = till_entries(&a, e, 12);
    assert_int_equal(n, 4); /* the earn, the void, its settle, the balance */
    assert_int_equal(e[0].op, JOURNAL_OP_EARN);
    assert_int_equal(e[0].counter_before, counter);
    assert_int_equal(e[0].counter_after, counter + 1);
    assert_int_equal(e[0].points, 10);
    assert_int_equal(e[1].op, JOURNAL_OP_VOID);
    assert_int_equal(e[1].ref_epoch, e[0].epoch);
    assert_int_equal(e[1].ref_seq, e[0].seq);
    assert_int_equal(e[1].points, -10);
    assert_int_equal(e[1].counter_before, counter + 1);
    assert_int_equal(e[1].counter_after, counter + 2);
    assert_int_equal(e[1].points_after, points);
    assert_int_equal(e[2].op, JOURNAL_OP_SETTLE);
    assert_int_equal(e[2].ref_epoch, e[1].epoch);
    assert_int_equal(e[2].ref_seq, e[1].seq);
    assert_int_equal(e[2].item, JOURNAL_SETTLED_NOT_DONE);
    assert_int_equal(e[2].counter_before, counter + 1);
    assert_int_equal(e[2].points_after, points + 10);
    assert_int_equal(e[3].op, JOURNAL_OP_BALANCE);
    assert_int_equal(e[3].points_after, points + 10);
    /* Settled once: nothing more to settle, nothing to void. */
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);
    restart(&a, walk);
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);
    assert_int_equal(r.after.points, points + 10);
    assert_int_equal(r.taps_after, counter + 1);

    /* A void that reached the card (its answer lost): at the restart the
     * card is at the void's counter after, which settles nothing, and the
     * void is not voided. */
    till_close(&a);
    if (desfire)
        till_make_desfire(f, 0, 0);
    else
        till_make_classic(f, 0);
    till_open(&a, f, 3, NULL);
    assert_int_equal(till_tap(&a, &earn, &r), LEAL_OK);
    cardsim_set_tear(reader_sim_card(a.r), &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_ANSWER,
                                                                  commit, CARDSIM_TORN_NEW, 0});
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    restart(&a, walk);
    assert_int_equal(till_tap(&a, &vd, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_NOTHING_TO_VOID);
    assert_int_equal(r.after.points, points);
    assert_int_equal(r.taps_after, counter + 2);
    n = till_entries(&a, e, 12);
    assert_int_equal(n, 3); /* the earn, the void, the refusal: no settle */
    assert_int_equal(e[1].op, JOURNAL_OP_VOID);
    assert_int_equal(e[2].op, JOURNAL_OP_REFUSAL);
    till_close(&a);
}

static void test_desfire_restart_settles_unanswered_void(void **state)
{
    restart_settles_void(*state, true, 8 + EV1_PROBE, 25, 0, false);
}

static void test_desfire_restart_settles_unanswered_void_walk(void **state)
{
    restart_settles_void(*state, true, 8 + EV1_PROBE, 25, 0, true);
}

static void test_classic_restart_settles_unanswered_void(void **state)
{
    restart_settles_void(*state, false, 23, 25, 1, false);
}

static void test_classic_restart_settles_unanswered_void_walk(void **state)
{
    restart_settles_void(*state, false, 23, 25, 1, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_desfire_ev2_earn_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_tmac_host_change_torn_everywhere,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_named_ev1_earn_torn_everywhere,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_earn_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_pay_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_bono_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_earn_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_pay_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_in_doubt_card_moves_on_elsewhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_torn_then_same_step_elsewhere,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_torn_then_same_step_elsewhere,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_restart_settles_unanswered_commit,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_no_counter_restart_settles, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_restart_settles_unanswered_commit,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_restart_settles_unanswered_void,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_restart_settles_unanswered_void_walk,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_restart_settles_unanswered_void,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_restart_settles_unanswered_void_walk,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_redeem_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_stamp_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_void_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_redeem_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_stamp_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_void_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_mirror_pay_earn_torn_everywhere,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_pay_earn_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_pay_earn_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_balance_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_balance_torn_everywhere, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
