/* package_store_test.c - the terminal package in two copies
 * (firmware/port/posix/package_store.h) on RAM storage with power cuts: the
 * copies alternate and the newer valid one wins after a restart; refused
 * packages write nothing; a load cut at every byte of its work (each erased
 * and each programmed byte), with the byte at the cut kept or flipped,
 * leaves the package that was in force (or, cut after its last byte, the
 * new one), never none. Packages signed with real OpenSSL, verified by the
 * portable provider as leal-terminal verifies them (the 10,000 torn loads by
 * OpenSSL's, for time: the providers agree, portable_diff_test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/port/posix/package_store.h"
#include "firmware/port/posix/ram_storage.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"
#include "tests/lib/testutil.h"

#define UNIT 512u
#define UNITS 4u /* two copies of 2 units: a package of 600+ bytes crosses a unit */
#define T0 1796000000ull
#define DAY 86400ull
#define HOT 40u

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out;
    (void)n;
    return LEAL_E_RANDOM;
}
static const struct crypto_provider portable = CRYPTO_PORTABLE_PROVIDER(no_random);

static const char *seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *other_hex = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
static uint8_t seed[32], other_seed[32];
static struct package_key key;
static uint8_t rules[RULES_CODEC_MAX_LEN];
static uint32_t rules_len;
static struct package_hot hot[HOT];
static uint8_t mem[UNIT * UNITS];
static uint8_t *torn_pkg;
static uint32_t torn_len;

/* Package version v, signed with sk, valid from T0 for days. */
static uint8_t *build(uint32_t v, const uint8_t *sk, uint64_t days, uint32_t *len)
{
    struct package_contents c = {
        .key_version = 2,
        .program_id = 7,
        .terminal_id = 3,
        .version = v,
        .issued = T0,
        .valid_until = T0 + days * DAY,
        .rules = rules,
        .rules_len = rules_len,
        .hot = hot,
        .hot_count = HOT,
        .cap_day_cents = 5000,
        .cap_sync_cents = 20000,
    };
    uint8_t msg[PACKAGE_SIGNED_MSG_LEN];
    size_t body;
    uint8_t *buf;
    assert_int_equal(package_encoded_size(&c, len), LEAL_OK);
    buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(package_encode_body(crypto_openssl(), &c, buf, *len, &body, msg), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(sk, msg, sizeof msg, buf + body), LEAL_OK);
    return buf;
}

static struct package_expect expect_at(uint64_t now)
{
    struct package_expect e = {7, 3, now, 0, &key, 1};
    return e;
}

static int setup(void **state)
{
    struct vector_record *v;
    (void)state;
    if (vectors_load("leal_rules_set.txt", &v) != 1)
        return -1;
    rules_len = (uint32_t)vectors_hex(&v[0], "SET", rules, sizeof rules);
    free(v);
    if (hex_decode(seed_hex, seed, 32) != 32 || hex_decode(other_hex, other_seed, 32) != 32)
        return -1;
    key.version = 2;
    if (crypto_openssl_ed25519_public(seed, key.public_key) != LEAL_OK)
        return -1;
    for (uint32_t i = 0; i < HOT; i++)
        hot[i] = (struct package_hot){1000 + 7 * (uint64_t)i, PACKAGE_HOT_BLOCKED};
    return 0;
}

/* A restart: a new store over the same bytes, the winner chosen again. */
static uint32_t restart_with(const struct crypto_provider *cp, const struct port_storage *st,
                             unsigned *copies)
{
    struct package_store ps;
    struct package_terminal t;
    struct package_expect e = expect_at(T0 + 60);
    memset(&t, 0, sizeof t);
    assert_int_equal(package_store_init(&ps, st), LEAL_OK);
    assert_int_equal(package_store_select(&ps, cp, &e, &t, copies), LEAL_OK);
    return t.loaded ? t.info.version : 0;
}

static uint32_t restart(const struct port_storage *st, unsigned *copies)
{
    return restart_with(&portable, st, copies);
}

static void load_ok(struct package_store *ps, struct package_terminal *t, uint32_t v)
{
    struct package_expect e = expect_at(T0 + 60);
    uint32_t len;
    uint8_t *p = build(v, seed, 3, &len);
    assert_true(len > UNIT); /* the copy crosses a unit boundary */
    static struct rules_versioned from_store;
    assert_int_equal(package_store_load(ps, &portable, &e, t, p, len), LEAL_OK);
    assert_int_equal(t->info.version, v);
    assert_true(t->loaded);
    /* t's rules are the ones its source (the copy in storage) decodes to. */
    assert_int_equal(package_rules(&t->info, &t->source, &from_store), LEAL_OK);
    assert_int_equal(from_store.version, t->rules.version);
    assert_memory_equal(&from_store, &t->rules, sizeof from_store);
    free(p);
}

static void test_copies_alternate(void **state)
{
    struct ram_storage rs;
    struct package_store ps;
    struct package_terminal t;
    struct package_expect e = expect_at(T0 + 60);
    unsigned copies;
    (void)state;
    memset(&t, 0, sizeof t);
    assert_int_equal(ram_storage_init(&rs, mem, UNIT, UNITS), LEAL_OK);
    assert_int_equal(package_store_init(&ps, &rs.port), LEAL_OK);
    assert_int_equal(ps.capacity, 2 * UNIT - PACKAGE_STORE_HEADER_LEN);
    assert_int_equal(package_store_select(&ps, &portable, &e, &t, &copies), LEAL_OK);
    assert_false(t.loaded);
    assert_int_equal(copies, 0);
    load_ok(&ps, &t, 1);
    assert_int_equal(ps.winner, 0);
    assert_memory_equal(mem, "LPK\x01", 4);
    assert_int_equal(restart(&rs.port, &copies), 1);
    assert_int_equal(copies, 1);
    load_ok(&ps, &t, 2);
    assert_int_equal(ps.winner, 1);
    assert_memory_equal(mem + 2 * UNIT, "LPK\x01", 4);
    assert_int_equal(restart(&rs.port, &copies), 2);
    assert_int_equal(copies, 2);
    load_ok(&ps, &t, 5); /* over version 1, in copy 0 */
    assert_int_equal(ps.winner, 0);
    assert_int_equal(restart(&rs.port, &copies), 5);
    assert_int_equal(copies, 2);
    /* The loaded package reads from the store: its hot list is there. */
    bool found;
    uint8_t reason;
    assert_int_equal(package_hot_find(&t.info, &t.source, 1000 + 7 * 39, &found, &reason), LEAL_OK);
    assert_true(found);
}

/* Each refusal: the error, nothing written, the loaded package kept. */
static void test_refusals_write_nothing(void **state)
{
    static uint8_t before[UNIT * UNITS];
    static struct package_terminal was;
    struct ram_storage rs;
    struct package_store ps;
    struct package_terminal t;
    struct package_expect e = expect_at(T0 + 60);
    struct package_expect late = expect_at(T0 + 3 * DAY);
    unsigned copies;
    uint32_t len;
    uint8_t *p;
    (void)state;
    memset(&t, 0, sizeof t);
    assert_int_equal(ram_storage_init(&rs, mem, UNIT, UNITS), LEAL_OK);
    assert_int_equal(package_store_init(&ps, &rs.port), LEAL_OK);
    load_ok(&ps, &t, 4);
    memcpy(before, mem, sizeof before);
    memcpy(&was, &t, sizeof t);
    uint32_t programs = rs.programs, erases = rs.erases;
    p = build(5, other_seed, 3, &len);
    assert_int_equal(package_store_load(&ps, &portable, &e, &t, p, len), LEAL_E_PACKAGE_SIGNATURE);
    free(p);
    p = build(5, seed, 3, &len);
    assert_int_equal(package_store_load(&ps, &portable, &late, &t, p, len), LEAL_E_PACKAGE_EXPIRED);
    p[100] ^= 1;
    assert_int_equal(package_store_load(&ps, &portable, &e, &t, p, len), LEAL_E_PACKAGE_SIGNATURE);
    free(p);
    /* Signed, but its rule set does not decode (truncated by a byte). */
    rules_len--;
    p = build(5, seed, 3, &len);
    rules_len++;
    assert_int_equal(package_store_load(&ps, &portable, &e, &t, p, len), LEAL_E_PACKAGE_RULES);
    free(p);
    p = build(4, seed, 3, &len);
    assert_int_equal(package_store_load(&ps, &portable, &e, &t, p, len), LEAL_E_PACKAGE_SAME);
    free(p);
    p = build(3, seed, 3, &len);
    assert_int_equal(package_store_load(&ps, &portable, &e, &t, p, len), LEAL_E_PACKAGE_OLDER);
    free(p);
    assert_int_equal(rs.programs, programs);
    assert_int_equal(rs.erases, erases);
    assert_memory_equal(mem, before, sizeof before);
    assert_memory_equal(&t, &was, sizeof t);
    assert_int_equal(t.info.version, 4);
    assert_int_equal(restart(&rs.port, &copies), 4);
}

/* From the bytes in snap: load version v cut after cut bytes of work;
 * returns the version in force after a restart (0: none). */
static uint32_t torn_load(const uint8_t *snap, uint32_t v, uint64_t cut, uint8_t tear,
                          uint64_t *work)
{
    const struct crypto_provider *cp = crypto_openssl();
    static struct package_terminal was;
    struct ram_storage rs;
    struct package_store ps;
    struct package_terminal t;
    struct package_expect e = expect_at(T0 + 60);
    unsigned copies;
    uint32_t in_force;
    leal_err err;
    memset(&t, 0, sizeof t);
    assert_int_equal(ram_storage_init(&rs, mem, UNIT, UNITS), LEAL_OK);
    memcpy(mem, snap, sizeof mem);
    assert_int_equal(package_store_init(&ps, &rs.port), LEAL_OK);
    assert_int_equal(package_store_select(&ps, cp, &e, &t, &copies), LEAL_OK);
    uint32_t before = t.loaded ? t.info.version : 0;
    memcpy(&was, &t, sizeof t);
    ram_storage_cut(&rs, cut, tear);
    err = package_store_load(&ps, cp, &e, &t, torn_pkg, torn_len);
    *work = rs.work;
    if (err != LEAL_OK) /* the package in force kept, whole */
        assert_memory_equal(&t, &was, sizeof t);
    ram_storage_power_on(&rs);
    in_force = restart_with(cp, &rs.port, &copies);
    if (err == LEAL_OK) {
        assert_int_equal(in_force, v);
    } else {
        assert_int_equal(err, LEAL_E_IO);
        assert_int_equal(in_force, before);
    }
    return in_force;
}

/* Every cut of a load over each starting state: nothing, one copy, both. */
static void test_torn_at_every_byte(void **state)
{
    static uint8_t snap[3][UNIT * UNITS];
    const uint32_t start[3] = {0, 1, 2}; /* the version in force before the load */
    struct ram_storage rs;
    struct package_store ps;
    struct package_terminal t;
    unsigned cuts = 0;
    (void)state;
    memset(&t, 0, sizeof t);
    assert_int_equal(ram_storage_init(&rs, mem, UNIT, UNITS), LEAL_OK);
    assert_int_equal(package_store_init(&ps, &rs.port), LEAL_OK);
    memcpy(snap[0], mem, sizeof mem);
    load_ok(&ps, &t, 1);
    memcpy(snap[1], mem, sizeof mem);
    load_ok(&ps, &t, 2);
    memcpy(snap[2], mem, sizeof mem);
    torn_pkg = build(9, seed, 3, &torn_len);
    for (int s = 0; s < 3; s++) {
        uint64_t total = 0, work;
        /* The whole load's work, uncut. */
        assert_int_equal(torn_load(snap[s], 9, UINT64_MAX, RAM_TEAR_UNTOUCHED, &total), 9);
        /* Erase of the two units of the target copy, then the package, then its header. */
        assert_true(total > 2 * UNIT + UNIT);
        for (uint64_t cut = 0; cut < total; cut++)
            for (uint8_t tear = RAM_TEAR_UNTOUCHED; tear <= RAM_TEAR_FLIPPED; tear++) {
                assert_int_equal(torn_load(snap[s], 9, cut, tear, &work), start[s]);
                cuts++;
            }
        assert_int_equal(torn_load(snap[s], 9, total, RAM_TEAR_FLIPPED, &work), 9);
    }
    free(torn_pkg);
    print_message("package store: %u torn loads, each left the package in force before it\n", cuts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_alternate),
        cmocka_unit_test(test_refusals_write_nothing),
        cmocka_unit_test(test_torn_at_every_byte),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
