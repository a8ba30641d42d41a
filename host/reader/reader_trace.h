/*
 * reader_trace.h - LEAL_TRACE=apdu: one line per card exchange, written to
 * the log (host/log) from the one backend-independent path (reader.c), so
 * pcsc:, nfc: and sim: trace alike. What is secret is never formatted:
 *   - command and status bytes and every length are shown;
 *   - frame data is shown only for commands that carry nothing secret
 *     (DESFire GetVersion, SelectApplication, the Get* directory commands,
 *     ISO SELECT, PC/SC GET DATA) and only before the first authentication:
 *     from it on, every frame's data is hidden until the reader is closed;
 *   - everything else (record reads and writes, PC/SC LOAD KEYS, unknown
 *     commands) shows its header and lengths only;
 *   - MIFARE Classic operations show their command code and block: the key
 *     of an authentication and a block's 16 bytes are never shown.
 * Hosted; no allocation; internal to host/reader.
 */
#ifndef LEAL_READER_TRACE_H
#define LEAL_READER_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

/* Per open reader; zeroed at reader_open. */
struct reader_trace {
    bool secured;    /* an authentication was seen: data hidden from here on */
    bool shown_last; /* the last command's data was shown: its 0xAF continuation may be */
};

/* One exchange: cmd, and resp when err is LEAL_OK. */
void reader_trace_apdu(struct reader_trace *t, const uint8_t *cmd, size_t cmd_len,
                       const uint8_t *resp, size_t resp_len, leal_err err);

enum reader_trace_classic {
    READER_TRACE_CLASSIC_READ = 0x30,  /* MIFARE READ */
    READER_TRACE_CLASSIC_WRITE = 0xA0, /* MIFARE WRITE */
};
/* A Classic authentication with key_type (CLASSIC_KEY_A/B): the key is not an argument. */
void reader_trace_classic_auth(struct reader_trace *t, uint8_t block, uint8_t key_type,
                               leal_err err);
/* A Classic read or write of block: the block's bytes are not an argument. */
void reader_trace_classic_block(struct reader_trace *t, enum reader_trace_classic op, uint8_t block,
                                leal_err err);

#endif
