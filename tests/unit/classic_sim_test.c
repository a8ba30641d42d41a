/* classic_sim_test.c - MIFARE Classic card engine: access conditions generated
 * from NXP's datasheet tables (MF1S50yyX §8.7, every combination, both keys),
 * value blocks against the ACS and Identiv manual examples, tearing, sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/cardsim/classic_sim.h"
#include "tests/lib/testutil.h"

/* NXP MF1S50yyX Table 8 "Access conditions for data blocks", rows as printed
 * (C1 C2 C3): read, write, increment, decrement/transfer/restore. */
static const char *const datasheet_data[8] = {
    "000 A|B A|B A|B A|B",     "010 A|B never never never",   "100 A|B B never never",
    "110 A|B B B A|B",         "001 A|B never never A|B",     "011 B B never never",
    "101 B never never never", "111 never never never never",
};
/* Table 7 "Access conditions for the sector trailer" (C1 C2 C3): key A read,
 * key A write, access bits read, access bits write, key B read, key B write. */
static const char *const datasheet_trailer[8] = {
    "000 never A A never A A",
    "010 never never A never A never",
    "100 never B A|B never never B",
    "110 never never A|B never never never",
    "001 never A A A A A",
    "011 never B A|B B never B",
    "101 never never A|B B never never",
    "111 never never A|B never never never",
};

#define KEYA "a0a1a2a3a4a5"
#define KEYB "b0b1b2b3b4b5"
static const uint8_t uid4[4] = {0xDE, 0xAD, 0xBE, 0xEF};

/* Parses one table row: cond (C1<<2|C2<<1|C3) and n columns as key masks (1 A, 2 B). */
static uint8_t parse_row(const char *row, int n, uint8_t *cols)
{
    char buf[128];
    char *save = NULL, *tok;
    uint8_t cond;
    assert_true(strlen(row) < sizeof buf);
    memcpy(buf, row, strlen(row) + 1);
    tok = strtok_r(buf, " ", &save);
    cond = (uint8_t)((tok[0] - '0') << 2 | (tok[1] - '0') << 1 | (tok[2] - '0'));
    for (int i = 0; i < n; i++) {
        tok = strtok_r(NULL, " ", &save);
        assert_non_null(tok);
        cols[i] = strcmp(tok, "A|B") == 0 ? 3
                  : strcmp(tok, "A") == 0 ? 1
                  : strcmp(tok, "B") == 0 ? 2
                                          : 0;
        if (cols[i] == 0)
            assert_string_equal(tok, "never");
    }
    return cond;
}

static size_t xchg(struct classic_sim *c, const char *hex, uint8_t *resp)
{
    uint8_t cmd[64];
    size_t rl = 99;
    long n = hex_decode(hex, cmd, sizeof cmd);
    assert_true(n > 0);
    assert_int_equal(classic_sim_exchange(c, cmd, (size_t)n, resp, 16, &rl), LEAL_OK);
    return rl;
}

static void expect(struct classic_sim *c, const char *cmd, const char *answer)
{
    uint8_t resp[16], want[16];
    long wl = hex_decode(answer, want, sizeof want);
    size_t rl = xchg(c, cmd, resp);
    assert_int_equal(rl, (size_t)wl);
    assert_memory_equal(resp, want, rl);
}

static void auth(struct classic_sim *c, uint8_t key, unsigned block, const char *keyhex)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%02x%02x%sdeadbeef", key, block, keyhex);
    expect(c, cmd, "0a");
}

static void fresh(struct classic_sim *c, bool is4k)
{
    assert_int_equal(classic_sim_init(c, is4k, uid4, 4), LEAL_OK);
    classic_sim_activate(c);
}

/* Sector 1 with keys A0.., B0.., the three data groups at dcond, trailer at tcond. */
static void set_sector1(struct classic_sim *c, uint8_t dcond, uint8_t tcond)
{
    uint8_t cond[4] = {dcond, dcond, dcond, tcond};
    hex_decode(KEYA "00000069" KEYB, c->mem[7], 16);
    classic_access_encode(cond, c->mem[7] + 6);
    classic_value_encode(1000, 4, c->mem[4]);
    for (int i = 0; i < 16; i++)
        c->mem[5][i] = (uint8_t)(0x50 + i);
    memset(c->mem[6], 0x66, 16);
}

static void test_classic_access_bits_known_encodings(void **state)
{
    (void)state;
    /* MF1S50 §8.7 access bits: transport, value sector, read/decrement-only sector. */
    static const struct {
        const char *hex;
        uint8_t cond[4];
    } known[] = {
        {"ff0780", {0, 0, 0, 1}},
        {"08778f", {6, 6, 6, 3}},
        {"7f00f8", {1, 1, 1, 3}},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint8_t ab[3], cond[4], enc[3];
        hex_decode(known[i].hex, ab, 3);
        assert_int_equal(classic_access_decode(ab, cond), LEAL_OK);
        assert_memory_equal(cond, known[i].cond, 4);
        classic_access_encode(known[i].cond, enc);
        assert_memory_equal(enc, ab, 3);
    }
}

static void test_classic_access_bits_every_combination_round_trips(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 4096; v++) {
        uint8_t cond[4] = {v & 7, (v >> 3) & 7, (v >> 6) & 7, (v >> 9) & 7}, back[4], ab[3];
        classic_access_encode(cond, ab);
        assert_int_equal(classic_access_decode(ab, back), LEAL_OK);
        assert_memory_equal(back, cond, 4);
        /* Every bit is stored twice (once inverted): any single flip is malformed. */
        for (unsigned bit = 0; bit < 24; bit++) {
            uint8_t bad[3] = {ab[0], ab[1], ab[2]};
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(classic_access_decode(bad, back), LEAL_E_FORMAT);
        }
    }
}

static void test_classic_access_tables_match_datasheet(void **state)
{
    (void)state;
    for (int r = 0; r < 8; r++) {
        uint8_t cols[6];
        uint8_t cond = parse_row(datasheet_data[r], 4, cols);
        for (int op = 0; op < 4; op++) {
            assert_int_equal(classic_data_allowed(cond, (enum classic_op)op, 0x60, false),
                             (cols[op] & 1) != 0);
            assert_int_equal(classic_data_allowed(cond, (enum classic_op)op, 0x61, false),
                             (cols[op] & 2) != 0);
            /* Key B readable: key B serves for nothing. */
            assert_false(classic_data_allowed(cond, (enum classic_op)op, 0x61, true));
        }
        cond = parse_row(datasheet_trailer[r], 6, cols);
        for (int k = 0; k < 2; k++) {
            struct classic_trailer_rights tr;
            uint8_t m = (uint8_t)(1 << k);
            classic_trailer_rights(cond, (uint8_t)(0x60 + k), &tr);
            assert_int_equal(cols[0], 0);
            assert_int_equal(tr.keya_write, (cols[1] & m) != 0);
            assert_int_equal(tr.access_read, (cols[2] & m) != 0);
            assert_int_equal(tr.access_write, (cols[3] & m) != 0);
            assert_int_equal(tr.keyb_read, (cols[4] & m) != 0);
            assert_int_equal(tr.keyb_write, (cols[5] & m) != 0);
        }
        /* "Key B may be read" rows of the datasheet. */
        assert_int_equal(classic_keyb_readable(cond), cond == 0 || cond == 2 || cond == 1);
    }
}

static void reauth(struct classic_sim *c, uint8_t key)
{
    classic_sim_activate(c);
    auth(c, key, 4, key == 0x60 ? KEYA : KEYB);
}

/* Every data condition x every trailer condition x both keys, on the card. */
static void test_classic_data_block_rights_on_card(void **state)
{
    (void)state;
    static struct classic_sim c;
    for (int r = 0; r < 8; r++) {
        uint8_t cols[4];
        uint8_t dcond = parse_row(datasheet_data[r], 4, cols);
        for (uint8_t tcond = 0; tcond < 8; tcond++) {
            bool kbr = tcond == 0 || tcond == 2 || tcond == 1;
            for (int k = 0; k < 2; k++) {
                uint8_t key = (uint8_t)(0x60 + k), m = (uint8_t)(1 << k);
                bool may[4];
                uint8_t resp[16], before[16], want[16];
                for (int op = 0; op < 4; op++)
                    may[op] = (cols[op] & m) && !(k == 1 && kbr);

                fresh(&c, false);
                set_sector1(&c, dcond, tcond);
                /* read */
                reauth(&c, key);
                if (may[CLASSIC_OP_READ]) {
                    assert_int_equal(xchg(&c, "3005", resp), 16);
                    assert_memory_equal(resp, c.mem[5], 16);
                } else {
                    expect(&c, "3005", "04");
                    expect(&c, "3005", ""); /* NAK dropped the session */
                }
                /* write */
                reauth(&c, key);
                memcpy(before, c.mem[5], 16);
                if (may[CLASSIC_OP_WRITE]) {
                    expect(&c, "a005112233445566778899aabbccddeeff00", "0a");
                    hex_decode("112233445566778899aabbccddeeff00", want, 16);
                    assert_memory_equal(c.mem[5], want, 16);
                } else {
                    expect(&c, "a005112233445566778899aabbccddeeff00", "04");
                    assert_memory_equal(c.mem[5], before, 16);
                }
                /* increment 5 and transfer back */
                reauth(&c, key);
                classic_value_encode(1000, 4, c.mem[4]);
                if (may[CLASSIC_OP_INCREMENT]) {
                    expect(&c, "c10405000000", "0a");
                    if (may[CLASSIC_OP_DECREMENT]) {
                        expect(&c, "b004", "0a");
                        classic_value_encode(1005, 4, want);
                    } else {
                        expect(&c, "b004", "00"); /* NAK with a valid buffer */
                        classic_value_encode(1000, 4, want);
                    }
                } else {
                    expect(&c, "c10405000000", "04");
                    classic_value_encode(1000, 4, want);
                }
                assert_memory_equal(c.mem[4], want, 16);
                /* decrement 7 and transfer back */
                reauth(&c, key);
                classic_value_encode(1000, 4, c.mem[4]);
                if (may[CLASSIC_OP_DECREMENT]) {
                    expect(&c, "c00407000000", "0a");
                    expect(&c, "b004", "0a");
                    classic_value_encode(993, 4, want);
                } else {
                    expect(&c, "c00407000000", "04");
                    classic_value_encode(1000, 4, want);
                }
                assert_memory_equal(c.mem[4], want, 16);
                /* restore 4 and transfer to 6 */
                reauth(&c, key);
                classic_value_encode(1000, 4, c.mem[4]);
                memset(c.mem[6], 0x66, 16);
                if (may[CLASSIC_OP_DECREMENT]) {
                    expect(&c, "c20400000000", "0a");
                    expect(&c, "b006", "0a");
                    classic_value_encode(1000, 4, want);
                } else {
                    expect(&c, "c20400000000", "04");
                    memset(want, 0x66, 16);
                }
                assert_memory_equal(c.mem[6], want, 16);
            }
        }
    }
}

/* Every trailer condition x both keys: what a read shows and what a write changes. */
static void test_classic_trailer_rights_on_card(void **state)
{
    (void)state;
    static struct classic_sim c;
    for (int r = 0; r < 8; r++) {
        uint8_t cols[6];
        uint8_t tcond = parse_row(datasheet_trailer[r], 6, cols);
        for (int k = 0; k < 2; k++) {
            uint8_t key = (uint8_t)(0x60 + k), m = (uint8_t)(1 << k);
            uint8_t resp[16], want[16], stored[16], newac[3];
            uint8_t newcond[4] = {4, 4, 4, 3};

            fresh(&c, false);
            set_sector1(&c, 0, tcond);
            memcpy(stored, c.mem[7], 16);
            reauth(&c, key);
            if (cols[2] & m) {
                assert_int_equal(xchg(&c, "3007", resp), 16);
                memset(want, 0, 16);
                memcpy(want + 6, stored + 6, 4);
                if (cols[4] & m)
                    memcpy(want + 10, stored + 10, 6);
                assert_memory_equal(resp, want, 16);
            } else {
                expect(&c, "3007", "04");
            }

            reauth(&c, key);
            classic_access_encode(newcond, newac);
            char cmd[64];
            snprintf(cmd, sizeof cmd, "a007c0c1c2c3c4c5%02x%02x%02x42d0d1d2d3d4d5", newac[0],
                     newac[1], newac[2]);
            memcpy(want, stored, 16);
            if (cols[1] & m)
                hex_decode("c0c1c2c3c4c5", want, 6);
            if (cols[3] & m) {
                memcpy(want + 6, newac, 3);
                want[9] = 0x42;
            }
            if (cols[5] & m)
                hex_decode("d0d1d2d3d4d5", want + 10, 6);
            expect(&c, cmd, (cols[1] | cols[3] | cols[5]) & m ? "0a" : "04");
            assert_memory_equal(c.mem[7], want, 16);
        }
    }
}

static void test_classic_value_block_vectors(void **state)
{
    (void)state;
    static struct classic_sim c;
    struct vector_record *v;
    int n = vectors_load("classic_value_blocks.txt", &v);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        uint8_t before[16], after[16], val[4], addr, op[4], src, dst, enc[16];
        int32_t dv;
        uint8_t da;
        char cmd[64];
        vectors_hex(&v[i], "BEFORE", before, 16);
        vectors_hex(&v[i], "AFTER", after, 16);
        vectors_hex(&v[i], "VALUE", val, 4);
        vectors_hex(&v[i], "ADDR", &addr, 1);
        vectors_hex(&v[i], "OPERAND", op, 4);
        vectors_hex(&v[i], "SRC", &src, 1);
        vectors_hex(&v[i], "DST", &dst, 1);
        assert_int_equal(classic_value_decode(before, &dv, &da), LEAL_OK);
        assert_int_equal((uint32_t)dv, (uint32_t)val[0] | (uint32_t)val[1] << 8 |
                                           (uint32_t)val[2] << 16 | (uint32_t)val[3] << 24);
        assert_int_equal(da, addr);
        classic_value_encode(dv, da, enc);
        assert_memory_equal(enc, before, 16);

        fresh(&c, false);
        memcpy(c.mem[src], before, 16);
        auth(&c, 0x60, src, "ffffffffffff");
        const char *opname = vectors_str(&v[i], "OP");
        uint8_t code = opname[0] == 'I' ? 0xc1 : opname[0] == 'D' ? 0xc0 : 0xc2;
        snprintf(cmd, sizeof cmd, "%02x%02x%02x%02x%02x%02x", code, src, op[0], op[1], op[2],
                 op[3]);
        expect(&c, cmd, "0a");
        snprintf(cmd, sizeof cmd, "b0%02x", dst);
        expect(&c, cmd, "0a");
        assert_memory_equal(c.mem[dst], after, 16);
    }
    free(v);
}

static void test_classic_value_ops_refuse_malformed_value_block(void **state)
{
    (void)state;
    static struct classic_sim c;
    fresh(&c, false);
    classic_value_encode(7, 4, c.mem[4]);
    c.mem[4][13] ^= 1; /* ~addr wrong */
    auth(&c, 0x60, 4, "ffffffffffff");
    expect(&c, "c10401000000", "04");
    classic_sim_activate(&c);
    auth(&c, 0x60, 4, "ffffffffffff");
    /* A transfer with nothing in the buffer. */
    expect(&c, "b005", "04");
    /* Negative values and wrap-around are two's complement. */
    classic_sim_activate(&c);
    classic_value_encode(-5, 4, c.mem[4]);
    auth(&c, 0x60, 4, "ffffffffffff");
    expect(&c, "c00403000000", "0a");
    expect(&c, "b004", "0a");
    expect(&c, "3004", "f8ffffff07000000f8ffffff04fb04fb");
}

static void test_classic_blank_card_layout(void **state)
{
    (void)state;
    static struct classic_sim c;
    struct cardsim_ident id;
    static const uint8_t uid7[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

    fresh(&c, false);
    classic_sim_ident(&c, &id);
    assert_int_equal(id.uid_len, 4);
    assert_int_equal(id.atqa[0], 0x04);
    assert_int_equal(id.atqa[1], 0x00);
    assert_int_equal(id.sak, 0x08);
    assert_int_equal(id.ats_len, 0);
    auth(&c, 0x60, 0, "ffffffffffff");
    expect(&c, "3000", "deadbeef220804006263646566676869");
    expect(&c, "3001", "00000000000000000000000000000000");
    expect(&c, "3003", "000000000000ff078069ffffffffffff");
    assert_int_equal(c.nblocks, 64);

    fresh(&c, true);
    classic_sim_ident(&c, &id);
    assert_int_equal(id.atqa[0], 0x02);
    assert_int_equal(id.sak, 0x18);
    /* 4K: sector 39 is blocks 240..255, its trailer 255. */
    auth(&c, 0x60, 250, "ffffffffffff");
    expect(&c, "30ff", "000000000000ff078069ffffffffffff");
    assert_int_equal(classic_sector_of(255), 39);
    assert_int_equal(classic_access_group(240), 0);
    assert_int_equal(classic_access_group(244), 0);
    assert_int_equal(classic_access_group(245), 1);
    assert_int_equal(classic_access_group(254), 2);
    assert_int_equal(classic_access_group(255), 3);

    assert_int_equal(classic_sim_init(&c, false, uid7, 7), LEAL_OK);
    classic_sim_ident(&c, &id);
    assert_int_equal(id.uid_len, 7);
    assert_memory_equal(id.uid, uid7, 7);
    assert_int_equal(id.atqa[0], 0x44);
    assert_int_equal(id.sak, 0x08);
    assert_int_equal(classic_sim_init(&c, true, uid7, 7), LEAL_OK);
    classic_sim_ident(&c, &id);
    assert_int_equal(id.atqa[0], 0x42);
    assert_int_equal(id.sak, 0x18);
    /* Authentication uses the last four UID bytes. */
    classic_sim_activate(&c);
    expect(&c, "6004ffffffffffff33445566", "0a");
    static const uint8_t bad[4] = {0x88, 1, 2, 3};
    assert_int_equal(classic_sim_init(&c, false, bad, 4), LEAL_E_ARG);
    assert_int_equal(classic_sim_init(&c, false, bad, 5), LEAL_E_ARG);
}

static void test_classic_block0_is_read_only(void **state)
{
    (void)state;
    static struct classic_sim c;
    uint8_t before[16];
    fresh(&c, false);
    memcpy(before, c.mem[0], 16);
    auth(&c, 0x60, 0, "ffffffffffff");
    expect(&c, "a00000000000000000000000000000000000", "04");
    assert_memory_equal(c.mem[0], before, 16);
    classic_sim_activate(&c);
    auth(&c, 0x60, 1, "ffffffffffff");
    expect(&c, "a00100112233445566778899aabbccddeeff", "0a");
    /* Transport trailer (001): key B is readable, so key B may do nothing. */
    classic_sim_activate(&c);
    auth(&c, 0x61, 1, "ffffffffffff");
    expect(&c, "3001", "04");
}

static void test_classic_wrong_key_drops_session(void **state)
{
    (void)state;
    static struct classic_sim c;
    fresh(&c, false);
    set_sector1(&c, 0, 1);
    expect(&c, "6004ffffffffffffdeadbeef", ""); /* wrong key: silence */
    expect(&c, "3004", "");                     /* and nothing more until re-selected */
    expect(&c, "6004" KEYA "deadbeef", "");
    classic_sim_activate(&c);
    expect(&c, "6004" KEYA "deadbee0", ""); /* wrong UID bytes */
    classic_sim_activate(&c);
    auth(&c, 0x60, 4, KEYA);
    expect(&c, "3000", "04"); /* another sector needs its own authentication */
    classic_sim_activate(&c);
    expect(&c, "3004", "04"); /* not authenticated */
    classic_sim_activate(&c);
    auth(&c, 0x60, 4, KEYA);
    expect(&c, "5000", "");
    expect(&c, "3004", ""); /* halted */
    classic_sim_activate(&c);
    auth(&c, 0x61, 7, KEYB);
    classic_sim_deactivate(&c);
    expect(&c, "3004", ""); /* out of the field */
}

static void test_classic_blocked_sector_refuses_everything(void **state)
{
    (void)state;
    static struct classic_sim c;
    fresh(&c, false);
    auth(&c, 0x60, 7, "ffffffffffff");
    /* Malformed access bits are written as given: the sector is blocked. */
    expect(&c, "a007ffffffffffffff0781690000000000ff", "0a");
    expect(&c, "3007", "04");
    classic_sim_activate(&c);
    auth(&c, 0x60, 4, "ffffffffffff");
    expect(&c, "3004", "04");
}

static void torn(struct classic_sim *c, const char *cmdhex, enum cardsim_torn_block leaves)
{
    uint8_t cmd[32], resp[16];
    size_t rl = 5;
    struct classic_sim_tear t;
    long n = hex_decode(cmdhex, cmd, sizeof cmd);
    t.leaves = leaves;
    memset(t.garbage, 0x5a, 16);
    classic_sim_tear_next(c, &t);
    assert_int_equal(classic_sim_exchange(c, cmd, (size_t)n, resp, 16, &rl), LEAL_E_CARD_REMOVED);
    assert_int_equal(rl, 0);
}

static void test_classic_torn_write_leaves_what_the_test_chooses(void **state)
{
    (void)state;
    static struct classic_sim c;
    uint8_t newb[16], old[16], garbage[16];
    hex_decode("112233445566778899aabbccddeeff00", newb, 16);
    memset(old, 0, 16);
    memset(garbage, 0x5a, 16);
    const uint8_t *want[3] = {old, newb, garbage};
    for (int l = 0; l < 3; l++) {
        fresh(&c, false);
        auth(&c, 0x60, 4, "ffffffffffff");
        torn(&c, "a004112233445566778899aabbccddeeff00", (enum cardsim_torn_block)l);
        assert_memory_equal(c.mem[4], want[l], 16);
        expect(&c, "3004", ""); /* power lost */
    }
}

static void test_classic_torn_value_operation(void **state)
{
    (void)state;
    static struct classic_sim c;
    uint8_t v100[16], v90[16], garbage[16];
    classic_value_encode(100, 5, v100);
    classic_value_encode(90, 5, v90);
    memset(garbage, 0x5a, 16);
    const uint8_t *want[3] = {v100, v90, garbage};
    for (int l = 0; l < 3; l++) {
        fresh(&c, false);
        memcpy(c.mem[5], v100, 16);
        auth(&c, 0x60, 5, "ffffffffffff");
        /* The decrement itself only fills the buffer: a tear there writes nothing. */
        uint8_t resp[16];
        size_t rl;
        struct classic_sim_tear t = {.leaves = (enum cardsim_torn_block)l};
        uint8_t dec[6] = {0xc0, 0x05, 10, 0, 0, 0};
        classic_sim_tear_next(&c, &t);
        assert_int_equal(classic_sim_exchange(&c, dec, 6, resp, 16, &rl), LEAL_OK);
        assert_int_equal(rl, 1);
        assert_memory_equal(c.mem[5], v100, 16);
        torn(&c, "b005", (enum cardsim_torn_block)l);
        assert_memory_equal(c.mem[5], want[l], 16);
    }
}

static void test_classic_malformed_commands_nak(void **state)
{
    (void)state;
    static struct classic_sim c;
    uint8_t resp[16];
    size_t rl;
    fresh(&c, false);
    expect(&c, "60", "04");
    classic_sim_activate(&c);
    expect(&c, "6040ffffffffffffdeadbeef", "04"); /* block 64 on a 1K */
    classic_sim_activate(&c);
    auth(&c, 0x60, 4, "ffffffffffff");
    expect(&c, "300400", "04");
    classic_sim_activate(&c);
    expect(&c, "ff", "04");
    assert_int_equal(classic_sim_exchange(&c, (const uint8_t *)"\x30\x04", 2, resp, 4, &rl),
                     LEAL_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_access_bits_known_encodings),
        cmocka_unit_test(test_classic_access_bits_every_combination_round_trips),
        cmocka_unit_test(test_classic_access_tables_match_datasheet),
        cmocka_unit_test(test_classic_data_block_rights_on_card),
        cmocka_unit_test(test_classic_trailer_rights_on_card),
        cmocka_unit_test(test_classic_value_block_vectors),
        cmocka_unit_test(test_classic_value_ops_refuse_malformed_value_block),
        cmocka_unit_test(test_classic_blank_card_layout),
        cmocka_unit_test(test_classic_block0_is_read_only),
        cmocka_unit_test(test_classic_wrong_key_drops_session),
        cmocka_unit_test(test_classic_blocked_sector_refuses_everything),
        cmocka_unit_test(test_classic_torn_write_leaves_what_the_test_chooses),
        cmocka_unit_test(test_classic_torn_value_operation),
        cmocka_unit_test(test_classic_malformed_commands_nak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
