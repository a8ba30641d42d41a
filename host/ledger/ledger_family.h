/*
 * ledger_family.h - family cards (issue 16): several cards of one household
 * on one customer's account (`leal card issue --account ID` adds one at the
 * desk). Every active card earns into the account and spends the purse and
 * points it carries; the ledger keeps one balance for the account. A card
 * may carry its holder's name (kept in the ledger only, never on the card;
 * personal data, exported and erased with the customer by host/privacy).
 * Detaching a card from the family blocks it with the reason "detached from
 * the family account: ..." in its history (the hot list then stops it at the
 * terminals); what it carried stays the account's; the account's last
 * active card is never detached (LEAL_E_CARD_LAST). Each write is one
 * transaction, or part of the caller's batch. Errors: those of ledger.h,
 * LEAL_E_UNKNOWN_ID, LEAL_E_TEXT, LEAL_E_CARD_STATUS_CHANGE (a card that
 * is not active), LEAL_E_CARD_LAST. Hosted; SQLite only.
 */
#ifndef LEAL_LEDGER_FAMILY_H
#define LEAL_LEDGER_FAMILY_H

#include <stdint.h>

#include "ledger.h"

/* The holder of card_id; "" removes it. */
LEAL_MUST_CHECK leal_err ledger_card_holder_set(struct ledger *l, int64_t card_id,
                                                const char *name);
/* The holder of card_id, "" without one. */
LEAL_MUST_CHECK leal_err ledger_card_holder_get(struct ledger *l, int64_t card_id,
                                                char name[LEDGER_TEXT]);
/* Detaches card_id from its account's family (see above); reason and
 * operator_name go in the card's history. */
LEAL_MUST_CHECK leal_err ledger_card_detach(struct ledger *l, int64_t card_id, const char *reason,
                                            const char *operator_name);

#endif
