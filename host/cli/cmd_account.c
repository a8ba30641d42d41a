/* cmd_account.c - `leal account add|add-card|show|history`. */
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger_host_change.h"
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
    int64_t active[16]; /* the account's active cards: what host changes wait for */
    int nactive;
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
    if (c->status == LEDGER_CARD_ACTIVE && x->nactive < (int)N(x->active))
        x->active[x->nactive++] = c->card_id;
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

/* One `leal account` command. */
struct acct_cmd {
    struct lcli_opt *o;
    size_t nopts;
    const char *sub;
    int json;
    int64_t id, prog, cust, limit, before;
    struct ledger_card card;
};

static const char *get(const struct acct_cmd *x, const char *name)
{
    return lcli_get(x->o, x->nopts, name);
}

/* add-card: the card's fields, checked before the ledger is opened. */
static int check_card(struct acct_cmd *x)
{
    struct ledger_card *card = &x->card;
    const char *v;
    card->account_id = x->id;
    card->status = LEDGER_CARD_ACTIVE;
    v = get(x, "card-id");
    if (lcli_id(v, &card->card_id) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--card-id '%s'", v ? v : "");
    v = get(x, "uid");
    if (parse_uid(v, card->uid, &card->uid_len) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--uid '%s' (hex, 1 to %d bytes)", v ? v : "", LEAL_MAX_UID);
    v = get(x, "tech");
    if (ledger_card_tech_parse(v, &card->tech) != LEAL_OK)
        return cli_usage("--tech '%s' is not a card technology", v ? v : "");
    v = get(x, "status");
    if (v && (ledger_card_status_parse(v, &card->status) != LEAL_OK ||
              card->status > LEDGER_CARD_ACTIVE))
        return cli_usage("--status is pending or active");
    if ((v = get(x, "keyset")) && lcli_id(v, &card->keyset_version) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--keyset '%s'", v);
    if ((v = get(x, "layout")) && lcli_id(v, &card->layout_version) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--layout '%s'", v);
    return 0;
}

static int check_args(struct acct_cmd *x, const char *const *pos, size_t npos)
{
    const char *v;
    if (strcmp(x->sub, "add") == 0) {
        v = get(x, "program");
        if (npos != 1 || lcli_id(v, &x->prog) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--program '%s'", v ? v : "");
        if ((v = get(x, "customer")) && lcli_id(v, &x->cust) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--customer '%s'", v);
        return 0;
    }
    if (npos != 2)
        return cli_usage("leal account %s ACCOUNT", x->sub);
    if (lcli_id(pos[1], &x->id) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "account '%s'", pos[1]);
    if (strcmp(x->sub, "add-card") == 0)
        return check_card(x);
    if (strcmp(x->sub, "history") != 0 && strcmp(x->sub, "show") != 0)
        return cli_usage("leal account: unknown subcommand '%s'", x->sub);
    if ((v = get(x, "limit")) && lcli_id(v, &x->limit) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--limit '%s'", v);
    if ((v = get(x, "before")) && lcli_id(v, &x->before) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--before '%s'", v);
    return 0;
}

/* The host changes waiting for the account's active cards, and why. */
static leal_err show_waiting(struct ledger *l, const struct show_ctx *sx)
{
    struct ledger_host_change c;
    bool waiting;
    int n = 0;
    leal_err err = LEAL_OK;
    printf(sx->json ? "],\"waiting\":[" : "waiting for a card\n");
    for (int i = 0; err == LEAL_OK && i < sx->nactive; i++) {
        if ((err = ledger_host_change_get(l, sx->active[i], &c, &waiting)) != LEAL_OK || !waiting)
            continue;
        lcli_host_change_print(&c, sx->json, sx->json ? (n ? "," : "") : " ");
        n++;
    }
    if (err == LEAL_OK && !sx->json && n == 0)
        printf("  (none)\n");
    return err;
}

/* show's head: the account, its balances, its cards and what waits for them. */
static leal_err show_head(const struct acct_cmd *x, struct ledger *l,
                          const struct ledger_account *a)
{
    static const char *const kinds[] = {"", "customer", "gift", "program"};
    struct show_ctx sx = {.json = x->json};
    leal_err err;
    if (x->json)
        printf("{\"id\":%lld,\"program\":%lld,\"customer\":%lld,\"kind\":\"%s\","
               "\"balances\":{",
               (long long)a->id, (long long)a->program_id, (long long)a->customer_id,
               kinds[a->kind]);
    else
        printf("account %lld (%s%s%s) program %lld customer %lld\nbalances\n", (long long)a->id,
               kinds[a->kind], a->name[0] ? " " : "", a->name, (long long)a->program_id,
               (long long)a->customer_id);
    if ((err = ledger_balance_each(l, x->id, bal_cb, &sx)) != LEAL_OK)
        return err;
    if (!x->json && sx.n == 0)
        printf("  (none)\n");
    printf(x->json ? "},\"cards\":[" : "cards\n");
    sx.n = 0;
    if ((err = ledger_card_each_of_account(l, x->id, card_cb, &sx)) != LEAL_OK)
        return err;
    if (!x->json && sx.n == 0)
        printf("  (none)\n");
    if ((err = show_waiting(l, &sx)) != LEAL_OK)
        return err;
    printf(x->json ? "],\"movements\":[" : "last movements\n");
    return LEAL_OK;
}

/* show and history: the movements, newest first, --limit at a time. */
static leal_err show_account(const struct acct_cmd *x, struct ledger *l)
{
    struct ledger_account a;
    struct hist_ctx hx = {x->json, 0, 0};
    bool show = strcmp(x->sub, "show") == 0;
    leal_err err;
    if ((err = ledger_account_get(l, x->id, &a)) != LEAL_OK)
        return err;
    if (show && (err = show_head(x, l, &a)) != LEAL_OK)
        return err;
    if (!show && x->json)
        printf("{\"account\":%lld,\"movements\":[", (long long)x->id);
    if ((err = ledger_history(l, x->id, x->before, (size_t)x->limit, hist_cb, &hx)) != LEAL_OK)
        return err;
    if (x->json)
        printf("]}\n");
    else if (hx.n == 0)
        printf("  (none)\n");
    else if (!show && (size_t)hx.n >= (size_t)x->limit)
        printf("more: --before %lld\n", (long long)hx.last);
    return LEAL_OK;
}

static leal_err run(struct acct_cmd *x, struct ledger *l)
{
    leal_err err;
    if (strcmp(x->sub, "add") == 0) {
        if ((err = ledger_account_add(l, x->prog, x->cust, &x->id)) == LEAL_OK)
            printf(x->json ? "{\"id\":%lld}\n" : "account %lld added\n", (long long)x->id);
        return err;
    }
    if (strcmp(x->sub, "add-card") == 0) {
        if ((err = ledger_card_add(l, &x->card)) == LEAL_OK)
            printf(x->json ? "{\"card_id\":%lld}\n" : "card %lld added to account\n",
                   (long long)x->card.card_id);
        return err;
    }
    return show_account(x, l);
}

int cmd_account(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"program", 0, 0}, {"customer", 0, 0}, {"card-id", 0, 0}, {"uid", 0, 0},   {"tech", 0, 0},
        {"status", 0, 0},  {"keyset", 0, 0},   {"layout", 0, 0},  {"limit", 0, 0}, {"before", 0, 0},
        {"db", 0, 0},      {"json", 1, 0},     {"help", 1, 0}};
    struct acct_cmd x = {.o = o, .nopts = N(o), .limit = 10};
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    leal_err err;
    int rc;

    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (get(&x, "help")) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos < 1)
        return cli_usage("leal account: expected add, add-card, show or history");
    x.sub = pos[0];
    x.json = get(&x, "json") != NULL;
    if ((rc = check_args(&x, pos, npos)) != 0 || (rc = lcli_open(get(&x, "db"), &l)) != 0)
        return rc;
    if ((err = run(&x, l)) != LEAL_OK) {
        char what[64];
        snprintf(what, sizeof what, "account %s", x.sub);
        rc = lcli_fail(l, err, what);
    }
    ledger_close(l);
    return rc;
}
