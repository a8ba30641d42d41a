/* buf.c - bounded readers and writers. */
#include "buf.h"

#include "bytes.h"

void buf_reader_init(struct buf_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
}

size_t buf_remaining(const struct buf_reader *r)
{
    return r->len - r->off;
}

/* Points *p at n bytes and consumes them, or fails leaving r unchanged. */
static leal_err take(struct buf_reader *r, size_t n, const uint8_t **p)
{
    if (n > r->len - r->off)
        return LEAL_E_TRUNCATED;
    *p = r->p + r->off;
    r->off += n;
    return LEAL_OK;
}

leal_err buf_get_u8(struct buf_reader *r, uint8_t *v)
{
    const uint8_t *p;
    leal_err err = take(r, 1, &p);
    if (err == LEAL_OK)
        *v = p[0];
    return err;
}

#define GETTER(name, type, n, load)                                                                \
    leal_err name(struct buf_reader *r, type *v)                                                   \
    {                                                                                              \
        const uint8_t *p;                                                                          \
        leal_err err = take(r, n, &p);                                                             \
        if (err == LEAL_OK)                                                                        \
            *v = load(p);                                                                          \
        return err;                                                                                \
    }

GETTER(buf_get_be16, uint16_t, 2, load_be16)
GETTER(buf_get_be32, uint32_t, 4, load_be32)
GETTER(buf_get_be64, uint64_t, 8, load_be64)
GETTER(buf_get_le16, uint16_t, 2, load_le16)
GETTER(buf_get_le24, uint32_t, 3, load_le24)
GETTER(buf_get_le32, uint32_t, 4, load_le32)

leal_err buf_get_bytes(struct buf_reader *r, uint8_t *out, size_t n)
{
    const uint8_t *p;
    leal_err err = take(r, n, &p);
    if (err == LEAL_OK && n > 0)
        leal_memcpy(out, p, n);
    return err;
}

leal_err buf_get_view(struct buf_reader *r, size_t n, const uint8_t **p)
{
    return take(r, n, p);
}

leal_err buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub)
{
    const uint8_t *p;
    leal_err err = take(r, n, &p);
    if (err == LEAL_OK)
        buf_reader_init(sub, p, n);
    return err;
}

leal_err buf_skip(struct buf_reader *r, size_t n)
{
    const uint8_t *p;
    return take(r, n, &p);
}

leal_err buf_expect_end(const struct buf_reader *r)
{
    return r->off == r->len ? LEAL_OK : LEAL_E_TRAILING;
}

/* The bytes of a field of each kind on the wire. */
static const uint8_t field_wire[6] = {1, 2, 4, 8, 4, 8};

leal_err buf_get_fields(struct buf_reader *r, void *dst, const uint16_t *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned kind = fields[i] & 15u, len = field_wire[kind];
        uint8_t *to = (uint8_t *)dst + (fields[i] >> 4);
        const uint8_t *p;
        uint64_t x = 0;
        leal_err err = take(r, len, &p);
        if (err != LEAL_OK)
            return err;
        for (unsigned j = 0; j < len; j++)
            x = x << 8 | p[j];
        if (kind == BUF_U8) {
            *to = (uint8_t)x;
        } else if (kind == BUF_U16) {
            uint16_t v = (uint16_t)x;
            leal_memcpy(to, &v, sizeof v);
        } else if (kind == BUF_U32) {
            uint32_t v = (uint32_t)x;
            leal_memcpy(to, &v, sizeof v);
        } else if (kind == BUF_U64) {
            leal_memcpy(to, &x, sizeof x);
        } else {
            int64_t v = x > (uint64_t)INT64_MAX ? -1 : (int64_t)x;
            leal_memcpy(to, &v, sizeof v);
        }
    }
    return LEAL_OK;
}

leal_err buf_put_fields(struct buf_writer *w, const void *src, const uint16_t *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned kind = fields[i] & 15u, len = field_wire[kind];
        const uint8_t *from = (const uint8_t *)src + (fields[i] >> 4);
        uint8_t *d;
        uint64_t x;
        leal_err err = buf_reserve(w, len, &d);
        if (err != LEAL_OK)
            return err;
        if (kind == BUF_U8) {
            x = *from;
        } else if (kind == BUF_U16) {
            uint16_t v;
            leal_memcpy(&v, from, sizeof v);
            x = v;
        } else if (kind == BUF_U32) {
            uint32_t v;
            leal_memcpy(&v, from, sizeof v);
            x = v;
        } else {
            leal_memcpy(&x, from, sizeof x); /* the int64_t's two's complement bits */
        }
        for (unsigned j = len; j-- > 0; x >>= 8)
            d[j] = (uint8_t)x;
    }
    return LEAL_OK;
}

void buf_writer_init(struct buf_writer *w, uint8_t *p, size_t cap)
{
    w->p = p;
    w->cap = p ? cap : 0;
    w->len = 0;
}

size_t buf_writer_len(const struct buf_writer *w)
{
    return w->len;
}

leal_err buf_reserve(struct buf_writer *w, size_t n, uint8_t **dst)
{
    if (n > w->cap - w->len)
        return LEAL_E_NO_SPACE;
    *dst = w->p + w->len;
    w->len += n;
    return LEAL_OK;
}

leal_err buf_put_u8(struct buf_writer *w, uint8_t v)
{
    uint8_t *d;
    leal_err err = buf_reserve(w, 1, &d);
    if (err == LEAL_OK)
        d[0] = v;
    return err;
}

#define PUTTER(name, type, n, store)                                                               \
    leal_err name(struct buf_writer *w, type v)                                                    \
    {                                                                                              \
        uint8_t *d;                                                                                \
        leal_err err = buf_reserve(w, n, &d);                                                      \
        if (err == LEAL_OK)                                                                        \
            store(d, v);                                                                           \
        return err;                                                                                \
    }

PUTTER(buf_put_be16, uint16_t, 2, store_be16)
PUTTER(buf_put_be32, uint32_t, 4, store_be32)
PUTTER(buf_put_be64, uint64_t, 8, store_be64)
PUTTER(buf_put_le16, uint16_t, 2, store_le16)
PUTTER(buf_put_le24, uint32_t, 3, store_le24)
PUTTER(buf_put_le32, uint32_t, 4, store_le32)

leal_err buf_put_bytes(struct buf_writer *w, const uint8_t *p, size_t n)
{
    uint8_t *d;
    leal_err err = buf_reserve(w, n, &d);
    if (err == LEAL_OK && n > 0)
        leal_memcpy(d, p, n);
    return err;
}
