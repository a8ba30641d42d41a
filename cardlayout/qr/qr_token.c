/* qr_token.c - leal's QR tokens: layout, text form and verification (QR.md). */
#include "qr_token.h"

#include "cardlayout/qr/base45.h"
#include "keys/base/buf.h"

static leal_err static_fields_valid(const struct qr_static *s)
{
    if (s->key_version == 0 || s->flags != 0 || s->program_id == 0 || s->account_id == 0 ||
        s->virtual_card_id == 0 || s->expires_day <= s->issued_day)
        return LEAL_E_QR_MALFORMED;
    return LEAL_OK;
}

leal_err qr_static_encode_body(const struct qr_static *s, uint8_t *out, size_t cap, size_t *len)
{
    struct buf_writer w;
    leal_err err;
    if (s == NULL || out == NULL || len == NULL)
        return LEAL_E_ARG;
    if ((err = static_fields_valid(s)) != LEAL_OK)
        return err;
    if (cap < QR_STATIC_BODY_LEN)
        return LEAL_E_NO_SPACE;
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_u8(&w, QR_FORMAT_VERSION)) != LEAL_OK ||
        (err = buf_put_u8(&w, QR_KIND_STATIC)) != LEAL_OK ||
        (err = buf_put_u8(&w, s->key_version)) != LEAL_OK ||
        (err = buf_put_u8(&w, s->flags)) != LEAL_OK ||
        (err = buf_put_be32(&w, s->program_id)) != LEAL_OK ||
        (err = buf_put_be64(&w, s->account_id)) != LEAL_OK ||
        (err = buf_put_be64(&w, s->virtual_card_id)) != LEAL_OK ||
        (err = buf_put_be16(&w, s->issued_day)) != LEAL_OK ||
        (err = buf_put_be16(&w, s->expires_day)) != LEAL_OK)
        return err;
    *len = buf_writer_len(&w);
    return LEAL_OK;
}

leal_err qr_signed_message(const uint8_t *body, size_t body_len, uint8_t *msg, size_t cap,
                           size_t *msg_len)
{
    if (body == NULL || msg == NULL || msg_len == NULL || body_len > QR_TOKEN_MAX)
        return LEAL_E_ARG;
    if (cap < QR_SIGNED_DOMAIN_LEN + body_len)
        return LEAL_E_NO_SPACE;
    for (size_t i = 0; i < QR_SIGNED_DOMAIN_LEN; i++)
        msg[i] = (uint8_t)QR_SIGNED_DOMAIN[i];
    for (size_t i = 0; i < body_len; i++)
        msg[QR_SIGNED_DOMAIN_LEN + i] = body[i];
    *msg_len = QR_SIGNED_DOMAIN_LEN + body_len;
    return LEAL_OK;
}

static leal_err parse_static(struct buf_reader *r, struct qr_static *s)
{
    /* The header's three bytes were read by the caller; sizes were checked. */
    if (buf_get_u8(r, &s->flags) != LEAL_OK || buf_get_be32(r, &s->program_id) != LEAL_OK ||
        buf_get_be64(r, &s->account_id) != LEAL_OK ||
        buf_get_be64(r, &s->virtual_card_id) != LEAL_OK ||
        buf_get_be16(r, &s->issued_day) != LEAL_OK || buf_get_be16(r, &s->expires_day) != LEAL_OK)
        return LEAL_E_QR_TRUNCATED;
    return static_fields_valid(s);
}

leal_err qr_token_parse(const uint8_t *tok, size_t len, struct qr_token *t)
{
    struct buf_reader r;
    uint8_t version, kind;
    struct qr_token out = {0};
    leal_err err;
    if (tok == NULL || t == NULL)
        return LEAL_E_ARG;
    buf_reader_init(&r, tok, len);
    if (buf_get_u8(&r, &version) != LEAL_OK || buf_get_u8(&r, &kind) != LEAL_OK ||
        buf_get_u8(&r, &out.code.key_version) != LEAL_OK)
        return LEAL_E_QR_TRUNCATED;
    if (version != QR_FORMAT_VERSION)
        return LEAL_E_QR_FORMAT_VERSION;
    if (kind != QR_KIND_STATIC)
        return LEAL_E_QR_MALFORMED;
    if (len < QR_STATIC_LEN)
        return LEAL_E_QR_TRUNCATED;
    if (len > QR_STATIC_LEN)
        return LEAL_E_QR_MALFORMED;
    out.kind = QR_KIND_STATIC;
    if ((err = parse_static(&r, &out.code)) != LEAL_OK)
        return err;
    *t = out;
    return LEAL_OK;
}

leal_err qr_text_encode(const uint8_t *tok, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t n;
    leal_err err;
    if (tok == NULL || out == NULL || out_len == NULL || len > QR_TOKEN_MAX)
        return LEAL_E_ARG;
    if (cap < QR_TEXT_PREFIX_LEN)
        return LEAL_E_NO_SPACE;
    for (size_t i = 0; i < QR_TEXT_PREFIX_LEN; i++)
        out[i] = QR_TEXT_PREFIX[i];
    if ((err = base45_encode(tok, len, out + QR_TEXT_PREFIX_LEN, cap - QR_TEXT_PREFIX_LEN, &n)) !=
        LEAL_OK)
        return err;
    *out_len = QR_TEXT_PREFIX_LEN + n;
    return LEAL_OK;
}

leal_err qr_text_decode(const char *text, size_t len, uint8_t *tok, size_t cap, size_t *tok_len)
{
    if (text == NULL || tok == NULL || tok_len == NULL)
        return LEAL_E_ARG;
    *tok_len = 0;
    if (len < QR_TEXT_PREFIX_LEN)
        return LEAL_E_QR_MALFORMED;
    for (size_t i = 0; i < QR_TEXT_PREFIX_LEN; i++)
        if (text[i] != QR_TEXT_PREFIX[i])
            return LEAL_E_QR_MALFORMED;
    if (len - QR_TEXT_PREFIX_LEN > QR_TOKEN_MAX / 2 * 3)
        return LEAL_E_QR_MALFORMED;
    switch (base45_decode(text + QR_TEXT_PREFIX_LEN, len - QR_TEXT_PREFIX_LEN, tok, cap, tok_len)) {
    case LEAL_OK:
        return LEAL_OK;
    case LEAL_E_NO_SPACE:
        return LEAL_E_NO_SPACE;
    default:
        return LEAL_E_QR_MALFORMED;
    }
}

static leal_err find_key(const struct qr_expect *e, uint8_t version, const struct qr_key **key)
{
    for (size_t i = 0; i < e->key_count; i++)
        if (e->keys[i].version == version) {
            *key = &e->keys[i];
            return LEAL_OK;
        }
    return LEAL_E_QR_KEY_VERSION;
}

/* The dates of a code against the terminal's day. */
static leal_err check_days(uint64_t now, uint16_t issued_day, uint16_t expires_day)
{
    uint64_t today = now / QR_SECONDS_PER_DAY;
    if (today < issued_day)
        return LEAL_E_QR_FUTURE;
    if (today >= expires_day)
        return LEAL_E_QR_EXPIRED;
    return LEAL_OK;
}

leal_err qr_verify_bytes(const struct crypto_provider *cp, const uint8_t *tok, size_t len,
                         const struct qr_expect *e, struct qr_token *t)
{
    struct qr_token parsed;
    const struct qr_key *key = NULL;
    uint8_t msg[QR_SIGNED_MAX];
    size_t msg_len;
    leal_err err;
    if (cp == NULL || tok == NULL || e == NULL || t == NULL || (e->keys == NULL && e->key_count))
        return LEAL_E_ARG;
    if ((err = qr_token_parse(tok, len, &parsed)) != LEAL_OK ||
        (err = find_key(e, parsed.code.key_version, &key)) != LEAL_OK ||
        (err = qr_signed_message(tok, QR_STATIC_BODY_LEN, msg, sizeof msg, &msg_len)) != LEAL_OK)
        return err;
    err = cp->ed25519_verify(key->public_key, msg, msg_len, tok + QR_STATIC_BODY_LEN);
    if (err == LEAL_E_SIGNATURE)
        return LEAL_E_QR_SIGNATURE;
    if (err != LEAL_OK)
        return err;
    if (parsed.code.program_id != e->program_id)
        return LEAL_E_QR_PROGRAM;
    if ((err = check_days(e->now, parsed.code.issued_day, parsed.code.expires_day)) != LEAL_OK)
        return err;
    if (e->revoked != NULL && e->revoked(e->revoked_ctx, parsed.code.virtual_card_id))
        return LEAL_E_QR_REVOKED;
    *t = parsed;
    return LEAL_OK;
}

leal_err qr_verify_text(const struct crypto_provider *cp, const char *text, size_t len,
                        const struct qr_expect *e, struct qr_token *t)
{
    uint8_t tok[QR_TOKEN_MAX];
    size_t tok_len;
    leal_err err;
    if (text == NULL)
        return LEAL_E_ARG;
    if ((err = qr_text_decode(text, len, tok, sizeof tok, &tok_len)) != LEAL_OK)
        return err;
    return qr_verify_bytes(cp, tok, tok_len, e, t);
}
