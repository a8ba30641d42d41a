/*
 * privacy.c - a customer's export and erasure (privacy.h).
 */
#include "privacy.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What names the customer ?1: the temporary tables of their accounts,
 * cards, lines and sales, made first. */
static const char *const scope_sql[] = {
    "CREATE TEMP TABLE p_acct AS SELECT id FROM account WHERE customer_id = ?1",
    "CREATE TEMP TABLE p_card AS SELECT card_id FROM card WHERE account_id IN "
    "(SELECT id FROM p_acct)",
    "CREATE TEMP TABLE p_line AS SELECT id, entry_id FROM line WHERE account_id IN "
    "(SELECT id FROM p_acct)",
    "CREATE TEMP TABLE p_sale AS SELECT id FROM sale WHERE account_id IN (SELECT id FROM p_acct)",
};

/* Every table with a row that can name a customer, and which rows do. */
static const struct {
    const char *table, *where;
} named[] = {
    {"customer", "id = ?1"},
    {"customer_pii", "customer_id = ?1"},
    {"consent", "customer_id = ?1"},
    {"customer_note", "customer_id = ?1"},
    {"account", "id IN (SELECT id FROM p_acct)"},
    {"balance", "account_id IN (SELECT id FROM p_acct)"},
    {"card", "card_id IN (SELECT card_id FROM p_card)"},
    {"card_event", "card_id IN (SELECT card_id FROM p_card)"},
    {"card_key", "card_id IN (SELECT card_id FROM p_card)"},
    {"card_identity_rewrite", "card_id IN (SELECT card_id FROM p_card)"},
    {"card_pending_topup", "card_id IN (SELECT card_id FROM p_card)"},
    {"card_pending_sync", "card_id IN (SELECT card_id FROM p_card)"},
    {"card_pending_bono", "card_id IN (SELECT card_id FROM p_card)"},
    {"entry", "id IN (SELECT entry_id FROM p_line) OR card_id IN (SELECT card_id FROM p_card)"},
    {"line", "entry_id IN (SELECT entry_id FROM p_line)"},
    {"lot", "account_id IN (SELECT id FROM p_acct)"},
    {"lot_use", "line_id IN (SELECT id FROM p_line)"},
    {"sale", "id IN (SELECT id FROM p_sale)"},
    {"sale_item", "sale_id IN (SELECT id FROM p_sale)"},
    {"sale_line", "sale_id IN (SELECT id FROM p_sale)"},
    {"sale_stamp", "sale_id IN (SELECT id FROM p_sale)"},
    {"sale_refund", "account_id IN (SELECT id FROM p_acct)"},
    {"bono_holding", "account_id IN (SELECT id FROM p_acct)"},
    {"terminal_entry", "card_id IN (SELECT card_id FROM p_card)"},
    {"sync_finding", "card_id IN (SELECT card_id FROM p_card)"},
    {"reconcile_finding", "card_id IN (SELECT card_id FROM p_card)"},
    /* Host changes sent to a card (pkg's migration; skipped where absent). */
    {"card_host_change_sent", "card_id IN (SELECT card_id FROM p_card)"},
    /* Messages sent to the customer (msg2's migration; skipped where absent). */
    {"message_send", "customer_id = ?1"},
    /* The customer's tags (seg's migration; skipped where absent). */
    {"customer_tag", "customer_id = ?1"},
    /* The portal's sign-in links and sessions (web3's migration; skipped where absent). */
    {"portal_link", "customer_id = ?1"},
    {"portal_session", "customer_id = ?1"},
    /* The language of the customer's messages (msg3's migration). */
    {"customer_lang", "customer_id = ?1"},
    /* The per-phone QR spending caps (qr3's migration). */
    {"qr_phone_caps", "card_id IN (SELECT card_id FROM p_card)"},
    /* The text of the customer's static QR codes (web4's migration). */
    {"qr_static_text", "card_id IN (SELECT card_id FROM p_card)"},
    /* The tier the customer's messages last saw (msg5's migration). */
    {"message_tier", "customer_id = ?1"},
    /* The portal's card PINs (their hashes) and redemption codes (portal2's migration). */
    {"card_pin", "card_id IN (SELECT card_id FROM p_card)"},
    {"portal_redemption", "customer_id = ?1"},
    /* The months the customer was active in, for the reports (rep7's migration). */
    {"report_visit", "customer_id = ?1"},
    /* What the customer's accounts moved per month, for the reports (rep8's migration). */
    {"report_held", "account_id IN (SELECT id FROM p_acct)"},
    /* The Transaction MACs journaled for the customer's EV2/EV3 cards (ev5's migration). */
    {"terminal_tmac", "card_id IN (SELECT card_id FROM p_card)"},
    /* The bounces of the customer's e-mails, with the address (rep9's migration). */
    {"message_bounce", "customer_id = ?1"},
    /* The customer's erasure requests (web9's migration). */
    {"erasure_request", "customer_id = ?1"},
    /* The holders' names of the customer's family cards (web9's migration). */
    {"card_holder", "card_id IN (SELECT card_id FROM p_card)"},
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

static void json_value(FILE *f, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        fprintf(f, "%.17g", sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT:
        json_text(f, sqlite3_column_text(st, i));
        break;
    case SQLITE_BLOB: {
        const unsigned char *b = sqlite3_column_blob(st, i);
        fputc('"', f);
        for (int k = 0, n = sqlite3_column_bytes(st, i); k < n; k++)
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
static void text_value(FILE *f, sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) != SQLITE_TEXT) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            fputc('-', f);
        else
            json_value(f, st, i); /* numbers as in JSON, blobs as quoted hex */
        const char *name = sqlite3_column_name(st, i);
        size_t nl = strlen(name);
        time_t t = (time_t)sqlite3_column_int64(st, i);
        struct tm tm;
        char when[32];
        /* The ledger's times (columns *_at) are Unix seconds: shown as a date too. */
        if (sqlite3_column_type(st, i) == SQLITE_INTEGER && nl > 3 &&
            strcmp(name + nl - 3, "_at") == 0 && gmtime_r(&t, &tm) &&
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
            fprintf(f, " (%s)", when);
        return;
    }
    for (const unsigned char *s = sqlite3_column_text(st, i); s && *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
}

/* Row n of a table in text: "  row n", then a line per column. */
static void text_row(FILE *out, sqlite3_stmt *st, int n)
{
    fprintf(out, "  row %d\n", n);
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        fprintf(out, "    %s: ", sqlite3_column_name(st, i));
        text_value(out, st, i);
        fputc('\n', out);
    }
}

static void json_row(FILE *out, sqlite3_stmt *st, int n)
{
    fputs(n > 1 ? ",{" : "{", out);
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        if (i)
            fputc(',', out);
        json_text(out, (const unsigned char *)sqlite3_column_name(st, i));
        fputc(':', out);
        json_value(out, st, i);
    }
    fputc('}', out);
}

static int export_table(sqlite3 *db, int64_t id, size_t t, bool text, FILE *out)
{
    char sql[512];
    sqlite3_stmt *st;
    int rc, n = 0, yes = 0;
    if ((rc = has_table(db, named[t].table, &yes)) != SQLITE_OK || !yes)
        return rc;
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s", named[t].table, named[t].where);
    if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
        return rc;
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, id);
    /* Text needs the count first: one read of it, inside the same read transaction. */
    int64_t count = 0;
    if (text) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            count++;
        sqlite3_reset(st);
        fprintf(out, "%s: %lld row%s\n", named[t].table, (long long)count, count == 1 ? "" : "s");
    } else {
        fprintf(out, "%s\"%s\":[", t ? "," : "", named[t].table); /* table 0 always exists */
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        (text ? text_row : json_row)(out, st, ++n);
    if (!text)
        fputc(']', out);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
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

leal_err privacy_export_as(const char *path, int64_t customer_id, bool text, FILE *out)
{
    sqlite3 *db;
    int64_t erased;
    leal_err err = open_db(path, SQLITE_OPEN_READONLY, &db);
    if (err != LEAL_OK)
        return err;
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK && (err = customer_state(db, customer_id, &erased)) == LEAL_OK) {
        for (size_t i = 0; rc == SQLITE_OK && i < sizeof scope_sql / sizeof scope_sql[0]; i++)
            rc = exec_id(db, scope_sql[i], customer_id);
        if (rc == SQLITE_OK && text)
            fprintf(out, "Customer %lld: everything leal holds that names them, table by table.\n",
                    (long long)customer_id);
        else if (rc == SQLITE_OK)
            fprintf(out, "{\"customer\":%lld,\"tables\":{", (long long)customer_id);
        for (size_t t = 0; rc == SQLITE_OK && t < sizeof named / sizeof named[0]; t++)
            rc = export_table(db, customer_id, t, text, out);
        if (rc == SQLITE_OK && !text)
            fputs("}}\n", out);
    }
    if (err == LEAL_OK && rc != SQLITE_OK)
        err = db_err(rc);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
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
 * with its audit line: who carried it out (user_id 0: the command line). */
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
        "NULL), json_object('erased_at', ?2, 'done_by', ?3)",
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
                          int64_t user_id)
{
    struct privacy_erasure e = {
        .operator_name = operator_name, .block_cards = false, .user_id = user_id};
    return privacy_erase_as(path, customer_id, &e);
}

leal_err privacy_erase_as(const char *path, int64_t customer_id, struct privacy_erasure *e)
{
    sqlite3 *db;
    int64_t erased, now = (int64_t)time(NULL);
    char note[160];
    e->cards_blocked = 0;
    leal_err err = open_db(path, SQLITE_OPEN_READWRITE, &db);
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
        while (err == LEAL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == cap) {
                int64_t *p = realloc(*ids, (cap = cap ? 2 * cap : 64) * sizeof **ids);
                if (!p) {
                    err = LEAL_E_NO_MEMORY;
                    break;
                }
                *ids = p;
            }
            (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
        }
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
    *erased = 0;
    if (!r || r->years < 1 || r->years > 100 || !r->operator_name)
        return LEAL_E_ARG;
    int64_t before = r->now - (int64_t)r->years * 365 * 86400;
    leal_err err = retain_list(path, r->program_id, before, &ids, &n);
    for (size_t i = 0; err == LEAL_OK && i < n; i++) {
        if (!r->dry_run)
            err = privacy_erase(path, ids[i], r->operator_name);
        /* Erased meanwhile by another run: nothing left to do for them. */
        if (err == LEAL_E_STATE)
            err = LEAL_OK;
        else if (err == LEAL_OK)
            (*erased)++;
    }
    free(ids);
    return err;
}
