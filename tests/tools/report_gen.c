/*
 * report_gen - a ledger of generated activity for the report integration
 * test and bench (tests/lib/report_gen.h), made through the real ledger API:
 *
 *   report_gen DB [ENTRIES [SHOPS [CUSTOMERS [DAYS [collective]]]]]
 *
 * Program 7, a chain of SHOPS stores "s1".. (a collective of them with
 * "collective": shops that settle between them), from 2026-01-01 (UTC), a
 * point worth 2 cents for settlement. Defaults: 1500 entries, 3 shops, 30
 * customers, 60 days. Prints "posted N" (entries, voids and expiries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger.h"
#include "tests/lib/report_gen.h"

#define JAN1_2026 INT64_C(1767225600)

static long arg(int argc, char **argv, int i, long def)
{
    return argc > i ? strtol(argv[i], NULL, 10) : def;
}

int main(int argc, char **argv)
{
    struct report_gen g = {0};
    struct ledger *l;
    struct report_gen_opts o = {
        .program_id = 7, .start = JAN1_2026, .seed = 17, .point_value_cents = 2, .batch = 10000};
    if (argc < 2) {
        fprintf(stderr, "usage: report_gen DB [ENTRIES [SHOPS [CUSTOMERS [DAYS [collective]]]]]\n");
        return 2;
    }
    o.entries = arg(argc, argv, 2, 1500);
    o.shops = (int)arg(argc, argv, 3, 3);
    o.customers = (int)arg(argc, argv, 4, 30);
    o.days = (int)arg(argc, argv, 5, 60);
    o.snap_day = o.days - 1;
    o.collective = argc > 6 && strcmp(argv[6], "collective") == 0;
    if (o.entries < 1 || o.shops < 1 || o.customers < 1 || o.days < 2) {
        fprintf(stderr, "report_gen: every figure must be positive (days at least 2)\n");
        return 2;
    }
    leal_err err = ledger_open(argv[1], &l);
    if (err == LEAL_OK) {
        err = report_gen_run(l, argv[1], &o, &g);
        if (err != LEAL_OK)
            fprintf(stderr, "report_gen: %s: %s\n", leal_strerror(err), ledger_errmsg(l));
        ledger_close(l);
    } else {
        fprintf(stderr, "report_gen: %s: %s\n", argv[1], leal_strerror(err));
    }
    if (err == LEAL_OK)
        printf("posted %lld\n", (long long)g.posted);
    report_gen_free(&g);
    return err == LEAL_OK ? 0 : 1;
}
