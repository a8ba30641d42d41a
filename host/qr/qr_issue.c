/* qr_issue.c - static QR codes made and recorded by the host (QR.md). */
#include "qr_issue.h"

#include <stdio.h>
#include <string.h>

#include "host/ledger/ledger_qr.h"
#include "keys/base/bytes.h"
#include "keys/hosted/provider_openssl.h"

/* Twelve random decimal digits, as issued cards get (host/issuance). */
static leal_err new_card_id(uint64_t *id)
{
    uint8_t r[8];
    leal_err err = crypto_openssl()->random(r, sizeof r);
    if (err != LEAL_OK)
        return err;
    *id = 100000000000ULL + load_be64(r) % 900000000000ULL;
    return LEAL_OK;
}

/* The signed token and its text for c, signed with seed. */
static leal_err sign_static(const struct qr_static *c, const uint8_t seed[32],
                            struct qr_issued *out)
{
    uint8_t tok[QR_STATIC_LEN], msg[QR_SIGNED_MAX];
    size_t body, msg_len;
    leal_err err;
    if ((err = qr_static_encode_body(c, tok, sizeof tok, &body)) != LEAL_OK ||
        (err = qr_signed_message(tok, body, msg, sizeof msg, &msg_len)) != LEAL_OK ||
        (err = crypto_openssl_ed25519_sign(seed, msg, msg_len, tok + body)) != LEAL_OK)
        return err;
    out->code = *c;
    return qr_text_encode(tok, sizeof tok, out->text, sizeof out->text, &out->text_len);
}

/* The fields both kinds share, from the account and the program's current
 * `qr` key; the virtual card id is left to the caller's loop. */
struct issue_in {
    int64_t account_id;
    uint64_t now;
    uint32_t valid_days;
};

static leal_err prepare(struct ledger *l, const struct keyset *ks, const struct issue_in *in,
                        struct qr_static *c, const struct key_version **kv)
{
    struct ledger_account a;
    int64_t account_id = in->account_id;
    uint32_t valid_days = in->valid_days;
    uint64_t day = in->now / QR_SECONDS_PER_DAY;
    leal_err err;
    if (l == NULL || ks == NULL || valid_days == 0)
        return LEAL_E_ARG;
    if ((err = ledger_account_get(l, account_id, &a)) != LEAL_OK)
        return err;
    if (a.kind == LEDGER_ACCOUNT_PROGRAM)
        return LEAL_E_WRONG_PROGRAM;
    if (a.program_id <= 0 || a.program_id > UINT32_MAX || day + valid_days > UINT16_MAX)
        return LEAL_E_RANGE;
    if ((err = keyset_current(ks, (uint32_t)a.program_id, KEY_ROLE_QR, kv)) != LEAL_OK)
        return err;
    memset(c, 0, sizeof *c);
    c->key_version = (*kv)->version;
    c->program_id = (uint32_t)a.program_id;
    c->account_id = (uint64_t)account_id;
    c->issued_day = (uint16_t)day;
    c->expires_day = (uint16_t)(day + valid_days);
    return LEAL_OK;
}

/* The virtual card of a code: layout_version says its kind (1 static, 2 a
 * phone's certificate), keyset_version the `qr` key version that signed it. */
static leal_err record(struct ledger *l, const struct qr_static *c, enum qr_kind kind, uint64_t now)
{
    struct ledger_card lc;
    memset(&lc, 0, sizeof lc);
    lc.card_id = (int64_t)c->virtual_card_id;
    lc.account_id = (int64_t)c->account_id;
    lc.tech = LEDGER_TECH_VIRTUAL_QR;
    lc.status = LEDGER_CARD_ACTIVE;
    lc.keyset_version = c->key_version;
    lc.layout_version = kind;
    lc.issued_at = (int64_t)now;
    return ledger_card_add(l, &lc);
}

leal_err qr_issue_static(struct ledger *l, const struct keyset *ks, int64_t account_id,
                         uint64_t now, uint32_t valid_days, struct qr_issued *out)
{
    const struct key_version *kv;
    struct qr_static c;
    leal_err err;
    if (out == NULL)
        return LEAL_E_ARG;
    const struct issue_in in = {account_id, now, valid_days};
    if ((err = prepare(l, ks, &in, &c, &kv)) != LEAL_OK)
        return err;
    if ((err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    do {
        if ((err = new_card_id(&c.virtual_card_id)) != LEAL_OK ||
            (err = sign_static(&c, kv->key, out)) != LEAL_OK)
            break;
        err = record(l, &c, QR_KIND_STATIC, now);
    } while (err == LEAL_E_DUPLICATE_ID);
    /* Its text beside the card: the customer portal shows it without a key. */
    if (err == LEAL_OK)
        err = ledger_qr_static_keep(l, (int64_t)c.virtual_card_id, out->text,
                                    (int64_t)c.expires_day * QR_SECONDS_PER_DAY);
    if (err != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    return ledger_batch_commit(l);
}

leal_err qr_issue_enrol(struct ledger *l, const struct keyset *ks,
                        const struct qr_enrol_request *rq, uint8_t cert[QR_CERT_LEN],
                        struct qr_cert *out)
{
    const struct key_version *kv;
    struct qr_cert c;
    uint8_t msg[QR_SIGNED_MAX];
    size_t body, msg_len;
    leal_err err;
    if (rq == NULL || cert == NULL || out == NULL)
        return LEAL_E_ARG;
    const struct issue_in in = {rq->account_id, rq->now, rq->refresh_days};
    if ((err = prepare(l, ks, &in, &c.code, &kv)) != LEAL_OK)
        return err;
    c.cap_tx_cents = rq->cap_tx_cents;
    c.cap_day_cents = rq->cap_day_cents;
    memcpy(c.device_public, rq->device_public, sizeof c.device_public);
    if ((err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    do {
        if ((err = new_card_id(&c.code.virtual_card_id)) != LEAL_OK ||
            (err = qr_cert_encode_body(&c, cert, QR_CERT_LEN, &body)) != LEAL_OK ||
            (err = qr_signed_message(cert, body, msg, sizeof msg, &msg_len)) != LEAL_OK ||
            (err = crypto_openssl_ed25519_sign(kv->key, msg, msg_len, cert + body)) != LEAL_OK)
            break;
        err = record(l, &c.code, QR_KIND_SPEND, rq->now);
    } while (err == LEAL_E_DUPLICATE_ID);
    if (err == LEAL_OK)
        err =
            ledger_qr_caps_set(l, (int64_t)c.code.virtual_card_id, c.cap_tx_cents, c.cap_day_cents);
    if (err == LEAL_OK && rq->replaces != 0) {
        /* The old phone first, so the new hold can take what it gives back. */
        char why[80];
        snprintf(why, sizeof why, "re-enrolled: replaced by virtual card %llu",
                 (unsigned long long)c.code.virtual_card_id);
        err = ledger_qr_card_status(l, rq->replaces, LEDGER_CARD_REPLACED, why, "qr enrol");
    }
    if (err == LEAL_OK && rq->redeem_points > 0)
        err = ledger_qr_hold(l, (int64_t)c.code.program_id, rq->account_id, c.code.virtual_card_id,
                             rq->redeem_points, (int64_t)rq->now);
    if (err != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    if ((err = ledger_batch_commit(l)) == LEAL_OK)
        *out = c;
    return err;
}

leal_err qr_issue_public_keys(const struct keyset *ks, uint32_t program_id, struct qr_key *keys,
                              size_t *count)
{
    const struct key_program *p;
    const struct key_slot *s;
    leal_err err;
    if (ks == NULL || keys == NULL || count == NULL)
        return LEAL_E_ARG;
    if ((err = keyset_program(ks, program_id, &p)) != LEAL_OK)
        return err;
    s = &p->roles[KEY_ROLE_QR - KEY_ROLE_FIRST];
    for (size_t i = 0; i < s->nversions; i++) {
        keys[i].version = s->v[i].version;
        if ((err = crypto_openssl_ed25519_public(s->v[i].key, keys[i].public_key)) != LEAL_OK)
            return err;
    }
    *count = s->nversions;
    return LEAL_OK;
}
