/*
 * report_privacy_test.c - a person's export and erasure (host/privacy,
 * issue 17) on a real ledger of generated activity (tests/lib/report_gen)
 * where one customer has personal data, consents, notes, a card with a
 * blocked-then-active history, and entries. The export holds every row
 * that names them, table by table, counted against independent SQL, and
 * every table of the schema with a customer, account, card or sale column
 * is exported; after erasure their name, surname, e-mail and phone are in
 * neither the database file nor its log (searched byte by byte after the
 * VACUUM), ledger_verify passes, balances are unchanged, and a second
 * erasure or an unknown customer is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "host/ledger/ledger.h"
#include "host/privacy/privacy.h"
#include "tests/lib/report_gen.h"
#include "tests/lib/testutil.h"

#define PROGRAM 7
#define WHO 1 /* the customer index with a DESFire card */

static const char *const secrets[] = {"Zacarias", "Quintanilla", "zq.private@example.org",
                                      "600111222"};

struct fx {
    char *dir, db[512];
    struct ledger *l;
    struct report_gen g;
    int64_t id;
};

static int setup(void **state)
{
    static struct fx f;
    struct report_gen_opts o = {.program_id = PROGRAM,
                                .shops = 2,
                                .customers = 6,
                                .days = 20,
                                .entries = 200,
                                .start = INT64_C(1790812800),
                                .seed = 5,
                                .snap_day = 19};
    struct ledger_customer c;
    struct ledger_consent_change cc = {"email", true, "form", "desk", 0, NULL, NULL, NULL};
    f.dir = test_tmpdir_fast();
    snprintf(f.db, sizeof f.db, "%s/ledger.db", f.dir);
    assert_int_equal(ledger_open(f.db, &f.l), LEAL_OK);
    assert_int_equal(report_gen_run(f.l, f.db, &o, &f.g), LEAL_OK);
    f.id = f.g.cust[WHO];
    assert_int_equal(ledger_customer_get(f.l, f.id, &c), LEAL_OK);
    snprintf(c.name, sizeof c.name, "%s", secrets[0]);
    snprintf(c.surname, sizeof c.surname, "%s", secrets[1]);
    snprintf(c.email, sizeof c.email, "%s", secrets[2]);
    snprintf(c.phone, sizeof c.phone, "%s", secrets[3]);
    snprintf(c.address, sizeof c.address, "Calle Mayor 1");
    assert_int_equal(ledger_customer_update(f.l, &c), LEAL_OK);
    assert_int_equal(ledger_consent_add(f.l, f.id, &cc), LEAL_OK);
    assert_int_equal(ledger_note_add(f.l, f.id, "desk", "prefers Zacarias to Zaca", 0), LEAL_OK);
    assert_int_equal(
        ledger_card_change_status(f.l, 5000 + WHO, LEDGER_CARD_BLOCKED, "lost?", "desk"), LEAL_OK);
    assert_int_equal(
        ledger_card_change_status(f.l, 5000 + WHO, LEDGER_CARD_ACTIVE, "found", "desk"), LEAL_OK);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    report_gen_free(&f->g);
    test_rmtree(f->dir);
    free(f->dir);
    return 0;
}

static int64_t sql_int(const struct fx *f, const char *fmt, int64_t id)
{
    return test_sql_i64(f->db, -1, fmt, (long long)id);
}

static json_t *export_of(const struct fx *f, int64_t id)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    json_error_t e;
    assert_non_null(m);
    assert_int_equal(privacy_export(f->db, id, m), LEAL_OK);
    fclose(m);
    json_t *j = json_loads(buf, 0, &e);
    if (j == NULL)
        fail_msg("export is not JSON: %s", e.text);
    free(buf);
    return j;
}

static size_t rows(json_t *j, const char *table)
{
    json_t *t = json_object_get(json_object_get(j, "tables"), table);
    if (!json_is_array(t))
        fail_msg("table %s missing from the export", table);
    return json_array_size(t);
}

/* What the customer's rows are, by joins of the test's own. */
static const struct {
    const char *table, *sql;
} expect[] = {
    {"customer", "SELECT count(*) FROM customer WHERE id = %lld"},
    {"customer_pii", "SELECT count(*) FROM customer_pii WHERE customer_id = %lld"},
    {"consent", "SELECT count(*) FROM consent WHERE customer_id = %lld"},
    {"customer_note", "SELECT count(*) FROM customer_note WHERE customer_id = %lld"},
    {"account", "SELECT count(*) FROM account WHERE customer_id = %lld"},
    {"balance", "SELECT count(*) FROM balance b JOIN account a ON a.id = b.account_id WHERE "
                "a.customer_id = %lld"},
    {"card", "SELECT count(*) FROM card c JOIN account a ON a.id = c.account_id WHERE "
             "a.customer_id = %lld"},
    {"card_event", "SELECT count(*) FROM card_event v JOIN card c ON c.card_id = v.card_id JOIN "
                   "account a ON a.id = c.account_id WHERE a.customer_id = %lld"},
    {"entry", "SELECT count(DISTINCT e.id) FROM entry e JOIN line l ON l.entry_id = e.id JOIN "
              "account a ON a.id = l.account_id WHERE a.customer_id = %lld"},
    {"line", "SELECT count(*) FROM line WHERE entry_id IN (SELECT l.entry_id FROM line l JOIN "
             "account a ON a.id = l.account_id WHERE a.customer_id = %lld)"},
    {"lot", "SELECT count(*) FROM lot t JOIN account a ON a.id = t.account_id WHERE "
            "a.customer_id = %lld"},
};

/* The text export holds the same rows as the JSON one (checked above
 * against the test's own joins): the same count for every table, and the
 * person's e-mail on its own line. */
static void test_export_text(void **state)
{
    struct fx *f = *state;
    json_t *j = export_of(f, f->id);
    char *buf = NULL, line[256];
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(privacy_export_as(f->db, f->id, true, m), LEAL_OK);
    fclose(m);
    snprintf(line, sizeof line,
             "Customer %lld: everything leal holds that names them, table by "
             "table.\n",
             (long long)f->id);
    assert_memory_equal(buf, line, strlen(line));
    const char *table;
    json_t *rows_of;
    size_t tables = 0;
    json_object_foreach(json_object_get(j, "tables"), table, rows_of)
    {
        size_t n = json_array_size(rows_of);
        snprintf(line, sizeof line, "\n%s: %zu row%s\n", table, n, n == 1 ? "" : "s");
        if (!strstr(buf, line))
            fail_msg("text export lacks '%s'", line + 1);
        tables++;
    }
    /* One count line per table and nothing else at the margin. */
    size_t margin = 0;
    for (const char *p = strchr(buf, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
        margin += p[1] != ' ';
    assert_int_equal(margin, tables);
    snprintf(line, sizeof line, "\n    email: %s\n", secrets[2]);
    assert_non_null(strstr(buf, line));
    free(buf);
    json_decref(j);
}

static void test_export(void **state)
{
    struct fx *f = *state;
    json_t *j = export_of(f, f->id);
    assert_int_equal(json_integer_value(json_object_get(j, "customer")), f->id);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        int64_t want = sql_int(f, expect[i].sql, f->id);
        if ((int64_t)rows(j, expect[i].table) != want)
            fail_msg("%s: %zu rows exported, %lld name the customer", expect[i].table,
                     rows(j, expect[i].table), (long long)want);
    }
    assert_true(rows(j, "entry") > 5 && rows(j, "card_event") == 3 && rows(j, "lot") > 0);
    json_t *pii = json_array_get(json_object_get(json_object_get(j, "tables"), "customer_pii"), 0);
    assert_string_equal(json_string_value(json_object_get(pii, "email")), secrets[2]);
    /* Every table that can name a customer is in the export. */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT DISTINCT m.name FROM sqlite_master m, "
                                        "pragma_table_info(m.name) c WHERE m.type = 'table' AND "
                                        "c.name IN ('customer_id', 'account_id', 'card_id', "
                                        "'sale_id') AND m.name NOT IN ('settlement')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int tables = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        (void)rows(j, (const char *)sqlite3_column_text(st, 0));
        tables++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(tables >= 20);
    json_decref(j);
    /* Another customer's export names none of this one's personal data. */
    j = export_of(f, f->g.cust[WHO + 1]);
    char *s = json_dumps(j, 0);
    for (size_t i = 0; i < 4; i++)
        assert_null(strstr(s, secrets[i]));
    free(s);
    json_decref(j);
}

/* Whether the bytes of s are in the file at path (a missing file: no). */
static bool in_file(const char *path, const char *s)
{
    uint8_t *data = NULL;
    long n = test_read_file(path, &data);
    bool found = false;
    for (long i = 0; data && i + (long)strlen(s) <= n && !found; i++)
        found = memcmp(data + i, s, strlen(s)) == 0;
    free(data);
    return found;
}

static bool anywhere(const struct fx *f, const char *s)
{
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    return in_file(f->db, s) || in_file(wal, s);
}

static void test_erase(void **state)
{
    struct fx *f = *state;
    struct ledger_stats before, after;
    int64_t pts_before, pts_after;
    assert_int_equal(ledger_verify(f->l, &before), LEAL_OK);
    assert_int_equal(ledger_balance(f->l, f->g.acct[WHO], "PTS", &pts_before), LEAL_OK);
    for (size_t i = 0; i < 4; i++)
        assert_true(anywhere(f, secrets[i])); /* the search below can find them */
    assert_int_equal(privacy_erase(f->db, f->id, "dpo"), LEAL_OK);
    for (size_t i = 0; i < 4; i++)
        if (anywhere(f, secrets[i]))
            fail_msg("'%s' survives in the database file after erasure", secrets[i]);
    assert_false(anywhere(f, "Calle Mayor 1"));
    assert_int_equal(ledger_verify(f->l, &after), LEAL_OK);
    assert_int_equal(after.entries, before.entries);
    assert_int_equal(after.lines, before.lines);
    assert_int_equal(ledger_balance(f->l, f->g.acct[WHO], "PTS", &pts_after), LEAL_OK);
    assert_int_equal(pts_after, pts_before);
    assert_true(sql_int(f, "SELECT erased_at > 0 FROM customer WHERE id = %lld", f->id) == 1);
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM customer_note WHERE customer_id = %lld AND "
                             "author = 'dpo' AND text LIKE 'personal data erased%%'",
                             f->id),
                     1);
    assert_int_equal(
        sql_int(f, "SELECT count(*) FROM customer_note WHERE customer_id = %lld", f->id), 1);
    json_t *j = export_of(f, f->id);
    char *s = json_dumps(j, 0);
    for (size_t i = 0; i < 4; i++)
        assert_null(strstr(s, secrets[i]));
    free(s);
    json_decref(j);
    assert_int_equal(privacy_erase(f->db, f->id, "dpo"), LEAL_E_STATE);
    assert_int_equal(privacy_erase(f->db, 999999, "dpo"), LEAL_E_UNKNOWN_ID);
    FILE *m = fopen("/dev/null", "w");
    assert_int_equal(privacy_export(f->db, 999999, m), LEAL_E_UNKNOWN_ID);
    fclose(m);
}

/* sql's one text value (group_concat of ids, say); "" for NULL. */
static char *sql_text(const struct fx *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char *v = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_non_null(v);
    return v;
}

/* Each customer's last activity by the test's own query (grouped joins,
 * sign-up for those without entries); the retention cut-off set at their
 * median, so some are erased and some are not. */
#define LAST_ACTIVITY                                                                              \
    "WITH last AS (SELECT c.id, c.erased_at, CASE WHEN max(e.at) IS NULL THEN c.created_at "       \
    "ELSE max(e.at) END AS t FROM customer c LEFT JOIN account a ON a.customer_id = c.id "         \
    "LEFT JOIN line l ON l.account_id = a.id LEFT JOIN entry e ON e.id = l.entry_id "              \
    "WHERE c.program_id = 7 GROUP BY c.id) "

static void test_retention(void **state)
{
    struct fx *f = *state;
    char *cut = sql_text(f, LAST_ACTIVITY
                         "SELECT t FROM last WHERE erased_at IS NULL ORDER BY t "
                         "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM last WHERE erased_at IS NULL)");
    int64_t cutoff = strtoll(cut, NULL, 10), n = -1;
    char sql[1024];
    snprintf(sql, sizeof sql,
             LAST_ACTIVITY "SELECT group_concat(id) FROM (SELECT id FROM last WHERE erased_at IS "
                           "NULL AND t < %lld ORDER BY id)",
             (long long)cutoff);
    char *want = sql_text(f, sql);
    char *kept = sql_text(f, "SELECT group_concat(id) FROM (SELECT id FROM customer WHERE "
                             "erased_at IS NULL ORDER BY id)");
    int64_t want_n = want[0] ? 1 : 0;
    for (const char *p = want; *p; p++)
        want_n += *p == ',';
    assert_true(want_n >= 1);
    struct privacy_retention r = {PROGRAM, 2, cutoff + 2 * 365 * 86400, "retention", true};
    /* A dry run counts them and changes nothing. */
    assert_int_equal(privacy_retain(f->db, &r, &n), LEAL_OK);
    assert_int_equal(n, want_n);
    char *still = sql_text(f, "SELECT group_concat(id) FROM (SELECT id FROM customer WHERE "
                              "erased_at IS NULL ORDER BY id)");
    assert_string_equal(still, kept);
    r.dry_run = false;
    assert_int_equal(privacy_retain(f->db, &r, &n), LEAL_OK);
    assert_int_equal(n, want_n);
    /* Exactly the expected customers are erased now, beside the one test_erase erased. */
    snprintf(sql, sizeof sql,
             "SELECT group_concat(id) FROM (SELECT id FROM customer WHERE erased_at IS NOT NULL "
             "AND id != %lld ORDER BY id)",
             (long long)f->id);
    char *erased = sql_text(f, sql);
    assert_string_equal(erased, want);
    /* Their names are gone; a second run finds nobody. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM customer_pii WHERE customer_id IN (%s) AND name != ''", want);
    char *named = sql_text(f, sql);
    assert_string_equal(named, "0");
    assert_int_equal(privacy_retain(f->db, &r, &n), LEAL_OK);
    assert_int_equal(n, 0);
    r.years = 0;
    assert_int_equal(privacy_retain(f->db, &r, &n), LEAL_E_ARG);
    free(cut), free(want), free(kept), free(still), free(erased), free(named);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_export_text),
        cmocka_unit_test(test_erase),
        cmocka_unit_test(test_retention),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
