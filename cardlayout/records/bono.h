/*
 * bono.h - the DESFire bono file of layout version 2 (LAYOUT.md 4.2,
 * BONO_FILE_LEN = 34 bytes): 02 || 04 || four slots of bono id (BE32, the rule
 * set's; 0: free) || sessions left (BE16) || last day (BE16, days since
 * 1970-01-01; 0: none). A free slot is all zero; a bono id is in one slot at
 * most. Freestanding.
 * Errors: LEAL_E_ARG, LEAL_E_TRUNCATED, LEAL_E_TRAILING,
 * LEAL_E_LAYOUT_VERSION, LEAL_E_FORMAT, LEAL_E_NO_SPACE (no free slot),
 * LEAL_E_RANGE (sessions past 65535).
 */
#ifndef LEAL_BONO_H
#define LEAL_BONO_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

#define BONO_SLOTS 4
#define BONO_SLOT_LEN 8
#define BONO_FILE_LEN (2 + BONO_SLOTS * BONO_SLOT_LEN)

struct bono_slot {
    uint32_t id; /* 0: free (then sessions and last_day are 0) */
    uint16_t sessions;
    uint16_t last_day; /* days since 1970-01-01, 0: no last day */
};

struct bono_file {
    struct bono_slot slot[BONO_SLOTS];
};

LEAL_MUST_CHECK leal_err bono_file_encode(const struct bono_file *b, uint8_t out[BONO_FILE_LEN]);
/* *out zeroed on any refusal. */
LEAL_MUST_CHECK leal_err bono_file_decode(const uint8_t *p, size_t len, struct bono_file *out);
/* The slot holding bono id, or -1. */
int bono_file_find(const struct bono_file *b, uint32_t id);
/* A sale of sessions of bono id lasting to last_day: added to its slot (the
 * later last day kept; 0 wins: no end), else into the first free slot. b is
 * unchanged on an error. */
LEAL_MUST_CHECK leal_err bono_file_add(struct bono_file *b, uint32_t id, uint16_t sessions,
                                       uint16_t last_day);

#endif
