/* ledger_host_change.c - host changes waiting for cards (ledger_host_change.h). */
#include "ledger_host_change.h"

#include <string.h>

#include "firmware/core/package.h"
#include "store.h"

/* The account's points lines after the card's synced entry, of entries not
 * made for a card and not taken from a terminal: net, count, newest, kinds. */
#define WAITING_SQL(where)                                                                         \
    "SELECT c.card_id, c.last_counter, sum(n.amount), count(DISTINCT e.id), max(e.id), "           \
    "max(e.kind = 'adjust' AND coalesce(e.reference, '') NOT LIKE 'bonus%'), "                     \
    "max(e.kind IN ('earn', 'transfer') OR coalesce(e.reference, '') LIKE 'bonus%'), "             \
    "max(e.kind = 'expire'), max(e.kind IN ('void', 'refund', 'redeem')) "                         \
    "FROM card c JOIN account a ON a.id = c.account_id "                                           \
    "JOIN line n ON n.account_id = c.account_id AND n.entry_id > c.synced_entry "                  \
    "AND n.asset = 'PTS' JOIN entry e ON e.id = n.entry_id "                                       \
    "WHERE " where " AND e.terminal_id IS NULL AND (e.request_id IS NULL OR "                      \
    "substr(e.request_id, 1, 5) <> 'card:') GROUP BY c.card_id ORDER BY c.card_id"

static void row(struct store_stmt *st, struct ledger_host_change *c)
{
    memset(c, 0, sizeof *c);
    c->card_id = store_col_i64(st, 0);
    c->taps = store_col_i64(st, 1);
    c->points = store_col_i64(st, 2);
    c->entries = store_col_i64(st, 3);
    c->upto_entry = store_col_i64(st, 4);
    c->kinds = (uint8_t)((store_col_i64(st, 5) ? PACKAGE_CHANGE_ADJUST : 0) |
                         (store_col_i64(st, 6) ? PACKAGE_CHANGE_BONUS : 0) |
                         (store_col_i64(st, 7) ? PACKAGE_CHANGE_EXPIRED : 0) |
                         (store_col_i64(st, 8) ? PACKAGE_CHANGE_REWARD : 0));
    if (c->kinds == 0)
        c->kinds = PACKAGE_CHANGE_ADJUST; /* anything else posted at the host */
}

leal_err ledger_host_change_get(struct ledger *l, int64_t card_id, struct ledger_host_change *out,
                                bool *waiting)
{
    struct store_stmt *st;
    leal_err err;
    if (l == NULL || out == NULL || waiting == NULL)
        return LEAL_E_ARG;
    *waiting = false;
    memset(out, 0, sizeof *out);
    if ((err = store_find_row(l, "SELECT 1 FROM card WHERE card_id = ?1", card_id, "card", &st)) !=
        LEAL_OK) {
        store_finalize(st);
        return err;
    }
    store_finalize(st);
    if ((err = store_prep_i64(l, WAITING_SQL("c.card_id = ?1"), &st, I64S(card_id))) != LEAL_OK)
        return err;
    if (store_next_row(l, st, &err)) {
        row(st, out);
        *waiting = true;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_host_change_each(struct ledger *l, int64_t program_id, ledger_host_change_cb cb,
                                 void *ctx)
{
    struct ledger_host_change c;
    struct store_stmt *st;
    leal_err err;
    if (l == NULL || cb == NULL)
        return LEAL_E_ARG;
    if ((err = store_prep_i64(l, WAITING_SQL("a.program_id = ?1 AND c.status = 'active'"), &st,
                              I64S(program_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        row(st, &c);
        if (cb(ctx, &c) != 0) {
            err = LEAL_E_INTERRUPTED;
            break;
        }
    }
    store_finalize(st);
    return err;
}

leal_err ledger_host_change_applied(struct ledger *l, int64_t card_id, int64_t upto_entry)
{
    if (l == NULL || card_id <= 0 || upto_entry <= 0)
        return LEAL_E_ARG;
    return store_exec_i64(l,
                          "UPDATE card SET synced_entry = max(synced_entry, ?2) WHERE card_id = ?1",
                          I64S(card_id, upto_entry));
}
