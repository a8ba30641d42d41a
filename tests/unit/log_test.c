/* log_test.c - host/log: the sink gets what its level and traces let through,
 * one line each; LEAL_TRACE's words; foreign text (OpenSSL's real error
 * queue) reaches the sink where the error became a leal_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "host/log/log.h"
#include "keys/hosted/provider_openssl.h"

struct captured {
    char text[2048];
    int lines;
};

static void capture(void *ctx, enum log_level level, const char *where, const char *msg)
{
    struct captured *c = ctx;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%s|%s|%s\n", log_level_name(level), where, msg);
    c->lines++;
}

static int reset(void **state)
{
    (void)state;
    log_set_sink(NULL, NULL, LOG_NONE, 0);
    return 0;
}

static void test_log_without_sink_records_nothing(void **state)
{
    (void)state;
    assert_false(log_enabled(LOG_ERROR));
    assert_false(log_tracing(LOG_TRACE_APDU));
    log_error("nobody hears %d", 1); /* must not crash */
    assert_int_equal(log_foreign(LEAL_E_READER, "pcsc", "SCardTransmit", "x"), LEAL_E_READER);
}

static void test_log_level_filters_and_lines_are_flat(void **state)
{
    struct captured c = {0};
    (void)state;
    log_set_sink(capture, &c, LOG_INFO, 0);
    assert_true(log_enabled(LOG_INFO));
    assert_false(log_enabled(LOG_DEBUG));
    assert_false(log_enabled(LOG_TRACE));
    log_debug("hidden");
    log_info("shown %s", "here");
    log_error_e(LEAL_E_CARD_REMOVED, "reading block %u", 4u);
    log_write(LOG_WARN, "w", "two\nlines\rjoined");
    log_trace(LOG_TRACE_APDU, "reader", "not asked for");
    assert_int_equal(c.lines, 3);
    assert_string_equal(c.text, "info|test_log_level_filters_and_lines_are_flat|shown here\n"
                                "error|test_log_level_filters_and_lines_are_flat|reading block 4: "
                                "the card was removed during the operation; present it again\n"
                                "warning|w|two lines joined\n");
}

static void test_log_trace_only_when_asked(void **state)
{
    struct captured c = {0};
    (void)state;
    log_set_sink(capture, &c, LOG_NONE, LOG_TRACE_APDU);
    assert_false(log_enabled(LOG_ERROR));
    assert_true(log_tracing(LOG_TRACE_APDU));
    log_error("not asked for");
    log_trace(LOG_TRACE_APDU, "reader", "> 90 60 00 00 00");
    assert_string_equal(c.text, "trace|reader|> 90 60 00 00 00\n");
}

static void test_log_trace_parse_words(void **state)
{
    unsigned m = 99;
    (void)state;
    assert_int_equal(log_trace_parse(NULL, &m), LEAL_OK);
    assert_int_equal(m, 0);
    assert_int_equal(log_trace_parse("", &m), LEAL_OK);
    assert_int_equal(m, 0);
    assert_int_equal(log_trace_parse("apdu", &m), LEAL_OK);
    assert_int_equal(m, LOG_TRACE_APDU);
    assert_int_equal(log_trace_parse("apdu,,apdu", &m), LEAL_OK);
    assert_int_equal(m, LOG_TRACE_APDU);
    assert_int_equal(log_trace_parse("apd", &m), LEAL_E_USAGE);
    assert_int_equal(m, 0);
    assert_int_equal(log_trace_parse("apdu,keys", &m), LEAL_E_USAGE);
    assert_int_equal(m, 0);
}

static void test_log_foreign_text_where_error_enters(void **state)
{
    struct captured c = {0};
    (void)state;
    log_set_sink(capture, &c, LOG_DEBUG, 0);
    assert_int_equal(
        log_foreign(LEAL_E_NO_READER, "pcsc", "SCardEstablishContext", "Service not available."),
        LEAL_E_NO_READER);
    assert_int_equal(log_foreign(LEAL_E_READER, "libnfc", "nfc_open", NULL), LEAL_E_READER);
    assert_string_equal(c.text, "debug|pcsc|SCardEstablishContext: Service not available. -> no "
                                "card reader found; plug one in or name it with --reader\n"
                                "debug|libnfc|nfc_open: (no text) -> the card reader failed; "
                                "reconnect it and try again\n");
}

static void test_log_openssl_queue_reaches_the_sink(void **state)
{
    struct captured c = {0};
    EVP_CIPHER *none;
    (void)state;
    log_set_sink(capture, &c, LOG_DEBUG, 0);
    ERR_clear_error();
    /* A real OpenSSL failure: its queue holds why. */
    none = EVP_CIPHER_fetch(NULL, "NO-SUCH-CIPHER", NULL);
    assert_null(none);
    assert_int_not_equal(ERR_peek_error(), 0);
    assert_int_equal(crypto_openssl_error(LEAL_E_CRYPTO, "fetch"), LEAL_E_CRYPTO);
    assert_int_equal(ERR_peek_error(), 0); /* drained */
    assert_int_equal(c.lines, 1);
    assert_non_null(strstr(c.text, "debug|openssl|fetch: error:"));
    assert_non_null(strstr(c.text, "unsupported"));
    assert_non_null(strstr(c.text, " -> cryptographic library error\n"));
    /* Without a sink, the text is dropped and the queue still emptied. */
    log_set_sink(NULL, NULL, LOG_NONE, 0);
    none = EVP_CIPHER_fetch(NULL, "NO-SUCH-CIPHER", NULL);
    assert_null(none);
    assert_int_equal(crypto_openssl_error(LEAL_E_CRYPTO, "fetch"), LEAL_E_CRYPTO);
    assert_int_equal(ERR_peek_error(), 0);
    assert_int_equal(c.lines, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_log_without_sink_records_nothing, reset),
        cmocka_unit_test_teardown(test_log_level_filters_and_lines_are_flat, reset),
        cmocka_unit_test_teardown(test_log_trace_only_when_asked, reset),
        cmocka_unit_test_teardown(test_log_trace_parse_words, reset),
        cmocka_unit_test_teardown(test_log_foreign_text_where_error_enters, reset),
        cmocka_unit_test_teardown(test_log_openssl_queue_reaches_the_sink, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
