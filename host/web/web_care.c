/*
 * web_care.c - customer notes, erasure requests and a user's own language
 * in the back office (see web_care.h).
 */
#include "web_care.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_erasure.h"
#include "host/ledger/ledger_family.h"
#include "host/ledger/ledger_note.h"
#include "host/privacy/privacy.h"
#include "host/web/web_pages.h"
#include "host/web/web_users.h"

/* ---- The customer view's part ---- */

static bool may_change(const struct web_req *r, const struct ledger_note *n)
{
    return r->user->role != LEDGER_ROLE_STAFF || (n->user_id > 0 && n->user_id == r->user->id);
}

static json_t *note_json(const struct web_req *r, const struct ledger_note *n)
{
    return json_pack("{s:I,s:I,s:s,s:I,s:I,s:s,s:b}", "id", (json_int_t)n->id, "at",
                     (json_int_t)n->at, "author", n->author, "user", (json_int_t)n->user_id,
                     "edited_at", (json_int_t)n->edited_at, "text", n->text, "may_change",
                     may_change(r, n));
}

struct notes {
    const struct web_req *r;
    json_t *list;
};

static int note_one(void *ctx, const struct ledger_note *n)
{
    struct notes *k = ctx;
    json_array_append_new(k->list, note_json(k->r, n));
    return 0;
}

static json_t *erasure_json(const struct ledger_erasure *e)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:I,s:b,s:I,s:s}", "id", (json_int_t)e->id, "asked_on",
                     e->asked_on, "channel", e->channel, "recorded_by", e->recorded_by,
                     "recorded_at", (json_int_t)e->recorded_at, "pending", e->done_at == 0,
                     "done_at", (json_int_t)e->done_at, "done_by", e->done_by);
}

leal_err web_care_view(struct web_req *r, int64_t customer, json_t *view)
{
    struct notes k = {r, json_array()};
    struct ledger_erasure e;
    bool found;
    size_t i;
    json_t *card;
    leal_err err = LEAL_OK;
    /* Each card's holder (family cards). */
    json_array_foreach(json_object_get(view, "cards"), i, card)
    {
        char holder[LEDGER_TEXT];
        if ((err = ledger_card_holder_get(r->l,
                                          (int64_t)json_integer_value(json_object_get(card, "id")),
                                          holder)) != LEAL_OK)
            break;
        json_object_set_new(card, "holder", json_string(holder));
    }
    if (err == LEAL_OK)
        err = ledger_note_each(r->l, customer, note_one, &k);
    if (err == LEAL_OK)
        err = ledger_erasure_of(r->l, customer, &e, &found);
    if (err != LEAL_OK) {
        json_decref(k.list);
        return err;
    }
    json_object_set_new(view, "notes", k.list);
    json_object_set_new(view, "erasure", found ? erasure_json(&e) : json_null());
    return LEAL_OK;
}

/* ---- Notes ---- */

/* The audit text of a note: {"author","note","text"}. */
static char *note_text(const struct ledger_note *n)
{
    json_t *j =
        json_pack("{s:I,s:s,s:s}", "note", (json_int_t)n->id, "author", n->author, "text", n->text);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

/* The body's "text": a note of 1..255 bytes (the ledger checks the rest). */
static const char *body_text(struct web_req *r)
{
    const char *text = json_string_value(json_object_get(r->body, "text"));
    if (text == NULL || text[0] == '\0') {
        web_api_error(r, 400, LEAL_E_ARG, "a note needs its \"text\"");
        return NULL;
    }
    return text;
}

struct note_change {
    int64_t customer, id;
    const char *text; /* NULL: delete */
    struct ledger_note n;
    struct ledger_audit_line *a;
    char object[40];
};

static leal_err do_note_add(struct web_req *r, void *ctx)
{
    struct note_change *k = ctx;
    int64_t customer;
    leal_err err = ledger_note_sign(r->l, k->customer, r->user->id, r->user->name, k->text, &k->id);
    if (err == LEAL_OK)
        err = ledger_note_get(r->l, k->id, &k->n, &customer);
    if (err == LEAL_OK && (k->a->after = note_text(&k->n)) == NULL)
        err = LEAL_E_NO_MEMORY;
    return err;
}

static void note_failed(struct web_req *r, leal_err err)
{
    if (err == LEAL_E_REASON_REQUIRED)
        web_api_error(r, 400, LEAL_E_ARG, "a note needs its \"text\"");
    else
        web_ledger_error(r, err, "the note");
}

/* Answers the customer's view, with status. */
static void answer_view(struct web_req *r, int64_t customer, unsigned status)
{
    r->id = customer;
    web_customer_view(r);
    if (r->status == 200)
        r->status = status;
}

void web_note_add(struct web_req *r)
{
    struct ledger_customer c;
    struct ledger_audit_line a = {r->user->id, r->user->name, "customer.note.add", "", NULL, NULL};
    struct note_change k;
    leal_err err;
    memset(&k, 0, sizeof k);
    if (!web_customer_of(r, r->id, &c) || (k.text = body_text(r)) == NULL)
        return;
    k.customer = c.id;
    k.a = &a;
    snprintf(k.object, sizeof k.object, "customer %lld", (long long)c.id);
    a.object = k.object;
    err = web_audited(r, do_note_add, &k, &a);
    free((void *)a.after);
    if (err != LEAL_OK) {
        note_failed(r, err);
        return;
    }
    answer_view(r, c.id, 201);
}

static leal_err do_note_change(struct web_req *r, void *ctx)
{
    struct note_change *k = ctx;
    int64_t customer;
    leal_err err =
        k->text ? ledger_note_edit(r->l, k->id, k->text) : ledger_note_delete(r->l, k->id);
    if (err == LEAL_OK && k->text) {
        err = ledger_note_get(r->l, k->id, &k->n, &customer);
        if (err == LEAL_OK && (k->a->after = note_text(&k->n)) == NULL)
            err = LEAL_E_NO_MEMORY;
    }
    return err;
}

/* The note r->id, its customer seen by r's user and the note r's user's to
 * change: 404, 403 otherwise. */
static bool note_of(struct web_req *r, struct ledger_note *n, int64_t *customer)
{
    struct ledger_customer c;
    leal_err err = ledger_note_get(r->l, r->id, n, customer);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the note");
        return false;
    }
    if (!web_customer_of(r, *customer, &c))
        return false;
    if (!may_change(r, n)) {
        web_api_error(r, 403, LEAL_E_NOTE_AUTHOR, NULL);
        return false;
    }
    return true;
}

static void note_change(struct web_req *r, const char *action, const char *text)
{
    struct ledger_audit_line a = {r->user->id, r->user->name, action, "", NULL, NULL};
    struct note_change k;
    int64_t customer;
    leal_err err;
    memset(&k, 0, sizeof k);
    if (!note_of(r, &k.n, &customer))
        return;
    k.customer = customer;
    k.id = k.n.id;
    k.text = text;
    k.a = &a;
    snprintf(k.object, sizeof k.object, "customer %lld", (long long)customer);
    a.object = k.object;
    a.before = note_text(&k.n);
    err = a.before ? web_audited(r, do_note_change, &k, &a) : LEAL_E_NO_MEMORY;
    free((void *)a.before);
    free((void *)a.after);
    if (err != LEAL_OK) {
        note_failed(r, err);
        return;
    }
    answer_view(r, customer, 200);
}

void web_note_edit(struct web_req *r)
{
    const char *text = body_text(r);
    if (text)
        note_change(r, "customer.note.edit", text);
}

void web_note_delete(struct web_req *r)
{
    note_change(r, "customer.note.delete", NULL);
}

/* ---- Erasure requests ---- */

static void erasure_failed(struct web_req *r, leal_err err)
{
    if (err == LEAL_E_ERASURE_PENDING || err == LEAL_E_ERASURE_NONE)
        web_api_error(r, 409, err, NULL);
    else if (err == LEAL_E_STATE)
        web_api_error(r, 409, err, "this customer was erased before");
    else if (err == LEAL_E_ARG)
        web_api_error(r, 400, err, "\"channel\" is desk, email, post, phone or portal");
    else
        web_ledger_error(r, err, "the erasure request");
}

struct erasure_add {
    struct ledger_erasure e;
    struct ledger_audit_line *a;
};

static leal_err do_erasure_request(struct web_req *r, void *ctx)
{
    struct erasure_add *k = ctx;
    bool found;
    leal_err err = ledger_erasure_request(r->l, &k->e, &k->e.id);
    if (err == LEAL_OK)
        err = ledger_erasure_of(r->l, k->e.customer_id, &k->e, &found);
    if (err == LEAL_OK) {
        json_t *j = erasure_json(&k->e);
        k->a->after = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        if (k->a->after == NULL)
            err = LEAL_E_NO_MEMORY;
    }
    return err;
}

void web_erasure_request(struct web_req *r)
{
    struct ledger_customer c;
    struct ledger_audit_line a = {r->user->id, r->user->name, "customer.erasure-request",
                                  "",          NULL,          NULL};
    const char *asked_on = json_string_value(json_object_get(r->body, "asked_on"));
    const char *channel = json_string_value(json_object_get(r->body, "channel"));
    struct erasure_add k;
    char object[40];
    leal_err err;
    if (!web_customer_of(r, r->id, &c))
        return;
    if (asked_on == NULL || channel == NULL || strlen(asked_on) >= sizeof k.e.asked_on ||
        strlen(channel) >= sizeof k.e.channel) {
        web_api_error(r, 400, LEAL_E_ARG,
                      "an erasure request needs \"asked_on\" (YYYY-MM-DD) and \"channel\" "
                      "(desk, email, post, phone or portal)");
        return;
    }
    memset(&k, 0, sizeof k);
    k.a = &a;
    k.e.customer_id = c.id;
    k.e.user_id = r->user->id;
    snprintf(k.e.asked_on, sizeof k.e.asked_on, "%s", asked_on);
    snprintf(k.e.channel, sizeof k.e.channel, "%s", channel);
    snprintf(k.e.recorded_by, sizeof k.e.recorded_by, "%s", r->user->name);
    snprintf(object, sizeof object, "customer %lld", (long long)c.id);
    a.object = object;
    err = web_audited(r, do_erasure_request, &k, &a);
    free((void *)a.after);
    if (err != LEAL_OK) {
        erasure_failed(r, err);
        return;
    }
    answer_view(r, c.id, 201);
}

void web_erasure_do(struct web_req *r)
{
    struct ledger_customer c;
    struct ledger_erasure e;
    bool found;
    leal_err err;
    if (!web_customer_of(r, r->id, &c))
        return;
    if ((err = ledger_erasure_of(r->l, c.id, &e, &found)) != LEAL_OK) {
        web_ledger_error(r, err, "the erasure request");
        return;
    }
    if (!found || e.done_at != 0) {
        erasure_failed(r, LEAL_E_ERASURE_NONE);
        return;
    }
    /* The decision on the customer's cards, as `leal customer erase --cards`. */
    const char *cards = json_string_value(json_object_get(r->body, "cards"));
    if (!cards || (strcmp(cards, "block") != 0 && strcmp(cards, "keep") != 0)) {
        web_api_error(r, 400, LEAL_E_ARG,
                      "\"cards\" is block (terminals refuse the customer's cards) or keep (they "
                      "go on working, anonymously)");
        return;
    }
    if (r->db_path == NULL) {
        web_api_error(r, 503, LEAL_E_NO_LEDGER, "this server has no ledger file to erase in");
        return;
    }
    /* privacy_erase works on the file on its own connection (secure_delete,
     * VACUUM, the log truncated): this connection holds no transaction now. */
    int64_t blocked = 0;
    err = privacy_erase_by(r->db_path, c.id, r->user->name, r->user->id,
                           strcmp(cards, "block") == 0, &blocked);
    if (err == LEAL_E_DB_BUSY) {
        web_api_error(r, 503, err, "the ledger is busy; try the erasure again");
        return;
    }
    if (err != LEAL_OK) {
        erasure_failed(r, err);
        return;
    }
    answer_view(r, c.id, 200);
}

/* ---- Family cards ---- */

struct detach {
    int64_t card;
    const char *reason;
};

static leal_err do_detach(struct web_req *r, void *ctx)
{
    const struct detach *k = ctx;
    return ledger_card_detach(r->l, k->card, k->reason, r->user->name);
}

void web_card_detach(struct web_req *r)
{
    const char *reason = json_string_value(json_object_get(r->body, "reason"));
    struct ledger_audit_line a = {r->user->id, r->user->name, "card.detach", "", NULL, NULL};
    struct ledger_card c;
    struct web_scope s;
    char holder[LEDGER_TEXT], object[48];
    json_t *j;
    leal_err err;
    if (reason == NULL || reason[0] == '\0') {
        web_api_error(r, 400, LEAL_E_ARG, "send {\"reason\": why} with a reason");
        return;
    }
    if ((err = ledger_card_find_by_id(r->l, r->id, &c)) != LEAL_OK ||
        (err = ledger_card_holder_get(r->l, r->id, holder)) != LEAL_OK) {
        web_ledger_error(r, err, "the card");
        return;
    }
    if (!web_scope_of(r, &s))
        return;
    if (!web_scope_has(&s, c.program_id)) {
        web_api_error(r, 403, LEAL_E_WEB_FORBIDDEN, "this card belongs to another store");
        return;
    }
    struct detach k = {c.card_id, reason};
    snprintf(object, sizeof object, "card %lld", (long long)c.card_id);
    a.object = object;
    j = json_pack("{s:I,s:s,s:s}", "account", (json_int_t)c.account_id, "holder", holder, "status",
                  ledger_card_status_name(c.status));
    a.before = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    j = json_pack("{s:I,s:s,s:s,s:s}", "account", (json_int_t)c.account_id, "holder", holder,
                  "status", "blocked", "reason", reason);
    a.after = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    err = a.before && a.after ? web_audited(r, do_detach, &k, &a) : LEAL_E_NO_MEMORY;
    free((void *)a.before);
    free((void *)a.after);
    if (err == LEAL_E_CARD_LAST)
        web_api_error(r, 409, err, NULL);
    else if (err == LEAL_E_CARD_STATUS_CHANGE)
        web_api_error(r, 409, err, "only an active card is detached");
    else if (err == LEAL_E_REASON_REQUIRED)
        web_api_error(r, 400, LEAL_E_ARG, "send {\"reason\": why} with a reason");
    else if (err != LEAL_OK)
        web_ledger_error(r, err, "the card");
    else
        web_card_view(r);
}

/* ---- The user's own language ---- */

struct lang_change {
    const char *lang;
};

static leal_err do_lang(struct web_req *r, void *ctx)
{
    const struct lang_change *k = ctx;
    return ledger_user_set_own_lang(r->l, r->user->id, k->lang);
}

void web_me_lang(struct web_req *r)
{
    const char *lang = json_string_value(json_object_get(r->body, "lang"));
    struct lang_change k = {lang};
    struct ledger_audit_line a = {r->user->id, r->user->name, "user.lang", "", NULL, NULL};
    struct ledger_user u;
    char object[40], before[32], after[32];
    leal_err err;
    if (lang == NULL || (strcmp(lang, "en") != 0 && strcmp(lang, "es") != 0)) {
        web_api_error(r, 400, LEAL_E_WEB_LANG, "\"lang\"");
        return;
    }
    snprintf(object, sizeof object, "user %lld", (long long)r->user->id);
    snprintf(before, sizeof before, "{\"lang\":\"%s\"}", r->user->lang[0] ? r->user->lang : "en");
    snprintf(after, sizeof after, "{\"lang\":\"%s\"}", lang);
    a.object = object;
    a.before = before;
    a.after = after;
    if ((err = web_audited(r, do_lang, &k, &a)) != LEAL_OK ||
        (err = ledger_user_get(r->l, r->user->id, &u)) != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return;
    }
    r->lang = strcmp(u.lang, "es") == 0 ? "es" : "en";
    r->status = 200;
    r->out = json_pack("{s:o,s:s}", "user", web_user_json(&u), "csrf", r->csrf);
}

/* ---- The customer's view (moved from web_api.c: the customer page's module
 * answers it, so web_api.c's route table calls here and nothing here calls
 * back) ---- */

json_t *web_customer_json(const struct ledger_customer *c)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)c->id,
                     "program", (json_int_t)c->program_id, "account", (json_int_t)c->account_id,
                     "created_at", (json_int_t)c->created_at, "name", c->name, "surname",
                     c->surname, "email", c->email, "phone", c->phone, "birth_date", c->birth_date,
                     "gender", c->gender, "address", c->address, "preferences", c->preferences);
}

bool web_customer_of(struct web_req *r, int64_t id, struct ledger_customer *c)
{
    struct web_scope s;
    leal_err err = ledger_customer_get(r->l, id, c);
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the customer");
        return false;
    }
    if (!web_scope_of(r, &s))
        return false;
    if (!web_scope_has(&s, c->program_id)) {
        web_api_error(r, 403, LEAL_E_WEB_FORBIDDEN, "this customer belongs to another store");
        return false;
    }
    return true;
}

/* ledger_consent_purpose_each's callback: the current consent of one
 * (channel, purpose) with its record, appended to the JSON array ctx. */
static int consent_one(void *ctx, const struct ledger_consent *c)
{
    json_array_append_new(ctx, json_pack("{s:s,s:s,s:b,s:I,s:s,s:s,s:s,s:s}", "channel", c->channel,
                                         "purpose", c->purpose, "granted", c->granted, "at",
                                         (json_int_t)c->at, "method", c->method, "recorded_by",
                                         c->recorded_by, "evidence", c->evidence, "text_version",
                                         c->text_version));
    return 0;
}

leal_err web_consent_json(struct web_req *r, int64_t customer, json_t **out)
{
    json_t *list = json_array();
    leal_err err = ledger_consent_purpose_each(r->l, customer, consent_one, list);
    if (err != LEAL_OK) {
        json_decref(list);
        return err;
    }
    *out = list;
    return LEAL_OK;
}

void web_customer_view(struct web_req *r)
{
    struct ledger_customer c;
    json_t *balances, *cards, *consent = NULL;
    leal_err err;
    if (!web_customer_of(r, r->id, &c))
        return;
    balances = json_array();
    cards = json_array();
    if ((err = ledger_balance_each(r->l, c.account_id, web_balance_one, balances)) != LEAL_OK ||
        (err = ledger_card_each_of_account(r->l, c.account_id, web_card_one, cards)) != LEAL_OK ||
        (err = web_consent_json(r, c.id, &consent)) != LEAL_OK) {
        json_decref(balances);
        json_decref(cards);
        web_ledger_error(r, err, "the balances, cards and consent");
        return;
    }
    r->out = json_pack("{s:o,s:o,s:o,s:o}", "customer", web_customer_json(&c), "balances", balances,
                       "cards", cards, "consent", consent);
    if ((err = web_care_view(r, c.id, r->out)) != LEAL_OK) {
        json_decref(r->out);
        r->out = NULL;
        web_ledger_error(r, err, "the notes and erasure request");
        return;
    }
    r->status = 200;
}
