/* issuance_genuine_test.c - what the desk asks of the card itself: NXP's
 * originality signature on EV2/EV3 (AN12343's published example; the virtual
 * card signed with the test key accepted, a wrong or missing signature refused
 * before anything is written; EV1 unaffected), listing closed on leal's
 * application (GetFileSettings without a key: 91 AE), a card whose
 * card-enforced counter is used up, and the desk's upgrade of an EV2/EV3
 * issued before the Transaction MAC file (leal card upgrade). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

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

/* A new card made so (make_card) and issued with req: *out the issue's
 * view; the reader, the card still in the field, to close. */
static struct reader *issued_card(struct fixture *f, const char *type, const char *key_pem,
                                  bool random_uid, const struct issuance_request *req,
                                  struct issuance_card *out)
{
    struct reader *r;
    make_card(f, type, key_pem, random_uid);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, req, out), LEAL_OK);
    return r;
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
    r = issued_card(f, "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, false, &req, &out);
    assert_int_equal(out.tech, LEDGER_TECH_DESFIRE_EV3);
    /* + CreateTransactionMACFile, + ChangeFileSettings of the layout-3 state (LAYOUT.md 2.10) */
    assert_int_equal(out.round_trips, 30 + 1 + 1 + 1);
    assert_int_equal(out.state.points, 5);
    reader_close(r);
    /* Random UID: + Read_Sig, the factory-key authentication (2) and GetCardUID
     * before anything is written, on top of a random-UID EV1's 31. */
    req.account_id = desk_fixture_customer(f, "Bea");
    r = issued_card(f, "desfire-ev2", DESK_FIXTURE_ORIGINALITY_KEY, true, &req, &out);
    assert_int_equal(out.tech, LEDGER_TECH_DESFIRE_EV2);
    assert_int_equal(out.round_trips, 31 + 4 + 1 + 1);
    reader_close(r);

    /* EV1 has no Read_Sig: unaffected, with or without the test key. */
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
    req.account_id = desk_fixture_customer(f, "Carmen");
    r = issued_card(f, "desfire-ev1", NULL, false, &req, &out);
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

/* The card in r's field has a new Transaction MAC file (TMC 0, TMV zeros)
 * keyed with its tmac key: a transaction of the terminal key (the state
 * read, committed) gets TMC 1 and the TMV the host computes with that key. */
static void expect_new_tmac_file(const struct fixture *f, struct reader *r, uint8_t version)
{
    struct desfire d;
    struct desfire_tmi tmi;
    uint8_t key[16], file[DESFIRE_TMAC_FILE_LEN], st[STATE_FILE_MAX], tmv[8], want[8];
    uint32_t tmc = 0;
    size_t st_len = 0;
    desfire_init(&d, reader_card_reader(r), crypto_openssl());
    card_key(f, KEY_ROLE_TERMINAL, key);
    assert_int_equal(desfire_select_application(&d, desfire_card_leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_ev2_first(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    /* A new file: TMC 0, TMV zeros (issuance's own commit came before it). */
    assert_int_equal(
        desfire_read_data(&d, LAYOUT_FILE_TMAC, DESFIRE_COMM_MACED, 0, sizeof file, file), LEAL_OK);
    assert_memory_equal(file, ((uint8_t[DESFIRE_TMAC_FILE_LEN]){0}), sizeof file);
    assert_int_equal(
        desfire_read_file(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, st, sizeof st, &st_len),
        LEAL_OK);
    /* Issued now: layout 3, 36 bytes (LAYOUT.md 2.10); upgraded: as it was. */
    assert_int_equal(st[0], version);
    assert_int_equal(st_len, state_file_len(version));
    assert_int_equal(desfire_commit_tmac(&d, &tmc, tmv), LEAL_OK);
    assert_int_equal(tmc, 1);
    desfire_tmi_init(&tmi);
    assert_int_equal(
        desfire_tmi_data(&tmi, DESFIRE_TMI_READ_DATA, LAYOUT_FILE_STATE, 0, st, st_len), LEAL_OK);
    card_key(f, KEY_ROLE_TMAC, key);
    assert_int_equal(desfire_tmv(crypto_openssl(), key, 1, uid7, &tmi, want), LEAL_OK);
    assert_memory_equal(tmv, want, sizeof want);
    /* The terminal key is not the TMAC key: its TMV would differ. */
    card_key(f, KEY_ROLE_TERMINAL, key);
    assert_int_equal(desfire_tmv(crypto_openssl(), key, 1, uid7, &tmi, want), LEAL_OK);
    assert_memory_not_equal(tmv, want, sizeof want);
    desfire_clear(&d);
}

/* The state file of the card in r's field as the terminal key reads it
 * (whole): its seq and purse mirror (layout 3, LAYOUT.md 2.10). */
static void state_mirror(const struct fixture *f, struct reader *r, uint32_t *seq, int32_t *mirror)
{
    struct desfire d;
    struct state_body b;
    uint8_t key[16], st[STATE_FILE_MAX], version;
    size_t n = 0;
    uint64_t id;
    desfire_init(&d, reader_card_reader(r), crypto_openssl());
    card_key(f, KEY_ROLE_TERMINAL, key);
    assert_int_equal(desfire_select_application(&d, desfire_card_leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_ev2_first(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    assert_int_equal(
        desfire_read_file(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, st, sizeof st, &n), LEAL_OK);
    assert_int_equal(n, STATE_FILE_MIRROR_LEN);
    assert_int_equal(state_file_decode_mirror(st, n, &version, &id, &b, mirror), LEAL_OK);
    assert_int_equal(version, LAYOUT_VERSION_MIRROR);
    *seq = b.seq;
    desfire_clear(&d);
}

/* LAYOUT.md 2.10: an EV2/EV3 issued now is at layout 3, and every purse
 * move at the desk writes the mirror in its own transaction: the opening
 * top-up (seq 0 -> 1, mirror 20.00: the top-up's 8 + its WriteData state,
 * under key 1 the file's RW, after the issuance's 33), a top-up (+5.00:
 * 25.00, seq 2, the read's 10 + 9), the read then agreeing with it. A
 * mirror written by a terminal key that is not the purse: a verdict. */
static void test_mirror_at_the_desk(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {
        .account_id = f->account, .welcome_points = 7, .topup_cents = 2000};
    struct issuance_card out, v;
    uint32_t seq = 0;
    int32_t mirror = -1;
    struct reader *r =
        issued_card(f, "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, false, &req, &out);
    assert_int_equal(out.layout_version, LAYOUT_VERSION_MIRROR);
    assert_int_equal(out.purse_cents, 2000);
    assert_int_equal(out.round_trips, 33 + 9);
    state_mirror(f, r, &seq, &mirror);
    assert_int_equal(seq, 1);
    assert_int_equal(mirror, 2000);

    assert_int_equal(issuance_topup(&f->is, r, 500, &v), LEAL_OK);
    assert_int_equal(v.purse_cents, 2500);
    assert_int_equal(v.state.seq, 2);
    assert_int_equal(v.state.points, 7);
    assert_int_equal(v.round_trips, 10 + 9);
    state_mirror(f, r, &seq, &mirror);
    assert_int_equal(seq, 2);
    assert_int_equal(mirror, 2500);

    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_true(v.agrees);
    assert_false(v.mirror_differs);
    assert_int_equal(v.purse_cents, 2500);
    assert_int_equal(v.state.seq, 2);

    /* A terminal key writes the state with a mirror of 900.00 (what a stolen
     * bundle can): the desk's next read is a verdict, the card blocked. */
    {
        struct desfire d;
        struct state_body b = v.state;
        uint8_t key[16], st[STATE_FILE_MAX];
        size_t n = 0;
        b.seq++;
        desfire_init(&d, reader_card_reader(r), crypto_openssl());
        card_key(f, KEY_ROLE_TERMINAL, key);
        assert_int_equal(desfire_select_application(&d, desfire_card_leal_aid), LEAL_OK);
        assert_int_equal(desfire_authenticate_ev2_first(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
        assert_int_equal(state_file_encode_mirror(LAYOUT_VERSION_MIRROR, (uint64_t)out.card_id, &b,
                                                  90000, st, &n),
                         LEAL_OK);
        assert_int_equal(desfire_write_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st, n),
                         LEAL_OK);
        assert_int_equal(desfire_commit(&d), LEAL_OK);
        desfire_clear(&d);
    }
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_E_CARD_TAMPERED);
    assert_true(v.verdict);
    assert_true(v.mirror_differs);
    assert_string_equal(v.why, "its state's purse mirror is not the 25.00 its purse holds: "
                               "written by a terminal key, not with a purse move (LAYOUT.md 2.10)");
    assert_int_equal(v.ledger.status, LEDGER_CARD_BLOCKED);
    assert_int_equal(issuance_topup(&f->is, r, 100, &v),
                     LEAL_E_CARD_TAMPERED); /* nothing written */
    reader_close(r);
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
    uint8_t key[16], file[DESFIRE_TMAC_FILE_LEN];
    uint8_t versions[LEDGER_KEY_ROLES];
    const struct key_version *tmac;
    struct reader *r;

    for (int kind = 0; kind < 2; kind++) {
        req.account_id = desk_fixture_customer(f, kind ? "Dora" : "Eva");
        r = issued_card(f, kind ? "desfire-ev2" : "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY,
                        false, &req, &out);
        /* The ledger records the tmac key's version beside the four others. */
        assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_TMAC, &tmac), LEAL_OK);
        assert_int_equal(ledger_card_keys_get(f->ledger, out.card_id, versions), LEAL_OK);
        assert_int_equal(versions[KEY_ROLE_TMAC - 1], tmac->version);
        assert_int_equal(versions[KEY_ROLE_TERMINAL - 1], 1);
        expect_new_tmac_file(f, r, LAYOUT_VERSION_MIRROR);
        reader_close(r);
    }

    /* EV1: no Transaction MAC file, issuance as before (30 RT). */
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
    req.account_id = desk_fixture_customer(f, "Flor");
    r = issued_card(f, "desfire-ev1", NULL, false, &req, &out);
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
    struct issuance_card out, view;
    struct reader *r;
    static const char *const closed[] = {"90 F5 00 00 01 03 00", "90 F5 00 00 01 01 00",
                                         "90 6F 00 00 00", "90 61 00 00 00", "90 45 00 00 00"};
    uint8_t cmd[16], resp[64];
    size_t rl;

    r = desk_fixture_issue(f, uid7, f->account, 700, &out);
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
    struct issuance_card out, view;
    struct reader *r;

    r = desk_fixture_issue(f, uid7, f->account, 500, &out);
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

/* --- leal card upgrade: the Transaction MAC file onto an EV2/EV3 issued
 * before it (issuance_add_tmac, LAYOUT.md 2.9) --- */

/* The files of leal's application in the card file, as JSON text: all of
 * them (with_tmac) or all but 0x0F; *has_tmac: whether 0x0F is there. */
static char *app_files(const char *card, bool with_tmac, bool *has_tmac)
{
    json_error_t je;
    json_t *root = json_load_file(card, 0, &je), *keep = json_array(), *app, *file;
    size_t i, j;
    char *text;
    assert_non_null(root);
    *has_tmac = false;
    json_array_foreach(json_object_get(root, "apps"), i, app)
    {
        if (strcmp(json_string_value(json_object_get(app, "aid")), "41454c") != 0)
            continue;
        json_array_foreach(json_object_get(app, "files"), j, file)
        {
            bool tmac = json_integer_value(json_object_get(file, "no")) == LAYOUT_FILE_TMAC;
            *has_tmac |= tmac;
            if (with_tmac || !tmac)
                assert_int_equal(json_array_append(keep, file), 0);
        }
    }
    text = json_dumps(keep, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(text);
    json_decref(keep);
    json_decref(root);
    return text;
}

/* The ledger's record of the card's tmac key taken off (as a card issued
 * before the Transaction MAC file has none). */
static void forget_tmac(struct fixture *f, int64_t card_id)
{
    sqlite3 *db;
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM card_key WHERE card_id = %lld AND role = %d",
             (long long)card_id, KEY_ROLE_TMAC);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* File 0x0F taken off the card file (the card as issued before it). */
static void drop_tmac_file(struct fixture *f)
{
    json_error_t je;
    json_t *root = json_load_file(f->card, 0, &je), *app, *files;
    size_t i, j;
    bool done = false;
    assert_non_null(root);
    json_array_foreach(json_object_get(root, "apps"), i, app)
    {
        if (strcmp(json_string_value(json_object_get(app, "aid")), "41454c") != 0)
            continue;
        files = json_object_get(app, "files");
        for (j = 0; j < json_array_size(files); j++)
            if (json_integer_value(json_object_get(json_array_get(files, j), "no")) ==
                LAYOUT_FILE_TMAC) {
                assert_int_equal(json_array_remove(files, j), 0);
                done = true;
                break;
            }
    }
    assert_true(done);
    assert_int_equal(json_dump_file(root, f->card, 0), 0);
    json_decref(root);
}

static uint8_t ledger_tmac(struct fixture *f, int64_t card_id)
{
    uint8_t v[LEDGER_KEY_ROLES];
    assert_int_equal(ledger_card_keys_get(f->ledger, card_id, v), LEAL_OK);
    assert_int_equal(v[KEY_ROLE_TERMINAL - 1], 1); /* the others as issuance recorded them */
    assert_int_equal(v[KEY_ROLE_APP_MASTER - 1], 1);
    return v[KEY_ROLE_TMAC - 1];
}

/* After an upgrade of card_id: what the desk read (20.00, 7 points, 1 tap,
 * the ledger agreeing), the tmac key version the card's file and the ledger
 * carry, and every other file of the card byte for byte as before. */
static void expect_upgraded(struct fixture *f, const struct issuance_card *v, int64_t card_id,
                            const char *before, uint8_t version)
{
    bool has;
    char *now = app_files(f->card, false, &has);
    assert_true(has);
    assert_string_equal(now, before);
    free(now);
    assert_int_equal(v->card_id, card_id);
    assert_int_equal(v->tmac_version, version);
    assert_int_equal(v->purse_cents, 2000);
    assert_int_equal(v->state.points, 7);
    assert_int_equal(v->taps, 1);
    assert_true(v->agrees);
    assert_int_equal(ledger_tmac(f, card_id), version);
    desk_fixture_balances(f, f->account, 2000, 7);
}

/* An EV3 issued before the Transaction MAC file (made so here: the file
 * taken off the card and its record off the ledger), holding 20.00 and 7
 * points after one top-up, gets the file at the desk, torn at every exchange
 * before its command and with its answer lost. After each tear the ledger records nothing and
 * the card holds every other file as before, with file 0x0F only when
 * CreateTransactionMACFile ran and its answer was lost; the desk again
 * completes it (such a file found, +3 RT: key 0 again and GetFileSettings)
 * and records the tmac key's version. Run on an upgraded card it says so and
 * changes nothing; the file works (TMC 1 and the host's TMV after a terminal
 * transaction). Refused: a card whose file the ledger records but the card
 * lacks (by its read, LEAL_E_CARD_TMAC_MISSING; the card is not blocked for
 * it), an EV1, a Classic, a keystore without the tmac key. */
static void test_tmac_upgrade(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {
        .account_id = f->account, .welcome_points = 7, .topup_cents = 2000};
    struct issuance_card out, v;
    const struct key_version *tmac;
    char snap[600], *before, *all, *now;
    unsigned torn = 0, found = 0;
    int64_t card;
    struct reader *r;
    bool has;

    r = issued_card(f, "desfire-ev3", DESK_FIXTURE_ORIGINALITY_KEY, false, &req, &out);
    reader_close(r);
    card = out.card_id;
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_TMAC, &tmac), LEAL_OK);
    assert_int_equal(ledger_tmac(f, card), tmac->version);
    drop_tmac_file(f);
    forget_tmac(f, card);
    before = app_files(f->card, false, &has);
    assert_false(has);
    snprintf(snap, sizeof snap, "%s.before", f->card);
    desk_fixture_copy(f->card, snap);

    /* The desk read (9 RT), SelectApplication, key 0 (2), CreateTransactionMACFile,
     * each torn before its command and with its answer lost: nothing here
     * commits, and the virtual card tears a command that commits nothing
     * "inside its commit" as it loses its answer (cardsim.h), so the other
     * ways of desk_fixture_tear_ways would repeat the second. */
    for (size_t w = 0; w < 2; w++) {
        for (unsigned n = 1;; n++) {
            leal_err err;
            bool fired;
            desk_fixture_copy(snap, f->card);
            forget_tmac(f, card);
            r = desk_fixture_open_card(f);
            desk_fixture_tear_arm(r, w, n);
            err = issuance_add_tmac(&f->is, r, &v);
            fired = desk_fixture_tear_fired(r);
            if (!fired) {
                assert_int_equal(err, LEAL_OK);
                assert_int_equal(n, 14);
                assert_true(v.tmac_added);
                assert_int_equal(v.round_trips, 9 + 4);
                expect_upgraded(f, &v, card, before, tmac->version);
                reader_close(r);
                break;
            }
            torn++;
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            assert_int_equal(ledger_tmac(f, card), 0);
            now = app_files(f->card, false, &has);
            assert_string_equal(now, before);
            free(now);
            /* The create ran unless power went before it. */
            assert_int_equal(has, n == 13 && w == 1);
            desk_fixture_balances(f, f->account, 2000, 7);
            assert_int_equal(issuance_add_tmac(&f->is, r, &v), LEAL_OK);
            assert_true(v.tmac_added);
            assert_int_equal(v.round_trips, has ? 9 + 7 : 9 + 4);
            found += has;
            expect_upgraded(f, &v, card, before, tmac->version);
            reader_close(r);
        }
    }
    print_message("torn %u, a torn upgrade's file found by the next %u\n", torn, found);
    assert_int_equal(torn, 2 * 13);
    assert_int_equal(found, 1);

    /* Again: the card has it, the ledger records it: nothing changes. The
     * desk read now reads the file too (+1: 10), TMC 0 as made. */
    all = app_files(f->card, true, &has);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_add_tmac(&f->is, r, &v), LEAL_OK);
    assert_false(v.tmac_added);
    assert_true(v.has_tmc);
    assert_int_equal(v.tmc, 0);
    assert_int_equal(v.round_trips, 10 + 4);
    expect_upgraded(f, &v, card, before, tmac->version);
    now = app_files(f->card, true, &has);
    assert_string_equal(now, all);
    free(now);
    free(all);
    expect_new_tmac_file(f, r, LAYOUT_VERSION_MIRROR);
    reader_close(r);

    /* The ledger records a file the card does not have: its read refuses it
     * (ReadData 0x0F answers no such file), nothing added or blocked. */
    desk_fixture_copy(snap, f->card);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_add_tmac(&f->is, r, &v), LEAL_E_CARD_TMAC_MISSING);
    assert_false(v.has_tmc);
    reader_close(r);
    assert_int_equal(ledger_card_find_by_id(f->ledger, card, &v.ledger), LEAL_OK);
    assert_int_equal(v.ledger.status, LEDGER_CARD_ACTIVE);
    assert_string_equal(leal_strerror(LEAL_E_CARD_TMAC_MISSING),
                        "the ledger records a Transaction MAC file on this card and the card "
                        "shows none (a copy, or a card changed outside leal): its transaction "
                        "count cannot be checked; nothing was done: keep the card and replace it");
    now = app_files(f->card, true, &has);
    assert_false(has);
    assert_string_equal(now, before);
    free(now);
    free(before);
    assert_int_equal(ledger_tmac(f, card), tmac->version);
    unlink(snap);

    /* An EV1 (no Transaction MAC): refused after its read, nothing added or recorded. */
    assert_int_equal(unsetenv("LEAL_ORIGINALITY_TEST_KEY"), 0);
    req.account_id = desk_fixture_customer(f, "Hada");
    r = issued_card(f, "desfire-ev1", NULL, false, &req, &out);
    before = app_files(f->card, true, &has);
    assert_int_equal(issuance_add_tmac(&f->is, r, &v), LEAL_E_CARD_NO_TMAC);
    assert_int_equal(v.card_id, out.card_id);
    assert_int_equal(v.ledger.tech, LEDGER_TECH_DESFIRE_EV1);
    /* Its read as before: no file 0x0F read, no TMC (9 RT at version 2). */
    assert_false(v.has_tmc);
    assert_int_equal(v.round_trips, 9);
    reader_close(r);
    now = app_files(f->card, true, &has);
    assert_false(has);
    assert_string_equal(now, before);
    free(now);
    free(before);
    assert_int_equal(ledger_tmac(f, out.card_id), 0);
    assert_int_equal(setenv("LEAL_ORIGINALITY_TEST_KEY", DESK_FIXTURE_ORIGINALITY_PUB, 1), 0);
    assert_string_equal(leal_strerror(LEAL_E_CARD_NO_TMAC),
                        "this card has no Transaction MAC (a MIFARE DESFire EV1 or a MIFARE "
                        "Classic): it cannot be upgraded; only DESFire EV2 and EV3 cards can");

    /* A Classic: refused before it is touched. */
    desk_fixture_new_card(f, "classic-1k", NULL, 0, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_add_tmac(&f->is, r, &v), LEAL_E_CARD_NO_TMAC);
    assert_int_equal(v.round_trips, 0);
    reader_close(r);

    /* A keystore without the tmac key: refused before anything. */
    for (int p = 0; p < f->keys->nprograms; p++)
        memset(&f->keys->programs[p].roles[KEY_ROLE_TMAC - KEY_ROLE_FIRST], 0,
               sizeof(struct key_slot));
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_add_tmac(&f->is, r, &v), LEAL_E_KEYSTORE_NO_TMAC);
    assert_int_equal(v.round_trips, 0);
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
        cmocka_unit_test_setup_teardown(test_mirror_at_the_desk, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tmac_upgrade, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
