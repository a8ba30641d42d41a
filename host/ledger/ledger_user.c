/*
 * ledger_user.c - the back office's users, sessions and audit log (see ledger_user.h).
 */
#include "ledger_user.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

static const char *const role_names[] = {NULL, "admin", "manager", "staff"};

const char *ledger_role_name(enum ledger_role r)
{
    return r >= LEDGER_ROLE_ADMIN && r <= LEDGER_ROLE_STAFF ? role_names[r] : NULL;
}

leal_err ledger_role_parse(const char *s, enum ledger_role *r)
{
    for (int i = LEDGER_ROLE_ADMIN; i <= LEDGER_ROLE_STAFF; i++)
        if (s && strcmp(s, role_names[i]) == 0) {
            *r = (enum ledger_role)i;
            return LEAL_OK;
        }
    return LEAL_E_WEB_ROLE;
}

static leal_err user_check(struct ledger *l, const struct ledger_user *u)
{
    leal_err err;
    if (u->name[0] == '\0' || strlen(u->name) >= LEDGER_USER_NAME) {
        store_set_msg(l, "a user name has 1 to %d bytes", LEDGER_USER_NAME - 1);
        return LEAL_E_TEXT;
    }
    if ((err = ledger_text_ok(l, "user name", u->name)) != LEAL_OK)
        return err;
    if (u->lang[0] && ledger_lang_ok(l, u->lang) != LEAL_OK)
        return LEAL_E_WEB_LANG;
    if (strlen(u->email) >= LEDGER_USER_EMAIL)
        return LEAL_E_TEXT;
    if (ledger_role_name(u->role) == NULL || u->nstores < 0 || u->nstores > LEDGER_USER_STORES ||
        (u->role == LEDGER_ROLE_ADMIN) != (u->nstores == 0)) {
        store_set_msg(l, "an admin has no stores; a manager or staff member has 1 to %d",
                      LEDGER_USER_STORES);
        return LEAL_E_WEB_ROLE;
    }
    return LEAL_OK;
}

static leal_err user_stores_add(struct ledger *l, const struct ledger_user *u, int64_t id)
{
    leal_err err = LEAL_OK;
    for (int i = 0; i < u->nstores && err == LEAL_OK; i++) {
        if ((err = store_exists(l, ST_STORE_GET, u->stores[i], "store")) != LEAL_OK)
            break;
        err = store_exec_i64(l,
                             "INSERT INTO web_user_store(user_id, store_id) "
                             "VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                             I64S(id, u->stores[i]));
    }
    return err;
}

leal_err ledger_user_add(struct ledger *l, const struct ledger_user *u, int64_t *id)
{
    leal_err err;
    int64_t taken = 0;
    *id = 0;
    if ((err = user_check(l, u)) != LEAL_OK || (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    {
        struct store_stmt *st;
        if ((err = store_prep_once(l, "SELECT count(*) FROM web_user WHERE name = ?1", &st)) !=
            LEAL_OK)
            goto out;
        store_bind_text(st, 1, u->name);
        if (store_next_row(l, st, &err))
            taken = store_col_i64(st, 0);
        store_finalize(st);
        if (err != LEAL_OK)
            goto out;
    }
    if (taken) {
        store_set_msg(l, "user '%s'", u->name);
        err = LEAL_E_WEB_USER_EXISTS;
        goto out;
    }
    if ((err = store_write(l,
                           "INSERT INTO web_user(name, role, pass_hash, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?4)",
                           SVALS(SV_TEXT(u->name), SV_TEXT(ledger_role_name(u->role)),
                                 SV_TEXT(u->pass_hash), SV_I64(ledger_now())),
                           id)) != LEAL_OK)
        goto out;
    if ((err = user_stores_add(l, u, *id)) != LEAL_OK)
        goto out;
    if (u->email[0] && (err = store_write(l, "UPDATE web_user SET email = ?2 WHERE id = ?1",
                                          SVALS(SV_I64(*id), SV_TEXT(u->email)), NULL)) != LEAL_OK)
        goto out;
    if (u->lang[0])
        err = store_exec_i64(l,
                             u->lang[1] == 's' ? "UPDATE web_user SET lang = 'es' WHERE id = ?1"
                                               : "UPDATE web_user SET lang = 'en' WHERE id = ?1",
                             I64S(*id));
    else /* Spanish for a user of a Spanish program; for an admin, when every program is. */
        err = store_exec_i64(l,
                             "UPDATE web_user SET lang = 'es' WHERE id = ?1 AND ("
                             "EXISTS (SELECT 1 FROM web_user_store w JOIN store s ON s.id = "
                             "w.store_id JOIN program p ON p.id = s.program_id WHERE w.user_id = "
                             "?1 AND p.locale = 'es') OR (role = 'admin' AND EXISTS (SELECT 1 "
                             "FROM program WHERE locale = 'es') AND NOT EXISTS (SELECT 1 FROM "
                             "program WHERE locale <> 'es')))",
                             I64S(*id));
out:
    return store_tx_end_id(l, err, id);
}

static leal_err user_stores(struct ledger *l, struct ledger_user *u)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l,
                              "SELECT store_id FROM web_user_store WHERE user_id = ?1 "
                              "ORDER BY store_id",
                              &st, I64S(u->id))) != LEAL_OK)
        return err;
    u->nstores = 0;
    while (store_next_row(l, st, &err))
        if (u->nstores < LEDGER_USER_STORES)
            u->stores[u->nstores++] = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

#define USER_COLS                                                                                  \
    "SELECT id, name, role, pass_hash, disabled, created_at, lang, coalesce(email, '') FROM "      \
    "web_user "

static leal_err user_row(struct store_stmt *st, struct ledger_user *u)
{
    char role[16];
    memset(u, 0, sizeof *u);
    u->id = store_col_i64(st, 0);
    store_col_text(st, 1, u->name, sizeof u->name);
    store_col_text(st, 2, role, sizeof role);
    store_col_text(st, 3, u->pass_hash, sizeof u->pass_hash);
    u->disabled = store_col_i64(st, 4) != 0;
    u->created_at = store_col_i64(st, 5);
    store_col_text(st, 6, u->lang, sizeof u->lang);
    store_col_text(st, 7, u->email, sizeof u->email);
    return ledger_role_parse(role, &u->role) == LEAL_OK ? LEAL_OK : LEAL_E_DB_CORRUPT;
}

/* The user the one-off st (bound, not stepped) finds, with their stores. */
static leal_err user_found(struct ledger *l, struct store_stmt *st, struct ledger_user *out)
{
    leal_err err = LEAL_OK;
    int found = store_next_row(l, st, &err);
    if (found)
        err = user_row(st, out);
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    if (!found)
        return LEAL_E_WEB_NO_USER;
    return user_stores(l, out);
}

leal_err ledger_user_by_name(struct ledger *l, const char *name, struct ledger_user *out)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = store_prep_once(l, USER_COLS "WHERE name = ?1", &st)) != LEAL_OK)
        return err;
    store_bind_text(st, 1, name);
    return user_found(l, st, out);
}

leal_err ledger_user_get(struct ledger *l, int64_t id, struct ledger_user *out)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = store_prep_i64(l, USER_COLS "WHERE id = ?1", &st, I64S(id))) != LEAL_OK)
        return err;
    return user_found(l, st, out);
}

/* One change to the user's row and the end of their sessions, in one transaction. */
static leal_err user_change(struct ledger *l, int64_t id, const char *sql,
                            const struct store_val *v, int n)
{
    struct ledger_user u;
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_user_get(l, id, &u)) == LEAL_OK &&
        (err = store_write(l, sql, v, n, NULL)) == LEAL_OK)
        err = store_exec_i64(l, "DELETE FROM web_session WHERE user_id = ?1", I64S(id));
    return store_tx_end(l, err);
}

leal_err ledger_user_set_password(struct ledger *l, int64_t id, const char *pass_hash)
{
    return user_change(l, id, "UPDATE web_user SET pass_hash = ?2, updated_at = ?3 WHERE id = ?1",
                       SVALS(SV_I64(id), SV_TEXT(pass_hash), SV_I64(ledger_now())));
}

/* The audit line, inside the caller's transaction. */
static leal_err audit_insert(struct ledger *l, const struct ledger_audit_line *a)
{
    return store_write(l,
                       "INSERT INTO audit(at, user_id, actor, action, object, before, after) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                       SVALS(SV_I64(ledger_now()), SV_I64_OR_NULL(a->user_id), SV_TEXT(a->actor),
                             SV_TEXT(a->action), SV_TEXT(a->object), SV_TEXT(a->before),
                             SV_TEXT(a->after)),
                       NULL);
}

/* {"role":R,"stores":[...]} of u into out (LEDGER_USER_STORES ids fit). */
static void role_text(const struct ledger_user *u, char *out, size_t cap)
{
    size_t n =
        (size_t)snprintf(out, cap, "{\"role\":\"%s\",\"stores\":[", ledger_role_name(u->role));
    for (int i = 0; i < u->nstores && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%lld", i ? "," : "", (long long)u->stores[i]);
    if (n < cap)
        snprintf(out + n, cap - n, "]}");
}

leal_err ledger_user_set_role(struct ledger *l, int64_t id, const struct ledger_user *to,
                              int64_t actor_id, const char *actor)
{
    struct ledger_user before, after;
    char object[40], was[LEDGER_USER_STORES * 22 + 48], now[LEDGER_USER_STORES * 22 + 48];
    struct ledger_audit_line a = {actor_id, actor, "user.role", object, was, now};
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_user_get(l, id, &before)) != LEAL_OK)
        goto out;
    after = before;
    after.role = to->role;
    after.nstores = to->nstores;
    if (to->nstores >= 0 && to->nstores <= LEDGER_USER_STORES)
        memcpy(after.stores, to->stores, (size_t)to->nstores * sizeof to->stores[0]);
    if ((err = user_check(l, &after)) != LEAL_OK)
        goto out;
    if ((err = store_write(
             l, "UPDATE web_user SET role = ?2, updated_at = ?3 WHERE id = ?1",
             SVALS(SV_I64(id), SV_TEXT(ledger_role_name(after.role)), SV_I64(ledger_now())),
             NULL)) != LEAL_OK ||
        (err = store_exec_i64(l, "DELETE FROM web_user_store WHERE user_id = ?1", I64S(id))) !=
            LEAL_OK ||
        (err = user_stores_add(l, &after, id)) != LEAL_OK ||
        (err = store_exec_i64(l, "DELETE FROM web_session WHERE user_id = ?1", I64S(id))) !=
            LEAL_OK ||
        (err = user_stores(l, &after)) != LEAL_OK) /* as stored: sorted, once each */
        goto out;
    snprintf(object, sizeof object, "user %lld", (long long)id);
    role_text(&before, was, sizeof was);
    role_text(&after, now, sizeof now);
    err = audit_insert(l, &a);
out:
    return store_tx_end(l, err);
}

leal_err ledger_user_set_disabled(struct ledger *l, int64_t id, bool disabled)
{
    return user_change(l, id, "UPDATE web_user SET disabled = ?2, updated_at = ?3 WHERE id = ?1",
                       SVALS(SV_I64(id), SV_I64(disabled ? 1 : 0), SV_I64(ledger_now())));
}

leal_err ledger_program_zone(struct ledger *l, int64_t program_id, char tz[LEDGER_ZONE])
{
    struct store_stmt *st;
    leal_err err;
    tz[0] = '\0';
    if ((err = store_prep_i64(l,
                              "SELECT min(timezone), count(DISTINCT timezone) FROM store "
                              "WHERE ?1 = 0 OR program_id = ?1",
                              &st, I64S(program_id))) != LEAL_OK)
        return err;
    if (store_next_row(l, st, &err) && store_col_i64(st, 1) == 1)
        store_col_text(st, 0, tz, LEDGER_ZONE);
    store_finalize(st);
    return err;
}

leal_err ledger_lang_ok(struct ledger *l, const char *lang)
{
    if (lang && (strcmp(lang, "en") == 0 || strcmp(lang, "es") == 0))
        return LEAL_OK;
    store_set_msg(l, "language '%s'", lang ? lang : "");
    return LEAL_E_WEB_LANG;
}

leal_err ledger_user_set_lang(struct ledger *l, int64_t id, const char *lang)
{
    leal_err err;
    if ((err = ledger_lang_ok(l, lang)) != LEAL_OK)
        return err;
    return user_change(l, id, "UPDATE web_user SET lang = ?2, updated_at = ?3 WHERE id = ?1",
                       SVALS(SV_I64(id), SV_TEXT(lang), SV_I64(ledger_now())));
}

leal_err ledger_user_set_own_lang(struct ledger *l, int64_t id, const char *lang)
{
    leal_err err;
    if ((err = ledger_lang_ok(l, lang)) != LEAL_OK || (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l, "UPDATE web_user SET lang = ?2, updated_at = ?3 WHERE id = ?1",
                      SVALS(SV_I64(id), SV_TEXT(lang), SV_I64(ledger_now())), NULL);
    if (err == LEAL_OK)
        err = store_changed(l, "user", id);
    return store_tx_end(l, err);
}

leal_err ledger_user_set_email(struct ledger *l, int64_t id, const char *email)
{
    struct ledger_user u;
    leal_err err;
    if (strlen(email) >= LEDGER_USER_EMAIL) {
        store_set_msg(l, "an e-mail address has at most %d bytes", LEDGER_USER_EMAIL - 1);
        return LEAL_E_TEXT;
    }
    if ((err = ledger_text_ok(l, "e-mail address", email)) != LEAL_OK ||
        (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_user_get(l, id, &u)) == LEAL_OK)
        err = store_write(
            l, "UPDATE web_user SET email = nullif(?2, ''), updated_at = ?3 WHERE id = ?1",
            SVALS(SV_I64(id), SV_TEXT(email), SV_I64(ledger_now())), NULL);
    return store_tx_end(l, err);
}

leal_err ledger_reset_add(struct ledger *l, const uint8_t token_hash[LEDGER_SESSION_HASH],
                          int64_t user_id, int64_t now, int64_t expires_at)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l, "DELETE FROM web_reset WHERE expires_at <= ?1", SVALS(SV_I64(now - 86400)),
                      NULL);
    if (err == LEAL_OK)
        err = store_write(l,
                          "INSERT INTO web_reset(token_hash, user_id, created_at, expires_at) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          SVALS(SV_BLOB(token_hash, LEDGER_SESSION_HASH), SV_I64(user_id),
                                SV_I64(now), SV_I64(expires_at)),
                          NULL);
    return store_tx_end(l, err);
}

leal_err ledger_user_mail_program(struct ledger *l, const struct ledger_user *u,
                                  int64_t *program_id)
{
    leal_err err;
    *program_id = 0;
    if (u->role == LEDGER_ROLE_ADMIN)
        err =
            store_query_int(l, "SELECT coalesce(min(program_id), 0) FROM program_mail WHERE ?1 = 0",
                            I64S(0), program_id);
    else
        err = store_query_int(l,
                              "SELECT coalesce((SELECT store.program_id FROM web_user_store JOIN "
                              "store ON store.id = store_id WHERE user_id = ?1 ORDER BY store_id "
                              "LIMIT 1), 0)",
                              I64S(u->id), program_id);
    return err;
}

leal_err ledger_reset_take(struct ledger *l, const uint8_t token_hash[LEDGER_SESSION_HASH],
                           int64_t now, const char *pass_hash, int64_t *user_id)
{
    struct store_stmt *st;
    struct ledger_user u;
    char object[40];
    struct ledger_audit_line a = {0, "", "user.reset", object, NULL, NULL};
    int64_t expires = 0;
    bool used = false;
    int found;
    leal_err err;
    *user_id = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_prep_once(l,
                               "SELECT user_id, expires_at, used_at IS NOT NULL FROM web_reset "
                               "WHERE token_hash = ?1",
                               &st)) != LEAL_OK)
        goto out;
    store_bind_blob(st, 1, token_hash, LEDGER_SESSION_HASH);
    found = store_next_row(l, st, &err);
    if (found) {
        *user_id = store_col_i64(st, 0);
        expires = store_col_i64(st, 1);
        used = store_col_i64(st, 2) != 0;
    }
    store_finalize(st);
    if (err != LEAL_OK)
        goto out;
    if (found && (err = ledger_user_get(l, *user_id, &u)) != LEAL_OK)
        goto out;
    if (!found || used || now >= expires || u.disabled) {
        *user_id = 0;
        err = LEAL_E_WEB_RESET_TOKEN;
        goto out;
    }
    if ((err = store_write(l, "UPDATE web_user SET pass_hash = ?2, updated_at = ?3 WHERE id = ?1",
                           SVALS(SV_I64(u.id), SV_TEXT(pass_hash), SV_I64(ledger_now())), NULL)) !=
            LEAL_OK ||
        (err = store_write(l,
                           "UPDATE web_reset SET used_at = ?2 WHERE user_id = ?1 AND used_at IS "
                           "NULL",
                           SVALS(SV_I64(u.id), SV_I64(now)), NULL)) != LEAL_OK ||
        (err = store_exec_i64(l, "DELETE FROM web_session WHERE user_id = ?1", I64S(u.id))) !=
            LEAL_OK)
        goto out;
    snprintf(object, sizeof object, "user %lld", (long long)u.id);
    a.user_id = u.id;
    a.actor = u.name;
    err = audit_insert(l, &a);
out:
    return store_tx_end(l, err);
}

leal_err ledger_user_each(struct ledger *l, ledger_user_cb cb, void *ctx)
{
    struct store_stmt *st;
    struct ledger_user u;
    leal_err err;
    int64_t next = 0;
    /* One user at a time by id: the stores' query cannot run while the walk holds a row. */
    for (;;) {
        int found;
        if ((err = store_prep_i64(l, USER_COLS "WHERE id > ?1 ORDER BY id LIMIT 1", &st,
                                  I64S(next))) != LEAL_OK)
            return err;
        found = store_next_row(l, st, &err);
        if (found)
            err = user_row(st, &u);
        store_finalize(st);
        if (err != LEAL_OK || !found)
            return err;
        if ((err = user_stores(l, &u)) != LEAL_OK)
            return err;
        next = u.id;
        u.pass_hash[0] = '\0';
        if (cb(ctx, &u) != 0)
            return LEAL_OK;
    }
}

leal_err ledger_user_sees_program(struct ledger *l, const struct ledger_user *u, int64_t program_id,
                                  bool *yes)
{
    int64_t n = 0;
    leal_err err;
    *yes = false;
    if (u->role == LEDGER_ROLE_ADMIN) {
        *yes = true;
        return LEAL_OK;
    }
    err = store_query_int(l,
                          "SELECT count(*) FROM web_user_store JOIN store ON store.id = store_id "
                          "WHERE user_id = ?1 AND store.program_id = ?2",
                          I64S(u->id, program_id), &n);
    *yes = err == LEAL_OK && n > 0;
    return err;
}

leal_err ledger_user_programs(struct ledger *l, const struct ledger_user *u, int64_t *programs,
                              int cap, int *n, bool *all)
{
    struct store_stmt *st;
    leal_err err;
    *n = 0;
    *all = u->role == LEDGER_ROLE_ADMIN;
    if (*all)
        return LEAL_OK;
    if ((err = store_prep_i64(l,
                              "SELECT DISTINCT store.program_id FROM web_user_store JOIN store ON "
                              "store.id = store_id WHERE user_id = ?1 ORDER BY 1",
                              &st, I64S(u->id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err))
        if (*n < cap)
            programs[(*n)++] = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

leal_err ledger_session_add(struct ledger *l, const uint8_t token_hash[LEDGER_SESSION_HASH],
                            int64_t user_id, const char *csrf, int64_t expires_at)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "INSERT INTO web_session(token_hash, user_id, csrf, created_at, expires_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      SVALS(SV_BLOB(token_hash, LEDGER_SESSION_HASH), SV_I64(user_id),
                            SV_TEXT(csrf), SV_I64(ledger_now()), SV_I64(expires_at)),
                      NULL);
    return store_tx_end(l, err);
}

leal_err ledger_session_find(struct ledger *l, const uint8_t token_hash[LEDGER_SESSION_HASH],
                             int64_t now, struct ledger_user *user, char csrf[LEDGER_SESSION_CSRF])
{
    struct store_stmt *st;
    int64_t user_id = 0;
    leal_err err;
    int found;
    csrf[0] = '\0';
    if ((err = store_prep_once(l,
                               "SELECT s.user_id, s.csrf FROM web_session s JOIN web_user u ON "
                               "u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2 "
                               "AND u.disabled = 0",
                               &st)) != LEAL_OK)
        return err;
    store_bind_blob(st, 1, token_hash, LEDGER_SESSION_HASH);
    store_bind_i64(st, 2, now);
    found = store_next_row(l, st, &err);
    if (found) {
        user_id = store_col_i64(st, 0);
        store_col_text(st, 1, csrf, LEDGER_SESSION_CSRF);
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    if (!found)
        return LEAL_E_WEB_SESSION;
    return ledger_user_get(l, user_id, user);
}

leal_err ledger_session_end(struct ledger *l, const uint8_t token_hash[LEDGER_SESSION_HASH],
                            int64_t now)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_write(l, "DELETE FROM web_session WHERE token_hash = ?1 OR expires_at <= ?2",
                           SVALS(SV_BLOB(token_hash, LEDGER_SESSION_HASH), SV_I64(now)), NULL)) !=
        LEAL_OK)
        return store_tx_end(l, err);
    return store_tx_end(l, LEAL_OK);
}

leal_err ledger_audit_add(struct ledger *l, const struct ledger_audit_line *a)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    return store_tx_end(l, audit_insert(l, a));
}

leal_err ledger_audit_each(struct ledger *l, size_t limit, ledger_audit_cb cb, void *ctx)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l,
                              "SELECT id, at, coalesce(user_id, 0), actor, action, object, "
                              "before, after FROM audit ORDER BY id DESC LIMIT ?1",
                              &st, I64S(limit ? (int64_t)limit : INT64_MAX))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_audit_line a = {
            .user_id = store_col_i64(st, 2),
            .actor = (const char *)store_col_str(st, 3),
            .action = (const char *)store_col_str(st, 4),
            .object = (const char *)store_col_str(st, 5),
            .before = (const char *)store_col_str(st, 6),
            .after = (const char *)store_col_str(st, 7),
        };
        if (cb(ctx, store_col_i64(st, 0), store_col_i64(st, 1), &a) != 0)
            break;
    }
    store_finalize(st);
    return err;
}
