/*
 * terminal_qr.h - a QR code taken at an offline terminal (TERMINAL.md "QR
 * codes"): the code's text verified with the bundle's `qr` public keys
 * (cardlayout/qr/qr_token.h: signature, program, dates, the skew window,
 * the package's hot list), the operation judged (a static code earns and
 * stamps only; a spending code also pays, within its certificate's caps per
 * payment and per day and the package's caps per card per day and between
 * syncs at this terminal, the lower of each, uses a bono, and redeems a
 * reward within the points the package says the ledger holds for the phone,
 * less what this terminal's journal shows redeemed under that hold), the shop's rules
 * run by the same engine as a card's, and the operation or the refusal
 * journaled as a QR entry (JOURNAL.md "QR entries"). Nothing is written to
 * a card: the account holds what a code earns, and the host posts it at
 * sync. Once per terminal: a spending code whose counter is not above the
 * newest one this terminal's journal holds for that phone is refused, so
 * the memory survives a restart; the day's spending is summed from the
 * same journal.
 * Memory: the caller's result; about 3 KiB of stack; no allocation.
 * Freestanding. Errors (no entry was possible): LEAL_E_ARG, LEAL_E_STATE
 * (terminal not open, clock not set), the journal's (LEAL_E_JOURNAL_FULL).
 * A refusal is LEAL_OK with outcome TERMINAL_REFUSED and reason a
 * LEAL_E_QR_* or LEAL_E_TERMINAL_* code.
 */
#ifndef LEAL_TERMINAL_QR_H
#define LEAL_TERMINAL_QR_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/qr/qr_token.h"
#include "firmware/core/terminal.h"

/* The `qr` public keys of the terminal's bundle (KEYS.md role 6). */
struct terminal_qr_keys {
    const struct qr_key *keys;
    size_t count;
};

struct terminal_qr_result {
    uint8_t outcome; /* TERMINAL_DONE or TERMINAL_REFUSED */
    uint16_t reason; /* REFUSED: why */
    uint8_t op;      /* enum terminal_op asked */
    uint8_t kind;    /* enum qr_kind; 0 when the text did not parse */
    uint64_t account_id;
    uint64_t virtual_card_id;
    uint32_t time_step, counter; /* spending codes */
    int64_t amount_cents;        /* the sale */
    int64_t pay_cents;           /* taken from the account's purse */
    uint32_t spent_today_cents;  /* with this phone at this terminal today, this payment included */
    int64_t points;              /* earned on the sale */
    uint8_t n_lines;
    struct rules_line lines[RULES_MAX_LINES];
    int16_t quantity;               /* stamps given, bono sessions used */
    uint32_t item;                  /* stamp card, bono kind, reward id */
    uint32_t allowance_left;        /* REDEEM: the phone's points held for it, left here after */
    struct rules_redeemed redeemed; /* REDEEM: what the till hands over */
    struct journal_key entry;       /* the entry journaled */
};

/* Takes the code in text (len characters, no NUL needed) for req (EARN,
 * PAY, PAY_EARN, STAMP, BONO, REDEEM; anything else is LEAL_E_ARG) at terminal t
 * (terminal_open), and journals what it decided. */
LEAL_MUST_CHECK leal_err terminal_qr_tap(struct terminal *t, const struct terminal_qr_keys *keys,
                                         const char *text, size_t len,
                                         const struct terminal_request *req,
                                         struct terminal_qr_result *out);

#endif
