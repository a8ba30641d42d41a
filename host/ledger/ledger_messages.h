/*
 * ledger_messages.h - messages to customers (issue 17): a template per
 * program, occasion and language, and the send log that makes `leal
 * messages run` idempotent. Each message is one message_send row, unique per
 * (customer, occasion, day), recorded in a transaction BEFORE anything is
 * sent. The day is the occasion's period, so each is sent once: birthday,
 * the birthday; inactive, the day of the last visit (a new visit starts a
 * new spell); expiring, the day the points expire; welcome, the day of
 * enrolment. Days are local to the program's zone (ledger_message_zone).
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

struct store_val;

#define LEDGER_MSG_SUBJECT 256
#define LEDGER_MSG_BODY 16384
#define LEDGER_MSG_TOKEN 33 /* 32 hex digits and the NUL */
/* An occasion: birthday, inactive, expiring, welcome, tier_up, tier_down or
 * "campaign:NAME"
 * (ledger_campaign.h). */
#define LEDGER_MSG_OCCASION 80
/* A run that has held a row in "sending" this long died during its send. */
#define LEDGER_MSG_SENDING_STALE_S 900

struct ledger_message_template {
    int64_t program_id;
    char occasion[LEDGER_MSG_OCCASION];
    char lang[3]; /* "en" or "es" */
    char subject[LEDGER_MSG_SUBJECT];
    char text[LEDGER_MSG_BODY];
    char html[LEDGER_MSG_BODY]; /* "": text only */
    int64_t days;               /* set: the occasion's days (1..3650), 0 keeps them */
    bool bonus_set;             /* set: the birthday bonus is bonus (0: none); else kept */
    int64_t bonus;              /* birthday: points (1..100000) posted on the birthday */
    int64_t updated_at;
};

struct ledger_message_send {
    int64_t id;
    int64_t customer_id;
    char occasion[LEDGER_MSG_OCCASION];
    char day[11]; /* YYYY-MM-DD in the program's zone */
    char token[LEDGER_MSG_TOKEN];
    char state[12];
    int64_t attempts;
    int64_t next_at;
    char error[LEDGER_TEXT];
    int64_t created_at;
    int64_t updated_at;
    char channel[10]; /* "email", "sms" or "whatsapp" (a gateway's, ledger_msg_gateway.c) */
};

/* The channels a message goes by, in the order their rows are recorded. */
#define LEDGER_MSG_NCHANNELS 3
extern const char *const ledger_message_channels[LEDGER_MSG_NCHANNELS];

/* 1 if o names an occasion: birthday, inactive, expiring, welcome, tier_up
 * or tier_down. */
int ledger_message_occasion_ok(const char *o);
/* 1 if occasion o counts days (inactive, expiring, welcome). */
int ledger_message_occasion_days(const char *o);

/* Stores t as the template of (t->program_id, t->occasion, t->lang),
 * replacing any, and t->days as the occasion's days, in one transaction;
 * t->lang "" is the program's locale. An occasion that counts days needs
 * them the first time (LEAL_E_ARG); birthday takes none. */
LEAL_MUST_CHECK leal_err ledger_message_template_set(struct ledger *l,
                                                     const struct ledger_message_template *t);
/* The template of customer_id for the occasion into *out: in the customer's
 * language (ledger_message_lang_set), else the program's locale, else the
 * first by language; LEAL_E_NOT_FOUND without any. A "campaign:NAME"
 * occasion gives that campaign's text (ledger_campaign_text_for). */
LEAL_MUST_CHECK leal_err ledger_message_template_for(struct ledger *l, int64_t program_id,
                                                     const char *occasion, int64_t customer_id,
                                                     struct ledger_message_template *out);
/* The order of a template's languages for customer ?3 of program ?1 (table
 * alias t): the customer's language, then the program's locale, then by
 * language (CASE, not a comparison's truth, which PostgreSQL does not
 * order as a number). */
#define LEDGER_MSG_LANG_ORDER                                                                      \
    "CASE WHEN t.lang = (SELECT lang FROM customer_lang WHERE customer_id = ?3) THEN 0 ELSE 1 "    \
    "END, CASE WHEN t.lang = (SELECT locale FROM program WHERE id = ?1) THEN 0 ELSE 1 END, t.lang"
/* The first row of sql (columns subject, body_text, body_html, updated_at,
 * lang; ?1 program_id, ?2 key, ?3 customer_id) into *out (its occasion
 * left to the caller); LEAL_E_NOT_FOUND without one. For ledger_campaign.c. */
LEAL_MUST_CHECK leal_err ledger_message_template_query(struct ledger *l, const char *sql,
                                                       int64_t program_id, const char *key,
                                                       int64_t customer_id,
                                                       struct ledger_message_template *out);
/* How many templates the program has for the occasion (any language). */
LEAL_MUST_CHECK leal_err ledger_message_template_count(struct ledger *l, int64_t program_id,
                                                       const char *occasion, int64_t *n);

/* Integer rows: row r's column k is v[r * ncols + k]. */
struct ledger_msg_rows {
    size_t ncols; /* in: how many columns to read */
    int64_t *v;   /* malloc'd (the caller frees it) */
    size_t n;     /* rows */
};
/* The rows of sql (parameters v), each of its first out->ncols columns as
 * integers, into *out. */
LEAL_MUST_CHECK leal_err ledger_message_rows(struct ledger *l, const char *sql,
                                             const struct store_val *v, int nv,
                                             struct ledger_msg_rows *out);

/* The program's days for an occasion that counts them (1..3650; set with
 * its template); 0 if none are set. */
LEAL_MUST_CHECK leal_err ledger_message_days_get(struct ledger *l, int64_t program_id,
                                                 const char *occasion, int64_t *days);

/* The language customer_id's messages are written in ("en" or "es"). */
LEAL_MUST_CHECK leal_err ledger_message_lang_set(struct ledger *l, int64_t customer_id,
                                                 const char *lang);

/* The zone the program's days are counted in: its first store's, or "UTC"
 * for a program without stores. */
LEAL_MUST_CHECK leal_err ledger_message_zone(struct ledger *l, int64_t program_id, char *tz,
                                             size_t cap, char *store_name, size_t name_cap);

/* The program's birthday bonus in points (0: none). */
LEAL_MUST_CHECK leal_err ledger_message_bonus_get(struct ledger *l, int64_t program_id,
                                                  int64_t *points);

/* Posts the program's birthday bonus (if any) to every customer of the
 * program, not erased, born on day's month and day (as
 * ledger_message_record_birthdays counts them, without needing an address
 * or consent: a gift is not a message), once per customer and year of day:
 * each is one entry of kind adjust, reference "bonus birthday YEAR", from
 * points_issued to the customer's account, with request id
 * "birthday:CUSTOMER:YEAR", so a run killed and run again posts nothing
 * twice. Made at the host, it waits for the customer's card like any host
 * post (ledger_host_change.h) and reaches it at its next tap. *posted: how
 * many this call posted; *points the bonus. */
LEAL_MUST_CHECK leal_err ledger_message_birthday_bonus(struct ledger *l, int64_t program_id,
                                                       const char *day, int64_t *posted,
                                                       int64_t *points);

/* Records, in one transaction, a pending "birthday" row for day (YYYY-MM-DD)
 * for every customer of the program, not erased, with an e-mail address and
 * e-mail consent granted, born on day's month and day (those born on 29
 * February on 28 February of other years) who has none for that day yet.
 * *added: how many rows this call added. */
LEAL_MUST_CHECK leal_err ledger_message_record_birthdays(struct ledger *l, int64_t program_id,
                                                         const char *day, int64_t *added);

/* Records, in one transaction, a pending row of occasion (inactive,
 * expiring or welcome) for every customer of the program, not erased, with
 * an e-mail address and e-mail consent granted, who has none for that
 * period yet, its day counted in zone tz, with the program's days for the
 * occasion (none set: nothing is recorded):
 *   inactive: last visit (the latest earn, redeem, top-up or spend entry on
 *             any of the customer's accounts; enrolment if none) at least
 *             days before now; the day is the last visit's;
 *   expiring: points (PTS lots with some left) expiring after now and at
 *             most days after it; a row per expiry day (the lot's last
 *             day of use: the day of the second before it expires);
 *   welcome:  enrolled at most days before now; the day is the enrolment's.
 * *added: how many rows this call added. */
LEAL_MUST_CHECK leal_err ledger_message_record(struct ledger *l, int64_t program_id,
                                               const char *occasion, const char *tz, int64_t now,
                                               int64_t *added);

/* The points of customer_id's open PTS lots that expire after now whose
 * last day of use is day (YYYY-MM-DD in zone tz) into *points. */
LEAL_MUST_CHECK leal_err ledger_message_expiring(struct ledger *l, int64_t customer_id,
                                                 const char *tz, const char *day, int64_t now,
                                                 int64_t *points);

/* Rows of the program left in "sending" for LEDGER_MSG_SENDING_STALE_S
 * seconds before now become "unknown"; *n: how many. */
LEAL_MUST_CHECK leal_err ledger_message_expire_sending(struct ledger *l, int64_t program_id,
                                                       int64_t now, int64_t *n);

/* The program's rows due at now (pending, or failed with next_at <= now),
 * of occasion only (NULL: all), oldest first, malloc'd into *rows (the
 * caller frees it). */
LEAL_MUST_CHECK leal_err ledger_message_due(struct ledger *l, int64_t program_id, int64_t now,
                                            const char *occasion, struct ledger_message_send **rows,
                                            size_t *n);

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
 * one transaction; *customer_id: who. Nothing is recorded when their
 * e-mail consent is withdrawn already (a second click changes nothing).
 * LEAL_E_MESSAGE_TOKEN for a token of the wrong form or that no message
 * carried. */
LEAL_MUST_CHECK leal_err ledger_message_unsubscribe(struct ledger *l, const char *token,
                                                    int64_t *customer_id);

/* ---- Tier messages (ledger_msg_tier.c) ----
 * tier_up and tier_down: a customer's tier now (the rules engine's,
 * ledger_sale_tier_now) against the one the last run kept in message_tier.
 * Storing the program's first tier template keeps every customer's tier of
 * that moment (a baseline: no message for tiers held before); a customer
 * with none kept (enrolled since) had no tier. */

/* After a change of the program's tiers (inside the caller's write
 * transaction): the tier once numbered i (1..n_old) is numbered map[i - 1]
 * now, 0 when it was removed. The tiers message_tier keeps and the occasions
 * "tier_up:N" / "tier_down:N" of the program's rows not sent yet (pending,
 * failed) follow their tier, so a removed or added tier does not shift the
 * others' messages. A customer kept in a removed tier keeps its number (so
 * the next run tells them of the tier they fall to); a row not sent of a
 * removed tier is deleted, as is a row whose renumbered occasion another row
 * of that customer, day and channel has. map must be ascending where not 0.
 */
LEAL_MUST_CHECK leal_err ledger_message_tier_renumber(struct ledger *l, int64_t program_id,
                                                      const uint32_t *map, uint32_t n_old);

/* 1 if occasion o is tier_up or tier_down. */
int ledger_message_occasion_tier(const char *o);

/* Keeps, inside the caller's write transaction, the tier at now of every
 * customer of the program who has none kept. */
LEAL_MUST_CHECK leal_err ledger_message_tier_baseline(struct ledger *l, int64_t program_id,
                                                      int64_t now);

/* In one transaction, for every customer of the program not erased whose
 * tier at now differs from the kept one: keeps the new tier and, if the
 * program has a template for the direction (tier_up: higher, tier_down:
 * lower) and the customer has an e-mail address and e-mail consent, records
 * a pending row of occasion "tier_up:N" or "tier_down:N" (N the new tier)
 * for day: once per customer, tier and day. Nothing without a tier template.
 * *added: how many rows this call added. */
LEAL_MUST_CHECK leal_err ledger_message_record_tiers(struct ledger *l, int64_t program_id,
                                                     const char *day, int64_t now, int64_t *added);

/* ---- SMS and WhatsApp gateways (ledger_msg_gateway.c) ----
 * A program's outbound webhook per channel (host/mail/msg_gateway.h): with
 * one, `run` records that channel's rows too (for customers with a phone
 * and that channel's consent). The secret stays in its file: only the
 * path is kept. */
#define LEDGER_MSG_GATEWAY_URL 501
#define LEDGER_MSG_GATEWAY_BODY 4096
struct ledger_message_gateway {
    int64_t program_id;
    char channel[10]; /* "sms" or "whatsapp" */
    char url[LEDGER_MSG_GATEWAY_URL];
    char method[5]; /* "POST" or "PUT" */
    char format[5]; /* "json" or "form" */
    char headers[2049];
    char secret_file[1024]; /* "": none */
    char body[LEDGER_MSG_GATEWAY_BODY];
    int64_t updated_at;
};

/* Stores g as the program's gateway for g->channel, replacing any (the
 * caller checks its fields); an empty g->url removes it. */
LEAL_MUST_CHECK leal_err ledger_message_gateway_set(struct ledger *l,
                                                    const struct ledger_message_gateway *g);
/* The program's gateway for channel into *out; LEAL_E_GATEWAY_CONFIG
 * without one. */
LEAL_MUST_CHECK leal_err ledger_message_gateway_get(struct ledger *l, int64_t program_id,
                                                    const char *channel,
                                                    struct ledger_message_gateway *out);

/* An occasion's (or "campaign:NAME"'s) own text for SMS or WhatsApp in a
 * language, which those channels carry instead of the e-mail's plain text. */
struct ledger_message_channel_key {
    int64_t program_id;
    const char *occasion; /* an occasion or "campaign:NAME" */
    const char *lang;     /* "en", "es"; set: "" is the program's locale */
    const char *channel;  /* "sms" or "whatsapp" */
};
/* Stores text for k, replacing any; text "" removes it. */
LEAL_MUST_CHECK leal_err ledger_message_channel_text_set(struct ledger *l,
                                                         const struct ledger_message_channel_key *k,
                                                         const char *text);
/* k's text into out (cap bytes); LEAL_E_NOT_FOUND (out untouched) without
 * one. */
LEAL_MUST_CHECK leal_err ledger_message_channel_text_get(struct ledger *l,
                                                         const struct ledger_message_channel_key *k,
                                                         char *out, size_t cap);

/* A customer's tier for a message's {{tier}} and {{next_tier_missing}}. */
struct ledger_message_tier {
    uint8_t tier;           /* 0: none */
    char name[64];          /* the tier's name in the rules ("" for none) */
    uint32_t spent;         /* whole euros over the tier window */
    bool has_next;          /* a higher tier exists */
    uint32_t missing_units; /* whole euros still missing for it */
};

/* customer_id's tier at now under the program's current rules; for a row
 * of occasion "tier_up:N" or "tier_down:N", name is tier N's. */
LEAL_MUST_CHECK leal_err ledger_message_tier_vars(struct ledger *l, int64_t program_id,
                                                  int64_t customer_id, const char *occasion,
                                                  int64_t now, struct ledger_message_tier *out);

/* A row's occasion "tier_up:N" or "tier_down:N" is recorded per tier
 * reached; its template is tier_up's or tier_down's: that name into base
 * (returned), or occasion itself for any other. */
const char *ledger_message_tier_base(const char *occasion, char *base, size_t cap);

/* ---- The web unsubscribe link (ledger_msg_web.c) ---- */

#define LEDGER_MSG_WEB_URL 201 /* http(s)://HOST[:PORT][/PATH], no trailing '/' */

/* The address customers reach the program's `leal serve` at, so each
 * message carries the link URL/unsubscribe/TOKEN; "" removes it (the
 * messages then say to reply by e-mail). LEAL_E_ARG for an address not
 * http:// or https://, with a trailing '/', a space, a control character,
 * '<', '>', '"' or over 200 bytes. */
LEAL_MUST_CHECK leal_err ledger_message_web_set(struct ledger *l, int64_t program_id,
                                                const char *url);
/* The program's address ("" when none is set). */
LEAL_MUST_CHECK leal_err ledger_message_web_get(struct ledger *l, int64_t program_id, char *url,
                                                size_t cap);

/* Who a message's token names, for the unsubscribe page. */
struct ledger_message_token {
    int64_t customer_id;
    char lang[3];              /* the customer's language, else the program's locale */
    char program[LEDGER_TEXT]; /* the program's name */
    bool withdrawn;   /* neither marketing nor service is granted on the message's channel now */
    char channel[10]; /* the message's: "email", "sms" or "whatsapp" */
};

/* The customer whose message carried token into *out;
 * LEAL_E_MESSAGE_TOKEN for a token of the wrong form or that no message
 * carried. */
LEAL_MUST_CHECK leal_err ledger_message_token_info(struct ledger *l, const char *token,
                                                   struct ledger_message_token *out);

/* ---- Bounces (ledger_msg_bounce.c) ----
 * A delivery status notification (host/mail/mail_dsn.h) matched by the
 * token in the Message-ID leal gave the message: TOKEN.N@DOMAIN, N the send
 * attempt (each attempt has its own Message-ID, so a late report about an
 * earlier attempt is told from one about the last); TOKEN@DOMAIN before. */

/* Retries of a message that could not go now: 5 minutes, doubled each
 * time up to a day; after LEDGER_MSG_MAX_ATTEMPTS attempts it is refused. */
#define LEDGER_MSG_RETRY_FIRST_S 300
#define LEDGER_MSG_RETRY_MAX_S 86400
#define LEDGER_MSG_MAX_ATTEMPTS 6
/* When a message that failed after `attempts` attempts is tried again. */
int64_t ledger_message_retry_at(int64_t attempts, int64_t now);

struct ledger_message_bounce {
    int64_t program_id;     /* only this program's messages match (0: any) */
    const char *token;      /* the returned message's token ("": none) */
    int64_t attempt;        /* the attempt its Message-ID names (0: not named) */
    const char *status;     /* "5.1.1": 5 a hard bounce, 4 a soft one */
    const char *address;    /* the recipient the report names, lowercase ("": none) */
    const char *diagnostic; /* the server's words ("" none) */
    const char *report_key; /* 64 hex digits naming the report, so it counts once */
    int64_t now;
};

enum ledger_bounce_outcome {
    LEDGER_BOUNCE_HARD = 0,    /* recorded; the address gets no more e-mail */
    LEDGER_BOUNCE_SOFT,        /* recorded; the message failed, retried with the backoff */
    LEDGER_BOUNCE_UNMATCHED,   /* no e-mail of leal (of the program) carried the token */
    LEDGER_BOUNCE_REPEATED,    /* this report was recorded before: nothing done */
    LEDGER_BOUNCE_NOT_FAILURE, /* a delay notice or a success: the caller's to count (a
                                  report whose action is not "failed" is not recorded) */
    LEDGER_BOUNCE_EARLIER      /* about an attempt before the message's last: recorded (a
                                  hard one still stops e-mail to the address), the
                                  message's state left as its last attempt made it */
};

/* Records b in the caller's transaction (or its own): a row of
 * message_bounce (its address b->address, else the customer's e-mail
 * address, lowercase); a hard bounce makes the message "refused" with error
 * "bounced STATUS" if it was "sent" (or "failed": the server took it after
 * all); a soft bounce makes a "sent" message "failed", retried from
 * ledger_message_retry_at (refused after LEDGER_MSG_MAX_ATTEMPTS). A report
 * about an attempt before the message's last (b->attempt < its attempts)
 * changes no state (LEDGER_BOUNCE_EARLIER); one naming an attempt the
 * message never had is unmatched. *out: what was done; *message_id and
 * *customer_id: whose (0 if unmatched). */
LEAL_MUST_CHECK leal_err ledger_message_bounce_record(struct ledger *l,
                                                      const struct ledger_message_bounce *b,
                                                      enum ledger_bounce_outcome *out,
                                                      int64_t *message_id, int64_t *customer_id);

/* Whether e-mail to customer_id's address email bounced for good: *status
 * the last hard bounce's status ("" if none) and *at when it was recorded. */
LEAL_MUST_CHECK leal_err ledger_message_bounced(struct ledger *l, int64_t customer_id,
                                                const char *email, char status[10], int64_t *at);

#endif
