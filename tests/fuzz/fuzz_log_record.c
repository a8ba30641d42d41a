/* fuzz_log_record.c - the DESFire log record decoder; a decoded record re-encodes to it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/records/log_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct log_record r;
    uint8_t out[LAYOUT_LOG_RECORD_LEN];
    if (log_record_decode(data, size, &r) == LEAL_OK) {
        if (log_record_encode(&r, out) != LEAL_OK || size != LAYOUT_LOG_RECORD_LEN ||
            memcmp(out, data, LAYOUT_LOG_RECORD_LEN) != 0)
            __builtin_trap();
    }
    return 0;
}
