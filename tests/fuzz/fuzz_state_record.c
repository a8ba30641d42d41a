/* fuzz_state_record.c - the DESFire state file decoder (layout versions 1 and
 * 2, 32 bytes; 3, 36 bytes with the purse mirror); a decoded file re-encodes
 * to it, byte for byte and at its length, and the decoder that drops the
 * mirror agrees with it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/layout.h"
#include "cardlayout/records/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state_body s, plain;
    uint64_t card_id, plain_id;
    int32_t mirror;
    size_t len = 0;
    uint8_t out[STATE_FILE_MAX], version, plain_version;
    if (state_file_decode_mirror(data, size, &version, &card_id, &s, &mirror) == LEAL_OK) {
        if ((version != LAYOUT_VERSION && version != LAYOUT_VERSION_BONOS &&
             version != LAYOUT_VERSION_MIRROR) ||
            state_file_encode_mirror(version, card_id, &s, mirror, out, &len) != LEAL_OK ||
            size != len || memcmp(out, data, len) != 0)
            __builtin_trap();
        if (state_file_decode(data, size, &plain_version, &plain_id, &plain) != LEAL_OK ||
            plain_version != version ||
            state_file_encode_mirror(plain_version, plain_id, &plain, mirror, out, &len) !=
                LEAL_OK ||
            size != len || memcmp(out, data, len) != 0)
            __builtin_trap();
    }
    return 0;
}
