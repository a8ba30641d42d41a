/*
 * port.h - the terminal port contract: everything the terminal core asks of
 * the board or the operating system under it, in one header (after TinyUSB's
 * dcd.h). A port fills a struct terminal_port; terminal_port_check() refuses
 * one with a member missing. The template port (firmware/port/template/) is
 * this contract with every function a documented stub: copy it to start a
 * board port. The POSIX port (firmware/port/posix/) runs it on a PC.
 *
 * Rules for every function below:
 * - It returns a leal_err (LEAL_OK is success) and writes its results only
 *   through its out-parameters, and only on success.
 * - Buffers belong to the caller; a port keeps no pointer past return.
 * - The first argument is the ctx of the struct that holds the function.
 * - The core calls a port from one thread, never re-entrantly.
 * Freestanding.
 */
#ifndef LEAL_PORT_H
#define LEAL_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "keys/base/err.h"

/*
 * Storage: erase units, programmed in place, read at any offset
 * ----------------------------------------------------------------
 * The model is NOR flash; a file or an EEPROM behind a port behaves as a
 * subset of it. The storage is unit_count units of unit_size bytes each, at
 * offsets 0 .. unit_count * unit_size - 1. An erased byte reads 0xFF.
 * The core programs a byte only while it reads 0xFF (erased since it was
 * last programmed) and never programs across a unit boundary in one call.
 *
 * Power loss (what the core assumes and nothing more):
 * - A program call cut by power loss may leave EVERY byte of the range it
 *   was given with any value (the new one, 0xFF, or neither), and may leave
 *   it reading differently on later reads. No byte outside that range
 *   changes.
 * - An erase call cut by power loss may leave every byte of that unit with
 *   any value, and no other unit changes.
 * - Nothing is atomic above the byte: no page or word write is assumed to
 *   land whole. (Real flash is usually better; the core does not rely on it.)
 * - When a call returns LEAL_OK, its bytes are durable: they survive a power
 *   loss from that instant on (a file port syncs before it returns).
 * So every structure the core keeps in storage carries its own integrity
 * check (the journal: a MAC per entry, JOURNAL.md).
 *
 * Errors of every storage function: LEAL_E_ARG (offset or length outside the
 * storage, program across a unit boundary, unit out of range), LEAL_E_IO (the
 * medium failed; the bytes concerned are then in an unknown state, as after a
 * power loss).
 */
struct port_storage {
    void *ctx;
    uint32_t unit_size;  /* bytes per erase unit: a power of two, 512 .. 1 MiB */
    uint32_t unit_count; /* 2 .. 65536 units */

    /* Read len bytes at offset into out. Reading changes nothing. */
    leal_err (*read)(void *ctx, uint32_t offset, uint8_t *out, size_t len);

    /* Program len bytes at offset from data, all within one unit, over bytes
     * that read 0xFF. Returns once the bytes are durable. A port may refuse
     * with LEAL_E_ARG a byte that does not read 0xFF; the core never asks. */
    leal_err (*program)(void *ctx, uint32_t offset, const uint8_t *data, size_t len);

    /* Erase unit number unit (every byte reads 0xFF after). Returns once the
     * erase is durable. */
    leal_err (*erase)(void *ctx, uint32_t unit);
};

/*
 * Clock
 * -----
 * UTC seconds since 1970-01-01 (no leap seconds) and the offset of the
 * store's civil time from UTC at that instant, as the port's configured zone
 * gives it (CET in winter: +60; CEST: +120). The rules engine (rules.h) takes
 * the civil time utc + offset; the journal records both. A port without a
 * battery-backed clock answers LEAL_E_STATE until it has been set.
 */
struct port_time {
    uint64_t utc_seconds;
    int16_t utc_offset_minutes; /* -1080 .. +1080 */
};

/*
 * The terminal port
 * -----------------
 * reader:   the card reader (cardlayout/card_reader.h; its own ctx and rules).
 * journal:  the journal's storage (firmware/core/journal.h): 2 units at
 *           least; each unit a whole number of 512-byte journal slots.
 * package:  the terminal package's storage (PACKAGE.md), read through a
 *           package_source over it; the package code decides its layout.
 * now:      the clock, above. Errors: LEAL_E_STATE (clock not set),
 *           LEAL_E_IO. No power-loss effect.
 * random:   n cryptographically secure random bytes into out (n <= 256).
 *           Errors: LEAL_E_RANDOM (the source failed or is not seeded yet);
 *           out is then unspecified and must not be used.
 * show:     one line for the operator (a shop assistant): UTF-8, len bytes,
 *           no newline, at most PORT_SHOW_MAX bytes (LEAL_E_ARG beyond); it
 *           replaces the line shown before. Errors: LEAL_E_IO. A line lost to
 *           power loss is lost; nothing else depends on it.
 * Every member is required. name names the port in messages ("posix").
 */
#define PORT_SHOW_MAX 160
#define PORT_RANDOM_MAX 256

struct terminal_port {
    const char *name;
    void *ctx; /* for now, random and show */
    const struct card_reader *reader;
    const struct port_storage *journal;
    const struct port_storage *package;
    leal_err (*now)(void *ctx, struct port_time *out);
    leal_err (*random)(void *ctx, uint8_t *out, size_t n);
    leal_err (*show)(void *ctx, const char *line, size_t len);
};

/* LEAL_OK if every function of s is set and its geometry is within the
 * limits above (unit_size a power of two, 512 .. 1 MiB; 2 .. 65536 units),
 * LEAL_E_ARG otherwise. */
LEAL_MUST_CHECK leal_err port_storage_check(const struct port_storage *s);

/* LEAL_OK if every member of p is set (the reader's four functions, both
 * storages as port_storage_check) and LEAL_E_ARG otherwise. */
LEAL_MUST_CHECK leal_err terminal_port_check(const struct terminal_port *p);

#endif
