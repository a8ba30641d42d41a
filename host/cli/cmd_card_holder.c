/* cmd_card_holder.c - `leal card holder CARD-ID NAME|--clear`: the name of the
 * person who carries a card of a family account (host/ledger/ledger_family.h),
 * kept in the ledger only, never written to the card. The back office lists
 * the account's cards with their holders. Each change goes to the audit log. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger_family.h"
#include "host/ledger/ledger_user.h"
#include "ledger_cli.h"

static const char holder_usage[] =
    "usage: leal card holder CARD-ID NAME [--operator NAME] [--db PATH] [--json]\n"
    "       leal card holder CARD-ID --clear [--operator NAME] [--db PATH] [--json]\n"
    "The name of the person who carries the card, for an account with several cards\n"
    "(family cards: 'leal card issue --customer ID --account ID' adds one). Kept in\n"
    "the ledger only, never on the card; 'leal customer export' lists it and 'leal\n"
    "customer erase' removes it. --clear removes the name.\n";

/* The audit line's {"holder": NAME}, or NULL for none. */
static const char *holder_json(const char *name, char *out, size_t cap)
{
    json_t *j;
    char *s;
    if (name[0] == '\0')
        return NULL;
    j = json_pack("{s:s}", "holder", name);
    s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    snprintf(out, cap, "%s", s ? s : "{}");
    free(s);
    return out;
}

int card_holder(int argc, char **argv)
{
    struct lcli_opt o[] = {{"clear", true, NULL},
                           {"operator", false, NULL},
                           {"db", false, NULL},
                           {"json", true, NULL},
                           {"help", true, NULL}};
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    struct ledger *l = NULL;
    char before[LEDGER_TEXT], bj[LEDGER_TEXT * 2 + 16], aj[LEDGER_TEXT * 2 + 16], object[48];
    const char *name, *op;
    int64_t card;
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, sizeof o / sizeof o[0], pos, &npos)) != 0)
        return rc;
    if (o[4].val) {
        fputs(holder_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != (o[0].val ? 1u : 2u) || lcli_id(pos[0], &card) != LEAL_OK)
        return cli_usage("leal card holder CARD-ID NAME, or CARD-ID --clear ('leal card holder "
                         "--help')");
    name = o[0].val ? "" : pos[1];
    if (!o[0].val && name[0] == '\0')
        return cli_usage("leal card holder: the NAME is empty; use --clear to remove it");
    op = o[1].val ? o[1].val : "desk";
    if ((rc = lcli_open(o[2].val, &l)) != 0)
        return rc;
    snprintf(object, sizeof object, "card %lld", (long long)card);
    if ((err = ledger_batch_begin(l)) == LEAL_OK) {
        struct ledger_audit_line a = {0, op, "card.holder", object, NULL, NULL};
        if ((err = ledger_card_holder_get(l, card, before)) == LEAL_OK &&
            (err = ledger_card_holder_set(l, card, name)) == LEAL_OK) {
            a.before = holder_json(before, bj, sizeof bj);
            a.after = holder_json(name, aj, sizeof aj);
            err = ledger_audit_add(l, &a);
        }
        if (err == LEAL_OK)
            err = ledger_batch_commit(l);
        else
            ledger_batch_rollback(l);
    }
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "the card's holder");
        ledger_close(l);
        return rc;
    }
    ledger_close(l);
    if (o[3].val) {
        printf("{\"card_id\":%lld,\"holder\":", (long long)card);
        cli_json_string(stdout, name);
        printf("}\n");
    } else if (name[0]) {
        printf("card %lld: held by %s\n", (long long)card, name);
    } else {
        printf("card %lld: %s\n", (long long)card, before[0] ? "holder removed" : "had no holder");
    }
    return CLI_EXIT_OK;
}
