/* cmd_customer.c - `leal customer add|show|edit|list|search|consent|note`. */
#include <string.h>

#include "cli.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char help[] =
    "usage: leal customer add --program ID [FIELDS] [--db PATH] [--json]\n"
    "       leal customer show CUSTOMER [--db PATH] [--json]\n"
    "       leal customer edit CUSTOMER [FIELDS] [--db PATH] [--json]\n"
    "       leal customer list [--program ID] [--limit N] [--db PATH] [--json]\n"
    "       leal customer search (--name P | --email E | --phone P | --card-id N | --uid HEX)\n"
    "                            [--program ID] [--limit N] [--db PATH] [--json]\n"
    "       leal customer consent CUSTOMER --channel email|sms|phone|post|whatsapp\n"
    "                            --granted yes|no --method HOW --by NAME\n"
    "                            [--purpose marketing,service,profiling]\n"
    "                            [--evidence TEXT] [--text-version V] [--db PATH] [--json]\n"
    "       leal customer consent CUSTOMER --show [--db PATH] [--json]\n"
    "       leal customer note CUSTOMER --by NAME TEXT [--db PATH]\n"
    "       leal customer export CUSTOMER [--text] [--db PATH]\n"
    "       leal customer erase CUSTOMER --confirm --cards block|keep [--operator NAME]\n"
    "                            [--db PATH] [--json]\n"
    "       leal customer retention --program ID --years N [--dry-run | --confirm] [--db PATH]\n"
    "       leal customer tag|untag CUSTOMER TAG [--db PATH] [--json]\n"
    "FIELDS: --name --surname --email --phone --birth-date YYYY-MM-DD --gender\n"
    "        --address --preferences (each text, 255 bytes at most).\n"
    "Search by name matches the start of the name or surname, ignoring case and\n"
    "accents (jose finds José, nuñez finds Núñez), alphabetically by what matched;\n"
    "phone numbers compare in one form (612 345 679, +34612345679 and\n"
    "0034 612 345 679 are one number). show lists the customer's consent and notes.\n"
    "Consent is per channel and purpose: marketing (campaigns), service (birthday,\n"
    "inactivity, points expiring, welcome and tier messages) and profiling (segments\n"
    "exported for analysis). --purpose names those the record grants or withdraws\n"
    "(default marketing,service, what a consent per channel meant before purposes);\n"
    "--evidence says how it was given (the form, where it is kept); --text-version the\n"
    "version of the consent text the person was shown (e.g. alta-v3), its own field.\n"
    "consent --show prints the consent of each channel and purpose with its record.\n";

/* Option slots: the personal-data fields first, in struct order. */
enum {
    O_NAME,
    O_SURNAME,
    O_EMAIL,
    O_PHONE,
    O_BIRTH,
    O_GENDER,
    O_ADDRESS,
    O_PREFS,
    O_PROGRAM,
    O_LIMIT,
    O_CARD,
    O_UID,
    O_CHANNEL,
    O_GRANTED,
    O_METHOD,
    O_BY,
    O_PURPOSE,
    O_EVIDENCE,
    O_TEXT_VERSION,
    O_SHOW,
    O_DB,
    O_JSON,
    O_HELP
};

static char *field(struct ledger_customer *c, int k, size_t *cap)
{
    switch (k) {
    case O_NAME:
        *cap = sizeof c->name;
        return c->name;
    case O_SURNAME:
        *cap = sizeof c->surname;
        return c->surname;
    case O_EMAIL:
        *cap = sizeof c->email;
        return c->email;
    case O_PHONE:
        *cap = sizeof c->phone;
        return c->phone;
    case O_BIRTH:
        *cap = sizeof c->birth_date;
        return c->birth_date;
    case O_GENDER:
        *cap = sizeof c->gender;
        return c->gender;
    case O_ADDRESS:
        *cap = sizeof c->address;
        return c->address;
    default:
        *cap = sizeof c->preferences;
        return c->preferences;
    }
}

/* Copies the given fields into c; LEAL_E_TEXT if one does not fit. */
static leal_err set_fields(const struct lcli_opt *o, struct ledger_customer *c)
{
    for (int k = O_NAME; k <= O_PREFS; k++) {
        size_t cap;
        char *dst = field(c, k, &cap);
        if (o[k].val == NULL)
            continue;
        if (strlen(o[k].val) >= cap)
            return k == O_BIRTH ? LEAL_E_DATE : LEAL_E_TEXT;
        snprintf(dst, cap, "%s", o[k].val);
    }
    return LEAL_OK;
}

static const char *const labels[] = {"name",       "surname", "email",   "phone",
                                     "birth_date", "gender",  "address", "preferences"};

/* The customer as a JSON object, left open (the caller adds to it and closes it). */
static void print_json_open(const struct ledger_customer *c)
{
    printf("{\"id\":%lld,\"program\":%lld,\"account\":%lld", (long long)c->id,
           (long long)c->program_id, (long long)c->account_id);
    for (int k = O_NAME; k <= O_PREFS; k++) {
        size_t cap;
        printf(",\"%s\":", labels[k]);
        cli_json_string(stdout, field((struct ledger_customer *)c, k, &cap));
    }
}

static void print_json(const struct ledger_customer *c)
{
    print_json_open(c);
    printf("}");
}

struct list_ctx {
    int json;
    int n;
};

static int list_cb(void *ctx, const struct ledger_customer *c)
{
    struct list_ctx *x = ctx;
    if (x->json) {
        printf("%s", x->n ? "," : "[");
        print_json(c);
    } else {
        if (x->n == 0)
            printf("%-8s %-8s %-20s %-20s %-28s %s\n", "id", "account", "name", "surname", "email",
                   "phone");
        printf("%-8lld %-8lld %-20s %-20s %-28s %s\n", (long long)c->id, (long long)c->account_id,
               c->name, c->surname, c->email, c->phone);
    }
    x->n++;
    return 0;
}

static int note_cb(void *ctx, const struct ledger_note *n)
{
    int *k = ctx;
    char when[48];
    lcli_time_str_tz(n->at, "UTC", when, sizeof when);
    if (k) {
        printf("%s{\"id\":%lld,\"at\":%lld,\"author\":", (*k)++ ? "," : "", (long long)n->id,
               (long long)n->at);
        cli_json_string(stdout, n->author);
        printf(",\"text\":");
        cli_json_string(stdout, n->text);
        printf("}");
    } else {
        printf("  %s, %s: %s\n", when, n->author, n->text);
    }
    return 0;
}

static int consent_cb(void *ctx, const struct ledger_consent *c)
{
    char when[32];
    (void)ctx;
    lcli_time_str(c->at, when, sizeof when);
    printf("  %-9s %-8s %s, %s, by %s\n", c->channel, c->granted ? "granted" : "refused", when,
           c->method, c->recorded_by);
    return 0;
}

/* One `leal customer` command. */
struct cust_cmd {
    struct lcli_opt *o;
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    const char *sub;
    int json;
    int64_t prog, limit;
    struct ledger *l;
    leal_err err; /* a ledger error, printed by cmd_customer */
};

static int customer_add(struct cust_cmd *x)
{
    struct ledger_customer c;
    int64_t id = 0, acct = 0;
    leal_err err;
    int rc;
    memset(&c, 0, sizeof c);
    if (x->npos != 1 || x->prog == 0)
        return cli_usage("leal customer add needs --program");
    if ((err = set_fields(x->o, &c)) != LEAL_OK)
        return cli_fail(err, "customer add");
    c.program_id = x->prog;
    if ((rc = lcli_open(x->o[O_DB].val, &x->l)) != 0)
        return rc;
    x->err = ledger_customer_add(x->l, &c, &id, &acct);
    if (x->err == LEAL_OK && x->json)
        printf("{\"id\":%lld,\"account\":%lld}\n", (long long)id, (long long)acct);
    else if (x->err == LEAL_OK)
        printf("customer %lld added, account %lld\n", (long long)id, (long long)acct);
    return 0;
}

static leal_err consent_add(const struct cust_cmd *x, int64_t id)
{
    const struct lcli_opt *o = x->o;
    const struct ledger_consent_change change = {
        .channel = o[O_CHANNEL].val,
        .granted = strcmp(o[O_GRANTED].val, "yes") == 0,
        .method = o[O_METHOD].val,
        .recorded_by = o[O_BY].val,
        .purposes = o[O_PURPOSE].val,
        .evidence = o[O_EVIDENCE].val,
        .text_version = o[O_TEXT_VERSION].val,
    };
    leal_err err = ledger_consent_add(x->l, id, &change);
    /* --json as before for a consent without --purpose. */
    if (err == LEAL_OK && x->json) {
        char norm[40];
        printf("{\"customer\":%lld,\"channel\":", (long long)id);
        cli_json_string(stdout, o[O_CHANNEL].val);
        printf(",\"granted\":%s", strcmp(o[O_GRANTED].val, "yes") ? "false" : "true");
        if (o[O_PURPOSE].val &&
            ledger_consent_purposes_norm(o[O_PURPOSE].val, norm, sizeof norm) == LEAL_OK) {
            printf(",\"purposes\":");
            cli_json_string(stdout, norm);
        }
        printf("}\n");
    } else if (err == LEAL_OK) {
        printf("consent recorded\n");
    }
    return err;
}

/* consent --show: one line (or JSON object) per channel and purpose. */
static int purpose_cb(void *ctx, const struct ledger_consent *c)
{
    char when[32];
    int *k = ctx;
    lcli_time_str(c->at, when, sizeof when);
    if (k) {
        printf("%s{\"channel\":\"%s\",\"purpose\":\"%s\",\"granted\":%s,\"at\":%lld,"
               "\"method\":",
               (*k)++ ? "," : "", c->channel, c->purpose, c->granted ? "true" : "false",
               (long long)c->at);
        cli_json_string(stdout, c->method);
        printf(",\"recorded_by\":");
        cli_json_string(stdout, c->recorded_by);
        printf(",\"evidence\":");
        cli_json_string(stdout, c->evidence);
        printf(",\"text_version\":");
        cli_json_string(stdout, c->text_version);
        printf("}");
    } else {
        printf("%-9s %-10s %-8s %s, %s, by %s%s%s%s%s\n", c->channel, c->purpose,
               c->granted ? "granted" : "refused", when, c->method, c->recorded_by,
               c->evidence[0] ? "; evidence: " : "", c->evidence,
               c->text_version[0] ? "; text version: " : "", c->text_version);
    }
    return 0;
}

static leal_err consent_show(const struct cust_cmd *x, int64_t id)
{
    struct ledger_customer c;
    int k = 0;
    leal_err err = ledger_customer_get(x->l, id, &c);
    if (err != LEAL_OK)
        return err;
    if (x->json)
        printf("{\"customer\":%lld,\"consent\":[", (long long)id);
    err = ledger_consent_purpose_each(x->l, id, purpose_cb, x->json ? &k : NULL);
    if (x->json)
        printf("]}\n");
    return err;
}

/* show (with consent and notes) or edit's result. */
static leal_err print_customer(const struct cust_cmd *x, struct ledger_customer *c, bool edit)
{
    leal_err err = LEAL_OK;
    if (x->json) {
        int k = 0;
        print_json_open(c);
        if (!edit) {
            printf(",\"notes\":[");
            err = ledger_note_each(x->l, c->id, note_cb, &k);
            printf("]");
        }
        printf("}\n");
        return err;
    }
    printf("customer  %lld\nprogram   %lld\naccount   %lld\n", (long long)c->id,
           (long long)c->program_id, (long long)c->account_id);
    for (int k = O_NAME; k <= O_PREFS; k++) {
        size_t cap;
        printf("%-11s %s\n", labels[k], field(c, k, &cap));
    }
    if (!edit) {
        printf("consent\n");
        err = ledger_consent_each(x->l, c->id, consent_cb, NULL);
    }
    if (!edit && err == LEAL_OK) {
        printf("notes\n");
        err = ledger_note_each(x->l, c->id, note_cb, NULL);
    }
    return err;
}

/* show, edit, consent and note: one customer by id. */
static int customer_one(struct cust_cmd *x)
{
    const struct lcli_opt *o = x->o;
    const char *sub = x->sub;
    bool edit = strcmp(sub, "edit") == 0, note = strcmp(sub, "note") == 0;
    bool consent = strcmp(sub, "consent") == 0;
    struct ledger_customer c;
    int64_t id = 0;
    int rc;
    memset(&c, 0, sizeof c);
    if (x->npos != (size_t)(note ? 3 : 2))
        return cli_usage(
            note ? "leal customer note CUSTOMER --by NAME TEXT" : "leal customer %s CUSTOMER", sub);
    if (lcli_id(x->pos[1], &id) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "customer '%s'", x->pos[1]);
    bool show = consent && o[O_SHOW].val;
    if (show && (o[O_CHANNEL].val || o[O_GRANTED].val || o[O_PURPOSE].val || o[O_EVIDENCE].val ||
                 o[O_TEXT_VERSION].val))
        return cli_usage("leal customer consent --show takes no --channel, --granted, --purpose, "
                         "--evidence or --text-version");
    if (consent && !show &&
        (!o[O_CHANNEL].val || !o[O_GRANTED].val ||
         (strcmp(o[O_GRANTED].val, "yes") && strcmp(o[O_GRANTED].val, "no"))))
        return cli_usage("leal customer consent needs --channel and --granted yes|no (or --show)");
    if (consent && !show && o[O_PURPOSE].val) {
        char norm[40];
        if (ledger_consent_purposes_norm(o[O_PURPOSE].val, norm, sizeof norm) != LEAL_OK)
            return cli_error(LEAL_E_CONSENT_PURPOSE, CLI_EXIT_USAGE,
                             "--purpose '%s': each is marketing, service or profiling, once, "
                             "separated by commas",
                             o[O_PURPOSE].val);
    }
    if ((rc = lcli_open(o[O_DB].val, &x->l)) != 0)
        return rc;
    if (show) {
        x->err = consent_show(x, id);
        return 0;
    }
    if (consent) {
        x->err = consent_add(x, id);
        return 0;
    }
    if (note) {
        if ((x->err = ledger_note_add(x->l, id, o[O_BY].val, x->pos[2], 0)) == LEAL_OK)
            printf(x->json ? "{\"customer\":%lld,\"note_added\":true}\n" : "note added\n",
                   (long long)id);
        return 0;
    }
    if ((x->err = ledger_customer_get(x->l, id, &c)) == LEAL_OK && edit &&
        (x->err = set_fields(o, &c)) == LEAL_OK)
        x->err = ledger_customer_update(x->l, &c);
    if (x->err == LEAL_OK)
        x->err = print_customer(x, &c, edit);
    return 0;
}

/* list and search: the one search form given, if any. */
static int customer_list(struct cust_cmd *x)
{
    static const struct {
        int opt;
        enum ledger_search_by by;
    } forms[] = {{O_NAME, LEDGER_SEARCH_NAME},
                 {O_EMAIL, LEDGER_SEARCH_EMAIL},
                 {O_PHONE, LEDGER_SEARCH_PHONE},
                 {O_CARD, LEDGER_SEARCH_CARD_ID},
                 {O_UID, LEDGER_SEARCH_UID}};
    enum ledger_search_by by = LEDGER_SEARCH_ALL;
    const char *q = NULL;
    struct list_ctx lc = {x->json, 0};
    int given = 0, rc;
    if (x->npos != 1)
        return cli_usage("leal customer %s takes no positional argument", x->sub);
    for (size_t i = 0; i < N(forms); i++)
        if (x->o[forms[i].opt].val) {
            by = forms[i].by;
            q = x->o[forms[i].opt].val;
            given++;
        }
    if (q && q[0] == '\0')
        return cli_usage("leal customer search: the text to search for is empty");
    if (strcmp(x->sub, "search") == 0 && given != 1)
        return cli_usage("leal customer search needs exactly one of --name, --email, "
                         "--phone, --card-id, --uid");
    if (strcmp(x->sub, "list") == 0 && given != 0)
        return cli_usage("leal customer list takes --program and --limit only");
    if ((rc = lcli_open(x->o[O_DB].val, &x->l)) != 0)
        return rc;
    const struct ledger_search search = {x->prog, by, q, (size_t)x->limit};
    x->err = ledger_customer_search(x->l, &search, list_cb, &lc);
    if (x->json && (x->err == LEAL_OK || lc.n > 0))
        printf("%s]\n", lc.n ? "" : "[");
    else if (x->err == LEAL_OK && lc.n == 0)
        printf("no customers\n");
    return 0;
}

static int customer_run(struct cust_cmd *x)
{
    const char *sub = x->sub;
    if (strcmp(sub, "add") == 0)
        return customer_add(x);
    if (strcmp(sub, "show") == 0 || strcmp(sub, "edit") == 0 || strcmp(sub, "consent") == 0 ||
        strcmp(sub, "note") == 0)
        return customer_one(x);
    if (strcmp(sub, "list") == 0 || strcmp(sub, "search") == 0)
        return customer_list(x);
    return cli_usage("leal customer: unknown subcommand '%s'", sub);
}

int cmd_customer(int argc, char **argv)
{
    struct lcli_opt o[] = {
        [O_NAME] = {"name", 0, 0},
        [O_SURNAME] = {"surname", 0, 0},
        [O_EMAIL] = {"email", 0, 0},
        [O_PHONE] = {"phone", 0, 0},
        [O_BIRTH] = {"birth-date", 0, 0},
        [O_GENDER] = {"gender", 0, 0},
        [O_ADDRESS] = {"address", 0, 0},
        [O_PREFS] = {"preferences", 0, 0},
        [O_PROGRAM] = {"program", 0, 0},
        [O_LIMIT] = {"limit", 0, 0},
        [O_CARD] = {"card-id", 0, 0},
        [O_UID] = {"uid", 0, 0},
        [O_CHANNEL] = {"channel", 0, 0},
        [O_GRANTED] = {"granted", 0, 0},
        [O_METHOD] = {"method", 0, 0},
        [O_BY] = {"by", 0, 0},
        [O_PURPOSE] = {"purpose", 0, 0},
        [O_EVIDENCE] = {"evidence", 0, 0},
        [O_TEXT_VERSION] = {"text-version", 0, 0},
        [O_SHOW] = {"show", 1, 0},
        [O_DB] = {"db", 0, 0},
        [O_JSON] = {"json", 1, 0},
        [O_HELP] = {"help", 1, 0},
    };
    struct cust_cmd x;
    int rc;

    if (argc > 1 && (strcmp(argv[1], "export") == 0 || strcmp(argv[1], "erase") == 0))
        return customer_privacy(argc - 1, argv + 1); /* cmd_privacy.c */
    if (argc > 1 && strcmp(argv[1], "retention") == 0)
        return customer_retention(argc - 1, argv + 1); /* cmd_privacy.c */
    if (argc > 1 && (strcmp(argv[1], "tag") == 0 || strcmp(argv[1], "untag") == 0))
        return customer_tag(argc - 1, argv + 1); /* cmd_segment.c */
    memset(&x, 0, sizeof x);
    x.o = o;
    x.npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), x.pos, &x.npos)) != 0)
        return rc;
    if (o[O_HELP].val) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (x.npos < 1)
        return cli_usage("leal customer: expected add, show, edit, list, search, consent or note");
    x.sub = x.pos[0];
    x.json = o[O_JSON].val != NULL;
    if (o[O_PROGRAM].val && lcli_id(o[O_PROGRAM].val, &x.prog) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--program '%s'", o[O_PROGRAM].val);
    if (o[O_LIMIT].val && lcli_id(o[O_LIMIT].val, &x.limit) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--limit '%s'", o[O_LIMIT].val);
    rc = customer_run(&x);
    if (x.err != LEAL_OK) {
        char what[64];
        snprintf(what, sizeof what, "customer %s", x.sub);
        rc = lcli_fail(x.l, x.err, what);
    }
    ledger_close(x.l);
    return rc;
}
