/*
 * cli.h - what every `leal` subcommand shares: the command table, exit codes,
 * one-line errors, and the conventions of Unix tools (--help, --version,
 * --json). Only host/cli/ prints or exits.
 * Exit codes: 0 success, 1 operational failure (card, reader, file, crypto),
 * 2 bad usage or bad input (unknown id, malformed amount, conflict).
 */
#ifndef LEAL_CLI_H
#define LEAL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "keys/base/err.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* A top-level command: `leal NAME ...`. argv[0] is NAME. Returns an exit code. */
struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

/* Errors: one line "leal: MESSAGE" on stderr, or, once cli_json_errors(true)
 * was called (main does it when --json is among the arguments), one JSON
 * object on stdout instead:
 *   {"error":{"code":256,"name":"LEAL_E_UNKNOWN_ID","message":"..."}}
 * (code and name as in keys/base/err.h; message without the "leal: "). */
void cli_json_errors(bool on);
bool cli_json_errors_on(void);
/* Prints "leal: WHAT: <leal_strerror(err)>"; returns the exit code for err. */
int cli_fail(leal_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "leal: MESSAGE" and a hint to run --help; returns CLI_EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "leal: MESSAGE" as it is (the message already says what to do), with
 * err as its code in JSON; returns exit_code. */
int cli_error(leal_err err, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 if an error was already printed as JSON (so main adds none). */
int cli_json_error_printed(void);
/* The exit code an error deserves: 2 for bad input, 1 otherwise. */
int cli_exit_code(leal_err err);

/* The log's sink (host/log): `--verbose` before the command (taken out of
 * argv) prints the log to out, LEAL_TRACE=apdu the card exchanges (reader.c
 * hides secured data). Returns -1, or the exit code for a bad LEAL_TRACE. */
int cli_log_setup(int *argc, char ***argv, FILE *out);

/* Prints the one-line error for a passphrase_get failure (host/keys/passphrase.h;
 * option is the command-line option that names the file, e.g.
 * "--bundle-passphrase-file"); returns the exit code. */
int cli_passphrase_fail(leal_err err, const char *file, const char *option, const char *env,
                        const char *what);

/* The one-line error for desk keys that could not be had, by the stage
 * desk_keys_acquire stopped at (host/desk/desk_keys.h); passphrase_file is
 * --passphrase-file's value, program the one asked for (0: none named).
 * Returns the exit code. */
struct desk_keys;
int cli_desk_keys_fail(const struct desk_keys *k, leal_err err, const char *passphrase_file,
                       int64_t program);

/* Writes s as a JSON string literal (with quotes) to f; always valid JSON:
 * bytes that are not UTF-8 become U+FFFD, controls are escaped. */
void cli_json_string(FILE *f, const char *s);

/* Subcommands, one per host/cli/cmd_*.c. */
int cmd_keys(int argc, char **argv);
int cmd_readers(int argc, char **argv);
int cmd_card(int argc, char **argv);
/* "the card in the reader ...: info, issue, read, ...": every `leal card`
 * subcommand, for the top-level help. */
void cmd_card_summary(char *out, size_t cap);
/* `leal card issue|read|top-up|replace|erase|block|unblock` (cmd_card_desk.c). */
int card_desk(const char *sub, int argc, char **argv);
int cmd_program(int argc, char **argv);
/* `leal rule|tier|reward|stamp|bono ...`: a program's rule set (cmd_rules.c). */
int cmd_rule(int argc, char **argv);
int cmd_tier(int argc, char **argv);
int cmd_reward(int argc, char **argv);
int cmd_stamp(int argc, char **argv);
int cmd_bono(int argc, char **argv);
/* `leal bono sell|use` at the desk (cmd_bono.c); argv[0] is "sell" or "use". */
int bono_desk(int argc, char **argv);
/* `leal bono expire`: the ledger's sweep of bonos past their last day. */
int bono_expire(int argc, char **argv);
/* `leal reward redeem` at the host (cmd_reward.c). */
int reward_redeem(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_terminal(int argc, char **argv);
/* `leal terminal package` and `leal package show` (cmd_package.c). */
int terminal_package(int argc, char **argv);
int cmd_package(int argc, char **argv);
int cmd_customer(int argc, char **argv);
int cmd_account(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_backup(int argc, char **argv);
/* `leal qr ...`: customers' QR codes, static and spending (cmd_qr.c). */
int cmd_qr(int argc, char **argv);
/* `leal qr certifier` (cmd_qr_certifier.c). */
int cmd_qr_certifier(int argc, char **argv);
/* `leal sale`, `leal sale refund`, `leal sale category` (cmd_sale.c). */
int cmd_sale(int argc, char **argv);
/* `leal rules simulate` (cmd_simulate.c). */
int cmd_rules(int argc, char **argv);
/* `leal agent start|status|stop` (cmd_agent.c). */
int cmd_agent(int argc, char **argv);
/* `leal desk`: the desk's long-running card loop (cmd_desk.c). */
int cmd_desk(int argc, char **argv);
/* `leal sync import|ack`: terminal journals into the ledger (cmd_sync.c). */
int cmd_sync(int argc, char **argv);
/* `leal reconcile [accept]`: findings across cards, terminals and the ledger (cmd_reconcile.c). */
int cmd_reconcile(int argc, char **argv);
/* `leal settle`: settlement between the shops of a collective (cmd_settle.c). */
int cmd_settle(int argc, char **argv);
/* `leal serve`: the back office over HTTP (cmd_serve.c). */
int cmd_serve(int argc, char **argv);
/* `leal user`: the back office's users (cmd_user.c). */
int cmd_user(int argc, char **argv);
struct ledger;
struct ledger_user;
/* Adds u (name, role, stores) with a password from password_file, the
 * environment or the terminal, and its audit line; 0 or an exit code after
 * printing the error (cmd_user.c; `leal serve --init-admin` uses it too). */
int user_create(struct ledger *l, struct ledger_user *u, const char *password_file);
/* `leal report NAME`: activity, liabilities, redemptions, ... (cmd_report.c). */
int cmd_report(int argc, char **argv);
/* `leal customer export|erase` (cmd_privacy.c); argv[0] is "export" or "erase". */
int customer_privacy(int argc, char **argv);
/* `leal customer retention`: inactive customers' personal data erased (cmd_privacy.c). */
int customer_retention(int argc, char **argv);
/* `leal mail set|show|test`: a program's SMTP settings (cmd_mail.c). */
int cmd_mail(int argc, char **argv);
/* `leal messages template|run|log|unsubscribe`: messages to customers (cmd_messages.c). */
int cmd_messages(int argc, char **argv);
/* `leal segment add|list|show|count|export`: saved filters over customers (cmd_segment.c). */
int cmd_segment(int argc, char **argv);
/* `leal customer tag|untag CUSTOMER TAG` (cmd_segment.c); argv[0] is "tag" or "untag". */
int customer_tag(int argc, char **argv);
struct ledger_mail;
struct mail_server;
/* A program's stored mail settings as host/mail's server, pointing into m (cmd_mail.c). */
void mail_server_of(const struct ledger_mail *m, struct mail_server *srv);
struct lcli_opt;
struct keyset;
/* The keystore's journal masters only (options "keystore", "passphrase-file"
 * of o), into *ks (secmem); 0 or an exit code after the error (cmd_sync.c;
 * `leal serve --terminals` uses it too). sync_cli_free_keys wipes them. */
int sync_cli_journal_keys(const struct lcli_opt *o, size_t n, struct keyset **ks);
void sync_cli_free_keys(struct keyset *ks);
/* `leal sync import` (argv[0] "import") with the journal keys already in
 * given (NULL: from the keystore as the options say, the command's own way):
 * the test tool tests/tools/sync_kill opens the keystore once for many runs. */
int sync_cli_import(int argc, char **argv, const struct keyset *given);

/* -1 if the command argv[1] (one of leal.c's) runs on the ledger --db or
 * LEAL_DB names; on a PostgreSQL ledger a command not ported there is
 * refused: the exit code after its one-line error (cli_pg.c). */
int cli_pg_scope(int argc, char **argv);

/* `leal ledger copy --from ... --to ...` (cmd_ledger_copy.c); argv[0] is "copy". */
int ledger_copy_cli(int argc, char **argv);
/* `leal card pin set|clear CARD-ID`: the portal's sign-in PIN (cmd_card_pin.c);
 * argv[0] is "pin". */
int card_pin(int argc, char **argv);
/* `leal card holder CARD-ID NAME|--clear`: a family card's holder (cmd_card_holder.c);
 * argv[0] is "holder". */
int card_holder(int argc, char **argv);
/* `leal reward honour CODE`: a reward redeemed from the portal, given at the desk
 * (cmd_reward.c). */
int reward_honour(int argc, char **argv);

#endif
