/* cmd_ledger.c - `leal ledger init|post|void|verify|import` and `leal backup FILE`. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "keys/hosted/provider_openssl.h"
#include "host/ledger/amount.h"
#include "keys/base/hex.h"
#include "keys/base/limits.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char help[] =
    "usage: leal ledger init [--db PATH]\n"
    "       leal ledger post --account ID --asset EUR|PTS|STAMP:name --amount X\n"
    "                        --reason TEXT --operator NAME [--counter NAME]\n"
    "                        [--kind adjust|gift_sale]"
    "                        [--request-id ID] [--store ID] [--reference TEXT]\n"
    "                        [--expires YYYY-MM-DD] [--over-limit] [--db PATH] [--json]\n"
    "       leal ledger void ENTRY --reason TEXT --operator NAME [--request-id ID]\n"
    "       leal ledger verify [--db PATH] [--json]\n"
    "       leal ledger import FILE [--batch N] [--db PATH]\n"
    "       leal ledger expire --program ID --operator NAME [--at YYYY-MM-DD] [--json]\n"
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

/* Splits s at commas into at most n fields (no quoting: the fields are
 * ids, amounts and plain words). Returns the field count. */
static size_t split(char *s, char **f, size_t n)
{
    size_t k = 0;
    f[k++] = s;
    for (; *s && k < n; s++)
        if (*s == ',') {
            *s = '\0';
            f[k++] = s + 1;
        }
    return k;
}

/* Reads the rest of an over-long line; 1 if the line really was longer than
 * the buffer (0: it ended exactly there). */
static int overlong(FILE *f, const char *line, size_t len)
{
    int c;
    if (len == 0 || line[len - 1] == '\n' || len < LEAL_MAX_IMPORT_LINE - 1)
        return 0;
    if ((c = getc(f)) == EOF || c == '\n')
        return 0;
    while ((c = getc(f)) != EOF && c != '\n')
        ;
    return 1;
}

/* One refused line: its number and why, on its own line. */
static int refuse(const struct ledger *l, leal_err err, const char *file, int64_t lineno,
                  const char *why)
{
    char what[512];
    snprintf(what, sizeof what, "%s line %lld%s%s", file, (long long)lineno, why[0] ? ": " : "",
             why);
    if (l)
        return lcli_fail(l, err, what);
    (void)cli_fail(err, "%s", what);
    return CLI_EXIT_USAGE; /* the file's content is the user's input */
}

/* Checks one CSV line without the database; LEAL_OK or the error, with why. */
static leal_err import_fields(char *line, struct ledger_line ln[2], char **fld, char *why,
                              size_t cap)
{
    why[0] = '\0';
    if (split(line, fld, 8) != 7) {
        snprintf(why, cap, "expected 7 comma-separated fields");
        return LEAL_E_FORMAT;
    }
    if (lcli_id(fld[1], &ln[0].account_id) != LEAL_OK ||
        lcli_id(fld[2], &ln[1].account_id) != LEAL_OK) {
        snprintf(why, cap, "account ids are whole numbers");
        return LEAL_E_NUMBER;
    }
    if (strlen(fld[3]) >= sizeof ln[0].asset || ledger_asset_check(fld[3]) != LEAL_OK)
        return LEAL_E_ASSET;
    if (amount_parse_units(fld[4], strlen(fld[4]), &ln[0].amount) != LEAL_OK)
        return LEAL_E_AMOUNT;
    if (ledger_request_id_reserved(fld[0])) {
        snprintf(why, cap, "request id '%.64s'", fld[0]);
        return LEAL_E_REQUEST_ID_RESERVED;
    }
    return LEAL_OK;
}

/* Posts every line; on the first refused line the batch in progress is
 * rolled back and nothing more is posted, but the rest of the file is still
 * read so that every refused line is reported with its number. */
static int import(struct ledger *l, const char *file, int64_t batch, int json)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    char line[LEAL_MAX_IMPORT_LINE], why[128];
    int64_t n = 0, lineno = 0, in_batch = 0, replays = 0, refused = 0, first = 0;
    leal_err err = LEAL_OK;
    int rc = 0, r;
    if (f == NULL)
        return cli_fail(LEAL_E_NOT_FOUND, "%s", file);
    while (fgets(line, sizeof line, f)) {
        struct ledger_line ln[2];
        struct ledger_entry e;
        struct ledger_account a;
        char *fld[8];
        int64_t id;
        bool rep;
        size_t len = strlen(line);
        leal_err lerr;
        lineno++;
        if (overlong(f, line, len)) {
            lerr = LEAL_E_LINE_TOO_LONG;
            snprintf(why, sizeof why, "longer than %d bytes", LEAL_MAX_IMPORT_LINE - 2);
            goto refused;
        }
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0)
            continue;
        memset(ln, 0, sizeof ln);
        memset(&e, 0, sizeof e);
        if ((lerr = import_fields(line, ln, fld, why, sizeof why)) != LEAL_OK)
            goto refused;
        if (refused)
            continue; /* nothing more is posted; later lines are only checked */
        snprintf(ln[0].asset, sizeof ln[0].asset, "%s", fld[3]);
        snprintf(ln[1].asset, sizeof ln[1].asset, "%s", fld[3]);
        ln[1].amount = -ln[0].amount;
        if ((err = ledger_account_get(l, ln[0].account_id, &a)) != LEAL_OK) {
            rc = lcli_fail(l, err, "import");
            break;
        }
        e.program_id = a.program_id;
        e.kind = "adjust";
        e.request_id = fld[0];
        e.reason = fld[5];
        e.operator_name = fld[6];
        e.lines = ln;
        e.nlines = 2;
        if (in_batch == 0 && (err = ledger_batch_begin_whole(l)) != LEAL_OK) {
            rc = lcli_fail(l, err, "import");
            break;
        }
        if ((lerr = ledger_post(l, &e, &id, &rep)) != LEAL_OK) {
            r = refuse(l, lerr, file, lineno, "");
            goto refused_logged;
        }
        replays += rep;
        n++;
        if (++in_batch == batch) {
            if ((err = ledger_batch_commit(l)) != LEAL_OK) {
                rc = lcli_fail(l, err, "import commit");
                in_batch = 0;
                break;
            }
            in_batch = 0;
            /* Acknowledged only now that the batch is on disk. */
            printf(json ? "{\"committed\":%lld}\n" : "committed %lld\n", (long long)n);
            fflush(stdout);
        }
        continue;
    refused:
        r = refuse(NULL, lerr, file, lineno, why);
    refused_logged:
        if (!refused) {
            first = lineno;
            rc = r;
            if (in_batch > 0)
                ledger_batch_rollback(l);
            n -= in_batch;
            in_batch = 0;
        }
        refused++;
    }
    if (err == LEAL_OK && in_batch > 0) {
        if ((err = ledger_batch_commit(l)) != LEAL_OK)
            rc = lcli_fail(l, err, "import commit");
        else
            printf(json ? "{\"committed\":%lld}\n" : "committed %lld\n", (long long)n);
    } else if (err != LEAL_OK) {
        ledger_batch_rollback(l);
    }
    if (err == LEAL_OK && refused)
        rc = cli_error(LEAL_E_FORMAT, rc,
                       "%s: %lld line(s) refused; %lld entries committed before line %lld, "
                       "nothing from it on: fix the lines named and import again (committed "
                       "lines are recognised by their request ids)",
                       file, (long long)refused, (long long)n, (long long)first);
    else if (err == LEAL_OK)
        printf(json ? "{\"imported\":%lld,\"already_there\":%lld}\n"
                    : "imported %lld entries (%lld already there)\n",
               (long long)n, (long long)replays);
    if (f != stdin)
        fclose(f);
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
    struct ledger *l = NULL;
    struct ledger_line ln[2];
    struct ledger_entry e;
    const char *pos[LCLI_MAX_POS], *sub;
    char req[40];
    size_t npos;
    int64_t id = 0, expires = 0, store = 0, batch = 1000, target = 0;
    bool rep = false;
    int json, rc;
    leal_err err = LEAL_OK;

    if ((rc = lcli_parse(argc, argv, o, N(o), pos, LCLI_MAX_POS, &npos)) != 0)
        return rc;
    if (o[O_HELP].val) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos < 1)
        return cli_usage("leal ledger: expected init, post, void, verify or import");
    sub = pos[0];
    json = o[O_JSON].val != NULL;
    memset(ln, 0, sizeof ln);
    memset(&e, 0, sizeof e);

    /* Every argument is checked before the database is opened. */
    if (strcmp(sub, "post") == 0) {
        const char *asset = o[O_ASSET].val;
        if (npos != 1)
            return cli_usage("leal ledger post takes options only");
        if (!o[O_ACCOUNT].val || !asset || !o[O_AMOUNT].val)
            return cli_usage("leal ledger post needs --account, --asset and --amount");
        if (lcli_id(o[O_ACCOUNT].val, &ln[0].account_id) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--account '%s'", o[O_ACCOUNT].val);
        if (strlen(asset) >= sizeof ln[0].asset || ledger_asset_check(asset) != LEAL_OK)
            return cli_fail(LEAL_E_ASSET, "--asset '%s'", asset);
        if ((err = lcli_amount(asset, o[O_AMOUNT].val, &ln[0].amount)) != LEAL_OK)
            return cli_fail(err, "--amount '%s'", o[O_AMOUNT].val);
        if (ln[0].amount == 0)
            return cli_fail(LEAL_E_AMOUNT, "--amount '%s' is zero", o[O_AMOUNT].val);
        if (!o[O_REASON].val || !o[O_REASON].val[0] || !o[O_OPERATOR].val || !o[O_OPERATOR].val[0])
            return cli_fail(LEAL_E_REASON_REQUIRED, "ledger post");
        if (o[O_EXPIRES].val) {
            if (lcli_date(o[O_EXPIRES].val, &expires) != LEAL_OK)
                return cli_fail(LEAL_E_DATE, "--expires '%s'", o[O_EXPIRES].val);
            expires += 86400; /* valid through that whole day (UTC) */
        }
        if (o[O_STORE].val && lcli_id(o[O_STORE].val, &store) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--store '%s'", o[O_STORE].val);
        snprintf(ln[0].asset, sizeof ln[0].asset, "%s", asset);
        snprintf(ln[1].asset, sizeof ln[1].asset, "%s", asset);
        ln[0].expires_at = ln[0].amount > 0 ? expires : 0;
        ln[1].amount = -ln[0].amount;
        if (o[O_KIND].val && strcmp(o[O_KIND].val, "adjust") != 0 &&
            strcmp(o[O_KIND].val, "gift_sale") != 0)
            return cli_fail(LEAL_E_ENTRY_KIND, "--kind '%s'", o[O_KIND].val);
        if (!o[O_REQ].val)
            request_id(req);
        e.kind = o[O_KIND].val ? o[O_KIND].val : "adjust";
        e.request_id = o[O_REQ].val ? o[O_REQ].val : req;
        e.operator_name = o[O_OPERATOR].val;
        e.reason = o[O_REASON].val;
        e.reference = o[O_REF].val;
        e.store_id = store;
        e.lines = ln;
        e.nlines = 2;
    } else if (strcmp(sub, "void") == 0) {
        if (npos != 2)
            return cli_usage("leal ledger void ENTRY --reason TEXT --operator NAME");
        if (lcli_id(pos[1], &target) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "entry '%s'", pos[1]);
        if (!o[O_REASON].val || !o[O_REASON].val[0] || !o[O_OPERATOR].val || !o[O_OPERATOR].val[0])
            return cli_fail(LEAL_E_REASON_REQUIRED, "ledger void");
    } else if (strcmp(sub, "import") == 0) {
        if (npos != 2)
            return cli_usage("leal ledger import FILE");
        if (o[O_BATCH].val &&
            (lcli_id(o[O_BATCH].val, &batch) != LEAL_OK || batch > LEDGER_MAX_BATCH))
            return cli_fail(LEAL_E_NUMBER, "--batch '%s' (1..%d)", o[O_BATCH].val,
                            LEDGER_MAX_BATCH);
    } else if (strcmp(sub, "expire") == 0) {
        if (npos != 1)
            return cli_usage("leal ledger expire takes options only");
        if (lcli_id(o[O_PROGRAM].val, &target) != LEAL_OK)
            return cli_fail(LEAL_E_NUMBER, "--program '%s'",
                            o[O_PROGRAM].val ? o[O_PROGRAM].val : "");
        if (!o[O_OPERATOR].val || !o[O_OPERATOR].val[0])
            return cli_fail(LEAL_E_REASON_REQUIRED, "ledger expire");
        if (o[O_AT].val && lcli_date(o[O_AT].val, &expires) != LEAL_OK)
            return cli_fail(LEAL_E_DATE, "--at '%s'", o[O_AT].val);
        if (!o[O_AT].val)
            expires = (int64_t)time(NULL);
    } else if (strcmp(sub, "verify") != 0 && strcmp(sub, "init") != 0) {
        return cli_usage("leal ledger: unknown subcommand '%s'", sub);
    }
    if (strcmp(sub, "post") != 0 && strcmp(sub, "void") != 0 && strcmp(sub, "expire") != 0 &&
        npos != 1 + !strcmp(sub, "import"))
        return cli_usage("leal ledger %s: unexpected argument", sub);
    if (o[O_REQ].val && ledger_request_id_reserved(o[O_REQ].val))
        return cli_fail(LEAL_E_REQUEST_ID_RESERVED, "--request-id '%s'", o[O_REQ].val);

    rc = strcmp(sub, "init") == 0 ? lcli_create(o[O_DB].val, &l) : lcli_open(o[O_DB].val, &l);
    if (rc != 0)
        return rc;
    if (strcmp(sub, "init") == 0) {
        printf(json ? "{\"schema_version\":%d}\n" : "ledger ready (schema version %d)\n",
               ledger_schema_version(l));
    } else if (strcmp(sub, "post") == 0) {
        struct ledger_account a;
        const char *counter = o[O_COUNTER].val ? o[O_COUNTER].val : "adjustments";
        if ((err = ledger_account_get(l, ln[0].account_id, &a)) == LEAL_OK &&
            (err = ledger_program_account(l, a.program_id, counter, &ln[1].account_id)) ==
                LEAL_OK) {
            e.program_id = a.program_id;
            /* A sanity limit per operation: far beyond it is a typo until confirmed. */
            if (!o[O_OVER_LIMIT].val &&
                (err = ledger_program_limit_check(l, a.program_id, ln[0].asset, ln[0].amount)) ==
                    LEAL_E_OVER_LIMIT) {
                char what[128];
                snprintf(what, sizeof what, "--amount '%s'", o[O_AMOUNT].val);
                rc = lcli_fail(l, err, what);
                ledger_close(l);
                return rc;
            }
            if (err == LEAL_OK && (err = ledger_post(l, &e, &id, &rep)) == LEAL_OK)
                rc = print_post(json, id, rep, "posted");
        }
    } else if (strcmp(sub, "void") == 0) {
        const struct ledger_void_request rq = {target, o[O_REQ].val, o[O_OPERATOR].val,
                                               o[O_REASON].val};
        err = ledger_void(l, &rq, &id, &rep);
        if (err == LEAL_OK && json)
            printf("{\"entry\":%lld,\"voids\":%lld,\"replayed\":%s}\n", (long long)id,
                   (long long)target, rep ? "true" : "false");
        else if (err == LEAL_OK)
            printf("entry %lld %svoided by entry %lld\n", (long long)target,
                   rep ? "was already " : "", (long long)id);
    } else if (strcmp(sub, "expire") == 0) {
        int64_t accts = 0, pts = 0;
        err = ledger_expire_points(l, target, expires, o[O_OPERATOR].val, &accts, &pts);
        if (err == LEAL_OK && json)
            printf("{\"accounts\":%lld,\"points\":%lld}\n", (long long)accts, (long long)pts);
        else if (err == LEAL_OK)
            printf("expired %lld points in %lld accounts\n", (long long)pts, (long long)accts);
    } else if (strcmp(sub, "verify") == 0) {
        struct ledger_stats s;
        if ((err = ledger_verify(l, &s)) == LEAL_OK) {
            if (json)
                printf("{\"ok\":true,\"entries\":%lld,\"lines\":%lld,\"accounts\":%lld}\n",
                       (long long)s.entries, (long long)s.lines, (long long)s.accounts);
            else
                printf("ledger ok: %lld entries, %lld lines, %lld accounts\n", (long long)s.entries,
                       (long long)s.lines, (long long)s.accounts);
        }
    } else {
        rc = import(l, pos[1], batch, json);
    }
    if (err != LEAL_OK) {
        char what[64];
        snprintf(what, sizeof what, "ledger %s", sub);
        rc = lcli_fail(l, err, what);
    }
    ledger_close(l);
    return rc;
}

static const char backup_help[] =
    "usage: leal backup FILE [--force] [--db PATH]\n"
    "Writes an online, consistent copy of the ledger to FILE (SQLite backup API, mode\n"
    "0600); tills may keep posting meanwhile. FILE's folder must exist; an existing FILE\n"
    "is replaced only with --force. Restore by using the copy as --db.\n";

int cmd_backup(int argc, char **argv)
{
    struct lcli_opt o[] = {{"db", 0, 0}, {"force", 1, 0}, {"help", 1, 0}};
    struct ledger *l = NULL;
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    struct stat st;
    leal_err err;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, LCLI_MAX_POS, &npos)) != 0)
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
