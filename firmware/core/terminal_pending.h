/*
 * terminal_pending.h - host-decided changes reaching a card at a terminal,
 * exactly once (firmware/core/PACKAGE.md "Pending changes"). The package
 * lists, per card, the net points the host decided, the taps the host last
 * saw on the card and the ledger entry the changes run up to. A tap whose
 * operation writes the card's state applies them only to a card showing
 * exactly those taps (nothing was written to it since the host saw it, so no
 * terminal or desk applied them yet), in the same card write as the
 * operation; that write moves the card's counter, so another terminal never
 * applies them a second time, synced or not. A record the host marked at seq
 * (PACKAGE_CHANGE_AT_SEQ: a card with the Transaction MAC file) names the
 * card's state seq at those taps too, and is applied only to a card whose
 * state, as read, shows it, whatever its counter: every write that applies
 * changes steps the seq, so the guard needs no counter read before the
 * write (issue 19's tap reads none). The journal entry of the
 * operation carries one JOURNAL_LINE_HOST line (the entry the changes run up
 * to, the points) that is not part of the entry's points.
 * Freestanding; one pending record in RAM (package_pending_find).
 */
#ifndef LEAL_TERMINAL_PENDING_H
#define LEAL_TERMINAL_PENDING_H

#include <stdbool.h>
#include <stdint.h>

#include "cardlayout/records/state.h"
#include "firmware/core/journal.h"
#include "firmware/core/package.h"
#include "keys/base/err.h"

/* If pk lists changes for card_id at exactly taps (an at-seq record: at
 * state->seq's low 24 bits instead) and state->points plus
 * them stays within 0..UINT32_MAX: adds them to state->points, fills *line
 * (source JOURNAL_LINE_HOST, id the entry they run up to, the points) and
 * sets *applied. Otherwise leaves state alone, *applied false (the changes
 * wait: another terminal applied them, or the card was tapped where the host
 * has not seen yet, or the balance would go below 0; the desk applies them).
 * Errors: LEAL_E_ARG, the package source's read errors. */
LEAL_MUST_CHECK leal_err terminal_pending_apply(const struct package_terminal *pk, uint64_t card_id,
                                                uint32_t taps, struct state_body *state,
                                                struct journal_line *line, bool *applied);

#endif
