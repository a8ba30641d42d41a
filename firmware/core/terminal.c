/* terminal.c - an offline terminal's transactions (terminal.h; TERMINAL.md).
 * One tap: read the card, settle an earlier commit of this terminal that had
 * no answer, judge the card against the package, plan the change through
 * the rules engine, journal it (before the card's commit: the journal never
 * lacks what the card may hold), commit, and remember it for a void. */
#include "terminal.h"

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/layout.h"
#include "firmware/core/terminal_pending.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

#define DAY_SECONDS 86400
static const uint8_t mad_key_a[6] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5};

/* What a tap will write, worked out before the card is touched. */
struct plan {
    bool write_state, write_bonos;
    struct state_body next;
    struct bono_file bonos;
    int32_t purse_debit, purse_back;
    struct journal_entry e; /* the operation's entry: the card after, lines, items */
};

struct tap {
    struct terminal *t;
    const struct terminal_card *card;
    const struct terminal_request *req;
    struct terminal_result *out;
    struct port_time now;
    struct rules_civil local;
    uint32_t today; /* the local day, days since 1970 */
    struct card_view v;
    uint8_t card_kind;      /* enum journal_card_kind */
    uint32_t counter;       /* the journal's counter as read: DESFire taps, Classic seq;
                             * JOURNAL_COUNTER_NONE: a DESFire tap that read none (tmac_pick) */
    bool ev2;               /* DESFire: the read's session speaks EV2 secure messaging */
    bool tmac;              /* DESFire: an EV2 session on a card with the Transaction MAC file */
    uint32_t tmc_floor;     /* tmac: the highest TMC the host proved (its package floor) */
    struct journal_tmac tm; /* tmac: what the card's TMI took, for the TMAC entry */
    bool staged;            /* writes staged on the card and neither committed nor dropped */
    struct plan p;
};

/* Local civil time from UTC and the zone offset (days to a date after
 * H. Hinnant's civil_from_days; years outside the engine's range are a
 * clock that is not set). A local time from CIVIL_SECONDS_END on is past
 * RULES_MAX_YEAR whatever the date, so it is refused before any division:
 * below it the day and the date take 32-bit arithmetic (86400 = 128 * 675,
 * the day by a shift and a 32-bit division), which a Cortex-M3 does in
 * hardware (64-bit divisions call libgcc's __aeabi_ldivmod). */
#define CIVIL_SECONDS_END ((int64_t)(RULES_MAX_YEAR + 1 - 1970) * 366 * DAY_SECONDS)
_Static_assert(CIVIL_SECONDS_END >> 7 <= UINT32_MAX, "the day's dividend takes 32 bits");
static leal_err civil_of(const struct port_time *now, struct rules_civil *c, uint32_t *day)
{
    int64_t local = (int64_t)now->utc_seconds + (int64_t)now->utc_offset_minutes * 60;
    uint32_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;
    if (now->utc_seconds > (uint64_t)INT64_MAX / 2 || local < 0 || local >= CIVIL_SECONDS_END)
        return LEAL_E_STATE;
    days = (uint32_t)((uint64_t)local >> 7) / 675u;
    secs = (uint32_t)(local - (int64_t)days * DAY_SECONDS);
    z = days + 719468u;
    era = z / 146097u;
    doe = z - era * 146097u;
    yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    y = yoe + era * 400u;
    doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    mp = (5u * doy + 2u) / 153u;
    d = doy - (153u * mp + 2u) / 5u + 1u;
    m = mp < 10u ? mp + 3u : mp - 9u;
    if (m <= 2u)
        y++;
    if (y < RULES_MIN_YEAR || y > RULES_MAX_YEAR)
        return LEAL_E_STATE;
    c->year = (uint16_t)y;
    c->month = (uint8_t)m;
    c->day = (uint8_t)d;
    c->hour = (uint8_t)(secs / 3600u);
    c->minute = (uint8_t)(secs / 60u % 60u);
    c->second = (uint8_t)(secs % 60u);
    *day = days;
    return LEAL_OK;
}

/* The terminal's last operation as its journal tells it: the newest
 * operation entry (earn .. void), unless a settle said it did not happen.
 * Whether its commit was answered is not in the journal: the card's next tap
 * here settles it not done while the card is at its counter before (a void
 * too), and a void checks that the card shows exactly what it left (a void
 * is never voided). */
static leal_err last_walk(struct terminal *t, struct journal_entry *last)
{
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    leal_err err;
    journal_iter_begin(t->s.journal, &it, false);
    for (;;) {
        if ((err = journal_iter_next(t->s.journal, &it, &e, NULL, NULL, &done)) != LEAL_OK)
            return err;
        if (done)
            break;
        if (e.op >= JOURNAL_OP_EARN && e.op <= JOURNAL_OP_VOID) {
            t->last.valid = true;
            *last = e;
        } else if (e.op == JOURNAL_OP_SETTLE && t->last.valid && e.ref_epoch == last->epoch &&
                   e.ref_seq == last->seq && e.item == JOURNAL_SETTLED_NOT_DONE) {
            t->last.valid = false;
        }
        journal_hot_add(&t->hot, &e, t->s.journal->acked); /* no summary: the list in RAM */
    }
    return LEAL_OK;
}

/* What a void reads of the last operation's entry (struct terminal_last_entry). */
static void last_entry_keep(struct terminal_last_entry *k, const struct journal_entry *e)
{
    leal_memset(k, 0, sizeof *k);
    k->op = e->op;
    k->tier_after = e->tier_after;
    leal_memcpy(k->stamps_after, e->stamps_after, STATE_STAMPS);
    journal_state_of(e, &k->state_before, &k->state_told);
    for (uint8_t i = 0; i < e->n_lines; i++)
        k->welcomed |= e->lines[i].source == RULES_LINE_WELCOME;
    k->quantity = e->quantity;
    k->utc_offset_minutes = e->utc_offset_minutes;
    k->bono_left = e->bono_left;
    k->package_version = e->package_version;
    k->points_after = e->points_after;
    k->purse_after = e->purse_after;
    k->amount_cents = e->amount_cents;
    k->item = e->item;
    k->points = e->points;
    k->utc_seconds = e->utc_seconds;
}

/* The summary, current (rebuilt by one walk if it is not). */
static leal_err sum_ready(struct journal_sum *sum, const struct journal *j)
{
    return journal_sum_current(sum, j) ? LEAL_OK : journal_sum_rebuild(sum, j);
}

static leal_err last_from_journal(struct terminal *t)
{
    struct journal_entry e;
    bool found = false;
    leal_err err;
    leal_memset(&t->last, 0, sizeof t->last);
    leal_memset(&e, 0, sizeof e);
    if (t->s.sum != NULL && (err = sum_ready(t->s.sum, t->s.journal)) != LEAL_OK)
        return err;
    if (journal_sum_current(t->s.sum, t->s.journal)) {
        /* One slot read instead of the whole journal. */
        if ((err = journal_sum_last(t->s.sum, t->s.journal, &e, &found)) != LEAL_OK)
            return err;
        t->last.valid = found;
    } else if ((err = last_walk(t, &e)) != LEAL_OK) {
        return err;
    }
    if (!t->last.valid) {
        leal_memset(&t->last, 0, sizeof t->last);
        return LEAL_OK;
    }
    last_entry_keep(&t->last.e, &e);
    t->last.from_journal = true;
    t->last.card_id = e.card_id;
    t->last.card_kind = e.card_kind;
    t->last.op = e.op; /* journal operations 1..7 are enum terminal_op's */
    t->last.entry.epoch = e.epoch;
    t->last.entry.seq = e.seq;
    t->last.taps_before = e.counter_before;
    t->last.taps_after = e.counter_after;
    t->last.write_state = e.op != JOURNAL_OP_BONO;
    t->last.write_bonos = e.op == JOURNAL_OP_BONO;
    t->last.purse_debit =
        e.op == JOURNAL_OP_PAY || e.op == JOURNAL_OP_PAY_EARN ? (int32_t)e.purse_cents : 0;
    t->last.item = e.item;
    t->last.quantity = e.quantity;
    return LEAL_OK;
}

leal_err terminal_open(struct terminal *t, const struct terminal_setup *s)
{
    struct journal_status_info js;
    leal_err err;
    struct sam_info who;
    if (t == NULL || s == NULL || s->port == NULL || s->cp == NULL || s->sam == NULL ||
        s->package == NULL || s->journal == NULL)
        return LEAL_E_ARG;
    if ((err = terminal_port_check(s->port)) != LEAL_OK || (err = sam_check(s->sam)) != LEAL_OK ||
        (err = s->sam->info(s->sam->ctx, &who)) != LEAL_OK)
        return err;
    if (who.terminal_id == 0 || who.program_id == 0)
        return LEAL_E_ARG;
    if (!s->package->loaded || (err = journal_status(s->journal, &js)) != LEAL_OK)
        return LEAL_E_STATE;
    leal_memset(t, 0, sizeof *t);
    t->s = *s;
    t->who = who;
    if ((err = last_from_journal(t)) != LEAL_OK)
        return err;
    t->open = true;
    return LEAL_OK;
}

void terminal_close(struct terminal *t)
{
    if (t != NULL)
        leal_wipe(t, sizeof *t);
}

/* --- the journal ---------------------------------------------------------- */

static const uint8_t journal_op_of[] = {
    0,
    JOURNAL_OP_EARN,
    JOURNAL_OP_PAY,
    JOURNAL_OP_PAY_EARN,
    JOURNAL_OP_REDEEM,
    JOURNAL_OP_STAMP,
    JOURNAL_OP_BONO,
    JOURNAL_OP_VOID,
    JOURNAL_OP_BALANCE,
    JOURNAL_OP_REFUSAL,
};

/* An entry about the card as read: who, when, the package, counters. */
static void entry_base(const struct tap *tp, struct journal_entry *e, uint8_t op)
{
    leal_memset(e, 0, sizeof *e);
    e->op = op;
    e->card_kind = tp->card_kind;
    e->utc_seconds = tp->now.utc_seconds;
    e->utc_offset_minutes = tp->now.utc_offset_minutes;
    e->card_id = tp->v.card_id;
    e->counter_before = e->counter_after = tp->counter;
    e->package_version = tp->t->s.package->info.version;
    e->points_after = tp->v.state.points;
    e->purse_after = tp->v.purse_cents > 0 ? (uint32_t)tp->v.purse_cents : 0;
    e->tier_after = tp->v.state.tier;
    leal_memcpy(e->stamps_after, tp->v.state.stamps, STATE_STAMPS);
}

static leal_err append(struct tap *tp, struct journal_entry *e)
{
    leal_err err = journal_append(tp->t->s.journal, e);
    if (err == LEAL_OK && tp->t->s.sum != NULL)
        journal_sum_add(tp->t->s.sum, tp->t->s.journal, e);
    else if (err == LEAL_OK)
        journal_hot_add(&tp->t->hot, e, tp->t->s.journal->acked);
    if (err == LEAL_OK) {
        tp->out->entry.epoch = e->epoch;
        tp->out->entry.seq = e->seq;
    }
    return err;
}

/* A refusal: journaled with its reason and the card as read (if it was). */
static leal_err refuse(struct tap *tp, leal_err reason)
{
    struct journal_entry e;
    entry_base(tp, &e, JOURNAL_OP_REFUSAL);
    e.reason = (uint16_t)reason;
    e.item = tp->req->op;
    e.amount_cents = tp->req->amount_cents > 0 ? (uint32_t)tp->req->amount_cents : 0;
    e.purse_cents = tp->req->pay_cents > 0 ? (uint32_t)tp->req->pay_cents : 0;
    tp->out->outcome = TERMINAL_REFUSED;
    tp->out->reason = (uint16_t)reason;
    tp->out->after = tp->out->before;
    tp->out->purse_after = tp->out->purse_before;
    tp->out->taps_after = tp->out->taps_before;
    return append(tp, &e);
}

/* Purse cents this terminal took from the card (less what it gave back)
 * since the host's last acknowledgment and on the local day, and the points
 * each rule gave it today (rules' cap_per_day), from the unacknowledged
 * journal: the terminal's own record of what it did offline. */
struct spent {
    int64_t today, since_sync;
    uint32_t rule_today[RULES_MAX_RULES];
};

/* spent_offline's walk of the unacknowledged journal. Each entry is read
 * into the plan's own entry (tp->p.e), which the plan fills only after the
 * walk (plan_pay and plan_earn call it before they write a line), and which
 * entry_base starts again at the end: a second entry of 488 bytes on the
 * stack would sit under the journal's slot read at a tap's deepest. In a
 * frame of its own: not on the stack while sum_ready rebuilds the totals. */
LEAL_NOINLINE static leal_err spent_walk(struct tap *tp, struct spent *s)
{
    struct journal_entry *e = &tp->p.e;
    struct journal_iter it;
    bool done = false;
    leal_err err;
    journal_iter_begin(tp->t->s.journal, &it, true);
    for (;;) {
        if ((err = journal_iter_next(tp->t->s.journal, &it, e, NULL, NULL, &done)) != LEAL_OK ||
            done)
            break;
        if (e->card_id != tp->v.card_id || e->card_kind != tp->card_kind)
            continue;
        int64_t local = (int64_t)e->utc_seconds + (int64_t)e->utc_offset_minutes * 60;
        bool today = local >= 0 && (uint64_t)(local / DAY_SECONDS) == tp->today;
        int64_t purse = 0;
        if (e->op == JOURNAL_OP_PAY || e->op == JOURNAL_OP_PAY_EARN)
            purse = e->purse_cents;
        else if (e->op == JOURNAL_OP_VOID)
            purse = -(int64_t)e->purse_cents;
        s->since_sync += purse;
        if (!today)
            continue;
        s->today += purse;
        for (uint8_t i = 0; i < e->n_lines; i++)
            if (e->lines[i].source == RULES_LINE_RULE && e->lines[i].rule_index < RULES_MAX_RULES &&
                e->lines[i].points > 0)
                s->rule_today[e->lines[i].rule_index] += (uint32_t)e->lines[i].points;
    }
    entry_base(tp, e, journal_op_of[tp->req->op]);
    return err;
}

static leal_err spent_offline(struct tap *tp, struct spent *s)
{
    leal_err err;
    leal_memset(s, 0, sizeof *s);
    if (tp->t->s.sum != NULL) {
        struct journal_sum_totals tot;
        if ((err = sum_ready(tp->t->s.sum, tp->t->s.journal)) != LEAL_OK)
            return err;
        journal_sum_totals_of(tp->t->s.sum, tp->card_kind, tp->v.card_id, tp->today, &tot);
        if (tot.known) { /* O(1): no entry read */
            s->today = tot.today;
            s->since_sync = tot.since_sync;
            leal_memcpy(s->rule_today, tot.rule_today, sizeof s->rule_today);
            return LEAL_OK;
        }
    }
    return spent_walk(tp, s);
}

/* --- judging and planning (both card types) ------------------------------- */

/* An earlier commit of this terminal on this card that had no answer,
 * settled from what the card shows now (JOURNAL_OP_SETTLE). A card that
 * moved on elsewhere is left to the host (the other journal's counters). */
static leal_err settle(struct tap *tp)
{
    struct terminal *t = tp->t;
    struct journal_entry e;
    uint8_t item;
    bool moved_on = false;
    if (!t->last.valid || !(t->last.in_doubt || t->last.from_journal) ||
        t->last.card_id != tp->v.card_id || t->last.card_kind != tp->card_kind)
        return LEAL_OK;
    /* After a restart whether the commit was answered is lost with memory:
     * a card still at the entry's counter before never took it (the
     * counter's Debit, or the Classic seq, is in the same commit, and a
     * counter never goes back), so that is settled not done here; a card at
     * the counter after may hold it (the void checks), anything else is the
     * host's. */
    if (t->last.taps_before == JOURNAL_COUNTER_NONE) {
        /* An earn whose TMC stood for the counter (tmac_pick): no counter
         * tells it, the state's seq does. A genuine card's write and commit
         * are one, and seq only steps forward: a card still at the entry's
         * seq before never took it. Anything else is the host's (the TMCs
         * its TMAC entries prove); never "done". After a restart the seq
         * before is the entry's state lines', and only "not done" is said,
         * as with the counter (an answered commit left no doubt). */
        bool at_before = t->last.from_journal
                             ? t->last.e.state_told && tp->v.state.seq == t->last.e.state_before.seq
                             : tp->v.state.seq == t->last.before.seq;
        if (t->last.from_journal && !at_before)
            return LEAL_OK;
        item = at_before ? JOURNAL_SETTLED_NOT_DONE : JOURNAL_SETTLED_UNKNOWN;
        moved_on = !at_before && tp->v.state.seq != t->last.seq_after;
    } else if (t->last.from_journal) {
        if (tp->counter != t->last.taps_before)
            return LEAL_OK;
        item = JOURNAL_SETTLED_NOT_DONE;
    } else if (tp->counter == t->last.taps_before && tp->v.state.seq == t->last.before.seq) {
        item = JOURNAL_SETTLED_NOT_DONE;
    } else {
        /* At the entry's counter and seq after, this commit or another
         * terminal's that reached the same step (the card names no writer:
         * never "done"); anywhere else the card went on elsewhere. Either
         * way the host decides from every journal's counters. */
        item = JOURNAL_SETTLED_UNKNOWN;
        moved_on = tp->counter != t->last.taps_after || tp->v.state.seq != t->last.seq_after;
    }
    entry_base(tp, &e, JOURNAL_OP_SETTLE);
    e.ref_epoch = t->last.entry.epoch;
    e.ref_seq = t->last.entry.seq;
    e.item = item;
    leal_err err = append(tp, &e);
    if (err != LEAL_OK)
        return err;
    tp->out->settled = true;
    tp->out->settled_item = item;
    t->last.in_doubt = false;
    t->last.valid = item == JOURNAL_SETTLED_UNKNOWN && !moved_on && t->last.op != TERMINAL_VOID;
    return LEAL_OK;
}

/* --- EV1 cards the package names (AuthenticateAES first) -------------------- */

static int ev1_find(const struct terminal *t, const struct terminal_card *card)
{
    if (card->uid_len != TERMINAL_EV1_UID_LEN)
        return -1;
    for (unsigned i = 0; i < t->ev1_count; i++)
        if (leal_memcmp(t->ev1_uid[i], card->uid, TERMINAL_EV1_UID_LEN) == 0)
            return (int)i;
    return -1;
}

/* After the floor was read: a fixed-UID card the floor names as an EV1 and
 * that this tap opened under AA is remembered; any other is forgotten. */
static void ev1_note(struct tap *tp, bool ev1)
{
    struct terminal *t = tp->t;
    int i = ev1_find(t, tp->card);
    if (!ev1 && i >= 0) {
        t->ev1_count--;
        leal_memcpy(t->ev1_uid[i], t->ev1_uid[t->ev1_count], TERMINAL_EV1_UID_LEN);
        if (t->ev1_next > t->ev1_count)
            t->ev1_next = 0;
    } else if (ev1 && i < 0 && tp->card->uid_len == TERMINAL_EV1_UID_LEN) {
        unsigned at = t->ev1_count < TERMINAL_EV1_UIDS ? t->ev1_count++ : t->ev1_next;
        leal_memcpy(t->ev1_uid[at], tp->card->uid, TERMINAL_EV1_UID_LEN);
        if (t->ev1_count == TERMINAL_EV1_UIDS)
            t->ev1_next = (uint8_t)((t->ev1_next + 1u) % TERMINAL_EV1_UIDS);
    }
}

/* A random-UID card's plain identity gave its card id before the
 * authentication (desfire_card.h sm_pick): a floor naming it as an EV1 (no
 * EV2 flag) makes the tap send AA first. */
static void ev1_pick(void *ctx, struct desfire_card *c, uint64_t card_id)
{
    struct tap *tp = ctx;
    const struct package_terminal *pk = tp->t->s.package;
    struct package_floor fl;
    bool found = false;
    if (package_floor_find(&pk->info, &pk->source, card_id, &found, &fl) != LEAL_OK || !found)
        return;
    if (fl.kind == PACKAGE_FLOOR_DESFIRE && (fl.flags & PACKAGE_FLOOR_EV2) == 0)
        c->sm = DESFIRE_CARD_SM_AA;
}

/* desfire_card's counter_skip, after the state read (the card id known):
 * an earn on a card whose floor names it an EV2/EV3 with the Transaction MAC
 * file reads and debits no counter; the TMC its CommitTransaction answers
 * stands for it (TERMINAL.md "Round trips": earn 6), the floor checked on
 * that TMC after the commit (tmc_behind). Every other operation reads the
 * counter, and so does an earn while a host change waits for the card at a
 * count of taps (not at seq: PACKAGE.md "Exactly once") or while an earlier
 * operation of this terminal on the card that read the counter may need
 * settling by it (settle). An AA session on such a card is refused by judge
 * (a downgrade), as with the counter. */
static bool tmac_pick(void *ctx, uint64_t card_id, uint8_t layout_version)
{
    struct tap *tp = ctx;
    const struct terminal *t = tp->t;
    const struct package_terminal *pk = t->s.package;
    struct package_floor fl;
    struct package_pending pc;
    bool found = false;
    /* A payment too on a layout-3 card: its purse mirror stands for the
     * GetValue purse, so pay and pay + earn are 7 (LAYOUT.md 2.10). */
    bool pays = (tp->req->op == TERMINAL_PAY || tp->req->op == TERMINAL_PAY_EARN) &&
                layout_version == LAYOUT_VERSION_MIRROR;
    if ((tp->req->op != TERMINAL_EARN && !pays) ||
        (t->last.valid && (t->last.in_doubt || t->last.from_journal) &&
         t->last.card_kind == JOURNAL_CARD_DESFIRE && t->last.card_id == card_id &&
         t->last.taps_before != JOURNAL_COUNTER_NONE))
        return false;
    if (package_floor_find(&pk->info, &pk->source, card_id, &found, &fl) != LEAL_OK || !found ||
        fl.kind != PACKAGE_FLOOR_DESFIRE || (fl.flags & PACKAGE_FLOOR_TMAC) == 0 ||
        (fl.flags & PACKAGE_FLOOR_EV2) == 0)
        return false;
    found = false;
    if (pk->info.pending_count != 0 &&
        (package_pending_find(&pk->info, &pk->source, card_id, &found, &pc) != LEAL_OK ||
         (found && pc.kinds != PACKAGE_CHANGE_QR_ALLOWANCE &&
          (pc.kinds & PACKAGE_CHANGE_AT_SEQ) == 0)))
        return false;
    return true;
}

/* hot_of's walk of every stored entry, when the list had no room for the
 * card: its newest refusal after the commit decides. Each entry is read
 * into the plan's entry, as spent_walk does (judge runs before the plan). */
LEAL_NOINLINE static leal_err hot_walk(struct tap *tp, bool *hot)
{
    const struct journal *j = tp->t->s.journal;
    struct journal_entry *e = &tp->p.e;
    struct journal_iter it;
    bool done = false;
    leal_err err;
    journal_iter_begin(j, &it, false);
    for (;;) {
        if ((err = journal_iter_next(j, &it, e, NULL, NULL, &done)) != LEAL_OK || done)
            break;
        if (journal_hot_entry(e) && e->card_id == tp->v.card_id) {
            struct journal_key k = {e->epoch, e->seq};
            *hot =
                journal_hot_stands(k, e->package_version, j->acked, tp->t->s.package->info.version);
        }
    }
    entry_base(tp, e, journal_op_of[tp->req->op]);
    return err;
}

/* Whether the card stands on this terminal's local hot list (journal_sum.h):
 * an earlier tap here found it a copy or a clone after its commit
 * (LEAL_E_TERMINAL_TMC_BEHIND), and the host has not yet answered with a
 * newer package. From the summary, or without one from the list
 * terminal_open and each append keep in RAM. */
static leal_err hot_of(struct tap *tp, bool *hot)
{
    struct terminal *t = tp->t;
    const struct journal_hot_list *l = &t->hot;
    uint8_t v;
    leal_err err;
    *hot = false;
    if (t->s.sum != NULL) {
        if ((err = sum_ready(t->s.sum, t->s.journal)) != LEAL_OK)
            return err;
        l = &t->s.sum->hot;
    }
    v = journal_hot_find(l, tp->v.card_id, t->s.journal->acked, t->s.package->info.version);
    if (v != JOURNAL_HOT_UNKNOWN) {
        *hot = v == JOURNAL_HOT_YES;
        return LEAL_OK;
    }
    return hot_walk(tp, hot);
}

/* The package's verdicts on the card: hot list (and the terminal's own),
 * floor, expiry. */
static leal_err judge(struct tap *tp, leal_err *reason)
{
    const struct package_terminal *pk = tp->t->s.package;
    struct package_floor fl;
    bool found;
    uint8_t why;
    leal_err err;
    *reason = LEAL_OK;
    if ((err = package_hot_find(&pk->info, &pk->source, tp->v.card_id, &found, &why)) != LEAL_OK)
        return err;
    if (found) {
        *reason = LEAL_E_TERMINAL_HOT_LISTED;
        return LEAL_OK;
    }
    if (tp->card_kind == JOURNAL_CARD_DESFIRE && (err = hot_of(tp, &found)) != LEAL_OK)
        return err;
    if (found) {
        *reason = LEAL_E_TERMINAL_LOCAL_HOT;
        return LEAL_OK;
    }
    if ((err = package_floor_find(&pk->info, &pk->source, tp->v.card_id, &found, &fl)) != LEAL_OK)
        return err;
    if (!found && tp->card_kind == JOURNAL_CARD_DESFIRE)
        ev1_note(tp, false);
    if (found) {
        bool desfire = tp->card_kind == JOURNAL_CARD_DESFIRE;
        bool kind_ok = fl.kind == (desfire ? PACKAGE_FLOOR_DESFIRE : PACKAGE_FLOOR_CLASSIC);
        /* Classic: the same seq with another slot tag is a fork (LAYOUT.md 3.3). */
        bool fork = !desfire && (fl.flags & PACKAGE_FLOOR_TAG_KNOWN) != 0 &&
                    tp->v.state.seq == fl.seq &&
                    !leal_ct_equal(tp->v.mark, fl.tag, PACKAGE_FLOOR_TAG_LEN);
        /* A tap that read no counter is judged on its TMC after the commit. */
        if (!kind_ok || (tp->counter != JOURNAL_COUNTER_NONE && tp->v.taps < fl.taps) || fork) {
            *reason = LEAL_E_TERMINAL_BEHIND_FLOOR;
            return LEAL_OK;
        }
        /* The host knows an EV2/EV3 (from its issuance): an AA session means
         * something answered 71 as an EV1 would, so its secure messaging was
         * taken away; nothing is written under it. */
        if (desfire && (fl.flags & PACKAGE_FLOOR_EV2) != 0 && !tp->ev2) {
            ev1_note(tp, false);
            *reason = LEAL_E_CARD_EV2_DOWNGRADE;
            return LEAL_OK;
        }
        if (desfire)
            ev1_note(tp, (fl.flags & PACKAGE_FLOOR_EV2) == 0 && !tp->ev2);
        tp->tmac = desfire && tp->ev2 && (fl.flags & PACKAGE_FLOOR_TMAC) != 0;
        tp->tmc_floor = tp->tmac ? package_floor_tmc(&fl) : 0;
    }
    if (tp->now.utc_seconds >= pk->info.valid_until)
        *reason = LEAL_E_PACKAGE_EXPIRED;
    return LEAL_OK;
}

static void plan_after(struct plan *p, const struct card_view *v)
{
    p->e.points_after = p->next.points;
    p->e.tier_after = p->next.tier;
    leal_memcpy(p->e.stamps_after, p->next.stamps, STATE_STAMPS);
    int64_t purse = (int64_t)v->purse_cents - p->purse_debit + p->purse_back;
    p->e.purse_after = purse > 0 ? (uint32_t)purse : 0;
    p->e.points = (int64_t)p->next.points - (int64_t)v->state.points;
}

/* The earn's rules run, in a frame of its own: the card, the sale and the
 * result (about 600 bytes) are not on the stack while spent_offline reads
 * the journal. */
LEAL_NOINLINE static leal_err plan_earn_rules(struct tap *tp, int64_t amount,
                                              const struct spent *sp)
{
    const struct terminal_request *q = tp->req;
    struct rules_card rc;
    struct rules_sale sale;
    struct rules_result res;
    leal_err err;
    leal_memset(&rc, 0, sizeof rc);
    rc.state = tp->v.state;
    leal_memcpy(rc.rule_points_today, sp->rule_today, sizeof rc.rule_points_today);
    leal_memset(&sale, 0, sizeof sale);
    sale.amount_cents = amount;
    sale.store_id = tp->t->s.cfg.store_id;
    sale.local = tp->local;
    sale.n_items = q->n_items;
    leal_memcpy(sale.items, q->items, sizeof sale.items);
    if ((err = rules_earn(&tp->t->s.package->rules.program, &rc, &sale, &res)) != LEAL_OK)
        return err;
    tp->p.next = res.after;
    tp->p.e.n_lines = res.n_lines;
    for (uint8_t i = 0; i < res.n_lines; i++) {
        tp->p.e.lines[i].source = res.lines[i].source;
        tp->p.e.lines[i].rule_index = res.lines[i].rule_index;
        tp->p.e.lines[i].id = res.lines[i].id;
        tp->p.e.lines[i].points = res.lines[i].points;
        tp->out->lines[i] = res.lines[i];
    }
    tp->out->n_lines = res.n_lines;
    /* JOURNAL.md: an earn's quantity is the stamps it gave, its item the
     * stamp rewards it granted (every stamp card). */
    for (unsigned i = 0; i < RULES_STAMP_CARDS; i++) {
        tp->out->stamp_rewards[i] = res.earned.rewards[i];
        tp->p.e.quantity = (int16_t)(tp->p.e.quantity + res.earned.stamps[i]);
        tp->p.e.item += res.earned.rewards[i];
    }
    return LEAL_OK;
}

static leal_err plan_earn(struct tap *tp, int64_t amount)
{
    struct spent sp;
    leal_err err = spent_offline(tp, &sp);
    if (err != LEAL_OK)
        return err;
    return plan_earn_rules(tp, amount, &sp);
}

/* Pay's checks: stored value, funds, the offline caps. */
static leal_err plan_pay(struct tap *tp, leal_err *reason)
{
    const struct package_info *pi = &tp->t->s.package->info;
    int64_t pay = tp->req->pay_cents;
    struct spent sp;
    leal_err err;
    if (!tp->v.stored_value) {
        *reason = LEAL_E_CARD_STORED_VALUE_OFF;
        return LEAL_OK;
    }
    if (pay > tp->v.purse_cents) {
        *reason = LEAL_E_TERMINAL_FUNDS;
        return LEAL_OK;
    }
    if ((err = spent_offline(tp, &sp)) != LEAL_OK)
        return err;
    if (sp.today + pay > (int64_t)pi->cap_day_cents)
        *reason = LEAL_E_TERMINAL_CAP_DAY;
    else if (sp.since_sync + pay > (int64_t)pi->cap_sync_cents)
        *reason = LEAL_E_TERMINAL_CAP_SYNC;
    else
        tp->p.purse_debit = (int32_t)pay;
    return LEAL_OK;
}

static leal_err plan_stamp(struct tap *tp, leal_err *reason)
{
    const struct rules_program *pr = &tp->t->s.package->rules.program;
    uint32_t i = tp->req->item;
    unsigned s;
    if (i >= pr->n_stamps) {
        *reason = LEAL_E_TERMINAL_STAMP_CARD;
        return LEAL_OK;
    }
    /* One stamp; at the goal the reward is granted and the count goes on
     * from the remainder (RULES.md 4). */
    s = tp->v.state.stamps[i] + 1u;
    if (s >= pr->stamps[i].goal) {
        s -= pr->stamps[i].goal;
        tp->out->stamp_rewards[i] = 1;
    }
    tp->p.next.stamps[i] = (uint8_t)s;
    tp->p.e.item = i;
    tp->p.e.quantity = 1;
    return LEAL_OK;
}

static leal_err plan_bono(struct tap *tp, leal_err *reason)
{
    int slot = bono_file_find(&tp->v.bonos, tp->req->item);
    uint16_t left;
    leal_err err;
    if (tp->v.layout_version < LAYOUT_VERSION_BONOS || slot < 0) {
        /* A version-1 card has no bono file; only the desk can make it
         * (key 0, LAYOUT.md 4.3): it has no bonos to use. */
        *reason = LEAL_E_TERMINAL_NO_BONO;
        return LEAL_OK;
    }
    const struct bono_slot *b = &tp->v.bonos.slot[slot];
    err = rules_bono_use(b->sessions, b->last_day, &tp->local, &left);
    if (err == LEAL_E_RULES_BONO_EMPTY || err == LEAL_E_RULES_BONO_EXPIRED) {
        *reason = err;
        return LEAL_OK;
    }
    if (err != LEAL_OK)
        return err;
    tp->p.bonos = tp->v.bonos;
    tp->p.bonos.slot[slot].sessions = left;
    tp->p.write_bonos = true;
    tp->p.write_state = false;
    tp->p.e.item = tp->req->item;
    tp->p.e.quantity = 1;
    tp->p.e.bono_left = left;
    tp->out->bono_left = left;
    return LEAL_OK;
}

/* The stamps an earn gave, taken back from the card's count on a program
 * of one stamp card (the entry keeps only their sum): the count before,
 * or -1 when it cannot be told. */
static int stamps_before(const struct rules_program *pr, const struct terminal_last_entry *e,
                         unsigned i, uint8_t now)
{
    int64_t c;
    if (e->quantity == 0 && e->item == 0)
        return now;
    if (pr->n_stamps != 1 || i != 0 || e->quantity < 0)
        return -1;
    c = (int64_t)now - e->quantity + (int64_t)e->item * pr->stamps[0].goal;
    return c >= 0 && c < pr->stamps[0].goal ? (int)c : -1;
}

/* An earn's state before it, reckoned from an entry without state lines
 * (one written before they existed) and the card now, into *b (points
 * already set): false when it cannot be told. The period and buckets come
 * back as the earn rolled them, less the sale's units (the rules see the same
 * window from then on); a first earn's welcome takes the card back to never
 * welcomed (period 0); the stamps only on a program of one stamp card. */
static bool earn_reckoned(const struct rules_program *pr, const struct terminal_last_entry *e,
                          const struct state_body *now, struct state_body *b)
{
    struct rules_civil sale;
    uint32_t day;
    int st = stamps_before(pr, e, 0, now->stamps[0]);
    if (st < 0)
        return false;
    b->stamps[0] = (uint8_t)st;
    for (unsigned i = 1; i < STATE_STAMPS; i++)
        b->stamps[i] = now->stamps[i];
    if (e->welcomed) { /* the card's first earn: it had never earned */
        b->period = 0;
        leal_memset(b->buckets, 0, sizeof b->buckets);
    } else {
        struct port_time at = {e->utc_seconds, e->utc_offset_minutes};
        uint16_t period,
            units = (uint16_t)(e->amount_cents / 100 > 0xFFFF ? 0xFFFF : e->amount_cents / 100);
        if (civil_of(&at, &sale, &day) != LEAL_OK)
            return false;
        period = rules_period(&sale);
        if (period <= now->period && now->period - period < STATE_BUCKETS) {
            unsigned idx = (unsigned)(now->period - period);
            if (b->buckets[idx] < units || b->buckets[idx] == 0xFFFF)
                return false; /* a full bucket: what the sale added is not known */
            b->buckets[idx] = (uint16_t)(b->buckets[idx] - units);
        }
    }
    uint32_t w = 0;
    for (unsigned i = 0; i < STATE_BUCKETS; i++)
        w += b->buckets[i];
    b->tier = rules_tier_for(pr, w);
    return true;
}

/* After a restart, the state before the terminal's last operation, from its
 * entry (an earn's state lines say it exactly) and the card as read, while the card shows exactly
 * what the entry says it left (points, tier, stamps, the purse a payment read, the bono's sessions)
 * under the rules it ran with (the same package version). Fills last's before, before_bonos and
 * seq_after; false when it cannot be told (then nothing is voided). The period and buckets of an
 * earn come back as the earn rolled them, less the sale's units (the rules see the same window from
 * then on); a first earn's welcome takes the card back to never welcomed (period 0). That reckoning
 * is only for an earn journaled before state lines existed. */
static bool before_from_journal(struct tap *tp)
{
    struct terminal *t = tp->t;
    const struct terminal_last_entry *e = &t->last.e;
    const struct rules_program *pr = &t->s.package->rules.program;
    const struct state_body *now = &tp->v.state;
    struct state_body b = *now;
    bool purse = e->op == JOURNAL_OP_PAY || e->op == JOURNAL_OP_PAY_EARN;

    if (e->package_version != t->s.package->info.version || now->points != e->points_after ||
        now->tier != e->tier_after || !leal_ct_equal(now->stamps, e->stamps_after, STATE_STAMPS) ||
        (purse && (uint32_t)tp->v.purse_cents != e->purse_after))
        return false;
    if ((int64_t)now->points - e->points < 0 || (int64_t)now->points - e->points > UINT32_MAX)
        return false;
    b.points = (uint32_t)((int64_t)now->points - e->points);
    switch (e->op) {
    case JOURNAL_OP_EARN:
    case JOURNAL_OP_PAY_EARN: {
        struct state_body was = e->state_before;
        if (!e->state_told) { /* an entry from before state lines: reckoned */
            if (!earn_reckoned(pr, e, now, &b))
                return false;
            break;
        }
        /* its state lines: the card exactly as the earn found it */
        if (was.points != b.points || was.seq + 1u != now->seq)
            return false;
        b = was;
        break;
    }
    case JOURNAL_OP_PAY: /* with state lines (a layout-3 pay without counter): exactly those */
        if (e->state_told) {
            if (e->state_before.points != b.points || e->state_before.seq + 1u != now->seq)
                return false;
            b = e->state_before;
        }
        break;
    case JOURNAL_OP_REDEEM:
        break;
    case JOURNAL_OP_STAMP:
        if (e->item >= pr->n_stamps || e->item >= STATE_STAMPS)
            return false;
        b.stamps[e->item] = now->stamps[e->item] == 0 ? (uint8_t)(pr->stamps[e->item].goal - 1)
                                                      : (uint8_t)(now->stamps[e->item] - 1);
        break;
    case JOURNAL_OP_BONO: {
        int slot = bono_file_find(&tp->v.bonos, e->item);
        if (tp->v.layout_version < LAYOUT_VERSION_BONOS || slot < 0 ||
            tp->v.bonos.slot[slot].sessions != e->bono_left || e->bono_left == 0xFFFF)
            return false;
        t->last.before_bonos = tp->v.bonos;
        t->last.before_bonos.slot[slot].sessions = (uint16_t)(e->bono_left + 1u);
        break;
    }
    default:
        return false;
    }
    t->last.before = b;
    t->last.before.seq = now->seq - (t->last.write_state ? 1u : 0u);
    t->last.seq_after = now->seq;
    return true;
}

/* A void: this terminal's last operation on this card, while the card is
 * exactly as that operation left it. The card goes back to the state before
 * it (seq onward), the purse gets back what was taken, bonos their session. */
static leal_err plan_void(struct tap *tp, leal_err *reason)
{
    struct terminal *t = tp->t;
    if (!t->last.valid || t->last.in_doubt || t->last.op == TERMINAL_VOID ||
        t->last.card_id != tp->v.card_id || t->last.card_kind != tp->card_kind ||
        (t->last.taps_after != JOURNAL_COUNTER_NONE && t->last.taps_after != tp->counter) ||
        (t->last.from_journal && !before_from_journal(tp)) ||
        t->last.seq_after != tp->v.state.seq) {
        *reason = LEAL_E_TERMINAL_NOTHING_TO_VOID;
        return LEAL_OK;
    }
    if (t->last.write_state) {
        tp->p.next = t->last.before;
        tp->p.next.seq = tp->v.state.seq;
    }
    tp->p.write_state = t->last.write_state;
    if (t->last.write_bonos) {
        tp->p.bonos = t->last.before_bonos;
        tp->p.write_bonos = true;
    }
    tp->p.purse_back = t->last.purse_debit;
    if (tp->card_kind == JOURNAL_CARD_CLASSIC && tp->p.purse_back > 0 &&
        (uint32_t)tp->v.purse_cents + (uint32_t)tp->p.purse_back > tp->t->s.cfg.classic_purse_cap)
        *reason = LEAL_E_TERMINAL_PURSE_CAP;
    tp->p.e.ref_epoch = t->last.entry.epoch;
    tp->p.e.ref_seq = t->last.entry.seq;
    tp->p.e.item = t->last.item;
    tp->p.e.purse_cents = (uint32_t)t->last.purse_debit;
    tp->p.e.quantity = (int16_t)-t->last.quantity;
    if (t->last.write_bonos) {
        int slot = bono_file_find(&t->last.before_bonos, t->last.item);
        tp->p.e.bono_left = slot >= 0 ? t->last.before_bonos.slot[slot].sessions : 0;
        tp->out->bono_left = tp->p.e.bono_left;
    }
    tp->out->voided_op = t->last.op;
    tp->out->voided_item = t->last.item;
    return LEAL_OK;
}

/* What the request does to the card as read; *reason set for a refusal. */
static leal_err plan(struct tap *tp, leal_err *reason)
{
    const struct terminal_request *q = tp->req;
    struct plan *p = &tp->p;
    struct rules_redeemed red;
    leal_err err = LEAL_OK;

    leal_memset(p, 0, sizeof *p);
    entry_base(tp, &p->e, journal_op_of[q->op]);
    p->next = tp->v.state;
    p->write_state = true;
    *reason = LEAL_OK;
    switch (q->op) {
    case TERMINAL_EARN:
        err = plan_earn(tp, q->amount_cents);
        p->e.amount_cents = (uint32_t)q->amount_cents;
        break;
    case TERMINAL_PAY:
        err = plan_pay(tp, reason);
        p->e.purse_cents = (uint32_t)q->pay_cents;
        break;
    case TERMINAL_PAY_EARN:
        if ((err = plan_pay(tp, reason)) == LEAL_OK && *reason == LEAL_OK)
            err = plan_earn(tp, q->amount_cents);
        p->e.amount_cents = (uint32_t)q->amount_cents;
        p->e.purse_cents = (uint32_t)q->pay_cents;
        break;
    case TERMINAL_REDEEM:
        err = rules_redeem(&tp->t->s.package->rules.program, &tp->v.state, q->item, q->amount_cents,
                           &red);
        if (err == LEAL_OK) {
            p->next = red.after;
            tp->out->redeemed = red;
            p->e.item = q->item;
            p->e.amount_cents = (uint32_t)q->amount_cents;
        }
        break;
    case TERMINAL_STAMP:
        err = plan_stamp(tp, reason);
        break;
    case TERMINAL_BONO:
        err = plan_bono(tp, reason);
        break;
    case TERMINAL_VOID:
        err = plan_void(tp, reason);
        break;
    case TERMINAL_BALANCE:
        p->write_state = false;
        break;
    default:
        *reason = LEAL_E_TERMINAL_TOPUP_OFFLINE;
        break;
    }
    /* The engine's refusals (unknown reward, too few points, a full card)
     * are the customer's, journaled as such. */
    if (err >= LEAL_E_RULES_PROGRAM && err <= LEAL_E_RULES_FORMAT_VERSION) {
        *reason = err;
        err = LEAL_OK;
    }
    if (err != LEAL_OK || *reason != LEAL_OK)
        return err;
    if (p->write_state)
        p->next.seq = tp->v.state.seq + 1u;
    plan_after(p, &tp->v);
    /* An earn's entry carries the card's state before it (its state lines):
     * the period it rolled and the stamps of each card are not told by the
     * entry's sums, and a void after a restart restores exactly this. */
    if (q->op == TERMINAL_EARN || q->op == TERMINAL_PAY_EARN ||
        (q->op == TERMINAL_PAY && tp->counter == JOURNAL_COUNTER_NONE)) {
        journal_state_lines(&tp->v.state, &p->e.lines[p->e.n_lines]);
        p->e.n_lines = (uint8_t)(p->e.n_lines + JOURNAL_STATE_LINES);
    }
    if (q->op != TERMINAL_BALANCE && tp->counter != JOURNAL_COUNTER_NONE)
        p->e.counter_after = tp->counter + 1u;
    return LEAL_OK;
}

/* The card after a done (or in-doubt) operation, into the result and the
 * terminal's memory of its last operation. */
static void remember(struct tap *tp, bool in_doubt)
{
    struct terminal *t = tp->t;
    struct terminal_result *o = tp->out;
    const struct plan *p = &tp->p;
    o->outcome = in_doubt ? TERMINAL_IN_DOUBT : TERMINAL_DONE;
    o->after = p->write_state ? p->next : tp->v.state;
    o->purse_after = (int32_t)p->e.purse_after;
    o->taps_after = p->e.counter_after;
    o->points = p->e.points;
    if (tp->req->op == TERMINAL_BALANCE)
        return;
    if (tp->req->op == TERMINAL_VOID) {
        t->last.valid = in_doubt; /* a void is never voided; in doubt it is settled */
        if (!in_doubt)
            return;
    } else {
        t->last.valid = true;
    }
    t->last.in_doubt = in_doubt;
    t->last.from_journal = false;
    t->last.card_id = tp->v.card_id;
    t->last.card_kind = tp->card_kind;
    t->last.op = tp->req->op;
    t->last.entry = o->entry;
    t->last.taps_before = tp->counter;
    t->last.taps_after = p->e.counter_after;
    t->last.before = tp->v.state;
    t->last.seq_after = o->after.seq;
    t->last.write_state = p->write_state;
    t->last.write_bonos = p->write_bonos;
    t->last.before_bonos = tp->v.bonos;
    t->last.purse_debit = p->purse_debit;
    t->last.item = p->e.item;
    t->last.quantity = p->e.quantity;
}

/* --- MIFARE DESFire --------------------------------------------------------- */

static unsigned desfire_want(const struct tap *tp)
{
    switch (tp->req->op) {
    case TERMINAL_PAY:
    case TERMINAL_PAY_EARN:
        return DESFIRE_CARD_TAP_PURSE | DESFIRE_CARD_TAP_MIRROR;
    case TERMINAL_BALANCE:
        return DESFIRE_CARD_TAP_PURSE | DESFIRE_CARD_TAP_BONOS;
    case TERMINAL_BONO:
        return DESFIRE_CARD_TAP_BONOS;
    case TERMINAL_VOID:
        return (tp->t->last.purse_debit > 0 ? DESFIRE_CARD_TAP_PURSE | DESFIRE_CARD_TAP_MIRROR
                                            : 0) |
               (tp->t->last.write_bonos ? DESFIRE_CARD_TAP_BONOS : 0);
    default:
        return 0;
    }
}

/* Errors of the read that are the card's answer, refused and journaled;
 * anything else (the card left, the reader failed) ends the tap. */
static bool card_refusal(leal_err err)
{
    return err == LEAL_E_CARD_NOT_LEAL || err == LEAL_E_CARD_TAMPERED ||
           err == LEAL_E_LAYOUT_VERSION || err == LEAL_E_CARD_KEY_VERSION || err == LEAL_E_FORMAT ||
           err == LEAL_E_CARD_AUTHENTICATION;
}

/* A status the card answered (LEAL_E_CARD_NO_CHANGES .. LEAL_E_CARD_DISABLED). */
static bool card_status(leal_err err)
{
    return err >= LEAL_E_CARD_NO_CHANGES && err <= LEAL_E_CARD_DISABLED;
}

static leal_err finish(struct tap *tp, leal_err (*stage)(struct tap *, void *),
                       leal_err (*commit)(struct tap *, void *), void *card);

static leal_err desfire_stage(struct tap *tp, void *card)
{
    struct desfire_card_change ch = {tp->p.write_state ? &tp->p.next : NULL,
                                     tp->p.write_bonos ? &tp->p.bonos : NULL, tp->p.purse_debit,
                                     tp->p.purse_back};
    return desfire_card_stage(card, &ch, &tp->v);
}

/* The 32 bytes of a state file a TMAC entry carries (a layout-3 file's
 * mirror is told by the entry's purse, JOURNAL_TMAC_MIRROR). In a frame of
 * its own: the whole file is not on the tap's stack. */
LEAL_NOINLINE static leal_err tmac_state(const struct card_view *v, const struct state_body *s,
                                         int32_t mirror, uint8_t out[STATE_FILE_LEN])
{
    uint8_t f[STATE_FILE_MAX];
    size_t n = 0;
    leal_err err = state_file_encode_mirror(v->layout_version, v->card_id, s, mirror, f, &n);
    if (err == LEAL_OK)
        leal_memcpy(out, f, STATE_FILE_LEN);
    return err;
}

/* What the card's Transaction MAC input takes of this tap (desfire_card_tap_read,
 * desfire_card_stage; cardlayout/desfire/desfire_tmac.h), for the TMAC entry:
 * the files' bytes as sent, encoded again from the view (the codecs are
 * canonical: one encoding per state). The state read is taken before any
 * host change is applied to the view (tap_desfire). */
static leal_err tmac_staged(struct tap *tp)
{
    struct journal_tmac *m = &tp->tm;
    const struct plan *p = &tp->p;
    leal_err err = LEAL_OK;
    if (p->write_state) {
        m->flags |= JOURNAL_TMAC_STATE_WRITTEN;
        err = tmac_state(&tp->v, &p->next, tp->v.purse_cents - p->purse_debit + p->purse_back,
                         m->state_after);
    }
    if (err == LEAL_OK && p->write_bonos) {
        m->flags |= JOURNAL_TMAC_BONOS_WRITTEN;
        err = bono_file_encode(&p->bonos, m->bonos_after);
    }
    if (p->purse_debit > 0) {
        m->flags |= JOURNAL_TMAC_DEBIT;
        m->purse_moved = p->purse_debit;
    } else if (p->purse_back > 0) {
        m->flags |= JOURNAL_TMAC_LIMITED_CREDIT;
        m->purse_moved = p->purse_back;
    }
    return err;
}

static leal_err desfire_commit_tx(struct tap *tp, void *card)
{
    leal_err err;
    if (!tp->tmac)
        return desfire_card_commit(card);
    err = desfire_card_commit_tmac(card, &tp->tm.tmc, tp->tm.tmv);
    tp->out->tmac = err == LEAL_OK;
    return err;
}

/* After a commit that answered TMC and TMV: the TMAC entry, naming the
 * operation's entry. The card has committed whatever this append does; a
 * journal that refuses it leaves the result without tmac_entry (the host
 * then has the operation without its TMV, as after a commit with no answer).
 * In a frame of its own: inlined, its entry (488 bytes) would sit in the
 * tap's frame under every call of the tap (finish's settle, plan, append). */
LEAL_NOINLINE static void journal_tmac(struct tap *tp)
{
    struct journal_entry e;
    leal_memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_TMAC;
    e.card_kind = JOURNAL_CARD_DESFIRE;
    e.utc_seconds = tp->now.utc_seconds;
    e.utc_offset_minutes = tp->now.utc_offset_minutes;
    e.card_id = tp->v.card_id;
    e.counter_before = tp->p.e.counter_before;
    e.counter_after = tp->p.e.counter_after;
    e.package_version = tp->t->s.package->info.version;
    e.ref_epoch = tp->out->entry.epoch;
    e.ref_seq = tp->out->entry.seq;
    journal_tmac_put(&tp->tm, &e);
    if (journal_append(tp->t->s.journal, &e) != LEAL_OK)
        return;
    if (tp->t->s.sum != NULL)
        journal_sum_add(tp->t->s.sum, tp->t->s.journal, &e);
    tp->out->tmac_entry.epoch = e.epoch;
    tp->out->tmac_entry.seq = e.seq;
    leal_memcpy(tp->out->tmv, tp->tm.tmv, sizeof tp->out->tmv);
    tp->out->tmc = tp->tm.tmc;
}

/* A commit that answered a TMC not above the highest the host proved for
 * the card (its floor's, PACKAGE.md): the card counts its own commits and
 * no key moves that count back, so this is a copy or a clone replaying the
 * genuine card's past. The card took the write (journaled before the
 * commit, with its TMAC entry after it, which the host checks); the tap is
 * reported refused, journaled as a refusal naming the operation's entry
 * with the card as the commit left it, and is not this terminal's last
 * operation (nothing to void). */
LEAL_NOINLINE static leal_err tmc_behind(struct tap *tp)
{
    struct journal_entry e;
    const struct journal_entry *op = &tp->p.e;
    entry_base(tp, &e, JOURNAL_OP_REFUSAL);
    e.reason = (uint16_t)LEAL_E_TERMINAL_TMC_BEHIND;
    e.item = tp->req->op;
    e.amount_cents = op->amount_cents;
    e.purse_cents = op->purse_cents;
    e.counter_before = e.counter_after = op->counter_after;
    e.points_after = op->points_after;
    e.purse_after = op->purse_after;
    e.tier_after = op->tier_after;
    leal_memcpy(e.stamps_after, op->stamps_after, STATE_STAMPS);
    e.ref_epoch = tp->out->entry.epoch;
    e.ref_seq = tp->out->entry.seq;
    tp->t->last.valid = false;
    tp->out->outcome = TERMINAL_REFUSED;
    tp->out->reason = (uint16_t)LEAL_E_TERMINAL_TMC_BEHIND;
    return append(tp, &e);
}

/* Its session (struct desfire_card, 764 bytes on the board) in a frame of
 * its own, as tap_classic's card: inlined into terminal_tap, the two would
 * share one frame as large as the larger under either card's tap. */
LEAL_NOINLINE static leal_err tap_desfire(struct tap *tp)
{
    struct terminal *t = tp->t;
    struct desfire_card_keys dk;
    struct desfire_card_setup ds = {t->s.port->reader, t->s.cp,           &dk,
                                    t->who.issuer_id,  t->who.program_id, tp->card->uid,
                                    tp->card->uid_len};
    struct desfire_card c;
    leal_err err;

    tp->card_kind = JOURNAL_CARD_DESFIRE;
    sam_desfire_keys(t->s.sam, &dk);
    desfire_card_open(&c, &ds);
    /* EV2 secure messaging on an EV2/EV3: the card's kind is not known
     * before the read, so 71 goes first and an EV1 costs one exchange more
     * (judge refuses an AA session on a card the package knows as EV2),
     * unless the package names the card as an EV1: by its card id on a
     * random-UID card (its plain identity comes first: ev1_pick), by the
     * UID of a fixed-UID card whose earlier tap here proved it (ev1_note). */
    c.sm = ev1_find(t, tp->card) >= 0 ? DESFIRE_CARD_SM_AA : DESFIRE_CARD_SM_EV2_FIRST;
    c.sm_pick = ev1_pick;
    c.sm_ctx = tp;
    c.counter_skip = tmac_pick;
    err = desfire_card_tap_read(&c, desfire_want(tp), &tp->v);
    tp->ev2 = c.d.ev2;
    tp->out->ev2 = c.d.ev2;
    tp->out->round_trips = c.d.round_trips;
    if (err != LEAL_OK) {
        tp->out->card_id = tp->v.card_id;
        desfire_card_clear(&c);
        if (card_refusal(err))
            return refuse(tp, err);
        return err;
    }
    tp->counter = c.no_counter ? JOURNAL_COUNTER_NONE : tp->v.taps;
    /* The Transaction MAC's inputs of the read, before finish applies any
     * host change to the view. */
    leal_memset(&tp->tm, 0, sizeof tp->tm);
    tp->tm.counter = tp->v.counter;
    if (c.no_counter)
        tp->tm.flags |= JOURNAL_TMAC_NO_COUNTER;
    /* A layout-3 card's mirror (its purse_cents) is what its state read
     * gave; the GetValue purse was not sent (desfire_want asks for the
     * mirror wherever a tap commits). */
    if (tp->v.layout_version == LAYOUT_VERSION_MIRROR) {
        tp->tm.flags |= JOURNAL_TMAC_MIRROR;
        tp->tm.purse = tp->v.purse_cents;
    } else if ((desfire_want(tp) & DESFIRE_CARD_TAP_PURSE) != 0) {
        tp->tm.flags |= JOURNAL_TMAC_PURSE_READ;
        tp->tm.purse = tp->v.purse_cents;
    }
    if ((desfire_want(tp) & DESFIRE_CARD_TAP_BONOS) != 0 &&
        tp->v.layout_version >= LAYOUT_VERSION_BONOS) {
        tp->tm.flags |= JOURNAL_TMAC_BONOS_READ;
        err = bono_file_encode(&tp->v.bonos, tp->tm.bonos_before);
    }
    if (err == LEAL_OK)
        err = tmac_state(&tp->v, &tp->v.state, tp->v.purse_cents, tp->tm.state_before);
    if (err == LEAL_OK)
        err = finish(tp, desfire_stage, desfire_commit_tx, &c);
    if (err == LEAL_OK && tp->out->tmac) {
        journal_tmac(tp);
        if (tp->tm.tmc <= tp->tmc_floor)
            err = tmc_behind(tp);
    }
    /* Not journaled, so not committed: AbortTransaction drops the staged
     * writes now rather than at the next SelectApplication. */
    if (tp->staged && desfire_abort(&c.d) != LEAL_OK)
        tp->staged = false; /* the card left: it dropped them itself */
    tp->out->round_trips = c.d.round_trips;
    desfire_card_clear(&c);
    return err;
}

/* --- MIFARE Classic --------------------------------------------------------- */

struct classic_tap {
    struct tap *tp;
    struct classic_card cc;
    struct classic_card_keys keys;
    struct classic_card_keyring ring;
    struct sam_classic_ring ring_ctx;
    struct classic_card_secrets sec;
    struct classic_card_view cv;
    uint8_t span[CLASSIC_RECORD_STATE_SPAN];
    struct classic_record_state next;
};

static leal_err classic_stage(struct tap *tp, void *card)
{
    struct classic_tap *ct = card;
    leal_memset(&ct->next, 0, sizeof ct->next);
    ct->next.body = tp->p.next;
    ct->next.purse = tp->p.e.purse_after;
    return classic_card_seal_next(&ct->sec, &ct->cv, &ct->next, ct->span);
}

static leal_err classic_commit(struct tap *tp, void *card)
{
    struct classic_tap *ct = card;
    (void)tp;
    return classic_card_write_next(&ct->cc, &ct->sec, &ct->next, ct->span, &ct->cv);
}

static leal_err classic_run(struct tap *tp, struct classic_tap *ct)
{
    const struct terminal *t = tp->t;
    uint8_t version;
    leal_err err;

    tp->card_kind = JOURNAL_CARD_CLASSIC;
    leal_memset(ct, 0, sizeof *ct);
    ct->tp = tp;
    if ((err = t->s.sam->current_version(t->s.sam->ctx, KEY_ROLE_CLASSIC_A, &version)) != LEAL_OK ||
        (err = sam_classic_keys(t->s.sam, tp->card->uid, tp->card->uid_len, version, &ct->keys)) !=
            LEAL_OK ||
        (err = sam_classic_keyring(t->s.sam, t->s.cp, tp->card->uid, tp->card->uid_len,
                                   &ct->ring_ctx, &ct->ring)) != LEAL_OK)
        return err;
    leal_memcpy(ct->keys.a[0], mad_key_a, sizeof mad_key_a);
    ct->sec = (struct classic_card_secrets){&ct->keys,
                                            &ct->ring,
                                            tp->card->uid,
                                            tp->card->uid_len,
                                            t->who.issuer_id,
                                            t->who.program_id,
                                            t->s.cfg.classic_purse_cap};
    classic_card_init(&ct->cc, tp->t->s.port->reader);
    err = classic_card_read_view(&ct->cc, &ct->sec, &ct->cv);
    tp->out->round_trips = ct->cc.round_trips;
    if (err != LEAL_OK) {
        if (err == LEAL_E_CARD_TAMPERED || err == LEAL_E_CARD_NOT_LEAL) {
            tp->v.card_id = ct->cv.id.card_id;
            return refuse(tp, err);
        }
        return card_refusal(err) ? refuse(tp, err) : err;
    }
    classic_card_fill_view(&ct->cv, &ct->sec, &tp->v);
    tp->counter = tp->v.state.seq;
    err = finish(tp, classic_stage, classic_commit, ct);
    tp->out->round_trips = ct->cc.round_trips;
    return err;
}

/* The Classic tap's keys and card in this frame only, wiped on every path
 * (not inlined: tap_desfire). */
LEAL_NOINLINE static leal_err tap_classic(struct tap *tp)
{
    struct classic_tap ct;
    leal_err err = classic_run(tp, &ct);
    leal_wipe(&ct, sizeof ct);
    return err;
}

/* --- the tap ---------------------------------------------------------------- */

/* After the read: settle, judge, plan, journal, write, remember. */
/* The operations whose write carries the card's state (a bono session
 * writes only the bono file). */
static bool writes_state(uint8_t op)
{
    return op == TERMINAL_EARN || op == TERMINAL_PAY || op == TERMINAL_PAY_EARN ||
           op == TERMINAL_REDEEM || op == TERMINAL_STAMP;
}

static leal_err finish(struct tap *tp, leal_err (*stage)(struct tap *, void *),
                       leal_err (*commit)(struct tap *, void *), void *card)
{
    struct terminal_result *o = tp->out;
    leal_err err, reason;

    o->card_kind = tp->card_kind;
    o->card_id = tp->v.card_id;
    o->before = tp->v.state;
    o->purse_before = tp->v.purse_cents;
    o->taps_before = tp->counter;
    if ((err = settle(tp)) != LEAL_OK || (err = judge(tp, &reason)) != LEAL_OK)
        return err;
    if (reason == LEAL_OK && tp->req->op == TERMINAL_TOPUP)
        reason = LEAL_E_TERMINAL_TOPUP_OFFLINE;
    if (reason == LEAL_OK && tp->req->op == TERMINAL_BONO && tp->card_kind == JOURNAL_CARD_CLASSIC)
        reason = LEAL_E_TERMINAL_NO_BONO;
    /* Host changes waiting for this card ride on this write (terminal_pending.h). */
    struct state_body as_read = tp->v.state;
    struct journal_line host;
    bool host_applied = false;
    if (reason == LEAL_OK && writes_state(tp->req->op) &&
        (err = terminal_pending_apply(tp->t->s.package, tp->v.card_id,
                                      tp->counter == JOURNAL_COUNTER_NONE ? JOURNAL_COUNTER_NONE
                                                                          : tp->v.taps,
                                      &tp->v.state, &host, &host_applied)) != LEAL_OK)
        return err;
    if (reason == LEAL_OK && (err = plan(tp, &reason)) != LEAL_OK)
        return err;
    if (host_applied && reason != LEAL_OK)
        tp->v.state = as_read; /* refused: the card as read, no host change */
    if (reason != LEAL_OK)
        return refuse(tp, reason);
    if (host_applied)
        tp->p.e.lines[tp->p.e.n_lines++] = host;
    if (tp->req->op == TERMINAL_BALANCE) {
        tp->p.e.counter_after = tp->counter;
        if ((err = append(tp, &tp->p.e)) != LEAL_OK)
            return err;
        o->bono_left = 0;
        remember(tp, false);
        return LEAL_OK;
    }
    /* Staged writes take effect only at the commit: a failure before it
     * leaves the card as it was (the tap is refused with the card's error). */
    if ((err = stage(tp, card)) != LEAL_OK)
        return card_refusal(err) || card_status(err) || err == LEAL_E_CARD_REMOVED ||
                       err == LEAL_E_TIMEOUT || err == LEAL_E_READER
                   ? refuse(tp, err)
                   : err;
    /* Journaled before the commit: the journal never lacks what the card
     * may hold. A full journal stops the tap here, the card untouched (the
     * staged writes die with the session). */
    tp->staged = true;
    if (tp->tmac && (err = tmac_staged(tp)) != LEAL_OK)
        return err;
    if ((err = append(tp, &tp->p.e)) != LEAL_OK)
        return err;
    tp->staged = false;
    err = commit(tp, card);
    remember(tp, err != LEAL_OK);
    return LEAL_OK;
}

leal_err terminal_tap(struct terminal *t, const struct terminal_card *card,
                      const struct terminal_request *req, struct terminal_result *out)
{
    struct tap tp;
    leal_err err;

    if (out != NULL)
        leal_memset(out, 0, sizeof *out);
    if (t == NULL || card == NULL || req == NULL || out == NULL || card->uid_len == 0 ||
        card->uid_len > LEAL_MAX_UID || req->op < TERMINAL_EARN || req->op > TERMINAL_TOPUP ||
        req->amount_cents < 0 || req->amount_cents > RULES_MAX_SALE_CENTS || req->pay_cents < 0 ||
        req->pay_cents > INT32_MAX || req->n_items > RULES_MAX_ITEMS)
        return LEAL_E_ARG;
    if ((req->op == TERMINAL_PAY || req->op == TERMINAL_PAY_EARN) && req->pay_cents == 0)
        return LEAL_E_ARG;
    if (!t->open)
        return LEAL_E_STATE;
    leal_memset(&tp, 0, sizeof tp);
    tp.t = t;
    tp.card = card;
    tp.req = req;
    tp.out = out;
    out->op = req->op;
    if ((err = t->s.port->now(t->s.port->ctx, &tp.now)) != LEAL_OK ||
        (err = civil_of(&tp.now, &tp.local, &tp.today)) != LEAL_OK)
        return err;
    if (card->type == TERMINAL_CARD_DESFIRE)
        err = tap_desfire(&tp);
    else if (card->type == TERMINAL_CARD_CLASSIC)
        err = tap_classic(&tp);
    else
        err = LEAL_E_ARG;
    leal_wipe(&tp.p, sizeof tp.p);
    return err;
}

leal_err terminal_local_time(const struct port_time *now, struct rules_civil *local, uint32_t *day)
{
    if (now == NULL || local == NULL || day == NULL)
        return LEAL_E_ARG;
    return civil_of(now, local, day);
}
