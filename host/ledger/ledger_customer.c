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

/* A customer's personal data and search keys as ?1..?13 of customer_pii's INSERT or UPDATE. */
#define PII_PARAMS 13

static leal_err pii_write(struct ledger *l, const char *sql, const struct ledger_customer *c,
                          const struct pii_keys *k)
{
    const struct store_val v[PII_PARAMS] = {
        SV_I64(c->id),           SV_TEXT(c->name),       SV_TEXT(c->surname), SV_TEXT(c->email),
        SV_TEXT(c->phone),       SV_TEXT(c->birth_date), SV_TEXT(c->gender),  SV_TEXT(c->address),
        SV_TEXT(c->preferences), SV_I64(ledger_now()),   SV_TEXT(k->name),    SV_TEXT(k->surname),
        SV_TEXT(k->phone)};
    return store_write(l, sql, v, PII_PARAMS, NULL);
}

leal_err ledger_customer_add(struct ledger *l, const struct ledger_customer *c, int64_t *id,
                             int64_t *account_id)
{
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
    if ((err = store_write(l, "INSERT INTO customer(program_id, created_at) VALUES (?1, ?2)",
                           SVALS(SV_I64(c->program_id), SV_I64(ledger_now())), &tmp.id)) != LEAL_OK)
        goto out;
    if ((err = pii_write(l,
                         "INSERT INTO customer_pii(customer_id, name, surname, email, phone, "
                         "birth_date, gender, address, preferences, updated_at, name_key, "
                         "surname_key, phone_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                         "?10, ?11, ?12, ?13)",
                         &tmp, &keys)) != LEAL_OK)
        goto out;
    if ((err = store_write(l,
                           "INSERT INTO account(program_id, customer_id, kind, created_at) "
                           "VALUES (?1, ?2, 'customer', ?3)",
                           SVALS(SV_I64(c->program_id), SV_I64(tmp.id), SV_I64(ledger_now())),
                           account_id)) != LEAL_OK)
        goto out;
    *id = tmp.id;
    err = store_exec_i64(l, "UPDATE customer SET account_id = ?2 WHERE id = ?1",
                         I64S(*id, *account_id));
out:
    err = store_tx_end(l, err);
    if (err != LEAL_OK) {
        *id = 0;
        *account_id = 0;
    }
    return err;
}

static void customer_row(struct store_stmt *st, struct ledger_customer *c)
{
    memset(c, 0, sizeof *c);
    c->id = store_col_i64(st, 0);
    c->program_id = store_col_i64(st, 1);
    c->account_id = store_col_i64(st, 2);
    c->created_at = store_col_i64(st, 3);
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
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    err = store_find_row(l, "SELECT " CUSTOMER_COLUMNS " WHERE c.id = ?1", id, "customer", &st);
    if (err == LEAL_OK)
        customer_row(st, out);
    store_finalize(st);
    return err;
}

leal_err ledger_customer_update(struct ledger *l, const struct ledger_customer *c)
{
    struct pii_keys keys;
    leal_err err;
    if ((err = customer_check(l, c)) != LEAL_OK || (err = pii_keys(l, c, &keys)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = pii_write(l,
                    "UPDATE customer_pii SET name = ?2, surname = ?3, email = ?4, phone = ?5, "
                    "birth_date = ?6, gender = ?7, address = ?8, preferences = ?9, updated_at = "
                    "?10, name_key = ?11, surname_key = ?12, phone_key = ?13 WHERE customer_id = "
                    "?1",
                    c, &keys);
    if (err == LEAL_OK)
        err = store_changed(l, "customer", c->id);
    return store_tx_end(l, err);
}

/* Each search form is served by an index (schema.c): the name and surname
 * keys, the phone key and the e-mail on customer_pii, card_id (primary key)
 * and uid on card; ledger_check_plans proves it on SQLite. On PostgreSQL
 * (schema_pg.c) the e-mail, NOCASE on SQLite, is compared by lower() with
 * an index on lower(email). The limit is in the SQL (?6, INT64_MAX for
 * none: PostgreSQL refuses a negative LIMIT). The SQL is what both
 * dialects say: each subquery in FROM has an alias, the WHERE a boolean. */
static const char *const search_where[] = {
    [LEDGER_SEARCH_EMAIL] = "p.email = ?1",
    [LEDGER_SEARCH_PHONE] = "p.phone_key = ?1",
    [LEDGER_SEARCH_CARD_ID] = "c.id IN (SELECT a.customer_id FROM card k JOIN account a ON "
                              "a.id = k.account_id WHERE k.card_id = ?2)",
    [LEDGER_SEARCH_UID] = "c.id IN (SELECT a.customer_id FROM card k JOIN account a ON a.id "
                          "= k.account_id WHERE k.uid = ?3)",
    [LEDGER_SEARCH_ALL] = "1 = 1",
};

/* A key prefix as an index range [?1, ?1 || U+10FFFF) on one key column, in
 * key order, the program filtered on the way, stopping at the limit. */
#define NAME_ARM(col)                                                                              \
    "SELECT * FROM (SELECT q.customer_id, q." col " AS k FROM customer_pii q JOIN customer r ON "  \
    "r.id = q.customer_id WHERE q." col " >= ?1 AND q." col " < ?5 AND (?4 = 0 OR r.program_id "   \
    "= ?4) ORDER BY q." col " LIMIT ?6) arm"

/* The first ?6 matches of the name and of the surname, merged: the first ?6
 * of their union by the key that matched (a customer once). */
#define NAME_SEARCH_SQL                                                                            \
    "SELECT " CUSTOMER_COLUMNS " JOIN (SELECT customer_id, min(k) AS k FROM (" NAME_ARM(           \
        "name_key") " UNION ALL " NAME_ARM("surname_key") ") arms GROUP BY customer_id) matched "  \
                                                          "ON matched.customer_id = c.id ORDER "   \
                                                          "BY matched.k, c.id LIMIT ?6"

void ledger_search_sql(enum ledger_search_by by, bool pg, char *sql, size_t cap)
{
    if (by == LEDGER_SEARCH_NAME) {
        snprintf(sql, cap, "%s", NAME_SEARCH_SQL);
        return;
    }
    snprintf(sql, cap,
             "SELECT " CUSTOMER_COLUMNS " WHERE %s AND (?4 = 0 OR c.program_id = ?4) "
             "ORDER BY c.id LIMIT ?6",
             pg && by == LEDGER_SEARCH_EMAIL ? "lower(p.email) = lower(?1)" : search_where[by]);
}

leal_err ledger_customer_search(struct ledger *l, const struct ledger_search *s,
                                ledger_customer_cb cb, void *ctx)
{
    enum ledger_search_by by = s->by;
    const char *q = s->q;
    char sql[2048], key[4 * LEDGER_TEXT], end[4 * LEDGER_TEXT + 8];
    uint8_t uid[LEAL_MAX_UID];
    size_t uid_len = 0;
    struct store_stmt *st;
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
        ledger_search_sql(by, l->pg != NULL, sql, sizeof sql);
        if ((err = store_prep_once(l, sql, &st)) != LEAL_OK)
            return err;
        l->search_st[by] = st;
    }
    {
        /* ?1 key or e-mail, ?2 card id, ?3 UID, ?4 program, ?5 end of the name range, ?6
         * limit. Each has its type even where the form does not use it: PostgreSQL
         * cannot infer the type of a parameter the SQL does not mention. */
        const struct store_val v[] = {
            SV_TEXT(by == LEDGER_SEARCH_EMAIL ? q : key),
            SV_I64(card_id),
            SV_BLOB(uid, uid_len),
            SV_I64(s->program_id),
            SV_TEXT(end),
            SV_I64(s->limit > 0 && s->limit < (size_t)INT64_MAX ? (int64_t)s->limit : INT64_MAX)};
        store_bind(st, v, (int)(sizeof v / sizeof v[0]));
    }
    while (store_next_row(l, st, &err)) {
        struct ledger_customer c;
        customer_row(st, &c);
        if (cb(ctx, &c) != 0)
            break;
    }
    store_reset_clear(st); /* kept prepared; its bindings pointed at this frame */
    return err;
}

const char *const ledger_consent_purposes[LEDGER_CONSENT_NPURPOSES] = {"marketing", "service",
                                                                       "profiling"};

leal_err ledger_consent_purposes_norm(const char *purposes, char *out, size_t cap)
{
    bool on[LEDGER_CONSENT_NPURPOSES] = {false, false, false};
    size_t used = 0;
    if (!purposes || !purposes[0])
        purposes = "marketing,service";
    for (const char *p = purposes; *p;) {
        size_t n = strcspn(p, ","), i = 0;
        while (i < LEDGER_CONSENT_NPURPOSES && (strlen(ledger_consent_purposes[i]) != n ||
                                                strncmp(p, ledger_consent_purposes[i], n) != 0))
            i++;
        if (i == LEDGER_CONSENT_NPURPOSES || on[i])
            return LEAL_E_CONSENT_PURPOSE;
        on[i] = true;
        p += n;
        if (*p == ',' && !*++p)
            return LEAL_E_CONSENT_PURPOSE; /* a trailing comma */
    }
    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < LEDGER_CONSENT_NPURPOSES; i++) {
        if (!on[i])
            continue;
        int w =
            snprintf(out + used, cap - used, "%s%s", used ? "," : "", ledger_consent_purposes[i]);
        if (w < 0 || (size_t)w >= cap - used)
            return LEAL_E_TOO_LARGE;
        used += (size_t)w;
    }
    return LEAL_OK;
}

static int channel_ok(const char *c)
{
    static const char *const ch[] = {"email", "sms", "phone", "post", "whatsapp"};
    for (size_t i = 0; c && i < sizeof ch / sizeof ch[0]; i++)
        if (strcmp(c, ch[i]) == 0)
            return 1;
    return 0;
}

leal_err ledger_consent_add(struct ledger *l, int64_t customer_id,
                            const struct ledger_consent_change *c)
{
    const char *channel = c->channel, *method = c->method, *recorded_by = c->recorded_by;
    leal_err err;
    if (!channel_ok(channel))
        return LEAL_E_USAGE;
    if (ledger_empty(method) || ledger_empty(recorded_by))
        return LEAL_E_REASON_REQUIRED;
    if ((err = ledger_text_ok(l, "consent method", method)) != LEAL_OK ||
        (err = ledger_text_ok(l, "recorded by", recorded_by)) != LEAL_OK)
        return err;
    char purposes[40];
    if ((err = ledger_consent_purposes_norm(c->purposes, purposes, sizeof purposes)) != LEAL_OK) {
        store_set_msg(l, "'%.60s'", c->purposes);
        return err;
    }
    if ((c->evidence && (err = ledger_text_ok(l, "consent evidence", c->evidence)) != LEAL_OK) ||
        (c->text_version &&
         (err = ledger_text_ok(l, "consent text version", c->text_version)) != LEAL_OK))
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "INSERT INTO consent(customer_id, channel, granted, at, method, recorded_by, "
                      "purposes, evidence, text_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                      "?9)",
                      SVALS(SV_I64(customer_id), SV_TEXT(channel), SV_I64(c->granted ? 1 : 0),
                            SV_I64(c->at ? c->at : ledger_now()), SV_TEXT(method),
                            SV_TEXT(recorded_by), SV_TEXT(purposes),
                            SV_TEXT(c->evidence ? c->evidence : ""),
                            SV_TEXT(c->text_version ? c->text_version : "")),
                      NULL);
    if (err == LEAL_E_UNKNOWN_ID)
        store_set_msg(l, "customer %lld", (long long)customer_id);
    return store_tx_end(l, err);
}

/* Columns 0-7 of a consent row (channel, granted, at, method, recorded_by,
 * purposes, evidence, text_version) into c; what follows them is the
 * caller's. */
static void consent_row(struct store_stmt *st, struct ledger_consent *c)
{
    memset(c, 0, sizeof *c);
    store_col_text(st, 0, c->channel, sizeof c->channel);
    c->granted = store_col_i64(st, 1) != 0;
    c->at = store_col_i64(st, 2);
    store_col_text(st, 3, c->method, sizeof c->method);
    store_col_text(st, 4, c->recorded_by, sizeof c->recorded_by);
    store_col_text(st, 5, c->purposes, sizeof c->purposes);
    store_col_text(st, 6, c->evidence, sizeof c->evidence);
    store_col_text(st, 7, c->text_version, sizeof c->text_version);
}

leal_err ledger_consent_each(struct ledger *l, int64_t customer_id, ledger_consent_cb cb, void *ctx)
{
    struct store_stmt *st;
    leal_err err;
    err = store_prep_i64(
        l,
        "SELECT channel, granted, at, method, recorded_by, purposes, evidence, "
        "text_version FROM consent WHERE id IN (SELECT max(id) FROM consent WHERE customer_id = ?1 "
        "GROUP BY channel) ORDER BY channel",
        &st, I64S(customer_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_consent c;
        consent_row(st, &c);
        if (cb(ctx, &c) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_consent_purpose_each(struct ledger *l, int64_t customer_id, ledger_consent_cb cb,
                                     void *ctx)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(
        l,
        "WITH p(purpose, o) AS (VALUES ('marketing', 1), ('service', 2), ('profiling', 3)) "
        "SELECT k.channel, k.granted, k.at, k.method, k.recorded_by, k.purposes, k.evidence, "
        "k.text_version, p.purpose FROM consent k JOIN p ON instr(',' || k.purposes || ',', ',' || "
        "p.purpose || "
        "',') > 0 WHERE k.customer_id = ?1 AND k.id = (SELECT max(j.id) FROM consent j WHERE "
        "j.customer_id = ?1 AND j.channel = k.channel AND instr(',' || j.purposes || ',', ',' || "
        "p.purpose || ',') > 0) ORDER BY k.channel, p.o",
        &st, I64S(customer_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_consent c;
        consent_row(st, &c);
        store_col_text(st, 8, c.purpose, sizeof c.purpose);
        if (cb(ctx, &c) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_consent_granted(struct ledger *l, int64_t customer_id, const char *channel,
                                const char *purpose, bool *granted)
{
    struct store_stmt *st = NULL;
    char one[16];
    int row = 0;
    *granted = false;
    if (ledger_consent_purposes_norm(purpose, one, sizeof one) != LEAL_OK || !purpose ||
        strchr(purpose, ','))
        return LEAL_E_CONSENT_PURPOSE;
    leal_err err = store_prep_once(
        l,
        "SELECT granted FROM consent WHERE customer_id = ?1 AND channel = ?2 AND instr(',' || "
        "purposes || ',', ',' || ?3 || ',') > 0 ORDER BY id DESC LIMIT 1",
        &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(customer_id), SV_TEXT(channel), SV_TEXT(purpose)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row)
        *granted = store_col_i64(st, 0) != 0;
    store_finalize(st);
    return err;
}

leal_err ledger_note_add(struct ledger *l, int64_t customer_id, const char *author,
                         const char *text, int64_t at)
{
    leal_err err;
    if (ledger_empty(author) || ledger_empty(text))
        return LEAL_E_REASON_REQUIRED;
    if ((err = ledger_text_ok(l, "author", author)) != LEAL_OK ||
        (err = ledger_text_ok(l, "note", text)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(
        l,
        "INSERT INTO customer_note(customer_id, at, author, text) VALUES (?1, ?2, "
        "?3, ?4)",
        SVALS(SV_I64(customer_id), SV_I64(at ? at : ledger_now()), SV_TEXT(author), SV_TEXT(text)),
        NULL);
    if (err == LEAL_E_UNKNOWN_ID)
        store_set_msg(l, "customer %lld", (long long)customer_id);
    return store_tx_end(l, err);
}

leal_err ledger_note_each(struct ledger *l, int64_t customer_id, ledger_note_cb cb, void *ctx)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(l, NOTES_SQL, &st, I64S(customer_id));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_note n;
        memset(&n, 0, sizeof n);
        n.id = store_col_i64(st, 0);
        n.at = store_col_i64(st, 1);
        store_col_text(st, 2, n.author, sizeof n.author);
        store_col_text(st, 3, n.text, sizeof n.text);
        n.user_id = store_col_i64(st, 4);
        n.edited_at = store_col_i64(st, 5);
        if (cb(ctx, &n) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

/* ---- Erasure and the export's reader (host/privacy on PostgreSQL) ---- */

leal_err ledger_customer_state(struct ledger *l, int64_t customer_id, int64_t *erased_at)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = store_prep_i64(l, "SELECT coalesce(erased_at, 0) FROM customer WHERE id = ?1",
                                  &st, I64S(customer_id));
    *erased_at = -1;
    if (err != LEAL_OK)
        return err;
    if ((err = store_step(l, st, &row)) == LEAL_OK && row)
        *erased_at = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

leal_err ledger_has_table(struct ledger *l, const char *table, bool *yes)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = store_prep_once(
        l,
        l->pg ? "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?1"
              : "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        &st);
    *yes = false;
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(table)));
    if ((err = store_step(l, st, &row)) == LEAL_OK)
        *yes = row != 0;
    store_finalize(st);
    return err;
}

/* What the erasure deletes besides the notes, where the ledger has the
 * table: a shop's tag can say something personal ("celiac"); an erased
 * customer signs in to the portal no more. */
static const struct {
    const char *table, *sql;
} erase_more[] = {
    {"customer_tag", "DELETE FROM customer_tag WHERE customer_id = ?1"},
    {"card_pin", "DELETE FROM card_pin WHERE card_id IN (SELECT card_id FROM card WHERE "
                 "account_id IN (SELECT id FROM account WHERE customer_id = ?1))"},
    {"portal_session", "DELETE FROM portal_session WHERE customer_id = ?1"},
    /* The names of who carries the customer's family cards (personal data). */
    {"card_holder", "DELETE FROM card_holder WHERE card_id IN (SELECT card_id FROM card WHERE "
                    "account_id IN (SELECT id FROM account WHERE customer_id = ?1))"},
    /* The bounces name the address and hold the server's words about it. */
    {"message_bounce", "DELETE FROM message_bounce WHERE customer_id = ?1"},
};

/* The cards decision "block": the customer's active cards (their accounts',
 * phones' QR cards included) blocked one by one, in card id order, each
 * with a card event saying why and by whom, as host/privacy does on
 * SQLite; cards blocked, lost, replaced or pending stay as they are. */
static leal_err block_cards(struct ledger *l, int64_t customer_id, const char *operator_name,
                            int64_t now, int64_t *blocked)
{
    int64_t card = 0;
    leal_err err;
    *blocked = 0;
    for (;;) {
        if ((err = store_query_int(l,
                                   "SELECT card_id FROM card WHERE status = 'active' AND "
                                   "account_id IN (SELECT id FROM account WHERE customer_id = ?1) "
                                   "ORDER BY card_id LIMIT 1",
                                   I64S(customer_id), &card)) != LEAL_OK ||
            card == 0)
            return err;
        if ((err = store_exec_i64(l,
                                  "UPDATE card SET status = 'blocked', updated_at = ?2 WHERE "
                                  "card_id = ?1",
                                  I64S(card, now))) != LEAL_OK ||
            (err = store_write(l,
                               "INSERT INTO card_event(card_id, at, status, reason, operator) "
                               "VALUES (?1, ?2, 'blocked', 'customer erased: cards blocked by "
                               "decision', ?3)",
                               SVALS(SV_I64(card), SV_I64(now), SV_TEXT(operator_name)), NULL)) !=
                LEAL_OK)
            return err;
        (*blocked)++;
    }
}

leal_err ledger_customer_erase(struct ledger *l, int64_t customer_id, const char *operator_name,
                               const char *note, int64_t now)
{
    return ledger_customer_erase_cards(l, customer_id, operator_name, note, now, NULL);
}

/* The audit log's personal data (host/privacy's on SQLite): COLUMN with the
 * members KEYS (a list of SQL strings) emptied where present, in each
 * dialect. SQLite's json_replace; on PostgreSQL the object rebuilt member
 * by member in its order, each value's own text kept, so that both write
 * the same compact text. */
#define SCRUB_LITE(col, keys)                                                                      \
    "CASE WHEN json_valid(" col ") THEN json_replace(" col ", " keys ") END"
#define SCRUB_PG(col, keys)                                                                        \
    "CASE WHEN " col " IS NOT NULL THEN (SELECT coalesce('{' || string_agg(to_json(k)::text || "   \
    "':' || CASE WHEN k IN (" keys ") THEN '\"\"' ELSE v::text END, ',' ORDER BY n) || '}', "      \
    "'{}') FROM json_each(" col "::json) WITH ORDINALITY AS e(k, v, n)) END"
#define NOTE_WHERE " WHERE object = 'customer ' || ?1 AND action LIKE 'customer.note.%'"
#define HOLDER_WHERE                                                                               \
    " WHERE action IN ('card.holder', 'card.detach') AND object IN (SELECT 'card ' || card_id "    \
    "FROM card WHERE account_id IN (SELECT id FROM account WHERE customer_id = ?1))"
#define CUSTOMER_WHERE                                                                             \
    " WHERE object = 'customer ' || ?1 AND action IN ('customer.create', 'customer.edit')"
#define PII_LITE                                                                                   \
    "'$.name', '', '$.surname', '', '$.email', '', '$.phone', '', '$.birth_date', '', "            \
    "'$.gender', '', '$.address', '', '$.preferences', ''"
#define PII_PG                                                                                     \
    "'name', 'surname', 'email', 'phone', 'birth_date', 'gender', 'address', 'preferences'"

static const char *const audit_scrub[2][3] = {
    {"UPDATE audit SET before = " SCRUB_LITE("before", "'$.text', ''") ", after = " SCRUB_LITE(
         "after", "'$.text', ''") NOTE_WHERE,
     "UPDATE audit SET before = " SCRUB_LITE("before", "'$.holder', ''") ", after = " SCRUB_LITE(
         "after", "'$.holder', ''") HOLDER_WHERE,
     "UPDATE audit SET before = " SCRUB_LITE("before", PII_LITE) ", after = " SCRUB_LITE(
         "after", PII_LITE) CUSTOMER_WHERE},
    {"UPDATE audit SET before = " SCRUB_PG("before", "'text'") ", after = " SCRUB_PG(
         "after", "'text'") NOTE_WHERE,
     "UPDATE audit SET before = " SCRUB_PG("before", "'holder'") ", after = " SCRUB_PG(
         "after", "'holder'") HOLDER_WHERE,
     "UPDATE audit SET before = " SCRUB_PG("before", PII_PG) ", after = " SCRUB_PG("after", PII_PG)
         CUSTOMER_WHERE}};

/* The pending request done, with its audit line (?4: the user, or NULL);
 * the JSON as SQLite's json_object writes it, on both. */
static const char *const request_audit[2] = {
    "INSERT INTO audit(at, user_id, actor, action, object, before, after) SELECT ?2, ?4, ?3, "
    "'customer.erase', 'customer ' || ?1, json_object('request', r.id, 'asked_on', r.asked_on, "
    "'channel', r.channel, 'recorded_by', r.recorded_by, 'done_at', NULL), "
    "json_object('erased_at', ?2, 'done_by', ?3) FROM erasure_request r WHERE r.customer_id = ?1 "
    "AND r.done_at IS NULL",
    "INSERT INTO audit(at, user_id, actor, action, object, before, after) SELECT ?2, ?4, ?3, "
    "'customer.erase', 'customer ' || ?1, '{\"request\":' || r.id || ',\"asked_on\":' || "
    "to_json(r.asked_on)::text || ',\"channel\":' || to_json(r.channel)::text || "
    "',\"recorded_by\":' || to_json(r.recorded_by)::text || ',\"done_at\":null}', "
    "'{\"erased_at\":' || ?2 || ',\"done_by\":' || to_json(?3::text)::text || '}' FROM "
    "erasure_request r WHERE r.customer_id = ?1 AND r.done_at IS NULL"};

static leal_err erase_audit(struct ledger *l, int64_t customer_id, const char *operator_name,
                            int64_t user_id, int64_t now)
{
    int pg = l->pg != NULL;
    bool yes = false;
    leal_err err = ledger_has_table(l, "audit", &yes);
    for (size_t i = 0; err == LEAL_OK && yes && i < 3; i++)
        err = store_exec_i64(l, audit_scrub[pg][i], I64S(customer_id));
    if (err == LEAL_OK && yes && (err = ledger_has_table(l, "erasure_request", &yes)) == LEAL_OK &&
        yes &&
        (err = store_write(l, request_audit[pg],
                           SVALS(SV_I64(customer_id), SV_I64(now), SV_TEXT(operator_name),
                                 SV_I64_OR_NULL(user_id)),
                           NULL)) == LEAL_OK)
        err = store_write(l,
                          "UPDATE erasure_request SET done_at = ?2, done_by = ?3 WHERE "
                          "customer_id = ?1 AND done_at IS NULL",
                          SVALS(SV_I64(customer_id), SV_I64(now), SV_TEXT(operator_name)), NULL);
    return err;
}

leal_err ledger_customer_erase_cards(struct ledger *l, int64_t customer_id,
                                     const char *operator_name, const char *note, int64_t now,
                                     int64_t *cards_blocked)
{
    const struct ledger_erase_as as = {operator_name, 0, note, now, cards_blocked};
    return ledger_customer_erase_by(l, customer_id, &as);
}

leal_err ledger_customer_erase_by(struct ledger *l, int64_t customer_id,
                                  const struct ledger_erase_as *as)
{
    const char *operator_name = as->operator_name, *note = as->note;
    int64_t now = as->now, *cards_blocked = as->cards_blocked;
    char said[160];
    int64_t erased_at = -1;
    leal_err err;
    if (cards_blocked)
        *cards_blocked = 0;
    if (ledger_empty(operator_name))
        return LEAL_E_REASON_REQUIRED;
    if ((err = ledger_text_ok(l, "operator", operator_name)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_customer_state(l, customer_id, &erased_at)) == LEAL_OK && erased_at < 0) {
        store_set_msg(l, "customer %lld", (long long)customer_id);
        err = LEAL_E_UNKNOWN_ID;
    } else if (err == LEAL_OK && erased_at > 0) {
        err = LEAL_E_STATE;
    }
    if (err == LEAL_OK && cards_blocked) {
        err = block_cards(l, customer_id, operator_name, now, cards_blocked);
        snprintf(said, sizeof said, "%s; cards blocked by decision: %lld", LEDGER_ERASED_NOTE,
                 (long long)*cards_blocked);
        note = said;
    }
    if (err == LEAL_OK)
        err = store_exec_i64(l, "DELETE FROM customer_note WHERE customer_id = ?1",
                             I64S(customer_id));
    if (err == LEAL_OK)
        err = erase_audit(l, customer_id, operator_name, as->user_id, now);
    for (size_t i = 0; err == LEAL_OK && i < sizeof erase_more / sizeof erase_more[0]; i++) {
        bool yes = false;
        if ((err = ledger_has_table(l, erase_more[i].table, &yes)) == LEAL_OK && yes)
            err = store_exec_i64(l, erase_more[i].sql, I64S(customer_id));
    }
    if (err == LEAL_OK)
        err = store_exec_i64(l,
                             "UPDATE customer_pii SET name = '', surname = '', email = '', "
                             "phone = '', birth_date = '', gender = '', address = '', "
                             "preferences = '', name_key = '', surname_key = '', phone_key = '', "
                             "updated_at = ?2 WHERE customer_id = ?1",
                             I64S(customer_id, now));
    if (err == LEAL_OK)
        err = store_exec_i64(l, "UPDATE customer SET erased_at = ?2 WHERE id = ?1",
                             I64S(customer_id, now));
    if (err == LEAL_OK)
        err = store_write(l,
                          "INSERT INTO customer_note(customer_id, at, author, text) VALUES (?1, "
                          "?2, ?3, ?4)",
                          SVALS(SV_I64(customer_id), SV_I64(now), SV_TEXT(operator_name),
                                SV_TEXT(note ? note : LEDGER_ERASED_NOTE)),
                          NULL);
    if ((err = store_tx_end(l, err)) != LEAL_OK && cards_blocked)
        *cards_blocked = 0; /* rolled back: none blocked */
    if (err != LEAL_OK || !l->pg)
        return err;
    /* The old row versions (the personal data before) leave the tables:
     * VACUUM runs outside any transaction, after the commit. A PostgreSQL
     * ledger is always at its newest schema: every table named is there. */
    return store_exec(l, "VACUUM customer_pii, customer_note, customer_tag, card_holder, "
                         "card_pin, message_bounce, audit");
}

leal_err ledger_rows(struct ledger *l, const char *sql, int64_t id, ledger_row_cb cb, void *ctx)
{
    struct ledger_cell cells[64];
    struct store_stmt *st;
    leal_err err = store_prep_once(l, sql, &st);
    if (err != LEAL_OK)
        return err;
    if (strstr(sql, "?1"))
        store_bind(st, SVALS(SV_I64(id)));
    while (store_next_row(l, st, &err)) {
        int n = store_col_count(st);
        if (n > (int)(sizeof cells / sizeof cells[0])) {
            store_set_msg(l, "a row of %d columns", n);
            err = LEAL_E_TOO_LARGE;
            break;
        }
        for (int i = 0; i < n; i++) {
            struct ledger_cell *c = &cells[i];
            memset(c, 0, sizeof *c);
            c->name = store_col_name(st, i);
            switch (store_col_type(st, i)) {
            case STORE_NULL:
                c->kind = LEDGER_CELL_NULL;
                break;
            case STORE_I64:
                c->kind = LEDGER_CELL_INT;
                c->i = store_col_i64(st, i);
                break;
            case STORE_TEXT:
                c->kind = LEDGER_CELL_TEXT;
                c->p = store_col_str(st, i);
                c->n = (size_t)store_col_bytes(st, i);
                break;
            case STORE_BLOB:
                c->kind = LEDGER_CELL_BLOB;
                c->p = store_col_blob(st, i);
                c->n = (size_t)store_col_bytes(st, i);
                break;
            }
        }
        if (cb(ctx, cells, n) != 0)
            break;
    }
    store_reset(st);
    store_finalize(st);
    return err;
}
