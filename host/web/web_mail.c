/*
 * web_mail.c - the server's mail out (see web_mail.h).
 */
#include "web_mail.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
};

struct web_outbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    struct item *head, *tail;
    int n;
    bool stopping;
};

static void item_free(struct item *it)
{
    leal_wipe(it, sizeof *it);
    free(it);
}

static void item_send(struct item *it)
{
    struct mail_server srv;
    struct mail_message m = {
        .to = it->to, .subject = it->subject, .text = it->text, .date = it->date};
    mail_server_from(&it->lm, &srv);
    srv.timeout_s = WEB_MAIL_TIMEOUT;
    /* Nobody to tell: the request was answered (web_mail.h). */
    if (mail_send(&srv, &m, NULL, 0) != LEAL_OK)
        return;
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
        item_send(it);
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

void web_outbox_stop(struct web_outbox *o)
{
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->mu);
    o->stopping = true;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->thread, NULL);
    for (struct item *it = o->head, *next; it; it = next) {
        next = it->next;
        item_free(it);
    }
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o);
}

leal_err web_outbox_put(struct web_outbox *o, const struct ledger_mail *lm,
                        const struct mail_message *m)
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
        err = web_outbox_put(r->outbox, &lm, &m);
    }
    *queued = err == LEAL_OK;
    leal_wipe(token, sizeof token);
    leal_wipe(text, sizeof text);
    return err;
}
