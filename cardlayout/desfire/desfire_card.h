/*
 * desfire_card.h - the leal-card operations on MIFARE DESFire (LAYOUT.md 2)
 * that a desk and a terminal share: read the card's verified view (struct
 * card_view), write its state in a terminal's transaction, credit the purse in
 * two steps with its log record, personalise a card whose PICC master key is
 * leal's, verify a card just made, and bring the card's keys to the current
 * versions (keys/KEYS.md rotation).
 *
 * Keys come from the caller through struct desfire_card_keys, shaped like a
 * SAM: "the diversified key of role R at version V for this card". No
 * operation sees a master key or a key set. Card data is evidence: checked
 * here against the layout's rules, judged by the caller (ledger or package).
 *
 * Memory: struct desfire_card is the caller's (stack or static) and holds the
 * session; desfire_card_clear() wipes it. Freestanding: crypto through the
 * provider, the card through struct card_reader, no allocation.
 * Errors: desfire.h's; LEAL_E_CARD_NOT_LEAL (no leal application, or another
 * issuer's or program's identity), LEAL_E_CARD_TAMPERED (identity, state,
 * counter or a card just made break the rules; the terminal key does not open
 * the card), LEAL_E_CARD_KEY_VERSION (the key source lacks the version the
 * card carries: missing_role and missing_version say which),
 * LEAL_E_CARD_WORN_OUT (the counter is spent), LEAL_E_LAYOUT_VERSION, LEAL_E_ARG.
 */
#ifndef LEAL_DESFIRE_CARD_H
#define LEAL_DESFIRE_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_view.h"
#include "cardlayout/desfire/desfire.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/identity.h"
#include "cardlayout/records/log_record.h"
#include "cardlayout/records/state.h"
#include "keys/base/limits.h"
#include "keys/keyset.h"

/* The diversification input of one card (keys/derive.h): its UID, or the
 * card id (BE64) of a random-UID card. */
struct desfire_card_div {
    uint8_t id[LEAL_MAX_UID];
    size_t len;
};

/* Where the card keys come from (a keystore on the desk, a SAM or a
 * terminal's key store). card_key answers LEAL_E_KEY_VERSION for a version it
 * does not hold. Every member is required. */
struct desfire_card_keys {
    void *ctx;
    /* The version of role's key that cards are made and brought to now. */
    leal_err (*current_version)(void *ctx, enum key_role role, uint8_t *version);
    /* The key of role at version, diversified for this card and application. */
    leal_err (*card_key)(void *ctx, const struct desfire_card_div *card, enum key_role role,
                         uint8_t version, const uint8_t aid[3], uint8_t out[16]);
};

struct desfire_card_setup {
    const struct card_reader *reader;
    const struct crypto_provider *cp;
    const struct desfire_card_keys *keys;
    uint32_t issuer_id; /* the cards this caller may read and write */
    uint32_t program_id;
    const uint8_t *uid; /* the UID the reader saw at anticollision */
    size_t uid_len;
};

/* How desfire_card_auth authenticates (the session's kind is then d.ev2). */
enum desfire_card_sm {
    /* EV1's AES authentication (AA): an EV1, a card the desk does not know
     * as EV2/EV3, and the desk's erase (its ChangeKey back to the factory
     * DES key is an EV1 cryptogram). */
    DESFIRE_CARD_SM_AA = 0,
    /* AuthenticateEV2First and EV2 secure messaging; a card that answers 71
     * with ILLEGAL_COMMAND is taken as an EV1 and opened with AA (sm turns
     * DESFIRE_CARD_SM_AA). The terminal's taps: the card's kind is not known
     * before the read, and the package's floor says afterwards whether an
     * AA session on that card is a downgrade (terminal.c judge). */
    DESFIRE_CARD_SM_EV2_FIRST,
    /* AuthenticateEV2First only: a card known as EV2/EV3 (the desk: from
     * GetVersion at issuance, then from the ledger's record), every key of
     * every operation, ChangeKey included; a card answering 71 as an EV1
     * is refused. */
    DESFIRE_CARD_SM_EV2,
};

struct desfire_card {
    struct desfire d; /* the driver: round trips and bytes counted there */
    uint8_t sm;       /* enum desfire_card_sm; desfire_card_open sets AA */
    const struct desfire_card_keys *keys;
    uint32_t issuer_id, program_id;
    uint8_t rf_uid[LEAL_MAX_UID];
    size_t rf_uid_len;
    bool random_uid; /* 4-byte UID starting 08 (libfreefare PR #42); the real one: GetCardUID */
    struct desfire_card_div div;
    /* The version of each role's key the card carries, as far as this contact
     * knows (0: not known), indexed by enum key_role. A caller that keeps
     * records (the ledger) fills it between identify and read. */
    uint8_t ver[KEY_ROLE_COUNT + 1];
    uint8_t missing_role, missing_version; /* LEAL_E_CARD_KEY_VERSION */
    /* desfire_card_tap_read on a random-UID card, once its plain identity gave
     * the card id and before the authentication: may set sm (a terminal whose
     * package names the card as an EV1 sends AA first). NULL: none. */
    void (*sm_pick)(void *ctx, struct desfire_card *c, uint64_t card_id);
    void *sm_ctx;
    /* desfire_card_tap_read, right after the state read (the card id known):
     * true when the card's TMC stands for its counter (an EV2/EV3 with the
     * Transaction MAC file, LAYOUT.md 2.7 "what 6 needs"): the counter is
     * then neither read (out's counter and taps 0, no_counter set) nor
     * debited by desfire_card_stage, and the TMC that
     * desfire_card_commit_tmac answers is the card-enforced count. NULL:
     * the counter is read and debited. Called with sm_ctx. */
    bool (*counter_skip)(void *ctx, uint64_t card_id, uint8_t layout_version);
    bool no_counter; /* this session's tap skips the counter (counter_skip said so) */
};

/* What personalisation writes: the identity (issued_day from the caller's
 * clock), the opening state and bonos (a replacement's: the account's), and
 * the purse's upper limit (the program's cap, which stays with the card). */
struct desfire_card_issue {
    struct identity identity;
    struct state_body state;
    struct bono_file bonos;
    int32_t purse_cap;
    bool app_created; /* the PICC's setup created the (empty) application */
    /* An EV2/EV3: the Transaction MAC file 0x0F is created (LAYOUT.md 2.9),
     * keyed with role KEY_ROLE_TMAC's current version, after the opening
     * commit (a new card's TMC is 0). */
    bool tmac;
};

extern const uint8_t desfire_card_picc_aid[3];
extern const uint8_t desfire_card_leal_aid[3];
extern const uint8_t desfire_card_df_name[LAYOUT_DF_NAME_LEN];

/* Never fails; uid_len over LEAL_MAX_UID is cut (such a card reads as not leal's). */
void desfire_card_open(struct desfire_card *c, const struct desfire_card_setup *s);
/* Ends the session, wipes every secret; c may be NULL. */
void desfire_card_clear(struct desfire_card *c);
/* The diversification input once the card id is known (a random-UID card's
 * keys are diversified with it). */
void desfire_card_set_card_id(struct desfire_card *c, uint64_t card_id);
/* IDENTITY_DESFIRE_EV1/EV2/EV3 from GetVersion's hardware major version, 0
 * for anything else (a D40's 3DES keys come out by power analysis: Oswald
 * and Paar, CHES 2011). */
uint8_t desfire_card_kind(const struct desfire_version *v);

/* SelectApplication leal and the plain identity (2 RT): out's identity fields
 * (set before the issuer and program are checked, for the caller's message)
 * and the diversification input. */
LEAL_MUST_CHECK leal_err desfire_card_identify(struct desfire_card *c, struct card_view *out);
/* After identify: authenticates with the terminal key (key 2; c->ver's
 * version, else the identity's key-set version) and reads what
 * a terminal reads (state MACed and whole, purse, counter, newest log record: 6 RT;
 * a version-2 card's bonos + 1; random-UID + GetCardUID), into out. A card
 * whose Transaction MAC file the caller knows of (c->ver[KEY_ROLE_TMAC] set
 * between identify and read, LAYOUT.md 2.9): + ReadData 0x0F (MACed, 1 RT)
 * into out's TMC and TMV; such a card without the file:
 * LEAL_E_CARD_TMAC_MISSING. The session stays open under key 2. */
LEAL_MUST_CHECK leal_err desfire_card_read(struct desfire_card *c, struct card_view *out);
/* Authenticates key_no of the application or PICC selected with the version
 * of role the card carries (c->ver, else the current one); when that fails,
 * with the version the card's key version byte names (GetKeyVersion: +1 RT,
 * only while a rotation reaches the card). The byte only picks the key; the
 * authentication proves it. */
LEAL_MUST_CHECK leal_err desfire_card_auth(struct desfire_card *c, uint8_t key_no,
                                           enum key_role role, const uint8_t aid[3]);
/* SelectApplication leal and the terminal key (3 RT): a terminal's transaction. */
LEAL_MUST_CHECK leal_err desfire_card_terminal_session(struct desfire_card *c);
/* Every card key to its current version, right after a read: *stale says the
 * card's versions were not all known to be current (then c->ver holds what it
 * carries now, for the caller to record), *rekeyed how many keys changed.
 * Application keys 2 and 1, then 0 (its change ends the session), then the
 * PICC master key; each ChangeKey is atomic and writes its version byte, so a
 * tear leaves keys that each open with the version the card names. */
LEAL_MUST_CHECK leal_err desfire_card_rekey(struct desfire_card *c, bool *stale, unsigned *rekeyed);
/* Under the terminal key (a read or terminal_session): the state file with
 * next (at layout 3 its mirror v's purse less purse_debit), the purse
 * debited by purse_debit (0: untouched), the counter debited by 1, committed
 * (3 or 4 RT). v (the card as read) is brought to what the card now holds. */
LEAL_MUST_CHECK leal_err desfire_card_write_state(struct desfire_card *c,
                                                  const struct state_body *next,
                                                  int32_t purse_debit, struct card_view *v);
/* Layout version 1 to 2 (LAYOUT.md 4.3), right after a read of a version-1
 * card (v->layout_version 1; else LEAL_E_ARG): the application master key
 * (key 0), CreateBackupDataFile 06, then the empty bono file and the state
 * at seq + 1 with version 02 in one commit: 6 RT. A torn upgrade's file
 * answers DUPLICATE and is kept (key 0 again: 8 RT). A tear before the
 * commit leaves a version-1 card (its state still says 01); v follows. */
LEAL_MUST_CHECK leal_err desfire_card_upgrade(struct desfire_card *c, struct card_view *v);
/* Under the terminal key (a read or terminal_session) of a version-2 card
 * (else LEAL_E_ARG): the bono file with next, the counter debited by 1,
 * committed (3 RT; LAYOUT.md 4.4): a session used, or a desk's sale. v is
 * brought to what the card then holds. */
LEAL_MUST_CHECK leal_err desfire_card_write_bonos(struct desfire_card *c,
                                                  const struct bono_file *next,
                                                  struct card_view *v);
/* What a terminal's tap reads besides the state and the counter. */
#define DESFIRE_CARD_TAP_PURSE 0x01u /* GetValue purse (+1 RT) */
#define DESFIRE_CARD_TAP_BONOS 0x02u /* ReadData bonos on a version-2 card (+1 RT) */
/* With TAP_PURSE: on a layout-3 card the state's purse mirror stands for
 * GetValue purse (LAYOUT.md 2.10: no RT). Without TAP_PURSE a layout-3
 * card's purse_cents is its mirror too (what its next state write carries). */
#define DESFIRE_CARD_TAP_MIRROR 0x04u
/* A terminal's read at the start of a tap (LAYOUT.md 2.7, TERMINAL.md):
 * SelectApplication, the terminal key (key 2, 2 RT, as c->sm says: under
 * DESFIRE_CARD_SM_EV2_FIRST an EV1 answers 71 first, +1; a random-UID card
 * reads its plain identity first, +1, for the card id its keys are
 * diversified with), ReadData state (MACed), GetValue counter (not when
 * c->counter_skip says the card's TMC stands for it: c->no_counter), then
 * what want asks: 5 RT at the least (4 without the counter). out gets the
 * card id (from the state file), the program's ids, layout version, state,
 * counter and taps, purse and bonos as asked; its identity fields beyond
 * the ids are not read. When the terminal key does not open the card, the
 * plain identity is read to say why (+1 RT): LEAL_E_CARD_NOT_LEAL for
 * another issuer's or program's card (out's ids then say whose), else
 * LEAL_E_CARD_TAMPERED. The session stays open under key 2 for
 * desfire_card_stage. */
LEAL_MUST_CHECK leal_err desfire_card_tap_read(struct desfire_card *c, unsigned want,
                                               struct card_view *out);
/* The writes of one terminal transaction, staged under key 2 and taking
 * effect only at desfire_card_commit: the state file (NULL: untouched), the
 * bono file (NULL: untouched; a version-2 card only), the purse debited
 * (purse_debit) or given back by LimitedCredit (purse_back: the card allows
 * only its most recent debit's amount, once), and the counter debited by 1
 * (not when the tap read skipped it: c->no_counter). Each is one RT. */
struct desfire_card_change {
    const struct state_body *state;
    const struct bono_file *bonos;
    int32_t purse_debit;
    int32_t purse_back;
};
LEAL_MUST_CHECK leal_err desfire_card_stage(struct desfire_card *c,
                                            const struct desfire_card_change *ch,
                                            const struct card_view *v);
/* CommitTransaction (1 RT): the staged writes take effect together. An
 * error here leaves the caller not knowing whether they did ("commit sent,
 * no answer"): the card's counter says so at its next read. */
LEAL_MUST_CHECK leal_err desfire_card_commit(struct desfire_card *c);
/* The same on an EV2/EV3 with the Transaction MAC file (LAYOUT.md 2.9):
 * CommitTransaction with its option, so the answer (MACed) gives the TMC and
 * TMV the card computed over the transaction (no extra RT). */
LEAL_MUST_CHECK leal_err desfire_card_commit_tmac(struct desfire_card *c, uint32_t *tmc,
                                                  uint8_t tmv[8]);
/* A host purse credit, step 1: SelectApplication, the purse-credit key (key
 * 1), GetValue counter (4 RT); LEAL_E_CARD_WORN_OUT when it can move no more. */
LEAL_MUST_CHECK leal_err desfire_card_credit_begin(struct desfire_card *c, int32_t *counter);
/* Step 2: Credit purse, Debit counter, WriteRecord rec, Commit (4 RT). v
 * (NULL: none; required for a layout-3 card, whose state it gives) is
 * brought to what the card then holds: purse, counter, taps, its newest log
 * record. A layout-3 card (LAYOUT.md 2.10): WriteData state first (key 1 is
 * the file's RW), v's state at seq + 1 with the mirror v's purse + cents
 * (5 RT; v's state follows). */
LEAL_MUST_CHECK leal_err desfire_card_credit_commit(struct desfire_card *c, int32_t cents,
                                                    const struct log_record *rec,
                                                    struct card_view *v);
/* With a session under the PICC master key and no leal application (or,
 * with p->app_created, an empty one the PICC's setup just created): creates
 * the application (1 RT) and its files (LAYOUT.md 2.2-2.3 and 4.2's bono
 * file), writes identity, state (layout version 2; 3 with p->tmac: the
 * 36-byte file, mirror 0, then ChangeFileSettings to RW key 1, +1 RT,
 * LAYOUT.md 2.10), the empty bono file and
 * the log record {op 1}, commits, and changes keys 2, 1, then 0 to their
 * current versions (until key 0 changes, a torn card is redone from the PICC
 * key): 17 RT after the application. real_uid (NULL: not asked): a
 * random-UID card's UID, read under key 0 before anything is created in the
 * application (GetCardUID, +1 RT). The session ends. */
LEAL_MUST_CHECK leal_err desfire_card_personalise(struct desfire_card *c,
                                                  const struct desfire_card_issue *p,
                                                  uint8_t *real_uid);
/* An EV2/EV3 issued before the Transaction MAC file (LAYOUT.md 2.9) given it
 * at the desk: SelectApplication, the application master key (key 0), then
 * with known 0 (no file on record) CreateTransactionMACFile 0x0F keyed with
 * role KEY_ROLE_TMAC's current version (4 RT; *made). A file already there
 * (a torn call's, its answer lost) answers DUPLICATE, which ends the
 * session: key 0 again and GetFileSettings (+3 RT). With known non-zero
 * (the caller records a file), GetFileSettings alone (4 RT). *version: the
 * version the card's file was made with (c->ver follows). Nothing else is
 * written and nothing committed: the TMC stays 0. LEAL_E_CARD_FILE_NOT_FOUND:
 * known, and the card has no file; LEAL_E_CARD_TAMPERED: a file 0x0F not made
 * as LAYOUT.md 2.9 says; an EV1 answers LEAL_E_CARD_ILLEGAL_COMMAND. */
LEAL_MUST_CHECK leal_err desfire_card_add_tmac(struct desfire_card *c, uint8_t known,
                                               uint8_t *version, bool *made);
/* What a card just personalised with p holds, as a read would give it
 * (purse 0, no taps, the log record {op 1}); uid: its real UID. */
void desfire_card_issued_view(const struct desfire_card *c, const struct desfire_card_issue *p,
                              const uint8_t *uid, size_t uid_len, struct card_view *out);
/* A card just made, verified as a terminal opens it: the terminal key at its
 * current version, then the state file read back (MACed, whole) and compared
 * with expect's card id, state and, at layout 3, purse as the mirror (3 RT;
 * LEAL_E_CARD_TAMPERED if it differs). The
 * rest of expect is what the caller wrote, each write's answer checked. */
LEAL_MUST_CHECK leal_err desfire_card_verify(struct desfire_card *c,
                                             const struct card_view *expect);

#endif
