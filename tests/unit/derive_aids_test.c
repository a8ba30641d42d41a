/* derive_aids_test.c - leal's card keys with its own AID 4C 45 41 and the PICC
 * AID 00 00 00 (tests/vectors/leal_derive_aids.txt, computed in Python from
 * AN10922 and KEYS.md alone): keys/derive.c gives each KEY and never the key of
 * a wrong reading (the AID in value order, the PICC AID left out), and a card
 * issued by the desk on the virtual DESFire carries exactly those keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "keys/base/bytes.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/keyset.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/testutil.h"

/* Records of leal_derive_aids.txt, in file order. */
enum { REC_APP_UID, REC_APP_CARD_ID, REC_PICC_UID, REC_PICC_CARD_ID, REC_COUNT };

static const char *wrong_field(int rec)
{
    return rec == REC_APP_UID || rec == REC_APP_CARD_ID ? "WRONG_VALUE_ORDER" : "WRONG_NO_AID";
}

static void test_vectors_with_leal_and_picc_aids(void **state)
{
    (void)state;
    struct vector_record *v;
    assert_int_equal(vectors_load("leal_derive_aids.txt", &v), REC_COUNT);
    for (int i = 0; i < REC_COUNT; i++) {
        uint8_t master[16], issuer[4], program[4], id[8], aid[3], key[16], wrong[16], out[16];
        size_t id_len;
        bool by_uid = i == REC_APP_UID || i == REC_PICC_UID;
        vectors_hex(&v[i], "MASTER", master, 16);
        vectors_hex(&v[i], "ISSUER", issuer, 4);
        vectors_hex(&v[i], "PROGRAM", program, 4);
        id_len = vectors_hex(&v[i], by_uid ? "UID" : "CARD_ID", id, sizeof id);
        assert_int_equal(id_len, by_uid ? 7 : 8);
        assert_int_equal(vectors_hex(&v[i], "AID", aid, 3), 3);
        vectors_hex(&v[i], "KEY", key, 16);
        vectors_hex(&v[i], wrong_field(i), wrong, 16);
        /* The AIDs are the ones the layout sends: 5A 4C 45 41, and 00 00 00. */
        if (i == REC_APP_UID || i == REC_APP_CARD_ID)
            assert_memory_equal(aid, ((uint8_t[]){0x4C, 0x45, 0x41}), 3);
        else
            assert_memory_equal(aid, ((uint8_t[]){0, 0, 0}), 3);
        assert_int_equal(
            derive_card_key(
                crypto_openssl(), master,
                &(struct derive_card_input){id, id_len, aid, load_be32(issuer), load_be32(program)},
                out),
            LEAL_OK);
        assert_memory_equal(out, key, 16);
        assert_memory_not_equal(out, wrong, 16);
    }
    free(v);
}

/* The 16-byte key numbered key_no of the application with 24-bit AID value aid
 * (the simulator's card file writes it most significant byte first), or of the
 * PICC when aid is NULL. */
static void card_key(const char *card_file, const char *aid, size_t key_no, uint8_t out[16],
                     int *version)
{
    json_error_t jerr;
    json_t *root = json_load_file(card_file, 0, &jerr), *app = NULL, *key;
    assert_non_null(root);
    if (aid == NULL) {
        app = json_object_get(root, "picc");
    } else {
        json_t *apps = json_object_get(root, "apps"), *a;
        size_t i;
        json_array_foreach(apps, i, a)
        {
            if (strcmp(json_string_value(json_object_get(a, "aid")), aid) == 0)
                app = a;
        }
    }
    assert_non_null(app);
    assert_string_equal(json_string_value(json_object_get(app, "key_type")), "aes");
    key = json_array_get(json_object_get(app, "keys"), key_no);
    assert_non_null(key);
    assert_int_equal(hex_decode(json_string_value(json_object_get(key, "key")), out, 16), 16);
    *version = (int)json_integer_value(json_object_get(key, "version"));
    json_decref(root);
}

/* Issues a card on the virtual DESFire with the vectors' UID, issuer and program, and
 * every DESFire role's master set to the vectors' MASTER: the card ends up with KEY. */
static void test_issued_card_carries_the_vector_keys(void **state)
{
    struct fixture *f = *state;
    static const enum key_role roles[] = {KEY_ROLE_PICC_MASTER, KEY_ROLE_APP_MASTER,
                                          KEY_ROLE_PURSE_CREDIT, KEY_ROLE_TERMINAL};
    struct issuance_request req = {.account_id = f->account};
    struct issuance_card out;
    struct vector_record *v;
    struct key_program *p = NULL;
    uint8_t master[16], uid[7], issuer[4], program[4], app_key[16], picc_key[16], got[16];
    struct reader *r;
    int version;

    assert_int_equal(vectors_load("leal_derive_aids.txt", &v), REC_COUNT);
    vectors_hex(&v[REC_APP_UID], "MASTER", master, 16);
    vectors_hex(&v[REC_APP_UID], "UID", uid, 7);
    vectors_hex(&v[REC_APP_UID], "ISSUER", issuer, 4);
    vectors_hex(&v[REC_APP_UID], "PROGRAM", program, 4);
    vectors_hex(&v[REC_APP_UID], "KEY", app_key, 16);
    vectors_hex(&v[REC_PICC_UID], "KEY", picc_key, 16);
    free(v);
    /* The fixture's keystore is the vectors' issuer and program. */
    assert_int_equal(f->keys->issuer_id, load_be32(issuer));
    for (int i = 0; i < f->keys->nprograms; i++)
        if (f->keys->programs[i].id == load_be32(program))
            p = &f->keys->programs[i];
    assert_non_null(p);
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        struct key_slot *s = &p->roles[roles[i] - KEY_ROLE_FIRST];
        assert_int_equal(s->nversions, 1);
        memcpy(s->v[0].key, master, 16);
    }

    desk_fixture_new_card(f, "desfire-ev1", uid, 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &out), LEAL_OK);
    reader_close(r);

    card_key(f->card, NULL, 0, got, &version);
    assert_memory_equal(got, picc_key, 16);
    assert_int_equal(version, 1);
    for (size_t k = 0; k < 3; k++) {
        card_key(f->card, "41454c", k, got, &version);
        assert_memory_equal(got, app_key, 16);
        assert_int_equal(version, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_with_leal_and_picc_aids),
        cmocka_unit_test_setup_teardown(test_issued_card_carries_the_vector_keys,
                                        desk_fixture_setup, desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
