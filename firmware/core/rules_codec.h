/*
 * rules_codec.h - a program's rule set as bytes (RULES.md section 7): the
 * rules engine's program (rate, welcome points, tiers, earning rules, stamp
 * cards, rewards), the bono kinds the desk sells and the rule-set version, in
 * a compact, versioned, fixed-width big-endian encoding: what the ledger
 * stores per version and what a terminal package carries in its Rules
 * section. One struct maps to exactly one byte string: decoding then encoding
 * gives back the same bytes.
 * The encoder refuses a set the check refuses; the decoder refuses, and zeroes
 * *out: LEAL_E_TRUNCATED (bytes missing), LEAL_E_TRAILING (bytes after the
 * set), LEAL_E_RULES_FORMAT_VERSION (not format 1), LEAL_E_RULES_PROGRAM (a
 * count over its limit, or anything rules_codec_problem refuses), LEAL_E_ARG.
 * Bounded reader and writer (keys/base/buf.h), no allocation. Freestanding.
 */
#ifndef LEAL_RULES_CODEC_H
#define LEAL_RULES_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/rules.h"
#include "keys/base/err.h"

#define RULES_CODEC_FORMAT 1
#define RULES_MAX_BONO_KINDS 16        /* bono kinds per program */
#define RULES_MAX_BONO_VALID_DAYS 3660 /* ten years: a bono sold today is used or lost by then */
#define RULES_CODEC_PART_BONO 6        /* rules_problem.part: a bono kind (after enum rules_part) */

#define RULES_CODEC_HEADER_LEN 18
#define RULES_CODEC_TIER_LEN 8
#define RULES_CODEC_RULE_LEN 41 /* fixed part; then 4 per store and 2 per category */
#define RULES_CODEC_STAMP_LEN 12
#define RULES_CODEC_REWARD_LEN 18
#define RULES_CODEC_BONO_LEN 12
/* The largest encoding: every list full, every rule naming the most stores and categories. */
#define RULES_CODEC_MAX_LEN                                                                        \
    (RULES_CODEC_HEADER_LEN + RULES_MAX_TIERS * RULES_CODEC_TIER_LEN +                             \
     RULES_MAX_RULES *                                                                             \
         (RULES_CODEC_RULE_LEN + 4 * RULES_MAX_RULE_STORES + 2 * RULES_MAX_RULE_CATS) +            \
     RULES_STAMP_CARDS * RULES_CODEC_STAMP_LEN + RULES_MAX_REWARDS * RULES_CODEC_REWARD_LEN +      \
     RULES_MAX_BONO_KINDS * RULES_CODEC_BONO_LEN)

/* A prepaid bundle the desk sells: N sessions of one service. */
struct rules_bono_kind {
    uint32_t id;         /* the program's name for it; not 0, unique */
    uint16_t sessions;   /* sessions in one bono: 1.. */
    uint16_t valid_days; /* days from the sale it can be used; 0 = no end */
    int64_t price_cents; /* what the desk charges: 0..RULES_MAX_SALE_CENTS */
};

/* One version of a program's rules, as stored and as a package carries it. */
struct rules_set {
    uint32_t version; /* the ledger's rule-set version; 0 = none defined yet */
    struct rules_program program;
    uint8_t n_bonos;
    struct rules_bono_kind bonos[RULES_MAX_BONO_KINDS];
};

/* A rule set as a terminal runs it: its version and program. The bono kinds
 * are the desk's (it sells them; a tap reads the card's bono file): checked
 * when the set is decoded and not kept: 264 bytes of a board's RAM less. */
struct rules_versioned {
    uint32_t version;
    uint8_t n_bonos; /* how many the set sells */
    struct rules_program program;
};

/* rules_program_problem on s->program, then the bono kinds (part
 * RULES_CODEC_PART_BONO). LEAL_OK or LEAL_E_RULES_PROGRAM. */
LEAL_MUST_CHECK leal_err rules_codec_problem(const struct rules_set *s,
                                             struct rules_problem *where);

/* Bytes the encoding of s takes (s must pass rules_codec_problem). */
LEAL_MUST_CHECK leal_err rules_codec_size(const struct rules_set *s, size_t *len);

/* Writes s into out[0..cap): LEAL_E_NO_SPACE if it does not fit (nothing
 * is promised about out then), *len the bytes written. */
LEAL_MUST_CHECK leal_err rules_codec_encode(const struct rules_set *s, uint8_t *out, size_t cap,
                                            size_t *len);

/* Reads exactly in[0..len) into *out; where (may be NULL) names the part at
 * fault when LEAL_E_RULES_PROGRAM. */
LEAL_MUST_CHECK leal_err rules_codec_decode(const uint8_t *in, size_t len, struct rules_set *out,
                                            struct rules_problem *where);

/* As rules_codec_decode, into *out: the same bytes accepted and refused,
 * with the same error and *where; the bono kinds read and checked one at a
 * time, none kept. */
LEAL_MUST_CHECK leal_err rules_codec_decode_program(const uint8_t *in, size_t len,
                                                    struct rules_versioned *out,
                                                    struct rules_problem *where);

#endif
