/*
 * posix_port.h - the terminal port's clock, randomness and operator line on
 * a POSIX system (firmware/core/port.h), and the terminal's data folder:
 * its storage files and what each holds.
 * - Clock: UTC from clock_gettime(CLOCK_REALTIME); the civil offset from the
 *   system's zone (TZ, else /etc/localtime) at that instant. The terminal
 *   package carries no zone yet, so the store's zone is the host's: set TZ
 *   (e.g. TZ=Europe/Madrid) where the till's system zone is another.
 * - Randomness: getrandom(2), blocking until the kernel's pool is seeded.
 * - Operator line: one line on stdout, flushed (a till's display reads it).
 * - Storage: DIR/journal.dat and DIR/package.dat (file_storage.h), made at
 *   init; tests may cut the power after N bytes programmed
 *   (posix_port_power_cut below).
 * Errors: LEAL_E_IO, LEAL_E_RANDOM, LEAL_E_STATE (clock before 1970), the
 * storage's own. Hosted.
 */
#ifndef LEAL_POSIX_PORT_H
#define LEAL_POSIX_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/port.h"
#include "firmware/port/posix/file_storage.h"

#define POSIX_JOURNAL_FILE "journal.dat"
#define POSIX_PACKAGE_FILE "package.dat"
#define POSIX_BUNDLE_FILE "bundle.ltb"
#define POSIX_LOCK_FILE "lock"
#define POSIX_STORAGE_UNIT (64u * 1024u)
#define POSIX_JOURNAL_UNITS 16u /* 1 MiB: 2,048 entries */
#define POSIX_PACKAGE_UNITS 64u /* two copies of 2 MiB: about 200,000 hot-listed cards */

leal_err posix_now(void *ctx, struct port_time *out);
/* As the provider's random (keys/crypto.h) and the port's. */
leal_err posix_random_bytes(uint8_t *out, size_t n);
leal_err posix_random(void *ctx, uint8_t *out, size_t n);
leal_err posix_show(void *ctx, const char *line, size_t len);

/* A storage that passes every call to inner and, once armed, cuts the power
 * after cut_at bytes of work (each programmed byte; an erase counts one):
 * the call that reaches the cut programs the bytes before it, then calls
 * power_off, which must not return (the CLI ends the process there, exit
 * status POSIX_POWER_CUT_EXIT, as a pulled plug would end it). Only for
 * tests (leal-terminal reads LEAL_TERMINAL_POWER_CUT). */
#define POSIX_POWER_CUT_EXIT 75
struct posix_cut_storage {
    struct port_storage port;
    const struct port_storage *inner;
    uint64_t cut_at, work;
    void (*power_off)(void);
};
void posix_cut_storage_init(struct posix_cut_storage *cs, const struct port_storage *inner,
                            uint64_t cut_at, void (*power_off)(void));

#endif
