/*
 * sync.h - a terminal's journal export taken into the ledger exactly once
 * (`leal sync import`, issue 14; firmware/core/JOURNAL.md "What the host
 * checks") and the acknowledgment the terminal needs to drop what the host
 * took (`leal sync ack`).
 *
 * Import: the export's structure, its terminal (registered in the ledger for
 * the export's program), the terminal's journal key derived from the
 * keystore's journal master of the export's key version (KEYS.md), then
 * each entry's MAC, terminal, epoch, sequence and chain in the export, and
 * the export's own MAC. Entries up to the first that fails are authentic
 * (each MACed, chained from sequence 1 or from what the host took) and are
 * taken; from that entry on nothing is, and it is named and the terminal
 * flagged. An export whose entries all verify but whose own MAC does not is
 * taken not at all. Entries go to host/ledger/ledger_terminal.h in
 * transactions of SYNC_BATCH entries (ledger_batch_begin_checked: an entry
 * the ledger refuses to post is held, any other failure rolls the
 * transaction back whole): a process killed at any point has
 * committed whole entries with their movements, and the next import of the
 * same file takes the rest (what is there is recognised by its MAC).
 * Several importers and the desk at once: each transaction is one writer,
 * balances move as deltas. Hosted; nothing here prints.
 * Errors: LEAL_E_JOURNAL_MALFORMED, LEAL_E_JOURNAL_FORMAT_VERSION,
 * LEAL_E_UNKNOWN_ID (terminal not in the ledger), LEAL_E_JOURNAL_TERMINAL
 * (registered in another program), LEAL_E_UNKNOWN_PROGRAM and
 * LEAL_E_KEY_VERSION (the keystore has no such journal master),
 * LEAL_E_JOURNAL_MAC, LEAL_E_JOURNAL_CHAIN, LEAL_E_SYNC_GAP,
 * LEAL_E_SYNC_CONFLICT (the stop: struct sync_result says where), the
 * ledger's own.
 */
#ifndef LEAL_SYNC_H
#define LEAL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/journal.h"
#include "host/ledger/ledger.h"
#include "keys/crypto.h"
#include "keys/keyset.h"

/* Entries per transaction. */
#define SYNC_BATCH 2000

/* The keys an import needs: the journal masters, and the tmac masters that
 * check EV2/EV3 cards' TMVs (sync_tmac.h; other roles may be wiped). */
struct sync_keys {
    const struct crypto_provider *cp;
    const struct keyset *ks;
};

struct sync_result {
    struct journal_export_info info; /* the export's header (zero if it did not parse) */
    uint32_t taken;                  /* new entries taken: the three below */
    uint32_t posted, recorded, held;
    uint32_t undone;      /* operations a SETTLE said did not reach the card: reversed */
    uint32_t duplicates;  /* taken before with the same MAC: nothing done */
    uint32_t held_posted; /* entries held by earlier imports that the ledger now took */
    uint32_t cards_flagged;
    bool terminal_flagged;
    /* TMAC entries checked with their cards' tmac keys (sync_tmac.h), and
     * how many of them were forged, altered or replayed. */
    uint32_t tmac_checked, tmac_bad;
    /* Where the import stopped, if it did: the entry at fault (its epoch and
     * sequence; sequence 0 the export as a whole) and why, for a person. */
    leal_err fault;
    uint32_t fault_epoch, fault_seq;
    char why[256];
};

/* The journal key of terminal in program at key_version (KEYS.md): from the
 * keystore's journal master of that version. LEAL_E_UNKNOWN_PROGRAM,
 * LEAL_E_KEY_VERSION. */
LEAL_MUST_CHECK leal_err sync_journal_key(const struct sync_keys *k, uint32_t program,
                                          uint32_t terminal, uint8_t key_version, uint8_t key[16]);

/* Takes the export p[0..len) into l. LEAL_OK when every entry was taken or
 * was there already; otherwise the error says what stopped it and r says
 * what was taken before. */
LEAL_MUST_CHECK leal_err sync_import(struct ledger *l, const struct sync_keys *k, const uint8_t *p,
                                     size_t len, struct sync_result *r);

/* The ack of the newest entry the host took from terminal_id (JOURNAL.md
 * "Acknowledgment"), MACed with the terminal's journal key of that entry's
 * key version: LEAL_E_SYNC_NOTHING when nothing was taken yet,
 * LEAL_E_UNKNOWN_ID for a terminal the ledger does not know. */
LEAL_MUST_CHECK leal_err sync_ack(struct ledger *l, const struct sync_keys *k, int64_t terminal_id,
                                  struct journal_ack *a, uint8_t out[JOURNAL_ACK_LEN]);

#endif
