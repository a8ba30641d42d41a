/* ledger_qr.c - a QR spending code seen at two terminals (ledger_qr.h). */
#include "ledger_qr.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "amount.h"

#include "store.h"

#define OTHERS_SQL                                                                                 \
    "SELECT raw FROM terminal_entry WHERE card_id = ?1 AND terminal_id <> ?2 AND op <> ?3 AND "    \
    "outcome <> 'undone' ORDER BY at, terminal_id, epoch, seq"

/* The spending code a taken QR entry used: its QR line (journal.h). */
static bool spend_line(const struct journal_entry *e, uint32_t *counter, uint32_t *step)
{
    const struct journal_line *q;
    if (e->card_kind != JOURNAL_CARD_QR || e->op == JOURNAL_OP_REFUSAL || e->n_lines == 0)
        return false;
    q = &e->lines[e->n_lines - 1];
    if (q->source != JOURNAL_LINE_QR || q->rule_index != JOURNAL_QR_SPEND)
        return false;
    *counter = q->id;
    *step = (uint32_t)q->points;
    return true;
}

/* a before b in the terminals' time order (ledger_reconcile's). */
static bool before(const struct journal_entry *a, const struct journal_entry *b)
{
    if (a->utc_seconds != b->utc_seconds)
        return a->utc_seconds < b->utc_seconds;
    if (a->terminal_id != b->terminal_id)
        return a->terminal_id < b->terminal_id;
    if (a->epoch != b->epoch)
        return a->epoch < b->epoch;
    return a->seq < b->seq;
}

void ledger_qr_hold_asset(uint64_t virtual_card_id, char out[LEDGER_MAX_ASSET])
{
    snprintf(out, LEDGER_MAX_ASSET, LEDGER_QR_HOLD_PREFIX "%llu",
             (unsigned long long)virtual_card_id);
}

/* What a hold moves: points (> 0) from the account's PTS into the hold, or
 * (< 0) back, through points_issued; request id "qrhold:<card>" + suffix,
 * once per phone and direction. */
struct hold_move {
    int64_t program_id, account_id;
    uint64_t virtual_card_id;
    int64_t points, at;
    const char *suffix, *reason, *operator_name;
};

static leal_err hold_move(struct ledger *l, const struct hold_move *m)
{
    struct ledger_line ln[4];
    struct ledger_entry e;
    char request[64];
    int64_t issued, entry_id;
    bool replayed;
    leal_err err;
    if ((err = ledger_program_account(l, m->program_id, "points_issued", &issued)) != LEAL_OK)
        return err;
    memset(ln, 0, sizeof ln);
    ln[0] = (struct ledger_line){.account_id = m->account_id, .asset = "PTS", .amount = -m->points};
    ln[1] = (struct ledger_line){.account_id = issued, .asset = "PTS", .amount = m->points};
    ln[2] = (struct ledger_line){.account_id = m->account_id, .amount = m->points};
    ln[3] = (struct ledger_line){.account_id = issued, .amount = -m->points};
    ledger_qr_hold_asset(m->virtual_card_id, ln[2].asset);
    ledger_qr_hold_asset(m->virtual_card_id, ln[3].asset);
    snprintf(request, sizeof request, "qrhold:%llu%s", (unsigned long long)m->virtual_card_id,
             m->suffix);
    memset(&e, 0, sizeof e);
    e.program_id = m->program_id;
    e.kind = "transfer";
    e.at = m->at;
    e.request_id = request;
    e.reason = m->reason;
    e.operator_name = m->operator_name;
    e.card_id = (int64_t)m->virtual_card_id;
    e.nlines = 4;
    e.lines = ln;
    return ledger_post(l, &e, &entry_id, &replayed);
}

leal_err ledger_qr_hold(struct ledger *l, int64_t program_id, int64_t account_id,
                        uint64_t virtual_card_id, int64_t points, int64_t at)
{
    if (l == NULL || points <= 0)
        return LEAL_E_ARG;
    const struct hold_move m = {program_id,
                                account_id,
                                virtual_card_id,
                                points,
                                at,
                                "",
                                "points held for the phone's offline redeems",
                                "qr enrol"};
    return hold_move(l, &m);
}

leal_err ledger_qr_release(struct ledger *l, int64_t card_id, int64_t *released)
{
    struct ledger_card c;
    char hold[LEDGER_MAX_ASSET];
    int64_t left = 0;
    leal_err err;
    if (l == NULL || released == NULL)
        return LEAL_E_ARG;
    *released = 0;
    if ((err = ledger_card_find_by_id(l, card_id, &c)) != LEAL_OK)
        return err;
    if (c.tech != LEDGER_TECH_VIRTUAL_QR || c.status == LEDGER_CARD_ACTIVE)
        return LEAL_OK;
    ledger_qr_hold_asset((uint64_t)card_id, hold);
    if ((err = ledger_balance(l, c.account_id, hold, &left)) != LEAL_OK || left <= 0)
        return err;
    const struct hold_move m = {c.program_id,
                                c.account_id,
                                (uint64_t)card_id,
                                -left,
                                ledger_now(),
                                ":release",
                                "points held for the phone given back: the phone is no longer "
                                "active (revoked, blocked or replaced)",
                                "qr release"};
    if ((err = hold_move(l, &m)) == LEAL_OK)
        *released = left;
    return err;
}

leal_err ledger_qr_card_status(struct ledger *l, int64_t card_id, enum ledger_card_status status,
                               const char *reason, const char *operator_name)
{
    bool own;
    int64_t released = 0;
    leal_err err;
    if (l == NULL)
        return LEAL_E_ARG;
    own = l->in_batch == BATCH_NONE;
    if (own && (err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    err = ledger_card_change_status(l, card_id, status, reason, operator_name);
    if (err == LEAL_OK)
        err = ledger_qr_release(l, card_id, &released);
    if (!own)
        return err;
    if (err != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    return ledger_batch_commit(l);
}

#define HOLDS_SQL                                                                                  \
    "SELECT c.card_id, b.amount, (SELECT max(n.entry_id) FROM line n WHERE n.account_id = "        \
    "b.account_id AND n.asset = b.asset), c.account_id FROM card c JOIN account a ON a.id = "      \
    "c.account_id JOIN "                                                                           \
    "balance b ON b.account_id = c.account_id AND b.asset = '" LEDGER_QR_HOLD_PREFIX "' || "       \
    "c.card_id WHERE a.program_id = ?1 AND c.tech = 'virtual-qr' AND c.status = 'active' AND "     \
    "b.amount > 0 ORDER BY c.card_id"

leal_err ledger_qr_holds_each(struct ledger *l, int64_t program_id, ledger_qr_hold_cb cb, void *ctx)
{
    struct ledger_qr_holding h;
    struct store_stmt *st;
    leal_err err;
    if (l == NULL || cb == NULL)
        return LEAL_E_ARG;
    if ((err = store_prep_i64(l, HOLDS_SQL, &st, I64S(program_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        h.virtual_card_id = store_col_i64(st, 0);
        h.points = store_col_i64(st, 1);
        h.newest_entry = store_col_i64(st, 2);
        h.account_id = store_col_i64(st, 3);
        if (cb(ctx, &h) != 0) {
            err = LEAL_E_INTERRUPTED;
            break;
        }
    }
    store_finalize(st);
    return err;
}

leal_err ledger_qr_caps_set(struct ledger *l, int64_t card_id, int64_t cap_tx_cents,
                            int64_t cap_day_cents)
{
    if (l == NULL || cap_tx_cents < 1 || cap_day_cents < cap_tx_cents)
        return LEAL_E_ARG;
    return store_exec_i64(l,
                          "INSERT INTO qr_phone_caps(card_id, cap_tx_cents, cap_day_cents) "
                          "VALUES (?1, ?2, ?3)",
                          I64S(card_id, cap_tx_cents, cap_day_cents));
}

#define PHONE_CAPS_SQL "SELECT cap_tx_cents, cap_day_cents FROM qr_phone_caps WHERE card_id = ?1"
#define PAYS_SQL                                                                                   \
    "SELECT raw FROM terminal_entry WHERE card_id = ?1 AND op IN (?2, ?3) AND outcome <> "         \
    "'undone'"

static bool is_pay(const struct journal_entry *e)
{
    return e->card_kind == JOURNAL_CARD_QR && e->purse_cents > 0 &&
           (e->op == JOURNAL_OP_PAY || e->op == JOURNAL_OP_PAY_EARN);
}

static int64_t local_day(const struct journal_entry *e)
{
    return ((int64_t)e->utc_seconds + (int64_t)e->utc_offset_minutes * 60) / 86400;
}

/* The phone's taken payments before e on e's local day, at every terminal. */
static leal_err paid_before(struct ledger *l, const struct journal_entry *e, int64_t *cents)
{
    struct journal_entry o;
    struct store_stmt *st;
    leal_err err = store_prep_i64(l, PAYS_SQL, &st,
                                  I64S((int64_t)e->card_id, JOURNAL_OP_PAY, JOURNAL_OP_PAY_EARN));
    *cents = 0;
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        int n = store_col_bytes(st, 0);
        if (n > 0 && journal_entry_decode(store_col_blob(st, 0), (size_t)n, &o) == LEAL_OK &&
            is_pay(&o) && before(&o, e) && local_day(&o) == local_day(e))
            *cents += o.purse_cents;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_qr_over_caps(struct ledger *l, const struct journal_entry *e,
                             struct ledger_qr_over *out)
{
    char pay[AMOUNT_FORMAT_MAX], total[AMOUNT_FORMAT_MAX], cap[AMOUNT_FORMAT_MAX];
    struct store_stmt *st;
    int64_t tx = 0, day = 0, before_cents = 0;
    int row = 0;
    leal_err err;
    if (l == NULL || e == NULL || out == NULL)
        return LEAL_E_ARG;
    memset(out, 0, sizeof *out);
    if (!is_pay(e) || e->card_id > INT64_MAX)
        return LEAL_OK;
    if ((err = store_prep_i64(l, PHONE_CAPS_SQL, &st, I64S((int64_t)e->card_id))) != LEAL_OK)
        return err;
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        tx = store_col_i64(st, 0);
        day = store_col_i64(st, 1);
    }
    store_finalize(st);
    if (err != LEAL_OK || !row)
        return err;
    bool by_tx = (int64_t)e->purse_cents > tx;
    if (!by_tx && (err = paid_before(l, e, &before_cents)) != LEAL_OK)
        return err;
    if (!by_tx && !(before_cents <= day && before_cents + (int64_t)e->purse_cents > day))
        return LEAL_OK;
    time_t t = (time_t)(local_day(e) * 86400);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    amount_text((int64_t)e->purse_cents, pay);
    amount_text(before_cents + (int64_t)e->purse_cents, total);
    amount_text(by_tx ? tx : day, cap);
    out->over = true;
    snprintf(out->evidence, sizeof out->evidence, "qr t%u/e%u/s%u cap %s", e->terminal_id, e->epoch,
             e->seq, by_tx ? "payment" : "day");
    if (by_tx)
        snprintf(out->detail, sizeof out->detail,
                 "QR spending code of virtual card %llu paid %s at terminal %u (t%u/e%u/s%u), "
                 "over its certificate's %s a payment: phone blocked",
                 (unsigned long long)e->card_id, pay, e->terminal_id, e->terminal_id, e->epoch,
                 e->seq, cap);
    else
        snprintf(out->detail, sizeof out->detail,
                 "QR spending code of virtual card %llu paid %s at terminal %u (t%u/e%u/s%u): "
                 "%s on local day %04d-%02d-%02d at all terminals, over its certificate's %s a "
                 "day: phone blocked",
                 (unsigned long long)e->card_id, pay, e->terminal_id, e->terminal_id, e->epoch,
                 e->seq, total, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, cap);
    return LEAL_OK;
}

leal_err ledger_qr_twice(struct ledger *l, const struct journal_entry *e,
                         struct ledger_qr_twice *out)
{
    struct journal_entry o;
    struct store_stmt *st;
    uint32_t counter, step, oc, os;
    leal_err err;
    if (l == NULL || e == NULL || out == NULL)
        return LEAL_E_ARG;
    memset(out, 0, sizeof *out);
    if (!spend_line(e, &counter, &step) || e->card_id > INT64_MAX)
        return LEAL_OK;
    if ((err = store_prep_i64(l, OTHERS_SQL, &st,
                              I64S((int64_t)e->card_id, e->terminal_id, JOURNAL_OP_REFUSAL))) !=
        LEAL_OK)
        return err;
    while (!out->twice && store_next_row(l, st, &err)) {
        int n = store_col_bytes(st, 0);
        if (n <= 0 || journal_entry_decode(store_col_blob(st, 0), (size_t)n, &o) != LEAL_OK ||
            !spend_line(&o, &oc, &os) || oc != counter || os != step || !before(&o, e))
            continue;
        out->twice = true;
        snprintf(out->evidence, sizeof out->evidence, "qr c%u/ts%u: t%u/e%u/s%u t%u/e%u/s%u",
                 counter, step, o.terminal_id, o.epoch, o.seq, e->terminal_id, e->epoch, e->seq);
        snprintf(out->detail, sizeof out->detail,
                 "QR spending code of virtual card %llu (counter %u, time step %u) taken at "
                 "terminal %u and again at terminal %u: a copy of the phone's code; phone blocked",
                 (unsigned long long)e->card_id, counter, step, o.terminal_id, e->terminal_id);
    }
    store_finalize(st);
    return err;
}

leal_err ledger_qr_static_keep(struct ledger *l, int64_t card_id, const char *text,
                               int64_t expires_at)
{
    if (l == NULL || text == NULL || strlen(text) < 4 || strlen(text) >= LEDGER_QR_TEXT_MAX)
        return LEAL_E_ARG;
    return store_write(l,
                       "INSERT INTO qr_static_text(card_id, text, expires_at) VALUES (?1, ?2, ?3)",
                       SVALS(SV_I64(card_id), SV_TEXT(text), SV_I64(expires_at)), NULL);
}

#define STATIC_CODE_SQL                                                                            \
    "SELECT t.card_id, t.text, t.expires_at FROM card c JOIN qr_static_text t ON t.card_id = "     \
    "c.card_id WHERE c.account_id = ?1 AND c.status = 'active' AND t.expires_at > ?2 ORDER BY "    \
    "c.issued_at DESC, c.card_id DESC LIMIT 1"

/* layout_version 1: a static code's virtual card (cardlayout/qr QR_KIND_STATIC;
 * a phone's is 2). */
#define STATIC_NEWEST_SQL                                                                          \
    "SELECT c.card_id, c.status, CASE WHEN t.card_id IS NULL THEN 0 ELSE 1 END, "                  \
    "coalesce(t.expires_at, 0) FROM card c LEFT JOIN qr_static_text t ON t.card_id = c.card_id "   \
    "WHERE c.account_id = ?1 AND c.tech = 'virtual-qr' AND c.layout_version = 1 ORDER BY "         \
    "c.issued_at DESC, c.card_id DESC LIMIT 1"

leal_err ledger_qr_static_newest(struct ledger *l, int64_t account_id,
                                 struct ledger_qr_static_state *out, bool *found)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    *found = false;
    if ((err = store_prep_i64(l, STATIC_NEWEST_SQL, &st, I64S(account_id))) != LEAL_OK)
        return err;
    if (store_next_row(l, st, &err)) {
        out->card_id = store_col_i64(st, 0);
        store_col_text(st, 1, out->status, sizeof out->status);
        out->text_kept = store_col_i64(st, 2) != 0;
        out->expires_at = store_col_i64(st, 3);
        *found = true;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_qr_static_find(struct ledger *l, int64_t account_id, int64_t now,
                               struct ledger_qr_static_code *out, bool *found)
{
    struct store_stmt *st;
    leal_err err;
    memset(out, 0, sizeof *out);
    *found = false;
    if ((err = store_prep_i64(l, STATIC_CODE_SQL, &st, I64S(account_id, now))) != LEAL_OK)
        return err;
    if (store_next_row(l, st, &err)) {
        out->card_id = store_col_i64(st, 0);
        store_col_text(st, 1, out->text, sizeof out->text);
        out->expires_at = store_col_i64(st, 2);
        *found = true;
    }
    store_finalize(st);
    return err;
}
