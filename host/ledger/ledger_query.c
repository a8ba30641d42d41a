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
    sqlite3_stmt *st = NULL;
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
    err = store_prep_once(
        l,
        "INSERT INTO account(program_id, customer_id, kind, created_at) VALUES (?1, "
        "?2, ?3, ?4)",
        &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, program_id);
    store_bind_int_or_null(st, 2, customer_id);
    sqlite3_bind_text(st, 3, customer_id ? "customer" : "gift", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ledger_now());
    if ((err = store_step(l, st, NULL)) == LEAL_OK)
        *id = sqlite3_last_insert_rowid(l->db);
out:
    sqlite3_finalize(st);
    return store_tx_end_id(l, err, id);
}

enum ledger_account_kind ledger_account_kind_of(const unsigned char *k)
{
    if (k && strcmp((const char *)k, "program") == 0)
        return LEDGER_ACCOUNT_PROGRAM;
    if (k && strcmp((const char *)k, "gift") == 0)
        return LEDGER_ACCOUNT_GIFT;
    return LEDGER_ACCOUNT_CUSTOMER;
}

leal_err ledger_account_get(struct ledger *l, int64_t id, struct ledger_account *out)
{
    sqlite3_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    /* Cached: the journal import looks an account up for every entry. */
    if ((err = store_prep(l, ST_ACCOUNT_FULL, &st)) != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, id);
    err = store_step_found(l, st, "account", id);
    if (err == LEAL_OK) {
        out->id = sqlite3_column_int64(st, 0);
        out->program_id = sqlite3_column_int64(st, 1);
        out->customer_id = sqlite3_column_int64(st, 2);
        out->kind = ledger_account_kind_of(sqlite3_column_text(st, 3));
        store_col_text(st, 4, out->name, sizeof out->name);
    }
    sqlite3_reset(st);
    return err;
}

leal_err ledger_balance(struct ledger *l, int64_t account_id, const char *asset, int64_t *amount)
{
    sqlite3_stmt *st;
    int row;
    leal_err err;
    *amount = 0;
    if ((err = ledger_asset_check(asset)) != LEAL_OK)
        return err;
    err =
        store_prep_once(l, "SELECT amount FROM balance WHERE account_id = ?1 AND asset = ?2", &st);
    if (err != LEAL_OK)
        return err;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, asset, -1, SQLITE_STATIC);
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        *amount = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_balance_each(struct ledger *l, int64_t account_id, ledger_balance_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    leal_err err;
    err =
        store_prep_i64(l, "SELECT asset, amount FROM balance WHERE account_id = ?1 ORDER BY asset",
                       &st, I64S(account_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        char asset[LEDGER_MAX_ASSET];
        store_col_text(st, 0, asset, sizeof asset);
        if (cb(ctx, asset, sqlite3_column_int64(st, 1)) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

static void movement_row(sqlite3_stmt *st, struct ledger_movement *m)
{
    memset(m, 0, sizeof *m);
    m->entry_id = sqlite3_column_int64(st, 0);
    m->at = sqlite3_column_int64(st, 1);
    store_col_text(st, 2, m->kind, sizeof m->kind);
    store_col_text(st, 3, m->reason, sizeof m->reason);
    store_col_text(st, 4, m->operator_name, sizeof m->operator_name);
    store_col_text(st, 5, m->reference, sizeof m->reference);
    m->reverses = sqlite3_column_int64(st, 6);
    m->account_id = sqlite3_column_int64(st, 7);
    store_col_text(st, 8, m->asset, sizeof m->asset);
    m->amount = sqlite3_column_int64(st, 9);
    store_col_text(st, 10, m->timezone, sizeof m->timezone);
}

/* Runs sql (integer parameters v) and hands each movement to cb until it
 * returns non-zero; *n counts the movements handed over. */
static leal_err movements(struct ledger *l, const char *sql, const int64_t *v, int nv,
                          ledger_movement_cb cb, void *ctx, int *n)
{
    sqlite3_stmt *st;
    leal_err err = store_prep_i64(l, sql, &st, v, nv);
    *n = 0;
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_movement m;
        movement_row(st, &m);
        (*n)++;
        if (cb(ctx, &m) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_history(struct ledger *l, int64_t account_id, int64_t before, size_t limit,
                        ledger_movement_cb cb, void *ctx)
{
    int n;
    return movements(l, HISTORY_SQL,
                     I64S(account_id, before > 0 ? before : INT64_MAX,
                          limit > 0 && limit < (size_t)INT64_MAX ? (int64_t)limit : -1),
                     cb, ctx, &n);
}

leal_err ledger_entry_lines(struct ledger *l, int64_t entry_id, ledger_movement_cb cb, void *ctx)
{
    int n;
    leal_err err = movements(l, "SELECT " MOVEMENT_COLUMNS " WHERE n.entry_id = ?1 ORDER BY n.id",
                             I64S(entry_id), cb, ctx, &n);
    if (err == LEAL_OK && n == 0) {
        store_set_msg(l, "entry %lld", (long long)entry_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}
