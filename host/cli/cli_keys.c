/* cli_keys.c - the CLI's words for desk keys that could not be had (cli.h). */
#include "cli.h"
#include "host/desk/desk_keys.h"

int cli_desk_keys_fail(const struct desk_keys *k, leal_err err, const char *passphrase_file,
                       int64_t program)
{
    switch (k->failed) {
    case DESK_KEYS_PROVIDER:
        return cli_fail(err, "the crypto provider");
    case DESK_KEYS_NO_PATH:
        return cli_usage("no --keystore given and neither XDG_DATA_HOME nor HOME is set");
    case DESK_KEYS_PASSPHRASE:
        return cli_passphrase_fail(err, passphrase_file, "--passphrase-file", "LEAL_PASSPHRASE",
                                   "keystore");
    case DESK_KEYS_MEMORY:
        return cli_fail(err, "keystore");
    case DESK_KEYS_AGENT:
        return cli_error(err, CLI_EXIT_FAIL,
                         "the desk agent's socket is not private to you (another user's, or its "
                         "folder is not yours with mode 0700); run 'leal agent stop' or remove "
                         "the folder");
    case DESK_KEYS_LOAD:
        return cli_fail(err, "keystore %s", k->keystore_path);
    case DESK_KEYS_PROGRAMS:
        return cli_usage("the keystore has %d programs; name one with --program", k->nprograms);
    default:
        return cli_fail(err, "program %lld", (long long)program);
    }
}
