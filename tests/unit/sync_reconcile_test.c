/*
 * sync_reconcile_test.c - reconciliation (host/ledger/ledger_reconcile.h)
 * of fraud made with the real terminal code (tests/lib/till.h, firmware/
 * core/terminal.c) on virtual cards, journals taken by leal sync import's
 * code (host/sync): a DESFire card's earlier dump restored and spent again
 * at another terminal, a Classic card's too (a clone; and a rollback when
 * the desk wrote the card after the dump), a Classic card's copy used beside
 * the card at two terminals; each found with the entries named, the card blocked
 * with a card event naming them, on the hot list of the next package
 * (package_build), and refused by a terminal loading that hot list; the
 * finding accepted with its reason. A card tapped at a terminal not yet
 * synced is a gap naming it, resolved once that terminal's journal is in.
 * A DESFire card's taps in one second at two terminals, or at a terminal
 * whose clock is behind, walked in its counter order: nothing found. The
 * desk's read of an EV3 after its journaled taps shows the card's TMC, and
 * a copy of the card from before them is blocked on its TMC alone. An
 * EV2/EV3 write torn at a terminal restarted before the card came back (no
 * settle, no TMAC entry after it) is reversed when another terminal's
 * proved commit took its step; an answered write whose TMAC entry was lost
 * is not, nor is a clone's, whose TMV does not hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/cardsim/cardsim.h"
#include "host/desk/desk_view.h"
#include "host/issuance/issuance.h"
#include "host/ledger/ledger_host_change.h"
#include "host/ledger/ledger_reconcile.h"
#include "host/ledger/ledger_terminal.h"
#include "host/package/package_build.h"
#include "host/sync/sync.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/base/hex.h"
#include "keys/derive.h"
#include "host/reader/reader.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/journal_gen.h"
#include "tests/lib/ledger_cards.h"
#include "tests/lib/testutil.h"
#include "tests/lib/till.h"

#define EXPORT_CAP (TILL_JOURNAL_UNIT * TILL_JOURNAL_UNITS + 1024)

/* Euros onto Ana's account from cash (cents < 0: paid back to cash). */
static void post_eur(struct fixture *f, const char *kind, int64_t cents, const char *request)
{
    struct ledger_line ln[2];
    struct ledger_entry e;
    int64_t id, cash;
    bool rep;
    assert_int_equal(ledger_program_account(f->ledger, 7, "cash", &cash), LEAL_OK);
    memset(ln, 0, sizeof ln);
    memset(&e, 0, sizeof e);
    ln[0] = (struct ledger_line){.account_id = f->account, .amount = cents};
    ln[1] = (struct ledger_line){.account_id = cash, .amount = -cents};
    snprintf(ln[0].asset, sizeof ln[0].asset, "EUR");
    snprintf(ln[1].asset, sizeof ln[1].asset, "EUR");
    e.program_id = 7;
    e.kind = kind;
    e.request_id = request;
    e.operator_name = "test";
    e.reason = request;
    e.nlines = 2;
    e.lines = ln;
    assert_int_equal(ledger_post(f->ledger, &e, &id, &rep), LEAL_OK);
}

/* The ledger's side: a store, terminals 1 to 3, the card in Ana's account
 * with the 25 points and purse_cents the card was made with. The points are
 * issuance's entry (request id "card:ID:welcome", as the desk posts the
 * points it writes on a new card): on the card, so nothing waits for it
 * (ledger_host_change.h). */
static void ledger_side(struct fixture *f, enum ledger_card_tech tech, const uint8_t *uid,
                        size_t uid_len, int64_t purse_cents)
{
    struct ledger_card c;
    int64_t store, id;
    char welcome[64];
    assert_int_equal(ledger_store_add(f->ledger, 7, "s1", "S1", "Europe/Madrid", &store), LEAL_OK);
    for (int64_t t = 1; t <= 3; t++) {
        assert_int_equal(ledger_terminal_add(f->ledger, store, "till", &id), LEAL_OK);
        assert_int_equal(id, t);
    }
    ledger_fixture_card_init(&c, (int64_t)TILL_CARD_ID, f->account, tech);
    memcpy(c.uid, uid, uid_len);
    c.uid_len = uid_len;
    assert_int_equal(ledger_card_add(f->ledger, &c), LEAL_OK);
    snprintf(welcome, sizeof welcome, "card:%llu:welcome", (unsigned long long)TILL_CARD_ID);
    desk_fixture_post_points(f, f->account, 25, welcome);
    post_eur(f, "topup", purse_cents, "made-with-purse");
}

/* A till whose journal is MACed with the key the host derives for it (the
 * keystore's journal master), as a terminal's bundle gives it. */
static void till_keyed_pkg(struct till *t, struct fixture *f, uint32_t id, uint32_t key_of,
                           uint64_t now, const struct till_package *pp)
{
    const struct key_version *kv;
    struct journal_config jc;
    struct journal_report rep;
    till_open(t, f, id, pp);
    journal_close(&t->j);
    memset(t->jmem, 0, sizeof t->jmem);
    assert_int_equal(ram_storage_init(&t->js, t->jmem, TILL_JOURNAL_UNIT, TILL_JOURNAL_UNITS),
                     LEAL_OK);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_JOURNAL_MAC, &kv), LEAL_OK);
    memset(&jc, 0, sizeof jc);
    jc.program_id = 7;
    jc.terminal_id = id;
    jc.key_version = kv->version;
    assert_int_equal(
        derive_journal_key(crypto_openssl(), kv->key, f->keys->issuer_id, 7, key_of, jc.key),
        LEAL_OK);
    t->now.utc_seconds = now;
    assert_int_equal(journal_open(&t->j, &t->js.port, &t->cp, &jc, &t->now, &rep), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_FRESH);
}

static void till_keyed(struct till *t, struct fixture *f, uint32_t id, uint32_t key_of,
                       uint64_t now)
{
    till_keyed_pkg(t, f, id, key_of, now, NULL);
}

static void till_synced(struct till *t, struct fixture *f, uint32_t id, uint64_t now)
{
    till_keyed(t, f, id, id, now);
}

/* The card out of the till's field (its file then copied or restored). */
static void away(struct till *t)
{
    reader_close(t->r);
    t->r = NULL;
}

static void tap_done(struct till *t, uint8_t op, int64_t amount, int64_t pay)
{
    struct terminal_request q = till_request(op, amount, pay, 0);
    struct terminal_result r;
    assert_int_equal(till_tap(t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    t->now.utc_seconds += 60;
}

/* The TMAC entries the last import() checked, and of them bad. */
static uint32_t tmac_checked, tmac_bad;

/* The till's journal into the ledger; its entries (after the EPOCH) in e. */
static unsigned import(struct till *t, struct fixture *f, struct journal_entry *e, unsigned n)
{
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct journal_export_info info;
    struct sync_result r;
    uint8_t *buf = malloc(EXPORT_CAP);
    unsigned got = till_entries(t, e, n);
    assert_non_null(buf);
    assert_int_equal(journal_export(&t->j, buf, EXPORT_CAP, &info), LEAL_OK);
    assert_int_equal(sync_import(f->ledger, &k, buf, info.len, &r), LEAL_OK);
    assert_int_equal(r.taken, got + 1);
    tmac_checked = r.tmac_checked;
    tmac_bad = r.tmac_bad;
    free(buf);
    return got;
}

static void ev(const struct journal_entry *e, char *out, size_t cap)
{
    snprintf(out, cap, "t%u/e%u/s%u", e->terminal_id, e->epoch, e->seq);
}

struct found {
    unsigned n;
    struct ledger_reconcile_finding v[8];
};

static int keep(void *ctx, const struct ledger_reconcile_finding *x)
{
    struct found *fd = ctx;
    if (fd->n < 8)
        fd->v[fd->n] = *x;
    fd->n++;
    return 0;
}

struct last_event {
    struct ledger_card_event e;
    int n;
};

static int last_event(void *ctx, const struct ledger_card_event *e)
{
    struct last_event *le = ctx;
    le->e = *e;
    le->n++;
    return 0;
}

/* One fraud finding of kind about the card with evidence want, against
 * terminal; the card blocked for it, on the next package's hot list,
 * refused by a terminal loading that list; then the finding accepted. */
static void expect_fraud(struct fixture *f, const char *kind, const char *want, int64_t terminal)
{
    struct ledger_reconcile_counts k;
    struct found fd = {0};
    struct last_event le = {0};
    struct ledger_card c;
    char why[LEDGER_TEXT];
    struct package_build_opts po = {1, TILL_NOW, 7, 10000, 30000};
    struct package_info info;
    uint8_t *pkg = NULL, reason = 0;
    size_t len = 0;
    bool hot = false;
    struct package_hot h;
    struct till t;
    struct terminal_request q = till_request(TERMINAL_EARN, 100, 0, 0);
    struct terminal_result r;

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.cards, 1);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.fraud, 1);
    assert_int_equal(k.blocked, 1);
    assert_int_equal(k.open, 1);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].kind, kind);
    assert_true(fd.v[0].fraud);
    assert_string_equal(fd.v[0].evidence, want);
    assert_int_equal(fd.v[0].card_id, (int64_t)TILL_CARD_ID);
    assert_int_equal(fd.v[0].terminal_id, terminal);
    assert_string_equal(fd.v[0].state, "open");

    /* Blocked, the event naming the evidence. */
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &c), LEAL_OK);
    assert_int_equal(c.status, LEDGER_CARD_BLOCKED);
    assert_int_equal(ledger_card_history(f->ledger, (int64_t)TILL_CARD_ID, last_event, &le),
                     LEAL_OK);
    snprintf(why, sizeof why, "reconcile %s: %s", kind, want);
    assert_int_equal(le.e.status, LEDGER_CARD_BLOCKED);
    assert_string_equal(le.e.reason, why);
    assert_string_equal(le.e.operator_name, "reconcile");

    /* Again: nothing new, nothing blocked twice. */
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.blocked, 0);
    assert_int_equal(k.open, 1);

    /* The next package carries it; a terminal with that hot list refuses it. */
    assert_int_equal(package_build(f->ledger, f->keys, &po, &pkg, &len, &info), LEAL_OK);
    assert_int_equal(
        package_hot_find(&info, &(struct package_source){package_memory_read, pkg, (uint32_t)len},
                         TILL_CARD_ID, &hot, &reason),
        LEAL_OK);
    free(pkg);
    assert_true(hot);
    assert_int_equal(reason, PACKAGE_HOT_BLOCKED);
    h = (struct package_hot){TILL_CARD_ID, reason};
    till_open(&t, f, 3, &(struct till_package){.hot = &h, .hot_count = 1});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_HOT_LISTED);
    till_close(&t);

    /* Accepted with its reason: kept, no longer open. */
    assert_int_equal(ledger_reconcile_accept(f->ledger, fd.v[0].id, "merged after review", "ana"),
                     LEAL_OK);
    assert_int_equal(ledger_reconcile_accept(f->ledger, fd.v[0].id, "twice", "ana"), LEAL_E_STATE);
    assert_int_equal(ledger_reconcile_accept(f->ledger, fd.v[0].id + 100, "none", "ana"),
                     LEAL_E_UNKNOWN_ID);
    fd.n = 0;
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, (int64_t)TILL_CARD_ID, true, keep, &fd),
                     LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].state, "accepted");
    assert_string_equal(fd.v[0].reason, "merged after review");
    assert_string_equal(fd.v[0].operator_name, "ana");
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.open, 0);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
}

/* One clone finding naming entries a then b at counter c (expect_fraud). */
static void expect_clone(struct fixture *f, const struct journal_entry *a,
                         const struct journal_entry *b, uint32_t counter, int64_t terminal)
{
    char ea[32], eb[32], want[LEDGER_RECONCILE_EVIDENCE];
    ev(a, ea, sizeof ea);
    ev(b, eb, sizeof eb);
    snprintf(want, sizeof want, "%s and %s at counter %u", ea, eb, counter);
    expect_fraud(f, "clone", want, terminal);
}

/* One card paid with pay[0] at terminal 1 (its clock at TILL_NOW), pay[1]
 * at terminal 2 (its clock at t2_clock), then pay[2] at terminal 1 again
 * (60 s after its first tap). With copy, terminal 2 is shown a copy of the
 * card taken before the first tap (its journal imported first), terminal 1
 * the card itself again. Terminal 1's two entries in a, terminal 2's one in
 * b; both tills closed. */
static void pays_1_2_1(struct fixture *f, const int64_t pay[3], uint64_t t2_clock, bool copy,
                       struct journal_entry a[4], struct journal_entry b[4])
{
    struct till t1, t2;
    char copied[600], card[600];

    snprintf(copied, sizeof copied, "%s.copy", f->card);
    snprintf(card, sizeof card, "%s.card", f->card);
    if (copy)
        desk_fixture_copy(f->card, copied);
    till_synced(&t1, f, 1, TILL_NOW);
    tap_done(&t1, TERMINAL_PAY, 0, pay[0]);
    away(&t1);
    if (copy) {
        desk_fixture_copy(f->card, card);
        desk_fixture_copy(copied, f->card);
    }
    till_synced(&t2, f, 2, t2_clock);
    tap_done(&t2, TERMINAL_PAY, 0, pay[1]);
    away(&t2);
    if (copy)
        desk_fixture_copy(card, f->card);
    till_present(&t1);
    tap_done(&t1, TERMINAL_PAY, 0, pay[2]);
    if (copy)
        assert_int_equal(import(&t2, f, b, 4), 1);
    assert_int_equal(import(&t1, f, a, 4), 2);
    if (!copy)
        assert_int_equal(import(&t2, f, b, 4), 1);
    till_close(&t1);
    till_close(&t2);
}

/* A DESFire card dumped, paid with and earned on at terminal 1, its dump
 * restored and paid with again at terminal 2. */
static void test_desfire_restored_dump(void **state)
{
    struct fixture *f = *state;
    struct till t1, t2;
    struct journal_entry a[4], b[4];
    char dump[600];

    till_make_desfire(f, 5000, 0);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                5000);
    snprintf(dump, sizeof dump, "%s.dump", f->card);
    desk_fixture_copy(f->card, dump);
    till_synced(&t1, f, 1, TILL_NOW);
    tap_done(&t1, TERMINAL_PAY, 0, 500);
    tap_done(&t1, TERMINAL_EARN, 1000, 0);
    away(&t1);
    desk_fixture_copy(dump, f->card);
    till_synced(&t2, f, 2, TILL_NOW + 600);
    tap_done(&t2, TERMINAL_PAY, 0, 700);
    away(&t2);
    assert_int_equal(import(&t1, f, a, 4), 2);
    assert_int_equal(import(&t2, f, b, 4), 1);
    till_close(&t1);
    till_close(&t2);
    /* Both payments began at the same counter; the earn after the first
     * confirmed that one reached the card. */
    assert_int_equal(b[0].counter_before, a[0].counter_before);
    assert_int_equal(a[1].counter_before, a[0].counter_after);
    desk_fixture_balances(f, f->account, 5000 - 500 - 700, 25 + 10);
    expect_clone(f, &a[0], &b[0], a[0].counter_before, 2);
}

/* A Classic card copied: the card at terminal 1, its copy at terminal 2,
 * the card at terminal 1 again. */
static void test_classic_copy_at_two_terminals(void **state)
{
    struct fixture *f = *state;
    struct journal_entry a[4], b[4];

    till_make_classic(f, 3000);
    ledger_side(f, LEDGER_TECH_CLASSIC_1K, (const uint8_t *)"\x0a\x0b\x0c\x0d", 4, 3000);
    pays_1_2_1(f, (const int64_t[3]){300, 400, 200}, TILL_NOW + 30, true, a, b);
    assert_int_equal(b[0].counter_before, a[0].counter_before);
    assert_int_equal(a[1].counter_before, a[0].counter_after);
    desk_fixture_balances(f, f->account, 3000 - 300 - 400 - 200, 25);
    expect_clone(f, &a[0], &b[0], a[0].counter_before, 2);
}

/* A Classic card dumped, paid with twice and earned on at terminal 1, its
 * dump restored and paid with again at terminal 2 (issue 14: "restore an
 * earlier dump ... of a Classic card and spend again at another terminal"):
 * the seq the first payment began at seen twice, a clone naming both. */
static void test_classic_restored_dump(void **state)
{
    struct fixture *f = *state;
    struct till t1, t2;
    struct journal_entry a[4], b[4];
    char dump[600];

    till_make_classic(f, 3000);
    ledger_side(f, LEDGER_TECH_CLASSIC_1K, (const uint8_t *)"\x0a\x0b\x0c\x0d", 4, 3000);
    snprintf(dump, sizeof dump, "%s.dump", f->card);
    desk_fixture_copy(f->card, dump);
    till_synced(&t1, f, 1, TILL_NOW);
    tap_done(&t1, TERMINAL_PAY, 0, 500);
    tap_done(&t1, TERMINAL_PAY, 0, 600);
    tap_done(&t1, TERMINAL_EARN, 1000, 0);
    away(&t1);
    desk_fixture_copy(dump, f->card);
    till_synced(&t2, f, 2, TILL_NOW + 600);
    tap_done(&t2, TERMINAL_PAY, 0, 700);
    away(&t2);
    assert_int_equal(import(&t1, f, a, 4), 3);
    assert_int_equal(import(&t2, f, b, 4), 1);
    till_close(&t1);
    till_close(&t2);
    /* Seq 1 (the issue) on the dump: both payments began there. */
    assert_int_equal(a[0].counter_before, 1);
    assert_int_equal(b[0].counter_before, 1);
    assert_int_equal(a[2].counter_after, 4);
    assert_int_equal(b[0].purse_after, 2300);
    desk_fixture_balances(f, f->account, 3000 - 500 - 600 - 700, 25 + 10);
    expect_clone(f, &a[0], &b[0], 1, 2);
}

/* A Classic card dumped, then written at the desk (terminal 3's tap stands
 * in for the desk: its journal is never imported; the ledger gets the desk's
 * entry and the seq the desk saw), then paid with at terminal 1; the dump
 * restored and paid with at terminal 2. No write the host knows of began at
 * the dump's seq: the counter went back, a rollback naming terminal 1's
 * newest entry and terminal 2's; the card blocked, hot-listed, refused. */
static void test_classic_restored_dump_rollback(void **state)
{
    struct fixture *f = *state;
    struct till t1, t2, desk;
    struct journal_entry a[4], b[4], d[4];
    char dump[600], ea[32], eb[32], want[LEDGER_RECONCILE_EVIDENCE];

    till_make_classic(f, 3000);
    ledger_side(f, LEDGER_TECH_CLASSIC_1K, (const uint8_t *)"\x0a\x0b\x0c\x0d", 4, 3000);
    snprintf(dump, sizeof dump, "%s.dump", f->card);
    desk_fixture_copy(f->card, dump);
    till_synced(&desk, f, 3, TILL_NOW);
    tap_done(&desk, TERMINAL_PAY, 0, 200);
    assert_int_equal(till_entries(&desk, d, 4), 1);
    away(&desk);
    post_eur(f, "spend", -200, "desk payment");
    assert_int_equal(ledger_card_set_counter(f->ledger, (int64_t)TILL_CARD_ID, d[0].counter_after),
                     LEAL_OK);
    till_close(&desk);
    till_synced(&t1, f, 1, TILL_NOW + 60);
    tap_done(&t1, TERMINAL_PAY, 0, 500);
    tap_done(&t1, TERMINAL_PAY, 0, 100);
    away(&t1);
    desk_fixture_copy(dump, f->card);
    till_synced(&t2, f, 2, TILL_NOW + 600);
    tap_done(&t2, TERMINAL_PAY, 0, 700);
    away(&t2);
    assert_int_equal(import(&t1, f, a, 4), 2);
    assert_int_equal(import(&t2, f, b, 4), 1);
    till_close(&t1);
    till_close(&t2);
    /* The dump at seq 1, the desk took it to 2, terminal 1 to 4; terminal 2
     * found the dump's 1 again (and 30.00 on it). */
    assert_int_equal(d[0].counter_before, 1);
    assert_int_equal(a[0].counter_before, 2);
    assert_int_equal(a[1].counter_after, 4);
    assert_int_equal(b[0].counter_before, 1);
    assert_int_equal(b[0].purse_after, 2300);
    desk_fixture_balances(f, f->account, 3000 - 200 - 500 - 100 - 700, 25);
    ev(&a[1], ea, sizeof ea);
    ev(&b[0], eb, sizeof eb);
    snprintf(want, sizeof want, "%s to 4, %s back to 1", ea, eb);
    expect_fraud(f, "rollback", want, 2);
}

/* Terminal 2 tapped the card after terminal 1 and before terminal 3; only
 * 1 and 3 synced: a gap naming terminal 2, resolved once its journal is in,
 * and then the card agrees with its account. */
static void test_gap_waits_for_the_terminal(void **state)
{
    struct fixture *f = *state;
    struct till t1, t2, t3;
    struct journal_entry a[4], b[4], c[4];
    struct ledger_reconcile_counts k;
    struct found fd = {0};
    char want[LEDGER_RECONCILE_EVIDENCE], e3[32];

    till_make_desfire(f, 5000, 0);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                5000);
    till_synced(&t1, f, 1, TILL_NOW);
    tap_done(&t1, TERMINAL_PAY, 0, 100);
    till_synced(&t2, f, 2, TILL_NOW + 60);
    tap_done(&t2, TERMINAL_PAY, 0, 200);
    till_synced(&t3, f, 3, TILL_NOW + 120);
    tap_done(&t3, TERMINAL_BALANCE, 0, 0);
    assert_int_equal(import(&t1, f, a, 4), 1);
    assert_int_equal(import(&t3, f, c, 4), 1);
    assert_int_equal(ledger_reconcile(f->ledger, 0, (int64_t)TILL_CARD_ID, &k), LEAL_OK);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.fraud + k.blocked, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 0, 0, false, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    ev(&c[0], e3, sizeof e3);
    snprintf(want, sizeof want, "counter %u..%u before %s", a[0].counter_after, c[0].counter_before,
             e3);
    assert_string_equal(fd.v[0].kind, "gap");
    assert_string_equal(fd.v[0].evidence, want);
    assert_non_null(strstr(fd.v[0].detail, "terminal 2 or the desk"));
    assert_int_equal(import(&t2, f, b, 4), 1);
    till_close(&t1);
    till_close(&t2);
    till_close(&t3);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found, 0);
    assert_int_equal(k.resolved, 1);
    assert_int_equal(k.open, 0);
    fd.n = 0;
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].state, "resolved");
    desk_fixture_balances(f, f->account, 5000 - 100 - 200, 25);
}

/* The account's newest entry as its history shows it. */
static int newest_movement(void *ctx, const struct ledger_movement *m)
{
    *(struct ledger_movement *)ctx = *m;
    return 1;
}

/* Terminal 1's earn torn before its commit reached the card (in doubt),
 * then the card earns the same at terminal 2, reaching exactly the counter,
 * seq and 35 points terminal 1's entry says it left; back at terminal 1 a
 * balance settles the doubt unknown (terminal_tear_test.c). Both journals
 * in (terminal 2's first when t2_first, reconciled after each import):
 * two earns claim the card's one step from counter c (DESFire taps,
 * Classic seq). Terminal 2's commit was answered (no settle names it), so
 * terminal 1's could not have reached the card: reconciliation reverses it
 * (an entry keyed by it, in the account's history) and records the doubt
 * resolved with that reversal; the account ends at the card's 35 points,
 * the card active. With both_torn terminal 2's commit lost its answer too
 * (it reached the card; its balance there settles it unknown): nothing
 * proves which commit the card took, so the doubt stays open and both
 * earns stay credited (45). Reconciling again changes nothing. On an EV3
 * with the Transaction MAC file (the tills' package floor says so) terminal
 * 2's earn comes with its TMAC entry, checked ok at import: the same.
 * With OTHER_SPENT terminal 2's commit was answered but the account spent
 * 40 of its 45 points before reconciliation: the reversal of 10 is refused
 * (the account does not hold them), nothing is written, the doubt stays. */
enum torn_card { TORN_CLASSIC, TORN_EV1, TORN_EV3_TMAC };
enum torn_other { OTHER_ANSWERED, OTHER_TORN, OTHER_SPENT };
static void torn_then_same_step(struct fixture *f, enum torn_card kind, unsigned commit,
                                bool t2_first, enum torn_other other)
{
    bool both_torn = other == OTHER_TORN, hold = other != OTHER_ANSWERED;
    int64_t held_points = other == OTHER_SPENT ? 5 : 45;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const struct till_package pkg = {.floors = &fl, .floor_count = 1};
    const struct key_version *kv;
    uint8_t kvs[LEDGER_KEY_ROLES] = {0};
    bool tmac = kind == TORN_EV3_TMAC;
    unsigned nb = (both_torn ? 3u : 1u) + (tmac ? 1u : 0u);
    uint32_t c;
    struct till t1, t2;
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry a[4], b[4];
    struct ledger_reconcile_counts k, k1;
    struct ledger_card card;
    struct ledger_movement m;
    struct found fd = {0};
    char want[LEDGER_RECONCILE_EVIDENCE], why[LEDGER_TEXT], ea[32], eb[32], step[32];

    if (kind == TORN_EV1) {
        till_make_desfire(f, 3000, 0);
        ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                    3000);
    } else if (tmac) {
        till_make_desfire_tmac_v2(f, "desfire-ev3", 3000, 0, false);
        ledger_side(f, LEDGER_TECH_DESFIRE_EV3, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                    3000);
        assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_TMAC, &kv), LEAL_OK);
        kvs[KEY_ROLE_TMAC - 1] = kv->version;
        assert_int_equal(ledger_card_keys_set(f->ledger, (int64_t)TILL_CARD_ID, kvs), LEAL_OK);
    } else {
        till_make_classic(f, 3000);
        ledger_side(f, LEDGER_TECH_CLASSIC_1K, (const uint8_t *)"\x0a\x0b\x0c\x0d", 4, 3000);
    }
    till_keyed_pkg(&t1, f, 1, 1, TILL_NOW, tmac ? &pkg : NULL);
    cardsim_set_tear(reader_sim_card(t1.r), &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND,
                                                                   commit, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&t1, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    t1.now.utc_seconds += 120;
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 60, tmac ? &pkg : NULL);
    if (both_torn) {
        cardsim_set_tear(
            reader_sim_card(t2.r),
            &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_ANSWER, commit, CARDSIM_TORN_OLD, 0});
        assert_int_equal(till_tap(&t2, &earn, &r), LEAL_OK);
        assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
        t2.now.utc_seconds += 60;
        till_present(&t2);
        assert_int_equal(till_tap(&t2, &bal, &r), LEAL_OK);
        assert_true(r.settled);
        assert_int_equal(r.settled_item, JOURNAL_SETTLED_UNKNOWN);
    } else {
        tap_done(&t2, TERMINAL_EARN, 1000, 0);
    }
    till_present(&t1);
    assert_int_equal(till_tap(&t1, &bal, &r), LEAL_OK);
    assert_true(r.settled);
    assert_int_equal(r.settled_item, JOURNAL_SETTLED_UNKNOWN);
    assert_int_equal(r.after.points, 35);
    if (t2_first) {
        assert_int_equal(import(&t2, f, b, 4), nb);
        assert_int_equal(tmac_checked * 10 + tmac_bad, tmac ? 10u : 0u);
        assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k1), LEAL_OK);
        desk_fixture_balances(f, f->account, 3000, 35); /* terminal 2's earn alone */
        assert_int_equal(import(&t1, f, a, 4), 3);      /* earn, settle, balance */
    } else {
        assert_int_equal(import(&t1, f, a, 4), 3);
        assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k1), LEAL_OK);
        desk_fixture_balances(f, f->account, 3000, 35); /* terminal 1's earn alone */
        assert_int_equal(import(&t2, f, b, 4), nb);
        assert_int_equal(tmac_checked * 10 + tmac_bad, tmac ? 10u : 0u);
    }
    till_close(&t1);
    till_close(&t2);
    assert_int_equal(k1.found + k1.fraud + k1.open, 0); /* one journal: nothing to say yet */
    c = a[0].counter_before;
    assert_int_equal(a[1].op, JOURNAL_OP_SETTLE);
    assert_int_equal(a[1].item, JOURNAL_SETTLED_UNKNOWN);
    if (tmac) { /* earns that read no counter: the step is the state seq they began at */
        struct state_body sa, sb;
        bool found_a = false, found_b = false;
        assert_int_equal(a[0].counter_before, JOURNAL_COUNTER_NONE);
        assert_int_equal(a[0].counter_after, JOURNAL_COUNTER_NONE);
        assert_int_equal(b[0].counter_before, JOURNAL_COUNTER_NONE);
        journal_state_of(&a[0], &sa, &found_a);
        journal_state_of(&b[0], &sb, &found_b);
        assert_true(found_a && found_b);
        assert_int_equal(sa.seq, sb.seq);
        snprintf(step, sizeof step, "seq %u", sa.seq);
    } else {
        assert_int_equal(b[0].counter_before, c);
        assert_int_equal(a[0].counter_after, c + 1);
        assert_int_equal(b[0].counter_after, c + 1);
        assert_int_equal(a[1].counter_before, c + 1);
        snprintf(step, sizeof step, "counter %u", c);
    }
    if (tmac) { /* terminal 2's commit answered: its TMAC entry, checked ok */
        assert_int_equal(b[1].op, JOURNAL_OP_TMAC);
        assert_int_equal(b[1].ref_seq, b[0].seq);
    }
    if (both_torn) {
        assert_int_equal(b[1].op, JOURNAL_OP_SETTLE);
        assert_int_equal(b[1].item, JOURNAL_SETTLED_UNKNOWN);
        assert_int_equal(b[1].ref_seq, b[0].seq);
    }
    desk_fixture_balances(f, f->account, 3000, 45); /* both earns posted at import */
    if (other == OTHER_SPENT)
        desk_fixture_post_points(f, f->account, -40, "spent-before-reconcile");

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.cards, 1);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.fraud + k.blocked, 0);
    assert_int_equal(k.open, hold ? 1 : 0);
    assert_int_equal(k.resolved, hold ? 0 : 1);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    ev(&a[0], ea, sizeof ea);
    ev(&b[0], eb, sizeof eb);
    snprintf(want, sizeof want, "%s then %s at %.19s", ea, eb, step);
    assert_string_equal(fd.v[0].kind, "doubt");
    assert_false(fd.v[0].fraud);
    assert_string_equal(fd.v[0].evidence, want);
    assert_int_equal(fd.v[0].terminal_id, 1);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_ACTIVE);
    if (hold) {
        assert_string_equal(fd.v[0].state, "open");
        desk_fixture_balances(f, f->account, 3000, held_points);
        if (other == OTHER_SPENT) { /* no reversal: the newest entry is the spend */
            assert_int_equal(ledger_history(f->ledger, f->account, 0, 1, newest_movement, &m),
                             LEAL_OK);
            assert_int_equal(m.amount, -40);
        }
    } else {
        /* The reversal: the account's newest entry, keyed by the torn one. */
        assert_int_equal(ledger_history(f->ledger, f->account, 0, 1, newest_movement, &m), LEAL_OK);
        assert_string_equal(m.kind, "void");
        assert_string_equal(m.asset, "PTS");
        assert_int_equal(m.amount, -10);
        assert_string_equal(m.operator_name, "reconcile");
        snprintf(why, sizeof why,
                 "reconcile: %s never reached the card: its commit had no answer and %s, "
                 "answered, took the same step (%s)",
                 ea, eb, step);
        assert_string_equal(m.reason, why);
        assert_string_equal(fd.v[0].state, "resolved");
        assert_string_equal(fd.v[0].operator_name, "reconcile");
        snprintf(why, sizeof why,
                 "reversed by entry %lld: %s had no answer, %s answered at the same step "
                 "(%s)",
                 (long long)m.entry_id, ea, eb, step);
        assert_string_equal(fd.v[0].reason, why);
        desk_fixture_balances(f, f->account, 3000, 35); /* the card's */
    }
    /* Again: the same finding, nothing new, nothing moved. */
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.fraud + k.blocked + k.resolved, 0);
    assert_int_equal(k.open, hold ? 1 : 0);
    memset(&fd, 0, sizeof fd);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].state, hold ? "open" : "resolved");
    desk_fixture_balances(f, f->account, 3000, hold ? held_points : 35);
}

static void test_desfire_torn_then_same_step(void **state)
{
    torn_then_same_step(*state, TORN_EV1, 9, false,
                        OTHER_ANSWERED); /* the commit, after an EV1's probe */
}

static void test_classic_torn_then_same_step(void **state)
{
    torn_then_same_step(*state, TORN_CLASSIC, 23, false,
                        OTHER_ANSWERED); /* the slot's last block */
}

static void test_desfire_torn_then_same_step_other_order(void **state)
{
    torn_then_same_step(*state, TORN_EV1, 9, true, OTHER_ANSWERED);
}

static void test_classic_torn_then_same_step_other_order(void **state)
{
    torn_then_same_step(*state, TORN_CLASSIC, 23, true, OTHER_ANSWERED);
}

static void test_desfire_both_torn_at_same_step(void **state)
{
    torn_then_same_step(*state, TORN_EV1, 9, false, OTHER_TORN);
}

static void test_classic_both_torn_at_same_step(void **state)
{
    torn_then_same_step(*state, TORN_CLASSIC, 23, true, OTHER_TORN);
}

static void test_desfire_torn_reversal_refused(void **state)
{
    torn_then_same_step(*state, TORN_EV1, 9, false, OTHER_SPENT);
}

static void test_ev3_tmac_torn_then_same_step(void **state)
{
    torn_then_same_step(*state, TORN_EV3_TMAC, 6, false,
                        OTHER_ANSWERED); /* the commit of an earn that reads no counter */
}

/* A DESFire card paid with at terminal 1, at terminal 2 (its clock at
 * t2_clock), then at terminal 1 again: walked in the card's counter order,
 * nothing found, the payments all in the account. */
static void desfire_1_2_1_clean(struct fixture *f, uint64_t t2_clock, struct journal_entry a[4],
                                struct journal_entry b[4])
{
    struct ledger_reconcile_counts k;

    till_make_desfire(f, 5000, 0);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                5000);
    pays_1_2_1(f, (const int64_t[3]){100, 200, 300}, t2_clock, false, a, b);
    assert_int_equal(b[0].counter_before, a[0].counter_after);
    assert_int_equal(a[1].counter_before, b[0].counter_after);
    assert_int_equal(ledger_reconcile(f->ledger, 0, (int64_t)TILL_CARD_ID, &k), LEAL_OK);
    assert_int_equal(k.found, 0);
    assert_int_equal(k.fraud + k.blocked, 0);
    assert_int_equal(k.open, 0);
    desk_fixture_balances(f, f->account, 5000 - 100 - 200 - 300, 25);
}

/* Terminal 1, terminal 2, terminal 1 again, the last two in the same second
 * (terminals' clocks count whole seconds): walked in the card's counter order,
 * no rollback, nothing found (ordered by terminal id, terminal 1's later tap
 * came first and terminal 2's looked like a restored dump, the card blocked). */
static void test_two_terminals_in_one_second(void **state)
{
    struct journal_entry a[4], b[4];

    desfire_1_2_1_clean(*state, TILL_NOW + 60, a, b);
    assert_int_equal(a[1].utc_seconds, b[0].utc_seconds);
}

/* Terminal 2's clock five minutes behind terminal 1's: its tap, between
 * terminal 1's two, reads as the earliest of the three. A DESFire card's
 * counter only rises (the card enforces it), so it orders the taps and the
 * clocks say nothing (in the terminals' time order: a false rollback, the
 * card blocked). */
static void test_clock_behind_at_another_terminal(void **state)
{
    struct journal_entry a[4], b[4];

    desfire_1_2_1_clean(*state, TILL_NOW - 300, a, b);
    assert_int_equal(b[0].utc_seconds + 300, a[0].utc_seconds);
}

/* Terminal 1, then the desk (a payment: terminal 2's tap stands in for the
 * desk's write, the ledger gets the desk's entry and the counter the desk
 * saw), then terminal 3: no gap, nothing open, card and account agree. */
static void test_desk_write_between_is_no_gap(void **state)
{
    struct fixture *f = *state;
    struct till t1, t2, t3;
    struct journal_entry a[4], b[4], c[4];
    struct ledger_reconcile_counts k;

    till_make_desfire(f, 5000, 0);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                5000);
    till_synced(&t1, f, 1, TILL_NOW);
    tap_done(&t1, TERMINAL_PAY, 0, 100);
    till_synced(&t2, f, 2, TILL_NOW + 60);
    tap_done(&t2, TERMINAL_PAY, 0, 200);
    assert_int_equal(till_entries(&t2, b, 4), 1);
    post_eur(f, "spend", -200, "desk payment");
    assert_int_equal(ledger_card_set_counter(f->ledger, (int64_t)TILL_CARD_ID, b[0].counter_after),
                     LEAL_OK);
    till_synced(&t3, f, 3, TILL_NOW + 120);
    tap_done(&t3, TERMINAL_BALANCE, 0, 0);
    assert_int_equal(import(&t1, f, a, 4), 1);
    assert_int_equal(import(&t3, f, c, 4), 1);
    assert_int_equal(c[0].counter_before, b[0].counter_after);
    assert_true(c[0].counter_before > a[0].counter_after);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.cards, 1);
    assert_int_equal(k.found + k.open, 0);
    till_close(&t1);
    till_close(&t2);
    till_close(&t3);
    desk_fixture_balances(f, f->account, 5000 - 100 - 200, 25);
}

/* A bonus the host gave (10 points by hand) waits for the card; the card
 * earns at terminal 1, whose package does not carry it: card and account
 * differ by exactly what waits, which is no finding. Then 5 points taken
 * off at the desk's side that never reached the card (an entry made for the
 * card, which does not wait): a balance finding naming both figures. */
static void test_waiting_bonus_is_no_balance_finding(void **state)
{
    struct fixture *f = *state;
    struct till t1;
    struct journal_entry a[4];
    struct ledger_reconcile_counts k;
    struct ledger_host_change hc;
    struct found fd = {0};
    char want[LEDGER_RECONCILE_DETAIL], lost[64];
    bool waiting = false;
    int64_t pts;

    till_make_desfire(f, 5000, 0);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                5000);
    desk_fixture_post_points(f, f->account, 10, "bonus-birthday");
    till_synced(&t1, f, 1, TILL_NOW);
    tap_done(&t1, TERMINAL_EARN, 1000, 0);
    assert_int_equal(import(&t1, f, a, 4), 1);
    till_close(&t1);
    assert_int_equal(a[0].points, 10);
    assert_int_equal(a[0].points_after, 35);
    assert_int_equal(ledger_host_change_get(f->ledger, (int64_t)TILL_CARD_ID, &hc, &waiting),
                     LEAL_OK);
    assert_true(waiting);
    assert_false(hc.doubt);
    assert_int_equal(hc.points, 10);
    desk_fixture_balances(f, f->account, 5000, 45);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.cards, 1);
    assert_int_equal(k.found + k.open, 0);

    snprintf(lost, sizeof lost, "card:%llu:lost", (unsigned long long)TILL_CARD_ID);
    desk_fixture_post_points(f, f->account, -5, lost);
    assert_int_equal(ledger_balance(f->ledger, f->account, "PTS", &pts), LEAL_OK);
    assert_int_equal(pts, 40);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.fraud + k.blocked, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].kind, "balance");
    snprintf(want, sizeof want,
             "its account %lld holds 40 points (+10 of them waiting for the card) "
             "and 5000 cents",
             (long long)f->account);
    assert_non_null(strstr(fd.v[0].detail, want));
    assert_non_null(strstr(fd.v[0].detail, "shows 35 points"));
}

/* The card on the next package's hot list, and refused by a terminal loading it. */
static void expect_hot_listed(struct fixture *f)
{
    struct package_build_opts po = {1, TILL_NOW, 7, 10000, 30000};
    struct package_info info;
    uint8_t *pkg = NULL, reason = 0;
    size_t len = 0;
    bool hot = false;
    struct package_hot h;
    struct till t;
    struct terminal_request q = till_request(TERMINAL_PAY, 0, 100, 0);
    struct terminal_result r;
    assert_int_equal(package_build(f->ledger, f->keys, &po, &pkg, &len, &info), LEAL_OK);
    assert_int_equal(
        package_hot_find(&info, &(struct package_source){package_memory_read, pkg, (uint32_t)len},
                         TILL_CARD_ID, &hot, &reason),
        LEAL_OK);
    free(pkg);
    assert_true(hot);
    assert_int_equal(reason, PACKAGE_HOT_BLOCKED);
    h = (struct package_hot){TILL_CARD_ID, reason};
    till_open(&t, f, 3, &(struct till_package){.hot = &h, .hot_count = 1});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_HOT_LISTED);
    till_close(&t);
}

/* p (len bytes) imported: refused with err at sequence seq, taken new
 * entries taken; then reconciled: one tamper finding about the card naming
 * (terminal, epoch, seq, kind), the card blocked and hot-listed; then the
 * finding accepted and the card unblocked for the next case. */
static void expect_tamper(struct fixture *f, const uint8_t *p, size_t len, leal_err err,
                          uint32_t seq, uint32_t taken, const char *evidence)
{
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct sync_result r;
    struct ledger_reconcile_counts c;
    struct ledger_card card;
    struct found fd = {0};
    assert_int_equal(sync_import(f->ledger, &k, p, len, &r), err);
    assert_int_equal(r.fault_seq, seq);
    assert_int_equal(r.taken, taken);
    assert_true(r.terminal_flagged);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &c), LEAL_OK);
    assert_int_equal(c.found, 1);
    assert_int_equal(c.fraud, 1);
    assert_int_equal(c.blocked, 1);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].kind, "tamper");
    assert_string_equal(fd.v[0].evidence, evidence);
    assert_int_equal(fd.v[0].card_id, (int64_t)TILL_CARD_ID);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_BLOCKED);
    expect_hot_listed(f);
    assert_int_equal(ledger_reconcile_accept(f->ledger, fd.v[0].id, "terminal replaced", "ana"),
                     LEAL_OK);
    assert_int_equal(ledger_card_change_status(f->ledger, (int64_t)TILL_CARD_ID, LEDGER_CARD_ACTIVE,
                                               "reviewed", "test"),
                     LEAL_OK);
}

/* Byte offset of entry i (0-based) of an export of entries without lines. */
static size_t at(uint32_t i)
{
    return JOURNAL_EXPORT_HEADER_LEN + (size_t)i * JOURNAL_ENTRY_MIN;
}

/* A copy of the export with entry a dropped (how 0), a and a + 1 swapped
 * (1), a repeated after itself (2) or a byte of a's operation flipped (3),
 * its count adjusted: what an editor without the key can do (the export's
 * MAC is then wrong too). */
static uint8_t *edited(const uint8_t *e, size_t n, int how, uint32_t a, size_t *len)
{
    uint8_t *p = malloc(n + JOURNAL_ENTRY_MIN);
    uint32_t count = (uint32_t)((n - at(0) - JOURNAL_MAC_LEN) / JOURNAL_ENTRY_MIN);
    assert_non_null(p);
    memcpy(p, e, at(a));
    if (how == 0) {
        memcpy(p + at(a), e + at(a + 1), n - at(a + 1));
        *len = n - JOURNAL_ENTRY_MIN;
        count--;
    } else if (how == 1) {
        memcpy(p + at(a), e + at(a + 1), JOURNAL_ENTRY_MIN);
        memcpy(p + at(a + 1), e + at(a), JOURNAL_ENTRY_MIN);
        memcpy(p + at(a + 2), e + at(a + 2), n - at(a + 2));
        *len = n;
    } else if (how == 3) {
        memcpy(p + at(a), e + at(a), n - at(a));
        p[at(a) + 60] ^= 0x01;
        *len = n;
    } else {
        memcpy(p + at(a), e + at(a), JOURNAL_ENTRY_MIN);
        memcpy(p + at(a + 1), e + at(a), n - at(a));
        *len = n + JOURNAL_ENTRY_MIN;
        count++;
    }
    p[28] = (uint8_t)(count >> 24);
    p[29] = (uint8_t)(count >> 16);
    p[30] = (uint8_t)(count >> 8);
    p[31] = (uint8_t)count;
    return p;
}

/* The edits of terminal 1's journal, in turn: each stops the import at the
 * entry it breaks, taking those before it the edit before did not take. */
static const struct tamper {
    int how;             /* edited()'s */
    uint32_t a;          /* the entry it edits (0-based) */
    leal_err err;        /* the import's */
    uint32_t seq, taken; /* where the import stops; how many entries it takes */
    const char *kind;    /* the finding's evidence */
} tampers[] = {
    {3, 2, LEAL_E_JOURNAL_MAC, 3, 2, "mac"},      /* sequence 3's payment: 1 and 2 taken */
    {0, 4, LEAL_E_JOURNAL_CHAIN, 5, 2, "chain"},  /* 5 dropped: 3 and 4 taken */
    {1, 6, LEAL_E_JOURNAL_CHAIN, 7, 2, "chain"},  /* 7 and 8 reordered: 5 and 6 taken */
    {2, 8, LEAL_E_JOURNAL_CHAIN, 10, 3, "chain"}, /* 9 replayed after itself: 7, 8, 9 */
};

/* Terminal 1's journal of payments (entries without lines) edited, an
 * entry dropped, two reordered, one replayed, and terminal 2's journal made
 * under terminal 1's key: each stops the import at the entry it breaks,
 * and reconciliation blocks the card its entries name. */
static void test_tampered_journals(void **state)
{
    struct fixture *f = *state;
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct journal_export_info info;
    struct sync_result r;
    struct till t1, t2;
    uint8_t *e = malloc(EXPORT_CAP), *p;
    char want[LEDGER_RECONCILE_EVIDENCE];
    size_t len;
    uint32_t epoch;

    assert_non_null(e);
    till_make_desfire(f, 5000, 0);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                5000);
    till_synced(&t1, f, 1, TILL_NOW);
    for (int i = 0; i < 10; i++) /* sequences 2 to 11 */
        tap_done(&t1, TERMINAL_PAY, 0, 100 + i);
    assert_int_equal(journal_export(&t1.j, e, EXPORT_CAP, &info), LEAL_OK);
    assert_int_equal(info.count, 11);
    assert_int_equal(info.len, at(11) + JOURNAL_MAC_LEN);
    epoch = info.epoch;

    for (size_t i = 0; i < sizeof tampers / sizeof tampers[0]; i++) {
        const struct tamper *x = &tampers[i];
        p = edited(e, info.len, x->how, x->a, &len);
        snprintf(want, sizeof want, "t1/e%u/s%u %s", epoch, x->seq, x->kind);
        expect_tamper(f, p, len, x->err, x->seq, x->taken, want);
        free(p);
    }
    /* The journal as it is: the rest. */
    assert_int_equal(sync_import(f->ledger, &k, e, info.len, &r), LEAL_OK);
    assert_int_equal(r.taken, 2);
    till_close(&t1);
    desk_fixture_balances(f, f->account, 5000 - (10 * 100 + 45), 25);

    /* Terminal 2's journal under terminal 1's key: its EPOCH breaks first;
     * its payment names the card. Nothing taken. */
    till_keyed(&t2, f, 2, 1, TILL_NOW + 3600);
    tap_done(&t2, TERMINAL_PAY, 0, 50);
    assert_int_equal(journal_export(&t2.j, e, EXPORT_CAP, &info), LEAL_OK);
    snprintf(want, sizeof want, "t2/e%u/s2 mac", info.epoch);
    expect_tamper(f, e, info.len, LEAL_E_JOURNAL_MAC, 1, 0, want);
    till_close(&t2);
    desk_fixture_balances(f, f->account, 5000 - (10 * 100 + 45), 25);
    free(e);
}

/* One payment (or, op VOID, the card's last payment undone) in a generated
 * journal of terminal 1. */
static void gen_pay(struct jgen *g, uint8_t op, uint32_t cents)
{
    struct jgen_op o = {.op = op, .card_id = TILL_CARD_ID, .purse = cents};
    assert_int_equal(jgen_do(g, &o), LEAL_OK);
}

/* g's export into the ledger, taken whole. */
static void gen_import(struct fixture *f, struct jgen *g, uint32_t taken)
{
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct sync_result r;
    uint8_t *p = NULL;
    size_t len = 0;
    assert_int_equal(jgen_export(g, &p, &len), LEAL_OK);
    assert_int_equal(sync_import(f->ledger, &k, p, len, &r), LEAL_OK);
    assert_int_equal(r.taken, taken);
    free(p);
}

/* The card with 300.00 in the ledger, a package built for terminal 1 with
 * caps of 50.00 a card a day and 100.00 between syncs, and terminal 1's
 * generated journal under its real key naming that package, the card in it. */
static void caps_journal(struct fixture *f, struct jgen *g)
{
    struct package_build_opts po = {1, TILL_NOW, 7, 5000, 10000};
    const struct key_version *kv;
    struct package_info info;
    uint8_t key[16], *pkg = NULL;
    size_t len = 0;
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                30000);
    assert_int_equal(package_build(f->ledger, f->keys, &po, &pkg, &len, &info), LEAL_OK);
    free(pkg);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_JOURNAL_MAC, &kv), LEAL_OK);
    assert_int_equal(derive_journal_key(crypto_openssl(), kv->key, f->keys->issuer_id, 7, 1, key),
                     LEAL_OK);
    assert_int_equal(jgen_open(g, key, kv->version, 7, 1, 8, TILL_NOW), LEAL_OK);
    g->package_version = info.version;
    assert_int_equal(jgen_card(g, TILL_CARD_ID, JOURNAL_CARD_DESFIRE, 25, 30000), LEAL_OK);
}

/* A terminal that does not enforce its package's caps (a generated journal
 * under terminal 1's real key, its entries naming the package the host
 * built with 50.00 a card a day and 100.00 between syncs): a payment that
 * takes the card's day over 50.00, and one that takes it over 100.00 since
 * the last ack, are each a cap finding about terminal 1 and the card (not
 * fraud: the card stays active); what the terminal no longer counts after
 * the host's ack (the same day's payments before it) is not held against
 * it, and a day exactly at its cap is allowed. */
static void test_terminal_over_caps(void **state)
{
    struct fixture *f = *state;
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct ledger_reconcile_counts c;
    struct journal_ack a;
    struct found fd = {0};
    struct ledger_card card;
    struct jgen g;
    uint8_t ack[JOURNAL_ACK_LEN];
    char want[LEDGER_RECONCILE_DETAIL];
    uint32_t epoch = (uint32_t)TILL_NOW; /* the journal's first epoch: when it began */

    caps_journal(f, &g);
    gen_pay(&g, JOURNAL_OP_PAY, 2000); /* s2: the day at 20.00 */
    gen_pay(&g, JOURNAL_OP_PAY, 2500); /* s3: 45.00 */
    gen_pay(&g, JOURNAL_OP_PAY, 1000); /* s4: 55.00, over 50.00 */
    gen_pay(&g, JOURNAL_OP_VOID, 0);   /* s5: s4 given back, 45.00 */
    gen_pay(&g, JOURNAL_OP_PAY, 500);  /* s6: 50.00, at the cap */
    g.now += 86400;                    /* the next day */
    gen_pay(&g, JOURNAL_OP_PAY, 4500); /* s7: 45.00, since the sync 95.00 */
    g.now += 86400;                    /* the day after */
    gen_pay(&g, JOURNAL_OP_PAY, 1000); /* s8: 10.00, since the sync 105.00 */
    gen_import(f, &g, 8);
    assert_int_equal(sync_ack(f->ledger, &k, 1, &a, ack), LEAL_OK);
    assert_int_equal(jgen_ack(&g, ack, sizeof ack), LEAL_OK); /* s9 */
    gen_pay(&g, JOURNAL_OP_PAY, 4500); /* s10: 55.00 that day, 45.00 since the ack */
    gen_import(f, &g, 2);
    jgen_close(&g);

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &c), LEAL_OK);
    assert_int_equal(c.found, 2);
    assert_int_equal(c.fraud + c.blocked, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 2);
    assert_string_equal(fd.v[0].kind, "cap");
    snprintf(want, sizeof want, "t1/e%u/s4 cap day", epoch);
    assert_string_equal(fd.v[0].evidence, want);
    snprintf(want, sizeof want,
             "terminal 1 took 10.00 from card 100000000042 at t1/e%u/s4 (local day 2026-05-28): "
             "55.00 that day, over the 50.00 its package version 1 allows a card a day: it did "
             "not enforce its caps; check its software and package",
             epoch);
    assert_string_equal(fd.v[0].detail, want);
    assert_false(fd.v[0].fraud);
    assert_int_equal(fd.v[0].terminal_id, 1);
    assert_int_equal(fd.v[0].card_id, (int64_t)TILL_CARD_ID);
    assert_string_equal(fd.v[1].kind, "cap");
    snprintf(want, sizeof want, "t1/e%u/s8 cap sync", epoch);
    assert_string_equal(fd.v[1].evidence, want);
    assert_non_null(strstr(fd.v[1].detail, "105.00 since its last sync, over the 100.00 its "
                                           "package version 1 allows a card between syncs"));
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_ACTIVE);
    /* Seen again, not found again; the card alone sees its own. */
    assert_int_equal(ledger_reconcile(f->ledger, 0, (int64_t)TILL_CARD_ID, &c), LEAL_OK);
    assert_int_equal(c.found, 0);
    assert_int_equal(c.open, 2);
    desk_fixture_balances(f, f->account, 30000 - (2000 + 2500 + 500 + 4500 + 1000 + 4500), 25);
}

/* A QR spending code's payment in a generated journal (JOURNAL.md: card
 * kind 03, counters 0, the code's QR line last), code id `id`. */
static void gen_qr_pay(struct jgen *g, uint64_t id, uint32_t cents, uint32_t counter)
{
    struct journal_entry e;
    memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_PAY;
    e.utc_seconds = g->now++;
    e.utc_offset_minutes = 60;
    e.package_version = g->package_version;
    e.card_kind = JOURNAL_CARD_QR;
    e.card_id = id;
    e.amount_cents = cents;
    e.purse_cents = cents;
    e.n_lines = 1;
    e.lines[0].source = JOURNAL_LINE_QR;
    e.lines[0].rule_index = JOURNAL_QR_SPEND;
    e.lines[0].id = counter;
    e.lines[0].points = (int64_t)(e.utc_seconds / 30);
    assert_int_equal(journal_append(&g->j, &e), LEAL_OK);
}

/* QR payments apart from card payments (the package's caps are a card's;
 * a code is held to its certificate's): under caps of 50.00 a day, the
 * card pays 40.00 and a QR code whose id is the card's pays 40.00 twice;
 * no finding (before: 80.00 and 120.00 "that day" on one card id, two
 * findings). Then the card pays 20.00 more: 60.00, one cap finding, its
 * total the card's alone. */
static void test_qr_apart_from_card_caps(void **state)
{
    struct fixture *f = *state;
    struct ledger_reconcile_counts c;
    struct found fd = {0};
    struct jgen g;
    char want[LEDGER_RECONCILE_DETAIL];
    uint32_t epoch = (uint32_t)TILL_NOW;

    caps_journal(f, &g);
    gen_pay(&g, JOURNAL_OP_PAY, 4000);     /* s2: the card's day at 40.00 */
    gen_qr_pay(&g, TILL_CARD_ID, 4000, 1); /* s3: the code's, apart */
    gen_qr_pay(&g, TILL_CARD_ID, 4000, 2); /* s4 */
    gen_import(f, &g, 4);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &c), LEAL_OK);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    for (size_t i = 0; i < fd.n && i < 8; i++)
        assert_string_not_equal(fd.v[i].kind, "cap");

    gen_pay(&g, JOURNAL_OP_PAY, 2000); /* s5: the card's day at 60.00 */
    gen_import(f, &g, 1);
    jgen_close(&g);
    fd.n = 0;
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &c), LEAL_OK);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    size_t caps = 0;
    for (size_t i = 0; i < fd.n && i < 8; i++) {
        if (strcmp(fd.v[i].kind, "cap") != 0)
            continue;
        caps++;
        snprintf(want, sizeof want, "t1/e%u/s5 cap day", epoch);
        assert_string_equal(fd.v[i].evidence, want);
        assert_non_null(strstr(fd.v[i].detail, "took 20.00 from card 100000000042 at"));
        assert_non_null(strstr(fd.v[i].detail, "60.00 that day, over the 50.00"));
    }
    assert_int_equal(caps, 1);
}

/* The real terminal under recorded caps of 100.00 a day (its package's):
 * 60.00 and 40.00 taken, the day exactly at the cap, 0.01 more refused by
 * the terminal itself: reconciliation finds nothing to hold against it. */
static void test_terminal_within_caps(void **state)
{
    struct fixture *f = *state;
    struct ledger_reconcile_counts c;
    struct terminal_request q = till_request(TERMINAL_PAY, 0, 1, 0);
    struct terminal_result r;
    struct journal_entry e[4];
    struct till t;

    till_make_desfire(f, 20000, 0);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV1, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                20000);
    till_synced(&t, f, 2, TILL_NOW);
    assert_int_equal(ledger_terminal_caps_record(f->ledger, 2, t.pkg.info.version, 10000, 30000),
                     LEAL_OK);
    tap_done(&t, TERMINAL_PAY, 0, 6000);
    tap_done(&t, TERMINAL_PAY, 0, 4000);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_CAP_DAY);
    assert_int_equal(import(&t, f, e, 4), 3);
    assert_int_equal(e[1].package_version, t.pkg.info.version);
    till_close(&t);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &c), LEAL_OK);
    assert_int_equal(c.found, 0);
    assert_int_equal(c.open, 0);
    desk_fixture_balances(f, f->account, 20000 - 10000, 25);
}

/* --- the Transaction MAC of EV2/EV3 cards (issue 19, host/sync/sync_tmac.h) --- */

/* An EV3 with the Transaction MAC file in Ana's account, its tmac key's
 * version recorded as issuance records it, and terminal 1 whose package
 * floor says so: an earn and a pay + earn, each journaled with its TMAC
 * entry (entries: earn, TMAC, pay + earn, TMAC). */
/* tmac_card's card at layout 3 (the purse mirror, cardlayout/LAYOUT.md 2.10:
 * its pay + earn reads no counter and no GetValue purse), not a layout-2
 * card upgraded with the file. */
static bool tmac_mirror;

static void tmac_card(struct fixture *f, struct till *t)
{
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const struct key_version *kv;
    uint8_t v[LEDGER_KEY_ROLES] = {0};
    if (tmac_mirror)
        till_make_desfire_tmac(f, "desfire-ev3", 5000, 0, false);
    else
        till_make_desfire_tmac_v2(f, "desfire-ev3", 5000, 0, false);
    ledger_side(f, LEDGER_TECH_DESFIRE_EV3, (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7,
                5000);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_TMAC, &kv), LEAL_OK);
    v[KEY_ROLE_TMAC - 1] = kv->version;
    assert_int_equal(ledger_card_keys_set(f->ledger, (int64_t)TILL_CARD_ID, v), LEAL_OK);
    till_keyed_pkg(t, f, 1, 1, TILL_NOW, &(struct till_package){.floors = &fl, .floor_count = 1});
}

static void tmac_taps(struct fixture *f, struct till *t, struct journal_entry e[4])
{
    tmac_card(f, t);
    tap_done(t, TERMINAL_EARN, 1000, 0);
    tap_done(t, TERMINAL_PAY_EARN, 300, 300);
    assert_int_equal(till_entries(t, e, 4), 4);
    assert_int_equal(e[1].op, JOURNAL_OP_TMAC);
    assert_int_equal(e[3].op, JOURNAL_OP_TMAC);
    away(t);
}

/* The entries as a thief holding terminal id's bundle writes them anew (its
 * journal key re-MACs and re-chains them: the import sees a sound
 * journal), into a fresh journal of terminal id opened at now (the
 * epoch) that is then imported; journal_again: terminal 1's. */
static void journal_again_at(struct fixture *f, uint32_t id, uint64_t now,
                             const struct journal_entry *e, unsigned n, struct journal_entry *taken)
{
    struct till t;
    till_keyed(&t, f, id, id, now);
    for (unsigned i = 0; i < n; i++) {
        struct journal_entry x = e[i];
        assert_int_equal(journal_append(&t.j, &x), LEAL_OK);
    }
    assert_int_equal(import(&t, f, taken, n), n);
    till_close(&t);
}

static void journal_again(struct fixture *f, const struct journal_entry *e, unsigned n,
                          struct journal_entry *taken)
{
    journal_again_at(f, 1, TILL_NOW, e, n, taken);
}

static void tmac_evidence(const struct journal_entry *t, char *out, size_t cap)
{
    struct journal_tmac m;
    assert_int_equal(journal_tmac_get(t, &m), LEAL_OK);
    snprintf(out, cap, "t%u/e%u/s%u tmc %u", t->terminal_id, t->epoch, t->seq, m.tmc);
}

/* The fraud finding of kind with evidence want against terminal 1, beside
 * the one other finding the same journal also shows (also: the points it
 * booked and the card disagree, or the counter seen twice), and the card
 * blocked naming it. */
static void expect_tmac_fraud(struct fixture *f, const char *kind, const char *want,
                              const char *also)
{
    struct ledger_reconcile_counts k;
    struct found fd = {0};
    struct ledger_card c;
    bool seen = false, seen_also = false;
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found, 2);
    assert_int_equal(k.blocked, 1);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 2);
    for (unsigned i = 0; i < 2; i++) {
        if (strcmp(fd.v[i].kind, kind) == 0) {
            seen = true;
            assert_true(fd.v[i].fraud);
            assert_string_equal(fd.v[i].evidence, want);
            assert_int_equal(fd.v[i].terminal_id, 1);
            assert_int_equal(fd.v[i].card_id, (int64_t)TILL_CARD_ID);
        } else {
            seen_also = strcmp(fd.v[i].kind, also) == 0;
        }
    }
    assert_true(seen);
    assert_true(seen_also);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &c), LEAL_OK);
    assert_int_equal(c.status, LEDGER_CARD_BLOCKED);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.blocked, 0);
}

/* Issue 19's earn without the counter torn at terminal 1 (its commit never
 * reached the card), the same earn done at terminal 2, then the card back
 * at terminal 1: the seq moved, so terminal 1 settles its earn unknown
 * (03; never done without the counter). The ledger posts both earns (45,
 * the card 35); terminal 2's TMAC entry, checked ok, proves its commit read
 * the state seq terminal 1's earn began at, so terminal 1's cannot have
 * reached the card: reconciliation reverses it and records the doubt
 * resolved (test_ev3_tmac_torn_then_same_step checks the words), the
 * account at the card's 35, no balance finding, the card active. */
static void test_tmac_torn_then_same_step(void **state)
{
    struct fixture *f = *state;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry a[4], b[4];
    struct ledger_reconcile_counts k;
    struct ledger_card card;
    struct found fd = {0};
    struct till t1, t2;
    tmac_card(f, &t1);
    cardsim_set_tear(reader_sim_card(t1.r),
                     &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND, 6, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&t1, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    t1.now.utc_seconds += 120;
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 60,
                   &(struct till_package){.floors = &fl, .floor_count = 1});
    tap_done(&t2, TERMINAL_EARN, 1000, 0);
    till_present(&t1);
    assert_int_equal(till_tap(&t1, &bal, &r), LEAL_OK);
    assert_true(r.settled);
    assert_int_equal(r.settled_item, JOURNAL_SETTLED_UNKNOWN);
    assert_int_equal(r.after.points, 35);
    assert_int_equal(import(&t1, f, a, 4), 3); /* earn, settle, balance: no TMAC entry */
    assert_int_equal(import(&t2, f, b, 4), 2); /* earn, TMAC */
    till_close(&t1);
    till_close(&t2);
    assert_int_equal(a[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(b[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(a[1].op, JOURNAL_OP_SETTLE);
    assert_int_equal(a[1].ref_seq, a[0].seq);
    desk_fixture_balances(f, f->account, 5000, 45);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.resolved, 1);
    assert_int_equal(k.open + k.fraud + k.blocked, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].kind, "doubt");
    assert_string_equal(fd.v[0].state, "resolved");
    assert_false(fd.v[0].fraud);
    assert_int_equal(fd.v[0].terminal_id, 1);
    desk_fixture_balances(f, f->account, 5000, 35); /* the card's */
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_ACTIVE);
}

/* An EV2 or an EV3 (type "desfire-ev2", "desfire-ev3") with the Transaction
 * MAC file and 30.00 in its purse, in Ana's account with its tmac key's
 * version recorded as issuance records it. */
/* tmac_card_of's card at layout 2 given the file by the desk's upgrade (its
 * pays read the counter, the payments' tests below), not at layout 3. */
static bool tmac_layout2;

static void tmac_card_of(struct fixture *f, const char *type)
{
    const struct key_version *kv;
    uint8_t v[LEDGER_KEY_ROLES] = {0};
    if (tmac_layout2)
        till_make_desfire_tmac_v2(f, type, 3000, 0, false);
    else
        till_make_desfire_tmac(f, type, 3000, 0, false);
    ledger_side(
        f, strcmp(type, "desfire-ev2") == 0 ? LEDGER_TECH_DESFIRE_EV2 : LEDGER_TECH_DESFIRE_EV3,
        (const uint8_t *)"\x04\x11\x22\x33\x44\x55\x66", 7, 3000);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_TMAC, &kv), LEAL_OK);
    v[KEY_ROLE_TMAC - 1] = kv->version;
    assert_int_equal(ledger_card_keys_set(f->ledger, (int64_t)TILL_CARD_ID, v), LEAL_OK);
}

/* The till's journal into the ledger: its export cut after the first
 * `first` entries (the EPOCH entry one of them; 0: all), as a terminal
 * with a small export buffer cuts it. Returns the entries taken (those of
 * an earlier cut export are duplicates now). */
static uint32_t import_first(struct till *t, struct fixture *f, unsigned first)
{
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct journal_export_info info;
    struct journal_entry e[8];
    struct sync_result r;
    uint8_t *buf = malloc(EXPORT_CAP);
    size_t cap = EXPORT_CAP;
    unsigned n = till_entries(t, e, 8);
    assert_non_null(buf);
    if (first > 0) {
        assert_true(first - 1 <= n);
        cap = JOURNAL_EXPORT_HEADER_LEN + journal_entry_len(0) + JOURNAL_MAC_LEN;
        for (unsigned i = 0; i + 1 < first; i++)
            cap += journal_entry_len(e[i].n_lines);
    }
    assert_int_equal(journal_export(&t->j, buf, cap, &info), LEAL_OK);
    assert_int_equal(info.count, first > 0 ? first : n + 1);
    assert_int_equal(sync_import(f->ledger, &k, buf, info.len, &r), LEAL_OK);
    tmac_checked = r.tmac_checked;
    tmac_bad = r.tmac_bad;
    free(buf);
    return r.taken;
}

/* The doubt finding among the card's (open or closed), into *out. */
static void the_doubt(struct fixture *f, struct ledger_reconcile_finding *out, unsigned total)
{
    struct found fd = {0};
    unsigned doubts = 0;
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, total);
    for (unsigned i = 0; i < fd.n && i < 8; i++)
        if (strcmp(fd.v[i].kind, "doubt") == 0) {
            *out = fd.v[i];
            doubts++;
        }
    assert_int_equal(doubts, 1);
}

/* Issue 19's restart gap on an EV2 or an EV3 with the Transaction MAC file
 * (type): terminal 1's earn (one that reads no counter, its floor naming
 * the file) torn before its commit reached the card; terminal 1 restarted
 * (its memory of the doubt lost: after a restart only "not done" is said,
 * and the card does not come back to it), so its journal holds the earn
 * and nothing after it: no settle, no TMAC entry. The card's same earn at
 * terminal 2, answered, its TMAC entry checked ok at import: its TMV
 * proves it read the state seq terminal 1's earn began at. Terminal 1's
 * earn had no TMAC entry after it, so its commit had no answer:
 * reconciliation reverses it (a void keyed by the earn itself, operator
 * "reconcile") and records the doubt resolved with that reversal; the
 * account at the card's 35 points, the card active, no clone, no balance
 * finding; a second run changes nothing. Imported terminal 1 first or
 * terminal 2 first (t2_first), reconciled after each; cut: terminal 2's
 * export cut right after its earn (terminal 1's journal already in), its
 * TMAC entry in the next batch: until then both earns count as unanswered,
 * nothing proves either and nothing is reversed (45 posted, the card's
 * newest tap shows 35: a balance finding), then the TMAC entry comes and
 * the reversal with it, the balance finding resolved. Main's code found
 * no doubt here (no settle names the earn): both earns stayed posted, a
 * balance finding open. */
static void restart_then_same_step(struct fixture *f, const char *type, bool t2_first, bool cut)
{
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const struct till_package pkg = {.floors = &fl, .floor_count = 1};
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_result r;
    struct journal_entry a[4], b[4];
    struct ledger_reconcile_counts k, k1;
    struct ledger_reconcile_finding d;
    struct ledger_card card;
    struct ledger_movement m;
    struct state_body sa, sb;
    bool found_a = false, found_b = false;
    char want[LEDGER_RECONCILE_EVIDENCE], why[LEDGER_TEXT], ea[32], eb[32], step[32];
    const char *pg = getenv("LEAL_TEST_PG");
    struct till t1, t2;

    tmac_card_of(f, type);
    till_keyed_pkg(&t1, f, 1, 1, TILL_NOW, &pkg);
    cardsim_set_tear(reader_sim_card(t1.r),
                     &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND, 6, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&t1, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    t1.now.utc_seconds += 120;
    till_restart(&t1);
    away(&t1);
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 60, &pkg);
    tap_done(&t2, TERMINAL_EARN, 1000, 0);
    assert_int_equal(till_entries(&t1, a, 4), 1); /* the earn, nothing after it */
    assert_int_equal(till_entries(&t2, b, 4), 2); /* the earn, its TMAC entry */
    assert_int_equal(a[0].op, JOURNAL_OP_EARN);
    assert_int_equal(a[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(b[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(b[1].op, JOURNAL_OP_TMAC);
    assert_int_equal(b[1].ref_seq, b[0].seq);
    journal_state_of(&a[0], &sa, &found_a);
    journal_state_of(&b[0], &sb, &found_b);
    assert_true(found_a && found_b);
    assert_int_equal(sa.seq, sb.seq);
    snprintf(step, sizeof step, "seq %u", sa.seq);

    if (cut) {
        assert_int_equal(import_first(&t1, f, 0), 2);
        assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k1), LEAL_OK);
        assert_int_equal(import_first(&t2, f, 2), 2); /* the EPOCH entry and the earn */
        assert_int_equal(tmac_checked, 0);
        assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
        assert_int_equal(k.found, 1);
        assert_int_equal(k.open, 1);
        assert_int_equal(k.fraud + k.blocked + k.resolved, 0);
        desk_fixture_balances(f, f->account, 3000, 45); /* nothing reversed yet */
        assert_int_equal(import_first(&t2, f, 0), 1);   /* the TMAC entry */
        assert_int_equal(tmac_checked * 10 + tmac_bad, 10u);
    } else if (t2_first) {
        assert_int_equal(import_first(&t2, f, 0), 3);
        assert_int_equal(tmac_checked * 10 + tmac_bad, 10u);
        assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k1), LEAL_OK);
        desk_fixture_balances(f, f->account, 3000, 35); /* terminal 2's earn alone */
        assert_int_equal(import_first(&t1, f, 0), 2);
    } else {
        assert_int_equal(import_first(&t1, f, 0), 2);
        assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k1), LEAL_OK);
        desk_fixture_balances(f, f->account, 3000, 35); /* terminal 1's earn alone */
        assert_int_equal(import_first(&t2, f, 0), 3);
        assert_int_equal(tmac_checked * 10 + tmac_bad, 10u);
    }
    till_close(&t1);
    till_close(&t2);
    assert_int_equal(k1.found + k1.fraud + k1.open, 0); /* one journal: nothing to say yet */
    desk_fixture_balances(f, f->account, 3000, 45);     /* both earns posted at import */

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.cards, 1);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.resolved, cut ? 2 : 1); /* and the balance finding, when cut */
    assert_int_equal(k.open + k.fraud + k.blocked, 0);
    the_doubt(f, &d, cut ? 2 : 1);
    ev(&a[0], ea, sizeof ea);
    ev(&b[0], eb, sizeof eb);
    snprintf(want, sizeof want, "%s then %s at %.19s", ea, eb, step);
    assert_string_equal(d.evidence, want);
    assert_false(d.fraud);
    assert_int_equal(d.terminal_id, 1);
    assert_string_equal(d.state, "resolved");
    assert_string_equal(d.operator_name, "reconcile");
    /* The reversal: the account's newest entry. */
    assert_int_equal(ledger_history(f->ledger, f->account, 0, 1, newest_movement, &m), LEAL_OK);
    assert_string_equal(m.kind, "void");
    assert_string_equal(m.asset, "PTS");
    assert_int_equal(m.amount, -10);
    assert_string_equal(m.operator_name, "reconcile");
    snprintf(why, sizeof why,
             "reconcile: %s never reached the card: its commit had no answer and %s, answered, "
             "took the same step (%s)",
             ea, eb, step);
    assert_string_equal(m.reason, why);
    snprintf(why, sizeof why,
             "reversed by entry %lld: %s had no answer, %s answered at the same step (%s)",
             (long long)m.entry_id, ea, eb, step);
    assert_string_equal(d.reason, why);
    desk_fixture_balances(f, f->account, 3000, 35); /* the card's */
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_ACTIVE);
    /* Keyed by the earn itself (no settle names it): its epoch, 2^32 + its
     * sequence, which no journal entry has (read in the SQLite file). */
    if (pg == NULL || pg[0] == '\0')
        assert_int_equal(
            test_sql_i64(f->db, -1,
                         "SELECT count(*) FROM entry WHERE id = %lld AND terminal_id = 1 "
                         "AND terminal_epoch = %u AND terminal_seq = %lld",
                         (long long)m.entry_id, a[0].epoch,
                         (long long)LEDGER_UNANSWERED_SEQ(a[0].seq)),
            1);

    /* Again: the same finding, nothing new, nothing moved. */
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.fraud + k.blocked + k.resolved + k.open, 0);
    the_doubt(f, &d, cut ? 2 : 1);
    assert_string_equal(d.state, "resolved");
    desk_fixture_balances(f, f->account, 3000, 35);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
}

static void test_tmac_restart_then_same_step_ev2(void **state)
{
    restart_then_same_step(*state, "desfire-ev2", false, false);
}

static void test_tmac_restart_then_same_step_ev3(void **state)
{
    restart_then_same_step(*state, "desfire-ev3", false, false);
}

static void test_tmac_restart_then_same_step_ev2_other_order(void **state)
{
    restart_then_same_step(*state, "desfire-ev2", true, false);
}

static void test_tmac_restart_then_same_step_ev3_other_order(void **state)
{
    restart_then_same_step(*state, "desfire-ev3", true, false);
}

static void test_tmac_restart_tmac_entry_in_later_batch(void **state)
{
    restart_then_same_step(*state, "desfire-ev3", false, true);
}

/* The same gap with a payment, which reads and debits the counter on such
 * a card too: terminal 1 took 1.00 (answered, its TMAC entry: the
 * terminal commits with the TMC option on this card), then its payment of
 * 2.00 torn before its commit reached the card, then it restarted; the
 * card paid 2.00 at terminal 2 from the same counter (TMV ok), then came
 * back to terminal 1 for its balance (at the counter terminal 2's payment
 * left: nothing settled after a restart). Main's code saw the counter
 * twice, terminal 1's payment unsettled and its terminal seeing the card
 * again, and blocked the genuine card as a clone. Terminal 1's payment has
 * no TMAC entry after it while its earlier one has: unanswered, and
 * terminal 2's proved payment from its counter reverses it; the purse at
 * the card's 27.00, the doubt resolved, the card active. */
static void test_tmac_restart_torn_pay(void **state)
{
    struct fixture *f = *state;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const struct till_package pkg = {.floors = &fl, .floor_count = 1};
    struct terminal_request pay = till_request(TERMINAL_PAY, 0, 100, 0);
    struct terminal_request bal = till_request(TERMINAL_BALANCE, 0, 0, 0);
    struct terminal_result r;
    struct journal_entry a[6], b[4];
    struct ledger_reconcile_counts k;
    struct ledger_reconcile_finding d;
    struct ledger_card card;
    char want[LEDGER_RECONCILE_EVIDENCE], ea[32], eb[32];
    unsigned commit;
    struct till t1, t2;

    tmac_layout2 = true;
    tmac_card_of(f, "desfire-ev3");
    tmac_layout2 = false;
    till_keyed_pkg(&t1, f, 1, 1, TILL_NOW, &pkg);
    assert_int_equal(till_tap(&t1, &pay, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    commit = r.round_trips; /* the commit is the tap's last exchange */
    t1.now.utc_seconds += 60;
    pay.pay_cents = 200;
    cardsim_set_tear(reader_sim_card(t1.r), &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND,
                                                                   commit, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&t1, &pay, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    t1.now.utc_seconds += 120;
    till_restart(&t1);
    away(&t1);
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 120, &pkg);
    tap_done(&t2, TERMINAL_PAY, 0, 200);
    away(&t2);
    till_present(&t1);
    assert_int_equal(till_tap(&t1, &bal, &r), LEAL_OK);
    assert_false(r.settled);
    assert_int_equal(r.purse_after, 2700);
    /* Terminal 1: the payment, its TMAC entry, the torn payment, the balance. */
    assert_int_equal(till_entries(&t1, a, 6), 4);
    assert_int_equal(a[1].op, JOURNAL_OP_TMAC);
    assert_int_equal(a[2].op, JOURNAL_OP_PAY);
    assert_int_equal(a[3].op, JOURNAL_OP_BALANCE);
    assert_int_equal(till_entries(&t2, b, 4), 2);
    assert_int_equal(b[0].counter_before, a[2].counter_before);
    assert_int_equal(a[3].counter_before, b[0].counter_after);
    assert_int_equal(import_first(&t1, f, 0), 5);
    assert_int_equal(import_first(&t2, f, 0), 3);
    assert_int_equal(tmac_checked * 10 + tmac_bad, 10u);
    till_close(&t1);
    till_close(&t2);
    desk_fixture_balances(f, f->account, 3000 - 100 - 200 - 200, 25);

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.resolved, 1);
    assert_int_equal(k.open + k.fraud + k.blocked, 0);
    the_doubt(f, &d, 1);
    ev(&a[2], ea, sizeof ea);
    ev(&b[0], eb, sizeof eb);
    snprintf(want, sizeof want, "%s then %s at counter %u", ea, eb, b[0].counter_before);
    assert_string_equal(d.evidence, want);
    assert_string_equal(d.state, "resolved");
    desk_fixture_balances(f, f->account, 2700, 25); /* the card's */
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_ACTIVE);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.fraud + k.blocked + k.resolved + k.open, 0);
    desk_fixture_balances(f, f->account, 2700, 25);
}

/* The crash after the answer with a payment, which reads the counter:
 * terminal 1 paid 1.00 (its TMAC entry), then 2.00 that the card took and
 * answered, the TMAC entry lost (journaled as a lost answer), then it
 * restarted. The card paid 2.00 at terminal 2 from the counter after, and
 * whoever holds terminal 2's bundle rewrote that entry (and its TMAC
 * entry's copy) to claim the counter terminal 1's payment began at, then
 * exported it anew under terminal 2's journal key. The TMV still holds
 * (over the counter the card read), so the entry is altered (tmv_altered,
 * the card blocked), and the counter its TMV covers is not terminal 1's:
 * nothing is reversed (25.00 on the account, the card's), the counter seen
 * twice a doubt naming terminal 1's payment, and the TMC that payment
 * stepped without a TMAC entry a tmc_gap, for a person. Reading the
 * rewritten entry's counter instead reversed a payment the card took
 * (checked with this branch's first commit). */
static void test_tmac_answered_then_crashed_altered_proof(void **state)
{
    struct fixture *f = *state;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const struct till_package pkg = {.floors = &fl, .floor_count = 1};
    struct terminal_request pay = till_request(TERMINAL_PAY, 0, 100, 0);
    struct terminal_result r;
    struct journal_entry a[6], b[4], taken[4];
    struct journal_tmac ma, mb;
    struct ledger_reconcile_counts k;
    struct found fd = {0};
    struct ledger_card card;
    char want[LEDGER_RECONCILE_EVIDENCE], ea[32], eb[32];
    unsigned commit;
    struct till t1, t2;

    tmac_layout2 = true;
    tmac_card_of(f, "desfire-ev3");
    tmac_layout2 = false;
    till_keyed_pkg(&t1, f, 1, 1, TILL_NOW, &pkg);
    assert_int_equal(till_tap(&t1, &pay, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    commit = r.round_trips;
    t1.now.utc_seconds += 60;
    pay.pay_cents = 200;
    cardsim_set_tear(reader_sim_card(t1.r), &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_ANSWER,
                                                                   commit, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&t1, &pay, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    t1.now.utc_seconds += 120;
    till_restart(&t1);
    away(&t1);
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 120, &pkg);
    tap_done(&t2, TERMINAL_PAY, 0, 200);
    assert_int_equal(till_entries(&t1, a, 6), 3); /* pay, its TMAC entry, the second pay */
    assert_int_equal(till_entries(&t2, b, 4), 2);
    till_close(&t2);
    assert_int_equal(b[0].counter_before, a[2].counter_after);
    b[0].counter_before = b[1].counter_before = a[2].counter_before;
    b[0].counter_after = b[1].counter_after = a[2].counter_after;
    assert_int_equal(import_first(&t1, f, 0), 4);
    till_close(&t1);
    journal_again_at(f, 2, TILL_NOW + 120, b, 2, taken);
    assert_int_equal(tmac_checked * 10 + tmac_bad, 11u);
    desk_fixture_balances(f, f->account, 2500, 25);

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found, 3);
    assert_int_equal(k.fraud, 1);
    assert_int_equal(k.blocked, 1);
    assert_int_equal(k.resolved, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 3);
    tmac_evidence(&taken[1], want, sizeof want);
    assert_string_equal(fd.v[0].kind, "tmv_altered");
    assert_string_equal(fd.v[0].evidence, want);
    assert_int_equal(fd.v[0].terminal_id, 2);
    ev(&a[2], ea, sizeof ea);
    ev(&taken[0], eb, sizeof eb);
    snprintf(want, sizeof want, "%s then %s at counter %u", ea, eb, a[2].counter_before);
    assert_string_equal(fd.v[1].kind, "doubt");
    assert_string_equal(fd.v[1].state, "open");
    assert_string_equal(fd.v[1].evidence, want);
    /* The TMC terminal 1's answered payment stepped, which no TMAC entry reports. */
    assert_int_equal(journal_tmac_get(&a[1], &ma), LEAL_OK);
    assert_int_equal(journal_tmac_get(&taken[1], &mb), LEAL_OK);
    snprintf(want, sizeof want, "tmc %u..%u", ma.tmc, mb.tmc);
    assert_int_equal(mb.tmc, ma.tmc + 2);
    assert_string_equal(fd.v[2].kind, "tmc_gap");
    assert_string_equal(fd.v[2].evidence, want);
    assert_false(fd.v[2].fraud);
    assert_int_equal(fd.v[2].terminal_id, 1);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_BLOCKED);
    desk_fixture_balances(f, f->account, 2500, 25); /* nothing reversed */
}

/* A copy of the card into `to` whose Transaction MAC file holds another key
 * than the card's: a clone of everything a terminal's keys open, without
 * the tmac key that only the card and the host hold, so no TMV it gives
 * holds. */
static void clone_without_tmac_key(struct fixture *f, const char *to)
{
    uint8_t key[16], *data = NULL;
    char hex[33], *at;
    long n = test_read_file(f->card, &data);
    FILE *fp;
    assert_true(n > 0);
    data[n] = '\0';
    till_tmac_key(f, key);
    assert_int_equal(leal_hex_encode(key, sizeof key, false, hex, sizeof hex), LEAL_OK);
    at = strstr((char *)data, hex);
    assert_non_null(at);
    memset(at, '5', 32);
    assert_null(strstr((char *)data, hex));
    fp = fopen(to, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, (size_t)n, fp), (size_t)n);
    assert_int_equal(fclose(fp), 0);
    leal_wipe(key, sizeof key);
    leal_wipe(hex, sizeof hex);
    free(data);
}

/* The card file at `from` into the card's place (the next reader opened
 * sees it); the one there kept at `keep` (NULL: dropped). */
static void swap_card(struct fixture *f, const char *from, const char *keep_at)
{
    if (keep_at != NULL)
        desk_fixture_copy(f->card, keep_at);
    desk_fixture_copy(from, f->card);
}

/* The two findings a clone's earn beside the card's leaves: the fraud of
 * kind against terminal (evidence: TMAC entry t's), the card blocked, and
 * the balance the card's newest tap shows (35) against the account's 45
 * (both earns posted: nothing reversed). */
static void expect_clone_earn(struct fixture *f, const struct ledger_reconcile_counts *k,
                              const char *kind, const struct journal_entry *t, int64_t terminal)
{
    struct found fd = {0};
    struct ledger_card card;
    char want[LEDGER_RECONCILE_EVIDENCE];
    assert_int_equal(k->found, 2);
    assert_int_equal(k->fraud, 1);
    assert_int_equal(k->blocked, 1);
    assert_int_equal(k->resolved, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 2);
    tmac_evidence(t, want, sizeof want);
    assert_string_equal(fd.v[0].kind, kind);
    assert_true(fd.v[0].fraud);
    assert_string_equal(fd.v[0].evidence, want);
    assert_int_equal(fd.v[0].terminal_id, terminal);
    assert_string_equal(fd.v[1].kind, "balance");
    assert_string_equal(fd.v[1].state, "open");
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    assert_int_equal(card.status, LEDGER_CARD_BLOCKED);
    desk_fixture_balances(f, f->account, 3000, 45); /* nothing reversed */
}

/* Terminal 1's earn reached the card and the card answered it, but
 * terminal 1 went down before it journaled the TMAC entry (its journal as
 * after a commit whose answer was lost, made so here: the earn and nothing
 * after it; the card committed it, its seq and TMC stepped), then
 * restarted: the card, at the earn's seq after, settles nothing there. Its
 * earn counts as unanswered, yet nothing reverses it: with clone, a copy
 * of the card from before that earn, without the card's tmac key, earns
 * from the same step at terminal 2; its TMV does not hold (tmv_forged,
 * fraud against terminal 2, the card blocked, beside the balance the
 * clone's tap shows), so it proves nothing and both earns stay posted
 * (45). Without, the card itself earns at terminal
 * 2 from the seq after (TMV ok): nothing found, 45 on the account and on
 * the card. Main's code did the same (it reversed nothing without a
 * settle); the case is here so that it stays so. */
static void answered_then_crashed(struct fixture *f, bool clone)
{
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const struct till_package pkg = {.floors = &fl, .floor_count = 1};
    struct terminal_request earn = till_request(TERMINAL_EARN, 1000, 0, 0);
    struct terminal_result r;
    struct journal_entry a[4], b[4];
    struct ledger_reconcile_counts k;
    struct ledger_card card;
    struct found fd = {0};
    struct state_body sa, sb;
    bool found_a = false, found_b = false;
    char copy[600], genuine[600];
    struct till t1, t2;

    snprintf(copy, sizeof copy, "%s.clone", f->card);
    snprintf(genuine, sizeof genuine, "%s.genuine", f->card);
    tmac_card_of(f, "desfire-ev3");
    clone_without_tmac_key(f, copy);
    till_keyed_pkg(&t1, f, 1, 1, TILL_NOW, &pkg);
    cardsim_set_tear(reader_sim_card(t1.r),
                     &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_ANSWER, 6, CARDSIM_TORN_OLD, 0});
    assert_int_equal(till_tap(&t1, &earn, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_IN_DOUBT);
    t1.now.utc_seconds += 120;
    till_restart(&t1);
    away(&t1);
    if (clone)
        swap_card(f, copy, genuine);
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 60, &pkg);
    tap_done(&t2, TERMINAL_EARN, 1000, 0);
    away(&t2);
    if (clone)
        swap_card(f, genuine, NULL);
    assert_int_equal(till_entries(&t1, a, 4), 1);
    assert_int_equal(till_entries(&t2, b, 4), 2);
    journal_state_of(&a[0], &sa, &found_a);
    journal_state_of(&b[0], &sb, &found_b);
    assert_true(found_a && found_b);
    assert_int_equal(sb.seq, clone ? sa.seq : sa.seq + 1);
    assert_int_equal(import_first(&t1, f, 0), 2);
    assert_int_equal(import_first(&t2, f, 0), 3);
    assert_int_equal(tmac_checked * 10 + tmac_bad, clone ? 11u : 10u);
    till_close(&t1);
    till_close(&t2);
    desk_fixture_balances(f, f->account, 3000, 45);

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.resolved, 0);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &card), LEAL_OK);
    desk_fixture_balances(f, f->account, 3000, 45); /* nothing reversed */
    if (!clone) {
        assert_int_equal(k.found + k.open + k.fraud + k.blocked, 0);
        assert_int_equal(fd.n, 0);
        assert_int_equal(card.status, LEDGER_CARD_ACTIVE);
        return;
    }
    expect_clone_earn(f, &k, "tmv_forged", &b[1], 2);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.resolved + k.blocked, 0);
    desk_fixture_balances(f, f->account, 3000, 45);
}

static void test_tmac_answered_then_crashed(void **state)
{
    answered_then_crashed(*state, false);
}

static void test_tmac_answered_then_crashed_clone_same_step(void **state)
{
    answered_then_crashed(*state, true);
}

/* A real clone: a copy of the card without its tmac key earns at terminal
 * 1, which restarts after; the card itself earns the same from the same
 * step at terminal 2 (imported first: its TMV holds). The clone answered
 * its commit (TMC and a TMV that cannot hold), so terminal 1 journaled a
 * TMAC entry after its earn: the earn was answered, is no torn write and
 * is not reversed. The clone's TMC is the card's, already proved: a
 * tmc_replay finding (fraud against terminal 1), the card blocked, both
 * earns posted for a person to review (the card's tap, the newest, shows
 * 35 against them: a balance finding). Main's code did the same. */
static void test_tmac_restart_real_clone(void **state)
{
    struct fixture *f = *state;
    struct package_floor fl = {
        TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC, 1, 0, {0}};
    const struct till_package pkg = {.floors = &fl, .floor_count = 1};
    struct journal_entry a[4], b[4];
    struct ledger_reconcile_counts k;
    char copy[600], genuine[600];
    struct till t1, t2;

    snprintf(copy, sizeof copy, "%s.clone", f->card);
    snprintf(genuine, sizeof genuine, "%s.genuine", f->card);
    tmac_card_of(f, "desfire-ev3");
    clone_without_tmac_key(f, copy);
    swap_card(f, copy, genuine);
    till_keyed_pkg(&t1, f, 1, 1, TILL_NOW, &pkg);
    tap_done(&t1, TERMINAL_EARN, 1000, 0);
    till_restart(&t1);
    away(&t1);
    swap_card(f, genuine, NULL);
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 60, &pkg);
    tap_done(&t2, TERMINAL_EARN, 1000, 0);
    assert_int_equal(till_entries(&t1, a, 4), 2); /* the clone's earn, its TMAC entry */
    assert_int_equal(a[1].op, JOURNAL_OP_TMAC);
    assert_int_equal(import_first(&t2, f, 0), 3);
    assert_int_equal(tmac_checked * 10 + tmac_bad, 10u);
    assert_int_equal(import_first(&t1, f, 0), 3);
    assert_int_equal(tmac_checked * 10 + tmac_bad, 11u);
    assert_int_equal(till_entries(&t2, b, 4), 2);
    till_close(&t1);
    till_close(&t2);
    desk_fixture_balances(f, f->account, 3000, 45);

    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    expect_clone_earn(f, &k, "tmc_replay", &a[1], 1);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.resolved + k.blocked, 0);
    desk_fixture_balances(f, f->account, 3000, 45);
}

/* The genuine journal: every TMV holds, nothing found. */
static void test_tmac_genuine(void **state)
{
    struct fixture *f = *state;
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct journal_export_info info;
    struct sync_result r;
    struct ledger_reconcile_counts c;
    struct journal_entry e[4];
    struct till t;
    uint8_t *buf = malloc(EXPORT_CAP);
    assert_non_null(buf);
    tmac_taps(f, &t, e);
    assert_int_equal(journal_export(&t.j, buf, EXPORT_CAP, &info), LEAL_OK);
    assert_int_equal(sync_import(f->ledger, &k, buf, info.len, &r), LEAL_OK);
    free(buf);
    till_close(&t);
    assert_int_equal(r.taken, 5);
    assert_int_equal(r.tmac_checked, 2);
    assert_int_equal(r.tmac_bad, 0);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &c), LEAL_OK);
    assert_int_equal(c.found, 0);
    assert_int_equal(c.open, 0);
    desk_fixture_balances(f, f->account, 5000 - 300, 25 + 10 + 3);
}

/* The same on a layout-3 card: the pay + earn in 7 (counter none, the TMAC
 * entry's flags 80 | 40 | 10 | 04, the mirror read as its purse) is taken
 * and its TMV proved; nothing found. A thief who changes what the mirror
 * said (the entry's purse after and the TMAC entry's mirror, 50.00 ->
 * 60.00) keeps the card's TMV, which the mirror is an input of: forged. */
static void test_tmac_mirror(void **state)
{
    struct fixture *f = *state;
    const struct sync_keys k = {crypto_openssl(), f->keys};
    struct journal_export_info info;
    struct sync_result r;
    struct ledger_reconcile_counts c;
    struct journal_entry e[4];
    struct journal_tmac m;
    struct till t;
    uint8_t *buf = malloc(EXPORT_CAP);
    assert_non_null(buf);
    tmac_mirror = true;
    tmac_taps(f, &t, e);
    tmac_mirror = false;
    assert_int_equal(e[2].op, JOURNAL_OP_PAY_EARN);
    assert_int_equal(e[2].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[2].purse_after, 4700);
    assert_int_equal(journal_tmac_get(&e[3], &m), LEAL_OK);
    assert_int_equal(m.flags, JOURNAL_TMAC_MIRROR | JOURNAL_TMAC_NO_COUNTER |
                                  JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_DEBIT);
    assert_int_equal(m.purse, 5000);
    assert_int_equal(journal_export(&t.j, buf, EXPORT_CAP, &info), LEAL_OK);
    assert_int_equal(sync_import(f->ledger, &k, buf, info.len, &r), LEAL_OK);
    free(buf);
    till_close(&t);
    assert_int_equal(r.taken, 5);
    assert_int_equal(r.tmac_checked, 2);
    assert_int_equal(r.tmac_bad, 0);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &c), LEAL_OK);
    assert_int_equal(c.found, 0);
    assert_int_equal(c.open, 0);
    desk_fixture_balances(f, f->account, 5000 - 300, 25 + 10 + 3);
}

static void test_tmac_mirror_forged(void **state)
{
    struct fixture *f = *state;
    struct journal_entry e[4], taken[4];
    struct journal_tmac m;
    struct till t;
    char want[LEDGER_RECONCILE_EVIDENCE];
    tmac_mirror = true;
    tmac_taps(f, &t, e);
    tmac_mirror = false;
    till_close(&t);
    e[2].purse_after += 1000;
    assert_int_equal(journal_tmac_get(&e[3], &m), LEAL_OK);
    m.purse += 1000;
    journal_tmac_put(&m, &e[3]);
    journal_again(f, e, 4, taken);
    tmac_evidence(&taken[3], want, sizeof want);
    assert_string_equal(want, "t1/e1780000000/s5 tmc 3");
    expect_fraud(f, "tmv_forged", want, 1);
}

/* A forged TMV: the thief raises the earn's points in the entry and in the
 * TMAC entry's copy of the state the card wrote, and keeps the card's TMV
 * (it cannot make another without the card's tmac key). */
static void test_tmac_forged(void **state)
{
    struct fixture *f = *state;
    struct journal_entry e[4], taken[4];
    struct journal_tmac m;
    struct till t;
    char want[LEDGER_RECONCILE_EVIDENCE];
    tmac_taps(f, &t, e);
    till_close(&t);
    e[0].points += 100;
    e[0].points_after += 100;
    e[0].lines[0].points += 100;
    assert_int_equal(journal_tmac_get(&e[1], &m), LEAL_OK);
    store_be32(m.state_after + 13, load_be32(m.state_after + 13) + 100);
    journal_tmac_put(&m, &e[1]);
    journal_again(f, e, 2, taken);
    tmac_evidence(&taken[1], want, sizeof want);
    assert_string_equal(want, "t1/e1780000000/s3 tmc 2");
    expect_fraud(f, "tmv_forged", want, 1);
}

/* An entry altered after the commit: the thief raises the earn's points in
 * its entry only; the TMAC entry is the card's (its TMV holds). */
static void test_tmac_altered(void **state)
{
    struct fixture *f = *state;
    struct journal_entry e[4], taken[4];
    struct till t;
    char want[LEDGER_RECONCILE_EVIDENCE];
    tmac_taps(f, &t, e);
    till_close(&t);
    e[0].points += 100;
    e[0].points_after += 100;
    e[0].lines[0].points += 100;
    journal_again(f, e, 4, taken);
    tmac_evidence(&taken[1], want, sizeof want);
    assert_string_equal(want, "t1/e1780000000/s3 tmc 2");
    expect_tmac_fraud(f, "tmv_altered", want, "balance");
}

/* The same on the pay + earn, which read and debited the counter (flag 40
 * is only the earn's): its points raised in its entry only. */
static void test_tmac_altered_counted(void **state)
{
    struct fixture *f = *state;
    struct journal_entry e[4], taken[4];
    struct till t;
    char want[LEDGER_RECONCILE_EVIDENCE];
    tmac_taps(f, &t, e);
    till_close(&t);
    assert_int_equal(e[2].counter_before, 1);
    e[2].points += 100;
    e[2].points_after += 100;
    e[2].lines[0].points += 100;
    journal_again(f, e, 4, taken);
    tmac_evidence(&taken[3], want, sizeof want);
    assert_string_equal(want, "t1/e1780000000/s5 tmc 3");
    expect_fraud(f, "tmv_altered", want, 1);
}

/* An earn that read no counter (its TMAC entry's flag 40, both entries'
 * counters JOURNAL_COUNTER_NONE) rewritten to claim the counter 0 to 1:
 * the card's TMV holds over a TMI without the counter's commands, so the
 * entry says another counter than the card committed: altered. */
static void test_tmac_no_counter_altered(void **state)
{
    struct fixture *f = *state;
    struct journal_entry e[4], taken[4];
    struct journal_tmac m;
    struct till t;
    char want[LEDGER_RECONCILE_EVIDENCE];
    tmac_taps(f, &t, e);
    till_close(&t);
    assert_int_equal(journal_tmac_get(&e[1], &m), LEAL_OK);
    assert_int_equal(m.flags, JOURNAL_TMAC_STATE_WRITTEN | JOURNAL_TMAC_NO_COUNTER);
    assert_int_equal(e[0].counter_before, JOURNAL_COUNTER_NONE);
    assert_int_equal(e[1].counter_after, JOURNAL_COUNTER_NONE);
    e[0].counter_before = 0;
    e[0].counter_after = 1;
    journal_again(f, e, 4, taken);
    tmac_evidence(&taken[1], want, sizeof want);
    assert_string_equal(want, "t1/e1780000000/s3 tmc 2");
    expect_fraud(f, "tmv_altered", want, 1);
    struct found fd = {0};
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, true, keep, &fd), LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_non_null(strstr(fd.v[0].detail, "says another counter than the card committed"));
}

/* A replayed TMC: the thief journals the earn a second time with its
 * genuine TMAC entry copied (the same TMC, another operation entry). The
 * earn read no counter (flag 40), so the counter walk does not see the copy
 * (no clone): the TMC does, and the points booked twice, which the card
 * does not show. */
static void test_tmac_replayed(void **state)
{
    struct fixture *f = *state;
    struct journal_entry e[6], taken[6];
    struct till t;
    char want[LEDGER_RECONCILE_EVIDENCE];
    tmac_taps(f, &t, e);
    till_close(&t);
    e[4] = e[0];
    e[5] = e[1];
    e[5].ref_seq = 6; /* the copy's own operation entry (EPOCH is 1) */
    journal_again(f, e, 6, taken);
    assert_int_equal(taken[5].ref_seq, taken[4].seq);
    tmac_evidence(&taken[5], want, sizeof want);
    assert_string_equal(want, "t1/e1780000000/s7 tmc 2");
    expect_tmac_fraud(f, "tmc_replay", want, "balance");
}

/* The findings of program 7 (open ones), into fd; exactly n of them. */
static void open_findings(struct fixture *f, struct found *fd, unsigned n)
{
    memset(fd, 0, sizeof *fd);
    assert_int_equal(ledger_reconcile_list(f->ledger, 7, 0, false, keep, fd), LEAL_OK);
    assert_int_equal(fd->n, n);
}

/* A dropped TMAC entry: three taps (earn, pay + earn, earn: TMC 2, 3, 4),
 * and the thief writes the journal anew without the pay + earn's TMAC
 * entry (the operation's entry stays, so the points and the purse agree
 * and the counter shows no gap). The card's TMCs skip 3: one tmc_gap,
 * naming the operation journaled without it; not fraud, the card stays
 * active; found once. */
static void test_tmac_dropped(void **state)
{
    struct fixture *f = *state;
    struct journal_entry e[6], x[5], taken[5];
    struct ledger_reconcile_counts k;
    struct ledger_card c;
    struct found fd;
    struct till t;
    char want[LEDGER_RECONCILE_DETAIL];
    tmac_card(f, &t);
    tap_done(&t, TERMINAL_EARN, 1000, 0);
    tap_done(&t, TERMINAL_PAY_EARN, 300, 300);
    tap_done(&t, TERMINAL_EARN, 500, 0);
    assert_int_equal(till_entries(&t, e, 6), 6);
    assert_int_equal(e[3].op, JOURNAL_OP_TMAC);
    till_close(&t);
    x[0] = e[0];
    x[1] = e[1];
    x[2] = e[2];
    x[3] = e[4];
    x[4] = e[5];
    x[4].ref_seq = 5; /* the last earn's own entry in the new journal (EPOCH is 1) */
    journal_again(f, x, 5, taken);
    assert_int_equal(taken[4].ref_seq, taken[3].seq);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found, 1);
    assert_int_equal(k.fraud + k.blocked, 0);
    assert_int_equal(k.open, 1);
    open_findings(f, &fd, 1);
    assert_string_equal(fd.v[0].kind, "tmc_gap");
    assert_false(fd.v[0].fraud);
    assert_int_equal(fd.v[0].card_id, (int64_t)TILL_CARD_ID);
    assert_int_equal(fd.v[0].terminal_id, 1);
    assert_string_equal(fd.v[0].evidence, "tmc 2..4");
    /* the earns read no counter (flag 40): the pay + earn's is 1 to 2 */
    assert_int_equal(taken[0].counter_after, JOURNAL_COUNTER_NONE);
    assert_int_equal(taken[2].counter_after, 2);
    snprintf(want, sizeof want,
             "card %lld committed 1 transaction(s) between TMC 2 (t1/e1780000000/s3) and 4 "
             "(t1/e1780000000/s6) that no TMAC entry reports; 1 journaled without it (first "
             "t1/e1780000000/s4, counter 2: a torn commit, a full journal, an older package or a "
             "hidden TMV): review",
             (long long)TILL_CARD_ID);
    assert_string_equal(fd.v[0].detail, want);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &c), LEAL_OK);
    assert_int_equal(c.status, LEDGER_CARD_ACTIVE);
    desk_fixture_balances(f, f->account, 5000 - 300, 25 + 10 + 3 + 5);
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.resolved, 0);
    assert_int_equal(k.open, 1);
    /* The run's one TMC query, read alongside the entries, finds the skip
     * again (else the finding would be resolved) whatever the scope: the
     * whole ledger, the card alone; another program or card walks nothing. */
    assert_int_equal(ledger_reconcile(f->ledger, 0, 0, &k), LEAL_OK);
    assert_int_equal(k.found + k.resolved, 0);
    assert_int_equal(k.cards * 10 + k.open, 11);
    assert_int_equal(ledger_reconcile(f->ledger, 0, (int64_t)TILL_CARD_ID, &k), LEAL_OK);
    assert_int_equal(k.found + k.resolved, 0);
    assert_int_equal(k.cards * 10 + k.open, 11);
    assert_int_equal(ledger_reconcile(f->ledger, 8, 0, &k), LEAL_OK);
    assert_int_equal(k.cards + k.found + k.resolved + k.open, 0);
    assert_int_equal(ledger_reconcile(f->ledger, 0, (int64_t)TILL_CARD_ID + 1, &k), LEAL_OK);
    assert_int_equal(k.cards + k.found + k.resolved + k.open, 0);
    open_findings(f, &fd, 1);
    assert_string_equal(fd.v[0].evidence, "tmc 2..4");
}

/* Between two taps journaled with their TMAC entries, a write no journal
 * the host holds reports (a terminal whose package predates the card's
 * file stands in for the desk's top-up: the ledger gets the desk's entry and
 * the counter the desk saw): the card's TMCs skip one, its counter steps
 * with it, and nothing is found. */
static void test_tmac_desk_write_is_no_gap(void **state)
{
    struct fixture *f = *state;
    struct package_floor old = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, PACKAGE_FLOOR_EV2, 1, 0, {0}};
    struct journal_entry a[4], b[2];
    struct ledger_reconcile_counts k;
    struct journal_tmac m;
    struct till t1, t2;
    tmac_card(f, &t1);
    tap_done(&t1, TERMINAL_EARN, 1000, 0);
    away(&t1);
    till_keyed_pkg(&t2, f, 2, 2, TILL_NOW + 120,
                   &(struct till_package){.floors = &old, .floor_count = 1});
    tap_done(&t2, TERMINAL_PAY, 0, 200);
    assert_int_equal(till_entries(&t2, b, 2), 1);
    till_close(&t2);
    post_eur(f, "spend", -200, "desk payment");
    assert_int_equal(ledger_card_set_counter(f->ledger, (int64_t)TILL_CARD_ID, b[0].counter_after),
                     LEAL_OK);
    till_present(&t1);
    tap_done(&t1, TERMINAL_EARN, 500, 0);
    assert_int_equal(import(&t1, f, a, 4), 4);
    till_close(&t1);
    assert_int_equal(journal_tmac_get(&a[3], &m), LEAL_OK);
    assert_int_equal(m.tmc, 4); /* 2, then the write's 3 that no journal reports */
    assert_int_equal(ledger_reconcile(f->ledger, 7, 0, &k), LEAL_OK);
    assert_int_equal(k.cards, 1);
    assert_int_equal(k.found + k.open, 0);
    desk_fixture_balances(f, f->account, 5000 - 200, 25 + 10 + 5);
}

/* --- the desk's read of the card's TMC (LAYOUT.md 2.9, issue 19) --- */

/* tmac_card's EV3 earning twice at terminal 1 (TMC 2 and 3; no payment, so
 * the purse on a copy of the card from before them is what the ledger
 * holds) and its journal
 * imported: both TMVs proved with the card's tmac key. dump (when not
 * NULL): the card's file as it was before the taps (TMC 1: the purse credit
 * that made it). */
static void tmac_imported(struct fixture *f, const char *dump)
{
    struct journal_entry e[4];
    struct journal_tmac m;
    struct till t;
    tmac_card(f, &t);
    if (dump)
        desk_fixture_copy(f->card, dump);
    tap_done(&t, TERMINAL_EARN, 1000, 0);
    tap_done(&t, TERMINAL_EARN, 300, 0);
    away(&t);
    assert_int_equal(import(&t, f, e, 4), 4);
    till_close(&t);
    assert_int_equal(journal_tmac_get(&e[3], &m), LEAL_OK);
    assert_int_equal(m.tmc, 3);
}

/* The desk reads the card after the taps: its TMC as the card counts it (3:
 * the credit that made it and the two taps), the proved TMCs not ahead of
 * it, the card agreeing; one exchange more than the read of a card without
 * the file (ReadData 0x0F: 10 RT at version 2), named in the desk's line. */
static void test_desk_reads_tmc(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v;
    struct desk_card_view w;
    struct ledger_card c;
    struct reader *r;
    uint8_t ver[LEDGER_KEY_ROLES];
    char line[512];
    tmac_imported(f, NULL);
    /* The other keys' versions recorded as issuance records them, so the
     * read re-keys nothing (and costs nothing more). */
    memset(ver, 0, sizeof ver);
    for (int k = KEY_ROLE_PICC_MASTER; k <= KEY_ROLE_TERMINAL; k++) { /* roles 1..4 */
        const struct key_version *kv;
        assert_int_equal(keyset_current(f->keys, 7, (enum key_role)k, &kv), LEAL_OK);
        ver[k - 1] = kv->version;
    }
    assert_int_equal(ledger_card_keys_set(f->ledger, (int64_t)TILL_CARD_ID, ver), LEAL_OK);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    reader_close(r);
    assert_true(v.has_tmc);
    assert_int_equal(v.tmc, 3);
    assert_int_equal(v.taps, 1); /* the credit's: the earns read no counter (flag 40) */
    assert_true(v.agrees);
    assert_int_equal(v.round_trips, 10);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &c), LEAL_OK);
    assert_int_equal(c.status, LEDGER_CARD_ACTIVE);
    desk_card_view(f->ledger, &v, DESK_VIEW_READ, &w);
    assert_true(w.has_tmc);
    assert_int_equal(w.tmc, 3);
    desk_card_view_line(&w, line, sizeof line);
    assert_non_null(strstr(line, ", taps 1, TMC 3; ledger agrees"));
    desk_fixture_balances(f, f->account, 5000, 25 + 10 + 3);
}

/* The card's file as it was before the taps, presented at the desk before
 * any desk read saw the taps (so its counter is not behind what the desk
 * saw): its TMC 1 is behind the TMC 3 the card's own MAC proved in the
 * journal: blocked, the reason in its history, nothing posted. */
static void test_desk_tmc_behind(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v;
    struct last_event le = {0};
    struct ledger_card c;
    struct reader *r;
    char dump[600];
    const char *why =
        "its Transaction MAC counter shows TMC 1, behind the TMC 3 the card's own MAC "
        "proved in a terminal's journal: a restored copy or a clone";
    snprintf(dump, sizeof dump, "%s.dump", f->card);
    tmac_imported(f, dump);
    desk_fixture_copy(dump, f->card);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_E_CARD_TAMPERED);
    reader_close(r);
    unlink(dump);
    assert_true(v.has_tmc);
    assert_int_equal(v.tmc, 1);
    assert_int_equal(v.taps, 1);
    assert_true(v.verdict);
    assert_false(v.agrees);
    assert_string_equal(v.why, why);
    assert_int_equal(ledger_card_find_by_id(f->ledger, (int64_t)TILL_CARD_ID, &c), LEAL_OK);
    assert_int_equal(c.status, LEDGER_CARD_BLOCKED);
    assert_int_equal(c.last_counter, 0); /* nothing recorded from the copy */
    assert_int_equal(ledger_card_history(f->ledger, (int64_t)TILL_CARD_ID, last_event, &le),
                     LEAL_OK);
    assert_string_equal(le.e.reason, why);
    desk_fixture_balances(f, f->account, 5000, 25 + 10 + 3);
}

/* The next package after the taps' import: the card's floor carries the
 * TMC 3 the card's own MAC proved (PACKAGE.md, flag bit 2), beside the taps
 * the journals read (2: the second earn's counter before); a terminal with
 * that floor takes the genuine card, whose commit answers TMC 4. A copy of
 * the card before the taps is refused before anything is written (its
 * counter is behind too: the TMC floor is for a tap that does not read the
 * counter, terminal_ev2_test test_tmc_floor). */
static void test_package_floor_tmc(void **state)
{
    struct fixture *f = *state;
    struct package_build_opts po = {1, TILL_NOW, 7, 10000, 30000};
    struct package_info info;
    struct package_floor fl;
    struct terminal_request q = till_request(TERMINAL_EARN, 100, 0, 0);
    struct terminal_result r;
    struct till t;
    uint8_t *pkg = NULL;
    size_t len = 0;
    bool found = false;
    char dump[600];
    snprintf(dump, sizeof dump, "%s.dump", f->card);
    tmac_imported(f, dump);
    assert_int_equal(package_build(f->ledger, f->keys, &po, &pkg, &len, &info), LEAL_OK);
    assert_int_equal(
        package_floor_find(&info, &(struct package_source){package_memory_read, pkg, (uint32_t)len},
                           TILL_CARD_ID, &found, &fl),
        LEAL_OK);
    free(pkg);
    assert_true(found);
    assert_int_equal(fl.kind, PACKAGE_FLOOR_DESFIRE);
    assert_int_equal(fl.flags, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC);
    assert_int_equal(fl.taps, 0); /* no entry read the counter: the earns' TMCs stood for it */
    assert_int_equal(package_floor_tmc(&fl), 3);

    till_keyed_pkg(&t, f, 2, 2, TILL_NOW, &(struct till_package){.floors = &fl, .floor_count = 1});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_true(r.tmac);
    assert_int_equal(r.tmc, 4);
    away(&t);
    desk_fixture_copy(dump, f->card);
    unlink(dump);
    till_present(&t);
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, LEAL_E_TERMINAL_TMC_BEHIND); /* no counter read: the TMC's */
    assert_true(r.tmac);
    assert_int_equal(r.tmc, 2);
    assert_int_equal(r.round_trips, 6);
    till_close(&t);
}

/* A host change for a card with the Transaction MAC file (PACKAGE.md
 * "Exactly once"): the package built after the taps' import carries it at
 * the card's taps (3) and, marked at seq, at the state seq the second
 * earn's proved TMAC entry left; a terminal applies it only to a card whose
 * state shows that seq, whatever its counter (the same record one seq off:
 * not applied; at taps 2: applied; the card as before restored each time), once: a second terminal
 * holding the same record, not synced, finds the seq moved and applies nothing. */
static void test_package_pending_at_seq(void **state)
{
    struct fixture *f = *state;
    struct package_build_opts po = {1, TILL_NOW, 7, 10000, 30000};
    struct package_info info;
    struct package_floor fl;
    struct package_pending pend, off;
    struct ledger_host_change hc;
    struct terminal_request q = till_request(TERMINAL_EARN, 100, 0, 0);
    struct terminal_result r;
    struct journal_entry e;
    struct card_view v;
    struct till t;
    uint8_t *pkg = NULL;
    size_t len = 0;
    bool found = false, waiting = false;
    char dump[600];
    snprintf(dump, sizeof dump, "%s.dump", f->card);
    tmac_imported(f, NULL);
    till_read_desfire(f, &v);
    assert_int_equal(v.taps, 1); /* the earns read no counter (flag 40) */
    assert_int_equal(v.state.seq, 3);
    desk_fixture_post_points(f, f->account, 40, "adj-40");
    assert_int_equal(ledger_host_change_get(f->ledger, (int64_t)TILL_CARD_ID, &hc, &waiting),
                     LEAL_OK);
    assert_true(waiting);
    assert_int_equal(hc.taps, 0); /* no entry read the counter */
    assert_int_equal(hc.seq, 3);  /* the seq the newest proved TMC (3, no counter) left */
    assert_int_equal(package_build(f->ledger, f->keys, &po, &pkg, &len, &info), LEAL_OK);
    struct package_source src = {package_memory_read, pkg, (uint32_t)len};
    assert_int_equal(package_floor_find(&info, &src, TILL_CARD_ID, &found, &fl), LEAL_OK);
    assert_true(found);
    assert_int_equal(fl.flags, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC);
    assert_int_equal(info.pending_count, 1);
    assert_int_equal(package_pending_at(&info, &src, 0, &pend), LEAL_OK);
    assert_int_equal(pend.card_id, TILL_CARD_ID);
    assert_int_equal(pend.taps, 0);
    assert_int_equal(pend.points, 40);
    assert_int_equal(pend.kinds, PACKAGE_CHANGE_ADJUST | PACKAGE_CHANGE_AT_SEQ);
    assert_int_equal(pend.seq, 3);
    /* the record's bytes 20..23: kinds, then the seq's low 24 bits */
    assert_memory_equal(pkg + info.pending_offset + 20, "\x21\x00\x00\x03", 4);
    free(pkg);

    /* The same record at seq 2 (the taps right, the state not the one the
     * host saw there): the earn goes on, the change waits. */
    desk_fixture_copy(f->card, dump);
    off = pend;
    off.seq = 2;
    till_keyed_pkg(&t, f, 2, 2, TILL_NOW,
                   &(struct till_package){
                       .floors = &fl, .floor_count = 1, .pending = &off, .pending_count = 1});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 25 + 10 + 3 + 1);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_TMAC);
    assert_int_equal(till_entries(&t, NULL, 0), 2);
    till_close(&t);
    desk_fixture_copy(dump, f->card);

    /* At seq 3 with taps 2 (a counter the card is past, say a desk top-up
     * since that wrote no state): the seq guards it, applied. */
    off = pend;
    off.taps = 2;
    till_keyed_pkg(&t, f, 2, 2, TILL_NOW,
                   &(struct till_package){
                       .floors = &fl, .floor_count = 1, .pending = &off, .pending_count = 1});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 25 + 10 + 3 + 40 + 1);
    till_close(&t);
    desk_fixture_copy(dump, f->card);
    unlink(dump);

    /* At seq 3: applied, in the earn's write, journaled in its host line. */
    till_keyed_pkg(&t, f, 2, 2, TILL_NOW,
                   &(struct till_package){
                       .floors = &fl, .floor_count = 1, .pending = &pend, .pending_count = 1});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 25 + 10 + 3 + 40 + 1);
    assert_int_equal(r.after.seq, 4);
    struct journal_entry two[2];
    assert_int_equal(till_entries(&t, two, 2), 2);
    assert_int_equal(two[0].op, JOURNAL_OP_EARN);
    assert_int_equal(two[0].n_lines, 4); /* base, the two state lines, the host line */
    assert_int_equal(two[0].lines[3].source, JOURNAL_LINE_HOST);
    assert_int_equal(two[0].lines[3].points, 40);
    till_close(&t);

    /* Terminal 3, the same record, not synced: the card's seq moved on. */
    till_keyed_pkg(&t, f, 3, 3, TILL_NOW,
                   &(struct till_package){
                       .floors = &fl, .floor_count = 1, .pending = &pend, .pending_count = 1});
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    assert_int_equal(r.after.points, 25 + 10 + 3 + 40 + 1 + 1);
    assert_int_equal(till_entries(&t, two, 2), 2);
    assert_int_equal(two[0].n_lines, 3); /* no host line */
    till_close(&t);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 25 + 10 + 3 + 40 + 2);
}

int main(void)
{
    const char *pg = getenv("LEAL_TEST_PG");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_terminals_in_one_second, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_clock_behind_at_another_terminal, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_genuine, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_mirror, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_mirror_forged, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_forged, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_altered, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_dropped, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_torn_then_same_step, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_altered_counted, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_no_counter_altered, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_desk_write_is_no_gap, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_restart_then_same_step_ev2, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_restart_then_same_step_ev3, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_restart_then_same_step_ev2_other_order,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_restart_then_same_step_ev3_other_order,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_restart_tmac_entry_in_later_batch,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_restart_torn_pay, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_answered_then_crashed, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_answered_then_crashed_clone_same_step,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_answered_then_crashed_altered_proof,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_restart_real_clone, desk_fixture_setup,
                                        desk_fixture_teardown),
        /* Last of the Transaction MAC cases: sync_tmac_pg.sh reads what it leaves. */
        cmocka_unit_test_setup_teardown(test_tmac_replayed, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_restored_dump, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_copy_at_two_terminals, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_torn_then_same_step, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_torn_then_same_step, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_torn_then_same_step_other_order,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_torn_then_same_step_other_order,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_both_torn_at_same_step, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_both_torn_at_same_step, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ev3_tmac_torn_then_same_step, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_torn_reversal_refused, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_gap_waits_for_the_terminal, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_restored_dump, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_restored_dump_rollback, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tampered_journals, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desk_write_between_is_no_gap, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_waiting_bonus_is_no_balance_finding,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_terminal_over_caps, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_qr_apart_from_card_caps, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_terminal_within_caps, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desk_reads_tmc, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desk_tmc_behind, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_package_floor_tmc, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_package_pending_at_seq, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    /* On PostgreSQL (sync_tmac_pg.sh): the Transaction MAC cases. */
    if (pg && pg[0])
        cmocka_set_test_filter("test_tmac_*");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
