/*
 * ledger_terminals.c - the terminals as the back office lists them (see
 * ledger_terminals.h).
 */
#include "ledger_terminals.h"

#include "store.h"

static const char list_sql[] =
    "SELECT t.id, t.store_id, s.code, t.name, t.epoch, t.package_version, "
    "coalesce((SELECT p.built_at FROM package_caps p WHERE p.terminal_id = t.id AND p.version = "
    "t.package_version), 0), "
    "coalesce((SELECT max(e.taken_at) FROM terminal_entry e WHERE e.terminal_id = t.id), 0), "
    "(SELECT count(*) FROM terminal_entry e WHERE e.terminal_id = t.id), "
    "(SELECT count(*) FROM sync_finding f WHERE f.terminal_id = t.id), s.timezone "
    "FROM terminal t JOIN store s ON s.id = t.store_id WHERE s.program_id = ?1 ORDER BY t.id";

leal_err ledger_terminal_each(struct ledger *l, int64_t program_id, ledger_terminal_view_cb cb,
                              void *ctx)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(l, list_sql, &st, I64S(program_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_terminal_view t = {0};
        t.id = store_col_i64(st, 0);
        t.store_id = store_col_i64(st, 1);
        store_col_text(st, 2, t.store_code, sizeof t.store_code);
        store_col_text(st, 3, t.name, sizeof t.name);
        t.epoch = store_col_i64(st, 4);
        t.package_version = store_col_i64(st, 5);
        t.package_built_at = store_col_i64(st, 6);
        t.last_entry_at = store_col_i64(st, 7);
        t.entries = store_col_i64(st, 8);
        t.findings = store_col_i64(st, 9);
        store_col_text(st, 10, t.timezone, sizeof t.timezone);
        if (cb(ctx, &t) != 0)
            break;
    }
    store_finalize(st);
    return err;
}
