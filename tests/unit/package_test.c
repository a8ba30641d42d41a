/* package_test.c - the terminal package (firmware/core/package.h, PACKAGE.md):
 * the golden package in tests/vectors/leal_package.txt byte for byte (its
 * rules 5 opaque bytes: verified, but refused by a terminal's load), the
 * loadable one in tests/vectors/leal_package_rules.txt (the golden rule set of
 * leal_rules_set.txt as its rules), every single-bit flip refused, every
 * single-bit flip of the rules section re-signed loaded exactly when the rule
 * set still decodes, each refusal with its code while the loaded package
 * stays, and lookups at both ends of the lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/package.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

/* RFC 8032 7.1 TEST 1 and TEST 2 keys: the package role, versions 2 and 3. */
static const char *seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *other_seed_hex =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
static uint8_t seed[32], other_seed[32];
static struct package_key keys[2];

#define T0 1780000000u /* 2026-05-28 20:26:40 UTC */
#define DAY 86400u

static const uint8_t rules_blob[5] = {0x52, 0x55, 0x4C, 0x45, 0x01};
/* The golden rule set (tests/vectors/leal_rules_set.txt), read at setup. */
static uint8_t golden_set[RULES_CODEC_MAX_LEN];
static uint32_t golden_set_len;
static const struct package_hot golden_hot[3] = {
    {5, PACKAGE_HOT_BLOCKED},
    {17, PACKAGE_HOT_LOST},
    {0x0102030405060708u, PACKAGE_HOT_REPLACED},
};
static const struct package_floor golden_floors[3] = {
    {5, PACKAGE_FLOOR_DESFIRE, 0, 12, 0, {0}},
    {9,
     PACKAGE_FLOOR_CLASSIC,
     PACKAGE_FLOOR_TAG_KNOWN,
     3,
     4,
     {0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18}},
    {0x7FFFFFFFFFFFFFFFu, PACKAGE_FLOOR_DESFIRE, 0, 0x7FFFFFFE, 0, {0}},
};
static const struct package_pending golden_pending[3] = {
    {5, 0, 1, -50, PACKAGE_CHANGE_ADJUST, 0, 0, 0},
    {9, 2, 4, 120, PACKAGE_CHANGE_ADJUST | PACKAGE_CHANGE_BONUS, 0, 0, 0},
    {0x7FFFFFFFFFFFFFFFu, 0, 1, -30, PACKAGE_CHANGE_EXPIRED, 0, 0, 0},
};
#define NAME(k, i, t)                                                                              \
    {                                                                                              \
        k, i, (uint8_t)(sizeof t - 1), t                                                           \
    }
static const struct package_name golden_names[6] = {
    NAME(PACKAGE_NAME_TIER, 1, "Plata"),
    NAME(PACKAGE_NAME_TIER, 2, "Oro"),
    NAME(PACKAGE_NAME_STAMP, 0, "Caf\xc3\xa9"),
    NAME(PACKAGE_NAME_REWARD, 3, "Caf\xc3\xa9 gratis"),
    NAME(PACKAGE_NAME_BONO, 11, "Masaje 5 sesiones"),
    NAME(PACKAGE_NAME_STORE, 4,
         "Cafeter\xc3\xad"
         "a Sol"),
};
/* Europe/Madrid: CET-1CEST,M3.5.0,M10.5.0/3. */
static const struct package_site golden_site = {
    4, 3000, {60, 120, true, {3, 5, 0, 7200}, {10, 5, 0, 10800}}};
#define GOLDEN_NAMES_LEN (6 * 6 + 5 + 3 + 5 + 12 + 17 + 14)

static struct package_contents golden_contents(void)
{
    struct package_contents c = {
        .key_version = 2,
        .program_id = 7,
        .terminal_id = 3,
        .version = 5,
        .issued = T0,
        .valid_until = T0 + 7 * DAY,
        .rules = rules_blob,
        .rules_len = sizeof rules_blob,
        .hot = golden_hot,
        .hot_count = 3,
        .floors = golden_floors,
        .floor_count = 3,
        .pending = golden_pending,
        .pending_count = 3,
        .names = golden_names,
        .name_count = 6,
        .site = golden_site,
        .cap_day_cents = 5000,
        .cap_sync_cents = 20000,
    };
    return c;
}

/* The golden package with the golden rule set as its rules: what a terminal loads. */
static struct package_contents loadable_contents(void)
{
    struct package_contents c = golden_contents();
    c.rules = golden_set;
    c.rules_len = golden_set_len;
    return c;
}

static struct package_expect expect_for(uint32_t program, uint32_t terminal, uint64_t now)
{
    struct package_expect e = {program, terminal, now, 0, keys, 2};
    return e;
}

/* Signs the body already in buf (len - 64 bytes) and writes the signature. */
static void sign_into(const uint8_t *sk, uint8_t *buf, uint32_t len)
{
    uint8_t msg[PACKAGE_SIGNED_MSG_LEN];
    struct package_source s = {package_memory_read, buf, len};
    assert_int_equal(package_signed_message(crypto_openssl(), &s, len - 64, msg), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(sk, msg, sizeof msg, buf + len - 64), LEAL_OK);
}

/* Encodes and signs c into a malloc'd buffer. */
static uint8_t *build(const struct package_contents *c, const uint8_t *sk, uint32_t *len)
{
    uint8_t msg[PACKAGE_SIGNED_MSG_LEN];
    size_t body;
    uint8_t *buf;
    assert_int_equal(package_encoded_size(c, len), LEAL_OK);
    buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(package_encode_body(crypto_openssl(), c, buf, *len, &body, msg), LEAL_OK);
    assert_int_equal(body, *len - 64);
    assert_int_equal(crypto_openssl_ed25519_sign(sk, msg, sizeof msg, buf + body), LEAL_OK);
    return buf;
}

static leal_err verify_bytes(const uint8_t *buf, uint32_t len, const struct package_expect *e,
                             struct package_info *out)
{
    struct package_source s = {package_memory_read, (void *)(uintptr_t)buf, len};
    return package_verify(crypto_openssl(), &s, e, out);
}

static int setup(void **state)
{
    struct vector_record *v;
    (void)state;
    if (vectors_load("leal_rules_set.txt", &v) != 1)
        return -1;
    golden_set_len = (uint32_t)vectors_hex(&v[0], "SET", golden_set, sizeof golden_set);
    free(v);
    if (golden_set_len != 204)
        return -1;
    if (hex_decode(seed_hex, seed, 32) != 32 || hex_decode(other_seed_hex, other_seed, 32) != 32)
        return -1;
    keys[0].version = 2;
    keys[1].version = 3;
    if (crypto_openssl_ed25519_public(seed, keys[0].public_key) != LEAL_OK ||
        crypto_openssl_ed25519_public(other_seed, keys[1].public_key) != LEAL_OK)
        return -1;
    return 0;
}

static void test_golden(void **state)
{
    struct vector_record *v;
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    struct package_info p;
    static uint8_t want[2048];
    uint32_t len;
    uint8_t *buf;
    size_t n;
    (void)state;
    assert_int_equal(vectors_load("leal_package.txt", &v), 1);
    buf = build(&c, seed, &len);
    if (getenv("LEAL_PRINT_PACKAGE")) {
        static char hex[4200];
        hex_encode(buf, len, hex);
        printf("PACKAGE = %s\n", hex);
    }
    n = vectors_hex(&v[0], "PACKAGE", want, sizeof want);
    assert_int_equal(n, len);
    assert_int_equal(len, 60 + 5 + 3 * 9 + 3 * 28 + 3 * 24 + GOLDEN_NAMES_LEN + 32 + 8 + 64);
    assert_memory_equal(buf, want, len);
    n = vectors_hex(&v[0], "SIGNED_MESSAGE", want, sizeof want);
    {
        uint8_t msg[PACKAGE_SIGNED_MSG_LEN];
        struct package_source s = {package_memory_read, buf, len};
        assert_int_equal(n, PACKAGE_SIGNED_MSG_LEN);
        assert_int_equal(package_signed_message(crypto_openssl(), &s, len - 64, msg), LEAL_OK);
        assert_memory_equal(msg, want, n);
    }
    assert_int_equal(verify_bytes(buf, len, &e, &p), LEAL_OK);
    assert_int_equal(p.format_version, 2);
    assert_int_equal(p.key_version, 2);
    assert_int_equal(p.program_id, 7);
    assert_int_equal(p.terminal_id, 3);
    assert_int_equal(p.version, 5);
    assert_int_equal(p.issued, T0);
    assert_int_equal(p.valid_until, T0 + 7 * DAY);
    assert_int_equal(p.rules_len, 5);
    assert_int_equal(p.rules_offset, 60);
    assert_int_equal(p.hot_count, 3);
    assert_int_equal(p.hot_offset, 65);
    assert_int_equal(p.floor_count, 3);
    assert_int_equal(p.floor_offset, 92);
    assert_int_equal(p.pending_count, 3);
    assert_int_equal(p.pending_offset, 176);
    assert_int_equal(p.names_len, GOLDEN_NAMES_LEN);
    assert_int_equal(p.names_offset, 248);
    assert_int_equal(p.site.store_id, 4);
    assert_int_equal(p.site.classic_purse_cap_cents, 3000);
    assert_memory_equal(&p.site.zone, &golden_site.zone, sizeof golden_site.zone);
    assert_int_equal(p.cap_day_cents, 5000);
    assert_int_equal(p.cap_sync_cents, 20000);
    assert_int_equal(p.size, len);
    free(buf);
    free(v);
}

/* Every single-bit flip of the golden package is refused by the verifier
 * (1,984), and every one of the loadable package by a terminal's load (3,576)
 * while the loaded package stays in force. */
static void test_every_bit_flip(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    static struct package_terminal t;
    struct package_info p;
    uint32_t len;
    uint8_t *buf = build(&c, seed, &len), *old;
    struct package_source s = {package_memory_read, buf, len};
    int refused = 0;
    (void)state;
    for (uint32_t bit = 0; bit < len * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        refused += package_verify(crypto_openssl(), &s, &e, &p) != LEAL_OK;
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(refused, (int)len * 8);
    assert_int_equal(refused, 3552);
    free(buf);
    refused = 0;
    c = loadable_contents();
    buf = build(&c, seed, &len);
    s.ctx = buf;
    s.size = len;
    memset(&t, 0, sizeof t);
    /* An older version is loaded first. */
    c.version = 4;
    old = build(&c, seed, &(uint32_t){0});
    struct package_source olds = {package_memory_read, old, len};
    assert_int_equal(package_load(&t, crypto_openssl(), &olds, &e), LEAL_OK);
    for (uint32_t bit = 0; bit < len * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        leal_err err = package_load(&t, crypto_openssl(), &s, &e);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (err != LEAL_OK)
            refused++;
        else
            fail_msg("bit %u accepted", bit);
        assert_int_equal(t.info.version, 4);
        assert_ptr_equal(t.source.ctx, old);
    }
    assert_int_equal(refused, (int)len * 8);
    assert_int_equal(refused, 5144);
    /* Unflipped, it loads. */
    assert_int_equal(package_load(&t, crypto_openssl(), &s, &e), LEAL_OK);
    assert_int_equal(t.info.version, 5);
    free(buf);
    free(old);
}

static void expect_refused(const uint8_t *buf, uint32_t len, const struct package_expect *e,
                           leal_err want)
{
    static struct package_terminal t, before;
    struct package_contents c = loadable_contents();
    struct package_expect e0 = expect_for(7, 3, T0);
    uint32_t olen;
    uint8_t *old;
    c.version = 1;
    old = build(&c, seed, &olen);
    struct package_source olds = {package_memory_read, old, olen};
    struct package_source s = {package_memory_read, (void *)(uintptr_t)buf, len};
    memset(&t, 0, sizeof t);
    assert_int_equal(package_load(&t, crypto_openssl(), &olds, &e0), LEAL_OK);
    before = t;
    assert_int_equal(package_load(&t, crypto_openssl(), &s, e), want);
    assert_true(t.loaded);
    assert_memory_equal(&t.info, &before.info, sizeof before.info);
    assert_memory_equal(&t.rules, &before.rules, sizeof before.rules);
    assert_ptr_equal(t.source.ctx, old);
    assert_string_not_equal(leal_strerror(want), "unknown error");
    free(old);
}

static void test_refusals(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    struct package_info p;
    uint32_t len;
    uint8_t *buf = build(&c, seed, &len), *big;
    (void)state;

    /* Unknown format version, even signed; format 1 refused as too old. */
    buf[4] = 3;
    sign_into(seed, buf, len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_FORMAT_VERSION);
    buf[4] = 0;
    sign_into(seed, buf, len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_FORMAT_VERSION);
    buf[4] = 1;
    sign_into(seed, buf, len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_FORMAT_OLD);
    buf[4] = 2;
    sign_into(seed, buf, len);
    assert_int_equal(verify_bytes(buf, len, &e, &p), LEAL_OK);

    /* Truncated and oversized (one byte either way), and an empty file. */
    expect_refused(buf, len - 1, &e, LEAL_E_PACKAGE_MALFORMED);
    expect_refused(buf, 59, &e, LEAL_E_PACKAGE_MALFORMED);
    expect_refused(buf, 0, &e, LEAL_E_PACKAGE_MALFORMED);
    big = calloc(1, len + 1);
    memcpy(big, buf, len);
    expect_refused(big, len + 1, &e, LEAL_E_PACKAGE_MALFORMED);
    /* A hot-list count beyond the limit, signed. */
    memcpy(big, buf, len);
    big[40] = 0x7F;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* Reserved header bytes, a names length over the limit, signed. */
    memcpy(big, buf, len);
    big[59] = 1;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    big[53] = 0x40;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* Pending: kinds 0, an unknown kind, upto entry 0, INT32_MIN points. */
    memcpy(big, buf, len);
    big[176 + 20] = 0;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    big[176 + 20] = 0x40;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* At seq (20) guards a change: never alone, never with an allowance. */
    memcpy(big, buf, len);
    big[176 + 20] = PACKAGE_CHANGE_AT_SEQ;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    memcpy(big + 176 + 16, "\0\0\0\x32", 4);
    big[176 + 20] = PACKAGE_CHANGE_QR_ALLOWANCE | PACKAGE_CHANGE_AT_SEQ;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* A QR allowance (kind 10) only alone, points > 0, taps 0: card 5's
     * -50 points, card 5 with another bit, card 9 at taps 2. */
    memcpy(big, buf, len);
    big[176 + 20] = PACKAGE_CHANGE_QR_ALLOWANCE;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    memcpy(big + 176 + 16, "\0\0\0\x32", 4);
    big[176 + 20] = PACKAGE_CHANGE_QR_ALLOWANCE | PACKAGE_CHANGE_ADJUST;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    big[176 + 24 + 20] = PACKAGE_CHANGE_QR_ALLOWANCE;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* The tier bytes (21: tier, 22..23: its period): card 5 as an allowance
     * of 50 points with tier 8 (over 7), tier 2 without a period, a period
     * without a tier; card 9's adjustment with a tier (an allowance's only). */
    static const uint8_t bad_tier[4][3] = {{8, 1, 0x3D}, {2, 0, 0}, {0, 1, 0x3D}, {1, 1, 0x3D}};
    for (unsigned i = 0; i < 4; i++) {
        unsigned at = i < 3 ? 176 : 176 + 24;
        memcpy(big, buf, len);
        if (i < 3) {
            memcpy(big + 176 + 16, "\0\0\0\x32", 4);
            big[176 + 20] = PACKAGE_CHANGE_QR_ALLOWANCE;
        }
        memcpy(big + at + 21, bad_tier[i], 3);
        sign_into(seed, big, len);
        expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    }
    memcpy(big, buf, len);
    big[176 + 15] = 0; /* card 5: up to entry 0 */
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    memcpy(big + 176 + 16, "\x80\0\0\0", 4);
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* Pending out of order (records 0 and 1 swapped). */
    memcpy(big, buf, len);
    memcpy(big + 176, buf + 176 + 24, 24);
    memcpy(big + 176 + 24, buf + 176, 24);
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_UNSORTED);
    /* Names: an overlong encoding of '/', a control character, a length of 0,
     * a record running past the section, two swapped (out of order). */
    memcpy(big, buf, len);
    memcpy(big + 248 + 6 + 5 + 6 + 3 + 6 + 3, "\xc0\xaf", 2); /* "Caf\xc3\xa9" -> "Caf\xc0\xaf" */
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    big[248 + 6] = '\n';
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    big[248 + 5] = 0;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    big[248 + GOLDEN_NAMES_LEN - 14 - 1] = 15; /* the last name one byte longer */
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    memcpy(big + 248, buf + 248 + 11, 9); /* "Oro" before "Plata" */
    memcpy(big + 248 + 9, buf + 248, 11);
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_UNSORTED);
    /* Site: has-DST not 0 or 1; DST rules with no DST; a month 13; an offset
     * beyond 18 hours; a reserved byte. */
    {
        uint32_t site = 248 + GOLDEN_NAMES_LEN;
        static const struct {
            uint32_t at;
            uint8_t v;
        } bad_site[] = {{12, 2}, {12, 0}, {16, 13}, {8, 0x7F}, {13, 1}, {19, 1}, {27, 1}};
        for (size_t i = 0; i < sizeof bad_site / sizeof bad_site[0]; i++) {
            memcpy(big, buf, len);
            big[site + bad_site[i].at] = bad_site[i].v;
            sign_into(seed, big, len);
            expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
        }
    }
    /* A hot-list reason out of range, signed. */
    memcpy(big, buf, len);
    big[65 + 8] = 4;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* Daily cap above the cap between syncs. */
    memcpy(big, buf, len);
    big[len - 64 - 8] = 0x7F;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);

    /* Floor flags: the EV2 flag (bit 1) on a Classic floor (card 9, tag
     * known: 03), and an unknown bit on a DESFire floor (card 5: 04). */
    memcpy(big, buf, len);
    big[92 + 28 + 9] = PACKAGE_FLOOR_TAG_KNOWN | PACKAGE_FLOOR_EV2;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    memcpy(big, buf, len);
    big[92 + 9] = 0x04;
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* (The EV2 flag alone on a DESFire floor loads: terminal_ev2_test's package.) */

    /* Unsorted hot list (records 1 and 2 swapped), and a duplicate floor, signed. */
    memcpy(big, buf, len);
    memcpy(big + 65 + 9, buf + 65 + 18, 9);
    memcpy(big + 65 + 18, buf + 65 + 9, 9);
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_UNSORTED);
    memcpy(big, buf, len);
    memcpy(big + 92 + 28, buf + 92, 8);
    sign_into(seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_UNSORTED);

    /* A key version the terminal does not hold. */
    struct package_expect e1 = e;
    e1.keys = &keys[1];
    e1.nkeys = 1;
    expect_refused(buf, len, &e1, LEAL_E_PACKAGE_KEY_VERSION);
    /* Signed by another key under the version the terminal holds. */
    memcpy(big, buf, len);
    sign_into(other_seed, big, len);
    expect_refused(big, len, &e, LEAL_E_PACKAGE_SIGNATURE);
    /* The signature's last bit. */
    memcpy(big, buf, len);
    big[len - 1] ^= 0x80;
    expect_refused(big, len, &e, LEAL_E_PACKAGE_SIGNATURE);

    struct package_expect e2 = expect_for(8, 3, T0);
    expect_refused(buf, len, &e2, LEAL_E_PACKAGE_PROGRAM);
    e2 = expect_for(7, 4, T0);
    expect_refused(buf, len, &e2, LEAL_E_PACKAGE_TERMINAL);
    /* Valid until its last second; refused from valid_until on. */
    e2 = expect_for(7, 3, T0 + 7 * DAY - 1);
    assert_int_equal(verify_bytes(buf, len, &e2, &p), LEAL_OK);
    e2 = expect_for(7, 3, T0 + 7 * DAY);
    expect_refused(buf, len, &e2, LEAL_E_PACKAGE_EXPIRED);

    /* Versions: lower and equal refused against what is loaded. */
    {
        static struct package_terminal t;
        uint32_t l5, l6, l4;
        c = loadable_contents();
        uint8_t *b5 = build(&c, seed, &l5);
        struct package_source s5 = {package_memory_read, b5, l5};
        c.version = 6;
        uint8_t *b6 = build(&c, seed, &l6);
        c.version = 4;
        uint8_t *b4 = build(&c, seed, &l4);
        struct package_source s6 = {package_memory_read, b6, l6};
        struct package_source s4 = {package_memory_read, b4, l4};
        assert_int_equal(package_load(&t, crypto_openssl(), &s5, &e), LEAL_OK);
        assert_int_equal(package_load(&t, crypto_openssl(), &s4, &e), LEAL_E_PACKAGE_OLDER);
        assert_int_equal(t.info.version, 5);
        assert_int_equal(package_load(&t, crypto_openssl(), &s5, &e), LEAL_E_PACKAGE_SAME);
        assert_int_equal(t.info.version, 5);
        assert_int_equal(package_load(&t, crypto_openssl(), &s6, &e), LEAL_OK);
        assert_int_equal(t.info.version, 6);
        assert_ptr_equal(t.source.ctx, b6);
        free(b6);
        free(b5);
        free(b4);
    }
    /* The encoder refuses what the verifier would. */
    {
        struct package_hot h[2] = {{9, 1}, {9, 2}};
        struct package_contents bad = golden_contents();
        uint32_t sz;
        bad.hot = h;
        bad.hot_count = 2;
        assert_int_equal(package_encoded_size(&bad, &sz), LEAL_E_PACKAGE_UNSORTED);
        bad = golden_contents();
        bad.valid_until = bad.issued;
        assert_int_equal(package_encoded_size(&bad, &sz), LEAL_E_PACKAGE_MALFORMED);
        struct package_name nm[2] = {golden_names[1], golden_names[0]};
        bad = golden_contents();
        bad.names = nm;
        bad.name_count = 2;
        assert_int_equal(package_encoded_size(&bad, &sz), LEAL_E_PACKAGE_UNSORTED);
        nm[0].len = 0;
        assert_int_equal(package_encoded_size(&bad, &sz), LEAL_E_PACKAGE_MALFORMED);
        bad = golden_contents();
        bad.site.zone.has_dst = false;
        assert_int_equal(package_encoded_size(&bad, &sz), LEAL_E_PACKAGE_MALFORMED);
    }
    free(big);
    free(buf);
}

/* A terminal's loaded rules are the set's version, bono count and program
 * (its bono kinds are checked, not kept: rules_codec_decode_program). */
static void assert_rules_are(const struct rules_versioned *run, const struct rules_set *set)
{
    assert_int_equal(run->version, set->version);
    assert_int_equal(run->n_bonos, set->n_bonos);
    assert_memory_equal(&run->program, &set->program, sizeof run->program);
}

/* The loadable golden package (tests/vectors/leal_package_rules.txt): the
 * golden package with the golden rule set (204 bytes) as its rules, 447 bytes;
 * a terminal loads it and runs the rule set it carries. */
static void test_golden_loadable(void **state)
{
    struct vector_record *v;
    struct package_contents c = loadable_contents();
    struct package_expect e = expect_for(7, 3, T0);
    static struct package_terminal t;
    struct rules_set want_set;
    static uint8_t want[2048];
    uint32_t len;
    uint8_t *buf;
    size_t n;
    (void)state;
    assert_int_equal(vectors_load("leal_package_rules.txt", &v), 1);
    buf = build(&c, seed, &len);
    if (getenv("LEAL_PRINT_PACKAGE")) {
        static char hex[4200];
        hex_encode(buf, len, hex);
        printf("PACKAGE = %s\n", hex);
    }
    n = vectors_hex(&v[0], "PACKAGE", want, sizeof want);
    assert_int_equal(len, 60 + 204 + 3 * 9 + 3 * 28 + 3 * 24 + GOLDEN_NAMES_LEN + 32 + 8 + 64);
    assert_int_equal(n, len);
    assert_memory_equal(buf, want, len);
    struct package_source s = {package_memory_read, buf, len};
    {
        uint8_t msg[PACKAGE_SIGNED_MSG_LEN];
        n = vectors_hex(&v[0], "SIGNED_MESSAGE", want, sizeof want);
        assert_int_equal(n, PACKAGE_SIGNED_MSG_LEN);
        assert_int_equal(package_signed_message(crypto_openssl(), &s, len - 64, msg), LEAL_OK);
        assert_memory_equal(msg, want, n);
    }
    memset(&t, 0, sizeof t);
    assert_int_equal(package_load(&t, crypto_openssl(), &s, &e), LEAL_OK);
    assert_int_equal(t.info.rules_len, 204);
    assert_int_equal(rules_codec_decode(golden_set, golden_set_len, &want_set, NULL), LEAL_OK);
    assert_rules_are(&t.rules, &want_set);
    assert_int_equal(t.rules.version, 3);
    assert_int_equal(t.rules.program.welcome_points, 50);
    assert_int_equal(t.rules.program.n_tiers, 2);
    assert_int_equal(t.rules.program.n_rules, 2);
    assert_int_equal(t.rules.program.rules[1].categories[0], 3);
    assert_int_equal(t.rules.n_bonos, 1);
    free(buf);
    free(v);
}

/* A package signed over a rule set that does not decode is refused by a
 * terminal's load (LEAL_E_PACKAGE_RULES) with the loaded package and rules
 * kept: the golden package's 5 opaque bytes, no rules at all, a rule set of an
 * unknown format version, one byte more than the largest encoding; and every
 * single-bit flip of the rules section, re-signed, is loaded exactly when the
 * flipped set still decodes (then the terminal runs that set), refused
 * otherwise. */
static void test_rules_refused(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    static struct package_terminal t, before;
    static uint8_t big[RULES_CODEC_MAX_LEN + 1];
    struct package_info p;
    struct rules_set flipped;
    uint32_t len, l4;
    uint8_t *buf = build(&c, seed, &len), *b4;
    int loaded = 0, refused = 0;
    (void)state;
    assert_int_equal(verify_bytes(buf, len, &e, &p), LEAL_OK); /* the verifier: opaque */
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_RULES);
    free(buf);
    c.rules = NULL;
    c.rules_len = 0;
    buf = build(&c, seed, &len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_RULES);
    free(buf);
    memcpy(big, golden_set, golden_set_len);
    big[0] = 2; /* rules format version 2 */
    c.rules = big;
    c.rules_len = golden_set_len;
    buf = build(&c, seed, &len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_RULES);
    free(buf);
    c.rules_len = RULES_CODEC_MAX_LEN + 1;
    buf = build(&c, seed, &len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_RULES);
    free(buf);

    c = loadable_contents();
    c.version = 4;
    b4 = build(&c, seed, &l4);
    c.version = 5;
    buf = build(&c, seed, &len);
    struct package_source s4 = {package_memory_read, b4, l4};
    struct package_source s = {package_memory_read, buf, len};
    memset(&t, 0, sizeof t);
    assert_int_equal(package_load(&t, crypto_openssl(), &s4, &e), LEAL_OK);
    before = t;
    for (uint32_t bit = 0; bit < golden_set_len * 8; bit++) {
        uint8_t *at = buf + PACKAGE_HEADER_LEN + bit / 8;
        bool decodes;
        *at ^= (uint8_t)(1u << (bit % 8));
        sign_into(seed, buf, len);
        decodes = rules_codec_decode(at - bit / 8, golden_set_len, &flipped, NULL) == LEAL_OK;
        t = before;
        leal_err err = package_load(&t, crypto_openssl(), &s, &e);
        if (decodes) {
            assert_int_equal(err, LEAL_OK);
            assert_rules_are(&t.rules, &flipped);
            loaded++;
        } else {
            assert_int_equal(err, LEAL_E_PACKAGE_RULES);
            assert_memory_equal(&t, &before, sizeof before);
            refused++;
        }
        *at ^= (uint8_t)(1u << (bit % 8));
    }
    print_message("rules section flips, re-signed: %d refused, %d loaded (another valid set)\n",
                  refused, loaded);
    assert_int_equal(refused, 555);
    assert_int_equal(loaded, 1077); /* 1,632 flips of 204 bytes */
    free(buf);
    free(b4);
}

/* package_load_into (the scratch load of package_store): from a scratch full
 * of garbage, the loadable golden package loads with the rules, info and
 * source package_load gives; refused as the version in force
 * (LEAL_E_PACKAGE_SAME, from e, not from the scratch), with opaque rules
 * (LEAL_E_PACKAGE_RULES) and with a bad signature, the scratch is left
 * unloaded. */
static void test_load_into(void **state)
{
    struct package_contents c = loadable_contents();
    struct package_expect e = expect_for(7, 3, T0);
    static struct package_terminal t, into;
    uint32_t len;
    uint8_t *buf = build(&c, seed, &len);
    struct package_source s = {package_memory_read, buf, len};
    (void)state;
    memset(&t, 0, sizeof t);
    assert_int_equal(package_load(&t, crypto_openssl(), &s, &e), LEAL_OK);
    memset(&into, 0xa5, sizeof into);
    assert_int_equal(package_load_into(&into, crypto_openssl(), &s, &e), LEAL_OK);
    assert_true(into.loaded);
    assert_memory_equal(&into.rules, &t.rules, sizeof t.rules);
    assert_int_equal(into.info.version, t.info.version);
    assert_int_equal(into.info.rules_offset, PACKAGE_HEADER_LEN);
    assert_int_equal(into.info.rules_len, 204);
    assert_int_equal(into.info.size, len);
    assert_int_equal(into.info.cap_day_cents, t.info.cap_day_cents);
    assert_ptr_equal(into.source.read, package_memory_read);
    assert_ptr_equal(into.source.ctx, buf);
    assert_int_equal(into.source.size, len);

    e.loaded_version = t.info.version;
    assert_int_equal(package_load_into(&into, crypto_openssl(), &s, &e), LEAL_E_PACKAGE_SAME);
    assert_false(into.loaded);
    e.loaded_version = 0;
    buf[len - 1] ^= 0x01;
    into.loaded = true;
    assert_int_equal(package_load_into(&into, crypto_openssl(), &s, &e), LEAL_E_PACKAGE_SIGNATURE);
    assert_false(into.loaded);
    free(buf);

    c = golden_contents(); /* its rules: 5 opaque bytes */
    buf = build(&c, seed, &len);
    s = (struct package_source){package_memory_read, buf, len};
    into.loaded = true;
    assert_int_equal(package_load_into(&into, crypto_openssl(), &s, &e), LEAL_E_PACKAGE_RULES);
    assert_false(into.loaded);
    assert_int_equal(package_load_into(NULL, crypto_openssl(), &s, &e), LEAL_E_ARG);
    free(buf);
}

/* package_rules_in (package_store_load's check, where the package lies in
 * memory): the rule set package_rules reads from a source, from the bytes
 * themselves; the opaque rules of the golden package refused as
 * LEAL_E_PACKAGE_RULES, as package_rules refuses them. */
static void test_rules_in(void **state)
{
    struct package_contents c = loadable_contents();
    struct package_expect e = expect_for(7, 3, T0);
    static struct rules_versioned from_source, in_place;
    struct package_info info;
    uint32_t len;
    uint8_t *buf = build(&c, seed, &len);
    struct package_source s = {package_memory_read, buf, len};
    (void)state;
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &info), LEAL_OK);
    assert_int_equal(package_rules(&info, &s, &from_source), LEAL_OK);
    memset(&in_place, 0xa5, sizeof in_place);
    assert_int_equal(package_rules_in(&info, buf, &in_place), LEAL_OK);
    assert_memory_equal(&in_place, &from_source, sizeof in_place);
    assert_int_equal(package_rules_in(NULL, buf, &in_place), LEAL_E_ARG);
    assert_int_equal(package_rules_in(&info, NULL, &in_place), LEAL_E_ARG);
    info.rules_len = RULES_CODEC_MAX_LEN + 1;
    assert_int_equal(package_rules_in(&info, buf, &in_place), LEAL_E_PACKAGE_RULES);
    free(buf);

    c = golden_contents(); /* its rules: 5 opaque bytes */
    buf = build(&c, seed, &len);
    s = (struct package_source){package_memory_read, buf, len};
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &info), LEAL_OK);
    assert_int_equal(package_rules(&info, &s, &from_source), LEAL_E_PACKAGE_RULES);
    assert_int_equal(package_rules_in(&info, buf, &in_place), LEAL_E_PACKAGE_RULES);
    free(buf);
}

/* Lookups in the golden lists: both ends, the middle, misses around them. */
static void test_lookup_golden(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    struct package_info p;
    struct package_floor f;
    uint32_t len;
    uint8_t *buf = build(&c, seed, &len), reason = 0;
    struct package_source s = {package_memory_read, buf, len};
    bool found;
    (void)state;
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &p), LEAL_OK);
    static const struct {
        uint64_t id;
        bool found;
        uint8_t reason;
    } hot[] = {{1, false, 0},
               {4, false, 0},
               {5, true, 1},
               {6, false, 0},
               {17, true, 2},
               {18, false, 0},
               {0x0102030405060708u, true, 3},
               {0x0102030405060709u, false, 0},
               {UINT64_MAX, false, 0},
               {0, false, 0}};
    for (size_t i = 0; i < sizeof hot / sizeof hot[0]; i++) {
        reason = 0;
        assert_int_equal(package_hot_find(&p, &s, hot[i].id, &found, &reason), LEAL_OK);
        assert_int_equal(found, hot[i].found);
        if (found)
            assert_int_equal(reason, hot[i].reason);
    }
    assert_int_equal(package_floor_find(&p, &s, 5, &found, &f), LEAL_OK);
    assert_true(found);
    assert_int_equal(f.kind, PACKAGE_FLOOR_DESFIRE);
    assert_int_equal(f.taps, 12);
    assert_int_equal(package_floor_find(&p, &s, 9, &found, &f), LEAL_OK);
    assert_true(found);
    assert_int_equal(f.kind, PACKAGE_FLOOR_CLASSIC);
    assert_int_equal(f.flags, PACKAGE_FLOOR_TAG_KNOWN);
    assert_int_equal(f.taps, 3);
    assert_int_equal(f.seq, 4);
    assert_memory_equal(f.tag, golden_floors[1].tag, 8);
    assert_int_equal(package_floor_find(&p, &s, 0x7FFFFFFFFFFFFFFFu, &found, &f), LEAL_OK);
    assert_true(found);
    assert_int_equal(f.taps, 0x7FFFFFFE);
    static const uint64_t miss[] = {
        0, 4, 6, 8, 10, 0x7FFFFFFFFFFFFFFEu, 0x8000000000000000u, UINT64_MAX};
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        assert_int_equal(package_floor_find(&p, &s, miss[i], &found, &f), LEAL_OK);
        assert_false(found);
    }
    free(buf);
}

/* A floor with the Transaction MAC flag carries in bytes 16..19 the highest
 * TMC the host proved (PACKAGE.md): encoded there, read back by
 * package_floor_tmc; those bytes set on a floor without the flag are refused (as a seq
 * without a tag), and so is the flag with a tag, in the verifier and in the
 * encoder alike. */
static void test_floor_tmc(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    struct package_floor fl[3], f;
    struct package_info p;
    uint32_t len, sz;
    uint8_t *buf;
    bool found = false;
    (void)state;
    memcpy(fl, golden_floors, sizeof fl);
    fl[0].flags = PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC;
    fl[0].seq = 0x01020304;
    c.floors = fl;
    buf = build(&c, seed, &len);
    assert_int_equal(len, 444);
    static const uint8_t rec[28] = {0, 0,  0, 0, 0, 0, 0, 5, 1, 6, 0, 0, 0, 0,
                                    0, 12, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(buf + 92, rec, sizeof rec);
    struct package_source s = {package_memory_read, buf, len};
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &p), LEAL_OK);
    assert_int_equal(package_floor_find(&p, &s, 5, &found, &f), LEAL_OK);
    assert_true(found);
    assert_int_equal(f.flags, PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC);
    assert_int_equal(f.taps, 12);
    assert_int_equal(package_floor_tmc(&f), 0x01020304);
    /* the TMC bytes without the flag (bit 2 cleared), signed */
    buf[92 + 9] = PACKAGE_FLOOR_EV2;
    sign_into(seed, buf, len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_MALFORMED);
    /* the flag with a tag */
    buf[92 + 9] = PACKAGE_FLOOR_TAG_KNOWN | PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC;
    sign_into(seed, buf, len);
    expect_refused(buf, len, &e, LEAL_E_PACKAGE_MALFORMED);
    free(buf);
    /* the encoder: a TMC on a floor without the flag; the flag with a tag */
    fl[0].flags = PACKAGE_FLOOR_EV2;
    assert_int_equal(package_encoded_size(&c, &sz), LEAL_E_PACKAGE_MALFORMED);
    fl[0].flags = PACKAGE_FLOOR_TAG_KNOWN | PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC;
    assert_int_equal(package_encoded_size(&c, &sz), LEAL_E_PACKAGE_MALFORMED);
    fl[0].flags = PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC;
    assert_int_equal(package_encoded_size(&c, &sz), LEAL_OK);
    assert_int_equal(sz, 444);
}

/* Larger lists (and empty ones): every id from 0 to past the end, found
 * exactly when listed. */
static void test_lookup_many(void **state)
{
    enum { N = 3001 };
    struct package_hot *hot = calloc(N, sizeof *hot);
    struct package_floor *fl = calloc(N, sizeof *fl);
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    struct package_info p;
    uint32_t len;
    uint8_t *buf, reason;
    bool found;
    struct package_floor f;
    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        hot[i].card_id = 3u * i + 2; /* 2, 5, 8, ... */
        hot[i].reason = (uint8_t)(1 + i % 3);
        fl[i].card_id = 3u * i + 1; /* 1, 4, 7, ... */
        fl[i].kind = PACKAGE_FLOOR_DESFIRE;
        fl[i].taps = i;
    }
    c.hot = hot;
    c.hot_count = N;
    c.floors = fl;
    c.floor_count = N;
    buf = build(&c, seed, &len);
    struct package_source s = {package_memory_read, buf, len};
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &p), LEAL_OK);
    for (uint64_t id = 0; id <= 3u * N + 3; id++) {
        assert_int_equal(package_hot_find(&p, &s, id, &found, &reason), LEAL_OK);
        assert_int_equal(found, id % 3 == 2 && id < 3u * N);
        if (found)
            assert_int_equal(reason, 1 + (id / 3) % 3);
        assert_int_equal(package_floor_find(&p, &s, id, &found, &f), LEAL_OK);
        assert_int_equal(found, id % 3 == 1 && id < 3u * N);
        if (found)
            assert_int_equal(f.taps, id / 3);
    }
    free(buf);
    /* Empty lists, no names and no rules. */
    c.hot_count = 0;
    c.floor_count = 0;
    c.pending_count = 0;
    c.name_count = 0;
    c.rules_len = 0;
    c.rules = NULL;
    buf = build(&c, seed, &len);
    assert_int_equal(len, 60 + 32 + 8 + 64);
    struct package_source s0 = {package_memory_read, buf, len};
    assert_int_equal(package_verify(crypto_openssl(), &s0, &e, &p), LEAL_OK);
    assert_int_equal(package_hot_find(&p, &s0, 5, &found, &reason), LEAL_OK);
    assert_false(found);
    assert_int_equal(package_floor_find(&p, &s0, 5, &found, &f), LEAL_OK);
    assert_false(found);
    free(buf);
    free(hot);
    free(fl);
}

/* package_parse_header: the golden package's header and offsets as the
 * whole parse gives them, in one 60-byte read; a list out of order (which
 * package_parse refuses) is not read; a byte cut off or added, a bad magic
 * or format are refused as by the whole parse. */
static unsigned header_reads;
static leal_err counting_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    header_reads++;
    return package_memory_read(ctx, offset, out, len);
}

static void test_parse_header(void **state)
{
    struct package_contents c = golden_contents();
    struct package_info whole, hdr;
    uint32_t len;
    uint8_t *buf;
    (void)state;
    buf = build(&c, seed, &len);
    struct package_source s = {counting_read, buf, len};
    assert_int_equal(package_parse(&s, &whole), LEAL_OK);
    header_reads = 0;
    assert_int_equal(package_parse_header(&s, &hdr), LEAL_OK);
    assert_int_equal(header_reads, 1);
    assert_int_equal(hdr.program_id, 7);
    assert_int_equal(hdr.terminal_id, 3);
    assert_int_equal(hdr.version, 5);
    assert_int_equal(hdr.issued, T0);
    assert_int_equal(hdr.valid_until, T0 + 7 * DAY);
    assert_int_equal(hdr.size, len);
    assert_int_equal(hdr.names_offset, whole.names_offset);
    assert_int_equal(hdr.floor_offset, whole.floor_offset);
    assert_int_equal(hdr.cap_day_cents, 0); /* not read */
    /* The hot list's first two card ids swapped: unsorted for the whole parse only. */
    {
        uint8_t rec[PACKAGE_HOT_RECORD_LEN];
        memcpy(rec, buf + whole.hot_offset, sizeof rec);
        memcpy(buf + whole.hot_offset, buf + whole.hot_offset + sizeof rec, sizeof rec);
        memcpy(buf + whole.hot_offset + sizeof rec, rec, sizeof rec);
        assert_int_equal(package_parse(&s, &whole), LEAL_E_PACKAGE_UNSORTED);
        assert_int_equal(package_parse_header(&s, &hdr), LEAL_OK);
    }
    s.size = len - 1;
    assert_int_equal(package_parse_header(&s, &hdr), LEAL_E_PACKAGE_MALFORMED);
    s.size = len + 1;
    assert_int_equal(package_parse_header(&s, &hdr), LEAL_E_PACKAGE_MALFORMED);
    s.size = 59;
    assert_int_equal(package_parse_header(&s, &hdr), LEAL_E_PACKAGE_MALFORMED);
    s.size = len;
    buf[4] = 1;
    assert_int_equal(package_parse_header(&s, &hdr), LEAL_E_PACKAGE_FORMAT_OLD);
    buf[4] = 2;
    buf[0] ^= 1;
    assert_int_equal(package_parse_header(&s, &hdr), LEAL_E_PACKAGE_MALFORMED);
    assert_int_equal(package_parse_header(NULL, &hdr), LEAL_E_ARG);
    free(buf);
}

/* A QR allowance record with the account's tier: bytes 21..23 are the
 * tier and its period, read back as written. */
static void test_allowance_tier(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    static const struct package_pending rec = {5, 0, 1, 50, PACKAGE_CHANGE_QR_ALLOWANCE, 2, 317, 0};
    struct package_info p;
    struct package_pending pc;
    uint32_t len;
    bool found;
    (void)state;
    c.pending = &rec;
    c.pending_count = 1;
    uint8_t *buf = build(&c, seed, &len);
    struct package_source s = {package_memory_read, buf, len};
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &p), LEAL_OK);
    assert_memory_equal(buf + p.pending_offset + 20, "\x10\x02\x01\x3D", 4);
    assert_int_equal(package_pending_find(&p, &s, 5, &found, &pc), LEAL_OK);
    assert_true(found);
    assert_int_equal(pc.points, 50);
    assert_int_equal(pc.kinds, PACKAGE_CHANGE_QR_ALLOWANCE);
    assert_int_equal(pc.tier, 2);
    assert_int_equal(pc.tier_period, 317);
    free(buf);
}

/* A record marked at seq (PACKAGE.md "Exactly once"): bytes 21..23 are the
 * state seq's low 24 bits, read back as written, tier and period 0; the
 * builder refuses a seq above 24 bits, a seq without the mark, the mark
 * alone or with an allowance. */
static void test_pending_at_seq(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    struct package_pending rec = {5, 3, 1,       40, PACKAGE_CHANGE_ADJUST | PACKAGE_CHANGE_AT_SEQ,
                                  0, 0, 0xABCDEF};
    struct package_info p;
    struct package_pending pc;
    uint32_t len;
    bool found;
    (void)state;
    c.pending = &rec;
    c.pending_count = 1;
    uint8_t *buf = build(&c, seed, &len);
    struct package_source s = {package_memory_read, buf, len};
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &p), LEAL_OK);
    assert_memory_equal(buf + p.pending_offset + 8, "\0\0\0\x03", 4);
    assert_memory_equal(buf + p.pending_offset + 20, "\x21\xAB\xCD\xEF", 4);
    assert_int_equal(package_pending_find(&p, &s, 5, &found, &pc), LEAL_OK);
    assert_true(found);
    assert_int_equal(pc.taps, 3);
    assert_int_equal(pc.points, 40);
    assert_int_equal(pc.kinds, PACKAGE_CHANGE_ADJUST | PACKAGE_CHANGE_AT_SEQ);
    assert_int_equal(pc.seq, 0xABCDEF);
    assert_int_equal(pc.tier, 0);
    assert_int_equal(pc.tier_period, 0);
    free(buf);
    static const struct package_pending bad[4] = {
        {5, 3, 1, 40, PACKAGE_CHANGE_ADJUST | PACKAGE_CHANGE_AT_SEQ, 0, 0, 0x1000000},
        {5, 3, 1, 40, PACKAGE_CHANGE_ADJUST, 0, 0, 7},
        {5, 3, 1, 40, PACKAGE_CHANGE_AT_SEQ, 0, 0, 7},
        {5, 0, 1, 40, PACKAGE_CHANGE_QR_ALLOWANCE | PACKAGE_CHANGE_AT_SEQ, 0, 0, 7}};
    for (unsigned i = 0; i < 4; i++) {
        c.pending = &bad[i];
        assert_int_equal(package_encoded_size(&c, &len), LEAL_E_PACKAGE_MALFORMED);
    }
}

/* Pending changes and names of the golden package: found where listed, with
 * what they say; misses around them. */
static void test_pending_and_names(void **state)
{
    struct package_contents c = golden_contents();
    struct package_expect e = expect_for(7, 3, T0);
    struct package_info p;
    struct package_pending pc;
    struct package_name m;
    uint32_t len, cursor = 0, n = 0;
    uint8_t *buf = build(&c, seed, &len);
    struct package_source s = {package_memory_read, buf, len};
    bool found;
    (void)state;
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &p), LEAL_OK);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(package_pending_find(&p, &s, golden_pending[i].card_id, &found, &pc),
                         LEAL_OK);
        assert_true(found);
        assert_int_equal(pc.taps, golden_pending[i].taps);
        assert_int_equal(pc.upto_entry, golden_pending[i].upto_entry);
        assert_int_equal(pc.points, golden_pending[i].points);
        assert_int_equal(pc.kinds, golden_pending[i].kinds);
    }
    assert_int_equal(pc.points, -30);
    assert_int_equal(pc.tier, 0);
    assert_int_equal(pc.tier_period, 0);
    static const uint64_t miss[] = {0, 4, 6, 17, 0x7FFFFFFFFFFFFFFEu, UINT64_MAX};
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        assert_int_equal(package_pending_find(&p, &s, miss[i], &found, &pc), LEAL_OK);
        assert_false(found);
    }
    while (package_name_next(&p, &s, &cursor, &m) == LEAL_OK) {
        assert_true(n < 6);
        assert_int_equal(m.kind, golden_names[n].kind);
        assert_int_equal(m.item, golden_names[n].item);
        assert_string_equal(m.text, golden_names[n].text);
        n++;
    }
    assert_int_equal(n, 6);
    assert_int_equal(cursor, GOLDEN_NAMES_LEN);
    assert_int_equal(package_name_find(&p, &s, PACKAGE_NAME_REWARD, 3, &found, &m), LEAL_OK);
    assert_true(found);
    assert_string_equal(m.text, "Caf\xc3\xa9 gratis");
    assert_int_equal(package_name_find(&p, &s, PACKAGE_NAME_STORE, 4, &found, &m), LEAL_OK);
    assert_true(found);
    assert_int_equal(m.len, 14);
    assert_int_equal(package_name_find(&p, &s, PACKAGE_NAME_REWARD, 4, &found, &m), LEAL_OK);
    assert_false(found);
    assert_int_equal(package_name_find(&p, &s, PACKAGE_NAME_TIER, 3, &found, &m), LEAL_OK);
    assert_false(found);
    assert_int_equal(package_name_find(&p, &s, PACKAGE_NAME_STORE, 5, &found, &m), LEAL_OK);
    assert_false(found);
    free(buf);
}

/* UTF-8 names: what a till may show, at the edges of the encoding. */
static void test_name_text(void **state)
{
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"a", true},
        {"\xc2\xa0", true},          /* U+00A0, the first after C1 */
        {"\xc2\x9f", false},         /* U+009F: a C1 control */
        {"\xdf\xbf", true},          /* U+07FF */
        {"\xe0\xa0\x80", true},      /* U+0800 */
        {"\xe0\x9f\xbf", false},     /* overlong U+07FF */
        {"\xed\x9f\xbf", true},      /* U+D7FF */
        {"\xed\xa0\x80", false},     /* U+D800, a surrogate */
        {"\xf0\x90\x80\x80", true},  /* U+10000 */
        {"\xf0\x8f\xbf\xbf", false}, /* overlong U+FFFF */
        {"\xf4\x8f\xbf\xbf", true},  /* U+10FFFF */
        {"\xf4\x90\x80\x80", false}, /* beyond U+10FFFF */
        {"\xc3", false},             /* truncated */
        {"a\x7f", false},            /* DEL */
        {"\x1f", false},
        {"\x80", false},
        {"\xc1\xbf", false},
        {"\xf5\x80\x80\x80", false},
    };
    char max[PACKAGE_NAME_MAX + 2];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (package_name_text_ok((const uint8_t *)cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu", i);
    memset(max, 'x', sizeof max);
    assert_true(package_name_text_ok((const uint8_t *)max, PACKAGE_NAME_MAX));
    assert_false(package_name_text_ok((const uint8_t *)max, PACKAGE_NAME_MAX + 1));
    assert_false(package_name_text_ok((const uint8_t *)max, 0));
}

/* Europe/Madrid's offsets around the 2026 transitions (last Sunday of March
 * at 01:00 UTC, of October at 01:00 UTC), a leap day, and a zone without
 * daylight saving; the southern wrap (start after end in the year). */
static void test_local_offset(void **state)
{
    static const struct {
        uint64_t utc;
        int16_t minutes;
    } madrid[] = {
        {1774745999u, 60}, {1774746000u, 120}, {1792889999u, 120},
        {1792890000u, 60}, {1709208000u, 60},  {1780000000u, 120},
        {0, 60},
    };
    struct package_zone z = golden_site.zone, flat = {-300, -300, false, {0}, {0}};
    /* Australia/Sydney: AEST-10AEDT,M10.1.0,M4.1.0/3. */
    struct package_zone syd = {600, 660, true, {10, 1, 0, 7200}, {4, 1, 0, 10800}};
    int16_t m;
    (void)state;
    for (size_t i = 0; i < sizeof madrid / sizeof madrid[0]; i++) {
        assert_int_equal(package_local_offset(&z, madrid[i].utc, &m), LEAL_OK);
        if (m != madrid[i].minutes)
            fail_msg("utc %llu: %d, want %d", (unsigned long long)madrid[i].utc, m,
                     madrid[i].minutes);
    }
    assert_int_equal(package_local_offset(&flat, 1780000000u, &m), LEAL_OK);
    assert_int_equal(m, -300);
    /* 2026-04-04 15:59:59 UTC is 03:00 AEDT less a second, then AEST; 2026-10-03
     * 16:00:00 UTC is 02:00 AEST: AEDT from then on. */
    assert_int_equal(package_local_offset(&syd, 1775318399u, &m), LEAL_OK);
    assert_int_equal(m, 660);
    assert_int_equal(package_local_offset(&syd, 1775318400u, &m), LEAL_OK);
    assert_int_equal(m, 600);
    assert_int_equal(package_local_offset(&syd, 1791043199u, &m), LEAL_OK);
    assert_int_equal(m, 600);
    assert_int_equal(package_local_offset(&syd, 1791043200u, &m), LEAL_OK);
    assert_int_equal(m, 660);
    z.start.month = 13;
    assert_int_equal(package_local_offset(&z, 0, &m), LEAL_E_ARG);
}

/* A read callback's failure is passed through, never taken as a miss. */
static leal_err failing_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    (void)ctx;
    (void)offset;
    (void)out;
    (void)len;
    return LEAL_E_IO;
}

static void test_read_error(void **state)
{
    struct package_info p = {0};
    struct package_source s = {failing_read, NULL, 1000};
    struct package_expect e = expect_for(7, 3, T0);
    struct package_floor f;
    bool found = true;
    uint8_t reason;
    (void)state;
    assert_int_equal(package_verify(crypto_openssl(), &s, &e, &p), LEAL_E_IO);
    p.hot_count = 10;
    p.hot_offset = 60;
    p.floor_count = 10;
    p.floor_offset = 200;
    assert_int_equal(package_hot_find(&p, &s, 5, &found, &reason), LEAL_E_IO);
    assert_false(found);
    found = true;
    assert_int_equal(package_floor_find(&p, &s, 5, &found, &f), LEAL_E_IO);
    assert_false(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_lookup_golden),
        cmocka_unit_test(test_floor_tmc), /* a Transaction MAC floor's TMC */
        cmocka_unit_test(test_lookup_many),
        cmocka_unit_test(test_parse_header),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_golden_loadable),
        cmocka_unit_test(test_rules_refused),
        cmocka_unit_test(test_load_into),
        cmocka_unit_test(test_rules_in), /* package_store_load's check in memory */
        cmocka_unit_test(test_pending_and_names),
        cmocka_unit_test(test_allowance_tier),
        cmocka_unit_test(test_pending_at_seq),
        cmocka_unit_test(test_name_text),
        cmocka_unit_test(test_local_offset),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
