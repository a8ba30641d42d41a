/* fuzz_package_zone.c - a store's zone from tz database bytes (host/package/
 * package_zone.h) on any input: the TZif footer and the POSIX TZ string
 * parser never crash or read outside the input; what they accept is a zone a
 * package may carry, and its offset at any instant is its standard or its
 * daylight-saving one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/package/package_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct package_zone *z, const uint8_t *data, size_t size)
{
    uint64_t t = 0;
    int16_t m;
    if (!package_zone_ok(z))
        abort();
    for (size_t i = 0; i < size && i < 8; i++)
        t = t << 8 | data[i];
    t %= 4102444800u; /* up to 2100 */
    if (package_local_offset(z, t, &m) != LEAL_OK || (m != z->std_minutes && m != z->dst_minutes))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct package_zone z;
    char *copy;
    if (size > 4096)
        return 0;
    /* The bytes as a TZ string, in a buffer of exactly their size. */
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (package_zone_parse(copy, size, &z) == LEAL_OK)
        check(&z, data, size);
    free(copy);
    /* The bytes as a TZif file. */
    if (package_zone_from_tzif(data, size, &z) == LEAL_OK)
        check(&z, data, size);
    return 0;
}
