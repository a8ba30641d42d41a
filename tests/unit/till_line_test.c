/* till_line_test.c - firmware/core/till_line: the till's tap lines into
 * terminal requests, exactly as leal-terminal tap's options build them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/till_line.h"

static void test_till_line_taps(void **state)
{
    struct terminal_request r;
    (void)state;
    assert_int_equal(till_line_request("EARN", "2350", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_EARN);
    assert_int_equal(r.amount_cents, 2350);
    assert_int_equal(r.pay_cents, 0);
    assert_int_equal(r.n_items, 0);

    assert_int_equal(till_line_request("EARN", "1000 3=320 65535=1", &r), LEAL_OK);
    assert_int_equal(r.amount_cents, 1000);
    assert_int_equal(r.n_items, 2);
    assert_int_equal(r.items[0].category, 3);
    assert_int_equal(r.items[0].quantity, 1);
    assert_int_equal(r.items[0].amount_cents, 320);
    assert_int_equal(r.items[1].category, 65535);
    assert_int_equal(r.items[1].amount_cents, 1);

    assert_int_equal(till_line_request("PAY", "300", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_PAY);
    assert_int_equal(r.pay_cents, 300);
    assert_int_equal(r.amount_cents, 0);

    assert_int_equal(till_line_request("PAYEARN", "200 1000 3=320", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_PAY_EARN);
    assert_int_equal(r.pay_cents, 200);
    assert_int_equal(r.amount_cents, 1000);
    assert_int_equal(r.n_items, 1);

    assert_int_equal(till_line_request("REDEEM", "4", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_REDEEM);
    assert_int_equal(r.item, 4);
    assert_int_equal(till_line_request("BONO", "4294967295", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_BONO);
    assert_int_equal(r.item, 4294967295u);
    /* Stamp cards are 1..4 on the line (as --stamp), 0..3 in the request. */
    assert_int_equal(till_line_request("STAMP", "1", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_STAMP);
    assert_int_equal(r.item, 0);
    assert_int_equal(till_line_request("STAMP", "4", &r), LEAL_OK);
    assert_int_equal(r.item, 3);
    assert_int_equal(till_line_request("VOID", "", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_VOID);
    assert_int_equal(till_line_request("BALANCE", "", &r), LEAL_OK);
    assert_int_equal(r.op, TERMINAL_BALANCE);
    assert_int_equal(till_line_request("EARN", "100000000", &r), LEAL_OK);
}

static void test_till_line_refusals(void **state)
{
    static const struct {
        const char *word, *args;
        leal_err err;
    } bad[] = {
        {"TOPUP", "100", LEAL_E_USAGE}, /* no till line tops up */
        {"earn", "100", LEAL_E_USAGE},  /* words are upper case */
        {"", "", LEAL_E_USAGE},
        {"EARN", "", LEAL_E_FORMAT},
        {"EARN", "0", LEAL_E_FORMAT},         /* more than 0, as --earn */
        {"EARN", "100000001", LEAL_E_FORMAT}, /* over RULES_MAX_SALE_CENTS */
        {"EARN", "12 ", LEAL_E_FORMAT},       /* a space and nothing */
        {"EARN", "12  3=1", LEAL_E_FORMAT},
        {"EARN", "12,50", LEAL_E_FORMAT}, /* cents, not euros */
        {"EARN", "-5", LEAL_E_FORMAT},
        {"EARN", "100 3=", LEAL_E_FORMAT},
        {"EARN", "100 3", LEAL_E_FORMAT},
        {"EARN", "100 0=5", LEAL_E_FORMAT},
        {"EARN", "100 65536=5", LEAL_E_FORMAT},
        {"EARN", "100 =5", LEAL_E_FORMAT},
        {"EARN", "100000000000000000000", LEAL_E_FORMAT}, /* 21 digits */
        {"PAY", "300 1000", LEAL_E_FORMAT},               /* a sale is PAYEARN's */
        {"PAY", "300 3=320", LEAL_E_FORMAT},
        {"PAYEARN", "200", LEAL_E_FORMAT},
        {"REDEEM", "0", LEAL_E_FORMAT},
        {"REDEEM", "4294967296", LEAL_E_FORMAT},
        {"REDEEM", "4 100", LEAL_E_FORMAT},
        {"STAMP", "0", LEAL_E_FORMAT},
        {"STAMP", "5", LEAL_E_FORMAT},
        {"BONO", "", LEAL_E_FORMAT},
        {"VOID", "1", LEAL_E_FORMAT},
        {"BALANCE", " ", LEAL_E_FORMAT},
    };
    struct terminal_request r;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&r, 0xA5, sizeof r);
        assert_int_equal(till_line_request(bad[i].word, bad[i].args, &r), bad[i].err);
    }
}

static void test_till_line_sixteen_categories(void **state)
{
    char args[TILL_LINE_ARGS_MAX];
    struct terminal_request r;
    size_t n = 0;
    (void)state;
    n += (size_t)snprintf(args, sizeof args, "9999");
    for (int i = 1; i <= 16; i++)
        n += (size_t)snprintf(args + n, sizeof args - n, " %d=9", i);
    assert_int_equal(till_line_request("EARN", args, &r), LEAL_OK);
    assert_int_equal(r.n_items, 16);
    assert_int_equal(r.items[15].category, 16);
    assert_true(n + 5 < sizeof args);
    snprintf(args + n, sizeof args - n, " 17=9");
    assert_int_equal(till_line_request("EARN", args, &r), LEAL_E_TOO_LARGE);
}

/* split: one line of a file or a pipe as the board reads its UART. */
static void test_till_line_split(void **state)
{
    char line[TILL_LINE_ARGS_MAX + 32];
    const char *w, *a;
    bool sp;
    (void)state;
    strcpy(line, "EARN 1000 3=320\r");
    assert_int_equal(till_line_split(line, strlen(line), &w, &a, &sp), LEAL_OK);
    assert_string_equal(w, "EARN");
    assert_string_equal(a, "1000 3=320");
    assert_true(sp);
    strcpy(line, "VOID");
    assert_int_equal(till_line_split(line, 4, &w, &a, &sp), LEAL_OK);
    assert_string_equal(w, "VOID");
    assert_string_equal(a, "");
    assert_false(sp);
    strcpy(line, "END ");
    assert_int_equal(till_line_split(line, 4, &w, &a, &sp), LEAL_OK);
    assert_string_equal(w, "END");
    assert_string_equal(a, "");
    assert_true(sp);
    strcpy(line, "\r\r"); /* a blank line: nothing to answer */
    assert_int_equal(till_line_split(line, 2, &w, &a, &sp), LEAL_OK);
    assert_string_equal(w, "");
    assert_false(sp);
    strcpy(line, " EARN 100"); /* a leading space: an empty word, as on the board */
    assert_int_equal(till_line_split(line, strlen(line), &w, &a, &sp), LEAL_OK);
    assert_string_equal(w, "");
    assert_string_equal(a, "EARN 100");
    memcpy(line, "PAY 3\0\060", 7); /* a NUL: refused, nothing split */
    assert_int_equal(till_line_split(line, 7, &w, &a, &sp), LEAL_E_FORMAT);
    assert_string_equal(w, "");
    assert_string_equal(a, "");
    /* 159 bytes of arguments fit (the board's buffer and its NUL); 160 do not. */
    memset(line, '1', sizeof line);
    memcpy(line, "EARN ", 5);
    assert_int_equal(till_line_split(line, 5 + TILL_LINE_ARGS_MAX - 1, &w, &a, &sp), LEAL_OK);
    assert_int_equal(strlen(a), TILL_LINE_ARGS_MAX - 1);
    memset(line, '1', sizeof line);
    memcpy(line, "EARN ", 5);
    assert_int_equal(till_line_split(line, 5 + TILL_LINE_ARGS_MAX, &w, &a, &sp), LEAL_E_TOO_LARGE);
    assert_string_equal(w, "EARN");
    assert_string_equal(a, "");
    memset(line, '1', sizeof line); /* a long word alone is the request's to refuse */
    assert_int_equal(till_line_split(line, 40, &w, &a, &sp), LEAL_OK);
    assert_int_equal(strlen(w), 40);
    assert_int_equal(till_line_request(w, a, &(struct terminal_request){0}), LEAL_E_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_till_line_taps),
        cmocka_unit_test(test_till_line_refusals),
        cmocka_unit_test(test_till_line_sixteen_categories),
        cmocka_unit_test(test_till_line_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
