/* desfire_tmac.c - the DESFire Transaction MAC, host side (desfire_tmac.h). */
#include "desfire_tmac.h"

#include "keys/base/bytes.h"
#include "keys/base/ct.h"

void desfire_tmi_init(struct desfire_tmi *t)
{
    t->len = 0;
}

static size_t pad16(size_t n)
{
    return (n + 15) / 16 * 16;
}

leal_err desfire_tmi_add(struct desfire_tmi *t, const struct desfire_tmi_cmd *c)
{
    uint8_t *p;
    size_t need;
    if (c->plen > 14 || (c->plen > 0 && c->params == NULL) || (c->dlen > 0 && c->data == NULL) ||
        c->dlen > DESFIRE_TMI_MAX)
        return LEAL_E_ARG;
    need = 16 + pad16(c->dlen);
    if (need > DESFIRE_TMI_MAX - t->len)
        return LEAL_E_TOO_LARGE;
    p = t->buf + t->len;
    leal_memset(p, 0, need);
    p[0] = c->ins;
    p[1] = c->file_no;
    if (c->plen > 0)
        leal_memcpy(p + 2, c->params, c->plen);
    if (c->dlen > 0)
        leal_memcpy(p + 16, c->data, c->dlen);
    t->len += need;
    return LEAL_OK;
}

leal_err desfire_tmi_value(struct desfire_tmi *t, uint8_t ins, uint8_t file_no, int32_t value)
{
    uint8_t v[4];
    store_le32(v, (uint32_t)value);
    return desfire_tmi_add(t, &(struct desfire_tmi_cmd){ins, file_no, v, 4, NULL, 0});
}

leal_err desfire_tmi_data(struct desfire_tmi *t, uint8_t ins, uint8_t file_no, uint32_t offset,
                          const uint8_t *data, size_t len)
{
    uint8_t h[6];
    if (offset > 0xFFFFFF || len == 0 || len > 0xFFFFFF)
        return LEAL_E_ARG;
    store_le24(h, offset);
    store_le24(h + 3, (uint32_t)len);
    return desfire_tmi_add(t, &(struct desfire_tmi_cmd){ins, file_no, h, 6, data, len});
}

leal_err desfire_tmi_records(struct desfire_tmi *t, uint8_t file_no, uint32_t first, uint32_t count,
                             const uint8_t *data, size_t len)
{
    uint8_t h[6];
    if (first > 0xFFFFFF || count == 0 || count > 0xFFFFFF || len == 0)
        return LEAL_E_ARG;
    store_le24(h, first);
    store_le24(h + 3, count);
    return desfire_tmi_add(
        t, &(struct desfire_tmi_cmd){DESFIRE_TMI_READ_RECORDS, file_no, h, 6, data, len});
}

void desfire_tmac_sv(uint32_t tmc, const uint8_t uid[7], uint8_t sv[16])
{
    sv[0] = 0x5A; /* label: MAC key (A5 would be SesTMENCKey) */
    sv[1] = 0x00;
    sv[2] = 0x01; /* counter 0001 */
    sv[3] = 0x00;
    sv[4] = 0x80; /* length 0080: 128 bits */
    store_le32(sv + 5, tmc);
    leal_memcpy(sv + 9, uid, 7);
}

leal_err desfire_tmac_session_key(const struct crypto_provider *cp, const uint8_t key[16],
                                  uint32_t tmc, const uint8_t uid[7], uint8_t ses[16])
{
    uint8_t sv[16];
    leal_err err;
    desfire_tmac_sv(tmc, uid, sv);
    err = cp->aes128_cmac(key, sv, sizeof sv, ses);
    if (err != LEAL_OK)
        leal_wipe(ses, 16);
    return err;
}

leal_err desfire_tmv(const struct crypto_provider *cp, const uint8_t key[16], uint32_t tmc,
                     const uint8_t uid[7], const struct desfire_tmi *tmi,
                     uint8_t tmv[DESFIRE_TMV_LEN])
{
    uint8_t ses[16], full[16];
    leal_err err;
    if (tmi == NULL || tmi->len == 0 || tmi->len % 16 != 0 || tmi->len > DESFIRE_TMI_MAX)
        return LEAL_E_ARG;
    if ((err = desfire_tmac_session_key(cp, key, tmc, uid, ses)) == LEAL_OK &&
        (err = cp->aes128_cmac(ses, tmi->buf, tmi->len, full)) == LEAL_OK)
        for (int i = 0; i < DESFIRE_TMV_LEN; i++)
            tmv[i] = full[2 * i + 1]; /* MACt: the even-numbered bytes counting from 1 */
    leal_wipe(ses, sizeof ses);
    leal_wipe(full, sizeof full);
    return err;
}
