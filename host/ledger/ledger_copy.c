/*
 * ledger_copy.c - a ledger copied into an empty one of the other backend,
 * verified entry by entry (see ledger.h, ledger_copy).
 */
#include <stdio.h>
#include <string.h>

#include "keys/base/hex.h"
#include "ledger.h"
#include "store.h"

/* What a copy carries: the tables both schemas hold (schema_pg.c), parents
 * before children, each with its columns and the order its rows go in. A
 * customer and its account name each other: the customer goes first
 * without its account, and a second pass (account_pass: its own statement
 * instead of the INSERT) sets it once the accounts are there. */
struct copy_spec {
    const char *table, *cols, *order;
};

static const struct copy_spec copied[] = {
    {"program",
     "id, code, name, kind, points_per_euro_milli, points_expiry_days, created_at, "
     "purse_cap_cents, classic_stored_value_cap_cents, max_cents_per_operation, "
     "max_units_per_operation, locale",
     "id"},
    {"store", "id, program_id, code, name, timezone, created_at", "id"},
    {"terminal", "id, store_id, name, epoch, created_at, package_version", "id"},
    /* The back office's users, their stores, sessions, reset codes (version
     * 10) and the audit log (version 9: the desk's lines and the users'
     * changes), before the notes and erasures that name a user. */
    {"web_user", "id, name, role, pass_hash, disabled, created_at, updated_at, lang, email", "id"},
    {"web_user_store", "user_id, store_id", "user_id, store_id"},
    {"web_session", "token_hash, user_id, csrf, created_at, expires_at", "token_hash"},
    {"web_reset", "token_hash, user_id, created_at, expires_at, used_at", "token_hash"},
    {"audit", "id, at, user_id, actor, action, object, before, after", "id"},
    {"program_mail",
     "program_id, host, port, tls, sender, sender_name, credentials, ca_file, updated_at",
     "program_id"},
    /* The rule sets and what each package was given (schema_pg.c version 2). */
    {"rule_set", "program_id, version, at, operator, reason, what, encoded", "program_id, version"},
    {"rule_set_name", "program_id, version, part, item, name", "program_id, version, part, item"},
    {"package_caps", "terminal_id, version, cap_day_cents, cap_sync_cents, built_at",
     "terminal_id, version"},
    {"package_rules", "terminal_id, version, rules_version", "terminal_id, version"},
    {"sale_category", "program_id, code, name", "program_id, code"},
    {"customer", "id, program_id, created_at, erased_at", "id"},
    {"customer_pii",
     "customer_id, name, surname, email, phone, birth_date, gender, address, preferences, "
     "updated_at, name_key, surname_key, phone_key",
     "customer_id"},
    {"consent",
     "id, customer_id, channel, granted, at, method, recorded_by, purposes, evidence, "
     "text_version",
     "id"},
    {"customer_note", "id, customer_id, at, author, text", "id"},
    /* The customer portal's sign-in links and sessions (only each token's
     * SHA-256) and the back office's erasure requests (PostgreSQL version
     * 12), after the customers and users they name. */
    {"portal_link", "token_hash, customer_id, created_at, expires_at, used_at", "token_hash"},
    {"portal_session", "token_hash, customer_id, csrf, created_at, expires_at", "token_hash"},
    {"erasure_request",
     "id, customer_id, asked_on, channel, user_id, recorded_by, recorded_at, done_at, done_by",
     "id"},
    /* Tags and segments (version 10). */
    {"customer_tag", "customer_id, tag, at", "customer_id, tag"},
    {"segment",
     "id, program_id, name, tier, store_id, visit_before, visit_after, spend_min_cents, "
     "spend_window_days, points_above, points_below, birthday_month, consent, tag, created_at",
     "id"},
    /* Messages (version 11): templates, days, languages, the birthday bonus,
     * campaigns and their texts, kept tiers, the unsubscribe address,
     * gateways and their texts, the send log with its tokens and states (a
     * message sent on one side is never sent again on the other) and the
     * bounces. */
    {"message_template", "program_id, occasion, lang, subject, body_text, body_html, updated_at",
     "program_id, occasion, lang"},
    {"message_occasion", "program_id, occasion, days, updated_at", "program_id, occasion"},
    {"customer_lang", "customer_id, lang, updated_at", "customer_id"},
    {"message_birthday_bonus", "program_id, points, updated_at", "program_id"},
    {"message_campaign", "id, program_id, name, segment_id, day, created_at", "id"},
    {"message_campaign_text", "campaign_id, lang, subject, body_text, body_html, updated_at",
     "campaign_id, lang"},
    {"message_tier", "customer_id, tier, updated_at", "customer_id"},
    {"message_web", "program_id, url, updated_at", "program_id"},
    {"message_gateway",
     "program_id, channel, url, method, format, headers, secret_file, body, updated_at",
     "program_id, channel"},
    {"message_channel_text", "program_id, occasion, lang, channel, body_text, updated_at",
     "program_id, occasion, lang, channel"},
    {"message_send",
     "id, customer_id, occasion, day, token, state, attempts, next_at, error, created_at, "
     "updated_at, channel",
     "id"},
    {"message_bounce",
     "id, message_id, customer_id, kind, status, address, diagnostic, report_key, at", "id"},
    {"account", "id, program_id, customer_id, kind, name, created_at", "id"},
    {"balance", "account_id, asset, amount", "account_id, asset"},
    {"card",
     "card_id, account_id, uid, tech, status, keyset_version, layout_version, last_counter, "
     "issued_at, updated_at, seen_at, seen_seq, seen_purse, seen_points, seen_mark, "
     "synced_entry",
     "card_id"},
    {"card_event", "id, card_id, at, status, reason, operator", "id"},
    {"card_key", "card_id, role, version", "card_id, role"},
    {"entry",
     "id, program_id, kind, at, store_id, terminal_id, terminal_epoch, terminal_seq, request_id, "
     "operator, reason, reference, spend_cents, reverses, card_id, content_hash",
     "id"},
    {"line", "id, entry_id, account_id, asset, amount", "id"},
    {"lot", "id, account_id, asset, line_id, expires_at, original, remaining", "id"},
    {"lot_use", "line_id, lot_id, amount", "line_id, lot_id"},
    {"bono_holding", "account_id, bono_id, deferred_cents, seen_sessions, seen_at, last_day",
     "account_id, bono_id"},
    {"terminal_entry",
     "terminal_id, epoch, seq, op, card_id, at, key_version, mac, outcome, entry_id, raw, "
     "taken_at, host_before",
     "terminal_id, epoch, seq"},
    {"terminal_tmac", "terminal_id, epoch, seq, card_id, tmc, tmv, verdict, detail",
     "terminal_id, epoch, seq"},
    {"card_host_change_sent", "card_id, taps, upto_entry, at", "card_id"},
    /* What imports and reconciliations found (version 2), kept with their ids. */
    {"sync_finding", "id, at, terminal_id, epoch, seq, card_id, kind, detail", "id"},
    {"reconcile_finding",
     "id, program_id, card_id, terminal_id, kind, fraud, evidence, detail, found_at, state, "
     "reason, operator, closed_at, run",
     "id"},
    /* The desk's cards in flight and the portal's codes (version 6): an
     * intent the card has not yet shown is settled by its next read on
     * either side. */
    {"card_pending_topup",
     "card_id, seq_before, seq_after, purse_after, cents, request_id, created_at, mark, store_id",
     "card_id"},
    {"card_pending_sync",
     "card_id, seq_before, seq_after, points_after, points, upto_entry, created_at", "card_id"},
    {"card_pending_bono",
     "card_id, bono_id, seq_before, seq_after, sessions, cents, file_after, request_id, "
     "created_at, store_id",
     "card_id"},
    {"card_identity_rewrite", "card_id, span, created_at", "card_id"},
    /* The desk's per-card rows (version 9): a family card's holder, the
     * portal PIN's hash, a phone's caps, a static QR code's text. */
    {"card_holder", "card_id, name, set_at", "card_id"},
    {"card_pin", "card_id, pin_hash, fails, set_at, set_by", "card_id"},
    {"qr_phone_caps", "card_id, cap_tx_cents, cap_day_cents", "card_id"},
    {"qr_static_text", "card_id, text, expires_at", "card_id"},
    {"portal_redemption",
     "code, entry_id, customer_id, reward_id, created_at, honoured_at, honoured_by", "code"},
    /* Online sales and their refunds (version 5), after their entries. */
    {"sale",
     "id, program_id, account_id, card_id, store_id, at, local_date, local_time, amount_cents, "
     "request_id, content_hash, entry_id, rules_version, points, period, units, period_after, "
     "tier_before, tier_after, state_after, owed_settled",
     "id"},
    {"sale_item", "sale_id, n, category, quantity, amount_cents", "sale_id, n"},
    {"sale_line", "sale_id, n, source, rule_id, points", "sale_id, n"},
    {"sale_refund",
     "id, sale_id, account_id, at, local_date, amount_cents, request_id, content_hash, entry_id, "
     "points_back, points_short, units_back, period_after",
     "id"},
    {"sale_stamp", "sale_id, refund_id, card, stamps, rewards, short", "sale_id, refund_id, card"},
    /* A collective's settlement (version 8). */
    {"settle_value", "id, program_id, point_value_cents, at, operator", "id"},
    {"settlement", "program_id, period, end_at, upto_entry, point_value_cents, at, operator",
     "program_id, period"},
};

#define N_COPIED (sizeof copied / sizeof copied[0])
/* The widest table copied (sale: 21). */
#define COPY_MAX_COLS 24

/* After the accounts: each customer's own account. */
static const struct copy_spec account_pass = {"customer", "id, account_id", "id"};
#define ACCOUNT_PASS_SQL "UPDATE customer SET account_id = ?2 WHERE id = ?1"

static bool is_copied(const char *table)
{
    if (strcmp(table, "schema_version") == 0 || strcmp(table, "ledger_version") == 0)
        return true; /* each backend's own (ledger_version: PostgreSQL's write counter) */
    if (strcmp(table, "report_day") == 0 || strcmp(table, "report_visit") == 0 ||
        strcmp(table, "report_mark") == 0 || strcmp(table, "report_held") == 0 ||
        strcmp(table, "report_redeem") == 0)
        return true; /* SQLite's report summaries: a SQLite copy makes them from its entries */
    for (size_t i = 0; i < N_COPIED; i++)
        if (strcmp(table, copied[i].table) == 0)
            return true;
    return false;
}

/* The source holds nothing the copy would leave behind: no row in a table
 * the copy does not carry (customers, sales, journals' findings, ...). */
static leal_err source_fits(struct ledger *from, struct ledger *to)
{
    static char names[256][64];
    char sql[128];
    int n = 0;
    int64_t rows;
    leal_err err = store_table_names(from, names, 256, &n);
    for (int i = 0; err == LEAL_OK && i < n; i++) {
        if (is_copied(names[i]))
            continue;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%.63s\"", names[i]);
        if ((err = store_query_int(from, sql, NULL, 0, &rows)) == LEAL_OK && rows > 0) {
            store_set_msg(to, "the source holds %lld rows of %s, which a copy does not carry yet",
                          (long long)rows, names[i]);
            err = LEAL_E_PG_UNSUPPORTED;
        }
    }
    if (err != LEAL_OK && to->msg[0] == '\0')
        store_set_msg(to, "source: %s", from->msg);
    return err;
}

/* Copies one table, row by row, in its order (with dml, not NULL, instead
 * of an INSERT); *n its rows. */
static leal_err copy_table(struct ledger *from, struct ledger *to, const struct copy_spec *c,
                           const char *dml, int64_t *n)
{
    char sel[1024], ins[1024], marks[512];
    struct store_stmt *src, *dst;
    struct store_val v[COPY_MAX_COLS];
    int ncols = 1;
    size_t k = 0;
    leal_err err, e2;
    for (const char *p = c->cols; *p; p++)
        ncols += *p == ',';
    if (ncols > COPY_MAX_COLS) {
        store_set_msg(to, "%s has more columns than a copy carries", c->table);
        return LEAL_E_INTERNAL;
    }
    for (int i = 1; i <= ncols; i++)
        k += (size_t)snprintf(marks + k, sizeof marks - k, "%s?%d", i > 1 ? ", " : "", i);
    snprintf(sel, sizeof sel, "SELECT %s FROM %s ORDER BY %s", c->cols, c->table, c->order);
    if (dml)
        snprintf(ins, sizeof ins, "%s", dml);
    else
        snprintf(ins, sizeof ins, "INSERT INTO %s(%s) VALUES (%s)", c->table, c->cols, marks);
    *n = 0;
    if ((err = store_prep_once(from, sel, &src)) != LEAL_OK) {
        store_set_msg(to, "source: %s", from->msg);
        return err;
    }
    if ((err = store_prep_once(to, ins, &dst)) != LEAL_OK) {
        store_finalize(src);
        return err;
    }
    while (err == LEAL_OK && store_next_row(from, src, &e2)) {
        for (int i = 0; i < ncols; i++) {
            switch (store_col_type(src, i)) {
            case STORE_I64:
                v[i] = SV_I64(store_col_i64(src, i));
                break;
            case STORE_TEXT:
                v[i] = SV_TEXT((const char *)store_col_str(src, i));
                break;
            case STORE_BLOB: {
                /* An empty blob (a QR code's virtual card has no UID) stays
                 * empty: SQLite hands it back without a pointer, which
                 * would bind NULL. */
                const void *b = store_col_blob(src, i);
                v[i] = SV_BLOB(b ? b : "", (size_t)store_col_bytes(src, i));
                break;
            }
            case STORE_NULL:
                v[i] = SV_NULL;
                break;
            }
        }
        store_reset_clear(dst);
        store_bind(dst, v, ncols);
        err = store_step(to, dst, NULL);
        (*n)++;
    }
    if (err == LEAL_OK && e2 != LEAL_OK) {
        store_set_msg(to, "source: %s", from->msg);
        err = e2;
    }
    store_reset(src);
    store_finalize(src);
    store_finalize(dst);
    return err;
}

/* One row as text: columns by '|', NULL as \N, blobs in hex. */
static void row_text(struct store_stmt *st, int ncols, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < ncols && k < cap; i++) {
        char hex[600];
        const char *sep = i ? "|" : "";
        switch (store_col_type(st, i)) {
        case STORE_NULL:
            k += (size_t)snprintf(out + k, cap - k, "%s\\N", sep);
            break;
        case STORE_I64:
            k += (size_t)snprintf(out + k, cap - k, "%s%lld", sep, (long long)store_col_i64(st, i));
            break;
        case STORE_TEXT:
            k +=
                (size_t)snprintf(out + k, cap - k, "%s%s", sep, (const char *)store_col_str(st, i));
            break;
        case STORE_BLOB:
            if (leal_hex_encode(store_col_blob(st, i), (size_t)store_col_bytes(st, i), false, hex,
                                sizeof hex) != LEAL_OK)
                snprintf(hex, sizeof hex, "?");
            k += (size_t)snprintf(out + k, cap - k, "%s%s", sep, hex);
            break;
        }
    }
}

/* An entry and its lines as text, from one ledger. */
static leal_err entry_text(struct ledger *l, int64_t id, char *out, size_t cap)
{
    static const char *const sql[] = {
        "SELECT id, program_id, kind, at, store_id, terminal_id, terminal_epoch, terminal_seq, "
        "request_id, operator, reason, reference, spend_cents, reverses, card_id, content_hash "
        "FROM entry WHERE id = ?1",
        "SELECT id, entry_id, account_id, asset, amount FROM line WHERE entry_id = ?1 ORDER BY id",
    };
    static const int ncols[] = {16, 5};
    char row[2048];
    size_t k = 0;
    leal_err err = LEAL_OK;
    out[0] = '\0';
    for (size_t q = 0; err == LEAL_OK && q < 2; q++) {
        struct store_stmt *st;
        if ((err = store_prep_i64(l, sql[q], &st, I64S(id))) != LEAL_OK)
            return err;
        while (store_next_row(l, st, &err)) {
            row_text(st, ncols[q], row, sizeof row);
            if (k < cap)
                k += (size_t)snprintf(out + k, cap - k, "%s;", row);
        }
        store_finalize(st);
    }
    return err;
}

/* Every entry of from, with its lines, is the same in to. */
static leal_err verify_entries(struct ledger *from, struct ledger *to, int64_t *n)
{
    static char a[16384], b[16384];
    struct store_stmt *ids;
    leal_err err, e2 = LEAL_OK;
    int64_t in_to = 0;
    *n = 0;
    if ((err = store_prep_once(from, "SELECT id FROM entry ORDER BY id", &ids)) != LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(from, ids, &e2)) {
        int64_t id = store_col_i64(ids, 0);
        if ((err = entry_text(from, id, a, sizeof a)) != LEAL_OK)
            break;
        if ((err = entry_text(to, id, b, sizeof b)) != LEAL_OK)
            break;
        if (strcmp(a, b) != 0) {
            store_set_msg(to, "entry %lld differs after the copy", (long long)id);
            err = LEAL_E_LEDGER_MISMATCH;
        }
        (*n)++;
    }
    if (err == LEAL_OK)
        err = e2;
    store_reset(ids);
    store_finalize(ids);
    if (err == LEAL_OK &&
        (err = store_query_int(to, "SELECT count(*) FROM entry", NULL, 0, &in_to)) == LEAL_OK &&
        in_to != *n) {
        store_set_msg(to, "the copy holds %lld entries, the source %lld", (long long)in_to,
                      (long long)*n);
        err = LEAL_E_LEDGER_MISMATCH;
    }
    return err;
}

leal_err ledger_copy(struct ledger *from, struct ledger *to, struct ledger_copy_stats *stats)
{
    int64_t n = 0;
    leal_err err;
    memset(stats, 0, sizeof *stats);
    to->msg[0] = '\0';
    if ((err = store_query_int(to,
                               "SELECT (SELECT count(*) FROM program) + (SELECT count(*) "
                               "FROM account) + (SELECT count(*) FROM entry)",
                               NULL, 0, &n)) != LEAL_OK)
        return err;
    if (n != 0) {
        store_set_msg(to, "the destination is not empty: copy into a new ledger");
        return LEAL_E_EXISTS;
    }
    if ((err = ledger_read_begin(from)) != LEAL_OK)
        return err;
    err = source_fits(from, to);
    if (err == LEAL_OK)
        err = ledger_batch_begin_whole(to);
    for (size_t t = 0; err == LEAL_OK && t < N_COPIED; t++) {
        err = copy_table(from, to, &copied[t], NULL, &n);
        stats->rows += n;
    }
    if (err == LEAL_OK)
        err = copy_table(from, to, &account_pass, ACCOUNT_PASS_SQL, &n);
    to->summarize = true; /* a SQLite copy's report summaries take its entries */
    if (err == LEAL_OK)
        err = verify_entries(from, to, &stats->entries);
    if (err == LEAL_OK)
        err = ledger_batch_commit(to);
    else
        ledger_batch_rollback(to);
    ledger_read_end(from);
    /* The copy's own books: every balance recomputed from its lines. */
    if (err == LEAL_OK)
        err = ledger_verify(to, NULL);
    /* A PostgreSQL copy's planner statistics, before anything plans on it
     * (a database made from it as a template inherits them). */
    if (err == LEAL_OK)
        err = ledger_stats_refresh(to, -1);
    return err;
}
