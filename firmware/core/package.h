/*
 * package.h - the signed terminal package (firmware/core/PACKAGE.md): its
 * encoder, its verifier and the lookups a terminal makes in it.
 *
 * A terminal keeps the package in storage it reads through a caller-supplied
 * bounded read callback (flash, a file); nothing here holds the package in
 * RAM. RAM bound, independent of the package's size:
 *   package_load / package_verify: a 1,056-byte hash link (chain value and
 *     one block), a 1,024-byte chunk of whole records while the lists are
 *     checked, a 64-byte signature and a 49-byte signed message on the
 *     stack, about 2.2 KiB at the deepest, plus struct package_info;
 *     package_load then decodes the rules (package_rules: the section read
 *     whole into a RULES_CODEC_MAX_LEN (2,026-byte) buffer and a struct
 *     rules_versioned, about 4.3 KiB of stack, after the verify's has returned;
 *     package_load_into decodes them straight into its caller's terminal:
 *     the 2,026-byte buffer only; package_rules_in, for a package in
 *     memory, decodes them where they lie: no buffer);
 *   package_hot_find / package_floor_find: one record (9 or 28 bytes) and a
 *     few integers: a binary search over the sorted fixed-width records,
 *     at most 21 (hot list) or 23 (floors) reads for the largest lists.
 * The signature covers every byte before it through a SHA-256 chain over
 * 1,024-byte blocks (PACKAGE.md "Signature"), so the crypto provider's
 * one-shot SHA-256 and Ed25519 verify suffice.
 *
 * Refusals, each its own code: LEAL_E_PACKAGE_FORMAT_VERSION (unknown format
 * version), LEAL_E_PACKAGE_FORMAT_OLD (format 1: no store, zone or Classic
 * cap; the operator builds a new one), LEAL_E_PACKAGE_MALFORMED (wrong magic, truncated, oversized,
 * reserved bytes set, counts over the limits), LEAL_E_PACKAGE_UNSORTED (hot
 * list or floors not strictly ascending), LEAL_E_PACKAGE_KEY_VERSION (signed
 * with a key version the terminal does not hold), LEAL_E_PACKAGE_SIGNATURE,
 * LEAL_E_PACKAGE_PROGRAM, LEAL_E_PACKAGE_TERMINAL, LEAL_E_PACKAGE_EXPIRED,
 * LEAL_E_PACKAGE_OLDER (version lower than
 * the loaded one), LEAL_E_PACKAGE_SAME (the loaded version again),
 * LEAL_E_PACKAGE_RULES (package_load: the rule set does not decode);
 * a read callback's own error is passed through.
 * Freestanding: no allocation, no stdio, no OS.
 */
#ifndef LEAL_PACKAGE_H
#define LEAL_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/rules_codec.h"
#include "keys/base/err.h"
#include "keys/crypto.h"

#define PACKAGE_FORMAT_VERSION 2
#define PACKAGE_FORMAT_OLDEST 1 /* format 1: refused with LEAL_E_PACKAGE_FORMAT_OLD */
#define PACKAGE_HEADER_LEN 60
#define PACKAGE_HOT_RECORD_LEN 9
#define PACKAGE_FLOOR_RECORD_LEN 28
#define PACKAGE_PENDING_RECORD_LEN 24
#define PACKAGE_SITE_LEN 32
#define PACKAGE_CAPS_LEN 8
#define PACKAGE_SIGNATURE_LEN 64
#define PACKAGE_MAX_RULES 65536u     /* bytes of the rules blob */
#define PACKAGE_MAX_HOT 1000000u     /* hot-listed cards */
#define PACKAGE_MAX_FLOORS 4000000u  /* per-card floors */
#define PACKAGE_MAX_PENDING 1000000u /* cards with host changes waiting */
#define PACKAGE_MAX_NAMES_LEN 16384u /* bytes of the names section */
#define PACKAGE_NAME_MAX 63          /* bytes of one name (UTF-8) */
#define PACKAGE_NAME_HEAD 6          /* kind, item, length */
#define PACKAGE_HASH_BLOCK 1024u     /* bytes per link of the signed hash chain */
#define PACKAGE_SIGNED_MSG_LEN 49    /* what Ed25519 signs (PACKAGE.md) */
#define PACKAGE_MAX_KEYS 16          /* package public keys a terminal holds */
/* The largest package: header, rules, lists, names, site, caps, signature
 * (< 2^32). */
#define PACKAGE_MAX_SIZE                                                                           \
    ((uint32_t)PACKAGE_HEADER_LEN + PACKAGE_MAX_RULES + PACKAGE_MAX_HOT * PACKAGE_HOT_RECORD_LEN + \
     PACKAGE_MAX_FLOORS * PACKAGE_FLOOR_RECORD_LEN +                                               \
     PACKAGE_MAX_PENDING * PACKAGE_PENDING_RECORD_LEN + PACKAGE_MAX_NAMES_LEN + PACKAGE_SITE_LEN + \
     PACKAGE_CAPS_LEN + PACKAGE_SIGNATURE_LEN)

/* Why a card is on the hot list (the ledger's card status). */
enum package_hot_reason { PACKAGE_HOT_BLOCKED = 1, PACKAGE_HOT_LOST = 2, PACKAGE_HOT_REPLACED = 3 };

/* Which counter a floor is about. */
enum package_floor_kind { PACKAGE_FLOOR_DESFIRE = 1, PACKAGE_FLOOR_CLASSIC = 2 };
#define PACKAGE_FLOOR_TAG_KNOWN 0x01 /* flags bit 0: tag holds the state's mark */
/* flags bit 1 (DESFire): issued as an EV2/EV3, so a tap authenticates it with
 * EV2 secure messaging and refuses an AA session (LEAL_E_CARD_EV2_DOWNGRADE). */
#define PACKAGE_FLOOR_EV2 0x02
/* flags bit 2 (with bit 1): the card has the Transaction MAC file 0x0F
 * (cardlayout/LAYOUT.md 2.9; the ledger recorded its tmac key), so a tap
 * commits asking for TMC and TMV and journals them (JOURNAL.md). */
#define PACKAGE_FLOOR_TMAC 0x04
#define PACKAGE_FLOOR_TAG_LEN 8

struct package_hot {
    uint64_t card_id;
    uint8_t reason; /* enum package_hot_reason */
};

/* What a host-decided change was made of (bits of package_pending.kinds). */
#define PACKAGE_CHANGE_ADJUST 0x01  /* points adjusted by hand, + or - */
#define PACKAGE_CHANGE_BONUS 0x02   /* birthday or campaign bonus */
#define PACKAGE_CHANGE_EXPIRED 0x04 /* points expired by the ledger's lots */
#define PACKAGE_CHANGE_REWARD 0x08  /* a reward cancelled: its points given back */
/* Not a change: a phone's points the ledger holds for it to redeem offline
 * (cardlayout/qr/QR.md "Redeeming with a spending code"); the record's card
 * is the phone's virtual card, points the allowance (> 0), up to entry the
 * newest ledger entry of the hold; alone, never with another bit. */
#define PACKAGE_CHANGE_QR_ALLOWANCE 0x10
/* Not what the changes are made of but how they are guarded (PACKAGE.md
 * "Exactly once"): the record also names the card's state seq at taps (its
 * low 24 bits, in bytes 21..23), and a terminal applies it only to a card
 * whose state shows that seq, so a tap that reads no counter before its
 * write (a card with the Transaction MAC file) still applies it once. With
 * a change bit, never with the QR allowance. A terminal older than it
 * refuses the package whole (an unknown bit). */
#define PACKAGE_CHANGE_AT_SEQ 0x20
#define PACKAGE_CHANGE_KNOWN 0x3F
/* The state seq bits an at-seq record carries (a card's state file takes
 * far fewer writes in its life than 2^24: DESFire EEPROM is rated for
 * 500,000 cycles). */
#define PACKAGE_PENDING_SEQ_MASK 0xFFFFFFu

/* Host-decided changes waiting for one card (PACKAGE.md "Pending changes"):
 * applied only to a card that shows exactly taps (as a floor counts them:
 * the card is as the host last saw it, so no terminal applied them yet);
 * the ledger's entries up to upto_entry, net points. */
struct package_pending {
    uint64_t card_id;
    uint32_t taps;       /* DESFire 0x7FFFFFFF - counter; Classic state seq - 1 */
    uint32_t upto_entry; /* the newest ledger entry they include; not 0 */
    int32_t points;      /* net change, + or -; never INT32_MIN */
    uint8_t kinds;       /* PACKAGE_CHANGE_* (not 0) */
    /* QR allowance only (0 in any other record): the account's tier as the
     * host reckoned it for local period tier_period (RULES.md 3; months
     * since 2000-01, plus 1), so the phone's taps in that period earn and
     * redeem at it as a card's would; 0 and 0 when the account has none. */
    uint8_t tier;         /* 0..RULES_MAX_TIERS */
    uint16_t tier_period; /* not 0 exactly when tier is not 0 */
    /* PACKAGE_CHANGE_AT_SEQ only (0 in any other record): the card's state
     * seq at taps, its low 24 bits (PACKAGE_PENDING_SEQ_MASK). */
    uint32_t seq;
};

/* What a name names (PACKAGE.md "Names"), and the item it is keyed by. */
enum package_name_kind {
    PACKAGE_NAME_TIER = 1,   /* item: tier 1..7 */
    PACKAGE_NAME_STAMP = 2,  /* item: stamp card 0..3 */
    PACKAGE_NAME_REWARD = 3, /* item: reward id */
    PACKAGE_NAME_BONO = 4,   /* item: bono kind id */
    PACKAGE_NAME_STORE = 5,  /* item: store id */
};

struct package_name {
    uint8_t kind; /* enum package_name_kind */
    uint32_t item;
    uint8_t len;                     /* 1..PACKAGE_NAME_MAX */
    char text[PACKAGE_NAME_MAX + 1]; /* UTF-8, NUL-terminated on reading */
};

/* A daylight-saving transition rule: the week-th weekday of month (week 5:
 * the last), at time_seconds of local time then in force (POSIX TZ "Mm.w.d/t"). */
struct package_zone_rule {
    uint8_t month;        /* 1..12 */
    uint8_t week;         /* 1..5 */
    uint8_t weekday;      /* 0 Sunday .. 6 */
    int32_t time_seconds; /* -604800..604800 */
};

/* The store's time zone as rules (PACKAGE.md "Site"): a terminal computes
 * its local time offline with package_local_offset. */
struct package_zone {
    int16_t std_minutes; /* offset from UTC outside daylight saving, -1080..1080 */
    int16_t dst_minutes; /* during it (= std_minutes when has_dst is false) */
    bool has_dst;
    struct package_zone_rule start, end; /* zero when !has_dst */
};

/* Where the terminal stands: its store, its zone, the Classic purse cap. */
struct package_site {
    uint32_t store_id;                /* 0: none named */
    uint32_t classic_purse_cap_cents; /* 0: Classic stored value off */
    struct package_zone zone;
};

struct package_floor {
    uint64_t card_id;
    uint8_t kind;  /* enum package_floor_kind */
    uint8_t flags; /* PACKAGE_FLOOR_TAG_KNOWN, PACKAGE_FLOOR_EV2, PACKAGE_FLOOR_TMAC */
    uint32_t taps; /* committed transactions the host last saw (0 = none known) */
    /* Bytes 16..19 of the record, by the flags: with PACKAGE_FLOOR_TAG_KNOWN
     * the state seq the tag belongs to; with PACKAGE_FLOOR_TMAC (never with
     * a tag) the TMC floor, package_floor_tmc; 0 otherwise. */
    uint32_t seq;
    uint8_t tag[PACKAGE_FLOOR_TAG_LEN];
};

/* A Transaction MAC floor's TMC: the highest TMC the host proved with the
 * card's tmac key (0: none yet, or no such floor). A commit answering a TMC
 * not above it is a copy or a clone (terminal.c, TERMINAL.md). */
static inline uint32_t package_floor_tmc(const struct package_floor *f)
{
    return (f->flags & PACKAGE_FLOOR_TMAC) != 0 ? f->seq : 0;
}

/* Storage holding a package: read len bytes at offset into out, or fail. The
 * verifier never asks beyond size. */
struct package_source {
    leal_err (*read)(void *ctx, uint32_t offset, uint8_t *out, size_t len);
    void *ctx;
    uint32_t size;
};

/* What a package says, once verified (offsets are into its source). */
struct package_info {
    uint8_t format_version;
    uint8_t key_version;
    uint32_t program_id;
    uint32_t terminal_id;
    uint32_t version;
    uint64_t issued;      /* seconds since 1970 UTC */
    uint64_t valid_until; /* refused from this second on */
    uint32_t rules_len;
    uint32_t hot_count;
    uint32_t floor_count;
    uint32_t pending_count;
    uint32_t names_len;
    uint32_t cap_day_cents;
    uint32_t cap_sync_cents;
    struct package_site site;
    uint32_t rules_offset;
    uint32_t hot_offset;
    uint32_t floor_offset;
    uint32_t pending_offset;
    uint32_t names_offset;
    uint32_t size;
};

/* One package public key of the terminal's bundle. */
struct package_key {
    uint8_t version;
    uint8_t public_key[CRYPTO_ED25519_PUBLIC];
};

/* What the terminal expects of a package. */
struct package_expect {
    uint32_t program_id;
    uint32_t terminal_id;
    uint64_t now;            /* seconds since 1970 UTC */
    uint32_t loaded_version; /* 0: none loaded yet */
    const struct package_key *keys;
    size_t nkeys;
};

/* A terminal's loaded package and its decoded rule set: replaced only by
 * package_load's success. */
struct package_terminal {
    bool loaded;
    struct package_info info;
    struct package_source source;
    struct rules_versioned rules; /* the Rules section, decoded: what the engine runs */
};

/* Everything a package carries, for the encoder (the host builds it). */
struct package_contents {
    uint8_t key_version;
    uint32_t program_id;
    uint32_t terminal_id;
    uint32_t version;
    uint64_t issued;
    uint64_t valid_until;
    const uint8_t *rules;
    uint32_t rules_len;
    const struct package_hot *hot; /* sorted by card id, strictly */
    uint32_t hot_count;
    const struct package_floor *floors; /* sorted by card id, strictly */
    uint32_t floor_count;
    const struct package_pending *pending; /* sorted by card id, strictly */
    uint32_t pending_count;
    const struct package_name *names; /* sorted by (kind, item), strictly; text len bytes */
    uint32_t name_count;
    struct package_site site;
    uint32_t cap_day_cents;
    uint32_t cap_sync_cents;
};

/* Bytes the encoding of c takes, signature included (LEAL_E_PACKAGE_MALFORMED
 * if c breaks a limit or a rule). */
LEAL_MUST_CHECK leal_err package_encoded_size(const struct package_contents *c, uint32_t *size);

/* Writes everything before the signature (size - 64 bytes) into out, and the
 * message the signature is made over (PACKAGE_SIGNED_MSG_LEN bytes) into msg.
 * The caller signs msg with the package role's private key and appends the 64
 * signature bytes. */
LEAL_MUST_CHECK leal_err package_encode_body(const struct crypto_provider *cp,
                                             const struct package_contents *c, uint8_t *out,
                                             size_t cap, size_t *len,
                                             uint8_t msg[PACKAGE_SIGNED_MSG_LEN]);

/* The message the signature covers, from a source's first body_len bytes. */
LEAL_MUST_CHECK leal_err package_signed_message(const struct crypto_provider *cp,
                                                const struct package_source *src, uint32_t body_len,
                                                uint8_t msg[PACKAGE_SIGNED_MSG_LEN]);

/* Reads the header and checks the package's structure only (no signature, no
 * expectations): for showing a package. */
LEAL_MUST_CHECK leal_err package_parse(const struct package_source *src, struct package_info *out);

/* The header alone, and that the source is exactly as long as its sections
 * say (one 60-byte read, no list, name, site or caps read: a constant cost
 * whatever the package's size): for showing a package's version and
 * validity. *out's site and caps stay 0 and a damaged list is not seen;
 * package_parse checks those. */
LEAL_MUST_CHECK leal_err package_parse_header(const struct package_source *src,
                                              struct package_info *out);

/* The whole check a terminal makes: structure, key version, signature, order
 * of the lists, program, terminal, validity at e->now, version above
 * e->loaded_version. *out is filled only on LEAL_OK. */
LEAL_MUST_CHECK leal_err package_verify(const struct crypto_provider *cp,
                                        const struct package_source *src,
                                        const struct package_expect *e, struct package_info *out);

/* The Rules section of a verified package, decoded as a terminal runs it
 * (rules_codec_decode_program: the bono kinds checked, not kept):
 * LEAL_E_PACKAGE_RULES if it does not decode (longer than RULES_CODEC_MAX_LEN
 * included); a read error passed through. */
LEAL_MUST_CHECK leal_err package_rules(const struct package_info *p,
                                       const struct package_source *src,
                                       struct rules_versioned *out);

/* package_rules of a package whose bytes are in memory (pkg: the whole
 * package p was verified from), decoded where they lie: no copy, so none
 * of package_rules' 2,026-byte buffer on the stack (package_store_load's
 * check of a new package before it is written). */
LEAL_MUST_CHECK leal_err package_rules_in(const struct package_info *p, const uint8_t *pkg,
                                          struct rules_versioned *out);

/* package_verify against t's loaded version, then its rule set decoded
 * (package_rules), then t takes src and the rules; on any refusal t is left
 * exactly as it was (the loaded package stays in force). */
LEAL_MUST_CHECK leal_err package_load(struct package_terminal *t, const struct crypto_provider *cp,
                                      const struct package_source *src,
                                      const struct package_expect *e);

/* package_load into a scratch terminal, for a caller that keeps the one in
 * force elsewhere (package_store.h) or has none: verified against e as given
 * (e->loaded_version is the version in force), its rule set decoded straight
 * into out->rules, so no second rule set (2.2 KiB) is on the stack. On any
 * refusal out is unloaded (out->loaded false) and the rest of it undefined. */
LEAL_MUST_CHECK leal_err package_load_into(struct package_terminal *out,
                                           const struct crypto_provider *cp,
                                           const struct package_source *src,
                                           const struct package_expect *e);

/* Binary search of the hot list: *found, and *reason when found. */
LEAL_MUST_CHECK leal_err package_hot_find(const struct package_info *p,
                                          const struct package_source *src, uint64_t card_id,
                                          bool *found, uint8_t *reason);

/* Binary search of the floors: *found, and *out when found. */
LEAL_MUST_CHECK leal_err package_floor_find(const struct package_info *p,
                                            const struct package_source *src, uint64_t card_id,
                                            bool *found, struct package_floor *out);

/* The i-th record of each list (for showing a package). */
LEAL_MUST_CHECK leal_err package_hot_at(const struct package_info *p,
                                        const struct package_source *src, uint32_t i,
                                        struct package_hot *out);
LEAL_MUST_CHECK leal_err package_floor_at(const struct package_info *p,
                                          const struct package_source *src, uint32_t i,
                                          struct package_floor *out);

/* Binary search of the pending changes: *found, and *out when found. */
LEAL_MUST_CHECK leal_err package_pending_find(const struct package_info *p,
                                              const struct package_source *src, uint64_t card_id,
                                              bool *found, struct package_pending *out);
LEAL_MUST_CHECK leal_err package_pending_at(const struct package_info *p,
                                            const struct package_source *src, uint32_t i,
                                            struct package_pending *out);

/* The name of (kind, item): *found, and out->text NUL-terminated when found
 * (a linear walk of the names section, one record in RAM). */
LEAL_MUST_CHECK leal_err package_name_find(const struct package_info *p,
                                           const struct package_source *src, uint8_t kind,
                                           uint32_t item, bool *found, struct package_name *out);
/* Names in order: *cursor starts at 0; LEAL_E_RANGE after the last. */
LEAL_MUST_CHECK leal_err package_name_next(const struct package_info *p,
                                           const struct package_source *src, uint32_t *cursor,
                                           struct package_name *out);

/* The zone's offset from UTC at utc (seconds since 1970), in minutes: the
 * daylight-saving offset between the start and end transitions of that
 * year (the year of utc in standard time; a start after the end, as south
 * of the equator or Europe/Dublin's winter "saving", wraps the year). */
LEAL_MUST_CHECK leal_err package_local_offset(const struct package_zone *z, uint64_t utc,
                                              int16_t *minutes);

/* Whether z is a zone a package may carry (PACKAGE.md "Site"). */
bool package_zone_ok(const struct package_zone *z);

/* Whether s (n bytes) is a name a package may carry: 1..63 bytes of
 * well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF) with
 * no control characters. */
bool package_name_text_ok(const uint8_t *s, size_t n);

/* A source over bytes in memory (ctx = the bytes). */
LEAL_MUST_CHECK leal_err package_memory_read(void *ctx, uint32_t offset, uint8_t *out, size_t len);

#endif
