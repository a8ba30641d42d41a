/* books_test.c - host/books: ids and dates as people type them, and the
 * CSV import's refusals, batches and replays against a real ledger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/books/books.h"
#include "host/books/import.h"
#include "host/books/parse.h"
#include "tests/lib/testutil.h"

static void test_books_parse_id(void **state)
{
    int64_t v = -1;
    (void)state;
    assert_int_equal(books_parse_id("42", &v), LEAL_OK);
    assert_int_equal(v, 42);
    assert_int_equal(books_parse_id("9223372036854775806", &v), LEAL_OK);
    assert_true(v == INT64_MAX - 1);
    static const char *const bad[] = {"0", "-1", "+1", " 1", "1 ", "1x", "", "9223372036854775807"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(books_parse_id(bad[i], &v), LEAL_E_NUMBER);
        assert_int_equal(v, 0);
    }
    assert_int_equal(books_parse_id(NULL, &v), LEAL_E_NUMBER);
}

static void test_books_parse_date(void **state)
{
    int64_t t = -1;
    (void)state;
    assert_int_equal(books_parse_date("1970-01-01", &t), LEAL_OK);
    assert_int_equal(t, 0);
    assert_int_equal(books_parse_date("2024-02-29", &t), LEAL_OK);
    assert_int_equal(t, 1709164800);
    assert_int_equal(books_parse_date("2026-12-31", &t), LEAL_OK);
    assert_int_equal(t, 1798675200);
    static const char *const bad[] = {"2026-02-29",
                                      "1900-02-29",
                                      "2026-04-31",
                                      "2026-13-01",
                                      "2026-00-10",
                                      "1969-12-31",
                                      "2026-1-01",
                                      "2026/01/01",
                                      "2026-01-01x",
                                      "20a6-01-01",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(books_parse_date(bad[i], &t), LEAL_E_DATE);
        assert_int_equal(t, 0);
    }
}

struct seen {
    char log[512];
};

static void committed(void *ctx, int64_t n)
{
    struct seen *s = ctx;
    size_t k = strlen(s->log);
    snprintf(s->log + k, sizeof s->log - k, "c%lld ", (long long)n);
}

static void refused(void *ctx, const struct books_import_refusal *r)
{
    struct seen *s = ctx;
    size_t k = strlen(s->log);
    snprintf(s->log + k, sizeof s->log - k, "r%lld:%d:%s:%d ", (long long)r->lineno, (int)r->err,
             r->why, r->ledger_said);
}

/* Imports text into the ledger at dir; the events as a string in s. */
static leal_err import_text(const char *path, const char *text, int64_t batch,
                            struct books_import_result *res, struct seen *s)
{
    struct books_where w;
    struct books_import_events ev = {s, committed, refused};
    struct ledger *l;
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    leal_err err;
    memset(s, 0, sizeof *s);
    assert_non_null(f);
    assert_int_equal(books_open(path, false, &l, &w), LEAL_OK);
    err = books_import(l, f, batch, &ev, res);
    fclose(f);
    ledger_close(l);
    return err;
}

static void test_books_import(void **state)
{
    char *dir = test_tmpdir(), path[512];
    struct ledger_program p = {.code = "imp",
                               .name = "Import",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .points_per_euro_milli = 1000};
    struct books_where w;
    struct books_import_result res = {0};
    struct seen s = {{0}};
    struct ledger *l;
    int64_t prog, a1, a2;
    (void)state;
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    assert_int_equal(books_open(path, false, &l, &w), LEAL_E_NO_LEDGER);
    assert_false(w.default_path);
    assert_string_equal(w.path, path);
    assert_int_equal(books_open(path, true, &l, &w), LEAL_OK);
    assert_int_equal(ledger_program_create(l, &p, &prog), LEAL_OK);
    assert_int_equal(ledger_account_add(l, prog, 0, &a1), LEAL_OK);
    assert_int_equal(ledger_account_add(l, prog, 0, &a2), LEAL_OK);
    ledger_close(l);
    assert_int_equal(a1, 11);
    assert_int_equal(a2, 12);

    /* Batches of 2: lines 1-2 commit; line 4 (bad fields) stops the posting,
     * line 3's batch is rolled back, line 5 is only checked. */
    assert_int_equal(import_text(path,
                                 "a1,11,2,EUR,100,t,op\na2,12,2,PTS,5,t,op\n\na3,11,2,EUR,1,t,op\n"
                                 "a4,x,2,EUR,1,t,op\na5,11,2,EUR,1,t\n",
                                 2, &res, &s),
                     LEAL_OK);
    assert_string_equal(s.log, "c2 r5:302:account ids are whole numbers:0 "
                               "r6:11:expected 7 comma-separated fields:0 ");
    assert_int_equal(res.imported, 2);
    assert_int_equal(res.replays, 0);
    assert_int_equal(res.refused, 2);
    assert_int_equal(res.first_refused, 5);
    /* Again with the lines fixed: the first two are replays. */
    assert_int_equal(import_text(path,
                                 "a1,11,2,EUR,100,t,op\na2,12,2,PTS,5,t,op\na3,11,2,EUR,1,t,op\n",
                                 2, &res, &s),
                     LEAL_OK);
    assert_string_equal(s.log, "c2 c3 ");
    assert_int_equal(res.imported, 3);
    assert_int_equal(res.replays, 2);
    assert_int_equal(res.refused, 0);
    /* The ledger refuses a post: its detail is the ledger's. */
    assert_int_equal(import_text(path, "a9,11,2,EUR,-500,t,op\n", 2, &res, &s), LEAL_OK);
    assert_int_equal(res.refused, 1);
    assert_int_equal(res.imported, 0);
    assert_non_null(strstr(s.log, "r1:"));
    assert_non_null(strstr(s.log, "::1 "));
    test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_books_parse_id),
        cmocka_unit_test(test_books_parse_date),
        cmocka_unit_test(test_books_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
