/*
 * web_mail.c - the server's mail out (see web_mail.h).
 */
#include "web_mail.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/ledger/ledger.h"
#include "host/mail/mail_ledger.h"
#include "host/web/web_auth.h"
#include "keys/base/ct.h"

#define ADDR_MAX 256
#define SUBJECT_MAX 128
#define TEXT_MAX 2048

struct item {
    struct item *next;
    struct ledger_mail lm;
    char to[ADDR_MAX];
    char subject[SUBJECT_MAX];
    char text[TEXT_MAX];
    int64_t date;
    char what[sizeof((struct web_mail_failure *)0)->what];
    char object[sizeof((struct web_mail_failure *)0)->object];
};

struct web_outbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    struct item *head, *tail;
    int n;
    bool stopping;
    /* The failures for the audit log (web_mail.h), oldest first, and how
     * many more there were. */
    struct web_mail_failure failed[WEB_MAIL_FAILED];
    int nfailed;
    int64_t beyond;
};

static void item_free(struct item *it)
{
    leal_wipe(it, sizeof *it);
    free(it);
}

/* Notes that it did not go out (err, why), under o->mu. */
static void note_failure(struct web_outbox *o, const struct item *it, leal_err err, const char *why)
{
    struct web_mail_failure *f;
    if (o->nfailed == WEB_MAIL_FAILED) {
        o->beyond++;
        return;
    }
    f = &o->failed[o->nfailed++];
    memset(f, 0, sizeof *f);
    snprintf(f->what, sizeof f->what, "%s", it->what);
    snprintf(f->object, sizeof f->object, "%s", it->object);
    f->err = err;
    snprintf(f->why, sizeof f->why, "%s", why);
    f->failed_at = (int64_t)time(NULL);
}

static void item_send(struct web_outbox *o, struct item *it)
{
    struct mail_server srv;
    struct mail_message m = {
        .to = it->to, .subject = it->subject, .text = it->text, .date = it->date};
    char why[sizeof((struct web_mail_failure *)0)->why];
    leal_err err;
    mail_server_from(&it->lm, &srv);
    srv.timeout_s = WEB_MAIL_TIMEOUT;
    /* The request was answered (web_mail.h): the audit log is told. */
    if ((err = mail_send(&srv, &m, why, sizeof why)) != LEAL_OK) {
        pthread_mutex_lock(&o->mu);
        note_failure(o, it, err, why);
        pthread_mutex_unlock(&o->mu);
    }
}

static void *outbox_run(void *arg)
{
    struct web_outbox *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        struct item *it;
        while (o->head == NULL && !o->stopping)
            pthread_cond_wait(&o->cv, &o->mu);
        if (o->stopping)
            break;
        it = o->head;
        o->head = it->next;
        if (o->head == NULL)
            o->tail = NULL;
        o->n--;
        pthread_mutex_unlock(&o->mu);
        item_send(o, it);
        item_free(it);
        pthread_mutex_lock(&o->mu);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

leal_err web_outbox_start(struct web_outbox **out)
{
    struct web_outbox *o = calloc(1, sizeof *o);
    *out = NULL;
    if (o == NULL)
        return LEAL_E_NO_MEMORY;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    if (pthread_create(&o->thread, NULL, outbox_run, o) != 0) {
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
        free(o);
        return LEAL_E_NO_MEMORY;
    }
    *out = o;
    return LEAL_OK;
}

void web_outbox_stop(struct web_outbox *o, struct ledger *l)
{
    int moved;
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->mu);
    o->stopping = true;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->thread, NULL);
    for (struct item *it = o->head, *next; it; it = next) {
        next = it->next;
        note_failure(o, it, LEAL_E_WEB_MAIL_STOPPED, "");
        item_free(it);
    }
    /* Lost on an error: the server is going and nobody is left to retry. */
    if (l) {
        leal_err lost = web_outbox_audit(o, l, &moved);
        (void)lost;
    }
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o);
}

void web_outbox_failures(struct web_outbox *o, struct web_mail_failure *out, int cap, int *n,
                         int64_t *beyond)
{
    pthread_mutex_lock(&o->mu);
    *n = o->nfailed < cap ? o->nfailed : cap;
    memcpy(out, o->failed, (size_t)*n * sizeof *out);
    *beyond = o->beyond;
    pthread_mutex_unlock(&o->mu);
}

/* The audit line of f (after: malloc'ed JSON). */
static leal_err failure_line(const struct web_mail_failure *f, struct ledger_audit_line *a)
{
    json_t *j = json_pack("{s:s,s:i,s:s,s:s,s:s,s:I}", "mail", f->what, "code", (int)f->err,
                          "error", leal_errname(f->err), "message", leal_strerror(f->err), "why",
                          f->why, "failed_at", (json_int_t)f->failed_at);
    char *after = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    *a = (struct ledger_audit_line){0, "mail", "mail.failed", f->object, NULL, after};
    return after ? LEAL_OK : LEAL_E_NO_MEMORY;
}

static leal_err failures_write(struct ledger *l, const struct web_mail_failure *f, int n,
                               int64_t beyond)
{
    struct ledger_audit_line a;
    char after[48];
    leal_err err = LEAL_OK;
    for (int i = 0; i < n && err == LEAL_OK; i++) {
        if ((err = failure_line(&f[i], &a)) == LEAL_OK)
            err = ledger_audit_add(l, &a);
        free((char *)(uintptr_t)a.after);
    }
    if (err == LEAL_OK && beyond > 0) {
        snprintf(after, sizeof after, "{\"unrecorded\":%lld}", (long long)beyond);
        a = (struct ledger_audit_line){0, "mail", "mail.failed", "", NULL, after};
        err = ledger_audit_add(l, &a);
    }
    return err;
}

leal_err web_outbox_audit(struct web_outbox *o, struct ledger *l, int *moved)
{
    struct web_mail_failure f[WEB_MAIL_FAILED];
    int n;
    int64_t beyond;
    leal_err err;
    *moved = 0;
    /* Copied, written, and only then taken off the list: the thread may
     * note more meanwhile, after these. */
    web_outbox_failures(o, f, WEB_MAIL_FAILED, &n, &beyond);
    if (n == 0 && beyond == 0)
        return LEAL_OK;
    if ((err = ledger_batch_begin_whole(l)) != LEAL_OK)
        return err;
    if ((err = failures_write(l, f, n, beyond)) != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    if ((err = ledger_batch_commit(l)) != LEAL_OK)
        return err;
    pthread_mutex_lock(&o->mu);
    memmove(o->failed, o->failed + n, (size_t)(o->nfailed - n) * sizeof *o->failed);
    o->nfailed -= n;
    o->beyond -= beyond;
    pthread_mutex_unlock(&o->mu);
    *moved = n + (beyond > 0);
    return LEAL_OK;
}

leal_err web_outbox_put(struct web_outbox *o, const struct ledger_mail *lm,
                        const struct mail_message *m, const struct web_mail_about *about)
{
    struct item *it;
    if (strlen(m->to) >= ADDR_MAX || strlen(m->subject) >= SUBJECT_MAX ||
        strlen(m->text) >= TEXT_MAX)
        return LEAL_E_ARG;
    if ((it = calloc(1, sizeof *it)) == NULL)
        return LEAL_E_NO_MEMORY;
    it->lm = *lm;
    memcpy(it->to, m->to, strlen(m->to) + 1);
    memcpy(it->subject, m->subject, strlen(m->subject) + 1);
    memcpy(it->text, m->text, strlen(m->text) + 1);
    it->date = m->date;
    snprintf(it->what, sizeof it->what, "%s", about->what ? about->what : "");
    snprintf(it->object, sizeof it->object, "%s", about->object ? about->object : "");
    pthread_mutex_lock(&o->mu);
    if (o->n >= WEB_MAIL_QUEUE || o->stopping) {
        pthread_mutex_unlock(&o->mu);
        item_free(it);
        return LEAL_E_WEB_MAIL_QUEUE;
    }
    if (o->tail)
        o->tail->next = it;
    else
        o->head = it;
    o->tail = it;
    o->n++;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    return LEAL_OK;
}

leal_err web_mail_link(struct web_req *r, const struct web_link_mail *k, bool *queued)
{
    struct ledger_mail lm;
    char token[WEB_AUTH_TOKEN_HEX], text[TEXT_MAX];
    uint8_t hash[32];
    int n;
    leal_err err = ledger_mail_get(r->l, k->program, &lm);
    *queued = false;
    if (err == LEAL_E_NOT_FOUND)
        return LEAL_OK;
    if (err != LEAL_OK || (err = web_auth_token(token)) != LEAL_OK ||
        (err = web_auth_token_hash(token, hash)) != LEAL_OK ||
        (err = k->keep(r, hash, k->ctx)) != LEAL_OK)
        return err;
    /* The token rides in the link's fragment: browsers never send it to a
     * server, so it is in no access log and no Referer. */
    n = snprintf(text, sizeof text, "%s%s%s%s%s", k->intro, r->base_url, k->path, token, k->outro);
    if (n < 0 || (size_t)n >= sizeof text)
        err = LEAL_E_ARG;
    else {
        struct mail_message m = {
            .to = k->to, .subject = k->subject, .text = text, .date = (int64_t)time(NULL)};
        err = web_outbox_put(r->outbox, &lm, &m, &k->about);
    }
    *queued = err == LEAL_OK;
    leal_wipe(token, sizeof token);
    leal_wipe(text, sizeof text);
    return err;
}
