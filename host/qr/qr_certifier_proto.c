/* qr_certifier_proto.c - the QR certifier's messages (qr_certifier_proto.h). */
#include "qr_certifier_proto.h"

#include <string.h>

#include "keys/base/buf.h"

static const uint8_t magic[2] = {'L', 'C'};

static leal_err put_header(struct buf_writer *w, uint8_t op, size_t body)
{
    leal_err err;
    if ((err = buf_put_bytes(w, magic, sizeof magic)) != LEAL_OK ||
        (err = buf_put_u8(w, QR_CERTIFIER_PROTO_VERSION)) != LEAL_OK ||
        (err = buf_put_u8(w, op)) != LEAL_OK)
        return err;
    return buf_put_be16(w, (uint16_t)body);
}

/* The fields a CERTIFY request must hold, whichever side reads them. */
static leal_err certify_valid(const struct qr_certifier_request *rq)
{
    if (rq->program_id == 0 || rq->customer_id == 0 || rq->account_id == 0 ||
        rq->virtual_card_id == 0 || rq->cap_tx_cents == 0 || rq->cap_day_cents < rq->cap_tx_cents ||
        rq->refresh_days == 0 || rq->refresh_days > QR_CERTIFIER_MAX_REFRESH)
        return LEAL_E_FORMAT;
    return LEAL_OK;
}

leal_err qr_certifier_proto_request_encode(const struct qr_certifier_request *rq, uint8_t *out,
                                           size_t cap, size_t *len)
{
    struct buf_writer w;
    size_t body = 0;
    leal_err err;
    *len = 0;
    if (rq->op == QR_CERTIFIER_OP_CERTIFY) {
        if ((err = certify_valid(rq)) != LEAL_OK)
            return LEAL_E_ARG;
        body = QR_CERTIFIER_CERTIFY_BODY;
    } else if (rq->op != QR_CERTIFIER_OP_STATUS) {
        return LEAL_E_ARG;
    }
    buf_writer_init(&w, out, cap);
    if ((err = put_header(&w, (uint8_t)rq->op, body)) != LEAL_OK)
        return err;
    if (rq->op == QR_CERTIFIER_OP_CERTIFY &&
        ((err = buf_put_be32(&w, rq->program_id)) != LEAL_OK ||
         (err = buf_put_be64(&w, rq->customer_id)) != LEAL_OK ||
         (err = buf_put_be64(&w, rq->account_id)) != LEAL_OK ||
         (err = buf_put_be64(&w, rq->virtual_card_id)) != LEAL_OK ||
         (err = buf_put_be32(&w, rq->cap_tx_cents)) != LEAL_OK ||
         (err = buf_put_be32(&w, rq->cap_day_cents)) != LEAL_OK ||
         (err = buf_put_u8(&w, rq->refresh_days)) != LEAL_OK ||
         (err = buf_put_bytes(&w, rq->device_public, sizeof rq->device_public)) != LEAL_OK))
        return err;
    *len = buf_writer_len(&w);
    return LEAL_OK;
}

/* Magic, version and the second byte (an op, or a status's high byte). */
static leal_err header(struct buf_reader *r, uint8_t *second)
{
    uint8_t m[2], version;
    leal_err err;
    if ((err = buf_get_bytes(r, m, sizeof m)) != LEAL_OK ||
        (err = buf_get_u8(r, &version)) != LEAL_OK || (err = buf_get_u8(r, second)) != LEAL_OK)
        return err;
    if (memcmp(m, magic, sizeof m) != 0 || version != QR_CERTIFIER_PROTO_VERSION)
        return LEAL_E_PROTOCOL;
    return LEAL_OK;
}

leal_err qr_certifier_proto_request_header(const uint8_t *in, size_t len, size_t *body_len)
{
    struct buf_reader r;
    uint8_t op;
    uint16_t n;
    leal_err err;
    *body_len = 0;
    buf_reader_init(&r, in, len);
    if ((err = header(&r, &op)) != LEAL_OK || (err = buf_get_be16(&r, &n)) != LEAL_OK)
        return err;
    if (op != QR_CERTIFIER_OP_STATUS && op != QR_CERTIFIER_OP_CERTIFY)
        return LEAL_E_PROTOCOL;
    if ((op == QR_CERTIFIER_OP_STATUS && n != 0) ||
        (op == QR_CERTIFIER_OP_CERTIFY && n != QR_CERTIFIER_CERTIFY_BODY))
        return LEAL_E_FORMAT;
    *body_len = n;
    return LEAL_OK;
}

leal_err qr_certifier_proto_request_decode(const uint8_t *in, size_t len,
                                           struct qr_certifier_request *rq)
{
    struct qr_certifier_request out;
    struct buf_reader r;
    size_t body;
    leal_err err;
    memset(rq, 0, sizeof *rq);
    memset(&out, 0, sizeof out);
    if ((err = qr_certifier_proto_request_header(in, len, &body)) != LEAL_OK)
        return err;
    buf_reader_init(&r, in + QR_CERTIFIER_HEADER_LEN, len - QR_CERTIFIER_HEADER_LEN);
    out.op = (enum qr_certifier_op)in[3];
    if (out.op == QR_CERTIFIER_OP_CERTIFY &&
        ((err = buf_get_be32(&r, &out.program_id)) != LEAL_OK ||
         (err = buf_get_be64(&r, &out.customer_id)) != LEAL_OK ||
         (err = buf_get_be64(&r, &out.account_id)) != LEAL_OK ||
         (err = buf_get_be64(&r, &out.virtual_card_id)) != LEAL_OK ||
         (err = buf_get_be32(&r, &out.cap_tx_cents)) != LEAL_OK ||
         (err = buf_get_be32(&r, &out.cap_day_cents)) != LEAL_OK ||
         (err = buf_get_u8(&r, &out.refresh_days)) != LEAL_OK ||
         (err = buf_get_bytes(&r, out.device_public, sizeof out.device_public)) != LEAL_OK))
        return err;
    if ((err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (out.op == QR_CERTIFIER_OP_CERTIFY && (err = certify_valid(&out)) != LEAL_OK)
        return err;
    *rq = out;
    return LEAL_OK;
}

leal_err qr_certifier_proto_answer_header_encode(leal_err status, size_t body_len,
                                                 uint8_t out[QR_CERTIFIER_HEADER_LEN])
{
    struct buf_writer w;
    leal_err err;
    if (body_len > QR_CERTIFIER_MAX_BODY || (unsigned)status > 0xFFFFu)
        return LEAL_E_ARG;
    buf_writer_init(&w, out, QR_CERTIFIER_HEADER_LEN);
    if ((err = buf_put_bytes(&w, magic, sizeof magic)) != LEAL_OK ||
        (err = buf_put_u8(&w, QR_CERTIFIER_PROTO_VERSION)) != LEAL_OK ||
        (err = buf_put_be16(&w, (uint16_t)status)) != LEAL_OK)
        return err;
    return buf_put_u8(&w, (uint8_t)body_len);
}

leal_err qr_certifier_proto_answer_header(const uint8_t *in, size_t len, leal_err *status,
                                          size_t *body_len)
{
    struct buf_reader r;
    uint8_t m[2], version, n;
    uint16_t st;
    leal_err err;
    *status = LEAL_E_INTERNAL;
    *body_len = 0;
    buf_reader_init(&r, in, len);
    if ((err = buf_get_bytes(&r, m, sizeof m)) != LEAL_OK ||
        (err = buf_get_u8(&r, &version)) != LEAL_OK || (err = buf_get_be16(&r, &st)) != LEAL_OK ||
        (err = buf_get_u8(&r, &n)) != LEAL_OK)
        return err;
    if (memcmp(m, magic, sizeof m) != 0 || version != QR_CERTIFIER_PROTO_VERSION)
        return LEAL_E_PROTOCOL;
    if (n > QR_CERTIFIER_MAX_BODY || st >= LEAL_ERR_END_ || (st != LEAL_OK && n != 0))
        return LEAL_E_FORMAT;
    *status = (leal_err)st;
    *body_len = n;
    return LEAL_OK;
}

leal_err qr_certifier_proto_status_encode(const struct qr_certifier_status *st, uint8_t *out,
                                          size_t cap, size_t *len)
{
    struct buf_writer w;
    leal_err err;
    *len = 0;
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_be32(&w, st->program_id)) != LEAL_OK ||
        (err = buf_put_u8(&w, st->key_version)) != LEAL_OK ||
        (err = buf_put_bytes(&w, st->public_key, sizeof st->public_key)) != LEAL_OK ||
        (err = buf_put_be32(&w, st->max_cap_tx_cents)) != LEAL_OK ||
        (err = buf_put_be32(&w, st->max_cap_day_cents)) != LEAL_OK ||
        (err = buf_put_u8(&w, st->max_refresh_days)) != LEAL_OK)
        return err;
    *len = buf_writer_len(&w);
    return LEAL_OK;
}

leal_err qr_certifier_proto_status_decode(const uint8_t *in, size_t len,
                                          struct qr_certifier_status *st)
{
    struct qr_certifier_status out;
    struct buf_reader r;
    leal_err err;
    memset(st, 0, sizeof *st);
    buf_reader_init(&r, in, len);
    if ((err = buf_get_be32(&r, &out.program_id)) != LEAL_OK ||
        (err = buf_get_u8(&r, &out.key_version)) != LEAL_OK ||
        (err = buf_get_bytes(&r, out.public_key, sizeof out.public_key)) != LEAL_OK ||
        (err = buf_get_be32(&r, &out.max_cap_tx_cents)) != LEAL_OK ||
        (err = buf_get_be32(&r, &out.max_cap_day_cents)) != LEAL_OK ||
        (err = buf_get_u8(&r, &out.max_refresh_days)) != LEAL_OK ||
        (err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (out.program_id == 0 || out.key_version == 0 || out.max_cap_tx_cents == 0 ||
        out.max_cap_day_cents < out.max_cap_tx_cents || out.max_refresh_days == 0 ||
        out.max_refresh_days > QR_CERTIFIER_MAX_REFRESH)
        return LEAL_E_FORMAT;
    *st = out;
    return LEAL_OK;
}

leal_err qr_certifier_proto_cert_decode(const uint8_t *in, size_t len, struct qr_cert *c)
{
    struct qr_cert out;
    struct buf_reader r;
    uint8_t version, kind, again[QR_CERT_BODY_LEN];
    size_t n;
    leal_err err;
    memset(c, 0, sizeof *c);
    memset(&out, 0, sizeof out);
    if (len != QR_CERT_LEN)
        return len < QR_CERT_LEN ? LEAL_E_TRUNCATED : LEAL_E_TRAILING;
    buf_reader_init(&r, in, QR_CERT_BODY_LEN);
    if ((err = buf_get_u8(&r, &version)) != LEAL_OK || (err = buf_get_u8(&r, &kind)) != LEAL_OK ||
        (err = buf_get_u8(&r, &out.code.key_version)) != LEAL_OK ||
        (err = buf_get_u8(&r, &out.code.flags)) != LEAL_OK ||
        (err = buf_get_be32(&r, &out.code.program_id)) != LEAL_OK ||
        (err = buf_get_be64(&r, &out.code.account_id)) != LEAL_OK ||
        (err = buf_get_be64(&r, &out.code.virtual_card_id)) != LEAL_OK ||
        (err = buf_get_be16(&r, &out.code.issued_day)) != LEAL_OK ||
        (err = buf_get_be16(&r, &out.code.expires_day)) != LEAL_OK ||
        (err = buf_get_be32(&r, &out.cap_tx_cents)) != LEAL_OK ||
        (err = buf_get_be32(&r, &out.cap_day_cents)) != LEAL_OK ||
        (err = buf_get_bytes(&r, out.device_public, sizeof out.device_public)) != LEAL_OK)
        return err;
    if (version != QR_FORMAT_VERSION || kind != QR_KIND_SPEND)
        return LEAL_E_FORMAT;
    /* The fields must be what the certificate's encoder writes, byte for byte. */
    if (qr_cert_encode_body(&out, again, sizeof again, &n) != LEAL_OK || n != QR_CERT_BODY_LEN ||
        memcmp(again, in, QR_CERT_BODY_LEN) != 0)
        return LEAL_E_FORMAT;
    *c = out;
    return LEAL_OK;
}
