/* reader_nfc_test.c - the nfc: reader backend through the real libnfc 1.8
 * (pn532_uart driver) against the emulated PN532 on a pty, in-process: a
 * thread serves the PN532 while the test drives libnfc. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/cardsim/cardsim.h"
#include "host/cardsim/pn532_emu.h"
#include "host/reader/reader_nfc.h"
#include "tests/lib/testutil.h"

struct served {
    struct cardsim *card;
    struct pn532_emu *emu;
    struct pn532_pty *pty;
    pthread_t thread;
    volatile sig_atomic_t stop;
    leal_err result;
    char dir[256], conn[300];
};

static void *serve(void *arg)
{
    struct served *s = arg;
    s->result = pn532_pty_run(s->pty, s->emu, s->card, NULL, &s->stop);
    return NULL;
}

static void start(struct served *s, const char *type, const uint8_t *uid, size_t uid_len)
{
    char link[300];
    memset(s, 0, sizeof *s);
    char *d = test_tmpdir();
    snprintf(s->dir, sizeof s->dir, "%s", d);
    free(d);
    snprintf(link, sizeof link, "%s/pn532", s->dir);
    assert_int_equal(cardsim_new(type, uid, uid_len, false, &s->card), LEAL_OK);
    assert_int_equal(pn532_emu_new(s->card, &s->emu), LEAL_OK);
    assert_int_equal(pn532_pty_open(link, &s->pty), LEAL_OK);
    snprintf(s->conn, sizeof s->conn, "pn532_uart:%s", pn532_pty_name(s->pty));
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void stop(struct served *s)
{
    s->stop = 1;
    pthread_join(s->thread, NULL);
    assert_int_equal(s->result, LEAL_OK);
    pn532_pty_close(s->pty);
    pn532_emu_free(s->emu);
    cardsim_free(s->card);
    test_rmtree(s->dir);
}

static const uint8_t ffkey[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static void test_reader_nfc_classic(void **state)
{
    (void)state;
    static const uint8_t uid[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    static const uint8_t zero[6];
    struct served s;
    struct reader_nfc *r;
    struct reader_nfc_card c;
    struct card_reader cr;
    uint8_t blk[16], data[16];

    start(&s, "classic-1k", uid, 4);
    assert_int_equal(reader_nfc_open(s.conn, &r), LEAL_OK);
    assert_int_equal(reader_nfc_select(r, 0, &c), LEAL_OK);
    assert_int_equal(c.uid_len, 4);
    assert_memory_equal(c.uid, uid, 4);
    assert_int_equal(c.atqa[0], 0x00);
    assert_int_equal(c.atqa[1], 0x04);
    assert_int_equal(c.sak, 0x08);
    assert_int_equal(c.ats_len, 0);
    reader_nfc_card_reader(r, &cr);

    assert_int_equal(cr.classic_auth(cr.ctx, 4, CLASSIC_KEY_A, ffkey), LEAL_OK);
    assert_int_equal(cr.classic_read(cr.ctx, 7, blk), LEAL_OK);
    assert_memory_equal(blk, "\0\0\0\0\0\0\xff\x07\x80\x69\xff\xff\xff\xff\xff\xff", 16);
    for (int i = 0; i < 16; i++)
        data[i] = (uint8_t)(0xC0 + i);
    assert_int_equal(cr.classic_write(cr.ctx, 5, data), LEAL_OK);
    assert_int_equal(cr.classic_read(cr.ctx, 5, blk), LEAL_OK);
    assert_memory_equal(blk, data, 16);
    /* Block 0 is read-only: the card NAKs (access refused). */
    assert_int_equal(cr.classic_auth(cr.ctx, 0, CLASSIC_KEY_A, ffkey), LEAL_OK);
    assert_int_equal(cr.classic_write(cr.ctx, 0, data), LEAL_E_CARD_PERMISSION_DENIED);
    /* A wrong key; the backend selects the card again so the next try can work. */
    assert_int_equal(cr.classic_auth(cr.ctx, 8, CLASSIC_KEY_A, zero), LEAL_E_CARD_AUTHENTICATION);
    assert_int_equal(cr.classic_auth(cr.ctx, 8, CLASSIC_KEY_A, ffkey), LEAL_OK);
    assert_int_equal(cr.classic_read(cr.ctx, 8, blk), LEAL_OK);
    reader_nfc_release(r);
    reader_nfc_close(r);
    stop(&s);
}

static void test_reader_nfc_desfire(void **state)
{
    (void)state;
    static const uint8_t uid[7] = {0x04, 0x06, 0x3F, 0x72, 0x63, 0x34, 0x80};
    struct served s;
    struct reader_nfc *r;
    struct reader_nfc_card c;
    struct card_reader cr;
    uint8_t resp[64];
    size_t rl;

    start(&s, "desfire-ev1-8k", uid, 7);
    assert_int_equal(reader_nfc_open(s.conn, &r), LEAL_OK);
    assert_int_equal(reader_nfc_select(r, 0, &c), LEAL_OK);
    assert_int_equal(c.uid_len, 7);
    assert_memory_equal(c.uid, uid, 7);
    assert_memory_equal(c.atqa, "\x03\x44", 2);
    assert_int_equal(c.sak, 0x20);
    assert_int_equal(c.ats_len, 5);
    assert_memory_equal(c.ats, "\x75\x77\x81\x02\x80", 5);
    reader_nfc_card_reader(r, &cr);
    assert_int_equal(
        cr.transceive(cr.ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp, sizeof resp, &rl),
        LEAL_OK);
    assert_int_equal(rl, 9);
    assert_memory_equal(resp, "\x04\x01\x01\x01\x00\x1a\x05\x91\xaf", 9);
    reader_nfc_close(r);
    stop(&s);
}

static void test_reader_nfc_no_device(void **state)
{
    (void)state;
    struct reader_nfc *r = (struct reader_nfc *)1;
    assert_int_equal(reader_nfc_open("pn532_uart:/nonexistent/tty", &r), LEAL_E_NO_READER);
    assert_null(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_nfc_classic),
        cmocka_unit_test(test_reader_nfc_desfire),
        cmocka_unit_test(test_reader_nfc_no_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
