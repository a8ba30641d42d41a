/*
 * qr_journal_test.c - the QR entries of the terminal journal
 * (firmware/core/JOURNAL.md "QR entries"): two golden entries byte for byte
 * (tests/vectors/leal_journal_qr.txt: a spending code's pay + earn and a
 * static code's earn, sealed under the golden journal key), both ways; the
 * field rules a QR entry must keep, each broken once and refused both by
 * the seal and by the decoder; and the old card entries' rules unchanged
 * by the new kind (a QR line in a DESFire entry, a host line in a QR one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/journal.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

#define PROGRAM 7
#define TERMINAL 3
#define ISSUER 0x11223344u
#define T0 1780000000u

static const struct crypto_provider *cp;
static uint8_t key[16];

static void setup_key(void)
{
    static const uint8_t master[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    cp = crypto_openssl();
    assert_int_equal(derive_journal_key(cp, master, ISSUER, PROGRAM, TERMINAL, key), LEAL_OK);
}

static struct journal_entry qr_base(uint8_t op, uint32_t seq)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = op;
    e.card_kind = JOURNAL_CARD_QR;
    e.terminal_id = TERMINAL;
    e.epoch = T0;
    e.seq = seq;
    e.utc_seconds = T0 + 60u * seq;
    e.utc_offset_minutes = 60;
    e.package_version = 5;
    memset(e.prev_mac, 0xA5, sizeof e.prev_mac);
    return e;
}

/* The two golden QR entries (QR.md): the spending code (virtual card
 * 0x1000000000000002, time step 59333333, counter 1) pays 12.00 and earns on
 * the sale: base 12; the static code (virtual card 0x1000000000000001) earns
 * on 23.50: base 23, and one stamp. */
static const struct golden_qr {
    uint8_t op;
    uint32_t seq;
    uint64_t card_id;
    uint32_t amount_cents, purse_cents;
    int64_t points;
    int16_t quantity;
    uint8_t qr_kind;
    uint32_t counter, step;
} golden_qr[] = {
    {JOURNAL_OP_PAY_EARN, 5, 0x1000000000000002ull, 1200, 1200, 12, 0, JOURNAL_QR_SPEND, 1,
     59333333},
    {JOURNAL_OP_EARN, 6, 0x1000000000000001ull, 2350, 0, 23, 1, JOURNAL_QR_STATIC, 0, 0},
};

static struct journal_entry golden_entry(const struct golden_qr *g)
{
    struct journal_entry e = qr_base(g->op, g->seq);
    e.card_id = g->card_id;
    e.amount_cents = g->amount_cents;
    e.purse_cents = g->purse_cents;
    e.points = g->points;
    e.quantity = g->quantity;
    e.n_lines = 2;
    e.lines[0] = (struct journal_line){RULES_LINE_BASE, 0, 0, (int64_t)g->points};
    e.lines[1] = (struct journal_line){JOURNAL_LINE_QR, g->qr_kind, g->counter, g->step};
    return e;
}

static struct journal_entry golden_spend(void)
{
    return golden_entry(&golden_qr[0]);
}

static struct journal_entry golden_static(void)
{
    return golden_entry(&golden_qr[1]);
}

static void print_hex(const char *name, const uint8_t *p, size_t n)
{
    char hex[2 * JOURNAL_ENTRY_MAX + 1];
    hex_encode(p, n, hex);
    printf("%s = %s\n", name, hex);
}

static void check_golden(const struct vector_record *v, const char *name, struct journal_entry e)
{
    uint8_t got[JOURNAL_ENTRY_MAX], want[JOURNAL_ENTRY_MAX];
    struct journal_entry back;
    size_t len, n;
    assert_int_equal(journal_entry_seal(cp, key, &e, got, sizeof got, &len), LEAL_OK);
    assert_int_equal(len, 112 + 2 * 14 + 16);
    if (getenv("LEAL_PRINT_JOURNAL"))
        print_hex(name, got, len);
    n = vectors_hex(v, name, want, sizeof want);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
    assert_int_equal(journal_entry_check_mac(cp, key, got, len), LEAL_OK);
    assert_int_equal(journal_entry_decode(got, len, &back), LEAL_OK);
    assert_memory_equal(&back, &e, sizeof e);
}

static void test_golden(void **state)
{
    struct vector_record *v;
    (void)state;
    setup_key();
    assert_int_equal(vectors_load("leal_journal_qr.txt", &v), 1);
    check_golden(&v[0], "SPEND", golden_spend());
    check_golden(&v[0], "STATIC", golden_static());
    free(v);
}

/* e must be refused by the seal (the decoder's refusals: test_rules' end). */
static void refused(struct journal_entry e, const char *why)
{
    uint8_t out[JOURNAL_ENTRY_MAX];
    size_t len;
    if (journal_entry_seal(cp, key, &e, out, sizeof out, &len) != LEAL_E_JOURNAL_MALFORMED)
        fail_msg("sealed although %s", why);
}

static void test_rules(void **state)
{
    struct journal_entry e;
    uint8_t out[JOURNAL_ENTRY_MAX], bytes[JOURNAL_ENTRY_MAX];
    struct journal_entry back;
    size_t len, blen;
    (void)state;
    setup_key();

    e = golden_spend();
    e.counter_before = 1;
    refused(e, "a QR entry has card counters");
    e = golden_spend();
    e.n_lines = 1;
    refused(e, "a taken QR operation has no QR line");
    e = golden_spend();
    e.lines[0] = e.lines[1];
    e.lines[1] = (struct journal_line){RULES_LINE_BASE, 0, 0, 12};
    refused(e, "the QR line is not the last");
    e = golden_spend();
    e.card_id = 0;
    refused(e, "a taken QR operation names no code");
    e = golden_spend();
    e.op = JOURNAL_OP_VOID;
    e.n_lines = 1;
    e.lines[0] = golden_spend().lines[1];
    refused(e, "a QR code voids nothing at a terminal");
    /* A spending code's redeem (QR.md "Redeeming with a spending code"):
     * the reward, its cost, the hold it counts under (ref_seq) and what is
     * left of it (points_after) travel as they were sealed. */
    e = golden_spend();
    e.op = JOURNAL_OP_REDEEM;
    e.n_lines = 1;
    e.lines[0] = golden_spend().lines[1];
    e.amount_cents = 0;
    e.item = 1;
    e.points = -100;
    e.ref_seq = 7;
    e.points_after = 50;
    memset(&e.lines[1], 0, sizeof e.lines[1]);
    assert_int_equal(journal_entry_seal(cp, key, &e, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, 112 + 14 + 16);
    assert_int_equal(journal_entry_decode(out, len, &back), LEAL_OK);
    assert_memory_equal(&back, &e, sizeof e);
    e.counter_after = 1;
    refused(e, "a QR redeem has card counters");
    e = golden_spend();
    e.lines[1].rule_index = 3;
    refused(e, "the QR line's code kind is 1 or 2");
    e = golden_spend();
    e.lines[1].points = (int64_t)UINT32_MAX + 1;
    refused(e, "a time step is 32 bits");
    e = golden_static();
    e.lines[1].id = 1;
    refused(e, "a static code has no counter");
    e = golden_static();
    e.lines[1] = (struct journal_line){JOURNAL_LINE_HOST, 0, 9, 5};
    refused(e, "a QR entry has no host line (there is no card to bring up to date)");
    e = golden_static();
    e.card_kind = JOURNAL_CARD_DESFIRE;
    e.counter_before = e.counter_after = 4;
    refused(e, "a card's entry has no QR line");
    e = golden_static();
    e.card_kind = JOURNAL_CARD_QR + 1;
    refused(e, "card kind 4 does not exist");

    /* A refusal of a code that did not parse: no card id, no line. */
    e = qr_base(JOURNAL_OP_REFUSAL, 7);
    e.reason = LEAL_E_QR_MALFORMED;
    e.item = 1;
    assert_int_equal(journal_entry_seal(cp, key, &e, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, 128);
    assert_int_equal(journal_entry_decode(out, len, &back), LEAL_OK);
    assert_int_equal(back.card_kind, JOURNAL_CARD_QR);

    /* The decoder keeps the same rules: a good entry's bytes with its QR
     * line's kind changed to 3 (MAC aside) decode as malformed. */
    e = golden_spend();
    assert_int_equal(journal_entry_seal(cp, key, &e, bytes, sizeof bytes, &blen), LEAL_OK);
    bytes[112 + 14 + 1] = 3;
    assert_int_equal(journal_entry_decode(bytes, blen, &back), LEAL_E_JOURNAL_MALFORMED);
    bytes[112 + 14 + 1] = JOURNAL_QR_SPEND;
    bytes[36 + 3] = 1; /* counter before */
    assert_int_equal(journal_entry_decode(bytes, blen, &back), LEAL_E_JOURNAL_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
