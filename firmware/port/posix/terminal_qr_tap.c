/*
 * terminal_qr_tap.c - `leal-terminal tap --qr TEXT|- | --qr-image FILE`: a
 * customer's QR code (cardlayout/qr/QR.md) taken for one operation by
 * firmware/core/terminal_qr.h, with the `qr` public keys of the terminal's
 * bundle. TEXT "-" reads one line from standard input, as a USB scanner in
 * keyboard mode types it; FILE is a photo or screenshot (PNG or JPEG, read
 * by libzbar through host/qr/qr_image.h). No card reader is opened: the
 * terminal's port gets one that answers "no card". The code stands where a
 * card's tap does (terminal_site.c: the package's store and zone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/terminal_qr.h"
#include "firmware/port/posix/terminal_cli.h"
#include "host/qr/qr_image.h"

static leal_err no_card_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                   size_t resp_cap, size_t *resp_len)
{
    (void)ctx, (void)cmd, (void)cmd_len, (void)resp, (void)resp_cap, (void)resp_len;
    return LEAL_E_NO_CARD;
}

static leal_err no_card_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    (void)ctx, (void)block, (void)key_type, (void)key;
    return LEAL_E_NO_CARD;
}

static leal_err no_card_read(void *ctx, uint8_t block, uint8_t out[16])
{
    (void)ctx, (void)block, (void)out;
    return LEAL_E_NO_CARD;
}

static leal_err no_card_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    (void)ctx, (void)block, (void)data;
    return LEAL_E_NO_CARD;
}

static const struct card_reader no_card = {NULL, no_card_transceive, no_card_auth, no_card_read,
                                           no_card_write};

/* The code's text: from the option, a line of standard input, or a picture. */
static int code_text(const struct opts *o, char *text, size_t cap, size_t *len)
{
    leal_err err;
    if (o->qr && o->qr_image)
        return term_usage("%s", "give the code once: --qr TEXT (or - for standard input) or "
                                "--qr-image FILE");
    if (o->qr_image) {
        err = qr_image_decode(o->qr_image, text, cap, len);
        if (err != LEAL_OK)
            return term_fail(term_exit_code(err), "%s: %s (a PNG or JPEG photo of the code)",
                             o->qr_image, leal_strerror(err));
        return EXIT_DONE;
    }
    if (strcmp(o->qr, "-") == 0) {
        if (fgets(text, (int)cap, stdin) == NULL)
            return term_usage("%s", "--qr -: no line on standard input (scan the code)");
        *len = strcspn(text, "\r\n");
        text[*len] = '\0';
        return EXIT_DONE;
    }
    *len = strlen(o->qr);
    if (*len >= cap)
        return term_usage("--qr '%.16s...': longer than any leal code (LQ: and Base45)", o->qr);
    memcpy(text, o->qr, *len + 1);
    return EXIT_DONE;
}

static void euros(int64_t cents, char *out, size_t cap)
{
    snprintf(out, cap, "%s%lld.%02lld", cents < 0 ? "-" : "",
             (long long)((cents < 0 ? -cents : cents) / 100),
             (long long)((cents < 0 ? -cents : cents) % 100));
}

static const char *op_name(uint8_t op)
{
    static const char *names[] = {"?", "earn", "pay", "pay+earn", "redeem", "stamp", "bono"};
    return op < sizeof names / sizeof names[0] ? names[op] : "?";
}

static const char *kind_name(uint8_t kind)
{
    return kind == QR_KIND_STATIC ? "static" : kind == QR_KIND_SPEND ? "spending" : "unread";
}

static void print_line(const struct terminal_qr_result *r)
{
    char what[PORT_SHOW_MAX + 1], line[2 * PORT_SHOW_MAX], paid[24], today[24];
    int n;
    euros(r->pay_cents, paid, sizeof paid);
    euros(r->spent_today_cents, today, sizeof today);
    if (r->outcome == TERMINAL_REFUSED)
        snprintf(what, sizeof what, "REFUSED: %s", leal_strerror((leal_err)r->reason));
    else if (r->op == TERMINAL_PAY)
        snprintf(what, sizeof what, "paid %s (%s today with this phone here)", paid, today);
    else if (r->op == TERMINAL_PAY_EARN)
        snprintf(what, sizeof what, "paid %s (%s today with this phone here); %+lld points", paid,
                 today, (long long)r->points);
    else if (r->op == TERMINAL_EARN)
        snprintf(what, sizeof what, "%+lld points to the account", (long long)r->points);
    else if (r->op == TERMINAL_STAMP)
        snprintf(what, sizeof what, "stamped card %u", r->item + 1);
    else if (r->op == TERMINAL_REDEEM)
        snprintf(what, sizeof what, "reward %u redeemed, %lld points (%u left to redeem here)",
                 r->item, (long long)r->points, r->allowance_left);
    else
        snprintf(what, sizeof what, "bono %u: one session", r->item);
    /* The account is in --json; the line keeps to the port's 160 bytes. */
    n = snprintf(line, sizeof line, "QR %s %llu %s: %s", kind_name(r->kind),
                 (unsigned long long)r->virtual_card_id, op_name(r->op), what);
    if (posix_show(NULL, line,
                   n < 0                       ? 0
                   : (size_t)n > PORT_SHOW_MAX ? PORT_SHOW_MAX
                                               : (size_t)n) != LEAL_OK)
        fprintf(stderr, "leal-terminal: the operator line could not be written\n");
}

static void print_json(const struct terminal_qr_result *r)
{
    char amount[24], paid[24], today[24];
    euros(r->amount_cents, amount, sizeof amount);
    euros(r->pay_cents, paid, sizeof paid);
    euros(r->spent_today_cents, today, sizeof today);
    printf("{\"outcome\":\"%s\",", r->outcome == TERMINAL_DONE ? "done" : "refused");
    term_json_reason(r->outcome == TERMINAL_REFUSED, r->reason);
    printf(",\"op\":\"%s\",\"code\":\"%s\",\"virtual_card\":%llu,\"account\":%llu,"
           "\"time_step\":%u,\"counter\":%u,\"amount\":\"%s\",\"paid\":\"%s\","
           "\"spent_today\":\"%s\",\"points\":%lld,\"quantity\":%d,\"item\":%u,"
           "\"allowance_left\":%u,\"entry\":{\"epoch\":%u,\"seq\":%u}}\n",
           op_name(r->op), kind_name(r->kind), (unsigned long long)r->virtual_card_id,
           (unsigned long long)r->account_id, r->time_step, r->counter, amount, paid, today,
           (long long)r->points, r->quantity, r->item, r->allowance_left, r->entry.epoch,
           r->entry.seq);
    fflush(stdout);
}

/* The bundle's `qr` public keys, as the verifier takes them. */
static size_t bundle_qr_keys(const struct posix_terminal *t, struct qr_key *keys, size_t cap)
{
    const struct sam_soft_public *s = &t->soft.qr_public;
    size_t n = 0;
    for (size_t i = 0; i < s->n && n < cap; i++, n++) {
        keys[n].version = s->version[i];
        memcpy(keys[n].public_key, s->key[i], CRYPTO_ED25519_PUBLIC);
    }
    return n;
}

int cmd_tap_qr(const struct opts *o, const struct terminal_request *req)
{
    char text[QR_TEXT_MAX + 2];
    struct qr_key keys[LEAL_MAX_KEY_VERSIONS];
    struct terminal_qr_keys ks;
    struct terminal_qr_result res;
    struct posix_terminal *t;
    struct terminal_port port;
    struct terminal_setup s;
    struct terminal term;
    size_t len = 0;
    leal_err err;
    int rc;
    if (req->op == TERMINAL_VOID || req->op == TERMINAL_BALANCE)
        return term_usage("%s", "a QR code takes --earn EUR, --pay EUR (with --earn EUR), "
                                "--stamp CARD, --bono ID or --redeem REWARD-ID");
    if (o->reader)
        return term_usage("%s", "a QR tap reads no card: leave out --reader");
    if ((rc = code_text(o, text, sizeof text, &len)) != EXIT_DONE)
        return rc;
    memset(&s, 0, sizeof s);
    if ((rc = term_stand(o, "code", &t, &s.cfg)) != EXIT_DONE)
        return rc;
    term_stand_setup(t, &no_card, &port, &s);
    memset(&term, 0, sizeof term);
    if ((err = terminal_open(&term, &s)) != LEAL_OK) {
        term_close(t);
        return term_fail(EXIT_FAILED, "terminal: %s", leal_strerror(err));
    }
    ks.keys = keys;
    ks.count = bundle_qr_keys(t, keys, sizeof keys / sizeof keys[0]);
    err = terminal_qr_tap(&term, &ks, text, len, req, &res);
    terminal_close(&term);
    term_close(t);
    if (err != LEAL_OK)
        return term_fail(term_exit_code(err), "tap --qr: %s", leal_strerror(err));
    if (o->json)
        print_json(&res);
    else
        print_line(&res);
    return res.outcome == TERMINAL_DONE ? EXIT_DONE : EXIT_REFUSED;
}
