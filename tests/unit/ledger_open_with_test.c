/* ledger_open_with_test.c - host/ledger: the crypto provider a ledger hashes
 * entries with is the one it is given (ledger_open_with), and the entries it
 * writes replay under the OpenSSL provider that ledger_open uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/ledger/ledger.h"
#include "keys/crypto.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

static int sha_calls;

static leal_err counting_sha256(const uint8_t *msg, size_t len, uint8_t digest[32])
{
    sha_calls++;
    return crypto_openssl()->sha256(msg, len, digest);
}

static struct crypto_provider counting;

static int setup(void **state)
{
    char *dir = test_tmpdir();
    counting = *crypto_openssl();
    counting.name = "counting";
    counting.sha256 = counting_sha256;
    sha_calls = 0;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state;
    test_rmtree(dir);
    free(dir);
    return 0;
}

static void test_ledger_open_with_refuses_a_missing_provider(void **state)
{
    char path[512], why[128] = "x";
    struct ledger *l = (struct ledger *)&path;
    struct ledger_open_options o = {.crypto = NULL, .why = why, .why_cap = sizeof why};
    snprintf(path, sizeof path, "%s/ledger.db", (char *)*state);
    assert_int_equal(ledger_open_with(path, &o, &l), LEAL_E_ARG);
    assert_null(l);
    assert_string_equal(why, "");
    assert_int_not_equal(access(path, F_OK), 0); /* nothing created */
    counting.sha256 = NULL;
    o.crypto = &counting;
    l = (struct ledger *)&path;
    assert_int_equal(ledger_open_with(path, &o, &l), LEAL_E_ARG);
    assert_null(l);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_ledger_open_with_must_exist_refuses_a_missing_file(void **state)
{
    char path[512];
    struct ledger *l = NULL;
    struct ledger_open_options o = {.crypto = &counting, .must_exist = true};
    snprintf(path, sizeof path, "%s/none.db", (char *)*state);
    assert_int_equal(ledger_open_with(path, &o, &l), LEAL_E_NO_LEDGER);
    assert_null(l);
    assert_int_not_equal(access(path, F_OK), 0);
}

/* Ten points to a customer's account from the program's points_issued. */
static leal_err earn(struct ledger *l, int64_t program, int64_t acct, int64_t *id, bool *replayed)
{
    struct ledger_line lines[2];
    struct ledger_entry e;
    int64_t issued;
    leal_err err = ledger_program_account(l, program, "points_issued", &issued);
    if (err != LEAL_OK)
        return err;
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0].account_id = acct;
    lines[0].amount = 10;
    lines[1].account_id = issued;
    lines[1].amount = -10;
    snprintf(lines[0].asset, sizeof lines[0].asset, "PTS");
    snprintf(lines[1].asset, sizeof lines[1].asset, "PTS");
    e.program_id = program;
    e.kind = "adjust";
    e.at = 1764547200;
    e.request_id = "desk:seam-1";
    e.operator_name = "Marta";
    e.reason = "welcome";
    e.lines = lines;
    e.nlines = 2;
    return ledger_post(l, &e, id, replayed);
}

static void test_ledger_open_with_hashes_entries_with_the_given_provider(void **state)
{
    char path[512];
    struct ledger *l = NULL;
    struct ledger_open_options o = {.crypto = &counting};
    struct ledger_program p = {.code = "cafe", .name = "Café Sol", .kind = LEDGER_PROGRAM_SINGLE};
    struct ledger_customer c;
    int64_t program, customer, acct, id1, id2, id3, pts;
    bool replayed;
    snprintf(path, sizeof path, "%s/ledger.db", (char *)*state);
    assert_int_equal(ledger_open_with(path, &o, &l), LEAL_OK);
    assert_int_equal(ledger_program_create(l, &p, &program), LEAL_OK);
    memset(&c, 0, sizeof c);
    c.program_id = program;
    snprintf(c.name, sizeof c.name, "Alicia");
    assert_int_equal(ledger_customer_add(l, &c, &customer, &acct), LEAL_OK);
    assert_int_equal(sha_calls, 0);
    assert_int_equal(earn(l, program, acct, &id1, &replayed), LEAL_OK);
    assert_false(replayed);
    assert_int_equal(sha_calls, 1);
    assert_int_equal(earn(l, program, acct, &id2, &replayed), LEAL_OK);
    assert_true(replayed);
    assert_int_equal(id2, id1);
    assert_int_equal(sha_calls, 2);
    ledger_close(l);

    /* The same content hashed by OpenSSL through ledger_open: the same entry. */
    assert_int_equal(ledger_open(path, &l), LEAL_OK);
    assert_int_equal(earn(l, program, acct, &id3, &replayed), LEAL_OK);
    assert_true(replayed);
    assert_int_equal(id3, id1);
    assert_int_equal(sha_calls, 2);
    assert_int_equal(ledger_balance(l, acct, "PTS", &pts), LEAL_OK);
    assert_int_equal(pts, 10);
    ledger_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ledger_open_with_refuses_a_missing_provider, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_open_with_must_exist_refuses_a_missing_file,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ledger_open_with_hashes_entries_with_the_given_provider, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
