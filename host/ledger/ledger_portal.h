/*
 * ledger_portal.h - the customer portal's sign-in links and sessions (issue
 * 16, host/web/web_portal.c). A link is a random 256-bit token the customer
 * gets by e-mail; the ledger keeps only its SHA-256, the customer it signs
 * in, when it expires and when it was used, so that a used link, an expired
 * one and an unknown one are told apart. A link signs in once: taking it
 * marks it used in the same transaction. A portal session is a second
 * random token in a cookie (again only its hash is kept) with its CSRF
 * token. Links dead for a day are deleted when a new one is added. Hosted.
 * Errors: those of ledger.h, LEAL_E_PORTAL_LINK_UNKNOWN, _USED, _EXPIRED,
 * LEAL_E_PORTAL_SESSION.
 */
#ifndef LEAL_LEDGER_PORTAL_H
#define LEAL_LEDGER_PORTAL_H

#include <stdint.h>

#include "ledger.h"

#define LEDGER_PORTAL_HASH 32
#define LEDGER_PORTAL_CSRF 65

/* Keeps the link of token hash for customer_id until expires_at. */
LEAL_MUST_CHECK leal_err ledger_portal_link_add(struct ledger *l,
                                                const uint8_t hash[LEDGER_PORTAL_HASH],
                                                int64_t customer_id, int64_t now,
                                                int64_t expires_at);

/* Uses the link of hash at now: *customer_id is whom it signs in. A link
 * already used is LEAL_E_PORTAL_LINK_USED (even when also expired), one
 * past expires_at LEAL_E_PORTAL_LINK_EXPIRED, none LEAL_E_PORTAL_LINK_UNKNOWN;
 * then nothing is written. */
LEAL_MUST_CHECK leal_err ledger_portal_link_take(struct ledger *l,
                                                 const uint8_t hash[LEDGER_PORTAL_HASH],
                                                 int64_t now, int64_t *customer_id);

/* A portal session of customer_id until expires_at. */
LEAL_MUST_CHECK leal_err ledger_portal_session_add(struct ledger *l,
                                                   const uint8_t hash[LEDGER_PORTAL_HASH],
                                                   int64_t customer_id, const char *csrf,
                                                   int64_t expires_at);

/* The live session of hash at now: its customer and CSRF token; else
 * LEAL_E_PORTAL_SESSION. */
LEAL_MUST_CHECK leal_err ledger_portal_session_find(struct ledger *l,
                                                    const uint8_t hash[LEDGER_PORTAL_HASH],
                                                    int64_t now, int64_t *customer_id,
                                                    char csrf[LEDGER_PORTAL_CSRF]);

/* Ends the session of hash (and any expired at now). */
LEAL_MUST_CHECK leal_err ledger_portal_session_end(struct ledger *l,
                                                   const uint8_t hash[LEDGER_PORTAL_HASH],
                                                   int64_t now);

#endif
