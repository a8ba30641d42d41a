/*
 * cut_storage.h - a power cut in a terminal's storage, for tests only: a
 * struct port_storage that passes every call to inner and cuts the power
 * after cut_at bytes of work (each programmed byte; an erase counts one).
 * The call that reaches the cut programs the bytes before it, then calls
 * power_off, which must not return (tests/tools/terminal_cut.c ends the
 * process there, exit CUT_STORAGE_EXIT, as a pulled plug would end it).
 * Never linked into leal-terminal.
 */
#ifndef LEAL_TEST_CUT_STORAGE_H
#define LEAL_TEST_CUT_STORAGE_H

#include <stdint.h>

#include "firmware/core/port.h"

#define CUT_STORAGE_EXIT 75

struct cut_storage {
    struct port_storage port;
    const struct port_storage *inner;
    uint64_t cut_at, work;
    void (*power_off)(void);
};

void cut_storage_init(struct cut_storage *cs, const struct port_storage *inner, uint64_t cut_at,
                      void (*power_off)(void));

#endif
