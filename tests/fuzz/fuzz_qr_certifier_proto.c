/* fuzz_qr_certifier_proto.c - the QR certifier's socket messages
 * (host/qr/qr_certifier_proto.h): request header and request, answer header,
 * status body and certificate; whatever decodes encodes back to the same
 * bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/qr/qr_certifier_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned consumed; /* keeps results observable */

static void requests(const uint8_t *data, size_t size)
{
    static struct qr_certifier_request rq;
    static uint8_t out[QR_CERTIFIER_MAX_REQUEST];
    size_t body, len;
    leal_err status;
    if (qr_certifier_proto_request_header(
            data, size < QR_CERTIFIER_HEADER_LEN ? size : QR_CERTIFIER_HEADER_LEN, &body) ==
        LEAL_OK)
        consumed += (unsigned)body;
    if (qr_certifier_proto_request_decode(data, size, &rq) == LEAL_OK) {
        if (qr_certifier_proto_request_encode(&rq, out, sizeof out, &len) != LEAL_OK ||
            len != size || memcmp(out, data, size) != 0)
            abort();
    }
    if (qr_certifier_proto_answer_header(data, size, &status, &body) == LEAL_OK) {
        uint8_t head[QR_CERTIFIER_HEADER_LEN];
        if (qr_certifier_proto_answer_header_encode(status, body, head) != LEAL_OK ||
            memcmp(head, data, sizeof head) != 0)
            abort();
    }
}

static void bodies(const uint8_t *data, size_t size)
{
    static struct qr_certifier_status st;
    static struct qr_cert c;
    static uint8_t out[QR_CERTIFIER_MAX_BODY];
    size_t len;
    if (qr_certifier_proto_status_decode(data, size, &st) == LEAL_OK) {
        if (qr_certifier_proto_status_encode(&st, out, sizeof out, &len) != LEAL_OK ||
            len != size || memcmp(out, data, size) != 0)
            abort();
    }
    if (qr_certifier_proto_cert_decode(data, size, &c) == LEAL_OK) {
        if (qr_cert_encode_body(&c, out, sizeof out, &len) != LEAL_OK || len != QR_CERT_BODY_LEN ||
            memcmp(out, data, len) != 0)
            abort();
        consumed += c.cap_tx_cents;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * QR_CERTIFIER_MAX_ANSWER)
        return 0;
    requests(data, size);
    bodies(data, size);
    return 0;
}
