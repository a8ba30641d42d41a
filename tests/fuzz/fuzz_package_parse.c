/* fuzz_package_parse.c - the terminal package verifier (format 2), a
 * terminal's load with its rules decode, and the lookups (firmware/core/
 * package.h) on any bytes: never a crash, never a read outside the source, the
 * header-only parse agreeing with the whole one on a package that parses, a
 * refused load leaves the terminal as it was, and a package that parses
 * answers lookups consistently: hot list, floors, pending changes, every
 * name found by (kind, item) with its text, and the site's zone giving an
 * offset that is its standard or its daylight-saving one. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/package.h"
#include "keys/hosted/provider_openssl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned consumed; /* keeps results observable */

/* RFC 8032 7.1 TEST 1 public key, as package key version 2 (the golden package's). */
static const struct package_key key = {2, {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
                                           0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
                                           0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
                                           0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a}};

/* Reads checked against the source's bounds: a read outside is a bug. */
static leal_err bounded_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    const uint8_t *const *d = ctx;
    size_t size = (size_t)(uintptr_t)d[1];
    if (offset > size || len > size - offset)
        abort();
    for (size_t i = 0; i < len; i++)
        out[i] = d[0][offset + i];
    return LEAL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *ctx[2] = {data, (const uint8_t *)(uintptr_t)size};
    struct package_source s = {bounded_read, (void *)ctx, (uint32_t)size};
    struct package_expect e = {7, 3, 1780000000u, 0, &key, 1};
    struct package_info p;
    struct package_hot h;
    struct package_floor f;
    bool found;
    uint8_t reason;
    if (size > 1u << 20)
        return 0;
    static struct package_terminal t;
    static struct rules_versioned rules;
    if (package_verify(crypto_openssl(), &s, &e, &p) == LEAL_OK)
        consumed++;
    t.loaded = false;
    if (package_load(&t, crypto_openssl(), &s, &e) == LEAL_OK) {
        if (!t.loaded || package_rules(&t.info, &s, &rules) != LEAL_OK)
            abort(); /* what loaded decodes again */
    } else if (t.loaded) {
        abort(); /* a refusal changed the terminal */
    }
    {
        /* The header-only reading agrees with the whole parse on what both read. */
        struct package_info hdr;
        leal_err he = package_parse_header(&s, &hdr), pe = package_parse(&s, &p);
        if (pe == LEAL_OK && (he != LEAL_OK || hdr.version != p.version ||
                              hdr.valid_until != p.valid_until || hdr.size != p.size))
            abort();
        if (pe != LEAL_OK)
            return 0;
    }
    /* The rules section of any parsed package: decoded or refused, never more;
     * decoded where it lies (package_rules_in) the same answer and rule set. */
    static struct rules_versioned in_place;
    leal_err re = package_rules(&p, &s, &rules);
    if (re == LEAL_OK)
        consumed++;
    if (package_rules_in(&p, data, &in_place) != re ||
        (re == LEAL_OK && memcmp(&in_place, &rules, sizeof rules) != 0))
        abort();
    /* Every listed id is found where it is, with what it says. */
    for (uint32_t i = 0; i < p.hot_count; i++) {
        if (package_hot_at(&p, &s, i, &h) != LEAL_OK ||
            package_hot_find(&p, &s, h.card_id, &found, &reason) != LEAL_OK || !found ||
            reason != h.reason)
            abort();
        if (package_hot_find(&p, &s, h.card_id + 1, &found, &reason) != LEAL_OK)
            abort();
    }
    for (uint32_t i = 0; i < p.floor_count; i++) {
        struct package_floor g;
        if (package_floor_at(&p, &s, i, &f) != LEAL_OK ||
            package_floor_find(&p, &s, f.card_id, &found, &g) != LEAL_OK || !found ||
            g.taps != f.taps)
            abort();
    }
    for (uint32_t i = 0; i < p.pending_count; i++) {
        struct package_pending c, d;
        if (package_pending_at(&p, &s, i, &c) != LEAL_OK ||
            package_pending_find(&p, &s, c.card_id, &found, &d) != LEAL_OK || !found ||
            d.points != c.points || d.upto_entry != c.upto_entry || c.kinds == 0)
            abort();
    }
    {
        struct package_name m, n;
        uint32_t cursor = 0;
        while (package_name_next(&p, &s, &cursor, &m) == LEAL_OK) {
            if (package_name_find(&p, &s, m.kind, m.item, &found, &n) != LEAL_OK || !found ||
                n.len != m.len || !package_name_text_ok((const uint8_t *)n.text, n.len))
                abort();
        }
        if (cursor != p.names_len)
            abort(); /* a parsed names section is whole records */
    }
    {
        int16_t off;
        if (package_local_offset(&p.site.zone, 1780000000u, &off) != LEAL_OK ||
            (off != p.site.zone.std_minutes && off != p.site.zone.dst_minutes))
            abort();
    }
    return 0;
}
