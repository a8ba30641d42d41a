/* state.c - LAYOUT.md 1.2 state body and the DESFire state file (versions 1, 2). */
#include "state.h"

#include "cardlayout/layout.h"
#include "keys/base/bytes.h"

/* The body's fields in their wire order (keys/base/buf.h): one table for the
 * encoder and the decoder. */
#define SB(member, kind) BUF_FIELD(struct state_body, member, kind)
static const uint16_t body_fields[] = {
    SB(seq, BUF_U32),        SB(points, BUF_U32),     SB(tier, BUF_U8),
    SB(stamps[0], BUF_U8),   SB(stamps[1], BUF_U8),   SB(stamps[2], BUF_U8),
    SB(stamps[3], BUF_U8),   SB(period, BUF_U16),     SB(buckets[0], BUF_U16),
    SB(buckets[1], BUF_U16), SB(buckets[2], BUF_U16), SB(buckets[3], BUF_U16),
};
_Static_assert(STATE_STAMPS == 4 && STATE_BUCKETS == 4, "body_fields names every stamp and bucket");

leal_err state_body_put(struct buf_writer *w, const struct state_body *s)
{
    if (w == NULL || s == NULL)
        return LEAL_E_ARG;
    return buf_put_fields(w, s, body_fields, BUF_N_FIELDS(body_fields));
}

leal_err state_body_get(struct buf_reader *r, struct state_body *out)
{
    struct state_body s;
    leal_err err;

    if (r == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = buf_get_fields(r, &s, body_fields, BUF_N_FIELDS(body_fields))) != LEAL_OK)
        return err;
    *out = s;
    return LEAL_OK;
}

bool state_version_known(uint8_t version)
{
    return version == LAYOUT_VERSION || version == LAYOUT_VERSION_BONOS;
}

leal_err state_file_encode(uint8_t version, uint64_t card_id, const struct state_body *s,
                           uint8_t out[STATE_FILE_LEN])
{
    struct buf_writer w;
    leal_err err;

    if (s == NULL || out == NULL || card_id == 0 || !state_version_known(version))
        return LEAL_E_ARG;
    buf_writer_init(&w, out, STATE_FILE_LEN);
    if ((err = buf_put_u8(&w, version)) != LEAL_OK ||
        (err = buf_put_be64(&w, card_id)) != LEAL_OK || (err = state_body_put(&w, s)) != LEAL_OK)
        return err;
    return buf_writer_len(&w) == STATE_FILE_LEN ? LEAL_OK : LEAL_E_INTERNAL;
}

leal_err state_file_decode(const uint8_t *p, size_t len, uint8_t *layout_version, uint64_t *card_id,
                           struct state_body *out)
{
    struct buf_reader r;
    struct state_body s;
    uint64_t id;
    uint8_t version;
    leal_err err;

    if (layout_version == NULL || card_id == NULL || out == NULL || (p == NULL && len > 0))
        return LEAL_E_ARG;
    *layout_version = 0;
    *card_id = 0;
    leal_memset(out, 0, sizeof *out);
    buf_reader_init(&r, p, len);
    if ((err = buf_get_u8(&r, &version)) != LEAL_OK)
        return err;
    if (!state_version_known(version))
        return LEAL_E_LAYOUT_VERSION; /* never guessed: a future layout misread */
    if ((err = buf_get_be64(&r, &id)) != LEAL_OK || (err = state_body_get(&r, &s)) != LEAL_OK ||
        (err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (id == 0)
        return LEAL_E_FORMAT;
    *layout_version = version;
    *card_id = id;
    *out = s;
    return LEAL_OK;
}

bool state_seq_newer(uint32_t a, uint32_t b)
{
    /* Serial-number arithmetic without signed overflow: a is newer when
     * a - b (mod 2^32) is in 1 .. 2^31 - 1. */
    uint32_t d = a - b;
    return d != 0 && d < 0x80000000u;
}
