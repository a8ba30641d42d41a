/*
 * link_journal.c - linked, never run, by link_journal.sh: a program that
 * opens, appends to, exports, acknowledges and closes the terminal journal
 * (firmware/core/journal.h) on the template port's storage
 * (firmware/port/template/) with the portable provider's AES and CMAC
 * (keys/portable/), linked with -nostdlib against those objects built
 * freestanding. Any use of the C library in the journal, the port contract
 * or what they reach (malloc, stdio, ...) is an undefined symbol here. The
 * memory functions a C compiler may call by itself come from mem.c, as a
 * bare-metal port gives them; the two provider members given below (Ed25519
 * verification, randomness) are ones the journal never calls.
 */
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/journal.h"
#include "firmware/port/template/port_template.h"
#include "keys/portable/provider_portable.h"

void journal_link_start(void);

static leal_err no_ed25519(const uint8_t public_key[32], const uint8_t *msg, size_t len,
                           const uint8_t sig[64])
{
    (void)public_key, (void)msg, (void)len, (void)sig;
    return LEAL_E_UNSUPPORTED;
}

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out, (void)n;
    return LEAL_E_RANDOM;
}

static const struct crypto_provider provider = {
    "portable",
    crypto_portable_aes128_ecb_encrypt,
    crypto_portable_aes128_ecb_decrypt,
    crypto_portable_aes128_cbc_encrypt,
    crypto_portable_aes128_cbc_decrypt,
    crypto_portable_aes128_cmac,
    crypto_portable_sha256,
    no_ed25519,
    no_random,
};

volatile unsigned journal_link_result;

void journal_link_start(void)
{
    static struct journal j;
    static struct journal_report rep;
    static uint8_t out[2048];
    static const struct journal_config cfg = {7, 3, 2, {1, 2, 3}};
    const struct terminal_port *port = port_template();
    struct port_time now = {1780000000u, 60};
    struct journal_entry e = {0};
    struct journal_export_info info;
    struct journal_status_info st;
    struct journal_iter it;
    unsigned bad = terminal_port_check(port) != LEAL_OK;
    bool done = false;
    bad |= journal_open(&j, port->journal, &provider, &cfg, &now, &rep) != LEAL_OK;
    e.op = JOURNAL_OP_BALANCE;
    bad |= journal_append(&j, &e) != LEAL_OK;
    journal_iter_begin(&j, &it, false);
    bad |= journal_iter_next(&j, &it, &e, NULL, NULL, &done) != LEAL_OK;
    bad |= journal_export(&j, out, sizeof out, &info) != LEAL_OK;
    bad |= journal_ack(&j, out, JOURNAL_ACK_LEN, &now) != LEAL_OK;
    bad |= journal_status(&j, &st) != LEAL_OK;
    journal_close(&j);
    journal_link_result = bad;
    for (;;) {
    }
}
