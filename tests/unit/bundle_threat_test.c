/* bundle_threat_test.c - what keys/KEYS.md's threat table says a stolen
 * terminal bundle allows and never allows, done to cards on the virtual card
 * with nothing but a bundle's keys (terminal, classic-a, classic-seal masters,
 * package public key), as a thief with his own software would:
 * - DESFire: drain the purse to 0 and exhaust the card-enforced counter in one
 *   debit each (no key limits a debit); never credit the purse, change a key
 *   or move the counter back.
 * - Classic with stored value: forge points of any value and a purse up to the
 *   program's cap that a terminal's own reading accepts; a purse over the cap
 *   reads as tampered.
 * It pins the threat table: if a layout change ever made one of these
 * impossible (or a "never" possible), the table must change with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/classic/classic_keys.h"
#include "cardlayout/desfire/desfire.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/classic_record.h"
#include "host/reader/reader.h"
#include "keys/bundle.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"

static const uint8_t uid7[7] = {0x04, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56};
static const uint8_t uid4[4] = {0x04, 0xB1, 0xB2, 0xB3};
static const uint8_t leal_aid[3] = {LAYOUT_DF_AID_0, LAYOUT_DF_AID_1, LAYOUT_DF_AID_2};

/* The bundle `leal keys export-terminal` makes for program 7, through its
 * encoding (what a thief reads out of the file with its passphrase). */
static void stolen_bundle(struct fixture *f, struct bundle *out)
{
    const struct key_program *p;
    struct bundle b;
    uint8_t buf[BUNDLE_MAX_ENCODED];
    size_t len;
    memset(&b, 0, sizeof b);
    assert_int_equal(keyset_program(f->keys, 7, &p), LEAL_OK);
    b.issuer_id = f->keys->issuer_id;
    memcpy(b.issuer_name, f->keys->issuer_name, sizeof b.issuer_name);
    b.program_id = 7;
    b.terminal_id = 3;
    b.created = 1700000000;
    b.expires = 1700086400; /* long expired: the keys inside do not care */
    b.terminal = p->roles[KEY_ROLE_TERMINAL - KEY_ROLE_FIRST];
    b.classic_a = p->roles[KEY_ROLE_CLASSIC_A - KEY_ROLE_FIRST];
    b.classic_seal = p->roles[KEY_ROLE_CLASSIC_SEAL - KEY_ROLE_FIRST];
    b.journal_version = 1;
    b.package_public.nversions = 1;
    b.package_public.v[0].version = 1;
    assert_int_equal(
        crypto_openssl_ed25519_public(p->roles[KEY_ROLE_PACKAGE_SIGNING - KEY_ROLE_FIRST].v[0].key,
                                      b.package_public.v[0].key),
        LEAL_OK);
    b.qr_public = b.package_public;
    assert_int_equal(bundle_encode(&b, buf, sizeof buf, &len), LEAL_OK);
    assert_int_equal(bundle_decode(buf, len, out), LEAL_OK);
    assert_int_equal(bundle_check(out, f->keys->issuer_id, 7, 1800000000), LEAL_E_BUNDLE_EXPIRED);
    bundle_clear(&b);
}

static void test_stolen_bundle_drains_desfire_purse_and_counter(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .topup_cents = 2000};
    struct issuance_card out;
    struct bundle b;
    struct desfire d;
    struct reader *r;
    uint8_t key[16], wrong_key[16];
    int32_t purse, counter;

    desk_fixture_new_card(f, "desfire-ev1", uid7, 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    assert_int_equal(out.purse_cents, 2000);

    stolen_bundle(f, &b);
    assert_int_equal(
        derive_card_key(crypto_openssl(), b.terminal.v[b.terminal.nversions - 1].key,
                        &(struct derive_card_input){uid7, 7, leal_aid, b.issuer_id, b.program_id},
                        key),
        LEAL_OK);
    desfire_init(&d, reader_card_reader(r), crypto_openssl());
    assert_int_equal(desfire_select_application(&d, leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    assert_int_equal(desfire_get_value(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, &purse), LEAL_OK);
    assert_int_equal(desfire_get_value(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, &counter),
                     LEAL_OK);
    assert_int_equal(purse, 2000);
    assert_int_equal(counter, 0x7FFFFFFE); /* the opening top-up was its one transaction */
    /* Allows: the whole purse and the whole counter, one debit each. */
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, purse), LEAL_OK);
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, counter), LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    assert_int_equal(desfire_get_value(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, &purse), LEAL_OK);
    assert_int_equal(desfire_get_value(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, &counter),
                     LEAL_OK);
    assert_int_equal(purse, 0);
    assert_int_equal(counter, 0);
    /* The card can count no further transaction. */
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1),
                     LEAL_E_CARD_BOUNDARY);

    /* Never: a credit of the purse, the counter back, a key changed (each ends the session). */
    assert_int_equal(desfire_select_application(&d, leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    assert_int_equal(desfire_credit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 2000),
                     LEAL_E_CARD_PERMISSION_DENIED);
    assert_int_equal(desfire_select_application(&d, leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    assert_int_equal(desfire_credit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1),
                     LEAL_E_CARD_PERMISSION_DENIED);
    assert_int_equal(desfire_select_application(&d, leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    assert_int_equal(desfire_limited_credit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1),
                     LEAL_E_CARD_PERMISSION_DENIED);
    memset(wrong_key, 0x5A, sizeof wrong_key);
    assert_int_equal(desfire_select_application(&d, leal_aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, key), LEAL_OK);
    assert_int_equal(desfire_change_key(&d, LAYOUT_KEY_TERMINAL, wrong_key, 9, NULL),
                     LEAL_E_CARD_PERMISSION_DENIED);
    /* The purse-credit key is not in the bundle: the terminal master does not open key 1. */
    assert_int_equal(desfire_select_application(&d, leal_aid), LEAL_OK);
    assert_int_not_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_PURSE_CREDIT, key), LEAL_OK);
    desfire_clear(&d);
    bundle_clear(&b);
    reader_close(r);
}

static void classic_keys_of(const struct bundle *b, const uint8_t *uid, size_t uid_len,
                            struct classic_card_keys *k, uint8_t seal[32])
{
    memset(k, 0, sizeof *k);
    for (uint8_t s = 1; s < CLASSIC_CARD_SECTORS; s++)
        assert_int_equal(classic_keys_sector(
                             crypto_openssl(), b->classic_a.v[b->classic_a.nversions - 1].key,
                             &(struct classic_keys_card){uid, uid_len, b->issuer_id, b->program_id},
                             s, k->a[s]),
                         LEAL_OK);
    assert_int_equal(
        classic_keys_seal(crypto_openssl(), b->classic_seal.v[b->classic_seal.nversions - 1].key,
                          &(struct classic_keys_card){uid, uid_len, b->issuer_id, b->program_id},
                          seal),
        LEAL_OK);
}

static void test_stolen_bundle_forges_classic_state_up_to_the_cap(void **state)
{
    struct fixture *f = *state;
    struct issuance_request req = {.account_id = f->account, .welcome_points = 10};
    const struct classic_record_purse policy = {.enabled = true, .cap = 2000};
    struct issuance_card out;
    struct classic_card_keys k;
    struct classic_card c;
    struct classic_record_state st, forged;
    struct identity id;
    struct bundle b;
    struct reader *r;
    uint8_t seal[32], span[CLASSIC_RECORD_IDENTITY_SPAN], slot0[CLASSIC_RECORD_STATE_SPAN],
        slot1[CLASSIC_RECORD_STATE_SPAN], forged_span[CLASSIC_RECORD_STATE_SPAN];
    unsigned current;

    /* Program 7 turns Classic stored value on with a cap of 20.00. */
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, 100000, 2000), LEAL_OK);
    desk_fixture_new_card(f, "classic-1k", uid4, 4, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);

    stolen_bundle(f, &b);
    classic_keys_of(&b, uid4, 4, &k, seal);
    classic_card_init(&c, reader_card_reader(r));
    /* The identity opens with classic-a and verifies with the public key: card id, flags. */
    assert_int_equal(classic_card_read_identity(&c, &k, span), LEAL_OK);
    assert_int_equal(
        classic_record_identity_open(&(struct classic_record_key){crypto_openssl(), seal}, span,
                                     uid4, 4, b.package_public.v[0].key, &id),
        LEAL_OK);
    assert_int_equal(id.card_id, (uint64_t)out.card_id);
    assert_true((id.flags & IDENTITY_FLAG_STORED_VALUE) != 0);
    assert_int_equal(classic_card_read_state(&c, &k, slot0, slot1), LEAL_OK);
    assert_int_equal(classic_record_state_select(
                         &(struct classic_record_key){crypto_openssl(), seal}, id.card_id,
                         (const uint8_t *const[]){slot0, slot1}, &policy, &st, &current),
                     LEAL_OK);
    assert_int_equal(st.body.points, 10);
    assert_int_equal(st.purse, 0);

    /* Allows: points of any value and a purse at the cap, sealed into the other slot. */
    forged = st;
    forged.body.seq = st.body.seq + 1;
    forged.body.points = 4000000000u;
    forged.purse = 2000;
    assert_int_equal(classic_record_state_seal(&(struct classic_record_key){crypto_openssl(), seal},
                                               id.card_id, 1 - current, &forged, forged_span),
                     LEAL_OK);
    assert_int_equal(classic_card_write_state(&c, &k, 1 - current, forged_span), LEAL_OK);
    assert_int_equal(classic_card_read_state(&c, &k, slot0, slot1), LEAL_OK);
    assert_int_equal(classic_record_state_select(
                         &(struct classic_record_key){crypto_openssl(), seal}, id.card_id,
                         (const uint8_t *const[]){slot0, slot1}, &policy, &st, &current),
                     LEAL_OK);
    assert_int_equal(st.body.points, 4000000000u);
    assert_int_equal(st.purse, 2000);

    /* Never: a purse over the cap (a terminal's reading calls the card tampered). */
    forged = st;
    forged.body.seq = st.body.seq + 1;
    forged.purse = 2001;
    assert_int_equal(classic_record_state_seal(&(struct classic_record_key){crypto_openssl(), seal},
                                               id.card_id, 1 - current, &forged, forged_span),
                     LEAL_OK);
    assert_int_equal(classic_card_write_state(&c, &k, 1 - current, forged_span), LEAL_OK);
    assert_int_equal(classic_card_read_state(&c, &k, slot0, slot1), LEAL_OK);
    assert_int_equal(classic_record_state_select(
                         &(struct classic_record_key){crypto_openssl(), seal}, id.card_id,
                         (const uint8_t *const[]){slot0, slot1}, &policy, &st, &current),
                     LEAL_E_CARD_TAMPERED);
    bundle_clear(&b);
    reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stolen_bundle_drains_desfire_purse_and_counter,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stolen_bundle_forges_classic_state_up_to_the_cap,
                                        desk_fixture_setup, desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
