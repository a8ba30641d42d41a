/* desfire_ev2_sim_test.c - the virtual DESFire's EV2 personality speaking EV2
 * secure messaging with the driver through a sim: reader: AuthenticateEV2First
 * gives NXP AN12196 6.6's exchange byte for byte (the card's RndB and TI from
 * the note), then a MACed and an enciphered WriteData and ReadData whose bytes
 * were computed independently (python3-cryptography, from REFERENCE.md 2.5's
 * formulas); a changed answer or command is refused; GetVersion, GetValue,
 * Credit, Debit, LimitedCredit, CommitTransaction, GetCardUID,
 * AuthenticateEV2NonFirst, ChangeKey and ChangeFileSettings on EV2 and EV3;
 * an EV1 does not know 71. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/desfire/desfire.h"
#include "host/cardsim/cardsim.h"
#include "host/reader/reader.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

static const uint8_t UID[7] = {0x04, 0x52, 0x7A, 0x12, 0x9C, 0x3E, 0x80};
static const uint8_t AID[3] = {0x31, 0x45, 0x56};
static const uint8_t zero_key[16];

/* Records every exchange through the sim: reader; can change one byte of an
 * answer or of a command. */
#define LOG_MAX 64
struct tap {
    const struct card_reader *inner;
    char cmd[LOG_MAX][256], resp[LOG_MAX][256];
    size_t n;
    int flip_resp, flip_cmd; /* byte index in the next answer / command, -1: none */
};

static leal_err tap_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    struct tap *t = ctx;
    uint8_t c[300];
    leal_err err;
    assert_true(cmd_len <= sizeof c);
    memcpy(c, cmd, cmd_len);
    if (t->flip_cmd >= 0) {
        c[t->flip_cmd] ^= 0x01;
        t->flip_cmd = -1;
    }
    err = t->inner->transceive(t->inner->ctx, c, cmd_len, resp, resp_cap, resp_len);
    if (err == LEAL_OK && t->flip_resp >= 0) {
        resp[t->flip_resp] ^= 0x01;
        t->flip_resp = -1;
    }
    if (t->n < LOG_MAX && cmd_len < 120 && (err != LEAL_OK || *resp_len < 120)) {
        hex_encode(c, cmd_len, t->cmd[t->n]);
        if (err == LEAL_OK)
            hex_encode(resp, *resp_len, t->resp[t->n]);
        t->n++;
    }
    return err;
}

static leal_err tap_auth(void *ctx, uint8_t b, uint8_t kt, const uint8_t k[6])
{
    (void)ctx, (void)b, (void)kt, (void)k;
    return LEAL_E_UNSUPPORTED;
}
static leal_err tap_read(void *ctx, uint8_t b, uint8_t out[16])
{
    (void)ctx, (void)b, (void)out;
    return LEAL_E_UNSUPPORTED;
}
static leal_err tap_write(void *ctx, uint8_t b, const uint8_t d[16])
{
    (void)ctx, (void)b, (void)d;
    return LEAL_E_UNSUPPORTED;
}

/* The card's random numbers: AN12196 6.6's RndB, then its TI, then a counter. */
struct card_rng {
    uint8_t bytes[20];
    size_t at;
    uint8_t next;
};
static leal_err card_rng(void *ctx, uint8_t *out, size_t n)
{
    struct card_rng *r = ctx;
    for (size_t i = 0; i < n; i++)
        out[i] = r->at < sizeof r->bytes ? r->bytes[r->at++] : r->next++;
    return LEAL_OK;
}

/* The reader's RndA: AN12196 6.6's. */
static const uint8_t an_rnd_a[16] = {0x13, 0xC5, 0xDB, 0x8A, 0x59, 0x30, 0x43, 0x9F,
                                     0xC3, 0xDE, 0xF9, 0xA4, 0xC6, 0x75, 0x36, 0x0F};
static leal_err reader_rng(uint8_t *out, size_t n)
{
    assert_int_equal(n, 16);
    memcpy(out, an_rnd_a, 16);
    return LEAL_OK;
}

struct fixture {
    char *dir;
    struct reader *r;
    struct card_rng rng;
    struct tap tap;
    struct card_reader rd;
    struct crypto_provider cp;
    struct desfire d;
};

/* A card of type with one application (AES, 2 keys, all zero) holding file 1
 * (standard, MACed, 8 bytes), 2 (standard, enciphered, 16), 3 (value,
 * enciphered, 100 in 0..1000, LimitedCredit on; R and W key 1, RW key 0) and
 * 4 (backup, plain, 8), every other right key 0. Made without a session. */
static void setup(struct fixture *f, const char *type)
{
    struct cardsim *c;
    char path[512], spec[600];
    struct desfire *d = &f->d;

    memset(f, 0, sizeof *f);
    f->dir = test_tmpdir();
    snprintf(path, sizeof path, "%s/card.json", f->dir);
    assert_int_equal(cardsim_new(type, UID, 7, false, &c), LEAL_OK);
    assert_int_equal(cardsim_save(c, path), LEAL_OK);
    cardsim_free(c);
    snprintf(spec, sizeof spec, "sim:%s", path);
    assert_int_equal(reader_open(spec, NULL, &f->r), LEAL_OK);
    assert_int_equal(reader_wait_card(f->r, 0), LEAL_OK);
    assert_int_equal(hex_decode("B9E2FC789B64BF237CCCAA20EC7E6E48 9D00C4DF", f->rng.bytes, 20), 20);
    cardsim_set_rng(reader_sim_card(f->r), card_rng, &f->rng);
    f->tap = (struct tap){.inner = reader_card_reader(f->r), .flip_resp = -1, .flip_cmd = -1};
    f->rd = (struct card_reader){&f->tap, tap_transceive, tap_auth, tap_read, tap_write};
    f->cp = *crypto_openssl();
    f->cp.random = reader_rng;
    desfire_init(d, &f->rd, &f->cp);
    assert_int_equal(
        desfire_create_application(d, &(struct desfire_app_spec){AID, 0x0F, 0x82, 0, NULL, 0}),
        LEAL_OK);
    assert_int_equal(desfire_select_application(d, AID), LEAL_OK);
    assert_int_equal(
        desfire_create_data_file(
            d, &(struct desfire_data_file){1, false, 0, DESFIRE_COMM_MACED, 0x0000, 8}),
        LEAL_OK);
    assert_int_equal(
        desfire_create_data_file(
            d, &(struct desfire_data_file){2, false, 0, DESFIRE_COMM_FULL, 0x0000, 16}),
        LEAL_OK);
    assert_int_equal(
        desfire_create_value_file(
            d, &(struct desfire_value_file){3, DESFIRE_COMM_FULL, 0x1100, 0, 1000, 100, 0x01}),
        LEAL_OK);
    assert_int_equal(desfire_create_data_file(
                         d, &(struct desfire_data_file){4, true, 0, DESFIRE_COMM_PLAIN, 0x0000, 8}),
                     LEAL_OK);
    f->tap.n = 0;
}

static void teardown(struct fixture *f)
{
    desfire_clear(&f->d);
    reader_close(f->r);
    test_rmtree(f->dir);
    free(f->dir);
}

static void test_ev2_sim_exact_bytes(void **state)
{
    (void)state;
    struct fixture f;
    struct desfire *d = &f.d;
    uint8_t d1[8], d2[16], got[16];
    setup(&f, "desfire-ev2");
    for (int i = 0; i < 8; i++)
        d1[i] = (uint8_t)(0xA0 + i);
    for (int i = 0; i < 16; i++)
        d2[i] = (uint8_t)i;
    /* AN12196 6.6, byte for byte: the sim drew the note's RndB and TI. */
    assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
    assert_string_equal(f.tap.cmd[0], "9071000002000000");
    assert_string_equal(f.tap.resp[0], "a04c124213c186f22399d33ac2a3021591af");
    assert_string_equal(f.tap.cmd[1],
                        "90af00002035c3e05a752e0144bac0de51c1f22c56b34408a23d8aea266cab94"
                        "7ea8e0118d00");
    assert_string_equal(f.tap.resp[1],
                        "3fa64db5446d1f34cd6ea311167f5e4985b89690c04a05f17fa7ab2f0812"
                        "06639100");
    /* MACed write (CmdCtr 0), enciphered write (1), MACed read (2), enciphered read (3). */
    assert_int_equal(desfire_write_data(d, 1, DESFIRE_COMM_MACED, 0, d1, 8), LEAL_OK);
    assert_int_equal(desfire_write_data(d, 2, DESFIRE_COMM_FULL, 0, d2, 16), LEAL_OK);
    assert_int_equal(desfire_read_data(d, 1, DESFIRE_COMM_MACED, 0, 8, got), LEAL_OK);
    assert_memory_equal(got, d1, 8);
    assert_int_equal(desfire_read_data(d, 2, DESFIRE_COMM_FULL, 0, 16, got), LEAL_OK);
    assert_memory_equal(got, d2, 16);
    assert_int_equal(d->cmd_ctr, 4);
    assert_int_equal(f.tap.n, 6);
    assert_string_equal(f.tap.cmd[2], "903d00001701000000080000a0a1a2a3a4a5a6a78dbffbe41c55d34700");
    assert_string_equal(f.tap.resp[2], "fc222e5f7a5424529100");
    assert_string_equal(f.tap.cmd[3], "903d00002f0200000010000081651c62f9591948b580865327beabbe1847"
                                      "1caf4264fa7b490c8c0bc76607dc81c3dd10c52dcf5100");
    assert_string_equal(f.tap.resp[3], "57bff87b1241e93d9100");
    assert_string_equal(f.tap.cmd[4], "90bd00000f01000000080000f36d7005b87036dc00");
    assert_string_equal(f.tap.resp[4], "a0a1a2a3a4a5a6a7734c63dedec1d9759100");
    assert_string_equal(f.tap.cmd[5], "90bd00000f02000000100000539e93783f78a17c00");
    assert_string_equal(f.tap.resp[5],
                        "998e82adc2d358ef844e53638d709525bc4c94bac0fe36a174c411e8a83f"
                        "ef7bc28b53947826aafb9100");
    teardown(&f);
}

/* An answer with one byte changed (data, ciphertext or MACt) is refused and
 * ends the session; so is a command the card finds changed (INTEGRITY_ERROR). */
static void test_ev2_sim_bad_mac_refused(void **state)
{
    (void)state;
    static const int bytes[] = {0, 7, 8, 15};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        struct fixture f;
        uint8_t got[16];
        setup(&f, "desfire-ev2");
        assert_int_equal(desfire_authenticate_ev2_first(&f.d, 0, zero_key), LEAL_OK);
        f.tap.flip_resp = bytes[i];
        assert_int_equal(desfire_read_data(&f.d, 1, DESFIRE_COMM_MACED, 0, 8, got),
                         LEAL_E_CARD_RESPONSE_MAC);
        assert_false(f.d.authenticated);
        assert_int_equal(desfire_authenticate_ev2_first(&f.d, 0, zero_key), LEAL_OK);
        f.tap.flip_resp = bytes[i] * 2;
        assert_int_equal(desfire_read_data(&f.d, 2, DESFIRE_COMM_FULL, 0, 16, got),
                         LEAL_E_CARD_RESPONSE_MAC);
        assert_false(f.d.authenticated);
        teardown(&f);
    }
    {
        struct fixture f;
        uint8_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, got[8];
        setup(&f, "desfire-ev2");
        assert_int_equal(desfire_authenticate_ev2_first(&f.d, 0, zero_key), LEAL_OK);
        f.tap.flip_cmd = 14; /* a data byte of the MACed WriteData */
        assert_int_equal(desfire_write_data(&f.d, 1, DESFIRE_COMM_MACED, 0, v, 8),
                         LEAL_E_CARD_INTEGRITY);
        assert_false(f.d.authenticated);
        /* Nothing was written. */
        assert_int_equal(desfire_authenticate_ev2_first(&f.d, 0, zero_key), LEAL_OK);
        assert_int_equal(desfire_read_data(&f.d, 1, DESFIRE_COMM_MACED, 0, 8, got), LEAL_OK);
        assert_memory_equal(got, (uint8_t[8]){0}, 8);
        teardown(&f);
    }
}

/* What leal uses, on EV2 and EV3: every answer under the session checked. */
static void test_ev2_sim_commands(void **state)
{
    (void)state;
    static const char *const types[] = {"desfire-ev2", "desfire-ev3"};
    static const uint8_t majors[] = {0x12, 0x33};
    for (int t = 0; t < 2; t++) {
        struct fixture f;
        struct desfire *d = &f.d;
        struct desfire_version ver;
        uint8_t b[8] = {9, 8, 7, 6, 5, 4, 3, 2}, got[8], uid[7], kv = 0xFF;
        int32_t value = 0;
        setup(&f, types[t]);
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
        assert_int_equal(desfire_get_version(d, &ver), LEAL_OK); /* MACed under the session */
        assert_int_equal(ver.hw[3], majors[t]);
        assert_memory_equal(ver.uid, UID, 7);
        assert_int_equal(desfire_get_card_uid(d, uid), LEAL_OK);
        assert_memory_equal(uid, UID, 7);
        assert_int_equal(desfire_get_key_version(d, 1, &kv), LEAL_OK);
        assert_int_equal(kv, 0x00);
        assert_int_equal(desfire_get_value(d, 3, DESFIRE_COMM_FULL, &value), LEAL_OK);
        assert_int_equal(value, 100);
        assert_int_equal(desfire_credit(d, 3, DESFIRE_COMM_FULL, 250), LEAL_OK);
        assert_int_equal(desfire_write_data(d, 4, DESFIRE_COMM_PLAIN, 0, b, 8), LEAL_OK);
        assert_int_equal(desfire_commit(d), LEAL_OK);
        assert_int_equal(desfire_get_value(d, 3, DESFIRE_COMM_FULL, &value), LEAL_OK);
        assert_int_equal(value, 350);
        assert_int_equal(desfire_read_data(d, 4, DESFIRE_COMM_PLAIN, 0, 8, got), LEAL_OK);
        assert_memory_equal(got, b, 8);
        assert_int_equal(desfire_debit(d, 3, DESFIRE_COMM_FULL, 40), LEAL_OK);
        assert_int_equal(desfire_commit(d), LEAL_OK);
        assert_int_equal(desfire_limited_credit(d, 3, DESFIRE_COMM_FULL, 40), LEAL_OK);
        assert_int_equal(desfire_commit(d), LEAL_OK);
        /* NonFirst with key 1: TI and the counter carry on. */
        uint16_t ctr = d->cmd_ctr;
        uint8_t ti[4];
        memcpy(ti, d->ti, 4);
        assert_int_equal(desfire_authenticate_ev2_nonfirst(d, 1, zero_key), LEAL_OK);
        assert_memory_equal(d->ti, ti, 4);
        assert_int_equal(d->cmd_ctr, ctr);
        assert_int_equal(desfire_get_value(d, 3, DESFIRE_COMM_FULL, &value), LEAL_OK);
        assert_int_equal(value, 350);
        /* Credit needs RW (key 0): the card refuses key 1, the session ends. */
        assert_int_equal(desfire_credit(d, 3, DESFIRE_COMM_FULL, 1), LEAL_E_CARD_PERMISSION_DENIED);
        assert_false(d->authenticated);
        assert_int_equal(desfire_authenticate_ev2_nonfirst(d, 0, zero_key), LEAL_E_STATE);
        /* ChangeKey under EV2 (key 1 under key 0's session, then key 0 itself,
         * which ends the session) and ChangeFileSettings: test_ev2_sim_change. */
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
        /* SelectApplication ends the session; the card answers it plain. */
        assert_int_equal(desfire_select_application(d, AID), LEAL_OK);
        assert_false(d->authenticated);
        teardown(&f);
    }
}

/* ChangeKey and ChangeFileSettings under EV2 secure messaging on EV2 and EV3:
 * the card takes the new keys with their versions (only they open it
 * afterwards), a changed command byte is refused with nothing changed, and
 * a file's new comm mode and rights show in GetFileSettings. */
static void test_ev2_sim_change(void **state)
{
    (void)state;
    static const char *const types[] = {"desfire-ev2", "desfire-ev3"};
    static const uint8_t k1[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                   0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01};
    static const uint8_t k0[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
                                   0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF};
    for (int t = 0; t < 2; t++) {
        struct fixture f;
        struct desfire *d = &f.d;
        uint8_t kv = 0xFF, fs[DESFIRE_FILE_SETTINGS_MAX], got[8];
        const uint8_t macd_key1[3] = {DESFIRE_COMM_MACED, 0x11, 0x00}; /* RW 1, CAR 1; R 0, W 0 */
        size_t fl = 0;
        setup(&f, types[t]);
        /* A changed byte of the cryptogram: INTEGRITY_ERROR, key 1 unchanged. */
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
        f.tap.flip_cmd = 8;
        assert_int_equal(desfire_change_key(d, 1, k1, 7, zero_key), LEAL_E_CARD_INTEGRITY);
        assert_false(d->authenticated);
        assert_int_equal(desfire_authenticate_ev2_first(d, 1, zero_key), LEAL_OK);
        /* Key 1 under key 0's session: MACt on the answer, CmdCtr + 1. */
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
        assert_int_equal(desfire_change_key(d, 1, k1, 7, zero_key), LEAL_OK);
        assert_true(d->authenticated);
        assert_int_equal(d->cmd_ctr, 1);
        assert_int_equal(desfire_get_key_version(d, 1, &kv), LEAL_OK);
        assert_int_equal(kv, 7);
        /* ChangeFileSettings of file 4: plain -> MACed, key 1 its RW and change key. */
        assert_int_equal(desfire_change_file_settings(d, 4, macd_key1, 3), LEAL_OK);
        assert_int_equal(desfire_get_file_settings(d, 4, fs, sizeof fs, &fl), LEAL_OK);
        assert_true(fl >= 4);
        assert_memory_equal(fs + 1, macd_key1, 3);
        /* Key 0 itself: the session ends on a bare 91 00. */
        assert_int_equal(desfire_change_key(d, 0, k0, 3, NULL), LEAL_OK);
        assert_false(d->authenticated);
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key),
                         LEAL_E_CARD_AUTHENTICATION);
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, k0), LEAL_OK);
        assert_int_equal(desfire_get_key_version(d, 0, &kv), LEAL_OK);
        assert_int_equal(kv, 3);
        assert_int_equal(desfire_authenticate_ev2_first(d, 1, zero_key),
                         LEAL_E_CARD_AUTHENTICATION);
        /* File 4 now answers MACed, under the new key 1. */
        assert_int_equal(desfire_authenticate_ev2_first(d, 1, k1), LEAL_OK);
        assert_int_equal(desfire_read_data(d, 4, DESFIRE_COMM_MACED, 0, 8, got), LEAL_OK);
        assert_memory_equal(got, (uint8_t[8]){0}, 8);
        teardown(&f);
    }
}

/* An EV1 knows neither 71 nor 77; EV1 AES authentication still works on an EV2. */
static void test_ev2_sim_ev1_card_and_ev1_session(void **state)
{
    (void)state;
    struct fixture f;
    uint8_t got[8];
    setup(&f, "desfire-ev1");
    assert_int_equal(desfire_authenticate_ev2_first(&f.d, 0, zero_key),
                     LEAL_E_CARD_ILLEGAL_COMMAND);
    assert_false(f.d.authenticated);
    teardown(&f);
    setup(&f, "desfire-ev2");
    assert_int_equal(desfire_authenticate_aes(&f.d, 0, zero_key), LEAL_OK);
    assert_false(f.d.ev2);
    assert_int_equal(desfire_read_data(&f.d, 1, DESFIRE_COMM_MACED, 0, 8, got), LEAL_OK);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ev2_sim_exact_bytes),
        cmocka_unit_test(test_ev2_sim_bad_mac_refused),
        cmocka_unit_test(test_ev2_sim_commands),
        cmocka_unit_test(test_ev2_sim_change),
        cmocka_unit_test(test_ev2_sim_ev1_card_and_ev1_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
