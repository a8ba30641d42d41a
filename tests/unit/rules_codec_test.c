/* rules_codec_test.c - the rule set encoding (firmware/core/rules_codec.h,
 * RULES.md section 7): the golden set byte for byte both ways, round trips,
 * the largest set at exactly RULES_CODEC_MAX_LEN, and every refusal of the
 * decoder with its code, the part it names and *out zeroed: each truncation,
 * a trailing byte, unknown format versions, each count over its limit, and
 * what rules_codec_problem refuses (program, tier, rule, stamp card, reward,
 * bono kind). The terminal's decoder (rules_codec_decode_program: the bono
 * kinds checked, not kept) gives every refusal the same code and part, and
 * on every set accepted the same version, program and bono count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/rules_codec.h"
#include "tests/lib/testutil.h"

/* Offsets in the golden encoding (RULES.md section 7), 204 bytes. */
#define OFF_FORMAT 0
#define OFF_RATE 5
#define OFF_N_TIERS 13
#define OFF_N_RULES 14
#define OFF_N_STAMPS 15
#define OFF_N_REWARDS 16
#define OFF_N_BONOS 17
#define OFF_TIER0 18    /* tiers (2 x 8) */
#define OFF_RULE0 34    /* rule 0 (49 bytes: 2 stores) */
#define OFF_RULE1 83    /* rule 1 (43 bytes: 1 category) */
#define OFF_STAMP0 126  /* stamp card 0 (12) */
#define OFF_REWARD0 138 /* rewards (3 x 18) */
#define OFF_BONO0 192   /* bono kind 0 (12) */
#define GOLDEN_LEN 204

static uint8_t golden[GOLDEN_LEN];
static struct rules_set zero_set;
static struct rules_versioned zero_run;

static void refused(const uint8_t *b, size_t len, leal_err want, uint8_t part, uint8_t index);

/* rules_codec_decode_program on b gives what the whole decode gave (s). */
static void run_agrees(const uint8_t *b, size_t len, const struct rules_set *s)
{
    struct rules_versioned run;
    struct rules_problem where = {9, 9};
    memset(&run, 0xA5, sizeof run);
    assert_int_equal(rules_codec_decode_program(b, len, &run, &where), LEAL_OK);
    assert_int_equal(where.part, RULES_PART_NONE);
    assert_int_equal(run.version, s->version);
    assert_int_equal(run.n_bonos, s->n_bonos);
    assert_memory_equal(&run.program, &s->program, sizeof run.program);
}

static struct rules_set golden_set(void)
{
    struct rules_set s;
    struct rules_program *p = &s.program;
    memset(&s, 0, sizeof s);
    s.version = 3;
    p->rate_milli = 1200;
    p->welcome_points = 50;
    p->n_tiers = 2;
    p->tiers[0] = (struct rules_tier){200, 1500};
    p->tiers[1] = (struct rules_tier){500, 2000};
    p->n_rules = 2;
    p->rules[0] = (struct rules_rule){.id = 1,
                                      .kind = RULES_MULTIPLIER,
                                      .combine = RULES_BEST,
                                      .multiplier_milli = 2000,
                                      .from_day = 20788,
                                      .to_day = 20818,
                                      .weekdays = 0x02,
                                      .start_minute = 960,
                                      .end_minute = 1200,
                                      .n_stores = 2,
                                      .stores = {1, 2},
                                      .cap_per_sale = 500};
    p->rules[1] = (struct rules_rule){.id = 2,
                                      .kind = RULES_BONUS,
                                      .combine = RULES_STACK,
                                      .bonus_points = 10,
                                      .n_categories = 1,
                                      .categories = {3},
                                      .min_spend_cents = 500,
                                      .cap_per_day = 30};
    p->n_stamps = 1;
    p->stamps[0] = (struct rules_stamp){RULES_STAMP_PER_ITEM, 3, 10, 7, 0};
    p->n_rewards = 3;
    p->rewards[0] = (struct rules_reward){7, RULES_REWARD_PRODUCT, 100, 1001, 0};
    p->rewards[1] = (struct rules_reward){8, RULES_REWARD_VOUCHER, 250, 500, 1};
    p->rewards[2] = (struct rules_reward){9, RULES_REWARD_PERCENT, 400, 1000, 2};
    s.n_bonos = 1;
    s.bonos[0] = (struct rules_bono_kind){1, 10, 365, 4500};
    return s;
}

static int setup(void **state)
{
    struct vector_record *v;
    (void)state;
    if (vectors_load("leal_rules_set.txt", &v) != 1)
        return -1;
    if (vectors_hex(&v[0], "SET", golden, sizeof golden) != GOLDEN_LEN)
        return -1;
    free(v);
    return 0;
}

static void test_golden(void **state)
{
    struct rules_set s = golden_set(), back;
    struct rules_problem where = {9, 9};
    uint8_t out[RULES_CODEC_MAX_LEN];
    size_t len = 0;
    (void)state;
    assert_int_equal(rules_codec_size(&s, &len), LEAL_OK);
    assert_int_equal(len, GOLDEN_LEN);
    assert_int_equal(rules_codec_encode(&s, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, GOLDEN_LEN);
    assert_memory_equal(out, golden, GOLDEN_LEN);
    assert_int_equal(rules_codec_decode(golden, GOLDEN_LEN, &back, &where), LEAL_OK);
    assert_int_equal(where.part, RULES_PART_NONE);
    assert_memory_equal(&back, &s, sizeof s);
    assert_int_equal(back.program.rules[0].stores[1], 2);
    assert_int_equal(back.program.rewards[2].value, 1000);
    assert_int_equal(back.bonos[0].price_cents, 4500);
    run_agrees(golden, GOLDEN_LEN, &s);
}

static void test_empty_and_largest(void **state)
{
    struct rules_set s, back;
    uint8_t out[RULES_CODEC_MAX_LEN + 1];
    size_t len = 0;
    const uint8_t empty[RULES_CODEC_HEADER_LEN] = {1, 0, 0, 0, 0, 0, 0, 0x03, 0xe8};
    (void)state;
    memset(&s, 0, sizeof s);
    s.program.rate_milli = 1000;
    assert_int_equal(rules_codec_encode(&s, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, RULES_CODEC_HEADER_LEN);
    assert_memory_equal(out, empty, sizeof empty);
    /* Every list full, every rule naming 8 stores and 8 categories. */
    s = golden_set();
    s.program.n_tiers = RULES_MAX_TIERS;
    for (unsigned i = 0; i < RULES_MAX_TIERS; i++)
        s.program.tiers[i] = (struct rules_tier){100 * (i + 1), 1000 + 100 * i};
    s.program.n_rules = RULES_MAX_RULES;
    for (unsigned i = 0; i < RULES_MAX_RULES; i++) {
        s.program.rules[i] = s.program.rules[1];
        s.program.rules[i].id = 100 + i;
        s.program.rules[i].n_stores = RULES_MAX_RULE_STORES;
        s.program.rules[i].n_categories = RULES_MAX_RULE_CATS;
        for (unsigned j = 0; j < RULES_MAX_RULE_STORES; j++)
            s.program.rules[i].stores[j] = 0xFFFFFFF0u + j;
        for (unsigned j = 0; j < RULES_MAX_RULE_CATS; j++)
            s.program.rules[i].categories[j] = (uint16_t)(0xFFF0u + j);
    }
    s.program.n_stamps = RULES_STAMP_CARDS;
    for (unsigned i = 1; i < RULES_STAMP_CARDS; i++)
        s.program.stamps[i] = s.program.stamps[0];
    s.program.n_rewards = RULES_MAX_REWARDS;
    for (unsigned i = 0; i < RULES_MAX_REWARDS; i++)
        s.program.rewards[i] =
            (struct rules_reward){200 + i, RULES_REWARD_PRODUCT, 1, INT64_MAX, 0};
    s.n_bonos = RULES_MAX_BONO_KINDS;
    for (unsigned i = 0; i < RULES_MAX_BONO_KINDS; i++)
        s.bonos[i] = (struct rules_bono_kind){300 + i, 65535, RULES_MAX_BONO_VALID_DAYS,
                                              RULES_MAX_SALE_CENTS};
    assert_int_equal(rules_codec_encode(&s, out, sizeof out, &len), LEAL_OK);
    assert_int_equal(len, RULES_CODEC_MAX_LEN);
    assert_int_equal(RULES_CODEC_MAX_LEN, 2026);
    assert_int_equal(rules_codec_decode(out, len, &back, NULL), LEAL_OK);
    assert_memory_equal(&back, &s, sizeof s);
    run_agrees(out, len, &s);
    /* Bono kind 15 repeats kind 3's id: the last of the set, found in its bytes. */
    memcpy(out + len - RULES_CODEC_BONO_LEN, out + len - 13 * RULES_CODEC_BONO_LEN, 4);
    refused(out, len, LEAL_E_RULES_PROGRAM, RULES_CODEC_PART_BONO, 15);
    assert_int_equal(rules_codec_encode(&s, out, RULES_CODEC_MAX_LEN - 1, &len), LEAL_E_NO_SPACE);
    assert_int_equal(len, 0);
}

static void test_encoder_refuses(void **state)
{
    struct rules_set s = golden_set();
    struct rules_problem where;
    uint8_t out[RULES_CODEC_MAX_LEN];
    size_t len = 99;
    (void)state;
    s.program.rules[1].id = 1; /* repeats rule 0's id */
    assert_int_equal(rules_codec_encode(&s, out, sizeof out, &len), LEAL_E_RULES_PROGRAM);
    assert_int_equal(len, 0);
    assert_int_equal(rules_codec_problem(&s, &where), LEAL_E_RULES_PROGRAM);
    assert_int_equal(where.part, RULES_PART_RULE);
    assert_int_equal(where.index, 1);
    s = golden_set();
    s.bonos[0].sessions = 0;
    assert_int_equal(rules_codec_size(&s, &len), LEAL_E_RULES_PROGRAM);
    assert_int_equal(rules_codec_problem(&s, &where), LEAL_E_RULES_PROGRAM);
    assert_int_equal(where.part, RULES_CODEC_PART_BONO);
    assert_int_equal(where.index, 0);
    assert_int_equal(rules_codec_encode(NULL, out, sizeof out, &len), LEAL_E_ARG);
    assert_int_equal(rules_codec_decode(golden, GOLDEN_LEN, NULL, NULL), LEAL_E_ARG);
}

/* Decodes bytes expecting a refusal: its code, the part named, *out zeroed. */
static void refused(const uint8_t *b, size_t len, leal_err want, uint8_t part, uint8_t index)
{
    struct rules_set out;
    struct rules_versioned run;
    struct rules_problem where = {77, 77};
    memset(&out, 0xA5, sizeof out);
    assert_int_equal(rules_codec_decode(b, len, &out, &where), want);
    assert_int_equal(where.part, part);
    assert_int_equal(where.index, index);
    assert_memory_equal(&out, &zero_set, sizeof out);
    memset(&run, 0xA5, sizeof run);
    where = (struct rules_problem){77, 77};
    assert_int_equal(rules_codec_decode_program(b, len, &run, &where), want);
    assert_int_equal(where.part, part);
    assert_int_equal(where.index, index);
    assert_memory_equal(&run, &zero_run, sizeof run);
}

static void test_truncated_and_trailing(void **state)
{
    uint8_t b[GOLDEN_LEN + 1];
    (void)state;
    memcpy(b, golden, GOLDEN_LEN);
    for (size_t n = 0; n < GOLDEN_LEN; n++)
        refused(b, n, LEAL_E_TRUNCATED, RULES_PART_NONE, 0);
    b[GOLDEN_LEN] = 0;
    refused(b, GOLDEN_LEN + 1, LEAL_E_TRAILING, RULES_PART_NONE, 0);
}

static void test_format_version(void **state)
{
    const uint8_t versions[] = {0, 2, 0xFF};
    uint8_t b[GOLDEN_LEN];
    (void)state;
    for (size_t i = 0; i < sizeof versions; i++) {
        memcpy(b, golden, GOLDEN_LEN);
        b[OFF_FORMAT] = versions[i];
        refused(b, GOLDEN_LEN, LEAL_E_RULES_FORMAT_VERSION, RULES_PART_NONE, 0);
        refused(b, 1, LEAL_E_RULES_FORMAT_VERSION, RULES_PART_NONE, 0);
    }
}

static void test_counts_over(void **state)
{
    const struct {
        size_t off;
        uint8_t value;
    } over[] = {{OFF_N_TIERS, RULES_MAX_TIERS + 1},      {OFF_N_RULES, RULES_MAX_RULES + 1},
                {OFF_N_STAMPS, RULES_STAMP_CARDS + 1},   {OFF_N_REWARDS, RULES_MAX_REWARDS + 1},
                {OFF_N_BONOS, RULES_MAX_BONO_KINDS + 1}, {OFF_N_BONOS, 0xFF}};
    uint8_t b[GOLDEN_LEN];
    (void)state;
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        memcpy(b, golden, GOLDEN_LEN);
        b[over[i].off] = over[i].value;
        /* Refused on the count alone, before any entry is read. */
        refused(b, RULES_CODEC_HEADER_LEN, LEAL_E_RULES_PROGRAM, RULES_PART_PROGRAM, 0);
    }
    memcpy(b, golden, GOLDEN_LEN);
    b[OFF_RULE0 + 39] = RULES_MAX_RULE_STORES + 1; /* rule 0's store count */
    refused(b, GOLDEN_LEN, LEAL_E_RULES_PROGRAM, RULES_PART_RULE, 0);
    memcpy(b, golden, GOLDEN_LEN);
    b[OFF_RULE1 + 40] = RULES_MAX_RULE_CATS + 1; /* rule 1's category count */
    refused(b, GOLDEN_LEN, LEAL_E_RULES_PROGRAM, RULES_PART_RULE, 1);
}

/* One byte set to a value the check refuses: the part and index it names. */
struct mutation {
    size_t off;
    uint8_t value;
    uint8_t part;
    uint8_t index;
};

static void test_check_refusals(void **state)
{
    const struct mutation m[] = {
        {OFF_RATE, 0x01, RULES_PART_PROGRAM, 0},             /* rate 0x010004B0: over 1000/euro */
        {OFF_TIER0 + 2, 0x02, RULES_PART_TIER, 1},           /* tier 0 at 712: tier 1 not above */
        {OFF_TIER0 + 6, 0x03, RULES_PART_TIER, 0},           /* multiplier 0x3DC = 988 */
        {OFF_RULE0 + 3, 0x02, RULES_PART_RULE, 1},           /* rule 0 takes id 2: rule 1 repeats */
        {OFF_RULE0 + 4, 0x03, RULES_PART_RULE, 0},           /* kind 3 */
        {OFF_RULE0 + 5, 0x00, RULES_PART_RULE, 0},           /* combine 0 */
        {OFF_RULE0 + 8, 0x03, RULES_PART_RULE, 0},           /* multiplier 0x3D0 = 976 */
        {OFF_RULE0 + 16, 0x52, RULES_PART_RULE, 0},          /* from 0x5234 after to 0x5152 */
        {OFF_RULE0 + 22, 0x80, RULES_PART_RULE, 0},          /* weekdays bit 7 */
        {OFF_RULE0 + 25, 0x0F, RULES_PART_RULE, 0},          /* end minute 0x0FB0: over 1440 */
        {OFF_RULE0 + 31, 0x0F, RULES_PART_RULE, 0},          /* cap per sale 0x0F0001F4 */
        {OFF_RULE1 + 42, 0x00, RULES_PART_RULE, 1},          /* category 0 */
        {OFF_STAMP0 + 0, 0x03, RULES_PART_STAMP, 0},         /* per 3 */
        {OFF_STAMP0 + 3, 0x01, RULES_PART_STAMP, 0},         /* goal 1 */
        {OFF_REWARD0 + 4, 0x05, RULES_PART_REWARD, 0},       /* kind 5 */
        {OFF_REWARD0 + 17, 0x03, RULES_PART_REWARD, 0},      /* min tier 3 of 2 tiers */
        {OFF_REWARD0 + 18 + 9, 0x80, RULES_PART_REWARD, 1},  /* voucher value from 2^63 */
        {OFF_REWARD0 + 36 + 15, 0x27, RULES_PART_REWARD, 2}, /* percent 0x27E8 = 10216 bp */
        {OFF_BONO0 + 3, 0x00, RULES_CODEC_PART_BONO, 0},     /* id 0 */
        {OFF_BONO0 + 5, 0x00, RULES_CODEC_PART_BONO, 0},     /* sessions 0 */
        {OFF_BONO0 + 6, 0x10, RULES_CODEC_PART_BONO, 0},     /* valid 0x106D days: over 3660 */
        {OFF_BONO0 + 8, 0x10, RULES_CODEC_PART_BONO, 0},     /* price 0x10001194: over 1000000.00 */
    };
    uint8_t b[GOLDEN_LEN];
    (void)state;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        memcpy(b, golden, GOLDEN_LEN);
        assert_int_not_equal(b[m[i].off], m[i].value);
        b[m[i].off] = m[i].value;
        refused(b, GOLDEN_LEN, LEAL_E_RULES_PROGRAM, m[i].part, m[i].index);
    }
}

static void test_round_trip_every_accepted_byte(void **state)
{
    /* Every single-byte change the decoder accepts encodes back to the same bytes. */
    uint8_t b[GOLDEN_LEN], out[RULES_CODEC_MAX_LEN];
    struct rules_set s;
    unsigned accepted = 0;
    size_t len;
    (void)state;
    for (size_t off = 0; off < GOLDEN_LEN; off++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(b, golden, GOLDEN_LEN);
            b[off] ^= (uint8_t)(1u << bit);
            struct rules_versioned run;
            leal_err err = rules_codec_decode(b, GOLDEN_LEN, &s, NULL);
            if (err != LEAL_OK) {
                assert_int_equal(rules_codec_decode_program(b, GOLDEN_LEN, &run, NULL), err);
                continue;
            }
            run_agrees(b, GOLDEN_LEN, &s);
            accepted++;
            assert_int_equal(rules_codec_encode(&s, out, sizeof out, &len), LEAL_OK);
            assert_int_equal(len, GOLDEN_LEN);
            assert_memory_equal(out, b, GOLDEN_LEN);
        }
    }
    assert_int_equal(accepted, 1077); /* of 1632 flips: ids, values, times within range */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_empty_and_largest),
        cmocka_unit_test(test_encoder_refuses),
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_format_version),
        cmocka_unit_test(test_counts_over),
        cmocka_unit_test(test_check_refusals),
        cmocka_unit_test(test_round_trip_every_accepted_byte),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
