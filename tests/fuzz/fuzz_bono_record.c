/* fuzz_bono_record.c - the DESFire bono file decoder (LAYOUT.md 4.2); a decoded
 * file re-encodes to it, and a sale added to it keeps it a file the decoder reads. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/records/bono.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bono_file b, back;
    uint8_t out[BONO_FILE_LEN];
    if (bono_file_decode(data, size, &b) != LEAL_OK)
        return 0;
    if (bono_file_encode(&b, out) != LEAL_OK || size != BONO_FILE_LEN ||
        memcmp(out, data, BONO_FILE_LEN) != 0)
        __builtin_trap();
    if (bono_file_add(&b, 7, 10, 20800) == LEAL_OK &&
        (bono_file_encode(&b, out) != LEAL_OK ||
         bono_file_decode(out, sizeof out, &back) != LEAL_OK || bono_file_find(&back, 7) < 0))
        __builtin_trap();
    return 0;
}
