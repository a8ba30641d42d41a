/*
 * web_rules.c - the promotions page's API (see web_pages.h): the program's
 * rule set as the ledger keeps it (host/ledger/ledger_rules.h), a change to
 * one earning rule replayed over past sales by ledger_simulate (what `leal
 * rules simulate` runs) before it is saved, and the save as the next version
 * of the set with its reason, audited.
 */
#include "web_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_simulate.h"
#include "host/report/report.h"

static json_t *day_json(uint32_t day)
{
    char s[16];
    if (day == 0)
        return json_null();
    report_day_str((int64_t)day, s, sizeof s);
    return json_string(s);
}

static json_t *rules_json(const struct ledger_rules *lr)
{
    const struct rules_program *p = &lr->set.program;
    json_t *tiers = json_array(), *rules = json_array(), *stamps = json_array(),
           *rewards = json_array(), *bonos = json_array();
    for (unsigned i = 0; i < p->n_tiers; i++)
        json_array_append_new(
            tiers, json_pack("{s:i,s:s,s:I,s:I}", "tier", (int)i + 1, "name", lr->tier_name[i],
                             "threshold_euros", (json_int_t)p->tiers[i].threshold_units,
                             "multiplier_milli", (json_int_t)p->tiers[i].multiplier_milli));
    for (unsigned i = 0; i < p->n_rules; i++) {
        const struct rules_rule *u = &p->rules[i];
        json_t *o = json_pack(
            "{s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:i,s:i,s:i,s:I,s:I,s:I}", "id", (json_int_t)u->id,
            "name", lr->rule_name[i], "kind", u->kind == RULES_BONUS ? "bonus" : "multiplier",
            "combine", u->combine == RULES_BEST ? "best" : "stack", "multiplier_milli",
            (json_int_t)u->multiplier_milli, "bonus_points", (json_int_t)u->bonus_points,
            "min_spend_cents", (json_int_t)u->min_spend_cents, "weekdays", (int)u->weekdays,
            "start_minute", (int)u->start_minute, "end_minute", (int)u->end_minute, "cap_per_sale",
            (json_int_t)u->cap_per_sale, "cap_per_day", (json_int_t)u->cap_per_day, "stores",
            (json_int_t)u->n_stores);
        json_object_set_new(o, "from", day_json(u->from_day));
        json_object_set_new(o, "to", day_json(u->to_day));
        json_array_append_new(rules, o);
    }
    for (unsigned i = 0; i < p->n_stamps; i++)
        json_array_append_new(stamps, json_pack("{s:i,s:s,s:i,s:i,s:I}", "card", (int)i + 1, "name",
                                                lr->stamp_name[i], "goal", (int)p->stamps[i].goal,
                                                "category", (int)p->stamps[i].category, "reward",
                                                (json_int_t)p->stamps[i].reward_id));
    for (unsigned i = 0; i < p->n_rewards; i++)
        json_array_append_new(
            rewards,
            json_pack("{s:I,s:s,s:i,s:I,s:I,s:i}", "id", (json_int_t)p->rewards[i].id, "name",
                      lr->reward_name[i], "kind", (int)p->rewards[i].kind, "cost_points",
                      (json_int_t)p->rewards[i].cost_points, "value",
                      (json_int_t)p->rewards[i].value, "min_tier", (int)p->rewards[i].min_tier));
    for (unsigned i = 0; i < lr->set.n_bonos; i++)
        json_array_append_new(
            bonos, json_pack("{s:I,s:s,s:i,s:i,s:I}", "id", (json_int_t)lr->set.bonos[i].id, "name",
                             lr->bono_name[i], "sessions", (int)lr->set.bonos[i].sessions,
                             "valid_days", (int)lr->set.bonos[i].valid_days, "price_cents",
                             (json_int_t)lr->set.bonos[i].price_cents));
    return json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "version", (json_int_t)lr->set.version,
                     "rate_milli", (json_int_t)p->rate_milli, "welcome_points",
                     (json_int_t)p->welcome_points, "tiers", tiers, "rules", rules, "stamps",
                     stamps, "rewards", rewards, "bonos", bonos);
}

static bool rules_of(struct web_req *r, int64_t program, struct ledger_rules *lr)
{
    leal_err err = ledger_rules_get(r->l, program, 0, lr);
    if (err != LEAL_OK)
        web_ledger_error(r, err, "the rules");
    return err == LEAL_OK;
}

void web_rules(struct web_req *r)
{
    int64_t program;
    struct ledger_rules *lr = malloc(sizeof *lr);
    if (lr == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, NULL);
        return;
    }
    if (web_program_of(r, &program) && rules_of(r, program, lr)) {
        r->status = 200;
        r->out = json_pack("{s:I,s:o}", "program", (json_int_t)program, "rules", rules_json(lr));
    }
    free(lr);
}

/* The body's change to one earning rule: {"rule": ID, "multiplier_milli"
 * and/or "bonus_points"}. */
struct rule_edit {
    uint32_t id;
    bool has_mult, has_bonus;
    uint32_t mult, bonus;
};

static bool edit_of(struct web_req *r, struct rule_edit *e)
{
    json_t *id = json_object_get(r->body, "rule"),
           *m = json_object_get(r->body, "multiplier_milli"),
           *b = json_object_get(r->body, "bonus_points");
    memset(e, 0, sizeof *e);
    if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
        json_integer_value(id) > UINT32_MAX || (m && !json_is_integer(m)) ||
        (b && !json_is_integer(b)) || (m == NULL && b == NULL) ||
        (m && (json_integer_value(m) < 0 || json_integer_value(m) > 100000)) ||
        (b && (json_integer_value(b) < 0 || json_integer_value(b) > 1000000))) {
        web_api_error(r, 400, LEAL_E_ARG,
                      "send {\"rule\": ID, \"multiplier_milli\": 0..100000 and/or "
                      "\"bonus_points\": 0..1000000}");
        return false;
    }
    e->id = (uint32_t)json_integer_value(id);
    e->has_mult = m != NULL;
    e->has_bonus = b != NULL;
    e->mult = m ? (uint32_t)json_integer_value(m) : 0;
    e->bonus = b ? (uint32_t)json_integer_value(b) : 0;
    return true;
}

static leal_err apply_edit(struct rules_program *p, const struct rule_edit *e)
{
    for (unsigned i = 0; i < p->n_rules; i++)
        if (p->rules[i].id == e->id) {
            if (e->has_mult)
                p->rules[i].multiplier_milli = e->mult;
            if (e->has_bonus)
                p->rules[i].bonus_points = e->bonus;
            return LEAL_OK;
        }
    return LEAL_E_UNKNOWN_ID;
}

bool web_sim_period(struct web_req *r, const char **from, const char **to)
{
    int64_t d;
    *from = json_string_value(json_object_get(r->body, "from"));
    *to = json_string_value(json_object_get(r->body, "to"));
    if (*from == NULL || *to == NULL || report_day_parse(*from, &d) != LEAL_OK ||
        report_day_parse(*to, &d) != LEAL_OK) {
        web_api_error(r, 400, LEAL_E_DATE, "\"from\" and \"to\" take dates, YYYY-MM-DD");
        return false;
    }
    return true;
}

json_t *web_sim_json(int64_t program, const char *from, const char *to,
                     const struct ledger_sim_totals *now, const struct ledger_sim_totals *with)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "program", (json_int_t)program, "from",
                     from, "to", to, "accounts", (json_int_t)now->accounts, "sales",
                     (json_int_t)now->sales, "real_points", (json_int_t)now->real_points,
                     "current_rules_points", (json_int_t)now->sim_points, "with_change_points",
                     (json_int_t)with->sim_points);
}

/* POST /api/rules/simulate: the edit replayed over ?from..?to (the body's
 * "from"/"to", local dates) against what the sales really gave. Writes
 * nothing. */
void web_rules_simulate(struct web_req *r)
{
    int64_t program;
    struct rule_edit e;
    struct ledger_rules *lr;
    struct ledger_sim_totals now = {0}, with = {0};
    const char *from, *to;
    leal_err err;
    if (!web_program_of(r, &program) || !edit_of(r, &e) || !web_sim_period(r, &from, &to))
        return;
    if ((lr = malloc(sizeof *lr)) == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, NULL);
        return;
    }
    if (!rules_of(r, program, lr)) {
        free(lr);
        return;
    }
    struct ledger_sim_request rq = {program, from, to, &lr->set.program};
    if ((err = ledger_simulate(r->l, &rq, NULL, NULL, &now)) == LEAL_OK &&
        (err = apply_edit(&lr->set.program, &e)) == LEAL_OK)
        err = ledger_simulate(r->l, &rq, NULL, NULL, &with);
    free(lr);
    if (err != LEAL_OK) {
        web_ledger_error(
            r, err, err == LEAL_E_UNKNOWN_ID ? "no earning rule with that id" : "the simulation");
        return;
    }
    r->status = 200;
    r->out = web_sim_json(program, from, to, &now, &with);
}

static leal_err edit_names(struct ledger_rules *lr, void *ctx)
{
    return apply_edit(&lr->set.program, ctx);
}

struct save {
    struct ledger_rules_change c;
    int64_t program;
};

static leal_err do_save(struct web_req *r, void *ctx)
{
    struct save *s = ctx;
    return ledger_rules_change(r->l, s->program, &s->c);
}

/* PUT /api/rules/:id ({"program", "reason", "multiplier_milli" and/or
 * "bonus_points"}): the next version of the set, its reason and the audit
 * line in one transaction. */
void web_rule_edit(struct web_req *r)
{
    int64_t program;
    struct rule_edit e;
    const char *reason = json_string_value(json_object_get(r->body, "reason"));
    char what[96], object[64];
    struct ledger_audit_line a = {r->user->id, r->user->name, "rules.edit", "", NULL, NULL};
    json_object_set_new(r->body, "rule", json_integer(r->id));
    if (!web_program_of(r, &program) || !edit_of(r, &e))
        return;
    if (reason == NULL || reason[0] == '\0') {
        web_api_error(r, 400, LEAL_E_ARG, "say why in \"reason\"");
        return;
    }
    struct ledger_rules *lr = malloc(sizeof *lr);
    char before[96] = "";
    if (lr == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, NULL);
        return;
    }
    if (!rules_of(r, program, lr)) {
        free(lr);
        return;
    }
    for (unsigned i = 0; i < lr->set.program.n_rules; i++)
        if (lr->set.program.rules[i].id == e.id)
            snprintf(before, sizeof before, "{\"bonus_points\":%u,\"multiplier_milli\":%u}",
                     lr->set.program.rules[i].bonus_points,
                     lr->set.program.rules[i].multiplier_milli);
    free(lr);
    a.before = before[0] ? before : NULL;
    snprintf(what, sizeof what, "rule %u changed", e.id);
    snprintf(object, sizeof object, "program %lld rule %u", (long long)program, e.id);
    struct save s = {{r->user->name, reason, what, edit_names, &e, {0}, 0}, program};
    json_t *after = json_deep_copy(r->body);
    json_object_del(after, "program");
    char *after_s = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(after);
    a.object = object;
    a.after = after_s;
    leal_err err = web_audited(r, do_save, &s, &a);
    free(after_s);
    if (err != LEAL_OK) {
        web_ledger_error(r, err,
                         err == LEAL_E_UNKNOWN_ID ? "no earning rule with that id" : "the rules");
        return;
    }
    web_rules(r);
}
