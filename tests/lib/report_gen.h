/*
 * report_gen.h - a program's activity generated through the real ledger API
 * for the report tests and bench (issue 17): stores, customers (joining on
 * days spread over the first two thirds of the span, their created_at set so),
 * a DESFire card, a QR (virtual-qr) card or none each; one in five stops
 * coming halfway through the span), and entries posted
 * with ledger_post at chosen times: earns (some lots expiring ten days on),
 * reward redemptions ("reward:coffee", "reward:cake", "reward:lunch"), purse
 * top-ups (at a store or the desk) and payments, adjustments by hand, voids
 * of recent entries (at the original's store, counting against its kind),
 * and ledger_expire_points runs every 20 days; terminal findings (the import's
 * refusals) inserted as host/ledger/ledger_terminal.c records them. Beside
 * the ledger it keeps its own tally of what it did (per day and store, per
 * reward, per customer and day active, balances at a day's end), the
 * tests' second computation. Deterministic for a seed.
 */
#ifndef LEAL_TESTS_REPORT_GEN_H
#define LEAL_TESTS_REPORT_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger.h"

#define REPORT_GEN_REWARDS 3
#define REPORT_GEN_FINDINGS 6

struct report_gen_opts {
    int64_t program_id;
    int shops, customers, days;
    int64_t entries;
    int64_t start; /* the first day's 00:00 UTC */
    uint64_t seed;
    int snap_day;              /* the liabilities tally is taken at this day's end */
    int batch;                 /* posts per transaction (0: one each) */
    int64_t point_value_cents; /* set with ledger_settle_value_set */
    bool collective;           /* a collective program (else a chain) */
};

struct report_gen_cell {
    bool touched; /* an entry was posted on that day at that store */
    int64_t card, qr, nocard, issued, redeemed, expired, adjusted, loaded, spent;
};

struct report_gen {
    struct report_gen_opts o;
    int64_t *store;    /* store ids, codes "s1".. */
    int64_t *terminal; /* one per store */
    int64_t *acct, *cust;
    int *join_day;
    int *card_kind; /* 0 none, 1 DESFire, 2 QR */
    int64_t *pts, *eur;
    struct report_gen_cell *cell; /* [day * (shops + 1) + shop]; shop == shops: no store */
    uint8_t *active;              /* [customer * days + day]: an entry of theirs (not expiry) */
    int64_t reward_count[REPORT_GEN_REWARDS], reward_pts[REPORT_GEN_REWARDS];
    int64_t snap_pts, snap_eur, snap_pts_holders, snap_eur_holders;
    /* The findings inserted: day, store index, kind. */
    int finding_day[REPORT_GEN_FINDINGS], finding_shop[REPORT_GEN_FINDINGS];
    const char *finding_kind[REPORT_GEN_FINDINGS];
    int64_t posted; /* entries posted (voids and expiries included) */
};

extern const char *const report_gen_rewards[REPORT_GEN_REWARDS];

/* Creates the program in the open ledger at path and generates into it. */
leal_err report_gen_run(struct ledger *l, const char *path, const struct report_gen_opts *o,
                        struct report_gen *g);
void report_gen_free(struct report_gen *g);
struct report_gen_cell *report_gen_cell(struct report_gen *g, int day, int shop);

#endif
