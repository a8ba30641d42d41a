/* leal.c - the `leal` command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "keys/hosted/secmem.h"
#include "passphrase.h"

static const struct cli_command commands[] = {
    {"keys", "issuer keystore: init, list, rotate, backup, restore, export-terminal", cmd_keys},
    {"readers", "list the card readers (PC/SC; virtual ones marked)", cmd_readers},
    {"card", "the card in the reader: info", cmd_card},
    {"program", "create a loyalty program (single shop, chain or collective)", cmd_program},
    {"store", "add a store to a program", cmd_store},
    {"terminal", "add a terminal to a store; start a new epoch", cmd_terminal},
    {"customer", "customers: add, show, edit, list, search, consent, note", cmd_customer},
    {"account", "accounts: add, add-card, show (balances, cards), history", cmd_account},
    {"ledger", "the journal: init, post (manual adjustment), void, verify, import, expire",
     cmd_ledger},
    {"backup", "online consistent copy of the ledger database", cmd_backup},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: leal COMMAND [ARGS]\n\n"
               "leal is a loyalty-card system: MIFARE DESFire and Classic cards, offline\n"
               "terminals and an SQLite ledger. Commands:\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'leal COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    leal_err err;
    /* Before anything holds a key: no core file, no ptrace by the same user,
     * and passphrases moved out of the environment (passphrase.h). */
    if ((err = secmem_process_harden()) != LEAL_OK)
        return cli_fail(err, "turning off core dumps");
    passphrase_take_env();
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("leal %s\n", LEAL_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return cli_usage("unknown command '%s'", argv[1]);
}
