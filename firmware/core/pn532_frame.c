/* pn532_frame.c - PN532 host-link frames (NXP PN532 User Manual §6.2.1). */
#include "pn532_frame.h"

#include "keys/base/buf.h"
#include "keys/base/bytes.h"

const uint8_t pn532_frame_ack[6] = {0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00};
const uint8_t pn532_frame_nack[6] = {0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00};
const uint8_t pn532_frame_error[8] = {0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00};

/* Offset of the first start code 00 FF, or len - 1 / len when there is none
 * (a trailing 00 may begin one). */
static size_t find_start(const uint8_t *buf, size_t len)
{
    struct buf_reader r;
    uint8_t prev = 0xFF, b;
    buf_reader_init(&r, buf, len);
    while (buf_get_u8(&r, &b) == LEAL_OK) {
        if (prev == 0x00 && b == 0xFF)
            return len - buf_remaining(&r) - 2;
        prev = b;
    }
    return len > 0 && prev == 0x00 ? len - 1 : len;
}

leal_err pn532_frame_parse(const uint8_t *buf, size_t len, struct pn532_frame *f, size_t *consumed)
{
    struct buf_reader r;
    size_t start, body_len;
    uint8_t l, lcs, post, dcs, sum = 0;
    const uint8_t *body;
    leal_err err;

    if (consumed)
        *consumed = 0;
    if ((buf == NULL && len > 0) || f == NULL || consumed == NULL)
        return LEAL_E_ARG;
    start = find_start(buf, len);
    *consumed = start;
    if (start + 2 > len)
        return LEAL_E_TRUNCATED;
    buf_reader_init(&r, buf + start + 2, len - start - 2);
    if ((err = buf_get_u8(&r, &l)) != LEAL_OK || (err = buf_get_u8(&r, &lcs)) != LEAL_OK)
        return LEAL_E_TRUNCATED;
    if (l == 0x00 && lcs == 0xFF) {
        f->kind = PN532_FRAME_ACK;
        f->len = 0;
        goto done;
    }
    if (l == 0xFF && lcs == 0x00) {
        f->kind = PN532_FRAME_NACK;
        f->len = 0;
        goto done;
    }
    if (l == 0xFF && lcs == 0xFF) {
        uint8_t lm, ll, xlcs;
        if (buf_get_u8(&r, &lm) != LEAL_OK || buf_get_u8(&r, &ll) != LEAL_OK ||
            buf_get_u8(&r, &xlcs) != LEAL_OK)
            return LEAL_E_TRUNCATED;
        body_len = (size_t)lm << 8 | ll;
        if ((uint8_t)(lm + ll + xlcs) != 0 || body_len == 0 || body_len > PN532_MAX_BODY) {
            *consumed = start + 2;
            return LEAL_E_FORMAT;
        }
    } else {
        body_len = l;
        if ((uint8_t)(l + lcs) != 0 || body_len == 0 || body_len > PN532_MAX_BODY) {
            *consumed = start + 2;
            return LEAL_E_FORMAT;
        }
    }
    if (buf_get_view(&r, body_len, &body) != LEAL_OK || buf_get_u8(&r, &dcs) != LEAL_OK)
        return LEAL_E_TRUNCATED;
    for (size_t i = 0; i < body_len; i++)
        sum = (uint8_t)(sum + body[i]);
    if ((uint8_t)(sum + dcs) != 0) {
        *consumed = start + 2;
        return LEAL_E_FORMAT;
    }
    f->kind = PN532_FRAME_INFO;
    leal_memcpy(f->body, body, body_len);
    f->len = body_len;
done:
    /* The postamble is optional on the wire as far as we are concerned. */
    if (buf_remaining(&r) > 0 && buf_get_u8(&r, &post) == LEAL_OK && post != 0x00)
        *consumed = len - buf_remaining(&r) - 1;
    else
        *consumed = len - buf_remaining(&r);
    return LEAL_OK;
}

leal_err pn532_frame_build(const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                           size_t *out_len)
{
    struct buf_writer w;
    uint8_t sum = 0;
    leal_err err;

    if (out_len)
        *out_len = 0;
    if (body == NULL || out == NULL || out_len == NULL || len == 0 || len > PN532_MAX_BODY)
        return LEAL_E_ARG;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + body[i]);
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_bytes(&w, (const uint8_t *)"\x00\x00\xFF", 3)) != LEAL_OK)
        return err;
    if (len <= PN532_MAX_NORMAL) {
        err = buf_put_u8(&w, (uint8_t)len);
        if (err == LEAL_OK)
            err = buf_put_u8(&w, (uint8_t)(0x100 - len));
    } else {
        uint8_t lm = (uint8_t)(len >> 8), ll = (uint8_t)len;
        err = buf_put_be16(&w, 0xFFFF);
        if (err == LEAL_OK)
            err = buf_put_u8(&w, lm);
        if (err == LEAL_OK)
            err = buf_put_u8(&w, ll);
        if (err == LEAL_OK)
            err = buf_put_u8(&w, (uint8_t)(0x100 - (uint8_t)(lm + ll)));
    }
    if (err == LEAL_OK)
        err = buf_put_bytes(&w, body, len);
    if (err == LEAL_OK)
        err = buf_put_u8(&w, (uint8_t)(0x100 - sum));
    if (err == LEAL_OK)
        err = buf_put_u8(&w, 0x00);
    if (err != LEAL_OK)
        return err;
    *out_len = buf_writer_len(&w);
    return LEAL_OK;
}
