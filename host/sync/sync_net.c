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
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

/* A challenge is stateless: its expiry (4 bytes, UTC seconds), the server's
 * count (4) and 8 bytes of a CMAC under the process's random secret over the
 * terminal and those 8 bytes. Asking for one stores nothing, so no one can
 * push a terminal's challenge out by asking for more; a nonce is recorded as
 * used only once a request with it verifies with the terminal's journal key,
 * and kept until it expires. */
#define NET_USED 8192 /* verified requests in SYNC_AUTH_NONCE_SECONDS */
#define NET_TAG_LEN 8

struct used_nonce {
    uint64_t expires; /* 0: free */
    uint8_t nonce[SYNC_AUTH_NONCE_LEN];
};

struct sync_net {
    struct ledger *l;
    struct sync_keys k;
    char dir[4096];
    uint8_t secret[16];
    uint32_t count;
    struct used_nonce used[NET_USED];
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
    if (k->cp->random(n->secret, sizeof n->secret) != LEAL_OK) {
        free(n);
        return LEAL_E_RANDOM;
    }
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
    leal_wipe(n->secret, sizeof n->secret);
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

/* The tag of a nonce's first 8 bytes for terminal id. */
static leal_err nonce_tag(const struct sync_net *n, uint32_t id,
                          const uint8_t nonce[SYNC_AUTH_NONCE_LEN], uint8_t tag[NET_TAG_LEN])
{
    uint8_t msg[16 + 4 + 8], mac[16];
    memcpy(msg, "leal challenge 1", 16);
    store_be32(msg + 16, id);
    memcpy(msg + 20, nonce, 8);
    leal_err err = n->k.cp->aes128_cmac(n->secret, msg, sizeof msg, mac);
    memcpy(tag, mac, NET_TAG_LEN);
    return err;
}

static void challenge(struct sync_net *n, const char *terminal, uint64_t now,
                      struct sync_net_answer *a)
{
    uint8_t nonce[SYNC_AUTH_NONCE_LEN];
    char text[2 * SYNC_AUTH_NONCE_LEN + 1];
    uint32_t id;
    if (!terminal_id(terminal, &id)) {
        fail(a, 400, LEAL_E_NET_MALFORMED, "X-Leal-Terminal must be the terminal's id");
        return;
    }
    store_be32(nonce, (uint32_t)(now + SYNC_AUTH_NONCE_SECONDS));
    store_be32(nonce + 4, ++n->count);
    if (nonce_tag(n, id, nonce, nonce + 8) != LEAL_OK) {
        fail(a, 500, LEAL_E_CRYPTO, NULL);
        return;
    }
    sync_auth_nonce_format(nonce, text);
    answer(a, 200, "text/plain", text, strlen(text));
}

/* Whether the nonce is one this process gave for that terminal, not expired
 * and not used; *free_slot: where to record it (NULL: the table is full). */
static leal_err nonce_check(struct sync_net *n, const struct sync_auth *got, uint64_t now,
                            struct used_nonce **free_slot)
{
    uint8_t tag[NET_TAG_LEN];
    leal_err err = nonce_tag(n, got->terminal_id, got->nonce, tag);
    *free_slot = NULL;
    if (err != LEAL_OK)
        return err;
    if (!leal_ct_equal(tag, got->nonce + 8, NET_TAG_LEN) || load_be32(got->nonce) <= now)
        return LEAL_E_NET_REPLAY;
    for (size_t i = 0; i < NET_USED; i++) {
        if (n->used[i].expires > now &&
            leal_memcmp(n->used[i].nonce, got->nonce, SYNC_AUTH_NONCE_LEN) == 0)
            return LEAL_E_NET_REPLAY;
        if (n->used[i].expires <= now && *free_slot == NULL)
            *free_slot = &n->used[i];
    }
    return LEAL_OK;
}

/* Checks the request's nonce, then its MAC; the nonce is used once the MAC
 * verifies. */
static leal_err authenticate(struct sync_net *n, const struct sync_net_request *rq, uint8_t op,
                             struct sync_auth *got)
{
    const char *auth = rq->auth;
    struct sync_auth want;
    struct used_nonce *slot;
    uint8_t jk[16];
    int64_t program = 0;
    leal_err err;
    if (auth == NULL || sync_auth_parse(auth, strlen(auth), got) != LEAL_OK)
        return LEAL_E_NET_MALFORMED;
    if ((err = nonce_check(n, got, rq->now, &slot)) != LEAL_OK)
        return err;
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
    if (err == LEAL_OK && slot == NULL)
        err = LEAL_E_NET_BUSY;
    if (err == LEAL_OK) {
        slot->expires = load_be32(got->nonce);
        memcpy(slot->nonce, got->nonce, SYNC_AUTH_NONCE_LEN);
    }
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
    case LEAL_E_NET_BUSY:
        return 503;
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
