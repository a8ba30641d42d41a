/*
 * web_api.c - the API's handlers and its role table (see web_api.h).
 */
#include "web_api.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/ledger/amount.h"
#include "host/web/web_auth.h"
#include "host/web/web_care.h"
#include "host/web/web_pages.h"
#include "host/web/web_reset.h"
#include "host/web/web_users.h"

#define SEARCH_LIMIT 50

/* ---- Sessions ---- */

static void limit_keys(const struct web_req *r, const char *name, char *user, char *addr)
{
    snprintf(user, WEB_LIMIT_KEY, "user:%s", name);
    snprintf(addr, WEB_LIMIT_KEY, "addr:%s", r->addr);
}

/* The session of a user who proved their password: cookie and CSRF token. */
static void session_open(struct web_req *r, const struct ledger_user *u)
{
    char token[WEB_AUTH_TOKEN_HEX], csrf[WEB_AUTH_TOKEN_HEX];
    uint8_t hash[32];
    struct ledger_audit_line a = {u->id, u->name, "session.sign-in", "", NULL, NULL};
    char object[96];
    leal_err err;
    snprintf(object, sizeof object, "user %lld", (long long)u->id);
    a.object = object;
    if ((err = web_auth_token(token)) != LEAL_OK || (err = web_auth_token(csrf)) != LEAL_OK ||
        (err = web_auth_token_hash(token, hash)) != LEAL_OK) {
        web_api_error(r, 500, err, "a session token");
        return;
    }
    if ((err = ledger_session_add(r->l, hash, u->id, csrf,
                                  (int64_t)time(NULL) + WEB_SESSION_SECONDS)) != LEAL_OK ||
        (err = ledger_audit_add(r->l, &a)) != LEAL_OK) {
        web_ledger_error(r, err, "the session");
        return;
    }
    snprintf(r->cookie, sizeof r->cookie,
             "leal_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", token,
             WEB_SESSION_SECONDS, r->tls ? "; Secure" : "");
    r->status = 200;
    r->out = json_pack("{s:o,s:s}", "user", web_user_json(u), "csrf", csrf);
}

static void sign_in(struct web_req *r)
{
    const char *name = json_string_value(json_object_get(r->body, "name"));
    const char *password = json_string_value(json_object_get(r->body, "password"));
    char user_key[WEB_LIMIT_KEY], addr_key[WEB_LIMIT_KEY];
    struct ledger_user u;
    int64_t now = (int64_t)time(NULL);
    leal_err err;
    bool ok;
    if (name == NULL || password == NULL) {
        web_api_error(r, 400, LEAL_E_ARG, "sign-in needs \"name\" and \"password\"");
        return;
    }
    limit_keys(r, name, user_key, addr_key);
    if (!web_limit_allowed(r->limit, user_key, now) ||
        !web_limit_allowed(r->limit, addr_key, now)) {
        web_api_error(r, 429, LEAL_E_WEB_RATE_LIMIT, NULL);
        return;
    }
    err = ledger_user_by_name(r->l, name, &u);
    if (err != LEAL_OK && err != LEAL_E_WEB_NO_USER) {
        web_ledger_error(r, err, "the user");
        return;
    }
    if (err == LEAL_OK) {
        ok = web_auth_verify(password, u.pass_hash) && !u.disabled;
    } else {
        web_auth_waste(password);
        ok = false;
    }
    if (!ok) {
        web_limit_fail(r->limit, user_key, now);
        web_limit_fail(r->limit, addr_key, now);
        web_api_error(r, 401, LEAL_E_WEB_SIGN_IN, NULL);
        return;
    }
    web_limit_clear(r->limit, user_key);
    session_open(r, &u);
}

static void sign_out(struct web_req *r)
{
    leal_err err = ledger_session_end(r->l, r->session, (int64_t)time(NULL));
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the session");
        return;
    }
    snprintf(r->cookie, sizeof r->cookie,
             "leal_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             r->tls ? "; Secure" : "");
    r->status = 200;
    r->out = json_pack("{s:b}", "signed_out", 1);
}

static void me(struct web_req *r)
{
    r->status = 200;
    r->out = json_pack("{s:o,s:s}", "user", web_user_json(r->user), "csrf", r->csrf);
}

/* ---- Customers ---- */

struct found {
    const struct web_scope *scope;
    json_t *list;
};

static int found_one(void *ctx, const struct ledger_customer *c)
{
    struct found *f = ctx;
    if (web_scope_has(f->scope, c->program_id))
        json_array_append_new(f->list, web_customer_json(c));
    return json_array_size(f->list) >= SEARCH_LIMIT;
}

static void customers_search(struct web_req *r)
{
    const char *q = r->query(r->conn, "q");
    struct web_scope s;
    struct found f = {&s, NULL};
    struct ledger_search by = {0, LEDGER_SEARCH_ALL, "", 0};
    leal_err err;
    if (!web_scope_of(r, &s))
        return;
    if (q && q[0]) {
        by.by = LEDGER_SEARCH_NAME;
        by.q = q;
    }
    /* One program: the search's own filter; several: filtered here, the SQL
     * limit then left to the walk. */
    if (!s.all && s.n == 1)
        by.program_id = s.programs[0];
    by.limit = s.all || s.n == 1 ? SEARCH_LIMIT : 0;
    f.list = json_array();
    if (!s.all && s.n == 0)
        err = LEAL_OK;
    else
        err = ledger_customer_search(r->l, &by, found_one, &f);
    if (err != LEAL_OK) {
        json_decref(f.list);
        web_ledger_error(r, err, "the search");
        return;
    }
    r->status = 200;
    r->out = json_pack("{s:o}", "customers", f.list);
}

/* The customer of r->id if r's user sees their program (web_customer_of). */
static bool customer_of(struct web_req *r, struct ledger_customer *c)
{
    return web_customer_of(r, r->id, c);
}

/* ---- Consent per channel and purpose (rep8, issue 17) ---- */
/* A body's "consent": a list of changes, each {"channel", "granted" (true
 * or false), "purposes" (comma-separated, as `leal customer consent
 * --purpose`; absent: marketing,service), "evidence" and "text_version"
 * (the version of the consent text shown; both optional)}, recorded
 * with method "web" and the user as recorded_by. */
struct consent_edit {
    int64_t customer;
    json_t *list;
    struct ledger_audit_line *a; /* its after: the consent once changed */
};

static bool consent_check(struct web_req *r, json_t *list)
{
    size_t i;
    json_t *v;
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 32) {
        web_api_error(r, 400, LEAL_E_ARG, "\"consent\" must be a list of 1 to 32 changes");
        return false;
    }
    json_array_foreach(list, i, v)
    {
        json_t *ch = json_object_get(v, "channel"), *g = json_object_get(v, "granted"),
               *p = json_object_get(v, "purposes"), *e = json_object_get(v, "evidence"),
               *tv = json_object_get(v, "text_version");
        if (!json_is_object(v) || !json_is_string(ch) || !json_is_boolean(g) ||
            (p && !json_is_string(p)) || (e && !json_is_string(e)) ||
            (e && json_string_length(e) >= LEDGER_TEXT) || (tv && !json_is_string(tv)) ||
            (tv && json_string_length(tv) >= LEDGER_TEXT)) {
            web_api_error(r, 400, LEAL_E_ARG,
                          "each consent change needs \"channel\" (text) and \"granted\" (true "
                          "or false), and may have \"purposes\", \"evidence\" and "
                          "\"text_version\" (text)");
            return false;
        }
    }
    return true;
}

static leal_err do_consent(struct web_req *r, void *ctx)
{
    const struct consent_edit *k = ctx;
    leal_err err = LEAL_OK;
    size_t i;
    json_t *v;
    json_array_foreach(k->list, i, v)
    {
        const struct ledger_consent_change c = {
            .channel = json_string_value(json_object_get(v, "channel")),
            .granted = json_is_true(json_object_get(v, "granted")),
            .method = "web",
            .recorded_by = r->user->name,
            .purposes = json_string_value(json_object_get(v, "purposes")),
            .evidence = json_string_value(json_object_get(v, "evidence")),
            .text_version = json_string_value(json_object_get(v, "text_version")),
        };
        if ((err = ledger_consent_add(r->l, k->customer, &c)) != LEAL_OK)
            return err;
    }
    json_t *after = NULL;
    if ((err = web_consent_json(r, k->customer, &after)) != LEAL_OK)
        return err;
    k->a->after = json_dumps(after, JSON_COMPACT);
    json_decref(after);
    return k->a->after ? LEAL_OK : LEAL_E_NO_MEMORY;
}

/* The consent changes of r's body in one transaction with their audit line
 * ("customer.consent": the consent per channel and purpose before and
 * after): all or none. */
static bool consent_edit(struct web_req *r, int64_t customer)
{
    struct ledger_audit_line a = {r->user->id, r->user->name, "customer.consent", "", NULL, NULL};
    struct consent_edit k = {customer, json_object_get(r->body, "consent"), &a};
    json_t *before = NULL;
    char object[64];
    leal_err err = web_consent_json(r, customer, &before);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the consent");
        return false;
    }
    snprintf(object, sizeof object, "customer %lld", (long long)customer);
    a.object = object;
    a.before = json_dumps(before, JSON_COMPACT);
    json_decref(before);
    err = web_audited(r, do_consent, &k, &a);
    free((void *)a.before);
    free((void *)a.after);
    if (err == LEAL_E_USAGE) /* ledger_consent_add's unknown channel */
        web_api_error(r, 400, LEAL_E_ARG,
                      "a consent \"channel\" is email, sms, phone, post or whatsapp");
    else if (err == LEAL_E_CONSENT_PURPOSE)
        web_api_error(r, 400, LEAL_E_ARG,
                      "consent \"purposes\" are marketing, service and profiling, with commas");
    else if (err != LEAL_OK)
        web_ledger_error(r, err, "the consent");
    return err == LEAL_OK;
}

/* The personal fields a body may set: absent keeps, a string replaces. */
static bool customer_fields(struct web_req *r, struct ledger_customer *c)
{
    static const struct {
        const char *key;
        size_t off, cap;
    } f[] = {
#define F(n) {#n, offsetof(struct ledger_customer, n), sizeof((struct ledger_customer *)0)->n}
        F(name),       F(surname), F(email),   F(phone),
        F(birth_date), F(gender),  F(address), F(preferences),
#undef F
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        json_t *v = json_object_get(r->body, f[i].key);
        char *dst = (char *)c + f[i].off;
        if (v == NULL)
            continue;
        if (!json_is_string(v) || json_string_length(v) >= f[i].cap) {
            char why[96];
            web_textf(r, why, sizeof why, "\"%s\" must be text of at most %zu bytes", f[i].key,
                      f[i].cap - 1);
            web_api_error(r, 400, LEAL_E_TEXT, why);
            return false;
        }
        snprintf(dst, f[i].cap, "%s", json_string_value(v));
    }
    return true;
}

static char *dump(const struct ledger_customer *c)
{
    json_t *j = web_customer_json(c);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

static leal_err do_update(struct web_req *r, void *ctx)
{
    return ledger_customer_update(r->l, ctx);
}

static void customer_edit(struct web_req *r)
{
    struct ledger_customer before, after;
    struct ledger_audit_line a = {r->user->id, r->user->name, "customer.edit", "", NULL, NULL};
    char object[64];
    leal_err err;
    if (!customer_of(r, &before))
        return;
    after = before;
    if (!customer_fields(r, &after))
        return;
    /* A body with "consent": its changes first (checked whole before any
     * is written); the personal fields too when it names one. */
    json_t *consent = json_object_get(r->body, "consent");
    if (consent) {
        if (!consent_check(r, consent) || !consent_edit(r, before.id))
            return;
        if (json_object_size(r->body) == 1) {
            web_customer_view(r);
            return;
        }
    }
    snprintf(object, sizeof object, "customer %lld", (long long)before.id);
    a.object = object;
    a.before = dump(&before);
    a.after = dump(&after);
    err = web_audited(r, do_update, &after, &a);
    free((void *)a.before);
    free((void *)a.after);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the customer");
        return;
    }
    web_customer_view(r);
}

struct created {
    struct ledger_customer *c;
    struct ledger_audit_line *a;
    char object[64];
};

static leal_err do_add(struct web_req *r, void *ctx)
{
    struct created *k = ctx;
    leal_err err = ledger_customer_add(r->l, k->c, &k->c->id, &k->c->account_id);
    if (err == LEAL_OK)
        err = ledger_customer_get(r->l, k->c->id, k->c);
    if (err == LEAL_OK) {
        snprintf(k->object, sizeof k->object, "customer %lld", (long long)k->c->id);
        k->a->object = k->object;
        k->a->after = dump(k->c);
    }
    return err;
}

/* The program a new customer joins: the body's, or the user's only one. */
static bool program_for_new(struct web_req *r, int64_t *program)
{
    json_t *p = json_object_get(r->body, "program");
    struct web_scope s;
    if (!web_scope_of(r, &s))
        return false;
    if (p && json_is_integer(p))
        *program = (int64_t)json_integer_value(p);
    else if (!s.all && s.n == 1)
        *program = s.programs[0];
    else {
        web_api_error(r, 400, LEAL_E_ARG, "name the customer's \"program\"");
        return false;
    }
    if (!web_scope_has(&s, *program)) {
        web_api_error(r, 403, LEAL_E_WEB_FORBIDDEN, "that program is another store's");
        return false;
    }
    return true;
}

static void customer_create(struct web_req *r)
{
    struct ledger_customer c;
    struct ledger_audit_line a = {r->user->id, r->user->name, "customer.create", "", NULL, NULL};
    struct created k = {&c, &a, ""};
    leal_err err;
    memset(&c, 0, sizeof c);
    if (!program_for_new(r, &c.program_id) || !customer_fields(r, &c))
        return;
    err = web_audited(r, do_add, &k, &a);
    free((void *)a.after);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the customer");
        return;
    }
    r->id = c.id;
    web_customer_view(r);
    if (r->status == 200)
        r->status = 201;
}

/* ---- The audit log (admins; the users: web_users.c) ---- */

/* A JSON text of the audit log as a value (a text that is not JSON as a string). */
static json_t *audit_value(const char *text)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : json_null();
    return v ? v : json_string(text);
}

static int audit_one(void *ctx, int64_t id, int64_t at, const struct ledger_audit_line *a)
{
    json_array_append_new(ctx,
                          json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:o}", "id", (json_int_t)id, "at",
                                    (json_int_t)at, "user", (json_int_t)a->user_id, "actor",
                                    a->actor, "action", a->action, "object", a->object, "before",
                                    audit_value(a->before), "after", audit_value(a->after)));
    return 0;
}

static void audit_list(struct web_req *r)
{
    json_t *list = json_array();
    char tz[LEDGER_ZONE];
    /* Audit lines carry no store: shown in the stores' zone when they share one. */
    leal_err err = ledger_audit_each(r->l, 200, audit_one, list);
    if (err == LEAL_OK)
        err = ledger_program_zone(r->l, 0, tz);
    if (err != LEAL_OK) {
        json_decref(list);
        web_ledger_error(r, err, "the audit log");
        return;
    }
    r->status = 200;
    r->out = json_pack("{s:s,s:o}", "timezone", tz, "audit", list);
}

/* ---- The role table ---- */

#define ADMIN WEB_ROLE_BIT(LEDGER_ROLE_ADMIN)
#define MANAGER WEB_ROLE_BIT(LEDGER_ROLE_MANAGER)

const struct web_route web_routes[] = {
    {"POST", "/api/session", 0, false, sign_in},
    {"DELETE", "/api/session", WEB_ANY_ROLE, true, sign_out},
    {"POST", "/api/password/forgot", 0, false, web_password_forgot},
    {"POST", "/api/password/reset", 0, false, web_password_reset},
    {"GET", "/api/me", WEB_ANY_ROLE, false, me},
    {"GET", "/api/customers", WEB_ANY_ROLE, false, customers_search},
    {"POST", "/api/customers", WEB_ANY_ROLE, true, customer_create},
    {"GET", "/api/customers/:id", WEB_ANY_ROLE, false, web_customer_view},
    {"PUT", "/api/customers/:id", WEB_ANY_ROLE, true, customer_edit},
    {"POST", "/api/customers/:id/notes", WEB_ANY_ROLE, true, web_note_add},
    {"PUT", "/api/notes/:id", WEB_ANY_ROLE, true, web_note_edit},
    {"DELETE", "/api/notes/:id", WEB_ANY_ROLE, true, web_note_delete},
    {"POST", "/api/customers/:id/erasure", ADMIN | MANAGER, true, web_erasure_request},
    {"POST", "/api/customers/:id/erase", ADMIN, true, web_erasure_do},
    {"POST", "/api/me", WEB_ANY_ROLE, true, web_me_lang},
    {"POST", "/api/cards/:id/detach", ADMIN | MANAGER, true, web_card_detach},
    {"GET", "/api/users", ADMIN | MANAGER, false, web_users_list},
    {"POST", "/api/users", ADMIN | MANAGER, true, web_user_create},
    {"PUT", "/api/users/:id", ADMIN | MANAGER, true, web_user_role},
    {"POST", "/api/users/:id", ADMIN | MANAGER, true, web_user_change},
    {"PUT", "/api/users/:id/email", ADMIN | MANAGER, true, web_user_email},
    {"GET", "/api/audit", ADMIN, false, audit_list},
    {"GET", "/api/dashboard", ADMIN | MANAGER, false, web_dashboard},
    {"GET", "/api/cards/:id", WEB_ANY_ROLE, false, web_card_view},
    {"POST", "/api/cards/:id", WEB_ANY_ROLE, true, web_card_status},
    {"GET", "/api/hotlist", WEB_ANY_ROLE, false, web_hotlist},
    {"GET", "/api/terminals", ADMIN | MANAGER, false, web_terminals},
    {"GET", "/api/settlement", ADMIN | MANAGER, false, web_settlement},
    {"GET", "/api/rules", ADMIN | MANAGER, false, web_rules},
    {"POST", "/api/rules/simulate", ADMIN | MANAGER, true, web_rules_simulate},
    {"PUT", "/api/rules/:id", ADMIN | MANAGER, true, web_rule_edit},
    {"POST", "/api/catalogue/simulate", ADMIN | MANAGER, true, web_catalogue_simulate},
    {"PUT", "/api/catalogue", ADMIN | MANAGER, true, web_catalogue_edit},
};
const int web_nroutes = (int)(sizeof web_routes / sizeof web_routes[0]);

/* Whether path matches pattern, ":id" taking a decimal id (followed by the
 * rest of the pattern, if any). */
static bool path_match(const char *pattern, const char *path, int64_t *id)
{
    const char *colon = strstr(pattern, ":id");
    size_t head = colon ? (size_t)(colon - pattern) : strlen(pattern);
    int64_t v = 0;
    if (strncmp(pattern, path, head) != 0)
        return false;
    if (colon == NULL)
        return path[head] == '\0';
    path += head;
    if (*path < '1' || *path > '9')
        return false;
    for (; *path >= '0' && *path <= '9'; path++) {
        if (v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*path - '0');
    }
    if (strcmp(path, colon + 3) != 0)
        return false;
    *id = v;
    return true;
}

const struct web_route *web_route_find(const char *method, const char *path, int64_t *id,
                                       bool *path_known)
{
    *path_known = false;
    *id = 0;
    for (int i = 0; i < web_nroutes; i++) {
        if (!path_match(web_routes[i].path, path, id))
            continue;
        *path_known = true;
        if (strcmp(web_routes[i].method, method) == 0)
            return &web_routes[i];
    }
    return NULL;
}
