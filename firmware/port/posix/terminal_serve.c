/*
 * terminal_serve.c - `leal-terminal serve --stdio`: the Cortex-M board's till
 * protocol (firmware/port/cortex-m/till.c) on a PC. A till program writes the
 * board's lines on standard input; each is split as the board splits them
 * (till_line_split), a tap line parsed by the board's till_line_request and
 * run through the same core (terminal_tap) as `leal-terminal tap`, and each
 * line answered on standard output in the board's words: a tap's operator
 * line after "show ", then "ok done|refused|in-doubt card N points P entry
 * EPOCH/SEQ" (a refusal shows "REFUSED: NAME"); a line that is not taken,
 * "error NAME" (keys/base/err.h: codes only, as the board's flash holds no
 * sentences; the till translates), refused before any card is asked, so that neither the
 * card nor the journal changes. EXPORT answers "ok export HEX" (the entries
 * the host has not acknowledged, JOURNAL.md; nothing is marked); END answers
 * "ok end" and ends, as the end of the input does (exit 0). The board's own
 * lines (TIME, SEED, BUNDLE, FORMAT, LOAD, STACK, COST, WIPE) are refused with
 * LEAL_E_TILL_BOARD_LINE: here the system gives the clock and randomness, and
 * init and load the keys and the package. The terminal stays open across
 * lines, so VOID undoes its last operation, as on the board.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/till_line.h"
#include "firmware/port/posix/terminal_cli.h"
#include "host/reader/reader.h"

/* The bytes of a line kept: more than any line the board takes (a word, a
 * space and TILL_LINE_ARGS_MAX of arguments). The rest of a longer line is
 * read and dropped; what was kept is then refused as the board refuses it. */
#define SERVE_LINE_KEEP 512u
#define SERVE_TIMEOUT_S 10

/* The next line of in (its '\n' taken off) into line, at most
 * SERVE_LINE_KEEP bytes of it, *len them; false at the end of the input. */
static bool read_line(FILE *in, char line[SERVE_LINE_KEEP + 1], size_t *len)
{
    size_t n = 0;
    bool any = false;
    int c;
    while ((c = getc(in)) != EOF && c != '\n') {
        any = true;
        if (n < SERVE_LINE_KEEP)
            line[n++] = (char)c;
    }
    *len = n;
    return c == '\n' || any;
}

static bool board_line(const char *word)
{
    static const char *const words[] = {"TIME", "SEED",  "BUNDLE", "FORMAT",
                                        "LOAD", "STACK", "COST",   "WIPE"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(word, words[i]) == 0)
            return true;
    return false;
}

/* The operator's line as the board's port shows it: after "show ". */
static leal_err serve_show(void *ctx, const char *line, size_t len)
{
    if (fputs("show ", stdout) == EOF)
        return LEAL_E_IO;
    return posix_show(ctx, line, len);
}

/* One tap of the card in the field, answered as the board answers it. */
static leal_err serve_tap(struct term_tapper *tp, const struct terminal_request *req,
                          unsigned timeout_ms)
{
    static const char *const outcomes[] = {"?", "done", "refused", "in-doubt"};
    struct terminal_card card;
    struct terminal_result res;
    leal_err err = term_tapper_card(tp, timeout_ms, &card);
    if (err == LEAL_OK) {
        memset(&res, 0, sizeof res);
        err = terminal_tap(&tp->term, &card, req, &res);
    }
    reader_release(tp->r);
    if (err == LEAL_E_TIMEOUT)
        err = LEAL_E_NO_CARD; /* no card came in time: the board's answer */
    if (err != LEAL_OK)
        return err;
    term_print_line(serve_show, &tp->t->package, &res, true);
    printf("ok %s card %llu points %u entry %u/%u\n", outcomes[res.outcome <= 3 ? res.outcome : 0],
           (unsigned long long)res.card_id, res.after.points, res.entry.epoch, res.entry.seq);
    return LEAL_OK;
}

static leal_err serve_export(struct term_tapper *tp)
{
    struct journal_export_info info;
    struct journal_status_info js;
    uint8_t *buf;
    leal_err err = term_journal_export(tp->t, &buf, &info, &js);
    if (err != LEAL_OK)
        return err;
    fputs("ok export ", stdout);
    for (size_t i = 0; i < info.len; i++)
        printf("%02x", buf[i]);
    putchar('\n');
    free(buf);
    return LEAL_OK;
}

/* One line's answer (nothing for a blank line); *end after END. */
static void serve_line(struct term_tapper *tp, char *line, size_t len, unsigned timeout_ms,
                       bool *end)
{
    struct terminal_request req;
    const char *w, *a;
    bool spaced;
    leal_err err = till_line_split(line, len, &w, &a, &spaced);
    if ((err == LEAL_OK || err == LEAL_E_TOO_LARGE) && board_line(w))
        err = LEAL_E_TILL_BOARD_LINE;
    else if (err != LEAL_OK || (*w == '\0' && !spaced))
        ; /* refused, or a blank line the board skips */
    else if (strcmp(w, "END") == 0 && !spaced)
        *end = true;
    else if (strcmp(w, "EXPORT") == 0 && !spaced)
        err = serve_export(tp);
    else if ((err = till_line_request(w, a, &req)) == LEAL_OK)
        err = serve_tap(tp, &req, timeout_ms);
    if (err != LEAL_OK)
        printf("error %s\n", leal_errname(err));
    else if (*end)
        puts("ok end");
}

int cmd_serve(const struct opts *o)
{
    static char line[SERVE_LINE_KEEP + 1];
    struct term_tapper tp;
    uint32_t seconds = SERVE_TIMEOUT_S;
    size_t len;
    bool end = false;
    int rc;
    if (o->npos != 1)
        return term_usage("%s", "serve takes options only (see --help)");
    if (!o->stdio)
        return term_usage("%s", "serve needs --stdio: the till's lines on standard input, the "
                                "answers on standard output");
    if (o->earn || o->pay || o->redeem || o->stamp || o->bono || o->void_last || o->balance ||
        o->ncategories > 0 || o->qr || o->qr_image || o->json)
        return term_usage("%s", "serve takes each tap from a till line (EARN 2350, PAY 300, ...), "
                                "not from --earn, --pay, --qr or --json");
    if (o->timeout && (rc = term_parse_u32("--timeout", o->timeout, 0, 3600, &seconds)) != 0)
        return rc;
    if ((rc = term_tapper_open(o, &tp)) != EXIT_DONE)
        return rc;
    puts("till: ready");
    while (!end && fflush(stdout) == 0 && read_line(stdin, line, &len))
        serve_line(&tp, line, len, seconds * 1000u, &end);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = term_fail(EXIT_FAILED, "%s",
                       "standard output: the till's answers could not be written");
    term_tapper_close(&tp);
    return rc;
}
