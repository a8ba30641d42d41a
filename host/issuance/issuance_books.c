/* issuance_books.c - the ledger's side of a desk operation (issuance_books.h). */
#include "issuance_books.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardlayout/layout.h"
#include "host/ledger/amount.h"
#include "host/ledger/ledger_bono.h"
#include "host/ledger/ledger_host_change.h"
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_sale.h"
#include "host/ledger/ledger_tmac.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

/* A two-line entry between a customer's account and one of the program's
 * accounts, made by the desk for a card. */
struct posting {
    int64_t card_id, account_id;
    const char *kind, *asset, *program_account; /* "topup", "EUR", "cash" */
    int64_t amount;                             /* onto the customer's account */
    int64_t store_id;                           /* the shop it is (0: none) */
    const char *request, *reason, *reference;
    bool settles_pending; /* removes the card's pending top-up with this request id */
    bool cashback;        /* also the account's CASHBACK back to cashback_owed */
};

/* The operator is fixed ("desk"), not the person's name: the same entry may
 * be re-posted by whoever taps the card next (a resumed issuance, a top-up
 * read back from the card), and must hash the same to be recognised as the
 * same entry. */
static leal_err post(struct issuance *is, const struct posting *p, bool *replayed)
{
    int64_t other, entry, owed = 0;
    struct ledger_line lines[4];
    struct ledger_entry e;
    leal_err err = ledger_program_account(is->ledger, is->program_id, p->program_account, &other);
    if (err == LEAL_OK && p->cashback)
        err = ledger_program_account(is->ledger, is->program_id, "cashback_owed", &owed);
    if (err != LEAL_OK)
        return err;
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0].account_id = p->account_id;
    lines[1].account_id = other;
    snprintf(lines[0].asset, sizeof lines[0].asset, "%s", p->asset);
    snprintf(lines[1].asset, sizeof lines[1].asset, "%s", p->asset);
    lines[0].amount = p->amount;
    lines[1].amount = -p->amount;
    e.program_id = is->program_id;
    e.kind = p->kind;
    e.request_id = p->request;
    e.operator_name = "desk";
    e.reason = p->reason;
    e.reference = p->reference;
    e.card_id = p->card_id;
    e.store_id = p->store_id;
    e.nlines = 2;
    e.lines = lines;
    if (p->cashback) {
        lines[2].account_id = p->account_id;
        lines[3].account_id = owed;
        snprintf(lines[2].asset, sizeof lines[2].asset, "CASHBACK");
        snprintf(lines[3].asset, sizeof lines[3].asset, "CASHBACK");
        lines[2].amount = -p->amount;
        lines[3].amount = p->amount;
        e.nlines = 4;
    }
    if (p->settles_pending)
        return ledger_pending_topup_settle(is->ledger, &e, &entry, replayed);
    return ledger_post(is->ledger, &e, &entry, replayed);
}

static bool cashback_load(const char *request_id)
{
    size_t n = strlen(request_id), k = strlen(ISSUANCE_CASHBACK_SUFFIX);
    return n > k && strcmp(request_id + n - k, ISSUANCE_CASHBACK_SUFFIX) == 0;
}

leal_err issuance_post_topup(struct issuance *is, const struct ledger_card *lc,
                             const struct ledger_pending_topup *t, bool *replayed)
{
    char reference[64];
    struct ledger_account a;
    struct posting p = {.card_id = lc->card_id,
                        .account_id = lc->account_id,
                        .kind = "topup",
                        .asset = "EUR",
                        .program_account = "cash",
                        .amount = t->cents,
                        .request = t->request_id,
                        .reason = "purse top-up at the desk",
                        .reference = reference,
                        .store_id = t->store_id, /* where it was loaded, whoever settles it */
                        .settles_pending = true};
    leal_err err = ledger_account_get(is->ledger, lc->account_id, &a);
    if (err != LEAL_OK)
        return err;
    /* Decided by the account, not by the intent, so that a read settling a
     * torn gift posts the same entry the desk would have. */
    if (cashback_load(t->request_id)) {
        p.program_account = "cashback";
        p.reason = "cashback loaded at the desk";
        p.cashback = true;
    } else if (a.kind == LEDGER_ACCOUNT_GIFT) {
        p.kind = "gift_sale";
        p.program_account = "gift_sold";
        p.reason = "gift card sold at the desk";
    }
    if (issuance_is_classic(lc->tech))
        snprintf(reference, sizeof reference, "card %lld seq %u", (long long)lc->card_id,
                 (uint32_t)t->seq_after);
    else
        snprintf(reference, sizeof reference, "card %lld counter %u", (long long)lc->card_id,
                 (uint32_t)(LAYOUT_COUNTER_START - t->seq_after));
    return post(is, &p, replayed);
}

leal_err issuance_ledger_card(struct issuance *is, struct issuance_card *out,
                              struct ledger_card *lc)
{
    leal_err err = ledger_card_find_by_id(is->ledger, out->card_id, lc);
    if (err == LEAL_E_UNKNOWN_ID) {
        memset(lc, 0, sizeof *lc);
        out->agrees = false;
        snprintf(out->why, sizeof out->why, "card %lld is not in the ledger",
                 (long long)out->card_id);
        return LEAL_OK;
    }
    if (err == LEAL_OK)
        out->ledger = *lc;
    return err;
}

bool issuance_is_classic(enum ledger_card_tech t)
{
    return t == LEDGER_TECH_CLASSIC_1K || t == LEDGER_TECH_CLASSIC_4K;
}

/* The account's other live cards as the desk last saw them. */
struct account_cards {
    int64_t this_card;
    int live;
    int unseen;
    int64_t purse, points;
};

static int add_live_card(void *ctx, const struct ledger_card *c)
{
    struct account_cards *a = ctx;
    if (c->status != LEDGER_CARD_ACTIVE && c->status != LEDGER_CARD_BLOCKED &&
        c->card_id != a->this_card)
        return 0;
    a->live++;
    if (c->card_id == a->this_card)
        return 0;
    if (c->seen_at == 0)
        a->unseen++;
    a->purse += c->seen_purse_cents;
    a->points += c->seen_points;
    return 0;
}

leal_err issuance_verdict(struct issuance *is, struct issuance_card *out, const char *why)
{
    bool blocked;
    leal_err err;
    snprintf(out->why, sizeof out->why, "%s", why);
    out->agrees = false;
    out->verdict = true;
    err = ledger_card_verdict(is->ledger, out->card_id, why, issuance_operator(is), &blocked);
    if (err == LEAL_OK) {
        if (blocked)
            out->ledger.status = LEDGER_CARD_BLOCKED;
        err = LEAL_E_CARD_TAMPERED;
    }
    return err;
}

void issuance_eur_text(int64_t cents, char *out, size_t n)
{
    if (amount_format(cents, out, n) != LEAL_OK && n > 0)
        out[0] = '\0'; /* unreachable with the callers' 32-byte buffers */
}

leal_err issuance_judge_tmc(struct issuance *is, const struct ledger_card *lc,
                            struct issuance_card *out)
{
    char why[160];
    uint32_t proved;
    bool found;
    leal_err err;
    if (!out->has_tmc)
        return LEAL_OK;
    if ((err = ledger_tmac_highest(is->ledger, lc->card_id, &proved, &found)) != LEAL_OK ||
        !found || out->tmc >= proved)
        return err;
    snprintf(why, sizeof why,
             "its Transaction MAC counter shows TMC %u, behind the TMC %u the card's own MAC "
             "proved in a terminal's journal: a restored copy or a clone",
             out->tmc, proved);
    return issuance_verdict(is, out, why);
}

leal_err issuance_judge(struct issuance *is, const struct ledger_card *lc, bool purse_on_card,
                        struct issuance_card *out)
{
    struct account_cards a = {.this_card = lc->card_id};
    char why[160], purse[32], bound[32];
    int64_t eur, held;
    leal_err err;

    if ((int64_t)out->taps < lc->last_counter) {
        if (issuance_is_classic(lc->tech))
            snprintf(why, sizeof why,
                     "its state (seq %u) is behind the ledger's (seq %lld): a restored dump or a "
                     "clone",
                     out->state.seq, (long long)lc->last_counter + 1);
        else
            snprintf(why, sizeof why,
                     "its counter shows %u taps, fewer than the %lld the ledger saw: a restored "
                     "copy or a clone",
                     out->taps, (long long)lc->last_counter);
        return issuance_verdict(is, out, why);
    }
    /* A replaced card's share moved on: issuance_compare says what it still holds. */
    if (!purse_on_card || out->purse_cents <= 0 || lc->status == LEDGER_CARD_REPLACED)
        return LEAL_OK;
    /* What the ledger has for this card: the account's euros less what its
     * other live cards held when last read (an upper bound when one was never
     * read). A top-up in flight the card may show counts until a person
     * settles it. */
    if ((err = ledger_balance(is->ledger, lc->account_id, "EUR", &eur)) != LEAL_OK ||
        (err = ledger_card_each_of_account(is->ledger, lc->account_id, add_live_card, &a)) !=
            LEAL_OK)
        return err;
    held = eur - a.purse + out->unsettled_cents;
    if (out->purse_cents > held) {
        issuance_eur_text(out->purse_cents, purse, sizeof purse);
        issuance_eur_text(held, bound, sizeof bound);
        snprintf(why, sizeof why,
                 "its purse holds %s, more than the %s the ledger has for it: money the "
                 "ledger never put there",
                 purse, bound);
        return issuance_verdict(is, out, why);
    }
    return LEAL_OK;
}

/* The reason of a card's replacement ("replaced by card N"), into ctx. */
static int replaced_by(void *ctx, const struct ledger_card_event *e)
{
    if (e->status == LEDGER_CARD_REPLACED && strncmp(e->reason, "replaced by card ", 17) == 0)
        snprintf(ctx, LEDGER_TEXT, "%s", e->reason);
    return 0;
}

/* The card's points differ from the ledger's: why, in words. Changes of the
 * account's points the card does not carry (ledger_card_drift) are named
 * with what made them and when, and `leal card sync` brings them over; what
 * is left is most likely taps whose journals are not imported yet. */
static leal_err explain_points(struct issuance *is, const struct ledger_card *lc, int64_t card_pts,
                               const char *others, struct issuance_card *out)
{
    struct ledger_drift d;
    char when[32], how[96], rest[96] = "";
    struct tm tm;
    time_t t;
    leal_err err = ledger_card_drift(is->ledger, lc->card_id, &d);
    if (err != LEAL_OK)
        return err;
    if (d.points == 0) {
        snprintf(out->why, sizeof out->why,
                 "%lld points on the card%s, %lld in the ledger (terminal journals not yet "
                 "imported?)",
                 (long long)card_pts, others, (long long)out->account_pts);
        return LEAL_OK;
    }
    t = (time_t)d.newest_at;
    if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%d", &tm) == 0)
        snprintf(when, sizeof when, "?");
    snprintf(how, sizeof how, "%s%s on %s", d.entries > 1 ? "the newest " : "",
             strcmp(d.newest_kind, "adjust") == 0   ? "posted by hand"
             : strcmp(d.newest_kind, "expire") == 0 ? "expired"
             : strcmp(d.newest_kind, "void") == 0   ? "voided"
                                                    : "posted",
             when);
    if (card_pts + d.points != out->account_pts)
        snprintf(rest, sizeof rest, "; then %lld points on the card%s, %lld in the ledger",
                 (long long)(card_pts + d.points), others, (long long)out->account_pts);
    if (d.points > 0)
        snprintf(out->why, sizeof out->why,
                 "the ledger has %lld points the card does not (%lld %s, %s); run leal card "
                 "sync%s",
                 (long long)d.points, (long long)d.entries, d.entries > 1 ? "entries" : "entry",
                 how, rest);
    else
        snprintf(out->why, sizeof out->why,
                 "the ledger took off %lld points the card still shows (%lld %s, %s); run leal "
                 "card sync%s",
                 (long long)-d.points, (long long)d.entries, d.entries > 1 ? "entries" : "entry",
                 how, rest);
    return LEAL_OK;
}

/* Why a top-up in flight is neither on the card nor undone, in words. */
static void topup_unsettled_why(const struct ledger_pending_topup *t,
                                const struct issuance_card *out, bool classic, char *why,
                                size_t why_len)
{
    char amount[32], purse[32], after[AMOUNT_FORMAT_MAX];
    if (classic) {
        snprintf(why, why_len,
                 "a top-up of %s (seq %lld to %lld, purse %s) is neither on the card nor undone: "
                 "the card is at seq %u with %s",
                 amount_text(t->cents, amount), (long long)t->seq_before, (long long)t->seq_after,
                 amount_text(t->purse_after, after), out->state.seq,
                 amount_text(out->purse_cents, purse));
        return;
    }
    issuance_eur_text(t->cents, amount, sizeof amount);
    issuance_eur_text(out->purse_cents, purse, sizeof purse);
    snprintf(why, why_len,
             "a top-up of %s (taps %lld to %lld) is neither on the card nor undone: the card "
             "shows %u taps and %s",
             amount, (long long)t->seq_before, (long long)t->seq_after, out->taps, purse);
}

leal_err issuance_settle_topup(struct issuance *is, const struct ledger_card *lc,
                               struct issuance_card *out, bool *intent_mark, char *why,
                               size_t why_len)
{
    struct ledger_pending_topup t;
    bool found = false, replayed = false, classic = issuance_is_classic(lc->tech);
    int64_t cur = classic ? (int64_t)out->state.seq : (int64_t)out->taps;
    leal_err err = ledger_pending_topup_get(is->ledger, lc->card_id, &t, &found);
    *intent_mark = false;
    if (err != LEAL_OK || !found)
        return err;
    *intent_mark = t.has_mark && leal_ct_equal(out->mark, t.mark, LEDGER_CARD_MARK_LEN);
    /* Classic keeps no log: its seq and purse are the whole story. */
    if (cur == t.seq_after && (classic || *intent_mark) &&
        (int64_t)out->purse_cents == t.purse_after) {
        if ((err = issuance_post_topup(is, lc, &t, &replayed)) != LEAL_OK)
            return err;
        out->recovered += !replayed;
        return LEAL_OK;
    }
    if (cur == t.seq_before) {
        if ((err = ledger_pending_topup_drop(is->ledger, lc->card_id, t.request_id)) != LEAL_OK)
            return err;
        out->dropped++;
        return LEAL_OK;
    }
    out->unsettled = true;
    out->unsettled_cents = t.cents;
    topup_unsettled_why(&t, out, classic, why, why_len);
    return LEAL_OK;
}

leal_err issuance_settle_sync(struct issuance *is, const struct ledger_card *lc,
                              struct issuance_card *out, char *unsettled_why, size_t why_len)
{
    struct ledger_pending_sync p;
    bool found = false;
    uint32_t cur = issuance_is_classic(lc->tech) ? out->state.seq : out->taps;
    leal_err err = ledger_pending_sync_get(is->ledger, lc->card_id, &p, &found);
    if (err != LEAL_OK || !found)
        return err;
    if ((int64_t)cur == p.seq_after && (int64_t)out->state.points == p.points_after) {
        if ((err = ledger_pending_sync_settle(is->ledger, lc->card_id)) == LEAL_OK)
            out->synced++;
        return err;
    }
    if ((int64_t)cur == p.seq_before) {
        if ((err = ledger_pending_sync_drop(is->ledger, lc->card_id)) == LEAL_OK)
            out->dropped++;
        return err;
    }
    out->unsettled = true;
    snprintf(unsettled_why, why_len,
             "a sync of %+lld points (%s %lld to %lld, %lld points) is neither on the card nor "
             "undone: the card is at %s %u with %u points",
             (long long)p.points, issuance_is_classic(lc->tech) ? "seq" : "taps",
             (long long)p.seq_before, (long long)p.seq_after, (long long)p.points_after,
             issuance_is_classic(lc->tech) ? "seq" : "taps", cur, out->state.points);
    return LEAL_OK;
}

leal_err issuance_sync_plan(struct issuance *is, struct issuance_card *out,
                            struct ledger_pending_sync *p)
{
    struct ledger_drift d;
    int64_t after;
    leal_err err;
    memset(p, 0, sizeof *p);
    out->sync_points = 0;
    if (out->ledger.card_id == 0)
        return LEAL_E_CARD_NOT_LEAL;
    if (out->ledger.status != LEDGER_CARD_ACTIVE)
        return LEAL_E_CARD_BLOCKED;
    if (out->unsettled)
        return LEAL_E_CARD_TOPUP_UNSETTLED;
    if ((err = ledger_card_drift(is->ledger, out->card_id, &d)) != LEAL_OK || d.points == 0 ||
        (err = ledger_host_change_desk_ok(is->ledger, out->card_id)) != LEAL_OK)
        return err;
    after = (int64_t)out->state.points + d.points;
    if (after < 0 || after > UINT32_MAX)
        return LEAL_E_RANGE;
    p->card_id = out->card_id;
    p->points_after = after;
    p->points = d.points;
    p->upto_entry = d.upto;
    return LEAL_OK;
}

/* A card no longer the account's (lost or replaced), yet holding money or
 * points: why, in words; a replaced card's verdict recorded (it is on the
 * hot list already; its history says what it still holds). */
static leal_err explain_gone(struct issuance *is, const struct ledger_card *lc, bool purse_on_card,
                             struct issuance_card *out)
{
    char held[64], eur[32], by[LEDGER_TEXT] = "";
    bool blocked;
    leal_err err;
    issuance_eur_text(purse_on_card ? out->purse_cents : 0, eur, sizeof eur);
    if (purse_on_card && out->purse_cents > 0 && out->state.points > 0)
        snprintf(held, sizeof held, "%s EUR and %u points", eur, out->state.points);
    else if (purse_on_card && out->purse_cents > 0)
        snprintf(held, sizeof held, "%s EUR", eur);
    else
        snprintf(held, sizeof held, "%u points", out->state.points);
    if (lc->status != LEDGER_CARD_REPLACED) {
        snprintf(out->why, sizeof out->why,
                 "the card is lost in the ledger and still holds %s: 'leal card replace "
                 "--old %lld' with it at the desk empties it and moves them",
                 held, (long long)lc->card_id);
        return LEAL_OK;
    }
    if ((err = ledger_card_history(is->ledger, lc->card_id, replaced_by, by)) != LEAL_OK)
        return err;
    snprintf(out->why, sizeof out->why,
             "the card was %.40s and still holds %s, which the ledger moved to %s: keep it",
             by[0] ? by : "replaced", held, by[0] ? "that card" : "the new card");
    return ledger_card_verdict(is->ledger, lc->card_id, out->why, issuance_operator(is), &blocked);
}

leal_err issuance_compare(struct issuance *is, const struct ledger_card *lc, bool purse_on_card,
                          struct issuance_card *out)
{
    struct account_cards a = {.this_card = lc->card_id};
    bool classic = issuance_is_classic(lc->tech);
    const char *others;
    leal_err err;

    if ((err = ledger_balance(is->ledger, lc->account_id, "EUR", &out->account_eur)) != LEAL_OK ||
        (err = ledger_balance(is->ledger, lc->account_id, "PTS", &out->account_pts)) != LEAL_OK ||
        (err = ledger_card_each_of_account(is->ledger, lc->account_id, add_live_card, &a)) !=
            LEAL_OK ||
        (err = out->has_mark
                   ? ledger_card_set_seen_mark(is->ledger, lc->card_id, out->state.seq,
                                               out->purse_cents, out->state.points, out->mark)
                   : ledger_card_set_seen(is->ledger, lc->card_id, out->state.seq, out->purse_cents,
                                          out->state.points)) != LEAL_OK)
        return err;
    out->ncards_on_account = a.live;
    a.purse += out->purse_cents;
    a.points += out->state.points;
    others = a.live > 1 ? " (with the account's other cards as last read)" : "";
    out->agrees = true;
    if (!leal_ct_equal(out->uid, lc->uid, lc->uid_len) || out->uid_len != lc->uid_len) {
        out->agrees = false;
        snprintf(out->why, sizeof out->why, "the card's UID differs from the one recorded");
    } else if ((int64_t)out->taps < lc->last_counter) {
        out->agrees = false;
        if (classic)
            snprintf(out->why, sizeof out->why,
                     "the card's state (seq %u) is behind the ledger's: a restored dump or a "
                     "clone",
                     out->state.seq);
        else
            snprintf(out->why, sizeof out->why,
                     "the card's counter (%u) is behind the ledger's (%lld): a restored copy",
                     out->taps, (long long)lc->last_counter);
    } else if ((lc->status == LEDGER_CARD_LOST || lc->status == LEDGER_CARD_REPLACED) &&
               ((purse_on_card && out->purse_cents > 0) || out->state.points > 0)) {
        out->agrees = false;
        return explain_gone(is, lc, purse_on_card, out);
    } else if (a.unseen > 0 || lc->status == LEDGER_CARD_PENDING ||
               lc->status == LEDGER_CARD_LOST || lc->status == LEDGER_CARD_REPLACED) {
        /* A card of the account never read at the desk, this one not yet the
         * account's (issuance compares again once it is), or no longer the
         * account's (lost or replaced: its balances went to the live cards,
         * and counting them again would report a difference that is not
         * there): nothing to add. */
    } else if (purse_on_card && a.purse != out->account_eur) {
        char on_card[AMOUNT_FORMAT_MAX], in_ledger[AMOUNT_FORMAT_MAX];
        out->agrees = false;
        snprintf(out->why, sizeof out->why, "purse %s on the card%s, %s in the ledger",
                 amount_text(a.purse, on_card), others, amount_text(out->account_eur, in_ledger));
    } else if (a.points != out->account_pts) {
        out->agrees = false;
        return explain_points(is, lc, a.points, others, out);
    }
    return LEAL_OK;
}

leal_err issuance_new_card_id(struct issuance *is, int64_t *id)
{
    uint8_t r[8];
    leal_err err = is->cp->random(r, sizeof r);
    if (err != LEAL_OK)
        return err;
    /* Twelve decimal digits, random: printable on a receipt, and ids reveal
     * nothing about how many cards an issuer has. */
    *id = 100000000000LL + (int64_t)(load_be64(r) % 900000000000ULL);
    return LEAL_OK;
}

/* The account's cards other than the replaced one and its successor. */
struct share_ctx {
    int64_t skip1, skip2;
    bool eur;
    int unseen;
    int64_t held;
};

static int add_other_card(void *ctx, const struct ledger_card *c)
{
    struct share_ctx *x = ctx;
    if (c->card_id == x->skip1 || c->card_id == x->skip2 ||
        (c->status != LEDGER_CARD_ACTIVE && c->status != LEDGER_CARD_BLOCKED))
        return 0;
    if (c->seen_at == 0)
        x->unseen++;
    x->held += x->eur ? c->seen_purse_cents : c->seen_points;
    return 0;
}

leal_err issuance_replaced_share(struct issuance *is, const struct issuance_request *req,
                                 int64_t card_id, const char *asset, int64_t *share)
{
    struct share_ctx x = {req->replaced_card_id, card_id, strcmp(asset, "EUR") == 0, 0, 0};
    int64_t balance;
    leal_err err;
    *share = 0;
    if ((err = ledger_balance(is->ledger, req->account_id, asset, &balance)) != LEAL_OK ||
        (err = ledger_card_each_of_account(is->ledger, req->account_id, add_other_card, &x)) !=
            LEAL_OK)
        return err;
    if (x.unseen > 0)
        return LEAL_E_CARD_SHARE_UNKNOWN;
    if (balance - x.held < 0)
        return LEAL_E_RANGE;
    *share = balance - x.held;
    return LEAL_OK;
}

const char *issuance_operator(const struct issuance *is)
{
    return is->operator_name && is->operator_name[0] ? is->operator_name : "desk";
}

/* Whether the account has a live card other than ctx[0] (into ctx[1]). */
static int other_live(void *ctx, const struct ledger_card *c)
{
    int64_t *x = ctx;
    if (c->card_id == x[0] || (c->status != LEDGER_CARD_ACTIVE && c->status != LEDGER_CARD_BLOCKED))
        return 0;
    x[1] = 1;
    return 1;
}

leal_err issuance_activate(struct issuance *is, const struct issuance_request *req, int64_t card_id,
                           struct issuance_card *verified)
{
    struct ledger_card lc;
    char why[64];
    int64_t live[2] = {card_id, 0};
    leal_err err = ledger_card_each_of_account(is->ledger, req->account_id, other_live, live);
    if (err != LEAL_OK || (err = ledger_batch_begin(is->ledger)) != LEAL_OK)
        return err;
    /* What the card carries of the account's point changes (leal card sync):
     * a replacement takes the account's balances over, a family card joins
     * cards that carry them; the account's first card carries none yet. */
    if (req->replacing || live[1])
        err = ledger_card_synced_now(is->ledger, card_id);
    if (err == LEAL_OK)
        err = ledger_card_change_status(is->ledger, card_id, LEDGER_CARD_ACTIVE,
                                        "verified at the desk", issuance_operator(is));
    if (err == LEAL_OK)
        err = ledger_card_set_counter(is->ledger, card_id, verified->taps);
    if (err == LEAL_OK && req->replacing) {
        snprintf(why, sizeof why, "replaced by card %lld", (long long)card_id);
        err = ledger_card_change_status(is->ledger, req->replaced_card_id, LEDGER_CARD_REPLACED,
                                        why, issuance_operator(is));
    }
    if (err == LEAL_OK)
        err = ledger_batch_commit(is->ledger);
    if (err != LEAL_OK) {
        ledger_batch_rollback(is->ledger);
        return err;
    }
    /* Compared again now that the card counts as one of the account's. */
    if ((err = ledger_card_find_by_id(is->ledger, card_id, &lc)) != LEAL_OK)
        return err;
    return issuance_compare(is, &lc, verified->stored_value, verified);
}

/* A replacement's tier and buckets: the account's, from the ledger's sales
 * and refunds, the tier under the program's current rules (as a sale's). */
static leal_err replaced_window(struct issuance *is, int64_t account_id, struct issuance_opening *o)
{
    struct rules_program *p = calloc(1, sizeof *p);
    struct state_body s;
    uint32_t version;
    leal_err err =
        p ? ledger_rules_load(is->ledger, is->program_id, p, &version) : LEAL_E_NO_MEMORY;
    if (err == LEAL_OK)
        err = ledger_sale_state_before(is->ledger, p, account_id, INT64_MAX, &s);
    free(p);
    if (err != LEAL_OK)
        return err;
    o->tier = s.tier;
    memcpy(o->buckets, s.buckets, sizeof o->buckets);
    return LEAL_OK;
}

leal_err issuance_opening_plan(struct issuance *is, const struct issuance_request *req,
                               struct issuance_opening *o)
{
    int64_t points = req->welcome_points;
    leal_err err;
    memset(o, 0, sizeof *o);
    if (req->replacing &&
        ((err = issuance_replaced_share(is, req, 0, "EUR", &o->purse)) != LEAL_OK ||
         (err = issuance_replaced_share(is, req, 0, "PTS", &points)) != LEAL_OK))
        return err;
    if (points < 0 || points > UINT32_MAX)
        return LEAL_E_RANGE;
    o->points = (uint32_t)points;
    if (req->account_id != 0 &&
        (err = ledger_sale_period(is->ledger, req->account_id, &o->period)) != LEAL_OK)
        return err;
    if (req->replacing &&
        ((err = replaced_window(is, req->account_id, o)) != LEAL_OK ||
         (err = ledger_bono_holdings(is->ledger, req->account_id, &o->bonos)) != LEAL_OK))
        return err;
    if (o->period == 0 && !req->replacing && points > 0)
        o->period = ledger_sale_utc_period((int64_t)time(NULL));
    return LEAL_OK;
}

leal_err issuance_opening_room(struct issuance *is, const struct issuance_request *req,
                               struct issuance_opening *o, struct issuance_card *out)
{
    bool classic = issuance_is_classic(out->tech);
    int64_t cap;
    leal_err err;
    if ((err = issuance_purse_caps(is, out)) != LEAL_OK)
        return err;
    out->account_eur = o->purse; /* what the desk says when it is refused */
    o->stored_value = !classic || out->classic_cap_cents > 0;
    cap = classic ? out->classic_cap_cents : out->purse_cap_cents;
    if (classic && (req->topup_cents < 0 || o->purse < 0))
        return LEAL_E_RANGE;
    if (classic && o->bonos.slot[0].id != 0)
        return LEAL_E_CARD_NO_BONOS; /* slots fill from the first: the bonos would be lost */
    if (!o->stored_value && (req->topup_cents > 0 || o->purse != 0))
        return LEAL_E_CARD_STORED_VALUE_OFF;
    if (o->purse < 0 || req->topup_cents < 0 || o->purse + req->topup_cents > cap)
        return LEAL_E_CARD_BOUNDARY;
    return LEAL_OK;
}

/* Posted while the card is still PENDING so that a resumed issuance posts
 * them once (same request id, same content). */
leal_err issuance_opening_post(struct issuance *is, const struct issuance_request *req,
                               int64_t card_id, const struct issuance_opening *o)
{
    char request[48];
    bool replayed;
    struct posting p = {.card_id = card_id,
                        .account_id = req->account_id,
                        .kind = "earn",
                        .asset = "PTS",
                        .program_account = "points_issued",
                        .amount = o->points,
                        .request = request,
                        .reason = "welcome points",
                        .store_id = is->store_id};
    if (req->replacing || o->points == 0)
        return LEAL_OK;
    snprintf(request, sizeof request, "card:%lld:welcome", (long long)card_id);
    return post(is, &p, &replayed);
}

leal_err issuance_gift_account(struct issuance *is, const struct issuance_card *out,
                               struct issuance_request *req)
{
    struct ledger_account a;
    leal_err err;
    if (out->ledger.card_id != 0 && out->ledger.status == LEDGER_CARD_PENDING) {
        if ((err = ledger_account_get(is->ledger, out->ledger.account_id, &a)) != LEAL_OK)
            return err;
        if (a.kind == LEDGER_ACCOUNT_GIFT && a.program_id == (int64_t)is->program_id) {
            req->account_id = a.id;
            return LEAL_OK;
        }
    }
    return ledger_account_add(is->ledger, is->program_id, 0, &req->account_id);
}

leal_err issuance_add_pending(struct issuance *is, struct ledger_card *lc, int64_t *card_id)
{
    leal_err err;
    lc->status = LEDGER_CARD_PENDING;
    do {
        if ((err = issuance_new_card_id(is, card_id)) != LEAL_OK)
            return err;
        lc->card_id = *card_id;
        err = ledger_card_add(is->ledger, lc);
    } while (err == LEAL_E_DUPLICATE_ID);
    return err;
}

/* The program's purse cap (LAYOUT.md 2.3: the purse file's upper limit), and
 * for Classic cards its stored-value cap, into out. */
leal_err issuance_purse_caps(struct issuance *is, struct issuance_card *out)
{
    struct ledger_program p;
    leal_err err = ledger_program_get(is->ledger, is->program_id, &p);
    if (err != LEAL_OK)
        return err;
    out->purse_cap_cents = p.purse_cap_cents;
    out->classic_cap_cents = p.classic_stored_value_cap_cents;
    return LEAL_OK;
}

leal_err issuance_topup_room(struct issuance *is, struct issuance_card *out, int64_t cents)
{
    leal_err err;
    if (cents <= 0 || cents > LEDGER_PURSE_CAP_MAX)
        return LEAL_E_RANGE;
    if (out->ledger.status != LEDGER_CARD_ACTIVE)
        return LEAL_E_CARD_BLOCKED;
    if (out->unsettled)
        return LEAL_E_CARD_TOPUP_UNSETTLED;
    /* The program's caps now (the card's flag, signed at issuance, on
     * Classic); a DESFire card issued under a lower cap refuses by itself
     * (its purse file's upper limit: BOUNDARY_ERROR, nothing committed). */
    if ((err = issuance_purse_caps(is, out)) != LEAL_OK)
        return err;
    if (issuance_is_classic(out->tech)) {
        if (!out->stored_value || out->classic_cap_cents == 0)
            return LEAL_E_CARD_STORED_VALUE_OFF;
        return out->purse_cents + cents > out->classic_cap_cents ? LEAL_E_CARD_BOUNDARY : LEAL_OK;
    }
    return out->purse_cents + cents > out->purse_cap_cents ? LEAL_E_CARD_BOUNDARY : LEAL_OK;
}

leal_err issuance_old_check(struct issuance *is, int64_t old_card_id, struct issuance_card *out)
{
    if (out->ledger.card_id == 0)
        return LEAL_E_CARD_NOT_LEAL; /* a leal card the ledger does not know */
    if (out->card_id != old_card_id)
        return LEAL_E_CARD_UNKNOWN;
    if (out->ledger.status == LEDGER_CARD_ACTIVE || out->ledger.status == LEDGER_CARD_BLOCKED) {
        leal_err err = ledger_card_change_status(is->ledger, out->card_id, LEDGER_CARD_LOST,
                                                 "emptied at the desk for its replacement",
                                                 issuance_operator(is));
        if (err != LEAL_OK)
            return err;
        out->ledger.status = LEDGER_CARD_LOST;
    }
    return out->ledger.status == LEDGER_CARD_LOST ? LEAL_OK : LEAL_E_CARD_STATUS_CHANGE;
}
