/* ledger_reconcile.c - cards' counters across terminals against the ledger (ledger_reconcile.h). */
#include "ledger_reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amount.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/state.h"
#include "firmware/core/journal.h"
#include "host/grow.h"
#include "ledger_host_change.h"
#include "ledger_qr.h"
#include "ledger_terminal.h"
#include "store.h"

/* Every entry naming a card, card by card, in the terminals' time order. */
#define ENTRIES_SQL                                                                                \
    "SELECT x.card_id, s.program_id, x.terminal_id, x.epoch, x.seq, x.raw, x.outcome FROM "        \
    "terminal_entry x JOIN terminal t ON t.id = x.terminal_id JOIN store s ON s.id = t.store_id "  \
    "WHERE x.card_id IS NOT NULL AND (?1 = 0 OR s.program_id = ?1) AND (?2 = 0 OR x.card_id = "    \
    "?2) AND x.card_id > ?3 AND x.card_id <= ?4 "                                                  \
    "ORDER BY x.card_id, x.at, x.terminal_id, x.epoch, x.seq"
/* The import's findings of a broken journal that name a card. */
#define TAMPER_SQL                                                                                 \
    "SELECT f.card_id, s.program_id, f.terminal_id, f.epoch, f.seq, f.kind FROM sync_finding f "   \
    "JOIN terminal t ON t.id = f.terminal_id JOIN store s ON s.id = t.store_id WHERE f.kind IN "   \
    "('mac','chain','conflict') AND f.card_id IS NOT NULL AND (?1 = 0 OR s.program_id = ?1) AND "  \
    "(?2 = 0 OR f.card_id = ?2) ORDER BY f.id"
/* The TMAC entries whose check (host/sync/sync_tmac.h) found fraud. */
#define TMAC_SQL                                                                                   \
    "SELECT m.card_id, s.program_id, m.terminal_id, m.epoch, m.seq, m.tmc, m.verdict, m.detail "   \
    "FROM terminal_tmac m JOIN terminal t ON t.id = m.terminal_id JOIN store s ON s.id = "         \
    "t.store_id WHERE m.verdict IN ('forged','altered','replay') AND (?1 = 0 OR s.program_id = "   \
    "?1) AND (?2 = 0 OR m.card_id = ?2) ORDER BY m.terminal_id, m.epoch, m.seq"
/* The TMAC entries (any verdict) of every card ENTRIES_SQL walks, card by
 * card in its order, each card's by TMC, with their bytes: one query for
 * the run, read alongside ENTRIES_SQL (tmc_walk). */
#define TMC_SQL                                                                                    \
    "SELECT m.card_id, m.tmc, m.verdict IN ('ok','altered'), x.raw FROM terminal_tmac m JOIN "     \
    "terminal_entry x ON x.terminal_id = m.terminal_id AND x.epoch = m.epoch AND x.seq = m.seq "   \
    "WHERE (?2 = 0 OR m.card_id = ?2) AND m.card_id > ?3 AND m.card_id <= ?4 AND (?1 = 0 OR "      \
    "m.card_id IN (SELECT y.card_id FROM "                                                         \
    "terminal_entry y JOIN terminal t ON t.id = y.terminal_id JOIN store s ON s.id = t.store_id "  \
    "WHERE s.program_id = ?1)) ORDER BY m.card_id, m.tmc, m.terminal_id, m.epoch, m.seq"
/* Terminals of the program (but the one that saw the jump) with nothing
 * taken from after the card's last known state. */
#define UNSYNCED_SQL                                                                               \
    "SELECT t.id FROM terminal t JOIN store s ON s.id = t.store_id WHERE s.program_id = ?1 AND "   \
    "t.id <> ?3 AND coalesce((SELECT max(x.at) FROM terminal_entry x WHERE x.terminal_id = "       \
    "t.id), 0) < ?2 ORDER BY t.id LIMIT 5"
/* The entries a terminal's offline caps count (purse payments, voids giving
 * back) and those that reset what it counts (an ACK, a new epoch),
 * terminal by terminal in journal order; ?2 a card: its entries only. */
#define SPENT_SQL                                                                                  \
    "SELECT x.terminal_id, s.program_id, x.raw FROM terminal_entry x JOIN terminal t ON t.id = "   \
    "x.terminal_id JOIN store s ON s.id = t.store_id WHERE x.op IN (2, 3, 7, 16, 18) AND (?1 = 0 " \
    "OR s.program_id = ?1) AND (?2 = 0 OR x.card_id = ?2 OR x.op IN (16, 18)) ORDER BY "           \
    "x.terminal_id, x.epoch, x.seq"
#define CAPS_SQL                                                                                   \
    "SELECT cap_day_cents, cap_sync_cents FROM package_caps WHERE terminal_id = ?1 AND version = " \
    "?2"
#define FIND_SQL                                                                                   \
    "SELECT id, state FROM reconcile_finding WHERE kind = ?1 AND card_id = ?2 AND terminal_id = "  \
    "?3 AND evidence = ?4"
#define INSERT_SQL                                                                                 \
    "INSERT INTO reconcile_finding(program_id, card_id, terminal_id, kind, fraud, evidence, "      \
    "detail, found_at, state, run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)"
/* A doubt reconciliation settled by reversing the torn operation it names
 * (torn_settled): recorded resolved, with the reversal named in its reason. */
#define REVERSED_INSERT_SQL                                                                        \
    "INSERT INTO reconcile_finding(program_id, card_id, terminal_id, kind, fraud, evidence, "      \
    "detail, found_at, state, reason, operator, closed_at, run) VALUES (?1, ?2, ?3, 'doubt', 0, "  \
    "?4, ?5, ?6, 'resolved', ?7, 'reconcile', ?6, ?8)"
#define REVERSED_UPDATE_SQL                                                                        \
    "UPDATE reconcile_finding SET state = 'resolved', reason = ?2, operator = 'reconcile', "       \
    "closed_at = ?3, run = ?4 WHERE id = ?1"
#define SEEN_SQL                                                                                   \
    "UPDATE reconcile_finding SET run = ?2, state = CASE state WHEN 'resolved' THEN 'open' ELSE "  \
    "state END, closed_at = CASE state WHEN 'resolved' THEN NULL ELSE closed_at END WHERE id = ?1"
#define QR_OPEN_SQL                                                                                \
    "SELECT count(*) FROM reconcile_finding WHERE kind = ?1 AND card_id = ?2 AND terminal_id = "   \
    "?3 AND evidence = ?4 AND state = 'open'"
#define RUN_SQL "SELECT coalesce(max(run), 0) + 1 FROM reconcile_finding"
#define RESOLVE_SQL                                                                                \
    "UPDATE reconcile_finding SET state = 'resolved', closed_at = ?3 WHERE card_id = ?1 AND "      \
    "state = 'open' AND kind IN ('gap','doubt','balance','tmc_gap') AND run < ?2"
/* What each card of a range needs beyond its entries, read for the range at
 * once (struct fact). */
#define FACTS_SQL                                                                                  \
    "SELECT c.card_id, c.last_counter, c.account_id, (SELECT count(*) FROM terminal_entry h "      \
    "WHERE h.card_id = c.card_id AND h.outcome = 'held'), (SELECT count(*) FROM card o WHERE "     \
    "o.account_id = c.account_id AND o.status IN ('active','blocked')), coalesce((SELECT "         \
    "b.amount FROM balance b WHERE b.account_id = c.account_id AND b.asset = 'PTS'), 0), "         \
    "coalesce((SELECT b.amount FROM balance b WHERE b.account_id = c.account_id AND b.asset = "    \
    "'EUR'), 0), (SELECT count(*) FROM reconcile_finding f WHERE f.card_id = c.card_id AND "       \
    "f.state = 'open'), (SELECT count(*) FROM reconcile_finding f WHERE f.card_id = c.card_id "    \
    "AND f.state = 'open' AND f.kind IN ('gap','doubt','balance','tmc_gap')) FROM card c JOIN "    \
    "account a ON a.id = c.account_id WHERE c.card_id > ?1 AND c.card_id <= ?2 ORDER BY "          \
    "c.card_id"
/* The findings of a range's cards, read once for the range (struct known). */
#define KNOWN_SQL                                                                                  \
    "SELECT id, card_id, terminal_id, kind, evidence, state FROM reconcile_finding WHERE card_id " \
    "> ?1 AND card_id <= ?2 ORDER BY card_id, id"
#define OPEN_SQL "SELECT count(*) FROM reconcile_finding WHERE card_id = ?1 AND state = 'open'"
#define LIST_SQL                                                                                   \
    "SELECT id, program_id, card_id, terminal_id, kind, fraud, evidence, detail, found_at, "       \
    "state, coalesce(reason, ''), coalesce(operator, ''), coalesce(closed_at, 0) FROM "            \
    "reconcile_finding WHERE (?1 = 0 OR program_id = ?1) AND (?2 = 0 OR card_id = ?2) AND (?3 <> " \
    "0 OR "                                                                                        \
    "state = 'open') ORDER BY id"
#define ACCEPT_SQL                                                                                 \
    "UPDATE reconcile_finding SET state = 'accepted', reason = ?2, operator = ?3, closed_at = ?4 " \
    "WHERE id = ?1 AND state = 'open'"

/* One journal entry about a card, as reconciliation needs it. */
struct obs {
    uint32_t terminal, epoch, seq;
    uint64_t at;
    uint32_t before, after; /* the card's counter */
    uint8_t op, kind;
    uint32_t points, purse;
    bool purse_read;
    uint32_t ref_epoch, ref_seq; /* a SETTLE's: the operation it names */
    /* The card's state seq before the operation as its entry's state lines
     * say (seq_known), the terminal's word (an earn's, JOURNAL.md "State
     * lines"). */
    uint32_t seq_before;
    bool seq_known;
};

/* A TMAC entry as the TMC check needs it: the TMC, whether the card's TMV
 * holds (its TMC is then the card's word), the card's taps before the
 * commit as the card's own GetValue gave them (MACed into the TMV), and
 * the operation entry it reports. */
struct tmc_obs {
    uint32_t tmc, terminal, epoch, seq, ref_epoch, ref_seq;
    uint32_t before; /* taps; the tap's Debit counter 1 makes after = before + 1;
                      * JOURNAL_COUNTER_NONE: a tap that read none (flag 40) */
    bool holds;
    /* The state seq the card's ReadData returned, MACed into the TMV. */
    uint32_t seq_read;
    bool seq_known;
};

/* A card of the range being walked as FACTS_SQL read it before the range's
 * walk: the desk's last read, its account and what the balance check reads
 * (held entries, the account's cards, its balances), and its open findings
 * (all, and those of the kinds a run resolves). A card's walk writes only
 * its own findings (and blocks only itself), so these stay true for the
 * range's other cards; its own open ones after its walk are these and those
 * the walk made open, unless it resolved some (then counted again). */
struct fact {
    int64_t card, last_counter, account, held, cards, pts, eur, open, resolvable;
};

/* A finding of the range's cards as KNOWN_SQL read it, or as this run
 * recorded it (id 0): finding() looks here rather than asking the ledger
 * once a finding. seen: this run has seen it (SEEN_SQL done, or new). */
struct known {
    int64_t id, card, terminal;
    char kind[24], evidence[LEDGER_RECONCILE_EVIDENCE], state[12];
    bool seen;
};

struct walk {
    struct ledger *l;
    struct ledger_reconcile_counts *c;
    int64_t run;
    int64_t card, program;
    struct obs *v;
    size_t n, cap;
    /* The card's newest operation (by the terminals' clocks) of a tap that
     * read no counter (JOURNAL_COUNTER_NONE: an earn whose TMC stood for
     * it, flag 40): no counter places it in v, its TMAC entry's TMC does
     * (tmc_walk); the balance check takes it when it is newer than v's. */
    struct obs nc;
    bool nc_seen;
    bool trouble;      /* a gap, doubt or fraud this run: the balances wait */
    int64_t desk_seen; /* the newest counter the desk saw on the card (0: none) */
    /* TMC_SQL, read card by card as the walk goes: whether it stands on a
     * row not yet taken (of a card not yet walked), and the card's TMAC
     * entries (tmc_walk's, kept for the next card's). */
    struct store_stmt *tmc;
    bool tmc_row;
    struct tmc_obs *m;
    size_t m_cap, nm;
    /* The range's facts and host changes waiting (ledger_host_change_range),
     * by card id; how many findings of the card being walked its walk made
     * open (new, or resolved and seen again). */
    struct fact *f;
    size_t nf, cf;
    struct ledger_host_change *h;
    size_t nh, ch;
    uint32_t opened;
    /* The findings of the cards lo < card_id <= hi (known_lo < known_hi
     * while a range is walked): those read for the range, sorted by card,
     * then those this run recorded, in the order recorded. */
    struct known *k;
    size_t nk, nk_read, ck;
    int64_t known_lo, known_hi;
};

/* Cards in a range: a few statements each range. */
#define RANGE_CARDS 512

static int fact_cmp(const void *key, const void *elt)
{
    int64_t a = *(const int64_t *)key, b = ((const struct fact *)elt)->card;
    return a < b ? -1 : a > b;
}

static int host_change_cmp(const void *key, const void *elt)
{
    int64_t a = *(const int64_t *)key, b = ((const struct ledger_host_change *)elt)->card_id;
    return a < b ? -1 : a > b;
}

/* The card's fact (NULL: no card row: the ledger does not know it). */
static const struct fact *fact_of(const struct walk *w, int64_t card)
{
    return w->nf ? bsearch(&card, w->f, w->nf, sizeof *w->f, fact_cmp) : NULL;
}

/* A finding, once: new ones counted, and fraud blocks the card. */
static int known_card_cmp(const void *key, const void *elt)
{
    int64_t a = *(const int64_t *)key, b = ((const struct known *)elt)->card;
    return a < b ? -1 : a > b;
}

static bool known_is(const struct known *k, int64_t card, int64_t terminal, const char *kind,
                     const char *evidence)
{
    return k->card == card && k->terminal == terminal && strcmp(k->kind, kind) == 0 &&
           strcmp(k->evidence, evidence) == 0;
}

/* The finding among the range's (NULL: none). The ones read are sorted by
 * card; the ones recorded since are few and the current card's are last. */
static struct known *known_find(struct walk *w, int64_t card, int64_t terminal, const char *kind,
                                const char *evidence)
{
    struct known *k =
        w->nk_read ? bsearch(&card, w->k, w->nk_read, sizeof *w->k, known_card_cmp) : NULL;
    if (k != NULL) {
        while (k > w->k && k[-1].card == card)
            k--;
        for (; k < w->k + w->nk_read && k->card == card; k++)
            if (known_is(k, card, terminal, kind, evidence))
                return k;
    }
    for (size_t i = w->nk; i > w->nk_read; i--)
        if (known_is(&w->k[i - 1], card, terminal, kind, evidence))
            return &w->k[i - 1];
    return NULL;
}

static leal_err known_add(struct walk *w, struct known **out)
{
    if (grow_room(&w->k, &w->ck, w->nk, sizeof *w->k) != LEAL_OK)
        return LEAL_E_NO_MEMORY;
    *out = &w->k[w->nk++];
    memset(*out, 0, sizeof **out);
    return LEAL_OK;
}

/* The range's findings (KNOWN_SQL) into w->k. */
static leal_err known_read(struct walk *w, int64_t lo, int64_t hi)
{
    struct store_stmt *st;
    struct known *k;
    leal_err err = store_prep_i64(w->l, KNOWN_SQL, &st, I64S(lo, hi));
    w->nk = w->nk_read = 0;
    if (err != LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(w->l, st, &err) &&
           (err = known_add(w, &k)) == LEAL_OK) {
        k->id = store_col_i64(st, 0);
        k->card = store_col_i64(st, 1);
        k->terminal = store_col_i64(st, 2);
        store_col_text(st, 3, k->kind, sizeof k->kind);
        store_col_text(st, 4, k->evidence, sizeof k->evidence);
        store_col_text(st, 5, k->state, sizeof k->state);
    }
    store_finalize(st);
    w->nk_read = w->nk;
    if (err == LEAL_OK) {
        w->known_lo = lo;
        w->known_hi = hi;
    }
    return err;
}

/* A finding as the ledger holds it (finding_get): row 0 when it holds none;
 * mine, the range's copy in w->k when the card is the range's. */
struct finding_row {
    int row;
    int64_t id;
    char state[12];
    struct known *mine;
};

/* The finding (kind, w->card, terminal, evidence) as the ledger holds it. A
 * card of the range walked is looked up in w->k (and one recorded is added
 * there); any other asks the ledger. */
static leal_err finding_get(struct walk *w, int64_t terminal, const char *kind,
                            const char *evidence, struct finding_row *out)
{
    struct store_stmt *st;
    int64_t card = w->card;
    leal_err err;
    memset(out, 0, sizeof *out);
    if (card > w->known_lo && card <= w->known_hi) {
        struct known *k = known_find(w, card, terminal, kind, evidence);
        out->row = k != NULL;
        if (k != NULL) {
            out->id = k->id;
            snprintf(out->state, sizeof out->state, "%s", k->state);
            out->mine = k;
        }
        return LEAL_OK;
    }
    if ((err = store_prep_once(w->l, FIND_SQL, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT(kind), SV_I64(card), SV_I64(terminal), SV_TEXT(evidence)));
    err = store_step(w->l, st, &out->row);
    if (err == LEAL_OK && out->row) {
        out->id = store_col_i64(st, 0);
        store_col_text(st, 1, out->state, sizeof out->state);
    }
    store_finalize(st);
    return err;
}

static leal_err finding(struct walk *w, int64_t terminal, const char *kind, bool fraud,
                        const char *evidence, const char *detail)
{
    int64_t card = w->card;
    struct finding_row f;
    struct ledger_card c;
    struct known *k;
    char why[LEDGER_TEXT];
    leal_err err;
    if ((err = finding_get(w, terminal, kind, evidence, &f)) != LEAL_OK)
        return err;
    k = f.mine;
    if (strcmp(kind, "tamper") != 0)
        w->trouble = true;
    if (f.row && strcmp(f.state, "resolved") == 0)
        w->opened++; /* open again (SEEN_SQL) */
    if (k != NULL && k->seen)
        return LEAL_OK; /* SEEN_SQL done this run, or recorded by it */
    if (f.row && (err = store_exec_i64(w->l, SEEN_SQL, I64S(f.id, w->run))) == LEAL_OK &&
        k != NULL) {
        k->seen = true;
        if (strcmp(k->state, "resolved") == 0)
            snprintf(k->state, sizeof k->state, "open");
    }
    if (f.row)
        return err;
    w->opened++;
    if (card > w->known_lo && card <= w->known_hi) {
        if ((err = known_add(w, &k)) != LEAL_OK)
            return err;
        *k = (struct known){0, card, terminal, "", "", "open", true};
        snprintf(k->kind, sizeof k->kind, "%s", kind);
        snprintf(k->evidence, sizeof k->evidence, "%s", evidence);
    }
    if ((err = store_write(w->l, INSERT_SQL,
                           SVALS(SV_I64(w->program), SV_I64(card), SV_I64(terminal), SV_TEXT(kind),
                                 SV_I64(fraud), SV_TEXT(evidence), SV_TEXT(detail),
                                 SV_I64(ledger_now()), SV_I64(w->run)),
                           NULL)) != LEAL_OK)
        return err;
    w->c->found++;
    if (!fraud || card == 0)
        return LEAL_OK;
    w->c->fraud++;
    if ((err = ledger_card_find_by_id(w->l, card, &c)) == LEAL_E_UNKNOWN_ID)
        return LEAL_OK;
    if (err != LEAL_OK || c.status != LEDGER_CARD_ACTIVE)
        return err;
    snprintf(why, sizeof why, "reconcile %s: %s", kind, evidence);
    if ((err = ledger_qr_card_status(w->l, card, LEDGER_CARD_BLOCKED, why, "reconcile")) == LEAL_OK)
        w->c->blocked++;
    return err;
}

static void name(const struct obs *o, char *out, size_t cap)
{
    snprintf(out, cap, "t%u/e%u/s%u", o->terminal, o->epoch, o->seq);
}

/* The terminals that may hold the taps between two counters. */
static leal_err unsynced(struct walk *w, const struct obs *h, const struct obs *o, char *out,
                         size_t cap)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(w->l, UNSYNCED_SQL, &st,
                                  I64S(w->program, (int64_t)h->at, (int64_t)o->terminal));
    size_t used = 0;
    out[0] = '\0';
    if (err != LEAL_OK)
        return err;
    while (store_next_row(w->l, st, &err) && used + 24 < cap)
        used += (size_t)snprintf(out + used, cap - used, "%s%lld", used ? ", " : "",
                                 (long long)store_col_i64(st, 0));
    store_finalize(st);
    return err;
}

/* A write of the card (its counter moved) that began at counter c, before i. */
static const struct obs *write_at(const struct walk *w, size_t i, uint32_t c)
{
    for (size_t k = 0; k < i; k++)
        if (w->v[k].before == c && w->v[k].after > c)
            return &w->v[k];
    return NULL;
}

/* An operation of a terminal that writes the card (earn .. void). */
static bool writes(const struct obs *o)
{
    return o->op >= JOURNAL_OP_EARN && o->op <= JOURNAL_OP_VOID;
}

/* Whether a TMAC entry (any verdict) reports o: the card answered o's
 * commit with a TMC and a TMV, which the terminal journaled. */
static bool tmac_reported(const struct walk *w, const struct obs *o)
{
    for (size_t k = 0; k < w->nm; k++) {
        const struct tmc_obs *m = &w->m[k];
        if (m->terminal == o->terminal && m->ref_epoch == o->epoch && m->ref_seq == o->seq)
            return true;
    }
    return false;
}

/* A write of a Transaction MAC card whose terminal journaled no TMAC entry
 * after it: its commit had no answer (JOURNAL.md "Transaction MAC
 * entries": the terminal appends one right after every commit the card
 * answers), as a SETTLE 'unknown' would say, which a terminal restarted
 * before the card came back no longer writes (TERMINAL.md "Tearing"). The
 * tap committed with the TMC option when it read no counter (only such a
 * card's floor leads there), or when its terminal had already journaled a
 * TMAC entry of this card (its floor's flag stays while the card is
 * active, and packages only go forward). Every entry the host holds came
 * in an export made after its tap had ended; an export cut right after the
 * operation brings the TMAC entry in the next batch, and until then the
 * operation counts as unanswered: that reverses nothing a genuine card
 * took (torn_settled needs another commit from the same step whose TMV
 * holds, which a genuine card that took this one cannot give). */
static bool unanswered(const struct walk *w, const struct obs *o)
{
    bool expected = o->before == JOURNAL_COUNTER_NONE;
    if (!writes(o) || o->kind != JOURNAL_CARD_DESFIRE || w->nm == 0)
        return false;
    for (size_t k = 0; k < w->nm && !expected; k++) {
        const struct tmc_obs *m = &w->m[k];
        expected = m->terminal == o->terminal &&
                   (m->ref_epoch < o->epoch || (m->ref_epoch == o->epoch && m->ref_seq < o->seq));
    }
    return expected && !tmac_reported(w, o);
}

/* The card at h's terminal after entry i: that terminal knew whether h's
 * commit was answered (a SETTLE 'not done' would have undone h), unless a
 * SETTLE of its names h: its commit had no answer and the card was at h's
 * counter after or beyond, which another terminal's commit reaches too
 * (the card names no writer; TERMINAL.md "Tearing"); or h is unanswered
 * (no TMAC entry after it), which says the same. */
static bool seen_again(const struct walk *w, size_t i, const struct obs *h)
{
    bool seen = false;
    if (unanswered(w, h))
        return false;
    for (size_t k = 0; k < w->n; k++) {
        const struct obs *o = &w->v[k];
        if (o->terminal != h->terminal)
            continue;
        if (o->op == JOURNAL_OP_SETTLE && o->ref_epoch == h->epoch && o->ref_seq == h->seq)
            return false;
        if (k > i)
            seen = true;
    }
    return seen;
}

/* The highest counter the card showed in any entry. */
static uint32_t top_counter(const struct walk *w)
{
    uint32_t top = 0;
    for (size_t k = 0; k < w->n; k++)
        if (w->v[k].after > top)
            top = w->v[k].after;
    return top;
}

/* The counter of one entry against everything before it. */
static leal_err step(struct walk *w, size_t i, uint32_t *high, size_t *high_at, bool *confirmed)
{
    const struct obs *o = &w->v[i], *h = &w->v[*high_at], *same;
    char ev[LEDGER_RECONCILE_EVIDENCE], detail[LEDGER_RECONCILE_DETAIL], a[32], b[32], who[64];
    leal_err err;
    name(o, b, sizeof b);
    if (o->before == *high) {
        *confirmed = true;
    } else if (o->before > *high && w->desk_seen > (int64_t)*high &&
               w->desk_seen <= (int64_t)o->before) {
        *confirmed = true; /* the desk wrote the card in between: it saw it there */
    } else if (o->before > *high) {
        if ((err = unsynced(w, h, o, who, sizeof who)) != LEAL_OK)
            return err;
        snprintf(ev, sizeof ev, "counter %u..%u before %s", *high, o->before, b);
        snprintf(detail, sizeof detail,
                 "card %lld: counter %u to %u not yet seen (taps at %s%s or the desk): sync "
                 "them; this waits",
                 (long long)w->card, *high, o->before, who[0] ? "terminal " : "",
                 who[0] ? who : "another terminal");
        if ((err = finding(w, 0, "gap", false, ev, detail)) != LEAL_OK)
            return err;
        *confirmed = true;
    } else if ((same = write_at(w, i, o->before)) != NULL && same == h && !*confirmed &&
               !seen_again(w, i, h)) {
        name(h, a, sizeof a);
        snprintf(ev, sizeof ev, "%s then %s at counter %u", a, b, o->before);
        snprintf(detail, sizeof detail,
                 "card %lld: counter %u again after %s began there and nothing confirmed it: that "
                 "operation presumably did not reach the card (a torn commit; a restored dump "
                 "looks the same): review, then accept or block",
                 (long long)w->card, o->before, a);
        if ((err = finding(w, h->terminal, "doubt", false, ev, detail)) != LEAL_OK)
            return err;
    } else if (same != NULL) {
        name(same, a, sizeof a);
        snprintf(ev, sizeof ev, "%s and %s at counter %u", a, b, o->before);
        snprintf(detail, sizeof detail,
                 "card %lld: counter %u seen twice with different contents (%s and %s, counter "
                 "already at %u): a copy of the card or a restored dump; card blocked",
                 (long long)w->card, o->before, a, b, top_counter(w));
        if ((err = finding(w, o->terminal, "clone", true, ev, detail)) != LEAL_OK)
            return err;
    } else {
        name(h, a, sizeof a);
        snprintf(ev, sizeof ev, "%s to %u, %s back to %u", a, *high, b, o->before);
        snprintf(detail, sizeof detail,
                 "card %lld: counter back from %u (%s) to %u (%s): a restored dump; card blocked",
                 (long long)w->card, *high, a, o->before, b);
        if ((err = finding(w, o->terminal, "rollback", true, ev, detail)) != LEAL_OK)
            return err;
    }
    if (o->after > *high) {
        *high = o->after;
        *high_at = i;
        *confirmed = false;
    }
    return LEAL_OK;
}

/* The SETTLE of h's terminal that names h (its commit had no answer), or NULL. */
static const struct obs *settle_of(const struct walk *w, const struct obs *h)
{
    for (size_t k = 0; k < w->n; k++) {
        const struct obs *o = &w->v[k];
        if (o->op == JOURNAL_OP_SETTLE && o->terminal == h->terminal && o->ref_epoch == h->epoch &&
            o->ref_seq == h->seq)
            return o;
    }
    return NULL;
}

/* The TMAC entry reporting o whose TMV holds (the card's word that o's
 * commit happened, and what it read), or NULL. */
static const struct tmc_obs *proof_of(const struct walk *w, const struct obs *o)
{
    for (size_t k = 0; k < w->nm; k++) {
        const struct tmc_obs *m = &w->m[k];
        if (m->holds && m->terminal == o->terminal && m->ref_epoch == o->epoch &&
            m->ref_seq == o->seq)
            return m;
    }
    return NULL;
}

/* An answered commit of another terminal (or another of h's) that took the
 * step torn h claims: o, not named by a settle (a commit with no answer
 * gets one at the card's next tap there) nor unanswered, that began at h's
 * counter before; where either entry carries no counter (a tap whose TMC
 * stands for it), or no settle names h (unanswered: only its missing TMAC
 * entry says its commit had no answer), o proved by the card's TMV (a
 * TMAC entry whose TMV holds) to have read the state seq h's state lines
 * say h began at, or the counter h began at. Into *what, the step. */
static const struct obs *same_step(const struct walk *w, const struct obs *h, bool settled,
                                   char *what, size_t cap)
{
    for (size_t k = 0; k < w->n; k++) {
        const struct obs *o = &w->v[k];
        const struct tmc_obs *m;
        if (o == h || !writes(o) || settle_of(w, o) != NULL || unanswered(w, o))
            continue;
        m = proof_of(w, o);
        if (h->after > h->before && o->after > o->before && (settled || m != NULL)) {
            /* Unsettled h: the counter the card's TMV says o read (an
             * altered o's entry may say another). */
            if ((settled ? o->before : m->before) != h->before)
                continue;
            snprintf(what, cap, "counter %u", h->before);
            return o;
        }
        if (h->seq_known && m != NULL && m->seq_known && m->seq_read == h->seq_before) {
            snprintf(what, cap, "seq %u", h->seq_before);
            return o;
        }
    }
    return NULL;
}

static leal_err reversed_finding(struct walk *w, const struct obs *h, const char *ev,
                                 const char *detail, const char *reason, int64_t id)
{
    leal_err err;
    w->c->resolved++;
    if (id != 0)
        return store_write(w->l, REVERSED_UPDATE_SQL,
                           SVALS(SV_I64(id), SV_TEXT(reason), SV_I64(ledger_now()), SV_I64(w->run)),
                           NULL);
    if ((err = store_write(w->l, REVERSED_INSERT_SQL,
                           SVALS(SV_I64(w->program), SV_I64(w->card), SV_I64(h->terminal),
                                 SV_TEXT(ev), SV_TEXT(detail), SV_I64(ledger_now()),
                                 SV_TEXT(reason), SV_I64(w->run)),
                           NULL)) != LEAL_OK)
        return err;
    w->c->found++;
    return LEAL_OK;
}

/* A refusal of the reversal, before it wrote anything: the account no
 * longer holds what the torn operation credited, or something reversed it
 * already; the doubt stays. (A failure after the post, a bono's deferred
 * revenue, fails the run, which keeps nothing of it.) */
static bool reversal_refused(leal_err err)
{
    return err == LEAL_E_INSUFFICIENT_FUNDS || err == LEAL_E_ALREADY_VOIDED ||
           err == LEAL_E_VOID_OF_VOID || err == LEAL_E_UNKNOWN_ID ||
           err == LEAL_E_IDEMPOTENCY_CONFLICT;
}

/* Torn h (a settle of its terminal named it, or, settle NULL, unanswered:
 * no TMAC entry after it) against answered o at the same step: had h's
 * commit reached the card, the card would have been past that step when o
 * read it, or o's read would have come after h's commit; either way o could
 * not have read it there. So h never reached a genuine card (and a copy's
 * value does not count): it is reversed as a settle 'not done' reverses at
 * import (ledger_terminal_reverse, keyed by h's settle, or by h itself at
 * LEDGER_UNANSWERED_SEQ), and the
 * doubt it would be is recorded resolved with that reversal (a person's
 * accepted doubt stands). *gone: h no longer stands (leave it out of the
 * walk). */
static leal_err torn_one(struct walk *w, const struct obs *h, const struct obs *settle,
                         const struct obs *o, const char *what, bool *gone)
{
    char ev[LEDGER_RECONCILE_EVIDENCE], detail[LEDGER_RECONCILE_DETAIL], reason[LEDGER_TEXT];
    char a[32], b[32], state[12] = "";
    struct ledger_terminal_reversal rq;
    struct fact *f;
    struct store_stmt *st;
    int64_t id = 0, entry = 0;
    int row = 0;
    bool done = false;
    leal_err err;
    *gone = false;
    name(h, a, sizeof a);
    name(o, b, sizeof b);
    snprintf(ev, sizeof ev, "%s then %s at %.19s", a, b, what);
    if ((err = store_prep_once(w->l, FIND_SQL, &st)) != LEAL_OK)
        return err;
    store_bind(st, SVALS(SV_TEXT("doubt"), SV_I64(w->card), SV_I64(h->terminal), SV_TEXT(ev)));
    err = store_step(w->l, st, &row);
    if (err == LEAL_OK && row) {
        id = store_col_i64(st, 0);
        store_col_text(st, 1, state, sizeof state);
    }
    store_finalize(st);
    if (err != LEAL_OK || strcmp(state, "accepted") == 0)
        return err;
    snprintf(reason, sizeof reason,
             "reconcile: %s never reached the card: its commit had no answer and %s, answered, "
             "took the same step (%s)",
             a, b, what);
    rq = (struct ledger_terminal_reversal){
        h->terminal, h->epoch, h->seq, settle ? settle->epoch : 0, settle ? settle->seq : 0,
        reason};
    err = ledger_terminal_reverse(w->l, &rq, &entry, &done);
    if (reversal_refused(err) || (err == LEAL_OK && !done))
        return LEAL_OK; /* the walk finds the doubt */
    if (err != LEAL_OK)
        return err;
    *gone = true;
    if (entry != 0)
        snprintf(reason, sizeof reason,
                 "reversed by entry %lld: %s had no answer, %s answered at "
                 "the same step (%s)",
                 (long long)entry, a, b, what);
    else
        snprintf(reason, sizeof reason,
                 "nothing to reverse: %s had no answer, %s answered at the "
                 "same step (%s)",
                 a, b, what);
    snprintf(detail, sizeof detail,
             "card %lld: %s's commit had no answer (%s) and %s, answered, took the same step "
             "(%s): %s never reached the card; reversed",
             (long long)w->card, a, settle ? "settled" : "no TMAC entry after it", b, what, a);
    if ((err = reversed_finding(w, h, ev, detail, reason, id)) != LEAL_OK)
        return err;
    /* The balance check reads the account as it is now. */
    f = w->nf ? bsearch(&w->card, w->f, w->nf, sizeof *w->f, fact_cmp) : NULL;
    if (f != NULL && entry != 0 &&
        ((err = ledger_balance(w->l, f->account, "PTS", &f->pts)) != LEAL_OK ||
         (err = ledger_balance(w->l, f->account, "EUR", &f->eur)) != LEAL_OK))
        return err;
    return LEAL_OK;
}

/* Every torn operation of the card that an answered commit proves never
 * reached it (torn_one), reversed and left out of the walk. When every
 * commit at that step had no answer, nothing proves which one the card
 * took: the walk's doubt stays for a person. */
static leal_err torn_settled(struct walk *w)
{
    size_t k = 0;
    leal_err err = LEAL_OK;
    for (size_t i = 0; i < w->n; i++) {
        const struct obs *h = &w->v[i], *settle = NULL, *o;
        char what[32];
        bool gone = false;
        if (err == LEAL_OK && h->op != JOURNAL_OP_VOID && writes(h) &&
            ((settle = settle_of(w, h)) != NULL || unanswered(w, h)) &&
            (o = same_step(w, h, settle != NULL, what, sizeof what)) != NULL)
            err = torn_one(w, h, settle, o, what, &gone);
        if (!gone)
            w->v[k++] = w->v[i];
    }
    w->n = k;
    return err;
}

/* The card's newest state against its account, when everything is in. The
 * account also holds the host's changes still waiting for the card
 * (ledger_host_change.h: a bonus or an adjustment the terminals it was
 * tapped at did not carry): the card shows its points less those. When the
 * host cannot tell whether a terminal applied them (doubt), its points say
 * nothing; euros never wait. */
static leal_err balances(struct walk *w, const struct obs *o)
{
    const struct fact *c = fact_of(w, w->card);
    const struct ledger_host_change *waits;
    char ev[LEDGER_RECONCILE_EVIDENCE], detail[LEDGER_RECONCILE_DETAIL], b[32], wait[64] = "";
    int64_t pts, eur, hc_points = 0;
    bool waiting, points_known;
    if (c == NULL)
        return LEAL_OK;
    /* The desk wrote the card since, an entry the ledger could not take,
     * or the account's other cards: the card alone cannot say. */
    if (c->last_counter > (int64_t)o->after || c->held > 0 || c->cards > 1)
        return LEAL_OK;
    pts = c->pts;
    eur = c->eur;
    waits = w->nh ? bsearch(&w->card, w->h, w->nh, sizeof *w->h, host_change_cmp) : NULL;
    waiting = waits != NULL;
    if (waiting)
        hc_points = waits->points;
    points_known = !waiting || !waits->doubt;
    if ((!points_known || pts - hc_points == (int64_t)o->points) &&
        (!o->purse_read || eur == (int64_t)o->purse))
        return LEAL_OK;
    if (hc_points != 0)
        snprintf(wait, sizeof wait, " (%+lld of them waiting for the card)", (long long)hc_points);
    name(o, b, sizeof b);
    snprintf(ev, sizeof ev, "counter %u at %s: %u points %u cents", o->after, b, o->points,
             o->purse_read ? o->purse : 0);
    snprintf(detail, sizeof detail,
             "card %lld shows %u points%s%u cents%s after %s; its account %lld holds %lld points"
             "%s and %lld cents: find the operation missing on one side",
             (long long)w->card, o->points, o->purse_read ? " and " : " (", o->purse,
             o->purse_read ? "" : " not read)", b, (long long)c->account, (long long)pts, wait,
             (long long)eur);
    return finding(w, o->terminal, "balance", false, ev, detail);
}

/* One card's entries in the order they reached the card, from the query's
 * (the terminals' clocks). A DESFire card's counter only rises (the card
 * enforces it: no key credits it), so it orders every tap whatever the
 * clocks say: a terminal whose clock is behind another's put its tap before
 * earlier ones, a false rollback and the card blocked. A Classic card's seq
 * is card data that a restored dump puts back, so its taps stay in the
 * clocks' order, the only witness that the seq went back; only one second's
 * taps go by seq (terminals count whole seconds). Stable: a counter seen
 * twice keeps the clocks' order, so a clone or a torn commit is still found. */
static void card_order(struct obs *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct obs x = v[i];
        size_t k = i;
        while (k > 0 && (x.kind == JOURNAL_CARD_DESFIRE || v[k - 1].at == x.at) &&
               v[k - 1].before > x.before) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
}

/* The journal entry a TMAC entry reports: its terminal and the operation's
 * epoch and sequence. */
struct op_key {
    uint32_t terminal, epoch, seq;
};

static int op_key_cmp(const void *pa, const void *pb)
{
    const struct op_key *a = pa, *b = pb;
    if (a->terminal != b->terminal)
        return a->terminal < b->terminal ? -1 : 1;
    if (a->epoch != b->epoch)
        return a->epoch < b->epoch ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* An operation the card's counter saw that no TMAC entry reports, by its
 * counter value and then its place in the card's order. */
struct unrep {
    uint32_t after;
    size_t i; /* in w->v */
};

static int unrep_cmp(const void *pa, const void *pb)
{
    const struct unrep *a = pa, *b = pb;
    if (a->after != b->after)
        return a->after < b->after ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* The card's DESFire operations that moved its counter and that no TMAC
 * entry of m[0..n) reports, one per counter value (the first in the card's
 * order), by counter value into *out (*nu of them; malloc'ed, the caller
 * frees it): what every skip's unreported() counts from. O((n + w->n) log). */
static leal_err unreported_all(const struct walk *w, const struct tmc_obs *m, size_t n,
                               struct unrep **out, size_t *nu)
{
    struct op_key *keys = n ? malloc(n * sizeof *keys) : NULL;
    struct unrep *u = w->n ? malloc(w->n * sizeof *u) : NULL;
    size_t k = 0;
    *out = NULL;
    *nu = 0;
    if ((n && keys == NULL) || (w->n && u == NULL)) {
        free(keys);
        free(u);
        return LEAL_E_NO_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (struct op_key){m[i].terminal, m[i].ref_epoch, m[i].ref_seq};
    if (n)
        qsort(keys, n, sizeof *keys, op_key_cmp);
    for (size_t i = 0; i < w->n; i++) {
        const struct obs *o = &w->v[i];
        struct op_key key = {o->terminal, o->epoch, o->seq};
        if (o->kind != JOURNAL_CARD_DESFIRE || o->after <= o->before ||
            (n && bsearch(&key, keys, n, sizeof *keys, op_key_cmp) != NULL))
            continue;
        u[k++] = (struct unrep){o->after, i};
    }
    free(keys);
    if (k)
        qsort(u, k, sizeof *u, unrep_cmp);
    /* One per counter value: a counter seen twice (a clone, a torn commit)
     * is one transaction of the card. */
    *nu = 0;
    for (size_t i = 0; i < k; i++)
        if (*nu == 0 || u[*nu - 1].after != u[i].after)
            u[(*nu)++] = u[i];
    *out = u;
    return LEAL_OK;
}

/* The first of u[0..n) (by counter value) whose counter is above v. */
static size_t unrep_above(const struct unrep *u, size_t n, uint32_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u[mid].after <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The operations journaled between two TMAC entries a and b (their taps
 * after a's commit and up to b's) that no TMAC entry reports (u, from
 * unreported_all): how many counter values, and the first of them. */
static uint32_t unreported(const struct walk *w, const struct unrep *u, size_t nu,
                           const struct tmc_obs *a, const struct tmc_obs *b,
                           const struct obs **first)
{
    size_t from = unrep_above(u, nu, a->before + 1), to = unrep_above(u, nu, b->before);
    *first = from < to ? &w->v[u[from].i] : NULL;
    return from < to ? (uint32_t)(to - from) : 0;
}

/* Between two TMCs the card's word gives (TMV holds), a skip: transactions
 * the card committed that no TMAC entry reports. The card steps its TMC and
 * its counter together at every commit of a tap or a desk write (LAYOUT.md
 * 2.9), so the skip is read against the counter: operations journaled in it
 * without their TMAC entry, and commits that moved no counter, are a
 * finding; counter steps no journal holds are the desk's writes or a
 * terminal not yet synced (the counter walk's gap), and none. */
static leal_err tmc_skip(struct walk *w, const struct unrep *u, size_t nu, const struct tmc_obs *a,
                         const struct tmc_obs *b, bool counted)
{
    char ev[LEDGER_RECONCILE_EVIDENCE], detail[LEDGER_RECONCILE_DETAIL], na[32], nb[32], no[32];
    const struct obs *first;
    uint32_t skipped = b->tmc - a->tmc - 1, steps, dropped, still;
    size_t used;
    steps = b->before > a->before + 1 ? b->before - a->before - 1 : 0;
    still = skipped > steps ? skipped - steps : 0;
    if (!counted)
        still = 0; /* tmc_bounds: the skip's counter steps are not known */
    dropped = unreported(w, u, nu, a, b, &first);
    if (dropped == 0 && still == 0)
        return LEAL_OK;
    snprintf(na, sizeof na, "t%u/e%u/s%u", a->terminal, a->epoch, a->seq);
    snprintf(nb, sizeof nb, "t%u/e%u/s%u", b->terminal, b->epoch, b->seq);
    snprintf(ev, sizeof ev, "tmc %u..%u", a->tmc, b->tmc);
    used = (size_t)snprintf(detail, sizeof detail,
                            "card %lld committed %u transaction(s) between TMC %u (%s) and %u "
                            "(%s) that no TMAC entry reports",
                            (long long)w->card, skipped, a->tmc, na, b->tmc, nb);
    if (dropped && used < sizeof detail) {
        snprintf(no, sizeof no, "t%u/e%u/s%u", first->terminal, first->epoch, first->seq);
        used += (size_t)snprintf(detail + used, sizeof detail - used,
                                 "; %u journaled without it (first %s, counter %u: a torn "
                                 "commit, a full journal, an older package or a hidden TMV)",
                                 dropped, no, first->after);
    }
    if (still && used < sizeof detail)
        used += (size_t)snprintf(detail + used, sizeof detail - used,
                                 "; %u moved no counter (no tap or desk write does that)", still);
    if (used < sizeof detail)
        snprintf(detail + used, sizeof detail - used, ": review");
    return finding(w, dropped ? first->terminal : 0, "tmc_gap", false, ev, detail);
}

/* The card's TMAC entries from TMC_SQL into w->m (*n of them): the rows of
 * cards before it (none walked: no entry of theirs in scope) passed over,
 * the row of the next card left for its walk. */
static leal_err tmc_rows(struct walk *w, size_t *n)
{
    leal_err err = LEAL_OK;
    *n = 0;
    while (w->tmc_row && store_col_i64(w->tmc, 0) <= w->card) {
        struct journal_entry t;
        struct journal_tmac x;
        int b = store_col_bytes(w->tmc, 3);
        if (store_col_i64(w->tmc, 0) == w->card && b > 0 &&
            journal_entry_decode(store_col_blob(w->tmc, 3), (size_t)b, &t) == LEAL_OK &&
            journal_tmac_get(&t, &x) == LEAL_OK) {
            if (grow_room(&w->m, &w->m_cap, *n, sizeof *w->m) != LEAL_OK)
                return LEAL_E_NO_MEMORY;
            struct state_body sb;
            uint64_t cid = 0;
            uint8_t version = 0;
            bool seq_known = state_file_decode_head(x.state_before, STATE_FILE_LEN, &version, &cid,
                                                    &sb) == LEAL_OK &&
                             cid == t.card_id;
            w->m[(*n)++] = (struct tmc_obs){x.tmc,
                                            t.terminal_id,
                                            t.epoch,
                                            t.seq,
                                            t.ref_epoch,
                                            t.ref_seq,
                                            (x.flags & JOURNAL_TMAC_NO_COUNTER) != 0
                                                ? JOURNAL_COUNTER_NONE
                                                : (uint32_t)(LAYOUT_COUNTER_START - x.counter),
                                            store_col_i64(w->tmc, 2) != 0,
                                            seq_known ? sb.seq : 0,
                                            seq_known};
        } /* else taken, so decoded once: the import's tamper finding says the rest */
        w->tmc_row = store_next_row(w->l, w->tmc, &err) != 0;
        if (err != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

/* A skip's ends when one of them read no counter (flag 40: its TMC stood
 * for it), as tmc_skip reads them: ends[0] (a) at the counter of the
 * nearest holding TMC at or before it that read one (UINT32_MAX when none:
 * its before + 1 wraps to 0, every counter), ends[1] (b) at that of the
 * nearest at or after it (UINT32_MAX - 1 when none). The operations journaled between
 * those counters without their TMAC entry are what the skip may hold; the
 * counter steps of the skip itself are not known, so tmc_skip judges no
 * "moved no counter" then (*counted false). */
static void tmc_bounds(const struct tmc_obs *m, size_t n, size_t ia, size_t ib,
                       struct tmc_obs ends[2], bool *counted)
{
    ends[0] = m[ia];
    ends[1] = m[ib];
    *counted = m[ia].before != JOURNAL_COUNTER_NONE && m[ib].before != JOURNAL_COUNTER_NONE;
    if (*counted)
        return;
    ends[0].before = UINT32_MAX;
    ends[1].before = UINT32_MAX - 1u;
    for (size_t i = ia + 1; i-- > 0;)
        if (m[i].holds && m[i].before != JOURNAL_COUNTER_NONE) {
            ends[0].before = m[i].before;
            break;
        }
    for (size_t i = ib; i < n; i++)
        if (m[i].holds && m[i].before != JOURNAL_COUNTER_NONE) {
            ends[1].before = m[i].before;
            break;
        }
}

/* The card's TMCs (EV2/EV3 with the Transaction MAC file): each skip
 * between two of them (tmc_skip). */
static leal_err tmc_walk(struct walk *w)
{
    const struct tmc_obs *prev = NULL;
    struct unrep *u = NULL;
    size_t n = w->nm, nu = 0;
    bool desfire = w->nc_seen;
    leal_err err = LEAL_OK;
    for (size_t i = 0; i < w->n && !desfire; i++)
        desfire = w->v[i].kind == JOURNAL_CARD_DESFIRE;
    if (err != LEAL_OK || !desfire || n == 0) /* a Classic has no TMC: no look for one */
        return err;
    for (size_t i = 0; err == LEAL_OK && i < n; i++) {
        if (!w->m[i].holds)
            continue; /* a forged or unchecked TMV's TMC is not the card's word */
        if (prev != NULL && w->m[i].tmc > prev->tmc + 1 && u == NULL)
            err = unreported_all(w, w->m, n, &u, &nu);
        if (err == LEAL_OK && prev != NULL && w->m[i].tmc > prev->tmc + 1) {
            struct tmc_obs ends[2];
            bool counted;
            tmc_bounds(w->m, n, (size_t)(prev - w->m), i, ends, &counted);
            err = tmc_skip(w, u, nu, &ends[0], &ends[1], counted);
        }
        prev = &w->m[i];
    }
    free(u);
    return err;
}

/* The entries of taps that read no counter (JOURNAL.md "Counters"), which
 * torn_settled has seen, out of the counter walk; the newest operation of
 * them by the clocks kept for the balance check (w->nc). */
static void no_counter_apart(struct walk *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        const struct obs *o = &w->v[i];
        if (o->before != JOURNAL_COUNTER_NONE) {
            w->v[k++] = *o;
            continue;
        }
        if (writes(o) && (!w->nc_seen || o->at >= w->nc.at)) {
            w->nc = *o;
            w->nc.before = w->nc.after = 0;
            w->nc.purse_read = false;
            w->nc_seen = true;
        }
    }
    w->n = k;
}

/* Every entry of one card, walked. */
static leal_err card_walk(struct walk *w)
{
    uint32_t high;
    size_t high_at = 0, newest = 0;
    bool confirmed = false, resolving;
    int64_t open = 0;
    const struct fact *f = fact_of(w, w->card);
    struct obs nc;
    const struct obs *last;
    leal_err err = LEAL_OK;
    if (w->n == 0 && !w->nc_seen)
        return LEAL_OK;
    w->c->cards++;
    w->trouble = false;
    w->desk_seen = f ? f->last_counter : 0;
    if ((err = tmc_rows(w, &w->nm)) != LEAL_OK || (err = torn_settled(w)) != LEAL_OK) {
        w->n = 0;
        w->nc_seen = false;
        w->opened = 0;
        return err;
    }
    no_counter_apart(w);
    if (w->n == 0 && !w->nc_seen) {
        w->opened = 0;
        return LEAL_OK;
    }
    card_order(w->v, w->n);
    high = w->n ? w->v[0].after : 0;
    for (size_t i = 1; i < w->n && err == LEAL_OK; i++)
        err = step(w, i, &high, &high_at, &confirmed);
    for (size_t i = 1; i < w->n; i++)
        if (w->v[i].after >= w->v[newest].after)
            newest = i;
    /* A newer tap without the counter: the card as it left it, at the
     * counter the newest counted one left (the desk's since still shows). */
    last = w->n ? &w->v[newest] : NULL;
    if (w->nc_seen && (last == NULL || w->nc.at >= last->at)) {
        nc = w->nc;
        nc.before = nc.after =
            last ? last->after : (uint32_t)(f && f->last_counter > 0 ? f->last_counter : 0);
        last = &nc;
    }
    if (err == LEAL_OK && !w->trouble)
        err = balances(w, last);
    if (err == LEAL_OK)
        err = tmc_walk(w);
    /* Findings of earlier runs no longer there: only when the card had
     * some open (every finding this run recorded or saw has this run's
     * number, which RESOLVE_SQL leaves); its open ones as read before and
     * those its walk made open, unless it resolved some. */
    resolving = f == NULL || f->resolvable > 0;
    if (err == LEAL_OK && resolving &&
        (err = store_exec_i64(w->l, RESOLVE_SQL, I64S(w->card, w->run, ledger_now()))) == LEAL_OK)
        w->c->resolved += (uint32_t)store_changes(w->l);
    if (err == LEAL_OK && resolving)
        err = store_query_int(w->l, OPEN_SQL, I64S(w->card), &open);
    else if (err == LEAL_OK)
        open = f->open + w->opened;
    w->c->open += (uint32_t)open;
    w->n = 0;
    w->nc_seen = false;
    w->opened = 0;
    return err;
}

/* A QR finding, counted as open when it is: card_walk, which counts the
 * open findings of the others, never sees a phone (no counters to walk). */
static leal_err qr_finding(struct walk *w, const struct journal_entry *e, const char *kind,
                           const char *evidence, const char *detail)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = finding(w, e->terminal_id, kind, true, evidence, detail);
    if (err != LEAL_OK || (err = store_prep_once(w->l, QR_OPEN_SQL, &st)) != LEAL_OK)
        return err;
    store_bind(st,
               SVALS(SV_TEXT(kind), SV_I64(w->card), SV_I64(e->terminal_id), SV_TEXT(evidence)));
    err = store_step(w->l, st, &row);
    if (err == LEAL_OK && row)
        w->c->open += (uint32_t)store_col_i64(st, 0);
    store_finalize(st);
    return err;
}

/* A QR entry has no card counters: its checks are a payment past its
 * certificate's caps and a spending code used at two terminals (ledger_qr.h),
 * each a fraud finding that blocks the phone. */
static leal_err qr_observe(struct walk *w, const struct journal_entry *e)
{
    struct ledger_qr_twice q;
    struct ledger_qr_over over;
    /* A payment past its certificate's caps, all terminals counted: a cap
     * finding of its own (evidence "qr ..."), fraud, so the phone is blocked. */
    leal_err err = ledger_qr_over_caps(w->l, e, &over);
    if (err == LEAL_OK && over.over)
        err = qr_finding(w, e, "cap", over.evidence, over.detail);
    if (err == LEAL_OK)
        err = ledger_qr_twice(w->l, e, &q);
    if (err == LEAL_OK && q.twice)
        err = qr_finding(w, e, "clone", q.evidence, q.detail);
    return err;
}

/* One taken entry as an observation of its card (nothing when the tap read
 * no counter, or its operation did not reach the card). */
static leal_err observe(struct walk *w, struct store_stmt *st)
{
    struct journal_entry e;
    char outcome[12];
    int b = store_col_bytes(st, 5);
    leal_err err;
    store_col_text(st, 6, outcome, sizeof outcome);
    if (b <= 0 || strcmp(outcome, "undone") == 0)
        return LEAL_OK;
    if ((err = journal_entry_decode(store_col_blob(st, 5), (size_t)b, &e)) != LEAL_OK)
        return err;
    if (e.card_kind == JOURNAL_CARD_QR)
        return qr_observe(w, &e);
    if (e.op == JOURNAL_OP_TMAC) /* its operation's entry is the observation (tmac_found) */
        return LEAL_OK;
    if (e.card_kind == JOURNAL_CARD_NONE ||
        (e.op == JOURNAL_OP_REFUSAL && e.counter_before == 0 && e.counter_after == 0))
        return LEAL_OK;
    if (grow_room(&w->v, &w->cap, w->n, sizeof *w->v) != LEAL_OK)
        return LEAL_E_NO_MEMORY;
    w->v[w->n++] = (struct obs){e.terminal_id,
                                e.epoch,
                                e.seq,
                                e.utc_seconds,
                                e.counter_before,
                                e.counter_after,
                                e.op,
                                e.card_kind,
                                e.points_after,
                                e.purse_after,
                                e.card_kind == JOURNAL_CARD_CLASSIC || e.op == JOURNAL_OP_PAY ||
                                    e.op == JOURNAL_OP_PAY_EARN || e.op == JOURNAL_OP_BALANCE,
                                e.ref_epoch,
                                e.ref_seq,
                                0,
                                false};
    if (e.op >= JOURNAL_OP_EARN && e.op <= JOURNAL_OP_VOID) {
        struct state_body sb;
        bool found = false;
        journal_state_of(&e, &sb, &found);
        w->v[w->n - 1].seq_before = sb.seq;
        w->v[w->n - 1].seq_known = found;
    }
    return LEAL_OK;
}

/* The import's tamper findings that name a card. */
static leal_err tampered(struct walk *w, int64_t program_id, int64_t card_id)
{
    struct store_stmt *st;
    char ev[LEDGER_RECONCILE_EVIDENCE], detail[LEDGER_RECONCILE_DETAIL], kind[12];
    leal_err err = store_prep_i64(w->l, TAMPER_SQL, &st, I64S(program_id, card_id));
    if (err != LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(w->l, st, &err)) {
        int64_t card = store_col_i64(st, 0), terminal = store_col_i64(st, 2);
        w->program = store_col_i64(st, 1);
        store_col_text(st, 5, kind, sizeof kind);
        snprintf(ev, sizeof ev, "t%lld/e%lld/s%lld %s", (long long)terminal,
                 (long long)store_col_i64(st, 3), (long long)store_col_i64(st, 4), kind);
        snprintf(detail, sizeof detail,
                 "terminal %lld's journal is broken at epoch %lld sequence %lld (%s: altered, "
                 "dropped, reordered or replayed entries, or another terminal's key) in an entry "
                 "naming card %lld: terminal flagged, card blocked",
                 (long long)terminal, (long long)store_col_i64(st, 3),
                 (long long)store_col_i64(st, 4), kind, (long long)card);
        w->card = card;
        err = finding(w, terminal, "tamper", true, ev, detail);
    }
    store_finalize(st);
    return err;
}

/* The Transaction MAC checks' fraud (sync_tmac.h): a forged TMV, an entry
 * altered after the card's commit, a TMC replayed; each a fraud finding
 * naming the terminal, so the card is blocked and hot-listed. */
static leal_err tmac_found(struct walk *w, int64_t program_id, int64_t card_id)
{
    struct store_stmt *st;
    char ev[LEDGER_RECONCILE_EVIDENCE], detail[LEDGER_RECONCILE_DETAIL], verdict[12], what[240];
    leal_err err;
    if ((err = store_prep_i64(w->l, TMAC_SQL, &st, I64S(program_id, card_id))) != LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(w->l, st, &err)) {
        int64_t terminal = store_col_i64(st, 2);
        const char *kind;
        w->card = store_col_i64(st, 0);
        w->program = store_col_i64(st, 1);
        store_col_text(st, 6, verdict, sizeof verdict);
        store_col_text(st, 7, what, sizeof what);
        kind = strcmp(verdict, "forged") == 0    ? "tmv_forged"
               : strcmp(verdict, "altered") == 0 ? "tmv_altered"
                                                 : "tmc_replay";
        snprintf(ev, sizeof ev, "t%lld/e%lld/s%lld tmc %lld", (long long)terminal,
                 (long long)store_col_i64(st, 3), (long long)store_col_i64(st, 4),
                 (long long)store_col_i64(st, 5));
        snprintf(detail, sizeof detail, "terminal %lld: %s: card blocked", (long long)terminal,
                 what);
        err = finding(w, terminal, kind, true, ev, detail);
    }
    store_finalize(st);
    w->card = 0;
    return err;
}

/* What one terminal took from cards and had not had acknowledged, as its
 * own cap check counts it (firmware/core/terminal.c spent_offline): the
 * purse of every payment less what voids gave back, per card id and card
 * kind (a QR code's id may be a card's), on the local day of each entry.
 * The package's caps are a card's: QR payments are held to their
 * certificate's caps (terminal_qr.c), so they are counted apart and not
 * judged here. */
struct spend {
    uint64_t card;
    uint8_t kind;
    uint32_t epoch, seq;
    int64_t day, cents;
};
struct spent {
    int64_t terminal;
    struct spend *v;
    size_t n, cap;
    /* The caps of the package version last looked up (found false: the
     * host has no record of it, built before it kept caps: not judged). */
    uint32_t version;
    bool looked, found;
    int64_t day_cap, sync_cap;
};

static int64_t local_day(const struct journal_entry *e)
{
    int64_t local = (int64_t)e->utc_seconds + (int64_t)e->utc_offset_minutes * 60;
    return local >= 0 ? local / 86400 : -1;
}

/* The caps of e's package at its terminal, through a one-entry cache. */
static leal_err caps_of(struct walk *w, struct spent *sp, const struct journal_entry *e)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err;
    if (sp->looked && sp->version == e->package_version)
        return LEAL_OK;
    if ((err = store_prep_i64(w->l, CAPS_SQL, &st, I64S(sp->terminal, e->package_version))) !=
        LEAL_OK)
        return err;
    err = store_step(w->l, st, &row);
    sp->found = err == LEAL_OK && row;
    sp->day_cap = sp->found ? store_col_i64(st, 0) : 0;
    sp->sync_cap = sp->found ? store_col_i64(st, 1) : 0;
    store_finalize(st);
    sp->looked = err == LEAL_OK;
    sp->version = e->package_version;
    return err;
}

/* One payment against the caps: a finding where the card's total (the day's,
 * or since the last acknowledgment) crosses a cap with it. */
static leal_err over_caps(struct walk *w, struct spent *sp, const struct journal_entry *e,
                          int64_t day, int64_t pay)
{
    char ev[LEDGER_RECONCILE_EVIDENCE], detail[LEDGER_RECONCILE_DETAIL], a[32];
    char took[AMOUNT_FORMAT_MAX], total[AMOUNT_FORMAT_MAX], cap[AMOUNT_FORMAT_MAX];
    int64_t today = 0, since = 0;
    bool by_day;
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    for (size_t i = 0; i < sp->n; i++)
        if (sp->v[i].card == e->card_id && sp->v[i].kind == e->card_kind) {
            since += sp->v[i].cents;
            today += sp->v[i].day == day ? sp->v[i].cents : 0;
        }
    by_day = today + pay > sp->day_cap && today <= sp->day_cap;
    if (!by_day && !(since + pay > sp->sync_cap && since <= sp->sync_cap))
        return LEAL_OK;
    snprintf(a, sizeof a, "t%u/e%u/s%u", e->terminal_id, e->epoch, e->seq);
    snprintf(ev, sizeof ev, "%s cap %s", a, by_day ? "day" : "sync");
    amount_text(pay, took);
    amount_text(by_day ? today + pay : since + pay, total);
    amount_text(by_day ? sp->day_cap : sp->sync_cap, cap);
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    snprintf(detail, sizeof detail,
             "terminal %u took %s from card %llu at %s (local day %04d-%02d-%02d): %s %s, over "
             "the %s its package version %u allows a card %s: it did not enforce its caps; check "
             "its software and package",
             e->terminal_id, took, (unsigned long long)e->card_id, a, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, total, by_day ? "that day" : "since its last sync", cap,
             e->package_version, by_day ? "a day" : "between syncs");
    w->card = (int64_t)e->card_id;
    return finding(w, e->terminal_id, "cap", false, ev, detail);
}

/* One entry of a terminal's journal into what it counts. */
static leal_err spend_step(struct walk *w, struct spent *sp, const struct journal_entry *e)
{
    int64_t day = local_day(e), cents;
    bool judged;
    leal_err err;
    size_t k = 0;
    if (e->op == JOURNAL_OP_EPOCH || e->op == JOURNAL_OP_ACK) {
        /* A new epoch: the terminal's journal began again, counting nothing. */
        for (size_t i = 0; i < sp->n; i++)
            if (e->op == JOURNAL_OP_ACK &&
                (sp->v[i].epoch > e->ref_epoch ||
                 (sp->v[i].epoch == e->ref_epoch && sp->v[i].seq > e->ref_seq)))
                sp->v[k++] = sp->v[i];
        sp->n = k;
        return LEAL_OK;
    }
    if (e->card_kind == JOURNAL_CARD_NONE)
        return LEAL_OK;
    cents = e->op == JOURNAL_OP_VOID ? -(int64_t)e->purse_cents : (int64_t)e->purse_cents;
    judged = e->op != JOURNAL_OP_VOID && cents > 0 && day >= 0 && e->card_kind != JOURNAL_CARD_QR;
    if (judged && (err = caps_of(w, sp, e)) != LEAL_OK)
        return err;
    if (judged && sp->found && (err = over_caps(w, sp, e, day, cents)) != LEAL_OK)
        return err;
    if (cents == 0)
        return LEAL_OK;
    if (grow_room(&sp->v, &sp->cap, sp->n, sizeof *sp->v) != LEAL_OK)
        return LEAL_E_NO_MEMORY;
    sp->v[sp->n++] = (struct spend){e->card_id, e->card_kind, e->epoch, e->seq, day, cents};
    return LEAL_OK;
}

/* Each terminal's payments against the caps of the packages it ran. */
static leal_err capped(struct walk *w, int64_t program_id, int64_t card_id)
{
    struct spent sp;
    struct journal_entry e;
    struct store_stmt *st;
    leal_err err = store_prep_i64(w->l, SPENT_SQL, &st, I64S(program_id, card_id));
    if (err != LEAL_OK)
        return err;
    memset(&sp, 0, sizeof sp);
    while (err == LEAL_OK && store_next_row(w->l, st, &err)) {
        int b = store_col_bytes(st, 2);
        if (store_col_i64(st, 0) != sp.terminal) {
            sp.terminal = store_col_i64(st, 0);
            sp.n = 0;
            sp.looked = false;
        }
        w->program = store_col_i64(st, 1);
        if (b > 0 && journal_entry_decode(store_col_blob(st, 2), (size_t)b, &e) == LEAL_OK)
            err = spend_step(w, &sp, &e);
    }
    store_finalize(st);
    free(sp.v);
    return err;
}

/* The range's facts (FACTS_SQL) into w->f. */
static leal_err facts(struct walk *w, int64_t lo, int64_t hi)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(w->l, FACTS_SQL, &st, I64S(lo, hi));
    w->nf = 0;
    if (err != LEAL_OK)
        return err;
    while (err == LEAL_OK && store_next_row(w->l, st, &err)) {
        if ((err = grow_room(&w->f, &w->cf, w->nf, sizeof *w->f)) != LEAL_OK)
            break;
        w->f[w->nf++] =
            (struct fact){store_col_i64(st, 0), store_col_i64(st, 1), store_col_i64(st, 2),
                          store_col_i64(st, 3), store_col_i64(st, 4), store_col_i64(st, 5),
                          store_col_i64(st, 6), store_col_i64(st, 7), store_col_i64(st, 8)};
    }
    store_finalize(st);
    return err;
}

/* One of the range's host changes waiting into w->h. */
static int keep_host_change(void *ctx, const struct ledger_host_change *c)
{
    struct walk *w = ctx;
    if (grow_room(&w->h, &w->ch, w->nh, sizeof *w->h) != LEAL_OK)
        return 1;
    w->h[w->nh++] = *c;
    return 0;
}

/* Every card lo < card_id <= hi: its facts and host changes read for the
 * range, then its entries and TMAC entries, card by card. */
static leal_err range_walk(struct walk *w, int64_t program_id, int64_t card_id, int64_t lo,
                           int64_t hi)
{
    struct store_stmt *st;
    leal_err err;
    w->nh = 0;
    w->known_lo = w->known_hi = 0;
    if ((err = facts(w, lo, hi)) != LEAL_OK || (err = known_read(w, lo, hi)) != LEAL_OK)
        return err;
    err = ledger_host_change_range(w->l, 0, false, (struct ledger_card_range){lo, hi},
                                   keep_host_change, w);
    if (err == LEAL_E_INTERRUPTED)
        return LEAL_E_NO_MEMORY;
    if (err != LEAL_OK || (err = store_prep_i64(w->l, TMC_SQL, &w->tmc,
                                                I64S(program_id, card_id, lo, hi))) != LEAL_OK)
        return err;
    w->tmc_row = store_next_row(w->l, w->tmc, &err) != 0;
    if (err != LEAL_OK || (err = store_prep_i64(w->l, ENTRIES_SQL, &st,
                                                I64S(program_id, card_id, lo, hi))) != LEAL_OK) {
        store_finalize(w->tmc);
        w->tmc = NULL;
        return err;
    }
    w->card = 0;
    w->opened = 0;
    while (err == LEAL_OK && store_next_row(w->l, st, &err)) {
        int64_t card = store_col_i64(st, 0);
        if (card != w->card) {
            if ((err = card_walk(w)) != LEAL_OK)
                break;
            w->opened = 0;
        }
        w->card = card;
        w->program = store_col_i64(st, 1);
        err = observe(w, st);
    }
    store_finalize(st);
    if (err == LEAL_OK)
        err = card_walk(w);
    store_finalize(w->tmc);
    w->tmc = NULL;
    w->known_lo = w->known_hi = 0;
    return err;
}

static leal_err reconcile(struct walk *w, int64_t program_id, int64_t card_id)
{
    int64_t lo = INT64_MIN, hi = 0;
    leal_err err;
    if ((err = store_query_int(w->l, RUN_SQL, NULL, 0, &w->run)) != LEAL_OK ||
        (err = tampered(w, program_id, card_id)) != LEAL_OK ||
        (err = tmac_found(w, program_id, card_id)) != LEAL_OK ||
        (err = capped(w, program_id, card_id)) != LEAL_OK)
        return err;
    if (card_id != 0)
        return range_walk(w, program_id, card_id, card_id - 1, card_id);
    /* Range by range of the card table's ids, the last one open-ended. */
    while (err == LEAL_OK && hi != INT64_MAX &&
           (err = ledger_card_range_end(w->l, lo, RANGE_CARDS, &hi)) == LEAL_OK) {
        err = range_walk(w, program_id, card_id, lo, hi);
        lo = hi;
    }
    return err;
}

leal_err ledger_reconcile(struct ledger *l, int64_t program_id, int64_t card_id,
                          struct ledger_reconcile_counts *out)
{
    struct walk w;
    leal_err err;
    memset(out, 0, sizeof *out);
    if (program_id < 0 || card_id < 0)
        return LEAL_E_ARG;
    memset(&w, 0, sizeof w);
    w.l = l;
    w.c = out;
    /* A batch: the card events it writes are transactions of their own
     * inside it (savepoints), and all of it commits together. */
    if ((err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    err = reconcile(&w, program_id, card_id);
    free(w.v);
    free(w.m);
    free(w.f);
    free(w.h);
    free(w.k);
    if (err == LEAL_OK)
        err = ledger_batch_commit(l);
    else
        ledger_batch_rollback(l);
    if (err != LEAL_OK)
        memset(out, 0, sizeof *out);
    return err;
}

leal_err ledger_reconcile_list(struct ledger *l, int64_t program_id, int64_t card_id, bool all,
                               ledger_reconcile_cb cb, void *ctx)
{
    struct ledger_reconcile_finding f;
    struct store_stmt *st;
    leal_err err = store_prep_i64(l, LIST_SQL, &st, I64S(program_id, card_id, all));
    if (err != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err)) {
        memset(&f, 0, sizeof f);
        f.id = store_col_i64(st, 0);
        f.program_id = store_col_i64(st, 1);
        f.card_id = store_col_i64(st, 2);
        f.terminal_id = store_col_i64(st, 3);
        store_col_text(st, 4, f.kind, sizeof f.kind);
        f.fraud = store_col_i64(st, 5) != 0;
        store_col_text(st, 6, f.evidence, sizeof f.evidence);
        store_col_text(st, 7, f.detail, sizeof f.detail);
        f.found_at = store_col_i64(st, 8);
        store_col_text(st, 9, f.state, sizeof f.state);
        store_col_text(st, 10, f.reason, sizeof f.reason);
        store_col_text(st, 11, f.operator_name, sizeof f.operator_name);
        f.closed_at = store_col_i64(st, 12);
        if (cb(ctx, &f) != 0)
            break;
    }
    store_finalize(st);
    return err;
}

leal_err ledger_reconcile_accept(struct ledger *l, int64_t finding_id, const char *reason,
                                 const char *operator_name)
{
    int64_t n = 0;
    leal_err err;
    if (reason == NULL || !reason[0] || operator_name == NULL)
        return LEAL_E_ARG;
    if ((err = ledger_text_ok(l, "reason", reason)) != LEAL_OK ||
        (err = ledger_text_ok(l, "operator", operator_name)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_query_int(l, "SELECT count(*) FROM reconcile_finding WHERE id = ?1",
                          I64S(finding_id), &n);
    if (err == LEAL_OK && n == 0) {
        store_set_msg(l, "no such finding (leal reconcile --all lists them)");
        err = LEAL_E_UNKNOWN_ID;
    }
    if (err == LEAL_OK)
        err = store_write(l, ACCEPT_SQL,
                          SVALS(SV_I64(finding_id), SV_TEXT(reason), SV_TEXT(operator_name),
                                SV_I64(ledger_now())),
                          NULL);
    if (err == LEAL_OK && store_changes(l) == 0) {
        store_set_msg(l, "not open: accepted or resolved already");
        err = LEAL_E_STATE;
    }
    return store_tx_end(l, err);
}
