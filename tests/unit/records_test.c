/* records_test.c - the LAYOUT.md record codecs against the golden encodings that
 * tests/integration/layout_records.py (a second implementation) wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/classic/mfclassic.h"
#include "cardlayout/classic/classic_keys.h"
#include "cardlayout/records/bono.h"
#include "cardlayout/records/classic_record.h"
#include "cardlayout/records/identity.h"
#include "cardlayout/records/log_record.h"
#include "cardlayout/records/state.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

#define VEC "leal_layout_records.txt"

static struct vector_record *v;
static int nv;

static int setup(void **state)
{
    (void)state;
    nv = vectors_load(VEC, &v);
    return nv == 9 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(v);
    return 0;
}

static unsigned long long num(const struct vector_record *r, const char *name)
{
    return strtoull(vectors_str(r, name), NULL, 10);
}

static void golden_state(struct state_body *s)
{
    const struct vector_record *r = &v[2];
    char *end;
    const char *b = vectors_str(r, "BUCKETS");
    memset(s, 0, sizeof *s);
    s->seq = (uint32_t)num(r, "SEQ");
    s->points = (uint32_t)num(r, "POINTS");
    s->tier = (uint8_t)num(r, "TIER");
    assert_int_equal(vectors_hex(r, "STAMPS", s->stamps, 4), 4);
    s->period = (uint16_t)num(r, "PERIOD");
    for (int i = 0; i < 4; i++) {
        s->buckets[i] = (uint16_t)strtoul(b, &end, 10);
        b = end;
    }
}

static void assert_state_equal(const struct state_body *a, const struct state_body *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->points, b->points);
    assert_int_equal(a->tier, b->tier);
    assert_memory_equal(a->stamps, b->stamps, STATE_STAMPS);
    assert_int_equal(a->period, b->period);
    for (int i = 0; i < STATE_BUCKETS; i++)
        assert_int_equal(a->buckets[i], b->buckets[i]);
}

static void test_identity_encodes_and_decodes_golden(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        struct identity id = {
            .card_id = num(&v[i], "CARD_ID"),
            .issuer_id = (uint32_t)num(&v[i], "ISSUER"),
            .program_id = (uint32_t)num(&v[i], "PROGRAM"),
            .key_set_version = (uint8_t)num(&v[i], "KEY_SET"),
            .card_kind = (uint8_t)num(&v[i], "KIND"),
            .flags = (uint8_t)num(&v[i], "FLAGS"),
            .issued_day = (uint32_t)num(&v[i], "ISSUED"),
        };
        struct identity back;
        uint8_t want[32], out[32];
        assert_int_equal(vectors_hex(&v[i], "IDENTITY", want, 32), 32);
        assert_int_equal(identity_encode(&id, out), LEAL_OK);
        assert_memory_equal(out, want, 32);
        assert_int_equal(identity_decode(want, 32, &back), LEAL_OK);
        assert_int_equal(back.card_id, id.card_id);
        assert_int_equal(back.issuer_id, id.issuer_id);
        assert_int_equal(back.program_id, id.program_id);
        assert_int_equal(back.key_set_version, id.key_set_version);
        assert_int_equal(back.card_kind, id.card_kind);
        assert_int_equal(back.flags, id.flags);
        assert_int_equal(back.issued_day, id.issued_day);
    }
}

static void test_identity_decode_refuses_broken_rules(void **state)
{
    (void)state;
    uint8_t rec[33];
    struct identity id;
    vectors_hex(&v[0], "IDENTITY", rec, 32);
    assert_int_equal(identity_decode(rec, 31, &id), LEAL_E_TRUNCATED);
    assert_int_equal(id.card_id, 0);
    rec[32] = 0;
    assert_int_equal(identity_decode(rec, 33, &id), LEAL_E_TRAILING);
    rec[0] = 2;
    assert_int_equal(identity_decode(rec, 32, &id), LEAL_E_LAYOUT_VERSION);
    rec[0] = 1;
    rec[1] = 2; /* a state type byte */
    assert_int_equal(identity_decode(rec, 32, &id), LEAL_E_FORMAT);
    rec[1] = 1;
    rec[31] = 1; /* reserved */
    assert_int_equal(identity_decode(rec, 32, &id), LEAL_E_FORMAT);
    rec[31] = 0;
    rec[19] = 6; /* unknown kind */
    assert_int_equal(identity_decode(rec, 32, &id), LEAL_E_FORMAT);
    rec[19] = 1;
    memset(rec + 2, 0, 8); /* card id 0 */
    assert_int_equal(identity_decode(rec, 32, &id), LEAL_E_FORMAT);
    struct identity bad = {.card_id = 1, .program_id = 1, .key_set_version = 0, .card_kind = 1};
    assert_int_equal(identity_encode(&bad, rec), LEAL_E_ARG);
}

static void test_state_file_golden(void **state)
{
    (void)state;
    struct state_body s, back;
    uint8_t want[32], want2[32], out[32], version;
    uint64_t card_id;
    golden_state(&s);
    assert_int_equal(vectors_hex(&v[2], "DESFIRE_STATE", want, 32), 32);
    assert_int_equal(state_file_encode(1, num(&v[2], "CARD_ID"), &s, out), LEAL_OK);
    assert_memory_equal(out, want, 32);
    assert_int_equal(state_file_decode(want, 32, &version, &card_id, &back), LEAL_OK);
    assert_int_equal(version, 1);
    assert_int_equal(card_id, num(&v[2], "CARD_ID"));
    assert_state_equal(&back, &s);
    /* Layout version 2 (LAYOUT.md 4.1): the same file but its first byte. */
    assert_int_equal(vectors_hex(&v[2], "DESFIRE_STATE_V2", want2, 32), 32);
    assert_int_equal(state_file_encode(2, num(&v[2], "CARD_ID"), &s, out), LEAL_OK);
    assert_memory_equal(out, want2, 32);
    assert_memory_equal(out + 1, want + 1, 31);
    assert_int_equal(state_file_decode(want2, 32, &version, &card_id, &back), LEAL_OK);
    assert_int_equal(version, 2);
    assert_state_equal(&back, &s);
    assert_int_equal(state_file_decode(want, 31, &version, &card_id, &back), LEAL_E_TRUNCATED);
    assert_int_equal(card_id, 0);
    assert_int_equal(version, 0);
    /* Layout version 3 (LAYOUT.md 2.10): the version-2 file with its first
     * byte 03, then the purse mirror (PURSE, BE u32): 36 bytes. */
    uint8_t want3[STATE_FILE_MIRROR_LEN], out3[STATE_FILE_MAX];
    size_t n3 = 0;
    int32_t mirror = -1;
    assert_int_equal(vectors_hex(&v[2], "DESFIRE_STATE_V3", want3, sizeof want3), 36);
    assert_int_equal(state_file_encode_mirror(3, num(&v[2], "CARD_ID"), &s,
                                              (int32_t)num(&v[2], "PURSE"), out3, &n3),
                     LEAL_OK);
    assert_int_equal(n3, 36);
    assert_memory_equal(out3, want3, 36);
    assert_memory_equal(out3 + 1, want2 + 1, 31);
    assert_int_equal(state_file_decode_mirror(want3, 36, &version, &card_id, &back, &mirror),
                     LEAL_OK);
    assert_int_equal(version, 3);
    assert_int_equal(mirror, 2500);
    assert_state_equal(&back, &s);
    /* Each version at its own length only; a mirror above INT32_MAX or below 0 refused. */
    assert_int_equal(state_file_decode_mirror(want3, 32, &version, &card_id, &back, &mirror),
                     LEAL_E_TRUNCATED);
    assert_int_equal(mirror, 0);
    uint8_t long2[36];
    memcpy(long2, want3, 36);
    long2[0] = 2;
    assert_int_equal(state_file_decode(long2, 36, &version, &card_id, &back), LEAL_E_TRAILING);
    want3[32] = 0x80;
    assert_int_equal(state_file_decode_mirror(want3, 36, &version, &card_id, &back, &mirror),
                     LEAL_E_FORMAT);
    assert_int_equal(state_file_encode_mirror(3, 1, &s, -1, out3, &n3), LEAL_E_ARG);
    assert_int_equal(state_file_encode(3, 1, &s, out), LEAL_E_ARG); /* 36 bytes: not here */
    /* The head of a version-3 file (a TMAC entry's 32 bytes). */
    assert_int_equal(state_file_decode_head(out3, 32, &version, &card_id, &back), LEAL_OK);
    assert_int_equal(version, 3);
    assert_state_equal(&back, &s);
    assert_int_equal(state_file_len(3), 36);
    assert_int_equal(state_file_len(2), 32);
    assert_int_equal(state_file_len(4), 0);
    /* A version this code does not know is refused, never guessed: 0, 4, 0xFF. */
    const uint8_t unknown[] = {0, 4, 0xFF};
    for (size_t i = 0; i < sizeof unknown; i++) {
        want[0] = unknown[i];
        assert_int_equal(state_file_decode(want, 32, &version, &card_id, &back),
                         LEAL_E_LAYOUT_VERSION);
        assert_int_equal(card_id, 0);
        assert_int_equal(state_file_encode(unknown[i], 1, &s, out), LEAL_E_ARG);
    }
    assert_int_equal(state_file_encode(1, 0, &s, out), LEAL_E_ARG);
    assert_int_equal(state_file_encode(2, 0, &s, out), LEAL_E_ARG);
}

static void test_bono_file_golden(void **state)
{
    (void)state;
    const struct vector_record *r = &v[8];
    struct bono_file b, back;
    uint8_t want[BONO_FILE_LEN + 1], out[BONO_FILE_LEN];
    memset(&b, 0, sizeof b);
    assert_int_equal(BONO_FILE_LEN, 34);
    for (int i = 0; i < 2; i++) {
        const char *name = i == 0 ? "BONO_1" : "BONO_2";
        unsigned long id, sessions, last;
        assert_int_equal(sscanf(vectors_str(r, name), "%lu %lu %lu", &id, &sessions, &last), 3);
        b.slot[i] = (struct bono_slot){(uint32_t)id, (uint16_t)sessions, (uint16_t)last};
    }
    assert_int_equal(vectors_hex(r, "BONOS", want, BONO_FILE_LEN), BONO_FILE_LEN);
    assert_int_equal(bono_file_encode(&b, out), LEAL_OK);
    assert_memory_equal(out, want, BONO_FILE_LEN);
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN, &back), LEAL_OK);
    assert_int_equal(back.slot[0].id, 7);
    assert_int_equal(back.slot[0].sessions, 10);
    assert_int_equal(back.slot[0].last_day, 20800);
    assert_int_equal(back.slot[1].id, 12);
    assert_int_equal(back.slot[1].sessions, 3);
    assert_int_equal(back.slot[1].last_day, 0);
    assert_int_equal(back.slot[2].id, 0);
    assert_int_equal(bono_file_find(&back, 12), 1);
    assert_int_equal(bono_file_find(&back, 8), -1);
    assert_int_equal(bono_file_find(&back, 0), -1);

    /* Each broken rule refused, the output zeroed. */
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN - 1, &back), LEAL_E_TRUNCATED);
    assert_int_equal(back.slot[0].id, 0);
    want[BONO_FILE_LEN] = 0;
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN + 1, &back), LEAL_E_TRAILING);
    want[0] = 1; /* a version-1 card has no bono file */
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN, &back), LEAL_E_LAYOUT_VERSION);
    want[0] = 3;
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN, &back), LEAL_E_LAYOUT_VERSION);
    want[0] = 2;
    want[1] = 2; /* a state type byte */
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN, &back), LEAL_E_FORMAT);
    want[1] = 4;
    want[2 + 2 * 8 + 5] = 1; /* a free slot with sessions */
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN, &back), LEAL_E_FORMAT);
    want[2 + 2 * 8 + 5] = 0;
    memcpy(want + 2 + 2 * 8, want + 2, 8); /* bono 7 twice */
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN, &back), LEAL_E_FORMAT);
    assert_int_equal(back.slot[0].id, 0);
    memset(want + 2 + 2 * 8, 0, 8);
    assert_int_equal(bono_file_decode(want, BONO_FILE_LEN, &back), LEAL_OK);
    b.slot[1].id = 0;
    assert_int_equal(bono_file_encode(&b, out), LEAL_E_ARG);
}

static void test_bono_file_add(void **state)
{
    (void)state;
    struct bono_file b;
    memset(&b, 0, sizeof b);
    assert_int_equal(bono_file_add(&b, 7, 10, 20800), LEAL_OK);
    assert_int_equal(bono_file_add(&b, 7, 5, 20900), LEAL_OK); /* the same bono: added, later day */
    assert_int_equal(b.slot[0].sessions, 15);
    assert_int_equal(b.slot[0].last_day, 20900);
    assert_int_equal(bono_file_add(&b, 7, 1, 20000), LEAL_OK); /* an earlier day never shortens */
    assert_int_equal(b.slot[0].last_day, 20900);
    assert_int_equal(bono_file_add(&b, 7, 1, 0), LEAL_OK); /* no last day: no end */
    assert_int_equal(b.slot[0].sessions, 17);
    assert_int_equal(b.slot[0].last_day, 0);
    assert_int_equal(bono_file_add(&b, 7, 0xFFFF, 0), LEAL_E_RANGE);
    assert_int_equal(b.slot[0].sessions, 17);
    assert_int_equal(bono_file_add(&b, 8, 1, 1), LEAL_OK);
    assert_int_equal(bono_file_add(&b, 9, 1, 1), LEAL_OK);
    assert_int_equal(bono_file_add(&b, 10, 1, 1), LEAL_OK);
    assert_int_equal(b.slot[3].id, 10);
    assert_int_equal(bono_file_add(&b, 11, 1, 1), LEAL_E_NO_SPACE); /* four slots */
    assert_int_equal(bono_file_add(&b, 0, 1, 1), LEAL_E_ARG);
    assert_int_equal(bono_file_add(&b, 8, 0, 1), LEAL_E_ARG);
}

static void test_state_seq_serial_arithmetic(void **state)
{
    (void)state;
    assert_true(state_seq_newer(6, 5));
    assert_false(state_seq_newer(5, 6));
    assert_false(state_seq_newer(5, 5));
    assert_true(state_seq_newer(0, 0xFFFFFFFFu)); /* wraps */
    assert_false(state_seq_newer(0xFFFFFFFFu, 0));
    assert_false(state_seq_newer(0x80000000u, 0)); /* exactly half way: neither */
}

static void test_classic_keys_golden(void **state)
{
    (void)state;
    const struct vector_record *r = &v[3];
    uint8_t uid[10], m[16], want[32], key[32];
    size_t ul = vectors_hex(r, "UID", uid, sizeof uid);
    uint32_t iss = (uint32_t)num(r, "ISSUER"), prog = (uint32_t)num(r, "PROGRAM");
    const struct crypto_provider *cp = crypto_openssl();
    vectors_hex(r, "SEAL_MASTER", m, 16);
    vectors_hex(r, "SEAL_KEY", want, 32);
    assert_int_equal(classic_keys_seal(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, key),
                     LEAL_OK);
    assert_memory_equal(key, want, 32);
    vectors_hex(r, "A_MASTER", m, 16);
    vectors_hex(r, "KEY_A_1", want, 6);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, 1, key),
        LEAL_OK);
    assert_memory_equal(key, want, 6);
    vectors_hex(r, "KEY_A_4", want, 6);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, 4, key),
        LEAL_OK);
    assert_memory_equal(key, want, 6);
    vectors_hex(r, "B_MASTER", m, 16);
    vectors_hex(r, "KEY_B_4", want, 6);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, 4, key),
        LEAL_OK);
    assert_memory_equal(key, want, 6);
    vectors_hex(r, "MADB_MASTER", m, 16);
    vectors_hex(r, "MAD_KEY_B", want, 6);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, 0, key),
        LEAL_OK);
    assert_memory_equal(key, want, 6);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, 3, iss, prog}, 0, key),
        LEAL_E_ARG);
}

static void test_classic_identity_seals_golden_and_verifies(void **state)
{
    (void)state;
    const struct vector_record *r = &v[4];
    const struct crypto_provider *cp = crypto_openssl();
    uint8_t uid[10], key[32], seed[32], pub[32], rec[32], sig[64], want[128], span[128];
    size_t ul = vectors_hex(r, "UID", uid, sizeof uid);
    struct identity id;
    vectors_hex(r, "SEAL_KEY", key, 32);
    vectors_hex(r, "SEED", seed, 32);
    vectors_hex(r, "PUBLIC", pub, 32);
    vectors_hex(r, "IDENTITY", rec, 32);
    vectors_hex(r, "SIGNATURE", sig, 64);
    assert_int_equal(vectors_hex(r, "IDENTITY_SPAN", want, 128), 128);
    /* The host's signature is the golden one (Ed25519 is deterministic). */
    uint8_t msg[IDENTITY_MAX_SIGNED], mysig[64];
    size_t ml;
    assert_int_equal(identity_signed_message(rec, uid, ul, msg, &ml), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(seed, msg, ml, mysig), LEAL_OK);
    assert_memory_equal(mysig, sig, 64);
    assert_int_equal(
        classic_record_identity_seal(&(struct classic_record_key){cp, key}, rec, sig, span),
        LEAL_OK);
    assert_memory_equal(span, want, 128);
    assert_int_equal(classic_record_identity_open(&(struct classic_record_key){cp, key}, span, uid,
                                                  ul, pub, &id),
                     LEAL_OK);
    assert_int_equal(id.card_id, num(r, "CARD_ID"));
    assert_int_equal(id.card_kind, IDENTITY_CLASSIC_1K);
    /* Another card's UID: the signature no longer covers it. */
    uid[0] ^= 1;
    assert_int_equal(classic_record_identity_open(&(struct classic_record_key){cp, key}, span, uid,
                                                  ul, pub, &id),
                     LEAL_E_SIGNATURE);
    assert_int_equal(id.card_id, 0);
    uid[0] ^= 1;
    /* A stolen terminal reseals an identity it changed: the SIV opens, the signature does not. */
    uint8_t forged[32];
    memcpy(forged, rec, 32);
    forged[9] ^= 0x01; /* another card id */
    assert_int_equal(
        classic_record_identity_seal(&(struct classic_record_key){cp, key}, forged, sig, span),
        LEAL_OK);
    assert_int_equal(classic_record_identity_open(&(struct classic_record_key){cp, key}, span, uid,
                                                  ul, pub, &id),
                     LEAL_E_SIGNATURE);
    /* One flipped bit in the sealed bytes. */
    memcpy(span, want, 128);
    span[40] ^= 0x10;
    assert_int_equal(classic_record_identity_open(&(struct classic_record_key){cp, key}, span, uid,
                                                  ul, pub, &id),
                     LEAL_E_CARD_TAMPERED);
    /* Non-zero tail. */
    memcpy(span, want, 128);
    span[127] = 1;
    assert_int_equal(classic_record_identity_open(&(struct classic_record_key){cp, key}, span, uid,
                                                  ul, pub, &id),
                     LEAL_E_CARD_TAMPERED);
}

static void golden_classic_state(struct classic_record_state *s)
{
    golden_state(&s->body);
    s->purse = (uint32_t)num(&v[2], "PURSE");
}

static void test_classic_state_golden_slots_and_selection(void **state)
{
    (void)state;
    const struct vector_record *r = &v[4];
    const struct crypto_provider *cp = crypto_openssl();
    uint8_t key[32], s0[48], s1[48], out[48];
    uint64_t card_id = num(r, "CARD_ID");
    struct classic_record_purse on = {true, 5000}, off = {false, 0}, low = {true, 2499};
    struct classic_record_state s, got;
    unsigned cur;
    vectors_hex(r, "SEAL_KEY", key, 32);
    vectors_hex(r, "STATE_SLOT0", s0, 48);
    vectors_hex(r, "STATE_SLOT1", s1, 48);
    golden_classic_state(&s);
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, key}, card_id, 0, &s, out),
        LEAL_OK);
    assert_memory_equal(out, s0, 48);
    s.body.seq = 6;
    s.body.points = 1300;
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, key}, card_id, 1, &s, out),
        LEAL_OK);
    assert_memory_equal(out, s1, 48);

    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, s1}, &on, &got, &cur),
                     LEAL_OK);
    assert_int_equal(cur, 1);
    assert_int_equal(got.body.seq, 6);
    assert_int_equal(got.body.points, 1300);
    assert_int_equal(got.purse, 2500);
    /* Stored value off, or over the cap: tampered. */
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, s1}, &off, &got,
                                                 &cur),
                     LEAL_E_CARD_TAMPERED);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, s1}, &low, &got,
                                                 &cur),
                     LEAL_E_CARD_TAMPERED);
    /* A newer slot over the cap is tampering, not a torn write: the older
     * slot (within the cap) is no fallback. */
    s.body.seq = 6;
    s.purse = 5001;
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, key}, card_id, 1, &s, out),
        LEAL_OK);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, out}, &on, &got,
                                                 &cur),
                     LEAL_E_CARD_TAMPERED);
    s.purse = 2500;
    /* A torn write of slot 1 (garbage or zeros): slot 0 is current. */
    memcpy(out, s1, 48);
    out[20] ^= 0xFF;
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, out}, &on, &got,
                                                 &cur),
                     LEAL_OK);
    assert_int_equal(cur, 0);
    assert_int_equal(got.body.seq, 5);
    memset(out, 0, 48);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, out}, &on, &got,
                                                 &cur),
                     LEAL_OK);
    assert_int_equal(cur, 0);
    /* Slots swapped (a record moved to the other sector): neither opens. */
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s1, s0}, &on, &got, &cur),
                     LEAL_E_CARD_TAMPERED);
    /* Another card id in the AD: nothing opens. */
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id + 1,
                                                 (const uint8_t *const[]){s0, s1}, &on, &got, &cur),
                     LEAL_E_CARD_TAMPERED);
    /* Same seq, different contents: tampered; same contents: slot 0. */
    s.body.seq = 5;
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, key}, card_id, 1, &s, out),
        LEAL_OK);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, out}, &on, &got,
                                                 &cur),
                     LEAL_E_CARD_TAMPERED);
    golden_classic_state(&s);
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, key}, card_id, 1, &s, out),
        LEAL_OK);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, out}, &on, &got,
                                                 &cur),
                     LEAL_OK);
    assert_int_equal(cur, 0);
    /* Wrap-around: seq 0 after 0xFFFFFFFF is newer. */
    s.body.seq = 0xFFFFFFFFu;
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, key}, card_id, 0, &s, s0),
        LEAL_OK);
    s.body.seq = 0;
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, key}, card_id, 1, &s, s1),
        LEAL_OK);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, s1}, &on, &got, &cur),
                     LEAL_OK);
    assert_int_equal(cur, 1);
    /* A future layout version is reported as such, not as tampering. */
    s0[0] = 2;
    s1[0] = 2;
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, key}, card_id,
                                                 (const uint8_t *const[]){s0, s1}, &on, &got, &cur),
                     LEAL_E_LAYOUT_VERSION);
}

static void test_classic_mad_and_trailers_golden(void **state)
{
    (void)state;
    const struct vector_record *k = &v[3], *r = &v[5];
    const struct crypto_provider *cp = crypto_openssl();
    uint8_t uid[10], m[16], ka[6], kb[6], want[32], out[32];
    size_t ul = vectors_hex(k, "UID", uid, sizeof uid);
    uint32_t iss = (uint32_t)num(k, "ISSUER"), prog = (uint32_t)num(k, "PROGRAM");
    uint16_t aids[15] = {0x014C, 0x014C, 0x014C, 0x014C, 0x014C};
    static const uint8_t mad_key_a[6] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};
    const uint8_t mad_cond[4] = {4, 4, 4, 3}, state_cond[4] = {0, 0, 0, 3};
    assert_int_equal(vectors_hex(r, "MAD", want, 32), 32);
    assert_int_equal(mfclassic_mad1_encode(0, aids, out), LEAL_OK);
    assert_memory_equal(out, want, 32);
    vectors_hex(k, "MADB_MASTER", m, 16);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, 0, kb),
        LEAL_OK);
    assert_int_equal(mfclassic_trailer_build(mad_key_a, mad_cond, 0xC1, kb, out), LEAL_OK);
    vectors_hex(r, "TRAILER_0", want, 16);
    assert_memory_equal(out, want, 16);
    vectors_hex(k, "A_MASTER", m, 16);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, 4, ka),
        LEAL_OK);
    vectors_hex(k, "B_MASTER", m, 16);
    assert_int_equal(
        classic_keys_sector(cp, m, &(struct classic_keys_card){uid, ul, iss, prog}, 4, kb),
        LEAL_OK);
    assert_int_equal(mfclassic_trailer_build(ka, state_cond, 0x00, kb, out), LEAL_OK);
    vectors_hex(r, "TRAILER_4", want, 16);
    assert_memory_equal(out, want, 16);
}

static void test_log_records_golden(void **state)
{
    (void)state;
    for (int i = 6; i < 8; i++) {
        struct log_record r = {
            .op = (uint8_t)num(&v[i], "OP"),
            .counter = (uint32_t)num(&v[i], "COUNTER"),
            .amount = (int32_t)strtol(vectors_str(&v[i], "AMOUNT"), NULL, 10),
            .terminal_id = (uint32_t)num(&v[i], "TERMINAL"),
        };
        struct log_record back;
        uint8_t want[16], out[16];
        assert_int_equal(vectors_hex(&v[i], "LOG", want, 16), 16);
        assert_int_equal(log_record_encode(&r, out), LEAL_OK);
        assert_memory_equal(out, want, 16);
        assert_int_equal(log_record_decode(want, 16, &back), LEAL_OK);
        assert_int_equal(back.op, r.op);
        assert_int_equal(back.counter, r.counter);
        assert_int_equal(back.amount, r.amount);
        assert_int_equal(back.terminal_id, r.terminal_id);
        assert_int_equal(log_record_decode(want, 15, &back), LEAL_E_TRUNCATED);
        assert_int_equal(back.op, 0);
        want[3] = 1;
        assert_int_equal(log_record_decode(want, 16, &back), LEAL_E_FORMAT);
        want[3] = 0;
        want[2] = 6;
        assert_int_equal(log_record_decode(want, 16, &back), LEAL_E_FORMAT);
        want[0] = 2;
        assert_int_equal(log_record_decode(want, 16, &back), LEAL_E_LAYOUT_VERSION);
    }
    struct log_record bad = {.op = 0};
    uint8_t out[16];
    assert_int_equal(log_record_encode(&bad, out), LEAL_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_encodes_and_decodes_golden),
        cmocka_unit_test(test_identity_decode_refuses_broken_rules),
        cmocka_unit_test(test_state_file_golden),
        cmocka_unit_test(test_bono_file_golden),
        cmocka_unit_test(test_bono_file_add),
        cmocka_unit_test(test_state_seq_serial_arithmetic),
        cmocka_unit_test(test_classic_keys_golden),
        cmocka_unit_test(test_classic_identity_seals_golden_and_verifies),
        cmocka_unit_test(test_classic_state_golden_slots_and_selection),
        cmocka_unit_test(test_classic_mad_and_trailers_golden),
        cmocka_unit_test(test_log_records_golden),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
