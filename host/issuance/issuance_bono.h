/*
 * issuance_bono.h - the ledger's side of bonos at the desk, inside
 * host/issuance only (LAYOUT.md 4.4, host/ledger/ledger_bono.h): a sale or
 * use the ledger started, settled from the card just read as a top-up is;
 * the card's sessions judged against the ledger's (more: a verdict, card
 * data is evidence; fewer: used at a terminal, recorded for its journal);
 * and what a sale or use will write, planned before the card is touched.
 * Knows nothing of card types beyond struct issuance_card. Errors: the
 * ledger's, and as each function says.
 */
#ifndef LEAL_ISSUANCE_BONO_H
#define LEAL_ISSUANCE_BONO_H

#include <stddef.h>

#include "host/ledger/ledger_bono.h"
#include "issuance.h"

/* The card's bono intent, if any: at its taps after with its bono file, the
 * card took it: posted (out->bonos_settled); at its taps before: dropped
 * (out->bonos_dropped); otherwise out->bono_unsettled, why in words. */
LEAL_MUST_CHECK leal_err issuance_settle_bono(struct issuance *is, const struct ledger_card *lc,
                                              struct issuance_card *out, char *why, size_t why_len);
/* Each bono on the card against what the ledger holds for its account of
 * that kind: more sessions than the ledger sold less used is a verdict (why
 * into verdict, nothing recorded); fewer is recorded (ledger_bono_seen) and
 * counted in out->offline_sessions. Nothing is judged while a bono intent is
 * unsettled. */
LEAL_MUST_CHECK leal_err issuance_judge_bonos(struct issuance *is, const struct ledger_card *lc,
                                              struct issuance_card *out, char *verdict,
                                              size_t verdict_len);
/* What a bono write needs of the card just read: in the ledger, ACTIVE, at
 * layout version 2, nothing in flight unsettled, and the card asked for. */
LEAL_MUST_CHECK leal_err issuance_bono_room(const struct issuance_card *out,
                                            int64_t expect_card_id);
/* The bono file a sale leaves and its intent (all but taps and request id). */
LEAL_MUST_CHECK leal_err issuance_bono_sale_plan(const struct issuance_card *out,
                                                 const struct issuance_bono_sale *sale,
                                                 struct bono_file *next,
                                                 struct ledger_bono_intent *p);
/* The bono file one use leaves (the rules engine's refusals) and its intent
 * with the revenue that session recognises. */
LEAL_MUST_CHECK leal_err issuance_bono_use_plan(struct issuance *is,
                                                const struct issuance_card *out, uint32_t bono_id,
                                                const struct rules_civil *today,
                                                struct bono_file *next,
                                                struct ledger_bono_intent *p);

#endif
