/*
 * terminal_commands.c - leal-terminal's command line: the process hardened,
 * the options parsed, then the one command it names (terminal_main.c's init,
 * load, status, journal; terminal_tap.c's tap and run; terminal_serve.c's
 * serve). Apart from both so
 * that neither calls the other back (the tap commands use terminal_main.c's
 * options, errors and opening).
 */
#include <string.h>

#include "firmware/port/posix/terminal_cli.h"
#include "host/keys/passphrase.h"
#include "keys/hosted/secmem.h"

int term_main(int argc, char **argv, const struct term_test_hook *hook)
{
    struct opts o;
    int rc;
    term_set_test_hook(hook);
    passphrase_take_env();
    if (secmem_process_harden() != LEAL_OK)
        return term_fail(EXIT_FAILED, "%s", "cannot keep keys out of core dumps (prctl/setrlimit)");
    if ((rc = term_parse(argc, argv, &o)) >= 0)
        return rc;
    if (o.npos == 0)
        return term_usage("%s", "no command given");
    if (strcmp(o.pos[0], "init") == 0)
        return cmd_init(&o);
    if (strcmp(o.pos[0], "load") == 0)
        return cmd_load(&o);
    if (strcmp(o.pos[0], "status") == 0)
        return cmd_status(&o);
    if (strcmp(o.pos[0], "journal") == 0)
        return cmd_journal(&o);
    if (strcmp(o.pos[0], "sync") == 0)
        return cmd_sync(&o);
    if (strcmp(o.pos[0], "tap") == 0)
        return cmd_tap(&o);
    if (strcmp(o.pos[0], "run") == 0)
        return cmd_run(&o);
    if (strcmp(o.pos[0], "serve") == 0)
        return cmd_serve(&o);
    return term_usage("unknown command '%s'", o.pos[0]);
}
