/*
 * vpcd.h - the virtual card behind vsmartcard's vpcd driver for pcscd
 * (vsmartcard's src/vpcd/vpcd.c and ifd-vpcd.c). TCP; every message both ways is a 2-byte
 * big-endian length and a payload. One-byte payloads from vpcd are control:
 * 00 power off, 01 power on, 02 reset (no reply), 04 get ATR (reply: ATR).
 * Longer payloads are APDUs; the reply is the R-APDU. Removing the card is
 * closing the socket. The card connects to vpcd (vpcd listens on its port).
 * Hosted. Errors: LEAL_E_IO, LEAL_E_NO_READER (nobody listening),
 * LEAL_E_FORMAT (bad message), LEAL_E_CARD_REMOVED (torn: close the socket).
 */
#ifndef LEAL_VPCD_H
#define LEAL_VPCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcsc_face.h"

#define VPCD_CTRL_OFF 0x00
#define VPCD_CTRL_ON 0x01
#define VPCD_CTRL_RESET 0x02
#define VPCD_CTRL_ATR 0x04

/* The answer to one message: p[0..len) (the caller's buffer of cap bytes),
 * and whether to send it at all (power on, off and reset have no reply). */
struct vpcd_reply {
    uint8_t *p;
    size_t cap;
    size_t len;
    bool send;
};

/* Answers one message from vpcd into reply (p and cap set by the caller). */
LEAL_MUST_CHECK leal_err vpcd_handle(struct pcsc_face *f, const uint8_t *msg, size_t len,
                                     struct vpcd_reply *reply);

/* Splits the next message off a received byte stream: *payload points into
 * the stream; LEAL_E_TRUNCATED when the message is not complete yet. */
LEAL_MUST_CHECK leal_err vpcd_next_message(const uint8_t *stream, size_t len, size_t *consumed,
                                           const uint8_t **payload, size_t *payload_len);

/* Connects to vpcd at host:port (host NULL: localhost). */
LEAL_MUST_CHECK leal_err vpcd_connect(const char *host, uint16_t port, int *fd);
/* Reads one whole message (blocking). LEAL_E_CARD_REMOVED when vpcd closed. */
LEAL_MUST_CHECK leal_err vpcd_read_message(int fd, uint8_t *buf, size_t cap, size_t *len);
LEAL_MUST_CHECK leal_err vpcd_write_message(int fd, const uint8_t *buf, size_t len);

#endif
