/* issuance.c - the desk's operations (issuance.h), each one sequence over the
 * card types (issuance_ops.h): the card in the field chosen by the first type
 * that claims it, a session opened on it, and the ledger's steps in order
 * around the card's: what a read settles and judges, an intent before every
 * card write that moves money or points, the posting once the card has it. */
#include "issuance.h"

#include <stdio.h>
#include <string.h>

#include "cardlayout/layout.h"
#include "host/ledger/ledger_host_change.h"
#include "issuance_bono.h"
#include "issuance_books.h"
#include "issuance_ops.h"
#include "host/ledger/ledger_reward.h"

/* First claim wins: DESFire claims whatever is left. */
static const struct issuance_card_ops *const card_types[] = {&issuance_classic_ops,
                                                             &issuance_desfire_ops};

/* One desk operation: the card in the field, its type, a session on it. */
struct op {
    struct issuance *is;
    struct issuance_contact c;
    const struct issuance_card_ops *ops;
    void *s;
    bool caps_in_books; /* the program's caps read with the books (read_books) */
};

static leal_err op_open(struct op *o, struct issuance *is, struct reader *r)
{
    leal_err err;
    memset(o, 0, sizeof *o);
    o->is = is;
    o->c.is = is;
    o->c.reader = r;
    if ((err = reader_card_info(r, &o->c.rc)) != LEAL_OK)
        return err;
    for (size_t i = 0; i < sizeof card_types / sizeof card_types[0] && o->ops == NULL; i++)
        if (card_types[i]->claims(&o->c.rc, &o->c.tech))
            o->ops = card_types[i];
    if (o->ops == NULL)
        return LEAL_E_CARD_UNKNOWN;
    return o->ops->open(&o->c, &o->s);
}

static void op_close(struct op *o, struct issuance_card *out)
{
    if (o->ops != NULL)
        o->ops->close(o->s, out);
}

/* What the ledger started (a top-up, a sync) settled from what the card
 * shows, the card's mark and purse judged, its counter recorded, card and
 * ledger compared. */
static leal_err settle_and_compare(struct op *o, const struct ledger_card *lc,
                                   struct issuance_card *out)
{
    struct issuance *is = o->is;
    char unsettled[256] = "", verdict[160];
    bool intent_mark = false;
    leal_err err;
    if ((err = issuance_settle_topup(is, lc, out, &intent_mark, unsettled, sizeof unsettled)) !=
            LEAL_OK ||
        (!out->unsettled &&
         (err = issuance_settle_sync(is, lc, out, unsettled, sizeof unsettled)) != LEAL_OK) ||
        (!out->unsettled &&
         (err = issuance_settle_bono(is, lc, out, unsettled, sizeof unsettled)) != LEAL_OK))
        return err;
    o->ops->judge_mark(o->s, lc, intent_mark, out, verdict, sizeof verdict);
    if (verdict[0] != '\0')
        return issuance_verdict(is, out, verdict);
    if ((err = issuance_judge(is, lc, out->stored_value, out)) != LEAL_OK)
        return err;
    /* Sessions are card data too: more than the ledger holds is a verdict. */
    if ((err = issuance_judge_bonos(is, lc, out, verdict, sizeof verdict)) != LEAL_OK)
        return err;
    if (verdict[0] != '\0')
        return issuance_verdict(is, out, verdict);
    if (((int64_t)out->taps > lc->last_counter &&
         (err = ledger_card_set_counter(is->ledger, out->card_id, out->taps)) != LEAL_OK) ||
        (err = issuance_compare(is, lc, out->stored_value, out)) != LEAL_OK)
        return err;
    if (out->unsettled || out->bono_unsettled) {
        out->agrees = false;
        snprintf(out->why, sizeof out->why, "%s", unsettled);
    }
    return LEAL_OK;
}

/* What the ledger has of the card just read, judged: a card being issued
 * (PENDING) by its issuance, a card behind the ledger (its taps, or an
 * EV2/EV3's TMC: issuance_judge_tmc) before anything is settled from it, any
 * other by settle_and_compare. *judged: the card is
 * the ledger's and was settled (the read goes on to its keys). */
static leal_err judge_books(struct op *o, struct ledger_card *lc, struct issuance_card *out,
                            bool *judged)
{
    struct issuance *is = o->is;
    leal_err err;
    *judged = false;
    if ((o->caps_in_books && (err = issuance_purse_caps(is, out)) != LEAL_OK) ||
        (err = issuance_ledger_card(is, out, lc)) != LEAL_OK || lc->card_id == 0)
        return err;
    if (lc->status == LEDGER_CARD_PENDING)
        return issuance_compare(is, lc, out->stored_value, out);
    if ((int64_t)out->taps < lc->last_counter)
        return issuance_judge(is, lc, out->stored_value, out);
    if ((err = issuance_judge_tmc(is, lc, out)) != LEAL_OK)
        return err;
    *judged = true;
    return settle_and_compare(o, lc, out);
}

/* The ledger's side of a card just read (judge_books), in one write
 * transaction from the card's lookup on: what the read records (a
 * settlement, a verdict, the counter, what was seen) is one commit, one
 * sync, and a read that changes nothing commits nothing. Each write keeps
 * its own savepoint, so a failed one is undone alone and what went before
 * it is committed, as when each was its own transaction; a verdict that
 * ends the read with an error is committed too. A card still the
 * account's is then brought to the current keys (a card write, outside the
 * transaction). */
static leal_err read_books(struct op *o, struct issuance_card *out)
{
    struct issuance *is = o->is;
    struct ledger_card lc;
    leal_err err, commit;
    bool own, judged;
    /* Unable to begin (busy past the timeout): each write as its own, as before. */
    own = ledger_batch_begin(is->ledger) == LEAL_OK;
    err = judge_books(o, &lc, out, &judged);
    if (own && (commit = ledger_batch_commit(is->ledger)) != LEAL_OK && err == LEAL_OK)
        err = commit;
    if (err != LEAL_OK || !judged)
        return err;
    /* A card no longer the account's is left as it is. */
    if (lc.status == LEDGER_CARD_LOST || lc.status == LEDGER_CARD_REPLACED)
        return LEAL_OK;
    err = o->ops->rekey(o->s, out);
    if (err == LEAL_E_CARD_AUTHENTICATION)
        return LEAL_E_CARD_TAMPERED;
    /* A version-1 card the ledger holds active, judged and settled, to
     * version 2 at this tap (LAYOUT.md 4.3): terminals cannot make its file. */
    if (err == LEAL_OK && lc.status == LEDGER_CARD_ACTIVE && !out->unsettled &&
        !out->bono_unsettled && o->ops->upgrade && out->layout_version == LAYOUT_VERSION)
        err = o->ops->upgrade(o->s, out);
    /* What the card now is, recorded (also a tear's between card and ledger). */
    if (err == LEAL_OK && out->layout_version > lc.layout_version)
        err = ledger_card_set_layout(is->ledger, out->card_id, out->layout_version);
    return err;
}

/* The program's caps before the card for Classic, whose purse rule reads
 * them; with the books otherwise (one ledger transaction fewer). */
static leal_err read_on(struct op *o, struct issuance_card *out)
{
    leal_err err;
    o->caps_in_books = !issuance_is_classic(o->c.tech);
    if ((!o->caps_in_books && (err = issuance_purse_caps(o->is, out)) != LEAL_OK) ||
        (err = o->ops->read(o->s, out)) != LEAL_OK)
        return err;
    err = read_books(o, out);
    o->caps_in_books = false;
    return err;
}

/* What the card holds after a write, into the ledger: its counter, then
 * card and ledger compared again. */
static leal_err took_effect(struct op *o, struct issuance_card *out)
{
    leal_err err;
    if ((err = ledger_card_set_counter(o->is->ledger, out->card_id, out->taps)) != LEAL_OK ||
        (err = ledger_host_change_desk_wrote(o->is->ledger, out->card_id, out->taps)) != LEAL_OK ||
        (err = ledger_card_find_by_id(o->is->ledger, out->card_id, &out->ledger)) != LEAL_OK)
        return err;
    return issuance_compare(o->is, &out->ledger, out->stored_value, out);
}

/* A host top-up of a card just read (LAYOUT.md 2.7, 3.3): the intent in the
 * ledger (seq before and after, purse after, amount, request id, the mark
 * the card will show) before the card is written; once the card has it, the
 * entry posted and the intent removed in one transaction. A tear anywhere
 * leaves the intent for the next read to settle. */
static leal_err topup_on(struct op *o, struct issuance_card *out, int64_t cents, bool cashback)
{
    struct ledger_pending_topup t;
    bool replayed = false;
    leal_err err;
    if ((err = issuance_topup_room(o->is, out, cents)) != LEAL_OK)
        return err;
    memset(&t, 0, sizeof t);
    t.card_id = out->card_id;
    t.cents = cents;
    t.store_id = o->is->store_id;
    if ((err = o->ops->credit_stage(o->s, out, cents, &t)) != LEAL_OK)
        return err;
    if (cashback) /* what the entry is, for whichever read settles it */
        strncat(t.request_id, ISSUANCE_CASHBACK_SUFFIX,
                sizeof t.request_id - strlen(t.request_id) - 1);
    if ((err = ledger_pending_topup_add(o->is->ledger, &t)) != LEAL_OK ||
        (err = o->ops->credit_commit(o->s, out)) != LEAL_OK ||
        (err = issuance_post_topup(o->is, &out->ledger, &t, &replayed)) != LEAL_OK)
        return err;
    return took_effect(o, out);
}

/* leal card sync on a card just read (issuance.h): the intent, the card's
 * state at seq + 1 with the points after, the intent settled. */
static leal_err sync_on(struct op *o, struct issuance_card *out)
{
    struct ledger_pending_sync p;
    leal_err err;
    if ((err = issuance_sync_plan(o->is, out, &p)) != LEAL_OK || p.points == 0)
        return err;
    if ((err = o->ops->state_stage(o->s, out, (uint32_t)p.points_after, (uint32_t)out->purse_cents,
                                   &p)) != LEAL_OK ||
        (err = ledger_pending_sync_add(o->is->ledger, &p)) != LEAL_OK ||
        (err = o->ops->state_commit(o->s, out)) != LEAL_OK ||
        (err = ledger_pending_sync_settle(o->is->ledger, out->card_id)) != LEAL_OK)
        return err;
    out->sync_points = p.points;
    return took_effect(o, out);
}

/* The old card of a replacement emptied in one commit: no points, no money
 * (issuance.h). out keeps what was taken off; what the card now holds is
 * recorded. */
static leal_err empty_on(struct op *o, struct issuance_card *out)
{
    struct ledger_pending_sync seqs; /* where the state goes; nothing is pending */
    struct issuance_card now;
    leal_err err;
    if (out->purse_cents == 0 && out->state.points == 0)
        return LEAL_OK;
    now = *out;
    if ((err = o->ops->state_stage(o->s, &now, 0, 0, &seqs)) != LEAL_OK ||
        (err = o->ops->state_commit(o->s, &now)) != LEAL_OK)
        return err;
    out->taps = now.taps;
    if ((err = ledger_card_set_counter(o->is->ledger, out->card_id, out->taps)) != LEAL_OK)
        return err;
    return ledger_card_set_seen_mark(o->is->ledger, out->card_id, now.state.seq, 0, 0, now.mark);
}

/* A bono sale or use on a card just read (LAYOUT.md 4.4): the intent in the
 * ledger (taps before and after, the bono file the card will hold) before
 * the card is written; once the card has it, the entry posted and the
 * intent removed in one transaction. A tear anywhere leaves the intent for
 * the next read to settle (issuance_settle_bono). */
static leal_err bono_on(struct op *o, struct issuance_card *out, const struct bono_file *next,
                        struct ledger_bono_intent *p)
{
    int64_t entry, sessions, deferred;
    bool replayed = false;
    leal_err err;
    if ((err = o->ops->bono_stage(o->s, out, next, p)) != LEAL_OK)
        return err;
    snprintf(p->request_id, sizeof p->request_id, "card:%lld:bono:%lld", (long long)out->card_id,
             (long long)p->seq_after);
    p->store_id = o->is->store_id;
    if ((err = ledger_bono_intent_add(o->is->ledger, p)) != LEAL_OK ||
        (err = o->ops->bono_commit(o->s, out)) != LEAL_OK ||
        (err = ledger_bono_intent_settle(o->is->ledger, p, &entry, &replayed)) != LEAL_OK ||
        (err = ledger_bono_held(o->is->ledger, out->ledger.account_id, p->bono_id, &sessions,
                                &deferred)) != LEAL_OK)
        return err;
    out->bono_id = p->bono_id;
    out->bono_cents = p->cents;
    out->bono_held = sessions;
    return took_effect(o, out);
}

/* The card in the field for a bono write: its type must carry bonos
 * (Classic does not, LAYOUT.md 4.5: refused before it is touched), then it
 * is read and settled like any desk read. */
static leal_err bono_open(struct op *o, struct issuance *is, struct reader *r,
                          struct issuance_card *out, int64_t expect_card_id)
{
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = op_open(o, is, r)) != LEAL_OK)
        return err;
    if (o->ops->bono_stage == NULL) {
        out->tech = o->c.tech;
        return LEAL_E_CARD_NO_BONOS;
    }
    if ((err = read_on(o, out)) != LEAL_OK)
        return err;
    return issuance_bono_room(out, expect_card_id);
}

/* A sale onto a slot past its last day: the program's expired bonos swept
 * first, so the ledger holds no expired session the new sale would merge
 * with (issuance_bono_sale_plan starts the slot again). */
static leal_err sweep_expired(struct issuance *is, const struct issuance_card *out,
                              const struct issuance_bono_sale *sale)
{
    struct ledger_bono_expired swept;
    int slot = bono_file_find(&out->bonos, sale->bono_id);
    if (sale->today == 0 || slot < 0 || out->bonos.slot[slot].last_day == 0 ||
        out->bonos.slot[slot].last_day >= sale->today)
        return LEAL_OK;
    return ledger_bono_expire(is->ledger, is->program_id, sale->today, issuance_operator(is),
                              &swept);
}

leal_err issuance_bono_sell(struct issuance *is, struct reader *r,
                            const struct issuance_bono_sale *sale, struct issuance_card *out)
{
    struct ledger_bono_intent p;
    struct bono_file next;
    struct op o;
    leal_err err;
    memset(&p, 0, sizeof p);
    if ((err = bono_open(&o, is, r, out, sale->expect_card_id)) == LEAL_OK &&
        (err = sweep_expired(is, out, sale)) == LEAL_OK &&
        (err = issuance_bono_sale_plan(out, sale, &next, &p)) == LEAL_OK)
        err = bono_on(&o, out, &next, &p);
    op_close(&o, out);
    return err;
}

leal_err issuance_bono_use(struct issuance *is, struct reader *r, uint32_t bono_id,
                           const struct rules_civil *today, int64_t expect_card_id,
                           struct issuance_card *out)
{
    struct ledger_bono_intent p;
    struct bono_file next;
    struct op o;
    leal_err err;
    memset(&p, 0, sizeof p);
    if ((err = bono_open(&o, is, r, out, expect_card_id)) == LEAL_OK &&
        (err = issuance_bono_use_plan(is, out, bono_id, today, &next, &p)) == LEAL_OK)
        err = bono_on(&o, out, &next, &p);
    op_close(&o, out);
    return err;
}

leal_err issuance_read(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct op o;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = op_open(&o, is, r)) == LEAL_OK)
        err = read_on(&o, out);
    op_close(&o, out);
    return err;
}

leal_err issuance_topup(struct issuance *is, struct reader *r, int64_t cents,
                        struct issuance_card *out)
{
    struct op o;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = op_open(&o, is, r)) == LEAL_OK && (err = read_on(&o, out)) == LEAL_OK)
        err = !out->agrees && out->ledger.card_id == 0 ? LEAL_E_CARD_NOT_LEAL
                                                       : topup_on(&o, out, cents, false);
    op_close(&o, out);
    return err;
}

leal_err issuance_load_cashback(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct op o;
    int64_t owed = 0;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = op_open(&o, is, r)) == LEAL_OK && (err = read_on(&o, out)) == LEAL_OK) {
        if (!out->agrees && out->ledger.card_id == 0)
            err = LEAL_E_CARD_NOT_LEAL;
        else if ((err = ledger_reward_cashback_owed(is->ledger, out->ledger.account_id, &owed)) ==
                     LEAL_OK &&
                 owed > 0) {
            out->cashback_cents = owed;
            err = topup_on(&o, out, owed, true);
        }
    }
    op_close(&o, out);
    return err;
}

leal_err issuance_sync(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct op o;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = op_open(&o, is, r)) == LEAL_OK && (err = read_on(&o, out)) == LEAL_OK)
        err = sync_on(&o, out);
    op_close(&o, out);
    return err;
}

leal_err issuance_empty_old(struct issuance *is, struct reader *r, int64_t old_card_id,
                            struct issuance_card *out)
{
    struct op o;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = op_open(&o, is, r)) == LEAL_OK && (err = read_on(&o, out)) == LEAL_OK &&
        (err = issuance_old_check(is, old_card_id, out)) == LEAL_OK)
        err = empty_on(&o, out);
    op_close(&o, out);
    return err;
}

/* leal card upgrade on a card just read (issuance_add_tmac): the card's
 * file made or found, then its version recorded, once the card has it. */
static leal_err tmac_on(struct op *o, struct issuance_card *out)
{
    uint8_t v[LEDGER_KEY_ROLES], known;
    bool made = false;
    leal_err err;
    if (out->ledger.card_id == 0)
        return LEAL_E_CARD_NOT_LEAL;
    if (out->ledger.tech != LEDGER_TECH_DESFIRE_EV2 && out->ledger.tech != LEDGER_TECH_DESFIRE_EV3)
        return LEAL_E_CARD_NO_TMAC;
    if (out->ledger.status != LEDGER_CARD_ACTIVE)
        return LEAL_E_CARD_BLOCKED;
    if ((err = ledger_card_keys_get(o->is->ledger, out->card_id, v)) != LEAL_OK)
        return err;
    known = v[KEY_ROLE_TMAC - 1];
    err = o->ops->add_tmac(o->s, known, &out->tmac_version, &made);
    /* The file the ledger records is not on the card, or 0x0F is not leal's. */
    if (err == LEAL_E_CARD_FILE_NOT_FOUND || err == LEAL_E_CARD_TAMPERED)
        return LEAL_E_CARD_TMAC_MISMATCH;
    if (err != LEAL_OK)
        return err;
    if (known != 0)
        return known == out->tmac_version ? LEAL_OK : LEAL_E_CARD_TMAC_MISMATCH;
    memset(v, 0, sizeof v);
    v[KEY_ROLE_TMAC - 1] = out->tmac_version;
    if ((err = ledger_card_keys_set(o->is->ledger, out->card_id, v)) != LEAL_OK)
        return err;
    out->tmac_added = true;
    return LEAL_OK;
}

leal_err issuance_add_tmac(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    const struct key_version *kv;
    struct op o;
    leal_err err;
    memset(out, 0, sizeof *out);
    if (keyset_current(is->keys, is->program_id, KEY_ROLE_TMAC, &kv) != LEAL_OK)
        return LEAL_E_KEYSTORE_NO_TMAC;
    if ((err = op_open(&o, is, r)) == LEAL_OK) {
        if (o.ops->add_tmac == NULL) {
            out->tech = o.c.tech;
            err = LEAL_E_CARD_NO_TMAC;
        } else if ((err = read_on(&o, out)) == LEAL_OK) {
            err = tmac_on(&o, out);
        }
    }
    op_close(&o, out);
    return err;
}

/* The ledger keeps an erased card's history; its status becomes lost. */
static leal_err mark_erased(struct issuance *is, const struct issuance_card *out)
{
    if (out->ledger.card_id == 0 || out->ledger.status == LEDGER_CARD_LOST ||
        out->ledger.status == LEDGER_CARD_REPLACED)
        return LEAL_OK;
    return ledger_card_change_status(is->ledger, out->card_id, LEDGER_CARD_LOST,
                                     "erased at the desk", issuance_operator(is));
}

/* A card type whose erase is atomic (DESFire's FormatPICC): read and
 * settled in full, refused with money on it, erased, then marked lost. */
static leal_err erase_read(struct op *o, struct issuance_card *out)
{
    leal_err err;
    if ((err = read_on(o, out)) != LEAL_OK)
        return err;
    if (out->purse_cents != 0)
        return LEAL_E_CARD_BOUNDARY; /* money on it: replace the card or spend it first */
    if ((err = o->ops->erase(o->s, out)) != LEAL_OK)
        return err;
    return mark_erased(o->is, out);
}

/* A card type whose erase takes many writes (Classic): marked lost before
 * the card is touched, so a torn erase never leaves an active card in the
 * ledger that does not read; a live card holding money as the desk last read
 * it is refused first. */
static leal_err erase_identified(struct op *o, struct issuance_card *out)
{
    struct ledger_card lc;
    leal_err err;
    if ((err = o->ops->erase_identify(o->s, out)) != LEAL_OK)
        return err;
    if (out->card_id != 0) {
        err = ledger_card_find_by_id(o->is->ledger, out->card_id, &lc);
        if (err != LEAL_OK && err != LEAL_E_UNKNOWN_ID)
            return err;
        if (err == LEAL_OK) {
            out->ledger = lc;
            if ((lc.status == LEDGER_CARD_ACTIVE || lc.status == LEDGER_CARD_BLOCKED) &&
                lc.seen_purse_cents > 0) {
                out->purse_cents = (int32_t)lc.seen_purse_cents;
                return LEAL_E_CARD_BOUNDARY;
            }
            if ((err = mark_erased(o->is, out)) != LEAL_OK)
                return err;
        }
    }
    return o->ops->erase(o->s, out);
}

leal_err issuance_erase(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct op o;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = op_open(&o, is, r)) == LEAL_OK)
        err = o.ops->erase_identify ? erase_identified(&o, out) : erase_read(&o, out);
    op_close(&o, out);
    return err;
}

leal_err issuance_account_program(struct issuance *is, int64_t account_id)
{
    struct ledger_account a;
    leal_err err = ledger_account_get(is->ledger, account_id, &a);
    if (err == LEAL_OK && a.program_id != (int64_t)is->program_id)
        err = LEAL_E_WRONG_PROGRAM;
    return err;
}

/* A card that already carries a leal identity is somebody's card, unless it
 * is our own torn issuance (PENDING): then it is made again. */
static leal_err refuse_issued(struct op *o, struct issuance_card *out)
{
    struct ledger_card lc;
    bool known;
    leal_err err;
    if ((err = o->ops->inspect(o->s, out)) != LEAL_OK || out->card_id == 0)
        return err;
    known = ledger_card_find_by_id(o->is->ledger, out->card_id, &lc) == LEAL_OK;
    if (known)
        out->ledger = lc;
    if (out->issuer_id != o->is->keys->issuer_id || !known || lc.status != LEDGER_CARD_PENDING)
        return LEAL_E_CARD_ALREADY_ISSUED;
    return LEAL_OK;
}

struct torn_ctx {
    struct op *o;
    int64_t found;
};

static int find_torn(void *ctx, const struct ledger_card *c)
{
    struct torn_ctx *t = ctx;
    if (c->status != LEDGER_CARD_PENDING || !t->o->ops->torn_here(t->o->s, c))
        return 0;
    t->found = c->card_id;
    return 1;
}

/* Was this card's issuance begun and torn? Then it is PENDING on this
 * account and taken up again; otherwise it is recorded PENDING before
 * anything is written. */
static leal_err begin_card(struct op *o, const struct issuance_request *req, int64_t *card_id,
                           struct issuance_card *out)
{
    struct torn_ctx t = {o, 0};
    struct ledger_card lc;
    leal_err err = ledger_card_each_of_account(o->is->ledger, req->account_id, find_torn, &t);
    if (err != LEAL_OK)
        return err;
    memset(&lc, 0, sizeof lc);
    lc.account_id = req->account_id;
    if ((err = o->ops->pending_record(o->s, t.found != 0, &lc)) != LEAL_OK)
        return err;
    if (t.found != 0)
        *card_id = t.found;
    else if ((err = issuance_add_pending(o->is, &lc, card_id)) != LEAL_OK)
        return err;
    out->card_id = *card_id;
    return LEAL_OK;
}

/* Money the new card cannot hold is refused before anything is written (a
 * gift's account is made only once the card in the field can hold it);
 * the card is made, verified as a terminal will read it, then active in
 * the ledger (with a replaced card REPLACED), then topped up. */
static leal_err issue_on(struct op *o, const struct issuance_request *asked,
                         struct issuance_opening *opening, struct issuance_card *out)
{
    struct issuance *is = o->is;
    struct issuance_request gift = *asked;
    const struct issuance_request *req = &gift;
    int64_t card_id = 0;
    leal_err err;
    out->tech = o->c.tech;
    if ((err = issuance_opening_room(is, req, opening, out)) != LEAL_OK ||
        (err = refuse_issued(o, out)) != LEAL_OK ||
        (asked->gift && (err = issuance_gift_account(is, out, &gift)) != LEAL_OK) ||
        (err = begin_card(o, req, &card_id, out)) != LEAL_OK ||
        (err = issuance_opening_post(is, req, card_id, opening)) != LEAL_OK ||
        (err = o->ops->personalise(o->s, card_id, opening, out)) != LEAL_OK ||
        (out->uid_len > 0 &&
         (err = ledger_card_set_uid(is->ledger, card_id, out->uid, out->uid_len)) != LEAL_OK) ||
        (err = o->ops->verify(o->s, card_id, opening, out)) != LEAL_OK ||
        (err = read_books(o, out)) != LEAL_OK ||
        (err = issuance_activate(is, req, card_id, out)) != LEAL_OK ||
        (err = ledger_card_find_by_id(is->ledger, card_id, &out->ledger)) != LEAL_OK)
        return err;
    /* The opening top-up on the card just verified: its read was the verification. */
    return req->topup_cents > 0 ? topup_on(o, out, req->topup_cents, false) : LEAL_OK;
}

leal_err issuance_issue(struct issuance *is, struct reader *r, const struct issuance_request *req,
                        struct issuance_card *out)
{
    struct issuance_opening opening;
    struct op o;
    leal_err err;

    memset(out, 0, sizeof *out);
    /* The card is made with is->program_id's keys: never for another program's
     * account; a replaced card's share is known before any card is touched. */
    if ((!req->gift && (err = issuance_account_program(is, req->account_id)) != LEAL_OK) ||
        (err = issuance_opening_plan(is, req, &opening)) != LEAL_OK)
        return err;
    if ((err = op_open(&o, is, r)) == LEAL_OK)
        err = issue_on(&o, req, &opening, out);
    op_close(&o, out);
    return err;
}
