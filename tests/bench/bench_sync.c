/*
 * bench_sync.c - issue 14's import speed: a week of a 50-terminal chain
 * (generated journals: tests/lib/journal_gen.h, the real journal code under
 * each terminal's journal key; earns, purse payments, stamps, redeems and
 * voids) taken by sync_import into a ledger of 1,000 carded customers, against references run
 * by the sqlite3 shell in the same run. Prints entries per second of each and the ratios.
 *  - The reference (goal >= 0.8): `.import` of one CSV row per journal entry (11
 *    columns: terminal, epoch, sequence, operation, card, time, amount, purse, points, MAC and
 *    bytes in hex) into `t`, a table of untyped columns with no key, index or constraint, in a
 *    new database (rollback journal, synchronous=FULL by default), one transaction: one B-tree
 *    row per entry, against the 4.6 rows, 11 indexes, checks and foreign keys the ledger keeps
 *    for it, so it cannot be reached by any import into this schema.
 *  - The schema's own cost (the honest second reference): on a copy of the ledger taken just
 *    before the import (same tables, indexes, triggers, checks, foreign keys on, WAL,
 *    synchronous=FULL, the ledger's cache_size, temp_store and batch checkpoint interval, no
 *    checkpoint at the end, as the ledger stays open), one transaction writes the
 *    changes the import made, taken from the imported ledger (ATTACH): the new entries, lines,
 *    lots, lot uses and terminal entries (INSERT ... SELECT), the lots' remaining points, the
 *    balances, the report summaries and the terminals that changed. No lookup, no check in C, no
 *    MAC: what SQLite alone needs to write those rows into these tables.
 *  - Context: .import of the rows the import wrote into plain tables of the same columns.
 * Environment: LEAL_BENCH_SYNC_TERMINALS (50), LEAL_BENCH_SYNC_PER_DAY
 * (operations per terminal per day, 200). Reports only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "host/ledger/ledger.h"
#include "host/sync/sync.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/journal_gen.h"
#include "tests/lib/sync_ledger.h"

#define PROGRAM 7
#define CUSTOMERS 1000
#define FIRST_CARD 100001
/* Each terminal serves its own 20 customers (a card's state after each
 * operation is then the terminal's own view, as on a real card). */
#define CARDS_PER_TERMINAL 20

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU seconds (user + system), or its waited-for children's
 * (RUSAGE_CHILDREN: the sqlite3 shells): on a shared machine the import's
 * wall time moves with the others' load, its CPU time much less. */
static double cpu_of(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_s(void)
{
    return cpu_of(RUSAGE_SELF);
}

static unsigned env_or(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? (unsigned)atoi(v) : dflt;
}

/* A bench that cannot run says why and stops (its temporary folder stays). */
static _Noreturn void fail(const char *what, leal_err err)
{
    fprintf(stderr, "bench_sync: %s: %s\n", what, leal_strerror(err));
    exit(1);
}

/* A terminal's week: earns, purse payments, stamps, redeems and voids on
 * cards of the chain, as one export. */
static int week(const uint8_t key[16], uint32_t terminal, unsigned per_day, uint8_t **out,
                size_t *len)
{
    unsigned n = per_day * 7;
    struct jgen g;
    int err = jgen_open(&g, key, 1, PROGRAM, terminal, n / 8 + 8, 1796290000u + terminal);
    uint64_t first = FIRST_CARD + (uint64_t)((terminal - 1) * CARDS_PER_TERMINAL % CUSTOMERS);
    for (int c = 0; err == LEAL_OK && c < CARDS_PER_TERMINAL; c++)
        err = jgen_card(&g, first + (uint64_t)c, JOURNAL_CARD_DESFIRE, 1000, 50000);
    for (unsigned i = 0; err == LEAL_OK && i < n; i++) {
        struct jgen_op op = {0};
        unsigned k = i % 20;
        op.card_id = first + (i * 7) % CARDS_PER_TERMINAL;
        if (k < 12) {
            op.op = JOURNAL_OP_EARN;
            op.amount = 100 + i % 5000;
            op.points = 1 + i % 50;
        } else if (k < 15) {
            op.op = JOURNAL_OP_PAY;
            op.purse = 1 + i % 900;
        } else if (k < 17) {
            op.op = JOURNAL_OP_STAMP;
            op.item = i % 4;
            op.quantity = 1;
        } else if (k < 19) {
            op.op = JOURNAL_OP_REDEEM;
            op.item = 1;
            op.points = -1;
        } else {
            op.op = JOURNAL_OP_VOID;
        }
        err = jgen_do(&g, &op);
    }
    if (err == LEAL_OK)
        err = jgen_export(&g, out, len);
    jgen_close(&g);
    return err;
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

/* The second reference's transaction (run in a copy of the ledger from just
 * before the import, with the imported ledger attached as l): the changes
 * the import made, in an order the foreign keys accept. */
static const char own_sql[] =
    ".dbconfig no_ckpt_on_close on\n" /* the ledger stays open: no checkpoint at the end */
    "PRAGMA journal_mode = WAL;\n"
    "PRAGMA synchronous = FULL;\n"
    "PRAGMA foreign_keys = ON;\n"
    "PRAGMA cache_size = -65536;\n"
    "PRAGMA temp_store = MEMORY;\n"
    "PRAGMA wal_autocheckpoint = 65536;\n" /* as the ledger's batches (store.c) */
    "ATTACH 'ledger.db' AS l;\n"
    "BEGIN IMMEDIATE;\n"
    "UPDATE terminal SET epoch = x.epoch, package_version = x.package_version FROM l.terminal x "
    "WHERE x.id = terminal.id AND (x.epoch <> terminal.epoch OR x.package_version <> "
    "terminal.package_version);\n"
    "INSERT INTO entry SELECT * FROM l.entry WHERE id > (SELECT coalesce(max(id), 0) FROM "
    "main.entry);\n"
    "INSERT INTO line SELECT * FROM l.line WHERE id > (SELECT coalesce(max(id), 0) FROM "
    "main.line);\n"
    "UPDATE lot SET remaining = x.remaining FROM l.lot x WHERE x.id = lot.id AND x.remaining <> "
    "lot.remaining;\n"
    "INSERT INTO lot SELECT * FROM l.lot WHERE id > (SELECT coalesce(max(id), 0) FROM "
    "main.lot);\n"
    "INSERT INTO lot_use SELECT * FROM l.lot_use EXCEPT SELECT * FROM main.lot_use;\n"
    "INSERT INTO terminal_entry SELECT * FROM l.terminal_entry EXCEPT SELECT * FROM "
    "main.terminal_entry;\n"
    "INSERT OR REPLACE INTO balance SELECT * FROM l.balance EXCEPT SELECT * FROM main.balance;\n"
    "INSERT OR REPLACE INTO report_day SELECT * FROM l.report_day EXCEPT SELECT * FROM "
    "main.report_day;\n"
    "INSERT OR REPLACE INTO report_visit SELECT * FROM l.report_visit EXCEPT SELECT * FROM "
    "main.report_visit;\n"
    "INSERT OR REPLACE INTO report_held SELECT * FROM l.report_held EXCEPT SELECT * FROM "
    "main.report_held;\n"
    "INSERT OR REPLACE INTO report_redeem SELECT * FROM l.report_redeem EXCEPT SELECT * FROM "
    "main.report_redeem;\n"
    "UPDATE report_mark SET entry_id = x.entry_id FROM l.report_mark x WHERE x.id = "
    "report_mark.id;\n"
    "COMMIT;\n";

/* After it, untimed: the tables it wrote hold what the import's hold (rows
 * of either missing from the other, all tables together; 0 when the same). */
static const char own_check_sql[] =
    "ATTACH 'ledger.db' AS l; SELECT sum(n) FROM (SELECT count(*) AS n FROM (SELECT * FROM "
    "l.entry EXCEPT SELECT * FROM main.entry) UNION ALL SELECT count(*) FROM (SELECT * FROM "
    "main.entry EXCEPT SELECT * FROM l.entry) UNION ALL SELECT count(*) FROM (SELECT * FROM "
    "l.line EXCEPT SELECT * FROM main.line) UNION ALL SELECT count(*) FROM (SELECT * FROM "
    "l.lot EXCEPT SELECT * FROM main.lot) UNION ALL SELECT count(*) FROM (SELECT * FROM "
    "l.lot_use EXCEPT SELECT * FROM main.lot_use) UNION ALL SELECT count(*) FROM (SELECT * FROM "
    "l.terminal_entry EXCEPT SELECT * FROM main.terminal_entry) UNION ALL SELECT count(*) FROM "
    "(SELECT * FROM l.balance EXCEPT SELECT * FROM main.balance) UNION ALL SELECT count(*) FROM "
    "(SELECT * FROM main.balance EXCEPT SELECT * FROM l.balance) UNION ALL SELECT count(*) FROM "
    "(SELECT * FROM l.report_day EXCEPT SELECT * FROM main.report_day) UNION ALL SELECT count(*) "
    "FROM (SELECT * FROM l.report_held EXCEPT SELECT * FROM main.report_held) UNION ALL SELECT "
    "count(*) FROM (SELECT * FROM l.terminal EXCEPT SELECT * FROM main.terminal))";

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* One CSV row per journal entry of the export: the rows the import keeps. */
static int csv_rows(FILE *f, const uint8_t *p, size_t len)
{
    struct journal_export_info info;
    size_t pos = JOURNAL_EXPORT_HEADER_LEN;
    if (journal_export_parse(p, len, &info) != LEAL_OK)
        return -1;
    for (uint32_t i = 0; i < info.count; i++) {
        struct journal_entry e;
        size_t elen;
        if (journal_entry_peek_len(p + pos, len - pos, &elen) != LEAL_OK ||
            journal_entry_decode(p + pos, elen, &e) != LEAL_OK)
            return -1;
        fprintf(f, "%u,%u,%u,%u,%llu,%llu,%u,%u,%lld,", e.terminal_id, e.epoch, e.seq, e.op,
                (unsigned long long)e.card_id, (unsigned long long)e.utc_seconds, e.amount_cents,
                e.purse_cents, (long long)e.points);
        hex(f, e.mac, JOURNAL_MAC_LEN);
        fputc(',', f);
        hex(f, p + pos, elen);
        fputc('\n', f);
        pos += elen;
    }
    return (int)info.count;
}

int main(void)
{
    unsigned terminals = env_or("LEAL_BENCH_SYNC_TERMINALS", 50);
    unsigned per_day = env_or("LEAL_BENCH_SYNC_PER_DAY", 200);
    const struct crypto_provider *cp = crypto_openssl();
    char dir[] = "/tmp/leal-bench-sync-XXXXXX", path[256], cmd[2048];
    struct keyset *ks = calloc(1, sizeof *ks);
    const struct key_version *kv;
    uint8_t **exports = calloc(terminals, sizeof *exports);
    size_t *lens = calloc(terminals, sizeof *lens);
    struct ledger *l = NULL;
    long entries = 0, taken = 0, rows = 0;
    double t0, c0, t_import, c_import, t_ref, t_all, t_own, c_own;
    long own_diff = -1;
    leal_err err;
    FILE *f;

    if (ks == NULL || exports == NULL || lens == NULL || mkdtemp(dir) == NULL)
        fail("setup", LEAL_E_NO_MEMORY);
    ks->issuer_id = 1;
    if ((err = keyset_add_program(ks, PROGRAM, 1796290000u, cp->random)) != LEAL_OK ||
        (err = keyset_current(ks, PROGRAM, KEY_ROLE_JOURNAL_MAC, &kv)) != LEAL_OK)
        fail("keys", err);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    /* The chain: 10 stores, the terminals, 1,000 carded customers with
     * euros and points on their accounts to pay and redeem from. */
    if ((err = sync_ledger_make(path,
                                &(struct sync_ledger_spec){"chain", LEDGER_PROGRAM_CHAIN, terminals,
                                                           CUSTOMERS, FIRST_CARD, 50000, 1000},
                                &l)) != LEAL_OK)
        fail("ledger", err);
    snprintf(path, sizeof path, "%s/rows.csv", dir);
    if ((f = fopen(path, "w")) == NULL)
        fail("rows.csv", LEAL_E_IO);
    for (unsigned t = 0; t < terminals; t++) {
        uint8_t key[16];
        int n;
        if ((err = derive_journal_key(cp, kv->key, ks->issuer_id, PROGRAM, t + 1, key)) !=
                LEAL_OK ||
            (err = (leal_err)week(key, t + 1, per_day, &exports[t], &lens[t])) != LEAL_OK)
            fail("journal", err);
        if ((n = csv_rows(f, exports[t], lens[t])) < 0)
            fail("csv", LEAL_E_FORMAT);
        entries += n;
    }
    fclose(f);

    /* The second reference's copy: the ledger as the import finds it. */
    snprintf(cmd, sizeof cmd, "cd %s && sqlite3 ledger.db '.backup own.db'", dir);
    if (system(cmd) != 0 || write_file(dir, "own.sql", own_sql) != 0 ||
        write_file(dir, "own_check.sql", own_check_sql) != 0)
        fail("the ledger's copy", LEAL_E_IO);

    t0 = now_s();
    c0 = cpu_s();
    for (unsigned t = 0; t < terminals; t++) {
        const struct sync_keys k = {cp, ks};
        struct sync_result r;
        if ((err = sync_import(l, &k, exports[t], lens[t], &r)) != LEAL_OK)
            fail("sync_import", err);
        taken += r.taken;
    }
    t_import = now_s() - t0;
    c_import = cpu_s() - c0;

    snprintf(cmd, sizeof cmd,
             "sqlite3 %s/ref.db 'CREATE TABLE t(terminal_id, epoch, seq, op, card_id, at, amount, "
             "purse, points, mac, raw)' && sqlite3 %s/ref.db -cmd '.mode csv' '.import "
             "%s/rows.csv t'",
             dir, dir, dir);
    t0 = now_s();
    if (system(cmd) != 0)
        fail("sqlite3 .import", LEAL_E_IO);
    t_ref = now_s() - t0;

    snprintf(cmd, sizeof cmd, "cd %s && sqlite3 own.db <own.sql >/dev/null", dir);
    t0 = now_s();
    c0 = cpu_of(RUSAGE_CHILDREN);
    if (system(cmd) != 0)
        fail("sqlite3 into the ledger's own schema", LEAL_E_IO);
    t_own = now_s() - t0;
    c_own = cpu_of(RUSAGE_CHILDREN) - c0;
    snprintf(cmd, sizeof cmd, "cd %s && sqlite3 own.db <own_check.sql >own.diff", dir);
    snprintf(path, sizeof path, "%s/own.diff", dir);
    if (system(cmd) == 0 && (f = fopen(path, "r")) != NULL) {
        if (fscanf(f, "%ld", &own_diff) != 1)
            own_diff = -1;
        fclose(f);
    }

    /* Context: every row the import wrote (the taken journal entries, the
     * ledger entries, their lines, lots and lot uses), .import-ed the same
     * way into plain tables of the same columns. */
    snprintf(cmd, sizeof cmd,
             "cd %s && sqlite3 -csv ledger.db \"select terminal_id, epoch, seq, op, card_id, at, "
             "key_version, hex(mac), outcome, entry_id, hex(raw), taken_at, host_before from "
             "terminal_entry\" "
             ">te.csv && for t in entry line lot lot_use; do sqlite3 -csv ledger.db \"select * "
             "from $t\" >$t.csv; done && sqlite3 all.db \"attach 'ledger.db' as l; create table "
             "te as select * from l.terminal_entry where 0; create table e as select * from "
             "l.entry where 0; create table n as select * from l.line where 0; create table o as "
             "select * from l.lot where 0; create table u as select * from l.lot_use where 0\"",
             dir);
    if (system(cmd) != 0)
        fail("every row", LEAL_E_IO);
    snprintf(cmd, sizeof cmd,
             "cd %s && sqlite3 all.db -cmd '.mode csv' '.import te.csv te' '.import entry.csv e' "
             "'.import line.csv n' '.import lot.csv o' '.import lot_use.csv u' && sqlite3 all.db "
             "'select (select count(*) from te) + (select count(*) from e) + (select count(*) from "
             "n) + (select count(*) from o) + (select count(*) from u)' >all.count",
             dir);
    t0 = now_s();
    if (system(cmd) != 0)
        fail("sqlite3 .import of every row", LEAL_E_IO);
    t_all = now_s() - t0;
    snprintf(path, sizeof path, "%s/all.count", dir);
    if ((f = fopen(path, "r")) == NULL || fscanf(f, "%ld", &rows) != 1)
        rows = 0;
    if (f)
        fclose(f);

    printf("sync import: %u terminals x 7 days x %u operations: %ld entries taken of %ld in %.2f s "
           "= %.0f entries/s\n",
           terminals, per_day, taken, entries, t_import, (double)entries / t_import);
    printf("sync import CPU time: %.2f s = %.1f us per entry (wall %.2f s)\n", c_import,
           c_import * 1e6 / (double)entries, t_import);
    printf("sqlite3 .import of the same %ld rows into a plain table: %.2f s = %.0f rows/s\n",
           entries, t_ref, (double)entries / t_ref);
    printf("ratio import / .import: %.3f (goal >= 0.8)\n", t_ref / t_import);
    printf("sqlite3 writing the import's changes into a copy of the ledger (its own schema, one "
           "transaction; rows differing afterwards: %ld): %.2f s = %.0f entries/s, CPU %.2f s\n",
           own_diff, t_own, (double)entries / t_own, c_own);
    printf("ratio import / the ledger's own schema: %.3f (CPU time: %.3f)\n", t_own / t_import,
           c_own / c_import);
    printf("the issue's ratio for SQLite alone writing into this schema (.import / it): %.3f (a "
           "ceiling for any import into it: one transaction, no lookups)\n",
           t_ref / t_own);
    printf("context: .import of every row the import wrote (%ld rows in 5 tables, %.1f per "
           "entry): %.2f s, ratio %.3f\n",
           rows, (double)rows / (double)entries, t_all, t_all / t_import);
    ledger_close(l);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_sync: could not remove %s\n", dir);
    for (unsigned t = 0; t < terminals; t++)
        free(exports[t]);
    free(exports);
    free(lens);
    keyset_clear(ks);
    free(ks);
    return taken == entries ? 0 : 1;
}
