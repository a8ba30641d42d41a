/* log_record.c - LAYOUT.md 2.5 log record codec. */
#include "log_record.h"

#include "cardlayout/layout.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"

static int op_ok(uint8_t op)
{
    return op >= LOG_RECORD_ISSUE && op <= LOG_RECORD_BLOCK;
}

leal_err log_record_encode(const struct log_record *r, uint8_t out[LAYOUT_LOG_RECORD_LEN])
{
    struct buf_writer w;
    leal_err err;

    if (r == NULL || out == NULL || !op_ok(r->op))
        return LEAL_E_ARG;
    buf_writer_init(&w, out, LAYOUT_LOG_RECORD_LEN);
    if ((err = buf_put_u8(&w, LAYOUT_VERSION)) != LEAL_OK ||
        (err = buf_put_u8(&w, LAYOUT_TYPE_LOG)) != LEAL_OK ||
        (err = buf_put_u8(&w, r->op)) != LEAL_OK || (err = buf_put_u8(&w, 0)) != LEAL_OK ||
        (err = buf_put_be32(&w, r->counter)) != LEAL_OK ||
        (err = buf_put_be32(&w, (uint32_t)r->amount)) != LEAL_OK ||
        (err = buf_put_be32(&w, r->terminal_id)) != LEAL_OK)
        return err;
    return LEAL_OK;
}

leal_err log_record_decode(const uint8_t *p, size_t len, struct log_record *out)
{
    struct buf_reader rd;
    struct log_record r;
    uint8_t version, type, zero;
    uint32_t amount;
    leal_err err;

    if (out == NULL || (p == NULL && len > 0))
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    buf_reader_init(&rd, p, len);
    if ((err = buf_get_u8(&rd, &version)) != LEAL_OK)
        return err;
    if (version != LAYOUT_VERSION)
        return LEAL_E_LAYOUT_VERSION;
    if ((err = buf_get_u8(&rd, &type)) != LEAL_OK || (err = buf_get_u8(&rd, &r.op)) != LEAL_OK ||
        (err = buf_get_u8(&rd, &zero)) != LEAL_OK ||
        (err = buf_get_be32(&rd, &r.counter)) != LEAL_OK ||
        (err = buf_get_be32(&rd, &amount)) != LEAL_OK ||
        (err = buf_get_be32(&rd, &r.terminal_id)) != LEAL_OK ||
        (err = buf_expect_end(&rd)) != LEAL_OK)
        return err;
    if (type != LAYOUT_TYPE_LOG || zero != 0 || !op_ok(r.op))
        return LEAL_E_FORMAT;
    r.amount = (int32_t)amount;
    *out = r;
    return LEAL_OK;
}
