/*
 * ledger_campaign.c - campaigns to a segment (see ledger_campaign.h).
 */
#include "ledger_campaign.h"

#include <stdio.h>
#include <string.h>

#include "ledger_user.h"
#include "ledger_sql.h"
#include "store.h"

leal_err ledger_campaign_set(struct ledger *l, int64_t program_id, const char *name,
                             const char *segment, const char *day,
                             const struct ledger_message_template *t)
{
    struct ledger_segment s;
    struct ledger_campaign c;
    leal_err err;
    if (!ledger_segment_word_ok(name, LEDGER_SEGMENT_NAME)) {
        store_set_msg(l, "a campaign's name is 1 to 63 of A-Z a-z 0-9 _ . -");
        return LEAL_E_SEGMENT_FILTER;
    }
    if (!day || strlen(day) != 10) {
        store_set_msg(l, "a day is YYYY-MM-DD");
        return LEAL_E_ARG;
    }
    if (t->lang[0] && (err = ledger_lang_ok(l, t->lang)) != LEAL_OK)
        return err;
    if (ledger_empty(t->subject) || ledger_empty(t->text)) {
        store_set_msg(l, "a campaign needs a subject and a text body");
        return LEAL_E_TEXT;
    }
    if ((err = ledger_text_ok(l, "campaign subject", t->subject)) != LEAL_OK ||
        (err = ledger_segment_get(l, program_id, segment, &s)) != LEAL_OK ||
        (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(
        l,
        "INSERT INTO message_campaign(program_id, name, segment_id, day, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (program_id, name) DO NOTHING",
        SVALS(SV_I64(program_id), SV_TEXT(name), SV_I64(s.id), SV_TEXT(day), SV_I64(ledger_now())),
        NULL);
    if (err == LEAL_OK && (err = ledger_campaign_get(l, program_id, name, &c)) == LEAL_OK &&
        c.segment_id != s.id) {
        store_set_msg(l, "campaign %s targets segment %s", name, c.segment);
        err = LEAL_E_CAMPAIGN_SEGMENT;
    }
    if (err == LEAL_OK)
        err = store_write(
            l,
            "INSERT INTO message_campaign_text(campaign_id, lang, subject, body_text, "
            "body_html, updated_at) SELECT ?1, coalesce(nullif(?2, ''), locale), ?3, ?4, ?5, ?6 "
            "FROM program WHERE id = ?7 ON CONFLICT (campaign_id, lang) DO UPDATE SET subject = "
            "excluded.subject, body_text = excluded.body_text, body_html = excluded.body_html, "
            "updated_at = excluded.updated_at",
            SVALS(SV_I64(c.id), SV_TEXT(t->lang), SV_TEXT(t->subject), SV_TEXT(t->text),
                  SV_TEXT(t->html), SV_I64(ledger_now()), SV_I64(program_id)),
            NULL);
    return store_tx_end(l, err);
}

leal_err ledger_campaign_get(struct ledger *l, int64_t program_id, const char *name,
                             struct ledger_campaign *out)
{
    struct store_stmt *st = NULL;
    int row = 0;
    memset(out, 0, sizeof *out);
    leal_err err = store_prep_once(
        l,
        "SELECT c.id, c.segment_id, s.name, c.day, c.created_at FROM message_campaign c "
        "JOIN segment s ON s.id = c.segment_id WHERE c.program_id = ?1 AND c.name = ?2",
        &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id), SV_TEXT(name)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->id = store_col_i64(st, 0);
        out->program_id = program_id;
        snprintf(out->name, sizeof out->name, "%s", name);
        out->segment_id = store_col_i64(st, 1);
        store_col_text(st, 2, out->segment, sizeof out->segment);
        store_col_text(st, 3, out->day, sizeof out->day);
        out->created_at = store_col_i64(st, 4);
        snprintf(out->occasion, sizeof out->occasion, "%s%s", LEDGER_CAMPAIGN_PREFIX, name);
    }
    store_finalize(st);
    if (err == LEAL_OK && !row) {
        store_set_msg(l, "campaign %.63s", name);
        err = LEAL_E_CAMPAIGN_UNKNOWN;
    }
    return err;
}

leal_err ledger_campaign_record(struct ledger *l, const struct ledger_campaign *c,
                                const int64_t *ids, size_t n, int64_t *added)
{
    leal_err err;
    *added = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    /* The customer must still be the program's and not erased; a row per
     * channel that reaches them (its address and marketing consent,
     * MSG_REACHABLE_FOR);
     * the token is random as the occasions' are. */
    for (size_t i = 0; i < n && err == LEAL_OK; i++)
        if ((err = store_write(
                 l,
                 "INSERT INTO message_send(customer_id, occasion, day, "
                 "token, state, next_at, created_at, updated_at, channel) SELECT "
                 "c.id, ?3, ?4, lower(hex(randomblob(16))), 'pending', ?5, ?5, ?5, "
                 "ch.channel FROM " MSG_REACHABLE_FOR("marketing") " AND c.id = ?2 ORDER BY "
                                                                   "ch.channel ON CONFLICT DO "
                                                                   "NOTHING",
                 SVALS(SV_I64(c->program_id), SV_I64(ids[i]), SV_TEXT(c->occasion), SV_TEXT(c->day),
                       SV_I64(ledger_now())),
                 NULL)) == LEAL_OK)
            *added += store_changes(l);
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *added = 0;
    return err;
}
