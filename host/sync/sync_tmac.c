/* sync_tmac.c - the TMVs terminals journaled, checked with the cards' tmac keys (sync_tmac.h). */
#include "sync_tmac.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlayout/desfire/desfire_card.h"
#include "cardlayout/desfire/desfire_tmac.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/state.h"
#include "host/ledger/ledger_tmac.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/derive.h"

#define TODO_BATCH 64

struct verdict {
    const char *v;
    char detail[LEDGER_TMAC_DETAIL];
};

/* Whether the card's tmac key, diversified from its UID or from its card
 * id, gives tmv over tmi; *keyed false when there is no key to try. */
static leal_err tmv_holds(const struct sync_keys *k, const struct ledger_card *c,
                          uint8_t key_version, const struct journal_tmac *m, bool *holds,
                          struct verdict *out)
{
    const struct key_version *kv;
    struct desfire_tmi tmi_buf, *tmi = &tmi_buf;
    uint8_t key[16], want[DESFIRE_TMV_LEN], cid[8];
    leal_err err;
    *holds = false;
    if ((err = journal_tmac_tmi(m, tmi)) != LEAL_OK)
        return err;
    if (keyset_version(k->ks, (uint32_t)c->program_id, KEY_ROLE_TMAC, key_version, &kv) !=
        LEAL_OK) {
        out->v = LEDGER_TMAC_UNCHECKED;
        snprintf(out->detail, sizeof out->detail,
                 "the keystore has no tmac key version %u for program %lld", key_version,
                 (long long)c->program_id);
        return LEAL_OK;
    }
    if (c->uid_len != 7) {
        out->v = LEDGER_TMAC_UNCHECKED;
        snprintf(out->detail, sizeof out->detail,
                 "the ledger has no 7-byte UID for the card (its TMV names it)");
        return LEAL_OK;
    }
    store_be64(cid, (uint64_t)c->card_id);
    for (int div = 0; div < 2 && !*holds; div++) {
        struct derive_card_input in = {div == 0 ? c->uid : cid, div == 0 ? c->uid_len : 8,
                                       desfire_card_leal_aid, k->ks->issuer_id,
                                       (uint32_t)c->program_id};
        if ((err = derive_card_key(k->cp, kv->key, &in, key)) != LEAL_OK ||
            (err = desfire_tmv(k->cp, key, m->tmc, c->uid, tmi, want)) != LEAL_OK) {
            leal_wipe(key, sizeof key);
            return err;
        }
        *holds = leal_ct_equal(want, m->tmv, DESFIRE_TMV_LEN);
    }
    leal_wipe(key, sizeof key);
    return LEAL_OK;
}

/* The net change of a host line (JOURNAL.md): not part of the entry's points. */
static int64_t host_points(const struct journal_entry *e)
{
    const struct journal_line *h = e->n_lines ? &e->lines[e->n_lines - 1] : NULL;
    return h != NULL && h->source == JOURNAL_LINE_HOST ? h->points : 0;
}

/* What the card MACed against what the operation entry op says of it. */
static void compare(const struct journal_entry *t, const struct journal_tmac *m,
                    const struct journal_entry *op, struct verdict *out)
{
    struct state_body before, after;
    uint64_t cid_before = 0, cid_after = 0;
    uint8_t ver, fb[STATE_FILE_MAX], fa[STATE_FILE_MAX];
    size_t nb = 0, na = 0;
    int32_t mirror_before = 0, mirror_after = 0;
    const char *what = NULL;
    out->v = LEDGER_TMAC_OK;
    if (journal_tmac_state(m, false, fb, &nb) != LEAL_OK ||
        state_file_decode_mirror(fb, nb, &ver, &cid_before, &before, &mirror_before) != LEAL_OK)
        what = "the state it read does not decode";
    else if ((m->flags & JOURNAL_TMAC_STATE_WRITTEN) &&
             (journal_tmac_state(m, true, fa, &na) != LEAL_OK ||
              state_file_decode_mirror(fa, na, &ver, &cid_after, &after, &mirror_after) != LEAL_OK))
        what = "the state it wrote does not decode";
    else if (op->card_kind != JOURNAL_CARD_DESFIRE || op->card_id != t->card_id ||
             cid_before != t->card_id)
        what = "card id";
    else if (t->counter_before != op->counter_before || t->counter_after != op->counter_after)
        what = "counter";
    else if ((m->flags & JOURNAL_TMAC_NO_COUNTER) != 0 /* the TMC stood for it: none read */
                 ? op->counter_before != JOURNAL_COUNTER_NONE ||
                       op->counter_after != JOURNAL_COUNTER_NONE
                 : op->counter_before != (uint32_t)(LAYOUT_COUNTER_START - m->counter) ||
                       op->counter_after != op->counter_before + 1)
        what = "counter";
    else if ((m->flags & JOURNAL_TMAC_STATE_WRITTEN) &&
             (op->points_after != after.points || op->tier_after != after.tier ||
              memcmp(op->stamps_after, after.stamps, STATE_STAMPS) != 0))
        what = "points, tier or stamps after";
    else if ((m->flags & JOURNAL_TMAC_STATE_WRITTEN) &&
             op->points + host_points(op) != (int64_t)after.points - (int64_t)before.points)
        what = "points";
    else if ((m->flags & (JOURNAL_TMAC_DEBIT | JOURNAL_TMAC_LIMITED_CREDIT)) != 0 &&
             op->purse_cents != (uint32_t)m->purse_moved)
        what = "purse";
    else if ((m->flags & (JOURNAL_TMAC_DEBIT | JOURNAL_TMAC_LIMITED_CREDIT)) == 0 &&
             op->purse_cents != 0)
        what = "purse";
    else if ((m->flags & (JOURNAL_TMAC_PURSE_READ | JOURNAL_TMAC_MIRROR)) &&
             (int64_t)op->purse_after !=
                 (int64_t)m->purse + ((m->flags & JOURNAL_TMAC_DEBIT)            ? -m->purse_moved
                                      : (m->flags & JOURNAL_TMAC_LIMITED_CREDIT) ? m->purse_moved
                                                                                 : 0))
        what = "purse after";
    if (what == NULL)
        return;
    out->v = LEDGER_TMAC_ALTERED;
    snprintf(out->detail, sizeof out->detail,
             "card %llu committed TMC %u (its TMV holds), but the operation entry sequence %u "
             "says another %s than the card committed: the entry was altered after the commit",
             (unsigned long long)t->card_id, m->tmc, op->seq, what);
}

/* One TMAC entry's verdict. */
static leal_err judge(struct ledger *l, const struct sync_keys *k,
                      const struct ledger_tmac_todo *td, const struct journal_entry *t,
                      const struct journal_tmac *m, struct verdict *out)
{
    uint8_t versions[LEDGER_KEY_ROLES], raw[JOURNAL_ENTRY_MAX];
    struct journal_entry op;
    struct ledger_card c;
    struct ledger_tmac_key key = {td->terminal_id, td->epoch, td->seq};
    struct ledger_tmac_where other;
    size_t len = 0;
    bool found = false, holds = false;
    leal_err err;

    out->v = LEDGER_TMAC_OK;
    out->detail[0] = '\0';
    if ((err = ledger_tmac_other(l, (int64_t)t->card_id, m->tmc, &key, &other)) != LEAL_OK)
        return err;
    if (other.found) {
        out->v = LEDGER_TMAC_REPLAY;
        snprintf(out->detail, sizeof out->detail,
                 "card %llu's TMC %u is also in %s: the card steps it at every commit, so one "
                 "of them is a replay",
                 (unsigned long long)t->card_id, m->tmc, other.text);
        return LEAL_OK;
    }
    err = ledger_card_find_by_id(l, (int64_t)t->card_id, &c);
    if (err == LEAL_E_UNKNOWN_ID) {
        out->v = LEDGER_TMAC_UNCHECKED;
        snprintf(out->detail, sizeof out->detail, "card %llu is not in the ledger",
                 (unsigned long long)t->card_id);
        return LEAL_OK;
    }
    if (err != LEAL_OK || (err = ledger_card_keys_get(l, c.card_id, versions)) != LEAL_OK)
        return err;
    if (versions[KEY_ROLE_TMAC - 1] == 0) {
        out->v = LEDGER_TMAC_UNCHECKED;
        snprintf(out->detail, sizeof out->detail, "the ledger records no tmac key for card %llu",
                 (unsigned long long)c.card_id);
        return LEAL_OK;
    }
    if ((err = tmv_holds(k, &c, versions[KEY_ROLE_TMAC - 1], m, &holds, out)) != LEAL_OK ||
        strcmp(out->v, LEDGER_TMAC_UNCHECKED) == 0)
        return err;
    if (!holds) {
        out->v = LEDGER_TMAC_FORGED;
        snprintf(out->detail, sizeof out->detail,
                 "card %llu's TMV for TMC %u is not the card's over what the journal says: the "
                 "card did not commit that transaction (invented or rewritten)",
                 (unsigned long long)c.card_id, m->tmc);
        return LEAL_OK;
    }
    key.epoch = t->ref_epoch;
    key.seq = t->ref_seq;
    if ((err = ledger_tmac_entry(l, &key, raw, &len, &found)) != LEAL_OK)
        return err;
    if (!found || journal_entry_decode(raw, len, &op) != LEAL_OK) {
        out->v = LEDGER_TMAC_ALTERED;
        snprintf(out->detail, sizeof out->detail,
                 "card %llu committed TMC %u, but the operation entry it names (sequence %u) is "
                 "not in the journal",
                 (unsigned long long)c.card_id, m->tmc, t->ref_seq);
        return LEAL_OK;
    }
    compare(t, m, &op, out);
    return LEAL_OK;
}

leal_err sync_tmac_check(struct ledger *l, const struct sync_keys *k, int64_t terminal_id,
                         struct sync_tmac_counts *out)
{
    struct ledger_tmac_todo *td = malloc(TODO_BATCH * sizeof *td);
    leal_err err = LEAL_OK;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (td == NULL)
        return LEAL_E_NO_MEMORY;
    /* A look first, outside a write transaction: an import with no TMAC
     * entry (every EV1 and Classic terminal) takes no lock and commits
     * nothing more. The batch below reads again under its lock. */
    if ((err = ledger_tmac_todo(l, terminal_id, td, 1, &n)) != LEAL_OK || n == 0) {
        free(td);
        return err;
    }
    do {
        if ((err = ledger_batch_begin(l)) != LEAL_OK)
            break;
        err = ledger_tmac_todo(l, terminal_id, td, TODO_BATCH, &n);
        for (size_t i = 0; err == LEAL_OK && i < n; i++) {
            struct journal_entry t;
            struct journal_tmac m;
            struct verdict v = {LEDGER_TMAC_OK, ""};
            if (journal_entry_decode(td[i].raw, td[i].raw_len, &t) != LEAL_OK ||
                journal_tmac_get(&t, &m) != LEAL_OK) {
                err = LEAL_E_JOURNAL_MALFORMED; /* taken, so MACed and decoded once */
                break;
            }
            if ((err = judge(l, k, &td[i], &t, &m, &v)) == LEAL_OK) {
                struct ledger_tmac_row row = {{td[i].terminal_id, td[i].epoch, td[i].seq},
                                              (int64_t)t.card_id,
                                              m.tmc,
                                              {0},
                                              v.v,
                                              v.detail};
                memcpy(row.tmv, m.tmv, sizeof row.tmv);
                err = ledger_tmac_record(l, &row);
            }
            out->checked++;
            out->bad += strcmp(v.v, LEDGER_TMAC_OK) != 0 && strcmp(v.v, LEDGER_TMAC_UNCHECKED) != 0;
        }
        if (err == LEAL_OK)
            err = ledger_batch_commit(l);
        else
            ledger_batch_rollback(l);
    } while (err == LEAL_OK && n == TODO_BATCH);
    free(td);
    return err;
}
