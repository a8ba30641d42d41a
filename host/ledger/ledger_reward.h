/*
 * ledger_reward.h - a reward of the catalogue redeemed at the host (issue 12,
 * firmware/core/RULES.md 5), through the engine a terminal runs
 * (rules_redeem) on the account's state as the ledger has it (points, tier
 * from its spend buckets). One entry of kind "redeem" keyed by the caller's
 * request id ("reward:" + it: exactly once): the reward's cost from the
 * account's PTS to points_redeemed, and for a cashback reward its euros owed
 * to the account (asset CASHBACK, from the program's cashback_owed, made
 * when missing). The points reach the card as a host change (the next
 * terminal tap or `leal card sync`, exactly once: ledger_host_change.h);
 * the cashback only at the desk, which loads it onto the purse as a top-up
 * (issuance_load_cashback: the account's CASHBACK back to cashback_owed and
 * its euros from the program's cashback account), because a terminal never
 * credits a purse. Hosted. Errors: the ledger's, rules_redeem's
 * (LEAL_E_RULES_REWARD, LEAL_E_RULES_TIER, LEAL_E_RULES_POINTS),
 * LEAL_E_UNKNOWN_ID, LEAL_E_WRONG_PROGRAM.
 */
#ifndef LEAL_LEDGER_REWARD_H
#define LEAL_LEDGER_REWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/core/rules.h"
#include "host/ledger/ledger.h"

struct ledger_reward_request {
    int64_t program_id;
    int64_t account_id;
    int64_t card_id; /* the card it was asked for, recorded on the entry (0: none) */
    uint32_t reward_id;
    int64_t sale_cents; /* a percentage reward's sale (0 otherwise) */
    int64_t store_id;   /* where (0: none) */
    const char *operator_name;
    const char *request_id; /* the caller's idempotency key, 1..100 characters */
};

struct ledger_reward_result {
    int64_t entry_id;
    bool replayed;               /* posted before: the figures are the entry's */
    uint8_t kind;                /* enum rules_reward_kind */
    int64_t points;              /* the cost taken */
    int64_t product_id;          /* PRODUCT */
    int64_t discount_cents;      /* VOUCHER, PERCENT: for the till */
    int64_t cashback_cents;      /* CASHBACK: now owed to the account */
    int64_t points_after;        /* the account's PTS */
    int64_t cashback_owed_cents; /* the account's CASHBACK: what the desk will load */
};

LEAL_MUST_CHECK leal_err ledger_reward_redeem(struct ledger *l,
                                              const struct ledger_reward_request *rq,
                                              struct ledger_reward_result *out);

/* The program's cashback_owed account (*id), made with its cashback account
 * when missing: the other side of a cashback reward's CASHBACK line, at the
 * host and in a terminal's import (ledger_terminal.c). */
LEAL_MUST_CHECK leal_err ledger_reward_cashback_account(struct ledger *l, int64_t program_id,
                                                        int64_t *id);

/* The cashback account_id is owed (its CASHBACK balance, cents). */
LEAL_MUST_CHECK leal_err ledger_reward_cashback_owed(struct ledger *l, int64_t account_id,
                                                     int64_t *cents);

#endif
