/* segment_test.c - host/ledger/ledger_segment.h's query builder: no filter
 * is the base query over the program's customers; each filter adds exactly
 * its clause with its value as the next parameter (never pasted into the
 * SQL); every filter at once numbers ?1..?13 in order; filters that do not
 * hold are refused before any SQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/ledger/ledger_segment.h"

#define NOW 1796000000LL
#define DAY 86400

static struct ledger_segment seg(void)
{
    struct ledger_segment s;
    memset(&s, 0, sizeof s);
    s.program_id = 7;
    snprintf(s.name, sizeof s.name, "lapsed-vip_2.0");
    return s;
}

static const char *tail_of(const char *sql)
{
    const char *w = strstr(sql, ") m LEFT JOIN customer_pii p ON p.customer_id = m.id WHERE 1 = 1");
    assert_non_null(w);
    return w + strlen(") m LEFT JOIN customer_pii p ON p.customer_id = m.id WHERE 1 = 1");
}

static void test_no_filter_is_the_program_not_erased(void **state)
{
    (void)state;
    struct ledger_segment s = seg();
    struct ledger_segment_sql q;
    assert_int_equal(ledger_segment_sql(&s, NOW, &q), LEAL_OK);
    assert_int_equal(q.n, 1);
    assert_false(q.param[0].text);
    assert_int_equal(q.param[0].i, 7);
    assert_non_null(strstr(q.sql, "WHERE cu.program_id = ?1 AND cu.erased_at IS NULL"));
    assert_string_equal(tail_of(q.sql), " ORDER BY m.id");
    assert_null(strstr(q.sql, "?2"));
}

/* Each filter alone: its clause, and its values as ?2, ?3, ... */
static void test_each_filter_adds_its_clause(void **state)
{
    (void)state;
    const struct {
        unsigned has;
        const char *clause_start;
        int n;
        int64_t v[3];
    } cases[] = {
        {LEDGER_SEG_TIER, " AND m.tier = ?2 ORDER BY m.id", 2, {2}},
        {LEDGER_SEG_STORE, " AND EXISTS (SELECT 1 FROM account a", 2, {3}},
        {LEDGER_SEG_VISIT_BEFORE, " AND m.last_visit < ?2 ORDER BY m.id", 2, {1790000000}},
        {LEDGER_SEG_VISIT_AFTER, " AND m.last_visit >= ?2 ORDER BY m.id", 2, {1780000000 + DAY}},
        {LEDGER_SEG_SPEND,
         " AND (SELECT coalesce(sum(e.spend_cents), 0)",
         4,
         {NOW - 30 * DAY, NOW, 5000}},
        {LEDGER_SEG_POINTS_ABOVE, " AND m.points > ?2 ORDER BY m.id", 2, {-5}},
        {LEDGER_SEG_POINTS_BELOW, " AND m.points < ?2 ORDER BY m.id", 2, {100}},
        {LEDGER_SEG_BIRTHDAY,
         " AND CASE WHEN length(p.birth_date) = 10 THEN CAST(substr(p.birth_date, 6, 2) "
         "AS INTEGER) END = ?2 ORDER BY m.id",
         2,
         {12}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_segment s = seg();
        struct ledger_segment_sql q;
        s.has = cases[i].has;
        s.tier = 2;
        s.store_id = 3;
        s.visit_before = 1790000000;
        s.visit_after = 1780000000;
        s.spend_min_cents = 5000;
        s.spend_window_days = 30;
        s.points_above = -5;
        s.points_below = 100;
        s.birthday_month = 12;
        assert_int_equal(ledger_segment_sql(&s, NOW, &q), LEAL_OK);
        assert_int_equal(q.n, cases[i].n);
        assert_int_equal(
            strncmp(tail_of(q.sql), cases[i].clause_start, strlen(cases[i].clause_start)), 0);
        for (int k = 1; k < q.n; k++) {
            assert_false(q.param[k].text);
            assert_int_equal(q.param[k].i, cases[i].v[k - 1]);
        }
    }
}

static void test_every_filter_numbers_its_parameters_in_order(void **state)
{
    (void)state;
    struct ledger_segment s = seg();
    struct ledger_segment_sql q;
    char mark[16];
    s.has = LEDGER_SEG_TIER | LEDGER_SEG_STORE | LEDGER_SEG_VISIT_BEFORE | LEDGER_SEG_VISIT_AFTER |
            LEDGER_SEG_SPEND | LEDGER_SEG_POINTS_ABOVE | LEDGER_SEG_POINTS_BELOW |
            LEDGER_SEG_BIRTHDAY | LEDGER_SEG_CONSENT | LEDGER_SEG_TAG;
    s.tier = 1;
    s.store_id = 4;
    s.visit_before = 1790000000;
    s.visit_after = 1780000000;
    s.spend_min_cents = 0;
    s.spend_window_days = 3660;
    s.points_above = 10;
    s.points_below = 12;
    s.birthday_month = 1;
    snprintf(s.consent, sizeof s.consent, "whatsapp");
    snprintf(s.tag, sizeof s.tag, "zz-Tag.9");
    assert_int_equal(ledger_segment_sql(&s, NOW, &q), LEAL_OK);
    assert_int_equal(q.n, 13);
    const int64_t want[] = {7, 1,  4,  1790000000, 1780000000 + DAY, NOW - 3660LL * DAY, NOW,
                            0, 10, 12, 1};
    for (int k = 0; k < 11; k++) {
        assert_false(q.param[k].text);
        assert_int_equal(q.param[k].i, want[k]);
    }
    assert_true(q.param[11].text);
    assert_string_equal(q.param[11].s, "whatsapp");
    assert_true(q.param[12].text);
    assert_string_equal(q.param[12].s, "zz-Tag.9");
    /* Values are parameters only: neither text is in the SQL. */
    assert_null(strstr(q.sql, "whatsapp"));
    assert_null(strstr(q.sql, "zz-Tag"));
    /* ?1..?13 each once, in order; no ?14. */
    const char *at = q.sql;
    for (int k = 1; k <= 13; k++) {
        snprintf(mark, sizeof mark, "?%d", k);
        const char *p = strstr(at, mark);
        assert_non_null(p);
        at = p + strlen(mark);
    }
    assert_null(strstr(q.sql, "?14"));
    assert_string_equal(q.sql + strlen(q.sql) - strlen(" ORDER BY m.id"), " ORDER BY m.id");
}

static void test_filters_that_do_not_hold_are_refused(void **state)
{
    (void)state;
    for (int i = 0; i < 13; i++) {
        struct ledger_segment s = seg();
        struct ledger_segment_sql q;
        char why[160] = "";
        switch (i) {
        case 0:
            s.name[0] = '\0';
            break;
        case 1:
            snprintf(s.name, sizeof s.name, "a b");
            break;
        case 2:
            s.program_id = 0;
            break;
        case 3:
            s.has = LEDGER_SEG_TIER;
            s.tier = 256;
            break;
        case 4:
            s.has = LEDGER_SEG_STORE;
            break;
        case 5: /* after day D and before day D + 1: no day between */
            s.has = LEDGER_SEG_VISIT_BEFORE | LEDGER_SEG_VISIT_AFTER;
            s.visit_after = 1780000000;
            s.visit_before = 1780000000 + DAY;
            break;
        case 6:
            s.has = LEDGER_SEG_SPEND;
            s.spend_window_days = 0;
            break;
        case 7:
            s.has = LEDGER_SEG_SPEND;
            s.spend_min_cents = -1;
            s.spend_window_days = 1;
            break;
        case 8: /* above 10 and below 11: no whole number between */
            s.has = LEDGER_SEG_POINTS_ABOVE | LEDGER_SEG_POINTS_BELOW;
            s.points_above = 10;
            s.points_below = 11;
            break;
        case 9:
            s.has = LEDGER_SEG_BIRTHDAY;
            s.birthday_month = 13;
            break;
        case 10:
            s.has = LEDGER_SEG_CONSENT;
            snprintf(s.consent, sizeof s.consent, "fax");
            break;
        case 11:
            s.has = LEDGER_SEG_TAG;
            snprintf(s.tag, sizeof s.tag, "o'neil");
            break;
        default:
            s.has = LEDGER_SEG_TAG;
            break;
        }
        assert_int_equal(ledger_segment_check(&s, why, sizeof why), LEAL_E_SEGMENT_FILTER);
        assert_true(strlen(why) > 10);
        assert_int_equal(ledger_segment_sql(&s, NOW, &q), LEAL_E_SEGMENT_FILTER);
        assert_string_equal(q.sql, "");
        assert_int_equal(q.n, 0);
    }
}

static void test_words(void **state)
{
    (void)state;
    char long_name[LEDGER_SEGMENT_NAME + 1];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[LEDGER_SEGMENT_NAME] = '\0';
    assert_true(ledger_segment_word_ok("vip", LEDGER_SEGMENT_TAG));
    assert_true(ledger_segment_word_ok("A-z_0.9", LEDGER_SEGMENT_TAG));
    assert_false(ledger_segment_word_ok("", LEDGER_SEGMENT_TAG));
    assert_false(ledger_segment_word_ok("sin gluten", LEDGER_SEGMENT_TAG));
    assert_false(ledger_segment_word_ok("caf\xc3\xa9", LEDGER_SEGMENT_TAG));
    assert_false(ledger_segment_word_ok(long_name, LEDGER_SEGMENT_NAME));
    long_name[LEDGER_SEGMENT_NAME - 1] = '\0'; /* 63 bytes: the most a name has */
    assert_true(ledger_segment_word_ok(long_name, LEDGER_SEGMENT_NAME));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_filter_is_the_program_not_erased),
        cmocka_unit_test(test_each_filter_adds_its_clause),
        cmocka_unit_test(test_every_filter_numbers_its_parameters_in_order),
        cmocka_unit_test(test_filters_that_do_not_hold_are_refused),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
