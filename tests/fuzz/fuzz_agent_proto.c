/* fuzz_agent_proto.c - the desk agent's socket messages (host/agent/agent_proto.h):
 * request header and request, response header, status and keys bodies; whatever
 * decodes encodes back to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/agent/agent_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned consumed; /* keeps results observable */

static void requests(const uint8_t *data, size_t size)
{
    static struct agent_request rq;
    static uint8_t out[AGENT_MAX_REQUEST];
    size_t body, len;
    leal_err status;
    if (agent_proto_request_header(
            data, size < AGENT_REQUEST_HEADER_LEN ? size : AGENT_REQUEST_HEADER_LEN, &body) ==
        LEAL_OK)
        consumed += (unsigned)body;
    if (agent_proto_request_decode(data, size, &rq) == LEAL_OK) {
        if (agent_proto_request_encode(&rq, out, sizeof out, &len) != LEAL_OK || len != size ||
            memcmp(out, data, size) != 0)
            abort();
    }
    if (agent_proto_response_header(data, size, &status, &body) == LEAL_OK) {
        uint8_t head[AGENT_RESPONSE_HEADER_LEN];
        if (agent_proto_response_header_encode(status, body, head) != LEAL_OK ||
            memcmp(head, data, sizeof head) != 0)
            abort();
    }
}

static void bodies(const uint8_t *data, size_t size)
{
    static struct agent_status st;
    static uint8_t out[AGENT_MAX_BODY];
    static struct keyset keys;
    struct keyset *ks = &keys;
    size_t len;
    if (agent_proto_status_decode(data, size, &st) == LEAL_OK) {
        if (agent_proto_status_encode(&st, out, sizeof out, &len) != LEAL_OK || len != size ||
            memcmp(out, data, size) != 0)
            abort();
    }
    if (agent_proto_keys_decode(data, size, ks) == LEAL_OK) {
        if (agent_proto_keys_encode(ks, ks->programs[0].id, out, sizeof out, &len) != LEAL_OK ||
            len != size || memcmp(out, data, size) != 0)
            abort();
        keyset_clear(ks);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    requests(data, size);
    bodies(data, size);
    return 0;
}
