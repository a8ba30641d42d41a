/*
 * web_portal_info.c - what the portal shows a signed-in customer beyond their
 * balances: their tier and what is missing for the next, the rewards
 * catalogue with what they can afford, and their history (see web_portal.h).
 * Every answer is the session's customer's: nothing here reads an id from
 * the request.
 */
#include "web_portal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/ledger/ledger_portal_pin.h"
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_sale.h"

static const char *const reward_kinds[] = {"", "product", "voucher", "percent", "cashback"};

static json_t *tier_json(const struct ledger_rules *lr, uint8_t tier, uint32_t spent)
{
    const struct rules_program *p = &lr->set.program;
    json_t *next = json_null();
    if (tier < p->n_tiers)
        next = json_pack("{s:i,s:s,s:I,s:I}", "tier", tier + 1, "name", lr->tier_name[tier],
                         "threshold", (json_int_t)p->tiers[tier].threshold_units, "missing",
                         (json_int_t)(p->tiers[tier].threshold_units - spent));
    return json_pack("{s:i,s:s,s:I,s:I,s:o}", "tier", tier, "name",
                     tier > 0 ? lr->tier_name[tier - 1] : "", "multiplier_milli",
                     (json_int_t)(tier > 0 ? p->tiers[tier - 1].multiplier_milli : 1000), "spent",
                     (json_int_t)spent, "next", next);
}

static json_t *rewards_json(const struct ledger_rules *lr, uint8_t tier, uint32_t points)
{
    const struct rules_program *p = &lr->set.program;
    json_t *list = json_array();
    for (unsigned i = 0; i < p->n_rewards; i++) {
        const struct rules_reward *w = &p->rewards[i];
        bool tier_ok = tier >= w->min_tier;
        json_array_append_new(
            list, json_pack("{s:I,s:s,s:s,s:I,s:I,s:i,s:b,s:I}", "id", (json_int_t)w->id, "name",
                            lr->reward_name[i], "kind", w->kind < 5 ? reward_kinds[w->kind] : "",
                            "cost", (json_int_t)w->cost_points, "value", (json_int_t)w->value,
                            "min_tier", (int)w->min_tier, "affordable",
                            tier_ok && points >= w->cost_points, "points_missing",
                            (json_int_t)(points >= w->cost_points ? 0 : w->cost_points - points)));
    }
    return list;
}

static void redemption_one(void *ctx, const struct ledger_redemption *d)
{
    json_array_append_new(ctx, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "code", d->code, "entry",
                                         (json_int_t)d->entry_id, "reward",
                                         (json_int_t)d->reward_id, "points", (json_int_t)d->points,
                                         "at", (json_int_t)d->created_at, "honoured_at",
                                         (json_int_t)d->honoured_at));
}

void web_portal_rewards(struct web_req *r)
{
    json_t *codes;
    struct ledger_customer c;
    struct ledger_rules *lr = malloc(sizeof *lr);
    int64_t now = (int64_t)time(NULL);
    struct ledger_sale_tier t;
    leal_err err;
    if (lr == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, NULL);
        return;
    }
    if ((err = ledger_customer_get(r->l, r->customer, &c)) != LEAL_OK ||
        (err = ledger_rules_get(r->l, c.program_id, 0, lr)) != LEAL_OK ||
        (err = ledger_sale_tier_now(r->l, &lr->set.program, c.account_id, now, &t)) != LEAL_OK) {
        free(lr);
        web_ledger_error(r, err, "the rewards");
        return;
    }
    /* The codes of the rewards redeemed here, for the shop (newest first). */
    codes = json_array();
    if ((err = ledger_redemption_each(r->l, r->customer, WEB_PORTAL_PAGE, redemption_one, codes)) !=
        LEAL_OK) {
        json_decref(codes);
        free(lr);
        web_ledger_error(r, err, "the rewards");
        return;
    }
    r->status = 200;
    r->out = json_pack("{s:I,s:o,s:o,s:o}", "points", (json_int_t)t.points, "tier",
                       tier_json(lr, t.tier, t.spent), "rewards",
                       rewards_json(lr, t.tier, t.points), "redeemed", codes);
    free(lr);
}

struct page {
    json_t *list;
    int64_t last_entry; /* the newest entry not shown, or 0 */
    int64_t entries;
    int64_t limit;
};

static int movement_one(void *ctx, const struct ledger_movement *m)
{
    struct page *p = ctx;
    if (p->last_entry != m->entry_id) {
        p->last_entry = m->entry_id;
        p->entries++;
    }
    if (p->entries > p->limit)
        return 1; /* the first of the next page: it only says there is one */
    json_array_append_new(
        p->list, json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:s}", "entry", (json_int_t)m->entry_id, "at",
                           (json_int_t)m->at, "kind", m->kind, "reason", m->reason, "asset",
                           m->asset, "amount", (json_int_t)m->amount, "timezone", m->timezone));
    return 0;
}

/* A query-string number in [lo, hi]; dflt when absent; false when malformed. */
static bool query_number(struct web_req *r, const char *name, int64_t lo, int64_t hi, int64_t dflt,
                         int64_t *out)
{
    const char *v = r->query(r->conn, name);
    char *end;
    long long n;
    *out = dflt;
    if (v == NULL)
        return true;
    n = strtoll(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

void web_portal_history(struct web_req *r)
{
    struct ledger_customer c;
    struct page p = {NULL, 0, 0, 0};
    int64_t before;
    leal_err err;
    if (!query_number(r, "before", 1, INT64_MAX, 0, &before) ||
        !query_number(r, "limit", 1, WEB_PORTAL_PAGE_MAX, WEB_PORTAL_PAGE, &p.limit)) {
        web_api_error(r, 400, LEAL_E_ARG, "before is an entry number; limit is 1 to 50");
        return;
    }
    if ((err = ledger_customer_get(r->l, r->customer, &c)) != LEAL_OK) {
        web_ledger_error(r, err, "the history");
        return;
    }
    p.list = json_array();
    /* One entry more than the page: whether there is a next page. */
    err = ledger_history(r->l, c.account_id, before, (size_t)p.limit + 1, movement_one, &p);
    if (err != LEAL_OK) {
        json_decref(p.list);
        web_ledger_error(r, err, "the history");
        return;
    }
    r->status = 200;
    /* The next page starts below the last entry shown (entries newest first). */
    r->out = json_pack(
        "{s:o,s:I}", "movements", p.list, "next_before",
        (json_int_t)(p.entries > p.limit
                         ? json_integer_value(json_object_get(
                               json_array_get(p.list, json_array_size(p.list) - 1), "entry"))
                         : 0));
}
