/* agent_proto.c - the desk agent's messages (agent_proto.h). */
#include "agent_proto.h"

#include <string.h>

#include "keys/base/buf.h"
#include "keys/base/ct.h"

static const uint8_t magic[2] = {'L', 'A'};

leal_err agent_proto_request_encode(const struct agent_request *rq, uint8_t *out, size_t cap,
                                    size_t *len)
{
    struct buf_writer w;
    size_t path_len = 0, body_len = 0;
    leal_err err;
    *len = 0;
    if (rq->op == AGENT_OP_KEYS) {
        path_len = strnlen(rq->path, sizeof rq->path);
        if (path_len == 0 || path_len > AGENT_MAX_PATH)
            return LEAL_E_ARG;
        body_len = 4 + 2 + path_len;
    } else if (rq->op != AGENT_OP_STATUS && rq->op != AGENT_OP_STOP) {
        return LEAL_E_ARG;
    }
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_bytes(&w, magic, sizeof magic)) != LEAL_OK ||
        (err = buf_put_u8(&w, AGENT_PROTO_VERSION)) != LEAL_OK ||
        (err = buf_put_u8(&w, (uint8_t)rq->op)) != LEAL_OK ||
        (err = buf_put_be16(&w, (uint16_t)body_len)) != LEAL_OK)
        return err;
    if (rq->op == AGENT_OP_KEYS &&
        ((err = buf_put_be32(&w, rq->program_id)) != LEAL_OK ||
         (err = buf_put_be16(&w, (uint16_t)path_len)) != LEAL_OK ||
         (err = buf_put_bytes(&w, (const uint8_t *)rq->path, path_len)) != LEAL_OK))
        return err;
    *len = w.len;
    return LEAL_OK;
}

static leal_err header(struct buf_reader *r, uint8_t *second)
{
    uint8_t m[2], version;
    leal_err err;
    if ((err = buf_get_bytes(r, m, sizeof m)) != LEAL_OK ||
        (err = buf_get_u8(r, &version)) != LEAL_OK || (err = buf_get_u8(r, second)) != LEAL_OK)
        return err;
    if (memcmp(m, magic, sizeof m) != 0 || version != AGENT_PROTO_VERSION)
        return LEAL_E_PROTOCOL;
    return LEAL_OK;
}

leal_err agent_proto_request_header(const uint8_t *in, size_t len, size_t *body_len)
{
    struct buf_reader r;
    uint8_t op;
    uint16_t n;
    leal_err err;
    buf_reader_init(&r, in, len);
    if ((err = header(&r, &op)) != LEAL_OK || (err = buf_get_be16(&r, &n)) != LEAL_OK)
        return err;
    if (op < AGENT_OP_STATUS || op > AGENT_OP_STOP)
        return LEAL_E_PROTOCOL;
    if (n > AGENT_MAX_REQUEST - AGENT_REQUEST_HEADER_LEN)
        return LEAL_E_FORMAT;
    *body_len = n;
    return LEAL_OK;
}

leal_err agent_proto_request_decode(const uint8_t *in, size_t len, struct agent_request *rq)
{
    struct buf_reader r, body;
    uint8_t op;
    uint16_t n, path_len;
    leal_err err;
    memset(rq, 0, sizeof *rq);
    buf_reader_init(&r, in, len);
    if ((err = header(&r, &op)) != LEAL_OK || (err = buf_get_be16(&r, &n)) != LEAL_OK ||
        (err = buf_get_sub(&r, n, &body)) != LEAL_OK || (err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (op == AGENT_OP_KEYS) {
        if ((err = buf_get_be32(&body, &rq->program_id)) != LEAL_OK ||
            (err = buf_get_be16(&body, &path_len)) != LEAL_OK)
            return err;
        if (path_len == 0 || path_len > AGENT_MAX_PATH)
            return LEAL_E_FORMAT;
        if ((err = buf_get_bytes(&body, (uint8_t *)rq->path, path_len)) != LEAL_OK)
            return err;
        if (memchr(rq->path, 0, path_len) != NULL)
            return LEAL_E_FORMAT;
    } else if (op != AGENT_OP_STATUS && op != AGENT_OP_STOP) {
        return LEAL_E_PROTOCOL;
    }
    if ((err = buf_expect_end(&body)) != LEAL_OK)
        return err;
    rq->op = (enum agent_op)op;
    return LEAL_OK;
}

leal_err agent_proto_response_header_encode(leal_err status, size_t body_len,
                                            uint8_t out[AGENT_RESPONSE_HEADER_LEN])
{
    struct buf_writer w;
    leal_err err;
    if (body_len > AGENT_MAX_BODY || (unsigned)status > 0xFFFFu)
        return LEAL_E_ARG;
    buf_writer_init(&w, out, AGENT_RESPONSE_HEADER_LEN);
    if ((err = buf_put_bytes(&w, magic, sizeof magic)) != LEAL_OK ||
        (err = buf_put_u8(&w, AGENT_PROTO_VERSION)) != LEAL_OK ||
        (err = buf_put_be16(&w, (uint16_t)status)) != LEAL_OK ||
        (err = buf_put_be32(&w, (uint32_t)body_len)) != LEAL_OK)
        return err;
    return LEAL_OK;
}

leal_err agent_proto_response_header(const uint8_t *in, size_t len, leal_err *status,
                                     size_t *body_len)
{
    struct buf_reader r;
    uint8_t m[2], version;
    uint16_t st;
    uint32_t n;
    leal_err err;
    buf_reader_init(&r, in, len);
    if ((err = buf_get_bytes(&r, m, sizeof m)) != LEAL_OK ||
        (err = buf_get_u8(&r, &version)) != LEAL_OK || (err = buf_get_be16(&r, &st)) != LEAL_OK ||
        (err = buf_get_be32(&r, &n)) != LEAL_OK || (err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (memcmp(m, magic, sizeof m) != 0 || version != AGENT_PROTO_VERSION)
        return LEAL_E_PROTOCOL;
    if (n > AGENT_MAX_BODY || (st != LEAL_OK && n != 0))
        return LEAL_E_FORMAT;
    *status = (leal_err)st;
    *body_len = n;
    return LEAL_OK;
}

leal_err agent_proto_status_encode(const struct agent_status *st, uint8_t *out, size_t cap,
                                   size_t *len)
{
    struct buf_writer w;
    size_t path_len = strnlen(st->path, sizeof st->path);
    leal_err err;
    *len = 0;
    if (path_len > AGENT_MAX_PATH)
        return LEAL_E_ARG;
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_be32(&w, st->pid)) != LEAL_OK ||
        (err = buf_put_be32(&w, st->program_id)) != LEAL_OK ||
        (err = buf_put_be32(&w, st->idle_limit)) != LEAL_OK ||
        (err = buf_put_be32(&w, st->idle_left)) != LEAL_OK ||
        (err = buf_put_u8(&w, st->roles)) != LEAL_OK ||
        (err = buf_put_be16(&w, (uint16_t)path_len)) != LEAL_OK ||
        (err = buf_put_bytes(&w, (const uint8_t *)st->path, path_len)) != LEAL_OK)
        return err;
    *len = w.len;
    return LEAL_OK;
}

leal_err agent_proto_status_decode(const uint8_t *in, size_t len, struct agent_status *st)
{
    struct buf_reader r;
    uint16_t path_len;
    leal_err err;
    memset(st, 0, sizeof *st);
    buf_reader_init(&r, in, len);
    if ((err = buf_get_be32(&r, &st->pid)) != LEAL_OK ||
        (err = buf_get_be32(&r, &st->program_id)) != LEAL_OK ||
        (err = buf_get_be32(&r, &st->idle_limit)) != LEAL_OK ||
        (err = buf_get_be32(&r, &st->idle_left)) != LEAL_OK ||
        (err = buf_get_u8(&r, &st->roles)) != LEAL_OK ||
        (err = buf_get_be16(&r, &path_len)) != LEAL_OK)
        return err;
    if (path_len > AGENT_MAX_PATH || st->roles > KEY_ROLE_COUNT)
        return LEAL_E_FORMAT;
    if ((err = buf_get_bytes(&r, (uint8_t *)st->path, path_len)) != LEAL_OK ||
        (err = buf_expect_end(&r)) != LEAL_OK)
        return err;
    if (memchr(st->path, 0, path_len) != NULL)
        return LEAL_E_FORMAT;
    return LEAL_OK;
}

leal_err agent_proto_keys_encode(const struct keyset *ks, uint32_t program_id, uint8_t *out,
                                 size_t cap, size_t *len)
{
    const struct key_program *p;
    struct buf_writer w;
    size_t name_len = strnlen(ks->issuer_name, sizeof ks->issuer_name);
    uint8_t count = 0;
    leal_err err;
    *len = 0;
    if ((err = keyset_program(ks, program_id, &p)) != LEAL_OK)
        return err;
    if (name_len == 0 || name_len > LEAL_MAX_ISSUER_NAME)
        return LEAL_E_ARG;
    for (int i = 0; i < KEY_ROLE_COUNT; i++)
        count = (uint8_t)(count + (p->roles[i].nversions > 0));
    buf_writer_init(&w, out, cap);
    if ((err = buf_put_be32(&w, ks->issuer_id)) != LEAL_OK ||
        (err = buf_put_be64(&w, ks->created)) != LEAL_OK ||
        (err = buf_put_u8(&w, (uint8_t)name_len)) != LEAL_OK ||
        (err = buf_put_bytes(&w, (const uint8_t *)ks->issuer_name, name_len)) != LEAL_OK ||
        (err = buf_put_be32(&w, p->id)) != LEAL_OK ||
        (err = buf_put_be64(&w, p->created)) != LEAL_OK || (err = buf_put_u8(&w, count)) != LEAL_OK)
        goto fail;
    for (int i = 0; i < KEY_ROLE_COUNT; i++) {
        enum key_role role = (enum key_role)(i + KEY_ROLE_FIRST);
        if (p->roles[i].nversions == 0)
            continue;
        if ((err = buf_put_u8(&w, (uint8_t)role)) != LEAL_OK ||
            (err = keyset_put_slot(&w, keyset_role_info(role)->kind, &p->roles[i])) != LEAL_OK)
            goto fail;
    }
    *len = w.len;
    return LEAL_OK;
fail:
    leal_wipe(out, cap);
    return err;
}

static leal_err keys_body(struct buf_reader *r, struct keyset *ks)
{
    struct key_program *p = &ks->programs[0];
    uint8_t name_len, count, role, last = 0;
    leal_err err;
    if ((err = buf_get_be32(r, &ks->issuer_id)) != LEAL_OK ||
        (err = buf_get_be64(r, &ks->created)) != LEAL_OK ||
        (err = buf_get_u8(r, &name_len)) != LEAL_OK)
        return err;
    if (name_len == 0 || name_len > LEAL_MAX_ISSUER_NAME)
        return LEAL_E_FORMAT;
    if ((err = buf_get_bytes(r, (uint8_t *)ks->issuer_name, name_len)) != LEAL_OK)
        return err;
    if (!keyset_name_valid((const uint8_t *)ks->issuer_name, name_len))
        return LEAL_E_FORMAT;
    if ((err = buf_get_be32(r, &p->id)) != LEAL_OK ||
        (err = buf_get_be64(r, &p->created)) != LEAL_OK || (err = buf_get_u8(r, &count)) != LEAL_OK)
        return err;
    if (p->id == 0 || count > KEY_ROLE_COUNT)
        return LEAL_E_FORMAT;
    for (unsigned i = 0; i < count; i++) {
        const struct key_role_info *info;
        if ((err = buf_get_u8(r, &role)) != LEAL_OK)
            return err;
        /* Ascending, each once: one encoding per key set. */
        if ((info = keyset_role_info((enum key_role)role)) == NULL || role <= last)
            return LEAL_E_FORMAT;
        last = role;
        if ((err = keyset_get_slot(r, info->kind, &p->roles[role - KEY_ROLE_FIRST])) != LEAL_OK)
            return err;
    }
    ks->nprograms = 1;
    return buf_expect_end(r);
}

leal_err agent_proto_keys_decode(const uint8_t *in, size_t len, struct keyset *ks)
{
    struct buf_reader r;
    leal_err err;
    leal_wipe(ks, sizeof *ks);
    buf_reader_init(&r, in, len);
    if ((err = keys_body(&r, ks)) != LEAL_OK)
        keyset_clear(ks);
    return err;
}
