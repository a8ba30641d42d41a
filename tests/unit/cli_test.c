/* cli_test.c - host/cli/cli.c's exit-code map (cli.h: 0 success, 1 an
 * operational failure, 2 bad usage or bad input): every rules engine error
 * (LEAL_E_RULES_*) decided one by one, beside the ledger and card errors it
 * is consistent with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "host/cli/cli.h"

static void test_rules_errors_exit_codes(void **state)
{
    (void)state;
    /* What was asked does not hold: bad input, 2. */
    assert_int_equal(cli_exit_code(LEAL_E_RULES_PROGRAM), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_SALE), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_POINTS), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_TIER), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_REWARD), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_BONO_EMPTY), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_BONO_EXPIRED), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_REFUND), CLI_EXIT_USAGE);
    /* Not the user's input: 1. */
    assert_int_equal(cli_exit_code(LEAL_E_RULES_CARD_FULL), CLI_EXIT_FAIL);
    assert_int_equal(cli_exit_code(LEAL_E_RULES_FORMAT_VERSION), CLI_EXIT_FAIL);
}

/* The map's anchors the rules codes follow. */
static void test_the_rest_of_the_map(void **state)
{
    (void)state;
    assert_int_equal(cli_exit_code(LEAL_OK), CLI_EXIT_OK);
    assert_int_equal(cli_exit_code(LEAL_E_INSUFFICIENT_FUNDS), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_UNKNOWN_ID), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_USAGE), CLI_EXIT_USAGE);
    assert_int_equal(cli_exit_code(LEAL_E_DB_BUSY), CLI_EXIT_FAIL);
    assert_int_equal(cli_exit_code(LEAL_E_CARD_BOUNDARY), CLI_EXIT_FAIL);
    assert_int_equal(cli_exit_code(LEAL_E_VERSION), CLI_EXIT_FAIL);
    assert_int_equal(cli_exit_code(LEAL_E_PACKAGE_FORMAT_VERSION), CLI_EXIT_FAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_errors_exit_codes),
        cmocka_unit_test(test_the_rest_of_the_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
