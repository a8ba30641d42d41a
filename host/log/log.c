/* log.c - the one sink and its filter. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "keys/hosted/provider_openssl.h"

static log_sink_cb sink;
static void *sink_ctx;
static enum log_level max_level;
static unsigned traces;

void log_set_sink(log_sink_cb new_sink, void *ctx, enum log_level level, unsigned trace_mask)
{
    sink = new_sink;
    sink_ctx = ctx;
    max_level = level;
    traces = trace_mask;
    /* OpenSSL's text enters in keys/hosted, which cannot call up into host/. */
    crypto_openssl_set_reporter(new_sink ? log_foreign : NULL);
}

bool log_enabled(enum log_level level)
{
    return sink != NULL && level != LOG_NONE && level != LOG_TRACE && level <= max_level;
}

bool log_tracing(unsigned what)
{
    return sink != NULL && (traces & what) != 0;
}

leal_err log_trace_parse(const char *spec, unsigned *mask)
{
    static const struct {
        const char *word;
        unsigned bit;
    } words[] = {{"apdu", LOG_TRACE_APDU}};
    const char *p = spec;
    *mask = 0;
    while (p && *p) {
        size_t n = strcspn(p, ",");
        bool known = false;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (n == strlen(words[i].word) && strncmp(p, words[i].word, n) == 0) {
                *mask |= words[i].bit;
                known = true;
            }
        if (!known && n > 0) {
            *mask = 0;
            return LEAL_E_USAGE;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return LEAL_OK;
}

const char *log_level_name(enum log_level level)
{
    switch (level) {
    case LOG_NONE:
        return "none";
    case LOG_ERROR:
        return "error";
    case LOG_WARN:
        return "warning";
    case LOG_INFO:
        return "info";
    case LOG_DEBUG:
        return "debug";
    case LOG_TRACE:
        return "trace";
    }
    return "?";
}

static void deliver(enum log_level level, const char *where, const char *suffix, const char *fmt,
                    va_list ap)
{
    char msg[LOG_MAX_MESSAGE];
    size_t n;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    if (suffix)
        snprintf(msg + n, sizeof msg - n, ": %s", suffix);
    /* One line each: a newline inside would let text forge a second message. */
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    sink(sink_ctx, level, where ? where : "", msg);
}

void log_write(enum log_level level, const char *where, const char *fmt, ...)
{
    va_list ap;
    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    deliver(level, where, NULL, fmt, ap);
    va_end(ap);
}

void log_write_e(enum log_level level, const char *where, leal_err err, const char *fmt, ...)
{
    va_list ap;
    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    deliver(level, where, leal_strerror(err), fmt, ap);
    va_end(ap);
}

void log_trace(unsigned what, const char *where, const char *fmt, ...)
{
    va_list ap;
    if (!log_tracing(what))
        return;
    va_start(ap, fmt);
    deliver(LOG_TRACE, where, NULL, fmt, ap);
    va_end(ap);
}

leal_err log_foreign(leal_err err, const char *lib, const char *what, const char *text)
{
    if (text == NULL || *text == '\0')
        text = "(no text)";
    log_write(LOG_DEBUG, lib, "%s: %s -> %s", what, text, leal_strerror(err));
    return err;
}
