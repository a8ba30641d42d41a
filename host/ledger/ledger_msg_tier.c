/*
 * ledger_msg_tier.c - the tier_up and tier_down messages (see
 * ledger_messages.h): each run compares every customer's tier now (the
 * rules engine's, ledger_sale_tier_now) with the one message_tier kept from
 * the run before, records a message for each change and keeps the new tier,
 * in one transaction, so a change is told once.
 */
#include "ledger_messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_rules.h"
#include "ledger_sale.h"
#include "ledger_sql.h"
#include "store.h"

/* ?1 the program: every customer not erased (column 0), their account (1)
 * and the tier message_tier keeps (2; -1: none). */
static const char tier_rows_sql[] =
    "SELECT c.id, c.account_id, coalesce(t.tier, -1) FROM customer c LEFT JOIN message_tier t "
    "ON t.customer_id = c.id WHERE c.program_id = ?1 AND c.erased_at IS NULL ORDER BY c.id";
#define TIER_COLS 3

static leal_err tier_keep(struct ledger *l, int64_t customer_id, int64_t tier)
{
    return store_write(l,
                       "INSERT INTO message_tier(customer_id, tier, updated_at) VALUES (?1, ?2, "
                       "?3) ON CONFLICT (customer_id) DO UPDATE SET tier = excluded.tier, "
                       "updated_at = excluded.updated_at",
                       SVALS(SV_I64(customer_id), SV_I64(tier), SV_I64(ledger_now())), NULL);
}

/* What a scan does with a change: record (a run) or only keep the tiers (a
 * baseline, when the program's first tier template is stored). */
struct tier_scan {
    const char *day; /* the rows' day; NULL: a baseline */
    int64_t now;
    bool up, down; /* the program has a template for it */
    int64_t added;
};

/* Inside the caller's write transaction. A customer with no kept tier had
 * none: they enrolled after the baseline, and every customer starts with no
 * tier. A baseline keeps today's tier of those not kept yet. */
static leal_err tier_scan(struct ledger *l, int64_t program_id, struct tier_scan *s)
{
    struct rules_program *p = malloc(sizeof *p);
    struct ledger_msg_rows rows = {.ncols = TIER_COLS};
    uint32_t version = 0;
    leal_err err = p ? LEAL_OK : LEAL_E_NO_MEMORY;
    if (err == LEAL_OK && (err = ledger_rules_load(l, program_id, p, &version)) == LEAL_OK)
        err = ledger_message_rows(l, tier_rows_sql, SVALS(SV_I64(program_id)), &rows);
    for (size_t i = 0; i < rows.n && err == LEAL_OK; i++) {
        const int64_t *row = rows.v + i * TIER_COLS;
        int64_t customer = *row, account = *(row + 1), kept = *(row + 2);
        struct ledger_sale_tier now;
        if (!s->day && kept >= 0)
            continue;
        if ((err = ledger_sale_tier_now(l, p, account, s->now, &now)) != LEAL_OK)
            break;
        int64_t tier = now.tier;
        int64_t was = s->day && kept >= 0 ? kept : (s->day ? 0 : tier);
        if (kept == tier && s->day)
            continue;
        err = tier_keep(l, customer, tier);
        /* The occasion names the tier reached, so each change is its own
         * row (one per customer, tier and day). */
        char occ[32] = "";
        if (tier > was && s->up)
            snprintf(occ, sizeof occ, "tier_up:%lld", (long long)tier);
        else if (tier < was && s->down)
            snprintf(occ, sizeof occ, "tier_down:%lld", (long long)tier);
        /* A row per channel that reaches the customer (its address and
         * consent), as the occasions'. */
        if (err == LEAL_OK && occ[0] &&
            (err =
                 store_write(l,
                             "INSERT INTO message_send(customer_id, occasion, day, "
                             "token, state, next_at, created_at, updated_at, channel) SELECT "
                             "c.id, ?3, ?4, lower(hex(randomblob(16))), 'pending', ?5, ?5, ?5, "
                             "ch.channel FROM " MSG_REACHABLE " AND c.id = ?2 ORDER BY ch.channel "
                             "ON CONFLICT DO NOTHING",
                             SVALS(SV_I64(program_id), SV_I64(customer), SV_TEXT(occ),
                                   SV_TEXT(s->day), SV_I64(ledger_now())),
                             NULL)) == LEAL_OK)
            s->added += store_changes(l);
    }
    free(rows.v);
    free(p);
    return err;
}

leal_err ledger_message_tier_baseline(struct ledger *l, int64_t program_id, int64_t now)
{
    struct tier_scan s = {.day = NULL, .now = now};
    return tier_scan(l, program_id, &s);
}

leal_err ledger_message_record_tiers(struct ledger *l, int64_t program_id, const char *day,
                                     int64_t now, int64_t *added)
{
    struct tier_scan s = {.day = day, .now = now};
    int64_t up = 0, down = 0;
    leal_err err;
    *added = 0;
    if (!day || strlen(day) != 10) {
        store_set_msg(l, "a day is YYYY-MM-DD");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_message_template_count(l, program_id, "tier_up", &up)) == LEAL_OK &&
        (err = ledger_message_template_count(l, program_id, "tier_down", &down)) == LEAL_OK) {
        s.up = up > 0;
        s.down = down > 0;
        if (s.up || s.down)
            err = tier_scan(l, program_id, &s);
    }
    err = store_tx_end(l, err);
    if (err == LEAL_OK)
        *added = s.added;
    return err;
}

leal_err ledger_message_tier_vars(struct ledger *l, int64_t program_id, int64_t customer_id,
                                  const char *occasion, int64_t now,
                                  struct ledger_message_tier *out)
{
    char base[LEDGER_MSG_OCCASION];
    const char *told = ledger_message_tier_base(occasion, base, sizeof base);
    struct ledger_rules *r = malloc(sizeof *r);
    struct ledger_customer c;
    struct ledger_sale_tier t;
    leal_err err = r ? LEAL_OK : LEAL_E_NO_MEMORY;
    memset(out, 0, sizeof *out);
    if (err == LEAL_OK && (err = ledger_customer_get(l, customer_id, &c)) == LEAL_OK &&
        (err = ledger_rules_get(l, program_id, 0, r)) == LEAL_OK &&
        (err = ledger_sale_tier_now(l, &r->set.program, c.account_id, now, &t)) == LEAL_OK) {
        out->tier = t.tier;
        out->spent = t.spent;
        const struct rules_program *p = &r->set.program;
        /* A tier message names the tier it tells of; others the tier now. */
        unsigned named = out->tier;
        if (told != occasion)
            named = (unsigned)strtoul(occasion + strlen(told) + 1, NULL, 10);
        if (named > 0 && named <= p->n_tiers && named <= RULES_MAX_TIERS)
            snprintf(out->name, sizeof out->name, "%s", r->tier_name[named - 1]);
        out->has_next = out->tier < p->n_tiers;
        if (out->has_next)
            out->missing_units = p->tiers[out->tier].threshold_units - out->spent;
    }
    free(r);
    return err;
}
