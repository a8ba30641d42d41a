/* pn532_driver_test.c - the freestanding PN532 driver (firmware/core/pn532.h):
 * the exact bytes it puts on the line against REFERENCE.md §4 (the HSU
 * wake-up, SAMConfiguration 01 "00 00 FF 03 FD D4 14 01 17 00",
 * GetFirmwareVersion's "D5 03 32 01 06 07", the DESFire target "D5 4B 01 01
 * 03 44 20 07 <uid7> 06 75 77 81 02 80", the MI fetch "40 01"), its handling
 * of a damaged answer (NACK), a silent PN532 (ACK abort, LEAL_E_TIMEOUT), the
 * syntax-error frame; then the driver against the emulated PN532
 * (host/cardsim/pn532_emu.c) over an in-memory line with a DESFire EV1 and a
 * Classic 1K card in its field, as struct card_reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/pn532.h"
#include "host/cardsim/cardsim.h"
#include "host/cardsim/pn532_emu.h"
#include "tests/lib/testutil.h"

/* ---------------------------------------------------------- a scripted line */

/* What the driver wrote, and the bytes the "PN532" answers with, in turns:
 * each read hands out the next answer (NULL: silence, LEAL_E_TIMEOUT). */
struct script {
    uint8_t written[2048];
    size_t written_len;
    const char *answers[8];
    size_t next;
    unsigned last_timeout;
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    long n = hex_decode(hex, out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static leal_err script_write(void *ctx, const uint8_t *p, size_t n)
{
    struct script *s = ctx;
    assert_true(s->written_len + n <= sizeof s->written);
    memcpy(s->written + s->written_len, p, n);
    s->written_len += n;
    return LEAL_OK;
}

static leal_err script_read(void *ctx, uint8_t *p, size_t cap, size_t *n, unsigned timeout_ms)
{
    struct script *s = ctx;
    const char *a = s->next < 8 ? s->answers[s->next] : NULL;
    s->last_timeout = timeout_ms;
    *n = 0;
    s->next++;
    if (a == NULL)
        return LEAL_E_TIMEOUT;
    *n = unhex(a, p, cap);
    return LEAL_OK;
}

static void assert_written(const struct script *s, const char *hex)
{
    uint8_t want[2048];
    size_t n = unhex(hex, want, sizeof want);
    assert_int_equal(s->written_len, n);
    assert_memory_equal(s->written, want, n);
}

#define ACK "0000ff00ff00"

static void test_pn532_driver_begin_bytes(void **state)
{
    (void)state;
    struct script s = {.answers = {
                           NULL, /* the drain: nothing on the line */
                           ACK "0000ff02fed515"
                               "1600",
                           ACK "0000ff06fad50332010607"
                               "e800",
                           ACK "0000ff02fed533"
                               "f800",
                       }};
    struct pn532_port port = {&s, script_write, script_read};
    struct pn532 d;
    uint8_t fw[4];
    pn532_init(&d, &port);
    assert_int_equal(pn532_begin(&d, fw), LEAL_OK);
    /* Wake-up 55 55 00 x14, an ACK (aborts an earlier run's command),
     * SAMConfiguration 01 (REFERENCE.md §4.1's capture), GetFirmwareVersion,
     * RFConfiguration MaxRetries 00 01 02 (§4.2). */
    assert_written(&s, "5555"
                       "0000000000000000000000000000" ACK "0000ff03fdd414011700"
                       "0000ff02fed4022a00"
                       "0000ff06fad43205000102f200");
    assert_memory_equal(fw, "\x32\x01\x06\x07", 4);
}

static void test_pn532_driver_not_a_pn532(void **state)
{
    (void)state;
    /* A PN533 answers GetFirmwareVersion with IC 0x33 (no Support byte). */
    struct script s = {.answers = {NULL,
                                   ACK "0000ff02fed515"
                                       "1600",
                                   ACK "0000ff05fbd503330102"
                                       "f200"}};
    struct pn532_port port = {&s, script_write, script_read};
    struct pn532 d;
    pn532_init(&d, &port);
    assert_int_equal(pn532_begin(&d, NULL), LEAL_E_READER);
}

static void test_pn532_driver_desfire_target_and_chaining(void **state)
{
    (void)state;
    /* The DESFire target of REFERENCE.md §4.3 (ATS 06 75 77 81 02 80), then an
     * InDataExchange answer in two MI parts: 41 40 | 04 01, 41 00 | 91 00. */
    struct script s = {.answers = {
                           ACK,
                           "0000ff15ebd54b01010344200704063f72633480067577810280"
                           "a900",
                           ACK "0000ff05fbd541400401"
                               "a500",
                           ACK "0000ff05fbd541009100"
                               "5900",
                       }};
    struct pn532_port port = {&s, script_write, script_read};
    struct pn532 d;
    struct pn532_target t;
    struct card_reader r;
    uint8_t resp[16];
    size_t n = 0;
    pn532_init(&d, &port);
    assert_int_equal(pn532_select(&d, &t), LEAL_OK);
    assert_int_equal(t.uid_len, 7);
    assert_memory_equal(t.uid, "\x04\x06\x3f\x72\x63\x34\x80", 7);
    assert_memory_equal(t.atqa, "\x03\x44", 2);
    assert_int_equal(t.sak, 0x20);
    assert_int_equal(t.ats_len, 6);
    assert_memory_equal(t.ats, "\x06\x75\x77\x81\x02\x80", 6);
    pn532_card_reader(&d, &r);
    assert_int_equal(
        r.transceive(r.ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp, sizeof resp, &n),
        LEAL_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(resp, "\x04\x01\x91\x00", 4);
    /* InListPassiveTarget 01 00, InDataExchange 01 90 60 00 00 00, then "40 01". */
    assert_written(&s, "0000ff04fcd44a0100e100"
                       "0000ff08f8d440019060000000"
                       "fb00"
                       "0000ff03fdd44001eb00");
}

static void test_pn532_driver_nack_timeout_and_errors(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n = 9;
    struct pn532 d;
    /* A damaged answer (DCS off by one) is asked again with a NACK. */
    struct script s = {.answers = {ACK "0000ff02fed533"
                                       "f900",
                                   "0000ff02fed533"
                                   "f800"}};
    struct pn532_port port = {&s, script_write, script_read};
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x32\x01\x01", 3, out, sizeof out, &n),
                     LEAL_OK);
    assert_int_equal(n, 0);
    assert_written(&s, "0000ff04fcd4320101f800"
                       "0000ffff0000");

    /* Silence after the ACK: aborted with an ACK, LEAL_E_TIMEOUT. */
    struct script s2 = {.answers = {ACK}};
    port.ctx = &s2;
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x4a\x01\x00", 3, out, sizeof out, &n),
                     LEAL_E_TIMEOUT);
    assert_written(&s2, "0000ff04fcd44a0100e100" ACK);

    /* No ACK at all: no PN532 on the line. */
    struct script s3 = {.answers = {NULL}};
    port.ctx = &s3;
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x02", 1, out, sizeof out, &n),
                     LEAL_E_READER);
    assert_int_equal(s3.last_timeout, PN532_ACK_TIMEOUT_MS);

    /* The syntax-error frame (REFERENCE.md §4.1): a command it does not know. */
    struct script s4 = {.answers = {ACK "0000ff01ff7f8100"}};
    port.ctx = &s4;
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\xee", 1, out, sizeof out, &n),
                     LEAL_E_READER);

    /* Answers to another command only (more than the 3 skipped), and one
     * that does not fit. */
    struct script s5 = {.answers = {ACK "0000ff02fed515"
                                        "1600"
                                        "0000ff02fed515"
                                        "1600"
                                        "0000ff02fed515"
                                        "1600"
                                        "0000ff02fed515"
                                        "1600",
                                    ACK "0000ff06fad50332010607"
                                        "e800"}};
    port.ctx = &s5;
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x02", 1, out, sizeof out, &n),
                     LEAL_E_PROTOCOL);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x02", 1, out, 3, &n), LEAL_E_NO_SPACE);

    /* No card in the field: D5 4B 00. */
    struct script s6 = {.answers = {ACK "0000ff03fdd54b00"
                                        "e000"}};
    port.ctx = &s6;
    pn532_init(&d, &port);
    assert_int_equal(pn532_select(&d, NULL), LEAL_E_NO_CARD);
}

/* After the MCU's reset the PN532, not reset with it, may still hold what it
 * sent for a command of the earlier run (firmware_cuts.sh's cut 198: the ACK
 * and the answer D5 41 00 91 00 of an InDataExchange the board never read).
 * pn532_begin aborts (ACK) and drains; a command skips frames that cannot
 * be its own, 3 at most. */
#define STALE_41 "0000ff05fbd5410091005900" /* D5 41 00 91 00: InDataExchange's */
#define STALE_15 "0000ff02fed5151600"       /* D5 15: SAMConfiguration's */

static void test_pn532_driver_resynchronises(void **state)
{
    (void)state;
    uint8_t fw[4], out[8];
    size_t n = 0;
    struct pn532 d;
    /* begin: the earlier run's ACK and answer wait on the line; drained. */
    struct script s = {.answers = {
                           ACK STALE_41,
                           NULL, /* silence: the drain ends */
                           ACK "0000ff02fed515"
                               "1600",
                           ACK "0000ff06fad50332010607"
                               "e800",
                           ACK "0000ff02fed533"
                               "f800",
                       }};
    struct pn532_port port = {&s, script_write, script_read};
    pn532_init(&d, &port);
    assert_int_equal(pn532_begin(&d, fw), LEAL_OK);
    assert_memory_equal(fw, "\x32\x01\x06\x07", 4);
    assert_written(&s, "5555"
                       "0000000000000000000000000000" ACK "0000ff03fdd414011700"
                       "0000ff02fed4022a00"
                       "0000ff06fad43205000102f200");
    assert_int_equal(s.next, 5);

    /* An earlier command's answer before the ACK: skipped. */
    struct script s2 = {.answers = {STALE_41 ACK "0000ff06fad50332010607"
                                                 "e800"}};
    port.ctx = &s2;
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x02", 1, out, sizeof out, &n), LEAL_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\x32\x01\x06\x07", 4);
    assert_written(&s2, "0000ff02fed4022a00");

    /* After the ACK, another ACK and another command's answer: skipped. */
    struct script s3 = {.answers = {ACK, ACK STALE_15, "0000ff06fad50332010607e800"}};
    port.ctx = &s3;
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x02", 1, out, sizeof out, &n), LEAL_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\x32\x01\x06\x07", 4);

    /* Four answers before any ACK: not a line in step, no ACK (LEAL_E_READER). */
    struct script s4 = {.answers = {STALE_41 STALE_41 STALE_41 STALE_41 ACK}};
    port.ctx = &s4;
    pn532_init(&d, &port);
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x02", 1, out, sizeof out, &n),
                     LEAL_E_READER);
}

/* ------------------------------------- the driver against the emulated PN532 */

/* The line to an in-process emulated PN532: what the driver writes goes to
 * pn532_emu_input, its output waits in out[] for the driver's reads. */
struct emu_line {
    struct pn532_emu *e;
    uint8_t out[4 * LEAL_MAX_PN532_FRAME];
    size_t out_len;
};

static leal_err emu_write(void *ctx, const uint8_t *p, size_t n)
{
    struct emu_line *l = ctx;
    size_t got = 0;
    leal_err err =
        pn532_emu_input(l->e, p, n, l->out + l->out_len, sizeof l->out - l->out_len, &got);
    l->out_len += got;
    return err;
}

static leal_err emu_read(void *ctx, uint8_t *p, size_t cap, size_t *n, unsigned timeout_ms)
{
    struct emu_line *l = ctx;
    (void)timeout_ms;
    /* A few bytes at a time, as a UART delivers them. */
    *n = l->out_len < 7 ? l->out_len : 7;
    if (*n > cap)
        *n = cap;
    if (*n == 0)
        return LEAL_E_TIMEOUT;
    memcpy(p, l->out, *n);
    memmove(l->out, l->out + *n, l->out_len - *n);
    l->out_len -= *n;
    return LEAL_OK;
}

static void test_pn532_driver_desfire_on_emulator(void **state)
{
    (void)state;
    static const uint8_t uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    struct cardsim *card;
    struct emu_line line = {0};
    struct pn532_port port = {&line, emu_write, emu_read};
    struct pn532 d;
    struct pn532_target t;
    struct card_reader r;
    uint8_t fw[4], resp[64], out[4];
    size_t n = 0;

    assert_int_equal(cardsim_new("desfire-ev1-8k", uid, 7, false, &card), LEAL_OK);
    assert_int_equal(pn532_emu_new(card, &line.e), LEAL_OK);
    pn532_init(&d, &port);
    assert_int_equal(pn532_begin(&d, fw), LEAL_OK);
    assert_memory_equal(fw, "\x32\x01\x06\x07", 4);
    assert_int_equal(pn532_select(&d, &t), LEAL_OK);
    assert_memory_equal(t.uid, uid, 7);
    assert_int_equal(t.sak, 0x20);
    pn532_card_reader(&d, &r);
    /* GetVersion (native, wrapped by the PN532's ISO-DEP): hardware part, 91 AF. */
    assert_int_equal(
        r.transceive(r.ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp, sizeof resp, &n),
        LEAL_OK);
    assert_int_equal(n, 9);
    assert_memory_equal(resp, "\x04\x01\x01\x01\x00\x1a\x05\x91\xaf", 9);
    /* Released: no card to talk to until the next select. */
    pn532_release(&d);
    assert_int_equal(
        r.transceive(r.ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp, sizeof resp, &n),
        LEAL_E_NO_CARD);

    /* AutoRATS off (SetParameters 04): the driver sends RATS itself through
     * InCommunicateThru and gets the same ATS. */
    assert_int_equal(pn532_command(&d, (const uint8_t *)"\x12\x04", 2, out, sizeof out, &n),
                     LEAL_OK);
    assert_int_equal(pn532_select(&d, &t), LEAL_OK);
    assert_int_equal(t.ats_len, 6);
    assert_memory_equal(t.ats, "\x06\x75\x77\x81\x02\x80", 6);
    assert_int_equal(
        r.transceive(r.ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp, sizeof resp, &n),
        LEAL_OK);
    assert_memory_equal(resp + n - 2, "\x91\xaf", 2);

    /* The card leaves the field: the next exchange says so. */
    pn532_emu_set_card(line.e, NULL);
    assert_int_equal(
        r.transceive(r.ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp, sizeof resp, &n),
        LEAL_E_CARD_REMOVED);
    assert_int_equal(pn532_select(&d, NULL), LEAL_E_NO_CARD);
    pn532_emu_free(line.e);
    cardsim_free(card);
}

static void test_pn532_driver_classic_on_emulator(void **state)
{
    (void)state;
    static const uint8_t uid[4] = {0x04, 0xA2, 0x19, 0x5C};
    static const uint8_t transport[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t wrong[6] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};
    struct cardsim *card;
    struct emu_line line = {0};
    struct pn532_port port = {&line, emu_write, emu_read};
    struct pn532 d;
    struct pn532_target t;
    struct card_reader r;
    uint8_t block[16], data[16], resp[8];
    size_t n = 0;

    assert_int_equal(cardsim_new("classic-1k", uid, 4, false, &card), LEAL_OK);
    assert_int_equal(pn532_emu_new(card, &line.e), LEAL_OK);
    pn532_init(&d, &port);
    assert_int_equal(pn532_begin(&d, NULL), LEAL_OK);
    assert_int_equal(pn532_select(&d, &t), LEAL_OK);
    assert_int_equal(t.uid_len, 4);
    assert_memory_equal(t.uid, uid, 4);
    assert_memory_equal(t.atqa, "\x00\x04", 2);
    assert_int_equal(t.sak, 0x08);
    assert_int_equal(t.ats_len, 0);
    pn532_card_reader(&d, &r);
    assert_int_equal(
        r.transceive(r.ctx, (const uint8_t *)"\x00\xa4\x04\x00", 4, resp, sizeof resp, &n),
        LEAL_E_PROTOCOL);
    /* A wrong key: refused, and the card selected again for the next try. */
    assert_int_equal(r.classic_auth(r.ctx, 4, CLASSIC_KEY_A, wrong), LEAL_E_CARD_AUTHENTICATION);
    assert_int_equal(r.classic_auth(r.ctx, 4, CLASSIC_KEY_A, transport), LEAL_OK);
    /* Block 0 of sector 1 is all zero on a new card; a write reads back. */
    assert_int_equal(r.classic_read(r.ctx, 4, block), LEAL_OK);
    memset(data, 0, sizeof data);
    assert_memory_equal(block, data, 16);
    for (int i = 0; i < 16; i++)
        data[i] = (uint8_t)(0x10 + i);
    assert_int_equal(r.classic_write(r.ctx, 5, data), LEAL_OK);
    assert_int_equal(r.classic_read(r.ctx, 5, block), LEAL_OK);
    assert_memory_equal(block, data, 16);
    /* Sector 2 without authenticating to it: the card answers with a NAK. */
    assert_int_equal(r.classic_read(r.ctx, 8, block), LEAL_E_CARD_PERMISSION_DENIED);
    pn532_emu_free(line.e);
    cardsim_free(card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pn532_driver_begin_bytes),
        cmocka_unit_test(test_pn532_driver_not_a_pn532),
        cmocka_unit_test(test_pn532_driver_desfire_target_and_chaining),
        cmocka_unit_test(test_pn532_driver_nack_timeout_and_errors),
        cmocka_unit_test(test_pn532_driver_resynchronises),
        cmocka_unit_test(test_pn532_driver_desfire_on_emulator),
        cmocka_unit_test(test_pn532_driver_classic_on_emulator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
