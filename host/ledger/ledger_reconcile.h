/*
 * ledger_reconcile.h - cards, terminals and the ledger brought together
 * (issue 14, `leal reconcile`): per card, the card-enforced counter (DESFire
 * taps, Classic seq) of every journal entry the host took, walked in the
 * card's counter order on DESFire (the card enforces it: the terminals'
 * clocks may disagree) and in the order the terminals' clocks give on
 * Classic (a dump puts the seq back; one second's taps by seq), against
 * the ledger. Findings, each a
 * row a person can act on, kept in reconcile_finding once by (kind, card,
 * terminal, evidence):
 *   gap      the counter jumped: a terminal not yet synced holds the taps
 *            between (named); waits, resolved by itself once they are in;
 *   doubt    the counter came back to where an unconfirmed operation began
 *            (a commit torn at one terminal, the card next at another):
 *            that operation presumably did not reach the card; a person
 *            decides (a restored dump looks the same). A SETTLE naming it
 *            (unknown, or an old journal's done) does not confirm it: its
 *            commit had no answer, and the card's counter after is also
 *            where the other terminal's tap left it. When another commit
 *            that took the same step was answered (no settle names it; for
 *            entries without a counter, a TMAC entry whose TMV holds read
 *            the state seq the torn entry's state lines began at), the torn
 *            one cannot have reached the card (had it, the card would have
 *            been past that step at the other's read, or the other's commit
 *            after it could not have read it there): it is reversed
 *            (ledger_terminal_reverse: a void keyed by its settle, operator
 *            "reconcile") in the run's transaction and left out of the walk,
 *            and its doubt recorded resolved, operator "reconcile", the
 *            reason naming the reversal (once: the torn entry is undone, so
 *            a later run or the journals in the other order find nothing);
 *            a person's accepted doubt stands, and a reversal the ledger
 *            refuses (the account no longer holds the points) leaves it
 *            open. Every commit at the step unanswered: it stays open.
 *            On an EV2/EV3 with the Transaction MAC file an operation with
 *            no TMAC entry after it is unanswered as if a SETTLE 'unknown'
 *            named it (its terminal appends one after every commit the
 *            card answers; restarted before the card came back, it writes
 *            no settle): reversed the same way when another commit from its
 *            step is proved by a TMAC entry checked ok (the void keyed by
 *            the operation itself, LEDGER_UNANSWERED_SEQ); EV1 and Classic
 *            have no such proof (a restart there still leaves a doubt, or a
 *            clone once the card comes back to that terminal);
 *   clone    the same counter seen twice with different contents after
 *            the first was confirmed (a copy, or a restored dump): fraud;
 *   rollback the counter below what was seen before (a restored dump): fraud;
 *   balance  the card's newest state disagrees with its account once
 *            everything is in;
 *   tamper   a terminal's journal whose MAC or chain broke (the import's
 *            finding), naming the cards of the entries at fault: fraud;
 *   cap      a terminal took more from a card's purse than the package the
 *            entry names allowed it offline (per day, or since its last
 *            acknowledgment, counted as the terminal counts them; caps the
 *            host recorded when it built the package, ledger_terminal.h):
 *            the terminal did not enforce them; not the card's fraud;
 *   tmv_forged, tmv_altered, tmc_replay
 *            the import's check of an EV2/EV3's Transaction MAC entry with
 *            the card's tmac key (host/sync/sync_tmac.h) found its TMV not
 *            the card's, the operation's entry other than what the card
 *            committed, or the card's TMC twice: fraud.
 *   tmc_gap  between two TMCs of a card whose TMVs hold, the card committed
 *            transactions no TMAC entry reports (evidence "tmc A..B"): an
 *            operation journaled without its TMAC entry (named, with its
 *            terminal: a torn commit, a full journal, a package from before
 *            the card's file, or a terminal hiding what the card MACed), or
 *            a commit that moved no counter (no tap or desk write does).
 *            Read against the counter, which every tap and desk write steps
 *            with the TMC: counter steps no journal holds are the desk's or
 *            a terminal's not yet synced, and no tmc_gap. Not fraud; like
 *            a gap it resolves once the entries are in.
 * Fraud blocks the card (an active one) with a card event naming the
 * evidence (operator "reconcile"): the next package's hot list carries it.
 * An accepted explanation is recorded with the finding, which then stays
 * accepted. Hosted; nothing here prints.
 * Errors: the ledger's own; LEAL_E_UNKNOWN_ID (accept: no such finding),
 * LEAL_E_STATE (accept: not open).
 */
#ifndef LEAL_LEDGER_RECONCILE_H
#define LEAL_LEDGER_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger.h"

/* What one reconciliation did. */
struct ledger_reconcile_counts {
    uint32_t cards;    /* cards whose entries were walked */
    uint32_t found;    /* new findings */
    uint32_t fraud;    /* of them, fraud */
    uint32_t blocked;  /* cards blocked for them */
    uint32_t resolved; /* gaps, doubts and disagreements no longer there */
    uint32_t open;     /* findings open after it (of the cards walked) */
};

/* Walks every card of program_id (0: every program) that terminal entries
 * name, or only card_id (0: every card), in one transaction. It reads the
 * cards range by range (512 of the card table's ids, in ascending order;
 * the last range open-ended): a range's entries, TMAC entries, card rows
 * with what the balance check reads, and host changes waiting, a few
 * statements each range, then walks its cards in memory; only a finding
 * (and the resolving of an earlier run's) writes or reads per card. */
LEAL_MUST_CHECK leal_err ledger_reconcile(struct ledger *l, int64_t program_id, int64_t card_id,
                                          struct ledger_reconcile_counts *out);

#define LEDGER_RECONCILE_EVIDENCE 96
#define LEDGER_RECONCILE_DETAIL 320
struct ledger_reconcile_finding {
    int64_t id;
    int64_t program_id;
    int64_t card_id;     /* 0: about a terminal only */
    int64_t terminal_id; /* 0: about a card only */
    char kind[12];
    bool fraud;
    char evidence[LEDGER_RECONCILE_EVIDENCE]; /* what identifies it: entries, counters */
    char detail[LEDGER_RECONCILE_DETAIL];     /* what it is and what to do, for a person */
    int64_t found_at;
    char state[12]; /* open, accepted, resolved */
    char reason[LEDGER_TEXT];
    char operator_name[LEDGER_TEXT];
    int64_t closed_at;
};
typedef int (*ledger_reconcile_cb)(void *ctx, const struct ledger_reconcile_finding *f);
/* The findings of program_id (0: all), of card_id (0: all), oldest first;
 * all false: the open ones only. */
LEAL_MUST_CHECK leal_err ledger_reconcile_list(struct ledger *l, int64_t program_id,
                                               int64_t card_id, bool all, ledger_reconcile_cb cb,
                                               void *ctx);
/* Records why an open finding is accepted ("merged after review"). */
LEAL_MUST_CHECK leal_err ledger_reconcile_accept(struct ledger *l, int64_t finding_id,
                                                 const char *reason, const char *operator_name);

#endif
