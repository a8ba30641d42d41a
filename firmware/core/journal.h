/*
 * journal.h - the terminal journal (firmware/core/JOURNAL.md): every
 * operation and refusal of an offline terminal, each entry AES-CMACed with
 * the terminal's journal key (KEYS.md) and chained to the one before, kept in
 * erase units of a port_storage (port.h), exported for the host and erased
 * only after the host's acknowledgment.
 *
 * Storage: fixed 512-byte slots, used in order round the units as a ring;
 * one entry per slot. An append programs one slot and reads it back; when it
 * enters a unit it first erases that unit, and only if nothing in it is
 * unacknowledged (else LEAL_E_JOURNAL_FULL: never truncated before an ack).
 * Power loss at any byte of an append loses at most that entry, and
 * journal_open says so (JOURNAL_TORN, the lost sequence) and writes a
 * RECOVERY entry in its place; earlier entries are never touched.
 * RAM: struct journal (120 bytes); about 3 KiB of stack at the deepest
 * (journal_open writing its EPOCH or RECOVERY entry); no allocation.
 * Errors: LEAL_E_ARG, LEAL_E_STATE (not open, or failed: open again),
 * LEAL_E_JOURNAL_* (err.h), the storage's and the provider's own.
 * Freestanding.
 */
#ifndef LEAL_JOURNAL_H
#define LEAL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/desfire/desfire_tmac.h"
#include "firmware/core/port.h"
#include "firmware/core/rules.h"
#include "keys/base/err.h"
#include "keys/crypto.h"

#define JOURNAL_FORMAT_VERSION 1
#define JOURNAL_SLOT 512 /* bytes per slot; a unit holds unit_size / 512 */
#define JOURNAL_MAX_LINES                                                                          \
    (RULES_MAX_LINES + 3) /* 22: every line an earn can have, its two state lines, a host line */
/* A line's source beyond the engine's (enum rules_source): host-decided changes
 * applied to the card at this tap (firmware/core/terminal_pending.h). */
#define JOURNAL_LINE_HOST 0x10
/* The QR line (JOURNAL.md "QR entries"): the last line of every entry of card
 * kind JOURNAL_CARD_QR whose token parsed: rule index = the code's kind
 * (1 static, 2 spending), id = the phone's counter, points = its time step
 * (both 0 for a static code). */
#define JOURNAL_LINE_QR 0x11
/* The state lines (JOURNAL.md "State lines"): two, rule index 1 then 2, after
 * an earn's or a pay + earn's engine lines and before its host line: the
 * card's state before the operation (what a void restores), so a void after a
 * restart undoes a period roll and the stamps of every stamp card. Index 1:
 * id = points, points = tier, stamps[0..3], period (BE16), 00; index 2:
 * id = seq, points = buckets[0..3] (BE16 each). */
#define JOURNAL_LINE_STATE 0x12
#define JOURNAL_STATE_LINES 2
/* The Transaction MAC lines (JOURNAL.md "Transaction MAC entries"): the
 * lines of a JOURNAL_OP_TMAC entry, rule index 1, 2, 3, .. in order. Index 1:
 * id = the TMC CommitTransaction answered, points = its TMV (8 bytes, read
 * as bytes); index 2: id = the counter value read, points = the purse value
 * read (BE32) || the purse amount moved (BE32); index 3 on: the card's
 * file bytes the transaction read and wrote, 12 a line (id, then points),
 * the last line's tail zero. */
#define JOURNAL_LINE_TMAC 0x13
#define JOURNAL_QR_STATIC 1 /* the QR line's code kinds (QR_KIND_STATIC, QR_KIND_SPEND) */
#define JOURNAL_QR_SPEND 2
#define JOURNAL_FIXED_LEN 112 /* entry bytes before the lines */
#define JOURNAL_LINE_LEN 14
#define JOURNAL_MAC_LEN 16
#define JOURNAL_ENTRY_MIN (JOURNAL_FIXED_LEN + JOURNAL_MAC_LEN)
#define JOURNAL_ENTRY_MAX                                                                          \
    (JOURNAL_FIXED_LEN + JOURNAL_MAX_LINES * JOURNAL_LINE_LEN + JOURNAL_MAC_LEN)
#define JOURNAL_EXPORT_HEADER_LEN 32
#define JOURNAL_ACK_LEN 56
#define JOURNAL_MAX_PROBLEMS 8 /* problems a report lists (it counts them all) */

enum journal_op {
    JOURNAL_OP_EARN = 0x01,
    JOURNAL_OP_PAY = 0x02,
    JOURNAL_OP_PAY_EARN = 0x03,
    JOURNAL_OP_REDEEM = 0x04,
    JOURNAL_OP_STAMP = 0x05,
    JOURNAL_OP_BONO = 0x06,
    JOURNAL_OP_VOID = 0x07,
    JOURNAL_OP_BALANCE = 0x08,
    JOURNAL_OP_REFUSAL = 0x09,
    JOURNAL_OP_SETTLE = 0x0A, /* what a card shows of a commit that had no answer */
    JOURNAL_OP_TMAC = 0x0B,   /* an EV2/EV3's TMC and TMV of the operation ref names */
    /* Written by the journal itself: */
    JOURNAL_OP_EPOCH = 0x10,    /* first entry of an epoch */
    JOURNAL_OP_RECOVERY = 0x11, /* stands in for an entry torn by power loss */
    JOURNAL_OP_ACK = 0x12,      /* the host acknowledged up to (ref epoch, ref seq) */
};

/* SETTLE's item: what the card's own counter says of the commit. UNKNOWN:
 * the card at the entry's counter and seq after, which another terminal's
 * commit reaches too (the card names no writer): the host decides. DONE is
 * no longer written (a journal from before may hold it: read as UNKNOWN). */
enum journal_settled {
    JOURNAL_SETTLED_DONE = 1,
    JOURNAL_SETTLED_NOT_DONE = 2,
    JOURNAL_SETTLED_UNKNOWN = 3
};

enum journal_card_kind {
    JOURNAL_CARD_NONE = 0,
    JOURNAL_CARD_DESFIRE = 1,
    JOURNAL_CARD_CLASSIC = 2,
    JOURNAL_CARD_QR = 3 /* a QR code (cardlayout/qr/QR.md): card id = its virtual card id */
};

struct journal_line {
    uint8_t source;     /* enum rules_source */
    uint8_t rule_index; /* RULE: index in the program */
    uint32_t id;        /* RULE: rule id; TIER: tier */
    int64_t points;
};

/* One entry, decoded. JOURNAL.md "Entry" says what each field holds for
 * each operation; a field an operation does not use is 0. */
struct journal_entry {
    uint8_t op;        /* enum journal_op */
    uint8_t card_kind; /* enum journal_card_kind */
    uint8_t n_lines;   /* 0 .. JOURNAL_MAX_LINES */
    uint32_t terminal_id;
    uint32_t epoch; /* >= 1 */
    uint32_t seq;   /* >= 1, from 1 in each epoch */
    uint64_t utc_seconds;
    int16_t utc_offset_minutes;
    uint16_t reason; /* a leal_err: why refused, why an epoch began; 0 otherwise */
    uint64_t card_id;
    uint32_t counter_before, counter_after; /* DESFire taps, Classic seq */
    uint32_t package_version;
    uint32_t ref_epoch, ref_seq; /* the entry this one is about (void, recovery, ack, epoch) */
    uint32_t item;               /* reward id, stamp card, bono kind, refused operation */
    uint32_t amount_cents;       /* the sale */
    uint32_t purse_cents;        /* taken from the purse (void: given back) */
    int64_t points;              /* change of the card's points */
    int16_t quantity;            /* stamps given, bono sessions used (negative: undone) */
    uint16_t bono_left;
    uint32_t points_after, purse_after;
    uint8_t tier_after;
    uint8_t stamps_after[STATE_STAMPS];
    uint8_t prev_mac[JOURNAL_MAC_LEN]; /* the previous entry's MAC; zeros at seq 1 */
    struct journal_line lines[JOURNAL_MAX_LINES];
    uint8_t mac[JOURNAL_MAC_LEN];
};

/* What a TMAC entry carries (JOURNAL.md "Transaction MAC entries"): the
 * TMC and TMV the card answered at its CommitTransaction, and every input of
 * the card's Transaction MAC the entry's operation gave it, so the host,
 * holding the card's tmac key, recomputes the TMV. flags (the entry's item)
 * say which commands ran beside ReadData state, GetValue counter and Debit
 * counter 1, which every such transaction has but one with NO_COUNTER. */
#define JOURNAL_TMAC_PURSE_READ 0x01     /* GetValue purse */
#define JOURNAL_TMAC_BONOS_READ 0x02     /* ReadData bono file */
#define JOURNAL_TMAC_STATE_WRITTEN 0x04  /* WriteData state */
#define JOURNAL_TMAC_BONOS_WRITTEN 0x08  /* WriteData bono file */
#define JOURNAL_TMAC_DEBIT 0x10          /* Debit purse, purse_moved */
#define JOURNAL_TMAC_LIMITED_CREDIT 0x20 /* LimitedCredit purse, purse_moved */
/* Neither GetValue counter nor Debit counter: a tap whose TMC stands for the
 * counter (LAYOUT.md 2.7 "what 6 needs"); counter is then 0. */
#define JOURNAL_TMAC_NO_COUNTER 0x40
/* A layout-3 card (cardlayout/LAYOUT.md 2.10): its state file is 36 bytes,
 * the 32 the entry carries then the purse mirror (BE u32), which the entry
 * does not repeat: purse is the mirror read (no GetValue purse, so never
 * with PURSE_READ), the mirror written is purse less a DEBIT's purse_moved
 * or plus a LIMITED_CREDIT's (journal_tmac_state). */
#define JOURNAL_TMAC_MIRROR 0x80
/* The counter before and after of every entry of a DESFire tap that did not
 * read the counter (its TMC stands for it, JOURNAL_TMAC_NO_COUNTER; JOURNAL.md
 * "Counters"): the operation's entry, its TMAC entry, a refusal or settle
 * of that tap. No card's taps reach it (they end at 0x7FFFFFFF). */
#define JOURNAL_COUNTER_NONE 0xFFFFFFFFu
#define JOURNAL_TMAC_FLAGS 0xFF
#define JOURNAL_TMAC_BYTES_MAX (2 * STATE_FILE_LEN + 2 * JOURNAL_TMAC_BONO_LEN)
#define JOURNAL_TMAC_BONO_LEN 34 /* cardlayout/records/bono.h BONO_FILE_LEN */
struct journal_tmac {
    uint32_t tmc;
    uint8_t tmv[8];
    uint32_t flags;      /* JOURNAL_TMAC_* */
    int32_t counter;     /* GetValue counter; 0 with NO_COUNTER */
    int32_t purse;       /* GetValue purse (PURSE_READ), the mirror read (MIRROR), else 0 */
    int32_t purse_moved; /* DEBIT or LIMITED_CREDIT's amount, else 0 */
    uint8_t state_before[STATE_FILE_LEN], state_after[STATE_FILE_LEN];
    uint8_t bonos_before[JOURNAL_TMAC_BONO_LEN], bonos_after[JOURNAL_TMAC_BONO_LEN];
};
/* The card's Transaction MAC input of the transaction t describes, in the
 * order a terminal's tap sends its commands (cardlayout/desfire/
 * desfire_card.c: ReadData state, GetValue counter, GetValue purse, ReadData
 * bonos; WriteData state, WriteData bonos, Debit or LimitedCredit purse,
 * Debit counter 1): with the card's tmac key, desfire_tmv of it at t->tmc
 * is the TMV the card answered, if t is what the card did. */
LEAL_MUST_CHECK leal_err journal_tmac_tmi(const struct journal_tmac *t, struct desfire_tmi *tmi);
/* The state file read (after false) or written (true) as the card took it
 * in its TMI: the 32 bytes t carries and, with JOURNAL_TMAC_MIRROR, the
 * mirror (36 bytes). LEAL_E_JOURNAL_MALFORMED: a mirror flag on a state
 * that is not layout 3, or a mirror out of range. */
LEAL_MUST_CHECK leal_err journal_tmac_state(const struct journal_tmac *t, bool after,
                                            uint8_t out[STATE_FILE_MAX], size_t *len);
/* e's item and lines from t (e's other fields are the caller's). */
void journal_tmac_put(const struct journal_tmac *t, struct journal_entry *e);
/* t from a TMAC entry's item and lines; LEAL_E_JOURNAL_MALFORMED if e is
 * not one or its lines are not as JOURNAL.md says. */
LEAL_MUST_CHECK leal_err journal_tmac_get(const struct journal_entry *e, struct journal_tmac *t);

/* The two state lines of before (JOURNAL_LINE_STATE) into out[0..1]. */
void journal_state_lines(const struct state_body *before, struct journal_line out[2]);

/* The state before the operation from e's state lines: *found false (and
 * *out zeroed) when e has none (an entry written before they existed). */
void journal_state_of(const struct journal_entry *e, struct state_body *out, bool *found);

/* Bytes the encoding of an entry with n_lines lines takes. */
size_t journal_entry_len(uint8_t n_lines);

/* Encodes e and computes its MAC under key into e->mac and the last 16 bytes
 * of out. LEAL_E_JOURNAL_MALFORMED if e breaks a field rule, LEAL_E_NO_SPACE
 * if cap is short. */
LEAL_MUST_CHECK leal_err journal_entry_seal(const struct crypto_provider *cp, const uint8_t key[16],
                                            struct journal_entry *e, uint8_t *out, size_t cap,
                                            size_t *len);

/* The length of the entry at the start of p from its line count (the bytes
 * need not all be there): LEAL_E_TRUNCATED if fewer than 4 bytes,
 * LEAL_E_JOURNAL_FORMAT_VERSION, LEAL_E_JOURNAL_MALFORMED. */
LEAL_MUST_CHECK leal_err journal_entry_peek_len(const uint8_t *p, size_t avail, size_t *len);

/* Decodes exactly one entry of len bytes (structure only, no MAC check).
 * LEAL_E_JOURNAL_FORMAT_VERSION, LEAL_E_JOURNAL_MALFORMED; *out zeroed on
 * error. */
LEAL_MUST_CHECK leal_err journal_entry_decode(const uint8_t *p, size_t len,
                                              struct journal_entry *out);

/* LEAL_OK if the entry's MAC (its last 16 bytes) is right under key,
 * LEAL_E_JOURNAL_MAC if not (compared in constant time). */
LEAL_MUST_CHECK leal_err journal_entry_check_mac(const struct crypto_provider *cp,
                                                 const uint8_t key[16], const uint8_t *p,
                                                 size_t len);

/* Who the journal belongs to, from the terminal's bundle (KEYS.md). */
struct journal_config {
    uint32_t program_id;
    uint32_t terminal_id; /* != 0 */
    uint8_t key_version;  /* the journal master version the key came from */
    uint8_t key[16];      /* the terminal's own journal key */
};

/* A position in the journal's storage: a slot index and what is there. */
struct journal_key {
    uint32_t epoch, seq; /* (0, 0): none */
};

/* An open journal. Fields are private. */
struct journal {
    const struct port_storage *st;
    const struct crypto_provider *cp;
    struct journal_config cfg;
    uint32_t slots, slots_per_unit;
    uint8_t state; /* 0 closed, 1 open, 2 failed (open again) */
    bool has_head;
    uint32_t head_slot; /* newest entry */
    struct journal_key head;
    uint8_t head_mac[JOURNAL_MAC_LEN];
    uint32_t next_slot;       /* where the next append goes */
    struct journal_key acked; /* the host acknowledged every entry up to it */
    bool has_unacked;
    uint32_t oldest_unacked_slot;
    uint32_t unacked; /* entries after acked */
    uint64_t last_ack_utc;
};

enum journal_status {
    JOURNAL_CLEAN = 0,   /* every entry in order, nothing lost */
    JOURNAL_FRESH = 1,   /* blank storage: a new epoch began */
    JOURNAL_TORN = 2,    /* the last append was torn: lost_seq is gone, a RECOVERY stands in */
    JOURNAL_DAMAGED = 3, /* problems below: a new epoch began */
};

struct journal_problem {
    uint16_t code; /* LEAL_E_JOURNAL_MAC, LEAL_E_JOURNAL_CHAIN */
    uint32_t slot;
    uint32_t epoch, seq; /* the entry at fault (its own if readable, else the one expected) */
};

/* What journal_open found and did. */
struct journal_report {
    uint8_t status;          /* enum journal_status */
    struct journal_key lost; /* TORN: the entry lost */
    struct journal_key head; /* the newest entry after open (its EPOCH or RECOVERY included) */
    struct journal_key acked;
    uint32_t entries; /* valid entries in storage */
    uint32_t unacked; /* of them, after the acknowledged one */
    uint32_t n_problems;
    struct journal_problem problems[JOURNAL_MAX_PROBLEMS];
};

/* Opens the journal in st: verifies every slot, finds the newest entry and
 * the acknowledged point, checks sequence and chain of what is not
 * acknowledged, and reports it. Blank storage begins an epoch; a torn last
 * append gets its RECOVERY entry; any other damage begins a new epoch
 * (JOURNAL.md "Opening"). The new epoch number is max(the newest epoch + 1,
 * now's UTC seconds, 1), so an epoch never repeats while the clock is sane.
 * cfg's key is copied (journal_close wipes it). LEAL_E_JOURNAL_MAC if nothing
 * verifies, something is written and no unit is blank (nothing is erased);
 * LEAL_E_JOURNAL_FULL if its own entry found no slot: open for reading and
 * export only. Any other error leaves it closed. */
LEAL_MUST_CHECK leal_err journal_open(struct journal *j, const struct port_storage *st,
                                      const struct crypto_provider *cp,
                                      const struct journal_config *cfg, const struct port_time *now,
                                      struct journal_report *rep);

/* Appends e: the journal fills terminal id, epoch, sequence, the previous
 * MAC and the MAC (e is updated with them). Returns once the entry is
 * durable. LEAL_E_JOURNAL_FULL if the unit it needs holds unacknowledged
 * entries; on a storage error the journal is failed until journal_open. */
LEAL_MUST_CHECK leal_err journal_append(struct journal *j, struct journal_entry *e);

/* A bounded iterator over the entries in storage order, oldest first. */
struct journal_iter {
    uint32_t slot;
    uint32_t left; /* slots still to look at */
};

/* From the oldest entry in storage (acknowledged ones included) or from the
 * oldest unacknowledged one. */
void journal_iter_begin(const struct journal *j, struct journal_iter *it, bool unacked_only);

/* The next valid entry into *out (and its bytes into raw/raw_len when raw is
 * not NULL, raw holding JOURNAL_ENTRY_MAX); *done when there is none left.
 * Slots that do not verify are skipped. */
LEAL_MUST_CHECK leal_err journal_iter_next(const struct journal *j, struct journal_iter *it,
                                           struct journal_entry *out, uint8_t *raw, size_t *raw_len,
                                           bool *done);

/* The valid entry in slot whose key is key (LEAL_E_NOT_FOUND if the slot
 * holds anything else): one read, the MAC checked. For journal_sum.h, which
 * remembers where the terminal's last operation is. */
LEAL_MUST_CHECK leal_err journal_entry_at(const struct journal *j, uint32_t slot,
                                          struct journal_key key, struct journal_entry *out);

/* What an export says (JOURNAL.md "Export"). */
struct journal_export_info {
    uint8_t key_version;
    uint32_t program_id;
    uint32_t terminal_id;
    uint32_t epoch;
    uint32_t first_seq, last_seq;
    uint32_t count;
    size_t len;                        /* bytes of the whole export */
    uint8_t last_mac[JOURNAL_MAC_LEN]; /* the last entry's MAC: what an ack names */
    uint8_t export_mac[JOURNAL_MAC_LEN];
};

/* Writes the unacknowledged entries of the oldest unacknowledged epoch, as
 * many whole ones as fit in cap, as an export into out. Changes nothing in
 * storage. LEAL_E_JOURNAL_EMPTY if every entry is acknowledged,
 * LEAL_E_NO_SPACE if not even one entry fits. */
LEAL_MUST_CHECK leal_err journal_export(const struct journal *j, uint8_t *out, size_t cap,
                                        struct journal_export_info *info);

/* Parses an export's structure (header, each entry, the end): no MACs.
 * LEAL_E_JOURNAL_MALFORMED, LEAL_E_JOURNAL_FORMAT_VERSION. */
LEAL_MUST_CHECK leal_err journal_export_parse(const uint8_t *p, size_t len,
                                              struct journal_export_info *info);

/* journal_export_parse, then what the host checks (JOURNAL.md "What the host
 * checks"): the export MAC, each entry's MAC, terminal and epoch, sequences
 * consecutive from first to last, each entry's previous MAC the MAC before
 * it (and zero at sequence 1). On LEAL_E_JOURNAL_MAC or LEAL_E_JOURNAL_CHAIN
 * *bad_seq names the entry at fault (0: the export as a whole). */
LEAL_MUST_CHECK leal_err journal_export_verify(const struct crypto_provider *cp,
                                               const uint8_t key[16], const uint8_t *p, size_t len,
                                               struct journal_export_info *info, uint32_t *bad_seq);

/* The i-th entry (0-based) of a parsed export. */
LEAL_MUST_CHECK leal_err journal_export_entry(const uint8_t *p, size_t len, uint32_t i,
                                              struct journal_entry *out);

/* The host's acknowledgment (JOURNAL.md "Acknowledgment"). */
struct journal_ack {
    uint8_t key_version;
    uint32_t program_id;
    uint32_t terminal_id;
    uint32_t epoch, seq;                /* the last entry the host took */
    uint8_t entry_mac[JOURNAL_MAC_LEN]; /* that entry's MAC */
};

/* Encodes and MACs an ack under the terminal's journal key (the host derives
 * it from the journal master). */
LEAL_MUST_CHECK leal_err journal_ack_encode(const struct crypto_provider *cp, const uint8_t key[16],
                                            const struct journal_ack *a,
                                            uint8_t out[JOURNAL_ACK_LEN]);

/* Parses and verifies an ack: LEAL_E_JOURNAL_MALFORMED,
 * LEAL_E_JOURNAL_FORMAT_VERSION, LEAL_E_JOURNAL_MAC. */
LEAL_MUST_CHECK leal_err journal_ack_decode(const struct crypto_provider *cp, const uint8_t key[16],
                                            const uint8_t *p, size_t len, struct journal_ack *out);

/* Applies an ack: verified, for this program and terminal
 * (LEAL_E_JOURNAL_TERMINAL), newer than the acknowledged point
 * (LEAL_E_JOURNAL_ACK_STALE: a replay or an old one), naming an entry this
 * journal holds with that very MAC (LEAL_E_JOURNAL_ACK_UNKNOWN). Then appends
 * an ACK entry; only after that may units of acknowledged entries be erased.
 * On any refusal nothing changes. */
LEAL_MUST_CHECK leal_err journal_ack(struct journal *j, const uint8_t *p, size_t len,
                                     const struct port_time *now);

/* What `leal-terminal status` shows of the journal. */
struct journal_status_info {
    struct journal_key head;  /* the newest entry */
    struct journal_key acked; /* (0, 0): never acknowledged */
    uint64_t last_ack_utc;    /* when the newest ack was applied (0: never) */
    uint32_t unacked;         /* entries the host has not acknowledged */
    uint32_t slots;           /* the storage's slots */
    uint32_t slots_used;      /* from the oldest unacknowledged entry to the head */
    uint32_t appends_left;    /* caller's appends that fit before LEAL_E_JOURNAL_FULL */
};

/* The journal's figures; LEAL_E_STATE if it is not open. */
LEAL_MUST_CHECK leal_err journal_status(const struct journal *j, struct journal_status_info *out);

/* Wipes the key; the journal must be opened again. */
void journal_close(struct journal *j);

#endif
