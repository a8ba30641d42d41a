/*
 * web_server.c - HTTP over libmicrohttpd: pages, and the API behind the role
 * table (see web_server.h).
 */
#include "web_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/web/web_api.h"
#include "keys/base/ct.h"
#include "host/web/web_auth.h"
#include "host/web/web_care.h"
#include "host/web/web_es.h"
#include "host/web/web_mail.h"
#include "host/web/web_pages.h"
#include "host/web/web_portal.h"
#include "host/ledger/ledger_portal.h"
#include "host/web/web_static.h"
#include "host/web/web_unsub.h"
#include "host/report/report.h"
#include "host/ledger/ledger_rows.h"

#define BODY_MAX (64 * 1024)
#define PEM_MAX (64 * 1024)

/* The dashboard's flights: a request whose answer is not kept for the
 * ledger's current state waits (its connection suspended) for the next
 * computation, which a thread of its own runs on its own read-only
 * connection. The computation takes every request waiting when it starts
 * and reads one snapshot begun after all of them arrived, so one
 * computation answers them all and each answer is the ledger's state at or
 * after the request: exact, never older. Meanwhile the server's thread goes
 * on answering everything else, and requests arriving during a computation
 * wait for the next one (all of them together). */
struct flight {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, stopping;
    struct upload *pending;     /* waiting for the next computation */
    struct report_db *db;       /* this thread's only */
    struct web_dash_cache dash; /* likewise */
};

struct web_server {
    struct MHD_Daemon *d;
    struct ledger *l;
    bool tls;
    char *cert, *key;
    struct web_limit limit;
    struct web_limit enrol_customer, enrol_addr; /* the portal's phone enrolments */
    struct report_db *reports;
    char base_url[256];      /* for the portal's sign-in links */
    char qr_certifier[108];  /* the QR certifier's socket, "" without one */
    char packages_dir[4096]; /* the terminals' packages, "" without one */
    char *db_path;           /* the ledger's file (malloc'ed), or NULL */
    const struct web_hook *hook;
    struct flight flight;
    struct web_outbox *outbox; /* the sign-in and reset links' mail */
};

/* What a connection's request has sent so far. */
struct upload {
    char *body;
    size_t len;
    bool too_big;
    /* A dashboard request waiting for a flight (under its mutex): what it
     * asks, then its answer. */
    bool parked, ready;
    struct upload *next;
    struct MHD_Connection *conn;
    struct web_dash_key key;
    const char *lang; /* a static string */
    unsigned status;
    char *answer; /* JSON text, malloc'ed; NULL: out of memory */
};

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
                          "base-uri 'none'";

static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const char *type,
                                  const void *p, size_t n, const char *cookie)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(n, (void *)(uintptr_t)p, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    if (cookie && cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", cookie);
    rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct web_req *r)
{
    char *text = r->out ? json_dumps(r->out, JSON_COMPACT) : NULL;
    enum MHD_Result rc;
    if (text == NULL)
        return send_bytes(c, 500, "application/json", "{}", 2, NULL);
    rc = send_bytes(c, r->status, "application/json", text, strlen(text), r->cookie);
    free(text);
    return rc;
}

static const char *query_value(void *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(out, cap, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

/* The session of the request's cookie: its user and CSRF token. */
static bool authenticate(struct web_server *s, struct MHD_Connection *c, struct web_req *r,
                         uint8_t hash[32], struct ledger_user *u, char *csrf)
{
    const char *token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "leal_session");
    leal_err err;
    if (web_auth_token_hash(token, hash) != LEAL_OK) {
        web_api_error(r, 401, LEAL_E_WEB_SESSION, NULL);
        return false;
    }
    err = ledger_session_find(s->l, hash, (int64_t)time(NULL), u, csrf);
    if (err != LEAL_OK) {
        web_api_error(r, err == LEAL_E_WEB_SESSION || err == LEAL_E_WEB_NO_USER ? 401 : 500,
                      err == LEAL_E_WEB_NO_USER ? LEAL_E_WEB_SESSION : err, NULL);
        return false;
    }
    r->user = u;
    r->lang = strcmp(u->lang, "es") == 0 ? "es" : "en"; /* as the page shows it */
    r->csrf = csrf;
    r->session = hash;
    return true;
}

/* A change needs the CSRF token and a JSON body; a sign-in the JSON body. */
static bool change_allowed(struct MHD_Connection *c, const struct web_route *rt, struct web_req *r,
                           const struct upload *up)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    bool has_body = strcmp(rt->method, "POST") == 0 || strcmp(rt->method, "PUT") == 0;
    json_error_t jerr;
    if (rt->changes &&
        !web_auth_csrf_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
                          r->csrf)) {
        web_api_error(r, 403, LEAL_E_WEB_CSRF, NULL);
        return false;
    }
    if (!has_body)
        return true;
    if (type == NULL || strncmp(type, "application/json", 16) != 0) {
        web_api_error(r, 415, LEAL_E_ARG, "send the body as application/json");
        return false;
    }
    r->body = json_loadb(up->body ? up->body : "", up->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(r->body)) {
        web_api_error(r, 400, LEAL_E_ARG, "the body is not a JSON object");
        return false;
    }
    return true;
}

/* Why a lost PostgreSQL connection failed a request, in one line. */
static const char *lost_why(const struct ledger *l)
{
    const char *m = ledger_errmsg(l);
    return m[0] ? m : "the connection to the PostgreSQL server was lost";
}

/* The same as a plain-text answer, "LEAL_E_PG_CONNECT: why: sentence\n"
 * (the terminals' route and the pages' own links); its length. */
static size_t lost_line(const struct ledger *l, char *line, size_t cap)
{
    int n = snprintf(line, cap, "%s: %s: %s\n", leal_errname(LEAL_E_PG_CONNECT), lost_why(l),
                     leal_strerror(LEAL_E_PG_CONNECT));
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The server's connection to the ledger before a request is handled: made
 * again when it was lost or the server closed it (PostgreSQL). true: ready;
 * else a 503 was sent. */
static enum MHD_Result req_finish(struct MHD_Connection *c, struct web_req *r);

static bool ledger_ready(struct web_server *s, struct MHD_Connection *c, const char *url,
                         enum MHD_Result *rc)
{
    char line[640];
    if (ledger_reconnect(s->l) == LEAL_OK)
        return true;
    if (strncmp(url, "/api/", 5) == 0 || strncmp(url, "/portal/api/", 12) == 0) {
        struct web_req r;
        memset(&r, 0, sizeof r);
        r.lang = web_es_accept(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"));
        web_api_error(&r, 503, LEAL_E_PG_CONNECT, lost_why(s->l));
        *rc = req_finish(c, &r);
        return false;
    }
    *rc = send_bytes(c, 503, "text/plain; charset=utf-8", line, lost_line(s->l, line, sizeof line),
                     NULL);
    return false;
}

/* A request as the handlers see it, before authentication. */
static void req_init(struct web_server *s, struct MHD_Connection *c, struct web_req *r,
                     char addr[64])
{
    memset(r, 0, sizeof *r);
    r->l = s->l;
    r->limit = &s->limit;
    r->enrol_customer = &s->enrol_customer;
    r->enrol_addr = &s->enrol_addr;
    r->csrf = "";
    r->query = query_value;
    r->conn = c;
    r->tls = s->tls;
    r->reports = s->reports;
    r->base_url = s->base_url;
    r->qr_certifier = s->qr_certifier;
    r->packages_dir = s->packages_dir;
    r->db_path = s->db_path;
    r->outbox = s->outbox;
    r->dash = NULL; /* the flight's thread keeps the dashboard's answers */
    r->status = 500;
    r->lang = web_es_accept(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"));
    client_addr(c, addr, 64);
    r->addr = addr;
}

/* Sends r's answer and frees it; when the ledger's PostgreSQL connection
 * was found lost while answering, the answer is 503 with why instead (a
 * statement failed, so whatever the handler made of that is not the
 * ledger's word); the next request connects again (ledger_ready). */
static enum MHD_Result req_finish(struct MHD_Connection *c, struct web_req *r)
{
    enum MHD_Result rc;
    if (r->l && ledger_lost(r->l))
        web_api_error(r, 503, LEAL_E_PG_CONNECT, lost_why(r->l));
    rc = send_json(c, r);
    json_decref(r->out);
    json_decref(r->body);
    return rc;
}

/* The dashboard's request r waits for the next flight; answered at once
 * when it cannot ask (its error) or the server is stopping. */
static enum MHD_Result dash_park(struct web_server *s, struct MHD_Connection *c, struct web_req *r,
                                 struct upload *up)
{
    struct flight *f = &s->flight;
    if (!web_dash_key_of(r, &up->key))
        return req_finish(c, r);
    pthread_mutex_lock(&f->mu);
    if (f->stopping) {
        pthread_mutex_unlock(&f->mu);
        web_api_error(r, 503, LEAL_E_DB_BUSY, "the server is stopping");
        return req_finish(c, r);
    }
    up->conn = c;
    up->lang = r->lang;
    up->parked = true;
    up->next = f->pending;
    f->pending = up;
    MHD_suspend_connection(c);
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    json_decref(r->body);
    return MHD_YES;
}

/* The answers of a flight's requests, read in one snapshot. */
static void flight_answer(struct flight *f, struct upload *batch, bool stopping)
{
    int64_t version = 0;
    leal_err err = stopping ? LEAL_OK : report_db_begin(f->db, &version);
    for (struct upload *u = batch; u; u = u->next) {
        struct web_req r;
        memset(&r, 0, sizeof r);
        r.reports = f->db;
        r.dash = &f->dash;
        r.csrf = "";
        r.status = 500;
        r.lang = u->lang;
        if (stopping)
            web_api_error(&r, 503, LEAL_E_DB_BUSY, "the server is stopping");
        else if (err != LEAL_OK)
            web_api_error(&r, 500, err, report_db_errmsg(f->db));
        else
            web_dash_in_snapshot(&r, &u->key, version);
        /* Its PostgreSQL connection gone (before or while reading): 503, why. */
        if (!stopping && (err == LEAL_E_PG_CONNECT || report_db_lost(f->db)))
            web_api_error(&r, 503, LEAL_E_PG_CONNECT, report_db_errmsg(f->db));
        u->status = r.status;
        u->answer = r.out ? json_dumps(r.out, JSON_COMPACT) : NULL;
        json_decref(r.out);
    }
    if (!stopping)
        report_db_end(f->db);
}

static void *flight_run(void *arg)
{
    struct flight *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (f->pending == NULL && !f->stopping)
            pthread_cond_wait(&f->cv, &f->mu);
        struct upload *batch = f->pending;
        bool stopping = f->stopping;
        if (batch == NULL)
            break;
        f->pending = NULL;
        pthread_mutex_unlock(&f->mu);
        flight_answer(f, batch, stopping);
        pthread_mutex_lock(&f->mu);
        /* Once resumed, a connection may end and free its upload. */
        for (struct upload *u = batch, *next; u; u = next) {
            next = u->next;
            u->ready = true;
            MHD_resume_connection(u->conn);
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* A parked request's answer, once its flight has resumed it. */
static enum MHD_Result dash_send(struct web_server *s, struct MHD_Connection *c, struct upload *up)
{
    bool ready;
    pthread_mutex_lock(&s->flight.mu);
    ready = up->ready;
    pthread_mutex_unlock(&s->flight.mu);
    if (!ready)
        return MHD_YES;
    if (up->answer == NULL)
        return send_bytes(c, 500, "application/json", "{}", 2, NULL);
    return send_bytes(c, up->status, "application/json", up->answer, strlen(up->answer), NULL);
}

static enum MHD_Result api(struct web_server *s, struct MHD_Connection *c, const char *url,
                           const char *method, struct upload *up)
{
    struct web_req r;
    uint8_t hash[32];
    struct ledger_user u;
    char csrf[LEDGER_SESSION_CSRF], addr[64];
    bool known;
    const struct web_route *rt;
    req_init(s, c, &r, addr);
    rt = web_route_find(method, url, &r.id, &known);
    if (rt == NULL)
        web_api_error(&r, known ? 405 : 404, LEAL_E_ARG, known ? "method" : "no such API route");
    else if (up->too_big)
        web_api_error(&r, 413, LEAL_E_ARG, "the body is over 64 KiB");
    else if (rt->roles == 0 || authenticate(s, c, &r, hash, &u, csrf)) {
        if (rt->roles && (rt->roles & WEB_ROLE_BIT(u.role)) == 0)
            web_api_error(&r, 403, LEAL_E_WEB_FORBIDDEN, "this user's role");
        else if (change_allowed(c, rt, &r, up)) {
            if (rt->handle == web_dashboard && s->flight.running)
                return dash_park(s, c, &r, up);
            rt->handle(&r);
        }
    }
    return req_finish(c, &r);
}

/* A signed-in customer's answers (their error lines) in the language their
 * page is shown in: their program's locale, whatever the browser asks. */
static void portal_lang(struct web_server *s, struct web_req *r)
{
    struct ledger_customer c;
    struct ledger_program p;
    if (ledger_customer_get(s->l, r->customer, &c) == LEAL_OK &&
        ledger_program_get(s->l, c.program_id, &p) == LEAL_OK)
        r->lang = strcmp(p.locale, "es") == 0 ? "es" : "en";
}

/* The portal session of the request's leal_portal cookie. */
static bool portal_authenticate(struct web_server *s, struct MHD_Connection *c, struct web_req *r,
                                uint8_t hash[32], char csrf[LEDGER_PORTAL_CSRF])
{
    const char *token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "leal_portal");
    leal_err err = web_auth_token_hash(token, hash);
    if (err == LEAL_OK)
        err = ledger_portal_session_find(s->l, hash, (int64_t)time(NULL), &r->customer, csrf);
    else
        err = LEAL_E_PORTAL_SESSION;
    if (err != LEAL_OK) {
        web_api_error(r, err == LEAL_E_PORTAL_SESSION ? 401 : 500, err, NULL);
        return false;
    }
    r->csrf = csrf;
    r->session = hash;
    portal_lang(s, r);
    return true;
}

static enum MHD_Result portal_api(struct web_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, const struct upload *up)
{
    struct web_req r;
    uint8_t hash[32];
    char csrf[LEDGER_PORTAL_CSRF], addr[64];
    bool known;
    const struct web_portal_route *rt = web_portal_route_find(method, url, &known);
    req_init(s, c, &r, addr);
    if (rt == NULL)
        web_api_error(&r, known ? 405 : 404, LEAL_E_ARG, known ? "method" : "no such portal route");
    else if (up->too_big)
        web_api_error(&r, 413, LEAL_E_ARG, "the body is over 64 KiB");
    else if (!rt->session || portal_authenticate(s, c, &r, hash, csrf)) {
        const struct web_route as = {rt->method, rt->path, 0, rt->changes, rt->handle};
        if (change_allowed(c, &as, &r, up))
            rt->handle(&r);
    }
    return req_finish(c, &r);
}

static enum MHD_Result page(struct MHD_Connection *c, const char *url, const char *method)
{
    const struct web_static_file *f;
    static const char missing[] = "not found\n";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_bytes(c, 405, "text/plain", "method not allowed\n", 19, NULL);
    f = web_static_find(url);
    if (f == NULL)
        return send_bytes(c, 404, "text/plain; charset=utf-8", missing, sizeof missing - 1, NULL);
    return send_bytes(c, 200, f->type, f->data, f->len, NULL);
}

static const char *header_value(void *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* A whole request under the hook's prefix, answered by the hook. */
static enum MHD_Result hooked(struct web_server *s, struct MHD_Connection *c, const char *url,
                              const char *method, const struct upload *up)
{
    static const char big[] = "LEAL_E_TOO_LARGE: the request's body is too large\n";
    struct web_hook_answer a = {500, "text/plain", NULL, 0};
    enum MHD_Result rc;
    if (up->too_big)
        return send_bytes(c, 413, "text/plain", big, sizeof big - 1, NULL);
    {
        const struct web_hook_request rq = {method, url, header_value, c, (const uint8_t *)up->body,
                                            up->len};
        s->hook->handle(s->hook->ctx, &rq, &a);
    }
    if (ledger_lost(s->l)) {
        /* Whatever the route made of a failed statement: the server is gone. */
        char line[640];
        free(a.body);
        return send_bytes(c, 503, "text/plain; charset=utf-8", line,
                          lost_line(s->l, line, sizeof line), NULL);
    }
    rc = send_bytes(c, a.status, a.type ? a.type : "text/plain", a.body ? a.body : (uint8_t *)"",
                    a.body ? a.len : 0, NULL);
    free(a.body);
    return rc;
}

/* The unsubscribe link of a message (web_unsub.h). */
static enum MHD_Result unsubscribe(struct web_server *s, struct MHD_Connection *c, const char *url,
                                   const char *method)
{
    struct web_hook_answer a = {500, "text/plain", NULL, 0};
    enum MHD_Result rc;
    web_unsubscribe(s->l, method, url + strlen(WEB_UNSUB_PREFIX), &a);
    rc = send_bytes(c, a.status, a.type, a.body ? a.body : (uint8_t *)"", a.body ? a.len : 0, NULL);
    free(a.body);
    return rc;
}

/* libmicrohttpd's MHD_AccessHandlerCallback: its 8 parameters are the library's. */
// NOLINTNEXTLINE(readability-function-size)
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    struct web_server *s = cls;
    struct upload *up = *con_cls;
    (void)version;
    if (up == NULL) {
        if ((up = calloc(1, sizeof *up)) == NULL)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*size > 0) {
        size_t max = s->hook && strncmp(url, s->hook->prefix, strlen(s->hook->prefix)) == 0
                         ? s->hook->body_max
                         : BODY_MAX;
        if (up->len + *size > max) {
            up->too_big = true;
        } else {
            char *grown = realloc(up->body, up->len + *size + 1);
            if (grown == NULL)
                return MHD_NO;
            up->body = grown;
            memcpy(up->body + up->len, data, *size);
            up->len += *size;
            up->body[up->len] = '\0';
        }
        *size = 0;
        return MHD_YES;
    }
    /* The outbox's failures reach the audit log from this thread, which
     * owns the ledger (web_mail.h); one that cannot be written now stays
     * for the next request. */
    {
        int moved;
        leal_err later = web_outbox_audit(s->outbox, s->l, &moved);
        (void)later;
    }
    if (up->parked)
        return dash_send(s, c, up);
    if (strncmp(url, "/api/", 5) == 0 || strncmp(url, "/portal/api/", 12) == 0 ||
        strncmp(url, WEB_UNSUB_PREFIX, strlen(WEB_UNSUB_PREFIX)) == 0 ||
        (s->hook && strncmp(url, s->hook->prefix, strlen(s->hook->prefix)) == 0)) {
        enum MHD_Result rc;
        if (!ledger_ready(s, c, url, &rc))
            return rc;
    }
    if (s->hook && strncmp(url, s->hook->prefix, strlen(s->hook->prefix)) == 0)
        return hooked(s, c, url, method, up);
    if (strncmp(url, "/api/", 5) == 0)
        return api(s, c, url, method, up);
    if (strncmp(url, "/portal/api/", 12) == 0)
        return portal_api(s, c, url, method, up);
    if (strncmp(url, WEB_UNSUB_PREFIX, strlen(WEB_UNSUB_PREFIX)) == 0)
        return unsubscribe(s, c, url, method);
    return page(c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    struct upload *up = *con_cls;
    (void)cls, (void)c, (void)why;
    if (up) {
        free(up->answer);
        free(up->body);
        free(up);
        *con_cls = NULL;
    }
}

/* The whole of a PEM file, NUL-terminated, or NULL. */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *p = f ? calloc(1, PEM_MAX + 1) : NULL;
    size_t n = p ? fread(p, 1, PEM_MAX + 1, f) : 0;
    if (f)
        fclose(f);
    if (p && (n == 0 || n > PEM_MAX)) {
        free(p);
        return NULL;
    }
    return p;
}

/* "ADDRESS:PORT" or "[ADDRESS]:PORT" into an IPv4 or IPv6 socket address. */
static bool parse_listen(const char *spec, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    char *end;
    long port;
    size_t n;
    if (colon == NULL || (n = (size_t)(colon - spec)) == 0 || n >= sizeof host)
        return false;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        return false;
    memcpy(host, spec, n);
    host[n] = '\0';
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && host[n - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;
        host[n - 1] = '\0';
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1;
    }
    {
        struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return inet_pton(AF_INET, host, &a4->sin_addr) == 1;
    }
}

static struct MHD_Daemon *daemon_start(struct web_server *s, const struct sockaddr_storage *ss)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (s->tls)
        return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, s,
                                MHD_OPTION_SOCK_ADDR, ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                                s, MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_HTTPS_MEM_CERT,
                                s->cert, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, ss,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
}

leal_err web_server_start(struct ledger *l, const struct web_server_options *o,
                          struct web_server **out, unsigned *port)
{
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    struct web_server *s;
    *out = NULL;
    *port = 0;
    if (!parse_listen(o->listen ? o->listen : "127.0.0.1:8080", &ss))
        return LEAL_E_WEB_LISTEN;
    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        return LEAL_E_ARG;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return LEAL_E_NO_MEMORY;
    pthread_mutex_init(&s->flight.mu, NULL);
    pthread_cond_init(&s->flight.cv, NULL);
    s->l = l;
    s->hook = o->hook;
    web_limit_init(&s->limit);
    web_limit_init_rate(&s->enrol_customer, WEB_ENROL_PER_CUSTOMER, WEB_ENROL_WINDOW);
    web_limit_init_rate(&s->enrol_addr, WEB_ENROL_PER_ADDR, WEB_ENROL_WINDOW);
    s->tls = o->tls_cert != NULL;
    if (s->tls &&
        ((s->cert = read_pem(o->tls_cert)) == NULL || (s->key = read_pem(o->tls_key)) == NULL)) {
        web_server_stop(s);
        return LEAL_E_IO;
    }
    /* On PostgreSQL the server's thread reads the reports on its own
     * connection (l), the flight's thread on one of its own. */
    if (o->db_path && (ledger_rows_pg(l) ? report_db_on_ledger(l, &s->reports)
                                         : report_db_open(o->db_path, &s->reports)) != LEAL_OK) {
        web_server_stop(s);
        return LEAL_E_NO_LEDGER;
    }
    if (o->db_path && (report_db_open(o->db_path, &s->flight.db) != LEAL_OK ||
                       pthread_create(&s->flight.thread, NULL, flight_run, &s->flight) != 0)) {
        web_server_stop(s);
        return LEAL_E_NO_LEDGER;
    }
    s->flight.running = o->db_path != NULL;
    if (web_outbox_start(&s->outbox) != LEAL_OK) {
        web_server_stop(s);
        return LEAL_E_NO_MEMORY;
    }
    if (o->db_path && (s->db_path = strdup(o->db_path)) == NULL) {
        web_server_stop(s);
        return LEAL_E_NO_MEMORY;
    }
    if ((s->d = daemon_start(s, &ss)) == NULL) {
        web_server_stop(s);
        return LEAL_E_WEB_LISTEN;
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    if (o->qr_certifier)
        snprintf(s->qr_certifier, sizeof s->qr_certifier, "%s", o->qr_certifier);
    if (o->packages_dir)
        snprintf(s->packages_dir, sizeof s->packages_dir, "%s", o->packages_dir);
    if (o->public_url)
        snprintf(s->base_url, sizeof s->base_url, "%s", o->public_url);
    else {
        const char *listen = o->listen ? o->listen : "127.0.0.1:8080";
        snprintf(s->base_url, sizeof s->base_url, "%s://%.*s:%u", s->tls ? "https" : "http",
                 (int)(strrchr(listen, ':') - listen), listen, *port);
    }
    *out = s;
    return LEAL_OK;
}

void web_server_stop(struct web_server *s)
{
    if (s == NULL)
        return;
    if (s->flight.running) {
        /* The flight answers what waits with 503, so that no connection
         * stays suspended when the daemon stops. */
        pthread_mutex_lock(&s->flight.mu);
        s->flight.stopping = true;
        pthread_cond_signal(&s->flight.cv);
        pthread_mutex_unlock(&s->flight.mu);
        pthread_join(s->flight.thread, NULL);
    }
    if (s->d)
        MHD_stop_daemon(s->d);
    /* After the daemon: no request queues a mail any more, and the ledger
     * is free for the failures' audit lines. */
    web_outbox_stop(s->outbox, s->l);
    if (s->key)
        leal_wipe(s->key, strlen(s->key));
    report_db_close(s->reports);
    report_db_close(s->flight.db);
    web_dash_cache_free(&s->flight.dash);
    pthread_mutex_destroy(&s->flight.mu);
    pthread_cond_destroy(&s->flight.cv);
    free(s->cert);
    free(s->key);
    free(s->db_path);
    free(s);
}
