/*
 * link_desfire_card.c - linked, never run, by check-freestanding.sh: a
 * program that calls every DESFire card operation (cardlayout/desfire/
 * desfire_card.h) through a reader and a provider of its own and is linked
 * with -nostdlib against the freestanding objects only. Any use of the C
 * library (stdio, malloc, ...) in those operations is an undefined symbol
 * here. The few functions a C compiler may call by itself (memcpy, memset,
 * memmove, memcmp) come from mem.c, as a terminal's port gives them.
 */
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/desfire/desfire_card.h"

void link_start(void);

static leal_err no_card(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                        size_t resp_cap, size_t *resp_len)
{
    (void)ctx, (void)cmd, (void)cmd_len, (void)resp, (void)resp_cap;
    *resp_len = 0;
    return LEAL_E_NO_CARD;
}

static leal_err no_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    (void)ctx, (void)block, (void)key_type, (void)key;
    return LEAL_E_NO_CARD;
}

static leal_err no_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    (void)ctx, (void)block, (void)out;
    return LEAL_E_NO_CARD;
}

static leal_err no_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    (void)ctx, (void)block, (void)data;
    return LEAL_E_NO_CARD;
}

static leal_err no_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    (void)key, (void)in, (void)out;
    return LEAL_E_CRYPTO;
}

static leal_err no_cbc(const uint8_t key[16], uint8_t iv[16], const uint8_t *in, uint8_t *out,
                       size_t len)
{
    (void)key, (void)iv, (void)in, (void)out, (void)len;
    return LEAL_E_CRYPTO;
}

static leal_err no_cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t mac[16])
{
    (void)key, (void)msg, (void)len, (void)mac;
    return LEAL_E_CRYPTO;
}

static leal_err no_sha(const uint8_t *msg, size_t len, uint8_t digest[32])
{
    (void)msg, (void)len, (void)digest;
    return LEAL_E_CRYPTO;
}

static leal_err no_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
                          const uint8_t sig[64])
{
    (void)pk, (void)msg, (void)len, (void)sig;
    return LEAL_E_CRYPTO;
}

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out, (void)n;
    return LEAL_E_RANDOM;
}

static leal_err no_version(void *ctx, enum key_role role, uint8_t *version)
{
    (void)ctx, (void)role;
    *version = 1;
    return LEAL_OK;
}

static leal_err no_key(void *ctx, const struct desfire_card_div *card, enum key_role role,
                       uint8_t version, const uint8_t aid[3], uint8_t out[16])
{
    (void)ctx, (void)card, (void)role, (void)version, (void)aid, (void)out;
    return LEAL_E_KEY_VERSION;
}

static const struct card_reader reader = {0, no_card, no_classic_auth, no_classic_read,
                                          no_classic_write};
static const struct crypto_provider provider = {"none",  no_block, no_block,  no_cbc,   no_cbc,
                                                no_cmac, no_sha,   no_verify, no_random};
static const struct desfire_card_keys keys = {0, no_version, no_key};

/* The entry point the linker is given; it is never run. */
void link_start(void)
{
    static struct desfire_card c;
    static struct card_view v;
    static const struct desfire_card_issue issue;
    static const struct log_record rec = {LOG_RECORD_TOPUP, 1, 1, 0};
    const struct desfire_card_setup s = {&reader, &provider, &keys, 1, 1, 0, 0};
    struct desfire_version ver = {{0}, {0}, {0}, {0}, 0, 0};
    int32_t counter;
    bool stale;
    unsigned rekeyed;
    leal_err err = LEAL_OK;

    desfire_card_open(&c, &s);
    desfire_card_set_card_id(&c, 1);
    err |= desfire_card_kind(&ver);
    err |= desfire_card_identify(&c, &v);
    err |= desfire_card_read(&c, &v);
    err |= desfire_card_auth(&c, 0, KEY_ROLE_TERMINAL, desfire_card_leal_aid);
    err |= desfire_card_terminal_session(&c);
    err |= desfire_card_rekey(&c, &stale, &rekeyed);
    err |= desfire_card_write_state(&c, &v.state, 0, &v);
    err |= desfire_card_credit_begin(&c, &counter);
    err |= desfire_card_credit_commit(&c, 1, &rec, &v);
    err |= desfire_card_personalise(&c, &issue, v.uid);
    desfire_card_issued_view(&c, &issue, v.uid, 7, &v);
    err |= desfire_card_verify(&c, &v);
    desfire_card_clear(&c);
    for (;;)
        (void)err;
}
