/*
 * qr_device.h - the phone's side of a spending code (cardlayout/qr/QR.md
 * "Spending code"), in C as a reference for app makers, for tests and for a
 * shop that prints a code on a receipt: a device key pair, the enrolment
 * request (its public key), and the code of a time step. The phone keeps its
 * private key; the host certifies its public key (qr_issue_enrol). A phone
 * shows no code once its certificate's refresh day has come (it must go
 * online and enrol again). Hosted (OpenSSL signing).
 * Errors: LEAL_E_QR_EXPIRED (certificate past its refresh day),
 * LEAL_E_QR_FUTURE (certificate dated after the phone's clock),
 * LEAL_E_KEY_VERSION (the certificate is for another key pair),
 * LEAL_E_QR_MALFORMED (not a certificate), LEAL_E_RANGE (a clock past 2106),
 * LEAL_E_CRYPTO, LEAL_E_RANDOM.
 */
#ifndef LEAL_QR_DEVICE_H
#define LEAL_QR_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/qr/qr_token.h"

/* A new device key: a random 32-byte Ed25519 seed and its public key. */
LEAL_MUST_CHECK leal_err qr_device_keygen(uint8_t seed[32], uint8_t public_key[32]);

/* What a phone holds: its key and the certificate the host returned at
 * enrolment. */
struct qr_device {
    uint8_t seed[32];
    uint8_t cert[QR_CERT_LEN];
};

/* A spending code as token bytes and text ("LQ:..." with its NUL). */
struct qr_device_code {
    uint8_t token[QR_SPEND_LEN];
    char text[QR_TEXT_MAX];
    size_t text_len;
};

/* The spending code of now's time step with counter (the phone's, one up
 * per code). */
LEAL_MUST_CHECK leal_err qr_device_code(const struct qr_device *d, uint64_t now, uint32_t counter,
                                        struct qr_device_code *out);

#endif
