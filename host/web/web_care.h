/*
 * web_care.h - the back office's customer care (issue 16): notes on a
 * customer signed by the user who wrote them, a customer's erasure request
 * recorded and carried out, family cards (holders, detaching one) and a
 * user's own language. The routes sit in
 * web_api.c's role table like every other and get a request already
 * authenticated, authorised and (for a change) CSRF-checked; each change is
 * written with its audit line (who, when, the object before and after) in
 * one transaction. Hosted; uses jansson.
 *
 * POST /api/customers/:id/notes {"text"}: a note signed by the user (201).
 * PUT /api/notes/:id {"text"}, DELETE /api/notes/:id: by the note's author,
 *   or a manager or admin who sees its customer (else 403, LEAL_E_NOTE_AUTHOR).
 *   The three answer the customer's view (web_customer_view) and log
 *   "customer.note.add|edit|delete" on "customer ID" with {"note","author",
 *   "text"} before and after (`leal customer erase` empties those texts).
 * POST /api/customers/:id/erasure {"asked_on": YYYY-MM-DD, "channel": desk|
 *   email|post|phone|portal} (managers, admins): the customer's request,
 *   pending ("customer.erasure-request"); 409 when one is pending already.
 * POST /api/customers/:id/erase {} (admins): carries out the pending request
 *   as `leal customer erase` does (host/privacy: "customer.erase" audited
 *   there, the request marked done); 409 without a pending request.
 * POST /api/me {"lang": "en"|"es"}: the user's own language ("user.lang"),
 *   their session kept; answers as GET /api/me.
 * The customer view's cards carry their "holder" (family cards).
 */
#ifndef LEAL_WEB_CARE_H
#define LEAL_WEB_CARE_H

#include "host/web/web_api.h"

void web_note_add(struct web_req *r);
void web_note_edit(struct web_req *r);
void web_note_delete(struct web_req *r);
void web_erasure_request(struct web_req *r);
void web_erasure_do(struct web_req *r);
void web_me_lang(struct web_req *r);
/* POST /api/cards/:id/detach {"reason"} (managers, admins): a family card
 * detached from its account (host/ledger/ledger_family.h: blocked, the
 * reason in its history; the account's last active card: 409,
 * LEAL_E_CARD_LAST), audited as "card.detach" with the account, holder and
 * status before and after; answers the card's view (web_card_view). */
void web_card_detach(struct web_req *r);

/* The customer view's "notes" (each with "may_change" for r's user) and
 * "erasure" (the latest request or null), added to view. */
LEAL_MUST_CHECK leal_err web_care_view(struct web_req *r, int64_t customer, json_t *view);

/* The customer id if r's user sees their program: false after setting the
 * answer (404 for no such customer, 403 for another store's). */
bool web_customer_of(struct web_req *r, int64_t id, struct ledger_customer *c);
/* GET /api/customers/:id's answer for customer r->id: the customer, balances,
 * cards, consent, notes and erasure request. */
void web_customer_view(struct web_req *r);
/* The customer's fields as the API shows them (and audits them). */
json_t *web_customer_json(const struct ledger_customer *c);
/* The current consent of each (channel, purpose) with its record, as a
 * JSON array in *out. */
LEAL_MUST_CHECK leal_err web_consent_json(struct web_req *r, int64_t customer, json_t **out);

#endif
