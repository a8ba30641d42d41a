/*
 * ledger_settle.c - settlement between the shops of a collective (ledger_settle.h).
 */
#include "ledger_settle.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

/* Days from 1970-01-01 to y-m-1 (proleptic Gregorian). */
static int64_t month_start_day(int64_t y, int64_t m)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

leal_err ledger_settle_value_set(struct ledger *l, int64_t program_id, int64_t cents,
                                 const char *operator_name)
{
    leal_err err;
    l->msg[0] = '\0';
    if (cents < 1 || cents > 100000 || ledger_empty(operator_name))
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program")) == LEAL_OK)
        err = store_write(
            l,
            "INSERT INTO settle_value(program_id, point_value_cents, at, operator) "
            "VALUES (?1, ?2, ?3, ?4)",
            SVALS(SV_I64(program_id), SV_I64(cents), SV_I64(ledger_now()), SV_TEXT(operator_name)),
            NULL);
    return store_tx_end(l, err);
}

#define VALUE_SQL                                                                                  \
    "SELECT point_value_cents FROM settle_value WHERE program_id = ?1 ORDER BY id DESC LIMIT 1"

leal_err ledger_settle_value_get(struct ledger *l, int64_t program_id, int64_t *cents)
{
    l->msg[0] = '\0';
    return store_query_int(l, VALUE_SQL, I64S(program_id), cents);
}

/* What the program's settled periods say of this one: whether it is one
 * (found), what the period before it took (its upto and end), and the
 * newest settled. */
struct bounds {
    bool found;
    int64_t upto, end_at;
    char latest[16];
};

static leal_err settled(struct ledger *l, struct ledger_settlement *o, const char *period,
                        struct bounds *before)
{
    struct store_stmt *st;
    leal_err err;
    memset(before, 0, sizeof *before);
    if ((err = store_prep_once(l,
                               "SELECT period, end_at, upto_entry, point_value_cents, at, "
                               "operator FROM settlement WHERE program_id = ?1 ORDER BY period",
                               &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, o->program_id);
    while (store_next_row(l, st, &err)) {
        char p[16];
        store_col_text(st, 0, p, sizeof p);
        snprintf(before->latest, sizeof before->latest, "%s", p);
        if (strcmp(p, period) < 0) {
            before->end_at = store_col_i64(st, 1);
            before->upto = store_col_i64(st, 2);
        } else if (strcmp(p, period) == 0) {
            before->found = true;
            o->upto_entry = store_col_i64(st, 2);
            o->point_value_cents = store_col_i64(st, 3);
            o->settled_at = store_col_i64(st, 4);
            store_col_text(st, 5, o->settled_by, sizeof o->settled_by);
        }
    }
    store_finalize(st);
    return err;
}

/* Every store of the program, by id, with zero figures. */
static leal_err shop_rows(struct ledger *l, struct ledger_settlement *o)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_once(l,
                               "SELECT id, code, name FROM store WHERE program_id = ?1 ORDER BY id",
                               &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, o->program_id);
    while (store_next_row(l, st, &err)) {
        struct ledger_settle_row *r;
        if (o->nrows == LEDGER_SETTLE_MAX_SHOPS) { /* room kept for no shop and the pool */
            store_set_msg(l, "program %lld has more than %d stores", (long long)o->program_id,
                          LEDGER_SETTLE_MAX_SHOPS);
            err = LEAL_E_RANGE;
            break;
        }
        r = &o->rows[o->nrows++];
        memset(r, 0, sizeof *r);
        r->store_id = store_col_i64(st, 0);
        store_col_text(st, 1, r->code, sizeof r->code);
        store_col_text(st, 2, r->name, sizeof r->name);
    }
    store_finalize(st);
    if (err == LEAL_OK) {
        struct ledger_settle_row *r = &o->rows[o->nrows++];
        memset(r, 0, sizeof *r);
        r->store_id = LEDGER_SETTLE_NO_SHOP;
        snprintf(r->name, sizeof r->name, "no shop");
    }
    return err;
}

/* The figures of the period's entries per store (0: none), on the
 * customers' and gift cards' lines, by the kind of the entry or of the
 * entry a void reverses (ledger_settle.h). */
#define FIGURES_SQL                                                                                \
    "SELECT e.st, sum(CASE WHEN l.asset = 'PTS' AND e.k IN ('earn', 'spend', 'refund') THEN "      \
    "l.amount ELSE 0 END), sum(CASE WHEN l.asset = 'PTS' AND e.k = 'redeem' THEN -l.amount ELSE "  \
    "0 END), sum(CASE WHEN l.asset = 'EUR' AND e.k IN ('topup', 'gift_sale') THEN l.amount ELSE "  \
    "0 END), sum(CASE WHEN l.asset = 'EUR' AND e.k = 'spend' THEN -l.amount ELSE 0 END) FROM "     \
    "(SELECT x.id AS id, coalesce(x.store_id, r.store_id, 0) AS st, coalesce(r.kind, x.kind) AS "  \
    "k FROM entry x LEFT JOIN entry r ON r.id = x.reverses WHERE x.program_id = ?1 AND x.at < ?2 " \
    "AND x.id <= ?3 AND NOT (x.id <= ?4 AND x.at < ?5)) e JOIN line l ON l.entry_id = e.id JOIN "  \
    "account a ON a.id = l.account_id WHERE a.kind <> 'program' GROUP BY e.st ORDER BY e.st"

static struct ledger_settle_row *row_of(struct ledger_settlement *o, int64_t store_id)
{
    for (size_t i = 0; i < o->nrows; i++)
        if (o->rows[i].store_id == store_id)
            return &o->rows[i];
    return NULL; /* an entry's store is the program's (ledger_post checks) */
}

static leal_err figures(struct ledger *l, struct ledger_settlement *o, const struct bounds *before)
{
    struct ledger_settle_row *pool;
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l, FIGURES_SQL, &st,
                              I64S(o->program_id, o->end_at, o->upto_entry, before->upto,
                                   before->end_at))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_settle_row *r = row_of(o, store_col_i64(st, 0));
        if (r == NULL) {
            store_set_msg(l, "an entry of program %lld names store %lld, not one of its own",
                          (long long)o->program_id, (long long)store_col_i64(st, 0));
            err = LEAL_E_LEDGER_MISMATCH;
            break;
        }
        r->points_collected = store_col_i64(st, 1);
        r->points_paid_out = store_col_i64(st, 2);
        r->purse_loaded_cents = store_col_i64(st, 3);
        r->purse_spent_cents = store_col_i64(st, 4);
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    pool = &o->rows[o->nrows++];
    memset(pool, 0, sizeof *pool);
    pool->store_id = LEDGER_SETTLE_POOL;
    snprintf(pool->name, sizeof pool->name, "collective pool");
    for (size_t i = 0; i + 1 < o->nrows; i++) {
        struct ledger_settle_row *r = &o->rows[i];
        r->balance_cents = o->point_value_cents * (r->points_paid_out - r->points_collected) +
                           r->purse_spent_cents - r->purse_loaded_cents;
        pool->points_collected -= r->points_collected;
        pool->points_paid_out -= r->points_paid_out;
        pool->purse_loaded_cents -= r->purse_loaded_cents;
        pool->purse_spent_cents -= r->purse_spent_cents;
        pool->balance_cents -= r->balance_cents;
    }
    return LEAL_OK;
}

/* Who owes whom (ledger_settle.h): debtors and creditors met in row order,
 * each transfer the smaller of what the one still owes and the other is
 * still owed; the rows sum to zero, so both lists end together. */
static void transfers(struct ledger_settlement *o)
{
    int64_t owe = 0, owed = 0;
    size_t d = 0, c = 0;
    o->ntransfers = 0;
    for (;;) {
        while (owe == 0 && d < o->nrows)
            if ((owe = -o->rows[d++].balance_cents) < 0)
                owe = 0;
        while (owed == 0 && c < o->nrows)
            if ((owed = o->rows[c++].balance_cents) < 0)
                owed = 0;
        if (owe == 0 || owed == 0 || o->ntransfers == sizeof o->transfers / sizeof o->transfers[0])
            return;
        struct ledger_settle_transfer *t = &o->transfers[o->ntransfers++];
        t->from = d - 1;
        t->to = c - 1;
        t->cents = owe < owed ? owe : owed;
        owe -= t->cents;
        owed -= t->cents;
    }
}

/* Inside the caller's transaction. */
static leal_err settle_locked(struct ledger *l, struct ledger_settlement *o, bool close,
                              const char *operator_name)
{
    char period[16];
    struct bounds before;
    leal_err err;
    snprintf(period, sizeof period, "%04d-%02d", o->year, o->month);
    if ((err = settled(l, o, period, &before)) != LEAL_OK)
        return err;
    if (before.found) {
        o->closed = true;
    } else {
        if (strcmp(before.latest, period) > 0) {
            store_set_msg(l, "period %s is settled already, after %s", before.latest, period);
            return LEAL_E_SETTLE_ORDER;
        }
        if (close && o->end_at > ledger_now()) {
            store_set_msg(l, "period %s has not ended", period);
            return LEAL_E_SETTLE_OPEN;
        }
        if ((err = store_query_int(l, VALUE_SQL, I64S(o->program_id), &o->point_value_cents)) !=
                LEAL_OK ||
            (err = store_query_int(l, "SELECT coalesce(max(id), 0) FROM entry", NULL, 0,
                                   &o->upto_entry)) != LEAL_OK)
            return err;
        if (o->point_value_cents < 1)
            return LEAL_E_SETTLE_NO_VALUE;
        if (close) {
            o->closed = o->closed_now = true;
            o->settled_at = ledger_now();
            snprintf(o->settled_by, sizeof o->settled_by, "%s", operator_name);
            if ((err = store_write(l,
                                   "INSERT INTO settlement(program_id, period, end_at, "
                                   "upto_entry, point_value_cents, at, operator) VALUES (?1, ?2, "
                                   "?3, ?4, ?5, ?6, ?7)",
                                   SVALS(SV_I64(o->program_id), SV_TEXT(period), SV_I64(o->end_at),
                                         SV_I64(o->upto_entry), SV_I64(o->point_value_cents),
                                         SV_I64(o->settled_at), SV_TEXT(operator_name)),
                                   NULL)) != LEAL_OK)
                return err;
        }
    }
    if ((err = shop_rows(l, o)) != LEAL_OK || (err = figures(l, o, &before)) != LEAL_OK)
        return err;
    transfers(o);
    return LEAL_OK;
}

leal_err ledger_settle(struct ledger *l, const struct ledger_settle_request *rq,
                       struct ledger_settlement *out)
{
    struct ledger_program p;
    int year = rq->year, month = rq->month;
    leal_err err;
    memset(out, 0, sizeof *out);
    l->msg[0] = '\0';
    if (year < 1970 || year > 9998 || month < 1 || month > 12 ||
        (rq->close && ledger_empty(rq->operator_name)))
        return LEAL_E_ARG;
    if ((err = ledger_program_get(l, rq->program_id, &p)) != LEAL_OK)
        return err == LEAL_E_UNKNOWN_ID ? LEAL_E_UNKNOWN_PROGRAM : err;
    if (p.kind != LEDGER_PROGRAM_COLLECTIVE)
        return LEAL_E_SETTLE_NOT_COLLECTIVE;
    out->program_id = rq->program_id;
    out->year = year;
    out->month = month;
    out->start_at = month_start_day(year, month) * 86400;
    out->end_at =
        month_start_day(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1) * 86400;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_tx_end(l, settle_locked(l, out, rq->close, rq->operator_name));
    if (err != LEAL_OK) {
        out->closed = out->closed_now = false;
        out->nrows = out->ntransfers = 0;
    }
    return err;
}

leal_err ledger_settle_default_program(struct ledger *l, int64_t *program_id)
{
    int64_t n = 0;
    leal_err err;
    *program_id = 0;
    l->msg[0] = '\0';
    if ((err = store_query_int(l, "SELECT count(*) FROM program WHERE kind = 'collective'", NULL, 0,
                               &n)) != LEAL_OK ||
        (err = store_query_int(l, "SELECT min(id) FROM program WHERE kind = 'collective'", NULL, 0,
                               program_id)) != LEAL_OK)
        return err;
    return n == 1 ? LEAL_OK : LEAL_E_UNKNOWN_PROGRAM;
}
