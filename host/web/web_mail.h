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
 * is. The thread never touches the ledger (the serving thread owns it); a
 * request's audit line says the mail was queued, and a send that fails is
 * retried by nobody (the person asks for a new link) but is not lost: the
 * thread notes it (what the message was, whom it concerned, the error and
 * the server's answer: never the text, whose link is as good as a password,
 * nor a credential) on a list of at most WEB_MAIL_FAILED, counting those
 * beyond, and the serving thread moves the list into the audit log
 * (web_outbox_audit, before each request it serves and when it stops), one
 * "mail.failed" line each, so the shop's owner sees it on the audit page.
 *
 * The outbox holds at most WEB_MAIL_QUEUE messages (a flood of requests is
 * first limited per address and per name: host/web/web_limit.h); beyond them
 * web_outbox_put refuses with LEAL_E_WEB_MAIL_QUEUE and the request answers
 * the same as ever. web_outbox_stop lets the message being sent finish
 * (within its timeout) and drops, wiped, those still waiting (each noted as
 * failed: LEAL_E_WEB_MAIL_STOPPED): a stopping server sends no more. A
 * message's text is wiped once sent or dropped.
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
#define WEB_MAIL_FAILED 32  /* failures kept for the audit log; those beyond are counted */

struct web_outbox;

/* What a message is and whom it concerns, as its audit lines name it. */
struct web_mail_about {
    const char *what;   /* "password reset link" */
    const char *object; /* "user 2", "customer 7": as the request's audit lines */
};

/* A message that did not go out. */
struct web_mail_failure {
    char what[48], object[40];
    leal_err err;      /* mail_send's, or LEAL_E_WEB_MAIL_STOPPED */
    char why[256];     /* mail_send's line (the server and its answer), or "" */
    int64_t failed_at; /* Unix seconds */
};

/* A new outbox and its thread. */
LEAL_MUST_CHECK leal_err web_outbox_start(struct web_outbox **out);
/* Stops the thread as said above, moves the failures still noted into l's
 * audit log (web_outbox_audit; l NULL, or a ledger error: they are lost)
 * and frees o. NULL is fine. */
void web_outbox_stop(struct web_outbox *o, struct ledger *l);
/* Queues m (copied: to, subject and text only; date as given) to go out
 * through the settings lm (copied); about (copied) names it if it fails. */
LEAL_MUST_CHECK leal_err web_outbox_put(struct web_outbox *o, const struct ledger_mail *lm,
                                        const struct mail_message *m,
                                        const struct web_mail_about *about);
/* The failures noted and not yet in the audit log, oldest first: *n of them
 * copied into out[0..cap), *beyond: those not kept (over WEB_MAIL_FAILED). */
void web_outbox_failures(struct web_outbox *o, struct web_mail_failure *out, int cap, int *n,
                         int64_t *beyond);
/* Moves the failures noted into l's audit log in one transaction, oldest
 * first: each a line of user 0, actor "mail", action "mail.failed", its
 * object and as after {"mail":WHAT,"code":N,"error":NAME,"message":TEXT,
 * "why":WHY,"failed_at":T}; those beyond the list one more line, object ""
 * and after {"unrecorded":N}. *moved: how many lines (0: nothing to move,
 * no transaction). On an error the failures stay for the next call. Only
 * the thread that owns l calls it. */
LEAL_MUST_CHECK leal_err web_outbox_audit(struct web_outbox *o, struct ledger *l, int *moved);

/* A link mailed by web_mail_link: BASE_URL PATH TOKEN between intro and
 * outro. */
struct web_link_mail {
    int64_t program; /* whose mail settings send it */
    const char *to;  /* the addressee */
    const char *subject;
    const char *path;            /* after the base URL, before the token: "/portal/#t=" */
    const char *intro;           /* the text before the link */
    const char *outro;           /* and after it */
    struct web_mail_about about; /* named in its audit line if it fails */
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
