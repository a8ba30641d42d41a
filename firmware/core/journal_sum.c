/* journal_sum.c - the journal's running summary (journal_sum.h; JOURNAL.md
 * "The summary"). Every total is what terminal.c's walk of the
 * unacknowledged entries computes, kept as entries are appended. */
#include "journal_sum.h"

#include "keys/base/bytes.h"
#include "keys/base/ct.h"

#define DAY_SECONDS 86400
/* 2: the last operation may be a void (1's flag left a void out); 3: the
 * local hot list */
#define SUM_VERSION 3
#define FLAG_LAST 0x01
#define FLAG_CARDS_OVER 0x02
#define FLAG_HOT_OVER 0x04

enum { JOURNAL_OPEN = 1 }; /* journal.c's state of an open journal */

static const uint8_t sum_magic[4] = {'L', 'J', 'S', 'M'};

static bool same_key(struct journal_key a, struct journal_key b)
{
    return a.epoch == b.epoch && a.seq == b.seq;
}

static bool open_with_head(const struct journal *j)
{
    return j != NULL && j->state == JOURNAL_OPEN && j->has_head;
}

bool journal_sum_current(const struct journal_sum *s, const struct journal *j)
{
    return s != NULL && s->valid && open_with_head(j) && same_key(s->head, j->head) &&
           same_key(s->acked, j->acked) && leal_ct_equal(s->head_mac, j->head_mac, JOURNAL_MAC_LEN);
}

static struct journal_sum_card *card_find(struct journal_sum *s, uint8_t kind, uint64_t id)
{
    for (uint32_t i = 0; i < s->n_cards; i++)
        if (s->cards[i].kind == kind && s->cards[i].card_id == id)
            return &s->cards[i];
    return NULL;
}

static void rule_add(struct journal_sum_card *c, uint8_t index, uint32_t points)
{
    for (uint8_t i = 0; i < c->n_rules; i++)
        if (c->rule_index[i] == index) {
            c->rule_points[i] += points;
            return;
        }
    if (c->n_rules == JOURNAL_SUM_RULES) {
        c->rules_over = true;
        return;
    }
    c->rule_index[c->n_rules] = index;
    c->rule_points[c->n_rules++] = points;
}

/* What e adds to its card's totals: the same sums as terminal.c's walk. */
static void totals_add(struct journal_sum *s, const struct journal_entry *e)
{
    int64_t purse = 0;
    int64_t local = (int64_t)e->utc_seconds + (int64_t)e->utc_offset_minutes * 60;
    bool lines = false;
    struct journal_sum_card *c;
    if (e->op == JOURNAL_OP_PAY || e->op == JOURNAL_OP_PAY_EARN)
        purse = e->purse_cents;
    else if (e->op == JOURNAL_OP_VOID)
        purse = -(int64_t)e->purse_cents;
    for (uint8_t i = 0; i < e->n_lines; i++)
        lines = lines || (e->lines[i].source == RULES_LINE_RULE &&
                          e->lines[i].rule_index < RULES_MAX_RULES && e->lines[i].points > 0);
    if (purse == 0 && !lines)
        return; /* nothing to count: the card needs no room */
    if ((c = card_find(s, e->card_kind, e->card_id)) == NULL) {
        if (s->n_cards == JOURNAL_SUM_CARDS) {
            s->cards_over = true;
            return;
        }
        c = &s->cards[s->n_cards++];
        leal_memset(c, 0, sizeof *c);
        c->kind = e->card_kind;
        c->card_id = e->card_id;
        c->day = local >= 0 ? (uint32_t)(local / DAY_SECONDS) : 0;
    }
    c->since_sync += purse;
    if (local < 0 || (uint32_t)(local / DAY_SECONDS) < c->day)
        return; /* an older day: a question about it walks the journal */
    if ((uint32_t)(local / DAY_SECONDS) > c->day) {
        c->day = (uint32_t)(local / DAY_SECONDS);
        c->today = 0;
        c->n_rules = 0;
        c->rules_over = false;
    }
    c->today += purse;
    for (uint8_t i = 0; i < e->n_lines; i++)
        if (e->lines[i].source == RULES_LINE_RULE && e->lines[i].rule_index < RULES_MAX_RULES &&
            e->lines[i].points > 0)
            rule_add(c, e->lines[i].rule_index, (uint32_t)e->lines[i].points);
}

/* The last operation, as terminal.c's last_from_journal reckons it. */
static void last_add(struct journal_sum *s, const struct journal_entry *e, uint32_t slot)
{
    struct journal_key k = {e->epoch, e->seq}, ref = {e->ref_epoch, e->ref_seq};
    if (e->op >= JOURNAL_OP_EARN && e->op <= JOURNAL_OP_VOID) {
        s->last_valid = true; /* a void too: a restart settles it like any other */
        s->last = k;
        s->last_slot = slot;
    } else if (e->op == JOURNAL_OP_SETTLE && s->last_valid && same_key(ref, s->last) &&
               e->item == JOURNAL_SETTLED_NOT_DONE) {
        s->last_valid = false;
    }
}

/* ---- the local hot list ---- */

bool journal_hot_entry(const struct journal_entry *e)
{
    return e->op == JOURNAL_OP_REFUSAL && e->card_kind == JOURNAL_CARD_DESFIRE &&
           e->reason == (uint16_t)LEAL_E_TERMINAL_TMC_BEHIND;
}

bool journal_hot_stands(struct journal_key entry, uint32_t entry_package, struct journal_key acked,
                        uint32_t package_version)
{
    /* Epochs start at 1: an acknowledged point of epoch 0 is none. */
    bool host_has = acked.epoch != 0 && (entry.epoch < acked.epoch ||
                                         (entry.epoch == acked.epoch && entry.seq <= acked.seq));
    return !host_has || entry_package >= package_version;
}

void journal_hot_add(struct journal_hot_list *l, const struct journal_entry *e,
                     struct journal_key acked)
{
    struct journal_key k = {e->epoch, e->seq};
    uint32_t kept = 0;
    if (e->package_version > l->newest_package)
        l->newest_package = e->package_version;
    for (uint32_t i = 0; i < l->n; i++)
        if (journal_hot_stands(l->h[i].entry, l->h[i].package_version, acked, l->newest_package))
            l->h[kept++] = l->h[i];
    l->n = kept;
    if (!journal_hot_entry(e))
        return;
    for (uint32_t i = 0; i < l->n; i++)
        if (l->h[i].card_id == e->card_id) { /* its newest refusal decides */
            l->h[i].entry = k;
            l->h[i].package_version = e->package_version;
            return;
        }
    if (l->n == JOURNAL_HOT_CARDS) {
        l->over = true;
        return;
    }
    l->h[l->n].card_id = e->card_id;
    l->h[l->n].entry = k;
    l->h[l->n++].package_version = e->package_version;
}

uint8_t journal_hot_find(const struct journal_hot_list *l, uint64_t card_id,
                         struct journal_key acked, uint32_t package_version)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->h[i].card_id == card_id)
            return journal_hot_stands(l->h[i].entry, l->h[i].package_version, acked,
                                      package_version)
                       ? JOURNAL_HOT_YES
                       : JOURNAL_HOT_NO;
    return l->over ? JOURNAL_HOT_UNKNOWN : JOURNAL_HOT_NO;
}

static void bind(struct journal_sum *s, const struct journal *j)
{
    s->head = j->head;
    s->acked = j->acked;
    leal_memcpy(s->head_mac, j->head_mac, JOURNAL_MAC_LEN);
    s->valid = true;
}

leal_err journal_sum_rebuild(struct journal_sum *s, const struct journal *j)
{
    struct journal_iter it;
    struct journal_entry e;
    bool done = false, counting = false;
    leal_err err;
    if (s == NULL || j == NULL)
        return LEAL_E_ARG;
    leal_memset(s, 0, sizeof *s);
    if (j->state != JOURNAL_OPEN)
        return LEAL_E_STATE;
    journal_iter_begin(j, &it, false);
    for (;;) {
        uint32_t slot;
        if ((err = journal_iter_next(j, &it, &e, NULL, NULL, &done)) != LEAL_OK) {
            leal_memset(s, 0, sizeof *s);
            return err;
        }
        if (done)
            break;
        /* journal_iter_next skips slots that do not verify: the entry's own
         * slot is the one before where the iterator stands now. */
        slot = it.slot == 0 ? j->slots - 1 : it.slot - 1;
        /* The walk of the unacknowledged entries starts at the oldest one's
         * slot (journal_iter_begin), so counting does too. */
        counting = counting || (j->has_unacked && slot == j->oldest_unacked_slot);
        if (counting)
            totals_add(s, &e);
        last_add(s, &e, slot);
        journal_hot_add(&s->hot, &e, j->acked);
    }
    if (j->has_head)
        bind(s, j);
    return LEAL_OK;
}

void journal_sum_add(struct journal_sum *s, const struct journal *j, const struct journal_entry *e)
{
    struct journal_key k = {e->epoch, e->seq};
    if (s == NULL)
        return;
    /* Only the entry right after the head the summary is of: its chain
     * names that head's MAC. Anything else leaves it for a rebuild. */
    if (!s->valid || !open_with_head(j) || !same_key(j->head, k) || !same_key(s->acked, j->acked) ||
        e->epoch != s->head.epoch || e->seq != s->head.seq + 1 ||
        !leal_ct_equal(e->prev_mac, s->head_mac, JOURNAL_MAC_LEN)) {
        s->valid = false;
        return;
    }
    totals_add(s, e);
    last_add(s, e, j->head_slot);
    journal_hot_add(&s->hot, e, j->acked);
    bind(s, j);
}

void journal_sum_totals_of(const struct journal_sum *s, uint8_t kind, uint64_t card_id,
                           uint32_t today, struct journal_sum_totals *out)
{
    const struct journal_sum_card *c = NULL;
    leal_memset(out, 0, sizeof *out);
    if (s == NULL || !s->valid)
        return;
    for (uint32_t i = 0; i < s->n_cards && c == NULL; i++)
        if (s->cards[i].kind == kind && s->cards[i].card_id == card_id)
            c = &s->cards[i];
    if (c == NULL) {
        out->known = !s->cards_over;
        return;
    }
    out->since_sync = c->since_sync;
    if (today > c->day) { /* no entry of the card is of that day */
        out->known = true;
        return;
    }
    if (today < c->day || c->rules_over)
        return;
    out->known = true;
    out->today = c->today;
    for (uint8_t i = 0; i < c->n_rules; i++)
        out->rule_today[c->rule_index[i]] = c->rule_points[i];
}

leal_err journal_sum_last(const struct journal_sum *s, const struct journal *j,
                          struct journal_entry *out, bool *found)
{
    leal_err err;
    if (s == NULL || j == NULL || out == NULL || found == NULL)
        return LEAL_E_ARG;
    *found = false;
    leal_memset(out, 0, sizeof *out);
    if (!journal_sum_current(s, j))
        return LEAL_E_STATE;
    if (!s->last_valid)
        return LEAL_OK;
    if ((err = journal_entry_at(j, s->last_slot, s->last, out)) != LEAL_OK)
        return err;
    *found = true;
    return LEAL_OK;
}

/* ---- the encoding (JOURNAL.md "The summary") ---- */

static void put_key(uint8_t *p, struct journal_key k)
{
    store_be32(p, k.epoch);
    store_be32(p + 4, k.seq);
}

static struct journal_key get_key(const uint8_t *p)
{
    struct journal_key k = {load_be32(p), load_be32(p + 4)};
    return k;
}

static void put_card(uint8_t *p, const struct journal_sum_card *c)
{
    store_be64(p, c->card_id);
    p[8] = c->kind;
    p[9] = c->n_rules;
    p[10] = c->rules_over ? 1 : 0;
    store_be32(p + 11, c->day);
    store_be64(p + 15, (uint64_t)c->since_sync);
    store_be64(p + 23, (uint64_t)c->today);
    for (unsigned i = 0; i < JOURNAL_SUM_RULES; i++) {
        p[31 + i] = i < c->n_rules ? c->rule_index[i] : 0;
        store_be32(p + 31 + JOURNAL_SUM_RULES + 4 * i, i < c->n_rules ? c->rule_points[i] : 0);
    }
}

static void put_hot(uint8_t *p, const struct journal_hot_list *l)
{
    store_be32(p, l->newest_package);
    store_be32(p + 4, l->n);
    for (uint32_t i = 0; i < l->n; i++) {
        uint8_t *r = p + JOURNAL_SUM_HOT_HEADER_LEN + (size_t)i * JOURNAL_SUM_HOT_LEN;
        store_be64(r, l->h[i].card_id);
        put_key(r + 8, l->h[i].entry);
        store_be32(r + 16, l->h[i].package_version);
    }
}

leal_err journal_sum_encode(const struct journal_sum *s, const struct journal *j, uint8_t *out,
                            size_t cap, size_t *len)
{
    size_t n;
    if (s == NULL || j == NULL || out == NULL || len == NULL)
        return LEAL_E_ARG;
    if (!journal_sum_current(s, j))
        return LEAL_E_STATE;
    n = JOURNAL_SUM_HEADER_LEN + (size_t)s->n_cards * JOURNAL_SUM_CARD_LEN +
        JOURNAL_SUM_HOT_HEADER_LEN + (size_t)s->hot.n * JOURNAL_SUM_HOT_LEN;
    if (cap < n + JOURNAL_MAC_LEN)
        return LEAL_E_NO_SPACE;
    leal_memcpy(out, sum_magic, sizeof sum_magic);
    out[4] = SUM_VERSION;
    out[5] = (uint8_t)((s->last_valid ? FLAG_LAST : 0) | (s->cards_over ? FLAG_CARDS_OVER : 0) |
                       (s->hot.over ? FLAG_HOT_OVER : 0));
    out[6] = out[7] = 0;
    put_key(out + 8, s->head);
    leal_memcpy(out + 16, s->head_mac, JOURNAL_MAC_LEN);
    put_key(out + 32, s->acked);
    store_be32(out + 40, s->last_slot);
    put_key(out + 44, s->last);
    store_be32(out + 52, s->n_cards);
    for (uint32_t i = 0; i < s->n_cards; i++)
        put_card(out + JOURNAL_SUM_HEADER_LEN + (size_t)i * JOURNAL_SUM_CARD_LEN, &s->cards[i]);
    put_hot(out + JOURNAL_SUM_HEADER_LEN + (size_t)s->n_cards * JOURNAL_SUM_CARD_LEN, &s->hot);
    /* The journal key MACs entries too; the magic keeps a summary's bytes
     * from ever reading as an entry (an entry starts with its version). */
    leal_err err = j->cp->aes128_cmac(j->cfg.key, out, n, out + n);
    if (err != LEAL_OK)
        return err;
    *len = n + JOURNAL_MAC_LEN;
    return LEAL_OK;
}

static leal_err get_card(const uint8_t *p, struct journal_sum_card *c)
{
    c->card_id = load_be64(p);
    c->kind = p[8];
    c->n_rules = p[9];
    c->rules_over = p[10] == 1;
    c->day = load_be32(p + 11);
    c->since_sync = (int64_t)load_be64(p + 15);
    c->today = (int64_t)load_be64(p + 23);
    if (c->kind < JOURNAL_CARD_DESFIRE || c->kind > JOURNAL_CARD_QR ||
        c->n_rules > JOURNAL_SUM_RULES || p[10] > 1)
        return LEAL_E_JOURNAL_MALFORMED;
    for (unsigned i = 0; i < JOURNAL_SUM_RULES; i++) {
        c->rule_index[i] = p[31 + i];
        c->rule_points[i] = load_be32(p + 31 + JOURNAL_SUM_RULES + 4 * i);
        if (i < c->n_rules ? c->rule_index[i] >= RULES_MAX_RULES
                           : c->rule_index[i] != 0 || c->rule_points[i] != 0)
            return LEAL_E_JOURNAL_MALFORMED;
    }
    return LEAL_OK;
}

/* The hot list at p, n bytes to the MAC: exactly its records, each card
 * once, none of card id 0 and none under a package above the newest. */
static leal_err get_hot(const uint8_t *p, size_t n, struct journal_hot_list *l)
{
    if (n < JOURNAL_SUM_HOT_HEADER_LEN)
        return LEAL_E_JOURNAL_MALFORMED;
    l->newest_package = load_be32(p);
    l->n = load_be32(p + 4);
    if (l->n > JOURNAL_HOT_CARDS ||
        n != JOURNAL_SUM_HOT_HEADER_LEN + (size_t)l->n * JOURNAL_SUM_HOT_LEN)
        return LEAL_E_JOURNAL_MALFORMED;
    for (uint32_t i = 0; i < l->n; i++) {
        const uint8_t *r = p + JOURNAL_SUM_HOT_HEADER_LEN + (size_t)i * JOURNAL_SUM_HOT_LEN;
        l->h[i].card_id = load_be64(r);
        l->h[i].entry = get_key(r + 8);
        l->h[i].package_version = load_be32(r + 16);
        if (l->h[i].card_id == 0 || l->h[i].entry.epoch == 0 || l->h[i].entry.seq == 0 ||
            l->h[i].package_version > l->newest_package)
            return LEAL_E_JOURNAL_MALFORMED;
        for (uint32_t k = 0; k < i; k++)
            if (l->h[k].card_id == l->h[i].card_id)
                return LEAL_E_JOURNAL_MALFORMED;
    }
    return LEAL_OK;
}

static leal_err sum_parse(struct journal_sum *s, const uint8_t *p, size_t n)
{
    leal_err err;
    size_t cards_end;
    s->last_valid = (p[5] & FLAG_LAST) != 0;
    s->cards_over = (p[5] & FLAG_CARDS_OVER) != 0;
    s->hot.over = (p[5] & FLAG_HOT_OVER) != 0;
    s->head = get_key(p + 8);
    leal_memcpy(s->head_mac, p + 16, JOURNAL_MAC_LEN);
    s->acked = get_key(p + 32);
    s->last_slot = load_be32(p + 40);
    s->last = get_key(p + 44);
    s->n_cards = load_be32(p + 52);
    if ((p[5] & ~(FLAG_LAST | FLAG_CARDS_OVER | FLAG_HOT_OVER)) != 0 || p[6] != 0 || p[7] != 0 ||
        s->n_cards > JOURNAL_SUM_CARDS)
        return LEAL_E_JOURNAL_MALFORMED;
    cards_end = JOURNAL_SUM_HEADER_LEN + (size_t)s->n_cards * JOURNAL_SUM_CARD_LEN;
    if (n < cards_end)
        return LEAL_E_JOURNAL_MALFORMED;
    for (uint32_t i = 0; i < s->n_cards; i++)
        if ((err = get_card(p + JOURNAL_SUM_HEADER_LEN + (size_t)i * JOURNAL_SUM_CARD_LEN,
                            &s->cards[i])) != LEAL_OK)
            return err;
    return get_hot(p + cards_end, n - cards_end, &s->hot);
}

leal_err journal_sum_decode(struct journal_sum *s, const struct journal *j, const uint8_t *p,
                            size_t len)
{
    uint8_t mac[JOURNAL_MAC_LEN];
    leal_err err;
    if (s == NULL || j == NULL || (p == NULL && len > 0))
        return LEAL_E_ARG;
    leal_memset(s, 0, sizeof *s);
    if (j->state == 0)
        return LEAL_E_STATE;
    if (len < JOURNAL_SUM_HEADER_LEN + JOURNAL_MAC_LEN || !leal_ct_equal(p, sum_magic, 4))
        return LEAL_E_JOURNAL_MALFORMED;
    if (p[4] != SUM_VERSION)
        return LEAL_E_JOURNAL_FORMAT_VERSION;
    if ((err = j->cp->aes128_cmac(j->cfg.key, p, len - JOURNAL_MAC_LEN, mac)) != LEAL_OK)
        return err;
    if (!leal_ct_equal(mac, p + len - JOURNAL_MAC_LEN, JOURNAL_MAC_LEN)) {
        leal_wipe(mac, sizeof mac);
        return LEAL_E_JOURNAL_MAC;
    }
    if ((err = sum_parse(s, p, len - JOURNAL_MAC_LEN)) != LEAL_OK) {
        leal_memset(s, 0, sizeof *s);
        return err;
    }
    s->valid = true;
    return LEAL_OK;
}
