/*
 * card_view.h - what a verified read of a leal card yields, one struct for
 * both card types: MIFARE DESFire (cardlayout/desfire/desfire_card.h) and
 * MIFARE Classic (cardlayout/classic/). Identity, state (points, stamps, tier,
 * spend buckets, seq), purse, the taps the card committed, what marks the
 * state read (the ledger's "mark": DESFire the newest log record, Classic the
 * SIV tag of the current state slot) and the key versions that opened it.
 * Everything here was read under the card's keys (authenticated, MACed or
 * sealed) and checked against the layout's rules; it is still evidence, never
 * a source of value: the desk's ledger or a terminal's package judges it.
 * Plain data, no pointers: copy it freely. Freestanding.
 */
#ifndef LEAL_CARD_VIEW_H
#define LEAL_CARD_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/records/bono.h"
#include "cardlayout/records/identity.h"
#include "cardlayout/records/log_record.h"
#include "cardlayout/records/state.h"
#include "keys/base/limits.h"
#include "keys/keyset.h"

/* The ledger's mark of a state read (LAYOUT.md 2.7, 3.3). */
#define CARD_VIEW_MARK_LEN 16

struct card_view {
    /* Identity (LAYOUT.md 1.1): DESFire's plain file, once the terminal key
     * has opened the card; Classic's sealed and signed record. */
    uint64_t card_id;
    uint32_t issuer_id;
    uint32_t program_id;
    uint8_t kind; /* enum identity_kind; the same numbers as the ledger's card tech */
    uint8_t key_set_version;
    uint8_t identity_flags; /* IDENTITY_FLAG_* */
    uint32_t issued_day;    /* days since 1970-01-01 */
    bool random_uid;
    /* Whether the card carries stored value: every DESFire card; a Classic
     * card whose identity has IDENTITY_FLAG_STORED_VALUE. */
    bool stored_value;
    uint8_t uid[LEAL_MAX_UID]; /* the real UID (GetCardUID on random-UID DESFire) */
    size_t uid_len;

    /* State (LAYOUT.md 1.2) and purse (cents; 0 where stored value is off). */
    struct state_body state;
    /* The card's layout version (DESFire: its state file's version byte;
     * Classic: 1) and, at version 2, its bono file (LAYOUT.md 4); a version-1
     * card has no bonos (all slots free). */
    uint8_t layout_version;
    struct bono_file bonos;
    int32_t purse_cents;
    /* Transactions the card committed: DESFire LAYOUT_COUNTER_START less the
     * counter file (card-enforced), Classic the current slot's seq less the
     * initial one. */
    uint32_t taps;

    /* DESFire: the counter file's value and the newest log record
     * (has_log: it decodes as a log record; raw bytes in mark either way). */
    int32_t counter;
    bool has_log;
    struct log_record log;
    /* DESFire EV2/EV3 whose Transaction MAC file the caller knows of (LAYOUT.md
     * 2.9): the file as read, TMC (the card's count of its committed
     * transactions, card-enforced) and the TMV of the last of them. */
    bool has_tmc;
    /* A layout-3 card (LAYOUT.md 2.10) whose state's purse mirror is not the
     * purse the desk read (desfire_card_read). */
    bool mirror_differs;
    uint32_t tmc;
    uint8_t tmv[8];
    /* Classic: the state slot the read chose (the next write goes to the other). */
    uint8_t slot;

    bool has_mark;
    uint8_t mark[CARD_VIEW_MARK_LEN];

    /* The version of each role's key that opened the card, indexed by enum
     * key_role (0: not used by this read). */
    uint8_t key_version[KEY_ROLE_COUNT + 1];
};

/* Copies a decoded identity into v (card id, issuer, program, kind, key-set
 * version, flags, issue day, random_uid, stored_value as above). */
void card_view_set_identity(struct card_view *v, const struct identity *id);

/* Whether the view is of a DESFire card (EV1, EV2 or EV3). */
bool card_view_is_desfire(const struct card_view *v);

#endif
