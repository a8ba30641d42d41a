/* reader_trace.c - the APDU trace and what of a frame it may show. */
#include "reader_trace.h"

#include <stdio.h>
#include <string.h>

#include "host/log/log.h"

#define SHOW_MAX 64   /* bytes of shown data per line; the length is always given */
#define NATIVE 0x100u /* "class" of a DESFire native frame (no ISO 7816 header) */

/* DESFire commands (CLA 90 or native) whose data hold nothing secret. */
static bool desfire_public(uint8_t ins)
{
    static const uint8_t public_ins[] = {
        0x60, /* GetVersion */
        0x5A, /* SelectApplication: an AID */
        0x6A, /* GetApplicationIDs */
        0x6D, /* GetDFNames */
        0x6F, /* GetFileIDs */
        0x61, /* GetISOFileIDs */
        0x45, /* GetKeySettings */
        0x64, /* GetKeyVersion */
        0xF5, /* GetFileSettings */
        0x6E, /* FreeMemory */
    };
    return memchr(public_ins, ins, sizeof public_ins) != NULL;
}

/* Authentication: DESFire legacy/ISO/AES/EV2 (0A 1A AA 71 77), ISO 7816 GET
 * CHALLENGE / EXTERNAL / INTERNAL AUTHENTICATE, PC/SC part 3 GENERAL AUTHENTICATE. */
static bool is_authentication(unsigned cla, uint8_t ins)
{
    if (cla == 0x90 || cla == NATIVE)
        return ins == 0x0A || ins == 0x1A || ins == 0xAA || ins == 0x71 || ins == 0x77;
    if (cla == 0x00)
        return ins == 0x82 || ins == 0x84 || ins == 0x88;
    return cla == 0xFF && ins == 0x86;
}

/* Whether a command's data (and its answer's) may be shown, before any authentication. */
static bool is_public(unsigned cla, uint8_t ins, bool continues_shown)
{
    if (cla == 0x90 || cla == NATIVE)
        return desfire_public(ins) || (ins == 0xAF && continues_shown);
    if (cla == 0x00)
        return ins == 0xA4;            /* ISO SELECT: an AID or file id */
    return cla == 0xFF && ins == 0xCA; /* PC/SC GET DATA: UID, historical bytes */
}

struct line {
    char text[LOG_MAX_MESSAGE];
    size_t n;
};

static void put(struct line *l, const char *fmt, unsigned v)
{
    if (l->n < sizeof l->text)
        l->n += (size_t)snprintf(l->text + l->n, sizeof l->text - l->n, fmt, v);
    if (l->n >= sizeof l->text)
        l->n = sizeof l->text - 1;
}

static void put_str(struct line *l, const char *s)
{
    size_t k = strlen(s);
    if (l->n + k >= sizeof l->text)
        k = sizeof l->text - 1 - l->n;
    memcpy(l->text + l->n, s, k);
    l->n += k;
    l->text[l->n] = '\0';
}

static void put_bytes(struct line *l, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(l, i ? " %02X" : "%02X", p[i]);
}

/* " [N]" and, if shown, the bytes (the first SHOW_MAX); " [N hidden]" otherwise. */
static void put_data(struct line *l, const uint8_t *p, size_t n, bool show)
{
    if (!show && n > 0) {
        put(l, " [%u hidden]", (unsigned)n);
        return;
    }
    put(l, " [%u]", (unsigned)n);
    if (n > 0) {
        put_str(l, " ");
        put_bytes(l, p, n < SHOW_MAX ? n : SHOW_MAX);
        if (n > SHOW_MAX)
            put_str(l, " ...");
    }
}

/* The command: an ISO 7816-4 APDU (CLA 00, 90, FF: header, Lc, data, [Le])
 * or a native frame (command code, data). */
/* A command's parts: class (NATIVE for a native DESFire frame), instruction, header length and
 * where its data lies. */
struct command_parts {
    unsigned cla;
    uint8_t ins;
    size_t head, data_off, data_len;
};

static struct command_parts split_command(const uint8_t *cmd, size_t len)
{
    struct command_parts p;

    if (len >= 4 && (cmd[0] == 0x00 || cmd[0] == 0x90 || cmd[0] == 0xFF)) {
        p.cla = cmd[0];
        p.ins = cmd[1];
        p.head = 4;
        /* Lc as sent, a trailing Le is not data; a length that disagrees: all is data. */
        if (len > 5 && (size_t)cmd[4] <= len - 5) {
            p.data_off = 5;
            p.data_len = cmd[4];
        } else {
            p.data_off = 4;
            p.data_len = len > 5 ? len - 4 : 0;
        }
        return p;
    }
    p.cla = NATIVE;
    p.ins = len ? cmd[0] : 0;
    p.head = len ? 1 : 0;
    p.data_off = p.head;
    p.data_len = len - p.head;
    return p;
}

void reader_trace_apdu(struct reader_trace *t, const uint8_t *cmd, size_t cmd_len,
                       const uint8_t *resp, size_t resp_len, leal_err err)
{
    struct line l = {.n = 0};
    struct command_parts p = split_command(cmd, cmd_len);
    bool show;

    /* Kept whether or not a trace is on: one turned on later hides alike. */
    if (is_authentication(p.cla, p.ins))
        t->secured = true;
    show = !t->secured && is_public(p.cla, p.ins, t->shown_last);
    t->shown_last = show;
    if (!log_tracing(LOG_TRACE_APDU))
        return;
    put_str(&l, ">");
    for (size_t i = 0; i < p.head; i++)
        put(&l, " %02X", cmd[i]);
    put_data(&l, cmd + p.data_off, p.data_len, show);
    log_trace(LOG_TRACE_APDU, "reader", "%s", l.text);

    l.n = 0;
    l.text[0] = '\0';
    if (err != LEAL_OK) {
        log_trace(LOG_TRACE_APDU, "reader", "< error: %s", leal_strerror(err));
        return;
    }
    put_str(&l, "<");
    if (p.cla == NATIVE && resp_len >= 1) { /* status first */
        put(&l, " %02X", resp[0]);
        put_data(&l, resp + 1, resp_len - 1, show);
    } else if (resp_len >= 2) { /* data, then SW1 SW2 */
        put(&l, " %02X", resp[resp_len - 2]);
        put(&l, " %02X", resp[resp_len - 1]);
        put_data(&l, resp, resp_len - 2, show);
    } else {
        put_data(&l, resp, resp_len, false);
    }
    log_trace(LOG_TRACE_APDU, "reader", "%s", l.text);
}

void reader_trace_classic_auth(struct reader_trace *t, uint8_t block, uint8_t key_type,
                               leal_err err)
{
    t->secured = true;
    t->shown_last = false;
    if (!log_tracing(LOG_TRACE_APDU))
        return;
    log_trace(LOG_TRACE_APDU, "reader", "> %02X %02X [key hidden]", key_type, block);
    if (err != LEAL_OK)
        log_trace(LOG_TRACE_APDU, "reader", "< error: %s", leal_strerror(err));
    else
        log_trace(LOG_TRACE_APDU, "reader", "< ok");
}

void reader_trace_classic_block(struct reader_trace *t, enum reader_trace_classic op, uint8_t block,
                                leal_err err)
{
    t->shown_last = false;
    if (!log_tracing(LOG_TRACE_APDU))
        return;
    if (op == READER_TRACE_CLASSIC_WRITE)
        log_trace(LOG_TRACE_APDU, "reader", "> A0 %02X [16 hidden]", block);
    else
        log_trace(LOG_TRACE_APDU, "reader", "> 30 %02X", block);
    if (err != LEAL_OK)
        log_trace(LOG_TRACE_APDU, "reader", "< error: %s", leal_strerror(err));
    else if (op == READER_TRACE_CLASSIC_WRITE)
        log_trace(LOG_TRACE_APDU, "reader", "< ok");
    else
        log_trace(LOG_TRACE_APDU, "reader", "< [16 hidden]");
}
