/*
 * terminal_cut.c - leal-terminal with a power cut, for tests only (never
 * installed): the same commands (term_main), with LEAL_TERMINAL_POWER_CUT=
 * package:N or journal:N wrapping that storage in a cut after N bytes of work
 * (tests/lib/cut_storage.h); there the process ends at once, exit 75, nothing
 * flushed or closed, as a pulled plug ends it. Without the variable it is
 * leal-terminal. Used by tests/integration/terminal_tear.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/port/posix/terminal_cli.h"
#include "tests/lib/cut_storage.h"

struct cut_spec {
    int which; /* 1 journal, 2 package */
    unsigned long long at;
    struct cut_storage cut;
};

static void power_off(void)
{
    _exit(CUT_STORAGE_EXIT);
}

static void wrap(void *ctx, const struct port_storage **journal,
                 const struct port_storage **package)
{
    struct cut_spec *c = ctx;
    const struct port_storage **st = c->which == 1 ? journal : package;
    cut_storage_init(&c->cut, *st, c->at, power_off);
    *st = &c->cut.port;
}

int main(int argc, char **argv)
{
    static struct cut_spec spec;
    const char *s = getenv("LEAL_TERMINAL_POWER_CUT");
    struct term_test_hook hook = {wrap, &spec};
    char *end;
    if (s == NULL)
        return term_main(argc, argv, NULL);
    spec.which = strncmp(s, "journal:", 8) == 0 ? 1 : strncmp(s, "package:", 8) == 0 ? 2 : 0;
    errno = 0;
    spec.at = spec.which ? strtoull(s + 8, &end, 10) : 0;
    if (spec.which == 0 || errno != 0 || end == s + 8 || *end != '\0') {
        fprintf(stderr,
                "terminal_cut: LEAL_TERMINAL_POWER_CUT '%s': write journal:N or package:N\n", s);
        return 2;
    }
    return term_main(argc, argv, &hook);
}
