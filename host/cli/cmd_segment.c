/* cmd_segment.c - `leal segment add|list|show|count|export` (saved filters
 * over a program's customers, host/ledger/ledger_segment.h) and `leal
 * customer tag|untag`. Exports are written as `leal report` writes its
 * files (host/report/report_out.h): CSV after RFC 4180 or an .xlsx
 * workbook, whole or not at all, mode 0600. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/file.h"
#include "host/ledger/ledger_segment.h"
#include "host/report/report.h"
#include "host/report/report_out.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_SECONDS 86400

static const char help[] =
    "usage: leal segment add NAME --program ID [FILTERS] [--db PATH] [--json]\n"
    "       leal segment list --program ID [--db PATH] [--json]\n"
    "       leal segment show NAME [--program ID] [--db PATH] [--json]\n"
    "       leal segment count (NAME | --program ID [FILTERS]) [--db PATH] [--json]\n"
    "       leal segment export NAME --purpose email|sms|analysis|profiling [--fields F,...]\n"
    "                           (--csv FILE | --xlsx FILE) [--program ID] [--db PATH] [--json]\n"
    "A segment is a saved filter over a program's customers; show and count give how many\n"
    "customers match now. Erased customers never match. FILTERS (all optional, ANDed):\n"
    "  --tier N                 the tier their newest sale (not voided) left them in\n"
    "                           (0: none)\n"
    "  --store ID               they visited that store\n"
    "  --last-visit-before D    their last visit was before day D (YYYY-MM-DD, UTC)\n"
    "  --last-visit-after D     their last visit was after day D\n"
    "  --spend-min EUR --spend-window DAYS\n"
    "                           at least EUR spent in sales made with a card or QR code\n"
    "                           in the last DAYS days (voided sales left out)\n"
    "  --points-above N         more than N points; --points-below N: fewer than N\n"
    "  --birthday-month M       born in month M (1..12)\n"
    "  --consent CHANNEL        their latest marketing consent for email, sms, phone,\n"
    "                           post or whatsapp is a grant\n"
    "  --tag TAG                tagged TAG (leal customer tag CUSTOMER TAG)\n"
    "A visit is a sale, a payment, a top-up or a redemption on their account.\n"
    "export writes the customers with the fields named (id,name,email,phone,points,tier,\n"
    "store,last_visit; store and last_visit are the last visit's) and only those the\n"
    "purpose allows: email, those whose latest marketing consent by e-mail is a grant and\n"
    "who have an address (default fields id,name,email; never phone); sms, the same for\n"
    "SMS and a phone (id,name,phone; never email); analysis, everyone, without personal fields\n"
    "(id, name, email, phone) unless --fields names them (default points,tier,store,\n"
    "last_visit); profiling, those whose latest profiling consent on some channel is a grant\n"
    "(default id,points,tier,store,last_visit). Files are replaced whole, mode 0600.\n"
    "       leal customer tag CUSTOMER TAG | leal customer untag CUSTOMER TAG [--db PATH]\n"
    "Tags are 1 to 32 letters, digits, '_', '.' or '-'; erasing a customer drops them.\n";

enum {
    O_PROGRAM,
    O_TIER,
    O_STORE,
    O_BEFORE,
    O_AFTER,
    O_SPEND_MIN,
    O_SPEND_WINDOW,
    O_ABOVE,
    O_BELOW,
    O_BIRTHDAY,
    O_CONSENT,
    O_TAG,
    O_PURPOSE,
    O_FIELDS,
    O_CSV,
    O_XLSX,
    O_DB,
    O_JSON,
    O_HELP,
    O_COUNT_
};

/* The fields an export may carry, in the order columns are written. */
enum field { F_ID, F_NAME, F_EMAIL, F_PHONE, F_POINTS, F_TIER, F_STORE, F_LAST_VISIT, F_COUNT };
static const struct report_col field_col[F_COUNT] = {
    {"id", REPORT_INT},     {"name", REPORT_TEXT},      {"email", REPORT_TEXT},
    {"phone", REPORT_TEXT}, {"points", REPORT_INT},     {"tier", REPORT_INT},
    {"store", REPORT_TEXT}, {"last_visit", REPORT_DATE}};

struct seg_cmd {
    struct lcli_opt *o;
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    const char *sub;
    struct ledger_segment s;
    int64_t program;
    bool json;
    bool preview; /* count of filters given, not of a saved segment */
    struct ledger *l;
};

/* A segment's refusal: what was asked is bad input (exit 2) unless the
 * database failed under it. */
static int seg_fail(const struct ledger *l, leal_err err, const char *what)
{
    const char *d = l ? ledger_errmsg(l) : "";
    int code = err >= LEAL_E_SEGMENT_FILTER && err <= LEAL_E_SEGMENT_FIELD ? CLI_EXIT_USAGE
                                                                           : cli_exit_code(err);
    return cli_error(err, code, "%s: %s%s%s", what, d && d[0] ? d : "", d && d[0] ? ": " : "",
                     leal_strerror(err));
}

static int bad_filter(const char *why)
{
    return cli_error(LEAL_E_SEGMENT_FILTER, CLI_EXIT_USAGE, "segment: %s", why);
}

/* A whole decimal number in lo..hi, an optional '-' first. */
static bool int_in(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
    char *end = NULL;
    long long x;
    if (s == NULL || s[0] == '\0' || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return false;
    x = strtoll(s, &end, 10);
    if (*end != '\0' || x < lo || x > hi)
        return false;
    *v = (int64_t)x;
    return true;
}

/* The filter options into x->s (checked whole by ledger_segment_check). */
static int parse_filters(struct seg_cmd *x)
{
    struct lcli_opt *o = x->o;
    struct ledger_segment *s = &x->s;
    int64_t m = 0;
    char why[160];
    if (o[O_TIER].val) {
        if (!int_in(o[O_TIER].val, 0, 255, &s->tier))
            return bad_filter("--tier is a tier's number, 0 (none) to 255");
        s->has |= LEDGER_SEG_TIER;
    }
    if (o[O_STORE].val) {
        if (lcli_id(o[O_STORE].val, &s->store_id) != LEAL_OK)
            return bad_filter("--store is a store's id (leal store add printed it)");
        s->has |= LEDGER_SEG_STORE;
    }
    if (o[O_BEFORE].val) {
        if (lcli_date(o[O_BEFORE].val, &s->visit_before) != LEAL_OK)
            return bad_filter("--last-visit-before is a real date, YYYY-MM-DD");
        s->has |= LEDGER_SEG_VISIT_BEFORE;
    }
    if (o[O_AFTER].val) {
        if (lcli_date(o[O_AFTER].val, &s->visit_after) != LEAL_OK)
            return bad_filter("--last-visit-after is a real date, YYYY-MM-DD");
        s->has |= LEDGER_SEG_VISIT_AFTER;
    }
    if ((o[O_SPEND_MIN].val == NULL) != (o[O_SPEND_WINDOW].val == NULL))
        return bad_filter("--spend-min and --spend-window go together: euros in so many days");
    if (o[O_SPEND_MIN].val) {
        if (lcli_amount("EUR", o[O_SPEND_MIN].val, &s->spend_min_cents) != LEAL_OK ||
            s->spend_min_cents < 0)
            return bad_filter("--spend-min is euros, like 50 or 12,50");
        if (!int_in(o[O_SPEND_WINDOW].val, 1, 3660, &s->spend_window_days))
            return bad_filter("--spend-window is a number of days, 1 to 3660");
        s->has |= LEDGER_SEG_SPEND;
    }
    if (o[O_ABOVE].val) {
        if (!int_in(o[O_ABOVE].val, -1000000000000LL, 1000000000000LL, &s->points_above))
            return bad_filter("--points-above is a whole number of points");
        s->has |= LEDGER_SEG_POINTS_ABOVE;
    }
    if (o[O_BELOW].val) {
        if (!int_in(o[O_BELOW].val, -1000000000000LL, 1000000000000LL, &s->points_below))
            return bad_filter("--points-below is a whole number of points");
        s->has |= LEDGER_SEG_POINTS_BELOW;
    }
    if (o[O_BIRTHDAY].val) {
        if (!int_in(o[O_BIRTHDAY].val, 1, 12, &m))
            return bad_filter("--birthday-month is a month, 1 to 12");
        s->birthday_month = (int)m;
        s->has |= LEDGER_SEG_BIRTHDAY;
    }
    if (o[O_CONSENT].val) {
        snprintf(s->consent, sizeof s->consent, "%s", o[O_CONSENT].val);
        if (strlen(o[O_CONSENT].val) >= sizeof s->consent)
            s->consent[0] = '\0';
        s->has |= LEDGER_SEG_CONSENT;
    }
    if (o[O_TAG].val) {
        if (!ledger_segment_word_ok(o[O_TAG].val, LEDGER_SEGMENT_TAG))
            return bad_filter("--tag is 1 to 32 letters, digits, '_', '.' or '-'");
        snprintf(s->tag, sizeof s->tag, "%s", o[O_TAG].val);
        s->has |= LEDGER_SEG_TAG;
    }
    return ledger_segment_check(s, why, sizeof why) == LEAL_OK ? 0 : bad_filter(why);
}

static bool any_filter_option(const struct lcli_opt *o)
{
    for (int i = O_TIER; i <= O_TAG; i++)
        if (o[i].val)
            return true;
    return false;
}

/* ---- Showing a filter ------------------------------------------------------- */

static void day_str(int64_t t, char *out, size_t cap)
{
    report_day_str(t / DAY_SECONDS, out, cap);
}

static void filter_text(const struct ledger_segment *s)
{
    char d[16], eur[32];
    const char *sep = "";
    if (s->has == 0)
        printf("every customer");
#define NEXT() (printf("%s", sep), sep = ", ")
    if (s->has & LEDGER_SEG_TIER)
        NEXT(), printf("tier %lld", (long long)s->tier);
    if (s->has & LEDGER_SEG_STORE)
        NEXT(), printf("visited store %lld", (long long)s->store_id);
    if (s->has & LEDGER_SEG_VISIT_BEFORE)
        day_str(s->visit_before, d, sizeof d), NEXT(), printf("last visit before %s", d);
    if (s->has & LEDGER_SEG_VISIT_AFTER)
        day_str(s->visit_after, d, sizeof d), NEXT(), printf("last visit after %s", d);
    if (s->has & LEDGER_SEG_SPEND)
        lcli_amount_str("EUR", s->spend_min_cents, eur, sizeof eur), NEXT(),
            printf("spent at least %s with a card in %lld days", eur,
                   (long long)s->spend_window_days);
    if (s->has & LEDGER_SEG_POINTS_ABOVE)
        NEXT(), printf("points above %lld", (long long)s->points_above);
    if (s->has & LEDGER_SEG_POINTS_BELOW)
        NEXT(), printf("points below %lld", (long long)s->points_below);
    if (s->has & LEDGER_SEG_BIRTHDAY)
        NEXT(), printf("birthday in month %d", s->birthday_month);
    if (s->has & LEDGER_SEG_CONSENT)
        NEXT(), printf("consent to %s", s->consent);
    if (s->has & LEDGER_SEG_TAG)
        NEXT(), printf("tagged %s", s->tag);
#undef NEXT
}

static void filter_json(const struct ledger_segment *s)
{
    char d[16];
    const char *sep = "";
#define KEY(k) (printf("%s\"" k "\":", sep), sep = ",")
    putchar('{');
    if (s->has & LEDGER_SEG_TIER)
        KEY("tier"), printf("%lld", (long long)s->tier);
    if (s->has & LEDGER_SEG_STORE)
        KEY("store"), printf("%lld", (long long)s->store_id);
    if (s->has & LEDGER_SEG_VISIT_BEFORE)
        day_str(s->visit_before, d, sizeof d), KEY("last_visit_before"), printf("\"%s\"", d);
    if (s->has & LEDGER_SEG_VISIT_AFTER)
        day_str(s->visit_after, d, sizeof d), KEY("last_visit_after"), printf("\"%s\"", d);
    if (s->has & LEDGER_SEG_SPEND)
        KEY("spend_min"),
            printf("%lld.%02lld", (long long)(s->spend_min_cents / 100),
                   (long long)(s->spend_min_cents % 100)),
            KEY("spend_window_days"), printf("%lld", (long long)s->spend_window_days);
    if (s->has & LEDGER_SEG_POINTS_ABOVE)
        KEY("points_above"), printf("%lld", (long long)s->points_above);
    if (s->has & LEDGER_SEG_POINTS_BELOW)
        KEY("points_below"), printf("%lld", (long long)s->points_below);
    if (s->has & LEDGER_SEG_BIRTHDAY)
        KEY("birthday_month"), printf("%d", s->birthday_month);
    if (s->has & LEDGER_SEG_CONSENT)
        KEY("consent"), cli_json_string(stdout, s->consent);
    if (s->has & LEDGER_SEG_TAG)
        KEY("tag"), cli_json_string(stdout, s->tag);
    putchar('}');
#undef KEY
}

/* ---- Subcommands ----------------------------------------------------------- */

static int count_cb(void *ctx, const struct ledger_segment_member *m)
{
    (void)m;
    (*(int64_t *)ctx)++;
    return 0;
}

static int seg_add(struct seg_cmd *x)
{
    int64_t id = 0;
    leal_err err = ledger_segment_add(x->l, &x->s, &id);
    if (err != LEAL_OK)
        return seg_fail(x->l, err, "segment add");
    if (x->json)
        printf("{\"segment\":"), cli_json_string(stdout, x->s.name),
            printf(",\"id\":%lld,\"program\":%lld}\n", (long long)id, (long long)x->s.program_id);
    else
        printf("segment %s added to program %lld\n", x->s.name, (long long)x->s.program_id);
    return CLI_EXIT_OK;
}

struct list_ctx {
    bool json;
    int n;
};

static int list_cb(void *ctx, const struct ledger_segment *s)
{
    struct list_ctx *c = ctx;
    if (c->json) {
        printf("%s{\"segment\":", c->n ? "," : "");
        cli_json_string(stdout, s->name);
        printf(",\"filter\":");
        filter_json(s);
        putchar('}');
    } else {
        printf("%-20s ", s->name);
        filter_text(s);
        putchar('\n');
    }
    c->n++;
    return 0;
}

static int seg_list(struct seg_cmd *x)
{
    struct list_ctx c = {x->json, 0};
    leal_err err;
    if (x->json)
        printf("{\"program\":%lld,\"segments\":[", (long long)x->program);
    err = ledger_segment_each(x->l, x->program, list_cb, &c);
    if (x->json)
        printf("]}\n");
    else if (err == LEAL_OK && c.n == 0)
        printf("no segments\n");
    return err == LEAL_OK ? CLI_EXIT_OK : seg_fail(x->l, err, "segment list");
}

/* show and count: the filter and how many customers match now. */
static int seg_show(struct seg_cmd *x, bool filter)
{
    int64_t n = 0;
    leal_err err = ledger_segment_members(x->l, &x->s, (int64_t)time(NULL), count_cb, &n);
    if (err != LEAL_OK)
        return seg_fail(x->l, err, x->sub);
    if (x->json) {
        printf("{\"segment\":");
        if (!x->preview)
            cli_json_string(stdout, x->s.name);
        else
            printf("null");
        printf(",\"program\":%lld", (long long)x->s.program_id);
        if (filter)
            printf(",\"filter\":"), filter_json(&x->s);
        printf(",\"count\":%lld}\n", (long long)n);
    } else if (filter) {
        printf("segment %s, program %lld\nfilter: ", x->s.name, (long long)x->s.program_id);
        filter_text(&x->s);
        printf("\ncustomers: %lld\n", (long long)n);
    } else {
        printf("%lld\n", (long long)n);
    }
    return CLI_EXIT_OK;
}

/* ---- Export ---------------------------------------------------------------- */

enum purpose { P_EMAIL, P_SMS, P_ANALYSIS, P_PROFILING };

struct export_ctx {
    enum purpose purpose;
    int nf;
    enum field f[F_COUNT];
    struct report_part *p;
    leal_err err;
};

static int parse_fields(const char *list, enum purpose pu, struct export_ctx *e)
{
    static const enum field defaults[4][5] = {{F_ID, F_NAME, F_EMAIL},
                                              {F_ID, F_NAME, F_PHONE},
                                              {F_POINTS, F_TIER, F_STORE, F_LAST_VISIT},
                                              {F_ID, F_POINTS, F_TIER, F_STORE, F_LAST_VISIT}};
    static const int ndefaults[4] = {3, 3, 4, 5};
    char buf[256], *save = NULL;
    bool seen[F_COUNT] = {false};
    e->nf = 0;
    if (list == NULL) {
        for (int i = 0; i < ndefaults[pu]; i++)
            e->f[e->nf++] = defaults[pu][i];
        return 0;
    }
    if (strlen(list) >= sizeof buf)
        return cli_error(LEAL_E_SEGMENT_FIELD, CLI_EXIT_USAGE, "segment export: --fields: %s",
                         leal_strerror(LEAL_E_SEGMENT_FIELD));
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < F_COUNT && strcmp(field_col[k].name, t) != 0)
            k++;
        if (k == F_COUNT || seen[k])
            return cli_error(LEAL_E_SEGMENT_FIELD, CLI_EXIT_USAGE,
                             "segment export: --fields: '%s' is %s; fields: "
                             "id,name,email,phone,points,tier,store,last_visit",
                             t, k == F_COUNT ? "not a field" : "named twice");
        if ((pu == P_EMAIL && k == F_PHONE) || (pu == P_SMS && k == F_EMAIL))
            return cli_error(LEAL_E_SEGMENT_FIELD, CLI_EXIT_USAGE,
                             "segment export: --purpose %s may not carry %s (consent is per "
                             "channel); leave it out of --fields",
                             pu == P_EMAIL ? "email" : "sms", t);
        seen[k] = true;
        e->f[e->nf++] = (enum field)k;
    }
    if (e->nf == 0)
        return cli_error(LEAL_E_SEGMENT_FIELD, CLI_EXIT_USAGE,
                         "segment export: --fields names no field; fields: "
                         "id,name,email,phone,points,tier,store,last_visit");
    /* Columns in the one order every export has. */
    for (int i = 1; i < e->nf; i++)
        for (int j = i; j > 0 && e->f[j - 1] > e->f[j]; j--) {
            enum field t = e->f[j];
            e->f[j] = e->f[j - 1];
            e->f[j - 1] = t;
        }
    return 0;
}

static char *text_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static leal_err cell_set(struct report_cell *c, enum field f, const struct ledger_segment_member *m)
{
    char name[2 * LEDGER_TEXT + 2];
    switch (f) {
    case F_ID:
        c->i = m->customer_id;
        return LEAL_OK;
    case F_POINTS:
        c->i = m->points;
        return LEAL_OK;
    case F_TIER:
        c->i = m->tier;
        return LEAL_OK;
    case F_LAST_VISIT:
        c->null = m->last_visit == 0;
        c->i = m->last_visit / DAY_SECONDS;
        return LEAL_OK;
    case F_NAME:
        snprintf(name, sizeof name, "%s%s%s", m->name, m->name[0] && m->surname[0] ? " " : "",
                 m->surname);
        c->s = text_dup(name);
        break;
    case F_EMAIL:
        c->s = text_dup(m->email);
        break;
    case F_PHONE:
        c->s = text_dup(m->phone);
        break;
    default:
        c->s = text_dup(m->store);
        break;
    }
    return c->s ? LEAL_OK : LEAL_E_NO_MEMORY;
}

static int export_cb(void *ctx, const struct ledger_segment_member *m)
{
    struct export_ctx *e = ctx;
    struct report_part *p = e->p;
    if ((e->purpose == P_EMAIL && (!m->email_ok || m->email[0] == '\0')) ||
        (e->purpose == P_SMS && (!m->sms_ok || m->phone[0] == '\0')) ||
        (e->purpose == P_PROFILING && !m->profiling_ok))
        return 0;
    if (p->nrows == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        struct report_cell *c = realloc(p->cell, cap * p->ncols * sizeof *c);
        if (c == NULL) {
            e->err = LEAL_E_NO_MEMORY;
            return 1;
        }
        memset(c + p->cap * p->ncols, 0, (cap - p->cap) * p->ncols * sizeof *c);
        p->cell = c;
        p->cap = cap;
    }
    for (int i = 0; i < e->nf; i++)
        if ((e->err = cell_set(&p->cell[p->nrows * p->ncols + (size_t)i], e->f[i], m)) != LEAL_OK)
            return 1;
    p->nrows++;
    return 0;
}

static leal_err write_csv(const char *path, const struct report_part *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    leal_err err;
    if (f == NULL)
        return LEAL_E_NO_MEMORY;
    err = report_write_csv(f, p, false);
    if (fclose(f) != 0 && err == LEAL_OK)
        err = LEAL_E_IO;
    if (err == LEAL_OK)
        err = file_write_atomic(path, (const uint8_t *)buf, len, 0600);
    free(buf);
    return err;
}

/* export's options, checked before the ledger is opened (nothing written). */
static int export_args(struct seg_cmd *x, struct export_ctx *e)
{
    const char *pu = x->o[O_PURPOSE].val;
    if (pu == NULL || (strcmp(pu, "email") != 0 && strcmp(pu, "sms") != 0 &&
                       strcmp(pu, "analysis") != 0 && strcmp(pu, "profiling") != 0))
        return cli_usage("leal segment export needs --purpose email, sms, analysis or profiling");
    e->purpose = strcmp(pu, "email") == 0       ? P_EMAIL
                 : strcmp(pu, "sms") == 0       ? P_SMS
                 : strcmp(pu, "profiling") == 0 ? P_PROFILING
                                                : P_ANALYSIS;
    if ((x->o[O_CSV].val == NULL) == (x->o[O_XLSX].val == NULL))
        return cli_usage("leal segment export writes one file: --csv FILE or --xlsx FILE");
    return parse_fields(x->o[O_FIELDS].val, e->purpose, e);
}

static int seg_export_run(struct seg_cmd *x, struct export_ctx *e)
{
    const char *path = x->o[O_CSV].val ? x->o[O_CSV].val : x->o[O_XLSX].val;
    struct report r;
    leal_err err;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "segment");
    r.program_id = x->s.program_id;
    r.nparts = 1;
    e->p = &r.part[0];
    snprintf(e->p->name, sizeof e->p->name, "customers");
    e->p->ncols = (size_t)e->nf;
    for (int i = 0; i < e->nf; i++)
        e->p->col[i] = field_col[e->f[i]];
    err = ledger_segment_members(x->l, &x->s, (int64_t)time(NULL), export_cb, e);
    if (err == LEAL_OK)
        err = e->err;
    if (err != LEAL_OK) {
        report_free(&r);
        return seg_fail(x->l, err, "segment export");
    }
    err = x->o[O_CSV].val ? write_csv(path, e->p) : report_write_xlsx(path, &r);
    if (err == LEAL_OK) {
        if (x->json) {
            printf("{\"segment\":");
            cli_json_string(stdout, x->s.name);
            printf(",\"purpose\":\"%s\",\"customers\":%zu,\"file\":", x->o[O_PURPOSE].val,
                   e->p->nrows);
            cli_json_string(stdout, path);
            printf("}\n");
        } else {
            printf("%zu customers of segment %s written to %s\n", e->p->nrows, x->s.name, path);
        }
    }
    report_free(&r);
    return err == LEAL_OK ? CLI_EXIT_OK : cli_fail(err, "%s", path);
}

/* ---- Dispatch -------------------------------------------------------------- */

static int seg_named(struct seg_cmd *x, const char *sub)
{
    leal_err err;
    if (x->npos != 2)
        return cli_usage("leal segment %s needs the segment's name", sub);
    err = ledger_segment_get(x->l, x->program, x->pos[1], &x->s);
    return err == LEAL_OK ? 0 : seg_fail(x->l, err, sub);
}

static int seg_run(struct seg_cmd *x, struct export_ctx *e)
{
    const char *sub = x->sub;
    int rc;
    if (strcmp(sub, "add") == 0)
        return seg_add(x);
    if (strcmp(sub, "list") == 0)
        return seg_list(x);
    if (strcmp(sub, "count") == 0 && x->npos == 1)
        return seg_show(x, false); /* the filters given, not saved */
    if ((rc = seg_named(x, sub)) != 0)
        return rc;
    if (strcmp(sub, "export") == 0)
        return seg_export_run(x, e);
    return seg_show(x, strcmp(sub, "show") == 0);
}

/* What each subcommand needs, checked before the ledger is opened. */
static int seg_args(struct seg_cmd *x, struct export_ctx *e)
{
    const char *sub = x->sub;
    bool add = strcmp(sub, "add") == 0, count = strcmp(sub, "count") == 0;
    bool named = strcmp(sub, "show") == 0 || strcmp(sub, "export") == 0 || (count && x->npos == 2);
    if (!add && !count && !named && strcmp(sub, "list") != 0)
        return cli_usage("leal segment: expected add, list, show, count or export, not '%s'", sub);
    if (x->o[O_PROGRAM].val && lcli_id(x->o[O_PROGRAM].val, &x->program) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--program '%s'", x->o[O_PROGRAM].val);
    if ((add || strcmp(sub, "list") == 0 || (count && !named)) && x->program == 0)
        return cli_usage("leal segment %s needs --program ID", sub);
    if (any_filter_option(x->o) && !add && !(count && !named))
        return cli_usage("filters go with 'leal segment add' or 'count --program ID'");
    if (strcmp(sub, "export") != 0 &&
        (x->o[O_PURPOSE].val || x->o[O_FIELDS].val || x->o[O_CSV].val || x->o[O_XLSX].val))
        return cli_usage("--purpose, --fields, --csv and --xlsx go with 'leal segment export'");
    if (add) {
        if (x->npos != 2)
            return cli_usage("leal segment add needs the segment's name");
        snprintf(x->s.name, sizeof x->s.name, "%s", x->pos[1]);
        if (strlen(x->pos[1]) >= sizeof x->s.name)
            x->s.name[0] = '\0';
    } else if (count && !named) {
        snprintf(x->s.name, sizeof x->s.name, "preview");
    } else if (!named && x->npos != 1) {
        return cli_usage("leal segment %s takes no name", sub);
    }
    x->s.program_id = x->program;
    if ((add || (count && !named))) {
        int rc = parse_filters(x);
        if (rc != 0)
            return rc;
        x->preview = count;
    }
    return strcmp(sub, "export") == 0 ? export_args(x, e) : 0;
}

int cmd_segment(int argc, char **argv)
{
    struct lcli_opt o[] = {
        [O_PROGRAM] = {"program", 0, 0},
        [O_TIER] = {"tier", 0, 0},
        [O_STORE] = {"store", 0, 0},
        [O_BEFORE] = {"last-visit-before", 0, 0},
        [O_AFTER] = {"last-visit-after", 0, 0},
        [O_SPEND_MIN] = {"spend-min", 0, 0},
        [O_SPEND_WINDOW] = {"spend-window", 0, 0},
        [O_ABOVE] = {"points-above", 0, 0},
        [O_BELOW] = {"points-below", 0, 0},
        [O_BIRTHDAY] = {"birthday-month", 0, 0},
        [O_CONSENT] = {"consent", 0, 0},
        [O_TAG] = {"tag", 0, 0},
        [O_PURPOSE] = {"purpose", 0, 0},
        [O_FIELDS] = {"fields", 0, 0},
        [O_CSV] = {"csv", 0, 0},
        [O_XLSX] = {"xlsx", 0, 0},
        [O_DB] = {"db", 0, 0},
        [O_JSON] = {"json", 1, 0},
        [O_HELP] = {"help", 1, 0},
    };
    struct seg_cmd x;
    struct export_ctx e;
    int rc;
    memset(&x, 0, sizeof x);
    memset(&e, 0, sizeof e);
    x.o = o;
    x.npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), x.pos, &x.npos)) != 0)
        return rc;
    if (o[O_HELP].val) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (x.npos < 1)
        return cli_usage("leal segment: expected add, list, show, count or export");
    x.sub = x.pos[0];
    x.json = o[O_JSON].val != NULL;
    if ((rc = seg_args(&x, &e)) != 0)
        return rc;
    if ((rc = lcli_open(o[O_DB].val, &x.l)) == 0)
        rc = seg_run(&x, &e);
    ledger_close(x.l);
    return rc;
}

/* `leal customer tag|untag CUSTOMER TAG`: argv[0] is "tag" or "untag". */
int customer_tag(int argc, char **argv)
{
    struct lcli_opt o[] = {{"db", 0, 0}, {"json", 1, 0}};
    const char *pos[2];
    size_t npos = 2;
    int64_t id = 0;
    bool on = strcmp(argv[0], "tag") == 0;
    struct ledger *l = NULL;
    leal_err err;
    int rc = lcli_parse(argc, argv, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (npos != 2 || lcli_id(pos[0], &id) != LEAL_OK)
        return cli_usage("usage: leal customer %s CUSTOMER TAG", argv[0]);
    if (!ledger_segment_word_ok(pos[1], LEDGER_SEGMENT_TAG))
        return cli_error(LEAL_E_TEXT, CLI_EXIT_USAGE,
                         "customer %s: a tag is 1 to 32 letters, digits, '_', '.' or '-'", argv[0]);
    if ((rc = lcli_open(o[0].val, &l)) != 0)
        return rc;
    err = ledger_customer_tag(l, id, pos[1], on);
    if (err == LEAL_OK) {
        if (o[1].val)
            printf("{\"customer\":%lld,\"tag\":", (long long)id), cli_json_string(stdout, pos[1]),
                printf(",\"tagged\":%s}\n", on ? "true" : "false");
        else
            printf("customer %lld %s %s\n", (long long)id, on ? "tagged" : "untagged", pos[1]);
        rc = CLI_EXIT_OK;
    } else {
        char what[32];
        snprintf(what, sizeof what, "customer %s", argv[0]);
        rc = lcli_fail(l, err, what);
    }
    ledger_close(l);
    return rc;
}
