/*
 * sync_ledger.h - the ledger the journal import's bench (tests/bench/
 * bench_sync.c) and fuzz target (tests/fuzz/fuzz_sync_import.c) take
 * journals into: program 7, a store for every 5 terminals, terminals 1..n,
 * customers with one DESFire card each (card ids from first_card), each
 * account seeded with euros (from cash) and points (from adjustments) when
 * asked, all in one batch. Tests only.
 */
#ifndef LEAL_TESTS_SYNC_LEDGER_H
#define LEAL_TESTS_SYNC_LEDGER_H

#include <stdint.h>

#include "host/ledger/ledger.h"

#define SYNC_LEDGER_PROGRAM 7

struct sync_ledger_spec {
    const char *code; /* the program's code and name */
    enum ledger_program_kind kind;
    unsigned terminals, customers;
    int64_t first_card;
    int64_t seed_cents, seed_points; /* on every account; 0: none */
};

/* Opens (creating) the ledger at path and fills it as s says. */
LEAL_MUST_CHECK leal_err sync_ledger_make(const char *path, const struct sync_ledger_spec *s,
                                          struct ledger **out);

#endif
