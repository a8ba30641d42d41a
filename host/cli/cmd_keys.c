/* cmd_keys.c - `leal keys ...` (placeholder until the keystore lands). */
#include "cli.h"

int cmd_keys(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage("'leal keys' is not built yet");
}
