/*
 * terminal_cli.h - what leal-terminal's command files share (terminal_main.c,
 * terminal_tap.c, terminal_commands.c, terminal_entry.c): the parsed options, one-line errors, the
 * exit codes and opening the terminal's folder. Program code: only these files print or exit.
 */
#ifndef LEAL_TERMINAL_CLI_H
#define LEAL_TERMINAL_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/rules.h"
#include "firmware/core/terminal.h"
#include "firmware/port/posix/posix_terminal.h"

#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 3  /* tap: the card was refused, and the refusal journaled */
#define EXIT_NO_CARD 4  /* tap: no card came into the field in time */
#define EXIT_IN_DOUBT 5 /* tap: the commit had no answer; tap the card here again */

struct opts {
    const char *data, *pass_file, *bundle, *out;
    int json;
    const char *pos[4];
    int npos;
    char data_default[PATH_MAX];
    /* tap and run */
    const char *reader, *earn, *pay, *redeem, *stamp, *bono, *timeout, *store;
    const char *categories[RULES_MAX_ITEMS];
    int ncategories;
    bool void_last, balance, allow_virtual;
    bool stdio;                /* serve --stdio */
    const char *qr, *qr_image; /* tap: a QR code instead of a card (terminal_qr_tap.c) */
    const char *server, *pin;  /* sync (terminal_net.c) */
};

int term_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int term_usage(const char *fmt, const char *arg);
int term_exit_code(leal_err err);
void term_json_str(const char *s);
/* Opens the terminal in o->data (with bundle: makes it); *out is secmem. */
int term_open(const struct opts *o, const char *bundle, struct posix_terminal **out);
void term_close(struct posix_terminal *t);

/* leal-terminal's commands (terminal_commands.c); main (terminal_entry.c)
 * calls it with hook NULL. A test build (tests/tools/terminal_cut.c) passes a
 * hook that wraps the storages of the folder term_open opens
 * (posix_terminal.h). */
struct term_test_hook {
    void (*wrap_storage)(void *ctx, const struct port_storage **journal,
                         const struct port_storage **package);
    void *ctx;
};
int term_main(int argc, char **argv, const struct term_test_hook *hook);
void term_set_test_hook(const struct term_test_hook *hook);
/* The command line into o: -1 when a command is to run, else the exit code
 * (--help, --version, a usage error). */
int term_parse(int argc, char **argv, struct opts *o);

/* init, load, status, journal (terminal_main.c). */
int cmd_init(const struct opts *o);
int cmd_load(const struct opts *o);
int cmd_status(const struct opts *o);
int cmd_journal(const struct opts *o);

/* The unacknowledged entries of t's journal as an export into *out
 * (malloc'ed; the caller frees it), with js its status before; errors of
 * journal_export (LEAL_E_JOURNAL_EMPTY: nothing to send). */
LEAL_MUST_CHECK leal_err term_journal_export(struct posix_terminal *t, uint8_t **out,
                                             struct journal_export_info *info,
                                             struct journal_status_info *js);

/* `leal-terminal sync --server URL` (terminal_net.c). */
int cmd_sync(const struct opts *o);

/* `leal-terminal tap` and `leal-terminal run` (terminal_tap.c). */
int cmd_tap(const struct opts *o);
int cmd_run(const struct opts *o);

/* A card reader's terminal, opened once for every tap of a command (tap,
 * run, serve): the folder (term_stand), the reader of --reader, the port and
 * the core's terminal. term_tapper_open prints its own error (exit code). */
struct reader;
struct term_tapper {
    struct posix_terminal *t;
    struct reader *r;
    struct terminal_port port;
    struct terminal term;
};
/* A whole number lo..hi of option opt into *out, else a one-line error and
 * EXIT_USAGE. */
int term_parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
int term_tapper_open(const struct opts *o, struct term_tapper *tp);
void term_tapper_close(struct term_tapper *tp);
/* Waits up to timeout_ms for a card in tp's field and fills *card (its type
 * from the ATR, its UID) for terminal_tap; reader_wait_card's and
 * reader_card_info's errors (LEAL_E_TIMEOUT or LEAL_E_NO_CARD: none came). */
LEAL_MUST_CHECK leal_err term_tapper_card(struct term_tapper *tp, unsigned timeout_ms,
                                          struct terminal_card *card);
/* The shop assistant's line for a tap's result ("card 7 earn: +23 points,
 * 0 -> 23"), through show: posix_show for tap and run, serve's own. A
 * refusal gives its sentence ("REFUSED: the card is on the hot list ..."),
 * or with till_names its name as the board's till line does ("REFUSED:
 * LEAL_E_TERMINAL_HOT_LISTED"). */
void term_print_line(leal_err (*show)(void *, const char *, size_t),
                     const struct package_terminal *pk, const struct terminal_result *r,
                     bool till_names);

/* `leal-terminal serve --stdio` (terminal_serve.c): the board's till lines
 * (firmware/core/till_line.h) on standard input, its answers on standard
 * output. */
int cmd_serve(const struct opts *o);

/* Where a tap stands (terminal_site.c): parses --store, opens the terminal
 * in o->data (*out, term_close it), refuses without a package ("the terminal
 * takes no TAKES without one") or with a --store that contradicts the
 * package's, and fills cfg from the package's site (PACKAGE.md "Site"). */
int term_stand(const struct opts *o, const char *takes, struct posix_terminal **out,
               struct terminal_config *cfg);
/* The port of a tap at t (its clock in the package site's zone,
 * posix_site_now, never the till's TZ; reader may answer "no card") and the
 * rest of s but s->cfg (term_stand's), for terminal_open. */
void term_stand_setup(struct posix_terminal *t, const struct card_reader *reader,
                      struct terminal_port *port, struct terminal_setup *s);
/* A tap's --json "reason" member: null, or the refusal's code, name, message. */
void term_json_reason(bool refused, uint16_t reason);

struct terminal_request;
/* `leal-terminal tap --qr TEXT|- | --qr-image FILE` (terminal_qr_tap.c). */
int cmd_tap_qr(const struct opts *o, const struct terminal_request *req);

#endif
