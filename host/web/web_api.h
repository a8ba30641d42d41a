/*
 * web_api.h - the JSON API under /api/ and the one role table every route is
 * checked against before its handler runs. A route names its method, its
 * path ("/api/customers/:id" takes a decimal id), the roles that may call it
 * (none: no session needed) and whether it changes state (then the request
 * must carry the session's CSRF token in X-CSRF-Token and a JSON body).
 * Handlers read a request already authenticated and authorised by the
 * server (host/web/web_server.c) and answer a status and a JSON value; every
 * change they make is written to the audit log in the same transaction.
 * Hosted; uses jansson; one request at a time per struct ledger.
 */
#ifndef LEAL_WEB_API_H
#define LEAL_WEB_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger_user.h"
#include "host/web/web_limit.h"

struct report_db;
struct web_dash_cache;
struct web_outbox;

#define WEB_ROLE_BIT(r) (1u << (unsigned)(r))
#define WEB_ANY_ROLE                                                                               \
    (WEB_ROLE_BIT(LEDGER_ROLE_ADMIN) | WEB_ROLE_BIT(LEDGER_ROLE_MANAGER) |                         \
     WEB_ROLE_BIT(LEDGER_ROLE_STAFF))
#define WEB_SESSION_SECONDS (12 * 3600)

/* One request as a handler sees it, and its answer. */
struct web_req {
    struct ledger *l;
    struct web_limit *limit;
    const struct ledger_user *user; /* NULL on a route without roles */
    const char *csrf;               /* the session's CSRF token, "" without one */
    const char *addr;               /* the client's address, for the rate limit */
    const uint8_t *session;         /* the session token's SHA-256, or NULL */
    int64_t id;                     /* the path's :id */
    json_t *body;                   /* the parsed JSON body, or NULL */
    struct report_db *reports;      /* the ledger read-only for host/report, or NULL */
    const char *(*query)(void *conn, const char *name); /* a query-string value or NULL */
    void *conn;
    bool tls;
    /* The answer. */
    unsigned status;
    json_t *out;
    char cookie[256]; /* a Set-Cookie value, or "" */
    /* The portal (host/web/web_portal.h). */
    int64_t customer;         /* the signed-in customer, 0 without one */
    const char *base_url;     /* the server's address as customers reach it, for links */
    const char *qr_certifier; /* the QR certifier's socket, "" without one */
    const char *packages_dir; /* the terminals' package files, "" without one */
    /* The phone enrolments' limits (WEB_ENROL_*): per customer, per address. */
    struct web_limit *enrol_customer, *enrol_addr;
    struct web_dash_cache *dash; /* the dashboard's kept answers (web_pages.h), or NULL */
    const char *db_path;         /* the ledger's file (an erasure works on it), or NULL */
    struct web_outbox *outbox;   /* the mail that goes out after the answer (web_mail.h) */
    /* The language of the answer's error message: "es" or "en" (the
     * signed-in user's, else the browser's Accept-Language). */
    const char *lang;
};

typedef void (*web_handler)(struct web_req *r);

struct web_route {
    const char *method;
    const char *path; /* ":id" may be followed by a suffix: "/api/customers/:id/notes" */
    unsigned roles;   /* WEB_ROLE_BIT()s; 0: no session needed */
    bool changes;     /* needs the CSRF token */
    web_handler handle;
};

extern const struct web_route web_routes[];
extern const int web_nroutes;

/* The route of method and path (*id its :id); NULL when none. *path_known
 * tells a wrong method (405) from an unknown path (404). */
const struct web_route *web_route_find(const char *method, const char *path, int64_t *id,
                                       bool *path_known);

/* Sets r's answer to an error: status and {"error":{"code","name","message"}}.
 * The message is "DETAIL: what err means", in Spanish when r->lang is "es"
 * (web_es.h; a detail without its Spanish is given as it is). */
void web_api_error(struct web_req *r, unsigned status, leal_err err, const char *detail);
/* en, or its Spanish when r->lang is "es" and web_es.h has it. */
const char *web_text(const struct web_req *r, const char *en);
/* A text built at run time, in r's language: the Spanish of the English
 * format en_fmt (web_es.h, the same conversions in the same order) when
 * r->lang is "es" and web_es.h has it, else en_fmt, filled with the
 * arguments into out[0..cap) (cut at cap). */
void web_textf(const struct web_req *r, char *out, size_t cap, const char *en_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The programs r's user sees (all: an admin). */
#define WEB_MAX_PROGRAMS 16
struct web_scope {
    int64_t programs[WEB_MAX_PROGRAMS];
    int n;
    bool all;
};
/* Fills s; false after setting the answer to the ledger's error. */
bool web_scope_of(struct web_req *r, struct web_scope *s);
bool web_scope_has(const struct web_scope *s, int64_t program);

/* web_customer_of and web_customer_view: web_care.h (the customer page's
 * module, which web_api.c's routes call and which calls nothing back). */

/* Sets r's answer to a ledger error: the ledger's detail, a status by kind
 * (404 an unknown id, 400 bad input, 503 busy, else 500). */
void web_ledger_error(struct web_req *r, leal_err err, const char *what);

/* change(r, ctx) and the audit line a in one transaction. */
LEAL_MUST_CHECK leal_err web_audited(struct web_req *r,
                                     leal_err (*change)(struct web_req *, void *), void *ctx,
                                     struct ledger_audit_line *a);

/* ledger_balance_each's and ledger_card_each_of_account's callbacks: each
 * balance ({"asset","amount","shown"}, EUR as "12,50") or card ({"id",
 * "tech","status"}) appended to the JSON array ctx. */
int web_balance_one(void *ctx, const char *asset, int64_t amount);
int web_card_one(void *ctx, const struct ledger_card *c);

#endif
