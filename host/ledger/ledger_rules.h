/*
 * ledger_rules.h - what a shop decides, per program, kept in the ledger: its
 * rule set (earning rules, tiers, rewards, stamp cards, bono kinds) as an
 * append-only list of versions, each with who changed it, when, why and what
 * (a line; the version before is the "before", this one the "after"). The
 * current set is the newest version; version 0 is a program that has none
 * (base rate only). Each version is stored as firmware/core/rules_codec.h's
 * encoding, with a person's name for every tier, rule, stamp card, reward and
 * bono kind beside it. The base rate is never part of what is stored: it is
 * the program table's points_per_euro_milli, the rate of every loaded set.
 *
 * A change is one write transaction: the current set is read, the caller's
 * edit applied, the result checked (rules_codec_problem, then the host's own
 * checks: two best-only rules with the same scope never both apply), stored
 * as the next version. A refused change stores nothing.
 * Errors: LEAL_E_UNKNOWN_ID (no such program), LEAL_E_RULES_PROGRAM (the
 * edited set is refused: problem names the part, ledger_errmsg says why),
 * LEAL_E_TEXT (operator, reason, what or a name), LEAL_E_ARG, LEAL_E_DB*; an
 * edit's own error is passed through. Hosted.
 */
#ifndef LEAL_LEDGER_RULES_H
#define LEAL_LEDGER_RULES_H

#include <stdint.h>

#include "firmware/core/rules_codec.h"
#include "host/ledger/ledger.h"

#define LEDGER_RULES_NAME 64 /* a name a till shows: 63 bytes at most */

/* A rule set and the names of its parts, index for index. */
struct ledger_rules {
    struct rules_set set; /* set.version: the version it is; rate: the program's */
    char tier_name[RULES_MAX_TIERS][LEDGER_RULES_NAME];
    char rule_name[RULES_MAX_RULES][LEDGER_RULES_NAME];
    char stamp_name[RULES_STAMP_CARDS][LEDGER_RULES_NAME];
    char reward_name[RULES_MAX_REWARDS][LEDGER_RULES_NAME];
    char bono_name[RULES_MAX_BONO_KINDS][LEDGER_RULES_NAME];
};

/* The current rules of program_id: *out and *version (0 when none defined:
 * an empty program at the program's rate). What the engine runs with. */
LEAL_MUST_CHECK leal_err ledger_rules_load(struct ledger *l, int64_t program_id,
                                           struct rules_program *out, uint32_t *version);

/* Version `version` of program_id's rule set with its names (0: the current
 * one); LEAL_E_UNKNOWN_ID if the program has no such version. */
LEAL_MUST_CHECK leal_err ledger_rules_get(struct ledger *l, int64_t program_id, uint32_t version,
                                          struct ledger_rules *out);

/* One change of a program's rules. */
struct ledger_rules_change {
    const char *operator_name; /* who: not empty */
    const char *reason;        /* why: not empty */
    const char *what;          /* what, in a line ("rule 3 added"): not empty */
    /* Edits the current set (names included) into the next one. */
    leal_err (*edit)(struct ledger_rules *r, void *ctx);
    void *ctx;
    /* Out: the part at fault on LEAL_E_RULES_PROGRAM (RULES_PART_*,
     * RULES_CODEC_PART_BONO), the new version on LEAL_OK. */
    struct rules_problem problem;
    uint32_t version;
};

LEAL_MUST_CHECK leal_err ledger_rules_change(struct ledger *l, int64_t program_id,
                                             struct ledger_rules_change *c);

/* A version in a program's history. */
struct ledger_rules_version {
    uint32_t version;
    int64_t at; /* seconds since 1970 UTC */
    char operator_name[LEDGER_TEXT];
    char reason[LEDGER_TEXT];
    char what[LEDGER_TEXT];
};

/* Calls cb for each version of program_id, oldest first; a non-zero return
 * stops the walk. */
LEAL_MUST_CHECK leal_err ledger_rules_history(struct ledger *l, int64_t program_id,
                                              int (*cb)(const struct ledger_rules_version *v,
                                                        void *ctx),
                                              void *ctx);

#endif
