/* qr_certifier_server.c - the QR certifier (qr_certifier_server.h). */
#define _GNU_SOURCE /* accept4, ppoll */
#include "qr_certifier_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/agent/agent_sock.h"
#include "keys/base/ct.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/hosted/secmem.h"

struct qr_certifier_server {
    uint8_t *seed; /* secmem: the `qr` key */
    struct qr_certifier_status st;
    struct qr_certifier_config cfg;
    int fd;
    char sock[AGENT_SOCK_PATH_MAX];
};

static volatile sig_atomic_t ending_signal;

static void on_signal(int sig)
{
    ending_signal = sig;
}

leal_err qr_certifier_server_open(const struct qr_certifier_config *cfg, const struct keyset *ks,
                                  struct qr_certifier_server **out)
{
    const struct key_version *kv;
    struct qr_certifier_server *s;
    leal_err err;
    *out = NULL;
    if (cfg->socket_path == NULL || strlen(cfg->socket_path) >= AGENT_SOCK_PATH_MAX ||
        cfg->max_cap_tx_cents == 0 || cfg->max_cap_day_cents < cfg->max_cap_tx_cents ||
        cfg->max_refresh_days == 0 || cfg->max_refresh_days > QR_CERTIFIER_MAX_REFRESH)
        return LEAL_E_ARG;
    if ((err = keyset_current(ks, cfg->program_id, KEY_ROLE_QR, &kv)) != LEAL_OK)
        return err;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return LEAL_E_NO_MEMORY;
    s->fd = -1;
    s->cfg = *cfg;
    if ((s->seed = secmem_alloc(32)) == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto fail;
    }
    memcpy(s->seed, kv->key, 32);
    s->st = (struct qr_certifier_status){.program_id = cfg->program_id,
                                         .key_version = kv->version,
                                         .max_cap_tx_cents = cfg->max_cap_tx_cents,
                                         .max_cap_day_cents = cfg->max_cap_day_cents,
                                         .max_refresh_days = cfg->max_refresh_days};
    if ((err = crypto_openssl_ed25519_public(s->seed, s->st.public_key)) != LEAL_OK ||
        (err = agent_sock_listen(cfg->socket_path, &s->fd)) != LEAL_OK)
        goto fail;
    memcpy(s->sock, cfg->socket_path, strlen(cfg->socket_path) + 1);
    *out = s;
    return LEAL_OK;
fail:
    qr_certifier_server_close(s);
    return err;
}

void qr_certifier_server_status(const struct qr_certifier_server *s, struct qr_certifier_status *st)
{
    *st = s->st;
}

static leal_err answer(int fd, leal_err status, const uint8_t *body, size_t len)
{
    uint8_t msg[QR_CERTIFIER_MAX_ANSWER];
    leal_err err = qr_certifier_proto_answer_header_encode(status, len, msg);
    if (err != LEAL_OK)
        return err;
    if (len > 0)
        memcpy(msg + QR_CERTIFIER_HEADER_LEN, body, len);
    return agent_sock_write(fd, msg, QR_CERTIFIER_HEADER_LEN + len);
}

/* The certificate rq asks for, dated on this process's clock, signed. */
static leal_err certify(struct qr_certifier_server *s, const struct qr_certifier_request *rq,
                        uint8_t cert[QR_CERT_LEN], struct qr_cert *c)
{
    uint8_t msg[QR_SIGNED_MAX];
    size_t body, msg_len;
    uint64_t day = (uint64_t)time(NULL) / QR_SECONDS_PER_DAY;
    leal_err err;
    if (rq->program_id != s->st.program_id || rq->cap_tx_cents > s->st.max_cap_tx_cents ||
        rq->cap_day_cents > s->st.max_cap_day_cents || rq->refresh_days > s->st.max_refresh_days)
        return LEAL_E_QR_CERTIFIER_REFUSED;
    if (day + rq->refresh_days > UINT16_MAX)
        return LEAL_E_RANGE;
    memset(c, 0, sizeof *c);
    c->code.key_version = s->st.key_version;
    c->code.program_id = rq->program_id;
    c->code.account_id = rq->account_id;
    c->code.virtual_card_id = rq->virtual_card_id;
    c->code.issued_day = (uint16_t)day;
    c->code.expires_day = (uint16_t)(day + rq->refresh_days);
    c->cap_tx_cents = rq->cap_tx_cents;
    c->cap_day_cents = rq->cap_day_cents;
    memcpy(c->device_public, rq->device_public, sizeof c->device_public);
    if ((err = qr_cert_encode_body(c, cert, QR_CERT_LEN, &body)) != LEAL_OK ||
        (err = qr_signed_message(cert, body, msg, sizeof msg, &msg_len)) != LEAL_OK)
        return err;
    return crypto_openssl_ed25519_sign(s->seed, msg, msg_len, cert + body);
}

/* One connection, one request. Another user gets no answer at all. */
static void serve(struct qr_certifier_server *s, int fd)
{
    uint8_t in[QR_CERTIFIER_MAX_REQUEST], body[QR_CERTIFIER_MAX_BODY];
    struct qr_certifier_request rq;
    struct qr_cert c;
    size_t n;
    leal_err err;
    if (agent_sock_peer_is_me(fd) != LEAL_OK ||
        agent_sock_deadline(fd, QR_CERTIFIER_MESSAGE_MS) != LEAL_OK ||
        agent_sock_read(fd, in, QR_CERTIFIER_HEADER_LEN) != LEAL_OK)
        return;
    if ((err = qr_certifier_proto_request_header(in, QR_CERTIFIER_HEADER_LEN, &n)) != LEAL_OK ||
        (err = agent_sock_read(fd, in + QR_CERTIFIER_HEADER_LEN, n)) != LEAL_OK ||
        (err = qr_certifier_proto_request_decode(in, QR_CERTIFIER_HEADER_LEN + n, &rq)) !=
            LEAL_OK) {
        (void)answer(fd, LEAL_E_PROTOCOL, NULL, 0);
        return;
    }
    if (rq.op == QR_CERTIFIER_OP_STATUS) {
        err = qr_certifier_proto_status_encode(&s->st, body, sizeof body, &n);
        (void)(err == LEAL_OK ? answer(fd, LEAL_OK, body, n) : answer(fd, err, NULL, 0));
        return;
    }
    if ((err = certify(s, &rq, body, &c)) != LEAL_OK) {
        (void)answer(fd, err, NULL, 0);
        return;
    }
    if (answer(fd, LEAL_OK, body, QR_CERT_LEN) == LEAL_OK && s->cfg.certified_cb != NULL)
        s->cfg.certified_cb(s->cfg.ctx, &rq, &c);
}

static leal_err loop(struct qr_certifier_server *s, const sigset_t *waiting)
{
    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        int rc, c;
        if (ending_signal)
            return LEAL_OK;
        rc = ppoll(&p, 1, NULL, waiting);
        if (rc < 0 && errno != EINTR)
            return LEAL_E_IO;
        if (rc <= 0)
            continue;
        if ((c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            continue;
        serve(s, c);
        close(c);
    }
}

leal_err qr_certifier_server_run(struct qr_certifier_server *s)
{
    static const int ends[] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa, old[3];
    sigset_t block, before;
    leal_err err;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&block);
    for (size_t i = 0; i < 3; i++)
        sigaddset(&block, ends[i]);
    /* Blocked but while ppoll waits: a signal cannot slip in between the check and the wait. */
    sigprocmask(SIG_BLOCK, &block, &before);
    for (size_t i = 0; i < 3; i++)
        sigaction(ends[i], &sa, &old[i]);
    err = loop(s, &before);
    leal_wipe(s->seed, 32);
    for (size_t i = 0; i < 3; i++)
        sigaction(ends[i], &old[i], NULL);
    sigprocmask(SIG_SETMASK, &before, NULL);
    return err;
}

void qr_certifier_server_close(struct qr_certifier_server *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->sock);
    }
    secmem_free(s->seed);
    free(s);
}
