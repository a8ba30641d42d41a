/*
 * web_users.c - the users page's API (see web_users.h).
 */
#include "web_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/mail/mail.h"
#include "host/web/web_auth.h"

json_t *web_user_json(const struct ledger_user *u)
{
    json_t *stores = json_array();
    for (int i = 0; i < u->nstores; i++)
        json_array_append_new(stores, json_integer(u->stores[i]));
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:o}", "id", (json_int_t)u->id, "name", u->name,
                     "role", ledger_role_name(u->role), "lang", u->lang[0] ? u->lang : "en",
                     "email", u->email, "disabled", u->disabled, "stores", stores);
}

/* The body's "email" (absent: "") if it is "" or an address as `leal user
 * add|set --email` takes it; false after setting the answer (400). */
static bool email_of_body(struct web_req *r, const char **email)
{
    json_t *v = json_object_get(r->body, "email");
    *email = v ? json_string_value(v) : "";
    if (*email == NULL || ((*email)[0] && (strlen(*email) >= LEDGER_USER_EMAIL ||
                                           mail_address_check(*email) != LEAL_OK))) {
        web_api_error(r, 400, LEAL_E_MAIL_ADDRESS,
                      "\"email\" (name@example.com, or \"\" for none)");
        return false;
    }
    return true;
}

static bool is_admin(const struct web_req *r)
{
    return r->user->role == LEDGER_ROLE_ADMIN;
}

/* Whether every one of stores[0..n) is one of m's. */
static bool stores_within(const struct ledger_user *m, const int64_t *stores, int n)
{
    for (int i = 0; i < n; i++) {
        bool mine = false;
        for (int j = 0; j < m->nstores && !mine; j++)
            mine = m->stores[j] == stores[i];
        if (!mine)
            return false;
    }
    return true;
}

/* The role table: an admin manages everyone; a manager the staff and
 * managers with stores, all of them the manager's. */
static bool may_manage(const struct web_req *r, const struct ledger_user *u)
{
    if (is_admin(r))
        return true;
    return u->role != LEDGER_ROLE_ADMIN && u->nstores > 0 &&
           stores_within(r->user, u->stores, u->nstores);
}

struct listed {
    const struct web_req *r;
    json_t *list;
};

static int listed_one(void *ctx, const struct ledger_user *u)
{
    struct listed *k = ctx;
    if (may_manage(k->r, u) || u->id == k->r->user->id)
        json_array_append_new(k->list, web_user_json(u));
    return 0;
}

void web_users_list(struct web_req *r)
{
    struct listed k = {r, json_array()};
    leal_err err = ledger_user_each(r->l, listed_one, &k);
    if (err != LEAL_OK) {
        json_decref(k.list);
        web_ledger_error(r, err, "the users");
        return;
    }
    r->status = 200;
    r->out = json_pack("{s:o}", "users", k.list);
}

#define ROLE_BODY                                                                                  \
    "send \"role\": admin, manager or staff and \"stores\": [store ids] (none for an admin)"

/* The body's role and stores into u; what a manager may give is checked too. */
static bool role_of_body(struct web_req *r, struct ledger_user *u)
{
    json_t *stores = json_object_get(r->body, "stores"), *v;
    size_t i;
    if (ledger_role_parse(json_string_value(json_object_get(r->body, "role")), &u->role) !=
            LEAL_OK ||
        (stores && !json_is_array(stores)) || json_array_size(stores) > LEDGER_USER_STORES) {
        web_api_error(r, 400, LEAL_E_WEB_ROLE, ROLE_BODY);
        return false;
    }
    u->nstores = 0;
    json_array_foreach(stores, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            web_api_error(r, 400, LEAL_E_WEB_ROLE, ROLE_BODY);
            return false;
        }
        u->stores[u->nstores++] = (int64_t)json_integer_value(v);
    }
    if (!is_admin(r) && (u->role == LEDGER_ROLE_ADMIN || u->nstores == 0 ||
                         !stores_within(r->user, u->stores, u->nstores))) {
        web_api_error(r, 403, LEAL_E_WEB_FORBIDDEN,
                      "a manager gives only their own stores, to staff and managers");
        return false;
    }
    return true;
}

/* The user of r->id if r's user manages them: 404 for no such user, 403
 * for another store's. */
static bool managed(struct web_req *r, struct ledger_user *u)
{
    leal_err err = ledger_user_get(r->l, r->id, u);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return false;
    }
    if (!may_manage(r, u)) {
        web_api_error(r, 403, LEAL_E_WEB_FORBIDDEN, "this user belongs to another store");
        return false;
    }
    return true;
}

static void answer_user(struct web_req *r, int64_t id, unsigned status)
{
    struct ledger_user u;
    leal_err err = ledger_user_get(r->l, id, &u);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return;
    }
    r->status = status;
    r->out = json_pack("{s:o}", "user", web_user_json(&u));
}

static char *user_text(const struct ledger_user *u)
{
    json_t *j = web_user_json(u);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

struct added {
    struct ledger_user u;
    struct ledger_audit_line *a;
    char object[40];
};

static leal_err do_add(struct web_req *r, void *ctx)
{
    struct added *k = ctx;
    struct ledger_user got;
    leal_err err = ledger_user_add(r->l, &k->u, &k->u.id);
    if (err == LEAL_OK)
        err = ledger_user_get(r->l, k->u.id, &got);
    if (err == LEAL_OK) {
        snprintf(k->object, sizeof k->object, "user %lld", (long long)got.id);
        k->a->object = k->object;
        k->a->after = user_text(&got);
    }
    return err;
}

void web_user_create(struct web_req *r)
{
    const char *name = json_string_value(json_object_get(r->body, "name"));
    const char *password = json_string_value(json_object_get(r->body, "password"));
    const char *lang = json_string_value(json_object_get(r->body, "lang"));
    const char *email = "";
    struct ledger_audit_line a = {r->user->id, r->user->name, "user.add", "", NULL, NULL};
    struct added k;
    leal_err err;
    memset(&k, 0, sizeof k);
    k.a = &a;
    if (name == NULL || strlen(name) >= sizeof k.u.name || password == NULL ||
        (lang && strcmp(lang, "en") != 0 && strcmp(lang, "es") != 0)) {
        web_api_error(r, 400, LEAL_E_ARG,
                      "a new user needs \"name\", \"password\", \"role\" and \"stores\"");
        return;
    }
    if (!role_of_body(r, &k.u) || !email_of_body(r, &email))
        return;
    snprintf(k.u.name, sizeof k.u.name, "%s", name);
    snprintf(k.u.email, sizeof k.u.email, "%s", email);
    if (lang)
        snprintf(k.u.lang, sizeof k.u.lang, "%s", lang);
    if ((err = web_auth_hash(password, k.u.pass_hash, sizeof k.u.pass_hash)) != LEAL_OK) {
        web_api_error(r, err == LEAL_E_WEB_PASSWORD ? 400 : 500, err, "the password");
        return;
    }
    err = web_audited(r, do_add, &k, &a);
    free((void *)a.after);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return;
    }
    answer_user(r, k.u.id, 201);
}

void web_user_role(struct web_req *r)
{
    struct ledger_user u, to;
    leal_err err;
    if (!managed(r, &u))
        return;
    if (u.id == r->user->id) {
        web_api_error(r, 409, LEAL_E_WEB_SELF, NULL);
        return;
    }
    memset(&to, 0, sizeof to);
    if (!role_of_body(r, &to))
        return;
    if ((err = ledger_user_set_role(r->l, u.id, &to, r->user->id, r->user->name)) != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return;
    }
    answer_user(r, u.id, 200);
}

struct change {
    int64_t id;
    json_t *disabled;
    const char *hash;
};

static leal_err do_change(struct web_req *r, void *ctx)
{
    struct change *c = ctx;
    leal_err err = LEAL_OK;
    if (c->disabled)
        err = ledger_user_set_disabled(r->l, c->id, json_is_true(c->disabled));
    if (err == LEAL_OK && c->hash)
        err = ledger_user_set_password(r->l, c->id, c->hash);
    return err;
}

void web_user_change(struct web_req *r)
{
    struct ledger_user u;
    json_t *disabled = json_object_get(r->body, "disabled");
    json_t *password = json_object_get(r->body, "password");
    char hash[LEDGER_USER_HASH], object[40], before[32], after[48];
    struct change c = {r->id, disabled, NULL};
    struct ledger_audit_line a = {r->user->id, r->user->name, "user.password", object, NULL, NULL};
    leal_err err;
    if (!managed(r, &u))
        return;
    if ((disabled && !json_is_boolean(disabled)) || (password && !json_is_string(password)) ||
        (disabled == NULL && password == NULL)) {
        web_api_error(r, 400, LEAL_E_ARG,
                      "send {\"disabled\": true or false} and/or {\"password\": a new one}");
        return;
    }
    if (disabled && u.id == r->user->id) {
        web_api_error(r, 409, LEAL_E_WEB_SELF, NULL);
        return;
    }
    if (password) {
        err = web_auth_hash(json_string_value(password), hash, sizeof hash);
        if (err != LEAL_OK) {
            web_api_error(r, err == LEAL_E_WEB_PASSWORD ? 400 : 500, err, "the password");
            return;
        }
        c.hash = hash;
    }
    snprintf(object, sizeof object, "user %lld", (long long)u.id);
    /* The password itself is never in the log: only that it changed. */
    if (disabled) {
        a.action = json_is_true(disabled) ? "user.disable" : "user.enable";
        snprintf(before, sizeof before, "{\"disabled\":%s}", u.disabled ? "true" : "false");
        snprintf(after, sizeof after, "{\"disabled\":%s%s}",
                 json_is_true(disabled) ? "true" : "false",
                 password ? ",\"password\":\"new\"" : "");
        a.before = before;
        a.after = after;
    }
    if ((err = web_audited(r, do_change, &c, &a)) != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return;
    }
    answer_user(r, u.id, 200);
}

struct email_change {
    int64_t id;
    const char *email;
};

static leal_err do_email(struct web_req *r, void *ctx)
{
    const struct email_change *c = ctx;
    return ledger_user_set_email(r->l, c->id, c->email);
}

void web_user_email(struct web_req *r)
{
    struct ledger_user u;
    const char *email = "";
    char object[40], *before = NULL, *after = NULL;
    json_t *was, *now;
    struct ledger_audit_line a = {r->user->id, r->user->name, "user.email", object, NULL, NULL};
    struct email_change c;
    leal_err err;
    if (!managed(r, &u))
        return;
    if (json_object_get(r->body, "email") == NULL) {
        web_api_error(r, 400, LEAL_E_ARG, "send {\"email\": an address, or \"\" for none}");
        return;
    }
    if (!email_of_body(r, &email))
        return;
    c.id = u.id;
    c.email = email;
    snprintf(object, sizeof object, "user %lld", (long long)u.id);
    /* As `leal user set --email` writes it. */
    was = json_pack("{s:s}", "email", u.email);
    now = json_pack("{s:s}", "email", email);
    a.before = before = was ? json_dumps(was, JSON_COMPACT) : NULL;
    a.after = after = now ? json_dumps(now, JSON_COMPACT) : NULL;
    json_decref(was);
    json_decref(now);
    if (before == NULL || after == NULL)
        err = LEAL_E_NO_MEMORY;
    else
        err = web_audited(r, do_email, &c, &a);
    free(before);
    free(after);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return;
    }
    answer_user(r, u.id, 200);
}
