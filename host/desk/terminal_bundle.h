/*
 * terminal_bundle.h - what goes into a terminal's key bundle (`leal keys
 * export-terminal`, keys/bundle.h, KEYS.md): how long it may live, and the
 * terminal roles copied out of the keystore (terminal, classic-a and
 * classic-seal secrets, the journal key derived for this terminal, only the
 * public halves of the package and QR keys). Hosted; nothing here prints.
 * Errors: LEAL_E_DATE, LEAL_E_BUNDLE_EXPIRED (a day already past),
 * LEAL_E_RANGE (beyond LEAL_MAX_BUNDLE_DAYS, keys/base/limits.h), keyset
 * lookups, crypto errors.
 */
#ifndef LEAL_TERMINAL_BUNDLE_H
#define LEAL_TERMINAL_BUNDLE_H

#include <stdint.h>

#include "keys/base/limits.h"
#include "keys/bundle.h"
#include "keys/keyset.h"

/* The expiry of a bundle valid through the whole UTC day named by date
 * (YYYY-MM-DD): the first second after it, checked against now. */
LEAL_MUST_CHECK leal_err desk_bundle_expiry(const char *date, int64_t now, int64_t *expires);

/* Fills b for terminal of program from ks (created now, expiring at
 * expires); every other field of b is left zero. */
struct desk_bundle_for {
    uint32_t program_id, terminal_id;
    int64_t now, expires;
};
LEAL_MUST_CHECK leal_err desk_bundle_fill(const struct keyset *ks, const struct desk_bundle_for *f,
                                          struct bundle *b);

#endif
