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
 * Freestanding; parses NUL-terminated text only, keeps nothing.
 */
#ifndef LEAL_TILL_LINE_H
#define LEAL_TILL_LINE_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/core/terminal.h"
#include "keys/base/err.h"

/* The arguments' longest text (16 category lines fit), NUL included. */
#define TILL_LINE_ARGS_MAX 160u

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
