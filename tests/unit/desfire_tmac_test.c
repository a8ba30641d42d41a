/* desfire_tmac_test.c - the DESFire Transaction MAC (issue 19): the host's
 * computation (cardlayout/desfire/desfire_tmac.h) against the worked
 * derivation in tests/vectors/desfire_tmac.txt (python3-cryptography from the
 * DESFire Light data sheet's formulas; NXP publishes no vector), and the
 * virtual EV2/EV3 card through a sim: reader: CreateTransactionMACFile,
 * the TMI over GetValue, Credit, WriteRecord, ReadData and Debit, the TMC
 * and TMV the commit answers (the vector's bytes, then the host's own
 * computation), the file read back, and what the card refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/desfire/desfire_tmac.h"
#include "host/cardsim/cardsim.h"
#include "host/reader/reader.h"
#include "keys/base/bytes.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

static const uint8_t AID[3] = {0x54, 0x4D, 0x43};
static const uint8_t zero_key[16];

/* The vector file's key and UID (record 1). */
static uint8_t tm_key[16], uid[7];

static struct vector_record *load_vectors(void)
{
    struct vector_record *v;
    assert_int_equal(vectors_load("desfire_tmac.txt", &v), 3);
    vectors_hex(&v[0], "KEY", tm_key, 16);
    vectors_hex(&v[0], "UID", uid, 7);
    return v;
}

static uint32_t vec_tmc(const struct vector_record *r)
{
    uint8_t b[4];
    vectors_hex(r, "TMC", b, 4);
    return load_be32(b);
}

/* The 32-byte record of vector 1: 20..3F. */
static void rec_bytes(uint8_t rec[32])
{
    for (int i = 0; i < 32; i++)
        rec[i] = (uint8_t)(0x20 + i);
}

/* Each vector's TMI built with the helpers, SV1, SesTMMACKey and TMV. */
static void test_tmac_vectors(void **state)
{
    (void)state;
    struct vector_record *v = load_vectors();
    struct desfire_tmi t[3];
    uint8_t rec[32], file[10];
    rec_bytes(rec);
    for (int i = 0; i < 10; i++)
        file[i] = (uint8_t)i;
    for (int i = 0; i < 3; i++)
        desfire_tmi_init(&t[i]);
    assert_int_equal(desfire_tmi_value(&t[0], DESFIRE_TMI_GET_VALUE, 2, 100), LEAL_OK);
    assert_int_equal(desfire_tmi_value(&t[0], DESFIRE_TMI_CREDIT, 2, 5), LEAL_OK);
    assert_int_equal(desfire_tmi_data(&t[0], DESFIRE_TMI_WRITE_RECORD, 3, 0, rec, 32), LEAL_OK);
    assert_int_equal(desfire_tmi_data(&t[1], DESFIRE_TMI_READ_DATA, 1, 0, file, 10), LEAL_OK);
    assert_int_equal(desfire_tmi_value(&t[1], DESFIRE_TMI_DEBIT, 2, 7), LEAL_OK);
    assert_int_equal(desfire_tmi_add(&t[1], &(struct desfire_tmi_cmd){DESFIRE_TMI_CLEAR_RECORD_FILE,
                                                                      3, NULL, 0, NULL, 0}),
                     LEAL_OK);
    assert_int_equal(desfire_tmi_value(&t[2], DESFIRE_TMI_GET_VALUE, 2, 100), LEAL_OK);
    assert_int_equal(desfire_tmi_value(&t[2], DESFIRE_TMI_CREDIT, 2, 6), LEAL_OK);
    assert_int_equal(desfire_tmi_data(&t[2], DESFIRE_TMI_WRITE_RECORD, 3, 0, rec, 32), LEAL_OK);
    for (int i = 0; i < 3; i++) {
        uint8_t k[16], u[7], sv[16], want[128], ses[16], tmv[8];
        uint32_t tmc = vec_tmc(&v[i]);
        vectors_hex(&v[i], "KEY", k, 16);
        vectors_hex(&v[i], "UID", u, 7);
        assert_int_equal(vectors_hex(&v[i], "TMI", want, sizeof want), t[i].len);
        assert_memory_equal(t[i].buf, want, t[i].len);
        vectors_hex(&v[i], "SV1", want, 16);
        desfire_tmac_sv(tmc, u, sv);
        assert_memory_equal(sv, want, 16);
        vectors_hex(&v[i], "SESTMMAC", want, 16);
        assert_int_equal(desfire_tmac_session_key(crypto_openssl(), k, tmc, u, ses), LEAL_OK);
        assert_memory_equal(ses, want, 16);
        vectors_hex(&v[i], "TMV", want, 8);
        assert_int_equal(desfire_tmv(crypto_openssl(), k, tmc, u, &t[i], tmv), LEAL_OK);
        assert_memory_equal(tmv, want, 8);
    }
    /* The TMI's sizes: 3 + 2 blocks, 2 + 1 + 1 + 1. */
    assert_int_equal(t[0].len, 80);
    assert_int_equal(t[1].len, 64);
    free(v);
}

/* Bounds: a TMI never passes DESFIRE_TMI_MAX and is left as it was. */
static void test_tmac_bounds(void **state)
{
    (void)state;
    static uint8_t big[DESFIRE_TMI_MAX];
    struct desfire_tmi t;
    uint8_t tmv[8], p[15] = {0};
    desfire_tmi_init(&t);
    assert_int_equal(desfire_tmi_data(&t, DESFIRE_TMI_WRITE_DATA, 1, 0, big, DESFIRE_TMI_MAX - 32),
                     LEAL_OK);
    assert_int_equal(t.len, DESFIRE_TMI_MAX - 16);
    assert_int_equal(desfire_tmi_data(&t, DESFIRE_TMI_WRITE_DATA, 1, 0, big, 1), LEAL_E_TOO_LARGE);
    assert_int_equal(t.len, DESFIRE_TMI_MAX - 16);
    assert_int_equal(desfire_tmi_value(&t, DESFIRE_TMI_CREDIT, 2, 1), LEAL_OK);
    assert_int_equal(t.len, DESFIRE_TMI_MAX);
    assert_int_equal(desfire_tmi_value(&t, DESFIRE_TMI_CREDIT, 2, 1), LEAL_E_TOO_LARGE);
    assert_int_equal(desfire_tmi_add(&t, &(struct desfire_tmi_cmd){0x0C, 2, p, 15, NULL, 0}),
                     LEAL_E_ARG);
    assert_int_equal(desfire_tmi_data(&t, DESFIRE_TMI_WRITE_DATA, 1, 0x1000000, big, 1),
                     LEAL_E_ARG);
    assert_int_equal(desfire_tmi_records(&t, 3, 0, 0, big, 16), LEAL_E_ARG);
    t.len = 0;
    assert_int_equal(desfire_tmv(crypto_openssl(), zero_key, 1, uid, &t, tmv), LEAL_E_ARG);
    t.len = 17;
    assert_int_equal(desfire_tmv(crypto_openssl(), zero_key, 1, uid, &t, tmv), LEAL_E_ARG);
}

struct fixture {
    char *dir;
    struct reader *r;
    struct desfire d;
};

/* A card of type with the vector's UID and one AES application (2 keys,
 * zero): file 1 standard plain 10 bytes 00..09 (free), 2 value enciphered 100 in
 * 0..1000 (R and W key 1), 3 cyclic MACed 32-byte records (4), all other
 * rights key 0. Made without a session; the TransactionMAC file is the
 * caller's. */
static void setup(struct fixture *f, const char *type)
{
    struct cardsim *c;
    char path[512], spec[600];
    struct desfire *d = &f->d;
    uint8_t file[10];
    for (int i = 0; i < 10; i++)
        file[i] = (uint8_t)i;
    memset(f, 0, sizeof *f);
    if (uid[0] == 0)
        free(load_vectors());
    f->dir = test_tmpdir();
    snprintf(path, sizeof path, "%s/card.json", f->dir);
    assert_int_equal(cardsim_new(type, uid, 7, false, &c), LEAL_OK);
    assert_int_equal(cardsim_save(c, path), LEAL_OK);
    cardsim_free(c);
    snprintf(spec, sizeof spec, "sim:%s", path);
    assert_int_equal(reader_open(spec, NULL, &f->r), LEAL_OK);
    assert_int_equal(reader_wait_card(f->r, 0), LEAL_OK);
    desfire_init(d, reader_card_reader(f->r), crypto_openssl());
    assert_int_equal(
        desfire_create_application(d, &(struct desfire_app_spec){AID, 0x0F, 0x82, 0, NULL, 0}),
        LEAL_OK);
    assert_int_equal(desfire_select_application(d, AID), LEAL_OK);
    assert_int_equal(
        desfire_create_data_file(
            d, &(struct desfire_data_file){1, false, 0, DESFIRE_COMM_PLAIN, 0xEEE0, 10}),
        LEAL_OK);
    assert_int_equal(desfire_write_data(d, 1, DESFIRE_COMM_PLAIN, 0, file, 10), LEAL_OK);
    assert_int_equal(
        desfire_create_value_file(
            d, &(struct desfire_value_file){2, DESFIRE_COMM_FULL, 0x1100, 0, 1000, 100, 0x00}),
        LEAL_OK);
    assert_int_equal(
        desfire_create_record_file(
            d, &(struct desfire_record_file){3, true, 0, DESFIRE_COMM_MACED, 0, 32, 4}),
        LEAL_OK);
}

static void teardown(struct fixture *f)
{
    desfire_clear(&f->d);
    reader_close(f->r);
    test_rmtree(f->dir);
    free(f->dir);
}

/* The TransactionMAC file 0F: comm MACed, R free (TMC and TMV are no secret),
 * W (CommitReaderID) and RW never, change key 0. */
static leal_err create_tmac(struct desfire *d)
{
    return desfire_create_tmac_file(
        d, &(struct desfire_tmac_file){0x0F, DESFIRE_COMM_MACED, 0xEFF0, tm_key, 0x07});
}

/* Under a session of key 0: the TransactionMAC file, then vector 1's
 * commands (GetValue 2, Credit 2 by 5, WriteRecord 3 of 20..3F). */
static void vector1_commands(struct desfire *d)
{
    uint8_t rec[32];
    int32_t value = 0;
    rec_bytes(rec);
    assert_int_equal(create_tmac(d), LEAL_OK);
    assert_int_equal(desfire_get_value(d, 2, DESFIRE_COMM_FULL, &value), LEAL_OK);
    assert_int_equal(value, 100);
    assert_int_equal(desfire_credit(d, 2, DESFIRE_COMM_FULL, 5), LEAL_OK);
    assert_int_equal(desfire_write_record(d, 3, DESFIRE_COMM_MACED, 0, rec, 32), LEAL_OK);
}

/* On EV2 and EV3 under EV2 secure messaging: vector 1's transaction gives
 * its TMC and TMV exactly; a second one (reads, a debit, a record) gives
 * what the host computes from the same commands; the file reads back. */
static void test_tmac_sim_transactions(void **state)
{
    (void)state;
    static const char *const types[] = {"desfire-ev2", "desfire-ev3"};
    struct vector_record *v = load_vectors();
    for (int t = 0; t < 2; t++) {
        struct fixture f;
        struct desfire *d = &f.d;
        uint8_t rec[32], want[8], tmv[8], file[12], data[10], set[DESFIRE_FILE_SETTINGS_MAX];
        uint8_t recs[64];
        uint32_t tmc = 0;
        int32_t value = 0;
        size_t n = 0;
        struct desfire_tmi tmi;
        rec_bytes(rec);
        setup(&f, types[t]);
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
        /* Vector 1: GetValue, Credit, WriteRecord, then the commit's answer. */
        vector1_commands(d);
        assert_int_equal(desfire_commit_tmac(d, &tmc, tmv), LEAL_OK);
        assert_int_equal(tmc, 1);
        vectors_hex(&v[0], "TMV", want, 8);
        assert_memory_equal(tmv, want, 8);
        assert_int_equal(desfire_get_file_settings(d, 0x0F, set, sizeof set, &n), LEAL_OK);
        assert_int_equal(n, 6);
        assert_memory_equal(set, ((uint8_t[]){0x05, 0x01, 0xF0, 0xEF, 0x02, 0x07}), 6);
        /* The file holds the same, and reading it adds nothing to a TMI. */
        assert_int_equal(desfire_read_data(d, 0x0F, DESFIRE_COMM_PLAIN, 0, 12, file), LEAL_OK);
        assert_memory_equal(file, ((uint8_t[]){1, 0, 0, 0}), 4);
        assert_memory_equal(file + 4, want, 8);
        /* A plain commit with nothing in the TMI: no changes. */
        assert_int_equal(desfire_commit(d), LEAL_E_CARD_NO_CHANGES);
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
        /* Transaction 2: ReadData, Debit, ReadRecords; the host's TMV. */
        assert_int_equal(desfire_read_data(d, 1, DESFIRE_COMM_PLAIN, 0, 10, data), LEAL_OK);
        assert_int_equal(desfire_debit(d, 2, DESFIRE_COMM_FULL, 7), LEAL_OK);
        assert_int_equal(desfire_read_records(
                             d, &(struct desfire_records){3, DESFIRE_COMM_MACED, 0, 1, 32}, recs),
                         LEAL_OK);
        assert_memory_equal(recs, rec, 32);
        assert_int_equal(desfire_commit_tmac(d, &tmc, tmv), LEAL_OK);
        assert_int_equal(tmc, 2);
        desfire_tmi_init(&tmi);
        assert_int_equal(desfire_tmi_data(&tmi, DESFIRE_TMI_READ_DATA, 1, 0, data, 10), LEAL_OK);
        assert_int_equal(desfire_tmi_value(&tmi, DESFIRE_TMI_DEBIT, 2, 7), LEAL_OK);
        assert_int_equal(desfire_tmi_records(&tmi, 3, 0, 1, recs, 32), LEAL_OK);
        assert_int_equal(desfire_tmv(crypto_openssl(), tm_key, 2, uid, &tmi, want), LEAL_OK);
        assert_memory_equal(tmv, want, 8);
        /* The value the host would journal: 100 + 5 - 7. */
        assert_int_equal(desfire_get_value(d, 2, DESFIRE_COMM_FULL, &value), LEAL_OK);
        assert_int_equal(value, 98);
        /* An aborted transaction leaves TMC and TMV; a plain commit still
         * moves the counter (the card MACs every committed transaction). */
        assert_int_equal(desfire_credit(d, 2, DESFIRE_COMM_FULL, 1), LEAL_OK);
        assert_int_equal(desfire_abort(d), LEAL_OK);
        assert_int_equal(desfire_read_data(d, 0x0F, DESFIRE_COMM_PLAIN, 0, 12, file), LEAL_OK);
        assert_int_equal(load_le32(file), 2);
        assert_memory_equal(file + 4, tmv, 8);
        assert_int_equal(desfire_credit(d, 2, DESFIRE_COMM_FULL, 1), LEAL_OK);
        assert_int_equal(desfire_commit(d), LEAL_OK);
        assert_int_equal(desfire_read_data(d, 0x0F, DESFIRE_COMM_PLAIN, 0, 12, file), LEAL_OK);
        assert_int_equal(load_le32(file), 3);
        teardown(&f);
    }
    free(v);
}

/* Under an EV1 AES session on an EV2 (the desk's session today) the file is
 * created and the commit answers TMC || TMV with its CMAC; vector 1 again. */
static void test_tmac_sim_ev1_session(void **state)
{
    (void)state;
    struct vector_record *v = load_vectors();
    struct fixture f;
    struct desfire *d = &f.d;
    uint8_t want[8], tmv[8];
    uint32_t tmc = 0;
    setup(&f, "desfire-ev2");
    assert_int_equal(desfire_authenticate_aes(d, 0, zero_key), LEAL_OK);
    vector1_commands(d);
    assert_int_equal(desfire_commit_tmac(d, &tmc, tmv), LEAL_OK);
    assert_int_equal(tmc, 1);
    vectors_hex(&v[0], "TMV", want, 8);
    assert_memory_equal(tmv, want, 8);
    teardown(&f);
    free(v);
}

/* A tear inside the commit: before the commit record nothing moves (TMC 0,
 * the credit gone); after it the card finishes the commit at power-up, the
 * TransactionMAC file with it (TMC 1, vector 1's TMV). */
static void test_tmac_sim_torn_commit(void **state)
{
    (void)state;
    struct vector_record *v = load_vectors();
    for (unsigned step = 0; step < 2; step++) {
        struct fixture f;
        struct desfire *d = &f.d;
        uint8_t want[8] = {0}, tmv[8], file[12];
        uint32_t tmc = 0;
        int32_t value = 0;
        setup(&f, "desfire-ev3");
        assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
        vector1_commands(d);
        cardsim_set_tear(reader_sim_card(f.r),
                         &(struct cardsim_tear){
                             .point = CARDSIM_TEAR_INSIDE_COMMIT, .after = 1, .commit_step = step});
        assert_int_equal(desfire_commit_tmac(d, &tmc, tmv), LEAL_E_CARD_REMOVED);
        assert_true(cardsim_torn(reader_sim_card(f.r)));
        assert_int_equal(cardsim_activate(reader_sim_card(f.r), NULL), LEAL_OK);
        desfire_init(d, reader_card_reader(f.r), crypto_openssl());
        assert_int_equal(desfire_select_application(d, AID), LEAL_OK);
        assert_int_equal(desfire_read_data(d, 0x0F, DESFIRE_COMM_PLAIN, 0, 12, file), LEAL_OK);
        assert_int_equal(load_le32(file), step);
        if (step == 1)
            vectors_hex(&v[0], "TMV", want, 8);
        assert_memory_equal(file + 4, want, 8);
        assert_int_equal(desfire_authenticate_ev2_first(d, 1, zero_key), LEAL_OK);
        assert_int_equal(desfire_get_value(d, 2, DESFIRE_COMM_FULL, &value), LEAL_OK);
        assert_int_equal(value, step == 1 ? 105 : 100);
        teardown(&f);
    }
    free(v);
}

/* What the card refuses: CE on an EV1, without the master key, twice, with
 * RW not F; the commit option without the file; writing the file (W is F). */
static void test_tmac_sim_refusals(void **state)
{
    (void)state;
    struct fixture f;
    struct desfire *d = &f.d;
    uint8_t b[12] = {0}, tmv[8];
    uint32_t tmc = 0;
    setup(&f, "desfire-ev1");
    assert_int_equal(desfire_authenticate_aes(d, 0, zero_key), LEAL_OK);
    assert_int_equal(create_tmac(d), LEAL_E_CARD_ILLEGAL_COMMAND);
    teardown(&f);

    setup(&f, "desfire-ev3");
    /* Without a session the key cannot travel enciphered. */
    assert_int_equal(create_tmac(d), LEAL_E_STATE);
    assert_int_equal(desfire_authenticate_ev2_first(d, 1, zero_key), LEAL_OK);
    assert_int_equal(create_tmac(d), LEAL_E_CARD_PERMISSION_DENIED);
    assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
    /* No TransactionMAC file yet: the option is refused. */
    assert_int_equal(desfire_credit(d, 2, DESFIRE_COMM_FULL, 5), LEAL_OK);
    assert_int_equal(desfire_commit_tmac(d, &tmc, tmv), LEAL_E_CARD_PARAMETER);
    assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
    assert_int_equal(
        desfire_create_tmac_file(
            d, &(struct desfire_tmac_file){0x0F, DESFIRE_COMM_MACED, 0xEFE0, tm_key, 1}),
        LEAL_E_CARD_PARAMETER);
    assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
    assert_int_equal(create_tmac(d), LEAL_OK);
    assert_int_equal(
        desfire_create_tmac_file(
            d, &(struct desfire_tmac_file){0x0E, DESFIRE_COMM_MACED, 0xEFF0, tm_key, 1}),
        LEAL_E_CARD_DUPLICATE);
    assert_int_equal(desfire_authenticate_ev2_first(d, 0, zero_key), LEAL_OK);
    assert_int_equal(desfire_write_data(d, 0x0F, DESFIRE_COMM_MACED, 0, b, 12),
                     LEAL_E_CARD_PERMISSION_DENIED);
    /* Nothing was committed: the file holds TMC 0 and a zero TMV. */
    assert_int_equal(desfire_authenticate_ev2_first(d, 1, zero_key), LEAL_OK);
    assert_int_equal(desfire_read_data(d, 0x0F, DESFIRE_COMM_PLAIN, 0, 12, b), LEAL_OK);
    assert_memory_equal(b, (uint8_t[12]){0}, 12);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tmac_vectors),          cmocka_unit_test(test_tmac_bounds),
        cmocka_unit_test(test_tmac_sim_transactions), cmocka_unit_test(test_tmac_sim_ev1_session),
        cmocka_unit_test(test_tmac_sim_torn_commit),  cmocka_unit_test(test_tmac_sim_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
