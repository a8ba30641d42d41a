/*
 * desk_view.h - what a desk card operation that succeeded shows (`leal card
 * issue|replace|read|top-up|sync`): host/issuance's struct issuance_card and
 * the ledger's word on it, made into one view in words and numbers that a
 * front end only prints or serialises (the CLI's text and --json; a web back
 * office later): names for the card's technology and status, the UID in
 * hex, the purse in euros, the card's layout version and bonos (named by
 * the program's rule set), whether card and ledger agree and if not the
 * first difference, a note for each thing this contact settled or changed,
 * and on a read the account's newest entries. Hosted; no keys; nothing here
 * prints.
 * Errors: none; a history that could not be read is operations_err, and
 * the rest of the view stands.
 */
#ifndef LEAL_DESK_VIEW_H
#define LEAL_DESK_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/issuance/issuance.h"
#include "host/ledger/ledger.h"
#include "host/ledger/ledger_host_change.h"
#include "host/ledger/ledger_rules.h"
#include "keys/base/limits.h"

/* The account's newest entries a read shows ("last operations"). */
#define DESK_VIEW_OPERATIONS 3
/* At most one note each: recovered, dropped, synced, synced points, keys,
 * layout, bonos posted, bonos dropped, sessions used offline, the bono sold
 * or used. */
#define DESK_VIEW_NOTES 10

enum desk_view_result {
    DESK_VIEW_ISSUED,
    DESK_VIEW_REPLACED,
    DESK_VIEW_READ,
    DESK_VIEW_TOPPED_UP,
    DESK_VIEW_SYNCED,
    DESK_VIEW_BONO_SOLD,    /* `leal desk --stdio`'s bono sell */
    DESK_VIEW_BONO_USED,    /* and bono use */
    DESK_VIEW_TMAC_ADDED,   /* leal card upgrade: the Transaction MAC file added */
    DESK_VIEW_TMAC_PRESENT, /* and found there already, nothing changed */
};

/* Something this contact did beyond the operation asked for, in a sentence. */
struct desk_view_note {
    const char *topic; /* "recovered", "dropped", "synced", "keys", "layout" or "bono" */
    char text[96];
};

/* A bono the card carries (LAYOUT.md 4.2), named as the program's current
 * rule set names it ("" when the rule set no longer has it). */
struct desk_view_bono {
    uint32_t id;
    char name[LEDGER_RULES_NAME];
    unsigned sessions;
    char last_day[16]; /* YYYY-MM-DD, "" when it has none */
};

/* One of the account's newest entries, its amount in words. */
struct desk_view_operation {
    struct ledger_movement movement;
    char amount[32];  /* "+12.50" for EUR, "-40" for points; a sign only when positive */
    const char *unit; /* "points" for PTS, else the asset */
};

struct desk_card_view {
    const char *result; /* "issued", "replaced", "read", "topped-up", "synced", "bono-sold",
                           "bono-used", "tmac-added", "tmac-present" */
    int64_t card_id;
    const char *technology;         /* ledger_card_tech_name */
    char uid[2 * LEAL_MAX_UID + 1]; /* lowercase hex */
    bool random_uid;
    int64_t account_id;
    bool gift_card;     /* the account is a gift account (no customer) */
    const char *status; /* the ledger's card status */
    int32_t purse_cents;
    char purse[32]; /* euros, two decimals */
    uint32_t points, stamps[STATE_STAMPS], tier, state_seq, taps;
    /* An EV2/EV3 with the Transaction MAC file the ledger records: the TMC
     * the read found (LAYOUT.md 2.9). */
    bool has_tmc;
    uint32_t tmc;
    unsigned layout_version; /* LAYOUT.md 4.1 */
    bool upgraded;           /* this contact brought the card to version 2 */
    /* leal card upgrade: the tmac key version of the card's Transaction MAC
     * file (LAYOUT.md 2.9); 0 on every other result. */
    unsigned tmac_key_version;
    struct desk_view_bono bonos[BONO_SLOTS];
    int nbonos;
    int64_t ledger_eur_cents, ledger_points;
    bool agrees;
    char difference[320]; /* the first difference in words; "" when they agree */
    char agreement[340];  /* "agrees", or "DIFFERS: " and the difference */
    bool stored_value;
    int recovered_topups, dropped_topups, keys_updated;
    /* Bono sales or uses this contact posted or dropped (interrupted ones),
     * and sessions the card shows fewer than the ledger (used offline). */
    int bonos_settled, bonos_dropped;
    int64_t offline_sessions;
    int64_t synced_points;
    /* A bono sold or used: its kind, the euros (price deferred, or the
     * revenue the session recognised) and the sessions the ledger holds after. */
    bool bono_op;
    uint32_t bono_id;
    int64_t bono_cents, bono_held;
    unsigned round_trips;
    unsigned long bytes;
    struct desk_view_note notes[DESK_VIEW_NOTES];
    int nnotes;
    /* A read: the account's newest entries, newest first. */
    bool has_operations;
    struct desk_view_operation operations[DESK_VIEW_OPERATIONS];
    int noperations;
    leal_err operations_err; /* LEAL_OK, or why they are not there */
    /* A read of an active card: the host changes still waiting for it after
     * the read (ledger_host_change.h; why: ledger_host_change_why). */
    bool has_waiting, waiting;
    struct ledger_host_change change;
    leal_err waiting_err; /* LEAL_OK, or why it is not known */
};

/* Builds the view of v after result; l (the desk's ledger) is asked whether
 * the account is a gift account (not when l is NULL) and for the account's
 * newest entries on a read. */
void desk_card_view(struct ledger *l, const struct issuance_card *v, enum desk_view_result result,
                    struct desk_card_view *out);

/* The view in one line for a person (`leal desk`: a line per card), e.g.
 *   read card 1 (desfire-ev1, UID 04112233445566): account 1, card active,
 *   purse 5.00, points 0, stamps 0 0 0 0, taps 3; ledger agrees
 * (one line; ", TMC n" after the taps where the read found one), then
 * "; TOPIC: NOTE" for each note. Cut short at cap. */
void desk_card_view_line(const struct desk_card_view *w, char *out, size_t cap);

#endif
