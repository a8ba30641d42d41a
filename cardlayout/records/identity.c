/* identity.c - LAYOUT.md 1.1 identity record codec. */
#include "identity.h"

#include "cardlayout/layout.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/limits.h"

#define RESERVED_LEN 7

static int fields_ok(const struct identity *id)
{
    return id->card_id != 0 && id->program_id != 0 && id->key_set_version != 0 &&
           id->card_kind >= IDENTITY_DESFIRE_EV1 && id->card_kind <= IDENTITY_CLASSIC_4K &&
           (id->flags & ~(IDENTITY_FLAG_RANDOM_UID | IDENTITY_FLAG_STORED_VALUE)) == 0;
}

/* The record's fields after its version and type, in their wire order
 * (keys/base/buf.h): one table for the encoder and the decoder. */
static const uint16_t identity_fields[] = {
    BUF_FIELD(struct identity, card_id, BUF_U64),
    BUF_FIELD(struct identity, issuer_id, BUF_U32),
    BUF_FIELD(struct identity, program_id, BUF_U32),
    BUF_FIELD(struct identity, key_set_version, BUF_U8),
    BUF_FIELD(struct identity, card_kind, BUF_U8),
    BUF_FIELD(struct identity, flags, BUF_U8),
    BUF_FIELD(struct identity, issued_day, BUF_U32),
};

leal_err identity_encode(const struct identity *id, uint8_t out[IDENTITY_LEN])
{
    struct buf_writer w;
    leal_err err;

    if (id == NULL || out == NULL || !fields_ok(id))
        return LEAL_E_ARG;
    buf_writer_init(&w, out, IDENTITY_LEN);
    if ((err = buf_put_u8(&w, LAYOUT_VERSION)) != LEAL_OK ||
        (err = buf_put_u8(&w, LAYOUT_TYPE_IDENTITY)) != LEAL_OK ||
        (err = buf_put_fields(&w, id, identity_fields, BUF_N_FIELDS(identity_fields))) != LEAL_OK)
        return err;
    for (int i = 0; i < RESERVED_LEN; i++)
        if ((err = buf_put_u8(&w, 0)) != LEAL_OK)
            return err;
    return buf_writer_len(&w) == IDENTITY_LEN ? LEAL_OK : LEAL_E_INTERNAL;
}

leal_err identity_decode(const uint8_t *p, size_t len, struct identity *out)
{
    struct buf_reader r;
    struct identity id;
    uint8_t version, type, reserved;
    leal_err err;

    if (out == NULL || (p == NULL && len > 0))
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    buf_reader_init(&r, p, len);
    if ((err = buf_get_u8(&r, &version)) != LEAL_OK)
        return err;
    if (version != LAYOUT_VERSION)
        return LEAL_E_LAYOUT_VERSION;
    if ((err = buf_get_u8(&r, &type)) != LEAL_OK ||
        (err = buf_get_fields(&r, &id, identity_fields, BUF_N_FIELDS(identity_fields))) != LEAL_OK)
        return err;
    for (int i = 0; i < RESERVED_LEN; i++) {
        if ((err = buf_get_u8(&r, &reserved)) != LEAL_OK)
            return err;
        if (reserved != 0)
            return LEAL_E_FORMAT;
    }
    if ((err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (type != LAYOUT_TYPE_IDENTITY || !fields_ok(&id))
        return LEAL_E_FORMAT;
    *out = id;
    return LEAL_OK;
}

leal_err identity_signed_message(const uint8_t rec[IDENTITY_LEN], const uint8_t *uid,
                                 size_t uid_len, uint8_t out[IDENTITY_MAX_SIGNED], size_t *out_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (rec == NULL || uid == NULL || out == NULL || out_len == NULL || uid_len < 4 ||
        uid_len > LEAL_MAX_UID)
        return LEAL_E_ARG;
    leal_memcpy(out, rec, IDENTITY_LEN);
    leal_memcpy(out + IDENTITY_LEN, uid, uid_len);
    *out_len = IDENTITY_LEN + uid_len;
    return LEAL_OK;
}

leal_err identity_verify(const struct crypto_provider *cp, const uint8_t public_key[32],
                         const uint8_t rec[IDENTITY_LEN], const uint8_t *uid, size_t uid_len,
                         const uint8_t sig[64])
{
    uint8_t msg[IDENTITY_MAX_SIGNED];
    size_t n;
    leal_err err;

    if (cp == NULL || public_key == NULL || sig == NULL)
        return LEAL_E_ARG;
    if ((err = identity_signed_message(rec, uid, uid_len, msg, &n)) != LEAL_OK)
        return err;
    err = cp->ed25519_verify(public_key, msg, n, sig);
    return err == LEAL_OK ? LEAL_OK : LEAL_E_SIGNATURE;
}
