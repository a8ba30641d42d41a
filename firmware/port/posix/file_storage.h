/*
 * file_storage.h - a port_storage (firmware/core/port.h) on a file, for the
 * POSIX terminal. A program is a pwrite then fdatasync, an erase writes 0xFF
 * over the unit then fdatasync, so each returns once durable, as port.h
 * asks. A new file is made whole (every byte 0xFF) under a temporary name,
 * synced and renamed into place (the folder synced too), so a power loss
 * never leaves a half-made storage file under its name. An existing file
 * must have exactly the geometry asked for (LEAL_E_FORMAT otherwise).
 * Errors: LEAL_E_ARG, LEAL_E_IO, LEAL_E_FORMAT, LEAL_E_PERMISSION. Hosted.
 */
#ifndef LEAL_FILE_STORAGE_H
#define LEAL_FILE_STORAGE_H

#include <stdint.h>

#include "firmware/core/port.h"

struct file_storage {
    struct port_storage port; /* give &port to the core */
    int fd;
};

/* Opens path, making it (all erased) if it does not exist. */
LEAL_MUST_CHECK leal_err file_storage_open(struct file_storage *fs, const char *path,
                                           uint32_t unit_size, uint32_t unit_count);

void file_storage_close(struct file_storage *fs);

#endif
