/* fuzz_journal_sum.c - the journal's saved summary (firmware/core/
 * journal_sum.h; a POSIX terminal's journal.sum) on any bytes. The input is
 * decoded as it is (a refusal leaves the summary invalid), then with its
 * last 16 bytes replaced by the right MAC under the fuzz journal's key, so
 * the parser behind the MAC is reached: a summary that decodes keeps every
 * bound (cards, rules per card, rule indexes, the local hot list's cards
 * and package versions), answers totals and the hot list for its cards
 * without a sanitizer finding, and, bound to the journal's head, encodes
 * back to exactly the bytes it came from. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/journal_sum.h"
#include "firmware/port/posix/ram_storage.h"
#include "keys/hosted/provider_openssl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNIT 1024u
#define UNITS 2u

static const struct journal_config cfg = {7,
                                          3,
                                          1,
                                          {0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43,
                                           0x43, 0x43, 0x43, 0x43, 0x43, 0x43, 0x43}};

static void check_decoded(struct journal_sum *s, const struct journal *j, const uint8_t *p,
                          size_t len)
{
    static uint8_t again[JOURNAL_SUM_MAX_LEN];
    struct journal_sum_totals tot;
    size_t n = 0;
    if (!s->valid || s->n_cards > JOURNAL_SUM_CARDS)
        abort();
    for (uint32_t i = 0; i < s->n_cards; i++) {
        const struct journal_sum_card *c = &s->cards[i];
        if (c->n_rules > JOURNAL_SUM_RULES)
            abort();
        for (uint8_t r = 0; r < c->n_rules; r++)
            if (c->rule_index[r] >= RULES_MAX_RULES)
                abort();
        journal_sum_totals_of(s, c->kind, c->card_id, c->day, &tot);
        journal_sum_totals_of(s, c->kind, c->card_id, c->day - 1, &tot); /* wraps at 0: fine */
        journal_sum_totals_of(s, c->kind, c->card_id, c->day + 1, &tot);
    }
    if (s->hot.n > JOURNAL_HOT_CARDS)
        abort();
    for (uint32_t i = 0; i < s->hot.n; i++) /* a card it holds is known */
        if (s->hot.h[i].package_version > s->hot.newest_package ||
            journal_hot_find(&s->hot, s->hot.h[i].card_id, j->acked, s->hot.h[i].package_version) !=
                JOURNAL_HOT_YES)
            abort();
    /* Bound to the journal as it is, it must encode to the same bytes but
     * its head and acknowledged point (8..39) and its MAC. */
    s->head = j->head;
    s->acked = j->acked;
    memcpy(s->head_mac, j->head_mac, JOURNAL_MAC_LEN);
    if (journal_sum_encode(s, j, again, sizeof again, &n) != LEAL_OK || n != len ||
        memcmp(again, p, 8) != 0 || memcmp(again + 40, p + 40, len - 40 - JOURNAL_MAC_LEN) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t mem[UNIT * UNITS];
    static uint8_t buf[JOURNAL_SUM_MAX_LEN + 64];
    static struct journal_sum s;
    const struct crypto_provider *cp = crypto_openssl();
    struct ram_storage rs;
    struct journal j;
    struct journal_report rep;
    struct port_time now = {1780000000u, 60};
    if (ram_storage_init(&rs, mem, UNIT, UNITS) != LEAL_OK ||
        journal_open(&j, &rs.port, cp, &cfg, &now, &rep) != LEAL_OK)
        abort();
    if (journal_sum_decode(&s, &j, data, size) != LEAL_OK && s.valid)
        abort();
    if (size >= JOURNAL_MAC_LEN && size <= sizeof buf) {
        memcpy(buf, data, size);
        if (cp->aes128_cmac(cfg.key, buf, size - JOURNAL_MAC_LEN, buf + size - JOURNAL_MAC_LEN) !=
            LEAL_OK)
            abort();
        if (journal_sum_decode(&s, &j, buf, size) == LEAL_OK)
            check_decoded(&s, &j, buf, size);
        else if (s.valid)
            abort();
    }
    journal_close(&j);
    return 0;
}
