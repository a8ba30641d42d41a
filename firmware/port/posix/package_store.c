/* package_store.c - the terminal package in two copies (package_store.h). */
#include "package_store.h"

#include "keys/base/bytes.h"

static const uint8_t store_magic[4] = {'L', 'P', 'K', 0x01};

static leal_err copy_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    const struct package_store_copy *c = ctx;
    const struct package_store *ps = c->ps;
    if ((uint64_t)offset + len > ps->capacity)
        return LEAL_E_ARG;
    return ps->st->read(ps->st->ctx, c->base + PACKAGE_STORE_HEADER_LEN + offset, out, len);
}

leal_err package_store_init(struct package_store *ps, const struct port_storage *st)
{
    if (ps == NULL || port_storage_check(st) != LEAL_OK || st->unit_count % 2 != 0)
        return LEAL_E_ARG;
    ps->st = st;
    ps->copy_units = st->unit_count / 2;
    ps->capacity = ps->copy_units * st->unit_size - PACKAGE_STORE_HEADER_LEN;
    for (int i = 0; i < 2; i++) {
        ps->copies[i].ps = ps;
        ps->copies[i].base = (uint32_t)i * ps->copy_units * st->unit_size;
    }
    ps->winner = -1;
    return LEAL_OK;
}

/* Copy i as a source, from its header: LEAL_E_NOT_FOUND if the header is not
 * whole (never written, or its write was torn). */
static leal_err copy_source(const struct package_store *ps, int i, struct package_source *src)
{
    uint8_t h[PACKAGE_STORE_HEADER_LEN];
    uint32_t len;
    leal_err err = ps->st->read(ps->st->ctx, ps->copies[i].base, h, sizeof h);
    if (err != LEAL_OK)
        return err;
    len = load_be32(h + 4);
    if (leal_memcmp(h, store_magic, sizeof store_magic) != 0 || len == 0 || len > ps->capacity)
        return LEAL_E_NOT_FOUND;
    src->read = copy_read;
    src->ctx = (void *)(uintptr_t)&ps->copies[i]; /* read only */
    src->size = len;
    return LEAL_OK;
}

leal_err package_store_select(struct package_store *ps, const struct crypto_provider *cp,
                              const struct package_expect *e, struct package_terminal *t,
                              unsigned *valid_copies)
{
    struct package_expect any = *e;
    struct package_source src[2];
    struct package_info info[2];
    bool valid[2] = {false, false};
    leal_err err;
    *valid_copies = 0;
    ps->winner = -1;
    t->loaded = false;
    /* Expiry is not validity (package_store.h): now 0 passes every copy's
     * valid_until; the version order is the store's own rule. */
    any.now = 0;
    any.loaded_version = 0;
    for (int i = 0; i < 2; i++) {
        err = copy_source(ps, i, &src[i]);
        if (err == LEAL_E_NOT_FOUND)
            continue;
        if (err != LEAL_OK)
            return err;
        valid[i] = package_verify(cp, &src[i], &any, &info[i]) == LEAL_OK;
        *valid_copies += valid[i] ? 1u : 0u;
    }
    /* The newer valid copy first; a copy whose rules do not decode (never
     * written by a load, which checks them) is passed over. */
    int order[2] = {0, 1};
    if (valid[1] && (!valid[0] || info[1].version > info[0].version)) {
        order[0] = 1;
        order[1] = 0;
    }
    for (int k = 0; k < 2; k++) {
        int i = order[k];
        if (!valid[i])
            continue;
        err = package_load_into(t, cp, &src[i], &any);
        if (err == LEAL_OK) {
            ps->winner = i;
            return LEAL_OK;
        }
        if (err != LEAL_E_PACKAGE_RULES)
            return err;
        *valid_copies -= 1;
    }
    return LEAL_OK;
}

/* Programs len bytes at offset, one call per unit crossed (port.h). */
static leal_err program_span(const struct port_storage *st, uint32_t offset, const uint8_t *p,
                             uint32_t len)
{
    while (len > 0) {
        uint32_t room = st->unit_size - offset % st->unit_size;
        uint32_t n = len < room ? len : room;
        leal_err err = st->program(st->ctx, offset, p, n);
        if (err != LEAL_OK)
            return err;
        offset += n;
        p += n;
        len -= n;
    }
    return LEAL_OK;
}

/* The new package's rule set decoded into a scratch of this frame, which
 * is not under package_verify's (the signature check, the LOAD's other deep
 * chain): a refusal before anything is written. The rules are decoded
 * where they lie (package_rules_in), so this frame's 2.2 KiB scratch is
 * the only copy on the stack. */
LEAL_NOINLINE static leal_err rules_decode_in(const struct package_info *info, const uint8_t *pkg)
{
    struct rules_versioned scratch;
    return package_rules_in(info, pkg, &scratch);
}

/* Copy target's package is byte for byte pkg: its header whole and naming
 * len, each byte read back in pieces (LEAL_E_IO where one differs). */
static leal_err read_back(const struct package_store *ps, int target, const uint8_t *pkg,
                          uint32_t len, struct package_source *src)
{
    uint8_t piece[64];
    leal_err err = copy_source(ps, target, src);
    if (err != LEAL_OK)
        return err == LEAL_E_NOT_FOUND ? LEAL_E_IO : err;
    if (src->size != len)
        return LEAL_E_IO;
    for (uint32_t off = 0; off < len; off += (uint32_t)sizeof piece) {
        uint32_t n = len - off < sizeof piece ? len - off : (uint32_t)sizeof piece;
        if ((err = src->read(src->ctx, off, piece, n)) != LEAL_OK)
            return err;
        if (leal_memcmp(piece, pkg + off, n) != 0)
            return LEAL_E_IO;
    }
    return LEAL_OK;
}

leal_err package_store_load(struct package_store *ps, const struct crypto_provider *cp,
                            const struct package_expect *e, struct package_terminal *t,
                            const uint8_t *pkg, uint32_t len)
{
    const struct port_storage *st = ps->st;
    struct package_source mem = {package_memory_read, (void *)(uintptr_t)pkg, len};
    struct package_expect ex = *e;
    struct package_info info;
    struct package_source src;
    uint8_t h[PACKAGE_STORE_HEADER_LEN];
    uint32_t units, base, first_unit;
    int target = ps->winner == 0 ? 1 : 0;
    leal_err err;

    /* Everything a terminal checks, before a byte is written: the package
     * verified, then its rule set decoded (a frame of its own). No second
     * terminal is kept on the stack: t changes only at the end, from what
     * was checked here. */
    ex.loaded_version = t->loaded ? t->info.version : 0;
    if ((err = package_verify(cp, &mem, &ex, &info)) != LEAL_OK ||
        (err = rules_decode_in(&info, pkg)) != LEAL_OK)
        return err;
    if (len > ps->capacity)
        return LEAL_E_TOO_LARGE;
    base = ps->copies[target].base;
    first_unit = base / st->unit_size;
    units = (PACKAGE_STORE_HEADER_LEN + len + st->unit_size - 1) / st->unit_size;
    /* The header's unit first: from its erase on, this copy cannot verify. */
    for (uint32_t u = 0; u < units; u++)
        if ((err = st->erase(st->ctx, first_unit + u)) != LEAL_OK)
            return err;
    if ((err = program_span(st, base + PACKAGE_STORE_HEADER_LEN, pkg, len)) != LEAL_OK)
        return err;
    leal_memcpy(h, store_magic, sizeof store_magic);
    store_be32(h + 4, len);
    if ((err = program_span(st, base, h, sizeof h)) != LEAL_OK)
        return err;
    /* Read back: what is in storage is, byte for byte, what was verified
     * (so it verifies as the copy package_store_select will choose). */
    if ((err = read_back(ps, target, pkg, len, &src)) != LEAL_OK)
        return err;
    /* t takes the copy; its rules decode from pkg's bytes, which decoded
     * above (the codec is a function of its input: this cannot fail). */
    if ((err = package_rules_in(&info, pkg, &t->rules)) != LEAL_OK) {
        t->loaded = false; /* never: the same bytes decoded above */
        return err;
    }
    t->info = info;
    t->source = src;
    t->loaded = true;
    ps->winner = target;
    return LEAL_OK;
}
