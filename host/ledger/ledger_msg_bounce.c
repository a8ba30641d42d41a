/*
 * ledger_msg_bounce.c - bounces of the messages leal sent, and the retry
 * backoff the send engine and they share (ledger_messages.h).
 */
#include <stdio.h>
#include <string.h>

#include "ledger_messages.h"
#include "store.h"

int64_t ledger_message_retry_at(int64_t attempts, int64_t now)
{
    int64_t wait = LEDGER_MSG_RETRY_FIRST_S;
    for (int64_t i = 0; i < attempts - 1 && wait < LEDGER_MSG_RETRY_MAX_S; i++)
        wait *= 2;
    return now + (wait < LEDGER_MSG_RETRY_MAX_S ? wait : LEDGER_MSG_RETRY_MAX_S);
}

/* The e-mail row of leal's that carried a token. */
struct bounce_row {
    int64_t id, customer_id, attempts;
    char state[12];
    int found; /* 0: no such row */
};

/* The row that carried token (of program_id, 0: any) into *out. */
static leal_err bounce_row(struct ledger *l, const char *token, int64_t program_id,
                           struct bounce_row *out)
{
    struct store_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    leal_err err = store_prep_once(
        l,
        "SELECT m.id, m.customer_id, m.state, m.attempts FROM message_send m JOIN customer c ON "
        "c.id = m.customer_id WHERE m.token = ?1 AND m.channel = 'email' AND (?2 = 0 OR "
        "c.program_id = ?2)",
        &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(token), SV_I64(program_id)));
    if ((err = store_step(l, st, &out->found)) == LEAL_OK && out->found) {
        out->id = store_col_i64(st, 0);
        out->customer_id = store_col_i64(st, 1);
        store_col_text(st, 2, out->state, sizeof out->state);
        out->attempts = store_col_i64(st, 3);
    }
    store_finalize(st);
    return err;
}

static leal_err bounce_seen(struct ledger *l, const char *key, int *seen)
{
    struct store_stmt *st = NULL;
    leal_err err = store_prep_once(l, "SELECT 1 FROM message_bounce WHERE report_key = ?1", &st);
    *seen = 0;
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(key)));
    err = store_step(l, st, seen);
    store_finalize(st);
    return err;
}

leal_err ledger_message_bounce_record(struct ledger *l, const struct ledger_message_bounce *b,
                                      enum ledger_bounce_outcome *out, int64_t *message_id,
                                      int64_t *customer_id)
{
    struct bounce_row m = {0, 0, 0, "", 0};
    char error[64];
    int seen = 0;
    bool hard = b->status[0] == '5';
    leal_err err;
    *out = LEDGER_BOUNCE_UNMATCHED;
    *message_id = *customer_id = 0;
    if ((b->status[0] != '4' && !hard) || strlen(b->report_key) != 64) {
        store_set_msg(l, "a bounce has a 4.x.x or 5.x.x status and a 64-digit key");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if (b->token[0])
        err = bounce_row(l, b->token, b->program_id, &m);
    /* An attempt the message never had: not a Message-ID leal gave it. */
    if (err == LEAL_OK && m.found && (b->attempt < 0 || b->attempt > m.attempts))
        memset(&m, 0, sizeof m);
    *message_id = m.id;
    *customer_id = m.customer_id;
    if (err == LEAL_OK && m.found && (err = bounce_seen(l, b->report_key, &seen)) == LEAL_OK &&
        seen)
        *out = LEDGER_BOUNCE_REPEATED;
    /* About an attempt before the last: the later attempt's outcome stands. */
    bool earlier = b->attempt > 0 && b->attempt < m.attempts;
    if (err == LEAL_OK && m.found && !seen) {
        *out = earlier ? LEDGER_BOUNCE_EARLIER : hard ? LEDGER_BOUNCE_HARD : LEDGER_BOUNCE_SOFT;
        /* The address the report names, else the customer's now. */
        err = store_write(
            l,
            "INSERT INTO message_bounce(message_id, customer_id, kind, status, address, "
            "diagnostic, report_key, at) SELECT ?1, ?2, ?3, ?4, CASE WHEN ?5 <> '' THEN ?5 ELSE "
            "lower(p.email) END, ?6, ?7, ?8 FROM customer_pii p WHERE p.customer_id = ?2",
            SVALS(SV_I64(*message_id), SV_I64(*customer_id), SV_TEXT(hard ? "hard" : "soft"),
                  SV_TEXT(b->status), SV_TEXT(b->address), SV_TEXT(b->diagnostic),
                  SV_TEXT(b->report_key), SV_I64(b->now)),
            NULL);
        if (err == LEAL_OK)
            err = store_changed(l, "customer", *customer_id);
        snprintf(error, sizeof error, "bounced %s", b->status);
        /* A hard bounce ends the message for good, whether it was sent or
         * waits for a retry; a soft one makes a sent message a failure the
         * backoff retries (its attempts go on counting). One about an
         * earlier attempt is recorded only (a hard one stops e-mail to the
         * address all the same). */
        if (err == LEAL_OK && !earlier && hard &&
            (strcmp(m.state, "sent") == 0 || strcmp(m.state, "failed") == 0))
            err = store_write(l,
                              "UPDATE message_send SET state = 'refused', error = ?2, "
                              "updated_at = ?3 WHERE id = ?1",
                              SVALS(SV_I64(*message_id), SV_TEXT(error), SV_I64(b->now)), NULL);
        else if (err == LEAL_OK && !earlier && !hard && strcmp(m.state, "sent") == 0) {
            bool last = m.attempts >= LEDGER_MSG_MAX_ATTEMPTS;
            err = store_write(
                l,
                "UPDATE message_send SET state = ?2, error = ?3, next_at = ?4, "
                "updated_at = ?5 WHERE id = ?1",
                SVALS(SV_I64(*message_id), SV_TEXT(last ? "refused" : "failed"), SV_TEXT(error),
                      SV_I64(ledger_message_retry_at(m.attempts, b->now)), SV_I64(b->now)),
                NULL);
        }
    }
    err = store_tx_end(l, err);
    if (err != LEAL_OK) {
        *out = LEDGER_BOUNCE_UNMATCHED;
        *message_id = *customer_id = 0;
    }
    return err;
}

leal_err ledger_message_bounced(struct ledger *l, int64_t customer_id, const char *email,
                                char status[10], int64_t *at)
{
    struct store_stmt *st = NULL;
    int row = 0;
    status[0] = '\0';
    *at = 0;
    if (!email || !email[0])
        return LEAL_OK;
    leal_err err = store_prep_once(l,
                                   "SELECT status, at FROM message_bounce WHERE customer_id = ?1 "
                                   "AND kind = 'hard' AND address = lower(?2) ORDER BY id DESC "
                                   "LIMIT 1",
                                   &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(customer_id), SV_TEXT(email)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        store_col_text(st, 0, status, 10);
        *at = store_col_i64(st, 1);
    }
    store_finalize(st);
    return err;
}
