/*
 * ledger_program.c - programs, stores, terminals and terminal packages (see ledger.h).
 */
#include <string.h>

#include "amount.h"
#include "ledger.h"
#include "store.h"

/* ---- Programs, stores, terminals ---- */

static const char *program_kind_name(enum ledger_program_kind k)
{
    switch (k) {
    case LEDGER_PROGRAM_SINGLE:
        return "single";
    case LEDGER_PROGRAM_CHAIN:
        return "chain";
    case LEDGER_PROGRAM_COLLECTIVE:
        return "collective";
    }
    return NULL;
}

static const char *const program_accounts[] = {LEDGER_PROGRAM_ACCOUNTS};

/* 0 <= classic <= purse <= LEDGER_PURSE_CAP_MAX (the schema checks it too). */
static leal_err caps_ok(struct ledger *l, int64_t purse, int64_t classic)
{
    if (purse < 0 || purse > LEDGER_PURSE_CAP_MAX) {
        store_set_msg(l, "purse cap %lld cents (0..%d)", (long long)purse, LEDGER_PURSE_CAP_MAX);
        return LEAL_E_AMOUNT_RANGE;
    }
    if (classic < 0 || classic > purse) {
        store_set_msg(l, "Classic stored-value cap %lld cents is above the purse cap %lld",
                      (long long)classic, (long long)purse);
        return LEAL_E_AMOUNT_RANGE;
    }
    return LEAL_OK;
}

static leal_err limits_ok(struct ledger *l, int64_t cents, int64_t units)
{
    if (cents < 1 || cents > AMOUNT_MAX_CENTS || units < 1 || units > AMOUNT_MAX_UNITS) {
        store_set_msg(l, "limits per operation: 0.01 to 99999999999.99 euros, 1 to %lld units",
                      (long long)AMOUNT_MAX_UNITS);
        return LEAL_E_AMOUNT_RANGE;
    }
    return LEAL_OK;
}

leal_err ledger_program_set_limits(struct ledger *l, int64_t id, int64_t max_cents_per_operation,
                                   int64_t max_units_per_operation)
{
    leal_err err;
    if ((err = limits_ok(l, max_cents_per_operation, max_units_per_operation)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_exec_i64(
        l,
        "UPDATE program SET max_cents_per_operation = ?2, max_units_per_operation = ?3 "
        "WHERE id = ?1",
        I64S(id, max_cents_per_operation, max_units_per_operation));
    if (err == LEAL_OK)
        err = store_changed(l, "program", id);
    return store_tx_end(l, err);
}

leal_err ledger_program_limit_check(struct ledger *l, int64_t program_id, const char *asset,
                                    int64_t amount)
{
    struct ledger_program p;
    char text[AMOUNT_FORMAT_MAX];
    leal_err err;
    int eur = asset && strcmp(asset, "EUR") == 0;
    int64_t limit, mag = amount < 0 ? -amount : amount;
    if ((err = ledger_program_get(l, program_id, &p)) != LEAL_OK)
        return err;
    limit = eur ? p.max_cents_per_operation : p.max_units_per_operation;
    if (mag <= limit)
        return LEAL_OK;
    if (eur)
        store_set_msg(l, "program %lld allows %s EUR in one operation", (long long)program_id,
                      amount_text(limit, text));
    else
        store_set_msg(l, "program %lld allows %lld %s in one operation", (long long)program_id,
                      (long long)limit, asset ? asset : "");
    return LEAL_E_OVER_LIMIT;
}

leal_err ledger_program_create(struct ledger *l, const struct ledger_program *p, int64_t *id)
{
    leal_err err;
    int64_t pid, max_cents, max_units;
    const char *kind = program_kind_name(p->kind);

    *id = 0;
    if (kind == NULL || p->id < 0 || p->id > 4294967295LL || ledger_empty(p->code) ||
        ledger_empty(p->name) || p->points_per_euro_milli < 0 ||
        p->points_per_euro_milli > 1000000000 || p->points_expiry_days < 0 ||
        p->points_expiry_days > 36500)
        return LEAL_E_ARG;
    if ((err = caps_ok(l, p->purse_cap_cents, p->classic_stored_value_cap_cents)) != LEAL_OK)
        return err;
    max_cents = p->max_cents_per_operation ? p->max_cents_per_operation
                                           : LEDGER_MAX_CENTS_PER_OPERATION_DEFAULT;
    max_units = p->max_units_per_operation ? p->max_units_per_operation
                                           : LEDGER_MAX_UNITS_PER_OPERATION_DEFAULT;
    if ((err = limits_ok(l, max_cents, max_units)) != LEAL_OK)
        return err;
    if (p->locale[0] && strcmp(p->locale, "en") != 0 && strcmp(p->locale, "es") != 0) {
        store_set_msg(l, "locale '%s'", p->locale);
        return LEAL_E_WEB_LANG;
    }
    if ((err = ledger_text_ok(l, "program code", p->code)) != LEAL_OK ||
        (err = ledger_text_ok(l, "program name", p->name)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_write(
        l,
        "INSERT INTO program(id, code, name, kind, points_per_euro_milli, "
        "points_expiry_days, created_at, purse_cap_cents, "
        "classic_stored_value_cap_cents, max_cents_per_operation, "
        "max_units_per_operation, locale) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
        "?9, ?10, ?11, ?12)",
        SVALS(SV_I64_OR_NULL(p->id), SV_TEXT(p->code), SV_TEXT(p->name), SV_TEXT(kind),
              SV_I64(p->points_per_euro_milli), SV_I64(p->points_expiry_days), SV_I64(ledger_now()),
              SV_I64(p->purse_cap_cents), SV_I64(p->classic_stored_value_cap_cents),
              SV_I64(max_cents), SV_I64(max_units), SV_TEXT(p->locale[0] ? p->locale : "en")),
        &pid);
    for (size_t i = 0; err == LEAL_OK && i < sizeof program_accounts / sizeof program_accounts[0];
         i++)
        err = store_write(l,
                          "INSERT INTO account(program_id, kind, name, created_at) "
                          "VALUES (?1, 'program', ?2, ?3)",
                          SVALS(SV_I64(pid), SV_TEXT(program_accounts[i]), SV_I64(ledger_now())),
                          NULL);
    if (err == LEAL_OK)
        *id = pid;
    return store_tx_end_id(l, err, id);
}

leal_err ledger_program_get(struct ledger *l, int64_t id, struct ledger_program *out)
{
    struct store_stmt *st;
    char kind[16];
    leal_err err;
    memset(out, 0, sizeof *out);
    err =
        store_find_row(l,
                       "SELECT id, code, name, kind, points_per_euro_milli, points_expiry_days, "
                       "purse_cap_cents, classic_stored_value_cap_cents, max_cents_per_operation, "
                       "max_units_per_operation, locale FROM program WHERE id = ?1",
                       id, "program", &st);
    if (err == LEAL_OK) {
        out->id = store_col_i64(st, 0);
        store_col_text(st, 1, out->code, sizeof out->code);
        store_col_text(st, 2, out->name, sizeof out->name);
        store_col_text(st, 3, kind, sizeof kind);
        out->kind = strcmp(kind, "single") == 0  ? LEDGER_PROGRAM_SINGLE
                    : strcmp(kind, "chain") == 0 ? LEDGER_PROGRAM_CHAIN
                                                 : LEDGER_PROGRAM_COLLECTIVE;
        out->points_per_euro_milli = store_col_i64(st, 4);
        out->points_expiry_days = store_col_i64(st, 5);
        out->purse_cap_cents = store_col_i64(st, 6);
        out->classic_stored_value_cap_cents = store_col_i64(st, 7);
        out->max_cents_per_operation = store_col_i64(st, 8);
        out->max_units_per_operation = store_col_i64(st, 9);
        store_col_text(st, 10, out->locale, sizeof out->locale);
    }
    store_finalize(st);
    return err;
}

/* Under the write lock: how many accounts with a live Classic card, and open
 * Classic top-ups, would hold more than cap. */
static leal_err classic_over_cap(struct ledger *l, int64_t program, int64_t cap, int64_t *n)
{
    return store_query_int(
        l,
        "SELECT (SELECT count(DISTINCT a.id) FROM account a JOIN card c ON c.account_id = a.id "
        "JOIN balance b ON b.account_id = a.id AND b.asset = 'EUR' WHERE a.program_id = ?1 AND "
        "c.tech IN ('classic-1k','classic-4k') AND c.status IN ('active','blocked') AND "
        "b.amount > ?2) + (SELECT count(*) FROM card_pending_topup t JOIN card c ON c.card_id = "
        "t.card_id JOIN account a ON a.id = c.account_id WHERE a.program_id = ?1 AND "
        "t.purse_after > ?2)",
        I64S(program, cap), n);
}

leal_err ledger_program_set_purse(struct ledger *l, int64_t id, int64_t purse_cap_cents,
                                  int64_t classic_stored_value_cap_cents)
{
    struct ledger_program p;
    int64_t over = 0;
    leal_err err;
    if ((err = caps_ok(l, purse_cap_cents, classic_stored_value_cap_cents)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = ledger_program_get(l, id, &p)) != LEAL_OK)
        goto out;
    if (classic_stored_value_cap_cents < p.classic_stored_value_cap_cents) {
        if ((err = classic_over_cap(l, id, classic_stored_value_cap_cents, &over)) != LEAL_OK)
            goto out;
        if (over > 0) {
            store_set_msg(l,
                          "%lld account(s) with a Classic card of program %lld hold more than %lld "
                          "cents",
                          (long long)over, (long long)id,
                          (long long)classic_stored_value_cap_cents);
            err = LEAL_E_PURSE_CAP_HELD;
            goto out;
        }
    }
    err = store_exec_i64(
        l,
        "UPDATE program SET purse_cap_cents = ?2, classic_stored_value_cap_cents = ?3 "
        "WHERE id = ?1",
        I64S(id, purse_cap_cents, classic_stored_value_cap_cents));
out:
    return store_tx_end(l, err);
}

leal_err ledger_program_account(struct ledger *l, int64_t program_id, const char *name,
                                int64_t *account_id)
{
    struct store_stmt *st;
    int row;
    leal_err err;
    *account_id = 0;
    err = store_prep_once(l, "SELECT id FROM account WHERE program_id = ?1 AND name = ?2", &st);
    if (err != LEAL_OK)
        return err;
    store_bind_i64(st, 1, program_id);
    store_bind_text(st, 2, name ? name : "");
    err = store_step(l, st, &row);
    if (err == LEAL_OK && !row) {
        store_set_msg(l, "program %lld has no account '%s'", (long long)program_id,
                      name ? name : "");
        err = LEAL_E_UNKNOWN_ID;
    }
    if (err == LEAL_OK)
        *account_id = store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

leal_err ledger_store_add(struct ledger *l, int64_t program_id, const char *code, const char *name,
                          const char *timezone, int64_t *id)
{
    leal_err err;
    *id = 0;
    if (ledger_empty(code) || ledger_empty(name) || ledger_empty(timezone))
        return LEAL_E_ARG;
    if ((err = ledger_text_ok(l, "store code", code)) != LEAL_OK ||
        (err = ledger_text_ok(l, "store name", name)) != LEAL_OK)
        return err;
    if (ledger_timezone_check(timezone) != LEAL_OK) {
        store_set_msg(l, "time zone '%s' is not in the tz database (write it like Europe/Madrid)",
                      timezone);
        return LEAL_E_TIMEZONE;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program")) != LEAL_OK)
        goto out;
    err = store_write(l,
                      "INSERT INTO store(program_id, code, name, timezone, created_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      SVALS(SV_I64(program_id), SV_TEXT(code), SV_TEXT(name), SV_TEXT(timezone),
                            SV_I64(ledger_now())),
                      id);
out:
    return store_tx_end_id(l, err, id);
}

leal_err ledger_desk_store(struct ledger *l, int64_t program_id, int64_t want, int64_t *store_id)
{
    int64_t prog = 0, n = 0;
    leal_err err;
    *store_id = 0;
    l->msg[0] = '\0';
    if (want == 0) {
        if ((err = store_query_int(l, "SELECT count(*) FROM store WHERE program_id = ?1",
                                   I64S(program_id), &n)) != LEAL_OK ||
            n != 1)
            return err;
        return store_query_int(l, "SELECT id FROM store WHERE program_id = ?1", I64S(program_id),
                               store_id);
    }
    if ((err =
             store_query_int(l, "SELECT coalesce((SELECT program_id FROM store WHERE id = ?1), 0)",
                             I64S(want), &prog)) != LEAL_OK)
        return err;
    if (prog != program_id) {
        store_set_msg(l, "store %lld is %s", (long long)want,
                      prog ? "another program's" : "not in the ledger");
        return prog ? LEAL_E_WRONG_PROGRAM : LEAL_E_UNKNOWN_ID;
    }
    *store_id = want;
    return LEAL_OK;
}

leal_err ledger_terminal_add(struct ledger *l, int64_t store_id, const char *name, int64_t *id)
{
    leal_err err;
    *id = 0;
    if (ledger_empty(name))
        return LEAL_E_ARG;
    if ((err = ledger_text_ok(l, "terminal name", name)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_STORE_GET, store_id, "store")) != LEAL_OK)
        goto out;
    err = store_write(l, "INSERT INTO terminal(store_id, name, created_at) VALUES (?1, ?2, ?3)",
                      SVALS(SV_I64(store_id), SV_TEXT(name), SV_I64(ledger_now())), id);
out:
    return store_tx_end_id(l, err, id);
}

leal_err ledger_terminal_new_epoch(struct ledger *l, int64_t terminal_id, int64_t *epoch)
{
    struct store_stmt *st;
    leal_err err;
    *epoch = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_find_row(l, "UPDATE terminal SET epoch = epoch + 1 WHERE id = ?1 RETURNING epoch",
                         terminal_id, "terminal", &st);
    store_txc_terminal_moved(l, terminal_id);
    if (err == LEAL_OK)
        *epoch = store_col_i64(st, 0);
    if (err == LEAL_OK)
        err = store_step(l, st, NULL);
    store_finalize(st);
    return store_tx_end_id(l, err, epoch);
}

/* ---- Terminal packages ---- */

leal_err ledger_terminal_next_package(struct ledger *l, int64_t terminal_id, int64_t *version)
{
    struct store_stmt *st;
    leal_err err;
    *version = 0;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_find_row(l,
                         "UPDATE terminal SET package_version = package_version + 1 WHERE id = ?1 "
                         "RETURNING package_version",
                         terminal_id, "terminal", &st);
    if (err == LEAL_OK)
        *version = store_col_i64(st, 0);
    if (err == LEAL_OK)
        err = store_step(l, st, NULL);
    store_finalize(st);
    return store_tx_end_id(l, err, version);
}

leal_err ledger_package_cards(struct ledger *l, int64_t program_id, ledger_package_card_cb cb,
                              void *ctx)
{
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l,
                              "SELECT c.card_id, c.tech, c.status, c.last_counter, c.seen_seq, "
                              "c.seen_mark FROM card c JOIN account a ON a.id = c.account_id "
                              "WHERE a.program_id = ?1 ORDER BY c.card_id",
                              &st, I64S(program_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        struct ledger_package_card c = {0};
        const char *tech = (const char *)store_col_str(st, 1);
        const char *status = (const char *)store_col_str(st, 2);
        c.card_id = store_col_i64(st, 0);
        if (ledger_card_tech_parse(tech ? tech : "", &c.tech) != LEAL_OK ||
            ledger_card_status_parse(status ? status : "", &c.status) != LEAL_OK) {
            store_set_msg(l, "card %lld has an unknown tech or status", (long long)c.card_id);
            err = LEAL_E_DB_CORRUPT;
            break;
        }
        c.last_counter = store_col_i64(st, 3);
        c.has_seen_seq = store_col_type(st, 4) != STORE_NULL;
        c.seen_seq = store_col_i64(st, 4);
        if (store_col_type(st, 5) == STORE_BLOB && store_col_bytes(st, 5) == LEDGER_CARD_MARK_LEN) {
            memcpy(c.seen_mark, store_col_blob(st, 5), LEDGER_CARD_MARK_LEN);
            c.has_seen_mark = true;
        }
        if (cb(ctx, &c) != 0) {
            err = LEAL_E_INTERRUPTED;
            break;
        }
    }
    store_finalize(st);
    return err;
}
