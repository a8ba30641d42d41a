/*
 * web_portal.c - the customer portal's API (see web_portal.h).
 */
#include "web_portal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/ledger/ledger_portal.h"
#include "host/ledger/ledger_portal_pin.h"
#include "host/ledger/ledger_qr.h"
#include "host/mail/mail.h"
#include "host/qr/qr_image.h"
#include "host/web/web_auth.h"
#include "host/web/web_mail.h"
#include "keys/base/ct.h"

#define ADDRESS_MAX 256

struct matches {
    struct ledger_customer c[WEB_PORTAL_MATCHES];
    int n;
};

static int match_one(void *ctx, const struct ledger_customer *c)
{
    struct matches *m = ctx;
    m->c[m->n++] = *c;
    return m->n >= WEB_PORTAL_MATCHES;
}

static leal_err keep_link(struct web_req *r, const uint8_t hash[32], void *ctx)
{
    const struct ledger_customer *c = ctx;
    int64_t now = (int64_t)time(NULL);
    return ledger_portal_link_add(r->l, hash, c->id, now, now + WEB_PORTAL_LINK_SECONDS);
}

/* A fresh link for c, kept hashed, queued to go out through c's program's
 * settings (web_mail.h). A program without mail settings sends nothing (the
 * link is not kept). */
static leal_err link_send(struct web_req *r, const struct ledger_customer *c)
{
    struct ledger_program p;
    char intro[512], object[40];
    bool es, queued;
    struct web_link_mail k = {.program = c->program_id,
                              .to = c->email,
                              .path = "/portal/#t=",
                              .intro = intro,
                              .about = {"portal sign-in link", object},
                              .keep = keep_link,
                              .ctx = (void *)(uintptr_t)c};
    leal_err err = ledger_program_get(r->l, c->program_id, &p);
    if (err != LEAL_OK)
        return err;
    snprintf(object, sizeof object, "customer %lld", (long long)c->id);
    es = strcmp(p.locale, "es") == 0;
    k.subject = es ? "Tu enlace para entrar" : "Your sign-in link";
    /* The token rides in the fragment: a mail scanner that fetches the page
     * does not spend it either (the page's script does). */
    snprintf(intro, sizeof intro,
             es ? "Hola %s:\r\n\r\nPara ver tu tarjeta de %s, abre este enlace en los próximos "
                  "15 minutos:\r\n\r\n"
                : "Hello %s,\r\n\r\nTo see your %s card, open this link within 15 minutes:"
                  "\r\n\r\n",
             c->name, p.name);
    k.outro = es ? "\r\n\r\nSirve una sola vez. Si no lo has pedido, ignora este mensaje.\r\n"
                 : "\r\n\r\nIt works once. If you did not ask for it, ignore this message.\r\n";
    return web_mail_link(r, &k, &queued);
}

static void link_request(struct web_req *r)
{
    const char *email = json_string_value(json_object_get(r->body, "email"));
    char mail_key[WEB_LIMIT_KEY], addr_key[WEB_LIMIT_KEY], folded[ADDRESS_MAX];
    struct matches m = {.n = 0};
    struct ledger_search by = {0, LEDGER_SEARCH_EMAIL, "", WEB_PORTAL_MATCHES};
    int64_t now = (int64_t)time(NULL);
    size_t i;
    leal_err err;
    if (email == NULL || mail_address_check(email) != LEAL_OK || strlen(email) >= ADDRESS_MAX) {
        web_api_error(r, 400, LEAL_E_MAIL_ADDRESS, "\"email\"");
        return;
    }
    for (i = 0; email[i]; i++)
        folded[i] = (char)tolower((unsigned char)email[i]);
    folded[i] = '\0';
    /* A longer address shares its limit with those of the same first 90 bytes. */
    snprintf(mail_key, sizeof mail_key, "link:%.90s", folded);
    snprintf(addr_key, sizeof addr_key, "link-from:%.64s", r->addr);
    if (!web_limit_allowed(r->limit, mail_key, now) ||
        !web_limit_allowed(r->limit, addr_key, now)) {
        web_api_error(r, 429, LEAL_E_WEB_RATE_LIMIT, NULL);
        return;
    }
    /* Every request counts: a link is as good as a password. */
    web_limit_fail(r->limit, mail_key, now);
    web_limit_fail(r->limit, addr_key, now);
    by.q = email;
    if ((err = ledger_customer_search(r->l, &by, match_one, &m)) != LEAL_OK) {
        web_ledger_error(r, err, "the customer");
        return;
    }
    /* A failure is not told either: the answer is the same for every
     * address, and comes before any mail goes out (web_mail.h), so neither
     * its content nor its time reveals who is a customer. */
    for (int k = 0; k < m.n; k++)
        (void)link_send(r, &m.c[k]);
    r->status = 202;
    r->out = json_pack("{s:i}", "minutes", WEB_PORTAL_LINK_SECONDS / 60);
}

static void me_answer(struct web_req *r)
{
    struct ledger_customer c;
    struct ledger_program p;
    json_t *balances = json_array(), *cards = json_array();
    leal_err err;
    if ((err = ledger_customer_get(r->l, r->customer, &c)) != LEAL_OK ||
        (err = ledger_program_get(r->l, c.program_id, &p)) != LEAL_OK ||
        (err = ledger_balance_each(r->l, c.account_id, web_balance_one, balances)) != LEAL_OK ||
        (err = ledger_card_each_of_account(r->l, c.account_id, web_card_one, cards)) != LEAL_OK) {
        json_decref(balances);
        json_decref(cards);
        web_ledger_error(r, err, "the customer");
        return;
    }
    r->status = 200;
    r->out = json_pack("{s:{s:s,s:s,s:s,s:s},s:o,s:o,s:s}", "customer", "name", c.name, "surname",
                       c.surname, "program", p.name, "lang", p.locale[0] ? p.locale : "en",
                       "balances", balances, "cards", cards, "csrf", r->csrf);
}

/* Why the portal shows the customer no code, from their newest static code:
 * "none" (never one), "expired" (with when), "withdrawn" (its card blocked,
 * lost or replaced at the desk) or "not_kept" (issued before the ledger kept
 * codes' texts: it works, nothing here can draw it). */
static void why_none(struct web_req *r, int64_t account_id)
{
    struct ledger_qr_static_state s;
    bool found;
    leal_err err;
    if ((err = ledger_qr_static_newest(r->l, account_id, &s, &found)) != LEAL_OK) {
        web_ledger_error(r, err, "the QR code");
        return;
    }
    r->status = 200;
    if (!found)
        r->out = json_pack("{s:n,s:s}", "qr", "why", "none");
    else if (strcmp(s.status, "active") != 0)
        r->out = json_pack("{s:n,s:s}", "qr", "why", "withdrawn");
    else if (!s.text_kept)
        r->out = json_pack("{s:n,s:s}", "qr", "why", "not_kept");
    else
        r->out = json_pack("{s:n,s:s,s:I}", "qr", "why", "expired", "expired_at",
                           (json_int_t)s.expires_at);
}

/* The customer's static QR code (the newest active one not expired), drawn
 * by host/qr as SVG; "qr": null when there is none the portal can show, and
 * "why" (why_none). The portal issues no code: a code is signed with the
 * program's `qr` key, which this process never holds, and the QR certifier
 * signs phones' certificates only (README, "Back office": the portal). */
static void qr_answer(struct web_req *r)
{
    struct ledger_customer c;
    struct ledger_qr_static_code code;
    struct qr_image_size size;
    bool found;
    uint8_t *svg = NULL;
    size_t len;
    leal_err err;
    if ((err = ledger_customer_get(r->l, r->customer, &c)) != LEAL_OK ||
        (err = ledger_qr_static_find(r->l, c.account_id, (int64_t)time(NULL), &code, &found)) !=
            LEAL_OK) {
        web_ledger_error(r, err, "the QR code");
        return;
    }
    if (!found) {
        why_none(r, c.account_id);
        return;
    }
    if ((err = qr_image_bytes(code.text, QR_IMAGE_SVG, &svg, &len, &size)) != LEAL_OK) {
        web_api_error(r, 500, err, "drawing the QR code");
        return;
    }
    r->status = 200;
    r->out =
        json_pack("{s:{s:I,s:s,s:I,s:s%}}", "qr", "card", (json_int_t)code.card_id, "text",
                  code.text, "expires_at", (json_int_t)code.expires_at, "svg", (char *)svg, len);
    free(svg);
}

/* A new portal session for customer: the cookie, then me's answer. */
static void session_start(struct web_req *r, int64_t customer, int64_t now)
{
    char session[WEB_AUTH_TOKEN_HEX], csrf[WEB_AUTH_TOKEN_HEX];
    uint8_t hash[32];
    leal_err err;
    if ((err = web_auth_token(session)) != LEAL_OK || (err = web_auth_token(csrf)) != LEAL_OK ||
        (err = web_auth_token_hash(session, hash)) != LEAL_OK) {
        web_api_error(r, 500, err, "a session token");
        return;
    }
    if ((err = ledger_portal_session_add(r->l, hash, customer, csrf,
                                         now + WEB_PORTAL_SESSION_SECONDS)) != LEAL_OK) {
        web_ledger_error(r, err, "the session");
        return;
    }
    snprintf(r->cookie, sizeof r->cookie,
             "leal_portal=%s; Path=/portal/; Max-Age=%d; HttpOnly; SameSite=Strict%s", session,
             WEB_PORTAL_SESSION_SECONDS, r->tls ? "; Secure" : "");
    r->customer = customer;
    r->csrf = csrf;
    me_answer(r);
    r->csrf = "";
}

static void session_open(struct web_req *r)
{
    const char *token = json_string_value(json_object_get(r->body, "token"));
    uint8_t hash[32];
    int64_t now = (int64_t)time(NULL), customer;
    leal_err err;
    if (token == NULL || web_auth_token_hash(token, hash) != LEAL_OK) {
        web_api_error(r, 404, LEAL_E_PORTAL_LINK_UNKNOWN, NULL);
        return;
    }
    err = ledger_portal_link_take(r->l, hash, now, &customer);
    if (err == LEAL_E_PORTAL_LINK_UNKNOWN || err == LEAL_E_PORTAL_LINK_USED ||
        err == LEAL_E_PORTAL_LINK_EXPIRED) {
        web_api_error(r, err == LEAL_E_PORTAL_LINK_UNKNOWN ? 404 : 410, err, NULL);
        return;
    }
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the link");
        return;
    }
    session_start(r, customer, now);
}

/* Sign-in by card number and PIN. Limited like the staff sign-in: a wrong
 * PIN counts against the card and the client address, so the sixth try in
 * a minute is refused (429) even with the right PIN; LEDGER_PIN_FAILS_LOCK
 * wrong PINs in a row lock the PIN in the ledger until the desk sets it
 * again. A card without a PIN or of no customer takes the time of a
 * verification and is told apart from a wrong PIN by nothing.
 * A locked PIN is told (403) only after the PIN is checked and found right:
 * a locked card and a wrong PIN get the wrong PIN's 401, after the same
 * Argon2id verification and the same count in the ledger as any PIN card,
 * so no one learns which card numbers are locked. Every try of a locked PIN
 * counts, the right one too, and from LEDGER_PIN_FAILS_TELL tries on even
 * the right PIN gets the 401: the 403 would otherwise tell a guesser the PIN
 * (which people reuse) after the lock, at the limiter's pace, for ever. */
static void pin_sign_in(struct web_req *r)
{
    const char *card = json_string_value(json_object_get(r->body, "card"));
    const char *pin = json_string_value(json_object_get(r->body, "pin"));
    char card_key[WEB_LIMIT_KEY], addr_key[WEB_LIMIT_KEY];
    struct ledger_card_pin cp;
    int64_t now = (int64_t)time(NULL), card_id = 0;
    leal_err err;
    bool right, locked;
    size_t n = 0;
    while (card && card[n] >= '0' && card[n] <= '9')
        n++;
    if (card == NULL || card[n] != '\0' || n == 0 || n > 18 || pin == NULL) {
        web_api_error(r, 400, LEAL_E_ARG, "sign-in needs \"card\" (its number) and \"pin\"");
        return;
    }
    card_id = strtoll(card, NULL, 10);
    snprintf(card_key, sizeof card_key, "pin:%lld", (long long)card_id);
    snprintf(addr_key, sizeof addr_key, "pin-from:%.64s", r->addr);
    if (!web_limit_allowed(r->limit, card_key, now) ||
        !web_limit_allowed(r->limit, addr_key, now)) {
        web_api_error(r, 429, LEAL_E_WEB_RATE_LIMIT, NULL);
        return;
    }
    err = ledger_card_pin_get(r->l, card_id, &cp);
    if (err != LEAL_OK && err != LEAL_E_NOT_FOUND) {
        web_ledger_error(r, err, "the card");
        return;
    }
    locked = err == LEAL_OK && cp.fails >= LEDGER_PIN_FAILS_LOCK;
    if (err == LEAL_OK && cp.customer_id != 0 && web_auth_pin_ok(pin)) {
        right = web_auth_verify(pin, cp.pin_hash);
        /* A locked PIN stays locked: its right PIN resets nothing. */
        if ((err = ledger_card_pin_tried(r->l, card_id, right && !locked)) != LEAL_OK) {
            web_ledger_error(r, err, "the card");
            return;
        }
    } else {
        web_auth_waste(pin);
        right = false;
    }
    leal_wipe(cp.pin_hash, sizeof cp.pin_hash);
    if (!right || (locked && cp.fails >= LEDGER_PIN_FAILS_TELL)) {
        web_limit_fail(r->limit, card_key, now);
        web_limit_fail(r->limit, addr_key, now);
        web_api_error(r, 401, LEAL_E_PORTAL_PIN, NULL);
        return;
    }
    if (locked) {
        web_limit_fail(r->limit, card_key, now);
        web_limit_fail(r->limit, addr_key, now);
        web_api_error(r, 403, LEAL_E_PORTAL_PIN_LOCKED, NULL);
        return;
    }
    web_limit_clear(r->limit, card_key);
    /* The right PIN of a card that is not active: told, since only the
     * holder of the PIN learns it. */
    if (cp.status != LEDGER_CARD_ACTIVE) {
        web_api_error(r, 403, LEAL_E_PORTAL_CARD_BLOCKED, NULL);
        return;
    }
    session_start(r, cp.customer_id, now);
}

static void session_close(struct web_req *r)
{
    leal_err err = ledger_portal_session_end(r->l, r->session, (int64_t)time(NULL));
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the session");
        return;
    }
    snprintf(r->cookie, sizeof r->cookie,
             "leal_portal=; Path=/portal/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             r->tls ? "; Secure" : "");
    r->status = 200;
    r->out = json_pack("{s:b}", "signed_out", 1);
}

const struct web_portal_route web_portal_routes[] = {
    {"POST", "/portal/api/link", false, false, link_request},
    {"POST", "/portal/api/session", false, false, session_open},
    {"POST", "/portal/api/pin", false, false, pin_sign_in},
    {"POST", "/portal/api/redeem", true, true, web_portal_redeem},
    {"GET", "/portal/api/me", true, false, me_answer},
    {"GET", "/portal/api/qr", true, false, qr_answer},
    {"GET", "/portal/api/rewards", true, false, web_portal_rewards},
    {"GET", "/portal/api/history", true, false, web_portal_history},
    {"GET", "/portal/api/spend", true, false, web_portal_spend_status},
    {"POST", "/portal/api/spend", true, true, web_portal_spend_enrol},
    {"DELETE", "/portal/api/session", true, true, session_close},
};
const int web_portal_nroutes = (int)(sizeof web_portal_routes / sizeof web_portal_routes[0]);

const struct web_portal_route *web_portal_route_find(const char *method, const char *path,
                                                     bool *path_known)
{
    *path_known = false;
    for (int i = 0; i < web_portal_nroutes; i++) {
        if (strcmp(web_portal_routes[i].path, path) != 0)
            continue;
        *path_known = true;
        if (strcmp(web_portal_routes[i].method, method) == 0)
            return &web_portal_routes[i];
    }
    return NULL;
}
