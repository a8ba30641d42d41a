/* cmd_reward.c - `leal reward redeem`: a reward of the program's catalogue
 * redeemed at the host against the account's points in the ledger
 * (host/ledger/ledger_reward.h). The card need not be present: the points
 * reach it as a host change at its next terminal tap or `leal card sync`,
 * a cashback at the desk (`leal card top-up --cashback`). Every option is
 * checked before the ledger is opened. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/ledger/ledger_portal_pin.h"
#include "host/ledger/ledger_reward.h"
#include "host/ledger/ledger_rules.h"
#include "ledger_cli.h"

static const char reward_redeem_usage[] =
    "usage: leal reward redeem --program ID --reward NAME|ID (--card ID | --account ID)\n"
    "                          --request KEY [--sale EUR] [--store ID] [--operator NAME]\n"
    "                          [--db PATH] [--json]\n"
    "Redeems a reward of the program's catalogue against the account's points in the\n"
    "ledger, through the rules engine a terminal runs (its cost, the tier it asks for).\n"
    "A percentage reward needs --sale (the discount is the till's to take off). The\n"
    "points reach the card at its next terminal tap or 'leal card sync'; a cashback is\n"
    "owed to the account until 'leal card top-up --cashback' loads it at the desk.\n"
    "--request KEY makes it happen once: the same KEY again changes nothing.\n";

enum {
    R_PROGRAM,
    R_REWARD,
    R_CARD,
    R_ACCOUNT,
    R_REQUEST,
    R_SALE,
    R_STORE,
    R_OPERATOR,
    R_DB,
    R_JSON,
    R_HELP,
    R_COUNT
};

static const char *const kind_names[] = {"", "product", "voucher", "percent", "cashback"};

/* --reward: a name of the program's current catalogue, or its id. */
static int find_reward(struct ledger *l, int64_t program, const char *want, uint32_t *id,
                       char *name, size_t name_len)
{
    static struct ledger_rules r;
    int64_t n = 0;
    leal_err err = ledger_rules_get(l, program, 0, &r);
    if (err != LEAL_OK)
        return lcli_fail(l, err, "reading the program's rules");
    (void)lcli_id(want, &n);
    for (uint8_t i = 0; i < r.set.program.n_rewards; i++)
        if (strcmp(r.reward_name[i], want) == 0 || (int64_t)r.set.program.rewards[i].id == n) {
            *id = r.set.program.rewards[i].id;
            snprintf(name, name_len, "%s", r.reward_name[i]);
            return 0;
        }
    return cli_error(LEAL_E_UNKNOWN_ID, CLI_EXIT_USAGE,
                     "--reward '%s': program %lld has no such reward; 'leal reward list "
                     "--program %lld' shows them; nothing was posted",
                     want, (long long)program, (long long)program);
}

static void print_result(const struct lcli_opt *o, const struct ledger_reward_request *rq,
                         const char *name, const struct ledger_reward_result *r)
{
    char cash[32], owed[32], off[32];
    const char *kind = r->kind < 5 ? kind_names[r->kind] : "";
    lcli_amount_str("EUR", r->cashback_cents, cash, sizeof cash);
    lcli_amount_str("EUR", r->cashback_owed_cents, owed, sizeof owed);
    lcli_amount_str("EUR", r->discount_cents, off, sizeof off);
    if (o[R_JSON].val) {
        printf("{\"entry_id\":%lld,\"replayed\":%s,\"account_id\":%lld,\"reward_id\":%u,"
               "\"name\":",
               (long long)r->entry_id, r->replayed ? "true" : "false", (long long)rq->account_id,
               rq->reward_id);
        cli_json_string(stdout, name);
        printf(",\"kind\":\"%s\",\"points\":%lld,\"product_id\":%lld,\"discount_cents\":%lld,"
               "\"cashback_cents\":%lld,\"points_after\":%lld,\"cashback_owed_cents\":%lld}\n",
               kind, (long long)r->points, (long long)r->product_id, (long long)r->discount_cents,
               (long long)r->cashback_cents, (long long)r->points_after,
               (long long)r->cashback_owed_cents);
        return;
    }
    printf("reward %s: %s (%s) for %lld points on account %lld, entry %lld%s\n",
           r->replayed ? "already redeemed" : "redeemed", name, kind, (long long)r->points,
           (long long)rq->account_id, (long long)r->entry_id,
           r->replayed ? " (nothing changed)" : "");
    if (r->kind == RULES_REWARD_PRODUCT)
        printf("%-12s hand over product %lld\n", "till", (long long)r->product_id);
    else if (r->kind == RULES_REWARD_VOUCHER || r->kind == RULES_REWARD_PERCENT)
        printf("%-12s take %s EUR off the sale\n", "till", off);
    else if (r->kind == RULES_REWARD_CASHBACK)
        printf("%-12s %s EUR owed to the account, %s EUR in all: 'leal card top-up --cashback' "
               "loads it at the desk\n",
               "cashback", cash, owed);
    printf("%-12s %lld points left; the card gets the change at its next tap or 'leal card "
           "sync'\n",
           "points", (long long)r->points_after);
}

static int redeem_fail(struct ledger *l, leal_err err)
{
    switch (err) {
    case LEAL_E_RULES_POINTS:
        return cli_error(err, CLI_EXIT_FAIL,
                         "the account has too few points for this reward; nothing was posted");
    case LEAL_E_RULES_TIER:
        return cli_error(err, CLI_EXIT_FAIL,
                         "the account's tier is below the one this reward asks for; nothing was "
                         "posted");
    default:
        return lcli_fail(l, err, "redeeming the reward");
    }
}

int reward_redeem(int argc, char **argv)
{
    struct lcli_opt o[R_COUNT] = {
        {"program", false, NULL}, {"reward", false, NULL},   {"card", false, NULL},
        {"account", false, NULL}, {"request", false, NULL},  {"sale", false, NULL},
        {"store", false, NULL},   {"operator", false, NULL}, {"db", false, NULL},
        {"json", true, NULL},     {"help", true, NULL}};
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    struct ledger_reward_request rq;
    struct ledger_reward_result res;
    struct ledger *l = NULL;
    char name[LEDGER_RULES_NAME];
    leal_err err;
    int rc;
    memset(&rq, 0, sizeof rq);
    if ((rc = lcli_parse(argc, argv, o, R_COUNT, pos, &npos)) != 0)
        return rc;
    if (o[R_HELP].val) {
        fputs(reward_redeem_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (npos > 0)
        return cli_usage("leal reward redeem: unexpected argument '%s'", pos[0]);
    if (o[R_PROGRAM].val == NULL || lcli_id(o[R_PROGRAM].val, &rq.program_id) != LEAL_OK)
        return cli_usage("leal reward redeem needs --program ID");
    if (o[R_REWARD].val == NULL || o[R_REWARD].val[0] == '\0')
        return cli_usage("leal reward redeem needs --reward NAME|ID");
    if ((o[R_CARD].val == NULL) == (o[R_ACCOUNT].val == NULL))
        return cli_usage("leal reward redeem needs one of --card ID or --account ID");
    if (o[R_CARD].val && lcli_id(o[R_CARD].val, &rq.card_id) != LEAL_OK)
        return cli_usage("--card '%s': a card id", o[R_CARD].val);
    if (o[R_ACCOUNT].val && lcli_id(o[R_ACCOUNT].val, &rq.account_id) != LEAL_OK)
        return cli_usage("--account '%s': an account id", o[R_ACCOUNT].val);
    if (o[R_REQUEST].val == NULL || o[R_REQUEST].val[0] == '\0' || strlen(o[R_REQUEST].val) > 100)
        return cli_usage("leal reward redeem needs --request KEY (1 to 100 characters, the "
                         "same KEY again changes nothing)");
    if (o[R_SALE].val && (lcli_amount("EUR", o[R_SALE].val, &rq.sale_cents) != LEAL_OK ||
                          rq.sale_cents < 0 || rq.sale_cents > RULES_MAX_SALE_CENTS))
        return cli_usage("--sale '%s': euros from 0 to 1000000,00, like 23,50", o[R_SALE].val);
    if (o[R_STORE].val && lcli_id(o[R_STORE].val, &rq.store_id) != LEAL_OK)
        return cli_usage("--store '%s': a store id", o[R_STORE].val);
    rq.request_id = o[R_REQUEST].val;
    rq.operator_name = o[R_OPERATOR].val ? o[R_OPERATOR].val : getenv("USER");
    if (rq.operator_name == NULL || rq.operator_name[0] == '\0')
        rq.operator_name = "host";
    if ((rc = lcli_open(o[R_DB].val, &l)) != 0)
        return rc;
    if (rq.card_id != 0) {
        struct ledger_card lc;
        if ((err = ledger_card_find_by_id(l, rq.card_id, &lc)) != LEAL_OK) {
            rc = lcli_fail(l, err, "finding the card");
            ledger_close(l);
            return rc;
        }
        rq.account_id = lc.account_id;
    }
    if ((rc = find_reward(l, rq.program_id, o[R_REWARD].val, &rq.reward_id, name, sizeof name)) !=
        0) {
        ledger_close(l);
        return rc;
    }
    err = ledger_reward_redeem(l, &rq, &res);
    rc = err == LEAL_OK ? CLI_EXIT_OK : redeem_fail(l, err);
    if (err == LEAL_OK)
        print_result(o, &rq, name, &res);
    ledger_close(l);
    return rc;
}

static const char reward_honour_usage[] =
    "usage: leal reward honour CODE [--operator NAME] [--db PATH] [--json]\n"
    "Honours a reward the customer redeemed from the portal: CODE is the one the\n"
    "portal showed them (XXXX-XXXX). It says what to give (a product, euros off the\n"
    "sale, or a cashback the desk loads with 'leal card top-up --cashback') and marks\n"
    "the code honoured: a code is honoured once. The points were taken when the\n"
    "customer redeemed it; the card gets the change at its next tap or 'leal card sync'.\n";

int reward_honour(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"operator", false, NULL}, {"db", false, NULL}, {"json", true, NULL}, {"help", true, NULL}};
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    struct ledger_redemption d;
    struct ledger_customer c;
    struct ledger *l = NULL;
    static struct ledger_rules r;
    const struct rules_reward *w = NULL;
    const char *name = "", *op;
    char code[LEDGER_REDEEM_CODE];
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, sizeof o / sizeof o[0], pos, &npos)) != 0)
        return rc;
    if (o[3].val) {
        fputs(reward_honour_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1 || strlen(pos[0]) != LEDGER_REDEEM_CODE - 1)
        return cli_usage("leal reward honour needs the CODE the portal showed (XXXX-XXXX)");
    for (size_t i = 0; i < LEDGER_REDEEM_CODE; i++)
        code[i] = (char)toupper((unsigned char)pos[0][i]);
    op = o[0].val ? o[0].val : getenv("USER");
    if (op == NULL || op[0] == '\0')
        op = "desk";
    if ((rc = lcli_open(o[1].val, &l)) != 0)
        return rc;
    err = ledger_redemption_honour(l, code, op, (int64_t)time(NULL), &d);
    if (err == LEAL_E_REDEEM_CODE_USED) {
        ledger_close(l);
        return cli_error(err, CLI_EXIT_FAIL,
                         "code %s was honoured already (by %s, at %lld); the reward is not given "
                         "twice",
                         code, d.honoured_by, (long long)d.honoured_at);
    }
    if (err == LEAL_E_REDEEM_CODE_UNKNOWN) {
        ledger_close(l);
        return cli_error(err, CLI_EXIT_FAIL,
                         "no reward redeemed from the portal has code %s; check it with the "
                         "customer",
                         code);
    }
    if (err == LEAL_OK && (err = ledger_customer_get(l, d.customer_id, &c)) == LEAL_OK &&
        (err = ledger_rules_get(l, c.program_id, 0, &r)) == LEAL_OK)
        for (uint8_t i = 0; i < r.set.program.n_rewards; i++)
            if (r.set.program.rewards[i].id == d.reward_id) {
                w = &r.set.program.rewards[i];
                name = r.reward_name[i];
            }
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "honouring the code");
        ledger_close(l);
        return rc;
    }
    ledger_close(l);
    if (o[2].val) {
        printf("{\"code\":\"%s\",\"entry_id\":%lld,\"customer_id\":%lld,\"reward_id\":%u,"
               "\"name\":",
               code, (long long)d.entry_id, (long long)d.customer_id, d.reward_id);
        cli_json_string(stdout, name);
        printf(",\"kind\":\"%s\",\"value\":%lld,\"points\":%lld}\n",
               w && w->kind < 5 ? kind_names[w->kind] : "", w ? (long long)w->value : 0LL,
               (long long)d.points);
        return CLI_EXIT_OK;
    }
    printf("code %s honoured: %s for %lld points, customer %lld, entry %lld\n", code,
           w ? name : "a reward no longer in the catalogue", (long long)d.points,
           (long long)d.customer_id, (long long)d.entry_id);
    if (w && w->kind == RULES_REWARD_PRODUCT)
        printf("%-12s hand over product %lld\n", "till", (long long)w->value);
    else if (w && w->kind == RULES_REWARD_VOUCHER) {
        char off[32];
        lcli_amount_str("EUR", w->value, off, sizeof off);
        printf("%-12s take %s EUR off the sale\n", "till", off);
    } else if (w && w->kind == RULES_REWARD_CASHBACK)
        printf("%-12s owed to the account: 'leal card top-up --cashback' loads it\n", "cashback");
    return CLI_EXIT_OK;
}
