/* desfire_test.c - the DESFire EV1 driver: byte for byte against Elmue's published
 * AES trace (Elmü, PN532) through a trace-replaying reader, the libfreefare #90
 * rule, framing and status mapping; then a whole card life on the in-process
 * virtual card (host/cardsim) with exact values and round trips (LAYOUT.md 2.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/identity.h"
#include "cardlayout/records/state.h"
#include "host/cardsim/cardsim.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

/* ---- a reader that replays a published trace: each step names the exact command
 * expected (NULL: any) and the answer to give. */
struct step {
    const char *cmd;
    const char *resp;
};

struct replay {
    const struct step *steps;
    size_t n, at;
};

static leal_err replay_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                  size_t resp_cap, size_t *resp_len)
{
    struct replay *r = ctx;
    uint8_t want[300];
    long wl, rl;
    assert_true(r->at < r->n);
    if (r->steps[r->at].cmd != NULL) {
        wl = hex_decode(r->steps[r->at].cmd, want, sizeof want);
        assert_true(wl >= 0);
        assert_int_equal(cmd_len, (size_t)wl);
        assert_memory_equal(cmd, want, cmd_len);
    }
    rl = hex_decode(r->steps[r->at].resp, resp, resp_cap);
    assert_true(rl >= 0);
    *resp_len = (size_t)rl;
    r->at++;
    return LEAL_OK;
}

static leal_err no_classic_auth(void *ctx, uint8_t b, uint8_t t, const uint8_t k[6])
{
    (void)ctx, (void)b, (void)t, (void)k;
    return LEAL_E_UNSUPPORTED;
}
static leal_err no_classic_read(void *ctx, uint8_t b, uint8_t out[16])
{
    (void)ctx, (void)b, (void)out;
    return LEAL_E_UNSUPPORTED;
}
static leal_err no_classic_write(void *ctx, uint8_t b, const uint8_t d[16])
{
    (void)ctx, (void)b, (void)d;
    return LEAL_E_UNSUPPORTED;
}

static struct card_reader replay_reader(struct replay *r)
{
    return (struct card_reader){r, replay_transceive, no_classic_auth, no_classic_read,
                                no_classic_write};
}

/* A provider whose random numbers are the published RndA. */
static uint8_t fixed_rnd[16];
static leal_err fixed_random(uint8_t *out, size_t n)
{
    assert_int_equal(n, 16);
    memcpy(out, fixed_rnd, 16);
    return LEAL_OK;
}

static char *cat(char *buf, size_t cap, const char *a, const char *b, const char *c)
{
    snprintf(buf, cap, "%s%s%s", a, b, c);
    return buf;
}

static void test_desfire_aes_auth_and_change_key_replay_elmue_trace(void **state)
{
    (void)state;
    struct vector_record *a, *k;
    vectors_load("desfire_auth_traces.txt", &a);
    vectors_load("desfire_changekey.txt", &k);
    const struct vector_record *aes = &a[2], *ck = &k[0];
    assert_string_equal(vectors_str(aes, "INS"), "aa");
    char resp1[80], cmd2[120], resp2[80], cmd3[120], rnda[40];
    /* The vectors hold native frames (status first); the driver wraps them. */
    const char *r1 = vectors_str(aes, "RESP1"), *r2 = vectors_str(aes, "RESP2");
    cat(resp1, sizeof resp1, r1 + 3, "91af", "");
    cat(resp2, sizeof resp2, r2 + 3, "9100", "");
    cat(cmd2, sizeof cmd2, "90af000020", vectors_str(aes, "TOKEN"), "00");
    cat(cmd3, sizeof cmd3, "90c400002100", vectors_str(ck, "CRYPTOGRAM"), "00");
    const struct step steps[] = {
        {"90aa0000010000", resp1},
        {cmd2, resp2},
        {cmd3, "9100"},
    };
    struct replay rp = {steps, 3, 0};
    struct card_reader rd = replay_reader(&rp);
    struct crypto_provider cp = *crypto_openssl();
    struct desfire d;
    uint8_t zero[16] = {0}, session[16], newkey[16], ver;
    snprintf(rnda, sizeof rnda, "%s", vectors_str(aes, "RNDA"));
    assert_int_equal(hex_decode(rnda, fixed_rnd, 16), 16);
    cp.random = fixed_random;
    desfire_init(&d, &rd, &cp);
    assert_int_equal(desfire_authenticate_aes(&d, 0, zero), LEAL_OK);
    vectors_hex(aes, "SESSION", session, 16);
    assert_true(d.authenticated);
    assert_memory_equal(d.session, session, 16);
    assert_memory_equal(d.iv, zero, 16);
    assert_int_equal(d.round_trips, 2);
    /* ChangeKey of the session's own key: Elmue's cryptogram; the session then ends and
     * the card's bare 00 is the expected answer. */
    vectors_hex(ck, "NEWKEY", newkey, 16);
    vectors_hex(ck, "VERSION", &ver, 1);
    assert_int_equal(desfire_change_key(&d, 0, newkey, ver, NULL), LEAL_OK);
    assert_false(d.authenticated);
    assert_int_equal(rp.at, 3);
    assert_int_equal(d.round_trips, 3);
    desfire_clear(&d);
    free(a);
    free(k);
}

static void test_desfire_change_key_other_key_cryptogram(void **state)
{
    (void)state;
    struct vector_record *k;
    vectors_load("desfire_changekey.txt", &k);
    for (int i = 0; i < 2; i++) {
        uint8_t session[16], iv[16] = {0}, newkey[16], oldkey[16], ver, keyno, want[32], out[32];
        vectors_hex(&k[i], "SESSION", session, 16);
        vectors_hex(&k[i], "NEWKEY", newkey, 16);
        vectors_hex(&k[i], "VERSION", &ver, 1);
        vectors_hex(&k[i], "KEYNO", &keyno, 1);
        vectors_hex(&k[i], "CRYPTOGRAM", want, 32);
        if (i == 1)
            vectors_hex(&k[i], "OLDKEY", oldkey, 16);
        assert_int_equal(
            desfire_change_key_cryptogram(
                crypto_openssl(), session, iv,
                &(struct desfire_key_change){keyno, newkey, ver, i == 1 ? oldkey : NULL}, out),
            LEAL_OK);
        assert_memory_equal(out, want, 32);
        assert_memory_equal(iv, want + 16, 16); /* the IV runs on */
    }
    free(k);
}

static void resume_elmue_cmac_session(struct desfire *d)
{
    struct vector_record *v;
    uint8_t s[16], zero[16] = {0};
    vectors_load("elmu_desfire_cmac_chain.txt", &v);
    vectors_hex(&v[0], "SESSION", s, 16);
    desfire_resume_session(d, 0, s, zero);
    free(v);
}

static void test_desfire_cmac_chaining_elmue_get_key_version(void **state)
{
    (void)state;
    const struct step steps[] = {{"90640000010000", "108a8fa36f55cd210d9100"}};
    struct replay rp = {steps, 1, 0};
    struct card_reader rd = replay_reader(&rp);
    struct desfire d;
    struct vector_record *v;
    uint8_t ver = 0, mac[16];
    desfire_init(&d, &rd, crypto_openssl());
    resume_elmue_cmac_session(&d);
    assert_int_equal(desfire_get_key_version(&d, 0, &ver), LEAL_OK);
    assert_int_equal(ver, 0x10);
    vectors_load("elmu_desfire_cmac_chain.txt", &v);
    vectors_hex(&v[0], "RESP_CMAC", mac, 16);
    assert_memory_equal(d.iv, mac, 16); /* the full answer CMAC is the next IV */
    assert_true(d.authenticated);
    free(v);
}

/* libfreefare #90: a bare "00" or a wrong MAC under a session is an attack, for a Debit
 * above all; the session ends. */
static void test_desfire_bare_status_or_bad_mac_is_refused(void **state)
{
    (void)state;
    const struct step steps[] = {
        {NULL, "9100"},                   /* Debit answered by a bare 00 */
        {NULL, "9100"},                   /* Commit answered by a bare 00 */
        {NULL, "108a8fa36f55cd210e9100"}, /* GetKeyVersion: last MAC byte changed */
        {NULL, "8a8fa36f55cd219100"},     /* GetKeyVersion: 7-byte MAC */
    };
    struct replay rp = {steps, 4, 0};
    struct card_reader rd = replay_reader(&rp);
    struct desfire d;
    uint8_t ver = 0x55;
    desfire_init(&d, &rd, crypto_openssl());
    resume_elmue_cmac_session(&d);
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 500),
                     LEAL_E_CARD_RESPONSE_MAC);
    assert_false(d.authenticated);
    resume_elmue_cmac_session(&d);
    assert_int_equal(desfire_commit(&d), LEAL_E_CARD_RESPONSE_MAC);
    resume_elmue_cmac_session(&d);
    assert_int_equal(desfire_get_key_version(&d, 0, &ver), LEAL_E_CARD_RESPONSE_MAC);
    assert_false(d.authenticated);
    resume_elmue_cmac_session(&d);
    assert_int_equal(desfire_get_key_version(&d, 0, &ver), LEAL_E_CARD_RESPONSE_MAC);
    /* Nothing under a session without one. */
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 1), LEAL_E_STATE);
    assert_int_equal(rp.at, 4);
}

static void test_desfire_status_words_become_leal_errors(void **state)
{
    (void)state;
    static const struct {
        const char *resp;
        leal_err err;
    } cases[] = {
        {"910c", LEAL_E_CARD_NO_CHANGES},
        {"910e", LEAL_E_CARD_OUT_OF_EEPROM},
        {"911c", LEAL_E_CARD_ILLEGAL_COMMAND},
        {"911e", LEAL_E_CARD_INTEGRITY},
        {"9140", LEAL_E_CARD_NO_SUCH_KEY},
        {"917e", LEAL_E_CARD_LENGTH},
        {"919d", LEAL_E_CARD_PERMISSION_DENIED},
        {"919e", LEAL_E_CARD_PARAMETER},
        {"91a0", LEAL_E_CARD_APPLICATION_NOT_FOUND},
        {"91a1", LEAL_E_CARD_MEMORY_DAMAGED},
        {"91ae", LEAL_E_CARD_AUTHENTICATION},
        {"91be", LEAL_E_CARD_BOUNDARY},
        {"91c1", LEAL_E_CARD_MEMORY_DAMAGED},
        {"91ca", LEAL_E_CARD_COMMAND_ABORTED},
        {"91cd", LEAL_E_CARD_DISABLED},
        {"91ce", LEAL_E_CARD_COUNT},
        {"91de", LEAL_E_CARD_DUPLICATE},
        {"91ee", LEAL_E_CARD_EEPROM},
        {"91f0", LEAL_E_CARD_FILE_NOT_FOUND},
        {"91f1", LEAL_E_CARD_MEMORY_DAMAGED},
        {"9177", LEAL_E_CARD_STATUS},
        {"6a82", LEAL_E_PROTOCOL},
        {"00", LEAL_E_PROTOCOL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct step steps[] = {{NULL, cases[i].resp}};
        struct replay rp = {steps, 1, 0};
        struct card_reader rd = replay_reader(&rp);
        struct desfire d;
        desfire_init(&d, &rd, crypto_openssl());
        resume_elmue_cmac_session(&d);
        assert_int_equal(desfire_commit(&d), cases[i].err);
        assert_false(d.authenticated);
        assert_true(leal_err_is_defined(cases[i].err));
    }
    assert_int_equal(desfire_status_err(0x00), LEAL_OK);
}

static void test_desfire_af_chaining_both_ways(void **state)
{
    (void)state;
    uint8_t data[100], back[100];
    char c1[300], c2[300], r1[300], r2[300], hex[250];
    for (int i = 0; i < 100; i++)
        data[i] = (uint8_t)(i + 1);
    /* WriteData 100 bytes: 3D 05 000000 640000 || data = 107 bytes after INS... the first
     * frame carries 55, the card asks for more with an empty AF, the next carries 52. */
    uint8_t msg[107] = {0x05, 0, 0, 0, 100, 0, 0};
    memcpy(msg + 7, data, 100);
    hex_encode(msg, 55, hex);
    cat(c1, sizeof c1, "903d000037", hex, "00");
    hex_encode(msg + 55, 52, hex);
    cat(c2, sizeof c2, "90af000034", hex, "00");
    /* ReadData 100 bytes: 59 bytes then AF, then 41 bytes and 00. */
    hex_encode(data, 59, hex);
    cat(r1, sizeof r1, hex, "91af", "");
    hex_encode(data + 59, 41, hex);
    cat(r2, sizeof r2, hex, "9100", "");
    const struct step steps[] = {
        {c1, "91af"},
        {c2, "9100"},
        {"90bd0000070500000064000000", r1},
        {"90af000000", r2},
    };
    struct replay rp = {steps, 4, 0};
    struct card_reader rd = replay_reader(&rp);
    struct desfire d;
    desfire_init(&d, &rd, crypto_openssl());
    assert_int_equal(desfire_write_data(&d, 5, DESFIRE_COMM_PLAIN, 0, data, 100), LEAL_OK);
    assert_int_equal(d.round_trips, 2);
    assert_int_equal(desfire_read_data(&d, 5, DESFIRE_COMM_PLAIN, 0, 100, back), LEAL_OK);
    assert_memory_equal(back, data, 100);
    assert_int_equal(d.round_trips, 4);
}

/* ---- the in-process virtual card */

static leal_err sim_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    return cardsim_transceive(ctx, cmd, cmd_len, resp, resp_cap, resp_len);
}

static const uint8_t AID[3] = {LAYOUT_DF_AID_0, LAYOUT_DF_AID_1, LAYOUT_DF_AID_2};
static const uint8_t DF_NAME[7] = {0xF0, 'L', 'E', 'A', 'L', '0', '1'};
static const uint8_t UID[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

static void key_of(uint8_t k[16], uint8_t seed)
{
    for (int i = 0; i < 16; i++)
        k[i] = (uint8_t)(seed * 16 + i);
}

static void test_desfire_card_life_on_the_virtual_card(void **state)
{
    (void)state;
    struct cardsim *card;
    struct cardsim_ident ident;
    struct desfire d;
    struct desfire_version ver;
    uint8_t zero[16] = {0}, k0[16], k1[16], k2[16], idrec[32], strec[32], buf[32], uid[7];
    struct identity id = {.card_id = 0x100000042ull,
                          .issuer_id = 0x1EA10001,
                          .program_id = 7,
                          .key_set_version = 1,
                          .card_kind = IDENTITY_DESFIRE_EV1,
                          .issued_day = 20415};
    struct state_body st = {0}, got;
    uint64_t card_id;
    uint8_t layout;
    int32_t v;
    uint8_t kv;

    assert_int_equal(cardsim_new("desfire-ev1", UID, 7, false, &card), LEAL_OK);
    assert_int_equal(cardsim_activate(card, &ident), LEAL_OK);
    struct card_reader rd = {card, sim_transceive, no_classic_auth, no_classic_read,
                             no_classic_write};
    key_of(k0, 1);
    key_of(k1, 2);
    key_of(k2, 3);
    desfire_init(&d, &rd, crypto_openssl());

    /* Personalisation (the application part of LAYOUT.md 2.7's issuance). */
    uint8_t picc[3] = {0, 0, 0};
    assert_int_equal(desfire_select_application(&d, picc), LEAL_OK);
    assert_int_equal(desfire_get_version(&d, &ver), LEAL_OK);
    assert_int_equal(d.round_trips, 4); /* select + GetVersion's three frames */
    assert_int_equal(ver.hw[0], 0x04);
    assert_int_equal(ver.hw[3], 0x01); /* EV1 */
    assert_memory_equal(ver.uid, UID, 7);
    assert_int_equal(
        desfire_create_application(
            &d, &(struct desfire_app_spec){AID, LAYOUT_APP_KEY_SETTINGS, LAYOUT_APP_SETTINGS2,
                                           LAYOUT_DF_ISO_FID, DF_NAME, sizeof DF_NAME}),
        LEAL_OK);
    assert_int_equal(desfire_select_application(&d, AID), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_APP_MASTER, zero), LEAL_OK);
    assert_int_equal(
        desfire_create_data_file(
            &d, &(struct desfire_data_file){LAYOUT_FILE_IDENTITY, false, LAYOUT_ISO_FID_IDENTITY,
                                            DESFIRE_COMM_PLAIN, LAYOUT_AR_IDENTITY, 32}),
        LEAL_OK);
    assert_int_equal(
        desfire_create_data_file(
            &d, &(struct desfire_data_file){LAYOUT_FILE_STATE, true, LAYOUT_ISO_FID_STATE,
                                            DESFIRE_COMM_MACED, LAYOUT_AR_STATE, 32}),
        LEAL_OK);
    assert_int_equal(desfire_create_value_file(
                         &d, &(struct desfire_value_file){LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL,
                                                          LAYOUT_AR_PURSE, 0, 50000, 0, 0x01}),
                     LEAL_OK);
    assert_int_equal(
        desfire_create_value_file(
            &d,
            &(struct desfire_value_file){LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, LAYOUT_AR_COUNTER,
                                         0, LAYOUT_COUNTER_START, LAYOUT_COUNTER_START, 0x00}),
        LEAL_OK);
    assert_int_equal(
        desfire_create_record_file(
            &d, &(struct desfire_record_file){LAYOUT_FILE_LOG, true, LAYOUT_ISO_FID_LOG,
                                              DESFIRE_COMM_FULL, LAYOUT_AR_LOG,
                                              LAYOUT_LOG_RECORD_LEN, LAYOUT_LOG_RECORDS}),
        LEAL_OK);
    assert_int_equal(identity_encode(&id, idrec), LEAL_OK);
    assert_int_equal(desfire_write_data(&d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, idrec, 32),
                     LEAL_OK);
    st.seq = 1;
    assert_int_equal(state_file_encode(LAYOUT_VERSION, id.card_id, &st, strec), LEAL_OK);
    assert_int_equal(desfire_write_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, strec, 32),
                     LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    assert_int_equal(desfire_change_key(&d, LAYOUT_KEY_PURSE_CREDIT, k1, 1, zero), LEAL_OK);
    assert_int_equal(desfire_change_key(&d, LAYOUT_KEY_TERMINAL, k2, 1, zero), LEAL_OK);
    assert_int_equal(desfire_change_key(&d, LAYOUT_KEY_APP_MASTER, k0, 1, NULL), LEAL_OK);
    assert_false(d.authenticated);
    /* The old key no longer opens the application; the new one does. */
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_APP_MASTER, zero),
                     LEAL_E_CARD_AUTHENTICATION);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_APP_MASTER, k0), LEAL_OK);
    assert_int_equal(desfire_get_key_version(&d, LAYOUT_KEY_TERMINAL, &kv), LEAL_OK);
    assert_int_equal(kv, 1);
    assert_int_equal(desfire_get_card_uid(&d, uid), LEAL_OK);
    assert_memory_equal(uid, UID, 7);
    assert_int_equal(desfire_verify_card_uid(&d, UID), LEAL_OK);
    uid[6] ^= 1;
    assert_int_equal(desfire_verify_card_uid(&d, uid), LEAL_E_CARD_UID_MISMATCH);

    /* Top-up by the host with purse-credit (LAYOUT.md 2.7: 7 round trips). */
    d.round_trips = 0;
    assert_int_equal(desfire_select_application(&d, AID), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_PURSE_CREDIT, k1), LEAL_OK);
    assert_int_equal(desfire_get_value(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, &v), LEAL_OK);
    assert_int_equal(v, LAYOUT_COUNTER_START);
    assert_int_equal(desfire_credit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 2500), LEAL_OK);
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1), LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    assert_int_equal(d.round_trips, 7);

    /* Pay + earn tap by a terminal: 8 round trips. */
    d.round_trips = 0;
    assert_int_equal(desfire_select_application(&d, AID), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, k2), LEAL_OK);
    assert_int_equal(desfire_read_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, 32, buf),
                     LEAL_OK);
    assert_int_equal(state_file_decode(buf, 32, &layout, &card_id, &got), LEAL_OK);
    assert_int_equal(card_id, id.card_id);
    assert_int_equal(got.seq, 1);
    got.seq++;
    got.points += 70;
    got.buckets[0] += 7;
    assert_int_equal(state_file_encode(layout, card_id, &got, strec), LEAL_OK);
    assert_int_equal(desfire_write_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, strec, 32),
                     LEAL_OK);
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 700), LEAL_OK);
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1), LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    assert_int_equal(d.round_trips, 8);

    /* Void of that debit by the same terminal: 8 round trips; LimitedCredit only once. */
    d.round_trips = 0;
    assert_int_equal(desfire_select_application(&d, AID), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, k2), LEAL_OK);
    assert_int_equal(desfire_read_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, 32, buf),
                     LEAL_OK);
    assert_int_equal(state_file_decode(buf, 32, &layout, &card_id, &got), LEAL_OK);
    assert_int_equal(got.seq, 2);
    got.seq++;
    got.points -= 70;
    got.buckets[0] -= 7;
    assert_int_equal(state_file_encode(layout, card_id, &got, strec), LEAL_OK);
    assert_int_equal(desfire_write_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, strec, 32),
                     LEAL_OK);
    assert_int_equal(desfire_limited_credit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 700),
                     LEAL_OK);
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1), LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    assert_int_equal(d.round_trips, 8);

    /* Earn tap: 7 round trips (the goal of LAYOUT.md 2.7). */
    d.round_trips = 0;
    assert_int_equal(desfire_select_application(&d, AID), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, k2), LEAL_OK);
    assert_int_equal(desfire_read_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, 32, buf),
                     LEAL_OK);
    assert_int_equal(state_file_decode(buf, 32, &layout, &card_id, &got), LEAL_OK);
    got.seq++;
    got.points += 15;
    got.stamps[0]++;
    assert_int_equal(state_file_encode(layout, card_id, &got, strec), LEAL_OK);
    assert_int_equal(desfire_write_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, strec, 32),
                     LEAL_OK);
    assert_int_equal(desfire_debit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1), LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    assert_int_equal(d.round_trips, 7);

    /* What a terminal must never do: credit the purse, void twice, credit the counter. */
    assert_int_equal(desfire_credit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 1),
                     LEAL_E_CARD_PERMISSION_DENIED);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, k2), LEAL_OK);
    assert_int_equal(desfire_limited_credit(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, 700),
                     LEAL_E_CARD_BOUNDARY);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, k2), LEAL_OK);
    assert_int_equal(desfire_credit(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1),
                     LEAL_E_CARD_PERMISSION_DENIED);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, k2), LEAL_OK);
    assert_int_equal(desfire_write_data(&d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, idrec, 32),
                     LEAL_E_CARD_PERMISSION_DENIED);

    /* Read view with exact values; the identity is free to read before authentication. */
    d.round_trips = 0;
    assert_int_equal(desfire_select_application(&d, AID), LEAL_OK);
    assert_int_equal(desfire_read_data(&d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, 32, buf),
                     LEAL_OK);
    assert_memory_equal(buf, idrec, 32);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_TERMINAL, k2), LEAL_OK);
    assert_int_equal(desfire_read_data(&d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, 32, buf),
                     LEAL_OK);
    assert_int_equal(state_file_decode(buf, 32, &layout, &card_id, &got), LEAL_OK);
    assert_int_equal(got.seq, 4);
    assert_int_equal(got.points, 15);
    assert_int_equal(got.stamps[0], 1);
    assert_int_equal(got.buckets[0], 0);
    assert_int_equal(desfire_get_value(&d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, &v), LEAL_OK);
    assert_int_equal(v, 2500);
    assert_int_equal(desfire_get_value(&d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, &v), LEAL_OK);
    assert_int_equal(v, LAYOUT_COUNTER_START - 4);
    assert_int_equal(d.round_trips, 7); /* + identity and counter: the desk's view */

    desfire_clear(&d);
    cardsim_free(card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desfire_aes_auth_and_change_key_replay_elmue_trace),
        cmocka_unit_test(test_desfire_change_key_other_key_cryptogram),
        cmocka_unit_test(test_desfire_cmac_chaining_elmue_get_key_version),
        cmocka_unit_test(test_desfire_bare_status_or_bad_mac_is_refused),
        cmocka_unit_test(test_desfire_status_words_become_leal_errors),
        cmocka_unit_test(test_desfire_af_chaining_both_ways),
        cmocka_unit_test(test_desfire_card_life_on_the_virtual_card),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
