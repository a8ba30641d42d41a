/* issuance_genuine_test.c - what the desk asks of the card itself: NXP's
 * originality signature on EV2/EV3 (AN12343's published example; the virtual
 * card signed with the test key accepted, a wrong or missing signature refused
 * before anything is written; EV1 unaffected), listing closed on leal's
 * application (GetFileSettings without a key: 91 AE), and a card whose
 * card-enforced counter is used up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/desfire/desfire_card.h"
#include "cardlayout/desfire/desfire_tmac.h"
#include "cardlayout/layout.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "host/cardsim/cardsim.h"
#include "host/issuance/issuance.h"
#include "host/issuance/originality.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/testutil.h"

static const uint8_t uid7[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

/* AN12343's worked example verifies; a changed signature or UID does not. */
static void test_an12343_vector(void **state)
{
    struct vector_record *v;
    uint8_t pub[57], uid[7], sig[56], bad[56];
    (void)state;
    assert_int_equal(vectors_load("an12343_originality.txt", &v), 1);
    assert_int_equal(vectors_hex(&v[0], "PUBLIC", pub, sizeof pub), 57);
    assert_int_equal(vectors_hex(&v[0], "UID", uid, sizeof uid), 7);
    assert_int_equal(vectors_hex(&v[0], "SIG", sig, sizeof sig), 56);
    assert_int_equal(vectors_hex(&v[0], "BADSIG", bad, sizeof bad), 56);
    free(v);
    assert_int_equal(originality_verify_with(pub, uid, sig), LEAL_OK);
    assert_int_equal(originality_verify_with(pub, uid, bad), LEAL_E_CARD_NOT_GENUINE);
    uid[6] ^= 0x01;
    assert_int_equal(originality_verify_with(pub, uid, sig), LEAL_E_CARD_NOT_GENUINE);
    uid[6] ^= 0x01;
    memset(bad, 0, sizeof bad); /* r = s = 0: no signature at all */
    assert_int_equal(originality_verify_with(pub, uid, bad), LEAL_E_CARD_NOT_GENUINE);
    pub[0] = 0x02;
    assert_int_equal(originality_verify_with(pub, uid, sig), LEAL_E_FORMAT);
    pub[0] = 0x04;
    pub[56] ^= 0x01; /* not a point on the curve */
    assert_int_equal(originality_verify_with(pub, uid, sig), LEAL_E_FORMAT);
    /* A DESFire Light's signature is not an EV2/EV3's: NXP's DESFire keys refuse it. */
    pub[56] ^= 0x01;
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
    assert_int_equal(originality_verify(uid, sig), LEAL_E_CARD_NOT_GENUINE);
    assert_int_equal(setenv("LEAL_ORIGINALITY_TEST_KEY", "04abcd", 1), 0);
    assert_int_equal(originality_verify(uid, sig), LEAL_E_ORIGINALITY_TEST_KEY);
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
}

/* A card of type in f->card, signed with key_pem (NULL: no signature). */
static void make_card(struct fixture *f, const char *type, const char *key_pem, bool random_uid)
{
    struct cardsim *c;
    assert_int_equal(
        cardsim_new(type, random_uid ? NULL : uid7, random_uid ? 0 : 7, random_uid, &c), LEAL_OK);
    if (key_pem)
        assert_int_equal(cardsim_sign_originality(c, key_pem), LEAL_OK);
    assert_int_equal(cardsim_save(c, f->card), LEAL_OK);
    cardsim_free(c);
}

static int count_cards(void *ctx, const struct ledger_card *c)
{
    (void)c;
    (*(int *)ctx)++;
    return 0;
}

/* Issuance of f->card must be refused with want and nothing written: the
 * card file byte for byte as it was, no card in the ledger. */
static void refused_with(struct fixture *f, const struct issuance_request *req, leal_err want)
{
    struct issuance_card out;
    struct reader *r;
    uint8_t *before, *after;
    long nb, na;
    int ncards = 0;
    assert_true((nb = test_read_file(f->card, &before)) > 0);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, req, &out), want);
    reader_close(r);
    assert_true((na = test_read_file(f->card, &after)) > 0);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, (size_t)nb);
    free(before);
    free(after);
    assert_int_equal(ledger_card_each_of_account(f->ledger, req->account_id, count_cards, &ncards),
                     LEAL_OK);
    assert_int_equal(ncards, 0);
    desk_fixture_balances(f, req->account_id, 0, 0);
}

static void refused_untouched(struct fixture *f, const struct issuance_request *req)
{
    refused_with(f, req, LEAL_E_CARD_NOT_GENUINE);
}

static void test_originality_at_issuance(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 5};
    struct issuance_card out;
    struct reader *r;

    /* The message a person reads. */
    assert_string_equal(leal_strerror(LEAL_E_CARD_NOT_GENUINE),
                        "this card's NXP originality signature does not verify: not a genuine "
                        "MIFARE DESFire (an emulator or a copy); refused, nothing was written");

    /* Signed with another key, unsigned (Read_Sig answers zeros): refused. */
    make_card(f, "desfire-ev3", "tests/vectors/originality_other_key.pem", false);
    refused_untouched(f, &req);
    make_card(f, "desfire-ev2", NULL, false);
    refused_untouched(f, &req);
    /* The test key's card without the test key trusted: NXP's keys refuse it. */
    make_card(f, "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, false);
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
    refused_untouched(f, &req);
    /* A malformed test key is said to be one. */
    assert_int_equal(setenv("LEAL_ORIGINALITY_TEST_KEY", "not hex", 1), 0);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_ORIGINALITY_TEST_KEY);
    reader_close(r);
    /* A random-UID card with a wrong signature: its UID read under the factory
     * key (GetCardUID), refused all the same before anything is written. */
    assert_int_equal(setenv("LEAL_ORIGINALITY_TEST_KEY", DESK_FIXTURE_ORIGINALITY_PUB, 1), 0);
    make_card(f, "desfire-ev3", "tests/vectors/originality_other_key.pem", true);
    refused_untouched(f, &req);

    /* Genuine (the test key trusted): issued, one round trip more than an EV1 (Read_Sig). */
    make_card(f, "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.tech, LEDGER_TECH_DESFIRE_EV3);
    assert_int_equal(out.round_trips, 30 + 1 + 1); /* + CreateTransactionMACFile */
    assert_int_equal(out.state.points, 5);
    reader_close(r);
    /* Random UID: + Read_Sig, the factory-key authentication (2) and GetCardUID
     * before anything is written, on top of a random-UID EV1's 31. */
    make_card(f, "desfire-ev2", DESK_FIXTURE_ORIGINALITY_KEY, true);
    r = desk_fixture_open_card(f);
    req.account_id = desk_fixture_customer(f, "Bea");
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.tech, LEDGER_TECH_DESFIRE_EV2);
    assert_int_equal(out.round_trips, 31 + 4 + 1);
    reader_close(r);

    /* EV1 has no Read_Sig: unaffected, with or without the test key. */
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
    make_card(f, "desfire-ev1", NULL, false);
    r = desk_fixture_open_card(f);
    req.account_id = desk_fixture_customer(f, "Carmen");
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.tech, LEDGER_TECH_DESFIRE_EV1);
    assert_int_equal(out.round_trips, 30);
    reader_close(r);
}

/* The card key of role for uid7 in the fixture's program (keys/derive.h). */
static void card_key(const struct fixture *f, enum key_role role, uint8_t out[16])
{
    const struct key_version *v;
    assert_int_equal(keyset_current(f->keys, f->is.program_id, role, &v), LEAL_OK);
    assert_int_equal(
        derive_card_key(crypto_openssl(), v->key,
                        &(struct derive_card_input){uid7, 7, desfire_card_leal_aid,
                                                    f->keys->issuer_id, f->is.program_id},
                        out),
        LEAL_OK);
}

/* LAYOUT.md 2.9: an EV2/EV3 is issued with the Transaction MAC file 0x0F,
 * TMC 0, keyed with the tmac role's key diversified for the card, so the
 * TMV of a transaction the terminal key runs is the host's computation; an
 * EV1 has no such file; a keystore without the tmac key issues no EV2/EV3. */
static void test_tmac_file_at_issuance(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 7};
    struct issuance_card out;
    struct desfire d;
    struct desfire_tmi tmi;
    uint8_t key[16], file[DESFIRE_TMAC_FILE_LEN], st[32], tmv[8], want[8];
    uint8_t versions[LEDGER_KEY_ROLES];
    const struct key_version *tmac;
    uint32_t tmc = 0;
    struct reader *r;

    for (int kind = 0; kind < 2; kind++) {
        make_card(f, kind ? "desfire-ev2" : "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, false);
        r = desk_fixture_open_card(f);
        req.account_id = desk_fixture_customer(f, kind ? "Dora" : "Eva");
        assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
        /* The ledger records the tmac key's version beside the four others. */
        assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_TMAC, &tmac), LEAL_OK);
        assert_int_equal(ledger_card_keys_get(f->ledger, out.card_id, versions), LEAL_OK);
        assert_int_equal(versions[KEY_ROLE_TMAC - 1], tmac->version);
        assert_int_equal(versions[KEY_ROLE_TERMINAL - 1], 1);
        desfire_init(&d, reader_card_reader(r), crypto_openssl());
        card_key(f, KEY_ROLE_TERMINAL, key);
        assert_int_equal(desfire_select_application(&d, desfire_card_leal_aid), LEAL_OK);
        assert_int_equal(desfire_authenticate_ev2_first(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
        /* A new card: TMC 0, TMV zeros (issuance's own commit came before the file). */
        assert_int_equal(
            desfire_read_data(&d, LAYOUT_FILE_TMAC, DESFIRE_COMM_MACED, 0, sizeof file, file),
            LEAL_OK);
        assert_memory_equal(file, ((uint8_t[DESFIRE_TMAC_FILE_LEN]){0}), sizeof file);
        /* A transaction of the terminal key: the state read, committed. */
        assert_int_equal(
            desfire_read_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, sizeof st, st),
            LEAL_OK);
        assert_int_equal(st[0], LAYOUT_VERSION_BONOS);
        assert_int_equal(desfire_commit_tmac(&d, &tmc, tmv), LEAL_OK);
        assert_int_equal(tmc, 1);
        desfire_tmi_init(&tmi);
        assert_int_equal(
            desfire_tmi_data(&tmi, DESFIRE_TMI_READ_DATA, LAYOUT_FILE_STATE, 0, st, sizeof st),
            LEAL_OK);
        card_key(f, KEY_ROLE_TMAC, key);
        assert_int_equal(desfire_tmv(crypto_openssl(), key, 1, uid7, &tmi, want), LEAL_OK);
        assert_memory_equal(tmv, want, sizeof want);
        /* The terminal key is not the TMAC key: its TMV would differ. */
        card_key(f, KEY_ROLE_TERMINAL, key);
        assert_int_equal(desfire_tmv(crypto_openssl(), key, 1, uid7, &tmi, want), LEAL_OK);
        assert_memory_not_equal(tmv, want, sizeof want);
        desfire_clear(&d);
        reader_close(r);
    }

    /* EV1: no Transaction MAC file, issuance as before (30 RT). */
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
    make_card(f, "desfire-ev1", NULL, false);
    r = desk_fixture_open_card(f);
    req.account_id = desk_fixture_customer(f, "Flor");
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.round_trips, 30);
    assert_int_equal(ledger_card_keys_get(f->ledger, out.card_id, versions), LEAL_OK);
    assert_int_equal(versions[KEY_ROLE_TMAC - 1], 0);
    assert_int_equal(versions[KEY_ROLE_TERMINAL - 1], 1);
    desfire_init(&d, reader_card_reader(r), crypto_openssl());
    card_key(f, KEY_ROLE_TERMINAL, key);
    assert_int_equal(desfire_select_application(&d, desfire_card_leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    assert_int_equal(
        desfire_read_data(&d, LAYOUT_FILE_TMAC, DESFIRE_COMM_MACED, 0, sizeof file, file),
        LEAL_E_CARD_FILE_NOT_FOUND);
    desfire_clear(&d);
    reader_close(r);
    assert_int_equal(setenv("LEAL_ORIGINALITY_TEST_KEY", DESK_FIXTURE_ORIGINALITY_PUB, 1), 0);

    /* A keystore made before the tmac role: an EV3 is refused untouched. */
    for (int p = 0; p < f->keys->nprograms; p++)
        memset(&f->keys->programs[p].roles[KEY_ROLE_TMAC - KEY_ROLE_FIRST], 0,
               sizeof(struct key_slot));
    make_card(f, "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, false);
    req.account_id = desk_fixture_customer(f, "Gala");
    refused_with(f, &req, LEAL_E_KEYSTORE_NO_TMAC);
}

/* A random-UID EV3 whose issuance was torn after its PICC key changed is no
 * longer on the factory key: its UID (and so its signature) is checked once
 * issuance has read it with GetCardUID under leal's PICC key; it resumes. */
static void test_random_uid_resumed(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 3};
    struct issuance_card out;
    struct cardsim_tear tear = {.point = CARDSIM_TEAR_BEFORE_ANSWER, .after = 20};
    struct reader *r;

    make_card(f, "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, true);
    r = desk_fixture_open_card(f);
    cardsim_set_tear(reader_sim_card(r), &tear);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_CARD_REMOVED);
    tear.point = CARDSIM_TEAR_NONE;
    cardsim_set_tear(reader_sim_card(r), &tear);
    assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_true(out.resumed);
    assert_int_equal(out.state.points, 3);
    reader_close(r);

    /* The same with a wrong signature: refused at GetCardUID, nothing more written. */
    make_card(f, "desfire-ev3", "tests/vectors/originality_other_key.pem", true);
    r = desk_fixture_open_card(f);
    tear.point = CARDSIM_TEAR_BEFORE_ANSWER;
    cardsim_set_tear(reader_sim_card(r), &tear);
    req.account_id = desk_fixture_customer(f, "Dora");
    /* Refused before exchange 20: nothing torn, nothing written. */
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_E_CARD_NOT_GENUINE);
    reader_close(r);
}

/* An issued card lists nothing to a phone with no key: GetFileIDs,
 * GetISOFileIDs, GetFileSettings of the purse and GetKeySettings answer
 * exactly 91 AE; the free identity still reads, and the desk reads as before. */
static void test_listing_needs_key0(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .topup_cents = 700};
    struct issuance_card out, view;
    struct reader *r;
    static const char *const closed[] = {"90 F5 00 00 01 03 00", "90 F5 00 00 01 01 00",
                                         "90 6F 00 00 00", "90 61 00 00 00", "90 45 00 00 00"};
    uint8_t cmd[16], resp[64];
    size_t rl;

    desk_fixture_new_card(f, "desfire-ev1", uid7, 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++) {
        long n = hex_decode("90 5A 00 00 03 4C 45 41 00", cmd, sizeof cmd);
        assert_int_equal(reader_transceive(r, cmd, (size_t)n, resp, sizeof resp, &rl), LEAL_OK);
        assert_int_equal(rl, 2);
        assert_memory_equal(resp, ((uint8_t[]){0x91, 0x00}), 2);
        n = hex_decode(closed[i], cmd, sizeof cmd);
        assert_int_equal(reader_transceive(r, cmd, (size_t)n, resp, sizeof resp, &rl), LEAL_OK);
        assert_int_equal(rl, 2);
        assert_memory_equal(resp, ((uint8_t[]){0x91, 0xAE}), 2);
    }
    {
        long n = hex_decode("90 BD 00 00 07 01 000000 200000 00", cmd, sizeof cmd);
        assert_int_equal(reader_transceive(r, cmd, (size_t)n, resp, sizeof resp, &rl), LEAL_OK);
        assert_int_equal(rl, 32 + 2);
        assert_memory_equal(resp + 32, ((uint8_t[]){0x91, 0x00}), 2);
    }
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_true(view.agrees);
    assert_int_equal(view.purse_cents, 700);
    assert_int_equal(issuance_topup(&f->is, r, 300, &view), LEAL_OK);
    assert_int_equal(view.purse_cents, 1000);
    reader_close(r);
}

/* Sets the value of file no of leal's application in the card file. */
static void set_card_value(struct fixture *f, int no, long long value)
{
    json_error_t je;
    json_t *root = json_load_file(f->card, 0, &je), *apps, *app, *files, *file;
    size_t i, j;
    bool done = false;
    assert_non_null(root);
    apps = json_object_get(root, "apps");
    json_array_foreach(apps, i, app)
    {
        if (strcmp(json_string_value(json_object_get(app, "aid")), "41454c") != 0)
            continue;
        files = json_object_get(app, "files");
        json_array_foreach(files, j, file)
        {
            if (json_integer_value(json_object_get(file, "no")) == no) {
                assert_int_equal(json_object_set_new(file, "value", json_integer(value)), 0);
                done = true;
            }
        }
    }
    assert_true(done);
    assert_int_equal(json_dump_file(root, f->card, 0), 0);
    json_decref(root);
}

/* A card whose card-enforced counter is used up (value 0 after 2^31 - 1
 * transactions) refuses the next top-up with its own code and message, before
 * the card or the ledger moves. */
static void test_counter_used_up(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .topup_cents = 500};
    struct issuance_card out, view;
    struct reader *r;

    desk_fixture_new_card(f, "desfire-ev1", uid7, 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    reader_close(r);
    desk_fixture_balances(f, f->account, 500, 0);
    set_card_value(f, LAYOUT_FILE_COUNTER, 0);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_topup(&f->is, r, 100, &view), LEAL_E_CARD_WORN_OUT);
    assert_string_equal(leal_strerror(LEAL_E_CARD_WORN_OUT),
                        "the card has used up its transactions: replace it");
    desk_fixture_balances(f, f->account, 500, 0);
    assert_int_equal(issuance_read(&f->is, r, &view), LEAL_OK);
    assert_int_equal(view.purse_cents, 500);
    assert_int_equal(view.taps, 0x7FFFFFFF);
    reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an12343_vector),
        cmocka_unit_test_setup_teardown(test_tmac_file_at_issuance, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_originality_at_issuance, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_random_uid_resumed, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_listing_needs_key0, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_counter_used_up, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
