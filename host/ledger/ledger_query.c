/*
 * ledger_query.c - accounts, balances and the movements of an account or an entry (see ledger.h).
 */
#include <string.h>

#include "ledger.h"
#include "ledger_sql.h"
#include "store.h"

/* ---- Accounts ---- */

leal_err ledger_account_add(struct ledger *l, int64_t program_id, int64_t customer_id, int64_t *id)
{
    leal_err err;
    *id = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program")) != LEAL_OK)
        goto out;
    if (customer_id != 0) {
        struct ledger_customer c;
        if ((err = ledger_customer_get(l, customer_id, &c)) != LEAL_OK)
            goto out;
        if (c.program_id != program_id) {
            store_set_msg(l, "customer %lld is in program %lld", (long long)customer_id,
                          (long long)c.program_id);
            err = LEAL_E_WRONG_PROGRAM;
            goto out;
        }
    }
    err = store_write(l,
                      "INSERT INTO account(program_id, customer_id, kind, created_at) VALUES (?1, "
                      "?2, ?3, ?4)",
                      SVALS(SV_I64(program_id), SV_I64_OR_NULL(customer_id),
                            SV_TEXT(customer_id ? "customer" : "gift"), SV_I64(ledger_now())),
                      id);
out:
    return store_tx_end_id(l, err, id);
}

leal_err ledger_account_get(struct ledger *l, int64_t id, struct ledger_account *out)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    /* Cached: the journal import looks an account up for every entry. */
    if ((err = store_prep(l, ST_ACCOUNT_FULL, &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, id);
    err = store_step_found(l, st, "account", id);
    if (err == LEAL_OK) {
        out->id = store_col_i64(st, 0);
        out->program_id = store_col_i64(st, 1);
        out->customer_id = store_col_i64(st, 2);
        out->kind = ledger_account_kind_of(store_col_str(st, 3));
        store_col_text(st, 4, out->name, sizeof out->name);
    }
    store_reset(st);
    return err;
}

leal_err ledger_balance(struct ledger *l, int64_t account_id, const char *asset, int64_t *amount)
{
    struct store_stmt *st;
    int row;
    leal_err err;
    *amount = 0;
    if ((err = ledger_asset_check(asset)) != LEAL_OK)
        return err;
    err =
        store_prep_once(l, "SELECT amount FROM balance WHERE account_id = ?1 AND asset = ?2", &st);
    if (err != LEAL_OK)
        return err;
    store_bind_i64(st, 1, account_id);
    store_bind_text(st, 2, asset);
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        *amount = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

leal_err ledger_balance_each(struct ledger *l, int64_t account_id, ledger_balance_cb cb, void *ctx)
{
    struct store_stmt *st;
    leal_err err;
    /* In the asset's bytes (UTF-8, compared as memcmp does): SQLite's
     * BINARY collation, PostgreSQL's "C" whatever the database's own. */
    err = store_prep_i64(l,
                         l->pg ? "SELECT asset, amount FROM balance WHERE account_id = ?1 ORDER BY "
                                 "asset COLLATE \"C\""
                               : "SELECT asset, amount FROM balance WHERE account_id = ?1 ORDER BY "
                                 "asset",
                         &st, I64S(account_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        char asset[LEDGER_MAX_ASSET];
        store_col_text(st, 0, asset, sizeof asset);
        if (cb(ctx, asset, store_col_i64(st, 1)) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

static void movement_row(struct store_stmt *st, struct ledger_movement *m)
{
    memset(m, 0, sizeof *m);
    m->entry_id = store_col_i64(st, 0);
    m->at = store_col_i64(st, 1);
    store_col_text(st, 2, m->kind, sizeof m->kind);
    store_col_text(st, 3, m->reason, sizeof m->reason);
    store_col_text(st, 4, m->operator_name, sizeof m->operator_name);
    store_col_text(st, 5, m->reference, sizeof m->reference);
    m->reverses = store_col_i64(st, 6);
    m->account_id = store_col_i64(st, 7);
    store_col_text(st, 8, m->asset, sizeof m->asset);
    m->amount = store_col_i64(st, 9);
    store_col_text(st, 10, m->timezone, sizeof m->timezone);
}

/* Runs sql (integer parameters v) and hands each movement to cb until it
 * returns non-zero; *n counts the movements handed over. */
/* Where the movements of a query go, and how many went. */
struct movement_walk {
    ledger_movement_cb cb;
    void *ctx;
    int n;
};

static leal_err movements(struct ledger *l, const char *sql, const int64_t *v, int nv,
                          struct movement_walk *w)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(l, sql, &st, v, nv);
    w->n = 0;
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_movement m;
        movement_row(st, &m);
        w->n++;
        if (w->cb(w->ctx, &m) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_history(struct ledger *l, int64_t account_id, int64_t before, size_t limit,
                        ledger_movement_cb cb, void *ctx)
{
    struct movement_walk w = {.cb = cb, .ctx = ctx};
    return movements(l, HISTORY_SQL,
                     I64S(account_id, before > 0 ? before : INT64_MAX,
                          limit > 0 && limit < (size_t)INT64_MAX ? (int64_t)limit : -1),
                     &w);
}

leal_err ledger_entry_lines(struct ledger *l, int64_t entry_id, ledger_movement_cb cb, void *ctx)
{
    struct movement_walk w = {.cb = cb, .ctx = ctx};
    leal_err err = movements(l, "SELECT " MOVEMENT_COLUMNS " WHERE n.entry_id = ?1 ORDER BY n.id",
                             I64S(entry_id), &w);
    if (err == LEAL_OK && w.n == 0) {
        store_set_msg(l, "entry %lld", (long long)entry_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}
