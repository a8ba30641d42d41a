/*
 * pn532_emu.h - an NXP PN532 in HSU (UART) mode with one virtual card in its
 * field, answering what libnfc 1.8's pn532_uart driver sends (its
 * chips/pn53x.c): frames, wake-up, Diagnose, GetFirmwareVersion, GetGeneralStatus,
 * SAMConfiguration, Read/WriteRegister (a register map that keeps what is
 * written), RFConfiguration, SetParameters, PowerDown, InListPassiveTarget
 * (106 kbps type A; no target for the other baud rates/types), InPSL,
 * InDataExchange (status byte, MI chaining both ways), InCommunicateThru,
 * InDeselect, InRelease, InSelect. Unknown commands get the syntax-error frame.
 *
 * The PN532 does Crypto1 and ISO-DEP itself, so a Classic card sees the
 * native commands of cardsim.h and a DESFire card its native or wrapped
 * frames. Status bytes for Classic answers (what a real PN532 reports, seen
 * by libnfc): failed authentication 0x14, NAK 0x13, no answer 0x01.
 * Hosted; heap object. The card is the caller's (not owned, may be NULL).
 * pn532_pty_*: the device on a pseudo-terminal, for `leal-cardsim serve --pn532`.
 */
#ifndef LEAL_PN532_EMU_H
#define LEAL_PN532_EMU_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/cardsim/cardsim.h"
#include "keys/base/err.h"

/* PN532 status codes (PN532 User Manual §7.1, libnfc pn53x-internal.h). */
#define PN532_ST_TIMEOUT 0x01
#define PN532_ST_INVALID_FRAME 0x13
#define PN532_ST_MIFARE_AUTH 0x14
#define PN532_ST_NOT_ACCEPTABLE 0x27

/* Data bytes per InDataExchange answer before the PN532 chains with MI. */
#define PN532_MAX_EXCHANGE 262

struct pn532_emu;

LEAL_MUST_CHECK leal_err pn532_emu_new(struct cardsim *card, struct pn532_emu **out);
void pn532_emu_free(struct pn532_emu *e);
/* Puts another card (or none) in the field; the old one leaves it. */
void pn532_emu_set_card(struct pn532_emu *e, struct cardsim *card);

/* Optional: fn sees every information frame body (TFI included) the host
 * sends (from_host) and every answer body, for traces. NULL turns it off. */
typedef void (*pn532_trace_fn)(void *ctx, bool from_host, const uint8_t *body, size_t len);
void pn532_emu_set_trace(struct pn532_emu *e, pn532_trace_fn fn, void *ctx);

/* One host command: body is TFI D4, command code, parameters. *resp_len 0
 * means the command is unknown (answer with the syntax-error frame);
 * otherwise resp is D5, code+1, results. */
LEAL_MUST_CHECK leal_err pn532_emu_command(struct pn532_emu *e, const uint8_t *body, size_t len,
                                           uint8_t *resp, size_t cap, size_t *resp_len);

/* The serial line: bytes from the host in, bytes to the host out (ACKs and
 * response frames). Needs cap >= 2 * LEAL_MAX_PN532_FRAME; keeps partial
 * frames for the next call. */
LEAL_MUST_CHECK leal_err pn532_emu_input(struct pn532_emu *e, const uint8_t *in, size_t n,
                                         uint8_t *out, size_t cap, size_t *out_len);

/* A pseudo-terminal in raw mode whose slave name is symlinked at link (an
 * existing symlink there is replaced; any other file is left alone:
 * LEAL_E_EXISTS). The slave stays open so the host may open and close it. */
struct pn532_pty;
LEAL_MUST_CHECK leal_err pn532_pty_open(const char *link, struct pn532_pty **out);
/* /dev/pts/N */
const char *pn532_pty_name(const struct pn532_pty *p);
/* Serves e on the pty until *stop is set; after each exchange that changed
 * the card, saves it to card_path (cardsim_sync) when card_path is not NULL. */
LEAL_MUST_CHECK leal_err pn532_pty_run(struct pn532_pty *p, struct pn532_emu *e,
                                       struct cardsim *card, const char *card_path,
                                       const volatile sig_atomic_t *stop);
/* Discards what is on the line either way and not yet read: bytes the host
 * wrote that the emulator has not taken, and answers the host has not read
 * (a PN532 losing its power loses both). */
LEAL_MUST_CHECK leal_err pn532_pty_flush(struct pn532_pty *p);
/* Closes the pty and removes the link. */
void pn532_pty_close(struct pn532_pty *p);

#endif
