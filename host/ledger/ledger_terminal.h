/*
 * ledger_terminal.h - the ledger's side of a terminal journal import
 * (issue 14; firmware/core/JOURNAL.md "What the host checks"): one verified
 * journal entry at a time is taken exactly once by (terminal, epoch,
 * sequence) into terminal_entry (its MAC, its bytes, what was done with it)
 * and its operation posted as double-entry movements keyed by the same
 * triple, in the caller's batch (ledger_batch_begin): an entry and its
 * movements commit together or not at all.
 *
 * Booking, as the desk and ledger_sale book the same things: points earned
 * from points_issued, redeemed to points_redeemed; stamps from
 * stamps_issued and a completed stamp card's goal to stamps_redeemed (an
 * earn's stamps only when the program has one stamp card: the entry gives
 * their sum); purse euros paid back to cash (a top-up's other side); a bono
 * session off the account to bonos_used with its revenue recognised, as the
 * desk books one (ledger_bono.h); a
 * void posts the negation of the entry it names; refusals, balances, acks
 * and the journal's own entries are recorded without movements. An
 * operation is posted when taken (the terminal journals it before the
 * card's commit); a later SETTLE saying the commit did not reach the card
 * reverses it. A post the ledger refuses (points or euros the account does
 * not hold, a card it does not know) is held with a finding; a card showing
 * more points or euros
 * than its account holds after the entry is a finding too (reconciliation
 * acts on them). Hosted; nothing here prints.
 * Errors: the ledger's own (LEAL_E_DB*, LEAL_E_UNKNOWN_ID for an unknown
 * terminal, LEAL_E_WRONG_PROGRAM).
 */
#ifndef LEAL_LEDGER_TERMINAL_H
#define LEAL_LEDGER_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/journal.h"
#include "host/ledger/ledger.h"

/* What became of one journal entry. */
enum ledger_terminal_outcome {
    LEDGER_TERMINAL_POSTED = 1,    /* taken, its movements posted */
    LEDGER_TERMINAL_RECORDED = 2,  /* taken, nothing to move */
    LEDGER_TERMINAL_HELD = 3,      /* taken, the ledger refused its movements: a finding */
    LEDGER_TERMINAL_DUPLICATE = 4, /* already taken with this very MAC: nothing done */
    LEDGER_TERMINAL_CONFLICT = 5,  /* the key taken with another MAC, or the chain broken: stop */
    LEDGER_TERMINAL_GAP = 6,       /* the entry before it was never taken: stop */
};

/* The program's accounts a terminal entry books against, and its stamp
 * cards' goals (the current rule set's): a stamp that completes a card
 * (its count back to 0) used goal stamps for the reward. */
struct ledger_terminal_accounts {
    int64_t program_id;
    int64_t cash, points_issued, points_redeemed, stamps_issued, stamps_redeemed;
    uint8_t n_stamps;
    uint8_t stamp_goal[RULES_STAMP_CARDS];
};
LEAL_MUST_CHECK leal_err ledger_terminal_accounts_get(struct ledger *l, int64_t program_id,
                                                      struct ledger_terminal_accounts *out);

/* One verified entry (its MAC and its chain inside the export checked by the
 * caller) and its bytes as exported. */
struct ledger_terminal_in {
    const struct ledger_terminal_accounts *acc;
    uint8_t key_version;
    const struct journal_entry *e;
    const uint8_t *raw;
    size_t raw_len;
    /* The caller vouches that the entry before e (same epoch, sequence - 1)
     * is taken with the MAC e chains to (e's predecessor in the same verified
     * export, taken or found taken just before): no need to look. */
    bool chained;
    /* The caller vouches that (terminal, epoch, sequence) of e was never
     * taken (ledger_terminal_untaken, in this batch, before e): no need to
     * look. */
    bool untaken;
};

struct ledger_terminal_out {
    enum ledger_terminal_outcome outcome;
    int64_t entry_id;      /* POSTED: the ledger entry */
    bool undone;           /* a SETTLE: its operation did not reach the card, reversed */
    int64_t account;       /* the card's account if the ledger knows it (0: not looked up) */
    bool card_flagged;     /* the card shows more than its account holds */
    bool terminal_flagged; /* a finding about the terminal (epoch restarted, power loss, stop) */
    char why[200];         /* HELD, CONFLICT, GAP: what, for a person */
};

/* Takes e inside the caller's batch. CONFLICT and GAP record a finding and
 * take nothing: the caller stops there (JOURNAL.md: never skipped). */
LEAL_MUST_CHECK leal_err ledger_terminal_take(struct ledger *l, const struct ledger_terminal_in *in,
                                              struct ledger_terminal_out *out);

/* In a batch, before taking entries: the rows they will read of their cards
 * (card ids, 0 for none) read at once (PostgreSQL: one statement instead of
 * one for each card, account and balance at its first use; nothing on
 * SQLite). */
LEAL_MUST_CHECK leal_err ledger_terminal_prefetch(struct ledger *l, const int64_t *cards, size_t n);

/* *untaken true when no entry of terminal_id's epoch with a sequence from
 * first to last is taken: in a batch, a caller taking exactly those entries
 * in order then knows that none of them is a duplicate or a conflict
 * (ledger_terminal_in.untaken), and the ledger's posts keyed by them do not
 * look their keys up for the rest of the transaction. */
LEAL_MUST_CHECK leal_err ledger_terminal_untaken(struct ledger *l, int64_t terminal_id,
                                                 uint32_t epoch, uint32_t first, uint32_t last,
                                                 bool *untaken);

/* Posts again, oldest first, up to 256 held entries of a->program_id's
 * terminals (a redeem of points another terminal's journal brings, taken
 * before it): each that the ledger now accepts is posted under its own key
 * and marked posted (*posted counts them). In the caller's batch. */
LEAL_MUST_CHECK leal_err ledger_terminal_retry_held(struct ledger *l,
                                                    const struct ledger_terminal_accounts *a,
                                                    uint32_t *posted);

/* Reconciliation's proof that a taken operation never reached the card (an
 * answered commit elsewhere took the step its torn commit claims,
 * ledger_reconcile.h): the operation (terminal, epoch, seq) and the SETTLE
 * of its terminal that named it (settle_epoch, settle_seq: where a finding
 * about host changes it carried is recorded). settle_seq 0: no settle names
 * it (a Transaction MAC card's operation journaled without its TMAC entry,
 * its terminal restarted before the card came back): the void is keyed by
 * the operation's own epoch and 2^32 + its sequence (LEDGER_UNANSWERED_SEQ:
 * no journal entry has such a sequence, so the key is the operation's
 * alone), and a finding is recorded at the operation itself. */
#define LEDGER_UNANSWERED_SEQ(seq) (((int64_t)1 << 32) + (int64_t)(seq))
struct ledger_terminal_reversal {
    int64_t terminal_id;
    uint32_t epoch, seq;
    uint32_t settle_epoch, settle_seq;
    const char *reason; /* why, for the account's history */
};
/* Reverses it as a SETTLE 'not done' does at import: an entry of kind void
 * negating what the operation posted, keyed by the SETTLE's terminal,
 * epoch and sequence as a settle 'not done' is (a terminal's entry, so it
 * never waits for the card as a host change; a SETTLE names one operation,
 * so the key is that operation's), operator "reconcile" (*entry_id; 0 when
 * the operation posted nothing); the operation marked
 * undone (reconciliation walks it no more), the host changes it carried
 * waiting again. An operation no longer standing (undone, not taken) does
 * nothing (*done false). In the caller's batch; a refusal of the ledger
 * (the account no longer holds what it credited: LEAL_E_INSUFFICIENT_FUNDS,
 * LEAL_E_ALREADY_VOIDED) writes nothing and is returned. */
LEAL_MUST_CHECK leal_err ledger_terminal_reverse(struct ledger *l,
                                                 const struct ledger_terminal_reversal *rq,
                                                 int64_t *entry_id, bool *done);

/* Where a finding is: the entry (epoch, seq; seq 0 the export as a whole)
 * and the card it names (0: none). */
struct ledger_terminal_at {
    uint32_t epoch, seq;
    int64_t card_id;
};
/* Records a finding about terminal_id at *at once: the same (terminal,
 * epoch, seq, kind) again changes nothing. kind: "mac", "chain", "gap",
 * "conflict", "epoch", "recovery", "card_excess", "held". Its own
 * transaction, or in the batch. */
LEAL_MUST_CHECK leal_err ledger_terminal_finding(struct ledger *l, int64_t terminal_id,
                                                 const struct ledger_terminal_at *at,
                                                 const char *kind, const char *detail);

/* The newest entry taken from terminal_id (by epoch, then sequence): what an
 * ack names. *found false when none. */
struct ledger_terminal_last {
    bool found;
    uint32_t epoch, seq;
    uint8_t key_version;
    uint8_t mac[JOURNAL_MAC_LEN];
};
LEAL_MUST_CHECK leal_err ledger_terminal_last_taken(struct ledger *l, int64_t terminal_id,
                                                    struct ledger_terminal_last *out);

/* The offline spend caps of package version of terminal_id, as the host
 * built it (PACKAGE.md "Caps"; the package builder records them):
 * reconciliation compares each journal entry's spending with the caps of
 * the package it names (ledger_reconcile.h "cap"). The same (terminal,
 * version) again replaces them (a build that failed after taking the
 * version never reached a terminal). Its own transaction, or in a batch. */
LEAL_MUST_CHECK leal_err ledger_terminal_caps_record(struct ledger *l, int64_t terminal_id,
                                                     uint32_t version, uint32_t cap_day_cents,
                                                     uint32_t cap_sync_cents);

/* The rule-set version (host/ledger/ledger_rules.h; 0: none defined) that
 * package version of terminal_id carried (the package builder records it):
 * the import values a reward redeemed under that package by it (a cashback
 * reward's euros). The same (terminal, version) again replaces it. */
LEAL_MUST_CHECK leal_err ledger_terminal_rules_record(struct ledger *l, int64_t terminal_id,
                                                      uint32_t version, uint32_t rules_version);

/* How many findings name terminal_id (0: not flagged). */
LEAL_MUST_CHECK leal_err ledger_terminal_findings(struct ledger *l, int64_t terminal_id,
                                                  int64_t *count);

#endif
