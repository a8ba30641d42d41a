/*
 * web_unsub.h - the unsubscribe link each message carries (issue 17,
 * host/ledger/ledger_messages.h): `leal serve` answers
 *
 *   GET  /unsubscribe/TOKEN  200, a page asking to confirm, with a form that
 *                            posts back to the same address
 *   POST /unsubscribe/TOKEN  200, the customer's e-mail consent withdrawn
 *                            (a consent row: now, method "unsubscribe link",
 *                            by "message ID"); again: 200, nothing recorded
 *
 * in the customer's language (their messages', else the program's locale:
 * English or Spanish). The token, 32 random hex digits, is the only key: no
 * session, no cookie (a mail client's one-click POST, RFC 8058, works too).
 * A token of the wrong form or that no message carried: 404 and one line of
 * text; another method: 405. Hosted.
 */
#ifndef LEAL_WEB_UNSUB_H
#define LEAL_WEB_UNSUB_H

#include "host/ledger/ledger.h"
#include "host/web/web_server.h"

#define WEB_UNSUB_PREFIX "/unsubscribe/"

/* Answers method on /unsubscribe/TOKEN into *a (a->body malloc'd). */
void web_unsubscribe(struct ledger *l, const char *method, const char *token,
                     struct web_hook_answer *a);

#endif
