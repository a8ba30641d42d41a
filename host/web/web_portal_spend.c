/*
 * web_portal_spend.c - the portal's spending-code enrolment (see
 * web_portal.h and cardlayout/qr/QR.md "Spending code"): the page makes the
 * phone's Ed25519 key pair with WebCrypto and keeps the private key, not
 * extractable, in the browser; it sends the public key here, and the QR
 * certifier (a process of its own holding only the program's `qr` key,
 * host/qr/qr_certifier_server.h) signs the certificate. This process never
 * holds a key: it knows the certifier's socket, the customer of the
 * session and the ledger, and records the phone as `leal qr enrol` would.
 */
#include "web_portal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host/qr/qr_certifier_client.h"
#include "keys/base/hex.h"

/* Available: a certifier answers, for the customer's own program. */
void web_portal_spend_status(struct web_req *r)
{
    struct qr_certifier_status st;
    struct ledger_customer c;
    char pub[2 * CRYPTO_ED25519_PUBLIC + 1];
    if (qr_certifier_client_status(r->qr_certifier, &st) != LEAL_OK ||
        ledger_customer_get(r->l, r->customer, &c) != LEAL_OK ||
        c.program_id != (int64_t)st.program_id ||
        leal_hex_encode(st.public_key, sizeof st.public_key, false, pub, sizeof pub) != LEAL_OK) {
        r->status = 200;
        r->out = json_pack("{s:b}", "available", 0);
        return;
    }
    r->status = 200;
    r->out = json_pack("{s:b,s:I,s:i,s:s,s:I,s:I,s:i}", "available", 1, "program",
                       (json_int_t)st.program_id, "key_version", (int)st.key_version, "public_key",
                       pub, "cap_tx_cents", (json_int_t)st.max_cap_tx_cents, "cap_day_cents",
                       (json_int_t)st.max_cap_day_cents, "refresh_days", (int)st.max_refresh_days);
}

/* The limits' keys of a request: the customer, the client address. */
static void enrol_keys(const struct web_req *r, char *customer, char *addr)
{
    snprintf(customer, WEB_LIMIT_KEY, "enrol:%lld", (long long)r->customer);
    snprintf(addr, WEB_LIMIT_KEY, "enrol-from:%.64s", r->addr);
}

/* 201 and the certificate, the phone and the phones it replaced. */
static void enrolled(struct web_req *r, const struct qr_certifier_enrolled *d)
{
    char cert_hex[2 * QR_CERT_LEN + 1];
    const struct qr_cert *c = &d->c;
    if (leal_hex_encode(d->cert, sizeof d->cert, false, cert_hex, sizeof cert_hex) != LEAL_OK) {
        web_api_error(r, 500, LEAL_E_INTERNAL, NULL);
        return;
    }
    json_t *replaced = json_array();
    for (size_t i = 0; i < d->n_replaced; i++)
        json_array_append_new(replaced, json_integer((json_int_t)d->replaced[i]));
    r->status = 201;
    r->out = json_pack("{s:s,s:I,s:I,s:i,s:i,s:i,s:I,s:I,s:o}", "certificate", cert_hex,
                       "virtual_card", (json_int_t)c->code.virtual_card_id, "account",
                       (json_int_t)c->code.account_id, "key_version", (int)c->code.key_version,
                       "issued_day", (int)c->code.issued_day, "expires_day",
                       (int)c->code.expires_day, "cap_tx_cents", (json_int_t)c->cap_tx_cents,
                       "cap_day_cents", (json_int_t)c->cap_day_cents, "replaced", replaced);
}

void web_portal_spend_enrol(struct web_req *r)
{
    const char *hex = json_string_value(json_object_get(r->body, "public_key"));
    char who_key[WEB_LIMIT_KEY], addr_key[WEB_LIMIT_KEY], actor[48];
    struct qr_certifier_enrolment e = {.customer_id = r->customer, .actor = actor};
    struct qr_certifier_enrolled done;
    size_t got = 0;
    const int64_t now = (int64_t)time(NULL);
    leal_err err;
    if (hex == NULL || strlen(hex) != 2 * sizeof e.device_public ||
        leal_hex_decode(hex, strlen(hex), e.device_public, sizeof e.device_public, &got) !=
            LEAL_OK ||
        got != sizeof e.device_public) {
        web_api_error(r, 400, LEAL_E_ARG,
                      "send {\"public_key\": the phone's Ed25519 public key, 64 hex digits}");
        return;
    }
    enrol_keys(r, who_key, addr_key);
    if (!web_limit_allowed(r->enrol_customer, who_key, now) ||
        !web_limit_allowed(r->enrol_addr, addr_key, now)) {
        web_api_error(r, 429, LEAL_E_QR_ENROL_LIMIT, NULL);
        return;
    }
    snprintf(actor, sizeof actor, "customer %lld (portal)", (long long)r->customer);
    err = qr_certifier_enrol(r->l, r->qr_certifier, &e, &done);
    if (err == LEAL_E_QR_CERTIFIER_DOWN) {
        web_api_error(r, 503, err, "enrolment is unavailable");
        return;
    }
    /* Every enrolment a certifier answered counts, granted or refused. */
    web_limit_fail(r->enrol_customer, who_key, now);
    web_limit_fail(r->enrol_addr, addr_key, now);
    if (err == LEAL_E_QR_CERTIFIER_REFUSED)
        web_api_error(r, 403, err, NULL);
    else if (err != LEAL_OK)
        web_ledger_error(r, err, "the phone's enrolment");
    else
        enrolled(r, &done);
}
