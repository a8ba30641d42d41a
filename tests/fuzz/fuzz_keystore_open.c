/* fuzz_keystore_open.c - the keystore's untrusted parsers: the container header
 * (keystore_peek, before any key derivation) and the decrypted key set encoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/hosted/keystore.h"
#include "keys/keyset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned consumed; /* keeps results observable */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct keyset ks;
    if (keystore_peek(KEYSTORE_KIND_KEYSTORE, data, size) == LEAL_OK)
        consumed++;
    if (keystore_peek(KEYSTORE_KIND_BACKUP, data, size) == LEAL_OK)
        consumed++;
    if (keyset_decode(data, size, &ks) == LEAL_OK) {
        static uint8_t out[KEYSET_MAX_ENCODED];
        size_t len;
        /* What decodes must encode back to the same bytes. */
        if (keyset_encode(&ks, out, sizeof out, &len) != LEAL_OK || len != size ||
            memcmp(out, data, size) != 0)
            abort();
    }
    return 0;
}
