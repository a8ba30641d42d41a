/* ledger_simulate.c - a period's sales replayed under other rules (ledger_simulate.h). */
#include "ledger_simulate.h"

#include <stdlib.h>
#include <string.h>

#include "ledger_sale.h"
#include "ledger_sale_sql.h"
#include "store.h"
#include "host/grow.h"

struct sim_event {
    int64_t account_id, at, kind, id, cents, ref, points;
    char date[16], time[16];
};

struct sim_sale {
    int64_t id;
    struct rules_earned earned;
};

struct sim {
    struct ledger *l;
    const struct ledger_sim_request *rq;
    ledger_sim_cb cb;
    void *ctx;
    struct ledger_sim_totals *tot;
    bool open;
    struct ledger_sim_account acct;
    struct rules_card card;
    char day[16];
    struct sim_sale *sales; /* the replayed sales of the account, for its refunds */
    size_t n, cap;
};

static unsigned digits(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10u + (unsigned)(s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : 0);
    return v;
}

/* "YYYY-MM-DD" and "HH:MM:SS" as the sale recorded them. */
static void civil_of(const struct sim_event *ev, struct rules_civil *c)
{
    *c = (struct rules_civil){(uint16_t)digits(ev->date, 4),    (uint8_t)digits(ev->date + 5, 2),
                              (uint8_t)digits(ev->date + 8, 2), (uint8_t)digits(ev->time, 2),
                              (uint8_t)digits(ev->time + 3, 2), (uint8_t)digits(ev->time + 6, 2)};
}

/* A local date as the sales record them, on the calendar: its day number. */
static leal_err date_days(const char *s, uint32_t *days)
{
    struct rules_civil c;
    *days = 0;
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return LEAL_E_DATE;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return LEAL_E_DATE;
    c = (struct rules_civil){
        (uint16_t)digits(s, 4), (uint8_t)digits(s + 5, 2), (uint8_t)digits(s + 8, 2), 0, 0, 0};
    return rules_civil_days(&c, days) == LEAL_OK ? LEAL_OK : LEAL_E_DATE;
}

static leal_err sim_open(struct sim *s, const struct sim_event *ev)
{
    struct ledger_account a;
    leal_err err;
    memset(&s->acct, 0, sizeof s->acct);
    memset(&s->card, 0, sizeof s->card);
    s->day[0] = '\0';
    s->n = 0;
    s->open = true;
    s->acct.account_id = ev->account_id;
    if ((err = ledger_account_get(s->l, ev->account_id, &a)) != LEAL_OK)
        return err;
    s->acct.customer_id = a.customer_id;
    return ledger_sale_state_before(s->l, s->rq->rules, ev->account_id, ev->at, &s->card.state);
}

static leal_err sim_close(struct sim *s)
{
    if (!s->open)
        return LEAL_OK;
    s->open = false;
    s->tot->accounts++;
    s->tot->real_points += s->acct.real_points;
    s->tot->sim_points += s->acct.sim_points;
    if (s->cb && s->cb(s->ctx, &s->acct) != 0)
        return LEAL_E_INTERRUPTED;
    return LEAL_OK;
}

static leal_err remember(struct sim *s, int64_t id, const struct rules_earned *e)
{
    leal_err err = grow_room(&s->sales, &s->cap, s->n, sizeof *s->sales);
    if (err != LEAL_OK)
        return err;
    s->sales[s->n].id = id;
    s->sales[s->n].earned = *e;
    s->n++;
    return LEAL_OK;
}

static leal_err sale_items(struct ledger *l, int64_t sale_id, struct rules_sale *sale)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l,
                              "SELECT category, quantity, amount_cents FROM sale_item WHERE "
                              "sale_id = ?1 ORDER BY n",
                              &st, I64S(sale_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err) && sale->n_items < RULES_MAX_ITEMS) {
        struct rules_item *it = &sale->items[sale->n_items++];
        it->category = (uint16_t)store_col_i64(st, 0);
        it->quantity = (uint16_t)store_col_i64(st, 1);
        it->amount_cents = store_col_i64(st, 2);
    }
    store_finalize(st);
    return err;
}

static leal_err sim_sale(struct sim *s, const struct sim_event *ev)
{
    struct rules_sale sale;
    struct rules_result r;
    leal_err err;

    if (strcmp(s->day, ev->date) != 0) {
        memset(s->card.rule_points_today, 0, sizeof s->card.rule_points_today);
        memcpy(s->day, ev->date, sizeof s->day);
    }
    memset(&sale, 0, sizeof sale);
    sale.amount_cents = ev->cents;
    sale.store_id = (uint32_t)ev->ref;
    civil_of(ev, &sale.local);
    if ((err = sale_items(s->l, ev->id, &sale)) != LEAL_OK)
        return err;
    if ((err = rules_earn(s->rq->rules, &s->card, &sale, &r)) != LEAL_OK) {
        store_set_msg(s->l, "sale %lld", (long long)ev->id);
        return err;
    }
    s->card.state = r.after;
    for (unsigned i = 0; i < r.n_lines; i++)
        if (r.lines[i].source == RULES_LINE_RULE && r.lines[i].rule_index < RULES_MAX_RULES)
            s->card.rule_points_today[r.lines[i].rule_index] += (uint32_t)r.lines[i].points;
    s->acct.sales++;
    s->acct.real_points += ev->points;
    s->acct.sim_points += r.points;
    s->tot->sales++;
    s->tot->sales_cents += ev->cents;
    return remember(s, ev->id, &r.earned);
}

static leal_err sim_refund(struct sim *s, const struct sim_event *ev)
{
    struct rules_refund rf;
    struct rules_refund_result r;
    bool found = false;
    leal_err err;

    memset(&rf, 0, sizeof rf);
    for (size_t i = 0; i < s->n && !found; i++)
        if (s->sales[i].id == ev->ref) {
            rf.original = s->sales[i].earned;
            found = true;
        }
    /* A sale before the period: what it really gave. */
    if (!found && (err = ledger_sale_earned(s->l, ev->ref, &rf.original)) != LEAL_OK)
        return err;
    if ((err = store_query_int(s->l,
                               "SELECT coalesce(sum(amount_cents), 0) FROM sale_refund WHERE "
                               "sale_id = ?1 AND id < ?2",
                               I64S(ev->ref, ev->id), &rf.already_refunded_cents)) != LEAL_OK)
        return err;
    rf.refund_cents = ev->cents;
    civil_of(ev, &rf.local);
    if ((err = rules_refund(s->rq->rules, &s->card.state, &rf, &r)) != LEAL_OK) {
        store_set_msg(s->l, "refund %lld of sale %lld", (long long)ev->id, (long long)ev->ref);
        return err;
    }
    s->card.state = r.after;
    s->acct.refunds++;
    s->acct.real_points -= ev->points;
    s->acct.sim_points -= r.points_back;
    s->tot->refunds++;
    s->tot->refunds_cents += ev->cents;
    return LEAL_OK;
}

static void event_row(struct store_stmt *st, struct sim_event *ev)
{
    ev->account_id = store_col_i64(st, 0);
    ev->at = store_col_i64(st, 1);
    ev->kind = store_col_i64(st, 2);
    ev->id = store_col_i64(st, 3);
    ev->cents = store_col_i64(st, 4);
    ev->ref = store_col_i64(st, 5);
    store_col_text(st, 6, ev->date, sizeof ev->date);
    store_col_text(st, 7, ev->time, sizeof ev->time);
    ev->points = store_col_i64(st, 8);
}

static leal_err sim_run(struct sim *s)
{
    struct store_stmt *st;
    struct sim_event ev;
    leal_err err, e2 = LEAL_OK;

    if ((err = store_prep_once(s->l, SIM_EVENTS_SQL, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(s->rq->program_id), SV_TEXT(s->rq->from), SV_TEXT(s->rq->to)));
    while (e2 == LEAL_OK && store_next_row(s->l, st, &err)) {
        event_row(st, &ev);
        if (s->open && ev.account_id != s->acct.account_id)
            e2 = sim_close(s);
        if (e2 == LEAL_OK && !s->open)
            e2 = sim_open(s, &ev);
        if (e2 == LEAL_OK)
            e2 = ev.kind == 0 ? sim_sale(s, &ev) : sim_refund(s, &ev);
    }
    store_finalize(st);
    if (err == LEAL_OK && e2 == LEAL_OK)
        e2 = sim_close(s);
    return err != LEAL_OK ? err : e2;
}

leal_err ledger_simulate(struct ledger *l, const struct ledger_sim_request *rq, ledger_sim_cb cb,
                         void *ctx, struct ledger_sim_totals *out)
{
    struct sim s;
    uint32_t from, to;
    leal_err err;

    memset(out, 0, sizeof *out);
    l->msg[0] = '\0';
    if (rq == NULL || rq->rules == NULL)
        return LEAL_E_ARG;
    if (date_days(rq->from, &from) != LEAL_OK || date_days(rq->to, &to) != LEAL_OK || from > to)
        return LEAL_E_DATE;
    if ((err = rules_program_check(rq->rules)) != LEAL_OK)
        return err;
    memset(&s, 0, sizeof s);
    s.l = l;
    s.rq = rq;
    s.cb = cb;
    s.ctx = ctx;
    s.tot = out;
    if ((err = store_exec(l, "BEGIN")) != LEAL_OK)
        return err;
    err = store_exists(l, ST_PROGRAM_EXISTS, rq->program_id, "program");
    if (err == LEAL_OK)
        err = sim_run(&s);
    store_end_read(l);
    free(s.sales);
    if (err != LEAL_OK && err != LEAL_E_INTERRUPTED) {
        struct ledger_sim_totals zero = {0};
        *out = zero;
    }
    return err;
}
