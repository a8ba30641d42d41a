/*
 * serve_pn532.c - the card behind an emulated PN532 on a pseudo-terminal,
 * for libnfc's pn532_uart driver:
 *   leal-cardsim serve --pn532 LINK CARD.json | --empty
 *   LIBNFC_DEVICE=pn532_uart:$(readlink LINK) LIBNFC_AUTO_SCAN=false nfc-list
 * The pty's name is linked at LINK (and printed); the card file is saved
 * after every exchange that changed the card; SIGTERM/SIGINT save, remove the
 * link and stop (exit 0). --trace FILE writes each host command and answer
 * as a line of hex without the TFI ("> 4a0100", "< 4b00"; "< " alone for the
 * syntax-error frame). --empty (card_path NULL): a PN532 with no card in
 * its field, which finds no target.
 * SIGHUP cycles the power of the reader as a board's power cut would (a
 * test's board that resets itself, tests/integration/firmware_cuts.sh):
 * the line is flushed both ways (a half-sent frame and an unread answer
 * are lost), the PN532 starts again from its power-on state, and the card,
 * out of the field, is loaded again from its file (what it last saved: its
 * committed state; what an exchange had not committed is gone). The same as
 * stopping and starting the server, but on the same pty, which the board's
 * UART stays connected to. Each cycle writes "leal-cardsim: power cycle N"
 * to stderr once done.
 */
#include "serve_pn532.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "host/cardsim/cardsim.h"
#include "host/cardsim/pn532_emu.h"
#include "keys/base/hex.h"
#include "keys/base/limits.h"

static volatile sig_atomic_t stop; /* 1: stop; 2: a power cycle (SIGHUP) */

static void trace_line(void *ctx, bool from_host, const uint8_t *body, size_t len)
{
    FILE *f = ctx;
    char hex[2 * LEAL_MAX_PN532_FRAME + 1];
    if (len == 0 || leal_hex_encode(body + 1, len - 1, false, hex, sizeof hex) != LEAL_OK)
        hex[0] = '\0';
    fprintf(f, "%s %s\n", from_host ? ">" : "<", hex);
    fflush(f);
}

static void on_stop(int sig)
{
    if (sig == SIGHUP) {
        if (stop == 0)
            stop = 2;
        return;
    }
    stop = 1;
}

/* SIGHUP's power cycle: a fresh PN532 and the card again from card_path. */
static leal_err power_cycle(struct pn532_pty *pty, const char *card_path, FILE *trace,
                            struct cardsim **card, struct pn532_emu **emu)
{
    leal_err err;
    pn532_emu_free(*emu);
    *emu = NULL;
    cardsim_free(*card);
    *card = NULL;
    if ((err = pn532_pty_flush(pty)) != LEAL_OK ||
        (card_path && (err = cardsim_load(card_path, card)) != LEAL_OK) ||
        (err = pn532_emu_new(*card, emu)) != LEAL_OK)
        return err;
    if (trace)
        pn532_emu_set_trace(*emu, trace_line, trace);
    return LEAL_OK;
}

int cardsim_serve_pn532(const char *link, const char *card_path, const char *trace_path)
{
    FILE *trace = NULL;
    struct cardsim *card = NULL;
    struct pn532_emu *emu = NULL;
    struct pn532_pty *pty = NULL;
    struct sigaction sa;
    leal_err err;
    int rc = 1;

    if (card_path && (err = cardsim_load(card_path, &card)) != LEAL_OK) {
        fprintf(stderr, "leal-cardsim: loading %s: %s\n", card_path, leal_strerror(err));
        return 1;
    }
    if ((err = pn532_emu_new(card, &emu)) != LEAL_OK) {
        fprintf(stderr, "leal-cardsim: %s\n", leal_strerror(err));
        goto out;
    }
    if (trace_path) {
        if ((trace = fopen(trace_path, "w")) == NULL) {
            fprintf(stderr, "leal-cardsim: cannot write the trace file %s\n", trace_path);
            goto out;
        }
        pn532_emu_set_trace(emu, trace_line, trace);
    }
    if ((err = pn532_pty_open(link, &pty)) != LEAL_OK) {
        if (err == LEAL_E_EXISTS)
            fprintf(stderr,
                    "leal-cardsim: %s exists and is not a symlink; name another path for "
                    "--pn532\n",
                    link);
        else
            fprintf(stderr, "leal-cardsim: making the pseudo-terminal at %s: %s\n", link,
                    leal_strerror(err));
        goto out;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (card)
        fprintf(stderr, "leal-cardsim: serving %s (%s) on a PN532 at %s -> %s\n", card_path,
                cardsim_type(card), link, pn532_pty_name(pty));
    else
        fprintf(stderr, "leal-cardsim: a PN532 with no card in its field at %s -> %s\n", link,
                pn532_pty_name(pty));
    for (unsigned long cycles = 1;; cycles++) {
        if ((err = pn532_pty_run(pty, emu, card, card_path, &stop)) != LEAL_OK) {
            fprintf(stderr, "leal-cardsim: serving the PN532: %s\n", leal_strerror(err));
            goto out;
        }
        if (stop != 2)
            break;
        if ((err = power_cycle(pty, card_path, trace, &card, &emu)) != LEAL_OK) {
            fprintf(stderr, "leal-cardsim: power cycle: loading %s again: %s\n",
                    card_path ? card_path : "no card", leal_strerror(err));
            goto out;
        }
        fprintf(stderr, "leal-cardsim: power cycle %lu\n", cycles);
        if (stop == 2)
            stop = 0; /* a SIGTERM meanwhile still stops */
    }
    if (card && (err = cardsim_sync(card, card_path)) != LEAL_OK) {
        fprintf(stderr, "leal-cardsim: saving %s: %s\n", card_path, leal_strerror(err));
        goto out;
    }
    rc = 0;
out:
    if (trace)
        fclose(trace);
    pn532_pty_close(pty);
    pn532_emu_free(emu);
    cardsim_free(card);
    return rc;
}
