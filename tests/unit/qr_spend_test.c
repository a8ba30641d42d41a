/* qr_spend_test.c - leal's spending QR code (cardlayout/qr/QR.md "Spending
 * code"): the golden code of tests/vectors/qr_spend.txt rebuilt byte for byte
 * by the host's certificate encoder and the reference phone
 * (host/qr/qr_device.h); verified with the OpenSSL and the portable provider;
 * every single-bit flip refused; the clock-skew window to the second; a code
 * taken once per terminal (replay memory, full and freed); the caps; a static
 * code never spends; each refusal with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/qr/qr_token.h"
#include "host/qr/qr_device.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"
#include "tests/lib/testutil.h"

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out;
    (void)n;
    return LEAL_E_RANDOM;
}
static const struct crypto_provider portable = CRYPTO_PORTABLE_PROVIDER(no_random);

/* RFC 8032 7.1 TEST 1 (the issuer's `qr` key, version 1) and TEST 2 (the phone). */
static const char *issuer_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *phone_hex = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
static uint8_t issuer[32], phone[32];
static struct qr_key key;

#define NOW 1780000000u /* day 20601, time step 59333333 */
#define STEP 59333333u

static struct qr_cert golden_cert(void)
{
    struct qr_cert c = {{1, 0, 7, 42, 0x1000000000000002u, 20600, 20630}, 2000, 5000, {0}};
    assert_int_equal(crypto_openssl_ed25519_public(phone, c.device_public), LEAL_OK);
    return c;
}

static void make_cert(const struct qr_cert *c, const uint8_t *sk, uint8_t cert[QR_CERT_LEN])
{
    uint8_t msg[QR_SIGNED_MAX];
    size_t body, msg_len;
    assert_int_equal(qr_cert_encode_body(c, cert, QR_CERT_LEN, &body), LEAL_OK);
    assert_int_equal(body, QR_CERT_BODY_LEN);
    assert_int_equal(qr_signed_message(cert, body, msg, sizeof msg, &msg_len), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(sk, msg, msg_len, cert + body), LEAL_OK);
}

static uint8_t cert[QR_CERT_LEN];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(hex_decode(issuer_hex, issuer, sizeof issuer), 32);
    assert_int_equal(hex_decode(phone_hex, phone, sizeof phone), 32);
    key.version = 1;
    assert_int_equal(crypto_openssl_ed25519_public(issuer, key.public_key), LEAL_OK);
    struct qr_cert c = golden_cert();
    make_cert(&c, issuer, cert);
    return 0;
}

static struct qr_expect expect_at(uint64_t now, const struct qr_replay *r)
{
    struct qr_expect e = {7, now, &key, 1, NULL, NULL, r, NULL};
    return e;
}

static leal_err device_code(const uint8_t *seed, const uint8_t *c, uint64_t t, uint32_t n,
                            uint8_t tok[QR_SPEND_LEN], char *text, size_t *tlen)
{
    struct qr_device d;
    struct qr_device_code out;
    memcpy(d.seed, seed, sizeof d.seed);
    memcpy(d.cert, c, sizeof d.cert);
    leal_err err = qr_device_code(&d, t, n, &out);
    if (err == LEAL_OK) {
        memcpy(tok, out.token, QR_SPEND_LEN);
        memcpy(text, out.text, out.text_len + 1);
        *tlen = out.text_len;
    }
    return err;
}

/* The phone's code at time t with counter n. */
static void code_at(uint64_t t, uint32_t n, uint8_t tok[QR_SPEND_LEN], char *text, size_t *tlen)
{
    assert_int_equal(device_code(phone, cert, t, n, tok, text, tlen), LEAL_OK);
}

static void test_golden_spend(void **state)
{
    struct vector_record *v;
    uint8_t want[QR_TOKEN_MAX], tok[QR_SPEND_LEN], msg[QR_SIGNED_MAX];
    char text[QR_TEXT_MAX];
    size_t n, tlen, msg_len;
    struct qr_token t;
    (void)state;
    assert_int_equal(vectors_load("qr_spend.txt", &v), 1);
    n = vectors_hex(&v[0], "CERT", want, sizeof want);
    assert_int_equal(n, QR_CERT_LEN);
    assert_int_equal(n, 132);
    assert_memory_equal(cert, want, n);
    n = vectors_hex(&v[0], "DEVICE_SIGNED_MESSAGE", want, sizeof want);
    assert_int_equal(qr_device_message(cert, STEP, 1, msg, sizeof msg, &msg_len), LEAL_OK);
    assert_int_equal(msg_len, n);
    assert_memory_equal(msg, want, n);
    code_at(NOW, 1, tok, text, &tlen);
    n = vectors_hex(&v[0], "TOKEN", want, sizeof want);
    assert_int_equal(n, QR_SPEND_LEN);
    assert_int_equal(n, 204);
    assert_memory_equal(tok, want, n);
    assert_string_equal(text, vectors_str(&v[0], "TEXT"));
    assert_int_equal(tlen, 309);
    const struct crypto_provider *cps[2] = {crypto_openssl(), &portable};
    struct qr_expect e = expect_at(NOW, NULL);
    for (int i = 0; i < 2; i++) {
        memset(&t, 0, sizeof t);
        assert_int_equal(qr_verify_text(cps[i], text, tlen, &e, &t), LEAL_OK);
        assert_int_equal(t.kind, QR_KIND_SPEND);
        assert_int_equal(t.code.account_id, 42);
        assert_int_equal(t.code.virtual_card_id, 0x1000000000000002u);
        assert_int_equal(t.code.issued_day, 20600);
        assert_int_equal(t.code.expires_day, 20630);
        assert_int_equal(t.cap_tx_cents, 2000);
        assert_int_equal(t.cap_day_cents, 5000);
        assert_int_equal(t.time_step, STEP);
        assert_int_equal(t.counter, 1);
        assert_memory_equal(t.device_public, cert + 36, 32);
    }
    free(v);
}

static void test_every_bit_flip_refused(void **state)
{
    uint8_t tok[QR_SPEND_LEN];
    char text[QR_TEXT_MAX];
    size_t tlen;
    struct qr_expect e = expect_at(NOW, NULL);
    struct qr_token t;
    unsigned refused = 0;
    (void)state;
    code_at(NOW, 1, tok, text, &tlen);
    for (size_t bit = 0; bit < sizeof tok * 8; bit++) {
        tok[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        leal_err err = qr_verify_bytes(&portable, tok, sizeof tok, &e, &t);
        assert_true(err >= LEAL_E_QR_MALFORMED && err <= LEAL_E_QR_REPLAYED);
        refused++;
        tok[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(refused, 1632);
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), LEAL_OK);
}

/* Accepted while the terminal's step is within 3 of the code's, either way. */
static void test_clock_skew_window(void **state)
{
    uint8_t tok[QR_SPEND_LEN];
    char text[QR_TEXT_MAX];
    size_t tlen;
    struct qr_token t;
    (void)state;
    code_at(NOW, 1, tok, text, &tlen);
    static const struct {
        uint64_t now;
        leal_err want;
    } cases[] = {
        {(uint64_t)(STEP - 4) * 30 + 29, LEAL_E_QR_FUTURE}, /* phone 91..120 s ahead */
        {(uint64_t)(STEP - 3) * 30, LEAL_OK},
        {(uint64_t)STEP * 30, LEAL_OK},
        {(uint64_t)(STEP + 3) * 30 + 29, LEAL_OK},
        {(uint64_t)(STEP + 4) * 30, LEAL_E_QR_EXPIRED}, /* a code 2 minutes old */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct qr_expect e = expect_at(cases[i].now, NULL);
        assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), cases[i].want);
    }
}

static void test_replay_once_per_terminal(void **state)
{
    struct qr_seen slots[2];
    struct qr_replay r = {slots, 2};
    uint8_t tok[QR_SPEND_LEN], tok2[QR_SPEND_LEN];
    char text[QR_TEXT_MAX];
    size_t tlen;
    struct qr_token t, t2;
    struct qr_expect e = expect_at(NOW, &r);
    (void)state;
    memset(slots, 0, sizeof slots);
    code_at(NOW, 1, tok, text, &tlen);
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), LEAL_OK);
    assert_int_equal(qr_replay_record(&r, &t, NOW), LEAL_OK);
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), LEAL_E_QR_REPLAYED);
    /* the phone's next code, same time step */
    code_at(NOW, 2, tok2, text, &tlen);
    assert_int_equal(qr_verify_bytes(&portable, tok2, sizeof tok2, &e, &t2), LEAL_OK);
    assert_int_equal(qr_replay_record(&r, &t2, NOW), LEAL_OK);
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), LEAL_E_QR_REPLAYED);
    assert_int_equal(qr_verify_bytes(&portable, tok2, sizeof tok2, &e, &t), LEAL_E_QR_REPLAYED);
    /* two more phones: the second fills the memory, the third finds it full */
    struct qr_token a = t2, b = t2;
    a.code.virtual_card_id = 77;
    b.code.virtual_card_id = 78;
    assert_int_equal(qr_replay_record(&r, &a, NOW), LEAL_OK);
    assert_int_equal(qr_replay_record(&r, &b, NOW), LEAL_E_QR_REPLAY_FULL);
    assert_int_equal(qr_replay_record(&r, &b, (uint64_t)(STEP + 6) * 30 + 29),
                     LEAL_E_QR_REPLAY_FULL);
    /* once the oldest entry's codes are out of any window, its slot is free */
    assert_int_equal(qr_replay_record(&r, &b, (uint64_t)(STEP + 7) * 30), LEAL_OK);
    assert_int_equal(slots[0].virtual_card_id + slots[1].virtual_card_id, 77 + 78);
}

static void test_caps_and_static(void **state)
{
    uint8_t tok[QR_SPEND_LEN];
    char text[QR_TEXT_MAX];
    size_t tlen;
    struct qr_token t, s;
    struct qr_expect e = expect_at(NOW, NULL);
    (void)state;
    code_at(NOW, 1, tok, text, &tlen);
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), LEAL_OK);
    assert_int_equal(qr_spend_allowed(&t, 2000, 0), LEAL_OK);
    assert_int_equal(qr_spend_allowed(&t, 2001, 0), LEAL_E_QR_CAP_TX);
    assert_int_equal(qr_spend_allowed(&t, 2000, 3000), LEAL_OK);
    assert_int_equal(qr_spend_allowed(&t, 2000, 3001), LEAL_E_QR_CAP_DAY);
    assert_int_equal(qr_spend_allowed(&t, 1, 5000), LEAL_E_QR_CAP_DAY);
    assert_int_equal(qr_spend_allowed(&t, 0, 6000), LEAL_E_QR_CAP_DAY);
    s = t;
    s.kind = QR_KIND_STATIC;
    assert_int_equal(qr_spend_allowed(&s, 1, 0), LEAL_E_QR_STATIC_SPEND);
}

static void test_each_refusal_its_reason(void **state)
{
    uint8_t tok[QR_SPEND_LEN], bad_cert[QR_CERT_LEN], body[QR_CERT_BODY_LEN];
    char text[QR_TEXT_MAX];
    size_t tlen, n;
    struct qr_token t;
    struct qr_expect e = expect_at(NOW, NULL);
    (void)state;
    code_at(NOW, 1, tok, text, &tlen);
    for (size_t len = 0; len < sizeof tok; len++)
        assert_int_equal(qr_verify_bytes(&portable, tok, len, &e, &t), LEAL_E_QR_TRUNCATED);
    /* the phone's signature by another key */
    uint8_t saved = tok[QR_SPEND_LEN - 1];
    tok[QR_SPEND_LEN - 1] ^= 1;
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), LEAL_E_QR_SIGNATURE);
    tok[QR_SPEND_LEN - 1] = saved;
    /* a counter changed after signing */
    tok[QR_CERT_LEN + 7] ^= 2;
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &e, &t), LEAL_E_QR_SIGNATURE);
    tok[QR_CERT_LEN + 7] ^= 2;
    /* a certificate signed by someone else (the phone itself) */
    struct qr_cert c = golden_cert();
    make_cert(&c, phone, bad_cert);
    uint8_t forged[QR_SPEND_LEN];
    assert_int_equal(device_code(phone, bad_cert, NOW, 1, forged, text, &tlen), LEAL_OK);
    assert_int_equal(qr_verify_bytes(&portable, forged, sizeof forged, &e, &t),
                     LEAL_E_QR_SIGNATURE);
    /* the phone's certificate: refresh day reached, not yet issued, other program, revoked */
    struct qr_expect w = expect_at(20630u * 86400u, NULL);
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &w, &t), LEAL_E_QR_EXPIRED);
    w = expect_at(NOW, NULL);
    w.program_id = 8;
    assert_int_equal(qr_verify_bytes(&portable, tok, sizeof tok, &w, &t), LEAL_E_QR_PROGRAM);
    /* caps that do not hold are refused by the encoder */
    c.cap_tx_cents = 0;
    assert_int_equal(qr_cert_encode_body(&c, body, sizeof body, &n), LEAL_E_QR_MALFORMED);
    c.cap_tx_cents = 5001;
    assert_int_equal(qr_cert_encode_body(&c, body, sizeof body, &n), LEAL_E_QR_MALFORMED);
    /* the reference phone refuses to show a code past its refresh day, or with another key */
    assert_int_equal(device_code(phone, cert, 20630u * 86400u, 9, forged, text, &tlen),
                     LEAL_E_QR_EXPIRED);
    assert_int_equal(device_code(issuer, cert, NOW, 9, forged, text, &tlen), LEAL_E_KEY_VERSION);
}

/* The OpenSSL provider, counting its Ed25519 verifications. */
static int verifies;
static leal_err counting_verify(const uint8_t pub[CRYPTO_ED25519_PUBLIC], const uint8_t *msg,
                                size_t len, const uint8_t sig[CRYPTO_ED25519_SIGNATURE])
{
    verifies++;
    return crypto_openssl()->ed25519_verify(pub, msg, len, sig);
}

/* The certificate cache (QR.md "Certificate cache"): the second code of a
 * phone costs one signature, the phone's; a code whose phone signature is
 * bad is refused all the same; a certificate whose bytes differ in one bit,
 * or the same bytes under another key of that version, is verified again
 * and refused. */
static void test_cert_cache(void **state)
{
    struct crypto_provider counting = *crypto_openssl();
    struct qr_cert_seen slots[2];
    struct qr_cert_cache cache = {slots, 2, 0};
    struct qr_expect e = expect_at(NOW, NULL);
    struct qr_key other = key;
    uint8_t tok[QR_SPEND_LEN];
    char text[QR_TEXT_MAX];
    size_t tlen;
    struct qr_token t;
    (void)state;
    memset(slots, 0, sizeof slots);
    counting.ed25519_verify = counting_verify;
    e.certs = &cache;
    code_at(NOW, 1, tok, text, &tlen);
    verifies = 0;
    assert_int_equal(qr_verify_bytes(&counting, tok, sizeof tok, &e, &t), LEAL_OK);
    assert_int_equal(verifies, 2);
    assert_true(slots[0].used);
    assert_memory_equal(slots[0].cert, cert, QR_CERT_LEN);
    code_at(NOW, 2, tok, text, &tlen);
    verifies = 0;
    assert_int_equal(qr_verify_bytes(&counting, tok, sizeof tok, &e, &t), LEAL_OK);
    assert_int_equal(verifies, 1);
    assert_int_equal(t.counter, 2);
    /* the phone's signature is checked every time */
    tok[QR_SPEND_LEN - 1] ^= 1;
    assert_int_equal(qr_verify_bytes(&counting, tok, sizeof tok, &e, &t), LEAL_E_QR_SIGNATURE);
    tok[QR_SPEND_LEN - 1] ^= 1;
    /* one bit of the issuer's signature: not the cached bytes, verified, refused */
    tok[QR_CERT_LEN - 1] ^= 1;
    verifies = 0;
    assert_int_equal(qr_verify_bytes(&counting, tok, sizeof tok, &e, &t), LEAL_E_QR_SIGNATURE);
    assert_int_equal(verifies, 1);
    tok[QR_CERT_LEN - 1] ^= 1;
    /* the same bytes under another key of version 1: no hit, refused */
    other.public_key[0] ^= 1;
    e.keys = &other;
    assert_int_not_equal(qr_verify_bytes(&counting, tok, sizeof tok, &e, &t), LEAL_OK);
    /* dates, hot list and replay are not cached: a code past the refresh day is refused */
    e.keys = &key;
    assert_int_equal(qr_verify_bytes(&counting, tok, sizeof tok, &e, &t), LEAL_OK);
    e.now = 20630u * 86400u;
    assert_int_equal(qr_verify_bytes(&counting, tok, sizeof tok, &e, &t), LEAL_E_QR_EXPIRED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_spend),      cmocka_unit_test(test_every_bit_flip_refused),
        cmocka_unit_test(test_clock_skew_window), cmocka_unit_test(test_replay_once_per_terminal),
        cmocka_unit_test(test_caps_and_static),   cmocka_unit_test(test_each_refusal_its_reason),
        cmocka_unit_test(test_cert_cache),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
