/*
 * settle_test.c - settlement between the shops of a collective
 * (host/ledger/ledger_settle.h, issue 14) on a real ledger: a collective of
 * three shops and a month (November 2026) of generated activity: desk
 * top-ups with a shop and without, online sales (ledger_sale_post, what
 * `leal sale` posts) and refunds, and each shop's terminal journal (earns,
 * purse payments, redeems, pay + earn, voids) made by the real journal and
 * imported by host/sync. Each shop's figures are checked against two
 * computations of the test's own: the generator's tally of what it did, and
 * a separate SQL on the program's side of the books (points_issued,
 * points_redeemed, cash), not the customers' lines ledger_settle reads. The
 * rows sum to zero; the settled period is closed (entries posted later with
 * November times go to December); refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "host/issuance/issuance_books.h"
#include "host/ledger/ledger.h"
#include "host/ledger/ledger_reward.h"
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_sale.h"
#include "host/ledger/ledger_settle.h"
#include "host/sync/sync.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/journal_gen.h"
#include "tests/lib/ledger_cards.h"
#include "tests/lib/testutil.h"

#define PROGRAM 9
#define NOV1 INT64_C(1793491200) /* 2026-11-01 00:00 UTC (day 20758) */
#define DEC1 INT64_C(1796083200) /* 2026-12-01 00:00 UTC */
#define DAY 86400
#define NCUST 24
#define SHOPS 3
#define NO_SHOP SHOPS /* the tally's row of entries without a store */
#define VALUE 2       /* cents a point */

struct tally {
    int64_t collected, paid, loaded, spent;
};

struct fx {
    char *dir, db[512];
    struct ledger *l;
    struct keyset *ks;
    struct sync_keys k;
    struct rules_program *rules;
    int64_t store[SHOPS], acct[NCUST], cash;
    int64_t pts[NCUST], eur[NCUST]; /* each account's balances as generated */
    struct tally want[SHOPS + 1];
    uint64_t rng;
    int nreq;
};

static uint32_t rnd(struct fx *f, uint32_t n)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return (uint32_t)(f->rng % n);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct ledger_program p = {0};
    uint32_t version;
    int64_t id;
    f->dir = test_tmpdir_fast();
    snprintf(f->db, sizeof f->db, "%s/ledger.db", f->dir);
    assert_int_equal(ledger_open(f->db, &f->l), LEAL_OK);
    p.id = PROGRAM;
    snprintf(p.code, sizeof p.code, "mercado");
    snprintf(p.name, sizeof p.name, "Mercado");
    p.kind = LEDGER_PROGRAM_COLLECTIVE;
    p.points_per_euro_milli = 1000;
    p.purse_cap_cents = LEDGER_PURSE_CAP_DEFAULT;
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_OK);
    for (int s = 0; s < SHOPS; s++) {
        char code[16];
        snprintf(code, sizeof code, "s%d", s + 1);
        assert_int_equal(ledger_store_add(f->l, PROGRAM, code, code, "Europe/Madrid", &f->store[s]),
                         LEAL_OK);
        assert_int_equal(ledger_terminal_add(f->l, f->store[s], code, &id), LEAL_OK);
        assert_int_equal(id, s + 1);
    }
    assert_int_equal(ledger_fixture_cards(f->l, PROGRAM, 3000, NCUST, f->acct), LEAL_OK);
    assert_int_equal(ledger_program_account(f->l, PROGRAM, "cash", &f->cash), LEAL_OK);
    f->rules = calloc(1, sizeof *f->rules);
    assert_int_equal(ledger_rules_load(f->l, PROGRAM, f->rules, &version), LEAL_OK);
    f->ks = calloc(1, sizeof *f->ks);
    f->ks->issuer_id = 42;
    assert_int_equal(keyset_add_program(f->ks, PROGRAM, (uint64_t)NOV1, crypto_openssl()->random),
                     LEAL_OK);
    f->k.cp = crypto_openssl();
    f->k.ks = f->ks;
    f->rng = 0x9e3779b97f4a7c15u;
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
    free(f->rules);
    free(f);
    return 0;
}

/* A desk top-up of cents onto account i at shop s (NO_SHOP: none) at time at. */
static void topup(struct fx *f, int i, int s, int64_t cents, int64_t at)
{
    struct ledger_line ln[2] = {{0}};
    struct ledger_entry e = {0};
    char req[32];
    int64_t id;
    bool rep;
    ln[0].account_id = f->acct[i];
    ln[0].amount = cents;
    ln[1].account_id = f->cash;
    ln[1].amount = -cents;
    snprintf(ln[0].asset, sizeof ln[0].asset, "EUR");
    snprintf(ln[1].asset, sizeof ln[1].asset, "EUR");
    snprintf(req, sizeof req, "desk:%d", f->nreq++);
    e.program_id = PROGRAM;
    e.kind = "topup";
    e.at = at;
    e.store_id = s == NO_SHOP ? 0 : f->store[s];
    e.request_id = req;
    e.operator_name = "desk";
    e.reason = "top-up";
    e.nlines = 2;
    e.lines = ln;
    assert_int_equal(ledger_post(f->l, &e, &id, &rep), LEAL_OK);
    f->eur[i] += cents;
    f->want[s].loaded += cents;
}

/* An online sale of account i at shop s: its sale id. */
static int64_t sale(struct fx *f, int i, int s, int64_t cents, int64_t at)
{
    struct ledger_sale_request rq = {0};
    struct ledger_sale_result out;
    char req[32];
    snprintf(req, sizeof req, "sale:%d", f->nreq++);
    rq.account_id = f->acct[i];
    rq.store_id = f->store[s];
    rq.at = at;
    rq.amount_cents = cents;
    rq.request_id = req;
    rq.operator_name = "till";
    rq.rules = f->rules;
    assert_int_equal(ledger_sale_post(f->l, &rq, &out), LEAL_OK);
    assert_int_equal(out.points_settled, 0);
    assert_int_equal(out.r.points, cents / 100);
    f->pts[i] += out.r.points;
    f->want[s].collected += out.r.points;
    return out.sale_id;
}

static void refund(struct fx *f, int64_t sale_id, int i, int s, int64_t cents, int64_t at)
{
    struct ledger_refund_request rq = {0};
    struct ledger_refund_result out;
    char req[32];
    snprintf(req, sizeof req, "refund:%d", f->nreq++);
    rq.sale_id = sale_id;
    rq.amount_cents = cents;
    rq.at = at;
    rq.request_id = req;
    rq.operator_name = "till";
    rq.rules = f->rules;
    assert_int_equal(ledger_sale_refund(f->l, &rq, &out), LEAL_OK);
    assert_int_equal(out.r.points_short, 0);
    f->pts[i] -= out.r.points_back;
    f->want[s].collected -= out.r.points_back;
}

/* What each card's last operation at this terminal was (a void undoes it). */
struct last_op {
    uint8_t op;
    int64_t points, purse;
};

/* Shop s's terminal journal: n operations from `from`, ten minutes apart,
 * imported; nothing held (the tally keeps every redeem and payment within
 * the account's balance). */
static void terminal_month(struct fx *f, int s, int n, int64_t from)
{
    const struct key_version *kv;
    struct last_op last[NCUST];
    bool known[NCUST] = {false};
    struct sync_result r;
    uint8_t key[16], *exp = NULL;
    size_t len;
    struct jgen g;
    assert_int_equal(keyset_current(f->ks, PROGRAM, KEY_ROLE_JOURNAL_MAC, &kv), LEAL_OK);
    assert_int_equal(derive_journal_key(crypto_openssl(), kv->key, f->ks->issuer_id, PROGRAM,
                                        (uint32_t)s + 1, key),
                     LEAL_OK);
    assert_int_equal(jgen_open(&g, key, 1, PROGRAM, (uint32_t)s + 1, 64, (uint64_t)from), LEAL_OK);
    memset(last, 0, sizeof last);
    for (int k = 0; k < n; k++) {
        int i = (int)rnd(f, NCUST);
        struct jgen_op o = {0};
        uint32_t what = rnd(f, 10);
        g.now = (uint64_t)(from + (int64_t)k * 600);
        if (!known[i]) {
            assert_int_equal(
                jgen_card(&g, 3000 + (uint64_t)i, JOURNAL_CARD_DESFIRE, f->pts[i], f->eur[i]),
                LEAL_OK);
            known[i] = true;
        }
        o.card_id = 3000 + (uint64_t)i;
        if (what == 9 && last[i].op != 0) {
            if (f->pts[i] - last[i].points < 0)
                continue; /* its points spent since: the void would leave the account short */
            o.op = JOURNAL_OP_VOID;
            f->pts[i] -= last[i].points;
            f->eur[i] += last[i].purse;
            if (last[i].op == JOURNAL_OP_REDEEM)
                f->want[s].paid += last[i].points; /* points < 0: paid out less */
            else
                f->want[s].collected -= last[i].points;
            f->want[s].spent -= last[i].purse;
            last[i].op = 0;
        } else if (what >= 6 && f->pts[i] >= 10) {
            o.op = JOURNAL_OP_REDEEM;
            o.points = -(int64_t)(1 + rnd(f, (uint32_t)f->pts[i] / 3));
            f->pts[i] += o.points;
            f->want[s].paid -= o.points;
            last[i] = (struct last_op){o.op, o.points, 0};
        } else if (what >= 3 && f->eur[i] >= 100) {
            o.op = what == 5 ? JOURNAL_OP_PAY_EARN : JOURNAL_OP_PAY;
            o.purse = 1 + rnd(f, (uint32_t)f->eur[i] / 4);
            o.amount = o.purse;
            o.points = o.op == JOURNAL_OP_PAY_EARN ? o.purse / 100 : 0;
            f->eur[i] -= o.purse;
            f->pts[i] += o.points;
            f->want[s].spent += o.purse;
            f->want[s].collected += o.points;
            last[i] = (struct last_op){o.op, o.points, o.purse};
        } else {
            o.op = JOURNAL_OP_EARN;
            o.amount = 100 + rnd(f, 4000);
            o.points = o.amount / 100;
            f->pts[i] += o.points;
            f->want[s].collected += o.points;
            last[i] = (struct last_op){o.op, o.points, 0};
        }
        assert_int_equal(jgen_do(&g, &o), LEAL_OK);
    }
    assert_int_equal(jgen_export(&g, &exp, &len), LEAL_OK);
    assert_int_equal(sync_import(f->l, &f->k, exp, len, &r), LEAL_OK);
    assert_int_equal(r.held + r.undone, 0);
    free(exp);
    jgen_close(&g);
}

/* November: desk top-ups (1st-10th), sales and refunds (2nd-12th), then
 * each shop's terminal (from the 15th). */
static void month(struct fx *f)
{
    int64_t sales[40];
    int sale_cust[40], sale_shop[40];
    for (int i = 0; i < NCUST; i++)
        topup(f, i, i % 5 == 4 ? NO_SHOP : (int)rnd(f, SHOPS), 2000 + 100 * (int64_t)rnd(f, 30),
              NOV1 + (int64_t)rnd(f, 10 * DAY));
    for (int k = 0; k < 40; k++) {
        sale_cust[k] = (int)rnd(f, NCUST);
        sale_shop[k] = (int)rnd(f, SHOPS);
        sales[k] = sale(f, sale_cust[k], sale_shop[k], 500 + 10 * (int64_t)rnd(f, 600),
                        NOV1 + DAY + (int64_t)k * 6 * 3600);
    }
    for (int k = 0; k < 40; k += 8)
        refund(f, sales[k], sale_cust[k], sale_shop[k], 300, NOV1 + 12 * DAY + k * 60);
    for (int s = 0; s < SHOPS; s++)
        terminal_month(f, s, 120, NOV1 + (14 + 4 * s) * DAY);
}

/* ledger_settle with its request spelled out. */
static leal_err settle(struct ledger *l, int64_t program, int year, int month, bool close,
                       const char *operator_name, struct ledger_settlement *out)
{
    struct ledger_settle_request rq = {program, year, month, close, operator_name};
    return ledger_settle(l, &rq, out);
}

/* The independent SQL: per store, from the program's side of each entry
 * (points_issued, points_redeemed, cash), an entry's store its own. */
static void program_side_in(struct fx *f, int64_t after, int64_t end, int64_t upto,
                            struct tally out[SHOPS + 1]);

static void program_side(struct fx *f, int64_t upto, struct tally out[SHOPS + 1])
{
    program_side_in(f, 0, DEC1, upto, out);
}

/* The same for the entries after entry `after` with times before end. */
static void program_side_in(struct fx *f, int64_t after, int64_t end, int64_t upto,
                            struct tally out[SHOPS + 1])
{
    static const char sql[] =
        "SELECT coalesce(e.store_id, 0), "
        "-total(CASE WHEN a.name = 'points_issued' THEN l.amount END), "
        "total(CASE WHEN a.name = 'points_redeemed' THEN l.amount END), "
        "-total(CASE WHEN a.name = 'cash' AND e.kind = 'topup' THEN l.amount END), "
        "total(CASE WHEN a.name = 'cash' AND e.kind IN ('spend', 'void') THEN l.amount END) "
        "FROM entry e JOIN line l ON l.entry_id = e.id JOIN account a ON a.id = l.account_id "
        "WHERE a.kind = 'program' AND e.program_id = ?1 AND e.at < ?2 AND e.id <= ?3 "
        "AND e.id > ?4 GROUP BY 1";
    sqlite3 *db;
    sqlite3_stmt *st;
    memset(out, 0, sizeof(struct tally) * (SHOPS + 1));
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, PROGRAM);
    sqlite3_bind_int64(st, 2, end);
    sqlite3_bind_int64(st, 3, upto);
    sqlite3_bind_int64(st, 4, after);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t store = sqlite3_column_int64(st, 0);
        int s = NO_SHOP;
        for (int k = 0; k < SHOPS; k++)
            if (f->store[k] == store)
                s = k;
        out[s].collected = (int64_t)sqlite3_column_double(st, 1);
        out[s].paid = (int64_t)sqlite3_column_double(st, 2);
        out[s].loaded = (int64_t)sqlite3_column_double(st, 3);
        out[s].spent = (int64_t)sqlite3_column_double(st, 4);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The settlement's rows against a tally: the three shops, no shop, the
 * pool as minus their sum, balances at VALUE cents a point, total zero. */
static void assert_rows(const struct ledger_settlement *s, const struct fx *f,
                        const struct tally want[SHOPS + 1])
{
    struct tally sum = {0};
    int64_t total = 0, bal_sum = 0;
    assert_int_equal(s->nrows, SHOPS + 2);
    for (int k = 0; k <= SHOPS; k++) {
        const struct ledger_settle_row *r = &s->rows[k];
        int64_t bal = VALUE * (want[k].paid - want[k].collected) + want[k].spent - want[k].loaded;
        assert_int_equal(r->store_id, k == NO_SHOP ? LEDGER_SETTLE_NO_SHOP : f->store[k]);
        assert_int_equal(r->points_collected, want[k].collected);
        assert_int_equal(r->points_paid_out, want[k].paid);
        assert_int_equal(r->purse_loaded_cents, want[k].loaded);
        assert_int_equal(r->purse_spent_cents, want[k].spent);
        assert_int_equal(r->balance_cents, bal);
        sum.collected += want[k].collected;
        sum.paid += want[k].paid;
        sum.loaded += want[k].loaded;
        sum.spent += want[k].spent;
        bal_sum += bal;
    }
    assert_int_equal(s->rows[SHOPS + 1].store_id, LEDGER_SETTLE_POOL);
    assert_int_equal(s->rows[SHOPS + 1].points_collected, -sum.collected);
    assert_int_equal(s->rows[SHOPS + 1].points_paid_out, -sum.paid);
    assert_int_equal(s->rows[SHOPS + 1].purse_loaded_cents, -sum.loaded);
    assert_int_equal(s->rows[SHOPS + 1].purse_spent_cents, -sum.spent);
    assert_int_equal(s->rows[SHOPS + 1].balance_cents, -bal_sum);
    for (size_t k = 0; k < s->nrows; k++)
        total += s->rows[k].balance_cents;
    assert_int_equal(total, 0);
}

static void assert_matrix(const struct ledger_settlement *s);

static void test_month_of_three_shops(void **state)
{
    struct fx *f = *state;
    static struct ledger_settlement s, again, dec;
    struct tally sql[SHOPS + 1], late[SHOPS + 1] = {{0}};
    int64_t upto;
    month(f);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
    /* No point value yet. */
    assert_int_equal(settle(f->l, PROGRAM, 2026, 11, false, NULL, &s), LEAL_E_SETTLE_NO_VALUE);
    assert_int_equal(ledger_settle_value_set(f->l, PROGRAM, VALUE, "test"), LEAL_OK);

    /* The preview, then the settlement: the same figures, each shop's as the
     * generator tallied them and as the program's side of the books says. */
    assert_int_equal(settle(f->l, PROGRAM, 2026, 11, false, NULL, &s), LEAL_OK);
    assert_false(s.closed);
    assert_rows(&s, f, f->want);
    assert_matrix(&s);
    upto = s.upto_entry;
    program_side(f, upto, sql);
    assert_memory_equal(sql, f->want, sizeof sql);
    for (int k = 0; k < SHOPS; k++) /* every shop did something of each */
        assert_true(f->want[k].collected > 0 && f->want[k].paid > 0 && f->want[k].loaded > 0 &&
                    f->want[k].spent > 0);
    print_message("shop 1: collected %lld, paid out %lld, loaded %lld, spent %lld, balance "
                  "%lld\n",
                  (long long)s.rows[0].points_collected, (long long)s.rows[0].points_paid_out,
                  (long long)s.rows[0].purse_loaded_cents, (long long)s.rows[0].purse_spent_cents,
                  (long long)s.rows[0].balance_cents);
    assert_int_equal(settle(f->l, PROGRAM, 2026, 11, true, "test", &s), LEAL_OK);
    assert_true(s.closed && s.closed_now);
    assert_int_equal(s.upto_entry, upto);
    assert_rows(&s, f, f->want);

    /* Closed: a sale with a November time and a terminal's late journal,
     * posted after, go to December; November shows what it settled. */
    memcpy(late, f->want, sizeof late);
    memset(f->want, 0, sizeof f->want);
    sale(f, 0, 1, 4200, NOV1 + 20 * DAY);
    terminal_month(f, 2, 30, NOV1 + 27 * DAY);
    assert_int_equal(settle(f->l, PROGRAM, 2026, 11, true, "test", &again), LEAL_OK);
    assert_true(again.closed);
    assert_false(again.closed_now);
    assert_int_equal(again.upto_entry, upto);
    assert_rows(&again, f, late);
    assert_int_equal(settle(f->l, PROGRAM, 2026, 12, false, NULL, &dec), LEAL_OK);
    assert_false(dec.closed);
    assert_rows(&dec, f, f->want);
    assert_int_equal(dec.rows[1].points_collected, 42);
    assert_true(dec.rows[2].points_collected + dec.rows[2].points_paid_out > 0);

    /* In order, and once ended. */
    assert_int_equal(settle(f->l, PROGRAM, 2026, 10, true, "test", &dec), LEAL_E_SETTLE_ORDER);
    assert_string_equal(ledger_errmsg(f->l), "period 2026-11 is settled already, after 2026-10");
    assert_int_equal(settle(f->l, PROGRAM, 2099, 1, true, "test", &dec), LEAL_E_SETTLE_OPEN);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

/* The catalogue: reward 1, a product for 50 points. */
static leal_err add_reward(struct ledger_rules *r, void *ctx)
{
    (void)ctx;
    r->set.program.rewards[0] = (struct rules_reward){1, RULES_REWARD_PRODUCT, 50, 7, 0};
    r->set.program.n_rewards = 1;
    snprintf(r->reward_name[0], sizeof r->reward_name[0], "coffee");
    return LEAL_OK;
}

/* A desk top-up of cents onto card 3000 + i by the desk's own posting: the
 * intent recorded at shop s (NO_SHOP: a desk without a store), then settled
 * by a read at the desk of the next shop, which posts it where it was
 * loaded. */
static void desk_topup(struct fx *f, struct issuance *is, int i, int s, int64_t cents)
{
    struct ledger_pending_topup t = {0}, in;
    struct ledger_card lc;
    bool found, rep;
    assert_int_equal(ledger_card_find_by_id(f->l, 3000 + i, &lc), LEAL_OK);
    is->store_id = s == NO_SHOP ? 0 : f->store[s];
    t.card_id = lc.card_id;
    t.seq_before = f->nreq;
    t.seq_after = t.seq_before + 1;
    t.cents = cents;
    t.purse_after = f->eur[i] + cents;
    t.store_id = is->store_id; /* as issuance's top-up records it */
    snprintf(t.request_id, sizeof t.request_id, "card:%lld:log:%d", (long long)lc.card_id,
             f->nreq++);
    assert_int_equal(ledger_pending_topup_add(f->l, &t), LEAL_OK);
    assert_int_equal(ledger_pending_topup_get(f->l, lc.card_id, &in, &found), LEAL_OK);
    assert_true(found);
    assert_int_equal(in.store_id, t.store_id);
    is->store_id = f->store[(s + 1) % SHOPS];
    assert_int_equal(issuance_post_topup(is, &lc, &in, &rep), LEAL_OK);
    assert_false(rep);
    f->eur[i] += cents;
    f->want[s].loaded += cents;
}

/* Reward 1 (50 points) redeemed for account i at the desk of shop s. */
static void desk_redeem(struct fx *f, int i, int s)
{
    struct ledger_reward_result out;
    char req[32];
    snprintf(req, sizeof req, "redeem:%d", f->nreq++);
    struct ledger_reward_request rq = {.program_id = PROGRAM,
                                       .account_id = f->acct[i],
                                       .card_id = 3000 + i,
                                       .reward_id = 1,
                                       .store_id = f->store[s],
                                       .operator_name = "desk",
                                       .request_id = req};
    assert_int_equal(ledger_reward_redeem(f->l, &rq, &out), LEAL_OK);
    assert_int_equal(out.points, 50);
    f->pts[i] -= 50;
    f->want[s].paid += 50;
}

/* Who owes whom against the balances: each transfer from a row that owes to
 * one that is owed, at most one fewer than the rows, and every row's
 * transfers out less in exactly minus its balance. */
static void assert_matrix(const struct ledger_settlement *s)
{
    int64_t net[LEDGER_SETTLE_MAX_SHOPS + 2] = {0};
    assert_true(s->ntransfers > 0 && s->ntransfers < s->nrows);
    for (size_t k = 0; k < s->ntransfers; k++) {
        const struct ledger_settle_transfer *t = &s->transfers[k];
        assert_true(t->cents > 0);
        assert_true(s->rows[t->from].balance_cents < 0);
        assert_true(s->rows[t->to].balance_cents > 0);
        net[t->from] += t->cents;
        net[t->to] -= t->cents;
    }
    for (size_t i = 0; i < s->nrows; i++)
        assert_int_equal(net[i], -s->rows[i].balance_cents);
}

/* This month at the desks of the three shops and one without a store: top-ups
 * by the desk's posting (settled by a read at another shop, counted where
 * loaded) and rewards redeemed there, with sales and each shop's terminal;
 * the preview's rows against the tally and the program's side of the books,
 * summing to zero, and who owes whom. */
static void test_desk_at_shops(void **state)
{
    struct fx *f = *state;
    static struct ledger_settlement s;
    struct ledger_rules_change c = {"test", "catalogue", "reward added", add_reward, NULL, {0, 0},
                                    0};
    struct issuance is = {0};
    struct tally sql[SHOPS + 1];
    int64_t now, start;
    uint32_t version;
    time_t tt;
    struct tm tm;
    /* The desk's top-ups and redeems are posted at the ledger's clock, the
     * month settled is now's: the test must not cross a month's end. */
    test_clear_of_midnight(120);
    now = (int64_t)time(NULL);
    tt = (time_t)now;
    assert_non_null(gmtime_r(&tt, &tm));
    start = now - (int64_t)(tm.tm_mday - 1) * DAY - tm.tm_hour * 3600 - tm.tm_min * 60 - tm.tm_sec;
    assert_int_equal(ledger_rules_change(f->l, PROGRAM, &c), LEAL_OK);
    assert_int_equal(ledger_rules_load(f->l, PROGRAM, f->rules, &version), LEAL_OK);
    is.ledger = f->l;
    is.cp = crypto_openssl();
    is.program_id = PROGRAM;
    is.operator_name = "desk";

    for (int i = 0; i < NCUST; i++)
        desk_topup(f, &is, i, i % 5 == 4 ? NO_SHOP : i % SHOPS, 1000 + 100 * (int64_t)rnd(f, 30));
    for (int k = 0; k < 30; k++)
        sale(f, (int)rnd(f, NCUST), k % SHOPS, 2000 + 10 * (int64_t)rnd(f, 600), now);
    for (int i = 0; i < NCUST; i++)
        if (f->pts[i] >= 50)
            desk_redeem(f, i, (i + 1) % SHOPS);
    /* The terminals, ten seconds apart from the month's first hour. */
    for (int sh = 0; sh < SHOPS; sh++)
        terminal_month(f, sh, 40, start + 3600 + sh * 600);
    assert_int_equal(ledger_settle_value_set(f->l, PROGRAM, VALUE, "test"), LEAL_OK);
    assert_int_equal(settle(f->l, PROGRAM, tm.tm_year + 1900, tm.tm_mon + 1, false, NULL, &s),
                     LEAL_OK);
    assert_int_equal(s.start_at, start);
    assert_rows(&s, f, f->want);
    program_side_in(f, 0, s.end_at, s.upto_entry, sql);
    assert_memory_equal(sql, f->want, sizeof sql);
    for (int k = 0; k < SHOPS; k++) /* every shop's desk loaded and paid out */
        assert_true(f->want[k].loaded > 0 && f->want[k].paid >= 50 && f->want[k].collected > 0);
    assert_true(f->want[NO_SHOP].loaded > 0);
    assert_int_equal(f->want[NO_SHOP].paid + f->want[NO_SHOP].collected, 0);
    assert_matrix(&s);
    assert_int_equal(ledger_verify(f->l, NULL), LEAL_OK);
}

static void test_refusals(void **state)
{
    struct fx *f = *state;
    static struct ledger_settlement s;
    struct ledger_program p = {0};
    int64_t id, cents;
    sqlite3 *db;
    p.id = 10;
    snprintf(p.code, sizeof p.code, "sol");
    snprintf(p.name, sizeof p.name, "Sol");
    p.kind = LEDGER_PROGRAM_SINGLE;
    p.points_per_euro_milli = 1000;
    p.purse_cap_cents = LEDGER_PURSE_CAP_DEFAULT;
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_OK);
    assert_int_equal(settle(f->l, 10, 2026, 11, false, NULL, &s), LEAL_E_SETTLE_NOT_COLLECTIVE);
    assert_int_equal(settle(f->l, 11, 2026, 11, false, NULL, &s), LEAL_E_UNKNOWN_PROGRAM);
    assert_int_equal(settle(f->l, PROGRAM, 2026, 13, false, NULL, &s), LEAL_E_ARG);
    assert_int_equal(ledger_settle_default_program(f->l, &id), LEAL_OK);
    assert_int_equal(id, PROGRAM);
    assert_int_equal(ledger_settle_value_set(f->l, PROGRAM, 0, "test"), LEAL_E_ARG);
    assert_int_equal(ledger_settle_value_set(f->l, PROGRAM, 3, "test"), LEAL_OK);
    assert_int_equal(ledger_settle_value_set(f->l, PROGRAM, 5, "test"), LEAL_OK);
    assert_int_equal(ledger_settle_value_get(f->l, PROGRAM, &cents), LEAL_OK);
    assert_int_equal(cents, 5);
    /* An empty month settles to zeros; once settled, the ledger refuses to
     * change or remove it. */
    assert_int_equal(settle(f->l, PROGRAM, 2026, 10, true, "test", &s), LEAL_OK);
    assert_int_equal(s.nrows, SHOPS + 2);
    assert_int_equal(s.rows[SHOPS + 1].store_id, LEDGER_SETTLE_POOL);
    assert_int_equal(s.rows[SHOPS + 1].balance_cents, 0);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM settlement", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE settlement SET upto_entry = 0", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_month_of_three_shops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_desk_at_shops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
