/* fuzz_journal.c - the terminal journal (firmware/core/journal.h) on any
 * bytes, through the RAM storage port (the fuzz port). The first byte picks
 * what the rest is:
 *   even: an export and an ack from outside: never a sanitizer finding; an
 *         export that verifies also parses to the same header, and each of
 *         its entries is readable; a refusal leaves the info zeroed.
 *   odd:  a storage image (4 units of 1,024 bytes, the rest erased): opened
 *         with the golden journal's key; whatever it holds, the journal
 *         opens (or, when nothing verifies and no unit is blank, refuses
 *         without writing), appends, exports what verifies, takes the ack
 *         of it, and opens again with the head never going back.
 * The key is the golden journal's (tests/vectors/leal_journal.txt), so seeds
 * made from real journals carry valid MACs for mutations to break. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/journal.h"
#include "firmware/port/posix/ram_storage.h"
#include "keys/hosted/provider_openssl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNIT 1024u
#define UNITS 4u

static const struct journal_config cfg = {7,
                                          3,
                                          2,
                                          {0x9b, 0x97, 0x9d, 0x06, 0xd9, 0x48, 0xb4, 0x3f, 0x2e,
                                           0xae, 0x98, 0x6b, 0x5b, 0x5d, 0xca, 0x65}};

static void check_export(const struct crypto_provider *cp, const uint8_t *p, size_t len)
{
    struct journal_export_info info, parsed;
    static const struct journal_export_info zero;
    struct journal_entry e;
    struct journal_ack ack;
    uint32_t bad;
    leal_err err = journal_export_verify(cp, cfg.key, p, len, &info, &bad);
    if (err != LEAL_OK) {
        if (memcmp(&info, &zero, sizeof info) != 0)
            abort();
        /* The same bytes as an ack: one that verifies names a real entry. */
        if (journal_ack_decode(cp, cfg.key, p, len, &ack) == LEAL_OK &&
            (ack.terminal_id == 0 || ack.epoch == 0 || ack.seq == 0))
            abort();
        return;
    }
    if (journal_export_parse(p, len, &parsed) != LEAL_OK ||
        memcmp(&info, &parsed, sizeof info) != 0)
        abort();
    for (uint32_t i = 0; i < info.count; i++)
        if (journal_export_entry(p, len, i, &e) != LEAL_OK || e.seq != info.first_seq + i)
            abort();
}

static bool key_before(struct journal_key a, struct journal_key b)
{
    return a.epoch < b.epoch || (a.epoch == b.epoch && a.seq < b.seq);
}

static void ack_export(const struct crypto_provider *cp, struct journal *j,
                       const struct journal_export_info *info)
{
    struct journal_ack a;
    struct port_time t = {1780000900u, 60};
    uint8_t b[JOURNAL_ACK_LEN];
    memset(&a, 0, sizeof a);
    a.key_version = cfg.key_version;
    a.program_id = cfg.program_id;
    a.terminal_id = cfg.terminal_id;
    a.epoch = info->epoch;
    a.seq = info->last_seq;
    memcpy(a.entry_mac, info->last_mac, sizeof a.entry_mac);
    if (journal_ack_encode(cp, cfg.key, &a, b) != LEAL_OK)
        abort();
    leal_err err = journal_ack(j, b, sizeof b, &t);
    if (err != LEAL_OK && err != LEAL_E_JOURNAL_FULL)
        abort();
}

static void check_storage(const struct crypto_provider *cp, const uint8_t *p, size_t len)
{
    static uint8_t mem[UNIT * UNITS], exp[4096];
    struct ram_storage rs;
    struct journal j;
    struct journal_report rep;
    struct journal_export_info info;
    struct journal_entry e;
    struct port_time t = {1780000600u, 60};
    uint32_t bad;
    leal_err err;
    if (ram_storage_init(&rs, mem, UNIT, UNITS) != LEAL_OK)
        abort();
    memcpy(mem, p, len < sizeof mem ? len : sizeof mem);
    err = journal_open(&j, &rs.port, cp, &cfg, &t, &rep);
    if (err == LEAL_E_JOURNAL_MAC) {
        /* Nothing verifies and no unit is blank: refused, nothing erased. */
        if (rs.erases != 0 || rs.programs != 0 || rep.status != JOURNAL_DAMAGED)
            abort();
        return;
    }
    if (err != LEAL_OK && err != LEAL_E_JOURNAL_FULL)
        abort();
    memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_BALANCE;
    e.card_kind = JOURNAL_CARD_DESFIRE;
    e.card_id = 5;
    e.utc_seconds = t.utc_seconds;
    err = journal_append(&j, &e);
    if (err != LEAL_OK && err != LEAL_E_JOURNAL_FULL && err != LEAL_E_STATE)
        abort();
    err = journal_export(&j, exp, sizeof exp, &info);
    if (err == LEAL_OK) {
        struct journal_export_info checked;
        /* Damage in storage may break the chain inside (bad names the
         * entry), but the export's own MAC and structure are always right. */
        if (journal_export_verify(cp, cfg.key, exp, info.len, &checked, &bad) != LEAL_OK &&
            bad == 0)
            abort();
        ack_export(cp, &j, &info);
    } else if (err != LEAL_E_JOURNAL_EMPTY) {
        abort();
    }
    struct journal_key before = j.head;
    journal_close(&j);
    err = journal_open(&j, &rs.port, cp, &cfg, &t, &rep);
    if ((err != LEAL_OK && err != LEAL_E_JOURNAL_FULL) || key_before(rep.head, before))
        abort();
    journal_close(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct crypto_provider *cp = crypto_openssl();
    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0)
        check_export(cp, data + 1, size - 1);
    else
        check_storage(cp, data + 1, size - 1);
    return 0;
}
