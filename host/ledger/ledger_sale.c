/*
 * ledger_sale.c - online sales and refunds through the rules engine (see
 * ledger_sale.h): the account's state derived from the ledger, the engine's
 * answer posted and recorded, in one transaction each.
 */
#include "ledger_sale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amount.h"
#include "cardlayout/records/state.h"
#include "keys/base/buf.h"
#include "keys/base/hex.h"
#include "ledger_sale_sql.h"
#include "store.h"

/* ---- Local time ---- */

/* The process's TZ is set for one localtime_r and put back: the CLI is one
 * thread, and nothing else reads TZ meanwhile. */
leal_err ledger_local_civil(const char *tz, int64_t at, struct rules_civil *out)
{
    char saved[256];
    const char *old = getenv("TZ");
    bool had = old != NULL;
    time_t t = (time_t)at;
    struct tm tm;
    bool ok;

    memset(out, 0, sizeof *out);
    if (ledger_timezone_check(tz) != LEAL_OK)
        return LEAL_E_TIMEZONE;
    snprintf(saved, sizeof saved, "%s", had ? old : "");
    if (setenv("TZ", tz, 1) != 0)
        return LEAL_E_TIMEZONE;
    tzset();
    ok = localtime_r(&t, &tm) != NULL;
    if (had)
        (void)setenv("TZ", saved, 1);
    else
        (void)unsetenv("TZ");
    tzset();
    if (!ok || tm.tm_year + 1900 < RULES_MIN_YEAR || tm.tm_year + 1900 > RULES_MAX_YEAR)
        return LEAL_E_RULES_SALE;
    out->year = (uint16_t)(tm.tm_year + 1900);
    out->month = (uint8_t)(tm.tm_mon + 1);
    out->day = (uint8_t)tm.tm_mday;
    out->hour = (uint8_t)tm.tm_hour;
    out->minute = (uint8_t)tm.tm_min;
    out->second = (uint8_t)(tm.tm_sec > 59 ? 59 : tm.tm_sec); /* a leap second reads :59 */
    return LEAL_OK;
}

static void civil_date(const struct rules_civil *c, char out[16])
{
    snprintf(out, 16, "%04u-%02u-%02u", (unsigned)c->year % 10000u, (unsigned)c->month % 100u,
             (unsigned)c->day % 100u);
}

static void civil_time(const struct rules_civil *c, char out[16])
{
    snprintf(out, 16, "%02u:%02u:%02u", (unsigned)c->hour % 100u, (unsigned)c->minute % 100u,
             (unsigned)c->second % 100u);
}

/* n digits at s (the forms civil_date and civil_time write); 0 if not digits. */
static unsigned digits(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    return v;
}

static void civil_parse(const char *date, const char *time, struct rules_civil *c)
{
    memset(c, 0, sizeof *c);
    if (strlen(date) != 10 || strlen(time) != 8)
        return;
    *c = (struct rules_civil){(uint16_t)digits(date, 4),    (uint8_t)digits(date + 5, 2),
                              (uint8_t)digits(date + 8, 2), (uint8_t)digits(time, 2),
                              (uint8_t)digits(time + 3, 2), (uint8_t)digits(time + 6, 2)};
}

void ledger_stamp_asset(unsigned i, char out[LEDGER_MAX_ASSET])
{
    snprintf(out, LEDGER_MAX_ASSET, "STAMP:%u", (i % RULES_STAMP_CARDS) + 1u);
}

/* ---- Categories ---- */

static bool category_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= LEDGER_CATEGORY_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

leal_err ledger_category_add(struct ledger *l, int64_t program_id, const char *name, int64_t *code)
{
    int64_t next = 0, taken = 0;
    leal_err err;

    l->msg[0] = '\0';
    if (!category_name_ok(name)) {
        store_set_msg(l, "a category name is 1 to 32 of a-z 0-9 _ -");
        return LEAL_E_TEXT;
    }
    if (*code < 0 || *code > 65535)
        return LEAL_E_RANGE;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program");
    if (err == LEAL_OK && *code == 0)
        err = store_query_int(
            l, "SELECT coalesce(max(code), 0) + 1 FROM sale_category WHERE program_id = ?1",
            I64S(program_id), &next);
    if (err == LEAL_OK && *code == 0)
        *code = next;
    if (err == LEAL_OK)
        err = store_query_int(l,
                              "SELECT count(*) FROM sale_category WHERE program_id = ?1 AND "
                              "code = ?2",
                              I64S(program_id, *code), &taken);
    if (err == LEAL_OK && (taken || *code > 65535)) {
        store_set_msg(l, "category code %lld is taken in program %lld", (long long)*code,
                      (long long)program_id);
        err = LEAL_E_DUPLICATE_ID;
    }
    if (err == LEAL_OK)
        err =
            store_write(l, "INSERT INTO sale_category(program_id, code, name) VALUES (?1, ?2, ?3)",
                        SVALS(SV_I64(program_id), SV_I64(*code), SV_TEXT(name)), NULL);
    if (err == LEAL_E_DUPLICATE_ID && strstr(l->msg, "name")) /* UNIQUE (program, name) */
        store_set_msg(l, "program %lld already has a category '%s'", (long long)program_id, name);
    return store_tx_end_id(l, err, code);
}

leal_err ledger_category_code(struct ledger *l, int64_t program_id, const char *name,
                              uint16_t *code)
{
    struct store_stmt *st;
    leal_err err;
    int row;
    *code = 0;
    if ((err = store_prep_once(l,
                               "SELECT code FROM sale_category WHERE program_id = ?1 AND name = ?2",
                               &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(program_id), SV_TEXT(name ? name : "")));
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        *code = (uint16_t)store_col_i64(st, 0);
    store_finalize(st);
    if (err == LEAL_OK && !row) {
        store_set_msg(l, "program %lld has no category '%s'", (long long)program_id,
                      name ? name : "");
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

leal_err ledger_category_name(struct ledger *l, int64_t program_id, uint16_t code,
                              char name[LEDGER_CATEGORY_NAME])
{
    struct store_stmt *st;
    leal_err err;
    int row;
    name[0] = '\0';
    if ((err =
             store_prep_i64(l, "SELECT name FROM sale_category WHERE program_id = ?1 AND code = ?2",
                            &st, I64S(program_id, code))) != LEAL_OK)
        return err;
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        store_col_text(st, 0, name, LEDGER_CATEGORY_NAME);
    store_finalize(st);
    return err;
}

leal_err ledger_category_each(struct ledger *l, int64_t program_id, ledger_category_cb cb,
                              void *ctx)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(
             l, "SELECT code, name FROM sale_category WHERE program_id = ?1 ORDER BY code", &st,
             I64S(program_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        char name[LEDGER_CATEGORY_NAME];
        store_col_text(st, 1, name, sizeof name);
        if (cb(ctx, (uint16_t)store_col_i64(st, 0), name) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

/* ---- The account's rules state ---- */

static int64_t clamp(int64_t v, int64_t hi)
{
    return v < 0 ? 0 : v > hi ? hi : v;
}

uint16_t ledger_sale_utc_period(int64_t at)
{
    time_t t = (time_t)at;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 100)
        return 1;
    return (uint16_t)clamp((int64_t)(tm.tm_year - 100) * 12 + tm.tm_mon + 1, 65535);
}

/* The state's period: the newest a sale or refund of the account before
 * instant `before` rolled to. An account welcomed at the desk (card issue
 * --welcome-points) counts as having earned from that month on, with empty
 * buckets: period 0 means "never welcomed", and the engine's welcome is
 * given only then (one welcome per account, RULES.md 3). */
static leal_err state_period(struct ledger *l, int64_t account_id, int64_t before, uint16_t *period)
{
    int64_t a = 0, b = 0, w = 0;
    leal_err err = store_query_int(l, SALE_PERIOD_SQL, I64S(account_id, before), &a);
    if (err == LEAL_OK)
        err = store_query_int(l, SALE_REFUND_PERIOD_SQL, I64S(account_id, before), &b);
    if (err == LEAL_OK && a == 0 && b == 0)
        err = store_query_int(l, SALE_DESK_WELCOME_SQL, I64S(account_id, before), &w);
    if (w > 0)
        a = ledger_sale_utc_period(w);
    *period = (uint16_t)clamp(a > b ? a : b, 65535);
    return err;
}

leal_err ledger_sale_period(struct ledger *l, int64_t account_id, uint16_t *period)
{
    *period = 0;
    return state_period(l, account_id, INT64_MAX, period);
}

/* Each bucket: the units the account's sales of that period put there,
 * less what refunds took back, all before instant `before` (a full bucket
 * stops at 65535, as on a card). */
static leal_err state_buckets(struct ledger *l, int64_t account_id, int64_t before,
                              struct state_body *s)
{
    int64_t sum[STATE_BUCKETS] = {0};
    struct store_stmt *st;
    leal_err err;
    if (s->period == 0)
        return LEAL_OK;
    err = store_prep_i64(
        l, SALE_BUCKETS_SQL, &st,
        I64S(account_id, (int64_t)s->period - (STATE_BUCKETS - 1), s->period, before));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        int64_t k = s->period - store_col_i64(st, 0);
        if (k >= 0 && k < STATE_BUCKETS)
            sum[k] += store_col_i64(st, 1);
    }
    store_finalize(st);
    for (unsigned k = 0; k < STATE_BUCKETS; k++)
        s->buckets[k] = (uint16_t)clamp(sum[k], 65535);
    return err;
}

/* What each program rule gave the account on the local date. */
static leal_err state_today(struct ledger *l, const struct rules_program *p, int64_t account_id,
                            const struct rules_civil *local, struct rules_card *out)
{
    struct store_stmt *st;
    char date[16];
    leal_err err;
    civil_date(local, date);
    if ((err = store_prep_once(l, SALE_TODAY_SQL, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(account_id), SV_TEXT(date)));
    while (store_next_row(l, st, &err)) {
        int64_t id = store_col_i64(st, 0), pts = store_col_i64(st, 1);
        for (unsigned i = 0; i < p->n_rules && i < RULES_MAX_RULES; i++)
            if ((int64_t)p->rules[i].id == id)
                out->rule_points_today[i] = (uint32_t)clamp(pts, UINT32_MAX);
    }
    store_finalize(st);
    return err;
}

/* The balance row itself (not the write transaction's cache: this is also
 * called outside one). */
static leal_err balance_read(struct ledger *l, int64_t account_id, const char *asset, int64_t *v)
{
    struct store_stmt *st;
    leal_err err;
    int row;
    *v = 0;
    if ((err = store_prep(l, ST_BALANCE_GET, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(account_id), SV_TEXT(asset)));
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        *v = store_col_i64(st, 0);
    store_reset(st);
    return err;
}

leal_err ledger_sale_state(struct ledger *l, const struct rules_program *p, int64_t account_id,
                           const struct rules_civil *local, struct rules_card *out)
{
    uint32_t window = 0;
    int64_t v;
    leal_err err;

    memset(out, 0, sizeof *out);
    if (p == NULL || local == NULL)
        return LEAL_E_ARG;
    if ((err = balance_read(l, account_id, "PTS", &v)) != LEAL_OK)
        return err;
    out->state.points = (uint32_t)clamp(v, UINT32_MAX);
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        char asset[LEDGER_MAX_ASSET];
        ledger_stamp_asset(i, asset);
        if ((err = balance_read(l, account_id, asset, &v)) != LEAL_OK)
            return err;
        out->state.stamps[i] = (uint8_t)clamp(v, 255);
    }
    if ((err = state_period(l, account_id, INT64_MAX, &out->state.period)) != LEAL_OK ||
        (err = state_buckets(l, account_id, INT64_MAX, &out->state)) != LEAL_OK ||
        (err = state_today(l, p, account_id, local, out)) != LEAL_OK)
        return err;
    for (unsigned k = 0; k < STATE_BUCKETS; k++)
        window += out->state.buckets[k];
    out->state.tier = rules_tier_for(p, window);
    return LEAL_OK;
}

/* The sum of the account's lines of asset in entries before instant `before`. */
static leal_err lines_before(struct ledger *l, int64_t account_id, const char *asset,
                             int64_t before, int64_t *v)
{
    struct store_stmt *st;
    leal_err err;
    int row;
    *v = 0;
    if ((err = store_prep_once(l, SALE_LINES_BEFORE_SQL, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(account_id), SV_TEXT(asset), SV_I64(before)));
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row)
        *v = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

leal_err ledger_sale_state_before(struct ledger *l, const struct rules_program *p,
                                  int64_t account_id, int64_t before, struct state_body *out)
{
    uint32_t window = 0;
    int64_t v;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = lines_before(l, account_id, "PTS", before, &v)) != LEAL_OK)
        return err;
    out->points = (uint32_t)clamp(v, UINT32_MAX);
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        char asset[LEDGER_MAX_ASSET];
        ledger_stamp_asset(i, asset);
        if ((err = lines_before(l, account_id, asset, before, &v)) != LEAL_OK)
            return err;
        out->stamps[i] = (uint8_t)clamp(v, 255);
    }
    if ((err = state_period(l, account_id, before, &out->period)) != LEAL_OK ||
        (err = state_buckets(l, account_id, before, out)) != LEAL_OK)
        return err;
    for (unsigned k = 0; k < STATE_BUCKETS; k++)
        window += out->buckets[k];
    out->tier = rules_tier_for(p, window);
    return LEAL_OK;
}

leal_err ledger_sale_tier_now(struct ledger *l, const struct rules_program *p, int64_t account_id,
                              int64_t now, struct ledger_sale_tier *out)
{
    struct state_body s;
    uint16_t period = ledger_sale_utc_period(now);
    leal_err err = ledger_sale_state_before(l, p, account_id, now + 1, &s);
    memset(out, 0, sizeof *out);
    if (err != LEAL_OK)
        return err;
    /* Months since the state's period have put nothing in their buckets. */
    unsigned shift = s.period > 0 && period > s.period ? (unsigned)(period - s.period) : 0;
    for (unsigned i = 0; i + shift < STATE_BUCKETS; i++)
        out->spent += s.buckets[i];
    out->tier = rules_tier_for(p, out->spent);
    out->points = s.points;
    return LEAL_OK;
}

/* ---- Posting ---- */

/* The entry's lines, built up; zero amounts are left out. */
struct lines {
    struct ledger_line v[LEDGER_MAX_LINES];
    size_t n;
};

static void line_add(struct lines *ls, int64_t account_id, const char *asset, int64_t amount)
{
    struct ledger_line *ln;
    if (amount == 0 || ls->n >= LEDGER_MAX_LINES)
        return;
    ln = &ls->v[ls->n++];
    memset(ln, 0, sizeof *ln);
    ln->account_id = account_id;
    snprintf(ln->asset, sizeof ln->asset, "%s", asset);
    ln->amount = amount;
}

/* amount of asset from program account `from` to the customer's account. */
static void line_pair(struct lines *ls, int64_t account_id, int64_t from, const char *asset,
                      int64_t amount)
{
    line_add(ls, account_id, asset, amount);
    line_add(ls, from, asset, -amount);
}

struct prog_accounts {
    int64_t points_issued, stamps_issued, stamps_redeemed;
};

static leal_err prog_accounts_get(struct ledger *l, int64_t program_id, struct prog_accounts *a)
{
    leal_err err = ledger_program_account(l, program_id, "points_issued", &a->points_issued);
    if (err == LEAL_OK)
        err = ledger_program_account(l, program_id, "stamps_issued", &a->stamps_issued);
    if (err == LEAL_OK)
        err = ledger_program_account(l, program_id, "stamps_redeemed", &a->stamps_redeemed);
    return err;
}

/* Posts the lines as one entry inside the caller's transaction (none: *id 0). */
static leal_err post_lines(struct ledger *l, struct ledger_entry *e, const struct lines *ls,
                           int64_t *id)
{
    char hash[65];
    bool replayed = false;
    leal_err err;
    *id = 0;
    if (ls->n == 0)
        return LEAL_OK;
    e->lines = ls->v;
    e->nlines = ls->n;
    if ((err = ledger_entry_check(l, e)) != LEAL_OK ||
        (err = ledger_entry_hash(l->crypto, e, hash)) != LEAL_OK ||
        (err = ledger_post_locked(l, e, hash, id, &replayed)) != LEAL_OK)
        return err;
    if (replayed) {
        /* The sale's own key is new, so its entry's key cannot be taken. */
        store_set_msg(l, "entry key %s is already entry %lld's", e->request_id, (long long)*id);
        return LEAL_E_IDEMPOTENCY_CONFLICT;
    }
    return LEAL_OK;
}

static leal_err put_i64(struct buf_writer *w, int64_t v)
{
    return buf_put_be64(w, (uint64_t)v);
}

/* SHA-256 (hex) of a request's canonical content: magic then integers, each
 * 8 bytes big-endian. What a retry must repeat to be the same request. */
static leal_err content_hash(struct ledger *l, const char *magic, const int64_t *v, size_t n,
                             char hex[65])
{
    uint8_t enc[32 + 8 * (8 + 3 * RULES_MAX_ITEMS)], md[32];
    struct buf_writer w;
    leal_err err;
    buf_writer_init(&w, enc, sizeof enc);
    err = buf_put_bytes(&w, (const uint8_t *)magic, strlen(magic));
    for (size_t i = 0; err == LEAL_OK && i < n; i++)
        err = put_i64(&w, v[i]);
    if (err == LEAL_OK)
        err = l->crypto->sha256(enc, buf_writer_len(&w), md);
    if (err != LEAL_OK)
        return err;
    return leal_hex_encode(md, sizeof md, false, hex, 65);
}

static leal_err sale_hash(struct ledger *l, const struct ledger_sale_request *rq, char hex[65])
{
    int64_t v[6 + 3 * RULES_MAX_ITEMS];
    size_t n = 0;
    v[n++] = rq->account_id;
    v[n++] = rq->card_id;
    v[n++] = rq->store_id;
    v[n++] = rq->at;
    v[n++] = rq->amount_cents;
    v[n++] = rq->n_items;
    for (unsigned i = 0; i < rq->n_items && i < RULES_MAX_ITEMS; i++) {
        v[n++] = rq->items[i].category;
        v[n++] = rq->items[i].quantity;
        v[n++] = rq->items[i].amount_cents;
    }
    return content_hash(l, "leal-sale-v1", v, n, hex);
}

static leal_err request_ok(struct ledger *l, const char *request_id, const char *operator_name)
{
    size_t n = request_id ? strlen(request_id) : 0;
    leal_err err;
    if (n == 0 || n > LEDGER_SALE_MAX_REQUEST) {
        store_set_msg(l, "a request id is 1 to %d characters", LEDGER_SALE_MAX_REQUEST);
        return LEAL_E_TEXT;
    }
    if ((err = ledger_text_ok(l, "request id", request_id)) != LEAL_OK)
        return err;
    if (ledger_empty(operator_name)) {
        store_set_msg(l, "a sale or refund names its operator");
        return LEAL_E_REASON_REQUIRED;
    }
    return ledger_text_ok(l, "operator", operator_name);
}

/* What the sale is about: the account (from the card if need be), its
 * program, the store's program and zone. */
struct sale_ctx {
    const struct ledger_sale_request *rq;
    int64_t account_id, program_id, at;
    char tz[72];
    char hash[65];
    struct prog_accounts pa;
    struct ledger_sale_result *out;
};

static leal_err sale_card(struct ledger *l, struct sale_ctx *c)
{
    struct ledger_card card;
    leal_err err = ledger_card_find_by_id(l, c->rq->card_id, &card);
    if (err != LEAL_OK)
        return err;
    if (card.status != LEDGER_CARD_ACTIVE) {
        store_set_msg(l, "card %lld is %s", (long long)card.card_id,
                      ledger_card_status_name(card.status));
        return LEAL_E_CARD_BLOCKED;
    }
    if (c->account_id != 0 && c->account_id != card.account_id) {
        store_set_msg(l, "card %lld belongs to account %lld, not %lld", (long long)card.card_id,
                      (long long)card.account_id, (long long)c->account_id);
        return LEAL_E_USAGE;
    }
    c->account_id = card.account_id;
    return LEAL_OK;
}

static leal_err sale_refs(struct ledger *l, struct sale_ctx *c)
{
    struct ledger_account a;
    struct store_stmt *st;
    int64_t store_prog;
    leal_err err;

    c->account_id = c->rq->account_id;
    if (c->rq->card_id != 0 && (err = sale_card(l, c)) != LEAL_OK)
        return err;
    if ((err = ledger_account_get(l, c->account_id, &a)) != LEAL_OK)
        return err;
    if (a.kind == LEDGER_ACCOUNT_PROGRAM) {
        store_set_msg(l, "account %lld is the program's own, not a customer's", (long long)a.id);
        return LEAL_E_USAGE;
    }
    c->program_id = a.program_id;
    if ((err = store_find_row(l, "SELECT program_id, timezone FROM store WHERE id = ?1",
                              c->rq->store_id, "store", &st)) != LEAL_OK) {
        store_finalize(st);
        return err;
    }
    store_prog = store_col_i64(st, 0);
    store_col_text(st, 1, c->tz, sizeof c->tz);
    store_finalize(st);
    if (store_prog != c->program_id) {
        store_set_msg(l, "store %lld is not in account %lld's program %lld",
                      (long long)c->rq->store_id, (long long)a.id, (long long)c->program_id);
        return LEAL_E_WRONG_PROGRAM;
    }
    return prog_accounts_get(l, c->program_id, &c->pa);
}

/* The earn entry: points to the account as lots, stamps given and the
 * stamps a reward at the goal used up. */
static leal_err sale_entry(struct ledger *l, struct sale_ctx *c, const struct rules_result *r,
                           int64_t *entry_id)
{
    struct ledger_entry e;
    struct lines ls;
    char key[8 + LEDGER_SALE_MAX_REQUEST];
    ls.n = 0;
    line_pair(&ls, c->account_id, c->pa.points_issued, "PTS", r->points - c->out->points_settled);
    for (unsigned i = 0; i < c->rq->rules->n_stamps && i < RULES_STAMP_CARDS; i++) {
        char asset[LEDGER_MAX_ASSET];
        ledger_stamp_asset(i, asset);
        line_pair(&ls, c->account_id, c->pa.stamps_issued, asset, r->earned.stamps[i]);
        line_pair(&ls, c->pa.stamps_redeemed, c->account_id, asset,
                  (int64_t)r->earned.rewards[i] * c->rq->rules->stamps[i].goal);
    }
    memset(&e, 0, sizeof e);
    snprintf(key, sizeof key, "sale:%s", c->rq->request_id);
    e.program_id = c->program_id;
    e.kind = "earn";
    e.at = c->at;
    e.store_id = c->rq->store_id;
    e.request_id = key;
    e.operator_name = c->rq->operator_name;
    e.reason = "sale";
    e.spend_cents = c->rq->amount_cents;
    e.card_id = c->rq->card_id;
    return post_lines(l, &e, &ls, entry_id);
}

static leal_err sale_insert(struct ledger *l, struct sale_ctx *c, const struct rules_result *r,
                            int64_t entry_id, int64_t *id)
{
    uint8_t body[STATE_BODY_LEN];
    struct buf_writer w;
    char date[16], time[16];
    leal_err err;
    buf_writer_init(&w, body, sizeof body);
    if ((err = state_body_put(&w, &r->after)) != LEAL_OK)
        return err;
    civil_date(&c->out->local, date);
    civil_time(&c->out->local, time);
    return store_write(
        l,
        "INSERT INTO sale(program_id, account_id, card_id, store_id, at, local_date, local_time, "
        "amount_cents, request_id, content_hash, entry_id, rules_version, points, period, units, "
        "period_after, tier_before, tier_after, state_after, owed_settled) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        SVALS(SV_I64(c->program_id), SV_I64(c->account_id), SV_I64_OR_NULL(c->rq->card_id),
              SV_I64(c->rq->store_id), SV_I64(c->at), SV_TEXT(date), SV_TEXT(time),
              SV_I64(c->rq->amount_cents), SV_TEXT(c->rq->request_id), SV_TEXT(c->hash),
              SV_I64_OR_NULL(entry_id), SV_I64(c->rq->rules_version), SV_I64(r->points),
              SV_I64(r->earned.period), SV_I64(r->earned.units), SV_I64(r->after.period),
              SV_I64(r->tier_before), SV_I64(r->after.tier), SV_BLOB(body, sizeof body),
              SV_I64(c->out->points_settled)),
        id);
}

static leal_err stamp_insert(struct ledger *l, int64_t sale_id, int64_t refund_id, unsigned i,
                             const int64_t v[3])
{
    if (v[0] == 0 && v[1] == 0 && v[2] == 0)
        return LEAL_OK;
    return store_exec_i64(l,
                          "INSERT INTO sale_stamp(sale_id, refund_id, card, stamps, rewards, "
                          "short) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          I64S(sale_id, refund_id, (int64_t)i + 1, v[0], v[1], v[2]));
}

/* The sale's items, its lines per rule and its stamps. */
static leal_err sale_details(struct ledger *l, const struct ledger_sale_request *rq, int64_t id,
                             const struct rules_result *r)
{
    leal_err err = LEAL_OK;
    for (unsigned i = 0; err == LEAL_OK && i < rq->n_items; i++)
        err = store_exec_i64(l,
                             "INSERT INTO sale_item(sale_id, n, category, quantity, amount_cents) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
                             I64S(id, (int64_t)i, rq->items[i].category, rq->items[i].quantity,
                                  rq->items[i].amount_cents));
    for (unsigned i = 0; err == LEAL_OK && i < r->n_lines; i++)
        err = store_exec_i64(
            l,
            "INSERT INTO sale_line(sale_id, n, source, rule_id, points) VALUES "
            "(?1, ?2, ?3, ?4, ?5)",
            I64S(id, (int64_t)i, r->lines[i].source, (int64_t)r->lines[i].id, r->lines[i].points));
    for (unsigned i = 0; err == LEAL_OK && i < RULES_STAMP_CARDS; i++) {
        const int64_t v[3] = {r->earned.stamps[i], r->earned.rewards[i], 0};
        err = stamp_insert(l, id, 0, i, v);
    }
    return err;
}

/* A sale's stamps (refund_id 0) or a refund's, per stamp card. */
static leal_err stamps_load(struct ledger *l, int64_t sale_id, int64_t refund_id, int64_t v[][3])
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l,
                              "SELECT card, stamps, rewards, short FROM sale_stamp WHERE sale_id "
                              "= ?1 AND refund_id = ?2",
                              &st, I64S(sale_id, refund_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        int64_t k = store_col_i64(st, 0) - 1;
        if (k >= 0 && k < RULES_STAMP_CARDS)
            for (int j = 0; j < 3; j++)
                v[k][j] = store_col_i64(st, j + 1);
    }
    store_finalize(st);
    return err;
}

#define SALE_COLUMNS                                                                               \
    "id, coalesce(entry_id, 0), account_id, local_date, local_time, amount_cents, points, "        \
    "period, units, tier_before, state_after, content_hash, owed_settled FROM sale"

/* A recorded sale into out (its lines, earned, tier and state after). */
static leal_err sale_load(struct ledger *l, struct store_stmt *st, struct ledger_sale_result *out,
                          char hash[65])
{
    struct rules_result *r = &out->r;
    struct buf_reader rd;
    int64_t v[RULES_STAMP_CARDS][3] = {{0}};
    leal_err err;

    out->sale_id = store_col_i64(st, 0);
    out->entry_id = store_col_i64(st, 1);
    out->account_id = store_col_i64(st, 2);
    civil_parse((const char *)store_col_str(st, 3), (const char *)store_col_str(st, 4),
                &out->local);
    r->earned.amount_cents = store_col_i64(st, 5);
    r->points = r->earned.points = store_col_i64(st, 6);
    r->earned.period = (uint16_t)store_col_i64(st, 7);
    r->earned.units = (uint16_t)store_col_i64(st, 8);
    r->tier_before = (uint8_t)store_col_i64(st, 9);
    buf_reader_init(&rd, store_col_blob(st, 10), (size_t)store_col_bytes(st, 10));
    if ((err = state_body_get(&rd, &r->after)) != LEAL_OK)
        return LEAL_E_DB_CORRUPT;
    store_col_text(st, 11, hash, 65);
    out->points_settled = store_col_i64(st, 12);
    if ((err = stamps_load(l, out->sale_id, 0, v)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        r->earned.stamps[i] = (uint16_t)v[i][0];
        r->earned.rewards[i] = (uint16_t)v[i][1];
    }
    return LEAL_OK;
}

static leal_err sale_lines_load(struct ledger *l, struct ledger_sale_result *out)
{
    struct rules_result *r = &out->r;
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(
             l, "SELECT source, rule_id, points FROM sale_line WHERE sale_id = ?1 ORDER BY n", &st,
             I64S(out->sale_id))) != LEAL_OK)
        return err;
    r->n_lines = 0;
    while (store_next_row(l, st, &err) && r->n_lines < RULES_MAX_LINES) {
        struct rules_line *ln = &r->lines[r->n_lines++];
        ln->source = (uint8_t)store_col_i64(st, 0);
        ln->id = (uint32_t)store_col_i64(st, 1);
        ln->points = store_col_i64(st, 2);
    }
    store_finalize(st);
    return err;
}

/* The sale already posted with this request id: *found, and out filled if
 * its content is the same (else LEAL_E_IDEMPOTENCY_CONFLICT). */
static leal_err sale_replay(struct ledger *l, const struct sale_ctx *c, bool *found)
{
    struct store_stmt *st;
    char old[65];
    leal_err err;
    int row;
    *found = false;
    if ((err = store_prep_once(l, "SELECT " SALE_COLUMNS " WHERE request_id = ?1", &st)) != LEAL_OK)
        return err;
    store_bind_text(st, 1, c->rq->request_id);
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row) {
        *found = true;
        err = sale_load(l, st, c->out, old);
    }
    store_finalize(st);
    if (err != LEAL_OK || !*found)
        return err;
    if (strcmp(old, c->hash) != 0) {
        store_set_msg(l, "request id '%s' is sale %lld's, with other content", c->rq->request_id,
                      (long long)c->out->sale_id);
        return LEAL_E_IDEMPOTENCY_CONFLICT;
    }
    c->out->replayed = true;
    return sale_lines_load(l, c->out);
}

leal_err ledger_sale_points_owed(struct ledger *l, int64_t account_id, int64_t *owed)
{
    leal_err err;
    *owed = 0;
    err = store_query_int(l, SALE_OWED_SQL, I64S(account_id), owed);
    if (*owed < 0)
        *owed = 0;
    return err;
}

static leal_err sale_locked(struct ledger *l, struct sale_ctx *c)
{
    struct ledger_sale_result *out = c->out;
    struct rules_sale sale;
    int64_t owed;
    bool found;
    leal_err err;

    if ((err = sale_replay(l, c, &found)) != LEAL_OK || found)
        return err;
    if ((err = sale_refs(l, c)) != LEAL_OK)
        return err;
    if ((err = ledger_local_civil(c->tz, c->at, &out->local)) != LEAL_OK) {
        store_set_msg(l, "the sale's time in %s", c->tz);
        return err;
    }
    if ((err = ledger_sale_state(l, c->rq->rules, c->account_id, &out->local, &out->before)) !=
        LEAL_OK)
        return err;
    memset(&sale, 0, sizeof sale);
    sale.amount_cents = c->rq->amount_cents;
    sale.store_id = (uint32_t)c->rq->store_id;
    sale.local = out->local;
    sale.n_items = c->rq->n_items;
    memcpy(sale.items, c->rq->items, sizeof sale.items);
    if ((err = rules_earn(c->rq->rules, &out->before, &sale, &out->r)) != LEAL_OK) {
        store_set_msg(l, "the rules engine refused the sale");
        return err;
    }
    out->account_id = c->account_id;
    /* Owed points are settled first (RULES.md 6): credited less, balance after less. */
    if ((err = ledger_sale_points_owed(l, c->account_id, &owed)) != LEAL_OK)
        return err;
    out->points_settled = owed < out->r.points ? owed : out->r.points;
    out->r.after.points -= (uint32_t)out->points_settled;
    if ((err = sale_entry(l, c, &out->r, &out->entry_id)) != LEAL_OK ||
        (err = sale_insert(l, c, &out->r, out->entry_id, &out->sale_id)) != LEAL_OK)
        return err;
    return sale_details(l, c->rq, out->sale_id, &out->r);
}

leal_err ledger_sale_post(struct ledger *l, const struct ledger_sale_request *rq,
                          struct ledger_sale_result *out)
{
    struct sale_ctx c;
    leal_err err;

    memset(out, 0, sizeof *out);
    memset(&c, 0, sizeof c);
    l->msg[0] = '\0';
    if (rq == NULL || rq->rules == NULL || rq->store_id <= 0 || rq->at < 0 ||
        (rq->account_id <= 0 && rq->card_id <= 0) || rq->n_items > RULES_MAX_ITEMS)
        return LEAL_E_ARG;
    if ((err = request_ok(l, rq->request_id, rq->operator_name)) != LEAL_OK)
        return err;
    c.rq = rq;
    c.out = out;
    c.at = rq->at ? rq->at : ledger_now();
    if ((err = sale_hash(l, rq, c.hash)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_tx_end(l, sale_locked(l, &c));
    if (err != LEAL_OK)
        memset(out, 0, sizeof *out);
    return err;
}

leal_err ledger_sale_program(struct ledger *l, int64_t sale_id, int64_t *program_id)
{
    struct store_stmt *st;
    leal_err err;
    l->msg[0] = '\0';
    err = store_find_row(l, "SELECT program_id FROM sale WHERE id = ?1", sale_id, "sale", &st);
    *program_id = err == LEAL_OK ? store_col_i64(st, 0) : 0;
    store_finalize(st);
    return err;
}

leal_err ledger_sale_earned(struct ledger *l, int64_t sale_id, struct rules_earned *out)
{
    int64_t v[RULES_STAMP_CARDS][3] = {{0}};
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    err = store_find_row(l, "SELECT amount_cents, points, period, units FROM sale WHERE id = ?1",
                         sale_id, "sale", &st);
    if (err == LEAL_OK) {
        out->amount_cents = store_col_i64(st, 0);
        out->points = store_col_i64(st, 1);
        out->period = (uint16_t)store_col_i64(st, 2);
        out->units = (uint16_t)store_col_i64(st, 3);
    }
    store_finalize(st);
    if (err == LEAL_OK)
        err = stamps_load(l, sale_id, 0, v);
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        out->stamps[i] = (uint16_t)v[i][0];
        out->rewards[i] = (uint16_t)v[i][1];
    }
    return err;
}

/* ---- Refunds ---- */

struct refund_ctx {
    const struct ledger_refund_request *rq;
    int64_t at, program_id, sale_entry, store_id;
    char tz[72];
    char hash[65];
    struct rules_earned earned;
    struct ledger_refund_result *out;
};

/* The sale being refunded: what it gave, its program, store zone, and how
 * much of it was refunded already. */
static leal_err refund_sale(struct ledger *l, struct refund_ctx *c)
{
    struct ledger_refund_result *out = c->out;
    int64_t v[RULES_STAMP_CARDS][3] = {{0}};
    struct store_stmt *st;
    leal_err err;

    err = store_find_row(
        l,
        "SELECT s.program_id, s.account_id, coalesce(s.entry_id, 0), "
        "s.amount_cents, s.points, s.period, s.units, t.timezone, s.store_id FROM sale s "
        "JOIN store t ON t.id = s.store_id WHERE s.id = ?1",
        c->rq->sale_id, "sale", &st);
    if (err == LEAL_OK) {
        c->program_id = store_col_i64(st, 0);
        out->account_id = store_col_i64(st, 1);
        c->sale_entry = store_col_i64(st, 2);
        c->earned.amount_cents = out->sale_cents = store_col_i64(st, 3);
        c->earned.points = store_col_i64(st, 4);
        c->earned.period = (uint16_t)store_col_i64(st, 5);
        c->earned.units = (uint16_t)store_col_i64(st, 6);
        store_col_text(st, 7, c->tz, sizeof c->tz);
        c->store_id = store_col_i64(st, 8);
    }
    store_finalize(st);
    if (err == LEAL_OK)
        err = stamps_load(l, c->rq->sale_id, 0, v);
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        c->earned.stamps[i] = (uint16_t)v[i][0];
        c->earned.rewards[i] = (uint16_t)v[i][1];
    }
    if (err == LEAL_OK)
        err = store_query_int(
            l, "SELECT coalesce(sum(amount_cents), 0) FROM sale_refund WHERE sale_id = ?1",
            I64S(c->rq->sale_id), &out->already_cents);
    out->sale_id = c->rq->sale_id;
    return err;
}

/* This refund's amount: what was asked, or all that is left; never more. */
static leal_err refund_amount(struct ledger *l, struct refund_ctx *c)
{
    struct ledger_refund_result *out = c->out;
    int64_t left = out->sale_cents - out->already_cents;
    char a[AMOUNT_FORMAT_MAX], b[AMOUNT_FORMAT_MAX];
    if (left <= 0) {
        store_set_msg(l, "sale %lld (%s) is refunded in full", (long long)out->sale_id,
                      amount_text(out->sale_cents, a));
        return LEAL_E_RULES_REFUND;
    }
    out->amount_cents = c->rq->amount_cents ? c->rq->amount_cents : left;
    if (out->amount_cents > left) {
        store_set_msg(l, "sale %lld has %s left to refund, not %s", (long long)out->sale_id,
                      amount_text(left, a), amount_text(out->amount_cents, b));
        return LEAL_E_RULES_REFUND;
    }
    return LEAL_OK;
}

/* The refund entry: stamp rewards reversed first (they give stamps back,
 * so the account never dips below zero), then what it takes back. */
static leal_err refund_entry(struct ledger *l, struct refund_ctx *c, const struct prog_accounts *pa,
                             int64_t *entry_id)
{
    const struct rules_refund_result *r = &c->out->r;
    int64_t acct = c->out->account_id;
    struct ledger_entry e;
    struct lines ls;
    char key[16 + LEDGER_SALE_MAX_REQUEST];
    ls.n = 0;
    for (unsigned i = 0; i < c->rq->rules->n_stamps && i < RULES_STAMP_CARDS; i++) {
        char asset[LEDGER_MAX_ASSET];
        ledger_stamp_asset(i, asset);
        line_pair(&ls, acct, pa->stamps_redeemed, asset,
                  (int64_t)r->rewards_reversed[i] * c->rq->rules->stamps[i].goal);
    }
    line_pair(&ls, pa->points_issued, acct, "PTS", r->points_back);
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        char asset[LEDGER_MAX_ASSET];
        ledger_stamp_asset(i, asset);
        line_pair(&ls, pa->stamps_issued, acct, asset,
                  (int64_t)r->stamps_back[i] - r->stamps_short[i]);
    }
    memset(&e, 0, sizeof e);
    snprintf(key, sizeof key, "refund:%s", c->rq->request_id);
    e.program_id = c->program_id;
    e.kind = "refund";
    e.at = c->at;
    e.store_id = c->store_id; /* a refund is taken at the sale's store, in its time */
    e.request_id = key;
    e.operator_name = c->rq->operator_name;
    e.reason = "sale refund";
    e.spend_cents = -c->out->amount_cents;
    e.reverses = c->sale_entry;
    if (ls.n > 0 && c->sale_entry == 0) {
        store_set_msg(l, "sale %lld gave nothing, yet its refund takes back",
                      (long long)c->rq->sale_id);
        return LEAL_E_LEDGER_MISMATCH;
    }
    return post_lines(l, &e, &ls, entry_id);
}

static leal_err refund_insert(struct ledger *l, struct refund_ctx *c, const char *date)
{
    struct ledger_refund_result *out = c->out;
    leal_err err = store_write(
        l,
        "INSERT INTO sale_refund(sale_id, account_id, at, local_date, amount_cents, request_id, "
        "content_hash, entry_id, points_back, points_short, units_back, period_after) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        SVALS(SV_I64(out->sale_id), SV_I64(out->account_id), SV_I64(c->at), SV_TEXT(date),
              SV_I64(out->amount_cents), SV_TEXT(c->rq->request_id), SV_TEXT(c->hash),
              SV_I64_OR_NULL(out->entry_id), SV_I64(out->r.points_back),
              SV_I64(out->r.points_short), SV_I64(out->r.units_back), SV_I64(out->r.after.period)),
        &out->refund_id);
    for (unsigned i = 0; err == LEAL_OK && i < RULES_STAMP_CARDS; i++) {
        const int64_t v[3] = {out->r.stamps_back[i], out->r.rewards_reversed[i],
                              out->r.stamps_short[i]};
        err = stamp_insert(l, out->sale_id, out->refund_id, i, v);
    }
    return err;
}

/* The refund already posted with this request id (see sale_replay). */
static leal_err refund_replay(struct ledger *l, struct refund_ctx *c, bool *found)
{
    struct ledger_refund_result *out = c->out;
    int64_t v[RULES_STAMP_CARDS][3] = {{0}};
    struct store_stmt *st;
    char old[65];
    leal_err err;
    int row;
    *found = false;
    if ((err = store_prep_once(l, SALE_REFUND_BY_REQUEST_SQL, &st)) != LEAL_OK)
        return err;
    store_bind_text(st, 1, c->rq->request_id);
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        *found = true;
        out->refund_id = store_col_i64(st, 0);
        out->sale_id = store_col_i64(st, 1);
        out->account_id = store_col_i64(st, 2);
        out->amount_cents = store_col_i64(st, 3);
        out->entry_id = store_col_i64(st, 4);
        out->r.points_back = store_col_i64(st, 5);
        out->r.points_short = store_col_i64(st, 6);
        out->r.units_back = (uint16_t)store_col_i64(st, 7);
        store_col_text(st, 8, old, sizeof old);
        out->already_cents = store_col_i64(st, 9);
        out->sale_cents = store_col_i64(st, 10);
    }
    store_finalize(st);
    if (err != LEAL_OK || !*found)
        return err;
    if (strcmp(old, c->hash) != 0) {
        store_set_msg(l, "request id '%s' is refund %lld's, with other content", c->rq->request_id,
                      (long long)out->refund_id);
        return LEAL_E_IDEMPOTENCY_CONFLICT;
    }
    out->replayed = true;
    if ((err = ledger_sale_points_owed(l, out->account_id, &out->points_owed)) != LEAL_OK)
        return err;
    err = stamps_load(l, out->sale_id, out->refund_id, v);
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        out->r.stamps_back[i] = (uint16_t)v[i][0];
        out->r.rewards_reversed[i] = (uint16_t)v[i][1];
        out->r.stamps_short[i] = (uint16_t)v[i][2];
    }
    return err;
}

static leal_err refund_locked(struct ledger *l, struct refund_ctx *c)
{
    struct ledger_refund_result *out = c->out;
    struct rules_refund rf;
    struct rules_card card;
    struct prog_accounts pa;
    char date[16];
    bool found;
    leal_err err;

    if ((err = refund_replay(l, c, &found)) != LEAL_OK || found)
        return err;
    if ((err = refund_sale(l, c)) != LEAL_OK || (err = refund_amount(l, c)) != LEAL_OK ||
        (err = prog_accounts_get(l, c->program_id, &pa)) != LEAL_OK)
        return err;
    memset(&rf, 0, sizeof rf);
    if ((err = ledger_local_civil(c->tz, c->at, &rf.local)) != LEAL_OK) {
        store_set_msg(l, "the refund's time in %s", c->tz);
        return err;
    }
    if ((err = ledger_sale_state(l, c->rq->rules, out->account_id, &rf.local, &card)) != LEAL_OK)
        return err;
    rf.original = c->earned;
    rf.already_refunded_cents = out->already_cents;
    rf.refund_cents = out->amount_cents;
    if ((err = rules_refund(c->rq->rules, &card.state, &rf, &out->r)) != LEAL_OK) {
        store_set_msg(l, "the rules engine refused the refund");
        return err;
    }
    civil_date(&rf.local, date);
    if ((err = refund_entry(l, c, &pa, &out->entry_id)) != LEAL_OK ||
        (err = refund_insert(l, c, date)) != LEAL_OK)
        return err;
    return ledger_sale_points_owed(l, out->account_id, &out->points_owed);
}

static leal_err refund_hash(struct ledger *l, const struct ledger_refund_request *rq, char hex[65])
{
    const int64_t v[3] = {rq->sale_id, rq->amount_cents, rq->at};
    return content_hash(l, "leal-refund-v1", v, 3, hex);
}

leal_err ledger_sale_refund(struct ledger *l, const struct ledger_refund_request *rq,
                            struct ledger_refund_result *out)
{
    struct refund_ctx c;
    leal_err err;

    memset(out, 0, sizeof *out);
    memset(&c, 0, sizeof c);
    l->msg[0] = '\0';
    if (rq == NULL || rq->rules == NULL || rq->sale_id <= 0 || rq->amount_cents < 0 || rq->at < 0)
        return LEAL_E_ARG;
    if ((err = request_ok(l, rq->request_id, rq->operator_name)) != LEAL_OK)
        return err;
    c.rq = rq;
    c.out = out;
    c.at = rq->at ? rq->at : ledger_now();
    if ((err = refund_hash(l, rq, c.hash)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_tx_end(l, refund_locked(l, &c));
    if (err != LEAL_OK)
        memset(out, 0, sizeof *out);
    return err;
}
