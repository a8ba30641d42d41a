/* testutil.c - helpers for unit tests. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        int v;
        if (*hex == ' ' || *hex == '\t')
            continue;
        if ((v = hexval(*hex)) < 0)
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (long)n : -1;
}

void hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int vectors_load(const char *name, struct vector_record **out)
{
    char path[512], line[VECTORS_MAX_VALUE + 64];
    struct vector_record *recs = NULL;
    int n = 0, open_rec = 0;
    FILE *f;

    snprintf(path, sizeof path, "tests/vectors/%s", name);
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open vector file %s (run tests from the repository root)", path);
    while (fgets(line, sizeof line, f)) {
        char *eq, *nm, *val, *end;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#')
            continue;
        if (line[0] == '\0') {
            open_rec = 0;
            continue;
        }
        eq = strchr(line, '=');
        if (eq == NULL)
            fail_msg("%s: line without '=': %s", path, line);
        *eq = '\0';
        nm = line;
        val = eq + 1;
        while (*nm == ' ')
            nm++;
        for (end = eq - 1; end >= nm && *end == ' '; end--)
            *end = '\0';
        while (*val == ' ')
            val++;
        if (!open_rec) {
            struct vector_record *grown = realloc(recs, sizeof *recs * (size_t)(n + 1));
            assert_non_null(grown);
            recs = grown;
            memset(&recs[n], 0, sizeof recs[n]);
            n++;
            open_rec = 1;
        }
        {
            struct vector_record *r = &recs[n - 1];
            assert_true(r->nfields < VECTORS_MAX_FIELDS);
            snprintf(r->names[r->nfields], sizeof r->names[0], "%.31s", nm);
            snprintf(r->values[r->nfields], sizeof r->values[0], "%.4095s", val);
            r->nfields++;
        }
    }
    fclose(f);
    if (n == 0)
        fail_msg("%s has no records", path);
    *out = recs;
    return n;
}

const char *vectors_str(const struct vector_record *r, const char *name)
{
    for (int i = 0; i < r->nfields; i++)
        if (strcmp(r->names[i], name) == 0)
            return r->values[i];
    fail_msg("vector record has no field %s", name);
    return NULL;
}

size_t vectors_hex(const struct vector_record *r, const char *name, uint8_t *out, size_t cap)
{
    long n = hex_decode(vectors_str(r, name), out, cap);
    if (n < 0)
        fail_msg("field %s is not hex or too long", name);
    return (size_t)n;
}

char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/leal-test-XXXXXX";
    char *p = mkdtemp(tmpl);
    assert_non_null(p);
    return strdup(p);
}

void test_clear_of_midnight(unsigned secs)
{
    time_t now = time(NULL);
    time_t next = (now / 86400 + 1) * 86400;
    if (next - now > (time_t)secs)
        return;
    print_message("# UTC midnight in %lld s: waiting for it to pass\n", (long long)(next - now));
    while ((now = time(NULL)) < next)
        sleep((unsigned)(next - now));
}

char *test_tmpdir_fast(void)
{
    char tmpl[] = "/dev/shm/leal-test-XXXXXX";
    char *p = mkdtemp(tmpl);
    return p ? strdup(p) : test_tmpdir();
}

void test_rmtree(const char *path)
{
    char cmd[600];
    if (path == NULL || (strncmp(path, "/tmp/leal-test-", 15) != 0 &&
                         strncmp(path, "/dev/shm/leal-test-", 19) != 0))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", path);
}

long test_read_file(const char *path, uint8_t **out)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n + 1);
    if (*out == NULL || fread(*out, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    return n;
}

int64_t test_sql_i64(const char *db, int64_t none, const char *fmt, ...)
{
    char sql[1024];
    sqlite3 *h;
    sqlite3_stmt *st;
    int64_t v = none;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}
