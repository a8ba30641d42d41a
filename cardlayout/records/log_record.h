/*
 * log_record.h - the DESFire log record of LAYOUT.md 2.5 (LAYOUT_LOG_RECORD_LEN, 16 bytes):
 * 01 03 || op || 00 || counter after (BE32) || amount (BE i32, cents) ||
 * terminal id (BE32, 0 = host). Freestanding.
 * Errors: LEAL_E_ARG (encode of an unknown op), LEAL_E_TRUNCATED,
 * LEAL_E_TRAILING, LEAL_E_LAYOUT_VERSION, LEAL_E_FORMAT.
 */
#ifndef LEAL_LOG_RECORD_H
#define LEAL_LOG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/layout.h"
#include "keys/base/err.h"

enum log_record_op {
    LOG_RECORD_ISSUE = 1,
    LOG_RECORD_TOPUP = 2,
    LOG_RECORD_VOID = 3,
    LOG_RECORD_REPLACE_IN = 4,
    LOG_RECORD_BLOCK = 5,
};

struct log_record {
    uint8_t op; /* enum log_record_op */
    uint32_t counter;
    int32_t amount;
    uint32_t terminal_id;
};

LEAL_MUST_CHECK leal_err log_record_encode(const struct log_record *r,
                                           uint8_t out[LAYOUT_LOG_RECORD_LEN]);
LEAL_MUST_CHECK leal_err log_record_decode(const uint8_t *p, size_t len, struct log_record *out);

#endif
