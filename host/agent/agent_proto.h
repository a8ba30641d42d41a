/*
 * agent_proto.h - the desk agent's messages (host/agent): what `leal agent`
 * and the card commands say to each other over the agent's UNIX socket, as
 * bounded encoders and decoders (every byte from the socket goes through
 * agent_proto_*_decode first). One request, one response, per connection.
 *
 *   request   "LA" version(1)=1 op(1) body-length(2, BE) body
 *     STATUS  no body
 *     KEYS    program(4, BE; 0 = the one the agent holds) path-length(2) path
 *             (the keystore the client would open, canonical, no NUL)
 *     STOP    no body
 *   response  "LA" version(1)=1 status(2, BE: a leal_err, 0 = ok) body-length(4) body
 *     STATUS  pid(4) program(4) idle-limit(4) idle-left(4) roles(1) path-length(2) path
 *     KEYS    the program's keys: issuer(4) created(8) name-length(1) name
 *             program(4) program-created(8) count(1) then count x (role(1) slot)
 *             (slot as keyset_put_slot: versions(1) then version(1) created(8) key)
 *     STOP    no body; errors have no body
 *
 * Decoders check every length against the limits below and refuse trailing
 * bytes. The KEYS body carries keys: callers hold it in secmem.h memory and
 * wipe it. Hosted only by where it is used; no I/O here.
 * Errors: LEAL_E_PROTOCOL (not this protocol, unknown op or version),
 * LEAL_E_TRUNCATED, LEAL_E_TRAILING, LEAL_E_FORMAT (a field out of range),
 * LEAL_E_NO_SPACE (encoder's buffer too small).
 */
#ifndef LEAL_AGENT_PROTO_H
#define LEAL_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"
#include "keys/keyset.h"

#define AGENT_PROTO_VERSION 1
#define AGENT_REQUEST_HEADER_LEN 6
#define AGENT_RESPONSE_HEADER_LEN 9
/* A keystore path: as PATH_MAX less its NUL. */
#define AGENT_MAX_PATH 4095
#define AGENT_MAX_REQUEST (AGENT_REQUEST_HEADER_LEN + 4 + 2 + AGENT_MAX_PATH)
/* The largest KEYS body: one program with every role at every version. */
#define AGENT_MAX_KEYS_BODY                                                                        \
    (4 + 8 + 1 + LEAL_MAX_ISSUER_NAME + 4 + 8 + 1 +                                                \
     KEY_ROLE_COUNT * (2 + LEAL_MAX_KEY_VERSIONS * (9 + KEY_MAX_LEN)))
#define AGENT_MAX_STATUS_BODY (17 + 2 + AGENT_MAX_PATH)
#define AGENT_MAX_BODY AGENT_MAX_KEYS_BODY

enum agent_op {
    AGENT_OP_STATUS = 1,
    AGENT_OP_KEYS = 2,
    AGENT_OP_STOP = 3,
};

struct agent_request {
    enum agent_op op;
    uint32_t program_id;           /* KEYS */
    char path[AGENT_MAX_PATH + 1]; /* KEYS: NUL-terminated */
};

struct agent_status {
    uint32_t pid;
    uint32_t program_id;
    uint32_t idle_limit; /* seconds without a KEYS request before the agent forgets */
    uint32_t idle_left;
    uint8_t roles; /* how many roles it holds */
    char path[AGENT_MAX_PATH + 1];
};

/* Requests: the whole message (header and body). */
LEAL_MUST_CHECK leal_err agent_proto_request_encode(const struct agent_request *rq, uint8_t *out,
                                                    size_t cap, size_t *len);
/* The body length the header announces (for reading the rest). */
LEAL_MUST_CHECK leal_err agent_proto_request_header(const uint8_t *in, size_t len,
                                                    size_t *body_len);
LEAL_MUST_CHECK leal_err agent_proto_request_decode(const uint8_t *in, size_t len,
                                                    struct agent_request *rq);

/* Responses: the header, then the body for its op. */
LEAL_MUST_CHECK leal_err agent_proto_response_header_encode(leal_err status, size_t body_len,
                                                            uint8_t out[AGENT_RESPONSE_HEADER_LEN]);
/* The status and body length a header announces (the body is at most AGENT_MAX_BODY). */
LEAL_MUST_CHECK leal_err agent_proto_response_header(const uint8_t *in, size_t len,
                                                     leal_err *status, size_t *body_len);
LEAL_MUST_CHECK leal_err agent_proto_status_encode(const struct agent_status *st, uint8_t *out,
                                                   size_t cap, size_t *len);
LEAL_MUST_CHECK leal_err agent_proto_status_decode(const uint8_t *in, size_t len,
                                                   struct agent_status *st);
/* The program program_id of ks, only its roles holding keys (see above). */
LEAL_MUST_CHECK leal_err agent_proto_keys_encode(const struct keyset *ks, uint32_t program_id,
                                                 uint8_t *out, size_t cap, size_t *len);
/* Into ks (cleared first): one program, the roles sent, the others empty.
 * On failure ks holds no key. */
LEAL_MUST_CHECK leal_err agent_proto_keys_decode(const uint8_t *in, size_t len, struct keyset *ks);

#endif
