/* ledger_reward.c - rewards redeemed at the host (ledger_reward.h). */
#include "ledger_reward.h"

#include <stdio.h>
#include <string.h>

#include "ledger_rules.h"
#include "ledger_sale.h"
#include "store.h"

static void line(struct ledger_line *ln, int64_t account, const char *asset, int64_t amount)
{
    memset(ln, 0, sizeof *ln);
    ln->account_id = account;
    snprintf(ln->asset, sizeof ln->asset, "%s", asset);
    ln->amount = amount;
}

/* The account is a customer's or a gift's of rq->program_id; the store (if
 * any) is the program's and gives the zone of "today" (else UTC). */
static leal_err where(struct ledger *l, const struct ledger_reward_request *rq, char *tz,
                      size_t tz_len)
{
    struct ledger_account a;
    struct store_stmt *st;
    leal_err err = ledger_account_get(l, rq->account_id, &a);
    snprintf(tz, tz_len, "UTC");
    if (err != LEAL_OK)
        return err;
    if (a.kind == LEDGER_ACCOUNT_PROGRAM || a.program_id != rq->program_id) {
        store_set_msg(l, "account %lld is not a customer's account of program %lld",
                      (long long)rq->account_id, (long long)rq->program_id);
        return a.kind == LEDGER_ACCOUNT_PROGRAM ? LEAL_E_USAGE : LEAL_E_WRONG_PROGRAM;
    }
    if (rq->store_id == 0)
        return LEAL_OK;
    if ((err = store_find_row(l, "SELECT program_id, timezone FROM store WHERE id = ?1",
                              rq->store_id, "store", &st)) == LEAL_OK) {
        if (store_col_i64(st, 0) != rq->program_id) {
            store_set_msg(l, "store %lld is not in program %lld", (long long)rq->store_id,
                          (long long)rq->program_id);
            err = LEAL_E_WRONG_PROGRAM;
        }
        store_col_text(st, 1, tz, tz_len);
    }
    store_finalize(st);
    return err;
}

/* A request already posted: its figures from its lines. */
static leal_err replay(struct ledger *l, int64_t entry_id, int64_t account,
                       struct ledger_reward_result *out)
{
    leal_err err;
    out->entry_id = entry_id;
    out->replayed = true;
    if ((err = store_query_int(l,
                               "SELECT coalesce(-sum(amount), 0) FROM line WHERE entry_id = ?1 "
                               "AND account_id = ?2 AND asset = 'PTS'",
                               I64S(entry_id, account), &out->points)) != LEAL_OK)
        return err;
    return store_query_int(l,
                           "SELECT coalesce(sum(amount), 0) FROM line WHERE entry_id = ?1 AND "
                           "account_id = ?2 AND asset = 'CASHBACK'",
                           I64S(entry_id, account), &out->cashback_cents);
}

static leal_err posted_before(struct ledger *l, const char *key, int64_t *entry_id)
{
    struct store_stmt *st;
    leal_err err;
    int row = 0;
    *entry_id = 0;
    if ((err = store_prep_once(l, "SELECT id FROM entry WHERE request_id = ?1", &st)) != LEAL_OK)
        return err;
    store_bind_text(st, 1, key);
    if ((err = store_step(l, st, &row)) == LEAL_OK && row)
        *entry_id = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

/* The program's cashback_owed (what it owes accounts until the desk loads
 * it) and cashback (the euros the loads cost it), made at the first
 * cashback reward. */
leal_err ledger_reward_cashback_account(struct ledger *l, int64_t program_id, int64_t *id)
{
    static const char *const names[] = {"cashback", "cashback_owed"};
    leal_err err = LEAL_OK;
    for (size_t i = 0; err == LEAL_OK && i < 2; i++)
        err = store_write(l,
                          "INSERT INTO account(program_id, kind, name, created_at) SELECT ?1, "
                          "'program', ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM account WHERE "
                          "program_id = ?1 AND name = ?2)",
                          SVALS(SV_I64(program_id), SV_TEXT(names[i]), SV_I64(ledger_now())), NULL);
    return err == LEAL_OK ? ledger_program_account(l, program_id, "cashback_owed", id) : err;
}

static leal_err post(struct ledger *l, const struct ledger_reward_request *rq, const char *key,
                     const struct rules_redeemed *r, int64_t cost, struct ledger_reward_result *out)
{
    struct ledger_line lines[4];
    struct ledger_entry e;
    char reference[64];
    int64_t redeemed, owed = 0;
    size_t n = 0;
    leal_err err = ledger_program_account(l, rq->program_id, "points_redeemed", &redeemed);
    if (err == LEAL_OK && r->cashback_cents > 0)
        err = ledger_reward_cashback_account(l, rq->program_id, &owed);
    if (err != LEAL_OK)
        return err;
    if (cost > 0) {
        line(&lines[n++], rq->account_id, "PTS", -cost);
        line(&lines[n++], redeemed, "PTS", cost);
    }
    if (r->cashback_cents > 0) {
        line(&lines[n++], rq->account_id, "CASHBACK", r->cashback_cents);
        line(&lines[n++], owed, "CASHBACK", -r->cashback_cents);
    }
    if (n == 0) {
        store_set_msg(l, "reward %u costs nothing and gives no cashback: nothing to post",
                      rq->reward_id);
        return LEAL_E_RULES_REWARD;
    }
    snprintf(reference, sizeof reference, "reward %u", rq->reward_id);
    memset(&e, 0, sizeof e);
    e.program_id = rq->program_id;
    e.kind = "redeem";
    e.store_id = rq->store_id;
    e.request_id = key;
    e.operator_name = rq->operator_name;
    e.reason = r->cashback_cents > 0 ? "cashback reward redeemed at the host"
                                     : "reward redeemed at the host";
    e.reference = reference;
    e.card_id = rq->card_id;
    e.nlines = n;
    e.lines = lines;
    return ledger_post(l, &e, &out->entry_id, &out->replayed);
}

leal_err ledger_reward_redeem(struct ledger *l, const struct ledger_reward_request *rq,
                              struct ledger_reward_result *out)
{
    struct rules_program p;
    struct rules_civil now;
    struct rules_card card;
    struct rules_redeemed r;
    char key[128], tz[72];
    uint32_t version;
    int64_t done = 0;
    leal_err err;
    memset(out, 0, sizeof *out);
    l->msg[0] = '\0';
    if (rq->request_id == NULL || rq->request_id[0] == '\0' || strlen(rq->request_id) > 100 ||
        ledger_empty(rq->operator_name) || rq->sale_cents < 0)
        return LEAL_E_ARG;
    snprintf(key, sizeof key, "reward:%s", rq->request_id);
    if ((err = where(l, rq, tz, sizeof tz)) != LEAL_OK ||
        (err = posted_before(l, key, &done)) != LEAL_OK)
        return err;
    if (done != 0) {
        if ((err = replay(l, done, rq->account_id, out)) != LEAL_OK ||
            (err = ledger_balance(l, rq->account_id, "PTS", &out->points_after)) != LEAL_OK)
            return err;
        return ledger_reward_cashback_owed(l, rq->account_id, &out->cashback_owed_cents);
    }
    if ((err = ledger_rules_load(l, rq->program_id, &p, &version)) != LEAL_OK ||
        (err = ledger_local_civil(tz, ledger_now(), &now)) != LEAL_OK ||
        (err = ledger_sale_state(l, &p, rq->account_id, &now, &card)) != LEAL_OK)
        return err;
    err = rules_redeem(&p, &card.state, rq->reward_id, rq->sale_cents, &r);
    if (err != LEAL_OK)
        return err;
    out->kind = r.kind;
    out->points = (int64_t)card.state.points - (int64_t)r.after.points;
    out->product_id = r.product_id;
    out->discount_cents = r.discount_cents;
    out->cashback_cents = r.cashback_cents;
    if ((err = post(l, rq, key, &r, out->points, out)) != LEAL_OK)
        return err;
    if ((err = ledger_balance(l, rq->account_id, "PTS", &out->points_after)) != LEAL_OK)
        return err;
    return ledger_reward_cashback_owed(l, rq->account_id, &out->cashback_owed_cents);
}

leal_err ledger_reward_cashback_owed(struct ledger *l, int64_t account_id, int64_t *cents)
{
    return ledger_balance(l, account_id, "CASHBACK", cents);
}
