/* report_gen.c - generated activity for the report tests and bench (report_gen.h). */
#include "report_gen.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_settle.h"

#define DAY 86400
#define RING 64

const char *const report_gen_rewards[REPORT_GEN_REWARDS] = {"reward:coffee", "reward:cake",
                                                            "reward:lunch"};

enum gen_kind { K_EARN, K_REDEEM, K_TOPUP, K_SPEND, K_ADJUST };

/* A recent entry, for voids. */
struct logged {
    int64_t id;
    enum gen_kind kind;
    int shop, c, reward;
    int64_t pts, eur; /* what it moved on the customer's account */
    bool voided;
};

struct ctx {
    struct ledger *l;
    struct report_gen *g;
    int64_t issued, redeemed, expired, adjustments, cash;
    uint64_t rng;
    int64_t seq;
    struct logged ring[RING];
    size_t nring;
    int batched;
    int joined; /* customers 0..joined-1 have joined (join days only grow) */
};

static uint32_t rnd(struct ctx *x, uint32_t n)
{
    x->rng ^= x->rng << 13;
    x->rng ^= x->rng >> 7;
    x->rng ^= x->rng << 17;
    return (uint32_t)(x->rng % n);
}

struct report_gen_cell *report_gen_cell(struct report_gen *g, int day, int shop)
{
    return &g->cell[(size_t)day * (size_t)(g->o.shops + 1) + (size_t)shop];
}

/* The tally of one entry (sgn -1: its void) on day at shop. */
static void tally(struct report_gen *g, int day, const struct logged *e, int sgn)
{
    struct report_gen_cell *t = report_gen_cell(g, day, e->shop);
    t->touched = true;
    g->active[(size_t)e->c * (size_t)g->o.days + (size_t)day] = 1;
    g->pts[e->c] += sgn * e->pts;
    g->eur[e->c] += sgn * e->eur;
    if (e->kind == K_EARN || e->kind == K_SPEND) {
        int k = g->card_kind[e->c];
        *(k == 0 ? &t->nocard : k == 1 ? &t->card : &t->qr) += sgn;
    }
    switch (e->kind) {
    case K_EARN:
        t->issued += sgn * e->pts;
        break;
    case K_REDEEM:
        t->redeemed -= sgn * e->pts;
        g->reward_count[e->reward] += sgn;
        g->reward_pts[e->reward] -= sgn * e->pts;
        break;
    case K_TOPUP:
        t->loaded += sgn * e->eur;
        break;
    case K_SPEND:
        t->spent -= sgn * e->eur;
        break;
    default:
        t->adjusted += sgn * e->pts;
        break;
    }
}

static const char *kind_name(enum gen_kind k)
{
    static const char *const n[] = {"earn", "redeem", "topup", "spend", "adjust"};
    return n[k];
}

/* Posts e (or its void) at day: the customer's line and the program's other side. */
static leal_err post(struct ctx *x, int day, struct logged *e, int64_t reverses, int64_t expires)
{
    struct report_gen *g = x->g;
    int sgn = reverses ? -1 : 1;
    int64_t other = e->kind == K_EARN     ? x->issued
                    : e->kind == K_REDEEM ? x->redeemed
                    : e->kind == K_ADJUST ? x->adjustments
                                          : x->cash;
    const char *asset = e->kind == K_TOPUP || e->kind == K_SPEND ? "EUR" : "PTS";
    int64_t amount = sgn * (asset[0] == 'E' ? e->eur : e->pts);
    struct ledger_line lines[2] = {{g->acct[e->c], "", amount, expires}, {other, "", -amount, 0}};
    char req[48];
    bool rep;
    snprintf(lines[0].asset, sizeof lines[0].asset, "%s", asset);
    snprintf(lines[1].asset, sizeof lines[1].asset, "%s", asset);
    snprintf(req, sizeof req, "gen:%lld", (long long)++x->seq);
    struct ledger_entry en = {.program_id = g->o.program_id,
                              .kind = reverses ? "void" : kind_name(e->kind),
                              .at = g->o.start + (int64_t)day * DAY + 60 + x->seq % 80000,
                              .store_id = e->shop < g->o.shops ? g->store[e->shop] : 0,
                              .request_id = req,
                              .operator_name = "gen",
                              .reason = reverses ? "generated void" : "generated",
                              .reference = e->kind == K_REDEEM ? report_gen_rewards[e->reward] : "",
                              .reverses = reverses,
                              .card_id = g->card_kind[e->c] ? 5000 + e->c : 0,
                              .nlines = 2,
                              .lines = lines};
    int64_t id;
    leal_err err = ledger_post(x->l, &en, &id, &rep);
    if (err != LEAL_OK)
        return err;
    g->posted++;
    tally(g, day, e, sgn);
    if (!reverses) {
        e->id = id;
        x->ring[x->nring++ % RING] = *e;
    }
    return LEAL_OK;
}

static leal_err void_one(struct ctx *x, int day)
{
    struct report_gen *g = x->g;
    if (x->nring == 0)
        return LEAL_OK;
    struct logged *e = &x->ring[rnd(x, (uint32_t)(x->nring < RING ? x->nring : RING))];
    if (e->voided || g->pts[e->c] - e->pts < 0 || g->eur[e->c] - e->eur < 0)
        return LEAL_OK;
    e->voided = true;
    return post(x, day, e, e->id, 0);
}

static leal_err one(struct ctx *x, int day)
{
    struct report_gen *g = x->g;
    while (x->joined < g->o.customers && g->join_day[x->joined] <= day)
        x->joined++;
    struct logged e = {.c = (int)rnd(x, (uint32_t)x->joined),
                       .shop = (int)rnd(x, (uint32_t)g->o.shops)};
    uint32_t op = rnd(x, 100);
    if (e.c % 5 == 4 && day >= g->o.days / 2)
        return LEAL_OK; /* one customer in five stops coming halfway */
    int64_t expires = 0;
    if (op < 40) {
        e.kind = K_EARN;
        e.pts = 1 + rnd(x, 50);
        if (rnd(x, 4) == 0)
            expires = g->o.start + (int64_t)(day + 10) * DAY;
    } else if (op < 55) {
        e.kind = K_REDEEM;
        e.reward = (int)rnd(x, REPORT_GEN_REWARDS);
        e.pts = -(int64_t)(5 + 5 * rnd(x, 3));
    } else if (op < 70) {
        e.kind = K_TOPUP;
        e.eur = 100 * (1 + rnd(x, 50));
        e.shop = (int)rnd(x, (uint32_t)g->o.shops + 1); /* the desk too */
    } else if (op < 82) {
        e.kind = K_SPEND;
        e.eur = -(int64_t)(50 + rnd(x, 1500));
    } else if (op < 88) {
        e.kind = K_ADJUST;
        e.pts = (int64_t)rnd(x, 21) - 10;
    } else {
        return op < 95 ? void_one(x, day) : LEAL_OK;
    }
    if (g->pts[e.c] + e.pts < 0 || g->eur[e.c] + e.eur < 0 || (e.pts == 0 && e.eur == 0))
        return LEAL_OK; /* the customer has not enough: nothing this time */
    return post(x, day, &e, 0, expires);
}

static leal_err expire(struct ctx *x, int day)
{
    struct report_gen *g = x->g;
    int64_t accounts, points;
    leal_err err =
        ledger_expire_points(x->l, g->o.program_id, g->o.start + (int64_t)day * DAY + DAY - 1,
                             "gen", &accounts, &points);
    for (int c = 0; err == LEAL_OK && c < g->o.customers; c++)
        err = ledger_balance(x->l, g->acct[c], "PTS", &g->pts[c]);
    if (err == LEAL_OK && accounts > 0) {
        struct report_gen_cell *t = report_gen_cell(g, day, g->o.shops);
        t->touched = true;
        t->expired += points;
        g->posted += accounts;
    }
    return err;
}

static void snap(struct report_gen *g)
{
    g->snap_pts = g->snap_eur = g->snap_pts_holders = g->snap_eur_holders = 0;
    for (int c = 0; c < g->o.customers; c++) {
        g->snap_pts += g->pts[c];
        g->snap_eur += g->eur[c];
        g->snap_pts_holders += g->pts[c] != 0;
        g->snap_eur_holders += g->eur[c] != 0;
    }
}

static leal_err setup(struct ctx *x)
{
    struct report_gen *g = x->g;
    struct ledger_program p = {.id = g->o.program_id,
                               .kind = g->o.collective ? LEDGER_PROGRAM_COLLECTIVE
                                                       : LEDGER_PROGRAM_CHAIN,
                               .points_per_euro_milli = 1000,
                               .purse_cap_cents = LEDGER_PURSE_CAP_DEFAULT};
    int64_t id;
    snprintf(p.code, sizeof p.code, "gen%lld", (long long)g->o.program_id);
    snprintf(p.name, sizeof p.name, "Generated");
    leal_err err = ledger_program_create(x->l, &p, &id);
    for (int s = 0; err == LEAL_OK && s < g->o.shops; s++) {
        char code[16];
        snprintf(code, sizeof code, "s%d", s + 1);
        err = ledger_store_add(x->l, g->o.program_id, code, code, "Europe/Madrid", &g->store[s]);
        if (err == LEAL_OK)
            err = ledger_terminal_add(x->l, g->store[s], code, &g->terminal[s]);
    }
    if (err == LEAL_OK && g->o.point_value_cents)
        err = ledger_settle_value_set(x->l, g->o.program_id, g->o.point_value_cents, "gen");
    static const char *const names[] = {"points_issued", "points_redeemed", "points_expired",
                                        "adjustments", "cash"};
    int64_t *ids[] = {&x->issued, &x->redeemed, &x->expired, &x->adjustments, &x->cash};
    for (size_t i = 0; err == LEAL_OK && i < 5; i++)
        err = ledger_program_account(x->l, g->o.program_id, names[i], ids[i]);
    return err;
}

static leal_err batch_step(struct ctx *x, bool end);

static leal_err customers(struct ctx *x)
{
    struct report_gen *g = x->g;
    leal_err err = LEAL_OK;
    /* In the batches the entries use (a transaction per customer took most
     * of the time of a bench's 50,000). */
    for (int c = 0; err == LEAL_OK && c < g->o.customers; c++) {
        struct ledger_customer cu = {.program_id = g->o.program_id};
        if ((err = batch_step(x, false)) != LEAL_OK)
            break;
        snprintf(cu.name, sizeof cu.name, "c%d", c);
        g->join_day[c] = (int)((int64_t)c * (g->o.days * 2 / 3) / g->o.customers);
        g->card_kind[c] = c % 3;
        err = ledger_customer_add(x->l, &cu, &g->cust[c], &g->acct[c]);
        if (err != LEAL_OK || g->card_kind[c] == 0)
            continue;
        struct ledger_card card = {.card_id = 5000 + c,
                                   .account_id = g->acct[c],
                                   .uid_len = 7,
                                   .tech = g->card_kind[c] == 1 ? LEDGER_TECH_DESFIRE_EV2
                                                                : LEDGER_TECH_VIRTUAL_QR,
                                   .status = LEDGER_CARD_ACTIVE,
                                   .keyset_version = 1,
                                   .layout_version = 1};
        memcpy(card.uid, "\x04\x52\x47\x00\x00\x00\x00", 7);
        card.uid[4] = (uint8_t)(c >> 8);
        card.uid[5] = (uint8_t)c;
        err = ledger_card_add(x->l, &card);
    }
    return err == LEAL_OK ? batch_step(x, true) : err;
}

/* What the ledger API does not set: when customers joined, and the
 * findings of terminal imports (rows as ledger_terminal_finding writes). */
static leal_err backdate(const char *path, struct report_gen *g)
{
    static const char *const kinds[REPORT_GEN_FINDINGS] = {"mac",  "gap",   "held",
                                                           "held", "chain", "card_excess"};
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = sqlite3_open(path, &db);
    sqlite3_busy_timeout(db, 30000);
    rc = rc == SQLITE_OK ? sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) : rc;
    rc = rc == SQLITE_OK
             ? sqlite3_prepare_v2(db, "UPDATE customer SET created_at = ?2 WHERE id = ?1", -1, &st,
                                  NULL)
             : rc;
    for (int c = 0; rc == SQLITE_OK && c < g->o.customers; c++) {
        sqlite3_bind_int64(st, 1, g->cust[c]);
        sqlite3_bind_int64(st, 2, g->o.start + (int64_t)g->join_day[c] * DAY + 3600);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(st);
    }
    if (rc == SQLITE_OK)
        sqlite3_finalize(st);
    for (int i = 0; rc == SQLITE_OK && i < REPORT_GEN_FINDINGS; i++) {
        char sql[256];
        g->finding_day[i] = (i * 7 + 3) % g->o.days;
        g->finding_shop[i] = i % g->o.shops;
        g->finding_kind[i] = kinds[i];
        snprintf(sql, sizeof sql,
                 "INSERT INTO sync_finding(at, terminal_id, epoch, seq, card_id, kind, detail) "
                 "VALUES (%lld, %lld, 1, %d, NULL, '%s', 'generated')",
                 (long long)(g->o.start + (int64_t)g->finding_day[i] * DAY + 500),
                 (long long)g->terminal[g->finding_shop[i]], i + 1, kinds[i]);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    rc = rc == SQLITE_OK ? sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) : rc;
    sqlite3_close(db);
    return rc == SQLITE_OK ? LEAL_OK : LEAL_E_DB;
}

static leal_err batch_step(struct ctx *x, bool end)
{
    leal_err err = LEAL_OK;
    if (x->g->o.batch <= 0)
        return LEAL_OK;
    if (x->batched && (end || x->batched >= x->g->o.batch)) {
        err = ledger_batch_commit(x->l);
        x->batched = 0;
    }
    if (err == LEAL_OK && !end && x->batched++ == 0)
        err = ledger_batch_begin(x->l);
    return err;
}

static leal_err days(struct ctx *x)
{
    struct report_gen *g = x->g;
    leal_err err = LEAL_OK;
    for (int d = 0; err == LEAL_OK && d < g->o.days; d++) {
        int64_t n = g->o.entries * (d + 1) / g->o.days - g->o.entries * d / g->o.days;
        if (d == g->o.snap_day + 1)
            snap(g);
        for (int64_t k = 0; err == LEAL_OK && k < n; k++)
            if ((err = batch_step(x, false)) == LEAL_OK)
                err = one(x, d);
        if (err == LEAL_OK && d % 20 == 19)
            err = expire(x, d);
    }
    if (err == LEAL_OK)
        err = batch_step(x, true);
    if (g->o.snap_day + 1 >= g->o.days)
        snap(g);
    return err;
}

leal_err report_gen_run(struct ledger *l, const char *path, const struct report_gen_opts *o,
                        struct report_gen *g)
{
    struct ctx x = {.l = l, .g = g, .rng = o->seed ? o->seed : 0x9e3779b97f4a7c15u};
    size_t nc = (size_t)o->customers, cells = (size_t)o->days * (size_t)(o->shops + 1);
    memset(g, 0, sizeof *g);
    g->o = *o;
    g->store = calloc((size_t)o->shops, sizeof *g->store);
    g->terminal = calloc((size_t)o->shops, sizeof *g->terminal);
    g->acct = calloc(nc, sizeof *g->acct);
    g->cust = calloc(nc, sizeof *g->cust);
    g->join_day = calloc(nc, sizeof *g->join_day);
    g->card_kind = calloc(nc, sizeof *g->card_kind);
    g->pts = calloc(nc, sizeof *g->pts);
    g->eur = calloc(nc, sizeof *g->eur);
    g->cell = calloc(cells, sizeof *g->cell);
    g->active = calloc(nc * (size_t)o->days, 1);
    if (!g->store || !g->terminal || !g->acct || !g->cust || !g->join_day || !g->card_kind ||
        !g->pts || !g->eur || !g->cell || !g->active)
        return LEAL_E_NO_MEMORY;
    leal_err err = setup(&x);
    if (err == LEAL_OK)
        err = customers(&x);
    if (err == LEAL_OK)
        err = days(&x);
    if (x.batched)
        ledger_batch_rollback(l);
    return err == LEAL_OK ? backdate(path, g) : err;
}

void report_gen_free(struct report_gen *g)
{
    free(g->store);
    free(g->terminal);
    free(g->acct);
    free(g->cust);
    free(g->join_day);
    free(g->card_kind);
    free(g->pts);
    free(g->eur);
    free(g->cell);
    free(g->active);
    memset(g, 0, sizeof *g);
}
