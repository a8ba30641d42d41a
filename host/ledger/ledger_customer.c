/*
 * ledger_customer.c - customers and their personal data: consent, notes, search (see ledger.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/text.h"
#include "keys/base/hex.h"
#include "ledger.h"
#include "ledger_sql.h"
#include "store.h"

/* ---- Customers ---- */

static int date_ok(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 0, m = 0, d = 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    return 1;
}

static leal_err customer_check(struct ledger *l, const struct ledger_customer *c)
{
    leal_err err;
    if ((err = ledger_text_ok(l, "name", c->name)) != LEAL_OK ||
        (err = ledger_text_ok(l, "surname", c->surname)) != LEAL_OK ||
        (err = ledger_text_ok(l, "e-mail", c->email)) != LEAL_OK ||
        (err = ledger_text_ok(l, "phone", c->phone)) != LEAL_OK ||
        (err = ledger_text_ok(l, "gender", c->gender)) != LEAL_OK ||
        (err = ledger_text_ok(l, "address", c->address)) != LEAL_OK ||
        (err = ledger_text_ok(l, "preferences", c->preferences)) != LEAL_OK)
        return err;
    if (c->birth_date[0] && !date_ok(c->birth_date)) {
        store_set_msg(l, "birth date '%s'", c->birth_date);
        return LEAL_E_DATE;
    }
    return LEAL_OK;
}

/* The search keys of a customer (name, surname, phone): ?11 ?12 ?13. */
struct pii_keys {
    char name[4 * LEDGER_TEXT], surname[4 * LEDGER_TEXT], phone[4 * LEDGER_TEXT];
};

static leal_err pii_keys(struct ledger *l, const struct ledger_customer *c, struct pii_keys *k)
{
    if (text_fold(c->name, k->name, sizeof k->name) != LEAL_OK ||
        text_fold(c->surname, k->surname, sizeof k->surname) != LEAL_OK ||
        text_phone_key(c->phone, k->phone, sizeof k->phone) != LEAL_OK) {
        store_set_msg(l, "name, surname or phone");
        return LEAL_E_TEXT;
    }
    return LEAL_OK;
}

static void bind_keys(sqlite3_stmt *st, const struct pii_keys *k)
{
    sqlite3_bind_text(st, 11, k->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, k->surname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, k->phone, -1, SQLITE_STATIC);
}

static void bind_pii(sqlite3_stmt *st, const struct ledger_customer *c)
{
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->surname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c->birth_date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, c->gender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, c->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, c->preferences, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, ledger_now());
}

leal_err ledger_customer_add(struct ledger *l, const struct ledger_customer *c, int64_t *id,
                             int64_t *account_id)
{
    sqlite3_stmt *st = NULL;
    struct ledger_customer tmp;
    struct pii_keys keys;
    leal_err err;
    *id = 0;
    *account_id = 0;
    if ((err = customer_check(l, c)) != LEAL_OK || (err = pii_keys(l, c, &keys)) != LEAL_OK)
        return err;
    tmp = *c;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_PROGRAM_EXISTS, c->program_id, "program")) != LEAL_OK)
        goto out;
    if ((err = store_exec_i64(l, "INSERT INTO customer(program_id, created_at) VALUES (?1, ?2)",
                              I64S(c->program_id, ledger_now()))) != LEAL_OK)
        goto out;
    tmp.id = sqlite3_last_insert_rowid(l->db);
    err =
        store_prep_once(l,
                        "INSERT INTO customer_pii(customer_id, name, surname, email, phone, "
                        "birth_date, gender, address, preferences, updated_at, name_key, "
                        "surname_key, phone_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                        "?11, ?12, ?13)",
                        &st);
    if (err != LEAL_OK)
        goto out;
    bind_pii(st, &tmp);
    bind_keys(st, &keys);
    if ((err = store_step(l, st, NULL)) != LEAL_OK)
        goto out;
    if ((err = store_exec_i64(l,
                              "INSERT INTO account(program_id, customer_id, kind, created_at) "
                              "VALUES (?1, ?2, 'customer', ?3)",
                              I64S(c->program_id, tmp.id, ledger_now()))) != LEAL_OK)
        goto out;
    *id = tmp.id;
    *account_id = sqlite3_last_insert_rowid(l->db);
    err = store_exec_i64(l, "UPDATE customer SET account_id = ?2 WHERE id = ?1",
                         I64S(*id, *account_id));
out:
    sqlite3_finalize(st);
    err = store_tx_end(l, err);
    if (err != LEAL_OK) {
        *id = 0;
        *account_id = 0;
    }
    return err;
}

static void customer_row(sqlite3_stmt *st, struct ledger_customer *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->program_id = sqlite3_column_int64(st, 1);
    c->account_id = sqlite3_column_int64(st, 2);
    c->created_at = sqlite3_column_int64(st, 3);
    store_col_text(st, 4, c->name, sizeof c->name);
    store_col_text(st, 5, c->surname, sizeof c->surname);
    store_col_text(st, 6, c->email, sizeof c->email);
    store_col_text(st, 7, c->phone, sizeof c->phone);
    store_col_text(st, 8, c->birth_date, sizeof c->birth_date);
    store_col_text(st, 9, c->gender, sizeof c->gender);
    store_col_text(st, 10, c->address, sizeof c->address);
    store_col_text(st, 11, c->preferences, sizeof c->preferences);
}

leal_err ledger_customer_get(struct ledger *l, int64_t id, struct ledger_customer *out)
{
    sqlite3_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    err = store_find_row(l, "SELECT " CUSTOMER_COLUMNS " WHERE c.id = ?1", id, "customer", &st);
    if (err == LEAL_OK)
        customer_row(st, out);
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_customer_update(struct ledger *l, const struct ledger_customer *c)
{
    sqlite3_stmt *st = NULL;
    struct pii_keys keys;
    leal_err err;
    if ((err = customer_check(l, c)) != LEAL_OK || (err = pii_keys(l, c, &keys)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_prep_once(
        l,
        "UPDATE customer_pii SET name = ?2, surname = ?3, email = ?4, phone = ?5, "
        "birth_date = ?6, gender = ?7, address = ?8, preferences = ?9, updated_at = "
        "?10, name_key = ?11, surname_key = ?12, phone_key = ?13 WHERE customer_id = "
        "?1",
        &st);
    if (err != LEAL_OK)
        goto out;
    bind_pii(st, c);
    bind_keys(st, &keys);
    if ((err = store_step(l, st, NULL)) != LEAL_OK)
        goto out;
    if (sqlite3_changes(l->db) != 1) {
        store_set_msg(l, "customer %lld", (long long)c->id);
        err = LEAL_E_UNKNOWN_ID;
    }
out:
    sqlite3_finalize(st);
    return store_tx_end(l, err);
}

/* Each search form is served by an index (schema.c): the name and surname
 * keys, the phone key and the e-mail on customer_pii, card_id (primary key)
 * and uid on card; ledger_check_plans proves it. The limit is in the SQL
 * (?6, -1 for none). */
static const char *const search_where[] = {
    [LEDGER_SEARCH_EMAIL] = "p.email = ?1",
    [LEDGER_SEARCH_PHONE] = "p.phone_key = ?1",
    [LEDGER_SEARCH_CARD_ID] = "c.id IN (SELECT a.customer_id FROM card k JOIN account a ON "
                              "a.id = k.account_id WHERE k.card_id = ?2)",
    [LEDGER_SEARCH_UID] = "c.id IN (SELECT a.customer_id FROM card k JOIN account a ON a.id "
                          "= k.account_id WHERE k.uid = ?3)",
    [LEDGER_SEARCH_ALL] = "1",
};

/* A key prefix as an index range [?1, ?1 || U+10FFFF) on one key column, in
 * key order, the program filtered on the way, stopping at the limit. */
#define NAME_ARM(col)                                                                              \
    "SELECT * FROM (SELECT q.customer_id, q." col " AS k FROM customer_pii q JOIN customer r ON "  \
    "r.id = q.customer_id WHERE q." col " >= ?1 AND q." col " < ?5 AND (?4 = 0 OR r.program_id "   \
    "= ?4) ORDER BY q." col " LIMIT ?6)"

/* The first ?6 matches of the name and of the surname, merged: the first ?6
 * of their union by the key that matched (a customer once). */
#define NAME_SEARCH_SQL                                                                            \
    "SELECT " CUSTOMER_COLUMNS " JOIN (SELECT customer_id, min(k) AS k FROM (" NAME_ARM(           \
        "name_key") " UNION ALL " NAME_ARM("surname_key") ") GROUP BY customer_id) matched ON "    \
                                                          "matched.customer_id = c.id ORDER BY "   \
                                                          "matched.k, c.id LIMIT ?6"

void ledger_search_sql(enum ledger_search_by by, char *sql, size_t cap)
{
    if (by == LEDGER_SEARCH_NAME) {
        snprintf(sql, cap, "%s", NAME_SEARCH_SQL);
        return;
    }
    snprintf(sql, cap,
             "SELECT " CUSTOMER_COLUMNS " WHERE %s AND (?4 = 0 OR c.program_id = ?4) "
             "ORDER BY c.id LIMIT ?6",
             search_where[by]);
}

leal_err ledger_customer_search(struct ledger *l, int64_t program_id, enum ledger_search_by by,
                                const char *q, size_t limit, ledger_customer_cb cb, void *ctx)
{
    char sql[2048], key[4 * LEDGER_TEXT], end[4 * LEDGER_TEXT + 8];
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len = 0;
    sqlite3_stmt *st;
    leal_err err;
    int64_t card_id = 0;

    if (by < LEDGER_SEARCH_NAME || by > LEDGER_SEARCH_ALL ||
        (by != LEDGER_SEARCH_ALL && ledger_empty(q)))
        return LEAL_E_ARG;
    if (q && (err = ledger_text_ok(l, "search text", q)) != LEAL_OK)
        return err;
    key[0] = '\0';
    if (by == LEDGER_SEARCH_NAME && text_fold(q, key, sizeof key) != LEAL_OK)
        return LEAL_E_TEXT;
    if (by == LEDGER_SEARCH_PHONE && text_phone_key(q, key, sizeof key) != LEAL_OK)
        return LEAL_E_TEXT;
    snprintf(end, sizeof end, "%s\xf4\x8f\xbf\xbf", key);
    if (by == LEDGER_SEARCH_CARD_ID) {
        char *e;
        long long v = strtoll(q, &e, 10);
        if (*e != '\0' || v <= 0) {
            store_set_msg(l, "card id '%s'", q);
            return LEAL_E_NUMBER;
        }
        card_id = v;
    }
    if (by == LEDGER_SEARCH_UID) {
        size_t len = strlen(q);
        if (len == 0 || leal_hex_decode(q, len, uid, sizeof uid, &uid_len) != LEAL_OK) {
            store_set_msg(l, "UID '%s'", q);
            return LEAL_E_NUMBER;
        }
    }
    if ((st = l->search_st[by]) == NULL) {
        ledger_search_sql(by, sql, sizeof sql);
        if ((err = store_prep_once(l, sql, &st)) != LEAL_OK)
            return err;
        l->search_st[by] = st;
    }
    sqlite3_clear_bindings(st);
    if (by == LEDGER_SEARCH_NAME || by == LEDGER_SEARCH_PHONE)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    else if (by == LEDGER_SEARCH_EMAIL)
        sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    if (by == LEDGER_SEARCH_NAME)
        sqlite3_bind_text(st, 5, end, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, card_id);
    if (by == LEDGER_SEARCH_UID)
        sqlite3_bind_blob(st, 3, uid, (int)uid_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, program_id);
    sqlite3_bind_int64(st, 6, limit > 0 && limit < (size_t)INT64_MAX ? (int64_t)limit : -1);
    while (store_next_row(l, st, &err)) {
        struct ledger_customer c;
        customer_row(st, &c);
        if (cb(ctx, &c) != 0)
            break;
    }
    sqlite3_reset(st); /* kept prepared; its bindings pointed at this frame */
    sqlite3_clear_bindings(st);
    return err;
}

static int channel_ok(const char *c)
{
    static const char *const ch[] = {"email", "sms", "phone", "post", "whatsapp"};
    for (size_t i = 0; c && i < sizeof ch / sizeof ch[0]; i++)
        if (strcmp(c, ch[i]) == 0)
            return 1;
    return 0;
}

leal_err ledger_consent_add(struct ledger *l, int64_t customer_id, const char *channel,
                            bool granted, const char *method, const char *recorded_by, int64_t at)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    if (!channel_ok(channel))
        return LEAL_E_USAGE;
    if (ledger_empty(method) || ledger_empty(recorded_by))
        return LEAL_E_REASON_REQUIRED;
    if ((err = ledger_text_ok(l, "consent method", method)) != LEAL_OK ||
        (err = ledger_text_ok(l, "recorded by", recorded_by)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_prep_once(
        l,
        "INSERT INTO consent(customer_id, channel, granted, at, method, recorded_by) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, granted ? 1 : 0);
    sqlite3_bind_int64(st, 4, at ? at : ledger_now());
    sqlite3_bind_text(st, 5, method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, recorded_by, -1, SQLITE_STATIC);
    err = store_step(l, st, NULL);
    if (err == LEAL_E_UNKNOWN_ID)
        store_set_msg(l, "customer %lld", (long long)customer_id);
out:
    sqlite3_finalize(st);
    return store_tx_end(l, err);
}

leal_err ledger_consent_each(struct ledger *l, int64_t customer_id, ledger_consent_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    leal_err err;
    err =
        store_prep_i64(l,
                       "SELECT channel, granted, at, method, recorded_by FROM consent WHERE id IN "
                       "(SELECT max(id) FROM consent WHERE customer_id = ?1 GROUP BY channel) "
                       "ORDER BY channel",
                       &st, I64S(customer_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_consent c;
        memset(&c, 0, sizeof c);
        store_col_text(st, 0, c.channel, sizeof c.channel);
        c.granted = sqlite3_column_int(st, 1) != 0;
        c.at = sqlite3_column_int64(st, 2);
        store_col_text(st, 3, c.method, sizeof c.method);
        store_col_text(st, 4, c.recorded_by, sizeof c.recorded_by);
        if (cb(ctx, &c) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}

leal_err ledger_note_add(struct ledger *l, int64_t customer_id, const char *author,
                         const char *text, int64_t at)
{
    sqlite3_stmt *st = NULL;
    leal_err err;
    if (ledger_empty(author) || ledger_empty(text))
        return LEAL_E_REASON_REQUIRED;
    if ((err = ledger_text_ok(l, "author", author)) != LEAL_OK ||
        (err = ledger_text_ok(l, "note", text)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_prep_once(
        l,
        "INSERT INTO customer_note(customer_id, at, author, text) VALUES (?1, ?2, ?3, "
        "?4)",
        &st);
    if (err != LEAL_OK)
        goto out;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_int64(st, 2, at ? at : ledger_now());
    sqlite3_bind_text(st, 3, author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
    err = store_step(l, st, NULL);
    if (err == LEAL_E_UNKNOWN_ID)
        store_set_msg(l, "customer %lld", (long long)customer_id);
out:
    sqlite3_finalize(st);
    return store_tx_end(l, err);
}

leal_err ledger_note_each(struct ledger *l, int64_t customer_id, ledger_note_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    leal_err err = store_prep_i64(l, NOTES_SQL, &st, I64S(customer_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_note n;
        memset(&n, 0, sizeof n);
        n.id = sqlite3_column_int64(st, 0);
        n.at = sqlite3_column_int64(st, 1);
        store_col_text(st, 2, n.author, sizeof n.author);
        store_col_text(st, 3, n.text, sizeof n.text);
        if (cb(ctx, &n) != 0)
            break;
    }
    sqlite3_finalize(st);
    return err;
}
