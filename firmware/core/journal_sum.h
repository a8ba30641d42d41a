/*
 * journal_sum.h - a running summary of the terminal's journal (JOURNAL.md
 * "The summary"), so that a tap reads O(1) entries instead of every
 * unacknowledged one: per card, the purse cents taken since the host's last
 * acknowledgment and on the newest local day, and the points each rule gave
 * on that day (the offline caps and rules' cap_per_day); and where the
 * terminal's last operation is (the void after a restart).
 *
 * The summary is a cache of the journal, never a record: it is bound to the
 * journal's head (epoch, seq, MAC) and acknowledged point, and a summary that
 * does not match them (missing, torn, an older copy, an append it did not
 * see) is rebuilt from the journal by one walk (journal_sum_rebuild). So it
 * needs no durable write of its own: a power cut at any byte of saving it
 * costs one walk at the next start. Its encoding is MACed under the
 * terminal's journal key, so a summary file cannot be made to lower a card's
 * totals. A card the table has no room for, a rule beyond a card's room, or
 * a day before the card's newest is answered "unknown": the caller walks the
 * journal as before (exact in every case).
 * It also keeps the terminal's local hot list (journal_hot_*): the cards this
 * terminal refused after their commit as copies or clones
 * (LEAL_E_TERMINAL_TMC_BEHIND), which its next taps refuse before any write
 * until the host has the refusal and a newer package is in force.
 * RAM: struct journal_sum, 7,440 bytes on x86-64; no allocation. Freestanding.
 */
#ifndef LEAL_JOURNAL_SUM_H
#define LEAL_JOURNAL_SUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/journal.h"
#include "firmware/core/rules.h"
#include "keys/base/err.h"

#define JOURNAL_SUM_CARDS 128 /* cards with unacknowledged entries it keeps */
#define JOURNAL_SUM_RULES 4   /* rules with points on the card's day it keeps per card */
#define JOURNAL_SUM_HEADER_LEN 56
#define JOURNAL_SUM_CARD_LEN 51
#define JOURNAL_HOT_CARDS 8 /* cards of the local hot list it keeps */
#define JOURNAL_SUM_HOT_HEADER_LEN 8
#define JOURNAL_SUM_HOT_LEN 20
#define JOURNAL_SUM_MAX_LEN                                                                        \
    (JOURNAL_SUM_HEADER_LEN + JOURNAL_SUM_CARDS * JOURNAL_SUM_CARD_LEN +                           \
     JOURNAL_SUM_HOT_HEADER_LEN + JOURNAL_HOT_CARDS * JOURNAL_SUM_HOT_LEN + JOURNAL_MAC_LEN)

/* The local hot list (TERMINAL.md "Round trips"): a DESFire card refused
 * after its commit with LEAL_E_TERMINAL_TMC_BEHIND stands on it while that
 * refusal is not acknowledged by the host, or no package newer than the one
 * it was refused under is in force. Kept from the journal's stored entries,
 * in order; a list that had no room for a card answers "unknown" for every
 * card it does not hold (the caller walks the journal). */
struct journal_hot {
    uint64_t card_id;
    struct journal_key entry; /* the newest such refusal of the card */
    uint32_t package_version; /* the package in force at it */
};

struct journal_hot_list {
    bool over;               /* a card did not fit: cards not listed are unknown */
    uint32_t newest_package; /* the highest package version of the entries seen */
    uint32_t n;
    struct journal_hot h[JOURNAL_HOT_CARDS];
};

enum journal_hot_verdict { JOURNAL_HOT_NO = 0, JOURNAL_HOT_YES = 1, JOURNAL_HOT_UNKNOWN = 2 };

/* True when e is a refusal that puts its card on the local hot list. */
bool journal_hot_entry(const struct journal_entry *e);

/* Adds e, the next stored entry of the journal (in order), whose
 * acknowledged point is acked: a refusal that puts its card on the list, and
 * any entry moves the newest package on (dropping what the host has and a
 * newer package replaced). */
void journal_hot_add(struct journal_hot_list *l, const struct journal_entry *e,
                     struct journal_key acked);

/* Whether DESFire card_id stands on the list, the journal acknowledged up to
 * acked and package_version in force (enum journal_hot_verdict). */
uint8_t journal_hot_find(const struct journal_hot_list *l, uint64_t card_id,
                         struct journal_key acked, uint32_t package_version);

/* The rule of journal_hot_find for one refusal (the walk's, when the list
 * answered unknown). */
bool journal_hot_stands(struct journal_key entry, uint32_t entry_package, struct journal_key acked,
                        uint32_t package_version);

struct journal_sum_card {
    uint64_t card_id;
    uint8_t kind;       /* enum journal_card_kind */
    uint8_t n_rules;    /* rule_index/rule_points used */
    bool rules_over;    /* more rules gave points on day than fit: unknown */
    uint32_t day;       /* the newest local day (days since 1970) of its entries */
    int64_t since_sync; /* purse cents taken, less given back, since the ack */
    int64_t today;      /* the same, on day */
    uint8_t rule_index[JOURNAL_SUM_RULES];
    uint32_t rule_points[JOURNAL_SUM_RULES]; /* on day */
};

struct journal_sum {
    bool valid;
    struct journal_key head, acked; /* what it summarises: the journal at this head */
    uint8_t head_mac[JOURNAL_MAC_LEN];
    bool last_valid; /* the newest operation entry (a void too), unless settled not done */
    uint32_t last_slot;
    struct journal_key last;
    bool cards_over; /* a card did not fit: cards not listed are unknown */
    uint32_t n_cards;
    struct journal_sum_card cards[JOURNAL_SUM_CARDS];
    struct journal_hot_list hot; /* every stored entry's (not only the unacknowledged) */
};

/* What the summary knows of one card on one local day. */
struct journal_sum_totals {
    bool known; /* false: walk the journal */
    int64_t since_sync, today;
    uint32_t rule_today[RULES_MAX_RULES];
};

/* True when s summarises j as it is now (head, its MAC, acknowledged point). */
bool journal_sum_current(const struct journal_sum *s, const struct journal *j);

/* Summarises j from its entries: one walk of the storage. */
LEAL_MUST_CHECK leal_err journal_sum_rebuild(struct journal_sum *s, const struct journal *j);

/* Adds e, the entry just appended to j (journal_append filled its key and
 * MAC). A summary that was not current before the append is left invalid
 * (the next use rebuilds it). */
void journal_sum_add(struct journal_sum *s, const struct journal *j, const struct journal_entry *e);

/* The totals of card (kind, id) on local day `today`. */
void journal_sum_totals_of(const struct journal_sum *s, uint8_t kind, uint64_t card_id,
                           uint32_t today, struct journal_sum_totals *out);

/* The terminal's last operation entry (earn .. void, a void too, unless a
 * SETTLE "not done" naming it came after it): *found false if none. Reads
 * one slot. */
LEAL_MUST_CHECK leal_err journal_sum_last(const struct journal_sum *s, const struct journal *j,
                                          struct journal_entry *out, bool *found);

/* Encodes a current summary with its MAC under j's journal key. */
LEAL_MUST_CHECK leal_err journal_sum_encode(const struct journal_sum *s, const struct journal *j,
                                            uint8_t *out, size_t cap, size_t *len);

/* Parses and verifies an encoded summary into *s (LEAL_E_JOURNAL_MALFORMED,
 * LEAL_E_JOURNAL_FORMAT_VERSION, LEAL_E_JOURNAL_MAC); on error *s is
 * invalid. Whether it is current is journal_sum_current's question. */
LEAL_MUST_CHECK leal_err journal_sum_decode(struct journal_sum *s, const struct journal *j,
                                            const uint8_t *p, size_t len);

#endif
