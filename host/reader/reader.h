/*
 * reader.h - the host's one interface to card readers, real or virtual:
 * list readers, open one by spec, wait for a card, learn its UID/ATR/ATS,
 * exchange APDUs, and hand card drivers a struct card_reader
 * (cardlayout/card_reader.h). Specs name a backend and its reader:
 *   pcsc:NAME       a PC/SC reader (libpcsclite; the name as pcscd lists it)
 *   sim:CARD-FILE   the virtual card in-process, saved after each change
  *   nfc:CONNSTRING  a libnfc device (issue 4)
 *   pn532:DEVICE    a PN532 on a serial line, through leal's own driver
 *                   (firmware/core/pn532.h; issue 18)

 * vsmartcard's vpcd readers ("Virtual PCD") are test devices listening on the
 * network: opening one fails with LEAL_E_VIRTUAL_READER unless
 * allow_virtual. Hosted; objects from reader_open, freed by reader_close.
 * Errors: LEAL_E_NO_READER, LEAL_E_NO_CARD, LEAL_E_TIMEOUT,
 * LEAL_E_CARD_REMOVED, LEAL_E_READER, LEAL_E_READER_BUSY,
 * LEAL_E_VIRTUAL_READER, LEAL_E_USAGE (bad spec).
 */
#ifndef LEAL_HOST_READER_H
#define LEAL_HOST_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "keys/base/err.h"
#include "keys/base/limits.h"

#define READER_MAX_SPEC 512
#define READER_MAX_NAME 256
#define READER_MAX_LIST 32

struct reader_entry {
    char spec[READER_MAX_SPEC]; /* to pass to reader_open */
    char name[READER_MAX_NAME];
    bool is_virtual;
    bool card_present;
};

struct reader_options {
    bool allow_virtual;
};

/* What the reader learned about the card in the field. */
struct reader_card {
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len;
    uint8_t atr[LEAL_MAX_ATR]; /* as PC/SC reports it (built for sim:) */
    size_t atr_len;
    uint8_t historical[LEAL_MAX_ATS]; /* ATS historical bytes (ISO 14443-4 cards) */
    size_t historical_len;
};

struct reader;

/* Readers of every backend that can list (pcsc:, later nfc:). An absent
 * pcscd gives an empty list, not an error. */
LEAL_MUST_CHECK leal_err reader_list(struct reader_entry *out, size_t cap, size_t *n);
/* Whether a reader name is a vpcd test reader. */
bool reader_name_is_virtual(const char *name);
/* spec NULL: the first listed reader (virtual ones only when allowed). */
LEAL_MUST_CHECK leal_err reader_open(const char *spec, const struct reader_options *opt,
                                     struct reader **out);
void reader_close(struct reader *r);
const char *reader_name(const struct reader *r);
/* Waits until a card is present and connected (timeout_ms 0: check once). A
 * card still connected from before (leal desk --stdio between commands) is
 * kept unasked, with the UID and ATR it gave: if it left since, the first
 * exchange fails with LEAL_E_CARD_REMOVED and drops the connection. */
LEAL_MUST_CHECK leal_err reader_wait_card(struct reader *r, unsigned timeout_ms);
LEAL_MUST_CHECK leal_err reader_card_info(struct reader *r, struct reader_card *info);
/* One APDU (or DESFire native frame on backends that pass them). */
LEAL_MUST_CHECK leal_err reader_transceive(struct reader *r, const uint8_t *cmd, size_t cmd_len,
                                           uint8_t *resp, size_t resp_cap, size_t *resp_len);
/* Lets the card go (it stays in the field; the next wait connects again). */
void reader_release(struct reader *r);
/* Releases the card and waits until it has left the field (timeout_ms 0:
 * check once): LEAL_OK once it is gone (for sim:, once the card file is gone
 * or is another file than the one this reader last loaded or saved: the
 * next reader_wait_card loads it), LEAL_E_TIMEOUT while it is still there,
 * LEAL_E_NO_READER if the reader went away. pcsc: waits on pcscd's events
 * (SCardGetStatusChange), never asking the card. */
LEAL_MUST_CHECK leal_err reader_wait_removed(struct reader *r, unsigned timeout_ms);
/* For cardlayout drivers; valid until reader_close. */
const struct card_reader *reader_card_reader(struct reader *r);

/* The virtual card behind a sim: reader (NULL for other backends): tests use
 * it to tear the card at chosen points (cardsim_set_tear). */
struct cardsim;
struct cardsim *reader_sim_card(struct reader *r);

#endif
