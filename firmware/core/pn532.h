/*
 * pn532.h - a freestanding driver for an NXP PN532 reader chip in HSU (UART)
 * mode, giving a struct card_reader (cardlayout/card_reader.h) over any
 * byte-stream port: a board's UART, or a serial device on a PC
 * (host/reader/reader_pn532.c). No allocation, no clock: the caller's
 * struct pn532 holds every buffer, and a timeout is the longest silence the
 * port's read waits for. The protocol (PN532 User Manual §6.2, §7;
 * REFERENCE.md §4):
 *   each command is an information frame D4 CC params (pn532_frame.h); the
 *   PN532 answers with an ACK frame, then D5 CC+1 results. A reply with a bad
 *   LCS/DCS is asked again with a NACK (once); a reply that does not come in
 *   time is aborted with an ACK and gives LEAL_E_TIMEOUT.
 *   pn532_begin: HSU wake-up (55 55 00 x14), an ACK frame and the line
 *     drained (below), SAMConfiguration 01 (normal mode), GetFirmwareVersion
 *     (IC 0x32 expected), RFConfiguration MaxRetries 00 01 02
 *     (InListPassiveTarget returns at once when no card is there).
 *   Resynchronisation: a PN532 is not reset with the MCU (a watchdog, a
 *     brown-out of the MCU alone, a debugger), so after the MCU's reset it
 *     may still be running, or have answered, a command of the earlier run.
 *     pn532_begin sends an ACK frame, which aborts a command under way
 *     (User Manual §6.2.1.3; an idle PN532 ignores it), then reads and drops
 *     what comes until the line is silent for 10 ms. And every command skips
 *     up to 3 frames that cannot be its own: an information frame before its
 *     ACK (the PN532 acknowledges before it answers), and after the ACK
 *     another ACK or an answer whose code is not the command's + 1.
 *   pn532_select: InListPassiveTarget 01 00 (one 106 kbps type A target);
 *     an ISO 14443-4 card (SAK bit 0x20) whose ATS did not come with it gets
 *     RATS E0 50 through InCommunicateThru.
 *   transceive: InDataExchange 01 DATA (the PN532 does ISO-DEP), the answer's
 *     status byte checked and MI-chained answers fetched with "40 01".
 *   classic_*: InDataExchange with the MIFARE commands 60/61 (key + UID's
 *     last 4 bytes; the PN532 runs Crypto1), 30 and A0. A failed
 *     authentication (status 0x14) halts the card; the driver selects it
 *     again by UID and reports LEAL_E_CARD_AUTHENTICATION.
 * Errors: LEAL_E_TIMEOUT (the PN532 silent), LEAL_E_READER (no ACK, a
 * syntax-error frame, a damaged answer twice, a wrong chip), LEAL_E_PROTOCOL
 * (an answer that does not fit the command), LEAL_E_NO_CARD,
 * LEAL_E_CARD_REMOVED, LEAL_E_CARD_AUTHENTICATION,
 * LEAL_E_CARD_PERMISSION_DENIED, LEAL_E_NO_SPACE, and the port's own.
 */
#ifndef LEAL_PN532_H
#define LEAL_PN532_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "firmware/core/pn532_frame.h"
#include "keys/base/err.h"
#include "keys/base/limits.h"

/* The byte stream to the PN532. write sends all n bytes. read returns 1..cap
 * bytes in *n, waiting at most timeout_ms for the first (LEAL_E_TIMEOUT when
 * none came). */
struct pn532_port {
    void *ctx;
    leal_err (*write)(void *ctx, const uint8_t *p, size_t n);
    leal_err (*read)(void *ctx, uint8_t *p, size_t cap, size_t *n, unsigned timeout_ms);
};

/* PN532 commands (User Manual §7). */
#define PN532_CMD_GET_FIRMWARE_VERSION 0x02
#define PN532_CMD_SAM_CONFIGURATION 0x14
#define PN532_CMD_RF_CONFIGURATION 0x32
#define PN532_CMD_IN_DATA_EXCHANGE 0x40
#define PN532_CMD_IN_COMMUNICATE_THRU 0x42
#define PN532_CMD_IN_LIST_PASSIVE_TARGET 0x4A
#define PN532_CMD_IN_RELEASE 0x52

/* Timeouts (libnfc's pn53x defaults, REFERENCE.md §4.1, with room for a
 * loaded host): the ACK, and the answer after it. */
#define PN532_ACK_TIMEOUT_MS 500
#define PN532_ANSWER_TIMEOUT_MS 1000

/* The card found by pn532_select. */
struct pn532_target {
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len;
    uint8_t atqa[2]; /* as the PN532 sends SENS_RES: MSB first */
    uint8_t sak;
    uint8_t ats[LEAL_MAX_ATS]; /* with its TL byte; empty for a Classic card */
    size_t ats_len;
};

struct pn532 {
    const struct pn532_port *port;
    unsigned ack_timeout_ms;
    unsigned answer_timeout_ms;
    struct pn532_target target;
    bool selected;
    uint8_t rx[2 * PN532_MAX_FRAME]; /* bytes read and not yet parsed */
    size_t rx_len;
    uint8_t tx[PN532_MAX_FRAME];
    struct pn532_frame frame; /* the last frame read */
};

/* Binds d to port with the default timeouts; sends nothing. */
void pn532_init(struct pn532 *d, const struct pn532_port *port);

/* Wakes the PN532 and configures it (above). firmware: its 4 version bytes
 * (IC, Ver, Rev, Support), may be NULL. */
LEAL_MUST_CHECK leal_err pn532_begin(struct pn532 *d, uint8_t firmware[4]);

/* One command: cmd is the command code and its parameters (n >= 1 bytes,
 * sent after D4); *out_len result bytes after D5 code+1 into out. */
LEAL_MUST_CHECK leal_err pn532_command(struct pn532 *d, const uint8_t *cmd, size_t n, uint8_t *out,
                                       size_t cap, size_t *out_len);

/* Selects the one card in the field (LEAL_E_NO_CARD when there is none);
 * t may be NULL. */
LEAL_MUST_CHECK leal_err pn532_select(struct pn532 *d, struct pn532_target *t);

/* Lets the selected card go (InRelease); errors are ignored: the card may be gone. */
void pn532_release(struct pn532 *d);

/* The card_reader over d (valid while d is). */
void pn532_card_reader(struct pn532 *d, struct card_reader *out);

#endif
