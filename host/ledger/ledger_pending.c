/*
 * ledger_pending.c - card and ledger drift; syncs and Classic top-ups in flight (see ledger.h).
 */
#include <string.h>

#include "ledger.h"
#include "ledger_sql.h"
#include "store.h"

/* ---- Card and ledger drift ---- */

leal_err ledger_card_drift(struct ledger *l, int64_t card_id, struct ledger_drift *out)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = store_find_row(l, "SELECT 1 FROM card WHERE card_id = ?1", card_id, "card", &st)) !=
        LEAL_OK) {
        store_finalize(st);
        return err;
    }
    store_finalize(st);
    if ((err = store_find_row(l, DRIFT_SQL, card_id, "card", &st)) == LEAL_OK) {
        out->points = store_col_i64(st, 0);
        out->entries = store_col_i64(st, 1);
        out->upto = store_col_i64(st, 2);
    }
    store_finalize(st);
    if (err != LEAL_OK || out->upto == 0)
        return err;
    if ((err = store_find_row(l, "SELECT at, kind FROM entry WHERE id = ?1", out->upto, "entry",
                              &st)) == LEAL_OK) {
        out->newest_at = store_col_i64(st, 0);
        store_col_text(st, 1, out->newest_kind, sizeof out->newest_kind);
    }
    store_finalize(st);
    return err;
}

leal_err ledger_card_synced_now(struct ledger *l, int64_t card_id)
{
    leal_err err =
        store_exec_i64(l,
                       "UPDATE card SET synced_entry = coalesce((SELECT max(id) FROM entry), "
                       "0) WHERE card_id = ?1",
                       I64S(card_id));
    return err == LEAL_OK ? store_changed(l, "card", card_id) : err;
}

leal_err ledger_pending_sync_add(struct ledger *l, const struct ledger_pending_sync *p)
{
    leal_err err;
    l->msg[0] = '\0';
    if (p->card_id <= 0 || p->seq_before < 0 || p->seq_before > UINT32_MAX ||
        p->seq_after != (p->seq_before + 1) % (INT64_C(1) << 32) || p->points == 0 ||
        p->points_after < 0 || p->points_after > UINT32_MAX || p->upto_entry <= 0)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_CARD_PROGRAM, p->card_id, "card")) == LEAL_OK &&
        (err =
             store_exec_i64(l,
                            "INSERT INTO card_pending_sync(card_id, seq_before, seq_after, "
                            "points_after, points, upto_entry, created_at) VALUES (?1, ?2, ?3, ?4, "
                            "?5, ?6, ?7)",
                            I64S(p->card_id, p->seq_before, p->seq_after, p->points_after,
                                 p->points, p->upto_entry, ledger_now()))) == LEAL_E_DUPLICATE_ID)
        store_set_msg(l, "card %lld already has a sync in flight", (long long)p->card_id);
    return store_tx_end(l, err);
}

leal_err ledger_pending_sync_get(struct ledger *l, int64_t card_id, struct ledger_pending_sync *out,
                                 bool *found)
{
    struct store_stmt *st;
    int row;
    leal_err err;
    memset(out, 0, sizeof *out);
    *found = false;
    if ((err = store_prep_i64(l, PENDING_SYNC_SQL, &st, I64S(card_id))) != LEAL_OK)
        return err;
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->card_id = store_col_i64(st, 0);
        out->seq_before = store_col_i64(st, 1);
        out->seq_after = store_col_i64(st, 2);
        out->points_after = store_col_i64(st, 3);
        out->points = store_col_i64(st, 4);
        out->upto_entry = store_col_i64(st, 5);
        out->created_at = store_col_i64(st, 6);
        *found = true;
    }
    store_finalize(st);
    return err;
}

/* Removes the card's sync intent inside the caller's transaction. */
static leal_err sync_delete(struct ledger *l, int64_t card_id)
{
    leal_err err =
        store_exec_i64(l, "DELETE FROM card_pending_sync WHERE card_id = ?1", I64S(card_id));
    if (err == LEAL_OK && store_changes(l) != 1) {
        store_set_msg(l, "card %lld has no sync in flight", (long long)card_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

leal_err ledger_pending_sync_drop(struct ledger *l, int64_t card_id)
{
    leal_err err;
    l->msg[0] = '\0';
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    return store_tx_end(l, sync_delete(l, card_id));
}

leal_err ledger_pending_sync_settle(struct ledger *l, int64_t card_id)
{
    struct ledger_pending_sync p;
    bool found;
    leal_err err;
    l->msg[0] = '\0';
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_pending_sync_get(l, card_id, &p, &found)) == LEAL_OK && !found) {
        store_set_msg(l, "card %lld has no sync in flight", (long long)card_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    if (err == LEAL_OK)
        err = sync_delete(l, card_id);
    if (err == LEAL_OK)
        err = store_exec_i64(
            l,
            "UPDATE card SET synced_entry = max(synced_entry, ?2) WHERE account_id = "
            "(SELECT account_id FROM card WHERE card_id = ?1) AND (card_id = ?1 OR "
            "status IN ('active','blocked'))",
            I64S(card_id, p.upto_entry));
    return store_tx_end(l, err);
}

/* ---- Classic top-ups in flight ---- */

leal_err ledger_pending_topup_add(struct ledger *l, const struct ledger_pending_topup *p)
{
    leal_err err;
    l->msg[0] = '\0';
    if (p->card_id <= 0 || p->seq_before < 0 || p->seq_before > UINT32_MAX ||
        p->seq_after != (p->seq_before + 1) % (INT64_C(1) << 32) || p->cents <= 0 ||
        p->purse_after < p->cents || p->purse_after > LEDGER_PURSE_CAP_MAX ||
        ledger_empty(p->request_id) || strlen(p->request_id) >= sizeof p->request_id)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_CARD_PROGRAM, p->card_id, "card")) != LEAL_OK)
        goto out;
    err = store_write(l,
                      "INSERT INTO card_pending_topup(card_id, seq_before, seq_after, "
                      "purse_after, cents, request_id, created_at, mark, store_id) VALUES (?1, "
                      "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                      SVALS(SV_I64(p->card_id), SV_I64(p->seq_before), SV_I64(p->seq_after),
                            SV_I64(p->purse_after), SV_I64(p->cents), SV_TEXT(p->request_id),
                            SV_I64(ledger_now()),
                            SV_BLOB(p->has_mark ? p->mark : NULL, LEDGER_CARD_MARK_LEN),
                            SV_I64_OR_NULL(p->store_id)),
                      NULL);
    if (err == LEAL_E_DUPLICATE_ID)
        store_set_msg(l, "card %lld already has a top-up in flight", (long long)p->card_id);
out:
    return store_tx_end(l, err);
}

leal_err ledger_pending_topup_get(struct ledger *l, int64_t card_id,
                                  struct ledger_pending_topup *out, bool *found)
{
    struct store_stmt *st;
    int row;
    leal_err err;
    memset(out, 0, sizeof *out);
    *found = false;
    if ((err = store_prep_once(l, PENDING_TOPUP_SQL, &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, card_id);
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row) {
        out->card_id = store_col_i64(st, 0);
        out->seq_before = store_col_i64(st, 1);
        out->seq_after = store_col_i64(st, 2);
        out->purse_after = store_col_i64(st, 3);
        out->cents = store_col_i64(st, 4);
        store_col_text(st, 5, out->request_id, sizeof out->request_id);
        out->created_at = store_col_i64(st, 6);
        if (store_col_bytes(st, 7) == LEDGER_CARD_MARK_LEN) {
            memcpy(out->mark, store_col_blob(st, 7), LEDGER_CARD_MARK_LEN);
            out->has_mark = true;
        }
        out->store_id = store_col_i64(st, 8);
        *found = true;
    }
    store_finalize(st);
    return err;
}

/* Deletes the card's intent with that request id, inside the caller's transaction. */
static leal_err pending_delete(struct ledger *l, int64_t card_id, const char *request_id)
{
    leal_err err =
        store_write(l, "DELETE FROM card_pending_topup WHERE card_id = ?1 AND request_id = ?2",
                    SVALS(SV_I64(card_id), SV_TEXT(request_id ? request_id : "")), NULL);
    if (err == LEAL_OK && store_changes(l) != 1) {
        store_set_msg(l, "card %lld has no top-up in flight with request id '%s'",
                      (long long)card_id, request_id ? request_id : "");
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

leal_err ledger_pending_topup_drop(struct ledger *l, int64_t card_id, const char *request_id)
{
    leal_err err;
    l->msg[0] = '\0';
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    return store_tx_end(l, pending_delete(l, card_id, request_id));
}

leal_err ledger_pending_topup_settle(struct ledger *l, const struct ledger_entry *e,
                                     int64_t *entry_id, bool *replayed)
{
    char hash[65];
    leal_err err;

    *entry_id = 0;
    *replayed = false;
    l->msg[0] = '\0';
    if ((err = ledger_entry_check(l, e)) != LEAL_OK)
        return err;
    if (e->card_id <= 0 || ledger_empty(e->request_id))
        return LEAL_E_ARG;
    if ((err = ledger_entry_hash(l->crypto, e, hash)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    /* The intent goes first: without it nothing is posted. Its mark becomes
     * the card's: the state the ledger now knows the card is in. */
    err =
        store_exec_i64(l,
                       "UPDATE card SET seen_mark = coalesce((SELECT mark FROM card_pending_topup "
                       "WHERE card_id = ?1), seen_mark) WHERE card_id = ?1",
                       I64S(e->card_id));
    if (err == LEAL_OK)
        err = pending_delete(l, e->card_id, e->request_id);
    if (err == LEAL_OK)
        err = ledger_post_locked(l, e, hash, entry_id, replayed);
    err = store_tx_end(l, err);
    if (err != LEAL_OK) {
        *entry_id = 0;
        *replayed = false;
    }
    return err;
}
