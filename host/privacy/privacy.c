/*
 * privacy.c - a customer's export and erasure (privacy.h).
 */
#include "privacy.h"

#include "host/ledger/ledger.h"
#include "host/ledger/ledger_rows.h"
#include "host/grow.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What names the customer ?1: their accounts, cards, lines and sales, as
 * subqueries (the same SQL on SQLite and PostgreSQL, whose read-only
 * snapshot makes no temporary table). */
#define P_ACCT "(SELECT id FROM account WHERE customer_id = ?1)"
#define P_CARD "(SELECT card_id FROM card WHERE account_id IN " P_ACCT ")"
#define P_LINE_ENTRY "(SELECT entry_id FROM line WHERE account_id IN " P_ACCT ")"
#define P_LINE "(SELECT id FROM line WHERE account_id IN " P_ACCT ")"
#define P_SALE "(SELECT id FROM sale WHERE account_id IN " P_ACCT ")"

/* Every table with a row that can name a customer, and which rows do. */
static const struct {
    const char *table, *where;
} named[] = {
    {"customer", "id = ?1"},
    {"customer_pii", "customer_id = ?1"},
    {"consent", "customer_id = ?1"},
    {"customer_note", "customer_id = ?1"},
    {"account", "id IN " P_ACCT},
    {"balance", "account_id IN " P_ACCT},
    {"card", "card_id IN " P_CARD},
    {"card_event", "card_id IN " P_CARD},
    {"card_key", "card_id IN " P_CARD},
    {"card_identity_rewrite", "card_id IN " P_CARD},
    {"card_pending_topup", "card_id IN " P_CARD},
    {"card_pending_sync", "card_id IN " P_CARD},
    {"card_pending_bono", "card_id IN " P_CARD},
    {"entry", "id IN " P_LINE_ENTRY " OR card_id IN " P_CARD},
    {"line", "entry_id IN " P_LINE_ENTRY},
    {"lot", "account_id IN " P_ACCT},
    {"lot_use", "line_id IN " P_LINE},
    {"sale", "id IN " P_SALE},
    {"sale_item", "sale_id IN " P_SALE},
    {"sale_line", "sale_id IN " P_SALE},
    {"sale_stamp", "sale_id IN " P_SALE},
    {"sale_refund", "account_id IN " P_ACCT},
    {"bono_holding", "account_id IN " P_ACCT},
    {"terminal_entry", "card_id IN " P_CARD},
    {"sync_finding", "card_id IN " P_CARD},
    {"reconcile_finding", "card_id IN " P_CARD},
    /* Host changes sent to a card (pkg's migration; skipped where absent). */
    {"card_host_change_sent", "card_id IN " P_CARD},
    /* Messages sent to the customer (msg2's migration; skipped where absent). */
    {"message_send", "customer_id = ?1"},
    /* The customer's tags (seg's migration; skipped where absent), in the
     * order of their key on both backends (a PostgreSQL table has none). */
    {"customer_tag", "customer_id = ?1 ORDER BY tag COLLATE BINARY"},
    /* The portal's sign-in links and sessions (web3's migration; skipped where absent). */
    {"portal_link", "customer_id = ?1"},
    {"portal_session", "customer_id = ?1"},
    /* The language of the customer's messages (msg3's migration). */
    {"customer_lang", "customer_id = ?1"},
    /* The per-phone QR spending caps (qr3's migration). */
    {"qr_phone_caps", "card_id IN " P_CARD},
    /* The text of the customer's static QR codes (web4's migration). */
    {"qr_static_text", "card_id IN " P_CARD},
    /* The tier the customer's messages last saw (msg5's migration). */
    {"message_tier", "customer_id = ?1"},
    /* The portal's card PINs (their hashes) and redemption codes (portal2's migration). */
    {"card_pin", "card_id IN " P_CARD},
    {"portal_redemption", "customer_id = ?1"},
    /* The months the customer was active in, for the reports (rep7's migration). */
    {"report_visit", "customer_id = ?1"},
    /* What the customer's accounts moved per month, for the reports (rep8's migration). */
    {"report_held", "account_id IN " P_ACCT},
    /* The Transaction MACs journaled for the customer's EV2/EV3 cards (ev5's migration). */
    {"terminal_tmac", "card_id IN " P_CARD},
    /* The bounces of the customer's e-mails, with the address (rep9's migration). */
    {"message_bounce", "customer_id = ?1"},
    /* The customer's erasure requests (web9's migration). */
    {"erasure_request", "customer_id = ?1"},
    /* The holders' names of the customer's family cards (web9's migration). */
    {"card_holder", "card_id IN " P_CARD},
};

/* Whether the ledger has table t (a list that names a newer table still
 * exports from a ledger without it). */
static int has_table(sqlite3 *db, const char *t, int *yes)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static leal_err db_err(int rc)
{
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return LEAL_E_DB_BUSY;
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
        return LEAL_E_DB_CORRUPT;
    return rc == SQLITE_CANTOPEN ? LEAL_E_NO_LEDGER : LEAL_E_DB;
}

static leal_err open_db(const char *path, int flags, sqlite3 **db)
{
    int rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(*db, 30000);
        return LEAL_OK;
    }
    sqlite3_close(*db);
    *db = NULL;
    return db_err(rc);
}

/* A one-statement run with ?1 = id; rows ignored. */
static int exec_id(sqlite3 *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void json_text(FILE *f, const unsigned char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if (*s < 0x20 || *s == 0x7f)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_value(FILE *f, const struct ledger_cell *c)
{
    switch (c->kind) {
    case LEDGER_CELL_INT:
        fprintf(f, "%lld", (long long)c->i);
        break;
    case LEDGER_CELL_TEXT:
        json_text(f, c->p);
        break;
    case LEDGER_CELL_BLOB: {
        const unsigned char *b = c->p;
        fputc('"', f);
        for (size_t k = 0; b && k < c->n; k++)
            fprintf(f, "%02x", b[k]);
        fputc('"', f);
        break;
    }
    default:
        fputs("null", f);
    }
}

/* A value for a person to read: text as it is (control characters as
 * \uXXXX, so a value stays on its line), blobs in hex, NULL as "-", and
 * times (*_at) with their UTC date. */
static void text_value(FILE *f, const struct ledger_cell *c)
{
    if (c->kind != LEDGER_CELL_TEXT) {
        if (c->kind == LEDGER_CELL_NULL)
            fputc('-', f);
        else
            json_value(f, c); /* numbers as in JSON, blobs as quoted hex */
        size_t nl = strlen(c->name);
        time_t t = (time_t)c->i;
        struct tm tm;
        char when[32];
        /* The ledger's times (columns *_at) are Unix seconds: shown as a date too. */
        if (c->kind == LEDGER_CELL_INT && nl > 3 && strcmp(c->name + nl - 3, "_at") == 0 &&
            gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
            fprintf(f, " (%s)", when);
        return;
    }
    for (const unsigned char *s = c->p; s && *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
}

/* What export_row prints to, and how many rows it has printed. */
struct export_ctx {
    FILE *out;
    bool text;
    int64_t n;
};

/* A row in text ("  row n", then a line per column) or JSON. */
static int export_row(void *ctx, const struct ledger_cell *c, int ncells)
{
    struct export_ctx *x = ctx;
    x->n++;
    if (x->text) {
        fprintf(x->out, "  row %lld\n", (long long)x->n);
        for (int i = 0; i < ncells; i++) {
            fprintf(x->out, "    %s: ", c[i].name);
            text_value(x->out, &c[i]);
            fputc('\n', x->out);
        }
        return 0;
    }
    fputs(x->n > 1 ? ",{" : "{", x->out);
    for (int i = 0; i < ncells; i++) {
        if (i)
            fputc(',', x->out);
        json_text(x->out, (const unsigned char *)c[i].name);
        fputc(':', x->out);
        json_value(x->out, &c[i]);
    }
    fputc('}', x->out);
    return 0;
}

static int count_row(void *ctx, const struct ledger_cell *c, int ncells)
{
    (void)c;
    (void)ncells;
    ((struct export_ctx *)ctx)->n++;
    return 0;
}

/* The current row of a SQLite statement as cells. */
static int sqlite_cells(sqlite3_stmt *st, struct ledger_cell *c, int cap)
{
    int n = sqlite3_column_count(st);
    if (n > cap)
        n = cap;
    for (int i = 0; i < n; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].name = sqlite3_column_name(st, i);
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            c[i].kind = LEDGER_CELL_INT;
            c[i].i = sqlite3_column_int64(st, i);
            break;
        case SQLITE_NULL:
            break;
        case SQLITE_BLOB:
            c[i].kind = LEDGER_CELL_BLOB;
            c[i].p = sqlite3_column_blob(st, i);
            c[i].n = (size_t)sqlite3_column_bytes(st, i);
            break;
        default: /* text (the ledger's STRICT tables hold no REAL) */
            c[i].kind = LEDGER_CELL_TEXT;
            c[i].p = sqlite3_column_text(st, i);
            c[i].n = (size_t)sqlite3_column_bytes(st, i);
            break;
        }
    }
    return n;
}

/* Every row of sql (?1 = id) to cb, on SQLite. */
static int sqlite_rows(sqlite3 *db, const char *sql, int64_t id, ledger_row_cb cb, void *ctx)
{
    struct ledger_cell c[64];
    sqlite3_stmt *st;
    int rc;
    if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
        return rc;
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(ctx, c, sqlite_cells(st, c, 64)) != 0)
            break;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* The ledger being exported: a SQLite file on its own read-only
 * connection, or a PostgreSQL ledger in a read snapshot. */
struct source {
    sqlite3 *db;
    struct ledger *l;
};

static leal_err source_rows(struct source *src, const char *sql, int64_t id, ledger_row_cb cb,
                            void *ctx)
{
    int rc;
    if (src->l)
        return ledger_rows(src->l, sql, id, cb, ctx);
    rc = sqlite_rows(src->db, sql, id, cb, ctx);
    return rc == SQLITE_OK ? LEAL_OK : db_err(rc);
}

static leal_err export_table(struct source *src, int64_t id, size_t t, bool text, FILE *out)
{
    char sql[1024];
    struct export_ctx x = {out, text, 0};
    leal_err err;
    if (src->l) {
        bool yes = false;
        if ((err = ledger_has_table(src->l, named[t].table, &yes)) != LEAL_OK || !yes)
            return err;
    } else {
        int yes = 0, rc = has_table(src->db, named[t].table, &yes);
        if (rc != SQLITE_OK || !yes)
            return rc == SQLITE_OK ? LEAL_OK : db_err(rc);
    }
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s", named[t].table, named[t].where);
    /* Text needs the count first: one read of it, inside the same read transaction. */
    if (text) {
        if ((err = source_rows(src, sql, id, count_row, &x)) != LEAL_OK)
            return err;
        fprintf(out, "%s: %lld row%s\n", named[t].table, (long long)x.n, x.n == 1 ? "" : "s");
        x.n = 0;
    } else {
        fprintf(out, "%s\"%s\":[", t ? "," : "", named[t].table); /* table 0 always exists */
    }
    err = source_rows(src, sql, id, export_row, &x);
    if (!text)
        fputc(']', out);
    return err;
}

static leal_err customer_state(sqlite3 *db, int64_t id, int64_t *erased_at)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT coalesce(erased_at, 0) FROM customer WHERE id = ?1", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return db_err(rc);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    *erased_at = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_err(rc);
    return rc == SQLITE_ROW ? LEAL_OK : LEAL_E_UNKNOWN_ID;
}

/* The export, from src in one read transaction. */
static leal_err export_all(struct source *src, int64_t customer_id, bool text, FILE *out)
{
    int64_t erased = -1;
    leal_err err = src->l ? ledger_customer_state(src->l, customer_id, &erased)
                          : customer_state(src->db, customer_id, &erased);
    if (err == LEAL_OK && erased < 0)
        err = LEAL_E_UNKNOWN_ID;
    if (err != LEAL_OK)
        return err;
    if (text)
        fprintf(out, "Customer %lld: everything leal holds that names them, table by table.\n",
                (long long)customer_id);
    else
        fprintf(out, "{\"customer\":%lld,\"tables\":{", (long long)customer_id);
    for (size_t t = 0; err == LEAL_OK && t < sizeof named / sizeof named[0]; t++)
        err = export_table(src, customer_id, t, text, out);
    if (err == LEAL_OK && !text)
        fputs("}}\n", out);
    return err;
}

static bool pg_path(const char *path)
{
    return strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
}

/* A PostgreSQL ledger opened for the export or the erasure. */
static leal_err pg_open(const char *path, struct ledger **l)
{
    char why[256];
    leal_err err = ledger_open_existing_why(path, l, why, sizeof why);
    if (err != LEAL_OK) {
        ledger_close(*l);
        *l = NULL;
    }
    return err;
}

leal_err privacy_export_ledger(struct ledger *l, int64_t customer_id, bool text, FILE *out)
{
    struct source src = {NULL, l};
    leal_err err = ledger_read_begin(l);
    if (err != LEAL_OK)
        return err;
    err = export_all(&src, customer_id, text, out);
    ledger_read_end(l);
    return err == LEAL_OK && ferror(out) ? LEAL_E_IO : err;
}

leal_err privacy_export_as(const char *path, int64_t customer_id, bool text, FILE *out)
{
    struct source src = {NULL, NULL};
    leal_err err;
    if (pg_path(path)) {
        if ((err = pg_open(path, &src.l)) != LEAL_OK)
            return err;
        err = privacy_export_ledger(src.l, customer_id, text, out);
        ledger_close(src.l);
        return err;
    }
    if ((err = open_db(path, SQLITE_OPEN_READONLY, &src.db)) != LEAL_OK)
        return err;
    int rc = sqlite3_exec(src.db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        err = export_all(&src, customer_id, text, out);
    else
        err = db_err(rc);
    sqlite3_exec(src.db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(src.db);
    return err == LEAL_OK && ferror(out) ? LEAL_E_IO : err;
}

leal_err privacy_export(const char *path, int64_t customer_id, FILE *out)
{
    return privacy_export_as(path, customer_id, false, out);
}

static const char erase_pii_sql[] =
    "UPDATE customer_pii SET name = '', surname = '', email = '', phone = '', birth_date = '', "
    "gender = '', address = '', preferences = '', name_key = '', surname_key = '', "
    "phone_key = '', updated_at = ?2 WHERE customer_id = ?1";

/* The cards decision: with block, customer id's active cards (their
 * accounts', phones' QR cards included) become blocked, each with a
 * card_event saying why and by whom, so terminals refuse them from the next
 * package; *blocked: how many. Cards blocked, lost or replaced (and pending
 * ones) stay as they are. */
static int erase_cards(sqlite3 *db, int64_t id, const char *operator_name, int64_t now, bool block,
                       int64_t *blocked)
{
    static const char *const sql[] = {
        "INSERT INTO card_event(card_id, at, status, reason, operator) SELECT card_id, ?2, "
        "'blocked', 'customer erased: cards blocked by decision', ?3 FROM card WHERE status = "
        "'active' AND account_id IN (SELECT id FROM account WHERE customer_id = ?1) ORDER BY "
        "card_id",
        "UPDATE card SET status = 'blocked', updated_at = ?2 WHERE status = 'active' AND "
        "account_id IN (SELECT id FROM account WHERE customer_id = ?1)"};
    int rc = SQLITE_OK;
    *blocked = 0;
    for (int k = 0; block && rc == SQLITE_OK && k < 2; k++) {
        sqlite3_stmt *st;
        if ((rc = sqlite3_prepare_v2(db, sql[k], -1, &st, NULL)) != SQLITE_OK)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        if (k == 0)
            sqlite3_bind_text(st, 3, operator_name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        if (rc == SQLITE_OK && k == 1)
            *blocked = sqlite3_changes(db);
        sqlite3_finalize(st);
    }
    return rc;
}

/* The audit lines of the customer's notes keep their note's id and author,
 * not its text: the back office's notes (host/web/web_care.c) log the text
 * before and after each change, under the object "customer ID". And those of
 * their family cards' holders keep the card, not the holder's name. */
static const char erase_note_audit_sql[] =
    "UPDATE audit SET before = CASE WHEN json_valid(before) THEN json_replace(before, '$.text', "
    "'') END, after = CASE WHEN json_valid(after) THEN json_replace(after, '$.text', '') END "
    "WHERE object = 'customer ' || ?1 AND action LIKE 'customer.note.%'";
static const char erase_holder_audit_sql[] =
    "UPDATE audit SET before = CASE WHEN json_valid(before) THEN json_replace(before, "
    "'$.holder', '') END, after = CASE WHEN json_valid(after) THEN json_replace(after, "
    "'$.holder', '') END WHERE action IN ('card.holder', 'card.detach') AND object IN (SELECT "
    "'card ' || card_id FROM card WHERE account_id IN (SELECT id FROM account WHERE "
    "customer_id = ?1))";

/* And the back office's customer.create and customer.edit lines hold the
 * person's fields before and after each change (host/web/web_api.c): those
 * fields are emptied, the line (who changed what, when) stays. */
static const char erase_customer_audit_sql[] =
    "UPDATE audit SET before = CASE WHEN json_valid(before) THEN json_replace(before, '$.name', "
    "'', '$.surname', '', '$.email', '', '$.phone', '', '$.birth_date', '', '$.gender', '', "
    "'$.address', '', '$.preferences', '') END, after = CASE WHEN json_valid(after) THEN "
    "json_replace(after, '$.name', '', '$.surname', '', '$.email', '', '$.phone', '', "
    "'$.birth_date', '', '$.gender', '', '$.address', '', '$.preferences', '') END WHERE object "
    "= 'customer ' || ?1 AND action IN ('customer.create', 'customer.edit')";

/* A pending erasure request is done (web9's migration; skipped where absent),
 * with its audit line: who carried it out (user_id 0: the command line).
 * Without a request nothing is written here (the customer's note records
 * the erasure), so a ledger the back office never used holds no audit line. */
static int erase_request_done(sqlite3 *db, int64_t id, const char *operator_name, int64_t user_id,
                              int64_t now)
{
    sqlite3_stmt *st;
    int yes = 0, rc = has_table(db, "erasure_request", &yes);
    if (rc != SQLITE_OK || !yes)
        return rc;
    static const char *const sql[] = {
        "INSERT INTO audit(at, user_id, actor, action, object, before, after) SELECT ?2, ?4, "
        "?3, 'customer.erase', 'customer ' || ?1, (SELECT json_object('request', r.id, "
        "'asked_on', r.asked_on, 'channel', r.channel, 'recorded_by', r.recorded_by, "
        "'done_at', NULL) FROM erasure_request r WHERE r.customer_id = ?1 AND r.done_at IS "
        "NULL), json_object('erased_at', ?2, 'done_by', ?3) WHERE EXISTS (SELECT 1 FROM "
        "erasure_request WHERE customer_id = ?1 AND done_at IS NULL)",
        "UPDATE erasure_request SET done_at = ?2, done_by = ?3 WHERE customer_id = ?1 AND "
        "done_at IS NULL"};
    for (int k = 0; rc == SQLITE_OK && k < 2; k++) {
        if ((rc = sqlite3_prepare_v2(db, sql[k], -1, &st, NULL)) != SQLITE_OK)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, operator_name, -1, SQLITE_STATIC);
        if (k == 0 && user_id > 0)
            sqlite3_bind_int64(st, 4, user_id);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_finalize(st);
    }
    return rc;
}

static int erase_rows(sqlite3 *db, int64_t id, const char *operator_name, int64_t user_id,
                      int64_t now, const char *note)
{
    sqlite3_stmt *st;
    int yes = 0, rc = exec_id(db, "DELETE FROM customer_note WHERE customer_id = ?1", id);
    if (rc == SQLITE_OK && (rc = has_table(db, "audit", &yes)) == SQLITE_OK && yes &&
        (rc = exec_id(db, erase_note_audit_sql, id)) == SQLITE_OK &&
        (rc = exec_id(db, erase_holder_audit_sql, id)) == SQLITE_OK)
        rc = exec_id(db, erase_customer_audit_sql, id);
    if (rc == SQLITE_OK)
        rc = erase_request_done(db, id, operator_name, user_id, now);
    /* Tags go too: a shop's tag can say something personal ("celiac"). */
    if (rc == SQLITE_OK && (rc = has_table(db, "customer_tag", &yes)) == SQLITE_OK && yes)
        rc = exec_id(db, "DELETE FROM customer_tag WHERE customer_id = ?1", id);
    /* And the cards' PINs and portal sessions: an erased customer signs in no more. */
    if (rc == SQLITE_OK && (rc = has_table(db, "card_pin", &yes)) == SQLITE_OK && yes)
        rc = exec_id(db,
                     "DELETE FROM card_pin WHERE card_id IN (SELECT card_id FROM card WHERE "
                     "account_id IN (SELECT id FROM account WHERE customer_id = ?1))",
                     id);
    /* The names of the holders of their family cards. */
    if (rc == SQLITE_OK && (rc = has_table(db, "card_holder", &yes)) == SQLITE_OK && yes)
        rc = exec_id(db,
                     "DELETE FROM card_holder WHERE card_id IN (SELECT card_id FROM card WHERE "
                     "account_id IN (SELECT id FROM account WHERE customer_id = ?1))",
                     id);
    if (rc == SQLITE_OK && (rc = has_table(db, "portal_session", &yes)) == SQLITE_OK && yes)
        rc = exec_id(db, "DELETE FROM portal_session WHERE customer_id = ?1", id);
    /* The bounces name the address and hold the server's words about it. */
    if (rc == SQLITE_OK && (rc = has_table(db, "message_bounce", &yes)) == SQLITE_OK && yes)
        rc = exec_id(db, "DELETE FROM message_bounce WHERE customer_id = ?1", id);
    for (int k = 0; rc == SQLITE_OK && k < 3; k++) {
        static const char *const sql[] = {
            erase_pii_sql, "UPDATE customer SET erased_at = ?2 WHERE id = ?1",
            "INSERT INTO customer_note(customer_id, at, author, text) VALUES (?1, ?2, ?3, ?4)"};
        if ((rc = sqlite3_prepare_v2(db, sql[k], -1, &st, NULL)) != SQLITE_OK)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        if (k == 2) {
            sqlite3_bind_text(st, 3, operator_name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, note, -1, SQLITE_STATIC);
        }
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_finalize(st);
    }
    return rc;
}

leal_err privacy_erase(const char *path, int64_t customer_id, const char *operator_name)
{
    struct privacy_erasure e = {.operator_name = operator_name, .block_cards = false};
    return privacy_erase_as(path, customer_id, &e);
}

leal_err privacy_erase_by(const char *path, int64_t customer_id, const char *operator_name,
                          int64_t user_id, bool block_cards, int64_t *cards_blocked)
{
    struct privacy_erasure e = {.operator_name = operator_name,
                                .block_cards = block_cards,
                                .cards_decided = true,
                                .user_id = user_id};
    leal_err err = privacy_erase_as(path, customer_id, &e);
    *cards_blocked = e.cards_blocked;
    return err;
}

leal_err privacy_erase_as(const char *path, int64_t customer_id, struct privacy_erasure *e)
{
    sqlite3 *db;
    int64_t erased, now = (int64_t)time(NULL);
    char note[160];
    leal_err err;
    e->cards_blocked = 0;
    if (pg_path(path)) {
        struct ledger *l = NULL;
        if ((err = pg_open(path, &l)) != LEAL_OK)
            return err;
        snprintf(note, sizeof note, "%s%s", LEDGER_ERASED_NOTE,
                 e->cards_decided ? "; cards kept by decision" : "");
        const struct ledger_erase_as as = {e->operator_name, e->user_id, note, now,
                                           e->block_cards ? &e->cards_blocked : NULL};
        err = ledger_customer_erase_by(l, customer_id, &as);
        ledger_close(l);
        return err;
    }
    err = open_db(path, SQLITE_OPEN_READWRITE, &db);
    if (err != LEAL_OK)
        return err;
    /* Freed content overwritten with zeros, in the file and the log. */
    int rc = sqlite3_exec(db, "PRAGMA secure_delete = ON; BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK && (err = customer_state(db, customer_id, &erased)) == LEAL_OK) {
        if (erased > 0)
            err = LEAL_E_STATE;
        else if ((rc = erase_cards(db, customer_id, e->operator_name, now, e->block_cards,
                                   &e->cards_blocked)) == SQLITE_OK) {
            /* The note is the erasure's log, the cards decision with it. */
            if (e->block_cards)
                snprintf(note, sizeof note,
                         "personal data erased at the customer's request (leal customer erase); "
                         "cards blocked by decision: %lld",
                         (long long)e->cards_blocked);
            else
                snprintf(note, sizeof note,
                         "personal data erased at the customer's request (leal customer erase)%s",
                         e->cards_decided ? "; cards kept by decision" : "");
            rc = erase_rows(db, customer_id, e->operator_name, e->user_id, now, note);
        }
    }
    if (err == LEAL_OK && rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    else
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (err == LEAL_OK && rc == SQLITE_OK)
        rc = sqlite3_exec(db, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (err == LEAL_OK && rc != SQLITE_OK)
        err = db_err(rc);
    sqlite3_close(db);
    return err;
}

/* The customers of program ?1, not erased, whose latest entry (or, without
 * one, their sign-up) is before ?2. */
static const char retain_sql[] =
    "SELECT c.id FROM customer c WHERE c.program_id = ?1 AND c.erased_at IS NULL AND "
    "coalesce((SELECT max(e.at) FROM account a JOIN line l ON l.account_id = a.id "
    "JOIN entry e ON e.id = l.entry_id WHERE a.customer_id = c.id), c.created_at) < ?2 "
    "ORDER BY c.id";

/* id appended to the array *ids of *n (*cap its room). */
static leal_err retain_add(int64_t **ids, size_t *n, size_t *cap, int64_t id)
{
    leal_err err = grow_room(ids, cap, *n, sizeof **ids);
    if (err == LEAL_OK)
        (*ids)[(*n)++] = id;
    return err;
}

/* retain_sql's customers from the PostgreSQL ledger l (the same SQL through
 * the ledger's store). */
static leal_err retain_list_pg(struct ledger *l, int64_t program_id, int64_t before, int64_t **ids,
                               size_t *n)
{
    struct ledger_rows *rows = NULL;
    size_t cap = 0;
    leal_err err = ledger_rows_run(l, retain_sql, (const int64_t[]){program_id, before}, 2, &rows);
    while (err == LEAL_OK && ledger_rows_next(rows, &err))
        err = retain_add(ids, n, &cap, ledger_rows_i64(rows, 0));
    ledger_rows_close(rows);
    return err;
}

static leal_err retain_list(const char *path, int64_t program_id, int64_t before, int64_t **ids,
                            size_t *n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t cap = 0;
    leal_err err = open_db(path, SQLITE_OPEN_READONLY, &db);
    *ids = NULL;
    *n = 0;
    if (err != LEAL_OK)
        return err;
    int rc = sqlite3_prepare_v2(db, retain_sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, program_id);
        sqlite3_bind_int64(st, 2, before);
        while (err == LEAL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
            err = retain_add(ids, n, &cap, sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
    }
    if (err == LEAL_OK && rc != SQLITE_DONE)
        err = db_err(rc);
    sqlite3_close(db);
    return err;
}

leal_err privacy_retain(const char *path, const struct privacy_retention *r, int64_t *erased)
{
    int64_t *ids = NULL;
    size_t n = 0;
    struct ledger *l = NULL;
    *erased = 0;
    if (!r || r->years < 1 || r->years > 100 || !r->operator_name)
        return LEAL_E_ARG;
    int64_t before = r->now - (int64_t)r->years * 365 * 86400;
    /* On PostgreSQL one connection lists and erases (each customer in a
     * write transaction of its own, as on SQLite). */
    leal_err err = pg_path(path) ? pg_open(path, &l) : LEAL_OK;
    if (err == LEAL_OK)
        err = l ? retain_list_pg(l, r->program_id, before, &ids, &n)
                : retain_list(path, r->program_id, before, &ids, &n);
    for (size_t i = 0; err == LEAL_OK && i < n; i++) {
        if (!r->dry_run)
            err = l ? ledger_customer_erase(l, ids[i], r->operator_name, LEDGER_ERASED_NOTE,
                                            (int64_t)time(NULL))
                    : privacy_erase(path, ids[i], r->operator_name);
        /* Erased meanwhile by another run: nothing left to do for them. */
        if (err == LEAL_E_STATE)
            err = LEAL_OK;
        else if (err == LEAL_OK)
            (*erased)++;
    }
    free(ids);
    ledger_close(l);
    return err;
}
