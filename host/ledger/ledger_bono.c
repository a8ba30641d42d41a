/*
 * ledger_bono.c - bonos sold and used at the desk, in flight and settled (ledger_bono.h).
 */
#include "ledger_bono.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

/* The program accounts a bono entry moves, made at the program's first one. */
static const char *const bono_accounts[] = {"bonos_sold", "bonos_revenue", "bonos_issued",
                                            "bonos_used"};
enum { ACC_SOLD, ACC_REVENUE, ACC_ISSUED, ACC_USED, ACC_CASH, ACC_COUNT };

static bool intent_ok(const struct ledger_bono_intent *p)
{
    return p->card_id > 0 && p->bono_id != 0 && p->store_id >= 0 && p->seq_before >= 0 &&
           p->seq_before <= UINT32_MAX &&
           p->seq_after == (p->seq_before + 1) % (INT64_C(1) << 32) && p->sessions != 0 &&
           p->sessions >= -65535 && p->sessions <= 65535 && p->cents >= 0 &&
           p->cents <= LEDGER_PURSE_CAP_MAX && !ledger_empty(p->request_id) &&
           strnlen(p->request_id, sizeof p->request_id) < sizeof p->request_id;
}

leal_err ledger_bono_intent_add(struct ledger *l, const struct ledger_bono_intent *p)
{
    leal_err err;
    l->msg[0] = '\0';
    if (!intent_ok(p))
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_CARD_PROGRAM, p->card_id, "card")) == LEAL_OK &&
        (err = store_write(l,
                           "INSERT INTO card_pending_bono(card_id, bono_id, seq_before, "
                           "seq_after, sessions, cents, file_after, request_id, created_at, "
                           "store_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                           SVALS(SV_I64(p->card_id), SV_I64(p->bono_id), SV_I64(p->seq_before),
                                 SV_I64(p->seq_after), SV_I64(p->sessions), SV_I64(p->cents),
                                 SV_BLOB(p->file_after, BONO_FILE_LEN), SV_TEXT(p->request_id),
                                 SV_I64(ledger_now()), SV_I64_OR_NULL(p->store_id)),
                           NULL)) == LEAL_E_DUPLICATE_ID)
        store_set_msg(l, "card %lld already has a bono sale or use in flight",
                      (long long)p->card_id);
    return store_tx_end(l, err);
}

leal_err ledger_bono_intent_get(struct ledger *l, int64_t card_id, struct ledger_bono_intent *out,
                                bool *found)
{
    struct store_stmt *st;
    int row;
    leal_err err;
    memset(out, 0, sizeof *out);
    *found = false;
    if ((err = store_prep_i64(l,
                              "SELECT card_id, bono_id, seq_before, seq_after, sessions, cents, "
                              "file_after, request_id, created_at, coalesce(store_id, 0) FROM "
                              "card_pending_bono WHERE card_id = ?1",
                              &st, I64S(card_id))) != LEAL_OK)
        return err;
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->card_id = store_col_i64(st, 0);
        out->bono_id = (uint32_t)store_col_i64(st, 1);
        out->seq_before = store_col_i64(st, 2);
        out->seq_after = store_col_i64(st, 3);
        out->sessions = store_col_i64(st, 4);
        out->cents = store_col_i64(st, 5);
        if (store_col_bytes(st, 6) == BONO_FILE_LEN)
            memcpy(out->file_after, store_col_blob(st, 6), BONO_FILE_LEN);
        store_col_text(st, 7, out->request_id, sizeof out->request_id);
        out->created_at = store_col_i64(st, 8);
        out->store_id = store_col_i64(st, 9);
        *found = true;
    }
    store_finalize(st);
    return err;
}

/* Deletes the card's intent with that request id, inside the caller's transaction. */
static leal_err intent_delete(struct ledger *l, int64_t card_id, const char *request_id)
{
    leal_err err =
        store_write(l, "DELETE FROM card_pending_bono WHERE card_id = ?1 AND request_id = ?2",
                    SVALS(SV_I64(card_id), SV_TEXT(request_id)), NULL);
    if (err == LEAL_OK && store_changes(l) != 1) {
        store_set_msg(l, "card %lld has no bono sale or use in flight with request id '%s'",
                      (long long)card_id, request_id);
        err = LEAL_E_UNKNOWN_ID;
    }
    return err;
}

leal_err ledger_bono_intent_drop(struct ledger *l, int64_t card_id, const char *request_id)
{
    leal_err err;
    l->msg[0] = '\0';
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    return store_tx_end(l, intent_delete(l, card_id, request_id ? request_id : ""));
}

/* The program's bono accounts (made when missing) and its cash, inside the
 * caller's transaction. */
static leal_err program_accounts(struct ledger *l, int64_t program_id, int64_t ids[ACC_COUNT])
{
    leal_err err = LEAL_OK;
    for (int i = 0; err == LEAL_OK && i < ACC_SOLD + 4; i++)
        err = store_write(
            l,
            "INSERT INTO account(program_id, kind, name, created_at) SELECT ?1, "
            "'program', ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM account WHERE "
            "program_id = ?1 AND name = ?2)",
            SVALS(SV_I64(program_id), SV_TEXT(bono_accounts[i]), SV_I64(ledger_now())), NULL);
    for (int i = 0; err == LEAL_OK && i < ACC_COUNT; i++)
        err = ledger_program_account(l, program_id, i == ACC_CASH ? "cash" : bono_accounts[i],
                                     &ids[i]);
    return err;
}

static void line(struct ledger_line *ln, int64_t account, const char *asset, int64_t amount)
{
    memset(ln, 0, sizeof *ln);
    ln->account_id = account;
    snprintf(ln->asset, sizeof ln->asset, "%s", asset);
    ln->amount = amount;
}

/* A sale's euros deferred on the account's holding of the kind, and its
 * last day as the file the card took says (the later one, or none, when the
 * card already held that kind: bono_file_add). An intent whose file does not
 * hold the kind (made by hand, not by the desk) leaves the last day unknown
 * (NULL), for the card's next desk read to record. */
static leal_err holding_sold(struct ledger *l, int64_t account, const struct ledger_bono_intent *p)
{
    struct bono_file f;
    int slot = -1;
    if (bono_file_decode(p->file_after, BONO_FILE_LEN, &f) == LEAL_OK)
        slot = bono_file_find(&f, p->bono_id);
    return store_write(l,
                       "INSERT INTO bono_holding(account_id, bono_id, deferred_cents, last_day) "
                       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, bono_id) DO UPDATE SET "
                       "deferred_cents = bono_holding.deferred_cents + excluded.deferred_cents, "
                       "last_day = excluded.last_day",
                       SVALS(SV_I64(account), SV_I64(p->bono_id), SV_I64(p->cents),
                             slot < 0 ? SV_NULL : SV_I64(f.slot[slot].last_day)),
                       NULL);
}

/* The entry of a settled intent (ledger_bono.h) and the deferred euros it moves. */
static leal_err settle_locked(struct ledger *l, const struct ledger_bono_intent *p,
                              int64_t *entry_id, bool *replayed)
{
    struct ledger_line lines[4];
    struct ledger_entry e;
    struct store_stmt *st;
    int64_t account = 0, program = 0, ids[ACC_COUNT];
    char asset[LEDGER_MAX_ASSET], reference[64], hash[65];
    bool sale = p->sessions > 0;
    size_t n = 0;
    leal_err err = store_find_row(l,
                                  "SELECT c.account_id, a.program_id FROM card c JOIN account a ON "
                                  "a.id = c.account_id WHERE c.card_id = ?1",
                                  p->card_id, "card", &st);
    if (err == LEAL_OK) {
        account = store_col_i64(st, 0);
        program = store_col_i64(st, 1);
    }
    store_finalize(st);
    if (err != LEAL_OK || (err = program_accounts(l, program, ids)) != LEAL_OK)
        return err;
    snprintf(asset, sizeof asset, "BONO:%u", p->bono_id);
    snprintf(reference, sizeof reference, "bono %u, card %lld, taps %lld", p->bono_id,
             (long long)p->card_id, (long long)p->seq_after);
    line(&lines[n++], account, asset, p->sessions);
    line(&lines[n++], ids[sale ? ACC_ISSUED : ACC_USED], asset, -p->sessions);
    if (p->cents > 0) {
        line(&lines[n++], ids[sale ? ACC_CASH : ACC_SOLD], "EUR", -p->cents);
        line(&lines[n++], ids[sale ? ACC_SOLD : ACC_REVENUE], "EUR", p->cents);
    }
    memset(&e, 0, sizeof e);
    e.program_id = program;
    e.kind = sale ? "transfer" : "redeem";
    e.request_id = p->request_id;
    e.operator_name = "desk"; /* the same entry whoever's read settles it */
    e.reason = sale ? "bono sold at the desk" : "bono session used at the desk";
    e.reference = reference;
    e.card_id = p->card_id;
    e.store_id = p->store_id; /* where it was made, whichever read settles it */
    e.nlines = n;
    e.lines = lines;
    if ((err = ledger_entry_check(l, &e)) != LEAL_OK ||
        (err = ledger_entry_hash(l->crypto, &e, hash)) != LEAL_OK ||
        (err = intent_delete(l, p->card_id, p->request_id)) != LEAL_OK ||
        (err = ledger_post_locked(l, &e, hash, entry_id, replayed)) != LEAL_OK || *replayed)
        return err;
    if (sale)
        return holding_sold(l, account, p);
    return ledger_bono_use_posted(l, account, p->bono_id, p->cents);
}

leal_err ledger_bono_use_lines(struct ledger *l, struct ledger_bono_use *u)
{
    int64_t ids[ACC_COUNT], held, deferred;
    char asset[LEDGER_MAX_ASSET];
    leal_err err;
    u->nlines = 0;
    u->revenue_cents = 0;
    if (u->sessions < 1 || u->sessions > 65535 || u->bono_id == 0)
        return LEAL_E_ARG;
    if ((err = program_accounts(l, u->program_id, ids)) != LEAL_OK ||
        (err = ledger_bono_held(l, u->account_id, u->bono_id, &held, &deferred)) != LEAL_OK)
        return err;
    for (int64_t i = 0; i < u->sessions && held - i > 0; i++)
        u->revenue_cents += ledger_bono_use_cents(held - i, deferred - u->revenue_cents);
    snprintf(asset, sizeof asset, "BONO:%u", u->bono_id);
    line(&u->lines[u->nlines++], u->account_id, asset, -u->sessions);
    line(&u->lines[u->nlines++], ids[ACC_USED], asset, u->sessions);
    if (u->revenue_cents > 0) {
        line(&u->lines[u->nlines++], ids[ACC_SOLD], "EUR", -u->revenue_cents);
        line(&u->lines[u->nlines++], ids[ACC_REVENUE], "EUR", u->revenue_cents);
    }
    return LEAL_OK;
}

leal_err ledger_bono_use_posted(struct ledger *l, int64_t account_id, uint32_t bono_id,
                                int64_t revenue_cents)
{
    leal_err err = store_exec_i64(l,
                                  "UPDATE bono_holding SET deferred_cents = deferred_cents - ?3 "
                                  "WHERE account_id = ?1 AND bono_id = ?2",
                                  I64S(account_id, bono_id, revenue_cents));
    return err == LEAL_OK ? store_changed(l, "bono holding of account", account_id) : err;
}

leal_err ledger_bono_intent_settle(struct ledger *l, const struct ledger_bono_intent *p,
                                   int64_t *entry_id, bool *replayed)
{
    leal_err err;
    *entry_id = 0;
    *replayed = false;
    l->msg[0] = '\0';
    if (!intent_ok(p))
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_tx_end(l, settle_locked(l, p, entry_id, replayed));
    if (err != LEAL_OK) {
        *entry_id = 0;
        *replayed = false;
    }
    return err;
}

leal_err ledger_bono_held(struct ledger *l, int64_t account_id, uint32_t bono_id, int64_t *sessions,
                          int64_t *deferred_cents)
{
    char asset[LEDGER_MAX_ASSET];
    leal_err err;
    *sessions = 0;
    *deferred_cents = 0;
    snprintf(asset, sizeof asset, "BONO:%u", bono_id);
    if ((err = ledger_balance(l, account_id, asset, sessions)) != LEAL_OK)
        return err;
    return store_query_int(l,
                           "SELECT deferred_cents FROM bono_holding WHERE account_id = ?1 AND "
                           "bono_id = ?2",
                           I64S(account_id, bono_id), deferred_cents);
}

leal_err ledger_bono_outstanding(struct ledger *l, int64_t program_id, uint32_t bono_id,
                                 int64_t *sessions)
{
    *sessions = 0;
    return store_query_int(l,
                           "SELECT coalesce(sum(b.amount), 0) FROM balance b JOIN account a ON "
                           "a.id = b.account_id WHERE a.program_id = ?1 AND a.kind <> 'program' "
                           "AND b.asset = 'BONO:' || ?2 AND b.amount > 0",
                           I64S(program_id, bono_id), sessions);
}

int64_t ledger_bono_use_cents(int64_t sessions, int64_t deferred_cents)
{
    if (sessions < 1)
        return 0;
    return sessions == 1 ? deferred_cents : deferred_cents / sessions;
}

leal_err ledger_bono_seen(struct ledger *l, int64_t account_id, uint32_t bono_id, int64_t sessions,
                          uint16_t last_day)
{
    leal_err err;
    l->msg[0] = '\0';
    if (sessions < 0 || sessions > 65535)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    return store_tx_end(
        l, store_exec_i64(l, BONO_SEEN_SQL,
                          I64S(account_id, bono_id, sessions, ledger_now(), last_day)));
}

leal_err ledger_bono_holdings(struct ledger *l, int64_t account_id, struct bono_file *out)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = store_prep_i64(l, BONO_HOLDINGS_SQL, &st, I64S(account_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        int64_t sessions = store_col_i64(st, 1);
        if (sessions > 65535) {
            store_set_msg(l,
                          "account %lld holds %lld sessions of bono %lld, more than a card "
                          "carries (65535)",
                          (long long)account_id, (long long)sessions,
                          (long long)store_col_i64(st, 0));
            err = LEAL_E_RANGE;
            break;
        }
        if ((err = bono_file_add(out, (uint32_t)store_col_i64(st, 0), (uint16_t)sessions,
                                 (uint16_t)store_col_i64(st, 2))) != LEAL_OK) {
            if (err == LEAL_E_NO_SPACE)
                store_set_msg(l,
                              "account %lld holds more than four bonos, the most a card "
                              "carries",
                              (long long)account_id);
            break;
        }
    }
    store_finalize(st);
    return err;
}

/* The next holding of the program past its last day with something left
 * (account, kind, last day, deferred cents, sessions); *found false when none. */
#define EXPIRED_HOLDING_SQL                                                                        \
    "SELECT h.account_id, h.bono_id, h.last_day, h.deferred_cents, coalesce(b.amount, 0) FROM "    \
    "bono_holding h JOIN account a ON a.id = h.account_id LEFT JOIN balance b ON b.account_id = "  \
    "h.account_id AND b.asset = 'BONO:' || h.bono_id WHERE a.program_id = ?1 AND a.kind <> "       \
    "'program' AND h.last_day > 0 AND h.last_day < ?2 AND (h.deferred_cents > 0 OR "               \
    "coalesce(b.amount, 0) > 0) ORDER BY h.account_id, h.bono_id LIMIT 1"

struct expired_holding {
    int64_t account, bono, last_day, cents, sessions;
};

static leal_err next_expired(struct ledger *l, int64_t program_id, uint32_t today,
                             struct expired_holding *h, bool *found)
{
    struct store_stmt *st;
    leal_err err;
    *found = false;
    if ((err = store_prep_i64(l, EXPIRED_HOLDING_SQL, &st, I64S(program_id, today))) != LEAL_OK)
        return err;
    if (store_next_row(l, st, &err)) {
        *h = (struct expired_holding){store_col_i64(st, 0), store_col_i64(st, 1),
                                      store_col_i64(st, 2), store_col_i64(st, 3),
                                      store_col_i64(st, 4)};
        *found = true;
    }
    store_finalize(st);
    return err;
}

/* One holding's expiry entry and its deferred euros to 0 (ledger_bono_expire). */
static leal_err expire_one(struct ledger *l, int64_t program_id, int64_t expired,
                           const char *operator_name, const struct expired_holding *h)
{
    struct ledger_line lines[4];
    struct ledger_entry e;
    char asset[LEDGER_MAX_ASSET], request[64], reference[64], hash[65];
    int64_t sold, breakage, entry;
    bool replayed = false;
    size_t n = 0;
    leal_err err;
    if ((err = ledger_program_account(l, program_id, "bonos_sold", &sold)) != LEAL_OK ||
        (err = ledger_program_account(l, program_id, "breakage", &breakage)) != LEAL_OK)
        return err;
    snprintf(asset, sizeof asset, "BONO:%lld", (long long)h->bono);
    snprintf(request, sizeof request, "bono-expire:%lld:%lld:%lld", (long long)h->account,
             (long long)h->bono, (long long)h->last_day);
    snprintf(reference, sizeof reference, "bono %lld, account %lld, last day %lld",
             (long long)h->bono, (long long)h->account, (long long)h->last_day);
    if (h->sessions > 0) {
        line(&lines[n++], h->account, asset, -h->sessions);
        line(&lines[n++], expired, asset, h->sessions);
    }
    if (h->cents > 0) {
        line(&lines[n++], sold, "EUR", -h->cents);
        line(&lines[n++], breakage, "EUR", h->cents);
    }
    memset(&e, 0, sizeof e);
    e.program_id = program_id;
    e.kind = "expire";
    e.request_id = request;
    e.operator_name = operator_name;
    e.reason = "bono past its last day: its unused sessions' euros to breakage";
    e.reference = reference;
    e.nlines = n;
    e.lines = lines;
    if ((err = ledger_entry_check(l, &e)) != LEAL_OK ||
        (err = ledger_entry_hash(l->crypto, &e, hash)) != LEAL_OK ||
        (err = ledger_post_locked(l, &e, hash, &entry, &replayed)) != LEAL_OK)
        return err;
    return store_exec_i64(l,
                          "UPDATE bono_holding SET deferred_cents = 0 WHERE account_id = ?1 AND "
                          "bono_id = ?2",
                          I64S(h->account, h->bono));
}

static leal_err expire_locked(struct ledger *l, int64_t program_id, uint32_t today,
                              const char *operator_name, struct ledger_bono_expired *out)
{
    struct expired_holding h;
    int64_t expired = 0;
    bool found = true;
    leal_err err = store_write(
        l,
        "INSERT INTO account(program_id, kind, name, created_at) SELECT ?1, 'program', "
        "'bonos_expired', ?2 WHERE EXISTS (SELECT 1 FROM program WHERE id = ?1) AND NOT EXISTS "
        "(SELECT 1 FROM account WHERE program_id = ?1 AND name = 'bonos_expired')",
        SVALS(SV_I64(program_id), SV_I64(ledger_now())), NULL);
    if (err == LEAL_OK)
        err = ledger_program_account(l, program_id, "bonos_expired", &expired);
    while (err == LEAL_OK && (err = next_expired(l, program_id, today, &h, &found)) == LEAL_OK &&
           found) {
        if ((err = expire_one(l, program_id, expired, operator_name, &h)) != LEAL_OK)
            break;
        out->holdings++;
        out->sessions += h.sessions;
        out->cents += h.cents;
    }
    return err;
}

leal_err ledger_bono_expire(struct ledger *l, int64_t program_id, uint32_t today,
                            const char *operator_name, struct ledger_bono_expired *out)
{
    leal_err err;
    memset(out, 0, sizeof *out);
    l->msg[0] = '\0';
    if (ledger_empty(operator_name) || today == 0)
        return LEAL_E_ARG;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_tx_end(l, expire_locked(l, program_id, today, operator_name, out));
    if (err != LEAL_OK)
        memset(out, 0, sizeof *out);
    return err;
}

leal_err ledger_bono_expired_sessions(struct ledger *l, int64_t account_id, uint32_t bono_id,
                                      uint16_t last_day, int64_t *sessions)
{
    *sessions = 0;
    return store_query_int(l,
                           "SELECT coalesce(-sum(x.amount), 0) FROM entry e JOIN line x ON "
                           "x.entry_id = e.id AND x.account_id = ?1 WHERE e.request_id = "
                           "'bono-expire:' || ?1 || ':' || ?2 || ':' || ?3",
                           I64S(account_id, bono_id, last_day), sessions);
}
