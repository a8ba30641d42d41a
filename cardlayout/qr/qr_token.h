/*
 * qr_token.h - leal's QR tokens (cardlayout/qr/QR.md): the binary token, its
 * text form for a QR code's alphanumeric mode ("LQ:" and Base45), and its
 * verification with the issuer's `qr` public keys (KEYS.md role 6), offline.
 * Format 1 has the static code (kind 1): it names an account for earning
 * points and stamps and can never spend; and the spending code (kind 2): a
 * device certificate the host signed (account, caps, the phone's Ed25519
 * public key) and the phone's signature over a 30-second time step and a
 * counter. Signing is host and phone code; this module only builds the
 * signed bytes and checks them, with a terminal's replay memory and the
 * spending caps. Freestanding: caller memory, crypto through the provider.
 * Errors (the first check that fails, in QR.md's order): LEAL_E_QR_MALFORMED,
 * LEAL_E_QR_TRUNCATED, LEAL_E_QR_FORMAT_VERSION, LEAL_E_QR_KEY_VERSION,
 * LEAL_E_QR_SIGNATURE, LEAL_E_QR_PROGRAM, LEAL_E_QR_FUTURE,
 * LEAL_E_QR_EXPIRED, LEAL_E_QR_REVOKED, LEAL_E_QR_REPLAYED; spending:
 * LEAL_E_QR_STATIC_SPEND, LEAL_E_QR_CAP_TX, LEAL_E_QR_CAP_DAY,
 * LEAL_E_QR_REPLAY_FULL; LEAL_E_NO_SPACE (caller's buffer).
 */
#ifndef LEAL_QR_TOKEN_H
#define LEAL_QR_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"
#include "keys/crypto.h"

#define QR_TEXT_PREFIX "LQ:"
#define QR_TEXT_PREFIX_LEN 3
#define QR_FORMAT_VERSION 1
#define QR_SIGNED_DOMAIN "leal-qr" /* 7 bytes before the signed token bytes */
#define QR_SIGNED_DOMAIN_LEN 7
#define QR_STATIC_BODY_LEN 28
#define QR_STATIC_LEN (QR_STATIC_BODY_LEN + CRYPTO_ED25519_SIGNATURE)
#define QR_CERT_BODY_LEN 68
#define QR_CERT_LEN (QR_CERT_BODY_LEN + CRYPTO_ED25519_SIGNATURE)
#define QR_SPEND_BODY_LEN (QR_CERT_LEN + 8)
#define QR_SPEND_LEN (QR_SPEND_BODY_LEN + CRYPTO_ED25519_SIGNATURE)
#define QR_DEVICE_DOMAIN "leal-qr-device" /* 14 bytes before the device's signed bytes */
#define QR_DEVICE_DOMAIN_LEN 14
#define QR_TIME_STEP_SECONDS 30u
/* A spending code is accepted while its time step is within this many steps
 * of the terminal's, either way (QR.md "Clock skew"). */
#define QR_SKEW_STEPS 3u
#define QR_TOKEN_MAX 256
/* Characters of the longest text, with its NUL. */
#define QR_TEXT_MAX (QR_TEXT_PREFIX_LEN + QR_TOKEN_MAX / 2 * 3 + 1)
#define QR_SIGNED_MAX (QR_SIGNED_DOMAIN_LEN + QR_TOKEN_MAX)
#define QR_SECONDS_PER_DAY 86400u

enum qr_kind {
    QR_KIND_STATIC = 1,
    QR_KIND_SPEND = 2,
};

/* A static code's fields (QR.md "Static code"). Days count from 1970-01-01 UTC. */
struct qr_static {
    uint8_t key_version;      /* of the `qr` role that signed it, 1..255 */
    uint8_t flags;            /* 0 in format 1 */
    uint32_t program_id;      /* != 0 */
    uint64_t account_id;      /* the ledger's account, != 0 */
    uint64_t virtual_card_id; /* this code's own id (hot list), != 0 */
    uint16_t issued_day;
    uint16_t expires_day; /* refused from 00:00 UTC of this day on; > issued_day */
};

/* A device certificate's own fields (kind 2; code.flags 0, code.expires_day
 * the day the phone must have refreshed by). */
struct qr_cert {
    struct qr_static code;
    uint32_t cap_tx_cents;  /* at most this per payment, >= 1 */
    uint32_t cap_day_cents; /* at most this a day at one terminal, >= cap_tx_cents */
    uint8_t device_public[CRYPTO_ED25519_PUBLIC];
};

struct qr_token {
    enum qr_kind kind;
    struct qr_static code; /* both kinds */
    /* spending codes only */
    uint32_t cap_tx_cents;
    uint32_t cap_day_cents;
    uint8_t device_public[CRYPTO_ED25519_PUBLIC];
    uint32_t time_step; /* unix time / 30 on the phone's clock */
    uint32_t counter;   /* the phone's, one up for every code it shows */
};

/* What a terminal remembers of the spending codes it accepted: per device
 * the newest (time step, counter), so a code is taken once. Caller memory;
 * zero it to start. An entry whose step is out of the skew window is free
 * again (its codes are refused by their time step anyway). */
struct qr_seen {
    uint64_t virtual_card_id; /* 0: free */
    uint32_t time_step;
    uint32_t counter;
};
struct qr_replay {
    struct qr_seen *slots;
    size_t count;
};

/* One version of the `qr` role's public key, as a terminal bundle holds it. */
struct qr_key {
    uint8_t version;
    uint8_t public_key[CRYPTO_ED25519_PUBLIC];
};

/* What the verifier checks a token against. revoked (may be NULL) answers
 * whether a virtual card id is on the package's hot list. */
/* Certificates whose issuer signature a terminal verified (QR.md
 * "Certificate cache"): caller memory, zeroed before first use; a slot
 * holds the issuer key it verified under and the certificate's 132 bytes. */
struct qr_cert_seen {
    bool used;
    uint8_t public_key[CRYPTO_ED25519_PUBLIC];
    uint8_t cert[QR_CERT_LEN];
};
struct qr_cert_cache {
    struct qr_cert_seen *slots;
    size_t count;
    size_t next; /* the slot the next new certificate takes (round robin) */
};

struct qr_expect {
    uint32_t program_id;
    uint64_t now; /* the terminal's clock, seconds since 1970 UTC */
    const struct qr_key *keys;
    size_t key_count;
    bool (*revoked)(void *ctx, uint64_t virtual_card_id);
    void *revoked_ctx;
    const struct qr_replay *replay; /* NULL: no replay check (host tools) */
    struct qr_cert_cache *certs;    /* NULL: every certificate's signature is verified */
};

/* The 28 bytes a static code's signature covers; checks the fields. */
LEAL_MUST_CHECK leal_err qr_static_encode_body(const struct qr_static *s, uint8_t *out, size_t cap,
                                               size_t *len);
/* The message signed: "leal-qr" || body. */
LEAL_MUST_CHECK leal_err qr_signed_message(const uint8_t *body, size_t body_len, uint8_t *msg,
                                           size_t cap, size_t *msg_len);
/* The 68 bytes a device certificate's issuer signature covers. */
LEAL_MUST_CHECK leal_err qr_cert_encode_body(const struct qr_cert *c, uint8_t *out, size_t cap,
                                             size_t *len);
/* The message a phone signs: "leal-qr-device" || cert (132) || step || counter. */
LEAL_MUST_CHECK leal_err qr_device_message(const uint8_t cert[QR_CERT_LEN], uint32_t time_step,
                                           uint32_t counter, uint8_t *msg, size_t cap,
                                           size_t *msg_len);
/* The token's structure and fields, without its signatures. */
LEAL_MUST_CHECK leal_err qr_token_parse(const uint8_t *tok, size_t len, struct qr_token *t);

/* "LQ:" and Base45 of tok, with a NUL. */
LEAL_MUST_CHECK leal_err qr_text_encode(const uint8_t *tok, size_t len, char *out, size_t cap,
                                        size_t *out_len);
/* The token bytes of a text (len characters; no NUL needed). */
LEAL_MUST_CHECK leal_err qr_text_decode(const char *text, size_t len, uint8_t *tok, size_t cap,
                                        size_t *tok_len);

/* Every check of QR.md "Verifying", on token bytes or on a code's text. */
LEAL_MUST_CHECK leal_err qr_verify_bytes(const struct crypto_provider *cp, const uint8_t *tok,
                                         size_t len, const struct qr_expect *e, struct qr_token *t);
LEAL_MUST_CHECK leal_err qr_verify_text(const struct crypto_provider *cp, const char *text,
                                        size_t len, const struct qr_expect *e, struct qr_token *t);

/* Whether the terminal may take amount_cents with t, having taken
 * spent_today_cents with this device today: a static code never
 * (LEAL_E_QR_STATIC_SPEND), then the caps (LEAL_E_QR_CAP_TX, _DAY). */
LEAL_MUST_CHECK leal_err qr_spend_allowed(const struct qr_token *t, uint32_t amount_cents,
                                          uint32_t spent_today_cents);
/* Remembers an accepted spending code; LEAL_E_QR_REPLAY_FULL if every slot
 * holds a device seen within the window (refuse the code, nothing changed). */
LEAL_MUST_CHECK leal_err qr_replay_record(struct qr_replay *r, const struct qr_token *t,
                                          uint64_t now);

#endif
