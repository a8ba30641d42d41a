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

/* The holder set to name (its audit line: the holder before and after). */
struct holder_change {
    const char *name;
    char before[LEDGER_TEXT], bj[LEDGER_TEXT * 2 + 16], aj[LEDGER_TEXT * 2 + 16];
};

static leal_err holder_change(struct ledger *l, int64_t card, struct ledger_audit_line *a,
                              void *ctx)
{
    struct holder_change *h = ctx;
    leal_err err;
    if ((err = ledger_card_holder_get(l, card, h->before)) == LEAL_OK &&
        (err = ledger_card_holder_set(l, card, h->name)) == LEAL_OK) {
        a->before = holder_json(h->before, h->bj, sizeof h->bj);
        a->after = holder_json(h->name, h->aj, sizeof h->aj);
    }
    return err;
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
    struct holder_change h;
    const char *name;
    int64_t card;
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
    if ((rc = lcli_open(o[2].val, &l)) != 0)
        return rc;
    h.name = name;
    rc = lcli_card_apply(l, &(struct lcli_card_change){.card = card,
                                                       .op = o[1].val,
                                                       .action = "card.holder",
                                                       .what = "the card's holder",
                                                       .change = holder_change,
                                                       .ctx = &h});
    ledger_close(l);
    if (rc != 0)
        return rc;
    if (o[3].val) {
        printf("{\"card_id\":%lld,\"holder\":", (long long)card);
        cli_json_string(stdout, name);
        printf("}\n");
    } else if (name[0]) {
        printf("card %lld: held by %s\n", (long long)card, name);
    } else {
        printf("card %lld: %s\n", (long long)card,
               h.before[0] ? "holder removed" : "had no holder");
    }
    return CLI_EXIT_OK;
}
