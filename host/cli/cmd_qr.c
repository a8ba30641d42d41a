/* cmd_qr.c - `leal qr issue|decode|verify`: a customer's QR code (cardlayout/qr/QR.md),
 * drawn as PNG, SVG or in the terminal, read back from a picture, checked. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/desk/desk_keys.h"
#include "host/file.h"
#include "host/ledger/amount.h"
#include "host/ledger/ledger_qr.h"
#include "host/qr/qr_device.h"
#include "host/qr/qr_image.h"
#include "host/qr/qr_issue.h"
#include "keys/base/hex.h"
#include "keys/base/limits.h"
#include "keys/hosted/provider_openssl.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define QR_DEFAULT_DAYS 730
#define QR_MAX_DAYS 3660

static const char qr_help[] =
    "usage: leal qr issue --account ID (-o FILE.png|.svg|.pdf | --terminal) [--valid-days N]\n"
    "                     [--keystore PATH] [--passphrase-file FILE] [--db PATH] [--json]\n"
    "       leal qr decode IMAGE [--json]\n"
    "       leal qr verify TEXT [--at UNIX-TIME] [--keystore PATH] [--passphrase-file FILE]\n"
    "                      [--json]\n"
    "       leal qr enrol --account ID --pubkey FILE -o CERT [--cap-tx EUR] [--cap-day EUR]\n"
    "                     [--refresh-days N] [--redeem-allowance POINTS] [--replaces "
    "VIRTUAL-CARD]\n"
    "                     [--keystore PATH] [--passphrase-file FILE]\n"
    "       leal qr revoke VIRTUAL-CARD --reason TEXT [--db PATH]\n"
    "       leal qr device keygen -o KEY\n"
    "       leal qr device code --key KEY --cert CERT [--at UNIX-TIME]\n"
    "                           [-o FILE.png|.svg|.pdf | --terminal] [--json]\n"
    "       leal qr certifier --socket PATH [--cap-tx EUR] [--cap-day EUR] [--refresh-days N]\n"
    "                         (see 'leal qr certifier --help')\n"
    "A customer's static QR code (cardlayout/qr/QR.md): it names their account so a\n"
    "terminal can add points and stamps; it never pays, redeems or uses a bono.\n"
    "issue records a new virtual card on the account (revoke the code with 'leal card\n"
    "block CARD-ID --reason TEXT' on that card id: it then goes on the hot list of\n"
    "every terminal package built after) and signs the code with the program's `qr`\n"
    "key; valid from today for\n"
    "--valid-days days (default 730, at most 3660). It prints the code's text, which a\n"
    "USB scanner types as it reads the code. decode reads the code in a picture (a\n"
    "PNG or JPEG: a screenshot or a photo) and prints its text. verify checks\n"
    "a code's text as a terminal would today (or at --at), with the keystore's `qr`\n"
    "public keys; exit 1 with the reason if it is refused.\n"
    "Spending codes (QR.md): a phone makes a key pair ('device keygen' writes KEY, its\n"
    "private key, 0600, and KEY.pub, the public key in hex, which the phone sends when\n"
    "online); 'enrol' certifies that public key for the account with caps per payment\n"
    "(default 20.00) and per day (default 50.00) and a refresh period (default 7 days,\n"
    "at most 31: the phone shows no code after it until it enrols again), records a\n"
    "virtual card for the phone and writes the certificate CERT the phone keeps. 'device\n"
    "code' is a reference phone in C: the code of the current 30-second step with the\n"
    "next counter (kept in KEY.counter). 'revoke' ends a code or a phone for good (a\n"
    "lost phone, a re-issued code): its virtual card goes on the hot list of every\n"
    "terminal package built after.\n"
    "--redeem-allowance POINTS holds that many of the account's points for the phone\n"
    "(asset PTS-HOLD:<virtual card>, in the same transaction; refused if the account\n"
    "holds fewer): terminals let its spending code redeem rewards offline ('leal-terminal\n"
    "tap --qr CODE --redeem ID') within what the hold has left, and 'leal sync import'\n"
    "books those redeems from the hold.\n"
    "--replaces VIRTUAL-CARD re-enrols: that phone of the same account is marked\n"
    "replaced (hot-listed) and what its hold has left goes back to the account's\n"
    "points first, in the same transaction. A revoke, a 'leal card block' or any\n"
    "other end of a phone gives its hold back too; a redeem a terminal took before\n"
    "and imports after is held as a qr_over_redeem finding, never taken from points.\n";

static int days_arg(const struct lcli_opt *o, size_t n, uint32_t *days)
{
    const char *v = lcli_get(o, n, "valid-days");
    int64_t d;
    *days = QR_DEFAULT_DAYS;
    if (v == NULL)
        return 0;
    if (lcli_id(v, &d) != LEAL_OK || d > QR_MAX_DAYS)
        return cli_usage("--valid-days '%s': a whole number of days from 1 to %d", v, QR_MAX_DAYS);
    *days = (uint32_t)d;
    return 0;
}

static leal_err qr_keys(const struct lcli_opt *o, size_t n, uint32_t program, struct desk_keys *dk)
{
    const struct desk_key_request req = {.keystore_path = lcli_get(o, n, "keystore"),
                                         .passphrase_file = lcli_get(o, n, "passphrase-file"),
                                         .program_id = program,
                                         .roles = DESK_ROLE(KEY_ROLE_QR)};
    return desk_keys_acquire(&req, dk);
}

static void day_str(uint16_t day, char *out, size_t cap)
{
    time_t t = (time_t)day * (time_t)QR_SECONDS_PER_DAY;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d", &tm);
}

static void print_issued(bool json, const struct qr_issued *q, const char *file,
                         const struct qr_image_size *sz)
{
    char from[16], until[16];
    day_str(q->code.issued_day, from, sizeof from);
    day_str((uint16_t)(q->code.expires_day - 1), until, sizeof until);
    if (json) {
        printf("{\"account\":%llu,\"program\":%u,\"virtual_card\":%llu,\"kind\":\"static\","
               "\"key_version\":%u,\"issued_day\":%u,\"expires_day\":%u,\"qr_version\":%d,"
               "\"modules\":%d,\"file\":",
               (unsigned long long)q->code.account_id, q->code.program_id,
               (unsigned long long)q->code.virtual_card_id, q->code.key_version, q->code.issued_day,
               q->code.expires_day, sz->version, sz->modules);
        if (file)
            cli_json_string(stdout, file);
        else
            printf("null");
        printf(",\"text\":");
        cli_json_string(stdout, q->text);
        printf("}\n");
        return;
    }
    printf("static QR code for account %llu (program %u): virtual card %llu, valid %s to %s "
           "UTC, qr key version %u, QR version %d (%d x %d modules)%s%s\n%s\n",
           (unsigned long long)q->code.account_id, q->code.program_id,
           (unsigned long long)q->code.virtual_card_id, from, until, q->code.key_version,
           sz->version, sz->modules, sz->modules, file ? "; wrote " : "", file ? file : "",
           q->text);
}

/* The account's program, for its keys, before any key is asked for. */
static int account_program(struct ledger *l, int64_t account, uint32_t *program)
{
    struct ledger_account a;
    leal_err err = ledger_account_get(l, account, &a);
    if (err != LEAL_OK)
        return lcli_fail(l, err, "qr issue");
    if (a.kind == LEDGER_ACCOUNT_PROGRAM)
        return cli_error(LEAL_E_WRONG_PROGRAM, CLI_EXIT_USAGE,
                         "account %lld is one of the program's own accounts; issue codes to a "
                         "customer's or a gift account",
                         (long long)account);
    *program = (uint32_t)a.program_id;
    return 0;
}

static int qr_issue(const struct lcli_opt *o, size_t n)
{
    const char *file = lcli_get(o, n, "output"), *acct = lcli_get(o, n, "account");
    bool term = lcli_get(o, n, "terminal") != NULL;
    enum qr_image_kind kind = qr_image_kind_of(file);
    struct desk_keys dk = {0};
    struct ledger *l = NULL;
    struct qr_issued q;
    struct qr_image_size sz = {0, 0};
    int64_t account;
    uint32_t days, program = 0;
    leal_err err;
    int rc;
    if (acct == NULL || (file == NULL) == !term)
        return cli_usage("leal qr issue needs --account ID and either -o FILE.png|.svg|.pdf or "
                         "--terminal");
    if (lcli_id(acct, &account) != LEAL_OK)
        return cli_usage("--account '%s': an account id (leal account show)", acct);
    if (file != NULL && kind == 0)
        return cli_usage("-o '%s': name a .png, .svg or .pdf file", file);
    if ((rc = days_arg(o, n, &days)) != 0)
        return rc;
    if ((rc = lcli_open(lcli_get(o, n, "db"), &l)) != 0)
        return rc;
    if ((rc = account_program(l, account, &program)) != 0)
        goto out;
    if ((err = qr_keys(o, n, program, &dk)) != LEAL_OK) {
        rc = cli_desk_keys_fail(&dk, err, lcli_get(o, n, "passphrase-file"), program);
        goto out;
    }
    if ((err = qr_issue_static(l, dk.keys, account, (uint64_t)time(NULL), days, &q)) != LEAL_OK) {
        rc = lcli_fail(l, err, "qr issue");
        goto out;
    }
    /* The card is recorded; a drawing that fails names it so it can be blocked. */
    err = file ? qr_image_write(q.text, kind, file, &sz) : qr_image_terminal(q.text, stdout, &sz);
    if (err != LEAL_OK) {
        rc = cli_fail(err,
                      "drawing the code of virtual card %llu (block it with 'leal card "
                      "block %llu --reason TEXT')",
                      (unsigned long long)q.code.virtual_card_id,
                      (unsigned long long)q.code.virtual_card_id);
        goto out;
    }
    print_issued(lcli_get(o, n, "json") != NULL, &q, file, &sz);
    rc = CLI_EXIT_OK;
out:
    desk_keys_release(&dk);
    ledger_close(l);
    return rc;
}

static int qr_decode(const char *image, bool json)
{
    char text[4096];
    size_t len;
    leal_err err = qr_image_decode(image, text, sizeof text, &len);
    if (err == LEAL_E_NOT_FOUND)
        return cli_error(err, CLI_EXIT_FAIL,
                         "%s: no QR code found in the picture; take it "
                         "again, closer and straight on",
                         image);
    if (err == LEAL_E_FORMAT)
        return cli_error(err, CLI_EXIT_USAGE,
                         "%s: not a PNG or JPEG picture leal can read; save "
                         "the screenshot or photo as PNG or JPEG",
                         image);
    if (err != LEAL_OK)
        return cli_fail(err, "reading %s", image);
    if (json) {
        printf("{\"file\":");
        cli_json_string(stdout, image);
        printf(",\"text\":");
        cli_json_string(stdout, text);
        printf("}\n");
    } else {
        printf("%s\n", text);
    }
    return CLI_EXIT_OK;
}

/* --at: a unix time instead of the clock (tests, and checking an old code). */
static int at_arg(const struct lcli_opt *o, size_t n, uint64_t *now)
{
    const char *v = lcli_get(o, n, "at");
    int64_t t;
    *now = (uint64_t)time(NULL);
    if (v == NULL)
        return 0;
    if (lcli_id(v, &t) != LEAL_OK)
        return cli_usage("--at '%s': a unix time in seconds", v);
    *now = (uint64_t)t;
    return 0;
}

/* The program's `qr` public keys from the keystore. */
static int public_keys(const struct lcli_opt *o, size_t n, uint32_t program, struct qr_key *keys,
                       size_t *nkeys)
{
    struct desk_keys dk = {0};
    leal_err err = qr_keys(o, n, program, &dk);
    int rc = 0;
    if (err == LEAL_OK && (err = qr_issue_public_keys(dk.keys, program, keys, nkeys)) != LEAL_OK)
        rc = cli_fail(err, "qr verify");
    else if (err != LEAL_OK && dk.failed == DESK_KEYS_PROGRAM)
        rc = cli_error(LEAL_E_QR_PROGRAM, CLI_EXIT_FAIL,
                       "QR code refused: it names program %u, which this keystore does not hold",
                       program);
    else if (err != LEAL_OK)
        rc = cli_desk_keys_fail(&dk, err, lcli_get(o, n, "passphrase-file"), program);
    desk_keys_release(&dk);
    return rc;
}

static void print_verified(bool json, const struct qr_token *t)
{
    bool spend = t->kind == QR_KIND_SPEND;
    char tx[AMOUNT_FORMAT_MAX], day[AMOUNT_FORMAT_MAX];
    amount_text(t->cap_tx_cents, tx);
    amount_text(t->cap_day_cents, day);
    if (json) {
        printf("{\"verified\":true,\"kind\":\"%s\",\"program\":%u,\"account\":%llu,"
               "\"virtual_card\":%llu,\"key_version\":%u,\"issued_day\":%u,\"expires_day\":%u",
               spend ? "spending" : "static", t->code.program_id,
               (unsigned long long)t->code.account_id, (unsigned long long)t->code.virtual_card_id,
               t->code.key_version, t->code.issued_day, t->code.expires_day);
        if (spend)
            printf(",\"cap_tx\":\"%s\",\"cap_day\":\"%s\",\"time_step\":%u,\"counter\":%u", tx, day,
                   t->time_step, t->counter);
        printf("}\n");
        return;
    }
    printf("verified: %s code, program %u, account %llu, virtual card %llu, qr key version %u",
           spend ? "spending" : "static", t->code.program_id,
           (unsigned long long)t->code.account_id, (unsigned long long)t->code.virtual_card_id,
           t->code.key_version);
    if (spend)
        printf(", caps %s a payment and %s a day, time step %u, counter %u", tx, day, t->time_step,
               t->counter);
    printf("\n");
}

static int qr_verify(const char *text, const struct lcli_opt *o, size_t n)
{
    uint8_t tok[QR_TOKEN_MAX];
    struct qr_key keys[LEAL_MAX_KEY_VERSIONS];
    struct qr_token t, claimed;
    size_t len, nkeys = 0;
    uint64_t now;
    leal_err err;
    int rc;
    if ((rc = at_arg(o, n, &now)) != 0)
        return rc;
    /* Which program's keys to check with: the one the code names. */
    if ((err = qr_text_decode(text, strlen(text), tok, sizeof tok, &len)) != LEAL_OK ||
        (err = qr_token_parse(tok, len, &claimed)) != LEAL_OK)
        return cli_error(err, CLI_EXIT_FAIL, "QR code refused: %s", leal_strerror(err));
    if ((rc = public_keys(o, n, claimed.code.program_id, keys, &nkeys)) != 0)
        return rc;
    struct qr_expect e = {claimed.code.program_id, now, keys, nkeys, NULL, NULL, NULL, NULL};
    if ((err = qr_verify_text(crypto_openssl(), text, strlen(text), &e, &t)) != LEAL_OK)
        return cli_error(err, CLI_EXIT_FAIL, "QR code refused: %s", leal_strerror(err));
    print_verified(lcli_get(o, n, "json") != NULL, &t);
    return CLI_EXIT_OK;
}

static int eur_arg(const struct lcli_opt *o, size_t n, const char *name, uint32_t *cents)
{
    const char *v = lcli_get(o, n, name);
    int64_t c;
    if (v == NULL)
        return 0;
    if (amount_parse(v, strlen(v), &c) != LEAL_OK || c < 1 || c > INT32_MAX)
        return cli_usage("--%s '%s': write euros like 20 or 12,50 (0,01 to 21474836.47)", name, v);
    *cents = (uint32_t)c;
    return 0;
}

/* enrol's options, every one checked before the ledger is opened. */
static int enrol_args(const struct lcli_opt *o, size_t n, struct qr_enrol_request *rq)
{
    const char *acct = lcli_get(o, n, "account"), *pub = lcli_get(o, n, "pubkey");
    const char *days = lcli_get(o, n, "refresh-days");
    uint8_t *data = NULL;
    size_t len, got;
    int64_t d;
    int rc;
    if (acct == NULL || pub == NULL || lcli_get(o, n, "output") == NULL)
        return cli_usage("leal qr enrol needs --account ID --pubkey FILE -o CERT");
    if (lcli_id(acct, &rq->account_id) != LEAL_OK)
        return cli_usage("--account '%s': an account id (leal account show)", acct);
    if ((rc = eur_arg(o, n, "cap-tx", &rq->cap_tx_cents)) != 0 ||
        (rc = eur_arg(o, n, "cap-day", &rq->cap_day_cents)) != 0)
        return rc;
    if (rq->cap_day_cents < rq->cap_tx_cents)
        return cli_usage("--cap-day is below --cap-tx: a day's payments include each payment");
    if (days != NULL && (lcli_id(days, &d) != LEAL_OK || d > 31))
        return cli_usage("--refresh-days '%s': a whole number of days from 1 to 31", days);
    if (days != NULL)
        rq->refresh_days = (uint32_t)d;
    const char *hold = lcli_get(o, n, "redeem-allowance");
    if (hold != NULL && (lcli_id(hold, &d) != LEAL_OK || d > INT32_MAX))
        return cli_usage("--redeem-allowance '%s': a whole number of points from 1 to 2147483647",
                         hold);
    if (hold != NULL)
        rq->redeem_points = (uint32_t)d;
    const char *old = lcli_get(o, n, "replaces");
    if (old != NULL && lcli_id(old, &rq->replaces) != LEAL_OK)
        return cli_usage("--replaces '%s': the virtual card id of the phone this one replaces",
                         old);
    leal_err err = file_read(pub, 4096, &data, &len);
    if (err != LEAL_OK)
        return cli_error(err, CLI_EXIT_USAGE, "--pubkey %s: %s", pub, leal_strerror(err));
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    err = len == 64 ? leal_hex_decode((const char *)data, len, rq->device_public, 32, &got)
                    : LEAL_E_FORMAT;
    free(data);
    if (err != LEAL_OK)
        return cli_error(LEAL_E_FORMAT, CLI_EXIT_USAGE,
                         "--pubkey %s: not a device public key (64 hex digits, as 'leal qr "
                         "device keygen' writes in KEY.pub)",
                         pub);
    return 0;
}

/* --replaces names a phone (a spending code's virtual card) of the same
 * account; anything else is refused before a key is asked for. */
static int replaced_phone(struct ledger *l, const struct qr_enrol_request *rq)
{
    struct ledger_card c;
    leal_err err;
    if (rq->replaces == 0)
        return 0;
    if ((err = ledger_card_find_by_id(l, rq->replaces, &c)) == LEAL_E_UNKNOWN_ID ||
        (err == LEAL_OK && (c.tech != LEDGER_TECH_VIRTUAL_QR || c.layout_version != QR_KIND_SPEND ||
                            c.account_id != rq->account_id)))
        return cli_error(LEAL_E_ARG, CLI_EXIT_USAGE,
                         "--replaces %lld: not a phone of account %lld (the virtual card 'leal "
                         "qr enrol' printed for it); nothing enrolled",
                         (long long)rq->replaces, (long long)rq->account_id);
    return err == LEAL_OK ? 0 : lcli_fail(l, err, "qr enrol");
}

static int qr_enrol(const struct lcli_opt *o, size_t n)
{
    struct qr_enrol_request rq = {.cap_tx_cents = 2000, .cap_day_cents = 5000, .refresh_days = 7};
    const char *file = lcli_get(o, n, "output");
    uint8_t cert[QR_CERT_LEN];
    struct desk_keys dk = {0};
    struct ledger *l = NULL;
    struct qr_cert c;
    uint32_t program = 0;
    leal_err err;
    int rc;
    if ((rc = enrol_args(o, n, &rq)) != 0)
        return rc;
    if ((rc = lcli_open(lcli_get(o, n, "db"), &l)) != 0)
        return rc;
    if ((rc = account_program(l, rq.account_id, &program)) != 0 ||
        (rc = replaced_phone(l, &rq)) != 0)
        goto out;
    if ((err = qr_keys(o, n, program, &dk)) != LEAL_OK) {
        rc = cli_desk_keys_fail(&dk, err, lcli_get(o, n, "passphrase-file"), program);
        goto out;
    }
    rq.now = (uint64_t)time(NULL);
    if ((err = qr_issue_enrol(l, dk.keys, &rq, cert, &c)) == LEAL_E_INSUFFICIENT_FUNDS) {
        int64_t pts = 0;
        if (ledger_balance(l, rq.account_id, "PTS", &pts) != LEAL_OK)
            pts = 0;
        rc = cli_error(err, CLI_EXIT_USAGE,
                       "qr enrol: --redeem-allowance %u is more than the %lld points account "
                       "%lld holds; nothing enrolled: hold fewer points",
                       rq.redeem_points, (long long)pts, (long long)rq.account_id);
        goto out;
    }
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "qr enrol");
        goto out;
    }
    if ((err = file_write_atomic(file, cert, sizeof cert, 0644)) != LEAL_OK) {
        rc = cli_fail(err, "writing %s (revoke virtual card %llu with 'leal qr revoke')", file,
                      (unsigned long long)c.code.virtual_card_id);
        goto out;
    }
    if (lcli_get(o, n, "json"))
        printf("{\"account\":%lld,\"program\":%u,\"virtual_card\":%llu,\"key_version\":%u,"
               "\"issued_day\":%u,\"expires_day\":%u,\"cap_tx_cents\":%u,\"cap_day_cents\":%u,"
               "\"redeem_allowance\":%u,\"file\":",
               (long long)rq.account_id, program, (unsigned long long)c.code.virtual_card_id,
               c.code.key_version, c.code.issued_day, c.code.expires_day, c.cap_tx_cents,
               c.cap_day_cents, rq.redeem_points);
    else
        printf("enrolled a phone for account %lld: virtual card %llu, refresh within %u days; "
               "wrote its certificate ",
               (long long)rq.account_id, (unsigned long long)c.code.virtual_card_id,
               rq.refresh_days);
    if (lcli_get(o, n, "json")) {
        cli_json_string(stdout, file);
        printf("}\n");
    } else {
        printf("%s\n", file);
    }
    rc = CLI_EXIT_OK;
out:
    desk_keys_release(&dk);
    ledger_close(l);
    return rc;
}

static int qr_revoke(const char *id, const struct lcli_opt *o, size_t n)
{
    const char *reason = lcli_get(o, n, "reason");
    struct ledger *l = NULL;
    struct ledger_card c;
    int64_t card;
    leal_err err;
    int rc;
    if (lcli_id(id, &card) != LEAL_OK)
        return cli_usage("'%s': a virtual card id (leal qr issue or enrol printed it)", id);
    if (reason == NULL || !reason[0])
        return cli_usage("leal qr revoke needs --reason TEXT");
    if ((rc = lcli_open(lcli_get(o, n, "db"), &l)) != 0)
        return rc;
    err = ledger_card_find_by_id(l, card, &c);
    if (err == LEAL_OK && c.tech != LEDGER_TECH_VIRTUAL_QR) {
        rc = cli_error(LEAL_E_ARG, CLI_EXIT_USAGE,
                       "card %lld is a physical card, not a QR code; use 'leal card block'",
                       (long long)card);
        goto out;
    }
    /* What its hold has left goes back with the status (ledger_qr_release). */
    char hold[LEDGER_MAX_ASSET];
    int64_t held = 0;
    ledger_qr_hold_asset((uint64_t)card, hold);
    if (err == LEAL_OK && (err = ledger_balance(l, c.account_id, hold, &held)) == LEAL_OK)
        err = ledger_qr_card_status(l, card, LEDGER_CARD_LOST, reason, "");
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "qr revoke");
        goto out;
    }
    if (lcli_get(o, n, "json"))
        printf("{\"virtual_card\":%lld,\"status\":\"lost\",\"released_points\":%lld}\n",
               (long long)card, (long long)held);
    else
        printf("virtual card %lld revoked; it goes on the hot list of the next terminal "
               "package; %lld points held for it went back to account %lld\n",
               (long long)card, (long long)held, (long long)c.account_id);
    rc = CLI_EXIT_OK;
out:
    ledger_close(l);
    return rc;
}

static int device_keygen(const struct lcli_opt *o, size_t n)
{
    const char *file = lcli_get(o, n, "output");
    struct qr_device d;
    uint8_t pub[32];
    char hex[65], pubfile[4096];
    leal_err err;
    if (file == NULL || !file[0])
        return cli_usage("leal qr device keygen needs -o KEY");
    if ((size_t)snprintf(pubfile, sizeof pubfile, "%s.pub", file) >= sizeof pubfile)
        return cli_usage("-o '%s': path too long", file);
    if ((err = qr_device_keygen(d.seed, pub)) != LEAL_OK)
        return cli_fail(err, "device keygen");
    if (leal_hex_encode(pub, sizeof pub, false, hex, sizeof hex) != LEAL_OK)
        return cli_fail(LEAL_E_INTERNAL, "device keygen");
    hex[64] = '\n';
    if ((err = file_write_new(file, d.seed, sizeof d.seed, 0600)) == LEAL_OK)
        err = file_write_atomic(pubfile, (const uint8_t *)hex, 65, 0644);
    memset(&d, 0, sizeof d);
    if (err != LEAL_OK)
        return cli_fail(err, "writing %s", file);
    hex[64] = '\0';
    printf(lcli_get(o, n, "json") ? "{\"public_key\":\"%s\"}\n" : "%s\n", hex);
    return CLI_EXIT_OK;
}

/* The phone's next counter, written before its code is shown: a crash never
 * shows the same counter twice. */
static leal_err next_counter(const char *key, uint32_t *counter)
{
    char path[4096], text[16];
    uint8_t *data = NULL;
    size_t len;
    unsigned long v = 0;
    if ((size_t)snprintf(path, sizeof path, "%s.counter", key) >= sizeof path)
        return LEAL_E_ARG;
    leal_err err = file_read(path, 64, &data, &len);
    if (err == LEAL_OK) {
        char *end;
        v = strtoul((const char *)data, &end, 10);
        if (end == (char *)data || v >= UINT32_MAX)
            err = LEAL_E_FORMAT;
        free(data);
    } else if (err == LEAL_E_NOT_FOUND) {
        err = LEAL_OK;
    }
    if (err != LEAL_OK)
        return err;
    *counter = (uint32_t)v + 1;
    int k = snprintf(text, sizeof text, "%u\n", *counter);
    return file_write_atomic(path, (const uint8_t *)text, (size_t)k, 0600);
}

static int device_load(const struct lcli_opt *o, size_t n, struct qr_device *d)
{
    const char *key = lcli_get(o, n, "key"), *cert = lcli_get(o, n, "cert");
    uint8_t *data = NULL;
    size_t len;
    leal_err err;
    if (key == NULL || cert == NULL)
        return cli_usage("leal qr device code needs --key KEY --cert CERT");
    if ((err = file_read(key, 64, &data, &len)) != LEAL_OK || len != sizeof d->seed) {
        free(data);
        return cli_error(err ? err : LEAL_E_FORMAT, CLI_EXIT_USAGE,
                         "--key %s: not a device key ('leal qr device keygen' writes one)", key);
    }
    memcpy(d->seed, data, sizeof d->seed);
    memset(data, 0, len);
    free(data);
    if ((err = file_read(cert, 1024, &data, &len)) != LEAL_OK || len != sizeof d->cert) {
        free(data);
        return cli_error(err ? err : LEAL_E_FORMAT, CLI_EXIT_USAGE,
                         "--cert %s: not a certificate ('leal qr enrol' writes one)", cert);
    }
    memcpy(d->cert, data, sizeof d->cert);
    free(data);
    return 0;
}

static int device_code(const struct lcli_opt *o, size_t n)
{
    const char *file = lcli_get(o, n, "output");
    bool term = lcli_get(o, n, "terminal") != NULL;
    struct qr_device d;
    struct qr_device_code code;
    struct qr_image_size sz = {0, 0};
    uint32_t counter = 0;
    uint64_t now;
    leal_err err;
    int rc;
    if (file != NULL && qr_image_kind_of(file) == 0)
        return cli_usage("-o '%s': name a .png, .svg or .pdf file", file);
    if ((rc = at_arg(o, n, &now)) != 0 || (rc = device_load(o, n, &d)) != 0)
        return rc;
    if ((err = next_counter(lcli_get(o, n, "key"), &counter)) != LEAL_OK)
        rc = cli_fail(err, "the counter beside %s", lcli_get(o, n, "key"));
    else if ((err = qr_device_code(&d, now, counter, &code)) == LEAL_E_QR_EXPIRED)
        rc = cli_error(err, CLI_EXIT_FAIL,
                       "no code: the phone's certificate is past its refresh "
                       "day; go online and enrol again ('leal qr enrol')");
    else if (err != LEAL_OK)
        rc = cli_fail(err, "device code");
    else if (file != NULL && (err = qr_image_write(code.text, qr_image_kind_of(file), file, &sz)))
        rc = cli_fail(err, "writing %s", file);
    else if (term && (err = qr_image_terminal(code.text, stdout, &sz)) != LEAL_OK)
        rc = cli_fail(err, "drawing the code");
    memset(&d, 0, sizeof d);
    if (rc != 0)
        return rc;
    if (lcli_get(o, n, "json")) {
        printf("{\"counter\":%u,\"time_step\":%llu,\"text\":", counter,
               (unsigned long long)(now / QR_TIME_STEP_SECONDS));
        cli_json_string(stdout, code.text);
        printf("}\n");
    } else {
        printf("%s\n", code.text);
    }
    return CLI_EXIT_OK;
}

int cmd_qr(int argc, char **argv)
{
    struct lcli_opt o[] = {{"account", 0, 0},    {"output", 0, 0},       {"terminal", 1, 0},
                           {"valid-days", 0, 0}, {"keystore", 0, 0},     {"passphrase-file", 0, 0},
                           {"db", 0, 0},         {"json", 1, 0},         {"help", 1, 0},
                           {"at", 0, 0},         {"pubkey", 0, 0},       {"cap-tx", 0, 0},
                           {"cap-day", 0, 0},    {"refresh-days", 0, 0}, {"redeem-allowance", 0, 0},
                           {"reason", 0, 0},     {"key", 0, 0},          {"cert", 0, 0},
                           {"replaces", 0, 0}};
    const char *pos[LCLI_MAX_POS];
    char *args[64];
    size_t npos = LCLI_MAX_POS;
    int rc;
    if (argc > (int)N(args))
        return cli_usage("leal qr: too many arguments");
    if (argc >= 2 && strcmp(argv[1], "certifier") == 0)
        return cmd_qr_certifier(argc - 1, argv + 1);
    /* -o is --output. */
    for (int i = 0; i < argc; i++)
        args[i] = strcmp(argv[i], "-o") == 0 ? (char *)"--output" : argv[i];
    if ((rc = lcli_parse(argc, args, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(qr_help, stdout);
        return CLI_EXIT_OK;
    }
    const char *sub = npos > 0 ? pos[0] : "";
    if (npos == 1 && strcmp(sub, "issue") == 0)
        return qr_issue(o, N(o));
    if (npos == 2 && strcmp(sub, "decode") == 0)
        return qr_decode(pos[1], lcli_get(o, N(o), "json") != NULL);
    if (npos == 2 && strcmp(sub, "verify") == 0)
        return qr_verify(pos[1], o, N(o));
    if (npos == 1 && strcmp(sub, "enrol") == 0)
        return qr_enrol(o, N(o));
    if (npos == 2 && strcmp(sub, "revoke") == 0)
        return qr_revoke(pos[1], o, N(o));
    if (npos == 2 && strcmp(sub, "device") == 0 && strcmp(pos[1], "keygen") == 0)
        return device_keygen(o, N(o));
    if (npos == 2 && strcmp(sub, "device") == 0 && strcmp(pos[1], "code") == 0)
        return device_code(o, N(o));
    return cli_usage("leal qr: expected issue, decode IMAGE, verify TEXT, enrol, revoke "
                     "VIRTUAL-CARD, device keygen, device code or certifier");
}
