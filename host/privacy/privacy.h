/*
 * privacy.h - a person's rights over what leal holds (issue 17, RGPD/LOPDGDD):
 * export (access and portability: every row of every table that names the
 * customer, through their id, their accounts, their cards and sales, as one
 * JSON object, from a read-only connection in one read transaction) and
 * erasure (pseudonymisation: the personal fields emptied, their notes
 * removed and the text of their notes' audit lines emptied, their family
 * cards' holders removed (and emptied in the audit lines), a pending
 * erasure request (host/ledger/ledger_erasure.h) marked done with a
 * "customer.erase" audit line, the customer marked erased with a note saying
 * when and by whom,
 * in one transaction with SQLite's secure_delete on; then VACUUM and a WAL
 * checkpoint that truncates the log, so the old bytes leave the file). The
 * ledger (entries, lines, balances, lots, cards) is untouched, so `ledger
 * verify` holds; only a card's status may change, by decision. On a
 * PostgreSQL ledger the same rows through the ledger's store (host/ledger:
 * the export in one REPEATABLE READ snapshot, the erasure in one write
 * transaction, then VACUUM of the tables it emptied; block_cards blocks
 * the cards in that transaction, ledger_customer_erase_cards). Hosted. Errors: LEAL_E_UNKNOWN_ID
 * (no such customer), LEAL_E_STATE (already erased), LEAL_E_NO_LEDGER, LEAL_E_DB*, LEAL_E_IO.
 */
#ifndef LEAL_PRIVACY_H
#define LEAL_PRIVACY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "keys/base/err.h"

/* Customer customer_id of the ledger at path, as JSON (one line) to out:
 * {"customer":ID,"tables":{"TABLE":[{"COLUMN":value,...},...],...}} (blobs
 * as hex strings). Every such table the ledger has is listed, empty or not. */
LEAL_MUST_CHECK leal_err privacy_export(const char *path, int64_t customer_id, FILE *out);

/* privacy_export, or with text the same rows for a person to read: a first
 * line naming the customer, then per table "TABLE: N rows" and each row as
 * "  row K" and "    COLUMN: value" lines (text as it is, control
 * characters as \uXXXX, blobs as quoted hex, NULL as "-", times (columns *_at) followed by their
 * UTC date in parentheses). */
LEAL_MUST_CHECK leal_err privacy_export_as(const char *path, int64_t customer_id, bool text,
                                           FILE *out);

/* privacy_export_as from a ledger already open, in one read snapshot of it
 * (how the CLI exports from PostgreSQL: `path` above may also be a
 * postgresql:// URI; ledger_errmsg(l) then has the detail of a failure). */
struct ledger;
LEAL_MUST_CHECK leal_err privacy_export_ledger(struct ledger *l, int64_t customer_id, bool text,
                                               FILE *out);

/* Erases customer customer_id's personal data in the ledger at path (a
 * postgresql:// URI: ledger_customer_erase, host/ledger/ledger.h);
 * operator_name goes in the note that records it. The cards are kept
 * (privacy_erase_as with block_cards false and cards_decided false). */
LEAL_MUST_CHECK leal_err privacy_erase(const char *path, int64_t customer_id,
                                       const char *operator_name);
/* privacy_erase by the back-office user user_id (0: the command line), named
 * in the audit line, with the decision on the customer's cards
 * (privacy_erase_as's block_cards, the decision recorded either way);
 * *cards_blocked: how many became blocked. */
LEAL_MUST_CHECK leal_err privacy_erase_by(const char *path, int64_t customer_id,
                                          const char *operator_name, int64_t user_id,
                                          bool block_cards, int64_t *cards_blocked);

/* An erasure with the decision on the customer's cards. */
struct privacy_erasure {
    const char *operator_name; /* in the note that records it and the cards' history */
    bool block_cards;          /* block the active cards (each with a card_event) */
    bool cards_decided;        /* the note says the cards were kept by decision */
    int64_t cards_blocked;     /* out: how many became blocked */
    int64_t user_id;           /* the back-office user carrying it out (0: the command line) */
};
/* privacy_erase, in the same transaction deciding the cards: with
 * block_cards every active card of the customer's accounts becomes blocked
 * (a card_event "customer erased: cards blocked by decision" by the
 * operator; terminals refuse it from their next package), else all stay as
 * they are. The customer's note records the decision ("cards blocked by
 * decision: N" or "cards kept by decision"). */
LEAL_MUST_CHECK leal_err privacy_erase_as(const char *path, int64_t customer_id,
                                          struct privacy_erasure *e);

/* Retention: the personal data of a program's customers inactive for
 * `years` (no entry on their accounts, or without any since sign-up, for
 * years * 365 days before now) is erased as privacy_erase does, one
 * customer per transaction, so a run cut short leaves each customer erased
 * or untouched and the next run goes on. With dry_run nothing changes and
 * *erased counts who would be. Customers erased before are skipped. */
struct privacy_retention {
    int64_t program_id;
    int years;                 /* 1..100 */
    int64_t now;               /* Unix seconds */
    const char *operator_name; /* in each erased customer's note */
    bool dry_run;
};
LEAL_MUST_CHECK leal_err privacy_retain(const char *path, const struct privacy_retention *r,
                                        int64_t *erased);

#endif
