/* ledger_test.c - host/ledger: the book of record, with exact balances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "host/ledger/ledger.h"
#include "host/ledger/ledger_messages.h"
#include "tests/lib/testutil.h"

struct fx {
    char *dir;
    char path[512];
    struct ledger *l;
    int64_t program, store, terminal, alice, alice_acct, bob, bob_acct, adjustments, points_issued,
        cash, topups;
};

static int setup(void **state)
{
    static struct fx f;
    struct ledger_program p = {.code = "cafe",
                               .name = "Café Sol",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .points_per_euro_milli = 1200};
    struct ledger_customer c;
    memset(&f, 0, sizeof f);
    f.dir = test_tmpdir();
    snprintf(f.path, sizeof f.path, "%s/ledger.db", f.dir);
    assert_int_equal(ledger_open(f.path, &f.l), LEAL_OK);
    assert_int_equal(ledger_program_create(f.l, &p, &f.program), LEAL_OK);
    assert_int_equal(
        ledger_store_add(f.l, f.program, "sol-1", "Sol Centro", "Europe/Madrid", &f.store),
        LEAL_OK);
    assert_int_equal(ledger_terminal_add(f.l, f.store, "till 1", &f.terminal), LEAL_OK);
    memset(&c, 0, sizeof c);
    c.program_id = f.program;
    snprintf(c.name, sizeof c.name, "Alicia");
    snprintf(c.surname, sizeof c.surname, "García");
    snprintf(c.email, sizeof c.email, "alicia@example.es");
    snprintf(c.phone, sizeof c.phone, "+34600111222");
    snprintf(c.birth_date, sizeof c.birth_date, "1985-02-28");
    assert_int_equal(ledger_customer_add(f.l, &c, &f.alice, &f.alice_acct), LEAL_OK);
    snprintf(c.name, sizeof c.name, "Bernardo");
    snprintf(c.surname, sizeof c.surname, "Ruiz");
    snprintf(c.email, sizeof c.email, "bruiz@example.es");
    snprintf(c.phone, sizeof c.phone, "+34600333444");
    assert_int_equal(ledger_customer_add(f.l, &c, &f.bob, &f.bob_acct), LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "adjustments", &f.adjustments),
                     LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "points_issued", &f.points_issued),
                     LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "cash", &f.cash), LEAL_OK);
    assert_int_equal(ledger_program_account(f.l, f.program, "topups", &f.topups), LEAL_OK);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    test_rmtree(f->dir);
    free(f->dir);
    return 0;
}

static int64_t bal(struct fx *f, int64_t acct, const char *asset)
{
    int64_t v = -999;
    assert_int_equal(ledger_balance(f->l, acct, asset, &v), LEAL_OK);
    return v;
}

/* A two-line entry: acct gets amount of asset from `from`. */
static leal_err post2(struct fx *f, const char *req, const char *kind, int64_t acct, int64_t from,
                      const char *asset, int64_t amount, int64_t expires, int64_t *id,
                      bool *replayed)
{
    struct ledger_line lines[2];
    struct ledger_entry e;
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0].account_id = acct;
    snprintf(lines[0].asset, sizeof lines[0].asset, "%s", asset);
    lines[0].amount = amount;
    lines[0].expires_at = expires;
    lines[1].account_id = from;
    snprintf(lines[1].asset, sizeof lines[1].asset, "%s", asset);
    lines[1].amount = -amount;
    e.program_id = f->program;
    e.kind = kind;
    e.request_id = req;
    e.operator_name = "Marta";
    e.reason = "test";
    e.lines = lines;
    e.nlines = 2;
    return ledger_post(f->l, &e, id, replayed);
}

static int64_t count(struct fx *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_ledger_open_sets_safe_mode_and_schema(void **state)
{
    struct fx *f = *state;
    assert_int_equal(ledger_schema_version(f->l), LEDGER_SCHEMA_VERSION);
    assert_int_equal(count(f, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION);
    assert_int_equal(count(f, "PRAGMA application_id"), 0x4C45414C);
    assert_int_equal(count(f, "SELECT count(*) FROM account WHERE kind = 'program'"), 10);
    assert_int_equal(count(f, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                              "sql NOT LIKE '%STRICT%'"),
                     0);
    /* A second handle on the same file opens without migrating again. */
    struct ledger *l2 = NULL;
    assert_int_equal(ledger_open(f->path, &l2), LEAL_OK);
    ledger_close(l2);
}

static void test_ledger_every_lookup_uses_an_index(void **state)
{
    struct fx *f = *state;
    assert_int_equal(ledger_check_plans(f->l), LEAL_OK);
    assert_string_equal(ledger_errmsg(f->l), "");
}

static void test_ledger_post_moves_exact_balances(void **state)
{
    struct fx *f = *state;
    int64_t id = 0;
    bool rep = true;
    assert_int_equal(post2(f, "r1", "topup", f->alice_acct, f->topups, "EUR", 2000, 0, &id, &rep),
                     LEAL_OK);
    assert_true(id > 0);
    assert_false(rep);
    assert_int_equal(post2(f, "r2", "spend", f->cash, f->alice_acct, "EUR", 1250, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 750);
    assert_int_equal(bal(f, f->topups, "EUR"), -2000);
    assert_int_equal(bal(f, f->cash, "EUR"), 1250);
    assert_int_equal(bal(f, f->bob_acct, "EUR"), 0);
    assert_int_equal(
        post2(f, "r3", "earn", f->alice_acct, f->points_issued, "PTS", 15, 0, &id, &rep), LEAL_OK);
    assert_int_equal(
        post2(f, "r4", "earn", f->alice_acct, f->points_issued, "STAMP:coffee", 1, 0, &id, &rep),
        LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "PTS"), 15);
    assert_int_equal(bal(f, f->alice_acct, "STAMP:coffee"), 1);
    assert_int_equal(bal(f, f->points_issued, "PTS"), -15);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_ledger_idempotency_replays_and_conflicts(void **state)
{
    struct fx *f = *state;
    int64_t id1 = 0, id2 = 0;
    bool rep = false;
    assert_int_equal(
        post2(f, "req-7", "topup", f->alice_acct, f->topups, "EUR", 500, 0, &id1, &rep), LEAL_OK);
    assert_false(rep);
    assert_int_equal(
        post2(f, "req-7", "topup", f->alice_acct, f->topups, "EUR", 500, 0, &id2, &rep), LEAL_OK);
    assert_true(rep);
    assert_int_equal(id1, id2);
    assert_int_equal(
        post2(f, "req-7", "topup", f->alice_acct, f->topups, "EUR", 501, 0, &id2, &rep),
        LEAL_E_IDEMPOTENCY_CONFLICT);
    assert_int_equal(id2, 0);
    assert_false(rep);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 500);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 1);
}

static void test_ledger_terminal_key_and_epochs(void **state)
{
    struct fx *f = *state;
    struct ledger_line lines[2] = {{.account_id = 0}};
    struct ledger_entry e;
    int64_t id1, id2, id3, epoch = 0;
    bool rep;
    lines[0].account_id = f->alice_acct;
    snprintf(lines[0].asset, sizeof lines[0].asset, "PTS");
    lines[0].amount = 12;
    lines[1].account_id = f->points_issued;
    snprintf(lines[1].asset, sizeof lines[1].asset, "PTS");
    lines[1].amount = -12;
    memset(&e, 0, sizeof e);
    e.program_id = f->program;
    e.kind = "earn";
    e.at = 1795000000;
    e.terminal_id = f->terminal;
    e.terminal_epoch = 1;
    e.terminal_seq = 1;
    e.reason = "sale";
    e.spend_cents = 1000;
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_post(f->l, &e, &id1, &rep), LEAL_OK);
    assert_int_equal(ledger_post(f->l, &e, &id2, &rep), LEAL_OK);
    assert_true(rep);
    assert_int_equal(id1, id2);
    /* Epoch 2 does not exist yet. */
    e.terminal_epoch = 2;
    assert_int_equal(ledger_post(f->l, &e, &id3, &rep), LEAL_E_UNKNOWN_ID);
    /* A reinstalled terminal: new epoch, the sequence restarts. */
    assert_int_equal(ledger_terminal_new_epoch(f->l, f->terminal, &epoch), LEAL_OK);
    assert_int_equal(epoch, 2);
    assert_int_equal(ledger_post(f->l, &e, &id3, &rep), LEAL_OK);
    assert_false(rep);
    assert_true(id3 > id1);
    assert_int_equal(bal(f, f->alice_acct, "PTS"), 24);
    /* Store filled in from the terminal. */
    assert_int_equal(count(f, "SELECT count(*) FROM entry WHERE store_id IS NOT NULL"), 2);
    /* Both key forms at once is refused. */
    e.request_id = "also";
    assert_int_equal(ledger_post(f->l, &e, &id3, &rep), LEAL_E_ARG);
}

static void test_ledger_bad_entries_write_nothing(void **state)
{
    struct fx *f = *state;
    struct ledger_line lines[3];
    struct ledger_entry e;
    int64_t id;
    bool rep;
    assert_int_equal(post2(f, "a", "topup", f->alice_acct, f->topups, "EUR", 1000, 0, &id, &rep),
                     LEAL_OK);
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    for (int i = 0; i < 3; i++)
        snprintf(lines[i].asset, sizeof lines[i].asset, "EUR");
    lines[0].account_id = f->alice_acct;
    lines[0].amount = 100;
    lines[1].account_id = f->adjustments;
    lines[1].amount = -99;
    e.program_id = f->program;
    e.kind = "adjust";
    e.request_id = "bad-1";
    e.operator_name = "Marta";
    e.reason = "fix";
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_UNBALANCED);
    /* Balanced per line total but not per asset. */
    lines[1].amount = -100;
    snprintf(lines[1].asset, sizeof lines[1].asset, "PTS");
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_UNBALANCED);
    snprintf(lines[1].asset, sizeof lines[1].asset, "euros");
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_ASSET);
    snprintf(lines[1].asset, sizeof lines[1].asset, "EUR");
    lines[0].account_id = 9999;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_UNKNOWN_ID);
    lines[0].account_id = f->alice_acct;
    e.reason = "";
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_REASON_REQUIRED);
    e.reason = "fix";
    e.operator_name = NULL;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_REASON_REQUIRED);
    e.operator_name = "Marta\n";
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_TEXT);
    e.operator_name = "Marta";
    lines[0].amount = 10000000000000;
    lines[1].amount = -10000000000000;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_AMOUNT_RANGE);
    /* Taking more than the customer holds. */
    lines[0].amount = -1001;
    lines[1].amount = 1001;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 11 would hold -1 EUR");
    e.program_id = 77;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_UNKNOWN_ID);
    e.program_id = f->program;
    e.nlines = 1;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_UNBALANCED);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1000);
    assert_int_equal(bal(f, f->adjustments, "EUR"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM line"), 2);
    /* The last good form posts. */
    e.nlines = 2;
    lines[0].amount = -1000;
    lines[1].amount = 1000;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 0);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_ledger_other_program_is_refused(void **state)
{
    struct fx *f = *state;
    struct ledger_program p = {.code = "shoes", .name = "Zapatos", .kind = LEDGER_PROGRAM_CHAIN};
    int64_t other, other_topups, id;
    bool rep;
    assert_int_equal(ledger_program_create(f->l, &p, &other), LEAL_OK);
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_E_DUPLICATE_ID);
    assert_int_equal(ledger_program_account(f->l, other, "topups", &other_topups), LEAL_OK);
    assert_int_equal(post2(f, "x", "topup", f->alice_acct, other_topups, "EUR", 100, 0, &id, &rep),
                     LEAL_E_WRONG_PROGRAM);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 0);
}

static void test_ledger_void_restores_and_refuses_twice(void **state)
{
    struct fx *f = *state;
    int64_t sale, v1, v2, vv;
    bool rep;
    assert_int_equal(post2(f, "t", "topup", f->alice_acct, f->topups, "EUR", 3000, 0, &sale, &rep),
                     LEAL_OK);
    assert_int_equal(post2(f, "s", "spend", f->cash, f->alice_acct, "EUR", 1999, 0, &sale, &rep),
                     LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1001);
    assert_int_equal(ledger_void(f->l,
                                 &(struct ledger_void_request){sale, NULL, "Marta", "wrong amount"},
                                 &v1, &rep),
                     LEAL_OK);
    assert_false(rep);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 3000);
    assert_int_equal(bal(f, f->cash, "EUR"), 0);
    /* The same void again (a retry) answers with the same entry. */
    assert_int_equal(ledger_void(f->l,
                                 &(struct ledger_void_request){sale, NULL, "Marta", "wrong amount"},
                                 &v2, &rep),
                     LEAL_OK);
    assert_true(rep);
    assert_int_equal(v1, v2);
    /* A different void of the same entry, with or without a request id. */
    assert_int_equal(
        ledger_void(f->l, &(struct ledger_void_request){sale, NULL, "Pepe", "again"}, &v2, &rep),
        LEAL_E_ALREADY_VOIDED);
    assert_int_equal(ledger_void(f->l,
                                 &(struct ledger_void_request){sale, "other-req", "Pepe", "again"},
                                 &v2, &rep),
                     LEAL_E_ALREADY_VOIDED);
    assert_int_equal(
        ledger_void(f->l, &(struct ledger_void_request){v1, NULL, "Marta", "undo"}, &vv, &rep),
        LEAL_E_VOID_OF_VOID);
    assert_int_equal(
        ledger_void(f->l, &(struct ledger_void_request){4242, NULL, "Marta", "undo"}, &vv, &rep),
        LEAL_E_UNKNOWN_ID);
    assert_int_equal(
        ledger_void(f->l, &(struct ledger_void_request){sale, "r", "Marta", ""}, &vv, &rep),
        LEAL_E_REASON_REQUIRED);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 3);
    assert_int_equal(count(f, "SELECT reverses FROM entry WHERE kind = 'void'"), sale);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static int64_t lot_remaining(struct fx *f, int64_t expires)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT coalesce(sum(remaining), -1) FROM lot WHERE expires_at %s",
             expires ? "= %lld" : "IS NULL");
    char q[220];
    snprintf(q, sizeof q, sql, (long long)expires);
    return count(f, q);
}

static void test_ledger_points_lots_nearest_expiry_first(void **state)
{
    struct fx *f = *state;
    int64_t id, redeem, redeem_acct;
    bool rep;
    const int64_t far = 1900000000, near = 1800000000;
    assert_int_equal(ledger_program_account(f->l, f->program, "points_redeemed", &redeem_acct),
                     LEAL_OK);
    assert_int_equal(
        post2(f, "e1", "earn", f->alice_acct, f->points_issued, "PTS", 100, far, &id, &rep),
        LEAL_OK);
    assert_int_equal(
        post2(f, "e2", "earn", f->alice_acct, f->points_issued, "PTS", 50, near, &id, &rep),
        LEAL_OK);
    assert_int_equal(
        post2(f, "e3", "earn", f->alice_acct, f->points_issued, "PTS", 30, 0, &id, &rep), LEAL_OK);
    assert_int_equal(
        post2(f, "r1", "redeem", redeem_acct, f->alice_acct, "PTS", 60, 0, &redeem, &rep), LEAL_OK);
    assert_int_equal(lot_remaining(f, near), 0);
    assert_int_equal(lot_remaining(f, far), 90);
    assert_int_equal(lot_remaining(f, 0), 30);
    assert_int_equal(bal(f, f->alice_acct, "PTS"), 120);
    /* Voiding the redemption gives back to the very lots it took from. */
    assert_int_equal(
        ledger_void(f->l,
                    &(struct ledger_void_request){redeem, NULL, "Marta", "customer changed mind"},
                    &id, &rep),
        LEAL_OK);
    assert_int_equal(lot_remaining(f, near), 50);
    assert_int_equal(lot_remaining(f, far), 100);
    assert_int_equal(lot_remaining(f, 0), 30);
    assert_int_equal(bal(f, f->alice_acct, "PTS"), 180);
    assert_int_equal(count(f, "SELECT count(*) FROM lot"), 3);
    /* Redeeming more than held is refused. */
    assert_int_equal(post2(f, "r2", "redeem", redeem_acct, f->alice_acct, "PTS", 181, 0, &id, &rep),
                     LEAL_E_INSUFFICIENT_FUNDS);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_ledger_void_of_earn_takes_its_own_lot_first(void **state)
{
    struct fx *f = *state;
    int64_t id, earn;
    bool rep;
    assert_int_equal(
        post2(f, "e1", "earn", f->alice_acct, f->points_issued, "PTS", 40, 1800000000, &id, &rep),
        LEAL_OK);
    assert_int_equal(
        post2(f, "e2", "earn", f->alice_acct, f->points_issued, "PTS", 25, 1900000000, &earn, &rep),
        LEAL_OK);
    assert_int_equal(
        ledger_void(f->l, &(struct ledger_void_request){earn, NULL, "Marta", "refund"}, &id, &rep),
        LEAL_OK);
    assert_int_equal(lot_remaining(f, 1800000000), 40);
    assert_int_equal(lot_remaining(f, 1900000000), 0);
    assert_int_equal(bal(f, f->alice_acct, "PTS"), 40);
    assert_int_equal(bal(f, f->points_issued, "PTS"), -40);
}

static void test_ledger_program_expiry_days_sets_lot_expiry(void **state)
{
    struct fx *f = *state;
    struct ledger_program p = {.code = "exp",
                               .name = "Caduca",
                               .kind = LEDGER_PROGRAM_COLLECTIVE,
                               .points_per_euro_milli = 1000,
                               .points_expiry_days = 365};
    struct ledger_line lines[2];
    struct ledger_entry e;
    int64_t prog, acct, issued, id;
    bool rep;
    assert_int_equal(ledger_program_create(f->l, &p, &prog), LEAL_OK);
    assert_int_equal(ledger_account_add(f->l, prog, 0, &acct), LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, prog, "points_issued", &issued), LEAL_OK);
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0].account_id = acct;
    lines[1].account_id = issued;
    snprintf(lines[0].asset, sizeof lines[0].asset, "PTS");
    snprintf(lines[1].asset, sizeof lines[1].asset, "PTS");
    lines[0].amount = 7;
    lines[1].amount = -7;
    e.program_id = prog;
    e.kind = "earn";
    e.at = 1800000000;
    e.request_id = "g1";
    e.operator_name = "Ana";
    e.reason = "gift card bonus";
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
    assert_int_equal(lot_remaining(f, 1800000000 + 365 * 86400), 7);
}

static void test_ledger_expire_moves_only_expired_lots(void **state)
{
    struct fx *f = *state;
    int64_t id, expired, accounts = -1, points = -1;
    bool rep;
    assert_int_equal(ledger_program_account(f->l, f->program, "points_expired", &expired), LEAL_OK);
    assert_int_equal(
        post2(f, "e1", "earn", f->alice_acct, f->points_issued, "PTS", 100, 1800000000, &id, &rep),
        LEAL_OK);
    assert_int_equal(
        post2(f, "e2", "earn", f->alice_acct, f->points_issued, "PTS", 50, 1900000000, &id, &rep),
        LEAL_OK);
    assert_int_equal(
        post2(f, "e3", "earn", f->bob_acct, f->points_issued, "PTS", 7, 1700000000, &id, &rep),
        LEAL_OK);
    assert_int_equal(post2(f, "e4", "earn", f->bob_acct, f->points_issued, "PTS", 3, 0, &id, &rep),
                     LEAL_OK);
    /* Alicia spends 30 first: they come from the lot that expires first. */
    assert_int_equal(post2(f, "r1", "redeem", f->cash, f->alice_acct, "PTS", 30, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(
        ledger_expire_points(f->l, f->program, 1850000000, "nightly", &accounts, &points), LEAL_OK);
    assert_int_equal(accounts, 2);
    assert_int_equal(points, 77);
    assert_int_equal(bal(f, f->alice_acct, "PTS"), 50);
    assert_int_equal(bal(f, f->bob_acct, "PTS"), 3);
    assert_int_equal(bal(f, expired, "PTS"), 77);
    assert_int_equal(count(f, "SELECT count(*) FROM entry WHERE kind = 'expire' AND at = "
                              "1850000000"),
                     2);
    /* Again at the same moment: nothing left to expire. */
    assert_int_equal(
        ledger_expire_points(f->l, f->program, 1850000000, "nightly", &accounts, &points), LEAL_OK);
    assert_int_equal(accounts, 0);
    assert_int_equal(points, 0);
    assert_int_equal(ledger_expire_points(f->l, f->program, 1850000000, "", &accounts, &points),
                     LEAL_E_REASON_REQUIRED);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_ledger_cards(void **state)
{
    struct fx *f = *state;
    struct ledger_card c, got;
    memset(&c, 0, sizeof c);
    c.card_id = 1000001;
    c.account_id = f->alice_acct;
    c.uid_len = 7;
    memcpy(c.uid, "\x04\x11\x22\x33\x44\x55\x66", 7);
    c.tech = LEDGER_TECH_DESFIRE_EV2;
    c.status = LEDGER_CARD_PENDING;
    c.keyset_version = 1;
    c.layout_version = 1;
    assert_int_equal(ledger_card_add(f->l, &c), LEAL_OK);
    assert_int_equal(ledger_card_add(f->l, &c), LEAL_E_DUPLICATE_ID);
    /* A second card with the same UID (Classic clones, 4-byte UIDs) is recorded. */
    c.card_id = 1000002;
    c.account_id = f->alice_acct;
    assert_int_equal(ledger_card_add(f->l, &c), LEAL_OK);
    c.card_id = 1000003;
    c.account_id = 9999;
    assert_int_equal(ledger_card_add(f->l, &c), LEAL_E_UNKNOWN_ID);
    c.account_id = f->cash;
    assert_int_equal(ledger_card_add(f->l, &c), LEAL_E_WRONG_PROGRAM);
    assert_int_equal(ledger_card_find_by_id(f->l, 1000001, &got), LEAL_OK);
    assert_int_equal(got.account_id, f->alice_acct);
    assert_int_equal(got.program_id, f->program);
    assert_int_equal(got.uid_len, 7);
    assert_memory_equal(got.uid, "\x04\x11\x22\x33\x44\x55\x66", 7);
    assert_int_equal(got.tech, LEDGER_TECH_DESFIRE_EV2);
    assert_int_equal(got.status, LEDGER_CARD_PENDING);
    assert_int_equal(ledger_card_find_by_id(f->l, 5, &got), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_card_set_status(f->l, 1000001, LEDGER_CARD_ACTIVE), LEAL_OK);
    assert_int_equal(ledger_card_set_status(f->l, 1000001, LEDGER_CARD_BLOCKED), LEAL_OK);
    assert_int_equal(ledger_card_set_status(f->l, 1000001, LEDGER_CARD_ACTIVE), LEAL_OK);
    assert_int_equal(ledger_card_set_status(f->l, 1000001, LEDGER_CARD_LOST), LEAL_OK);
    assert_int_equal(ledger_card_set_status(f->l, 1000001, LEDGER_CARD_ACTIVE),
                     LEAL_E_CARD_STATUS_CHANGE);
    assert_int_equal(ledger_card_set_status(f->l, 1000001, LEDGER_CARD_REPLACED), LEAL_OK);
    assert_int_equal(ledger_card_set_status(f->l, 1000001, LEDGER_CARD_BLOCKED),
                     LEAL_E_CARD_STATUS_CHANGE);
    assert_int_equal(ledger_card_set_counter(f->l, 1000002, 17), LEAL_OK);
    assert_int_equal(ledger_card_set_counter(f->l, 1000002, 16), LEAL_E_CARD_TAMPERED);
    assert_int_equal(ledger_card_find_by_id(f->l, 1000002, &got), LEAL_OK);
    assert_int_equal(got.last_counter, 17);
    assert_int_equal(ledger_card_find_by_id(f->l, 1000001, &got), LEAL_OK);
    assert_int_equal(got.status, LEDGER_CARD_REPLACED);
}

struct found {
    int n;
    int64_t ids[8];
};

static int collect(void *ctx, const struct ledger_customer *c)
{
    struct found *fd = ctx;
    if (fd->n < 8)
        fd->ids[fd->n] = c->id;
    fd->n++;
    return 0;
}

static struct found search(struct fx *f, enum ledger_search_by by, const char *q, leal_err want)
{
    struct found fd;
    memset(&fd, 0, sizeof fd);
    assert_int_equal(
        ledger_customer_search(f->l, &(struct ledger_search){0, by, q, 0}, collect, &fd), want);
    return fd;
}

static void test_ledger_customers_edit_and_search(void **state)
{
    struct fx *f = *state;
    struct ledger_customer c;
    struct ledger_card card;
    struct found fd;
    int64_t id, acct;
    assert_int_equal(ledger_customer_get(f->l, f->alice, &c), LEAL_OK);
    assert_string_equal(c.name, "Alicia");
    assert_string_equal(c.surname, "García");
    assert_string_equal(c.birth_date, "1985-02-28");
    assert_int_equal(c.account_id, f->alice_acct);
    snprintf(c.email, sizeof c.email, "alicia.garcia@example.es");
    snprintf(c.preferences, sizeof c.preferences, "café solo; sin lactosa");
    assert_int_equal(ledger_customer_update(f->l, &c), LEAL_OK);
    snprintf(c.birth_date, sizeof c.birth_date, "1985-02-29");
    assert_int_equal(ledger_customer_update(f->l, &c), LEAL_E_DATE);
    c.id = 999;
    snprintf(c.birth_date, sizeof c.birth_date, "1984-02-29");
    assert_int_equal(ledger_customer_update(f->l, &c), LEAL_E_UNKNOWN_ID);
    memset(&c, 0, sizeof c);
    c.program_id = 55;
    assert_int_equal(ledger_customer_add(f->l, &c, &id, &acct), LEAL_E_UNKNOWN_ID);

    fd = search(f, LEDGER_SEARCH_EMAIL, "ALICIA.GARCIA@example.es", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->alice);
    fd = search(f, LEDGER_SEARCH_EMAIL, "alicia@example.es", LEAL_OK);
    assert_int_equal(fd.n, 0);
    fd = search(f, LEDGER_SEARCH_NAME, "ber", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->bob);
    fd = search(f, LEDGER_SEARCH_NAME, "ruiz", LEAL_OK);
    assert_int_equal(fd.n, 1);
    fd = search(f, LEDGER_SEARCH_NAME, "%", LEAL_OK);
    assert_int_equal(fd.n, 0);
    fd = search(f, LEDGER_SEARCH_PHONE, "+34600333444", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->bob);
    fd = search(f, LEDGER_SEARCH_ALL, NULL, LEAL_OK);
    assert_int_equal(fd.n, 2);
    assert_int_equal(fd.ids[0], f->alice);
    assert_int_equal(fd.ids[1], f->bob);

    memset(&card, 0, sizeof card);
    card.card_id = 77;
    card.account_id = f->bob_acct;
    card.uid_len = 4;
    memcpy(card.uid, "\xde\xad\xbe\xef", 4);
    card.tech = LEDGER_TECH_CLASSIC_1K;
    card.status = LEDGER_CARD_ACTIVE;
    assert_int_equal(ledger_card_add(f->l, &card), LEAL_OK);
    fd = search(f, LEDGER_SEARCH_CARD_ID, "77", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->bob);
    fd = search(f, LEDGER_SEARCH_UID, "DEADBEEF", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->bob);
    search(f, LEDGER_SEARCH_UID, "DEADBEE", LEAL_E_NUMBER);
    search(f, LEDGER_SEARCH_CARD_ID, "7x", LEAL_E_NUMBER);

    assert_int_equal(ledger_consent_add(f->l, f->alice,
                                        &(struct ledger_consent_change){
                                            "email", true, "form", "Marta", 0, NULL, NULL, NULL}),
                     LEAL_OK);
    assert_int_equal(ledger_consent_add(f->l, f->alice,
                                        &(struct ledger_consent_change){
                                            "pigeon", true, "form", "Marta", 0, NULL, NULL, NULL}),
                     LEAL_E_USAGE);
    assert_int_equal(ledger_consent_add(f->l, 999,
                                        &(struct ledger_consent_change){
                                            "sms", true, "form", "Marta", 0, NULL, NULL, NULL}),
                     LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_note_add(f->l, f->alice, "Marta", "prefers mornings", 0), LEAL_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM consent"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM customer_note"), 1);
}

static void test_ledger_verify_names_first_difference(void **state)
{
    struct fx *f = *state;
    int64_t id;
    bool rep;
    struct ledger_stats s;
    assert_int_equal(post2(f, "a", "topup", f->alice_acct, f->topups, "EUR", 1000, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_verify(f->l, &s), LEAL_OK);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.lines, 2);
    sql_exec(f->path, "UPDATE balance SET amount = 1001 WHERE account_id = 11 AND asset = 'EUR'");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l),
                        "EUR: account 11 balance is 1001 but its lines sum to 1000");
    sql_exec(f->path, "UPDATE balance SET amount = 1000 WHERE account_id = 11 AND asset = 'EUR'");
    sql_exec(f->path, "UPDATE line SET amount = -999 WHERE id = 2");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l), "EUR: entry 1 lines sum to 1, not 0");
}

/* Each difference the one-pass check of balances, lines and lots can find,
 * with its exact message, and which one is named first when there are two. */
static void test_ledger_verify_books_lots_and_balances(void **state)
{
    struct fx *f = *state;
    int64_t id;
    bool rep;
    assert_int_equal(
        post2(f, "p", "earn", f->alice_acct, f->points_issued, "PTS", 150, 0, &id, &rep), LEAL_OK);
    assert_int_equal(post2(f, "e", "topup", f->alice_acct, f->topups, "EUR", 1000, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
    /* Lots and the points balance disagree. */
    sql_exec(f->path, "UPDATE lot SET remaining = 149");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l),
                        "PTS: account 11 balance is 150 but its lots hold 149");
    sql_exec(f->path, "UPDATE lot SET remaining = 150");
    /* A lot on an account without points. */
    sql_exec(f->path, "INSERT INTO lot(account_id, asset, line_id, original, remaining) VALUES "
                      "(12, 'PTS', 1, 5, 5)");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l), "PTS: account 12 balance is 0 but its lots hold 5");
    /* A balance that is not its lines is named before any lot difference. */
    sql_exec(f->path, "INSERT INTO balance VALUES (12, 'EUR', 7)");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l), "EUR: account 12 balance is 7 but its lines sum to 0");
    sql_exec(f->path, "DELETE FROM balance WHERE account_id = 12; DELETE FROM lot WHERE "
                      "account_id = 12");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
    /* Lines without a balance row. */
    sql_exec(f->path, "DELETE FROM balance WHERE account_id = 11 AND asset = 'EUR'");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l),
                        "EUR: account 11 has no balance row (0) but its lines sum to 1000");
    /* A customer below zero, lines and balances agreeing. */
    sql_exec(f->path, "INSERT INTO balance VALUES (11, 'EUR', -1000); UPDATE balance SET amount "
                      "= 1000 WHERE account_id = 2 AND asset = 'EUR'; UPDATE line SET amount = "
                      "-amount WHERE entry_id = 2");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l), "EUR: account 11 is negative (-1000)");
    /* The points a program account holds need no lots; a lot there is a difference. */
    sql_exec(f->path, "UPDATE balance SET amount = 1000 WHERE account_id = 11 AND asset = 'EUR'; "
                      "UPDATE balance SET amount = -1000 WHERE account_id = 2 AND asset = 'EUR'; "
                      "UPDATE line SET amount = -amount WHERE entry_id = 2");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
    sql_exec(f->path, "INSERT INTO lot(account_id, asset, line_id, original, remaining) VALUES "
                      "(3, 'PTS', 2, 9, 9)");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_E_LEDGER_MISMATCH);
    assert_string_equal(ledger_errmsg(f->l), "PTS: account 3 balance is -150 but its lots hold 9");
}

static void test_ledger_batch_failed_post_undoes_only_itself(void **state)
{
    struct fx *f = *state;
    char req[32];
    int64_t id;
    bool rep;
    assert_int_equal(ledger_batch_begin(f->l), LEAL_OK);
    for (int i = 0; i < 100; i++) {
        snprintf(req, sizeof req, "b%d", i);
        assert_int_equal(post2(f, req, "topup", f->alice_acct, f->topups, "EUR", 10, 0, &id, &rep),
                         LEAL_OK);
        if (i == 50)
            assert_int_equal(
                post2(f, "bad", "spend", f->cash, f->alice_acct, "EUR", 100000, 0, &id, &rep),
                LEAL_E_INSUFFICIENT_FUNDS);
    }
    assert_int_equal(ledger_batch_commit(f->l), LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1000);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 100);
    /* A rolled-back batch leaves nothing. */
    assert_int_equal(ledger_batch_begin(f->l), LEAL_OK);
    assert_int_equal(post2(f, "c1", "topup", f->alice_acct, f->topups, "EUR", 10, 0, &id, &rep),
                     LEAL_OK);
    ledger_batch_rollback(f->l);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1000);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* A batch's balance moves reach their rows once, before its COMMIT: a read
 * inside the batch sees them, a refused post takes back only its own, and
 * moves that sum to 0 still leave the row (ledger verify wants one). */
static void test_ledger_batch_balances_summed(void **state)
{
    struct fx *f = *state;
    int64_t id;
    bool rep;
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM balance WHERE account_id = %lld AND asset = 'EUR'",
             (long long)f->bob_acct);
    assert_int_equal(count(f, sql), 0);
    assert_int_equal(ledger_batch_begin(f->l), LEAL_OK);
    assert_int_equal(post2(f, "z1", "topup", f->bob_acct, f->topups, "EUR", 10, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(bal(f, f->bob_acct, "EUR"), 10);
    assert_int_equal(post2(f, "z2", "spend", f->cash, f->bob_acct, "EUR", 7, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(post2(f, "z3", "spend", f->cash, f->bob_acct, "EUR", 4, 0, &id, &rep),
                     LEAL_E_INSUFFICIENT_FUNDS);
    assert_int_equal(bal(f, f->bob_acct, "EUR"), 3);
    assert_int_equal(post2(f, "z4", "spend", f->cash, f->bob_acct, "EUR", 3, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_batch_commit(f->l), LEAL_OK);
    assert_int_equal(count(f, sql), 1);
    assert_int_equal(bal(f, f->bob_acct, "EUR"), 0);
    assert_int_equal(bal(f, f->cash, "EUR"), 10);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* A whole batch (the journal import): the negative-balance check sees the
 * balance the ledger held before the batch plus every earlier post of the
 * batch; the first failed post fails the batch, nothing of it is kept. */
static void test_ledger_batch_whole_is_refused_whole(void **state)
{
    struct fx *f = *state;
    int64_t id;
    bool rep;
    assert_int_equal(post2(f, "a0", "topup", f->alice_acct, f->topups, "EUR", 1000, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_batch_begin_whole(f->l), LEAL_OK);
    assert_int_equal(post2(f, "a1", "spend", f->cash, f->alice_acct, "EUR", 600, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(post2(f, "a2", "topup", f->alice_acct, f->topups, "EUR", 50, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(post2(f, "a3", "spend", f->cash, f->alice_acct, "EUR", 451, 0, &id, &rep),
                     LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 11 would hold -1 EUR");
    /* Half of a3 is in the transaction: nothing more goes in, nothing is kept. */
    assert_int_equal(post2(f, "a4", "topup", f->alice_acct, f->topups, "EUR", 10, 0, &id, &rep),
                     LEAL_E_STATE);
    assert_int_equal(ledger_batch_commit(f->l), LEAL_E_STATE);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1000);
    assert_int_equal(bal(f, f->cash, "EUR"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 1);
    /* The next batch starts from the ledger, not from what the failed one saw. */
    assert_int_equal(ledger_batch_begin_whole(f->l), LEAL_OK);
    assert_int_equal(post2(f, "b1", "spend", f->cash, f->alice_acct, "EUR", 1000, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(post2(f, "b2", "spend", f->cash, f->alice_acct, "EUR", 1, 0, &id, &rep),
                     LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 11 would hold -1 EUR");
    ledger_batch_rollback(f->l);
    assert_int_equal(ledger_batch_begin_whole(f->l), LEAL_OK);
    assert_int_equal(post2(f, "c1", "spend", f->cash, f->alice_acct, "EUR", 1000, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_batch_commit(f->l), LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 0);
    assert_int_equal(bal(f, f->cash, "EUR"), 1000);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* A checked batch (the terminal journal import): a post the ledger refuses
 * is refused before it writes anything, line by line as line_post checks
 * (an unknown account on its second line, a balance its first line takes
 * below zero even when its second gives it back), and the batch goes on;
 * what the refused posts named is not taken. */
static void test_ledger_batch_checked_refusal_changes_nothing(void **state)
{
    struct fx *f = *state;
    struct ledger_line lines[2];
    struct ledger_entry e;
    int64_t id;
    bool rep;
    assert_int_equal(post2(f, "a0", "topup", f->alice_acct, f->topups, "EUR", 1000, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_batch_begin_checked(f->l), LEAL_OK);
    assert_int_equal(post2(f, "a1", "spend", f->cash, f->alice_acct, "EUR", 600, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(post2(f, "a2", "spend", f->cash, f->alice_acct, "EUR", 401, 0, &id, &rep),
                     LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 11 would hold -1 EUR");
    assert_int_equal(id, 0);
    assert_int_equal(post2(f, "a3", "topup", f->alice_acct, 999999, "EUR", 5, 0, &id, &rep),
                     LEAL_E_UNKNOWN_ID);
    assert_string_equal(ledger_errmsg(f->l), "account 999999");
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0] = (struct ledger_line){.account_id = f->alice_acct, .amount = -500};
    lines[1] = (struct ledger_line){.account_id = f->alice_acct, .amount = 500};
    snprintf(lines[0].asset, sizeof lines[0].asset, "EUR");
    snprintf(lines[1].asset, sizeof lines[1].asset, "EUR");
    e.program_id = f->program;
    e.kind = "adjust";
    e.request_id = "a4";
    e.operator_name = "Marta";
    e.reason = "test";
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 11 would hold -100 EUR");
    assert_int_equal(post2(f, "a5", "topup", f->alice_acct, f->topups, "EUR", 10, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 410);
    assert_int_equal(ledger_batch_commit(f->l), LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 410);
    assert_int_equal(bal(f, f->cash, "EUR"), 600);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 3);
    assert_int_equal(count(f, "SELECT count(*) FROM line"), 6);
    /* The refused keys are free: a2 posts now with what the account holds. */
    assert_int_equal(post2(f, "a2", "spend", f->cash, f->alice_acct, "EUR", 410, 0, &id, &rep),
                     LEAL_OK);
    assert_false(rep);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 0);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* The WAL's frame count and how many of them are copied into the file, as
 * the wal-index (the -shm file) says: mxFrame at byte 16 of its header,
 * nBackfill at byte 96 (SQLite's file format, section 4.5), native order. */
static void wal_frames(struct fx *f, uint32_t *frames, uint32_t *copied)
{
    char shm[600];
    FILE *fp;
    unsigned char h[100];
    snprintf(shm, sizeof shm, "%s-shm", f->path);
    assert_non_null(fp = fopen(shm, "rb"));
    assert_int_equal(fread(h, 1, sizeof h, fp), sizeof h);
    fclose(fp);
    memcpy(frames, h + 16, 4);
    memcpy(copied, h + 96, 4);
}

/* An import (whole batches) leaves its commits in the WAL past the 1000
 * pages at which other writers checkpoint, and closing copies them all into
 * the file even while another handle keeps the ledger open. */
static void test_ledger_import_checkpoints_at_close(void **state)
{
    struct fx *f = *state;
    struct ledger *other = NULL;
    uint32_t frames, copied;
    char req[64];
    int64_t id;
    bool rep;
    assert_int_equal(ledger_open(f->path, &other), LEAL_OK);
    for (int b = 0, i = 0; b < 10; b++) {
        assert_int_equal(ledger_batch_begin_whole(f->l), LEAL_OK);
        for (int k = 0; k < 1500; k++, i++) {
            snprintf(req, sizeof req, "import-%d-with-a-longer-request-id", i);
            assert_int_equal(
                post2(f, req, "topup", f->alice_acct, f->topups, "EUR", 1, 0, &id, &rep), LEAL_OK);
        }
        assert_int_equal(ledger_batch_commit(f->l), LEAL_OK);
    }
    wal_frames(f, &frames, &copied);
    assert_true(frames > 1000);
    assert_int_equal(copied, 0);
    ledger_close(f->l);
    f->l = other;
    wal_frames(f, &frames, &copied);
    assert_true(frames > 1000);
    assert_int_equal(copied, frames);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 15000);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* A savepoint batch: a post refused after its first line moved a balance
 * leaves the balance the check sees as it was (the rolled-back line does not
 * count), and another connection's post between two transactions counts. */
static void test_ledger_negative_check_after_rollback_and_other_writer(void **state)
{
    struct fx *f = *state;
    struct ledger *other = NULL;
    int64_t id;
    bool rep;
    assert_int_equal(ledger_batch_begin(f->l), LEAL_OK);
    assert_int_equal(post2(f, "t1", "topup", f->alice_acct, f->topups, "EUR", 300, 0, &id, &rep),
                     LEAL_OK);
    /* Line 1 gives bob 500 (his balance moves), line 2 takes alice to -200. */
    assert_int_equal(
        post2(f, "x1", "transfer", f->bob_acct, f->alice_acct, "EUR", 500, 0, &id, &rep),
        LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 11 would hold -200 EUR");
    /* Bob holds 0, not 500: taking 1 from him is refused with -1. */
    assert_int_equal(post2(f, "x2", "spend", f->cash, f->bob_acct, "EUR", 1, 0, &id, &rep),
                     LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 12 would hold -1 EUR");
    assert_int_equal(
        post2(f, "x3", "transfer", f->bob_acct, f->alice_acct, "EUR", 300, 0, &id, &rep), LEAL_OK);
    assert_int_equal(ledger_batch_commit(f->l), LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 0);
    assert_int_equal(bal(f, f->bob_acct, "EUR"), 300);
    /* Another handle tops alice up; this one's next transaction sees it. */
    assert_int_equal(ledger_open(f->path, &other), LEAL_OK);
    {
        struct ledger *mine = f->l;
        f->l = other;
        assert_int_equal(post2(f, "o1", "topup", f->alice_acct, f->topups, "EUR", 70, 0, &id, &rep),
                         LEAL_OK);
        f->l = mine;
    }
    ledger_close(other);
    assert_int_equal(post2(f, "y1", "spend", f->cash, f->alice_acct, "EUR", 70, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(post2(f, "y2", "spend", f->cash, f->alice_acct, "EUR", 1, 0, &id, &rep),
                     LEAL_E_INSUFFICIENT_FUNDS);
    assert_string_equal(ledger_errmsg(f->l), "account 11 would hold -1 EUR");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* A read snapshot (ledger_read_begin): its queries see one state of the
 * ledger, another connection's post only after it ends; a write inside it,
 * a snapshot inside a batch or inside another is refused; after it, batches
 * and writes are as before. */
static void test_ledger_read_snapshot_sees_one_state(void **state)
{
    struct fx *f = *state;
    struct ledger *other = NULL;
    int64_t id;
    bool rep;
    assert_int_equal(post2(f, "s1", "topup", f->alice_acct, f->topups, "EUR", 300, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_read_begin(f->l), LEAL_OK);
    assert_int_equal(ledger_read_begin(f->l), LEAL_E_STATE);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 300);
    assert_int_equal(ledger_open(f->path, &other), LEAL_OK);
    {
        struct ledger *mine = f->l;
        f->l = other;
        assert_int_equal(post2(f, "s2", "topup", f->alice_acct, f->topups, "EUR", 70, 0, &id, &rep),
                         LEAL_OK);
        f->l = mine;
    }
    ledger_close(other);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 300);
    assert_int_equal(post2(f, "s3", "topup", f->alice_acct, f->topups, "EUR", 5, 0, &id, &rep),
                     LEAL_E_STATE);
    assert_string_equal(ledger_errmsg(f->l), "a read snapshot is open: end it before writing");
    assert_int_equal(ledger_batch_begin(f->l), LEAL_E_STATE);
    ledger_read_end(f->l);
    ledger_read_end(f->l); /* a second end does nothing */
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 370);
    assert_int_equal(ledger_batch_begin(f->l), LEAL_OK);
    assert_int_equal(ledger_read_begin(f->l), LEAL_E_STATE);
    assert_int_equal(post2(f, "s4", "topup", f->alice_acct, f->topups, "EUR", 5, 0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(ledger_batch_commit(f->l), LEAL_OK);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 375);
    assert_int_equal(count(f, "SELECT count(*) FROM entry WHERE request_id = 's3'"), 0);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_ledger_backup_is_a_consistent_copy(void **state)
{
    struct fx *f = *state;
    char dest[600];
    struct ledger *copy = NULL;
    int64_t id, v = 0;
    bool rep;
    assert_int_equal(post2(f, "a", "topup", f->alice_acct, f->topups, "EUR", 4321, 0, &id, &rep),
                     LEAL_OK);
    snprintf(dest, sizeof dest, "%s/copy.db", f->dir);
    assert_int_equal(ledger_backup(f->l, dest, false), LEAL_OK);
    assert_int_equal(ledger_open(dest, &copy), LEAL_OK);
    assert_int_equal(ledger_balance(copy, f->alice_acct, "EUR", &v), LEAL_OK);
    assert_int_equal(v, 4321);
    assert_int_equal(ledger_verify(copy, NULL), LEAL_OK);
    ledger_close(copy);
}

static int64_t count_at(const char *path, const char *sql);

/* The planted link is neither followed nor even touched: the old name is not used. */
static void assert_link_intact(const char *link, const char *target)
{
    char buf[700];
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    assert_int_equal(n, (ssize_t)strlen(target));
    buf[n] = '\0';
    assert_string_equal(buf, target);
}

static int file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    return (int)(st.st_mode & 07777);
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void assert_file_text(const char *path, const char *text)
{
    uint8_t *data = NULL;
    long n = test_read_file(path, &data);
    assert_int_equal(n, (long)strlen(text));
    assert_memory_equal(data, text, strlen(text));
    free(data);
}

/* Nothing but the expected names in dir: no scratch folder left behind. */
static int count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

/* Issue 10 §3: leal backup used the predictable DEST.tmp-PID, unlinked it
 * and let SQLite open it, so a symlink planted there between the unlink and
 * the open had the ledger written through it (by root); files took the
 * umask. Now: a private 0700 folder beside DEST, a 0600 file created
 * exclusively in it, no overwrite without replace, a missing folder named. */
static void test_ledger_backup_private_no_follow_no_overwrite(void **state)
{
    struct fx *f = *state;
    char dest[600], planted[700], victim[600], wal[700], missing[700], missing_dir[600];
    struct ledger *l = NULL, *copy = NULL;
    mode_t old = umask(0);
    int64_t id, v = 0;
    bool rep;

    /* A ledger made under umask 000 is 0600, and so are its -wal and -shm. */
    snprintf(dest, sizeof dest, "%s/u.db", f->dir);
    assert_int_equal(ledger_open(dest, &l), LEAL_OK);
    snprintf(wal, sizeof wal, "%s-wal", dest);
    assert_int_equal(file_mode(dest), 0600);
    assert_int_equal(file_mode(wal), 0600);
    snprintf(wal, sizeof wal, "%s-shm", dest);
    assert_int_equal(file_mode(wal), 0600);
    ledger_close(l);

    assert_int_equal(post2(f, "b", "topup", f->alice_acct, f->topups, "EUR", 1234, 0, &id, &rep),
                     LEAL_OK);
    snprintf(victim, sizeof victim, "%s/victim", f->dir);
    write_text(victim, "not a ledger");
    snprintf(dest, sizeof dest, "%s/copy.db", f->dir);
    snprintf(planted, sizeof planted, "%s.tmp-%ld", dest, (long)getpid());
    assert_int_equal(symlink(victim, planted), 0);
    assert_int_equal(ledger_backup(f->l, dest, false), LEAL_OK);
    assert_file_text(victim, "not a ledger");
    assert_link_intact(planted, victim);
    assert_int_equal(file_mode(dest), 0600);
    assert_int_equal(ledger_open(dest, &copy), LEAL_OK);
    assert_int_equal(ledger_balance(copy, f->alice_acct, "EUR", &v), LEAL_OK);
    assert_int_equal(v, 1234);
    ledger_close(copy);
    assert_int_equal(count_entries(f->dir, ".leal-tmp-"), 0);

    /* An existing file is kept unless the caller says replace. */
    write_text(dest, "older copy");
    assert_int_equal(ledger_backup(f->l, dest, false), LEAL_E_EXISTS);
    assert_non_null(strstr(ledger_errmsg(f->l), dest));
    assert_file_text(dest, "older copy");
    assert_int_equal(ledger_backup(f->l, dest, true), LEAL_OK);
    assert_int_equal(file_mode(dest), 0600);
    assert_int_equal(ledger_open(dest, &copy), LEAL_OK);
    ledger_close(copy);

    /* A folder that is not there is named, and not created. */
    snprintf(missing_dir, sizeof missing_dir, "%s/usb", f->dir);
    snprintf(missing, sizeof missing, "%s/copy.db", missing_dir);
    assert_int_equal(ledger_backup(f->l, missing, false), LEAL_E_NOT_FOUND);
    assert_non_null(strstr(ledger_errmsg(f->l), "folder"));
    assert_non_null(strstr(ledger_errmsg(f->l), missing_dir));
    assert_int_equal(access(missing_dir, F_OK), -1);
    assert_int_equal(count_entries(f->dir, ".leal-tmp-"), 0);
    umask(old);
}

/* The schema-migration copy: the same discipline (it runs as whoever opens
 * an old ledger, often root at an upgrade). */
static void test_ledger_migration_copy_private_no_follow(void **state)
{
    struct fx *f = *state;
    char old_db[600], bak[700], planted[800], victim[600];
    struct ledger *l = NULL;
    mode_t old = umask(0);

    snprintf(old_db, sizeof old_db, "%s/v2.db", f->dir);
    assert_int_equal(ledger_create_at_version(old_db, 2), LEAL_OK);
    assert_int_equal(file_mode(old_db), 0600);
    snprintf(bak, sizeof bak, "%s.schema-v2.bak", old_db);
    snprintf(victim, sizeof victim, "%s/victim", f->dir);
    write_text(victim, "not a ledger");
    snprintf(planted, sizeof planted, "%s.tmp-%ld", bak, (long)getpid());
    assert_int_equal(symlink(victim, planted), 0);
    assert_int_equal(ledger_open(old_db, &l), LEAL_OK);
    ledger_close(l);
    assert_file_text(victim, "not a ledger");
    assert_link_intact(planted, victim);
    assert_int_equal(file_mode(bak), 0600);
    assert_int_equal(count_at(bak, "PRAGMA user_version"), 2);
    assert_int_equal(count_entries(f->dir, ".leal-tmp-"), 0);
    umask(old);
}

struct events {
    int n;
    struct ledger_card_event e[8];
};

static int collect_event(void *ctx, const struct ledger_card_event *e)
{
    struct events *x = ctx;
    if (x->n < 8)
        x->e[x->n] = *e;
    x->n++;
    return 0;
}

static void add_card(struct fx *f, int64_t card_id, enum ledger_card_status status)
{
    struct ledger_card c;
    memset(&c, 0, sizeof c);
    c.card_id = card_id;
    c.account_id = f->alice_acct;
    c.uid_len = 4;
    memcpy(c.uid, "\x04\xa2\x19\x5c", 4);
    c.tech = LEDGER_TECH_CLASSIC_1K;
    c.status = status;
    c.keyset_version = 1;
    c.layout_version = 1;
    assert_int_equal(ledger_card_add(f->l, &c), LEAL_OK);
}

static void test_ledger_card_history_and_hotlist(void **state)
{
    struct fx *f = *state;
    struct events h = {0}, hot = {0};
    struct ledger_card got;
    add_card(f, 111, LEDGER_CARD_PENDING);
    add_card(f, 222, LEDGER_CARD_ACTIVE);
    add_card(f, 333, LEDGER_CARD_ACTIVE);
    assert_int_equal(ledger_card_set_status(f->l, 111, LEDGER_CARD_ACTIVE), LEAL_OK);
    assert_int_equal(
        ledger_card_change_status(f->l, 111, LEDGER_CARD_BLOCKED, "lost at the gym", "marta"),
        LEAL_OK);
    assert_int_equal(
        ledger_card_change_status(f->l, 222, LEDGER_CARD_REPLACED, "replaced by card 333", "desk"),
        LEAL_OK);
    /* A refused change and bad text record nothing. */
    assert_int_equal(ledger_card_change_status(f->l, 222, LEDGER_CARD_ACTIVE, "x", "desk"),
                     LEAL_E_CARD_STATUS_CHANGE);
    assert_int_equal(ledger_card_change_status(f->l, 111, LEDGER_CARD_ACTIVE, "a\nb", "desk"),
                     LEAL_E_TEXT);
    assert_int_equal(ledger_card_change_status(f->l, 111, LEDGER_CARD_ACTIVE, NULL, "desk"),
                     LEAL_E_ARG);
    assert_int_equal(ledger_card_history(f->l, 111, collect_event, &h), LEAL_OK);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.e[0].status, LEDGER_CARD_PENDING);
    assert_string_equal(h.e[0].reason, "issued");
    assert_int_equal(h.e[1].status, LEDGER_CARD_ACTIVE);
    assert_string_equal(h.e[1].reason, "");
    assert_int_equal(h.e[2].status, LEDGER_CARD_BLOCKED);
    assert_string_equal(h.e[2].reason, "lost at the gym");
    assert_string_equal(h.e[2].operator_name, "marta");
    assert_int_equal(h.e[2].card_id, 111);
    assert_true(h.e[0].id < h.e[1].id && h.e[1].id < h.e[2].id);
    assert_int_equal(ledger_card_history(f->l, 999, collect_event, &h), LEAL_E_UNKNOWN_ID);
    /* The hot list: 111 blocked and 222 replaced, each with its newest event;
     * 333 (active) is not on it, nor is anything of another program. */
    assert_int_equal(ledger_card_hotlist(f->l, f->program, collect_event, &hot), LEAL_OK);
    assert_int_equal(hot.n, 2);
    assert_int_equal(hot.e[0].card_id, 111);
    assert_int_equal(hot.e[0].status, LEDGER_CARD_BLOCKED);
    assert_string_equal(hot.e[0].reason, "lost at the gym");
    assert_int_equal(hot.e[1].card_id, 222);
    assert_int_equal(hot.e[1].status, LEDGER_CARD_REPLACED);
    assert_string_equal(hot.e[1].reason, "replaced by card 333");
    hot.n = 0;
    assert_int_equal(ledger_card_hotlist(f->l, f->program + 1, collect_event, &hot), LEAL_OK);
    assert_int_equal(hot.n, 0);
    /* Unblocked, the card leaves the hot list. */
    assert_int_equal(ledger_card_change_status(f->l, 111, LEDGER_CARD_ACTIVE, "found", "marta"),
                     LEAL_OK);
    hot.n = 0;
    assert_int_equal(ledger_card_hotlist(f->l, f->program, collect_event, &hot), LEAL_OK);
    assert_int_equal(hot.n, 1);
    assert_int_equal(hot.e[0].card_id, 222);
    /* What the desk last read. */
    assert_int_equal(ledger_card_find_by_id(f->l, 333, &got), LEAL_OK);
    assert_int_equal(got.seen_at, 0);
    assert_int_equal(ledger_card_set_seen(f->l, 333, 7, 1250, 40), LEAL_OK);
    assert_int_equal(ledger_card_find_by_id(f->l, 333, &got), LEAL_OK);
    assert_true(got.seen_at > 0);
    assert_int_equal(got.seen_seq, 7);
    assert_int_equal(got.seen_purse_cents, 1250);
    assert_int_equal(got.seen_points, 40);
    assert_int_equal(ledger_card_set_seen(f->l, 444, 7, 1250, 40), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_card_set_seen(f->l, 333, 7, -1, 40), LEAL_E_ARG);
    /* With the mark of that state (issue 10 §1). */
    assert_false(got.has_seen_mark);
    assert_int_equal(
        ledger_card_set_seen_mark(f->l, 333, 8, 1000, 41, (const uint8_t *)"0123456789abcdef"),
        LEAL_OK);
    assert_int_equal(ledger_card_find_by_id(f->l, 333, &got), LEAL_OK);
    assert_int_equal(got.seen_seq, 8);
    assert_int_equal(got.seen_purse_cents, 1000);
    assert_int_equal(got.seen_points, 41);
    assert_true(got.has_seen_mark);
    assert_memory_equal(got.seen_mark, "0123456789abcdef", 16);
    assert_int_equal(
        ledger_card_set_seen_mark(f->l, 444, 8, 1000, 41, (const uint8_t *)"0123456789abcdef"),
        LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* The desk's verdict on a card that lies about money: an active card is
 * blocked with why; a card already off keeps its status and gets why once. */
/* A desk read of a card that has not changed since it was last seen writes
 * nothing: seen_at keeps the time that state was first seen and the WAL gets
 * no frame (nothing to commit, nothing to sync). Any change of seq, purse,
 * points or mark is a new state: seen_at becomes now. */
static void test_ledger_card_seen_unchanged_writes_nothing(void **state)
{
    struct fx *f = *state;
    struct ledger_card got;
    uint32_t frames, frames_after, copied;
    const uint8_t *mark = (const uint8_t *)"0123456789abcdef";
    add_card(f, 333, LEDGER_CARD_ACTIVE);
    assert_int_equal(ledger_card_set_seen_mark(f->l, 333, 8, 1000, 41, mark), LEAL_OK);
    sql_exec(f->path, "UPDATE card SET seen_at = 1 WHERE card_id = 333");
    wal_frames(f, &frames, &copied);
    assert_int_equal(ledger_card_set_seen_mark(f->l, 333, 8, 1000, 41, mark), LEAL_OK);
    assert_int_equal(ledger_card_set_seen(f->l, 333, 8, 1000, 41), LEAL_OK);
    wal_frames(f, &frames_after, &copied);
    assert_int_equal(frames_after, frames);
    assert_int_equal(ledger_card_find_by_id(f->l, 333, &got), LEAL_OK);
    assert_int_equal(got.seen_at, 1);
    assert_int_equal(got.seen_seq, 8);
    assert_memory_equal(got.seen_mark, mark, 16);
    /* Still an unknown card for both. */
    assert_int_equal(ledger_card_set_seen(f->l, 444, 8, 1000, 41), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_card_set_seen_mark(f->l, 444, 8, 1000, 41, mark), LEAL_E_UNKNOWN_ID);
    /* A new mark, seq, purse or points: a new state, seen now. */
    assert_int_equal(
        ledger_card_set_seen_mark(f->l, 333, 8, 1000, 41, (const uint8_t *)"fedcba9876543210"),
        LEAL_OK);
    assert_int_equal(ledger_card_find_by_id(f->l, 333, &got), LEAL_OK);
    assert_true(got.seen_at > 1);
    assert_memory_equal(got.seen_mark, "fedcba9876543210", 16);
    for (int i = 0; i < 3; i++) {
        sql_exec(f->path, "UPDATE card SET seen_at = 1 WHERE card_id = 333");
        assert_int_equal(
            ledger_card_set_seen(f->l, 333, 8 + (i == 0), 1000 - (i == 1), 41 + (i == 2)), LEAL_OK);
        assert_int_equal(ledger_card_find_by_id(f->l, 333, &got), LEAL_OK);
        assert_true(got.seen_at > 1);
        assert_int_equal(got.seen_seq, 8 + (i == 0));
        assert_int_equal(got.seen_purse_cents, 1000 - (i == 1));
        assert_int_equal(got.seen_points, 41 + (i == 2));
    }
}

static void test_ledger_card_verdict(void **state)
{
    struct fx *f = *state;
    struct events h = {0};
    struct ledger_card got;
    bool blocked = true;
    add_card(f, 111, LEDGER_CARD_PENDING);
    add_card(f, 222, LEDGER_CARD_ACTIVE);
    add_card(f, 333, LEDGER_CARD_REPLACED);
    assert_int_equal(ledger_card_verdict(f->l, 111, "forged", "desk", &blocked),
                     LEAL_E_CARD_STATUS_CHANGE);
    assert_false(blocked);
    assert_int_equal(ledger_card_verdict(f->l, 222, "", "desk", &blocked), LEAL_E_ARG);
    assert_int_equal(ledger_card_verdict(f->l, 222, "a\nb", "desk", &blocked), LEAL_E_TEXT);
    assert_int_equal(ledger_card_verdict(f->l, 999, "forged", "desk", &blocked), LEAL_E_UNKNOWN_ID);
    assert_int_equal(
        ledger_card_verdict(f->l, 222, "its log holds a forged top-up", "marta", &blocked),
        LEAL_OK);
    assert_true(blocked);
    assert_int_equal(ledger_card_find_by_id(f->l, 222, &got), LEAL_OK);
    assert_int_equal(got.status, LEDGER_CARD_BLOCKED);
    /* Said again: nothing new. Something else: one more event, still blocked. */
    assert_int_equal(
        ledger_card_verdict(f->l, 222, "its log holds a forged top-up", "marta", &blocked),
        LEAL_OK);
    assert_false(blocked);
    assert_int_equal(ledger_card_verdict(f->l, 222, "its purse holds more", "marta", &blocked),
                     LEAL_OK);
    assert_false(blocked);
    assert_int_equal(ledger_card_history(f->l, 222, collect_event, &h), LEAL_OK);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.e[1].status, LEDGER_CARD_BLOCKED);
    assert_string_equal(h.e[1].reason, "its log holds a forged top-up");
    assert_string_equal(h.e[1].operator_name, "marta");
    assert_int_equal(h.e[2].status, LEDGER_CARD_BLOCKED);
    assert_string_equal(h.e[2].reason, "its purse holds more");
    /* A replaced card stays replaced; why goes into its history. */
    assert_int_equal(ledger_card_verdict(f->l, 333, "still holds 20.00", "desk", &blocked),
                     LEAL_OK);
    assert_false(blocked);
    assert_int_equal(ledger_card_find_by_id(f->l, 333, &got), LEAL_OK);
    assert_int_equal(got.status, LEDGER_CARD_REPLACED);
    h.n = 0;
    assert_int_equal(ledger_card_history(f->l, 333, collect_event, &h), LEAL_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.e[1].status, LEDGER_CARD_REPLACED);
    assert_string_equal(h.e[1].reason, "still holds 20.00");
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* A version-2 file with a card gains the card's history (one event for its
 * status at the upgrade) and no seen values. */
static void test_ledger_schema_3_upgrade_keeps_cards(void **state)
{
    struct fx *f = *state;
    char path[600];
    struct ledger *l = NULL;
    struct events h = {0};
    struct ledger_card got;
    snprintf(path, sizeof path, "%s/v2.db", f->dir);
    assert_int_equal(ledger_create_at_version(path, 2), LEAL_OK);
    sql_exec(path, "INSERT INTO program(id, code, name, kind, points_per_euro_milli, "
                   "points_expiry_days, created_at) VALUES (9, 'v2', 'Old', 'single', 1000, 0, 1);"
                   "INSERT INTO account(id, program_id, kind, name, created_at) "
                   "VALUES (5, 9, 'gift', NULL, 1);"
                   "INSERT INTO card(card_id, account_id, uid, tech, status, keyset_version, "
                   "layout_version, last_counter, issued_at, updated_at) VALUES "
                   "(777, 5, x'04a2195c', 'classic-1k', 'blocked', 1, 1, 3, 100, 200)");
    assert_int_equal(ledger_open(path, &l), LEAL_OK);
    assert_int_equal(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
    assert_int_equal(ledger_card_history(l, 777, collect_event, &h), LEAL_OK);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.e[0].status, LEDGER_CARD_BLOCKED);
    assert_int_equal(h.e[0].at, 200);
    assert_string_equal(h.e[0].reason, "recorded before card history was kept");
    assert_int_equal(ledger_card_find_by_id(l, 777, &got), LEAL_OK);
    assert_int_equal(got.seen_at, 0);
    assert_int_equal(got.last_counter, 3);
    ledger_close(l);
}

static int64_t count_at(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A version-2 file (before stored-value settings) with a program, a card and
 * money: copied to .schema-v2.bak, then upgraded; the program gets the old
 * constant cap and Classic stored value off; nothing else moves. */
static void test_ledger_upgrades_v2_to_purse_settings(void **state)
{
    struct fx *f = *state;
    char old[600], bak[700];
    struct ledger *l = NULL;
    struct ledger_program p;
    struct ledger_pending_topup t;
    bool found = true;

    snprintf(old, sizeof old, "%s/v2.db", f->dir);
    assert_int_equal(ledger_create_at_version(old, 2), LEAL_OK);
    sql_exec(old,
             "INSERT INTO program(id, code, name, kind, points_per_euro_milli, "
             "points_expiry_days, created_at) VALUES (9, 'v2', 'Old', 'single', 1000, 0, 1);"
             "INSERT INTO account(id, program_id, kind, name, created_at) VALUES (1, 9, "
             "'program', 'cash', 1);"
             "INSERT INTO customer(id, program_id, created_at) VALUES (1, 9, 1);"
             "INSERT INTO account(id, program_id, customer_id, kind, created_at) VALUES (2, 9, "
             "1, 'customer', 1);"
             "INSERT INTO balance VALUES (2, 'EUR', 2550), (1, 'EUR', -2550);"
             "INSERT INTO card(card_id, account_id, uid, tech, status, keyset_version, "
             "layout_version, issued_at, updated_at) VALUES (5, 2, x'04a2195c', "
             "'classic-1k', 'active', 1, 1, 1, 1)");
    assert_int_equal(count_at(old, "PRAGMA user_version"), 2);
    assert_int_equal(ledger_open(old, &l), LEAL_OK);
    assert_int_equal(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
    assert_int_equal(ledger_program_get(l, 9, &p), LEAL_OK);
    assert_string_equal(p.name, "Old");
    assert_int_equal(p.purse_cap_cents, 100000);
    assert_int_equal(p.classic_stored_value_cap_cents, 0);
    assert_int_equal(ledger_pending_topup_get(l, 5, &t, &found), LEAL_OK);
    assert_false(found);
    /* The old rows still satisfy the new rules, and the new table works. */
    assert_int_equal(ledger_program_set_purse(l, 9, 20000, 5000), LEAL_OK);
    ledger_close(l);
    assert_int_equal(count_at(old, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION);
    assert_int_equal(count_at(old, "SELECT classic_stored_value_cap_cents FROM program"), 5000);
    assert_int_equal(count_at(old, "SELECT amount FROM balance WHERE account_id = 2"), 2550);
    snprintf(bak, sizeof bak, "%s.schema-v2.bak", old);
    assert_int_equal(count_at(bak, "PRAGMA user_version"), 2);
    assert_int_equal(count_at(bak, "SELECT count(*) FROM program WHERE id = 9"), 1);
    assert_int_equal(count_at(bak, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                   "'card_pending_topup'"),
                     0);
}

/* Key versions per card (schema 7): a version-6 file with a card is upgraded
 * and the card has none recorded; versions are set, overwritten per role, read
 * back and counted per program; a card or terminal the ledger does not know is
 * named. */
static void test_ledger_card_key_versions(void **state)
{
    struct fx *f = *state;
    char old[600];
    struct ledger *l = NULL;
    uint8_t v[LEDGER_KEY_ROLES], want[LEDGER_KEY_ROLES] = {0};
    int64_t cards, unknown, program;

    snprintf(old, sizeof old, "%s/v6.db", f->dir);
    assert_int_equal(ledger_create_at_version(old, 6), LEAL_OK);
    sql_exec(old,
             "INSERT INTO program(id, code, name, kind, points_per_euro_milli, "
             "points_expiry_days, created_at) VALUES (9, 'v4', 'Old', 'single', 1000, 0, 1);"
             "INSERT INTO customer(id, program_id, created_at) VALUES (1, 9, 1);"
             "INSERT INTO account(id, program_id, customer_id, kind, created_at) VALUES (2, 9, "
             "1, 'customer', 1);"
             "INSERT INTO store(id, program_id, code, name, timezone, created_at) VALUES (4, 9, "
             "'s', 'S', 'UTC', 1);"
             "INSERT INTO terminal(id, store_id, name, created_at) VALUES (12, 4, 'till', 1);"
             "INSERT INTO card(card_id, account_id, uid, tech, status, keyset_version, "
             "layout_version, issued_at, updated_at) VALUES (5, 2, x'04a2195c', "
             "'desfire-ev1', 'active', 1, 1, 1, 1), (6, 2, x'04a2195d', 'classic-1k', 'lost', "
             "1, 1, 1, 1)");
    assert_int_equal(ledger_open(old, &l), LEAL_OK);
    assert_int_equal(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
    assert_int_equal(ledger_card_keys_get(l, 5, v), LEAL_OK);
    assert_memory_equal(v, want, sizeof want);
    /* Card 5 is live with nothing recorded; lost card 6 is not counted. */
    assert_int_equal(ledger_card_keys_count(l, 9, 4, 1, &cards, &unknown), LEAL_OK);
    assert_int_equal(cards, 1);
    assert_int_equal(unknown, 1);
    want[1 - 1] = 1;
    want[2 - 1] = 3;
    want[4 - 1] = 2;
    assert_int_equal(ledger_card_keys_set(l, 5, want), LEAL_OK);
    memset(want, 0, sizeof want);
    want[4 - 1] = 3; /* only the terminal key changes */
    assert_int_equal(ledger_card_keys_set(l, 5, want), LEAL_OK);
    assert_int_equal(ledger_card_keys_get(l, 5, v), LEAL_OK);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 3);
    assert_int_equal(v[2], 0);
    assert_int_equal(v[3], 3);
    for (int i = 4; i < LEDGER_KEY_ROLES; i++)
        assert_int_equal(v[i], 0);
    assert_int_equal(ledger_card_keys_count(l, 9, 4, 2, &cards, &unknown), LEAL_OK);
    assert_int_equal(cards, 0);
    assert_int_equal(ledger_card_keys_count(l, 9, 4, 3, &cards, &unknown), LEAL_OK);
    assert_int_equal(cards, 1);
    assert_int_equal(unknown, 0);
    assert_int_equal(ledger_card_keys_count(l, 10, 4, 3, &cards, &unknown), LEAL_OK);
    assert_int_equal(cards, 0);
    assert_int_equal(ledger_card_keys_set(l, 77, want), LEAL_E_UNKNOWN_ID);
    assert_int_equal(count_at(old, "SELECT count(*) FROM card_key WHERE card_id = 77"), 0);
    assert_int_equal(ledger_terminal_program(l, 12, &program), LEAL_OK);
    assert_int_equal(program, 9);
    assert_int_equal(ledger_terminal_program(l, 13, &program), LEAL_E_UNKNOWN_ID);
    assert_int_equal(program, 0);
    /* A Classic identity being rewritten: found by the UID of a live card
     * only, replaced by the next, dropped. */
    {
        uint8_t span[128], got[128];
        struct ledger_span kept = {got, sizeof got, 0}, short_kept = {got, 64, 0};
        int64_t id;
        memset(span, 0xA5, sizeof span);
        assert_int_equal(ledger_card_rewrite_put(l, 6, span, sizeof span), LEAL_OK);
        assert_int_equal(
            ledger_card_rewrite_find(l, (const uint8_t *)"\x04\xa2\x19\x5d", 4, 0, &id, &kept),
            LEAL_OK);
        assert_int_equal(id, 0); /* card 6 is lost */
        assert_int_equal(kept.len, 0);
        assert_int_equal(ledger_card_rewrite_put(l, 5, span, sizeof span), LEAL_OK);
        span[0] = 0x5A;
        assert_int_equal(ledger_card_rewrite_put(l, 5, span, sizeof span), LEAL_OK);
        assert_int_equal(
            ledger_card_rewrite_find(l, (const uint8_t *)"\x04\xa2\x19\x5c", 4, 0, &id, &kept),
            LEAL_OK);
        assert_int_equal(id, 5);
        assert_int_equal(kept.len, sizeof span);
        assert_memory_equal(got, span, sizeof span);
        assert_int_equal(
            ledger_card_rewrite_find(l, (const uint8_t *)"\x04\xa2\x19\x5c", 4, 1, &id, &kept),
            LEAL_OK);
        assert_int_equal(id, 0); /* one card with this UID has one */
        assert_int_equal(ledger_card_rewrite_find(l, (const uint8_t *)"\x04\xa2\x19\x5c", 4, 0, &id,
                                                  &short_kept),
                         LEAL_OK);
        assert_int_equal(id, 0); /* too long for the caller's buffer: not handed out */
        assert_int_equal(ledger_card_rewrite_drop(l, 5), LEAL_OK);
        assert_int_equal(
            ledger_card_rewrite_find(l, (const uint8_t *)"\x04\xa2\x19\x5c", 4, 0, &id, &kept),
            LEAL_OK);
        assert_int_equal(id, 0);
    }
    ledger_close(l);
}

/* Purse caps: defaults, bounds, changes, and a Classic cap never lowered below
 * what a Classic card of the program may hold. */
static void test_ledger_program_purse_caps(void **state)
{
    struct fx *f = *state;
    struct ledger_program p = {.code = "cap",
                               .name = "Caps",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .purse_cap_cents = 20000,
                               .classic_stored_value_cap_cents = 5000};
    struct ledger_program got;
    struct ledger_card card;
    int64_t prog, acct, cust, cash, id;
    bool rep;

    assert_int_equal(ledger_program_create(f->l, &p, &prog), LEAL_OK);
    assert_int_equal(ledger_program_get(f->l, prog, &got), LEAL_OK);
    assert_int_equal(got.purse_cap_cents, 20000);
    assert_int_equal(got.classic_stored_value_cap_cents, 5000);
    /* The fixture's program was made without caps: a purse cap of 0. */
    assert_int_equal(ledger_program_get(f->l, f->program, &got), LEAL_OK);
    assert_int_equal(got.purse_cap_cents, 0);
    assert_int_equal(got.classic_stored_value_cap_cents, 0);

    /* Out of range: refused, nothing written. */
    p.code[0] = 'x';
    p.classic_stored_value_cap_cents = 20001;
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_E_AMOUNT_RANGE);
    p.classic_stored_value_cap_cents = -1;
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_E_AMOUNT_RANGE);
    p.classic_stored_value_cap_cents = 0;
    p.purse_cap_cents = LEDGER_PURSE_CAP_MAX + INT64_C(1);
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(count(f, "SELECT count(*) FROM program"), 2);
    assert_int_equal(ledger_program_set_purse(f->l, prog, 1000, 1001), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(ledger_program_set_purse(f->l, prog, -1, 0), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(ledger_program_set_purse(f->l, 999, 1000, 0), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_program_get(f->l, prog, &got), LEAL_OK);
    assert_int_equal(got.purse_cap_cents, 20000);
    assert_int_equal(got.classic_stored_value_cap_cents, 5000);
    /* The schema refuses it too, whoever writes. */
    {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "UPDATE program SET classic_stored_value_cap_cents = "
                                      "purse_cap_cents + 1 WHERE code = 'cap'",
                                      NULL, NULL, NULL),
                         SQLITE_CONSTRAINT);
        sqlite3_close(db);
    }
    assert_int_equal(ledger_program_set_purse(f->l, prog, LEDGER_PURSE_CAP_MAX, 0), LEAL_OK);
    assert_int_equal(ledger_program_set_purse(f->l, prog, 20000, 5000), LEAL_OK);

    /* An account of the program with a Classic card and 40.00 euros. */
    {
        struct ledger_customer c;
        memset(&c, 0, sizeof c);
        c.program_id = prog;
        snprintf(c.name, sizeof c.name, "Clara");
        assert_int_equal(ledger_customer_add(f->l, &c, &cust, &acct), LEAL_OK);
    }
    assert_int_equal(ledger_program_account(f->l, prog, "cash", &cash), LEAL_OK);
    {
        struct ledger_line lines[2];
        struct ledger_entry e;
        memset(lines, 0, sizeof lines);
        memset(&e, 0, sizeof e);
        lines[0].account_id = acct;
        lines[1].account_id = cash;
        snprintf(lines[0].asset, sizeof lines[0].asset, "EUR");
        snprintf(lines[1].asset, sizeof lines[1].asset, "EUR");
        lines[0].amount = 4000;
        lines[1].amount = -4000;
        e.program_id = prog;
        e.kind = "topup";
        e.request_id = "caps:1";
        e.operator_name = "Marta";
        e.reason = "test";
        e.lines = lines;
        e.nlines = 2;
        assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
    }
    memset(&card, 0, sizeof card);
    card.card_id = 4242;
    card.account_id = acct;
    card.uid_len = 4;
    memcpy(card.uid, "\x04\x01\x02\x03", 4);
    card.tech = LEDGER_TECH_CLASSIC_1K;
    card.status = LEDGER_CARD_ACTIVE;
    assert_int_equal(ledger_card_add(f->l, &card), LEAL_OK);
    /* Lowering below 40.00 is refused; to 40.00 or raising is fine; a DESFire
     * account is not counted, nor the purse cap alone. */
    assert_int_equal(ledger_program_set_purse(f->l, prog, 20000, 3999), LEAL_E_PURSE_CAP_HELD);
    assert_string_equal(ledger_errmsg(f->l),
                        "1 account(s) with a Classic card of program 2 hold more than 3999 cents");
    assert_int_equal(ledger_program_set_purse(f->l, prog, 20000, 0), LEAL_E_PURSE_CAP_HELD);
    assert_int_equal(ledger_program_get(f->l, prog, &got), LEAL_OK);
    assert_int_equal(got.classic_stored_value_cap_cents, 5000);
    assert_int_equal(ledger_program_set_purse(f->l, prog, 4000, 4000), LEAL_OK);
    assert_int_equal(ledger_program_set_purse(f->l, prog, 30000, 10000), LEAL_OK);
    assert_int_equal(ledger_card_set_status(f->l, 4242, LEDGER_CARD_LOST), LEAL_OK);
    assert_int_equal(ledger_program_set_purse(f->l, prog, 1000, 0), LEAL_OK);
    assert_int_equal(ledger_program_get(f->l, prog, &got), LEAL_OK);
    assert_int_equal(got.purse_cap_cents, 1000);
    assert_int_equal(got.classic_stored_value_cap_cents, 0);
}

/* A Classic top-up in flight: recorded, settled exactly once (entry and intent
 * gone in one transaction), or dropped. */
/* Card and ledger drift (issue 10 §5): the account's point changes a card
 * does not carry are the ones after its synced entry the desk did not make
 * for a card; a sync in flight settles (every live card of the account then
 * carries them) or drops, once. */
static void test_ledger_card_drift_and_sync(void **state)
{
    struct fx *f = *state;
    struct ledger_pending_sync p, got;
    struct ledger_drift d;
    struct ledger_card card, c2;
    int64_t id, first;
    bool found, rep;

    add_card(f, 41, LEDGER_CARD_ACTIVE);
    add_card(f, 42, LEDGER_CARD_ACTIVE);
    assert_int_equal(ledger_card_drift(f->l, 41, &d), LEAL_OK);
    assert_int_equal(d.points, 0);
    assert_int_equal(d.upto, 0);
    assert_int_equal(ledger_card_drift(f->l, 999, &d), LEAL_E_UNKNOWN_ID);
    /* By hand, +70; the desk's own (card:) entry and euros do not count. */
    assert_int_equal(
        post2(f, "hand-1", "adjust", f->alice_acct, f->points_issued, "PTS", 70, 0, &first, &rep),
        LEAL_OK);
    assert_int_equal(post2(f, "card:41:welcome", "earn", f->alice_acct, f->points_issued, "PTS", 5,
                           0, &id, &rep),
                     LEAL_OK);
    assert_int_equal(
        post2(f, "hand-2", "adjust", f->alice_acct, f->adjustments, "EUR", 300, 0, &id, &rep),
        LEAL_OK);
    assert_int_equal(
        post2(f, "hand-3", "adjust", f->points_issued, f->alice_acct, "PTS", 20, 0, &id, &rep),
        LEAL_OK);
    assert_int_equal(ledger_card_drift(f->l, 41, &d), LEAL_OK);
    assert_int_equal(d.points, 50);
    assert_int_equal(d.entries, 2);
    assert_int_equal(d.upto, id);
    assert_string_equal(d.newest_kind, "adjust");
    assert_true(d.newest_at > 0);
    /* A sync in flight: its rules, then settled once, for both live cards. */
    memset(&p, 0, sizeof p);
    p.card_id = 41;
    p.seq_before = 3;
    p.seq_after = 5;
    p.points_after = 55;
    p.points = 50;
    p.upto_entry = id;
    assert_int_equal(ledger_pending_sync_add(f->l, &p), LEAL_E_ARG);
    p.seq_after = 4;
    p.points = 0;
    assert_int_equal(ledger_pending_sync_add(f->l, &p), LEAL_E_ARG);
    p.points = 50;
    p.card_id = 999;
    assert_int_equal(ledger_pending_sync_add(f->l, &p), LEAL_E_UNKNOWN_ID);
    p.card_id = 41;
    assert_int_equal(ledger_pending_sync_add(f->l, &p), LEAL_OK);
    assert_int_equal(ledger_pending_sync_add(f->l, &p), LEAL_E_DUPLICATE_ID);
    assert_int_equal(ledger_pending_sync_get(f->l, 41, &got, &found), LEAL_OK);
    assert_true(found);
    assert_int_equal(got.seq_before, 3);
    assert_int_equal(got.seq_after, 4);
    assert_int_equal(got.points_after, 55);
    assert_int_equal(got.points, 50);
    assert_int_equal(got.upto_entry, id);
    assert_int_equal(ledger_pending_sync_settle(f->l, 41), LEAL_OK);
    assert_int_equal(ledger_pending_sync_settle(f->l, 41), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_pending_sync_get(f->l, 41, &got, &found), LEAL_OK);
    assert_false(found);
    assert_int_equal(ledger_card_find_by_id(f->l, 41, &card), LEAL_OK);
    assert_int_equal(ledger_card_find_by_id(f->l, 42, &c2), LEAL_OK);
    assert_int_equal(card.synced_entry, id);
    assert_int_equal(c2.synced_entry, id);
    assert_int_equal(ledger_card_drift(f->l, 41, &d), LEAL_OK);
    assert_int_equal(d.points, 0);
    /* Dropped: nothing carried. */
    assert_int_equal(
        post2(f, "hand-4", "adjust", f->alice_acct, f->points_issued, "PTS", 9, 0, &id, &rep),
        LEAL_OK);
    p.points = 9;
    p.points_after = 64;
    p.upto_entry = id;
    assert_int_equal(ledger_pending_sync_add(f->l, &p), LEAL_OK);
    assert_int_equal(ledger_pending_sync_drop(f->l, 41), LEAL_OK);
    assert_int_equal(ledger_pending_sync_drop(f->l, 41), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_card_drift(f->l, 42, &d), LEAL_OK);
    assert_int_equal(d.points, 9);
    /* A card that carries everything so far. */
    assert_int_equal(ledger_card_synced_now(f->l, 42), LEAL_OK);
    assert_int_equal(ledger_card_drift(f->l, 42, &d), LEAL_OK);
    assert_int_equal(d.points, 0);
    assert_int_equal(ledger_card_synced_now(f->l, 999), LEAL_E_UNKNOWN_ID);
    (void)first;
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_ledger_pending_topup(void **state)
{
    struct fx *f = *state;
    struct ledger_pending_topup t, got;
    struct ledger_card card;
    struct ledger_line lines[2];
    struct ledger_entry e;
    int64_t id;
    bool found, rep;

    memset(&card, 0, sizeof card);
    card.card_id = 31;
    card.account_id = f->alice_acct;
    card.uid_len = 4;
    memcpy(card.uid, "\x04\x01\x02\x03", 4);
    card.tech = LEDGER_TECH_CLASSIC_1K;
    card.status = LEDGER_CARD_ACTIVE;
    assert_int_equal(ledger_card_add(f->l, &card), LEAL_OK);
    memset(&t, 0, sizeof t);
    t.card_id = 31;
    t.seq_before = 4;
    t.seq_after = 5;
    t.purse_after = 1500;
    t.cents = 1000;
    snprintf(t.request_id, sizeof t.request_id, "card:31:seq:5");
    /* Rules: seq steps by one, money adds up, the card exists. */
    t.seq_after = 6;
    assert_int_equal(ledger_pending_topup_add(f->l, &t), LEAL_E_ARG);
    t.seq_after = 5;
    t.cents = 1501;
    assert_int_equal(ledger_pending_topup_add(f->l, &t), LEAL_E_ARG);
    t.cents = 1000;
    t.card_id = 32;
    assert_int_equal(ledger_pending_topup_add(f->l, &t), LEAL_E_UNKNOWN_ID);
    t.card_id = 31;
    assert_int_equal(ledger_pending_topup_add(f->l, &t), LEAL_OK);
    assert_int_equal(ledger_pending_topup_add(f->l, &t), LEAL_E_DUPLICATE_ID);
    assert_int_equal(ledger_pending_topup_get(f->l, 31, &got, &found), LEAL_OK);
    assert_true(found);
    assert_int_equal(got.seq_before, 4);
    assert_int_equal(got.seq_after, 5);
    assert_int_equal(got.purse_after, 1500);
    assert_int_equal(got.cents, 1000);
    assert_string_equal(got.request_id, "card:31:seq:5");
    assert_true(got.created_at > 1700000000);

    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0].account_id = f->alice_acct;
    lines[1].account_id = f->cash;
    snprintf(lines[0].asset, sizeof lines[0].asset, "EUR");
    snprintf(lines[1].asset, sizeof lines[1].asset, "EUR");
    lines[0].amount = 1000;
    lines[1].amount = -1000;
    e.program_id = f->program;
    e.kind = "topup";
    e.request_id = "card:31:seq:4"; /* not the intent's key: nothing posted */
    e.operator_name = "desk";
    e.reason = "top-up";
    e.card_id = 31;
    e.lines = lines;
    e.nlines = 2;
    assert_int_equal(ledger_pending_topup_settle(f->l, &e, &id, &rep), LEAL_E_UNKNOWN_ID);
    assert_int_equal(count(f, "SELECT count(*) FROM entry"), 0);
    /* A post that fails (overdraft) leaves the intent open. */
    e.request_id = "card:31:seq:5";
    lines[0].amount = -1000;
    lines[1].amount = 1000;
    assert_int_equal(ledger_pending_topup_settle(f->l, &e, &id, &rep), LEAL_E_INSUFFICIENT_FUNDS);
    assert_int_equal(count(f, "SELECT count(*) FROM card_pending_topup"), 1);
    lines[0].amount = 1000;
    lines[1].amount = -1000;
    assert_int_equal(ledger_pending_topup_settle(f->l, &e, &id, &rep), LEAL_OK);
    assert_false(rep);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1000);
    assert_int_equal(count(f, "SELECT count(*) FROM card_pending_topup"), 0);
    assert_int_equal(ledger_pending_topup_get(f->l, 31, &got, &found), LEAL_OK);
    assert_false(found);
    /* Settled once: again is refused and posts nothing. */
    assert_int_equal(ledger_pending_topup_settle(f->l, &e, &id, &rep), LEAL_E_UNKNOWN_ID);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1000);

    /* Dropped: the card was never written. */
    t.seq_before = 5;
    t.seq_after = 6;
    t.purse_after = 1200;
    t.cents = 200;
    snprintf(t.request_id, sizeof t.request_id, "card:31:seq:6");
    assert_int_equal(ledger_pending_topup_add(f->l, &t), LEAL_OK);
    assert_int_equal(ledger_pending_topup_drop(f->l, 31, "card:31:seq:7"), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_pending_topup_drop(f->l, 31, "card:31:seq:6"), LEAL_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM card_pending_topup"), 0);
    assert_int_equal(bal(f, f->alice_acct, "EUR"), 1000);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_ledger_schema_versions(void **state)
{
    struct fx *f = *state;
    char old[600], bak[700], other[600];
    struct ledger *l = NULL;
    sqlite3 *db;
    FILE *fp;
    /* An older database is copied, then migrated. */
    snprintf(old, sizeof old, "%s/old.db", f->dir);
    assert_int_equal(ledger_create_at_version(old, 1), LEAL_OK);
    sql_exec(old, "INSERT INTO program(id, code, name, kind, points_per_euro_milli, "
                  "points_expiry_days, created_at) VALUES (9, 'v1', 'Old', 'single', 1000, 0, 1)");
    assert_int_equal(ledger_open(old, &l), LEAL_OK);
    assert_int_equal(ledger_schema_version(l), LEDGER_SCHEMA_VERSION);
    ledger_close(l);
    snprintf(bak, sizeof bak, "%s.schema-v1.bak", old);
    assert_int_equal(access(bak, R_OK), 0);
    assert_int_equal(sqlite3_open(bak, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM program WHERE id = 9", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "Old");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* A newer one is refused and left alone. */
    sql_exec(old, "PRAGMA user_version = 99");
    assert_int_equal(ledger_open(old, &l), LEAL_E_DB_SCHEMA_NEWER);
    assert_null(l);
    /* Something else is not a ledger. */
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    sql_exec(other, "CREATE TABLE t(x)");
    assert_int_equal(ledger_open(other, &l), LEAL_E_DB_NOT_LEAL);
    snprintf(other, sizeof other, "%s/text.db", f->dir);
    fp = fopen(other, "w");
    assert_non_null(fp);
    fputs("this is not a database, it is a shopping list: bread, milk, eggs, coffee\n", fp);
    fclose(fp);
    assert_int_equal(ledger_open(other, &l), LEAL_E_DB_NOT_LEAL);
}

struct hist {
    int n;
    struct ledger_movement m[8];
};

static int hist_cb(void *ctx, const struct ledger_movement *m)
{
    struct hist *h = ctx;
    if (h->n < 8)
        h->m[h->n] = *m;
    h->n++;
    return 0;
}

static void test_ledger_history_pages_newest_first(void **state)
{
    struct fx *f = *state;
    int64_t ids[5];
    bool rep;
    char req[16];
    struct hist h;
    for (int i = 0; i < 5; i++) {
        snprintf(req, sizeof req, "h%d", i);
        assert_int_equal(
            post2(f, req, "topup", f->alice_acct, f->topups, "EUR", 100 + i, 0, &ids[i], &rep),
            LEAL_OK);
    }
    memset(&h, 0, sizeof h);
    assert_int_equal(ledger_history(f->l, f->alice_acct, 0, 2, hist_cb, &h), LEAL_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.m[0].entry_id, ids[4]);
    assert_int_equal(h.m[0].amount, 104);
    assert_int_equal(h.m[1].entry_id, ids[3]);
    memset(&h, 0, sizeof h);
    assert_int_equal(ledger_history(f->l, f->alice_acct, ids[3], 2, hist_cb, &h), LEAL_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.m[0].entry_id, ids[2]);
    assert_int_equal(h.m[1].entry_id, ids[1]);
    assert_string_equal(h.m[1].operator_name, "Marta");
    assert_string_equal(h.m[1].kind, "topup");
}

static int64_t add_customer(struct fx *f, int64_t program, const char *name, const char *surname,
                            const char *phone)
{
    struct ledger_customer c;
    int64_t id = 0, acct = 0;
    memset(&c, 0, sizeof c);
    c.program_id = program;
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.surname, sizeof c.surname, "%s", surname);
    snprintf(c.phone, sizeof c.phone, "%s", phone);
    assert_int_equal(ledger_customer_add(f->l, &c, &id, &acct), LEAL_OK);
    return id;
}

static struct found search_limit(struct fx *f, int64_t program, enum ledger_search_by by,
                                 const char *q, size_t limit)
{
    struct found fd;
    memset(&fd, 0, sizeof fd);
    assert_int_equal(
        ledger_customer_search(f->l, &(struct ledger_search){program, by, q, limit}, collect, &fd),
        LEAL_OK);
    return fd;
}

/* Issue 10 sections 5 and 8: accent- and case-blind names, phones in one
 * normal form, the limit in SQL, alphabetical by the key that matched. */
static void test_ledger_search_accents_phones_limit(void **state)
{
    struct fx *f = *state;
    struct ledger_program p2 = {.code = "otro", .name = "Otro", .kind = LEDGER_PROGRAM_SINGLE};
    struct ledger_customer c;
    struct found fd;
    int64_t prog2, jose, nunez, maria, other;
    jose = add_customer(f, f->program, "José", "Pérez", "612 345 679");
    nunez = add_customer(f, f->program, "Ana", "Núñez Gil", "+34 699 000 111");
    maria = add_customer(f, f->program, "MARÍA JOSÉ", "Ñúñez", "0034699000222");
    assert_int_equal(ledger_program_create(f->l, &p2, &prog2), LEAL_OK);
    other = add_customer(f, prog2, "Josefa", "Abad", "612345679");

    fd = search(f, LEDGER_SEARCH_NAME, "jose", LEAL_OK);
    assert_int_equal(fd.n, 2); /* José, Josefa; "maría josé" starts with maria */
    assert_int_equal(fd.ids[0], jose);
    assert_int_equal(fd.ids[1], other);
    fd = search(f, LEDGER_SEARCH_NAME, "JOSÉ", LEAL_OK);
    assert_int_equal(fd.n, 2);
    fd = search(f, LEDGER_SEARCH_NAME, "nuñez", LEAL_OK);
    assert_int_equal(fd.n, 2);
    assert_int_equal(fd.ids[0], maria); /* by key: "nunez" (Ñúñez) before "nunez gil" */
    assert_int_equal(fd.ids[1], nunez);
    fd = search(f, LEDGER_SEARCH_NAME, "maria jo", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], maria);
    fd = search(f, LEDGER_SEARCH_NAME, "garcia", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->alice);
    /* Alphabetical by the key that matched: abad (surname) < ana < ... */
    fd = search(f, LEDGER_SEARCH_NAME, "a", LEAL_OK);
    assert_int_equal(fd.n, 3);
    assert_int_equal(fd.ids[0], other);    /* abad */
    assert_int_equal(fd.ids[1], f->alice); /* alicia */
    assert_int_equal(fd.ids[2], nunez);    /* ana */
    fd = search_limit(f, 0, LEDGER_SEARCH_NAME, "a", 2);
    assert_int_equal(fd.n, 2);
    assert_int_equal(fd.ids[1], f->alice);
    fd = search_limit(f, f->program, LEDGER_SEARCH_NAME, "a", 1);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->alice);
    fd = search_limit(f, prog2, LEDGER_SEARCH_NAME, "jos", 0);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], other);

    /* Phones in one normal form. */
    fd = search(f, LEDGER_SEARCH_PHONE, "612345679", LEAL_OK);
    assert_int_equal(fd.n, 2);
    assert_int_equal(fd.ids[0], jose);
    assert_int_equal(fd.ids[1], other);
    fd = search(f, LEDGER_SEARCH_PHONE, "+34 612 345 679", LEAL_OK);
    assert_int_equal(fd.n, 2);
    fd = search(f, LEDGER_SEARCH_PHONE, "699 000 111", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], nunez);
    fd = search(f, LEDGER_SEARCH_PHONE, "+34699000222", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], maria);
    fd = search(f, LEDGER_SEARCH_PHONE, "600 111 222", LEAL_OK); /* Alicia: +34600111222 */
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], f->alice);
    fd = search_limit(f, 0, LEDGER_SEARCH_ALL, NULL, 3);
    assert_int_equal(fd.n, 3);
    assert_int_equal(fd.ids[2], jose);

    /* An edit re-keys the customer. */
    assert_int_equal(ledger_customer_get(f->l, jose, &c), LEAL_OK);
    snprintf(c.name, sizeof c.name, "Íñigo");
    snprintf(c.phone, sizeof c.phone, "(+34) 655-44-33-22");
    assert_int_equal(ledger_customer_update(f->l, &c), LEAL_OK);
    fd = search(f, LEDGER_SEARCH_NAME, "inigo", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], jose);
    fd = search(f, LEDGER_SEARCH_PHONE, "655443322", LEAL_OK);
    assert_int_equal(fd.n, 1);
    fd = search(f, LEDGER_SEARCH_NAME, "jose", LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], other);
    assert_int_equal(count(f, "SELECT count(*) FROM customer WHERE account_id IS NULL"), 0);
}

/* A version-4 ledger gains search keys, the customer's account on its row
 * and the per-operation limits; nothing else moves. */
static void test_ledger_upgrades_v4_search_keys(void **state)
{
    struct fx *f = *state;
    char old[600];
    struct ledger *l = NULL;
    struct ledger_program p;
    struct ledger_customer c;
    struct found fd;

    snprintf(old, sizeof old, "%s/v4.db", f->dir);
    assert_int_equal(ledger_create_at_version(old, 4), LEAL_OK);
    sql_exec(old,
             "INSERT INTO program(id, code, name, kind, points_per_euro_milli, "
             "points_expiry_days, created_at) VALUES (9, 'v4', 'Old', 'single', 1000, 0, 1);"
             "INSERT INTO customer(id, program_id, created_at) VALUES (1, 9, 1), (2, 9, 1);"
             "INSERT INTO account(id, program_id, customer_id, kind, created_at) VALUES (20, 9, "
             "1, 'customer', 1), (21, 9, 2, 'customer', 1), (22, 9, 1, 'customer', 2);"
             "INSERT INTO customer_pii VALUES (1, 'José', 'Núñez', 'j@x.es', '+34 612 345 679', "
             "'', '', '', '', 1), (2, 'Bad', cast(x'4aff' as text), '', '', '', '', '', '', 1)");
    assert_int_equal(ledger_open(old, &l), LEAL_OK);
    assert_int_equal(ledger_program_get(l, 9, &p), LEAL_OK);
    assert_int_equal(p.max_cents_per_operation, 100000);
    assert_int_equal(p.max_units_per_operation, 100000);
    assert_int_equal(ledger_customer_get(l, 1, &c), LEAL_OK);
    assert_int_equal(c.account_id, 20);
    memset(&fd, 0, sizeof fd);
    assert_int_equal(
        ledger_customer_search(l, &(struct ledger_search){9, LEDGER_SEARCH_NAME, "nunez", 0},
                               collect, &fd),
        LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(fd.ids[0], 1);
    memset(&fd, 0, sizeof fd);
    assert_int_equal(
        ledger_customer_search(l, &(struct ledger_search){9, LEDGER_SEARCH_PHONE, "612345679", 0},
                               collect, &fd),
        LEAL_OK);
    assert_int_equal(fd.n, 1);
    assert_int_equal(ledger_check_plans(l), LEAL_OK);
    ledger_close(l);
    assert_int_equal(count_at(old, "SELECT count(*) FROM customer_pii WHERE customer_id = 2 AND "
                                   "surname_key = surname"),
                     1); /* bytes that do not fold key as themselves */
    assert_int_equal(count_at(old, "SELECT account_id FROM customer WHERE id = 2"), 21);
}

/* Issue 10 section 4: per-program sanity limits on one operation. */
static void test_ledger_program_limits(void **state)
{
    struct fx *f = *state;
    struct ledger_program p;
    assert_int_equal(ledger_program_get(f->l, f->program, &p), LEAL_OK);
    assert_int_equal(p.max_cents_per_operation, LEDGER_MAX_CENTS_PER_OPERATION_DEFAULT);
    assert_int_equal(p.max_units_per_operation, LEDGER_MAX_UNITS_PER_OPERATION_DEFAULT);
    assert_int_equal(ledger_program_limit_check(f->l, f->program, "EUR", 100000), LEAL_OK);
    assert_int_equal(ledger_program_limit_check(f->l, f->program, "EUR", -100000), LEAL_OK);
    assert_int_equal(ledger_program_limit_check(f->l, f->program, "EUR", 9999999999900),
                     LEAL_E_OVER_LIMIT);
    assert_string_equal(ledger_errmsg(f->l), "program 1 allows 1000.00 EUR in one operation");
    assert_int_equal(ledger_program_limit_check(f->l, f->program, "PTS", 99999999),
                     LEAL_E_OVER_LIMIT);
    assert_string_equal(ledger_errmsg(f->l), "program 1 allows 100000 PTS in one operation");
    assert_int_equal(ledger_program_limit_check(f->l, f->program, "STAMP:cafe", -100001),
                     LEAL_E_OVER_LIMIT);
    assert_int_equal(ledger_program_set_limits(f->l, f->program, 250000, 500), LEAL_OK);
    assert_int_equal(ledger_program_limit_check(f->l, f->program, "EUR", 250000), LEAL_OK);
    assert_int_equal(ledger_program_limit_check(f->l, f->program, "PTS", 501), LEAL_E_OVER_LIMIT);
    assert_string_equal(ledger_errmsg(f->l), "program 1 allows 500 PTS in one operation");
    assert_int_equal(ledger_program_set_limits(f->l, f->program, 0, 500), LEAL_E_AMOUNT_RANGE);
    assert_int_equal(ledger_program_set_limits(f->l, 77, 1, 1), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_program_limit_check(f->l, 77, "PTS", 1), LEAL_E_UNKNOWN_ID);
}

/* Issue 10 section 4: what a person types into the ledger. */
struct notes {
    int n;
    struct ledger_note v[4];
};

static int note_cb(void *ctx, const struct ledger_note *n)
{
    struct notes *x = ctx;
    if (x->n < 4)
        x->v[x->n] = *n;
    x->n++;
    return 0;
}

static void test_ledger_inputs_checked(void **state)
{
    struct fx *f = *state;
    struct ledger *l2 = NULL;
    struct ledger_customer c;
    struct notes nn;
    struct hist h;
    char path[600], why[256];
    int64_t id = 0, acct = 0, store2 = 0, e1 = 0;
    bool rep;

    /* Time zones: tz database names only. */
    assert_int_equal(ledger_timezone_check("Europe/Madrid"), LEAL_OK);
    assert_int_equal(ledger_timezone_check("UTC"), LEAL_OK);
    assert_int_equal(ledger_timezone_check("America/Argentina/Buenos_Aires"), LEAL_OK);
    assert_int_equal(ledger_timezone_check("Etc/GMT+5"), LEAL_OK);
    static const char *const bad_tz[] = {"Madrid",
                                         "../../etc/passwd",
                                         "/etc/passwd",
                                         "Europe",
                                         "Europe/../UTC",
                                         "Europe/.",
                                         "",
                                         "Europe/Madrid ",
                                         "europe/madrid",
                                         "Europe//Madrid/x"};
    for (size_t i = 0; i < sizeof bad_tz / sizeof bad_tz[0]; i++)
        assert_int_equal(ledger_timezone_check(bad_tz[i]), LEAL_E_TIMEZONE);
    assert_int_equal(ledger_store_add(f->l, f->program, "x", "X", "Madrid", &id), LEAL_E_TIMEZONE);
    assert_string_equal(
        ledger_errmsg(f->l),
        "time zone 'Madrid' is not in the tz database (write it like Europe/Madrid)");
    assert_int_equal(id, 0);

    /* Request ids in leal's own namespaces. */
    assert_true(ledger_request_id_reserved("card:1:log:2"));
    assert_true(ledger_request_id_reserved("void:7"));
    assert_true(ledger_request_id_reserved("expire:11:0"));
    assert_true(ledger_request_id_reserved("sync:1"));
    assert_true(ledger_request_id_reserved("desk:x"));
    assert_false(ledger_request_id_reserved("cli-0011"));
    assert_false(ledger_request_id_reserved("Card:1"));
    assert_false(ledger_request_id_reserved("cards:1"));

    /* Text: UTF-8 without bidirectional controls; nothing written. */
    memset(&c, 0, sizeof c);
    c.program_id = f->program;
    snprintf(c.name, sizeof c.name,
             "Jo\xff"
             "e");
    assert_int_equal(ledger_customer_add(f->l, &c, &id, &acct), LEAL_E_TEXT);
    assert_string_equal(ledger_errmsg(f->l), "name: not valid UTF-8 (byte 0xFF at 2)");
    snprintf(c.name, sizeof c.name, "Eva");
    snprintf(c.surname, sizeof c.surname, "Ruiz\xe2\x80\xae");
    assert_int_equal(ledger_customer_add(f->l, &c, &id, &acct), LEAL_E_TEXT);
    assert_string_equal(ledger_errmsg(f->l), "surname: a bidirectional control (U+202E)");
    assert_int_equal(ledger_note_add(f->l, f->alice, "Marta", "x\xe2\x81\xa6y", 0), LEAL_E_TEXT);

    /* Notes, oldest first. */
    assert_int_equal(ledger_note_add(f->l, f->alice, "Marta", "prefers mornings", 100), LEAL_OK);
    assert_int_equal(ledger_note_add(f->l, f->alice, "Pepe", "café con leche", 200), LEAL_OK);
    memset(&nn, 0, sizeof nn);
    assert_int_equal(ledger_note_each(f->l, f->alice, note_cb, &nn), LEAL_OK);
    assert_int_equal(nn.n, 2);
    assert_int_equal(nn.v[0].at, 100);
    assert_string_equal(nn.v[0].author, "Marta");
    assert_string_equal(nn.v[0].text, "prefers mornings");
    assert_string_equal(nn.v[1].text, "café con leche");

    /* A movement carries its store's time zone. */
    assert_int_equal(ledger_store_add(f->l, f->program, "ny", "NY", "America/New_York", &store2),
                     LEAL_OK);
    {
        struct ledger_line ln[2] = {{.account_id = f->alice_acct, .asset = "PTS", .amount = 3},
                                    {.account_id = f->adjustments, .asset = "PTS", .amount = -3}};
        struct ledger_entry e = {.program_id = f->program,
                                 .kind = "adjust",
                                 .request_id = "tz",
                                 .operator_name = "Marta",
                                 .reason = "x",
                                 .store_id = store2,
                                 .lines = ln,
                                 .nlines = 2};
        assert_int_equal(ledger_post(f->l, &e, &e1, &rep), LEAL_OK);
    }
    memset(&h, 0, sizeof h);
    assert_int_equal(ledger_history(f->l, f->alice_acct, 0, 1, hist_cb, &h), LEAL_OK);
    assert_int_equal(h.m[0].entry_id, e1);
    assert_string_equal(h.m[0].timezone, "America/New_York");

    /* A missing file is not created unless asked. */
    snprintf(path, sizeof path, "%s/typo.db", f->dir);
    assert_int_equal(ledger_open_existing_why(path, &l2, why, sizeof why), LEAL_E_NO_LEDGER);
    assert_null(l2);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(ledger_open_existing_why(f->path, &l2, why, sizeof why), LEAL_OK);
    ledger_close(l2);
}

/* The birthday of someone born on 29 February is 28 February in a common
 * year and the 29th in a leap one, by the Gregorian rule the SQL of both
 * backends says in integer arithmetic (ledger_messages.c MSG_BORN_ON): the
 * birthday bonus, which needs no address or consent, counts who it is for.
 * Alicia and Bernardo were born on 28 February, Carla on 29 February 1992. */
static void test_ledger_birthday_29_february(void **state)
{
    struct fx *f = *state;
    struct ledger_customer c;
    struct ledger_message_template *t = calloc(1, sizeof *t);
    int64_t carla = 0, carla_acct = 0, posted = -1, points = -1;
    static const struct {
        const char *day;
        int64_t posted, carla; /* how many this day; Carla's points after it */
    } days[] = {
        {"2027-02-28", 3, 5},  /* common: the 28th is everyone's */
        {"2027-03-01", 0, 5},  /* never the 1st of March */
        {"2028-02-28", 2, 5},  /* leap: not Carla's yet */
        {"2028-02-29", 1, 10}, /* Carla's */
        {"2100-02-28", 3, 15}, /* a century not divisible by 400 is common */
        {"2000-02-28", 2, 15}, /* one divisible by 400 is leap */
        {"2000-02-29", 1, 20},
    };
    assert_non_null(t);
    memset(&c, 0, sizeof c);
    c.program_id = f->program;
    snprintf(c.name, sizeof c.name, "Carla");
    snprintf(c.birth_date, sizeof c.birth_date, "1992-02-29");
    assert_int_equal(ledger_customer_add(f->l, &c, &carla, &carla_acct), LEAL_OK);
    t->program_id = f->program;
    snprintf(t->occasion, sizeof t->occasion, "birthday");
    snprintf(t->subject, sizeof t->subject, "Feliz");
    snprintf(t->text, sizeof t->text, "Hola {{name}}");
    t->bonus_set = true;
    t->bonus = 5;
    assert_int_equal(ledger_message_template_set(f->l, t), LEAL_OK);
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        assert_int_equal(
            ledger_message_birthday_bonus(f->l, f->program, days[i].day, &posted, &points),
            LEAL_OK);
        assert_int_equal(posted, days[i].posted);
        assert_int_equal(points, 5);
        assert_int_equal(bal(f, carla_acct, "PTS"), days[i].carla);
    }
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ledger_open_sets_safe_mode_and_schema, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_every_lookup_uses_an_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_post_moves_exact_balances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_idempotency_replays_and_conflicts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_terminal_key_and_epochs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_bad_entries_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_other_program_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_void_restores_and_refuses_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_points_lots_nearest_expiry_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_void_of_earn_takes_its_own_lot_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_program_expiry_days_sets_lot_expiry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_expire_moves_only_expired_lots, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_cards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_customers_edit_and_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_verify_names_first_difference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_batch_whole_is_refused_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_import_checkpoints_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_read_snapshot_sees_one_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_negative_check_after_rollback_and_other_writer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_verify_books_lots_and_balances, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_batch_failed_post_undoes_only_itself, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_batch_checked_refusal_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_batch_balances_summed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_backup_is_a_consistent_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_backup_private_no_follow_no_overwrite, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_migration_copy_private_no_follow, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_schema_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_card_seen_unchanged_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ledger_card_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_card_key_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_card_drift_and_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_card_history_and_hotlist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_schema_3_upgrade_keeps_cards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_upgrades_v2_to_purse_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_program_purse_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_pending_topup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_history_pages_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_inputs_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_search_accents_phones_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_upgrades_v4_search_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_program_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_birthday_29_february, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
