/* desfire_tx_test.c - the virtual DESFire's transactions (MF3ICDx21_41_81 §8.4)
 * and value-file rules (§3.3), with exact bytes: what is committed, what
 * aborts, NO_CHANGES, LimitedCredit's limits, records; and every key of an
 * application against every value-file operation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/desfire_host.h"
#include "tests/lib/simcard.h"
#include "tests/lib/testutil.h"

static const uint8_t zero_key[16];

static void auth(struct simcard *s, struct dfh *h, uint8_t keyno, const uint8_t *key)
{
    static const uint8_t rnda[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    dfh_init(h, simcard_xfer, s);
    assert_int_equal(dfh_auth(h, 0xAA, keyno, DFH_AES_KEY, key, 16, rnda), 0);
}

static int sm(struct dfh *h, const char *hdr, int comm, uint8_t *out, size_t *ol, size_t rlen)
{
    uint8_t hb[64], tmp[512];
    size_t tl;
    long hl = hex_decode(hdr, hb, sizeof hb);
    assert_true(hl > 0);
    return dfh_cmd(h, hb, (size_t)hl, NULL, 0, comm, out ? out : tmp, 512, ol ? ol : &tl, comm,
                   rlen);
}

/* App 000001 (AES, 1 key) with free-access files: backup 1 (8 bytes), value 2
 * (0..1000, 100, LimitedCredit), linear 3 and cyclic 4 (4-byte records, 3),
 * value 5 (no LimitedCredit). */
static void tx_card(struct simcard *s)
{
    simcard_new(s, "desfire-ev1");
    simcard_expect(s, "ca 010000 0f 81", "00");
    simcard_expect(s, "5a 010000", "00");
    simcard_expect(s, "cb 01 00 eeee 080000", "00");
    simcard_expect(s, "cc 02 00 eeee 00000000 e8030000 64000000 01", "00");
    simcard_expect(s, "c1 03 00 eeee 040000 030000", "00");
    simcard_expect(s, "c0 04 00 eeee 040000 030000", "00");
    simcard_expect(s, "cc 05 00 eeee 00000000 e8030000 64000000 00", "00");
}

static void test_backup_file_keeps_committed_until_commit(void **state)
{
    struct simcard s;
    (void)state;
    tx_card(&s);
    simcard_expect(&s, "3d 01 000000 080000 1122334455667788", "00");
    simcard_expect(&s, "bd 01 000000 000000", "00 0000000000000000"); /* committed */
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "bd 01 000000 000000", "00 1122334455667788");
    simcard_expect(&s, "c7", "0c"); /* nothing pending */
    simcard_expect(&s, "a7", "0c");
    simcard_expect(&s, "3d 01 000000 020000 aabb", "00");
    simcard_expect(&s, "a7", "00");
    simcard_expect(&s, "c7", "0c");
    simcard_expect(&s, "bd 01 000000 000000", "00 1122334455667788");
    simcard_free(&s);
}

static void test_what_aborts_a_transaction(void **state)
{
    struct simcard s;
    struct dfh h;
    struct cardsim_ident id;
    (void)state;
    tx_card(&s);
    /* A select. */
    simcard_expect(&s, "3d 01 000000 020000 aabb", "00");
    simcard_expect(&s, "5a 010000", "00");
    simcard_expect(&s, "c7", "0c");
    /* An error status: ReadRecords on an empty file. */
    simcard_expect(&s, "0c 02 05000000", "00");
    simcard_expect(&s, "bb 03 000000 000000", "be");
    simcard_expect(&s, "c7", "0c");
    /* The card leaving the field. */
    simcard_expect(&s, "dc 02 05000000", "00");
    cardsim_deactivate(s.card);
    assert_int_equal(cardsim_activate(s.card, &id), LEAL_OK);
    simcard_expect(&s, "5a 010000", "00");
    simcard_expect(&s, "c7", "0c");
    simcard_expect(&s, "6c 02", "00 64000000");
    /* A new authentication. */
    simcard_expect(&s, "3d 01 000000 020000 aabb", "00");
    auth(&s, &h, 0, zero_key);
    assert_int_equal(sm(&h, "c7", DFH_PLAIN, NULL, NULL, 0), 0x0C);
    simcard_free(&s);
}

static void test_credit_debit_limited_credit(void **state)
{
    struct simcard s;
    (void)state;
    tx_card(&s);
    simcard_expect(&s, "0c 02 64000000", "00"); /* credit 100 */
    simcard_expect(&s, "dc 02 61000000", "00"); /* debit 97 */
    simcard_expect(&s, "6c 02", "00 64000000"); /* still the committed 100 */
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "6c 02", "00 67000000"); /* 103 */
    /* LimitedCredit gives back at most this transaction's debits (97), once. */
    simcard_expect(&s, "f5 02", "00 02 00 eeee 00000000 e8030000 61000000 01");
    simcard_expect(&s, "1c 02 62000000", "be");
    simcard_expect(&s, "1c 02 30000000", "00");
    simcard_expect(&s, "1c 02 01000000", "be"); /* once per debit transaction */
    simcard_expect(&s, "c7", "0c");             /* the error aborted */
    simcard_expect(&s, "1c 02 30000000", "00");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "6c 02", "00 97000000"); /* 151 */
    simcard_expect(&s, "1c 02 01000000", "be");
    simcard_expect(&s, "f5 02", "00 02 00 eeee 00000000 e8030000 00000000 01");
    /* Limits and signs. */
    simcard_expect(&s, "dc 02 98000000", "be"); /* below the lower limit */
    simcard_expect(&s, "0c 02 52030000", "be"); /* above the upper limit (151 + 850) */
    simcard_expect(&s, "0c 02 ffffffff", "9e"); /* negative */
    simcard_expect(&s, "1c 05 01000000", "9d"); /* LimitedCredit not enabled */
    simcard_expect(&s, "0c 02 0100", "7e");
    simcard_free(&s);
}

static void test_records_linear_cyclic(void **state)
{
    struct simcard s;
    (void)state;
    tx_card(&s);
    /* Two writes of one transaction go to the same new record. */
    simcard_expect(&s, "3b 03 000000 020000 a1a2", "00");
    simcard_expect(&s, "3b 03 020000 020000 a3a4", "00");
    simcard_expect(&s, "bb 03 000000 000000", "be"); /* not committed: empty */
    simcard_expect(&s, "3b 03 000000 020000 a1a2", "00");
    simcard_expect(&s, "3b 03 020000 020000 a3a4", "00");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "3b 03 000000 040000 b1b2b3b4", "00");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "3b 03 000000 040000 c1c2c3c4", "00");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "f5 03", "00 03 00 eeee 040000 030000 030000");
    simcard_expect(&s, "3b 03 000000 040000 d1d2d3d4", "be"); /* full */
    simcard_expect(&s, "bb 03 000000 000000", "00 a1a2a3a4 b1b2b3b4 c1c2c3c4");
    simcard_expect(&s, "bb 03 000000 010000", "00 c1c2c3c4"); /* newest */
    simcard_expect(&s, "bb 03 010000 020000", "00 a1a2a3a4 b1b2b3b4");
    simcard_expect(&s, "bb 03 030000 010000", "be");
    simcard_expect(&s, "3b 03 030000 020000 0102", "be"); /* past the record */
    simcard_expect(&s, "eb 03", "00");
    simcard_expect(&s, "bb 03 000000 000000", "00 a1a2a3a4 b1b2b3b4 c1c2c3c4");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "bb 03 000000 000000", "be");
    /* Cyclic with 3 records keeps 2 (one is the transaction's spare). */
    simcard_expect(&s, "3b 04 000000 040000 01010101", "00");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "3b 04 000000 040000 02020202", "00");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "3b 04 000000 040000 03030303", "00");
    simcard_expect(&s, "c7", "00");
    simcard_expect(&s, "bb 04 000000 000000", "00 02020202 03030303");
    simcard_free(&s);
}

/* Value file with R=1, W=2, RW=3, Change=0 and LimitedCredit enabled; keys
 * 0..4; each key (and none) against each operation. */
static void test_value_rights_every_key_every_operation(void **state)
{
    /* rows: no auth, key 0..4; columns: GetValue, Debit, Credit, LimitedCredit */
    static const int want[6][4] = {
        {0xAE, 0xAE, 0xAE, 0xAE}, {0x9D, 0x9D, 0x9D, 0x9D}, {0x00, 0x00, 0x9D, 0x9D},
        {0x00, 0x00, 0x9D, 0x00}, {0x00, 0x00, 0x00, 0x00}, {0x9D, 0x9D, 0x9D, 0x9D},
    };
    static const char *ops[4] = {"6c 01", "dc 01 01000000", "0c 01 01000000", "1c 01 01000000"};
    (void)state;
    for (int who = 0; who < 6; who++) {
        for (int op = 0; op < 4; op++) {
            struct simcard s;
            struct dfh h;
            uint8_t out[16];
            size_t ol;
            int st;
            simcard_new(&s, "desfire-ev1");
            simcard_expect(&s, "ca 010000 0f 85", "00");
            simcard_expect(&s, "5a 010000", "00");
            simcard_expect(&s, "cc 01 00 3012 00000000 e8030000 64000000 01", "00");
            /* A committed debit of 5 so that LimitedCredit has something to give back. */
            auth(&s, &h, 1, zero_key);
            assert_int_equal(sm(&h, "dc 01 05000000", DFH_PLAIN, NULL, NULL, 0), 0);
            assert_int_equal(sm(&h, "c7", DFH_PLAIN, NULL, NULL, 0), 0);
            if (who == 0) {
                simcard_expect(&s, "5a 010000", "00");
                dfh_init(&h, simcard_xfer, &s);
            } else {
                auth(&s, &h, (uint8_t)(who - 1), zero_key);
            }
            st = sm(&h, ops[op], DFH_PLAIN, out, &ol, op == 0 ? 4 : 0);
            if (st != want[who][op])
                fail_msg("key %d op %s: status %02x, want %02x", who - 1, ops[op], st,
                         want[who][op]);
            if (st == 0 && op == 0) {
                assert_int_equal(ol, 4);
                assert_memory_equal(out, "\x5f\0\0\0", 4); /* 95 */
            }
            if (st == 0 && op > 0) {
                /* The change is real once committed. */
                static const uint8_t after[4][4] = {
                    {0}, {0x5e, 0, 0, 0}, {0x60, 0, 0, 0}, {0x60, 0, 0, 0}};
                assert_int_equal(sm(&h, "c7", DFH_PLAIN, NULL, NULL, 0), 0);
                auth(&s, &h, 1, zero_key);
                assert_int_equal(sm(&h, "6c 01", DFH_PLAIN, out, &ol, 4), 0);
                assert_memory_equal(out, after[op], 4);
            }
            simcard_free(&s);
        }
    }
}

static void test_free_get_value_option(void **state)
{
    struct simcard s;
    (void)state;
    simcard_new(&s, "desfire-ev1");
    simcard_expect(&s, "ca 010000 0f 81", "00");
    simcard_expect(&s, "5a 010000", "00");
    simcard_expect(&s, "cc 01 03 0000 00000000 e8030000 2a000000 02", "00");
    simcard_expect(&s, "cc 02 03 0000 00000000 e8030000 2a000000 00", "00");
    simcard_expect(&s, "6c 01", "00 2a000000"); /* free, and plain */
    simcard_expect(&s, "6c 02", "ae");
    simcard_expect(&s, "dc 01 01000000", "ae"); /* only GetValue is free */
    simcard_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_file_keeps_committed_until_commit),
        cmocka_unit_test(test_what_aborts_a_transaction),
        cmocka_unit_test(test_credit_debit_limited_credit),
        cmocka_unit_test(test_records_linear_cyclic),
        cmocka_unit_test(test_value_rights_every_key_every_operation),
        cmocka_unit_test(test_free_get_value_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
