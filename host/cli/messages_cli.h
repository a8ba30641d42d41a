/*
 * messages_cli.h - what `leal messages run` (cmd_messages.c) and `leal
 * messages campaign` (cmd_campaign.c) share: a send context for a program
 * (its mail settings, zone and first store) and the sending of one recorded
 * message row through claim, render, SMTP and finish.
 */
#ifndef LEAL_MESSAGES_CLI_H
#define LEAL_MESSAGES_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger.h"
#include "host/ledger/ledger_mail.h"
#include "host/ledger/ledger_messages.h"
#include "host/mail/mail.h"

struct msg_run {
    struct ledger *l;
    struct ledger_message_template *t; /* the row's, read per message */
    struct ledger_mail lm;
    struct mail_server srv; /* points into lm: a msg_run is not moved */
    struct ledger_program p;
    char tz[72], store[LEDGER_TEXT], day[11]; /* day: today in tz */
    char web[LEDGER_MSG_WEB_URL];             /* the unsubscribe links' address, or "" */
    int64_t program_id, now;
    int64_t sent, failed, refused, skipped;
    int64_t bounced;            /* skipped: the address bounced for good (ledger_message_bounced) */
    bool has_mail, has_gateway; /* mail settings; a gateway (without mail settings) */
};

/* Fills r for program (mail settings, zone, today); prints the error and
 * returns an exit code, 0 on success (then msg_run_close). */
int msg_run_open(struct ledger *l, int64_t program, struct msg_run *r);
void msg_run_close(struct msg_run *r);

/* Sends the program's due rows of occasion (NULL: every occasion), each
 * claimed first; r's counters count them. */
leal_err msg_run_due(struct msg_run *r, const char *occasion);

/* What the SMTP exchange of one message gave: mail_send's result and detail. */
struct msg_outcome {
    leal_err sent;
    char why[512];
    long retry_after_s; /* a gateway's Retry-After (0: none): the next attempt waits that long */
};

/* Renders row m (its customer, template and variables) and sends it to `to`
 * (NULL: the customer's address) without touching the row: a test send.
 * LEAL_E_STATE if the customer cannot be written to (no address or no
 * e-mail consent), LEAL_E_MAIL_BOUNCED (out->why says when) if to is NULL
 * and the customer's address bounced for good. */
leal_err msg_send_test(struct msg_run *r, const struct ledger_message_send *m, const char *to,
                       struct msg_outcome *out);

/* The plain text of FILE into out (cap bytes), checked to use only the
 * known variables; prints the error and returns an exit code, 0 on success. */
int msg_channel_text_fill(const char *file, char *out, size_t cap);

/* t's subject, and its text and HTML (NULL: none) bodies read from those
 * files, each checked to use only the known variables; prints the error and
 * returns an exit code, 0 on success. */
int msg_template_fill(struct ledger_message_template *t, const char *subject, const char *text,
                      const char *html);

/* `leal messages campaign ...` (cmd_campaign.c); argv[0] is "campaign". */
int cmd_messages_campaign(int argc, char **argv);
/* `leal messages bounces FILE...` (cmd_msg_bounce.c); argv[0] is "bounces". */
int cmd_messages_bounces(int argc, char **argv);
/* `leal messages gateway set|show` (cmd_msg_gateway.c); argv[0] is "gateway". */
int cmd_messages_gateway(int argc, char **argv);

/* Test hook: LEAL_MESSAGES_PAUSE_AFTER_RECORD=SECONDS pauses a run between
 * recording and sending (saying so on stdout), so a test can kill it there. */
void msg_pause_hook(int64_t added);
/* Test hook: LEAL_MESSAGES_PAUSE_AFTER_SENT=K pauses a run for 60 s once it
 * has sent its K-th message (saying so on stdout), so a test can kill it
 * halfway through its sending (tests/integration/messages_run_all.sh). */
void msg_pause_sent_hook(int64_t sent);

#endif
