/* ledger_msg_template.c - storing a program's message template
 * (ledger_messages.h): apart from ledger_messages.c because storing the
 * first tier template also keeps every customer's tier (ledger_msg_tier.c),
 * which itself reads through ledger_messages.c; one direction, no circle. */
#include <stdio.h>
#include <string.h>

#include "ledger_messages.h"
#include "ledger_user.h"
#include "store.h"

leal_err ledger_message_template_set(struct ledger *l, const struct ledger_message_template *t)
{
    leal_err err;
    if (!ledger_message_occasion_ok(t->occasion)) {
        store_set_msg(l, "the occasion is birthday, inactive, expiring, welcome, tier_up or "
                         "tier_down");
        return LEAL_E_ARG;
    }
    if (t->lang[0] && (err = ledger_lang_ok(l, t->lang)) != LEAL_OK)
        return err;
    if (t->bonus_set &&
        (strcmp(t->occasion, "birthday") != 0 || t->bonus < 0 || t->bonus > 100000)) {
        store_set_msg(l, "a bonus is 0 to 100000 points, for birthday");
        return LEAL_E_ARG;
    }
    if (ledger_message_occasion_days(t->occasion) ? t->days < 0 || t->days > 3650 : t->days != 0) {
        store_set_msg(l, "days count for inactive, expiring and welcome, from 1 to 3650");
        return LEAL_E_ARG;
    }
    if (ledger_empty(t->subject) || ledger_empty(t->text)) {
        store_set_msg(l, "a message template needs a subject and a text body");
        return LEAL_E_TEXT;
    }
    if ((err = ledger_text_ok(l, "message subject", t->subject)) != LEAL_OK ||
        (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_exists(l, ST_PROGRAM_EXISTS, t->program_id, "program");
    if (err == LEAL_OK && t->days > 0)
        err = store_write(l,
                          "INSERT INTO message_occasion(program_id, occasion, days, updated_at) "
                          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (program_id, occasion) DO UPDATE "
                          "SET days = excluded.days, updated_at = excluded.updated_at",
                          SVALS(SV_I64(t->program_id), SV_TEXT(t->occasion), SV_I64(t->days),
                                SV_I64(ledger_now())),
                          NULL);
    else if (err == LEAL_OK && ledger_message_occasion_days(t->occasion)) {
        int64_t days = 0;
        if ((err = ledger_message_days_get(l, t->program_id, t->occasion, &days)) == LEAL_OK &&
            days == 0) {
            store_set_msg(l, "the %s occasion needs its days the first time", t->occasion);
            err = LEAL_E_ARG;
        }
    }
    if (err == LEAL_OK && t->bonus_set)
        err =
            store_write(l,
                        t->bonus ? "INSERT INTO message_birthday_bonus(program_id, points, "
                                   "updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (program_id) "
                                   "DO UPDATE SET points = excluded.points, updated_at = "
                                   "excluded.updated_at"
                                 : "DELETE FROM message_birthday_bonus WHERE program_id = ?1 "
                                   "AND ?2 = 0 AND ?3 > 0",
                        SVALS(SV_I64(t->program_id), SV_I64(t->bonus), SV_I64(ledger_now())), NULL);
    if (err == LEAL_OK)
        err = store_write(
            l,
            "INSERT INTO message_template(program_id, occasion, lang, subject, "
            "body_text, body_html, updated_at) SELECT ?1, ?2, coalesce(nullif(?7, ''), locale), "
            "?3, ?4, ?5, ?6 FROM program WHERE id = ?1 ON CONFLICT (program_id, occasion, lang) "
            "DO UPDATE SET subject = excluded.subject, body_text = excluded.body_text, body_html "
            "= excluded.body_html, updated_at = excluded.updated_at",
            SVALS(SV_I64(t->program_id), SV_TEXT(t->occasion), SV_TEXT(t->subject),
                  SV_TEXT(t->text), SV_TEXT(t->html), SV_I64(ledger_now()), SV_TEXT(t->lang)),
            NULL);
    /* Tier messages tell changes from now on, not the tiers held today. */
    if (err == LEAL_OK && ledger_message_occasion_tier(t->occasion))
        err = ledger_message_tier_baseline(l, t->program_id, ledger_now());
    return store_tx_end(l, err);
}
