/* keys_test.c - key hierarchy codec, terminal bundles, derivation inputs and the
 * encrypted container (keys/keyset, keys/bundle, keys/derive, keys/hosted/keystore). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/bundle.h"
#include "keys/derive.h"
#include "keys/hosted/keystore.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/hosted/secmem.h"
#include "keys/keyset.h"
#include "tests/lib/testutil.h"

static uint8_t counter_byte;

/* Deterministic "random" so encodings can be compared; real code uses the OS RNG. */
static leal_err counting_random(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = counter_byte++;
    return LEAL_OK;
}

static struct keyset *make_keyset(void)
{
    struct keyset *ks = calloc(1, sizeof *ks);
    assert_non_null(ks);
    ks->issuer_id = 0x1a2b3c4d;
    strcpy(ks->issuer_name, "Café Sol");
    ks->created = 1700000000;
    counter_byte = 0;
    assert_int_equal(keyset_add_program(ks, 7, 1700000000, counting_random), LEAL_OK);
    assert_int_equal(keyset_add_program(ks, 9, 1700000100, counting_random), LEAL_OK);
    return ks;
}

static void test_role_table_names_and_holders(void **state)
{
    (void)state;
    assert_int_equal(keyset_role_by_name("purse-credit")->role, KEY_ROLE_PURSE_CREDIT);
    assert_false(keyset_role_by_name("purse-credit")->in_bundle);
    assert_false(keyset_role_by_name("picc-master")->in_bundle);
    assert_false(keyset_role_by_name("classic-b")->in_bundle);
    assert_false(keyset_role_by_name("mad-b")->in_bundle);
    assert_int_equal(keyset_role_by_name("tmac")->role, KEY_ROLE_TMAC);
    assert_false(keyset_role_by_name("tmac")->in_bundle);
    assert_true(keyset_role_by_name("terminal")->in_bundle);
    assert_int_equal(keyset_role_by_name("qr")->kind, KEY_KIND_ED25519);
    assert_null(keyset_role_by_name("pincode"));
    assert_null(keyset_role_by_name(""));
    assert_null(keyset_role_info((enum key_role)0));
    assert_null(keyset_role_info((enum key_role)13));
}

static void test_keyset_programs_and_rotation(void **state)
{
    (void)state;
    struct keyset *ks = make_keyset();
    const struct key_version *v1, *v2, *cur;
    uint8_t nv;
    assert_int_equal(ks->nprograms, 2);
    assert_int_equal(keyset_add_program(ks, 7, 0, counting_random), LEAL_E_PROGRAM_EXISTS);
    assert_int_equal(keyset_add_program(ks, 0, 0, counting_random), LEAL_E_RANGE);
    /* Program 7's first role got the first 16 "random" bytes. */
    assert_int_equal(keyset_current(ks, 7, KEY_ROLE_PICC_MASTER, &v1), LEAL_OK);
    assert_int_equal(v1->version, 1);
    assert_int_equal(v1->key[0], 0);
    assert_int_equal(v1->key[15], 15);
    assert_int_equal(keyset_rotate(ks, 7, KEY_ROLE_TERMINAL, 1700000200, counting_random, &nv),
                     LEAL_OK);
    assert_int_equal(nv, 2);
    assert_int_equal(keyset_version(ks, 7, KEY_ROLE_TERMINAL, 1, &v1), LEAL_OK);
    assert_int_equal(keyset_version(ks, 7, KEY_ROLE_TERMINAL, 2, &v2), LEAL_OK);
    assert_int_equal(keyset_current(ks, 7, KEY_ROLE_TERMINAL, &cur), LEAL_OK);
    assert_ptr_equal(cur, v2);
    assert_memory_not_equal(v1->key, v2->key, 16);
    assert_int_equal(keyset_version(ks, 7, KEY_ROLE_TERMINAL, 3, &v1), LEAL_E_KEY_VERSION);
    assert_int_equal(keyset_version(ks, 8, KEY_ROLE_TERMINAL, 1, &v1), LEAL_E_UNKNOWN_PROGRAM);
    assert_int_equal(keyset_current(ks, 7, (enum key_role)40, &v1), LEAL_E_UNKNOWN_ROLE);
    /* Program 9 is untouched by program 7's rotation. */
    assert_int_equal(keyset_current(ks, 9, KEY_ROLE_TERMINAL, &cur), LEAL_OK);
    assert_int_equal(cur->version, 1);
    for (int i = 2; i < LEAL_MAX_KEY_VERSIONS; i++)
        assert_int_equal(keyset_rotate(ks, 7, KEY_ROLE_TERMINAL, 0, counting_random, &nv), LEAL_OK);
    assert_int_equal(nv, LEAL_MAX_KEY_VERSIONS);
    assert_int_equal(keyset_rotate(ks, 7, KEY_ROLE_TERMINAL, 0, counting_random, &nv),
                     LEAL_E_TOO_LARGE);
    keyset_clear(ks);
    free(ks);
}

/* A slot's count of versions: none is malformed, more than LEAL_MAX_KEY_VERSIONS
 * too large (what a board built with fewer versions answers a longer bundle). */
static void test_keyset_get_slot_counts(void **state)
{
    (void)state;
    uint8_t in[1 + (LEAL_MAX_KEY_VERSIONS + 1) * (9 + 16)];
    struct key_slot s;
    struct buf_reader r;
    memset(in, 0, sizeof in);
    buf_reader_init(&r, in, 1);
    assert_int_equal(keyset_get_slot(&r, KEY_KIND_AES128, &s), LEAL_E_FORMAT);
    in[0] = LEAL_MAX_KEY_VERSIONS + 1;
    for (int i = 0; i <= LEAL_MAX_KEY_VERSIONS; i++)
        in[1 + i * (9 + 16)] = (uint8_t)(i + 1);
    buf_reader_init(&r, in, sizeof in);
    assert_int_equal(keyset_get_slot(&r, KEY_KIND_AES128, &s), LEAL_E_TOO_LARGE);
    in[0] = LEAL_MAX_KEY_VERSIONS;
    buf_reader_init(&r, in, sizeof in - (9 + 16));
    assert_int_equal(keyset_get_slot(&r, KEY_KIND_AES128, &s), LEAL_OK);
    assert_int_equal(s.nversions, LEAL_MAX_KEY_VERSIONS);
    assert_int_equal(s.v[LEAL_MAX_KEY_VERSIONS - 1].version, LEAL_MAX_KEY_VERSIONS);
}

static void test_keyset_encoding_round_trips_and_rejects_every_prefix(void **state)
{
    (void)state;
    struct keyset *ks = make_keyset(), *back = calloc(1, sizeof *back);
    uint8_t *buf = malloc(KEYSET_MAX_ENCODED), *again = malloc(KEYSET_MAX_ENCODED);
    size_t len, len2;
    uint8_t nv;
    assert_int_equal(keyset_rotate(ks, 9, KEY_ROLE_QR, 5, counting_random, &nv), LEAL_OK);
    assert_int_equal(keyset_encode(ks, buf, KEYSET_MAX_ENCODED, &len), LEAL_OK);
    /* header 1+4+8+1+9 name, 1 count; per program 4+8+1 + 11 roles */
    assert_int_equal(buf[0], 1);
    assert_memory_equal(buf + 1, ((uint8_t[]){0x1a, 0x2b, 0x3c, 0x4d}), 4);
    assert_int_equal(keyset_decode(buf, len, back), LEAL_OK);
    assert_int_equal(keyset_encode(back, again, KEYSET_MAX_ENCODED, &len2), LEAL_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);
    assert_string_equal(back->issuer_name, "Café Sol");
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(keyset_decode(buf, n, back), LEAL_OK);
    assert_int_equal(back->nprograms, 0); /* cleared on failure */
    buf[len] = 0;
    assert_int_equal(keyset_decode(buf, len + 1, back), LEAL_E_TRAILING);
    buf[0] = 2;
    assert_int_equal(keyset_decode(buf, len, back), LEAL_E_KEYSTORE_VERSION);
    assert_int_equal(keyset_encode(ks, buf, 100, &len), LEAL_E_NO_SPACE);
    keyset_clear(ks);
    free(ks);
    free(back);
    free(buf);
    free(again);
}

/* A keystore written before the tmac role (11 roles a program): it decodes
 * with tmac empty, encodes back byte for byte, and rotating tmac gives it
 * version 1 (then 12 roles). */
static void test_keyset_without_tmac_role(void **state)
{
    (void)state;
    struct keyset *ks = make_keyset(), *back = calloc(1, sizeof *back);
    uint8_t *buf = malloc(KEYSET_MAX_ENCODED), *again = malloc(KEYSET_MAX_ENCODED);
    const struct key_version *v;
    size_t len, len2, full;
    uint8_t nv;
    assert_int_equal(keyset_encode(ks, buf, KEYSET_MAX_ENCODED, &full), LEAL_OK);
    for (int p = 0; p < ks->nprograms; p++)
        memset(&ks->programs[p].roles[KEY_ROLE_TMAC - KEY_ROLE_FIRST], 0, sizeof(struct key_slot));
    assert_int_equal(keyset_encode(ks, buf, KEYSET_MAX_ENCODED, &len), LEAL_OK);
    /* each program loses role byte 12, count 1 and one version (1 + 8 + 16) */
    assert_int_equal(len, full - 2 * (1 + 1 + 1 + 8 + 16));
    /* program 7's role count, after the header (1+4+8+1+9 name, 1 count) and id, created */
    assert_int_equal(buf[1 + 4 + 8 + 1 + 9 + 1 + 4 + 8], 11);
    assert_int_equal(keyset_decode(buf, len, back), LEAL_OK);
    assert_int_equal(keyset_current(back, 7, KEY_ROLE_TMAC, &v), LEAL_E_KEY_VERSION);
    assert_int_equal(keyset_encode(back, again, KEYSET_MAX_ENCODED, &len2), LEAL_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(buf, again, len);
    assert_int_equal(keyset_rotate(back, 7, KEY_ROLE_TMAC, 1700000200, counting_random, &nv),
                     LEAL_OK);
    assert_int_equal(nv, 1);
    assert_int_equal(keyset_current(back, 7, KEY_ROLE_TMAC, &v), LEAL_OK);
    assert_int_equal(v->version, 1);
    assert_int_equal(keyset_encode(back, again, KEYSET_MAX_ENCODED, &len2), LEAL_OK);
    assert_int_equal(again[1 + 4 + 8 + 1 + 9 + 1 + 4 + 8], 12);
    assert_int_equal(len2, len + 1 + 1 + 1 + 8 + 16);
    /* 10 roles is no keystore leal ever wrote */
    buf[1 + 4 + 8 + 1 + 9 + 1 + 4 + 8] = 10;
    assert_int_equal(keyset_decode(buf, len, back), LEAL_E_FORMAT);
    keyset_clear(ks);
    free(ks);
    free(back);
    free(buf);
    free(again);
}

static void test_keyset_decode_refuses_duplicate_program(void **state)
{
    (void)state;
    struct keyset *ks = make_keyset(), *back = calloc(1, sizeof *back);
    uint8_t *buf = malloc(KEYSET_MAX_ENCODED);
    size_t len;
    ks->programs[1].id = 7;
    assert_int_equal(keyset_encode(ks, buf, KEYSET_MAX_ENCODED, &len), LEAL_OK);
    assert_int_equal(keyset_decode(buf, len, back), LEAL_E_FORMAT);
    keyset_clear(ks);
    free(ks);
    free(back);
    free(buf);
}

static void test_keyset_decode_refuses_control_characters_in_name(void **state)
{
    (void)state;
    /* Found by fuzz_bundle_parse: a NUL inside the name decoded, then encoded shorter. */
    struct keyset *ks = make_keyset(), *back = calloc(1, sizeof *back);
    uint8_t *buf = malloc(KEYSET_MAX_ENCODED);
    size_t len;
    strcpy(ks->issuer_name, "Caf\x01Sol");
    assert_int_equal(keyset_encode(ks, buf, KEYSET_MAX_ENCODED, &len), LEAL_OK);
    assert_int_equal(keyset_decode(buf, len, back), LEAL_E_FORMAT);
    assert_false(keyset_name_valid((const uint8_t *)"a\0b", 3));
    assert_false(keyset_name_valid((const uint8_t *)"", 0));
    assert_true(keyset_name_valid((const uint8_t *)"Café Sol", 9));
    keyset_clear(ks);
    free(ks);
    free(back);
    free(buf);
}

static struct bundle make_bundle(const struct keyset *ks)
{
    struct bundle b;
    memset(&b, 0, sizeof b);
    b.issuer_id = ks->issuer_id;
    strcpy(b.issuer_name, ks->issuer_name);
    b.program_id = 7;
    b.terminal_id = 3;
    b.created = 1700000000;
    b.expires = 1700086400;
    b.terminal = ks->programs[0].roles[KEY_ROLE_TERMINAL - 1];
    b.classic_a = ks->programs[0].roles[KEY_ROLE_CLASSIC_A - 1];
    b.classic_seal = ks->programs[0].roles[KEY_ROLE_CLASSIC_SEAL - 1];
    b.journal_version = 1;
    memset(b.journal_key, 0x77, 16);
    b.package_public = ks->programs[0].roles[KEY_ROLE_PACKAGE_SIGNING - 1];
    b.qr_public = ks->programs[0].roles[KEY_ROLE_QR - 1];
    return b;
}

static void test_bundle_round_trip_and_checks(void **state)
{
    (void)state;
    struct keyset *ks = make_keyset();
    struct bundle b = make_bundle(ks), back;
    uint8_t buf[BUNDLE_MAX_ENCODED], again[BUNDLE_MAX_ENCODED];
    size_t len, len2;
    assert_int_equal(bundle_encode(&b, buf, sizeof buf, &len), LEAL_OK);
    assert_int_equal(bundle_decode(buf, len, &back), LEAL_OK);
    assert_int_equal(bundle_encode(&back, again, sizeof again, &len2), LEAL_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);
    assert_int_equal(bundle_check(&back, 0x1a2b3c4d, 7, 1700086399), LEAL_OK);
    assert_int_equal(bundle_check(&back, 0x1a2b3c4d, 7, 1700086400), LEAL_E_BUNDLE_EXPIRED);
    assert_int_equal(bundle_check(&back, 0x1a2b3c4e, 7, 1700000000), LEAL_E_BUNDLE_WRONG_ISSUER);
    assert_int_equal(bundle_check(&back, 0x1a2b3c4d, 8, 1700000000), LEAL_E_BUNDLE_WRONG_PROGRAM);
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(bundle_decode(buf, n, &back), LEAL_OK);
    b.expires = b.created; /* never valid */
    assert_int_equal(bundle_encode(&b, buf, sizeof buf, &len), LEAL_OK);
    assert_int_equal(bundle_decode(buf, len, &back), LEAL_E_FORMAT);
    keyset_clear(ks);
    free(ks);
}

/* Server pins: version 2 with its pins appended to version 1's bytes;
 * none is version 1, byte for byte as before. */
static void test_bundle_server_pins(void **state)
{
    (void)state;
    struct keyset *ks = make_keyset();
    struct bundle b = make_bundle(ks), back;
    uint8_t v1[BUNDLE_MAX_ENCODED], v2[BUNDLE_MAX_ENCODED];
    size_t len1, len2;
    assert_int_equal(bundle_encode(&b, v1, sizeof v1, &len1), LEAL_OK);
    assert_int_equal(v1[0], 1);
    b.server_pin_count = 2;
    memset(b.server_pin[0], 0xa1, BUNDLE_PIN_LEN);
    memset(b.server_pin[1], 0xb2, BUNDLE_PIN_LEN);
    assert_int_equal(bundle_encode(&b, v2, sizeof v2, &len2), LEAL_OK);
    assert_int_equal(len2, len1 + 1 + 2 * BUNDLE_PIN_LEN);
    assert_int_equal(v2[0], 2);
    assert_memory_equal(v2 + 1, v1 + 1, len1 - 1);
    assert_int_equal(v2[len1], 2);
    assert_int_equal(v2[len1 + 1], 0xa1);
    assert_int_equal(v2[len2 - 1], 0xb2);
    assert_int_equal(bundle_decode(v2, len2, &back), LEAL_OK);
    assert_int_equal(back.server_pin_count, 2);
    assert_memory_equal(back.server_pin, b.server_pin, sizeof b.server_pin);
    assert_int_equal(bundle_decode(v1, len1, &back), LEAL_OK);
    assert_int_equal(back.server_pin_count, 0);
    for (size_t n = len1; n < len2; n++)
        assert_int_equal(bundle_decode(v2, n, &back), LEAL_E_TRUNCATED);
    /* Version 1 bytes with pins after them, and version 2 without: refused. */
    v1[0] = 1;
    memcpy(v1 + len1, v2 + len1, len2 - len1);
    assert_int_equal(bundle_decode(v1, len2, &back), LEAL_E_TRAILING);
    v2[0] = 2;
    assert_int_equal(bundle_decode(v2, len1, &back), LEAL_E_TRUNCATED);
    v2[len1] = 0; /* no pins */
    assert_int_equal(bundle_decode(v2, len1 + 1, &back), LEAL_E_FORMAT);
    v2[len1] = 3; /* more than two */
    assert_int_equal(bundle_decode(v2, len2, &back), LEAL_E_FORMAT);
    v2[len1] = 2;
    memset(v2 + len1 + 1 + BUNDLE_PIN_LEN, 0xa1, BUNDLE_PIN_LEN); /* the same twice */
    assert_int_equal(bundle_decode(v2, len2, &back), LEAL_E_FORMAT);
    v2[0] = 3;
    assert_int_equal(bundle_decode(v2, len2, &back), LEAL_E_KEYSTORE_VERSION);
    memset(b.server_pin[1], 0xa1, BUNDLE_PIN_LEN);
    assert_int_equal(bundle_encode(&b, v2, sizeof v2, &len2), LEAL_E_ARG);
    b.server_pin_count = 3;
    assert_int_equal(bundle_encode(&b, v2, sizeof v2, &len2), LEAL_E_ARG);
    keyset_clear(ks);
    free(ks);
}

static void test_derive_golden_inputs(void **state)
{
    (void)state;
    struct vector_record *v;
    uint8_t master[16], issuer[4], program[4], sysid[12], aid[3], uid[7], card_id[8], key[16],
        terminal[4], out[16], got_sysid[12];
    vectors_load("leal_derive.txt", &v);
    vectors_hex(&v[0], "MASTER", master, 16);
    vectors_hex(&v[0], "ISSUER", issuer, 4);
    vectors_hex(&v[0], "PROGRAM", program, 4);
    vectors_hex(&v[0], "SYSID", sysid, 12);
    vectors_hex(&v[0], "AID", aid, 3);
    vectors_hex(&v[0], "UID", uid, 7);
    vectors_hex(&v[0], "CARD_ID", card_id, 8);
    vectors_hex(&v[0], "TERMINAL", terminal, 4);
    derive_system_id(load_be32(issuer), load_be32(program), got_sysid);
    assert_memory_equal(got_sysid, sysid, 12);
    vectors_hex(&v[0], "KEY_UID", key, 16);
    assert_int_equal(derive_card_key(crypto_openssl(), master,
                                     &(struct derive_card_input){uid, 7, aid, load_be32(issuer),
                                                                 load_be32(program)},
                                     out),
                     LEAL_OK);
    assert_memory_equal(out, key, 16);
    vectors_hex(&v[0], "KEY_CARD_ID", key, 16);
    assert_int_equal(derive_card_key(crypto_openssl(), master,
                                     &(struct derive_card_input){card_id, 8, aid, load_be32(issuer),
                                                                 load_be32(program)},
                                     out),
                     LEAL_OK);
    assert_memory_equal(out, key, 16);
    vectors_hex(&v[0], "JOURNAL_KEY", key, 16);
    assert_int_equal(derive_journal_key(crypto_openssl(), master, load_be32(issuer),
                                        load_be32(program), load_be32(terminal), out),
                     LEAL_OK);
    assert_memory_equal(out, key, 16);
    assert_int_equal(derive_card_key(crypto_openssl(), master,
                                     &(struct derive_card_input){uid, 3, aid, 1, 1}, out),
                     LEAL_E_ARG);
    free(v);
}

static void test_container_round_trip_and_tampering(void **state)
{
    (void)state;
    const uint8_t plain[] = "the keys of a program";
    uint8_t *sealed = NULL, *opened = NULL;
    size_t sealed_len, opened_len;
    const char *pass = "correct horse battery";
    assert_int_equal(keystore_seal(KEYSTORE_KIND_KEYSTORE,
                                   (struct keystore_pass){pass, strlen(pass)}, KEYSTORE_KDF_DEFAULT,
                                   (struct keystore_bytes){plain, sizeof plain}, &sealed,
                                   &sealed_len),
                     LEAL_OK);
    assert_int_equal(sealed_len, KEYSTORE_HEADER_LEN + sizeof plain + KEYSTORE_TAG_LEN);
    assert_memory_equal(sealed, "LEALK\x01\x00\x00\x01\x11\x08\x01", 12);
    assert_int_equal(
        keystore_open(KEYSTORE_KIND_KEYSTORE, (struct keystore_pass){pass, strlen(pass)},
                      (struct keystore_bytes){sealed, sealed_len}, &opened, &opened_len),
        LEAL_OK);
    assert_int_equal(opened_len, sizeof plain);
    assert_memory_equal(opened, plain, sizeof plain);
    keystore_free(opened, opened_len);
    /* A keystore is not a backup or a bundle. */
    assert_int_equal(keystore_peek(KEYSTORE_KIND_BUNDLE, sealed, sealed_len), LEAL_E_FORMAT);
    assert_int_equal(keystore_open(KEYSTORE_KIND_BACKUP, (struct keystore_pass){pass, strlen(pass)},
                                   (struct keystore_bytes){sealed, sealed_len}, &opened,
                                   &opened_len),
                     LEAL_E_FORMAT);
    assert_int_equal(keystore_open(KEYSTORE_KIND_KEYSTORE, (struct keystore_pass){"wrong", 5},
                                   (struct keystore_bytes){sealed, sealed_len}, &opened,
                                   &opened_len),
                     LEAL_E_PASSPHRASE);
    assert_null(opened);
    /* Every truncation is refused before any key derivation. */
    for (size_t n = 0; n < sealed_len; n++)
        assert_int_not_equal(keystore_peek(KEYSTORE_KIND_KEYSTORE, sealed, n), LEAL_OK);
    /* KDF parameters outside the bounds are refused (no 2^40 memory from a forged header). */
    sealed[9] = 40;
    assert_int_equal(keystore_peek(KEYSTORE_KIND_KEYSTORE, sealed, sealed_len),
                     LEAL_E_KEYSTORE_CORRUPT);
    sealed[9] = 17;
    sealed[5] = 2;
    assert_int_equal(keystore_peek(KEYSTORE_KIND_KEYSTORE, sealed, sealed_len),
                     LEAL_E_KEYSTORE_VERSION);
    sealed[5] = 1;
    /* The header is authenticated: a changed salt byte or ciphertext byte fails the tag. */
    const size_t flips[] = {12, 30, KEYSTORE_HEADER_LEN + 3, sealed_len - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        sealed[flips[i]] ^= 0x01;
        assert_int_equal(keystore_peek(KEYSTORE_KIND_KEYSTORE, sealed, sealed_len), LEAL_OK);
        assert_int_equal(
            keystore_open(KEYSTORE_KIND_KEYSTORE, (struct keystore_pass){pass, strlen(pass)},
                          (struct keystore_bytes){sealed, sealed_len}, &opened, &opened_len),
            LEAL_E_PASSPHRASE);
        sealed[flips[i]] ^= 0x01;
    }
    keystore_free(sealed, sealed_len);
}

/* Issue 10 §3: format 1 accepted N up to 2^22 and p up to 4, so a crafted
 * 277-byte bundle cost 4.2 GB and 96 s of scrypt before it was refused.
 * Now r = 8, p = 1 and N from 2^10 to the default 2^17; anything else is
 * refused by the header check, before any key derivation (with N = 2^22,
 * r = 8, p = 4 the old code would allocate 4 GiB here). */
static void test_container_kdf_parameters_exact(void **state)
{
    (void)state;
    static const struct keystore_kdf crafted[] = {
        {22, 8, 4}, {22, 8, 1}, {18, 8, 1}, {17, 8, 2}, {17, 8, 4},
        {9, 8, 1},  {0, 8, 1},  {17, 1, 1}, {10, 8, 2},
    };
    uint8_t plain[217], *sealed = NULL, *opened = NULL;
    size_t sealed_len, opened_len = 0;
    const char *pass = "bundle horse battery";
    memset(plain, 0x5a, sizeof plain);
    assert_int_equal(keystore_seal(KEYSTORE_KIND_BUNDLE, (struct keystore_pass){pass, strlen(pass)},
                                   KEYSTORE_KDF_DEFAULT,
                                   (struct keystore_bytes){plain, sizeof plain}, &sealed,
                                   &sealed_len),
                     LEAL_OK);
    assert_int_equal(sealed_len, 277);
    for (size_t i = 0; i < sizeof crafted / sizeof crafted[0]; i++) {
        sealed[9] = crafted[i].log2_n;
        sealed[10] = crafted[i].r;
        sealed[11] = crafted[i].p;
        assert_int_equal(keystore_peek(KEYSTORE_KIND_BUNDLE, sealed, sealed_len),
                         LEAL_E_KEYSTORE_CORRUPT);
        assert_int_equal(
            keystore_open(KEYSTORE_KIND_BUNDLE, (struct keystore_pass){pass, strlen(pass)},
                          (struct keystore_bytes){sealed, sealed_len}, &opened, &opened_len),
            LEAL_E_KEYSTORE_CORRUPT);
        assert_null(opened);
        /* ... and leal never writes them. */
        uint8_t *out = NULL;
        size_t out_len = 0;
        assert_int_equal(
            keystore_seal(KEYSTORE_KIND_BUNDLE, (struct keystore_pass){pass, strlen(pass)},
                          crafted[i], (struct keystore_bytes){plain, sizeof plain}, &out, &out_len),
            LEAL_E_ARG);
        assert_null(out);
    }
    sealed[9] = 17;
    sealed[10] = 8;
    sealed[11] = 1;
    assert_int_equal(keystore_open(KEYSTORE_KIND_BUNDLE, (struct keystore_pass){pass, strlen(pass)},
                                   (struct keystore_bytes){sealed, sealed_len}, &opened,
                                   &opened_len),
                     LEAL_OK);
    assert_int_equal(opened_len, sizeof plain);
    keystore_free(opened, opened_len);
    keystore_free(sealed, sealed_len);
}

/* The cheaper costs a file may name (LEAL_SCRYPT_LOG2N): N from 2^10 to
 * 2^17 with r = 8, p = 1; sealed with 2^10 the header says so and the file
 * opens; a header whose N is changed within the range runs scrypt and fails
 * the tag (the header is associated data). */
static void test_container_kdf_cheaper(void **state)
{
    (void)state;
    struct keystore_kdf k = {0, 0, 0};
    uint8_t plain[40], *sealed = NULL, *opened = NULL;
    size_t sealed_len, opened_len = 0;
    const char *pass = "bundle horse battery";
    assert_int_equal(keystore_kdf_for(9, &k), LEAL_E_ARG);
    assert_int_equal(keystore_kdf_for(18, &k), LEAL_E_ARG);
    assert_int_equal(k.log2_n, 0);
    assert_int_equal(keystore_kdf_for(17, &k), LEAL_OK);
    assert_memory_equal(&k, &KEYSTORE_KDF_DEFAULT, sizeof k);
    assert_int_equal(keystore_kdf_for(10, &k), LEAL_OK);
    assert_int_equal(k.log2_n, 10);
    assert_int_equal(k.r, 8);
    assert_int_equal(k.p, 1);
    memset(plain, 0x3c, sizeof plain);
    assert_int_equal(keystore_seal(KEYSTORE_KIND_BUNDLE, (struct keystore_pass){pass, strlen(pass)},
                                   k, (struct keystore_bytes){plain, sizeof plain}, &sealed,
                                   &sealed_len),
                     LEAL_OK);
    assert_memory_equal(sealed + 8, "\x01\x0a\x08\x01", 4);
    assert_int_equal(keystore_open(KEYSTORE_KIND_BUNDLE, (struct keystore_pass){pass, strlen(pass)},
                                   (struct keystore_bytes){sealed, sealed_len}, &opened,
                                   &opened_len),
                     LEAL_OK);
    assert_int_equal(opened_len, sizeof plain);
    assert_memory_equal(opened, plain, sizeof plain);
    keystore_free(opened, opened_len);
    opened = NULL;
    sealed[9] = 11;
    assert_int_equal(keystore_peek(KEYSTORE_KIND_BUNDLE, sealed, sealed_len), LEAL_OK);
    assert_int_equal(keystore_open(KEYSTORE_KIND_BUNDLE, (struct keystore_pass){pass, strlen(pass)},
                                   (struct keystore_bytes){sealed, sealed_len}, &opened,
                                   &opened_len),
                     LEAL_E_PASSPHRASE);
    assert_null(opened);
    keystore_free(sealed, sealed_len);
}

/* A command for one program keeps only that program's keys. */
static void test_keyset_keep_program(void **state)
{
    (void)state;
    struct keyset *ks = make_keyset();
    const struct key_program *p;
    struct key_program nine;
    assert_int_equal(keyset_program(ks, 9, &p), LEAL_OK);
    nine = *p;
    assert_int_equal(ks->nprograms, 2);
    assert_int_equal(keyset_keep_program(ks, 10), LEAL_E_UNKNOWN_PROGRAM);
    assert_int_equal(ks->nprograms, 2);
    assert_int_equal(keyset_keep_program(ks, 9), LEAL_OK);
    assert_int_equal(ks->nprograms, 1);
    assert_memory_equal(&ks->programs[0], &nine, sizeof nine);
    assert_int_equal(keyset_program(ks, 7, &p), LEAL_E_UNKNOWN_PROGRAM);
    /* Nothing of program 7 is left anywhere in the structure. */
    for (size_t i = 0; i < sizeof ks->programs - sizeof ks->programs[0]; i++)
        assert_int_equal(((const uint8_t *)&ks->programs[1])[i], 0);
    keyset_clear(ks);
    free(ks);
}

/* The VmFlags of the mapping holding p, from /proc/self/smaps ("" if none). */
static void vm_flags(const void *p, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    uintptr_t a = (uintptr_t)p;
    out[0] = '\0';
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = a >= lo && a < hi;
        else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(out, cap, "%s", line + 8);
            break;
        }
    }
    fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
    char copy[256], *save = NULL;
    snprintf(copy, sizeof copy, "%s", flags);
    for (char *w = strtok_r(copy, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
        if (strcmp(w, flag) == 0)
            return true;
    return false;
}

/* Decrypted key material is kept out of core dumps (MADV_DONTDUMP: "dd" in
 * smaps) and locked ("lo") where the memory-lock limit allows; it used to
 * be plain heap. */
static void test_keystore_plaintext_out_of_core_dumps(void **state)
{
    (void)state;
    const uint8_t plain[] = "sixteen byte key and more";
    uint8_t *sealed = NULL, *opened = NULL;
    size_t sealed_len, opened_len;
    char flags[256];
    const char *pass = "correct horse battery";
    assert_int_equal(keystore_seal(KEYSTORE_KIND_KEYSTORE,
                                   (struct keystore_pass){pass, strlen(pass)}, KEYSTORE_KDF_DEFAULT,
                                   (struct keystore_bytes){plain, sizeof plain}, &sealed,
                                   &sealed_len),
                     LEAL_OK);
    assert_int_equal(
        keystore_open(KEYSTORE_KIND_KEYSTORE, (struct keystore_pass){pass, strlen(pass)},
                      (struct keystore_bytes){sealed, sealed_len}, &opened, &opened_len),
        LEAL_OK);
    vm_flags(opened, flags, sizeof flags);
    assert_true(has_flag(flags, "dd"));
    assert_int_equal(has_flag(flags, "lo"), secmem_locked(opened));
    keystore_free(opened, opened_len);
    keystore_free(sealed, sealed_len);
}

/* Secret memory is zeroed, usable, wiped on free; the process loses core
 * dumps and dumpability (run last: it changes this process). */
static void test_secmem_and_process_hardening(void **state)
{
    (void)state;
    struct rlimit rl;
    uint8_t *p = secmem_alloc(100000);
    assert_non_null(p);
    for (size_t i = 0; i < 100000; i++)
        assert_int_equal(p[i], 0);
    memset(p, 0xa5, 100000);
    {
        char flags[256];
        struct rlimit ml;
        vm_flags(p, flags, sizeof flags);
        assert_true(has_flag(flags, "dd"));
        /* Locked where the limit allows (always as root): not fatal otherwise. */
        assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &ml), 0);
        if (geteuid() == 0 || ml.rlim_cur == RLIM_INFINITY || ml.rlim_cur >= 200000)
            assert_true(secmem_locked(p) && has_flag(flags, "lo"));
    }
    secmem_free(p);
    secmem_free(NULL);
    assert_null(secmem_alloc(0));
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    assert_int_equal(secmem_process_harden(), LEAL_OK);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    assert_int_equal(rl.rlim_cur, 0);
    assert_int_equal(rl.rlim_max, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_table_names_and_holders),
        cmocka_unit_test(test_keyset_programs_and_rotation),
        cmocka_unit_test(test_keyset_get_slot_counts),
        cmocka_unit_test(test_keyset_encoding_round_trips_and_rejects_every_prefix),
        cmocka_unit_test(test_keyset_without_tmac_role),
        cmocka_unit_test(test_keyset_decode_refuses_duplicate_program),
        cmocka_unit_test(test_keyset_decode_refuses_control_characters_in_name),
        cmocka_unit_test(test_bundle_round_trip_and_checks),
        cmocka_unit_test(test_bundle_server_pins),
        cmocka_unit_test(test_derive_golden_inputs),
        cmocka_unit_test(test_container_round_trip_and_tampering),
        cmocka_unit_test(test_container_kdf_parameters_exact),
        cmocka_unit_test(test_container_kdf_cheaper),
        cmocka_unit_test(test_keyset_keep_program),
        cmocka_unit_test(test_keystore_plaintext_out_of_core_dumps),
        cmocka_unit_test(test_secmem_and_process_hardening),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
