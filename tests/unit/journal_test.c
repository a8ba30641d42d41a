/* journal_test.c - the terminal journal (firmware/core/journal.h, JOURNAL.md)
 * and the port contract (port.h, the template port): the golden entry,
 * export and ack byte for byte (tests/vectors/leal_journal.txt); every
 * refusal of the decoders with its code; an append torn at every byte of its
 * work (program and erase) recovered with at most that entry lost and said
 * so; every single-bit flip of an export refused; chain breaks and MAC
 * failures named by sequence, in storage and in exports; export/ack round
 * trips with replayed, stale, forged and foreign acks refused; a full journal
 * never truncated before an ack; the POSIX file storage. Real OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/journal.h"
#include "firmware/port/posix/file_storage.h"
#include "firmware/port/posix/ram_storage.h"
#include "firmware/port/template/port_template.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

/* The golden journal: program 7, terminal 3 of issuer 0x11223344, its
 * journal key derived (KEYS.md) from the master 00 01 .. 0f, version 2. */
#define PROGRAM 7
#define TERMINAL 3
#define ISSUER 0x11223344u
#define T0 1780000000u /* 2026-05-28 20:26:40 UTC */
#define UNIT 1024u     /* 2 slots a unit: units are entered and erased often */
#define UNITS 4u

static const struct crypto_provider *cp;
static struct journal_config cfg;
static uint8_t mem[UNIT * UNITS];
static struct ram_storage rs;
static struct journal j;
static struct journal_report rep;

static struct port_time at(uint32_t seconds)
{
    struct port_time t = {T0 + seconds, 60};
    return t;
}

static void setup_config(void)
{
    static const uint8_t master[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    cp = crypto_openssl();
    memset(&cfg, 0, sizeof cfg);
    cfg.program_id = PROGRAM;
    cfg.terminal_id = TERMINAL;
    cfg.key_version = 2;
    assert_int_equal(derive_journal_key(cp, master, ISSUER, PROGRAM, TERMINAL, cfg.key), LEAL_OK);
}

static void fresh(void)
{
    struct port_time t = at(0);
    setup_config();
    assert_int_equal(ram_storage_init(&rs, mem, UNIT, UNITS), LEAL_OK);
    assert_int_equal(journal_open(&j, &rs.port, cp, &cfg, &t, &rep), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_FRESH);
}

static leal_err reopen(uint32_t seconds)
{
    struct port_time t = at(seconds);
    journal_close(&j);
    return journal_open(&j, &rs.port, cp, &cfg, &t, &rep);
}

/* The golden earn: 23.50 at store time, base + tier + one rule. */
static struct journal_entry golden_earn(void)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_EARN;
    e.card_kind = JOURNAL_CARD_DESFIRE;
    e.utc_seconds = T0 + 60;
    e.utc_offset_minutes = 60;
    e.card_id = 0x0102030405060708ull;
    e.counter_before = 12;
    e.counter_after = 13;
    e.package_version = 5;
    e.amount_cents = 2350;
    e.points = 56;
    e.points_after = 156;
    e.purse_after = 1000;
    e.tier_after = 1;
    e.stamps_after[0] = 3;
    e.n_lines = 3;
    e.lines[0] = (struct journal_line){RULES_LINE_BASE, 0, 0, 28};
    e.lines[1] = (struct journal_line){RULES_LINE_TIER, 0, 1, 14};
    e.lines[2] = (struct journal_line){RULES_LINE_RULE, 0, 1, 14};
    return e;
}

static struct journal_entry golden_pay(void)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_PAY;
    e.card_kind = JOURNAL_CARD_DESFIRE;
    e.utc_seconds = T0 + 120;
    e.utc_offset_minutes = 60;
    e.card_id = 0x0102030405060708ull;
    e.counter_before = 13;
    e.counter_after = 14;
    e.package_version = 5;
    e.purse_cents = 300;
    e.points_after = 156;
    e.purse_after = 700;
    e.tier_after = 1;
    e.stamps_after[0] = 3;
    return e;
}

static struct journal_entry golden_refusal(void)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_REFUSAL;
    e.card_kind = JOURNAL_CARD_CLASSIC;
    e.utc_seconds = T0 + 180;
    e.utc_offset_minutes = 60;
    e.reason = LEAL_E_CARD_BLOCKED;
    e.card_id = 17;
    e.counter_before = 4;
    e.counter_after = 4;
    e.package_version = 5;
    e.item = JOURNAL_OP_EARN;
    e.amount_cents = 1000;
    return e;
}

static void append_ok(struct journal_entry e)
{
    assert_int_equal(journal_append(&j, &e), LEAL_OK);
}

/* The golden journal: fresh, earn, pay, refusal; exported; acknowledged. */
static size_t golden_export(uint8_t *out, size_t cap, struct journal_export_info *info)
{
    fresh();
    append_ok(golden_earn());
    append_ok(golden_pay());
    append_ok(golden_refusal());
    assert_int_equal(journal_export(&j, out, cap, info), LEAL_OK);
    return info->len;
}

static void print_hex(const char *name, const uint8_t *p, size_t n)
{
    static char hex[8200];
    hex_encode(p, n, hex);
    printf("%s = %s\n", name, hex);
}

static void test_golden(void **state)
{
    struct vector_record *v;
    static uint8_t exp[2048], want[2048];
    struct journal_export_info info;
    struct journal_entry e = golden_earn(), back;
    struct journal_ack ack;
    uint8_t entry[JOURNAL_ENTRY_MAX], ackb[JOURNAL_ACK_LEN];
    size_t len, n, elen;
    (void)state;
    assert_int_equal(vectors_load("leal_journal.txt", &v), 1);
    len = golden_export(exp, sizeof exp, &info);
    assert_int_equal(info.count, 4);
    assert_int_equal(info.first_seq, 1);
    assert_int_equal(info.last_seq, 4);
    assert_int_equal(info.epoch, T0);
    /* The earn as the journal sealed it: seq 2, chained to the EPOCH entry. */
    assert_int_equal(journal_export_entry(exp, len, 1, &e), LEAL_OK);
    assert_int_equal(journal_entry_seal(cp, cfg.key, &e, entry, sizeof entry, &elen), LEAL_OK);
    assert_int_equal(elen, 112 + 3 * 14 + 16);
    memset(&ack, 0, sizeof ack);
    ack.key_version = 2;
    ack.program_id = PROGRAM;
    ack.terminal_id = TERMINAL;
    ack.epoch = info.epoch;
    ack.seq = info.last_seq;
    memcpy(ack.entry_mac, info.last_mac, 16);
    assert_int_equal(journal_ack_encode(cp, cfg.key, &ack, ackb), LEAL_OK);
    if (getenv("LEAL_PRINT_JOURNAL")) {
        print_hex("KEY", cfg.key, 16);
        print_hex("ENTRY", entry, elen);
        print_hex("EXPORT", exp, len);
        print_hex("ACK", ackb, sizeof ackb);
    }
    n = vectors_hex(&v[0], "KEY", want, sizeof want);
    assert_int_equal(n, 16);
    assert_memory_equal(cfg.key, want, 16);
    n = vectors_hex(&v[0], "ENTRY", want, sizeof want);
    assert_int_equal(n, elen);
    assert_memory_equal(entry, want, elen);
    n = vectors_hex(&v[0], "EXPORT", want, sizeof want);
    assert_int_equal(n, len);
    assert_int_equal(len, 32 + 128 + 170 + 128 + 128 + 16);
    assert_memory_equal(exp, want, len);
    n = vectors_hex(&v[0], "ACK", want, sizeof want);
    assert_int_equal(n, JOURNAL_ACK_LEN);
    assert_memory_equal(ackb, want, JOURNAL_ACK_LEN);
    /* Both ways: the golden bytes decode to the entry, field by field. */
    assert_int_equal(journal_entry_decode(entry, elen, &back), LEAL_OK);
    assert_memory_equal(&back, &e, sizeof e);
    assert_int_equal(back.seq, 2);
    assert_int_equal(back.epoch, T0);
    assert_int_equal(back.lines[2].points, 14);
    free(v);
    journal_close(&j);
}

static void test_entry_refusals(void **state)
{
    struct journal_entry e = golden_earn(), out;
    uint8_t b[JOURNAL_ENTRY_MAX + 1], c[JOURNAL_ENTRY_MAX + 1];
    size_t len, plen;
    (void)state;
    setup_config();
    e.terminal_id = TERMINAL;
    e.epoch = 9;
    e.seq = 2;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &e, b, sizeof b, &len), LEAL_OK);
    assert_int_equal(journal_entry_check_mac(cp, cfg.key, b, len), LEAL_OK);
    assert_int_equal(journal_entry_peek_len(b, 4, &plen), LEAL_OK);
    assert_int_equal(plen, len);
    assert_int_equal(journal_entry_peek_len(b, 3, &plen), LEAL_E_TRUNCATED);
    assert_int_equal(journal_entry_seal(cp, cfg.key, &e, b, len - 1, &len), LEAL_E_NO_SPACE);
    /* Each refusal of the decoder, *out zeroed. */
    memcpy(c, b, len);
    c[0] = 2;
    assert_int_equal(journal_entry_decode(c, len, &out), LEAL_E_JOURNAL_FORMAT_VERSION);
    assert_int_equal(out.op, 0);
    memcpy(c, b, len);
    c[3] = JOURNAL_MAX_LINES + 1;
    assert_int_equal(journal_entry_decode(c, len, &out), LEAL_E_JOURNAL_MALFORMED);
    assert_int_equal(journal_entry_decode(b, len - 1, &out), LEAL_E_JOURNAL_MALFORMED);
    b[len] = 0;
    assert_int_equal(journal_entry_decode(b, len + 1, &out), LEAL_E_JOURNAL_MALFORMED);
    const size_t offs[] = {1, 2, 93, 94, 95, 112}; /* op, kind, reserved, line source */
    const uint8_t vals[] = {0x0A, 3, 1, 1, 1, 0};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        memcpy(c, b, len);
        c[offs[i]] = vals[i];
        assert_int_equal(journal_entry_decode(c, len, &out), LEAL_E_JOURNAL_MALFORMED);
        assert_int_equal(out.seq, 0);
    }
    memcpy(c, b, len);
    c[15] = 1; /* seq 1 that is not an EPOCH entry */
    assert_int_equal(journal_entry_decode(c, len, &out), LEAL_E_JOURNAL_MALFORMED);
    memcpy(c, b, len);
    c[110] ^= 1;
    assert_int_equal(journal_entry_decode(c, len, &out), LEAL_OK);
    assert_int_equal(journal_entry_check_mac(cp, cfg.key, c, len), LEAL_E_JOURNAL_MAC);
    /* What the encoder refuses. */
    e.op = JOURNAL_OP_PAY; /* lines only on an earn */
    assert_int_equal(journal_entry_seal(cp, cfg.key, &e, b, sizeof b, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    e = golden_earn();
    e.terminal_id = TERMINAL;
    e.epoch = 9;
    e.seq = 2;
    e.utc_offset_minutes = 1081;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &e, b, sizeof b, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    /* A caller may not append what only the journal writes. */
    fresh();
    e = golden_pay();
    e.op = JOURNAL_OP_ACK;
    e.card_kind = 0;
    e.card_id = 0;
    assert_int_equal(journal_append(&j, &e), LEAL_E_ARG);
    journal_close(&j);
    assert_int_equal(journal_append(&j, &e), LEAL_E_ARG);
    e.op = JOURNAL_OP_PAY;
    assert_int_equal(journal_append(&j, &e), LEAL_E_STATE);
}

/* The port contract and its template. */
static void test_port(void **state)
{
    const struct terminal_port *t = port_template();
    struct terminal_port p;
    struct port_storage s;
    struct port_time now;
    uint8_t b[16];
    (void)state;
    assert_int_equal(terminal_port_check(t), LEAL_OK);
    assert_string_equal(t->name, "template");
    assert_int_equal(t->now(t->ctx, &now), LEAL_E_UNSUPPORTED);
    assert_int_equal(t->random(t->ctx, b, sizeof b), LEAL_E_UNSUPPORTED);
    assert_int_equal(t->show(t->ctx, "x", 1), LEAL_E_UNSUPPORTED);
    assert_int_equal(t->journal->read(NULL, 0, b, 1), LEAL_E_UNSUPPORTED);
    assert_int_equal(t->journal->program(NULL, 0, b, 1), LEAL_E_UNSUPPORTED);
    assert_int_equal(t->journal->erase(NULL, 0), LEAL_E_UNSUPPORTED);
    assert_int_equal(t->reader->classic_read(NULL, 4, b), LEAL_E_UNSUPPORTED);
    p = *t;
    p.show = NULL;
    assert_int_equal(terminal_port_check(&p), LEAL_E_ARG);
    p = *t;
    p.reader = NULL;
    assert_int_equal(terminal_port_check(&p), LEAL_E_ARG);
    assert_int_equal(terminal_port_check(NULL), LEAL_E_ARG);
    s = *t->journal;
    assert_int_equal(port_storage_check(&s), LEAL_OK);
    s.unit_size = 1000; /* not a power of two */
    assert_int_equal(port_storage_check(&s), LEAL_E_ARG);
    s.unit_size = 256;
    assert_int_equal(port_storage_check(&s), LEAL_E_ARG);
    s.unit_size = 1u << 20;
    s.unit_count = 4096; /* 4 GiB: past 32-bit offsets */
    assert_int_equal(port_storage_check(&s), LEAL_E_ARG);
    s.unit_count = 1;
    assert_int_equal(port_storage_check(&s), LEAL_E_ARG);
    s = *t->journal;
    s.erase = NULL;
    assert_int_equal(port_storage_check(&s), LEAL_E_ARG);
    p = *t;
    p.package = &s;
    assert_int_equal(terminal_port_check(&p), LEAL_E_ARG);
}

/* Every valid entry in storage order: their MACs, for comparing. */
static uint32_t entry_macs(uint8_t macs[][16], uint32_t cap, bool unacked)
{
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    uint32_t n = 0;
    journal_iter_begin(&j, &it, unacked);
    for (;;) {
        assert_int_equal(journal_iter_next(&j, &it, &e, NULL, NULL, &done), LEAL_OK);
        if (done)
            return n;
        assert_true(n < cap);
        memcpy(macs[n++], e.mac, 16);
    }
}

static void test_fresh_and_clean(void **state)
{
    struct journal_iter it;
    struct journal_entry e;
    bool done;
    (void)state;
    fresh();
    assert_int_equal(rep.head.epoch, T0);
    assert_int_equal(rep.head.seq, 1);
    assert_int_equal(rep.entries, 1);
    assert_int_equal(rep.unacked, 1);
    append_ok(golden_earn());
    append_ok(golden_pay());
    assert_int_equal(reopen(600), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_CLEAN);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.entries, 3);
    assert_int_equal(rep.head.seq, 3);
    journal_iter_begin(&j, &it, false);
    assert_int_equal(journal_iter_next(&j, &it, &e, NULL, NULL, &done), LEAL_OK);
    assert_false(done);
    assert_int_equal(e.op, JOURNAL_OP_EPOCH);
    assert_int_equal(e.ref_epoch, 0);
    assert_int_equal(journal_iter_next(&j, &it, &e, NULL, NULL, &done), LEAL_OK);
    assert_int_equal(e.op, JOURNAL_OP_EARN);
    assert_int_equal(e.seq, 2);
    assert_int_equal(e.points, 56);
    assert_int_equal(journal_iter_next(&j, &it, &e, NULL, NULL, &done), LEAL_OK);
    assert_int_equal(e.op, JOURNAL_OP_PAY);
    assert_int_equal(journal_iter_next(&j, &it, &e, NULL, NULL, &done), LEAL_OK);
    assert_true(done);
    /* Another key opens nothing of it: damage, and none of it is erased;
     * the new epoch goes to the first blank unit (unit 2: slot 4). */
    cfg.key[0] ^= 1;
    assert_int_equal(reopen(700), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_DAMAGED);
    assert_int_equal(rep.entries, 1); /* only its own new EPOCH entry */
    assert_int_equal(j.head_slot, 4);
    assert_int_equal(rs.erases, 0);
    /* The right key again: its three entries, the other one ignored. */
    cfg.key[0] ^= 1;
    assert_int_equal(reopen(800), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_CLEAN);
    assert_int_equal(rep.entries, 3);
    assert_int_equal(rep.head.seq, 3);
    /* No blank unit left for a third key that opens nothing: refused, untouched. */
    for (uint32_t u = 0; u < UNITS; u++)
        mem[u * UNIT + 700] = 0;
    cfg.key[1] ^= 1;
    assert_int_equal(reopen(900), LEAL_E_JOURNAL_MAC);
    assert_int_equal(rs.erases, 0);
    cfg.key[1] ^= 1;
    journal_close(&j);
}

/* Acknowledges everything exported so far (one export). */
static void ack_all(uint32_t seconds)
{
    static uint8_t exp[4096];
    struct journal_export_info info;
    struct journal_ack a;
    uint8_t b[JOURNAL_ACK_LEN];
    struct port_time t = at(seconds);
    assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
    memset(&a, 0, sizeof a);
    a.key_version = 2;
    a.program_id = PROGRAM;
    a.terminal_id = TERMINAL;
    a.epoch = info.epoch;
    a.seq = info.last_seq;
    memcpy(a.entry_mac, info.last_mac, 16);
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_OK);
}

/*
 * One torn append: a journal with `before` entries after its EPOCH entry
 * (acknowledged when ack is set, so that the append erases a used unit),
 * the power cut after k bytes of the append's work. Then: reopened, every
 * unacknowledged entry is there with its MAC (acknowledged ones in the unit
 * being erased may go: that is what the ack allowed), and the lost entry is
 * reported exactly when something of it reached storage.
 * Returns the bytes of work the append does without a cut.
 */
static uint64_t tear_case(uint32_t before, bool ack, uint64_t k, uint8_t tear, uint8_t *status)
{
    static uint8_t macs[64][16], after[64][16];
    uint32_t n, m;
    uint64_t work;
    struct journal_entry e = golden_earn();
    leal_err err;
    fresh();
    for (uint32_t i = 0; i < before; i++)
        append_ok(golden_pay());
    if (ack)
        ack_all(30);
    n = entry_macs(macs, 64, true);
    work = rs.work;
    if (k != UINT64_MAX)
        ram_storage_cut(&rs, k, tear);
    err = journal_append(&j, &e);
    if (k == UINT64_MAX) {
        assert_int_equal(err, LEAL_OK);
        return rs.work - work;
    }
    assert_int_equal(err, LEAL_E_IO);
    assert_int_equal(journal_append(&j, &e), LEAL_E_STATE); /* failed until opened again */
    ram_storage_power_on(&rs);
    assert_int_equal(reopen(900), LEAL_OK);
    assert_int_equal(rep.n_problems, 0);
    *status = rep.status;
    m = entry_macs(after, 64, true);
    assert_true(m >= n);
    for (uint32_t i = 0; i < n; i++)
        assert_memory_equal(after[i], macs[i], 16); /* never an unacknowledged entry lost */
    if (rep.status == JOURNAL_TORN) {
        assert_int_equal(rep.lost.seq, before + 2 + (ack ? 1 : 0));
        assert_int_equal(rep.head.seq, rep.lost.seq); /* its RECOVERY stands in */
        assert_int_equal(m, n + 1);
    } else {
        assert_int_equal(rep.status, JOURNAL_CLEAN);
        assert_int_equal(m, n);
    }
    /* The journal goes on, the next open is clean, and what the host gets
     * verifies: the RECOVERY entry chains like any other. */
    append_ok(golden_pay());
    assert_int_equal(reopen(960), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_CLEAN);
    assert_int_equal(rep.n_problems, 0);
    {
        static uint8_t exp[4096];
        struct journal_export_info info;
        uint32_t bad;
        assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
        assert_int_equal(journal_export_verify(cp, cfg.key, exp, info.len, &info, &bad), LEAL_OK);
        assert_int_equal(info.last_seq, rep.head.seq);
    }
    return work;
}

static void tear_everywhere(uint32_t before, bool ack, uint32_t *torn, uint32_t *cases)
{
    uint8_t status = 0;
    uint64_t total = tear_case(before, ack, UINT64_MAX, 0, &status);
    for (uint64_t k = 0; k < total; k++)
        for (uint8_t tear = RAM_TEAR_UNTOUCHED; tear <= RAM_TEAR_FLIPPED; tear++) {
            tear_case(before, ack, k, tear, &status);
            *torn += status == JOURNAL_CLEAN ? 0u : 1u;
            (*cases)++;
        }
    journal_close(&j);
}

static void test_tear_every_byte(void **state)
{
    uint32_t torn = 0, cases = 0;
    (void)state;
    /* Mid-unit: the earn's 170 bytes in slot 1 of unit 0. */
    tear_everywhere(0, false, &torn, &cases);
    assert_int_equal(cases, 2 * 170);
    assert_int_equal(torn, 2 * 170 - 1); /* all but a cut before its first byte */
    /* Entering a unit: unit 1 is blank, nothing to erase. */
    torn = cases = 0;
    tear_everywhere(1, false, &torn, &cases);
    assert_int_equal(cases, 2 * 170);
    /* Entering a used unit after a wrap: its erase (1024 bytes), then the
     * program. The EPOCH entry and 6 pays fill slots 0..6, the ACK entry
     * slot 7; the earn wraps to unit 0, whose entries are acknowledged. */
    torn = cases = 0;
    tear_everywhere(6, true, &torn, &cases);
    assert_int_equal(cases, 2 * (1024 + 170));
    print_message("tear: %u cuts over an erase and a program, %u reported torn\n", cases, torn);
}

static void test_full_never_truncated(void **state)
{
    static uint8_t macs[64][16];
    struct journal_entry e = golden_pay();
    uint32_t n = 1, erases;
    (void)state;
    struct journal_status_info st;
    fresh();
    assert_int_equal(journal_status(&j, &st), LEAL_OK);
    assert_int_equal(st.slots, 8);
    assert_int_equal(st.slots_used, 1);
    assert_int_equal(st.appends_left, 6);
    assert_int_equal(st.last_ack_utc, 0);
    /* 8 slots: the EPOCH entry, 6 of the caller's, one kept for an ACK. */
    while (journal_append(&j, &e) == LEAL_OK)
        n++;
    assert_int_equal(journal_status(&j, &st), LEAL_OK);
    assert_int_equal(st.appends_left, 0);
    assert_int_equal(st.slots_used, 7);
    assert_int_equal(st.unacked, 7);
    assert_int_equal(n, 7);
    assert_int_equal(journal_append(&j, &e), LEAL_E_JOURNAL_FULL);
    assert_int_equal(entry_macs(macs, 64, false), 7);
    assert_int_equal(reopen(60), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_CLEAN);
    assert_int_equal(rep.unacked, 7);
    assert_int_equal(journal_append(&j, &e), LEAL_E_JOURNAL_FULL);
    erases = rs.erases;
    ack_all(90); /* the ACK entry takes the last slot */
    assert_int_equal(rs.erases, erases);
    assert_int_equal(journal_status(&j, &st), LEAL_OK);
    assert_int_equal(st.unacked, 1);
    assert_int_equal(st.acked.seq, 7);
    assert_int_equal(st.head.seq, 8);
    assert_int_equal(st.last_ack_utc, T0 + 90);
    assert_int_equal(st.slots_used, 1);
    assert_int_equal(st.appends_left, 5); /* units 0..2 and slot 6; unit 3 holds the ACK */
    append_ok(golden_pay());              /* now unit 0 may go */
    assert_int_equal(rs.erases, erases + 1);
    assert_int_equal(entry_macs(macs, 64, false), 7);
    assert_int_equal(entry_macs(macs, 64, true), 2);
    assert_int_equal(reopen(120), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_CLEAN);
    assert_int_equal(rep.acked.seq, 7);
    assert_int_equal(rep.unacked, 2);
    assert_int_equal(journal_status(&j, &st), LEAL_OK);
    assert_int_equal(st.last_ack_utc, T0 + 90); /* from the ACK entry */
    assert_int_equal(st.appends_left, 4);
    journal_close(&j);
    assert_int_equal(journal_status(&j, &st), LEAL_E_STATE);
}

static void test_export_ack(void **state)
{
    static uint8_t exp[2048];
    struct journal_export_info info, parsed;
    struct journal_ack a;
    uint8_t b[JOURNAL_ACK_LEN], old[JOURNAL_ACK_LEN];
    struct port_time t = at(300);
    uint32_t bad;
    size_t len;
    (void)state;
    len = golden_export(exp, sizeof exp, &info);
    assert_int_equal(journal_export_verify(cp, cfg.key, exp, len, &parsed, &bad), LEAL_OK);
    assert_int_equal(parsed.count, 4);
    assert_memory_equal(parsed.last_mac, info.last_mac, 16);
    assert_memory_equal(parsed.export_mac, info.export_mac, 16);
    /* Too small a buffer: as many whole entries as fit; none: NO_SPACE. */
    assert_int_equal(journal_export(&j, exp, 32 + 128 + 16, &info), LEAL_OK);
    assert_int_equal(info.count, 1);
    assert_int_equal(journal_export(&j, exp, 32 + 127 + 16, &info), LEAL_E_NO_SPACE);
    assert_int_equal(journal_export(&j, exp, 32 + 128 + 170 + 16, &info), LEAL_OK);
    assert_int_equal(info.last_seq, 2);
    /* The host acknowledges the first two. */
    memset(&a, 0, sizeof a);
    a.key_version = 2;
    a.program_id = PROGRAM;
    a.terminal_id = TERMINAL;
    a.epoch = info.epoch;
    a.seq = 2;
    memcpy(a.entry_mac, info.last_mac, 16);
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_OK);
    memcpy(old, b, sizeof b);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_E_JOURNAL_ACK_STALE); /* replayed */
    assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
    assert_int_equal(info.first_seq, 3);
    assert_int_equal(info.last_seq, 5); /* 3, 4 and the ACK entry */
    /* Refusals, each with nothing changed. */
    a.seq = 4;
    memset(a.entry_mac, 0xAB, 16);
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_E_JOURNAL_ACK_UNKNOWN);
    a.seq = 9; /* beyond the newest */
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_E_JOURNAL_ACK_UNKNOWN);
    a.seq = 1; /* older than the one applied */
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_E_JOURNAL_ACK_STALE);
    a.seq = info.last_seq;
    memcpy(a.entry_mac, info.last_mac, 16);
    a.terminal_id = 4;
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_E_JOURNAL_TERMINAL);
    a.terminal_id = TERMINAL;
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    b[20] ^= 0x80; /* forged: the MAC no longer fits */
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_E_JOURNAL_MAC);
    b[20] ^= 0x80;
    assert_int_equal(journal_ack(&j, b, sizeof b - 1, &t), LEAL_E_JOURNAL_MALFORMED);
    assert_int_equal(j.unacked, 3);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_OK);
    assert_int_equal(journal_ack(&j, old, sizeof old, &t), LEAL_E_JOURNAL_ACK_STALE);
    assert_int_equal(reopen(400), LEAL_OK);
    assert_int_equal(rep.acked.seq, 5);
    assert_int_equal(rep.unacked, 1);
    assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
    assert_int_equal(info.first_seq, 6);
    assert_int_equal(info.count, 1);
    {
        /* A commit that had no answer, settled from the card at its next tap. */
        struct journal_entry settle = golden_pay();
        settle.op = JOURNAL_OP_SETTLE;
        settle.ref_epoch = T0;
        settle.ref_seq = 3;
        settle.item = JOURNAL_SETTLED_DONE;
        append_ok(settle);
        assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
        assert_int_equal(info.count, 2);
        assert_int_equal(journal_export_entry(exp, info.len, 1, &settle), LEAL_OK);
        assert_int_equal(settle.op, JOURNAL_OP_SETTLE);
        assert_int_equal(settle.seq, 7);
        assert_int_equal(settle.ref_seq, 3);
        assert_int_equal(settle.item, JOURNAL_SETTLED_DONE);
        assert_int_equal(settle.purse_cents, 300);
    }
    journal_close(&j);
}

/* Every single-bit flip of the golden export is refused. */
static void test_export_bit_flips(void **state)
{
    static uint8_t exp[2048];
    struct journal_export_info info;
    uint32_t bad, flips = 0;
    size_t len;
    (void)state;
    len = golden_export(exp, sizeof exp, &info);
    journal_close(&j);
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            exp[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(journal_export_verify(cp, cfg.key, exp, len, &info, &bad),
                                 LEAL_OK);
            exp[i] ^= (uint8_t)(1u << bit);
            flips++;
        }
    assert_int_equal(flips, 8 * 602);
    assert_int_equal(journal_export_verify(cp, cfg.key, exp, len, &info, &bad), LEAL_OK);
}

/* Rebuilds an export from chosen entry bytes, with a good export MAC, as a
 * key holder could: what only the per-entry checks can catch. */
static size_t reexport(const uint8_t *src, size_t len, const uint32_t *keep, uint32_t n,
                       uint8_t *out)
{
    struct journal_export_info info;
    size_t pos = 32, offs[8] = {0}, lens[8] = {0}, at_ = 32;
    assert_int_equal(journal_export_parse(src, len, &info), LEAL_OK);
    for (uint32_t i = 0; i < info.count; i++) {
        size_t l;
        assert_int_equal(journal_entry_peek_len(src + at_, len - at_, &l), LEAL_OK);
        offs[i] = at_;
        lens[i] = l;
        at_ += l;
    }
    memcpy(out, src, 32);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(out + pos, src + offs[keep[i]], lens[keep[i]]);
        pos += lens[keep[i]];
    }
    out[27] = (uint8_t)(src[27] - (info.count - n)); /* last seq, as the host would read it */
    out[31] = (uint8_t)n;
    assert_int_equal(cp->aes128_cmac(cfg.key, out, pos, out + pos), LEAL_OK);
    return pos + 16;
}

static void test_chain_and_mac_named(void **state)
{
    static uint8_t exp[2048], forged[2048];
    struct journal_export_info info;
    uint32_t bad;
    size_t len, flen;
    const uint32_t gap[] = {0, 1, 3};
    const uint32_t swap[] = {0, 2, 1, 3};
    (void)state;
    len = golden_export(exp, sizeof exp, &info);
    /* Entry 3 (the pay) left out: the refusal (4) does not chain on 2. */
    flen = reexport(exp, len, gap, 3, forged);
    assert_int_equal(journal_export_verify(cp, cfg.key, forged, flen, &info, &bad),
                     LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(bad, 4);
    flen = reexport(exp, len, swap, 4, forged);
    forged[27] = 4;
    assert_int_equal(cp->aes128_cmac(cfg.key, forged, flen - 16, forged + flen - 16), LEAL_OK);
    assert_int_equal(journal_export_verify(cp, cfg.key, forged, flen, &info, &bad),
                     LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(bad, 3);
    /* The pay's own MAC broken, the export MAC made good again. */
    memcpy(forged, exp, len);
    forged[32 + 128 + 170 + 127] ^= 1;
    assert_int_equal(cp->aes128_cmac(cfg.key, forged, len - 16, forged + len - 16), LEAL_OK);
    assert_int_equal(journal_export_verify(cp, cfg.key, forged, len, &info, &bad),
                     LEAL_E_JOURNAL_MAC);
    assert_int_equal(bad, 3);
    /* In storage: the pay (slot 2, unit 1) damaged; reopening names it
     * and begins a new epoch after the newest entry. */
    mem[2 * 512 + 60] ^= 0x10;
    assert_int_equal(reopen(600), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_DAMAGED);
    assert_int_equal(rep.n_problems, 1);
    assert_int_equal(rep.problems[0].code, LEAL_E_JOURNAL_MAC);
    assert_int_equal(rep.problems[0].seq, 3);
    assert_int_equal(rep.problems[0].slot, 2);
    assert_int_equal(rep.head.epoch, T0 + 600);
    assert_int_equal(rep.head.seq, 1);
    /* Found again (evidence until acknowledged), but the new epoch already
     * answers it: no further epoch, nothing written. */
    assert_int_equal(reopen(700), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_DAMAGED);
    assert_int_equal(rep.n_problems, 1);
    assert_int_equal(rep.problems[0].seq, 3);
    assert_int_equal(rep.head.epoch, T0 + 600);
    assert_int_equal(rep.head.seq, 1);
    assert_int_equal(rep.entries, 4); /* EPOCH, earn, refusal, the new EPOCH */
    append_ok(golden_pay());
    assert_int_equal(j.head.epoch, T0 + 600);
    assert_int_equal(j.head.seq, 2);
    journal_close(&j);
    /* Two entries swapped in storage: a chain break named by sequence. */
    golden_export(exp, sizeof exp, &info);
    {
        uint8_t tmp[512];
        memcpy(tmp, mem + 1 * 512, 512);
        memcpy(mem + 1 * 512, mem + 2 * 512, 512);
        memcpy(mem + 2 * 512, tmp, 512);
    }
    assert_int_equal(reopen(600), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_DAMAGED);
    assert_int_equal(rep.problems[0].code, LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(rep.problems[0].seq, 3);
    /* Exported in storage order while sequences go up (1, 3), the rest
     * after the ack of that: an export always parses. */
    assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
    assert_int_equal(info.first_seq, 1);
    assert_int_equal(info.last_seq, 3);
    assert_int_equal(info.count, 2);
    assert_int_equal(journal_export_verify(cp, cfg.key, exp, info.len, &info, &bad),
                     LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(bad, 3);
    journal_close(&j);
}

/* An export holds one epoch: after damage began a new one, the old epoch
 * goes first (its break named by sequence), the new one after its ack. */
static void test_export_by_epoch(void **state)
{
    static uint8_t exp[4096];
    struct journal_export_info info;
    struct journal_ack a;
    uint8_t b[JOURNAL_ACK_LEN];
    struct port_time t = at(700);
    uint32_t bad;
    (void)state;
    fresh();
    append_ok(golden_earn());
    append_ok(golden_pay());
    append_ok(golden_refusal());
    mem[2 * 512 + 30] ^= 0x01; /* the pay (seq 3) */
    assert_int_equal(reopen(600), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_DAMAGED);
    assert_int_equal(rep.head.epoch, T0 + 600);
    assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
    assert_int_equal(info.epoch, T0);
    assert_int_equal(info.count, 3); /* 1, 2 and 4: the damaged 3 is not an entry */
    assert_int_equal(info.first_seq, 1);
    assert_int_equal(info.last_seq, 4);
    assert_int_equal(journal_export_verify(cp, cfg.key, exp, info.len, &info, &bad),
                     LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(bad, 4);
    /* The host takes what verifies alone and acknowledges up to 4. */
    assert_int_equal(journal_export_parse(exp, sizeof exp, &info), LEAL_E_JOURNAL_MALFORMED);
    assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
    memset(&a, 0, sizeof a);
    a.key_version = 2;
    a.program_id = PROGRAM;
    a.terminal_id = TERMINAL;
    a.epoch = T0;
    a.seq = 4;
    memcpy(a.entry_mac, info.last_mac, 16);
    assert_int_equal(journal_ack_encode(cp, cfg.key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&j, b, sizeof b, &t), LEAL_OK);
    assert_int_equal(journal_export(&j, exp, sizeof exp, &info), LEAL_OK);
    assert_int_equal(info.epoch, T0 + 600);
    assert_int_equal(info.first_seq, 1);
    assert_int_equal(info.last_seq, 2); /* its EPOCH entry and the ACK entry */
    assert_int_equal(journal_export_verify(cp, cfg.key, exp, info.len, &info, &bad), LEAL_OK);
    {
        struct journal_entry e = {0};
        assert_int_equal(journal_export_entry(exp, info.len, 0, &e), LEAL_OK);
        assert_int_equal(e.op, JOURNAL_OP_EPOCH);
        assert_int_equal(e.reason, LEAL_E_JOURNAL_MAC);
        assert_int_equal(e.ref_epoch, T0);
        assert_int_equal(e.ref_seq, 4);
        assert_int_equal(journal_export_entry(exp, info.len, 1, &e), LEAL_OK);
        assert_int_equal(e.op, JOURNAL_OP_ACK);
        assert_int_equal(e.ref_seq, 4);
        assert_int_equal(journal_export_entry(exp, info.len, 2, &e), LEAL_E_NOT_FOUND);
    }
    /* Acknowledged damage is no longer reported. */
    assert_int_equal(reopen(800), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_CLEAN);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.unacked, 2);
    journal_close(&j);
}

static void test_file_storage(void **state)
{
    char *dir = test_tmpdir_fast(), path[512];
    struct file_storage fs, other;
    struct journal_report r;
    struct port_time t = at(0);
    uint8_t b[4];
    (void)state;
    setup_config();
    snprintf(path, sizeof path, "%s/journal", dir);
    assert_int_equal(file_storage_open(&fs, path, 4096, 4), LEAL_OK);
    assert_int_equal(fs.port.read(fs.port.ctx, 4 * 4096 - 4, b, 4), LEAL_OK);
    assert_int_equal(b[0] & b[1] & b[2] & b[3], 0xFF);
    assert_int_equal(fs.port.read(fs.port.ctx, 4 * 4096 - 3, b, 4), LEAL_E_ARG);
    assert_int_equal(fs.port.program(fs.port.ctx, 4096 - 2, b, 4), LEAL_E_ARG); /* across units */
    assert_int_equal(journal_open(&j, &fs.port, cp, &cfg, &t, &r), LEAL_OK);
    assert_int_equal(r.status, JOURNAL_FRESH);
    append_ok(golden_earn());
    journal_close(&j);
    file_storage_close(&fs);
    assert_int_equal(file_storage_open(&fs, path, 4096, 4), LEAL_OK);
    assert_int_equal(journal_open(&j, &fs.port, cp, &cfg, &t, &r), LEAL_OK);
    assert_int_equal(r.status, JOURNAL_CLEAN);
    assert_int_equal(r.head.seq, 2);
    journal_close(&j);
    assert_int_equal(file_storage_open(&other, path, 4096, 8), LEAL_E_FORMAT);
    file_storage_close(&fs);
    test_rmtree(dir);
    free(dir);
}

/* An entry of the state-lines golden (tests/vectors/leal_journal_state.txt):
 * the fields both entries share, at sequence seq. */
static struct journal_entry state_base(uint8_t op, uint8_t kind, uint32_t seq)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = op;
    e.card_kind = kind;
    e.terminal_id = TERMINAL;
    e.epoch = T0;
    e.seq = seq;
    e.utc_seconds = T0 + 60u * (seq - 1u);
    e.utc_offset_minutes = 60;
    e.package_version = 5;
    e.quantity = 1;
    return e;
}

/* Seals e and compares it with the vector's name; the bytes decode back to e
 * and its state lines to before. */
static void state_golden_entry(const struct vector_record *v, const char *name,
                               struct journal_entry *e, const struct state_body *before)
{
    uint8_t got[JOURNAL_ENTRY_MAX], want[JOURNAL_ENTRY_MAX];
    struct journal_entry back;
    struct state_body was;
    size_t len;
    bool told;
    assert_int_equal(journal_entry_seal(cp, cfg.key, e, got, sizeof got, &len), LEAL_OK);
    if (getenv("LEAL_PRINT_JOURNAL"))
        print_hex(name, got, len);
    assert_int_equal(vectors_hex(v, name, want, sizeof want), len);
    assert_memory_equal(got, want, len);
    assert_int_equal(journal_entry_decode(got, len, &back), LEAL_OK);
    assert_memory_equal(&back, e, sizeof *e);
    journal_state_of(&back, &was, &told);
    assert_true(told);
    assert_memory_equal(&was, before, sizeof was);
}

/* A Transaction MAC entry (JOURNAL.md "Transaction MAC entries"), golden: the
 * entry, its export, the card's TMI of the commands it describes and the
 * TMV under a tmac key, all written by a Python reading of JOURNAL.md and
 * LAYOUT.md 2.8 and rebuilt here byte for byte; then TMAC lines anywhere
 * else, a wrong line count and a non-zero tail refused. */
static void test_tmac_golden(void **state)
{
    static const uint8_t uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    struct vector_record *v;
    static uint8_t exp[1024];
    struct journal_export_info info;
    struct journal_entry e, back, bad;
    struct journal_tmac m, got_m;
    struct desfire_tmi tmi;
    uint8_t got[JOURNAL_ENTRY_MAX], want[JOURNAL_ENTRY_MAX], key[16], tmv[8];
    uint32_t bad_seq = 0;
    size_t len;
    (void)state;
    setup_config();
    assert_int_equal(vectors_load("leal_journal_tmac.txt", &v), 1);
    memset(&m, 0, sizeof m);
    m.tmc = 14;
    assert_int_equal(vectors_hex(&v[0], "TMV", m.tmv, sizeof m.tmv), 8);
    m.flags = JOURNAL_TMAC_PURSE_READ | JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_DEBIT;
    m.counter = 0x7FFFFFFF - 12;
    m.purse = 1000;
    m.purse_moved = 300;
    for (int i = 0; i < 32; i++) {
        m.state_before[i] = (uint8_t)i;
        m.state_after[i] = (uint8_t)(32 + i);
    }
    e = state_base(JOURNAL_OP_TMAC, JOURNAL_CARD_DESFIRE, 3);
    e.quantity = 0;
    e.card_id = 0x0102030405060708ull;
    e.counter_before = 12;
    e.counter_after = 13;
    e.ref_epoch = T0;
    e.ref_seq = 2;
    memset(e.prev_mac, 0xA5, sizeof e.prev_mac);
    journal_tmac_put(&m, &e);
    assert_int_equal(e.n_lines, 8);
    assert_int_equal(journal_entry_seal(cp, cfg.key, &e, got, sizeof got, &len), LEAL_OK);
    assert_int_equal(len, 240);
    assert_int_equal(vectors_hex(&v[0], "ENTRY", want, sizeof want), len);
    assert_memory_equal(got, want, len);
    assert_int_equal(journal_entry_decode(got, len, &back), LEAL_OK);
    assert_int_equal(journal_tmac_get(&back, &got_m), LEAL_OK);
    assert_memory_equal(&got_m, &m, sizeof m);

    /* The TMI the entry describes, and the card's TMV of it. */
    assert_int_equal(journal_tmac_tmi(&m, &tmi), LEAL_OK);
    assert_int_equal(vectors_hex(&v[0], "TMI", want, sizeof want), tmi.len);
    assert_memory_equal(tmi.buf, want, tmi.len);
    assert_int_equal(vectors_hex(&v[0], "TMAC_KEY", key, sizeof key), 16);
    assert_int_equal(desfire_tmv(cp, key, 14, uid, &tmi, tmv), LEAL_OK);
    assert_memory_equal(tmv, m.tmv, 8);

    len = vectors_hex(&v[0], "EXPORT", exp, sizeof exp);
    assert_int_equal(len, 32 + 240 + 16);
    assert_int_equal(journal_export_verify(cp, cfg.key, exp, len, &info, &bad_seq), LEAL_OK);
    assert_int_equal(info.count, 1);
    free(v);

    /* A TMAC line in an earn; an earn's line in a TMAC entry; a line short;
     * the tail of the last line not zero; an unknown flag; no card. */
    bad = e;
    bad.op = JOURNAL_OP_EARN;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, got, sizeof got, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e;
    bad.lines[7].source = RULES_LINE_BASE;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, got, sizeof got, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e;
    bad.n_lines = 7;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, got, sizeof got, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e;
    bad.lines[7].points |= 1; /* 64 bytes: the last line's last 8 are the tail */
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, got, sizeof got, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e;
    bad.item |= 0x40;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, got, sizeof got, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e;
    bad.card_id = 0;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, got, sizeof got, &len),
                     LEAL_E_JOURNAL_MALFORMED);
}

/* The state lines (JOURNAL.md "State lines"), golden: a DESFire pay + earn
 * with engine, state and host lines, a Classic earn, their export and its
 * ack, all written by a Python reading of JOURNAL.md and rebuilt here byte for
 * byte; then every misplaced state line refused by the seal and the decoder. */
static void test_state_lines_golden(void **state)
{
    struct vector_record *v;
    static uint8_t exp[2048];
    struct journal_export_info info;
    struct journal_ack ack;
    uint8_t ackb[JOURNAL_ACK_LEN], want[JOURNAL_ACK_LEN], out[JOURNAL_ENTRY_MAX];
    static const struct state_body b1 = {12, 65, 1, {2, 1, 0, 0}, 317, {40, 12, 0, 3}};
    static const struct state_body b2 = {4, 25, 0, {0, 0, 0, 0}, 0, {0, 0, 0, 0}};
    struct journal_entry e1 = state_base(JOURNAL_OP_PAY_EARN, JOURNAL_CARD_DESFIRE, 2), e2, bad;
    uint32_t bad_seq = 0;
    size_t len;
    (void)state;
    setup_config();
    assert_int_equal(vectors_load("leal_journal_state.txt", &v), 1);
    e1.card_id = 0x0102030405060708ull;
    e1.counter_before = 12;
    e1.counter_after = 13;
    e1.amount_cents = 2350;
    e1.purse_cents = 300;
    e1.points = 24;
    e1.points_after = 89;
    e1.purse_after = 700;
    e1.tier_after = 1;
    e1.stamps_after[1] = 2;
    memset(e1.prev_mac, 0xA5, sizeof e1.prev_mac);
    e1.n_lines = 5;
    e1.lines[0] = (struct journal_line){RULES_LINE_BASE, 0, 0, 23};
    e1.lines[1] = (struct journal_line){RULES_LINE_RULE, 0, 77, 1};
    journal_state_lines(&b1, &e1.lines[2]);
    e1.lines[4] = (struct journal_line){JOURNAL_LINE_HOST, 0, 1234, 40};
    state_golden_entry(&v[0], "ENTRY1", &e1, &b1);
    assert_int_equal(journal_entry_len(e1.n_lines), 198);

    e2 = state_base(JOURNAL_OP_EARN, JOURNAL_CARD_CLASSIC, 3);
    e2.card_id = 17;
    e2.counter_before = 4;
    e2.counter_after = 5;
    e2.amount_cents = 1000;
    e2.points = 10;
    e2.points_after = 35;
    e2.purse_after = 2000;
    e2.stamps_after[0] = 1;
    memcpy(e2.prev_mac, e1.mac, sizeof e2.prev_mac);
    e2.n_lines = 3;
    e2.lines[0] = (struct journal_line){RULES_LINE_BASE, 0, 0, 10};
    journal_state_lines(&b2, &e2.lines[1]);
    state_golden_entry(&v[0], "ENTRY2", &e2, &b2);

    len = vectors_hex(&v[0], "EXPORT", exp, sizeof exp);
    assert_int_equal(len, 32 + 198 + 170 + 16);
    assert_int_equal(journal_export_verify(cp, cfg.key, exp, len, &info, &bad_seq), LEAL_OK);
    assert_int_equal(info.count, 2);
    assert_int_equal(info.first_seq, 2);
    assert_int_equal(info.last_seq, 3);
    assert_memory_equal(info.last_mac, e2.mac, 16);
    memset(&ack, 0, sizeof ack);
    ack.key_version = 2;
    ack.program_id = PROGRAM;
    ack.terminal_id = TERMINAL;
    ack.epoch = T0;
    ack.seq = 3;
    memcpy(ack.entry_mac, e2.mac, 16);
    assert_int_equal(journal_ack_encode(cp, cfg.key, &ack, ackb), LEAL_OK);
    assert_int_equal(vectors_hex(&v[0], "ACK", want, sizeof want), JOURNAL_ACK_LEN);
    assert_memory_equal(ackb, want, JOURNAL_ACK_LEN);
    free(v);

    /* Misplaced: in a redeem, after the host line, one of the two, the two
     * swapped, the reserved byte set, a QR entry's. (A pay may carry them:
     * a layout-3 pay that read no counter, JOURNAL.md "State lines".) */
    bad = e1;
    bad.op = JOURNAL_OP_REDEEM;
    bad.n_lines = 3;
    journal_state_lines(&b1, &bad.lines[0]);
    bad.lines[2] = e1.lines[4];
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, out, sizeof out, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e1;
    bad.lines[2] = e1.lines[4];
    bad.lines[3] = e1.lines[2];
    bad.lines[4] = e1.lines[3];
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, out, sizeof out, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e2;
    bad.n_lines = 2;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, out, sizeof out, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e2;
    bad.lines[1] = e2.lines[2];
    bad.lines[2] = e2.lines[1];
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, out, sizeof out, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e2;
    bad.lines[1].points |= 1;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, out, sizeof out, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    bad = e2;
    bad.card_kind = JOURNAL_CARD_QR;
    bad.counter_before = bad.counter_after = 0;
    bad.lines[3] = (struct journal_line){JOURNAL_LINE_QR, JOURNAL_QR_STATIC, 0, 0};
    bad.n_lines = 4;
    assert_int_equal(journal_entry_seal(cp, cfg.key, &bad, out, sizeof out, &len),
                     LEAL_E_JOURNAL_MALFORMED);
    /* The decoder refuses the same bytes: e2 with its lines swapped, re-MACed. */
    assert_int_equal(journal_entry_seal(cp, cfg.key, &e2, out, sizeof out, &len), LEAL_OK);
    {
        uint8_t tmp[JOURNAL_LINE_LEN];
        struct journal_entry back;
        memcpy(tmp, out + 112 + 14, JOURNAL_LINE_LEN);
        memcpy(out + 112 + 14, out + 112 + 28, JOURNAL_LINE_LEN);
        memcpy(out + 112 + 28, tmp, JOURNAL_LINE_LEN);
        assert_int_equal(cp->aes128_cmac(cfg.key, out, len - 16, out + len - 16), LEAL_OK);
        assert_int_equal(journal_entry_decode(out, len, &back), LEAL_E_JOURNAL_MALFORMED);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_entry_refusals),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_fresh_and_clean),
        cmocka_unit_test(test_tear_every_byte),
        cmocka_unit_test(test_full_never_truncated),
        cmocka_unit_test(test_export_ack),
        cmocka_unit_test(test_export_bit_flips),
        cmocka_unit_test(test_chain_and_mac_named),
        cmocka_unit_test(test_export_by_epoch),
        cmocka_unit_test(test_file_storage),
        cmocka_unit_test(test_state_lines_golden),
        cmocka_unit_test(test_tmac_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
