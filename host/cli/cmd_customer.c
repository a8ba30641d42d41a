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
    "                            --granted yes|no --method HOW --by NAME [--db PATH]\n"
    "       leal customer note CUSTOMER --by NAME TEXT [--db PATH]\n"
    "FIELDS: --name --surname --email --phone --birth-date YYYY-MM-DD --gender\n"
    "        --address --preferences (each text, 255 bytes at most).\n"
    "Search by name matches the start of the name or surname, ignoring case and\n"
    "accents (jose finds José, nuñez finds Núñez), alphabetically by what matched;\n"
    "phone numbers compare in one form (612 345 679, +34612345679 and\n"
    "0034 612 345 679 are one number). show lists the customer's consent and notes.\n";

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
        [O_DB] = {"db", 0, 0},
        [O_JSON] = {"json", 1, 0},
        [O_HELP] = {"help", 1, 0},
    };
    struct ledger_customer c;
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS], *sub;
    size_t npos;
    int64_t id = 0, prog = 0, limit = 0, acct = 0;
    int json, rc;
    leal_err err = LEAL_OK;

    if ((rc = lcli_parse(argc, argv, o, N(o), pos, LCLI_MAX_POS, &npos)) != 0)
        return rc;
    if (o[O_HELP].val) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos < 1)
        return cli_usage("leal customer: expected add, show, edit, list, search, consent or note");
    sub = pos[0];
    json = o[O_JSON].val != NULL;
    memset(&c, 0, sizeof c);
    if (o[O_PROGRAM].val && lcli_id(o[O_PROGRAM].val, &prog) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--program '%s'", o[O_PROGRAM].val);
    if (o[O_LIMIT].val && lcli_id(o[O_LIMIT].val, &limit) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--limit '%s'", o[O_LIMIT].val);
    if (strcmp(sub, "add") == 0) {
        if (npos != 1 || prog == 0)
            return cli_usage("leal customer add needs --program");
        if ((err = set_fields(o, &c)) != LEAL_OK)
            return cli_fail(err, "customer add");
        c.program_id = prog;
        if ((rc = lcli_open(o[O_DB].val, &l)) != 0)
            return rc;
        err = ledger_customer_add(l, &c, &id, &acct);
        if (err == LEAL_OK && json)
            printf("{\"id\":%lld,\"account\":%lld}\n", (long long)id, (long long)acct);
        else if (err == LEAL_OK)
            printf("customer %lld added, account %lld\n", (long long)id, (long long)acct);
    } else if (strcmp(sub, "show") == 0 || strcmp(sub, "edit") == 0 ||
               strcmp(sub, "consent") == 0 || strcmp(sub, "note") == 0) {
        int edit = strcmp(sub, "edit") == 0, note = strcmp(sub, "note") == 0;
        int consent = strcmp(sub, "consent") == 0;
        if (npos != (size_t)(note ? 3 : 2))
            return cli_usage(note ? "leal customer note CUSTOMER --by NAME TEXT"
                                  : "leal customer %s CUSTOMER",
                             sub);
        if (lcli_id(pos[1], &id) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "customer '%s'", pos[1]);
        if (consent && (!o[O_CHANNEL].val || !o[O_GRANTED].val ||
                        (strcmp(o[O_GRANTED].val, "yes") && strcmp(o[O_GRANTED].val, "no"))))
            return cli_usage("leal customer consent needs --channel and --granted yes|no");
        if ((rc = lcli_open(o[O_DB].val, &l)) != 0)
            return rc;
        if (consent) {
            const struct ledger_consent_change change = {
                .channel = o[O_CHANNEL].val,
                .granted = strcmp(o[O_GRANTED].val, "yes") == 0,
                .method = o[O_METHOD].val,
                .recorded_by = o[O_BY].val,
            };
            err = ledger_consent_add(l, id, &change);
            if (err == LEAL_OK && json) {
                printf("{\"customer\":%lld,\"channel\":", (long long)id);
                cli_json_string(stdout, o[O_CHANNEL].val);
                printf(",\"granted\":%s}\n", strcmp(o[O_GRANTED].val, "yes") ? "false" : "true");
            } else if (err == LEAL_OK) {
                printf("consent recorded\n");
            }
        } else if (note) {
            err = ledger_note_add(l, id, o[O_BY].val, pos[2], 0);
            if (err == LEAL_OK)
                printf(json ? "{\"customer\":%lld,\"note_added\":true}\n" : "note added\n",
                       (long long)id);
        } else if ((err = ledger_customer_get(l, id, &c)) == LEAL_OK && edit) {
            if ((err = set_fields(o, &c)) == LEAL_OK)
                err = ledger_customer_update(l, &c);
        }
        if (err == LEAL_OK && !consent && !note) {
            if (json) {
                int k = 0;
                print_json_open(&c);
                if (!edit) {
                    printf(",\"notes\":[");
                    err = ledger_note_each(l, c.id, note_cb, &k);
                    printf("]");
                }
                printf("}\n");
            } else {
                printf("customer  %lld\nprogram   %lld\naccount   %lld\n", (long long)c.id,
                       (long long)c.program_id, (long long)c.account_id);
                for (int k = O_NAME; k <= O_PREFS; k++) {
                    size_t cap;
                    printf("%-11s %s\n", labels[k], field(&c, k, &cap));
                }
                if (!edit) {
                    printf("consent\n");
                    err = ledger_consent_each(l, c.id, consent_cb, NULL);
                }
                if (!edit && err == LEAL_OK) {
                    printf("notes\n");
                    err = ledger_note_each(l, c.id, note_cb, NULL);
                }
            }
        }
    } else if (strcmp(sub, "list") == 0 || strcmp(sub, "search") == 0) {
        enum ledger_search_by by = LEDGER_SEARCH_ALL;
        const char *q = NULL;
        struct list_ctx x = {json, 0};
        int given = 0;
        static const struct {
            int opt;
            enum ledger_search_by by;
        } forms[] = {{O_NAME, LEDGER_SEARCH_NAME},
                     {O_EMAIL, LEDGER_SEARCH_EMAIL},
                     {O_PHONE, LEDGER_SEARCH_PHONE},
                     {O_CARD, LEDGER_SEARCH_CARD_ID},
                     {O_UID, LEDGER_SEARCH_UID}};
        if (npos != 1)
            return cli_usage("leal customer %s takes no positional argument", sub);
        for (size_t i = 0; i < N(forms); i++)
            if (o[forms[i].opt].val) {
                by = forms[i].by;
                q = o[forms[i].opt].val;
                given++;
            }
        if (q && q[0] == '\0')
            return cli_usage("leal customer search: the text to search for is empty");
        if (strcmp(sub, "search") == 0 && given != 1)
            return cli_usage("leal customer search needs exactly one of --name, --email, "
                             "--phone, --card-id, --uid");
        if (strcmp(sub, "list") == 0 && given != 0)
            return cli_usage("leal customer list takes --program and --limit only");
        if ((rc = lcli_open(o[O_DB].val, &l)) != 0)
            return rc;
        const struct ledger_search search = {prog, by, q, (size_t)limit};
        err = ledger_customer_search(l, &search, list_cb, &x);
        if (json && (err == LEAL_OK || x.n > 0))
            printf("%s]\n", x.n ? "" : "[");
        else if (err == LEAL_OK && x.n == 0)
            printf("no customers\n");
    } else {
        return cli_usage("leal customer: unknown subcommand '%s'", sub);
    }
    if (err != LEAL_OK) {
        char what[64];
        snprintf(what, sizeof what, "customer %s", sub);
        rc = lcli_fail(l, err, what);
    }
    ledger_close(l);
    return rc;
}
