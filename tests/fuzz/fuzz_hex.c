/* fuzz_hex.c - keys/base/hex on any bytes: what decodes re-encodes to the
 * same digits (lower-cased), and nothing is written past the capacity. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "keys/base/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t bytes[64];
    char text[2 * sizeof bytes + 1];
    size_t n;
    if (leal_hex_decode((const char *)data, size, bytes, sizeof bytes, &n) != LEAL_OK)
        return 0;
    if (n != size / 2 || leal_hex_encode(bytes, n, false, text, sizeof text) != LEAL_OK)
        __builtin_trap();
    for (size_t i = 0; i < size; i++) {
        char c = (char)data[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (text[i] != c)
            __builtin_trap();
    }
    return 0;
}
