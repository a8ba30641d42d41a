/*
 * ledger_family.c - family cards: holders and detaching (see ledger_family.h).
 */
#include "ledger_family.h"

#include <stdio.h>
#include <string.h>

#include "ledger_qr.h"
#include "store.h"

leal_err ledger_card_holder_set(struct ledger *l, int64_t card_id, const char *name)
{
    struct ledger_card c;
    leal_err err;
    if (name == NULL)
        name = "";
    if ((err = ledger_text_ok(l, "holder", name)) != LEAL_OK ||
        (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = ledger_card_find_by_id(l, card_id, &c);
    if (err == LEAL_OK && name[0])
        err = store_write(l,
                          "INSERT INTO card_holder(card_id, name, set_at) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT (card_id) DO UPDATE SET name = ?2, set_at = ?3",
                          SVALS(SV_I64(card_id), SV_TEXT(name), SV_I64(ledger_now())), NULL);
    else if (err == LEAL_OK)
        err = store_exec_i64(l, "DELETE FROM card_holder WHERE card_id = ?1", I64S(card_id));
    return store_tx_end(l, err);
}

leal_err ledger_card_holder_get(struct ledger *l, int64_t card_id, char name[LEDGER_TEXT])
{
    struct store_stmt *st;
    leal_err err =
        store_prep_i64(l, "SELECT name FROM card_holder WHERE card_id = ?1", &st, I64S(card_id));
    name[0] = '\0';
    if (err != LEAL_OK)
        return err;
    if (store_next_row(l, st, &err))
        store_col_text(st, 0, name, LEDGER_TEXT);
    store_finalize(st);
    return err;
}

leal_err ledger_card_detach(struct ledger *l, int64_t card_id, const char *reason,
                            const char *operator_name)
{
    struct ledger_card c;
    char why[LEDGER_TEXT];
    int64_t others = 0;
    leal_err err;
    if (ledger_empty(reason))
        return LEAL_E_REASON_REQUIRED;
    if ((size_t)snprintf(why, sizeof why, "detached from the family account: %s", reason) >=
        sizeof why)
        return LEAL_E_TEXT;
    if ((err = ledger_text_ok(l, "reason", why)) != LEAL_OK)
        return err;
    /* ledger_qr_card_status's own batch unless the caller's is open. */
    bool own = l->in_batch == BATCH_NONE;
    if (own && (err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    err = ledger_card_find_by_id(l, card_id, &c);
    if (err == LEAL_OK && c.status != LEDGER_CARD_ACTIVE)
        err = LEAL_E_CARD_STATUS_CHANGE;
    if (err == LEAL_OK)
        err = store_query_int(l,
                              "SELECT count(*) FROM card WHERE account_id = ?1 AND card_id <> ?2 "
                              "AND status = 'active'",
                              I64S(c.account_id, card_id), &others);
    if (err == LEAL_OK && others == 0)
        err = LEAL_E_CARD_LAST;
    if (err == LEAL_OK)
        err = ledger_qr_card_status(l, card_id, LEDGER_CARD_BLOCKED, why, operator_name);
    if (!own)
        return err;
    if (err != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    return ledger_batch_commit(l);
}
