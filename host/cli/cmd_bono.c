/* cmd_bono.c - bonos at the desk: `leal bono sell` and `leal bono use` on the
 * card in the reader (host/issuance: issuance_bono_sell, issuance_bono_use;
 * cardlayout/LAYOUT.md 4; the books in host/ledger/ledger_bono.h). The bono
 * kinds are the program's rule set's (`leal bono add|list|show|remove`,
 * cmd_rules.c), named by name or id. Every option is checked before the
 * keystore, the ledger or the card is opened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "desk_cli.h"
#include "host/desk/desk_keys.h"
#include "host/issuance/issuance.h"
#include "host/ledger/ledger_bono.h"
#include "host/ledger/ledger_rules.h"
#include "ledger_cli.h"

#define DAY_SECONDS 86400

enum {
    B_CARD,
    B_READER,
    B_VIRTUAL,
    B_TIMEOUT,
    B_JSON,
    B_DB,
    B_KEYSTORE,
    B_PASSFILE,
    B_PROGRAM,
    B_OPERATOR,
    B_KIND,
    B_SESSIONS,
    B_PRICE,
    B_EXPIRES,
    B_STORE,
    B_HELP,
    B_COUNT
};

static const char bono_desk_usage[] =
    "usage: leal bono sell --kind NAME|ID [--sessions N] [--price EUR] [--expires YYYY-MM-DD]\n"
    "       leal bono use --kind NAME|ID\n"
    "The card in the reader (--card ID: refused unless it is that card). A sale takes the\n"
    "kind's sessions and price unless given; it lasts the kind's valid days from today (its\n"
    "last day: today + valid days; none when the kind has none) unless --expires says. A use\n"
    "takes one session off the card and recognises its revenue (what is still deferred over\n"
    "the sessions left, rounded down; the last session takes the rest).\n"
    "Options: --card ID --reader SPEC --allow-virtual --timeout SECONDS --json --db PATH\n"
    "  --keystore PATH --passphrase-file FILE --program ID --operator NAME\n"
    "  --store ID (the shop the desk stands in, as leal card's; without it the program's only\n"
    "  store, none when it has several)\n";

struct bono_cli {
    struct lcli_opt opts[B_COUNT];
    struct ledger *ledger;
    struct desk_keys dk;
    struct reader *reader;
    struct issuance is;
    int64_t card_id; /* --card, 0: none */
    /* The kind asked for, from the program's current rule set. */
    struct rules_bono_kind kind;
    char kind_name[LEDGER_RULES_NAME];
};

static const char *bopt(const struct bono_cli *c, int i)
{
    return c->opts[i].val;
}

static void bono_init(struct bono_cli *c)
{
    static const char *const names[B_COUNT] = {
        "card",     "reader",          "allow-virtual", "timeout",  "json", "db",
        "keystore", "passphrase-file", "program",       "operator", "kind", "sessions",
        "price",    "expires",         "store",         "help"};
    memset(c, 0, sizeof *c);
    for (int i = 0; i < B_COUNT; i++) {
        c->opts[i].name = names[i];
        c->opts[i].is_flag = i == B_VIRTUAL || i == B_JSON || i == B_HELP;
    }
}

static void bono_close(struct bono_cli *c)
{
    reader_close(c->reader);
    ledger_close(c->ledger);
    desk_keys_release(&c->dk);
}

/* Ledger, keystore and program: everything but the card. */
static int bono_books(struct bono_cli *c)
{
    const struct desk_cli_books o = {bopt(c, B_KEYSTORE), bopt(c, B_PASSFILE), bopt(c, B_PROGRAM),
                                     bopt(c, B_DB),       bopt(c, B_OPERATOR), bopt(c, B_STORE)};
    return desk_cli_open_books(&o, &c->dk, &c->ledger, &c->is);
}

/* --kind: a name of the program's current rule set, or its id. */
static int bono_kind(struct bono_cli *c)
{
    return desk_cli_bono_kind(c->ledger, c->is.program_id, bopt(c, B_KIND), &c->kind, c->kind_name,
                              sizeof c->kind_name);
}

static int bono_card(struct bono_cli *c)
{
    return desk_cli_open_card(bopt(c, B_READER), bopt(c, B_VIRTUAL) != NULL, bopt(c, B_TIMEOUT),
                              &c->reader);
}

static void day_text(uint32_t day, char out[16])
{
    time_t t = (time_t)day * DAY_SECONDS;
    struct tm tm;
    if (day == 0 || gmtime_r(&t, &tm) == NULL || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
        out[0] = '\0';
}

/* What a bono write could not do, in one line; nothing was written unless said. */
static int bono_fail(const struct bono_cli *c, leal_err err, const struct issuance_card *v,
                     const char *doing)
{
    char cur[16];
    int slot;
    switch (err) {
    case LEAL_E_CARD_TAMPERED:
        if (!v->verdict)
            break;
        return cli_error(err, CLI_EXIT_FAIL,
                         "card %lld is blocked: %s; nothing was posted; keep the card ('leal "
                         "card history %lld' shows why)",
                         (long long)v->card_id, v->why, (long long)v->card_id);
    case LEAL_E_CARD_NO_BONOS:
        return cli_error(err, CLI_EXIT_FAIL,
                         "%s refused: the card in the reader is a MIFARE Classic card, and bonos "
                         "are not on MIFARE Classic cards yet (they stay at layout version 1, "
                         "LAYOUT.md 4.5); sell the bono on a DESFire card; nothing was written",
                         doing);
    case LEAL_E_CARD_UNKNOWN:
        if (v->card_id == 0)
            break;
        return cli_error(err, CLI_EXIT_USAGE,
                         "%s refused: the card in the reader is card %lld, not card %lld; "
                         "present card %lld; nothing was written",
                         doing, (long long)v->card_id, (long long)c->card_id,
                         (long long)c->card_id);
    case LEAL_E_CARD_NOT_LEAL:
        return cli_error(err, CLI_EXIT_FAIL,
                         "%s refused: card %lld is not in this ledger; nothing was written", doing,
                         (long long)v->card_id);
    case LEAL_E_CARD_BLOCKED:
        return cli_error(err, CLI_EXIT_FAIL,
                         "%s refused: card %lld is %s in the ledger; nothing was written", doing,
                         (long long)v->card_id, ledger_card_status_name(v->ledger.status));
    case LEAL_E_CARD_TOPUP_UNSETTLED:
    case LEAL_E_CARD_BONO_UNSETTLED:
        return cli_error(err, CLI_EXIT_FAIL,
                         "%s refused: card %lld: %s; settle it by hand first; nothing was written",
                         doing, (long long)v->card_id, v->why);
    case LEAL_E_NO_SPACE:
        return cli_error(err, CLI_EXIT_USAGE,
                         "%s refused: card %lld already carries four other bonos (the most, "
                         "LAYOUT.md 4.2); use one up first; nothing was written",
                         doing, (long long)v->card_id);
    case LEAL_E_RANGE:
        return cli_error(err, CLI_EXIT_USAGE,
                         "%s refused: card %lld would carry more than 65535 sessions of %s; "
                         "nothing was written",
                         doing, (long long)v->card_id, c->kind_name);
    case LEAL_E_RULES_BONO_EMPTY:
        return cli_error(err, CLI_EXIT_USAGE,
                         "%s refused: card %lld has no sessions of %s left; sell a new one "
                         "('leal bono sell --kind %s'); nothing was written",
                         doing, (long long)v->card_id, c->kind_name, c->kind_name);
    case LEAL_E_RULES_BONO_EXPIRED:
        slot = bono_file_find(&v->bonos, c->kind.id);
        day_text(slot >= 0 ? v->bonos.slot[slot].last_day : 0, cur);
        return cli_error(err, CLI_EXIT_USAGE,
                         "%s refused: card %lld's %s ended on %s; sell a new one ('leal bono "
                         "sell --kind %s'); nothing was written",
                         doing, (long long)v->card_id, c->kind_name, cur, c->kind_name);
    default:
        break;
    }
    return lcli_fail(c->ledger, err, doing);
}

static void print_done(const struct bono_cli *c, const struct issuance_card *v, bool sale,
                       int64_t sessions)
{
    int slot = bono_file_find(&v->bonos, c->kind.id);
    unsigned left = slot >= 0 ? v->bonos.slot[slot].sessions : 0;
    char last[16], euros[32];
    day_text(slot >= 0 ? v->bonos.slot[slot].last_day : 0, last);
    lcli_amount_str("EUR", v->bono_cents, euros, sizeof euros);
    if (bopt(c, B_JSON)) {
        printf("{\"result\":\"%s\",\"card_id\":%lld,\"account_id\":%lld,\"bono_id\":%u,"
               "\"kind\":",
               sale ? "bono-sold" : "bono-used", (long long)v->card_id,
               (long long)v->ledger.account_id, c->kind.id);
        cli_json_string(stdout, c->kind_name);
        printf(",\"sessions\":%lld,\"%s\":%lld,\"sessions_left\":%u,\"last_day\":",
               (long long)sessions, sale ? "price_cents" : "revenue_cents",
               (long long)v->bono_cents, left);
        if (last[0])
            printf("\"%s\"", last);
        else
            fputs("null", stdout);
        printf(",\"ledger_sessions\":%lld,\"layout_version\":%u,\"taps\":%u,\"agrees\":%s,"
               "\"round_trips\":%u,\"bytes\":%lu}\n",
               (long long)v->bono_held, v->layout_version, v->taps, v->agrees ? "true" : "false",
               v->round_trips, v->bytes);
        return;
    }
    if (sale)
        printf("bono sold: %s, %lld session%s for %s EUR on card %lld (account %lld)\n",
               c->kind_name, (long long)sessions, sessions == 1 ? "" : "s", euros,
               (long long)v->card_id, (long long)v->ledger.account_id);
    else
        printf("bono used: one session of %s on card %lld (account %lld), %s EUR earned\n",
               c->kind_name, (long long)v->card_id, (long long)v->ledger.account_id, euros);
    printf("%-12s %u session%s left%s%s; the ledger holds %lld\n", "card", left,
           left == 1 ? "" : "s", last[0] ? ", until " : "", last, (long long)v->bono_held);
    if (!v->agrees)
        printf("%-12s DIFFERS: %s\n", "ledger", v->why);
}

/* --sessions, --price, --expires of a sale, checked before anything is opened. */
static int sale_options(struct bono_cli *c, int64_t *sessions, int64_t *price, uint32_t *last_day,
                        uint32_t today)
{
    int64_t t;
    *sessions = -1;
    *price = -1;
    *last_day = UINT32_MAX;
    if (bopt(c, B_SESSIONS) &&
        (lcli_id(bopt(c, B_SESSIONS), sessions) != LEAL_OK || *sessions > 65535))
        return cli_usage("--sessions '%s': sessions from 1 to 65535", bopt(c, B_SESSIONS));
    if (bopt(c, B_PRICE) && (lcli_amount("EUR", bopt(c, B_PRICE), price) != LEAL_OK || *price < 0 ||
                             *price > RULES_MAX_SALE_CENTS))
        return cli_usage("--price '%s': euros from 0 to 1000000,00, like 45,00", bopt(c, B_PRICE));
    if (bopt(c, B_EXPIRES)) {
        if (lcli_date(bopt(c, B_EXPIRES), &t) != LEAL_OK || t / DAY_SECONDS > 65535)
            return cli_usage("--expires '%s': a date YYYY-MM-DD up to 2149-06-06",
                             bopt(c, B_EXPIRES));
        *last_day = (uint32_t)(t / DAY_SECONDS);
        if (*last_day < today)
            return cli_usage("--expires '%s' is before today: a bono's last day is today or later",
                             bopt(c, B_EXPIRES));
    }
    return 0;
}

static int bono_sell(struct bono_cli *c)
{
    struct issuance_bono_sale sale;
    struct issuance_card v;
    struct rules_civil today;
    int64_t sessions, price;
    uint32_t day, last_day;
    leal_err err;
    int rc;
    if ((rc = desk_cli_today(&today, &day)) != 0 ||
        (rc = sale_options(c, &sessions, &price, &last_day, day)) != 0 ||
        (rc = bono_books(c)) != 0 || (rc = bono_kind(c)) != 0)
        return rc;
    if (sessions < 0)
        sessions = c->kind.sessions;
    if (price < 0)
        price = c->kind.price_cents;
    if (last_day == UINT32_MAX)
        last_day = c->kind.valid_days ? day + c->kind.valid_days : 0;
    if (last_day > 65535)
        return cli_usage("the bono would last past 2149-06-06; give --expires");
    sale = (struct issuance_bono_sale){c->kind.id,         (uint16_t)sessions, price,
                                       (uint16_t)last_day, c->card_id,         (uint16_t)day};
    if ((rc = bono_card(c)) != 0)
        return rc;
    if ((err = issuance_bono_sell(&c->is, c->reader, &sale, &v)) != LEAL_OK)
        return bono_fail(c, err, &v, "selling the bono");
    print_done(c, &v, true, sessions);
    return CLI_EXIT_OK;
}

static int bono_use(struct bono_cli *c)
{
    struct issuance_card v;
    struct rules_civil today;
    uint32_t day;
    leal_err err;
    int rc;
    if (bopt(c, B_SESSIONS) || bopt(c, B_PRICE) || bopt(c, B_EXPIRES))
        return cli_usage("leal bono use takes one session: no --sessions, --price or --expires");
    if ((rc = desk_cli_today(&today, &day)) != 0 || (rc = bono_books(c)) != 0 ||
        (rc = bono_kind(c)) != 0 || (rc = bono_card(c)) != 0)
        return rc;
    if ((err = issuance_bono_use(&c->is, c->reader, c->kind.id, &today, c->card_id, &v)) != LEAL_OK)
        return bono_fail(c, err, &v, "using the bono");
    print_done(c, &v, false, 1);
    return CLI_EXIT_OK;
}

static const char bono_expire_usage[] =
    "usage: leal bono expire --program ID --operator NAME [--today YYYY-MM-DD] [--db PATH]\n"
    "                        [--json]\n"
    "Every bono of the program whose last day is before --today (default: today, the desk's\n"
    "local date) loses its sessions left, and the euros still deferred for them move from\n"
    "bonos_sold to breakage (revenue of sessions never used). The card keeps showing them\n"
    "and no terminal or desk uses them. Twice changes nothing. Run it after the terminals\n"
    "have synced: a session used before the last day and imported later is held.\n";

/* leal bono expire: the ledger's sweep (ledger_bono_expire); no card. */
int bono_expire(int argc, char **argv)
{
    enum { E_PROGRAM, E_OPERATOR, E_TODAY, E_DB, E_JSON, E_HELP, E_COUNT };
    struct lcli_opt o[E_COUNT] = {{"program", false, NULL}, {"operator", false, NULL},
                                  {"today", false, NULL},   {"db", false, NULL},
                                  {"json", true, NULL},     {"help", true, NULL}};
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    struct ledger_bono_expired out;
    struct rules_civil now;
    struct ledger *l = NULL;
    char euros[32];
    int64_t program, t;
    uint32_t day;
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, E_COUNT, pos, &npos)) != 0)
        return rc;
    if (o[E_HELP].val) {
        fputs(bono_expire_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (npos > 0)
        return cli_usage("leal bono expire: unexpected argument '%s'", pos[0]);
    if (o[E_PROGRAM].val == NULL || lcli_id(o[E_PROGRAM].val, &program) != LEAL_OK)
        return cli_usage("leal bono expire needs --program ID");
    if (o[E_OPERATOR].val == NULL || o[E_OPERATOR].val[0] == '\0')
        return cli_usage("leal bono expire needs --operator NAME (who swept)");
    if (o[E_TODAY].val) {
        if (lcli_date(o[E_TODAY].val, &t) != LEAL_OK || t / DAY_SECONDS > 65535)
            return cli_usage("--today '%s': a date YYYY-MM-DD up to 2149-06-06", o[E_TODAY].val);
        day = (uint32_t)(t / DAY_SECONDS);
    } else if ((rc = desk_cli_today(&now, &day)) != 0) {
        return rc;
    }
    if ((rc = lcli_open(o[E_DB].val, &l)) != 0)
        return rc;
    err = ledger_bono_expire(l, program, day, o[E_OPERATOR].val, &out);
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "sweeping expired bonos");
        ledger_close(l);
        return rc;
    }
    ledger_close(l);
    lcli_amount_str("EUR", out.cents, euros, sizeof euros);
    if (o[E_JSON].val)
        printf("{\"program_id\":%lld,\"bonos_expired\":%lld,\"sessions\":%lld,"
               "\"breakage_cents\":%lld}\n",
               (long long)program, (long long)out.holdings, (long long)out.sessions,
               (long long)out.cents);
    else
        printf("bonos expired: %lld (%lld session%s unused), %s EUR to breakage\n",
               (long long)out.holdings, (long long)out.sessions, out.sessions == 1 ? "" : "s",
               euros);
    return CLI_EXIT_OK;
}

int bono_desk(int argc, char **argv)
{
    static struct bono_cli c;
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    bool sell = strcmp(argv[0], "sell") == 0;
    int rc;
    bono_init(&c);
    if ((rc = lcli_parse(argc, argv, c.opts, B_COUNT, pos, &npos)) != 0)
        return rc;
    if (bopt(&c, B_HELP)) {
        fputs(bono_desk_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (npos > 0)
        return cli_usage("leal bono %s: unexpected argument '%s'", argv[0], pos[0]);
    if (bopt(&c, B_KIND) == NULL || bopt(&c, B_KIND)[0] == '\0')
        return cli_usage("leal bono %s needs --kind NAME|ID (a bono kind of the program)", argv[0]);
    if (bopt(&c, B_CARD) && lcli_id(bopt(&c, B_CARD), &c.card_id) != LEAL_OK)
        return cli_usage("--card '%s': a card id", bopt(&c, B_CARD));
    rc = sell ? bono_sell(&c) : bono_use(&c);
    bono_close(&c);
    return rc;
}
