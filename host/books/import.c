/* import.c - the ledger's CSV import (import.h). */
#include "import.h"

#include <string.h>

#include "host/ledger/amount.h"
#include "parse.h"

struct run {
    struct ledger *l;
    FILE *f;
    int64_t batch, in_batch;
    const struct books_import_events *ev;
    struct books_import_result *res;
};

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

/* Reads the rest of an over-long line; true if the line really was longer
 * than the buffer (false: it ended exactly there). */
static bool overlong(FILE *f, const char *line, size_t len)
{
    int c;
    if (len == 0 || line[len - 1] == '\n' || len < LEAL_MAX_IMPORT_LINE - 1)
        return false;
    if ((c = getc(f)) == EOF || c == '\n')
        return false;
    while ((c = getc(f)) != EOF && c != '\n')
        ;
    return true;
}

/* Checks one CSV line without the database; LEAL_OK or the error, with why. */
static leal_err check_fields(char *line, struct ledger_line ln[2], char **fld, char *why,
                             size_t cap)
{
    why[0] = '\0';
    if (split(line, fld, 8) != 7) {
        snprintf(why, cap, "expected 7 comma-separated fields");
        return LEAL_E_FORMAT;
    }
    if (books_parse_id(fld[1], &ln[0].account_id) != LEAL_OK ||
        books_parse_id(fld[2], &ln[1].account_id) != LEAL_OK) {
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

/* The first refused line rolls its batch back; nothing more is posted. */
static void refuse(struct run *r, int64_t lineno, leal_err err, const char *why, bool ledger_said)
{
    struct books_import_refusal x = {lineno, err, why, ledger_said};
    r->ev->refused(r->ev->ctx, &x);
    if (r->res->refused++ == 0) {
        r->res->first_refused = lineno;
        if (r->in_batch > 0)
            ledger_batch_rollback(r->l);
        r->res->imported -= r->in_batch;
        r->in_batch = 0;
    }
}

static leal_err commit(struct run *r)
{
    leal_err err = ledger_batch_commit(r->l);
    r->in_batch = 0;
    if (err != LEAL_OK) {
        r->res->doing = "import commit";
        return err;
    }
    /* Acknowledged only now that the batch is on disk. */
    r->ev->committed(r->ev->ctx, r->res->imported);
    return LEAL_OK;
}

/* Posts a checked line (fields as check_fields left them). */
static leal_err post(struct run *r, int64_t lineno, struct ledger_line ln[2], char **fld)
{
    struct ledger_entry e;
    struct ledger_account a;
    int64_t id;
    bool rep;
    leal_err err;
    memset(&e, 0, sizeof e);
    snprintf(ln[0].asset, sizeof ln[0].asset, "%s", fld[3]);
    snprintf(ln[1].asset, sizeof ln[1].asset, "%s", fld[3]);
    ln[1].amount = -ln[0].amount;
    r->res->doing = "import";
    if ((err = ledger_account_get(r->l, ln[0].account_id, &a)) != LEAL_OK)
        return err;
    e.program_id = a.program_id;
    e.kind = "adjust";
    e.request_id = fld[0];
    e.reason = fld[5];
    e.operator_name = fld[6];
    e.lines = ln;
    e.nlines = 2;
    if (r->in_batch == 0 && (err = ledger_batch_begin_whole(r->l)) != LEAL_OK)
        return err;
    r->res->doing = NULL;
    if ((err = ledger_post(r->l, &e, &id, &rep)) != LEAL_OK) {
        refuse(r, lineno, err, "", true);
        return LEAL_OK;
    }
    r->res->replays += rep;
    r->res->imported++;
    if (++r->in_batch == r->batch)
        return commit(r);
    return LEAL_OK;
}

/* One line of the file: refused, skipped (empty, or after a refusal), or posted. */
static leal_err line(struct run *r, char *text, int64_t lineno)
{
    struct ledger_line ln[2];
    char *fld[8], why[128];
    size_t len = strlen(text);
    leal_err err;
    if (overlong(r->f, text, len)) {
        snprintf(why, sizeof why, "longer than %d bytes", LEAL_MAX_IMPORT_LINE - 2);
        refuse(r, lineno, LEAL_E_LINE_TOO_LONG, why, false);
        return LEAL_OK;
    }
    if (len && text[len - 1] == '\n')
        text[--len] = '\0';
    if (len == 0)
        return LEAL_OK;
    memset(ln, 0, sizeof ln);
    if ((err = check_fields(text, ln, fld, why, sizeof why)) != LEAL_OK) {
        refuse(r, lineno, err, why, false);
        return LEAL_OK;
    }
    if (r->res->refused)
        return LEAL_OK; /* nothing more is posted; later lines are only checked */
    return post(r, lineno, ln, fld);
}

leal_err books_import(struct ledger *l, FILE *f, int64_t batch,
                      const struct books_import_events *ev, struct books_import_result *res)
{
    struct run r;
    char text[LEAL_MAX_IMPORT_LINE];
    int64_t lineno = 0;
    leal_err err = LEAL_OK;
    memset(res, 0, sizeof *res);
    r = (struct run){l, f, batch, 0, ev, res};
    while (err == LEAL_OK && fgets(text, sizeof text, f))
        err = line(&r, text, ++lineno);
    if (err == LEAL_OK && r.in_batch > 0)
        err = commit(&r);
    else if (err != LEAL_OK)
        ledger_batch_rollback(l);
    if (err == LEAL_OK)
        res->doing = NULL;
    return err;
}
