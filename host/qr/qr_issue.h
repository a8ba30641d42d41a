/*
 * qr_issue.h - the host's side of a static QR code (cardlayout/qr/QR.md):
 * a new virtual card (LEDGER_TECH_VIRTUAL_QR, active, a random 12-digit card
 * id like issued cards) on an account, and its code signed with the current
 * version of the program's `qr` role; and a phone's certificate for spending
 * codes, recorded the same way. The code is signed before the card is
 * recorded, so a failure leaves neither. Revoking the code is blocking or
 * losing that card: it then goes on every terminal package's hot list.
 * Hosted (ledger, OpenSSL signing).
 * Errors: the ledger's (LEAL_E_UNKNOWN_ID for an unknown account),
 * LEAL_E_WRONG_PROGRAM (a program account, not a customer's or a gift one),
 * LEAL_E_UNKNOWN_PROGRAM / LEAL_E_KEY_VERSION (the keystore lacks the
 * program or its `qr` key), LEAL_E_RANGE (dates past 2149), LEAL_E_CRYPTO,
 * LEAL_E_RANDOM.
 */
#ifndef LEAL_QR_ISSUE_H
#define LEAL_QR_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/qr/qr_token.h"
#include "host/ledger/ledger.h"
#include "keys/keyset.h"

struct qr_issued {
    struct qr_static code;
    char text[QR_TEXT_MAX]; /* "LQ:..." with its NUL */
    size_t text_len;
};

/* Issues a static code for account_id valid from now's day for valid_days days. */
LEAL_MUST_CHECK leal_err qr_issue_static(struct ledger *l, const struct keyset *ks,
                                         int64_t account_id, uint64_t now, uint32_t valid_days,
                                         struct qr_issued *out);

struct qr_enrol_request {
    int64_t account_id;
    uint8_t device_public[32];
    uint64_t now;
    uint32_t cap_tx_cents;  /* per payment, >= 1 */
    uint32_t cap_day_cents; /* per day at one terminal, >= cap_tx_cents */
    uint32_t refresh_days;  /* the phone shows codes for this many days, then refreshes */
    uint32_t redeem_points; /* held for its offline redeems (ledger_qr_hold); 0: none */
    int64_t replaces;       /* a phone of the account this one replaces (0: none): its virtual
                               card is marked replaced and its hold given back first */
};

/* Certifies a phone's public key for rq->account_id (QR.md "Spending code"):
 * records a virtual card for the phone and writes the signed certificate
 * (QR_CERT_LEN bytes) the phone keeps; with rq->redeem_points, holds that
 * many of the account's points for the phone in the same transaction
 * (LEAL_E_INSUFFICIENT_FUNDS, nothing recorded, when it holds fewer).
 * LEAL_E_QR_MALFORMED for caps that do not hold. */
LEAL_MUST_CHECK leal_err qr_issue_enrol(struct ledger *l, const struct keyset *ks,
                                        const struct qr_enrol_request *rq,
                                        uint8_t cert[QR_CERT_LEN], struct qr_cert *out);

/* The `qr` public keys of every version of a program, as a terminal bundle
 * holds them (keys has room for LEAL_MAX_KEY_VERSIONS). */
LEAL_MUST_CHECK leal_err qr_issue_public_keys(const struct keyset *ks, uint32_t program_id,
                                              struct qr_key *keys, size_t *count);

#endif
