/*
 * package_store.h - the terminal package kept in two copies in a
 * port_storage (firmware/core/port.h), so that a load cut by power loss at
 * any byte never leaves the terminal without a valid package.
 *
 * Layout: the storage's units split in two halves, copy 0 and copy 1. A
 * copy is an 8-byte header, "LPK" 01 then the package's length (BE32), and
 * the package's bytes after it.
 *
 * The rule: a copy is valid when its header is whole and the package in it
 * verifies (package_verify: signature, program, terminal, key; expiry is not
 * a copy's validity: an expired package stays loaded and is reported, the
 * transactions refuse it). The valid copy with the higher package version
 * wins. A load writes the other copy only (the loser, or an invalid one):
 * erase its units, program the package, then the header last, then read
 * it back and compare it with the package verified. Until the header's last byte is durable the new
 * copy cannot verify, so the old winner stays the winner; once it is, the
 * new copy is valid and newer, so it wins. Every stage of a tear is thus
 * "the old package" or "the new package", never nothing.
 * Hosted only by its place in the POSIX port: the code is freestanding C.
 * Errors: LEAL_E_ARG, LEAL_E_TOO_LARGE (the package is larger than a copy),
 * package_verify's and package_load's refusals, the storage's own.
 */
#ifndef LEAL_PACKAGE_STORE_H
#define LEAL_PACKAGE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/package.h"
#include "firmware/core/port.h"

#define PACKAGE_STORE_HEADER_LEN 8

struct package_store;

/* One copy as a package_source reads it. */
struct package_store_copy {
    const struct package_store *ps;
    uint32_t base; /* the copy's first byte in the storage */
};

struct package_store {
    const struct port_storage *st;
    uint32_t copy_units; /* units per copy */
    uint32_t capacity;   /* the largest package a copy holds */
    struct package_store_copy copies[2];
    int winner; /* the copy in force, or -1: none valid */
};

/* Takes st (an even number of units, 2 at least). */
LEAL_MUST_CHECK leal_err package_store_init(struct package_store *ps,
                                            const struct port_storage *st);

/* Verifies both copies against e (e->now and e->loaded_version are not
 * used), chooses the winner by the rule above and loads it into t
 * (package_load_into: its rules decoded). With no valid copy, t is left
 * unloaded and LEAL_OK is returned; *valid_copies says how many verified. */
LEAL_MUST_CHECK leal_err package_store_select(struct package_store *ps,
                                              const struct crypto_provider *cp,
                                              const struct package_expect *e,
                                              struct package_terminal *t, unsigned *valid_copies);

/* Loads a new package (len bytes at pkg): verified against e with t's
 * version as the one loaded (expired, older or the same are refused before
 * anything is written), its rules decoded, written into the copy that is
 * not in force, read back (every byte compared with pkg: LEAL_E_IO if one
 * differs), and t loaded from it. On any error t is as it was. The stack
 * holds no second terminal: the deepest frame is package_verify's or the
 * rules' 2.2 KiB scratch, one at a time. */
LEAL_MUST_CHECK leal_err package_store_load(struct package_store *ps,
                                            const struct crypto_provider *cp,
                                            const struct package_expect *e,
                                            struct package_terminal *t, const uint8_t *pkg,
                                            uint32_t len);

#endif
