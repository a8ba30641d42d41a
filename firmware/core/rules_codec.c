/* rules_codec.c - see rules_codec.h; the format is RULES.md section 7. */
#include "firmware/core/rules_codec.h"

#include <stdbool.h>

#include "keys/base/buf.h"
#include "keys/base/bytes.h"

static leal_err bono_fault(struct rules_problem *where, unsigned index)
{
    where->part = RULES_CODEC_PART_BONO;
    where->index = (uint8_t)index;
    return LEAL_E_RULES_PROGRAM;
}

static bool bono_ok(const struct rules_bono_kind *b)
{
    return b->id != 0 && b->sessions != 0 && b->valid_days <= RULES_MAX_BONO_VALID_DAYS &&
           b->price_cents >= 0 && b->price_cents <= RULES_MAX_SALE_CENTS;
}

leal_err rules_codec_problem(const struct rules_set *s, struct rules_problem *where)
{
    leal_err err;
    if (s == NULL || where == NULL)
        return LEAL_E_ARG;
    if ((err = rules_program_problem(&s->program, where)) != LEAL_OK)
        return err;
    if (s->n_bonos > RULES_MAX_BONO_KINDS) {
        where->part = RULES_PART_PROGRAM;
        return LEAL_E_RULES_PROGRAM;
    }
    for (unsigned i = 0; i < s->n_bonos; i++) {
        const struct rules_bono_kind *b = &s->bonos[i];
        if (!bono_ok(b))
            return bono_fault(where, i);
        for (unsigned j = 0; j < i; j++)
            if (s->bonos[j].id == b->id)
                return bono_fault(where, i);
    }
    return LEAL_OK;
}

leal_err rules_codec_size(const struct rules_set *s, size_t *len)
{
    struct rules_problem where;
    size_t n;
    if (len == NULL)
        return LEAL_E_ARG;
    *len = 0;
    if (rules_codec_problem(s, &where) != LEAL_OK)
        return s == NULL ? LEAL_E_ARG : LEAL_E_RULES_PROGRAM;
    n = RULES_CODEC_HEADER_LEN + (size_t)s->program.n_tiers * RULES_CODEC_TIER_LEN +
        (size_t)s->program.n_stamps * RULES_CODEC_STAMP_LEN +
        (size_t)s->program.n_rewards * RULES_CODEC_REWARD_LEN +
        (size_t)s->n_bonos * RULES_CODEC_BONO_LEN;
    for (unsigned i = 0; i < s->program.n_rules; i++) {
        const struct rules_rule *r = &s->program.rules[i];
        n += RULES_CODEC_RULE_LEN + 4u * r->n_stores + 2u * r->n_categories;
    }
    *len = n;
    return LEAL_OK;
}

/* ---- writing (every field already checked: each fits its bytes on the wire) ---- */

/* The set's structs as field tables (keys/base/buf.h), in their wire order:
 * the encoder and the decoder share them. */
_Static_assert(sizeof(struct rules_program) <= BUF_FIELDS_MAX_STRUCT, "offsets take 12 bits");
static const uint16_t header_fields[] = {
    BUF_FIELD(struct rules_program, rate_milli, BUF_U32_I64),
    BUF_FIELD(struct rules_program, welcome_points, BUF_U32),
    BUF_FIELD(struct rules_program, n_tiers, BUF_U8),
    BUF_FIELD(struct rules_program, n_rules, BUF_U8),
    BUF_FIELD(struct rules_program, n_stamps, BUF_U8),
    BUF_FIELD(struct rules_program, n_rewards, BUF_U8),
};
static const uint16_t tier_fields[] = {
    BUF_FIELD(struct rules_tier, threshold_units, BUF_U32),
    BUF_FIELD(struct rules_tier, multiplier_milli, BUF_U32),
};
static const uint16_t rule_fields[] = {
    BUF_FIELD(struct rules_rule, id, BUF_U32),
    BUF_FIELD(struct rules_rule, kind, BUF_U8),
    BUF_FIELD(struct rules_rule, combine, BUF_U8),
    BUF_FIELD(struct rules_rule, multiplier_milli, BUF_U32),
    BUF_FIELD(struct rules_rule, bonus_points, BUF_U32),
    BUF_FIELD(struct rules_rule, from_day, BUF_U32),
    BUF_FIELD(struct rules_rule, to_day, BUF_U32),
    BUF_FIELD(struct rules_rule, weekdays, BUF_U8),
    BUF_FIELD(struct rules_rule, start_minute, BUF_U16),
    BUF_FIELD(struct rules_rule, end_minute, BUF_U16),
    BUF_FIELD(struct rules_rule, min_spend_cents, BUF_U32_I64),
    BUF_FIELD(struct rules_rule, cap_per_sale, BUF_U32),
    BUF_FIELD(struct rules_rule, cap_per_day, BUF_U32),
    BUF_FIELD(struct rules_rule, n_stores, BUF_U8),
    BUF_FIELD(struct rules_rule, n_categories, BUF_U8),
};
static const uint16_t stamp_fields[] = {
    BUF_FIELD(struct rules_stamp, per, BUF_U8),
    BUF_FIELD(struct rules_stamp, category, BUF_U16),
    BUF_FIELD(struct rules_stamp, goal, BUF_U8),
    BUF_FIELD(struct rules_stamp, reward_id, BUF_U32),
    BUF_FIELD(struct rules_stamp, min_spend_cents, BUF_U32_I64),
};
/* A reward's value from 2^63 up is read as -1: the check then refuses it. */
static const uint16_t reward_fields[] = {
    BUF_FIELD(struct rules_reward, id, BUF_U32),
    BUF_FIELD(struct rules_reward, kind, BUF_U8),
    BUF_FIELD(struct rules_reward, cost_points, BUF_U32),
    BUF_FIELD(struct rules_reward, value, BUF_U64_I64),
    BUF_FIELD(struct rules_reward, min_tier, BUF_U8),
};
static const uint16_t bono_fields[] = {
    BUF_FIELD(struct rules_bono_kind, id, BUF_U32),
    BUF_FIELD(struct rules_bono_kind, sessions, BUF_U16),
    BUF_FIELD(struct rules_bono_kind, valid_days, BUF_U16),
    BUF_FIELD(struct rules_bono_kind, price_cents, BUF_U32_I64),
};
#define GET(r, dst, table) buf_get_fields((r), (dst), (table), BUF_N_FIELDS(table))
#define PUT(w, src, table) buf_put_fields((w), (src), (table), BUF_N_FIELDS(table))

static leal_err put_rule(struct buf_writer *w, const struct rules_rule *r)
{
    leal_err err;
    if ((err = PUT(w, r, rule_fields)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < r->n_stores; i++)
        if ((err = buf_put_be32(w, r->stores[i])) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < r->n_categories; i++)
        if ((err = buf_put_be16(w, r->categories[i])) != LEAL_OK)
            return err;
    return LEAL_OK;
}

static leal_err put_header(struct buf_writer *w, const struct rules_set *s)
{
    const struct rules_program *p = &s->program;
    leal_err err;
    if ((err = buf_put_u8(w, RULES_CODEC_FORMAT)) != LEAL_OK ||
        (err = buf_put_be32(w, s->version)) != LEAL_OK ||
        (err = PUT(w, p, header_fields)) != LEAL_OK || (err = buf_put_u8(w, s->n_bonos)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < p->n_tiers; i++)
        if ((err = PUT(w, &p->tiers[i], tier_fields)) != LEAL_OK)
            return err;
    return LEAL_OK;
}

leal_err rules_codec_encode(const struct rules_set *s, uint8_t *out, size_t cap, size_t *len)
{
    struct buf_writer w;
    size_t need;
    leal_err err;
    if (out == NULL || len == NULL)
        return LEAL_E_ARG;
    *len = 0;
    if ((err = rules_codec_size(s, &need)) != LEAL_OK)
        return err;
    if (need > cap)
        return LEAL_E_NO_SPACE;
    buf_writer_init(&w, out, cap);
    if ((err = put_header(&w, s)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < s->program.n_rules; i++)
        if ((err = put_rule(&w, &s->program.rules[i])) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < s->program.n_stamps; i++)
        if ((err = PUT(&w, &s->program.stamps[i], stamp_fields)) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < s->program.n_rewards; i++)
        if ((err = PUT(&w, &s->program.rewards[i], reward_fields)) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < s->n_bonos; i++)
        if ((err = PUT(&w, &s->bonos[i], bono_fields)) != LEAL_OK)
            return err;
    *len = buf_writer_len(&w);
    return LEAL_OK;
}

/* ---- reading ---- */

/* A count over its limit: refused before any of its entries is read. */
static leal_err count_over(uint8_t n, unsigned max, struct rules_problem *where)
{
    if (n <= max)
        return LEAL_OK;
    where->part = RULES_PART_PROGRAM;
    where->index = 0;
    return LEAL_E_RULES_PROGRAM;
}

/* The header: the version, the program's rate, welcome and counts, *n_bonos. */
static leal_err get_header(struct buf_reader *r, uint32_t *version, struct rules_program *p,
                           uint8_t *n_bonos, struct rules_problem *where)
{
    uint8_t format;
    leal_err err;
    if ((err = buf_get_u8(r, &format)) != LEAL_OK)
        return err;
    if (format != RULES_CODEC_FORMAT)
        return LEAL_E_RULES_FORMAT_VERSION;
    if ((err = buf_get_be32(r, version)) != LEAL_OK ||
        (err = GET(r, p, header_fields)) != LEAL_OK || (err = buf_get_u8(r, n_bonos)) != LEAL_OK)
        return err;
    if ((err = count_over(p->n_tiers, RULES_MAX_TIERS, where)) != LEAL_OK ||
        (err = count_over(p->n_rules, RULES_MAX_RULES, where)) != LEAL_OK ||
        (err = count_over(p->n_stamps, RULES_STAMP_CARDS, where)) != LEAL_OK ||
        (err = count_over(p->n_rewards, RULES_MAX_REWARDS, where)) != LEAL_OK ||
        (err = count_over(*n_bonos, RULES_MAX_BONO_KINDS, where)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < p->n_tiers; i++)
        if ((err = GET(r, &p->tiers[i], tier_fields)) != LEAL_OK)
            return err;
    return LEAL_OK;
}

static leal_err get_rule_lists(struct buf_reader *r, struct rules_rule *x, unsigned index,
                               struct rules_problem *where)
{
    leal_err err;
    if (x->n_stores > RULES_MAX_RULE_STORES || x->n_categories > RULES_MAX_RULE_CATS) {
        where->part = RULES_PART_RULE;
        where->index = (uint8_t)index;
        return LEAL_E_RULES_PROGRAM;
    }
    for (unsigned i = 0; i < x->n_stores; i++)
        if ((err = buf_get_be32(r, &x->stores[i])) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < x->n_categories; i++)
        if ((err = buf_get_be16(r, &x->categories[i])) != LEAL_OK)
            return err;
    return LEAL_OK;
}

static leal_err get_rule(struct buf_reader *r, struct rules_rule *x, unsigned index,
                         struct rules_problem *where)
{
    leal_err err = GET(r, x, rule_fields);
    return err != LEAL_OK ? err : get_rule_lists(r, x, index, where);
}

static leal_err get_bono(struct buf_reader *r, struct rules_bono_kind *b)
{
    return GET(r, b, bono_fields);
}

/* Every byte of the set read, up to its end: bonos NULL reads the bono
 * kinds one at a time and keeps none. The checks are the caller's. */
static leal_err get_set(struct buf_reader *r, uint32_t *version, struct rules_program *p,
                        uint8_t *n_bonos, struct rules_bono_kind *bonos,
                        struct rules_problem *where)
{
    struct rules_bono_kind one;
    leal_err err;
    if ((err = get_header(r, version, p, n_bonos, where)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < p->n_rules; i++)
        if ((err = get_rule(r, &p->rules[i], i, where)) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < p->n_stamps; i++)
        if ((err = GET(r, &p->stamps[i], stamp_fields)) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < p->n_rewards; i++)
        if ((err = GET(r, &p->rewards[i], reward_fields)) != LEAL_OK)
            return err;
    for (unsigned i = 0; i < *n_bonos; i++)
        if ((err = get_bono(r, bonos != NULL ? &bonos[i] : &one)) != LEAL_OK)
            return err;
    return buf_expect_end(r);
}

/* rules_codec_problem's checks of n bono kinds from their encoding (the
 * set's last n * RULES_CODEC_BONO_LEN bytes, at in), one in RAM at a time. */
static leal_err bonos_problem(const uint8_t *in, uint8_t n, struct rules_problem *where)
{
    struct rules_bono_kind b;
    struct buf_reader r;
    for (unsigned i = 0; i < n; i++) {
        buf_reader_init(&r, in + i * RULES_CODEC_BONO_LEN, RULES_CODEC_BONO_LEN);
        if (get_bono(&r, &b) != LEAL_OK || !bono_ok(&b))
            return bono_fault(where, i);
        for (unsigned j = 0; j < i; j++)
            if (load_be32(in + j * RULES_CODEC_BONO_LEN) == b.id)
                return bono_fault(where, i);
    }
    return LEAL_OK;
}

leal_err rules_codec_decode(const uint8_t *in, size_t len, struct rules_set *out,
                            struct rules_problem *where)
{
    struct rules_problem ignored;
    struct buf_reader r;
    leal_err err;
    if (where == NULL)
        where = &ignored;
    where->part = RULES_PART_NONE;
    where->index = 0;
    if (out == NULL || (in == NULL && len > 0))
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    buf_reader_init(&r, in, len);
    if ((err = get_set(&r, &out->version, &out->program, &out->n_bonos, out->bonos, where)) ==
        LEAL_OK)
        err = rules_codec_problem(out, where);
    if (err != LEAL_OK)
        leal_memset(out, 0, sizeof *out);
    return err;
}

leal_err rules_codec_decode_program(const uint8_t *in, size_t len, struct rules_versioned *out,
                                    struct rules_problem *where)
{
    struct rules_problem ignored;
    struct buf_reader r;
    leal_err err;
    if (where == NULL)
        where = &ignored;
    where->part = RULES_PART_NONE;
    where->index = 0;
    if (out == NULL || (in == NULL && len > 0))
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    buf_reader_init(&r, in, len);
    if ((err = get_set(&r, &out->version, &out->program, &out->n_bonos, NULL, where)) == LEAL_OK &&
        (err = rules_program_problem(&out->program, where)) == LEAL_OK)
        err = bonos_problem(in + len - (size_t)out->n_bonos * RULES_CODEC_BONO_LEN, out->n_bonos,
                            where);
    if (err != LEAL_OK)
        leal_memset(out, 0, sizeof *out);
    return err;
}
