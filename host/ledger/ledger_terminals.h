/*
 * ledger_terminals.h - each terminal of a program as the back office shows
 * it (issue 16): its store, its journal's epoch, the newest package the host
 * built for it (version and when, from package_caps), when the host last
 * took an entry of its journal (the newest sync that carried any) and how
 * many import findings it has. The package's validity in days is not kept
 * by the ledger (it is in the package file), so it is not here.
 * Hosted. Errors: the ledger's own.
 */
#ifndef LEAL_LEDGER_TERMINALS_H
#define LEAL_LEDGER_TERMINALS_H

#include <stdint.h>

#include "host/ledger/ledger.h"

struct ledger_terminal_view {
    int64_t id;
    int64_t store_id;
    char store_code[LEDGER_TEXT];
    char timezone[72]; /* the store's (IANA) */
    char name[LEDGER_TEXT];
    int64_t epoch;
    int64_t package_version;  /* 0: none built yet */
    int64_t package_built_at; /* 0: unknown (none, or built before caps were kept) */
    int64_t last_entry_at;    /* 0: no journal entry taken yet */
    int64_t entries;          /* journal entries taken */
    int64_t findings;         /* the import's findings (sync_finding) */
};
typedef int (*ledger_terminal_view_cb)(void *ctx, const struct ledger_terminal_view *t);
/* The terminals of program_id's stores, by id; cb returning non-zero stops. */
LEAL_MUST_CHECK leal_err ledger_terminal_each(struct ledger *l, int64_t program_id,
                                              ledger_terminal_view_cb cb, void *ctx);

#endif
