/*
 * package_zone.h - a store's time zone as the rules a terminal package
 * carries (firmware/core/PACKAGE.md "Site"), derived from the system's tz
 * database: the POSIX TZ string in the footer of the zone's TZif file (RFC
 * 8536 section 3.3, version 2 and later), e.g. Europe/Madrid's
 * "CET-1CEST,M3.5.0,M10.5.0/3". Only the "Mm.w.d" transition form is taken
 * (every tzdata zone with daylight saving uses it today); a zone without a
 * footer, or with Julian-day rules, is refused (LEAL_E_ZONE_RULES). The tz
 * folder is $TZDIR or /usr/share/zoneinfo, the name checked by
 * ledger_timezone_check. Hosted.
 */
#ifndef LEAL_PACKAGE_ZONE_H
#define LEAL_PACKAGE_ZONE_H

#include <stddef.h>

#include "firmware/core/package.h"

/* A POSIX TZ string (n bytes, no NUL needed) into *out: std name, offset,
 * then optionally dst name, [offset], ",Mm.w.d[/time],Mm.w.d[/time]".
 * LEAL_E_ZONE_RULES for anything else, or rules package_zone_ok refuses. */
LEAL_MUST_CHECK leal_err package_zone_parse(const char *s, size_t n, struct package_zone *out);

/* The TZif file's footer (data, n bytes) parsed (package_zone_parse). */
LEAL_MUST_CHECK leal_err package_zone_from_tzif(const unsigned char *data, size_t n,
                                                struct package_zone *out);

/* The zone named name in the tz database. LEAL_E_TIMEZONE for a name that
 * is not a zone, LEAL_E_ZONE_RULES for one without usable rules. */
LEAL_MUST_CHECK leal_err package_zone_lookup(const char *name, struct package_zone *out);

#endif
