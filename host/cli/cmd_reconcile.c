/* cmd_reconcile.c - `leal reconcile [--card ID]` and `leal reconcile accept FINDING --reason R`
 * (host/ledger/ledger_reconcile.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger_host_change.h"
#include "host/ledger/ledger_reconcile.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char reconcile_help[] =
    "usage: leal reconcile [--card ID] [--program ID] [--all] [--json] [--db PATH]\n"
    "       leal reconcile accept FINDING --reason TEXT [--operator NAME] [--json] [--db PATH]\n"
    "reconcile walks, per card, the card's own counter (DESFire taps, Classic seq) in every\n"
    "terminal entry the host took, and checks it against the ledger: a gap (a terminal not\n"
    "yet synced: waits), a doubt (an operation that presumably did not reach the card), a\n"
    "clone (the same counter twice: a copy or a restored dump), a rollback (the counter\n"
    "back), a balance disagreement once everything is in, a tampered journal, a terminal\n"
    "that took more from a card than its package's caps allowed (cap). Fraud\n"
    "(clone, rollback, tamper) blocks the card: the next package's hot list carries it.\n"
    "It then lists the open findings (--all: accepted and resolved too), one a line.\n"
    "accept records why a finding is explained (\"merged after review\"). leal sync import\n"
    "reconciles after every import. Then the host changes still waiting for a card (points\n"
    "decided at the host: a bonus, an expiry, a void) and why, a line each (\"waiting\"):\n"
    "no package carried them yet, a package did, or in doubt until a journal is in.\n";

struct print_ctx {
    bool json;
    unsigned n;
};

static int print_one(void *ctx, const struct ledger_reconcile_finding *f)
{
    struct print_ctx *p = ctx;
    char at[40];
    p->n++;
    if (p->json) {
        printf("%s{\"id\":%lld,\"program\":%lld,\"card\":%lld,\"terminal\":%lld,\"kind\":\"%s\","
               "\"fraud\":%s,\"state\":\"%s\",\"found_at\":%lld,\"evidence\":",
               p->n > 1 ? "," : "", (long long)f->id, (long long)f->program_id,
               (long long)f->card_id, (long long)f->terminal_id, f->kind,
               f->fraud ? "true" : "false", f->state, (long long)f->found_at);
        cli_json_string(stdout, f->evidence);
        printf(",\"detail\":");
        cli_json_string(stdout, f->detail);
        printf(",\"reason\":");
        cli_json_string(stdout, f->reason);
        printf(",\"operator\":");
        cli_json_string(stdout, f->operator_name);
        printf("}");
        return 0;
    }
    lcli_time_str(f->found_at, at, sizeof at);
    printf("finding %lld  %s  %-8s %s%s  %s", (long long)f->id, at, f->kind,
           f->fraud ? "FRAUD " : "", f->state, f->detail);
    if (strcmp(f->state, "accepted") == 0 || (strcmp(f->state, "resolved") == 0 && f->reason[0]))
        printf("  [%s by %s: %s]", f->state, f->operator_name[0] ? f->operator_name : "?",
               f->reason);
    printf("  (evidence: %s)\n", f->evidence);
    return 0;
}

static int print_waiting(void *ctx, const struct ledger_host_change *c)
{
    struct print_ctx *p = ctx;
    lcli_host_change_print(c, p->json, p->json ? (p->n++ ? "," : "") : "waiting ");
    return 0;
}

/* The host changes still waiting for the card (--card), the program's cards
 * or every card, and why. */
static leal_err list_waiting(struct ledger *l, int64_t program, int64_t card, bool json)
{
    struct print_ctx p = {json, 0};
    struct ledger_host_change c;
    bool waiting = false;
    leal_err err;
    if (json)
        printf(",\"waiting\":[");
    if (card != 0) {
        /* As packages do: changes wait for an active card only. */
        struct ledger_card lc;
        err = ledger_card_find_by_id(l, card, &lc);
        if (err == LEAL_OK && lc.status == LEDGER_CARD_ACTIVE &&
            (err = ledger_host_change_get(l, card, &c, &waiting)) == LEAL_OK && waiting)
            print_waiting(&p, &c);
        if (err == LEAL_E_UNKNOWN_ID) /* a card the ledger never had: nothing waits */
            err = LEAL_OK;
    } else {
        err = ledger_host_change_each(l, program, print_waiting, &p);
    }
    if (json)
        printf("]");
    return err;
}

static int run(int argc, char **argv)
{
    struct lcli_opt o[] = {{"card", 0, 0}, {"program", 0, 0}, {"db", 0, 0},
                           {"all", 1, 0},  {"json", 1, 0},    {"help", 1, 0}};
    const char *pos[LCLI_MAX_POS], *c = NULL, *pr = NULL;
    size_t npos = LCLI_MAX_POS;
    struct ledger_reconcile_counts k;
    struct print_ctx p = {false, 0};
    struct ledger *l = NULL;
    int64_t card = 0, program = 0;
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(reconcile_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 0)
        return cli_usage("leal reconcile: unexpected '%s' (accept FINDING --reason TEXT?)", pos[0]);
    if ((c = lcli_get(o, N(o), "card")) != NULL && lcli_id(c, &card) != LEAL_OK)
        return cli_usage("--card '%s': a card id", c);
    if ((pr = lcli_get(o, N(o), "program")) != NULL && lcli_id(pr, &program) != LEAL_OK)
        return cli_usage("--program '%s': a program id", pr);
    p.json = lcli_get(o, N(o), "json") != NULL;
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if ((err = ledger_reconcile(l, program, card, &k)) != LEAL_OK) {
        rc = lcli_fail(l, err, "reconcile");
        ledger_close(l);
        return rc;
    }
    if (p.json)
        printf("{\"cards\":%u,\"new\":%u,\"fraud\":%u,\"blocked\":%u,\"resolved\":%u,"
               "\"open\":%u,\"findings\":[",
               k.cards, k.found, k.fraud, k.blocked, k.resolved, k.open);
    else
        printf("reconciled %u card(s): %u new finding(s) (%u fraud, %u card(s) blocked), %u "
               "resolved, %u open\n",
               k.cards, k.found, k.fraud, k.blocked, k.resolved, k.open);
    err = ledger_reconcile_list(l, program, card, lcli_get(o, N(o), "all") != NULL, print_one, &p);
    if (p.json)
        printf("]");
    if (err == LEAL_OK)
        err = list_waiting(l, program, card, p.json);
    if (p.json)
        printf("}\n");
    rc = err == LEAL_OK ? CLI_EXIT_OK : lcli_fail(l, err, "reconcile");
    ledger_close(l);
    return rc;
}

static int accept(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"reason", 0, 0}, {"operator", 0, 0}, {"db", 0, 0}, {"json", 1, 0}, {"help", 1, 0}};
    const char *pos[LCLI_MAX_POS], *reason, *who;
    size_t npos = LCLI_MAX_POS;
    struct ledger *l = NULL;
    int64_t id;
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(reconcile_help, stdout);
        return CLI_EXIT_OK;
    }
    reason = lcli_get(o, N(o), "reason");
    who = lcli_get(o, N(o), "operator") ? lcli_get(o, N(o), "operator") : getenv("USER");
    if (npos != 1 || lcli_id(pos[0], &id) != LEAL_OK)
        return cli_usage("leal reconcile accept needs one FINDING id (leal reconcile lists them)");
    if (reason == NULL || !reason[0])
        return cli_usage("leal reconcile accept needs --reason TEXT: why the finding is explained");
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    err = ledger_reconcile_accept(l, id, reason, who ? who : "");
    if (err == LEAL_E_UNKNOWN_ID || err == LEAL_E_STATE)
        rc = cli_error(err, CLI_EXIT_FAIL, "finding %lld: %s", (long long)id, ledger_errmsg(l));
    else if (err != LEAL_OK)
        rc = lcli_fail(l, err, "reconcile accept");
    else if (lcli_get(o, N(o), "json")) {
        printf("{\"id\":%lld,\"state\":\"accepted\",\"reason\":", (long long)id);
        cli_json_string(stdout, reason);
        printf("}\n");
    } else {
        printf("finding %lld accepted: %s\n", (long long)id, reason);
    }
    ledger_close(l);
    return rc;
}

int cmd_reconcile(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "accept") == 0)
        return accept(argc - 1, argv + 1);
    return run(argc, argv);
}
