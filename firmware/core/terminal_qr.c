/* terminal_qr.c - a QR code taken at an offline terminal (terminal_qr.h). */
#include "firmware/core/terminal_qr.h"

#include "keys/base/bytes.h"
#include "keys/base/ct.h"

/* One code's taking. */
struct qr_tap {
    struct terminal *t;
    const struct terminal_request *req;
    struct terminal_qr_result *out;
    struct port_time now;
    struct rules_civil local;
    uint32_t today; /* the local day */
    bool parsed;    /* tok holds the code's fields (not yet verified) */
    struct qr_token tok;
    struct journal_entry e;
};

static bool hot_listed(void *ctx, uint64_t virtual_card_id)
{
    const struct package_terminal *pk = ctx;
    bool found = true;
    uint8_t why;
    /* A hot list that cannot be read refuses the code rather than take it. */
    if (package_hot_find(&pk->info, &pk->source, virtual_card_id, &found, &why) != LEAL_OK)
        return true;
    return found;
}

/* The entry's fields every QR entry has; the QR line when the code parsed. */
static void entry_base(struct qr_tap *q, uint8_t op)
{
    struct journal_entry *e = &q->e;
    leal_memset(e, 0, sizeof *e);
    e->op = op;
    e->card_kind = JOURNAL_CARD_QR;
    e->utc_seconds = q->now.utc_seconds;
    e->utc_offset_minutes = q->now.utc_offset_minutes;
    e->package_version = q->t->s.package->info.version;
    if (!q->parsed)
        return;
    e->card_id = q->tok.code.virtual_card_id;
}

static void qr_line(struct qr_tap *q)
{
    struct journal_line *l;
    if (!q->parsed || q->e.n_lines >= JOURNAL_MAX_LINES)
        return;
    l = &q->e.lines[q->e.n_lines++];
    leal_memset(l, 0, sizeof *l);
    l->source = JOURNAL_LINE_QR;
    if (q->tok.kind == QR_KIND_SPEND) {
        l->rule_index = JOURNAL_QR_SPEND;
        l->id = q->tok.counter;
        l->points = (int64_t)q->tok.time_step;
    } else {
        l->rule_index = JOURNAL_QR_STATIC;
    }
}

static leal_err append(struct qr_tap *q)
{
    leal_err err;
    qr_line(q);
    if ((err = journal_append(q->t->s.journal, &q->e)) != LEAL_OK)
        return err;
    /* The running summary follows the journal, so the next tap's caps read
     * it instead of a walk (journal_sum.h; a NULL summary is none). */
    journal_sum_add(q->t->s.sum, q->t->s.journal, &q->e);
    q->out->entry.epoch = q->e.epoch;
    q->out->entry.seq = q->e.seq;
    return LEAL_OK;
}

static leal_err refuse(struct qr_tap *q, leal_err reason)
{
    entry_base(q, JOURNAL_OP_REFUSAL);
    q->e.reason = (uint16_t)reason;
    q->e.item = q->req->op;
    q->e.amount_cents = (uint32_t)q->req->amount_cents;
    q->e.purse_cents = (uint32_t)q->req->pay_cents;
    q->out->outcome = TERMINAL_REFUSED;
    q->out->reason = (uint16_t)reason;
    q->out->points = 0;
    q->out->n_lines = 0;
    q->out->quantity = 0;
    return append(q);
}

/* What this terminal's journal holds of a phone. */
struct qr_memory {
    bool seen;         /* a taken entry of the phone */
    uint32_t newest;   /* the newest counter taken from it */
    uint32_t today;    /* the euros it paid on the local day today */
    uint32_t in_range; /* the euros it paid in all the entries looked at */
};

/* The phone's memory from every entry in storage, or (unacked_only) from
 * the entries the host has not acknowledged: what it paid since the last
 * sync. */
static leal_err journal_memory(struct qr_tap *q, bool unacked_only, struct qr_memory *m)
{
    const struct journal *j = q->t->s.journal;
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    leal_err err;
    leal_memset(m, 0, sizeof *m);
    journal_iter_begin(j, &it, unacked_only);
    for (;;) {
        if ((err = journal_iter_next(j, &it, &e, NULL, NULL, &done)) != LEAL_OK)
            return err;
        if (done)
            return LEAL_OK;
        if (e.card_kind != JOURNAL_CARD_QR || e.op == JOURNAL_OP_REFUSAL || e.n_lines == 0 ||
            e.card_id != q->tok.code.virtual_card_id ||
            e.lines[e.n_lines - 1].rule_index != JOURNAL_QR_SPEND)
            continue;
        if (!m->seen || e.lines[e.n_lines - 1].id > m->newest)
            m->newest = e.lines[e.n_lines - 1].id;
        m->seen = true;
        m->in_range += e.purse_cents;
        int64_t local = (int64_t)e.utc_seconds + (int64_t)e.utc_offset_minutes * 60;
        if (local >= 0 && (uint64_t)local / QR_SECONDS_PER_DAY == q->today)
            m->today += e.purse_cents;
    }
}

/* A payment within the lower of each pair of caps (QR.md "Caps"): the
 * phone's certificate (per payment, per day) first, then the package's
 * offline caps per card (per day, between two syncs), which bind a phone as
 * they bind a card, so a certificate enrolled with higher caps never lets a
 * terminal take more than the shop set for any card. */
static leal_err pay_allowed(struct qr_tap *q, const struct qr_memory *all, leal_err *reason)
{
    const struct package_info *pi = &q->t->s.package->info;
    uint32_t pay = (uint32_t)q->req->pay_cents;
    struct qr_memory unsynced;
    leal_err err;
    if ((*reason = qr_spend_allowed(&q->tok, pay, all->today)) != LEAL_OK)
        return LEAL_OK;
    if ((err = journal_memory(q, true, &unsynced)) != LEAL_OK)
        return err;
    if ((uint64_t)all->today + pay > pi->cap_day_cents)
        *reason = LEAL_E_TERMINAL_CAP_DAY;
    else if ((uint64_t)unsynced.in_range + pay > pi->cap_sync_cents)
        *reason = LEAL_E_TERMINAL_CAP_SYNC;
    return LEAL_OK;
}

/* The phone's QR allowance record in the package (PACKAGE.md "Pending
 * changes"): *found false when there is none. */
static leal_err allowance_of(const struct qr_tap *q, struct package_pending *pc, bool *found)
{
    const struct package_terminal *pk = q->t->s.package;
    leal_err err;
    *found = false;
    leal_memset(pc, 0, sizeof *pc);
    if (pk->info.pending_count > 0 &&
        (err = package_pending_find(&pk->info, &pk->source, q->tok.code.virtual_card_id, found,
                                    pc)) != LEAL_OK)
        return err;
    if (*found && pc->kinds != PACKAGE_CHANGE_QR_ALLOWANCE)
        *found = false;
    return LEAL_OK;
}

/* The account's tier for this tap (QR.md "The account's tier"): the one the
 * host signed in the phone's allowance record, while the tap's local period
 * is the one the host reckoned it for; else 0 (a static code, a phone with
 * nothing held, a package from an earlier month: a month's turn can lower a
 * tier, and the terminal cannot see the account's sales to tell). */
static leal_err account_tier(const struct qr_tap *q, uint8_t *tier)
{
    const struct rules_program *pr = &q->t->s.package->rules.program;
    struct package_pending pc;
    bool found;
    leal_err err;
    *tier = 0;
    if ((err = allowance_of(q, &pc, &found)) != LEAL_OK)
        return err;
    if (found && pc.tier != 0 && pc.tier <= pr->n_tiers &&
        pc.tier_period == rules_period(&q->local))
        *tier = pc.tier;
    return LEAL_OK;
}

/* A spend window that gives exactly tier t (its threshold, whole euros, in
 * the buckets of the tap's period): the engine's own tier input, so the
 * tier's line is computed as a card tap's. */
static void window_for(const struct rules_program *pr, uint8_t t, struct state_body *st)
{
    uint32_t left = t == 0 ? 0 : pr->tiers[t - 1].threshold_units;
    for (unsigned i = 0; i < STATE_BUCKETS && left > 0; i++) {
        st->buckets[i] = (uint16_t)(left > 0xFFFFu ? 0xFFFFu : left);
        left -= st->buckets[i];
    }
}

/* The engine's earn on a sale, from an account the terminal cannot see: a
 * state of this period (no welcome: the account had its first sale where
 * it was made), the account's tier as the package tells it (account_tier),
 * no points of any rule today. */
static leal_err plan_earn(struct qr_tap *q)
{
    const struct rules_program *pr = &q->t->s.package->rules.program;
    struct rules_card rc;
    struct rules_sale sale;
    struct rules_result res;
    uint8_t tier;
    leal_err err;
    leal_memset(&rc, 0, sizeof rc);
    rc.state.period = rules_period(&q->local);
    if ((err = account_tier(q, &tier)) != LEAL_OK)
        return err;
    window_for(pr, tier, &rc.state);
    leal_memset(&sale, 0, sizeof sale);
    sale.amount_cents = q->req->amount_cents;
    sale.store_id = q->t->s.cfg.store_id;
    sale.local = q->local;
    sale.n_items = q->req->n_items;
    leal_memcpy(sale.items, q->req->items, sizeof sale.items);
    if ((err = rules_earn(pr, &rc, &sale, &res)) != LEAL_OK)
        return err;
    q->e.amount_cents = (uint32_t)q->req->amount_cents;
    q->e.points = res.points;
    q->e.n_lines = res.n_lines;
    for (uint8_t i = 0; i < res.n_lines; i++) {
        q->e.lines[i].source = res.lines[i].source;
        q->e.lines[i].rule_index = res.lines[i].rule_index;
        q->e.lines[i].id = res.lines[i].id;
        q->e.lines[i].points = res.lines[i].points;
        q->out->lines[i] = res.lines[i];
    }
    q->out->n_lines = res.n_lines;
    q->out->points = res.points;
    /* The stamps the sale gives; any reward for them is the host's to grant
     * from the account's count (JOURNAL.md "QR entries"). */
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++)
        q->e.quantity = (int16_t)(q->e.quantity + res.earned.stamps[i]);
    q->out->quantity = q->e.quantity;
    return LEAL_OK;
}

static bool spends(uint8_t op)
{
    return op == TERMINAL_PAY || op == TERMINAL_PAY_EARN || op == TERMINAL_BONO ||
           op == TERMINAL_REDEEM;
}

/* The points this terminal's journal shows redeemed with the phone under
 * the hold the package names (its up-to entry): every terminal counts its
 * own, as it counts a day's payments; what two terminals together pass is
 * the host's to find at sync (QR.md "Redeeming with a spending code"). */
static leal_err redeemed_here(struct qr_tap *q, uint32_t hold, int64_t *used)
{
    const struct journal *j = q->t->s.journal;
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    leal_err err;
    *used = 0;
    journal_iter_begin(j, &it, false);
    for (;;) {
        if ((err = journal_iter_next(j, &it, &e, NULL, NULL, &done)) != LEAL_OK)
            return err;
        if (done)
            return LEAL_OK;
        if (e.card_kind == JOURNAL_CARD_QR && e.op == JOURNAL_OP_REDEEM &&
            e.card_id == q->tok.code.virtual_card_id && e.ref_seq == hold && e.points < 0)
            *used -= e.points;
    }
}

/* A reward paid from the points the host holds for this phone (the
 * package's QR allowance record, signed with the package): the engine's
 * rules_redeem on a state that holds exactly what is left of it here, at
 * the account's tier the record carries (account_tier). The entry names the
 * hold (ref_seq) and what is left of it after (points_after). */
static leal_err plan_redeem(struct qr_tap *q, leal_err *reason)
{
    const struct package_terminal *pk = q->t->s.package;
    struct package_pending pc;
    struct state_body st;
    struct rules_redeemed red;
    bool found = false;
    int64_t used;
    leal_err err;
    *reason = LEAL_OK;
    if ((err = allowance_of(q, &pc, &found)) != LEAL_OK)
        return err;
    if (!found) {
        *reason = LEAL_E_QR_NO_ALLOWANCE;
        return LEAL_OK;
    }
    if ((err = redeemed_here(q, pc.upto_entry, &used)) != LEAL_OK)
        return err;
    leal_memset(&st, 0, sizeof st);
    st.points = used >= pc.points ? 0u : (uint32_t)(pc.points - used);
    if ((err = account_tier(q, &st.tier)) != LEAL_OK)
        return err;
    err = rules_redeem(&pk->rules.program, &st, q->req->item, q->req->amount_cents, &red);
    if (err == LEAL_E_RULES_POINTS)
        err = LEAL_E_QR_REDEEM_ALLOWANCE;
    if (err == LEAL_E_QR_REDEEM_ALLOWANCE ||
        (err >= LEAL_E_RULES_PROGRAM && err <= LEAL_E_RULES_FORMAT_VERSION)) {
        *reason = err;
        return LEAL_OK;
    }
    if (err != LEAL_OK)
        return err;
    entry_base(q, JOURNAL_OP_REDEEM);
    q->e.item = q->req->item;
    q->e.amount_cents = (uint32_t)q->req->amount_cents;
    q->e.points = (int64_t)red.after.points - (int64_t)st.points;
    q->e.ref_seq = pc.upto_entry;
    q->e.points_after = red.after.points;
    q->out->points = q->e.points;
    q->out->item = q->req->item;
    q->out->allowance_left = red.after.points;
    q->out->redeemed = red;
    return LEAL_OK;
}

/* After the code verified: the operation's own checks, then its entry. */
static leal_err take(struct qr_tap *q)
{
    const struct package_terminal *pk = q->t->s.package;
    const struct terminal_request *req = q->req;
    struct terminal_qr_result *out = q->out;
    struct qr_memory mem;
    leal_err err, reason;
    static const uint8_t ops[] = {0, JOURNAL_OP_EARN,  JOURNAL_OP_PAY, JOURNAL_OP_PAY_EARN,
                                  0, JOURNAL_OP_STAMP, JOURNAL_OP_BONO};

    if (q->now.utc_seconds >= pk->info.valid_until)
        return refuse(q, LEAL_E_PACKAGE_EXPIRED);
    if (q->tok.kind == QR_KIND_STATIC && req->op == TERMINAL_REDEEM)
        return refuse(q, LEAL_E_QR_STATIC_REDEEM);
    if (q->tok.kind == QR_KIND_STATIC && spends(req->op))
        return refuse(q, LEAL_E_QR_STATIC_SPEND);
    leal_memset(&mem, 0, sizeof mem);
    if (q->tok.kind == QR_KIND_SPEND) {
        if ((err = journal_memory(q, false, &mem)) != LEAL_OK)
            return err;
        if (mem.seen && q->tok.counter <= mem.newest)
            return refuse(q, LEAL_E_QR_REPLAYED);
    }
    if (req->op == TERMINAL_PAY || req->op == TERMINAL_PAY_EARN) {
        if ((err = pay_allowed(q, &mem, &reason)) != LEAL_OK)
            return err;
        if (reason != LEAL_OK)
            return refuse(q, reason);
        out->pay_cents = req->pay_cents;
        out->spent_today_cents = mem.today + (uint32_t)req->pay_cents;
    }
    if (req->op == TERMINAL_STAMP && req->item >= pk->rules.program.n_stamps)
        return refuse(q, LEAL_E_TERMINAL_STAMP_CARD);
    if (req->op == TERMINAL_BONO && req->item == 0)
        return refuse(q, LEAL_E_TERMINAL_NO_BONO);
    if (req->op == TERMINAL_REDEEM) {
        if ((err = plan_redeem(q, &reason)) != LEAL_OK)
            return err;
        if (reason != LEAL_OK)
            return refuse(q, reason);
        if ((err = append(q)) != LEAL_OK)
            return err;
        out->outcome = TERMINAL_DONE;
        out->amount_cents = q->e.amount_cents;
        return LEAL_OK;
    }

    entry_base(q, ops[req->op]);
    q->e.purse_cents = (uint32_t)out->pay_cents;
    if ((req->op == TERMINAL_EARN || req->op == TERMINAL_PAY_EARN) &&
        (err = plan_earn(q)) != LEAL_OK)
        return err;
    if (req->op == TERMINAL_STAMP || req->op == TERMINAL_BONO) {
        q->e.item = req->item;
        q->e.quantity = 1;
        out->item = req->item;
        out->quantity = 1;
    }
    if ((err = append(q)) != LEAL_OK)
        return err;
    out->outcome = TERMINAL_DONE;
    out->amount_cents = q->e.amount_cents;
    return LEAL_OK;
}

static bool op_taken(const struct terminal_request *req)
{
    switch (req->op) {
    case TERMINAL_EARN:
    case TERMINAL_STAMP:
    case TERMINAL_BONO:
    case TERMINAL_REDEEM:
        return true;
    case TERMINAL_PAY:
    case TERMINAL_PAY_EARN:
        return req->pay_cents > 0 && req->pay_cents <= INT32_MAX;
    default:
        return false;
    }
}

leal_err terminal_qr_tap(struct terminal *t, const struct terminal_qr_keys *keys, const char *text,
                         size_t len, const struct terminal_request *req,
                         struct terminal_qr_result *out)
{
    uint8_t tok[QR_TOKEN_MAX];
    size_t tok_len = 0;
    struct qr_expect ex;
    struct qr_token verified;
    struct qr_tap q;
    leal_err err, verdict;
    if (t == NULL || keys == NULL || text == NULL || req == NULL || out == NULL || !op_taken(req) ||
        req->amount_cents < 0 || req->amount_cents > RULES_MAX_SALE_CENTS ||
        req->n_items > RULES_MAX_ITEMS)
        return LEAL_E_ARG;
    if (!t->open)
        return LEAL_E_STATE;
    leal_memset(out, 0, sizeof *out);
    leal_memset(&q, 0, sizeof q);
    q.t = t;
    q.req = req;
    q.out = out;
    out->op = req->op;
    if ((err = t->s.port->now(t->s.port->ctx, &q.now)) != LEAL_OK ||
        (err = terminal_local_time(&q.now, &q.local, &q.today)) != LEAL_OK)
        return err;
    /* The fields as written, before any check: a refusal names the code it
     * was shown (evidence; nothing of it is trusted). */
    q.parsed = qr_text_decode(text, len, tok, sizeof tok, &tok_len) == LEAL_OK &&
               qr_token_parse(tok, tok_len, &q.tok) == LEAL_OK;
    leal_memset(&ex, 0, sizeof ex);
    ex.program_id = t->who.program_id;
    ex.now = q.now.utc_seconds;
    ex.keys = keys->keys;
    ex.key_count = keys->count;
    ex.revoked = hot_listed;
    ex.revoked_ctx = (void *)(uintptr_t)t->s.package;
    verdict = qr_verify_text(t->s.cp, text, len, &ex, &verified);
    if (verdict == LEAL_OK) {
        q.tok = verified;
        q.parsed = true;
        out->kind = (uint8_t)q.tok.kind;
        out->account_id = q.tok.code.account_id;
        out->virtual_card_id = q.tok.code.virtual_card_id;
        out->time_step = q.tok.time_step;
        out->counter = q.tok.counter;
        err = take(&q);
    } else if (verdict >= LEAL_E_QR_MALFORMED && verdict <= LEAL_E_QR_REPLAY_FULL) {
        if (q.parsed) {
            out->kind = (uint8_t)q.tok.kind;
            out->account_id = q.tok.code.account_id;
            out->virtual_card_id = q.tok.code.virtual_card_id;
        }
        err = refuse(&q, verdict);
    } else {
        err = verdict;
    }
    leal_wipe(&q, sizeof q);
    return err;
}
