/* cmd_report.c - `leal report NAME`: the figures a shop reads (host/report),
 * as a table, --json, --csv (RFC 4180; --locale es: ';' and decimal comma),
 * --xlsx FILE (a workbook, a sheet per part) or --svg FILE (the chart). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "host/report/report.h"
#include "host/report/report_chart.h"
#include "host/report/report_out.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char report_help[] =
    "usage: leal report NAME --program ID --from YYYY-MM-DD --to YYYY-MM-DD [--store CODE]\n"
    "                   [--json | --csv [--part PART] | --xlsx FILE | --svg FILE]\n"
    "                   [--locale es] [--point-value EUR] [--db PATH]\n"
    "The figures of a program over whole days (UTC), --from to --to inclusive, read from the\n"
    "ledger in one consistent state. --store keeps the entries made at that store. Points are\n"
    "valued at --point-value, else at the program's settlement value (leal settle value),\n"
    "else left without a value. Every figure comes from the ledger's entries and lines: a\n"
    "void counts against what it reverses.\n"
    "  --json         the report and every part as one JSON object\n"
    "  --csv          one part (the first, or --part) as CSV after RFC 4180\n"
    "  --xlsx FILE    an Excel workbook: a sheet per part, header row frozen, typed cells\n"
    "  --svg FILE     the report's chart (a time series or bars) as SVG\n"
    "  --locale es    CSV with ';' between fields and a decimal comma\n"
    "Reports:\n";

struct report_args {
    struct report_query q;
    const char *db, *part, *xlsx, *svg;
    bool json, csv, es;
};

static int parse(int argc, char **argv, struct report_args *a)
{
    struct lcli_opt o[] = {
        {"program", false, NULL}, {"store", false, NULL},       {"from", false, NULL},
        {"to", false, NULL},      {"json", true, NULL},         {"csv", true, NULL},
        {"xlsx", false, NULL},    {"svg", false, NULL},         {"locale", false, NULL},
        {"part", false, NULL},    {"point-value", false, NULL}, {"db", false, NULL}};
    const char *pos[1];
    size_t npos = 1;
    int rc = lcli_parse(argc, argv, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (npos != 1)
        return cli_usage("leal report needs a report's name; 'leal report --help' lists them");
    a->q.name = pos[0];
    if (o[0].val == NULL || lcli_id(o[0].val, &a->q.program_id) != LEAL_OK)
        return cli_usage("leal report needs --program ID");
    a->q.store = o[1].val;
    if (o[2].val == NULL || report_day_parse(o[2].val, &a->q.from_day) != LEAL_OK ||
        o[3].val == NULL || report_day_parse(o[3].val, &a->q.to_day) != LEAL_OK)
        return cli_usage("leal report needs --from and --to as YYYY-MM-DD, real dates");
    a->json = o[4].val != NULL;
    a->csv = o[5].val != NULL;
    a->xlsx = o[6].val;
    a->svg = o[7].val;
    if ((int)a->json + (int)a->csv + (a->xlsx != NULL) + (a->svg != NULL) > 1)
        return cli_usage("one of --json, --csv, --xlsx and --svg");
    if (o[8].val && strcmp(o[8].val, "es") != 0 && strcmp(o[8].val, "en") != 0)
        return cli_usage("--locale is es or en");
    a->es = o[8].val && strcmp(o[8].val, "es") == 0;
    a->part = o[9].val;
    if (o[10].val && (lcli_amount("EUR", o[10].val, &a->q.point_value_cents) != LEAL_OK ||
                      a->q.point_value_cents < 1))
        return cli_usage("--point-value is euros a point, like 0,01");
    a->db = o[11].val;
    return 0;
}

static void print_text(const struct report *r, bool es)
{
    char from[16], to[16], cell[256];
    report_day_str(r->from_day, from, sizeof from);
    report_day_str(r->to_day, to, sizeof to);
    printf("%s, program %lld, %s to %s\n", r->name, (long long)r->program_id, from, to);
    for (size_t i = 0; i < r->nparts; i++) {
        const struct report_part *p = &r->part[i];
        printf("\n%s (%zu rows)\n", p->name, p->nrows);
        for (size_t c = 0; c < p->ncols; c++)
            printf(c ? " %15s" : "%-12s", p->col[c].name);
        putchar('\n');
        for (size_t k = 0; k < p->nrows; k++) {
            for (size_t c = 0; c < p->ncols; c++) {
                report_cell_str(&p->col[c], report_cell_at(p, k, c), es, cell, sizeof cell);
                printf(c ? " %15s" : "%-12s", cell);
            }
            putchar('\n');
        }
    }
}

static const struct report_part *part_named(const struct report *r, const char *name)
{
    for (size_t i = 0; i < r->nparts; i++)
        if (name == NULL || strcmp(r->part[i].name, name) == 0)
            return &r->part[i];
    return NULL;
}

static int write_svg(const struct report *r, const char *path)
{
    char *doc = NULL;
    size_t len = 0;
    leal_err err = report_chart_svg(r, &doc, &len);
    if (err == LEAL_OK)
        err = file_write_atomic(path, (const uint8_t *)doc, len, 0600);
    free(doc);
    return err == LEAL_OK ? CLI_EXIT_OK : cli_fail(err, "%s", path);
}

static int output(const struct report *r, const struct report_args *a)
{
    const struct report_part *p;
    leal_err err;
    if (a->xlsx) {
        err = report_write_xlsx(a->xlsx, r);
        return err == LEAL_OK ? CLI_EXIT_OK : cli_fail(err, "%s", a->xlsx);
    }
    if (a->svg)
        return write_svg(r, a->svg);
    if (a->json)
        return report_write_json(stdout, r) == LEAL_OK ? CLI_EXIT_OK
                                                       : cli_fail(LEAL_E_IO, "standard output");
    if (!a->csv) {
        print_text(r, a->es);
        return CLI_EXIT_OK;
    }
    if ((p = part_named(r, a->part)) == NULL)
        return cli_usage("report %s has no part '%s'", r->name, a->part);
    return report_write_csv(stdout, p, a->es) == LEAL_OK ? CLI_EXIT_OK
                                                         : cli_fail(LEAL_E_IO, "standard output");
}

/* A report refused: what was asked is bad input (exit 2) unless the
 * database failed under it. */
static int run_fail(const struct report_db *db, leal_err err, const char *name)
{
    const char *d = report_db_errmsg(db);
    bool input = err == LEAL_E_REPORT_UNKNOWN || err == LEAL_E_REPORT_RANGE ||
                 err == LEAL_E_REPORT_STORE || err == LEAL_E_UNKNOWN_PROGRAM ||
                 err == LEAL_E_SETTLE_NOT_COLLECTIVE || err == LEAL_E_SETTLE_NO_VALUE;
    return cli_error(err, input ? CLI_EXIT_USAGE : cli_exit_code(err), "report %s: %s%s%s", name,
                     d[0] ? d : "", d[0] ? ": " : "", leal_strerror(err));
}

int cmd_report(int argc, char **argv)
{
    struct report_args a = {0};
    struct report r;
    struct report_db *db = NULL;
    struct ledger *l = NULL;
    char path[4096];
    leal_err err;
    int rc;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(report_help, stdout);
        for (size_t i = 0; report_name(i); i++)
            printf("  %-12s %s\n", report_name(i), report_summary(i));
        return CLI_EXIT_OK;
    }
    if ((rc = parse(argc, argv, &a)) != 0)
        return rc;
    if ((rc = lcli_open_path(a.db, &l, path, sizeof path)) != 0) {
        ledger_close(l);
        return rc;
    }
    /* Read through the ledger itself, on either backend. */
    if ((err = report_db_on_ledger(l, &db)) != LEAL_OK) {
        ledger_close(l);
        return cli_fail(err, "%s", path);
    }
    a.q.ledger = l;
    err = report_run(db, &a.q, &r);
    if (err == LEAL_OK)
        rc = output(&r, &a);
    else
        rc = run_fail(db, err, a.q.name);
    report_free(&r);
    report_db_close(db);
    ledger_close(l);
    return rc;
}
