/*
 * ledger_note.c - customer notes signed in the back office (see ledger_note.h).
 */
#include "ledger_note.h"

#include <string.h>

#include "store.h"

static leal_err text_check(struct ledger *l, const char *text)
{
    if (ledger_empty(text))
        return LEAL_E_REASON_REQUIRED;
    return ledger_text_ok(l, "note", text);
}

leal_err ledger_note_sign(struct ledger *l, int64_t customer_id, int64_t user_id,
                          const char *author, const char *text, int64_t *id)
{
    leal_err err;
    *id = 0;
    if (ledger_empty(author))
        return LEAL_E_REASON_REQUIRED;
    if ((err = text_check(l, text)) != LEAL_OK ||
        (err = ledger_text_ok(l, "author", author)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "INSERT INTO customer_note(customer_id, at, author, text, user_id) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      SVALS(SV_I64(customer_id), SV_I64(ledger_now()), SV_TEXT(author),
                            SV_TEXT(text), SV_I64_OR_NULL(user_id)),
                      id);
    if (err == LEAL_E_UNKNOWN_ID)
        store_set_msg(l, "customer %lld", (long long)customer_id);
    return store_tx_end_id(l, err, id);
}

leal_err ledger_note_get(struct ledger *l, int64_t id, struct ledger_note *out,
                         int64_t *customer_id)
{
    struct store_stmt *st;
    leal_err err = store_find_row(l,
                                  "SELECT id, at, author, text, coalesce(user_id, 0), "
                                  "coalesce(edited_at, 0), customer_id FROM customer_note "
                                  "WHERE id = ?1",
                                  id, "note", &st);
    if (err != LEAL_OK)
        return err;
    memset(out, 0, sizeof *out);
    out->id = store_col_i64(st, 0);
    out->at = store_col_i64(st, 1);
    store_col_text(st, 2, out->author, sizeof out->author);
    store_col_text(st, 3, out->text, sizeof out->text);
    out->user_id = store_col_i64(st, 4);
    out->edited_at = store_col_i64(st, 5);
    *customer_id = store_col_i64(st, 6);
    store_finalize(st);
    return LEAL_OK;
}

leal_err ledger_note_edit(struct ledger *l, int64_t id, const char *text)
{
    leal_err err = text_check(l, text);
    if (err != LEAL_OK || (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l, "UPDATE customer_note SET text = ?2, edited_at = ?3 WHERE id = ?1",
                      SVALS(SV_I64(id), SV_TEXT(text), SV_I64(ledger_now())), NULL);
    if (err == LEAL_OK)
        err = store_changed(l, "note", id);
    return store_tx_end(l, err);
}

leal_err ledger_note_delete(struct ledger *l, int64_t id)
{
    leal_err err = store_tx_begin(l);
    if (err != LEAL_OK)
        return err;
    err = store_exec_i64(l, "DELETE FROM customer_note WHERE id = ?1", I64S(id));
    if (err == LEAL_OK)
        err = store_changed(l, "note", id);
    return store_tx_end(l, err);
}
