/*
 * ledger_messages.c - message templates and the send log (see
 * ledger_messages.h).
 */
#include "ledger_messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static int occasion_ok(const char *o)
{
    return o && strcmp(o, "birthday") == 0;
}

leal_err ledger_message_template_set(struct ledger *l, const struct ledger_message_template *t)
{
    leal_err err;
    if (!occasion_ok(t->occasion)) {
        store_set_msg(l, "the occasion is birthday");
        return LEAL_E_ARG;
    }
    if (ledger_empty(t->subject) || ledger_empty(t->text)) {
        store_set_msg(l, "a message template needs a subject and a text body");
        return LEAL_E_TEXT;
    }
    if ((err = ledger_text_ok(l, "message subject", t->subject)) != LEAL_OK ||
        (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_PROGRAM_EXISTS, t->program_id, "program")) == LEAL_OK)
        err = store_write(l,
                          "INSERT OR REPLACE INTO message_template(program_id, occasion, subject, "
                          "body_text, body_html, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          SVALS(SV_I64(t->program_id), SV_TEXT(t->occasion), SV_TEXT(t->subject),
                                SV_TEXT(t->text), SV_TEXT(t->html), SV_I64(ledger_now())),
                          NULL);
    return store_tx_end(l, err);
}

leal_err ledger_message_template_get(struct ledger *l, int64_t program_id, const char *occasion,
                                     struct ledger_message_template *out)
{
    struct store_stmt *st = NULL;
    int row = 0;
    memset(out, 0, sizeof *out);
    leal_err err = store_prep_once(l,
                                   "SELECT subject, body_text, body_html, updated_at FROM "
                                   "message_template WHERE program_id = ?1 AND occasion = ?2",
                                   &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id), SV_TEXT(occasion)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->program_id = program_id;
        snprintf(out->occasion, sizeof out->occasion, "%s", occasion);
        store_col_text(st, 0, out->subject, sizeof out->subject);
        store_col_text(st, 1, out->text, sizeof out->text);
        store_col_text(st, 2, out->html, sizeof out->html);
        out->updated_at = store_col_i64(st, 3);
    }
    store_finalize(st);
    if (err == LEAL_OK && !row)
        err = LEAL_E_NOT_FOUND;
    return err;
}

leal_err ledger_message_zone(struct ledger *l, int64_t program_id, char *tz, size_t cap,
                             char *store_name, size_t name_cap)
{
    struct store_stmt *st = NULL;
    int row = 0;
    snprintf(tz, cap, "UTC");
    snprintf(store_name, name_cap, "%s", "");
    leal_err err = store_prep_i64(
        l, "SELECT timezone, name FROM store WHERE program_id = ?1 ORDER BY id LIMIT 1", &st,
        &program_id, 1);
    if (err == LEAL_OK && (err = store_step(l, st, &row)) == LEAL_OK && row) {
        store_col_text(st, 0, tz, cap);
        store_col_text(st, 1, store_name, name_cap);
    }
    store_finalize(st);
    return err;
}

/* The latest e-mail consent of customer c.id is a grant. */
#define MSG_EMAIL_CONSENT                                                                          \
    "(SELECT k.granted FROM consent k WHERE k.customer_id = c.id AND k.channel = 'email' "         \
    "ORDER BY k.id DESC LIMIT 1) = 1"

leal_err ledger_message_record_birthdays(struct ledger *l, int64_t program_id, const char *day,
                                         int64_t *added)
{
    leal_err err;
    *added = 0;
    if (!day || strlen(day) != 10) {
        store_set_msg(l, "a day is YYYY-MM-DD");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    /* The token comes from SQLite's randomblob (ChaCha20 seeded by the OS):
     * guessing one would only unsubscribe someone. date() rolls 29 February
     * of a common year over to 1 March, which tells leap years apart. */
    err = store_write(
        l,
        "INSERT OR IGNORE INTO message_send(customer_id, occasion, day, token, state, next_at, "
        "created_at, updated_at) "
        "SELECT c.id, 'birthday', ?2, lower(hex(randomblob(16))), 'pending', ?3, ?3, ?3 "
        "FROM customer c JOIN customer_pii p ON p.customer_id = c.id "
        "WHERE c.program_id = ?1 AND c.erased_at IS NULL AND p.email <> '' "
        "AND (substr(p.birth_date, 6, 5) = substr(?2, 6, 5) OR "
        "(substr(p.birth_date, 6, 5) = '02-29' AND substr(?2, 6, 5) = '02-28' AND "
        "date(substr(?2, 1, 4) || '-02-29') <> substr(?2, 1, 4) || '-02-29')) "
        "AND " MSG_EMAIL_CONSENT " ORDER BY c.id",
        SVALS(SV_I64(program_id), SV_TEXT(day), SV_I64(ledger_now())), NULL);
    if (err == LEAL_OK)
        *added = store_changes(l);
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *added = 0;
    return err;
}

leal_err ledger_message_expire_sending(struct ledger *l, int64_t program_id, int64_t now,
                                       int64_t *n)
{
    leal_err err;
    *n = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "UPDATE message_send SET state = 'unknown', updated_at = ?2, error = "
                      "'a run stopped during the send; not sent again' WHERE state = 'sending' "
                      "AND updated_at <= ?2 - ?3 AND customer_id IN "
                      "(SELECT id FROM customer WHERE program_id = ?1)",
                      SVALS(SV_I64(program_id), SV_I64(now), SV_I64(LEDGER_MSG_SENDING_STALE_S)),
                      NULL);
    if (err == LEAL_OK)
        *n = store_changes(l);
    return store_tx_end(l, err);
}

#define MSG_COLS                                                                                   \
    "m.id, m.customer_id, m.occasion, m.day, m.token, m.state, m.attempts, m.next_at, m.error, "   \
    "m.created_at, m.updated_at"

static void message_row(struct store_stmt *st, struct ledger_message_send *m)
{
    memset(m, 0, sizeof *m);
    m->id = store_col_i64(st, 0);
    m->customer_id = store_col_i64(st, 1);
    store_col_text(st, 2, m->occasion, sizeof m->occasion);
    store_col_text(st, 3, m->day, sizeof m->day);
    store_col_text(st, 4, m->token, sizeof m->token);
    store_col_text(st, 5, m->state, sizeof m->state);
    m->attempts = store_col_i64(st, 6);
    m->next_at = store_col_i64(st, 7);
    store_col_text(st, 8, m->error, sizeof m->error);
    m->created_at = store_col_i64(st, 9);
    m->updated_at = store_col_i64(st, 10);
}

leal_err ledger_message_due(struct ledger *l, int64_t program_id, int64_t now,
                            struct ledger_message_send **rows, size_t *n)
{
    struct store_stmt *st = NULL;
    struct ledger_message_send *v = NULL;
    size_t cap = 0;
    const int64_t key[2] = {program_id, now};
    leal_err err = store_prep_i64(l,
                                  "SELECT " MSG_COLS " FROM message_send m JOIN customer c ON "
                                  "c.id = m.customer_id WHERE c.program_id = ?1 AND (m.state = "
                                  "'pending' OR (m.state = 'failed' AND m.next_at <= ?2)) "
                                  "ORDER BY m.id",
                                  &st, key, 2);
    *rows = NULL;
    *n = 0;
    while (err == LEAL_OK && store_next_row(l, st, &err)) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct ledger_message_send *nv = realloc(v, ncap * sizeof *v);
            if (!nv) {
                err = LEAL_E_NO_MEMORY;
                break;
            }
            v = nv;
            cap = ncap;
        }
        message_row(st, &v[(*n)++]);
    }
    store_finalize(st);
    if (err != LEAL_OK) {
        free(v);
        *n = 0;
        return err;
    }
    *rows = v;
    return LEAL_OK;
}

leal_err ledger_message_claim(struct ledger *l, int64_t id, int64_t now, int *won)
{
    leal_err err;
    *won = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    const int64_t v[2] = {id, now};
    err = store_exec_i64(l,
                         "UPDATE message_send SET state = 'sending', attempts = attempts + 1, "
                         "updated_at = ?2 WHERE id = ?1 AND (state = 'pending' OR "
                         "(state = 'failed' AND next_at <= ?2))",
                         v, 2);
    if (err == LEAL_OK)
        *won = store_changes(l) == 1;
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *won = 0;
    return err;
}

leal_err ledger_message_finish(struct ledger *l, int64_t id, const char *state, const char *error,
                               int64_t next_at)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "UPDATE message_send SET state = ?2, error = ?3, next_at = ?4, "
                      "updated_at = ?5 WHERE id = ?1 AND state = 'sending'",
                      SVALS(SV_I64(id), SV_TEXT(state), SV_TEXT(error ? error : ""),
                            SV_I64(next_at), SV_I64(ledger_now())),
                      NULL);
    if (err == LEAL_OK)
        err = store_changed(l, "message being sent", id);
    return store_tx_end(l, err);
}

leal_err ledger_message_each(struct ledger *l, int64_t customer_id, ledger_message_cb cb, void *ctx)
{
    struct store_stmt *st = NULL;
    struct ledger_message_send m;
    leal_err err = store_prep_i64(
        l, "SELECT " MSG_COLS " FROM message_send m WHERE m.customer_id = ?1 ORDER BY m.id", &st,
        &customer_id, 1);
    while (err == LEAL_OK && store_next_row(l, st, &err)) {
        message_row(st, &m);
        if (cb(ctx, &m) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

static int token_ok(const char *t)
{
    if (!t || strlen(t) != LEDGER_MSG_TOKEN - 1)
        return 0;
    for (const char *p = t; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

leal_err ledger_message_unsubscribe(struct ledger *l, const char *token, int64_t *customer_id)
{
    struct store_stmt *st = NULL;
    int row = 0;
    int64_t id = 0, who = 0;
    char by[48];
    leal_err err;
    *customer_id = 0;
    if (!token_ok(token))
        return LEAL_E_MESSAGE_TOKEN;
    /* A token names one customer for good, so the look-up needs no
     * transaction of its own; the consent is written in its own. */
    if ((err = store_prep_once(l, "SELECT id, customer_id FROM message_send WHERE token = ?1",
                               &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(token)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        id = store_col_i64(st, 0);
        who = store_col_i64(st, 1);
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    if (!row)
        return LEAL_E_MESSAGE_TOKEN;
    snprintf(by, sizeof by, "message %lld", (long long)id);
    struct ledger_consent_change c = {
        .channel = "email", .granted = false, .method = "unsubscribe link", .recorded_by = by};
    if ((err = ledger_consent_add(l, who, &c)) == LEAL_OK)
        *customer_id = who;
    return err;
}
