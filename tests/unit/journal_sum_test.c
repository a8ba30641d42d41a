/* journal_sum_test.c - the journal's running summary (firmware/core/
 * journal_sum.h, JOURNAL.md "The summary"): kept entry by entry it encodes
 * byte for byte as a rebuild from the journal does; its totals are the
 * exact sums of a walk of the unacknowledged entries (per card, per day,
 * per rule), or "unknown" where it has no room; a summary that is stale (an
 * append it did not see: its save lost to a power cut), torn at any length
 * or flipped at any bit is never believed; a till whose summary is stale
 * still refuses a payment over its cap; and a tap with a current summary
 * reads one journal slot (its append's read-back) however long the journal
 * is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/journal_sum.h"
#include "firmware/port/posix/ram_storage.h"
#include "keys/base/bytes.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/till.h"

#define T0 1780000000u /* 2026-05-28 20:26:40 UTC; local (+60 min) the same day */
#define DAY0 (uint32_t)((T0 + 3600u) / 86400u)
#define UNIT 4096u
#define UNITS 64u /* 512 slots: room for more cards than the summary keeps */
#define CARD_A 0x0102030405060708ull
#define CARD_B 0x1112131415161718ull

static uint8_t mem[UNIT * UNITS];
static struct ram_storage rs;
static struct port_storage counting; /* rs.port with its reads counted */
static unsigned reads;
static struct journal j;
static struct journal_sum inc; /* kept by journal_sum_add */
static const struct crypto_provider *cp;

/* Counts the slots read: a read that starts a slot (the journal reads a
 * slot's later bytes in pieces after its first: an append's read-back). */
static leal_err count_read(void *ctx, uint32_t off, uint8_t *out, size_t n)
{
    (void)ctx;
    if (off % JOURNAL_SLOT == 0)
        reads++;
    return rs.port.read(rs.port.ctx, off, out, n);
}

static void open_journal(void)
{
    struct journal_config cfg;
    struct journal_report rep;
    struct port_time t = {T0, 60};
    cp = crypto_openssl();
    memset(&cfg, 0, sizeof cfg);
    cfg.program_id = 7;
    cfg.terminal_id = 3;
    cfg.key_version = 1;
    memset(cfg.key, 0x43, sizeof cfg.key);
    assert_int_equal(ram_storage_init(&rs, mem, UNIT, UNITS), LEAL_OK);
    counting = rs.port;
    counting.read = count_read;
    assert_int_equal(journal_open(&j, &counting, cp, &cfg, &t, &rep), LEAL_OK);
    assert_int_equal(journal_sum_rebuild(&inc, &j), LEAL_OK);
    assert_true(journal_sum_current(&inc, &j));
}

/* Appends one entry of card about purse cents (pay, or a void's back) at
 * T0 + seconds, with a rule line when rule_points > 0; kept in inc. */
static void append(uint8_t op, uint64_t card, uint32_t cents, uint32_t seconds, uint8_t rule,
                   int64_t rule_points)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = op;
    e.card_kind = JOURNAL_CARD_DESFIRE;
    e.utc_seconds = T0 + seconds;
    e.utc_offset_minutes = 60;
    e.card_id = card;
    e.counter_before = 10;
    e.counter_after = op == JOURNAL_OP_REFUSAL ? 10 : 11;
    e.package_version = 1;
    e.purse_cents = cents;
    if (op == JOURNAL_OP_PAY_EARN) {
        e.amount_cents = 1000;
        e.points = rule_points;
    }
    if (rule_points > 0) {
        e.n_lines = 1;
        e.lines[0] = (struct journal_line){RULES_LINE_RULE, rule, 77, rule_points};
    }
    assert_int_equal(journal_append(&j, &e), LEAL_OK);
    journal_sum_add(&inc, &j, &e);
    assert_true(journal_sum_current(&inc, &j));
}

/* What terminal.c's walk of the unacknowledged entries sums for a card. */
static void walk(uint64_t card, uint32_t day, int64_t *since, int64_t *today,
                 uint32_t rule_today[RULES_MAX_RULES])
{
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    *since = *today = 0;
    memset(rule_today, 0, RULES_MAX_RULES * sizeof rule_today[0]);
    journal_iter_begin(&j, &it, true);
    for (;;) {
        assert_int_equal(journal_iter_next(&j, &it, &e, NULL, NULL, &done), LEAL_OK);
        if (done)
            return;
        if (e.card_id != card || e.card_kind != JOURNAL_CARD_DESFIRE)
            continue;
        int64_t purse = e.op == JOURNAL_OP_PAY || e.op == JOURNAL_OP_PAY_EARN ? e.purse_cents
                        : e.op == JOURNAL_OP_VOID ? -(int64_t)e.purse_cents
                                                  : 0;
        *since += purse;
        if ((e.utc_seconds + 3600) / 86400 != day)
            continue;
        *today += purse;
        for (uint8_t i = 0; i < e.n_lines; i++)
            if (e.lines[i].source == RULES_LINE_RULE && e.lines[i].points > 0)
                rule_today[e.lines[i].rule_index] += (uint32_t)e.lines[i].points;
    }
}

/* inc's totals for card on day: unknown (walk), or exactly the walk's. */
static bool expect_totals(uint64_t card, uint32_t day)
{
    struct journal_sum_totals tot;
    int64_t since, today;
    uint32_t rules[RULES_MAX_RULES];
    journal_sum_totals_of(&inc, JOURNAL_CARD_DESFIRE, card, day, &tot);
    if (!tot.known)
        return false;
    walk(card, day, &since, &today, rules);
    assert_int_equal(tot.since_sync, since);
    assert_int_equal(tot.today, today);
    assert_memory_equal(tot.rule_today, rules, sizeof rules);
    return true;
}

/* inc encodes byte for byte as a summary rebuilt from the journal. */
static void expect_as_rebuilt(void)
{
    static struct journal_sum re;
    static uint8_t a[JOURNAL_SUM_MAX_LEN], b[JOURNAL_SUM_MAX_LEN];
    size_t alen = 0, blen = 0;
    assert_int_equal(journal_sum_rebuild(&re, &j), LEAL_OK);
    assert_int_equal(journal_sum_encode(&inc, &j, a, sizeof a, &alen), LEAL_OK);
    assert_int_equal(journal_sum_encode(&re, &j, b, sizeof b, &blen), LEAL_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
}

static void test_totals_are_the_walks(void **state)
{
    struct journal_sum_totals tot;
    (void)state;
    open_journal();
    append(JOURNAL_OP_PAY, CARD_A, 300, 60, 0, 0);
    append(JOURNAL_OP_PAY_EARN, CARD_A, 200, 120, 2, 5);
    append(JOURNAL_OP_PAY, CARD_B, 100, 180, 0, 0);
    append(JOURNAL_OP_REFUSAL, CARD_B, 900, 200, 0, 0); /* a refusal counts nothing */
    append(JOURNAL_OP_VOID, CARD_A, 200, 240, 0, 0);
    append(JOURNAL_OP_PAY_EARN, CARD_A, 0, 250, 2, 3);
    expect_as_rebuilt();
    journal_sum_totals_of(&inc, JOURNAL_CARD_DESFIRE, CARD_A, DAY0, &tot);
    assert_true(tot.known);
    assert_int_equal(tot.since_sync, 300);
    assert_int_equal(tot.today, 300);
    assert_int_equal(tot.rule_today[2], 8);
    assert_true(expect_totals(CARD_A, DAY0));
    assert_true(expect_totals(CARD_B, DAY0));
    assert_true(expect_totals(CARD_A, DAY0 + 1)); /* a later day: nothing yet */
    /* A card with no entry: known, all zero. */
    journal_sum_totals_of(&inc, JOURNAL_CARD_DESFIRE, 99, DAY0, &tot);
    assert_true(tot.known);
    assert_int_equal(tot.since_sync, 0);
    /* The next day: today's sums begin again, since the ack's go on. */
    append(JOURNAL_OP_PAY, CARD_A, 50, 86400, 4, 0);
    append(JOURNAL_OP_PAY_EARN, CARD_A, 25, 86460, 4, 7);
    expect_as_rebuilt();
    journal_sum_totals_of(&inc, JOURNAL_CARD_DESFIRE, CARD_A, DAY0 + 1, &tot);
    assert_true(tot.known);
    assert_int_equal(tot.since_sync, 375);
    assert_int_equal(tot.today, 75);
    assert_int_equal(tot.rule_today[2], 0);
    assert_int_equal(tot.rule_today[4], 7);
    assert_true(expect_totals(CARD_A, DAY0 + 1));
    /* The day before is no longer kept: the caller walks (clock set back). */
    assert_false(expect_totals(CARD_A, DAY0));
    assert_true(expect_totals(CARD_B, DAY0));
    /* More rules on a card's day than it has room for: unknown, not wrong. */
    for (uint8_t r = 0; r <= JOURNAL_SUM_RULES; r++)
        append(JOURNAL_OP_PAY_EARN, CARD_B, 1, 300, (uint8_t)(8 + r), 1);
    assert_false(expect_totals(CARD_B, DAY0));
    assert_true(expect_totals(CARD_B, DAY0 + 1));
    expect_as_rebuilt();
    journal_close(&j);
}

static void test_more_cards_than_room(void **state)
{
    struct journal_sum_totals tot;
    (void)state;
    open_journal();
    for (uint64_t c = 1; c <= JOURNAL_SUM_CARDS + 1; c++)
        append(JOURNAL_OP_PAY, c, (uint32_t)c, 60, 0, 0);
    expect_as_rebuilt();
    assert_true(expect_totals(1, DAY0));
    assert_true(expect_totals(JOURNAL_SUM_CARDS, DAY0));
    assert_false(expect_totals(JOURNAL_SUM_CARDS + 1, DAY0)); /* no room: walked */
    journal_sum_totals_of(&inc, JOURNAL_CARD_DESFIRE, 5000, DAY0, &tot);
    assert_false(tot.known); /* nor can it say a card has nothing */
    journal_close(&j);
}

static void test_stale_torn_and_flipped_summaries(void **state)
{
    static uint8_t enc[JOURNAL_SUM_MAX_LEN], bad[JOURNAL_SUM_MAX_LEN];
    static struct journal_sum got;
    size_t len = 0;
    (void)state;
    open_journal();
    append(JOURNAL_OP_PAY, CARD_A, 300, 60, 0, 0);
    append(JOURNAL_OP_PAY_EARN, CARD_B, 100, 60, 1, 4);
    assert_int_equal(journal_sum_encode(&inc, &j, enc, sizeof enc, &len), LEAL_OK);
    assert_int_equal(len, JOURNAL_SUM_HEADER_LEN + 2 * JOURNAL_SUM_CARD_LEN +
                              JOURNAL_SUM_HOT_HEADER_LEN + JOURNAL_MAC_LEN);
    assert_int_equal(journal_sum_decode(&got, &j, enc, len), LEAL_OK);
    assert_true(journal_sum_current(&got, &j));
    /* Torn at every length (a save cut short): never believed. */
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(journal_sum_decode(&got, &j, enc, n), LEAL_OK);
    assert_false(got.valid);
    /* Every single-bit flip: refused. */
    for (size_t i = 0; i < len; i++)
        for (int b = 0; b < 8; b++) {
            memcpy(bad, enc, len);
            bad[i] ^= (uint8_t)(1u << b);
            assert_int_not_equal(journal_sum_decode(&got, &j, bad, len), LEAL_OK);
        }
    /* An append whose summary was never saved (the power cut after the
     * journal's append): the saved one decodes but is stale. */
    append(JOURNAL_OP_PAY, CARD_A, 50, 120, 0, 0);
    assert_int_equal(journal_sum_decode(&got, &j, enc, len), LEAL_OK);
    assert_false(journal_sum_current(&got, &j));
    /* And a stale summary is not kept by an append either. */
    journal_sum_add(&got, &j, &(struct journal_entry){.epoch = 1});
    assert_false(got.valid);
    journal_close(&j);
}

/* A refusal of card under package version pv for reason (journal_hot_add's
 * input), or with reason 0 a balance: an entry that only moves the package
 * on. Kept in inc. */
static void append_hot(uint64_t card, uint32_t pv, leal_err reason)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = reason != LEAL_OK ? JOURNAL_OP_REFUSAL : JOURNAL_OP_BALANCE;
    e.card_kind = JOURNAL_CARD_DESFIRE;
    e.utc_seconds = T0 + 60;
    e.utc_offset_minutes = 60;
    e.card_id = card;
    e.counter_before = e.counter_after = 10;
    e.package_version = pv;
    e.reason = (uint16_t)reason;
    e.item = JOURNAL_OP_EARN;
    assert_int_equal(journal_append(&j, &e), LEAL_OK);
    journal_sum_add(&inc, &j, &e);
    assert_true(journal_sum_current(&inc, &j));
}

/* The host's acknowledgment of the journal's head, applied: inc is stale
 * (an append it did not see) and is rebuilt. */
static void ack_head(void)
{
    struct journal_ack a;
    uint8_t key[16], b[JOURNAL_ACK_LEN];
    struct port_time t = {T0 + 120, 60};
    memset(&a, 0, sizeof a);
    a.key_version = 1;
    a.program_id = 7;
    a.terminal_id = 3;
    a.epoch = j.head.epoch;
    a.seq = j.head.seq;
    memcpy(a.entry_mac, j.head_mac, JOURNAL_MAC_LEN);
    memset(key, 0x43, sizeof key);
    assert_int_equal(journal_ack_encode(cp, key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_OK);
    assert_false(journal_sum_current(&inc, &j));
    assert_int_equal(journal_sum_rebuild(&inc, &j), LEAL_OK);
}

static uint8_t hot_of(uint64_t card, uint32_t pv)
{
    return journal_hot_find(&inc.hot, card, j.acked, pv);
}

/* The local hot list (TERMINAL.md "Round trips"): a card refused after its
 * commit with LEAL_E_TERMINAL_TMC_BEHIND stands while the host has not
 * acknowledged the refusal or no newer package is in force; kept entry by
 * entry exactly as a rebuild keeps it, encoded as JOURNAL.md says, and
 * "unknown" for cards it had no room for. */
static void test_local_hot_list(void **state)
{
    static uint8_t enc[JOURNAL_SUM_MAX_LEN];
    static struct journal_sum got;
    size_t len = 0;
    struct journal_key refusal;
    (void)state;
    open_journal();
    append_hot(CARD_B, 4, LEAL_E_TERMINAL_BEHIND_FLOOR); /* refused before any write: not on it */
    append_hot(CARD_A, 4, LEAL_E_TERMINAL_TMC_BEHIND);
    refusal = j.head;
    expect_as_rebuilt();
    assert_int_equal(hot_of(CARD_A, 4), JOURNAL_HOT_YES);
    assert_int_equal(hot_of(CARD_A, 5), JOURNAL_HOT_YES); /* a newer package, not acknowledged */
    assert_int_equal(hot_of(CARD_B, 4), JOURNAL_HOT_NO);
    /* Its bytes: no card with sums, then newest package 4, one record. */
    assert_int_equal(journal_sum_encode(&inc, &j, enc, sizeof enc, &len), LEAL_OK);
    assert_int_equal(len, JOURNAL_SUM_HEADER_LEN + JOURNAL_SUM_HOT_HEADER_LEN +
                              JOURNAL_SUM_HOT_LEN + JOURNAL_MAC_LEN);
    assert_int_equal(enc[4], 3);
    uint8_t want[JOURNAL_SUM_HOT_HEADER_LEN + JOURNAL_SUM_HOT_LEN] = {
        0, 0, 0, 4, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4};
    store_be32(want + 16, refusal.epoch);
    store_be32(want + 20, refusal.seq);
    assert_memory_equal(enc + JOURNAL_SUM_HEADER_LEN, want, sizeof want);
    assert_int_equal(journal_sum_decode(&got, &j, enc, len), LEAL_OK);
    assert_true(journal_sum_current(&got, &j));
    assert_int_equal(journal_hot_find(&got.hot, CARD_A, j.acked, 4), JOURNAL_HOT_YES);
    /* The host has it; package 4 still in force: it stands; from 5 on, not. */
    ack_head();
    assert_int_equal(hot_of(CARD_A, 4), JOURNAL_HOT_YES);
    assert_int_equal(hot_of(CARD_A, 5), JOURNAL_HOT_NO);
    assert_int_equal(inc.hot.n, 1);
    /* An entry under package 5: dropped from the list. */
    append_hot(CARD_B, 5, LEAL_OK);
    assert_int_equal(inc.hot.n, 0);
    assert_int_equal(inc.hot.newest_package, 5);
    assert_int_equal(hot_of(CARD_A, 4), JOURNAL_HOT_NO);
    expect_as_rebuilt();
    /* More cards than room: the ones it holds are known, the others not. */
    for (uint64_t c = 1; c <= JOURNAL_HOT_CARDS + 1; c++)
        append_hot(c, 5, LEAL_E_TERMINAL_TMC_BEHIND);
    expect_as_rebuilt();
    assert_true(inc.hot.over);
    assert_int_equal(hot_of(1, 5), JOURNAL_HOT_YES);
    assert_int_equal(hot_of(JOURNAL_HOT_CARDS, 5), JOURNAL_HOT_YES);
    assert_int_equal(hot_of(JOURNAL_HOT_CARDS + 1, 5), JOURNAL_HOT_UNKNOWN);
    assert_int_equal(hot_of(CARD_A, 5), JOURNAL_HOT_UNKNOWN);
    journal_close(&j);
}

/* A till's pay with the summary saved before the last pay (its save lost):
 * the cap is judged on both pays, not on the stale 40.00. */
static void test_till_with_a_stale_summary_keeps_the_cap(void **state)
{
    struct fixture *f = *state;
    static struct till t;
    static struct journal_sum saved;
    struct terminal_request q = till_request(TERMINAL_PAY, 0, 4000, 0);
    struct terminal_result r;
    till_make_desfire(f, 20000, 0);
    till_open(&t, f, 3, &(struct till_package){.cap_day_cents = 10000, .cap_sync_cents = 30000});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    saved = t.sum;
    assert_true(journal_sum_current(&saved, &t.j));
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    till_restart(&t);
    t.sum = saved; /* what the port loads: the copy before the second pay */
    assert_false(journal_sum_current(&t.sum, &t.j));
    q.pay_cents = 3000; /* 40 + 40 + 30 > 100.00 a day */
    /* the read of an EV1: 71 refused, AA (2), select, state, counter, purse */
    assert_int_equal(till_expect_refused(&t, &q, LEAL_E_TERMINAL_CAP_DAY), 7);
    assert_true(journal_sum_current(&t.sum, &t.j)); /* rebuilt, and kept since */
    q.pay_cents = 2000;
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.purse_after, 10000);
    till_close(&t);
}

/* Journal slots a pay tap reads with the summary current: the same after 2
 * entries as after 22 (without it, the caps' walk reads every one). */
static unsigned slots_read_by_a_pay(struct till *t)
{
    static struct port_storage wrap;
    const struct port_storage *inner = t->j.st;
    struct terminal_request q = till_request(TERMINAL_PAY, 0, 1, 0);
    struct terminal_result r;
    wrap = *inner;
    wrap.read = count_read;
    rs.port = *inner; /* count_read reads through rs.port */
    t->j.st = &wrap;
    reads = 0;
    assert_int_equal(till_tap(t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    t->j.st = inner;
    return reads;
}

static void test_a_tap_reads_a_fixed_number_of_slots(void **state)
{
    struct fixture *f = *state;
    static struct till t;
    struct terminal_request q = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_result r;
    unsigned early, late;
    till_make_desfire(f, 20000, 0);
    till_open(&t, f, 3, NULL);
    early = slots_read_by_a_pay(&t);
    for (int i = 0; i < 20; i++)
        assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    late = slots_read_by_a_pay(&t);
    assert_int_equal(early, 1); /* the append's read-back */
    assert_int_equal(late, early);
    /* Without the summary the same tap walks the 63 unacknowledged entries. */
    t.t.s.sum = NULL;
    assert_int_equal(slots_read_by_a_pay(&t), 1 + 23); /* EPOCH, 2 pays, 20 balances */
    till_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_are_the_walks),
        cmocka_unit_test(test_more_cards_than_room),
        cmocka_unit_test(test_stale_torn_and_flipped_summaries),
        cmocka_unit_test(test_local_hot_list),
        cmocka_unit_test_setup_teardown(test_till_with_a_stale_summary_keeps_the_cap,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_tap_reads_a_fixed_number_of_slots,
                                        desk_fixture_setup, desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
