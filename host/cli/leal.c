/* leal.c - the `leal` command: dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/keys/passphrase.h"
#include "keys/hosted/secmem.h"

static const struct cli_command commands[] = {
    {"keys", "issuer keystore: init, list, rotate, backup, restore, export-terminal", cmd_keys},
    {"readers", "list the card readers (PC/SC; virtual ones marked)", cmd_readers},
    {"card", NULL, cmd_card}, /* its summary lists every card subcommand: cmd_card_summary */
    {"program", "create a loyalty program (single shop, chain or collective)", cmd_program},
    {"store", "add a store to a program", cmd_store},
    {"terminal", "add a terminal to a store; start a new epoch; build its signed package",
     cmd_terminal},
    {"package", "show a terminal package: what it lists, its validity, its signature", cmd_package},
    {"rule", "a program's earning rules: add, list, show, end, history (versioned)", cmd_rule},
    {"tier", "a program's tiers: add, list, remove", cmd_tier},
    {"reward", "a program's rewards catalogue: add, list, show, remove", cmd_reward},
    {"stamp", "a program's stamp cards: add, list, remove", cmd_stamp},
    {"bono", "bono kinds (prepaid sessions): add, list, show, remove; sell, use at the desk",
     cmd_bono},
    {"customer", "customers: add, show, edit, list, search, consent, note", cmd_customer},
    {"account", "accounts: add, add-card, show (balances, cards), history", cmd_account},
    {"ledger", "the journal: init, post (manual adjustment), void, verify, import, expire",
     cmd_ledger},
    {"sale", "an online sale through the program's rules; refunds; product categories", cmd_sale},
    {"rules", "simulate: a period's sales replayed under today's rules or a proposed set",
     cmd_rules},
    {"backup", "online consistent copy of the ledger database", cmd_backup},
    {"sync", "terminal journals: import (verified, posted exactly once), ack", cmd_sync},
    {"reconcile", "cards' counters across terminals against the ledger: findings, fraud blocked",
     cmd_reconcile},
    {"settle", "settlement between the shops of a collective, per month", cmd_settle},
    {"report",
     "figures: activity, liabilities, redemptions, breakage, customers, retention, "
     "campaigns, settlement (CSV, Excel, SVG)",
     cmd_report},
    {"desk", "the desk's card loop: every card presented read, one line each (--stdio: commands)",
     cmd_desk},
    {"qr", "customers' QR codes: issue (PNG, SVG, terminal), decode a picture, verify", cmd_qr},
    {"agent", "desk agent: unlock the keystore once for the card commands (start, status, stop)",
     cmd_agent},
    {"serve", "the back office in a browser: pages and a JSON API (users, customers)", cmd_serve},
    {"user", "back-office users: add, passwd, disable, enable, list", cmd_user},
    {"mail", "a program's e-mail (SMTP) settings: set, show, test", cmd_mail},
    {"messages",
     "messages to customers: template, run (birthday, inactive, expiring, welcome, tier_up, "
     "tier_down), log, unsubscribe, lang, web (the unsubscribe link), campaign (to a segment), "
     "gateway (SMS, WhatsApp)",
     cmd_messages},
    {"segment", "saved filters over customers: add, list, show, count, export (consent-aware)",
     cmd_segment},
};

static void usage(FILE *f)
{
    char card[512];
    fprintf(f, "usage: leal [--verbose] COMMAND [ARGS]\n\n"
               "leal is a loyalty-card system: MIFARE DESFire and Classic cards, offline\n"
               "terminals and an SQLite ledger. Commands:\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const char *s = commands[i].summary;
        if (s == NULL) {
            cmd_card_summary(card, sizeof card);
            s = card;
        }
        fprintf(f, "  %-10s %s\n", commands[i].name, s);
    }
    fprintf(f, "\n'leal COMMAND --help' describes each command. --verbose (before the command)\n"
               "prints the log on stderr; LEAL_TRACE=apdu traces the card exchanges.\n");
}

/* With --json, an error printed as text by code that does not know about
 * JSON (stderr is captured meanwhile) still reaches stdout as one JSON error. */
static int json_fallback(FILE *real, char *buf, size_t len, int rc)
{
    char *last = NULL, *line, *save = NULL;
    /* No error text (a card that differs is told in the JSON result itself). */
    if (rc == CLI_EXIT_OK || cli_json_error_printed() || len == 0) {
        if (len)
            fwrite(buf, 1, len, real);
        return rc;
    }
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        last = line;
    if (last && strncmp(last, "leal: ", 6) == 0)
        last += 6;
    (void)cli_error(rc == CLI_EXIT_USAGE ? LEAL_E_USAGE : LEAL_E_STATE, rc, "%s",
                    last ? last : "failed");
    return rc;
}

static int dispatch(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int rc = cli_pg_scope(argc, argv);
            return rc >= 0 ? rc : commands[i].run(argc - 1, argv + 1);
        }
    return cli_usage("unknown command '%s'", argv[1]);
}

int main(int argc, char **argv)
{
    FILE *real = stderr, *cap = NULL;
    char *buf = NULL;
    size_t len = 0;
    leal_err err;
    int rc;
    /* Before anything holds a key: no core file, no ptrace by the same user,
     * and passphrases moved out of the environment (passphrase.h). */
    if ((err = secmem_process_harden()) != LEAL_OK)
        return cli_fail(err, "turning off core dumps");
    passphrase_take_env();
    if ((rc = cli_log_setup(&argc, &argv, stderr)) >= 0)
        return rc;
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
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            cli_json_errors(true);
    if (cli_json_errors_on() && (cap = open_memstream(&buf, &len)) != NULL)
        stderr = cap;
    rc = dispatch(argc, argv);
    if (cap) {
        fclose(cap);
        stderr = real;
        rc = json_fallback(real, buf, len, rc);
        free(buf);
    }
    return rc;
}
