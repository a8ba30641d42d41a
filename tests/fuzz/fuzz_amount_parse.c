/* fuzz_amount_parse.c - amount_parse and amount_parse_units on any bytes:
 * never crash, and every accepted amount formats and parses back to itself. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "host/ledger/amount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t v = 0, back = 0, u = 0;
    char out[AMOUNT_FORMAT_MAX];
    if (amount_parse((const char *)data, size, &v) == LEAL_OK) {
        if (v > AMOUNT_MAX_CENTS || v < -AMOUNT_MAX_CENTS)
            __builtin_trap();
        if (amount_format(v, out, sizeof out) != LEAL_OK)
            __builtin_trap();
        if (amount_parse(out, strlen(out), &back) != LEAL_OK || back != v)
            __builtin_trap();
    }
    if (amount_parse_units((const char *)data, size, &u) == LEAL_OK &&
        (u > AMOUNT_MAX_UNITS || u < -AMOUNT_MAX_UNITS))
        __builtin_trap();
    return 0;
}
