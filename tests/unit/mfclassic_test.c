/* mfclassic_test.c - MIFARE Classic arithmetic, access bits, trailers and MAD v1
 * against published bytes (NXP MF1S50 access table section 8.7,
 * libfreefare's trailer test, the NFC Forum MAD of an NDEF-formatted 1K). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/classic/mfclassic.h"

static void test_classic_sector_arithmetic_1k_and_4k(void **state)
{
    (void)state;
    assert_int_equal(mfclassic_sectors(MFCLASSIC_1K), 16);
    assert_int_equal(mfclassic_sectors(MFCLASSIC_4K), 40);
    assert_int_equal(mfclassic_sector_first_block(5), 20);
    assert_int_equal(mfclassic_trailer_block(5), 23);
    assert_int_equal(mfclassic_trailer_block(31), 127);
    assert_int_equal(mfclassic_sector_first_block(32), 128);
    assert_int_equal(mfclassic_trailer_block(32), 143);
    assert_int_equal(mfclassic_trailer_block(39), 255);
    assert_int_equal(mfclassic_block_sector(127), 31);
    assert_int_equal(mfclassic_block_sector(128), 32);
    assert_int_equal(mfclassic_block_sector(255), 39);
    assert_int_equal(mfclassic_block_check(MFCLASSIC_1K, 63), LEAL_OK);
    assert_int_equal(mfclassic_block_check(MFCLASSIC_1K, 64), LEAL_E_ARG);
    assert_int_equal(mfclassic_block_check(MFCLASSIC_4K, 255), LEAL_OK);
    assert_int_equal(mfclassic_block_check(MFCLASSIC_4K, 256), LEAL_E_ARG);
}

static void test_classic_access_bits_published_values(void **state)
{
    (void)state;
    struct {
        uint8_t cond[4];
        uint8_t bytes[3];
    } cases[] = {
        {{0, 0, 0, 1}, {0xFF, 0x07, 0x80}}, /* transport */
        {{6, 6, 6, 3}, {0x08, 0x77, 0x8F}}, /* value sector */
        {{1, 1, 1, 3}, {0x7F, 0x00, 0xF8}}, /* read/decrement only */
        {{4, 4, 4, 3}, {0x78, 0x77, 0x88}}, /* NFC Forum MAD sector; leal MAD and identity */
        {{0, 0, 0, 3}, {0x7F, 0x07, 0x88}}, /* NFC Forum NDEF sectors; leal state */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[3], cond[4];
        assert_int_equal(mfclassic_access_encode(cases[i].cond, out), LEAL_OK);
        assert_memory_equal(out, cases[i].bytes, 3);
        assert_int_equal(mfclassic_access_decode(cases[i].bytes, cond), LEAL_OK);
        assert_memory_equal(cond, cases[i].cond, 4);
    }
    uint8_t bad[3] = {0xFF, 0x07, 0x81}, cond[4], big[4] = {8, 0, 0, 0}, out[3];
    assert_int_equal(mfclassic_access_decode(bad, cond), LEAL_E_FORMAT);
    assert_int_equal(mfclassic_access_encode(big, out), LEAL_E_ARG);
}

static void test_classic_trailer_libfreefare_example(void **state)
{
    (void)state;
    /* libfreefare test: trailer(FF.., 0,0,0, C_100 (= C1C2C3 001), gpb 0x42, DEADBEEFFFFF). */
    static const uint8_t ka[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t kb[6] = {0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFF};
    static const uint8_t want[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07,
                                     0x80, 0x42, 0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFF};
    const uint8_t cond[4] = {0, 0, 0, 1};
    uint8_t out[16];
    assert_int_equal(mfclassic_trailer_build(ka, cond, 0x42, kb, out), LEAL_OK);
    assert_memory_equal(out, want, 16);
}

static void test_classic_mad1_nfc_forum_example(void **state)
{
    (void)state;
    /* An NDEF-formatted 1K: block 1 = 14 01 03E1 x7, block 2 = 03E1 x8. */
    uint16_t aids[15], back[15];
    uint8_t out[32], info;
    for (int i = 0; i < 15; i++)
        aids[i] = 0xE103;
    assert_int_equal(mfclassic_mad1_encode(0x01, aids, out), LEAL_OK);
    assert_int_equal(out[0], 0x14);
    assert_int_equal(out[1], 0x01);
    for (int i = 0; i < 15; i++) {
        assert_int_equal(out[2 + 2 * i], 0x03);
        assert_int_equal(out[3 + 2 * i], 0xE1);
    }
    assert_int_equal(mfclassic_mad1_decode(out, &info, back), LEAL_OK);
    assert_int_equal(info, 1);
    assert_memory_equal(back, aids, sizeof aids);
    out[5] ^= 1;
    assert_int_equal(mfclassic_mad1_decode(out, &info, back), LEAL_E_CARD_TAMPERED);
    assert_int_equal(mfclassic_mad1_encode(0x40, aids, out), LEAL_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_sector_arithmetic_1k_and_4k),
        cmocka_unit_test(test_classic_access_bits_published_values),
        cmocka_unit_test(test_classic_trailer_libfreefare_example),
        cmocka_unit_test(test_classic_mad1_nfc_forum_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
