/*
 * cmd_desk.c - `leal desk`: the desk's long-running card loop. Keys (from the
 * agent, or the keystore unlocked once), the ledger, OpenSSL and the reader
 * stay open while it runs; each card presented is read as `leal card read`
 * reads it (host/issuance: the same verification, settlement and verdicts)
 * and shown in one line (one JSON object per line with --json); then the card
 * must leave before the next one is read. With --stdio it reads commands
 * instead (one a line: read, topup EUR, bono sell|use KIND, upgrade, quit) and answers each in
 * one line,
 * for a desk UI or a till. Ends on SIGINT/SIGTERM, EOF or quit (exit 0), or
 * when the reader is gone for good (exit 1). Everything goes to stdout, a
 * line at a time, flushed: a card that fails is a line and the loop goes on.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "desk_cli.h"
#include "desk_print.h"
#include "host/desk/desk_keys.h"
#include "host/desk/desk_view.h"
#include "host/issuance/issuance.h"
#include "ledger_cli.h"

enum {
    O_READER,
    O_VIRTUAL,
    O_TIMEOUT,
    O_JSON,
    O_DB,
    O_KEYSTORE,
    O_PASSFILE,
    O_PROGRAM,
    O_OPERATOR,
    O_STDIO,
    O_STORE,
    O_COUNT
};

/* How long one wait on the reader lasts before the loop looks for a signal. */
#define DESK_SLICE_MS 250u

struct desk_loop {
    struct lcli_opt opts[O_COUNT];
    struct ledger *ledger;
    struct desk_keys dk;
    struct reader *reader;
    struct reader_options ro;
    struct issuance is;
    unsigned timeout_s;
    bool json;
};

static volatile sig_atomic_t desk_stop;

static void on_stop(int sig)
{
    desk_stop = sig;
}

static const char desk_usage[] =
    "usage: leal desk [--reader SPEC] [--allow-virtual] [--json] [--stdio] [--timeout SECONDS]\n"
    "                 [--program ID] [--operator NAME] [--db PATH] [--keystore PATH]\n"
    "                 [--passphrase-file FILE] [--store ID]\n"
    "Reads every card presented on the reader, as 'leal card read' does, one line per card\n"
    "(--json: one JSON object per line), until SIGINT or SIGTERM. The keys (from 'leal agent',\n"
    "else the keystore unlocked once), the ledger and the reader stay open meanwhile.\n"
    "--stdio: reads commands from standard input instead, one answer line for each:\n"
    "    read          the card in the field (waits --timeout seconds for one, default 10)\n"
    "    topup EUR     credit its purse, recorded exactly once (as 'leal card top-up')\n"
    "    bono sell KIND  sell it a bono of that kind (name or id), as 'leal bono sell'\n"
    "    bono use KIND   use one session of it, as 'leal bono use'\n"
    "    upgrade       the Transaction MAC file onto a DESFire EV2/EV3 issued before it, as\n"
    "                  'leal card upgrade' (result tmac-added, or tmac-present: nothing changed)\n"
    "    quit          end (so does the end of input)\n"
    "A lost reader is waited for --timeout seconds; then the desk ends with exit 1.\n"
    "--store: the shop the desk stands in, whose top-ups they are in settlement (default: the\n"
    "program's only store; none when it has several).\n";

static const char *opt(const struct desk_loop *d, int i)
{
    return d->opts[i].val;
}

/* One line on stdout, now: a UI reads it as it comes. */
static void done_line(void)
{
    fflush(stdout);
}

/* An event in words, or {"event":NAME,"reader":...,"message":...}. */
static void say_event(const struct desk_loop *d, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say_event(const struct desk_loop *d, const char *name, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->json) {
        printf("{\"event\":\"%s\",\"reader\":", name);
        cli_json_string(stdout, d->reader ? reader_name(d->reader) : opt(d, O_READER));
        fputs(",\"message\":", stdout);
        cli_json_string(stdout, msg);
        puts("}");
    } else {
        printf("%s: %s\n", name, msg);
    }
    done_line();
}

/* A card or command that failed: "error: MESSAGE", or the CLI's JSON error. */
static void say_error(const struct desk_loop *d, leal_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say_error(const struct desk_loop *d, leal_err err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->json) {
        printf("{\"error\":{\"code\":%d,\"name\":\"%s\",\"message\":", (int)err, leal_errname(err));
        cli_json_string(stdout, msg);
        puts("}}");
    } else {
        printf("error: %s\n", msg);
    }
    done_line();
}

static void say_card(const struct desk_loop *d, const struct issuance_card *v,
                     enum desk_view_result result)
{
    struct desk_card_view w;
    char line[1024];
    desk_card_view(d->ledger, v, result, &w);
    if (d->json) {
        desk_print_json(&w);
    } else {
        desk_card_view_line(&w, line, sizeof line);
        puts(line);
    }
    done_line();
}

/* What went wrong with a card, in the words `leal card read` uses. */
static void say_card_error(const struct desk_loop *d, leal_err err, const struct issuance_card *v,
                           const char *doing)
{
    /* The ledger's detail only for the ledger's own errors: it outlives them. */
    const char *detail = err >= LEAL_E_DB ? ledger_errmsg(d->ledger) : NULL;
    if (err == LEAL_E_CARD_TAMPERED && v->verdict) {
        say_error(d, err,
                  "card %lld is blocked: %s; nothing was posted; keep the card ('leal card "
                  "history %lld' shows why)",
                  (long long)v->card_id, v->why, (long long)v->card_id);
    } else if (err == LEAL_E_CARD_TAMPERED) {
        say_error(d, err,
                  "card %lld does not verify: TAMPERED (its data or keys are not what leal "
                  "wrote); keep the card and block it",
                  (long long)v->card_id);
    } else if (err == LEAL_E_CARD_KEY_VERSION && v->missing_version) {
        const struct key_role_info *ri = keyset_role_info((enum key_role)v->missing_role);
        say_error(d, err,
                  "%s: the card's %s key is version %u, which this keystore does not hold (the "
                  "card is not tampered); use the keystore, or a backup of it, that holds that "
                  "version",
                  doing, ri ? ri->name : "?", v->missing_version);
    } else if (err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD) {
        say_error(d, err, "%s: the card left the reader before it was done; present it again",
                  doing);
    } else if (err == LEAL_E_CARD_BOUNDARY) {
        say_error(d, err,
                  "%s: card %lld's purse would pass the program's cap or the limit it was "
                  "issued with; nothing was written",
                  doing, (long long)v->card_id);
    } else if (detail && detail[0]) {
        say_error(d, err, "%s: %s: %s", doing, detail, leal_strerror(err));
    } else {
        say_error(d, err, "%s: %s", doing, leal_strerror(err));
    }
}

static void sleep_slice(void)
{
    nanosleep(&(struct timespec){.tv_nsec = (long)DESK_SLICE_MS * 1000000L}, NULL);
}

/* The reader went away (unplugged, pcscd stopped): it is opened again as
 * soon as it is back, for --timeout seconds; 0 once it is (or a signal came),
 * else exit 1. */
static int reader_lost(struct desk_loop *d, leal_err why)
{
    time_t end = time(NULL) + (time_t)d->timeout_s;
    leal_err err = why;
    say_event(d, "reader-gone", "reader %s is gone (%s); waiting %u s for it",
              reader_name(d->reader), leal_strerror(why), d->timeout_s);
    reader_close(d->reader);
    d->reader = NULL;
    while (!desk_stop) {
        if ((err = reader_open(opt(d, O_READER), &d->ro, &d->reader)) == LEAL_OK) {
            say_event(d, "reader-back", "reader %s is back", reader_name(d->reader));
            return 0;
        }
        if (time(NULL) >= end)
            break;
        sleep_slice();
    }
    if (desk_stop)
        return 0;
    return cli_error(err, CLI_EXIT_FAIL, "reader %s did not come back within %u s: %s",
                     opt(d, O_READER) ? opt(d, O_READER) : "(the first)", d->timeout_s,
                     leal_strerror(err));
}

/* Waits for a card in slices, so a signal is seen: LEAL_OK with a card
 * connected, LEAL_E_TIMEOUT after limit_ms (0: no limit) or a signal, or
 * the reader's error. */
static leal_err wait_card(struct desk_loop *d, unsigned limit_ms)
{
    unsigned waited = 0;
    while (!desk_stop) {
        unsigned slice = DESK_SLICE_MS;
        leal_err err;
        if (limit_ms && limit_ms - waited < slice)
            slice = limit_ms - waited;
        err = reader_wait_card(d->reader, slice);
        if (err != LEAL_E_NO_CARD && err != LEAL_E_TIMEOUT)
            return err;
        waited += slice;
        if (limit_ms && waited >= limit_ms)
            break;
    }
    return LEAL_E_TIMEOUT;
}

/* Until the card in the field has left: 0 to go on, or the exit code. */
static int wait_gone(struct desk_loop *d)
{
    while (!desk_stop) {
        leal_err err = reader_wait_removed(d->reader, DESK_SLICE_MS);
        if (err == LEAL_OK)
            return 0;
        if (err != LEAL_E_TIMEOUT)
            return desk_stop ? 0 : reader_lost(d, err);
    }
    return 0;
}

static void read_card(struct desk_loop *d)
{
    struct issuance_card v;
    leal_err err = issuance_read(&d->is, d->reader, &v);
    if (err == LEAL_OK)
        say_card(d, &v, DESK_VIEW_READ);
    else
        say_card_error(d, err, &v, "reading the card");
}

/* The loop of a desk: every card presented, one line each. */
static int run_cards(struct desk_loop *d)
{
    int rc = 0;
    say_event(d, "ready", "waiting for cards on %s (Ctrl-C ends)", reader_name(d->reader));
    while (rc == 0 && !desk_stop) {
        leal_err err = wait_card(d, 0);
        if (desk_stop)
            break;
        if (err == LEAL_E_NO_READER || err == LEAL_E_READER) {
            rc = reader_lost(d, err);
        } else if (err != LEAL_OK) {
            /* A card that cannot be talked to: said once, then it must go. */
            say_card_error(d, err, &(struct issuance_card){0}, "connecting to the card");
            rc = wait_gone(d);
        } else {
            read_card(d);
            rc = wait_gone(d);
        }
    }
    return rc;
}

/* The card for a --stdio command, waited for --timeout seconds: true with a
 * card connected; false after its error line (*rc set if the desk must end). */
static bool command_card(struct desk_loop *d, int *rc)
{
    leal_err err = wait_card(d, d->timeout_s * 1000u);
    if (err == LEAL_E_NO_READER || err == LEAL_E_READER) {
        say_error(d, err, "no card read: reader %s is gone", reader_name(d->reader));
        *rc = reader_lost(d, err);
        return false;
    }
    if (err == LEAL_E_TIMEOUT) {
        say_error(d, LEAL_E_NO_CARD, "no card on %s within %u s; present one and try again",
                  reader_name(d->reader), d->timeout_s);
        return false;
    }
    if (err != LEAL_OK) {
        say_card_error(d, err, &(struct issuance_card){0}, "connecting to the card");
        return false;
    }
    return true;
}

/* A read on the connection kept from the last command: a card that left
 * since fails the first exchange (nothing read or written), and the card in
 * the field then is read instead, once. */
static void read_kept(struct desk_loop *d, int *rc)
{
    struct issuance_card v;
    leal_err err = issuance_read(&d->is, d->reader, &v);
    if (err == LEAL_E_CARD_REMOVED) {
        if (!command_card(d, rc))
            return; /* its line said why */
        err = issuance_read(&d->is, d->reader, &v);
    }
    if (err == LEAL_OK)
        say_card(d, &v, DESK_VIEW_READ);
    else
        say_card_error(d, err, &v, "reading the card");
}

static void topup_card(struct desk_loop *d, const char *amount)
{
    struct issuance_card v;
    int64_t cents;
    leal_err err;
    if (amount == NULL || lcli_amount("EUR", amount, &cents) != LEAL_OK || cents <= 0) {
        say_error(d, LEAL_E_USAGE, "topup needs an amount in euros, like 20 or 12,50");
        return;
    }
    if ((err = issuance_topup(&d->is, d->reader, cents, &v)) == LEAL_OK)
        say_card(d, &v, DESK_VIEW_TOPPED_UP);
    else
        say_card_error(d, err, &v, "topping up the card");
}

/* bono sell KIND, bono use KIND: as `leal bono sell|use --kind KIND` (a sale
 * of the kind's sessions and price, lasting its valid days), on the card in
 * the field now, exactly once as there. */
static void bono_card(struct desk_loop *d, const char *what, const char *kind, int *rc)
{
    struct rules_bono_kind k;
    struct issuance_bono_sale sale;
    struct issuance_card v;
    struct rules_civil today;
    char name[LEDGER_RULES_NAME];
    uint32_t day;
    bool sell = what && strcmp(what, "sell") == 0;
    leal_err err;
    if (kind == NULL || (!sell && (what == NULL || strcmp(what, "use") != 0))) {
        say_error(d, LEAL_E_USAGE,
                  "bono needs sell or use and a bono kind (its name or id): bono use 10 masajes");
        return;
    }
    if ((err = desk_bono_kind_find(d->ledger, d->is.program_id, kind, &k, name, sizeof name)) ==
        LEAL_E_UNKNOWN_ID) {
        say_error(d, err,
                  "program %u has no bono kind '%.64s' ('leal bono list --program %u' shows "
                  "them); nothing was written",
                  d->is.program_id, kind, d->is.program_id);
        return;
    }
    if (err == LEAL_OK && (err = desk_today(&today, &day)) == LEAL_OK && sell &&
        (err = desk_bono_default_sale(&k, day, &sale)) == LEAL_E_RANGE) {
        say_error(d, err,
                  "bono %s would last past 2149-06-06; sell it with 'leal bono sell "
                  "--expires'",
                  name);
        return;
    }
    if (err != LEAL_OK) {
        say_card_error(d, err, &(struct issuance_card){0}, "the bono kind");
        return;
    }
    /* A bono write starts on a new connection, as a top-up: the card in the field now. */
    reader_release(d->reader);
    if (!command_card(d, rc))
        return;
    err = sell ? issuance_bono_sell(&d->is, d->reader, &sale, &v)
               : issuance_bono_use(&d->is, d->reader, k.id, &today, 0, &v);
    if (err == LEAL_OK)
        say_card(d, &v, sell ? DESK_VIEW_BONO_SOLD : DESK_VIEW_BONO_USED);
    else
        say_card_error(d, err, &v, sell ? "selling the bono" : "using the bono");
}

/* upgrade: as `leal card upgrade` (issuance_add_tmac), on the card in the
 * field now; run again, its line says tmac-present and nothing changed. */
static void upgrade_card(struct desk_loop *d, int *rc)
{
    struct issuance_card v;
    char why[320];
    leal_err err;
    /* A write starts on a new connection, as a top-up: the card in the field now. */
    reader_release(d->reader);
    if (!command_card(d, rc))
        return;
    err = issuance_add_tmac(&d->is, d->reader, &v);
    if (err == LEAL_OK)
        say_card(d, &v, v.tmac_added ? DESK_VIEW_TMAC_ADDED : DESK_VIEW_TMAC_PRESENT);
    else if (desk_cli_upgrade_refused(err, &v, why, sizeof why))
        say_error(d, err, "%s", why);
    else
        say_card_error(d, err, &v, "upgrading the card");
}

/* What is left of a command line after strtok_r, without the blanks around
 * it (a bono kind's name may hold spaces); NULL when nothing is. */
static const char *rest_of_line(char *rest)
{
    size_t n;
    if (rest == NULL)
        return NULL;
    rest += strspn(rest, " \t");
    n = strlen(rest);
    while (n > 0 && strchr(" \t\r\n", rest[n - 1]) != NULL)
        rest[--n] = '\0';
    return n > 0 ? rest : NULL;
}

/* One --stdio command line: 1 for quit, 0 to go on, or the exit code + 2. */
static int run_command(struct desk_loop *d, char *line)
{
    char *save = NULL, *cmd = strtok_r(line, " \t\r\n", &save);
    char *arg = strtok_r(NULL, " \t\r\n", &save);
    int rc = 0;
    if (cmd == NULL)
        return 0; /* an empty line asks nothing */
    if (strcmp(cmd, "quit") == 0 && arg == NULL) {
        say_event(d, "bye", "the desk ends");
        return 1;
    }
    if (strcmp(cmd, "read") == 0 && arg == NULL) {
        if (command_card(d, &rc))
            read_kept(d, &rc);
    } else if (strcmp(cmd, "topup") == 0 && strtok_r(NULL, " \t\r\n", &save) == NULL) {
        /* A top-up starts on a new connection: only the card in the field now. */
        reader_release(d->reader);
        if (arg == NULL || command_card(d, &rc))
            topup_card(d, arg);
    } else if (strcmp(cmd, "bono") == 0) {
        bono_card(d, arg, rest_of_line(save), &rc);
    } else if (strcmp(cmd, "upgrade") == 0 && arg == NULL) {
        upgrade_card(d, &rc);
    } else {
        say_error(d, LEAL_E_USAGE,
                  "unknown command '%.64s' (read, topup EUR, bono sell|use KIND, upgrade, quit)",
                  cmd);
    }
    /* The card stays connected for the next command (read_kept). */
    return rc ? rc + 2 : 0;
}

static int run_stdio(struct desk_loop *d)
{
    char line[256];
    say_event(d, "ready",
              "reading commands (read, topup EUR, bono sell|use KIND, upgrade, quit) for %s",
              reader_name(d->reader));
    while (!desk_stop && fgets(line, sizeof line, stdin) != NULL) {
        int rc;
        if (strchr(line, '\n') == NULL && !feof(stdin)) {
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n')
                ;
            say_error(d, LEAL_E_USAGE,
                      "command line too long (read, topup EUR, bono sell|use KIND, upgrade, quit)");
            continue;
        }
        if ((rc = run_command(d, line)) == 1)
            break;
        if (rc > 1)
            return rc - 2;
    }
    return 0;
}

/* Keys, ledger and reader, once for the whole run. */
static int open_desk(struct desk_loop *d)
{
    struct desk_key_request req = {.keystore_path = opt(d, O_KEYSTORE),
                                   .passphrase_file = opt(d, O_PASSFILE),
                                   .roles = DESK_ROLES_CARD};
    int64_t program = 0, t = 10, store = 0;
    leal_err err;
    int rc;
    if (opt(d, O_STORE) && lcli_id(opt(d, O_STORE), &store) != LEAL_OK)
        return cli_usage("bad --store '%s' (the id leal store add printed)", opt(d, O_STORE));
    if (opt(d, O_PROGRAM) &&
        (lcli_id(opt(d, O_PROGRAM), &program) != LEAL_OK || program > UINT32_MAX))
        return cli_usage("bad --program '%s'", opt(d, O_PROGRAM));
    if (opt(d, O_TIMEOUT) && (lcli_id(opt(d, O_TIMEOUT), &t) != LEAL_OK || t > 3600))
        return cli_usage("bad --timeout '%s' (seconds, 1..3600)", opt(d, O_TIMEOUT));
    d->timeout_s = (unsigned)t;
    req.program_id = (uint32_t)program;
    if ((err = desk_keys_acquire(&req, &d->dk)) != LEAL_OK)
        return cli_desk_keys_fail(&d->dk, err, opt(d, O_PASSFILE), program);
    if ((rc = lcli_open(opt(d, O_DB), &d->ledger)) != 0)
        return rc;
    d->is = (struct issuance){.ledger = d->ledger,
                              .keys = d->dk.keys,
                              .cp = d->dk.cp,
                              .program_id = d->dk.program_id,
                              .operator_name =
                                  opt(d, O_OPERATOR) ? opt(d, O_OPERATOR) : getenv("USER")};
    if ((err = ledger_desk_store(d->ledger, d->dk.program_id, store, &d->is.store_id)) != LEAL_OK)
        return lcli_fail(d->ledger, err, "--store: the desk's store must be one of its program's");
    d->ro.allow_virtual = opt(d, O_VIRTUAL) != NULL;
    if ((err = reader_open(opt(d, O_READER), &d->ro, &d->reader)) != LEAL_OK) {
        if (err == LEAL_E_VIRTUAL_READER)
            return cli_fail(err,
                            "reader %s is vsmartcard's test reader (it listens on the "
                            "network)",
                            opt(d, O_READER) ? opt(d, O_READER) : "");
        return cli_fail(err, "opening the reader %s", opt(d, O_READER) ? opt(d, O_READER) : "");
    }
    return 0;
}

int cmd_desk(int argc, char **argv)
{
    static const char *const names[O_COUNT] = {
        "reader",          "allow-virtual", "timeout",  "json",  "db",   "keystore",
        "passphrase-file", "program",       "operator", "stdio", "store"};
    struct desk_loop d;
    struct sigaction sa;
    size_t npos = 0;
    int rc;
    memset(&d, 0, sizeof d);
    for (int i = 0; i < O_COUNT; i++) {
        d.opts[i].name = names[i];
        d.opts[i].is_flag = i == O_VIRTUAL || i == O_JSON || i == O_STDIO;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(desk_usage, stdout);
            return CLI_EXIT_OK;
        }
    if ((rc = lcli_parse(argc, argv, d.opts, O_COUNT, NULL, &npos)) != 0)
        return rc;
    d.json = opt(&d, O_JSON) != NULL;
    /* A signal ends the loop between cards: a read in progress is finished. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((rc = open_desk(&d)) == 0)
        rc = opt(&d, O_STDIO) ? run_stdio(&d) : run_cards(&d);
    reader_close(d.reader);
    ledger_close(d.ledger);
    desk_keys_release(&d.dk);
    return rc;
}
