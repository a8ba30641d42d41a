/* base_test.c - keys/base: error table, bounded readers/writers, ct helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/base/err.h"

static void test_err_every_code_has_name_and_sentence(void **state)
{
    (void)state;
    int defined = 0;
    for (int e = 0; e < LEAL_ERR_END_; e++) {
        if (!leal_err_is_defined((leal_err)e))
            continue;
        defined++;
        const char *name = leal_errname((leal_err)e);
        const char *text = leal_strerror((leal_err)e);
        assert_non_null(name);
        assert_non_null(text);
        assert_true(strncmp(name, "LEAL_", 5) == 0);
        assert_true(strlen(text) > 5);
        /* Names are unique: no two values share a symbol. */
        for (int f = e + 1; f < LEAL_ERR_END_; f++)
            if (leal_err_is_defined((leal_err)f))
                assert_string_not_equal(name, leal_errname((leal_err)f));
    }
    assert_true(defined > 60);
    assert_string_equal(leal_errname(LEAL_E_MAC), "LEAL_E_MAC");
    assert_int_equal(LEAL_E_MAC, 20);
    assert_int_equal(LEAL_E_TRUNCATED, 10);
}

static void test_err_unknown_value_still_has_text(void **state)
{
    (void)state;
    assert_string_equal(leal_strerror((leal_err)9999), "unknown error");
    assert_string_equal(leal_errname((leal_err)9999), "LEAL_E_UNKNOWN");
    assert_false(leal_err_is_defined((leal_err)9999));
}

static void test_buf_reads_big_and_little_endian(void **state)
{
    (void)state;
    const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                          0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};
    struct buf_reader r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    buf_reader_init(&r, in, sizeof in);
    assert_int_equal(buf_get_u8(&r, &u8), LEAL_OK);
    assert_int_equal(u8, 0x01);
    assert_int_equal(buf_get_be16(&r, &u16), LEAL_OK);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(buf_get_le16(&r, &u16), LEAL_OK);
    assert_int_equal(u16, 0x0504);
    assert_int_equal(buf_get_le24(&r, &u32), LEAL_OK);
    assert_int_equal(u32, 0x080706);
    assert_int_equal(buf_get_be32(&r, &u32), LEAL_OK);
    assert_int_equal(u32, 0x090a0b0c);
    assert_int_equal(buf_remaining(&r), 1);
    assert_int_equal(buf_expect_end(&r), LEAL_E_TRAILING);
    assert_int_equal(buf_get_u8(&r, &u8), LEAL_OK);
    assert_int_equal(buf_expect_end(&r), LEAL_OK);
}

static void test_buf_short_read_leaves_position_and_value(void **state)
{
    (void)state;
    const uint8_t in[] = {0xaa, 0xbb, 0xcc};
    struct buf_reader r;
    uint32_t v = 0x12345678;
    uint8_t out[4] = {1, 2, 3, 4};
    buf_reader_init(&r, in, sizeof in);
    assert_int_equal(buf_get_be32(&r, &v), LEAL_E_TRUNCATED);
    assert_int_equal(v, 0x12345678);
    assert_int_equal(buf_remaining(&r), 3);
    assert_int_equal(buf_get_bytes(&r, out, 4), LEAL_E_TRUNCATED);
    assert_memory_equal(out, ((uint8_t[]){1, 2, 3, 4}), 4);
    assert_int_equal(buf_skip(&r, SIZE_MAX), LEAL_E_TRUNCATED);
    assert_int_equal(buf_remaining(&r), 3);
}

static void test_buf_sub_reader_is_bounded(void **state)
{
    (void)state;
    const uint8_t in[] = {0x02, 0x11, 0x22, 0x33};
    struct buf_reader r, sub;
    uint8_t n, b;
    uint16_t w;
    buf_reader_init(&r, in, sizeof in);
    assert_int_equal(buf_get_u8(&r, &n), LEAL_OK);
    assert_int_equal(buf_get_sub(&r, n, &sub), LEAL_OK);
    assert_int_equal(buf_get_be16(&sub, &w), LEAL_OK);
    assert_int_equal(w, 0x1122);
    assert_int_equal(buf_get_u8(&sub, &b), LEAL_E_TRUNCATED);
    assert_int_equal(buf_get_u8(&r, &b), LEAL_OK);
    assert_int_equal(b, 0x33);
}

static void test_buf_writer_refuses_overflow_whole(void **state)
{
    (void)state;
    uint8_t out[5];
    struct buf_writer w;
    memset(out, 0xee, sizeof out);
    buf_writer_init(&w, out, 4);
    assert_int_equal(buf_put_be16(&w, 0x0102), LEAL_OK);
    assert_int_equal(buf_put_le24(&w, 0x030405), LEAL_E_NO_SPACE);
    assert_int_equal(buf_writer_len(&w), 2);
    assert_int_equal(buf_put_le16(&w, 0x0403), LEAL_OK);
    assert_int_equal(buf_put_u8(&w, 9), LEAL_E_NO_SPACE);
    assert_memory_equal(out, ((uint8_t[]){1, 2, 3, 4, 0xee}), 5);
}

static void test_ct_equal_and_wipe(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    memset(a, 0x5a, sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(leal_ct_equal(a, b, 16));
    for (int i = 0; i < 16; i++) {
        b[i] ^= 0x80;
        assert_false(leal_ct_equal(a, b, 16));
        b[i] ^= 0x80;
    }
    assert_true(leal_ct_equal(a, b, 0));
    leal_wipe(a, sizeof a);
    for (int i = 0; i < 16; i++)
        assert_int_equal(a[i], 0);
}

static void test_bytes_store_load_round_trip(void **state)
{
    (void)state;
    uint8_t p[8];
    store_be64(p, 0x0102030405060708ull);
    assert_memory_equal(p, ((uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8}), 8);
    assert_true(load_be64(p) == 0x0102030405060708ull);
    store_le32(p, 0xdeadbeef);
    assert_memory_equal(p, ((uint8_t[]){0xef, 0xbe, 0xad, 0xde}), 4);
    assert_int_equal(load_le32(p), 0xdeadbeef);
}

/* Every kind of field, in an order other than the struct's. */
struct fields_demo {
    uint8_t a;
    int16_t b;
    uint32_t c;
    int64_t d;
    uint64_t e;
    int64_t f;
};
static const uint16_t demo_fields[] = {
    BUF_FIELD(struct fields_demo, c, BUF_U32), BUF_FIELD(struct fields_demo, a, BUF_U8),
    BUF_FIELD(struct fields_demo, b, BUF_U16), BUF_FIELD(struct fields_demo, d, BUF_U32_I64),
    BUF_FIELD(struct fields_demo, e, BUF_U64), BUF_FIELD(struct fields_demo, f, BUF_U64_I64),
};

static void test_buf_fields_read_and_write_a_table(void **state)
{
    (void)state;
    static const uint8_t wire[] = {0xde, 0xad, 0xbe, 0xef, 0x7f, 0xff, 0xfe, 0x80, 0x00,
                                   0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                   0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct fields_demo x = {0};
    struct buf_reader r;
    struct buf_writer w;
    uint8_t out[sizeof wire + 1];
    buf_reader_init(&r, wire, sizeof wire);
    assert_int_equal(buf_get_fields(&r, &x, demo_fields, BUF_N_FIELDS(demo_fields)), LEAL_OK);
    assert_int_equal(buf_remaining(&r), 0);
    assert_int_equal(x.c, 0xdeadbeef);
    assert_int_equal(x.a, 0x7f);
    assert_int_equal(x.b, -2);
    assert_true(x.d == 0x80000001);
    assert_true(x.e == 0x0102030405060708ull);
    assert_true(x.f == INT64_MAX);
    buf_writer_init(&w, out, sizeof out);
    assert_int_equal(buf_put_fields(&w, &x, demo_fields, BUF_N_FIELDS(demo_fields)), LEAL_OK);
    assert_int_equal(buf_writer_len(&w), sizeof wire);
    assert_memory_equal(out, wire, sizeof wire);
    /* A value from 2^63 up reads as -1 (BUF_U64_I64), as it is (BUF_U64). */
    uint8_t high[sizeof wire];
    memcpy(high, wire, sizeof wire);
    high[11] = 0x80;
    high[19] = 0x80;
    buf_reader_init(&r, high, sizeof high);
    assert_int_equal(buf_get_fields(&r, &x, demo_fields, BUF_N_FIELDS(demo_fields)), LEAL_OK);
    assert_true(x.e == 0x8002030405060708ull);
    assert_true(x.f == -1);
    /* Short: the fields before the one that does not fit are read; a writer
     * without room for a field refuses it. */
    memset(&x, 0, sizeof x);
    buf_reader_init(&r, wire, 10);
    assert_int_equal(buf_get_fields(&r, &x, demo_fields, BUF_N_FIELDS(demo_fields)),
                     LEAL_E_TRUNCATED);
    assert_int_equal(x.c, 0xdeadbeef);
    assert_int_equal(x.b, -2);
    assert_true(x.d == 0);
    assert_int_equal(buf_remaining(&r), 3);
    buf_writer_init(&w, out, 5);
    assert_int_equal(buf_put_fields(&w, &x, demo_fields, BUF_N_FIELDS(demo_fields)),
                     LEAL_E_NO_SPACE);
    assert_int_equal(buf_writer_len(&w), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_every_code_has_name_and_sentence),
        cmocka_unit_test(test_err_unknown_value_still_has_text),
        cmocka_unit_test(test_buf_reads_big_and_little_endian),
        cmocka_unit_test(test_buf_short_read_leaves_position_and_value),
        cmocka_unit_test(test_buf_sub_reader_is_bounded),
        cmocka_unit_test(test_buf_writer_refuses_overflow_whole),
        cmocka_unit_test(test_buf_fields_read_and_write_a_table),
        cmocka_unit_test(test_ct_equal_and_wipe),
        cmocka_unit_test(test_bytes_store_load_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
