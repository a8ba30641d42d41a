/*
 * buf.h - bounded readers and writers over caller memory (API after OpenSSH's
 * sshbuf, memory model after Monocypher: no allocation). The only way leal
 * touches bytes that came from outside. On failure a reader's position and
 * the out-value are unchanged; a writer's length is unchanged.
 * Errors: LEAL_E_TRUNCATED (reader short), LEAL_E_NO_SPACE (writer full),
 * LEAL_E_TRAILING (buf_expect_end). Freestanding.
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
