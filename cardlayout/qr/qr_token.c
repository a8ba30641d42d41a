/* qr_token.c - leal's QR tokens: layout, text form and verification (QR.md). */
#include "qr_token.h"

#include "cardlayout/qr/base45.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

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

static leal_err caps_valid(uint32_t cap_tx, uint32_t cap_day)
{
    return cap_tx == 0 || cap_day < cap_tx ? LEAL_E_QR_MALFORMED : LEAL_OK;
}

/* The spending code's fields after the shared ones (sizes checked). */
static leal_err parse_spend(struct buf_reader *r, struct qr_token *t)
{
    if (buf_get_be32(r, &t->cap_tx_cents) != LEAL_OK ||
        buf_get_be32(r, &t->cap_day_cents) != LEAL_OK ||
        buf_get_bytes(r, t->device_public, sizeof t->device_public) != LEAL_OK ||
        buf_skip(r, CRYPTO_ED25519_SIGNATURE) != LEAL_OK ||
        buf_get_be32(r, &t->time_step) != LEAL_OK || buf_get_be32(r, &t->counter) != LEAL_OK)
        return LEAL_E_QR_TRUNCATED;
    return caps_valid(t->cap_tx_cents, t->cap_day_cents);
}

leal_err qr_token_parse(const uint8_t *tok, size_t len, struct qr_token *t)
{
    struct buf_reader r;
    uint8_t version, kind;
    struct qr_token out = {0};
    size_t want;
    leal_err err;
    if (tok == NULL || t == NULL)
        return LEAL_E_ARG;
    buf_reader_init(&r, tok, len);
    if (buf_get_u8(&r, &version) != LEAL_OK || buf_get_u8(&r, &kind) != LEAL_OK ||
        buf_get_u8(&r, &out.code.key_version) != LEAL_OK)
        return LEAL_E_QR_TRUNCATED;
    if (version != QR_FORMAT_VERSION)
        return LEAL_E_QR_FORMAT_VERSION;
    if (kind != QR_KIND_STATIC && kind != QR_KIND_SPEND)
        return LEAL_E_QR_MALFORMED;
    want = kind == QR_KIND_STATIC ? QR_STATIC_LEN : QR_SPEND_LEN;
    if (len < want)
        return LEAL_E_QR_TRUNCATED;
    if (len > want)
        return LEAL_E_QR_MALFORMED;
    out.kind = (enum qr_kind)kind;
    if ((err = parse_static(&r, &out.code)) != LEAL_OK)
        return err;
    if (kind == QR_KIND_SPEND && (err = parse_spend(&r, &out)) != LEAL_OK)
        return err;
    *t = out;
    return LEAL_OK;
}

leal_err qr_cert_encode_body(const struct qr_cert *c, uint8_t *out, size_t cap, size_t *len)
{
    struct buf_writer w;
    size_t n;
    leal_err err;
    if (c == NULL || out == NULL || len == NULL)
        return LEAL_E_ARG;
    if ((err = caps_valid(c->cap_tx_cents, c->cap_day_cents)) != LEAL_OK)
        return err;
    if (cap < QR_CERT_BODY_LEN)
        return LEAL_E_NO_SPACE;
    if ((err = qr_static_encode_body(&c->code, out, cap, &n)) != LEAL_OK)
        return err;
    out[1] = QR_KIND_SPEND;
    buf_writer_init(&w, out + n, cap - n);
    if ((err = buf_put_be32(&w, c->cap_tx_cents)) != LEAL_OK ||
        (err = buf_put_be32(&w, c->cap_day_cents)) != LEAL_OK ||
        (err = buf_put_bytes(&w, c->device_public, sizeof c->device_public)) != LEAL_OK)
        return err;
    *len = n + buf_writer_len(&w);
    return LEAL_OK;
}

leal_err qr_device_message(const uint8_t cert[QR_CERT_LEN], uint32_t time_step, uint32_t counter,
                           uint8_t *msg, size_t cap, size_t *msg_len)
{
    struct buf_writer w;
    leal_err err;
    if (cert == NULL || msg == NULL || msg_len == NULL)
        return LEAL_E_ARG;
    buf_writer_init(&w, msg, cap);
    if ((err = buf_put_bytes(&w, (const uint8_t *)QR_DEVICE_DOMAIN, QR_DEVICE_DOMAIN_LEN)) !=
            LEAL_OK ||
        (err = buf_put_bytes(&w, cert, QR_CERT_LEN)) != LEAL_OK ||
        (err = buf_put_be32(&w, time_step)) != LEAL_OK ||
        (err = buf_put_be32(&w, counter)) != LEAL_OK)
        return err;
    *msg_len = buf_writer_len(&w);
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

/* One Ed25519 signature through the provider: a bad one is err_bad. */
static leal_err check_signature(const struct crypto_provider *cp, const uint8_t *key,
                                const uint8_t *msg, size_t len, const uint8_t *sig,
                                leal_err err_bad)
{
    leal_err err = cp->ed25519_verify(key, msg, len, sig);
    return err == LEAL_E_SIGNATURE ? err_bad : err;
}

/* A certificate this cache saw verify under this very key: the same 132
 * bytes (its key version and the issuer's signature among them) and the
 * same public key, so the signature check would give the same answer. */
static bool cert_cached(const struct qr_cert_cache *c, const uint8_t *key, const uint8_t *tok)
{
    for (size_t i = 0; c != NULL && i < c->count; i++)
        if (c->slots[i].used && leal_ct_equal(c->slots[i].cert, tok, QR_CERT_LEN) &&
            leal_ct_equal(c->slots[i].public_key, key, CRYPTO_ED25519_PUBLIC))
            return true;
    return false;
}

static void cert_remember(struct qr_cert_cache *c, const uint8_t *key, const uint8_t *tok)
{
    struct qr_cert_seen *s;
    if (c == NULL || c->slots == NULL || c->count == 0)
        return;
    s = &c->slots[c->next % c->count];
    c->next = (c->next + 1) % c->count;
    s->used = true;
    leal_memcpy(s->public_key, key, CRYPTO_ED25519_PUBLIC);
    leal_memcpy(s->cert, tok, QR_CERT_LEN);
}

/* Both signatures of a token: the issuer's over the static code or the
 * certificate (not again for a certificate in certs), the phone's over the
 * spending code (always: it covers this code's step and counter). */
static leal_err check_signatures(const struct crypto_provider *cp, const uint8_t *tok,
                                 const struct qr_token *t, const struct qr_key *key,
                                 struct qr_cert_cache *certs)
{
    uint8_t msg[QR_SIGNED_MAX];
    size_t body = t->kind == QR_KIND_STATIC ? QR_STATIC_BODY_LEN : QR_CERT_BODY_LEN, msg_len;
    bool cached = t->kind == QR_KIND_SPEND && cert_cached(certs, key->public_key, tok);
    leal_err err = LEAL_OK;
    if (!cached && ((err = qr_signed_message(tok, body, msg, sizeof msg, &msg_len)) != LEAL_OK ||
                    (err = check_signature(cp, key->public_key, msg, msg_len, tok + body,
                                           LEAL_E_QR_SIGNATURE)) != LEAL_OK))
        return err;
    if (t->kind == QR_KIND_STATIC)
        return err;
    if (!cached)
        cert_remember(certs, key->public_key, tok);
    if ((err = qr_device_message(tok, t->time_step, t->counter, msg, sizeof msg, &msg_len)) !=
        LEAL_OK)
        return err;
    return check_signature(cp, t->device_public, msg, msg_len, tok + QR_SPEND_BODY_LEN,
                           LEAL_E_QR_SIGNATURE);
}

/* A spending code's time step against the terminal's (QR.md "Clock skew"). */
static leal_err check_step(uint64_t now, uint32_t step)
{
    uint64_t here = now / QR_TIME_STEP_SECONDS;
    if ((uint64_t)step > here + QR_SKEW_STEPS)
        return LEAL_E_QR_FUTURE;
    if ((uint64_t)step + QR_SKEW_STEPS < here)
        return LEAL_E_QR_EXPIRED;
    return LEAL_OK;
}

static const struct qr_seen *seen_of(const struct qr_replay *r, uint64_t id)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->slots[i].virtual_card_id == id)
            return &r->slots[i];
    return NULL;
}

static leal_err check_replay(const struct qr_replay *r, const struct qr_token *t)
{
    const struct qr_seen *s = r ? seen_of(r, t->code.virtual_card_id) : NULL;
    return s != NULL && t->counter <= s->counter ? LEAL_E_QR_REPLAYED : LEAL_OK;
}

leal_err qr_verify_bytes(const struct crypto_provider *cp, const uint8_t *tok, size_t len,
                         const struct qr_expect *e, struct qr_token *t)
{
    struct qr_token parsed;
    const struct qr_key *key = NULL;
    leal_err err;
    if (cp == NULL || tok == NULL || e == NULL || t == NULL || (e->keys == NULL && e->key_count))
        return LEAL_E_ARG;
    if ((err = qr_token_parse(tok, len, &parsed)) != LEAL_OK ||
        (err = find_key(e, parsed.code.key_version, &key)) != LEAL_OK ||
        (err = check_signatures(cp, tok, &parsed, key, e->certs)) != LEAL_OK)
        return err;
    if (parsed.code.program_id != e->program_id)
        return LEAL_E_QR_PROGRAM;
    if ((err = check_days(e->now, parsed.code.issued_day, parsed.code.expires_day)) != LEAL_OK ||
        (parsed.kind == QR_KIND_SPEND && (err = check_step(e->now, parsed.time_step)) != LEAL_OK))
        return err;
    if (e->revoked != NULL && e->revoked(e->revoked_ctx, parsed.code.virtual_card_id))
        return LEAL_E_QR_REVOKED;
    if (parsed.kind == QR_KIND_SPEND && (err = check_replay(e->replay, &parsed)) != LEAL_OK)
        return err;
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

leal_err qr_spend_allowed(const struct qr_token *t, uint32_t amount_cents,
                          uint32_t spent_today_cents)
{
    if (t == NULL)
        return LEAL_E_ARG;
    if (t->kind != QR_KIND_SPEND)
        return LEAL_E_QR_STATIC_SPEND;
    if (amount_cents > t->cap_tx_cents)
        return LEAL_E_QR_CAP_TX;
    if (spent_today_cents > t->cap_day_cents || amount_cents > t->cap_day_cents - spent_today_cents)
        return LEAL_E_QR_CAP_DAY;
    return LEAL_OK;
}

leal_err qr_replay_record(struct qr_replay *r, const struct qr_token *t, uint64_t now)
{
    struct qr_seen *slot = NULL, *oldest = NULL;
    uint64_t here = now / QR_TIME_STEP_SECONDS;
    if (r == NULL || t == NULL || (r->slots == NULL && r->count) || t->kind != QR_KIND_SPEND)
        return LEAL_E_ARG;
    for (size_t i = 0; i < r->count && slot == NULL; i++)
        if (r->slots[i].virtual_card_id == t->code.virtual_card_id)
            slot = &r->slots[i];
    /* A free slot, else the oldest entry whose codes can no longer be accepted. */
    for (size_t i = 0; i < r->count && slot == NULL; i++)
        if (r->slots[i].virtual_card_id == 0)
            slot = &r->slots[i];
    for (size_t i = 0; i < r->count && slot == NULL; i++) {
        struct qr_seen *s = &r->slots[i];
        if ((uint64_t)s->time_step + 2u * QR_SKEW_STEPS < here &&
            (oldest == NULL || s->time_step < oldest->time_step))
            oldest = s;
    }
    if (slot == NULL)
        slot = oldest;
    if (slot == NULL)
        return LEAL_E_QR_REPLAY_FULL;
    slot->virtual_card_id = t->code.virtual_card_id;
    slot->time_step = t->time_step;
    slot->counter = t->counter;
    return LEAL_OK;
}
