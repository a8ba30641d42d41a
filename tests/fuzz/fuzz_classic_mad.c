/* fuzz_classic_mad.c - the MIFARE Classic bytes leal parses from sector 0 and from a
 * trailer: MAD v1 blocks 1-2 (32 bytes) and access bytes 6-8 (3 bytes). What decodes
 * must re-encode to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/classic/mfclassic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t mad[32] = {0}, out[32], ac[3] = {0}, cond[4], back[3], info;
    uint16_t aids[MFCLASSIC_MAD1_SECTORS];

    memcpy(mad, data, size < sizeof mad ? size : sizeof mad);
    if (mfclassic_mad1_decode(mad, &info, aids) == LEAL_OK) {
        if (info <= 0x3F && (mfclassic_mad1_encode(info, aids, out) != LEAL_OK ||
                             memcmp(out, mad, sizeof mad) != 0))
            __builtin_trap();
    }
    if (size > sizeof mad)
        memcpy(ac, data + sizeof mad, size - sizeof mad < 3 ? size - sizeof mad : 3);
    if (mfclassic_access_decode(ac, cond) == LEAL_OK) {
        if (mfclassic_access_encode(cond, back) != LEAL_OK || memcmp(back, ac, 3) != 0)
            __builtin_trap();
    }
    return 0;
}
