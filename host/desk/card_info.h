/*
 * card_info.h - what a card in the reader is, before leal knows it (`leal
 * card info`): its UID and ATR; for a DESFire its version, free memory and
 * applications, asked through the driver (cardlayout/desfire/desfire.h); for
 * a MIFARE Classic the sectors that still open with the factory key. Asks
 * nothing secret and writes nothing. Hosted; nothing here prints.
 * Errors: reader errors, LEAL_E_PROTOCOL and card statuses from a card that
 * answers like a DESFire and then fails; a card that is no DESFire is not an
 * error (its type is named from the ATR).
 */
#ifndef LEAL_CARD_INFO_H
#define LEAL_CARD_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "cardlayout/desfire/desfire.h"
#include "host/reader/reader.h"

struct desk_card_info {
    struct reader_card card;
    const char *type; /* "MIFARE DESFire EV1", "MIFARE Classic 1K", ... */
    /* MIFARE Classic: sectors, and those whose key A / key B is FFFFFFFFFFFF. */
    unsigned classic_sectors; /* 0: not a Classic */
    uint64_t factory_key_a, factory_key_b;
    /* DESFire */
    bool desfire;
    struct desfire_version version;
    bool has_free_memory;
    uint32_t free_memory;
    bool apps_listed; /* false: the card wants its PICC master key */
    uint8_t aids[DESFIRE_MAX_APPS][3];
    size_t naids;
};

/* Waits up to timeout_ms for a card on r and describes it into out; on an
 * error *doing says what was being done ("reading the card", ...), NULL while
 * waiting for the card or asking the reader its UID and ATR. */
LEAL_MUST_CHECK leal_err desk_card_info(struct reader *r, unsigned timeout_ms,
                                        struct desk_card_info *out, const char **doing);

#endif
