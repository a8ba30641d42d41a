/* desfire_ev2_test.c - DESFire EV2 secure messaging in cardlayout/desfire
 * against every published vector of REFERENCE.md 2.5 (NXP AN12343, AN12196):
 * session keys, IVs, MACt, the whole AuthenticateEV2First exchange replayed
 * byte for byte through the driver, AN12196's enciphered GetCardUID,
 * ChangeKey (both cases) and ChangeFileSettings; a wrong or missing MACt or
 * padding is refused and ends the session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/desfire/desfire_ev2.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

/* ---- a reader that replays an exchange: the exact command expected, the answer given. */
struct replay {
    const char *const *cmd; /* hex; NULL: not checked */
    const char *const *resp;
    size_t n, at;
    int flip;         /* flip this byte of the next answer (-1: none) */
    size_t flip_at;   /* ... or of answer number flip_at (0-based) */
    int flip_at_byte; /* -1: none */
};

static leal_err replay_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                  size_t resp_cap, size_t *resp_len)
{
    struct replay *r = ctx;
    uint8_t want[300];
    long wl, rl;
    assert_true(r->at < r->n);
    if (r->cmd[r->at] != NULL) {
        wl = hex_decode(r->cmd[r->at], want, sizeof want);
        assert_true(wl >= 0);
        assert_int_equal(cmd_len, (size_t)wl);
        assert_memory_equal(cmd, want, cmd_len);
    }
    rl = hex_decode(r->resp[r->at], resp, resp_cap);
    assert_true(rl >= 2);
    if (r->flip >= 0) {
        resp[r->flip] ^= 0x01;
        r->flip = -1;
    }
    if (r->flip_at_byte >= 0 && r->flip_at == r->at)
        resp[r->flip_at_byte] ^= 0x01;
    *resp_len = (size_t)rl;
    r->at++;
    return LEAL_OK;
}

static leal_err no_auth(void *ctx, uint8_t b, uint8_t t, const uint8_t k[6])
{
    (void)ctx, (void)b, (void)t, (void)k;
    return LEAL_E_UNSUPPORTED;
}
static leal_err no_read(void *ctx, uint8_t b, uint8_t out[16])
{
    (void)ctx, (void)b, (void)out;
    return LEAL_E_UNSUPPORTED;
}
static leal_err no_write(void *ctx, uint8_t b, const uint8_t d[16])
{
    (void)ctx, (void)b, (void)d;
    return LEAL_E_UNSUPPORTED;
}

static uint8_t fixed_rnd[16];
static leal_err fixed_random(uint8_t *out, size_t n)
{
    assert_int_equal(n, 16);
    memcpy(out, fixed_rnd, 16);
    return LEAL_OK;
}

static void test_ev2_session_keys_an12343_an12196(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("desfire_ev2_session_keys.txt", &v);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        uint8_t k[16], a[16], b[16], enc[16], mac[16], want_enc[16], want_mac[16], sv[32], w[32];
        vectors_hex(&v[i], "KEY", k, 16);
        vectors_hex(&v[i], "RNDA", a, 16);
        vectors_hex(&v[i], "RNDB", b, 16);
        vectors_hex(&v[i], "ENC", want_enc, 16);
        vectors_hex(&v[i], "MAC", want_mac, 16);
        assert_int_equal(desfire_ev2_session_keys(crypto_openssl(), k, a, b, enc, mac), LEAL_OK);
        assert_memory_equal(enc, want_enc, 16);
        assert_memory_equal(mac, want_mac, 16);
        if (i == 0) { /* AN12343 prints SV1 */
            assert_int_equal(vectors_hex(&v[i], "SV1", w, sizeof w), 32);
            desfire_ev2_sv(0xA5, 0x5A, a, b, sv);
            assert_memory_equal(sv, w, 32);
        }
    }
    free(v);
}

static void test_ev2_iv_mac_vectors(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("desfire_ev2_messaging.txt", &v), ivs = 0, macs = 0;
    for (int i = 0; i < n; i++) {
        const char *kind = vectors_str(&v[i], "KIND");
        uint8_t k[16], ti[4], ctr[2], got[16], want[16], code, data[128];
        if (strcmp(kind, "FULL") == 0)
            continue;
        vectors_hex(&v[i], "TI", ti, 4);
        vectors_hex(&v[i], "CTR", ctr, 2);
        if (strcmp(kind, "IV") == 0) {
            vectors_hex(&v[i], "KEY", k, 16);
            vectors_hex(&v[i], "IV", want, 16);
            assert_int_equal(desfire_ev2_iv(crypto_openssl(), k, false, ti,
                                            (uint16_t)(ctr[0] << 8 | ctr[1]), got),
                             LEAL_OK);
            assert_memory_equal(got, want, 16);
            ivs++;
        } else {
            size_t dl;
            vectors_hex(&v[i], "KEY", k, 16);
            vectors_hex(&v[i], "CODE", &code, 1);
            dl = vectors_hex(&v[i], "DATA", data, sizeof data);
            vectors_hex(&v[i], "MACT", want, 8);
            assert_int_equal(
                desfire_ev2_mac(
                    crypto_openssl(), k,
                    &(struct desfire_ev2_msg){code, (uint16_t)(ctr[0] << 8 | ctr[1]), ti, data, dl},
                    got),
                LEAL_OK);
            assert_memory_equal(got, want, 8);
            macs++;
        }
    }
    assert_int_equal(ivs, 2);
    assert_int_equal(macs, 4);
    free(v);
}

static void test_ev2_padding(void **state)
{
    (void)state;
    uint8_t b[48];
    size_t dl;
    memset(b, 0x22, sizeof b);
    assert_int_equal(desfire_ev2_pad(b, 7), 16);
    assert_int_equal(b[7], 0x80);
    assert_int_equal(b[15], 0x00);
    assert_true(desfire_ev2_unpad(b, 16, &dl));
    assert_int_equal(dl, 7);
    memset(b, 0x22, sizeof b);
    assert_int_equal(desfire_ev2_pad(b, 16), 32); /* always at least one byte */
    assert_int_equal(b[16], 0x80);
    assert_true(desfire_ev2_unpad(b, 32, &dl));
    assert_int_equal(dl, 16);
    assert_int_equal(desfire_ev2_pad(b, 0), 16);
    assert_true(desfire_ev2_unpad(b, 16, &dl));
    assert_int_equal(dl, 0);
    /* No 80 marker, a marker followed by non-zero, or none in the last block. */
    memset(b, 0x00, 16);
    assert_false(desfire_ev2_unpad(b, 16, &dl));
    b[3] = 0x80;
    b[9] = 0x01;
    assert_false(desfire_ev2_unpad(b, 16, &dl));
    memset(b, 0, 32);
    b[5] = 0x80;
    assert_false(desfire_ev2_unpad(b, 32, &dl));
    assert_false(desfire_ev2_unpad(b, 15, &dl));
}

/* AN12196 6.6 and 6.10: the driver's frames are the note's, byte for byte. */
static void test_ev2_first_replays_an12196(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("desfire_ev2_auth.txt", &v);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        const char *cmds[2] = {vectors_str(&v[i], "CMD1"), vectors_str(&v[i], "CMD2")};
        const char *resps[2] = {vectors_str(&v[i], "RESP1"), vectors_str(&v[i], "RESP2")};
        struct replay rp = {cmds, resps, 2, 0, -1, 0, -1};
        struct card_reader rd = {&rp, replay_transceive, no_auth, no_read, no_write};
        struct crypto_provider cp = *crypto_openssl();
        struct desfire d;
        uint8_t key[16], ti[4], enc[16], mac[16];
        vectors_hex(&v[i], "KEY", key, 16);
        vectors_hex(&v[i], "RNDA", fixed_rnd, 16);
        vectors_hex(&v[i], "TI", ti, 4);
        vectors_hex(&v[i], "ENC", enc, 16);
        vectors_hex(&v[i], "MAC", mac, 16);
        cp.random = fixed_random;
        desfire_init(&d, &rd, &cp);
        assert_int_equal(desfire_authenticate_ev2_first(&d, 0, key), LEAL_OK);
        assert_true(d.authenticated);
        assert_true(d.ev2);
        assert_memory_equal(d.ti, ti, 4);
        assert_int_equal(d.cmd_ctr, 0);
        assert_memory_equal(d.session, enc, 16);
        assert_memory_equal(d.ses_mac, mac, 16);
        assert_int_equal(d.round_trips, 2);
        assert_int_equal(rp.at, 2);
        desfire_clear(&d);
        assert_false(d.authenticated);
    }
    free(v);
}

/* The card's proof altered (one byte of its last answer): rot(RndA) does not
 * come back, no session. */
static void test_ev2_first_wrong_proof_refused(void **state)
{
    (void)state;
    struct vector_record *v;
    vectors_load("desfire_ev2_auth.txt", &v);
    const char *cmds[2] = {vectors_str(&v[0], "CMD1"), vectors_str(&v[0], "CMD2")};
    const char *resps[2] = {vectors_str(&v[0], "RESP1"), vectors_str(&v[0], "RESP2")};
    for (int byte = 0; byte < 32; byte += 5) {
        struct replay rp = {cmds, resps, 2, 0, -1, 1, byte};
        struct card_reader rd = {&rp, replay_transceive, no_auth, no_read, no_write};
        struct crypto_provider cp = *crypto_openssl();
        struct desfire d;
        uint8_t key[16];
        vectors_hex(&v[0], "KEY", key, 16);
        vectors_hex(&v[0], "RNDA", fixed_rnd, 16);
        cp.random = fixed_random;
        desfire_init(&d, &rd, &cp);
        /* CBC: a changed byte garbles its whole block, and rot(RndA) spans both. */
        assert_int_equal(desfire_authenticate_ev2_first(&d, 0, key), LEAL_E_CARD_AUTHENTICATION);
        assert_false(d.authenticated);
        desfire_clear(&d);
    }
    free(v);
}

static void test_ev2_get_card_uid_full_an12196(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("desfire_ev2_messaging.txt", &v);
    const struct vector_record *r = NULL;
    for (int i = 0; i < n; i++)
        if (strcmp(vectors_str(&v[i], "KIND"), "FULL") == 0)
            r = &v[i];
    assert_non_null(r);
    for (int flip = -1; flip < 24; flip += 8) {
        const char *cmds[1] = {vectors_str(r, "CMD")};
        const char *resps[1] = {vectors_str(r, "RESP")};
        struct replay rp = {cmds, resps, 1, 0, flip, 0, -1};
        struct card_reader rd = {&rp, replay_transceive, no_auth, no_read, no_write};
        struct desfire d;
        uint8_t enc[16], mac[16], ti[4], uid[7], want[7];
        vectors_hex(r, "ENC", enc, 16);
        vectors_hex(r, "MAC", mac, 16);
        vectors_hex(r, "TI", ti, 4);
        vectors_hex(r, "UID", want, 7);
        desfire_init(&d, &rd, crypto_openssl());
        desfire_resume_ev2_session(&d, 0, enc, mac, ti, 0);
        if (flip < 0) {
            assert_int_equal(desfire_get_card_uid(&d, uid), LEAL_OK);
            assert_memory_equal(uid, want, 7);
            assert_int_equal(d.cmd_ctr, 1);
            assert_true(d.authenticated);
        } else {
            /* A changed ciphertext or MACt byte: refused, the session ends. */
            assert_int_equal(desfire_get_card_uid(&d, uid), LEAL_E_CARD_RESPONSE_MAC);
            assert_false(d.authenticated);
        }
        desfire_clear(&d);
    }
    free(v);
}

/* The session a desfire_ev2_change.txt record resumes. */
static void resume_record(struct desfire *d, const struct vector_record *r, uint8_t key_no)
{
    uint8_t enc[16], mac[16], ti[4], ctr[2];
    vectors_hex(r, "ENC", enc, 16);
    vectors_hex(r, "MAC", mac, 16);
    vectors_hex(r, "TI", ti, 4);
    vectors_hex(r, "CTR", ctr, 2);
    desfire_resume_ev2_session(d, key_no, enc, mac, ti, (uint16_t)(ctr[0] << 8 | ctr[1]));
}

/* One record's command through the driver: ChangeKey (key 0's session) or
 * ChangeFileSettings; flip: a byte of the answer changed (-1: none). */
static leal_err change_record(const struct vector_record *r, int flip, struct desfire *d,
                              struct replay *rp)
{
    uint8_t new_key[16], old_key[16], ver, no, settings[32];
    size_t sl;
    rp->flip = flip;
    if (strcmp(vectors_str(r, "KIND"), "CHANGEKEY") == 0) {
        vectors_hex(r, "NEW", new_key, 16);
        vectors_hex(r, "VERSION", &ver, 1);
        vectors_hex(r, "KEYNO", &no, 1);
        resume_record(d, r, 0);
        if (no != 0)
            vectors_hex(r, "OLD", old_key, 16);
        return desfire_change_key(d, no, new_key, ver, no != 0 ? old_key : NULL);
    }
    vectors_hex(r, "FILE", &no, 1);
    sl = vectors_hex(r, "SETTINGS", settings, sizeof settings);
    resume_record(d, r, 0);
    return desfire_change_file_settings(d, no, settings, sl);
}

/* AN12196 5.16 Tables 26 and 27 and 5.9 Table 19: the driver sends the
 * note's ChangeKey and ChangeFileSettings byte for byte; the answer's MACt is
 * checked (a changed byte: refused, the session ends); the change of the
 * session's own key ends the session on its bare 91 00. */
static void test_ev2_change_key_and_file_settings_an12196(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("desfire_ev2_change.txt", &v), seen = 0;
    for (int i = 0; i < n; i++) {
        const struct vector_record *r = &v[i];
        const char *cmds[1] = {vectors_str(r, "CMD")};
        const char *resps[1] = {vectors_str(r, "RESP")};
        bool own_key = strcmp(vectors_str(r, "KIND"), "CHANGEKEY") == 0 &&
                       strcmp(vectors_str(r, "KEYNO"), "00") == 0;
        for (int flip = -1; flip < (own_key ? 0 : 8); flip += 7) {
            struct replay rp = {cmds, resps, 1, 0, -1, 0, -1};
            struct card_reader rd = {&rp, replay_transceive, no_auth, no_read, no_write};
            struct desfire d;
            uint16_t ctr;
            desfire_init(&d, &rd, crypto_openssl());
            leal_err err = change_record(r, flip, &d, &rp);
            ctr = d.cmd_ctr;
            if (flip < 0) {
                assert_int_equal(err, LEAL_OK);
                assert_int_equal(rp.at, 1);
                /* The own key's change ends the session; otherwise CmdCtr + 1. */
                assert_int_equal(d.authenticated, !own_key);
                if (!own_key) {
                    uint8_t c[2];
                    vectors_hex(r, "CTR", c, 2);
                    assert_int_equal(ctr, (uint16_t)((c[0] << 8 | c[1]) + 1));
                }
                seen++;
            } else {
                assert_int_equal(err, LEAL_E_CARD_RESPONSE_MAC);
                assert_false(d.authenticated);
            }
            desfire_clear(&d);
        }
    }
    assert_int_equal(seen, 3);
    free(v);
}

/* A bare 91 00 where MACt is due (another key's change, ChangeFileSettings)
 * is refused as under EV1; the own key's change answered with data is
 * outside the protocol. */
static void test_ev2_change_answers_without_mac_refused(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("desfire_ev2_change.txt", &v);
    for (int i = 0; i < n; i++) {
        const struct vector_record *r = &v[i];
        bool own_key = strcmp(vectors_str(r, "KIND"), "CHANGEKEY") == 0 &&
                       strcmp(vectors_str(r, "KEYNO"), "00") == 0;
        const char *cmds[1] = {vectors_str(r, "CMD")};
        const char *resps[1] = {own_key ? "203BB55D1089D5879100" : "9100"};
        struct replay rp = {cmds, resps, 1, 0, -1, 0, -1};
        struct card_reader rd = {&rp, replay_transceive, no_auth, no_read, no_write};
        struct desfire d;
        desfire_init(&d, &rd, crypto_openssl());
        assert_int_equal(change_record(r, -1, &d, &rp),
                         own_key ? LEAL_E_PROTOCOL : LEAL_E_CARD_RESPONSE_MAC);
        assert_false(d.authenticated);
        desfire_clear(&d);
    }
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ev2_session_keys_an12343_an12196),
        cmocka_unit_test(test_ev2_iv_mac_vectors),
        cmocka_unit_test(test_ev2_padding),
        cmocka_unit_test(test_ev2_first_replays_an12196),
        cmocka_unit_test(test_ev2_first_wrong_proof_refused),
        cmocka_unit_test(test_ev2_get_card_uid_full_an12196),
        cmocka_unit_test(test_ev2_change_key_and_file_settings_an12196),
        cmocka_unit_test(test_ev2_change_answers_without_mac_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
