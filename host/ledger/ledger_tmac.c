/* ledger_tmac.c - TMAC entries and their checks in the ledger (ledger_tmac.h). */
#include "ledger_tmac.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

#define TODO_SQL                                                                                   \
    "SELECT x.terminal_id, x.epoch, x.seq, x.raw FROM terminal_entry x WHERE x.terminal_id = ?1 "  \
    "AND x.op = 11 AND NOT EXISTS (SELECT 1 FROM terminal_tmac m WHERE m.terminal_id = "           \
    "x.terminal_id AND m.epoch = x.epoch AND m.seq = x.seq) ORDER BY x.epoch, x.seq LIMIT ?2"
#define ENTRY_SQL                                                                                  \
    "SELECT raw FROM terminal_entry WHERE terminal_id = ?1 AND epoch = ?2 AND seq = ?3"
#define OTHER_SQL                                                                                  \
    "SELECT terminal_id, epoch, seq FROM terminal_tmac WHERE card_id = ?1 AND tmc = ?2 AND NOT "   \
    "(terminal_id = ?3 AND epoch = ?4 AND seq = ?5) ORDER BY terminal_id, epoch, seq LIMIT 1"
#define HIGHEST_SQL                                                                                \
    "SELECT coalesce(max(tmc), -1) FROM terminal_tmac WHERE card_id = ?1 AND verdict IN ('ok', "   \
    "'altered')"
#define RECORD_SQL                                                                                 \
    "INSERT INTO terminal_tmac(terminal_id, epoch, seq, card_id, tmc, tmv, verdict, detail) "      \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"

leal_err ledger_tmac_todo(struct ledger *l, int64_t terminal_id, struct ledger_tmac_todo *out,
                          size_t cap, size_t *n)
{
    struct store_stmt *st;
    leal_err err;
    *n = 0;
    if (cap == 0 || cap > INT32_MAX)
        return LEAL_E_ARG;
    if ((err = store_prep_i64(l, TODO_SQL, &st, I64S(terminal_id, (int64_t)cap))) != LEAL_OK)
        return err;
    while (*n < cap && store_next_row(l, st, &err)) {
        struct ledger_tmac_todo *t = &out[*n];
        int b = store_col_bytes(st, 3);
        if (b <= 0 || (size_t)b > JOURNAL_ENTRY_MAX)
            continue;
        t->terminal_id = store_col_i64(st, 0);
        t->epoch = store_col_i64(st, 1);
        t->seq = store_col_i64(st, 2);
        memcpy(t->raw, store_col_blob(st, 3), (size_t)b);
        t->raw_len = (size_t)b;
        (*n)++;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_tmac_entry(struct ledger *l, const struct ledger_tmac_key *k,
                           uint8_t raw[JOURNAL_ENTRY_MAX], size_t *len, bool *found)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = store_prep_i64(l, ENTRY_SQL, &st, I64S(k->terminal_id, k->epoch, k->seq));
    *found = false;
    *len = 0;
    if (err != LEAL_OK)
        return err;
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        int b = store_col_bytes(st, 0);
        if (b > 0 && (size_t)b <= JOURNAL_ENTRY_MAX) {
            memcpy(raw, store_col_blob(st, 0), (size_t)b);
            *len = (size_t)b;
            *found = true;
        }
    }
    store_finalize(st);
    return err;
}

leal_err ledger_tmac_other(struct ledger *l, int64_t card_id, uint32_t tmc,
                           const struct ledger_tmac_key *k, struct ledger_tmac_where *out)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = store_prep_i64(l, OTHER_SQL, &st,
                                  I64S(card_id, (int64_t)tmc, k->terminal_id, k->epoch, k->seq));
    out->found = false;
    out->text[0] = '\0';
    if (err != LEAL_OK)
        return err;
    if ((err = store_step(l, st, &row)) == LEAL_OK && row) {
        out->found = true;
        snprintf(out->text, sizeof out->text, "terminal %lld epoch %lld sequence %lld",
                 (long long)store_col_i64(st, 0), (long long)store_col_i64(st, 1),
                 (long long)store_col_i64(st, 2));
    }
    store_finalize(st);
    return err;
}

leal_err ledger_tmac_record(struct ledger *l, const struct ledger_tmac_row *r)
{
    if (r->verdict == NULL || r->detail == NULL)
        return LEAL_E_ARG;
    return store_write(l, RECORD_SQL,
                       SVALS(SV_I64(r->key.terminal_id), SV_I64(r->key.epoch), SV_I64(r->key.seq),
                             SV_I64(r->card_id), SV_I64((int64_t)r->tmc), SV_BLOB(r->tmv, 8),
                             SV_TEXT(r->verdict), SV_TEXT(r->detail)),
                       NULL);
}

leal_err ledger_tmac_highest(struct ledger *l, int64_t card_id, uint32_t *tmc, bool *found)
{
    int64_t v = -1;
    leal_err err = store_query_int(l, HIGHEST_SQL, I64S(card_id), &v);
    *found = err == LEAL_OK && v >= 0 && v <= UINT32_MAX;
    *tmc = *found ? (uint32_t)v : 0;
    return err;
}
