/*
 * sync_tmac.h - the host's check of the Transaction MAC entries a terminal
 * journaled for DESFire EV2/EV3 cards (issue 19; firmware/core/JOURNAL.md
 * "Transaction MAC entries"; cardlayout/LAYOUT.md 2.9): with the card's tmac
 * key (role 12, host only: no terminal holds it), the TMV is recomputed over
 * the Transaction MAC input the entry describes, and what the card MACed is
 * compared with the operation entry the terminal journaled before the
 * commit. Each TMAC entry gets one verdict (ledger_tmac.h), in this order:
 * - replay: another entry already carries this card's TMC (the card steps
 *   it at every commit, so it never repeats);
 * - forged: the TMV is not the card's over the bytes the journal carries
 *   (a transaction the card never committed: an invented or rewritten one);
 * - altered: the card's TMV holds, and the operation's entry says something
 *   else than the card committed (its counter, points, tier, stamps or purse:
 *   an entry edited after the commit);
 * - ok; unchecked when the ledger has no tmac key for the card (an EV1, or
 *   a card issued before the role) or the keystore lacks its version.
 * Reconciliation turns forged, altered and replay into fraud findings that
 * block the card (ledger_reconcile.h). The card's key is diversified from
 * its UID (fixed-UID cards) or its card id (random-UID cards); the ledger
 * does not record which, so both are tried. Hosted; nothing here prints.
 * Errors: the ledger's and the provider's.
 */
#ifndef LEAL_SYNC_TMAC_H
#define LEAL_SYNC_TMAC_H

#include <stdint.h>

#include "host/ledger/ledger.h"
#include "host/sync/sync.h"

struct sync_tmac_counts {
    uint32_t checked; /* verdicts recorded */
    uint32_t bad;     /* forged, altered or replay */
};

/* Every TMAC entry of terminal_id taken and not yet checked: checked, its
 * verdict recorded, in one transaction. */
LEAL_MUST_CHECK leal_err sync_tmac_check(struct ledger *l, const struct sync_keys *k,
                                         int64_t terminal_id, struct sync_tmac_counts *out);

#endif
