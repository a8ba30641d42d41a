/*
 * passphrase.h - where the CLI gets a passphrase: a file named by an option
 * (first line), an environment variable, or a no-echo prompt on /dev/tty,
 * in that order. Passphrases are never echoed, logged or put in argv.
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

/* what names it in prompts ("keystore", "backup", "bundle"). With confirm
 * (a new passphrase), a prompt asks twice, and fewer than PASSPHRASE_MIN
 * characters are refused (LEAL_E_ARG). */
LEAL_MUST_CHECK leal_err passphrase_get(const char *file, const char *env, const char *what,
                                        bool confirm, struct passphrase *out);
void passphrase_clear(struct passphrase *p);

#endif
