/* ledger_log_test.c - host/ledger records SQLite's own error text in the log
 * (host/log) where an SQLite error becomes a leal_err: a file that is not a
 * database and a foreign-key constraint each reach the sink as one line with
 * SQLite's extended result code, its message and the leal_err it became. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/ledger/ledger.h"
#include "host/log/log.h"
#include "keys/base/err.h"
#include "tests/lib/testutil.h"

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

static int setup(void **state)
{
    *state = test_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state;
    log_set_sink(NULL, NULL, LOG_NONE, 0);
    test_rmtree(dir);
    free(dir);
    return 0;
}

static void test_ledger_log_not_a_database(void **state)
{
    struct captured c = {0};
    char path[512], want[512], why[256] = "";
    struct ledger *l = NULL;
    FILE *f;
    snprintf(path, sizeof path, "%s/junk.db", (char *)*state);
    f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc('x', f);
    assert_int_equal(fclose(f), 0);

    log_set_sink(capture, &c, LOG_DEBUG, 0);
    assert_int_equal(ledger_open_why(path, &l, why, sizeof why), LEAL_E_DB_NOT_LEAL);
    assert_null(l);
    /* SQLITE_NOTADB is 26; its text is SQLite's own. */
    snprintf(want, sizeof want, "debug|sqlite|result code 26: file is not a database -> %s\n",
             leal_strerror(LEAL_E_DB_NOT_LEAL));
    assert_string_equal(c.text, want);
    assert_int_equal(c.lines, 1);
}

static void test_ledger_log_constraint(void **state)
{
    struct captured c = {0};
    char path[512], want[512];
    struct ledger *l = NULL;
    const struct ledger_consent_change consent = {"sms", true, "form", "Marta",
                                                  0,     NULL, NULL,   NULL};
    snprintf(path, sizeof path, "%s/ledger.db", (char *)*state);
    assert_int_equal(ledger_open(path, &l), LEAL_OK);

    /* Below LOG_DEBUG the text is not recorded: the sink hears nothing. */
    log_set_sink(capture, &c, LOG_INFO, 0);
    assert_int_equal(ledger_consent_add(l, 999, &consent), LEAL_E_UNKNOWN_ID);
    assert_int_equal(c.lines, 0);

    log_set_sink(capture, &c, LOG_DEBUG, 0);
    assert_int_equal(ledger_consent_add(l, 999, &consent), LEAL_E_UNKNOWN_ID);
    /* SQLITE_CONSTRAINT_FOREIGNKEY is 787. */
    snprintf(want, sizeof want,
             "debug|sqlite|result code 787: FOREIGN KEY constraint failed -> %s\n",
             leal_strerror(LEAL_E_UNKNOWN_ID));
    assert_string_equal(c.text, want);
    assert_int_equal(c.lines, 1);
    /* What the CLI prints is unchanged: the ledger's own detail. */
    assert_string_equal(ledger_errmsg(l), "customer 999");
    ledger_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ledger_log_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_log_constraint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
