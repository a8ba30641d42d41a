/*
 * ledger_portal_pin.c - card PINs for the portal's sign-in and the codes of
 * rewards redeemed from the portal (see ledger_portal_pin.h).
 */
#include "ledger_portal_pin.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

leal_err ledger_card_pin_set(struct ledger *l, int64_t card_id, const char *pin_hash,
                             const char *operator_name)
{
    struct ledger_card lc;
    leal_err err;
    if (pin_hash == NULL || strncmp(pin_hash, "$argon2id$", 10) != 0 ||
        strlen(pin_hash) >= LEDGER_PIN_HASH || operator_name == NULL)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = ledger_card_find_by_id(l, card_id, &lc);
    if (err == LEAL_E_NOT_FOUND)
        err = LEAL_E_UNKNOWN_ID;
    if (err == LEAL_OK)
        err = store_write(
            l,
            "INSERT INTO card_pin(card_id, pin_hash, fails, set_at, set_by) VALUES "
            "(?1, ?2, 0, ?3, ?4) ON CONFLICT(card_id) DO UPDATE SET pin_hash = "
            "excluded.pin_hash, fails = 0, set_at = excluded.set_at, set_by = "
            "excluded.set_by",
            SVALS(SV_I64(card_id), SV_TEXT(pin_hash), SV_I64(ledger_now()), SV_TEXT(operator_name)),
            NULL);
    return store_tx_end(l, err);
}

leal_err ledger_card_pin_clear(struct ledger *l, int64_t card_id, bool *removed)
{
    leal_err err;
    *removed = false;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l, "DELETE FROM card_pin WHERE card_id = ?1", SVALS(SV_I64(card_id)), NULL);
    if (err == LEAL_OK)
        *removed = store_changes(l) == 1;
    return store_tx_end(l, err);
}

leal_err ledger_card_pin_get(struct ledger *l, int64_t card_id, struct ledger_card_pin *out)
{
    struct store_stmt *st;
    char status[16];
    leal_err err;
    int found;
    memset(out, 0, sizeof *out);
    if ((err = store_prep_once(l,
                               "SELECT p.pin_hash, p.fails, c.status, coalesce(a.customer_id, 0) "
                               "FROM card_pin p JOIN card c ON c.card_id = p.card_id JOIN account "
                               "a ON a.id = c.account_id WHERE p.card_id = ?1",
                               &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, card_id);
    found = store_next_row(l, st, &err);
    if (found) {
        out->card_id = card_id;
        store_col_text(st, 0, out->pin_hash, sizeof out->pin_hash);
        out->fails = store_col_i64(st, 1);
        store_col_text(st, 2, status, sizeof status);
        out->customer_id = store_col_i64(st, 3);
        if (ledger_card_status_parse(status, &out->status) != LEAL_OK)
            out->status = LEDGER_CARD_BLOCKED; /* unknown: not signed in */
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    return found ? LEAL_OK : LEAL_E_NOT_FOUND;
}

leal_err ledger_card_pin_tried(struct ledger *l, int64_t card_id, bool right)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      right ? "UPDATE card_pin SET fails = 0 WHERE card_id = ?1"
                            : "UPDATE card_pin SET fails = fails + 1 WHERE card_id = ?1",
                      SVALS(SV_I64(card_id)), NULL);
    return store_tx_end(l, err);
}

leal_err ledger_redemption_keep(struct ledger *l, const char *code, int64_t entry_id,
                                int64_t customer_id, uint32_t reward_id, int64_t now)
{
    leal_err err;
    if (code == NULL || strlen(code) != LEDGER_REDEEM_CODE - 1)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "INSERT INTO portal_redemption(code, entry_id, customer_id, reward_id, "
                      "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                      SVALS(SV_TEXT(code), SV_I64(entry_id), SV_I64(customer_id),
                            SV_I64((int64_t)reward_id), SV_I64(now)),
                      NULL);
    return store_tx_end(l, err);
}

/* The redemption columns, then "WHERE ..." of the caller. */
#define REDEMPTION_SELECT                                                                          \
    "SELECT r.code, r.entry_id, r.customer_id, r.reward_id, r.created_at, "                        \
    "coalesce(r.honoured_at, 0), coalesce(r.honoured_by, ''), coalesce((SELECT l.account_id FROM " \
    "line "                                                                                        \
    "l JOIN account a ON a.id = l.account_id WHERE l.entry_id = r.entry_id AND a.customer_id = "   \
    "r.customer_id AND l.asset = 'PTS'), 0), coalesce((SELECT -sum(l.amount) FROM line l JOIN "    \
    "account a ON a.id = l.account_id WHERE l.entry_id = r.entry_id AND a.customer_id = "          \
    "r.customer_id AND l.asset = 'PTS'), 0) FROM portal_redemption r "

static void redemption_cols(struct store_stmt *st, struct ledger_redemption *out)
{
    store_col_text(st, 0, out->code, sizeof out->code);
    out->entry_id = store_col_i64(st, 1);
    out->customer_id = store_col_i64(st, 2);
    out->reward_id = (uint32_t)store_col_i64(st, 3);
    out->created_at = store_col_i64(st, 4);
    out->honoured_at = store_col_i64(st, 5);
    store_col_text(st, 6, out->honoured_by, sizeof out->honoured_by);
    out->account_id = store_col_i64(st, 7);
    out->points = store_col_i64(st, 8);
}

static leal_err redemption_row(struct ledger *l, struct store_stmt *st,
                               struct ledger_redemption *out, bool *found)
{
    leal_err err = LEAL_OK;
    memset(out, 0, sizeof *out);
    *found = store_next_row(l, st, &err) != 0;
    if (*found)
        redemption_cols(st, out);
    store_finalize(st);
    return err;
}

leal_err ledger_redemption_of_entry(struct ledger *l, int64_t entry_id,
                                    struct ledger_redemption *out, bool *found)
{
    struct store_stmt *st;
    leal_err err;
    *found = false;
    if ((err = store_prep_once(l, REDEMPTION_SELECT "WHERE r.entry_id = ?1", &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, entry_id);
    return redemption_row(l, st, out, found);
}

leal_err ledger_redemption_honour(struct ledger *l, const char *code, const char *operator_name,
                                  int64_t now, struct ledger_redemption *out)
{
    struct store_stmt *st;
    bool found = false;
    leal_err err;
    memset(out, 0, sizeof *out);
    if (code == NULL || operator_name == NULL)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_prep_once(l, REDEMPTION_SELECT "WHERE r.code = ?1", &st)) == LEAL_OK) {
        store_bind_text(st, 1, code);
        err = redemption_row(l, st, out, &found);
    }
    if (err == LEAL_OK && !found)
        err = LEAL_E_REDEEM_CODE_UNKNOWN;
    else if (err == LEAL_OK && out->honoured_at != 0)
        err = LEAL_E_REDEEM_CODE_USED;
    if (err == LEAL_OK)
        err = store_write(l,
                          "UPDATE portal_redemption SET honoured_at = ?2, honoured_by = ?3 WHERE "
                          "code = ?1 AND honoured_at IS NULL",
                          SVALS(SV_TEXT(code), SV_I64(now), SV_TEXT(operator_name)), NULL);
    if (err == LEAL_OK && store_changes(l) != 1)
        err = LEAL_E_REDEEM_CODE_USED;
    if (err == LEAL_OK) {
        out->honoured_at = now;
        snprintf(out->honoured_by, sizeof out->honoured_by, "%s", operator_name);
    }
    return store_tx_end(l, err);
}

leal_err ledger_redemption_each(struct ledger *l, int64_t customer_id, size_t limit,
                                ledger_redemption_cb cb, void *ctx)
{
    struct store_stmt *st;
    struct ledger_redemption one;
    leal_err err;
    bool found = true;
    if ((err = store_prep_once(
             l, REDEMPTION_SELECT "WHERE r.customer_id = ?1 ORDER BY r.entry_id DESC LIMIT ?2",
             &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, customer_id);
    store_bind_i64(st, 2, (int64_t)limit);
    while (err == LEAL_OK && found) {
        memset(&one, 0, sizeof one);
        found = store_next_row(l, st, &err) != 0;
        if (found) {
            redemption_cols(st, &one);
            cb(ctx, &one);
        }
    }
    store_finalize(st);
    return err;
}
