/*
 * issuance_books.h - the ledger's side of a desk operation, inside
 * host/issuance only, the same for every card type: what a card read is
 * compared and judged against, the top-ups and syncs the ledger started
 * settled from what the card shows, the entries the desk posts, a replaced
 * card's share, and the end of an issuance (activation). Card data is
 * evidence: a card that lies about money gets a verdict (blocked, with why),
 * never a posting. Calls the ledger only through host/ledger/ledger.h; knows
 * nothing of cards beyond struct issuance_card. Errors: the ledger's, and as
 * each function says.
 */
#ifndef LEAL_ISSUANCE_BOOKS_H
#define LEAL_ISSUANCE_BOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "issuance.h"

/* Who the ledger records as doing it: the operator, or "desk". */
const char *issuance_operator(const struct issuance *is);
bool issuance_is_classic(enum ledger_card_tech t);
/* CENTS as euros with two decimals ("-1.50"), into out. */
void issuance_eur_text(int64_t cents, char *out, size_t n);
/* A fresh random twelve-digit card id. */
LEAL_MUST_CHECK leal_err issuance_new_card_id(struct issuance *is, int64_t *id);

/* The card just read (out->card_id) in the ledger, copied to out->ledger; a
 * card the ledger does not know leaves lc->card_id 0 and out disagreeing. */
LEAL_MUST_CHECK leal_err issuance_ledger_card(struct issuance *is, struct issuance_card *out,
                                              struct ledger_card *lc);
/* Card and ledger compared (UID, counter or seq, then purse if the card
 * carries one, and points), summed over the account's live cards: this one as
 * just read, the others as the desk last read them (not summed while one was
 * never read). Sets out->agrees, why, ncards_on_account and the account's
 * balances, and records what was read in the ledger. */
LEAL_MUST_CHECK leal_err issuance_compare(struct issuance *is, const struct ledger_card *lc,
                                          bool purse_on_card, struct issuance_card *out);
/* The desk's verdict on a card that lies about money: why into out->why, the
 * card blocked (ledger_card_verdict), out->verdict set; returns
 * LEAL_E_CARD_TAMPERED (or the ledger's error). */
LEAL_MUST_CHECK leal_err issuance_verdict(struct issuance *is, struct issuance_card *out,
                                          const char *why);
/* The verdicts both card types share, on a card the ledger knows (not
 * PENDING): taps (DESFire counter, Classic seq) behind the ledger's, or a
 * purse above what the ledger has for the card (its account's euros less its
 * other live cards' as last read, plus an unsettled top-up in flight). */
LEAL_MUST_CHECK leal_err issuance_judge(struct issuance *is, const struct ledger_card *lc,
                                        bool purse_on_card, struct issuance_card *out);

/* What every top-up needs first: 1..LEDGER_PURSE_CAP_MAX cents (LEAL_E_RANGE)
 * onto an active card (LEAL_E_CARD_BLOCKED otherwise). */
LEAL_MUST_CHECK leal_err issuance_topup_allowed(const struct issuance_card *out, int64_t cents);
/* A DESFire top-up's entry (request id card:<id>:log:<counter after>), posted
 * with the card's pending top-up removed in one transaction (LAYOUT.md 2.7). */
LEAL_MUST_CHECK leal_err issuance_post_log_topup(struct issuance *is, int64_t card_id,
                                                 int64_t account_id, uint32_t counter_after,
                                                 int64_t cents, bool *replayed);
/* A Classic top-up's entry (request id card:<id>:seq:<seq after>), posted
 * with the card's pending top-up removed in one transaction (LAYOUT.md 3.3). */
LEAL_MUST_CHECK leal_err issuance_post_seq_topup(struct issuance *is, int64_t card_id,
                                                 int64_t account_id, uint32_t seq_after,
                                                 int64_t cents, bool *replayed);

/* A sync the ledger started, settled from the card's seq `cur` (Classic
 * state seq, DESFire taps) and points: at seq after with points after, the
 * card took it: settled (out->synced); at seq before: dropped; otherwise
 * out->unsettled with why in unsettled_why. */
LEAL_MUST_CHECK leal_err issuance_settle_sync(struct issuance *is, const struct ledger_card *lc,
                                              uint32_t cur, struct issuance_card *out,
                                              char *unsettled_why, size_t why_len);
/* What a sync of the card just read would write: *p zeroed and points 0 when
 * there is nothing to bring; errors as issuance_sync says. p's seq fields are
 * the caller's. */
LEAL_MUST_CHECK leal_err issuance_sync_plan(struct issuance *is, struct issuance_card *out,
                                            struct ledger_pending_sync *p);

/* What a replaced card held of ASSET ("EUR" or "PTS"): the account's balance
 * less what its other live cards held when the desk last read them (all of it
 * on a one-card account). LEAL_E_CARD_SHARE_UNKNOWN if one was never read. */
LEAL_MUST_CHECK leal_err issuance_replaced_share(struct issuance *is,
                                                 const struct issuance_request *req,
                                                 int64_t card_id, const char *asset,
                                                 int64_t *share);
/* The points a new card starts with (a replaced card's, or the welcome points,
 * whose entry is posted idempotently per card, while the card is PENDING). */
LEAL_MUST_CHECK leal_err issuance_opening_points(struct issuance *is,
                                                 const struct issuance_request *req,
                                                 int64_t card_id, uint32_t *points);
/* The end of every issuance, in one ledger transaction: the new card ACTIVE
 * (with why and who), its counter and what the verification read found, and a
 * replaced card REPLACED, so a crash never leaves both cards live; then card
 * and ledger compared again (issuance_compare) into *verified. */
LEAL_MUST_CHECK leal_err issuance_activate(struct issuance *is, const struct issuance_request *req,
                                           int64_t card_id, struct issuance_card *verified);
/* What issuance_empty_old needs before it writes: the card just read is the
 * old card, not judged, and marked lost in the ledger. */
LEAL_MUST_CHECK leal_err issuance_old_check(struct issuance *is, int64_t old_card_id,
                                            struct issuance_card *out);

#endif
