/*
 * web_catalogue.c - the promotions page's changes to a tier, a reward, a
 * stamp card or a bono kind (see web_pages.h): an edit of one, or adding or
 * removing one ("op": "add" or "remove"; the ledger's own edits,
 * host/ledger/ledger_catalogue.h, refuse duplicate names, a tier a reward
 * asks for, a reward a stamp card hands over, a stamp card but the last, a
 * full list), the same shape as an earning rule's
 * (web_rules.c). The change is replayed over past sales by ledger_simulate and checked as the
 * engine checks a set (rules_codec_problem) before it is saved; the save is the next version of the
 * set through ledger_rules_change, with its reason, and its audit line with the part before and
 * after, in one transaction.
 */
#include "web_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_bono.h"
#include "host/ledger/ledger_catalogue.h"
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_simulate.h"

enum cat_part { CAT_TIER, CAT_REWARD, CAT_STAMP, CAT_BONO };
static const char *const part_names[] = {"tier", "reward", "stamp", "bono"};
/* How a person names each part in a line of the rules' history. */
static const char *const part_words[] = {"tier", "reward", "stamp card", "bono"};
enum cat_op { OP_CHANGE, OP_ADD, OP_REMOVE };
static const char *const op_names[] = {"change", "add", "remove"};
static const char *const op_done[] = {"changed", "added", "removed"};
static const char *const reward_kinds[] = {"", "product", "voucher", "percent", "cashback"};

/* One field a body may change: its key, bounds, the part it belongs to,
 * and for a new item whether it must be given (else its default). */
struct field {
    enum cat_part part;
    const char *key;
    int64_t lo, hi;
    bool needed;
    int64_t dflt;
};

static const struct field fields[] = {
    {CAT_TIER, "threshold_euros", 0, 1000000, true, 0},
    {CAT_TIER, "multiplier_milli", 0, 100000, false, 1000},
    {CAT_REWARD, "cost_points", 1, 1000000000, true, 0},
    {CAT_REWARD, "value", 0, RULES_MAX_SALE_CENTS, true, 0},
    {CAT_REWARD, "min_tier", 0, RULES_MAX_TIERS, false, 0},
    {CAT_STAMP, "goal", 2, 255, true, 0},
    {CAT_STAMP, "reward", 1, UINT32_MAX, true, 0},
    {CAT_BONO, "sessions", 1, 65535, true, 0},
    {CAT_BONO, "valid_days", 0, RULES_MAX_BONO_VALID_DAYS, false, 0},
    {CAT_BONO, "price_cents", 0, RULES_MAX_SALE_CENTS, true, 0},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* The body's change: what to do, the part, the item (a tier or stamp card
 * by its number from 1, a reward or bono kind by its id; of a new one, set
 * once it is added), the fields given. */
struct cat_edit {
    enum cat_op op;
    enum cat_part part;
    int64_t id;
    bool has[NFIELDS];
    int64_t v[NFIELDS];
    uint8_t kind;     /* a new reward's */
    uint8_t per;      /* a new stamp card's */
    const char *name; /* NULL: kept */
    char what[96];    /* the rules' history line, once applied */
    struct ledger_cat_why why;
    json_t *before, *after;
};

#define EDIT_BODY                                                                                  \
    "send {\"part\": tier, reward, stamp or bono, \"id\": which, \"name\" and that part's own "    \
    "fields in their bounds}"
#define ADD_BODY                                                                                   \
    "to add, send {\"op\": \"add\", \"part\", \"name\" and the part's fields: tier "               \
    "threshold_euros; reward kind (product, voucher, percent or cashback), cost_points, value; "   \
    "stamp goal, reward (and per: sale or item); bono sessions, price_cents}"
#define REMOVE_BODY "to remove, send {\"op\": \"remove\", \"part\" and \"id\"} and no fields"

/* The index of s in names[0..n), or -1. */
static int index_of(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* A new item's own words: a reward's kind, a stamp card's per. */
static bool add_words(struct web_req *r, struct cat_edit *e)
{
    const char *kind = json_string_value(json_object_get(r->body, "kind"));
    const char *per = json_string_value(json_object_get(r->body, "per"));
    int k = index_of(kind, reward_kinds, 5);
    if ((json_object_get(r->body, "kind") && (e->part != CAT_REWARD || k < 1)) ||
        (json_object_get(r->body, "per") &&
         (e->part != CAT_STAMP || (index_of(per, (const char *const[]){"sale", "item"}, 2) < 0))))
        return false;
    if (e->part == CAT_REWARD && k < 1)
        return false;
    e->kind = (uint8_t)(k > 0 ? k : 0);
    e->per = per && strcmp(per, "item") == 0 ? RULES_STAMP_PER_ITEM : RULES_STAMP_PER_SALE;
    return true;
}

static bool cat_edit_of(struct web_req *r, struct cat_edit *e)
{
    const char *part = json_string_value(json_object_get(r->body, "part"));
    json_t *op = json_object_get(r->body, "op");
    json_t *id = json_object_get(r->body, "id"), *name = json_object_get(r->body, "name");
    int o = op ? index_of(json_string_value(op), op_names, 3) : OP_CHANGE;
    int p = index_of(part, part_names, 4);
    bool any = false, ok = p >= 0 && o >= 0 &&
                           (name == NULL || (json_is_string(name) && json_string_length(name) > 0 &&
                                             json_string_length(name) < LEDGER_RULES_NAME));
    const char *body = o == OP_ADD ? ADD_BODY : o == OP_REMOVE ? REMOVE_BODY : EDIT_BODY;
    memset(e, 0, sizeof *e);
    e->op = o == OP_ADD ? OP_ADD : o == OP_REMOVE ? OP_REMOVE : OP_CHANGE;
    e->part = (enum cat_part)(p >= 0 ? p : 0);
    if (e->op == OP_ADD)
        ok = ok && id == NULL && name != NULL && add_words(r, e);
    else
        ok = ok && json_is_integer(id) && json_integer_value(id) > 0 &&
             json_integer_value(id) <= UINT32_MAX && json_object_get(r->body, "kind") == NULL &&
             json_object_get(r->body, "per") == NULL;
    if (e->op == OP_REMOVE && name != NULL)
        ok = false;
    for (size_t i = 0; ok && i < NFIELDS; i++) {
        json_t *v = json_object_get(r->body, fields[i].key);
        if (v == NULL) {
            if (e->op == OP_ADD && fields[i].part == e->part) {
                ok = !fields[i].needed;
                e->has[i] = true;
                e->v[i] = fields[i].dflt;
            }
            continue;
        }
        if (e->op == OP_REMOVE || fields[i].part != e->part || !json_is_integer(v) ||
            json_integer_value(v) < fields[i].lo || json_integer_value(v) > fields[i].hi)
            ok = false;
        e->has[i] = any = true;
        e->v[i] = (int64_t)json_integer_value(v);
    }
    if (!ok || (e->op == OP_CHANGE && !any && name == NULL)) {
        web_api_error(r, 400, LEAL_E_ARG, body);
        return false;
    }
    e->id = e->op == OP_ADD ? 0 : (int64_t)json_integer_value(id);
    e->name = json_string_value(name);
    return true;
}

/* The value of field key if the edit sets it, else now. */
static int64_t field(const struct cat_edit *e, const char *key, int64_t now)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (e->has[i] && fields[i].part == e->part && strcmp(fields[i].key, key) == 0)
            return e->v[i];
    return now;
}

/* The item's index in lr, or -1. */
static int item_index(const struct ledger_rules *lr, const struct cat_edit *e)
{
    const struct rules_program *p = &lr->set.program;
    switch (e->part) {
    case CAT_TIER:
        return e->id <= p->n_tiers ? (int)e->id - 1 : -1;
    case CAT_STAMP:
        return e->id <= p->n_stamps ? (int)e->id - 1 : -1;
    case CAT_REWARD:
        for (unsigned i = 0; i < p->n_rewards; i++)
            if (p->rewards[i].id == e->id)
                return (int)i;
        return -1;
    case CAT_BONO:
        for (unsigned i = 0; i < lr->set.n_bonos; i++)
            if (lr->set.bonos[i].id == e->id)
                return (int)i;
        return -1;
    }
    return -1;
}

/* The item as the page shows it. */
static json_t *item_json(const struct ledger_rules *lr, enum cat_part part, int i)
{
    const struct rules_program *p = &lr->set.program;
    switch (part) {
    case CAT_TIER:
        return json_pack("{s:s,s:I,s:I}", "name", lr->tier_name[i], "threshold_euros",
                         (json_int_t)p->tiers[i].threshold_units, "multiplier_milli",
                         (json_int_t)p->tiers[i].multiplier_milli);
    case CAT_REWARD:
        return json_pack("{s:s,s:I,s:I,s:i}", "name", lr->reward_name[i], "cost_points",
                         (json_int_t)p->rewards[i].cost_points, "value",
                         (json_int_t)p->rewards[i].value, "min_tier", (int)p->rewards[i].min_tier);
    case CAT_STAMP:
        return json_pack("{s:s,s:i,s:I}", "name", lr->stamp_name[i], "goal", (int)p->stamps[i].goal,
                         "reward", (json_int_t)p->stamps[i].reward_id);
    case CAT_BONO:
        return json_pack("{s:s,s:i,s:i,s:I}", "name", lr->bono_name[i], "sessions",
                         (int)lr->set.bonos[i].sessions, "valid_days",
                         (int)lr->set.bonos[i].valid_days, "price_cents",
                         (json_int_t)lr->set.bonos[i].price_cents);
    }
    return json_null();
}

/* The item e names once e->id is known, its index in lr or -1. */
static leal_err add_item(struct ledger_rules *lr, struct cat_edit *e, uint32_t *made)
{
    switch (e->part) {
    case CAT_TIER: {
        struct rules_tier t = {(uint32_t)field(e, "threshold_euros", 0),
                               (uint32_t)field(e, "multiplier_milli", 1000)};
        return ledger_cat_tier_add(lr, &t, e->name, made, &e->why);
    }
    case CAT_REWARD: {
        struct rules_reward w = {0, e->kind, (uint32_t)field(e, "cost_points", 0),
                                 field(e, "value", 0), (uint8_t)field(e, "min_tier", 0)};
        return ledger_cat_reward_add(lr, &w, e->name, made, &e->why);
    }
    case CAT_STAMP: {
        struct rules_stamp t = {e->per, 0, (uint8_t)field(e, "goal", 0),
                                (uint32_t)field(e, "reward", 0), 0};
        return ledger_cat_stamp_add(lr, &t, e->name, made, &e->why);
    }
    case CAT_BONO: {
        struct rules_bono_kind b = {0, (uint16_t)field(e, "sessions", 0),
                                    (uint16_t)field(e, "valid_days", 0),
                                    field(e, "price_cents", 0)};
        return ledger_cat_bono_add(lr, &b, e->name, made, &e->why);
    }
    }
    return LEAL_E_ARG;
}

static leal_err remove_item(struct ledger_rules *lr, struct cat_edit *e)
{
    uint32_t id = (uint32_t)e->id;
    switch (e->part) {
    case CAT_TIER:
        return ledger_cat_tier_remove(lr, id, &e->why);
    case CAT_REWARD:
        return ledger_cat_reward_remove(lr, id, &e->why);
    case CAT_STAMP:
        return ledger_cat_stamp_remove(lr, id, &e->why);
    case CAT_BONO:
        return ledger_cat_bono_remove(lr, id, &e->why);
    }
    return LEAL_E_ARG;
}

/* e's fields and name applied to item i of lr. */
static leal_err change_item(struct ledger_rules *lr, struct cat_edit *e, int i)
{
    struct rules_program *p = &lr->set.program;
    leal_err err;
    char *name = e->part == CAT_TIER     ? lr->tier_name[i]
                 : e->part == CAT_REWARD ? lr->reward_name[i]
                 : e->part == CAT_STAMP  ? lr->stamp_name[i]
                                         : lr->bono_name[i];
    /* A new name must be free; the one it has is kept even if another shares it. */
    if (e->name && strcmp(e->name, name) != 0 &&
        (err = ledger_cat_name_free(lr, (enum ledger_cat_part)e->part, i, e->name, &e->why)) !=
            LEAL_OK)
        return err;
    switch (e->part) {
    case CAT_TIER:
        p->tiers[i].threshold_units =
            (uint32_t)field(e, "threshold_euros", p->tiers[i].threshold_units);
        p->tiers[i].multiplier_milli =
            (uint32_t)field(e, "multiplier_milli", p->tiers[i].multiplier_milli);
        break;
    case CAT_REWARD:
        p->rewards[i].cost_points = (uint32_t)field(e, "cost_points", p->rewards[i].cost_points);
        p->rewards[i].value = field(e, "value", p->rewards[i].value);
        p->rewards[i].min_tier = (uint8_t)field(e, "min_tier", p->rewards[i].min_tier);
        break;
    case CAT_STAMP: {
        uint32_t w = (uint32_t)field(e, "reward", p->stamps[i].reward_id);
        unsigned k = 0;
        while (k < p->n_rewards && p->rewards[k].id != w)
            k++;
        if (k == p->n_rewards) {
            e->why = (struct ledger_cat_why){
                "there is no reward %u for the stamp card to hand over", w, 0};
            return LEAL_E_RULES_PROGRAM;
        }
        p->stamps[i].goal = (uint8_t)field(e, "goal", p->stamps[i].goal);
        p->stamps[i].reward_id = w;
        break;
    }
    default:
        lr->set.bonos[i].sessions = (uint16_t)field(e, "sessions", lr->set.bonos[i].sessions);
        lr->set.bonos[i].valid_days = (uint16_t)field(e, "valid_days", lr->set.bonos[i].valid_days);
        lr->set.bonos[i].price_cents = field(e, "price_cents", lr->set.bonos[i].price_cents);
        break;
    }
    if (e->name)
        snprintf(name, LEDGER_RULES_NAME, "%s", e->name);
    return LEAL_OK;
}

/* e applied to lr (names included); e->before, e->after (null for the
 * side without the item), e->id of a new item and e->what filled. */
static leal_err cat_apply(struct ledger_rules *lr, void *ctx)
{
    struct cat_edit *e = ctx;
    int i = e->op == OP_ADD ? -1 : item_index(lr, e);
    uint32_t made = 0;
    leal_err err;
    e->why.fmt = NULL;
    if (e->op == OP_CHANGE && i < 0)
        return LEAL_E_UNKNOWN_ID; /* a removal's own edit says which item is missing */
    json_decref(e->before);
    json_decref(e->after);
    e->before = i >= 0 ? item_json(lr, e->part, i) : json_null();
    e->after = NULL;
    if (e->op == OP_ADD) {
        if ((err = add_item(lr, e, &made)) != LEAL_OK)
            return err;
        e->id = made;
        i = item_index(lr, e);
    } else if (e->op == OP_REMOVE) {
        if ((err = remove_item(lr, e)) != LEAL_OK)
            return err;
    } else if ((err = change_item(lr, e, i)) != LEAL_OK) {
        return err;
    }
    e->after = e->op == OP_REMOVE || i < 0 ? json_null() : item_json(lr, e->part, i);
    snprintf(e->what, sizeof e->what, "%s %lld %s", part_words[e->part], (long long)e->id,
             op_done[e->op]);
    return LEAL_OK;
}

static void cat_error(struct web_req *r, const struct cat_edit *e, leal_err err)
{
    char why[256];
    if (e->why.fmt != NULL) {
        web_textf(r, why, sizeof why, e->why.fmt, e->why.a, e->why.b);
        web_api_error(r, err == LEAL_E_UNKNOWN_ID ? 404 : 409,
                      err == LEAL_E_UNKNOWN_ID ? err : LEAL_E_CATALOGUE_REFUSED, why);
    } else if (err == LEAL_E_UNKNOWN_ID)
        web_api_error(r, 404, err, "no such tier, reward, stamp card or bono kind");
    else if (err == LEAL_E_RULES_PROGRAM)
        web_api_error(r, 400, err, "the rules with this change");
    else
        web_ledger_error(r, err, "the rules");
}

/* The sessions customers still hold of a bono kind a removal names (0
 * otherwise): the simulation shows them. Terminals still take them from the
 * cards; the desk's `leal bono use --kind` finds kinds in the current rules. */
static leal_err bono_held(struct web_req *r, int64_t program, const struct cat_edit *e, int64_t *n)
{
    *n = 0;
    if (e->op != OP_REMOVE || e->part != CAT_BONO)
        return LEAL_OK;
    return ledger_bono_outstanding(r->l, program, (uint32_t)e->id, n);
}

/* POST /api/catalogue/simulate: the change replayed over "from".."to"
 * against the current set, the part before and after it, and whether the
 * engine accepts the set so changed. Writes nothing. */
void web_catalogue_simulate(struct web_req *r)
{
    int64_t program;
    struct cat_edit e;
    struct ledger_rules *lr;
    struct ledger_sim_totals now = {0}, with = {0};
    struct rules_problem where;
    int64_t held = 0;
    const char *from, *to;
    leal_err err;
    if (!web_program_of(r, &program) || !cat_edit_of(r, &e) || !web_sim_period(r, &from, &to))
        return;
    if ((lr = malloc(sizeof *lr)) == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, NULL);
        return;
    }
    struct ledger_sim_request rq = {program, from, to, &lr->set.program};
    if ((err = bono_held(r, program, &e, &held)) == LEAL_OK &&
        (err = ledger_rules_get(r->l, program, 0, lr)) == LEAL_OK &&
        (err = ledger_simulate(r->l, &rq, NULL, NULL, &now)) == LEAL_OK &&
        (err = cat_apply(lr, &e)) == LEAL_OK &&
        (err = rules_codec_problem(&lr->set, &where)) == LEAL_OK)
        err = ledger_simulate(r->l, &rq, NULL, NULL, &with);
    free(lr);
    if (err != LEAL_OK) {
        json_decref(e.before);
        json_decref(e.after);
        cat_error(r, &e, err);
        return;
    }
    r->status = 200;
    r->out = web_sim_json(program, from, to, &now, &with);
    json_object_set_new(r->out, "op", json_string(op_names[e.op]));
    json_object_set_new(r->out, "part", json_string(part_names[e.part]));
    json_object_set_new(r->out, "id", json_integer(e.id));
    json_object_set_new(r->out, "before", e.before);
    json_object_set_new(r->out, "after", e.after);
    if (e.op == OP_REMOVE && e.part == CAT_BONO)
        json_object_set_new(r->out, "sessions_held", json_integer(held));
}

struct cat_save {
    struct ledger_rules_change c;
    int64_t program;
    struct cat_edit *e;
    struct ledger_audit_line *a;
    char *before, *after;
    char object[64];
};

static leal_err do_cat_save(struct web_req *r, void *ctx)
{
    struct cat_save *s = ctx;
    leal_err err = ledger_rules_change(r->l, s->program, &s->c);
    if (err == LEAL_OK) {
        /* The audit line names the item as it is after the change (a new one's number or id). */
        snprintf(s->object, sizeof s->object, "program %lld %s %lld", (long long)s->program,
                 part_names[s->e->part], (long long)s->e->id);
        s->before = json_dumps(s->e->before, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        s->after = json_dumps(s->e->after, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        s->a->before = json_is_null(s->e->before) ? NULL : s->before;
        s->a->after = json_is_null(s->e->after) ? NULL : s->after;
    }
    return err;
}

/* PUT /api/catalogue ({"op", "part", "id", fields, "reason"}): the next
 * version of the set, its reason and the audit line (catalogue.edit, .add
 * or .remove; the item before and after, none on the side without it) in
 * one transaction. */
void web_catalogue_edit(struct web_req *r)
{
    static const char *const actions[] = {"catalogue.edit", "catalogue.add", "catalogue.remove"};
    int64_t program;
    struct cat_edit e;
    const char *reason = json_string_value(json_object_get(r->body, "reason"));
    if (!web_program_of(r, &program) || !cat_edit_of(r, &e))
        return;
    if (reason == NULL || reason[0] == '\0') {
        web_api_error(r, 400, LEAL_E_ARG, "say why in \"reason\"");
        return;
    }
    snprintf(e.what, sizeof e.what, "%s %s", part_words[e.part], op_done[e.op]);
    struct cat_save s = {
        {r->user->name, reason, e.what, cat_apply, &e, {0}, 0}, program, &e, NULL, NULL, NULL, ""};
    struct ledger_audit_line a = {r->user->id, r->user->name, actions[e.op], s.object, NULL, NULL};
    s.a = &a;
    leal_err err = web_audited(r, do_cat_save, &s, &a);
    free(s.before);
    free(s.after);
    json_decref(e.before);
    json_decref(e.after);
    if (err != LEAL_OK) {
        cat_error(r, &e, err);
        return;
    }
    web_rules(r);
}
