/* mail_dsn_test.c - host/mail's bounce parser and mbox splitter: the exact
 * fields of reports as MTAs write them (folded and quoted parameters, a
 * status with a comment, two recipients of which one failed, a global
 * delivery-status, the returned headers' Message-ID), the reports refused,
 * and an mbox's messages (a "From " line in a body, not after an empty
 * line, kept inside it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/mail/mail_dsn.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

/* A report around a delivery-status body ds and a returned part of type rt. */
static char *report(const char *ct_params, const char *dstype, const char *ds, const char *rt,
                    const char *returned)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "From: MAILER-DAEMON@mx.example\r\nMessage-ID: <r1@mx.example>\r\n"
             "Content-Type: multipart/report;%s\r\n\r\npreamble\r\n"
             "--B\r\nContent-Type: text/plain\r\n\r\nsorry\r\n"
             "--B\r\nContent-Type: %s\r\n\r\n%s\r\n"
             "--B\r\nContent-Type: %s\r\n\r\n%s\r\n--B--\r\n",
             ct_params, dstype, ds, rt, returned);
    return buf;
}

static void test_fields(void **state)
{
    (void)state;
    struct mail_dsn d;
    /* Exim: status with a comment; folded params, quoted boundary; the
     * recipient that failed is the second. */
    const char *r =
        report(" report-type=\"Delivery-Status\";\r\n\tboundary=\"B\"", "message/delivery-status",
               "Reporting-MTA: dns; mx.example\r\n\r\n"
               "Final-Recipient: rfc822; other@example.org\r\n"
               "Action: delivered\r\nStatus: 2.0.0\r\n\r\n"
               "Final-Recipient: RFC822; <Ana@Example.ORG>\r\n"
               "Action: Failed\r\nStatus: 5.0.0 (permanent failure)\r\n"
               "Diagnostic-Code: smtp; 550 no\r\n  such\tuser",
               "text/rfc822-headers", "Subject: x\r\nMessage-Id: <" TOKEN "@sol.example>");
    assert_int_equal(mail_dsn_parse(r, strlen(r), &d), LEAL_OK);
    assert_string_equal(d.action, "failed");
    assert_string_equal(d.status, "5.0.0");
    assert_string_equal(d.recipient, "ana@example.org");
    assert_string_equal(d.diagnostic, "550 no such user");
    assert_string_equal(d.token, TOKEN);
    assert_string_equal(d.report_id, "<r1@mx.example>");
    assert_int_equal(d.recipients, 2);

    /* A global delivery-status (RFC 6533), a delay only, an upper-case
     * token made lower, the returned message whole. */
    r = report(" report-type=delivery-status; boundary=B", "message/global-delivery-status",
               "Final-Recipient: rfc822;bea@example.org\r\nAction: delayed\r\nStatus: 4.4.7",
               "message/rfc822",
               "Message-ID: <0123456789ABCDEF0123456789ABCDEF@sol.example>\r\n\r\nbody");
    assert_int_equal(mail_dsn_parse(r, strlen(r), &d), LEAL_OK);
    assert_string_equal(d.action, "delayed");
    assert_string_equal(d.status, "4.4.7");
    assert_string_equal(d.token, TOKEN);
    assert_string_equal(d.diagnostic, "");

    /* A Message-ID that is not leal's: no token, the report still read. */
    r = report(" report-type=delivery-status; boundary=B", "message/delivery-status",
               "Final-Recipient: x400; whatever\r\nAction: failed\r\nStatus: 5.1.1",
               "text/rfc822-headers", "Message-ID: <abc@elsewhere>");
    assert_int_equal(mail_dsn_parse(r, strlen(r), &d), LEAL_OK);
    assert_string_equal(d.token, "");
    assert_string_equal(d.recipient, "");
    assert_int_equal(d.attempt, 0);
}

/* The attempt after the token, "<TOKEN.N@DOMAIN>" (each send attempt its
 * own Message-ID); the older "<TOKEN@DOMAIN>" has none (0). */
static void test_attempt(void **state)
{
    (void)state;
    struct mail_dsn d;
    const struct {
        const char *id, *token;
        unsigned attempt;
    } v[] = {
        {"<" TOKEN ".1@sol.example>", TOKEN, 1},
        {"<" TOKEN ".12@sol.example>", TOKEN, 12},
        {"<" TOKEN ".999999@s>", TOKEN, 999999},
        {"<" TOKEN "@sol.example>", TOKEN, 0},
        {"<" TOKEN ".1000000@s>", "", 0}, /* seven digits */
        {"<" TOKEN ".0@s>", "", 0},       /* no attempt 0 */
        {"<" TOKEN ".01@s>", "", 0},      /* a leading zero */
        {"<" TOKEN ".@s>", "", 0},
        {"<" TOKEN ".2x@s>", "", 0},
        {"<" TOKEN ".2@s", "", 0}, /* no closing '>' */
        {"<" TOKEN ".2>", "", 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char ret[128];
        snprintf(ret, sizeof ret, "Subject: x\r\nMessage-ID: %s", v[i].id);
        const char *r =
            report(" report-type=delivery-status; boundary=B", "message/delivery-status",
                   "Final-Recipient: rfc822;a@b.c\r\nAction: failed\r\nStatus: 4.2.2",
                   "text/rfc822-headers", ret);
        assert_int_equal(mail_dsn_parse(r, strlen(r), &d), LEAL_OK);
        assert_string_equal(d.token, v[i].token);
        assert_int_equal(d.attempt, v[i].attempt);
    }
}

static void test_refused(void **state)
{
    (void)state;
    struct mail_dsn d;
    const char *ok_ds = "Final-Recipient: rfc822;a@b.c\r\nAction: failed\r\nStatus: 5.1.1";
    const struct {
        const char *params, *dstype, *ds;
    } bad[] = {
        {" report-type=disposition-notification; boundary=B", "message/delivery-status", ok_ds},
        {" report-type=delivery-status", "message/delivery-status", ok_ds},
        {" report-type=delivery-status; boundary=B", "text/plain", ok_ds},
        {" report-type=delivery-status; boundary=B", "message/delivery-status",
         "Reporting-MTA: dns; mx"},
        {" report-type=delivery-status; boundary=B", "message/delivery-status",
         "Final-Recipient: rfc822;a@b.c\r\nAction: failed\r\nStatus: 5.1"},
        {" report-type=delivery-status; boundary=B", "message/delivery-status",
         "Final-Recipient: rfc822;a@b.c\r\nAction: bounced\r\nStatus: 5.1.1"},
        {" report-type=delivery-status; boundary=B", "message/delivery-status",
         "Final-Recipient: rfc822;a@b.c\r\nAction: failed\r\nStatus: 3.1.1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *r = report(bad[i].params, bad[i].dstype, bad[i].ds, "text/rfc822-headers",
                               "Message-ID: <" TOKEN "@s>");
        memset(&d, 0x55, sizeof d);
        assert_int_equal(mail_dsn_parse(r, strlen(r), &d), LEAL_E_DSN_MALFORMED);
        assert_string_equal(d.token, "");
        assert_string_equal(d.report_id, "");
    }
    assert_int_equal(mail_dsn_parse("", 0, &d), LEAL_E_DSN_MALFORMED);
    assert_int_equal(mail_dsn_parse("Subject: hi\n\nhello\n", 19, &d), LEAL_E_DSN_MALFORMED);
}

static void test_mbox(void **state)
{
    (void)state;
    const char *m =
        "From a@b Sat Dec  5 01:00:00 2026\nSubject: one\n\nx\nFrom here on, a body line\n"
        "\nFrom c@d Sat Dec  5 01:00:01 2026\nSubject: two\n\nx\n"
        "\r\nFrom e@f Sat\r\nSubject: three\r\n";
    size_t off = 0, start = 0, len = 0, n = strlen(m);
    char got[3][80];
    int k = 0;
    while (k < 3 && mail_mbox_next(m, n, &off, &start, &len))
        snprintf(got[k++], sizeof got[0], "%.*s", (int)len, m + start);
    assert_int_equal(k, 3);
    assert_int_equal(mail_mbox_next(m, n, &off, &start, &len), 0);
    assert_string_equal(got[0], "Subject: one\n\nx\nFrom here on, a body line\n\n");
    assert_string_equal(got[1], "Subject: two\n\nx\n\r\n");
    assert_string_equal(got[2], "Subject: three\r\n");

    /* Not an mbox: the whole file, once. */
    const char *one = "Subject: hi\n\nFrom x\n";
    off = 0;
    assert_int_equal(mail_mbox_next(one, strlen(one), &off, &start, &len), 1);
    assert_int_equal(start, 0);
    assert_int_equal(len, strlen(one));
    assert_int_equal(mail_mbox_next(one, strlen(one), &off, &start, &len), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_attempt),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_mbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
