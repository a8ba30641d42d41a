/*
 * ledger_qr.h - the ledger's side of QR entries in terminal journals
 * (firmware/core/JOURNAL.md "QR entries"; cardlayout/qr/QR.md "Once per
 * terminal, caps"): a spending code is taken at most once per terminal, so
 * the same code (phone, counter, time step) in the journals of two
 * terminals means it was shown twice, a copy of it at the second: the
 * reconciliation that sees it (host/ledger/ledger_reconcile.c) records a
 * clone finding and blocks the phone's virtual card, which puts it on the
 * hot list of every package built after. Hosted; nothing here prints.
 * Errors: the ledger's own.
 */
#ifndef LEAL_LEDGER_QR_H
#define LEAL_LEDGER_QR_H

#include <stdbool.h>
#include <stddef.h>

#include "firmware/core/journal.h"
#include "host/ledger/ledger.h"

/* What ledger_qr_twice found. */
struct ledger_qr_twice {
    bool twice;
    char evidence[96]; /* names both entries: the same on every run, so recorded once */
    char detail[240];  /* what happened, for a person */
};

/* Whether e, a QR entry taken into the ledger, used a spending code that
 * another terminal's taken entry used too (not a refusal, not undone), e
 * being the later of the two (time, then terminal, epoch, sequence).
 * Nothing (out->twice false) when e is not a taken QR spending entry. */
LEAL_MUST_CHECK leal_err ledger_qr_twice(struct ledger *l, const struct journal_entry *e,
                                         struct ledger_qr_twice *out);

/* Records the caps a phone's certificate carries (per payment, per day, in
 * cents; 1 <= cap_tx <= cap_day), at enrolment: the host holds the phone's
 * QR payments from every terminal to them (ledger_qr_over_caps). */
LEAL_MUST_CHECK leal_err ledger_qr_caps_set(struct ledger *l, int64_t card_id, int64_t cap_tx_cents,
                                            int64_t cap_day_cents);

/* What ledger_qr_over_caps found. */
struct ledger_qr_over {
    bool over;
    char evidence[96];
    char detail[300];
};

/* Whether e, a taken QR payment, passes its phone's certificate caps with
 * every terminal's taken payments of that phone counted: one payment above
 * the cap per payment, or the one whose day total (the local day of each
 * entry; entries in the terminals' time order, e among them) crosses the cap
 * per day. A phone whose caps the ledger does not hold (enrolled before it
 * kept them) is not judged. Each terminal holds a phone to its caps alone,
 * so only a copied code, or a terminal that did not enforce them, gets here. */
LEAL_MUST_CHECK leal_err ledger_qr_over_caps(struct ledger *l, const struct journal_entry *e,
                                             struct ledger_qr_over *out);

/* Points held for a phone's offline redeems (cardlayout/qr/QR.md
 * "Redeeming with a spending code"): asset PTS-HOLD:<virtual card id> in the
 * phone's account. Held from the account's PTS through points_issued, so
 * the points held are spent by nothing else (a card, the desk, another
 * phone); a redeem the phone's journal entry proves is booked from the hold
 * (ledger_terminal.c), and the package tells terminals the hold
 * (package_build.c: a QR allowance record). */
#define LEDGER_QR_HOLD_PREFIX "PTS-HOLD:"
void ledger_qr_hold_asset(uint64_t virtual_card_id, char out[LEDGER_MAX_ASSET]);

/* Moves points (> 0) of the account's PTS to the phone's hold, keyed by
 * request id "qrhold:<virtual card id>" (once per phone).
 * LEAL_E_INSUFFICIENT_FUNDS when the account holds fewer points. */
LEAL_MUST_CHECK leal_err ledger_qr_hold(struct ledger *l, int64_t program_id, int64_t account_id,
                                        uint64_t virtual_card_id, int64_t points, int64_t at);

/* Gives back what is left of a phone's hold (QR.md "Releasing a hold") once
 * its virtual card is no longer active (revoked, blocked, replaced): the
 * hold's balance moves back to the account's PTS through points_issued,
 * request id "qrhold:<card>:release" (once per phone), in the caller's
 * transaction. *released = the points moved (0: nothing held, not a QR
 * card, or the card is active). A redeem a terminal took before and
 * imports after finds the hold empty: held, a qr_over_redeem finding
 * (ledger_terminal.c), never booked from PTS. */
LEAL_MUST_CHECK leal_err ledger_qr_release(struct ledger *l, int64_t card_id, int64_t *released);

/* ledger_card_change_status, and for a phone that stops being active the
 * release of its hold (ledger_qr_release) in the same transaction: a batch
 * of its own unless the caller's is open. What every status change that may
 * name a phone calls (revoke, block, reconcile, import, the back office). */
LEAL_MUST_CHECK leal_err ledger_qr_card_status(struct ledger *l, int64_t card_id,
                                               enum ledger_card_status status, const char *reason,
                                               const char *operator_name);

/* Every active phone of the program with points held (> 0): its virtual
 * card and account, the hold, and the newest ledger entry that moved it
 * (which names the hold: a terminal counts its redeems under it), in card
 * id order. cb returning non-zero stops the walk (LEAL_E_INTERRUPTED). */
struct ledger_qr_holding {
    int64_t virtual_card_id;
    int64_t account_id;
    int64_t points;
    int64_t newest_entry;
};
typedef int (*ledger_qr_hold_cb)(void *ctx, const struct ledger_qr_holding *h);
LEAL_MUST_CHECK leal_err ledger_qr_holds_each(struct ledger *l, int64_t program_id,
                                              ledger_qr_hold_cb cb, void *ctx);

/* The text of a static code ("LQ:...", what `leal qr issue` printed) kept
 * beside its virtual card until expires_at, in the caller's transaction:
 * what the customer portal shows (it never opens the keystore, so it can
 * sign nothing). A static code only earns; it is no secret. */
#define LEDGER_QR_TEXT_MAX 512
LEAL_MUST_CHECK leal_err ledger_qr_static_keep(struct ledger *l, int64_t card_id, const char *text,
                                               int64_t expires_at);

/* The account's newest static code that is still good at now: its virtual
 * card active and the code not expired (*found false when there is none). */
struct ledger_qr_static_code {
    int64_t card_id;
    int64_t expires_at;
    char text[LEDGER_QR_TEXT_MAX];
};
LEAL_MUST_CHECK leal_err ledger_qr_static_find(struct ledger *l, int64_t account_id, int64_t now,
                                               struct ledger_qr_static_code *out, bool *found);

/* The account's newest static code whatever became of it (its virtual card
 * by issue time), for telling a customer why the portal shows none: its
 * card's status ("active", "blocked", ...), whether its text was kept (a
 * code issued before the ledger kept texts has none, so nothing can show
 * it) and its expiry (0 without text). *found false: the account never had
 * a static code (a phone's virtual card is no static code). */
struct ledger_qr_static_state {
    int64_t card_id;
    char status[16];
    bool text_kept;
    int64_t expires_at;
};
LEAL_MUST_CHECK leal_err ledger_qr_static_newest(struct ledger *l, int64_t account_id,
                                                 struct ledger_qr_static_state *out, bool *found);

#endif
