/* sync_auth.c - a terminal's sync request MAC and its header (sync_auth.h). */
#include "firmware/core/sync_auth.h"

#include "keys/base/bytes.h"
#include "keys/base/ct.h"

static const char hex[] = "0123456789abcdef";

/* The purposes' labels: subkeys of the journal key (sync_auth.h). */
static const uint8_t auth_label[] = "leal sync auth key v1";
static const uint8_t body_label[] = "leal sync body key v1";

leal_err sync_auth_mac(const struct crypto_provider *cp, const uint8_t journal_key[16], uint8_t op,
                       const uint8_t *body, size_t len, struct sync_auth *a)
{
    uint8_t ka[16], kb[16], msg[48];
    leal_err err;
    if (cp == NULL || journal_key == NULL || a == NULL || (body == NULL && len > 0) ||
        (op != SYNC_AUTH_OP_JOURNAL && op != SYNC_AUTH_OP_PACKAGE))
        return LEAL_E_ARG;
    leal_memcpy(msg, "LEALSYNC", 8);
    msg[8] = op;
    msg[9] = 1;
    store_be32(msg + 10, a->terminal_id);
    msg[14] = a->key_version;
    msg[15] = 0;
    leal_memcpy(msg + 16, a->nonce, SYNC_AUTH_NONCE_LEN);
    err = cp->aes128_cmac(journal_key, auth_label, sizeof auth_label - 1, ka);
    if (err == LEAL_OK)
        err = cp->aes128_cmac(journal_key, body_label, sizeof body_label - 1, kb);
    if (err == LEAL_OK)
        err = cp->aes128_cmac(kb, body ? body : msg, len, msg + 32);
    if (err == LEAL_OK)
        err = cp->aes128_cmac(ka, msg, sizeof msg, a->mac);
    leal_wipe(ka, sizeof ka);
    leal_wipe(kb, sizeof kb);
    return err;
}

static size_t put_dec(char *out, uint32_t v)
{
    char tmp[10];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static size_t put_hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    return 2 * n;
}

void sync_auth_format(const struct sync_auth *a, char out[SYNC_AUTH_HEADER_MAX])
{
    size_t n = 0;
    out[n++] = '1';
    out[n++] = '.';
    n += put_dec(out + n, a->terminal_id);
    out[n++] = '.';
    n += put_dec(out + n, a->key_version);
    out[n++] = '.';
    n += put_hex(out + n, a->nonce, SYNC_AUTH_NONCE_LEN);
    out[n++] = '.';
    n += put_hex(out + n, a->mac, sizeof a->mac);
    out[n] = '\0';
}

void sync_auth_nonce_format(const uint8_t nonce[SYNC_AUTH_NONCE_LEN],
                            char out[2 * SYNC_AUTH_NONCE_LEN + 1])
{
    out[put_hex(out, nonce, SYNC_AUTH_NONCE_LEN)] = '\0';
}

/* A bounded reader over the header's text. */
struct cursor {
    const char *s;
    size_t len, at;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A decimal of at most max, no leading zero, then sep (or the end when sep is 0). */
static leal_err take_dec(struct cursor *c, uint32_t max, char sep, uint32_t *v)
{
    size_t start = c->at;
    uint64_t acc = 0;
    while (c->at < c->len && c->s[c->at] >= '0' && c->s[c->at] <= '9') {
        acc = acc * 10 + (uint64_t)(c->s[c->at] - '0');
        if (acc > max)
            return LEAL_E_NET_MALFORMED;
        c->at++;
    }
    if (c->at == start || (c->s[start] == '0' && c->at - start > 1))
        return LEAL_E_NET_MALFORMED;
    if (c->at >= c->len || c->s[c->at] != sep)
        return LEAL_E_NET_MALFORMED;
    c->at++;
    *v = (uint32_t)acc;
    return LEAL_OK;
}

/* n bytes as 2n lowercase hex digits. */
static leal_err take_hex(struct cursor *c, uint8_t *out, size_t n)
{
    if (c->len - c->at < 2 * n)
        return LEAL_E_NET_MALFORMED;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(c->s[c->at + 2 * i]), lo = hexval(c->s[c->at + 2 * i + 1]);
        if (hi < 0 || lo < 0)
            return LEAL_E_NET_MALFORMED;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    c->at += 2 * n;
    return LEAL_OK;
}

leal_err sync_auth_parse(const char *s, size_t len, struct sync_auth *a)
{
    struct cursor c = {s, len, 0};
    uint32_t version = 0, kv = 0;
    if (s == NULL || a == NULL)
        return LEAL_E_ARG;
    leal_memset(a, 0, sizeof *a);
    if (take_dec(&c, 1, '.', &version) != LEAL_OK || version != 1 ||
        take_dec(&c, UINT32_MAX, '.', &a->terminal_id) != LEAL_OK ||
        take_dec(&c, 255, '.', &kv) != LEAL_OK ||
        take_hex(&c, a->nonce, SYNC_AUTH_NONCE_LEN) != LEAL_OK || c.at >= c.len ||
        c.s[c.at++] != '.' || take_hex(&c, a->mac, sizeof a->mac) != LEAL_OK || c.at != c.len) {
        leal_memset(a, 0, sizeof *a);
        return LEAL_E_NET_MALFORMED;
    }
    a->key_version = (uint8_t)kv;
    return LEAL_OK;
}

leal_err sync_auth_nonce_parse(const char *s, size_t len, uint8_t nonce[SYNC_AUTH_NONCE_LEN])
{
    struct cursor c = {s, len, 0};
    if (s == NULL || len != 2 * SYNC_AUTH_NONCE_LEN)
        return LEAL_E_NET_MALFORMED;
    return take_hex(&c, nonce, SYNC_AUTH_NONCE_LEN);
}
