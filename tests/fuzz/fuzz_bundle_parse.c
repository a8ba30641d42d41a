/* fuzz_bundle_parse.c - the terminal bundle decoder and container header. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/bundle.h"
#include "keys/hosted/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned consumed; /* keeps results observable */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bundle b;
    if (keystore_peek(KEYSTORE_KIND_BUNDLE, data, size) == LEAL_OK)
        consumed++;
    if (bundle_decode(data, size, &b) == LEAL_OK) {
        uint8_t out[BUNDLE_MAX_ENCODED];
        size_t len;
        if (bundle_encode(&b, out, sizeof out, &len) != LEAL_OK || len != size ||
            memcmp(out, data, size) != 0)
            abort();
        if (bundle_check(&b, b.issuer_id, b.program_id, b.created) == LEAL_OK)
            consumed++;
    }
    return 0;
}
