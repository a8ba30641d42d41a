/* desk_view.c - the view of a desk card operation (desk_view.h). */
#include "desk_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/ledger/amount.h"
#include "keys/base/hex.h"

static const char *const result_names[] = {
    [DESK_VIEW_ISSUED] = "issued",
    [DESK_VIEW_REPLACED] = "replaced",
    [DESK_VIEW_READ] = "read",
    [DESK_VIEW_TOPPED_UP] = "topped-up",
    [DESK_VIEW_SYNCED] = "synced",
    [DESK_VIEW_BONO_SOLD] = "bono-sold",
    [DESK_VIEW_BONO_USED] = "bono-used",
    [DESK_VIEW_TMAC_ADDED] = "tmac-added",
    [DESK_VIEW_TMAC_PRESENT] = "tmac-present",
};

/* An asset's amount as people read it: euros with two decimals, other
 * assets (points, stamps) as whole numbers. */
static void asset_amount(const char *asset, int64_t v, char *out, size_t cap)
{
    if (strcmp(asset, "EUR") == 0 && amount_format(v, out, cap) == LEAL_OK)
        return;
    snprintf(out, cap, "%lld", (long long)v);
}

static void note(struct desk_card_view *o, const char *topic, const char *fmt, long long n)
{
    struct desk_view_note *w = &o->notes[o->nnotes++];
    w->topic = topic;
    snprintf(w->text, sizeof w->text, fmt, n);
}

/* What this contact settled or changed besides the operation itself. */
static void notes(struct desk_card_view *o, const struct issuance_card *v)
{
    if (v->recovered)
        note(o, "recovered", "%lld interrupted top-up(s) the card shows were posted", v->recovered);
    if (v->dropped)
        note(o, "dropped", "%lld interrupted top-up(s) or sync(s) the card never took were dropped",
             v->dropped);
    if (v->synced)
        note(o, "synced", "%lld interrupted sync(s) the card shows were settled", v->synced);
    if (v->sync_points)
        note(o, "synced", "%+lld points brought onto the card from the ledger", v->sync_points);
    if (v->rekeyed)
        note(o, "keys", "%lld card key(s) changed to the keystore's current versions", v->rekeyed);
    if (v->bonos_settled)
        note(o, "bono", "%lld interrupted bono sale(s) or use(s) the card shows were posted",
             v->bonos_settled);
    if (v->bonos_dropped)
        note(o, "bono", "%lld interrupted bono sale(s) or use(s) the card never took were dropped",
             v->bonos_dropped);
    if (v->offline_sessions)
        note(o, "bono", "%lld session(s) used at a terminal, waiting for its journal",
             v->offline_sessions);
    if (v->upgraded)
        note(o, "layout", "card upgraded to layout version %lld (room for bonos)",
             v->layout_version);
}

/* The card's bonos, named by the program's current rule set (best effort:
 * without it, or a bono it no longer has, the id stands alone). The rule
 * set is read only for a card that carries one. */
static void bonos(struct ledger *l, const struct issuance_card *v, struct desk_card_view *o)
{
    struct ledger_rules *r = NULL;
    bool named = false;
    for (int i = 0; l && r == NULL && i < BONO_SLOTS; i++)
        if (v->bonos.slot[i].id != 0) {
            r = calloc(1, sizeof *r);
            named = r != NULL && ledger_rules_get(l, v->program_id, 0, r) == LEAL_OK;
        }
    for (int i = 0; i < BONO_SLOTS; i++) {
        const struct bono_slot *s = &v->bonos.slot[i];
        struct desk_view_bono *b;
        if (s->id == 0)
            continue;
        b = &o->bonos[o->nbonos++];
        b->id = s->id;
        b->sessions = s->sessions;
        for (unsigned k = 0; named && k < r->set.n_bonos; k++)
            if (r->set.bonos[k].id == s->id)
                snprintf(b->name, sizeof b->name, "%s", r->bono_name[k]);
        if (s->last_day != 0) {
            time_t t = (time_t)s->last_day * 86400;
            struct tm tm;
            if (gmtime_r(&t, &tm) == NULL ||
                strftime(b->last_day, sizeof b->last_day, "%Y-%m-%d", &tm) == 0)
                b->last_day[0] = '\0';
        }
    }
    free(r);
}

/* The bono this contact sold or used, and its note. */
static void bono_op(struct desk_card_view *o, const struct issuance_card *v, bool sale)
{
    struct desk_view_note *w = &o->notes[o->nnotes++];
    char eur[32];
    o->bono_op = true;
    o->bono_id = v->bono_id;
    o->bono_cents = v->bono_cents;
    o->bono_held = v->bono_held;
    asset_amount("EUR", v->bono_cents, eur, sizeof eur);
    w->topic = "bono";
    snprintf(w->text, sizeof w->text, "bono %u %s, %s EUR %s; the ledger holds %lld session(s)",
             v->bono_id, sale ? "sold" : "used", eur, sale ? "paid" : "earned",
             (long long)v->bono_held);
}

static int add_operation(void *ctx, const struct ledger_movement *m)
{
    struct desk_card_view *o = ctx;
    struct desk_view_operation *op;
    char amount[sizeof op->amount - 1];
    if (o->noperations >= DESK_VIEW_OPERATIONS)
        return 1;
    op = &o->operations[o->noperations++];
    op->movement = *m;
    asset_amount(m->asset, m->amount, amount, sizeof amount);
    snprintf(op->amount, sizeof op->amount, "%s%s", m->amount > 0 ? "+" : "", amount);
    op->unit = strcmp(m->asset, "PTS") == 0 ? "points" : op->movement.asset;
    return 0;
}

/* Best effort: the card's view stands even if the history cannot be read. */
static void operations(struct ledger *l, struct desk_card_view *o)
{
    o->has_operations = true;
    if (o->account_id > 0)
        o->operations_err =
            ledger_history(l, o->account_id, 0, DESK_VIEW_OPERATIONS, add_operation, o);
}

void desk_card_view(struct ledger *l, const struct issuance_card *v, enum desk_view_result result,
                    struct desk_card_view *out)
{
    struct ledger_account a;
    /* Its queries share one snapshot (else each is a transaction of its own). */
    bool snapshot = l != NULL && ledger_read_begin(l) == LEAL_OK;
    memset(out, 0, sizeof *out);
    out->result = result_names[result];
    out->card_id = v->card_id;
    out->technology = ledger_card_tech_name(v->tech);
    if (leal_hex_encode(v->uid, v->uid_len, false, out->uid, sizeof out->uid) != LEAL_OK)
        out->uid[0] = '\0'; /* unreachable: a UID is at most LEAL_MAX_UID bytes */
    out->random_uid = v->random_uid;
    out->account_id = v->ledger.account_id;
    out->gift_card = l != NULL && out->account_id > 0 &&
                     ledger_account_get(l, out->account_id, &a) == LEAL_OK &&
                     a.kind == LEDGER_ACCOUNT_GIFT;
    out->status = ledger_card_status_name(v->ledger.status);
    out->purse_cents = v->purse_cents;
    asset_amount("EUR", v->purse_cents, out->purse, sizeof out->purse);
    out->points = v->state.points;
    for (size_t i = 0; i < STATE_STAMPS; i++)
        out->stamps[i] = v->state.stamps[i];
    out->tier = v->state.tier;
    out->state_seq = v->state.seq;
    out->taps = v->taps;
    out->has_tmc = v->has_tmc;
    out->tmc = v->tmc;
    out->layout_version = v->layout_version;
    out->upgraded = v->upgraded;
    bonos(l, v, out);
    out->ledger_eur_cents = v->account_eur;
    out->ledger_points = v->account_pts;
    out->agrees = v->agrees;
    snprintf(out->difference, sizeof out->difference, "%s", v->agrees ? "" : v->why);
    snprintf(out->agreement, sizeof out->agreement, "%s%s",
             v->agrees ? "agrees" : "DIFFERS: ", out->difference);
    out->stored_value = v->stored_value;
    out->recovered_topups = v->recovered;
    out->dropped_topups = v->dropped;
    out->keys_updated = v->rekeyed;
    out->bonos_settled = v->bonos_settled;
    out->bonos_dropped = v->bonos_dropped;
    out->offline_sessions = v->offline_sessions;
    out->synced_points = v->sync_points;
    out->round_trips = v->round_trips;
    out->bytes = v->bytes;
    notes(out, v);
    if (result == DESK_VIEW_BONO_SOLD || result == DESK_VIEW_BONO_USED)
        bono_op(out, v, result == DESK_VIEW_BONO_SOLD);
    if (result == DESK_VIEW_TMAC_ADDED || result == DESK_VIEW_TMAC_PRESENT)
        out->tmac_key_version = v->tmac_version;
    if (result == DESK_VIEW_READ)
        operations(l, out);
    if (result == DESK_VIEW_READ && l != NULL && v->card_id > 0 &&
        v->ledger.status == LEDGER_CARD_ACTIVE) { /* as packages: an active card's only */
        out->has_waiting = true;
        out->waiting_err = ledger_host_change_get(l, v->card_id, &out->change, &out->waiting);
    }
    if (snapshot)
        ledger_read_end(l);
}

void desk_card_view_line(const struct desk_card_view *w, char *out, size_t cap)
{
    size_t n;
    char tmc[24] = "";
    int k;
    if (w->has_tmc)
        snprintf(tmc, sizeof tmc, ", TMC %u", w->tmc);
    k = snprintf(out, cap,
                 "%s card %lld (%s, UID %s%s): account %lld%s, card %s, purse %s, points %u, "
                 "stamps %u %u %u %u, taps %u%s; ledger %s",
                 w->result, (long long)w->card_id, w->technology, w->uid,
                 w->random_uid ? ", random UID" : "", (long long)w->account_id,
                 w->gift_card ? " (gift card)" : "", w->status, w->purse, w->points, w->stamps[0],
                 w->stamps[1], w->stamps[2], w->stamps[3], w->taps, tmc, w->agreement);
    for (int i = 0; k >= 0 && (n = (size_t)k) < cap && i < w->nnotes; i++)
        k += snprintf(out + n, cap - n, "; %s: %s", w->notes[i].topic, w->notes[i].text);
}
