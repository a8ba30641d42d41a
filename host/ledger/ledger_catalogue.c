/*
 * ledger_catalogue.c - adding and removing catalogue items in a rule set
 * (see ledger_catalogue.h).
 */
#include "host/ledger/ledger_catalogue.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static leal_err refuse(struct ledger_cat_why *why, leal_err err, const char *fmt, uint32_t a,
                       uint32_t b)
{
    why->fmt = fmt;
    why->a = a;
    why->b = b;
    return err;
}

/* The part's names and count. */
static const char (*names_of(const struct ledger_rules *r, enum ledger_cat_part part,
                             unsigned *n))[LEDGER_RULES_NAME]
{
    switch (part) {
    case LEDGER_CAT_TIER:
        *n = r->set.program.n_tiers;
        return r->tier_name;
    case LEDGER_CAT_REWARD:
        *n = r->set.program.n_rewards;
        return r->reward_name;
    case LEDGER_CAT_STAMP:
        *n = r->set.program.n_stamps;
        return r->stamp_name;
    case LEDGER_CAT_BONO:
        *n = r->set.n_bonos;
        return r->bono_name;
    }
    *n = 0;
    return NULL;
}

/* The number a person calls item i of part: tiers and stamp cards by position, others by id. */
static uint32_t number_of(const struct ledger_rules *r, enum ledger_cat_part part, unsigned i)
{
    if (part == LEDGER_CAT_REWARD)
        return r->set.program.rewards[i].id;
    if (part == LEDGER_CAT_BONO)
        return r->set.bonos[i].id;
    return i + 1;
}

leal_err ledger_cat_name_free(const struct ledger_rules *r, enum ledger_cat_part part, int self,
                              const char *name, struct ledger_cat_why *why)
{
    static const char *const taken[] = {
        "tier %u already has that name", "reward %u already has that name",
        "stamp card %u already has that name", "bono %u already has that name"};
    unsigned n;
    const char(*names)[LEDGER_RULES_NAME] = names_of(r, part, &n);
    if (names == NULL || name == NULL || why == NULL)
        return LEAL_E_ARG;
    for (unsigned i = 0; name[0] && i < n; i++)
        if ((int)i != self && strcasecmp(names[i], name) == 0)
            return refuse(why, LEAL_E_RULES_PROGRAM, taken[part], number_of(r, part, i), 0);
    return LEAL_OK;
}

/* The first unused id above every id in ids (a stride apart). */
static uint32_t next_id(const uint32_t *ids, size_t stride, unsigned n)
{
    uint32_t top = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, (const unsigned char *)ids + stride * i, sizeof v);
        top = v > top ? v : top;
    }
    return top + 1;
}

static void name_put(char slot[LEDGER_RULES_NAME], const char *name)
{
    snprintf(slot, LEDGER_RULES_NAME, "%s", name ? name : "");
}

leal_err ledger_cat_tier_add(struct ledger_rules *r, const struct rules_tier *t, const char *name,
                             uint32_t *made, struct ledger_cat_why *why)
{
    struct rules_program *p = &r->set.program;
    unsigned at = 0;
    leal_err err;
    if (t == NULL || made == NULL)
        return LEAL_E_ARG;
    if ((err = ledger_cat_name_free(r, LEDGER_CAT_TIER, -1, name, why)) != LEAL_OK)
        return err;
    if (p->n_tiers >= RULES_MAX_TIERS)
        return refuse(why, LEAL_E_RULES_PROGRAM, "there are %u tiers already (the most)",
                      RULES_MAX_TIERS, 0);
    while (at < p->n_tiers && p->tiers[at].threshold_units < t->threshold_units)
        at++;
    if (at < p->n_tiers && p->tiers[at].threshold_units == t->threshold_units)
        return refuse(why, LEAL_E_RULES_PROGRAM, "tier %u already starts at %u euros", at + 1,
                      t->threshold_units);
    memmove(&p->tiers[at + 1], &p->tiers[at], (p->n_tiers - at) * sizeof p->tiers[0]);
    memmove(r->tier_name[at + 1], r->tier_name[at], (p->n_tiers - at) * LEDGER_RULES_NAME);
    p->tiers[at] = *t;
    name_put(r->tier_name[at], name);
    p->n_tiers++;
    for (unsigned i = 0; i < p->n_rewards; i++)
        if (p->rewards[i].min_tier > at)
            p->rewards[i].min_tier++;
    *made = at + 1;
    return LEAL_OK;
}

leal_err ledger_cat_tier_remove(struct ledger_rules *r, uint32_t k, struct ledger_cat_why *why)
{
    struct rules_program *p = &r->set.program;
    if (k < 1 || k > p->n_tiers)
        return refuse(why, LEAL_E_UNKNOWN_ID, "there is no tier %u", k, 0);
    for (unsigned i = 0; i < p->n_rewards; i++)
        if (p->rewards[i].min_tier == k)
            return refuse(why, LEAL_E_RULES_PROGRAM,
                          "reward %u asks for tier %u; remove it or the tier stays",
                          p->rewards[i].id, k);
    for (unsigned i = 0; i < p->n_rewards; i++)
        if (p->rewards[i].min_tier > k)
            p->rewards[i].min_tier--;
    memmove(&p->tiers[k - 1], &p->tiers[k], (p->n_tiers - k) * sizeof p->tiers[0]);
    memmove(r->tier_name[k - 1], r->tier_name[k], (p->n_tiers - k) * LEDGER_RULES_NAME);
    p->n_tiers--;
    memset(&p->tiers[p->n_tiers], 0, sizeof p->tiers[0]);
    memset(r->tier_name[p->n_tiers], 0, LEDGER_RULES_NAME);
    return LEAL_OK;
}

leal_err ledger_cat_reward_add(struct ledger_rules *r, const struct rules_reward *w,
                               const char *name, uint32_t *made, struct ledger_cat_why *why)
{
    struct rules_program *p = &r->set.program;
    leal_err err;
    if (w == NULL || made == NULL)
        return LEAL_E_ARG;
    if ((err = ledger_cat_name_free(r, LEDGER_CAT_REWARD, -1, name, why)) != LEAL_OK)
        return err;
    if (p->n_rewards >= RULES_MAX_REWARDS)
        return refuse(why, LEAL_E_RULES_PROGRAM, "there are %u rewards already (the most)",
                      RULES_MAX_REWARDS, 0);
    for (unsigned i = 0; w->id && i < p->n_rewards; i++)
        if (p->rewards[i].id == w->id)
            return refuse(why, LEAL_E_RULES_PROGRAM, "there is a reward %u already", w->id, 0);
    p->rewards[p->n_rewards] = *w;
    if (w->id == 0)
        p->rewards[p->n_rewards].id =
            next_id(&p->rewards[0].id, sizeof p->rewards[0], p->n_rewards);
    name_put(r->reward_name[p->n_rewards], name);
    *made = p->rewards[p->n_rewards].id;
    p->n_rewards++;
    return LEAL_OK;
}

leal_err ledger_cat_reward_remove(struct ledger_rules *r, uint32_t id, struct ledger_cat_why *why)
{
    struct rules_program *p = &r->set.program;
    unsigned i = 0;
    while (i < p->n_rewards && p->rewards[i].id != id)
        i++;
    if (i == p->n_rewards)
        return refuse(why, LEAL_E_UNKNOWN_ID, "there is no reward %u", id, 0);
    for (unsigned s = 0; s < p->n_stamps; s++)
        if (p->stamps[s].reward_id == id)
            return refuse(why, LEAL_E_RULES_PROGRAM,
                          "stamp card %u hands over reward %u; remove it or the reward stays",
                          s + 1, id);
    p->n_rewards--;
    memmove(&p->rewards[i], &p->rewards[i + 1], (p->n_rewards - i) * sizeof p->rewards[0]);
    memmove(r->reward_name[i], r->reward_name[i + 1], (p->n_rewards - i) * LEDGER_RULES_NAME);
    memset(&p->rewards[p->n_rewards], 0, sizeof p->rewards[0]);
    memset(r->reward_name[p->n_rewards], 0, LEDGER_RULES_NAME);
    return LEAL_OK;
}

leal_err ledger_cat_stamp_add(struct ledger_rules *r, const struct rules_stamp *s, const char *name,
                              uint32_t *made, struct ledger_cat_why *why)
{
    struct rules_program *p = &r->set.program;
    unsigned i = 0;
    leal_err err;
    if (s == NULL || made == NULL)
        return LEAL_E_ARG;
    if ((err = ledger_cat_name_free(r, LEDGER_CAT_STAMP, -1, name, why)) != LEAL_OK)
        return err;
    if (p->n_stamps >= RULES_STAMP_CARDS)
        return refuse(why, LEAL_E_RULES_PROGRAM,
                      "there are %u stamp cards already (what a card holds)", RULES_STAMP_CARDS, 0);
    while (i < p->n_rewards && p->rewards[i].id != s->reward_id)
        i++;
    if (i == p->n_rewards)
        return refuse(why, LEAL_E_RULES_PROGRAM,
                      "there is no reward %u for the stamp card to hand over", s->reward_id, 0);
    p->stamps[p->n_stamps] = *s;
    name_put(r->stamp_name[p->n_stamps], name);
    p->n_stamps++;
    *made = p->n_stamps;
    return LEAL_OK;
}

leal_err ledger_cat_stamp_remove(struct ledger_rules *r, uint32_t k, struct ledger_cat_why *why)
{
    struct rules_program *p = &r->set.program;
    if (k < 1 || k > p->n_stamps)
        return refuse(why, LEAL_E_UNKNOWN_ID, "there is no stamp card %u", k, 0);
    if (k != p->n_stamps)
        return refuse(why, LEAL_E_RULES_PROGRAM,
                      "only the last stamp card (%u) can be removed: cards keep their stamps "
                      "by position",
                      p->n_stamps, 0);
    p->n_stamps--;
    memset(&p->stamps[p->n_stamps], 0, sizeof p->stamps[0]);
    memset(r->stamp_name[p->n_stamps], 0, LEDGER_RULES_NAME);
    return LEAL_OK;
}

leal_err ledger_cat_bono_add(struct ledger_rules *r, const struct rules_bono_kind *b,
                             const char *name, uint32_t *made, struct ledger_cat_why *why)
{
    struct rules_set *s = &r->set;
    leal_err err;
    if (b == NULL || made == NULL)
        return LEAL_E_ARG;
    if ((err = ledger_cat_name_free(r, LEDGER_CAT_BONO, -1, name, why)) != LEAL_OK)
        return err;
    if (s->n_bonos >= RULES_MAX_BONO_KINDS)
        return refuse(why, LEAL_E_RULES_PROGRAM, "there are %u bono kinds already (the most)",
                      RULES_MAX_BONO_KINDS, 0);
    for (unsigned i = 0; b->id && i < s->n_bonos; i++)
        if (s->bonos[i].id == b->id)
            return refuse(why, LEAL_E_RULES_PROGRAM, "there is a bono %u already", b->id, 0);
    s->bonos[s->n_bonos] = *b;
    if (b->id == 0)
        s->bonos[s->n_bonos].id = next_id(&s->bonos[0].id, sizeof s->bonos[0], s->n_bonos);
    name_put(r->bono_name[s->n_bonos], name);
    *made = s->bonos[s->n_bonos].id;
    s->n_bonos++;
    return LEAL_OK;
}

leal_err ledger_cat_bono_remove(struct ledger_rules *r, uint32_t id, struct ledger_cat_why *why)
{
    struct rules_set *s = &r->set;
    unsigned i = 0;
    while (i < s->n_bonos && s->bonos[i].id != id)
        i++;
    if (i == s->n_bonos)
        return refuse(why, LEAL_E_UNKNOWN_ID, "there is no bono %u", id, 0);
    s->n_bonos--;
    memmove(&s->bonos[i], &s->bonos[i + 1], (s->n_bonos - i) * sizeof s->bonos[0]);
    memmove(r->bono_name[i], r->bono_name[i + 1], (s->n_bonos - i) * LEDGER_RULES_NAME);
    memset(&s->bonos[s->n_bonos], 0, sizeof s->bonos[0]);
    memset(r->bono_name[s->n_bonos], 0, LEDGER_RULES_NAME);
    return LEAL_OK;
}
