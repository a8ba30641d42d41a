/* fuzz_pn532_frame.c - the PN532 frame parser on arbitrary serial bytes, and
 * every frame it accepts rebuilt and parsed back to the same body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "firmware/core/pn532_frame.h"
#include "keys/base/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct pn532_frame f, g;
        size_t consumed = 0, bl = 0, c2 = 0;
        uint8_t built[LEAL_MAX_PN532_FRAME];
        leal_err err = pn532_frame_parse(data + off, size - off, &f, &consumed);
        if (consumed > size - off)
            __builtin_trap();
        if (err == LEAL_OK && f.kind == PN532_FRAME_INFO) {
            if (f.len == 0 || f.len > PN532_MAX_BODY)
                __builtin_trap();
            if (pn532_frame_build(f.body, f.len, built, sizeof built, &bl) != LEAL_OK ||
                pn532_frame_parse(built, bl, &g, &c2) != LEAL_OK || c2 != bl || g.len != f.len ||
                memcmp(g.body, f.body, f.len) != 0)
                __builtin_trap();
        }
        if (consumed == 0)
            break;
        off += consumed;
    }
    return 0;
}
