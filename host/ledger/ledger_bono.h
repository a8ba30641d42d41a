/*
 * ledger_bono.h - bonos in the ledger (cardlayout/LAYOUT.md 4, RULES.md 5).
 * A sale or a use of a card's bono is recorded as an intent (taps before and
 * after, the bono file the card will hold) before the card is written, and
 * settled from what the card then shows, exactly as a top-up is (ledger.h,
 * ledger_pending_topup), in a table of its own: at most one per card.
 * Settled, a sale is one entry (kind "transfer", operator "desk"): the euros
 * received (program cash -price) held as the program's bonos_sold liability
 * (+price: revenue not yet earned), and the sessions onto the customer's
 * account as asset BONO:<kind id> (+N) from bonos_issued (-N). A use is one
 * entry (kind "redeem"): one session off the customer's account (to
 * bonos_used) and its revenue recognised (bonos_sold -> bonos_revenue).
 * Sessions outstanding per (account, kind) are the account's BONO:<id>
 * balance; the euros still deferred per (account, kind) are kept beside
 * them (bono_holding), changed in the transaction that posts. Revenue of a
 * use: floor(deferred / sessions left), the last session takes what is left
 * (45.00 for 10: 4.50 each; 50.00 for 3: 16.66, 16.67, 16.67). The four
 * program accounts are made at the program's first bono entry. Hosted.
 * Errors: the ledger's; LEAL_E_ARG (an intent that breaks a rule below),
 * LEAL_E_DUPLICATE_ID (one already in flight), LEAL_E_UNKNOWN_ID.
 */
#ifndef LEAL_LEDGER_BONO_H
#define LEAL_LEDGER_BONO_H

#include <stdbool.h>
#include <stdint.h>

#include "cardlayout/records/bono.h"
#include "host/ledger/ledger.h"

/* A bono sale (sessions > 0, cents: the price) or use (sessions -1, cents:
 * the revenue it recognises) in flight on a card. */
struct ledger_bono_intent {
    int64_t card_id;
    uint32_t bono_id;
    int64_t seq_before, seq_after; /* the card's taps; after = before + 1 */
    int64_t sessions;
    int64_t cents;
    uint8_t file_after[BONO_FILE_LEN]; /* the bono file once written */
    char request_id[64];               /* "card:ID:bono:TAPS-AFTER" */
    int64_t created_at;
    int64_t store_id; /* the store it was made at (0: none), its entry's */
};

/* Records p (created_at set). */
LEAL_MUST_CHECK leal_err ledger_bono_intent_add(struct ledger *l,
                                                const struct ledger_bono_intent *p);
/* The card's intent: *found false (out zeroed) when none. */
LEAL_MUST_CHECK leal_err ledger_bono_intent_get(struct ledger *l, int64_t card_id,
                                                struct ledger_bono_intent *out, bool *found);
/* The card never took it: removed (LEAL_E_UNKNOWN_ID if none with that request id). */
LEAL_MUST_CHECK leal_err ledger_bono_intent_drop(struct ledger *l, int64_t card_id,
                                                 const char *request_id);
/* The card shows it: its entry posted, the deferred euros moved and the
 * intent removed, in one transaction. *replayed: it was posted before (then
 * nothing moves twice). */
LEAL_MUST_CHECK leal_err ledger_bono_intent_settle(struct ledger *l,
                                                   const struct ledger_bono_intent *p,
                                                   int64_t *entry_id, bool *replayed);

/* What account_id holds of bono kind bono_id: sessions (its BONO:<id>
 * balance) and the euros of them not yet earned; 0 and 0 when none. */
LEAL_MUST_CHECK leal_err ledger_bono_held(struct ledger *l, int64_t account_id, uint32_t bono_id,
                                          int64_t *sessions, int64_t *deferred_cents);
/* The sessions of bono kind bono_id the customers of program_id still hold
 * (their BONO:<id> balances above 0), 0 when none: what a removal of the
 * kind from the rules leaves on cards (terminals still take them). */
LEAL_MUST_CHECK leal_err ledger_bono_outstanding(struct ledger *l, int64_t program_id,
                                                 uint32_t bono_id, int64_t *sessions);
/* The revenue one use recognises of deferred cents over sessions left (the
 * rule above); 0 when sessions < 1. */
int64_t ledger_bono_use_cents(int64_t sessions, int64_t deferred_cents);
/* Records the sessions of bono_id the account's card last showed at the
 * desk (fewer than the ledger's: used at a terminal, waiting for its
 * journal, issue 14), and its last day where the ledger has none (a sale
 * from before it kept them). Changes nothing when already recorded. */
LEAL_MUST_CHECK leal_err ledger_bono_seen(struct ledger *l, int64_t account_id, uint32_t bono_id,
                                          int64_t sessions, uint16_t last_day);
#define BONO_SEEN_SQL                                                                              \
    "UPDATE bono_holding SET seen_sessions = ?3, seen_at = ?4, last_day = coalesce(last_day, ?5) " \
    "WHERE account_id = ?1 AND bono_id = ?2 AND (seen_sessions IS DISTINCT FROM ?3 OR last_day "   \
    "IS NULL)"
/* What a card of the account must carry (a replacement): every bono kind
 * it holds sessions of (its BONO:<id> balance, over 0) with the last day
 * the ledger keeps (0 where it keeps none), by kind id into out's slots.
 * LEAL_E_NO_SPACE past four kinds, LEAL_E_RANGE past 65535 sessions. */
LEAL_MUST_CHECK leal_err ledger_bono_holdings(struct ledger *l, int64_t account_id,
                                              struct bono_file *out);
#define BONO_HOLDINGS_SQL                                                                          \
    "SELECT h.bono_id, b.amount, coalesce(h.last_day, 0) FROM bono_holding h JOIN balance b ON "   \
    "b.account_id = h.account_id AND b.asset = 'BONO:' || h.bono_id WHERE h.account_id = ?1 AND "  \
    "b.amount > 0 ORDER BY h.bono_id"

/* A use of `sessions` sessions of bono_id by account_id that the desk did
 * not make (a terminal's, imported from its journal: issue 14), inside the
 * caller's transaction: ledger_bono_use_lines fills its lines (nlines): the
 * account's BONO:<id> -sessions against bonos_used and, when not 0, the
 * revenue of those sessions (each by the rule above, from what the account
 * holds; revenue_cents) from bonos_sold to bonos_revenue; the program
 * accounts are made when missing. Once the entry is posted (not replayed),
 * ledger_bono_use_posted takes the revenue off what is deferred
 * (LEAL_E_UNKNOWN_ID when the account never bought that kind), in the same
 * transaction as the post: a caller never keeps the post when it fails (the
 * terminal import fails its batch whole, LEAL_E_LEDGER_BONO_DEFERRED, rather
 * than hold the entry with its post standing). */
struct ledger_bono_use {
    int64_t program_id, account_id;
    uint32_t bono_id;
    int64_t sessions; /* 1..65535 */
    struct ledger_line lines[4];
    size_t nlines;
    int64_t revenue_cents;
};
LEAL_MUST_CHECK leal_err ledger_bono_use_lines(struct ledger *l, struct ledger_bono_use *u);
LEAL_MUST_CHECK leal_err ledger_bono_use_posted(struct ledger *l, int64_t account_id,
                                                uint32_t bono_id, int64_t revenue_cents);

/* Bonos past their last day (RULES.md 5, issue 12): every holding of
 * program_id's accounts whose last day has passed (0 < last_day < today,
 * days since 1970-01-01: the day the card's bono file says) with sessions
 * or deferred euros left gets one entry of kind "expire" (operator_name,
 * request id "bono-expire:ACCOUNT:BONO:LAST-DAY", so sweeping again changes
 * nothing): its sessions off the account to the program's bonos_expired
 * (made when missing) and its deferred euros from bonos_sold to breakage
 * (revenue of sessions never used), the holding's deferred euros to 0. One
 * transaction. A session a terminal used on or before the last day and
 * imported after the sweep finds nothing held: the import holds it as a
 * finding (sweep after the terminals have synced). Holdings with no last
 * day (0) or an unknown one (NULL, sold before the ledger kept it) never
 * expire here. out: holdings swept, sessions and cents moved. */
struct ledger_bono_expired {
    int64_t holdings, sessions, cents;
};
LEAL_MUST_CHECK leal_err ledger_bono_expire(struct ledger *l, int64_t program_id, uint32_t today,
                                            const char *operator_name,
                                            struct ledger_bono_expired *out);
/* The sessions of bono_id with last day last_day that the expiry sweep
 * took off account_id (0: none): what a card of the account still shows
 * beyond what the ledger holds on that expired slot (issuance_judge_bonos). */
LEAL_MUST_CHECK leal_err ledger_bono_expired_sessions(struct ledger *l, int64_t account_id,
                                                      uint32_t bono_id, uint16_t last_day,
                                                      int64_t *sessions);

#endif
