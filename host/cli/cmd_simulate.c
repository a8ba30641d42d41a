/* cmd_simulate.c - `leal rules simulate`: a period's recorded sales replayed
 * under today's rules or a proposed set, beside what they really gave. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/books/parse.h"
#include "host/ledger/amount.h"
#include "host/ledger/ledger_simulate.h"
#include "ledger_cli.h"
#include "sale_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char help[] =
    "usage: leal rules simulate --program ID --from DATE --to DATE [--with FILE]\n"
    "                           [--point-value EUR] [--db PATH] [--json]\n"
    "Replays the sales and refunds recorded from DATE to DATE (YYYY-MM-DD, the stores'\n"
    "local dates) under the program's current rules, or under the rule set in FILE\n"
    "(firmware/core/RULES.md section 7, with its own rate), and prints per customer\n"
    "what they would have earned beside what they really got, the total points and\n"
    "their liability in euros.\n"
    "Each customer starts the period as they really were. A point is worth\n"
    "--point-value euros, else what the program's first voucher reward pays per point,\n"
    "else 0.01 (the output says which).\n";

enum { O_PROGRAM, O_FROM, O_TO, O_WITH, O_VALUE, O_DB, O_JSON, O_HELP, O_COUNT };

/* What a point is worth: num cents for den points, and where that comes from. */
struct point_value {
    int64_t num, den;
    char why[128];
};

struct sim_out {
    int json;
    int n;
};

static int account_cb(void *ctx, const struct ledger_sim_account *a)
{
    struct sim_out *o = ctx;
    if (o->json)
        printf("%s{\"account\":%lld,\"customer\":%lld,\"sales\":%lld,\"refunds\":%lld,"
               "\"real_points\":%lld,\"sim_points\":%lld}",
               o->n ? "," : "", (long long)a->account_id, (long long)a->customer_id,
               (long long)a->sales, (long long)a->refunds, (long long)a->real_points,
               (long long)a->sim_points);
    else
        printf("  %8lld %8lld %6lld %7lld %10lld %10lld %+11lld\n", (long long)a->account_id,
               (long long)a->customer_id, (long long)a->sales, (long long)a->refunds,
               (long long)a->real_points, (long long)a->sim_points,
               (long long)(a->sim_points - a->real_points));
    o->n++;
    return 0;
}

static void value_of(const struct rules_program *p, const char *given, struct point_value *v)
{
    char a[AMOUNT_FORMAT_MAX];
    v->num = 1;
    v->den = 1;
    snprintf(v->why, sizeof v->why, "0.01 EUR a point (the program has no voucher reward)");
    if (given && amount_parse(given, strlen(given), &v->num) == LEAL_OK) { /* checked before */
        snprintf(v->why, sizeof v->why, "%s EUR a point (--point-value)", amount_text(v->num, a));
        return;
    }
    for (unsigned i = 0; i < p->n_rewards; i++)
        if (p->rewards[i].kind == RULES_REWARD_VOUCHER) {
            v->num = p->rewards[i].value;
            v->den = p->rewards[i].cost_points;
            snprintf(v->why, sizeof v->why, "reward %u's rate (%s EUR for %lld points)",
                     (unsigned)p->rewards[i].id, amount_text(v->num, a), (long long)v->den);
            return;
        }
}

static int64_t liability(int64_t points, const struct point_value *v)
{
    return points * v->num / v->den;
}

static void print_totals(int json, const struct ledger_sim_totals *t, const struct point_value *v)
{
    char a[AMOUNT_FORMAT_MAX], b[AMOUNT_FORMAT_MAX], d[AMOUNT_FORMAT_MAX];
    int64_t real = liability(t->real_points, v), sim = liability(t->sim_points, v);
    if (json) {
        printf("],\"totals\":{\"accounts\":%lld,\"sales\":%lld,\"refunds\":%lld,"
               "\"real_points\":%lld,\"sim_points\":%lld,\"real_liability_cents\":%lld,"
               "\"sim_liability_cents\":%lld,\"point_value\":",
               (long long)t->accounts, (long long)t->sales, (long long)t->refunds,
               (long long)t->real_points, (long long)t->sim_points, (long long)real,
               (long long)sim);
        cli_json_string(stdout, v->why);
        printf("}}\n");
        return;
    }
    if (t->accounts == 0)
        printf("  (no sales in the period)\n");
    printf("total points: real %lld, simulated %lld (%+lld)\n", (long long)t->real_points,
           (long long)t->sim_points, (long long)(t->sim_points - t->real_points));
    printf("liability at %s: real %s EUR, simulated %s EUR (%s)\n", v->why, amount_text(real, a),
           amount_text(sim, b), amount_text(sim - real, d));
}

static int check_args(struct lcli_opt *o, int64_t *program)
{
    const char *v = lcli_get(o, O_COUNT, "program");
    int64_t t, u, c;
    if (lcli_id(v, program) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--program '%s'", v ? v : "");
    v = lcli_get(o, O_COUNT, "from");
    if (books_parse_date(v, &t) != LEAL_OK)
        return cli_fail(LEAL_E_DATE, "--from '%s' (YYYY-MM-DD)", v ? v : "");
    v = lcli_get(o, O_COUNT, "to");
    if (books_parse_date(v, &u) != LEAL_OK)
        return cli_fail(LEAL_E_DATE, "--to '%s' (YYYY-MM-DD)", v ? v : "");
    if (u < t)
        return cli_usage("--to %s is before --from %s", v, lcli_get(o, O_COUNT, "from"));
    v = lcli_get(o, O_COUNT, "point-value");
    if (v && (amount_parse(v, strlen(v), &c) != LEAL_OK || c <= 0))
        return cli_fail(LEAL_E_AMOUNT, "--point-value '%s' (euros a point, like 0,01)", v);
    return 0;
}

static int simulate(struct lcli_opt *o, struct ledger *l, int64_t program)
{
    struct ledger_sim_request rq = {program, lcli_get(o, O_COUNT, "from"),
                                    lcli_get(o, O_COUNT, "to"), NULL};
    struct sim_out out = {lcli_get(o, O_COUNT, "json") != NULL, 0};
    const char *with = lcli_get(o, O_COUNT, "with");
    struct rules_program p, now;
    struct ledger_sim_totals t;
    struct point_value v;
    int64_t version = 0, now_version = 0;
    leal_err err;
    int rc;

    if ((rc = sale_cli_rules(l, program, &now, &now_version)) != 0)
        return rc;
    p = now;
    version = now_version;
    if (with && (rc = sale_cli_rules_file(with, &p, &version)) != 0)
        return rc;
    rq.rules = &p;
    value_of(&now, lcli_get(o, O_COUNT, "point-value"), &v);
    if (out.json) {
        printf("{\"program\":%lld,\"from\":\"%s\",\"to\":\"%s\",\"rules_version\":%lld,\"with\":",
               (long long)program, rq.from, rq.to, (long long)version);
        if (with)
            cli_json_string(stdout, with);
        printf("%s,\"accounts\":[", with ? "" : "null");
    } else {
        printf("program %lld, %s to %s, replayed under %s%s (version %lld)\n", (long long)program,
               rq.from, rq.to, with ? "the rules in " : "the program's current rules",
               with ? with : "", (long long)version);
        printf("  %8s %8s %6s %7s %10s %10s %11s\n", "account", "customer", "sales", "refunds",
               "real", "simulated", "difference");
    }
    fflush(stdout);
    if ((err = ledger_simulate(l, &rq, account_cb, &out, &t)) != LEAL_OK)
        return lcli_fail(l, err, "rules simulate");
    print_totals(out.json, &t, &v);
    return 0;
}

int cmd_rules(int argc, char **argv)
{
    struct lcli_opt o[O_COUNT] = {
        [O_PROGRAM] = {"program", 0, 0}, [O_FROM] = {"from", 0, 0},         [O_TO] = {"to", 0, 0},
        [O_WITH] = {"with", 0, 0},       [O_VALUE] = {"point-value", 0, 0}, [O_DB] = {"db", 0, 0},
        [O_JSON] = {"json", 1, 0},       [O_HELP] = {"help", 1, 0}};
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    struct ledger *l = NULL;
    int64_t program = 0;
    int rc;

    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1 || strcmp(pos[0], "simulate") != 0)
        return cli_usage("leal rules: expected 'simulate'");
    if ((rc = check_args(o, &program)) != 0 || (rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    rc = simulate(o, l, program);
    ledger_close(l);
    return rc;
}
