/* bono_test.c - bonos sold and used at the desk (LAYOUT.md 4.4, host/ledger/ledger_bono.h)
 * on the virtual DESFire card through the sim: reader: a sale's exact entries
 * (euros against the bonos_sold liability, sessions onto the account) and the
 * card's bono bytes; every use recognising its share of the price, the last
 * one the rest, refused at zero and after the last day; a sale torn at every
 * exchange each way the card tears, settled right at the next read, and a
 * use too; the deferred euros checked by ledger_verify; a card
 * showing more sessions than the ledger blocked, fewer recorded as used
 * offline; a MIFARE Classic card refused untouched; a bono past its last
 * day swept to breakage (ledger_bono_expire). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/bono.h"
#include "host/cardsim/cardsim.h"
#include "host/issuance/issuance.h"
#include "host/ledger/ledger_bono.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/testutil.h"

static const uint8_t uid7[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
static const uint8_t aid[3] = {LAYOUT_DF_AID_0, LAYOUT_DF_AID_1, LAYOUT_DF_AID_2};

/* 2026-12-03 is day 20790; the bono lasts to 2026-12-13 (day 20800). */
#define TODAY_DAY 20790
#define LAST_DAY 20800
static const struct rules_civil today = {2026, 12, 3, 10, 0, 0};
static const struct rules_civil last_day = {2026, 12, 13, 23, 59, 59};
static const struct rules_civil after_last = {2026, 12, 14, 0, 0, 0};

static struct reader *issue(struct fixture *f, int64_t account, struct issuance_card *out)
{
    return desk_fixture_issue(f, uid7, account, 2000, out);
}

static int64_t prog_balance(struct fixture *f, const char *account, const char *asset)
{
    int64_t id, v;
    if (ledger_program_account(f->ledger, 7, account, &id) != LEAL_OK)
        return 0; /* made at the program's first bono entry */
    assert_int_equal(ledger_balance(f->ledger, id, asset, &v), LEAL_OK);
    return v;
}

/* What the ledger holds: the account's sessions of bono 1 and their deferred
 * euros, and the program side: cash, bonos_sold, bonos_revenue, sessions
 * issued and used. Each entry balances and ledger_verify is clean. */
static void assert_books(struct fixture *f, int64_t account, int64_t sessions, int64_t deferred,
                         int64_t cash, int64_t revenue, int64_t issued, int64_t used)
{
    int64_t s, d;
    struct ledger_stats st;
    assert_int_equal(ledger_bono_held(f->ledger, account, 1, &s, &d), LEAL_OK);
    assert_int_equal(s, sessions);
    assert_int_equal(d, deferred);
    assert_int_equal(prog_balance(f, "cash", "EUR"), cash);
    assert_int_equal(prog_balance(f, "bonos_sold", "EUR"), deferred);
    assert_int_equal(prog_balance(f, "bonos_revenue", "EUR"), revenue);
    assert_int_equal(prog_balance(f, "bonos_issued", "BONO:1"), -issued);
    assert_int_equal(prog_balance(f, "bonos_used", "BONO:1"), used);
    assert_int_equal(ledger_verify(f->ledger, &st), LEAL_OK);
}

static const struct issuance_bono_sale sale45 = {1, 10, 4500, LAST_DAY, 0, 0};

static void test_sale_and_every_use(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    uint8_t bytes[BONO_FILE_LEN];
    static const uint8_t want[BONO_FILE_LEN] = {0x02, 0x04, 0x00, 0x00, 0x00,
                                                0x01, 0x00, 0x0A, 0x51, 0x40};
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    /* Read (9) + WriteData bonos, Debit counter, Commit (3): LAYOUT.md 4.4. */
    assert_int_equal(w.round_trips, 12);
    assert_true(w.agrees);
    assert_int_equal(w.taps, v.taps + 1);
    assert_int_equal(w.bono_cents, 4500);
    assert_int_equal(w.bono_held, 10);
    assert_int_equal(bono_file_encode(&w.bonos, bytes), LEAL_OK);
    assert_memory_equal(bytes, want, BONO_FILE_LEN); /* 02 04 | 1, 10, day 20800 | free x3 */
    /* Cash took 45.00 (the top-up's 20.00 before), held as bonos_sold. */
    assert_books(f, f->account, 10, 4500, -2000 - 4500, 0, 10, 0);
    desk_fixture_balances(f, f->account, 2000, 0);
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(issuance_bono_use(&f->is, r, 1, &today, 0, &w), LEAL_OK);
        assert_int_equal(w.round_trips, 12);
        assert_int_equal(w.bono_cents, 450);
        assert_int_equal(w.bonos.slot[0].sessions, 10 - i);
        assert_true(w.agrees);
        assert_books(f, f->account, 10 - i, 4500 - 450 * i, -6500, 450 * i, 10, i);
    }
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &today, 0, &w), LEAL_E_RULES_BONO_EMPTY);
    assert_int_equal(w.taps, v.taps + 11); /* nothing written by the refusal */
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_OK);
    assert_int_equal(w.taps, v.taps + 11);
    assert_true(w.agrees);
    assert_books(f, f->account, 0, 0, -6500, 4500, 10, 10);
    reader_close(r);
}

/* 50.00 for 3: 16.66, then what is deferred over what is left (3334 / 2),
 * the last the rest: 16.66 + 16.67 + 16.67 = 50.00. */
static void test_revenue_rounding_last_takes_rest(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct issuance_bono_sale s = {1, 3, 5000, 0, 0, 0};
    const int64_t each[3] = {1666, 1667, 1667};
    int64_t revenue = 0;
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(ledger_bono_use_cents(3, 5000), 1666);
    assert_int_equal(ledger_bono_use_cents(1, 7), 7);
    assert_int_equal(ledger_bono_use_cents(0, 7), 0);
    assert_int_equal(issuance_bono_sell(&f->is, r, &s, &w), LEAL_OK);
    assert_int_equal(w.bonos.slot[0].last_day, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(issuance_bono_use(&f->is, r, 1, &after_last, 0, &w), LEAL_OK);
        assert_int_equal(w.bono_cents, each[i]);
        revenue += each[i];
        assert_books(f, f->account, 2 - i, 5000 - revenue, -7000, revenue, 3, i + 1);
    }
    reader_close(r);
}

static void test_use_refused_after_last_day(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &last_day, 0, &w), LEAL_OK);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &after_last, 0, &w),
                     LEAL_E_RULES_BONO_EXPIRED);
    assert_int_equal(w.bonos.slot[0].sessions, 9);
    assert_int_equal(issuance_bono_use(&f->is, r, 2, &today, 0, &w), LEAL_E_RULES_BONO_EMPTY);
    assert_books(f, f->account, 9, 4050, -6500, 450, 10, 1);
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_OK);
    assert_int_equal(w.taps, v.taps + 2);
    reader_close(r);
}

/* One run of the tear sweeps below, through desk_fixture_tear_*: a new
 * customer's card issued (the bono sold on it first for a use), then the
 * sale (use: false) or the use torn the way `w` at exchange n. Returns
 * whether the tear fired: then the operation failed as the card left, and
 * t->view is the next read, agreeing with the ledger; when it did not, the
 * operation went through whole at exchange 13 and the card is closed. */
struct torn {
    int64_t account;
    struct issuance_card out, view;
    struct reader *r;
};

static bool torn_op(struct fixture *f, bool use, size_t w, unsigned n, struct torn *t)
{
    char name[32];
    leal_err err;
    snprintf(name, sizeof name, "%s torn %zu %u", use ? "use" : "sale", w, n);
    t->account = desk_fixture_customer(f, name);
    t->r = issue(f, t->account, &t->out);
    if (use)
        assert_int_equal(issuance_bono_sell(&f->is, t->r, &sale45, &t->out), LEAL_OK);
    desk_fixture_tear_arm(t->r, w, n);
    err = use ? issuance_bono_use(&f->is, t->r, 1, &today, 0, &t->view)
              : issuance_bono_sell(&f->is, t->r, &sale45, &t->view);
    if (!desk_fixture_tear_fired(t->r)) {
        assert_int_equal(err, LEAL_OK);
        assert_int_equal(n, 13);
        reader_close(t->r);
        return false;
    }
    assert_int_equal(err, LEAL_E_CARD_REMOVED);
    assert_int_equal(issuance_read(&f->is, t->r, &t->view), LEAL_OK);
    assert_true(t->view.agrees);
    return true;
}

/* The sale torn at each of its 12 exchanges, each way: the next read finds
 * the card with the bono (the intent posted by that read: exactly once) or
 * without it (the intent dropped, or none was recorded yet), card and
 * ledger agreeing either way, and the sale then made again goes through. */
static void test_sale_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    unsigned outcome[3] = {0, 0, 0}; /* before the intent, dropped, posted by the read */
    struct torn t;
    for (size_t w = 0; w < DESK_FIXTURE_TEAR_WAYS; w++) {
        for (unsigned n = 1; torn_op(f, false, w, n, &t); n++) {
            int64_t sessions, deferred;
            assert_false(t.view.bono_unsettled);
            assert_int_equal(ledger_bono_held(f->ledger, t.account, 1, &sessions, &deferred),
                             LEAL_OK);
            if (t.view.bonos.slot[0].id == 1) {
                assert_int_equal(t.view.bonos.slot[0].sessions, 10);
                assert_int_equal(t.view.bonos_settled, 1);
                assert_int_equal(t.view.taps, t.out.taps + 1);
                assert_int_equal(sessions, 10);
                assert_int_equal(deferred, 4500);
                outcome[2]++;
            } else {
                assert_int_equal(t.view.bonos.slot[0].id, 0);
                assert_int_equal(t.view.taps, t.out.taps);
                assert_int_equal(sessions, 0);
                assert_int_equal(deferred, 0);
                outcome[t.view.bonos_dropped ? 1 : 0]++;
                assert_true(t.view.bonos_dropped == 1 || n <= 9);
                assert_int_equal(issuance_bono_sell(&f->is, t.r, &sale45, &t.view), LEAL_OK);
                assert_int_equal(t.view.bono_held, 10);
            }
            /* Read again: nothing left to settle, nothing posted twice. */
            assert_int_equal(issuance_read(&f->is, t.r, &t.view), LEAL_OK);
            assert_int_equal(t.view.bonos_settled + t.view.bonos_dropped, 0);
            assert_int_equal(ledger_bono_held(f->ledger, t.account, 1, &sessions, &deferred),
                             LEAL_OK);
            assert_int_equal(sessions, 10);
            assert_int_equal(deferred, 4500);
            desk_fixture_balances(f, t.account, 2000, 0);
            reader_close(t.r);
        }
    }
    print_message("sale torn: before its intent %u, dropped %u, posted by the next read %u\n",
                  outcome[0], outcome[1], outcome[2]);
    /* 12 exchanges of 7 ways; the 9 of the read tear before any intent.
     * Posted: the commit's answer lost, or power lost once the commit record
     * was written (steps 1..4). */
    assert_int_equal(outcome[0] + outcome[1] + outcome[2], 7 * 12);
    assert_int_equal(outcome[2], 5);
    /* Every account holds its one bono: the 84 torn (made again when not
     * taken) and each way's last, untorn sale. */
    assert_int_equal(prog_balance(f, "bonos_sold", "EUR"), (84 + 7) * 4500);
}

/* A use torn at each of its 12 exchanges, each way: the next read finds the
 * session taken (posted by that read, 4.50 earned, exactly once) or not
 * (dropped, or never recorded), card and ledger agreeing either way. */
static void test_use_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    unsigned outcome[3] = {0, 0, 0}; /* before the intent, dropped, posted by the read */
    struct torn t;
    for (size_t w = 0; w < DESK_FIXTURE_TEAR_WAYS; w++) {
        for (unsigned n = 1; torn_op(f, true, w, n, &t); n++) {
            int64_t sessions, deferred;
            bool taken = t.view.bonos.slot[0].sessions == 9;
            assert_int_equal(t.view.offline_sessions, 0);
            assert_int_equal(ledger_bono_held(f->ledger, t.account, 1, &sessions, &deferred),
                             LEAL_OK);
            assert_int_equal(t.view.taps, t.out.taps + (taken ? 1 : 0));
            assert_int_equal(sessions, taken ? 9 : 10);
            assert_int_equal(deferred, taken ? 4050 : 4500);
            assert_int_equal(t.view.bonos_settled, taken ? 1 : 0);
            outcome[taken ? 2 : t.view.bonos_dropped ? 1 : 0]++;
            assert_true(taken || t.view.bonos_dropped == 1 || n <= 9);
            assert_int_equal(issuance_read(&f->is, t.r, &t.view), LEAL_OK);
            assert_int_equal(t.view.bonos_settled + t.view.bonos_dropped, 0);
            reader_close(t.r);
        }
    }
    print_message("use torn: before its intent %u, dropped %u, posted by the next read %u\n",
                  outcome[0], outcome[1], outcome[2]);
    assert_int_equal(outcome[0] + outcome[1] + outcome[2], 7 * 12);
    assert_int_equal(outcome[0], 7 * 9);
    assert_int_equal(outcome[2], 5);
    assert_int_equal(prog_balance(f, "bonos_revenue", "EUR"), (5 + 7) * 450);
}

/* What the accounts' bonos defer must be the bonos_sold liability: a ledger
 * whose holdings were changed behind its back does not verify. */
static void test_verify_checks_deferred(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct reader *r = issue(f, f->account, &v);
    char sql[160], want[160];
    sqlite3 *db;
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    reader_close(r);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    assert_int_equal(ledger_check_plans(f->ledger), LEAL_OK);
    snprintf(sql, sizeof sql,
             "UPDATE bono_holding SET deferred_cents = 4400 WHERE account_id = %lld",
             (long long)f->account);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_E_LEDGER_MISMATCH);
    snprintf(want, sizeof want,
             "program 7: its accounts' bonos defer 4400 cents but bonos_sold holds 4500");
    assert_string_equal(ledger_errmsg(f->ledger), want);
}

static void sql_exec(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* ledger_verify both ways per account and kind (issue 12): a holding
 * changed behind the ledger's back where the program's total still adds up
 * (4.50 moved from one account's bono to another's), a holding no entry ever
 * sold, and sessions an account holds with its holding gone: each found and
 * named; put back, the ledger verifies. */
static void test_verify_both_ways(void **state)
{
    struct fixture *f = *state;
    struct issuance_bono_sale free5 = {2, 5, 0, 0, 0, 0};
    struct issuance_card v, w;
    int64_t a = f->account, b = desk_fixture_customer(f, "Bea"),
            c = desk_fixture_customer(f, "Cai");
    char sql[256], want[256];
    struct reader *r = issue(f, a, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    assert_int_equal(issuance_bono_sell(&f->is, r, &free5, &w), LEAL_OK);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &today, 0, &w), LEAL_OK);
    reader_close(r);
    r = issue(f, b, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    reader_close(r);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    assert_int_equal(ledger_check_plans(f->ledger), LEAL_OK);

    /* The holding side: 4.50 of a's deferred euros moved onto b's. */
    snprintf(sql, sizeof sql,
             "UPDATE bono_holding SET deferred_cents = deferred_cents + CASE account_id WHEN "
             "%lld THEN -450 ELSE 450 END WHERE bono_id = 1",
             (long long)a);
    sql_exec(f, sql);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_E_LEDGER_MISMATCH);
    snprintf(want, sizeof want,
             "account %lld, bono 1: its holding defers 3600 cents but the entries that sold and "
             "used it leave 4050 in bonos_sold",
             (long long)a);
    assert_string_equal(ledger_errmsg(f->ledger), want);
    snprintf(sql, sizeof sql,
             "UPDATE bono_holding SET deferred_cents = deferred_cents + CASE account_id WHEN "
             "%lld THEN 450 ELSE -450 END WHERE bono_id = 1",
             (long long)a);
    sql_exec(f, sql);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);

    /* A holding that no entry explains. */
    snprintf(sql, sizeof sql,
             "INSERT INTO bono_holding(account_id, bono_id, deferred_cents) VALUES (%lld, 3, 0)",
             (long long)c);
    sql_exec(f, sql);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_E_LEDGER_MISMATCH);
    snprintf(want, sizeof want,
             "account %lld has a holding of bono 3 (0 deferred cents) but no entry ever sold it",
             (long long)c);
    assert_string_equal(ledger_errmsg(f->ledger), want);
    sql_exec(f, "DELETE FROM bono_holding WHERE bono_id = 3");
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);

    /* The account side: a's 5 sessions of bono 2 with their holding gone. */
    snprintf(sql, sizeof sql, "DELETE FROM bono_holding WHERE account_id = %lld AND bono_id = 2",
             (long long)a);
    sql_exec(f, sql);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_E_LEDGER_MISMATCH);
    snprintf(want, sizeof want,
             "account %lld holds 5 sessions and 0 deferred cents of bono 2 but has no bono "
             "holding",
             (long long)a);
    assert_string_equal(ledger_errmsg(f->ledger), want);
    snprintf(sql, sizeof sql,
             "INSERT INTO bono_holding(account_id, bono_id, deferred_cents, last_day) VALUES "
             "(%lld, 2, 0, 0)",
             (long long)a);
    sql_exec(f, sql);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
}

/* The bono file rewritten under key 0, as only someone holding the card's
 * keys could: sessions of bono 1 set to SESSIONS. */
static void set_sessions(struct fixture *f, struct reader *r, uint16_t sessions)
{
    const struct key_version *kv;
    uint8_t key[16], b[BONO_FILE_LEN];
    struct bono_file bf;
    struct desfire d;
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_APP_MASTER, &kv), LEAL_OK);
    assert_int_equal(
        derive_card_key(crypto_openssl(), kv->key,
                        &(struct derive_card_input){uid7, sizeof uid7, aid, f->keys->issuer_id, 7},
                        key),
        LEAL_OK);
    desfire_init(&d, reader_card_reader(r), crypto_openssl());
    assert_int_equal(desfire_select_application(&d, aid), LEAL_OK);
    assert_int_equal(desfire_authenticate_aes(&d, LAYOUT_KEY_APP_MASTER, key), LEAL_OK);
    assert_int_equal(
        desfire_read_data(&d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, BONO_FILE_LEN, b), LEAL_OK);
    assert_int_equal(bono_file_decode(b, sizeof b, &bf), LEAL_OK);
    bf.slot[0].sessions = sessions;
    assert_int_equal(bono_file_encode(&bf, b), LEAL_OK);
    assert_int_equal(
        desfire_write_data(&d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, b, BONO_FILE_LEN),
        LEAL_OK);
    assert_int_equal(desfire_commit(&d), LEAL_OK);
    desfire_clear(&d);
}

/* The sessions the ledger last saw on the account's card (-1: none). */
static int64_t seen_sessions(struct fixture *f, int64_t account)
{
    return test_sql_i64(f->db, -1,
                        "SELECT coalesce(seen_sessions, -1) FROM bono_holding WHERE account_id = "
                        "%lld",
                        (long long)account);
}

/* Fewer sessions than the ledger: one used at a terminal, recorded for its
 * journal; more: blocked, never believed, nothing posted. */
static void test_card_fewer_recorded_more_blocked(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    char why[160];
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_OK);
    assert_int_equal(w.offline_sessions, 0);
    assert_int_equal(seen_sessions(f, f->account), 10);
    set_sessions(f, r, 9);
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_OK);
    assert_true(w.agrees);
    assert_false(w.verdict);
    assert_int_equal(w.offline_sessions, 1);
    assert_int_equal(seen_sessions(f, f->account), 9);
    {
        struct ledger_card lc;
        assert_int_equal(ledger_card_find_by_id(f->ledger, v.card_id, &lc), LEAL_OK);
        assert_int_equal(lc.status, LEDGER_CARD_ACTIVE);
    }
    assert_books(f, f->account, 10, 4500, -6500, 0, 10, 0);
    set_sessions(f, r, 11);
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_E_CARD_TAMPERED);
    assert_true(w.verdict);
    snprintf(why, sizeof why,
             "it shows 11 sessions of bono 1, more than the 10 the ledger holds for account %lld "
             "(sold less used)",
             (long long)f->account);
    assert_string_equal(w.why, why);
    desk_fixture_card_event(f, v.card_id, LEDGER_CARD_BLOCKED, w.why);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &today, 0, &w), LEAL_E_CARD_TAMPERED);
    assert_books(f, f->account, 10, 4500, -6500, 0, 10, 0);
    reader_close(r);
}

/* Three sessions used at a terminal, booked from its journal (issue 14)
 * with the lines ledger_bono_use_lines gives: 3 x 4.50 earned. No terminal
 * wrote this card, so it still shows 10, more than the ledger's 7. */
static void test_terminal_use_lines(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct ledger_bono_use u = {.program_id = 7, .account_id = f->account, .bono_id = 1};
    struct ledger_entry e;
    int64_t entry;
    bool replayed;
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    assert_int_equal(ledger_bono_use_lines(f->ledger, &u), LEAL_E_ARG); /* 0 sessions */
    u.sessions = 3;
    assert_int_equal(ledger_bono_use_lines(f->ledger, &u), LEAL_OK);
    assert_int_equal(u.nlines, 4);
    assert_int_equal(u.revenue_cents, 1350);
    memset(&e, 0, sizeof e);
    e.program_id = 7;
    e.kind = "redeem";
    e.request_id = "test:terminal-use";
    e.operator_name = "test";
    e.reason = "bono used at a terminal";
    e.card_id = v.card_id;
    e.nlines = u.nlines;
    e.lines = u.lines;
    assert_int_equal(ledger_post(f->ledger, &e, &entry, &replayed), LEAL_OK);
    assert_int_equal(ledger_bono_use_posted(f->ledger, f->account, 1, u.revenue_cents), LEAL_OK);
    assert_books(f, f->account, 7, 3150, -6500, 1350, 10, 3);
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_E_CARD_TAMPERED);
    reader_close(r);
}

static int64_t ledger_last_day(struct fixture *f, int64_t account, uint32_t bono)
{
    return test_sql_i64(f->db, -2,
                        "SELECT coalesce(last_day, -1) FROM bono_holding WHERE account_id = %lld "
                        "AND bono_id = %u",
                        (long long)account, bono);
}

/* Issue 12: a replacement card carries the account's bonos, from the ledger
 * (sessions sold less used, the last day its sale recorded), never from the
 * old card: bono 1 at 7 of 10 until 2026-12-13 and bono 2 at 5 with no last
 * day, byte for byte on the new card as a read gives it back; a session then
 * used there earns what the first card's would have. A Classic card cannot
 * replace it (the bonos would be lost): refused, nothing written. */
static void test_replacement_carries_bonos(void **state)
{
    struct fixture *f = *state;
    static const uint8_t uid7b[7] = {0x04, 0x77, 0x22, 0x33, 0x44, 0x55, 0x67};
    static const uint8_t want[BONO_FILE_LEN] = {
        0x02, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x51, 0x40, /* 1: 7, day 20800 */
        0x00, 0x00, 0x00, 0x02, 0x00, 0x05, 0x00, 0x00 /* 2: 5, no last day */};
    struct issuance_bono_sale free5 = {2, 5, 0, 0, 0, 0};
    struct issuance_request req = {.account_id = f->account, .replacing = true};
    struct issuance_card v, w;
    uint8_t bytes[BONO_FILE_LEN];
    FILE *fp;
    char before[8192], after[8192];
    size_t nb, na;
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    assert_int_equal(issuance_bono_sell(&f->is, r, &free5, &w), LEAL_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(issuance_bono_use(&f->is, r, 1, &today, 0, &w), LEAL_OK);
    reader_close(r);
    assert_int_equal(ledger_last_day(f, f->account, 1), LAST_DAY);
    assert_int_equal(ledger_last_day(f, f->account, 2), 0);
    assert_books(f, f->account, 7, 3150, -6500, 1350, 10, 3);

    assert_int_equal(ledger_card_set_status(f->ledger, v.card_id, LEDGER_CARD_LOST), LEAL_OK);
    req.replaced_card_id = v.card_id;
    desk_fixture_new_card(f, "desfire-ev1", uid7b, sizeof uid7b, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &w), LEAL_OK);
    assert_true(w.agrees);
    assert_int_equal(w.purse_cents, 2000);
    assert_int_equal(bono_file_encode(&w.bonos, bytes), LEAL_OK);
    assert_memory_equal(bytes, want, BONO_FILE_LEN);
    /* What the card itself holds, read back under the terminal key. */
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_OK);
    assert_true(w.agrees);
    assert_int_equal(w.layout_version, 2);
    assert_int_equal(w.offline_sessions, 0);
    assert_int_equal(bono_file_encode(&w.bonos, bytes), LEAL_OK);
    assert_memory_equal(bytes, want, BONO_FILE_LEN);
    /* The ledger's sessions did not move: the same bonos, on another card. */
    assert_books(f, f->account, 7, 3150, -6500, 1350, 10, 3);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &last_day, 0, &w), LEAL_OK);
    assert_int_equal(w.bono_cents, 450);
    assert_int_equal(w.bonos.slot[0].sessions, 6);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &after_last, 0, &w),
                     LEAL_E_RULES_BONO_EXPIRED);
    assert_int_equal(issuance_bono_use(&f->is, r, 2, &after_last, 0, &w), LEAL_OK);
    assert_int_equal(w.bonos.slot[1].sessions, 4);
    assert_books(f, f->account, 6, 2700, -6500, 1800, 10, 4);
    reader_close(r);

    /* A Classic card for it: refused before the card is written. */
    assert_int_equal(ledger_card_set_status(f->ledger, w.card_id, LEDGER_CARD_LOST), LEAL_OK);
    req.replaced_card_id = w.card_id;
    desk_fixture_new_card(f, "classic-1k", NULL, 0, false);
    fp = fopen(f->card, "rb");
    assert_non_null(fp);
    nb = fread(before, 1, sizeof before, fp);
    fclose(fp);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, &w), LEAL_E_CARD_NO_BONOS);
    reader_close(r);
    fp = fopen(f->card, "rb");
    assert_non_null(fp);
    na = fread(after, 1, sizeof after, fp);
    fclose(fp);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, na);
    assert_books(f, f->account, 6, 2700, -6500, 1800, 10, 4);
}

/* Another card than --card asks for, and a Classic card: refused, untouched. */
static void test_refusals_write_nothing(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct issuance_bono_sale other = sale45;
    struct reader *r = issue(f, f->account, &v);
    FILE *fp;
    char before[8192], after[8192];
    size_t nb, na;
    other.expect_card_id = v.card_id + 1;
    assert_int_equal(issuance_bono_sell(&f->is, r, &other, &w), LEAL_E_CARD_UNKNOWN);
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_OK);
    assert_int_equal(w.taps, v.taps);
    assert_int_equal(w.bonos.slot[0].id, 0);
    reader_close(r);
    desk_fixture_new_card(f, "classic-1k", NULL, 0, false);
    fp = fopen(f->card, "rb");
    assert_non_null(fp);
    nb = fread(before, 1, sizeof before, fp);
    fclose(fp);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_E_CARD_NO_BONOS);
    reader_close(r);
    fp = fopen(f->card, "rb");
    assert_non_null(fp);
    na = fread(after, 1, sizeof after, fp);
    fclose(fp);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, na);
    assert_books(f, f->account, 0, 0, -2000, 0, 0, 0);
}

/* Issue 12: a bono past its last day. 10 sessions for 45.00 until
 * 2026-12-13, 3 used (13.50 earned): the sweep on the last day moves
 * nothing; the day after it takes the 7 sessions left to bonos_expired and
 * the 31.50 still deferred from bonos_sold to breakage, once (a second
 * sweep moves nothing). The card keeps showing 7 on its expired slot: a
 * read agrees (no verdict, nothing waiting), a use is refused as expired.
 * Sold again the day after, the slot starts again at 10 (never 17). */
static void test_expired_bono_to_breakage(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct ledger_bono_expired x;
    struct issuance_bono_sale again = {1, 10, 4500, LAST_DAY + 30, 0, LAST_DAY + 1};
    int64_t held, deferred;
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(issuance_bono_use(&f->is, r, 1, &today, 0, &w), LEAL_OK);
    assert_books(f, f->account, 7, 3150, -6500, 1350, 10, 3);
    assert_int_equal(ledger_bono_expire(f->ledger, 7, LAST_DAY, "test", &x), LEAL_OK);
    assert_int_equal(x.holdings, 0);
    assert_int_equal(prog_balance(f, "breakage", "EUR"), 0);
    assert_int_equal(ledger_bono_expire(f->ledger, 7, LAST_DAY + 1, "test", &x), LEAL_OK);
    assert_int_equal(x.holdings, 1);
    assert_int_equal(x.sessions, 7);
    assert_int_equal(x.cents, 3150);
    /* 0 sessions, 0 deferred; revenue 13.50, issued 10, used 3; expired 7. */
    assert_books(f, f->account, 0, 0, -6500, 1350, 10, 3);
    assert_int_equal(prog_balance(f, "breakage", "EUR"), 3150);
    assert_int_equal(prog_balance(f, "bonos_expired", "BONO:1"), 7);
    assert_int_equal(ledger_bono_expired_sessions(f->ledger, f->account, 1, LAST_DAY, &held),
                     LEAL_OK);
    assert_int_equal(held, 7);
    assert_int_equal(ledger_bono_expire(f->ledger, 7, LAST_DAY + 1, "test", &x), LEAL_OK);
    assert_int_equal(x.holdings + x.sessions + x.cents, 0);
    assert_int_equal(prog_balance(f, "breakage", "EUR"), 3150);
    assert_int_equal(issuance_read(&f->is, r, &w), LEAL_OK);
    assert_true(w.agrees);
    assert_false(w.verdict);
    assert_int_equal(w.bonos.slot[0].sessions, 7);
    assert_int_equal(w.offline_sessions, 0);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &after_last, 0, &w),
                     LEAL_E_RULES_BONO_EXPIRED);
    assert_int_equal(issuance_bono_sell(&f->is, r, &again, &w), LEAL_OK);
    assert_int_equal(w.bonos.slot[0].sessions, 10);
    assert_int_equal(w.bonos.slot[0].last_day, LAST_DAY + 30);
    assert_true(w.agrees);
    assert_int_equal(ledger_bono_held(f->ledger, f->account, 1, &held, &deferred), LEAL_OK);
    assert_int_equal(held, 10);
    assert_int_equal(deferred, 4500);
    assert_int_equal(prog_balance(f, "bonos_sold", "EUR"), 4500);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    reader_close(r);
}

/* A sale onto a slot past its last day that no sweep has reached yet: the
 * sale sweeps the program first, so the 9 sessions left (40.50 deferred)
 * go to breakage and the card and ledger both hold the new 10. */
static void test_sale_onto_expired_sweeps_first(void **state)
{
    struct fixture *f = *state;
    struct issuance_card v, w;
    struct issuance_bono_sale again = {1, 10, 4500, LAST_DAY + 30, 0, LAST_DAY + 1};
    int64_t held, deferred;
    struct reader *r = issue(f, f->account, &v);
    assert_int_equal(issuance_bono_sell(&f->is, r, &sale45, &w), LEAL_OK);
    assert_int_equal(issuance_bono_use(&f->is, r, 1, &today, 0, &w), LEAL_OK);
    assert_int_equal(issuance_bono_sell(&f->is, r, &again, &w), LEAL_OK);
    assert_true(w.agrees);
    assert_int_equal(w.bonos.slot[0].sessions, 10);
    assert_int_equal(w.bono_held, 10);
    assert_int_equal(ledger_bono_held(f->ledger, f->account, 1, &held, &deferred), LEAL_OK);
    assert_int_equal(held, 10);
    assert_int_equal(deferred, 4500);
    assert_int_equal(prog_balance(f, "breakage", "EUR"), 4050);
    assert_int_equal(prog_balance(f, "bonos_expired", "BONO:1"), 9);
    assert_int_equal(prog_balance(f, "bonos_revenue", "EUR"), 450);
    assert_int_equal(prog_balance(f, "cash", "EUR"), -2000 - 4500 - 4500);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
    reader_close(r);
}

/* The store of the card's newest entry with that reason (0: none). */
static int64_t entry_store(struct fixture *f, int64_t card_id, const char *reason)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT coalesce(store_id, 0) FROM entry WHERE card_id = "
                                        "?1 AND reason = ?2 ORDER BY id DESC LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, card_id);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The desk's store (issue 14, `leal bono sell|use --store`): a sale made at
 * store A and torn at its commit's exchange, the card having taken it, is
 * posted by the next read at store B's desk at A, where it was made (the
 * intent keeps it); a use at B is B's; a desk without a store posts none. */
static void test_desk_store_kept(void **state)
{
    struct fixture *f = *state;
    int64_t a, b;
    unsigned posted = 0;
    struct torn t;
    assert_int_equal(ledger_store_add(f->ledger, 7, "a", "A", "Europe/Madrid", &a), LEAL_OK);
    assert_int_equal(ledger_store_add(f->ledger, 7, "b", "B", "Europe/Madrid", &b), LEAL_OK);
    for (size_t w = 0; w < DESK_FIXTURE_TEAR_WAYS; w++) {
        char name[32];
        snprintf(name, sizeof name, "store %zu", w);
        f->is.store_id = a;
        t.account = desk_fixture_customer(f, name);
        t.r = issue(f, t.account, &t.out);
        desk_fixture_tear_arm(t.r, w, 12);
        assert_int_equal(issuance_bono_sell(&f->is, t.r, &sale45, &t.view), LEAL_E_CARD_REMOVED);
        assert_true(desk_fixture_tear_fired(t.r));
        f->is.store_id = b;
        assert_int_equal(issuance_read(&f->is, t.r, &t.view), LEAL_OK);
        if (t.view.bonos_settled == 1) {
            posted++;
            assert_int_equal(entry_store(f, t.out.card_id, "bono sold at the desk"), a);
            assert_int_equal(issuance_bono_use(&f->is, t.r, 1, &today, 0, &t.view), LEAL_OK);
            assert_int_equal(entry_store(f, t.out.card_id, "bono session used at the desk"), b);
            f->is.store_id = 0;
            assert_int_equal(issuance_bono_use(&f->is, t.r, 1, &today, 0, &t.view), LEAL_OK);
            assert_int_equal(entry_store(f, t.out.card_id, "bono session used at the desk"), 0);
            assert_int_equal(t.view.bono_held, 8);
        } else {
            assert_int_equal(entry_store(f, t.out.card_id, "bono sold at the desk"), -1);
        }
        reader_close(t.r);
    }
    print_message("torn at the commit, posted by the next read: %u of %d ways\n", posted,
                  (int)DESK_FIXTURE_TEAR_WAYS);
    assert_int_equal(posted, 5); /* as test_sale_torn_at_every_exchange finds at exchange 12 */
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sale_and_every_use, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_revenue_rounding_last_takes_rest, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_use_refused_after_last_day, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_sale_torn_at_every_exchange, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_use_torn_at_every_exchange, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_checks_deferred, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_card_fewer_recorded_more_blocked, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_terminal_use_lines, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_write_nothing, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_replacement_carries_bonos, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_verify_both_ways, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_expired_bono_to_breakage, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_sale_onto_expired_sweeps_first, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desk_store_kept, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
