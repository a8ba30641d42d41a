/*
 * issuance.h - the issuance desk: what turns a blank card into a customer's
 * card and what the desk does with it afterwards (cardlayout/LAYOUT.md is the
 * spec of what goes on the card; keys/KEYS.md of the keys). Every operation
 * keeps card and ledger in step: a card is recorded PENDING before the card is
 * touched and ACTIVE only after it has been read back and verified; a top-up
 * is recorded in the ledger as pending (card id, taps before and after,
 * amount, request id) before the card is written, and settled from what the
 * card shows, so a tear at any point neither creates nor loses money and the
 * next tap settles it. Card data is evidence, never a source of value: a log
 * record or purse the ledger never made, a card behind the ledger or a forked
 * Classic state is a verdict (the card blocked with why, nothing posted).
 * Hosted: the ledger, the keystore (masters in memory for the duration of a
 * call), a host reader. Errors: reader, card, ledger and keys errors;
 * LEAL_E_CARD_ALREADY_ISSUED, LEAL_E_CARD_NOT_LEAL, LEAL_E_CARD_TAMPERED,
 * LEAL_E_CARD_BLOCKED, LEAL_E_CARD_UNKNOWN, LEAL_E_CARD_KEY_VERSION (the card's
 * keys are of a version the keystore does not hold).
 *
 * Key rotation (keys/KEYS.md): every contact authenticates with the version
 * the card carries (the ledger's record of the card, else the card's own key
 * version byte) and, on a card the ledger knows, changes every card key not
 * at the keystore's current version to it, then records the card's versions
 * in the ledger. Each step leaves a card that reads with old or new keys, so
 * a tear anywhere is finished at the next contact.
 */
#ifndef LEAL_ISSUANCE_H
#define LEAL_ISSUANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/records/bono.h"
#include "cardlayout/records/state.h"
#include "firmware/core/rules.h"
#include "host/ledger/ledger.h"
#include "host/reader/reader.h"
#include "keys/crypto.h"
#include "keys/keyset.h"

struct issuance {
    struct ledger *ledger;
    const struct keyset *keys;
    const struct crypto_provider *cp;
    uint32_t program_id;
    const char *operator_name;
    /* The store the desk stands in (0: none): its top-ups, welcome points
     * and cashback loads are that shop's in settlement (ledger_settle.h). */
    int64_t store_id;
};

/* The verified view of a card ("leal card read"), and what an operation left. */
struct issuance_card {
    int64_t card_id;
    uint32_t issuer_id;
    uint32_t program_id;
    enum ledger_card_tech tech;
    uint8_t uid[LEAL_MAX_UID]; /* the real UID (GetCardUID on random-UID cards) */
    size_t uid_len;
    bool random_uid;
    uint8_t key_set_version;
    struct state_body state;
    int32_t purse_cents;
    /* Layout 3 (LAYOUT.md 2.10): the state's purse mirror is not purse_cents. */
    bool mirror_differs;
    uint32_t taps; /* transactions the card committed (card-enforced counter) */
    /* An EV2/EV3 whose Transaction MAC file the ledger records (LAYOUT.md
     * 2.9): the TMC the read found in it, the card's own count of the
     * transactions it committed, judged against the TMCs the host verified
     * (issuance_judge_tmc). */
    bool has_tmc;
    uint32_t tmc;
    /* The card's layout version (LAYOUT.md 4.1) and its bonos (version 2;
     * none on a version-1 card). upgraded: this read brought a version-1
     * DESFire card to version 2 (LAYOUT.md 4.3). */
    uint8_t layout_version;
    struct bono_file bonos;
    bool upgraded;
    /* The program's stored-value caps (cents) when a top-up or issuance needed
     * them: every card's purse cap (a DESFire card keeps the one it was issued
     * with), and the Classic cap (0: stored value off on Classic). */
    int64_t purse_cap_cents;
    int64_t classic_cap_cents;
    /* Whether the card carries stored value: every DESFire card; a Classic
     * card whose identity has the stored-value flag (LAYOUT.md 1.1). */
    bool stored_value;
    /* From the ledger */
    struct ledger_card ledger;
    int64_t account_eur;
    int64_t account_pts;
    int ncards_on_account;
    bool agrees;             /* card and ledger tell the same story */
    char why[320];           /* when they do not: the first difference, in words */
    int recovered;           /* top-ups the ledger started and the card shows, posted by this
                              * read (the ledger's own pending top-up, never the card's word) */
    int dropped;             /* pending top-ups (and syncs) the card never took, dropped */
    int synced;              /* syncs the ledger started and the card shows, settled by this read */
    int64_t sync_points;     /* leal card sync: the points it brought onto the card */
    int64_t cashback_cents;  /* issuance_load_cashback: the cashback it put on the purse */
    bool unsettled;          /* a pending top-up the card neither shows nor undid */
    int64_t unsettled_cents; /* its amount */
    /* This read found the card lying about money (a log record or purse the
     * ledger never made, a state behind the ledger's or forked): the card is
     * blocked (or its history says so if it was off already), why says why,
     * and the call returns LEAL_E_CARD_TAMPERED. */
    bool verdict;
    /* What marks the state read (LAYOUT.md 2.7, 3.3): the newest DESFire log
     * record, or the SIV tag of a Classic card's current slot. */
    bool has_mark;
    uint8_t mark[LEDGER_CARD_MARK_LEN];
    bool resumed; /* issuance found this card half made and started it over */
    /* Bonos (LAYOUT.md 4, host/ledger/ledger_bono.h): sales and uses the
     * ledger started, posted or dropped by this read; bono_unsettled: one the
     * card neither shows nor undid (why says so); offline_sessions: sessions
     * the card shows fewer than the ledger holds (used at a terminal, waiting
     * for its journal, issue 14: not an error). A sale or use: its bono kind,
     * the euros it moved (the price, or the revenue recognised) and the
     * sessions the ledger then holds of that kind. */
    int bonos_settled, bonos_dropped;
    bool bono_unsettled;
    int64_t offline_sessions;
    uint32_t bono_id;
    int64_t bono_cents, bono_held;
    /* Key rotation (keys/KEYS.md): the card keys this contact changed to the
     * keystore's current versions, and, with LEAL_E_CARD_KEY_VERSION, the role
     * and version the card carries that the keystore does not hold. */
    int rekeyed;
    uint8_t missing_role;
    uint8_t missing_version;
    /* leal card upgrade (issuance_add_tmac): the tmac key version of the
     * card's Transaction MAC file, and whether this contact recorded it in
     * the ledger (the file made now, or a torn upgrade's file found); false:
     * card and ledger had it already. */
    uint8_t tmac_version;
    bool tmac_added;
    /* The cost at the reader of this operation */
    unsigned round_trips;
    unsigned long bytes;
};

struct issuance_request {
    int64_t account_id;  /* the customer's (or a family member's) account */
    int64_t topup_cents; /* opening top-up (with gift: the gift's value), 0 for none */
    /* A gift card: account_id 0, a new gift account (no customer) made for
     * it once the card in the field can hold topup_cents; the opening top-up
     * is posted as the gift's sale (issuance_post_topup). */
    bool gift;
    int64_t welcome_points;
    bool replacing; /* the card takes over replaced_card_id's balances */
    int64_t replaced_card_id;
};

/* LEAL_OK if account_id belongs to is->program_id (the program whose keys
 * make the card); LEAL_E_WRONG_PROGRAM otherwise, LEAL_E_UNKNOWN_ID if there
 * is no such account. issuance_issue checks it before any card is touched. */
LEAL_MUST_CHECK leal_err issuance_account_program(struct issuance *is, int64_t account_id);
/* Waits for nothing: the card must be in the field (reader_wait_card). On
 * success out->ledger.account_id is the card's account (a gift's new one). */
LEAL_MUST_CHECK leal_err issuance_issue(struct issuance *is, struct reader *r,
                                        const struct issuance_request *req,
                                        struct issuance_card *out);
LEAL_MUST_CHECK leal_err issuance_read(struct issuance *is, struct reader *r,
                                       struct issuance_card *out);
/* Host purse credit (role purse-credit) and its ledger entry. Bound by the
 * program's purse cap (LEAL_E_CARD_BOUNDARY before the card is written; a card
 * issued under a lower cap refuses with LEAL_E_CARD_BOUNDARY itself). */
LEAL_MUST_CHECK leal_err issuance_topup(struct issuance *is, struct reader *r, int64_t cents,
                                        struct issuance_card *out);
/* A bono sold at the desk (LAYOUT.md 4.4, host/ledger/ledger_bono.h): the
 * card read and settled, then, on an active DESFire card at layout version 2
 * (a version-1 card is upgraded by that read), the intent recorded, the bono
 * file written under the terminal key with the counter debited in one
 * commit (3 RT), and the sale posted. Refusals, nothing written: a Classic
 * card LEAL_E_CARD_NO_BONOS; not ACTIVE LEAL_E_CARD_BLOCKED; a top-up or
 * bono in flight unsettled LEAL_E_CARD_TOPUP_UNSETTLED /
 * LEAL_E_CARD_BONO_UNSETTLED; the card's four slots taken LEAL_E_NO_SPACE;
 * sessions past 65535 on the card LEAL_E_RANGE; another card than
 * expect_card_id LEAL_E_CARD_UNKNOWN. A verdict of the read:
 * LEAL_E_CARD_TAMPERED. */
struct issuance_bono_sale {
    uint32_t bono_id;
    uint16_t sessions;      /* 1.. */
    int64_t price_cents;    /* 0..LEDGER_PURSE_CAP_MAX */
    uint16_t last_day;      /* days since 1970, 0: none */
    int64_t expect_card_id; /* 0: the card in the field, whichever it is */
    /* The desk's local date, days since 1970 (0: not checked). A slot of
     * the same kind past its last day then starts again from the sale's
     * sessions, the program's expired bonos swept first (ledger_bono_expire):
     * expired sessions never come back with a new sale. */
    uint16_t today;
};
LEAL_MUST_CHECK leal_err issuance_bono_sell(struct issuance *is, struct reader *r,
                                            const struct issuance_bono_sale *sale,
                                            struct issuance_card *out);
/* One session of bono_id used at the desk on `today` (the desk's local
 * date): as a sale, with the revenue of that session (ledger_bono.h's rule).
 * Refused as a sale is, and LEAL_E_RULES_BONO_EMPTY (none left, or the card
 * has no such bono), LEAL_E_RULES_BONO_EXPIRED (after its last day). */
LEAL_MUST_CHECK leal_err issuance_bono_use(struct issuance *is, struct reader *r, uint32_t bono_id,
                                           const struct rules_civil *today, int64_t expect_card_id,
                                           struct issuance_card *out);
/* leal card sync: brings the card's points to the ledger by applying, as a
 * delta, the changes of its account's points the card does not carry (posted
 * by hand, imported, voided, expired since its synced entry: ledger_card_drift),
 * never an overwrite, so taps the ledger has not seen are kept. Exactly once:
 * the ledger records the sync before the card is written (DESFire: the state
 * at seq + 1 and the counter debited under the terminal key, 3 RT after the
 * read; Classic: the other slot, 4 RT) and settles it from what the card
 * shows, as a top-up. A card whose state the ledger does not know (not in the
 * ledger: LEAL_E_CARD_NOT_LEAL; not active: LEAL_E_CARD_BLOCKED; a verdict:
 * LEAL_E_CARD_TAMPERED; a top-up or sync in flight that the card neither
 * shows nor undid: LEAL_E_CARD_TOPUP_UNSETTLED; points that would go below 0:
 * LEAL_E_RANGE) is left as it is, with why. out->sync_points 0: nothing to do. */
LEAL_MUST_CHECK leal_err issuance_sync(struct issuance *is, struct reader *r,
                                       struct issuance_card *out);
/* The cashback the card's account is owed (rewards redeemed at the host or
 * a terminal: ledger_reward.h) loaded onto its purse as a top-up, exactly
 * once through a tear as any top-up (issuance_topup; the intent's request id
 * ends ":cashback", so whichever read settles it posts the same entry:
 * kind "topup", the account's EUR from the program's cashback account and
 * its CASHBACK back to cashback_owed). Refused as a top-up is (the purse
 * cap: LEAL_E_CARD_BOUNDARY). out->cashback_cents: the cashback loaded (on an
 * error, tried); 0: nothing owed, nothing written. */
LEAL_MUST_CHECK leal_err issuance_load_cashback(struct issuance *is, struct reader *r,
                                                struct issuance_card *out);
/* The program's caps into out->purse_cap_cents and out->classic_cap_cents. */
LEAL_MUST_CHECK leal_err issuance_purse_caps(struct issuance *is, struct issuance_card *out);
/* The old card of a replacement, at the desk (leal card replace reads it
 * first): read and verified (a verdict refuses it: LEAL_E_CARD_TAMPERED); it
 * must be card old_card_id (LEAL_E_CARD_UNKNOWN otherwise; a card that is
 * not leal's, LEAL_E_CARD_NOT_LEAL: the old card is not at the desk). Marked
 * lost in the ledger ("emptied at the desk for its replacement") before it is
 * written, then its purse debited to 0 and its points taken to 0 in one
 * commit (DESFire: a terminal's transaction under key 2; Classic: the other
 * slot at seq + 1), and what it then holds recorded. No balance moves: the
 * replacement moves the old card's share onto the new card, and a tear
 * leaves the money in the ledger either way. out->purse_cents and
 * out->state.points say what was taken off. */
LEAL_MUST_CHECK leal_err issuance_empty_old(struct issuance *is, struct reader *r,
                                            int64_t old_card_id, struct issuance_card *out);
/* leal card upgrade: a DESFire EV2/EV3 issued before the Transaction MAC
 * file (LAYOUT.md 2.9) given it at the desk. The card is read and settled as
 * issuance_read does; then, on an active card the ledger records as
 * EV2/EV3, file 0x0F is created under the application master key with the
 * card's diversified tmac key at its current version (4 RT after the read),
 * and once the card has it the ledger records that version (card_key role
 * 12, one transaction): the next terminal package's floor of the card
 * carries flag bit 2 and its taps are journaled with TMC and TMV. Nothing
 * else on the card changes (no commit: its TMC is 0). A card whose file the
 * ledger records is checked (GetFileSettings: 4 RT) and left as it is
 * (out->tmac_added false). A tear leaves no file, or the file with nothing
 * recorded, which the next call finds (DUPLICATE, then GetFileSettings names
 * the version it was made with: +3 RT) and records. Refused: a Classic card
 * LEAL_E_CARD_NO_TMAC before it is touched, an EV1 the same after its read;
 * a keystore without the tmac key LEAL_E_KEYSTORE_NO_TMAC before anything;
 * a card the ledger does not know LEAL_E_CARD_NOT_LEAL; not active
 * LEAL_E_CARD_BLOCKED; a file the ledger records missing from the card, of
 * another version, or a file 0x0F not as leal makes it:
 * LEAL_E_CARD_TMAC_MISMATCH, nothing written or recorded; a verdict of the
 * read: LEAL_E_CARD_TAMPERED. */
LEAL_MUST_CHECK leal_err issuance_add_tmac(struct issuance *is, struct reader *r,
                                           struct issuance_card *out);
/* Back to the factory state (FormatPICC, factory DES PICC key); the card must
 * hold no money. The ledger keeps the card's history; its status becomes lost. */
LEAL_MUST_CHECK leal_err issuance_erase(struct issuance *is, struct reader *r,
                                        struct issuance_card *out);

#endif
