/*
 * web_reset.h - a back-office user's forgotten password, reset by e-mail.
 * POST /api/password/forgot {"name"}: for an enabled user with an e-mail
 * address, a random 256-bit token (only its SHA-256 kept, valid
 * WEB_RESET_SECONDS) is mailed as the link BASE_URL/#/reset/TOKEN through
 * the mail settings of the program of the user's first store (an admin: the
 * lowest-numbered program with mail settings); the answer is the same 202
 * for every name, known or not, mailed or not, and comes before the mail
 * goes out (host/web/web_mail.h: the outbox's thread sends it, so the
 * answer's time tells nothing either). Rate-limited with the
 * sign-in's limiter, per name and per client address (each request counts).
 * POST /api/password/reset {"token","password"}: ledger_reset_take with the
 * password hashed as `leal user passwd` does; a bad token is 400
 * LEAL_E_WEB_RESET_TOKEN, and counts against the client address (its own
 * key in the sign-in's table: the sixth within a minute is 429). Both are public (no session, no
 * CSRF token) and audited (user.reset-request, whose after says whether a
 * mail was queued: {"queued":true}; user.reset). Hosted; uses jansson.
 */
#ifndef LEAL_WEB_RESET_H
#define LEAL_WEB_RESET_H

#include "host/web/web_api.h"

#define WEB_RESET_SECONDS (30 * 60)

void web_password_forgot(struct web_req *r);
void web_password_reset(struct web_req *r);

#endif
