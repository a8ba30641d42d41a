/* cli_log.c - the log's sink: the CLI decides what of the log is printed. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/log/log.h"

static void print_line(void *ctx, enum log_level level, const char *where, const char *msg)
{
    /* Traces show where they come from only in the message: one shape per line. */
    if (level == LOG_TRACE)
        fprintf(ctx, "leal: trace: %s\n", msg);
    else
        fprintf(ctx, "leal: %s: %s: %s\n", log_level_name(level), where, msg);
    fflush(ctx);
}

int cli_log_setup(int *argc, char ***argv, FILE *out)
{
    const char *trace = getenv("LEAL_TRACE");
    bool verbose = false;
    unsigned mask = 0;
    /* Global options stand before the command, as in `leal --verbose card read`. */
    while (*argc > 1 && strcmp((*argv)[1], "--verbose") == 0) {
        verbose = true;
        (*argv)[1] = (*argv)[0];
        (*argv)++;
        (*argc)--;
    }
    if (log_trace_parse(trace, &mask) != LEAL_OK)
        return cli_usage("LEAL_TRACE=%s: unknown trace; the one there is: LEAL_TRACE=apdu", trace);
    if (verbose || mask != 0)
        log_set_sink(print_line, out, verbose ? LOG_DEBUG : LOG_NONE, mask);
    return -1;
}
