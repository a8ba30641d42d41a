/*
 * classic_sim.h - a MIFARE Classic 1K/4K card as NXP's MF1S50yyX / MF1S70yyX
 * datasheets describe it, seen from a reader that does Crypto1 itself (a PN53x
 * or a PC/SC reader): authentication is `60|61 blk key6 uid4`, the card checks
 * the key. The whole EEPROM is in the struct (caller memory; no allocation).
 *
 * Answers to classic_sim_exchange (always LEAL_OK when the card answered or
 * stayed silent):
 *   16 bytes        READ data
 *   1 byte 0A       ACK (auth accepted, write/value/transfer done)
 *   1 byte 00|04    NAK "invalid operation" (00: value buffer valid, 04: not);
 *                   the card then goes idle (silent until re-activated)
 *   0 bytes         silence: failed authentication (the reader's Crypto1
 *                   fails), a halted or idle card, HALT itself
 * Errors: LEAL_E_ARG; LEAL_E_CARD_REMOVED when a write is torn (see tear).
 */
#ifndef LEAL_CLASSIC_SIM_H
#define LEAL_CLASSIC_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/cardsim/cardsim.h"
#include "keys/base/err.h"

#define CLASSIC_BLOCK_SIZE 16
#define CLASSIC_1K_BLOCKS 64
#define CLASSIC_4K_BLOCKS 256

#define CLASSIC_ACK 0x0A
#define CLASSIC_NAK_BUFFER_VALID 0x00
#define CLASSIC_NAK 0x04

/* Native commands (MF1S50yyX §9, libfreefare mifare_classic.c). */
#define CLASSIC_CMD_AUTH_A 0x60
#define CLASSIC_CMD_AUTH_B 0x61
#define CLASSIC_CMD_READ 0x30
#define CLASSIC_CMD_WRITE 0xA0
#define CLASSIC_CMD_DECREMENT 0xC0
#define CLASSIC_CMD_INCREMENT 0xC1
#define CLASSIC_CMD_RESTORE 0xC2
#define CLASSIC_CMD_TRANSFER 0xB0
#define CLASSIC_CMD_HALT 0x50

/* The operations the access conditions govern on a data block. */
enum classic_op {
    CLASSIC_OP_READ = 0,
    CLASSIC_OP_WRITE,
    CLASSIC_OP_INCREMENT,
    CLASSIC_OP_DECREMENT, /* also transfer and restore (the datasheet's one column) */
};

/* What a key may do to a sector trailer (datasheet table "access conditions
 * for the sector trailer"). Key A is never readable. */
struct classic_trailer_rights {
    bool keya_write;
    bool access_read; /* access bits and byte 9 */
    bool access_write;
    bool keyb_read;
    bool keyb_write;
};

enum classic_state {
    CLASSIC_IDLE = 0, /* not selected, halted, or dropped after an error */
    CLASSIC_ACTIVE,   /* selected, not authenticated */
    CLASSIC_AUTH,     /* authenticated to auth_sector with auth_key */
};

/* What a torn EEPROM write leaves; garbage holds the bytes for CARDSIM_TORN_GARBAGE. */
struct classic_sim_tear {
    enum cardsim_torn_block leaves;
    uint8_t garbage[CLASSIC_BLOCK_SIZE];
};

struct classic_sim {
    unsigned nblocks; /* 64 (1K) or 256 (4K) */
    uint8_t uid[7];
    size_t uid_len; /* 4 or 7 */
    uint8_t mem[CLASSIC_4K_BLOCKS][CLASSIC_BLOCK_SIZE];
    /* Volatile (lost when the card leaves the field). */
    enum classic_state state;
    unsigned auth_sector;
    uint8_t auth_key; /* CLASSIC_CMD_AUTH_A or _B */
    bool reg_valid;   /* the value buffer holds a result of inc/dec/restore */
    uint32_t reg;
    uint8_t reg_addr; /* the address byte of the value block it came from */
    /* The next exchange's tear (classic_sim_tear_next). */
    bool tear_next;
    struct classic_sim_tear tear;
};

/* Access bytes 6..8 of a trailer -> C1C2C3 of each of the 4 block groups
 * (cond[i] = C1<<2 | C2<<1 | C3; i = 3 is the trailer). LEAL_E_FORMAT if the
 * inverted copies disagree (the sector is then blocked on a real card). */
LEAL_MUST_CHECK leal_err classic_access_decode(const uint8_t ab[3], uint8_t cond[4]);
/* The inverse: bytes 6..8 for cond[4] (each 0..7). */
void classic_access_encode(const uint8_t cond[4], uint8_t ab[3]);
/* Whether key (0x60/0x61) may do op on a data block with condition cond;
 * keyb_readable: the sector trailer lets key B be read, so key B serves for nothing. */
bool classic_data_allowed(uint8_t cond, enum classic_op op, uint8_t key, bool keyb_readable);
/* What key may do to a trailer with condition cond. */
void classic_trailer_rights(uint8_t cond, uint8_t key, struct classic_trailer_rights *out);
/* Whether the trailer condition lets key B be read (C1C2C3 = 000, 010, 001). */
bool classic_keyb_readable(uint8_t cond);

/* Sector of a block, its first block, its block count, and its trailer. */
unsigned classic_sector_of(unsigned block);
unsigned classic_sector_first(unsigned sector);
unsigned classic_sector_blocks(unsigned sector);
/* Index 0..3 into the access conditions for a block (16-block sectors of the
 * 4K group five blocks per condition). */
unsigned classic_access_group(unsigned block);

/* Value block codec (V ~V V addr ~addr addr ~addr, value little-endian). */
void classic_value_encode(int32_t value, uint8_t addr, uint8_t out[16]);
/* LEAL_E_FORMAT if the block is not a valid value block. */
LEAL_MUST_CHECK leal_err classic_value_decode(const uint8_t blk[16], int32_t *value, uint8_t *addr);

/* A blank card as NXP ships it: block 0 from the UID (BCC, SAK, ATQA and
 * manufacturer bytes), data blocks zero, every trailer FFFFFFFFFFFF FF0780 69
 * FFFFFFFFFFFF. uid_len 4 or 7. */
LEAL_MUST_CHECK leal_err classic_sim_init(struct classic_sim *c, bool is_4k, const uint8_t *uid,
                                          size_t uid_len);
/* ATQA (as transmitted), SAK and UID: 1K 0004/08, 1K 7-byte 0044/08,
 * 4K 0002/18, 4K 7-byte 0042/18. */
void classic_sim_ident(const struct classic_sim *c, struct cardsim_ident *id);
void classic_sim_activate(struct classic_sim *c);
void classic_sim_deactivate(struct classic_sim *c);

/* Tears the next exchange (tear NULL: it is not torn): an EEPROM write in it
 * (write or transfer) is cut, the block keeps what tear->leaves says and the
 * exchange returns LEAL_E_CARD_REMOVED. Only the next exchange: it forgets. */
void classic_sim_tear_next(struct classic_sim *c, const struct classic_sim_tear *tear);
/* One exchange (see the answers above). */
LEAL_MUST_CHECK leal_err classic_sim_exchange(struct classic_sim *c, const uint8_t *cmd,
                                              size_t cmd_len, uint8_t *resp, size_t resp_cap,
                                              size_t *resp_len);

#endif
