/* issuance_bono.c - the ledger's side of bonos at the desk (issuance_bono.h). */
#include "issuance_bono.h"

#include <stdio.h>
#include <string.h>

#include "cardlayout/layout.h"
#include "keys/base/ct.h"

leal_err issuance_settle_bono(struct issuance *is, const struct ledger_card *lc,
                              struct issuance_card *out, char *why, size_t why_len)
{
    struct ledger_bono_intent p;
    uint8_t shown[BONO_FILE_LEN];
    bool found = false, replayed = false;
    int64_t entry;
    leal_err err = ledger_bono_intent_get(is->ledger, lc->card_id, &p, &found);
    if (err != LEAL_OK || !found)
        return err;
    /* A version-1 card shows no bono file: it never took a bono write. */
    if (bono_file_encode(&out->bonos, shown) != LEAL_OK)
        memset(shown, 0, sizeof shown);
    if ((int64_t)out->taps == p.seq_after && out->layout_version >= LAYOUT_VERSION_BONOS &&
        leal_ct_equal(shown, p.file_after, BONO_FILE_LEN)) {
        if ((err = ledger_bono_intent_settle(is->ledger, &p, &entry, &replayed)) != LEAL_OK)
            return err;
        out->bonos_settled += !replayed;
        return LEAL_OK;
    }
    if ((int64_t)out->taps == p.seq_before) {
        if ((err = ledger_bono_intent_drop(is->ledger, lc->card_id, p.request_id)) != LEAL_OK)
            return err;
        out->bonos_dropped++;
        return LEAL_OK;
    }
    out->bono_unsettled = true;
    snprintf(why, why_len,
             "a bono %s of bono %u (taps %lld to %lld) is neither on the card nor undone: the "
             "card shows %u taps",
             p.sessions > 0 ? "sale" : "use", p.bono_id, (long long)p.seq_before,
             (long long)p.seq_after, out->taps);
    return LEAL_OK;
}

leal_err issuance_judge_bonos(struct issuance *is, const struct ledger_card *lc,
                              struct issuance_card *out, char *verdict, size_t verdict_len)
{
    verdict[0] = '\0';
    if (out->bono_unsettled || out->layout_version < LAYOUT_VERSION_BONOS)
        return LEAL_OK;
    for (int i = 0; i < BONO_SLOTS; i++) {
        const struct bono_slot *b = &out->bonos.slot[i];
        int64_t held, deferred, expired = 0;
        leal_err err;
        if (b->id == 0)
            continue;
        if ((err = ledger_bono_held(is->ledger, lc->account_id, b->id, &held, &deferred)) !=
            LEAL_OK)
            return err;
        /* An expired slot keeps on the card the sessions the sweep took off
         * the ledger (ledger_bono_expire): no terminal uses them. */
        if ((int64_t)b->sessions > held && b->last_day != 0 &&
            (err = ledger_bono_expired_sessions(is->ledger, lc->account_id, b->id, b->last_day,
                                                &expired)) != LEAL_OK)
            return err;
        if ((int64_t)b->sessions > held + expired) {
            snprintf(verdict, verdict_len,
                     "it shows %u sessions of bono %u, more than the %lld the ledger holds for "
                     "account %lld (sold less used)",
                     b->sessions, b->id, (long long)held, (long long)lc->account_id);
            return LEAL_OK;
        }
        if (expired == 0 && (int64_t)b->sessions < held)
            out->offline_sessions += held - b->sessions;
        if (held > 0 && (err = ledger_bono_seen(is->ledger, lc->account_id, b->id, b->sessions,
                                                b->last_day)) != LEAL_OK)
            return err;
    }
    return LEAL_OK;
}

leal_err issuance_bono_room(const struct issuance_card *out, int64_t expect_card_id)
{
    if (out->ledger.card_id == 0)
        return LEAL_E_CARD_NOT_LEAL;
    if (expect_card_id != 0 && out->card_id != expect_card_id)
        return LEAL_E_CARD_UNKNOWN;
    if (out->ledger.status != LEDGER_CARD_ACTIVE)
        return LEAL_E_CARD_BLOCKED;
    if (out->unsettled)
        return LEAL_E_CARD_TOPUP_UNSETTLED;
    if (out->bono_unsettled)
        return LEAL_E_CARD_BONO_UNSETTLED;
    if (out->layout_version < LAYOUT_VERSION_BONOS)
        return LEAL_E_LAYOUT_VERSION;
    return LEAL_OK;
}

leal_err issuance_bono_sale_plan(const struct issuance_card *out,
                                 const struct issuance_bono_sale *sale, struct bono_file *next,
                                 struct ledger_bono_intent *p)
{
    leal_err err;
    int slot;
    if (sale->bono_id == 0 || sale->sessions == 0 || sale->price_cents < 0 ||
        sale->price_cents > LEDGER_PURSE_CAP_MAX)
        return LEAL_E_ARG;
    *next = out->bonos;
    if ((slot = bono_file_find(next, sale->bono_id)) >= 0 && sale->today != 0 &&
        next->slot[slot].last_day != 0 && next->slot[slot].last_day < sale->today)
        next->slot[slot] = (struct bono_slot){0, 0, 0}; /* expired: the sale starts it again */
    if ((err = bono_file_add(next, sale->bono_id, sale->sessions, sale->last_day)) != LEAL_OK ||
        (err = bono_file_encode(next, p->file_after)) != LEAL_OK)
        return err;
    p->card_id = out->card_id;
    p->bono_id = sale->bono_id;
    p->sessions = sale->sessions;
    p->cents = sale->price_cents;
    return LEAL_OK;
}

leal_err issuance_bono_use_plan(struct issuance *is, const struct issuance_card *out,
                                uint32_t bono_id, const struct rules_civil *today,
                                struct bono_file *next, struct ledger_bono_intent *p)
{
    int slot = bono_file_find(&out->bonos, bono_id);
    int64_t held, deferred;
    uint16_t left;
    leal_err err;
    if (bono_id == 0 || slot < 0)
        return LEAL_E_RULES_BONO_EMPTY; /* the card has none of it */
    if ((err = rules_bono_use(out->bonos.slot[slot].sessions, out->bonos.slot[slot].last_day, today,
                              &left)) != LEAL_OK ||
        (err = ledger_bono_held(is->ledger, out->ledger.account_id, bono_id, &held, &deferred)) !=
            LEAL_OK)
        return err;
    if (held < 1)
        return LEAL_E_RULES_BONO_EMPTY; /* all used at terminals, not yet imported */
    *next = out->bonos;
    next->slot[slot].sessions = left;
    if ((err = bono_file_encode(next, p->file_after)) != LEAL_OK)
        return err;
    p->card_id = out->card_id;
    p->bono_id = bono_id;
    p->sessions = -1;
    p->cents = ledger_bono_use_cents(held, deferred);
    return LEAL_OK;
}
