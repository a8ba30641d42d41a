/*
 * web_reply.c - the answers and checks every API handler shares (declared in
 * web_api.h): errors as JSON, the user's scope of programs, an audited change.
 * Apart from web_api.c so that the pages' handlers (web_pages.c, web_rules.c)
 * call down into it and web_api.c calls them, with no call circle between
 * objects (tests/integration/layers.sh).
 */
#include "web_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host/ledger/amount.h"
#include "host/web/web_es.h"

const char *web_text(const struct web_req *r, const char *en)
{
    const char *es = r->lang && strcmp(r->lang, "es") == 0 ? web_es_detail(en) : NULL;
    return es ? es : en;
}

void web_textf(const struct web_req *r, char *out, size_t cap, const char *en_fmt, ...)
{
    va_list ap;
    va_start(ap, en_fmt);
    vsnprintf(out, cap, web_text(r, en_fmt), ap);
    va_end(ap);
}

void web_api_error(struct web_req *r, unsigned status, leal_err err, const char *detail)
{
    char msg[768];
    const char *text = leal_strerror(err);
    if (r->lang && strcmp(r->lang, "es") == 0 && web_es_error(err))
        text = web_es_error(err);
    /* LEAL_E_ARG's sentence is for a caller inside leal ("please report
     * it"); a request the client got wrong is said by the detail alone. */
    if (detail && detail[0] && err == LEAL_E_ARG && status < 500)
        snprintf(msg, sizeof msg, "%s", web_text(r, detail));
    else if (detail && detail[0])
        snprintf(msg, sizeof msg, "%s: %s", web_text(r, detail), text);
    else
        snprintf(msg, sizeof msg, "%s", text);
    json_decref(r->out);
    r->status = status;
    r->out = json_pack("{s:{s:i,s:s,s:s}}", "error", "code", (int)err, "name", leal_errname(err),
                       "message", msg);
}

/* A ledger error as an answer: the ledger's detail, a status by kind. */
void web_ledger_error(struct web_req *r, leal_err err, const char *what)
{
    char detail[640];
    unsigned status = 500;
    if (err == LEAL_E_UNKNOWN_ID || err == LEAL_E_WEB_NO_USER)
        status = 404;
    else if (err == LEAL_E_TEXT || err == LEAL_E_DATE || err == LEAL_E_ARG ||
             err == LEAL_E_UNKNOWN_PROGRAM || err == LEAL_E_WEB_ROLE ||
             err == LEAL_E_WEB_PASSWORD || err == LEAL_E_WEB_LANG)
        status = 400;
    else if (err == LEAL_E_WEB_USER_EXISTS)
        status = 409;
    else if (err == LEAL_E_DB_BUSY)
        status = 503;
    snprintf(detail, sizeof detail, "%s%s%s", web_text(r, what), ledger_errmsg(r->l)[0] ? ": " : "",
             ledger_errmsg(r->l));
    web_api_error(r, status, err, detail);
}

bool web_scope_has(const struct web_scope *s, int64_t program)
{
    for (int i = 0; i < s->n; i++)
        if (s->programs[i] == program)
            return true;
    return s->all;
}

bool web_scope_of(struct web_req *r, struct web_scope *s)
{
    leal_err err =
        ledger_user_programs(r->l, r->user, s->programs, WEB_MAX_PROGRAMS, &s->n, &s->all);
    if (err != LEAL_OK)
        web_ledger_error(r, err, "the user's stores");
    return err == LEAL_OK;
}

/* A change and its audit line in one transaction. */
leal_err web_audited(struct web_req *r, leal_err (*change)(struct web_req *, void *), void *ctx,
                     struct ledger_audit_line *a)
{
    leal_err err;
    if ((err = ledger_batch_begin_whole(r->l)) != LEAL_OK)
        return err;
    if ((err = change(r, ctx)) == LEAL_OK && (err = ledger_audit_add(r->l, a)) == LEAL_OK)
        return ledger_batch_commit(r->l);
    ledger_batch_rollback(r->l);
    return err;
}

/* ---- Rows the customer views share (the back office's and the portal's) ---- */

int web_balance_one(void *ctx, const char *asset, int64_t amount)
{
    char shown[AMOUNT_FORMAT_MAX];
    if (strcmp(asset, "EUR") != 0 || amount_format(amount, shown, sizeof shown) != LEAL_OK)
        snprintf(shown, sizeof shown, "%lld", (long long)amount);
    json_array_append_new(ctx, json_pack("{s:s,s:I,s:s}", "asset", asset, "amount",
                                         (json_int_t)amount, "shown", shown));
    return 0;
}

int web_card_one(void *ctx, const struct ledger_card *c)
{
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)c->card_id, "tech",
                                         ledger_card_tech_name(c->tech), "status",
                                         ledger_card_status_name(c->status)));
    return 0;
}
