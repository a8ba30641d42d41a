/*
 * issuance_ops.h - one card type at the desk, inside host/issuance only: the
 * operations issuance.c runs its sequences over (issuance_desfire.c,
 * issuance_classic.c). An operation does the card's side only: the ledger's
 * side (intents before a card write, postings, settling, comparing, verdicts)
 * is issuance.c's, so no operation posts, settles or judges money. What a
 * card type keeps of the ledger is its own keys' versions (keys/KEYS.md
 * rotation) and, on Classic, the identity being rewritten. A session is
 * opened per desk operation, holds the card's keys, and close wipes it and
 * adds its round trips and bytes to out.
 */
#ifndef LEAL_ISSUANCE_OPS_H
#define LEAL_ISSUANCE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "issuance.h"
#include "host/ledger/ledger_bono.h"
#include "issuance_books.h"

/* The card in the field, as a desk operation found it. */
struct issuance_contact {
    struct issuance *is;
    struct reader *reader;
    struct reader_card rc;      /* what the reader reports (ATR, UID) */
    enum ledger_card_tech tech; /* as claimed: a Classic kind; 0 for DESFire (GetVersion says) */
};

struct issuance_card_ops {
    const char *name;
    /* Whether the card the reader reports is of this type, and its kind. */
    bool (*claims)(const struct reader_card *rc, enum ledger_card_tech *tech);
    leal_err (*open)(const struct issuance_contact *c, void **session);
    void (*close)(void *s, struct issuance_card *out);

    /* The card read as a terminal reads it and checked on its own (identity,
     * keys, records), into out: card_id, uid, state, purse, taps, mark. */
    leal_err (*read)(void *s, struct issuance_card *out);
    /* Whether the mark of the card just read is one the ledger never saw or
     * made (intent_mark: it is the ledger's own top-up in flight): why into
     * why, empty when it is not. */
    void (*judge_mark)(void *s, const struct ledger_card *lc, bool intent_mark,
                       const struct issuance_card *out, char *why, size_t why_len);
    /* Every card key and record to the keystore's current versions. */
    leal_err (*rekey)(void *s, struct issuance_card *out);
    /* A card just read at an older layout version to the current one
     * (LAYOUT.md 4.3); NULL where the card type has no newer layout. */
    leal_err (*upgrade)(void *s, struct issuance_card *out);
    /* leal card upgrade on a card just read: an EV2/EV3's Transaction MAC
     * file (LAYOUT.md 2.9) made unless known (the tmac key version the
     * ledger records, 0: none), *version the one the card's file carries,
     * *made when this call made it (desfire_card_add_tmac); NULL where the
     * card type has none (Classic). */
    leal_err (*add_tmac)(void *s, uint8_t known, uint8_t *version, bool *made);

    /* A host top-up of CENTS on the card just read: stage fills t (seq
     * before and after, purse after, request id, mark) without writing;
     * commit writes it and brings out to what the card then holds. */
    leal_err (*credit_stage)(void *s, const struct issuance_card *out, int64_t cents,
                             struct ledger_pending_topup *t);
    leal_err (*credit_commit)(void *s, struct issuance_card *out);
    /* A terminal's transaction on the card just read: the state at seq + 1
     * with POINTS and the purse brought down to PURSE (*seq_before and
     * *seq_after: as the ledger counts them); commit as above. */
    leal_err (*state_stage)(void *s, const struct issuance_card *out, uint32_t points,
                            uint32_t purse, struct ledger_pending_sync *p);
    leal_err (*state_commit)(void *s, struct issuance_card *out);
    /* A bono sale or use on the card just read (LAYOUT.md 4.4): stage fills
     * p's taps before and after without writing (NULL where the card type
     * carries no bonos: Classic, 4.5); commit writes the bono file NEXT and
     * debits the counter in one commit under the terminal key, and brings out
     * to what the card then holds. */
    leal_err (*bono_stage)(void *s, const struct issuance_card *out, const struct bono_file *next,
                           struct ledger_bono_intent *p);
    leal_err (*bono_commit)(void *s, struct issuance_card *out);

    /* Issuance. inspect: a card the desk must not write refused before
     * anything is written; out->card_id (and issuer) set when the card
     * carries a readable identity. torn_here: whether a PENDING card of the
     * account may be this card. pending_record: what the ledger records of
     * the card while it is made (kind, UID, key-set version; resuming: a
     * PENDING card of the account matched). personalise: the card made, with
     * o, as card_id (out->resumed: it was half made; out->uid when only
     * personalising shows it). verify: read back as a terminal reads it, and
     * exactly what was made (LEAL_E_CARD_TAMPERED otherwise). */
    leal_err (*inspect)(void *s, struct issuance_card *out);
    bool (*torn_here)(void *s, const struct ledger_card *c);
    leal_err (*pending_record)(void *s, bool resuming, struct ledger_card *lc);
    leal_err (*personalise)(void *s, int64_t card_id, const struct issuance_opening *o,
                            struct issuance_card *out);
    leal_err (*verify)(void *s, int64_t card_id, const struct issuance_opening *o,
                       struct issuance_card *out);

    /* Erase. erase_identify (Classic, whose erase is not atomic): whose card
     * it is, from its identity while it is there (out->card_id 0 when it is
     * gone), so the ledger marks it lost before it is touched; NULL (DESFire):
     * the card is read in full first. erase: back to the factory state. */
    leal_err (*erase_identify)(void *s, struct issuance_card *out);
    leal_err (*erase)(void *s, struct issuance_card *out);
};

/* MIFARE DESFire EV1/EV2/EV3 (LAYOUT.md 2): claims every card no other type claims. */
extern const struct issuance_card_ops issuance_desfire_ops;
/* MIFARE Classic 1K/4K (LAYOUT.md 3): a PC/SC part 3 storage-card ATR. */
extern const struct issuance_card_ops issuance_classic_ops;

#endif
