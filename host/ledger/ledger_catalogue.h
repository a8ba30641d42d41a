/*
 * ledger_catalogue.h - adding and removing a tier, a reward, a stamp card or
 * a bono kind in a rule set with its names (host/ledger/ledger_rules.h): the
 * edits a ledger_rules_change runs, shared by the back office's promotions
 * page (host/web/web_catalogue.c). Each refuses what would make the set
 * wrong or change the meaning of what cards and the ledger already hold,
 * and says why in *why (an English printf format taking why->a then
 * why->b, each used at most once, in that order; the web layer puts it in
 * the reader's language by its format): a list full, a tier starting where
 * another does, a name another item of the same part has, a tier a reward
 * asks for, a reward a stamp card hands over, a stamp card that is not the
 * last (cards keep their stamps by position). The result is then checked
 * by rules_codec_problem in ledger_rules_change as every change is.
 * Nothing is changed on a refusal. Errors: LEAL_E_RULES_PROGRAM (refused),
 * LEAL_E_UNKNOWN_ID (no such item), LEAL_E_ARG. Hosted, no allocation.
 */
#ifndef LEAL_LEDGER_CATALOGUE_H
#define LEAL_LEDGER_CATALOGUE_H

#include <stdint.h>

#include "host/ledger/ledger_rules.h"

/* Why an edit was refused: printf(fmt, a, b). */
struct ledger_cat_why {
    const char *fmt;
    uint32_t a, b;
};

/* The catalogue's parts, as the web names them. */
enum ledger_cat_part { LEDGER_CAT_TIER, LEDGER_CAT_REWARD, LEDGER_CAT_STAMP, LEDGER_CAT_BONO };

/* LEAL_OK when no item of part but the one at index `self` (-1: none) is
 * called name (ASCII case ignored); else LEAL_E_RULES_PROGRAM. */
LEAL_MUST_CHECK leal_err ledger_cat_name_free(const struct ledger_rules *r,
                                              enum ledger_cat_part part, int self, const char *name,
                                              struct ledger_cat_why *why);

/* Adds tier t in threshold order (rewards asking for a tier at or above it
 * move up one); *made its number. */
LEAL_MUST_CHECK leal_err ledger_cat_tier_add(struct ledger_rules *r, const struct rules_tier *t,
                                             const char *name, uint32_t *made,
                                             struct ledger_cat_why *why);
/* Removes tier number (rewards asking for a higher one move down one). */
LEAL_MUST_CHECK leal_err ledger_cat_tier_remove(struct ledger_rules *r, uint32_t number,
                                                struct ledger_cat_why *why);
/* Adds reward w (w->id 0: the next free id); *made its id. */
LEAL_MUST_CHECK leal_err ledger_cat_reward_add(struct ledger_rules *r, const struct rules_reward *w,
                                               const char *name, uint32_t *made,
                                               struct ledger_cat_why *why);
LEAL_MUST_CHECK leal_err ledger_cat_reward_remove(struct ledger_rules *r, uint32_t id,
                                                  struct ledger_cat_why *why);
/* Adds stamp card s after the others (its reward must exist); *made its number. */
LEAL_MUST_CHECK leal_err ledger_cat_stamp_add(struct ledger_rules *r, const struct rules_stamp *s,
                                              const char *name, uint32_t *made,
                                              struct ledger_cat_why *why);
/* Removes stamp card number, only the last. */
LEAL_MUST_CHECK leal_err ledger_cat_stamp_remove(struct ledger_rules *r, uint32_t number,
                                                 struct ledger_cat_why *why);
/* Adds bono kind b (b->id 0: the next free id); *made its id. */
LEAL_MUST_CHECK leal_err ledger_cat_bono_add(struct ledger_rules *r,
                                             const struct rules_bono_kind *b, const char *name,
                                             uint32_t *made, struct ledger_cat_why *why);
LEAL_MUST_CHECK leal_err ledger_cat_bono_remove(struct ledger_rules *r, uint32_t id,
                                                struct ledger_cat_why *why);

#endif
