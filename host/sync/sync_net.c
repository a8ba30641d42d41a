/* sync_net.c - the terminal routes of `leal serve` (sync_net.h). */
#include "sync_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/package.h"
#include "firmware/core/sync_auth.h"
#include "host/file.h"
#include "host/ledger/ledger_reconcile.h"
#include "host/ledger/ledger_terminal.h"
#include "keys/base/ct.h"

/* Outstanding challenges: one per terminal; the oldest gives way when full. */
#define NET_CHALLENGES 1024

struct challenge {
    uint32_t terminal_id; /* 0: free */
    uint64_t expires;
    uint8_t nonce[SYNC_AUTH_NONCE_LEN];
};

struct sync_net {
    struct ledger *l;
    struct sync_keys k;
    char dir[4096];
    struct challenge ch[NET_CHALLENGES];
};

leal_err sync_net_open(struct ledger *l, const struct sync_keys *k, const char *packages_dir,
                       struct sync_net **out)
{
    struct sync_net *n;
    *out = NULL;
    if (l == NULL || k == NULL || packages_dir == NULL ||
        strlen(packages_dir) >= sizeof n->dir - 32)
        return LEAL_E_ARG;
    if ((n = calloc(1, sizeof *n)) == NULL)
        return LEAL_E_NO_MEMORY;
    n->l = l;
    n->k = *k;
    snprintf(n->dir, sizeof n->dir, "%s", packages_dir);
    *out = n;
    return LEAL_OK;
}

void sync_net_close(struct sync_net *n)
{
    if (n == NULL)
        return;
    leal_wipe(n->ch, sizeof n->ch);
    free(n);
}

static void answer(struct sync_net_answer *a, unsigned status, const char *type, const void *p,
                   size_t len)
{
    a->status = status;
    a->type = type;
    a->len = 0;
    if ((a->body = malloc(len ? len : 1)) == NULL) {
        a->status = 500;
        a->type = "text/plain";
        return;
    }
    memcpy(a->body, p, len);
    a->len = len;
}

/* The one line of an error: "LEAL_E_NAME: why\n". */
static void fail(struct sync_net_answer *a, unsigned status, leal_err err, const char *why)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%s: %s\n", leal_errname(err),
                     why && why[0] ? why : leal_strerror(err));
    answer(a, status, "text/plain; charset=utf-8", line,
           n < 0                     ? 0
           : (size_t)n < sizeof line ? (size_t)n
                                     : sizeof line - 1);
}

/* A terminal id in decimal, 1..UINT32_MAX, nothing else. */
static bool terminal_id(const char *s, uint32_t *id)
{
    uint64_t v = 0;
    if (s == NULL || s[0] < '1' || s[0] > '9')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
            return false;
    }
    *id = (uint32_t)v;
    return true;
}

static void challenge(struct sync_net *n, const char *terminal, uint64_t now,
                      struct sync_net_answer *a)
{
    struct challenge *slot = NULL;
    char text[2 * SYNC_AUTH_NONCE_LEN + 1];
    uint32_t id;
    if (!terminal_id(terminal, &id)) {
        fail(a, 400, LEAL_E_NET_MALFORMED, "X-Leal-Terminal must be the terminal's id");
        return;
    }
    for (size_t i = 0; i < NET_CHALLENGES && slot == NULL; i++)
        if (n->ch[i].terminal_id == id)
            slot = &n->ch[i];
    for (size_t i = 0; i < NET_CHALLENGES && slot == NULL; i++)
        if (n->ch[i].terminal_id == 0 || n->ch[i].expires <= now)
            slot = &n->ch[i];
    if (slot == NULL) {
        slot = &n->ch[0];
        for (size_t i = 1; i < NET_CHALLENGES; i++)
            if (n->ch[i].expires < slot->expires)
                slot = &n->ch[i];
    }
    if (n->k.cp->random(slot->nonce, sizeof slot->nonce) != LEAL_OK) {
        slot->terminal_id = 0;
        fail(a, 500, LEAL_E_RANDOM, NULL);
        return;
    }
    slot->terminal_id = id;
    slot->expires = now + SYNC_AUTH_NONCE_SECONDS;
    sync_auth_nonce_format(slot->nonce, text);
    answer(a, 200, "text/plain", text, strlen(text));
}

/* Takes the request's nonce (once, whatever follows), then checks its MAC. */
static leal_err authenticate(struct sync_net *n, const struct sync_net_request *rq, uint8_t op,
                             struct sync_auth *got)
{
    const char *auth = rq->auth;
    struct sync_auth want;
    struct challenge *slot = NULL;
    uint8_t jk[16];
    int64_t program = 0;
    leal_err err;
    if (auth == NULL || sync_auth_parse(auth, strlen(auth), got) != LEAL_OK)
        return LEAL_E_NET_MALFORMED;
    for (size_t i = 0; i < NET_CHALLENGES; i++)
        if (n->ch[i].terminal_id == got->terminal_id &&
            leal_ct_equal(n->ch[i].nonce, got->nonce, SYNC_AUTH_NONCE_LEN))
            slot = &n->ch[i];
    if (slot == NULL)
        return LEAL_E_NET_REPLAY;
    slot->terminal_id = 0;
    if (slot->expires <= rq->now)
        return LEAL_E_NET_REPLAY;
    err = ledger_terminal_program(n->l, got->terminal_id, &program);
    if (err == LEAL_E_UNKNOWN_ID)
        return LEAL_E_NET_AUTH;
    if (err != LEAL_OK)
        return err;
    err = sync_journal_key(&n->k, (uint32_t)program, got->terminal_id, got->key_version, jk);
    if (err == LEAL_E_UNKNOWN_PROGRAM || err == LEAL_E_KEY_VERSION)
        return LEAL_E_NET_AUTH;
    want = *got;
    if (err == LEAL_OK)
        err = sync_auth_mac(n->k.cp, jk, op, rq->body, rq->len, &want);
    leal_wipe(jk, sizeof jk);
    if (err == LEAL_OK && !leal_ct_equal(want.mac, got->mac, sizeof want.mac))
        err = LEAL_E_NET_AUTH;
    return err;
}

static unsigned auth_status(leal_err err)
{
    switch (err) {
    case LEAL_E_NET_MALFORMED:
        return 400;
    case LEAL_E_NET_AUTH:
        return 401;
    case LEAL_E_NET_REPLAY:
        return 409;
    default:
        return 500;
    }
}

static void upload(struct sync_net *n, const struct sync_auth *who, const uint8_t *body, size_t len,
                   struct sync_net_answer *a)
{
    struct journal_export_info info;
    struct journal_ack ack;
    struct sync_result r;
    struct ledger_reconcile_counts rc;
    uint8_t out[JOURNAL_ACK_LEN];
    char why[400];
    leal_err err = journal_export_parse(body, len, &info);
    if (err != LEAL_OK) {
        fail(a, 400, err, "the upload is not a journal export");
        return;
    }
    if (info.terminal_id != who->terminal_id) {
        snprintf(why, sizeof why, "the export is terminal %u's; the request is terminal %u's",
                 info.terminal_id, who->terminal_id);
        fail(a, 403, LEAL_E_JOURNAL_TERMINAL, why);
        return;
    }
    err = sync_import(n->l, &n->k, body, len, &r);
    if (err != LEAL_OK) {
        if (r.fault == err)
            snprintf(why, sizeof why,
                     "terminal %u, epoch %u, sequence %u: %s; %u new entries "
                     "taken before it",
                     r.info.terminal_id, r.fault_epoch, r.fault_seq, r.why, r.taken);
        else
            snprintf(why, sizeof why, "%s", r.why[0] ? r.why : leal_strerror(err));
        fail(a, 422, err, why);
        return;
    }
    /* As `leal sync import` does after its files. Its failure does not
     * undo the import: the next import or `leal reconcile` does it. */
    if (ledger_reconcile(n->l, 0, 0, &rc) != LEAL_OK)
        rc.found = 0;
    if ((err = sync_ack(n->l, &n->k, who->terminal_id, &ack, out)) != LEAL_OK) {
        fail(a, 500, err, NULL);
        return;
    }
    answer(a, 200, "application/octet-stream", out, sizeof out);
}

static void package(struct sync_net *n, uint32_t terminal, struct sync_net_answer *a)
{
    char path[4200];
    uint8_t *p = NULL;
    size_t len = 0;
    leal_err err;
    snprintf(path, sizeof path, "%s/terminal-%u.lpkg", n->dir, terminal);
    err = file_read(path, PACKAGE_MAX_SIZE, &p, &len);
    if (err == LEAL_E_NOT_FOUND) {
        fail(a, 404, LEAL_E_NET_NO_PACKAGE, NULL);
        return;
    }
    if (err != LEAL_OK) {
        fail(a, 500, err, NULL);
        return;
    }
    a->status = 200;
    a->type = "application/octet-stream";
    a->body = p;
    a->len = len;
}

void sync_net_handle(struct sync_net *n, const struct sync_net_request *rq,
                     struct sync_net_answer *a)
{
    struct sync_auth who;
    bool post = strcmp(rq->method, "POST") == 0, get = strcmp(rq->method, "GET") == 0;
    uint8_t op;
    leal_err err;
    memset(a, 0, sizeof *a);
    if (strcmp(rq->path, "/terminal/challenge") == 0 && post) {
        challenge(n, rq->terminal, rq->now, a);
        return;
    }
    if (strcmp(rq->path, "/terminal/journal") == 0 && post)
        op = SYNC_AUTH_OP_JOURNAL;
    else if (strcmp(rq->path, "/terminal/package") == 0 && get)
        op = SYNC_AUTH_OP_PACKAGE;
    else {
        fail(a, 404, LEAL_E_ARG, "no such terminal route");
        return;
    }
    if ((err = authenticate(n, rq, op, &who)) != LEAL_OK) {
        fail(a, auth_status(err), err, NULL);
        return;
    }
    if (op == SYNC_AUTH_OP_JOURNAL)
        upload(n, &who, rq->body, rq->len, a);
    else
        package(n, who.terminal_id, a);
}
