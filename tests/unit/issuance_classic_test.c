/* issuance_classic_test.c - the desk on the virtual MIFARE Classic 1K/4K through the
 * sim: reader: issue and read with exact values and round trips, a card already
 * leal's refused, stored value off, a tampered slot, issuance torn at every
 * exchange (each way the virtual card can tear), then tapped again; erase
 * (torn too), block and unblock, replacement onto and from Classic (torn at
 * every exchange too), a Classic 4K with a 7-byte UID; and stored value where
 * the program enables it: the identity flag, opening top-up and top-ups with
 * exact purse, seq, points and ledger, the cap, a purse over it read as
 * tampered, top-ups torn at every exchange each way and settled by the next
 * read exactly once, a pending top-up the card neither shows nor undid, and
 * replacement onto Classic moving the euros when they fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/classic/classic_keys.h"
#include "cardlayout/classic/mfclassic.h"
#include "cardlayout/layout.h"
#include "cardlayout/card_reader.h"
#include "host/cardsim/cardsim.h"
#include "host/issuance/issuance.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"

static const uint8_t uid4[4] = {0x04, 0xA2, 0x19, 0x5C};
static const uint8_t uid7[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

static void new_card(struct fixture *f, const char *type)
{
    desk_fixture_new_card(f, type, uid4, 4, false);
}

/* A leal key of a card, computed here from the keystore (classic_keys.h). */
static void sector_key_uid(struct fixture *f, enum key_role role, const uint8_t *uid,
                           size_t uid_len, uint8_t sector, uint8_t key[6])
{
    const struct key_version *v;
    assert_int_equal(keyset_current(f->keys, 7, role, &v), LEAL_OK);
    assert_int_equal(
        classic_keys_sector(crypto_openssl(), v->key,
                            &(struct classic_keys_card){uid, uid_len, f->keys->issuer_id, 7},
                            sector, key),
        LEAL_OK);
}

static void sector_key(struct fixture *f, enum key_role role, uint8_t sector, uint8_t key[6])
{
    sector_key_uid(f, role, uid4, 4, sector, key);
}

static int count_cards(void *ctx, const struct ledger_card *c)
{
    (void)c;
    (*(int *)ctx)++;
    return 0;
}

/* Every way the virtual card tears a Classic exchange: the command lost, its
 * answer lost, or power lost inside a block write leaving the old block, the
 * new one, or garbage. */
static const struct {
    enum cardsim_tear_point point;
    enum cardsim_torn_block block;
} tear_ways[] = {
    {CARDSIM_TEAR_BEFORE_COMMAND, CARDSIM_TORN_OLD},
    {CARDSIM_TEAR_BEFORE_ANSWER, CARDSIM_TORN_OLD},
    {CARDSIM_TEAR_INSIDE_COMMIT, CARDSIM_TORN_OLD},
    {CARDSIM_TEAR_INSIDE_COMMIT, CARDSIM_TORN_NEW},
    {CARDSIM_TEAR_INSIDE_COMMIT, CARDSIM_TORN_GARBAGE},
};

static void test_classic_issue_and_read(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 50};
    struct issuance_card out, view;
    struct ledger_card lc;
    struct reader *r;
    const struct card_reader *cr;
    uint8_t blk[16], key[6];
    static const uint8_t mad_a[6] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};
    static const uint8_t mad_head[11] = {0x00, 0x4C, 0x01, 0x4C, 0x01, 0x4C,
                                         0x01, 0x4C, 0x01, 0x4C, 0x01};

    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL); /* blank */
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_true(out.card_id >= 100000000000LL && out.card_id <= 999999999999LL);
    assert_int_equal(out.tech, LEDGER_TECH_CLASSIC_1K);
    assert_int_equal(out.state.points, 50);
    assert_int_equal(out.state.seq, 1);
    assert_int_equal(out.purse_cents, 0);
    assert_int_equal(out.taps, 0);
    assert_int_equal(out.key_set_version, 1);
    assert_false(out.resumed);
    assert_int_equal(out.uid_len, 4);
    assert_memory_equal(out.uid, uid4, 4);
    /* Probe 6 sectors with the transport key (sector 0 last, left open),
     * personalise 24 (slot 1 gets only its trailer), verify 3 + 11 + 4 + 1. */
    assert_int_equal(out.round_trips, 6 + 24 + 19);
    /* Bytes as a PN53x passes MIFARE commands: 11 auths x 13, 19 writes x 19,
     * then the MAD (13 + 2 x 18), identity (3 x 13 + 8 x 18), slot 0 and sector 5
     * (2 x 13 + 3 x 18). */
    assert_int_equal(out.bytes, 11 * 13 + 19 * 19 + 49 + 183 + 80);
    assert_int_equal(ledger_card_find_by_id(f->ledger, out.card_id, &lc), LEAL_OK);
    assert_int_equal(lc.status, LEDGER_CARD_ACTIVE);
    assert_int_equal(lc.tech, LEDGER_TECH_CLASSIC_1K);
    assert_int_equal(lc.uid_len, 4);
    assert_memory_equal(lc.uid, uid4, 4);
    assert_int_equal(lc.keyset_version, 1);
    desk_fixture_balances(f, f->account, 0, 50);

    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    assert_int_equal(view.card_id, out.card_id);
    assert_int_equal(view.issuer_id, 0x1a2b3c4d);
    assert_int_equal(view.program_id, 7);
    assert_int_equal(view.state.points, 50);
    assert_int_equal(view.account_pts, 50);
    assert_int_equal(view.ledger.status, LEDGER_CARD_ACTIVE);
    assert_int_equal(view.round_trips, 19); /* LAYOUT.md 3.3: the read */
    assert_int_equal(view.bytes, 183 + 134);

    /* The card's bytes: MAD block 1 declares 0x014C in sectors 1-5; sector 4's
     * trailer carries access bytes 7F 07 88, GPB 00; sector 1's 78 77 88. */
    cr = reader_card_reader(r);
    assert_int_equal(cr->classic_auth(cr->ctx, 0, CLASSIC_KEY_A, mad_a), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 1, blk), LEAL_OK);
    assert_memory_equal(blk + 1, mad_head, sizeof mad_head);
    assert_int_equal(blk[12], 0);
    sector_key(f, KEY_ROLE_CLASSIC_A, 4, key);
    assert_int_equal(cr->classic_auth(cr->ctx, 16, CLASSIC_KEY_A, key), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 19, blk), LEAL_OK);
    assert_memory_equal(blk + 6, ((uint8_t[]){0x7F, 0x07, 0x88, 0x00}), 4);
    sector_key(f, KEY_ROLE_CLASSIC_B, 1, key);
    assert_int_equal(cr->classic_auth(cr->ctx, 4, CLASSIC_KEY_B, key), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 7, blk), LEAL_OK);
    assert_memory_equal(blk + 6, ((uint8_t[]){0x78, 0x77, 0x88, 0x00}), 4);
    /* Block 4 starts with the sealed identity's version and type. */
    assert_int_equal(cr->classic_read(cr->ctx, 4, blk), LEAL_OK);
    assert_int_equal(blk[0], LAYOUT_VERSION);
    assert_int_equal(blk[1], 0x01);

    /* Already leal's: refused, with whose card it is. */
    assert_int_equal(issuance_issue(&f->is, r, &req, &view), LEAL_E_CARD_ALREADY_ISSUED);
    assert_int_equal(view.card_id, out.card_id);
    assert_int_equal(view.ledger.account_id, f->account);
    assert_int_equal(view.ledger.status, LEDGER_CARD_ACTIVE);

    /* Stored value is off on Classic: a top-up is refused, nothing posted. */
    assert_int_equal(issuance_topup(&f->is, r, 1000, &view), LEAL_E_CARD_STORED_VALUE_OFF);
    assert_int_equal(view.card_id, out.card_id);
    desk_fixture_balances(f, f->account, 0, 50);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.purse_cents, 0);
    assert_int_equal(view.state.seq, 1);
    reader_close(r);
}

static void test_classic_4k_opening_topup_refused_and_tampered(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .topup_cents = 500};
    struct issuance_card out, view;
    struct reader *r;
    const struct card_reader *cr;
    uint8_t blk[16], key[6];
    int ncards = 0;

    new_card(f, "classic-4k");
    r = desk_fixture_open_card(f);
    /* An opening top-up is refused before the card or the ledger is touched. */
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_CARD_STORED_VALUE_OFF);
    assert_int_equal(out.round_trips, 0);
    assert_int_equal(ledger_card_each_of_account(f->ledger, f->account, count_cards, &ncards),
                     LEAL_OK);
    assert_int_equal(ncards, 0);
    req.topup_cents = 0;
    req.welcome_points = 7;
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.tech, LEDGER_TECH_CLASSIC_4K);
    assert_int_equal(out.state.points, 7);

    /* One bit of slot 0 flipped with a terminal's key A: the seal no longer
     * opens, slot 1 holds zeros, so the card reads as tampered. */
    cr = reader_card_reader(r);
    sector_key(f, KEY_ROLE_CLASSIC_A, 4, key);
    assert_int_equal(cr->classic_auth(cr->ctx, 16, CLASSIC_KEY_A, key), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 17, blk), LEAL_OK);
    blk[3] ^= 0x01;
    assert_int_equal(cr->classic_write(cr->ctx, 17, blk), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    blk[3] ^= 0x01;
    assert_int_equal(cr->classic_auth(cr->ctx, 16, CLASSIC_KEY_A, key), LEAL_OK);
    assert_int_equal(cr->classic_write(cr->ctx, 17, blk), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    /* The identity rewritten with key B (a cracked host key): the signature or
     * seal fails. */
    sector_key(f, KEY_ROLE_CLASSIC_B, 2, key);
    assert_int_equal(cr->classic_auth(cr->ctx, 8, CLASSIC_KEY_B, key), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 9, blk), LEAL_OK);
    blk[0] ^= 0x80;
    assert_int_equal(cr->classic_write(cr->ctx, 9, blk), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    reader_close(r);
}

/* An issuance with TEAR armed; then the tear is disarmed. *fired: it tore. */
static leal_err issue_torn(struct fixture *f, struct reader *r, struct cardsim_tear tear,
                           const struct issuance_request *req, struct issuance_card *out,
                           bool *fired)
{
    leal_err err;
    cardsim_set_tear(reader_sim_card(r), &tear);
    err = issuance_issue(&f->is, r, req, out);
    *fired = cardsim_torn(reader_sim_card(r));
    tear.point = CARDSIM_TEAR_NONE;
    cardsim_set_tear(reader_sim_card(r), &tear);
    return err;
}

/* Issuance torn at every exchange, each way; then the same card is tapped again. */
static void test_classic_issuance_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = 0, .welcome_points = 30};
    struct issuance_card out;
    unsigned torn = 0, resumed = 0, lost_sectors = 0, runs = 0;

    for (size_t w = 0; w < sizeof tear_ways / sizeof tear_ways[0]; w++) {
        for (unsigned n = 1;; n++) {
            int64_t account;
            struct cardsim_tear tear = {
                .point = tear_ways[w].point, .after = n, .classic_block = tear_ways[w].block};
            struct ledger_card lc;
            struct issuance_card view;
            struct reader *r;
            leal_err err;
            bool fired;

            char name[32];
            snprintf(name, sizeof name, "torn %zu %u", w, n);
            account = desk_fixture_customer(f, name);
            req.account_id = account;
            new_card(f, "classic-1k");
            r = desk_fixture_open_card(f);
            err = issue_torn(f, r, tear, &req, &out, &fired);
            runs++;
            if (!fired) {
                /* Past the last exchange: an untorn issuance. */
                assert_int_equal(err, LEAL_OK);
                assert_int_equal(out.round_trips, 49);
                assert_true(n > 49);
                reader_close(r);
                break;
            }
            torn++;
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            /* Torn: the ledger never holds an active card for it. */
            assert_int_equal(ledger_card_find_by_id(f->ledger, out.card_id, &lc),
                             out.card_id ? LEAL_OK : LEAL_E_UNKNOWN_ID);
            if (out.card_id)
                assert_int_equal(lc.status, LEDGER_CARD_PENDING);
            assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
            err = issuance_issue(&f->is, r, &req, &out);
            if (err == LEAL_E_CARD_MEMORY_DAMAGED) {
                /* A trailer write torn into garbage locks its sector for good
                 * (MIFARE Classic): the card is refused, the ledger keeps it PENDING. */
                assert_int_equal(tear_ways[w].block, CARDSIM_TORN_GARBAGE);
                lost_sectors++;
                assert_int_equal(issuance_read(&f->is, r, &view) == LEAL_OK && view.agrees &&
                                     view.ledger.status == LEDGER_CARD_ACTIVE,
                                 0);
                desk_fixture_balances(f, account, 0,
                                      30); /* welcome points posted once, at PENDING */
                reader_close(r);
                continue;
            }
            assert_int_equal(err, LEAL_OK);
            resumed += out.resumed;
            assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
            assert_true(view.agrees);
            assert_int_equal(view.state.points, 30);
            assert_int_equal(view.state.seq, 1);
            assert_int_equal(view.ledger.status, LEDGER_CARD_ACTIVE);
            assert_int_equal(view.ledger.account_id, account);
            desk_fixture_balances(f, account, 0, 30); /* points once */
            reader_close(r);
        }
    }
    print_message("runs %u, torn %u, started over %u, sectors lost to garbage trailers %u\n", runs,
                  torn, resumed, lost_sectors);
    /* 49 exchanges, each way (the untorn run ends each way). */
    assert_int_equal(torn, 5 * 49);
    /* Six trailer writes: a garbage tear there loses the sector. */
    assert_int_equal(lost_sectors, 6);
    assert_true(resumed > 0);
}

/* Issue, then erase: back to the transport state, the ledger keeps the card as
 * lost, and the card can be issued anew. */
static void test_classic_erase(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 5};
    struct issuance_card out, view;
    struct ledger_card lc;
    struct reader *r;
    const struct card_reader *cr;
    static const uint8_t transport[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint8_t blk[16];

    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(issuance_erase(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.card_id, out.card_id);
    /* Probe (transport fails, key B opens: 12), identity 11, six sectors back 29. */
    assert_int_equal(view.round_trips, 12 + 11 + 29);
    assert_int_equal(ledger_card_find_by_id(f->ledger, out.card_id, &lc), LEAL_OK);
    assert_int_equal(lc.status, LEDGER_CARD_LOST);
    desk_fixture_balances(f, f->account, 0, 5); /* the history stays */
    cr = reader_card_reader(r);
    for (uint8_t s = 0; s < 6; s++) {
        assert_int_equal(cr->classic_auth(cr->ctx, (uint8_t)(4 * s), CLASSIC_KEY_A, transport),
                         LEAL_OK);
        assert_int_equal(cr->classic_read(cr->ctx, (uint8_t)(4 * s + 3), blk), LEAL_OK);
        assert_memory_equal(blk + 6, ((uint8_t[]){0xFF, 0x07, 0x80, 0x69}), 4);
        assert_int_equal(cr->classic_read(cr->ctx, (uint8_t)(4 * s + 1), blk), LEAL_OK);
        assert_memory_equal(blk, ((uint8_t[16]){0}), 16);
    }
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL);
    assert_int_equal(issuance_erase(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL);
    assert_int_equal(issuance_issue(&f->is, r, &req, &view), LEAL_OK);
    assert_int_not_equal(view.card_id, out.card_id);
    reader_close(r);
}

/* An erase torn at every exchange (each command executed, its answer lost):
 * erasing again finishes it; the ledger shows the card lost from the first write on. */
static void test_classic_erase_torn(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account};
    struct issuance_card out, view;
    struct ledger_card lc;
    unsigned torn = 0;

    {
        for (unsigned n = 1;; n++) {
            struct cardsim_tear tear = {.point = CARDSIM_TEAR_BEFORE_ANSWER, .after = n};
            struct reader *r;
            leal_err err;
            new_card(f, "classic-1k");
            r = desk_fixture_open_card(f);
            assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
            cardsim_set_tear(reader_sim_card(r), &tear);
            err = issuance_erase(&f->is, r, &view);
            if (!cardsim_torn(reader_sim_card(r))) {
                assert_int_equal(err, LEAL_OK);
                reader_close(r);
                break;
            }
            torn++;
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            tear.point = CARDSIM_TEAR_NONE;
            cardsim_set_tear(reader_sim_card(r), &tear);
            assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
            assert_int_equal(ledger_card_find_by_id(f->ledger, out.card_id, &lc), LEAL_OK);
            if (lc.status == LEDGER_CARD_ACTIVE) {
                /* Torn before the identity was read: nothing written, the card reads. */
                assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
                assert_true(view.agrees);
            }
            err = issuance_erase(&f->is, r, &view);
            assert_true(err == LEAL_OK || err == LEAL_E_CARD_NOT_LEAL);
            assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL);
            assert_int_equal(ledger_card_find_by_id(f->ledger, out.card_id, &lc), LEAL_OK);
            assert_int_equal(lc.status, LEDGER_CARD_LOST);
            reader_close(r);
        }
    }
    print_message("erases torn %u\n", torn);
    assert_int_equal(torn, 52);
}

static int count_cards_of(struct fixture *f, int64_t account)
{
    int n = 0;
    assert_int_equal(ledger_card_each_of_account(f->ledger, account, count_cards, &n), LEAL_OK);
    return n;
}

static void status_is(struct fixture *f, int64_t card_id, enum ledger_card_status st)
{
    struct ledger_card lc;
    assert_int_equal(ledger_card_find_by_id(f->ledger, card_id, &lc), LEAL_OK);
    assert_int_equal(lc.status, st);
}

/* Issues a card of TYPE in f->card (uid NULL: the DESFire test UID); returns its id. */
static int64_t issue_on(struct fixture *f, const char *type, const uint8_t *uid, size_t uid_len,
                        const struct issuance_request *req, struct issuance_card *out)
{
    static const uint8_t desfire_uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    struct reader *r;
    desk_fixture_new_card(f, type, uid ? uid : desfire_uid, uid ? uid_len : 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, req, out), LEAL_OK);
    reader_close(r);
    return out->card_id;
}

/* Replacement onto and from Classic cards, with exact points and euros on the
 * cards and in the ledger: Classic 1K -> Classic 4K (7-byte UID) -> DESFire ->
 * refused onto Classic while the account holds money, nothing written; and
 * a DESFire card without money -> Classic. */
static void test_classic_replace(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 50};
    struct issuance_card out, view;
    struct reader *r;
    int64_t a, b, c, d, luis;
    char old_card[512];

    a = issue_on(f, "classic-1k", uid4, 4, &req, &out);
    snprintf(old_card, sizeof old_card, "%s", f->card);
    snprintf(f->card, sizeof f->card, "%s/card2.json", f->dir);
    desk_fixture_balances(f, f->account, 0, 50);
    assert_int_equal(ledger_card_set_status(f->ledger, a, LEDGER_CARD_BLOCKED), LEAL_OK);

    /* Classic -> Classic: the new card carries the account's 50 points. */
    req = (struct issuance_request){
        .account_id = f->account, .replacing = true, .replaced_card_id = a};
    b = issue_on(f, "classic-4k", uid7, 7, &req, &out);
    assert_int_not_equal(b, a);
    assert_int_equal(out.tech, LEDGER_TECH_CLASSIC_4K);
    assert_int_equal(out.state.points, 50);
    assert_int_equal(out.state.seq, 1);
    assert_int_equal(out.purse_cents, 0);
    assert_true(out.agrees);
    assert_int_equal(out.round_trips, 49);
    status_is(f, a, LEDGER_CARD_REPLACED);
    status_is(f, b, LEDGER_CARD_ACTIVE);
    desk_fixture_balances(f, f->account, 0, 50); /* a replacement moves nothing */
    /* The old card still reads, as replaced (it is on the hot list). */
    {
        char new_card[512];
        snprintf(new_card, sizeof new_card, "%s", f->card);
        snprintf(f->card, sizeof f->card, "%s", old_card);
        r = desk_fixture_open_card(f);
        assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
        assert_int_equal(view.card_id, a);
        assert_int_equal(view.ledger.status, LEDGER_CARD_REPLACED);
        assert_int_equal(view.state.points, 50);
        /* Its points moved to the new card, yet it still carries them: a
         * disagreement (issue 10 §1), its history says so, nothing moves. */
        assert_false(view.agrees);
        char why[256];
        snprintf(why, sizeof why,
                 "the card was replaced by card %lld and still holds 50 points, which the ledger "
                 "moved to that card: keep it",
                 (long long)b);
        assert_string_equal(view.why, why);
        assert_int_equal(desk_fixture_card_event(f, a, LEDGER_CARD_REPLACED, view.why), 5);
        desk_fixture_balances(f, f->account, 0, 50);
        reader_close(r);
        snprintf(f->card, sizeof f->card, "%s", new_card);
    }

    /* Classic -> DESFire: points onto the state file, an empty purse. */
    req.replaced_card_id = b;
    c = issue_on(f, "desfire-ev1", NULL, 0, &req, &out);
    assert_int_equal(out.tech, LEDGER_TECH_DESFIRE_EV1);
    assert_int_equal(out.state.points, 50);
    assert_int_equal(out.purse_cents, 0);
    assert_true(out.agrees);
    status_is(f, b, LEDGER_CARD_REPLACED);
    status_is(f, c, LEDGER_CARD_ACTIVE);
    desk_fixture_balances(f, f->account, 0, 50);

    /* DESFire holding 12.50 -> Classic: refused (stored value is off on
     * Classic) before the card or the ledger is touched. */
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_topup(&f->is, r, 1250, &view), LEAL_OK);
    reader_close(r);
    desk_fixture_balances(f, f->account, 1250, 50);
    req.replaced_card_id = c;
    desk_fixture_new_card(f, "classic-1k", uid4, 4, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_CARD_STORED_VALUE_OFF);
    assert_int_equal(out.round_trips, 0);
    assert_int_equal(out.account_eur, 1250);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL); /* still blank */
    reader_close(r);
    assert_int_equal(count_cards_of(f, f->account), 3);
    status_is(f, c, LEDGER_CARD_ACTIVE);
    desk_fixture_balances(f, f->account, 1250, 50);

    /* A DESFire card without money -> Classic: its points move. */
    luis = desk_fixture_customer(f, "Luis");
    req = (struct issuance_request){.account_id = luis, .welcome_points = 20};
    d = issue_on(f, "desfire-ev3", NULL, 0, &req, &out);
    req = (struct issuance_request){.account_id = luis, .replacing = true, .replaced_card_id = d};
    issue_on(f, "classic-1k", uid4, 4, &req, &out);
    assert_int_equal(out.tech, LEDGER_TECH_CLASSIC_1K);
    assert_int_equal(out.state.points, 20);
    assert_true(out.agrees);
    status_is(f, d, LEDGER_CARD_REPLACED);
    status_is(f, out.card_id, LEDGER_CARD_ACTIVE);
    desk_fixture_balances(f, luis, 0, 20);
    desk_fixture_balances(f, f->account, 1250, 50);
}

/* Block and unblock are the ledger's (the hot list): a blocked Classic card
 * reads, as blocked, is refused at issuance with its status, and reads active
 * again once unblocked; erased while blocked it becomes lost. */
static void test_classic_block_unblock(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 15};
    struct issuance_card out, view;
    struct reader *r;

    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(ledger_card_set_status(f->ledger, out.card_id, LEDGER_CARD_BLOCKED), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.ledger.status, LEDGER_CARD_BLOCKED);
    assert_int_equal(view.state.points, 15);
    assert_true(view.agrees);
    assert_int_equal(view.ncards_on_account, 1);
    assert_int_equal(issuance_issue(&f->is, r, &req, &view), LEAL_E_CARD_ALREADY_ISSUED);
    assert_int_equal(view.ledger.status, LEDGER_CARD_BLOCKED);
    assert_int_equal(ledger_card_set_status(f->ledger, out.card_id, LEDGER_CARD_ACTIVE), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.ledger.status, LEDGER_CARD_ACTIVE);
    assert_true(view.agrees);
    assert_int_equal(ledger_card_set_status(f->ledger, out.card_id, LEDGER_CARD_BLOCKED), LEAL_OK);
    assert_int_equal(issuance_erase(&f->is, r, &view), LEAL_OK);
    status_is(f, out.card_id, LEDGER_CARD_LOST);
    desk_fixture_balances(f, f->account, 0, 15);
    reader_close(r);
}

/* Classic 4K with a 7-byte UID: leal's sectors 0-5 as on a 1K, keyed from the
 * 7-byte UID; sectors 6..39 (4K sectors 32..39 have 16 blocks) stay in the
 * transport state; issue, read and erase with the 1K's round trips and bytes. */
static void test_classic_4k_7byte_uid(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 25};
    struct issuance_card out, view;
    struct ledger_card lc;
    struct reader *r;
    const struct card_reader *cr;
    uint8_t blk[16], key[6];
    static const uint8_t transport[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t mad_a[6] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};

    desk_fixture_new_card(f, "classic-4k", uid7, 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.tech, LEDGER_TECH_CLASSIC_4K);
    assert_int_equal(out.uid_len, 7);
    assert_memory_equal(out.uid, uid7, 7);
    assert_int_equal(out.state.points, 25);
    assert_int_equal(out.state.seq, 1);
    assert_int_equal(out.purse_cents, 0);
    assert_int_equal(out.taps, 0);
    assert_int_equal(out.round_trips, 6 + 24 + 19);
    assert_int_equal(out.bytes, 11 * 13 + 19 * 19 + 49 + 183 + 80);
    assert_int_equal(ledger_card_find_by_id(f->ledger, out.card_id, &lc), LEAL_OK);
    assert_int_equal(lc.status, LEDGER_CARD_ACTIVE);
    assert_int_equal(lc.tech, LEDGER_TECH_CLASSIC_4K);
    assert_int_equal(lc.uid_len, 7);
    assert_memory_equal(lc.uid, uid7, 7);
    desk_fixture_balances(f, f->account, 0, 25);

    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    assert_int_equal(view.card_id, out.card_id);
    assert_int_equal(view.tech, LEDGER_TECH_CLASSIC_4K);
    assert_int_equal(view.state.points, 25);
    assert_int_equal(view.round_trips, 19);
    assert_int_equal(view.bytes, 183 + 134);

    /* The card's bytes: block 0 keeps the 7-byte UID; the MAD trailer's GPB is
     * C1 (MAD v1: no MAD2 in sector 16 of a 4K); sector 4 opens with key A
     * diversified on the 7-byte UID; sectors 6..39 are untouched. */
    cr = reader_card_reader(r);
    assert_int_equal(cr->classic_auth(cr->ctx, 0, CLASSIC_KEY_A, mad_a), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 0, blk), LEAL_OK);
    assert_memory_equal(blk, uid7, 7);
    assert_int_equal(cr->classic_read(cr->ctx, 3, blk), LEAL_OK);
    assert_memory_equal(blk + 6, ((uint8_t[]){0x78, 0x77, 0x88, 0xC1}), 4);
    sector_key_uid(f, KEY_ROLE_CLASSIC_A, uid7, 7, 4, key);
    assert_int_equal(cr->classic_auth(cr->ctx, 16, CLASSIC_KEY_A, key), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 19, blk), LEAL_OK);
    assert_memory_equal(blk + 6, ((uint8_t[]){0x7F, 0x07, 0x88, 0x00}), 4);
    for (unsigned s = 6; s < 40; s++) {
        unsigned first = mfclassic_sector_first_block(s), trailer = mfclassic_trailer_block(s);
        assert_int_equal(trailer - first, s < 32 ? 3 : 15);
        assert_int_equal(cr->classic_auth(cr->ctx, (uint8_t)first, CLASSIC_KEY_A, transport),
                         LEAL_OK);
        assert_int_equal(cr->classic_read(cr->ctx, (uint8_t)trailer, blk), LEAL_OK);
        assert_memory_equal(blk + 6, ((uint8_t[]){0xFF, 0x07, 0x80, 0x69}), 4);
        assert_int_equal(cr->classic_read(cr->ctx, (uint8_t)(trailer - 1), blk), LEAL_OK);
        assert_memory_equal(blk, ((uint8_t[16]){0}), 16);
    }

    /* Erase: LAYOUT.md 3.3, 52 round trips; sectors 0-5 back to transport. */
    assert_int_equal(issuance_erase(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.card_id, out.card_id);
    assert_int_equal(view.round_trips, 52);
    status_is(f, out.card_id, LEDGER_CARD_LOST);
    for (uint8_t s = 0; s < 6; s++) {
        assert_int_equal(cr->classic_auth(cr->ctx, (uint8_t)(4 * s), CLASSIC_KEY_A, transport),
                         LEAL_OK);
        assert_int_equal(cr->classic_read(cr->ctx, (uint8_t)(4 * s + 3), blk), LEAL_OK);
        assert_memory_equal(blk + 6, ((uint8_t[]){0xFF, 0x07, 0x80, 0x69}), 4);
        assert_int_equal(cr->classic_read(cr->ctx, (uint8_t)(4 * s + 2), blk), LEAL_OK);
        assert_memory_equal(blk, ((uint8_t[16]){0}), 16);
    }
    assert_int_equal(cr->classic_auth(cr->ctx, 0, CLASSIC_KEY_A, transport), LEAL_OK);
    assert_int_equal(cr->classic_read(cr->ctx, 0, blk), LEAL_OK);
    assert_memory_equal(blk, uid7, 7); /* the manufacturer block stays */
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL);
    reader_close(r);
}

/* A replacement onto Classic torn at every exchange (the card's answer lost),
 * then tapped again: the old card stays blocked until the new one is verified,
 * then it is replaced and the new card carries its points once. */
static void test_classic_replace_torn(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req;
    struct issuance_card out;
    unsigned torn = 0, resumed = 0;

    for (unsigned n = 1;; n++) {
        struct cardsim_tear tear = {.point = CARDSIM_TEAR_BEFORE_ANSWER, .after = n};
        struct reader *r;
        int64_t account, old;
        char name[32];
        leal_err err;
        bool fired;

        snprintf(name, sizeof name, "torn replace %u", n);
        account = desk_fixture_customer(f, name);
        req = (struct issuance_request){.account_id = account, .welcome_points = 40};
        old = issue_on(f, "classic-1k", uid4, 4, &req, &out);
        assert_int_equal(ledger_card_set_status(f->ledger, old, LEDGER_CARD_BLOCKED), LEAL_OK);
        req = (struct issuance_request){
            .account_id = account, .replacing = true, .replaced_card_id = old};
        desk_fixture_new_card(f, "classic-4k", uid7, 7, false);
        r = desk_fixture_open_card(f);
        err = issue_torn(f, r, tear, &req, &out, &fired);
        if (!fired) {
            assert_int_equal(err, LEAL_OK);
            assert_int_equal(out.round_trips, 49);
            assert_true(n > 49);
            status_is(f, old, LEDGER_CARD_REPLACED);
            reader_close(r);
            break;
        }
        torn++;
        assert_int_equal(err, LEAL_E_CARD_REMOVED);
        status_is(f, old, LEDGER_CARD_BLOCKED); /* still the account's card */
        assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
        assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
        resumed += out.resumed;
        assert_int_equal(out.tech, LEDGER_TECH_CLASSIC_4K);
        assert_int_equal(out.state.points, 40);
        assert_true(out.agrees);
        status_is(f, old, LEDGER_CARD_REPLACED);
        status_is(f, out.card_id, LEDGER_CARD_ACTIVE);
        assert_int_equal(count_cards_of(f, account), 2); /* one new card, not one a tap */
        desk_fixture_balances(f, account, 0, 40);
        reader_close(r);
    }
    print_message("replacements torn %u, started over %u\n", torn, resumed);
    assert_int_equal(torn, 49);
    assert_true(resumed > 0);
}

/* ---- Stored value on Classic (LAYOUT.md 3.2, 3.3) ---- */

/* The identity's flags as a terminal opens them (keys from the keystore). */
static uint8_t identity_flags(struct fixture *f, struct reader *r)
{
    struct classic_card cc;
    struct classic_card_keys k;
    const struct key_version *ks, *kp;
    uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN], seal[32], pub[32];
    struct identity id;
    memset(&k, 0, sizeof k);
    for (uint8_t s = 1; s <= 3; s++)
        sector_key(f, KEY_ROLE_CLASSIC_A, s, k.a[s]);
    classic_card_init(&cc, reader_card_reader(r));
    assert_int_equal(classic_card_read_identity(&cc, &k, span), LEAL_OK);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_CLASSIC_SEAL, &ks), LEAL_OK);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_PACKAGE_SIGNING, &kp), LEAL_OK);
    assert_int_equal(classic_keys_seal(crypto_openssl(), ks->key,
                                       &(struct classic_keys_card){uid4, 4, f->keys->issuer_id, 7},
                                       seal),
                     LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_public(kp->key, pub), LEAL_OK);
    assert_int_equal(
        classic_record_identity_open(&(struct classic_record_key){crypto_openssl(), seal}, span,
                                     uid4, 4, pub, &id),
        LEAL_OK);
    return id.flags;
}

static bool pending(struct fixture *f, int64_t card_id)
{
    struct ledger_pending_topup t;
    bool found = true;
    assert_int_equal(ledger_pending_topup_get(f->ledger, card_id, &t, &found), LEAL_OK);
    return found;
}

/* The request ids of the account's top-up entries, in order. */
static void topup_keys(struct fixture *f, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT coalesce(group_concat(request_id, ' '), '') FROM "
                                        "(SELECT request_id FROM entry WHERE kind = 'topup' "
                                        "ORDER BY id)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A program that enables Classic stored value with a cap of 50.00: the
 * identity flag is set at issuance, the opening top-up and `card top-up` move
 * exact euros (purse, seq, points, ledger), the cap is enforced before the
 * card is written, and a card issued while stored value was off stays off. */
static void test_classic_stored_value_topup(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = 0, .welcome_points = 10};
    struct issuance_card out, view;
    struct reader *r;
    int64_t off_card, other;
    char keys[256], want[256];

    /* Issued while the program has Classic stored value off: flag clear. */
    other = desk_fixture_customer(f, "Luis");
    req.account_id = other;
    desk_fixture_new_card(f, "classic-1k", uid4, 4, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    off_card = out.card_id;
    assert_false(out.stored_value);
    assert_int_equal(identity_flags(f, r), 0);
    /* The program enables it later: this card still carries no money. */
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 5000), LEAL_OK);
    assert_int_equal(issuance_topup(&f->is, r, 100, &view), LEAL_E_CARD_STORED_VALUE_OFF);
    assert_int_equal(view.card_id, off_card);
    assert_int_equal(view.round_trips, 19);
    assert_false(pending(f, off_card));
    desk_fixture_balances(f, other, 0, 10);
    reader_close(r);

    /* Over the cap at issuance: refused before the card or the ledger is touched. */
    req.account_id = f->account;
    req.topup_cents = 5001;
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_CARD_BOUNDARY);
    assert_int_equal(out.round_trips, 0);
    assert_int_equal(out.classic_cap_cents, 5000);
    assert_int_equal(count_cards_of(f, f->account), 0);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL);

    /* Issued with 10.00: flag set, slot 1 at seq 2 with the money. */
    req.topup_cents = 1000;
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_true(out.stored_value);
    assert_int_equal(out.purse_cents, 1000);
    assert_int_equal(out.state.seq, 2);
    assert_int_equal(out.state.points, 10);
    assert_int_equal(out.taps, 1);
    assert_true(out.agrees);
    /* LAYOUT.md 3.3: issuance 49, its opening top-up 4 (the verification is its read). */
    assert_int_equal(out.round_trips, 49 + 4);
    assert_int_equal(identity_flags(f, r), IDENTITY_FLAG_STORED_VALUE);
    assert_false(pending(f, out.card_id));
    desk_fixture_balances(f, f->account, 1000, 10);
    snprintf(want, sizeof want, "card:%lld:seq:2", (long long)out.card_id);
    topup_keys(f, keys, sizeof keys);
    assert_string_equal(keys, want);

    /* A top-up: the read (19), then the other slot (auth + 3 writes). */
    assert_int_equal(issuance_topup(&f->is, r, 2500, &view), LEAL_OK);
    assert_int_equal(view.round_trips, 23);
    assert_int_equal(view.bytes, 183 + 134 + 13 + 3 * 19);
    assert_int_equal(view.purse_cents, 3500);
    assert_int_equal(view.state.seq, 3);
    assert_int_equal(view.state.points, 10);
    assert_int_equal(view.taps, 2);
    assert_int_equal(view.account_eur, 3500);
    assert_true(view.agrees);
    assert_false(pending(f, out.card_id));
    desk_fixture_balances(f, f->account, 3500, 10);

    /* One cent over the cap: refused after the read, nothing written. */
    assert_int_equal(issuance_topup(&f->is, r, 1501, &view), LEAL_E_CARD_BOUNDARY);
    assert_int_equal(view.round_trips, 19);
    assert_int_equal(view.purse_cents, 3500);
    assert_int_equal(view.classic_cap_cents, 5000);
    assert_false(pending(f, out.card_id));
    desk_fixture_balances(f, f->account, 3500, 10);
    assert_int_equal(issuance_topup(&f->is, r, 1500, &view), LEAL_OK);
    assert_int_equal(view.purse_cents, 5000);
    assert_int_equal(view.state.seq, 4);

    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    assert_int_equal(view.purse_cents, 5000);
    assert_int_equal(view.state.seq, 4);
    assert_int_equal(view.recovered, 0);
    assert_int_equal(view.round_trips, 19);
    desk_fixture_balances(f, f->account, 5000, 10);
    snprintf(want, sizeof want, "card:%lld:seq:2 card:%lld:seq:3 card:%lld:seq:4",
             (long long)out.card_id, (long long)out.card_id, (long long)out.card_id);
    topup_keys(f, keys, sizeof keys);
    assert_string_equal(keys, want);
    /* The program cannot lower its Classic cap below what this card may hold. */
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 4999), LEAL_E_PURSE_CAP_HELD);

    /* A blocked card takes no money. */
    assert_int_equal(ledger_card_set_status(f->ledger, out.card_id, LEDGER_CARD_BLOCKED), LEAL_OK);
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 10000), LEAL_OK);
    assert_int_equal(issuance_topup(&f->is, r, 100, &view), LEAL_E_CARD_BLOCKED);
    desk_fixture_balances(f, f->account, 5000, 10);
    /* Nor is a card holding money erased: refused after the probe (12) and the
     * identity (11), before anything is written. */
    assert_int_equal(issuance_erase(&f->is, r, &view), LEAL_E_CARD_BOUNDARY);
    assert_int_equal(view.round_trips, 12 + 11);
    assert_int_equal(view.purse_cents, 5000);
    status_is(f, out.card_id, LEDGER_CARD_BLOCKED);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.purse_cents, 5000);
    assert_int_equal(view.state.seq, 4);
    reader_close(r);
}

/* A purse over the program's cap, or on a card whose identity says stored
 * value is off, does not verify (LAYOUT.md 3.2): tampered. */
static void test_classic_purse_over_cap_is_tampered(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .topup_cents = 4000};
    struct issuance_card out, view;
    struct reader *r;
    sqlite3 *db;

    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 5000), LEAL_OK);
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    /* The cap lowered behind the ledger's back (the ledger itself refuses it):
     * 40.00 on a card is now more than the program allows. */
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE program SET classic_stored_value_cap_cents = 3999 "
                                  "WHERE id = 7",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    assert_int_equal(issuance_topup(&f->is, r, 1, &view), LEAL_E_CARD_TAMPERED);
    assert_false(pending(f, out.card_id));
    reader_close(r);
}

/* Money sealed onto a card whose signed identity says stored value is off (a
 * terminal's seal key, no desk top-up): the purse must be 0, so it reads as
 * tampered, even with the program's Classic stored value on. */
static void test_classic_purse_on_a_card_without_stored_value_is_tampered(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 3};
    struct issuance_card out, view;
    struct classic_record_state st;
    const struct key_version *ks;
    const struct card_reader *cr;
    uint8_t seal[32], span[CLASSIC_RECORD_STATE_SPAN], key[6];
    struct reader *r;

    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_false(out.stored_value);
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 5000), LEAL_OK);
    /* Slot 1 (sector 5): seq 2, the same points, 1.00 in the purse. */
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_CLASSIC_SEAL, &ks), LEAL_OK);
    assert_int_equal(classic_keys_seal(crypto_openssl(), ks->key,
                                       &(struct classic_keys_card){uid4, 4, f->keys->issuer_id, 7},
                                       seal),
                     LEAL_OK);
    memset(&st, 0, sizeof st);
    st.body = out.state;
    st.body.seq = 2;
    st.purse = 100;
    assert_int_equal(classic_record_state_seal(&(struct classic_record_key){crypto_openssl(), seal},
                                               (uint64_t)out.card_id, 1, &st, span),
                     LEAL_OK);
    cr = reader_card_reader(r);
    sector_key(f, KEY_ROLE_CLASSIC_A, 5, key);
    assert_int_equal(cr->classic_auth(cr->ctx, 20, CLASSIC_KEY_A, key), LEAL_OK);
    for (uint8_t b = 0; b < 3; b++)
        assert_int_equal(cr->classic_write(cr->ctx, (uint8_t)(20 + b), span + 16 * b), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    assert_int_equal(issuance_topup(&f->is, r, 100, &view), LEAL_E_CARD_TAMPERED);
    /* The same with 0.00 is an honest newer state. */
    st.purse = 0;
    assert_int_equal(classic_record_state_seal(&(struct classic_record_key){crypto_openssl(), seal},
                                               (uint64_t)out.card_id, 1, &st, span),
                     LEAL_OK);
    assert_int_equal(cr->classic_auth(cr->ctx, 20, CLASSIC_KEY_A, key), LEAL_OK);
    for (uint8_t b = 0; b < 3; b++)
        assert_int_equal(cr->classic_write(cr->ctx, (uint8_t)(20 + b), span + 16 * b), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.state.seq, 2);
    assert_int_equal(view.purse_cents, 0);
    assert_true(view.agrees);
    desk_fixture_balances(f, f->account, 0, 3);
    reader_close(r);
}

/* A Classic top-up torn at every exchange, each way the virtual card tears,
 * then tapped again: the read settles the pending top-up (posted if the card
 * shows it, dropped if the card still shows the old slot), and no euro is
 * created or lost; the card's seq, purse and points and the ledger agree. */
static void test_classic_topup_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 7};
    struct issuance_card out, view;
    struct reader *r;
    int64_t expected, card;
    unsigned torn = 0, posted = 0, dropped = 0, untouched = 0, tops = 1;

    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 100000), LEAL_OK);
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    card = out.card_id;
    assert_int_equal(issuance_topup(&f->is, r, 100, &view), LEAL_OK);
    assert_int_equal(view.round_trips, 23);
    expected = 100;
    for (size_t w = 0; w < sizeof tear_ways / sizeof tear_ways[0]; w++) {
        for (unsigned n = 1;; n++) {
            struct cardsim_tear tear = {
                .point = tear_ways[w].point, .after = n, .classic_block = tear_ways[w].block};
            leal_err err;
            bool fired;
            cardsim_set_tear(reader_sim_card(r), &tear);
            err = issuance_topup(&f->is, r, 100, &view);
            fired = cardsim_torn(reader_sim_card(r));
            tear.point = CARDSIM_TEAR_NONE;
            cardsim_set_tear(reader_sim_card(r), &tear);
            if (!fired) {
                /* Past the last exchange: an untorn top-up. */
                assert_int_equal(err, LEAL_OK);
                assert_int_equal(n, 24);
                expected += 100;
                tops++;
                break;
            }
            torn++;
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            /* The intent is in the ledger from the moment the card may be written. */
            assert_int_equal(pending(f, card), n >= 20);
            assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
            assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
            if (view.purse_cents == expected + 100) {
                /* The card has it: the read posted it, once. */
                assert_int_equal(view.recovered, 1);
                assert_int_equal(view.dropped, 0);
                expected += 100;
                tops++;
                posted++;
            } else {
                assert_int_equal(view.purse_cents, expected);
                assert_int_equal(view.recovered, 0);
                assert_int_equal(view.dropped, n >= 20 ? 1 : 0);
                dropped += n >= 20;
                untouched += n < 20;
            }
            assert_false(pending(f, card));
            assert_true(view.agrees);
            assert_int_equal(view.state.seq, 1 + tops);
            assert_int_equal(view.state.points, 7);
            assert_int_equal(view.account_eur, expected);
            desk_fixture_balances(f, f->account, expected, 7);
            /* Read again: nothing left to settle. */
            assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
            assert_int_equal(view.recovered + view.dropped, 0);
            assert_true(view.agrees);
        }
    }
    print_message("torn %u: posted by the next read %u, dropped %u, before the write %u\n", torn,
                  posted, dropped, untouched);
    /* 23 exchanges, each way. */
    assert_int_equal(torn, 5 * 23);
    assert_int_equal(untouched, 5 * 19);
    /* Only a complete third block write leaves the new slot valid: its answer
     * lost, or power lost once the new block was in. */
    assert_int_equal(posted, 2);
    assert_int_equal(dropped, 5 * 4 - 2);
    assert_int_equal(expected, 100 * (int64_t)tops);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    reader_close(r);
}

/* A pending top-up the card neither shows nor undid (the card moved on, or was
 * restored): named, left for a person, and no top-up meanwhile. */
static void test_classic_unsettled_topup_is_reported(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .topup_cents = 1100};
    struct issuance_card out, view;
    struct ledger_pending_topup t;
    struct reader *r;

    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 5000), LEAL_OK);
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.state.seq, 2);
    memset(&t, 0, sizeof t);
    t.card_id = out.card_id;
    t.seq_before = 4;
    t.seq_after = 5;
    t.purse_after = 1200;
    t.cents = 100;
    snprintf(t.request_id, sizeof t.request_id, "card:%lld:seq:5", (long long)out.card_id);
    assert_int_equal(ledger_pending_topup_add(f->ledger, &t), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_false(view.agrees);
    assert_true(view.unsettled);
    assert_string_equal(view.why, "a top-up of 1.00 (seq 4 to 5, purse 12.00) is neither on the "
                                  "card nor undone: the card is at seq 2 with 11.00");
    assert_int_equal(issuance_topup(&f->is, r, 100, &view), LEAL_E_CARD_TOPUP_UNSETTLED);
    assert_true(pending(f, out.card_id));
    desk_fixture_balances(f, f->account, 1100, 0);
    /* Settled by hand (dropped): the card and the ledger agree again. */
    assert_int_equal(ledger_pending_topup_drop(f->ledger, out.card_id, t.request_id), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    reader_close(r);
}

/* A state sealed with the card's keys (a stolen terminal bundle holds
 * classic-seal and classic-a) written into SLOT. */
static void write_slot(struct fixture *f, struct reader *r, int64_t card_id, unsigned slot,
                       const struct classic_record_state *st)
{
    const struct key_version *ks;
    const struct card_reader *cr = reader_card_reader(r);
    uint8_t seal[32], span[CLASSIC_RECORD_STATE_SPAN], key[6];
    uint8_t first = (uint8_t)(slot ? 20 : 16);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_CLASSIC_SEAL, &ks), LEAL_OK);
    assert_int_equal(classic_keys_seal(crypto_openssl(), ks->key,
                                       &(struct classic_keys_card){uid4, 4, f->keys->issuer_id, 7},
                                       seal),
                     LEAL_OK);
    if (st)
        assert_int_equal(
            classic_record_state_seal(&(struct classic_record_key){crypto_openssl(), seal},
                                      (uint64_t)card_id, slot, st, span),
            LEAL_OK);
    else
        memset(span, 0, sizeof span);
    sector_key(f, KEY_ROLE_CLASSIC_A, (uint8_t)(slot ? 5 : 4), key);
    assert_int_equal(cr->classic_auth(cr->ctx, first, CLASSIC_KEY_A, key), LEAL_OK);
    for (uint8_t b = 0; b < 3; b++)
        assert_int_equal(cr->classic_write(cr->ctx, (uint8_t)(first + b), span + 16 * b), LEAL_OK);
}

/* Issue 10 §1: a Classic dump restored after a top-up (the card behind the
 * ledger) used to be topped up and read "ledger agrees"; now it is refused for
 * every write and blocked with why, the ledger unchanged. A slot zeroed so
 * that the older one wins is the same verdict. */
static void test_classic_restored_dump_is_blocked(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .topup_cents = 2000};
    static const char why[] =
        "its state (seq 2) is behind the ledger's (seq 3): a restored dump or a clone";
    struct issuance_card out, view;
    struct reader *r;
    char dump[600];

    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 5000), LEAL_OK);
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.state.seq, 2);
    reader_close(r);
    snprintf(dump, sizeof dump, "%s/dump.json", f->dir);
    desk_fixture_copy(f->card, dump);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_topup(&f->is, r, 500, &view), LEAL_OK);
    assert_int_equal(view.state.seq, 3);
    reader_close(r);
    desk_fixture_balances(f, f->account, 2500, 0);

    desk_fixture_copy(dump, f->card);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    assert_true(view.verdict);
    assert_string_equal(view.why, why);
    assert_int_equal(view.purse_cents, 2000);
    (void)desk_fixture_card_event(f, out.card_id, LEDGER_CARD_BLOCKED, why);
    assert_int_equal(issuance_topup(&f->is, r, 500, &view), LEAL_E_CARD_TAMPERED);
    assert_false(pending(f, out.card_id));
    /* Erase: the card holds money as the desk last read it. */
    assert_int_equal(issuance_erase(&f->is, r, &view), LEAL_E_CARD_BOUNDARY);
    desk_fixture_balances(f, f->account, 2500, 0);
    reader_close(r);

    /* Another card: the current slot zeroed, so the older slot wins. */
    snprintf(f->card, sizeof f->card, "%s/second.json", f->dir);
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    req.account_id = desk_fixture_customer(f, "Bea");
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(issuance_topup(&f->is, r, 500, &view), LEAL_OK);
    assert_int_equal(view.state.seq, 3); /* seq 1 slot 0, 2 slot 1, 3 slot 0 */
    write_slot(f, r, out.card_id, 0, NULL);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    assert_string_equal(view.why, why);
    (void)desk_fixture_card_event(f, out.card_id, LEDGER_CARD_BLOCKED, why);
    desk_fixture_balances(f, req.account_id, 2500, 0);
    reader_close(r);
}

/* Issue 10 §1: the state the desk last saw, forked: the same seq sealed with
 * other contents (a stolen terminal bundle: more points, the same purse).
 * The last seen state tag tells them apart: blocked with why. */
static void test_classic_fork_is_blocked(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 50};
    static const char why[] = "its state at seq 1 is not the one the desk last saw at that seq: "
                              "a forged or forked state";
    struct classic_record_state st;
    struct issuance_card out, view;
    struct reader *r;

    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    memset(&st, 0, sizeof st);
    st.body = out.state;
    st.body.points = 5000;
    write_slot(f, r, out.card_id, 0, &st);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    assert_string_equal(view.why, why);
    assert_int_equal(view.state.points, 5000);
    (void)desk_fixture_card_event(f, out.card_id, LEDGER_CARD_BLOCKED, why);
    desk_fixture_balances(f, f->account, 0, 50);
    /* The state the desk saw, put back: the same seq and contents, the same tag. */
    st.body.points = 50;
    write_slot(f, r, out.card_id, 0, &st);
    assert_int_equal(ledger_card_change_status(f->ledger, out.card_id, LEDGER_CARD_ACTIVE,
                                               "put back as read", "test"),
                     LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    reader_close(r);
}

/* Issue 10 §5 on Classic: points posted by hand before the card was issued
 * are explained by the read and brought over by leal card sync (the other
 * slot at seq + 1, 4 RT after the read); then the card, at the desk for its
 * replacement, is emptied (purse and points to 0 at seq + 1) and the new
 * card takes the balances from the ledger. */
static void test_classic_sync_and_empty_old(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {
        .account_id = f->account, .welcome_points = 5, .topup_cents = 1000};
    struct issuance_card out, view, old;
    struct reader *r;

    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 5000), LEAL_OK);
    desk_fixture_post_points(f, f->account, 30, "hand:1");
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_false(out.agrees);
    {
        char day[16], why[256];
        time_t t = time(NULL);
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        assert_true(strftime(day, sizeof day, "%Y-%m-%d", &tm) > 0);
        snprintf(why, sizeof why,
                 "the ledger has 30 points the card does not (1 entry, posted by hand on %s); "
                 "run leal card sync",
                 day);
        assert_string_equal(out.why, why);
    }
    assert_int_equal(issuance_sync(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.sync_points, 30);
    assert_int_equal(view.state.points, 35);
    assert_int_equal(view.state.seq, 3);
    assert_int_equal(view.purse_cents, 1000);
    assert_int_equal(view.round_trips, 19 + 4);
    assert_true(view.agrees);
    desk_fixture_balances(f, f->account, 1000, 35);
    assert_int_equal(issuance_sync(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.sync_points, 0);
    assert_int_equal(view.round_trips, 19);

    assert_int_equal(issuance_empty_old(&f->is, r, out.card_id, &old), LEAL_OK);
    assert_int_equal(old.purse_cents, 1000);
    assert_int_equal(old.state.points, 35);
    assert_int_equal(old.round_trips, 19 + 4);
    (void)desk_fixture_card_event(f, out.card_id, LEDGER_CARD_LOST,
                                  "emptied at the desk for its replacement");
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.state.seq, 4);
    assert_int_equal(view.purse_cents, 0);
    assert_int_equal(view.state.points, 0);
    assert_true(view.agrees);
    desk_fixture_balances(f, f->account, 1000, 35);
    reader_close(r);
    snprintf(f->card, sizeof f->card, "%s/new.json", f->dir);
    desk_fixture_new_card(f, "desfire-ev1", NULL, 0, true);
    r = desk_fixture_open_card(f);
    req = (struct issuance_request){
        .account_id = f->account, .replacing = true, .replaced_card_id = out.card_id};
    assert_int_equal(issuance_issue(&f->is, r, &req, &view), LEAL_OK);
    assert_int_equal(view.purse_cents, 1000);
    assert_int_equal(view.state.points, 35);
    assert_true(view.agrees);
    desk_fixture_balances(f, f->account, 1000, 35);
    reader_close(r);
}

/* leal card sync on Classic torn at every exchange, each way the card tears:
 * the intent is in the ledger from exchange 20 (after the read's 19), and the
 * next read settles it (the new slot opens) or drops it: the points arrive
 * exactly once. */
static void test_classic_sync_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 7};
    struct issuance_card out, view;
    struct ledger_pending_sync p;
    struct reader *r;
    int64_t points = 7;
    unsigned torn = 0, settled = 0, dropped = 0, untouched = 0, k = 0;
    bool found;
    char request[32];

    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    for (size_t w = 0; w < sizeof tear_ways / sizeof tear_ways[0]; w++) {
        for (unsigned n = 1;; n++) {
            struct cardsim_tear tear = {
                .point = tear_ways[w].point, .after = n, .classic_block = tear_ways[w].block};
            leal_err err;
            bool fired;
            snprintf(request, sizeof request, "hand:%u", ++k);
            desk_fixture_post_points(f, f->account, 10, request);
            cardsim_set_tear(reader_sim_card(r), &tear);
            err = issuance_sync(&f->is, r, &view);
            fired = cardsim_torn(reader_sim_card(r));
            tear.point = CARDSIM_TEAR_NONE;
            cardsim_set_tear(reader_sim_card(r), &tear);
            if (!fired) {
                assert_int_equal(err, LEAL_OK);
                assert_int_equal(n, 24);
                points += 10;
                assert_int_equal(view.state.points, points);
                assert_true(view.agrees);
                break;
            }
            torn++;
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            assert_int_equal(ledger_pending_sync_get(f->ledger, out.card_id, &p, &found), LEAL_OK);
            assert_int_equal(found, n >= 20);
            assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
            assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
            if (view.state.points == points + 10) {
                assert_int_equal(view.synced, 1);
                points += 10;
                settled++;
            } else {
                assert_int_equal(view.state.points, points);
                assert_int_equal(view.synced, 0);
                assert_int_equal(view.dropped, n >= 20 ? 1 : 0);
                dropped += n >= 20;
                untouched += n < 20;
                assert_int_equal(issuance_sync(&f->is, r, &view), LEAL_OK);
                assert_int_equal(view.sync_points, 10);
                points += 10;
            }
            assert_int_equal(ledger_pending_sync_get(f->ledger, out.card_id, &p, &found), LEAL_OK);
            assert_false(found);
            assert_int_equal(view.state.points, points);
            assert_true(view.agrees);
            desk_fixture_balances(f, f->account, 0, points);
        }
    }
    print_message("torn %u: settled by the next read %u, dropped %u, before the intent %u\n", torn,
                  settled, dropped, untouched);
    assert_int_equal(torn, 5 * 23);
    assert_int_equal(untouched, 5 * 19);
    assert_int_equal(settled, 2);
    assert_int_equal(dropped, 5 * 4 - 2);
    assert_int_equal(points, 7 + 10 * (int64_t)k);
    reader_close(r);
}

/* Replacing onto Classic with stored value on: the replaced card's euros go
 * onto the new card's first state if they fit the Classic cap; if not, the
 * replacement is refused before anything is written. */
static void test_classic_replace_with_stored_value(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 5};
    struct issuance_card out, view;
    struct reader *r;
    int64_t old;

    old = issue_on(f, "desfire-ev1", NULL, 0, &req, &out);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_topup(&f->is, r, 1250, &view), LEAL_OK);
    reader_close(r);
    assert_int_equal(ledger_card_set_status(f->ledger, old, LEDGER_CARD_LOST), LEAL_OK);
    req = (struct issuance_request){
        .account_id = f->account, .replacing = true, .replaced_card_id = old};
    /* A Classic cap of 12.49: the card's 12.50 does not fit. */
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 1249), LEAL_OK);
    new_card(f, "classic-1k");
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_CARD_BOUNDARY);
    assert_int_equal(out.round_trips, 0);
    assert_int_equal(out.account_eur, 1250);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_NOT_LEAL); /* still blank */
    assert_int_equal(count_cards_of(f, f->account), 1);
    status_is(f, old, LEDGER_CARD_LOST);
    /* 12.50 fits, an opening top-up on top of it would not. */
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 2000), LEAL_OK);
    req.topup_cents = 751;
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_CARD_BOUNDARY);
    assert_int_equal(out.round_trips, 0);
    req.topup_cents = 0;
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_true(out.stored_value);
    assert_int_equal(out.purse_cents, 1250);
    assert_int_equal(out.state.points, 5);
    assert_int_equal(out.state.seq, 1);
    assert_true(out.agrees);
    assert_int_equal(identity_flags(f, r), IDENTITY_FLAG_STORED_VALUE);
    status_is(f, old, LEDGER_CARD_REPLACED);
    desk_fixture_balances(f, f->account, 1250, 5); /* a replacement moves no money */
    assert_int_equal(issuance_topup(&f->is, r, 750, &view), LEAL_OK);
    assert_int_equal(view.purse_cents, 2000);
    assert_true(view.agrees);
    desk_fixture_balances(f, f->account, 2000, 5);
    reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_classic_issue_and_read, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_4k_opening_topup_refused_and_tampered,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_issuance_torn_at_every_exchange,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_erase, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_erase_torn, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_replace, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_block_unblock, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_4k_7byte_uid, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_replace_torn, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_stored_value_topup, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_purse_over_cap_is_tampered, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_classic_purse_on_a_card_without_stored_value_is_tampered, desk_fixture_setup,
            desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_topup_torn_at_every_exchange,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_unsettled_topup_is_reported,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_replace_with_stored_value, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_restored_dump_is_blocked, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_fork_is_blocked, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_sync_and_empty_old, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_sync_torn_at_every_exchange,
                                        desk_fixture_setup, desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
