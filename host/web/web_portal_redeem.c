/*
 * web_portal_redeem.c - a reward of the catalogue redeemed from the portal
 * (see web_portal.h). The points are taken in the ledger by the desk's own
 * host-side redemption (host/ledger/ledger_reward.h: the rules engine on the
 * account's points and tier, one entry keyed by the request); the card
 * learns of it as a host change, at its next terminal tap (the package
 * carries it) or `leal card sync` at the desk. The customer gets a code the
 * shop honours once (`leal reward honour CODE`). The page's idempotency key
 * names the request, prefixed with the customer, so a double click, a
 * retried request or a reload that sends it again redeems once.
 */
#include "web_portal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "host/ledger/ledger_portal_pin.h"
#include "host/ledger/ledger_reward.h"
#include "host/ledger/ledger_rules.h"

#define KEY_MIN 16
#define KEY_MAX 64

static const char *const kind_names[] = {"", "product", "voucher", "percent", "cashback"};

/* A key of KEY_MIN..KEY_MAX letters, digits and '-'. */
static bool key_ok(const char *k)
{
    size_t n = 0;
    if (k == NULL)
        return false;
    for (; k[n]; n++)
        if (!((k[n] >= '0' && k[n] <= '9') || (k[n] >= 'a' && k[n] <= 'z') ||
              (k[n] >= 'A' && k[n] <= 'Z') || k[n] == '-'))
            return false;
    return n >= KEY_MIN && n <= KEY_MAX;
}

/* "XXXX-XXXX" of 40 random bits, in letters and digits that are not
 * mistaken for one another when read aloud or typed (no 0/O, 1/I). */
static leal_err new_code(char code[LEDGER_REDEEM_CODE])
{
    static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    uint8_t raw[8];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return LEAL_E_RANDOM;
    for (int i = 0, j = 0; i < 8; i++) {
        if (i == 4)
            code[j++] = '-';
        code[j++] = alphabet[raw[i] & 31];
    }
    code[LEDGER_REDEEM_CODE - 1] = '\0';
    return LEAL_OK;
}

static const struct rules_reward *find_reward(const struct ledger_rules *lr, json_int_t id,
                                              const char **name)
{
    for (unsigned i = 0; i < lr->set.program.n_rewards; i++)
        if ((json_int_t)lr->set.program.rewards[i].id == id) {
            *name = lr->reward_name[i];
            return &lr->set.program.rewards[i];
        }
    return NULL;
}

/* The redemption and its code, in one transaction: the entry and the code
 * stand or fall together; a request already posted gives its code. */
static leal_err redeem_once(struct web_req *r, const struct ledger_reward_request *rq,
                            struct ledger_reward_result *res, char code[LEDGER_REDEEM_CODE],
                            uint32_t *reward_id)
{
    struct ledger_redemption kept;
    bool found = false;
    leal_err err;
    if ((err = new_code(code)) != LEAL_OK || (err = ledger_batch_begin(r->l)) != LEAL_OK)
        return err;
    *reward_id = rq->reward_id;
    err = ledger_reward_redeem(r->l, rq, res);
    if (err == LEAL_OK && !res->replayed) {
        err = ledger_redemption_keep(r->l, code, res->entry_id, r->customer, rq->reward_id,
                                     (int64_t)time(NULL));
    } else if (err == LEAL_OK &&
               (err = ledger_redemption_of_entry(r->l, res->entry_id, &kept, &found)) == LEAL_OK) {
        snprintf(code, LEDGER_REDEEM_CODE, "%s", found ? kept.code : "");
        /* A key sent again names the first request, whatever reward it asks now. */
        if (found)
            *reward_id = kept.reward_id;
    }
    if (err == LEAL_OK)
        return ledger_batch_commit(r->l);
    ledger_batch_rollback(r->l);
    return err;
}

void web_portal_redeem(struct web_req *r)
{
    json_t *jr = json_object_get(r->body, "reward");
    const char *key = json_string_value(json_object_get(r->body, "key"));
    struct ledger_customer c;
    struct ledger_rules *lr;
    const struct rules_reward *w;
    struct ledger_reward_request rq;
    struct ledger_reward_result res;
    char request[128], code[LEDGER_REDEEM_CODE];
    uint32_t reward_id = 0;
    const char *name = "";
    leal_err err;
    if (!json_is_integer(jr) || !key_ok(key)) {
        web_api_error(r, 400, LEAL_E_ARG,
                      "send {\"reward\": its id, \"key\": 16 to 64 letters, digits or '-'}");
        return;
    }
    if ((lr = malloc(sizeof *lr)) == NULL) {
        web_api_error(r, 500, LEAL_E_NO_MEMORY, NULL);
        return;
    }
    if ((err = ledger_customer_get(r->l, r->customer, &c)) != LEAL_OK ||
        (err = ledger_rules_get(r->l, c.program_id, 0, lr)) != LEAL_OK) {
        free(lr);
        web_ledger_error(r, err, "the rewards");
        return;
    }
    if ((w = find_reward(lr, json_integer_value(jr), &name)) == NULL) {
        free(lr);
        web_api_error(r, 404, LEAL_E_UNKNOWN_ID, "no reward with that id");
        return;
    }
    if (w->kind == RULES_REWARD_PERCENT) {
        free(lr);
        web_api_error(r, 400, LEAL_E_PORTAL_REDEEM_KIND, NULL);
        return;
    }
    memset(&rq, 0, sizeof rq);
    snprintf(request, sizeof request, "portal:%lld:%s", (long long)r->customer, key);
    rq.program_id = c.program_id;
    rq.account_id = c.account_id;
    rq.reward_id = w->id;
    rq.operator_name = "portal";
    rq.request_id = request;
    err = redeem_once(r, &rq, &res, code, &reward_id);
    if (err == LEAL_OK && reward_id != w->id && find_reward(lr, reward_id, &name) == NULL)
        name = "";
    if (err == LEAL_E_RULES_POINTS || err == LEAL_E_RULES_TIER) {
        free(lr);
        web_api_error(r, 409, err, NULL);
        return;
    }
    if (err != LEAL_OK) {
        free(lr);
        web_ledger_error(r, err, "the reward");
        return;
    }
    r->status = res.replayed ? 200 : 201;
    r->out = json_pack("{s:s,s:I,s:b,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "code", code, "entry",
                       (json_int_t)res.entry_id, "replayed", res.replayed, "reward",
                       (json_int_t)reward_id, "name", name, "kind",
                       res.kind < 5 ? kind_names[res.kind] : "", "points", (json_int_t)res.points,
                       "points_after", (json_int_t)res.points_after, "product_id",
                       (json_int_t)res.product_id, "discount_cents", (json_int_t)res.discount_cents,
                       "cashback_cents", (json_int_t)res.cashback_cents);
    free(lr);
}
