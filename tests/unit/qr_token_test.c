/* qr_token_test.c - Base45 (RFC 9285's examples, tests/vectors/rfc9285_base45.txt,
 * and each way a text is not Base45) and leal's static QR code
 * (cardlayout/qr/QR.md): the golden code of tests/vectors/qr_static.txt byte
 * for byte, verified with the OpenSSL and the portable provider, every
 * single-bit flip of its bytes and of its text refused, and each refusal
 * with its own code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/qr/base45.h"
#include "cardlayout/qr/qr_token.h"
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

/* RFC 8032 7.1 TEST 1 and TEST 2 secret keys. */
static const char *seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *other_seed_hex =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

#define ISSUED_DAY 20600u
#define EXPIRES_DAY 20966u
#define NOON(day) ((uint64_t)(day)*QR_SECONDS_PER_DAY + 43200u)

static const struct qr_static golden = {1, 0, 7, 42, 0x1000000000000001u, ISSUED_DAY, EXPIRES_DAY};

static uint8_t seed[32], other_seed[32];
static struct qr_key keys[2]; /* version 1: TEST 1; version 3: TEST 2 */

static int setup(void **state)
{
    (void)state;
    assert_int_equal(hex_decode(seed_hex, seed, sizeof seed), 32);
    assert_int_equal(hex_decode(other_seed_hex, other_seed, sizeof other_seed), 32);
    keys[0].version = 1;
    assert_int_equal(crypto_openssl_ed25519_public(seed, keys[0].public_key), LEAL_OK);
    keys[1].version = 3;
    assert_int_equal(crypto_openssl_ed25519_public(other_seed, keys[1].public_key), LEAL_OK);
    return 0;
}

static struct qr_expect expect_at(uint64_t now)
{
    struct qr_expect e = {7, now, keys, 2, NULL, NULL, NULL, NULL};
    return e;
}

/* A static code's bytes signed under s (leal's encoder, OpenSSL's signature). */
static size_t build(const struct qr_static *c, const uint8_t *sk, uint8_t *tok)
{
    uint8_t msg[QR_SIGNED_MAX];
    size_t body, msg_len;
    assert_int_equal(qr_static_encode_body(c, tok, QR_TOKEN_MAX, &body), LEAL_OK);
    assert_int_equal(body, QR_STATIC_BODY_LEN);
    assert_int_equal(qr_signed_message(tok, body, msg, sizeof msg, &msg_len), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(sk, msg, msg_len, tok + body), LEAL_OK);
    return body + CRYPTO_ED25519_SIGNATURE;
}

static void test_base45_rfc9285(void **state)
{
    struct vector_record *v;
    int n = vectors_load("rfc9285_base45.txt", &v);
    (void)state;
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++) {
        uint8_t bytes[64], back[64];
        char text[128];
        size_t len = vectors_hex(&v[i], "BYTES", bytes, sizeof bytes), tlen, blen;
        const char *want = vectors_str(&v[i], "TEXT");
        assert_int_equal(base45_encoded_len(len), strlen(want));
        assert_int_equal(base45_encode(bytes, len, text, sizeof text, &tlen), LEAL_OK);
        assert_string_equal(text, want);
        assert_int_equal(tlen, strlen(want));
        assert_int_equal(base45_decode(want, strlen(want), back, sizeof back, &blen), LEAL_OK);
        assert_int_equal(blen, len);
        assert_memory_equal(back, bytes, len);
        /* exactly the room needed, and one byte less */
        assert_int_equal(base45_encode(bytes, len, text, tlen + 1, &tlen), LEAL_OK);
        assert_int_equal(base45_encode(bytes, len, text, tlen, &tlen), LEAL_E_NO_SPACE);
        assert_int_equal(base45_decode(want, strlen(want), back, len - 1, &blen), LEAL_E_NO_SPACE);
    }
    free(v);
}

/* RFC 9285 section 4: a group above its bytes' range, a length of 3k+1 and a
 * character outside the alphabet are not Base45. */
static void test_base45_refusals(void **state)
{
    static const char *bad[] = {"GGW",
                                ":::",
                                "V5",
                                "::",
                                "A",
                                "BB8A",
                                "bb8",
                                "BB\n",
                                "BB8=",
                                "B_8",
                                "\x80"
                                "B8"};
    uint8_t out[8];
    size_t len = 99;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(base45_decode(bad[i], strlen(bad[i]), out, sizeof out, &len),
                         LEAL_E_FORMAT);
        assert_int_equal(len, 0);
    }
    /* The largest values that fit: FF FF in three characters, FF in two. */
    assert_int_equal(base45_decode("FGW", 3, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, 2);
    assert_int_equal(out[0], 0xFF);
    assert_int_equal(out[1], 0xFF);
    assert_int_equal(base45_decode("U5", 2, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, 1);
    assert_int_equal(out[0], 0xFF);
    assert_int_equal(base45_decode("", 0, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, 0);
}

/* Every pair of bytes round-trips, and only one text decodes to it. */
static void test_base45_all_pairs(void **state)
{
    (void)state;
    for (unsigned v = 0; v <= 0xFFFFu; v++) {
        uint8_t in[2] = {(uint8_t)(v >> 8), (uint8_t)v}, back[2];
        char text[4];
        size_t tlen, blen;
        assert_int_equal(base45_encode(in, 2, text, sizeof text, &tlen), LEAL_OK);
        assert_int_equal(base45_decode(text, tlen, back, sizeof back, &blen), LEAL_OK);
        assert_int_equal(blen, 2);
        assert_memory_equal(back, in, 2);
    }
}

static void test_golden_static(void **state)
{
    struct vector_record *v;
    uint8_t tok[QR_TOKEN_MAX], want[QR_TOKEN_MAX], msg[QR_SIGNED_MAX];
    char text[QR_TEXT_MAX];
    size_t len, n, msg_len, tlen;
    struct qr_token t;
    (void)state;
    assert_int_equal(vectors_load("qr_static.txt", &v), 1);
    len = build(&golden, seed, tok);
    assert_int_equal(len, QR_STATIC_LEN);
    assert_int_equal(len, 92);
    n = vectors_hex(&v[0], "BODY", want, sizeof want);
    assert_int_equal(n, QR_STATIC_BODY_LEN);
    assert_memory_equal(tok, want, n);
    n = vectors_hex(&v[0], "SIGNED_MESSAGE", want, sizeof want);
    assert_int_equal(qr_signed_message(tok, QR_STATIC_BODY_LEN, msg, sizeof msg, &msg_len),
                     LEAL_OK);
    assert_int_equal(msg_len, n);
    assert_memory_equal(msg, want, n);
    n = vectors_hex(&v[0], "TOKEN", want, sizeof want);
    assert_int_equal(n, len);
    assert_memory_equal(tok, want, len);
    assert_int_equal(qr_text_encode(tok, len, text, sizeof text, &tlen), LEAL_OK);
    assert_string_equal(text, vectors_str(&v[0], "TEXT"));
    assert_int_equal(tlen, 141);

    struct qr_expect e = expect_at(NOON(ISSUED_DAY + 1));
    const struct crypto_provider *cps[2] = {crypto_openssl(), &portable};
    for (int i = 0; i < 2; i++) {
        memset(&t, 0, sizeof t);
        assert_int_equal(qr_verify_text(cps[i], text, tlen, &e, &t), LEAL_OK);
        assert_int_equal(t.kind, QR_KIND_STATIC);
        assert_int_equal(t.code.key_version, 1);
        assert_int_equal(t.code.flags, 0);
        assert_int_equal(t.code.program_id, 7);
        assert_int_equal(t.code.account_id, 42);
        assert_int_equal(t.code.virtual_card_id, 0x1000000000000001u);
        assert_int_equal(t.code.issued_day, ISSUED_DAY);
        assert_int_equal(t.code.expires_day, EXPIRES_DAY);
    }
    free(v);
}

/* Every single-bit flip of the 92 token bytes (736) and of the 141 text
 * characters (1,128) is refused, with the verdict untouched on refusal. */
static void test_every_bit_flip_refused(void **state)
{
    uint8_t tok[QR_TOKEN_MAX];
    char text[QR_TEXT_MAX];
    size_t len = build(&golden, seed, tok), tlen;
    struct qr_expect e = expect_at(NOON(ISSUED_DAY));
    struct qr_token t;
    unsigned refused = 0, by_version = 0, by_malformed = 0, by_key = 0, by_signature = 0;
    (void)state;
    for (size_t bit = 0; bit < len * 8; bit++) {
        tok[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(&t, 0xA5, sizeof t);
        leal_err err = qr_verify_bytes(&portable, tok, len, &e, &t);
        assert_int_not_equal(err, LEAL_OK);
        assert_true(err >= LEAL_E_QR_MALFORMED && err <= LEAL_E_QR_REPLAYED);
        assert_int_equal(((uint8_t *)&t)[0], 0xA5);
        refused++;
        by_version += err == LEAL_E_QR_FORMAT_VERSION;
        by_malformed += err == LEAL_E_QR_MALFORMED;
        by_key += err == LEAL_E_QR_KEY_VERSION;
        by_signature += err == LEAL_E_QR_SIGNATURE;
        tok[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(refused, 736);
    /* Before the signature: the version byte's 8 flips; MALFORMED for the kind's 8,
     * the flags' 8, key version 1 -> 0 and the 7 date flips that put expires at or
     * before issued; the key version's flips to a version not held (6; 1 -> 3 is
     * held and fails the signature). The signature catches the other 698. */
    assert_int_equal(by_version, 8);
    assert_int_equal(by_malformed, 24);
    assert_int_equal(by_key, 6);
    assert_int_equal(by_signature, 698);
    assert_int_equal(qr_text_encode(tok, len, text, sizeof text, &tlen), LEAL_OK);
    for (size_t bit = 0; bit < tlen * 8; bit++) {
        text[bit / 8] ^= (char)(1u << (bit % 8));
        assert_int_not_equal(qr_verify_text(crypto_openssl(), text, tlen, &e, &t), LEAL_OK);
        text[bit / 8] ^= (char)(1u << (bit % 8));
    }
    assert_int_equal(qr_verify_text(crypto_openssl(), text, tlen, &e, &t), LEAL_OK);
}

static bool revoked_17(void *ctx, uint64_t id)
{
    (void)ctx;
    return id == 0x1000000000000001u;
}

static void expect_refused(const uint8_t *tok, size_t len, const struct qr_expect *e, leal_err want)
{
    struct qr_token t;
    assert_int_equal(qr_verify_bytes(&portable, tok, len, e, &t), want);
}

static void test_each_refusal_its_reason(void **state)
{
    uint8_t tok[QR_TOKEN_MAX + 1], other[QR_TOKEN_MAX];
    char text[QR_TEXT_MAX];
    size_t len = build(&golden, seed, tok), tlen;
    struct qr_expect e = expect_at(NOON(ISSUED_DAY));
    struct qr_token t;
    (void)state;
    expect_refused(tok, len, &e, LEAL_OK);
    /* truncated: every shorter prefix */
    for (size_t n = 0; n < len; n++)
        expect_refused(tok, n, &e, LEAL_E_QR_TRUNCATED);
    /* a byte more */
    tok[len] = 0;
    expect_refused(tok, len + 1, &e, LEAL_E_QR_MALFORMED);
    /* a newer format */
    tok[0] = 2;
    expect_refused(tok, len, &e, LEAL_E_QR_FORMAT_VERSION);
    tok[0] = 1;
    /* an unknown kind */
    tok[1] = 9;
    expect_refused(tok, len, &e, LEAL_E_QR_MALFORMED);
    tok[1] = 1;
    /* a key version the terminal does not hold */
    struct qr_static c = golden;
    c.key_version = 2;
    size_t olen = build(&c, seed, other);
    expect_refused(other, olen, &e, LEAL_E_QR_KEY_VERSION);
    /* signed by another key under a held version */
    c.key_version = 1;
    olen = build(&c, other_seed, other);
    expect_refused(other, olen, &e, LEAL_E_QR_SIGNATURE);
    /* version 3 is TEST 2's key: the same code signed by it verifies */
    c.key_version = 3;
    olen = build(&c, other_seed, other);
    expect_refused(other, olen, &e, LEAL_OK);
    /* another program */
    struct qr_expect wrong = e;
    wrong.program_id = 8;
    expect_refused(tok, len, &wrong, LEAL_E_QR_PROGRAM);
    /* dates: the last second before the issue day, its first second, the last
     * second before the expiry day, its first second */
    wrong = expect_at((uint64_t)ISSUED_DAY * QR_SECONDS_PER_DAY - 1);
    expect_refused(tok, len, &wrong, LEAL_E_QR_FUTURE);
    wrong = expect_at((uint64_t)ISSUED_DAY * QR_SECONDS_PER_DAY);
    expect_refused(tok, len, &wrong, LEAL_OK);
    wrong = expect_at((uint64_t)EXPIRES_DAY * QR_SECONDS_PER_DAY - 1);
    expect_refused(tok, len, &wrong, LEAL_OK);
    wrong = expect_at((uint64_t)EXPIRES_DAY * QR_SECONDS_PER_DAY);
    expect_refused(tok, len, &wrong, LEAL_E_QR_EXPIRED);
    /* on the hot list */
    wrong = e;
    wrong.revoked = revoked_17;
    expect_refused(tok, len, &wrong, LEAL_E_QR_REVOKED);
    /* no keys at all */
    wrong = e;
    wrong.key_count = 0;
    expect_refused(tok, len, &wrong, LEAL_E_QR_KEY_VERSION);
    /* text: another prefix, cut inside a group, cut at a group, not Base45 */
    assert_int_equal(qr_text_encode(tok, len, text, sizeof text, &tlen), LEAL_OK);
    text[1] = 'R';
    assert_int_equal(qr_verify_text(&portable, text, tlen, &e, &t), LEAL_E_QR_MALFORMED);
    text[1] = 'Q';
    /* 135 characters decode to 90 bytes; 136 is no Base45 length; the last 2 of
     * 137 ("SM", 28 + 22 * 45 = 1018) are above a byte */
    assert_int_equal(qr_verify_text(&portable, text, tlen - 3, &e, &t), LEAL_E_QR_TRUNCATED);
    assert_int_equal(qr_verify_text(&portable, text, tlen - 1, &e, &t), LEAL_E_QR_MALFORMED);
    assert_int_equal(qr_verify_text(&portable, text, tlen - 2, &e, &t), LEAL_E_QR_MALFORMED);
    assert_int_equal(qr_verify_text(&portable, text, 2, &e, &t), LEAL_E_QR_MALFORMED);
    assert_int_equal(qr_verify_text(&portable, text, 3, &e, &t), LEAL_E_QR_TRUNCATED);
    text[10] = 'a';
    assert_int_equal(qr_verify_text(&portable, text, tlen, &e, &t), LEAL_E_QR_MALFORMED);
}

static void test_encode_refuses_bad_fields(void **state)
{
    uint8_t body[QR_STATIC_BODY_LEN];
    size_t len;
    struct qr_static c;
    (void)state;
    c = golden, c.key_version = 0;
    assert_int_equal(qr_static_encode_body(&c, body, sizeof body, &len), LEAL_E_QR_MALFORMED);
    c = golden, c.flags = 1;
    assert_int_equal(qr_static_encode_body(&c, body, sizeof body, &len), LEAL_E_QR_MALFORMED);
    c = golden, c.program_id = 0;
    assert_int_equal(qr_static_encode_body(&c, body, sizeof body, &len), LEAL_E_QR_MALFORMED);
    c = golden, c.account_id = 0;
    assert_int_equal(qr_static_encode_body(&c, body, sizeof body, &len), LEAL_E_QR_MALFORMED);
    c = golden, c.virtual_card_id = 0;
    assert_int_equal(qr_static_encode_body(&c, body, sizeof body, &len), LEAL_E_QR_MALFORMED);
    c = golden, c.expires_day = c.issued_day;
    assert_int_equal(qr_static_encode_body(&c, body, sizeof body, &len), LEAL_E_QR_MALFORMED);
    assert_int_equal(qr_static_encode_body(&golden, body, sizeof body - 1, &len), LEAL_E_NO_SPACE);
    assert_int_equal(qr_static_encode_body(&golden, body, sizeof body, &len), LEAL_OK);
    assert_int_equal(len, QR_STATIC_BODY_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base45_rfc9285),
        cmocka_unit_test(test_base45_refusals),
        cmocka_unit_test(test_base45_all_pairs),
        cmocka_unit_test(test_golden_static),
        cmocka_unit_test(test_every_bit_flip_refused),
        cmocka_unit_test(test_each_refusal_its_reason),
        cmocka_unit_test(test_encode_refuses_bad_fields),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
