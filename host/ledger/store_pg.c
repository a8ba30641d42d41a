/*
 * store_pg.c - the PostgreSQL store under the concerns, on libpq (see
 * store_pg.h for the transactions and their locking).
 *
 * A statement is the SQLite dialect's text with ?N rewritten to $N, CROSS
 * JOIN (SQLite's join-order hint, with ON) as JOIN, COLLATE BINARY (order
 * by bytes) as COLLATE "C", and a few whole
 * statements (BEGIN IMMEDIATE, PRAGMA quick_check) given in PostgreSQL's
 * words; an INSERT gets "RETURNING *" so that store_write's new
 * id is the row's id. Parameters go as typed values (int8 and text as text,
 * bytea binary) through the extended protocol: a statement is prepared once
 * per connection under a name (PQprepare) and then bound and executed
 * (PQexecPrepared), or parsed, bound and executed at once (PQexecParams)
 * when it cannot be kept; no value is ever spliced into SQL text. Rows come
 * back whole (the ledger's results are small: a key lookup, a page of a
 * list) and are read in text form; bytea is decoded on demand.
 */
#include "store_pg.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/log/log.h"
#include "keys/crypto.h"

/* The advisory lock every write transaction takes (store_pg.h): "LEAL". */
#define PG_WRITE_LOCK "SELECT pg_advisory_xact_lock(1279607116)"
#define PG_WRITE_BEGIN "BEGIN ISOLATION LEVEL READ COMMITTED; "
/* Every write transaction's last statement (schema_pg.c, version 11). */
#define PG_VERSION_BUMP "UPDATE ledger_version SET n = n + 1"
#define PG_MAX_PARAMS 64
/* Statements live in one pool, so store.c tells a PostgreSQL statement from
 * an SQLite one by its address (store_pg_owns) without reading it. */
#define PG_POOL 512
/* A bytea column is read only among a row's first PG_BLOB_COLS columns. */
#define PG_BLOB_COLS 32

/* PostgreSQL's type oids (catalog/pg_type_d.h, stable across versions). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_NUMERIC = 1700
};

struct store_stmt {
    bool used;
    struct ledger *l;
    char *sql;   /* rewritten: $N, RETURNING * */
    bool insert; /* RETURNING * added: rows are only the new id */
    int nparams; /* the highest $N bound */
    struct store_val p[PG_MAX_PARAMS];
    PGresult *res; /* NULL until stepped */
    int next;      /* the row store_pg_step hands out next */
    int cur;       /* the row it stands on */
    /* Decoded bytea columns of the current row, by column: a sale's
     * state_after is its 11th column read back, its 20th copied. */
    unsigned char *blob[PG_BLOB_COLS];
    size_t blob_n[PG_BLOB_COLS];
};

static struct store_stmt pool[PG_POOL];
/* The pool's and prepared's slots are shared by the process's ledgers, and
 * a server's threads each have their own (host/web): a slot is taken and
 * given back under this lock. A ledger touches only its own slots, and one
 * thread at a time uses a ledger, so a slot's content needs no lock. */
static pthread_mutex_t slots = PTHREAD_MUTEX_INITIALIZER;

/* Named prepared statements: each SQL text with its parameter types is
 * parsed and planned once per connection (PQprepare) and then only bound and
 * executed (PQexecPrepared); an import runs the same few statements for
 * every journal entry. Prepared statements outlive transactions, so one made
 * in a transaction later rolled back stays good. Beyond PG_PREPARED texts, or
 * when preparing fails, a statement runs unnamed (PQexecParams) as before. */
#define PG_PREPARED 256
struct pg_prepared {
    const struct ledger *l; /* NULL: a free slot */
    char *sql;
    int n;
    Oid types[PG_MAX_PARAMS];
};
static struct pg_prepared prepared[PG_PREPARED];

bool store_pg_uri(const char *path)
{
    return path &&
           (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

bool store_pg_owns(const struct store_stmt *st)
{
    uintptr_t a = (uintptr_t)st, lo = (uintptr_t)&pool[0];
    return st && a >= lo && a < lo + sizeof pool;
}

/* ---- Errors ---- */

static leal_err sqlstate_err(const char *state)
{
    if (state == NULL)
        return LEAL_E_IO; /* no answer: the connection is gone */
    if (strcmp(state, "23505") == 0)
        return LEAL_E_DUPLICATE_ID;
    if (strcmp(state, "23503") == 0)
        return LEAL_E_UNKNOWN_ID;
    if (strncmp(state, "23", 2) == 0)
        return LEAL_E_ARG; /* a check or not-null constraint */
    if (strcmp(state, "22003") == 0)
        return LEAL_E_OVERFLOW;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return LEAL_E_DB_BUSY;
    if (strncmp(state, "08", 2) == 0)
        return LEAL_E_IO;
    if (strcmp(state, "53100") == 0)
        return LEAL_E_IO; /* disk full */
    if (strcmp(state, "42501") == 0)
        return LEAL_E_PERMISSION;
    return LEAL_E_DB;
}

/* What the statement sql was doing, in a few words for its error line:
 * "reading TABLE", "adding to TABLE", "updating TABLE", "deleting from
 * TABLE", or the transaction or schema step. */
static void doing(const char *sql, char *out, size_t cap)
{
    static const struct {
        const char *verb, *after, *what; /* after: the word before the table to name */
    } kinds[] = {
        {"SELECT", " FROM ", "reading "},        {"WITH", " FROM ", "reading "},
        {"INSERT", "INTO ", "adding to "},       {"UPDATE", "UPDATE ", "updating "},
        {"DELETE", " FROM ", "deleting from "},  {"BEGIN", NULL, "starting a transaction"},
        {"COMMIT", NULL, "committing"},          {"ROLLBACK", NULL, "rolling back"},
        {"SAVEPOINT", NULL, "a savepoint"},      {"RELEASE", NULL, "a savepoint"},
        {"CREATE", NULL, "changing the schema"}, {"ALTER", NULL, "changing the schema"},
        {"DROP", NULL, "changing the schema"},   {"DO", NULL, "changing the schema"},
        {"SET", NULL, "a session setting"},
    };
    while (*sql == ' ' || *sql == '\n' || *sql == '(')
        sql++;
    snprintf(out, cap, "running a statement");
    if (strncmp(sql, "WITH ", 5) == 0 && strstr(sql, "INSERT INTO ") != NULL) {
        /* Inserts into several tables at once (an entry and its lines):
         * each, in the statement's order. */
        size_t k = (size_t)snprintf(out, cap, "adding to");
        int n = 0;
        for (const char *t = strstr(sql, "INSERT INTO "); t && k < cap;
             t = strstr(t, "INSERT INTO ")) {
            t += 12;
            size_t len = strspn(t, "abcdefghijklmnopqrstuvwxyz_0123456789");
            const char *more = strstr(t, "INSERT INTO ");
            k += (size_t)snprintf(out + k, cap - k, "%s%.*s",
                                  n == 0 ? " " : (more ? ", " : " and "), (int)len, t);
            n++;
        }
        return;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].verb);
        const char *t;
        if (strncmp(sql, kinds[i].verb, n) != 0 || (sql[n] != ' ' && sql[n] != '\0'))
            continue;
        if (kinds[i].after == NULL) {
            snprintf(out, cap, "%s", kinds[i].what);
            return;
        }
        /* The first table named (a FROM of a subquery's "(" is passed by). */
        for (t = strstr(sql, kinds[i].after); t; t = strstr(t, kinds[i].after)) {
            size_t len;
            t += strlen(kinds[i].after);
            if ((len = strspn(t, "abcdefghijklmnopqrstuvwxyz_0123456789")) > 0) {
                snprintf(out, cap, "%s%.*s", kinds[i].what, (int)len, t);
                return;
            }
        }
        return;
    }
}

/* The leal_err of a failed result of sql: one line in l->msg naming what
 * the statement was doing, the SQLSTATE and PostgreSQL's primary message
 * (never its DETAIL, which may quote a row's values), also logged, as
 * store_db_err does for SQLite. An SQLSTATE leal has no closer code for is
 * LEAL_E_PG_STATEMENT. */
static leal_err pg_err(struct ledger *l, const char *sql, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char what[96], *nl;
    leal_err err = sqlstate_err(state);
    doing(sql, what, sizeof what);
    /* A row refused inside a statement of inserts (WITH ... INSERT): the
     * table it was for, as its own INSERT said. */
    if (state && strncmp(state, "23", 2) == 0 && strncmp(sql, "WITH ", 5) == 0 &&
        strstr(sql, "INSERT INTO ") != NULL) {
        const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
        if (table)
            snprintf(what, sizeof what, "adding to %s", table);
    }
    if (text == NULL)
        text = PQerrorMessage(l->pg);
    if (text == NULL || text[0] == '\0')
        text = "no answer from the server";
    if (state)
        store_set_msg(l, "%s: PostgreSQL %s: %s", what, state, text);
    else
        store_set_msg(l, "%s: PostgreSQL: %s", what, text);
    if ((nl = strchr(l->msg, '\n')) != NULL)
        *nl = '\0';
    return log_foreign(err == LEAL_E_DB ? LEAL_E_PG_STATEMENT : err, "postgresql",
                       state ? state : "connection", l->msg);
}

/* ---- Statements ---- */

/* At a word of SQLite's dialect PostgreSQL says otherwise: writes its words
 * at out + *k (never longer) and returns how many of s it stands for; 0
 * for any other word. */
static size_t dialect_word(const char *s, char *out, size_t *k)
{
    /* SQLite's CROSS JOIN ... ON fixes the join order; PostgreSQL's planner
     * chooses it, and its CROSS JOIN takes no ON. */
    if (strncmp(s, "CROSS JOIN ", 11) == 0)
        return 6;
    /* SQLite's byte order for text is PostgreSQL's "C" collation. */
    if (strncmp(s, "COLLATE BINARY", 14) == 0) {
        memcpy(out + *k, "COLLATE \"C\"", 11);
        *k += 11;
        return 14;
    }
    return 0;
}

/* sql with ?N as $N (a bare ? numbered after the highest so far), outside
 * string literals and quoted names; whole statements PostgreSQL says
 * otherwise; INSERT with RETURNING * (new ids). */
static char *rewrite(const char *sql, bool *insert)
{
    static const struct {
        const char *sqlite, *pg;
    } whole[] = {
        {"BEGIN IMMEDIATE", PG_WRITE_BEGIN PG_WRITE_LOCK},
        {"BEGIN DEFERRED", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
        {"BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
        /* No page-level check from SQL (amcheck is an extension): the
         * server's own checksums and WAL are its integrity. */
        {"PRAGMA quick_check", "SELECT 'ok'"},
    };
    size_t n = strlen(sql), k = 0, skip;
    char *out;
    char quote = 0;
    int top = 0;
    const char *s = sql;
    *insert = false;
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        if (strcmp(sql, whole[i].sqlite) == 0)
            return strdup(whole[i].pg);
    out = malloc(n + 16);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            out[k++] = c;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out[k++] = c;
            continue;
        }
        if (c == 'C' && (i == 0 || s[i - 1] == ' ') && (skip = dialect_word(s + i, out, &k)) > 0) {
            i += skip - 1;
            continue;
        }
        if (c != '?') {
            out[k++] = c;
            continue;
        }
        out[k++] = '$';
        if (s[i + 1] >= '0' && s[i + 1] <= '9') {
            int v = (int)strtol(s + i + 1, NULL, 10);
            if (v > top)
                top = v;
        } else {
            /* "?" -> "$N": at most 2 digits more than the input (64 params). */
            size_t cap = n + 16 + 2 * (size_t)(top + 1);
            char *grown = realloc(out, cap);
            if (grown == NULL) {
                free(out);
                return NULL;
            }
            out = grown;
            k += (size_t)snprintf(out + k, cap - k, "%d", ++top);
        }
    }
    out[k] = '\0';
    while (*s == ' ' || *s == '\n')
        s++;
    if (strncmp(s, "INSERT", 6) == 0 && strstr(sql, "RETURNING") == NULL) {
        char *grown = realloc(out, k + 16);
        if (grown == NULL) {
            free(out);
            return NULL;
        }
        out = grown;
        memcpy(out + k, " RETURNING *", 13);
        *insert = true;
    }
    return out;
}

static void clear_row(struct store_stmt *st)
{
    for (size_t i = 0; i < sizeof st->blob / sizeof st->blob[0]; i++) {
        PQfreemem(st->blob[i]);
        st->blob[i] = NULL;
        st->blob_n[i] = 0;
    }
}

void store_pg_reset(struct store_stmt *st, bool clear)
{
    clear_row(st);
    PQclear(st->res);
    st->res = NULL;
    st->next = 0;
    st->cur = -1;
    if (clear) {
        memset(st->p, 0, sizeof st->p);
        st->nparams = 0;
    }
}

leal_err store_pg_prep(struct ledger *l, const char *sql, struct store_stmt **out)
{
    struct store_stmt *st = NULL;
    bool insert = false;
    char *text = rewrite(sql, &insert);
    *out = NULL;
    if (text == NULL)
        return LEAL_E_NO_MEMORY;
    pthread_mutex_lock(&slots);
    for (int i = 0; i < PG_POOL && st == NULL; i++)
        if (!pool[i].used)
            st = &pool[i];
    if (st) {
        memset(st, 0, sizeof *st);
        st->used = true;
        st->l = l;
    }
    pthread_mutex_unlock(&slots);
    if (st == NULL) {
        free(text);
        store_set_msg(l, "more than %d PostgreSQL statements open at once", PG_POOL);
        return LEAL_E_NO_MEMORY;
    }
    st->sql = text;
    st->insert = insert;
    st->cur = -1;
    *out = st;
    return LEAL_OK;
}

void store_pg_finalize(struct store_stmt *st)
{
    if (st == NULL)
        return;
    store_pg_reset(st, true);
    free(st->sql);
    pthread_mutex_lock(&slots);
    memset(st, 0, sizeof *st);
    pthread_mutex_unlock(&slots);
}

void store_pg_bind(struct store_stmt *st, int i, const struct store_val *v)
{
    if (i < 1 || i > PG_MAX_PARAMS)
        return;
    st->p[i - 1] = *v;
    if (i > st->nparams)
        st->nparams = i;
}

/* The slot of sql with these parameter types prepared on l's connection
 * ("leal" and the slot's number), preparing it the first time; -1 to run it
 * unnamed (no room, no memory, or the server refused it: then running it
 * unnamed reports why), or -1 with *refused the server's answer when its
 * refusal aborted the transaction (run unnamed, it would only say that the
 * transaction is aborted, not why). */
static int prepare(const struct ledger *l, const char *sql, int n, const Oid *types,
                   PGresult **refused)
{
    int free_slot = -1;
    char name[16], *copy;
    PGresult *res;
    pthread_mutex_lock(&slots);
    for (int i = 0; i < PG_PREPARED; i++) {
        struct pg_prepared *p = &prepared[i];
        if (p->l == NULL) {
            if (free_slot < 0)
                free_slot = i;
        } else if (p->l == l && p->n == n &&
                   memcmp(p->types, types, (size_t)n * sizeof *types) == 0 &&
                   strcmp(p->sql, sql) == 0) {
            pthread_mutex_unlock(&slots);
            return i;
        }
    }
    copy = free_slot < 0 || PQtransactionStatus(l->pg) == PQTRANS_INERROR ? NULL : strdup(sql);
    if (copy) {
        /* Claimed (no other ledger's lookup matches it) while it is prepared. */
        prepared[free_slot].l = l;
        prepared[free_slot].sql = copy;
        prepared[free_slot].n = -1;
    }
    pthread_mutex_unlock(&slots);
    if (copy == NULL)
        return -1;
    snprintf(name, sizeof name, "leal%d", free_slot);
    res = PQprepare(l->pg, name, sql, n, types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        if (PQtransactionStatus(l->pg) == PQTRANS_INERROR)
            *refused = res;
        else
            PQclear(res);
        pthread_mutex_lock(&slots);
        free(prepared[free_slot].sql);
        memset(&prepared[free_slot], 0, sizeof prepared[free_slot]);
        pthread_mutex_unlock(&slots);
        return -1;
    }
    PQclear(res);
    memcpy(prepared[free_slot].types, types, (size_t)n * sizeof *types);
    prepared[free_slot].n = n;
    return free_slot;
}

/* Forgets l's prepared statements (its connection that had them is gone). */
static void forget_prepared(const struct ledger *l)
{
    pthread_mutex_lock(&slots);
    for (int i = 0; i < PG_PREPARED; i++)
        if (prepared[i].l == l) {
            free(prepared[i].sql);
            memset(&prepared[i], 0, sizeof prepared[i]);
        }
    pthread_mutex_unlock(&slots);
}

/* Runs st with its parameters: int8 and text in text form, bytea binary. */
static PGresult *run(struct store_stmt *st)
{
    Oid types[PG_MAX_PARAMS];
    const char *vals[PG_MAX_PARAMS];
    int lens[PG_MAX_PARAMS], fmts[PG_MAX_PARAMS];
    char ints[PG_MAX_PARAMS][24];
    if (st->nparams == 0)
        return PQexec(st->l->pg, st->sql); /* may be several statements (BEGIN; lock) */
    for (int i = 0; i < st->nparams; i++) {
        const struct store_val *v = &st->p[i];
        types[i] = 0;
        vals[i] = NULL;
        lens[i] = 0;
        fmts[i] = 0;
        switch (v->kind) {
        case STORE_I64:
            types[i] = OID_INT8;
            snprintf(ints[i], sizeof ints[i], "%lld", (long long)v->i);
            vals[i] = ints[i];
            break;
        case STORE_TEXT:
            types[i] = OID_TEXT;
            vals[i] = v->p;
            break;
        case STORE_BLOB:
            types[i] = OID_BYTEA;
            vals[i] = v->p ? v->p : "";
            lens[i] = (int)v->n;
            fmts[i] = 1;
            if (v->p == NULL)
                vals[i] = NULL;
            break;
        case STORE_NULL:
            break;
        }
    }
    PGresult *refused = NULL;
    int slot = prepare(st->l, st->sql, st->nparams, types, &refused);
    if (refused)
        return refused;
    if (slot >= 0) {
        char name[16];
        snprintf(name, sizeof name, "leal%d", slot);
        return PQexecPrepared(st->l->pg, name, st->nparams, vals, lens, fmts, 0);
    }
    return PQexecParams(st->l->pg, st->sql, st->nparams, types, vals, lens, fmts, 0);
}

/* Whether res is an INSERT, UPDATE or DELETE that changed a row (with or
 * without RETURNING). */
static bool changed_rows(PGresult *res)
{
    const char *cmd = PQcmdStatus(res), *n = PQcmdTuples(res);
    return cmd &&
           (strncmp(cmd, "INSERT ", 7) == 0 || strncmp(cmd, "UPDATE ", 7) == 0 ||
            strncmp(cmd, "DELETE ", 7) == 0) &&
           n && n[0] && strcmp(n, "0") != 0;
}

leal_err store_pg_step(struct ledger *l, struct store_stmt *st, int *row)
{
    if (row)
        *row = 0;
    clear_row(st);
    if (st->res == NULL && l->pg_write && l->pg_wrote && strcmp(st->sql, "COMMIT") == 0) {
        /* The write's mark for the dashboard's kept answers (report_db_version),
         * in the transaction it marks. */
        PGresult *res = PQexec(l->pg, PG_VERSION_BUMP);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            leal_err err = pg_err(l, PG_VERSION_BUMP, res);
            PQclear(res);
            return err;
        }
        PQclear(res);
    }
    if (st->res == NULL) {
        ExecStatusType s;
        if (strncmp(st->sql, "COMMIT", 6) == 0 || strcmp(st->sql, "ROLLBACK") == 0)
            l->pg_write = l->pg_wrote = false;
        st->res = run(st);
        s = PQresultStatus(st->res);
        if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
            leal_err err = pg_err(l, st->sql, st->res);
            store_pg_reset(st, false);
            return err;
        }
        st->next = 0;
        if (strncmp(st->sql, PG_WRITE_BEGIN, strlen(PG_WRITE_BEGIN)) == 0)
            l->pg_write = true;
        else if (l->pg_write && !l->pg_wrote)
            /* A WITH of inserts returns its rows as a SELECT does. */
            l->pg_wrote = changed_rows(st->res) ||
                          (strncmp(st->sql, "WITH ", 5) == 0 &&
                           strstr(st->sql, "INSERT INTO ") != NULL && PQntuples(st->res) > 0);
        if (s == PGRES_COMMAND_OK) {
            const char *n = PQcmdTuples(st->res);
            l->pg_changes = n && n[0] ? strtoll(n, NULL, 10) : 0;
        } else if (st->insert) {
            int id = PQfnumber(st->res, "id");
            int nt = PQntuples(st->res);
            l->pg_changes = nt;
            if (id >= 0 && nt > 0)
                l->pg_last_id = strtoll(PQgetvalue(st->res, nt - 1, id), NULL, 10);
            st->next = nt; /* RETURNING * was ours: no rows for the caller */
        } else {
            l->pg_changes = PQntuples(st->res);
        }
    }
    if (st->next < PQntuples(st->res)) {
        st->cur = st->next++;
        if (row)
            *row = 1;
        return LEAL_OK;
    }
    store_pg_reset(st, false);
    return LEAL_OK;
}

static bool on_row(const struct store_stmt *st, int i)
{
    return st->res && st->cur >= 0 && st->cur < PQntuples(st->res) && i >= 0 &&
           i < PQnfields(st->res);
}

int64_t store_pg_col_i64(struct store_stmt *st, int i)
{
    const char *v;
    if (!on_row(st, i) || PQgetisnull(st->res, st->cur, i))
        return 0;
    v = PQgetvalue(st->res, st->cur, i);
    if (PQftype(st->res, i) == OID_BOOL)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

const unsigned char *store_pg_col_str(struct store_stmt *st, int i)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->cur, i))
        return NULL;
    return (const unsigned char *)PQgetvalue(st->res, st->cur, i);
}

/* A bytea column decoded from its text form ("\x..."), once per row. */
static bool decode(struct store_stmt *st, int i)
{
    if (i >= (int)(sizeof st->blob / sizeof st->blob[0]))
        return false;
    if (st->blob[i] == NULL)
        st->blob[i] =
            PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->cur, i), &st->blob_n[i]);
    return st->blob[i] != NULL;
}

const void *store_pg_col_blob(struct store_stmt *st, int i)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->cur, i))
        return NULL;
    if (PQftype(st->res, i) != OID_BYTEA)
        return PQgetvalue(st->res, st->cur, i);
    return decode(st, i) ? st->blob[i] : NULL;
}

int store_pg_col_bytes(struct store_stmt *st, int i)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->cur, i))
        return 0;
    if (PQftype(st->res, i) != OID_BYTEA)
        return PQgetlength(st->res, st->cur, i);
    return decode(st, i) ? (int)st->blob_n[i] : 0;
}

enum store_kind store_pg_col_type(struct store_stmt *st, int i)
{
    if (!on_row(st, i) || PQgetisnull(st->res, st->cur, i))
        return STORE_NULL;
    switch (PQftype(st->res, i)) {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_NUMERIC:
        return STORE_I64;
    case OID_BYTEA:
        return STORE_BLOB;
    default:
        return STORE_TEXT;
    }
}

int store_pg_col_count(struct store_stmt *st)
{
    return st->res ? PQnfields(st->res) : 0;
}

const char *store_pg_col_name(struct store_stmt *st, int i)
{
    return st->res && i >= 0 && i < PQnfields(st->res) ? PQfname(st->res, i) : NULL;
}

leal_err store_pg_exec(struct ledger *l, const char *sql)
{
    struct store_stmt *st;
    leal_err err = store_pg_prep(l, sql, &st);
    int row = 1;
    while (err == LEAL_OK && row)
        err = store_pg_step(l, st, &row);
    store_pg_finalize(st);
    return err;
}

bool store_pg_in_tx(struct ledger *l)
{
    return PQtransactionStatus(l->pg) != PQTRANS_IDLE;
}

void store_pg_close(struct ledger *l)
{
    for (int i = 0; i < PG_POOL; i++) {
        bool mine;
        pthread_mutex_lock(&slots);
        mine = pool[i].used && pool[i].l == l;
        pthread_mutex_unlock(&slots);
        if (mine)
            store_pg_finalize(&pool[i]);
    }
    forget_prepared(l);
    PQfinish(l->pg);
}

static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

bool store_pg_lost(const struct ledger *l)
{
    return PQstatus(l->pg) == CONNECTION_BAD;
}

leal_err store_pg_reconnect(struct ledger *l)
{
    char *nl;
    /* A server's connection writes no notice on its stderr (the server's
     * FATAL before it closes one is said by the answer instead). */
    (void)PQsetNoticeProcessor(l->pg, quiet, NULL);
    /* Idle, a connection the server has closed (a restart, an
     * administrator's pg_terminate_backend) is found so by reading what
     * waits on its socket, without a statement failing first: the
     * server's last word, then the end of the stream (no read blocks). */
    for (int i = 0; i < 3 && PQstatus(l->pg) == CONNECTION_OK &&
                    PQtransactionStatus(l->pg) == PQTRANS_IDLE && PQconsumeInput(l->pg);
         i++)
        ;
    if (PQstatus(l->pg) != CONNECTION_BAD)
        return LEAL_OK;
    /* The server's session is gone with its prepared statements and any
     * transaction (rolled back there: nothing of it was committed). */
    forget_prepared(l);
    l->pg_write = l->pg_wrote = false;
    PQreset(l->pg);
    if (PQstatus(l->pg) == CONNECTION_OK) {
        (void)PQsetNoticeProcessor(l->pg, quiet, NULL);
        return store_pg_exec(l, "SET client_min_messages = warning");
    }
    store_set_msg(l, "the PostgreSQL server does not answer: %s", PQerrorMessage(l->pg));
    if ((nl = strchr(l->msg, '\n')) != NULL)
        *nl = '\0';
    return log_foreign(LEAL_E_PG_CONNECT, "postgresql", "PQreset", l->msg);
}
