/* terminal_entry.c - leal-terminal's main: the commands of terminal_main.c
 * with no test hook (the tearing hook lives only in tests/tools/terminal_cut.c). */
#include "firmware/port/posix/terminal_cli.h"

int main(int argc, char **argv)
{
    return term_main(argc, argv, NULL);
}
