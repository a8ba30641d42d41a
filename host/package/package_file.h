/*
 * package_file.h - what a terminal package file says about itself, read
 * where `leal terminal package -o FILE` wrote it: its header and that the
 * file is exactly as long as the header says (firmware/core/package.h
 * package_parse_header: one 60-byte read, a constant cost whatever the
 * package's size; the lists inside are not read). The signature is NOT
 * checked (the reader holds no key; `leal package show` checks it, and a
 * terminal checks all before it loads a package): it is for showing a
 * package's version and validity (the ledger keeps neither the validity nor
 * the file), never for trusting it. Hosted.
 * Errors: LEAL_E_NOT_FOUND (no such file), LEAL_E_IO (also: not a regular
 * file), LEAL_E_PERMISSION, LEAL_E_TOO_LARGE (over PACKAGE_MAX_SIZE), and
 * package_parse_header's refusals (LEAL_E_PACKAGE_MALFORMED, _FORMAT_VERSION,
 * _FORMAT_OLD).
 */
#ifndef LEAL_PACKAGE_FILE_H
#define LEAL_PACKAGE_FILE_H

#include <stdint.h>

#include "firmware/core/package.h"

/* The header of the package at path into *out (offsets into the file). */
LEAL_MUST_CHECK leal_err package_file_header(const char *path, struct package_info *out);

/* The conventional file of a terminal in a packages directory, as `leal
 * serve --terminals DIR` serves it: "DIR/terminal-ID.lpkg". LEAL_E_RANGE
 * when it does not fit in cap. */
LEAL_MUST_CHECK leal_err package_file_path(const char *dir, int64_t terminal_id, char *out,
                                           size_t cap);

#endif
