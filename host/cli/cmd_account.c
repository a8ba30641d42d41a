/* cmd_account.c - `leal account add|add-card|show|history`. */
#include <string.h>

#include "cli.h"
#include "keys/base/hex.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char help[] =
    "usage: leal account add --program ID [--customer ID] [--db PATH] [--json]\n"
    "       leal account add-card ACCOUNT --card-id N --uid HEX --tech TECH\n"
    "                            [--status pending|active] [--keyset N] [--layout N]\n"
    "       leal account show ACCOUNT [--db PATH] [--json]\n"
    "       leal account history ACCOUNT [--limit N] [--before ENTRY] [--db PATH] [--json]\n"
    "An account holds balances (EUR, PTS, STAMP:name); several cards may share it, and\n"
    "an account without a customer is a gift card. TECH: desfire-ev1, desfire-ev2,\n"
    "desfire-ev3, classic-1k, classic-4k, virtual-qr. History pages by entry, newest\n"
    "first: pass the last entry shown as --before for the next page.\n";

struct show_ctx {
    int json;
    int n;
};

static int bal_cb(void *ctx, const char *asset, int64_t amount)
{
    struct show_ctx *x = ctx;
    char a[32];
    lcli_amount_str(asset, amount, a, sizeof a);
    if (x->json) {
        printf("%s", x->n ? "," : "");
        cli_json_string(stdout, asset);
        printf(":%lld", (long long)amount);
    } else {
        printf("  %-16s %14s\n", asset, a);
    }
    x->n++;
    return 0;
}

static int card_cb(void *ctx, const struct ledger_card *c)
{
    struct show_ctx *x = ctx;
    char uid[2 * LEAL_MAX_UID + 1];
    if (leal_hex_encode(c->uid, c->uid_len, true, uid, sizeof uid) != LEAL_OK)
        uid[0] = '\0'; /* unreachable: the ledger keeps at most LEAL_MAX_UID bytes */
    if (x->json)
        printf("%s{\"card_id\":%lld,\"uid\":\"%s\",\"tech\":\"%s\",\"status\":\"%s\","
               "\"counter\":%lld}",
               x->n ? "," : "", (long long)c->card_id, uid, ledger_card_tech_name(c->tech),
               ledger_card_status_name(c->status), (long long)c->last_counter);
    else
        printf("  %-20lld %-20s %-12s %-9s %lld\n", (long long)c->card_id, uid,
               ledger_card_tech_name(c->tech), ledger_card_status_name(c->status),
               (long long)c->last_counter);
    x->n++;
    return 0;
}

struct hist_ctx {
    int json;
    int n;
    int64_t last;
};

static int hist_cb(void *ctx, const struct ledger_movement *m)
{
    struct hist_ctx *x = ctx;
    char a[32], when[48];
    lcli_amount_str(m->asset, m->amount, a, sizeof a);
    /* In the store's local time; UTC when no store recorded the entry. */
    lcli_time_str_tz(m->at, m->timezone[0] ? m->timezone : "UTC", when, sizeof when);
    if (x->json) {
        printf("%s{\"entry\":%lld,\"at\":%lld,\"kind\":\"%s\",\"asset\":", x->n ? "," : "",
               (long long)m->entry_id, (long long)m->at, m->kind);
        cli_json_string(stdout, m->asset);
        printf(",\"amount\":%lld,\"reason\":", (long long)m->amount);
        cli_json_string(stdout, m->reason);
        printf(",\"operator\":");
        cli_json_string(stdout, m->operator_name);
        printf(",\"reverses\":%lld}", (long long)m->reverses);
    } else {
        if (x->n == 0)
            printf("  %-8s %-21s %-9s %-14s %12s  %-20s %s\n", "entry", "when", "kind", "asset",
                   "amount", "operator", "reason");
        printf("  %-8lld %-21s %-9s %-14s %12s  %-20s %s\n", (long long)m->entry_id, when, m->kind,
               m->asset, a, m->operator_name, m->reason);
    }
    x->last = m->entry_id;
    x->n++;
    return 0;
}

static leal_err parse_uid(const char *s, uint8_t *uid, size_t *len)
{
    size_t n = s ? strlen(s) : 0;
    *len = 0;
    if (n == 0 || leal_hex_decode(s, n, uid, LEAL_MAX_UID, len) != LEAL_OK)
        return LEAL_E_NUMBER;
    return LEAL_OK;
}

int cmd_account(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"program", 0, 0}, {"customer", 0, 0}, {"card-id", 0, 0}, {"uid", 0, 0},   {"tech", 0, 0},
        {"status", 0, 0},  {"keyset", 0, 0},   {"layout", 0, 0},  {"limit", 0, 0}, {"before", 0, 0},
        {"db", 0, 0},      {"json", 1, 0},     {"help", 1, 0}};
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS], *sub, *v;
    size_t npos;
    int64_t id = 0, prog = 0, cust = 0, limit = 10, before = 0;
    int json, rc;
    leal_err err = LEAL_OK;
    struct ledger_card card;

    npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos < 1)
        return cli_usage("leal account: expected add, add-card, show or history");
    sub = pos[0];
    json = lcli_get(o, N(o), "json") != NULL;
    memset(&card, 0, sizeof card);
    if (strcmp(sub, "add") == 0) {
        v = lcli_get(o, N(o), "program");
        if (npos != 1 || lcli_id(v, &prog) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--program '%s'", v ? v : "");
        if ((v = lcli_get(o, N(o), "customer")) && lcli_id(v, &cust) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--customer '%s'", v);
    } else {
        if (npos != 2)
            return cli_usage("leal account %s ACCOUNT", sub);
        if (lcli_id(pos[1], &id) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "account '%s'", pos[1]);
    }
    if (strcmp(sub, "add-card") == 0) {
        card.account_id = id;
        card.status = LEDGER_CARD_ACTIVE;
        v = lcli_get(o, N(o), "card-id");
        if (lcli_id(v, &card.card_id) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--card-id '%s'", v ? v : "");
        v = lcli_get(o, N(o), "uid");
        if (parse_uid(v, card.uid, &card.uid_len) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--uid '%s' (hex, 1 to %d bytes)", v ? v : "",
                            LEAL_MAX_UID);
        v = lcli_get(o, N(o), "tech");
        if (ledger_card_tech_parse(v, &card.tech) != LEAL_OK)
            return cli_usage("--tech '%s' is not a card technology", v ? v : "");
        v = lcli_get(o, N(o), "status");
        if (v && (ledger_card_status_parse(v, &card.status) != LEAL_OK ||
                  card.status > LEDGER_CARD_ACTIVE))
            return cli_usage("--status is pending or active");
        if ((v = lcli_get(o, N(o), "keyset")) && lcli_id(v, &card.keyset_version) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--keyset '%s'", v);
        if ((v = lcli_get(o, N(o), "layout")) && lcli_id(v, &card.layout_version) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--layout '%s'", v);
    } else if (strcmp(sub, "history") == 0 || strcmp(sub, "show") == 0) {
        if ((v = lcli_get(o, N(o), "limit")) && lcli_id(v, &limit) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--limit '%s'", v);
        if ((v = lcli_get(o, N(o), "before")) && lcli_id(v, &before) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--before '%s'", v);
    } else if (strcmp(sub, "add") != 0) {
        return cli_usage("leal account: unknown subcommand '%s'", sub);
    }
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if (strcmp(sub, "add") == 0) {
        if ((err = ledger_account_add(l, prog, cust, &id)) == LEAL_OK)
            printf(json ? "{\"id\":%lld}\n" : "account %lld added\n", (long long)id);
    } else if (strcmp(sub, "add-card") == 0) {
        if ((err = ledger_card_add(l, &card)) == LEAL_OK)
            printf(json ? "{\"card_id\":%lld}\n" : "card %lld added to account\n",
                   (long long)card.card_id);
    } else {
        struct ledger_account a;
        struct show_ctx sx = {json, 0};
        struct hist_ctx hx = {json, 0, 0};
        int show = strcmp(sub, "show") == 0;
        if ((err = ledger_account_get(l, id, &a)) != LEAL_OK)
            goto out;
        if (show) {
            static const char *const kinds[] = {"", "customer", "gift", "program"};
            if (json)
                printf("{\"id\":%lld,\"program\":%lld,\"customer\":%lld,\"kind\":\"%s\","
                       "\"balances\":{",
                       (long long)a.id, (long long)a.program_id, (long long)a.customer_id,
                       kinds[a.kind]);
            else
                printf("account %lld (%s%s%s) program %lld customer %lld\nbalances\n",
                       (long long)a.id, kinds[a.kind], a.name[0] ? " " : "", a.name,
                       (long long)a.program_id, (long long)a.customer_id);
            if ((err = ledger_balance_each(l, id, bal_cb, &sx)) != LEAL_OK)
                goto out;
            if (!json && sx.n == 0)
                printf("  (none)\n");
            printf(json ? "},\"cards\":[" : "cards\n");
            sx.n = 0;
            if ((err = ledger_card_each_of_account(l, id, card_cb, &sx)) != LEAL_OK)
                goto out;
            if (!json && sx.n == 0)
                printf("  (none)\n");
            printf(json ? "],\"movements\":[" : "last movements\n");
        } else if (json) {
            printf("{\"account\":%lld,\"movements\":[", (long long)id);
        }
        err = ledger_history(l, id, before, (size_t)limit, hist_cb, &hx);
        if (err != LEAL_OK)
            goto out;
        if (json)
            printf("]}\n");
        else if (hx.n == 0)
            printf("  (none)\n");
        else if (!show && (size_t)hx.n >= (size_t)limit)
            printf("more: --before %lld\n", (long long)hx.last);
    }
out:
    if (err != LEAL_OK) {
        char what[64];
        snprintf(what, sizeof what, "account %s", sub);
        rc = lcli_fail(l, err, what);
    }
    ledger_close(l);
    return rc;
}
