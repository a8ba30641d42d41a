/*
 * package_file.h - what a terminal package file says about itself, read
 * where `leal terminal package -o FILE` wrote it: the header and the
 * structure (firmware/core/package.h package_parse), through a bounded read
 * of the file (pread), so a package of any size costs a few KiB. The
 * signature is NOT checked (the reader holds no key; `leal package show`
 * checks it against the keystore): it is for showing a package's version
 * and validity (the ledger keeps neither the validity nor the file), never
 * for trusting it. Hosted.
 * Errors: LEAL_E_NOT_FOUND (no such file), LEAL_E_IO, LEAL_E_PERMISSION,
 * LEAL_E_TOO_LARGE (over PACKAGE_MAX_SIZE), and package_parse's refusals
 * (LEAL_E_PACKAGE_MALFORMED, _FORMAT_VERSION, _FORMAT_OLD).
 */
#ifndef LEAL_PACKAGE_FILE_H
#define LEAL_PACKAGE_FILE_H

#include <stdint.h>

#include "firmware/core/package.h"

/* Parses the package at path into *out (offsets into the file). */
LEAL_MUST_CHECK leal_err package_file_parse(const char *path, struct package_info *out);

/* The conventional file of a terminal in a packages directory, as `leal
 * serve --terminals DIR` serves it: "DIR/terminal-ID.lpkg". LEAL_E_RANGE
 * when it does not fit in cap. */
LEAL_MUST_CHECK leal_err package_file_path(const char *dir, int64_t terminal_id, char *out,
                                           size_t cap);

#endif
