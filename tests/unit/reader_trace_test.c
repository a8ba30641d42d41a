/* reader_trace_test.c - host/reader's APDU trace: exact lines; frame data
 * shown only for public commands before any authentication; keys, secured
 * frames and Classic blocks never shown; nothing at all when no trace is on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/log/log.h"
#include "host/reader/reader_trace.h"

static char lines[4096];

static void capture(void *ctx, enum log_level level, const char *where, const char *msg)
{
    size_t n = strlen(lines);
    (void)ctx;
    assert_int_equal(level, LOG_TRACE);
    assert_string_equal(where, "reader");
    snprintf(lines + n, sizeof lines - n, "%s\n", msg);
}

static int on(void **state)
{
    (void)state;
    lines[0] = '\0';
    log_set_sink(capture, NULL, LOG_NONE, LOG_TRACE_APDU);
    return 0;
}

static int off(void **state)
{
    (void)state;
    log_set_sink(NULL, NULL, LOG_NONE, 0);
    return 0;
}

#define EX(t, cmd, resp, err)                                                                      \
    reader_trace_apdu((t), (const uint8_t *)(cmd), sizeof(cmd) - 1, (const uint8_t *)(resp),       \
                      sizeof(resp) - 1, (err))

static void test_trace_desfire_public_then_hidden_after_authentication(void **state)
{
    struct reader_trace t = {0};
    (void)state;
    EX(&t, "\x90\x60\x00\x00\x00", "\x04\x01\x01\x01\x00\x1A\x05\x91\xAF", LEAL_OK);
    EX(&t, "\x90\xAF\x00\x00\x00", "\x04\x01\x01\x01\x04\x1A\x05\x91\xAF", LEAL_OK);
    EX(&t, "\x90\x5A\x00\x00\x03\x7A\x01\x00\x00", "\x91\x00", LEAL_OK);
    /* A data file read before any authentication (free access): still hidden. */
    EX(&t, "\x90\xBD\x00\x00\x07\x01\x00\x00\x00\x04\x00\x00\x00", "\x11\x22\x33\x44\x91\x00",
       LEAL_OK);
    EX(&t, "\x90\xAA\x00\x00\x01\x01\x00",
       "\xA1\xA2\xA3\xA4\xA5\xA6\xA7\xA8\xA9\xAA\xAB\xAC\xAD\xAE"
       "\xAF\xB0\x91\xAF",
       LEAL_OK);
    EX(&t, "\x90\xAF\x00\x00\x02\xC1\xC2\x00", "\xD1\xD2\x91\x00", LEAL_OK);
    /* Public commands after authentication: hidden too. */
    EX(&t, "\x90\x5A\x00\x00\x03\x7A\x01\x00\x00", "\x91\x00", LEAL_OK);
    EX(&t, "\x90\x60\x00\x00\x00", "\x04\x01\x91\xAF", LEAL_OK);
    EX(&t, "\x90\x3D\x00\x00\x03\x01\x02\x03\x00", "", LEAL_E_CARD_REMOVED);
    assert_string_equal(lines, "> 90 60 00 00 [0]\n"
                               "< 91 AF [7] 04 01 01 01 00 1A 05\n"
                               "> 90 AF 00 00 [0]\n"
                               "< 91 AF [7] 04 01 01 01 04 1A 05\n"
                               "> 90 5A 00 00 [3] 7A 01 00\n"
                               "< 91 00 [0]\n"
                               "> 90 BD 00 00 [7 hidden]\n"
                               "< 91 00 [4 hidden]\n"
                               "> 90 AA 00 00 [1 hidden]\n"
                               "< 91 AF [16 hidden]\n"
                               "> 90 AF 00 00 [2 hidden]\n"
                               "< 91 00 [2 hidden]\n"
                               "> 90 5A 00 00 [3 hidden]\n"
                               "< 91 00 [0]\n"
                               "> 90 60 00 00 [0]\n"
                               "< 91 AF [2 hidden]\n"
                               "> 90 3D 00 00 [3 hidden]\n"
                               "< error: the card was removed during the operation; present it "
                               "again\n");
}

static void test_trace_af_after_a_hidden_command_stays_hidden(void **state)
{
    struct reader_trace t = {0};
    (void)state;
    EX(&t, "\x90\xBB\x00\x00\x07\x02\x00\x00\x00\x00\x00\x00\x00", "\x55\x66\x91\xAF", LEAL_OK);
    EX(&t, "\x90\xAF\x00\x00\x00", "\x77\x88\x91\x00", LEAL_OK);
    assert_string_equal(lines, "> 90 BB 00 00 [7 hidden]\n"
                               "< 91 AF [2 hidden]\n"
                               "> 90 AF 00 00 [0]\n"
                               "< 91 00 [2 hidden]\n");
}

static void test_trace_pcsc_part3_and_native_frames(void **state)
{
    struct reader_trace t = {0};
    (void)state;
    EX(&t, "\xFF\xCA\x00\x00\x00", "\x04\xC0\xFF\xEE\x90\x00", LEAL_OK);
    /* LOAD KEYS carries a key: hidden even before any authentication. */
    EX(&t, "\xFF\x82\x00\x00\x06\x3A\x5B\x7C\x9D\xBE\xDF", "\x90\x00", LEAL_OK);
    EX(&t, "\xFF\xD6\x00\x04\x10\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F\x10",
       "\x90\x00", LEAL_OK);
    EX(&t, "\x00\xA4\x04\x00\x02\x3F\x00\x00", "\x90\x00", LEAL_OK);
    EX(&t, "\x6A", "\x00\x7A\x01\x00", LEAL_OK);
    EX(&t, "\x0A\x00", "\xAF\x01\x02\x03\x04\x05\x06\x07\x08", LEAL_OK);
    EX(&t, "\x6A", "\x00\x7A\x01\x00", LEAL_OK);
    assert_string_equal(lines, "> FF CA 00 00 [0]\n"
                               "< 90 00 [4] 04 C0 FF EE\n"
                               "> FF 82 00 00 [6 hidden]\n"
                               "< 90 00 [0]\n"
                               "> FF D6 00 04 [16 hidden]\n"
                               "< 90 00 [0]\n"
                               "> 00 A4 04 00 [2] 3F 00\n"
                               "< 90 00 [0]\n"
                               "> 6A [0]\n"
                               "< 00 [3] 7A 01 00\n"
                               "> 0A [1 hidden]\n"
                               "< AF [8 hidden]\n"
                               "> 6A [0]\n"
                               "< 00 [3 hidden]\n");
}

static void test_trace_classic_never_shows_keys_or_blocks(void **state)
{
    struct reader_trace t = {0};
    (void)state;
    reader_trace_classic_auth(&t, 4, 0x60 /* key A */, LEAL_OK);
    reader_trace_classic_block(&t, READER_TRACE_CLASSIC_READ, 4, LEAL_OK);
    reader_trace_classic_block(&t, READER_TRACE_CLASSIC_WRITE, 7, LEAL_OK);
    reader_trace_classic_auth(&t, 8, 0x61 /* key B */, LEAL_E_CARD_AUTHENTICATION);
    assert_string_equal(lines, "> 60 04 [key hidden]\n"
                               "< ok\n"
                               "> 30 04\n"
                               "< [16 hidden]\n"
                               "> A0 07 [16 hidden]\n"
                               "< ok\n"
                               "> 61 08 [key hidden]\n"
                               "< error: card authentication failed: wrong key for this card\n");
}

static void test_trace_off_writes_nothing(void **state)
{
    struct reader_trace t = {0};
    (void)state;
    log_set_sink(capture, NULL, LOG_DEBUG, 0); /* --verbose without LEAL_TRACE */
    EX(&t, "\x90\x60\x00\x00\x00", "\x04\x01\x91\xAF", LEAL_OK);
    reader_trace_classic_auth(&t, 4, 0x60, LEAL_OK);
    assert_string_equal(lines, "");
    /* Authentication is still remembered: a trace turned on later hides alike. */
    log_set_sink(capture, NULL, LOG_NONE, LOG_TRACE_APDU);
    EX(&t, "\x90\x5A\x00\x00\x03\x7A\x01\x00\x00", "\x91\x00", LEAL_OK);
    assert_string_equal(lines, "> 90 5A 00 00 [3 hidden]\n< 91 00 [0]\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_desfire_public_then_hidden_after_authentication,
                                        on, off),
        cmocka_unit_test_setup_teardown(test_trace_af_after_a_hidden_command_stays_hidden, on, off),
        cmocka_unit_test_setup_teardown(test_trace_pcsc_part3_and_native_frames, on, off),
        cmocka_unit_test_setup_teardown(test_trace_classic_never_shows_keys_or_blocks, on, off),
        cmocka_unit_test_setup_teardown(test_trace_off_writes_nothing, on, off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
