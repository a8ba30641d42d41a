/*
 * package_build.h - a terminal's package (firmware/core/PACKAGE.md) made from
 * the ledger and signed with the keystore's `package` role: the hot list from
 * the cards blocked, lost or replaced; a floor for every active DESFire or
 * Classic card from what the ledger last saw of it (taps from last_counter,
 * and for Classic the seq and first 8 bytes of the SIV tag the desk last
 * read); the host changes waiting for each such card (ledger_host_change.h:
 * net points, the taps the ledger last saw, the entry they run up to); the
 * program's current rule set (host/ledger/ledger_rules.h) in
 * firmware/core/rules_codec's encoding, at the program's base rate; the
 * names of its tiers, stamp cards, rewards and bono kinds and the store's
 * (cut to 63 bytes at a character boundary); the site: the terminal's
 * store, that store's time zone as rules from the tz database
 * (package_zone.h) and the program's Classic stored-value cap (0: off); the
 * next package version of that terminal, recorded in
 * the ledger so it only goes up. The result is malloc'd. Hosted.
 * Errors: those of the ledger (LEAL_E_UNKNOWN_ID for an unknown terminal),
 * LEAL_E_UNKNOWN_PROGRAM (the keystore lacks the terminal's program),
 * LEAL_E_PACKAGE_MALFORMED (a list over the format's limits),
 * LEAL_E_RULES_PROGRAM (a base rate over the rules engine's limit),
 * LEAL_E_TIMEZONE / LEAL_E_ZONE_RULES (the store's zone is not in the tz
 * database, or has no rules a terminal can follow), LEAL_E_TEXT (a name
 * a package cannot carry), LEAL_E_RANGE,
 * LEAL_E_NO_MEMORY, LEAL_E_CRYPTO.
 */
#ifndef LEAL_PACKAGE_BUILD_H
#define LEAL_PACKAGE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/package.h"
#include "host/ledger/ledger.h"
#include "keys/keyset.h"

struct package_build_opts {
    int64_t terminal_id;
    uint64_t now;        /* issue time */
    uint32_t valid_days; /* 1..LEAL_MAX_PACKAGE_DAYS */
    uint32_t cap_day_cents;
    uint32_t cap_sync_cents;
};

/* Builds and signs; *data (malloc'd, *len bytes) and *info describe it. */
LEAL_MUST_CHECK leal_err package_build(struct ledger *l, const struct keyset *ks,
                                       const struct package_build_opts *o, uint8_t **data,
                                       size_t *len, struct package_info *info);

#endif
