/* layout2_test.c - layout version 2 at the desk (LAYOUT.md 4) on the virtual
 * DESFire card through the sim: reader: a new card is made at version 2 with
 * no bonos; a version-1 card (as leal made them before: no file 06, state
 * version 01) is upgraded at its next desk read, torn at every exchange of
 * it each way the card tears; a state version nobody knows is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/bono.h"
#include "cardlayout/records/state.h"
#include "host/cardsim/cardsim.h"
#include "host/issuance/issuance.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"

static const uint8_t uid7[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
static const uint8_t aid[3] = {LAYOUT_DF_AID_0, LAYOUT_DF_AID_1, LAYOUT_DF_AID_2};

static void card_key_of(struct fixture *f, enum key_role role, uint8_t key[16])
{
    const struct key_version *v;
    assert_int_equal(keyset_current(f->keys, 7, role, &v), LEAL_OK);
    assert_int_equal(
        derive_card_key(crypto_openssl(), v->key,
                        &(struct derive_card_input){uid7, sizeof uid7, aid, f->keys->issuer_id, 7},
                        key),
        LEAL_OK);
}

/* A session under the application master key (key 0), as only the desk has. */
static void key0_session(struct fixture *f, struct reader *r, struct desfire *d)
{
    uint8_t key[16];
    card_key_of(f, KEY_ROLE_APP_MASTER, key);
    desfire_init(d, reader_card_reader(r), crypto_openssl());
    assert_int_equal(desfire_select_application(d, aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(d, LAYOUT_KEY_APP_MASTER, key), LEAL_OK);
}

/* The card's state file rewritten with version byte VERSION (any byte), the
 * body as it is but for its period (311: a card that has earned, so welcomed,
 * RULES.md 3), under key 0; with drop_bonos, file 06 deleted first
 * (DeleteFile DF 06): the card as leal made it before layout version 2. */
static void set_state_version(struct fixture *f, struct reader *r, uint8_t version, bool drop_bonos)
{
    uint8_t st[STATE_FILE_LEN], layout, file = LAYOUT_FILE_BONOS, ans[16];
    struct state_body body;
    uint64_t id;
    struct desfire d;
    if (drop_bonos) {
        struct desfire_frame del = {0xDF, &file, 1, ans, sizeof ans, 0, 0};
        key0_session(f, r, &d);
        assert_int_equal(desfire_send_frame(&d, &del), LEAL_OK);
        assert_int_equal(del.status, 0x00);
        desfire_clear(&d);
    }
    key0_session(f, r, &d);
    assert_int_equal(
        desfire_read_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, STATE_FILE_LEN, st),
        LEAL_OK);
    st[0] = LAYOUT_VERSION; /* whatever it was: its body is rewritten as it is */
    assert_int_equal(state_file_decode(st, sizeof st, &layout, &id, &body), LEAL_OK);
    body.period = 311;
    assert_int_equal(state_file_encode(LAYOUT_VERSION, id, &body, st), LEAL_OK);
    st[0] = version; /* any byte, the unknown ones too */
    assert_int_equal(
        desfire_write_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st, STATE_FILE_LEN),
        LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    desfire_clear(&d);
}

/* The ledger's record of the card's layout version, as a card issued before
 * version 2 has it. */
static void ledger_layout(struct fixture *f, int64_t card, int version)
{
    sqlite3 *db;
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE card SET layout_version = %d WHERE card_id = %lld", version,
             (long long)card);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Whether the card holds file 06: ReadData under key 0 answers or says no such file. */
static bool has_bono_file(struct fixture *f, struct reader *r)
{
    uint8_t b[BONO_FILE_LEN];
    struct desfire d;
    leal_err err;
    key0_session(f, r, &d);
    err = desfire_read_data(&d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, sizeof b, b);
    desfire_clear(&d);
    assert_true(err == LEAL_OK || err == LEAL_E_CARD_FILE_NOT_FOUND);
    return err == LEAL_OK;
}

static struct reader *issue(struct fixture *f, int64_t account, struct issuance_card *out)
{
    struct issuance_request req = {
        .account_id = account, .welcome_points = 40, .topup_cents = 2000};
    struct reader *r;
    desk_fixture_new_card(f, "desfire-ev1", uid7, 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, out), LEAL_OK);
    return r;
}

static void assert_no_bonos(const struct issuance_card *v)
{
    for (int i = 0; i < BONO_SLOTS; i++) {
        assert_int_equal(v->bonos.slot[i].id, 0);
        assert_int_equal(v->bonos.slot[i].sessions, 0);
    }
}

static void test_new_card_is_version_2(void **state)
{
    struct fixture *f = *state;
    struct issuance_card out, view;
    struct reader *r = issue(f, f->account, &out);
    assert_int_equal(out.layout_version, LAYOUT_VERSION_BONOS);
    assert_int_equal(out.round_trips, 30 + 8); /* LAYOUT.md 4.4 */
    assert_true(has_bono_file(f, r));
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    assert_false(view.upgraded);
    assert_int_equal(view.layout_version, LAYOUT_VERSION_BONOS);
    assert_int_equal(view.round_trips, 9);
    assert_int_equal(view.state.seq, 0);
    assert_no_bonos(&view);
    assert_int_equal(view.ledger.layout_version, LAYOUT_VERSION_BONOS);
    desk_fixture_balances(f, f->account, 2000, 40);
    reader_close(r);
}

static void test_version_1_card_upgraded_at_next_read(void **state)
{
    struct fixture *f = *state;
    struct issuance_card out, view;
    struct ledger_card lc;
    struct reader *r = issue(f, f->account, &out);
    set_state_version(f, r, LAYOUT_VERSION, true);
    ledger_layout(f, out.card_id, LAYOUT_VERSION);
    assert_false(has_bono_file(f, r));
    /* The read (8), then key 0 (2), CreateBackupDataFile, two writes, commit. */
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    assert_true(view.upgraded);
    assert_int_equal(view.layout_version, LAYOUT_VERSION_BONOS);
    assert_int_equal(view.round_trips, 8 + 6);
    assert_int_equal(view.state.seq, 1); /* issued at 0, the upgrade's write 1 */
    assert_int_equal(view.state.points, 40);
    assert_int_equal(view.state.period, 311); /* the welcome mark kept as it was */
    assert_int_equal(view.purse_cents, 2000);
    assert_int_equal(view.taps, 1); /* no value moved: the counter is untouched */
    assert_no_bonos(&view);
    assert_true(has_bono_file(f, r));
    assert_int_equal(ledger_card_find_by_id(f->ledger, out.card_id, &lc), LEAL_OK);
    assert_int_equal(lc.layout_version, LAYOUT_VERSION_BONOS);
    assert_int_equal(ledger_card_set_layout(f->ledger, out.card_id, LAYOUT_VERSION), LEAL_E_ARG);
    /* Then a version-2 card like any other: 9 RT, nothing more to do; a top-up as usual. */
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_false(view.upgraded);
    assert_int_equal(view.round_trips, 9);
    assert_int_equal(view.state.seq, 1);
    assert_int_equal(issuance_topup(&f->is, r, 500, &view), LEAL_OK);
    assert_int_equal(view.round_trips, 9 + 8);
    assert_int_equal(view.purse_cents, 2500);
    desk_fixture_balances(f, f->account, 2500, 40);
    /* A sync right after an upgrade opens the terminal key again (the upgrade
     * left key 0's session). */
    set_state_version(f, r, LAYOUT_VERSION, true);
    desk_fixture_post_points(f, f->account, 10, "hand:1");
    assert_int_equal(issuance_sync(&f->is, r, &view), LEAL_OK);
    assert_true(view.upgraded);
    assert_int_equal(view.sync_points, 10);
    assert_int_equal(view.state.points, 50);
    assert_int_equal(view.layout_version, LAYOUT_VERSION_BONOS);
    assert_int_equal(view.round_trips, 8 + 6 + 3 + 3);
    reader_close(r);
}

/* A state version this code does not know: refused as such, nothing written. */
static void test_unknown_version_refused(void **state)
{
    struct fixture *f = *state;
    struct issuance_card out, view;
    struct reader *r = issue(f, f->account, &out);
    set_state_version(f, r, 4, false);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_LAYOUT_VERSION);
    assert_int_equal(issuance_topup(&f->is, r, 100, &view), LEAL_E_LAYOUT_VERSION);
    /* Version 3 (LAYOUT.md 2.10) is 36 bytes: in a 32-byte file, tampered. */
    set_state_version(f, r, LAYOUT_VERSION_MIRROR, false);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_CARD_TAMPERED);
    set_state_version(f, r, 0, false);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_E_LAYOUT_VERSION);
    desk_fixture_balances(f, f->account, 2000, 40);
    reader_close(r);
}

/* The upgrade torn at each of the read's 14 exchanges, each way: the next
 * read finds a version-1 card (upgraded then: 14 RT, or 16 when the torn one
 * left its file), or the version-2 card the commit made (9 RT); never
 * anything else, and nothing of the card's moves. */
static void test_upgrade_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    unsigned outcome[3] = {0, 0, 0}; /* redone, redone over a left file, committed */
    for (size_t w = 0; w < DESK_FIXTURE_TEAR_WAYS; w++) {
        for (unsigned n = 1;; n++) {
            struct issuance_card out, view;
            char name[32];
            int64_t account;
            struct reader *r;
            leal_err err;
            bool fired, left;
            snprintf(name, sizeof name, "torn %zu %u", w, n);
            account = desk_fixture_customer(f, name);
            r = issue(f, account, &out);
            set_state_version(f, r, LAYOUT_VERSION, true);
            desk_fixture_tear_arm(r, w, n);
            err = issuance_read(&f->is, r, &view);
            fired = desk_fixture_tear_fired(r);
            if (!fired) {
                assert_int_equal(err, LEAL_OK);
                assert_int_equal(n, 15);
                assert_true(view.upgraded);
                reader_close(r);
                break;
            }
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            left = has_bono_file(f, r);
            assert_true(left ||
                        n <= 11); /* the file is there from CreateBackupDataFile's command */
            assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
            assert_true(view.agrees);
            assert_int_equal(view.layout_version, LAYOUT_VERSION_BONOS);
            if (!view.upgraded) {
                assert_int_equal(view.round_trips, 9); /* the torn commit took */
                outcome[2]++;
            } else {
                assert_int_equal(view.round_trips, left ? 8 + 8 : 8 + 6);
                outcome[left ? 1 : 0]++;
            }
            assert_int_equal(view.state.seq, 1);
            assert_int_equal(view.state.points, 40);
            assert_int_equal(view.state.period, 311);
            assert_int_equal(view.purse_cents, 2000);
            assert_int_equal(view.taps, 1);
            assert_no_bonos(&view);
            desk_fixture_balances(f, account, 2000, 40);
            reader_close(r);
        }
    }
    print_message("upgrade torn: redone %u, redone over its file %u, committed %u\n", outcome[0],
                  outcome[1], outcome[2]);
    /* 14 exchanges of 7 ways. Committed: the commit's answer lost, or power
     * lost once the commit record was written (steps 1..4). */
    assert_int_equal(outcome[0] + outcome[1] + outcome[2], 7 * 14);
    assert_int_equal(outcome[2], 5);
    assert_true(outcome[1] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_card_is_version_2, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_version_1_card_upgraded_at_next_read,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_version_refused, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_torn_at_every_exchange, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
