/*
 * ledger_post.c - the journal: posting an entry, voids, point expiry (see ledger.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "firmware/core/lots.h"
#include "keys/base/buf.h"
#include "keys/base/hex.h"
#include "ledger.h"
#include "store.h"
#include "host/grow.h"

/* ---- The journal ---- */

static const char *const entry_kinds[] = {"adjust", "earn", "redeem", "topup",     "spend",
                                          "refund", "void", "expire", "gift_sale", "transfer"};

static int kind_ok(const char *k)
{
    for (size_t i = 0; k && i < sizeof entry_kinds / sizeof entry_kinds[0]; i++)
        if (strcmp(k, entry_kinds[i]) == 0)
            return 1;
    return 0;
}

/* Checks an entry before any database work: key form, texts, assets,
 * amounts, and that every asset's lines sum to zero. */
leal_err ledger_entry_check(struct ledger *l, const struct ledger_entry *e)
{
    leal_err err;
    if (e->program_id <= 0 || !kind_ok(e->kind) || e->lines == NULL || e->at < 0 ||
        e->store_id < 0 || e->terminal_id < 0 || e->reverses < 0 || e->card_id < 0) {
        store_set_msg(l, "malformed entry");
        return LEAL_E_ARG;
    }
    if (e->nlines < 2 || e->nlines > LEDGER_MAX_LINES) {
        store_set_msg(l, "an entry has 2 to %d lines, not %zu", LEDGER_MAX_LINES, e->nlines);
        return LEAL_E_UNBALANCED;
    }
    /* Exactly one idempotency key. */
    if (ledger_empty(e->request_id) == (e->terminal_id == 0) ||
        (e->terminal_id != 0 && (e->terminal_epoch < 1 || e->terminal_seq < 0))) {
        store_set_msg(l, "an entry needs either a request id or terminal id, epoch and sequence");
        return LEAL_E_ARG;
    }
    if (!ledger_empty(e->request_id) && strlen(e->request_id) > MAX_REQUEST_ID) {
        store_set_msg(l, "request id longer than %d", MAX_REQUEST_ID);
        return LEAL_E_TEXT;
    }
    if ((err = ledger_text_ok(l, "request id", e->request_id)) != LEAL_OK ||
        (err = ledger_text_ok(l, "operator", e->operator_name)) != LEAL_OK ||
        (err = ledger_text_ok(l, "reason", e->reason)) != LEAL_OK ||
        (err = ledger_text_ok(l, "reference", e->reference)) != LEAL_OK)
        return err;
    /* Every movement says why and who (ARCHITECTURE.md, security): a reason, and an operator
     * unless a terminal recorded it. */
    if (ledger_empty(e->reason) || (ledger_empty(e->operator_name) && e->terminal_id == 0)) {
        store_set_msg(l, "entry without %s", ledger_empty(e->reason) ? "reason" : "operator");
        return LEAL_E_REASON_REQUIRED;
    }
    if ((strcmp(e->kind, "void") == 0 || strcmp(e->kind, "refund") == 0) && e->reverses == 0) {
        store_set_msg(l, "a %s names the entry it reverses", e->kind);
        return LEAL_E_ARG;
    }
    if (e->spend_cents < -AMOUNT_MAX_CENTS || e->spend_cents > AMOUNT_MAX_CENTS) {
        store_set_msg(l, "qualifying spend");
        return LEAL_E_AMOUNT_RANGE;
    }
    for (size_t i = 0; i < e->nlines; i++) {
        const struct ledger_line *ln = &e->lines[i];
        if (memchr(ln->asset, '\0', sizeof ln->asset) == NULL ||
            ledger_asset_check(ln->asset) != LEAL_OK) {
            store_set_msg(l, "line %zu", i + 1);
            return LEAL_E_ASSET;
        }
        if (ln->amount == 0 || ln->account_id <= 0 || ln->expires_at < 0) {
            store_set_msg(l, "line %zu: %s", i + 1,
                          ln->amount == 0 ? "amount is zero" : "malformed");
            return ln->amount == 0 ? LEAL_E_AMOUNT : LEAL_E_ARG;
        }
        if (ln->amount < -AMOUNT_MAX_CENTS || ln->amount > AMOUNT_MAX_CENTS) {
            store_set_msg(l, "line %zu", i + 1);
            return LEAL_E_AMOUNT_RANGE;
        }
    }
    for (size_t i = 0; i < e->nlines; i++) {
        const struct ledger_line *ln = &e->lines[i];
        int64_t sum = 0;
        /* Sum this asset once, at its first line; |sum| stays far inside int64. */
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->lines[j].asset, ln->asset) == 0)
                goto next;
        for (size_t j = i; j < e->nlines; j++)
            if (strcmp(e->lines[j].asset, ln->asset) == 0)
                sum += e->lines[j].amount;
        if (sum != 0) {
            store_set_msg(l, "%s lines sum to %lld", ln->asset, (long long)sum);
            return LEAL_E_UNBALANCED;
        }
    next:;
    }
    return LEAL_OK;
}

static leal_err put_i64(struct buf_writer *w, int64_t v)
{
    return buf_put_be64(w, (uint64_t)v);
}

static leal_err put_str(struct buf_writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    leal_err err = buf_put_be32(w, (uint32_t)n);
    return err == LEAL_OK && n ? buf_put_bytes(w, (const uint8_t *)s, n) : err;
}

/*
 * The entry's content hash: SHA-256 over this canonical encoding, as
 * lowercase hex. Integers are 8-byte big-endian two's complement; strings a
 * 4-byte big-endian length then their bytes (NULL and "" are the same).
 *   "leal-entry-v1" program_id kind at store_id terminal_id terminal_epoch
 *   terminal_seq request_id operator reason reference spend_cents reverses
 *   card_id nlines (account_id asset amount expires_at)*nlines
 * Fields are as the caller gave them (at = 0 means "now" and is hashed as 0),
 * lines in the caller's order: "the same content" is exactly this byte string.
 */
leal_err ledger_entry_hash(const struct crypto_provider *cp, const struct ledger_entry *e,
                           char hex[65])
{
    static const char magic[] = "leal-entry-v1";
    uint8_t enc[16 + 15 * 8 + 5 * (4 + LEDGER_TEXT) +
                LEDGER_MAX_LINES * (3 * 8 + 4 + LEDGER_MAX_ASSET)];
    uint8_t md[32];
    struct buf_writer w;
    leal_err err;

    buf_writer_init(&w, enc, sizeof enc);
    err = buf_put_bytes(&w, (const uint8_t *)magic, sizeof magic - 1);
    if (err == LEAL_OK)
        err = put_i64(&w, e->program_id);
    if (err == LEAL_OK)
        err = put_str(&w, e->kind);
    if (err == LEAL_OK)
        err = put_i64(&w, e->at);
    if (err == LEAL_OK)
        err = put_i64(&w, e->store_id);
    if (err == LEAL_OK)
        err = put_i64(&w, e->terminal_id);
    if (err == LEAL_OK)
        err = put_i64(&w, e->terminal_epoch);
    if (err == LEAL_OK)
        err = put_i64(&w, e->terminal_seq);
    if (err == LEAL_OK)
        err = put_str(&w, e->request_id);
    if (err == LEAL_OK)
        err = put_str(&w, e->operator_name);
    if (err == LEAL_OK)
        err = put_str(&w, e->reason);
    if (err == LEAL_OK)
        err = put_str(&w, e->reference);
    if (err == LEAL_OK)
        err = put_i64(&w, e->spend_cents);
    if (err == LEAL_OK)
        err = put_i64(&w, e->reverses);
    if (err == LEAL_OK)
        err = put_i64(&w, e->card_id);
    if (err == LEAL_OK)
        err = put_i64(&w, (int64_t)e->nlines);
    for (size_t i = 0; err == LEAL_OK && i < e->nlines; i++) {
        err = put_i64(&w, e->lines[i].account_id);
        if (err == LEAL_OK)
            err = put_str(&w, e->lines[i].asset);
        if (err == LEAL_OK)
            err = put_i64(&w, e->lines[i].amount);
        if (err == LEAL_OK)
            err = put_i64(&w, e->lines[i].expires_at);
    }
    if (err == LEAL_OK)
        err = cp->sha256(enc, buf_writer_len(&w), md);
    if (err != LEAL_OK)
        return err;
    return leal_hex_encode(md, sizeof md, false, hex, 65);
}

/* Looks the key up; *id 0 if unused, else the entry and its stored hash. */
static leal_err key_lookup(struct ledger *l, const struct ledger_entry *e, int64_t *id,
                           char hash[65])
{
    struct store_stmt *st;
    int row;
    leal_err err;
    *id = 0;
    hash[0] = '\0';
    if (e->terminal_id && e->terminal_id == l->untaken.terminal &&
        e->terminal_epoch == l->untaken.epoch && e->terminal_seq >= l->untaken.first &&
        e->terminal_seq <= l->untaken.last)
        return LEAL_OK;
    if (e->terminal_id) {
        if ((err = store_prep(l, ST_KEY_TERMINAL, &st)) != LEAL_OK)
            return err;
        store_bind_i64(st, 1, e->terminal_id);
        store_bind_i64(st, 2, e->terminal_epoch);
        store_bind_i64(st, 3, e->terminal_seq);
    } else {
        if ((err = store_prep(l, ST_KEY_REQUEST, &st)) != LEAL_OK)
            return err;
        store_bind_text(st, 1, e->request_id);
    }
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row) {
        *id = store_col_i64(st, 0);
        store_col_text(st, 1, hash, 65);
    }
    store_reset(st);
    return err;
}

/* A void of a spend gives back to the lots that spend took from on this
 * account, up to *left, which it lowers by what it gave. */
static leal_err lots_give_back(struct ledger *l, const struct ledger_entry *e,
                               const struct ledger_line *ln, int64_t *left)
{
    /* Collect first: the updates below must not run under the open query. */
    int64_t uses[LEDGER_MAX_LINES][3];
    struct store_stmt *st;
    size_t n = 0;
    leal_err err;
    if ((err = store_prep(l, ST_LOT_USED_BY, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(e->reverses), SV_I64(ln->account_id), SV_TEXT(ln->asset)));
    while (store_next_row(l, st, &err) && n < LEDGER_MAX_LINES) {
        uses[n][0] = store_col_i64(st, 0);
        uses[n][1] = store_col_i64(st, 1);
        uses[n][2] = store_col_i64(st, 2);
        n++;
    }
    store_reset(st);
    for (size_t i = 0; err == LEAL_OK && i < n && (*left) > 0; i++) {
        int64_t give = lots_take(uses[i][2], *left);
        if ((err = store_run_i64(l, ST_LOT_GIVE, I64S(uses[i][1], give))) != LEAL_OK ||
            (err = store_run_i64(l, ST_LOT_USE_GIVE, I64S(uses[i][0], uses[i][1], give))) !=
                LEAL_OK)
            break;
        *left -= give;
    }
    return err;
}

/* Credits ln->amount points: given back to the lots a reversed spend took
 * from, the rest a new lot expiring as the program says (firmware/core/lots.h). */
static leal_err lots_credit(struct ledger *l, const struct ledger_entry *e,
                            const struct ledger_line *ln, int64_t line_id, int64_t at)
{
    int64_t left = ln->amount, days = 0, expires;
    leal_err err;

    if (e->reverses && ((err = lots_give_back(l, e, ln, &left)) != LEAL_OK || left == 0))
        return err;
    if (ln->expires_at == 0 && (err = store_expiry_get(l, e->program_id, &days)) != LEAL_OK)
        return err;
    if ((err = lots_expiry(at, days, ln->expires_at, &expires)) != LEAL_OK)
        return err;
    return store_run_vals(l, ST_LOT_INSERT,
                          SVALS(SV_I64(ln->account_id), SV_TEXT(ln->asset), SV_I64(line_id),
                                SV_I64_OR_NULL(expires), SV_I64(left)),
                          NULL);
}

/* The first open lot of ln's account and asset in the order of lots_before:
 * a reversed earn's own lots (ST_LOT_OPEN), then nearest expiry, lots
 * without expiry last (ST_LOT_DATED, ST_LOT_UNDATED); *row 0 when none. */
static leal_err lot_first(struct ledger *l, const struct ledger_entry *e,
                          const struct ledger_line *ln, int64_t *lot, int64_t *rem, int *row)
{
    static const enum st order[2][2] = {{ST_LOT_DATED, ST_LOT_UNDATED}, {ST_LOT_OPEN, ST_COUNT}};
    const enum st *q = order[e->reverses != 0];
    struct store_stmt *st;
    leal_err err = LEAL_OK;
    *row = 0;
    *lot = 0;
    *rem = 0;
    for (int i = 0; i < 2 && q[i] != ST_COUNT && !*row && err == LEAL_OK; i++) {
        if ((err = store_prep(l, q[i], &st)) != LEAL_OK)
            return err;
        if (q[i] == ST_LOT_OPEN)
            store_bind(st, SVALS(SV_I64(ln->account_id), SV_TEXT(ln->asset), SV_I64(e->reverses)));
        else
            store_bind(st, SVALS(SV_I64(ln->account_id), SV_TEXT(ln->asset)));
        err = store_step(l, st, row);
        *lot = *row ? store_col_i64(st, 0) : 0;
        *rem = *row ? store_col_i64(st, 1) : 0;
        store_reset(st);
    }
    return err;
}

/* On PostgreSQL, a debit that reverses nothing in one statement instead
 * of two to four for each lot (lot_first, ST_LOT_TAKE, ST_LOT_USE_INSERT):
 * the open lots in lot_first's order (nearest expiry, lots without expiry
 * last, then by id), each with what the lots before it hold; each lot that
 * the ones before leave short takes lots_take(remaining, need - before);
 * the statement returns what they took in all. */
#define LOTS_DEBIT_PG_SQL                                                                          \
    "WITH c AS (SELECT id, remaining, sum(remaining) OVER (ORDER BY expires_at NULLS LAST, id "    \
    "ROWS UNBOUNDED PRECEDING) - remaining AS before FROM lot WHERE account_id = ?1 AND asset = "  \
    "?2 AND remaining > 0), k AS (SELECT id, least(remaining, ?3 - before)::bigint AS take FROM "  \
    "c WHERE before < ?3), u AS (UPDATE lot o SET remaining = o.remaining - k.take FROM k WHERE "  \
    "o.id = k.id RETURNING o.id, k.take), w AS (INSERT INTO lot_use(line_id, lot_id, amount) "     \
    "SELECT ?4, id, take FROM u) SELECT coalesce(sum(take), 0)::bigint FROM u"

static leal_err lots_debit_pg(struct ledger *l, const struct ledger_line *ln, int64_t line_id)
{
    struct store_stmt *st;
    int64_t took = 0;
    leal_err err;
    int row = 0;
    if ((err = store_prep_once(l, LOTS_DEBIT_PG_SQL, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_I64(ln->account_id), SV_TEXT(ln->asset), SV_I64(-ln->amount),
                         SV_I64(line_id)));
    while ((err = store_step(l, st, &row)) == LEAL_OK && row)
        took = store_col_i64(st, 0);
    store_finalize(st);
    if (err == LEAL_OK && took != -ln->amount) {
        store_set_msg(l, "account %lld: lots hold less than the balance",
                      (long long)ln->account_id);
        return LEAL_E_LEDGER_MISMATCH;
    }
    return err;
}

/* Takes -ln->amount from the account's open lots in the order of
 * lots_before (lot_first): a reversed earn's own lots, then nearest expiry. */
static leal_err lots_debit(struct ledger *l, const struct ledger_entry *e,
                           const struct ledger_line *ln, int64_t line_id)
{
    int64_t need = -ln->amount;
    leal_err err;
    int row;

    if (l->pg != NULL && e->reverses == 0)
        return lots_debit_pg(l, ln, line_id);
    while (need > 0) {
        int64_t lot, rem, take;
        if ((err = lot_first(l, e, ln, &lot, &rem, &row)) != LEAL_OK)
            return err;
        if (!row) {
            store_set_msg(l, "account %lld: lots hold less than the balance",
                          (long long)ln->account_id);
            return LEAL_E_LEDGER_MISMATCH;
        }
        take = lots_take(rem, need);
        if ((err = store_run_i64(l, ST_LOT_TAKE, I64S(lot, take))) != LEAL_OK ||
            (err = store_run_i64(l, ST_LOT_USE_INSERT, I64S(line_id, lot, take))) != LEAL_OK)
            return err;
        need -= take;
    }
    return LEAL_OK;
}

/* A cached lookup by ?1 = key of a row whose first column is its program:
 * LEAL_E_UNKNOWN_ID without a row, LEAL_E_WRONG_PROGRAM in another program,
 * both naming "what key". */
static leal_err in_program(struct ledger *l, enum st id, int64_t key, int64_t program,
                           const char *what)
{
    struct store_stmt *st;
    int64_t prog;
    leal_err err;
    int row;
    if ((err = store_prep(l, id, &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, key);
    err = store_step(l, st, &row);
    prog = store_col_i64(st, 0);
    store_reset(st);
    if (err != LEAL_OK)
        return err;
    if (!row || prog != program) {
        store_set_msg(l, "%s %lld", what, (long long)key);
        return row ? LEAL_E_WRONG_PROGRAM : LEAL_E_UNKNOWN_ID;
    }
    return LEAL_OK;
}

/* Reads entry id (its program, store and card into out) for reversing it:
 * an unknown entry or a void is refused. */
static leal_err entry_to_reverse(struct ledger *l, int64_t id, struct ledger_entry *out)
{
    struct store_stmt *st;
    char kind[16];
    leal_err err;
    if ((err = store_prep(l, ST_ENTRY_GET, &st)) != LEAL_OK)
        return err;
    store_bind_i64(st, 1, id);
    err = store_step_found(l, st, "entry", id);
    store_col_text(st, 0, kind, sizeof kind);
    out->program_id = store_col_i64(st, 1);
    out->store_id = store_col_i64(st, 2);
    out->card_id = store_col_i64(st, 3);
    store_reset(st);
    if (err == LEAL_OK && strcmp(kind, "void") == 0) {
        store_set_msg(l, "entry %lld is a void", (long long)id);
        err = LEAL_E_VOID_OF_VOID;
    }
    return err;
}

/* store_exists(ST_PROGRAM_EXISTS) through the transaction's cache. */
static leal_err program_known(struct ledger *l, int64_t program_id)
{
    struct txc_slot *s;
    int fresh;
    leal_err err = store_txc_get(l, TXC_PROGRAM, program_id, "", &s, &fresh);
    if (err == LEAL_OK && fresh &&
        (err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program")) == LEAL_OK)
        store_txc_keep(l, s, TXC_PROGRAM, program_id, "");
    return err;
}

/* An account's program and kind through the transaction's cache: *found 0
 * for an unknown account. */
static leal_err account_of(struct ledger *l, int64_t account_id, int *found, int64_t *program,
                           enum ledger_account_kind *kind)
{
    struct store_stmt *st;
    struct txc_slot *s;
    int fresh;
    leal_err err = store_txc_get(l, TXC_ACCOUNT, account_id, "", &s, &fresh);
    if (err != LEAL_OK)
        return err;
    if (fresh) {
        if ((err = store_prep(l, ST_ACCOUNT_GET, &st)) != LEAL_OK)
            return err;
        store_bind_i64(st, 1, account_id);
        err = store_step(l, st, found);
        s->v = store_col_i64(st, 0);
        s->kind = ledger_account_kind_of(store_col_str(st, 1));
        store_reset(st);
        if (err != LEAL_OK || !*found) {
            s->v = 0;
            s->kind = 0;
            return err;
        }
        store_txc_keep(l, s, TXC_ACCOUNT, account_id, "");
    }
    *found = 1;
    *program = s->v;
    *kind = s->kind;
    return LEAL_OK;
}

/* The references an entry makes, checked for existence and program. */
static leal_err entry_refs(struct ledger *l, const struct ledger_entry *e, int64_t *store_id)
{
    struct store_stmt *st;
    leal_err err;
    int row;

    *store_id = e->store_id;
    if ((err = program_known(l, e->program_id)) != LEAL_OK)
        return err;
    if (e->terminal_id) {
        int64_t tstore, tprog, epoch;
        struct txc_slot *t;
        if ((err = store_terminal_get(l, e->terminal_id, &t)) != LEAL_OK)
            return err;
        tstore = t->v;
        tprog = t->v2;
        epoch = t->db;
        if (tprog != e->program_id || (e->store_id && e->store_id != tstore)) {
            store_set_msg(l, "terminal %lld", (long long)e->terminal_id);
            return LEAL_E_WRONG_PROGRAM;
        }
        if (e->terminal_epoch > epoch) {
            store_set_msg(l, "terminal %lld is at epoch %lld, not %lld", (long long)e->terminal_id,
                          (long long)epoch, (long long)e->terminal_epoch);
            return LEAL_E_UNKNOWN_ID;
        }
        *store_id = tstore;
    } else if (e->store_id) {
        if ((err = in_program(l, ST_STORE_GET, e->store_id, e->program_id, "store")) != LEAL_OK)
            return err;
    }
    if (e->card_id) {
        struct txc_slot *c;
        if ((err = store_card_get(l, e->card_id, &c, &row)) != LEAL_OK)
            return err;
        if (!row || c->v2 != e->program_id) {
            store_set_msg(l, "card %lld", (long long)e->card_id);
            return row ? LEAL_E_WRONG_PROGRAM : LEAL_E_UNKNOWN_ID;
        }
    }
    if (e->reverses) {
        struct ledger_entry orig;
        if ((err = entry_to_reverse(l, e->reverses, &orig)) != LEAL_OK)
            return err;
        if (orig.program_id != e->program_id) {
            store_set_msg(l, "entry %lld", (long long)e->reverses);
            return LEAL_E_WRONG_PROGRAM;
        }
        if (strcmp(e->kind, "void") == 0) {
            if ((err = store_prep(l, ST_VOID_OF, &st)) != LEAL_OK)
                return err;
            store_bind_i64(st, 1, e->reverses);
            err = store_step(l, st, &row);
            int64_t by = row ? store_col_i64(st, 0) : 0;
            store_reset(st);
            if (err != LEAL_OK)
                return err;
            if (row) {
                store_set_msg(l, "entry %lld was voided by entry %lld", (long long)e->reverses,
                              (long long)by);
                return LEAL_E_ALREADY_VOIDED;
            }
        }
    }
    return LEAL_OK;
}

/* The entry's row (its references checked: entry_refs gave store_id); *id is its id. */
static leal_err entry_insert(struct ledger *l, const struct ledger_entry *e, const char *hash,
                             int64_t at, int64_t store_id, int64_t *id)
{
    /* A terminal's entries are keyed by (terminal, epoch, seq), the others by request id. */
    l->summarize = true;
    return store_run_vals(
        l, ST_ENTRY_INSERT,
        SVALS(SV_I64(e->program_id), SV_TEXT(e->kind), SV_I64(at), SV_I64_OR_NULL(store_id),
              SV_I64_OR_NULL(e->terminal_id), e->terminal_id ? SV_I64(e->terminal_epoch) : SV_NULL,
              e->terminal_id ? SV_I64(e->terminal_seq) : SV_NULL,
              SV_TEXT_OR_NULL(e->terminal_id ? NULL : e->request_id),
              SV_TEXT(e->operator_name ? e->operator_name : ""), SV_TEXT(e->reason),
              SV_TEXT(e->reference ? e->reference : ""), SV_I64(e->spend_cents),
              SV_I64_OR_NULL(e->reverses), SV_I64_OR_NULL(e->card_id), SV_TEXT(hash)),
        id);
}

/* Sessions of a bono kind on a customer's account always have its holding
 * (host/ledger/ledger_bono.h; ledger verify checks both ways), also when
 * they come from a manual post: made with nothing deferred if missing. */
static leal_err bono_holding_of(struct ledger *l, const struct ledger_line *ln)
{
    return store_write(l,
                       "INSERT INTO bono_holding(account_id, bono_id, deferred_cents) VALUES (?1, "
                       "CAST(substr(?2, 6) AS INTEGER), 0) ON CONFLICT (account_id, bono_id) DO "
                       "NOTHING",
                       SVALS(SV_I64(ln->account_id), SV_TEXT(ln->asset)), NULL);
}

/* A line's account (line_post and lines_check, so that the check refuses
 * what the write would): known and of the entry's program, its kind in *kind. */
static leal_err line_account(struct ledger *l, const struct ledger_entry *e,
                             const struct ledger_line *ln, enum ledger_account_kind *kind)
{
    int64_t prog;
    int row;
    leal_err err = account_of(l, ln->account_id, &row, &prog, kind);
    if (err != LEAL_OK)
        return err;
    if (!row || prog != e->program_id) {
        store_set_msg(l, "account %lld", (long long)ln->account_id);
        return row ? LEAL_E_WRONG_PROGRAM : LEAL_E_UNKNOWN_ID;
    }
    return LEAL_OK;
}

/* The refusal of a line that leaves a customer's (or gift card's) balance
 * at v, below zero. */
static leal_err line_overdrawn(struct ledger *l, const struct ledger_line *ln, int64_t v)
{
    store_set_msg(l, "account %lld would hold %lld %s", (long long)ln->account_id, (long long)v,
                  ln->asset);
    return LEAL_E_INSUFFICIENT_FUNDS;
}

/* One line of entry entry_id after its row (line_id): its balance moved,
 * its point lots. */
static leal_err line_moved(struct ledger *l, const struct ledger_entry *e, size_t i,
                           int64_t line_id, int64_t at, bool lot_done)
{
    const struct ledger_line *ln = &e->lines[i];
    enum ledger_account_kind kind;
    struct txc_slot *bs;
    leal_err err;

    /* Its account, checked already: the transaction's cache answers. */
    if ((err = line_account(l, e, ln, &kind)) != LEAL_OK)
        return err;

    /* The move in the transaction's cache; the row takes the transaction's
     * moves summed, before its COMMIT (store_bal_add): a program account
     * that every entry of an import moves is written once, not per line. */
    if ((err = store_bal_get(l, ln->account_id, ln->asset, &bs)) != LEAL_OK ||
        (err = store_bal_add(l, bs, ln->amount)) != LEAL_OK)
        return err;
    if (kind == LEDGER_ACCOUNT_PROGRAM)
        return LEAL_OK;
    if (bs->v < 0)
        return line_overdrawn(l, ln, bs->v);
    if (strncmp(ln->asset, "BONO:", 5) == 0)
        return bono_holding_of(l, ln);
    if (strcmp(ln->asset, "PTS") != 0 || lot_done)
        return LEAL_OK;
    return ln->amount > 0 ? lots_credit(l, e, ln, line_id, at) : lots_debit(l, e, ln, line_id);
}

/* One line of entry entry_id: its row, its balance moved, its point lots. */
static leal_err line_post(struct ledger *l, const struct ledger_entry *e, size_t i,
                          int64_t entry_id, int64_t at)
{
    const struct ledger_line *ln = &e->lines[i];
    enum ledger_account_kind kind;
    int64_t line_id;
    leal_err err;

    if ((err = line_account(l, e, ln, &kind)) != LEAL_OK)
        return err;
    if ((err = store_run_vals(l, ST_LINE_INSERT,
                              SVALS(SV_I64(entry_id), SV_I64(ln->account_id), SV_TEXT(ln->asset),
                                    SV_I64(ln->amount)),
                              &line_id)) != LEAL_OK)
        return err;
    return line_moved(l, e, i, line_id, at, false);
}

/* What line_post refuses, line by line in its order, before anything is
 * written: an account unknown or of another program, and a customer's (or
 * gift card's) balance the lines so far leave below zero. A sum past int64
 * stops the check: line_post fails there as it would have (not a refusal). */
static leal_err lines_check(struct ledger *l, const struct ledger_entry *e)
{
    for (size_t i = 0; i < e->nlines; i++) {
        const struct ledger_line *ln = &e->lines[i];
        enum ledger_account_kind kind;
        struct txc_slot *bs;
        leal_err err;
        int64_t v;
        if ((err = line_account(l, e, ln, &kind)) != LEAL_OK)
            return err;
        if ((err = store_bal_get(l, ln->account_id, ln->asset, &bs)) != LEAL_OK)
            return err;
        v = bs->v;
        for (size_t j = 0; j <= i; j++)
            if (e->lines[j].account_id == ln->account_id &&
                strcmp(e->lines[j].asset, ln->asset) == 0 &&
                __builtin_add_overflow(v, e->lines[j].amount, &v))
                return LEAL_OK;
        if (kind != LEDGER_ACCOUNT_PROGRAM && v < 0)
            return line_overdrawn(l, ln, v);
    }
    return LEAL_OK;
}

leal_err ledger_post_check(struct ledger *l, const struct ledger_entry *e, const char *hash,
                           int64_t *entry_id, bool *replayed, struct post_checked *c)
{
    leal_err err;
    int64_t id, store_id;
    char old[65];

    *entry_id = 0;
    *replayed = false;
    c->at = e->at ? e->at : ledger_now();
    if ((err = key_lookup(l, e, &id, old)) != LEAL_OK)
        return err;
    if (id != 0) {
        if (strcmp(old, hash) == 0) {
            *entry_id = id;
            *replayed = true;
            return LEAL_OK;
        }
        /* A second, different void of the same entry says what it is. */
        if (strcmp(e->kind, "void") == 0 && entry_refs(l, e, &store_id) == LEAL_E_ALREADY_VOIDED)
            return LEAL_E_ALREADY_VOIDED;
        store_set_msg(l, "the key is entry %lld's", (long long)id);
        return LEAL_E_IDEMPOTENCY_CONFLICT;
    }
    if ((err = entry_refs(l, e, &c->store_id)) != LEAL_OK)
        return err;
    return lines_check(l, e);
}

/* On PostgreSQL the entry's row, its lines' rows and the points lots its
 * lines open are one statement, one round trip where each insert waited
 * for the new id the next names: the lines go as three arrays (account,
 * asset, amount, in the entry's order, their ids taken in that order) into
 * an INSERT ... SELECT from the entry's own INSERT ... RETURNING, and each
 * new lot (lots_credit's, of a line that reverses nothing) as its line's
 * place, expiry and points. What line_post checks before its insert
 * (line_account) lines_check has checked for every line already; what it
 * does after (line_moved) follows for each line as on SQLite, its lot
 * written already. When the entry is the post of the journal entry an
 * import is taking (l->te, store.h), that entry's terminal_entry row is one
 * more insert of the same statement (POST_ROWS_TE_PG_SQL). A refused row
 * names its table as before (store_pg.c reads it from the error). */
#define POST_ROWS_PG_SQL POST_ROWS_PG_WITH " SELECT entry_id, id FROM n"
#define POST_ROWS_TE_PG_SQL                                                                        \
    POST_ROWS_PG_WITH ", x AS (" STORE_TE_INSERT " VALUES (?22, ?23, ?24, ?25, ?26, ?27, ?28, "    \
                      "?29, 'posted', (SELECT id FROM e), ?30, ?31)) SELECT entry_id, id FROM n"
#define POST_ROWS_PG_WITH                                                                          \
    "WITH e AS (" PG_ENTRY_INSERT " RETURNING id), n AS (INSERT INTO line(entry_id, account_id, "  \
    "asset, amount) SELECT e.id, u.a, u.s, u.m FROM e, unnest(?16::bigint[], ?17::text[], "        \
    "?18::bigint[]) WITH ORDINALITY AS u(a, s, m, o) ORDER BY u.o RETURNING entry_id, id, "        \
    "account_id, asset), t AS (INSERT INTO lot(account_id, asset, line_id, expires_at, original, " \
    "remaining) SELECT x.account_id, x.asset, x.id, k.x, k.p, k.p FROM (SELECT n.*, row_number() " \
    "OVER (ORDER BY n.id) AS o FROM n) AS x JOIN unnest(?19::bigint[], ?20::bigint[], "            \
    "?21::bigint[]) AS k(o, x, p) ON k.o = x.o ORDER BY x.o)"
#define PG_ENTRY_INSERT                                                                            \
    "INSERT INTO entry(program_id, kind, at, store_id, terminal_id, terminal_epoch, "              \
    "terminal_seq, request_id, operator, reason, reference, spend_cents, reverses, card_id, "      \
    "content_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"

/* Array literals of the lines: "{...}" of numbers (NULL for 0 where
 * nullable), or of quoted text; and of the lots they open. */
struct post_arrays {
    char acc[LEDGER_MAX_LINES * 21 + 3];
    char asset[LEDGER_MAX_LINES * (2 * LEDGER_MAX_ASSET + 3) + 3];
    char amount[LEDGER_MAX_LINES * 21 + 3];
    char lot_at[LEDGER_MAX_LINES * 21 + 3];
    char lot_expires[LEDGER_MAX_LINES * 21 + 3];
    char lot_points[LEDGER_MAX_LINES * 21 + 3];
    bool lot[LEDGER_MAX_LINES];
    size_t nlots;
};

static void arr_num(char *out, size_t cap, size_t i, int64_t v, bool null0)
{
    size_t n = strlen(out);
    if (null0 && v == 0)
        snprintf(out + n, cap - n, "%sNULL", i ? "," : "");
    else
        snprintf(out + n, cap - n, "%s%lld", i ? "," : "", (long long)v);
}

static void arr_end(char *out, size_t cap)
{
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "}");
}

static void arr_text(char *out, size_t cap, size_t i, const char *t)
{
    size_t n = strlen(out);
    if (i && n + 1 < cap)
        out[n++] = ',';
    if (n + 1 < cap)
        out[n++] = '"';
    for (; *t && n + 3 < cap; t++) {
        if (*t == '"' || *t == '\\')
            out[n++] = '\\';
        out[n++] = *t;
    }
    if (n + 1 < cap)
        out[n++] = '"';
    out[n] = '\0';
}

/* The arrays of e's lines, and of the lots line_moved would open with
 * lots_credit (a customer's points credited by an entry that reverses
 * nothing: no lot to give back to), each with its expiry as lots_credit
 * computes it. */
static leal_err post_arrays_of(struct ledger *l, const struct ledger_entry *e, int64_t at,
                               struct post_arrays *a)
{
    leal_err err;
    memset(a->lot, 0, sizeof a->lot);
    a->nlots = 0;
    snprintf(a->acc, sizeof a->acc, "{");
    snprintf(a->asset, sizeof a->asset, "{");
    snprintf(a->amount, sizeof a->amount, "{");
    snprintf(a->lot_at, sizeof a->lot_at, "{");
    snprintf(a->lot_expires, sizeof a->lot_expires, "{");
    snprintf(a->lot_points, sizeof a->lot_points, "{");
    for (size_t i = 0; i < e->nlines; i++) {
        const struct ledger_line *ln = &e->lines[i];
        enum ledger_account_kind kind;
        int64_t days = 0, expires;
        arr_num(a->acc, sizeof a->acc, i, ln->account_id, false);
        arr_text(a->asset, sizeof a->asset, i, ln->asset);
        arr_num(a->amount, sizeof a->amount, i, ln->amount, false);
        if (e->reverses || ln->amount <= 0 || strcmp(ln->asset, "PTS") != 0)
            continue;
        if ((err = line_account(l, e, ln, &kind)) != LEAL_OK)
            return err;
        if (kind == LEDGER_ACCOUNT_PROGRAM)
            continue;
        if (ln->expires_at == 0 && (err = store_expiry_get(l, e->program_id, &days)) != LEAL_OK)
            return err;
        if ((err = lots_expiry(at, days, ln->expires_at, &expires)) != LEAL_OK)
            return err;
        arr_num(a->lot_at, sizeof a->lot_at, a->nlots, (int64_t)i + 1, false);
        arr_num(a->lot_expires, sizeof a->lot_expires, a->nlots, expires, true);
        arr_num(a->lot_points, sizeof a->lot_points, a->nlots, ln->amount, false);
        a->lot[i] = true;
        a->nlots++;
    }
    arr_end(a->acc, sizeof a->acc);
    arr_end(a->asset, sizeof a->asset);
    arr_end(a->amount, sizeof a->amount);
    arr_end(a->lot_at, sizeof a->lot_at);
    arr_end(a->lot_expires, sizeof a->lot_expires);
    arr_end(a->lot_points, sizeof a->lot_points);
    return LEAL_OK;
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static leal_err post_write_pg(struct ledger *l, const struct ledger_entry *e, const char *hash,
                              const struct post_checked *c, int64_t *entry_id)
{
    struct post_arrays a;
    int64_t line_ids[LEDGER_MAX_LINES], id = 0;
    struct store_te_row *te = l->te;
    struct store_stmt *st;
    size_t n = 0;
    leal_err err;
    int row = 0;

    if (te != NULL && (te->entry_id != 0 || e->terminal_id != te->terminal ||
                       e->terminal_epoch != te->epoch || e->terminal_seq != te->seq))
        te = NULL; /* another post than the journal entry's own */
    if ((err = post_arrays_of(l, e, c->at, &a)) != LEAL_OK)
        return err;
    l->summarize = true;
    if ((err = store_prep_once(l, te ? POST_ROWS_TE_PG_SQL : POST_ROWS_PG_SQL, &st)) != LEAL_OK)
        return err;
    if (te != NULL)
        store_bind_at(st, 22,
                      SVALS(SV_I64(te->terminal), SV_I64(te->epoch), SV_I64(te->seq),
                            SV_I64(te->op), SV_I64_OR_NULL(te->card_id), SV_I64(te->at),
                            SV_I64(te->key_version), SV_BLOB(te->mac, te->mac_len),
                            SV_BLOB(te->raw, te->raw_len), SV_I64(te->taken_at)));
    store_bind(st, SVALS(SV_I64(e->program_id), SV_TEXT(e->kind), SV_I64(c->at),
                         SV_I64_OR_NULL(c->store_id), SV_I64_OR_NULL(e->terminal_id),
                         e->terminal_id ? SV_I64(e->terminal_epoch) : SV_NULL,
                         e->terminal_id ? SV_I64(e->terminal_seq) : SV_NULL,
                         SV_TEXT_OR_NULL(e->terminal_id ? NULL : e->request_id),
                         SV_TEXT(e->operator_name ? e->operator_name : ""), SV_TEXT(e->reason),
                         SV_TEXT(e->reference ? e->reference : ""), SV_I64(e->spend_cents),
                         SV_I64_OR_NULL(e->reverses), SV_I64_OR_NULL(e->card_id), SV_TEXT(hash),
                         SV_TEXT(a.acc), SV_TEXT(a.asset), SV_TEXT(a.amount), SV_TEXT(a.lot_at),
                         SV_TEXT(a.lot_expires), SV_TEXT(a.lot_points)));
    while ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        if (n < LEDGER_MAX_LINES) {
            id = store_col_i64(st, 0);
            line_ids[n] = store_col_i64(st, 1);
        }
        n++;
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    if (n != e->nlines) {
        store_set_msg(l, "entry %lld: %zu of its %zu lines written", (long long)id, n, e->nlines);
        return LEAL_E_DB;
    }
    /* The ids ascend in the lines' order (ORDER BY u.o); the rows may come back in any. */
    qsort(line_ids, n, sizeof line_ids[0], id_cmp);
    if (te != NULL)
        te->entry_id = id;
    for (size_t i = 0; i < e->nlines; i++)
        if ((err = line_moved(l, e, i, line_ids[i], c->at, a.lot[i])) != LEAL_OK)
            return err;
    *entry_id = id;
    return LEAL_OK;
}

leal_err ledger_post_write(struct ledger *l, const struct ledger_entry *e, const char *hash,
                           const struct post_checked *c, int64_t *entry_id)
{
    leal_err err;
    int64_t id;
    if (l->pg != NULL)
        return post_write_pg(l, e, hash, c, entry_id);
    if ((err = entry_insert(l, e, hash, c->at, c->store_id, &id)) != LEAL_OK)
        return err;
    for (size_t i = 0; i < e->nlines; i++)
        if ((err = line_post(l, e, i, id, c->at)) != LEAL_OK)
            return err;
    *entry_id = id;
    return LEAL_OK;
}

leal_err ledger_post_locked(struct ledger *l, const struct ledger_entry *e, const char *hash,
                            int64_t *entry_id, bool *replayed)
{
    struct post_checked c;
    leal_err err = ledger_post_check(l, e, hash, entry_id, replayed, &c);
    if (err != LEAL_OK || *replayed)
        return err;
    return ledger_post_write(l, e, hash, &c, entry_id);
}

leal_err ledger_post(struct ledger *l, const struct ledger_entry *e, int64_t *entry_id,
                     bool *replayed)
{
    struct post_checked c;
    char hash[65];
    leal_err err;

    *entry_id = 0;
    *replayed = false;
    l->msg[0] = '\0';
    if ((err = ledger_entry_check(l, e)) != LEAL_OK)
        return err;
    if ((err = ledger_entry_hash(l->crypto, e, hash)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = ledger_post_check(l, e, hash, entry_id, replayed, &c);
    if (err != LEAL_OK && l->in_batch == BATCH_CHECKED) {
        *entry_id = 0; /* refused before anything was written: the batch goes on */
        return err;
    }
    if (err == LEAL_OK && !*replayed)
        err = ledger_post_write(l, e, hash, &c, entry_id);
    err = store_tx_end(l, err);
    if (err != LEAL_OK) {
        *entry_id = 0;
        *replayed = false;
        /* A terminal_entry row it wrote (struct store_te_row) went with it. */
        if (l->te != NULL && e->terminal_id == l->te->terminal &&
            e->terminal_epoch == l->te->epoch && e->terminal_seq == l->te->seq)
            l->te->entry_id = 0;
    }
    return err;
}

leal_err ledger_void(struct ledger *l, const struct ledger_void_request *rq, int64_t *void_id,
                     bool *replayed)
{
    int64_t entry_id = rq->entry_id;
    struct ledger_line lines[LEDGER_MAX_LINES];
    struct ledger_entry e;
    struct store_stmt *st;
    char key[64];
    size_t n = 0;
    leal_err err;

    *void_id = 0;
    *replayed = false;
    memset(&e, 0, sizeof e);
    memset(lines, 0, sizeof lines);
    /* Entries never change, so reading the original outside the write
     * transaction is safe; ledger_post re-checks voids under the lock. */
    if ((err = entry_to_reverse(l, entry_id, &e)) != LEAL_OK)
        return err;
    if ((err = store_prep_i64(
             l, "SELECT account_id, asset, amount FROM line WHERE entry_id = ?1 ORDER BY id", &st,
             I64S(entry_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err) && n < LEDGER_MAX_LINES) {
        lines[n].account_id = store_col_i64(st, 0);
        store_col_text(st, 1, lines[n].asset, sizeof lines[n].asset);
        lines[n].amount = -store_col_i64(st, 2);
        n++;
    }
    store_finalize(st);
    if (err != LEAL_OK)
        return err;
    snprintf(key, sizeof key, "void:%lld", (long long)entry_id);
    e.kind = "void";
    e.request_id = ledger_empty(rq->request_id) ? key : rq->request_id;
    e.operator_name = rq->operator_name;
    e.reason = rq->reason;
    e.reverses = entry_id;
    e.nlines = n;
    e.lines = lines;
    return ledger_post(l, &e, void_id, replayed);
}

/* Accounts of a program holding points expired at `at`, and how many: (*due)[i]
 * is {account, points}; the caller frees *due. */
static leal_err expired_due(struct ledger *l, int64_t program_id, int64_t at, int64_t (**due)[2],
                            size_t *n)
{
    struct store_stmt *st;
    size_t cap = 0;
    leal_err err;
    *due = NULL;
    *n = 0;
    err = store_prep_i64(l,
                         "SELECT o.account_id, sum(o.remaining) FROM lot o JOIN account a ON a.id "
                         "= o.account_id WHERE a.program_id = ?1 AND o.asset = 'PTS' AND "
                         "o.remaining > 0 AND o.expires_at <= ?2 GROUP BY o.account_id ORDER BY "
                         "o.account_id",
                         &st, I64S(program_id, at));
    if (err != LEAL_OK)
        return err;
    /* Read them all first: posting changes the lots (and their index) the
     * query walks. */
    while (store_next_row(l, st, &err)) {
        if ((err = grow_room(due, &cap, *n, sizeof **due)) != LEAL_OK)
            break;
        (*due)[*n][0] = store_col_i64(st, 0);
        (*due)[*n][1] = store_col_i64(st, 1);
        (*n)++;
    }
    store_finalize(st);
    return err;
}

/* Moves `points` expired at `at` from account to the program's expired account. */
static leal_err expire_one(struct ledger *l, const struct ledger_entry *tmpl, int64_t account,
                           int64_t points, int64_t expired_acct)
{
    struct ledger_line lines[2];
    struct ledger_entry e = *tmpl;
    char req[64];
    int64_t id;
    bool rep;
    memset(lines, 0, sizeof lines);
    lines[0].account_id = account;
    lines[0].amount = -points;
    lines[1].account_id = expired_acct;
    lines[1].amount = points;
    snprintf(lines[0].asset, sizeof lines[0].asset, "PTS");
    snprintf(lines[1].asset, sizeof lines[1].asset, "PTS");
    snprintf(req, sizeof req, "expire:%lld:%lld", (long long)account, (long long)e.at);
    e.request_id = req;
    e.lines = lines;
    e.nlines = 2;
    return ledger_post(l, &e, &id, &rep);
}

leal_err ledger_expire_points(struct ledger *l, int64_t program_id, int64_t at,
                              const char *operator_name, int64_t *accounts, int64_t *points)
{
    int64_t expired_acct, total = 0, (*due)[2] = NULL;
    struct ledger_entry e;
    size_t n = 0;
    leal_err err;
    int own_batch = l->in_batch == BATCH_NONE;

    *accounts = 0;
    *points = 0;
    if (at <= 0 || ledger_empty(operator_name))
        return at <= 0 ? LEAL_E_ARG : LEAL_E_REASON_REQUIRED;
    if ((err = ledger_program_account(l, program_id, "points_expired", &expired_acct)) != LEAL_OK)
        return err;
    /* One transaction: nothing may spend the expired lots between finding
     * them and moving them. */
    if (own_batch && (err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    memset(&e, 0, sizeof e);
    e.program_id = program_id;
    e.kind = "expire";
    e.at = at;
    e.operator_name = operator_name;
    e.reason = "points expired";
    err = expired_due(l, program_id, at, &due, &n);
    for (size_t i = 0; err == LEAL_OK && i < n; i++) {
        err = expire_one(l, &e, due[i][0], due[i][1], expired_acct);
        total += due[i][1];
    }
    free(due);
    if (own_batch) {
        if (err == LEAL_OK)
            err = ledger_batch_commit(l);
        else
            ledger_batch_rollback(l);
    }
    if (err == LEAL_OK) {
        *accounts = (int64_t)n;
        *points = total;
    }
    return err;
}
