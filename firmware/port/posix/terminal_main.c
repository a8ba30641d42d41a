/*
 * terminal_main.c - leal-terminal, the offline terminal on a POSIX system
 * (issue 13, firmware/port/posix): init, load, status, journal export and
 * ack, and what every command shares (options, errors, opening the folder).
 * Every command opens the terminal's data folder (posix_terminal.h: the
 * bundle once, the journal, the package store), does one thing and closes
 * it. Only the terminal_*.c files print or exit; terminal_commands.c picks
 * the command.
 * Exit codes: 0 done, 1 failed (storage, bundle, passphrase, clock), 2 bad
 * usage or refused input (a package or an acknowledgment this terminal does
 * not take, a file that is not what it should be).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firmware/port/posix/posix_terminal.h"
#include "firmware/port/posix/terminal_cli.h"
#include "host/keys/passphrase.h"
#include "keys/hosted/secmem.h"

#ifndef LEAL_VERSION
#define LEAL_VERSION "0.0.0"
#endif

#define ACK_FILE_MAX 4096

static const char usage_text[] =
    "usage: leal-terminal COMMAND [options]\n"
    "\n"
    "The offline terminal of one leal program: keys from a terminal bundle, rules and hot list\n"
    "from a signed package, every operation in a MACed journal for the host.\n"
    "\n"
    "Commands:\n"
    "  init --bundle FILE     make the terminal in --data DIR from a bundle ('leal keys\n"
    "                         export-terminal'); the bundle's passphrase is asked once\n"
    "  load PACKAGE           verify a package ('leal terminal package') and keep it, in two\n"
    "                         copies so that a cut load leaves the previous one in force\n"
    "  status [--json]        package version and validity, journal size, entries not yet\n"
    "                         synced, last acknowledgment\n"
    "  journal export -o FILE the entries the host has not acknowledged, for 'leal sync\n"
    "                         import'\n"
    "  journal ack FILE       apply the host's acknowledgment ('leal sync ack'): the entries it\n"
    "                         names may then be erased\n"
    "  sync --server https://HOST:PORT [--pin sha256//BASE64]\n"
    "                         upload the journal to 'leal serve --terminals' and apply its\n"
    "                         ack, then load the newest package it holds; the server's key\n"
    "                         must be a pinned one (--pin, else the bundle's pins, else\n"
    "                         DIR/server.pin)\n"
    "  tap OPERATION --reader SPEC\n"
    "                         one tap: waits for a card (--timeout SECONDS, default 10), does\n"
    "                         the operation, journals it, prints one line (or --json)\n"
    "  run OPERATION --reader SPEC\n"
    "                         the same for every card presented, one line each, until Ctrl-C\n"
    "  serve --stdio --reader SPEC\n"
    "                         the board's till lines on standard input (EARN 2350, PAY 300,\n"
    "                         PAYEARN 200 1000, REDEEM ID, STAMP N, BONO ID, VOID, BALANCE,\n"
    "                         EXPORT, END), one answer line each on standard output, until\n"
    "                         END or the end of input; a tap waits --timeout SECONDS (10)\n"
    "\n"
    "Operations: --earn EUR [--category CODE=EUR]... | --pay EUR [--earn EUR] | --redeem\n"
    "REWARD-ID | --stamp CARD (1-4) | --bono BONO-ID | --void (this terminal's last operation\n"
    "on the card, while run is running) | --balance. The store, its zone and the Classic\n"
    "purse cap are the package's (--store ID only where the package names no store).\n"
    "Readers: pcsc:NAME, nfc:CONNSTRING, sim:CARD.json (--allow-virtual for vpcd's readers).\n"
    "A QR code instead of a card: tap --qr TEXT (- reads a scanner's line from standard\n"
    "input) or --qr-image FILE (PNG or JPEG), with --earn, --pay, --stamp or --bono; no reader.\n"
    "A phone's spending code also takes --redeem REWARD-ID, within the points the package\n"
    "says the ledger holds for that phone (leal qr enrol --redeem-allowance).\n"
    "\n"
    "Options:\n"
    "  --data DIR             the terminal's folder (default $XDG_DATA_HOME/leal-terminal)\n"
    "  --passphrase-file FILE the bundle's passphrase (else LEAL_BUNDLE_PASSPHRASE, else a\n"
    "                         prompt); the bundle is opened once per command\n"
    "  --json                 machine-readable output (status, load, journal export)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad usage or refused input; tap: 3 card refused "
    "(journaled),\n"
    "4 no card, 5 no answer at the commit (tap the card here again to settle it).\n";

int term_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("leal-terminal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* 2 for what the user handed in, 1 for what failed under us. */
int term_exit_code(leal_err err)
{
    if (err == LEAL_OK)
        return EXIT_DONE;
    if (err == LEAL_E_ARG || err == LEAL_E_USAGE || err == LEAL_E_EXISTS || err == LEAL_E_FORMAT ||
        err == LEAL_E_TOO_LARGE ||
        (err >= LEAL_E_PACKAGE_FORMAT_VERSION && err <= LEAL_E_PACKAGE_RULES) ||
        err == LEAL_E_JOURNAL_FORMAT_VERSION || err == LEAL_E_JOURNAL_MALFORMED ||
        err == LEAL_E_JOURNAL_MAC || err == LEAL_E_JOURNAL_TERMINAL ||
        err == LEAL_E_JOURNAL_ACK_STALE || err == LEAL_E_JOURNAL_ACK_UNKNOWN)
        return EXIT_USAGE;
    return EXIT_FAILED;
}

static void fmt_utc(uint64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, cap, "@%llu", (unsigned long long)t);
}

void term_json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int term_usage(const char *fmt, const char *arg)
{
    fputs("leal-terminal: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see 'leal-terminal --help')\n", stderr);
    return EXIT_USAGE;
}

/* The option that takes a value at argv[*i], into *slot. */
static int take_value(int argc, char **argv, int *i, const char **slot)
{
    if (*i + 1 >= argc || argv[*i + 1][0] == '\0')
        return term_usage("%s needs a value", argv[*i]);
    *slot = argv[++*i];
    return EXIT_DONE;
}

/* tap's and run's options: 1 if argv[*i] was one (*rc its exit code). */
static int parse_tap_option(int argc, char **argv, int *i, struct opts *o, int *rc)
{
    const struct {
        const char *name;
        const char **slot;
    } valued[] = {
        {"--reader", &o->reader},     {"--earn", &o->earn},   {"--pay", &o->pay},
        {"--redeem", &o->redeem},     {"--stamp", &o->stamp}, {"--bono", &o->bono},
        {"--timeout", &o->timeout},   {"--store", &o->store}, {"--qr", &o->qr},
        {"--qr-image", &o->qr_image},
    };
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
        if (strcmp(a, valued[k].name) == 0) {
            *rc = take_value(argc, argv, i, valued[k].slot);
            return 1;
        }
    if (strcmp(a, "--category") == 0) {
        if (o->ncategories == RULES_MAX_ITEMS) {
            *rc = term_usage("more than %s --category lines in one sale", "16");
            return 1;
        }
        *rc = take_value(argc, argv, i, &o->categories[o->ncategories]);
        o->ncategories++;
        return 1;
    }
    if (strcmp(a, "--void") == 0)
        o->void_last = true;
    else if (strcmp(a, "--balance") == 0)
        o->balance = true;
    else if (strcmp(a, "--allow-virtual") == 0)
        o->allow_virtual = true;
    else
        return 0;
    *rc = EXIT_DONE;
    return 1;
}

/* term_parse (terminal_cli.h). */
int term_parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = EXIT_DONE;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_DONE;
        } else if (strcmp(a, "--version") == 0) {
            printf("leal-terminal %s\n", LEAL_VERSION);
            return EXIT_DONE;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--stdio") == 0) {
            o->stdio = true;
        } else if (strcmp(a, "--data") == 0) {
            rc = take_value(argc, argv, &i, &o->data);
        } else if (strcmp(a, "--passphrase-file") == 0) {
            rc = take_value(argc, argv, &i, &o->pass_file);
        } else if (strcmp(a, "--server") == 0) {
            rc = take_value(argc, argv, &i, &o->server);
        } else if (strcmp(a, "--pin") == 0) {
            rc = take_value(argc, argv, &i, &o->pin);
        } else if (strcmp(a, "--bundle") == 0) {
            rc = take_value(argc, argv, &i, &o->bundle);
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            rc = take_value(argc, argv, &i, &o->out);
        } else if (parse_tap_option(argc, argv, &i, o, &rc)) {
            /* taken */
        } else if (a[0] == '-' && a[1] != '\0') {
            return term_usage("unknown option %s", a);
        } else if (o->npos == (int)(sizeof o->pos / sizeof o->pos[0])) {
            return term_usage("unexpected argument '%s'", a);
        } else {
            o->pos[o->npos++] = a;
        }
        if (rc != EXIT_DONE)
            return rc;
    }
    if (o->data == NULL) {
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && xdg[0])
            snprintf(o->data_default, sizeof o->data_default, "%s/leal-terminal", xdg);
        else if (home && home[0])
            snprintf(o->data_default, sizeof o->data_default, "%s/.local/share/leal-terminal",
                     home);
        else
            return term_usage("%s", "no --data DIR, and neither XDG_DATA_HOME nor HOME is set");
        o->data = o->data_default;
    }
    return -1;
}

static int passphrase_fail(leal_err err, const char *file)
{
    switch (err) {
    case LEAL_E_NO_PASSPHRASE:
        if (file)
            return term_fail(EXIT_USAGE,
                             "passphrase file %s is empty: its first line is the bundle "
                             "passphrase",
                             file);
        return term_fail(EXIT_USAGE, "no bundle passphrase: give --passphrase-file FILE, set "
                                     "LEAL_BUNDLE_PASSPHRASE, or run on a terminal");
    case LEAL_E_NOT_FOUND:
        return term_fail(EXIT_USAGE, "passphrase file %s does not exist", file ? file : "");
    case LEAL_E_TOO_LARGE:
        return term_fail(EXIT_USAGE, "the bundle passphrase is longer than %d bytes",
                         LEAL_MAX_PASSPHRASE);
    case LEAL_E_FORMAT:
        return term_fail(EXIT_USAGE, "passphrase file %s has a NUL byte in its first line",
                         file ? file : "");
    default:
        return term_fail(term_exit_code(err), "passphrase: %s", leal_strerror(err));
    }
}

/* The one line for an open or init that stopped at t->stage. */
static int open_fail(const struct posix_terminal *t, leal_err err, const struct opts *o,
                     const char *bundle)
{
    if (t->stage == POSIX_STAGE_BUNDLE) {
        switch (err) {
        case LEAL_E_PASSPHRASE:
            return term_fail(EXIT_FAILED,
                             "bundle %s does not open: wrong passphrase, or the file was "
                             "altered; give the passphrase 'leal keys export-terminal' "
                             "was given",
                             bundle);
        case LEAL_E_NOT_FOUND:
            return term_fail(EXIT_USAGE, "bundle %s does not exist", bundle);
        case LEAL_E_FORMAT:
            return term_fail(EXIT_USAGE, "%s is not a leal terminal bundle", bundle);
        case LEAL_E_KEYSTORE_CORRUPT:
            return term_fail(EXIT_FAILED,
                             "bundle %s is damaged; export it again with 'leal keys "
                             "export-terminal'",
                             bundle);
        default:
            return term_fail(term_exit_code(err), "bundle %s: %s", bundle, leal_strerror(err));
        }
    }
    if (err == LEAL_E_NOT_FOUND && t->stage == POSIX_STAGE_FOLDER)
        return term_fail(EXIT_USAGE,
                         "no terminal in %s: make one with 'leal-terminal init --bundle "
                         "FILE --data %s'",
                         o->data, o->data);
    if (err == LEAL_E_EXISTS)
        return term_fail(EXIT_USAGE,
                         "%s already holds a terminal; a terminal is made once: use "
                         "another folder",
                         o->data);
    if (err == LEAL_E_READER_BUSY)
        return term_fail(EXIT_FAILED,
                         "%s is in use by another leal-terminal command; try again when "
                         "it ends",
                         o->data);
    if (t->stage == POSIX_STAGE_JOURNAL)
        return term_fail(term_exit_code(err) == EXIT_USAGE ? EXIT_FAILED : term_exit_code(err),
                         "journal in %s: %s", o->data, leal_strerror(err));
    if (t->stage == POSIX_STAGE_PACKAGE)
        return term_fail(EXIT_FAILED, "package store in %s: %s", o->data, leal_strerror(err));
    return term_fail(term_exit_code(err), "%s: %s", o->data, leal_strerror(err));
}

/* What opening the journal found, when it is news: one line on stderr. */
static void journal_notes(const struct posix_terminal *t)
{
    const struct journal_report *r = &t->journal_report;
    if (r->status == JOURNAL_TORN)
        fprintf(stderr,
                "leal-terminal: note: the journal's last entry (epoch %u, sequence %u) was cut "
                "by a power loss and is lost; a recovery entry stands in for it\n",
                r->lost.epoch, r->lost.seq);
    else if (r->status == JOURNAL_DAMAGED)
        fprintf(stderr,
                "leal-terminal: note: the journal has %u damaged or unchained entries; a new "
                "epoch (%u) began, and the host's import will say which\n",
                r->n_problems, r->head.epoch);
    if (t->journal_read_only)
        fprintf(stderr, "leal-terminal: note: %s\n", leal_strerror(LEAL_E_JOURNAL_FULL));
}

/* The storage hook of a test build (term_main's caller), NULL in leal-terminal. */
static const struct term_test_hook *test_hook;

void term_set_test_hook(const struct term_test_hook *hook)
{
    test_hook = hook;
}

/* Opens (or with bundle, makes) the terminal; *out is secmem memory. */
int term_open(const struct opts *o, const char *bundle, struct posix_terminal **out)
{
    struct passphrase pass;
    struct posix_terminal *t;
    struct posix_terminal_open po;
    char bundle_path[PATH_MAX];
    leal_err err;
    int rc;
    *out = NULL;
    if ((err = passphrase_get(o->pass_file, "LEAL_BUNDLE_PASSPHRASE", "bundle", false, &pass)) !=
        LEAL_OK)
        return passphrase_fail(err, o->pass_file);
    if ((t = secmem_alloc(sizeof *t)) == NULL) {
        passphrase_clear(&pass);
        return term_fail(EXIT_FAILED, "%s", leal_strerror(LEAL_E_NO_MEMORY));
    }
    po = (struct posix_terminal_open){o->data, pass.text, pass.len,
                                      test_hook ? test_hook->wrap_storage : NULL,
                                      test_hook ? test_hook->ctx : NULL};
    err = bundle ? posix_terminal_init(t, &po, bundle) : posix_terminal_open(t, &po);
    passphrase_clear(&pass);
    if (err != LEAL_OK) {
        snprintf(bundle_path, sizeof bundle_path, "%s/%s", o->data, POSIX_BUNDLE_FILE);
        rc = open_fail(t, err, o, bundle ? bundle : bundle_path);
        secmem_free(t);
        return rc;
    }
    journal_notes(t);
    *out = t;
    return EXIT_DONE;
}

void term_close(struct posix_terminal *t)
{
    posix_terminal_close(t);
    secmem_free(t);
}

int cmd_init(const struct opts *o)
{
    struct posix_terminal *t;
    char until[32];
    int rc;
    if (o->bundle == NULL || o->npos != 1)
        return term_usage("%s", "init needs --bundle FILE (and --data DIR)");
    if ((rc = term_open(o, o->bundle, &t)) != EXIT_DONE)
        return rc;
    fmt_utc(t->info.expires, until, sizeof until);
    if (o->json) {
        printf("{\"data\":");
        term_json_str(o->data);
        printf(",\"issuer_id\":\"%08x\",\"program\":%u,\"terminal\":%u,"
               "\"bundle_valid_until_at\":%llu,\"journal_epoch\":%u}\n",
               t->info.issuer_id, t->info.program_id, t->info.terminal_id,
               (unsigned long long)t->info.expires, t->journal_report.head.epoch);
    } else {
        printf("terminal %u of program %u made in %s (bundle valid until %s); load a package "
               "next: leal-terminal load FILE\n",
               t->info.terminal_id, t->info.program_id, o->data, until);
    }
    term_close(t);
    return EXIT_DONE;
}

/* The one line for a package load refused. */
static int load_fail(leal_err err, const char *file, const uint8_t *p, size_t len,
                     const struct posix_terminal *t)
{
    const struct package_source src = {package_memory_read, (void *)(uintptr_t)p, (uint32_t)len};
    struct package_info info;
    char when[32];
    if (err == LEAL_E_PACKAGE_EXPIRED && package_parse(&src, &info) == LEAL_OK) {
        fmt_utc(info.valid_until, when, sizeof when);
        return term_fail(EXIT_USAGE,
                         "package %s (version %u) expired on %s: build a new one with "
                         "'leal terminal package'",
                         file, info.version, when);
    }
    if ((err == LEAL_E_PACKAGE_SAME || err == LEAL_E_PACKAGE_OLDER) && t->package.loaded)
        return term_fail(EXIT_USAGE, "package %s: %s (version %u is loaded)", file,
                         leal_strerror(err), t->package.info.version);
    if (err == LEAL_E_TOO_LARGE)
        return term_fail(EXIT_USAGE,
                         "package %s is larger than this terminal's package store (%u "
                         "bytes)",
                         file, t->store.capacity);
    return term_fail(term_exit_code(err), "package %s: %s", file, leal_strerror(err));
}

int cmd_load(const struct opts *o)
{
    struct package_key keys[PACKAGE_MAX_KEYS];
    struct package_expect e;
    struct posix_terminal *t;
    struct port_time now;
    uint8_t *p = NULL;
    size_t len = 0;
    char until[32];
    leal_err err;
    int rc;
    if (o->npos != 2)
        return term_usage("%s", "load needs one PACKAGE file");
    if ((err = posix_file_read(o->pos[1], PACKAGE_MAX_SIZE, &p, &len)) != LEAL_OK)
        return err == LEAL_E_NOT_FOUND
                   ? term_fail(EXIT_USAGE, "package %s does not exist", o->pos[1])
                   : term_fail(term_exit_code(err), "package %s: %s", o->pos[1],
                               leal_strerror(err));
    if ((rc = term_open(o, NULL, &t)) != EXIT_DONE) {
        free(p);
        return rc;
    }
    if ((err = posix_now(NULL, &now)) != LEAL_OK ||
        (err = posix_terminal_expect(t, now.utc_seconds, keys, &e)) != LEAL_OK)
        rc = term_fail(EXIT_FAILED, "clock or keys: %s", leal_strerror(err));
    else if ((err = package_store_load(&t->store, t->cp, &e, &t->package, p, (uint32_t)len)) !=
             LEAL_OK)
        rc = load_fail(err, o->pos[1], p, len, t);
    else {
        const struct package_info *i = &t->package.info;
        fmt_utc(i->valid_until, until, sizeof until);
        if (o->json) {
            printf("{\"file\":");
            term_json_str(o->pos[1]);
            printf(",\"version\":%u,\"valid_until_at\":%llu,\"hot_list\":%u,\"floors\":%u,"
                   "\"bytes\":%u}\n",
                   i->version, (unsigned long long)i->valid_until, i->hot_count, i->floor_count,
                   i->size);
        } else
            printf("package version %u loaded: valid until %s, %u hot-listed cards, %u floors\n",
                   i->version, until, i->hot_count, i->floor_count);
    }
    free(p);
    term_close(t);
    return rc;
}

static void status_text(const struct posix_terminal *t, const struct journal_status_info *js,
                        uint64_t now)
{
    char when[32];
    fmt_utc(t->info.expires, when, sizeof when);
    printf("terminal     %u of program %u (issuer %08x)\n", t->info.terminal_id, t->info.program_id,
           t->info.issuer_id);
    printf("bundle       valid until %s\n", when);
    if (t->package.loaded) {
        const struct package_info *i = &t->package.info;
        fmt_utc(i->valid_until, when, sizeof when);
        printf("package      version %u, %s %s%s\n", i->version,
               now >= i->valid_until ? "EXPIRED on" : "valid until", when,
               now >= i->valid_until ? ": load a new one (taps are refused)" : "");
    } else {
        printf("package      none: load one with 'leal-terminal load FILE' (taps are refused)\n");
    }
    printf("journal      %u of %u slots used, %u entries not synced, newest epoch %u sequence "
           "%u\n",
           js->slots_used, js->slots, js->unacked, js->head.epoch, js->head.seq);
    if (js->last_ack_utc == 0 && js->acked.epoch == 0) {
        printf("last ack     never\n");
    } else {
        fmt_utc(js->last_ack_utc, when, sizeof when);
        printf("last ack     %s, up to epoch %u sequence %u\n", when, js->acked.epoch,
               js->acked.seq);
    }
}

static void status_json(const struct posix_terminal *t, const struct journal_status_info *js,
                        uint64_t now)
{
    printf("{\"issuer_id\":\"%08x\",\"program\":%u,\"terminal\":%u,\"bundle_valid_until_at\":%llu,",
           t->info.issuer_id, t->info.program_id, t->info.terminal_id,
           (unsigned long long)t->info.expires);
    if (t->package.loaded) {
        const struct package_info *i = &t->package.info;
        printf("\"package\":{\"version\":%u,\"issued_at\":%llu,\"valid_until_at\":%llu,"
               "\"expired\":%s,\"hot_list\":%u,\"floors\":%u,\"copies_valid\":%u},",
               i->version, (unsigned long long)i->issued, (unsigned long long)i->valid_until,
               now >= i->valid_until ? "true" : "false", i->hot_count, i->floor_count,
               t->package_copies);
    } else {
        printf("\"package\":null,");
    }
    printf("\"journal\":{\"slots\":%u,\"slots_used\":%u,\"unsynced\":%u,\"appends_left\":%u,"
           "\"epoch\":%u,\"seq\":%u},",
           js->slots, js->slots_used, js->unacked, js->appends_left, js->head.epoch, js->head.seq);
    if (js->last_ack_utc == 0 && js->acked.epoch == 0)
        printf("\"last_ack\":null}\n");
    else
        printf("\"last_ack\":{\"at\":%llu,\"epoch\":%u,\"seq\":%u}}\n",
               (unsigned long long)js->last_ack_utc, js->acked.epoch, js->acked.seq);
}

int cmd_status(const struct opts *o)
{
    struct journal_status_info js;
    struct posix_terminal *t;
    struct port_time now;
    leal_err err;
    int rc;
    if (o->npos != 1)
        return term_usage("%s", "status takes no argument");
    if ((rc = term_open(o, NULL, &t)) != EXIT_DONE)
        return rc;
    if ((err = journal_status(&t->journal, &js)) != LEAL_OK ||
        (err = posix_now(NULL, &now)) != LEAL_OK) {
        term_close(t);
        return term_fail(EXIT_FAILED, "status: %s", leal_strerror(err));
    }
    if (o->json)
        status_json(t, &js, now.utc_seconds);
    else
        status_text(t, &js, now.utc_seconds);
    term_close(t);
    return EXIT_DONE;
}

leal_err term_journal_export(struct posix_terminal *t, uint8_t **out,
                             struct journal_export_info *info, struct journal_status_info *js)
{
    size_t cap;
    uint8_t *buf;
    leal_err err;
    *out = NULL;
    if ((err = journal_status(&t->journal, js)) != LEAL_OK)
        return err;
    cap = JOURNAL_EXPORT_HEADER_LEN + JOURNAL_MAC_LEN + (size_t)js->slots * JOURNAL_ENTRY_MAX;
    if ((buf = malloc(cap)) == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = journal_export(&t->journal, buf, cap, info)) != LEAL_OK) {
        free(buf);
        return err;
    }
    *out = buf;
    return LEAL_OK;
}

static int journal_export_cmd(const struct opts *o, struct posix_terminal *t)
{
    struct journal_export_info info;
    struct journal_status_info js;
    uint8_t *buf;
    leal_err err = term_journal_export(t, &buf, &info, &js);
    if (err == LEAL_E_JOURNAL_EMPTY) {
        printf(o->json ? "{\"file\":null,\"count\":0}\n"
                       : "nothing to export: the host has acknowledged every entry; no file "
                         "written\n");
        return EXIT_DONE;
    }
    if (err == LEAL_OK)
        err = posix_file_replace(o->out, buf, info.len, 0644);
    free(buf);
    if (err != LEAL_OK)
        return term_fail(EXIT_FAILED, "journal export to %s: %s", o->out, leal_strerror(err));
    if (o->json) {
        printf("{\"file\":");
        term_json_str(o->out);
        printf(",\"terminal\":%u,\"epoch\":%u,\"first_seq\":%u,\"last_seq\":%u,\"count\":%u,"
               "\"bytes\":%zu,\"unsynced_after\":%u}\n",
               info.terminal_id, info.epoch, info.first_seq, info.last_seq, info.count, info.len,
               js.unacked - info.count);
    } else {
        printf("exported %u entries (terminal %u, epoch %u, sequences %u to %u) to %s; after "
               "'leal sync import', apply the host's answer with 'leal-terminal journal ack'\n",
               info.count, info.terminal_id, info.epoch, info.first_seq, info.last_seq, o->out);
        if (js.unacked > info.count)
            printf("%u more entries wait: export again once this export is acknowledged\n",
                   js.unacked - info.count);
    }
    return EXIT_DONE;
}

static int journal_ack_cmd(const struct opts *o, struct posix_terminal *t)
{
    struct journal_status_info js;
    struct port_time now;
    uint8_t *p;
    size_t len;
    leal_err err;
    if ((err = posix_file_read(o->pos[2], ACK_FILE_MAX, &p, &len)) != LEAL_OK)
        return err == LEAL_E_NOT_FOUND
                   ? term_fail(EXIT_USAGE, "acknowledgment %s does not exist", o->pos[2])
                   : term_fail(term_exit_code(err), "acknowledgment %s: %s", o->pos[2],
                               leal_strerror(err));
    if ((err = posix_now(NULL, &now)) == LEAL_OK)
        err = journal_ack(&t->journal, p, len, &now);
    free(p);
    if (err != LEAL_OK)
        return term_fail(term_exit_code(err), "acknowledgment %s: %s", o->pos[2],
                         leal_strerror(err));
    if ((err = journal_status(&t->journal, &js)) != LEAL_OK)
        return term_fail(EXIT_FAILED, "journal: %s", leal_strerror(err));
    if (o->json)
        printf("{\"epoch\":%u,\"seq\":%u,\"unsynced\":%u}\n", js.acked.epoch, js.acked.seq,
               js.unacked);
    else
        printf("acknowledged up to epoch %u sequence %u; %u entries not synced\n", js.acked.epoch,
               js.acked.seq, js.unacked);
    return EXIT_DONE;
}

int cmd_journal(const struct opts *o)
{
    struct posix_terminal *t;
    int rc;
    int export = o->npos == 2 && strcmp(o->pos[1], "export") == 0;
    int ack = o->npos == 3 && strcmp(o->pos[1], "ack") == 0;
    if (!export && !ack)
        return term_usage("%s", "journal needs 'export -o FILE' or 'ack FILE'");
    if (export && o->out == NULL)
        return term_usage("%s", "journal export needs -o FILE");
    if ((rc = term_open(o, NULL, &t)) != EXIT_DONE)
        return rc;
    rc = export ? journal_export_cmd(o, t) : journal_ack_cmd(o, t);
    term_close(t);
    return rc;
}
