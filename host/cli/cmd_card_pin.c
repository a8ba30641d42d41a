/* cmd_card_pin.c - `leal card pin set|clear CARD`: the PIN a customer signs in
 * to the portal with, beside the card's number (host/web/web_portal.c). The
 * PIN comes from --pin-file (its first line), else standard input when it is
 * not a terminal (its first line), else a no-echo prompt on the terminal,
 * asked twice; never from argv. The ledger keeps its Argon2id hash
 * (host/ledger/ledger_portal_pin.h). Each change goes to the audit log. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "host/keys/passphrase.h"
#include "host/ledger/ledger_portal_pin.h"
#include "host/ledger/ledger_user.h"
#include "host/web/web_auth.h"
#include "keys/base/ct.h"
#include "ledger_cli.h"

static const char pin_usage[] =
    "usage: leal card pin set CARD-ID [--pin-file F] [--operator NAME] [--db PATH] [--json]\n"
    "       leal card pin clear CARD-ID [--operator NAME] [--db PATH] [--json]\n"
    "The PIN a customer signs in to the portal with (/portal/, 'leal serve'), with the\n"
    "card's number. A PIN is 4 to 8 digits, read from --pin-file (its first line), else\n"
    "from standard input when it is not a terminal, else asked twice on the terminal\n"
    "without echo; never from the command line. The ledger keeps its Argon2id hash\n"
    "(t=2, m=19 MiB, p=1). Ten wrong PINs in a row lock it until it is set again; the\n"
    "portal also refuses the sixth try in a minute for a card or from an address. A\n"
    "card that is not active cannot sign in. 'clear' removes the card's PIN.\n";

/* The new PIN from the file, standard input or the terminal (twice). */
static int read_pin(const char *file, struct passphrase *pin)
{
    struct passphrase again;
    bool tty = file == NULL && isatty(STDIN_FILENO);
    leal_err err = passphrase_get(file  ? file
                                  : tty ? NULL
                                        : "/dev/stdin",
                                  NULL, "card PIN", false, pin);
    if (err == LEAL_OK && tty) {
        if ((err = passphrase_get(NULL, NULL, "card PIN again", false, &again)) == LEAL_OK &&
            (again.len != pin->len || !leal_ct_equal(again.text, pin->text, pin->len)))
            err = LEAL_E_PASSPHRASE;
        passphrase_clear(&again);
    }
    if (err == LEAL_E_PASSPHRASE)
        return cli_error(err, CLI_EXIT_USAGE, "the two PINs differ; nothing was changed");
    if (err == LEAL_OK && !web_auth_pin_ok(pin->text))
        err = LEAL_E_PORTAL_PIN_FORMAT;
    if (err == LEAL_E_PORTAL_PIN_FORMAT || err == LEAL_E_NO_PASSPHRASE) {
        passphrase_clear(pin);
        return cli_error(err, CLI_EXIT_USAGE,
                         "the PIN must be 4 to 8 digits (from --pin-file, standard input or the "
                         "terminal); nothing was changed");
    }
    if (err != LEAL_OK)
        return cli_passphrase_fail(err, file, "--pin-file", "", "card PIN");
    return 0;
}

/* The PIN's hash set, or (hash NULL) the PIN removed: removed says whether
 * there was one (without, no audit line). */
struct pin_change {
    const char *hash;
    bool removed;
};

static leal_err pin_change(struct ledger *l, int64_t card, struct ledger_audit_line *a, void *ctx)
{
    struct pin_change *p = ctx;
    leal_err err;
    if (p->hash)
        return ledger_card_pin_set(l, card, p->hash, a->actor);
    if ((err = ledger_card_pin_clear(l, card, &p->removed)) == LEAL_OK && !p->removed)
        a->action = NULL;
    return err;
}

int card_pin(int argc, char **argv)
{
    struct lcli_opt o[] = {{"pin-file", false, NULL},
                           {"operator", false, NULL},
                           {"db", false, NULL},
                           {"json", true, NULL},
                           {"help", true, NULL}};
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    struct passphrase pin;
    struct ledger *l = NULL;
    char hash[WEB_AUTH_HASH_MAX];
    struct pin_change change = {NULL, true};
    int64_t card;
    bool set;
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, sizeof o / sizeof o[0], pos, &npos)) != 0)
        return rc;
    if (o[4].val) {
        fputs(pin_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 2 || (strcmp(pos[0], "set") != 0 && strcmp(pos[0], "clear") != 0) ||
        lcli_id(pos[1], &card) != LEAL_OK)
        return cli_usage("leal card pin set|clear CARD-ID ('leal card pin --help')");
    set = strcmp(pos[0], "set") == 0;
    if (!set && o[0].val)
        return cli_usage("leal card pin clear takes no --pin-file");
    if ((rc = lcli_open(o[2].val, &l)) != 0)
        return rc;
    if (set) {
        if ((rc = read_pin(o[0].val, &pin)) != 0) {
            ledger_close(l);
            return rc;
        }
        err = web_auth_pin_hash(pin.text, hash, sizeof hash);
        passphrase_clear(&pin);
        if (err != LEAL_OK) {
            ledger_close(l);
            return cli_fail(err, "hashing the PIN");
        }
        change.hash = hash;
    }
    rc = lcli_card_apply(l, &(struct lcli_card_change){
                                .card = card,
                                .op = o[1].val,
                                .action = set ? "card.pin-set" : "card.pin-clear",
                                .what = set ? "setting the card's PIN" : "clearing the card's PIN",
                                .change = pin_change,
                                .ctx = &change});
    leal_wipe(hash, sizeof hash);
    ledger_close(l);
    if (rc != 0)
        return rc;
    if (o[3].val)
        printf("{\"card_id\":%lld,\"pin\":%s}\n", (long long)card, set ? "true" : "false");
    else if (set)
        printf("card %lld: PIN set; the customer signs in at /portal/ with the card's number "
               "and it\n",
               (long long)card);
    else
        printf("card %lld: %s\n", (long long)card, change.removed ? "PIN removed" : "had no PIN");
    return CLI_EXIT_OK;
}
