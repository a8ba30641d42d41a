/*
 * posix_terminal.h - a POSIX terminal's data folder, opened: its bundle in a
 * software SAM, its journal and its package store (two copies), over the
 * files of posix_port.h, with the folder locked against a second
 * leal-terminal process. Every command opens the bundle once, at its start
 * (scrypt is slow on purpose: never once per tap), and closes it, wiping the
 * keys, at its end.
 *
 * Why one hosted dependency: the bundle file is sealed with scrypt and
 * AES-256-GCM (keys/hosted/keystore.h) so that a stolen till's disk gives
 * nothing without the passphrase; opening it takes OpenSSL through
 * host/keys/keyfile.h. Nothing else of host/ is linked into the terminal's
 * path, and the core (sam, journal, package, the transactions) runs on the
 * portable provider (keys/portable) only, as a board without OpenSSL would.
 * Errors: LEAL_E_EXISTS (init over a terminal), LEAL_E_NOT_FOUND (no
 * terminal in the folder), LEAL_E_READER_BUSY (another command holds the
 * folder), the bundle's, the storage's, the journal's and the package's.
 * Hosted.
 */
#ifndef LEAL_POSIX_TERMINAL_H
#define LEAL_POSIX_TERMINAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/journal.h"
#include "firmware/core/journal_sum.h"
#include "firmware/core/package.h"
#include "firmware/core/sam.h"
#include "firmware/port/posix/file_storage.h"
#include "firmware/port/posix/package_store.h"
#include "firmware/port/posix/posix_port.h"

/* Where an open stopped, for the caller's message. */
enum posix_terminal_stage {
    POSIX_STAGE_FOLDER = 1, /* the folder, its lock, its files */
    POSIX_STAGE_BUNDLE,     /* the bundle: file, passphrase, expiry */
    POSIX_STAGE_JOURNAL,
    POSIX_STAGE_PACKAGE,
};

struct posix_terminal {
    const struct crypto_provider *cp; /* the portable provider */
    char dir[PATH_MAX];
    int lock_fd;
    uint8_t stage; /* enum posix_terminal_stage of the last error */
    struct sam_soft soft;
    struct sam sam;
    struct sam_info info;
    /* The bundle's pins of the sync server's key (public; terminal_net.c). */
    uint8_t server_pin_count;
    uint8_t server_pin[BUNDLE_MAX_SERVER_PINS][BUNDLE_PIN_LEN];
    struct file_storage journal_fs, package_fs;
    const struct port_storage *journal_st, *package_st;
    struct journal journal;
    struct journal_report journal_report;
    bool journal_read_only; /* journal_open answered LEAL_E_JOURNAL_FULL */
    struct journal_sum sum; /* from POSIX_SUM_FILE; saved at close when it moved on */
    bool sum_loaded;        /* the file's summary was current at open */
    struct journal_key sum_loaded_head;
    struct package_store store;
    struct package_terminal package;
    unsigned package_copies; /* copies that verified at open */
};

/* What a command hands over: the folder, the passphrase (bytes), and for a
 * test build only a hook that may wrap the storages once their files are
 * open, before anything reads them (a power cut: tests/lib/cut_storage.h);
 * NULL in leal-terminal. */
struct posix_terminal_open {
    const char *dir;
    const char *pass;
    size_t pass_len;
    void (*wrap_storage)(void *ctx, const struct port_storage **journal,
                         const struct port_storage **package);
    void *wrap_ctx;
};

/* Makes a terminal in o->dir (made 0700 if absent; its parent must exist)
 * from the bundle at bundle_path: opened with the passphrase and checked for
 * expiry, its sealed file copied into the folder, the storage files made, the
 * journal begun. t is then open as posix_terminal_open leaves it. */
LEAL_MUST_CHECK leal_err posix_terminal_init(struct posix_terminal *t,
                                             const struct posix_terminal_open *o,
                                             const char *bundle_path);

/* Opens the terminal in o->dir. t must be zeroed memory (secmem: it holds the
 * SAM). On error, t->stage says where, and t is closed. */
LEAL_MUST_CHECK leal_err posix_terminal_open(struct posix_terminal *t,
                                             const struct posix_terminal_open *o);

/* What a package must be for this terminal, at now. */
LEAL_MUST_CHECK leal_err posix_terminal_expect(struct posix_terminal *t, uint64_t now,
                                               struct package_key keys[PACKAGE_MAX_KEYS],
                                               struct package_expect *e);

/* Saves the journal's summary (POSIX_SUM_FILE) if it is current and moved on
 * since open, wipes the keys, closes the files, unlocks the folder. */
void posix_terminal_close(struct posix_terminal *t);

/* Replaces path with len bytes (a temporary file beside it, fsync, rename,
 * the folder synced), with mode (0644, 0600): nothing half written under
 * its name. */
LEAL_MUST_CHECK leal_err posix_file_replace(const char *path, const uint8_t *p, size_t len,
                                            unsigned mode);

/* Reads a whole file of at most cap bytes into *p (malloc'ed; the caller
 * frees it). LEAL_E_NOT_FOUND, LEAL_E_TOO_LARGE, LEAL_E_IO. */
LEAL_MUST_CHECK leal_err posix_file_read(const char *path, size_t cap, uint8_t **p, size_t *len);

#endif
