/*
 * web_reset.c - a back-office user's password reset by e-mail (see web_reset.h).
 */
#include "web_reset.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host/web/web_auth.h"
#include "host/web/web_mail.h"
#include "keys/base/ct.h"

static leal_err keep_reset(struct web_req *r, const uint8_t hash[32], void *ctx)
{
    const struct ledger_user *u = ctx;
    int64_t now = (int64_t)time(NULL);
    return ledger_reset_add(r->l, hash, u->id, now, now + WEB_RESET_SECONDS);
}

/* A fresh reset link for u, kept hashed, queued to go out through the
 * settings of ledger_user_mail_program (web_mail.h). Without mail settings
 * nothing is kept or sent. */
static leal_err reset_send(struct web_req *r, const struct ledger_user *u, bool *queued)
{
    char intro[256], object[40];
    bool es = strcmp(u->lang, "es") == 0;
    struct web_link_mail k = {
        .to = u->email,
        .subject = es ? "Tu nueva contraseña" : "Your new password",
        .path = "/#/reset/", /* in the fragment, as the portal's links */
        .intro = intro,
        .outro = es ? "\r\n\r\nSirve una sola vez. Si no lo has pedido, ignora este mensaje: tu "
                      "contraseña no cambia.\r\n"
                    : "\r\n\r\nIt works once. If you did not ask for it, ignore this message: "
                      "your password stays as it is.\r\n",
        .about = {"password reset link", object},
        .keep = keep_reset,
        .ctx = (void *)(uintptr_t)u};
    leal_err err;
    *queued = false;
    if ((err = ledger_user_mail_program(r->l, u, &k.program)) != LEAL_OK || k.program == 0)
        return err;
    snprintf(object, sizeof object, "user %lld", (long long)u->id); /* as user.reset-request's */
    snprintf(intro, sizeof intro,
             es ? "Hola %s:\r\n\r\nPara elegir una contraseña nueva para la gestión, abre este "
                  "enlace en los próximos 30 minutos:\r\n\r\n"
                : "Hello %s,\r\n\r\nTo choose a new password for the back office, open this "
                  "link within 30 minutes:\r\n\r\n",
             u->name);
    return web_mail_link(r, &k, queued);
}

void web_password_forgot(struct web_req *r)
{
    const char *name = json_string_value(json_object_get(r->body, "name"));
    char user_key[WEB_LIMIT_KEY], addr_key[WEB_LIMIT_KEY], object[40];
    struct ledger_user u;
    int64_t now = (int64_t)time(NULL);
    bool queued = false;
    leal_err err;
    if (name == NULL || name[0] == '\0') {
        web_api_error(r, 400, LEAL_E_ARG, "a reset needs the user's \"name\"");
        return;
    }
    /* The sign-in's keys and table: forgotten-password requests and failed
     * sign-ins share one budget per name and per address. */
    snprintf(user_key, sizeof user_key, "user:%s", name);
    snprintf(addr_key, sizeof addr_key, "addr:%s", r->addr);
    if (!web_limit_allowed(r->limit, user_key, now) ||
        !web_limit_allowed(r->limit, addr_key, now)) {
        web_api_error(r, 429, LEAL_E_WEB_RATE_LIMIT, NULL);
        return;
    }
    /* Every request counts: a link is as good as a password. */
    web_limit_fail(r->limit, user_key, now);
    web_limit_fail(r->limit, addr_key, now);
    err = ledger_user_by_name(r->l, name, &u);
    if (err != LEAL_OK && err != LEAL_E_WEB_NO_USER) {
        web_ledger_error(r, err, "the user");
        return;
    }
    if (err == LEAL_OK && !u.disabled && u.email[0]) {
        struct ledger_audit_line a = {u.id, u.name, "user.reset-request", object, NULL, NULL};
        /* A failure is not told either: the answer is the same for all, and
         * comes before the mail goes out (web_mail.h). */
        (void)reset_send(r, &u, &queued);
        snprintf(object, sizeof object, "user %lld", (long long)u.id);
        a.after = queued ? "{\"queued\":true}" : "{\"queued\":false}";
        if ((err = ledger_audit_add(r->l, &a)) != LEAL_OK) {
            web_ledger_error(r, err, "the audit log");
            return;
        }
    }
    r->status = 202;
    r->out = json_pack("{s:i}", "minutes", WEB_RESET_SECONDS / 60);
}

void web_password_reset(struct web_req *r)
{
    const char *token = json_string_value(json_object_get(r->body, "token"));
    const char *password = json_string_value(json_object_get(r->body, "password"));
    char hash_text[WEB_AUTH_HASH_MAX], addr_key[WEB_LIMIT_KEY];
    uint8_t hash[32];
    int64_t user_id = 0, now = (int64_t)time(NULL);
    leal_err err;
    if (token == NULL || password == NULL) {
        web_api_error(r, 400, LEAL_E_ARG, "a reset needs \"token\" and \"password\"");
        return;
    }
    /* Wrong tokens count per address, apart from the sign-in's budget: a
     * guess costs an Argon2id hash. */
    snprintf(addr_key, sizeof addr_key, "reset-from:%.64s", r->addr);
    if (!web_limit_allowed(r->limit, addr_key, now)) {
        web_api_error(r, 429, LEAL_E_WEB_RATE_LIMIT, NULL);
        return;
    }
    if (web_auth_token_hash(token, hash) != LEAL_OK) {
        web_limit_fail(r->limit, addr_key, now);
        web_api_error(r, 400, LEAL_E_WEB_RESET_TOKEN, NULL);
        return;
    }
    if ((err = web_auth_hash(password, hash_text, sizeof hash_text)) != LEAL_OK) {
        web_api_error(r, err == LEAL_E_WEB_PASSWORD ? 400 : 500, err, NULL);
        return;
    }
    err = ledger_reset_take(r->l, hash, now, hash_text, &user_id);
    leal_wipe(hash_text, sizeof hash_text);
    if (err == LEAL_E_WEB_RESET_TOKEN) {
        web_limit_fail(r->limit, addr_key, now);
        web_api_error(r, 400, err, NULL);
        return;
    }
    if (err != LEAL_OK) {
        web_ledger_error(r, err, "the user");
        return;
    }
    r->status = 200;
    r->out = json_pack("{s:b}", "reset", 1);
}
