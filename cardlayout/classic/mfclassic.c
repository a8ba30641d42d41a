/* mfclassic.c - MIFARE Classic sector arithmetic, access bits, trailers, MAD v1. */
#include "mfclassic.h"

#include "keys/base/bytes.h"

unsigned mfclassic_sectors(enum mfclassic_size size)
{
    return size == MFCLASSIC_1K ? 16 : size == MFCLASSIC_4K ? 40 : 0;
}

unsigned mfclassic_sector_blocks(unsigned sector)
{
    return sector < 32 ? 4 : 16;
}

unsigned mfclassic_sector_first_block(unsigned sector)
{
    /* 4K: 32 sectors of 4 blocks (128 blocks), then 8 sectors of 16. */
    return sector < 32 ? sector * 4 : 128 + (sector - 32) * 16;
}

unsigned mfclassic_trailer_block(unsigned sector)
{
    return mfclassic_sector_first_block(sector) + mfclassic_sector_blocks(sector) - 1;
}

unsigned mfclassic_block_sector(unsigned block)
{
    return block < 128 ? block / 4 : 32 + (block - 128) / 16;
}

leal_err mfclassic_block_check(enum mfclassic_size size, unsigned block)
{
    unsigned n = mfclassic_sectors(size);
    if (n == 0 || block > mfclassic_trailer_block(n - 1))
        return LEAL_E_ARG;
    return LEAL_OK;
}

leal_err mfclassic_access_encode(const uint8_t cond[4], uint8_t out[3])
{
    unsigned c1 = 0, c2 = 0, c3 = 0;

    if (cond == NULL || out == NULL)
        return LEAL_E_ARG;
    for (unsigned i = 0; i < 4; i++) {
        if (cond[i] > 7)
            return LEAL_E_ARG;
        c1 |= (unsigned)(cond[i] >> 2 & 1) << i;
        c2 |= (unsigned)(cond[i] >> 1 & 1) << i;
        c3 |= (unsigned)(cond[i] & 1) << i;
    }
    /* MF1S50 §8.7.1: byte 6 = ~C2 | ~C1, byte 7 = C1 | ~C3, byte 8 = C3 | C2 (high | low nibble).
     */
    out[0] = (uint8_t)((~c2 & 0xF) << 4 | (~c1 & 0xF));
    out[1] = (uint8_t)(c1 << 4 | (~c3 & 0xF));
    out[2] = (uint8_t)(c3 << 4 | c2);
    return LEAL_OK;
}

leal_err mfclassic_access_decode(const uint8_t in[3], uint8_t cond[4])
{
    unsigned c1, c2, c3;

    if (in == NULL || cond == NULL)
        return LEAL_E_ARG;
    c1 = in[1] >> 4;
    c2 = in[2] & 0xF;
    c3 = in[2] >> 4;
    /* A card treats inconsistent copies as a blocked sector; so do we. */
    if ((~in[0] & 0xF) != c1 || (~in[0] >> 4 & 0xF) != c2 || (~in[1] & 0xF) != c3)
        return LEAL_E_FORMAT;
    for (unsigned i = 0; i < 4; i++)
        cond[i] = (uint8_t)((c1 >> i & 1) << 2 | (c2 >> i & 1) << 1 | (c3 >> i & 1));
    return LEAL_OK;
}

leal_err mfclassic_trailer_build(const uint8_t key_a[6], const uint8_t cond[4], uint8_t gpb,
                                 const uint8_t key_b[6], uint8_t out[MFCLASSIC_BLOCK])
{
    uint8_t ac[3];
    leal_err err;

    if (key_a == NULL || key_b == NULL || out == NULL)
        return LEAL_E_ARG;
    if ((err = mfclassic_access_encode(cond, ac)) != LEAL_OK)
        return err;
    leal_memcpy(out, key_a, 6);
    leal_memcpy(out + 6, ac, 3);
    out[9] = gpb;
    leal_memcpy(out + 10, key_b, 6);
    return LEAL_OK;
}

uint8_t mfclassic_mad_crc(const uint8_t *p, size_t len)
{
    uint8_t crc = 0xC7; /* AN10787 §3.7: preset 0xC7, polynomial x^8+x^4+x^3+x^2+1 */
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x1D : crc << 1);
    }
    return crc;
}

leal_err mfclassic_mad1_encode(uint8_t info, const uint16_t aids[MFCLASSIC_MAD1_SECTORS],
                               uint8_t out[2 * MFCLASSIC_BLOCK])
{
    if (aids == NULL || out == NULL || info > 0x3F)
        return LEAL_E_ARG;
    out[1] = info;
    for (unsigned i = 0; i < MFCLASSIC_MAD1_SECTORS; i++)
        store_le16(out + 2 + 2 * i, aids[i]);
    out[0] = mfclassic_mad_crc(out + 1, 2 * MFCLASSIC_BLOCK - 1);
    return LEAL_OK;
}

leal_err mfclassic_mad1_decode(const uint8_t in[2 * MFCLASSIC_BLOCK], uint8_t *info,
                               uint16_t aids[MFCLASSIC_MAD1_SECTORS])
{
    if (in == NULL || info == NULL || aids == NULL)
        return LEAL_E_ARG;
    if (mfclassic_mad_crc(in + 1, 2 * MFCLASSIC_BLOCK - 1) != in[0])
        return LEAL_E_CARD_TAMPERED;
    *info = in[1];
    for (unsigned i = 0; i < MFCLASSIC_MAD1_SECTORS; i++)
        aids[i] = load_le16(in + 2 + 2 * i);
    return LEAL_OK;
}
