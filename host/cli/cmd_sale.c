/* cmd_sale.c - `leal sale`, `leal sale refund`, `leal sale category add|list`. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/ledger/amount.h"
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_sale.h"
#include "keys/base/hex.h"
#include "keys/hosted/provider_openssl.h"
#include "ledger_cli.h"
#include "sale_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char help[] =
    "usage: leal sale --card-id ID|--account ID --amount EUR --store ID\n"
    "                 [--category NAME=[Nx]EUR ...] [--at TIME] [--request-id K]\n"
    "                 [--operator NAME] [--db PATH] [--json]\n"
    "       leal sale refund --sale ID [--amount EUR] [--at TIME] [--request-id K]\n"
    "                 [--operator NAME] [--db PATH] [--json]\n"
    "       leal sale category add NAME --program ID [--code N] [--db PATH] [--json]\n"
    "       leal sale category list --program ID [--db PATH] [--json]\n"
    "An online sale through the program's rules (firmware/core/RULES.md), as a tap\n"
    "would earn it: the account's points, stamps and tier spend come from the ledger,\n"
    "never from a card. --category names the part of the sale in one product\n"
    "category (3x3,20: three items for 3,20 euros; items add up to at most --amount).\n"
    "TIME is UTC, 2026-12-01T16:00:00Z or @UNIXSECONDS (default: now); rules read it\n"
    "in the store's time zone. Retrying with the same --request-id posts nothing new\n"
    "(default: a new random id; a whole refund's is sale-ID-rest, so it posts once).\n"
    "A refund takes back what that sale gave: all that is left of it, or --amount's\n"
    "share (RULES.md 6), never more.\n";

enum {
    O_CARD,
    O_ACCOUNT,
    O_AMOUNT,
    O_STORE,
    O_AT,
    O_REQ,
    O_OPERATOR,
    O_SALE,
    O_PROGRAM,
    O_CODE,
    O_DB,
    O_JSON,
    O_HELP,
    O_COUNT
};

struct sale_cmd {
    struct lcli_opt o[O_COUNT];
    const char *cats[RULES_MAX_ITEMS + 1];
    size_t ncats;
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    int json;
    int64_t card, account, amount, store, at, sale, program, code;
    char req[40];
    const char *operator_name;
};

static const char *val(const struct sale_cmd *c, int i)
{
    return c->o[i].val;
}

static void random_request_id(char out[40])
{
    uint8_t r[12];
    if (crypto_openssl()->random(r, sizeof r) != LEAL_OK)
        memset(r, 0, sizeof r);
    memcpy(out, "cli-", 4);
    if (leal_hex_encode(r, sizeof r, false, out + 4, 40 - 4) != LEAL_OK)
        out[4] = '\0'; /* unreachable: 24 digits fit */
}

/* The engine's refusals of what was typed are bad input (exit 2). */
static int sale_fail(const struct ledger *l, leal_err err, const char *what)
{
    int rc = lcli_fail(l, err, what);
    if (err == LEAL_E_RULES_SALE || err == LEAL_E_RULES_REFUND || err == LEAL_E_CARD_BLOCKED)
        return CLI_EXIT_USAGE;
    return rc;
}

/* --category may repeat: taken out of argv before the other options are parsed. */
static int split_args(struct sale_cmd *c, int argc, char **argv)
{
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n = 0, rc;
    if (rest == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "arguments");
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--category") != 0) {
            rest[n++] = argv[i];
            continue;
        }
        if (i + 1 >= argc || c->ncats >= RULES_MAX_ITEMS) {
            free(rest);
            return i + 1 >= argc ? cli_usage("option '--category' needs a value")
                                 : cli_usage("at most %d --category", RULES_MAX_ITEMS);
        }
        c->cats[c->ncats++] = argv[++i];
    }
    c->npos = LCLI_MAX_POS;
    rc = lcli_parse(n, rest, c->o, O_COUNT, c->pos, &c->npos);
    free(rest);
    return rc;
}

/* NAME=[Nx]EUR: the name (into name), quantity and cents. */
static leal_err category_arg(const char *s, char name[LEDGER_CATEGORY_NAME], struct rules_item *it)
{
    const char *eq = strchr(s, '='), *x, *eur;
    int64_t q = 1;
    size_t n = eq ? (size_t)(eq - s) : 0;
    if (n == 0 || n >= LEDGER_CATEGORY_NAME)
        return LEAL_E_USAGE;
    memcpy(name, s, n);
    name[n] = '\0';
    eur = eq + 1;
    if ((x = strchr(eur, 'x')) != NULL) {
        char qty[8];
        size_t qn = (size_t)(x - eur);
        if (qn == 0 || qn >= sizeof qty)
            return LEAL_E_USAGE;
        memcpy(qty, eur, qn);
        qty[qn] = '\0';
        if (lcli_id(qty, &q) != LEAL_OK || q > 65535)
            return LEAL_E_USAGE;
        eur = x + 1;
    }
    it->quantity = (uint16_t)q;
    if (amount_parse(eur, strlen(eur), &it->amount_cents) != LEAL_OK || it->amount_cents < 0)
        return LEAL_E_AMOUNT;
    return LEAL_OK;
}

static int check_sale(struct sale_cmd *c)
{
    const char *v;
    if ((val(c, O_CARD) != NULL) == (val(c, O_ACCOUNT) != NULL))
        return cli_usage("leal sale needs --card-id or --account (one of them)");
    if ((v = val(c, O_CARD)) && lcli_id(v, &c->card) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--card-id '%s'", v);
    if ((v = val(c, O_ACCOUNT)) && lcli_id(v, &c->account) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--account '%s'", v);
    v = val(c, O_AMOUNT);
    if (v == NULL || amount_parse(v, strlen(v), &c->amount) != LEAL_OK || c->amount < 0 ||
        c->amount > RULES_MAX_SALE_CENTS)
        return cli_fail(LEAL_E_AMOUNT, "--amount '%s' (euros, 0 to 1000000.00, like 23,50)",
                        v ? v : "");
    v = val(c, O_STORE);
    if (lcli_id(v, &c->store) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--store '%s'", v ? v : "");
    for (size_t i = 0; i < c->ncats; i++) {
        char name[LEDGER_CATEGORY_NAME];
        struct rules_item it;
        if (category_arg(c->cats[i], name, &it) != LEAL_OK)
            return cli_usage("--category '%s' is NAME=EUR or NAME=NxEUR (cafe=3x3,20)", c->cats[i]);
    }
    return 0;
}

static int check_common(struct sale_cmd *c)
{
    const char *v;
    if ((v = val(c, O_AT)) && sale_cli_time(v, &c->at) != LEAL_OK)
        return cli_fail(LEAL_E_DATE, "--at '%s' (2026-12-01T16:00:00Z or @UNIXSECONDS)", v);
    v = val(c, O_REQ);
    if (v && (v[0] == '\0' || strlen(v) > LEDGER_SALE_MAX_REQUEST))
        return cli_fail(LEAL_E_TEXT, "--request-id is 1 to %d characters", LEDGER_SALE_MAX_REQUEST);
    if (v == NULL)
        random_request_id(c->req);
    c->operator_name = val(c, O_OPERATOR) ? val(c, O_OPERATOR) : getenv("USER");
    if (c->operator_name == NULL || c->operator_name[0] == '\0')
        c->operator_name = "leal";
    return 0;
}

static const char *request_id(const struct sale_cmd *c)
{
    return val(c, O_REQ) ? val(c, O_REQ) : c->req;
}

/* The sale's program: its account's (the card's account's). */
static leal_err sale_program(struct ledger *l, const struct sale_cmd *c, int64_t *program)
{
    struct ledger_account a;
    struct ledger_card card;
    int64_t account = c->account;
    leal_err err;
    if (c->card && (err = ledger_card_find_by_id(l, c->card, &card)) != LEAL_OK)
        return err;
    if (c->card)
        account = card.account_id;
    if ((err = ledger_account_get(l, account, &a)) != LEAL_OK)
        return err;
    *program = a.program_id;
    return LEAL_OK;
}

/* --category names into the engine's numbered items. */
static int sale_items(struct ledger *l, const struct sale_cmd *c, int64_t program,
                      struct ledger_sale_request *rq)
{
    for (size_t i = 0; i < c->ncats; i++) {
        char name[LEDGER_CATEGORY_NAME];
        struct rules_item *it = &rq->items[rq->n_items];
        leal_err err;
        if (category_arg(c->cats[i], name, it) != LEAL_OK)
            return cli_usage("--category '%s'", c->cats[i]);
        if ((err = ledger_category_code(l, program, name, &it->category)) != LEAL_OK)
            return cli_error(err, cli_exit_code(err),
                             "--category: program %lld has no category '%s'; add it with 'leal "
                             "sale category add %s --program %lld'",
                             (long long)program, name, name, (long long)program);
        rq->n_items++;
    }
    return 0;
}

/* The name the program gives a line's tier or rule ("" if none). */
static const char *line_name(const struct ledger_rules *n, const struct rules_line *ln)
{
    const struct rules_program *p = &n->set.program;
    if (ln->source == RULES_LINE_TIER && ln->id >= 1 && ln->id <= RULES_MAX_TIERS)
        return n->tier_name[ln->id - 1];
    for (unsigned i = 0; ln->source == RULES_LINE_RULE && i < p->n_rules; i++)
        if (p->rules[i].id == ln->id)
            return n->rule_name[i];
    return "";
}

static void print_stamps_json(const struct ledger_rules *n, const struct rules_result *r)
{
    const struct rules_program *p = &n->set.program;
    for (unsigned i = 0; i < p->n_stamps; i++) {
        printf("%s{\"card\":%u,\"name\":", i ? "," : "", i + 1);
        cli_json_string(stdout, n->stamp_name[i]);
        printf(",\"given\":%u,\"now\":%u,\"rewards\":%u,\"reward_id\":%u}",
               (unsigned)r->earned.stamps[i], (unsigned)r->after.stamps[i],
               (unsigned)r->earned.rewards[i], (unsigned)p->stamps[i].reward_id);
    }
}

static void print_sale_json(const struct ledger_rules *n, const struct ledger_sale_request *rq,
                            const struct ledger_sale_result *s)
{
    const struct rules_result *r = &s->r;
    const struct rules_civil *t = &s->local;
    printf("{\"sale\":%lld,\"entry\":%lld,\"account\":%lld,\"card\":%lld,\"replayed\":%s,"
           "\"local\":\"%04u-%02u-%02u %02u:%02u:%02u\",\"amount_cents\":%lld,\"points\":%lld,"
           "\"points_settled\":%lld,\"lines\":[",
           (long long)s->sale_id, (long long)s->entry_id, (long long)s->account_id,
           (long long)rq->card_id, s->replayed ? "true" : "false", (unsigned)t->year,
           (unsigned)t->month, (unsigned)t->day, (unsigned)t->hour, (unsigned)t->minute,
           (unsigned)t->second, (long long)r->earned.amount_cents, (long long)r->points,
           (long long)s->points_settled);
    for (unsigned i = 0; i < r->n_lines; i++) {
        printf("%s{\"source\":\"%s\",\"id\":%u,\"name\":", i ? "," : "",
               sale_cli_source(r->lines[i].source), (unsigned)r->lines[i].id);
        cli_json_string(stdout, line_name(n, &r->lines[i]));
        printf(",\"points\":%lld}", (long long)r->lines[i].points);
    }
    printf("],\"balance\":%u,\"tier_before\":%u,\"tier\":%u,\"stamps\":[",
           (unsigned)r->after.points, (unsigned)r->tier_before, (unsigned)r->after.tier);
    print_stamps_json(n, r);
    printf("]}\n");
}

static void print_sale(const struct ledger_rules *n, const struct ledger_sale_request *rq,
                       const struct ledger_sale_result *s)
{
    const struct rules_program *p = &n->set.program;
    const struct rules_result *r = &s->r;
    const struct rules_civil *t = &s->local;
    char a[AMOUNT_FORMAT_MAX];
    unsigned window = 0;
    printf("sale %lld%s: account %lld, %s EUR at %04u-%02u-%02u %02u:%02u:%02u (store %lld)\n",
           (long long)s->sale_id, s->replayed ? " (already posted: same request id)" : "",
           (long long)s->account_id, amount_text(r->earned.amount_cents, a), (unsigned)t->year,
           (unsigned)t->month, (unsigned)t->day, (unsigned)t->hour, (unsigned)t->minute,
           (unsigned)t->second, (long long)rq->store_id);
    for (unsigned i = 0; i < r->n_lines; i++) {
        const struct rules_line *ln = &r->lines[i];
        const char *name = line_name(n, ln);
        if (ln->source == RULES_LINE_RULE || ln->source == RULES_LINE_TIER)
            printf("  %-7s %-6u %+8lld%s%s\n", sale_cli_source(ln->source), (unsigned)ln->id,
                   (long long)ln->points, name[0] ? "  " : "", name);
        else
            printf("  %-14s %+8lld\n", sale_cli_source(ln->source), (long long)ln->points);
    }
    if (s->points_settled > 0) /* RULES.md 6: owed by the account, settled first */
        printf("  %-14s %+8lld  (owed: a refund could not take them back)\n", "owed settled",
               (long long)-s->points_settled);
    for (unsigned k = 0; k < STATE_BUCKETS; k++)
        window += r->after.buckets[k];
    printf("points %+lld, balance %u\n", (long long)(r->points - s->points_settled),
           (unsigned)r->after.points);
    printf("tier %u -> %u (%u EUR in the window)\n", (unsigned)r->tier_before,
           (unsigned)r->after.tier, window);
    for (unsigned i = 0; i < p->n_stamps; i++) {
        printf("stamp card %u%s%s%s: %+d, %u now", i + 1, n->stamp_name[i][0] ? " (" : "",
               n->stamp_name[i], n->stamp_name[i][0] ? ")" : "", (int)r->earned.stamps[i],
               (unsigned)r->after.stamps[i]);
        if (r->earned.rewards[i])
            printf(", %u x reward %u granted", (unsigned)r->earned.rewards[i],
                   (unsigned)p->stamps[i].reward_id);
        printf("\n");
    }
}

static int run_sale(struct sale_cmd *c, struct ledger *l)
{
    struct ledger_sale_request rq;
    struct ledger_sale_result *s = calloc(1, sizeof *s);
    struct ledger_rules n;
    int64_t program = 0;
    leal_err err;
    int rc;

    if (s == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "sale");
    memset(&rq, 0, sizeof rq);
    if ((err = sale_program(l, c, &program)) != LEAL_OK) {
        free(s);
        return sale_fail(l, err, "sale");
    }
    if ((rc = sale_cli_names(l, program, &n)) != 0 || (rc = sale_items(l, c, program, &rq)) != 0) {
        free(s);
        return rc;
    }
    rq.account_id = c->account;
    rq.card_id = c->card;
    rq.store_id = c->store;
    rq.at = c->at;
    rq.amount_cents = c->amount;
    rq.request_id = request_id(c);
    rq.operator_name = c->operator_name;
    rq.rules = &n.set.program;
    rq.rules_version = n.set.version;
    if ((err = ledger_sale_post(l, &rq, s)) != LEAL_OK)
        rc = sale_fail(l, err, "sale");
    else if (c->json)
        print_sale_json(&n, &rq, s);
    else
        print_sale(&n, &rq, s);
    free(s);
    return rc;
}

static void print_refund(const struct sale_cmd *c, const struct rules_program *p,
                         const struct ledger_refund_result *f)
{
    const struct rules_refund_result *r = &f->r;
    char a[AMOUNT_FORMAT_MAX], b[AMOUNT_FORMAT_MAX], d[AMOUNT_FORMAT_MAX];
    if (c->json) {
        printf("{\"refund\":%lld,\"sale\":%lld,\"entry\":%lld,\"account\":%lld,\"replayed\":%s,"
               "\"amount_cents\":%lld,\"already_cents\":%lld,\"sale_cents\":%lld,"
               "\"points_back\":%lld,\"points_short\":%lld,\"points_owed\":%lld,"
               "\"units_back\":%u,\"stamps\":[",
               (long long)f->refund_id, (long long)f->sale_id, (long long)f->entry_id,
               (long long)f->account_id, f->replayed ? "true" : "false", (long long)f->amount_cents,
               (long long)f->already_cents, (long long)f->sale_cents, (long long)r->points_back,
               (long long)r->points_short, (long long)f->points_owed, (unsigned)r->units_back);
        for (unsigned i = 0; i < p->n_stamps; i++)
            printf("%s{\"card\":%u,\"back\":%u,\"rewards_reversed\":%u,\"short\":%u}", i ? "," : "",
                   i + 1, (unsigned)r->stamps_back[i], (unsigned)r->rewards_reversed[i],
                   (unsigned)r->stamps_short[i]);
        printf("]}\n");
        return;
    }
    printf("refund %lld%s of sale %lld: %s of %s EUR (%s refunded before)\n",
           (long long)f->refund_id, f->replayed ? " (already posted: same request id)" : "",
           (long long)f->sale_id, amount_text(f->amount_cents, a), amount_text(f->sale_cents, b),
           amount_text(f->already_cents, d));
    printf("points -%lld (%lld short), tier spend -%u EUR\n", (long long)r->points_back,
           (long long)r->points_short, (unsigned)r->units_back);
    if (f->points_owed > 0)
        printf("account %lld owes %lld points a refund could not take back: its next sales "
               "settle them first\n",
               (long long)f->account_id, (long long)f->points_owed);
    for (unsigned i = 0; i < p->n_stamps; i++)
        printf("stamp card %u: -%u (%u rewards reversed, %u short)\n", i + 1,
               (unsigned)r->stamps_back[i], (unsigned)r->rewards_reversed[i],
               (unsigned)r->stamps_short[i]);
}

static int run_refund(struct sale_cmd *c, struct ledger *l)
{
    struct ledger_refund_request rq = {c->sale,       c->amount,        c->at,
                                       request_id(c), c->operator_name, NULL};
    struct ledger_refund_result f;
    struct rules_program p;
    int64_t program = 0, version = 0;
    leal_err err;
    int rc;

    if ((err = ledger_sale_program(l, c->sale, &program)) != LEAL_OK)
        return sale_fail(l, err, "sale refund");
    if ((rc = sale_cli_rules(l, program, &p, &version)) != 0)
        return rc;
    rq.rules = &p;
    if ((err = ledger_sale_refund(l, &rq, &f)) != LEAL_OK)
        return sale_fail(l, err, "sale refund");
    print_refund(c, &p, &f);
    return 0;
}

static int check_refund(struct sale_cmd *c)
{
    const char *v = val(c, O_SALE);
    if (lcli_id(v, &c->sale) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--sale '%s'", v ? v : "");
    v = val(c, O_AMOUNT);
    if (v && (amount_parse(v, strlen(v), &c->amount) != LEAL_OK || c->amount <= 0))
        return cli_fail(LEAL_E_AMOUNT, "--amount '%s' (euros above 0, like 7,00)", v);
    if (val(c, O_CARD) || val(c, O_ACCOUNT) || val(c, O_STORE) || c->ncats)
        return cli_usage("leal sale refund takes --sale, not the sale's card, account, store or "
                         "categories");
    return 0;
}

static int category_cb(void *ctx, uint16_t code, const char *name)
{
    int *n = ctx;
    if (*n < 0) {
        printf("%s{\"code\":%u,\"name\":", *n < -1 ? "," : "", (unsigned)code);
        cli_json_string(stdout, name);
        printf("}");
        *n = -2;
    } else {
        printf("  %5u %s\n", (unsigned)code, name);
        (*n)++;
    }
    return 0;
}

static int run_category(struct sale_cmd *c, struct ledger *l)
{
    int n = c->json ? -1 : 0;
    leal_err err;
    if (strcmp(c->pos[1], "add") == 0) {
        if ((err = ledger_category_add(l, c->program, c->pos[2], &c->code)) != LEAL_OK)
            return lcli_fail(l, err, "sale category add");
        printf(c->json ? "{\"code\":%lld,\"name\":\"%s\"}\n" : "category %lld is %s\n",
               (long long)c->code, c->pos[2]);
        return 0;
    }
    if (c->json)
        printf("{\"program\":%lld,\"categories\":[", (long long)c->program);
    if ((err = ledger_category_each(l, c->program, category_cb, &n)) != LEAL_OK)
        return lcli_fail(l, err, "sale category list");
    if (c->json)
        printf("]}\n");
    else if (n == 0)
        printf("  (none)\n");
    return 0;
}

static int check_category(struct sale_cmd *c)
{
    const char *v = val(c, O_PROGRAM);
    bool add = c->npos == 3 && strcmp(c->pos[1], "add") == 0;
    if (!add && !(c->npos == 2 && strcmp(c->pos[1], "list") == 0))
        return cli_usage("leal sale category add NAME --program ID, or list --program ID");
    if (lcli_id(v, &c->program) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--program '%s'", v ? v : "");
    v = val(c, O_CODE);
    if (v && (!add || lcli_id(v, &c->code) != LEAL_OK || c->code > 65535))
        return cli_fail(LEAL_E_NUMBER, "--code '%s' (1 to 65535, with add)", v);
    return 0;
}

static int check_args(struct sale_cmd *c)
{
    int rc;
    if (c->npos >= 1 && strcmp(c->pos[0], "category") == 0)
        return check_category(c);
    if ((rc = check_common(c)) != 0)
        return rc;
    if (c->npos == 1 && strcmp(c->pos[0], "refund") == 0) {
        if ((rc = check_refund(c)) != 0)
            return rc;
        /* A whole refund has one key per sale unless told: run twice, it posts once. */
        if (val(c, O_REQ) == NULL && c->amount == 0)
            snprintf(c->req, sizeof c->req, "sale-%lld-rest", (long long)c->sale);
        return 0;
    }
    if (c->npos != 0)
        return cli_usage("leal sale: unexpected '%s' (refund or category?)", c->pos[0]);
    return check_sale(c);
}

int cmd_sale(int argc, char **argv)
{
    struct sale_cmd c = {.o = {[O_CARD] = {"card-id", 0, 0},
                               [O_ACCOUNT] = {"account", 0, 0},
                               [O_AMOUNT] = {"amount", 0, 0},
                               [O_STORE] = {"store", 0, 0},
                               [O_AT] = {"at", 0, 0},
                               [O_REQ] = {"request-id", 0, 0},
                               [O_OPERATOR] = {"operator", 0, 0},
                               [O_SALE] = {"sale", 0, 0},
                               [O_PROGRAM] = {"program", 0, 0},
                               [O_CODE] = {"code", 0, 0},
                               [O_DB] = {"db", 0, 0},
                               [O_JSON] = {"json", 1, 0},
                               [O_HELP] = {"help", 1, 0}}};
    struct ledger *l = NULL;
    int rc;

    if ((rc = split_args(&c, argc, argv)) != 0)
        return rc;
    if (val(&c, O_HELP)) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    c.json = val(&c, O_JSON) != NULL;
    if ((rc = check_args(&c)) != 0 || (rc = lcli_open(val(&c, O_DB), &l)) != 0)
        return rc;
    if (c.npos >= 1 && strcmp(c.pos[0], "category") == 0)
        rc = run_category(&c, l);
    else if (c.npos == 1)
        rc = run_refund(&c, l);
    else
        rc = run_sale(&c, l);
    ledger_close(l);
    return rc;
}
