/*
 * web_mail.h - the server's mail out: the portal's sign-in links and the back
 * office's password-reset links, answered first and mailed afterwards.
 *
 * A request that mails a link keeps the link's token (hashed) in the ledger,
 * puts a copy of everything the message needs (the program's mail settings,
 * the addressee, the subject and text) into the outbox, and answers. The
 * outbox's one thread sends the messages in the order they came (host/mail,
 * libcurl, each within its timeout), so no answer waits for an SMTP server:
 * its time tells neither whether an account exists nor how slow the server
 * is. The thread never touches the ledger (the serving thread owns it) and
 * reports nothing: a request's audit line says the mail was queued; a send
 * that fails is retried by nobody (the person asks for a new link).
 *
 * The outbox holds at most WEB_MAIL_QUEUE messages (a flood of requests is
 * first limited per address and per name: host/web/web_limit.h); beyond them
 * web_outbox_put refuses with LEAL_E_WEB_MAIL_QUEUE and the request answers
 * the same as ever. web_outbox_stop lets the message being sent finish
 * (within its timeout) and drops, wiped, those still waiting: a stopping
 * server sends no more. A message's text (which holds a link as good as a
 * password) is wiped once sent or dropped.
 * Hosted. Errors: LEAL_E_NO_MEMORY, LEAL_E_WEB_MAIL_QUEUE, the ledger's.
 */
#ifndef LEAL_WEB_MAIL_H
#define LEAL_WEB_MAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger_mail.h"
#include "host/mail/mail.h"
#include "host/web/web_api.h"

#define WEB_MAIL_QUEUE 64
#define WEB_MAIL_TIMEOUT 20 /* seconds for one message's whole SMTP exchange */

struct web_outbox;

/* A new outbox and its thread. */
LEAL_MUST_CHECK leal_err web_outbox_start(struct web_outbox **out);
/* Stops the thread as said above and frees o. NULL is fine. */
void web_outbox_stop(struct web_outbox *o);
/* Queues m (copied: to, subject and text only; date as given) to go out
 * through the settings lm (copied). */
LEAL_MUST_CHECK leal_err web_outbox_put(struct web_outbox *o, const struct ledger_mail *lm,
                                        const struct mail_message *m);

/* A link mailed by web_mail_link: BASE_URL PATH TOKEN between intro and
 * outro. */
struct web_link_mail {
    int64_t program; /* whose mail settings send it */
    const char *to;  /* the addressee */
    const char *subject;
    const char *path;  /* after the base URL, before the token: "/portal/#t=" */
    const char *intro; /* the text before the link */
    const char *outro; /* and after it */
    /* Keeps the token's SHA-256 in the ledger (its use, its expiry). */
    leal_err (*keep)(struct web_req *r, const uint8_t hash[32], void *ctx);
    void *ctx;
};

/* A fresh random token (web_auth_token) kept hashed by k->keep, its link
 * queued in r's outbox to k->to. A program without mail settings: nothing
 * kept or queued, LEAL_OK and *queued false. */
LEAL_MUST_CHECK leal_err web_mail_link(struct web_req *r, const struct web_link_mail *k,
                                       bool *queued);

#endif
