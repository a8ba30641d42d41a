/* cmd_ledger.c - `leal ledger init|post|void|verify|import` and `leal backup FILE`. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "host/books/import.h"
#include "keys/hosted/provider_openssl.h"
#include "host/ledger/amount.h"
#include "keys/base/hex.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char help[] =
    "usage: leal ledger init [--db PATH]\n"
    "       leal ledger post --account ID --asset EUR|PTS|STAMP:name --amount X\n"
    "                        --reason TEXT --operator NAME [--counter NAME]\n"
    "                        [--kind adjust|gift_sale]\n"
    "                        [--request-id ID] [--store ID] [--reference TEXT]\n"
    "                        [--expires YYYY-MM-DD] [--over-limit] [--db PATH] [--json]\n"
    "       leal ledger void ENTRY --reason TEXT --operator NAME [--request-id ID]\n"
    "       leal ledger verify [--db PATH] [--json]\n"
    "       leal ledger import FILE [--batch N] [--db PATH]\n"
    "       leal ledger expire --program ID --operator NAME [--at YYYY-MM-DD] [--json]\n"
    "       leal ledger copy --from sqlite:FILE|URI --to sqlite:FILE|URI (--help: more)\n"
    "post is a manual adjustment (\"dar o quitar puntos\"): X is added to the account\n"
    "(negative takes away) and the opposite to the program's account --counter\n"
    "(default: adjustments). Euros are written 12.50 or 12,50; points and stamps as\n"
    "whole numbers. Retrying with the same --request-id never posts twice; request ids\n"
    "starting card:, void:, expire:, sync: or desk: are leal's own and refused.\n"
    "A manual post is kind adjust (gift_sale: a gift card sold, --counter gift_sold).\n"
    "An amount over the program's limit for one operation (leal program show) is\n"
    "refused unless --over-limit confirms it.\n"
    "import reads CSV lines 'request_id,account,counter_account,asset,amount,reason,\n"
    "operator' (amount in cents or units, 1022 bytes a line at most) and commits every\n"
    "--batch lines (default 1000) in one transaction, printing 'committed N' after\n"
    "each commit. A refused line stops the posting (its batch is rolled back); the\n"
    "rest is still read and every refused line named with its number (exit 2).\n"
    "expire moves the points of every lot expired by --at (00:00 UTC of that day;\n"
    "default now) to the program's points_expired account; twice changes nothing.\n";

enum {
    O_ACCOUNT,
    O_ASSET,
    O_AMOUNT,
    O_REASON,
    O_OPERATOR,
    O_COUNTER,
    O_KIND,
    O_REQ,
    O_STORE,
    O_REF,
    O_EXPIRES,
    O_BATCH,
    O_PROGRAM,
    O_AT,
    O_DB,
    O_JSON,
    O_OVER_LIMIT,
    O_HELP
};

static void request_id(char out[40])
{
    uint8_t r[12];
    if (crypto_openssl()->random(r, sizeof r) != LEAL_OK)
        memset(r, 0, sizeof r);
    memcpy(out, "cli-", 4);
    if (leal_hex_encode(r, sizeof r, false, out + 4, 40 - 4) != LEAL_OK)
        out[4] = '\0'; /* unreachable: 24 digits fit */
}

static int print_post(int json, int64_t id, bool replayed, const char *what)
{
    if (json)
        printf("{\"entry\":%lld,\"replayed\":%s}\n", (long long)id, replayed ? "true" : "false");
    else if (replayed)
        printf("entry %lld was already %s (same request id and content)\n", (long long)id, what);
    else
        printf("entry %lld %s\n", (long long)id, what);
    return CLI_EXIT_OK;
}

struct import_out {
    struct ledger *l;
    const char *file;
    int json;
    int rc; /* the exit code of the first refused line */
};

static void import_committed(void *ctx, int64_t n)
{
    const struct import_out *x = ctx;
    printf(x->json ? "{\"committed\":%lld}\n" : "committed %lld\n", (long long)n);
    fflush(stdout);
}

/* One refused line: its number and why, on its own line. */
static void import_refused(void *ctx, const struct books_import_refusal *r)
{
    struct import_out *x = ctx;
    char what[512];
    int rc;
    snprintf(what, sizeof what, "%s line %lld%s%s", x->file, (long long)r->lineno,
             r->why[0] ? ": " : "", r->why);
    if (r->ledger_said) {
        rc = lcli_fail(x->l, r->err, what);
    } else {
        (void)cli_fail(r->err, "%s", what);
        rc = CLI_EXIT_USAGE; /* the file's content is the user's input */
    }
    if (x->rc == 0)
        x->rc = rc;
}

/* `leal ledger import FILE` (host/books/import.h). */
static int import(struct ledger *l, const char *file, int64_t batch, int json)
{
    struct import_out x = {l, file, json, 0};
    const struct books_import_events ev = {&x, import_committed, import_refused};
    struct books_import_result res = {0};
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    leal_err err;
    int rc = CLI_EXIT_OK;
    if (f == NULL)
        return cli_fail(LEAL_E_NOT_FOUND, "%s", file);
    err = books_import(l, f, batch, &ev, &res);
    if (f != stdin)
        fclose(f);
    if (err != LEAL_OK)
        return lcli_fail(l, err, res.doing);
    if (res.refused)
        rc = cli_error(LEAL_E_FORMAT, x.rc,
                       "%s: %lld line(s) refused; %lld entries committed before line %lld, "
                       "nothing from it on: fix the lines named and import again (committed "
                       "lines are recognised by their request ids)",
                       file, (long long)res.refused, (long long)res.imported,
                       (long long)res.first_refused);
    else
        printf(json ? "{\"imported\":%lld,\"already_there\":%lld}\n"
                    : "imported %lld entries (%lld already there)\n",
               (long long)res.imported, (long long)res.replays);
    return rc;
}

/* One `leal ledger` command: its options and what was read from them. */
struct ledger_cmd {
    struct lcli_opt *o;
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    const char *sub;
    int json;
    struct ledger_line ln[2];
    struct ledger_entry e;
    char req[40];
    int64_t expires, store, batch, target;
};

static const char *val(const struct ledger_cmd *c, int i)
{
    return c->o[i].val;
}

/* post: the entry, every field checked before the database is opened. */
static int check_post(struct ledger_cmd *c)
{
    const char *asset = val(c, O_ASSET);
    leal_err err;
    if (c->npos != 1)
        return cli_usage("leal ledger post takes options only");
    if (!val(c, O_ACCOUNT) || !asset || !val(c, O_AMOUNT))
        return cli_usage("leal ledger post needs --account, --asset and --amount");
    if (lcli_id(val(c, O_ACCOUNT), &c->ln[0].account_id) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--account '%s'", val(c, O_ACCOUNT));
    if (strlen(asset) >= sizeof c->ln[0].asset || ledger_asset_check(asset) != LEAL_OK)
        return cli_fail(LEAL_E_ASSET, "--asset '%s'", asset);
    if ((err = lcli_amount(asset, val(c, O_AMOUNT), &c->ln[0].amount)) != LEAL_OK)
        return cli_fail(err, "--amount '%s'", val(c, O_AMOUNT));
    if (c->ln[0].amount == 0)
        return cli_fail(LEAL_E_AMOUNT, "--amount '%s' is zero", val(c, O_AMOUNT));
    if (!val(c, O_REASON) || !val(c, O_REASON)[0] || !val(c, O_OPERATOR) || !val(c, O_OPERATOR)[0])
        return cli_fail(LEAL_E_REASON_REQUIRED, "ledger post");
    if (val(c, O_EXPIRES)) {
        if (lcli_date(val(c, O_EXPIRES), &c->expires) != LEAL_OK)
            return cli_fail(LEAL_E_DATE, "--expires '%s'", val(c, O_EXPIRES));
        c->expires += 86400; /* valid through that whole day (UTC) */
    }
    if (val(c, O_STORE) && lcli_id(val(c, O_STORE), &c->store) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--store '%s'", val(c, O_STORE));
    snprintf(c->ln[0].asset, sizeof c->ln[0].asset, "%s", asset);
    snprintf(c->ln[1].asset, sizeof c->ln[1].asset, "%s", asset);
    c->ln[0].expires_at = c->ln[0].amount > 0 ? c->expires : 0;
    c->ln[1].amount = -c->ln[0].amount;
    if (val(c, O_KIND) && strcmp(val(c, O_KIND), "adjust") != 0 &&
        strcmp(val(c, O_KIND), "gift_sale") != 0)
        return cli_fail(LEAL_E_ENTRY_KIND, "--kind '%s'", val(c, O_KIND));
    if (!val(c, O_REQ))
        request_id(c->req);
    c->e.kind = val(c, O_KIND) ? val(c, O_KIND) : "adjust";
    c->e.request_id = val(c, O_REQ) ? val(c, O_REQ) : c->req;
    c->e.operator_name = val(c, O_OPERATOR);
    c->e.reason = val(c, O_REASON);
    c->e.reference = val(c, O_REF);
    c->e.store_id = c->store;
    c->e.lines = c->ln;
    c->e.nlines = 2;
    return 0;
}

static int check_expire(struct ledger_cmd *c)
{
    if (c->npos != 1)
        return cli_usage("leal ledger expire takes options only");
    if (lcli_id(val(c, O_PROGRAM), &c->target) != LEAL_OK)
        return cli_fail(LEAL_E_NUMBER, "--program '%s'",
                        val(c, O_PROGRAM) ? val(c, O_PROGRAM) : "");
    if (!val(c, O_OPERATOR) || !val(c, O_OPERATOR)[0])
        return cli_fail(LEAL_E_REASON_REQUIRED, "ledger expire");
    if (val(c, O_AT) && lcli_date(val(c, O_AT), &c->expires) != LEAL_OK)
        return cli_fail(LEAL_E_DATE, "--at '%s'", val(c, O_AT));
    if (!val(c, O_AT))
        c->expires = (int64_t)time(NULL);
    return 0;
}

/* Every argument is checked before the database is opened. */
static int check_args(struct ledger_cmd *c)
{
    const char *sub = c->sub;
    int rc = 0;
    if (strcmp(sub, "post") == 0) {
        rc = check_post(c);
    } else if (strcmp(sub, "void") == 0) {
        if (c->npos != 2)
            return cli_usage("leal ledger void ENTRY --reason TEXT --operator NAME");
        if (lcli_id(c->pos[1], &c->target) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "entry '%s'", c->pos[1]);
        if (!val(c, O_REASON) || !val(c, O_REASON)[0] || !val(c, O_OPERATOR) ||
            !val(c, O_OPERATOR)[0])
            return cli_fail(LEAL_E_REASON_REQUIRED, "ledger void");
    } else if (strcmp(sub, "import") == 0) {
        if (c->npos != 2)
            return cli_usage("leal ledger import FILE");
        if (val(c, O_BATCH) &&
            (lcli_id(val(c, O_BATCH), &c->batch) != LEAL_OK || c->batch > LEDGER_MAX_BATCH))
            return cli_fail(LEAL_E_NUMBER, "--batch '%s' (1..%d)", val(c, O_BATCH),
                            LEDGER_MAX_BATCH);
    } else if (strcmp(sub, "expire") == 0) {
        rc = check_expire(c);
    } else if (strcmp(sub, "verify") != 0 && strcmp(sub, "init") != 0) {
        return cli_usage("leal ledger: unknown subcommand '%s'", sub);
    }
    if (rc != 0)
        return rc;
    if (strcmp(sub, "post") != 0 && strcmp(sub, "void") != 0 && strcmp(sub, "expire") != 0 &&
        c->npos != 1 + !strcmp(sub, "import"))
        return cli_usage("leal ledger %s: unexpected argument", sub);
    if (val(c, O_REQ) && ledger_request_id_reserved(val(c, O_REQ)))
        return cli_fail(LEAL_E_REQUEST_ID_RESERVED, "--request-id '%s'", val(c, O_REQ));
    return 0;
}

/* A sanity limit per operation: far beyond it is a typo until confirmed
 * (*rc set, LEAL_OK returned: the error is already printed). */
static leal_err run_post(struct ledger_cmd *c, struct ledger *l, int *rc)
{
    struct ledger_account a;
    const char *counter = val(c, O_COUNTER) ? val(c, O_COUNTER) : "adjustments";
    int64_t id = 0;
    bool rep = false;
    leal_err err;
    if ((err = ledger_account_get(l, c->ln[0].account_id, &a)) != LEAL_OK ||
        (err = ledger_program_account(l, a.program_id, counter, &c->ln[1].account_id)) != LEAL_OK)
        return err;
    c->e.program_id = a.program_id;
    if (!val(c, O_OVER_LIMIT) &&
        (err = ledger_program_limit_check(l, a.program_id, c->ln[0].asset, c->ln[0].amount)) ==
            LEAL_E_OVER_LIMIT) {
        char what[128];
        snprintf(what, sizeof what, "--amount '%s'", val(c, O_AMOUNT));
        *rc = lcli_fail(l, err, what);
        return LEAL_OK;
    }
    if (err == LEAL_OK && (err = ledger_post(l, &c->e, &id, &rep)) == LEAL_OK)
        *rc = print_post(c->json, id, rep, "posted");
    return err;
}

static leal_err run_void(const struct ledger_cmd *c, struct ledger *l)
{
    int64_t id = 0;
    bool rep = false;
    const struct ledger_void_request rq = {c->target, val(c, O_REQ), val(c, O_OPERATOR),
                                           val(c, O_REASON)};
    leal_err err = ledger_void(l, &rq, &id, &rep);
    if (err == LEAL_OK && c->json)
        printf("{\"entry\":%lld,\"voids\":%lld,\"replayed\":%s}\n", (long long)id,
               (long long)c->target, rep ? "true" : "false");
    else if (err == LEAL_OK)
        printf("entry %lld %svoided by entry %lld\n", (long long)c->target,
               rep ? "was already " : "", (long long)id);
    return err;
}

static leal_err run_expire(const struct ledger_cmd *c, struct ledger *l)
{
    int64_t accts = 0, pts = 0;
    leal_err err = ledger_expire_points(l, c->target, c->expires, val(c, O_OPERATOR), &accts, &pts);
    if (err == LEAL_OK && c->json)
        printf("{\"accounts\":%lld,\"points\":%lld}\n", (long long)accts, (long long)pts);
    else if (err == LEAL_OK)
        printf("expired %lld points in %lld accounts\n", (long long)pts, (long long)accts);
    return err;
}

static leal_err run_verify(const struct ledger_cmd *c, struct ledger *l)
{
    struct ledger_stats s;
    leal_err err = ledger_verify(l, &s);
    if (err != LEAL_OK)
        return err;
    if (c->json)
        printf("{\"ok\":true,\"entries\":%lld,\"lines\":%lld,\"accounts\":%lld}\n",
               (long long)s.entries, (long long)s.lines, (long long)s.accounts);
    else
        printf("ledger ok: %lld entries, %lld lines, %lld accounts\n", (long long)s.entries,
               (long long)s.lines, (long long)s.accounts);
    return LEAL_OK;
}

/* The checked command against the open ledger; the exit code. */
static int run(struct ledger_cmd *c, struct ledger *l)
{
    const char *sub = c->sub;
    leal_err err = LEAL_OK;
    int rc = 0;
    if (strcmp(sub, "init") == 0)
        printf(c->json ? "{\"schema_version\":%d}\n" : "ledger ready (schema version %d)\n",
               ledger_schema_version(l));
    else if (strcmp(sub, "post") == 0)
        err = run_post(c, l, &rc);
    else if (strcmp(sub, "void") == 0)
        err = run_void(c, l);
    else if (strcmp(sub, "expire") == 0)
        err = run_expire(c, l);
    else if (strcmp(sub, "verify") == 0)
        err = run_verify(c, l);
    else
        rc = import(l, c->pos[1], c->batch, c->json);
    if (err != LEAL_OK) {
        char what[64];
        snprintf(what, sizeof what, "ledger %s", sub);
        rc = lcli_fail(l, err, what);
    }
    return rc;
}

int cmd_ledger(int argc, char **argv)
{
    struct lcli_opt o[] = {
        [O_ACCOUNT] = {"account", 0, 0},
        [O_ASSET] = {"asset", 0, 0},
        [O_AMOUNT] = {"amount", 0, 0},
        [O_REASON] = {"reason", 0, 0},
        [O_OPERATOR] = {"operator", 0, 0},
        [O_COUNTER] = {"counter", 0, 0},
        [O_KIND] = {"kind", 0, 0},
        [O_REQ] = {"request-id", 0, 0},
        [O_STORE] = {"store", 0, 0},
        [O_REF] = {"reference", 0, 0},
        [O_EXPIRES] = {"expires", 0, 0},
        [O_BATCH] = {"batch", 0, 0},
        [O_PROGRAM] = {"program", 0, 0},
        [O_AT] = {"at", 0, 0},
        [O_DB] = {"db", 0, 0},
        [O_JSON] = {"json", 1, 0},
        [O_OVER_LIMIT] = {"over-limit", 1, 0},
        [O_HELP] = {"help", 1, 0},
    };
    struct ledger_cmd c;
    struct ledger *l = NULL;
    int rc;

    if (argc > 1 && strcmp(argv[1], "copy") == 0)
        return ledger_copy_cli(argc - 1, argv + 1);
    memset(&c, 0, sizeof c);
    c.o = o;
    c.batch = 1000;
    c.npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), c.pos, &c.npos)) != 0)
        return rc;
    if (o[O_HELP].val) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (c.npos < 1)
        return cli_usage("leal ledger: expected init, post, void, verify or import");
    c.sub = c.pos[0];
    c.json = o[O_JSON].val != NULL;
    if ((rc = check_args(&c)) != 0)
        return rc;
    rc = strcmp(c.sub, "init") == 0 ? lcli_create(o[O_DB].val, &l) : lcli_open(o[O_DB].val, &l);
    if (rc != 0)
        return rc;
    rc = run(&c, l);
    ledger_close(l);
    return rc;
}

static const char backup_help[] =
    "usage: leal backup FILE [--force] [--db PATH]\n"
    "Writes an online, consistent copy of the ledger to FILE (SQLite backup API, mode\n"
    "0600); tills may keep posting meanwhile. FILE's folder must exist; an existing FILE\n"
    "is replaced only with --force. Restore by using the copy as --db.\n"
    "From a PostgreSQL ledger (--db postgresql://...) FILE is an SQLite ledger made by\n"
    "'leal ledger copy' from one snapshot of the server, every entry compared and the\n"
    "copy's books verified; 'leal ledger copy --from sqlite:FILE --to URI' restores it.\n";

int cmd_backup(int argc, char **argv)
{
    struct lcli_opt o[] = {{"db", 0, 0}, {"force", 1, 0}, {"help", 1, 0}};
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    struct stat st;
    leal_err err;
    int rc;
    npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(backup_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1)
        return cli_usage("leal backup FILE");
    if (stat(pos[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "leal: backup: %s is a folder; name the copy's file (e.g. %s/ledger.db)\n",
                pos[0], pos[0]);
        return CLI_EXIT_USAGE;
    }
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    err = ledger_backup(l, pos[0], lcli_get(o, N(o), "force") != NULL);
    if (err == LEAL_E_EXISTS) {
        fprintf(stderr, "leal: backup: %s already exists; use --force to replace it\n", pos[0]);
        rc = CLI_EXIT_USAGE;
    } else if (err == LEAL_E_NOT_FOUND) {
        fprintf(stderr, "leal: backup: %s (is the disk mounted?); nothing was written\n",
                ledger_errmsg(l));
        rc = CLI_EXIT_USAGE;
    } else if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "backup");
    } else {
        printf("backup written to %s\n", pos[0]);
    }
    ledger_close(l);
    return rc;
}
