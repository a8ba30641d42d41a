/*
 * file.h - files as leal writes and reads them: reads always with a size cap
 * (keys/base/limits.h); writes to a temporary name in the same folder, fsync,
 * rename over the target, fsync the folder, so a crash leaves the old file or
 * the new one, never half of either. Every file written is created
 * exclusively (never through a planted symbolic link) with an exact mode,
 * whatever the umask. Hosted (Linux).
 * Errors: LEAL_E_NOT_FOUND, LEAL_E_PERMISSION, LEAL_E_TOO_LARGE, LEAL_E_IO,
 * LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_FILE_H
#define LEAL_FILE_H

#include <stdbool.h>
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

/* As file_write_atomic, but an existing path is refused (LEAL_E_EXISTS). */
LEAL_MUST_CHECK leal_err file_write_new(const char *path, const uint8_t *data, size_t len,
                                        mode_t mode);

/* The folder part of path ("." for a bare name) into out. */
LEAL_MUST_CHECK leal_err file_parent(const char *path, char *out, size_t cap);

/* A new private folder (mode 0700, random name, made with mkdtemp) in
 * path's folder, for a writer that opens its temporary file by name
 * (SQLite, with its journal beside it): nobody else can plant a file or a
 * symbolic link in it. LEAL_E_NOT_FOUND if path's folder does not exist. */
LEAL_MUST_CHECK leal_err file_private_dir(const char *path, char *dir, size_t cap);

/* Creates path exclusively (O_EXCL, O_NOFOLLOW), empty, with exactly mode
 * whatever the umask. LEAL_E_EXISTS if anything (a symbolic link too) is there. */
LEAL_MUST_CHECK leal_err file_create_new(const char *path, mode_t mode);

/* fsyncs the file at path (not following a symbolic link). */
LEAL_MUST_CHECK leal_err file_sync(const char *path);

/* Renames from to to and syncs to's folder. Without replace, an existing to
 * is refused (LEAL_E_EXISTS) atomically (renameat2 RENAME_NOREPLACE, or a
 * hard link where the file system lacks it). */
LEAL_MUST_CHECK leal_err file_rename(const char *from, const char *to, bool replace);

/* Creates every missing folder of path's parent with mode 0700. */
LEAL_MUST_CHECK leal_err file_mkdir_parents(const char *path);

/* $XDG_DATA_HOME/leal/NAME (or ~/.local/share/leal/NAME) into out. */
LEAL_MUST_CHECK leal_err file_default_path(const char *name, char *out, size_t cap);

#endif
