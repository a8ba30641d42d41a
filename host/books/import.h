/*
 * import.h - the ledger's CSV import (`leal ledger import FILE`): lines
 * 'request_id,account,counter_account,asset,amount,reason,operator' (amount
 * in cents or units, no quoting) posted as adjustments, a line at most
 * LEAL_MAX_IMPORT_LINE - 2 bytes (keys/base/limits.h), committed every
 * `batch` lines in one transaction.
 * The first refused line stops the posting (its batch is rolled back); the
 * rest is still read and checked so that every refused line is reported with
 * its number. Reported through callbacks, in file order; nothing here
 * prints. Hosted; no keys.
 * Errors (the run's, not a line's): those of ledger_account_get,
 * ledger_batch_begin_whole and ledger_batch_commit.
 */
#ifndef LEAL_BOOKS_IMPORT_H
#define LEAL_BOOKS_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "host/ledger/ledger.h"
#include "keys/base/limits.h"

/* A refused line. */
struct books_import_refusal {
    int64_t lineno;
    leal_err err;
    const char *why;  /* what is wrong with the line, or "" */
    bool ledger_said; /* the ledger refused the post (ledger_errmsg has the detail) */
};

struct books_import_events {
    void *ctx;
    /* A batch is on disk: n entries committed so far. */
    void (*committed)(void *ctx, int64_t n);
    void (*refused)(void *ctx, const struct books_import_refusal *r);
};

struct books_import_result {
    int64_t imported;      /* entries committed */
    int64_t replays;       /* of them already in the ledger (same request id and content) */
    int64_t refused;       /* lines refused */
    int64_t first_refused; /* the number of the first refused line (0: none) */
    const char *doing;     /* on a run's error: "import" or "import commit" */
};

/* Imports the lines of f (batch: 1..LEDGER_MAX_BATCH). LEAL_OK also when
 * lines were refused (res->refused says so). */
LEAL_MUST_CHECK leal_err books_import(struct ledger *l, FILE *f, int64_t batch,
                                      const struct books_import_events *ev,
                                      struct books_import_result *res);

#endif
