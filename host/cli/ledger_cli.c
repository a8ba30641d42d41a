/* ledger_cli.c - shared pieces of the ledger commands (see ledger_cli.h). */
#include "ledger_cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/books/books.h"
#include "host/file.h"
#include "host/books/parse.h"
#include "host/ledger/amount.h"
#include "host/ledger/ledger_host_change.h"
#include "host/ledger/ledger_user.h"

int lcli_parse(int argc, char **argv, struct lcli_opt *opts, size_t nopts, const char **pos,
               size_t *npos)
{
    size_t maxpos = *npos;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t k;
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (*npos >= maxpos)
                return cli_usage("unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        for (k = 0; k < nopts; k++)
            if (strcmp(a + 2, opts[k].name) == 0)
                break;
        if (k == nopts)
            return cli_usage("unknown option '%s'", a);
        if (opts[k].val != NULL)
            return cli_usage("option '%s' given twice", a);
        if (opts[k].is_flag) {
            opts[k].val = "1";
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage("option '%s' needs a value", a);
        opts[k].val = argv[++i];
    }
    return 0;
}

const char *lcli_get(const struct lcli_opt *opts, size_t nopts, const char *name)
{
    for (size_t k = 0; k < nopts; k++)
        if (strcmp(opts[k].name, name) == 0)
            return opts[k].val;
    return NULL;
}

int lcli_fail(const struct ledger *l, leal_err err, const char *what)
{
    const char *d = l ? ledger_errmsg(l) : "";
    if (d && d[0])
        return cli_fail(err, "%s: %s", what, d);
    return cli_fail(err, "%s", what);
}

int lcli_card_apply(struct ledger *l, const struct lcli_card_change *c)
{
    char object[48];
    struct ledger_audit_line a = {0, c->op ? c->op : "desk", c->action, object, NULL, NULL};
    leal_err err;
    snprintf(object, sizeof object, "card %lld", (long long)c->card);
    if ((err = ledger_batch_begin(l)) == LEAL_OK) {
        if ((err = c->change(l, c->card, &a, c->ctx)) == LEAL_OK && a.action != NULL)
            err = ledger_audit_add(l, &a);
        if (err == LEAL_OK)
            err = ledger_batch_commit(l);
        else
            ledger_batch_rollback(l);
    }
    return err == LEAL_OK ? 0 : lcli_fail(l, err, c->what);
}

/* The ledger's path as an error may show it: a PostgreSQL URI's password
 * (postgresql://user:PASSWORD@host/..., or password=... in its query) is
 * a secret, so it becomes "***". out and path are separate buffers. */
static void shown_path(const char *path, char *out, size_t cap)
{
    size_t n = 0;
    const char *p = path;
    const char *auth = strstr(path, "://");
    const char *end = auth ? auth + 3 + strcspn(auth + 3, "/?") : NULL;
    const char *at = NULL, *colon = NULL;
    bool uri = strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
    if (uri && auth) {
        for (const char *q = auth + 3; q < end; q++)
            if (*q == '@')
                at = q;
        for (const char *q = auth + 3; at && q < at && colon == NULL; q++)
            if (*q == ':')
                colon = q;
    }
    while (*p && n + 1 < cap) {
        const char *hide = NULL;
        if (p == colon)
            hide = at; /* ":PASSWORD" up to '@' */
        else if (uri && p > end && strncmp(p, "password=", 9) == 0 &&
                 (p[-1] == '?' || p[-1] == '&')) {
            n += (size_t)snprintf(out + n, cap - n, "password");
            if (n >= cap)
                break;
            p += 8;
            hide = p + 1 + strcspn(p + 1, "&"); /* "=VALUE" up to '&' */
        }
        if (hide) {
            n += (size_t)snprintf(out + n, cap - n, "%c***", *p);
            if (n >= cap)
                break;
            p = hide;
            continue;
        }
        out[n++] = *p++;
    }
    out[n < cap ? n : cap - 1] = '\0';
}

static int open_ledger(const char *path, bool create, struct ledger **l)
{
    struct books_where w;
    leal_err err = books_open(path, create, l, &w);
    if (err == LEAL_OK)
        return 0;
    char shown[sizeof w.path];
    shown_path(w.path, shown, sizeof shown);
    memcpy(w.path, shown, sizeof shown);
    if (w.path[0] == '\0')
        return cli_fail(err, "no default ledger path (set XDG_DATA_HOME or use --db)");
    if (err == LEAL_E_NO_LEDGER)
        return cli_error(err, CLI_EXIT_USAGE,
                         "%s: no ledger there; create one with 'leal ledger init%s%s' (or "
                         "'leal program create'), or check --db",
                         w.path, w.default_path ? "" : " --db ", w.default_path ? "" : w.path);
    if (w.why[0])
        return cli_fail(err, "%s: %s", w.path, w.why);
    return cli_fail(err, "%s", w.path);
}

int lcli_open(const char *path, struct ledger **l)
{
    return open_ledger(path, false, l);
}

int lcli_create(const char *path, struct ledger **l)
{
    return open_ledger(path, true, l);
}

leal_err lcli_id(const char *s, int64_t *v)
{
    return books_parse_id(s, v);
}

leal_err lcli_date(const char *s, int64_t *t)
{
    return books_parse_date(s, t);
}

leal_err lcli_amount(const char *asset, const char *s, int64_t *v)
{
    *v = 0;
    if (s == NULL)
        return LEAL_E_AMOUNT;
    if (strcmp(asset, "EUR") == 0)
        return amount_parse(s, strlen(s), v);
    return amount_parse_units(s, strlen(s), v);
}

void lcli_amount_str(const char *asset, int64_t v, char *out, size_t cap)
{
    if (strcmp(asset, "EUR") == 0 && amount_format(v, out, cap) == LEAL_OK)
        return;
    snprintf(out, cap, "%lld", (long long)v);
}

void lcli_time_str(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)t);
}

void lcli_time_str_tz(int64_t t, const char *tz, char *out, size_t cap)
{
    char saved[256];
    const char *old = getenv("TZ");
    time_t tt = (time_t)t;
    struct tm tm;
    int ok;
    if (tz == NULL || tz[0] == '\0' || ledger_timezone_check(tz) != LEAL_OK) {
        lcli_time_str(t, out, cap);
        return;
    }
    snprintf(saved, sizeof saved, "%s", old ? old : "");
    if (setenv("TZ", tz, 1) != 0) {
        lcli_time_str(t, out, cap);
        return;
    }
    tzset();
    ok = localtime_r(&tt, &tm) != NULL && strftime(out, cap, "%Y-%m-%d %H:%M %Z", &tm) != 0;
    if (old)
        (void)setenv("TZ", saved, 1);
    else
        (void)unsetenv("TZ");
    tzset();
    if (!ok)
        lcli_time_str(t, out, cap);
}

void lcli_host_change_print(const struct ledger_host_change *c, bool json, const char *sep)
{
    char why[320];
    const char *state = ledger_host_change_why(c, why, sizeof why);
    if (!json) {
        printf("%s card %lld: %+lld points (%lld entr%s, to entry %lld), %s: %s\n", sep,
               (long long)c->card_id, (long long)c->points, (long long)c->entries,
               c->entries == 1 ? "y" : "ies", (long long)c->upto_entry, state, why);
        return;
    }
    printf("%s{\"card_id\":%lld,\"points\":%lld,\"entries\":%lld,\"upto_entry\":%lld,"
           "\"taps\":%lld,\"sent_taps\":",
           sep, (long long)c->card_id, (long long)c->points, (long long)c->entries,
           (long long)c->upto_entry, (long long)c->taps);
    if (c->sent_taps >= 0)
        printf("%lld", (long long)c->sent_taps);
    else
        fputs("null", stdout);
    printf(",\"seen_taps\":%lld,\"state\":\"%s\",\"error\":", (long long)c->seen_taps, state);
    if (c->doubt)
        cli_json_string(stdout, leal_errname(LEAL_E_HOST_CHANGE_DOUBT));
    else
        fputs("null", stdout);
    fputs(",\"why\":", stdout);
    cli_json_string(stdout, why);
    putchar('}');
}

int lcli_open_path(const char *path, struct ledger **l, char *out, size_t cap)
{
    int rc;
    if (path == NULL && getenv("LEAL_DB") && getenv("LEAL_DB")[0])
        path = getenv("LEAL_DB"); /* as books_open takes it */
    rc = lcli_open(path, l);
    if (rc != 0)
        return rc;
    if (path) {
        snprintf(out, cap, "%s", path);
        return 0;
    }
    if (file_default_path("ledger.db", out, cap) != LEAL_OK)
        return cli_fail(LEAL_E_NOT_FOUND, "no default ledger path (set XDG_DATA_HOME or use --db)");
    return 0;
}
