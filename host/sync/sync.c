/* sync.c - terminal journals into the ledger, and their acks (sync.h). */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_terminal.h"
#include "host/sync/sync_tmac.h"
#include "keys/base/ct.h"
#include "keys/derive.h"

leal_err sync_journal_key(const struct sync_keys *k, uint32_t program, uint32_t terminal,
                          uint8_t key_version, uint8_t key[16])
{
    const struct key_version *kv;
    leal_err err = keyset_version(k->ks, program, KEY_ROLE_JOURNAL_MAC, key_version, &kv);
    if (err != LEAL_OK)
        return err;
    return derive_journal_key(k->cp, kv->key, k->ks->issuer_id, program, terminal, key);
}

/* The export's terminal: registered in the ledger, in the export's program. */
static leal_err terminal_known(struct ledger *l, struct sync_result *r)
{
    int64_t program = 0;
    leal_err err = ledger_terminal_program(l, r->info.terminal_id, &program);
    if (err == LEAL_E_UNKNOWN_ID) {
        snprintf(r->why, sizeof r->why,
                 "terminal %u is not registered in the ledger; add it with 'leal terminal add' "
                 "(or import into the ledger it belongs to)",
                 r->info.terminal_id);
        return err;
    }
    if (err == LEAL_OK && program != (int64_t)r->info.program_id) {
        snprintf(r->why, sizeof r->why,
                 "the export says terminal %u of program %u; the ledger has it in program %lld",
                 r->info.terminal_id, r->info.program_id, (long long)program);
        return LEAL_E_JOURNAL_TERMINAL;
    }
    return err;
}

/* One entry of the export, walked. */
struct walk {
    const uint8_t *p;
    size_t len, pos;
    struct journal_entry e;
    const uint8_t *raw;
    size_t raw_len;
};

static leal_err walk_next(struct walk *w)
{
    size_t elen;
    leal_err err = journal_entry_peek_len(w->p + w->pos, w->len - JOURNAL_MAC_LEN - w->pos, &elen);
    if (err == LEAL_OK && elen > w->len - JOURNAL_MAC_LEN - w->pos)
        err = LEAL_E_JOURNAL_MALFORMED;
    if (err == LEAL_OK)
        err = journal_entry_decode(w->p + w->pos, elen, &w->e);
    if (err != LEAL_OK)
        return err;
    w->raw = w->p + w->pos;
    w->raw_len = elen;
    w->pos += elen;
    return LEAL_OK;
}

/* How many entries from the first are authentic and in order (*good); the
 * first that is not is the fault. Then the export's own MAC: if it fails
 * with every entry good, nothing is good (the export as a whole is named). */
static leal_err verify(const struct sync_keys *k, const uint8_t key[16], const uint8_t *p,
                       size_t len, struct sync_result *r, uint32_t *good)
{
    struct walk w = {p, len, JOURNAL_EXPORT_HEADER_LEN, {0}, NULL, 0};
    uint8_t prev_mac[JOURNAL_MAC_LEN], mac[JOURNAL_MAC_LEN];
    const struct journal_export_info *h = &r->info;
    leal_err err = LEAL_OK;
    *good = 0;
    for (uint32_t i = 0; i < h->count && err == LEAL_OK; i++) {
        if ((err = walk_next(&w)) != LEAL_OK)
            return err;
        err = journal_entry_check_mac(k->cp, key, w.raw, w.raw_len);
        if (err == LEAL_OK && (w.e.terminal_id != h->terminal_id || w.e.epoch != h->epoch))
            err = LEAL_E_JOURNAL_TERMINAL;
        if (err == LEAL_OK && (w.e.seq != h->first_seq + i ||
                               (i > 0 && !leal_ct_equal(w.e.prev_mac, prev_mac, JOURNAL_MAC_LEN)) ||
                               (i + 1 == h->count && w.e.seq != h->last_seq)))
            err = LEAL_E_JOURNAL_CHAIN;
        if (err != LEAL_OK) {
            r->fault_seq = err == LEAL_E_JOURNAL_CHAIN ? h->first_seq + i : w.e.seq;
            break;
        }
        memcpy(prev_mac, w.e.mac, JOURNAL_MAC_LEN);
        *good = i + 1;
    }
    if (err == LEAL_OK &&
        (err = k->cp->aes128_cmac(key, p, len - JOURNAL_MAC_LEN, mac)) == LEAL_OK &&
        !leal_ct_equal(mac, p + len - JOURNAL_MAC_LEN, JOURNAL_MAC_LEN)) {
        err = LEAL_E_JOURNAL_MAC;
        *good = 0;
        r->fault_seq = 0;
    }
    if (err == LEAL_E_JOURNAL_MAC || err == LEAL_E_JOURNAL_CHAIN ||
        err == LEAL_E_JOURNAL_TERMINAL) {
        r->fault = err;
        r->fault_epoch = h->epoch;
    }
    return err == LEAL_E_JOURNAL_MAC || err == LEAL_E_JOURNAL_CHAIN ||
                   err == LEAL_E_JOURNAL_TERMINAL
               ? LEAL_OK
               : err;
}

static void count(struct sync_result *r, const struct ledger_terminal_out *o)
{
    switch (o->outcome) {
    case LEDGER_TERMINAL_POSTED:
        r->posted++;
        break;
    case LEDGER_TERMINAL_RECORDED:
        r->recorded++;
        break;
    case LEDGER_TERMINAL_HELD:
        r->held++;
        break;
    default:
        return;
    }
    r->taken++;
    r->undone += o->undone;
    r->cards_flagged += o->card_flagged;
    r->terminal_flagged |= o->terminal_flagged;
}

/* The cards of the next n entries of w (w itself does not move), their
 * rows read at once (ledger_terminal_prefetch). */
static leal_err prefetch(struct ledger *l, const struct walk *w, uint32_t n)
{
    struct walk c = *w;
    int64_t *cards = malloc((size_t)n * sizeof *cards + 1);
    size_t k = 0;
    leal_err err;
    if (cards == NULL)
        return LEAL_E_NO_MEMORY;
    for (uint32_t i = 0; i < n && walk_next(&c) == LEAL_OK; i++)
        if (c.e.card_id != 0 && c.e.card_id <= INT64_MAX)
            cards[k++] = (int64_t)c.e.card_id;
    err = ledger_terminal_prefetch(l, cards, k);
    free(cards);
    return err;
}

/* One transaction: entries [*done, min(*done + SYNC_BATCH, good)). Stops
 * (*stop) at a conflict or a gap, which ledger_terminal_take recorded. */
static leal_err take_batch(struct ledger *l, const struct ledger_terminal_accounts *acc,
                           struct walk *w, uint32_t good, uint32_t *done, struct sync_result *r)
{
    struct ledger_terminal_out o;
    struct ledger_terminal_in in = {acc, r->info.key_version, &w->e, NULL, 0, false, false};
    struct sync_result before = *r;
    uint32_t end = good - *done > SYNC_BATCH ? *done + SYNC_BATCH : good;
    /* No savepoint per entry: a post the ledger refuses (the entry held)
     * is refused before it writes; any other failure fails the batch. */
    leal_err err = ledger_batch_begin_checked(l);
    /* Under the write lock, one look for the batch's keys: when none is
     * taken (a file imported for the first time), no entry looks for its
     * own. verify() checked that the entries' sequences are these, in order. */
    if (err == LEAL_OK)
        err = ledger_terminal_untaken(l, r->info.terminal_id, r->info.epoch,
                                      r->info.first_seq + *done, r->info.first_seq + end - 1,
                                      &in.untaken);
    if (err == LEAL_OK)
        err = prefetch(l, w, end - *done);
    while (err == LEAL_OK && *done < end && (err = walk_next(w)) == LEAL_OK) {
        in.raw = w->raw;
        in.raw_len = w->raw_len;
        /* verify() checked that each entry after the export's first chains
         * to the one before it, which this loop took (or found taken) last. */
        in.chained = w->e.seq != r->info.first_seq;
        if ((err = ledger_terminal_take(l, &in, &o)) != LEAL_OK)
            break;
        if (o.outcome == LEDGER_TERMINAL_DUPLICATE)
            r->duplicates++;
        count(r, &o);
        if (o.outcome == LEDGER_TERMINAL_CONFLICT || o.outcome == LEDGER_TERMINAL_GAP) {
            r->fault = o.outcome == LEDGER_TERMINAL_GAP ? LEAL_E_SYNC_GAP : LEAL_E_SYNC_CONFLICT;
            r->fault_epoch = w->e.epoch;
            r->fault_seq = w->e.seq;
            r->terminal_flagged = true;
            snprintf(r->why, sizeof r->why, "%s", o.why);
            break;
        }
        (*done)++;
    }
    if (err == LEAL_OK)
        err = ledger_batch_commit(l);
    else
        ledger_batch_rollback(l);
    if (err != LEAL_OK) {
        *r = before; /* nothing of the batch stands */
        snprintf(r->why, sizeof r->why, "%s", ledger_errmsg(l));
    }
    return err;
}

/* The entries [0, good) into the ledger, up to a conflict or a gap. */
static leal_err take(struct ledger *l, const uint8_t *p, size_t len, uint32_t good,
                     struct sync_result *r)
{
    struct ledger_terminal_accounts acc;
    struct walk w = {p, len, JOURNAL_EXPORT_HEADER_LEN, {0}, NULL, 0};
    uint32_t done = 0;
    leal_err err = ledger_terminal_accounts_get(l, r->info.program_id, &acc);
    while (err == LEAL_OK && done < good && r->fault == LEAL_OK)
        err = take_batch(l, &acc, &w, good, &done, r);
    if (err != LEAL_OK)
        return err;
    /* What this import brought may explain entries held before. */
    if ((err = ledger_batch_begin_checked(l)) != LEAL_OK)
        return err;
    if ((err = ledger_terminal_retry_held(l, &acc, &r->held_posted)) != LEAL_OK) {
        ledger_batch_rollback(l);
        r->held_posted = 0;
        return err;
    }
    return ledger_batch_commit(l);
}

/* The fault's finding (naming the card of the entry at fault), and one for
 * each other card an entry after it names (the first entry naming it; up
 * to SYNC_FAULT_CARDS cards): reconciliation blocks those cards
 * (ledger_reconcile.h "tamper"). Their bytes are not authentic; they only
 * say which cards the broken journal is about. */
#define SYNC_FAULT_CARDS 16
static bool already_named(const int64_t *cards, uint32_t n, int64_t first, int64_t card)
{
    for (uint32_t k = 0; k < n; k++)
        if (cards[k] == card)
            return true;
    return card == first;
}

static leal_err cards_at_fault(struct ledger *l, const uint8_t *p, size_t len,
                               const struct sync_result *r, uint32_t good)
{
    struct walk w = {p, len, JOURNAL_EXPORT_HEADER_LEN, {0}, NULL, 0};
    const char *kind = r->fault == LEAL_E_JOURNAL_MAC ? "mac" : "chain";
    uint32_t named = 0, i = 0;
    int64_t card = 0, cards[SYNC_FAULT_CARDS];
    leal_err err;
    /* The entry at fault (none for the export as a whole). */
    while (i <= good && i < r->info.count && walk_next(&w) == LEAL_OK)
        i++;
    if (i == good + 1 && r->fault_seq != 0 && w.e.card_id <= INT64_MAX)
        card = (int64_t)w.e.card_id;
    err = ledger_terminal_finding(l, r->info.terminal_id,
                                  &(struct ledger_terminal_at){r->fault_epoch, r->fault_seq, card},
                                  kind, r->why);
    w = (struct walk){p, len, JOURNAL_EXPORT_HEADER_LEN, {0}, NULL, 0};
    for (i = 0; err == LEAL_OK && i < r->info.count && named < SYNC_FAULT_CARDS; i++) {
        char detail[160];
        if (walk_next(&w) != LEAL_OK)
            break;
        if (i < good || (i == good && r->fault_seq != 0) || w.e.card_id == 0 ||
            w.e.card_id > INT64_MAX || already_named(cards, named, card, (int64_t)w.e.card_id))
            continue;
        cards[named] = (int64_t)w.e.card_id;
        snprintf(detail, sizeof detail,
                 "not taken: in terminal %u's journal from its broken entry (sequence %u) on",
                 r->info.terminal_id, r->fault_seq);
        err = ledger_terminal_finding(
            l, r->info.terminal_id,
            &(struct ledger_terminal_at){w.e.epoch, w.e.seq, (int64_t)w.e.card_id}, kind, detail);
        named++;
    }
    return err;
}

/* A finding for the fault verify found (the terminal is flagged). */
static leal_err record_fault(struct ledger *l, const uint8_t *p, size_t len, struct sync_result *r,
                             uint32_t good)
{
    const char *what =
        r->fault == LEAL_E_JOURNAL_MAC
            ? "its MAC does not verify (altered, damaged, or not this terminal's key)"
        : r->fault == LEAL_E_JOURNAL_CHAIN
            ? "the chain breaks here (an entry missing, repeated or out of order)"
            : "it names another terminal or epoch than its export";
    if (r->fault_seq == 0)
        snprintf(r->why, sizeof r->why,
                 "the export's own MAC does not verify (sequences %u to %u): nothing of it taken",
                 r->info.first_seq, r->info.last_seq);
    else
        snprintf(r->why, sizeof r->why, "%s: nothing taken from it on (the %u before it verify)",
                 what, good);
    r->terminal_flagged = true;
    return cards_at_fault(l, p, len, r, good);
}

leal_err sync_import(struct ledger *l, const struct sync_keys *k, const uint8_t *p, size_t len,
                     struct sync_result *r)
{
    uint8_t key[16];
    uint32_t good = 0;
    leal_err err, fault;
    memset(r, 0, sizeof *r);
    if ((err = journal_export_parse(p, len, &r->info)) != LEAL_OK) {
        snprintf(r->why, sizeof r->why, "%s", "not a terminal journal export, or damaged");
        return err;
    }
    if ((err = terminal_known(l, r)) != LEAL_OK)
        return err;
    if ((err = sync_journal_key(k, r->info.program_id, r->info.terminal_id, r->info.key_version,
                                key)) != LEAL_OK) {
        snprintf(r->why, sizeof r->why,
                 "the keystore has no journal key version %u for program %u: use the keystore "
                 "of the program the terminal belongs to",
                 r->info.key_version, r->info.program_id);
        return err;
    }
    err = verify(k, key, p, len, r, &good);
    leal_wipe(key, sizeof key);
    if (err != LEAL_OK)
        return err;
    fault = r->fault;
    r->fault = LEAL_OK;
    if ((err = take(l, p, len, good, r)) != LEAL_OK)
        return err;
    /* The TMAC entries taken: each TMV checked with its card's tmac key. */
    struct sync_tmac_counts tc;
    if ((err = sync_tmac_check(l, k, r->info.terminal_id, &tc)) != LEAL_OK)
        return err;
    r->tmac_checked = tc.checked;
    r->tmac_bad = tc.bad;
    if (r->fault != LEAL_OK)
        return r->fault;
    if ((r->fault = fault) == LEAL_OK)
        return LEAL_OK;
    /* The fault's findings commit together: one by one, a process killed
     * between two of them left the fault named but not the cards after it
     * (reconciliation blocked some of them only). */
    if ((err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    if ((err = record_fault(l, p, len, r, good)) != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    if ((err = ledger_batch_commit(l)) != LEAL_OK)
        return err;
    return r->fault;
}

leal_err sync_ack(struct ledger *l, const struct sync_keys *k, int64_t terminal_id,
                  struct journal_ack *a, uint8_t out[JOURNAL_ACK_LEN])
{
    struct ledger_terminal_last last;
    uint8_t key[16];
    int64_t program = 0;
    leal_err err;
    memset(a, 0, sizeof *a);
    if ((err = ledger_terminal_program(l, terminal_id, &program)) != LEAL_OK ||
        (err = ledger_terminal_last_taken(l, terminal_id, &last)) != LEAL_OK)
        return err;
    if (!last.found)
        return LEAL_E_SYNC_NOTHING;
    if ((err = sync_journal_key(k, (uint32_t)program, (uint32_t)terminal_id, last.key_version,
                                key)) != LEAL_OK)
        return err;
    a->key_version = last.key_version;
    a->program_id = (uint32_t)program;
    a->terminal_id = (uint32_t)terminal_id;
    a->epoch = last.epoch;
    a->seq = last.seq;
    memcpy(a->entry_mac, last.mac, JOURNAL_MAC_LEN);
    err = journal_ack_encode(k->cp, key, a, out);
    leal_wipe(key, sizeof key);
    return err;
}
