/*
 * till_line.h - the till's tap lines: one line of text from a till asks for
 * one tap, the same taps as leal-terminal tap's options (terminal_tap.c),
 * amounts in whole cents. The Cortex-M3 board reads them on its UART
 * (firmware/port/cortex-m/till.c); the words, one space between arguments:
 *   EARN <cents> [<category>=<cents> ...]        --earn, --category (up to 16)
 *   PAY <cents>                                  --pay
 *   PAYEARN <pay cents> <sale cents> [<category>=<cents> ...]   --pay --earn
 *   REDEEM <reward id>                           --redeem
 *   STAMP <card 1..4>                            --stamp
 *   BONO <kind id>                               --bono
 *   VOID, BALANCE                                --void, --balance
 * Amounts 1..RULES_MAX_SALE_CENTS, categories 1..65535, ids 1..2^32-1.
 * leal-terminal serve --stdio (firmware/port/posix/terminal_serve.c) reads the
 * same lines on standard input, split by till_line_split as the board splits
 * its UART's bytes. Freestanding; keeps nothing.
 */
#ifndef LEAL_TILL_LINE_H
#define LEAL_TILL_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/terminal.h"
#include "keys/base/err.h"

/* The arguments' longest text (16 category lines fit), NUL included. */
#define TILL_LINE_ARGS_MAX 160u

/* One whole line of len bytes (its '\n' taken off) in line, which holds
 * len + 1 bytes, split in place as the board reads them (till.c): carriage
 * returns dropped wherever they stand, *word up to the first space, *args the
 * rest after that space ("" when none), *spaced whether that space was there
 * (the board's TIME or LOAD need it, its EXPORT or END refuse it). An empty
 * *word without a space is a blank line, which the board skips unanswered.
 * LEAL_E_FORMAT: a NUL byte in the line (a till writes text);
 * LEAL_E_TOO_LARGE: arguments of TILL_LINE_ARGS_MAX bytes or more, as the
 * board refuses them (*word is then the line's word: a line the board would
 * not take at all is told apart from long arguments). *args is "" on an
 * error, *word "" on LEAL_E_FORMAT. */
LEAL_MUST_CHECK leal_err till_line_split(char *line, size_t len, const char **word,
                                         const char **args, bool *spaced);

/* The tap the line's word and arguments ask for: *req filled on LEAL_OK.
 * LEAL_E_USAGE: not a tap's word; LEAL_E_FORMAT: arguments missing,
 * malformed, out of range or left over; LEAL_E_TOO_LARGE: over 16 categories. */
LEAL_MUST_CHECK leal_err till_line_request(const char *word, const char *args,
                                           struct terminal_request *req);

/* A decimal lo..max at *p, followed by sep ('=') or, when sep is ' ', by the
 * end or one space before another argument; *p goes past the separator. */
LEAL_MUST_CHECK leal_err till_line_number(const char **p, char sep, uint64_t lo, uint64_t max,
                                          uint64_t *out);

#endif
