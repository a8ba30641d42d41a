/*
 * ledger_card.c - cards, their status events, key versions and rewrite spans (see ledger.h).
 */
#include <string.h>

#include "ledger.h"
#include "ledger_sql.h"
#include "store.h"

/* ---- Cards ---- */

static const char *const tech_names[] = {
    [LEDGER_TECH_DESFIRE_EV1] = "desfire-ev1", [LEDGER_TECH_DESFIRE_EV2] = "desfire-ev2",
    [LEDGER_TECH_DESFIRE_EV3] = "desfire-ev3", [LEDGER_TECH_CLASSIC_1K] = "classic-1k",
    [LEDGER_TECH_CLASSIC_4K] = "classic-4k",   [LEDGER_TECH_VIRTUAL_QR] = "virtual-qr",
};
static const char *const status_names[] = {
    [LEDGER_CARD_PENDING] = "pending",   [LEDGER_CARD_ACTIVE] = "active",
    [LEDGER_CARD_BLOCKED] = "blocked",   [LEDGER_CARD_LOST] = "lost",
    [LEDGER_CARD_REPLACED] = "replaced",
};

const char *ledger_card_tech_name(enum ledger_card_tech t)
{
    return t >= LEDGER_TECH_DESFIRE_EV1 && t <= LEDGER_TECH_VIRTUAL_QR ? tech_names[t] : "?";
}

const char *ledger_card_status_name(enum ledger_card_status s)
{
    return s >= LEDGER_CARD_PENDING && s <= LEDGER_CARD_REPLACED ? status_names[s] : "?";
}

leal_err ledger_card_tech_parse(const char *s, enum ledger_card_tech *t)
{
    *t = 0;
    for (int i = LEDGER_TECH_DESFIRE_EV1; s && i <= LEDGER_TECH_VIRTUAL_QR; i++)
        if (strcmp(s, tech_names[i]) == 0) {
            *t = (enum ledger_card_tech)i;
            return LEAL_OK;
        }
    return LEAL_E_USAGE;
}

leal_err ledger_card_status_parse(const char *s, enum ledger_card_status *st)
{
    *st = 0;
    for (int i = LEDGER_CARD_PENDING; s && i <= LEDGER_CARD_REPLACED; i++)
        if (strcmp(s, status_names[i]) == 0) {
            *st = (enum ledger_card_status)i;
            return LEAL_OK;
        }
    return LEAL_E_USAGE;
}

/* Appends to the card's history; inside the caller's transaction. */
static leal_err card_event_add(struct ledger *l, int64_t card_id, enum ledger_card_status status,
                               const char *reason, const char *operator_name)
{
    return store_write(l,
                       "INSERT INTO card_event(card_id, at, status, reason, operator) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
                       SVALS(SV_I64(card_id), SV_I64(ledger_now()),
                             SV_TEXT(ledger_card_status_name(status)), SV_TEXT(reason),
                             SV_TEXT(operator_name)),
                       NULL);
}

leal_err ledger_card_add(struct ledger *l, const struct ledger_card *c)
{
    struct ledger_account a;
    leal_err err;
    if (c->card_id <= 0 || c->uid_len > LEAL_MAX_UID ||
        strcmp(ledger_card_tech_name(c->tech), "?") == 0 ||
        strcmp(ledger_card_status_name(c->status), "?") == 0 || c->keyset_version < 0 ||
        c->layout_version < 0 || c->last_counter < 0)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_account_get(l, c->account_id, &a)) != LEAL_OK)
        goto out;
    if (a.kind == LEDGER_ACCOUNT_PROGRAM || (c->program_id && c->program_id != a.program_id)) {
        store_set_msg(l, "account %lld", (long long)c->account_id);
        err = LEAL_E_WRONG_PROGRAM;
        goto out;
    }
    err = store_write(l,
                      "INSERT INTO card(card_id, account_id, uid, tech, status, keyset_version, "
                      "layout_version, last_counter, issued_at, updated_at) VALUES (?1, ?2, ?3, "
                      "?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                      SVALS(SV_I64(c->card_id), SV_I64(c->account_id), SV_BLOB(c->uid, c->uid_len),
                            SV_TEXT(ledger_card_tech_name(c->tech)),
                            SV_TEXT(ledger_card_status_name(c->status)), SV_I64(c->keyset_version),
                            SV_I64(c->layout_version), SV_I64(c->last_counter),
                            SV_I64(c->issued_at ? c->issued_at : ledger_now())),
                      NULL);
    if (err == LEAL_E_DUPLICATE_ID)
        store_set_msg(l, "card %lld", (long long)c->card_id);
    if (err == LEAL_OK)
        err = card_event_add(l, c->card_id, c->status, "issued", "");
out:
    return store_tx_end(l, err);
}

static void card_row(struct store_stmt *st, struct ledger_card *c)
{
    const void *uid = store_col_blob(st, 3);
    int n = store_col_bytes(st, 3);
    char t[32];
    memset(c, 0, sizeof *c);
    c->card_id = store_col_i64(st, 0);
    c->account_id = store_col_i64(st, 1);
    c->program_id = store_col_i64(st, 2);
    if (uid && n > 0 && (size_t)n <= sizeof c->uid) {
        memcpy(c->uid, uid, (size_t)n);
        c->uid_len = (size_t)n;
    }
    store_col_text(st, 4, t, sizeof t);
    if (ledger_card_tech_parse(t, &c->tech) != LEAL_OK)
        c->tech = 0;
    store_col_text(st, 5, t, sizeof t);
    if (ledger_card_status_parse(t, &c->status) != LEAL_OK)
        c->status = 0;
    c->keyset_version = store_col_i64(st, 6);
    c->layout_version = store_col_i64(st, 7);
    c->last_counter = store_col_i64(st, 8);
    c->issued_at = store_col_i64(st, 9);
    c->seen_at = store_col_i64(st, 10);
    c->seen_seq = store_col_i64(st, 11);
    c->seen_purse_cents = store_col_i64(st, 12);
    c->seen_points = store_col_i64(st, 13);
    if (store_col_bytes(st, 14) == LEDGER_CARD_MARK_LEN) {
        memcpy(c->seen_mark, store_col_blob(st, 14), LEDGER_CARD_MARK_LEN);
        c->has_seen_mark = true;
    }
    c->synced_entry = store_col_i64(st, 15);
}

leal_err ledger_card_find_by_id(struct ledger *l, int64_t card_id, struct ledger_card *out)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    err = store_find_row(l, "SELECT " CARD_COLUMNS " WHERE c.card_id = ?1", card_id, "card", &st);
    if (err == LEAL_OK)
        card_row(st, out);
    store_finalize(st);
    return err;
}

leal_err ledger_card_each_of_account(struct ledger *l, int64_t account_id, ledger_card_cb cb,
                                     void *ctx)
{
    struct store_stmt *st;
    leal_err err;
    if ((err =
             store_prep_i64(l, "SELECT " CARD_COLUMNS " WHERE c.account_id = ?1 ORDER BY c.card_id",
                            &st, I64S(account_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_card c;
        card_row(st, &c);
        if (cb(ctx, &c) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

static int status_change_ok(enum ledger_card_status from, enum ledger_card_status to)
{
    switch (from) {
    case LEDGER_CARD_PENDING:
        return to != LEDGER_CARD_PENDING;
    case LEDGER_CARD_ACTIVE:
        return to == LEDGER_CARD_BLOCKED || to == LEDGER_CARD_LOST || to == LEDGER_CARD_REPLACED;
    case LEDGER_CARD_BLOCKED:
        return to == LEDGER_CARD_ACTIVE || to == LEDGER_CARD_LOST || to == LEDGER_CARD_REPLACED;
    case LEDGER_CARD_LOST:
        return to == LEDGER_CARD_REPLACED;
    case LEDGER_CARD_REPLACED:
        return 0;
    }
    return 0;
}

/* Reads the card under the write lock and updates it: the check and the
 * change are one transaction. */
static leal_err card_update(struct ledger *l, int64_t card_id, int status, int64_t counter,
                            const char *reason, const char *operator_name)
{
    struct ledger_card c;
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        goto out;
    if (status && !status_change_ok(c.status, (enum ledger_card_status)status)) {
        store_set_msg(l, "card %lld is %s", (long long)card_id, ledger_card_status_name(c.status));
        err = LEAL_E_CARD_STATUS_CHANGE;
        goto out;
    }
    if (!status && counter < c.last_counter) {
        store_set_msg(l, "card %lld counter %lld is below the known %lld", (long long)card_id,
                      (long long)counter, (long long)c.last_counter);
        err = LEAL_E_CARD_TAMPERED;
        goto out;
    }
    if (status)
        err = store_write(l, "UPDATE card SET status = ?2, updated_at = ?3 WHERE card_id = ?1",
                          SVALS(SV_I64(card_id),
                                SV_TEXT(ledger_card_status_name((enum ledger_card_status)status)),
                                SV_I64(ledger_now())),
                          NULL);
    else
        err = store_exec_i64(
            l, "UPDATE card SET last_counter = ?2, updated_at = ?3 WHERE card_id = ?1",
            I64S(card_id, counter, ledger_now()));
    if (err == LEAL_OK && status)
        err = card_event_add(l, card_id, (enum ledger_card_status)status, reason, operator_name);
out:
    return store_tx_end(l, err);
}

leal_err ledger_card_set_uid(struct ledger *l, int64_t card_id, const uint8_t *uid, size_t uid_len)
{
    struct ledger_card c;
    leal_err err;
    if (uid == NULL || uid_len == 0 || uid_len > LEAL_MAX_UID)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        goto out;
    /* Only while issuing: afterwards the UID is evidence, not a setting. */
    if (c.status != LEDGER_CARD_PENDING) {
        store_set_msg(l, "card %lld is %s", (long long)card_id, ledger_card_status_name(c.status));
        err = LEAL_E_CARD_STATUS_CHANGE;
        goto out;
    }
    err = store_write(l, "UPDATE card SET uid = ?2, updated_at = ?3 WHERE card_id = ?1",
                      SVALS(SV_I64(card_id), SV_BLOB(uid, uid_len), SV_I64(ledger_now())), NULL);
out:
    return store_tx_end(l, err);
}

leal_err ledger_card_set_layout(struct ledger *l, int64_t card_id, int64_t layout_version)
{
    struct ledger_card c;
    leal_err err;
    if (layout_version <= 0)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        goto out;
    if (layout_version < c.layout_version) {
        store_set_msg(l, "card %lld is at layout version %lld already", (long long)card_id,
                      (long long)c.layout_version);
        err = LEAL_E_ARG;
        goto out;
    }
    if (layout_version > c.layout_version)
        err = store_write(
            l, "UPDATE card SET layout_version = ?2, updated_at = ?3 WHERE card_id = ?1",
            SVALS(SV_I64(card_id), SV_I64(layout_version), SV_I64(ledger_now())), NULL);
out:
    return store_tx_end(l, err);
}

leal_err ledger_card_set_status(struct ledger *l, int64_t card_id, enum ledger_card_status status)
{
    if (strcmp(ledger_card_status_name(status), "?") == 0)
        return LEAL_E_ARG;
    return ledger_card_change_status(l, card_id, status, "", "");
}

leal_err ledger_card_change_status(struct ledger *l, int64_t card_id,
                                   enum ledger_card_status status, const char *reason,
                                   const char *operator_name)
{
    leal_err err;
    if (strcmp(ledger_card_status_name(status), "?") == 0 || reason == NULL ||
        operator_name == NULL)
        return LEAL_E_ARG;
    if ((err = ledger_text_ok(l, "reason", reason)) != LEAL_OK ||
        (err = ledger_text_ok(l, "operator", operator_name)) != LEAL_OK)
        return err;
    return card_update(l, card_id, (int)status, 0, reason, operator_name);
}

leal_err ledger_card_set_counter(struct ledger *l, int64_t card_id, int64_t counter)
{
    if (counter < 0)
        return LEAL_E_ARG;
    return card_update(l, card_id, 0, counter, NULL, NULL);
}

/* seen_at moves only when the state seen does: a read of a card that has not
 * changed since the desk last saw it rewrites the row with the same bytes,
 * which SQLite leaves unwritten (no WAL frame, nothing to sync). A read that
 * changes nothing writes nothing. IS NOT DISTINCT FROM (SQLite's IS with a
 * NULL) in the words both backends take. */
#define SEEN_SAME                                                                                  \
    "seen_at IS NOT NULL AND seen_seq IS NOT DISTINCT FROM ?3 AND seen_purse IS NOT DISTINCT "     \
    "FROM ?4 AND seen_points IS NOT DISTINCT FROM ?5"
static const char set_seen_sql[] =
    "UPDATE card SET seen_at = CASE WHEN " SEEN_SAME " THEN seen_at ELSE ?2 END, seen_seq = ?3, "
    "seen_purse = ?4, seen_points = ?5 WHERE card_id = ?1";
static const char set_seen_mark_sql[] =
    "UPDATE card SET seen_at = CASE WHEN " SEEN_SAME " AND seen_mark IS NOT DISTINCT FROM ?6 THEN "
    "seen_at ELSE ?2 END, seen_seq = ?3, seen_purse = ?4, seen_points = ?5, seen_mark = ?6 WHERE "
    "card_id = ?1";

leal_err ledger_card_set_seen(struct ledger *l, int64_t card_id, int64_t seq, int64_t purse_cents,
                              int64_t points)
{
    leal_err err;
    if (seq < 0 || purse_cents < 0 || points < 0)
        return LEAL_E_ARG;
    err = store_exec_i64(l, set_seen_sql, I64S(card_id, ledger_now(), seq, purse_cents, points));
    return err == LEAL_OK ? store_changed(l, "card", card_id) : err;
}

leal_err ledger_card_set_seen_mark(struct ledger *l, int64_t card_id, int64_t seq,
                                   int64_t purse_cents, int64_t points,
                                   const uint8_t mark[LEDGER_CARD_MARK_LEN])
{
    leal_err err;
    if (mark == NULL || seq < 0 || purse_cents < 0 || points < 0)
        return LEAL_E_ARG;
    err = store_write(l, set_seen_mark_sql,
                      SVALS(SV_I64(card_id), SV_I64(ledger_now()), SV_I64(seq), SV_I64(purse_cents),
                            SV_I64(points), SV_BLOB(mark, LEDGER_CARD_MARK_LEN)),
                      NULL);
    return err == LEAL_OK ? store_changed(l, "card", card_id) : err;
}

/* Whether the card's newest event already has this status and reason. */
static leal_err newest_event_says(struct ledger *l, int64_t card_id, enum ledger_card_status status,
                                  const char *reason, bool *says)
{
    struct store_stmt *st;
    int row;
    leal_err err;
    *says = false;
    if ((err =
             store_prep_once(l,
                             "SELECT status, reason FROM card_event WHERE card_id = ?1 ORDER BY id "
                             "DESC LIMIT 1",
                             &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, card_id);
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        const unsigned char *s = store_col_str(st, 0), *r = store_col_str(st, 1);
        *says = s && r && strcmp((const char *)s, ledger_card_status_name(status)) == 0 &&
                strcmp((const char *)r, reason) == 0;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_card_verdict(struct ledger *l, int64_t card_id, const char *reason,
                             const char *operator_name, bool *blocked)
{
    struct ledger_card c;
    bool says;
    leal_err err;
    *blocked = false;
    if (reason == NULL || reason[0] == '\0' || operator_name == NULL)
        return LEAL_E_ARG;
    if ((err = ledger_text_ok(l, "reason", reason)) != LEAL_OK ||
        (err = ledger_text_ok(l, "operator", operator_name)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        return store_tx_end(l, err);
    if (c.status == LEDGER_CARD_PENDING) {
        store_set_msg(l, "card %lld is %s", (long long)card_id, ledger_card_status_name(c.status));
        return store_tx_end(l, LEAL_E_CARD_STATUS_CHANGE);
    }
    if (c.status == LEDGER_CARD_ACTIVE) {
        err = store_exec_i64(
            l, "UPDATE card SET status = 'blocked', updated_at = ?2 WHERE card_id = ?1",
            I64S(card_id, ledger_now()));
        if (err == LEAL_OK)
            err = card_event_add(l, card_id, LEDGER_CARD_BLOCKED, reason, operator_name);
        *blocked = err == LEAL_OK;
    } else if ((err = newest_event_says(l, card_id, c.status, reason, &says)) == LEAL_OK && !says) {
        err = card_event_add(l, card_id, c.status, reason, operator_name);
    }
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *blocked = false;
    return err;
}

/* ---- Card key versions (KEYS.md rotation) ---- */

leal_err ledger_card_keys_get(struct ledger *l, int64_t card_id, uint8_t versions[LEDGER_KEY_ROLES])
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = store_prep_i64(l, CARD_KEYS_SQL, &st, I64S(card_id));
    memset(versions, 0, LEDGER_KEY_ROLES);
    while (err == LEAL_OK && (err = store_step(l, st, &row)) == LEAL_OK && row) {
        int64_t role = store_col_i64(st, 0), version = store_col_i64(st, 1);
        if (role >= 1 && role <= LEDGER_KEY_ROLES && version >= 1 && version <= 255)
            versions[role - 1] = (uint8_t)version;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_card_keys_set(struct ledger *l, int64_t card_id,
                              const uint8_t versions[LEDGER_KEY_ROLES])
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_find_row(l, "SELECT 1 FROM card WHERE card_id = ?1", card_id, "card", &st);
    store_finalize(st);
    for (int r = 0; err == LEAL_OK && r < LEDGER_KEY_ROLES; r++)
        if (versions[r] != 0)
            err = store_exec_i64(
                l,
                "INSERT INTO card_key(card_id, role, version) VALUES (?1, ?2, ?3) ON "
                "CONFLICT (card_id, role) DO UPDATE SET version = excluded.version",
                I64S(card_id, r + 1, versions[r]));
    return store_tx_end(l, err);
}

leal_err ledger_card_keys_count(struct ledger *l, int64_t program_id, int role, int version,
                                int64_t *cards, int64_t *unknown)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = store_prep_i64(l, CARD_KEYS_COUNT_SQL, &st, I64S(program_id, role, version));
    *cards = *unknown = 0;
    if (err == LEAL_OK && (err = store_step(l, st, &row)) == LEAL_OK && row) {
        *cards = store_col_i64(st, 0);
        *unknown = store_col_i64(st, 1);
    }
    store_finalize(st);
    return err;
}

leal_err ledger_card_rewrite_put(struct ledger *l, int64_t card_id, const uint8_t *span, size_t len)
{
    if (span == NULL || len == 0 || len > 256)
        return LEAL_E_ARG;
    return store_write(l,
                       "INSERT INTO card_identity_rewrite(card_id, span, created_at) VALUES (?1, "
                       "?2, ?3) ON CONFLICT (card_id) DO UPDATE SET span = excluded.span, "
                       "created_at = excluded.created_at",
                       SVALS(SV_I64(card_id), SV_BLOB(span, len), SV_I64(ledger_now())), NULL);
}

leal_err ledger_card_rewrite_find(struct ledger *l, const uint8_t *uid, size_t uid_len, int nth,
                                  int64_t *card_id, struct ledger_span *span)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err;
    *card_id = 0;
    span->len = 0;
    if (uid == NULL || uid_len == 0 || uid_len > LEAL_MAX_UID || nth < 0)
        return LEAL_E_ARG;
    if ((err = store_prep_once(l, CARD_REWRITE_SQL, &st)) != LEAL_OK)
        return err;
    store_bind_blob(st, 1, uid, uid_len);
    store_bind_i64(st, 2, nth);
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        size_t n = (size_t)store_col_bytes(st, 1);
        if (n <= span->cap) {
            *card_id = store_col_i64(st, 0);
            memcpy(span->data, store_col_blob(st, 1), n);
            span->len = n;
        }
    }
    store_finalize(st);
    return err;
}

leal_err ledger_card_rewrite_drop(struct ledger *l, int64_t card_id)
{
    return store_exec_i64(l, "DELETE FROM card_identity_rewrite WHERE card_id = ?1", I64S(card_id));
}

leal_err ledger_terminal_program(struct ledger *l, int64_t terminal_id, int64_t *program_id)
{
    struct store_stmt *st;
    leal_err err = store_find_row(l,
                                  "SELECT s.program_id FROM terminal t JOIN store s ON s.id = "
                                  "t.store_id WHERE t.id = ?1",
                                  terminal_id, "terminal", &st);
    *program_id = err == LEAL_OK ? store_col_i64(st, 0) : 0;
    store_finalize(st);
    return err;
}

leal_err ledger_terminal_site(struct ledger *l, int64_t terminal_id,
                              struct ledger_terminal_site *out)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    err = store_find_row(l,
                         "SELECT s.id, s.name, s.timezone FROM terminal t JOIN store s ON s.id = "
                         "t.store_id WHERE t.id = ?1",
                         terminal_id, "terminal", &st);
    if (err == LEAL_OK) {
        out->store_id = store_col_i64(st, 0);
        store_col_text(st, 1, out->store_name, sizeof out->store_name);
        store_col_text(st, 2, out->timezone, sizeof out->timezone);
    }
    store_finalize(st);
    return err;
}

static void card_event_row(struct store_stmt *st, struct ledger_card_event *e)
{
    char t[32];
    memset(e, 0, sizeof *e);
    e->id = store_col_i64(st, 0);
    e->card_id = store_col_i64(st, 1);
    e->at = store_col_i64(st, 2);
    store_col_text(st, 3, t, sizeof t);
    if (ledger_card_status_parse(t, &e->status) != LEAL_OK)
        e->status = 0;
    store_col_text(st, 4, e->reason, sizeof e->reason);
    store_col_text(st, 5, e->operator_name, sizeof e->operator_name);
}

static leal_err card_events(struct ledger *l, const char *sql, int64_t key, ledger_card_event_cb cb,
                            void *ctx)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l, sql, &st, I64S(key))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_card_event e;
        card_event_row(st, &e);
        if (cb(ctx, &e) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_card_history(struct ledger *l, int64_t card_id, ledger_card_event_cb cb, void *ctx)
{
    struct ledger_card c;
    leal_err err = ledger_card_find_by_id(l, card_id, &c);
    if (err != LEAL_OK)
        return err;
    return card_events(l, CARD_HISTORY_SQL, card_id, cb, ctx);
}

leal_err ledger_card_hotlist(struct ledger *l, int64_t program_id, ledger_card_event_cb cb,
                             void *ctx)
{
    return card_events(l, CARD_HOTLIST_SQL, program_id, cb, ctx);
}
