/* fuzz_identity_record.c - identity_decode on any bytes; a decoded record re-encodes to them. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/records/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct identity id;
    uint8_t out[IDENTITY_LEN];
    if (identity_decode(data, size, &id) == LEAL_OK) {
        if (identity_encode(&id, out) != LEAL_OK || size != IDENTITY_LEN ||
            memcmp(out, data, IDENTITY_LEN) != 0)
            __builtin_trap();
    }
    return 0;
}
