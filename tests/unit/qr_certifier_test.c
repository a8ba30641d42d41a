/* qr_certifier_test.c - the QR certifier (host/qr/qr_certifier_*.h): the
 * exact bytes of each message and every refusal of the decoders; then a real
 * certifier in a child process over a real socket: the certificate it signs
 * verifies with the program's `qr` public key and says what was asked, dated
 * on its clock; another program, caps above its limits and no certifier at
 * all are refused with their own errors. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/qr/qr_certifier_client.h"
#include "host/qr/qr_certifier_server.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
    long n = hex_decode(h, out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static struct qr_certifier_request certify_request(void)
{
    struct qr_certifier_request rq = {.op = QR_CERTIFIER_OP_CERTIFY,
                                      .program_id = 7,
                                      .customer_id = 3,
                                      .account_id = 11,
                                      .virtual_card_id = 123456789012ULL,
                                      .cap_tx_cents = 2000,
                                      .cap_day_cents = 5000,
                                      .refresh_days = 7};
    for (int i = 0; i < 32; i++)
        rq.device_public[i] = (uint8_t)(0xA0 + i);
    return rq;
}

static const char certify_hex[] =
    "4c43 01 02 0045 00000007 0000000000000003 000000000000000b 0000001cbe991a14 000007d0 00001388 "
    "07 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

static void test_certify_request_bytes(void **state)
{
    struct qr_certifier_request rq = certify_request(), back;
    uint8_t out[QR_CERTIFIER_MAX_REQUEST], want[128];
    size_t len, body;
    (void)state;
    assert_int_equal(qr_certifier_proto_request_encode(&rq, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, hex(certify_hex, want, sizeof want));
    assert_int_equal(len, QR_CERTIFIER_MAX_REQUEST);
    assert_memory_equal(out, want, len);
    assert_int_equal(qr_certifier_proto_request_header(out, QR_CERTIFIER_HEADER_LEN, &body),
                     LEAL_OK);
    assert_int_equal(body, 69);
    assert_int_equal(qr_certifier_proto_request_decode(out, len, &back), LEAL_OK);
    assert_int_equal(back.op, QR_CERTIFIER_OP_CERTIFY);
    assert_int_equal(back.program_id, 7);
    assert_int_equal(back.customer_id, 3);
    assert_int_equal(back.account_id, 11);
    assert_int_equal(back.virtual_card_id, 123456789012ULL);
    assert_int_equal(back.cap_tx_cents, 2000);
    assert_int_equal(back.cap_day_cents, 5000);
    assert_int_equal(back.refresh_days, 7);
    assert_memory_equal(back.device_public, rq.device_public, 32);
    rq.op = QR_CERTIFIER_OP_STATUS;
    assert_int_equal(qr_certifier_proto_request_encode(&rq, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, hex("4c43 01 01 0000", want, sizeof want));
    assert_memory_equal(out, want, len);
    assert_int_equal(qr_certifier_proto_request_encode(&rq, out, 5, &len), LEAL_E_NO_SPACE);
}

/* The certify request with byte at off set to v, decoded. */
static leal_err decode_with(size_t off, uint8_t v, size_t len)
{
    struct qr_certifier_request rq;
    uint8_t in[QR_CERTIFIER_MAX_REQUEST + 1] = {0};
    assert_int_equal(hex(certify_hex, in, sizeof in), QR_CERTIFIER_MAX_REQUEST);
    if (off < sizeof in)
        in[off] = v;
    return qr_certifier_proto_request_decode(in, len, &rq);
}

static void test_request_refusals(void **state)
{
    const size_t whole = QR_CERTIFIER_MAX_REQUEST;
    struct qr_certifier_request rq = certify_request();
    uint8_t out[QR_CERTIFIER_MAX_REQUEST];
    size_t len;
    (void)state;
    assert_int_equal(decode_with(999, 0, whole), LEAL_OK);
    assert_int_equal(decode_with(0, 'X', whole), LEAL_E_PROTOCOL); /* magic */
    assert_int_equal(decode_with(2, 2, whole), LEAL_E_PROTOCOL);   /* version */
    assert_int_equal(decode_with(3, 3, whole), LEAL_E_PROTOCOL);   /* op */
    assert_int_equal(decode_with(5, 0x44, whole), LEAL_E_FORMAT);  /* body length */
    assert_int_equal(decode_with(999, 0, whole - 1), LEAL_E_TRUNCATED);
    assert_int_equal(decode_with(999, 0, whole + 1), LEAL_E_TRAILING);
    assert_int_equal(decode_with(999, 0, 4), LEAL_E_TRUNCATED);
    assert_int_equal(decode_with(9, 0, whole), LEAL_E_FORMAT);     /* program 0 */
    assert_int_equal(decode_with(17, 0, whole), LEAL_E_FORMAT);    /* customer 0 */
    assert_int_equal(decode_with(25, 0, whole), LEAL_E_FORMAT);    /* account 0 */
    assert_int_equal(decode_with(36, 0x13, whole), LEAL_E_FORMAT); /* cap per payment > per day */
    assert_int_equal(decode_with(42, 0, whole), LEAL_E_FORMAT);    /* refresh 0 */
    assert_int_equal(decode_with(42, 32, whole), LEAL_E_FORMAT);   /* refresh 32 */
    assert_int_equal(decode_with(42, 31, whole), LEAL_OK);
    rq.cap_tx_cents = 0;
    assert_int_equal(qr_certifier_proto_request_encode(&rq, out, sizeof out, &len), LEAL_E_ARG);
}

static void test_answer_header(void **state)
{
    uint8_t head[QR_CERTIFIER_HEADER_LEN], want[8];
    leal_err status;
    size_t body;
    (void)state;
    assert_int_equal(qr_certifier_proto_answer_header_encode(LEAL_E_QR_CERTIFIER_REFUSED, 0, head),
                     LEAL_OK);
    assert_int_equal(hex("4c43 01 02c9 00", want, sizeof want), sizeof head);
    assert_memory_equal(head, want, sizeof head);
    assert_int_equal(qr_certifier_proto_answer_header(head, sizeof head, &status, &body), LEAL_OK);
    assert_int_equal(status, LEAL_E_QR_CERTIFIER_REFUSED);
    assert_int_equal(body, 0);
    assert_int_equal(qr_certifier_proto_answer_header_encode(LEAL_OK, QR_CERT_LEN, head), LEAL_OK);
    assert_int_equal(qr_certifier_proto_answer_header(head, sizeof head, &status, &body), LEAL_OK);
    assert_int_equal(status, LEAL_OK);
    assert_int_equal(body, 132);
    assert_int_equal(qr_certifier_proto_answer_header_encode(LEAL_OK, 133, head), LEAL_E_ARG);
    hex("4c43 01 0000 85", want, sizeof want); /* a body of 133 */
    assert_int_equal(qr_certifier_proto_answer_header(want, 6, &status, &body), LEAL_E_FORMAT);
    hex("4c43 01 02c9 04", want, sizeof want); /* an error with a body */
    assert_int_equal(qr_certifier_proto_answer_header(want, 6, &status, &body), LEAL_E_FORMAT);
    hex("4c43 01 ffff 00", want, sizeof want); /* no such error */
    assert_int_equal(qr_certifier_proto_answer_header(want, 6, &status, &body), LEAL_E_FORMAT);
    assert_int_equal(qr_certifier_proto_answer_header(want, 5, &status, &body), LEAL_E_TRUNCATED);
}

static void test_status_body(void **state)
{
    struct qr_certifier_status st = {.program_id = 7,
                                     .key_version = 2,
                                     .max_cap_tx_cents = 2000,
                                     .max_cap_day_cents = 5000,
                                     .max_refresh_days = 7},
                               back;
    uint8_t out[QR_CERTIFIER_MAX_BODY], want[64];
    size_t len;
    (void)state;
    memset(st.public_key, 0x55, sizeof st.public_key);
    assert_int_equal(qr_certifier_proto_status_encode(&st, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(
        len, hex("00000007 02 5555555555555555555555555555555555555555555555555555555555555555 "
                 "000007d0 00001388 07",
                 want, sizeof want));
    assert_memory_equal(out, want, len);
    assert_int_equal(qr_certifier_proto_status_decode(out, len, &back), LEAL_OK);
    assert_int_equal(back.program_id, 7);
    assert_int_equal(back.key_version, 2);
    assert_memory_equal(back.public_key, st.public_key, 32);
    assert_int_equal(back.max_cap_tx_cents, 2000);
    assert_int_equal(back.max_cap_day_cents, 5000);
    assert_int_equal(back.max_refresh_days, 7);
    assert_int_equal(qr_certifier_proto_status_decode(out, len - 1, &back), LEAL_E_TRUNCATED);
    out[4] = 0; /* key version 0 */
    assert_int_equal(qr_certifier_proto_status_decode(out, len, &back), LEAL_E_FORMAT);
}

static void test_cert_body(void **state)
{
    struct qr_cert c = {.code = {.key_version = 3,
                                 .program_id = 7,
                                 .account_id = 11,
                                 .virtual_card_id = 5,
                                 .issued_day = 20000,
                                 .expires_day = 20007},
                        .cap_tx_cents = 2000,
                        .cap_day_cents = 5000},
                   back;
    uint8_t cert[QR_CERT_LEN + 1] = {0}, again[QR_CERT_BODY_LEN];
    size_t len;
    (void)state;
    memset(c.device_public, 0x42, sizeof c.device_public);
    assert_int_equal(qr_cert_encode_body(&c, cert, sizeof cert, &len), LEAL_OK);
    assert_int_equal(qr_certifier_proto_cert_decode(cert, QR_CERT_LEN, &back), LEAL_OK);
    assert_int_equal(back.code.key_version, 3);
    assert_int_equal(back.code.program_id, 7);
    assert_int_equal(back.code.account_id, 11);
    assert_int_equal(back.code.virtual_card_id, 5);
    assert_int_equal(back.code.issued_day, 20000);
    assert_int_equal(back.code.expires_day, 20007);
    assert_int_equal(back.cap_tx_cents, 2000);
    assert_int_equal(back.cap_day_cents, 5000);
    assert_int_equal(qr_cert_encode_body(&back, again, sizeof again, &len), LEAL_OK);
    assert_memory_equal(again, cert, QR_CERT_BODY_LEN);
    assert_int_equal(qr_certifier_proto_cert_decode(cert, QR_CERT_LEN - 1, &back),
                     LEAL_E_TRUNCATED);
    assert_int_equal(qr_certifier_proto_cert_decode(cert, QR_CERT_LEN + 1, &back), LEAL_E_TRAILING);
    cert[1] = QR_KIND_STATIC;
    assert_int_equal(qr_certifier_proto_cert_decode(cert, QR_CERT_LEN, &back), LEAL_E_FORMAT);
    cert[1] = QR_KIND_SPEND;
    cert[26] = 0x00; /* refresh by (0x0027) before issued (0x4e20) */
    assert_int_equal(qr_certifier_proto_cert_decode(cert, QR_CERT_LEN, &back), LEAL_E_FORMAT);
}

static leal_err counting_random(uint8_t *out, size_t n)
{
    static uint8_t b = 1;
    for (size_t i = 0; i < n; i++)
        out[i] = b++;
    return LEAL_OK;
}

/* A certifier for program 7 in a child, listening on sock once this returns. */
static pid_t start_certifier(const char *sock, const struct keyset *ks)
{
    struct qr_certifier_config cfg = {.socket_path = sock,
                                      .program_id = 7,
                                      .max_cap_tx_cents = 2000,
                                      .max_cap_day_cents = 5000,
                                      .max_refresh_days = 7};
    int fds[2];
    leal_err err = LEAL_E_INTERNAL;
    pid_t pid;
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct qr_certifier_server *s = NULL;
        close(fds[0]);
        err = qr_certifier_server_open(&cfg, ks, &s);
        if (write(fds[1], &err, sizeof err) != (ssize_t)sizeof err || err != LEAL_OK)
            _exit(1);
        close(fds[1]);
        err = qr_certifier_server_run(s);
        qr_certifier_server_close(s);
        _exit(err == LEAL_OK ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &err, sizeof err), (ssize_t)sizeof err);
    close(fds[0]);
    assert_int_equal(err, LEAL_OK);
    return pid;
}

static void test_real_certifier(void **state)
{
    static struct keyset ks;
    const struct key_version *kv;
    struct qr_certifier_request rq = certify_request();
    struct qr_certifier_status st;
    uint8_t cert[QR_CERT_LEN], pub[32], msg[QR_SIGNED_MAX];
    char dir[] = "/tmp/leal-certifier-XXXXXX", sock[128];
    struct qr_cert c;
    size_t msg_len;
    int status;
    pid_t pid;
    uint64_t today = (uint64_t)time(NULL) / QR_SECONDS_PER_DAY;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/certifier.sock", dir);
    assert_int_equal(qr_certifier_client_status(sock, &st), LEAL_E_QR_CERTIFIER_DOWN);
    assert_int_equal(qr_certifier_client_status(NULL, &st), LEAL_E_QR_CERTIFIER_DOWN);
    memset(&ks, 0, sizeof ks);
    assert_int_equal(keyset_add_program(&ks, 7, 1700000000, counting_random), LEAL_OK);
    assert_int_equal(keyset_current(&ks, 7, KEY_ROLE_QR, &kv), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_public(kv->key, pub), LEAL_OK);
    pid = start_certifier(sock, &ks);
    keyset_clear(&ks);

    assert_int_equal(qr_certifier_client_status(sock, &st), LEAL_OK);
    assert_int_equal(st.program_id, 7);
    assert_int_equal(st.key_version, 1);
    assert_memory_equal(st.public_key, pub, 32);
    assert_int_equal(qr_certifier_client_certify(sock, &rq, cert, &c), LEAL_OK);
    assert_int_equal(c.code.program_id, 7);
    assert_int_equal(c.code.account_id, 11);
    assert_int_equal(c.code.virtual_card_id, 123456789012ULL);
    /* The certifier's day: today's, or tomorrow's when UTC midnight passed
     * during the exchange (exactly today's on any other run). */
    if (c.code.issued_day != today)
        today = (uint64_t)time(NULL) / QR_SECONDS_PER_DAY;
    assert_int_equal(c.code.issued_day, today);
    assert_int_equal(c.code.expires_day, today + 7);
    assert_int_equal(c.cap_tx_cents, 2000);
    assert_int_equal(c.cap_day_cents, 5000);
    assert_memory_equal(c.device_public, rq.device_public, 32);
    assert_int_equal(qr_signed_message(cert, QR_CERT_BODY_LEN, msg, sizeof msg, &msg_len), LEAL_OK);
    assert_int_equal(crypto_openssl()->ed25519_verify(pub, msg, msg_len, cert + QR_CERT_BODY_LEN),
                     LEAL_OK);
    cert[5] ^= 1;
    assert_int_equal(qr_signed_message(cert, QR_CERT_BODY_LEN, msg, sizeof msg, &msg_len), LEAL_OK);
    assert_int_not_equal(
        crypto_openssl()->ed25519_verify(pub, msg, msg_len, cert + QR_CERT_BODY_LEN), LEAL_OK);

    rq.program_id = 8;
    assert_int_equal(qr_certifier_client_certify(sock, &rq, cert, &c), LEAL_E_QR_CERTIFIER_REFUSED);
    rq = certify_request();
    rq.cap_day_cents = 5001;
    assert_int_equal(qr_certifier_client_certify(sock, &rq, cert, &c), LEAL_E_QR_CERTIFIER_REFUSED);
    rq = certify_request();
    rq.refresh_days = 8;
    assert_int_equal(qr_certifier_client_certify(sock, &rq, cert, &c), LEAL_E_QR_CERTIFIER_REFUSED);

    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    unlink(sock);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certify_request_bytes),
        cmocka_unit_test(test_request_refusals),
        cmocka_unit_test(test_answer_header),
        cmocka_unit_test(test_status_body),
        cmocka_unit_test(test_cert_body),
        cmocka_unit_test(test_real_certifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
