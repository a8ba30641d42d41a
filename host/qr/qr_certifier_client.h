/*
 * qr_certifier_client.h - the web process's side of the QR certifier
 * (qr_certifier_server.h): asks it for its status and to certify a phone,
 * and enrols a customer's phone in the ledger with the certificate it
 * returns. Holds no key: the certifier signs. Hosted (Linux).
 * Errors: LEAL_E_QR_CERTIFIER_DOWN (nothing answers on the socket, or it is
 * another user's), LEAL_E_QR_CERTIFIER_REFUSED (the certifier refused), the
 * certifier's own error, LEAL_E_PROTOCOL, LEAL_E_IO, the decoders'
 * (qr_certifier_proto.h), the ledger's.
 */
#ifndef LEAL_QR_CERTIFIER_CLIENT_H
#define LEAL_QR_CERTIFIER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "host/ledger/ledger.h"
#include "host/qr/qr_certifier_proto.h"

/* The certifier's answer takes one signature; this bounds a hung one. */
#define QR_CERTIFIER_CLIENT_MS 3000u

LEAL_MUST_CHECK leal_err qr_certifier_client_status(const char *socket_path,
                                                    struct qr_certifier_status *st);
/* rq->op must be QR_CERTIFIER_OP_CERTIFY; cert and *c only on success. */
LEAL_MUST_CHECK leal_err qr_certifier_client_certify(const char *socket_path,
                                                     const struct qr_certifier_request *rq,
                                                     uint8_t cert[QR_CERT_LEN], struct qr_cert *c);

/* At most this many active phones of an account are replaced by a new one
 * (an account with more is refused: LEAL_E_QR_CERTIFIER_REFUSED). */
#define QR_CERTIFIER_REPLACED_MAX 8

/* A phone to enrol: the signed-in customer, the phone's public key, who
 * the audit line and the card history name. */
struct qr_certifier_enrolment {
    int64_t customer_id;
    uint8_t device_public[CRYPTO_ED25519_PUBLIC];
    const char *actor;
};

/* An enrolment's result: the certificate (bytes and decoded) and the
 * account's phones it replaced (those that were active). */
struct qr_certifier_enrolled {
    uint8_t cert[QR_CERT_LEN];
    struct qr_cert c;
    int64_t replaced[QR_CERTIFIER_REPLACED_MAX];
    size_t n_replaced;
};

/* Enrols a phone of e->customer_id (its account and program from the ledger)
 * with the certifier's caps and refresh period: a new virtual card id, the
 * certificate, then in one transaction the virtual card (LEDGER_TECH_VIRTUAL_QR,
 * kind spend) and its caps, as `leal qr enrol` records them; every other
 * active phone of the account marked replaced (reason "re-enrolled from the
 * portal: replaced by virtual card N", by e->actor; its hold given back:
 * ledger_qr_card_status), so the next terminal package hot-lists it; and the
 * audit line "qr.enrol" on "customer ID" by e->actor (user 0), before
 * {"phones":[the active ones]}, after {"phones":[new],"replaced":[them]}.
 * Nothing is written unless the certificate came back; *done is zeroed,
 * then filled on success. */
LEAL_MUST_CHECK leal_err qr_certifier_enrol(struct ledger *l, const char *socket_path,
                                            const struct qr_certifier_enrolment *e,
                                            struct qr_certifier_enrolled *done);

#endif
