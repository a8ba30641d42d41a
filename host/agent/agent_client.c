/* agent_client.c - asking the desk agent (agent_client.h). */
#include "agent_client.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_sock.h"
#include "keys/base/ct.h"
#include "keys/hosted/secmem.h"

/* The agent answers at once; this only bounds a hung one. */
#define AGENT_CLIENT_MESSAGE_MS 5000u

/* Sends rq; reads the answer's body (up to cap bytes) into body. */
static leal_err ask(const struct agent_request *rq, uint8_t *body, size_t cap, size_t *body_len)
{
    char path[AGENT_SOCK_PATH_MAX];
    uint8_t out[AGENT_MAX_REQUEST], head[AGENT_RESPONSE_HEADER_LEN];
    leal_err err, status = LEAL_OK;
    size_t len;
    int fd = -1;
    *body_len = 0;
    if ((err = agent_sock_path(false, path)) != LEAL_OK ||
        (err = agent_proto_request_encode(rq, out, sizeof out, &len)) != LEAL_OK ||
        (err = agent_sock_connect(path, &fd)) != LEAL_OK)
        return err;
    if ((err = agent_sock_deadline(fd, AGENT_CLIENT_MESSAGE_MS)) == LEAL_OK &&
        (err = agent_sock_write(fd, out, len)) == LEAL_OK &&
        (err = agent_sock_read(fd, head, sizeof head)) == LEAL_OK &&
        (err = agent_proto_response_header(head, sizeof head, &status, &len)) == LEAL_OK &&
        (err = len > cap ? LEAL_E_FORMAT : agent_sock_read(fd, body, len)) == LEAL_OK)
        *body_len = len;
    close(fd);
    return err != LEAL_OK ? err : status;
}

leal_err agent_client_keys(const char *keystore_path, uint32_t program_id, struct keyset *ks,
                           uint32_t *program)
{
    struct agent_request rq = {.op = AGENT_OP_KEYS, .program_id = program_id};
    uint8_t *body;
    size_t len = strlen(keystore_path);
    leal_err err;
    if (len == 0 || len > AGENT_MAX_PATH)
        return LEAL_E_NOT_FOUND;
    memcpy(rq.path, keystore_path, len + 1);
    if ((body = secmem_alloc(AGENT_MAX_BODY)) == NULL)
        return LEAL_E_NO_MEMORY;
    err = ask(&rq, body, AGENT_MAX_BODY, &len);
    if (err == LEAL_OK)
        err = agent_proto_keys_decode(body, len, ks);
    secmem_free(body);
    if (err == LEAL_OK && program_id != 0 && ks->programs[0].id != program_id) {
        keyset_clear(ks);
        err = LEAL_E_UNKNOWN_PROGRAM;
    }
    if (err == LEAL_OK)
        *program = ks->programs[0].id;
    return err;
}

leal_err agent_client_status(struct agent_status *st)
{
    struct agent_request rq = {.op = AGENT_OP_STATUS};
    uint8_t body[AGENT_MAX_STATUS_BODY];
    size_t len;
    leal_err err = ask(&rq, body, sizeof body, &len);
    return err == LEAL_OK ? agent_proto_status_decode(body, len, st) : err;
}

leal_err agent_client_stop(void)
{
    struct agent_request rq = {.op = AGENT_OP_STOP};
    struct timespec step = {0, 5000000};
    char path[AGENT_SOCK_PATH_MAX];
    uint8_t body[1];
    size_t len;
    leal_err err = ask(&rq, body, 0, &len);
    if (err != LEAL_OK || agent_sock_path(false, path) != LEAL_OK)
        return err;
    /* The agent answers, closes the ledger it held (its checkpoint leaves the
     * file whole) and removes its socket as it ends: a script that copies the
     * ledger after `leal agent stop` copies a closed file. */
    for (unsigned waited = 0; waited < AGENT_CLIENT_MESSAGE_MS && access(path, F_OK) == 0;
         waited += 5)
        (void)nanosleep(&step, NULL);
    return LEAL_OK;
}
