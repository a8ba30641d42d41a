/* qr_certifier_client.c - asking the QR certifier (qr_certifier_client.h). */
#include "qr_certifier_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "host/agent/agent_sock.h"
#include "host/ledger/ledger_qr.h"
#include "host/ledger/ledger_user.h"
#include "keys/base/bytes.h"

/* Sends rq; reads the answer's body (up to cap bytes) into body. */
static leal_err ask(const char *path, const struct qr_certifier_request *rq, uint8_t *body,
                    size_t cap, size_t *body_len)
{
    uint8_t out[QR_CERTIFIER_MAX_REQUEST], head[QR_CERTIFIER_HEADER_LEN];
    leal_err err, status = LEAL_OK;
    size_t len;
    int fd = -1;
    *body_len = 0;
    if (path == NULL || path[0] == '\0')
        return LEAL_E_QR_CERTIFIER_DOWN;
    if ((err = qr_certifier_proto_request_encode(rq, out, sizeof out, &len)) != LEAL_OK)
        return err;
    if ((err = agent_sock_connect(path, &fd)) != LEAL_OK)
        return err == LEAL_E_NOT_FOUND || err == LEAL_E_PERMISSION ? LEAL_E_QR_CERTIFIER_DOWN : err;
    if ((err = agent_sock_deadline(fd, QR_CERTIFIER_CLIENT_MS)) == LEAL_OK &&
        (err = agent_sock_write(fd, out, len)) == LEAL_OK &&
        (err = agent_sock_read(fd, head, sizeof head)) == LEAL_OK &&
        (err = qr_certifier_proto_answer_header(head, sizeof head, &status, &len)) == LEAL_OK &&
        (err = len > cap ? LEAL_E_FORMAT : agent_sock_read(fd, body, len)) == LEAL_OK)
        *body_len = len;
    close(fd);
    return err != LEAL_OK ? err : status;
}

leal_err qr_certifier_client_status(const char *socket_path, struct qr_certifier_status *st)
{
    struct qr_certifier_request rq = {.op = QR_CERTIFIER_OP_STATUS};
    uint8_t body[QR_CERTIFIER_MAX_BODY];
    size_t len;
    leal_err err = ask(socket_path, &rq, body, sizeof body, &len);
    return err == LEAL_OK ? qr_certifier_proto_status_decode(body, len, st) : err;
}

leal_err qr_certifier_client_certify(const char *socket_path, const struct qr_certifier_request *rq,
                                     uint8_t cert[QR_CERT_LEN], struct qr_cert *c)
{
    uint8_t body[QR_CERTIFIER_MAX_BODY];
    struct qr_cert got;
    size_t len;
    leal_err err;
    if (rq->op != QR_CERTIFIER_OP_CERTIFY)
        return LEAL_E_ARG;
    if ((err = ask(socket_path, rq, body, sizeof body, &len)) != LEAL_OK ||
        (err = qr_certifier_proto_cert_decode(body, len, &got)) != LEAL_OK)
        return err;
    /* The certificate must say what was asked, or the ledger would record another phone. */
    if (got.code.program_id != rq->program_id || got.code.account_id != rq->account_id ||
        got.code.virtual_card_id != rq->virtual_card_id || got.cap_tx_cents != rq->cap_tx_cents ||
        got.cap_day_cents != rq->cap_day_cents ||
        memcmp(got.device_public, rq->device_public, sizeof got.device_public) != 0)
        return LEAL_E_PROTOCOL;
    memcpy(cert, body, QR_CERT_LEN);
    *c = got;
    return LEAL_OK;
}

/* Twelve random decimal digits, as issued cards get (host/issuance). */
static leal_err new_card_id(uint64_t *id)
{
    uint8_t r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return LEAL_E_RANDOM;
    *id = 100000000000ULL + load_be64(r) % 900000000000ULL;
    return LEAL_OK;
}

/* The account's active phones (spending kind), before the new one. */
struct phones {
    int64_t id[QR_CERTIFIER_REPLACED_MAX];
    size_t n;
    bool more; /* more than QR_CERTIFIER_REPLACED_MAX: refused */
};

static int phone_one(void *ctx, const struct ledger_card *c)
{
    struct phones *p = ctx;
    if (c->tech != LEDGER_TECH_VIRTUAL_QR || c->layout_version != QR_KIND_SPEND ||
        c->status != LEDGER_CARD_ACTIVE)
        return 0;
    if (p->n == QR_CERTIFIER_REPLACED_MAX) {
        p->more = true;
        return 0;
    }
    p->id[p->n++] = c->card_id;
    return 0;
}

/* {"phones":[ids]} or, with the new one, {"phones":[new],"replaced":[ids]}. */
static void phones_json(const struct phones *p, int64_t added, char *out, size_t cap)
{
    size_t n =
        added ? (size_t)snprintf(out, cap, "{\"phones\":[%lld],\"replaced\":[", (long long)added)
              : (size_t)snprintf(out, cap, "{\"phones\":[");
    for (size_t i = 0; i < p->n && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%lld", i ? "," : "", (long long)p->id[i]);
    if (n < cap)
        snprintf(out + n, cap - n, "]}");
}

/* The phone's virtual card and caps, as qr_issue_enrol records them; the
 * account's earlier phones replaced (their holds given back) and the audit
 * line, in the same transaction. */
static leal_err record(struct ledger *l, const struct qr_cert *c, int64_t customer_id,
                       const char *actor, int64_t now, struct qr_certifier_enrolled *done)
{
    struct ledger_card lc;
    struct phones before = {.n = 0};
    char object[48], was[24 * QR_CERTIFIER_REPLACED_MAX + 32],
        is[24 * QR_CERTIFIER_REPLACED_MAX + 64], why[96];
    leal_err err;
    memset(&lc, 0, sizeof lc);
    lc.card_id = (int64_t)c->code.virtual_card_id;
    lc.account_id = (int64_t)c->code.account_id;
    lc.tech = LEDGER_TECH_VIRTUAL_QR;
    lc.status = LEDGER_CARD_ACTIVE;
    lc.keyset_version = c->code.key_version;
    lc.layout_version = QR_KIND_SPEND;
    lc.issued_at = now;
    if ((err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    err = ledger_card_each_of_account(l, lc.account_id, phone_one, &before);
    if (err == LEAL_OK && before.more)
        err = LEAL_E_QR_CERTIFIER_REFUSED;
    if (err == LEAL_OK && (err = ledger_card_add(l, &lc)) == LEAL_OK)
        err = ledger_qr_caps_set(l, lc.card_id, c->cap_tx_cents, c->cap_day_cents);
    snprintf(why, sizeof why, "re-enrolled from the portal: replaced by virtual card %lld",
             (long long)lc.card_id);
    for (size_t i = 0; i < before.n && err == LEAL_OK; i++)
        err = ledger_qr_card_status(l, before.id[i], LEDGER_CARD_REPLACED, why, actor);
    if (err == LEAL_OK) {
        snprintf(object, sizeof object, "customer %lld", (long long)customer_id);
        phones_json(&before, 0, was, sizeof was);
        phones_json(&before, lc.card_id, is, sizeof is);
        const struct ledger_audit_line a = {.user_id = 0,
                                            .actor = actor,
                                            .action = "qr.enrol",
                                            .object = object,
                                            .before = was,
                                            .after = is};
        err = ledger_audit_add(l, &a);
    }
    if (err != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    if ((err = ledger_batch_commit(l)) != LEAL_OK)
        return err;
    memcpy(done->replaced, before.id, before.n * sizeof before.id[0]);
    done->n_replaced = before.n;
    return LEAL_OK;
}

leal_err qr_certifier_enrol(struct ledger *l, const char *socket_path,
                            const struct qr_certifier_enrolment *e,
                            struct qr_certifier_enrolled *done)
{
    struct qr_certifier_request rq = {.op = QR_CERTIFIER_OP_CERTIFY};
    struct qr_certifier_status st;
    struct ledger_customer cu;
    leal_err err;
    if (l == NULL || e == NULL || e->customer_id <= 0 || e->actor == NULL || done == NULL)
        return LEAL_E_ARG;
    const int64_t customer_id = e->customer_id;
    memset(done, 0, sizeof *done);
    if ((err = qr_certifier_client_status(socket_path, &st)) != LEAL_OK ||
        (err = ledger_customer_get(l, customer_id, &cu)) != LEAL_OK)
        return err;
    if (cu.program_id <= 0 || (uint64_t)cu.program_id != st.program_id || cu.account_id <= 0)
        return LEAL_E_QR_CERTIFIER_REFUSED;
    rq.program_id = st.program_id;
    rq.customer_id = (uint64_t)customer_id;
    rq.account_id = (uint64_t)cu.account_id;
    rq.cap_tx_cents = st.max_cap_tx_cents;
    rq.cap_day_cents = st.max_cap_day_cents;
    rq.refresh_days = st.max_refresh_days;
    memcpy(rq.device_public, e->device_public, sizeof rq.device_public);
    /* A virtual card id already taken: another id, another certificate. */
    for (int tries = 0; tries < 4; tries++) {
        uint8_t got[QR_CERT_LEN];
        struct qr_cert gc;
        if ((err = new_card_id(&rq.virtual_card_id)) != LEAL_OK ||
            (err = qr_certifier_client_certify(socket_path, &rq, got, &gc)) != LEAL_OK)
            return err;
        if ((err = record(l, &gc, customer_id, e->actor, (int64_t)time(NULL), done)) == LEAL_OK) {
            memcpy(done->cert, got, sizeof got);
            done->c = gc;
        }
        if (err != LEAL_E_DUPLICATE_ID)
            return err;
    }
    return err;
}
