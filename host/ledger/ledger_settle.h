/*
 * ledger_settle.h - settlement between the shops of a collective program
 * (issue 14): per period (a calendar month, UTC), what each shop collected
 * and paid out, and what it owes the collective or is owed. An entry is a
 * shop's by its store (entry.store_id: a sale's store, a terminal's store for
 * an imported journal entry, --store on a manual post or at the desk);
 * entries without one (a desk without a store, expiries) are "no shop".
 * Counted on the customers' and gift cards' lines, by what the entry
 * (or the entry a void reverses) is: points collected = earned there (kinds
 * earn, spend, refund), points paid out = redeemed there (redeem), purse
 * loaded = euros put on purses there (topup, gift_sale), purse spent = paid
 * from purses there (spend); voids count against what they reverse.
 * Each shop settles with the collective's pool at the program's point value
 * (cents a point): balance = value x (paid out - collected) + (spent -
 * loaded), > 0 the collective owes the shop, < 0 the shop owes it. The pool's
 * row is minus the shops' sum (what it holds for points not yet redeemed and
 * purse money not yet spent), so the rows sum to zero.
 * Who owes whom (the per-pair matrix): the balances settled pairwise in the
 * fewest transfers, each debtor (balance < 0: a shop, no shop or the pool)
 * paying the creditors (balance > 0) in row order until its debt is paid
 * (the first debtor pays the first creditor what the smaller of the two
 * holds, and so on). Each row's transfers out less its transfers in equal
 * minus its balance, to the cent; nothing is rounded.
 * A period once settled is closed (ledger table settlement, no update or
 * delete): it took every entry with id <= its upto_entry and at before its
 * end not taken by the period settled before it, so an entry posted later,
 * whatever its time, goes to the next period. Periods are settled in order;
 * a period is settled once it has ended (a preview shows one so far).
 * Hosted. Errors: the ledger's; LEAL_E_UNKNOWN_PROGRAM, LEAL_E_SETTLE_*.
 */
#ifndef LEAL_LEDGER_SETTLE_H
#define LEAL_LEDGER_SETTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/ledger/ledger.h"

#define LEDGER_SETTLE_MAX_SHOPS 256
#define LEDGER_SETTLE_NO_SHOP 0 /* store_id of the row of entries without a store */
#define LEDGER_SETTLE_POOL (-1) /* store_id of the collective's pool */

struct ledger_settle_row {
    int64_t store_id; /* a store, or LEDGER_SETTLE_NO_SHOP / LEDGER_SETTLE_POOL */
    char code[64];
    char name[LEDGER_TEXT];
    int64_t points_collected, points_paid_out;
    int64_t purse_loaded_cents, purse_spent_cents;
    int64_t balance_cents;
};

/* rows[from] pays rows[to] cents (> 0). */
struct ledger_settle_transfer {
    size_t from, to;
    int64_t cents;
};

struct ledger_settlement {
    int64_t program_id;
    int year, month;
    int64_t point_value_cents;
    int64_t start_at, end_at; /* the month, UTC seconds [start, end) */
    int64_t upto_entry;       /* the newest entry it took or could take */
    bool closed;              /* settled (now or before) */
    bool closed_now;          /* by this call */
    int64_t settled_at;
    char settled_by[64];
    /* Every store of the program (by id), then no shop, then the pool. */
    size_t nrows;
    struct ledger_settle_row rows[LEDGER_SETTLE_MAX_SHOPS + 2];
    /* Who owes whom (above): at most nrows - 1 transfers. */
    size_t ntransfers;
    struct ledger_settle_transfer transfers[LEDGER_SETTLE_MAX_SHOPS + 2];
};

/* The program's point value for settlement from now on: 1..100000 cents. */
LEAL_MUST_CHECK leal_err ledger_settle_value_set(struct ledger *l, int64_t program_id,
                                                 int64_t cents, const char *operator_name);
/* Its current value; 0 when none was set. */
LEAL_MUST_CHECK leal_err ledger_settle_value_get(struct ledger *l, int64_t program_id,
                                                 int64_t *cents);
/* The ledger's only collective program; LEAL_E_UNKNOWN_PROGRAM when it
 * has none or several. */
LEAL_MUST_CHECK leal_err ledger_settle_default_program(struct ledger *l, int64_t *program_id);
/* Period year-month (1..12) of program_id into *out. A settled period is
 * shown as it was settled. Otherwise close: the period is settled now (it
 * must have ended, LEAL_E_SETTLE_OPEN; no later period settled,
 * LEAL_E_SETTLE_ORDER) and recorded with operator_name; not close: a
 * preview of what settling it now would give (a period not ended too),
 * nothing recorded. */
struct ledger_settle_request {
    int64_t program_id;
    int year, month;
    bool close;
    const char *operator_name; /* who closes it (required to close) */
};
LEAL_MUST_CHECK leal_err ledger_settle(struct ledger *l, const struct ledger_settle_request *rq,
                                       struct ledger_settlement *out);

#endif
