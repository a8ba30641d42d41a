/* ledger_rules.c - a program's rule sets, versioned (ledger_rules.h). */
#include "host/ledger/ledger_rules.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host/ledger/ledger_messages.h"
#include "host/ledger/store.h"

static leal_err program_rate(struct ledger *l, int64_t program_id, int64_t *rate)
{
    struct store_stmt *st;
    leal_err err = store_find_row(l, "SELECT points_per_euro_milli FROM program WHERE id = ?1",
                                  program_id, "program", &st);
    *rate = err == LEAL_OK ? store_col_i64(st, 0) : 0;
    store_finalize(st);
    return err;
}

static leal_err current_version(struct ledger *l, int64_t program_id, int64_t *version)
{
    return store_query_int(l,
                           "SELECT coalesce(max(version), 0) FROM rule_set WHERE program_id = ?1",
                           I64S(program_id), version);
}

/* The name slot of part `part`, item `item` (tier and stamp card: number; others: id). */
static char *name_slot(struct ledger_rules *r, int64_t part, int64_t item)
{
    const struct rules_program *p = &r->set.program;
    if (part == RULES_PART_TIER && item >= 1 && item <= p->n_tiers)
        return r->tier_name[item - 1];
    if (part == RULES_PART_STAMP && item >= 1 && item <= p->n_stamps)
        return r->stamp_name[item - 1];
    for (unsigned i = 0; part == RULES_PART_RULE && i < p->n_rules; i++)
        if (p->rules[i].id == item)
            return r->rule_name[i];
    for (unsigned i = 0; part == RULES_PART_REWARD && i < p->n_rewards; i++)
        if (p->rewards[i].id == item)
            return r->reward_name[i];
    for (unsigned i = 0; part == RULES_CODEC_PART_BONO && i < r->set.n_bonos; i++)
        if (r->set.bonos[i].id == item)
            return r->bono_name[i];
    return NULL;
}

static leal_err read_names(struct ledger *l, int64_t program_id, int64_t version,
                           struct ledger_rules *out)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(
        l, "SELECT part, item, name FROM rule_set_name WHERE program_id = ?1 AND version = ?2", &st,
        I64S(program_id, version));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        char *slot = name_slot(out, store_col_i64(st, 0), store_col_i64(st, 1));
        if (slot != NULL)
            store_col_text(st, 2, slot, LEDGER_RULES_NAME);
    }
    store_finalize(st);
    return err;
}

static leal_err read_version(struct ledger *l, int64_t program_id, int64_t version,
                             struct ledger_rules *out)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l,
                              "SELECT encoded FROM rule_set WHERE program_id = ?1 AND version = ?2",
                              &st, I64S(program_id, version))) != LEAL_OK)
        return err;
    if (!store_next_row(l, st, &err)) {
        store_finalize(st);
        if (err == LEAL_OK) {
            store_set_msg(l, "program %lld has no rule set version %lld", (long long)program_id,
                          (long long)version);
            err = LEAL_E_UNKNOWN_ID;
        }
        return err;
    }
    err =
        rules_codec_decode(store_col_blob(st, 0), (size_t)store_col_bytes(st, 0), &out->set, NULL);
    store_finalize(st);
    if (err != LEAL_OK) {
        store_set_msg(l, "rule set version %lld of program %lld is damaged: %s", (long long)version,
                      (long long)program_id, leal_strerror(err));
        return LEAL_E_LEDGER_MISMATCH;
    }
    return read_names(l, program_id, version, out);
}

leal_err ledger_rules_get(struct ledger *l, int64_t program_id, uint32_t version,
                          struct ledger_rules *out)
{
    int64_t rate, current, want = version;
    leal_err err;
    if (l == NULL || out == NULL)
        return LEAL_E_ARG;
    memset(out, 0, sizeof *out);
    if ((err = program_rate(l, program_id, &rate)) != LEAL_OK ||
        (err = current_version(l, program_id, &current)) != LEAL_OK)
        return err;
    if (want == 0)
        want = current;
    if (want > 0 && (err = read_version(l, program_id, want, out)) != LEAL_OK) {
        memset(out, 0, sizeof *out);
        return err;
    }
    out->set.version = (uint32_t)want;
    out->set.program.rate_milli = rate;
    return LEAL_OK;
}

leal_err ledger_rules_load(struct ledger *l, int64_t program_id, struct rules_program *out,
                           uint32_t *version)
{
    struct ledger_rules r;
    leal_err err;
    if (out == NULL || version == NULL)
        return LEAL_E_ARG;
    memset(out, 0, sizeof *out);
    *version = 0;
    if ((err = ledger_rules_get(l, program_id, 0, &r)) != LEAL_OK)
        return err;
    *out = r.set.program;
    *version = r.set.version;
    return LEAL_OK;
}

/* ---- checks a change passes ---- */

static bool same_members(const uint32_t *a, unsigned na, const uint32_t *b, unsigned nb)
{
    for (unsigned i = 0; i < na; i++) {
        bool found = false;
        for (unsigned j = 0; j < nb && !found; j++)
            found = a[i] == b[j];
        if (!found)
            return false;
    }
    return true;
}

/* When, where and on what a rule applies, compared as sets. */
static bool same_scope(const struct rules_rule *a, const struct rules_rule *b)
{
    uint32_t ca[RULES_MAX_RULE_CATS], cb[RULES_MAX_RULE_CATS];
    for (unsigned i = 0; i < RULES_MAX_RULE_CATS; i++) {
        ca[i] = a->categories[i];
        cb[i] = b->categories[i];
    }
    return a->from_day == b->from_day && a->to_day == b->to_day && a->weekdays == b->weekdays &&
           a->start_minute == b->start_minute && a->end_minute == b->end_minute &&
           a->min_spend_cents == b->min_spend_cents &&
           same_members(a->stores, a->n_stores, b->stores, b->n_stores) &&
           same_members(b->stores, b->n_stores, a->stores, a->n_stores) &&
           same_members(ca, a->n_categories, cb, b->n_categories) &&
           same_members(cb, b->n_categories, ca, a->n_categories);
}

/* Two best-only rules with one scope: only the one giving more ever applies. */
static leal_err contradictions(struct ledger *l, const struct rules_program *p,
                               struct rules_problem *where)
{
    for (unsigned i = 0; i < p->n_rules; i++) {
        for (unsigned j = 0; j < i; j++) {
            const struct rules_rule *a = &p->rules[j], *b = &p->rules[i];
            if (a->combine != RULES_BEST || b->combine != RULES_BEST || !same_scope(a, b))
                continue;
            where->part = RULES_PART_RULE;
            where->index = (uint8_t)i;
            store_set_msg(l,
                          "rule %u has the same scope as rule %u and both are best-only: only "
                          "the one giving more points would ever apply; make one of them stack "
                          "or change its scope",
                          b->id, a->id);
            return LEAL_E_RULES_PROGRAM;
        }
    }
    return LEAL_OK;
}

/* The id of entry i of the part a problem names is also an earlier entry's. */
static bool id_repeats(const struct rules_set *s, const struct rules_problem *w)
{
    const struct rules_program *p = &s->program;
    unsigned i = w->index;
    for (unsigned j = 0; j < i; j++) {
        if ((w->part == RULES_PART_RULE && p->rules[j].id == p->rules[i].id) ||
            (w->part == RULES_PART_REWARD && p->rewards[j].id == p->rewards[i].id) ||
            (w->part == RULES_CODEC_PART_BONO && s->bonos[j].id == s->bonos[i].id))
            return true;
    }
    return false;
}

/* Says in words which part the check refused, and the likeliest why. */
static void describe(struct ledger *l, const struct rules_set *s, const struct rules_problem *w)
{
    const struct rules_program *p = &s->program;
    unsigned i = w->index;
    if (w->part == RULES_PART_PROGRAM && p->rate_milli > RULES_MAX_RATE_MILLI)
        store_set_msg(l,
                      "the program's rate (%lld thousandths of a point per euro) is over the "
                      "rules' limit of 1000 points per euro",
                      (long long)p->rate_milli);
    else if (w->part == RULES_PART_PROGRAM)
        store_set_msg(l, "welcome points over 1000000, or too many tiers, rules, stamp cards, "
                         "rewards or bono kinds");
    else if (w->part == RULES_PART_TIER)
        store_set_msg(l,
                      "tier %u: thresholds must rise from one tier to the next, and "
                      "multipliers stay within 1.000..20.000",
                      i + 1);
    else if (w->part == RULES_PART_RULE && id_repeats(s, w))
        store_set_msg(l, "rule %u: another rule has this id", p->rules[i].id);
    else if (w->part == RULES_PART_RULE)
        store_set_msg(l, "rule %u is not valid (RULES.md section 1)", p->rules[i].id);
    else if (w->part == RULES_PART_STAMP)
        store_set_msg(l, "stamp card %u is not valid (a goal of 2..255)", i + 1);
    else if (w->part == RULES_PART_REWARD && p->rewards[i].min_tier > p->n_tiers)
        store_set_msg(l, "reward %u asks for tier %u and the program has %u", p->rewards[i].id,
                      p->rewards[i].min_tier, p->n_tiers);
    else if (w->part == RULES_PART_REWARD && id_repeats(s, w))
        store_set_msg(l, "reward %u: another reward has this id", p->rewards[i].id);
    else if (w->part == RULES_PART_REWARD)
        store_set_msg(l, "reward %u is not valid (RULES.md section 5)", p->rewards[i].id);
    else if (w->part == RULES_CODEC_PART_BONO && id_repeats(s, w))
        store_set_msg(l, "bono %u: another bono kind has this id", s->bonos[i].id);
    else
        store_set_msg(l, "bono %u is not valid (sessions 1..65535, at most %d days)",
                      s->bonos[i].id, RULES_MAX_BONO_VALID_DAYS);
}

static leal_err names_in(struct ledger *l, const char (*names)[LEDGER_RULES_NAME], unsigned n)
{
    leal_err err;
    for (unsigned i = 0; i < n; i++) {
        if (memchr(names[i], '\0', LEDGER_RULES_NAME) == NULL) {
            store_set_msg(l, "a name is longer than %d bytes", LEDGER_RULES_NAME - 1);
            return LEAL_E_TEXT;
        }
        if ((err = ledger_text_ok(l, "name", names[i])) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

static leal_err names_ok(struct ledger *l, const struct ledger_rules *r)
{
    leal_err err;
    if ((err = names_in(l, r->tier_name, RULES_MAX_TIERS)) != LEAL_OK ||
        (err = names_in(l, r->rule_name, RULES_MAX_RULES)) != LEAL_OK ||
        (err = names_in(l, r->stamp_name, RULES_STAMP_CARDS)) != LEAL_OK ||
        (err = names_in(l, r->reward_name, RULES_MAX_REWARDS)) != LEAL_OK ||
        (err = names_in(l, r->bono_name, RULES_MAX_BONO_KINDS)) != LEAL_OK)
        return err;
    return LEAL_OK;
}

/* ---- storing a version ---- */

static leal_err put_name(struct ledger *l, int64_t program_id, const struct rules_set *s,
                         int64_t part, int64_t item, const char *name)
{
    if (name[0] == '\0')
        return LEAL_OK;
    return store_write(
        l,
        "INSERT INTO rule_set_name(program_id, version, part, item, name) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
        SVALS(SV_I64(program_id), SV_I64(s->version), SV_I64(part), SV_I64(item), SV_TEXT(name)),
        NULL);
}

static leal_err put_names(struct ledger *l, int64_t program_id, const struct ledger_rules *r)
{
    const struct rules_set *s = &r->set;
    leal_err err = LEAL_OK;
    for (unsigned i = 0; err == LEAL_OK && i < s->program.n_tiers; i++)
        err = put_name(l, program_id, s, RULES_PART_TIER, i + 1, r->tier_name[i]);
    for (unsigned i = 0; err == LEAL_OK && i < s->program.n_rules; i++)
        err = put_name(l, program_id, s, RULES_PART_RULE, s->program.rules[i].id, r->rule_name[i]);
    for (unsigned i = 0; err == LEAL_OK && i < s->program.n_stamps; i++)
        err = put_name(l, program_id, s, RULES_PART_STAMP, i + 1, r->stamp_name[i]);
    for (unsigned i = 0; err == LEAL_OK && i < s->program.n_rewards; i++)
        err = put_name(l, program_id, s, RULES_PART_REWARD, s->program.rewards[i].id,
                       r->reward_name[i]);
    for (unsigned i = 0; err == LEAL_OK && i < s->n_bonos; i++)
        err = put_name(l, program_id, s, RULES_CODEC_PART_BONO, s->bonos[i].id, r->bono_name[i]);
    return err;
}

static leal_err put_version(struct ledger *l, int64_t program_id, const struct ledger_rules *r,
                            const struct ledger_rules_change *c)
{
    uint8_t blob[RULES_CODEC_MAX_LEN];
    size_t len;
    leal_err err;
    if ((err = rules_codec_encode(&r->set, blob, sizeof blob, &len)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "INSERT INTO rule_set(program_id, version, at, operator, reason, what, "
                      "encoded) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                      SVALS(SV_I64(program_id), SV_I64(r->set.version), SV_I64(ledger_now()),
                            SV_TEXT(c->operator_name), SV_TEXT(c->reason), SV_TEXT(c->what),
                            SV_BLOB(blob, len)),
                      NULL);
    if (err == LEAL_OK)
        err = put_names(l, program_id, r);
    return err;
}

static leal_err change_args(struct ledger *l, const struct ledger_rules_change *c)
{
    leal_err err;
    if (c->edit == NULL || c->operator_name == NULL || c->reason == NULL || c->what == NULL)
        return LEAL_E_ARG;
    if (ledger_empty(c->operator_name) || ledger_empty(c->reason) || ledger_empty(c->what)) {
        store_set_msg(l, "a change of the rules needs an operator, a reason and what changed");
        return LEAL_E_ARG;
    }
    if ((err = ledger_text_ok(l, "operator", c->operator_name)) != LEAL_OK ||
        (err = ledger_text_ok(l, "reason", c->reason)) != LEAL_OK ||
        (err = ledger_text_ok(l, "what changed", c->what)) != LEAL_OK)
        return err;
    return LEAL_OK;
}

/* Inside the write transaction: current set, edit, checks, next version. */
/* The tiers before a change: names and thresholds. */
struct tiers_before {
    uint32_t n;
    uint32_t threshold[RULES_MAX_TIERS];
    char name[RULES_MAX_TIERS][LEDGER_RULES_NAME];
};

static int name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* Where each tier of before is in r: the one of the same name, else of the
 * same threshold, else the same number when the count did not change (an
 * edit of both), else 0 (removed). Messages follow it
 * (ledger_message_tier_renumber) when any moved. */
static leal_err tiers_follow(struct ledger *l, int64_t program_id, const struct tiers_before *b,
                             const struct ledger_rules *r)
{
    uint32_t map[RULES_MAX_TIERS], n = r->set.program.n_tiers, last = 0;
    bool moved = false;
    for (uint32_t i = 0; i < b->n; i++) {
        map[i] = 0;
        for (uint32_t j = 0; j < n && j < RULES_MAX_TIERS && !map[i]; j++)
            if (b->name[i][0] && name_eq(b->name[i], r->tier_name[j]))
                map[i] = j + 1;
        for (uint32_t j = 0; j < n && j < RULES_MAX_TIERS && !map[i]; j++)
            if (b->threshold[i] == r->set.program.tiers[j].threshold_units)
                map[i] = j + 1;
        if (!map[i] && b->n == n)
            map[i] = i + 1;
        /* Not ascending (tiers reordered): numbers are kept as they are. */
        if (map[i] && map[i] <= last)
            return LEAL_OK;
        if (map[i])
            last = map[i];
        moved |= map[i] != i + 1;
    }
    return moved ? ledger_message_tier_renumber(l, program_id, map, b->n) : LEAL_OK;
}

static leal_err change_locked(struct ledger *l, int64_t program_id, struct ledger_rules_change *c,
                              struct ledger_rules *r)
{
    struct tiers_before before;
    uint32_t next;
    int64_t rate;
    leal_err err;
    if ((err = ledger_rules_get(l, program_id, 0, r)) != LEAL_OK)
        return err;
    if (r->set.version == UINT32_MAX)
        return LEAL_E_AMOUNT_RANGE;
    next = r->set.version + 1;
    rate = r->set.program.rate_milli;
    before.n = r->set.program.n_tiers <= RULES_MAX_TIERS ? r->set.program.n_tiers : 0;
    for (uint32_t i = 0; i < before.n; i++) {
        before.threshold[i] = r->set.program.tiers[i].threshold_units;
        memcpy(before.name[i], r->tier_name[i], LEDGER_RULES_NAME);
    }
    if ((err = c->edit(r, c->ctx)) != LEAL_OK)
        return err;
    r->set.version = next;
    r->set.program.rate_milli = rate;
    if ((err = rules_codec_problem(&r->set, &c->problem)) != LEAL_OK) {
        describe(l, &r->set, &c->problem);
        return err;
    }
    if ((err = contradictions(l, &r->set.program, &c->problem)) != LEAL_OK ||
        (err = names_ok(l, r)) != LEAL_OK || (err = put_version(l, program_id, r, c)) != LEAL_OK ||
        (err = tiers_follow(l, program_id, &before, r)) != LEAL_OK)
        return err;
    c->version = next;
    return LEAL_OK;
}

leal_err ledger_rules_change(struct ledger *l, int64_t program_id, struct ledger_rules_change *c)
{
    struct ledger_rules r;
    leal_err err;
    if (l == NULL || c == NULL)
        return LEAL_E_ARG;
    c->problem = (struct rules_problem){RULES_PART_NONE, 0};
    c->version = 0;
    if ((err = change_args(l, c)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = change_locked(l, program_id, c, &r);
    if (err != LEAL_OK)
        c->version = 0;
    return store_tx_end(l, err);
}

leal_err ledger_rules_history(struct ledger *l, int64_t program_id,
                              int (*cb)(const struct ledger_rules_version *v, void *ctx), void *ctx)
{
    struct ledger_rules_version v;
    struct store_stmt *st;
    int64_t rate;
    leal_err err;
    if (l == NULL || cb == NULL)
        return LEAL_E_ARG;
    if ((err = program_rate(l, program_id, &rate)) != LEAL_OK)
        return err;
    if ((err = store_prep_i64(l,
                              "SELECT version, at, operator, reason, what FROM rule_set "
                              "WHERE program_id = ?1 ORDER BY version",
                              &st, I64S(program_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        v.version = (uint32_t)store_col_i64(st, 0);
        v.at = store_col_i64(st, 1);
        store_col_text(st, 2, v.operator_name, sizeof v.operator_name);
        store_col_text(st, 3, v.reason, sizeof v.reason);
        store_col_text(st, 4, v.what, sizeof v.what);
        if (cb(&v, ctx) != 0)
            break;
    }
    store_finalize(st);
    return err;
}
