/* agent_server.c - the desk agent (agent_server.h). */
#define _GNU_SOURCE /* accept4, ppoll */
#include "agent_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_proto.h"
#include "agent_sock.h"
#include "host/keys/keyfile.h"
#include "keys/base/ct.h"
#include "keys/hosted/secmem.h"

/* A client has this long to send its request and take the answer. */
#define AGENT_SERVER_MESSAGE_MS 2000u

struct agent_server {
    struct keyset *keys; /* secmem */
    uint8_t *msg;        /* secmem: an answer being built (it may hold keys) */
    uint32_t program_id;
    unsigned idle_seconds;
    uint8_t roles;
    int fd;
    struct stat keystore; /* the file as it was read */
    struct timespec last_use;
    char path[AGENT_MAX_PATH + 1];
    char sock[AGENT_SOCK_PATH_MAX];
};

static volatile sig_atomic_t ending_signal;

static void on_signal(int sig)
{
    ending_signal = sig;
}

/* Roles a card command never needs from the agent: the QR key (terminal
 * bundles, `leal keys export-terminal`) and the journal MAC key. */
static bool card_role(enum key_role role)
{
    return role != KEY_ROLE_QR && role != KEY_ROLE_JOURNAL_MAC;
}

static leal_err choose_program(struct agent_server *s, uint32_t wanted)
{
    struct key_program *p;
    leal_err err;
    if (wanted == 0) {
        if (s->keys->nprograms != 1)
            return LEAL_E_USAGE;
        wanted = s->keys->programs[0].id;
    }
    if ((err = keyset_keep_program(s->keys, wanted)) != LEAL_OK)
        return err;
    p = &s->keys->programs[0];
    for (int i = 0; i < KEY_ROLE_COUNT; i++) {
        if (!card_role((enum key_role)(i + KEY_ROLE_FIRST))) {
            leal_wipe(&p->roles[i], sizeof p->roles[i]);
            continue;
        }
        s->roles = (uint8_t)(s->roles + (p->roles[i].nversions > 0));
    }
    s->program_id = wanted;
    return LEAL_OK;
}

static void forget(struct agent_server *s)
{
    if (s->keys) {
        keyset_clear(s->keys);
        secmem_free(s->keys);
        s->keys = NULL;
    }
}

leal_err agent_server_open(const struct agent_server_config *cfg, const char *pass, size_t pass_len,
                           struct agent_server **out)
{
    struct agent_server *s;
    leal_err err;
    *out = NULL;
    if (strlen(cfg->keystore_path) > AGENT_MAX_PATH ||
        strlen(cfg->socket_path) >= AGENT_SOCK_PATH_MAX || cfg->idle_seconds == 0 ||
        cfg->idle_seconds > AGENT_SERVER_IDLE_MAX)
        return LEAL_E_ARG;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return LEAL_E_NO_MEMORY;
    s->fd = -1;
    s->idle_seconds = cfg->idle_seconds;
    memcpy(s->path, cfg->keystore_path, strlen(cfg->keystore_path) + 1);
    s->keys = secmem_alloc(sizeof *s->keys);
    s->msg = secmem_alloc(AGENT_RESPONSE_HEADER_LEN + AGENT_MAX_BODY);
    if (s->keys == NULL || s->msg == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto fail;
    }
    if (stat(s->path, &s->keystore) != 0) {
        err = errno == ENOENT ? LEAL_E_NOT_FOUND : LEAL_E_IO;
        goto fail;
    }
    if ((err = keyfile_load(s->path, KEYSTORE_KIND_KEYSTORE, pass, pass_len, s->keys)) != LEAL_OK ||
        (err = choose_program(s, cfg->program_id)) != LEAL_OK)
        goto fail;
    if ((err = agent_sock_listen(cfg->socket_path, &s->fd)) != LEAL_OK)
        goto fail;
    memcpy(s->sock, cfg->socket_path, strlen(cfg->socket_path) + 1);
    clock_gettime(CLOCK_MONOTONIC, &s->last_use);
    *out = s;
    return LEAL_OK;
fail:
    agent_server_close(s);
    return err;
}

uint32_t agent_server_program(const struct agent_server *s)
{
    return s->program_id;
}

static int64_t idle_left_ms(const struct agent_server *s)
{
    struct timespec now;
    int64_t used;
    clock_gettime(CLOCK_MONOTONIC, &now);
    used = (int64_t)(now.tv_sec - s->last_use.tv_sec) * 1000 +
           (now.tv_nsec - s->last_use.tv_nsec) / 1000000;
    return (int64_t)s->idle_seconds * 1000 - used;
}

static bool keystore_changed(const struct agent_server *s)
{
    struct stat now;
    if (stat(s->path, &now) != 0)
        return true;
    return now.st_dev != s->keystore.st_dev || now.st_ino != s->keystore.st_ino ||
           now.st_size != s->keystore.st_size || now.st_mtim.tv_sec != s->keystore.st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != s->keystore.st_mtim.tv_nsec;
}

static leal_err answer(int fd, uint8_t *msg, leal_err status, size_t body_len)
{
    leal_err err = agent_proto_response_header_encode(status, body_len, msg);
    if (err == LEAL_OK)
        err = agent_sock_write(fd, msg, AGENT_RESPONSE_HEADER_LEN + body_len);
    leal_wipe(msg, AGENT_RESPONSE_HEADER_LEN + body_len);
    return err;
}

static leal_err answer_status(struct agent_server *s, int fd)
{
    struct agent_status st = {.pid = (uint32_t)getpid(),
                              .program_id = s->program_id,
                              .idle_limit = s->idle_seconds,
                              .roles = s->roles};
    int64_t left = idle_left_ms(s);
    size_t len;
    leal_err err;
    st.idle_left = left > 0 ? (uint32_t)((left + 999) / 1000) : 0;
    memcpy(st.path, s->path, sizeof st.path);
    err = agent_proto_status_encode(&st, s->msg + AGENT_RESPONSE_HEADER_LEN, AGENT_MAX_BODY, &len);
    return err == LEAL_OK ? answer(fd, s->msg, LEAL_OK, len) : answer(fd, s->msg, err, 0);
}

static leal_err answer_keys(struct agent_server *s, int fd, const struct agent_request *rq,
                            enum agent_server_end *end)
{
    size_t len;
    leal_err err;
    if (keystore_changed(s)) {
        *end = AGENT_END_KEYSTORE_CHANGED;
        return answer(fd, s->msg, LEAL_E_STATE, 0);
    }
    if (strcmp(rq->path, s->path) != 0)
        return answer(fd, s->msg, LEAL_E_NOT_FOUND, 0);
    if (rq->program_id != 0 && rq->program_id != s->program_id)
        return answer(fd, s->msg, LEAL_E_UNKNOWN_PROGRAM, 0);
    err = agent_proto_keys_encode(s->keys, s->program_id, s->msg + AGENT_RESPONSE_HEADER_LEN,
                                  AGENT_MAX_BODY, &len);
    if (err != LEAL_OK)
        return answer(fd, s->msg, err, 0);
    clock_gettime(CLOCK_MONOTONIC, &s->last_use);
    return answer(fd, s->msg, LEAL_OK, len);
}

/* One connection, one request. Another user gets no answer at all. */
static void serve(struct agent_server *s, int fd, enum agent_server_end *end)
{
    uint8_t in[AGENT_MAX_REQUEST];
    struct agent_request rq;
    size_t body;
    leal_err err;
    if (agent_sock_peer_is_me(fd) != LEAL_OK || agent_sock_deadline(fd, AGENT_SERVER_MESSAGE_MS))
        return;
    if (agent_sock_read(fd, in, AGENT_REQUEST_HEADER_LEN) != LEAL_OK)
        return;
    if ((err = agent_proto_request_header(in, AGENT_REQUEST_HEADER_LEN, &body)) != LEAL_OK ||
        (err = agent_sock_read(fd, in + AGENT_REQUEST_HEADER_LEN, body)) != LEAL_OK ||
        (err = agent_proto_request_decode(in, AGENT_REQUEST_HEADER_LEN + body, &rq)) != LEAL_OK) {
        (void)answer(fd, s->msg, LEAL_E_PROTOCOL, 0);
        return;
    }
    if (rq.op == AGENT_OP_STATUS) {
        (void)answer_status(s, fd);
    } else if (rq.op == AGENT_OP_KEYS) {
        (void)answer_keys(s, fd, &rq, end);
    } else {
        /* Forget first: once the client hears "stopped", nothing is held. */
        forget(s);
        *end = AGENT_END_STOP;
        (void)answer(fd, s->msg, LEAL_OK, 0);
    }
}

static leal_err loop(struct agent_server *s, const sigset_t *waiting, enum agent_server_end *end)
{
    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        struct timespec ts;
        int64_t left = idle_left_ms(s);
        int rc, c;
        if (ending_signal) {
            *end = AGENT_END_SIGNAL;
            return LEAL_OK;
        }
        if (left <= 0) {
            *end = AGENT_END_IDLE;
            return LEAL_OK;
        }
        ts.tv_sec = (time_t)(left / 1000);
        ts.tv_nsec = (long)(left % 1000) * 1000000L;
        rc = ppoll(&p, 1, &ts, waiting);
        if (rc < 0 && errno != EINTR)
            return LEAL_E_IO;
        if (rc <= 0)
            continue;
        if ((c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            continue;
        serve(s, c, end);
        close(c);
        if (*end != 0)
            return LEAL_OK;
    }
}

leal_err agent_server_run(struct agent_server *s, enum agent_server_end *end)
{
    static const int ends[] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa, old[3];
    sigset_t block, before;
    leal_err err;
    *end = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&block);
    for (size_t i = 0; i < 3; i++)
        sigaddset(&block, ends[i]);
    /* Blocked but while ppoll waits: a signal cannot slip in between the check and the wait. */
    sigprocmask(SIG_BLOCK, &block, &before);
    for (size_t i = 0; i < 3; i++)
        sigaction(ends[i], &sa, &old[i]);
    err = loop(s, &before, end);
    forget(s);
    for (size_t i = 0; i < 3; i++)
        sigaction(ends[i], &old[i], NULL);
    sigprocmask(SIG_SETMASK, &before, NULL);
    return err;
}

void agent_server_close(struct agent_server *s)
{
    if (s == NULL)
        return;
    forget(s);
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->sock);
    }
    secmem_free(s->msg);
    free(s);
}
