/*
 * ledger_msg_tier_renumber.c - tier messages follow their tier when the
 * program's tiers are added or removed (ledger_message_tier_renumber, see
 * ledger_messages.h), called by ledger_rules_change in its transaction. A
 * file of its own: the rules call it, and the tier messages call the rules.
 */
#include "ledger_messages.h"

#include <stdio.h>

#include "store.h"

/* One tier's number from was to to (0: removed) in message_tier and the
 * rows not sent. */
static leal_err renumber_one(struct ledger *l, int64_t program_id, uint32_t was, uint32_t to)
{
    static const char *const dirs[] = {"tier_up:", "tier_down:"};
    leal_err err = LEAL_OK;
    if (to != 0)
        err = store_write(l,
                          "UPDATE message_tier SET tier = ?3 WHERE tier = ?2 AND customer_id IN "
                          "(SELECT id FROM customer WHERE program_id = ?1)",
                          SVALS(SV_I64(program_id), SV_I64(was), SV_I64(to)), NULL);
    for (size_t d = 0; d < 2 && err == LEAL_OK; d++) {
        char from[32], into[32];
        snprintf(from, sizeof from, "%s%u", dirs[d], was);
        snprintf(into, sizeof into, "%s%u", dirs[d], to);
        if (to != 0)
            err = store_write(l,
                              "UPDATE message_send SET occasion = ?3 WHERE occasion = ?2 AND "
                              "state IN ('pending','failed') AND customer_id IN (SELECT id FROM "
                              "customer WHERE program_id = ?1) AND NOT EXISTS (SELECT 1 FROM "
                              "message_send o WHERE o.customer_id = message_send.customer_id AND "
                              "o.occasion = ?3 AND o.day = message_send.day AND "
                              "o.channel = message_send.channel)",
                              SVALS(SV_I64(program_id), SV_TEXT(from), SV_TEXT(into)), NULL);
        if (err == LEAL_OK)
            err = store_write(l,
                              "DELETE FROM message_send WHERE occasion = ?2 AND state IN "
                              "('pending','failed') AND customer_id IN (SELECT id FROM customer "
                              "WHERE program_id = ?1)",
                              SVALS(SV_I64(program_id), SV_TEXT(from)), NULL);
    }
    return err;
}

leal_err ledger_message_tier_renumber(struct ledger *l, int64_t program_id, const uint32_t *map,
                                      uint32_t n_old)
{
    leal_err err = LEAL_OK;
    /* Those moving up from the highest, then those moving down or removed
     * from the lowest: no tier is moved onto one not moved yet. */
    for (uint32_t i = n_old; i >= 1 && err == LEAL_OK; i--)
        if (map[i - 1] > i)
            err = renumber_one(l, program_id, i, map[i - 1]);
    for (uint32_t i = 1; i <= n_old && err == LEAL_OK; i++)
        if (map[i - 1] < i)
            err = renumber_one(l, program_id, i, map[i - 1]);
    return err;
}
