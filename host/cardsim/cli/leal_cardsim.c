/*
 * leal_cardsim.c - the `leal-cardsim` program: make virtual cards and present
 * them to the real pcscd through vsmartcard's vpcd driver.
 *
 *   leal-cardsim new --type TYPE [--uid HEX | --random-uid] -o CARD.json
 *   leal-cardsim serve --vpcd [HOST:]PORT [--control FIFO] CARD.json
 *   leal-cardsim serve --pn532 LINK [--trace FILE] CARD.json | --empty   (serve_pn532.c)
 *
 * Taps while serving: write a line to the control FIFO (made if missing):
 *   remove              the card leaves the field (vpcd socket closed)
 *   insert              the card comes back
 *   tap                 remove, and insert again 1.5 s later
 *   load PATH           swap in another card file (saved first), then insert
 *   tear POINT N [STEP] arm a tear at the Nth exchange from now; POINT is
 *                       before-command, before-answer or inside-commit (STEP:
 *                       commit steps done before power is lost)
 *   quit                save and stop
 * Signals: SIGUSR1 = tap, SIGTERM/SIGINT = save and stop. The card file is
 * written (atomically) after every exchange that changed the card.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/cardsim/cardsim.h"
#include "host/cardsim/pcsc_face.h"
#include "host/cardsim/vpcd.h"
#include "keys/base/hex.h"
#include "serve_pn532.h"

#define EXIT_USAGE 2

static int fail(leal_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(leal_err err, const char *fmt, ...)
{
    va_list ap;
    fputs("leal-cardsim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", leal_strerror(err));
    return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("leal-cardsim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see 'leal-cardsim --help')\n", stderr);
    return EXIT_USAGE;
}

static void usage(FILE *f)
{
    fputs("usage: leal-cardsim new --type TYPE [--uid HEX | --random-uid] [--originality-key PEM]\n"
          "                        -o CARD.json [--force]\n"
          "       leal-cardsim serve --vpcd [HOST:]PORT [--control FIFO] CARD.json\n"
          "       leal-cardsim serve --pn532 LINK [--trace FILE] CARD.json | --empty\n\n"
          "A virtual MIFARE card whose EEPROM is a JSON file. 'new' makes a blank card with\n"
          "factory keys; TYPE is desfire-ev1, desfire-ev2 or desfire-ev3 (optionally -2k,\n"
          "-4k, -8k), "
          "classic-1k or classic-4k (UID of 4 or 7 bytes; keys FFFFFFFFFFFF, access\n"
          "FF0780). --originality-key signs an EV2/EV3 card's UID with that secp224r1\n"
          "private key as NXP does at production (Read_Sig answers it; default: the key\n"
          "file named by LEAL_CARDSIM_ORIGINALITY_KEY; without either, zeros). A test key\n"
          "only: leal trusts it when LEAL_ORIGINALITY_TEST_KEY holds its public key.\n"
          "'serve' presents the card to pcscd through vsmartcard's vpcd driver (the\n"
          "reader 'Virtual PCD'); taps go through the control FIFO or signals:\n"
          "  remove | insert | tap | load PATH | tear POINT N [STEP] | quit\n"
          "  (SIGUSR1 taps; SIGTERM saves and stops). POINT: before-command,\n"
          "  before-answer, inside-commit.\n"
          "'serve --pn532' presents the card behind an emulated PN532 on a pseudo-terminal\n"
          "linked at LINK, for libnfc: LIBNFC_DEVICE=pn532_uart:$(readlink LINK)\n"
          "LIBNFC_AUTO_SCAN=false nfc-list (SIGTERM saves and stops; SIGHUP cycles the\n"
          "reader's power: the line flushed, the PN532 as at power-on, the card loaded\n"
          "again from its file); --empty: no card in its field.\n",
          f);
}

/* Hex bytes, optionally separated by ':' or ' ' (as tools print UIDs). */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0, one;
    while (*s) {
        if (*s == ':' || *s == ' ') {
            s++;
            continue;
        }
        /* s[1] is the NUL at worst, which the decoder refuses. */
        if (n >= cap || leal_hex_decode(s, 2, out + n, cap - n, &one) != LEAL_OK)
            return -1;
        n += one;
        s += 2;
    }
    return (long)n;
}

static int cmd_new(int argc, char **argv)
{
    const char *type = NULL, *out = NULL, *sign_key = NULL;
    uint8_t uid[10];
    long uid_len = -1;
    bool random_uid = false, force = false;
    struct cardsim *card = NULL;
    struct stat st;
    leal_err err;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
            type = argv[++i];
        } else if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc) {
            uid_len = parse_hex(argv[++i], uid, sizeof uid);
            if (uid_len != 7 && uid_len != 4)
                return usage_error("--uid needs 7 bytes in hex (DESFire, Classic) or 4 (Classic), "
                                   "e.g. 04A1B2C3D4E5F6");
        } else if (strcmp(argv[i], "--random-uid") == 0) {
            random_uid = true;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--originality-key") == 0 && i + 1 < argc) {
            sign_key = argv[++i];
        } else if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
                   i + 1 < argc) {
            out = argv[++i];
        } else {
            return usage_error("new: unexpected argument '%s'", argv[i]);
        }
    }
    if (type == NULL || out == NULL)
        return usage_error("new needs --type TYPE and -o CARD.json");
    if (uid_len > 0 && random_uid)
        return usage_error("--uid and --random-uid exclude each other");
    if (uid_len == 4 && strncmp(type, "classic", 7) != 0)
        return usage_error(
            "a 4-byte --uid is for classic-1k/classic-4k; DESFire UIDs have 7 bytes");
    if (!force && stat(out, &st) == 0)
        return usage_error("%s exists; a card file is a card: pass --force to replace it", out);
    err = cardsim_new(type, uid_len > 0 ? uid : NULL, uid_len > 0 ? (size_t)uid_len : 0, random_uid,
                      &card);
    if (err == LEAL_E_CARD_UNKNOWN)
        return usage_error(
            "unknown card type '%s' (desfire-ev1, desfire-ev2, desfire-ev3; -2k/-4k/-8k; "
            "classic-1k, classic-4k)",
            type);
    if (err == LEAL_E_ARG)
        return usage_error("--uid is not a valid UID for %s (88, the cascade tag, cannot "
                           "start it)",
                           type);
    if (err == LEAL_E_UNSUPPORTED)
        return usage_error("--random-uid is a DESFire feature; Classic UIDs are fixed");
    if (err != LEAL_OK)
        return fail(err, "making the card");
    /* EV2/EV3: the originality signature, from --originality-key or else
     * LEAL_CARDSIM_ORIGINALITY_KEY (tests set it once for every card). */
    if (sign_key == NULL &&
        (strncmp(type, "desfire-ev2", 11) == 0 || strncmp(type, "desfire-ev3", 11) == 0))
        sign_key = getenv("LEAL_CARDSIM_ORIGINALITY_KEY");
    if (sign_key != NULL && (err = cardsim_sign_originality(card, sign_key)) != LEAL_OK) {
        cardsim_free(card);
        if (err == LEAL_E_UNSUPPORTED)
            return usage_error("--originality-key is for desfire-ev2 and desfire-ev3 (an EV1 has "
                               "no originality signature)");
        return usage_error("%s: not a readable PEM private key on secp224r1 (make one with "
                           "'openssl ecparam -name secp224r1 -genkey -noout')",
                           sign_key);
    }
    err = cardsim_save(card, out);
    cardsim_free(card);
    if (err != LEAL_OK)
        return fail(err, "writing %s", out);
    return 0;
}

/* ---------------------------------------------------------------- serve */

static volatile sig_atomic_t got_quit, got_tap;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        got_tap = 1;
    else
        got_quit = 1;
}

struct server {
    const char *host;
    uint16_t port;
    char path[4096];
    struct cardsim *card;
    struct pcsc_face face;
    int fd;
    bool removed;
    double reinsert_at; /* 0: none */
    bool quit;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void disconnect(struct server *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    pcsc_face_power_off(&s->face);
}

static int sync_card(struct server *s)
{
    leal_err err = cardsim_sync(s->card, s->path);
    if (err != LEAL_OK)
        return fail(err, "saving %s", s->path);
    return 0;
}

static int control_line(struct server *s, char *line)
{
    char *argv[5] = {0};
    int argc = 0;
    {
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\r", &save); t && argc < 5;
             t = strtok_r(NULL, " \t\r", &save))
            argv[argc++] = t;
    }
    if (argc == 0)
        return 0;
    if (strcmp(argv[0], "remove") == 0) {
        disconnect(s);
        s->removed = true;
        s->reinsert_at = 0;
    } else if (strcmp(argv[0], "insert") == 0) {
        s->removed = false;
    } else if (strcmp(argv[0], "tap") == 0) {
        disconnect(s);
        s->removed = true;
        s->reinsert_at = now() + 1.5;
    } else if (strcmp(argv[0], "load") == 0 && argc == 2) {
        struct cardsim *c = NULL;
        leal_err err;
        disconnect(s);
        if (sync_card(s) != 0)
            return 1;
        if ((err = cardsim_load(argv[1], &c)) != LEAL_OK) {
            fail(err, "loading %s (keeping the current card)", argv[1]);
        } else if (strlen(argv[1]) >= sizeof s->path) {
            cardsim_free(c);
        } else {
            cardsim_free(s->card);
            s->card = c;
            memcpy(s->path, argv[1], strlen(argv[1]) + 1);
            pcsc_face_init(&s->face, s->card);
        }
        s->removed = false;
    } else if (strcmp(argv[0], "tear") == 0 && argc >= 3) {
        struct cardsim_tear t;
        memset(&t, 0, sizeof t);
        if (strcmp(argv[1], "before-command") == 0)
            t.point = CARDSIM_TEAR_BEFORE_COMMAND;
        else if (strcmp(argv[1], "before-answer") == 0)
            t.point = CARDSIM_TEAR_BEFORE_ANSWER;
        else if (strcmp(argv[1], "inside-commit") == 0)
            t.point = CARDSIM_TEAR_INSIDE_COMMIT;
        else {
            fprintf(stderr, "leal-cardsim: control: unknown tear point '%s'\n", argv[1]);
            return 0;
        }
        t.after = (unsigned)strtoul(argv[2], NULL, 10);
        t.commit_step = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
        cardsim_set_tear(s->card, &t);
    } else if (strcmp(argv[0], "quit") == 0) {
        s->quit = true;
    } else {
        fprintf(stderr, "leal-cardsim: control: unknown command '%s'\n", argv[0]);
    }
    return 0;
}

static int read_control(struct server *s, int ctl, char *acc, size_t *acc_len, size_t acc_cap)
{
    for (;;) {
        ssize_t n = read(ctl, acc + *acc_len, acc_cap - 1 - *acc_len);
        char *nl;
        if (n <= 0)
            return 0;
        *acc_len += (size_t)n;
        acc[*acc_len] = '\0';
        while ((nl = strchr(acc, '\n')) != NULL) {
            *nl = '\0';
            if (control_line(s, acc) != 0)
                return 1;
            memmove(acc, nl + 1, strlen(nl + 1) + 1);
            *acc_len = strlen(acc);
        }
        if (*acc_len >= acc_cap - 1)
            *acc_len = 0; /* a line too long for a command: drop it */
    }
}

static int serve_message(struct server *s)
{
    uint8_t msg[LEAL_MAX_APDU + 16], out[LEAL_MAX_RAPDU + 64];
    struct vpcd_reply reply = {.p = out, .cap = sizeof out};
    size_t len;
    leal_err err = vpcd_read_message(s->fd, msg, sizeof msg, &len);
    if (err != LEAL_OK) {
        /* vpcd went away (pcscd stopped or restarted): connect again. */
        disconnect(s);
        return 0;
    }
    err = vpcd_handle(&s->face, msg, len, &reply);
    if (err == LEAL_E_CARD_REMOVED) {
        /* Torn: no answer, the card is out of the field until 'insert'. */
        disconnect(s);
        s->removed = true;
        return sync_card(s);
    }
    if (err != LEAL_OK) {
        fail(err, "answering vpcd");
        disconnect(s);
        return 0;
    }
    if (reply.send && vpcd_write_message(s->fd, reply.p, reply.len) != LEAL_OK)
        disconnect(s);
    return len > 1 ? sync_card(s) : 0;
}

/* --vpcd [HOST:]PORT into s->host (pointing into hostbuf) and s->port. */
static int parse_vpcd(const char *vpcd, char *hostbuf, size_t cap, struct server *s)
{
    const char *colon = strrchr(vpcd, ':');
    unsigned long port;
    char *end;
    if (colon) {
        size_t hl = (size_t)(colon - vpcd);
        if (hl == 0 || hl >= cap)
            return usage_error("bad --vpcd '%s': use HOST:PORT or PORT", vpcd);
        memcpy(hostbuf, vpcd, hl);
        hostbuf[hl] = '\0';
        s->host = hostbuf;
        vpcd = colon + 1;
    }
    errno = 0;
    port = strtoul(vpcd, &end, 0);
    if (errno || *end || port == 0 || port > 65535)
        return usage_error("bad vpcd port '%s' (1..65535; Debian's vpcd uses 35963)", vpcd);
    s->port = (uint16_t)port;
    return 0;
}

/* The control FIFO, made if missing; *ctl -1 without one. */
static int open_control(const char *control, int *ctl)
{
    *ctl = -1;
    if (control == NULL)
        return 0;
    if (mkfifo(control, 0600) != 0 && errno != EEXIST)
        return fail(LEAL_E_IO, "making the control FIFO %s", control);
    /* Read-write, so that writers closing it never give us end-of-file. */
    if ((*ctl = open(control, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
        return fail(LEAL_E_IO, "opening the control FIFO %s", control);
    return 0;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

/* A tap (SIGUSR1) takes the card out for 1.5 s; then it comes back. */
static int next_timeout(struct server *s)
{
    int timeout = -1;
    if (got_tap) {
        got_tap = 0;
        disconnect(s);
        s->removed = true;
        s->reinsert_at = now() + 1.5;
    }
    if (s->removed && s->reinsert_at > 0 && now() >= s->reinsert_at) {
        s->removed = false;
        s->reinsert_at = 0;
    }
    if (!s->removed && s->fd < 0 && vpcd_connect(s->host, s->port, &s->fd) != LEAL_OK)
        timeout = 100; /* vpcd not listening yet: try again shortly */
    if (s->removed && s->reinsert_at > 0)
        timeout = 50;
    return timeout;
}

/* Answers vpcd and the control FIFO until told to quit. */
static int serve_loop(struct server *s, int ctl)
{
    char acc[1024];
    size_t acc_len = 0;
    int rc = 0;
    while (!s->quit && !got_quit) {
        struct pollfd p[2];
        int np = 0, timeout = next_timeout(s);
        if (s->fd >= 0) {
            p[np].fd = s->fd;
            p[np++].events = POLLIN;
        }
        if (ctl >= 0) {
            p[np].fd = ctl;
            p[np++].events = POLLIN;
        }
        if (poll(p, (nfds_t)np, timeout) < 0) {
            if (errno == EINTR)
                continue;
            return fail(LEAL_E_IO, "waiting for vpcd");
        }
        for (int i = 0; i < np && rc == 0; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (p[i].fd == ctl)
                rc = read_control(s, ctl, acc, &acc_len, sizeof acc);
            else if (p[i].fd == s->fd)
                rc = serve_message(s);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    const char *vpcd = NULL, *control = NULL, *card_path = NULL, *pn532 = NULL, *trace = NULL;
    struct server s;
    char hostbuf[256];
    bool empty = false;
    int ctl = -1, rc = 0;
    leal_err err;

    memset(&s, 0, sizeof s);
    s.fd = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--vpcd") == 0 && i + 1 < argc) {
            vpcd = argv[++i];
        } else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
            control = argv[++i];
        } else if (strcmp(argv[i], "--pn532") == 0 && i + 1 < argc) {
            pn532 = argv[++i];
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            trace = argv[++i];
        } else if (strcmp(argv[i], "--empty") == 0) {
            empty = true;
        } else if (argv[i][0] != '-' && card_path == NULL) {
            card_path = argv[i];
        } else {
            return usage_error("serve: unexpected argument '%s'", argv[i]);
        }
    }
    if (pn532 && (vpcd || control))
        return usage_error("serve: --pn532 and --vpcd/--control exclude each other");
    if (empty && (pn532 == NULL || card_path))
        return usage_error("serve: --empty goes with --pn532 and no card file");
    if (pn532 && (card_path || empty))
        return cardsim_serve_pn532(pn532, card_path, trace);
    if (trace)
        return usage_error("serve: --trace goes with --pn532");
    if (vpcd == NULL || card_path == NULL)
        return usage_error("serve needs --vpcd [HOST:]PORT or --pn532 LINK, and a card file");
    if ((rc = parse_vpcd(vpcd, hostbuf, sizeof hostbuf, &s)) != 0)
        return rc;
    if (strlen(card_path) >= sizeof s.path)
        return usage_error("card file path too long");
    memcpy(s.path, card_path, strlen(card_path) + 1);
    if ((err = cardsim_load(s.path, &s.card)) != LEAL_OK)
        return fail(err, "loading %s", s.path);
    pcsc_face_init(&s.face, s.card);
    if ((rc = open_control(control, &ctl)) != 0) {
        cardsim_free(s.card);
        return rc;
    }
    catch_signals();
    fprintf(stderr, "leal-cardsim: serving %s (%s) on vpcd %s:%u\n", s.path, cardsim_type(s.card),
            s.host ? s.host : "localhost", (unsigned)s.port);
    rc = serve_loop(&s, ctl);
    disconnect(&s);
    if (rc == 0)
        rc = sync_card(&s);
    if (ctl >= 0)
        close(ctl);
    cardsim_free(s.card);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("leal-cardsim %s\n", LEAL_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "new") == 0)
        return cmd_new(argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", argv[1]);
}
