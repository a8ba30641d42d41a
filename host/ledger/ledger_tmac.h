/*
 * ledger_tmac.h - the ledger's side of the Transaction MAC entries terminals
 * journal for DESFire EV2/EV3 cards (firmware/core/JOURNAL.md "Transaction
 * MAC entries", issue 19): the TMAC entries taken and not yet checked, the
 * operation entry each names, another entry of the same card with the same
 * TMC, and what the check with the card's tmac key found (terminal_tmac),
 * which reconciliation turns into findings (ledger_reconcile.h). The check
 * itself needs the keystore and is host/sync/sync_tmac.h's. Hosted; nothing
 * here prints. Errors: the ledger's own, LEAL_E_ARG.
 */
#ifndef LEAL_LEDGER_TMAC_H
#define LEAL_LEDGER_TMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/journal.h"
#include "host/ledger/ledger.h"

/* The verdicts (terminal_tmac.verdict). */
#define LEDGER_TMAC_OK "ok"
#define LEDGER_TMAC_FORGED "forged"   /* the TMV is not the card's over what the journal says */
#define LEDGER_TMAC_ALTERED "altered" /* the card's MAC holds; the operation's entry says else */
#define LEDGER_TMAC_REPLAY "replay"   /* the card's TMC in two entries */
#define LEDGER_TMAC_UNCHECKED "unchecked" /* no key to check it with (detail says why) */
#define LEDGER_TMAC_DETAIL 240

/* One TMAC entry taken without a verdict. */
struct ledger_tmac_todo {
    int64_t terminal_id, epoch, seq;
    uint8_t raw[JOURNAL_ENTRY_MAX];
    size_t raw_len;
};
/* Up to cap TMAC entries of terminal_id taken and not yet checked, oldest
 * first, into out[0 .. *n). */
LEAL_MUST_CHECK leal_err ledger_tmac_todo(struct ledger *l, int64_t terminal_id,
                                          struct ledger_tmac_todo *out, size_t cap, size_t *n);
/* An entry of a terminal's journal. */
struct ledger_tmac_key {
    int64_t terminal_id, epoch, seq;
};
/* The bytes of the entry k as taken; *found false if none. */
LEAL_MUST_CHECK leal_err ledger_tmac_entry(struct ledger *l, const struct ledger_tmac_key *k,
                                           uint8_t raw[JOURNAL_ENTRY_MAX], size_t *len,
                                           bool *found);
/* Another checked TMAC entry of card with tmc than k: found, and where it
 * is ("terminal T epoch E sequence S"). */
struct ledger_tmac_where {
    bool found;
    char text[80];
};
LEAL_MUST_CHECK leal_err ledger_tmac_other(struct ledger *l, int64_t card_id, uint32_t tmc,
                                           const struct ledger_tmac_key *k,
                                           struct ledger_tmac_where *out);
/* The highest TMC of card that a check with the card's tmac key proved the
 * card reached (its entries judged ok or altered: the card's MAC holds
 * either way): the desk's floor for the TMC it reads (LAYOUT.md 2.9);
 * *found false when no entry proves any. */
LEAL_MUST_CHECK leal_err ledger_tmac_highest(struct ledger *l, int64_t card_id, uint32_t *tmc,
                                             bool *found);
/* The check's verdict (LEDGER_TMAC_*) of the TMAC entry key. */
struct ledger_tmac_row {
    struct ledger_tmac_key key;
    int64_t card_id;
    uint32_t tmc;
    uint8_t tmv[8];
    const char *verdict, *detail;
};
LEAL_MUST_CHECK leal_err ledger_tmac_record(struct ledger *l, const struct ledger_tmac_row *r);

#endif
