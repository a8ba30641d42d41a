/*
 * sync_import_test.c - host/sync's import and ack (issue 14) on a real
 * ledger with journals made by firmware/core/journal.c (tests/lib/
 * journal_gen.h): exact balances and counts, a second import that takes
 * nothing, a byte changed in each entry in turn (exactly the entries before
 * it taken, it named), an entry dropped, two swapped, one replayed, the
 * export's own MAC, another terminal's key, and the ack the journal accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "host/ledger/ledger.h"
#include "host/ledger/ledger_bono.h"
#include "host/sync/sync.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/journal_gen.h"
#include "tests/lib/ledger_cards.h"
#include "tests/lib/testutil.h"

#define PROGRAM 7
#define T0 1796290000u

struct fx {
    char *dir;
    struct ledger *l;
    struct keyset *ks;
    struct sync_keys k;
    int64_t acct[2]; /* customers' accounts: cards 1001, 1002 */
    int64_t cash, issued, redeemed, stamps;
    uint8_t *exp;
    size_t len;
};

static void post_seed(struct fx *f)
{
    struct ledger_line ln[2] = {{0}};
    struct ledger_entry e = {0};
    int64_t id;
    bool rep;
    ln[0].account_id = f->acct[0];
    ln[0].amount = 2000;
    ln[1].account_id = f->cash;
    ln[1].amount = -2000;
    snprintf(ln[0].asset, sizeof ln[0].asset, "EUR");
    snprintf(ln[1].asset, sizeof ln[1].asset, "EUR");
    e.program_id = PROGRAM;
    e.kind = "topup";
    e.request_id = "seed";
    e.operator_name = "t";
    e.reason = "seed";
    e.nlines = 2;
    e.lines = ln;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct ledger_program p = {0};
    char path[512];
    int64_t id, store;
    f->dir = test_tmpdir_fast();
    snprintf(path, sizeof path, "%s/ledger.db", f->dir);
    assert_int_equal(ledger_open(path, &f->l), LEAL_OK);
    p.id = PROGRAM;
    snprintf(p.code, sizeof p.code, "sol");
    snprintf(p.name, sizeof p.name, "Sol");
    p.kind = LEDGER_PROGRAM_SINGLE;
    p.points_per_euro_milli = 1000;
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_OK);
    assert_int_equal(ledger_store_add(f->l, PROGRAM, "c", "C", "Europe/Madrid", &store), LEAL_OK);
    assert_int_equal(ledger_terminal_add(f->l, store, "t1", &id), LEAL_OK);
    assert_int_equal(ledger_terminal_add(f->l, store, "t2", &id), LEAL_OK);
    assert_int_equal(ledger_fixture_cards(f->l, PROGRAM, 1001, 2, f->acct), LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, PROGRAM, "cash", &f->cash), LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, PROGRAM, "points_issued", &f->issued), LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, PROGRAM, "points_redeemed", &f->redeemed),
                     LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, PROGRAM, "stamps_issued", &f->stamps), LEAL_OK);
    post_seed(f);
    f->ks = calloc(1, sizeof *f->ks);
    f->ks->issuer_id = 42;
    assert_int_equal(keyset_add_program(f->ks, PROGRAM, T0, crypto_openssl()->random), LEAL_OK);
    f->k.cp = crypto_openssl();
    f->k.ks = f->ks;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    test_rmtree(f->dir);
    free(f->dir);
    keyset_clear(f->ks);
    free(f->ks);
    free(f->exp);
    free(f);
    return 0;
}

static void terminal_key(const struct fx *f, uint32_t terminal, uint8_t key[16])
{
    const struct key_version *kv;
    assert_int_equal(keyset_current(f->ks, PROGRAM, KEY_ROLE_JOURNAL_MAC, &kv), LEAL_OK);
    assert_int_equal(
        derive_journal_key(crypto_openssl(), kv->key, f->ks->issuer_id, PROGRAM, terminal, key),
        LEAL_OK);
}

static void op(struct jgen *g, uint8_t code, uint64_t card, int64_t points, uint32_t purse)
{
    struct jgen_op o = {0};
    o.op = code;
    o.card_id = card;
    o.points = points;
    o.purse = purse;
    o.amount = code == JOURNAL_OP_EARN || code == JOURNAL_OP_PAY_EARN ? 1000 : 0;
    o.quantity = code == JOURNAL_OP_STAMP ? 1 : 0;
    o.item = code == JOURNAL_OP_STAMP ? 2 : 0;
    assert_int_equal(jgen_do(g, &o), LEAL_OK);
}

/* A terminal's journal: 11 entries (its EPOCH and 10 operations), exported
 * into f->exp; the generator stays open in g (for an ack). */
static void journal(struct fx *f, uint32_t terminal, const uint8_t key[16], struct jgen *g)
{
    assert_int_equal(jgen_open(g, key, 1, PROGRAM, terminal, 16, T0), LEAL_OK);
    assert_int_equal(jgen_card(g, 1001, JOURNAL_CARD_DESFIRE, 0, 2000), LEAL_OK);
    assert_int_equal(jgen_card(g, 1002, JOURNAL_CARD_DESFIRE, 0, 0), LEAL_OK);
    op(g, JOURNAL_OP_EARN, 1001, 40, 0);      /* 2 */
    op(g, JOURNAL_OP_PAY, 1001, 0, 350);      /* 3 */
    op(g, JOURNAL_OP_PAY_EARN, 1001, 5, 250); /* 4 */
    op(g, JOURNAL_OP_REDEEM, 1001, -30, 0);   /* 5 */
    op(g, JOURNAL_OP_STAMP, 1002, 0, 0);      /* 6 */
    op(g, JOURNAL_OP_EARN, 1002, 7, 0);       /* 7 */
    op(g, JOURNAL_OP_VOID, 1002, 0, 0);       /* 8: voids 7 */
    op(g, JOURNAL_OP_BALANCE, 1001, 0, 0);    /* 9 */
    op(g, JOURNAL_OP_EARN, 1002, 3, 0);       /* 10 */
    op(g, JOURNAL_OP_STAMP, 1002, 0, 0);      /* 11 */
    free(f->exp);
    assert_int_equal(jgen_export(g, &f->exp, &f->len), LEAL_OK);
}

static int64_t bal(struct fx *f, int64_t account, const char *asset)
{
    int64_t v = -1;
    assert_int_equal(ledger_balance(f->l, account, asset, &v), LEAL_OK);
    return v;
}

/* The balances after entries 2..11 are all in. */
static void expect_all_in(struct fx *f)
{
    assert_int_equal(bal(f, f->acct[0], "PTS"), 40 + 5 - 30);
    assert_int_equal(bal(f, f->acct[0], "EUR"), 2000 - 350 - 250);
    assert_int_equal(bal(f, f->acct[1], "PTS"), 7 - 7 + 3);
    assert_int_equal(bal(f, f->acct[1], "STAMP:3"), 2);
    assert_int_equal(bal(f, f->cash, "EUR"), -2000 + 350 + 250);
    assert_int_equal(bal(f, f->issued, "PTS"), -(40 + 5 + 3));
    assert_int_equal(bal(f, f->redeemed, "PTS"), 30);
    assert_int_equal(bal(f, f->stamps, "STAMP:3"), -2);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_exact_once(void **state)
{
    struct fx *f = *state;
    struct sync_result r;
    struct journal_ack a;
    uint8_t key[16], ack[JOURNAL_ACK_LEN];
    struct jgen g;
    terminal_key(f, 1, key);
    journal(f, 1, key, &g);
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_OK);
    assert_int_equal(r.info.count, 11);
    assert_int_equal(r.taken, 11);
    assert_int_equal(r.posted, 9);   /* 2 3 4 5 6 7 8 10 11 */
    assert_int_equal(r.recorded, 2); /* 1 (EPOCH), 9 (balance) */
    assert_int_equal(r.held + r.undone + r.duplicates + r.cards_flagged, 0);
    assert_false(r.terminal_flagged);
    expect_all_in(f);
    /* Again: nothing. */
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_OK);
    assert_int_equal(r.taken, 0);
    assert_int_equal(r.duplicates, 11);
    expect_all_in(f);
    /* The ack names sequence 11 with its MAC, and the journal takes it once. */
    assert_int_equal(sync_ack(f->l, &f->k, 1, &a, ack), LEAL_OK);
    assert_int_equal(a.seq, 11);
    assert_int_equal(a.epoch, T0);
    assert_int_equal(a.terminal_id, 1);
    assert_int_equal(jgen_ack(&g, ack, sizeof ack), LEAL_OK);
    assert_int_equal(jgen_ack(&g, ack, sizeof ack), LEAL_E_JOURNAL_ACK_STALE);
    jgen_close(&g);
    assert_int_equal(sync_ack(f->l, &f->k, 2, &a, ack), LEAL_E_SYNC_NOTHING);
    assert_int_equal(sync_ack(f->l, &f->k, 9, &a, ack), LEAL_E_UNKNOWN_ID);
}

/* Offset of entry i (0-based; entries without lines are 128 bytes). */
static size_t at(uint32_t i)
{
    return JOURNAL_EXPORT_HEADER_LEN + (size_t)i * JOURNAL_ENTRY_MIN;
}

static void test_byte_changed_in_each_entry(void **state)
{
    struct fx *f = *state;
    struct sync_result r;
    uint8_t key[16], *bad;
    struct jgen g;
    terminal_key(f, 1, key);
    journal(f, 1, key, &g);
    jgen_close(&g);
    bad = malloc(f->len);
    /* Entry k changed: exactly the k entries before it are in, one new. */
    for (uint32_t k = 0; k < 11; k++) {
        memcpy(bad, f->exp, f->len);
        bad[at(k) + 70] ^= 0x01;
        assert_int_equal(sync_import(f->l, &f->k, bad, f->len, &r), LEAL_E_JOURNAL_MAC);
        assert_int_equal(r.fault_seq, k + 1);
        assert_int_equal(r.fault_epoch, T0);
        assert_int_equal(r.taken, k == 0 ? 0 : 1);
        assert_int_equal(r.duplicates, k == 0 ? 0 : k - 1);
        assert_true(r.terminal_flagged);
    }
    /* The export's own MAC: nothing new, sequence 0. */
    memcpy(bad, f->exp, f->len);
    bad[f->len - 1] ^= 0x80;
    assert_int_equal(sync_import(f->l, &f->k, bad, f->len, &r), LEAL_E_JOURNAL_MAC);
    assert_int_equal(r.fault_seq, 0);
    assert_int_equal(r.taken + r.duplicates, 0);
    free(bad);
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_OK);
    assert_int_equal(r.taken, 1);
    assert_int_equal(r.duplicates, 10);
    expect_all_in(f);
}

/* An export with entry `drop` left out, or entries a and a+1 swapped, or
 * entry `dup` twice (its header's count adjusted; the export MAC is then
 * wrong, as an editor without the key would leave it). */
static uint8_t *edited(const struct fx *f, int how, uint32_t a, size_t *len)
{
    uint8_t *p = malloc(f->len + JOURNAL_ENTRY_MIN);
    uint32_t count = 11;
    memcpy(p, f->exp, at(a));
    if (how == 0) { /* drop a */
        memcpy(p + at(a), f->exp + at(a + 1), f->len - at(a + 1));
        *len = f->len - JOURNAL_ENTRY_MIN;
        count--;
    } else if (how == 1) { /* swap a, a + 1 */
        memcpy(p + at(a), f->exp + at(a + 1), JOURNAL_ENTRY_MIN);
        memcpy(p + at(a + 1), f->exp + at(a), JOURNAL_ENTRY_MIN);
        memcpy(p + at(a + 2), f->exp + at(a + 2), f->len - at(a + 2));
        *len = f->len;
    } else { /* replay a */
        memcpy(p + at(a), f->exp + at(a), JOURNAL_ENTRY_MIN);
        memcpy(p + at(a + 1), f->exp + at(a), f->len - at(a));
        *len = f->len + JOURNAL_ENTRY_MIN;
        count++;
    }
    p[28] = (uint8_t)(count >> 24);
    p[29] = (uint8_t)(count >> 16);
    p[30] = (uint8_t)(count >> 8);
    p[31] = (uint8_t)count;
    return p;
}

static void test_drop_swap_replay(void **state)
{
    struct fx *f = *state;
    struct sync_result r;
    uint8_t key[16], *p;
    size_t len;
    struct jgen g;
    terminal_key(f, 1, key);
    journal(f, 1, key, &g);
    jgen_close(&g);
    /* Drop 5 (index 4): the entry in its place does not chain; 1-4 in. */
    p = edited(f, 0, 4, &len);
    assert_int_equal(sync_import(f->l, &f->k, p, len, &r), LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(r.fault_seq, 5);
    assert_int_equal(r.taken, 4);
    free(p);
    /* Swap 7 and 8: 5 and 6 new, the break named at 7. */
    p = edited(f, 1, 6, &len);
    assert_int_equal(sync_import(f->l, &f->k, p, len, &r), LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(r.fault_seq, 7);
    assert_int_equal(r.taken, 2);
    assert_int_equal(r.duplicates, 4);
    free(p);
    /* Replay 9 after itself: 7, 8 and 9 new, named at the repeat. */
    p = edited(f, 2, 8, &len);
    assert_int_equal(sync_import(f->l, &f->k, p, len, &r), LEAL_E_JOURNAL_CHAIN);
    assert_int_equal(r.fault_seq, 10);
    assert_int_equal(r.taken, 3);
    free(p);
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_OK);
    assert_int_equal(r.taken, 2);
    expect_all_in(f);
}

static void test_other_terminals_key(void **state)
{
    struct fx *f = *state;
    struct sync_result r;
    uint8_t key1[16];
    struct jgen g;
    /* Terminal 2's journal MACed with terminal 1's key: nothing taken. */
    terminal_key(f, 1, key1);
    journal(f, 2, key1, &g);
    jgen_close(&g);
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_E_JOURNAL_MAC);
    assert_int_equal(r.fault_seq, 1);
    assert_int_equal(r.taken, 0);
    assert_int_equal(bal(f, f->acct[0], "PTS"), 0);
}

/* Bono 3 (5 sessions, 45.00) sold at the desk on card 1001; one session
 * used at terminal 1 and voided there: the session and its revenue back,
 * the euros deferred again, ledger verify agreeing. */
static void test_bono_use_voided(void **state)
{
    struct fx *f = *state;
    struct ledger_bono_intent sale;
    struct sync_result r;
    struct jgen g;
    struct jgen_op o = {0};
    uint8_t key[16];
    int64_t id, sessions = 0, deferred = 0;
    bool rep;
    memset(&sale, 0, sizeof sale);
    sale.card_id = 1001;
    sale.bono_id = 3;
    sale.seq_before = 4;
    sale.seq_after = 5;
    sale.sessions = 5;
    sale.cents = 4500;
    snprintf(sale.request_id, sizeof sale.request_id, "card:1001:bono:5");
    assert_int_equal(ledger_bono_intent_add(f->l, &sale), LEAL_OK);
    assert_int_equal(ledger_bono_intent_settle(f->l, &sale, &id, &rep), LEAL_OK);
    terminal_key(f, 1, key);
    assert_int_equal(jgen_open(&g, key, 1, PROGRAM, 1, 16, T0), LEAL_OK);
    assert_int_equal(jgen_card(&g, 1001, JOURNAL_CARD_DESFIRE, 0, 2000), LEAL_OK);
    o.op = JOURNAL_OP_BONO;
    o.card_id = 1001;
    o.item = 3;
    o.quantity = 1;
    assert_int_equal(jgen_do(&g, &o), LEAL_OK);
    /* The use alone first: 9.00 of the 45.00 recognised. */
    free(f->exp);
    assert_int_equal(jgen_export(&g, &f->exp, &f->len), LEAL_OK);
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_OK);
    assert_int_equal(r.posted, 1);
    assert_int_equal(ledger_bono_held(f->l, f->acct[0], 3, &sessions, &deferred), LEAL_OK);
    assert_int_equal(sessions, 4);
    assert_int_equal(deferred, 3600);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
    /* Its void: 5 sessions and 45.00 deferred again. */
    op(&g, JOURNAL_OP_VOID, 1001, 0, 0);
    free(f->exp);
    assert_int_equal(jgen_export(&g, &f->exp, &f->len), LEAL_OK);
    jgen_close(&g);
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_OK);
    assert_int_equal(r.posted, 1);
    assert_int_equal(r.duplicates, 2);
    assert_int_equal(ledger_bono_held(f->l, f->acct[0], 3, &sessions, &deferred), LEAL_OK);
    assert_int_equal(sessions, 5);
    assert_int_equal(deferred, 4500);
    assert_int_equal(bal(f, f->acct[0], "BONO:3"), 5);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* Runs sql on the ledger's file through a connection of the test's own. */
static void db_exec(struct fx *f, const char *sql)
{
    char path[512];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/ledger.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A terminal's bono use whose deferred euros cannot follow its post (the
 * holding's update changes no row: a trigger of the test's skips it) is
 * not held with its post standing: the import fails whole
 * (LEAL_E_LEDGER_BONO_DEFERRED) and nothing of its batch stays, the session
 * and the 45.00 deferred as the sale left them. Once the holding takes
 * updates again the same export posts the use exactly once. */
static void test_bono_use_deferred_with_its_post(void **state)
{
    struct fx *f = *state;
    struct ledger_bono_intent sale;
    struct sync_result r;
    struct jgen g;
    struct jgen_op o = {0};
    uint8_t key[16];
    int64_t id, sessions = 0, deferred = 0, revenue = 0, sold = 0;
    bool rep;
    memset(&sale, 0, sizeof sale);
    sale.card_id = 1001;
    sale.bono_id = 3;
    sale.seq_before = 4;
    sale.seq_after = 5;
    sale.sessions = 5;
    sale.cents = 4500;
    snprintf(sale.request_id, sizeof sale.request_id, "card:1001:bono:5");
    assert_int_equal(ledger_bono_intent_add(f->l, &sale), LEAL_OK);
    assert_int_equal(ledger_bono_intent_settle(f->l, &sale, &id, &rep), LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, PROGRAM, "bonos_revenue", &revenue), LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, PROGRAM, "bonos_sold", &sold), LEAL_OK);
    assert_int_equal(bal(f, sold, "EUR"), 4500);
    terminal_key(f, 1, key);
    assert_int_equal(jgen_open(&g, key, 1, PROGRAM, 1, 16, T0), LEAL_OK);
    assert_int_equal(jgen_card(&g, 1001, JOURNAL_CARD_DESFIRE, 0, 2000), LEAL_OK);
    o.op = JOURNAL_OP_BONO;
    o.card_id = 1001;
    o.item = 3;
    o.quantity = 1;
    assert_int_equal(jgen_do(&g, &o), LEAL_OK);
    free(f->exp);
    assert_int_equal(jgen_export(&g, &f->exp, &f->len), LEAL_OK);
    jgen_close(&g);

    db_exec(f, "CREATE TRIGGER test_keep_deferred BEFORE UPDATE OF deferred_cents ON "
               "bono_holding BEGIN SELECT RAISE(IGNORE); END");
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_E_LEDGER_BONO_DEFERRED);
    assert_int_equal(r.posted, 0);
    assert_int_equal(r.held, 0);
    assert_int_equal(r.taken, 0);
    assert_int_equal(ledger_bono_held(f->l, f->acct[0], 3, &sessions, &deferred), LEAL_OK);
    assert_int_equal(sessions, 5);
    assert_int_equal(deferred, 4500);
    assert_int_equal(bal(f, f->acct[0], "BONO:3"), 5);
    assert_int_equal(bal(f, revenue, "EUR"), 0);
    assert_int_equal(bal(f, sold, "EUR"), 4500);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);

    db_exec(f, "DROP TRIGGER test_keep_deferred");
    assert_int_equal(sync_import(f->l, &f->k, f->exp, f->len, &r), LEAL_OK);
    assert_int_equal(r.posted, 1);
    assert_int_equal(r.held, 0);
    assert_int_equal(ledger_bono_held(f->l, f->acct[0], 3, &sessions, &deferred), LEAL_OK);
    assert_int_equal(sessions, 4);
    assert_int_equal(deferred, 3600);
    assert_int_equal(bal(f, f->acct[0], "BONO:3"), 4);
    assert_int_equal(bal(f, revenue, "EUR"), 900);
    assert_int_equal(bal(f, sold, "EUR"), 3600);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_changed_in_each_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_swap_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bono_use_voided, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bono_use_deferred_with_its_post, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_terminals_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
