/* desfire_secure_test.c - the virtual DESFire's secure messaging in every
 * authentication (D40 legacy with DES, ISO with DES, 2K3DES and 3K3DES, AES)
 * and every communication mode (plain, MACed, enciphered), checked by the
 * independent host implementation; tampered frames get INTEGRITY_ERROR;
 * GetCardUID, SetConfiguration (random UID, default key), FormatPICC. */
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

static const uint8_t rnda[16] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
                                 0x98, 0xA9, 0xBA, 0xCB, 0xDC, 0xED, 0xFE, 0x0F};
static const uint8_t zero_key[24];
static const uint8_t k2k[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};

/* Transport that can flip a bit in the next frame's last byte. */
struct tamper {
    struct simcard *s;
    int flip;
};

static int tamper_xfer(void *ctx, const uint8_t *frame, size_t len, uint8_t *resp, size_t cap,
                       size_t *rl)
{
    struct tamper *t = ctx;
    uint8_t f[64];
    memcpy(f, frame, len);
    if (t->flip && len > 1) {
        f[len - 1] ^= 0x01;
        t->flip = 0;
    }
    return simcard_xfer(t->s, f, len, resp, cap, rl);
}

struct mode {
    const char *name;
    uint8_t ks2; /* CreateApplication key settings 2 */
    uint8_t ins;
    int kt;
    const uint8_t *key;
    size_t kl;
};

static const struct mode modes[] = {
    {"legacy DES", 0x01, 0x0A, DFH_DES, zero_key, 16},
    {"ISO DES", 0x01, 0x1A, DFH_DES, zero_key, 16},
    {"ISO 2K3DES", 0x01, 0x1A, DFH_DES, k2k, 16},
    {"ISO 3K3DES", 0x41, 0x1A, DFH_3K3DES, zero_key, 24},
    {"AES", 0x81, 0xAA, DFH_AES_KEY, zero_key, 16},
};

/* Commands send data in comm and get a plain (MACed in EV1) answer; reads
 * (rlen > 0) send plain and get their answer in comm. */
static int cmd(struct dfh *h, const uint8_t *hdr, size_t hl, const uint8_t *d, size_t dl, int comm,
               uint8_t *out, size_t *ol, size_t rlen)
{
    static uint8_t tmp[4096];
    size_t tl;
    return dfh_cmd(h, hdr, hl, d, dl, rlen ? DFH_PLAIN : comm, out ? out : tmp, 4096, ol ? ol : &tl,
                   rlen ? comm : DFH_PLAIN, rlen);
}

static void mode_auth(struct tamper *t, struct dfh *h, const struct mode *m)
{
    dfh_init(h, tamper_xfer, t);
    if (dfh_auth(h, m->ins, 0, m->kt, m->key, m->kl, rnda) != 0)
        fail_msg("%s: authentication failed", m->name);
}

static void test_every_auth_every_comm_mode(void **state)
{
    (void)state;
    for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
        const struct mode *m = &modes[mi];
        struct simcard s;
        struct tamper t;
        struct dfh h;
        uint8_t data[100], out[200], hdr[16];
        size_t ol;
        char cmdhex[64];

        simcard_new(&s, "desfire-ev1");
        t.s = &s;
        t.flip = 0;
        snprintf(cmdhex, sizeof cmdhex, "ca 010000 0f %02x", m->ks2);
        simcard_expect(&s, cmdhex, "00");
        simcard_expect(&s, "5a 010000", "00");
        if (m->key == k2k) {
            /* A 2-key 3DES key: halves differ, so the session key is 16 bytes. */
            struct mode des = modes[1];
            mode_auth(&t, &h, &des);
            assert_int_equal(dfh_change_key(&h, 0, DFH_DES, k2k, 16, 0, NULL), 0);
        }
        mode_auth(&t, &h, m);
        assert_int_equal(h.sess_len, m->key == k2k          ? 16
                                     : m->kt == DFH_3K3DES  ? 24
                                     : m->kt == DFH_AES_KEY ? 16
                                                            : 8);
        /* Files owned by key 0, one per comm mode; created in the session. */
        for (int comm = 0; comm <= 3; comm++) {
            uint8_t c[8] = {0xCD, (uint8_t)(1 + comm), (uint8_t)comm, 0x00, 0x00, 100, 0, 0};
            uint8_t v[18] = {0xCC,
                             (uint8_t)(10 + comm),
                             (uint8_t)comm,
                             0x00,
                             0x00,
                             0,
                             0,
                             0,
                             0,
                             0xE8,
                             0x03,
                             0,
                             0,
                             0x0A,
                             0,
                             0,
                             0,
                             0x01};
            if (comm == 2)
                continue;
            assert_int_equal(cmd(&h, c, 8, NULL, 0, DFH_PLAIN, NULL, NULL, 0), 0);
            assert_int_equal(cmd(&h, v, 18, NULL, 0, DFH_PLAIN, NULL, NULL, 0), 0);
        }
        for (int comm = 0; comm <= 3; comm++) {
            uint8_t w[8] = {0x3D, (uint8_t)(1 + comm), 0, 0, 0, 100, 0, 0};
            uint8_t r[8] = {0xBD, (uint8_t)(1 + comm), 0, 0, 0, 100, 0, 0};
            uint8_t gv[2] = {0x6C, (uint8_t)(10 + comm)};
            uint8_t cr[2] = {0x0C, (uint8_t)(10 + comm)}, db[2] = {0xDC, (uint8_t)(10 + comm)};
            uint8_t amount[4] = {7, 0, 0, 0}, less[4] = {2, 0, 0, 0};
            if (comm == 2)
                continue;
            for (int i = 0; i < 100; i++)
                data[i] = (uint8_t)((size_t)i * 7 + (size_t)comm + mi);
            /* 100 bytes with MAC or CRC and padding: chained both ways. */
            assert_int_equal(cmd(&h, w, 8, data, 100, comm, NULL, NULL, 0), 0);
            assert_true(h.frames >= 2);
            assert_int_equal(cmd(&h, r, 8, NULL, 0, comm, out, &ol, 100), 0);
            assert_int_equal(ol, 100);
            assert_memory_equal(out, data, 100);
            assert_int_equal(cmd(&h, cr, 2, amount, 4, comm, NULL, NULL, 0), 0);
            assert_int_equal(cmd(&h, db, 2, less, 4, comm, NULL, NULL, 0), 0);
            hdr[0] = 0xC7;
            assert_int_equal(cmd(&h, hdr, 1, NULL, 0, DFH_PLAIN, NULL, NULL, 0), 0);
            assert_int_equal(cmd(&h, gv, 2, NULL, 0, comm, out, &ol, 4), 0);
            assert_int_equal(ol, 4);
            assert_memory_equal(out, "\x0f\0\0\0", 4); /* 10 + 7 - 2 */
        }
        /* GetCardUID: enciphered in every session. */
        hdr[0] = 0x51;
        assert_int_equal(dfh_cmd(&h, hdr, 1, NULL, 0, DFH_PLAIN, out, sizeof out, &ol, DFH_ENC, 7),
                         0);
        assert_int_equal(ol, 7);
        assert_memory_equal(out, "\x04\x11\x22\x33\x44\x55\x66", 7);
        /* A tampered MACed write: INTEGRITY_ERROR, and the session is over. */
        {
            uint8_t w[8] = {0x3D, 2, 0, 0, 0, 4, 0, 0};
            t.flip = 1;
            assert_int_equal(cmd(&h, w, 8, data, 4, DFH_MAC, NULL, NULL, 0), 0x1E);
            mode_auth(&t, &h, m);
            w[1] = 4; /* enciphered file: a flipped bit breaks the CRC */
            t.flip = 1;
            assert_int_equal(cmd(&h, w, 8, data, 4, DFH_ENC, NULL, NULL, 0), 0x1E);
            simcard_expect(&s, "bd 02 000000 040000", "ae");
        }
        simcard_free(&s);
    }
}

static void test_set_configuration_random_uid_is_irreversible(void **state)
{
    struct simcard s;
    struct dfh h;
    struct cardsim_ident id;
    uint8_t out[32];
    size_t ol;
    uint8_t hdr[2] = {0x5C, 0x00}, cfg = 0x02, none = 0x00, uidcmd = 0x51;
    (void)state;
    simcard_new(&s, "desfire-ev1");
    dfh_init(&h, simcard_xfer, &s);
    assert_int_equal(dfh_auth(&h, 0x1A, 0, DFH_DES, zero_key, 16, rnda), 0);
    assert_int_equal(cmd(&h, hdr, 2, &cfg, 1, DFH_ENC, NULL, NULL, 0), 0);
    cardsim_deactivate(s.card);
    assert_int_equal(cardsim_activate(s.card, &id), LEAL_OK);
    assert_int_equal(id.uid_len, 4);
    assert_int_equal(id.uid[0], 0x08);
    simcard_expect(&s, "60", "af 04 01 01 01 00 18 05");
    simcard_expect(&s, "af", "af 04 01 01 01 04 18 05");
    simcard_expect(&s, "af", "00 00000000000000 ba449f5010 01 26");
    /* Turning it off again does not bring the UID back. */
    assert_int_equal(dfh_auth(&h, 0x1A, 0, DFH_DES, zero_key, 16, rnda), 0);
    assert_int_equal(cmd(&h, hdr, 2, &none, 1, DFH_ENC, NULL, NULL, 0), 0);
    assert_int_equal(dfh_cmd(&h, &uidcmd, 1, NULL, 0, DFH_PLAIN, out, sizeof out, &ol, DFH_ENC, 7),
                     0);
    assert_memory_equal(out, "\x04\x11\x22\x33\x44\x55\x66", 7);
    cardsim_deactivate(s.card);
    assert_int_equal(cardsim_activate(s.card, &id), LEAL_OK);
    assert_int_equal(id.uid_len, 4);
    /* Unauthenticated: no GetCardUID, and SetConfiguration needs the PICC key. */
    simcard_expect(&s, "51", "ae");
    simcard_expect(&s, "5c 00 0000000000000000", "ae");
    simcard_free(&s);
}

static void test_set_configuration_default_key_and_format_lock(void **state)
{
    struct simcard s;
    struct dfh h;
    uint8_t hdr[2] = {0x5C, 0x01}, dk[25], lock = 0x01;
    uint8_t fmt = 0xFC, ca[6] = {0xCA, 0x05, 0x00, 0x00, 0x0F, 0x81};
    (void)state;
    for (int i = 0; i < 24; i++)
        dk[i] = (uint8_t)(0x40 + i);
    dk[24] = 0x33;
    simcard_new(&s, "desfire-ev1");
    dfh_init(&h, simcard_xfer, &s);
    assert_int_equal(dfh_auth(&h, 0x0A, 0, DFH_DES, zero_key, 16, rnda), 0);
    assert_int_equal(cmd(&h, hdr, 2, dk, 25, DFH_ENC, NULL, NULL, 0), 0);
    assert_int_equal(cmd(&h, ca, 6, NULL, 0, DFH_PLAIN, NULL, NULL, 0), 0);
    simcard_expect(&s, "5a 050000", "00");
    simcard_expect(&s, "64 00", "00 33");
    dfh_init(&h, simcard_xfer, &s);
    assert_int_equal(dfh_auth(&h, 0xAA, 0, DFH_AES_KEY, dk, 16, rnda), 0);
    /* FormatPICC: needs the PICC master key, and may be disabled. */
    simcard_expect(&s, "5a 000000", "00");
    simcard_expect(&s, "fc", "ae");
    assert_int_equal(dfh_auth(&h, 0x0A, 0, DFH_DES, zero_key, 16, rnda), 0);
    hdr[1] = 0x00;
    assert_int_equal(cmd(&h, hdr, 2, &lock, 1, DFH_ENC, NULL, NULL, 0), 0);
    assert_int_equal(cmd(&h, &fmt, 1, NULL, 0, DFH_PLAIN, NULL, NULL, 0), 0x9D);
    simcard_free(&s);
}

static void test_picc_master_key_becomes_aes(void **state)
{
    struct simcard s;
    struct dfh h;
    uint8_t newkey[16];
    (void)state;
    memset(newkey, 0x5A, 16);
    simcard_new(&s, "desfire-ev1");
    dfh_init(&h, simcard_xfer, &s);
    assert_int_equal(dfh_auth(&h, 0x1A, 0, DFH_DES, zero_key, 16, rnda), 0);
    /* Key number 0x80: the PICC master key becomes an AES key. */
    assert_int_equal(dfh_change_key(&h, 0x80, DFH_AES_KEY, newkey, 16, 0x01, NULL), 0);
    simcard_expect(&s, "45", "00 0f 81");
    simcard_expect(&s, "64 00", "00 01");
    assert_int_equal(dfh_auth(&h, 0x1A, 0, DFH_DES, zero_key, 16, rnda), 0xAE);
    assert_int_equal(dfh_auth(&h, 0xAA, 0, DFH_AES_KEY, newkey, 16, rnda), 0);
    assert_int_equal(dfh_auth(&h, 0xAA, 0, DFH_AES_KEY, zero_key, 16, rnda), 0xAE);
    simcard_free(&s);
}

static void test_change_file_settings_and_keys_in_each_session(void **state)
{
    struct simcard s;
    struct dfh h;
    uint8_t k3[24], kd[16], cfs[2] = {0x5F, 0x01}, set[3] = {0x03, 0x00, 0xE1};
    (void)state;
    for (int i = 0; i < 24; i++)
        k3[i] = (uint8_t)(0x30 + 3 * i);
    memset(kd, 0x6C, 16);
    simcard_new(&s, "desfire-ev1");
    /* 3K3DES application, two keys; ChangeKey of key 1 under key 0 (ISO). */
    simcard_expect(&s, "ca 010000 0f 42", "00");
    simcard_expect(&s, "5a 010000", "00");
    simcard_expect(&s, "cd 01 00 0010 100000", "00"); /* Change right: key 0 */
    dfh_init(&h, simcard_xfer, &s);
    assert_int_equal(dfh_auth(&h, 0x1A, 0, DFH_3K3DES, zero_key, 24, rnda), 0);
    assert_int_equal(dfh_change_key(&h, 1, DFH_3K3DES, k3, 24, 0, zero_key), 0);
    /* ChangeFileSettings: enciphered under the Change key: now enciphered, R free. */
    assert_int_equal(cmd(&h, cfs, 2, set, 3, DFH_ENC, NULL, NULL, 0), 0);
    simcard_expect(&s, "5a 010000", "00");
    simcard_expect(&s, "f5 01", "00 00 03 00e1 100000");
    simcard_expect(&s, "bd 01 000000 020000", "00 0000"); /* free read is plain */
    assert_int_equal(dfh_auth(&h, 0x1A, 1, DFH_3K3DES, k3, 24, rnda), 0);
    /* The Change right stays with key 0: key 1 is refused. */
    assert_int_equal(cmd(&h, cfs, 2, set, 3, DFH_ENC, NULL, NULL, 0), 0x9D);
    /* DES application: a legacy session changes key 1 (D40 cryptogram, CRC16). */
    simcard_expect(&s, "5a 000000", "00");
    simcard_expect(&s, "ca 020000 0f 02", "00");
    simcard_expect(&s, "5a 020000", "00");
    assert_int_equal(dfh_auth(&h, 0x0A, 0, DFH_DES, zero_key, 16, rnda), 0);
    assert_int_equal(dfh_change_key(&h, 1, DFH_DES, kd, 16, 0, zero_key), 0);
    assert_int_equal(dfh_auth(&h, 0x0A, 1, DFH_DES, kd, 16, rnda), 0);
    assert_int_equal(h.sess_len, 8); /* halves equal: a DES key */
    assert_int_equal(dfh_auth(&h, 0x0A, 1, DFH_DES, zero_key, 16, rnda), 0xAE);
    simcard_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_auth_every_comm_mode),
        cmocka_unit_test(test_set_configuration_random_uid_is_irreversible),
        cmocka_unit_test(test_set_configuration_default_key_and_format_lock),
        cmocka_unit_test(test_picc_master_key_becomes_aes),
        cmocka_unit_test(test_change_file_settings_and_keys_in_each_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
