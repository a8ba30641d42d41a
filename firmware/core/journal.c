/* journal.c - the terminal journal (journal.h, JOURNAL.md): the entry, export
 * and ack codecs, and the journal kept in a port_storage. */
#include "journal.h"

#include "cardlayout/layout.h"
#include "cardlayout/records/bono.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

#define ACK_MAGIC_LEN 4
#define UTC_OFFSET_LIMIT 1080
#define RESERVED_LEN 3

static const uint8_t export_magic[4] = {0x4C, 0x4A, 0x45, 0x58};          /* "LJEX" */
static const uint8_t ack_magic[ACK_MAGIC_LEN] = {0x4C, 0x4A, 0x41, 0x4B}; /* "LJAK" */
static const uint8_t zero_mac[JOURNAL_MAC_LEN];

enum { STATE_CLOSED = 0, STATE_OPEN = 1, STATE_FAILED = 2 };

void journal_state_lines(const struct state_body *b, struct journal_line out[2])
{
    uint64_t v = (uint64_t)b->tier << 56;
    for (unsigned i = 0; i < STATE_STAMPS; i++)
        v |= (uint64_t)b->stamps[i] << (48 - 8 * i);
    v |= (uint64_t)b->period << 8;
    out[0] = (struct journal_line){JOURNAL_LINE_STATE, 1, b->points, (int64_t)v};
    v = 0;
    for (unsigned i = 0; i < STATE_BUCKETS; i++)
        v |= (uint64_t)b->buckets[i] << (48 - 16 * i);
    out[1] = (struct journal_line){JOURNAL_LINE_STATE, 2, b->seq, (int64_t)v};
}

void journal_state_of(const struct journal_entry *e, struct state_body *out, bool *found)
{
    leal_memset(out, 0, sizeof *out);
    *found = false;
    for (uint8_t i = 0; i + 1 < e->n_lines; i++) {
        const struct journal_line *a = &e->lines[i], *b = &e->lines[i + 1];
        if (a->source != JOURNAL_LINE_STATE || a->rule_index != 1 ||
            b->source != JOURNAL_LINE_STATE || b->rule_index != 2)
            continue;
        uint64_t v = (uint64_t)a->points;
        out->points = a->id;
        out->tier = (uint8_t)(v >> 56);
        for (unsigned k = 0; k < STATE_STAMPS; k++)
            out->stamps[k] = (uint8_t)(v >> (48 - 8 * k));
        out->period = (uint16_t)(v >> 8);
        v = (uint64_t)b->points;
        out->seq = b->id;
        for (unsigned k = 0; k < STATE_BUCKETS; k++)
            out->buckets[k] = (uint16_t)(v >> (48 - 16 * k));
        *found = true;
        return;
    }
}

_Static_assert(JOURNAL_TMAC_BONO_LEN == BONO_FILE_LEN, "a TMAC entry carries the bono file");

/* The file bytes a TMAC entry carries for flags: the state read, then the
 * state written, the bono file read and written, as they were sent. */
static size_t tmac_bytes_len(uint32_t flags)
{
    size_t n = STATE_FILE_LEN;
    if (flags & JOURNAL_TMAC_STATE_WRITTEN)
        n += STATE_FILE_LEN;
    if (flags & JOURNAL_TMAC_BONOS_READ)
        n += JOURNAL_TMAC_BONO_LEN;
    if (flags & JOURNAL_TMAC_BONOS_WRITTEN)
        n += JOURNAL_TMAC_BONO_LEN;
    return n;
}

static uint8_t tmac_lines_for(uint32_t flags)
{
    return (uint8_t)(2 + (tmac_bytes_len(flags) + 11) / 12);
}

/* The pieces of t's file bytes, in order: where each goes and its length. */
static void tmac_pieces(const struct journal_tmac *t, const uint8_t *src[4], uint8_t *dst[4],
                        size_t len[4], struct journal_tmac *w)
{
    const uint32_t f = t->flags;
    src[0] = t->state_before;
    dst[0] = w != NULL ? w->state_before : NULL;
    len[0] = STATE_FILE_LEN;
    src[1] = t->state_after;
    dst[1] = w != NULL ? w->state_after : NULL;
    len[1] = (f & JOURNAL_TMAC_STATE_WRITTEN) ? (size_t)STATE_FILE_LEN : 0;
    src[2] = t->bonos_before;
    dst[2] = w != NULL ? w->bonos_before : NULL;
    len[2] = (f & JOURNAL_TMAC_BONOS_READ) ? (size_t)JOURNAL_TMAC_BONO_LEN : 0;
    src[3] = t->bonos_after;
    dst[3] = w != NULL ? w->bonos_after : NULL;
    len[3] = (f & JOURNAL_TMAC_BONOS_WRITTEN) ? (size_t)JOURNAL_TMAC_BONO_LEN : 0;
}

void journal_tmac_put(const struct journal_tmac *t, struct journal_entry *e)
{
    uint8_t bytes[JOURNAL_TMAC_BYTES_MAX + 12];
    const uint8_t *src[4];
    uint8_t *dst[4];
    size_t len[4], n = 0;
    uint8_t lines = tmac_lines_for(t->flags);
    tmac_pieces(t, src, dst, len, NULL);
    leal_memset(bytes, 0, sizeof bytes);
    for (int i = 0; i < 4; i++) {
        if (len[i] > 0)
            leal_memcpy(bytes + n, src[i], len[i]);
        n += len[i];
    }
    e->item = t->flags & JOURNAL_TMAC_FLAGS;
    e->n_lines = lines;
    e->lines[0] = (struct journal_line){JOURNAL_LINE_TMAC, 1, t->tmc, (int64_t)load_be64(t->tmv)};
    e->lines[1] = (struct journal_line){
        JOURNAL_LINE_TMAC, 2, (uint32_t)t->counter,
        (int64_t)(((uint64_t)(uint32_t)t->purse << 32) | (uint32_t)t->purse_moved)};
    for (uint8_t i = 2; i < lines; i++) {
        const uint8_t *b = bytes + (size_t)(i - 2) * 12;
        e->lines[i] = (struct journal_line){JOURNAL_LINE_TMAC, (uint8_t)(i + 1), load_be32(b),
                                            (int64_t)load_be64(b + 4)};
    }
}

leal_err journal_tmac_get(const struct journal_entry *e, struct journal_tmac *t)
{
    uint8_t bytes[JOURNAL_TMAC_BYTES_MAX + 12];
    const uint8_t *src[4];
    uint8_t *dst[4];
    size_t len[4], n = 0, total;
    leal_memset(t, 0, sizeof *t);
    if (e->op != JOURNAL_OP_TMAC || (e->item & ~(uint32_t)JOURNAL_TMAC_FLAGS) != 0 ||
        e->n_lines != tmac_lines_for(e->item))
        return LEAL_E_JOURNAL_MALFORMED;
    for (uint8_t i = 0; i < e->n_lines; i++)
        if (e->lines[i].source != JOURNAL_LINE_TMAC || e->lines[i].rule_index != i + 1)
            return LEAL_E_JOURNAL_MALFORMED;
    t->flags = e->item;
    t->tmc = e->lines[0].id;
    store_be64(t->tmv, (uint64_t)e->lines[0].points);
    t->counter = (int32_t)e->lines[1].id;
    if ((t->flags & JOURNAL_TMAC_NO_COUNTER) && t->counter != 0)
        return LEAL_E_JOURNAL_MALFORMED;
    if ((t->flags & JOURNAL_TMAC_MIRROR) && (t->flags & JOURNAL_TMAC_PURSE_READ))
        return LEAL_E_JOURNAL_MALFORMED; /* a layout-3 tap reads its mirror, not the purse */
    t->purse = (int32_t)(uint32_t)((uint64_t)e->lines[1].points >> 32);
    t->purse_moved = (int32_t)(uint32_t)(uint64_t)e->lines[1].points;
    if ((t->flags & JOURNAL_TMAC_MIRROR) && (t->purse < 0 || t->purse_moved < 0))
        return LEAL_E_JOURNAL_MALFORMED;
    for (uint8_t i = 2; i < e->n_lines; i++) {
        store_be32(bytes + (size_t)(i - 2) * 12, e->lines[i].id);
        store_be64(bytes + (size_t)(i - 2) * 12 + 4, (uint64_t)e->lines[i].points);
    }
    total = tmac_bytes_len(t->flags);
    for (size_t i = total; i < (size_t)(e->n_lines - 2) * 12; i++)
        if (bytes[i] != 0)
            return LEAL_E_JOURNAL_MALFORMED;
    tmac_pieces(t, src, dst, len, t);
    for (int i = 0; i < 4; i++) {
        if (len[i] > 0)
            leal_memcpy(dst[i], bytes + n, len[i]);
        n += len[i];
    }
    return LEAL_OK;
}

leal_err journal_tmac_state(const struct journal_tmac *t, bool after, uint8_t out[STATE_FILE_MAX],
                            size_t *len)
{
    int64_t m = t->purse;
    leal_memcpy(out, after ? t->state_after : t->state_before, STATE_FILE_LEN);
    *len = STATE_FILE_LEN;
    if ((t->flags & JOURNAL_TMAC_MIRROR) == 0)
        return LEAL_OK;
    if (after && (t->flags & JOURNAL_TMAC_DEBIT))
        m -= t->purse_moved;
    else if (after && (t->flags & JOURNAL_TMAC_LIMITED_CREDIT))
        m += t->purse_moved;
    if (out[0] != LAYOUT_VERSION_MIRROR || m < 0 || m > INT32_MAX)
        return LEAL_E_JOURNAL_MALFORMED;
    store_be32(out + STATE_FILE_LEN, (uint32_t)m);
    *len = STATE_FILE_MIRROR_LEN;
    return LEAL_OK;
}

leal_err journal_tmac_tmi(const struct journal_tmac *t, struct desfire_tmi *tmi)
{
    const uint32_t f = t->flags;
    uint8_t before[STATE_FILE_MAX], after[STATE_FILE_MAX];
    size_t before_len = 0, after_len = 0;
    leal_err err;
    desfire_tmi_init(tmi);
    if ((err = journal_tmac_state(t, false, before, &before_len)) != LEAL_OK ||
        ((f & JOURNAL_TMAC_STATE_WRITTEN) &&
         (err = journal_tmac_state(t, true, after, &after_len)) != LEAL_OK) ||
        (err = desfire_tmi_data(tmi, DESFIRE_TMI_READ_DATA, LAYOUT_FILE_STATE, 0, before,
                                before_len)) != LEAL_OK ||
        (!(f & JOURNAL_TMAC_NO_COUNTER) &&
         (err = desfire_tmi_value(tmi, DESFIRE_TMI_GET_VALUE, LAYOUT_FILE_COUNTER, t->counter)) !=
             LEAL_OK) ||
        ((f & JOURNAL_TMAC_PURSE_READ) &&
         (err = desfire_tmi_value(tmi, DESFIRE_TMI_GET_VALUE, LAYOUT_FILE_PURSE, t->purse)) !=
             LEAL_OK) ||
        ((f & JOURNAL_TMAC_BONOS_READ) &&
         (err = desfire_tmi_data(tmi, DESFIRE_TMI_READ_DATA, LAYOUT_FILE_BONOS, 0, t->bonos_before,
                                 JOURNAL_TMAC_BONO_LEN)) != LEAL_OK) ||
        ((f & JOURNAL_TMAC_STATE_WRITTEN) &&
         (err = desfire_tmi_data(tmi, DESFIRE_TMI_WRITE_DATA, LAYOUT_FILE_STATE, 0, after,
                                 after_len)) != LEAL_OK) ||
        ((f & JOURNAL_TMAC_BONOS_WRITTEN) &&
         (err = desfire_tmi_data(tmi, DESFIRE_TMI_WRITE_DATA, LAYOUT_FILE_BONOS, 0, t->bonos_after,
                                 JOURNAL_TMAC_BONO_LEN)) != LEAL_OK) ||
        ((f & JOURNAL_TMAC_DEBIT) &&
         (err = desfire_tmi_value(tmi, DESFIRE_TMI_DEBIT, LAYOUT_FILE_PURSE, t->purse_moved)) !=
             LEAL_OK) ||
        ((f & JOURNAL_TMAC_LIMITED_CREDIT) &&
         (err = desfire_tmi_value(tmi, DESFIRE_TMI_LIMITED_CREDIT, LAYOUT_FILE_PURSE,
                                  t->purse_moved)) != LEAL_OK))
        return err;
    if (f & JOURNAL_TMAC_NO_COUNTER)
        return LEAL_OK;
    return desfire_tmi_value(tmi, DESFIRE_TMI_DEBIT, LAYOUT_FILE_COUNTER, 1);
}

/* A TMAC entry (JOURNAL.md "Transaction MAC entries"): a DESFire card's,
 * naming the operation it is about, with its lines as journal_tmac_get
 * reads them, and only in such an entry. */
static bool tmac_entry_ok(const struct journal_entry *e)
{
    struct journal_tmac t;
    return e->card_kind == JOURNAL_CARD_DESFIRE && e->card_id != 0 && e->ref_epoch != 0 &&
           e->ref_seq != 0 && journal_tmac_get(e, &t) == LEAL_OK;
}

size_t journal_entry_len(uint8_t n_lines)
{
    return JOURNAL_FIXED_LEN + (size_t)n_lines * JOURNAL_LINE_LEN + JOURNAL_MAC_LEN;
}

static bool op_known(uint8_t op)
{
    return (op >= JOURNAL_OP_EARN && op <= JOURNAL_OP_TMAC) ||
           (op >= JOURNAL_OP_EPOCH && op <= JOURNAL_OP_ACK);
}

static bool op_internal(uint8_t op)
{
    return op >= JOURNAL_OP_EPOCH;
}

/* A QR entry's own line: the last, in card kind QR only, a code kind, and
 * a counter and time step only for a spending code. */
static bool qr_line_ok(const struct journal_entry *e, const struct journal_line *l, uint8_t i)
{
    if (e->card_kind != JOURNAL_CARD_QR || i + 1 != e->n_lines)
        return false;
    if (l->rule_index == JOURNAL_QR_STATIC)
        return l->id == 0 && l->points == 0;
    return l->rule_index == JOURNAL_QR_SPEND && l->points >= 0 && l->points <= (int64_t)UINT32_MAX;
}

/* A state line: in a card's earn or pay + earn, index 1 followed by index 2,
 * nothing after the pair but a host line; index 1's last byte reserved. */
static bool state_line_ok(const struct journal_entry *e, const struct journal_line *l, uint8_t i)
{
    if ((e->op != JOURNAL_OP_EARN && e->op != JOURNAL_OP_PAY_EARN && e->op != JOURNAL_OP_PAY) ||
        (e->card_kind != JOURNAL_CARD_DESFIRE && e->card_kind != JOURNAL_CARD_CLASSIC))
        return false;
    if (l->rule_index == 1)
        return i + 1 < e->n_lines && e->lines[i + 1].source == JOURNAL_LINE_STATE &&
               e->lines[i + 1].rule_index == 2 && ((uint64_t)l->points & 0xFFu) == 0;
    return l->rule_index == 2 && i >= 1 && e->lines[i - 1].source == JOURNAL_LINE_STATE &&
           e->lines[i - 1].rule_index == 1 &&
           (i + 1 == e->n_lines ||
            (i + 2 == e->n_lines && e->lines[i + 1].source == JOURNAL_LINE_HOST));
}

/* An engine line only in an earn, before any state line; a host line
 * (JOURNAL_LINE_HOST) the last one, in an operation that writes a card's
 * state, naming a ledger entry. */
static bool line_ok(const struct journal_entry *e, uint8_t i)
{
    const struct journal_line *l = &e->lines[i];
    bool writes = e->op == JOURNAL_OP_EARN || e->op == JOURNAL_OP_PAY ||
                  e->op == JOURNAL_OP_PAY_EARN || e->op == JOURNAL_OP_REDEEM ||
                  e->op == JOURNAL_OP_STAMP;
    if (l->source == JOURNAL_LINE_HOST)
        return writes && i + 1 == e->n_lines && l->id != 0 && l->rule_index == 0 &&
               e->card_kind != JOURNAL_CARD_NONE && e->card_kind != JOURNAL_CARD_QR;
    if (l->source == JOURNAL_LINE_QR)
        return qr_line_ok(e, l, i);
    if (l->source == JOURNAL_LINE_STATE)
        return state_line_ok(e, l, i);
    if (l->source == JOURNAL_LINE_TMAC)
        return e->op == JOURNAL_OP_TMAC; /* the entry as a whole: tmac_entry_ok */
    if (e->op == JOURNAL_OP_TMAC)
        return false;
    return (e->op == JOURNAL_OP_EARN || e->op == JOURNAL_OP_PAY_EARN) &&
           l->source >= RULES_LINE_BASE && l->source <= RULES_LINE_RULE;
}

/* A QR entry (JOURNAL.md "QR entries"): an operation a code may do, or a
 * refusal; no card counters; a taken operation names its code and ends
 * with its QR line. */
static bool qr_entry_ok(const struct journal_entry *e)
{
    bool taken = e->op == JOURNAL_OP_EARN || e->op == JOURNAL_OP_PAY ||
                 e->op == JOURNAL_OP_PAY_EARN || e->op == JOURNAL_OP_STAMP ||
                 e->op == JOURNAL_OP_BONO || e->op == JOURNAL_OP_REDEEM;
    if (!taken && e->op != JOURNAL_OP_REFUSAL)
        return false;
    if (e->counter_before != 0 || e->counter_after != 0)
        return false;
    return !taken || (e->card_id != 0 && e->n_lines > 0 &&
                      e->lines[e->n_lines - 1].source == JOURNAL_LINE_QR);
}

/* The field rules of JOURNAL.md "Entry", checked on both ways. */
static bool entry_fields_ok(const struct journal_entry *e)
{
    if (!op_known(e->op) || e->card_kind > JOURNAL_CARD_QR || e->n_lines > JOURNAL_MAX_LINES ||
        e->terminal_id == 0 || e->epoch == 0 || e->seq == 0)
        return false;
    if (e->utc_offset_minutes < -UTC_OFFSET_LIMIT || e->utc_offset_minutes > UTC_OFFSET_LIMIT)
        return false;
    /* Sequence 1 is the epoch's own entry, and it chains to nothing. */
    if ((e->op == JOURNAL_OP_EPOCH) != (e->seq == 1))
        return false;
    if (e->seq == 1 && !leal_ct_equal(e->prev_mac, zero_mac, JOURNAL_MAC_LEN))
        return false;
    if (op_internal(e->op) && (e->card_kind != JOURNAL_CARD_NONE || e->card_id != 0))
        return false;
    if (e->card_kind == JOURNAL_CARD_QR && !qr_entry_ok(e))
        return false;
    if (e->op == JOURNAL_OP_TMAC && !tmac_entry_ok(e))
        return false;
    for (uint8_t i = 0; i < e->n_lines; i++)
        if (!line_ok(e, i))
            return false;
    return true;
}

/* An entry's fixed fields after its format version, and a line's, in their
 * wire order (JOURNAL.md "Entry"); the encoder and the decoder share them. */
#define EF(member, kind) BUF_FIELD(struct journal_entry, member, kind)
static const uint16_t entry_fields[] = {
    EF(op, BUF_U8),
    EF(card_kind, BUF_U8),
    EF(n_lines, BUF_U8),
    EF(terminal_id, BUF_U32),
    EF(epoch, BUF_U32),
    EF(seq, BUF_U32),
    EF(utc_seconds, BUF_U64),
    EF(utc_offset_minutes, BUF_U16),
    EF(reason, BUF_U16),
    EF(card_id, BUF_U64),
    EF(counter_before, BUF_U32),
    EF(counter_after, BUF_U32),
    EF(package_version, BUF_U32),
    EF(ref_epoch, BUF_U32),
    EF(ref_seq, BUF_U32),
    EF(item, BUF_U32),
    EF(amount_cents, BUF_U32),
    EF(purse_cents, BUF_U32),
    EF(points, BUF_U64),
    EF(quantity, BUF_U16),
    EF(bono_left, BUF_U16),
    EF(points_after, BUF_U32),
    EF(purse_after, BUF_U32),
    EF(tier_after, BUF_U8),
};
static const uint16_t line_fields[] = {
    BUF_FIELD(struct journal_line, source, BUF_U8),
    BUF_FIELD(struct journal_line, rule_index, BUF_U8),
    BUF_FIELD(struct journal_line, id, BUF_U32),
    BUF_FIELD(struct journal_line, points, BUF_U64),
};
_Static_assert(sizeof(struct journal_entry) <= BUF_FIELDS_MAX_STRUCT, "offsets take 12 bits");

static leal_err entry_put_fixed(struct buf_writer *w, const struct journal_entry *e)
{
    static const uint8_t reserved[RESERVED_LEN];
    leal_err err;
    if ((err = buf_put_u8(w, JOURNAL_FORMAT_VERSION)) != LEAL_OK ||
        (err = buf_put_fields(w, e, entry_fields, BUF_N_FIELDS(entry_fields))) != LEAL_OK ||
        (err = buf_put_bytes(w, e->stamps_after, STATE_STAMPS)) != LEAL_OK ||
        (err = buf_put_bytes(w, reserved, RESERVED_LEN)) != LEAL_OK ||
        (err = buf_put_bytes(w, e->prev_mac, JOURNAL_MAC_LEN)) != LEAL_OK)
        return err;
    for (uint8_t i = 0; i < e->n_lines; i++)
        if ((err = buf_put_fields(w, &e->lines[i], line_fields, BUF_N_FIELDS(line_fields))) !=
            LEAL_OK)
            return err;
    return LEAL_OK;
}

leal_err journal_entry_seal(const struct crypto_provider *cp, const uint8_t key[16],
                            struct journal_entry *e, uint8_t *out, size_t cap, size_t *len)
{
    struct buf_writer w;
    leal_err err;
    if (cp == NULL || key == NULL || e == NULL || out == NULL || len == NULL)
        return LEAL_E_ARG;
    if (!entry_fields_ok(e))
        return LEAL_E_JOURNAL_MALFORMED;
    if (cap < journal_entry_len(e->n_lines))
        return LEAL_E_NO_SPACE;
    buf_writer_init(&w, out, cap);
    if ((err = entry_put_fixed(&w, e)) != LEAL_OK)
        return err;
    if ((err = cp->aes128_cmac(key, out, buf_writer_len(&w), e->mac)) != LEAL_OK)
        return err;
    leal_memcpy(out + buf_writer_len(&w), e->mac, JOURNAL_MAC_LEN);
    *len = buf_writer_len(&w) + JOURNAL_MAC_LEN;
    return LEAL_OK;
}

leal_err journal_entry_peek_len(const uint8_t *p, size_t avail, size_t *len)
{
    if (p == NULL || len == NULL)
        return LEAL_E_ARG;
    if (avail < 4)
        return LEAL_E_TRUNCATED;
    if (p[0] != JOURNAL_FORMAT_VERSION)
        return p[0] == 0 || p[0] == 0xFF ? LEAL_E_JOURNAL_MALFORMED : LEAL_E_JOURNAL_FORMAT_VERSION;
    if (p[3] > JOURNAL_MAX_LINES)
        return LEAL_E_JOURNAL_MALFORMED;
    *len = journal_entry_len(p[3]);
    return LEAL_OK;
}

/* The entry after journal_entry_peek_len checked its version and its
 * number of lines: every field, the reserved bytes zero, the lines, the MAC. */
static leal_err entry_get(struct buf_reader *r, struct journal_entry *e)
{
    uint8_t version, reserved[RESERVED_LEN];
    leal_err err;
    if ((err = buf_get_u8(r, &version)) != LEAL_OK ||
        (err = buf_get_fields(r, e, entry_fields, BUF_N_FIELDS(entry_fields))) != LEAL_OK ||
        (err = buf_get_bytes(r, e->stamps_after, STATE_STAMPS)) != LEAL_OK ||
        (err = buf_get_bytes(r, reserved, RESERVED_LEN)) != LEAL_OK ||
        (err = buf_get_bytes(r, e->prev_mac, JOURNAL_MAC_LEN)) != LEAL_OK)
        return err;
    if ((reserved[0] | reserved[1] | reserved[2]) != 0)
        return LEAL_E_JOURNAL_MALFORMED;
    for (uint8_t i = 0; i < e->n_lines && i < JOURNAL_MAX_LINES; i++)
        if ((err = buf_get_fields(r, &e->lines[i], line_fields, BUF_N_FIELDS(line_fields))) !=
            LEAL_OK)
            return err;
    return buf_get_bytes(r, e->mac, JOURNAL_MAC_LEN);
}

leal_err journal_entry_decode(const uint8_t *p, size_t len, struct journal_entry *out)
{
    struct buf_reader r;
    size_t want;
    leal_err err;
    if (out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if (p == NULL)
        return LEAL_E_ARG;
    if ((err = journal_entry_peek_len(p, len, &want)) != LEAL_OK)
        return err == LEAL_E_TRUNCATED ? LEAL_E_JOURNAL_MALFORMED : err;
    if (len != want)
        return LEAL_E_JOURNAL_MALFORMED;
    buf_reader_init(&r, p, len);
    if (entry_get(&r, out) != LEAL_OK || buf_expect_end(&r) != LEAL_OK || !entry_fields_ok(out)) {
        leal_memset(out, 0, sizeof *out);
        return LEAL_E_JOURNAL_MALFORMED;
    }
    return LEAL_OK;
}

leal_err journal_entry_check_mac(const struct crypto_provider *cp, const uint8_t key[16],
                                 const uint8_t *p, size_t len)
{
    uint8_t mac[JOURNAL_MAC_LEN];
    leal_err err;
    if (cp == NULL || key == NULL || p == NULL || len < JOURNAL_ENTRY_MIN)
        return LEAL_E_ARG;
    if ((err = cp->aes128_cmac(key, p, len - JOURNAL_MAC_LEN, mac)) != LEAL_OK)
        return err;
    return leal_ct_equal(mac, p + len - JOURNAL_MAC_LEN, JOURNAL_MAC_LEN) ? LEAL_OK
                                                                          : LEAL_E_JOURNAL_MAC;
}

/* ---- the journal in storage ---- */

enum slot_kind { SLOT_ERASED, SLOT_VALID, SLOT_INVALID };

static bool key_less(struct journal_key a, struct journal_key b)
{
    return a.epoch < b.epoch || (a.epoch == b.epoch && a.seq < b.seq);
}

static bool key_equal(struct journal_key a, struct journal_key b)
{
    return a.epoch == b.epoch && a.seq == b.seq;
}

static struct journal_key entry_key(const struct journal_entry *e)
{
    struct journal_key k = {e->epoch, e->seq};
    return k;
}

static uint32_t unit_of(const struct journal *j, uint32_t slot)
{
    return slot / j->slots_per_unit;
}

static uint32_t ring_next(const struct journal *j, uint32_t slot)
{
    return slot + 1 == j->slots ? 0 : slot + 1;
}

static bool all_erased(const uint8_t *p, size_t n)
{
    uint8_t acc = 0xFF;
    for (size_t i = 0; i < n; i++)
        acc &= p[i];
    return acc == 0xFF;
}

/* Reads one slot and says what it holds; e (and raw/raw_len) only for VALID. */
static leal_err slot_examine(const struct journal *j, uint32_t slot, uint8_t buf[JOURNAL_SLOT],
                             uint8_t *kind, struct journal_entry *e, size_t *entry_len)
{
    size_t len;
    leal_err err = j->st->read(j->st->ctx, slot * JOURNAL_SLOT, buf, JOURNAL_SLOT);
    if (err != LEAL_OK)
        return err;
    if (all_erased(buf, JOURNAL_SLOT)) {
        *kind = SLOT_ERASED;
        return LEAL_OK;
    }
    *kind = SLOT_INVALID;
    leal_memset(e, 0, sizeof *e);
    if (journal_entry_peek_len(buf, JOURNAL_SLOT, &len) != LEAL_OK ||
        journal_entry_decode(buf, len, e) != LEAL_OK || e->terminal_id != j->cfg.terminal_id)
        return LEAL_OK;
    err = journal_entry_check_mac(j->cp, j->cfg.key, buf, len);
    if (err == LEAL_E_JOURNAL_MAC)
        return LEAL_OK;
    if (err != LEAL_OK)
        return err;
    *kind = SLOT_VALID;
    if (entry_len)
        *entry_len = len;
    return LEAL_OK;
}

/* Storage read back in pieces of this many bytes where the bytes need not be
 * whole (unit_blank, slot_write's check): a slot-sized buffer there was 512
 * bytes of an append's stack, and an append runs at a tap's deepest. */
#define JOURNAL_CHUNK 64u

static leal_err unit_blank(const struct journal *j, uint32_t unit, bool *blank)
{
    uint8_t buf[JOURNAL_CHUNK];
    uint32_t first = unit * j->slots_per_unit * JOURNAL_SLOT;
    uint32_t end = first + j->slots_per_unit * JOURNAL_SLOT;
    *blank = true;
    for (uint32_t at = first; at < end && *blank; at += JOURNAL_CHUNK) {
        leal_err err = j->st->read(j->st->ctx, at, buf, JOURNAL_CHUNK);
        if (err != LEAL_OK)
            return err;
        *blank = all_erased(buf, JOURNAL_CHUNK);
    }
    return LEAL_OK;
}

/* A unit about to be written: erased unless already blank, and checked. */
static leal_err unit_prepare(const struct journal *j, uint32_t unit)
{
    bool blank;
    leal_err err = unit_blank(j, unit, &blank);
    if (err != LEAL_OK || blank)
        return err;
    if ((err = j->st->erase(j->st->ctx, unit)) != LEAL_OK)
        return err;
    if ((err = unit_blank(j, unit, &blank)) != LEAL_OK)
        return err;
    return blank ? LEAL_OK : LEAL_E_IO;
}

/* May the append that follows write slot s? Mid-unit slots are erased by
 * construction; a unit is entered only if none of its entries is unacked. */
static bool slot_available(const struct journal *j, uint32_t s, bool has_unacked,
                           uint32_t oldest_unacked)
{
    if (s % j->slots_per_unit != 0)
        return true;
    return !(has_unacked && unit_of(j, oldest_unacked) == unit_of(j, s));
}

/* Room for e: internal entries need their slot, a caller's entry its slot
 * and one more, so that an ACK or RECOVERY entry always finds room after it. */
static bool room_for(const struct journal *j, bool internal)
{
    bool has = j->has_unacked;
    uint32_t oldest = has ? j->oldest_unacked_slot : j->next_slot;
    if (!slot_available(j, j->next_slot, j->has_unacked, j->oldest_unacked_slot))
        return false;
    return internal || slot_available(j, ring_next(j, j->next_slot), true, oldest);
}

/* The len bytes at offset read back equal to p? (LEAL_E_IO if not) */
static leal_err read_back(const struct journal *j, uint32_t offset, const uint8_t *p, size_t len)
{
    uint8_t back[JOURNAL_CHUNK];
    bool same = true;
    for (size_t at = 0; at < len; at += JOURNAL_CHUNK) {
        size_t n = len - at < JOURNAL_CHUNK ? len - at : JOURNAL_CHUNK;
        leal_err err = j->st->read(j->st->ctx, offset + (uint32_t)at, back, n);
        if (err != LEAL_OK)
            return err;
        same = leal_ct_equal(back, p + at, n) && same;
    }
    return same ? LEAL_OK : LEAL_E_IO;
}

static leal_err slot_write(struct journal *j, uint32_t s, const uint8_t *p, size_t len)
{
    leal_err err;
    if (s % j->slots_per_unit == 0 && (err = unit_prepare(j, unit_of(j, s))) != LEAL_OK)
        return err;
    if ((err = j->st->program(j->st->ctx, s * JOURNAL_SLOT, p, len)) != LEAL_OK)
        return err;
    return read_back(j, s * JOURNAL_SLOT, p, len);
}

static leal_err append_entry(struct journal *j, struct journal_entry *e, bool internal)
{
    uint8_t buf[JOURNAL_ENTRY_MAX];
    size_t len;
    uint32_t s = j->next_slot;
    leal_err err;
    if (j->state != STATE_OPEN)
        return LEAL_E_STATE;
    if (!room_for(j, internal))
        return LEAL_E_JOURNAL_FULL;
    e->terminal_id = j->cfg.terminal_id;
    if (e->op == JOURNAL_OP_EPOCH) {
        e->seq = 1;
        leal_memset(e->prev_mac, 0, JOURNAL_MAC_LEN);
    } else {
        if (!j->has_head)
            return LEAL_E_STATE;
        if (j->head.seq == UINT32_MAX)
            return LEAL_E_OVERFLOW;
        e->epoch = j->head.epoch;
        e->seq = j->head.seq + 1;
        leal_memcpy(e->prev_mac, j->head_mac, JOURNAL_MAC_LEN);
    }
    if ((err = journal_entry_seal(j->cp, j->cfg.key, e, buf, sizeof buf, &len)) != LEAL_OK)
        return err;
    if ((err = slot_write(j, s, buf, len)) != LEAL_OK) {
        j->state = STATE_FAILED;
        return err;
    }
    j->has_head = true;
    j->head_slot = s;
    j->head = entry_key(e);
    leal_memcpy(j->head_mac, e->mac, JOURNAL_MAC_LEN);
    j->next_slot = ring_next(j, s);
    if (!j->has_unacked) {
        j->has_unacked = true;
        j->oldest_unacked_slot = s;
    }
    j->unacked++;
    return LEAL_OK;
}

leal_err journal_append(struct journal *j, struct journal_entry *e)
{
    if (j == NULL || e == NULL)
        return LEAL_E_ARG;
    if (op_internal(e->op))
        return LEAL_E_ARG;
    return append_entry(j, e, false);
}

/* ---- opening ---- */

struct open_scan {
    uint8_t buf[JOURNAL_SLOT];
    struct journal_entry e;
    uint32_t entries;
    uint32_t invalid;
};

static void add_problem(struct journal_report *rep, leal_err code, uint32_t slot,
                        struct journal_key k)
{
    if (rep->n_problems < JOURNAL_MAX_PROBLEMS) {
        struct journal_problem *p = &rep->problems[rep->n_problems];
        p->code = (uint16_t)code;
        p->slot = slot;
        p->epoch = k.epoch;
        p->seq = k.seq;
    }
    rep->n_problems++;
}

/* Pass 1: the newest entry and the acknowledged point. */
static leal_err scan_head(struct journal *j, struct open_scan *sc)
{
    for (uint32_t s = 0; s < j->slots; s++) {
        uint8_t kind;
        leal_err err = slot_examine(j, s, sc->buf, &kind, &sc->e, NULL);
        if (err != LEAL_OK)
            return err;
        if (kind == SLOT_INVALID)
            sc->invalid++;
        if (kind != SLOT_VALID)
            continue;
        sc->entries++;
        if (!j->has_head || key_less(j->head, entry_key(&sc->e))) {
            j->has_head = true;
            j->head = entry_key(&sc->e);
            j->head_slot = s;
            leal_memcpy(j->head_mac, sc->e.mac, JOURNAL_MAC_LEN);
        }
        if (sc->e.op == JOURNAL_OP_ACK) {
            struct journal_key ref = {sc->e.ref_epoch, sc->e.ref_seq};
            if (key_less(j->acked, ref)) {
                j->acked = ref;
                j->last_ack_utc = sc->e.utc_seconds;
            }
        }
    }
    return LEAL_OK;
}

/* The chain walk's running state. */
struct walk {
    bool has_prev;
    struct journal_key prev;
    uint8_t prev_mac[JOURNAL_MAC_LEN];
    uint32_t pending_slot; /* first invalid slot since prev, if pending */
    bool pending;
    struct journal_key pending_key;
    bool unanswered; /* a problem no EPOCH entry has come after yet */
};

static bool chains_on(const struct walk *w, const struct journal_entry *e, struct journal_key acked)
{
    if (e->seq == 1) { /* an epoch's first entry names the entry before it */
        struct journal_key ref = {e->ref_epoch, e->ref_seq};
        return key_equal(ref, w->has_prev ? w->prev : acked) &&
               (!w->has_prev || w->prev.epoch < e->epoch);
    }
    if (!w->has_prev) /* the oldest entry follows the acknowledged one */
        return e->epoch == acked.epoch && e->seq == acked.seq + 1;
    return e->epoch == w->prev.epoch && e->seq == w->prev.seq + 1 &&
           leal_ct_equal(e->prev_mac, w->prev_mac, JOURNAL_MAC_LEN);
}

/* One valid entry of the walk: the checks of JOURNAL.md "Opening". */
static void walk_entry(struct journal *j, struct walk *w, uint32_t s, const struct journal_entry *e,
                       struct journal_report *rep)
{
    struct journal_key k = entry_key(e);
    bool unacked = key_less(j->acked, k);
    if (unacked) {
        bool explained = w->pending && e->op == JOURNAL_OP_RECOVERY && e->ref_epoch == e->epoch &&
                         e->ref_seq == e->seq;
        /* An unexplained invalid slot is the break: one problem, not two. */
        if (w->pending && !explained) {
            add_problem(rep, LEAL_E_JOURNAL_MAC, w->pending_slot, w->pending_key);
            w->unanswered = true;
        } else if (!chains_on(w, e, j->acked)) {
            add_problem(rep, LEAL_E_JOURNAL_CHAIN, s, k);
            w->unanswered = true;
        }
        /* A new epoch after damage is the answer to it: an open that finds
         * it again reports it (evidence) but begins no further epoch. */
        if (e->op == JOURNAL_OP_EPOCH)
            w->unanswered = false;
        if (!j->has_unacked) {
            j->has_unacked = true;
            j->oldest_unacked_slot = s;
        }
        j->unacked++;
    }
    w->pending = false;
    w->has_prev = true;
    w->prev = k;
    leal_memcpy(w->prev_mac, e->mac, JOURNAL_MAC_LEN);
}

/* An invalid slot among unacknowledged entries waits: a RECOVERY entry right
 * after it explains it (a torn append), anything else makes it a problem.
 * Before the first valid entry of the walk, or among acknowledged entries, it
 * is left over from a torn erase; a loss there shows in the chain instead. */
static void walk_invalid(const struct journal *j, struct walk *w, uint32_t s,
                         const struct journal_entry *decoded)
{
    if (w->pending || !w->has_prev || key_less(w->prev, j->acked))
        return;
    w->pending = true;
    w->pending_slot = s;
    /* The entry's own sequence when its fields still read (a MAC that
     * fails), else the one expected there. */
    w->pending_key.epoch = decoded->seq != 0 ? decoded->epoch : w->prev.epoch;
    w->pending_key.seq = decoded->seq != 0 ? decoded->seq : w->prev.seq + 1;
}

/* Pass 2: from the oldest unit round to the newest entry, in order. */
static leal_err walk_chain(struct journal *j, struct open_scan *sc, struct journal_report *rep,
                           bool *unanswered)
{
    struct walk w;
    uint32_t s =
        ((unit_of(j, j->head_slot) + 1) % (j->slots / j->slots_per_unit)) * j->slots_per_unit;
    leal_memset(&w, 0, sizeof w);
    for (;;) {
        uint8_t kind;
        leal_err err = slot_examine(j, s, sc->buf, &kind, &sc->e, NULL);
        if (err != LEAL_OK)
            return err;
        if (kind == SLOT_VALID)
            walk_entry(j, &w, s, &sc->e, rep);
        else if (kind == SLOT_INVALID)
            walk_invalid(j, &w, s, &sc->e);
        if (s == j->head_slot) {
            *unanswered = w.unanswered;
            return LEAL_OK;
        }
        s = ring_next(j, s);
    }
}

/* After the newest entry: erased slots (clean), or a run of invalid ones
 * then erased ones (a torn append). Sets next_slot; *torn, *damaged. */
static leal_err scan_tail(struct journal *j, struct open_scan *sc, bool *torn, bool *damaged)
{
    uint32_t s = ring_next(j, j->head_slot);
    bool seen_erased = false;
    *torn = *damaged = false;
    j->next_slot = s;
    while (s % j->slots_per_unit != 0) {
        uint8_t kind;
        leal_err err = slot_examine(j, s, sc->buf, &kind, &sc->e, NULL);
        if (err != LEAL_OK)
            return err;
        if (kind == SLOT_ERASED && !seen_erased) {
            seen_erased = true;
            j->next_slot = s;
        } else if (kind != SLOT_ERASED) {
            if (seen_erased || kind == SLOT_VALID)
                *damaged = true;
            else
                *torn = true;
        }
        s = ring_next(j, s);
    }
    if (!seen_erased) /* the rest of the unit is used up: the next unit */
        j->next_slot = s;
    if (*damaged) {
        j->next_slot = s;
        return LEAL_OK;
    }
    if (!seen_erased && !(j->has_unacked && unit_of(j, j->oldest_unacked_slot) == unit_of(j, s))) {
        /* The append that entered the next unit erases it first: garbage
         * there is that append torn (its erase or its first program). */
        for (uint32_t i = 0; i < j->slots_per_unit; i++) {
            uint8_t kind;
            leal_err err = slot_examine(j, s + i, sc->buf, &kind, &sc->e, NULL);
            if (err != LEAL_OK)
                return err;
            if (kind == SLOT_INVALID)
                *torn = true;
        }
    }
    return LEAL_OK;
}

/* Nothing verifies, yet something is written: perhaps entries under another
 * key (a bundle changed before its journal was acknowledged). Nothing of it
 * is erased: the new epoch goes to a blank unit, and with none the open is
 * refused (LEAL_E_JOURNAL_MAC) until the storage is cleared on purpose. */
static leal_err first_blank_unit(struct journal *j)
{
    for (uint32_t u = 0; u < j->slots / j->slots_per_unit; u++) {
        bool blank;
        leal_err err = unit_blank(j, u, &blank);
        if (err != LEAL_OK)
            return err;
        if (blank) {
            j->next_slot = u * j->slots_per_unit;
            return LEAL_OK;
        }
    }
    return LEAL_E_JOURNAL_MAC;
}

static uint32_t new_epoch(const struct journal *j, const struct port_time *now)
{
    uint32_t e = now->utc_seconds > UINT32_MAX ? UINT32_MAX : (uint32_t)now->utc_seconds;
    if (j->has_head && j->head.epoch >= e)
        e = j->head.epoch == UINT32_MAX ? UINT32_MAX : j->head.epoch + 1;
    return e == 0 ? 1 : e;
}

static leal_err write_internal(struct journal *j, uint8_t op, struct journal_key ref,
                               leal_err reason, const struct port_time *now)
{
    struct journal_entry e;
    leal_memset(&e, 0, sizeof e);
    e.op = op;
    e.utc_seconds = now->utc_seconds;
    e.utc_offset_minutes = now->utc_offset_minutes;
    e.reason = (uint16_t)reason;
    e.ref_epoch = ref.epoch;
    e.ref_seq = ref.seq;
    if (op == JOURNAL_OP_EPOCH) {
        e.epoch = new_epoch(j, now);
        if (j->has_head && e.epoch == j->head.epoch)
            return LEAL_E_OVERFLOW;
    }
    return append_entry(j, &e, true);
}

static leal_err open_config(struct journal *j, const struct port_storage *st,
                            const struct crypto_provider *cp, const struct journal_config *cfg)
{
    leal_memset(j, 0, sizeof *j);
    if (port_storage_check(st) != LEAL_OK || crypto_provider_check(cp) != LEAL_OK ||
        cfg->terminal_id == 0 || st->unit_size < JOURNAL_SLOT)
        return LEAL_E_ARG;
    j->st = st;
    j->cp = cp;
    j->cfg = *cfg;
    j->slots_per_unit = st->unit_size / JOURNAL_SLOT;
    j->slots = j->slots_per_unit * st->unit_count;
    return LEAL_OK;
}

/* Decides and writes what the report says: an EPOCH or RECOVERY entry. */
static leal_err open_settle(struct journal *j, struct journal_report *rep, bool torn,
                            bool new_epoch, const struct port_time *now)
{
    struct journal_key none = {0, 0};
    if (!j->has_head)
        return write_internal(j, JOURNAL_OP_EPOCH, none,
                              rep->status == JOURNAL_DAMAGED ? LEAL_E_JOURNAL_MAC : LEAL_OK, now);
    if (rep->n_problems > 0)
        rep->status = JOURNAL_DAMAGED;
    if (new_epoch)
        return write_internal(j, JOURNAL_OP_EPOCH, j->head, (leal_err)rep->problems[0].code, now);
    if (torn) {
        if (rep->n_problems == 0)
            rep->status = JOURNAL_TORN;
        rep->lost.epoch = j->head.epoch;
        rep->lost.seq = j->head.seq + 1;
        return write_internal(j, JOURNAL_OP_RECOVERY, rep->lost, LEAL_E_JOURNAL_TORN, now);
    }
    return LEAL_OK;
}

leal_err journal_open(struct journal *j, const struct port_storage *st,
                      const struct crypto_provider *cp, const struct journal_config *cfg,
                      const struct port_time *now, struct journal_report *rep)
{
    struct open_scan sc;
    struct journal_key head;
    bool torn = false, damaged = false, unanswered = false;
    leal_err err;
    if (j == NULL || cfg == NULL || now == NULL || rep == NULL)
        return LEAL_E_ARG;
    leal_memset(rep, 0, sizeof *rep);
    if ((err = open_config(j, st, cp, cfg)) != LEAL_OK)
        return err;
    leal_memset(&sc, 0, sizeof sc);
    if ((err = scan_head(j, &sc)) != LEAL_OK)
        goto out;
    if (j->has_head) {
        if ((err = walk_chain(j, &sc, rep, &unanswered)) != LEAL_OK ||
            (err = scan_tail(j, &sc, &torn, &damaged)) != LEAL_OK)
            goto out;
        if (damaged) {
            struct journal_key after = {j->head.epoch, j->head.seq + 1};
            add_problem(rep, LEAL_E_JOURNAL_MAC, j->next_slot, after);
            unanswered = true;
        }
    } else {
        rep->status = sc.invalid > 0 ? JOURNAL_DAMAGED : JOURNAL_FRESH;
        if (sc.invalid > 0) {
            add_problem(rep, LEAL_E_JOURNAL_MAC, 0, j->head);
            if ((err = first_blank_unit(j)) != LEAL_OK)
                goto out;
        }
    }
    rep->entries = sc.entries;
    j->state = STATE_OPEN;
    head = j->head;
    if ((err = open_settle(j, rep, torn, unanswered, now)) != LEAL_OK)
        goto out;
    if (!key_equal(head, j->head))
        rep->entries++;
out:
    leal_wipe(&sc, sizeof sc);
    if (err != LEAL_OK && err != LEAL_E_JOURNAL_FULL) {
        journal_close(j);
        return err;
    }
    rep->head = j->head;
    rep->acked = j->acked;
    rep->unacked = j->unacked;
    return err;
}

void journal_close(struct journal *j)
{
    if (j == NULL)
        return;
    leal_wipe(j->cfg.key, sizeof j->cfg.key);
    j->state = STATE_CLOSED;
}

/* ---- reading ---- */

static uint32_t ring_distance(const struct journal *j, uint32_t from, uint32_t to)
{
    return (to + j->slots - from) % j->slots;
}

void journal_iter_begin(const struct journal *j, struct journal_iter *it, bool unacked_only)
{
    it->slot = 0;
    it->left = 0;
    if (j == NULL || j->state == STATE_CLOSED || !j->has_head)
        return;
    if (unacked_only) {
        if (!j->has_unacked)
            return;
        it->slot = j->oldest_unacked_slot;
    } else {
        it->slot =
            ((unit_of(j, j->head_slot) + 1) % (j->slots / j->slots_per_unit)) * j->slots_per_unit;
    }
    it->left = ring_distance(j, it->slot, j->head_slot) + 1;
}

leal_err journal_iter_next(const struct journal *j, struct journal_iter *it,
                           struct journal_entry *out, uint8_t *raw, size_t *raw_len, bool *done)
{
    uint8_t buf[JOURNAL_SLOT];
    if (j == NULL || it == NULL || out == NULL || done == NULL || (raw != NULL && raw_len == NULL))
        return LEAL_E_ARG;
    if (j->state == STATE_CLOSED)
        return LEAL_E_STATE;
    while (it->left > 0) {
        uint8_t kind;
        size_t len = 0;
        uint32_t s = it->slot;
        leal_err err = slot_examine(j, s, buf, &kind, out, &len);
        if (err != LEAL_OK)
            return err;
        it->slot = ring_next(j, s);
        it->left--;
        if (kind != SLOT_VALID)
            continue;
        if (raw) {
            leal_memcpy(raw, buf, len);
            *raw_len = len;
        }
        *done = false;
        return LEAL_OK;
    }
    *done = true;
    return LEAL_OK;
}

leal_err journal_entry_at(const struct journal *j, uint32_t slot, struct journal_key key,
                          struct journal_entry *out)
{
    uint8_t buf[JOURNAL_SLOT];
    uint8_t kind;
    leal_err err;
    if (j == NULL || out == NULL)
        return LEAL_E_ARG;
    if (j->state == STATE_CLOSED)
        return LEAL_E_STATE;
    if (slot >= j->slots)
        return LEAL_E_NOT_FOUND;
    if ((err = slot_examine(j, slot, buf, &kind, out, NULL)) != LEAL_OK)
        return err;
    if (kind != SLOT_VALID || !key_equal(entry_key(out), key)) {
        leal_memset(out, 0, sizeof *out);
        return LEAL_E_NOT_FOUND;
    }
    return LEAL_OK;
}

/* ---- export ---- */

static void export_put_header(uint8_t *out, const struct journal_export_info *info)
{
    leal_memcpy(out, export_magic, sizeof export_magic);
    out[4] = JOURNAL_FORMAT_VERSION;
    out[5] = info->key_version;
    store_be16(out + 6, 0);
    store_be32(out + 8, info->program_id);
    store_be32(out + 12, info->terminal_id);
    store_be32(out + 16, info->epoch);
    store_be32(out + 20, info->first_seq);
    store_be32(out + 24, info->last_seq);
    store_be32(out + 28, info->count);
}

/* Copies the unacknowledged entries of one epoch after the header. */
static leal_err export_entries(const struct journal *j, uint8_t *out, size_t cap, size_t *pos,
                               struct journal_export_info *info)
{
    struct journal_iter it;
    struct journal_entry e;
    uint8_t raw[JOURNAL_ENTRY_MAX];
    journal_iter_begin(j, &it, true);
    for (;;) {
        size_t len = 0;
        bool done;
        leal_err err = journal_iter_next(j, &it, &e, raw, &len, &done);
        if (err != LEAL_OK)
            return err;
        /* One epoch, sequences going up: entries damage left out of order
         * wait for the ack of these (which then passes over them). */
        if (done || (info->count > 0 && (e.epoch != info->epoch || e.seq <= info->last_seq)) ||
            *pos + len + JOURNAL_MAC_LEN > cap)
            break;
        if (info->count == 0) {
            info->epoch = e.epoch;
            info->first_seq = e.seq;
        }
        leal_memcpy(out + *pos, raw, len);
        *pos += len;
        info->last_seq = e.seq;
        leal_memcpy(info->last_mac, e.mac, JOURNAL_MAC_LEN);
        info->count++;
    }
    return LEAL_OK;
}

leal_err journal_export(const struct journal *j, uint8_t *out, size_t cap,
                        struct journal_export_info *info)
{
    size_t pos = JOURNAL_EXPORT_HEADER_LEN;
    leal_err err;
    if (j == NULL || out == NULL || info == NULL)
        return LEAL_E_ARG;
    leal_memset(info, 0, sizeof *info);
    if (j->state == STATE_CLOSED)
        return LEAL_E_STATE;
    if (!j->has_unacked)
        return LEAL_E_JOURNAL_EMPTY;
    if (cap < JOURNAL_EXPORT_HEADER_LEN + JOURNAL_ENTRY_MIN + JOURNAL_MAC_LEN)
        return LEAL_E_NO_SPACE;
    info->key_version = j->cfg.key_version;
    info->program_id = j->cfg.program_id;
    info->terminal_id = j->cfg.terminal_id;
    if ((err = export_entries(j, out, cap, &pos, info)) != LEAL_OK)
        goto fail;
    err = LEAL_E_NO_SPACE;
    if (info->count == 0)
        goto fail;
    export_put_header(out, info);
    if ((err = j->cp->aes128_cmac(j->cfg.key, out, pos, info->export_mac)) != LEAL_OK)
        goto fail;
    leal_memcpy(out + pos, info->export_mac, JOURNAL_MAC_LEN);
    info->len = pos + JOURNAL_MAC_LEN;
    return LEAL_OK;
fail:
    leal_memset(info, 0, sizeof *info);
    return err;
}

static leal_err export_get_header(struct buf_reader *r, struct journal_export_info *info)
{
    uint8_t magic[4], version;
    uint16_t reserved;
    if (buf_get_bytes(r, magic, sizeof magic) != LEAL_OK ||
        !leal_ct_equal(magic, export_magic, sizeof magic) || buf_get_u8(r, &version) != LEAL_OK)
        return LEAL_E_JOURNAL_MALFORMED;
    if (version != JOURNAL_FORMAT_VERSION)
        return LEAL_E_JOURNAL_FORMAT_VERSION;
    if (buf_get_u8(r, &info->key_version) != LEAL_OK || buf_get_be16(r, &reserved) != LEAL_OK ||
        buf_get_be32(r, &info->program_id) != LEAL_OK ||
        buf_get_be32(r, &info->terminal_id) != LEAL_OK ||
        buf_get_be32(r, &info->epoch) != LEAL_OK || buf_get_be32(r, &info->first_seq) != LEAL_OK ||
        buf_get_be32(r, &info->last_seq) != LEAL_OK || buf_get_be32(r, &info->count) != LEAL_OK)
        return LEAL_E_JOURNAL_MALFORMED;
    if (reserved != 0 || info->count == 0 || info->terminal_id == 0 || info->epoch == 0 ||
        info->first_seq == 0 || info->last_seq < info->first_seq)
        return LEAL_E_JOURNAL_MALFORMED;
    return LEAL_OK;
}

/* Walks the entries of an export; calls back on each with its bytes. */
typedef leal_err (*export_visit)(void *ctx, uint32_t i, const uint8_t *p, size_t len,
                                 const struct journal_entry *e);

static leal_err export_walk(const uint8_t *p, size_t len, struct journal_export_info *info,
                            export_visit visit, void *ctx)
{
    struct buf_reader r;
    struct journal_entry e;
    size_t pos = JOURNAL_EXPORT_HEADER_LEN;
    leal_err err;
    if (p == NULL || info == NULL)
        return LEAL_E_ARG;
    leal_memset(info, 0, sizeof *info);
    if (len < JOURNAL_EXPORT_HEADER_LEN + JOURNAL_ENTRY_MIN + JOURNAL_MAC_LEN)
        return LEAL_E_JOURNAL_MALFORMED;
    buf_reader_init(&r, p, len);
    if ((err = export_get_header(&r, info)) != LEAL_OK)
        goto fail;
    for (uint32_t i = 0; i < info->count; i++) {
        size_t elen;
        err = journal_entry_peek_len(p + pos, len - JOURNAL_MAC_LEN - pos, &elen);
        if (err == LEAL_OK && elen > len - JOURNAL_MAC_LEN - pos)
            err = LEAL_E_JOURNAL_MALFORMED;
        if (err == LEAL_OK)
            err = journal_entry_decode(p + pos, elen, &e);
        if (err == LEAL_OK && visit != NULL)
            err = visit(ctx, i, p + pos, elen, &e);
        if (err != LEAL_OK)
            goto fail;
        leal_memcpy(info->last_mac, e.mac, JOURNAL_MAC_LEN);
        pos += elen;
    }
    err = LEAL_E_JOURNAL_MALFORMED;
    if (pos + JOURNAL_MAC_LEN != len)
        goto fail;
    leal_memcpy(info->export_mac, p + pos, JOURNAL_MAC_LEN);
    info->len = len;
    return LEAL_OK;
fail:
    leal_memset(info, 0, sizeof *info);
    return err == LEAL_E_TRUNCATED ? LEAL_E_JOURNAL_MALFORMED : err;
}

leal_err journal_export_parse(const uint8_t *p, size_t len, struct journal_export_info *info)
{
    return export_walk(p, len, info, NULL, NULL);
}

struct verify_ctx {
    const struct crypto_provider *cp;
    const uint8_t *key;
    const struct journal_export_info *info; /* the header, read before the entries */
    uint32_t *bad_seq;
    struct journal_key prev;
    uint8_t prev_mac[JOURNAL_MAC_LEN];
};

static leal_err verify_entry(void *ctx, uint32_t i, const uint8_t *p, size_t len,
                             const struct journal_entry *e)
{
    struct verify_ctx *v = ctx;
    leal_err err = journal_entry_check_mac(v->cp, v->key, p, len);
    *v->bad_seq = e->seq;
    if (err != LEAL_OK)
        return err;
    if (e->terminal_id != v->info->terminal_id || e->epoch != v->info->epoch)
        return LEAL_E_JOURNAL_TERMINAL;
    if (i == 0 ? e->seq != v->info->first_seq
               : (e->seq != v->prev.seq + 1 ||
                  !leal_ct_equal(e->prev_mac, v->prev_mac, JOURNAL_MAC_LEN)))
        return LEAL_E_JOURNAL_CHAIN;
    if (i + 1 == v->info->count && e->seq != v->info->last_seq)
        return LEAL_E_JOURNAL_CHAIN;
    v->prev = entry_key(e);
    leal_memcpy(v->prev_mac, e->mac, JOURNAL_MAC_LEN);
    *v->bad_seq = 0;
    return LEAL_OK;
}

leal_err journal_export_verify(const struct crypto_provider *cp, const uint8_t key[16],
                               const uint8_t *p, size_t len, struct journal_export_info *info,
                               uint32_t *bad_seq)
{
    struct journal_export_info head;
    struct verify_ctx v;
    uint8_t mac[JOURNAL_MAC_LEN];
    struct buf_reader r;
    leal_err err;
    if (cp == NULL || key == NULL || p == NULL || info == NULL || bad_seq == NULL)
        return LEAL_E_ARG;
    *bad_seq = 0;
    if ((err = journal_export_parse(p, len, info)) != LEAL_OK)
        return err;
    if ((err = cp->aes128_cmac(key, p, len - JOURNAL_MAC_LEN, mac)) != LEAL_OK)
        goto fail;
    err = LEAL_E_JOURNAL_MAC;
    if (!leal_ct_equal(mac, p + len - JOURNAL_MAC_LEN, JOURNAL_MAC_LEN))
        goto fail;
    buf_reader_init(&r, p, len);
    leal_memset(&head, 0, sizeof head);
    if ((err = export_get_header(&r, &head)) != LEAL_OK)
        goto fail;
    leal_memset(&v, 0, sizeof v);
    v.cp = cp;
    v.key = key;
    v.info = &head;
    v.bad_seq = bad_seq;
    if ((err = export_walk(p, len, info, verify_entry, &v)) != LEAL_OK)
        goto fail;
    return LEAL_OK;
fail:
    leal_memset(info, 0, sizeof *info);
    return err;
}

struct entry_at_ctx {
    uint32_t want;
    struct journal_entry *out;
};

static leal_err take_entry(void *ctx, uint32_t i, const uint8_t *p, size_t len,
                           const struct journal_entry *e)
{
    struct entry_at_ctx *c = ctx;
    (void)p;
    (void)len;
    if (i == c->want)
        *c->out = *e;
    return LEAL_OK;
}

leal_err journal_export_entry(const uint8_t *p, size_t len, uint32_t i, struct journal_entry *out)
{
    struct journal_export_info info;
    struct entry_at_ctx c = {i, out};
    leal_err err;
    if (out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if ((err = export_walk(p, len, &info, take_entry, &c)) != LEAL_OK)
        return err;
    if (i >= info.count) {
        leal_memset(out, 0, sizeof *out);
        return LEAL_E_NOT_FOUND;
    }
    return LEAL_OK;
}

/* ---- acknowledgment ---- */

leal_err journal_ack_encode(const struct crypto_provider *cp, const uint8_t key[16],
                            const struct journal_ack *a, uint8_t out[JOURNAL_ACK_LEN])
{
    struct buf_writer w;
    leal_err err;
    if (cp == NULL || key == NULL || a == NULL || out == NULL)
        return LEAL_E_ARG;
    if (a->terminal_id == 0 || a->epoch == 0 || a->seq == 0)
        return LEAL_E_JOURNAL_MALFORMED;
    buf_writer_init(&w, out, JOURNAL_ACK_LEN);
    if ((err = buf_put_bytes(&w, ack_magic, sizeof ack_magic)) != LEAL_OK ||
        (err = buf_put_u8(&w, JOURNAL_FORMAT_VERSION)) != LEAL_OK ||
        (err = buf_put_u8(&w, a->key_version)) != LEAL_OK ||
        (err = buf_put_be16(&w, 0)) != LEAL_OK ||
        (err = buf_put_be32(&w, a->program_id)) != LEAL_OK ||
        (err = buf_put_be32(&w, a->terminal_id)) != LEAL_OK ||
        (err = buf_put_be32(&w, a->epoch)) != LEAL_OK ||
        (err = buf_put_be32(&w, a->seq)) != LEAL_OK ||
        (err = buf_put_bytes(&w, a->entry_mac, JOURNAL_MAC_LEN)) != LEAL_OK)
        return err;
    return cp->aes128_cmac(key, out, buf_writer_len(&w), out + buf_writer_len(&w));
}

static leal_err ack_get(struct buf_reader *r, struct journal_ack *a)
{
    uint8_t magic[4], version;
    uint16_t reserved;
    if (buf_get_bytes(r, magic, sizeof magic) != LEAL_OK ||
        !leal_ct_equal(magic, ack_magic, sizeof magic) || buf_get_u8(r, &version) != LEAL_OK)
        return LEAL_E_JOURNAL_MALFORMED;
    if (version != JOURNAL_FORMAT_VERSION)
        return LEAL_E_JOURNAL_FORMAT_VERSION;
    if (buf_get_u8(r, &a->key_version) != LEAL_OK || buf_get_be16(r, &reserved) != LEAL_OK ||
        buf_get_be32(r, &a->program_id) != LEAL_OK || buf_get_be32(r, &a->terminal_id) != LEAL_OK ||
        buf_get_be32(r, &a->epoch) != LEAL_OK || buf_get_be32(r, &a->seq) != LEAL_OK ||
        buf_get_bytes(r, a->entry_mac, JOURNAL_MAC_LEN) != LEAL_OK)
        return LEAL_E_JOURNAL_MALFORMED;
    if (reserved != 0 || a->terminal_id == 0 || a->epoch == 0 || a->seq == 0)
        return LEAL_E_JOURNAL_MALFORMED;
    return LEAL_OK;
}

leal_err journal_ack_decode(const struct crypto_provider *cp, const uint8_t key[16],
                            const uint8_t *p, size_t len, struct journal_ack *out)
{
    struct buf_reader r;
    uint8_t mac[JOURNAL_MAC_LEN];
    leal_err err;
    if (cp == NULL || key == NULL || p == NULL || out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if (len != JOURNAL_ACK_LEN)
        return LEAL_E_JOURNAL_MALFORMED;
    buf_reader_init(&r, p, len);
    if ((err = ack_get(&r, out)) != LEAL_OK)
        goto fail;
    if ((err = cp->aes128_cmac(key, p, len - JOURNAL_MAC_LEN, mac)) != LEAL_OK)
        goto fail;
    err = LEAL_E_JOURNAL_MAC;
    if (!leal_ct_equal(mac, p + len - JOURNAL_MAC_LEN, JOURNAL_MAC_LEN))
        goto fail;
    return LEAL_OK;
fail:
    leal_memset(out, 0, sizeof *out);
    return err;
}

/* The slot of the unacknowledged entry k with MAC mac, if the journal holds it. */
static leal_err find_unacked(const struct journal *j, struct journal_key k,
                             const uint8_t mac[JOURNAL_MAC_LEN], bool *found)
{
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    *found = false;
    journal_iter_begin(j, &it, true);
    while (!*found) {
        leal_err err = journal_iter_next(j, &it, &e, NULL, NULL, &done);
        if (err != LEAL_OK)
            return err;
        if (done || key_less(k, entry_key(&e)))
            break;
        *found = key_equal(k, entry_key(&e)) && leal_ct_equal(e.mac, mac, JOURNAL_MAC_LEN);
    }
    return LEAL_OK;
}

/* After an ack: the oldest entry past it and how many there are. */
static leal_err recount_unacked(struct journal *j)
{
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    journal_iter_begin(j, &it, true);
    j->has_unacked = false;
    j->unacked = 0;
    for (;;) {
        uint32_t slot = it.slot;
        leal_err err = journal_iter_next(j, &it, &e, NULL, NULL, &done);
        if (err != LEAL_OK)
            return err;
        if (done)
            return LEAL_OK;
        if (!key_less(j->acked, entry_key(&e)))
            continue;
        if (!j->has_unacked) {
            j->has_unacked = true;
            /* iter_next moved past the entry's slot: step back to it. */
            j->oldest_unacked_slot = (it.slot + j->slots - 1) % j->slots;
        }
        (void)slot;
        j->unacked++;
    }
}

leal_err journal_ack(struct journal *j, const uint8_t *p, size_t len, const struct port_time *now)
{
    struct journal_ack a;
    struct journal_key k;
    bool found;
    leal_err err;
    if (j == NULL || p == NULL || now == NULL)
        return LEAL_E_ARG;
    if (j->state != STATE_OPEN)
        return LEAL_E_STATE;
    if ((err = journal_ack_decode(j->cp, j->cfg.key, p, len, &a)) != LEAL_OK)
        return err;
    if (a.program_id != j->cfg.program_id || a.terminal_id != j->cfg.terminal_id ||
        a.key_version != j->cfg.key_version)
        return LEAL_E_JOURNAL_TERMINAL;
    k.epoch = a.epoch;
    k.seq = a.seq;
    if (!key_less(j->acked, k))
        return LEAL_E_JOURNAL_ACK_STALE;
    if ((err = find_unacked(j, k, a.entry_mac, &found)) != LEAL_OK)
        return err;
    if (!found)
        return LEAL_E_JOURNAL_ACK_UNKNOWN;
    /* The ACK entry is durable before anything acknowledged may go. */
    if ((err = write_internal(j, JOURNAL_OP_ACK, k, LEAL_OK, now)) != LEAL_OK)
        return err;
    j->acked = k;
    j->last_ack_utc = now->utc_seconds;
    return recount_unacked(j);
}

/* The caller's appends that room_for would take from here, one by one. */
static uint32_t appends_left(const struct journal *j)
{
    uint32_t n = 0, s = j->next_slot, oldest = j->oldest_unacked_slot;
    bool has = j->has_unacked;
    if (j->state != STATE_OPEN)
        return 0;
    while (n < j->slots && slot_available(j, s, has, oldest)) {
        if (!has) {
            has = true;
            oldest = s;
        }
        if (!slot_available(j, ring_next(j, s), has, oldest))
            break;
        n++;
        s = ring_next(j, s);
    }
    return n;
}

leal_err journal_status(const struct journal *j, struct journal_status_info *out)
{
    if (j == NULL || out == NULL)
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    if (j->state == STATE_CLOSED)
        return LEAL_E_STATE;
    out->head = j->head;
    out->acked = j->acked;
    out->last_ack_utc = j->last_ack_utc;
    out->unacked = j->unacked;
    out->slots = j->slots;
    out->slots_used =
        j->has_unacked ? ring_distance(j, j->oldest_unacked_slot, j->head_slot) + 1 : 0;
    out->appends_left = appends_left(j);
    return LEAL_OK;
}
