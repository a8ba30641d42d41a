/* qr_device.c - a phone's spending codes (QR.md), the reference implementation. */
#include "qr_device.h"

#include <string.h>

#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/hosted/provider_openssl.h"

leal_err qr_device_keygen(uint8_t seed[32], uint8_t public_key[32])
{
    leal_err err;
    if (seed == NULL || public_key == NULL)
        return LEAL_E_ARG;
    if ((err = crypto_openssl()->random(seed, 32)) != LEAL_OK)
        return err;
    return crypto_openssl_ed25519_public(seed, public_key);
}

/* The certificate's own fields, read from a spending code made of it. */
static leal_err cert_fields(const uint8_t cert[QR_CERT_LEN], struct qr_token *t)
{
    uint8_t probe[QR_SPEND_LEN] = {0};
    memcpy(probe, cert, QR_CERT_LEN);
    return qr_token_parse(probe, sizeof probe, t) == LEAL_OK && t->kind == QR_KIND_SPEND
               ? LEAL_OK
               : LEAL_E_QR_MALFORMED;
}

leal_err qr_device_code(const struct qr_device *d, uint64_t now, uint32_t counter,
                        struct qr_device_code *out)
{
    uint8_t public_key[32], msg[QR_SIGNED_MAX];
    struct qr_token t;
    uint64_t day = now / QR_SECONDS_PER_DAY, step = now / QR_TIME_STEP_SECONDS;
    size_t msg_len;
    leal_err err;
    if (d == NULL || out == NULL)
        return LEAL_E_ARG;
    const uint8_t *seed = d->seed, *cert = d->cert;
    uint8_t *token = out->token;
    if ((err = cert_fields(cert, &t)) != LEAL_OK)
        return err;
    if ((err = crypto_openssl_ed25519_public(seed, public_key)) != LEAL_OK)
        return err;
    if (!leal_ct_equal(public_key, t.device_public, sizeof public_key))
        return LEAL_E_KEY_VERSION;
    if (day < t.code.issued_day)
        return LEAL_E_QR_FUTURE;
    if (day >= t.code.expires_day)
        return LEAL_E_QR_EXPIRED;
    if (step > UINT32_MAX)
        return LEAL_E_RANGE;
    memcpy(token, cert, QR_CERT_LEN);
    store_be32(token + QR_CERT_LEN, (uint32_t)step);
    store_be32(token + QR_CERT_LEN + 4, counter);
    if ((err = qr_device_message(cert, (uint32_t)step, counter, msg, sizeof msg, &msg_len)) !=
            LEAL_OK ||
        (err = crypto_openssl_ed25519_sign(seed, msg, msg_len, token + QR_SPEND_BODY_LEN)) !=
            LEAL_OK)
        return err;
    return qr_text_encode(token, QR_SPEND_LEN, out->text, sizeof out->text, &out->text_len);
}
