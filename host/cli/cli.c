/* cli.c - shared CLI helpers: errors, exit codes, JSON strings. */
#include "cli.h"

#include <stdarg.h>

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
    return CLI_EXIT_FAIL;
}

int cli_fail(leal_err err, const char *fmt, ...)
{
    va_list ap;
    fputs("leal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", leal_strerror(err));
    return cli_exit_code(err);
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("leal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see 'leal --help')\n", stderr);
    return CLI_EXIT_USAGE;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
