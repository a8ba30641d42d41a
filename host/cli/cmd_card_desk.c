/* cmd_card_desk.c - the issuance desk: `leal card issue|read|top-up|replace|erase|
 * sync|upgrade|block|unblock|history|hotlist` (host/issuance; cardlayout/LAYOUT.md,
 * keys/KEYS.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "desk_cli.h"
#include "desk_print.h"
#include "host/keys/passphrase.h"
#include "host/desk/desk_issue.h"
#include "host/desk/desk_keys.h"
#include "host/desk/desk_view.h"
#include "host/issuance/issuance.h"
#include "host/ledger/ledger_qr.h"
#include "host/ledger/ledger_rules.h"
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
    O_CUSTOMER,
    O_ACCOUNT,
    O_TOPUP,
    O_WELCOME,
    O_OLD,
    O_REASON,
    O_OPERATOR,
    O_YES,
    O_OVER_LIMIT,
    O_GIFT,
    O_CASHBACK,
    O_STORE,
    O_COUNT
};

struct desk_cli {
    struct lcli_opt opts[O_COUNT];
    const char *pos[2];
    size_t npos;
    struct ledger *ledger;
    struct desk_keys dk;
    const struct keyset *keys; /* dk.keys */
    struct reader *reader;
    struct issuance is;
};

static const char desk_usage[] =
    "usage: leal card issue --customer ID [--account ID] [--topup EUR] [--welcome-points N]\n"
    "                       [--over-limit]\n"
    "       leal card issue --gift EUR   (a gift card: no customer, the gift on its purse)\n"
    "       leal card read\n"
    "       leal card top-up AMOUNT\n"
    "       leal card top-up --cashback   (the cashback the account is owed: leal reward redeem)\n"
    "       leal card replace --old CARD-ID   (the old card first if it is at the desk)\n"
    "       leal card sync\n"
    "       leal card upgrade   (a DESFire EV2/EV3 issued before the Transaction MAC file)\n"
    "       leal card erase [--yes]\n"
    "       leal card block CARD-ID --reason TEXT\n"
    "       leal card unblock CARD-ID --reason TEXT\n"
    "       leal card history CARD-ID\n"
    "       leal card hotlist --program ID\n"
    "Common options: --reader SPEC --allow-virtual --timeout SECONDS --json --db PATH\n"
    "  --keystore PATH --passphrase-file FILE --program ID --operator NAME\n"
    "  --store ID   (the shop the desk stands in; default: the program's only store)\n";

static void desk_init(struct desk_cli *c)
{
    static const char *const names[O_COUNT] = {
        "reader",   "allow-virtual",   "timeout", "json",     "db",
        "keystore", "passphrase-file", "program", "customer", "account",
        "topup",    "welcome-points",  "old",     "reason",   "operator",
        "yes",      "over-limit",      "gift",    "cashback", "store"};
    memset(c, 0, sizeof *c);
    for (int i = 0; i < O_COUNT; i++) {
        c->opts[i].name = names[i];
        c->opts[i].is_flag =
            i == O_VIRTUAL || i == O_JSON || i == O_YES || i == O_OVER_LIMIT || i == O_CASHBACK;
    }
}

static const char *opt(const struct desk_cli *c, int i)
{
    return c->opts[i].val;
}

static void desk_close(struct desk_cli *c)
{
    reader_close(c->reader);
    ledger_close(c->ledger);
    desk_keys_release(&c->dk);
}

/* Ledger, keystore and program: everything but the card. */
static int open_books(struct desk_cli *c)
{
    const struct desk_cli_books o = {opt(c, O_KEYSTORE), opt(c, O_PASSFILE), opt(c, O_PROGRAM),
                                     opt(c, O_DB),       opt(c, O_OPERATOR), opt(c, O_STORE)};
    int rc = desk_cli_open_books(&o, &c->dk, &c->ledger, &c->is);
    c->keys = c->dk.keys;
    return rc;
}

static int open_card(struct desk_cli *c)
{
    return desk_cli_open_card(opt(c, O_READER), opt(c, O_VIRTUAL) != NULL, opt(c, O_TIMEOUT),
                              &c->reader);
}

static const char *tech_name(enum ledger_card_tech t)
{
    return ledger_card_tech_name(t);
}

static bool classic_tech(enum ledger_card_tech t)
{
    return t == LEDGER_TECH_CLASSIC_1K || t == LEDGER_TECH_CLASSIC_4K;
}

/* The view host/desk made of the card (desk_view.h), as text or JSON. */
static void print_card(const struct desk_cli *c, const struct issuance_card *v,
                       enum desk_view_result result)
{
    struct desk_card_view w;
    desk_card_view(c->ledger, v, result, &w);
    if (opt(c, O_JSON)) {
        desk_print_json(&w);
        return;
    }
    printf("%-12s %lld (%s, UID %s%s)\n", "card", (long long)w.card_id, w.technology, w.uid,
           w.random_uid ? ", random UID" : "");
    printf("%-12s %lld%s, card %s\n", "account", (long long)w.account_id,
           w.gift_card ? " (gift card)" : "", w.status);
    printf("%-12s %s\n", "purse", w.purse);
    printf("%-12s %u\n", "points", w.points);
    printf("%-12s %u %u %u %u\n", "stamps", w.stamps[0], w.stamps[1], w.stamps[2], w.stamps[3]);
    printf("%-12s %u\n", "taps", w.taps);
    if (w.has_tmc)
        printf("%-12s %u\n", "tmc", w.tmc);
    printf("%-12s version %u\n", "layout", w.layout_version);
    for (int i = 0; i < w.nbonos; i++) {
        const struct desk_view_bono *b = &w.bonos[i];
        char name[80];
        if (b->name[0])
            snprintf(name, sizeof name, "%s", b->name);
        else
            snprintf(name, sizeof name, "bono %u", b->id);
        printf("%-12s %s: %u session%s left%s%s\n", i ? "" : "bonos", name, b->sessions,
               b->sessions == 1 ? "" : "s", b->last_day[0] ? ", until " : "", b->last_day);
    }
    for (int i = 0; i < w.nnotes; i++)
        printf("%-12s %s\n", w.notes[i].topic, w.notes[i].text);
    printf("%-12s %s\n", "ledger", w.agreement);
    for (int i = 0; i < w.noperations; i++) {
        const struct desk_view_operation *op = &w.operations[i];
        char when[32];
        lcli_time_str(op->movement.at, when, sizeof when);
        printf("%-12s %-16s  %-8s %s %s  %s\n", i ? "" : "last", when, op->movement.kind,
               op->amount, op->unit, op->movement.reason);
    }
    if (w.operations_err != LEAL_OK)
        printf("%-12s (not shown: %s)\n", "last", leal_strerror(w.operations_err));
    if (w.has_waiting && w.waiting_err == LEAL_OK && w.waiting)
        lcli_host_change_print(&w.change, false, "waiting     ");
    else if (w.has_waiting && w.waiting_err != LEAL_OK)
        printf("%-12s (not known: %s)\n", "waiting", leal_strerror(w.waiting_err));
}

/* The desk's verdict on a card that lies about money (issuance.h): blocked,
 * nothing posted. */
static int fail_verdict(const struct issuance_card *v)
{
    return cli_error(LEAL_E_CARD_TAMPERED, CLI_EXIT_FAIL,
                     "card %lld is blocked: %s; nothing was posted; keep the card ('leal card "
                     "history %lld' shows why)",
                     (long long)v->card_id, v->why, (long long)v->card_id);
}

static int fail_card(const struct desk_cli *c, leal_err err, const struct issuance_card *v,
                     const char *doing)
{
    if (err == LEAL_E_CARD_TAMPERED && v->verdict)
        return fail_verdict(v);
    if (err == LEAL_E_CARD_KEY_VERSION && v->missing_version) {
        const struct key_role_info *ri = keyset_role_info((enum key_role)v->missing_role);
        fprintf(stderr,
                "leal: %s: the card's %s key is version %u, which this keystore does not hold "
                "(the card is not tampered); use the keystore, or a backup of it, that holds "
                "that version\n",
                doing, ri ? ri->name : "?", v->missing_version);
        return CLI_EXIT_FAIL;
    }
    if (err == LEAL_E_CARD_ALREADY_ISSUED) {
        if (v->card_id == 0)
            return cli_error(err, CLI_EXIT_FAIL,
                             "this card is already a leal card of another issuer or "
                             "program (its keys are not ours); use a blank card");
        if (v->issuer_id && v->issuer_id != c->keys->issuer_id)
            return cli_error(err, CLI_EXIT_FAIL,
                             "this card is already issued by another issuer (%08x); use "
                             "a blank card",
                             v->issuer_id);
        return cli_error(err, CLI_EXIT_FAIL,
                         "this card is already issued: card %lld, account %lld (%s); use a "
                         "blank card, or 'leal card read' to see it",
                         (long long)v->card_id, (long long)v->ledger.account_id,
                         ledger_card_status_name(v->ledger.status));
    }
    return lcli_fail(c->ledger, err, doing);
}

/* A top-up the purse cannot take: over the program's cap, or over the limit a
 * DESFire card was issued with (the card refused it). One line, nothing moved. */
static int fail_over_cap(const struct issuance_card *v, int64_t cents)
{
    char purse[32], add[32], cap[32];
    bool classic = classic_tech(v->tech);
    int64_t limit = classic ? v->classic_cap_cents : v->purse_cap_cents;
    lcli_amount_str("EUR", v->purse_cents, purse, sizeof purse);
    lcli_amount_str("EUR", cents, add, sizeof add);
    lcli_amount_str("EUR", limit, cap, sizeof cap);
    if (v->purse_cents + cents > limit)
        return cli_error(LEAL_E_CARD_BOUNDARY, CLI_EXIT_FAIL,
                         "top-up of card %lld refused: %s on the card plus %s would pass the "
                         "program's %s cap of %s; nothing was written",
                         (long long)v->card_id, purse, add,
                         classic ? "Classic stored-value" : "purse", cap);
    return cli_error(LEAL_E_CARD_BOUNDARY, CLI_EXIT_FAIL,
                     "top-up of card %lld refused by the card: %s on it plus %s passes the purse "
                     "limit it was issued with (the program's cap is now %s); replace the card "
                     "to raise it; nothing was written",
                     (long long)v->card_id, purse, add, cap);
}

/* The one-line error for an issue or replacement the ledger refused
 * before any card was touched (desk_issue.h). */
static int prepare_fail(const struct desk_cli *c, leal_err err, const struct issuance_request *req,
                        const struct desk_issue_check *why)
{
    char what[64];
    switch (why->failed) {
    case DESK_ISSUE_OLD_CARD:
        if (err == LEAL_E_CARD_STATUS_CHANGE)
            return cli_fail(err, "card %lld was already replaced",
                            (long long)req->replaced_card_id);
        return lcli_fail(c->ledger, err, "old card");
    case DESK_ISSUE_CUSTOMER:
        return lcli_fail(c->ledger, err, "customer");
    case DESK_ISSUE_WELCOME:
        snprintf(what, sizeof what, "--welcome-points %lld", (long long)req->welcome_points);
        return lcli_fail(c->ledger, err, what);
    case DESK_ISSUE_GIFT:
        if (err == LEAL_E_CARD_BOUNDARY) {
            lcli_amount_str("EUR", why->purse_cap_cents, what, sizeof what);
            return cli_error(err, CLI_EXIT_FAIL,
                             "issuing the card refused: the new card's purse would hold more "
                             "than the program's purse cap of %s; nothing was written",
                             what);
        }
        return lcli_fail(c->ledger, err, "program");
    default:
        break;
    }
    if (err == LEAL_E_WRONG_PROGRAM)
        return cli_error(err, CLI_EXIT_USAGE,
                         "account %lld belongs to program %lld, not %u: name it with --program "
                         "%lld; nothing was written",
                         (long long)req->account_id, (long long)why->account_program,
                         c->is.program_id, (long long)why->account_program);
    if (err == LEAL_E_UNKNOWN_PROGRAM)
        return cli_error(err, CLI_EXIT_USAGE,
                         "account %lld belongs to program %lld, which this keystore does not "
                         "hold (it holds program %u): its cards need that program's keys; "
                         "nothing was written",
                         (long long)req->account_id, (long long)why->account_program,
                         c->is.program_id);
    return lcli_fail(c->ledger, err, "account");
}

/* After the old card of a replacement was emptied: it must leave the reader,
 * then the new card is waited for. */
static int next_card(struct desk_cli *c)
{
    unsigned timeout = 10;
    int64_t t;
    time_t end;
    leal_err err;
    if (opt(c, O_TIMEOUT) && lcli_id(opt(c, O_TIMEOUT), &t) == LEAL_OK && t <= 3600)
        timeout = (unsigned)t;
    end = time(NULL) + (time_t)timeout;
    for (;;) {
        reader_release(c->reader);
        if (reader_wait_card(c->reader, 0) != LEAL_OK)
            break; /* gone */
        if (time(NULL) > end)
            return cli_fail(LEAL_E_NO_CARD,
                            "the old card is still on %s; remove it and run "
                            "'leal card replace' again with the new card",
                            reader_name(c->reader));
        nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    }
    if ((err = reader_wait_card(c->reader, timeout * 1000u)) != LEAL_OK)
        return cli_fail(err, "waiting for the new card on %s", reader_name(c->reader));
    return 0;
}

/* The card in the field before a replacement: the old card at the desk is
 * emptied (issuance_empty_old) and the new card waited for; a blank card is
 * the new card (the old one is not at the desk). */
static int old_card_first(struct desk_cli *c, int64_t old_id)
{
    struct issuance_card o;
    char eur[32];
    leal_err err = issuance_empty_old(&c->is, c->reader, old_id, &o);
    if (err == LEAL_E_CARD_NOT_LEAL || err == LEAL_E_CARD_APPLICATION_NOT_FOUND)
        return 0;
    if (err == LEAL_E_CARD_UNKNOWN) {
        return cli_error(err, CLI_EXIT_FAIL,
                         "the card in the reader is card %lld, not card %lld; present card %lld "
                         "or a blank card (nothing was written)",
                         (long long)o.card_id, (long long)old_id, (long long)old_id);
    }
    if (err != LEAL_OK)
        return fail_card(c, err, &o, "emptying the old card");
    lcli_amount_str("EUR", o.purse_cents, eur, sizeof eur);
    /* Straight to the terminal (fd 2), now: with --json, stderr is held for
     * the error's JSON until the command ends, and the person must act. */
    dprintf(STDERR_FILENO,
            "card %lld emptied (%s EUR and %u points taken off it; the ledger keeps them for the "
            "new card): remove it and present the new card\n",
            (long long)old_id, eur, o.state.points);
    return next_card(c);
}

/* --gift EUR: a gift card, whose only opening is the gift (no customer, no
 * account named, no top-up, no welcome points). */
static int gift_request(const struct desk_cli *c, bool replace, struct issuance_request *req)
{
    if (replace)
        return cli_usage(
            "card replace takes no --gift (the new card keeps the old card's account)");
    if (opt(c, O_CUSTOMER) || opt(c, O_ACCOUNT) || opt(c, O_TOPUP) || opt(c, O_WELCOME) ||
        opt(c, O_OVER_LIMIT))
        return cli_usage("card issue --gift takes no --customer, --account, --topup, "
                         "--welcome-points or --over-limit: a gift card has no customer and its "
                         "purse is the gift");
    if (lcli_amount("EUR", opt(c, O_GIFT), &req->topup_cents) != LEAL_OK || req->topup_cents <= 0)
        return cli_usage("bad --gift '%s': write euros like 25 or 12,50", opt(c, O_GIFT));
    req->gift = true;
    return 0;
}

/* One welcome per account (RULES.md 3): desk welcome points are refused when
 * the program's rules give their own welcome at the card's first sale. */
static int welcome_once(struct desk_cli *c, const struct issuance_request *req)
{
    struct rules_program p;
    uint32_t version;
    leal_err err;
    if (req->welcome_points == 0)
        return 0;
    if ((err = ledger_rules_load(c->ledger, c->is.program_id, &p, &version)) != LEAL_OK)
        return lcli_fail(c->ledger, err, "card issue");
    if (p.welcome_points == 0)
        return 0;
    return cli_error(LEAL_E_USAGE, CLI_EXIT_USAGE,
                     "--welcome-points: program %u's rules (version %u) give %u welcome points "
                     "at the account's first sale; issue the card without --welcome-points "
                     "(one welcome per account)",
                     c->is.program_id, version, p.welcome_points);
}

static int desk_issue(struct desk_cli *c, bool replace)
{
    struct issuance_request req = {0};
    struct issuance_card v;
    struct desk_issue_check why;
    int64_t customer = 0;
    leal_err err;
    int rc;

    if (opt(c, O_GIFT)) {
        if ((rc = gift_request(c, replace, &req)) != 0)
            return rc;
    } else if (replace) {
        if (opt(c, O_OLD) == NULL || lcli_id(opt(c, O_OLD), &req.replaced_card_id) != LEAL_OK)
            return cli_usage("card replace needs --old CARD-ID");
        req.replacing = true;
    } else {
        if (opt(c, O_CUSTOMER) == NULL || lcli_id(opt(c, O_CUSTOMER), &customer) != LEAL_OK)
            return cli_usage("card issue needs --customer ID");
        if (opt(c, O_ACCOUNT) && lcli_id(opt(c, O_ACCOUNT), &req.account_id) != LEAL_OK)
            return cli_usage("bad --account '%s'", opt(c, O_ACCOUNT));
        if (opt(c, O_WELCOME) && lcli_id(opt(c, O_WELCOME), &req.welcome_points) != LEAL_OK)
            return cli_usage("bad --welcome-points '%s' (a whole number)", opt(c, O_WELCOME));
    }
    if (!req.gift && opt(c, O_TOPUP) &&
        (lcli_amount("EUR", opt(c, O_TOPUP), &req.topup_cents) != LEAL_OK || req.topup_cents <= 0))
        return cli_usage("bad --topup '%s': write euros like 20 or 12,50", opt(c, O_TOPUP));
    if ((rc = open_books(c)) != 0 || (rc = welcome_once(c, &req)) != 0)
        return rc;
    if ((err = desk_issue_prepare(&c->is, customer, opt(c, O_OVER_LIMIT) != NULL, &req, &why)) !=
        LEAL_OK)
        return prepare_fail(c, err, &req, &why);
    if ((rc = open_card(c)) != 0)
        return rc;
    if (replace && (rc = old_card_first(c, req.replaced_card_id)) != 0)
        return rc;
    if ((err = issuance_issue(&c->is, c->reader, &req, &v)) != LEAL_OK) {
        if (replace && err == LEAL_E_CARD_STORED_VALUE_OFF && req.topup_cents == 0) {
            char eur[32];
            lcli_amount_str("EUR", v.account_eur, eur, sizeof eur);
            return cli_error(err, CLI_EXIT_FAIL,
                             "card %lld holds %s EUR and stored value is off on MIFARE Classic "
                             "cards (Classic money can be copied); replace it with a DESFire "
                             "card (nothing was written)",
                             (long long)req.replaced_card_id, eur);
        }
        if (err == LEAL_E_CARD_BOUNDARY && v.card_id == 0) {
            char cap[32];
            bool classic = classic_tech(v.tech);
            lcli_amount_str("EUR", classic ? v.classic_cap_cents : v.purse_cap_cents, cap,
                            sizeof cap);
            char held[64] = "";
            if (replace) {
                char eur[32];
                lcli_amount_str("EUR", v.account_eur, eur, sizeof eur);
                snprintf(held, sizeof held, " (card %lld holds %s EUR)",
                         (long long)req.replaced_card_id, eur);
            }
            return cli_error(err, CLI_EXIT_FAIL,
                             "%s refused: the new card's purse would hold more than the "
                             "program's %s cap of %s%s; nothing was written",
                             replace ? "replacing the card" : "issuing the card",
                             classic ? "Classic stored-value" : "purse", cap, held);
        }
        return fail_card(c, err, &v, replace ? "replacing the card" : "issuing the card");
    }
    print_card(c, &v, replace ? DESK_VIEW_REPLACED : DESK_VIEW_ISSUED);
    /* One rule for issue, top-up and read: card and ledger differing is a failure. */
    return v.agrees ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int desk_read(struct desk_cli *c)
{
    struct issuance_card v;
    leal_err err;
    int rc;
    if ((rc = open_books(c)) != 0 || (rc = open_card(c)) != 0)
        return rc;
    err = issuance_read(&c->is, c->reader, &v);
    if (err == LEAL_E_CARD_TAMPERED && v.verdict)
        return fail_verdict(&v);
    if (err == LEAL_E_CARD_TAMPERED)
        return cli_error(err, CLI_EXIT_FAIL,
                         "card %lld does not verify: TAMPERED (its data or keys are not "
                         "what leal wrote); keep the card and block it",
                         (long long)v.card_id);
    if (err != LEAL_OK)
        return fail_card(c, err, &v, "reading the card");
    print_card(c, &v, DESK_VIEW_READ);
    return v.agrees ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* leal card top-up --cashback: what the account is owed, onto the purse. */
static int desk_cashback(struct desk_cli *c)
{
    struct issuance_card v;
    char euros[32];
    leal_err err;
    int rc;
    if ((rc = open_books(c)) != 0 || (rc = open_card(c)) != 0)
        return rc;
    if ((err = issuance_load_cashback(&c->is, c->reader, &v)) != LEAL_OK) {
        if (err == LEAL_E_CARD_BOUNDARY)
            return fail_over_cap(&v, v.cashback_cents);
        return fail_card(c, err, &v, "loading the cashback");
    }
    if (v.cashback_cents == 0)
        return cli_error(LEAL_E_STATE, CLI_EXIT_FAIL,
                         "account %lld is owed no cashback; nothing was written",
                         (long long)v.ledger.account_id);
    print_card(c, &v, DESK_VIEW_TOPPED_UP);
    lcli_amount_str("EUR", v.cashback_cents, euros, sizeof euros);
    if (!opt(c, O_JSON))
        printf("%-12s %s EUR loaded onto the purse\n", "cashback", euros);
    return v.agrees ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int desk_topup(struct desk_cli *c)
{
    struct issuance_card v;
    int64_t cents;
    leal_err err;
    int rc;
    if (opt(c, O_CASHBACK))
        return c->npos ? cli_usage("card top-up --cashback takes no AMOUNT: it loads what the "
                                   "account is owed")
                       : desk_cashback(c);
    if (c->npos != 1 || lcli_amount("EUR", c->pos[0], &cents) != LEAL_OK || cents <= 0)
        return cli_usage("card top-up needs an AMOUNT in euros, like 20 or 12,50");
    if ((rc = open_books(c)) != 0 || (rc = open_card(c)) != 0)
        return rc;
    if ((err = issuance_topup(&c->is, c->reader, cents, &v)) != LEAL_OK) {
        if (err == LEAL_E_CARD_BOUNDARY)
            return fail_over_cap(&v, cents);
        return fail_card(c, err, &v, "topping up the card");
    }
    print_card(c, &v, DESK_VIEW_TOPPED_UP);
    return v.agrees ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int desk_sync(struct desk_cli *c)
{
    struct issuance_card v;
    leal_err err;
    int rc;
    if ((rc = open_books(c)) != 0 || (rc = open_card(c)) != 0)
        return rc;
    err = issuance_sync(&c->is, c->reader, &v);
    if (err == LEAL_E_CARD_TAMPERED && v.verdict)
        return fail_verdict(&v);
    if (err == LEAL_E_CARD_NOT_LEAL && v.card_id != 0) {
        return cli_error(err, CLI_EXIT_FAIL,
                         "card %lld is not in this ledger: its state is not one the ledger knows; "
                         "nothing was written",
                         (long long)v.card_id);
    }
    if (err == LEAL_E_CARD_TOPUP_UNSETTLED) {
        return cli_error(err, CLI_EXIT_FAIL,
                         "card %lld is not synced: %s; settle it by hand first; nothing was "
                         "written",
                         (long long)v.card_id, v.why);
    }
    if (err == LEAL_E_CARD_BLOCKED) {
        return cli_error(err, CLI_EXIT_FAIL,
                         "card %lld is %s in the ledger: nothing to sync it with; nothing "
                         "was written",
                         (long long)v.card_id, ledger_card_status_name(v.ledger.status));
    }
    if (err == LEAL_E_RANGE) {
        return cli_error(
            err, CLI_EXIT_FAIL,

            "card %lld holds %u points, fewer than the ledger's changes take off (%s); "
            "import the terminals' journals first; nothing was written",
            (long long)v.card_id, v.state.points, v.why);
    }
    if (err != LEAL_OK)
        return fail_card(c, err, &v, "syncing the card");
    print_card(c, &v, DESK_VIEW_SYNCED);
    return v.agrees ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* leal card upgrade: the Transaction MAC file onto an EV2/EV3 issued before
 * it (issuance_add_tmac); run again, it says the card has it. */
static int desk_upgrade(struct desk_cli *c)
{
    struct issuance_card v;
    char why[320];
    leal_err err;
    int rc;
    if ((rc = open_books(c)) != 0 || (rc = open_card(c)) != 0)
        return rc;
    err = issuance_add_tmac(&c->is, c->reader, &v);
    if (err == LEAL_E_CARD_TAMPERED && v.verdict)
        return fail_verdict(&v);
    if (desk_cli_upgrade_refused(err, &v, why, sizeof why))
        return cli_error(err, CLI_EXIT_FAIL, "%s", why);
    if (err != LEAL_OK)
        return fail_card(c, err, &v, "upgrading the card");
    print_card(c, &v, v.tmac_added ? DESK_VIEW_TMAC_ADDED : DESK_VIEW_TMAC_PRESENT);
    if (!opt(c, O_JSON)) {
        if (v.tmac_added)
            printf("%-12s file 0x0F added (tmac key version %u): from the next terminal package "
                   "its taps are journaled with the card's TMC and TMV\n",
                   "tmac", v.tmac_version);
        else
            printf("%-12s the card has its Transaction MAC file already (tmac key version %u); "
                   "nothing was changed\n",
                   "tmac", v.tmac_version);
    }
    return v.agrees ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int desk_erase(struct desk_cli *c)
{
    struct issuance_card v;
    leal_err err;
    int rc;
    if (!opt(c, O_YES)) {
        char line[16];
        if (!isatty(0))
            return cli_usage("card erase wipes the card; confirm with --yes");
        fputs("Erase the card in the reader back to its factory state? Type ERASE: ", stderr);
        if (fgets(line, sizeof line, stdin) == NULL || strcmp(line, "ERASE\n") != 0)
            return cli_usage("not erased");
    }
    if ((rc = open_books(c)) != 0 || (rc = open_card(c)) != 0)
        return rc;
    if ((err = issuance_erase(&c->is, c->reader, &v)) != LEAL_OK) {
        if (err == LEAL_E_CARD_BOUNDARY) {
            /* The whole story: the card's own boundary answer would mislead. */
            return cli_error(err, CLI_EXIT_FAIL,
                             "card %lld holds money; replace it ('leal card replace') or spend "
                             "it first",
                             (long long)v.card_id);
        }
        return fail_card(c, err, &v, "erasing the card");
    }
    if (opt(c, O_JSON))
        printf("{\"result\":\"erased\",\"card_id\":%lld,\"technology\":\"%s\","
               "\"round_trips\":%u,\"bytes\":%lu}\n",
               (long long)v.card_id, tech_name(v.tech), v.round_trips, v.bytes);
    else
        printf("erased card %lld: factory state; its history stays in the ledger\n",
               (long long)v.card_id);
    return CLI_EXIT_OK;
}

static int desk_block(struct desk_cli *c, bool block)
{
    const char *operator_name;
    struct ledger_card lc;
    struct ledger_account a;
    int64_t card_id;
    char note[LEDGER_TEXT];
    leal_err err;
    int rc;
    if (c->npos != 1 || lcli_id(c->pos[0], &card_id) != LEAL_OK)
        return cli_usage("card %s needs a CARD-ID", block ? "block" : "unblock");
    if (opt(c, O_REASON) == NULL || opt(c, O_REASON)[0] == '\0')
        return cli_usage("card %s needs --reason TEXT", block ? "block" : "unblock");
    if ((rc = lcli_open(opt(c, O_DB), &c->ledger)) != 0)
        return rc;
    operator_name = opt(c, O_OPERATOR) ? opt(c, O_OPERATOR) : "desk";
    /* The status with why and who in the card's history, and the same on the
     * customer's record: one transaction. */
    if ((err = ledger_batch_begin(c->ledger)) != LEAL_OK)
        return lcli_fail(c->ledger, err, "opening the ledger");
    err =
        ledger_qr_card_status(c->ledger, card_id, block ? LEDGER_CARD_BLOCKED : LEDGER_CARD_ACTIVE,
                              opt(c, O_REASON), operator_name);
    if (err == LEAL_OK && (err = ledger_card_find_by_id(c->ledger, card_id, &lc)) == LEAL_OK &&
        (err = ledger_account_get(c->ledger, lc.account_id, &a)) == LEAL_OK && a.customer_id) {
        snprintf(note, sizeof note, "card %lld %s: %.180s", (long long)card_id,
                 block ? "blocked" : "unblocked", opt(c, O_REASON));
        err = ledger_note_add(c->ledger, a.customer_id, operator_name, note, 0);
    }
    if (err == LEAL_OK)
        err = ledger_batch_commit(c->ledger);
    if (err != LEAL_OK) {
        ledger_batch_rollback(c->ledger);
        return lcli_fail(c->ledger, err, block ? "blocking the card" : "unblocking the card");
    }
    if (opt(c, O_JSON)) {
        printf("{\"card_id\":%lld,\"status\":\"%s\"}\n", (long long)card_id,
               block ? "blocked" : "active");
        return CLI_EXIT_OK;
    }
    printf("card %lld %s%s\n", (long long)card_id, block ? "blocked" : "unblocked",
           block ? "; it goes on the hot list of the next terminal package" : "");
    return CLI_EXIT_OK;
}

#define EVENTS_HEADER "card          when              status    why (who)"

struct events_out {
    bool json;
    int n;
};

static int print_event(void *ctx, const struct ledger_card_event *e)
{
    struct events_out *x = ctx;
    char when[64];
    lcli_time_str(e->at, when, sizeof when);
    if (x->json) {
        printf("%s{\"card_id\":%lld,\"at\":%lld,\"status\":\"%s\",\"reason\":", x->n ? "," : "",
               (long long)e->card_id, (long long)e->at, ledger_card_status_name(e->status));
        cli_json_string(stdout, e->reason);
        fputs(",\"operator\":", stdout);
        cli_json_string(stdout, e->operator_name);
        putchar('}');
    } else {
        printf("%-12lld  %-16s  %-8s  %s%s%s%s\n", (long long)e->card_id, when,
               ledger_card_status_name(e->status), e->reason, e->operator_name[0] ? " (" : "",
               e->operator_name, e->operator_name[0] ? ")" : "");
    }
    x->n++;
    return 0;
}

/* Every status the card took, oldest first: the desk's answer to "what
 * happened to this card". */
static int desk_history(struct desk_cli *c)
{
    struct events_out x = {opt(c, O_JSON) != NULL, 0};
    int64_t card_id;
    leal_err err;
    int rc;
    if (c->npos != 1 || lcli_id(c->pos[0], &card_id) != LEAL_OK)
        return cli_usage("card history needs a CARD-ID");
    if ((rc = lcli_open(opt(c, O_DB), &c->ledger)) != 0)
        return rc;
    if (x.json)
        fputs("{\"events\":[", stdout);
    else
        puts(EVENTS_HEADER);
    err = ledger_card_history(c->ledger, card_id, print_event, &x);
    if (err != LEAL_OK) {
        if (x.json)
            fputs("]}\n", stdout);
        return lcli_fail(c->ledger, err, "reading the card's history");
    }
    if (x.json)
        fputs("]}\n", stdout);
    return CLI_EXIT_OK;
}

/* The cards terminals must refuse: blocked, lost or replaced, each with
 * since when and why. */
static int desk_hotlist(struct desk_cli *c)
{
    struct events_out x = {opt(c, O_JSON) != NULL, 0};
    int64_t program;
    leal_err err;
    int rc;
    if (c->npos != 0)
        return cli_usage("card hotlist takes no operand");
    if (opt(c, O_PROGRAM) == NULL || lcli_id(opt(c, O_PROGRAM), &program) != LEAL_OK)
        return cli_usage("card hotlist needs --program ID");
    if ((rc = lcli_open(opt(c, O_DB), &c->ledger)) != 0)
        return rc;
    {
        struct ledger_program p;
        if ((err = ledger_program_get(c->ledger, program, &p)) != LEAL_OK)
            return lcli_fail(c->ledger, err, "the hot list");
    }
    if (x.json)
        printf("{\"program\":%lld,\"cards\":[", (long long)program);
    else
        puts(EVENTS_HEADER);
    err = ledger_card_hotlist(c->ledger, program, print_event, &x);
    if (x.json)
        fputs("]}\n", stdout);
    else if (err == LEAL_OK && x.n == 0)
        printf("(no card of program %lld is blocked, lost or replaced)\n", (long long)program);
    if (err != LEAL_OK)
        return lcli_fail(c->ledger, err, "the hot list");
    return CLI_EXIT_OK;
}

int card_desk(const char *sub, int argc, char **argv)
{
    struct desk_cli c;
    int rc;
    desk_init(&c);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(desk_usage, stdout);
            return CLI_EXIT_OK;
        }
    c.npos = 2;
    if ((rc = lcli_parse(argc, argv, c.opts, O_COUNT, c.pos, &c.npos)) != 0)
        return rc;
    if (strcmp(sub, "issue") == 0)
        rc = c.npos ? cli_usage("card issue takes no operand") : desk_issue(&c, false);
    else if (strcmp(sub, "replace") == 0)
        rc = c.npos ? cli_usage("card replace takes no operand") : desk_issue(&c, true);
    else if (strcmp(sub, "read") == 0)
        rc = c.npos ? cli_usage("card read takes no operand") : desk_read(&c);
    else if (strcmp(sub, "top-up") == 0)
        rc = desk_topup(&c);
    else if (strcmp(sub, "erase") == 0)
        rc = desk_erase(&c);
    else if (strcmp(sub, "sync") == 0)
        rc = c.npos ? cli_usage("card sync takes no operand") : desk_sync(&c);
    else if (strcmp(sub, "upgrade") == 0)
        rc = c.npos ? cli_usage("card upgrade takes no operand") : desk_upgrade(&c);
    else if (strcmp(sub, "block") == 0 || strcmp(sub, "unblock") == 0)
        rc = desk_block(&c, strcmp(sub, "block") == 0);
    else if (strcmp(sub, "history") == 0)
        rc = desk_history(&c);
    else if (strcmp(sub, "hotlist") == 0)
        rc = desk_hotlist(&c);
    else
        rc = cli_usage("card: unknown subcommand '%s'", sub);
    desk_close(&c);
    return rc;
}
