/* classic_card_test.c - leal's MIFARE Classic layout on the virtual Classic 1K
 * behind the sim: reader (PC/SC part 3 pseudo-APDUs, the same code as pcsc:):
 * personalise from the transport key, read and verify MAD, identity and state,
 * write the other slot, and the round trips of LAYOUT.md 3.3; access bits hold
 * key A to the state sectors; a torn slot write leaves the previous state
 * current. */
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
        assert_int_equal(
            classic_keys_sector(cp, s == 0 ? mm : mb,
                                &(struct classic_keys_card){f->info.uid, 4, ISSUER, PROGRAM}, s,
                                f->keys.b[s]),
            LEAL_OK);
        assert_int_equal(classic_keys_sector(
                             cp, ma, &(struct classic_keys_card){f->info.uid, 4, ISSUER, PROGRAM},
                             s, f->keys.a[s]),
                         LEAL_OK);
    }
    memcpy(f->keys.a[0], (uint8_t[6]){0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}, 6);
    assert_int_equal(classic_keys_seal(cp, ms,
                                       &(struct classic_keys_card){f->info.uid, 4, ISSUER, PROGRAM},
                                       f->seal),
                     LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_public(seed, f->pub), LEAL_OK);
    classic_card_init(&f->cc, reader_card_reader(f->r));
}

static void teardown_card(struct fixture *f)
{
    reader_close(f->r);
    test_rmtree(f->dir);
    free(f->dir);
}

static void personalise_with(struct fixture *f, uint8_t flags)
{
    const struct crypto_provider *cp = crypto_openssl();
    struct identity id = {CARD_ID, ISSUER, PROGRAM, 1, IDENTITY_CLASSIC_1K, flags, 20415};
    struct classic_record_state st = {.body = {.seq = 1}, .purse = 0};
    uint8_t rec[32], msg[IDENTITY_MAX_SIGNED], sig[64], ispan[128], sspan[48];
    size_t ml;
    assert_int_equal(identity_encode(&id, rec), LEAL_OK);
    assert_int_equal(identity_signed_message(rec, f->info.uid, 4, msg, &ml), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(seed, msg, ml, sig), LEAL_OK);
    assert_int_equal(
        classic_record_identity_seal(&(struct classic_record_key){cp, f->seal}, rec, sig, ispan),
        LEAL_OK);
    assert_int_equal(classic_record_state_seal(&(struct classic_record_key){cp, f->seal}, CARD_ID,
                                               0, &st, sspan),
                     LEAL_OK);
    f->cc.round_trips = 0;
    assert_int_equal(classic_card_personalise(&f->cc, transport, &f->keys, ispan, sspan), LEAL_OK);
    /* Sector 0: 1 + 2 + 1; sectors 1-3: 5 + 5 + 4; slot 0: 5; slot 1: auth +
     * trailer. */
    assert_int_equal(f->cc.round_trips, 25);
}

static void personalise(struct fixture *f)
{
    personalise_with(f, IDENTITY_FLAG_STORED_VALUE);
}

/* A terminal's keys: one seal key and one package public key. */
static struct classic_card_one_key one_key;
static struct classic_card_keyring one_ring;

static struct classic_card_secrets secrets_of(const struct fixture *f, uint32_t purse_cap)
{
    memcpy(one_key.seal, f->seal, 32);
    memcpy(one_key.package_pub, f->pub, 32);
    classic_card_keyring_one(crypto_openssl(), &one_key, &one_ring);
    return (struct classic_card_secrets){&f->keys, &one_ring, f->info.uid, f->info.uid_len,
                                         ISSUER,   PROGRAM,   purse_cap};
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
    assert_int_equal(classic_record_identity_open(&(struct classic_record_key){cp, f.seal}, ispan,
                                                  f.info.uid, 4, f.pub, &id),
                     LEAL_OK);
    assert_int_equal(id.card_id, CARD_ID);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, f.seal}, CARD_ID,
                                                 (const uint8_t *const[]){s0, s1}, &purse, &st,
                                                 &cur),
                     LEAL_OK);
    assert_int_equal(cur, 0);
    assert_int_equal(st.body.seq, 1);

    /* An earn and pay tap: read (19) + the other slot (4) = 23. */
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_read_identity(&f.cc, &f.keys, ispan), LEAL_OK);
    assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, f.seal}, CARD_ID,
                                                 (const uint8_t *const[]){s0, s1}, &purse, &st,
                                                 &cur),
                     LEAL_OK);
    st.body.seq++;
    st.body.points += 40;
    assert_int_equal(classic_record_state_seal(&(struct classic_record_key){cp, f.seal}, CARD_ID,
                                               1 - cur, &st, s1),
                     LEAL_OK);
    assert_int_equal(classic_card_write_state(&f.cc, &f.keys, 1 - cur, s1), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 23);
    assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
    assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, f.seal}, CARD_ID,
                                                 (const uint8_t *const[]){s0, s1}, &purse, &st,
                                                 &cur),
                     LEAL_OK);
    assert_int_equal(cur, 1);
    assert_int_equal(st.body.seq, 2);
    assert_int_equal(st.body.points, 40);

    /* Key A (terminals) cannot write identity, a trailer, or the MAD; the
     * transport key is gone. */
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
            assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, f.seal},
                                                         CARD_ID, (const uint8_t *const[]){s0, s1},
                                                         &purse, &st, &cur),
                             LEAL_OK);
            uint32_t before = st.body.seq;
            st.body.seq++;
            assert_int_equal(classic_record_state_seal(&(struct classic_record_key){cp, f.seal},
                                                       CARD_ID, 1 - cur, &st, next),
                             LEAL_OK);
            struct cardsim_tear tear = {CARDSIM_TEAR_INSIDE_COMMIT, at, kinds[k], 0};
            cardsim_set_tear(reader_sim_card(f.r), &tear);
            leal_err err = classic_card_write_state(&f.cc, &f.keys, 1 - cur, next);
            struct cardsim_tear none = {CARDSIM_TEAR_NONE, 0, CARDSIM_TORN_OLD, 0};
            cardsim_set_tear(reader_sim_card(f.r), &none);
            reader_release(f.r);
            assert_int_equal(reader_wait_card(f.r, 0), LEAL_OK);
            assert_int_equal(classic_card_read_state(&f.cc, &f.keys, s0, s1), LEAL_OK);
            assert_int_equal(classic_record_state_select(&(struct classic_record_key){cp, f.seal},
                                                         CARD_ID, (const uint8_t *const[]){s0, s1},
                                                         &purse, &st, &cur),
                             LEAL_OK);
            /* Either the old state or, if the last block made it whole, the new one.
             */
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
    /* Only TORN_NEW of the last block completes the record: every other tear
     * keeps the old. */
    assert_int_equal(kept_old, 11);
    teardown_card(&f);
}

/* The probe on a blank card leaves sector 0 open with the transport key, and
 * personalisation starts there: 6 + 24 round trips; then the verified view. */
static void test_classic_card_probe_personalise_view(void **state)
{
    (void)state;
    const struct crypto_provider *cp = crypto_openssl();
    struct fixture f;
    struct classic_card_view v;
    struct classic_card_secrets sec;
    enum classic_card_sector st[CLASSIC_CARD_SECTORS];
    struct identity id = {
        CARD_ID, ISSUER, PROGRAM, 1, IDENTITY_CLASSIC_1K, IDENTITY_FLAG_STORED_VALUE, 20415};
    struct classic_record_state s = {.body = {.seq = 1, .points = 25}, .purse = 0};
    uint8_t rec[32], msg[IDENTITY_MAX_SIGNED], sig[64], ispan[128], sspan[48], s0[48];
    size_t ml;

    setup_card(&f);
    sec = secrets_of(&f, 5000);
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_E_CARD_NOT_LEAL); /* blank */
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_probe(&f.cc, transport, &f.keys, st), LEAL_OK);
    for (int i = 0; i < CLASSIC_CARD_SECTORS; i++)
        assert_int_equal(st[i], CLASSIC_CARD_SECTOR_TRANSPORT);
    assert_int_equal(f.cc.round_trips, 6);
    assert_int_equal(identity_encode(&id, rec), LEAL_OK);
    assert_int_equal(identity_signed_message(rec, f.info.uid, 4, msg, &ml), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(seed, msg, ml, sig), LEAL_OK);
    assert_int_equal(
        classic_record_identity_seal(&(struct classic_record_key){cp, f.seal}, rec, sig, ispan),
        LEAL_OK);
    assert_int_equal(
        classic_record_state_seal(&(struct classic_record_key){cp, f.seal}, CARD_ID, 0, &s, sspan),
        LEAL_OK);
    assert_int_equal(classic_card_personalise(&f.cc, transport, &f.keys, ispan, sspan), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 6 + 24);

    /* What was written, with the new keys A: slot 0 and sector 5 opened (5 RT).
     */
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_read_issued_state(&f.cc, &f.keys, s0), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 5);
    assert_memory_equal(s0, sspan, 48);

    f.cc.round_trips = 0;
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 19);
    assert_int_equal(v.id.card_id, CARD_ID);
    assert_int_equal(v.id.issuer_id, ISSUER);
    assert_int_equal(v.id.program_id, PROGRAM);
    assert_int_equal(v.id.key_set_version, 1);
    assert_int_equal(v.id.card_kind, IDENTITY_CLASSIC_1K);
    assert_int_equal(v.id.flags, IDENTITY_FLAG_STORED_VALUE);
    assert_int_equal(v.id.issued_day, 20415);
    assert_int_equal(v.current, 0);
    assert_int_equal(v.state.body.seq, 1);
    assert_int_equal(v.state.body.points, 25);
    assert_int_equal(v.state.purse, 0);
    assert_memory_equal(v.mark, sspan + 2, 16);
    assert_int_equal(v.id_seal_version, 1);
    assert_int_equal(v.id_package_version, 1);
    assert_int_equal(v.slot_seal_version[0], 1);
    assert_int_equal(v.slot_seal_version[1], 0); /* zeros: does not open */
    /* Another program's reader refuses it, sealed and signed with the same keys.
     */
    struct classic_card_view other;
    sec.program_id = PROGRAM + 1;
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &other), LEAL_E_CARD_TAMPERED);
    sec.program_id = PROGRAM;
    /* A credit of 5.00 and 10 points: sealed for slot 1 at seq 2, written (4 RT),
     * and the view moved to it; a fresh read sees the same. */
    struct classic_record_state next = v.state;
    struct classic_card_view again;
    uint8_t nspan[48];
    next.purse += 500;
    next.body.points += 10;
    assert_int_equal(classic_card_seal_next(&sec, &v, &next, nspan), LEAL_OK);
    assert_int_equal(next.body.seq, 2);
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_write_next(&f.cc, &sec, &next, nspan, &v), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 4);
    assert_int_equal(v.current, 1);
    assert_int_equal(v.state.body.seq, 2);
    assert_int_equal(v.state.body.points, 35);
    assert_int_equal(v.state.purse, 500);
    assert_memory_equal(v.mark, nspan + 2, 16);
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &again), LEAL_OK);
    assert_int_equal(again.current, 1);
    assert_int_equal(again.state.body.seq, 2);
    assert_int_equal(again.state.body.points, 35);
    assert_int_equal(again.state.purse, 500);
    assert_memory_equal(again.mark, v.mark, 16);
    assert_memory_equal(again.slot[1], nspan, 48);
    /* Slot 1 kept the blank card's blocks until then; slot 0 still holds seq 1. */
    assert_memory_equal(again.slot[0], sspan, 48);
    teardown_card(&f);
}

/* An issued card's slot 1 is the blank card's, never written at issuance. */
static void test_classic_card_issued_slot1_untouched(void **state)
{
    (void)state;
    struct fixture f;
    static const uint8_t zero[16] = {0};

    setup_card(&f);
    personalise(&f);
    /* Slot 1 kept the blank card's blocks. */
    const struct card_reader *rd = reader_card_reader(f.r);
    uint8_t blk[16];
    assert_int_equal(rd->classic_auth(rd->ctx, 20, CLASSIC_KEY_A, f.keys.a[5]), LEAL_OK);
    for (uint8_t b = 20; b < 23; b++) {
        assert_int_equal(rd->classic_read(rd->ctx, b, blk), LEAL_OK);
        assert_memory_equal(blk, zero, 16);
    }
    teardown_card(&f);
}

/* The purse rule is the codec's, applied once to the current slot: 12.34 on a
 * stored-value card reads under a 50.00 cap and is tampering under a 10.00 one;
 * a card without the flag holding any money is tampering. */
static void test_classic_card_view_purse_rule(void **state)
{
    (void)state;
    const struct crypto_provider *cp = crypto_openssl();
    struct fixture f;
    struct classic_card_view v;
    struct classic_card_secrets sec;
    struct classic_record_state s = {.body = {.seq = 2, .points = 40}, .purse = 1234};
    uint8_t span[48];

    for (int flagged = 1; flagged >= 0; flagged--) {
        setup_card(&f);
        personalise_with(&f, flagged ? IDENTITY_FLAG_STORED_VALUE : 0);
        assert_int_equal(classic_record_state_seal(&(struct classic_record_key){cp, f.seal},
                                                   CARD_ID, 1, &s, span),
                         LEAL_OK);
        assert_int_equal(classic_card_write_state(&f.cc, &f.keys, 1, span), LEAL_OK);
        sec = secrets_of(&f, 5000);
        if (flagged) {
            assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_OK);
            assert_int_equal(v.current, 1);
            assert_int_equal(v.state.body.seq, 2);
            assert_int_equal(v.state.body.points, 40);
            assert_int_equal(v.state.purse, 1234);
            assert_memory_equal(v.mark, span + 2, 16);
            sec = secrets_of(&f, 1000);
        }
        assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_E_CARD_TAMPERED);
        assert_int_equal(v.state.purse, 0); /* nothing delivered */
        teardown_card(&f);
    }
}

/* A personalised card probes as leal's in every sector (key B: 2 RT each); a
 * sector put back to the transport state probes as blank again. */
static void test_classic_card_probe_and_to_transport(void **state)
{
    (void)state;
    struct fixture f;
    enum classic_card_sector st[CLASSIC_CARD_SECTORS];
    static const uint8_t factory[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07,
                                        0x80, 0x69, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint8_t blk[16];

    setup_card(&f);
    personalise(&f);
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_probe(&f.cc, transport, &f.keys, st), LEAL_OK);
    for (int i = 0; i < CLASSIC_CARD_SECTORS; i++)
        assert_int_equal(st[i], CLASSIC_CARD_SECTOR_LEAL);
    assert_int_equal(f.cc.round_trips, 12);
    assert_int_equal(f.cc.transport_open, 0);
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_to_transport(&f.cc, &f.keys, 4), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 5);
    assert_int_equal(classic_card_probe(&f.cc, transport, &f.keys, st), LEAL_OK);
    for (int i = 0; i < CLASSIC_CARD_SECTORS; i++)
        assert_int_equal(st[i], i == 4 ? CLASSIC_CARD_SECTOR_TRANSPORT : CLASSIC_CARD_SECTOR_LEAL);
    /* Sector 4 as the factory left it: zero data, access bytes FF 07 80 and
     * GPB 69. */
    const struct card_reader *rd = reader_card_reader(f.r);
    assert_int_equal(rd->classic_auth(rd->ctx, 16, CLASSIC_KEY_A, transport), LEAL_OK);
    for (uint8_t b = 16; b < 19; b++) {
        assert_int_equal(rd->classic_read(rd->ctx, b, blk), LEAL_OK);
        for (int i = 0; i < 16; i++)
            assert_int_equal(blk[i], 0);
    }
    assert_int_equal(rd->classic_read(rd->ctx, 19, blk), LEAL_OK);
    assert_memory_equal(blk + 6, factory + 6, 4);
    /* A key B nobody has: every sector but the blank one is foreign. */
    struct classic_card_keys other = f.keys;
    memset(other.b, 0x5A, sizeof other.b);
    assert_int_equal(classic_card_probe(&f.cc, transport, &other, st), LEAL_OK);
    for (int i = 0; i < CLASSIC_CARD_SECTORS; i++)
        assert_int_equal(st[i],
                         i == 4 ? CLASSIC_CARD_SECTOR_TRANSPORT : CLASSIC_CARD_SECTOR_FOREIGN);
    teardown_card(&f);
}

/* A desk's keyring after a rotation: seal version 2 current, version 1 older.
 */
struct two_seals {
    uint8_t cur[32], old[32], pub[32];
};

static leal_err two_seal(void *ctx, unsigned nth, uint8_t key[32], uint8_t *version)
{
    struct two_seals *t = ctx;
    if (nth > 1)
        return LEAL_E_NOT_FOUND;
    memcpy(key, nth == 0 ? t->cur : t->old, 32);
    *version = (uint8_t)(2 - nth);
    return LEAL_OK;
}

static leal_err two_public(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version)
{
    struct two_seals *t = ctx;
    if (nth > 0)
        return LEAL_E_NOT_FOUND;
    memcpy(pub, t->pub, 32);
    *version = 1;
    return LEAL_OK;
}

/* A card sealed before a rotation opens under the older seal version; its
 * slots come back re-sealed under the current one, so the selection and the
 * next write work with the current key alone. */
static void test_classic_card_view_after_rotation(void **state)
{
    (void)state;
    const struct crypto_provider *cp = crypto_openssl();
    struct fixture f;
    struct two_seals t;
    struct classic_card_keyring ring = {cp, &t, two_seal, two_public};
    struct classic_card_secrets sec;
    struct classic_card_view v;
    struct classic_record_purse purse = {true, 5000};
    struct classic_record_state st;

    setup_card(&f);
    personalise(&f); /* sealed with f.seal: the older version here */
    memcpy(t.old, f.seal, 32);
    memset(t.cur, 0x42, 32);
    memcpy(t.pub, f.pub, 32);
    sec = secrets_of(&f, 5000);
    sec.ring = &ring;
    f.cc.round_trips = 0;
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_OK);
    assert_int_equal(f.cc.round_trips, 19);
    assert_int_equal(v.id.card_id, CARD_ID);
    assert_int_equal(v.id_seal_version, 1);
    assert_int_equal(v.id_package_version, 1);
    assert_int_equal(v.slot_seal_version[0], 1);
    assert_int_equal(v.slot_seal_version[1], 0);
    assert_int_equal(v.current, 0);
    assert_int_equal(v.state.body.seq, 1);
    assert_int_equal(classic_record_state_open(&(struct classic_record_key){cp, t.cur}, CARD_ID, 0,
                                               v.slot[0], &purse, &st),
                     LEAL_OK);
    assert_int_equal(st.body.seq, 1);
    assert_int_equal(classic_record_state_open(&(struct classic_record_key){cp, t.old}, CARD_ID, 0,
                                               v.slot[0], &purse, &st),
                     LEAL_E_CARD_TAMPERED);
    /* The tag the card carries, not the re-sealed one, marks the state. */
    assert_memory_not_equal(v.mark, v.slot[0] + 2, 16);
    /* With only a key nobody used, nothing opens. */
    memcpy(t.old, t.cur, 32);
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_E_CARD_TAMPERED);
    teardown_card(&f);
}

/* The view both card types share, filled from a Classic verified read: a card
 * issued with stored value, then credited 5.00 and 10 points into slot 1. */
static void test_classic_card_fill_card_view(void **state)
{
    (void)state;
    struct fixture f;
    struct classic_card_secrets sec;
    struct classic_card_view v;
    struct classic_record_state next;
    struct card_view cv;
    uint8_t nspan[48];

    setup_card(&f);
    personalise(&f);
    sec = secrets_of(&f, 5000);
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_OK);
    next = v.state;
    next.purse += 500;
    next.body.points += 10;
    assert_int_equal(classic_card_seal_next(&sec, &v, &next, nspan), LEAL_OK);
    assert_int_equal(classic_card_write_next(&f.cc, &sec, &next, nspan, &v), LEAL_OK);
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_OK);
    memset(&cv, 0xEE, sizeof cv);
    classic_card_fill_view(&v, &sec, &cv);
    assert_int_equal(cv.card_id, CARD_ID);
    assert_int_equal(cv.issuer_id, ISSUER);
    assert_int_equal(cv.program_id, PROGRAM);
    assert_int_equal(cv.kind, IDENTITY_CLASSIC_1K);
    assert_int_equal(cv.key_set_version, 1);
    assert_int_equal(cv.identity_flags, IDENTITY_FLAG_STORED_VALUE);
    assert_int_equal(cv.issued_day, 20415);
    assert_false(cv.random_uid);
    assert_true(cv.stored_value);
    assert_false(card_view_is_desfire(&cv));
    assert_int_equal(cv.uid_len, 4);
    assert_memory_equal(cv.uid, ((uint8_t[]){0x04, 0xA2, 0x19, 0x5C}), 4);
    assert_int_equal(cv.state.seq, 2);
    assert_int_equal(cv.state.points, 10);
    assert_int_equal(cv.state.tier, 0);
    assert_int_equal(cv.purse_cents, 500);
    assert_int_equal(cv.taps, 1);
    assert_int_equal(cv.slot, 1);
    assert_true(cv.has_mark);
    assert_memory_equal(cv.mark, nspan + 2, CARD_VIEW_MARK_LEN);
    assert_int_equal(cv.counter, 0);
    assert_false(cv.has_log);
    for (int r = 0; r <= KEY_ROLE_COUNT; r++)
        assert_int_equal(cv.key_version[r],
                         r == KEY_ROLE_CLASSIC_SEAL || r == KEY_ROLE_PACKAGE_SIGNING ? 1 : 0);
    teardown_card(&f);

    /* Without the stored-value flag: no purse, and the first state's view. */
    setup_card(&f);
    personalise_with(&f, 0);
    sec = secrets_of(&f, 5000);
    assert_int_equal(classic_card_read_view(&f.cc, &sec, &v), LEAL_OK);
    classic_card_fill_view(&v, &sec, &cv);
    assert_int_equal(cv.card_id, CARD_ID);
    assert_int_equal(cv.identity_flags, 0);
    assert_false(cv.stored_value);
    assert_int_equal(cv.state.seq, 1);
    assert_int_equal(cv.state.points, 0);
    assert_int_equal(cv.purse_cents, 0);
    assert_int_equal(cv.taps, 0);
    assert_int_equal(cv.slot, 0);
    assert_memory_equal(cv.mark, v.slot_tag[0], CARD_VIEW_MARK_LEN);
    teardown_card(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_card_probe_personalise_view),
        cmocka_unit_test(test_classic_card_view_purse_rule),
        cmocka_unit_test(test_classic_card_probe_and_to_transport),
        cmocka_unit_test(test_classic_card_view_after_rotation),
        cmocka_unit_test(test_classic_card_fill_card_view),
        cmocka_unit_test(test_classic_card_issued_slot1_untouched),
        cmocka_unit_test(test_classic_card_personalise_read_and_tap),
        cmocka_unit_test(test_classic_card_torn_slot_write_keeps_previous_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
