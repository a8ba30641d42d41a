/* package_build.c - a terminal package from the ledger (package_build.h). */
#include "package_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_host_change.h"
#include "host/ledger/ledger_qr.h"
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_sale.h"
#include "host/ledger/ledger_terminal.h"
#include "host/ledger/ledger_tmac.h"
#include "host/package/package_zone.h"
#include "keys/keyset.h"
#include "keys/base/limits.h"
#include "keys/hosted/provider_openssl.h"

struct lists {
    struct ledger *l;
    struct package_hot *hot;
    uint32_t nhot, hot_cap;
    struct package_floor *floors;
    uint32_t nfloors, floors_cap;
    struct package_pending *pending;
    uint32_t npending, pending_cap;
    leal_err err;
    /* What a phone's tier is reckoned with (phone_tier), with l. */
    const struct rules_program *rules;
    const char *timezone; /* the terminal's store's */
    int64_t now;          /* the package's build time */
    uint32_t store_id;
};

/* Grows *p (n used of *cap) to hold one more of size each. */
static int grow(void **p, uint32_t n, uint32_t *cap, size_t each, uint32_t limit)
{
    void *q;
    uint32_t c;
    if (n < *cap)
        return 0;
    if (n >= limit)
        return -1;
    c = *cap ? *cap * 2 : 256;
    if (c > limit)
        c = limit;
    if ((q = realloc(*p, (size_t)c * each)) == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static bool is_desfire(enum ledger_card_tech t)
{
    return t == LEDGER_TECH_DESFIRE_EV1 || t == LEDGER_TECH_DESFIRE_EV2 ||
           t == LEDGER_TECH_DESFIRE_EV3;
}

static bool is_classic(enum ledger_card_tech t)
{
    return t == LEDGER_TECH_CLASSIC_1K || t == LEDGER_TECH_CLASSIC_4K;
}

static int add_card(void *ctx, const struct ledger_package_card *c)
{
    struct lists *s = ctx;
    uint8_t reason = 0;
    if (c->card_id <= 0) {
        s->err = LEAL_E_RANGE;
        return 1;
    }
    if (c->status == LEDGER_CARD_BLOCKED)
        reason = PACKAGE_HOT_BLOCKED;
    else if (c->status == LEDGER_CARD_LOST)
        reason = PACKAGE_HOT_LOST;
    else if (c->status == LEDGER_CARD_REPLACED)
        reason = PACKAGE_HOT_REPLACED;
    if (reason) {
        if (grow((void **)&s->hot, s->nhot, &s->hot_cap, sizeof *s->hot, PACKAGE_MAX_HOT) != 0) {
            s->err = s->nhot >= PACKAGE_MAX_HOT ? LEAL_E_PACKAGE_MALFORMED : LEAL_E_NO_MEMORY;
            return 1;
        }
        s->hot[s->nhot].card_id = (uint64_t)c->card_id;
        s->hot[s->nhot++].reason = reason;
        return 0;
    }
    if (c->status != LEDGER_CARD_ACTIVE || (!is_desfire(c->tech) && !is_classic(c->tech)))
        return 0;
    if (c->last_counter < 0 || c->last_counter > UINT32_MAX ||
        (c->has_seen_seq && (c->seen_seq < 0 || c->seen_seq > UINT32_MAX))) {
        s->err = LEAL_E_RANGE;
        return 1;
    }
    if (grow((void **)&s->floors, s->nfloors, &s->floors_cap, sizeof *s->floors,
             PACKAGE_MAX_FLOORS) != 0) {
        s->err = s->nfloors >= PACKAGE_MAX_FLOORS ? LEAL_E_PACKAGE_MALFORMED : LEAL_E_NO_MEMORY;
        return 1;
    }
    /* What the host last saw: the desk's read, or a terminal's read in an
     * imported journal, whichever is further on (a restored dump of the card
     * as it was before either is behind it). */
    int64_t seen = 0;
    if ((s->err = ledger_card_read_taps(s->l, c->card_id, &seen)) != LEAL_OK)
        return 1;
    if (seen > UINT32_MAX) {
        s->err = LEAL_E_RANGE;
        return 1;
    }
    struct package_floor *f = &s->floors[s->nfloors++];
    memset(f, 0, sizeof *f);
    f->card_id = (uint64_t)c->card_id;
    f->kind = is_desfire(c->tech) ? PACKAGE_FLOOR_DESFIRE : PACKAGE_FLOOR_CLASSIC;
    f->taps = (uint32_t)(seen > c->last_counter ? seen : c->last_counter);
    /* Issuance recorded the chip from GetVersion under an originality check. */
    if (c->tech == LEDGER_TECH_DESFIRE_EV2 || c->tech == LEDGER_TECH_DESFIRE_EV3) {
        uint8_t v[LEDGER_KEY_ROLES];
        f->flags = PACKAGE_FLOOR_EV2;
        /* Issued with the Transaction MAC file (its tmac key recorded). */
        if ((s->err = ledger_card_keys_get(s->l, c->card_id, v)) != LEAL_OK)
            return 1;
        if (v[KEY_ROLE_TMAC - 1] != 0) {
            bool proved = false;
            f->flags |= PACKAGE_FLOOR_TMAC;
            /* The highest TMC the import proved with the card's tmac key, in
             * seq's place (package_floor_tmc): a commit answering one not
             * above it is a copy or a clone. */
            if ((s->err = ledger_tmac_highest(s->l, c->card_id, &f->seq, &proved)) != LEAL_OK)
                return 1;
        }
    }
    /* The SIV tag of the Classic state the desk last saw (a DESFire card's
     * mark is a log record, which an earn tap does not read: no tag). */
    if (is_classic(c->tech) && c->has_seen_seq && c->has_seen_mark) {
        f->flags = PACKAGE_FLOOR_TAG_KNOWN;
        f->seq = (uint32_t)c->seen_seq;
        memcpy(f->tag, c->seen_mark, PACKAGE_FLOOR_TAG_LEN);
    }
    return 0;
}

/* A card's host changes as a pending record, when a terminal can apply
 * them: the card has a floor (active DESFire or Classic, in the walk before)
 * and the figures fit the record. Others wait for the desk. */
static int add_pending(void *ctx, const struct ledger_host_change *c)
{
    struct lists *s = ctx;
    const struct package_floor *floor = NULL;
    for (uint32_t lo = 0, hi = s->nfloors; lo < hi && floor == NULL;) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->floors[mid].card_id == (uint64_t)c->card_id)
            floor = &s->floors[mid];
        else if (s->floors[mid].card_id < (uint64_t)c->card_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (floor == NULL || c->doubt || c->taps < 0 || c->taps > UINT32_MAX || c->upto_entry <= 0 ||
        c->upto_entry > UINT32_MAX || c->points <= INT32_MIN || c->points > INT32_MAX)
        return 0;
    if (grow((void **)&s->pending, s->npending, &s->pending_cap, sizeof *s->pending,
             PACKAGE_MAX_PENDING) != 0) {
        s->err = s->npending >= PACKAGE_MAX_PENDING ? LEAL_E_PACKAGE_MALFORMED : LEAL_E_NO_MEMORY;
        return 1;
    }
    struct package_pending *p = &s->pending[s->npending++];
    *p = (struct package_pending){(uint64_t)c->card_id,
                                  (uint32_t)c->taps,
                                  (uint32_t)c->upto_entry,
                                  (int32_t)c->points,
                                  c->kinds,
                                  0,
                                  0,
                                  0};
    /* A card with the Transaction MAC file whose seq at taps a proved TMAC
     * entry tells: guarded by its state seq too (PACKAGE.md "Exactly once"),
     * so a tap that reads no counter before its write applies it once. */
    if ((floor->flags & PACKAGE_FLOOR_TMAC) && c->seq >= 0) {
        p->kinds |= PACKAGE_CHANGE_AT_SEQ;
        p->seq = (uint32_t)c->seq & PACKAGE_PENDING_SEQ_MASK;
    }
    return 0;
}

/* The account's tier in the package's local period (cardlayout/qr/QR.md
 * "The account's tier"): the tier a sale of 0.00 at the terminal's store at
 * build time would earn at, from the spend window the ledger derives for a
 * sale (ledger_sale_state), as a card tap's is computed from its buckets
 * rolled to the sale's period. */
static leal_err phone_tier(struct lists *s, int64_t account, struct package_pending *p)
{
    struct rules_card rc;
    struct rules_sale sale;
    struct rules_result r;
    leal_err err;
    if (s->rules->n_tiers == 0)
        return LEAL_OK;
    memset(&sale, 0, sizeof sale);
    sale.store_id = s->store_id;
    if ((err = ledger_local_civil(s->timezone, s->now, &sale.local)) != LEAL_OK ||
        (err = ledger_sale_state(s->l, s->rules, account, &sale.local, &rc)) != LEAL_OK ||
        (err = rules_earn(s->rules, &rc, &sale, &r)) != LEAL_OK)
        return err;
    p->tier = r.tier_before;
    p->tier_period = r.tier_before != 0 ? rules_period(&sale.local) : 0;
    return LEAL_OK;
}

/* A phone's points held for its offline redeems, as a QR allowance record
 * (PACKAGE.md "Pending changes"), with its account's tier: the terminal
 * redeems within it. A hold past the record's 31 bits carries what fits
 * (never more than is held). */
static int add_allowance(void *ctx, const struct ledger_qr_holding *h)
{
    struct lists *s = ctx;
    struct package_pending p;
    if (h->newest_entry <= 0 || h->newest_entry > UINT32_MAX || h->points <= 0)
        return 0;
    memset(&p, 0, sizeof p);
    p.card_id = (uint64_t)h->virtual_card_id;
    p.upto_entry = (uint32_t)h->newest_entry;
    p.points = (int32_t)(h->points > INT32_MAX ? INT32_MAX : h->points);
    p.kinds = PACKAGE_CHANGE_QR_ALLOWANCE;
    if ((s->err = phone_tier(s, h->account_id, &p)) != LEAL_OK)
        return 1;
    if (grow((void **)&s->pending, s->npending, &s->pending_cap, sizeof *s->pending,
             PACKAGE_MAX_PENDING) != 0) {
        s->err = s->npending >= PACKAGE_MAX_PENDING ? LEAL_E_PACKAGE_MALFORMED : LEAL_E_NO_MEMORY;
        return 1;
    }
    s->pending[s->npending++] = p;
    return 0;
}

static int pending_cmp(const void *a, const void *b)
{
    const struct package_pending *x = a, *y = b;
    return x->card_id < y->card_id ? -1 : x->card_id > y->card_id;
}

/* What the package carries for cards, at which taps, remembered
 * (ledger_host_change_sent): later packages carry them there only. */
static leal_err record_sent(struct ledger *l, const struct lists *s)
{
    leal_err err = LEAL_OK;
    for (uint32_t i = 0; i < s->npending && err == LEAL_OK; i++) {
        const struct package_pending *p = &s->pending[i];
        if (p->kinds == PACKAGE_CHANGE_QR_ALLOWANCE) /* a hold, not a change */
            continue;
        struct ledger_host_change hc = {
            .card_id = (int64_t)p->card_id, .taps = p->taps, .upto_entry = p->upto_entry};
        err = ledger_host_change_sent(l, &hc);
    }
    return err;
}

/* What a package takes from the program's rule set and the terminal's site. */
struct from_ledger {
    uint8_t rules[RULES_CODEC_MAX_LEN];
    size_t rules_len;
    struct package_name
        names[RULES_MAX_TIERS + RULES_STAMP_CARDS + RULES_MAX_REWARDS + RULES_MAX_BONO_KINDS + 1];
    uint32_t nnames;
    struct package_site site;
    uint32_t rules_version; /* the rule set's version (0: none defined) */
    struct rules_program program;
    char timezone[72]; /* the terminal's store's */
};

/* A name for a till: text cut to PACKAGE_NAME_MAX bytes at a character
 * boundary; an empty name is none. LEAL_E_TEXT if it is not what a package
 * may carry (package_name_text_ok). */
static leal_err add_name(struct from_ledger *f, uint8_t kind, uint32_t item, const char *text)
{
    struct package_name *m = &f->names[f->nnames];
    size_t n = strlen(text);
    if (n == 0)
        return LEAL_OK;
    if (n > PACKAGE_NAME_MAX) {
        n = PACKAGE_NAME_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    if (!package_name_text_ok((const uint8_t *)text, n))
        return LEAL_E_TEXT;
    m->kind = kind;
    m->item = item;
    m->len = (uint8_t)n;
    memcpy(m->text, text, n);
    m->text[n] = 0;
    f->nnames++;
    return LEAL_OK;
}

static int name_order(const void *a, const void *b)
{
    const struct package_name *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

/* The names of the rule set's tiers, stamp cards, rewards and bono kinds,
 * and the store's, in (kind, item) order. */
static leal_err names_section(const struct ledger_rules *r, const struct ledger_terminal_site *ts,
                              struct from_ledger *f)
{
    const struct rules_program *p = &r->set.program;
    leal_err err = LEAL_OK;
    for (uint8_t i = 0; i < p->n_tiers && err == LEAL_OK; i++)
        err = add_name(f, PACKAGE_NAME_TIER, i + 1u, r->tier_name[i]);
    for (uint8_t i = 0; i < p->n_stamps && err == LEAL_OK; i++)
        err = add_name(f, PACKAGE_NAME_STAMP, i, r->stamp_name[i]);
    for (uint8_t i = 0; i < p->n_rewards && err == LEAL_OK; i++)
        err = add_name(f, PACKAGE_NAME_REWARD, p->rewards[i].id, r->reward_name[i]);
    for (uint8_t i = 0; i < r->set.n_bonos && err == LEAL_OK; i++)
        err = add_name(f, PACKAGE_NAME_BONO, r->set.bonos[i].id, r->bono_name[i]);
    if (err == LEAL_OK)
        err = add_name(f, PACKAGE_NAME_STORE, (uint32_t)ts->store_id, ts->store_name);
    qsort(f->names, f->nnames, sizeof f->names[0], name_order);
    return err;
}

/* The program's current rule set in rules_codec's encoding (version 0, the
 * base rate alone, when none is defined), the names, and the site: the
 * terminal's store, its zone's rules from the tz database, the program's
 * Classic stored-value cap (0: off). */
static leal_err from_ledger(struct ledger *l, int64_t program, int64_t terminal,
                            struct from_ledger *f)
{
    struct ledger_rules r;
    struct ledger_terminal_site ts;
    struct ledger_program prog;
    leal_err err;
    if ((err = ledger_rules_get(l, program, 0, &r)) != LEAL_OK ||
        (err = rules_codec_encode(&r.set, f->rules, sizeof f->rules, &f->rules_len)) != LEAL_OK ||
        (err = ledger_terminal_site(l, terminal, &ts)) != LEAL_OK ||
        (err = ledger_program_get(l, program, &prog)) != LEAL_OK)
        return err;
    if (ts.store_id <= 0 || ts.store_id > UINT32_MAX || prog.classic_stored_value_cap_cents < 0 ||
        prog.classic_stored_value_cap_cents > UINT32_MAX)
        return LEAL_E_RANGE;
    f->rules_version = r.set.version;
    f->program = r.set.program;
    snprintf(f->timezone, sizeof f->timezone, "%s", ts.timezone);
    f->site.store_id = (uint32_t)ts.store_id;
    f->site.classic_purse_cap_cents = (uint32_t)prog.classic_stored_value_cap_cents;
    if ((err = package_zone_lookup(ts.timezone, &f->site.zone)) != LEAL_OK)
        return err;
    return names_section(&r, &ts, f);
}

/* What phone_tier reckons a phone's tier with. */
static void tier_context(struct lists *s, struct ledger *l, const struct from_ledger *f,
                         uint64_t now)
{
    s->l = l;
    s->rules = &f->program;
    s->store_id = f->site.store_id;
    s->timezone = f->timezone;
    s->now = (int64_t)now;
}

/* The package's contents from what was gathered (version 1 for the size
 * check before a version is taken). */
static void contents(struct package_contents *c, const struct package_build_opts *o,
                     uint32_t program, uint8_t key_version, const struct from_ledger *f,
                     const struct lists *s)
{
    c->key_version = key_version;
    c->program_id = program;
    c->terminal_id = (uint32_t)o->terminal_id;
    c->issued = o->now;
    c->valid_until = o->now + (uint64_t)o->valid_days * 86400u;
    c->rules = f->rules;
    c->rules_len = (uint32_t)f->rules_len;
    c->names = f->names;
    c->name_count = f->nnames;
    c->site = f->site;
    c->hot = s->hot;
    c->hot_count = s->nhot;
    c->floors = s->floors;
    c->floor_count = s->nfloors;
    c->pending = s->pending;
    c->pending_count = s->npending;
    c->cap_day_cents = o->cap_day_cents;
    c->cap_sync_cents = o->cap_sync_cents;
    c->version = 1;
}

leal_err package_build(struct ledger *l, const struct keyset *ks,
                       const struct package_build_opts *o, uint8_t **data, size_t *len,
                       struct package_info *info)
{
    struct lists s = {.l = l};
    const struct key_version *kv;
    struct package_contents c = {0};
    struct from_ledger f;
    uint8_t msg[PACKAGE_SIGNED_MSG_LEN], *buf = NULL;
    int64_t program = 0, version = 0;
    uint32_t size = 0;
    size_t body = 0;
    leal_err err;

    if (l == NULL || ks == NULL || o == NULL || data == NULL || len == NULL || info == NULL ||
        o->valid_days < 1 || o->valid_days > LEAL_MAX_PACKAGE_DAYS ||
        o->cap_day_cents > o->cap_sync_cents)
        return LEAL_E_ARG;
    *data = NULL;
    *len = 0;
    if ((err = ledger_terminal_program(l, o->terminal_id, &program)) != LEAL_OK)
        return err;
    if (o->terminal_id > UINT32_MAX || program <= 0 || program > UINT32_MAX)
        return LEAL_E_RANGE;
    if ((err = keyset_current(ks, (uint32_t)program, KEY_ROLE_PACKAGE_SIGNING, &kv)) != LEAL_OK)
        return err;
    memset(&f, 0, sizeof f);
    if ((err = from_ledger(l, program, o->terminal_id, &f)) != LEAL_OK)
        return err;
    tier_context(&s, l, &f, o->now);
    err = ledger_package_cards(l, program, add_card, &s);
    if (err == LEAL_OK)
        err = ledger_host_change_each(l, program, add_pending, &s);
    if (err == LEAL_OK)
        err = ledger_qr_holds_each(l, program, add_allowance, &s);
    if (err == LEAL_E_INTERRUPTED)
        err = s.err;
    /* Cards' changes and phones' holds, one list in card id order. */
    if (err == LEAL_OK && s.npending > 1)
        qsort(s.pending, s.npending, sizeof *s.pending, pending_cmp);
    if (err != LEAL_OK)
        goto out;
    contents(&c, o, (uint32_t)program, kv->version, &f, &s);
    if ((err = package_encoded_size(&c, &size)) != LEAL_OK)
        goto out;
    if ((buf = malloc(size)) == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto out;
    }
    if ((err = ledger_terminal_next_package(l, o->terminal_id, &version)) != LEAL_OK)
        goto out;
    if (version <= 0 || version > UINT32_MAX) {
        err = LEAL_E_RANGE;
        goto out;
    }
    c.version = (uint32_t)version;
    if ((err = record_sent(l, &s)) != LEAL_OK)
        goto out;
    /* Reconciliation judges the terminal's spending by the caps it was given. */
    if ((err = ledger_terminal_caps_record(l, o->terminal_id, c.version, c.cap_day_cents,
                                           c.cap_sync_cents)) != LEAL_OK)
        goto out;
    /* The import values the rewards redeemed under it by its own rule set. */
    if ((err = ledger_terminal_rules_record(l, o->terminal_id, c.version, f.rules_version)) !=
        LEAL_OK)
        goto out;
    if ((err = package_encode_body(crypto_openssl(), &c, buf, size, &body, msg)) != LEAL_OK ||
        (err = crypto_openssl_ed25519_sign(kv->key, msg, sizeof msg, buf + body)) != LEAL_OK)
        goto out;
    struct package_source src = {package_memory_read, buf, size};
    if ((err = package_parse(&src, info)) != LEAL_OK)
        goto out;
    *data = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    free(s.hot);
    free(s.floors);
    free(s.pending);
    return err;
}
