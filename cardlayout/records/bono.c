/* bono.c - LAYOUT.md 4.2 bono file (bono.h). */
#include "bono.h"

#include <stdbool.h>

#include "cardlayout/layout.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"

/* The slot rules of LAYOUT.md 4.2: a free slot is all zero, ids are unique. */
static bool slots_valid(const struct bono_file *b)
{
    for (int i = 0; i < BONO_SLOTS; i++) {
        const struct bono_slot *s = &b->slot[i];
        if (s->id == 0 && (s->sessions != 0 || s->last_day != 0))
            return false;
        for (int j = 0; s->id != 0 && j < i; j++)
            if (b->slot[j].id == s->id)
                return false;
    }
    return true;
}

/* A slot's fields in their wire order (keys/base/buf.h): one table for the
 * encoder and the decoder. */
static const uint16_t slot_fields[] = {
    BUF_FIELD(struct bono_slot, id, BUF_U32),
    BUF_FIELD(struct bono_slot, sessions, BUF_U16),
    BUF_FIELD(struct bono_slot, last_day, BUF_U16),
};

leal_err bono_file_encode(const struct bono_file *b, uint8_t out[BONO_FILE_LEN])
{
    struct buf_writer w;
    leal_err err;

    if (b == NULL || out == NULL || !slots_valid(b))
        return LEAL_E_ARG;
    buf_writer_init(&w, out, BONO_FILE_LEN);
    if ((err = buf_put_u8(&w, LAYOUT_VERSION_BONOS)) != LEAL_OK ||
        (err = buf_put_u8(&w, LAYOUT_TYPE_BONOS)) != LEAL_OK)
        return err;
    for (int i = 0; i < BONO_SLOTS; i++)
        if ((err = buf_put_fields(&w, &b->slot[i], slot_fields, BUF_N_FIELDS(slot_fields))) !=
            LEAL_OK)
            return err;
    return buf_writer_len(&w) == BONO_FILE_LEN ? LEAL_OK : LEAL_E_INTERNAL;
}

leal_err bono_file_decode(const uint8_t *p, size_t len, struct bono_file *out)
{
    struct buf_reader r;
    struct bono_file b;
    uint8_t version, type;
    leal_err err;

    if (out == NULL || (p == NULL && len > 0))
        return LEAL_E_ARG;
    leal_memset(out, 0, sizeof *out);
    leal_memset(&b, 0, sizeof b);
    buf_reader_init(&r, p, len);
    if ((err = buf_get_u8(&r, &version)) != LEAL_OK)
        return err;
    if (version != LAYOUT_VERSION_BONOS)
        return LEAL_E_LAYOUT_VERSION;
    if ((err = buf_get_u8(&r, &type)) != LEAL_OK)
        return err;
    for (int i = 0; i < BONO_SLOTS; i++)
        if ((err = buf_get_fields(&r, &b.slot[i], slot_fields, BUF_N_FIELDS(slot_fields))) !=
            LEAL_OK)
            return err;
    if ((err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (type != LAYOUT_TYPE_BONOS || !slots_valid(&b))
        return LEAL_E_FORMAT;
    *out = b;
    return LEAL_OK;
}

int bono_file_find(const struct bono_file *b, uint32_t id)
{
    for (int i = 0; id != 0 && i < BONO_SLOTS; i++)
        if (b->slot[i].id == id)
            return i;
    return -1;
}

leal_err bono_file_add(struct bono_file *b, uint32_t id, uint16_t sessions, uint16_t last_day)
{
    int i;
    if (b == NULL || id == 0 || sessions == 0)
        return LEAL_E_ARG;
    if ((i = bono_file_find(b, id)) >= 0) {
        struct bono_slot *s = &b->slot[i];
        if ((uint32_t)s->sessions + sessions > 0xFFFFu)
            return LEAL_E_RANGE;
        s->sessions = (uint16_t)(s->sessions + sessions);
        if (s->last_day != 0 && (last_day == 0 || last_day > s->last_day))
            s->last_day = last_day;
        return LEAL_OK;
    }
    for (i = 0; i < BONO_SLOTS; i++)
        if (b->slot[i].id == 0) {
            b->slot[i] = (struct bono_slot){id, sessions, last_day};
            return LEAL_OK;
        }
    return LEAL_E_NO_SPACE;
}
