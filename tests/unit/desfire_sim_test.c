/* desfire_sim_test.c - the virtual DESFire: framing, GetVersion, the card
 * file, and the published authentication exchanges replayed on the card side
 * (NXP community thread, Elmü's trace) and through the independent host implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/desfire_host.h"
#include "tests/lib/simcard.h"
#include "tests/lib/testutil.h"

static void test_get_version_native_three_frames(void **state)
{
    struct simcard s;
    (void)state;
    simcard_new(&s, "desfire-ev1-4k");
    simcard_expect(&s, "60", "af 04 01 01 01 00 18 05");
    simcard_expect(&s, "af", "af 04 01 01 01 04 18 05");
    simcard_expect(&s, "af", "00 04112233445566 ba449f5010 01 26");
    simcard_free(&s);
}

static void test_get_version_wrapped_chaining(void **state)
{
    struct simcard s;
    (void)state;
    simcard_new(&s, "desfire-ev1-8k");
    simcard_expect(&s, "90 60 00 00 00", "04 01 01 01 00 1a 05 91 af");
    simcard_expect(&s, "90 af 00 00 00", "04 01 01 01 04 1a 05 91 af");
    simcard_expect(&s, "90 af 00 00 00", "04112233445566 ba449f5010 01 26 91 00");
    simcard_free(&s);
}

static void test_get_version_ev3_personality(void **state)
{
    struct simcard s;
    (void)state;
    simcard_new(&s, "desfire-ev3-2k");
    simcard_expect(&s, "60", "af 04 01 01 33 00 16 05");
    simcard_expect(&s, "af", "af 04 01 01 03 00 16 05");
    simcard_expect(&s, "af", "00 04112233445566 ba449f5010 01 26");
    simcard_free(&s);
}

static void test_activation_identity(void **state)
{
    struct simcard s;
    static const uint8_t ats[] = {0x06, 0x75, 0x77, 0x81, 0x02, 0x80};
    (void)state;
    simcard_new(&s, "desfire-ev1");
    assert_int_equal(s.id.uid_len, 7);
    assert_memory_equal(s.id.uid, "\x04\x11\x22\x33\x44\x55\x66", 7);
    assert_memory_equal(s.id.atqa, "\x44\x03", 2);
    assert_int_equal(s.id.sak, 0x20);
    assert_int_equal(s.id.ats_len, sizeof ats);
    assert_memory_equal(s.id.ats, ats, sizeof ats);
    assert_int_equal(cardsim_kind(s.card), CARDSIM_DESFIRE);
    simcard_free(&s);
}

static void test_random_uid_card_hides_uid(void **state)
{
    struct cardsim *c;
    struct cardsim_ident id;
    uint8_t r[64];
    size_t rl;
    (void)state;
    assert_int_equal(cardsim_new("desfire-ev1", NULL, 0, true, &c), LEAL_OK);
    assert_int_equal(cardsim_activate(c, &id), LEAL_OK);
    assert_int_equal(id.uid_len, 4);
    assert_int_equal(id.uid[0], 0x08);
    assert_memory_equal(id.atqa, "\x04\x03", 2);
    assert_int_equal(cardsim_transceive(c, (const uint8_t *)"\x60", 1, r, sizeof r, &rl), LEAL_OK);
    assert_int_equal(cardsim_transceive(c, (const uint8_t *)"\xaf", 1, r, sizeof r, &rl), LEAL_OK);
    assert_int_equal(cardsim_transceive(c, (const uint8_t *)"\xaf", 1, r, sizeof r, &rl), LEAL_OK);
    assert_int_equal(rl, 15);
    assert_memory_equal(r + 1, "\0\0\0\0\0\0\0", 7);
    cardsim_free(c);
}

static void test_random_uid_drawn_at_power_up(void **state)
{
    struct cardsim *c;
    struct cardsim_ident a, b, d;
    (void)state;
    assert_int_equal(cardsim_new("desfire-ev1", NULL, 0, true, &c), LEAL_OK);
    assert_int_equal(cardsim_activate(c, &a), LEAL_OK);
    /* Deselected and selected again in the same field: the same random UID. */
    cardsim_halt(c);
    assert_int_equal(cardsim_activate(c, &b), LEAL_OK);
    assert_int_equal(b.uid_len, 4);
    assert_memory_equal(a.uid, b.uid, 4);
    /* Out of the field and back: a new one (3 random bytes: 2^-24 to collide). */
    cardsim_deactivate(c);
    assert_int_equal(cardsim_activate(c, &d), LEAL_OK);
    assert_int_equal(d.uid[0], 0x08);
    assert_memory_not_equal(a.uid, d.uid, 4);
    cardsim_free(c);
}

static void test_transceive_needs_activation(void **state)
{
    struct cardsim *c;
    uint8_t r[64];
    size_t rl = 99;
    (void)state;
    assert_int_equal(cardsim_new("desfire-ev1", NULL, 0, false, &c), LEAL_OK);
    assert_int_equal(cardsim_transceive(c, (const uint8_t *)"\x60", 1, r, sizeof r, &rl),
                     LEAL_E_NO_CARD);
    assert_int_equal(rl, 0);
    cardsim_free(c);
    assert_int_equal(cardsim_new("mifare-plus", NULL, 0, false, &c), LEAL_E_CARD_UNKNOWN);
    assert_null(c);
}

/* The card's half of each published exchange, byte for byte. */
static void test_published_auth_traces_card_side(void **state)
{
    struct vector_record *v;
    int n = vectors_load("desfire_auth_traces.txt", &v);
    (void)state;
    for (int i = 0; i < n; i++) {
        struct simcard s;
        char cmd[128];
        const char *ins = vectors_str(&v[i], "INS");
        simcard_new(&s, "desfire-ev1");
        if (strcmp(ins, "aa") == 0) {
            /* Elmue's app 00AE16 with AES keys (zero). */
            simcard_expect(&s, "ca 16ae00 0f 82", "00");
            simcard_expect(&s, "5a 16ae00", "00");
        }
        simcard_rng(&s, vectors_str(&v[i], "RNDB"));
        snprintf(cmd, sizeof cmd, "%s 00", ins);
        simcard_expect(&s, cmd, vectors_str(&v[i], "RESP1"));
        snprintf(cmd, sizeof cmd, "af %s", vectors_str(&v[i], "TOKEN"));
        simcard_expect(&s, cmd, vectors_str(&v[i], "RESP2"));
        simcard_free(&s);
    }
    free(v);
}

/* The host implementation against the same traces: same RndA gives the same token. */
static void test_published_auth_traces_host_side(void **state)
{
    struct vector_record *v;
    int n = vectors_load("desfire_auth_traces.txt", &v);
    (void)state;
    for (int i = 0; i < n; i++) {
        struct simcard s;
        struct dfh h;
        uint8_t rnda[16], zero[16] = {0}, ins;
        const char *insh = vectors_str(&v[i], "INS");
        size_t an = vectors_hex(&v[i], "RNDA", rnda, sizeof rnda);
        ins = (uint8_t)strtol(insh, NULL, 16);
        simcard_new(&s, "desfire-ev1");
        if (ins == 0xAA) {
            simcard_expect(&s, "ca 16ae00 0f 82", "00");
            simcard_expect(&s, "5a 16ae00", "00");
        }
        simcard_rng(&s, vectors_str(&v[i], "RNDB"));
        dfh_init(&h, simcard_xfer, &s);
        assert_int_equal(an, ins == 0xAA ? 16 : 8);
        assert_int_equal(dfh_auth(&h, ins, 0, ins == 0xAA ? DFH_AES_KEY : DFH_DES, zero, 16, rnda),
                         0);
        if (ins == 0xAA) {
            uint8_t sess[16];
            vectors_hex(&v[i], "SESSION", sess, 16);
            assert_int_equal(h.sess_len, 16);
            assert_memory_equal(h.sess, sess, 16);
        } else {
            /* A DES key (both halves equal) gives a single-DES session key. */
            assert_int_equal(h.sess_len, 8);
        }
        simcard_free(&s);
    }
    free(v);
}

/* Authenticates with AES key 0 of app 00AE16 so that the session key is sess. */
static void aes_session(struct simcard *s, struct dfh *h, const uint8_t sess[16],
                        const uint8_t key[16])
{
    uint8_t rnda[16] = {0}, rndb[16] = {0};
    char hex[40];
    memcpy(rnda, sess, 4);
    memcpy(rnda + 12, sess + 8, 4);
    memcpy(rndb, sess + 4, 4);
    memcpy(rndb + 12, sess + 12, 4);
    hex_encode(rndb, 16, hex);
    simcard_rng(s, hex);
    dfh_init(h, simcard_xfer, s);
    assert_int_equal(dfh_auth(h, 0xAA, 0, DFH_AES_KEY, key, 16, rnda), 0);
    assert_memory_equal(h->sess, sess, 16);
}

static void test_change_key_published_cryptograms(void **state)
{
    struct vector_record *v;
    int n = vectors_load("desfire_changekey.txt", &v);
    (void)state;
    for (int i = 0; i < n; i++) {
        struct simcard s;
        struct dfh h;
        uint8_t sess[16], zero[16] = {0}, crypt[32], frame[40], r[64], keyno;
        char cmd[64], want[16];
        size_t rl;
        vectors_hex(&v[i], "SESSION", sess, 16);
        vectors_hex(&v[i], "KEYNO", &keyno, 1);
        assert_int_equal(vectors_hex(&v[i], "CRYPTOGRAM", crypt, 32), 32);
        simcard_new(&s, "desfire-ev1");
        simcard_expect(&s, "ca 16ae00 0f 82", "00");
        simcard_expect(&s, "5a 16ae00", "00");
        aes_session(&s, &h, sess, zero);
        /* The card accepts the published cryptogram (its CRCs hold). */
        frame[0] = 0xC4;
        frame[1] = keyno;
        memcpy(frame + 2, crypt, 32);
        assert_int_equal(cardsim_transceive(s.card, frame, 34, r, sizeof r, &rl), LEAL_OK);
        assert_int_equal(r[0], 0x00);
        assert_int_equal(rl, keyno == 0 ? 1 : 9);
        snprintf(cmd, sizeof cmd, "64 %02x", keyno);
        snprintf(want, sizeof want, "00 %s", vectors_str(&v[i], "VERSION"));
        if (keyno == 0)
            simcard_expect(&s, cmd, want); /* session over: plain answer */
        simcard_free(&s);
    }
    free(v);
}

/* And the host builds the same cryptograms. */
static int capture_xfer(void *ctx, const uint8_t *frame, size_t len, uint8_t *resp, size_t cap,
                        size_t *resp_len)
{
    uint8_t *cap_buf = ctx;
    (void)cap;
    memcpy(cap_buf, frame, len);
    resp[0] = 0xAE;
    *resp_len = 1;
    return 0;
}

static void test_change_key_host_builds_published_cryptograms(void **state)
{
    struct vector_record *v;
    int n = vectors_load("desfire_changekey.txt", &v);
    (void)state;
    for (int i = 0; i < n; i++) {
        struct dfh h;
        uint8_t sent[64], crypt[32], newkey[16], old[16], keyno, ver;
        vectors_hex(&v[i], "KEYNO", &keyno, 1);
        vectors_hex(&v[i], "VERSION", &ver, 1);
        vectors_hex(&v[i], "NEWKEY", newkey, 16);
        vectors_hex(&v[i], "CRYPTOGRAM", crypt, 32);
        dfh_init(&h, capture_xfer, sent);
        h.auth = DFH_AES;
        h.bs = 16;
        h.sess_len = 16;
        h.keyno = 0;
        vectors_hex(&v[i], "SESSION", h.sess, 16);
        if (keyno != 0)
            vectors_hex(&v[i], "OLDKEY", old, 16);
        assert_int_equal(
            dfh_change_key(&h, keyno, DFH_AES_KEY, newkey, 16, ver, keyno == 0 ? NULL : old), 0xAE);
        assert_int_equal(sent[0], 0xC4);
        assert_int_equal(sent[1], keyno);
        assert_memory_equal(sent + 2, crypt, 32);
    }
    free(v);
}

/* Elmue's CMAC chain: GetKeyVersion in a session answers 10 and the CMAC. */
static void test_cmac_chained_answer_published(void **state)
{
    struct vector_record *v;
    struct simcard s;
    struct dfh h;
    uint8_t sess[16], zero[16] = {0}, r[64], want[16], newkey[16];
    size_t rl;
    (void)state;
    vectors_load("elmu_desfire_cmac_chain.txt", &v);
    vectors_hex(&v[0], "SESSION", sess, 16);
    vectors_hex(&v[0], "RESP_CMAC", want, 16);
    simcard_new(&s, "desfire-ev1");
    simcard_expect(&s, "ca 16ae00 0f 82", "00");
    simcard_expect(&s, "5a 16ae00", "00");
    /* Key 0 gets version 10 (a key of zeros with version 0x10). */
    memset(newkey, 0, 16);
    dfh_init(&h, simcard_xfer, &s);
    assert_int_equal(dfh_auth(&h, 0xAA, 0, DFH_AES_KEY, zero, 16, zero), 0);
    assert_int_equal(dfh_change_key(&h, 0, DFH_AES_KEY, newkey, 16, 0x10, NULL), 0);
    aes_session(&s, &h, sess, newkey);
    assert_int_equal(cardsim_transceive(s.card, (const uint8_t *)"\x64\x00", 2, r, sizeof r, &rl),
                     LEAL_OK);
    assert_int_equal(rl, 10);
    assert_int_equal(r[0], 0x00);
    assert_int_equal(r[1], 0x10);
    assert_memory_equal(r + 2, want, 8);
    simcard_free(&s);
    free(v);
}

static void test_card_file_round_trip(void **state)
{
    struct simcard s;
    struct cardsim *c2;
    char *a, *b, *dir = test_tmpdir(), path[512];
    (void)state;
    simcard_new(&s, "desfire-ev1-2k");
    simcard_expect(&s, "ca 010000 0f 83", "00");
    simcard_expect(&s, "ca 020000 0b 45", "00");
    simcard_expect(&s, "5a 010000", "00");
    simcard_expect(&s, "cd 01 00 eeee 200000", "00");
    simcard_expect(&s, "3d 01 000000 030000 aabbcc", "00");
    simcard_expect(&s, "cc 02 00 eeee 00000000 e8030000 64000000 01", "00");
    simcard_expect(&s, "c0 03 00 eeee 040000 030000", "00");
    snprintf(path, sizeof path, "%s/card.json", dir);
    assert_int_equal(cardsim_save(s.card, path), LEAL_OK);
    assert_int_equal(cardsim_load(path, &c2), LEAL_OK);
    assert_int_equal(cardsim_to_string(s.card, &a), LEAL_OK);
    assert_int_equal(cardsim_to_string(c2, &b), LEAL_OK);
    assert_string_equal(a, b);
    assert_string_equal(cardsim_type(c2), "desfire-ev1-2k");
    free(a);
    free(b);
    cardsim_free(c2);
    simcard_free(&s);
    test_rmtree(dir);
    free(dir);
}

static void test_card_file_rejects_bad_input(void **state)
{
    struct cardsim *c = NULL;
    static const char *bad[] = {
        "",
        "[]",
        "{\"format\":\"leal-cardsim/1\"}",
        "{\"format\":\"leal-cardsim/9\",\"type\":\"desfire-ev1\"}",
        "{\"format\":\"leal-cardsim/1\",\"type\":\"desfire-ev1\"}",
        "{\"format\":\"leal-cardsim/1\",\"type\":\"nope\"}",
    };
    static const leal_err want[] = {LEAL_E_FORMAT,  LEAL_E_FORMAT, LEAL_E_FORMAT,
                                    LEAL_E_VERSION, LEAL_E_FORMAT, LEAL_E_CARD_UNKNOWN};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cardsim_from_string(bad[i], strlen(bad[i]), &c), want[i]);
        assert_null(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_version_native_three_frames),
        cmocka_unit_test(test_get_version_wrapped_chaining),
        cmocka_unit_test(test_get_version_ev3_personality),
        cmocka_unit_test(test_activation_identity),
        cmocka_unit_test(test_random_uid_card_hides_uid),
        cmocka_unit_test(test_random_uid_drawn_at_power_up),
        cmocka_unit_test(test_transceive_needs_activation),
        cmocka_unit_test(test_published_auth_traces_card_side),
        cmocka_unit_test(test_published_auth_traces_host_side),
        cmocka_unit_test(test_change_key_published_cryptograms),
        cmocka_unit_test(test_change_key_host_builds_published_cryptograms),
        cmocka_unit_test(test_cmac_chained_answer_published),
        cmocka_unit_test(test_card_file_round_trip),
        cmocka_unit_test(test_card_file_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
