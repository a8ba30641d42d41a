/* terminal_entry.c - leal-terminal's main: the commands of terminal_main.c
 * with no test hook (the tearing hook lives only in tests/tools/terminal_cut.c).
 *
 * It ends with _exit() once the command has returned: by then the command
 * has closed what it opened (the journal's appends synced, journal.sum
 * written, the reader released, its keys wiped), so what exit() would add
 * is the destructors of the 50-odd shared libraries leal-terminal loads
 * (libcurl's, libzbar's and theirs), about 0.9 ms at every one-shot tap on
 * the bench machine: more than the tap's own work between its card
 * exchanges (firmware/core/TERMINAL.md "Host time per tap"). Before it: the
 * output flushed, the passphrases taken from the environment wiped (the
 * atexit handler that would), and under AddressSanitizer the leak check
 * that exit() would run. */
#include <stdio.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "firmware/port/posix/terminal_cli.h"
#include "host/keys/passphrase.h"

int main(int argc, char **argv)
{
    int rc = term_main(argc, argv, NULL);
    (void)fflush(NULL); /* as exit() would: a failed flush does not change rc */
    passphrase_forget_env();
#ifdef __SANITIZE_ADDRESS__
    __lsan_do_leak_check();
#endif
    _exit(rc);
}
