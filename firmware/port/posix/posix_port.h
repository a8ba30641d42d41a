/*
 * posix_port.h - the terminal port's clock, randomness and operator line on
 * a POSIX system (firmware/core/port.h), and the terminal's data folder:
 * its storage files and what each holds.
 * - Clock: UTC from clock_gettime(CLOCK_REALTIME). A tap's civil offset is
 *   the loaded package's store zone at that instant (posix_site_now,
 *   package_local_offset: the till's own TZ plays no part); before any
 *   package (init, load, status) the system's zone (TZ, else /etc/localtime).
 * - Randomness: getrandom(2), blocking until the kernel's pool is seeded.
 * - Operator line: one line on stdout, flushed (a till's display reads it).
 * - Storage: DIR/journal.dat and DIR/package.dat (file_storage.h), made at
 *   init (a test build may wrap them: posix_terminal.h, tests/lib/cut_storage.h).
 * Errors: LEAL_E_IO, LEAL_E_RANDOM, LEAL_E_STATE (clock before 1970), the
 * storage's own. Hosted.
 */
#ifndef LEAL_POSIX_PORT_H
#define LEAL_POSIX_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/package.h"
#include "firmware/core/port.h"
#include "firmware/port/posix/file_storage.h"

#define POSIX_JOURNAL_FILE "journal.dat"
#define POSIX_PACKAGE_FILE "package.dat"
#define POSIX_BUNDLE_FILE "bundle.ltb"
#define POSIX_LOCK_FILE "lock"
/* The journal's running summary (firmware/core/journal_sum.h): a cache, saved
 * without fsync; missing, torn or stale it is rebuilt from journal.dat. */
#define POSIX_SUM_FILE "journal.sum"
#define POSIX_STORAGE_UNIT (64u * 1024u)
#define POSIX_JOURNAL_UNITS 16u /* 1 MiB: 2,048 entries */
#define POSIX_PACKAGE_UNITS 64u /* two copies of 2 MiB: about 200,000 hot-listed cards */

leal_err posix_now(void *ctx, struct port_time *out);
/* UTC as posix_now, the offset from the site zone of ctx, a loaded
 * const struct package_terminal * (LEAL_E_STATE when none is loaded). */
leal_err posix_site_now(void *ctx, struct port_time *out);
/* As the provider's random (keys/crypto.h) and the port's. */
leal_err posix_random_bytes(uint8_t *out, size_t n);
leal_err posix_random(void *ctx, uint8_t *out, size_t n);
leal_err posix_show(void *ctx, const char *line, size_t len);

#endif
