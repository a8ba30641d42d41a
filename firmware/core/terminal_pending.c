/* terminal_pending.c - host changes applied at a tap (terminal_pending.h). */
#include "terminal_pending.h"

leal_err terminal_pending_apply(const struct package_terminal *pk, uint64_t card_id, uint32_t taps,
                                struct state_body *state, struct journal_line *line, bool *applied)
{
    struct package_pending pc;
    bool found = false;
    int64_t points;
    leal_err err;
    if (pk == NULL || state == NULL || line == NULL || applied == NULL)
        return LEAL_E_ARG;
    *applied = false;
    if (!pk->loaded || pk->info.pending_count == 0)
        return LEAL_OK;
    if ((err = package_pending_find(&pk->info, &pk->source, card_id, &found, &pc)) != LEAL_OK ||
        !found || pc.kinds == PACKAGE_CHANGE_QR_ALLOWANCE)
        return err;
    /* At seq: the card's state is the one the host saw at taps (every write
     * that applies changes steps the seq), whatever the counter says. */
    if ((pc.kinds & PACKAGE_CHANGE_AT_SEQ) ? (state->seq & PACKAGE_PENDING_SEQ_MASK) != pc.seq
                                           : pc.taps != taps)
        return LEAL_OK;
    points = (int64_t)state->points + pc.points;
    if (points < 0 || points > (int64_t)UINT32_MAX)
        return LEAL_OK;
    state->points = (uint32_t)points;
    line->source = JOURNAL_LINE_HOST;
    line->rule_index = 0;
    line->id = pc.upto_entry;
    line->points = pc.points;
    *applied = true;
    return LEAL_OK;
}
