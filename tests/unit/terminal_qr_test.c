/* terminal_qr_test.c - QR codes at an offline terminal (firmware/core/
 * terminal_qr.h) with a real till (tests/lib/till.h: a signed package, a
 * journal, the portable provider) and the golden codes of tests/vectors
 * (program 7, `qr` key RFC 8032 TEST 1; the phone 0x1000000000000002 with
 * key TEST 2, caps 20.00 / 50.00):
 * - the account's tier (cardlayout/qr/QR.md "The account's tier"): a phone
 *   whose allowance record carries tier 2 for the tap's period earns at it,
 *   to the point, and redeems a reward that asks for tier 2; the same record
 *   of last month's period, a static code, a phone with nothing held earn at
 *   tier 0 and are refused that reward; a static code never uses a bono;
 * - the journal's running summary (journal_sum.h) follows QR taps: after
 *   each it is current and encodes byte for byte as a rebuild, the phone's
 *   day totals are exact, and the next card pay reads one journal slot (no
 *   walk) while its day cap counts exactly the card's own payments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/journal_sum.h"
#include "firmware/core/terminal_qr.h"
#include "host/qr/qr_device.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/testutil.h"
#include "tests/lib/till.h"

#define PHONE 0x1000000000000002ull
#define PERIOD_NOW 317u /* 2026-05: (2026 - 2000) x 12 + 5 */

static const char *issuer_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *phone_hex = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
static struct qr_key key;
static struct terminal_qr_keys keys = {&key, 1};
static struct qr_device dev;
static char static_text[QR_TEXT_MAX];

static int setup(void **state)
{
    uint8_t issuer[32];
    struct vector_record *v;
    assert_int_equal(hex_decode(issuer_hex, issuer, sizeof issuer), 32);
    key.version = 1;
    assert_int_equal(crypto_openssl_ed25519_public(issuer, key.public_key), LEAL_OK);
    assert_int_equal(hex_decode(phone_hex, dev.seed, sizeof dev.seed), 32);
    assert_int_equal(vectors_load("qr_spend.txt", &v), 1);
    assert_int_equal(vectors_hex(&v[0], "CERT", dev.cert, sizeof dev.cert), QR_CERT_LEN);
    free(v);
    assert_int_equal(vectors_load("qr_static.txt", &v), 1);
    snprintf(static_text, sizeof static_text, "%s", vectors_str(&v[0], "TEXT"));
    free(v);
    return desk_fixture_setup(state);
}

/* till_rules with two tiers (100 euros: x1.5, 500 euros: x2) and reward 7
 * (product 4321, 20 points, tier 2 and up). */
static void tier_rules(struct rules_set *s)
{
    till_rules(s);
    s->program.n_tiers = 2;
    s->program.tiers[0] = (struct rules_tier){100, 1500};
    s->program.tiers[1] = (struct rules_tier){500, 2000};
    s->program.n_rewards = 3;
    s->program.rewards[2] = (struct rules_reward){7, RULES_REWARD_PRODUCT, 20, 4321, 2};
}

/* The phone's code n (its counter) at the till's time, taken for q. */
static void phone_tap(struct till *t, uint32_t n, const struct terminal_request *q,
                      struct terminal_qr_result *r)
{
    struct qr_device_code c;
    assert_int_equal(qr_device_code(&dev, t->now.utc_seconds, n, &c), LEAL_OK);
    assert_int_equal(terminal_qr_tap(&t->t, &keys, c.text, c.text_len, q, r), LEAL_OK);
}

/* A till whose package holds 100 points for the phone at tier `tier` of
 * local period `period` (0, 0: the record carries no tier). */
static void open_with_allowance(struct till *t, struct fixture *f, uint8_t tier, uint16_t period)
{
    static struct package_pending rec;
    rec = (struct package_pending){PHONE, 0, 9, 100, PACKAGE_CHANGE_QR_ALLOWANCE, tier, period, 0};
    till_open(t, f, 3,
              &(struct till_package){.pending = &rec, .pending_count = 1, .rules = tier_rules});
}

static void test_tier_from_the_allowance_record(void **state)
{
    struct fixture *f = *state;
    static struct till t;
    struct terminal_request q = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_qr_result r;
    till_make_desfire(f, 0, 0);
    open_with_allowance(&t, f, 2, PERIOD_NOW);
    phone_tap(&t, 1, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    /* 10.00 at 1 point a euro: base 10, tier 2 (x2) adds 10. */
    assert_int_equal(r.points, 20);
    assert_int_equal(r.n_lines, 2);
    assert_int_equal(r.lines[0].source, RULES_LINE_BASE);
    assert_int_equal(r.lines[0].points, 10);
    assert_int_equal(r.lines[1].source, RULES_LINE_TIER);
    assert_int_equal(r.lines[1].id, 2);
    assert_int_equal(r.lines[1].points, 10);
    q = till_request(TERMINAL_REDEEM, 0, 0, 7);
    phone_tap(&t, 2, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.points, -20);
    assert_int_equal(r.allowance_left, 80);
    assert_int_equal(r.redeemed.product_id, 4321);
    /* A static code has no record: tier 0, 10 points. */
    q = till_request(TERMINAL_EARN, 1000, 0, 0);
    assert_int_equal(terminal_qr_tap(&t.t, &keys, static_text, strlen(static_text), &q, &r),
                     LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.points, 10);
    assert_int_equal(r.n_lines, 1);
    /* ... and never uses a bono (a photo of it would spend the owner's sessions). */
    q = till_request(TERMINAL_BONO, 0, 0, 21);
    assert_int_equal(terminal_qr_tap(&t.t, &keys, static_text, strlen(static_text), &q, &r),
                     LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_QR_STATIC_SPEND);
    till_close(&t);
}

static void test_no_tier_without_a_current_record(void **state)
{
    struct fixture *f = *state;
    static struct till t;
    struct terminal_request q = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_qr_result r;
    struct journal_entry e;
    /* Reckoned for last month: a month's turn may have lowered it. */
    till_make_desfire(f, 0, 0);
    open_with_allowance(&t, f, 2, PERIOD_NOW - 1);
    phone_tap(&t, 1, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.points, 10);
    assert_int_equal(r.n_lines, 1);
    q = till_request(TERMINAL_REDEEM, 0, 0, 7);
    phone_tap(&t, 2, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_RULES_TIER);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_REFUSAL);
    assert_int_equal(e.reason, LEAL_E_RULES_TIER);
    /* Reward 5 asks for no tier: taken from the 100 held. */
    q = till_request(TERMINAL_REDEEM, 0, 0, 5);
    phone_tap(&t, 3, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.allowance_left, 90);
    till_close(&t);
    /* A record with no tier (the account has none): tier 0 too. */
    open_with_allowance(&t, f, 0, 0);
    q = till_request(TERMINAL_EARN, 1000, 0, 0);
    phone_tap(&t, 1, &q, &r);
    assert_int_equal(r.points, 10);
    q = till_request(TERMINAL_REDEEM, 0, 0, 7);
    phone_tap(&t, 2, &q, &r);
    assert_int_equal(r.reason, LEAL_E_RULES_TIER);
    till_close(&t);
}

/* Journal slots the next call reads, counted through a wrapper of the
 * till's journal storage: a read that starts a slot (the journal reads a
 * slot's later bytes in pieces after its first: an append's read-back, a
 * unit's blank check). */
static const struct port_storage *inner;
static unsigned reads;

static leal_err count_read(void *ctx, uint32_t off, uint8_t *out, size_t n)
{
    (void)ctx;
    if (off % JOURNAL_SLOT == 0)
        reads++;
    return inner->read(inner->ctx, off, out, n);
}

static unsigned slots_read_by_a_pay(struct till *t, int64_t cents, struct terminal_result *r)
{
    static struct port_storage wrap;
    struct terminal_request q = till_request(TERMINAL_PAY, 0, cents, 0);
    inner = t->j.st;
    wrap = *inner;
    wrap.read = count_read;
    t->j.st = &wrap;
    reads = 0;
    assert_int_equal(till_tap(t, &q, r), LEAL_OK);
    t->j.st = inner;
    return reads;
}

/* What a tap that walks nothing reads when its append goes to slot `slot`
 * (checked): its append's read-back, and when the slot opens a new unit,
 * that unit's 8 slots checked blank (journal.c) - never the entries. */
static unsigned no_walk(const struct till *t, uint32_t slot)
{
    uint32_t per_unit = TILL_JOURNAL_UNIT / JOURNAL_SLOT;
    assert_int_equal(t->j.next_slot, slot);
    return 1 + (slot % per_unit == 0 ? per_unit : 0);
}

/* A card pay of cents, its append at slot `slot`, reads no entry beyond
 * no_walk's. */
static void pay_without_walk(struct till *t, int64_t cents, uint32_t slot,
                             struct terminal_result *r)
{
    unsigned want = no_walk(t, slot);
    assert_int_equal(slots_read_by_a_pay(t, cents, r), want);
}

/* t's summary is current and encodes as one rebuilt from its journal. */
static void expect_summary_as_rebuilt(struct till *t)
{
    static struct journal_sum re;
    static uint8_t a[JOURNAL_SUM_MAX_LEN], b[JOURNAL_SUM_MAX_LEN];
    size_t alen = 0, blen = 0;
    assert_true(journal_sum_current(&t->sum, &t->j));
    assert_int_equal(journal_sum_rebuild(&re, &t->j), LEAL_OK);
    assert_int_equal(journal_sum_encode(&t->sum, &t->j, a, sizeof a, &alen), LEAL_OK);
    assert_int_equal(journal_sum_encode(&re, &t->j, b, sizeof b, &blen), LEAL_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
}

static void test_summary_follows_qr_taps(void **state)
{
    struct fixture *f = *state;
    static struct till t;
    struct terminal_request q;
    struct terminal_result cr;
    struct terminal_qr_result r;
    struct journal_sum_totals tot;
    uint32_t today = (uint32_t)((TILL_NOW + 120 * 60) / 86400);
    till_make_desfire(f, 20000, 0);
    till_open(&t, f, 3, &(struct till_package){.cap_day_cents = 10000, .cap_sync_cents = 30000});
    pay_without_walk(&t, 4000, 1, &cr);
    assert_int_equal(cr.outcome, TERMINAL_DONE);
    /* The phone pays 15.00, then 12.00; a static code earns on 8.00. */
    q = till_request(TERMINAL_PAY, 0, 1500, 0);
    phone_tap(&t, 1, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    expect_summary_as_rebuilt(&t);
    q.pay_cents = 1200;
    phone_tap(&t, 2, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.spent_today_cents, 2700);
    expect_summary_as_rebuilt(&t);
    q = till_request(TERMINAL_EARN, 800, 0, 0);
    assert_int_equal(terminal_qr_tap(&t.t, &keys, static_text, strlen(static_text), &q, &r),
                     LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    expect_summary_as_rebuilt(&t);
    /* A refused code (25.00 over its 20.00 a payment) is journaled and followed too. */
    q = till_request(TERMINAL_PAY, 0, 2500, 0);
    phone_tap(&t, 3, &q, &r);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_QR_CAP_TX);
    expect_summary_as_rebuilt(&t);
    journal_sum_totals_of(&t.sum, JOURNAL_CARD_QR, PHONE, today, &tot);
    assert_true(tot.known);
    assert_int_equal(tot.today, 2700);
    assert_int_equal(tot.since_sync, 2700);
    /* The card's own cap: 40.00 + 40.00 of its 100.00 a day (the phone's
     * 27.00 is the phone's), then 30.00 over it, 20.00 to the cent; no tap
     * walks the journal (no_walk: the summary answered the caps). */
    pay_without_walk(&t, 4000, 6, &cr);
    assert_int_equal(cr.outcome, TERMINAL_DONE);
    pay_without_walk(&t, 3000, 7, &cr);
    assert_int_equal(cr.outcome, TERMINAL_REFUSED);
    assert_int_equal(cr.reason, LEAL_E_TERMINAL_CAP_DAY);
    pay_without_walk(&t, 2000, 8, &cr);
    assert_int_equal(cr.outcome, TERMINAL_DONE);
    assert_int_equal(cr.purse_after, 10000);
    journal_sum_totals_of(&t.sum, JOURNAL_CARD_DESFIRE, TILL_CARD_ID, today, &tot);
    assert_true(tot.known);
    assert_int_equal(tot.today, 10000);
    expect_summary_as_rebuilt(&t);
    till_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tier_from_the_allowance_record, setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_no_tier_without_a_current_record, setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_summary_follows_qr_taps, setup, desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
