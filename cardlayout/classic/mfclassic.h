/*
 * mfclassic.h - MIFARE Classic 1K/4K arithmetic for drivers and the desk:
 * sector/block numbering, access conditions (C1C2C3 per block, NXP MF1S50
 * §8.7) to and from trailer bytes 6-8, sector trailers, and the MAD v1
 * (NXP AN10787: CRC-8 poly 0x1D preset 0xC7). Freestanding, no I/O.
 * Errors: LEAL_E_ARG (out of range), LEAL_E_FORMAT (inconsistent access
 * bytes), LEAL_E_CARD_TAMPERED (MAD CRC wrong).
 */
#ifndef LEAL_MFCLASSIC_H
#define LEAL_MFCLASSIC_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

#define MFCLASSIC_BLOCK 16
#define MFCLASSIC_KEY_LEN 6
#define MFCLASSIC_MAD1_SECTORS 15 /* sectors 1..15 */

enum mfclassic_size {
    MFCLASSIC_1K = 1,
    MFCLASSIC_4K = 4,
};

/* Access condition of one block as the 3-bit value C1<<2 | C2<<1 | C3. */
#define MFCLASSIC_AC(c1, c2, c3) ((uint8_t)((c1) << 2 | (c2) << 1 | (c3)))
#define MFCLASSIC_AC_DATA_TRANSPORT MFCLASSIC_AC(0, 0, 0) /* rwid A|B */
#define MFCLASSIC_AC_DATA_READ_AB_WRITE_B MFCLASSIC_AC(1, 0, 0)
#define MFCLASSIC_AC_TRAILER_TRANSPORT MFCLASSIC_AC(0, 0, 1)
#define MFCLASSIC_AC_TRAILER_B MFCLASSIC_AC(0, 1, 1) /* keys and bits written with B only */

/* Number of sectors (16 or 40), 0 for an unknown size. */
unsigned mfclassic_sectors(enum mfclassic_size size);
/* Blocks in a sector: 4 below sector 32, 16 from 32 on (4K). */
unsigned mfclassic_sector_blocks(unsigned sector);
/* Absolute number of the first block and of the trailer of a sector. */
unsigned mfclassic_sector_first_block(unsigned sector);
unsigned mfclassic_trailer_block(unsigned sector);
/* Sector of an absolute block number. */
unsigned mfclassic_block_sector(unsigned block);
/* LEAL_OK if block exists on size; LEAL_E_ARG if not. */
LEAL_MUST_CHECK leal_err mfclassic_block_check(enum mfclassic_size size, unsigned block);

/* Trailer bytes 6..8 from access conditions of blocks 0, 1, 2 and the trailer
 * (in 4K sectors 32..39, "block" i is the group of five blocks). */
LEAL_MUST_CHECK leal_err mfclassic_access_encode(const uint8_t cond[4], uint8_t out[3]);
/* The reverse; LEAL_E_FORMAT if the inverted copies disagree. */
LEAL_MUST_CHECK leal_err mfclassic_access_decode(const uint8_t in[3], uint8_t cond[4]);

/* A sector trailer: key A || access bytes || general purpose byte || key B. */
LEAL_MUST_CHECK leal_err mfclassic_trailer_build(const uint8_t key_a[6], const uint8_t cond[4],
                                                 uint8_t gpb, const uint8_t key_b[6],
                                                 uint8_t out[MFCLASSIC_BLOCK]);

/* MAD CRC-8 over len bytes. */
uint8_t mfclassic_mad_crc(const uint8_t *p, size_t len);
/* Blocks 1 and 2 of sector 0: CRC || info || AIDs of sectors 1..15 (low byte first). */
LEAL_MUST_CHECK leal_err mfclassic_mad1_encode(uint8_t info,
                                               const uint16_t aids[MFCLASSIC_MAD1_SECTORS],
                                               uint8_t out[2 * MFCLASSIC_BLOCK]);
LEAL_MUST_CHECK leal_err mfclassic_mad1_decode(const uint8_t in[2 * MFCLASSIC_BLOCK], uint8_t *info,
                                               uint16_t aids[MFCLASSIC_MAD1_SECTORS]);

#endif
