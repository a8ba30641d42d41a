/* bundle.c - terminal key bundle codec. */
#include "bundle.h"

#include "base/buf.h"
#include "base/bytes.h"
#include "base/ct.h"

#define BUNDLE_ENCODING_VERSION 1
#define BUNDLE_ENCODING_PINS 2 /* version 1 and the server pins */

/* A full bundle must fit the bundle file keyfile.c reads. */
_Static_assert(BUNDLE_MAX_ENCODED <= LEAL_MAX_BUNDLE_FILE, "a full bundle must fit a bundle file");

/* One to BUNDLE_MAX_SERVER_PINS pins, no two the same: one encoding per
 * bundle. */
static bool pins_valid(const struct bundle *b)
{
    if (b->server_pin_count == 0 || b->server_pin_count > BUNDLE_MAX_SERVER_PINS)
        return false;
    for (unsigned i = 0; i < b->server_pin_count; i++)
        for (unsigned j = i + 1; j < b->server_pin_count; j++)
            if (leal_memcmp(b->server_pin[i], b->server_pin[j], BUNDLE_PIN_LEN) == 0)
                return false;
    return true;
}

leal_err bundle_encode(const struct bundle *b, uint8_t *out, size_t cap, size_t *len)
{
    struct buf_writer w;
    size_t name_len = 0;
    leal_err err;

    *len = 0;
    while (name_len <= LEAL_MAX_ISSUER_NAME && b->issuer_name[name_len])
        name_len++;
    if (name_len == 0 || name_len > LEAL_MAX_ISSUER_NAME)
        return LEAL_E_ARG;
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_u8(&w, BUNDLE_ENCODING_VERSION)) != LEAL_OK ||
        (err = buf_put_be32(&w, b->issuer_id)) != LEAL_OK ||
        (err = buf_put_u8(&w, (uint8_t)name_len)) != LEAL_OK ||
        (err = buf_put_bytes(&w, (const uint8_t *)b->issuer_name, name_len)) != LEAL_OK ||
        (err = buf_put_be32(&w, b->program_id)) != LEAL_OK ||
        (err = buf_put_be32(&w, b->terminal_id)) != LEAL_OK ||
        (err = buf_put_be64(&w, b->created)) != LEAL_OK ||
        (err = buf_put_be64(&w, b->expires)) != LEAL_OK ||
        (err = keyset_put_slot(&w, KEY_KIND_AES128, &b->terminal)) != LEAL_OK ||
        (err = keyset_put_slot(&w, KEY_KIND_AES128, &b->classic_a)) != LEAL_OK ||
        (err = keyset_put_slot(&w, KEY_KIND_AES128, &b->classic_seal)) != LEAL_OK ||
        (err = buf_put_u8(&w, b->journal_version)) != LEAL_OK ||
        (err = buf_put_bytes(&w, b->journal_key, 16)) != LEAL_OK ||
        (err = keyset_put_slot(&w, KEY_KIND_ED25519, &b->package_public)) != LEAL_OK ||
        (err = keyset_put_slot(&w, KEY_KIND_ED25519, &b->qr_public)) != LEAL_OK)
        return err;
    if (b->server_pin_count > 0) {
        if (!pins_valid(b))
            return LEAL_E_ARG;
        out[0] = BUNDLE_ENCODING_PINS;
        if ((err = buf_put_u8(&w, b->server_pin_count)) != LEAL_OK)
            return err;
        for (unsigned i = 0; i < b->server_pin_count; i++)
            if ((err = buf_put_bytes(&w, b->server_pin[i], BUNDLE_PIN_LEN)) != LEAL_OK)
                return err;
    }
    *len = buf_writer_len(&w);
    return LEAL_OK;
}

leal_err bundle_decode(const uint8_t *in, size_t len, struct bundle *b)
{
    struct buf_reader r;
    uint8_t version, name_len;
    leal_err err;

    leal_memset(b, 0, sizeof *b);
    buf_reader_init(&r, in, len);
    if ((err = buf_get_u8(&r, &version)) != LEAL_OK)
        goto out;
    if (version != BUNDLE_ENCODING_VERSION && version != BUNDLE_ENCODING_PINS) {
        err = LEAL_E_KEYSTORE_VERSION;
        goto out;
    }
    if ((err = buf_get_be32(&r, &b->issuer_id)) != LEAL_OK ||
        (err = buf_get_u8(&r, &name_len)) != LEAL_OK)
        goto out;
    if (name_len == 0 || name_len > LEAL_MAX_ISSUER_NAME) {
        err = LEAL_E_FORMAT;
        goto out;
    }
    if ((err = buf_get_bytes(&r, (uint8_t *)b->issuer_name, name_len)) != LEAL_OK ||
        (err = buf_get_be32(&r, &b->program_id)) != LEAL_OK ||
        (err = buf_get_be32(&r, &b->terminal_id)) != LEAL_OK ||
        (err = buf_get_be64(&r, &b->created)) != LEAL_OK ||
        (err = buf_get_be64(&r, &b->expires)) != LEAL_OK ||
        (err = keyset_get_slot(&r, KEY_KIND_AES128, &b->terminal)) != LEAL_OK ||
        (err = keyset_get_slot(&r, KEY_KIND_AES128, &b->classic_a)) != LEAL_OK ||
        (err = keyset_get_slot(&r, KEY_KIND_AES128, &b->classic_seal)) != LEAL_OK ||
        (err = buf_get_u8(&r, &b->journal_version)) != LEAL_OK ||
        (err = buf_get_bytes(&r, b->journal_key, 16)) != LEAL_OK ||
        (err = keyset_get_slot(&r, KEY_KIND_ED25519, &b->package_public)) != LEAL_OK ||
        (err = keyset_get_slot(&r, KEY_KIND_ED25519, &b->qr_public)) != LEAL_OK)
        goto out;
    if (version == BUNDLE_ENCODING_PINS) {
        if ((err = buf_get_u8(&r, &b->server_pin_count)) != LEAL_OK)
            goto out;
        if (b->server_pin_count == 0 || b->server_pin_count > BUNDLE_MAX_SERVER_PINS) {
            err = LEAL_E_FORMAT;
            goto out;
        }
        for (unsigned i = 0; i < b->server_pin_count; i++)
            if ((err = buf_get_bytes(&r, b->server_pin[i], BUNDLE_PIN_LEN)) != LEAL_OK)
                goto out;
        if (!pins_valid(b)) {
            err = LEAL_E_FORMAT;
            goto out;
        }
    }
    if (!keyset_name_valid((const uint8_t *)b->issuer_name, name_len) || b->program_id == 0 ||
        b->journal_version == 0 || b->expires <= b->created) {
        err = LEAL_E_FORMAT;
        goto out;
    }
    err = buf_expect_end(&r);
out:
    if (err != LEAL_OK)
        bundle_clear(b);
    return err;
}

leal_err bundle_check(const struct bundle *b, uint32_t issuer_id, uint32_t program_id, uint64_t now)
{
    if (b->issuer_id != issuer_id)
        return LEAL_E_BUNDLE_WRONG_ISSUER;
    if (b->program_id != program_id)
        return LEAL_E_BUNDLE_WRONG_PROGRAM;
    if (now >= b->expires)
        return LEAL_E_BUNDLE_EXPIRED;
    return LEAL_OK;
}

void bundle_clear(struct bundle *b)
{
    leal_wipe(b, sizeof *b);
}
