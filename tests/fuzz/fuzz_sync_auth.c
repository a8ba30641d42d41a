/* fuzz_sync_auth.c - firmware/core/sync_auth.h's parsers on any bytes (the
 * X-Leal-Auth header a server reads, the challenge a terminal reads): what
 * parses formats back to exactly the same text, and nothing is read past len. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "firmware/core/sync_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sync_auth a;
    char text[SYNC_AUTH_HEADER_MAX];
    uint8_t nonce[SYNC_AUTH_NONCE_LEN];
    char ntext[2 * SYNC_AUTH_NONCE_LEN + 1];
    if (sync_auth_parse((const char *)data, size, &a) == LEAL_OK) {
        sync_auth_format(&a, text);
        if (strlen(text) != size || memcmp(text, data, size) != 0)
            __builtin_trap();
    }
    if (sync_auth_nonce_parse((const char *)data, size, nonce) == LEAL_OK) {
        sync_auth_nonce_format(nonce, ntext);
        if (size != 2 * SYNC_AUTH_NONCE_LEN || memcmp(ntext, data, size) != 0)
            __builtin_trap();
    }
    return 0;
}
