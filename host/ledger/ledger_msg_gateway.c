/*
 * ledger_msg_gateway.c - a program's SMS and WhatsApp gateways (see
 * ledger_messages.h and host/mail/msg_gateway.h).
 */
#include "ledger_messages.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

leal_err ledger_message_gateway_set(struct ledger *l, const struct ledger_message_gateway *g)
{
    leal_err err;
    if (strcmp(g->channel, "sms") != 0 && strcmp(g->channel, "whatsapp") != 0) {
        store_set_msg(l, "the channel is sms or whatsapp");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_exists(l, ST_PROGRAM_EXISTS, g->program_id, "program");
    if (err == LEAL_OK && g->url[0])
        err = store_write(l,
                          "INSERT INTO message_gateway(program_id, channel, url, method, "
                          "format, headers, secret_file, body, updated_at) VALUES (?1, ?2, ?3, "
                          "?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (program_id, channel) DO UPDATE "
                          "SET url = excluded.url, method = excluded.method, format = "
                          "excluded.format, headers = excluded.headers, secret_file = "
                          "excluded.secret_file, body = excluded.body, updated_at = "
                          "excluded.updated_at",
                          SVALS(SV_I64(g->program_id), SV_TEXT(g->channel), SV_TEXT(g->url),
                                SV_TEXT(g->method), SV_TEXT(g->format), SV_TEXT(g->headers),
                                SV_TEXT(g->secret_file), SV_TEXT(g->body), SV_I64(ledger_now())),
                          NULL);
    else if (err == LEAL_OK)
        err = store_write(l, "DELETE FROM message_gateway WHERE program_id = ?1 AND channel = ?2",
                          SVALS(SV_I64(g->program_id), SV_TEXT(g->channel)), NULL);
    return store_tx_end(l, err);
}

leal_err ledger_message_gateway_get(struct ledger *l, int64_t program_id, const char *channel,
                                    struct ledger_message_gateway *out)
{
    struct store_stmt *st = NULL;
    int row = 0;
    memset(out, 0, sizeof *out);
    leal_err err = store_prep_once(l,
                                   "SELECT url, method, format, headers, secret_file, body, "
                                   "updated_at FROM message_gateway WHERE program_id = ?1 AND "
                                   "channel = ?2",
                                   &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id), SV_TEXT(channel)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->program_id = program_id;
        snprintf(out->channel, sizeof out->channel, "%s", channel);
        store_col_text(st, 0, out->url, sizeof out->url);
        store_col_text(st, 1, out->method, sizeof out->method);
        store_col_text(st, 2, out->format, sizeof out->format);
        store_col_text(st, 3, out->headers, sizeof out->headers);
        store_col_text(st, 4, out->secret_file, sizeof out->secret_file);
        store_col_text(st, 5, out->body, sizeof out->body);
        out->updated_at = store_col_i64(st, 6);
    }
    store_finalize(st);
    if (err == LEAL_OK && !row) {
        store_set_msg(l, "program %lld has no %.9s gateway", (long long)program_id, channel);
        err = LEAL_E_GATEWAY_CONFIG;
    }
    return err;
}

leal_err ledger_message_channel_text_set(struct ledger *l,
                                         const struct ledger_message_channel_key *k,
                                         const char *text)
{
    int64_t program_id = k->program_id;
    const char *occasion = k->occasion, *lang = k->lang, *channel = k->channel;
    leal_err err;
    if (strcmp(channel, "sms") != 0 && strcmp(channel, "whatsapp") != 0) {
        store_set_msg(l, "the channel is sms or whatsapp");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program");
    if (err == LEAL_OK && text[0])
        err = store_write(l,
                          "INSERT INTO message_channel_text(program_id, occasion, lang, "
                          "channel, body_text, updated_at) SELECT ?1, ?2, coalesce(nullif(?3, ''), "
                          "locale), ?4, ?5, ?6 FROM program WHERE id = ?1 ON CONFLICT "
                          "(program_id, occasion, lang, channel) DO UPDATE SET body_text = "
                          "excluded.body_text, updated_at = excluded.updated_at",
                          SVALS(SV_I64(program_id), SV_TEXT(occasion), SV_TEXT(lang),
                                SV_TEXT(channel), SV_TEXT(text), SV_I64(ledger_now())),
                          NULL);
    else if (err == LEAL_OK)
        err = store_write(
            l,
            "DELETE FROM message_channel_text WHERE program_id = ?1 AND occasion = "
            "?2 AND lang = (SELECT coalesce(nullif(?3, ''), locale) FROM program "
            "WHERE id = ?1) AND channel = ?4",
            SVALS(SV_I64(program_id), SV_TEXT(occasion), SV_TEXT(lang), SV_TEXT(channel)), NULL);
    return store_tx_end(l, err);
}

leal_err ledger_message_channel_text_get(struct ledger *l,
                                         const struct ledger_message_channel_key *k, char *out,
                                         size_t cap)
{
    int64_t program_id = k->program_id;
    const char *occasion = k->occasion, *lang = k->lang, *channel = k->channel;
    struct store_stmt *st = NULL;
    int row = 0;
    leal_err err = store_prep_once(l,
                                   "SELECT body_text FROM message_channel_text WHERE program_id "
                                   "= ?1 AND occasion = ?2 AND lang = ?3 AND channel = ?4",
                                   &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id), SV_TEXT(occasion), SV_TEXT(lang), SV_TEXT(channel)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row)
        store_col_text(st, 0, out, cap);
    store_finalize(st);
    if (err == LEAL_OK && !row)
        err = LEAL_E_NOT_FOUND;
    return err;
}
