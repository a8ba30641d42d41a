/* pn532_test.c - PN532 frames and the emulated PN532 against the command
 * sequences libnfc 1.8 sends (captured from libnfc 1.8), with Classic and
 * DESFire virtual cards in its field; the Classic card file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/cardsim/cardsim.h"
#include "host/cardsim/classic_sim.h"
#include "host/cardsim/pn532_emu.h"
#include "firmware/core/pn532_frame.h"
#include "tests/lib/testutil.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    long n = hex_decode(hex, out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static void test_pn532_frame_normal_round_trip(void **state)
{
    (void)state;
    uint8_t body[8], out[32], want[32];
    size_t bl = unhex("d41401", body, sizeof body), ol, consumed;
    struct pn532_frame f;
    assert_int_equal(pn532_frame_build(body, bl, out, sizeof out, &ol), LEAL_OK);
    /* The SAMConfiguration frame libnfc sends after the wake-up (§4.1). */
    unhex("0000ff03fdd414011700", want, sizeof want);
    assert_int_equal(ol, 10);
    assert_memory_equal(out, want, 10);
    assert_int_equal(pn532_frame_parse(out, ol, &f, &consumed), LEAL_OK);
    assert_int_equal(f.kind, PN532_FRAME_INFO);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.body, body, 3);
    assert_int_equal(consumed, 10);
}

static void test_pn532_frame_skips_wakeup_and_reads_ack_nack(void **state)
{
    (void)state;
    uint8_t in[64];
    size_t n = unhex("5555000000000000000000000000000000000000ff03fdd414011700", in, sizeof in);
    size_t consumed;
    struct pn532_frame f;
    assert_int_equal(pn532_frame_parse(in, n, &f, &consumed), LEAL_OK);
    assert_int_equal(f.len, 3);
    assert_int_equal(consumed, n);
    n = unhex("0000ff00ff00", in, sizeof in);
    assert_int_equal(pn532_frame_parse(in, n, &f, &consumed), LEAL_OK);
    assert_int_equal(f.kind, PN532_FRAME_ACK);
    assert_int_equal(consumed, 6);
    n = unhex("0000ffff0000", in, sizeof in);
    assert_int_equal(pn532_frame_parse(in, n, &f, &consumed), LEAL_OK);
    assert_int_equal(f.kind, PN532_FRAME_NACK);
}

static void test_pn532_frame_extended(void **state)
{
    (void)state;
    uint8_t body[300], out[320];
    size_t ol, consumed;
    struct pn532_frame f;
    body[0] = 0xD5;
    body[1] = 0x41;
    for (int i = 2; i < 265; i++)
        body[i] = (uint8_t)i;
    assert_int_equal(pn532_frame_build(body, 265, out, sizeof out, &ol), LEAL_OK);
    assert_int_equal(ol, 265 + 10);
    assert_memory_equal(out, "\x00\x00\xff\xff\xff\x01\x09\xf6", 8);
    assert_int_equal(pn532_frame_parse(out, ol, &f, &consumed), LEAL_OK);
    assert_int_equal(f.len, 265);
    assert_memory_equal(f.body, body, 265);
    /* 255 bytes is still a normal frame (LEN FF, LCS 01). */
    assert_int_equal(pn532_frame_build(body, 255, out, sizeof out, &ol), LEAL_OK);
    assert_memory_equal(out, "\x00\x00\xff\xff\x01", 5);
    assert_int_equal(pn532_frame_parse(out, ol, &f, &consumed), LEAL_OK);
    assert_int_equal(f.len, 255);
    assert_int_equal(pn532_frame_build(body, 266, out, sizeof out, &ol), LEAL_E_ARG);
    assert_int_equal(pn532_frame_build(body, 10, out, 12, &ol), LEAL_E_NO_SPACE);
}

static void test_pn532_frame_rejects_bad_checksums(void **state)
{
    (void)state;
    uint8_t in[32];
    size_t n, consumed;
    struct pn532_frame f;
    n = unhex("0000ff03fcd414011700", in, sizeof in); /* LCS */
    assert_int_equal(pn532_frame_parse(in, n, &f, &consumed), LEAL_E_FORMAT);
    assert_int_equal(consumed, 3);
    n = unhex("0000ff03fdd414011800", in, sizeof in); /* DCS */
    assert_int_equal(pn532_frame_parse(in, n, &f, &consumed), LEAL_E_FORMAT);
    n = unhex("0000ff03fdd41401", in, sizeof in); /* not all there */
    assert_int_equal(pn532_frame_parse(in, n, &f, &consumed), LEAL_E_TRUNCATED);
    assert_int_equal(consumed, 1);
    n = unhex("55555500", in, sizeof in);
    assert_int_equal(pn532_frame_parse(in, n, &f, &consumed), LEAL_E_TRUNCATED);
    assert_int_equal(consumed, 3); /* keeps the 00 that may start a frame */
}

/* Sends one command body (hex, without D4) and checks the answer body (hex, without D5). */
static void cmd(struct pn532_emu *e, const char *c, const char *want)
{
    uint8_t body[300], resp[300], w[300];
    size_t bl, rl, wl;
    body[0] = 0xD4;
    bl = 1 + unhex(c, body + 1, sizeof body - 1);
    assert_int_equal(pn532_emu_command(e, body, bl, resp, sizeof resp, &rl), LEAL_OK);
    if (want == NULL) {
        assert_int_equal(rl, 0);
        return;
    }
    wl = unhex(want, w, sizeof w);
    if (rl != wl + 1 || memcmp(resp + 1, w, wl) != 0) {
        char got[620];
        hex_encode(resp, rl, got);
        fail_msg("command %s: want d5%s, got %s", c, want, got);
    }
    assert_int_equal(resp[0], 0xD5);
}

static struct cardsim *classic_card(void)
{
    struct cardsim *c;
    static const uint8_t uid[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    assert_int_equal(cardsim_new("classic-1k", uid, 4, false, &c), LEAL_OK);
    return c;
}

static void test_pn532_open_sequence(void **state)
{
    (void)state;
    struct pn532_emu *e;
    assert_int_equal(pn532_emu_new(NULL, &e), LEAL_OK);
    /* nfc_open (§4.4). */
    cmd(e, "1401", "15");
    cmd(e, "00006c69626e6663", "01006c69626e6663");
    cmd(e, "02", "0332010607");
    cmd(e, "1214", "13");
    /* nfc_initiator_init: registers keep what libnfc writes. */
    cmd(e, "0663026303630d6338633d", "070000000000");
    cmd(e, "0863028063038063053f", "09");
    cmd(e, "06630263036305", "0780803f");
    cmd(e, "320100", "33");
    cmd(e, "320101", "33");
    cmd(e, "3205ffffff", "33");
    /* No card: no target, for every baud rate and type. */
    for (int b = 0; b <= 4; b++) {
        char c[8];
        snprintf(c, sizeof c, "4a01%02x", b);
        cmd(e, c, "4b00");
    }
    cmd(e, "4200", "4301");
    cmd(e, "4400", "4500");
    cmd(e, "5200", "5300");
    cmd(e, "16f0", "1700");
    cmd(e, "ee", NULL);   /* unknown command */
    cmd(e, "0663", NULL); /* half a register address */
    pn532_emu_free(e);
}

static void test_pn532_lists_classic_and_reads_it(void **state)
{
    (void)state;
    struct cardsim *card = classic_card();
    struct pn532_emu *e;
    assert_int_equal(pn532_emu_new(card, &e), LEAL_OK);
    cmd(e, "1214", "13");
    cmd(e, "4a0100",
        "4b0101000408"
        "04deadbeef");
    cmd(e, "4a0103", "4b00");
    /* nfc-mfclassic: AutoRATS off, list, RATS probe (no answer), reselect. */
    cmd(e, "1204", "13");
    cmd(e, "4a0100",
        "4b0101000408"
        "04deadbeef");
    cmd(e, "42e050", "4301");
    cmd(e, "4a0100deadbeef",
        "4b0101000408"
        "04deadbeef");
    cmd(e, "4a0100deadbeee", "4b00"); /* another UID */
    cmd(e, "4a0100",
        "4b0101000408"
        "04deadbeef");
    cmd(e, "4001603fffffffffffffdeadbeef", "4100");
    cmd(e, "066338", "0708"); /* MFCrypto1On */
    cmd(e, "4001303f",
        "4100"
        "000000000000ff078069ffffffffffff");
    cmd(e, "4001303c",
        "4100"
        "00000000000000000000000000000000");
    cmd(e, "4001a03c00112233445566778899aabbccddeeff", "4100");
    cmd(e, "4001303c",
        "4100"
        "00112233445566778899aabbccddeeff");
    /* Another sector without authenticating it: NAK, then silence. */
    cmd(e, "40013004", "4113");
    cmd(e, "4001303c", "4101");
    /* Wrong key: the MIFARE authentication error, and the card is halted. */
    cmd(e, "4a0100",
        "4b0101000408"
        "04deadbeef");
    cmd(e, "4001603f000000000000deadbeef", "4114");
    cmd(e, "066338", "0700");
    cmd(e, "4001303f", "4101");
    cmd(e, "4400", "4500");
    cmd(e, "4001303f", "4127"); /* no target */
    pn532_emu_free(e);
    cardsim_free(card);
}

static void test_pn532_lists_desfire_with_ats(void **state)
{
    (void)state;
    struct cardsim *card;
    struct pn532_emu *e;
    static const uint8_t uid[7] = {0x04, 0x06, 0x3F, 0x72, 0x63, 0x34, 0x80};
    assert_int_equal(cardsim_new("desfire-ev1-8k", uid, 7, false, &card), LEAL_OK);
    assert_int_equal(pn532_emu_new(card, &e), LEAL_OK);
    cmd(e, "1214", "13");
    cmd(e, "4a0100",
        "4b01010344200704063f7263348006757781028"
        "0");
    /* mifare-desfire-info (libfreefare 0.4.0): select by cascaded UID, GetVersion. */
    cmd(e, "4a01008804063f72633480", "4b01010344200704063f72633480067577810280");
    cmd(e, "40019060000000",
        "4100"
        "04010101001a05"
        "91af");
    cmd(e, "400190af000000",
        "4100"
        "04010101041a05"
        "91af");
    /* Host-side MI chaining: the PN532 gathers the pieces (90 AF | 00 00 00). */
    cmd(e, "404190af", "4100");
    uint8_t body[8] = {0xD4, 0x40, 0x01, 0x00, 0x00, 0x00}, resp[64];
    size_t rl;
    assert_int_equal(pn532_emu_command(e, body, 6, resp, sizeof resp, &rl), LEAL_OK);
    assert_int_equal(rl, 3 + 14 + 2);
    assert_memory_equal(resp, "\xd5\x41\x00\x04\x06\x3f\x72\x63\x34\x80", 10);
    assert_memory_equal(resp + rl - 2, "\x91\x00", 2);
    /* Without AutoRATS the PN532 lists no ATS and the card does not speak ISO-DEP
     * until RATS is sent through InCommunicateThru. */
    cmd(e, "1204", "13");
    cmd(e, "4a0100", "4b01010344200704063f72633480");
    cmd(e, "40019060000000", "4101");
    cmd(e, "4a0100", "4b01010344200704063f72633480");
    cmd(e, "42e050", "4300067577810280");
    cmd(e, "40019060000000",
        "4100"
        "04010101001a05"
        "91af");
    /* libnfc's presence check for ISO-DEP targets: R(NAK) gets an R(ACK). */
    cmd(e, "42b2", "4300a2");
    pn532_emu_free(e);
    cardsim_free(card);
}

static size_t feed(struct pn532_emu *e, const char *hex, uint8_t *out, size_t cap)
{
    uint8_t in[300];
    size_t n = unhex(hex, in, sizeof in), ol = 0;
    assert_int_equal(pn532_emu_input(e, in, n, out, cap, &ol), LEAL_OK);
    return ol;
}

static void expect_out(const uint8_t *out, size_t ol, const char *hex)
{
    uint8_t want[600];
    size_t wl = unhex(hex, want, sizeof want);
    assert_int_equal(ol, wl);
    assert_memory_equal(out, want, wl);
}

static void test_pn532_serial_line(void **state)
{
    (void)state;
    struct pn532_emu *e;
    uint8_t out[1200];
    size_t ol;
    assert_int_equal(pn532_emu_new(NULL, &e), LEAL_OK);
    /* HSU wake-up then SAMConfiguration (UM0701-02 §6.2): ACK, then D5 15. */
    ol = feed(e,
              "55550000000000000000000000000000"
              "0000ff03fdd414011700",
              out, sizeof out);
    expect_out(out, ol,
               "0000ff00ff00"
               "0000ff02fed5151600");
    /* NACK: the last answer again. */
    ol = feed(e, "0000ffff0000", out, sizeof out);
    expect_out(out, ol, "0000ff02fed5151600");
    /* ACK from the host (abort): nothing. */
    assert_int_equal(feed(e, "0000ff00ff00", out, sizeof out), 0);
    /* Unknown command: ACK, then the syntax-error frame. */
    ol = feed(e, "0000ff02fed4ee3e00", out, sizeof out);
    expect_out(out, ol,
               "0000ff00ff00"
               "0000ff01ff7f8100");
    /* A damaged frame is not acknowledged. */
    assert_int_equal(feed(e, "0000ff02fed4023900", out, sizeof out), 0);
    /* Byte by byte: GetFirmwareVersion. */
    {
        uint8_t f[] = {0x00, 0x00, 0xff, 0x02, 0xfe, 0xd4, 0x02, 0x2a, 0x00};
        size_t total = 0;
        for (size_t i = 0; i < sizeof f; i++) {
            assert_int_equal(pn532_emu_input(e, f + i, 1, out + total, sizeof out - total, &ol),
                             LEAL_OK);
            total += ol;
        }
        expect_out(out, total,
                   "0000ff00ff00"
                   "0000ff06fad50332010607e800");
    }
    /* Two frames in one read. */
    ol = feed(e,
              "0000ff02fed4022a00"
              "0000ff03fdd4121406",
              out, sizeof out);
    expect_out(out, ol,
               "0000ff00ff00"
               "0000ff06fad50332010607e800"
               "0000ff00ff00"
               "0000ff02fed5131800");
    pn532_emu_free(e);
}

static leal_err fill_a5(void *ctx, uint8_t *p, size_t n)
{
    (void)ctx;
    memset(p, 0xA5, n);
    return LEAL_OK;
}

static void test_pn532_torn_classic_write(void **state)
{
    (void)state;
    struct cardsim *card = classic_card();
    struct pn532_emu *e;
    struct cardsim_tear t = {
        .point = CARDSIM_TEAR_INSIDE_COMMIT, .after = 2, .classic_block = CARDSIM_TORN_GARBAGE};
    assert_int_equal(pn532_emu_new(card, &e), LEAL_OK);
    cardsim_set_rng(card, fill_a5, NULL);
    cmd(e, "4a0100",
        "4b0101000408"
        "04deadbeef");
    cardsim_set_tear(card, &t);
    cmd(e, "40016004ffffffffffffdeadbeef", "4100");
    cmd(e, "4001a00400112233445566778899aabbccddeeff", "4101"); /* no answer: power lost */
    assert_true(cardsim_torn(card));
    cmd(e, "4a0100",
        "4b0101000408"
        "04deadbeef");
    cmd(e, "40016004ffffffffffffdeadbeef", "4100");
    cmd(e, "40013004",
        "4100"
        "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5");
    pn532_emu_free(e);
    cardsim_free(card);
}

static void test_classic_card_file_round_trip(void **state)
{
    (void)state;
    struct cardsim *card = classic_card(), *back;
    char *s = NULL, *s2 = NULL;
    assert_int_equal(cardsim_to_string(card, &s), LEAL_OK);
    assert_non_null(strstr(s, "\"type\": \"classic-1k\""));
    assert_non_null(strstr(s, "\"uid\": \"deadbeef\""));
    assert_non_null(strstr(s, "\"deadbeef220804006263646566676869\""));
    assert_non_null(strstr(s, "\"ffffffffffffff078069ffffffffffff\""));
    assert_int_equal(cardsim_from_string(s, strlen(s), &back), LEAL_OK);
    assert_int_equal(cardsim_kind(back), CARDSIM_CLASSIC);
    assert_int_equal(cardsim_to_string(back, &s2), LEAL_OK);
    assert_string_equal(s, s2);
    cardsim_free(back);
    free(s2);

    /* Damaged files are refused. */
    static const struct {
        const char *from, *to;
    } bad[] = {
        {"\"uid\": \"deadbeef\"", "\"uid\": \"deadbeee\""},   /* block 0 disagrees */
        {"\"uid\": \"deadbeef\"", "\"uid\": \"deadbeef00\""}, /* 5-byte UID */
        {"\"deadbeef220804006263646566676869\"", "\"deadbeef2208040062636465666768\""},
        {"\"deadbeef220804006263646566676869\"", "\"deadbeef22080400626364656667686g\""},
        {"\"deadbeef220804006263646566676869\",", ""}, /* 63 blocks */
        {"classic-1k", "classic-4k"},                  /* 64 blocks for a 4K */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *m = malloc(strlen(s) + 64), *at = strstr(s, bad[i].from);
        assert_non_null(at);
        size_t pre = (size_t)(at - s);
        memcpy(m, s, pre);
        memcpy(m + pre, bad[i].to, strlen(bad[i].to));
        strcpy(m + pre + strlen(bad[i].to), at + strlen(bad[i].from));
        assert_int_equal(cardsim_from_string(m, strlen(m), &back), LEAL_E_FORMAT);
        free(m);
    }
    free(s);
    cardsim_free(card);

    /* A blank 4K with a 7-byte UID; random UIDs are not a Classic feature. */
    static const uint8_t uid7[7] = {0x04, 1, 2, 3, 4, 5, 6};
    struct cardsim_ident id;
    assert_int_equal(cardsim_new("classic-4k", uid7, 7, false, &card), LEAL_OK);
    assert_int_equal(cardsim_activate(card, &id), LEAL_OK);
    assert_int_equal(id.sak, 0x18);
    assert_int_equal(id.atqa[0], 0x42);
    cardsim_free(card);
    assert_int_equal(cardsim_new("classic-1k", NULL, 0, true, &card), LEAL_E_UNSUPPORTED);
    assert_int_equal(cardsim_new("classic-1k", NULL, 0, false, &card), LEAL_OK);
    assert_int_equal(cardsim_activate(card, &id), LEAL_OK);
    assert_int_equal(id.uid_len, 4);
    cardsim_free(card);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pn532_frame_normal_round_trip),
        cmocka_unit_test(test_pn532_frame_skips_wakeup_and_reads_ack_nack),
        cmocka_unit_test(test_pn532_frame_extended),
        cmocka_unit_test(test_pn532_frame_rejects_bad_checksums),
        cmocka_unit_test(test_pn532_open_sequence),
        cmocka_unit_test(test_pn532_lists_classic_and_reads_it),
        cmocka_unit_test(test_pn532_lists_desfire_with_ats),
        cmocka_unit_test(test_pn532_serial_line),
        cmocka_unit_test(test_pn532_torn_classic_write),
        cmocka_unit_test(test_classic_card_file_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
