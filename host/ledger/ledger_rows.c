/*
 * ledger_rows.c - read-only queries by SQL text (ledger_rows.h) over the
 * store's one-off statements.
 */
#include "ledger_rows.h"

#include <stdlib.h>

#include "store.h"

#define ROWS_MAX_PARAMS 16

struct ledger_rows {
    struct ledger *l;
    struct store_stmt *st;
};

bool ledger_rows_pg(const struct ledger *l)
{
    return l->pg != NULL;
}

leal_err ledger_rows_run(struct ledger *l, const char *sql, const int64_t *v, int n,
                         struct ledger_rows **out)
{
    struct store_val p[ROWS_MAX_PARAMS];
    struct ledger_rows *r;
    leal_err err;
    *out = NULL;
    l->msg[0] = '\0';
    if (n < 0 || n > ROWS_MAX_PARAMS)
        return LEAL_E_ARG;
    if ((r = calloc(1, sizeof *r)) == NULL)
        return LEAL_E_NO_MEMORY;
    r->l = l;
    if ((err = store_prep_once(l, sql, &r->st)) != LEAL_OK) {
        free(r);
        return err;
    }
    for (int i = 0; i < n; i++)
        p[i] = SV_I64(v[i]);
    store_bind(r->st, p, n);
    *out = r;
    return LEAL_OK;
}

int ledger_rows_next(struct ledger_rows *r, leal_err *err)
{
    return store_next_row(r->l, r->st, err);
}

bool ledger_rows_null(struct ledger_rows *r, int i)
{
    return store_col_type(r->st, i) == STORE_NULL;
}

int64_t ledger_rows_i64(struct ledger_rows *r, int i)
{
    return store_col_i64(r->st, i);
}

const char *ledger_rows_text(struct ledger_rows *r, int i)
{
    const unsigned char *s = store_col_str(r->st, i);
    return s ? (const char *)s : "";
}

void ledger_rows_close(struct ledger_rows *r)
{
    if (r == NULL)
        return;
    store_finalize(r->st);
    free(r);
}
