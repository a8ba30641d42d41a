/* package.c - the terminal package: encoder, verifier, lookups (package.h,
 * PACKAGE.md). */
#include "package.h"

#include "keys/base/ct.h"

static const uint8_t magic[4] = {'L', 'P', 'K', 'G'};
static const uint8_t sig_label[12] = {'l', 'e', 'a', 'l', '-', 'p', 'a', 'c', 'k', 'a', 'g', 'e'};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void zero(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = 0;
}

static void copy(uint8_t *d, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Section sizes, from the header's counts. */
struct sections {
    uint32_t rules_len, hot, floors, pending, names_len;
};

/* Bytes of everything before the signature. */
static uint32_t body_len_of(const struct sections *n)
{
    return (uint32_t)PACKAGE_HEADER_LEN + n->rules_len + n->hot * PACKAGE_HOT_RECORD_LEN +
           n->floors * PACKAGE_FLOOR_RECORD_LEN + n->pending * PACKAGE_PENDING_RECORD_LEN +
           n->names_len + PACKAGE_SITE_LEN + PACKAGE_CAPS_LEN;
}

static leal_err src_read(const struct package_source *src, uint32_t off, uint8_t *out, size_t len)
{
    if (off > src->size || len > src->size - off)
        return LEAL_E_PACKAGE_MALFORMED;
    return src->read(src->ctx, off, out, len);
}

/* Hot and floor records: encoding, decoding, field rules. */
static void hot_put(uint8_t r[PACKAGE_HOT_RECORD_LEN], const struct package_hot *h)
{
    put64(r, h->card_id);
    r[8] = h->reason;
}

static leal_err hot_get(const uint8_t r[PACKAGE_HOT_RECORD_LEN], struct package_hot *h)
{
    h->card_id = get64(r);
    h->reason = r[8];
    if (h->card_id == 0 || h->reason < PACKAGE_HOT_BLOCKED || h->reason > PACKAGE_HOT_REPLACED)
        return LEAL_E_PACKAGE_MALFORMED;
    return LEAL_OK;
}

static bool floor_ok(const struct package_floor *f)
{
    if (f->card_id == 0 || (f->kind != PACKAGE_FLOOR_DESFIRE && f->kind != PACKAGE_FLOOR_CLASSIC))
        return false;
    if ((f->flags &
         (uint8_t) ~(PACKAGE_FLOOR_TAG_KNOWN | PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC)) != 0 ||
        ((f->flags & PACKAGE_FLOOR_EV2) != 0 && f->kind != PACKAGE_FLOOR_DESFIRE) ||
        ((f->flags & PACKAGE_FLOOR_TMAC) != 0 && (f->flags & PACKAGE_FLOOR_EV2) == 0))
        return false;
    /* No tag: seq and tag are zero (one encoding per meaning), but for the
     * TMC a Transaction MAC floor carries in seq's place; it has no tag (a
     * DESFire card's mark is not read at a tap). */
    if ((f->flags & PACKAGE_FLOOR_TMAC) != 0 && (f->flags & PACKAGE_FLOOR_TAG_KNOWN) != 0)
        return false;
    if (!(f->flags & PACKAGE_FLOOR_TAG_KNOWN) &&
        ((f->seq != 0 && (f->flags & PACKAGE_FLOOR_TMAC) == 0) ||
         !all_zero(f->tag, PACKAGE_FLOOR_TAG_LEN)))
        return false;
    return true;
}

static void floor_put(uint8_t r[PACKAGE_FLOOR_RECORD_LEN], const struct package_floor *f)
{
    put64(r, f->card_id);
    r[8] = f->kind;
    r[9] = f->flags;
    r[10] = 0;
    r[11] = 0;
    put32(r + 12, f->taps);
    put32(r + 16, f->seq);
    copy(r + 20, f->tag, PACKAGE_FLOOR_TAG_LEN);
}

static leal_err floor_get(const uint8_t r[PACKAGE_FLOOR_RECORD_LEN], struct package_floor *f)
{
    f->card_id = get64(r);
    f->kind = r[8];
    f->flags = r[9];
    f->taps = get32(r + 12);
    f->seq = get32(r + 16);
    copy(f->tag, r + 20, PACKAGE_FLOOR_TAG_LEN);
    if (r[10] != 0 || r[11] != 0 || !floor_ok(f))
        return LEAL_E_PACKAGE_MALFORMED;
    return LEAL_OK;
}

/* Pending changes: one record per card (PACKAGE.md "Pending changes"). */
static bool pending_ok(const struct package_pending *c)
{
    if ((c->kinds & PACKAGE_CHANGE_QR_ALLOWANCE) != 0 &&
        (c->kinds != PACKAGE_CHANGE_QR_ALLOWANCE || c->points <= 0 || c->taps != 0))
        return false;
    /* A tier only in an allowance, with its period: one encoding per meaning. */
    if (c->tier > RULES_MAX_TIERS || (c->tier == 0) != (c->tier_period == 0) ||
        (c->tier != 0 && c->kinds != PACKAGE_CHANGE_QR_ALLOWANCE))
        return false;
    /* A seq only in an at-seq record, which guards a change (bytes 21..23
     * hold either a tier and its period or a seq, never both). */
    if ((c->kinds & PACKAGE_CHANGE_AT_SEQ) != 0
            ? (c->kinds & (PACKAGE_CHANGE_KNOWN & ~PACKAGE_CHANGE_AT_SEQ &
                           ~PACKAGE_CHANGE_QR_ALLOWANCE)) == 0 ||
                  c->seq > PACKAGE_PENDING_SEQ_MASK
            : c->seq != 0)
        return false;
    return c->card_id != 0 && c->upto_entry != 0 && c->points != INT32_MIN && c->kinds != 0 &&
           (c->kinds & (uint8_t)~PACKAGE_CHANGE_KNOWN) == 0;
}

static void pending_put(uint8_t r[PACKAGE_PENDING_RECORD_LEN], const struct package_pending *c)
{
    put64(r, c->card_id);
    put32(r + 8, c->taps);
    put32(r + 12, c->upto_entry);
    put32(r + 16, (uint32_t)c->points);
    r[20] = c->kinds;
    if (c->kinds & PACKAGE_CHANGE_AT_SEQ) {
        r[21] = (uint8_t)(c->seq >> 16);
        r[22] = (uint8_t)(c->seq >> 8);
        r[23] = (uint8_t)c->seq;
        return;
    }
    r[21] = c->tier;
    r[22] = (uint8_t)(c->tier_period >> 8);
    r[23] = (uint8_t)c->tier_period;
}

static leal_err pending_get(const uint8_t r[PACKAGE_PENDING_RECORD_LEN], struct package_pending *c)
{
    uint32_t points = get32(r + 16);
    c->card_id = get64(r);
    c->taps = get32(r + 8);
    c->upto_entry = get32(r + 12);
    /* Two's complement, without an implementation-defined conversion. */
    c->points = points & 0x80000000u ? -(int32_t)(~points) - 1 : (int32_t)points;
    c->kinds = r[20];
    c->tier = r[21];
    c->tier_period = (uint16_t)(r[22] << 8 | r[23]);
    c->seq = 0;
    if (c->kinds & PACKAGE_CHANGE_AT_SEQ) {
        c->seq = (uint32_t)r[21] << 16 | (uint32_t)r[22] << 8 | r[23];
        c->tier = 0;
        c->tier_period = 0;
    }
    if (!pending_ok(c))
        return LEAL_E_PACKAGE_MALFORMED;
    return LEAL_OK;
}

/* UTF-8 as RFC 3629 has it, without C0 and C1 controls and DEL. */
bool package_name_text_ok(const uint8_t *s, size_t n)
{
    if (s == NULL || n == 0 || n > PACKAGE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t more;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F)
                return false;
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (n - i <= more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0))
            return false;
        i += more + 1;
    }
    return true;
}

static bool name_ok(const struct package_name *m)
{
    return m->kind >= PACKAGE_NAME_TIER && m->kind <= PACKAGE_NAME_STORE &&
           package_name_text_ok((const uint8_t *)m->text, m->len);
}

/* (kind, item) of a strictly before b. */
static bool name_before(uint8_t ka, uint32_t ia, uint8_t kb, uint32_t ib)
{
    return ka < kb || (ka == kb && ia < ib);
}

static bool rule_ok(const struct package_zone_rule *r)
{
    return r->month >= 1 && r->month <= 12 && r->week >= 1 && r->week <= 5 && r->weekday <= 6 &&
           r->time_seconds >= -604800 && r->time_seconds <= 604800;
}

static bool rule_zero(const struct package_zone_rule *r)
{
    return r->month == 0 && r->week == 0 && r->weekday == 0 && r->time_seconds == 0;
}

bool package_zone_ok(const struct package_zone *z)
{
    if (z == NULL || z->std_minutes < -1080 || z->std_minutes > 1080 || z->dst_minutes < -1080 ||
        z->dst_minutes > 1080)
        return false;
    if (!z->has_dst) /* one encoding per meaning */
        return z->dst_minutes == z->std_minutes && rule_zero(&z->start) && rule_zero(&z->end);
    return z->dst_minutes != z->std_minutes && rule_ok(&z->start) && rule_ok(&z->end);
}

static void put16s(uint8_t *p, int16_t v)
{
    uint16_t u = (uint16_t)v;
    p[0] = (uint8_t)(u >> 8);
    p[1] = (uint8_t)u;
}

static int16_t get16s(const uint8_t *p)
{
    uint16_t u = (uint16_t)(p[0] << 8 | p[1]);
    return u & 0x8000u ? (int16_t)(-(int32_t)(uint16_t)~u - 1) : (int16_t)u;
}

static int32_t get32s(const uint8_t *p)
{
    uint32_t u = get32(p);
    return u & 0x80000000u ? -(int32_t)(~u) - 1 : (int32_t)u;
}

static void rule_put(uint8_t r[8], const struct package_zone_rule *z)
{
    r[0] = z->month;
    r[1] = z->week;
    r[2] = z->weekday;
    r[3] = 0;
    put32(r + 4, (uint32_t)z->time_seconds);
}

static void rule_get(const uint8_t r[8], struct package_zone_rule *z)
{
    z->month = r[0];
    z->week = r[1];
    z->weekday = r[2];
    z->time_seconds = get32s(r + 4);
}

static void site_put(uint8_t r[PACKAGE_SITE_LEN], const struct package_site *s)
{
    put32(r, s->store_id);
    put32(r + 4, s->classic_purse_cap_cents);
    put16s(r + 8, s->zone.std_minutes);
    put16s(r + 10, s->zone.dst_minutes);
    r[12] = s->zone.has_dst ? 1 : 0;
    zero(r + 13, 3);
    rule_put(r + 16, &s->zone.start);
    rule_put(r + 24, &s->zone.end);
}

static leal_err site_get(const uint8_t r[PACKAGE_SITE_LEN], struct package_site *s)
{
    s->store_id = get32(r);
    s->classic_purse_cap_cents = get32(r + 4);
    s->zone.std_minutes = get16s(r + 8);
    s->zone.dst_minutes = get16s(r + 10);
    s->zone.has_dst = r[12] == 1;
    rule_get(r + 16, &s->zone.start);
    rule_get(r + 24, &s->zone.end);
    if (r[12] > 1 || !all_zero(r + 13, 3) || r[19] != 0 || r[27] != 0 || !package_zone_ok(&s->zone))
        return LEAL_E_PACKAGE_MALFORMED;
    return LEAL_OK;
}

/* The contents' lists and names: each entry valid and strictly ordered;
 * *names_len the names section's bytes. */
static leal_err contents_check(const struct package_contents *c, uint32_t *names_len)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->hot_count; i++) {
        const struct package_hot *h = &c->hot[i];
        if (h->card_id == 0 || h->reason < PACKAGE_HOT_BLOCKED || h->reason > PACKAGE_HOT_REPLACED)
            return LEAL_E_PACKAGE_MALFORMED;
        if (i && h->card_id <= c->hot[i - 1].card_id)
            return LEAL_E_PACKAGE_UNSORTED;
    }
    for (uint32_t i = 0; i < c->floor_count; i++) {
        if (!floor_ok(&c->floors[i]))
            return LEAL_E_PACKAGE_MALFORMED;
        if (i && c->floors[i].card_id <= c->floors[i - 1].card_id)
            return LEAL_E_PACKAGE_UNSORTED;
    }
    for (uint32_t i = 0; i < c->pending_count; i++) {
        if (!pending_ok(&c->pending[i]))
            return LEAL_E_PACKAGE_MALFORMED;
        if (i && c->pending[i].card_id <= c->pending[i - 1].card_id)
            return LEAL_E_PACKAGE_UNSORTED;
    }
    for (uint32_t i = 0; i < c->name_count; i++) {
        const struct package_name *m = &c->names[i];
        if (!name_ok(m) || n > PACKAGE_MAX_NAMES_LEN - PACKAGE_NAME_HEAD - m->len)
            return LEAL_E_PACKAGE_MALFORMED;
        if (i && !name_before(c->names[i - 1].kind, c->names[i - 1].item, m->kind, m->item))
            return LEAL_E_PACKAGE_UNSORTED;
        n += PACKAGE_NAME_HEAD + m->len;
    }
    if (!package_zone_ok(&c->site.zone))
        return LEAL_E_PACKAGE_MALFORMED;
    *names_len = n;
    return LEAL_OK;
}

leal_err package_encoded_size(const struct package_contents *c, uint32_t *size)
{
    struct sections n;
    leal_err err;
    if (c == NULL || size == NULL)
        return LEAL_E_ARG;
    if (c->key_version == 0 || c->program_id == 0 || c->terminal_id == 0 || c->version == 0 ||
        c->valid_until <= c->issued || c->rules_len > PACKAGE_MAX_RULES ||
        c->hot_count > PACKAGE_MAX_HOT || c->floor_count > PACKAGE_MAX_FLOORS ||
        c->pending_count > PACKAGE_MAX_PENDING || c->cap_day_cents > c->cap_sync_cents ||
        (c->rules_len && c->rules == NULL) || (c->hot_count && c->hot == NULL) ||
        (c->floor_count && c->floors == NULL) || (c->pending_count && c->pending == NULL) ||
        (c->name_count && c->names == NULL))
        return LEAL_E_PACKAGE_MALFORMED;
    n = (struct sections){c->rules_len, c->hot_count, c->floor_count, c->pending_count, 0};
    if ((err = contents_check(c, &n.names_len)) != LEAL_OK)
        return err;
    *size = body_len_of(&n) + PACKAGE_SIGNATURE_LEN;
    return LEAL_OK;
}

leal_err package_memory_read(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    if (ctx == NULL || out == NULL)
        return LEAL_E_ARG;
    copy(out, (const uint8_t *)ctx + offset, len);
    return LEAL_OK;
}

leal_err package_signed_message(const struct crypto_provider *cp, const struct package_source *src,
                                uint32_t body_len, uint8_t msg[PACKAGE_SIGNED_MSG_LEN])
{
    /* h(0) = 32 zero bytes; h(i) = SHA-256(h(i-1) || block i); blocks of
     * PACKAGE_HASH_BLOCK bytes, the last one shorter. */
    uint8_t link[CRYPTO_SHA256_LEN + PACKAGE_HASH_BLOCK];
    leal_err err;
    if (cp == NULL || src == NULL || src->read == NULL || msg == NULL || body_len == 0 ||
        body_len > src->size)
        return LEAL_E_ARG;
    zero(link, CRYPTO_SHA256_LEN);
    for (uint32_t off = 0; off < body_len; off += PACKAGE_HASH_BLOCK) {
        uint32_t n = body_len - off < PACKAGE_HASH_BLOCK ? body_len - off : PACKAGE_HASH_BLOCK;
        if ((err = src_read(src, off, link + CRYPTO_SHA256_LEN, n)) != LEAL_OK ||
            (err = cp->sha256(link, CRYPTO_SHA256_LEN + n, link)) != LEAL_OK)
            return err;
    }
    copy(msg, sig_label, sizeof sig_label);
    msg[12] = PACKAGE_FORMAT_VERSION;
    put32(msg + 13, body_len);
    copy(msg + 17, link, CRYPTO_SHA256_LEN);
    return LEAL_OK;
}

/* The names section: kind, item, length, text per name. */
static uint32_t names_put(uint8_t *out, const struct package_contents *c)
{
    uint32_t off = 0;
    for (uint32_t i = 0; i < c->name_count; i++) {
        const struct package_name *m = &c->names[i];
        out[off] = m->kind;
        put32(out + off + 1, m->item);
        out[off + 5] = m->len;
        copy(out + off + PACKAGE_NAME_HEAD, (const uint8_t *)m->text, m->len);
        off += PACKAGE_NAME_HEAD + m->len;
    }
    return off;
}

static void header_put(uint8_t *out, const struct package_contents *c, uint32_t names_len)
{
    copy(out, magic, 4);
    out[4] = PACKAGE_FORMAT_VERSION;
    out[5] = c->key_version;
    out[6] = 0;
    out[7] = 0;
    put32(out + 8, c->program_id);
    put32(out + 12, c->terminal_id);
    put32(out + 16, c->version);
    put64(out + 20, c->issued);
    put64(out + 28, c->valid_until);
    put32(out + 36, c->rules_len);
    put32(out + 40, c->hot_count);
    put32(out + 44, c->floor_count);
    put32(out + 48, c->pending_count);
    put32(out + 52, names_len);
    zero(out + 56, 4);
}

leal_err package_encode_body(const struct crypto_provider *cp, const struct package_contents *c,
                             uint8_t *out, size_t cap, size_t *len,
                             uint8_t msg[PACKAGE_SIGNED_MSG_LEN])
{
    uint32_t size, off, names_len = 0;
    leal_err err;
    if (cp == NULL || out == NULL || len == NULL || msg == NULL)
        return LEAL_E_ARG;
    if ((err = package_encoded_size(c, &size)) != LEAL_OK ||
        (err = contents_check(c, &names_len)) != LEAL_OK)
        return err;
    if (cap < size - PACKAGE_SIGNATURE_LEN)
        return LEAL_E_NO_SPACE;
    header_put(out, c, names_len);
    off = PACKAGE_HEADER_LEN;
    if (c->rules_len)
        copy(out + off, c->rules, c->rules_len);
    off += c->rules_len;
    for (uint32_t i = 0; i < c->hot_count; i++, off += PACKAGE_HOT_RECORD_LEN)
        hot_put(out + off, &c->hot[i]);
    for (uint32_t i = 0; i < c->floor_count; i++, off += PACKAGE_FLOOR_RECORD_LEN)
        floor_put(out + off, &c->floors[i]);
    for (uint32_t i = 0; i < c->pending_count; i++, off += PACKAGE_PENDING_RECORD_LEN)
        pending_put(out + off, &c->pending[i]);
    off += names_put(out + off, c);
    site_put(out + off, &c->site);
    off += PACKAGE_SITE_LEN;
    put32(out + off, c->cap_day_cents);
    put32(out + off + 4, c->cap_sync_cents);
    off += PACKAGE_CAPS_LEN;
    *len = off;
    struct package_source mem = {package_memory_read, out, off};
    return package_signed_message(cp, &mem, off, msg);
}

/* Header and sizes. */
static leal_err parse_header(const struct package_source *src, struct package_info *p)
{
    uint8_t h[PACKAGE_HEADER_LEN];
    struct sections n;
    leal_err err;
    if (src->size < PACKAGE_HEADER_LEN)
        return LEAL_E_PACKAGE_MALFORMED;
    if ((err = src->read(src->ctx, 0, h, sizeof h)) != LEAL_OK)
        return err;
    if (!leal_ct_equal(h, magic, sizeof magic))
        return LEAL_E_PACKAGE_MALFORMED;
    if (h[4] >= PACKAGE_FORMAT_OLDEST && h[4] < PACKAGE_FORMAT_VERSION)
        return LEAL_E_PACKAGE_FORMAT_OLD;
    if (h[4] != PACKAGE_FORMAT_VERSION)
        return LEAL_E_PACKAGE_FORMAT_VERSION;
    p->format_version = h[4];
    p->key_version = h[5];
    p->program_id = get32(h + 8);
    p->terminal_id = get32(h + 12);
    p->version = get32(h + 16);
    p->issued = get64(h + 20);
    p->valid_until = get64(h + 28);
    p->rules_len = get32(h + 36);
    p->hot_count = get32(h + 40);
    p->floor_count = get32(h + 44);
    p->pending_count = get32(h + 48);
    p->names_len = get32(h + 52);
    if (p->key_version == 0 || h[6] || h[7] || p->program_id == 0 || p->terminal_id == 0 ||
        p->version == 0 || p->valid_until <= p->issued || p->rules_len > PACKAGE_MAX_RULES ||
        p->hot_count > PACKAGE_MAX_HOT || p->floor_count > PACKAGE_MAX_FLOORS ||
        p->pending_count > PACKAGE_MAX_PENDING || p->names_len > PACKAGE_MAX_NAMES_LEN ||
        !all_zero(h + 56, 4))
        return LEAL_E_PACKAGE_MALFORMED;
    p->rules_offset = PACKAGE_HEADER_LEN;
    p->hot_offset = p->rules_offset + p->rules_len;
    p->floor_offset = p->hot_offset + p->hot_count * PACKAGE_HOT_RECORD_LEN;
    p->pending_offset = p->floor_offset + p->floor_count * PACKAGE_FLOOR_RECORD_LEN;
    p->names_offset = p->pending_offset + p->pending_count * PACKAGE_PENDING_RECORD_LEN;
    n = (struct sections){p->rules_len, p->hot_count, p->floor_count, p->pending_count,
                          p->names_len};
    p->size = body_len_of(&n) + PACKAGE_SIGNATURE_LEN;
    /* Truncated or with bytes after the signature: both refused. */
    if (src->size != p->size)
        return LEAL_E_PACKAGE_MALFORMED;
    return LEAL_OK;
}

/* A sorted table in the package: count records of width bytes at offset,
 * each starting with the big-endian card id. */
struct sorted_table {
    uint32_t offset;
    uint32_t count;
    uint32_t width;
};

static struct sorted_table hot_table(const struct package_info *p)
{
    return (struct sorted_table){p->hot_offset, p->hot_count, PACKAGE_HOT_RECORD_LEN};
}

static struct sorted_table floor_table(const struct package_info *p)
{
    return (struct sorted_table){p->floor_offset, p->floor_count, PACKAGE_FLOOR_RECORD_LEN};
}

static struct sorted_table pending_table(const struct package_info *p)
{
    return (struct sorted_table){p->pending_offset, p->pending_count, PACKAGE_PENDING_RECORD_LEN};
}

/* Record i of t into r (t.width bytes); LEAL_E_RANGE past the end. */
static leal_err table_record(const struct package_source *src, struct sorted_table t, uint32_t i,
                             uint8_t *r)
{
    if (i >= t.count)
        return LEAL_E_RANGE;
    return src_read(src, t.offset + i * t.width, r, t.width);
}

leal_err package_hot_at(const struct package_info *p, const struct package_source *src, uint32_t i,
                        struct package_hot *out)
{
    uint8_t r[PACKAGE_HOT_RECORD_LEN];
    leal_err err;
    if (p == NULL || src == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = table_record(src, hot_table(p), i, r)) != LEAL_OK)
        return err;
    return hot_get(r, out);
}

leal_err package_floor_at(const struct package_info *p, const struct package_source *src,
                          uint32_t i, struct package_floor *out)
{
    uint8_t r[PACKAGE_FLOOR_RECORD_LEN];
    leal_err err;
    if (p == NULL || src == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = table_record(src, floor_table(p), i, r)) != LEAL_OK)
        return err;
    return floor_get(r, out);
}

/* The card id of a record that decodes whole (hot_get, floor_get). */
static leal_err hot_card_id(const uint8_t *rec, uint64_t *id)
{
    struct package_hot h;
    leal_err err = hot_get(rec, &h);
    *id = h.card_id;
    return err;
}

static leal_err floor_card_id(const uint8_t *rec, uint64_t *id)
{
    struct package_floor f;
    leal_err err = floor_get(rec, &f);
    *id = f.card_id;
    return err;
}

static leal_err pending_card_id(const uint8_t *rec, uint64_t *id)
{
    struct package_pending c;
    leal_err err = pending_get(rec, &c);
    *id = c.card_id;
    return err;
}

/* Every record of t valid and the card ids strictly ascending. Records are
 * read PACKAGE_HASH_BLOCK bytes' worth at a time (whole records). */
static leal_err check_table(const struct package_source *src, struct sorted_table t,
                            leal_err (*card_id_of)(const uint8_t *rec, uint64_t *id))
{
    uint8_t chunk[PACKAGE_HASH_BLOCK];
    uint32_t per = PACKAGE_HASH_BLOCK / t.width;
    uint64_t prev = 0, id;
    leal_err err;
    for (uint32_t i = 0; i < t.count;) {
        uint32_t n = t.count - i < per ? t.count - i : per;
        if ((err = src_read(src, t.offset + i * t.width, chunk, (size_t)n * t.width)) != LEAL_OK)
            return err;
        for (uint32_t k = 0; k < n; k++, i++) {
            if ((err = card_id_of(chunk + k * t.width, &id)) != LEAL_OK)
                return err;
            if (id <= prev)
                return LEAL_E_PACKAGE_UNSORTED;
            prev = id;
        }
    }
    return LEAL_OK;
}

/* One name record at *off (its end no further than end): decoded into *m,
 * *off moved past it. */
static leal_err name_read(const struct package_source *src, uint32_t *off, uint32_t end,
                          struct package_name *m)
{
    uint8_t h[PACKAGE_NAME_HEAD];
    leal_err err;
    if (end - *off < PACKAGE_NAME_HEAD)
        return LEAL_E_PACKAGE_MALFORMED;
    if ((err = src_read(src, *off, h, sizeof h)) != LEAL_OK)
        return err;
    m->kind = h[0];
    m->item = get32(h + 1);
    m->len = h[5];
    if (m->len == 0 || m->len > PACKAGE_NAME_MAX || end - *off - PACKAGE_NAME_HEAD < m->len)
        return LEAL_E_PACKAGE_MALFORMED;
    if ((err = src_read(src, *off + PACKAGE_NAME_HEAD, (uint8_t *)m->text, m->len)) != LEAL_OK)
        return err;
    m->text[m->len] = 0;
    if (!name_ok(m))
        return LEAL_E_PACKAGE_MALFORMED;
    *off += PACKAGE_NAME_HEAD + m->len;
    return LEAL_OK;
}

/* Every name valid, the section exactly whole records, (kind, item) strictly
 * ascending. */
static leal_err check_names(const struct package_source *src, const struct package_info *p)
{
    uint32_t off = p->names_offset, end = p->names_offset + p->names_len;
    struct package_name m;
    uint8_t kind = 0;
    uint32_t item = 0;
    bool first = true;
    leal_err err;
    while (off < end) {
        if ((err = name_read(src, &off, end, &m)) != LEAL_OK)
            return err;
        if (!first && !name_before(kind, item, m.kind, m.item))
            return LEAL_E_PACKAGE_UNSORTED;
        first = false;
        kind = m.kind;
        item = m.item;
    }
    return LEAL_OK;
}

/* Every record valid and the lists strictly ascending; the names, the site
 * and the caps. */
static leal_err check_lists(const struct package_source *src, struct package_info *p)
{
    uint8_t tail[PACKAGE_SITE_LEN + PACKAGE_CAPS_LEN];
    leal_err err;
    if ((err = check_table(src, hot_table(p), hot_card_id)) != LEAL_OK ||
        (err = check_table(src, floor_table(p), floor_card_id)) != LEAL_OK ||
        (err = check_table(src, pending_table(p), pending_card_id)) != LEAL_OK ||
        (err = check_names(src, p)) != LEAL_OK)
        return err;
    if ((err = src_read(src, p->size - PACKAGE_SIGNATURE_LEN - (uint32_t)sizeof tail, tail,
                        sizeof tail)) != LEAL_OK ||
        (err = site_get(tail, &p->site)) != LEAL_OK)
        return err;
    p->cap_day_cents = get32(tail + PACKAGE_SITE_LEN);
    p->cap_sync_cents = get32(tail + PACKAGE_SITE_LEN + 4);
    if (p->cap_day_cents > p->cap_sync_cents)
        return LEAL_E_PACKAGE_MALFORMED;
    return LEAL_OK;
}

leal_err package_parse(const struct package_source *src, struct package_info *out)
{
    struct package_info p = {0};
    leal_err err;
    if (src == NULL || src->read == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = parse_header(src, &p)) != LEAL_OK || (err = check_lists(src, &p)) != LEAL_OK)
        return err;
    *out = p;
    return LEAL_OK;
}

leal_err package_parse_header(const struct package_source *src, struct package_info *out)
{
    struct package_info p = {0};
    leal_err err;
    if (src == NULL || src->read == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = parse_header(src, &p)) != LEAL_OK)
        return err;
    *out = p;
    return LEAL_OK;
}

leal_err package_verify(const struct crypto_provider *cp, const struct package_source *src,
                        const struct package_expect *e, struct package_info *out)
{
    uint8_t msg[PACKAGE_SIGNED_MSG_LEN], sig[PACKAGE_SIGNATURE_LEN];
    const struct package_key *key = NULL;
    struct package_info p;
    leal_err err;
    if (cp == NULL || e == NULL || out == NULL || (e->nkeys && e->keys == NULL))
        return LEAL_E_ARG;
    if ((err = package_parse(src, &p)) != LEAL_OK)
        return err;
    for (size_t i = 0; i < e->nkeys; i++)
        if (e->keys[i].version == p.key_version)
            key = &e->keys[i];
    if (key == NULL)
        return LEAL_E_PACKAGE_KEY_VERSION;
    if ((err = package_signed_message(cp, src, p.size - PACKAGE_SIGNATURE_LEN, msg)) != LEAL_OK ||
        (err = src_read(src, p.size - PACKAGE_SIGNATURE_LEN, sig, sizeof sig)) != LEAL_OK)
        return err;
    err = cp->ed25519_verify(key->public_key, msg, sizeof msg, sig);
    if (err == LEAL_E_SIGNATURE)
        return LEAL_E_PACKAGE_SIGNATURE;
    if (err != LEAL_OK)
        return err;
    if (p.program_id != e->program_id)
        return LEAL_E_PACKAGE_PROGRAM;
    if (p.terminal_id != e->terminal_id)
        return LEAL_E_PACKAGE_TERMINAL;
    if (e->now >= p.valid_until)
        return LEAL_E_PACKAGE_EXPIRED;
    if (p.version < e->loaded_version)
        return LEAL_E_PACKAGE_OLDER;
    if (p.version == e->loaded_version)
        return LEAL_E_PACKAGE_SAME;
    *out = p;
    return LEAL_OK;
}

/* The Rules section's len bytes at rules, decoded. Any refusal of the codec
 * (truncated, trailing, unknown format, a set the engine's check refuses)
 * is the package's rule set not decoding. */
static leal_err rules_decode(const uint8_t *rules, uint32_t len, struct rules_versioned *out)
{
    if (len > RULES_CODEC_MAX_LEN || rules_codec_decode_program(rules, len, out, NULL) != LEAL_OK)
        return LEAL_E_PACKAGE_RULES;
    return LEAL_OK;
}

leal_err package_rules(const struct package_info *p, const struct package_source *src,
                       struct rules_versioned *out)
{
    uint8_t buf[RULES_CODEC_MAX_LEN];
    leal_err err;
    if (p == NULL || src == NULL || out == NULL)
        return LEAL_E_ARG;
    if (p->rules_len > sizeof buf)
        return LEAL_E_PACKAGE_RULES;
    if ((err = src_read(src, p->rules_offset, buf, p->rules_len)) != LEAL_OK)
        return err;
    return rules_decode(buf, p->rules_len, out);
}

leal_err package_rules_in(const struct package_info *p, const uint8_t *pkg,
                          struct rules_versioned *out)
{
    if (p == NULL || pkg == NULL || out == NULL)
        return LEAL_E_ARG;
    return rules_decode(pkg + p->rules_offset, p->rules_len, out);
}

/* The verified package's rules decoded, then t published whole, in a frame
 * of its own: the rules (2.2 KiB) are not on the stack while package_verify
 * checks the signature, the deepest chain of a board's LOAD. */
LEAL_NOINLINE static leal_err publish(struct package_terminal *t, const struct package_info *p,
                                      const struct package_source *src)
{
    struct rules_versioned rules;
    leal_err err = package_rules(p, src, &rules);
    if (err != LEAL_OK)
        return err;
    t->info = *p;
    t->source = *src;
    t->rules = rules;
    t->loaded = true;
    return LEAL_OK;
}

leal_err package_load(struct package_terminal *t, const struct crypto_provider *cp,
                      const struct package_source *src, const struct package_expect *e)
{
    struct package_expect ex;
    struct package_info p;
    leal_err err;
    if (t == NULL || e == NULL || src == NULL)
        return LEAL_E_ARG;
    ex = *e;
    ex.loaded_version = t->loaded ? t->info.version : 0;
    if ((err = package_verify(cp, src, &ex, &p)) != LEAL_OK)
        return err;
    return publish(t, &p, src);
}

leal_err package_load_into(struct package_terminal *out, const struct crypto_provider *cp,
                           const struct package_source *src, const struct package_expect *e)
{
    leal_err err;
    if (out == NULL || e == NULL || src == NULL)
        return LEAL_E_ARG;
    out->loaded = false;
    if ((err = package_verify(cp, src, e, &out->info)) != LEAL_OK ||
        (err = package_rules(&out->info, src, &out->rules)) != LEAL_OK)
        return err;
    out->source = *src;
    out->loaded = true;
    return LEAL_OK;
}

/* Binary search of a table for card_id: *index of the match, or *found false. */
static leal_err search(const struct package_source *src, struct sorted_table t, uint64_t card_id,
                       bool *found, uint32_t *index)
{
    uint32_t lo = 0, hi = t.count;
    uint8_t r[8];
    leal_err err;
    *found = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t id;
        if ((err = src_read(src, t.offset + mid * t.width, r, sizeof r)) != LEAL_OK)
            return err;
        id = get64(r);
        if (id == card_id) {
            *found = true;
            *index = mid;
            return LEAL_OK;
        }
        if (id < card_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return LEAL_OK;
}

leal_err package_hot_find(const struct package_info *p, const struct package_source *src,
                          uint64_t card_id, bool *found, uint8_t *reason)
{
    struct package_hot h;
    uint32_t i = 0;
    leal_err err;
    if (p == NULL || src == NULL || found == NULL || reason == NULL)
        return LEAL_E_ARG;
    if ((err = search(src, hot_table(p), card_id, found, &i)) != LEAL_OK || !*found)
        return err;
    if ((err = package_hot_at(p, src, i, &h)) != LEAL_OK) {
        *found = false;
        return err;
    }
    *reason = h.reason;
    return LEAL_OK;
}

leal_err package_floor_find(const struct package_info *p, const struct package_source *src,
                            uint64_t card_id, bool *found, struct package_floor *out)
{
    uint32_t i = 0;
    leal_err err;
    if (p == NULL || src == NULL || found == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = search(src, floor_table(p), card_id, found, &i)) != LEAL_OK || !*found)
        return err;
    if ((err = package_floor_at(p, src, i, out)) != LEAL_OK)
        *found = false;
    return err;
}

leal_err package_pending_at(const struct package_info *p, const struct package_source *src,
                            uint32_t i, struct package_pending *out)
{
    uint8_t r[PACKAGE_PENDING_RECORD_LEN];
    leal_err err;
    if (p == NULL || src == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = table_record(src, pending_table(p), i, r)) != LEAL_OK)
        return err;
    return pending_get(r, out);
}

leal_err package_pending_find(const struct package_info *p, const struct package_source *src,
                              uint64_t card_id, bool *found, struct package_pending *out)
{
    uint32_t i = 0;
    leal_err err;
    if (p == NULL || src == NULL || found == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = search(src, pending_table(p), card_id, found, &i)) != LEAL_OK || !*found)
        return err;
    if ((err = package_pending_at(p, src, i, out)) != LEAL_OK)
        *found = false;
    return err;
}

leal_err package_name_next(const struct package_info *p, const struct package_source *src,
                           uint32_t *cursor, struct package_name *out)
{
    uint32_t off;
    leal_err err;
    if (p == NULL || src == NULL || cursor == NULL || out == NULL)
        return LEAL_E_ARG;
    if (*cursor >= p->names_len)
        return LEAL_E_RANGE;
    off = p->names_offset + *cursor;
    if ((err = name_read(src, &off, p->names_offset + p->names_len, out)) != LEAL_OK)
        return err;
    *cursor = off - p->names_offset;
    return LEAL_OK;
}

leal_err package_name_find(const struct package_info *p, const struct package_source *src,
                           uint8_t kind, uint32_t item, bool *found, struct package_name *out)
{
    uint32_t cursor = 0;
    leal_err err;
    if (found == NULL)
        return LEAL_E_ARG;
    *found = false;
    while ((err = package_name_next(p, src, &cursor, out)) == LEAL_OK) {
        if (out->kind == kind && out->item == item) {
            *found = true;
            return LEAL_OK;
        }
        if (!name_before(out->kind, out->item, kind, item))
            return LEAL_OK; /* sorted: passed where it would be */
    }
    return err == LEAL_E_RANGE ? LEAL_OK : err;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), and the weekday of a day (0 Sunday). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    return (int64_t)yoe + era * 400 + (mp >= 10);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The instant (UTC seconds) rule r takes effect in year y, while offset
 * (minutes) is the one in force before it. */
static int64_t rule_instant(const struct package_zone_rule *r, int64_t y, int16_t offset)
{
    static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned last = mdays[r->month - 1] + (r->month == 2 && leap(y) ? 1u : 0u);
    int64_t first = days_from_civil(y, r->month, 1);
    unsigned wd_first = (unsigned)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    unsigned day = 1u + ((unsigned)r->weekday + 7u - wd_first) % 7u + 7u * ((unsigned)r->week - 1u);
    while (day > last)
        day -= 7;
    return (days_from_civil(y, r->month, day)) * 86400 + r->time_seconds - (int64_t)offset * 60;
}

leal_err package_local_offset(const struct package_zone *z, uint64_t utc, int16_t *minutes)
{
    if (z == NULL || minutes == NULL || !package_zone_ok(z) || utc > (uint64_t)INT64_MAX / 2)
        return LEAL_E_ARG;
    if (!z->has_dst) {
        *minutes = z->std_minutes;
        return LEAL_OK;
    }
    int64_t t = (int64_t)utc;
    int64_t local = t + (int64_t)z->std_minutes * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t y = year_of_days(days);
    int64_t start = rule_instant(&z->start, y, z->std_minutes);
    int64_t end = rule_instant(&z->end, y, z->dst_minutes);
    bool dst = start < end ? (t >= start && t < end) : (t < end || t >= start);
    *minutes = dst ? z->dst_minutes : z->std_minutes;
    return LEAL_OK;
}
