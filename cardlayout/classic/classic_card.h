/*
 * classic_card.h - the leal sectors of a MIFARE Classic card through struct
 * card_reader (LAYOUT.md 3): read the MAD, the sealed identity span and both
 * state slots with key A, write a state slot with key A, and personalise a
 * blank card from its transport key (data blocks first, trailer last in each
 * sector, since the keys change with it). Every call counts its reader calls
 * (auth, read or write: one round trip each) in round_trips.
 * classic_card_read_view is the verified read a terminal and the desk share:
 * blocks moved here, records opened and the purse rule applied by
 * classic_record.h (once, there).
 * Freestanding; keys are the caller's diversified per-card keys
 * (classic_keys.h), never a master. Errors: the reader's
 * (LEAL_E_CARD_AUTHENTICATION for a wrong key, LEAL_E_CARD_PERMISSION_DENIED
 * when access bits refuse, LEAL_E_CARD_REMOVED), classic_record.h's,
 * LEAL_E_ARG.
 */
#ifndef LEAL_CLASSIC_CARD_H
#define LEAL_CLASSIC_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "cardlayout/card_view.h"
#include "cardlayout/records/classic_record.h"

#define CLASSIC_CARD_SECTORS 6 /* leal uses sectors 0..5 */
/* The state seq a new card starts at: taps are counted from it. */
#define CLASSIC_CARD_INITIAL_SEQ 1u

/* Keys A and B of sectors 0..5 (key A of sector 0 is the public MAD key). */
struct classic_card_keys {
    uint8_t a[CLASSIC_CARD_SECTORS][6];
    uint8_t b[CLASSIC_CARD_SECTORS][6];
};

struct classic_card {
    const struct card_reader *reader;
    unsigned round_trips;
    /* Sector + 1 that classic_card_probe left open with the transport key A
     * (0: none); every other call closes it. */
    unsigned transport_open;
};

/* What opens a sector: the transport key A (blank), leal's key B, or neither.
 */
enum classic_card_sector {
    CLASSIC_CARD_SECTOR_TRANSPORT,
    CLASSIC_CARD_SECTOR_LEAL,
    CLASSIC_CARD_SECTOR_FOREIGN
};

/* A SAM-shaped source of one card's record keys, never a master or the key
 * set: the nth version (nth 0: the current one, then the older ones still
 * accepted, newest first) of the card's diversified seal key and of the
 * package public key, with its version number; LEAL_E_NOT_FOUND past the
 * last. A terminal offers one of each (classic_card_keyring_one); the desk
 * every version its keystore holds, so records sealed or signed before a
 * rotation still open. */
struct classic_card_keyring {
    const struct crypto_provider *cp;
    void *ctx;
    leal_err (*seal)(void *ctx, unsigned nth, uint8_t key[32], uint8_t *version);
    leal_err (*package_public)(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version);
};

/* One seal key and one package public key (version 1 each), for a keyring. */
struct classic_card_one_key {
    uint8_t seal[32];
    uint8_t package_pub[32];
};
void classic_card_keyring_one(const struct crypto_provider *cp, struct classic_card_one_key *one,
                              struct classic_card_keyring *ring);

/* What a verified read needs of one card: its diversified sector keys, its
 * record keys, its UID, the issuer and program it must belong to, and the
 * program's Classic purse cap in cents (0: stored value off on Classic). */
struct classic_card_secrets {
    const struct classic_card_keys *keys;
    const struct classic_card_keyring *ring;
    const uint8_t *uid;
    size_t uid_len;
    uint32_t issuer_id;
    uint32_t program_id;
    uint32_t purse_cap;
};

/* A card as a terminal reads it: identity verified, the current state slot
 * selected and judged by the purse rule, and that slot's SIV tag (its mark);
 * for a writer that re-keys, the versions each record opened with (0: it did
 * not) and both slots as read, re-sealed in memory under the current seal key.
 */
struct classic_card_view {
    struct identity id;
    struct classic_record_state state;
    unsigned current; /* the current slot: the next write goes to the other one */
    uint8_t mark[16];
    uint8_t id_seal_version, id_package_version, slot_seal_version[2];
    uint8_t slot[2][CLASSIC_RECORD_STATE_SPAN];
    uint8_t slot_tag[2][16]; /* each slot's SIV tag as on the card */
};

void classic_card_init(struct classic_card *c, const struct card_reader *reader);

/* One authentication (1 RT) and one block write (1 RT), for callers that
 * re-key or repair sectors themselves. */
LEAL_MUST_CHECK leal_err classic_card_auth(struct classic_card *c, unsigned sector, uint8_t type,
                                           const uint8_t key[6]);
LEAL_MUST_CHECK leal_err classic_card_write_block(struct classic_card *c, unsigned block,
                                                  const uint8_t data[16]);

/* Which key opens each of sectors 0..5: the transport key A (1 RT), else key
 * B of k (1 RT more). Sectors are tried 5 down to 0, so on a blank card sector
 * 0 is left open and classic_card_personalise starts there without a second
 * authentication. A foreign sector is reported, never an error. */
LEAL_MUST_CHECK leal_err classic_card_probe(struct classic_card *c, const uint8_t transport_key[6],
                                            const struct classic_card_keys *k,
                                            enum classic_card_sector st[CLASSIC_CARD_SECTORS]);
/* A sector under key B of k back to the transport state: data blocks zero,
 * then the trailer FFFFFFFFFFFF FF0780 69 FFFFFFFFFFFF: 5 RT (sector 0: 4). */
LEAL_MUST_CHECK leal_err classic_card_to_transport(struct classic_card *c,
                                                   const struct classic_card_keys *k,
                                                   unsigned sector);

/* The MAD v1 blocks 1-2 (32 bytes), with the public key A: 3 round trips. */
LEAL_MUST_CHECK leal_err classic_card_read_mad(struct classic_card *c, uint8_t mad[32]);
/* The identity span (blocks 4-6, 8-10, 12-13) with key A: 11 round trips. */
LEAL_MUST_CHECK leal_err classic_card_read_identity(struct classic_card *c,
                                                    const struct classic_card_keys *k,
                                                    uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN]);
/* Slot 0 (sector 4) with key A, and sector 5 opened with its key A without
 * reading it: a card just personalised (slot 1 never written): 5 round trips.
 */
LEAL_MUST_CHECK leal_err classic_card_read_issued_state(struct classic_card *c,
                                                        const struct classic_card_keys *k,
                                                        uint8_t slot0[CLASSIC_RECORD_STATE_SPAN]);
/* Both state slots (sectors 4 and 5) with key A: 8 round trips. */
LEAL_MUST_CHECK leal_err classic_card_read_state(struct classic_card *c,
                                                 const struct classic_card_keys *k,
                                                 uint8_t slot0[CLASSIC_RECORD_STATE_SPAN],
                                                 uint8_t slot1[CLASSIC_RECORD_STATE_SPAN]);
/* One state slot with key A: 4 round trips. */
LEAL_MUST_CHECK leal_err classic_card_write_state(struct classic_card *c,
                                                  const struct classic_card_keys *k, unsigned slot,
                                                  const uint8_t span[CLASSIC_RECORD_STATE_SPAN]);
/* The trailer of sector 0..5 with keys k and LAYOUT.md 3.1's access bits,
 * after an authentication with the sector's key B (a re-key): 1 round trip. */
LEAL_MUST_CHECK leal_err classic_card_write_trailer(struct classic_card *c,
                                                    const struct classic_card_keys *k,
                                                    unsigned sector);
/* A blank card (every sector 0..5 opens with transport key A) to leal's layout:
 * MAD, identity, slot 0 = state, and the trailers of LAYOUT.md 3.1. Slot 1
 * keeps its blocks (a slot that does not open is invalid; nothing sealed for
 * this card can be there): 25 round trips, 24 right after a probe that left
 * sector 0 open. */
LEAL_MUST_CHECK leal_err classic_card_personalise(
    struct classic_card *c, const uint8_t transport_key[6], const struct classic_card_keys *k,
    const uint8_t identity[CLASSIC_RECORD_IDENTITY_SPAN],
    const uint8_t state[CLASSIC_RECORD_STATE_SPAN]);

/* The identity span opened under whichever of ring's seal and package
 * versions sealed and signed it (a wrong seal fails at the SIV tag, so the
 * package keys are tried only under the seal that opens); versions[0] and [1]
 * get the seal and package versions. No I/O. */
LEAL_MUST_CHECK leal_err classic_card_open_identity(
    const struct classic_card_keyring *ring, const uint8_t span[CLASSIC_RECORD_IDENTITY_SPAN],
    const uint8_t *uid, size_t uid_len, struct identity *id, uint8_t versions[2]);
/* Each slot of v->slot opened under whichever seal version wrote it for
 * card_id and re-sealed in memory under the current one, so the selection
 * rules judge both together; v->slot_seal_version[i] 0 where slot i does not
 * open, v->slot_tag the tags as they were. No I/O. */
LEAL_MUST_CHECK leal_err classic_card_normalise_slots(const struct classic_card_keyring *ring,
                                                      uint64_t card_id,
                                                      struct classic_card_view *v);

/* The verified read in two halves, for a desk that repairs a torn identity in
 * between. The identity (11 RT) opened, verified against the UID, and of s's
 * issuer and program (LEAL_E_CARD_NOT_LEAL when key A does not open its
 * sectors; LEAL_E_CARD_TAMPERED when it does not open or verify). */
LEAL_MUST_CHECK leal_err classic_card_read_view_identity(struct classic_card *c,
                                                         const struct classic_card_secrets *s,
                                                         struct classic_card_view *v);
/* Then both slots (8 RT; just_personalised: slot 0 and sector 5 opened, 5 RT,
 * slot 1 taken as never written), normalised, the current one selected and the
 * purse rule applied to it by the codec (flag bit 1 of the identity, cap from
 * s). */
LEAL_MUST_CHECK leal_err classic_card_read_view_state(struct classic_card *c,
                                                      const struct classic_card_secrets *s,
                                                      bool just_personalised,
                                                      struct classic_card_view *v);
/* The next state of a card read into v, sealed for the other slot under the
 * current seal key: next's seq is set here to v's + 1 (serial arithmetic);
 * the rest is the caller's. No I/O: a writer may record its intent (the SIV
 * tag at span + 2) before the card is touched. */
LEAL_MUST_CHECK leal_err classic_card_seal_next(const struct classic_card_secrets *s,
                                                const struct classic_card_view *v,
                                                struct classic_record_state *next,
                                                uint8_t span[CLASSIC_RECORD_STATE_SPAN]);
/* That span written to the other slot (4 RT; a torn write leaves the current
 * slot winning), then v moved to it: current slot, state, mark. */
LEAL_MUST_CHECK leal_err classic_card_write_next(struct classic_card *c,
                                                 const struct classic_card_secrets *s,
                                                 const struct classic_record_state *next,
                                                 const uint8_t span[CLASSIC_RECORD_STATE_SPAN],
                                                 struct classic_card_view *v);
/* Both halves: the read of LAYOUT.md 3.3, 19 RT. */
LEAL_MUST_CHECK leal_err classic_card_read_view(struct classic_card *c,
                                                const struct classic_card_secrets *s,
                                                struct classic_card_view *out);

/* A verified read (v, of the card whose UID s gives) as the view both card
 * types share (card_view.h): identity, UID, state and purse, taps (the
 * current slot's seq less CLASSIC_CARD_INITIAL_SEQ), that slot and its SIV
 * tag as the mark, and the versions of the seal and package keys that opened
 * the identity (key_version[KEY_ROLE_CLASSIC_SEAL], [KEY_ROLE_PACKAGE_SIGNING]).
 * The sector keys' versions stay 0: classic_card_keys carries none, the
 * caller knows them. */
void classic_card_fill_view(const struct classic_card_view *v, const struct classic_card_secrets *s,
                            struct card_view *out);

#endif
