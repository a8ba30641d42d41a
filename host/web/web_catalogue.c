/*
 * web_catalogue.c - the promotions page's edits of a tier, a reward, a stamp
 * card or a bono kind (see web_pages.h): the same shape as an earning rule's
 * (web_rules.c). The change is replayed over past sales by ledger_simulate
 * and checked as the engine checks a set (rules_codec_problem) before it is
 * saved; the save is the next version of the set through
 * ledger_rules_change, with its reason, and its audit line with the part
 * before and after, in one transaction.
 */
#include "web_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_simulate.h"

enum cat_part { CAT_TIER, CAT_REWARD, CAT_STAMP, CAT_BONO };
static const char *const part_names[] = {"tier", "reward", "stamp", "bono"};

/* One field a body may change: its key, bounds and the part it belongs to. */
struct field {
    enum cat_part part;
    const char *key;
    int64_t lo, hi;
};

static const struct field fields[] = {
    {CAT_TIER, "threshold_euros", 0, 1000000},
    {CAT_TIER, "multiplier_milli", 0, 100000},
    {CAT_REWARD, "cost_points", 1, 1000000000},
    {CAT_REWARD, "value", 0, RULES_MAX_SALE_CENTS},
    {CAT_REWARD, "min_tier", 0, RULES_MAX_TIERS},
    {CAT_STAMP, "goal", 2, 255},
    {CAT_STAMP, "reward", 1, UINT32_MAX},
    {CAT_BONO, "sessions", 1, 65535},
    {CAT_BONO, "valid_days", 0, 65535},
    {CAT_BONO, "price_cents", 0, RULES_MAX_SALE_CENTS},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* The body's change: part, the item (a tier or stamp card by its number
 * from 1, a reward or bono kind by its id), the fields given. */
struct cat_edit {
    enum cat_part part;
    int64_t id;
    bool has[NFIELDS];
    int64_t v[NFIELDS];
    const char *name; /* NULL: kept */
    json_t *before, *after;
};

#define EDIT_BODY                                                                                  \
    "send {\"part\": tier, reward, stamp or bono, \"id\": which, \"name\" and that part's own "    \
    "fields in their bounds}"

static bool cat_edit_of(struct web_req *r, struct cat_edit *e)
{
    const char *part = json_string_value(json_object_get(r->body, "part"));
    json_t *id = json_object_get(r->body, "id"), *name = json_object_get(r->body, "name");
    bool any = false, ok = part != NULL && json_is_integer(id) && json_integer_value(id) > 0 &&
                           (name == NULL || (json_is_string(name) && json_string_length(name) > 0 &&
                                             json_string_length(name) < LEDGER_RULES_NAME));
    memset(e, 0, sizeof *e);
    for (int p = CAT_TIER; ok && p <= CAT_BONO; p++)
        if (strcmp(part, part_names[p]) == 0) {
            e->part = (enum cat_part)p;
            break;
        } else if (p == CAT_BONO)
            ok = false;
    for (size_t i = 0; ok && i < NFIELDS; i++) {
        json_t *v = json_object_get(r->body, fields[i].key);
        if (v == NULL)
            continue;
        if (fields[i].part != e->part || !json_is_integer(v) ||
            json_integer_value(v) < fields[i].lo || json_integer_value(v) > fields[i].hi)
            ok = false;
        e->has[i] = any = true;
        e->v[i] = (int64_t)json_integer_value(v);
    }
    if (!ok || (!any && name == NULL)) {
        web_api_error(r, 400, LEAL_E_ARG, EDIT_BODY);
        return false;
    }
    e->id = (int64_t)json_integer_value(id);
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

/* e applied to lr (names included); e->before and e->after filled. */
static leal_err cat_apply(struct ledger_rules *lr, void *ctx)
{
    struct cat_edit *e = ctx;
    struct rules_program *p = &lr->set.program;
    int i = item_index(lr, e);
    char *name;
    if (i < 0)
        return LEAL_E_UNKNOWN_ID;
    json_decref(e->before);
    e->before = item_json(lr, e->part, i);
    switch (e->part) {
    case CAT_TIER:
        p->tiers[i].threshold_units =
            (uint32_t)field(e, "threshold_euros", p->tiers[i].threshold_units);
        p->tiers[i].multiplier_milli =
            (uint32_t)field(e, "multiplier_milli", p->tiers[i].multiplier_milli);
        name = lr->tier_name[i];
        break;
    case CAT_REWARD:
        p->rewards[i].cost_points = (uint32_t)field(e, "cost_points", p->rewards[i].cost_points);
        p->rewards[i].value = field(e, "value", p->rewards[i].value);
        p->rewards[i].min_tier = (uint8_t)field(e, "min_tier", p->rewards[i].min_tier);
        name = lr->reward_name[i];
        break;
    case CAT_STAMP:
        p->stamps[i].goal = (uint8_t)field(e, "goal", p->stamps[i].goal);
        p->stamps[i].reward_id = (uint32_t)field(e, "reward", p->stamps[i].reward_id);
        name = lr->stamp_name[i];
        break;
    default:
        lr->set.bonos[i].sessions = (uint16_t)field(e, "sessions", lr->set.bonos[i].sessions);
        lr->set.bonos[i].valid_days = (uint16_t)field(e, "valid_days", lr->set.bonos[i].valid_days);
        lr->set.bonos[i].price_cents = field(e, "price_cents", lr->set.bonos[i].price_cents);
        name = lr->bono_name[i];
        break;
    }
    if (e->name)
        snprintf(name, LEDGER_RULES_NAME, "%s", e->name);
    json_decref(e->after);
    e->after = item_json(lr, e->part, i);
    return LEAL_OK;
}

static void cat_error(struct web_req *r, leal_err err)
{
    if (err == LEAL_E_UNKNOWN_ID)
        web_api_error(r, 404, err, "no such tier, reward, stamp card or bono kind");
    else if (err == LEAL_E_RULES_PROGRAM)
        web_api_error(r, 400, err, "the rules with this change");
    else
        web_ledger_error(r, err, "the rules");
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
    const char *from, *to;
    leal_err err;
    if (!web_program_of(r, &program) || !cat_edit_of(r, &e) || !web_sim_period(r, &from, &to))
        return;
    if ((lr = malloc(sizeof *lr)) == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, NULL);
        return;
    }
    struct ledger_sim_request rq = {program, from, to, &lr->set.program};
    if ((err = ledger_rules_get(r->l, program, 0, lr)) == LEAL_OK &&
        (err = ledger_simulate(r->l, &rq, NULL, NULL, &now)) == LEAL_OK &&
        (err = cat_apply(lr, &e)) == LEAL_OK &&
        (err = rules_codec_problem(&lr->set, &where)) == LEAL_OK)
        err = ledger_simulate(r->l, &rq, NULL, NULL, &with);
    free(lr);
    if (err != LEAL_OK) {
        json_decref(e.before);
        json_decref(e.after);
        cat_error(r, err);
        return;
    }
    r->status = 200;
    r->out = web_sim_json(program, from, to, &now, &with);
    json_object_set_new(r->out, "part", json_string(part_names[e.part]));
    json_object_set_new(r->out, "id", json_integer(e.id));
    json_object_set_new(r->out, "before", e.before);
    json_object_set_new(r->out, "after", e.after);
}

struct cat_save {
    struct ledger_rules_change c;
    int64_t program;
    struct cat_edit *e;
    struct ledger_audit_line *a;
    char *before, *after;
};

static leal_err do_cat_save(struct web_req *r, void *ctx)
{
    struct cat_save *s = ctx;
    leal_err err = ledger_rules_change(r->l, s->program, &s->c);
    if (err == LEAL_OK) {
        s->before = json_dumps(s->e->before, JSON_COMPACT | JSON_SORT_KEYS);
        s->after = json_dumps(s->e->after, JSON_COMPACT | JSON_SORT_KEYS);
        s->a->before = s->before;
        s->a->after = s->after;
    }
    return err;
}

/* PUT /api/catalogue ({"part", "id", fields, "reason"}): the next version
 * of the set, its reason and the audit line in one transaction. */
void web_catalogue_edit(struct web_req *r)
{
    int64_t program;
    struct cat_edit e;
    const char *reason = json_string_value(json_object_get(r->body, "reason"));
    char what[96], object[64];
    struct ledger_audit_line a = {r->user->id, r->user->name, "catalogue.edit", object, NULL, NULL};
    if (!web_program_of(r, &program) || !cat_edit_of(r, &e))
        return;
    if (reason == NULL || reason[0] == '\0') {
        web_api_error(r, 400, LEAL_E_ARG, "say why in \"reason\"");
        return;
    }
    snprintf(what, sizeof what, "%s %lld changed", part_names[e.part], (long long)e.id);
    snprintf(object, sizeof object, "program %lld %s %lld", (long long)program, part_names[e.part],
             (long long)e.id);
    struct cat_save s = {
        {r->user->name, reason, what, cat_apply, &e, {0}, 0}, program, &e, &a, NULL, NULL};
    leal_err err = web_audited(r, do_cat_save, &s, &a);
    free(s.before);
    free(s.after);
    json_decref(e.before);
    json_decref(e.after);
    if (err != LEAL_OK) {
        cat_error(r, err);
        return;
    }
    web_rules(r);
}
