/*
 * ledger_messages.h - messages to customers (issue 17): a template per
 * program and occasion, and the send log that makes `leal messages run`
 * idempotent. Each message is one message_send row, unique per (customer,
 * occasion, day), recorded in a transaction BEFORE anything is sent:
 *
 *   pending  -> sending (claimed by one run, just before the SMTP exchange)
 *   sending  -> sent | failed (retried from next_at) | refused (for good)
 *   sending  -> unknown (a run died during the exchange: never sent again,
 *               so a crash can lose a message but never send it twice)
 *   pending  -> skipped (the customer withdrew consent before the send)
 *
 * Overlapping runs are safe: the claim is one UPDATE that only one of them
 * can win. Each row carries a random unsubscribe token (32 hex digits).
 * Hosted. Errors: those of ledger.h, LEAL_E_NOT_FOUND (no template),
 * LEAL_E_MESSAGE_TOKEN (no row with that token), LEAL_E_TEXT.
 */
#ifndef LEAL_LEDGER_MESSAGES_H
#define LEAL_LEDGER_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

#define LEDGER_MSG_SUBJECT 256
#define LEDGER_MSG_BODY 16384
#define LEDGER_MSG_TOKEN 33 /* 32 hex digits and the NUL */
/* A run that has held a row in "sending" this long died during its send. */
#define LEDGER_MSG_SENDING_STALE_S 900

struct ledger_message_template {
    int64_t program_id;
    char occasion[16]; /* "birthday" */
    char subject[LEDGER_MSG_SUBJECT];
    char text[LEDGER_MSG_BODY];
    char html[LEDGER_MSG_BODY]; /* "": text only */
    int64_t updated_at;
};

struct ledger_message_send {
    int64_t id;
    int64_t customer_id;
    char occasion[16];
    char day[11]; /* YYYY-MM-DD in the program's zone */
    char token[LEDGER_MSG_TOKEN];
    char state[12];
    int64_t attempts;
    int64_t next_at;
    char error[LEDGER_TEXT];
    int64_t created_at;
    int64_t updated_at;
};

/* Stores t as the template of (t->program_id, t->occasion), replacing any. */
LEAL_MUST_CHECK leal_err ledger_message_template_set(struct ledger *l,
                                                     const struct ledger_message_template *t);
/* The template into *out; LEAL_E_NOT_FOUND without one. */
LEAL_MUST_CHECK leal_err ledger_message_template_get(struct ledger *l, int64_t program_id,
                                                     const char *occasion,
                                                     struct ledger_message_template *out);

/* The zone the program's days are counted in: its first store's, or "UTC"
 * for a program without stores. */
LEAL_MUST_CHECK leal_err ledger_message_zone(struct ledger *l, int64_t program_id, char *tz,
                                             size_t cap, char *store_name, size_t name_cap);

/* Records, in one transaction, a pending "birthday" row for day (YYYY-MM-DD)
 * for every customer of the program, not erased, with an e-mail address and
 * e-mail consent granted, born on day's month and day (those born on 29
 * February on 28 February of other years) who has none for that day yet.
 * *added: how many rows this call added. */
LEAL_MUST_CHECK leal_err ledger_message_record_birthdays(struct ledger *l, int64_t program_id,
                                                         const char *day, int64_t *added);

/* Rows of the program left in "sending" for LEDGER_MSG_SENDING_STALE_S
 * seconds before now become "unknown"; *n: how many. */
LEAL_MUST_CHECK leal_err ledger_message_expire_sending(struct ledger *l, int64_t program_id,
                                                       int64_t now, int64_t *n);

/* The program's rows due at now (pending, or failed with next_at <= now),
 * oldest first, malloc'd into *rows (the caller frees it). */
LEAL_MUST_CHECK leal_err ledger_message_due(struct ledger *l, int64_t program_id, int64_t now,
                                            struct ledger_message_send **rows, size_t *n);

/* Claims row id for this run (to "sending", one more attempt) if it is
 * still due at now: *won is 1 if this call claimed it, 0 if another run did. */
LEAL_MUST_CHECK leal_err ledger_message_claim(struct ledger *l, int64_t id, int64_t now, int *won);

/* Ends a claimed row: state "sent", "failed" (retried from next_at),
 * "refused" or "skipped", with error ("" if none). */
LEAL_MUST_CHECK leal_err ledger_message_finish(struct ledger *l, int64_t id, const char *state,
                                               const char *error, int64_t next_at);

typedef int (*ledger_message_cb)(void *ctx, const struct ledger_message_send *m);
/* The customer's send log, oldest first. */
LEAL_MUST_CHECK leal_err ledger_message_each(struct ledger *l, int64_t customer_id,
                                             ledger_message_cb cb, void *ctx);

/* Withdraws the e-mail consent of the customer whose message carried token
 * (recorded now, method "unsubscribe link", recorded by "message ID"), in
 * one transaction; *customer_id: who. LEAL_E_MESSAGE_TOKEN for a token of
 * the wrong form or that no message carried. */
LEAL_MUST_CHECK leal_err ledger_message_unsubscribe(struct ledger *l, const char *token,
                                                    int64_t *customer_id);

#endif
