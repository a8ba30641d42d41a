/*
 * terminal.h - an offline terminal's transactions (firmware/core/TERMINAL.md):
 * one call per tap. A tap identifies the card, reads its verified view,
 * judges it against the loaded package (program, hot list, floor, expiry,
 * offline spend caps), runs the package's rules through the engine, writes
 * the card in one transaction (DESFire backup files + CommitTransaction,
 * Classic's other slot) and journals the operation or the refusal.
 *
 * The caller opens the pieces once (the journal with journal_open, the
 * package with package_load, the key source: a SAM or the software one of
 * firmware/core/sam.h) and hands them to terminal_open; the terminal keeps
 * pointers to them, never copies of keys. Keys are asked of the SAM per
 * card (diversified card keys, never a master).
 * Memory: struct terminal is the caller's; a tap uses about 8 KiB of stack
 * and no allocation. Freestanding: crypto through the provider, the card
 * through the port's reader.
 * Errors of terminal_tap (no journal entry was possible, or the card went
 * away): LEAL_E_ARG, LEAL_E_STATE (not open), LEAL_E_NO_CARD and the
 * reader's own, LEAL_E_JOURNAL_FULL (nothing written to the card), the
 * journal's storage errors. A refusal is LEAL_OK with result->outcome
 * TERMINAL_REFUSED and result->reason saying why; nothing is written then,
 * but for LEAL_E_TERMINAL_TMC_BEHIND, found at the commit: an EV2/EV3 whose
 * commit answered a TMC not above its package floor's (a copy or a clone;
 * the card took the write, journaled with its TMAC entry; TERMINAL.md). Such
 * a card is on the terminal's local hot list from then on (journal_sum.h),
 * its next taps refused after the read (LEAL_E_TERMINAL_LOCAL_HOT).
 */
#ifndef LEAL_TERMINAL_H
#define LEAL_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/desfire/desfire_card.h"
#include "firmware/core/journal.h"
#include "firmware/core/journal_sum.h"
#include "firmware/core/package.h"
#include "firmware/core/port.h"
#include "firmware/core/rules.h"
#include "firmware/core/sam.h"
#include "keys/base/err.h"
#include "keys/crypto.h"

/* Where the terminal stands (who it is, the SAM says). */
struct terminal_config {
    uint32_t store_id;          /* the rules' store (RULES.md); 0: none */
    uint32_t classic_purse_cap; /* the program's Classic purse cap, cents (0: no stored value) */
};

struct terminal_setup {
    const struct terminal_port *port; /* reader, clock, random (show is the caller's) */
    const struct crypto_provider *cp; /* the portable provider on a terminal */
    const struct sam *sam;            /* the keys, per card (firmware/core/sam.h) */
    struct terminal_config cfg;
    const struct package_terminal *package; /* loaded (package_load); may be reloaded in place */
    struct journal *journal;                /* open (journal_open) */
    /* Optional (NULL: every tap walks the journal's unacknowledged entries
     * for the caps, and terminal_open walks it all for the last operation):
     * the journal's running summary (journal_sum.h), rebuilt when it is not
     * current and kept by every append of the terminal. */
    struct journal_sum *sum;
};

enum terminal_op {
    TERMINAL_EARN = 1,     /* amount + items: points, stamps, tier */
    TERMINAL_PAY = 2,      /* pay from the purse */
    TERMINAL_PAY_EARN = 3, /* pay from the purse and earn on the sale */
    TERMINAL_REDEEM = 4,   /* item = reward id; amount = the sale a percent reward discounts */
    TERMINAL_STAMP = 5,    /* item = stamp card 0..3: one stamp */
    TERMINAL_BONO = 6,     /* item = bono kind id: one session */
    TERMINAL_VOID = 7,     /* this terminal's own last operation on this card */
    TERMINAL_BALANCE = 8,  /* read only */
    TERMINAL_TOPUP = 9,    /* always refused offline (no purse-credit key) */
};

struct terminal_request {
    uint8_t op;           /* enum terminal_op */
    int64_t amount_cents; /* EARN, PAY_EARN: the sale; REDEEM: the sale discounted; TOPUP */
    int64_t pay_cents;    /* PAY, PAY_EARN: taken from the purse */
    uint32_t item;        /* REDEEM reward id, STAMP card, BONO kind */
    uint8_t n_items;      /* EARN, PAY_EARN: category lines (rules_sale) */
    struct rules_item items[RULES_MAX_ITEMS];
};

enum terminal_outcome {
    TERMINAL_DONE = 1,    /* written and journaled */
    TERMINAL_REFUSED = 2, /* nothing written (but TMC_BEHIND, above); journaled with reason */
    TERMINAL_IN_DOUBT =
        3 /* the commit had no answer: journaled; the card's next tap here settles it */
};

struct terminal_result {
    uint8_t outcome; /* enum terminal_outcome */
    uint16_t reason; /* REFUSED: a leal_err saying why */
    uint8_t op;
    uint8_t card_kind; /* enum journal_card_kind */
    uint64_t card_id;
    struct state_body before, after;
    int32_t purse_before, purse_after;
    uint32_t taps_before, taps_after; /* DESFire taps, Classic seq (the journal's counter) */
    int64_t points;                   /* change */
    uint8_t n_lines;
    struct rules_line lines[RULES_MAX_LINES];
    uint16_t stamp_rewards[RULES_STAMP_CARDS]; /* stamp rewards granted at this tap */
    struct rules_redeemed redeemed;            /* REDEEM */
    uint16_t bono_left;                        /* BONO; VOID of a bono: the sessions back on it */
    uint8_t voided_op;                         /* VOID: the enum terminal_op it undid */
    uint32_t voided_item;                      /* VOID: that operation's reward, stamp card, bono */
    bool settled;             /* a torn commit of an earlier tap was settled first */
    uint8_t settled_item;     /* enum journal_settled */
    struct journal_key entry; /* the entry this tap journaled */
    unsigned round_trips;     /* card commands, every frame counted */
    bool ev2;                 /* DESFire: the tap ran under EV2 secure messaging */
    /* An EV2/EV3 with the Transaction MAC file (its package floor says so):
     * the commit answered TMC and TMV (tmac), journaled after it in a TMAC
     * entry (tmac_entry; JOURNAL.md "Transaction MAC entries"). tmac without
     * tmac_entry: the journal refused that append (the card committed). */
    bool tmac;
    uint32_t tmc;
    uint8_t tmv[8];
    struct journal_key tmac_entry;
};

/* What a void after a restart reads of the terminal's last operation's
 * entry (terminal.c before_from_journal): its fields and, from its lines,
 * the card's state before it and whether it gave the welcome; not the
 * entry itself (488 bytes of a microcontroller's RAM for the whole run). */
struct terminal_last_entry {
    uint8_t op; /* enum journal_op */
    uint8_t tier_after;
    uint8_t stamps_after[STATE_STAMPS];
    bool state_told; /* state_before from its state lines (JOURNAL.md) */
    bool welcomed;   /* a RULES_LINE_WELCOME line */
    int16_t quantity;
    int16_t utc_offset_minutes;
    uint16_t bono_left;
    uint32_t package_version, points_after, purse_after, amount_cents, item;
    int64_t points;
    uint64_t utc_seconds;
    struct state_body state_before;
};

#define TERMINAL_EV1_UIDS 16
#define TERMINAL_EV1_UID_LEN 7 /* a fixed-UID DESFire's UID */

struct terminal {
    struct terminal_setup s;
    struct sam_info who; /* the SAM's issuer, program and terminal */
    bool open;
    /* This terminal's last operation (void and the settling of a commit that
     * had no answer need it). terminal_open rebuilds it from the journal
     * (from_journal: the state before is worked out at the void from the card
     * as read and the entry); whether a commit had no answer is lost with
     * power: then the host settles. */
    struct {
        bool valid, in_doubt, from_journal;
        uint8_t op, card_kind;
        uint64_t card_id;
        struct journal_key entry;
        uint32_t taps_before, taps_after; /* the journal's counter */
        uint32_t seq_after;
        struct state_body before;
        struct bono_file before_bonos;
        bool write_state, write_bonos;
        int32_t purse_debit;
        uint32_t item;
        int16_t quantity;
        struct terminal_last_entry e; /* from_journal: of the operation's entry */
    } last;
    /* Fixed-UID DESFire cards whose tap here ran under AA and whose package
     * floor names them as EV1s (no EV2 flag): their next tap here sends
     * AuthenticateAES first, one exchange less than 71 then AA (TERMINAL.md
     * "Round trips"). The floor is checked again at every tap; RAM only,
     * oldest replaced first. */
    uint8_t ev1_uid[TERMINAL_EV1_UIDS][TERMINAL_EV1_UID_LEN];
    uint8_t ev1_count, ev1_next;
    /* Without a summary (s.sum NULL): the local hot list (journal_sum.h),
     * from terminal_open's walk of the journal and each append since. */
    struct journal_hot_list hot;
};

/* Checks the setup (port, journal open, package loaded) and keeps it; the
 * terminal's last operation is taken from the journal (a void after a
 * restart). */
LEAL_MUST_CHECK leal_err terminal_open(struct terminal *t, const struct terminal_setup *s);

/* The card in the field as the reader saw it at anticollision. */
enum terminal_card_type { TERMINAL_CARD_DESFIRE = 1, TERMINAL_CARD_CLASSIC = 2 };
struct terminal_card {
    uint8_t type; /* enum terminal_card_type (ISO 14443-4 DESFire; Classic 1K/4K) */
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len;
};

/* One tap of that card: *out filled for DONE, REFUSED and IN_DOUBT. */
LEAL_MUST_CHECK leal_err terminal_tap(struct terminal *t, const struct terminal_card *card,
                                      const struct terminal_request *req,
                                      struct terminal_result *out);

/* The store's civil time and local day (days since 1970) at now, as a tap
 * gives them to the rules engine (LEAL_E_STATE: a clock that is not set). */
LEAL_MUST_CHECK leal_err terminal_local_time(const struct port_time *now, struct rules_civil *local,
                                             uint32_t *day);

void terminal_close(struct terminal *t);

#endif
