/*
 * buf.h - bounded readers and writers over caller memory (API after OpenSSH's
 * sshbuf, memory model after Monocypher: no allocation). The only way leal
 * touches bytes that came from outside. On failure a reader's position and
 * the out-value are unchanged; a writer's length is unchanged.
 * Errors: LEAL_E_TRUNCATED (reader short), LEAL_E_NO_SPACE (writer full),
 * LEAL_E_TRAILING (buf_expect_end). Freestanding.
 * buf_get_fields/buf_put_fields read or write a struct's fixed fields from a
 * table (BUF_FIELD entries, in wire order): one loop rather than a chain of
 * calls for each struct. They are the exception to the rule above: on a
 * failure the fields before the one that did not fit are read or written.
 */
#ifndef LEAL_BUF_H
#define LEAL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Fields are private by convention: do not rely on them. */
struct buf_reader {
    const uint8_t *p;
    size_t len;
    size_t off;
};

struct buf_writer {
    uint8_t *p;
    size_t cap;
    size_t len;
};

void buf_reader_init(struct buf_reader *r, const uint8_t *p, size_t len);
/* Bytes not yet consumed. */
size_t buf_remaining(const struct buf_reader *r);

LEAL_MUST_CHECK leal_err buf_get_u8(struct buf_reader *r, uint8_t *v);
LEAL_MUST_CHECK leal_err buf_get_be16(struct buf_reader *r, uint16_t *v);
LEAL_MUST_CHECK leal_err buf_get_be32(struct buf_reader *r, uint32_t *v);
LEAL_MUST_CHECK leal_err buf_get_be64(struct buf_reader *r, uint64_t *v);
LEAL_MUST_CHECK leal_err buf_get_le16(struct buf_reader *r, uint16_t *v);
LEAL_MUST_CHECK leal_err buf_get_le24(struct buf_reader *r, uint32_t *v);
LEAL_MUST_CHECK leal_err buf_get_le32(struct buf_reader *r, uint32_t *v);
/* Copies n bytes to out. */
LEAL_MUST_CHECK leal_err buf_get_bytes(struct buf_reader *r, uint8_t *out, size_t n);
/* Points *p at the next n bytes (valid while the reader's memory is). */
LEAL_MUST_CHECK leal_err buf_get_view(struct buf_reader *r, size_t n, const uint8_t **p);
/* Makes sub a reader over the next n bytes and consumes them (for TLV/records). */
LEAL_MUST_CHECK leal_err buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub);
LEAL_MUST_CHECK leal_err buf_skip(struct buf_reader *r, size_t n);
/* LEAL_OK if nothing remains, LEAL_E_TRAILING otherwise. */
LEAL_MUST_CHECK leal_err buf_expect_end(const struct buf_reader *r);

/* A field's wire form (big-endian) and its member's type. */
enum buf_field_kind {
    BUF_U8 = 0,      /* 1 byte: a uint8_t */
    BUF_U16 = 1,     /* 2 bytes: a uint16_t or int16_t (two's complement) */
    BUF_U32 = 2,     /* 4 bytes: a uint32_t */
    BUF_U64 = 3,     /* 8 bytes: a uint64_t or int64_t (two's complement) */
    BUF_U32_I64 = 4, /* 4 bytes, unsigned: an int64_t (written: its low 32 bits) */
    BUF_U64_I64 = 5, /* 8 bytes: an int64_t; read from 2^63 up as -1 */
};
/* A table entry: the member's offset (below 4096: a user asserts its struct's
 * size) and its kind. */
#define BUF_FIELD(type, member, kind) ((uint16_t)(offsetof(type, member) << 4 | (kind)))
#define BUF_FIELDS_MAX_STRUCT 4096u
#define BUF_N_FIELDS(table) (sizeof(table) / sizeof((table)[0]))
/* Reads n fields of the struct at dst from r, in the table's order. */
LEAL_MUST_CHECK leal_err buf_get_fields(struct buf_reader *r, void *dst, const uint16_t *fields,
                                        size_t n);
/* Writes n fields of the struct at src to w, in the table's order. */
LEAL_MUST_CHECK leal_err buf_put_fields(struct buf_writer *w, const void *src,
                                        const uint16_t *fields, size_t n);

void buf_writer_init(struct buf_writer *w, uint8_t *p, size_t cap);
size_t buf_writer_len(const struct buf_writer *w);
LEAL_MUST_CHECK leal_err buf_put_u8(struct buf_writer *w, uint8_t v);
LEAL_MUST_CHECK leal_err buf_put_be16(struct buf_writer *w, uint16_t v);
LEAL_MUST_CHECK leal_err buf_put_be32(struct buf_writer *w, uint32_t v);
LEAL_MUST_CHECK leal_err buf_put_be64(struct buf_writer *w, uint64_t v);
LEAL_MUST_CHECK leal_err buf_put_le16(struct buf_writer *w, uint16_t v);
LEAL_MUST_CHECK leal_err buf_put_le24(struct buf_writer *w, uint32_t v);
LEAL_MUST_CHECK leal_err buf_put_le32(struct buf_writer *w, uint32_t v);
LEAL_MUST_CHECK leal_err buf_put_bytes(struct buf_writer *w, const uint8_t *p, size_t n);
/* Reserves n bytes and points *dst at them, for callers that fill in place. */
LEAL_MUST_CHECK leal_err buf_reserve(struct buf_writer *w, size_t n, uint8_t **dst);

#endif
