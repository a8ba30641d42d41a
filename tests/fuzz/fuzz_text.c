/* fuzz_text.c - host/text on any bytes: text_check, text_fold and
 * text_phone_key never crash; a key is valid UTF-8, folding it again gives
 * itself, and text_check accepts it whenever it accepted the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "host/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[512], key[1024], again[1024], why[64];
    int checked;
    if (size >= sizeof in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    checked = text_check(in, why, sizeof why) == LEAL_OK;
    if (text_fold(in, key, sizeof key) == LEAL_OK) {
        if (checked && text_check(key, why, sizeof why) != LEAL_OK)
            __builtin_trap();
        if (text_fold(key, again, sizeof again) != LEAL_OK || strcmp(key, again) != 0)
            __builtin_trap();
    }
    if (text_phone_key(in, key, sizeof key) == LEAL_OK &&
        (text_phone_key(key, again, sizeof again) != LEAL_OK || strcmp(key, again) != 0))
        __builtin_trap();
    return 0;
}
