/* agent_test.c - the desk agent's socket messages (host/agent/agent_proto.h):
 * exact bytes of each message, every refusal, and the keys body carrying one
 * program's card roles and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/agent/agent_proto.h"
#include "tests/lib/testutil.h"

static uint8_t counter_byte;

static leal_err counting_random(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = counter_byte++;
    return LEAL_OK;
}

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
    long n = hex_decode(h, out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static void test_request_bytes(void **state)
{
    struct agent_request rq = {.op = AGENT_OP_KEYS, .program_id = 7}, back;
    uint8_t out[AGENT_MAX_REQUEST], want[64];
    size_t len, body;
    (void)state;
    strcpy(rq.path, "/k/ks");
    assert_int_equal(agent_proto_request_encode(&rq, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, hex("4c41 01 02 000b 00000007 0005 2f6b2f6b73", want, sizeof want));
    assert_memory_equal(out, want, len);
    assert_int_equal(agent_proto_request_header(out, AGENT_REQUEST_HEADER_LEN, &body), LEAL_OK);
    assert_int_equal(body, 11);
    assert_int_equal(agent_proto_request_decode(out, len, &back), LEAL_OK);
    assert_int_equal(back.op, AGENT_OP_KEYS);
    assert_int_equal(back.program_id, 7);
    assert_string_equal(back.path, "/k/ks");

    rq.op = AGENT_OP_STOP;
    assert_int_equal(agent_proto_request_encode(&rq, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, hex("4c41 01 03 0000", want, sizeof want));
    assert_memory_equal(out, want, len);
    rq.op = AGENT_OP_KEYS;
    rq.path[0] = '\0';
    assert_int_equal(agent_proto_request_encode(&rq, out, sizeof out, &len), LEAL_E_ARG);
}

static leal_err decode_hex(const char *h)
{
    struct agent_request rq;
    uint8_t in[64];
    size_t n = hex(h, in, sizeof in);
    return agent_proto_request_decode(in, n, &rq);
}

static void test_request_refusals(void **state)
{
    uint8_t in[16];
    size_t body;
    (void)state;
    assert_int_equal(decode_hex("4c41 01 01 0000"), LEAL_OK);
    assert_int_equal(decode_hex("4c42 01 01 0000"), LEAL_E_PROTOCOL);    /* magic */
    assert_int_equal(decode_hex("4c41 02 01 0000"), LEAL_E_PROTOCOL);    /* version */
    assert_int_equal(decode_hex("4c41 01 09 0000"), LEAL_E_PROTOCOL);    /* op */
    assert_int_equal(decode_hex("4c41 01 00 0000"), LEAL_E_PROTOCOL);    /* op 0 */
    assert_int_equal(decode_hex("4c41 01 01 0001 00"), LEAL_E_TRAILING); /* STATUS body */
    assert_int_equal(decode_hex("4c41 01 01 0000 00"), LEAL_E_TRAILING); /* after body */
    assert_int_equal(decode_hex("4c41 01 02 0007 00000001 0001"), LEAL_E_TRUNCATED);
    assert_int_equal(decode_hex("4c41 01 02 0006 00000001 0000"), LEAL_E_FORMAT);      /* no path */
    assert_int_equal(decode_hex("4c41 01 02 0008 00000001 0002 2f00"), LEAL_E_FORMAT); /* NUL */
    assert_int_equal(decode_hex("4c41 01 02 0009 00000001 0002 2f6b 00"), LEAL_E_TRAILING);
    assert_int_equal(decode_hex("4c41 01"), LEAL_E_TRUNCATED);
    /* A header announcing more than the largest request is refused before reading it. */
    assert_int_equal(agent_proto_request_header(in, hex("4c41 01 02 ffff", in, sizeof in), &body),
                     LEAL_E_FORMAT);
}

static void test_response_header(void **state)
{
    uint8_t out[AGENT_RESPONSE_HEADER_LEN], in[16];
    leal_err status;
    size_t body;
    (void)state;
    assert_int_equal(agent_proto_response_header_encode(LEAL_OK, 300, out), LEAL_OK);
    assert_int_equal(hex("4c41 01 0000 0000012c", in, sizeof in), sizeof out);
    assert_memory_equal(out, in, sizeof out);
    assert_int_equal(agent_proto_response_header(out, sizeof out, &status, &body), LEAL_OK);
    assert_int_equal(status, LEAL_OK);
    assert_int_equal(body, 300);
    assert_int_equal(agent_proto_response_header_encode(LEAL_E_UNKNOWN_PROGRAM, 0, out), LEAL_OK);
    assert_int_equal(agent_proto_response_header(out, sizeof out, &status, &body), LEAL_OK);
    assert_int_equal(status, LEAL_E_UNKNOWN_PROGRAM);
    assert_int_equal(body, 0);
    /* An error carries no body; a body is never over the largest keys body. */
    hex("4c41 01 0036 00000001", in, sizeof in);
    assert_int_equal(agent_proto_response_header(in, 9, &status, &body), LEAL_E_FORMAT);
    hex("4c41 01 0000 7fffffff", in, sizeof in);
    assert_int_equal(agent_proto_response_header(in, 9, &status, &body), LEAL_E_FORMAT);
    assert_int_equal(agent_proto_response_header_encode(LEAL_OK, AGENT_MAX_BODY + 1, out),
                     LEAL_E_ARG);
}

static void test_status_body(void **state)
{
    struct agent_status st = {.pid = 4242,
                              .program_id = 3,
                              .idle_limit = 900,
                              .idle_left = 17,
                              .roles = 9},
                        back;
    uint8_t out[AGENT_MAX_STATUS_BODY], want[64];
    size_t len;
    (void)state;
    strcpy(st.path, "/ks");
    assert_int_equal(agent_proto_status_encode(&st, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len,
                     hex("00001092 00000003 00000384 00000011 09 0003 2f6b73", want, sizeof want));
    assert_memory_equal(out, want, len);
    assert_int_equal(agent_proto_status_decode(out, len, &back), LEAL_OK);
    assert_int_equal(back.pid, 4242);
    assert_int_equal(back.idle_left, 17);
    assert_string_equal(back.path, "/ks");
    out[16] = 13; /* more roles than there are */
    assert_int_equal(agent_proto_status_decode(out, len, &back), LEAL_E_FORMAT);
}

/* A keystore's program 7 as the agent holds it: the QR and journal keys wiped. */
static struct keyset *agent_keys(void)
{
    struct keyset *ks = calloc(1, sizeof *ks);
    assert_non_null(ks);
    ks->issuer_id = 0x01020304;
    strcpy(ks->issuer_name, "Sol");
    ks->created = 1700000000;
    counter_byte = 0;
    assert_int_equal(keyset_add_program(ks, 5, 1700000000, counting_random), LEAL_OK);
    assert_int_equal(keyset_add_program(ks, 7, 1700000100, counting_random), LEAL_OK);
    assert_int_equal(keyset_keep_program(ks, 7), LEAL_OK);
    memset(&ks->programs[0].roles[KEY_ROLE_QR - 1], 0, sizeof(struct key_slot));
    memset(&ks->programs[0].roles[KEY_ROLE_JOURNAL_MAC - 1], 0, sizeof(struct key_slot));
    return ks;
}

static void test_keys_body(void **state)
{
    struct keyset *ks = agent_keys(), *back = calloc(1, sizeof *back);
    uint8_t *out = calloc(1, AGENT_MAX_BODY), want[64];
    const struct key_version *v;
    size_t len, head;
    (void)state;
    assert_non_null(back);
    assert_non_null(out);
    assert_int_equal(agent_proto_keys_encode(ks, 7, out, AGENT_MAX_BODY, &len), LEAL_OK);
    /* issuer, created, "Sol", program 7, its creation, 10 roles; then role 1, one version. */
    head = hex("01020304 000000006553f100 03 536f6c 00000007 000000006553f164 0a 01 01 01", want,
               sizeof want);
    assert_memory_equal(out, want, head);
    /* 10 roles of one version: 9 AES (16-byte keys, tmac among them) and package
     * signing (Ed25519, 32); no QR, no journal MAC. Each: role, count, version,
     * created (8), key. */
    assert_int_equal(len, 29 + 9 * (11 + 16) + 1 * (11 + 32));
    assert_int_equal(agent_proto_keys_decode(out, len, back), LEAL_OK);
    assert_int_equal(back->nprograms, 1);
    assert_int_equal(back->programs[0].id, 7);
    assert_string_equal(back->issuer_name, "Sol");
    assert_int_equal(keyset_current(back, 7, KEY_ROLE_PURSE_CREDIT, &v), LEAL_OK);
    assert_memory_equal(v->key, ks->programs[0].roles[KEY_ROLE_PURSE_CREDIT - 1].v[0].key, 16);
    assert_memory_equal(&back->programs[0], &ks->programs[0], sizeof ks->programs[0]);
    assert_int_not_equal(keyset_current(back, 7, KEY_ROLE_QR, &v), LEAL_OK);
    assert_int_equal(agent_proto_keys_encode(ks, 5, out, AGENT_MAX_BODY, &len),
                     LEAL_E_UNKNOWN_PROGRAM);
    assert_int_equal(agent_proto_keys_encode(ks, 7, out, 100, &len), LEAL_E_NO_SPACE);

    assert_int_equal(agent_proto_keys_encode(ks, 7, out, AGENT_MAX_BODY, &len), LEAL_OK);
    out[head - 3] = 0x02; /* the first role given as 2, then 2 again: not ascending */
    assert_int_equal(agent_proto_keys_decode(out, len, back), LEAL_E_FORMAT);
    assert_int_equal(back->nprograms, 0);
    out[head - 3] = 0x0c; /* no such role */
    assert_int_equal(agent_proto_keys_decode(out, len, back), LEAL_E_FORMAT);
    out[head - 3] = 0x01;
    assert_int_equal(agent_proto_keys_decode(out, len - 1, back), LEAL_E_TRUNCATED);
    out[len] = 0;
    assert_int_equal(agent_proto_keys_decode(out, len + 1, back), LEAL_E_TRAILING);
    out[12] = 0; /* an empty issuer name */
    assert_int_equal(agent_proto_keys_decode(out, len, back), LEAL_E_FORMAT);
    keyset_clear(ks);
    free(ks);
    free(back);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_bytes),   cmocka_unit_test(test_request_refusals),
        cmocka_unit_test(test_response_header), cmocka_unit_test(test_status_body),
        cmocka_unit_test(test_keys_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
