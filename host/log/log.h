/*
 * log.h - leal's log: library code records, only the CLI decides what is
 * printed. A message carries a level and the function that wrote it and goes
 * to the one sink the CLI installs (log_set_sink), or nowhere (the default).
 * Foreign libraries' error text (OpenSSL, pcsc-lite, libnfc, SQLite) is
 * recorded where their error becomes a leal_err (log_foreign). Traces
 * (LEAL_TRACE=apdu, log_trace_*) show card exchanges; reader.c hides the data
 * of secured frames. Key material never reaches a log call. Hosted; no
 * allocation; a message is cut at LOG_MAX_MESSAGE bytes.
 */
#ifndef LEAL_HOST_LOG_H
#define LEAL_HOST_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "keys/base/err.h"

#define LOG_MAX_MESSAGE 512

enum log_level {
    LOG_NONE = 0, /* as the sink's maximum: no message, only the traces asked for */
    LOG_ERROR = 1,
    LOG_WARN = 2,
    LOG_INFO = 3,
    LOG_DEBUG = 4,
    LOG_TRACE = 5, /* only through log_trace(), for a trace that was asked for */
};

/* What a trace can show (LEAL_TRACE's words; log_trace_parse). */
#define LOG_TRACE_APDU 0x1u

/* where: the function that wrote the message; msg: one line, no newline. */
typedef void (*log_sink_cb)(void *ctx, enum log_level level, const char *where, const char *msg);

/* Sends messages up to max_level (and the traces in trace_mask) to sink;
 * sink NULL: nothing is recorded anywhere. Set once, by the CLI, before
 * other threads start. */
void log_set_sink(log_sink_cb sink, void *ctx, enum log_level max_level, unsigned trace_mask);
/* Whether a message of this level would reach the sink. */
bool log_enabled(enum log_level level);
/* Whether traces of this kind (LOG_TRACE_*) are on. */
bool log_tracing(unsigned what);
/* Parses LEAL_TRACE's value: words separated by commas ("apdu"); NULL or ""
 * is no trace. LEAL_E_USAGE for a word it does not know. */
LEAL_MUST_CHECK leal_err log_trace_parse(const char *spec, unsigned *mask);
/* The level's name as the CLI prints it ("error", "debug", "trace"). */
const char *log_level_name(enum log_level level);

void log_write(enum log_level level, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, with ": <leal_strerror(err)>" after the message. */
void log_write_e(enum log_level level, const char *where, leal_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A trace line of kind what (LOG_TRACE_*), if that trace is on. */
void log_trace(unsigned what, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a foreign library's error where it became err, at LOG_DEBUG:
 * "WHAT: TEXT -> <leal_strerror(err)>" from LIB (the text is copied at once:
 * the library's buffer may change). Returns err, so an adapter can write
 * `return log_foreign(map(rv), "pcsc", "SCardConnect", pcsc_stringify_error(rv));`. */
leal_err log_foreign(leal_err err, const char *lib, const char *what, const char *text);

#define log_error(...) log_write(LOG_ERROR, __func__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __func__, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __func__, __VA_ARGS__)
#define log_error_e(err, ...) log_write_e(LOG_ERROR, __func__, (err), __VA_ARGS__)
#define log_debug_e(err, ...) log_write_e(LOG_DEBUG, __func__, (err), __VA_ARGS__)

#endif
