/*
 * ledger_messages.c - message templates and the send log (see
 * ledger_messages.h).
 */
#include "ledger_messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_campaign.h"
#include "ledger_sale.h"
#include "ledger_user.h"
#include "ledger_sql.h"
#include "store.h"
#include "host/grow.h"

int ledger_message_occasion_ok(const char *o)
{
    return o && (strcmp(o, "birthday") == 0 || ledger_message_occasion_days(o) ||
                 ledger_message_occasion_tier(o));
}

int ledger_message_occasion_days(const char *o)
{
    return o &&
           (strcmp(o, "inactive") == 0 || strcmp(o, "expiring") == 0 || strcmp(o, "welcome") == 0);
}

int ledger_message_occasion_tier(const char *o)
{
    return o && (strcmp(o, "tier_up") == 0 || strcmp(o, "tier_down") == 0);
}

const char *ledger_message_tier_base(const char *occasion, char *base, size_t cap)
{
    const char *colon = strchr(occasion, ':');
    if (strncmp(occasion, "tier_", 5) != 0 || !colon)
        return occasion;
    snprintf(base, cap, "%.*s", (int)(colon - occasion), occasion);
    return base;
}

leal_err ledger_message_template_query(struct ledger *l, const char *sql, int64_t program_id,
                                       const char *key, int64_t customer_id,
                                       struct ledger_message_template *out)
{
    struct store_stmt *st = NULL;
    int row = 0;
    memset(out, 0, sizeof *out);
    leal_err err = store_prep_once(l, sql, &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id), SV_TEXT(key), SV_I64(customer_id)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->program_id = program_id;
        store_col_text(st, 0, out->subject, sizeof out->subject);
        store_col_text(st, 1, out->text, sizeof out->text);
        store_col_text(st, 2, out->html, sizeof out->html);
        out->updated_at = store_col_i64(st, 3);
        store_col_text(st, 4, out->lang, sizeof out->lang);
    }
    store_finalize(st);
    if (err == LEAL_OK && !row)
        err = LEAL_E_NOT_FOUND;
    return err;
}

/* Here, beside the template query it shares, so ledger_campaign.c and this
 * file do not call each other. */
leal_err ledger_campaign_text_for(struct ledger *l, int64_t program_id, const char *name,
                                  int64_t customer_id, struct ledger_message_template *out)
{
    /* The same order of languages as the occasions' templates. */
    leal_err err = ledger_message_template_query(
        l,
        "SELECT t.subject, t.body_text, t.body_html, t.updated_at, t.lang FROM "
        "message_campaign_text t JOIN message_campaign c ON c.id = t.campaign_id "
        "WHERE c.program_id = ?1 AND c.name = ?2 ORDER BY " LEDGER_MSG_LANG_ORDER " LIMIT 1",
        program_id, name, customer_id, out);
    snprintf(out->occasion, sizeof out->occasion, "%s%.63s", LEDGER_CAMPAIGN_PREFIX, name);
    if (err == LEAL_E_NOT_FOUND) {
        store_set_msg(l, "campaign %.63s", name);
        err = LEAL_E_CAMPAIGN_UNKNOWN;
    }
    return err;
}

leal_err ledger_message_template_for(struct ledger *l, int64_t program_id, const char *occasion,
                                     int64_t customer_id, struct ledger_message_template *out)
{
    if (strncmp(occasion, LEDGER_CAMPAIGN_PREFIX, strlen(LEDGER_CAMPAIGN_PREFIX)) == 0)
        return ledger_campaign_text_for(l, program_id, occasion + strlen(LEDGER_CAMPAIGN_PREFIX),
                                        customer_id, out);
    char base[LEDGER_MSG_OCCASION];
    /* The customer's language first, then the program's locale, then any. */
    leal_err err = ledger_message_template_query(
        l,
        "SELECT subject, body_text, body_html, updated_at, lang FROM message_template t "
        "WHERE program_id = ?1 AND occasion = ?2 ORDER BY " LEDGER_MSG_LANG_ORDER " LIMIT 1",
        program_id, ledger_message_tier_base(occasion, base, sizeof base), customer_id, out);
    snprintf(out->occasion, sizeof out->occasion, "%s", occasion);
    return err;
}

/* The first column of sql's first row (0 without one), ?1 the program and
 * ?2 the occasion. */
static leal_err occasion_int(struct ledger *l, const char *sql, int64_t program_id,
                             const char *occasion, int64_t *out)
{
    struct store_stmt *st = NULL;
    int row = 0;
    *out = 0;
    leal_err err = store_prep_once(l, sql, &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id), SV_TEXT(occasion)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row)
        *out = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

leal_err ledger_message_template_count(struct ledger *l, int64_t program_id, const char *occasion,
                                       int64_t *n)
{
    return occasion_int(
        l, "SELECT count(*) FROM message_template WHERE program_id = ?1 AND occasion = ?2",
        program_id, occasion, n);
}

leal_err ledger_message_days_get(struct ledger *l, int64_t program_id, const char *occasion,
                                 int64_t *days)
{
    return occasion_int(l,
                        "SELECT days FROM message_occasion WHERE program_id = ?1 AND occasion = ?2",
                        program_id, occasion, days);
}

leal_err ledger_message_lang_set(struct ledger *l, int64_t customer_id, const char *lang)
{
    leal_err err;
    if ((err = ledger_lang_ok(l, lang)) != LEAL_OK || (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "INSERT INTO customer_lang(customer_id, lang, updated_at) "
                      "SELECT id, ?2, ?3 FROM customer WHERE id = ?1 ON CONFLICT (customer_id) "
                      "DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at",
                      SVALS(SV_I64(customer_id), SV_TEXT(lang), SV_I64(ledger_now())), NULL);
    if (err == LEAL_OK)
        err = store_changed(l, "customer", customer_id);
    return store_tx_end(l, err);
}

leal_err ledger_message_zone(struct ledger *l, int64_t program_id, char *tz, size_t cap,
                             char *store_name, size_t name_cap)
{
    struct store_stmt *st = NULL;
    int row = 0;
    snprintf(tz, cap, "UTC");
    snprintf(store_name, name_cap, "%s", "");
    leal_err err = store_prep_i64(
        l, "SELECT timezone, name FROM store WHERE program_id = ?1 ORDER BY id LIMIT 1", &st,
        &program_id, 1);
    if (err == LEAL_OK && (err = store_step(l, st, &row)) == LEAL_OK && row) {
        store_col_text(st, 0, tz, cap);
        store_col_text(st, 1, store_name, name_cap);
    }
    store_finalize(st);
    return err;
}

/* ch.channel as its index in ledger_message_channels. */
#define MSG_CHANNEL_NO "(CASE ch.channel WHEN 'sms' THEN 1 WHEN 'whatsapp' THEN 2 ELSE 0 END)"

const char *const ledger_message_channels[LEDGER_MSG_NCHANNELS] = {"email", "sms", "whatsapp"};

/* ?2's year (YYYY-MM-DD) is a common one: the Gregorian rule in integer
 * arithmetic, which both dialects say alike (SQLite's date() would roll 29
 * February over to 1 March, PostgreSQL's refuses it). */
#define MSG_COMMON_YEAR(Y) "(" Y " % 4 <> 0 OR (" Y " % 100 = 0 AND " Y " % 400 <> 0))"
/* Born on ?2's month and day (YYYY-MM-DD); those born on 29 February on 28
 * February of common years. */
#define MSG_BORN_ON                                                                                \
    "(substr(p.birth_date, 6, 5) = substr(?2, 6, 5) OR "                                           \
    "(substr(p.birth_date, 6, 5) = '02-29' AND substr(?2, 6, 5) = '02-28' AND " MSG_COMMON_YEAR(   \
        "CAST(substr(?2, 1, 4) AS INTEGER)") "))"

leal_err ledger_message_record_birthdays(struct ledger *l, int64_t program_id, const char *day,
                                         int64_t *added)
{
    leal_err err;
    *added = 0;
    if (!day || strlen(day) != 10) {
        store_set_msg(l, "a day is YYYY-MM-DD");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    /* The token comes from randomblob (SQLite's ChaCha20 seeded by the OS;
     * on PostgreSQL its strong random source, schema_pg.c): guessing one
     * would only unsubscribe someone. */
    err = store_write(
        l,
        "INSERT INTO message_send(customer_id, occasion, day, token, state, next_at, "
        "created_at, updated_at, channel) "
        "SELECT c.id, 'birthday', ?2, lower(hex(randomblob(16))), 'pending', ?3, ?3, ?3, "
        "ch.channel FROM " MSG_REACHABLE " AND " MSG_BORN_ON " ORDER BY c.id, ch.channel "
        "ON CONFLICT DO NOTHING",
        SVALS(SV_I64(program_id), SV_TEXT(day), SV_I64(ledger_now())), NULL);
    if (err == LEAL_OK)
        *added = store_changes(l);
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *added = 0;
    return err;
}

/* What a visit is: an entry the customer made at a till or terminal. */
#define MSG_VISIT_KINDS "('earn','redeem','topup','spend')"

/* Per occasion that counts days: (customer, moment, channel number)
 * triples with ?1 the program, ?2 now and ?3 the days; the moment's local
 * day is the period.
 * A lot's moment is the second before it expires: its last day of use. */
static const char *occasion_sql(const char *occasion)
{
    if (strcmp(occasion, "inactive") == 0)
        return "SELECT id, last, chn FROM (SELECT c.id, coalesce((SELECT max(e.at) FROM "
               "account a JOIN line ln ON ln.account_id = a.id JOIN entry e ON e.id = "
               "ln.entry_id WHERE a.customer_id = c.id AND e.kind IN " MSG_VISIT_KINDS
               "), c.created_at) AS last, " MSG_CHANNEL_NO " AS chn FROM " MSG_REACHABLE
               ") AS r WHERE last <= ?2 - ?3 * 86400 ORDER BY id, chn";
    if (strcmp(occasion, "expiring") == 0)
        return "SELECT c.id, o.expires_at - 1, " MSG_CHANNEL_NO " FROM lot o JOIN account a ON "
               "a.id = o.account_id, " MSG_REACHABLE " AND a.customer_id = c.id AND "
               "o.asset = 'PTS' AND o.remaining > 0 AND o.expires_at > ?2 AND o.expires_at <= "
               "?2 + ?3 * 86400 ORDER BY c.id, o.expires_at, 3";
    return "SELECT c.id, c.created_at, " MSG_CHANNEL_NO " FROM " MSG_REACHABLE
           " AND c.created_at >= ?2 - ?3 * 86400 ORDER BY c.id, 3";
}

struct msg_moment {
    int64_t customer_id, at, channel; /* channel: an index in ledger_message_channels */
};

static leal_err local_day(struct ledger *l, const char *tz, int64_t at, char day[11])
{
    struct rules_civil c;
    leal_err err = ledger_local_civil(tz, at, &c);
    if (err != LEAL_OK) {
        store_set_msg(l, "a date in zone %s", tz);
        return err;
    }
    snprintf(day, 11, "%04u-%02u-%02u", (unsigned)c.year % 10000u, (unsigned)c.month % 100u,
             (unsigned)c.day % 100u);
    return LEAL_OK;
}

leal_err ledger_message_rows(struct ledger *l, const char *sql, const struct store_val *v, int nv,
                             struct ledger_msg_rows *out)
{
    struct store_stmt *st = NULL;
    size_t cap = 0, nc = out->ncols;
    leal_err err = store_prep_once(l, sql, &st);
    out->v = NULL;
    out->n = 0;
    if (err != LEAL_OK)
        return err;
    store_bind(st, v, nv);
    while (store_next_row(l, st, &err)) {
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            int64_t *nm = realloc(out->v, ncap * nc * sizeof *nm);
            if (!nm) {
                err = LEAL_E_NO_MEMORY;
                break;
            }
            out->v = nm;
            cap = ncap;
        }
        for (size_t k = 0; k < nc; k++)
            out->v[out->n * nc + k] = store_col_i64(st, (int)k);
        out->n++;
    }
    store_finalize(st);
    if (err != LEAL_OK) {
        free(out->v);
        out->v = NULL;
        out->n = 0;
    }
    return err;
}

/* (customer, moment, channel) triples: ledger_message_rows of three
 * columns. */
static leal_err moments(struct ledger *l, const char *sql, const struct store_val *v, int nv,
                        struct msg_moment **out, size_t *n)
{
    struct ledger_msg_rows rows = {.ncols = 3};
    leal_err err = ledger_message_rows(l, sql, v, nv, &rows);
    *out = NULL;
    *n = 0;
    if (err == LEAL_OK && rows.n > 0) {
        if ((*out = malloc(rows.n * sizeof **out)) == NULL)
            err = LEAL_E_NO_MEMORY;
        for (size_t i = 0; err == LEAL_OK && i < rows.n; i++)
            (*out)[i] = (struct msg_moment){rows.v[3 * i], rows.v[3 * i + 1],
                                            rows.v[3 * i + 2] % LEDGER_MSG_NCHANNELS};
        if (err == LEAL_OK)
            *n = rows.n;
    }
    free(rows.v);
    return err;
}

leal_err ledger_message_bonus_get(struct ledger *l, int64_t program_id, int64_t *points)
{
    struct store_stmt *st = NULL;
    int row = 0;
    *points = 0;
    leal_err err = store_prep_i64(
        l, "SELECT points FROM message_birthday_bonus WHERE program_id = ?1", &st, &program_id, 1);
    if (err == LEAL_OK && (err = store_step(l, st, &row)) == LEAL_OK && row)
        *points = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

leal_err ledger_message_birthday_bonus(struct ledger *l, int64_t program_id, const char *day,
                                       int64_t *posted, int64_t *points)
{
    struct msg_moment *m = NULL;
    size_t n = 0;
    int64_t issued = 0;
    leal_err err;
    *posted = 0;
    if (!day || strlen(day) != 10) {
        store_set_msg(l, "a day is YYYY-MM-DD");
        return LEAL_E_ARG;
    }
    if ((err = ledger_message_bonus_get(l, program_id, points)) != LEAL_OK || *points == 0)
        return err;
    if ((err = ledger_program_account(l, program_id, "points_issued", &issued)) != LEAL_OK)
        return err;
    /* (customer, account) pairs; each post is its own transaction. */
    err = moments(l,
                  "SELECT c.id, c.account_id, 0 FROM customer c JOIN customer_pii p ON "
                  "p.customer_id = c.id WHERE c.program_id = ?1 AND c.erased_at IS NULL AND "
                  "p.birth_date IS NOT NULL AND " MSG_BORN_ON " ORDER BY c.id",
                  SVALS(SV_I64(program_id), SV_TEXT(day)), &m, &n);
    for (size_t i = 0; i < n && err == LEAL_OK; i++) {
        char req[64], ref[32];
        int64_t id = 0;
        bool replayed = false;
        struct ledger_line ln[2] = {{.account_id = m[i].at, .asset = "PTS", .amount = *points},
                                    {.account_id = issued, .asset = "PTS", .amount = -*points}};
        snprintf(req, sizeof req, "birthday:%lld:%.4s", (long long)m[i].customer_id, day);
        snprintf(ref, sizeof ref, "bonus birthday %.4s", day);
        struct ledger_entry e = {.program_id = program_id,
                                 .kind = "adjust",
                                 .request_id = req,
                                 .operator_name = "leal messages",
                                 .reason = "birthday bonus",
                                 .reference = ref,
                                 .lines = ln,
                                 .nlines = 2};
        err = ledger_post(l, &e, &id, &replayed);
        /* The year's bonus is there already (the same, or another amount
         * before the program changed it): never a second one. */
        if (err == LEAL_E_IDEMPOTENCY_CONFLICT)
            err = LEAL_OK;
        else if (err == LEAL_OK && !replayed)
            (*posted)++;
    }
    free(m);
    return err;
}

leal_err ledger_message_record(struct ledger *l, int64_t program_id, const char *occasion,
                               const char *tz, int64_t now, int64_t *added)
{
    struct msg_moment *m = NULL;
    size_t n = 0;
    char day[11];
    int64_t days = 0;
    leal_err err;
    *added = 0;
    if (!ledger_message_occasion_days(occasion)) {
        store_set_msg(l, "days count for inactive, expiring and welcome");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_message_days_get(l, program_id, occasion, &days)) == LEAL_OK && days > 0)
        err = moments(l, occasion_sql(occasion),
                      SVALS(SV_I64(program_id), SV_I64(now), SV_I64(days)), &m, &n);
    /* The day is worked out here, in the program's zone, which SQLite
     * cannot do (the same on both backends); the row's UNIQUE key makes a
     * period's message once. */
    for (size_t i = 0; i < n && err == LEAL_OK; i++)
        if ((err = local_day(l, tz, m[i].at, day)) == LEAL_OK &&
            (err = store_write(l,
                               "INSERT INTO message_send(customer_id, occasion, day, "
                               "token, state, next_at, created_at, updated_at, channel) VALUES "
                               "(?1, ?2, ?3, lower(hex(randomblob(16))), 'pending', ?4, ?4, ?4, "
                               "?5) ON CONFLICT DO NOTHING",
                               SVALS(SV_I64(m[i].customer_id), SV_TEXT(occasion), SV_TEXT(day),
                                     SV_I64(ledger_now()),
                                     SV_TEXT(ledger_message_channels[m[i].channel])),
                               NULL)) == LEAL_OK)
            *added += store_changes(l);
    free(m);
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *added = 0;
    return err;
}

leal_err ledger_message_expiring(struct ledger *l, int64_t customer_id, const char *tz,
                                 const char *day, int64_t now, int64_t *points)
{
    struct store_stmt *st = NULL;
    char d[11];
    const int64_t key[2] = {customer_id, now};
    leal_err err = store_prep_i64(l,
                                  "SELECT o.expires_at, o.remaining FROM lot o JOIN account a ON "
                                  "a.id = o.account_id WHERE a.customer_id = ?1 AND o.asset = "
                                  "'PTS' AND o.remaining > 0 AND o.expires_at > ?2",
                                  &st, key, 2);
    *points = 0;
    while (err == LEAL_OK && store_next_row(l, st, &err)) {
        int64_t at = store_col_i64(st, 0), left = store_col_i64(st, 1);
        if ((err = local_day(l, tz, at - 1, d)) == LEAL_OK && strcmp(d, day) == 0)
            *points += left;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_message_expire_sending(struct ledger *l, int64_t program_id, int64_t now,
                                       int64_t *n)
{
    leal_err err;
    *n = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "UPDATE message_send SET state = 'unknown', updated_at = ?2, error = "
                      "'a run stopped during the send; not sent again' WHERE state = 'sending' "
                      "AND updated_at <= ?2 - ?3 AND customer_id IN "
                      "(SELECT id FROM customer WHERE program_id = ?1)",
                      SVALS(SV_I64(program_id), SV_I64(now), SV_I64(LEDGER_MSG_SENDING_STALE_S)),
                      NULL);
    if (err == LEAL_OK)
        *n = store_changes(l);
    return store_tx_end(l, err);
}

#define MSG_COLS                                                                                   \
    "m.id, m.customer_id, m.occasion, m.day, m.token, m.state, m.attempts, m.next_at, m.error, "   \
    "m.created_at, m.updated_at, m.channel"

static void message_row(struct store_stmt *st, struct ledger_message_send *m)
{
    memset(m, 0, sizeof *m);
    m->id = store_col_i64(st, 0);
    m->customer_id = store_col_i64(st, 1);
    store_col_text(st, 2, m->occasion, sizeof m->occasion);
    store_col_text(st, 3, m->day, sizeof m->day);
    store_col_text(st, 4, m->token, sizeof m->token);
    store_col_text(st, 5, m->state, sizeof m->state);
    m->attempts = store_col_i64(st, 6);
    m->next_at = store_col_i64(st, 7);
    store_col_text(st, 8, m->error, sizeof m->error);
    m->created_at = store_col_i64(st, 9);
    m->updated_at = store_col_i64(st, 10);
    store_col_text(st, 11, m->channel, sizeof m->channel);
}

leal_err ledger_message_due(struct ledger *l, int64_t program_id, int64_t now, const char *occasion,
                            struct ledger_message_send **rows, size_t *n)
{
    struct store_stmt *st = NULL;
    struct ledger_message_send *v = NULL;
    size_t cap = 0;
    leal_err err = store_prep_once(l,
                                   "SELECT " MSG_COLS " FROM message_send m JOIN customer c ON "
                                   "c.id = m.customer_id WHERE c.program_id = ?1 AND (m.state = "
                                   "'pending' OR (m.state = 'failed' AND m.next_at <= ?2)) "
                                   "AND (?3 = '' OR m.occasion = ?3) ORDER BY m.id",
                                   &st);
    *rows = NULL;
    *n = 0;
    if (err == LEAL_OK)
        store_bind(st, SVALS(SV_I64(program_id), SV_I64(now), SV_TEXT(occasion ? occasion : "")));
    while (err == LEAL_OK && store_next_row(l, st, &err)) {
        if ((err = grow_room(&v, &cap, *n, sizeof *v)) != LEAL_OK)
            break;
        message_row(st, &v[(*n)++]);
    }
    store_finalize(st);
    if (err != LEAL_OK) {
        free(v);
        *n = 0;
        return err;
    }
    *rows = v;
    return LEAL_OK;
}

leal_err ledger_message_claim(struct ledger *l, int64_t id, int64_t now, int *won)
{
    leal_err err;
    *won = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    const int64_t v[2] = {id, now};
    err = store_exec_i64(l,
                         "UPDATE message_send SET state = 'sending', attempts = attempts + 1, "
                         "updated_at = ?2 WHERE id = ?1 AND (state = 'pending' OR "
                         "(state = 'failed' AND next_at <= ?2))",
                         v, 2);
    if (err == LEAL_OK)
        *won = store_changes(l) == 1;
    err = store_tx_end(l, err);
    if (err != LEAL_OK)
        *won = 0;
    return err;
}

leal_err ledger_message_finish(struct ledger *l, int64_t id, const char *state, const char *error,
                               int64_t next_at)
{
    leal_err err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(l,
                      "UPDATE message_send SET state = ?2, error = ?3, next_at = ?4, "
                      "updated_at = ?5 WHERE id = ?1 AND state = 'sending'",
                      SVALS(SV_I64(id), SV_TEXT(state), SV_TEXT(error ? error : ""),
                            SV_I64(next_at), SV_I64(ledger_now())),
                      NULL);
    if (err == LEAL_OK)
        err = store_changed(l, "message being sent", id);
    return store_tx_end(l, err);
}

leal_err ledger_message_each(struct ledger *l, int64_t customer_id, ledger_message_cb cb, void *ctx)
{
    struct store_stmt *st = NULL;
    struct ledger_message_send m;
    leal_err err = store_prep_i64(
        l, "SELECT " MSG_COLS " FROM message_send m WHERE m.customer_id = ?1 ORDER BY m.id", &st,
        &customer_id, 1);
    while (err == LEAL_OK && store_next_row(l, st, &err)) {
        message_row(st, &m);
        if (cb(ctx, &m) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

static int token_ok(const char *t)
{
    if (!t || strlen(t) != LEDGER_MSG_TOKEN - 1)
        return 0;
    for (const char *p = t; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

leal_err ledger_message_unsubscribe(struct ledger *l, const char *token, int64_t *customer_id)
{
    struct store_stmt *st = NULL;
    int row = 0;
    int64_t id = 0, who = 0;
    char by[48];
    leal_err err;
    *customer_id = 0;
    if (!token_ok(token))
        return LEAL_E_MESSAGE_TOKEN;
    /* A token names one customer for good, so the look-up needs no
     * transaction of its own; the consent is written in its own. */
    if ((err = store_prep_once(l, "SELECT id, customer_id FROM message_send WHERE token = ?1",
                               &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(token)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        id = store_col_i64(st, 0);
        who = store_col_i64(st, 1);
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    if (!row)
        return LEAL_E_MESSAGE_TOKEN;
    /* A second click, or one after consent was withdrawn another way,
     * records nothing. */
    struct ledger_message_token info;
    if ((err = ledger_message_token_info(l, token, &info)) != LEAL_OK)
        return err;
    if (info.withdrawn) {
        *customer_id = who;
        return LEAL_OK;
    }
    snprintf(by, sizeof by, "message %lld", (long long)id);
    /* The link withdraws both purposes messages have on the channel
     * (marketing and service): stopping them must be as easy as it was to
     * agree (RGPD art. 7(3)). */
    struct ledger_consent_change c = {.channel = info.channel,
                                      .granted = false,
                                      .method = "unsubscribe link",
                                      .recorded_by = by,
                                      .purposes = "marketing,service"};
    if ((err = ledger_consent_add(l, who, &c)) == LEAL_OK)
        *customer_id = who;
    return err;
}

leal_err ledger_message_token_info(struct ledger *l, const char *token,
                                   struct ledger_message_token *out)
{
    struct store_stmt *st = NULL;
    int row = 0;
    memset(out, 0, sizeof *out);
    if (!token_ok(token))
        return LEAL_E_MESSAGE_TOKEN;
    leal_err err = store_prep_once(
        l,
        "SELECT c.id, coalesce((SELECT lang FROM customer_lang WHERE customer_id = c.id), "
        "p.locale), p.name, coalesce((SELECT k.granted FROM consent k WHERE k.customer_id = "
        "c.id AND k.channel = m.channel AND instr(',' || k.purposes || ',', ',marketing,') > 0 "
        "ORDER BY k.id DESC LIMIT 1), 0) = 0 AND coalesce((SELECT k.granted FROM consent k "
        "WHERE k.customer_id = c.id AND k.channel = m.channel AND instr(',' || k.purposes || "
        "',', ',service,') > 0 ORDER BY k.id DESC LIMIT 1), 0) = 0, m.channel "
        "FROM message_send m "
        "JOIN customer c ON c.id = m.customer_id JOIN program p ON p.id = c.program_id "
        "WHERE m.token = ?1",
        &st);
    if (err != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(token)));
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->customer_id = store_col_i64(st, 0);
        store_col_text(st, 1, out->lang, sizeof out->lang);
        store_col_text(st, 2, out->program, sizeof out->program);
        out->withdrawn = store_col_i64(st, 3) != 0;
        store_col_text(st, 4, out->channel, sizeof out->channel);
    }
    store_finalize(st);
    if (err == LEAL_OK && !row)
        err = LEAL_E_MESSAGE_TOKEN;
    return err;
}
