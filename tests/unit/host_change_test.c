/* host_change_test.c - a points adjustment made at the host reaches the card
 * exactly once (issue 14; PACKAGE.md "Pending changes", JOURNAL.md host
 * line, host/ledger/ledger_host_change.h): the ledger holds the card (25
 * points, as on it) and an adjustment of +40 points and a euro correction
 * of 5.00; the package the host builds for a terminal carries +40 for the
 * card at the taps the ledger last saw, never the euros; the card is tapped
 * at terminal 1 (an earn of 10.00: the +40 rides on that write, journaled as
 * a host line) and then at terminal 2 holding the same package (an earn of
 * 5.00: the card's counter moved, so nothing is applied again), neither
 * synced; both journals are imported; the card and the ledger then agree
 * exactly (80 points), nothing waits, the next package carries nothing, the
 * desk sees no drift, and ledger verify passes. A refused tap keeps nothing
 * of the host change. A reward redeemed at a terminal and cancelled at the
 * host (its entry voided) reaches the card the same way, once.
 * The desk's window: a desk read of the card after terminal 1 applied the
 * change and before its journal is in sees the card past the taps the
 * package carried it at; then no package carries it again (terminal 2 would
 * credit it a second time) and the desk's card sync refuses to add it, until
 * the journal is in. Never stuck: a card written first where the change was
 * not (a package built before it, carried or not) gets it at its next tap at
 * any terminal once that journal is in, and a desk top-up at the carried
 * taps moves them on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "host/cardsim/cardsim.h"
#include "host/issuance/issuance.h"
#include "host/ledger/ledger_host_change.h"
#include "host/package/package_build.h"
#include "host/reader/reader.h"
#include "host/sync/sync.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/journal_gen.h"
#include "tests/lib/ledger_cards.h"
#include "tests/lib/till.h"

#define PROGRAM 7

static int64_t bal(struct fixture *f, int64_t account, const char *asset)
{
    int64_t v = -1;
    assert_int_equal(ledger_balance(f->ledger, account, asset, &v), LEAL_OK);
    return v;
}

/* Moves amount of asset between the account and a program account, by hand
 * (kind adjust) under request id req. */
static int64_t post(struct fixture *f, const char *asset, int64_t amount, const char *other,
                    const char *req)
{
    struct ledger_line ln[2] = {{0}};
    struct ledger_entry e = {0};
    int64_t id = 0, prog = 0;
    bool rep;
    assert_int_equal(ledger_program_account(f->ledger, PROGRAM, other, &prog), LEAL_OK);
    ln[0].account_id = f->account;
    ln[0].amount = amount;
    ln[1].account_id = prog;
    ln[1].amount = -amount;
    snprintf(ln[0].asset, sizeof ln[0].asset, "%s", asset);
    snprintf(ln[1].asset, sizeof ln[1].asset, "%s", asset);
    e.program_id = PROGRAM;
    e.kind = "adjust";
    e.request_id = req;
    e.operator_name = "test";
    e.reason = "host change test";
    e.nlines = 2;
    e.lines = ln;
    assert_int_equal(ledger_post(f->ledger, &e, &id, &rep), LEAL_OK);
    return id;
}

/* The till's journal entries after its EPOCH, journaled again by the real
 * journal under terminal's key derived from the keystore (the till's own
 * journal key is a test constant), exported and imported. */
static void import_till(struct fixture *f, struct till *t, uint32_t terminal)
{
    static struct journal_entry es[16];
    uint32_t was[16][2];
    const struct key_version *kv;
    struct sync_keys k = {crypto_openssl(), f->keys};
    struct sync_result r;
    struct jgen g;
    uint8_t key[16], *exp = NULL;
    size_t len = 0;
    unsigned n = till_entries(t, es, 16);
    assert_int_equal(keyset_current(f->keys, PROGRAM, KEY_ROLE_JOURNAL_MAC, &kv), LEAL_OK);
    assert_int_equal(
        derive_journal_key(crypto_openssl(), kv->key, f->keys->issuer_id, PROGRAM, terminal, key),
        LEAL_OK);
    assert_int_equal(jgen_open(&g, key, kv->version, PROGRAM, terminal, 4, TILL_NOW - 60), LEAL_OK);
    for (unsigned i = 0; i < n; i++) {
        /* An entry naming an earlier one (a settle) names it as journaled again. */
        for (unsigned j = 0; j < i && es[i].ref_seq != 0; j++)
            if (was[j][0] == es[i].ref_epoch && was[j][1] == es[i].ref_seq) {
                es[i].ref_epoch = es[j].epoch;
                es[i].ref_seq = es[j].seq;
                break;
            }
        was[i][0] = es[i].epoch;
        was[i][1] = es[i].seq;
        /* A void's ref names the till's epoch: the same entry in this one
         * (sequences are the same, both after their EPOCH entry). */
        if (es[i].ref_epoch != 0 && es[i].ref_epoch == es[i].epoch)
            es[i].ref_epoch = g.j.head.epoch;
        assert_int_equal(journal_append(&g.j, &es[i]), LEAL_OK);
    }
    assert_int_equal(jgen_export(&g, &exp, &len), LEAL_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(sync_import(f->ledger, &k, exp, len, &r), LEAL_OK);
    free(exp);
    jgen_close(&g);
}

/* Opens till t (terminal) on a package carrying the one record pend. */
static void till_open_pending(struct till *t, struct fixture *f, uint32_t terminal,
                              struct package_pending *pend)
{
    struct till_package pp = {0};
    pp.pending = pend;
    pp.pending_count = 1;
    till_open(t, f, terminal, &pp);
}

/* The ledger's store and terminals 1 and 2, and the till's DESFire card
 * (25 points on it) registered as the desk left it: *v as read. */
static void ledger_store_and_card(struct fixture *f, struct ledger_card *card, struct card_view *v)
{
    int64_t store, term;
    assert_int_equal(ledger_store_add(f->ledger, PROGRAM, "sol", "Sol", "Europe/Madrid", &store),
                     LEAL_OK);
    assert_int_equal(ledger_terminal_add(f->ledger, store, "caja 1", &term), LEAL_OK);
    assert_int_equal(term, 1);
    assert_int_equal(ledger_terminal_add(f->ledger, store, "caja 2", &term), LEAL_OK);
    assert_int_equal(term, 2);
    till_make_desfire(f, 0, 0);
    till_read_desfire(f, v);
    ledger_fixture_card_init(card, (int64_t)TILL_CARD_ID, f->account, LEDGER_TECH_DESFIRE_EV1);
    card->last_counter = v->taps;
    assert_int_equal(ledger_card_add(f->ledger, card), LEAL_OK);
}

/* The ledger's store and terminals 1 and 2, the card with its 25 points as
 * the desk left it. */
static void ledger_card_seed(struct fixture *f, struct ledger_card *card)
{
    struct card_view v;
    /* The card, with its 25 points, as the desk left it in the ledger. */
    ledger_store_and_card(f, card, &v);
    post(f, "PTS", 25, "points_issued", "card:seed");
}

/* ledger_card_seed, then the host's +40 points and 5.00 euros; *adj the
 * points entry. */
static void ledger_card(struct fixture *f, struct ledger_card *card, int64_t *adj)
{
    struct ledger_host_change hc;
    struct card_view v;
    bool waiting;
    ledger_card_seed(f, card);
    till_read_desfire(f, &v);
    assert_int_equal(ledger_host_change_get(f->ledger, card->card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);

    /* The host decides: +40 points, and a euro correction (never a terminal's). */
    *adj = post(f, "PTS", 40, "adjustments", "adj-40");
    post(f, "EUR", 500, "adjustments", "eur-5");
    assert_int_equal(ledger_host_change_get(f->ledger, card->card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_int_equal(hc.points, 40);
    assert_int_equal(hc.entries, 1);
    assert_int_equal(hc.upto_entry, *adj);
    assert_int_equal(hc.taps, v.taps);
    assert_int_equal(hc.kinds, PACKAGE_CHANGE_ADJUST);
}

static void test_once_at_two_terminals(void **state)
{
    struct fixture *f = *state;
    static struct till t1, t2;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_build_opts bo = {1, TILL_NOW - 60, 7, 5000, 20000};
    struct package_info pi;
    struct package_pending pend;
    struct terminal_result out;
    struct journal_entry e;
    struct ledger_drift d;
    struct card_view v;
    uint8_t *pkg = NULL;
    size_t pkg_len = 0;
    int64_t adj;
    bool waiting;

    ledger_card(f, &card, &adj);
    till_read_desfire(f, &v);
    /* Terminal 1's package carries it, at the card's taps. */
    assert_int_equal(package_build(f->ledger, f->keys, &bo, &pkg, &pkg_len, &pi), LEAL_OK);
    assert_int_equal(pi.pending_count, 1);
    struct package_source src = {package_memory_read, pkg, (uint32_t)pkg_len};
    assert_int_equal(package_pending_at(&pi, &src, 0, &pend), LEAL_OK);
    assert_int_equal(pend.card_id, TILL_CARD_ID);
    assert_int_equal(pend.taps, v.taps);
    assert_int_equal(pend.upto_entry, adj);
    assert_int_equal(pend.points, 40);
    assert_int_equal(pend.kinds, PACKAGE_CHANGE_ADJUST);
    free(pkg);
    /* Terminal 2's, built while the card is still at those taps, too. */
    bo.terminal_id = 2;
    assert_int_equal(package_build(f->ledger, f->keys, &bo, &pkg, &pkg_len, &pi), LEAL_OK);
    assert_int_equal(pi.pending_count, 1);
    free(pkg);

    /* Both terminals hold that record; neither syncs in between. */
    till_open_pending(&t1, f, 1, &pend);
    till_open_pending(&t2, f, 2, &pend);
    struct terminal_request q = till_request(TERMINAL_EARN, 1000, 0, 0);
    assert_int_equal(till_tap(&t1, &q, &out), LEAL_OK);
    assert_int_equal(out.outcome, TERMINAL_DONE);
    assert_int_equal(out.before.points, 25);
    assert_int_equal(out.after.points, 25 + 40 + 10);
    till_last_entry(&t1, &e);
    assert_int_equal(e.points, 10);
    assert_int_equal(e.points_after, 75);
    assert_int_equal(e.n_lines, 4); /* base, the two state lines, the host line */
    assert_int_equal(e.lines[3].source, JOURNAL_LINE_HOST);
    assert_int_equal(e.lines[3].id, adj);
    assert_int_equal(e.lines[3].points, 40);
    /* The state before the earn is the card with the host's +40 on it: what a
     * void gives back (the change stays, as the ledger booked it). */
    struct state_body with_host = out.before;
    with_host.points += 40;
    till_expect_state_lines(&e, &with_host);

    till_present(&t2);
    q = till_request(TERMINAL_EARN, 500, 0, 0);
    assert_int_equal(till_tap(&t2, &q, &out), LEAL_OK);
    assert_int_equal(out.outcome, TERMINAL_DONE);
    assert_int_equal(out.before.points, 75);
    assert_int_equal(out.after.points, 80); /* +5, and not +40 again */
    till_last_entry(&t2, &e);
    assert_int_equal(e.points, 5);
    assert_int_equal(e.n_lines, 3); /* base, the two state lines */
    assert_int_not_equal(e.lines[2].source, JOURNAL_LINE_HOST);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 80);
    /* Both journals in, in either order's worst: terminal 2 first. */
    import_till(f, &t2, 2);
    import_till(f, &t1, 1);
    assert_int_equal(bal(f, f->account, "PTS"), 80);
    assert_int_equal(bal(f, f->account, "EUR"), 500); /* waits for the desk, never a terminal */
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(ledger_card_drift(f->ledger, card.card_id, &d), LEAL_OK);
    assert_int_equal(d.points, 0);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    /* Importing terminal 1 again changes nothing. */
    import_till(f, &t1, 1);
    assert_int_equal(bal(f, f->account, "PTS"), 80);
    /* The next package carries nothing for the card. */
    assert_int_equal(package_build(f->ledger, f->keys, &bo, &pkg, &pkg_len, &pi), LEAL_OK);
    assert_int_equal(pi.pending_count, 0);
    free(pkg);
    till_close(&t1);
    till_close(&t2);
}

/* A built package's only pending record (asserts there is one). */
static void build_one(struct fixture *f, uint32_t terminal, struct package_pending *pend)
{
    struct package_build_opts bo = {terminal, TILL_NOW - 60, 7, 5000, 20000};
    struct package_info pi;
    uint8_t *pkg = NULL;
    size_t pkg_len = 0;
    assert_int_equal(package_build(f->ledger, f->keys, &bo, &pkg, &pkg_len, &pi), LEAL_OK);
    assert_int_equal(pi.pending_count, 1);
    struct package_source src = {package_memory_read, pkg, (uint32_t)pkg_len};
    assert_int_equal(package_pending_at(&pi, &src, 0, pend), LEAL_OK);
    free(pkg);
}

/* How many pending records a package built now for terminal carries; the
 * first into *pend. */
static uint32_t build_count(struct fixture *f, uint32_t terminal, struct package_pending *pend)
{
    struct package_build_opts bo = {terminal, TILL_NOW - 60, 7, 5000, 20000};
    struct package_info pi;
    uint8_t *pkg = NULL;
    size_t pkg_len = 0;
    memset(pend, 0, sizeof *pend);
    assert_int_equal(package_build(f->ledger, f->keys, &bo, &pkg, &pkg_len, &pi), LEAL_OK);
    struct package_source src = {package_memory_read, pkg, (uint32_t)pkg_len};
    if (pi.pending_count > 0)
        assert_int_equal(package_pending_at(&pi, &src, 0, pend), LEAL_OK);
    free(pkg);
    return pi.pending_count;
}

/* Terminal 1 applies the +40 at the taps its package carried it at; the desk
 * reads the card before terminal 1's journal is in. The change may be on the
 * card, so no package carries it at the new taps and the desk's card sync
 * refuses it (before: terminal 2's package carried +40 at the card's new
 * taps and its earn credited them again, 120 on the card for 80 in the
 * ledger). */
static void test_desk_read_before_import(void **state)
{
    struct fixture *f = *state;
    static struct till t1, t2;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_pending pend, pend2;
    struct terminal_result out;
    struct issuance_card view;
    struct journal_entry e;
    struct ledger_drift d;
    struct card_view v;
    struct reader *r;
    int64_t adj;
    bool waiting;

    ledger_card(f, &card, &adj);
    till_read_desfire(f, &v);
    const uint32_t taps0 = v.taps;
    build_one(f, 1, &pend);
    assert_int_equal(pend.taps, taps0);
    assert_int_equal(pend.points, 40);
    till_open_pending(&t1, f, 1, &pend);
    struct terminal_request q = till_request(TERMINAL_EARN, 1000, 0, 0);
    assert_int_equal(till_tap(&t1, &q, &out), LEAL_OK);
    assert_int_equal(out.after.points, 25 + 40 + 10);
    till_last_entry(&t1, &e);
    assert_int_equal(e.lines[e.n_lines - 1].source, JOURNAL_LINE_HOST);

    /* The desk reads the card: the ledger now knows it at taps0 + 1. */
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    reader_close(r);
    assert_int_equal(view.taps, taps0 + 1);
    assert_int_equal(view.state.points, 75);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_true(hc.doubt);
    assert_int_equal(hc.sent_taps, taps0);
    assert_int_equal(hc.taps, taps0);
    assert_int_equal(hc.seen_taps, taps0 + 1);

    /* Terminal 2's package, built now, carries nothing for the card. */
    struct till_package pp = {0};
    pp.pending = &pend2;
    pp.pending_count = build_count(f, 2, &pend2);
    assert_int_equal(pp.pending_count, 0);
    till_open(&t2, f, 2, &pp);
    q = till_request(TERMINAL_EARN, 500, 0, 0);
    assert_int_equal(till_tap(&t2, &q, &out), LEAL_OK);
    assert_int_equal(out.before.points, 75);
    assert_int_equal(out.after.points, 80); /* +5, and not +40 again */
    till_last_entry(&t2, &e);
    assert_int_equal(e.n_lines, 3); /* base, the two state lines */
    assert_int_not_equal(e.lines[2].source, JOURNAL_LINE_HOST);

    /* Nor does the desk's card sync add it. */
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_sync(&f->is, r, &view), LEAL_E_HOST_CHANGE_DOUBT);
    reader_close(r);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 80);
    assert_int_equal(v.taps, taps0 + 2);

    /* Terminal 2's journal alone settles nothing: the write from taps0 is
     * terminal 1's. */
    import_till(f, &t2, 2);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_true(hc.doubt);
    assert_int_equal(build_count(f, 2, &pend2), 0);
    /* Terminal 1's journal in: it applied them; card and ledger agree. */
    import_till(f, &t1, 1);
    assert_int_equal(bal(f, f->account, "PTS"), 80);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(ledger_card_drift(f->ledger, card.card_id, &d), LEAL_OK);
    assert_int_equal(d.points, 0);
    assert_int_equal(build_count(f, 2, &pend2), 0);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    till_close(&t1);
    till_close(&t2);
}

/* The card is written first where the change was not: terminal 2's package
 * was built before the host's +40 (sent: 0) or after a package carried it
 * (sent: 1). Once terminal 2's journal is in, the next package carries the
 * change at the card's new taps (before: at the taps the desk last saw,
 * which the card never shows again: stuck until the desk read it), and
 * terminal 1 applies it at the next tap. */
static void tapped_elsewhere_first(struct fixture *f, bool sent)
{
    static struct till t1, t2;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_pending pend;
    struct terminal_result out;
    struct journal_entry e;
    struct card_view v;
    int64_t adj;
    bool waiting;

    ledger_card(f, &card, &adj);
    till_read_desfire(f, &v);
    const uint32_t taps0 = v.taps;
    if (sent) {
        build_one(f, 1, &pend);
        assert_int_equal(pend.taps, taps0);
    }
    till_open(&t2, f, 2, NULL); /* a package from before the change */
    struct terminal_request q = till_request(TERMINAL_EARN, 700, 0, 0);
    assert_int_equal(till_tap(&t2, &q, &out), LEAL_OK);
    assert_int_equal(out.after.points, 25 + 7);
    import_till(f, &t2, 2);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_false(hc.doubt);
    assert_int_equal(hc.taps, taps0 + 1);
    assert_int_equal(hc.seen_taps, taps0); /* the desk has not seen it since */
    build_one(f, 1, &pend);
    assert_int_equal(pend.taps, taps0 + 1);
    assert_int_equal(pend.points, 40);
    assert_int_equal(pend.upto_entry, adj);
    till_open_pending(&t1, f, 1, &pend);
    q = till_request(TERMINAL_EARN, 100, 0, 0);
    assert_int_equal(till_tap(&t1, &q, &out), LEAL_OK);
    assert_int_equal(out.after.points, 25 + 7 + 40 + 1);
    till_last_entry(&t1, &e);
    assert_int_equal(e.lines[e.n_lines - 1].source, JOURNAL_LINE_HOST);
    assert_int_equal(e.lines[e.n_lines - 1].points, 40);
    import_till(f, &t1, 1);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 73);
    assert_int_equal(bal(f, f->account, "PTS"), 73);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(build_count(f, 1, &pend), 0);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    till_close(&t1);
    till_close(&t2);
}

static void test_tapped_elsewhere_never_sent(void **state)
{
    tapped_elsewhere_first(*state, false);
}

static void test_tapped_elsewhere_after_sent(void **state)
{
    tapped_elsewhere_first(*state, true);
}

/* The desk tops the card up at the taps a package carried the change at
 * (it read the card there: the change is not on it): the next package
 * carries it at the card's new taps, and a terminal applies it. Without the
 * desk's write known the card would read as in doubt for good. */
static void test_desk_topup_moves_on(void **state)
{
    struct fixture *f = *state;
    static struct till t1;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_pending pend;
    struct terminal_result out;
    struct issuance_card view;
    struct card_view v;
    struct reader *r;
    int64_t adj;
    bool waiting;

    ledger_card(f, &card, &adj);
    till_read_desfire(f, &v);
    const uint32_t taps0 = v.taps;
    build_one(f, 1, &pend);
    assert_int_equal(pend.taps, taps0);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_topup(&f->is, r, 300, &view), LEAL_OK);
    reader_close(r);
    assert_int_equal(view.taps, taps0 + 1);
    assert_int_equal(view.purse_cents, 300);
    assert_int_equal(view.state.points, 25);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_false(hc.doubt);
    assert_int_equal(hc.taps, taps0 + 1);
    build_one(f, 1, &pend);
    assert_int_equal(pend.taps, taps0 + 1);
    assert_int_equal(pend.points, 40);
    till_open_pending(&t1, f, 1, &pend);
    struct terminal_request q = till_request(TERMINAL_EARN, 200, 0, 0);
    assert_int_equal(till_tap(&t1, &q, &out), LEAL_OK);
    assert_int_equal(out.after.points, 25 + 40 + 2);
    import_till(f, &t1, 1);
    assert_int_equal(bal(f, f->account, "PTS"), 67);
    assert_int_equal(bal(f, f->account, "EUR"), 500 + 300);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    till_close(&t1);
}

/* A birthday bonus (a host entry with reference "bonus:...") and points
 * expired by the ledger's lots travel as one record (+40 - 25 = +15, kinds
 * bonus and expiry) and reach the card at its next tap through the real
 * terminal code: card and ledger 50 after the import, ledger verify ok. */
static void test_bonus_and_expiry(void **state)
{
    struct fixture *f = *state;
    static struct till t1;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_pending pend;
    struct terminal_result out;
    struct journal_entry e;
    struct card_view v;
    int64_t prog = 0, id = 0, accounts = 0, expired = 0;
    bool rep, waiting;

    ledger_store_and_card(f, &card, &v);
    /* The card's 25 points, as the desk left them, in a lot ending a day ago. */
    assert_int_equal(ledger_program_account(f->ledger, PROGRAM, "points_issued", &prog), LEAL_OK);
    struct ledger_line seed[2] = {{f->account, "PTS", 25, (int64_t)TILL_NOW - 86400},
                                  {prog, "PTS", -25, 0}};
    struct ledger_entry se = {.program_id = PROGRAM,
                              .kind = "adjust",
                              .request_id = "card:seed",
                              .operator_name = "test",
                              .reason = "seed",
                              .nlines = 2,
                              .lines = seed};
    assert_int_equal(ledger_post(f->ledger, &se, &id, &rep), LEAL_OK);
    /* The host: a birthday bonus of 40, then the expiry of the old lot. */
    assert_int_equal(ledger_program_account(f->ledger, PROGRAM, "adjustments", &prog), LEAL_OK);
    struct ledger_line bonus[2] = {{f->account, "PTS", 40, 0}, {prog, "PTS", -40, 0}};
    struct ledger_entry be = {.program_id = PROGRAM,
                              .kind = "adjust",
                              .request_id = "bday-1",
                              .operator_name = "test",
                              .reason = "cumpleaños",
                              .reference = "bonus:cumpleaños",
                              .nlines = 2,
                              .lines = bonus};
    assert_int_equal(ledger_post(f->ledger, &be, &id, &rep), LEAL_OK);
    assert_int_equal(
        ledger_expire_points(f->ledger, PROGRAM, (int64_t)TILL_NOW, "test", &accounts, &expired),
        LEAL_OK);
    assert_int_equal(accounts, 1);
    assert_int_equal(expired, 25);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_int_equal(hc.points, 15);
    assert_int_equal(hc.entries, 2);
    assert_int_equal(hc.kinds, PACKAGE_CHANGE_BONUS | PACKAGE_CHANGE_EXPIRED);

    build_one(f, 1, &pend);
    assert_int_equal(pend.taps, v.taps);
    assert_int_equal(pend.points, 15);
    assert_int_equal(pend.upto_entry, hc.upto_entry);
    assert_int_equal(pend.kinds, PACKAGE_CHANGE_BONUS | PACKAGE_CHANGE_EXPIRED);
    till_open_pending(&t1, f, 1, &pend);
    struct terminal_request q = till_request(TERMINAL_EARN, 1000, 0, 0);
    assert_int_equal(till_tap(&t1, &q, &out), LEAL_OK);
    assert_int_equal(out.before.points, 25);
    assert_int_equal(out.after.points, 25 + 15 + 10);
    till_last_entry(&t1, &e);
    assert_int_equal(e.lines[e.n_lines - 1].source, JOURNAL_LINE_HOST);
    assert_int_equal(e.lines[e.n_lines - 1].points, 15);
    import_till(f, &t1, 1);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 50);
    assert_int_equal(bal(f, f->account, "PTS"), 50);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    till_close(&t1);
}

/* The ledger entry terminal's journal entry seq was posted as (0: none). */
static int64_t entry_of(struct fixture *f, uint32_t terminal, uint32_t seq)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t id = 0;
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id FROM entry WHERE terminal_id = ?1 AND "
                                        "terminal_seq = ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, terminal);
    sqlite3_bind_int64(st, 2, seq);
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return id;
}

/* A reward cancelled at the host (issue 14: a host-decided change): reward
 * 5 (10 points) redeemed at terminal 1 takes the card from 25 to 15, its
 * journal is imported; the host then voids that redeem (+10, kind reward),
 * which waits for the card, travels in terminal 2's next package and is put
 * on the card with its next earn of 3.00 (15 + 10 + 3 = 28), once: card and
 * ledger 28 after the import, nothing waits, ledger verify ok. */
static void test_reward_cancelled(void **state)
{
    struct fixture *f = *state;
    static struct till t1, t2;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_pending pend;
    struct terminal_result out;
    struct journal_entry e;
    struct card_view v;
    int64_t redeem, voided;
    bool rep, waiting;

    ledger_card_seed(f, &card);
    till_open(&t1, f, 1, NULL);
    struct terminal_request q = till_request(TERMINAL_REDEEM, 0, 0, 5);
    assert_int_equal(till_tap(&t1, &q, &out), LEAL_OK);
    assert_int_equal(out.outcome, TERMINAL_DONE);
    assert_int_equal(out.after.points, 15);
    till_last_entry(&t1, &e);
    import_till(f, &t1, 1);
    till_close(&t1);
    assert_int_equal(bal(f, f->account, "PTS"), 15);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);

    redeem = entry_of(f, 1, e.seq);
    assert_true(redeem > 0);
    struct ledger_void_request vr = {redeem, "cancel-1", "test", "reward not handed over"};
    assert_int_equal(ledger_void(f->ledger, &vr, &voided, &rep), LEAL_OK);
    assert_int_equal(bal(f, f->account, "PTS"), 25);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_int_equal(hc.points, 10);
    assert_int_equal(hc.entries, 1);
    assert_int_equal(hc.upto_entry, voided);
    assert_int_equal(hc.kinds, PACKAGE_CHANGE_REWARD);

    build_one(f, 2, &pend);
    assert_int_equal(pend.points, 10);
    assert_int_equal(pend.upto_entry, voided);
    assert_int_equal(pend.kinds, PACKAGE_CHANGE_REWARD);
    till_read_desfire(f, &v);
    assert_int_equal(pend.taps, v.taps);
    till_open_pending(&t2, f, 2, &pend);
    q = till_request(TERMINAL_EARN, 300, 0, 0);
    assert_int_equal(till_tap(&t2, &q, &out), LEAL_OK);
    assert_int_equal(out.before.points, 15);
    assert_int_equal(out.after.points, 15 + 10 + 3);
    till_last_entry(&t2, &e);
    assert_int_equal(e.lines[e.n_lines - 1].source, JOURNAL_LINE_HOST);
    assert_int_equal(e.lines[e.n_lines - 1].id, voided);
    assert_int_equal(e.lines[e.n_lines - 1].points, 10);
    /* Tapped again at terminal 2: not applied again. */
    q = till_request(TERMINAL_EARN, 100, 0, 0);
    assert_int_equal(till_tap(&t2, &q, &out), LEAL_OK);
    assert_int_equal(out.after.points, 28 + 1);
    import_till(f, &t2, 2);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 29);
    assert_int_equal(bal(f, f->account, "PTS"), 29);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    till_close(&t2);
}

/* A tap the terminal refuses (a redeem the points do not cover even with
 * the host's change) writes nothing and journals the card as read. */
static void test_refused_keeps_nothing(void **state)
{
    struct fixture *f = *state;
    static struct till t;
    struct terminal_result out;
    struct journal_entry e;
    struct card_view v;
    till_make_desfire(f, 0, 0);
    till_read_desfire(f, &v);
    struct package_pending pend = {TILL_CARD_ID, v.taps, 9, 2, PACKAGE_CHANGE_BONUS, 0, 0, 0};
    till_open_pending(&t, f, 1, &pend);
    struct terminal_request q = till_request(TERMINAL_REDEEM, 0, 0, 6); /* 30 points */
    assert_int_equal(till_tap(&t, &q, &out), LEAL_OK);
    assert_int_equal(out.outcome, TERMINAL_REFUSED);
    till_last_entry(&t, &e);
    assert_int_equal(e.op, JOURNAL_OP_REFUSAL);
    assert_int_equal(e.points_after, 25);
    assert_int_equal(e.n_lines, 0);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 25);
    /* The same card then earns: the +2 rides on it. */
    q = till_request(TERMINAL_EARN, 300, 0, 0);
    assert_int_equal(till_tap(&t, &q, &out), LEAL_OK);
    assert_int_equal(out.after.points, 25 + 2 + 3);
    till_close(&t);
}

/* An earn voided after the terminal restarted (JOURNAL.md "State lines"):
 * 10.00 on 28 May, then 20.00 on 2 June rolls the card into June, the
 * terminal restarts and voids it; the card is back at May's period and
 * buckets and 35 points, and the journal imported books exactly that: 25 +
 * 10, the June earn and its void each posted once. */
static void test_void_after_restart_in_ledger(void **state)
{
    struct fixture *f = *state;
    static struct till t;
    struct ledger_card card = {0};
    struct terminal_result out;
    struct journal_entry es[8];
    struct card_view v;

    ledger_card_seed(f, &card);
    till_open(&t, f, 1, NULL);
    struct terminal_request q = till_request(TERMINAL_EARN, 1000, 0, 0);
    assert_int_equal(till_tap(&t, &q, &out), LEAL_OK);
    till_read_desfire(f, &v);
    till_present(&t);
    t.now.utc_seconds = TILL_NOW + 5 * 86400;
    q = till_request(TERMINAL_EARN, 2000, 0, 0);
    assert_int_equal(till_tap(&t, &q, &out), LEAL_OK);
    assert_int_equal(out.after.points, 55);
    assert_int_equal(out.after.period, v.state.period + 1);
    till_restart(&t);
    q = till_request(TERMINAL_VOID, 0, 0, 0);
    assert_int_equal(till_tap(&t, &q, &out), LEAL_OK);
    assert_int_equal(out.outcome, TERMINAL_DONE);
    struct card_view w;
    till_read_desfire(f, &w);
    assert_int_equal(w.state.points, 35);
    assert_int_equal(w.state.period, v.state.period);
    assert_memory_equal(w.state.buckets, v.state.buckets, sizeof w.state.buckets);
    assert_memory_equal(w.state.stamps, v.state.stamps, sizeof w.state.stamps);
    assert_int_equal(w.state.seq, v.state.seq + 2);
    /* earn, earn, void (the restart's journal adds no operation) */
    assert_int_equal(till_entries(&t, es, 8), 3);
    assert_int_equal(es[2].op, JOURNAL_OP_VOID);
    assert_int_equal(es[2].ref_seq, es[1].seq);

    import_till(f, &t, 1);
    assert_int_equal(bal(f, f->account, "PTS"), 35);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    import_till(f, &t, 1); /* again: nothing more */
    assert_int_equal(bal(f, f->account, "PTS"), 35);
    till_close(&t);
}

/* Terminal 1 opens on a package carrying pend; its earn of 10.00 is torn
 * before the commit (the card keeps its old state), and after a restart a
 * balance tap settles it not done (JOURNAL_OP_SETTLE). */
static void earn_torn_settled_not_done(struct fixture *f, struct till *t1,
                                       struct package_pending *pend, struct terminal_result *out)
{
    till_open_pending(t1, f, 1, pend);
    /* 9: an EV1's commit (its ILLEGAL_COMMAND to AuthenticateEV2First first) */
    cardsim_set_tear(reader_sim_card(t1->r),
                     &(struct cardsim_tear){CARDSIM_TEAR_BEFORE_COMMAND, 9, CARDSIM_TORN_OLD, 0});
    struct terminal_request q = till_request(TERMINAL_EARN, 1000, 0, 0);
    assert_int_equal(till_tap(t1, &q, out), LEAL_OK);
    assert_int_equal(out->outcome, TERMINAL_IN_DOUBT);
    till_restart(t1);
    struct terminal_request b = till_request(TERMINAL_BALANCE, 0, 0, 0);
    assert_int_equal(till_tap(t1, &b, out), LEAL_OK);
    assert_true(out->settled);
    assert_int_equal(out->settled_item, JOURNAL_SETTLED_NOT_DONE);
}

/* The earn that carried the +40 never reached the card (the commit torn),
 * and after a restart terminal 1 settles it not done (JOURNAL_OP_SETTLE,
 * item 02): once the journal is in, the earn is reversed and the +40 waits
 * again at the card's unchanged taps (before: the host line marked it
 * applied, nothing waited, and the card never got it: 25 on the card for 65
 * in the ledger). The next package carries it and terminal 2's earn puts it
 * on the card: 70 on card and ledger. */
static void test_settled_not_done_waits_again(void **state)
{
    struct fixture *f = *state;
    static struct till t1, t2;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_pending pend;
    struct terminal_result out;
    struct journal_entry e[4];
    struct ledger_drift d;
    struct card_view v;
    int64_t adj;
    bool waiting;

    ledger_card(f, &card, &adj);
    till_read_desfire(f, &v);
    build_one(f, 1, &pend);
    assert_int_equal(pend.points, 40);
    struct till_package pp = {0};
    pp.pending = &pend;
    pp.pending_count = 1;
    earn_torn_settled_not_done(f, &t1, &pend, &out);
    assert_int_equal(out.after.points, 25);
    assert_int_equal(till_entries(&t1, e, 4), 3);
    assert_int_equal(e[0].n_lines, 4); /* base, the two state lines, the host line */
    assert_int_equal(e[0].lines[3].source, JOURNAL_LINE_HOST);
    assert_int_equal(e[0].lines[3].id, adj);
    struct state_body with_host = v.state; /* as read, the host's +40 on it */
    with_host.points += 40;
    till_expect_state_lines(&e[0], &with_host);
    assert_int_equal(e[1].op, JOURNAL_OP_SETTLE);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 25);

    import_till(f, &t1, 1);
    assert_int_equal(bal(f, f->account, "PTS"), 65);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_int_equal(hc.points, 40);
    assert_int_equal(hc.upto_entry, adj);
    assert_int_equal(hc.taps, v.taps);
    assert_false(hc.doubt);
    /* Importing it again changes nothing. */
    import_till(f, &t1, 1);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_true(waiting);
    assert_int_equal(hc.points, 40);

    build_one(f, 2, &pend);
    assert_int_equal(pend.taps, v.taps);
    assert_int_equal(pend.points, 40);
    till_open(&t2, f, 2, &pp);
    struct terminal_request q = till_request(TERMINAL_EARN, 500, 0, 0);
    assert_int_equal(till_tap(&t2, &q, &out), LEAL_OK);
    assert_int_equal(out.outcome, TERMINAL_DONE);
    assert_int_equal(out.after.points, 25 + 40 + 5);
    import_till(f, &t2, 2);
    assert_int_equal(bal(f, f->account, "PTS"), 70);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(ledger_card_drift(f->ledger, card.card_id, &d), LEAL_OK);
    assert_int_equal(d.points, 0);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    till_close(&t1);
    till_close(&t2);
}

/* The sync findings of the card, "kind|terminal|epoch|seq|detail" one a
 * line (read from the ledger file, as `leal reconcile` would). */
static void card_findings(struct fixture *f, int64_t card_id, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t n = 0;
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT kind, terminal_id, epoch, seq, detail FROM "
                                        "sync_finding WHERE card_id = ?1 ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, card_id);
    while (sqlite3_step(st) == SQLITE_ROW && n < cap)
        n += (size_t)snprintf(
            out + n, cap - n, "%s|%lld|%lld|%lld|%s\n", (const char *)sqlite3_column_text(st, 0),
            (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2),
            (long long)sqlite3_column_int64(st, 3), (const char *)sqlite3_column_text(st, 4));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* As test_settled_not_done_waits_again, but before terminal 1's journal is
 * in the host adds +7 and terminal 2, on a package carrying +47 up to that
 * later entry at the card's unchanged taps, writes them with an earn of
 * 5.00 (25 + 47 + 5 = 77 on the card). Terminal 2's journal in first moves
 * the card's synced entry past the +40's; then terminal 1's SETTLE "not
 * done" reverses its earn but cannot put the +40 back to wait (the later
 * write carried it, and waiting again would send the +7 twice): it records
 * only a finding, kind held, naming the card and the +40. Card and ledger
 * agree at 77, nothing waits, no drift, ledger verify passes; a re-import
 * records nothing more. */
static void test_settled_not_done_after_later_write(void **state)
{
    struct fixture *f = *state;
    static struct till t1, t2;
    struct ledger_host_change hc;
    struct ledger_card card = {0};
    struct package_pending pend, pend2;
    struct terminal_result out;
    struct journal_entry e[4];
    struct ledger_drift d;
    struct card_view v;
    char got[1024], want[1024];
    int64_t adj, adj2;
    bool waiting;

    ledger_card(f, &card, &adj);
    till_read_desfire(f, &v);
    const uint32_t taps0 = v.taps;
    build_one(f, 1, &pend);
    assert_int_equal(pend.points, 40);
    assert_int_equal(pend.upto_entry, adj);
    earn_torn_settled_not_done(f, &t1, &pend, &out);
    assert_int_equal(till_entries(&t1, e, 4), 3);
    assert_int_equal(e[0].lines[3].source, JOURNAL_LINE_HOST);
    assert_int_equal(e[0].lines[3].id, adj);
    assert_int_equal(e[1].op, JOURNAL_OP_SETTLE);
    const uint32_t settle_seq = e[1].seq;
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 25);
    assert_int_equal(v.taps, taps0);

    /* A later host change; terminal 2's package carries both, up to it. */
    adj2 = post(f, "PTS", 7, "adjustments", "adj-7");
    build_one(f, 2, &pend2);
    assert_int_equal(pend2.taps, taps0);
    assert_int_equal(pend2.points, 47);
    assert_int_equal(pend2.upto_entry, adj2);
    till_open_pending(&t2, f, 2, &pend2);
    struct terminal_request q = till_request(TERMINAL_EARN, 500, 0, 0);
    assert_int_equal(till_tap(&t2, &q, &out), LEAL_OK);
    assert_int_equal(out.outcome, TERMINAL_DONE);
    assert_int_equal(out.after.points, 25 + 47 + 5);
    till_read_desfire(f, &v);
    assert_int_equal(v.state.points, 77);

    import_till(f, &t2, 2);
    assert_int_equal(bal(f, f->account, "PTS"), 25 + 40 + 7 + 5);
    import_till(f, &t1, 1);
    /* Terminal 1's earn (+10) posted and reversed; nothing else moved. */
    assert_int_equal(bal(f, f->account, "PTS"), 77);
    assert_int_equal(bal(f, f->account, "EUR"), 500);
    assert_int_equal(ledger_host_change_get(f->ledger, card.card_id, &hc, &waiting), LEAL_OK);
    assert_false(waiting);
    assert_int_equal(ledger_card_drift(f->ledger, card.card_id, &d), LEAL_OK);
    assert_int_equal(d.points, 0);
    card_findings(f, card.card_id, got, sizeof got);
    /* import_till journals the till's entries again at their sequences, in
     * the epoch jgen_open began (TILL_NOW - 60). */
    snprintf(want, sizeof want,
             "held|1|%lld|%u|card %llu: host changes up to entry %lld (+40 points) did not reach "
             "the card and a later write moved past them: check the card at the desk (leal card "
             "read)\n",
             (long long)(TILL_NOW - 60), settle_seq, (unsigned long long)card.card_id,
             (long long)adj);
    assert_string_equal(got, want);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);

    /* Again: nothing moves, no second finding. */
    import_till(f, &t1, 1);
    import_till(f, &t2, 2);
    assert_int_equal(bal(f, f->account, "PTS"), 77);
    card_findings(f, card.card_id, got, sizeof got);
    assert_string_equal(got, want);
    assert_int_equal(build_count(f, 1, &pend), 0);
    till_close(&t1);
    till_close(&t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_once_at_two_terminals, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desk_read_before_import, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tapped_elsewhere_never_sent, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tapped_elsewhere_after_sent, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desk_topup_moves_on, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bonus_and_expiry, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reward_cancelled, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refused_keeps_nothing, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_void_after_restart_in_ledger, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_settled_not_done_waits_again, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_settled_not_done_after_later_write, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
