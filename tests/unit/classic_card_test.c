/* classic_card_test.c - leal's MIFARE Classic layout on the virtual Classic 1K behind
 * the sim: reader (PC/SC part 3 pseudo-APDUs, the same code as pcsc:): personalise from
 * the transport key, read and verify MAD, identity and state, write the other slot, and
 * the round trips of LAYOUT.md 3.3; access bits hold key A to the state sectors; a torn
 * slot write leaves the previous state current. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/classic/classic_keys.h"
#include "cardlayout/classic/mfclassic.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/classic_record.h"
#include "host/cardsim/cardsim.h"
#include "host/reader/reader.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/testutil.h"

#define ISSUER 0x1EA10001u
#define PROGRAM 7u
#define CARD_ID 0x100000042ull

static const uint8_t seed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                 0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t transport[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

struct fixture {
    char *dir;
    struct reader *r;
    struct reader_card info;
    struct classic_card_keys keys;
    uint8_t seal[32], pub[32];
    struct classic_card cc;
};

static void master(uint8_t m[16], uint8_t base)
{
    for (int i = 0; i < 16; i++)
        m[i] = (uint8_t)(base + i);
}

static void setup_card(struct fixture *f)
{
    const struct crypto_provider *cp = crypto_openssl();
    static const uint8_t uid[4] = {0x04, 0xA2, 0x19, 0x5C};
    struct cardsim *c;
    char path[512], spec[600];
    uint8_t ma[16], mb[16], mm[16], ms[16];

    f->dir = test_tmpdir();
    snprintf(path, sizeof path, "%s/card.json", f->dir);
    assert_int_equal(cardsim_new("classic-1k", uid, 4, false, &c), LEAL_OK);
    assert_int_equal(cardsim_save(c, path), LEAL_OK);
    cardsim_free(c);
    snprintf(spec, sizeof spec, "sim:%s", path);
    assert_int_equal(reader_open(spec, NULL, &f->r), LEAL_OK);
    assert_int_equal(reader_wait_card(f->r, 0), LEAL_OK);
    assert_int_equal(reader_card_info(f->r, &f->info), LEAL_OK);
    assert_int_equal(f->info.uid_len, 4);
    assert_memory_equal(f->info.uid, uid, 4);
    master(ma, 0x10);
    master(mb, 0x20);
    master(mm, 0x30);
    master(ms, 0x00);
    for (uint8_t s = 0; s < CLASSIC_CARD_SECTORS; s++) {
        assert_int_equal(classic_keys_sector(cp, s == 0 ? mm : mb, f->info.uid, 4, ISSUER, PROGRAM,
                                             s, f->keys.b[s]),
                         LEAL_OK);
        assert_int_equal(
            classic_keys_sector(cp, ma, f->info.uid, 4, ISSUER, PROGRAM, s, f->keys.a[s]), LEAL_OK);
    }
    memcpy(f->keys.a[0], (uint8_t[6]){0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}, 6);
    assert_int_equal(classic_keys_seal(cp, ms, f->info.uid, 4, ISSUER, PROGRAM, f->seal), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_public(seed, f->pub), LEAL_OK);
    classic_card_init(&f->cc, reader_card_reader(f->r));
}

static void teardown_card(struct fixture *f)
{
    reader_close(f->r);
    test_rmtree(f->dir);
    free(f->dir);
}

static void personalise(struct fixture *f)
{
    const struct crypto_provider *cp = crypto_openssl();
    struct identity id = {
        CARD_ID, ISSUER, PROGRAM, 1, IDENTITY_CLASSIC_1K, IDENTITY_FLAG_STORED_VALUE, 20415};
    struct classic_record_state st = {.body = {.seq = 1}, .purse = 0};
    uint8_t rec[32], msg[IDENTITY_MAX_SIGNED], sig[64], ispan[128], sspan[48];
    size_t ml;
    assert_int_equal(identity_encode(&id, rec), LEAL_OK);
    assert_int_equal(identity_signed_message(rec, f->info.uid, 4, msg, &ml), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(seed, msg, ml, sig), LEAL_OK);
    assert_int_equal(classic_record_identity_seal(cp, f->seal, rec, sig, ispan), LEAL_OK);
    assert_int_equal(classic_record_state_seal(cp, f->seal, CARD_ID, 0, &st, sspan), LEAL_OK);
    f->cc.round_trips = 0;
    assert_int_equal(classic_card_personalise(&f->cc, transport, &f->keys, ispan, sspan), LEAL_OK);
    assert_int_equal(f->cc.round_trips, 28);
}

static void test_classic_card_personalise_read_and_tap(void **state)
{
    (void)state;
    const struct crypto_provider *cp = crypto_openssl();
    struct fixture f;
    struct classic_record_purse purse = {true, 5000};
    struct classic_record_state st;
    struct identity id;
    uint8_t mad[32], ispan[128], s0[48], s1[48], info;
    uint16_t aids[15];
    unsigned cur;

    setup_card(&f);
    personalise(&f);

    /* Verification as a terminal: MAD 3, identity 11, state 8. */
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_read_mad(&f.cc, mad), LEAL_OK);
    assert_int_equal(mfclassic_mad1_decode(mad, &info, aids), LEAL_OK);
    for (int s = 0; s < 15; s++)
        assert_int_equal(aids[s], s < 5 ? LAYOUT_MAD_AID : 0);
    assert_int_equal(f.cc.round_trips, 3);
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_read_identity(&f.cc, &f.keys, ispan), LEAL_OK);
    assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 19); /* the read of LAYOUT.md 3.3 */
    assert_int_equal(classic_record_identity_open(cp, f.seal, ispan, f.info.uid, 4, f.pub, &id),
                     LEAL_OK);
    assert_int_equal(id.card_id, CARD_ID);
    assert_int_equal(classic_record_state_select(cp, f.seal, CARD_ID, s0, s1, &purse, &st, &cur),
                     LEAL_OK);
    assert_int_equal(cur, 0);
    assert_int_equal(st.body.seq, 1);

    /* An earn and pay tap: read (19) + the other slot (4) = 23. */
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_read_identity(&f.cc, &f.keys, ispan), LEAL_OK);
    assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
    assert_int_equal(classic_record_state_select(cp, f.seal, CARD_ID, s0, s1, &purse, &st, &cur),
                     LEAL_OK);
    st.body.seq++;
    st.body.points += 40;
    assert_int_equal(classic_record_state_seal(cp, f.seal, CARD_ID, 1 - cur, &st, s1), LEAL_OK);
    assert_int_equal(classic_card_write_state(&f.cc, &f.keys, 1 - cur, s1), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 23);
    assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
    assert_int_equal(classic_record_state_select(cp, f.seal, CARD_ID, s0, s1, &purse, &st, &cur),
                     LEAL_OK);
    assert_int_equal(cur, 1);
    assert_int_equal(st.body.seq, 2);
    assert_int_equal(st.body.points, 40);

    /* Key A (terminals) cannot write identity, a trailer, or the MAD; the transport key
     * is gone. */
    const struct card_reader *rd = reader_card_reader(f.r);
    uint8_t blk[16] = {0};
    assert_int_equal(rd->classic_auth(rd->ctx, 4, CLASSIC_KEY_A, f.keys.a[1]), LEAL_OK);
    assert_int_not_equal(rd->classic_write(rd->ctx, 4, blk), LEAL_OK);
    assert_int_equal(rd->classic_auth(rd->ctx, 16, CLASSIC_KEY_A, f.keys.a[4]), LEAL_OK);
    assert_int_not_equal(rd->classic_write(rd->ctx, 19, blk), LEAL_OK);
    assert_int_equal(rd->classic_auth(rd->ctx, 0, CLASSIC_KEY_A, f.keys.a[0]), LEAL_OK);
    assert_int_not_equal(rd->classic_write(rd->ctx, 1, blk), LEAL_OK);
    assert_int_equal(rd->classic_auth(rd->ctx, 4, CLASSIC_KEY_A, transport),
                     LEAL_E_CARD_AUTHENTICATION);
    /* Key B (host) writes the identity sector. */
    assert_int_equal(rd->classic_auth(rd->ctx, 4, CLASSIC_KEY_B, f.keys.b[1]), LEAL_OK);
    assert_int_equal(rd->classic_read(rd->ctx, 4, blk), LEAL_OK);
    assert_int_equal(rd->classic_write(rd->ctx, 4, blk), LEAL_OK);
    teardown_card(&f);
}

static void test_classic_card_torn_slot_write_keeps_previous_state(void **state)
{
    (void)state;
    const struct crypto_provider *cp = crypto_openssl();
    struct fixture f;
    struct classic_record_purse purse = {false, 0};
    struct classic_record_state st;
    uint8_t s0[48], s1[48], next[48];
    unsigned cur, torn = 0, kept_old = 0;
    static const enum cardsim_torn_block kinds[] = {CARDSIM_TORN_OLD, CARDSIM_TORN_NEW,
                                                    CARDSIM_TORN_GARBAGE};

    setup_card(&f);
    personalise(&f);
    for (size_t k = 0; k < 3; k++) {
        for (unsigned at = 1; at <= 8; at++) { /* every exchange of the slot write */
            assert_int_equal(reader_wait_card(f.r, 0), LEAL_OK);
            assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
            assert_int_equal(
                classic_record_state_select(cp, f.seal, CARD_ID, s0, s1, &purse, &st, &cur),
                LEAL_OK);
            uint32_t before = st.body.seq;
            st.body.seq++;
            assert_int_equal(classic_record_state_seal(cp, f.seal, CARD_ID, 1 - cur, &st, next),
                             LEAL_OK);
            struct cardsim_tear tear = {CARDSIM_TEAR_INSIDE_COMMIT, at, kinds[k], 0};
            cardsim_set_tear(reader_sim_card(f.r), &tear);
            leal_err err = classic_card_write_state(&f.cc, &f.keys, 1 - cur, next);
            struct cardsim_tear none = {CARDSIM_TEAR_NONE, 0, CARDSIM_TORN_OLD, 0};
            cardsim_set_tear(reader_sim_card(f.r), &none);
            reader_release(f.r);
            assert_int_equal(reader_wait_card(f.r, 0), LEAL_OK);
            assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
            assert_int_equal(
                classic_record_state_select(cp, f.seal, CARD_ID, s0, s1, &purse, &st, &cur),
                LEAL_OK);
            /* Either the old state or, if the last block made it whole, the new one. */
            if (err == LEAL_OK) {
                assert_int_equal(st.body.seq, before + 1);
            } else {
                torn++;
                kept_old += st.body.seq == before;
                assert_true(st.body.seq == before || st.body.seq == before + 1);
            }
        }
    }
    print_message("torn writes %u, previous state kept %u\n", torn, kept_old);
    /* Each kind tears the auth and the three block writes (4 of the 8 points). */
    assert_int_equal(torn, 12);
    /* Only TORN_NEW of the last block completes the record: every other tear keeps the old. */
    assert_int_equal(kept_old, 11);
    teardown_card(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_card_personalise_read_and_tap),
        cmocka_unit_test(test_classic_card_torn_slot_write_keeps_previous_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
