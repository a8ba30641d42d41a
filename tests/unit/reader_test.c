/* reader_test.c - the reader layer through its sim: backend: specs, the
 * virtual-reader rule, card identity (the ATR a PC/SC reader would build),
 * the card_reader door for drivers, persistence of the card file, and the
 * PC/SC face's own answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/cardsim/cardsim.h"
#include "host/reader/reader.h"
#include "tests/lib/testutil.h"

static char *dir;
static char card_path[512];

static int setup(void **state)
{
    struct cardsim *c;
    static const uint8_t uid[7] = {0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6};
    (void)state;
    dir = test_tmpdir();
    snprintf(card_path, sizeof card_path, "%s/card.json", dir);
    assert_int_equal(cardsim_new("desfire-ev3-8k", uid, 7, false, &c), LEAL_OK);
    assert_int_equal(cardsim_save(c, card_path), LEAL_OK);
    cardsim_free(c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_rmtree(dir);
    free(dir);
    return 0;
}

static void test_specs(void **state)
{
    struct reader *r = NULL;
    char spec[600];
    (void)state;
    assert_int_equal(reader_open("bogus:x", NULL, &r), LEAL_E_USAGE);
    assert_int_equal(reader_open("sim:", NULL, &r), LEAL_E_USAGE);
    snprintf(spec, sizeof spec, "sim:%s/missing.json", dir);
    assert_int_equal(reader_open(spec, NULL, &r), LEAL_E_NO_READER);
    assert_null(r);
    assert_true(reader_name_is_virtual("Virtual PCD 00 00"));
    assert_true(reader_name_is_virtual("Virtual PCD 00 01"));
    assert_false(reader_name_is_virtual("ACS ACR122U PICC Interface 00 00"));
}

static void test_sim_identity_and_door(void **state)
{
    struct reader *r = NULL;
    struct reader_card c;
    const struct card_reader *door;
    char spec[600];
    uint8_t resp[64];
    size_t rl;
    (void)state;
    snprintf(spec, sizeof spec, "sim:%s", card_path);
    assert_int_equal(reader_open(spec, NULL, &r), LEAL_OK);
    assert_string_equal(reader_name(r), spec);
    assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
    assert_int_equal(reader_card_info(r, &c), LEAL_OK);
    assert_int_equal(c.uid_len, 7);
    assert_memory_equal(c.uid, "\x04\xA1\xB2\xC3\xD4\xE5\xF6", 7);
    assert_int_equal(c.atr_len, 6);
    assert_memory_equal(c.atr, "\x3B\x81\x80\x01\x80\x80", 6);
    assert_int_equal(c.historical_len, 1);
    assert_int_equal(c.historical[0], 0x80);
    door = reader_card_reader(r);
    /* The reader's own answers, then the card's. */
    assert_int_equal(door->transceive(door->ctx, (const uint8_t *)"\xFF\xCA\x00\x00\x00", 5, resp,
                                      sizeof resp, &rl),
                     LEAL_OK);
    assert_int_equal(rl, 9);
    assert_memory_equal(resp, "\x04\xA1\xB2\xC3\xD4\xE5\xF6\x90\x00", 9);
    assert_int_equal(door->transceive(door->ctx, (const uint8_t *)"\xFF\xCA\x02\x00\x00", 5, resp,
                                      sizeof resp, &rl),
                     LEAL_OK);
    assert_memory_equal(resp, "\x6A\x81", 2);
    assert_int_equal(door->transceive(door->ctx, (const uint8_t *)"\x90\x60\x00\x00\x00", 5, resp,
                                      sizeof resp, &rl),
                     LEAL_OK);
    assert_int_equal(rl, 9);
    assert_memory_equal(resp, "\x04\x01\x01\x33\x00\x1A\x05\x91\xAF", 9);
    /* A DESFire is no Classic: the part 3 storage commands are refused. */
    assert_int_equal(door->classic_read(door->ctx, 4, resp), LEAL_E_CARD_STATUS);
    /* A change reaches the card file at once. */
    assert_int_equal(
        door->transceive(door->ctx, (const uint8_t *)"\x90\xCA\x00\x00\x05\x01\x00\x00\x0F\x01\x00",
                         11, resp, sizeof resp, &rl),
        LEAL_OK);
    assert_memory_equal(resp, "\x91\x00", 2);
    {
        struct cardsim *c2;
        uint8_t r2[64];
        size_t l2;
        struct cardsim_ident id;
        assert_int_equal(cardsim_load(card_path, &c2), LEAL_OK);
        assert_int_equal(cardsim_activate(c2, &id), LEAL_OK);
        assert_int_equal(cardsim_transceive(c2, (const uint8_t *)"\x6A", 1, r2, sizeof r2, &l2),
                         LEAL_OK);
        assert_int_equal(l2, 4);
        assert_memory_equal(r2, "\x00\x01\x00\x00", 4);
        cardsim_free(c2);
    }
    reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_specs),
        cmocka_unit_test(test_sim_identity_and_door),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
