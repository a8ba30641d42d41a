/* sam_test.c - the SAM-shaped key interface and the software SAM
 * (firmware/core/sam.h): card keys diversified exactly as KEYS.md's golden
 * values (tests/vectors/leal_derive.txt) for the version asked, through the
 * DESFire driver's key source too; roles a terminal never holds refused;
 * versions it lacks refused; keyrings newest first; the journal key; every
 * key wiped and refused once closed. The portable provider, as on a
 * terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/classic/classic_keys.h"
#include "firmware/core/sam.h"
#include "keys/portable/provider_portable.h"
#include "tests/lib/testutil.h"

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out;
    (void)n;
    return LEAL_E_RANDOM;
}
static const struct crypto_provider portable = CRYPTO_PORTABLE_PROVIDER(no_random);

static uint8_t master[16], uid[7], card_id[8], aid[3], key_uid[16], key_card_id[16];
static uint32_t issuer;

static int setup(void **state)
{
    struct vector_record *v;
    uint8_t b[4];
    (void)state;
    if (vectors_load("leal_derive.txt", &v) != 1)
        return -1;
    if (vectors_hex(&v[0], "MASTER", master, 16) != 16 || vectors_hex(&v[0], "UID", uid, 7) != 7 ||
        vectors_hex(&v[0], "CARD_ID", card_id, 8) != 8 || vectors_hex(&v[0], "AID", aid, 3) != 3 ||
        vectors_hex(&v[0], "KEY_UID", key_uid, 16) != 16 ||
        vectors_hex(&v[0], "KEY_CARD_ID", key_card_id, 16) != 16 ||
        vectors_hex(&v[0], "ISSUER", b, 4) != 4) {
        free(v);
        return -1;
    }
    free(v);
    issuer = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

/* A bundle of program 7: terminal versions 1 (another key) and 2 (the golden
 * master), classic-a 3, classic-seal 1 and 4, package keys 1 and 2. */
static void bundle_fill(struct bundle *b)
{
    memset(b, 0, sizeof *b);
    b->issuer_id = issuer;
    b->program_id = 7;
    b->terminal_id = 3;
    b->created = 1000;
    b->expires = 2000;
    b->terminal.nversions = 2;
    b->terminal.v[0].version = 1;
    memset(b->terminal.v[0].key, 0x5a, 16);
    b->terminal.v[1].version = 2;
    memcpy(b->terminal.v[1].key, master, 16);
    b->classic_a.nversions = 1;
    b->classic_a.v[0].version = 3;
    memcpy(b->classic_a.v[0].key, master, 16);
    b->classic_seal.nversions = 2;
    b->classic_seal.v[0].version = 1;
    memset(b->classic_seal.v[0].key, 0x11, 16);
    b->classic_seal.v[1].version = 4;
    memset(b->classic_seal.v[1].key, 0x44, 16);
    b->journal_version = 6;
    memset(b->journal_key, 0x77, 16);
    b->package_public.nversions = 2;
    b->package_public.v[0].version = 1;
    memset(b->package_public.v[0].key, 0xA1, 32);
    b->package_public.v[1].version = 2;
    memset(b->package_public.v[1].key, 0xA2, 32);
}

static void test_desfire_keys(void **state)
{
    struct sam_soft soft;
    struct sam s;
    struct bundle b;
    struct sam_info info;
    struct desfire_card_keys dk;
    struct desfire_card_div div;
    uint8_t out[16], v;
    const struct sam_card by_uid = {uid, 7}, by_id = {card_id, 8};
    (void)state;
    bundle_fill(&b);
    assert_int_equal(sam_soft_open(&soft, &portable, &b, &s), LEAL_OK);
    assert_int_equal(sam_check(&s), LEAL_OK);
    assert_int_equal(s.info(s.ctx, &info), LEAL_OK);
    assert_int_equal(info.issuer_id, issuer);
    assert_int_equal(info.program_id, 7);
    assert_int_equal(info.terminal_id, 3);
    assert_int_equal(info.expires, 2000);
    assert_int_equal(info.journal_key_version, 6);
    assert_int_equal(s.current_version(s.ctx, KEY_ROLE_TERMINAL, &v), LEAL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(s.desfire_key(s.ctx, &by_uid, KEY_ROLE_TERMINAL, 2, aid, out), LEAL_OK);
    assert_memory_equal(out, key_uid, 16);
    assert_int_equal(s.desfire_key(s.ctx, &by_id, KEY_ROLE_TERMINAL, 2, aid, out), LEAL_OK);
    assert_memory_equal(out, key_card_id, 16);
    /* Version 1 is another master: another key. */
    assert_int_equal(s.desfire_key(s.ctx, &by_uid, KEY_ROLE_TERMINAL, 1, aid, out), LEAL_OK);
    assert_memory_not_equal(out, key_uid, 16);
    assert_int_equal(s.desfire_key(s.ctx, &by_uid, KEY_ROLE_TERMINAL, 3, aid, out),
                     LEAL_E_KEY_VERSION);
    /* Roles a terminal never holds. */
    assert_int_equal(s.desfire_key(s.ctx, &by_uid, KEY_ROLE_PURSE_CREDIT, 2, aid, out),
                     LEAL_E_PERMISSION);
    assert_int_equal(s.desfire_key(s.ctx, &by_uid, KEY_ROLE_APP_MASTER, 2, aid, out),
                     LEAL_E_PERMISSION);
    assert_int_equal(s.current_version(s.ctx, KEY_ROLE_PICC_MASTER, &v), LEAL_E_PERMISSION);
    const struct sam_card short_id = {uid, 3};
    assert_int_equal(s.desfire_key(s.ctx, &short_id, KEY_ROLE_TERMINAL, 2, aid, out), LEAL_E_ARG);
    /* The DESFire driver's key source gives the same key. */
    sam_desfire_keys(&s, &dk);
    memcpy(div.id, uid, 7);
    div.len = 7;
    memset(out, 0, sizeof out);
    assert_int_equal(dk.card_key(dk.ctx, &div, KEY_ROLE_TERMINAL, 2, aid, out), LEAL_OK);
    assert_memory_equal(out, key_uid, 16);
    assert_int_equal(dk.current_version(dk.ctx, KEY_ROLE_TERMINAL, &v), LEAL_OK);
    assert_int_equal(v, 2);
    sam_soft_close(&soft);
}

static void test_classic_and_others(void **state)
{
    struct sam_soft soft;
    struct sam s;
    struct bundle b;
    struct classic_card_keys ck;
    struct sam_classic_ring ring_ctx;
    struct classic_card_keyring ring;
    struct package_key pk[PACKAGE_MAX_KEYS];
    uint8_t want[6], seal[32], want_seal[32], pub[32], key[16], v;
    size_t n;
    const uint8_t uid4[4] = {0x04, 0xa2, 0x19, 0x5c};
    const struct classic_keys_card card = {uid4, 4, issuer, 7};
    uint8_t seal_master[16];
    (void)state;
    bundle_fill(&b);
    assert_int_equal(sam_soft_open(&soft, &portable, &b, &s), LEAL_OK);
    assert_int_equal(sam_classic_keys(&s, uid4, 4, 3, &ck), LEAL_OK);
    for (uint8_t sector = 0; sector < CLASSIC_CARD_SECTORS; sector++) {
        uint8_t zero[6] = {0};
        if (sector == 0) {
            assert_memory_equal(ck.a[0], zero, 6); /* the MAD key is public, not the SAM's */
        } else {
            assert_int_equal(classic_keys_sector(&portable, master, &card, sector, want), LEAL_OK);
            assert_memory_equal(ck.a[sector], want, 6);
        }
        assert_memory_equal(ck.b[sector], zero, 6); /* keys B are never a terminal's */
    }
    assert_int_equal(sam_classic_keys(&s, uid4, 4, 1, &ck), LEAL_E_KEY_VERSION);
    /* The keyring: seal 4 then 1, then the end; package keys 2 then 1. */
    assert_int_equal(sam_classic_keyring(&s, &portable, uid4, 4, &ring_ctx, &ring), LEAL_OK);
    assert_int_equal(ring.seal(ring.ctx, 0, seal, &v), LEAL_OK);
    assert_int_equal(v, 4);
    memset(seal_master, 0x44, 16);
    assert_int_equal(classic_keys_seal(&portable, seal_master, &card, want_seal), LEAL_OK);
    assert_memory_equal(seal, want_seal, 32);
    assert_int_equal(ring.seal(ring.ctx, 1, seal, &v), LEAL_OK);
    assert_int_equal(v, 1);
    memset(seal_master, 0x11, 16);
    assert_int_equal(classic_keys_seal(&portable, seal_master, &card, want_seal), LEAL_OK);
    assert_memory_equal(seal, want_seal, 32);
    assert_int_equal(ring.seal(ring.ctx, 2, seal, &v), LEAL_E_NOT_FOUND);
    assert_int_equal(ring.package_public(ring.ctx, 0, pub, &v), LEAL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(pub[0], 0xA2);
    assert_int_equal(sam_package_keys(&s, pk, PACKAGE_MAX_KEYS, &n), LEAL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pk[0].version, 2);
    assert_int_equal(pk[1].version, 1);
    assert_int_equal(pk[1].public_key[31], 0xA1);
    assert_int_equal(sam_package_keys(&s, pk, 1, &n), LEAL_E_NO_SPACE);
    assert_int_equal(s.journal_key(s.ctx, key, &v), LEAL_OK);
    assert_int_equal(v, 6);
    assert_int_equal(key[15], 0x77);
    /* Closed: every key wiped, every call refused. */
    sam_soft_close(&soft);
    static const uint8_t zeros[sizeof soft];
    assert_memory_equal(&soft, zeros, sizeof soft);
    assert_int_equal(s.journal_key(s.ctx, key, &v), LEAL_E_STATE);
    assert_int_equal(s.current_version(s.ctx, KEY_ROLE_TERMINAL, &v), LEAL_E_STATE);
    assert_int_equal(ring.seal(ring.ctx, 0, seal, &v), LEAL_E_STATE);
    assert_int_equal(s.classic_sector_key(s.ctx, &(struct sam_card){uid4, 4}, 3, 1, want),
                     LEAL_E_STATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desfire_keys),
        cmocka_unit_test(test_classic_and_others),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
