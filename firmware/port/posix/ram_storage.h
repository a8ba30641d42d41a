/*
 * ram_storage.h - a port_storage (firmware/core/port.h) in caller memory,
 * with power cuts on demand: the tests' storage, and the fuzz port's. It
 * keeps port.h's rules strictly (a program over a byte that does not read
 * 0xFF is refused with LEAL_E_ARG, no call crosses a unit) and counts the
 * bytes it programs and erases, so that a test can cut the power at any one
 * of them: the call that reaches the cut leaves the bytes before it done,
 * the byte at the cut torn (ram_storage_cut's fill), the rest untouched, and
 * returns LEAL_E_IO, as does every call after until ram_storage_power_on.
 */
#ifndef LEAL_RAM_STORAGE_H
#define LEAL_RAM_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/core/port.h"

/* What a torn byte reads after the cut. */
enum ram_tear {
    RAM_TEAR_UNTOUCHED = 0, /* the byte at the cut kept its old value */
    RAM_TEAR_FLIPPED = 1,   /* the byte at the cut reads its new value with bit 0 inverted */
};

struct ram_storage {
    struct port_storage port; /* give &port to the core */
    uint8_t *mem;
    bool armed, dead;
    uint64_t cut_at; /* bytes of work (programmed or erased) before the cut */
    uint8_t tear;    /* enum ram_tear */
    uint64_t work;   /* bytes programmed or erased so far */
    uint32_t programs, erases;
};

/* Storage over mem (unit_size * unit_count bytes), every byte erased. */
LEAL_MUST_CHECK leal_err ram_storage_init(struct ram_storage *rs, uint8_t *mem, uint32_t unit_size,
                                          uint32_t unit_count);

/* Cuts the power when bytes more bytes of work have been done. */
void ram_storage_cut(struct ram_storage *rs, uint64_t bytes, uint8_t tear);

/* Power back: calls work again (the torn bytes stay as they are). */
void ram_storage_power_on(struct ram_storage *rs);

#endif
