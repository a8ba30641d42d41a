/*
 * passphrase.h - where a command gets a passphrase: a file named by an option
 * (its first line only), an environment variable, or a no-echo prompt on
 * /dev/tty, in that order. Passphrases are never echoed, logged or put in
 * argv.
 *
 * passphrase_take_env() runs first thing in main: every LEAL_*PASSPHRASE
 * variable is copied into memory kept out of core dumps, its bytes in the
 * process's environment block are overwritten and the variable is unset, so
 * neither child processes nor /proc/PID/environ keep it. Scripts should
 * prefer --passphrase-file (a file of mode 0600, or a pipe such as
 * <(pass show leal)).
 *
 * A passphrase file: the first line counts (up to the first newline, a
 * trailing CR dropped), what follows is ignored; a NUL byte in the first
 * line is refused (LEAL_E_FORMAT) rather than silently cutting the
 * passphrase short; a first line over LEAL_MAX_PASSPHRASE bytes is
 * LEAL_E_TOO_LARGE. Files and pipes are both accepted.
 */
#ifndef LEAL_PASSPHRASE_H
#define LEAL_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

#include "keys/base/err.h"
#include "keys/base/limits.h"

#define PASSPHRASE_MIN 8

struct passphrase {
    char text[LEAL_MAX_PASSPHRASE + 1];
    size_t len;
};

/* Moves LEAL_*PASSPHRASE variables out of the environment (see above). */
void passphrase_take_env(void);

/* Wipes and frees what passphrase_take_env() took. An atexit handler runs
 * it when the process exits normally; a program that ends without its exit
 * handlers (leal-terminal) calls it first. Idempotent. */
void passphrase_forget_env(void);

/* what names it in prompts ("keystore", "backup", "bundle"); env is the
 * variable taken by passphrase_take_env() to use when no file is given. With
 * confirm (a new passphrase), a prompt asks twice, and fewer than
 * PASSPHRASE_MIN characters are refused (LEAL_E_ARG). */
LEAL_MUST_CHECK leal_err passphrase_get(const char *file, const char *env, const char *what,
                                        bool confirm, struct passphrase *out);
void passphrase_clear(struct passphrase *p);

#endif
