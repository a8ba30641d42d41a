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

/* The end of a top-up intent's request id that loads cashback owed
 * (issuance_load_cashback): its entry moves the cashback, not cash. */
#define ISSUANCE_CASHBACK_SUFFIX ":cashback"

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
/* An EV2/EV3 whose Transaction MAC file the read found (out->has_tmc;
 * LAYOUT.md 2.9): its TMC behind the highest TMC the host proved with the
 * card's tmac key (ledger_tmac_highest) is a verdict, as taps behind the
 * ledger's are: the card blocked, LEAL_E_CARD_TAMPERED. The TMC is the
 * card's own count of its commits, which no key moves back, so it holds
 * whether or not a terminal debits the counter file. LEAL_OK otherwise (a
 * card without the file: nothing to judge). */
LEAL_MUST_CHECK leal_err issuance_judge_tmc(struct issuance *is, const struct ledger_card *lc,
                                            struct issuance_card *out);
/* The verdicts both card types share, on a card the ledger knows (not
 * PENDING): taps (DESFire counter, Classic seq) behind the ledger's, or a
 * purse above what the ledger has for the card (its account's euros less its
 * other live cards' as last read, plus an unsettled top-up in flight). */
LEAL_MUST_CHECK leal_err issuance_judge(struct issuance *is, const struct ledger_card *lc,
                                        bool purse_on_card, struct issuance_card *out);

/* A sync the ledger started, settled from the card's seq (Classic state
 * seq, DESFire taps) and points: at seq after with points after, the
 * card took it: settled (out->synced); at seq before: dropped; otherwise
 * out->unsettled with why in unsettled_why. */
LEAL_MUST_CHECK leal_err issuance_settle_sync(struct issuance *is, const struct ledger_card *lc,
                                              struct issuance_card *out, char *unsettled_why,
                                              size_t why_len);
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
/* The end of every issuance, in one ledger transaction: the new card ACTIVE
 * (with why and who), its counter and what the verification read found, and a
 * replaced card REPLACED, so a crash never leaves both cards live; then card
 * and ledger compared again (issuance_compare) into *verified. */
LEAL_MUST_CHECK leal_err issuance_activate(struct issuance *is, const struct issuance_request *req,
                                           int64_t card_id, struct issuance_card *verified);
/* What a top-up needs first: 1..LEDGER_PURSE_CAP_MAX cents (LEAL_E_RANGE)
 * onto an active card (LEAL_E_CARD_BLOCKED otherwise) with no top-up in
 * flight unsettled (LEAL_E_CARD_TOPUP_UNSETTLED), within the program's cap
 * now (LEAL_E_CARD_BOUNDARY; Classic: stored value on for the card and the
 * program, else LEAL_E_CARD_STORED_VALUE_OFF). Sets out's caps. */
LEAL_MUST_CHECK leal_err issuance_topup_room(struct issuance *is, struct issuance_card *out,
                                             int64_t cents);
/* A top-up the ledger started (t: the intent, LAYOUT.md 2.7, 3.3) posted,
 * with the intent removed in one transaction; its request id is t's
 * (card:<id>:log:<counter after> on DESFire, card:<id>:seq:<seq after> on
 * Classic). Onto a customer's account it is a top-up paid in cash (kind
 * topup from the program's cash); onto a gift account, a gift card sold
 * (kind gift_sale from gift_sold, as `leal ledger post --kind gift_sale`),
 * whether posted at once or settled by a later read. *replayed: it was
 * posted before. */
LEAL_MUST_CHECK leal_err issuance_post_topup(struct issuance *is, const struct ledger_card *lc,
                                             const struct ledger_pending_topup *t, bool *replayed);
/* A top-up the ledger started, settled from the card just read: at the seq
 * after with the purse after (and, on DESFire, the intent's log record
 * newest: *intent_mark), the card took it: posted (out->recovered); at the
 * seq before, it did not: dropped (out->dropped); otherwise out->unsettled,
 * with why in words. */
LEAL_MUST_CHECK leal_err issuance_settle_topup(struct issuance *is, const struct ledger_card *lc,
                                               struct issuance_card *out, bool *intent_mark,
                                               char *why, size_t why_len);

/* What a new card starts with. */
struct issuance_opening {
    int64_t purse;     /* cents: a replaced card's share of the account's euros */
    uint32_t points;   /* a replaced card's share of the points, or the welcome points */
    bool stored_value; /* the card carries a purse (always on DESFire) */
    uint16_t period;   /* the state's period: non-zero once the account was welcomed (RULES.md 3) */
    /* A replacement's tier and spend buckets (buckets[0]: period's), the account's from the
     * ledger's sales and refunds, as a sale derives them (ledger_sale_state_before): the card
     * keeps its customer's tier at a terminal. Zero on a first or family card. */
    uint8_t tier;
    uint16_t buckets[STATE_BUCKETS];
    /* A replacement's bonos: every kind the account holds sessions of, with the last day the
     * ledger keeps (ledger_bono_holdings), never the old card's. None on a first or family card. */
    struct bono_file bonos;
};
/* The opening balances, each computed once before any card is touched: a
 * replaced card's share of euros and points (issuance_replaced_share), or
 * the welcome points (0..UINT32_MAX, LEAL_E_RANGE); and the state's period,
 * the account's (ledger_sale_period), or this month's with welcome points,
 * so that a terminal's engine never welcomes the account a second time; a
 * replacement also the account's tier and spend buckets under the program's
 * current rules and its bonos, never the old card's. */
LEAL_MUST_CHECK leal_err issuance_opening_plan(struct issuance *is,
                                               const struct issuance_request *req,
                                               struct issuance_opening *o);
/* Whether the card in the field (out->tech) can hold o's purse and the
 * opening top-up: the program's caps into out, out->account_eur the share;
 * LEAL_E_CARD_BOUNDARY over the cap; on Classic, LEAL_E_RANGE for a negative
 * amount, LEAL_E_CARD_STORED_VALUE_OFF for money where the program has
 * stored value off (o->stored_value set) and LEAL_E_CARD_NO_BONOS for a
 * replacement whose account holds bonos (Classic carries none, LAYOUT.md 4.5). */
LEAL_MUST_CHECK leal_err issuance_opening_room(struct issuance *is,
                                               const struct issuance_request *req,
                                               struct issuance_opening *o,
                                               struct issuance_card *out);
/* The welcome points' entry of card_id (none on a replacement). */
LEAL_MUST_CHECK leal_err issuance_opening_post(struct issuance *is,
                                               const struct issuance_request *req, int64_t card_id,
                                               const struct issuance_opening *o);
/* A gift's account (req->gift): the torn gift issuance's own when the card
 * in the field is one (out->ledger PENDING on a gift account, from
 * issuance's inspection), else a new gift account of is->program_id; into
 * req->account_id. */
LEAL_MUST_CHECK leal_err issuance_gift_account(struct issuance *is, const struct issuance_card *out,
                                               struct issuance_request *req);
/* lc recorded PENDING under a fresh card id (into *card_id and lc). */
LEAL_MUST_CHECK leal_err issuance_add_pending(struct issuance *is, struct ledger_card *lc,
                                              int64_t *card_id);
/* What issuance_empty_old needs before it writes: the card just read is the
 * old card, not judged, and marked lost in the ledger. */
LEAL_MUST_CHECK leal_err issuance_old_check(struct issuance *is, int64_t old_card_id,
                                            struct issuance_card *out);

#endif
