/* fuzz_state_record.c - the DESFire state file decoder (layout versions 1 and 2); a
 * decoded file re-encodes to it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/records/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state_body s;
    uint64_t card_id;
    uint8_t out[STATE_FILE_LEN], version;
    if (state_file_decode(data, size, &version, &card_id, &s) == LEAL_OK) {
        if ((version != 1 && version != 2) ||
            state_file_encode(version, card_id, &s, out) != LEAL_OK || size != STATE_FILE_LEN ||
            memcmp(out, data, STATE_FILE_LEN) != 0)
            __builtin_trap();
    }
    return 0;
}
