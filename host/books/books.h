/*
 * books.h - the ledger-facing services every front end shares (the `leal`
 * CLI today, a back-office web server later): where the ledger is and
 * opening it. This folder never depends on the keystore, the key set or the
 * card desk (host/desk/), so a long-running process that serves the books
 * links no key material. Hosted; nothing here prints.
 * Errors: those of host/file.h and host/ledger/ledger.h (LEAL_E_NO_LEDGER for
 * a missing ledger that was not to be created).
 */
#ifndef LEAL_BOOKS_H
#define LEAL_BOOKS_H

#include <stdbool.h>

#include "host/ledger/ledger.h"

#define BOOKS_PATH_MAX 4096

/* Which ledger books_open() opened or refused, and why. */
struct books_where {
    char path[BOOKS_PATH_MAX]; /* "" when no default path could be made */
    bool default_path;         /* no path was given: the default was used */
    char why[512];             /* the ledger's detail on failure, or "" */
};

/* Opens the ledger at path (NULL: $XDG_DATA_HOME/leal/ledger.db). Without
 * create a missing file is LEAL_E_NO_LEDGER (a mistyped path never makes an
 * empty ledger); with create the file and the default's folder are made. */
LEAL_MUST_CHECK leal_err books_open(const char *path, bool create, struct ledger **l,
                                    struct books_where *where);

#endif
