/*
 * ledger_segment.c - segments and customers' tags (see ledger_segment.h).
 */
#include "ledger_segment.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

#define DAY_SECONDS 86400
#define SEG_MAX_POINTS 1000000000000LL
#define SEG_MAX_CENTS 100000000000LL

/* The entries that are a visit: the customer was at a till or a terminal. */
#define VISIT_KINDS "('earn', 'redeem', 'topup', 'spend', 'gift_sale')"

bool ledger_segment_word_ok(const char *s, size_t cap)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n + 1 >= cap || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n > 0;
}

static leal_err why_set(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return LEAL_E_SEGMENT_FILTER;
}

leal_err ledger_segment_check(const struct ledger_segment *s, char *why, size_t cap)
{
    static const char *const channels[] = {"email", "sms", "phone", "post", "whatsapp"};
    bool known = false;
    if (!ledger_segment_word_ok(s->name, LEDGER_SEGMENT_NAME))
        return why_set(why, cap, "a segment's name is 1 to 63 letters, digits, '_', '.' or '-'");
    if (s->program_id < 1)
        return why_set(why, cap, "a segment belongs to a program (--program ID)");
    if ((s->has & LEDGER_SEG_TIER) && (s->tier < 0 || s->tier > 255))
        return why_set(why, cap, "--tier is a tier's number, 0 (none) to 255");
    if ((s->has & LEDGER_SEG_STORE) && s->store_id < 1)
        return why_set(why, cap, "--store is a store's id");
    if ((s->has & LEDGER_SEG_VISIT_BEFORE) && (s->has & LEDGER_SEG_VISIT_AFTER) &&
        s->visit_after + DAY_SECONDS >= s->visit_before)
        return why_set(why, cap,
                       "--last-visit-after must be at least a day before --last-visit-before: "
                       "no day lies between them");
    if ((s->has & LEDGER_SEG_SPEND) &&
        (s->spend_min_cents < 0 || s->spend_min_cents > SEG_MAX_CENTS || s->spend_window_days < 1 ||
         s->spend_window_days > 3660))
        return why_set(why, cap,
                       "--spend-min is euros (0 or more) and --spend-window 1 to 3660 days; "
                       "give both");
    if (((s->has & LEDGER_SEG_POINTS_ABOVE) &&
         (s->points_above < -SEG_MAX_POINTS || s->points_above > SEG_MAX_POINTS)) ||
        ((s->has & LEDGER_SEG_POINTS_BELOW) &&
         (s->points_below < -SEG_MAX_POINTS || s->points_below > SEG_MAX_POINTS)))
        return why_set(why, cap, "--points-above and --points-below are whole points");
    if ((s->has & LEDGER_SEG_POINTS_ABOVE) && (s->has & LEDGER_SEG_POINTS_BELOW) &&
        s->points_above + 1 >= s->points_below)
        return why_set(why, cap,
                       "--points-above must be below --points-below less one: no balance lies "
                       "strictly between them");
    if ((s->has & LEDGER_SEG_BIRTHDAY) && (s->birthday_month < 1 || s->birthday_month > 12))
        return why_set(why, cap, "--birthday-month is 1 to 12");
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++)
        known = known || strcmp(s->consent, channels[i]) == 0;
    if ((s->has & LEDGER_SEG_CONSENT) && !known)
        return why_set(why, cap, "--consent is email, sms, phone, post or whatsapp");
    if ((s->has & LEDGER_SEG_TAG) && !ledger_segment_word_ok(s->tag, LEDGER_SEGMENT_TAG))
        return why_set(why, cap, "--tag is 1 to 32 letters, digits, '_', '.' or '-'");
    return LEAL_OK;
}

/* ---- The query ------------------------------------------------------------ */

/* Consent row k names purpose P (a bare word). */
#define SEG_PURPOSE(P) "instr(',' || k.purposes || ',', '," P ",') > 0"
/* Per customer of the program not erased: points, tier, last visit and its
 * store, marketing consent by e-mail and by SMS, profiling consent on any
 * channel; the filters then read these columns (m) and the personal row (p). */
static const char base_sql[] =
    "SELECT m.id, coalesce(p.name, ''), coalesce(p.surname, ''), coalesce(p.email, ''), "
    "coalesce(p.phone, ''), m.points, m.tier, coalesce((SELECT s.code FROM store s WHERE s.id = "
    "m.visit_store), ''), coalesce(m.last_visit, 0), "
    "coalesce((SELECT k.granted FROM consent k WHERE k.customer_id = m.id AND k.channel = 'email' "
    "AND " SEG_PURPOSE(
        "marketing") " ORDER BY k.id DESC LIMIT 1), 0), "
                     "coalesce((SELECT k.granted FROM consent k WHERE k.customer_id = m.id AND "
                     "k.channel = 'sms' "
                     "AND " SEG_PURPOSE(
                         "marketing") " ORDER BY k.id DESC LIMIT 1), 0), "
                                      "EXISTS (SELECT 1 FROM consent k WHERE k.customer_id = m.id "
                                      "AND k.granted = 1 AND k.id = "
                                      "(SELECT max(j.id) FROM consent j WHERE j.customer_id = m.id "
                                      "AND j.channel = k.channel AND "
                                      "instr(',' || j.purposes || ',', ',profiling,') > 0)) "
                                      "FROM (SELECT cu.id AS id, "
                                      "(SELECT coalesce(sum(b.amount), 0) FROM account a JOIN "
                                      "balance b ON b.account_id = a.id "
                                      "WHERE a.customer_id = cu.id AND b.asset = 'PTS') AS points, "
                                      "coalesce((SELECT s.tier_after FROM sale s JOIN account a ON "
                                      "a.id = s.account_id WHERE "
                                      "a.customer_id = cu.id AND NOT EXISTS (SELECT 1 FROM entry v "
                                      "WHERE v.reverses = s.entry_id "
                                      "AND v.kind = 'void') ORDER BY s.at DESC, s.id DESC LIMIT "
                                      "1), 0) AS tier, "
                                      "(SELECT e.at FROM account a JOIN line l ON l.account_id = "
                                      "a.id JOIN entry e ON e.id = "
                                      "l.entry_id WHERE a.customer_id = cu.id AND e.kind "
                                      "IN " VISIT_KINDS
                                      " ORDER BY e.at DESC, e.id DESC LIMIT 1) AS last_visit, "
                                      "(SELECT e.store_id FROM account a JOIN line l ON "
                                      "l.account_id = a.id JOIN entry e ON e.id = "
                                      "l.entry_id WHERE a.customer_id = cu.id AND e.kind "
                                      "IN " VISIT_KINDS
                                      " ORDER BY e.at DESC, e.id DESC LIMIT 1) AS visit_store "
                                      "FROM customer cu WHERE cu.program_id = ?1 AND cu.erased_at "
                                      "IS NULL) m "
                                      "LEFT JOIN customer_pii p ON p.customer_id = m.id WHERE 1 = "
                                      "1";

struct sql_buf {
    struct ledger_segment_sql *out;
    bool over;
};

/* Appends text, where each '#' is the next parameter's number. */
static void add(struct sql_buf *b, const char *text)
{
    size_t n = strlen(b->out->sql);
    for (; *text && !b->over; text++) {
        if (*text == '#') {
            int w = snprintf(b->out->sql + n, sizeof b->out->sql - n, "?%d", b->out->n + 1);
            if (w < 0 || (size_t)w >= sizeof b->out->sql - n)
                b->over = true;
            else
                n += (size_t)w;
            continue;
        }
        if (n + 1 >= sizeof b->out->sql)
            b->over = true;
        else
            b->out->sql[n++] = *text;
    }
    b->out->sql[n] = '\0';
}

static void add_i64(struct sql_buf *b, const char *text, int64_t v)
{
    add(b, text);
    if (b->out->n >= LEDGER_SEGMENT_MAX_PARAMS) {
        b->over = true;
        return;
    }
    b->out->param[b->out->n++] = (struct ledger_segment_param){.i = v};
}

static void add_text(struct sql_buf *b, const char *text, const char *v)
{
    add(b, text);
    if (b->out->n >= LEDGER_SEGMENT_MAX_PARAMS) {
        b->over = true;
        return;
    }
    b->out->param[b->out->n++] = (struct ledger_segment_param){.text = true, .s = v};
}

leal_err ledger_segment_sql(const struct ledger_segment *s, int64_t now,
                            struct ledger_segment_sql *out)
{
    struct sql_buf b;
    char why[160];
    leal_err err;
    memset(out, 0, sizeof *out);
    b.out = out;
    b.over = false;
    if ((err = ledger_segment_check(s, why, sizeof why)) != LEAL_OK)
        return err;
    add_i64(&b, base_sql, s->program_id);
    if (s->has & LEDGER_SEG_TIER)
        add_i64(&b, " AND m.tier = #", s->tier);
    if (s->has & LEDGER_SEG_STORE)
        add_i64(&b,
                " AND EXISTS (SELECT 1 FROM account a JOIN line l ON l.account_id = a.id JOIN "
                "entry e ON e.id = l.entry_id WHERE a.customer_id = m.id AND e.kind IN " VISIT_KINDS
                " AND e.store_id = #)",
                s->store_id);
    if (s->has & LEDGER_SEG_VISIT_BEFORE)
        add_i64(&b, " AND m.last_visit < #", s->visit_before);
    if (s->has & LEDGER_SEG_VISIT_AFTER)
        add_i64(&b, " AND m.last_visit >= #", s->visit_after + DAY_SECONDS);
    if (s->has & LEDGER_SEG_SPEND) {
        /* An earn's qualifying spend, counted once however many lines it
         * has on the customer's accounts; a voided earn counts nothing. */
        add_i64(&b,
                " AND (SELECT coalesce(sum(e.spend_cents), 0) FROM entry e WHERE e.id IN (SELECT "
                "l.entry_id FROM account a JOIN line l ON l.account_id = a.id WHERE "
                "a.customer_id = m.id) AND e.kind = 'earn' AND e.card_id IS NOT NULL AND "
                "e.at > #",
                now - s->spend_window_days * DAY_SECONDS);
        add_i64(&b, " AND e.at <= #", now);
        add_i64(&b,
                " AND NOT EXISTS (SELECT 1 FROM entry v WHERE v.reverses = e.id AND v.kind = "
                "'void')) >= #",
                s->spend_min_cents);
    }
    if (s->has & LEDGER_SEG_POINTS_ABOVE)
        add_i64(&b, " AND m.points > #", s->points_above);
    if (s->has & LEDGER_SEG_POINTS_BELOW)
        add_i64(&b, " AND m.points < #", s->points_below);
    if (s->has & LEDGER_SEG_BIRTHDAY)
        /* CASE, not AND: PostgreSQL may cast before it checks the length. */
        add_i64(&b,
                " AND CASE WHEN length(p.birth_date) = 10 THEN CAST(substr(p.birth_date, 6, 2) "
                "AS INTEGER) END = #",
                s->birthday_month);
    if (s->has & LEDGER_SEG_CONSENT)
        add_text(&b,
                 " AND (SELECT k.granted FROM consent k WHERE k.customer_id = m.id AND "
                 "k.channel = # AND " SEG_PURPOSE("marketing") " ORDER BY k.id DESC LIMIT 1) = 1",
                 s->consent);
    if (s->has & LEDGER_SEG_TAG)
        add_text(&b,
                 " AND EXISTS (SELECT 1 FROM customer_tag t WHERE t.customer_id = m.id AND "
                 "t.tag = #)",
                 s->tag);
    add(&b, " ORDER BY m.id");
    return b.over ? LEAL_E_TOO_LARGE : LEAL_OK;
}

/* ---- Stored segments ------------------------------------------------------- */

static const char seg_cols[] =
    "SELECT id, program_id, name, tier, store_id, visit_before, visit_after, spend_min_cents, "
    "spend_window_days, points_above, points_below, birthday_month, consent, tag, created_at "
    "FROM segment";

static void seg_row(struct store_stmt *st, struct ledger_segment *s)
{
    memset(s, 0, sizeof *s);
    s->id = store_col_i64(st, 0);
    s->program_id = store_col_i64(st, 1);
    store_col_text(st, 2, s->name, sizeof s->name);
    /* Column c of the filter f: its value, and the flag if not NULL. */
    static const struct {
        int col;
        unsigned flag;
        size_t off;
    } f[] = {
        {3, LEDGER_SEG_TIER, offsetof(struct ledger_segment, tier)},
        {4, LEDGER_SEG_STORE, offsetof(struct ledger_segment, store_id)},
        {5, LEDGER_SEG_VISIT_BEFORE, offsetof(struct ledger_segment, visit_before)},
        {6, LEDGER_SEG_VISIT_AFTER, offsetof(struct ledger_segment, visit_after)},
        {7, LEDGER_SEG_SPEND, offsetof(struct ledger_segment, spend_min_cents)},
        {8, LEDGER_SEG_SPEND, offsetof(struct ledger_segment, spend_window_days)},
        {9, LEDGER_SEG_POINTS_ABOVE, offsetof(struct ledger_segment, points_above)},
        {10, LEDGER_SEG_POINTS_BELOW, offsetof(struct ledger_segment, points_below)},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (store_col_type(st, f[i].col) != STORE_NULL) {
            s->has |= f[i].flag;
            *(int64_t *)(void *)((char *)s + f[i].off) = store_col_i64(st, f[i].col);
        }
    if (store_col_type(st, 11) != STORE_NULL) {
        s->has |= LEDGER_SEG_BIRTHDAY;
        s->birthday_month = (int)store_col_i64(st, 11);
    }
    if (store_col_type(st, 12) != STORE_NULL) {
        s->has |= LEDGER_SEG_CONSENT;
        store_col_text(st, 12, s->consent, sizeof s->consent);
    }
    if (store_col_type(st, 13) != STORE_NULL) {
        s->has |= LEDGER_SEG_TAG;
        store_col_text(st, 13, s->tag, sizeof s->tag);
    }
    s->created_at = store_col_i64(st, 14);
}

#define OPT_I64(flag, v) (s->has & (flag) ? SV_I64(v) : SV_NULL)
#define OPT_TEXT(flag, v) (s->has & (flag) ? SV_TEXT(v) : SV_NULL)

leal_err ledger_segment_add(struct ledger *l, const struct ledger_segment *s, int64_t *id)
{
    char why[160];
    int64_t owner = 0, taken = 0;
    leal_err err = ledger_segment_check(s, why, sizeof why);
    *id = 0;
    if (err != LEAL_OK) {
        store_set_msg(l, "%s", why);
        return err;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_exists(l, ST_PROGRAM_EXISTS, s->program_id, "program");
    if (err == LEAL_OK && (s->has & LEDGER_SEG_STORE)) {
        err = store_query_cached(l, ST_STORE_GET, s->store_id, &owner);
        if (err == LEAL_OK && owner != s->program_id) {
            store_set_msg(l, "store %lld is not one of program %lld's", (long long)s->store_id,
                          (long long)s->program_id);
            err = LEAL_E_SEGMENT_FILTER;
        }
    }
    if (err == LEAL_OK) {
        struct store_stmt *st = NULL;
        err = store_prep_once(l, "SELECT 1 FROM segment WHERE program_id = ?1 AND name = ?2", &st);
        if (err == LEAL_OK) {
            int row = 0;
            store_bind(st, SVALS(SV_I64(s->program_id), SV_TEXT(s->name)));
            err = store_step(l, st, &row);
            taken = row;
        }
        store_finalize(st);
    }
    if (err == LEAL_OK && taken) {
        store_set_msg(l, "segment %s", s->name);
        err = LEAL_E_SEGMENT_EXISTS;
    }
    if (err == LEAL_OK)
        err = store_write(
            l,
            "INSERT INTO segment(program_id, name, tier, store_id, visit_before, visit_after, "
            "spend_min_cents, spend_window_days, points_above, points_below, birthday_month, "
            "consent, tag, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
            "?12, ?13, ?14)",
            SVALS(SV_I64(s->program_id), SV_TEXT(s->name), OPT_I64(LEDGER_SEG_TIER, s->tier),
                  OPT_I64(LEDGER_SEG_STORE, s->store_id),
                  OPT_I64(LEDGER_SEG_VISIT_BEFORE, s->visit_before),
                  OPT_I64(LEDGER_SEG_VISIT_AFTER, s->visit_after),
                  OPT_I64(LEDGER_SEG_SPEND, s->spend_min_cents),
                  OPT_I64(LEDGER_SEG_SPEND, s->spend_window_days),
                  OPT_I64(LEDGER_SEG_POINTS_ABOVE, s->points_above),
                  OPT_I64(LEDGER_SEG_POINTS_BELOW, s->points_below),
                  OPT_I64(LEDGER_SEG_BIRTHDAY, s->birthday_month),
                  OPT_TEXT(LEDGER_SEG_CONSENT, s->consent), OPT_TEXT(LEDGER_SEG_TAG, s->tag),
                  SV_I64(ledger_now())),
            id);
    return store_tx_end_id(l, err, id);
}

leal_err ledger_segment_get(struct ledger *l, int64_t program_id, const char *name,
                            struct ledger_segment *out)
{
    char sql[512];
    struct store_stmt *st = NULL;
    int row = 0, n = 0;
    leal_err err;
    memset(out, 0, sizeof *out);
    snprintf(sql, sizeof sql, "%s WHERE name = ?1 AND (?2 = 0 OR program_id = ?2) LIMIT 2",
             seg_cols);
    if ((err = store_prep_once(l, sql, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(name), SV_I64(program_id)));
    while (err == LEAL_OK && (err = store_step(l, st, &row)) == LEAL_OK && row) {
        if (n++ == 0)
            seg_row(st, out);
    }
    store_finalize(st);
    if (err == LEAL_OK && n == 0) {
        store_set_msg(l, "segment %s", name);
        err = LEAL_E_SEGMENT_UNKNOWN;
    } else if (err == LEAL_OK && n > 1) {
        store_set_msg(l, "segment %s", name);
        err = LEAL_E_SEGMENT_AMBIGUOUS;
    }
    if (err != LEAL_OK)
        memset(out, 0, sizeof *out);
    return err;
}

leal_err ledger_segment_each(struct ledger *l, int64_t program_id, ledger_segment_cb cb, void *ctx)
{
    char sql[512];
    struct store_stmt *st = NULL;
    struct ledger_segment s;
    int row = 0;
    leal_err err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program");
    if (err != LEAL_OK)
        return err;
    snprintf(sql, sizeof sql, "%s WHERE program_id = ?1 ORDER BY name", seg_cols);
    if ((err = store_prep_once(l, sql, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id)));
    while ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        seg_row(st, &s);
        if (cb(ctx, &s) != 0) {
            store_reset(st);
            break;
        }
    }
    store_finalize(st);
    return err;
}

leal_err ledger_segment_members(struct ledger *l, const struct ledger_segment *s, int64_t now,
                                ledger_segment_member_cb cb, void *ctx)
{
    struct ledger_segment_sql q;
    struct store_val v[LEDGER_SEGMENT_MAX_PARAMS];
    struct store_stmt *st = NULL;
    struct ledger_segment_member m;
    int row = 0;
    bool snapshot;
    char why[160];
    leal_err err = ledger_segment_check(s, why, sizeof why);
    if (err != LEAL_OK) {
        store_set_msg(l, "%s", why);
        return err;
    }
    if ((err = ledger_segment_sql(s, now, &q)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_PROGRAM_EXISTS, s->program_id, "program")) != LEAL_OK)
        return err;
    for (int i = 0; i < q.n; i++)
        v[i] = q.param[i].text ? SV_TEXT(q.param[i].s) : SV_I64(q.param[i].i);
    snapshot = ledger_read_begin(l) == LEAL_OK;
    if ((err = store_prep_once(l, q.sql, &st)) == LEAL_OK) {
        store_bind(st, v, q.n);
        while ((err = store_step(l, st, &row)) == LEAL_OK && row) {
            memset(&m, 0, sizeof m);
            m.customer_id = store_col_i64(st, 0);
            store_col_text(st, 1, m.name, sizeof m.name);
            store_col_text(st, 2, m.surname, sizeof m.surname);
            store_col_text(st, 3, m.email, sizeof m.email);
            store_col_text(st, 4, m.phone, sizeof m.phone);
            m.points = store_col_i64(st, 5);
            m.tier = store_col_i64(st, 6);
            store_col_text(st, 7, m.store, sizeof m.store);
            m.last_visit = store_col_i64(st, 8);
            m.email_ok = store_col_i64(st, 9) == 1;
            m.sms_ok = store_col_i64(st, 10) == 1;
            m.profiling_ok = store_col_i64(st, 11) == 1;
            if (cb(ctx, &m) != 0) {
                store_reset(st);
                break;
            }
        }
    }
    store_finalize(st);
    if (snapshot)
        ledger_read_end(l);
    return err;
}

/* ---- Tags -------------------------------------------------------------------- */

leal_err ledger_customer_tag(struct ledger *l, int64_t customer_id, const char *tag, bool on)
{
    struct store_stmt *st = NULL;
    leal_err err;
    if (!ledger_segment_word_ok(tag, LEDGER_SEGMENT_TAG)) {
        store_set_msg(l, "a tag is 1 to 32 letters, digits, '_', '.' or '-'");
        return LEAL_E_TEXT;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_find_row(l, "SELECT erased_at IS NOT NULL FROM customer WHERE id = ?1", customer_id,
                         "customer", &st);
    if (err == LEAL_OK && store_col_i64(st, 0) != 0) {
        store_set_msg(l, "customer %lld was erased", (long long)customer_id);
        err = LEAL_E_STATE;
    }
    store_finalize(st);
    if (err == LEAL_OK && on)
        err = store_write(l,
                          "INSERT INTO customer_tag(customer_id, tag, at) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT DO NOTHING",
                          SVALS(SV_I64(customer_id), SV_TEXT(tag), SV_I64(ledger_now())), NULL);
    else if (err == LEAL_OK)
        err = store_write(l, "DELETE FROM customer_tag WHERE customer_id = ?1 AND tag = ?2",
                          SVALS(SV_I64(customer_id), SV_TEXT(tag)), NULL);
    return store_tx_end(l, err);
}
