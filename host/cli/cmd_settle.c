/* cmd_settle.c - `leal settle`: settlement between the shops of a collective
 * program (host/ledger/ledger_settle.h): per period, what each shop collected
 * and paid out and what it owes or is owed, in words, --json or --csv (RFC
 * 4180: CRLF, fields with a comma, quote or line break quoted, quotes
 * doubled); `leal settle value` fixes the program's point value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger_settle.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char settle_help[] =
    "usage: leal settle --period YYYY-MM [--program ID] [--preview] [--operator NAME]\n"
    "                   [--json|--csv] [--db PATH]\n"
    "       leal settle value --point-value EUR [--program ID] [--operator NAME] [--json]\n"
    "                   [--db PATH]\n"
    "Settles a month (UTC) of a collective program between its shops: per shop the points\n"
    "collected (earned there) and paid out (redeemed there), the purse money loaded and\n"
    "spent there, and its balance with the collective at the program's point value:\n"
    "value x (paid out - collected) + (spent - loaded); 'is owed' when positive, 'owes'\n"
    "when negative. The collective pool holds what shops collected and no shop paid out\n"
    "yet; the rows sum to zero. The desk's entries are its store's (leal card --store, or\n"
    "the program's only store); entries without a store are the 'no shop' row. Who owes\n"
    "whom: the balances paid pairwise in the fewest transfers, debtors paying creditors in\n"
    "row order (text: a matrix, the row pays the column; --json: \"owes\"; --csv: pays_*).\n"
    "A settled period is closed: showing it again gives the same figures, and an entry\n"
    "posted later goes to the next period. Periods are settled in order, once ended;\n"
    "--preview shows a period so far without closing it. --program defaults to the\n"
    "ledger's only collective program.\n";

/* --program, or the ledger's only collective program. */
static int program_of(struct ledger *l, const char *given, int64_t *id)
{
    leal_err err;
    if (given) {
        if (lcli_id(given, id) != LEAL_OK)
            return cli_usage("bad --program '%s'", given);
        return 0;
    }
    if ((err = ledger_settle_default_program(l, id)) == LEAL_E_UNKNOWN_PROGRAM)
        return cli_usage("name the program with --program ID: the ledger does not have exactly "
                         "one collective program");
    return err == LEAL_OK ? 0 : lcli_fail(l, err, "the collective program");
}

static const char *operator_of(const char *given)
{
    const char *u = getenv("USER");
    return given ? given : u && u[0] ? u : "leal";
}

static int settle_value(int argc, char **argv)
{
    struct lcli_opt o[] = {{"point-value", false, NULL},
                           {"program", false, NULL},
                           {"operator", false, NULL},
                           {"db", false, NULL},
                           {"json", true, NULL}};
    struct ledger *l = NULL;
    int64_t cents, program;
    size_t npos = 0;
    char eur[32];
    leal_err err;
    int rc = lcli_parse(argc, argv, o, N(o), NULL, &npos);
    if (rc != 0)
        return rc;
    if (o[0].val == NULL || lcli_amount("EUR", o[0].val, &cents) != LEAL_OK || cents < 1 ||
        cents > 100000)
        return cli_usage("leal settle value needs --point-value EUR, from 0,01 to 1000,00 a "
                         "point");
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if ((rc = program_of(l, o[1].val, &program)) == 0) {
        if ((err = ledger_settle_value_set(l, program, cents, operator_of(o[2].val))) != LEAL_OK)
            rc = lcli_fail(l, err, "the point value");
        else if (lcli_get(o, N(o), "json"))
            printf("{\"program\":%lld,\"point_value_cents\":%lld}\n", (long long)program,
                   (long long)cents);
        else {
            lcli_amount_str("EUR", cents, eur, sizeof eur);
            printf("program %lld settles points at %s EUR a point from now on\n",
                   (long long)program, eur);
        }
    }
    ledger_close(l);
    return rc;
}

static void eur_of(int64_t cents, char *out, size_t cap)
{
    lcli_amount_str("EUR", cents, out, cap);
}

/* One CSV field (RFC 4180 2.6, 2.7). */
static void csv_field(const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n") != NULL) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    fputs(last ? "\r\n" : ",", stdout);
}

static const char *row_kind(const struct ledger_settle_row *r)
{
    return r->store_id == LEDGER_SETTLE_POOL      ? "pool"
           : r->store_id == LEDGER_SETTLE_NO_SHOP ? "no-shop"
                                                  : "shop";
}

/* A row's name in the who-owes-whom matrix: the shop's code, "no-shop", "pool". */
static const char *party(const struct ledger_settle_row *r)
{
    return r->store_id > 0 ? r->code : row_kind(r);
}

/* What rows[from] pays rows[to] (0: nothing). */
static int64_t owes(const struct ledger_settlement *s, size_t from, size_t to)
{
    for (size_t k = 0; k < s->ntransfers; k++)
        if (s->transfers[k].from == from && s->transfers[k].to == to)
            return s->transfers[k].cents;
    return 0;
}

static void print_csv(const struct ledger_settlement *s)
{
    static const char *const head[] = {
        "period",          "row",          "store",       "code",   "name", "points_collected",
        "points_paid_out", "purse_loaded", "purse_spent", "balance"};
    for (size_t i = 0; i < N(head); i++)
        csv_field(head[i], false);
    /* The matrix: one column per row, what this row pays it. */
    for (size_t j = 0; j < s->nrows; j++) {
        char h[80];
        snprintf(h, sizeof h, "pays_%s", party(&s->rows[j]));
        csv_field(h, j + 1 == s->nrows);
    }
    for (size_t i = 0; i < s->nrows; i++) {
        const struct ledger_settle_row *r = &s->rows[i];
        char f[6][40];
        snprintf(f[0], sizeof f[0], "%04d-%02d", s->year, s->month);
        snprintf(f[1], sizeof f[1], "%lld", (long long)(r->store_id > 0 ? r->store_id : 0));
        snprintf(f[2], sizeof f[2], "%lld", (long long)r->points_collected);
        snprintf(f[3], sizeof f[3], "%lld", (long long)r->points_paid_out);
        eur_of(r->purse_loaded_cents, f[4], sizeof f[4]);
        eur_of(r->purse_spent_cents, f[5], sizeof f[5]);
        csv_field(f[0], false);
        csv_field(row_kind(r), false);
        csv_field(r->store_id > 0 ? f[1] : "", false);
        csv_field(r->code, false);
        csv_field(r->name, false);
        csv_field(f[2], false);
        csv_field(f[3], false);
        csv_field(f[4], false);
        csv_field(f[5], false);
        eur_of(r->balance_cents, f[0], sizeof f[0]);
        csv_field(f[0], false);
        for (size_t j = 0; j < s->nrows; j++) {
            eur_of(owes(s, i, j), f[0], sizeof f[0]);
            csv_field(f[0], j + 1 == s->nrows);
        }
    }
}

static void print_json(const struct ledger_settlement *s)
{
    int64_t total = 0;
    printf("{\"program\":%lld,\"period\":\"%04d-%02d\",\"closed\":%s,\"closed_now\":%s,"
           "\"point_value_cents\":%lld,\"upto_entry\":%lld,\"rows\":[",
           (long long)s->program_id, s->year, s->month, s->closed ? "true" : "false",
           s->closed_now ? "true" : "false", (long long)s->point_value_cents,
           (long long)s->upto_entry);
    for (size_t i = 0; i < s->nrows; i++) {
        const struct ledger_settle_row *r = &s->rows[i];
        total += r->balance_cents;
        printf("%s{\"row\":\"%s\",\"store\":", i ? "," : "", row_kind(r));
        if (r->store_id > 0)
            printf("%lld", (long long)r->store_id);
        else
            fputs("null", stdout);
        fputs(",\"code\":", stdout);
        cli_json_string(stdout, r->code);
        fputs(",\"name\":", stdout);
        cli_json_string(stdout, r->name);
        printf(",\"points_collected\":%lld,\"points_paid_out\":%lld,\"purse_loaded_cents\":%lld,"
               "\"purse_spent_cents\":%lld,\"balance_cents\":%lld}",
               (long long)r->points_collected, (long long)r->points_paid_out,
               (long long)r->purse_loaded_cents, (long long)r->purse_spent_cents,
               (long long)r->balance_cents);
    }
    fputs("],\"owes\":[", stdout);
    for (size_t k = 0; k < s->ntransfers; k++) {
        const struct ledger_settle_transfer *t = &s->transfers[k];
        fputs(k ? ",{\"from\":" : "{\"from\":", stdout);
        cli_json_string(stdout, party(&s->rows[t->from]));
        fputs(",\"to\":", stdout);
        cli_json_string(stdout, party(&s->rows[t->to]));
        printf(",\"cents\":%lld}", (long long)t->cents);
    }
    printf("],\"total_cents\":%lld}\n", (long long)total);
}

static void print_text(const struct ledger_settlement *s)
{
    char value[32], when[32];
    eur_of(s->point_value_cents, value, sizeof value);
    printf("program %lld, period %04d-%02d (UTC): ", (long long)s->program_id, s->year, s->month);
    if (s->closed) {
        lcli_time_str(s->settled_at, when, sizeof when);
        printf("%s on %s by %s", s->closed_now ? "settled now" : "settled", when, s->settled_by);
    } else {
        fputs("preview, not settled", stdout);
    }
    printf("; a point is worth %s EUR\n", value);
    printf("%-24s %10s %10s %12s %12s  %s\n", "shop", "collected", "paid out", "loaded EUR",
           "spent EUR", "balance");
    for (size_t i = 0; i < s->nrows; i++) {
        const struct ledger_settle_row *r = &s->rows[i];
        char name[96], loaded[32], spent[32], bal[32];
        snprintf(name, sizeof name, "%s%s%s", r->name, r->code[0] ? " / " : "", r->code);
        eur_of(r->purse_loaded_cents, loaded, sizeof loaded);
        eur_of(r->purse_spent_cents, spent, sizeof spent);
        eur_of(r->balance_cents < 0 ? -r->balance_cents : r->balance_cents, bal, sizeof bal);
        printf("%-24s %10lld %10lld %12s %12s  %s %s EUR\n", name, (long long)r->points_collected,
               (long long)r->points_paid_out, loaded, spent,
               r->balance_cents < 0 ? "owes" : "is owed", bal);
    }
    /* The matrix: a row pays each column what its cell says. */
    printf("who owes whom (EUR; the row pays the column):\n%-12s", "");
    for (size_t j = 0; j < s->nrows; j++)
        printf(" %12.12s", party(&s->rows[j]));
    putchar('\n');
    for (size_t i = 0; i < s->nrows; i++) {
        printf("%-12.12s", party(&s->rows[i]));
        for (size_t j = 0; j < s->nrows; j++) {
            char cell[32];
            int64_t c = owes(s, i, j);
            eur_of(c, cell, sizeof cell);
            printf(" %12s", c ? cell : "-");
        }
        putchar('\n');
    }
}

/* YYYY-MM, 1970-01..9998-12. */
static bool period_of(const char *s, int *year, int *month)
{
    char *end;
    long y, m;
    if (s == NULL || strlen(s) != 7 || s[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return false;
    y = strtol(s, &end, 10);
    m = strtol(s + 5, &end, 10);
    if (y < 1970 || y > 9998 || m < 1 || m > 12)
        return false;
    *year = (int)y;
    *month = (int)m;
    return true;
}

static int settle_fail(const struct ledger *l, leal_err err, const char *period)
{
    switch (err) {
    case LEAL_E_SETTLE_NOT_COLLECTIVE:
    case LEAL_E_SETTLE_NO_VALUE:
        return cli_error(err, CLI_EXIT_USAGE, "settling %s: %s; nothing was settled", period,
                         leal_strerror(err));
    case LEAL_E_SETTLE_OPEN:
        return cli_error(err, CLI_EXIT_USAGE,
                         "settling %s: the period has not ended; settle it once it has "
                         "(--preview shows it so far); nothing was settled",
                         period);
    case LEAL_E_SETTLE_ORDER:
        return cli_error(err, CLI_EXIT_USAGE,
                         "settling %s: %s; periods are settled in order; nothing was settled",
                         period, ledger_errmsg(l));
    default:
        return lcli_fail(l, err, "settling the period");
    }
}

int cmd_settle(int argc, char **argv)
{
    struct lcli_opt o[] = {{"period", false, NULL}, {"program", false, NULL},
                           {"preview", true, NULL}, {"operator", false, NULL},
                           {"csv", true, NULL},     {"db", false, NULL},
                           {"json", true, NULL}};
    static struct ledger_settlement s;
    struct ledger *l = NULL;
    const char *period;
    int64_t program;
    int year, month;
    size_t npos = 0;
    leal_err err;
    int rc;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(settle_help, stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "value") == 0)
        return settle_value(argc - 1, argv + 1);
    if ((rc = lcli_parse(argc, argv, o, N(o), NULL, &npos)) != 0)
        return rc;
    period = o[0].val;
    if (!period_of(period, &year, &month))
        return cli_usage("leal settle needs --period YYYY-MM, like 2026-11");
    if (o[4].val && lcli_get(o, N(o), "json"))
        return cli_usage("--json or --csv, not both");
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if ((rc = program_of(l, o[1].val, &program)) == 0) {
        struct ledger_settle_request rq = {program, year, month, o[2].val == NULL,
                                           operator_of(o[3].val)};
        err = ledger_settle(l, &rq, &s);
        if (err != LEAL_OK)
            rc = settle_fail(l, err, period);
        else if (o[4].val)
            print_csv(&s);
        else if (lcli_get(o, N(o), "json"))
            print_json(&s);
        else
            print_text(&s);
    }
    ledger_close(l);
    return rc;
}
