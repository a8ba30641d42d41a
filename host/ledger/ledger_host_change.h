/*
 * ledger_host_change.h - host-decided changes of a card's points reaching
 * the card exactly once (issue 14, PACKAGE.md "Pending changes"). What waits
 * for a card is the account's points lines the card does not carry: entries
 * after the card's synced entry that were neither made for a card (request
 * id "card:...") nor taken from a terminal's journal (terminal_id set): by
 * hand (leal ledger post, adjust; a bonus with --reference "bonus..."),
 * expiry, a void, an online sale. Euros never wait for a terminal. The
 * package carries them per card with the taps the ledger last saw (a
 * terminal applies them only to a card that shows exactly those); the desk's
 * `leal card sync` applies the same set. When a terminal's journal says it
 * applied them, the import records it (ledger_host_change_applied): the
 * card's synced entry moves up to the entry they ran to (the journal entry
 * itself, kept by the import, says where and when). Hosted. Errors:
 * LEAL_E_ARG, LEAL_E_UNKNOWN_ID, LEAL_E_DB*.
 */
#ifndef LEAL_LEDGER_HOST_CHANGE_H
#define LEAL_LEDGER_HOST_CHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger.h"

/* What waits for one card. */
struct ledger_host_change {
    int64_t card_id;
    int64_t taps;       /* the card's transactions the ledger last saw (card.last_counter) */
    int64_t points;     /* net */
    int64_t entries;    /* how many ledger entries */
    int64_t upto_entry; /* the newest of them */
    uint8_t kinds;      /* PACKAGE_CHANGE_* bits (firmware/core/package.h) */
};

/* The changes waiting for card_id (*waiting false: none). */
LEAL_MUST_CHECK leal_err ledger_host_change_get(struct ledger *l, int64_t card_id,
                                                struct ledger_host_change *out, bool *waiting);

typedef int (*ledger_host_change_cb)(void *ctx, const struct ledger_host_change *c);
/* Every active card of the program with changes waiting, ascending by card
 * id; a non-zero return from cb stops with LEAL_E_INTERRUPTED. */
LEAL_MUST_CHECK leal_err ledger_host_change_each(struct ledger *l, int64_t program_id,
                                                 ledger_host_change_cb cb, void *ctx);

/* A terminal applied a card's changes up to upto_entry (its journal entry
 * said so): they no longer wait. Inside the caller's transaction when there
 * is one; idempotent. */
LEAL_MUST_CHECK leal_err ledger_host_change_applied(struct ledger *l, int64_t card_id,
                                                    int64_t upto_entry);

#endif
