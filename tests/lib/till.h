/*
 * till.h - an offline terminal in a unit test (firmware/core/terminal.h):
 * the desk fixture's keystore (program 7) behind a SAM-shaped key source,
 * a signed package built here (rules, hot list, floors, caps) and loaded as
 * a terminal loads it, a journal in RAM storage, a settable clock, the
 * portable crypto provider, and the desk fixture's virtual card through
 * the sim: reader. Cards are made here the desk's way (OpenSSL, the
 * keystore's masters): DESFire personalised with a purse credit and a bono,
 * Classic personalised with stored value. Two tills can share one card (a
 * re-tap at a second terminal).
 */
#ifndef LEAL_TEST_TILL_H
#define LEAL_TEST_TILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/desfire/desfire_card.h"
#include "firmware/core/terminal.h"
#include "firmware/port/posix/ram_storage.h"
#include "tests/lib/desk_fixture.h"

#define TILL_CARD_ID 100000000042ULL
#define TILL_NOW 1780000000ULL /* 2026-05-28 20:26:40 UTC, a Thursday */
#define TILL_JOURNAL_UNIT 4096u
#define TILL_JOURNAL_UNITS 4u

/* What the package carries besides the rules (till_rules). */
struct till_package {
    uint32_t program_id; /* 0: 7 */
    const struct package_hot *hot;
    uint32_t hot_count;
    const struct package_floor *floors;
    uint32_t floor_count;
    const struct package_pending *pending; /* host changes waiting (PACKAGE.md) */
    uint32_t pending_count;
    uint32_t cap_day_cents, cap_sync_cents; /* 0, 0: 100.00 and 300.00 */
    uint64_t valid_until;                   /* 0: a week from TILL_NOW */
    void (*rules)(struct rules_set *s);     /* NULL: till_rules */
    uint32_t version;                       /* the package's version; 0: 4 */
};

struct till {
    struct fixture *f;
    uint32_t terminal_id, program_id;
    struct crypto_provider cp; /* portable */
    uint8_t jmem[TILL_JOURNAL_UNIT * TILL_JOURNAL_UNITS];
    uint8_t pmem[2 * 4096];
    struct ram_storage js, ps;
    struct journal j;
    uint8_t *package;
    uint32_t package_len;
    struct package_terminal pkg;
    struct sam sam;
    struct terminal_port port;
    struct port_time now;
    struct reader *r;
    struct terminal t;
    struct journal_sum sum; /* the terminal's summary (journal_sum.h); a restart loses it */
    bool wrong_seal;        /* the SAM gives a seal key that opens no record */
};

/* The rule set every till's package carries: 1 point a euro; rule 77
 * doubles category 3 (cafe), 5 points a card a day at most; stamp card 0: one stamp per sale, 3
 * give reward 9; rewards 5 (product 1234, 10 points) and 6 (voucher 2.00, 30 points); bono kind 21
 * (5 sessions). */
void till_rules(struct rules_set *s);

/* Opens a till on f (its keystore and card file) with terminal id id; pp
 * NULL: program 7, no hot list or floors, default caps and validity (the
 * package then the same for an id every time: loaded at its first open,
 * copied at the later ones). */
void till_open(struct till *t, struct fixture *f, uint32_t id, const struct till_package *pp);
void till_close(struct till *t);
/* A later package (pp's version above the loaded one's) loaded in place, as
 * a terminal loads one while it runs. */
void till_load(struct till *t, const struct till_package *pp);
/* The host's acknowledgment of every entry of the till's journal, applied. */
void till_ack(struct till *t);
/* The terminal restarted: closed, its journal opened again from the same
 * storage (clean), the terminal opened on it, the card presented again. */
void till_restart(struct till *t);
/* The card file in the field of this till's reader (opened again: after a
 * tear, a new reader session, as when the card comes back). */
void till_present(struct till *t);
/* A request: op with its sale amount, purse payment and item. */
struct terminal_request till_request(uint8_t op, int64_t amount, int64_t pay, uint32_t item);
/* One tap of the card in the field. */
leal_err till_tap(struct till *t, const struct terminal_request *q, struct terminal_result *out);
/* The journal's newest entry, and the entries after the EPOCH (n at most). */
void till_last_entry(struct till *t, struct journal_entry *e);
/* e's state lines (JOURNAL_LINE_STATE) are there, the pair before its host
 * line (if any), and say exactly before. */
void till_expect_state_lines(const struct journal_entry *e, const struct state_body *before);
unsigned till_entries(struct till *t, struct journal_entry *out, unsigned n);
/* A tap of q refused for reason: one more entry, a refusal of the card in the
 * field (its kind) naming q's operation, the card's counter unmoved. Returns
 * the tap's round trips. */
unsigned till_expect_refused(struct till *t, const struct terminal_request *q, leal_err reason);
/* The card in the field as the desk reads it (DESFire) or a terminal's
 * balance reads it (Classic), then presented again to this till. */
void till_expect_desfire(struct till *t, uint32_t seq, uint32_t points, int32_t purse,
                         uint32_t taps);
void till_expect_classic(struct till *t, uint32_t seq, uint32_t points, uint32_t purse);
/* Randomness for keystores made in a test (OpenSSL's). */
leal_err till_openssl_random(uint8_t *out, size_t n);

/* A DESFire EV1 (UID 04 11 22 33 44 55 66), card TILL_CARD_ID of program 7
 * with 25 points, a purse credited with purse_cents (0: none, no tap) and,
 * when bono_sessions > 0, bono 21 with that many sessions (a desk's sale: 1
 * tap more). */
void till_make_desfire(struct fixture *f, int32_t purse_cents, uint16_t bono_sessions);
/* The same, random_uid: a random-UID card (its anticollision UID 08 and 3
 * random bytes, new at each activation; keys diversified with the card id,
 * LAYOUT.md 2.4). */
void till_make_desfire_uid(struct fixture *f, int32_t purse_cents, uint16_t bono_sessions,
                           bool random_uid);
/* The same with the Transaction MAC file 0x0F (LAYOUT.md 2.9; EV2/EV3 only),
 * keyed with the fixture's tmac key, as issuance makes it. */
/* Issued now: layout version 3, the state's purse mirror (LAYOUT.md 2.10). */
void till_make_desfire_tmac(struct fixture *f, const char *type, int32_t purse_cents,
                            uint16_t bono_sessions, bool random_uid);
/* A layout-2 card (issued before layout 3) given the file by the desk's
 * upgrade (desfire_card_add_tmac): pays read the purse and the counter. */
void till_make_desfire_tmac_v2(struct fixture *f, const char *type, int32_t purse_cents,
                               uint16_t bono_sessions, bool random_uid);
/* The fixed-UID card's tmac key (its UID's diversification, the fixture's
 * current tmac version): what the host checks its TMVs with. */
void till_tmac_key(struct fixture *f, uint8_t key[16]);
/* The desk's session with the fixture's card (its keystore's keys, kept in
 * *keys, which must outlive c): the reader to close after
 * desfire_card_clear(c). */
struct reader *till_desk_session(struct fixture *f, struct desfire_card_keys *keys,
                                 struct desfire_card *c);
/* The same on a virtual card of type ("desfire-ev1", "desfire-ev2" or
 * "desfire-ev3"; the identity names that chip). */
void till_make_desfire_type(struct fixture *f, const char *type, int32_t purse_cents,
                            uint16_t bono_sessions, bool random_uid);
/* The card in f->card read the desk's way (identify + read, keystore keys). */
void till_read_desfire(struct fixture *f, struct card_view *v);
/* The Classic card in f->card as a terminal's balance reads it (a till of
 * its own, terminal 99, its Ed25519 verify OpenSSL's). */
struct classic_record_state;
void till_read_classic(struct fixture *f, struct classic_record_state *st);
/* A MIFARE Classic 1K (UID 0A 0B 0C 0D), card TILL_CARD_ID of program 7
 * with 25 points and stored value (purse purse_cents, cap 100.00). */
void till_make_classic(struct fixture *f, uint32_t purse_cents);

#endif
