/* ledger_qr.c - a QR spending code seen at two terminals (ledger_qr.h). */
#include "ledger_qr.h"

#include <stdio.h>
#include <string.h>

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
