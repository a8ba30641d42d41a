/*
 * web_pages.c - the dashboard and the cards (see web_pages.h). The figures
 * are host/report's, never computed here: the dashboard only adds a
 * report's rows up by store and period, so the page and `leal report` can
 * never disagree.
 */
#include "web_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/ledger/amount.h"
#include "host/ledger/ledger_qr.h"
#include "host/ledger/ledger_reconcile.h"
#include "host/ledger/ledger_sale.h"
#include "host/ledger/ledger_terminals.h"
#include "host/package/package_file.h"
#include "host/report/report.h"
#include "host/report/report_chart.h"

#define DAY 86400
#define DASH_STORES 64

bool web_program_of(struct web_req *r, int64_t *program)
{
    const char *q = r->query(r->conn, "program");
    struct web_scope s;
    char *end;
    if (!web_scope_of(r, &s))
        return false;
    if (q && q[0]) {
        long long v = strtoll(q, &end, 10);
        if (*end != '\0' || v <= 0) {
            web_api_error(r, 400, LEAL_E_ARG, "?program= takes a program's id");
            return false;
        }
        if (!web_scope_has(&s, v)) {
            web_api_error(r, 403, LEAL_E_WEB_FORBIDDEN, "that program is another store's");
            return false;
        }
        /* An admin's scope is every program, so an id nothing has is only
         * found here: 404, not a report's 500 later. */
        if (s.all) {
            struct ledger_program lp;
            leal_err err = ledger_program_get(r->l, v, &lp);
            if (err == LEAL_E_UNKNOWN_PROGRAM || err == LEAL_E_UNKNOWN_ID) {
                web_api_error(r, 404, LEAL_E_UNKNOWN_PROGRAM, "?program= names no program");
                return false;
            }
            if (err != LEAL_OK) {
                web_ledger_error(r, err, "the program");
                return false;
            }
        }
        *program = v;
        return true;
    }
    if (!s.all && s.n > 0) {
        *program = s.programs[0];
        return true;
    }
    /* An admin without ?program=: the lowest program id (ids are handed
     * out in turn, so the first few tries find it). */
    for (int64_t p = 1; s.all && p <= 64; p++) {
        struct ledger_program lp;
        if (ledger_program_get(r->l, p, &lp) == LEAL_OK) {
            *program = p;
            return true;
        }
    }
    web_api_error(r, 404, LEAL_E_UNKNOWN_PROGRAM, "no program to show");
    return false;
}

/* ---- The dashboard ---- */

/* What the dashboard adds up from the activity report, in its column order. */
static const char *const activity_keys[] = {"sales_card",    "sales_qr",        "sales_no_card",
                                            "points_issued", "points_redeemed", "purse_loaded",
                                            "purse_spent"};
#define NKEYS (sizeof activity_keys / sizeof activity_keys[0])

struct tally {
    char store[REPORT_NAME * 2];
    int64_t v[NKEYS];
    int64_t active; /* customers with a movement (a store's; the total's is apart) */
};

struct period {
    int64_t from, to;       /* local days (as days since 1970-01-01) */
    int64_t from_at, to_at; /* the seconds they span: [from_at, to_at) */
    struct tally total;
    struct tally store[DASH_STORES];
    size_t nstores;
};

static leal_err report_err(struct web_req *r, leal_err err, const char *what)
{
    const char *d = report_db_errmsg(r->reports);
    char detail[512];
    snprintf(detail, sizeof detail, "%s%s%s", web_text(r, what), d[0] ? ": " : "", d);
    web_api_error(r, 500, err, detail);
    return err;
}

static leal_err run(struct web_req *r, struct report_query *q, struct report *out)
{
    leal_err err = report_run(r->reports, q, out);
    if (err != LEAL_OK) {
        report_free(out);
        report_err(r, err, q->name);
    }
    return err;
}

/* run() over p's seconds: the days of the stores' zone. */
static leal_err run_period(struct web_req *r, struct report_query *q, const struct period *p,
                           struct report *out)
{
    leal_err err = report_run_at(r->reports, q, p->from_at, p->to_at, out);
    if (err != LEAL_OK) {
        report_free(out);
        report_err(r, err, q->name);
    }
    return err;
}

/* The tally of store in p, added if new (NULL when full). */
static struct tally *tally_of(struct period *p, const char *store)
{
    for (size_t i = 0; i < p->nstores; i++)
        if (strcmp(p->store[i].store, store) == 0)
            return &p->store[i];
    if (p->nstores == DASH_STORES)
        return NULL;
    snprintf(p->store[p->nstores].store, sizeof p->store[0].store, "%s", store);
    return &p->store[p->nstores++];
}

static leal_err activity(struct web_req *r, int64_t program, struct period *p)
{
    struct report_query q = {"activity", program, NULL, p->from, p->to, 0, r->l};
    struct report rep;
    size_t col[NKEYS], store;
    leal_err err = run_period(r, &q, p, &rep);
    if (err != LEAL_OK)
        return err;
    const struct report_part *a = &rep.part[0];
    store = report_col_index(a, "store");
    for (size_t k = 0; k < NKEYS; k++)
        col[k] = report_col_index(a, activity_keys[k]);
    for (size_t i = 0; i < a->nrows; i++) {
        const char *code = report_cell_at(a, i, store)->s;
        struct tally *t = tally_of(p, code ? code : "");
        for (size_t k = 0; k < NKEYS; k++) {
            int64_t v = report_cell_at(a, i, col[k])->i;
            p->total.v[k] += v;
            if (t)
                t->v[k] += v;
        }
    }
    report_free(&rep);
    return LEAL_OK;
}

/* report_dash_customers' count for a store of p's activity (any other has
 * no figures on the dashboard). */
static void store_active(void *ctx, const char *code, int64_t active)
{
    struct period *p = ctx;
    for (size_t i = 0; i < p->nstores; i++)
        if (strcmp(p->store[i].store, code) == 0)
            p->store[i].active = active;
}

static json_t *tally_json(const struct tally *t)
{
    json_t *o = json_object();
    for (size_t k = 0; k < NKEYS; k++)
        json_object_set_new(o, activity_keys[k], json_integer(t->v[k]));
    return o;
}

static json_t *period_json(struct web_req *r, int64_t program, struct period *p)
{
    struct report_dash_figures f = {0, 0, 0, store_active, p};
    char day[16];
    leal_err err = report_dash_customers(r->reports, program, p->from_at, p->to_at, &f);
    if (err != LEAL_OK) {
        report_err(r, err, "customers");
        return NULL;
    }
    json_t *stores = json_array(), *total = tally_json(&p->total);
    /* Customers have no home store: "new" is the program's only. */
    json_object_set_new(total, "active", json_integer(f.active));
    json_object_set_new(total, "new", json_integer(f.joined));
    json_object_set_new(total, "customers", json_integer(f.customers));
    for (size_t i = 0; i < p->nstores; i++) {
        json_t *s = tally_json(&p->store[i]);
        json_object_set_new(s, "store", json_string(p->store[i].store));
        if (p->store[i].store[0])
            json_object_set_new(s, "active", json_integer(p->store[i].active));
        json_array_append_new(stores, s);
    }
    json_t *o = json_pack("{s:o,s:o}", "stores", stores, "total", total);
    report_day_str(p->from, day, sizeof day);
    json_object_set_new(o, "from", json_string(day));
    report_day_str(p->to, day, sizeof day);
    json_object_set_new(o, "to", json_string(day));
    return o;
}

/* Outstanding at the end of today: points (valued when the program has a
 * settlement value) and purse euros. */
static json_t *liability(struct web_req *r, int64_t program, int64_t today)
{
    struct report_query q = {"liabilities", program, NULL, today, today, 0, r->l};
    struct report rep;
    json_t *o = json_object();
    if (run(r, &q, &rep) != LEAL_OK) {
        json_decref(o);
        return NULL;
    }
    const struct report_part *p = &rep.part[0];
    size_t asset = report_col_index(p, "asset"), units = report_col_index(p, "units"),
           value = report_col_index(p, "value");
    for (size_t i = 0; i < p->nrows; i++) {
        const char *a = report_cell_at(p, i, asset)->s;
        const struct report_cell *v = report_cell_at(p, i, value);
        json_t *row = json_pack("{s:I,s:o}", "units", (json_int_t)report_cell_at(p, i, units)->i,
                                "value_cents", v->null ? json_null() : json_integer(v->i));
        json_object_set_new(o, a, row);
    }
    json_object_set_new(o, "point_value_cents", json_integer(rep.point_value_cents));
    report_free(&rep);
    return o;
}

/* The breakage report of the last 12 months drawn by report_chart (an empty
 * one: null, the page says there is nothing to draw yet). */
static json_t *chart(struct web_req *r, int64_t program, int64_t today)
{
    int y, m, d;
    report_civil(today, &y, &m, &d);
    m -= 11;
    if (m < 1) {
        m += 12;
        y--;
    }
    char first[32];
    int64_t from;
    snprintf(first, sizeof first, "%04d-%02d-01", y, m);
    if (report_day_parse(first, &from) != LEAL_OK)
        return NULL;
    struct report_query q = {"breakage", program, NULL, from, today, 0, r->l};
    struct report rep;
    char *svg = NULL;
    size_t len = 0;
    if (run(r, &q, &rep) != LEAL_OK)
        return NULL;
    leal_err err = report_chart_svg(&rep, &svg, &len);
    report_free(&rep);
    if (err == LEAL_E_REPORT_EMPTY)
        return json_null();
    if (err != LEAL_OK) {
        report_err(r, err, "the chart");
        return NULL;
    }
    json_t *s = json_stringn(svg, len);
    free(svg);
    return s;
}

/* The request's program, for a route that runs reports (503 without the file). */
static bool report_program(struct web_req *r, int64_t *program)
{
    if (!web_program_of(r, program))
        return false;
    if (r->reports == NULL) {
        web_api_error(r, 503, LEAL_E_NO_LEDGER, "the server runs without the ledger's file");
        return false;
    }
    return true;
}

/* The UTC second of the local midnight that begins the day `at` falls on in
 * zone tz. A DST change between that midnight and `at` leaves the first
 * guess an hour off; the second look corrects it. */
static leal_err local_midnight(const char *tz, int64_t at, int64_t *out)
{
    struct rules_civil c;
    int64_t t;
    leal_err err = ledger_local_civil(tz, at, &c);
    if (err != LEAL_OK)
        return err;
    t = at - (c.hour * 3600 + c.minute * 60 + c.second);
    if ((err = ledger_local_civil(tz, t, &c)) != LEAL_OK)
        return err;
    if (c.hour >= 12) /* the evening before: midnight is later */
        t += (24 - c.hour) * 3600 - c.minute * 60;
    else
        t -= c.hour * 3600 + c.minute * 60;
    *out = t;
    return LEAL_OK;
}

/* Today and this month in zone tz: their local days and the seconds they span. */
static leal_err local_periods(const char *tz, int64_t now, struct period per[2])
{
    struct rules_civil c;
    char day[16];
    int64_t today;
    leal_err err = ledger_local_civil(tz, now, &c);
    if (err != LEAL_OK)
        return err;
    snprintf(day, sizeof day, "%04u-%02u-%02u", (unsigned)c.year % 10000u, (unsigned)c.month % 100u,
             (unsigned)c.day % 100u);
    if ((err = report_day_parse(day, &today)) != LEAL_OK)
        return err;
    memset(per, 0, 2 * sizeof per[0]);
    per[0].from = per[0].to = per[1].to = today;
    per[1].from = today - (c.day - 1);
    /* Local days last 23 to 25 hours: 30 hours on is within tomorrow, and
     * noon of the month's first day is within that day. */
    if ((err = local_midnight(tz, now, &per[0].from_at)) != LEAL_OK ||
        (err = local_midnight(tz, per[0].from_at + 30 * 3600, &per[0].to_at)) != LEAL_OK ||
        (err = local_midnight(tz, per[0].from_at - (c.day - 1) * DAY + 12 * 3600,
                              &per[1].from_at)) != LEAL_OK)
        return err;
    per[1].to_at = per[0].to_at;
    return LEAL_OK;
}

void web_dash_cache_free(struct web_dash_cache *c)
{
    for (size_t i = 0; i < WEB_DASH_CACHED; i++)
        json_decref(c->a[i].out);
    memset(c, 0, sizeof *c);
}

static bool dash_same(const struct web_dash_answer *a, const struct web_dash_answer *k)
{
    return a->out && a->program == k->program && a->version == k->version &&
           a->utc_day == k->utc_day && a->day_at == k->day_at && a->month_at == k->month_at &&
           a->to_at == k->to_at && strcmp(a->tz, k->tz) == 0;
}

/* Keeps out as the answer for k (its program's slot, else an empty or the
 * least recently used one). */
static void dash_keep(struct web_dash_cache *c, const struct web_dash_answer *k, json_t *out)
{
    struct web_dash_answer *slot = &c->a[0];
    for (size_t i = 0; i < WEB_DASH_CACHED; i++) {
        struct web_dash_answer *a = &c->a[i];
        if (a->out && a->program == k->program) {
            slot = a;
            break;
        }
        if (slot->out && (a->out == NULL || a->used < slot->used))
            slot = a;
    }
    json_decref(slot->out);
    *slot = *k;
    slot->out = json_incref(out);
    slot->used = ++c->clock;
}

/* The dashboard's answer over per (today, this month) and the UTC day
 * today, read in the snapshot the caller holds; NULL after setting r's
 * error. */
static json_t *dash_answer(struct web_req *r, int64_t program, const char *tz, struct period per[2],
                           int64_t today)
{
    json_t *today_j = NULL, *month_j = NULL, *liab = NULL, *svg = NULL;
    if (activity(r, program, &per[0]) != LEAL_OK || activity(r, program, &per[1]) != LEAL_OK)
        return NULL;
    if ((today_j = period_json(r, program, &per[0])) == NULL ||
        (month_j = period_json(r, program, &per[1])) == NULL ||
        (liab = liability(r, program, today)) == NULL || (svg = chart(r, program, today)) == NULL) {
        json_decref(today_j);
        json_decref(month_j);
        json_decref(liab);
        return NULL;
    }
    return json_pack("{s:I,s:s,s:o,s:o,s:o,s:o}", "program", (json_int_t)program, "timezone", tz,
                     "today", today_j, "month", month_j, "liability", liab, "chart_svg", svg);
}

bool web_dash_key_of(struct web_req *r, struct web_dash_key *k)
{
    leal_err err;
    memset(k, 0, sizeof *k);
    k->now = (int64_t)time(NULL);
    if (!report_program(r, &k->program))
        return false;
    /* The days of the program's stores' zone when they share one, else UTC's. */
    if ((err = ledger_program_zone(r->l, k->program, k->tz)) != LEAL_OK) {
        web_ledger_error(r, err, "the stores' time zone");
        return false;
    }
    return true;
}

void web_dash_in_snapshot(struct web_req *r, const struct web_dash_key *k, int64_t version)
{
    struct period per[2];
    struct web_dash_answer key;
    leal_err err;
    json_t *out;
    memset(&key, 0, sizeof key);
    snprintf(key.tz, sizeof key.tz, "%s", k->tz);
    if ((err = local_periods(key.tz[0] ? key.tz : "UTC", k->now, per)) != LEAL_OK) {
        web_api_error(r, 500, err, key.tz);
        return;
    }
    key.version = version;
    key.program = k->program;
    key.utc_day = k->now / DAY;
    key.day_at = per[0].from_at;
    key.month_at = per[1].from_at;
    key.to_at = per[0].to_at;
    for (size_t i = 0; r->dash && i < WEB_DASH_CACHED; i++) {
        if (dash_same(&r->dash->a[i], &key)) {
            r->dash->a[i].used = ++r->dash->clock;
            r->status = 200;
            r->out = json_incref(r->dash->a[i].out);
            return;
        }
    }
    if ((out = dash_answer(r, k->program, key.tz, per, key.utc_day)) == NULL)
        return;
    if (r->dash)
        dash_keep(r->dash, &key, out);
    r->status = 200;
    r->out = out;
}

void web_dashboard(struct web_req *r)
{
    struct web_dash_key k;
    int64_t version;
    leal_err err;
    if (!web_dash_key_of(r, &k))
        return;
    /* The version first: a commit after it (a sale, a store's new zone)
     * changes the version, so an answer kept under it is never given for
     * a later state. */
    if ((err = report_db_begin(r->reports, &version)) != LEAL_OK)
        report_err(r, err, "the ledger's snapshot");
    else
        web_dash_in_snapshot(r, &k, version);
    report_db_end(r->reports);
}

/* ---- Cards ---- */

static int event_one(void *ctx, const struct ledger_card_event *e)
{
    json_array_append_new(ctx,
                          json_pack("{s:I,s:I,s:s,s:s,s:s}", "card", (json_int_t)e->card_id, "at",
                                    (json_int_t)e->at, "status", ledger_card_status_name(e->status),
                                    "reason", e->reason, "operator", e->operator_name));
    return 0;
}

/* The card of r->id if r's user sees its program (404, 403 otherwise). */
static bool card_of(struct web_req *r, struct ledger_card *c)
{
    struct web_scope s;
    leal_err err = ledger_card_find_by_id(r->l, r->id, c);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the card");
        return false;
    }
    if (!web_scope_of(r, &s))
        return false;
    if (!web_scope_has(&s, c->program_id)) {
        web_api_error(r, 403, LEAL_E_WEB_FORBIDDEN, "this card belongs to another store");
        return false;
    }
    return true;
}

static json_t *card_json(const struct ledger_card *c)
{
    return json_pack("{s:I,s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:I}", "id", (json_int_t)c->card_id,
                     "account", (json_int_t)c->account_id, "program", (json_int_t)c->program_id,
                     "tech", ledger_card_tech_name(c->tech), "status",
                     ledger_card_status_name(c->status), "issued_at", (json_int_t)c->issued_at,
                     "seen_at", (json_int_t)c->seen_at, "seen_points", (json_int_t)c->seen_points,
                     "seen_purse_cents", (json_int_t)c->seen_purse_cents);
}

static int movement_one(void *ctx, const struct ledger_movement *m)
{
    json_array_append_new(ctx, json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:s}", "entry",
                                         (json_int_t)m->entry_id, "at", (json_int_t)m->at, "kind",
                                         m->kind, "reason", m->reason, "asset", m->asset, "amount",
                                         (json_int_t)m->amount, "timezone", m->timezone));
    return 0;
}

void web_card_view(struct web_req *r)
{
    struct ledger_card c;
    json_t *events, *moves;
    char tz[LEDGER_ZONE];
    leal_err err;
    if (!card_of(r, &c))
        return;
    events = json_array();
    moves = json_array();
    if ((err = ledger_program_zone(r->l, c.program_id, tz)) != LEAL_OK ||
        (err = ledger_card_history(r->l, c.card_id, event_one, events)) != LEAL_OK ||
        (err = ledger_history(r->l, c.account_id, 0, 20, movement_one, moves)) != LEAL_OK) {
        json_decref(events);
        json_decref(moves);
        web_ledger_error(r, err, "the card's history");
        return;
    }
    r->status = 200;
    /* Status changes carry no store: shown in the program's zone when its
     * stores share one. */
    r->out = json_pack("{s:o,s:s,s:o,s:o}", "card", card_json(&c), "timezone", tz, "history",
                       events, "movements", moves);
}

struct status_change {
    int64_t card;
    enum ledger_card_status to;
    const char *reason, *actor;
};

static leal_err do_status(struct web_req *r, void *ctx)
{
    const struct status_change *s = ctx;
    return ledger_qr_card_status(r->l, s->card, s->to, s->reason, s->actor);
}

void web_card_status(struct web_req *r)
{
    struct ledger_card c;
    json_t *block = json_object_get(r->body, "block");
    const char *reason = json_string_value(json_object_get(r->body, "reason"));
    struct ledger_audit_line a = {r->user->id, r->user->name, "", "", NULL, NULL};
    char object[64], before[64];
    leal_err err;
    if (!json_is_boolean(block) || reason == NULL || reason[0] == '\0') {
        web_api_error(r, 400, LEAL_E_ARG,
                      "send {\"block\": true or false, \"reason\": why} with a reason");
        return;
    }
    if (!card_of(r, &c))
        return;
    if (c.status == (json_is_true(block) ? LEDGER_CARD_BLOCKED : LEDGER_CARD_ACTIVE)) {
        /* Already so (a second click, two desks): nothing to change or log. */
        web_card_view(r);
        return;
    }
    struct status_change s = {c.card_id,
                              json_is_true(block) ? LEDGER_CARD_BLOCKED : LEDGER_CARD_ACTIVE,
                              reason, r->user->name};
    a.action = json_is_true(block) ? "card.block" : "card.unblock";
    snprintf(object, sizeof object, "card %lld", (long long)c.card_id);
    a.object = object;
    snprintf(before, sizeof before, "{\"status\":\"%s\"}", ledger_card_status_name(c.status));
    json_t *aj = json_pack("{s:s,s:s}", "status", ledger_card_status_name(s.to), "reason", reason);
    char *after = json_dumps(aj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(aj);
    if (after == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, "the audit line");
        return;
    }
    a.before = before;
    a.after = after;
    err = web_audited(r, do_status, &s, &a);
    free(after);
    if (err != LEAL_OK) {
        if (err == LEAL_E_CARD_STATUS_CHANGE)
            web_api_error(r, 409, err, "the card's status");
        else
            web_ledger_error(r, err, "the card");
        return;
    }
    web_card_view(r);
}

void web_hotlist(struct web_req *r)
{
    int64_t program;
    json_t *list;
    char tz[LEDGER_ZONE];
    leal_err err;
    if (!web_program_of(r, &program))
        return;
    list = json_array();
    if ((err = ledger_card_hotlist(r->l, program, event_one, list)) != LEAL_OK ||
        (err = ledger_program_zone(r->l, program, tz)) != LEAL_OK) {
        json_decref(list);
        web_ledger_error(r, err, "the hot list");
        return;
    }
    r->status = 200;
    r->out =
        json_pack("{s:I,s:s,s:o}", "program", (json_int_t)program, "timezone", tz, "hotlist", list);
}

/* ---- Terminals and settlement ---- */

/* A package about to expire: the terminal refuses it from valid_until on,
 * so the page warns a day ahead (build and put the next one). */
#define WEB_PACKAGE_EXPIRING_SECONDS 86400

struct terminal_walk {
    json_t *list;
    const char *dir; /* the packages' directory, "" or NULL: not known */
    int64_t program;
    int64_t now;
};

/* What the terminal's package file in the packages' directory says: null
 * without a directory; {"file":"missing"|"damaged"|"unreadable"} when there
 * is no package to read, "other" (with its program and terminal) when the
 * file is another terminal's or program's; else its version, issue time and
 * validity, and state "valid", "expiring" (within a day) or "expired". The
 * signature is not checked (host/package/package_file.h). */
static json_t *package_file_json(const struct terminal_walk *w,
                                 const struct ledger_terminal_view *t)
{
    struct package_info p;
    char path[4200];
    const char *state;
    leal_err err;
    if (w->dir == NULL || w->dir[0] == 0)
        return json_null();
    if ((err = package_file_path(w->dir, t->id, path, sizeof path)) == LEAL_OK)
        err = package_file_header(path, &p);
    if (err == LEAL_OK && ((int64_t)p.terminal_id != t->id || (int64_t)p.program_id != w->program))
        return json_pack("{s:s,s:I,s:I}", "file", "other", "program", (json_int_t)p.program_id,
                         "terminal", (json_int_t)p.terminal_id);
    if (err != LEAL_OK)
        return json_pack("{s:s}", "file",
                         err == LEAL_E_NOT_FOUND ? "missing"
                         : err == LEAL_E_IO || err == LEAL_E_PERMISSION || err == LEAL_E_RANGE
                             ? "unreadable"
                             : "damaged");
    state = (uint64_t)w->now >= p.valid_until                                  ? "expired"
            : p.valid_until - (uint64_t)w->now <= WEB_PACKAGE_EXPIRING_SECONDS ? "expiring"
                                                                               : "valid";
    return json_pack("{s:s,s:I,s:I,s:I,s:s}", "file", "found", "version", (json_int_t)p.version,
                     "issued_at", (json_int_t)p.issued, "valid_until_at", (json_int_t)p.valid_until,
                     "state", state);
}

static int terminal_one(void *ctx, const struct ledger_terminal_view *t)
{
    const struct terminal_walk *w = ctx;
    json_array_append_new(
        w->list,
        json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:o}", "id", (json_int_t)t->id,
                  "store_id", (json_int_t)t->store_id, "store", t->store_code, "name", t->name,
                  "epoch", (json_int_t)t->epoch, "package_version", (json_int_t)t->package_version,
                  "package_built_at", (json_int_t)t->package_built_at, "last_entry_at",
                  (json_int_t)t->last_entry_at, "entries", (json_int_t)t->entries,
                  "import_findings", (json_int_t)t->findings, "timezone", t->timezone,
                  "package_file", package_file_json(w, t)));
    return 0;
}

static int finding_one(void *ctx, const struct ledger_reconcile_finding *f)
{
    json_array_append_new(
        ctx, json_pack("{s:I,s:I,s:I,s:s,s:b,s:s,s:s,s:I,s:s}", "id", (json_int_t)f->id, "card",
                       (json_int_t)f->card_id, "terminal", (json_int_t)f->terminal_id, "kind",
                       f->kind, "fraud", f->fraud, "evidence", f->evidence, "detail", f->detail,
                       "found_at", (json_int_t)f->found_at, "state", f->state));
    return 0;
}

void web_terminals(struct web_req *r)
{
    int64_t program;
    json_t *terms, *findings;
    struct terminal_walk w;
    leal_err err;
    if (!web_program_of(r, &program))
        return;
    terms = json_array();
    findings = json_array();
    w = (struct terminal_walk){terms, r->packages_dir, program, (int64_t)time(NULL)};
    if ((err = ledger_terminal_each(r->l, program, terminal_one, &w)) != LEAL_OK ||
        (err = ledger_reconcile_list(r->l, program, 0, false, finding_one, findings)) != LEAL_OK) {
        json_decref(terms);
        json_decref(findings);
        web_ledger_error(r, err, "the terminals");
        return;
    }
    r->status = 200;
    r->out =
        json_pack("{s:I,s:o,s:o,s:b,s:I}", "program", (json_int_t)program, "terminals", terms,
                  "findings", findings, "packages_known",
                  r->packages_dir != NULL && r->packages_dir[0] != 0, "now", (json_int_t)w.now);
}

/* A report part as a list of objects: euros in cents, days and months as text. */
static json_t *part_json(const struct report_part *p)
{
    json_t *rows = json_array();
    char day[16];
    for (size_t i = 0; i < p->nrows; i++) {
        json_t *o = json_object();
        for (size_t c = 0; c < p->ncols; c++) {
            const struct report_cell *v = report_cell_at(p, i, c);
            json_t *j;
            if (v->null)
                j = json_null();
            else if (p->col[c].type == REPORT_TEXT)
                j = json_string(v->s ? v->s : "");
            else if (p->col[c].type == REPORT_DATE || p->col[c].type == REPORT_MONTH) {
                (p->col[c].type == REPORT_DATE ? report_day_str : report_month_str)(v->i, day,
                                                                                    sizeof day);
                j = json_string(day);
            } else
                j = json_integer(v->i);
            json_object_set_new(o, p->col[c].name, j);
        }
        json_array_append_new(rows, o);
    }
    return rows;
}

/* ?name=YYYY-MM-DD into *day, or dflt without one. */
static bool day_param(struct web_req *r, const char *name, int64_t dflt, int64_t *day)
{
    const char *v = r->query(r->conn, name);
    *day = dflt;
    if (v == NULL || v[0] == '\0')
        return true;
    if (report_day_parse(v, day) != LEAL_OK) {
        char why[96];
        web_textf(r, why, sizeof why, "?%s= takes a date, YYYY-MM-DD", name);
        web_api_error(r, 400, LEAL_E_DATE, why);
        return false;
    }
    return true;
}

void web_settlement(struct web_req *r)
{
    int64_t program, today = (int64_t)time(NULL) / DAY, from, to;
    int y, m, d;
    struct report rep;
    leal_err err;
    if (!report_program(r, &program))
        return;
    report_civil(today, &y, &m, &d);
    if (!day_param(r, "from", today - (d - 1), &from) || !day_param(r, "to", today, &to))
        return;
    struct report_query q = {"settlement", program, NULL, from, to, 0, r->l};
    err = report_run(r->reports, &q, &rep);
    if (err == LEAL_E_SETTLE_NOT_COLLECTIVE) {
        /* Not an error of the request: the page says settlement is a collective's. */
        report_free(&rep);
        r->status = 200;
        r->out = json_pack("{s:I,s:b,s:o}", "program", (json_int_t)program, "collective", 0, "rows",
                           json_array());
        return;
    }
    if (err != LEAL_OK) {
        const char *why = report_db_errmsg(r->reports);
        report_free(&rep);
        /* A program that is not a collective, a bad range: the user's to fix. */
        web_api_error(r,
                      err == LEAL_E_REPORT_RANGE || err == LEAL_E_UNKNOWN_PROGRAM ||
                              (err >= LEAL_E_SETTLE_NOT_COLLECTIVE && err <= LEAL_E_SETTLE_ORDER)
                          ? 400
                          : 500,
                      err, why[0] ? why : "the settlement");
        return;
    }
    char f[16], t[16];
    report_day_str(from, f, sizeof f);
    report_day_str(to, t, sizeof t);
    r->status = 200;
    r->out = json_pack("{s:I,s:b,s:s,s:s,s:o}", "program", (json_int_t)program, "collective", 1,
                       "from", f, "to", t, "rows", part_json(&rep.part[0]));
    report_free(&rep);
}
