/*
 * terminal_tap.c - `leal-terminal tap` (one card, one operation) and
 * `leal-terminal run` (every card presented, until SIGINT or SIGTERM): the
 * POSIX port around firmware/core/terminal.h. The reader is host/reader's
 * (pcsc:, nfc:, sim:), its struct card_reader handed to the core through the
 * port; the operator's line goes out through the port's show (stdout).
 * The terminal, its bundle and journal are opened once per command: `run`
 * keeps them open across taps (and so remembers its last operation, which
 * --void needs; a one-shot tap forgets it with the process).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/terminal.h"
#include "firmware/port/posix/terminal_cli.h"
#include "host/reader/reader.h"

#define TAP_TIMEOUT_S 10
#define RUN_POLL_MS 500

/* The euro amount in s ("23,50", "23.5", "7") in cents, 0 < cents <= max. */
static int parse_cents(const char *opt, const char *s, int64_t max, int64_t *out)
{
    int64_t euros = 0, cents = 0;
    int digits = 0, decimals = -1;
    for (const char *p = s; *p; p++) {
        if ((*p == ',' || *p == '.') && decimals < 0 && digits > 0) {
            decimals = 0;
        } else if (*p >= '0' && *p <= '9' && decimals < 2 && digits < 9) {
            if (decimals < 0) {
                euros = euros * 10 + (*p - '0');
                digits++;
            } else {
                cents = cents * 10 + (*p - '0');
                decimals++;
            }
        } else {
            decimals = 9;
            break;
        }
    }
    if (decimals == 1)
        cents *= 10;
    if (digits == 0 || decimals == 9 || decimals == 0 || euros * 100 + cents == 0 ||
        euros * 100 + cents > max) {
        fprintf(stderr,
                "leal-terminal: %s '%s': write euros like 23,50 or 3 (more than 0, at most "
                "%lld.%02lld)\n",
                opt, s, (long long)(max / 100), (long long)(max % 100));
        return EXIT_USAGE;
    }
    *out = euros * 100 + cents;
    return EXIT_DONE;
}

int term_parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "leal-terminal: %s '%s': a whole number from %u to %u\n", opt, s, lo, hi);
        return EXIT_USAGE;
    }
    *out = (uint32_t)v;
    return EXIT_DONE;
}

/* --category CODE=EUR into an item of the sale. */
static int parse_category(const char *s, struct rules_item *it)
{
    char code[16];
    const char *eq = strchr(s, '=');
    uint32_t c;
    int rc;
    if (eq == NULL || (size_t)(eq - s) >= sizeof code || eq == s)
        return term_usage("--category '%s': write CODE=EUR, e.g. 3=3,20 (the category's code in "
                          "'leal sale category list')",
                          s);
    memcpy(code, s, (size_t)(eq - s));
    code[eq - s] = '\0';
    if ((rc = term_parse_u32("--category", code, 1, UINT16_MAX, &c)) != EXIT_DONE ||
        (rc = parse_cents("--category", eq + 1, RULES_MAX_SALE_CENTS, &it->amount_cents)) !=
            EXIT_DONE)
        return rc;
    it->category = (uint16_t)c;
    it->quantity = 1;
    return EXIT_DONE;
}

/* The one operation the options name. */
static int build_request(const struct opts *o, struct terminal_request *req)
{
    int ops =
        (o->earn || o->pay) + !!o->redeem + !!o->stamp + !!o->bono + o->void_last + o->balance;
    uint32_t v;
    int rc = EXIT_DONE;
    memset(req, 0, sizeof *req);
    if (ops != 1)
        return term_usage("%s", "name one operation: --earn EUR, --pay EUR (with --earn EUR), "
                                "--redeem ID, --stamp CARD, --bono ID, --void or --balance");
    if (o->ncategories > 0 && o->earn == NULL)
        return term_usage("%s", "--category goes with --earn (the sale's lines)");
    if (o->earn && (rc = parse_cents("--earn", o->earn, RULES_MAX_SALE_CENTS, &req->amount_cents)))
        return rc;
    if (o->pay && (rc = parse_cents("--pay", o->pay, RULES_MAX_SALE_CENTS, &req->pay_cents)))
        return rc;
    for (int i = 0; i < o->ncategories; i++)
        if ((rc = parse_category(o->categories[i], &req->items[i])) != EXIT_DONE)
            return rc;
    req->n_items = (uint8_t)o->ncategories;
    if (o->earn || o->pay)
        req->op = o->earn && o->pay ? TERMINAL_PAY_EARN : o->earn ? TERMINAL_EARN : TERMINAL_PAY;
    else if (o->redeem &&
             (rc = term_parse_u32("--redeem", o->redeem, 1, UINT32_MAX, &req->item)) == 0)
        req->op = TERMINAL_REDEEM;
    else if (o->stamp &&
             (rc = term_parse_u32("--stamp", o->stamp, 1, RULES_STAMP_CARDS, &v)) == 0) {
        req->op = TERMINAL_STAMP;
        req->item = v - 1;
    } else if (o->bono && (rc = term_parse_u32("--bono", o->bono, 1, UINT32_MAX, &req->item)) == 0)
        req->op = TERMINAL_BONO;
    else if (o->void_last)
        req->op = TERMINAL_VOID;
    else if (o->balance)
        req->op = TERMINAL_BALANCE;
    return rc;
}

/* A MIFARE Classic announces itself by PC/SC part 3's storage-card ATR
 * (standard 0x0001 1K, 0x0002 4K); anything else is taken as an ISO 14443-4
 * DESFire (the core tells other cards apart by their answers). */
static uint8_t card_type(const struct reader_card *c)
{
    static const uint8_t rid[] = {0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06};
    const uint8_t *h = c->atr + 4;
    if (c->atr_len >= 4 + 11 && memcmp(h, rid, sizeof rid) == 0 && h[9] == 0x00 &&
        (h[10] == 0x01 || h[10] == 0x02))
        return TERMINAL_CARD_CLASSIC;
    return TERMINAL_CARD_DESFIRE;
}

void term_tapper_close(struct term_tapper *tp)
{
    terminal_close(&tp->term);
    if (tp->r)
        reader_close(tp->r);
    if (tp->t)
        term_close(tp->t);
}

int term_tapper_open(const struct opts *o, struct term_tapper *tp)
{
    const struct reader_options ro = {o->allow_virtual};
    struct terminal_setup s;
    leal_err err;
    int rc;
    memset(tp, 0, sizeof *tp);
    if (o->reader == NULL)
        return term_usage("%s", "--reader SPEC is needed (pcsc:NAME, nfc:CONNSTRING, sim:FILE)");
    memset(&s, 0, sizeof s);
    if ((rc = term_stand(o, "tap", &tp->t, &s.cfg)) != EXIT_DONE)
        return rc;
    if ((err = reader_open(o->reader, &ro, &tp->r)) != LEAL_OK) {
        term_tapper_close(tp);
        return term_fail(term_exit_code(err), "reader %s: %s", o->reader, leal_strerror(err));
    }
    term_stand_setup(tp->t, reader_card_reader(tp->r), &tp->port, &s);
    if ((err = terminal_open(&tp->term, &s)) != LEAL_OK) {
        term_tapper_close(tp);
        return term_fail(EXIT_FAILED, "terminal: %s", leal_strerror(err));
    }
    return EXIT_DONE;
}

static const char *op_name(uint8_t op)
{
    static const char *names[] = {"?",     "earn", "pay",  "pay+earn", "redeem",
                                  "stamp", "bono", "void", "balance",  "top-up"};
    return op < sizeof names / sizeof names[0] ? names[op] : "?";
}

static void euros(int64_t cents, char *out, size_t cap)
{
    snprintf(out, cap, "%s%lld.%02lld", cents < 0 ? "-" : "", (long long)(llabs(cents) / 100),
             (long long)(llabs(cents) % 100));
}

/* What a void undid, in the till's words: the bono by the name the package
 * gives it (its id where it names none). */
static void void_words(const struct package_terminal *pk, const struct terminal_result *r,
                       const char *left, char *out, size_t cap)
{
    struct package_name name;
    char back[24];
    bool found = false;
    switch (r->voided_op) {
    case TERMINAL_BONO:
        if (package_name_find(&pk->info, &pk->source, PACKAGE_NAME_BONO, r->voided_item, &found,
                              &name) != LEAL_OK)
            found = false;
        if (found)
            snprintf(out, cap, "voided the session of bono %u (%s): %u left", r->voided_item,
                     name.text, r->bono_left);
        else
            snprintf(out, cap, "voided the session of bono %u: %u left", r->voided_item,
                     r->bono_left);
        break;
    case TERMINAL_STAMP:
        snprintf(out, cap, "voided the stamp on card %u: stamps %u %u %u %u", r->voided_item + 1,
                 r->after.stamps[0], r->after.stamps[1], r->after.stamps[2], r->after.stamps[3]);
        break;
    case TERMINAL_PAY:
    case TERMINAL_PAY_EARN:
        euros((int64_t)r->purse_after - r->purse_before, back, sizeof back);
        snprintf(out, cap, "voided the %s: %s euros back, %s left; %u -> %u points",
                 op_name(r->voided_op), back, left, r->before.points, r->after.points);
        break;
    default:
        snprintf(out, cap, "voided the %s: %u -> %u points", op_name(r->voided_op),
                 r->before.points, r->after.points);
    }
}

/* What a DONE tap did, for the shop assistant. */
static void done_words(const struct package_terminal *pk, const struct terminal_result *r,
                       char *out, size_t cap)
{
    char left[24], paid[24];
    euros(r->purse_after, left, sizeof left);
    euros((int64_t)r->purse_before - r->purse_after, paid, sizeof paid);
    switch (r->op) {
    case TERMINAL_EARN:
        snprintf(out, cap, "%+lld points, %u -> %u", (long long)r->points, r->before.points,
                 r->after.points);
        break;
    case TERMINAL_PAY:
        snprintf(out, cap, "paid %s, %s euros left", paid, left);
        break;
    case TERMINAL_PAY_EARN:
        snprintf(out, cap, "paid %s, %s euros left; %+lld points, %u -> %u", paid, left,
                 (long long)r->points, r->before.points, r->after.points);
        break;
    case TERMINAL_REDEEM:
        snprintf(out, cap, "reward redeemed: %u -> %u points", r->before.points, r->after.points);
        break;
    case TERMINAL_STAMP:
        snprintf(out, cap, "stamped: stamps %u %u %u %u", r->after.stamps[0], r->after.stamps[1],
                 r->after.stamps[2], r->after.stamps[3]);
        break;
    case TERMINAL_BONO:
        snprintf(out, cap, "bono session used: %u left", r->bono_left);
        break;
    case TERMINAL_VOID:
        void_words(pk, r, left, out, cap);
        break;
    default:
        snprintf(out, cap, "%u points, %s euros, stamps %u %u %u %u", r->after.points, left,
                 r->after.stamps[0], r->after.stamps[1], r->after.stamps[2], r->after.stamps[3]);
    }
}

void term_print_line(leal_err (*show)(void *, const char *, size_t),
                     const struct package_terminal *pk, const struct terminal_result *r,
                     bool till_names)
{
    char what[PORT_SHOW_MAX + 1], line[2 * PORT_SHOW_MAX];
    int n;
    if (r->outcome == TERMINAL_DONE)
        done_words(pk, r, what, sizeof what);
    else if (r->outcome == TERMINAL_REFUSED)
        snprintf(what, sizeof what, "REFUSED: %s",
                 till_names ? leal_errname((leal_err)r->reason)
                            : leal_strerror((leal_err)r->reason));
    else
        snprintf(what, sizeof what, "NO ANSWER at the last step: tap the card here again");
    n = snprintf(line, sizeof line, "card %llu %s: %s", (unsigned long long)r->card_id,
                 op_name(r->op), what);
    if (show(NULL, line,
             n < 0                       ? 0
             : (size_t)n > PORT_SHOW_MAX ? PORT_SHOW_MAX
                                         : (size_t)n) != LEAL_OK)
        fprintf(stderr, "leal-terminal: the operator line could not be written\n");
}

static void print_json(const struct terminal_result *r)
{
    static const char *outcomes[] = {"?", "done", "refused", "in_doubt"};
    char before[24], after[24];
    euros(r->purse_before, before, sizeof before);
    euros(r->purse_after, after, sizeof after);
    printf("{\"outcome\":\"%s\",", outcomes[r->outcome <= 3 ? r->outcome : 0]);
    term_json_reason(r->outcome == TERMINAL_REFUSED, r->reason);
    printf(",\"op\":\"%s\",\"card_id\":%llu,\"card\":\"%s\",\"points\":%lld,\"points_before\":%u,"
           "\"points_after\":%u,\"purse_before\":\"%s\",\"purse_after\":\"%s\","
           "\"stamps_after\":[%u,%u,%u,%u],\"tier_after\":%u,\"bono_left\":%u,\"taps_before\":%u,"
           "\"taps_after\":%u,\"settled\":%s,\"entry\":{\"epoch\":%u,\"seq\":%u},"
           "\"round_trips\":%u}\n",
           op_name(r->op), (unsigned long long)r->card_id,
           r->card_kind == JOURNAL_CARD_CLASSIC ? "classic" : "desfire", (long long)r->points,
           r->before.points, r->after.points, before, after, r->after.stamps[0], r->after.stamps[1],
           r->after.stamps[2], r->after.stamps[3], r->after.tier, r->bono_left, r->taps_before,
           r->taps_after, r->settled ? "true" : "false", r->entry.epoch, r->entry.seq,
           r->round_trips);
    fflush(stdout);
}

/* One tap of the card in the field (waited for up to timeout_ms). */
leal_err term_tapper_card(struct term_tapper *tp, unsigned timeout_ms, struct terminal_card *card)
{
    struct reader_card info;
    leal_err err = reader_wait_card(tp->r, timeout_ms);
    if (err == LEAL_OK)
        err = reader_card_info(tp->r, &info);
    if (err != LEAL_OK)
        return err;
    memset(card, 0, sizeof *card);
    card->type = card_type(&info);
    memcpy(card->uid, info.uid, info.uid_len);
    card->uid_len = info.uid_len;
    return LEAL_OK;
}

static int one_tap(const struct opts *o, struct term_tapper *tp, const struct terminal_request *req,
                   unsigned timeout_ms)
{
    struct terminal_card card;
    struct terminal_result res;
    leal_err err = term_tapper_card(tp, timeout_ms, &card);
    if (err == LEAL_E_TIMEOUT || err == LEAL_E_NO_CARD)
        return term_fail(EXIT_NO_CARD, "no card in the field of %s: present one and tap again",
                         o->reader);
    if (err != LEAL_OK)
        return term_fail(EXIT_FAILED, "reader %s: %s", o->reader, leal_strerror(err));
    memset(&res, 0, sizeof res);
    err = terminal_tap(&tp->term, &card, req, &res);
    if (err == LEAL_E_NO_CARD || err == LEAL_E_CARD_REMOVED)
        return term_fail(EXIT_NO_CARD, "the card left the field before anything was decided; "
                                       "nothing was written: tap it again");
    if (err != LEAL_OK)
        return term_fail(EXIT_FAILED, "tap: %s", leal_strerror(err));
    if (o->json)
        print_json(&res);
    else
        term_print_line(posix_show, &tp->t->package, &res, false);
    return res.outcome == TERMINAL_DONE      ? EXIT_DONE
           : res.outcome == TERMINAL_REFUSED ? EXIT_REFUSED
                                             : EXIT_IN_DOUBT;
}

int cmd_tap(const struct opts *o)
{
    struct terminal_request req;
    struct term_tapper tp;
    uint32_t seconds = TAP_TIMEOUT_S;
    int rc;
    if (o->npos != 1)
        return term_usage("%s", "tap takes options only (see --help)");
    if ((rc = build_request(o, &req)) != EXIT_DONE ||
        (o->timeout &&
         (rc = term_parse_u32("--timeout", o->timeout, 0, 3600, &seconds)) != EXIT_DONE))
        return rc;
    if (o->qr || o->qr_image)
        return cmd_tap_qr(o, &req);
    if ((rc = term_tapper_open(o, &tp)) != EXIT_DONE)
        return rc;
    rc = one_tap(o, &tp, &req, seconds * 1000u);
    reader_release(tp.r);
    term_tapper_close(&tp);
    return rc;
}

static volatile sig_atomic_t run_stop;

static void on_stop(int sig)
{
    (void)sig;
    run_stop = 1;
}

int cmd_run(const struct opts *o)
{
    struct terminal_request req;
    struct sigaction sa;
    struct term_tapper tp;
    int rc;
    if (o->npos != 1)
        return term_usage("%s", "run takes options only (see --help)");
    if ((rc = build_request(o, &req)) != EXIT_DONE || (rc = term_tapper_open(o, &tp)) != EXIT_DONE)
        return rc;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: a wait returns to look at run_stop */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "leal-terminal: waiting for cards on %s (Ctrl-C ends)\n", o->reader);
    rc = EXIT_DONE;
    while (!run_stop) {
        leal_err err = reader_wait_card(tp.r, RUN_POLL_MS);
        if (err == LEAL_E_TIMEOUT || err == LEAL_E_NO_CARD)
            continue;
        if (err != LEAL_OK) {
            rc = term_fail(EXIT_FAILED, "reader %s: %s", o->reader, leal_strerror(err));
            break;
        }
        (void)one_tap(o, &tp, &req, 0);
        /* The same card stays in the field: the next tap waits until it leaves. */
        while (!run_stop && reader_wait_removed(tp.r, RUN_POLL_MS) == LEAL_E_TIMEOUT)
            ;
    }
    term_tapper_close(&tp);
    return rc;
}
