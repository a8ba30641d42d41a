/*
 * file.h - files as leal writes and reads them: reads always with a size cap
 * (keys/base/limits.h); writes to a temporary name in the same folder, fsync,
 * rename over the target, fsync the folder, so a crash leaves the old file or
 * the new one, never half of either. Hosted.
 * Errors: LEAL_E_NOT_FOUND, LEAL_E_PERMISSION, LEAL_E_TOO_LARGE, LEAL_E_IO,
 * LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_FILE_H
#define LEAL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "keys/base/err.h"

/* Reads the whole file into a malloc'd buffer (NUL-terminated for text use;
 * the NUL is not counted in *len). Files larger than cap: LEAL_E_TOO_LARGE. */
LEAL_MUST_CHECK leal_err file_read(const char *path, size_t cap, uint8_t **data, size_t *len);

/* Atomically replaces path with data, created with mode (e.g. 0600). */
LEAL_MUST_CHECK leal_err file_write_atomic(const char *path, const uint8_t *data, size_t len,
                                           mode_t mode);

/* Creates every missing folder of path's parent with mode 0700. */
LEAL_MUST_CHECK leal_err file_mkdir_parents(const char *path);

/* $XDG_DATA_HOME/leal/NAME (or ~/.local/share/leal/NAME) into out. */
LEAL_MUST_CHECK leal_err file_default_path(const char *name, char *out, size_t cap);

#endif
