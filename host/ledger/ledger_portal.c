/*
 * ledger_portal.c - the customer portal's links and sessions (see
 * ledger_portal.h).
 */
#include "ledger_portal.h"

#include "store.h"

#define DEAD_LINK_KEPT (24 * 3600) /* a used or expired link still says so for a day */

leal_err ledger_portal_link_add(struct ledger *l, const uint8_t hash[LEDGER_PORTAL_HASH],
                                int64_t customer_id, int64_t now, int64_t expires_at)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l, "DELETE FROM portal_link WHERE expires_at <= ?1",
                      SVALS(SV_I64(now - DEAD_LINK_KEPT)), NULL);
    if (err == LEAL_OK)
        err = store_write(l,
                          "INSERT INTO portal_link(token_hash, customer_id, created_at, "
                          "expires_at) VALUES (?1, ?2, ?3, ?4)",
                          SVALS(SV_BLOB(hash, LEDGER_PORTAL_HASH), SV_I64(customer_id), SV_I64(now),
                                SV_I64(expires_at)),
                          NULL);
    return store_tx_end(l, err);
}

leal_err ledger_portal_link_take(struct ledger *l, const uint8_t hash[LEDGER_PORTAL_HASH],
                                 int64_t now, int64_t *customer_id)
{
    struct store_stmt *st;
    int64_t expires = 0, used = 0;
    leal_err err;
    int found;
    *customer_id = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_prep_once(l,
                               "SELECT customer_id, expires_at, ifnull(used_at, 0) FROM "
                               "portal_link WHERE token_hash = ?1",
                               &st)) != LEAL_OK)
        return store_tx_end(l, err);
    store_bind_blob(st, 1, hash, LEDGER_PORTAL_HASH);
    found = store_next_row(l, st, &err);
    if (found) {
        *customer_id = store_col_i64(st, 0);
        expires = store_col_i64(st, 1);
        used = store_col_i64(st, 2);
    }
    store_finalize(st);
    if (err == LEAL_OK)
        err = !found           ? LEAL_E_PORTAL_LINK_UNKNOWN
              : used != 0      ? LEAL_E_PORTAL_LINK_USED
              : expires <= now ? LEAL_E_PORTAL_LINK_EXPIRED
                               : LEAL_OK;
    if (err == LEAL_OK)
        err = store_write(l,
                          "UPDATE portal_link SET used_at = ?2 WHERE token_hash = ?1 AND used_at "
                          "IS NULL",
                          SVALS(SV_BLOB(hash, LEDGER_PORTAL_HASH), SV_I64(now)), NULL);
    if (err == LEAL_OK && store_changes(l) != 1)
        err = LEAL_E_PORTAL_LINK_USED;
    if (err != LEAL_OK)
        *customer_id = 0;
    return store_tx_end(l, err);
}

leal_err ledger_portal_session_add(struct ledger *l, const uint8_t hash[LEDGER_PORTAL_HASH],
                                   int64_t customer_id, const char *csrf, int64_t expires_at)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "INSERT INTO portal_session(token_hash, customer_id, csrf, created_at, "
                      "expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                      SVALS(SV_BLOB(hash, LEDGER_PORTAL_HASH), SV_I64(customer_id), SV_TEXT(csrf),
                            SV_I64(ledger_now()), SV_I64(expires_at)),
                      NULL);
    return store_tx_end(l, err);
}

leal_err ledger_portal_session_find(struct ledger *l, const uint8_t hash[LEDGER_PORTAL_HASH],
                                    int64_t now, int64_t *customer_id,
                                    char csrf[LEDGER_PORTAL_CSRF])
{
    struct store_stmt *st;
    leal_err err;
    int found;
    *customer_id = 0;
    csrf[0] = '\0';
    if ((err = store_prep_once(l,
                               "SELECT customer_id, csrf FROM portal_session WHERE token_hash = "
                               "?1 AND expires_at > ?2",
                               &st)) != LEAL_OK)
        return err;
    store_bind_blob(st, 1, hash, LEDGER_PORTAL_HASH);
    store_bind_i64(st, 2, now);
    found = store_next_row(l, st, &err);
    if (found) {
        *customer_id = store_col_i64(st, 0);
        store_col_text(st, 1, csrf, LEDGER_PORTAL_CSRF);
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    return found ? LEAL_OK : LEAL_E_PORTAL_SESSION;
}

leal_err ledger_portal_session_end(struct ledger *l, const uint8_t hash[LEDGER_PORTAL_HASH],
                                   int64_t now)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l, "DELETE FROM portal_session WHERE token_hash = ?1 OR expires_at <= ?2",
                      SVALS(SV_BLOB(hash, LEDGER_PORTAL_HASH), SV_I64(now)), NULL);
    return store_tx_end(l, err);
}
