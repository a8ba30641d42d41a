/*
 * pn532_frame.h - the PN532 host-link frame format (NXP PN532 User Manual
 * §6.2.1; libnfc's chips/pn53x.c), as a pure codec over caller memory:
 *   normal    00 00 FF LEN LCS TFI PD0..PDn DCS 00   (LEN = bytes TFI..PDn)
 *   extended  00 00 FF FF FF LENm LENl LCS TFI ... DCS 00
 *   ACK       00 00 FF 00 FF 00        NACK  00 00 FF FF 00 00
 *   error     00 00 FF 01 FF 7F 81 00 (application-level syntax error)
 * The parser scans a byte stream (so it skips the HSU wake-up 55 55 00...,
 * preambles and postambles) and says how many bytes it consumed.
 * Errors: LEAL_E_TRUNCATED (need more bytes), LEAL_E_FORMAT (a bad
 * checksum or length: drop *consumed bytes and scan on), LEAL_E_NO_SPACE.
 * Freestanding: shared by the emulated PN532 (host/cardsim/pn532_emu.c) and
 * the PN532 driver (pn532.h) a terminal port uses.
 */
#ifndef LEAL_PN532_FRAME_H
#define LEAL_PN532_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"
#include "keys/base/limits.h"

#define PN532_TFI_HOST 0xD4
#define PN532_TFI_PN532 0xD5
/* TFI + data bytes: a normal frame carries up to 255, an extended one 265
 * (libnfc: 264 data bytes after the TFI). A board may build the driver for
 * less RAM with -DPN532_MAX_BODY=N (N <= 255: normal frames only), enough
 * for its cards' frames (a DESFire or ISO 14443-4 frame is at most 64 bytes
 * on the wire, a Classic block 16): a longer frame is then refused as
 * malformed, never cut. PN532_MAX_FRAME: the bytes of the longest frame. */
#define PN532_MAX_NORMAL 255
#ifndef PN532_MAX_BODY
#define PN532_MAX_BODY 265
#define PN532_MAX_FRAME LEAL_MAX_PN532_FRAME
#else
#define PN532_MAX_FRAME (PN532_MAX_BODY + 7) /* 00 00 FF LEN LCS body DCS 00 */
#endif

enum pn532_frame_kind {
    PN532_FRAME_ACK = 1,
    PN532_FRAME_NACK,
    PN532_FRAME_INFO, /* a normal or extended information frame */
};

struct pn532_frame {
    enum pn532_frame_kind kind;
    uint8_t body[PN532_MAX_BODY]; /* TFI PD0..PDn */
    size_t len;
};

/* Looks for one frame at the start of buf (after any junk). LEAL_OK: *f is
 * filled and *consumed bytes (junk, frame and its postamble) are used up.
 * LEAL_E_TRUNCATED: no whole frame yet; *consumed bytes of junk may be dropped.
 * LEAL_E_FORMAT: a frame with a bad LCS/DCS or length; drop *consumed bytes. */
LEAL_MUST_CHECK leal_err pn532_frame_parse(const uint8_t *buf, size_t len, struct pn532_frame *f,
                                           size_t *consumed);

/* Builds an information frame around body (TFI PD0..PDn, 1..PN532_MAX_BODY
 * bytes): normal when it fits, extended otherwise. */
LEAL_MUST_CHECK leal_err pn532_frame_build(const uint8_t *body, size_t len, uint8_t *out,
                                           size_t cap, size_t *out_len);

/* The fixed frames. */
extern const uint8_t pn532_frame_ack[6];
extern const uint8_t pn532_frame_nack[6];
extern const uint8_t pn532_frame_error[8];

#endif
