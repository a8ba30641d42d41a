/* cli.c - shared CLI helpers: errors (text or JSON), exit codes, JSON strings. */
#include "cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "host/keys/passphrase.h"
#include "host/text.h"

static bool json_errors;
static int json_printed;

void cli_json_errors(bool on)
{
    json_errors = on;
}

bool cli_json_errors_on(void)
{
    return json_errors;
}

int cli_json_error_printed(void)
{
    return json_printed;
}

int cli_exit_code(leal_err err)
{
    if (err == LEAL_OK)
        return CLI_EXIT_OK;
    /* The database failing under us (I/O, lock, damage) is not the user's input. */
    if (err == LEAL_E_DB || err == LEAL_E_DB_BUSY || err == LEAL_E_DB_CORRUPT)
        return CLI_EXIT_FAIL;
    if ((err >= 250 && err < 350) || err == LEAL_E_USAGE || err == LEAL_E_UNKNOWN_ROLE ||
        err == LEAL_E_UNKNOWN_PROGRAM || err == LEAL_E_PROGRAM_EXISTS)
        return CLI_EXIT_USAGE;
    /* The rules engine refusing what was asked of it is bad input, as the
     * ledger's refusals are (not enough points like LEAL_E_INSUFFICIENT_FUNDS,
     * an unknown reward like LEAL_E_UNKNOWN_ID, a rule set or sale that does
     * not hold, a refund beyond the sale, a bono used up or expired). A
     * balance past what a card can hold (like LEAL_E_CARD_BOUNDARY) and a
     * rule set in a format this leal cannot read (like LEAL_E_VERSION) are
     * not the user's input. */
    if (err >= LEAL_E_RULES_PROGRAM && err <= LEAL_E_RULES_REFUND)
        return CLI_EXIT_USAGE;
    return CLI_EXIT_FAIL;
}

/* The one place an error is printed. */
static void emit(leal_err err, const char *msg)
{
    if (json_errors) {
        printf("{\"error\":{\"code\":%d,\"name\":\"%s\",\"message\":", (int)err, leal_errname(err));
        cli_json_string(stdout, msg);
        printf("}}\n");
        fflush(stdout);
        json_printed = 1;
        return;
    }
    fprintf(stderr, "leal: %s\n", msg);
}

int cli_fail(leal_err err, const char *fmt, ...)
{
    char msg[1024];
    size_t n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n = strlen(msg);
    snprintf(msg + n, sizeof msg - n, ": %s", leal_strerror(err));
    emit(err, msg);
    return cli_exit_code(err);
}

int cli_usage(const char *fmt, ...)
{
    char msg[1024];
    size_t n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n = strlen(msg);
    if (!json_errors)
        snprintf(msg + n, sizeof msg - n, " (see 'leal --help')");
    emit(LEAL_E_USAGE, msg);
    return CLI_EXIT_USAGE;
}

int cli_error(leal_err err, int exit_code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(err, msg);
    return exit_code;
}

void cli_json_string(FILE *f, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = s ? strlen(s) : 0;
    fputc('"', f);
    while (n > 0) {
        uint32_t c;
        size_t k = text_utf8_next(p, n, &c);
        if (k == 0) {
            fputs("\\ufffd", f); /* not UTF-8: one replacement per byte */
            p++;
            n--;
            continue;
        }
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", (char)c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", (unsigned)c);
        else
            fwrite(p, 1, k, f);
        p += k;
        n -= k;
    }
    fputc('"', f);
}

int cli_passphrase_fail(leal_err err, const char *file, const char *option, const char *env,
                        const char *what)
{
    switch (err) {
    case LEAL_E_ARG:
        fprintf(stderr, "leal: the %s passphrase must have at least %d characters\n", what,
                PASSPHRASE_MIN);
        return CLI_EXIT_USAGE;
    case LEAL_E_PASSPHRASE:
        fprintf(stderr, "leal: the two %s passphrases differ; nothing was written\n", what);
        return CLI_EXIT_USAGE;
    case LEAL_E_NO_PASSPHRASE:
        if (file)
            fprintf(stderr,
                    "leal: passphrase file %s is empty: its first line is the %s "
                    "passphrase\n",
                    file, what);
        else
            fprintf(stderr, "leal: no %s passphrase: give %s FILE, set %s, or run on a terminal\n",
                    what, option, env);
        return CLI_EXIT_USAGE;
    case LEAL_E_FORMAT:
        fprintf(stderr,
                "leal: passphrase file %s has a NUL byte in its first line; write the %s "
                "passphrase as text on the first line\n",
                file ? file : "", what);
        return CLI_EXIT_USAGE;
    case LEAL_E_TOO_LARGE:
        fprintf(stderr, "leal: the %s passphrase%s%s is longer than %d bytes\n", what,
                file ? " in " : "", file ? file : "", LEAL_MAX_PASSPHRASE);
        return CLI_EXIT_USAGE;
    case LEAL_E_NOT_FOUND:
        fprintf(stderr, "leal: passphrase file %s does not exist\n", file ? file : "");
        return CLI_EXIT_USAGE;
    default:
        return cli_fail(err, "passphrase file %s", file ? file : "");
    }
}
