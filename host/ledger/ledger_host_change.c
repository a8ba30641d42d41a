/* ledger_host_change.c - host changes waiting for cards (ledger_host_change.h). */
#include "ledger_host_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/records/state.h"
#include "firmware/core/journal.h"
#include "firmware/core/package.h"
#include "host/grow.h"
#include "store.h"

/* The account's points lines after the card's synced entry, of entries not
 * made for a card and not taken from a terminal for a card: net, count,
 * newest, kinds. A QR code's entry is taken from a terminal but written on
 * no card (the code is a virtual card of the account, JOURNAL.md "QR
 * entries"), so it waits for the account's cards like a host post; a
 * virtual card itself has nothing to write to, and never waits. */
#define WAITING_SQL                                                                                \
    "SELECT c.card_id, c.last_counter, sum(n.amount), count(DISTINCT e.id), max(e.id), "           \
    "max(e.kind = 'adjust' AND coalesce(e.reference, '') NOT LIKE 'bonus%'), "                     \
    "max(e.kind IN ('earn', 'transfer') OR coalesce(e.reference, '') LIKE 'bonus%'), "             \
    "max(e.kind = 'expire'), max(e.kind IN ('void', 'refund', 'redeem')), "                        \
    "coalesce((SELECT s.taps FROM card_host_change_sent s WHERE s.card_id = c.card_id AND "        \
    "s.upto_entry > c.synced_entry), -1) "                                                         \
    "FROM card c JOIN account a ON a.id = c.account_id "                                           \
    "JOIN line n ON n.account_id = c.account_id AND n.entry_id > c.synced_entry "                  \
    "AND n.asset = 'PTS' JOIN entry e ON e.id = n.entry_id "                                       \
    "WHERE c.card_id > ?1 AND c.card_id <= ?2 AND (?3 = 0 OR a.program_id = ?3) AND (?4 = 0 OR "   \
    "c.status = 'active') AND c.tech <> 'virtual-qr' AND (e.terminal_id IS NULL OR EXISTS "        \
    "(SELECT "                                                                                     \
    "1 FROM card q WHERE q.card_id = e.card_id AND q.tech = 'virtual-qr')) AND (e.request_id IS "  \
    "NULL OR "                                                                                     \
    "substr(e.request_id, 1, 5) <> 'card:') GROUP BY c.card_id ORDER BY c.card_id"
/* The writes of the range's cards (card_writes) and their TMAC entries the
 * check proved (seq_at), card by card. */
#define WRITES_SQL                                                                                 \
    "SELECT card_id, raw FROM terminal_entry WHERE card_id > ?1 AND card_id <= ?2 AND outcome <> " \
    "'undone' ORDER BY card_id, terminal_id, epoch, seq"
#define PROVED_TMAC_SQL                                                                            \
    "SELECT t.card_id, e.raw FROM terminal_entry e JOIN terminal_tmac t ON t.terminal_id = "       \
    "e.terminal_id AND t.epoch = e.epoch AND t.seq = e.seq WHERE t.card_id > ?1 AND t.card_id <= " \
    "?2 AND t.verdict IN ('ok', 'altered') ORDER BY t.card_id, t.terminal_id, t.epoch, t.seq"
/* The card ids after ?1, ?2 of them: the last of them ends a range. */
#define RANGE_SQL                                                                                  \
    "SELECT coalesce(max(k.card_id), 0) FROM (SELECT card_id FROM card WHERE card_id > ?1 ORDER "  \
    "BY card_id LIMIT ?2) k"

static void row(struct store_stmt *st, struct ledger_host_change *c)
{
    memset(c, 0, sizeof *c);
    c->card_id = store_col_i64(st, 0);
    c->seen_taps = c->taps = store_col_i64(st, 1);
    c->points = store_col_i64(st, 2);
    c->entries = store_col_i64(st, 3);
    c->upto_entry = store_col_i64(st, 4);
    c->kinds = (uint8_t)((store_col_i64(st, 5) ? PACKAGE_CHANGE_ADJUST : 0) |
                         (store_col_i64(st, 6) ? PACKAGE_CHANGE_BONUS : 0) |
                         (store_col_i64(st, 7) ? PACKAGE_CHANGE_EXPIRED : 0) |
                         (store_col_i64(st, 8) ? PACKAGE_CHANGE_REWARD : 0));
    if (c->kinds == 0)
        c->kinds = PACKAGE_CHANGE_ADJUST; /* anything else posted at the host */
    c->sent_taps = store_col_i64(st, 9);
}

/* A range's writes that imported journals show, as taps before and after
 * (counted as a floor counts them: a Classic seq less its first); not an
 * operation a settle said did not happen (undone); by card. */
struct hc_write {
    int64_t card, before, after;
};
/* A range's TMAC entries the check proved (ledger_host_change.h): each read
 * the state at the counter it names (taps before) and left it, written or
 * not, at taps before + 1 (every such transaction debits the counter by 1);
 * only a commit the card answered is journaled so. The card's state seq at
 * before (seq_before) and at before + 1 (seq_next), -1 when its state file
 * is not the card's; by card. */
struct hc_proved {
    int64_t card, before, seq_before, seq_next; /* before -1: a tap that read no counter */
    int64_t tmc;
};
struct hc_range {
    struct ledger_host_change *c;
    size_t nc, cc;
    struct hc_write *w;
    size_t nw, cw;
    struct hc_proved *p;
    size_t np, cp;
};

static int64_t state_seq(const uint8_t *state, int64_t card_id)
{
    struct state_body b;
    uint64_t id = 0;
    uint8_t version;
    if (state_file_decode_head(state, STATE_FILE_LEN, &version, &id, &b) == LEAL_OK &&
        id == (uint64_t)card_id)
        return b.seq;
    return -1;
}

/* The range's writes and proved TMAC entries, each one statement. */
static leal_err range_rows(struct ledger *l, int64_t lo, int64_t hi, struct hc_range *r)
{
    struct journal_entry e;
    struct journal_tmac m;
    struct store_stmt *st;
    leal_err err;
    if ((err = store_prep_i64(l, WRITES_SQL, &st, I64S(lo, hi))) != LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(l, st, &err)) {
        const void *raw = store_col_blob(st, 1);
        int n = store_col_bytes(st, 1);
        int64_t first;
        if (raw == NULL || n <= 0 || journal_entry_decode(raw, (size_t)n, &e) != LEAL_OK ||
            e.card_kind == JOURNAL_CARD_NONE || e.counter_after <= e.counter_before)
            continue;
        first = e.card_kind == JOURNAL_CARD_CLASSIC ? CLASSIC_CARD_INITIAL_SEQ : 0;
        if (e.counter_before < first ||
            (err = grow_room(&r->w, &r->cw, r->nw, sizeof *r->w)) != LEAL_OK)
            continue;
        r->w[r->nw++] = (struct hc_write){store_col_i64(st, 0), (int64_t)e.counter_before - first,
                                          (int64_t)e.counter_after - first};
    }
    store_finalize(st);
    if (err != LEAL_OK || (err = store_prep_i64(l, PROVED_TMAC_SQL, &st, I64S(lo, hi))) != LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(l, st, &err)) {
        const void *raw = store_col_blob(st, 1);
        int n = store_col_bytes(st, 1);
        int64_t card = store_col_i64(st, 0);
        if (raw == NULL || n <= 0 || journal_entry_decode(raw, (size_t)n, &e) != LEAL_OK ||
            e.op != JOURNAL_OP_TMAC || journal_tmac_get(&e, &m) != LEAL_OK || m.counter < 0 ||
            (err = grow_room(&r->p, &r->cp, r->np, sizeof *r->p)) != LEAL_OK)
            continue;
        r->p[r->np++] = (struct hc_proved){
            card, (m.flags & JOURNAL_TMAC_NO_COUNTER) ? -1 : (int64_t)0x7FFFFFFF - m.counter,
            state_seq(m.state_before, card),
            state_seq(m.flags & JOURNAL_TMAC_STATE_WRITTEN ? m.state_after : m.state_before, card),
            (int64_t)m.tmc};
    }
    store_finalize(st);
    return err;
}

leal_err ledger_card_read_taps(struct ledger *l, int64_t card_id, int64_t *taps)
{
    struct journal_entry e;
    struct store_stmt *st;
    leal_err err;
    if (l == NULL || taps == NULL)
        return LEAL_E_ARG;
    *taps = 0;
    if ((err = store_prep_i64(l, "SELECT raw FROM terminal_entry WHERE card_id = ?1", &st,
                              I64S(card_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        const void *raw = store_col_blob(st, 0);
        int n = store_col_bytes(st, 0);
        int64_t first;
        if (raw == NULL || n <= 0 || journal_entry_decode(raw, (size_t)n, &e) != LEAL_OK ||
            (e.card_kind != JOURNAL_CARD_DESFIRE && e.card_kind != JOURNAL_CARD_CLASSIC) ||
            e.counter_before == JOURNAL_COUNTER_NONE) /* a tap that read no counter */
            continue;
        first = e.card_kind == JOURNAL_CARD_CLASSIC ? CLASSIC_CARD_INITIAL_SEQ : 0;
        if ((int64_t)e.counter_before - first > *taps)
            *taps = (int64_t)e.counter_before - first;
    }
    store_finalize(st);
    return err;
}

/* The count to carry c at (ledger_host_change.h): never carried, the newest
 * the host knows; carried at T, T followed along the card's known writes
 * (w[0..nw)), in doubt when the desk saw the card past where they end; then
 * the card's state seq there from its proved TMAC entries (p[0..np)), the
 * first that tells it. */
static void resolve(struct ledger_host_change *c, const struct hc_write *w, size_t nw,
                    const struct hc_proved *p, size_t np)
{
    if (c->sent_taps < 0) {
        for (size_t i = 0; i < nw; i++)
            if (w[i].after > c->taps)
                c->taps = w[i].after;
    } else {
        /* Each step goes up (after > before), so this ends. */
        int64_t at = c->sent_taps;
        for (size_t i = 0; i < nw;) {
            if (w[i].before == at) {
                at = w[i].after;
                i = 0;
            } else {
                i++;
            }
        }
        c->taps = at;
        c->doubt = c->seen_taps > at;
    }
    c->seq = -1;
    for (size_t i = 0; !c->doubt && c->seq < 0 && i < np; i++)
        if (p[i].before >= 0 && p[i].before == c->taps)
            c->seq = p[i].seq_before;
        else if (p[i].before >= 0 && p[i].before + 1 == c->taps)
            c->seq = p[i].seq_next;
    /* The card's newest proved commit read no counter (an earn whose TMC
     * stood for it, JOURNAL.md "Counters"): its taps do not place it, its
     * TMC does, and the seq it left is the card's since (a later write
     * steps the seq, so a record at this seq is then not applied: it waits). */
    size_t top = np;
    for (size_t i = 0; i < np; i++)
        if (top == np || p[i].tmc > p[top].tmc)
            top = i;
    if (!c->doubt && top < np && p[top].before < 0)
        c->seq = p[top].seq_next;
}

leal_err ledger_host_change_range(struct ledger *l, int64_t program_id, bool active,
                                  struct ledger_card_range cr, ledger_host_change_cb cb, void *ctx)
{
    struct hc_range r;
    struct store_stmt *st;
    size_t iw = 0, ip = 0;
    leal_err err;
    if (l == NULL || cb == NULL || cr.lo >= cr.hi)
        return LEAL_E_ARG;
    memset(&r, 0, sizeof r);
    if ((err = store_prep_i64(l, WAITING_SQL, &st, I64S(cr.lo, cr.hi, program_id, active))) !=
        LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(l, st, &err))
        if ((err = grow_room(&r.c, &r.cc, r.nc, sizeof *r.c)) == LEAL_OK)
            row(st, &r.c[r.nc++]);
    store_finalize(st);
    if (err == LEAL_OK && r.nc > 0)
        err = range_rows(l, cr.lo, cr.hi, &r);
    for (size_t i = 0; err == LEAL_OK && i < r.nc; i++) {
        struct ledger_host_change *c = &r.c[i];
        size_t w0, p0;
        while (iw < r.nw && r.w[iw].card < c->card_id)
            iw++;
        for (w0 = iw; iw < r.nw && r.w[iw].card == c->card_id; iw++)
            ;
        while (ip < r.np && r.p[ip].card < c->card_id)
            ip++;
        for (p0 = ip; ip < r.np && r.p[ip].card == c->card_id; ip++)
            ;
        resolve(c, r.w + w0, iw - w0, r.p + p0, ip - p0);
        if (cb(ctx, c) != 0)
            err = LEAL_E_INTERRUPTED;
    }
    free(r.c);
    free(r.w);
    free(r.p);
    return err;
}

leal_err ledger_card_range_end(struct ledger *l, int64_t lo, int64_t n, int64_t *hi)
{
    leal_err err;
    if (l == NULL || hi == NULL || n <= 0)
        return LEAL_E_ARG;
    if ((err = store_query_int(l, RANGE_SQL, I64S(lo, n), hi)) == LEAL_OK && *hi <= lo)
        *hi = INT64_MAX; /* no card after lo: the rest */
    return err;
}

/* ledger_host_change_get's: the one card's changes. */
static int got(void *ctx, const struct ledger_host_change *c)
{
    *(struct ledger_host_change *)ctx = *c;
    return 0;
}

leal_err ledger_host_change_get(struct ledger *l, int64_t card_id, struct ledger_host_change *out,
                                bool *waiting)
{
    struct store_stmt *st;
    leal_err err;
    if (l == NULL || out == NULL || waiting == NULL)
        return LEAL_E_ARG;
    *waiting = false;
    memset(out, 0, sizeof *out);
    if ((err = store_find_row(l, "SELECT 1 FROM card WHERE card_id = ?1", card_id, "card", &st)) !=
        LEAL_OK) {
        store_finalize(st);
        return err;
    }
    store_finalize(st);
    if ((err = ledger_host_change_range(
             l, 0, false, (struct ledger_card_range){card_id - 1, card_id}, got, out)) == LEAL_OK)
        *waiting = out->card_id == card_id;
    return err;
}

/* Ranges of this many cards: a few statements each, rows of this many
 * cards in memory at once. */
#define RANGE_CARDS 512

leal_err ledger_host_change_each(struct ledger *l, int64_t program_id, ledger_host_change_cb cb,
                                 void *ctx)
{
    int64_t lo = INT64_MIN, hi = 0;
    leal_err err = LEAL_OK;
    if (l == NULL || cb == NULL)
        return LEAL_E_ARG;
    while (err == LEAL_OK && hi != INT64_MAX &&
           (err = ledger_card_range_end(l, lo, RANGE_CARDS, &hi)) == LEAL_OK) {
        err = ledger_host_change_range(l, program_id, true, (struct ledger_card_range){lo, hi}, cb,
                                       ctx);
        lo = hi;
    }
    return err;
}

const char *ledger_host_change_why(const struct ledger_host_change *c, char *why, size_t cap)
{
    if (c->doubt) {
        snprintf(why, cap,
                 "a package carried them at %lld taps and the desk has seen the card at %lld "
                 "taps, so a terminal may have applied them; neither packages nor leal card "
                 "sync carry them until the terminals' journals are in (leal sync import)",
                 (long long)c->taps, (long long)c->seen_taps);
        return "doubt";
    }
    if (c->sent_taps >= 0) {
        snprintf(why, cap,
                 "a package carried them at %lld taps: the card's next tap at a terminal "
                 "that loaded it applies them, or leal card sync at the desk",
                 (long long)c->taps);
        return "sent";
    }
    snprintf(why, cap,
             "no package carried them yet: the next package carries them to the card (at "
             "%lld taps), or leal card sync at the desk",
             (long long)c->taps);
    return "unsent";
}

leal_err ledger_host_change_applied(struct ledger *l, int64_t card_id, int64_t upto_entry,
                                    int64_t *before)
{
    leal_err err;
    if (l == NULL || card_id <= 0 || upto_entry <= 0)
        return LEAL_E_ARG;
    if (before != NULL &&
        (err = store_query_int(l,
                               "SELECT coalesce(max(synced_entry), 0) FROM card WHERE card_id = ?1",
                               I64S(card_id), before)) != LEAL_OK)
        return err;
    if ((err = store_exec_i64(l,
                              "UPDATE card SET synced_entry = max(synced_entry, ?2) WHERE "
                              "card_id = ?1",
                              I64S(card_id, upto_entry))) != LEAL_OK)
        return err;
    /* Everything packages carried is in: nothing to remember. */
    return store_exec_i64(l,
                          "DELETE FROM card_host_change_sent WHERE card_id = ?1 AND upto_entry "
                          "<= ?2",
                          I64S(card_id, upto_entry));
}

leal_err ledger_host_change_undone(struct ledger *l, int64_t card_id, int64_t upto_entry,
                                   int64_t before, bool *restored)
{
    int64_t now = 0;
    leal_err err;
    if (l == NULL || card_id <= 0 || upto_entry <= 0 || before < 0 || restored == NULL)
        return LEAL_E_ARG;
    *restored = false;
    if ((err = store_query_int(l,
                               "SELECT coalesce(max(synced_entry), 0) FROM card WHERE card_id = ?1",
                               I64S(card_id), &now)) != LEAL_OK)
        return err;
    if (now > upto_entry)
        return LEAL_OK;
    *restored = true;
    if (now <= before)
        return LEAL_OK; /* undone already */
    return store_exec_i64(l, "UPDATE card SET synced_entry = ?2 WHERE card_id = ?1",
                          I64S(card_id, before));
}

leal_err ledger_host_change_sent(struct ledger *l, const struct ledger_host_change *c)
{
    if (l == NULL || c == NULL || c->doubt || c->card_id <= 0 || c->taps < 0 ||
        c->taps > UINT32_MAX || c->upto_entry <= 0)
        return LEAL_E_ARG;
    return store_exec_i64(l,
                          "INSERT INTO card_host_change_sent(card_id, taps, upto_entry, at) VALUES "
                          "(?1, ?2, ?3, ?4) ON CONFLICT(card_id) DO UPDATE SET taps = ?2, "
                          "upto_entry = max(card_host_change_sent.upto_entry, ?3), at = ?4",
                          I64S(c->card_id, c->taps, c->upto_entry, ledger_now()));
}

leal_err ledger_host_change_desk_wrote(struct ledger *l, int64_t card_id, int64_t taps_after)
{
    if (l == NULL || card_id <= 0 || taps_after <= 0)
        return LEAL_E_ARG;
    return store_exec_i64(l,
                          "UPDATE card_host_change_sent SET taps = ?2 WHERE card_id = ?1 AND "
                          "taps = ?2 - 1",
                          I64S(card_id, taps_after));
}

leal_err ledger_host_change_desk_ok(struct ledger *l, int64_t card_id)
{
    struct ledger_host_change c;
    bool waiting;
    leal_err err = ledger_host_change_get(l, card_id, &c, &waiting);
    if (err != LEAL_OK || !waiting || !c.doubt)
        return err;
    store_set_msg(l,
                  "card %lld: a package carried its host changes (%+lld points) at %lld taps and "
                  "the card shows %lld; the journal of the tap that wrote it at %lld is not "
                  "imported yet",
                  (long long)card_id, (long long)c.points, (long long)c.taps,
                  (long long)c.seen_taps, (long long)c.taps);
    return LEAL_E_HOST_CHANGE_DOUBT;
}
