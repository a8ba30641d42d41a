/*
 * web_portal.h - the customer portal's API under /portal/api/ (issue 16):
 * a customer asks for a sign-in link by e-mail, follows it, and sees only
 * their own balances and cards. No route takes an id: the customer is the
 * session's, whatever a URL or body says.
 *
 *   POST   /portal/api/link    {"email"}  202 always (whether the address is a
 *                              customer's is not told); a link for each
 *                              customer with that address (at most
 *                              WEB_PORTAL_MATCHES), mailed through the
 *                              customer's program's mail settings (host/mail)
 *   POST   /portal/api/session {"token"}  the link's token: 200 and the cookie
 *                              leal_portal; a used, expired or unknown link
 *                              each its own error (410, 410, 404)
 *   GET    /portal/api/me      the customer, balances and cards
 *   GET    /portal/api/qr      their static QR code (the text `leal qr issue`
 *                              signed, kept in the ledger) drawn as SVG by
 *                              host/qr, or null when the desk made none
 *   GET    /portal/api/rewards the tier (the spend over the tier window, this
 *                              month and the 3 before) and what is missing for
 *                              the next, the points, and the rewards catalogue
 *                              with what they can afford
 *   GET    /portal/api/history?before=ENTRY&limit=N  their account's movements,
 *                              newest first, N entries a page (default
 *                              WEB_PORTAL_PAGE); next_before starts the next
 *                              page (0: none). before only pages through the
 *                              session's customer's own account.
 *   POST   /portal/api/pin     {"card","pin"}  sign-in by the card's number and
 *                              the PIN the desk set (`leal card pin set`):
 *                              200 and the cookie as for a link; a wrong
 *                              card or PIN 401, the sixth try in a minute
 *                              for a card or from an address 429, a PIN
 *                              locked by ten wrong tries in a row 403, the
 *                              right PIN of a card not active 403
 *   POST   /portal/api/redeem  (CSRF) {"reward": id, "key": the page's
 *                              idempotency key} a reward of the catalogue
 *                              for the customer's points: 201 with the code
 *                              the shop honours (`leal reward honour`), the
 *                              entry and the points left; the same key again
 *                              200 with the same code, nothing redeemed; too
 *                              few points or too low a tier 409; a
 *                              percentage reward 400 (it needs a sale)
 *   GET    /portal/api/spend   whether a phone of the customer can be enrolled for spending
 *                              codes now: {"available"} and, with a QR
 *                              certifier answering, its program, qr key
 *                              version and public key, caps and refresh days
 *   POST   /portal/api/spend   (CSRF) {"public_key": 64 hex digits, the
 *                              phone's Ed25519 key made by the page with
 *                              WebCrypto} certified by the QR certifier
 *                              (host/qr/qr_certifier_client.h) and recorded as
 *                              a phone of the customer's account: 201 with
 *                              the certificate (hex) and its fields; no
 *                              certifier 503 LEAL_E_QR_CERTIFIER_DOWN, nothing
 *                              written; a refused one 403
 *   DELETE /portal/api/session (CSRF) signs out
 *
 * A link's token is 32 random bytes (hex); the ledger keeps its SHA-256
 * (host/ledger/ledger_portal.h). It works once, within WEB_PORTAL_LINK_SECONDS.
 * Link requests are limited like the staff sign-in (host/web/web_limit.h):
 * every request counts, per e-mail address and per client address, so the
 * sixth within a minute is refused (429). The request is answered before
 * the mail goes out (host/web/web_mail.h: the outbox's thread sends it), so
 * the answer's time does not tell whether the address is a customer's. Hosted.
 */
#ifndef LEAL_WEB_PORTAL_H
#define LEAL_WEB_PORTAL_H

#include "host/web/web_api.h"

#define WEB_PORTAL_LINK_SECONDS (15 * 60)
#define WEB_PORTAL_SESSION_SECONDS (4 * 3600)
#define WEB_PORTAL_MATCHES 8

struct web_portal_route {
    const char *method;
    const char *path;
    bool session; /* needs the leal_portal cookie */
    bool changes; /* needs the session's CSRF token */
    web_handler handle;
};

#define WEB_PORTAL_PAGE 10     /* history entries a page */
#define WEB_PORTAL_PAGE_MAX 50 /* ?limit= at most */

/* GET /portal/api/rewards and /portal/api/history (web_portal_info.c). */
void web_portal_rewards(struct web_req *r);
void web_portal_history(struct web_req *r);
/* POST /portal/api/redeem (web_portal_redeem.c). */
void web_portal_redeem(struct web_req *r);
/* GET and POST /portal/api/spend (web_portal_spend.c). */
void web_portal_spend_status(struct web_req *r);
void web_portal_spend_enrol(struct web_req *r);

/* The portal's routes: a table apart from the back office's (web_routes),
 * reached only under /portal/api/ and only with the leal_portal cookie
 * (session routes), never with a staff session; `leal serve --routes` lists
 * both, a portal session route with the role "customer". */
extern const struct web_portal_route web_portal_routes[];
extern const int web_portal_nroutes;

/* The route of method and path; NULL when none (*path_known: 405 vs 404). */
const struct web_portal_route *web_portal_route_find(const char *method, const char *path,
                                                     bool *path_known);

#endif
