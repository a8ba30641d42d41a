/*
 * qr_certifier_proto.h - what `leal serve` and the QR certifier (`leal qr
 * certifier`, qr_certifier_server.h) say to each other over the certifier's
 * UNIX socket, as bounded encoders and decoders: every byte from the socket
 * goes through qr_certifier_proto_*_decode first. One request, one answer,
 * per connection. No key travels: a request carries what the certificate
 * will say, the answer the signed certificate.
 *
 *   request   "LC" version(1)=1 op(1) body-length(2, BE) body
 *     STATUS   no body
 *     CERTIFY  program(4) customer(8) account(8) virtual-card(8) cap-tx(4)
 *              cap-day(4) refresh-days(1) device-public-key(32)    (69 bytes)
 *   answer    "LC" version(1)=1 status(2, BE: a leal_err, 0 = ok) body-length(1) body
 *     STATUS   program(4) key-version(1) qr-public-key(32) max-cap-tx(4)
 *              max-cap-day(4) max-refresh-days(1)                  (46 bytes)
 *     CERTIFY  the certificate (QR_CERT_LEN bytes, cardlayout/qr/QR.md)
 *     errors have no body
 *
 * Decoders check every field (ids != 0, 1 <= cap-tx <= cap-day, refresh
 * 1..QR_CERTIFIER_MAX_REFRESH) and refuse trailing bytes. Hosted by where it
 * is used; no I/O here.
 * Errors: LEAL_E_PROTOCOL (not this protocol, unknown op or version),
 * LEAL_E_TRUNCATED, LEAL_E_TRAILING, LEAL_E_FORMAT (a field out of range or
 * a body of the wrong length), LEAL_E_NO_SPACE (encoder's buffer too small).
 */
#ifndef LEAL_QR_CERTIFIER_PROTO_H
#define LEAL_QR_CERTIFIER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/qr/qr_token.h"
#include "keys/base/err.h"

#define QR_CERTIFIER_PROTO_VERSION 1
#define QR_CERTIFIER_HEADER_LEN 6
#define QR_CERTIFIER_CERTIFY_BODY 69
#define QR_CERTIFIER_STATUS_BODY 46
#define QR_CERTIFIER_MAX_REQUEST (QR_CERTIFIER_HEADER_LEN + QR_CERTIFIER_CERTIFY_BODY)
#define QR_CERTIFIER_MAX_BODY QR_CERT_LEN
#define QR_CERTIFIER_MAX_ANSWER (QR_CERTIFIER_HEADER_LEN + QR_CERTIFIER_MAX_BODY)
/* QR.md: a phone refreshes within 1..31 days. */
#define QR_CERTIFIER_MAX_REFRESH 31

enum qr_certifier_op {
    QR_CERTIFIER_OP_STATUS = 1,
    QR_CERTIFIER_OP_CERTIFY = 2,
};

struct qr_certifier_request {
    enum qr_certifier_op op;
    /* CERTIFY */
    uint32_t program_id;
    uint64_t customer_id; /* for the certifier's line of who was certified */
    uint64_t account_id;
    uint64_t virtual_card_id; /* the web process's new id for the phone */
    uint32_t cap_tx_cents;
    uint32_t cap_day_cents;
    uint8_t refresh_days;
    uint8_t device_public[CRYPTO_ED25519_PUBLIC];
};

struct qr_certifier_status {
    uint32_t program_id;
    uint8_t key_version;
    uint8_t public_key[CRYPTO_ED25519_PUBLIC];
    uint32_t max_cap_tx_cents;
    uint32_t max_cap_day_cents;
    uint8_t max_refresh_days;
};

/* A whole request (header and body). */
LEAL_MUST_CHECK leal_err qr_certifier_proto_request_encode(const struct qr_certifier_request *rq,
                                                           uint8_t *out, size_t cap, size_t *len);
/* The body length a request header announces (at most QR_CERTIFIER_CERTIFY_BODY). */
LEAL_MUST_CHECK leal_err qr_certifier_proto_request_header(const uint8_t *in, size_t len,
                                                           size_t *body_len);
LEAL_MUST_CHECK leal_err qr_certifier_proto_request_decode(const uint8_t *in, size_t len,
                                                           struct qr_certifier_request *rq);

/* An answer's header; its body follows it in the caller's buffer. */
LEAL_MUST_CHECK leal_err qr_certifier_proto_answer_header_encode(
    leal_err status, size_t body_len, uint8_t out[QR_CERTIFIER_HEADER_LEN]);
/* The status and body length an answer header announces (at most QR_CERTIFIER_MAX_BODY). */
LEAL_MUST_CHECK leal_err qr_certifier_proto_answer_header(const uint8_t *in, size_t len,
                                                          leal_err *status, size_t *body_len);
LEAL_MUST_CHECK leal_err qr_certifier_proto_status_encode(const struct qr_certifier_status *st,
                                                          uint8_t *out, size_t cap, size_t *len);
LEAL_MUST_CHECK leal_err qr_certifier_proto_status_decode(const uint8_t *in, size_t len,
                                                          struct qr_certifier_status *st);
/* A CERTIFY answer's body: exactly QR_CERT_LEN bytes whose fields
 * (qr_cert_encode_body's) read back into *c; the signature is not checked. */
LEAL_MUST_CHECK leal_err qr_certifier_proto_cert_decode(const uint8_t *in, size_t len,
                                                        struct qr_cert *c);

#endif
