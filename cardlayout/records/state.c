/* state.c - LAYOUT.md 1.2 state body and the DESFire state file (versions 1, 2, 3). */
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
    return state_file_len(version) != 0;
}

size_t state_file_len(uint8_t version)
{
    if (version == LAYOUT_VERSION || version == LAYOUT_VERSION_BONOS)
        return STATE_FILE_LEN;
    return version == LAYOUT_VERSION_MIRROR ? STATE_FILE_MIRROR_LEN : 0;
}

/* The whole file in wire order (LAYOUT.md 2.3): version || card id || body,
 * then at layout version 3 the purse mirror; versions 1 and 2 stop before it. */
struct state_file {
    uint8_t version;
    uint64_t card_id;
    struct state_body body;
    uint32_t mirror;
};
#define SF(member, kind) BUF_FIELD(struct state_file, member, kind)
static const uint16_t file_fields[] = {
    SF(version, BUF_U8),          SF(card_id, BUF_U64),         SF(body.seq, BUF_U32),
    SF(body.points, BUF_U32),     SF(body.tier, BUF_U8),        SF(body.stamps[0], BUF_U8),
    SF(body.stamps[1], BUF_U8),   SF(body.stamps[2], BUF_U8),   SF(body.stamps[3], BUF_U8),
    SF(body.period, BUF_U16),     SF(body.buckets[0], BUF_U16), SF(body.buckets[1], BUF_U16),
    SF(body.buckets[2], BUF_U16), SF(body.buckets[3], BUF_U16), SF(mirror, BUF_U32),
};
_Static_assert(BUF_N_FIELDS(file_fields) == 3 + BUF_N_FIELDS(body_fields),
               "file_fields is the version, the card id, body_fields and the mirror");

/* The table's length for a file of version: the mirror only at version 3. */
static size_t file_fields_of(uint8_t version)
{
    return BUF_N_FIELDS(file_fields) - (version == LAYOUT_VERSION_MIRROR ? 0u : 1u);
}

leal_err state_file_encode_mirror(uint8_t version, uint64_t card_id, const struct state_body *s,
                                  int32_t mirror, uint8_t out[STATE_FILE_MAX], size_t *len)
{
    struct buf_writer w;
    struct state_file f;
    leal_err err;
    size_t n = state_file_len(version);

    if (s == NULL || out == NULL || len == NULL || card_id == 0 || n == 0 ||
        (version == LAYOUT_VERSION_MIRROR && mirror < 0))
        return LEAL_E_ARG;
    leal_memset(&f, 0, sizeof f);
    f.version = version;
    f.card_id = card_id;
    f.body = *s;
    f.mirror = (uint32_t)mirror;
    buf_writer_init(&w, out, n);
    if ((err = buf_put_fields(&w, &f, file_fields, file_fields_of(version))) != LEAL_OK)
        return err;
    *len = n;
    return buf_writer_len(&w) == n ? LEAL_OK : LEAL_E_INTERNAL;
}

leal_err state_file_encode(uint8_t version, uint64_t card_id, const struct state_body *s,
                           uint8_t out[STATE_FILE_LEN])
{
    uint8_t f[STATE_FILE_MAX];
    size_t n = 0;
    leal_err err;
    if (out == NULL || version == LAYOUT_VERSION_MIRROR)
        return LEAL_E_ARG; /* 36 bytes: state_file_encode_mirror */
    if ((err = state_file_encode_mirror(version, card_id, s, 0, f, &n)) != LEAL_OK)
        return err;
    leal_memcpy(out, f, STATE_FILE_LEN);
    return LEAL_OK;
}

leal_err state_file_decode_mirror(const uint8_t *p, size_t len, uint8_t *layout_version,
                                  uint64_t *card_id, struct state_body *out, int32_t *mirror)
{
    struct buf_reader r;
    struct state_file f;
    leal_err err;

    if (layout_version == NULL || card_id == NULL || out == NULL || mirror == NULL ||
        (p == NULL && len > 0))
        return LEAL_E_ARG;
    *layout_version = 0;
    *card_id = 0;
    *mirror = 0;
    leal_memset(out, 0, sizeof *out);
    if (len == 0)
        return LEAL_E_TRUNCATED;
    if (!state_version_known(p[0]))
        return LEAL_E_LAYOUT_VERSION; /* never guessed: a future layout misread */
    leal_memset(&f, 0, sizeof f);
    buf_reader_init(&r, p, len);
    if ((err = buf_get_fields(&r, &f, file_fields, file_fields_of(p[0]))) != LEAL_OK ||
        (err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (f.card_id == 0 || f.mirror > (uint32_t)INT32_MAX)
        return LEAL_E_FORMAT;
    *layout_version = f.version;
    *card_id = f.card_id;
    *out = f.body;
    *mirror = (int32_t)f.mirror;
    return LEAL_OK;
}

leal_err state_file_decode_head(const uint8_t *p, size_t len, uint8_t *layout_version,
                                uint64_t *card_id, struct state_body *out)
{
    uint8_t f[STATE_FILE_MAX];
    int32_t mirror;
    if (p == NULL || len != STATE_FILE_LEN || p[0] != LAYOUT_VERSION_MIRROR)
        return state_file_decode(p, len, layout_version, card_id, out);
    leal_memcpy(f, p, STATE_FILE_LEN);
    leal_memset(f + STATE_FILE_LEN, 0, STATE_FILE_MIRROR_LEN - STATE_FILE_LEN);
    return state_file_decode_mirror(f, STATE_FILE_MIRROR_LEN, layout_version, card_id, out,
                                    &mirror);
}

leal_err state_file_decode(const uint8_t *p, size_t len, uint8_t *layout_version, uint64_t *card_id,
                           struct state_body *out)
{
    int32_t mirror;
    return state_file_decode_mirror(p, len, layout_version, card_id, out, &mirror);
}

bool state_seq_newer(uint32_t a, uint32_t b)
{
    /* Serial-number arithmetic without signed overflow: a is newer when
     * a - b (mod 2^32) is in 1 .. 2^31 - 1. */
    uint32_t d = a - b;
    return d != 0 && d < 0x80000000u;
}
