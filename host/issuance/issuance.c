/* issuance.c - the desk on MIFARE DESFire (LAYOUT.md §2; issuance.h). */
#include "issuance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/identity.h"
#include "factory.h"
#include "issuance_classic.h"
#include "originality.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/derive.h"

#define LOG_OP_ISSUE 1
#define LOG_OP_TOPUP 2
#define LOG_OP_REPLACE_IN 4

static const uint8_t picc_aid[3] = {0, 0, 0};
static const uint8_t leal_aid[3] = {LAYOUT_DF_AID_0, LAYOUT_DF_AID_1, LAYOUT_DF_AID_2};
static const uint8_t df_name[LAYOUT_DF_NAME_LEN] = {0xF0, 'L', 'E', 'A', 'L', '0', '1'};
static const uint8_t zero_key[16];

/* One desk operation on one card. */
struct desk {
    struct issuance *is;
    struct reader *reader;
    struct desfire d;
    struct reader_card rc;
    bool random_uid;
    uint8_t div_id[LEAL_MAX_UID]; /* the diversification id: UID, or card id (BE64) */
    size_t div_id_len;
    char unsettled_why[160];
    /* The version of each role's key the card carries, as far as this contact
     * knows (0: not known): the ledger's record, or what opened the card. */
    uint8_t ver[KEY_ROLE_COUNT + 1];
    uint8_t missing_role, missing_version; /* LEAL_E_CARD_KEY_VERSION */
};

static leal_err desk_open(struct desk *k, struct issuance *is, struct reader *r)
{
    leal_err err;
    memset(k, 0, sizeof *k);
    k->is = is;
    k->reader = r;
    if ((err = reader_card_info(r, &k->rc)) != LEAL_OK)
        return err;
    /* DESFire random UIDs are 4 bytes starting 08 (REFERENCE.md 6). */
    k->random_uid = k->rc.uid_len == 4 && k->rc.uid[0] == 0x08;
    desfire_init(&k->d, reader_card_reader(r), is->cp);
    return LEAL_OK;
}

static void desk_close(struct desk *k, struct issuance_card *out)
{
    if (out) {
        out->round_trips += k->d.round_trips;
        out->bytes += k->d.bytes_out + k->d.bytes_in;
        out->missing_role = k->missing_role;
        out->missing_version = k->missing_version;
    }
    desfire_clear(&k->d);
}

static void set_div_id(struct desk *k, int64_t card_id)
{
    if (k->random_uid) {
        store_be64(k->div_id, (uint64_t)card_id);
        k->div_id_len = 8;
    } else {
        memcpy(k->div_id, k->rc.uid, k->rc.uid_len);
        k->div_id_len = k->rc.uid_len;
    }
}

/* The card key of a role (current version) for this card and application. */
static leal_err card_key(struct desk *k, enum key_role role, const uint8_t aid[3], uint8_t out[16],
                         uint8_t *version)
{
    const struct key_version *v;
    leal_err err = keyset_current(k->is->keys, k->is->program_id, role, &v);
    if (err != LEAL_OK)
        return err;
    *version = v->version;
    return derive_card_key(k->is->cp, v->key, k->div_id, k->div_id_len, aid, k->is->keys->issuer_id,
                           k->is->program_id, out);
}

/* The card key of a role at a given version; a version the keystore does not
 * hold is LEAL_E_CARD_KEY_VERSION (the role and version kept for the message). */
static leal_err card_key_at(struct desk *k, enum key_role role, uint8_t version,
                            const uint8_t aid[3], uint8_t out[16])
{
    const struct key_version *v;
    leal_err err = keyset_version(k->is->keys, k->is->program_id, role, version, &v);
    if (err == LEAL_E_KEY_VERSION) {
        k->missing_role = (uint8_t)role;
        k->missing_version = version;
        return LEAL_E_CARD_KEY_VERSION;
    }
    if (err != LEAL_OK)
        return err;
    return derive_card_key(k->is->cp, v->key, k->div_id, k->div_id_len, aid, k->is->keys->issuer_id,
                           k->is->program_id, out);
}

static uint8_t current_version(const struct desk *k, enum key_role role)
{
    const struct key_version *v;
    return keyset_current(k->is->keys, k->is->program_id, role, &v) == LEAL_OK ? v->version : 0;
}

static leal_err auth_at(struct desk *k, uint8_t key_no, enum key_role role, uint8_t version,
                        const uint8_t aid[3])
{
    uint8_t key[16];
    leal_err err = card_key_at(k, role, version, aid, key);
    if (err == LEAL_OK)
        err = desfire_authenticate_aes(&k->d, key_no, key);
    leal_wipe(key, sizeof key);
    return err;
}

/* Authenticates key_no (of the application or PICC selected) with the version
 * of role the card carries: the one this contact knows (the ledger's record),
 * else the current one; when that does not open the card, the version the
 * card's key version byte names (GetKeyVersion needs no key: 1 RT more, only
 * while a rotation reaches the card). The byte only picks the key to try; the
 * authentication proves it. */
static leal_err auth_card(struct desk *k, uint8_t key_no, enum key_role role, const uint8_t aid[3])
{
    uint8_t tried = k->ver[role] ? k->ver[role] : current_version(k, role), named;
    leal_err err = auth_at(k, key_no, role, tried, aid);
    if (err == LEAL_E_CARD_AUTHENTICATION || err == LEAL_E_CARD_KEY_VERSION) {
        leal_err asked = desfire_get_key_version(&k->d, key_no, &named);
        if (asked != LEAL_OK)
            return asked;
        if (named != tried) {
            k->missing_role = k->missing_version = 0;
            err = auth_at(k, key_no, role, named, aid);
            tried = named;
        }
    }
    if (err == LEAL_OK)
        k->ver[role] = tried;
    return err;
}

static enum ledger_card_tech tech_of(const struct desfire_version *v)
{
    switch (v->hw[3]) {
    case 0x01:
        return LEDGER_TECH_DESFIRE_EV1;
    case 0x12:
    case 0x22:
        return LEDGER_TECH_DESFIRE_EV2;
    case 0x33:
        return LEDGER_TECH_DESFIRE_EV3;
    default:
        return 0;
    }
}

/* EV2/EV3: NXP's originality signature (originality.h), read outside a
 * session and checked against the card's 7-byte UID. A card that cannot
 * answer Read_Sig is not genuine either. A random-UID card shows its UID only
 * to GetCardUID: read under the factory key, changing nothing; a card not on
 * its factory key (our own torn issuance) is checked once issuance has read
 * its UID (*pending). */
static leal_err genuine(struct desk *k, uint8_t sig[DESFIRE_SIG_LEN], bool *pending)
{
    uint8_t uid[DESFIRE_UID_LEN];
    leal_err err = desfire_read_sig(&k->d, sig);
    *pending = false;
    if (err >= LEAL_E_CARD_NO_CHANGES && err <= LEAL_E_CARD_STATUS)
        return LEAL_E_CARD_NOT_GENUINE; /* a card status instead of a signature */
    if (err != LEAL_OK)
        return err;
    if (!k->random_uid)
        return k->rc.uid_len == DESFIRE_UID_LEN ? originality_verify(k->rc.uid, sig)
                                                : LEAL_E_CARD_NOT_GENUINE;
    err = factory_card_uid(reader_card_reader(k->reader), k->is->cp, uid, &k->d.round_trips);
    if (err == LEAL_OK)
        err = originality_verify(uid, sig);
    else if (err == LEAL_E_CARD_AUTHENTICATION) {
        *pending = true;
        err = LEAL_OK;
    }
    leal_wipe(uid, sizeof uid);
    return err;
}

static void log_record(uint8_t out[LAYOUT_LOG_RECORD_LEN], uint8_t op, uint32_t counter,
                       int32_t amount)
{
    memset(out, 0, LAYOUT_LOG_RECORD_LEN);
    out[0] = LAYOUT_VERSION;
    out[1] = LAYOUT_TYPE_LOG;
    out[2] = op;
    store_be32(out + 4, counter);
    store_be32(out + 8, (uint32_t)amount);
    store_be32(out + 12, 0); /* terminal 0: the host */
}

/* A two-line entry between a customer's account and one of the program's
 * accounts, made by the desk for a card. The operator is fixed ("desk"), not
 * the person's name: the same entry may be re-posted by whoever taps the
 * card next (a resumed issuance, a top-up read back from the card's log),
 * and must hash the same to be recognised as the same entry. */
static leal_err post_card_entry(struct issuance *is, int64_t card_id, int64_t account_id,
                                const char *kind, const char *asset, const char *program_account,
                                int64_t amount, const char *request, const char *reason,
                                const char *reference, bool settles_pending, bool *replayed)
{
    int64_t other, entry;
    struct ledger_line lines[2];
    struct ledger_entry e;
    leal_err err = ledger_program_account(is->ledger, is->program_id, program_account, &other);
    if (err != LEAL_OK)
        return err;
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0].account_id = account_id;
    lines[1].account_id = other;
    snprintf(lines[0].asset, sizeof lines[0].asset, "%s", asset);
    snprintf(lines[1].asset, sizeof lines[1].asset, "%s", asset);
    lines[0].amount = amount;
    lines[1].amount = -amount;
    e.program_id = is->program_id;
    e.kind = kind;
    e.request_id = request;
    e.operator_name = "desk";
    e.reason = reason;
    e.reference = reference;
    e.card_id = card_id;
    e.nlines = 2;
    e.lines = lines;
    if (settles_pending)
        return ledger_pending_topup_settle(is->ledger, &e, &entry, replayed);
    return ledger_post(is->ledger, &e, &entry, replayed);
}

/* A DESFire top-up's entry (request id card:<id>:log:<counter after>), posted
 * with the card's pending top-up removed in one transaction (LAYOUT.md 2.7). */
static leal_err post_desfire_topup(struct issuance *is, int64_t card_id, int64_t account_id,
                                   uint32_t counter_after, int64_t cents, bool *replayed)
{
    char request[64], reference[64];
    snprintf(request, sizeof request, "card:%lld:log:%u", (long long)card_id, counter_after);
    snprintf(reference, sizeof reference, "card %lld counter %u", (long long)card_id,
             counter_after);
    return post_card_entry(is, card_id, account_id, "topup", "EUR", "cash", cents, request,
                           "purse top-up at the desk", reference, true, replayed);
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

static void eur_str(int64_t cents, char *out, size_t n)
{
    snprintf(out, n, "%s%lld.%02lld", cents < 0 ? "-" : "", (long long)(llabs(cents) / 100),
             (long long)(llabs(cents) % 100));
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
        eur_str(out->purse_cents, purse, sizeof purse);
        eur_str(held, bound, sizeof bound);
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

leal_err issuance_settle_sync(struct issuance *is, const struct ledger_card *lc, uint32_t cur,
                              struct issuance_card *out, char *unsettled_why, size_t why_len)
{
    struct ledger_pending_sync p;
    bool found = false;
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
    if ((err = ledger_card_drift(is->ledger, out->card_id, &d)) != LEAL_OK || d.points == 0)
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
        /* No longer the account's, yet holding money or points. */
        char held[64], eur[32];
        eur_str(purse_on_card ? out->purse_cents : 0, eur, sizeof eur);
        if (purse_on_card && out->purse_cents > 0 && out->state.points > 0)
            snprintf(held, sizeof held, "%s EUR and %u points", eur, out->state.points);
        else if (purse_on_card && out->purse_cents > 0)
            snprintf(held, sizeof held, "%s EUR", eur);
        else
            snprintf(held, sizeof held, "%u points", out->state.points);
        out->agrees = false;
        if (lc->status == LEDGER_CARD_REPLACED) {
            char by[LEDGER_TEXT] = "";
            bool blocked;
            if ((err = ledger_card_history(is->ledger, lc->card_id, replaced_by, by)) != LEAL_OK)
                return err;
            snprintf(out->why, sizeof out->why,
                     "the card was %.40s and still holds %s, which the ledger moved to %s: keep it",
                     by[0] ? by : "replaced", held, by[0] ? "that card" : "the new card");
            /* On the hot list already; its history says what it still holds. */
            if ((err = ledger_card_verdict(is->ledger, lc->card_id, out->why, issuance_operator(is),
                                           &blocked)) != LEAL_OK)
                return err;
        } else {
            snprintf(out->why, sizeof out->why,
                     "the card is lost in the ledger and still holds %s: 'leal card replace "
                     "--old %lld' with it at the desk empties it and moves them",
                     held, (long long)lc->card_id);
        }
    } else if (a.unseen > 0 || lc->status == LEDGER_CARD_PENDING ||
               lc->status == LEDGER_CARD_LOST || lc->status == LEDGER_CARD_REPLACED) {
        /* A card of the account never read at the desk, this one not yet the
         * account's (issuance compares again once it is), or no longer the
         * account's (lost or replaced: its balances went to the live cards,
         * and counting them again would report a difference that is not
         * there): nothing to add. */
    } else if (purse_on_card && a.purse != out->account_eur) {
        out->agrees = false;
        snprintf(out->why, sizeof out->why,
                 "purse %lld.%02lld on the card%s, %lld.%02lld in the ledger",
                 (long long)(a.purse / 100), (long long)(a.purse % 100), others,
                 (long long)(out->account_eur / 100), (long long)(out->account_eur % 100));
    } else if (a.points != out->account_pts) {
        out->agrees = false;
        return explain_points(is, lc, a.points, others, out);
    }
    return LEAL_OK;
}

leal_err issuance_post_seq_topup(struct issuance *is, int64_t card_id, int64_t account_id,
                                 uint32_t seq_after, int64_t cents, bool *replayed)
{
    char request[64], reference[64];
    snprintf(request, sizeof request, "card:%lld:seq:%u", (long long)card_id, seq_after);
    snprintf(reference, sizeof reference, "card %lld seq %u", (long long)card_id, seq_after);
    return post_card_entry(is, card_id, account_id, "topup", "EUR", "cash", cents, request,
                           "purse top-up at the desk", reference, true, replayed);
}

/* A top-up the ledger started (LAYOUT.md 2.7), settled from what the card
 * shows: at the taps after, with the purse after and the intent's log record
 * newest, the card committed it: the entry is posted (the intent removed and
 * its record made the card's mark, in one transaction); still at the taps
 * before, it did not: the intent is dropped; anything else is a disagreement,
 * named and left for a person (a top-up is refused meanwhile). *known: the
 * newest log record is the intent's. */
static leal_err settle_pending(struct desk *k, const struct ledger_card *lc,
                               const uint8_t log[LAYOUT_LOG_RECORD_LEN], struct issuance_card *out,
                               bool *known)
{
    struct ledger_pending_topup t;
    bool found = false, replayed = false;
    char amount[32], purse[32];
    leal_err err = ledger_pending_topup_get(k->is->ledger, lc->card_id, &t, &found);
    *known = false;
    if (err != LEAL_OK || !found)
        return err;
    *known = t.has_mark && leal_ct_equal(log, t.mark, LAYOUT_LOG_RECORD_LEN);
    if ((int64_t)out->taps == t.seq_after && *known && (int64_t)out->purse_cents == t.purse_after) {
        if ((err = post_desfire_topup(k->is, lc->card_id, lc->account_id,
                                      (uint32_t)(LAYOUT_COUNTER_START - t.seq_after), t.cents,
                                      &replayed)) != LEAL_OK)
            return err;
        out->recovered += !replayed;
        return LEAL_OK;
    }
    if ((int64_t)out->taps == t.seq_before) {
        if ((err = ledger_pending_topup_drop(k->is->ledger, lc->card_id, t.request_id)) != LEAL_OK)
            return err;
        out->dropped++;
        return LEAL_OK;
    }
    out->unsettled = true;
    out->unsettled_cents = t.cents;
    eur_str(t.cents, amount, sizeof amount);
    eur_str(out->purse_cents, purse, sizeof purse);
    snprintf(k->unsettled_why, sizeof k->unsettled_why,
             "a top-up of %s (taps %lld to %lld) is neither on the card nor undone: the card "
             "shows %u taps and %s",
             amount, (long long)t.seq_before, (long long)t.seq_after, out->taps, purse);
    return LEAL_OK;
}

/* The newest log record must be one the ledger knows: the one it last saw or
 * wrote, or its top-up in flight (known). Anything else was written by
 * someone holding the card's keys: a verdict, never a posting. A card from
 * before the desk kept marks (none recorded) has its record taken as seen. */
static leal_err judge_log(struct desk *k, const struct ledger_card *lc,
                          const uint8_t log[LAYOUT_LOG_RECORD_LEN], bool known,
                          struct issuance_card *out)
{
    char why[160], amount[32];
    if (known || !lc->has_seen_mark || leal_ct_equal(log, lc->seen_mark, LAYOUT_LOG_RECORD_LEN))
        return LEAL_OK;
    eur_str((int32_t)load_be32(log + 8), amount, sizeof amount);
    if (log[0] == LAYOUT_VERSION && log[1] == LAYOUT_TYPE_LOG && log[2] == LOG_OP_TOPUP)
        snprintf(why, sizeof why,
                 "its log holds a top-up of %s (counter %u) that the ledger never started", amount,
                 load_be32(log + 4));
    else
        snprintf(why, sizeof why,
                 "its log holds a record the desk never wrote (type %u, op %u, counter %u, "
                 "amount %s)",
                 log[1], log[2], load_be32(log + 4), amount);
    return issuance_verdict(k->is, out, why);
}

/* The DESFire roles: the PICC master key and the application's keys 0..2. */
static const enum key_role desfire_roles[4] = {KEY_ROLE_PICC_MASTER, KEY_ROLE_APP_MASTER,
                                               KEY_ROLE_PURSE_CREDIT, KEY_ROLE_TERMINAL};

/* The versions the ledger recorded for the card, where this contact knows none. */
static leal_err learn_versions(struct desk *k, int64_t card_id)
{
    uint8_t v[LEDGER_KEY_ROLES];
    leal_err err = ledger_card_keys_get(k->is->ledger, card_id, v);
    for (int i = 0; err == LEAL_OK && i < 4; i++)
        if (k->ver[desfire_roles[i]] == 0)
            k->ver[desfire_roles[i]] = v[desfire_roles[i] - 1];
    return err;
}

/* What the card carries now, into the ledger. */
static leal_err record_versions(struct desk *k, int64_t card_id)
{
    uint8_t v[LEDGER_KEY_ROLES] = {0};
    for (int i = 0; i < 4; i++)
        v[desfire_roles[i] - 1] = k->ver[desfire_roles[i]];
    return ledger_card_keys_set(k->is->ledger, card_id, v);
}

/* Every card key to the keystore's current version (KEYS.md rotation), right
 * after a read (leal's application selected). Nothing is sent when the ledger
 * records the current versions. Otherwise the card names the version of each
 * key not known to be current (GetKeyVersion), and under the application
 * master key the keys behind change: 2 and 1, then 0 (its change ends the
 * session), then the PICC master key under itself. Each ChangeKey is atomic
 * on the card and writes the key's version byte with it, so a tear leaves
 * keys that each open with the version the card names, and the next contact
 * goes on from there. The ledger records the versions once the card has them. */
static leal_err rekey(struct desk *k, struct issuance_card *out)
{
    static const uint8_t key_no[3] = {LAYOUT_KEY_TERMINAL, LAYOUT_KEY_PURSE_CREDIT,
                                      LAYOUT_KEY_APP_MASTER};
    static const enum key_role app_role[3] = {KEY_ROLE_TERMINAL, KEY_ROLE_PURSE_CREDIT,
                                              KEY_ROLE_APP_MASTER};
    uint8_t cur[KEY_ROLE_COUNT + 1] = {0}, oldk[16], newk[16];
    bool stale = false, app_behind = false;
    leal_err err = LEAL_OK;

    for (int i = 0; i < 4; i++) {
        enum key_role r = desfire_roles[i];
        cur[r] = current_version(k, r);
        stale = stale || k->ver[r] != cur[r];
    }
    if (!stale)
        return LEAL_OK;
    /* The terminal key's version is known: the read authenticated with it. */
    app_behind = k->ver[KEY_ROLE_TERMINAL] != cur[KEY_ROLE_TERMINAL];
    for (int i = 1; i < 3; i++) {
        enum key_role r = app_role[i];
        if (k->ver[r] != cur[r] &&
            (err = desfire_get_key_version(&k->d, key_no[i], &k->ver[r])) != LEAL_OK)
            return err;
        app_behind = app_behind || k->ver[r] != cur[r];
    }
    if (app_behind &&
        (err = auth_card(k, LAYOUT_KEY_APP_MASTER, KEY_ROLE_APP_MASTER, leal_aid)) != LEAL_OK)
        goto out;
    for (int i = 0; app_behind && i < 3; i++) {
        enum key_role r = app_role[i];
        if (k->ver[r] == cur[r])
            continue;
        if ((err = card_key_at(k, r, cur[r], leal_aid, newk)) != LEAL_OK ||
            (key_no[i] != LAYOUT_KEY_APP_MASTER &&
             (err = card_key_at(k, r, k->ver[r], leal_aid, oldk)) != LEAL_OK) ||
            (err = desfire_change_key(&k->d, key_no[i], newk, cur[r],
                                      key_no[i] == LAYOUT_KEY_APP_MASTER ? NULL : oldk)) != LEAL_OK)
            goto out;
        k->ver[r] = cur[r];
        out->rekeyed++;
    }
    if (k->ver[KEY_ROLE_PICC_MASTER] != cur[KEY_ROLE_PICC_MASTER]) {
        if ((err = desfire_select_application(&k->d, picc_aid)) != LEAL_OK ||
            (err = desfire_get_key_version(&k->d, 0, &k->ver[KEY_ROLE_PICC_MASTER])) != LEAL_OK)
            goto out;
        if (k->ver[KEY_ROLE_PICC_MASTER] != cur[KEY_ROLE_PICC_MASTER]) {
            /* 0x80: the PICC master key stays AES. */
            if ((err = auth_card(k, 0, KEY_ROLE_PICC_MASTER, picc_aid)) != LEAL_OK ||
                (err = card_key_at(k, KEY_ROLE_PICC_MASTER, cur[KEY_ROLE_PICC_MASTER], picc_aid,
                                   newk)) != LEAL_OK ||
                (err = desfire_change_key(&k->d, 0x80, newk, cur[KEY_ROLE_PICC_MASTER], NULL)) !=
                    LEAL_OK)
                goto out;
            k->ver[KEY_ROLE_PICC_MASTER] = cur[KEY_ROLE_PICC_MASTER];
            out->rekeyed++;
        }
    }
    err = record_versions(k, out->card_id);
out:
    leal_wipe(oldk, sizeof oldk);
    leal_wipe(newk, sizeof newk);
    return err;
}

/* Reads what a terminal reads, checks it, then compares it with the ledger. */
static leal_err read_card(struct desk *k, struct issuance_card *out)
{
    uint8_t rec[IDENTITY_LEN], st[STATE_FILE_LEN], log[LAYOUT_LOG_RECORD_LEN];
    bool known = false;
    struct identity id;
    uint64_t state_card_id;
    int32_t counter;
    struct ledger_card lc;
    leal_err err;

    if ((err = desfire_select_application(&k->d, leal_aid)) != LEAL_OK)
        return err == LEAL_E_CARD_APPLICATION_NOT_FOUND ? LEAL_E_CARD_NOT_LEAL : err;
    if ((err = desfire_read_data(&k->d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, IDENTITY_LEN,
                                 rec)) != LEAL_OK)
        return err;
    if ((err = identity_decode(rec, sizeof rec, &id)) != LEAL_OK)
        return err == LEAL_E_LAYOUT_VERSION ? err : LEAL_E_CARD_TAMPERED;
    out->card_id = (int64_t)id.card_id;
    out->issuer_id = id.issuer_id;
    out->program_id = id.program_id;
    out->key_set_version = id.key_set_version;
    out->random_uid = (id.flags & IDENTITY_FLAG_RANDOM_UID) != 0;
    if (id.issuer_id != k->is->keys->issuer_id || id.program_id != k->is->program_id)
        return LEAL_E_CARD_NOT_LEAL; /* another issuer's or program's card */
    set_div_id(k, (int64_t)id.card_id);
    /* The key versions the ledger recorded for this card; without a record,
     * the identity's key-set version (the terminal key's at issuance). */
    if ((err = learn_versions(k, out->card_id)) != LEAL_OK)
        return err;
    if (k->ver[KEY_ROLE_TERMINAL] == 0)
        k->ver[KEY_ROLE_TERMINAL] = id.key_set_version;
    /* A key that does not open the card means the identity was forged or copied. */
    if ((err = auth_card(k, LAYOUT_KEY_TERMINAL, KEY_ROLE_TERMINAL, leal_aid)) != LEAL_OK)
        return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_TAMPERED : err;
    if ((err = desfire_read_data(&k->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, STATE_FILE_LEN,
                                 st)) != LEAL_OK ||
        (err = desfire_get_value(&k->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, &out->purse_cents)) !=
            LEAL_OK ||
        (err = desfire_get_value(&k->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, &counter)) !=
            LEAL_OK ||
        (err = desfire_read_records(&k->d, LAYOUT_FILE_LOG, DESFIRE_COMM_FULL, 0, 1,
                                    LAYOUT_LOG_RECORD_LEN, log)) != LEAL_OK)
        return err;
    if (state_file_decode(st, sizeof st, &state_card_id, &out->state) != LEAL_OK ||
        state_card_id != id.card_id || counter < 0 || counter > LAYOUT_COUNTER_START)
        return LEAL_E_CARD_TAMPERED;
    out->taps = (uint32_t)(LAYOUT_COUNTER_START - counter);
    out->stored_value = true; /* a DESFire card always has its purse file */
    if (out->random_uid) {
        if ((err = desfire_get_card_uid(&k->d, out->uid)) != LEAL_OK)
            return err;
        out->uid_len = DESFIRE_UID_LEN;
    } else {
        memcpy(out->uid, k->rc.uid, k->rc.uid_len);
        out->uid_len = k->rc.uid_len;
    }
    out->tech = id.card_kind;

    memcpy(out->mark, log, sizeof log);
    out->has_mark = true;

    /* The ledger's side. A card being issued is judged by its issuance. */
    if ((err = issuance_ledger_card(k->is, out, &lc)) != LEAL_OK || lc.card_id == 0)
        return err;
    if (lc.status == LEDGER_CARD_PENDING)
        return issuance_compare(k->is, &lc, true, out);
    /* A card behind the ledger is judged before anything is settled from it. */
    if ((int64_t)out->taps < lc.last_counter)
        return issuance_judge(k->is, &lc, true, out);
    if ((err = settle_pending(k, &lc, log, out, &known)) != LEAL_OK ||
        (!out->unsettled &&
         (err = issuance_settle_sync(k->is, &lc, out->taps, out, k->unsettled_why,
                                     sizeof k->unsettled_why)) != LEAL_OK) ||
        (err = judge_log(k, &lc, log, known, out)) != LEAL_OK ||
        (err = issuance_judge(k->is, &lc, true, out)) != LEAL_OK)
        return err;
    if ((int64_t)out->taps > lc.last_counter &&
        (err = ledger_card_set_counter(k->is->ledger, out->card_id, out->taps)) != LEAL_OK)
        return err;
    if ((err = issuance_compare(k->is, &lc, true, out)) != LEAL_OK)
        return err;
    if (out->unsettled) {
        out->agrees = false;
        snprintf(out->why, sizeof out->why, "%s", k->unsettled_why);
    }
    /* A card no longer the account's is left as it is. */
    if (lc.status == LEDGER_CARD_LOST || lc.status == LEDGER_CARD_REPLACED)
        return LEAL_OK;
    err = rekey(k, out);
    return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_TAMPERED : err;
}

struct pending_ctx {
    const struct desk *k;
    int64_t found; /* a PENDING card of the account that may be this one */
};

static int find_pending(void *ctx, const struct ledger_card *c)
{
    struct pending_ctx *p = ctx;
    if (c->status != LEDGER_CARD_PENDING || c->tech < LEDGER_TECH_DESFIRE_EV1 ||
        c->tech > LEDGER_TECH_DESFIRE_EV3)
        return 0;
    /* A fixed-UID card must match its recorded UID; a random-UID card's real UID
     * is only known after authentication, so any random-UID candidate is tried. */
    if (!p->k->random_uid &&
        (c->uid_len != p->k->rc.uid_len || memcmp(c->uid, p->k->rc.uid, c->uid_len) != 0))
        return 0;
    p->found = c->card_id;
    return 1;
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

/* The points a new card starts with: a replaced card's (its share of the account)
 * or the welcome points, whose entry is posted while the card is still PENDING
 * so that a resumed issuance posts them once (same request id, same content). */
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

leal_err issuance_opening_points(struct issuance *is, const struct issuance_request *req,
                                 int64_t card_id, uint32_t *points)
{
    char request[48];
    bool replayed;
    int64_t pts;
    leal_err err;
    *points = 0;
    if (req->replacing) {
        if ((err = issuance_replaced_share(is, req, card_id, "PTS", &pts)) != LEAL_OK)
            return err;
    } else {
        pts = req->welcome_points;
    }
    if (pts < 0 || pts > UINT32_MAX)
        return LEAL_E_RANGE;
    if (!req->replacing && pts > 0) {
        snprintf(request, sizeof request, "card:%lld:welcome", (long long)card_id);
        if ((err = post_card_entry(is, card_id, req->account_id, "earn", "PTS", "points_issued",
                                   pts, request, "welcome points", NULL, false, &replayed)) !=
            LEAL_OK)
            return err;
    }
    *points = (uint32_t)pts;
    return LEAL_OK;
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

/* Creates leal's application and files on a card whose PICC master key is
 * leal's AES key and which holds no leal application (LAYOUT.md 2.2-2.3); the
 * purse's upper limit is the program's cap, and stays with the card. */
static leal_err personalise(struct desk *k, int64_t card_id, enum ledger_card_tech tech,
                            const struct state_body *state, uint8_t keyset, int32_t purse_cap)
{
    uint8_t rec[IDENTITY_LEN], st[STATE_FILE_LEN], log[LAYOUT_LOG_RECORD_LEN];
    uint8_t key[16], version;
    struct identity id;
    leal_err err;
    static const enum key_role roles[3] = {KEY_ROLE_APP_MASTER, KEY_ROLE_PURSE_CREDIT,
                                           KEY_ROLE_TERMINAL};

    memset(&id, 0, sizeof id);
    if ((err = desfire_create_application(&k->d, leal_aid, LAYOUT_APP_KEY_SETTINGS,
                                          LAYOUT_APP_SETTINGS2, LAYOUT_DF_ISO_FID, df_name,
                                          sizeof df_name)) != LEAL_OK ||
        (err = desfire_select_application(&k->d, leal_aid)) != LEAL_OK ||
        (err = desfire_authenticate_aes(&k->d, LAYOUT_KEY_APP_MASTER, zero_key)) != LEAL_OK ||
        (err = desfire_create_data_file(&k->d, false, LAYOUT_FILE_IDENTITY, LAYOUT_ISO_FID_IDENTITY,
                                        DESFIRE_COMM_PLAIN, LAYOUT_AR_IDENTITY, IDENTITY_LEN)) !=
            LEAL_OK ||
        (err = desfire_create_data_file(&k->d, true, LAYOUT_FILE_STATE, LAYOUT_ISO_FID_STATE,
                                        DESFIRE_COMM_MACED, LAYOUT_AR_STATE, STATE_FILE_LEN)) !=
            LEAL_OK ||
        (err = desfire_create_value_file(&k->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL,
                                         LAYOUT_AR_PURSE, 0, purse_cap, 0, 0x01)) != LEAL_OK ||
        (err = desfire_create_value_file(&k->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL,
                                         LAYOUT_AR_COUNTER, 0, LAYOUT_COUNTER_START,
                                         LAYOUT_COUNTER_START, 0x00)) != LEAL_OK ||
        (err = desfire_create_record_file(&k->d, true, LAYOUT_FILE_LOG, LAYOUT_ISO_FID_LOG,
                                          DESFIRE_COMM_FULL, LAYOUT_AR_LOG, LAYOUT_LOG_RECORD_LEN,
                                          LAYOUT_LOG_RECORDS)) != LEAL_OK)
        goto out;
    id.card_id = (uint64_t)card_id;
    id.issuer_id = k->is->keys->issuer_id;
    id.program_id = k->is->program_id;
    id.key_set_version = keyset;
    id.card_kind = (uint8_t)tech;
    id.flags = k->random_uid ? IDENTITY_FLAG_RANDOM_UID : 0;
    id.issued_day = (uint32_t)(time(NULL) / 86400);
    log_record(log, LOG_OP_ISSUE, LAYOUT_COUNTER_START, 0);
    if ((err = identity_encode(&id, rec)) != LEAL_OK ||
        (err = state_file_encode((uint64_t)card_id, state, st)) != LEAL_OK ||
        (err = desfire_write_data(&k->d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, rec,
                                  sizeof rec)) != LEAL_OK ||
        (err = desfire_write_data(&k->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st,
                                  sizeof st)) != LEAL_OK ||
        (err = desfire_write_record(&k->d, LAYOUT_FILE_LOG, DESFIRE_COMM_FULL, 0, log,
                                    sizeof log)) != LEAL_OK ||
        (err = desfire_commit(&k->d)) != LEAL_OK)
        goto out;
    /* Keys 1 and 2, then key 0 last: until then a torn issuance is redone
     * from the PICC master key. */
    for (int i = 2; i >= 0; i--) {
        if ((err = card_key(k, roles[i], leal_aid, key, &version)) != LEAL_OK ||
            (err = desfire_change_key(&k->d, (uint8_t)i, key, version,
                                      i == LAYOUT_KEY_APP_MASTER ? NULL : zero_key)) != LEAL_OK)
            goto out;
    }
out:
    leal_wipe(key, sizeof key);
    return err;
}

/* A host purse credit under the purse-credit key, stepped on the card's
 * counter and written to the card's log in the same commit (LAYOUT.md 2.7),
 * in two steps so that a top-up's intent is in the ledger before the Credit:
 * credit_begin authenticates with key 1 and reads the counter (3 RT + 1);
 * credit_commit credits, debits the counter, writes the log record and
 * commits (4 RT). */
static leal_err credit_begin(struct desk *k, int32_t *counter)
{
    leal_err err;
    if ((err = desfire_select_application(&k->d, leal_aid)) != LEAL_OK ||
        (err = auth_card(k, LAYOUT_KEY_PURSE_CREDIT, KEY_ROLE_PURSE_CREDIT, leal_aid)) != LEAL_OK ||
        (err = desfire_get_value(&k->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, counter)) !=
            LEAL_OK)
        return err;
    if (*counter <= 0)
        return LEAL_E_CARD_WORN_OUT; /* 2^31 - 1 transactions: nothing can move it back */
    if (*counter > LAYOUT_COUNTER_START)
        return LEAL_E_CARD_TAMPERED;
    return LEAL_OK;
}

static leal_err credit_commit(struct desk *k, int32_t cents,
                              const uint8_t log[LAYOUT_LOG_RECORD_LEN])
{
    leal_err err;
    if ((err = desfire_credit(&k->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, cents)) != LEAL_OK ||
        (err = desfire_debit(&k->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1)) != LEAL_OK ||
        (err = desfire_write_record(&k->d, LAYOUT_FILE_LOG, DESFIRE_COMM_FULL, 0, log,
                                    LAYOUT_LOG_RECORD_LEN)) != LEAL_OK)
        return err;
    return desfire_commit(&k->d);
}

/* A replaced card's euros onto the new card being issued (still PENDING: the
 * issuance's verification and activation settle it). */
static leal_err credit_card(struct desk *k, int32_t cents, uint8_t op)
{
    uint8_t log[LAYOUT_LOG_RECORD_LEN];
    int32_t counter;
    leal_err err = credit_begin(k, &counter);
    if (err != LEAL_OK)
        return err;
    log_record(log, op, (uint32_t)(counter - 1), cents);
    return credit_commit(k, cents, log);
}

leal_err issuance_topup_allowed(const struct issuance_card *out, int64_t cents)
{
    if (cents <= 0 || cents > LEDGER_PURSE_CAP_MAX)
        return LEAL_E_RANGE;
    return out->ledger.status == LEDGER_CARD_ACTIVE ? LEAL_OK : LEAL_E_CARD_BLOCKED;
}

/* Top-up of a card already read (out filled by read_card): the intent in the
 * ledger (taps before and after, purse after, amount, request id, the log
 * record the card will show) before the Credit; once the card has committed,
 * the entry posted and the intent removed in one transaction. A tear anywhere
 * leaves the intent for the next read to settle (LAYOUT.md 2.7). */
static leal_err topup_on(struct desk *k, struct issuance_card *out, int64_t cents)
{
    struct ledger_pending_topup t;
    uint8_t log[LAYOUT_LOG_RECORD_LEN];
    int32_t counter;
    bool replayed = false;
    leal_err err;
    if ((err = issuance_topup_allowed(out, cents)) != LEAL_OK)
        return err;
    if (out->unsettled)
        return LEAL_E_CARD_TOPUP_UNSETTLED;
    /* The program's cap now; a card issued under a lower one refuses by itself
     * (its purse file's upper limit: BOUNDARY_ERROR, nothing committed). */
    if ((err = issuance_purse_caps(k->is, out)) != LEAL_OK)
        return err;
    if (out->purse_cents + cents > out->purse_cap_cents)
        return LEAL_E_CARD_BOUNDARY;
    if ((err = credit_begin(k, &counter)) != LEAL_OK)
        return err;
    /* The counter under key 1 is the one the read saw (same session). */
    if ((uint32_t)(LAYOUT_COUNTER_START - counter) != out->taps)
        return LEAL_E_CARD_TAMPERED;
    log_record(log, LOG_OP_TOPUP, (uint32_t)(counter - 1), (int32_t)cents);
    memset(&t, 0, sizeof t);
    t.card_id = out->card_id;
    t.seq_before = out->taps;
    t.seq_after = (int64_t)out->taps + 1;
    t.purse_after = out->purse_cents + cents;
    t.cents = cents;
    snprintf(t.request_id, sizeof t.request_id, "card:%lld:log:%u", (long long)out->card_id,
             (uint32_t)(counter - 1));
    t.has_mark = true;
    memcpy(t.mark, log, sizeof log);
    if ((err = ledger_pending_topup_add(k->is->ledger, &t)) != LEAL_OK)
        return err;
    if ((err = credit_commit(k, (int32_t)cents, log)) != LEAL_OK)
        return err;
    /* The card has committed: now the ledger. */
    if ((err = post_desfire_topup(k->is, out->card_id, out->ledger.account_id,
                                  (uint32_t)(counter - 1), cents, &replayed)) != LEAL_OK)
        return err;
    out->purse_cents += (int32_t)cents;
    out->account_eur += cents;
    out->taps = (uint32_t)(LAYOUT_COUNTER_START - (counter - 1));
    memcpy(out->mark, log, sizeof log);
    if ((err = ledger_card_set_counter(k->is->ledger, out->card_id, out->taps)) != LEAL_OK)
        return err;
    return ledger_card_set_seen_mark(k->is->ledger, out->card_id, out->state.seq, out->purse_cents,
                                     out->state.points, out->mark);
}

/* The card's MIFARE Classic kind, 0 for a DESFire (or anything else). */
static leal_err classic_of(struct reader *r, struct reader_card *rc, enum ledger_card_tech *tech)
{
    leal_err err = reader_card_info(r, rc);
    *tech = err == LEAL_OK ? issuance_classic_tech(rc) : 0;
    return err;
}

leal_err issuance_read(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct desk k;
    struct reader_card rc;
    enum ledger_card_tech tech;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = classic_of(r, &rc, &tech)) != LEAL_OK)
        return err;
    if (tech)
        return issuance_classic_read(is, r, &rc, tech, out);
    if ((err = desk_open(&k, is, r)) == LEAL_OK)
        err = read_card(&k, out);
    desk_close(&k, out);
    return err;
}

leal_err issuance_topup(struct issuance *is, struct reader *r, int64_t cents,
                        struct issuance_card *out)
{
    struct desk k;
    struct reader_card rc;
    enum ledger_card_tech ctech;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = classic_of(r, &rc, &ctech)) != LEAL_OK)
        return err;
    if (ctech)
        return issuance_classic_topup(is, r, &rc, ctech, cents, out);
    if ((err = desk_open(&k, is, r)) == LEAL_OK && (err = read_card(&k, out)) == LEAL_OK) {
        if (!out->agrees && out->ledger.card_id == 0)
            err = LEAL_E_CARD_NOT_LEAL;
        else
            err = topup_on(&k, out, cents);
    }
    desk_close(&k, out);
    return err;
}

/* After a read that re-keyed the card (rekey), the session is no longer the
 * terminal key's: opened again for a terminal's transaction (3 RT). */
static leal_err terminal_session(struct desk *k, const struct issuance_card *out)
{
    leal_err err;
    if (out->rekeyed == 0)
        return LEAL_OK;
    if ((err = desfire_select_application(&k->d, leal_aid)) != LEAL_OK)
        return err;
    return auth_card(k, LAYOUT_KEY_TERMINAL, KEY_ROLE_TERMINAL, leal_aid);
}

/* The sync of a card just read, under the terminal key the read
 * authenticated with: the state at seq + 1 with the points after, the counter
 * debited, commit (3 RT), between the intent and its settling. */
static leal_err sync_on(struct desk *k, struct issuance_card *out)
{
    struct ledger_pending_sync p;
    uint8_t st[STATE_FILE_LEN];
    struct state_body body = out->state;
    leal_err err;
    if ((err = issuance_sync_plan(k->is, out, &p)) != LEAL_OK || p.points == 0)
        return err;
    body.seq = out->state.seq + 1u;
    body.points = (uint32_t)p.points_after;
    p.seq_before = out->taps;
    p.seq_after = (int64_t)out->taps + 1;
    if ((err = terminal_session(k, out)) != LEAL_OK ||
        (err = state_file_encode((uint64_t)out->card_id, &body, st)) != LEAL_OK ||
        (err = ledger_pending_sync_add(k->is->ledger, &p)) != LEAL_OK)
        return err;
    if ((err = desfire_write_data(&k->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st,
                                  sizeof st)) != LEAL_OK ||
        (err = desfire_debit(&k->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1)) != LEAL_OK ||
        (err = desfire_commit(&k->d)) != LEAL_OK)
        return err;
    if ((err = ledger_pending_sync_settle(k->is->ledger, out->card_id)) != LEAL_OK)
        return err;
    out->sync_points = p.points;
    out->state = body;
    out->taps++;
    if ((err = ledger_card_set_counter(k->is->ledger, out->card_id, out->taps)) != LEAL_OK ||
        (err = ledger_card_find_by_id(k->is->ledger, out->card_id, &out->ledger)) != LEAL_OK)
        return err;
    return issuance_compare(k->is, &out->ledger, true, out);
}

leal_err issuance_sync(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct desk k;
    struct reader_card rc;
    enum ledger_card_tech ctech;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = classic_of(r, &rc, &ctech)) != LEAL_OK)
        return err;
    if (ctech)
        return issuance_classic_sync(is, r, &rc, ctech, out);
    if ((err = desk_open(&k, is, r)) == LEAL_OK && (err = read_card(&k, out)) == LEAL_OK)
        err = sync_on(&k, out);
    desk_close(&k, out);
    return err;
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

/* The old card emptied in one transaction under the terminal key the read
 * authenticated with: state at seq + 1 with no points, purse debited to 0,
 * the counter debited, commit (3 or 4 RT). */
static leal_err empty_on(struct desk *k, struct issuance_card *out)
{
    uint8_t st[STATE_FILE_LEN];
    struct state_body body = out->state;
    leal_err err;
    if (out->purse_cents == 0 && out->state.points == 0)
        return LEAL_OK;
    body.seq = out->state.seq + 1u;
    body.points = 0;
    if ((err = terminal_session(k, out)) != LEAL_OK ||
        (err = state_file_encode((uint64_t)out->card_id, &body, st)) != LEAL_OK ||
        (err = desfire_write_data(&k->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st,
                                  sizeof st)) != LEAL_OK)
        return err;
    if (out->purse_cents > 0 && (err = desfire_debit(&k->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL,
                                                     out->purse_cents)) != LEAL_OK)
        return err;
    if ((err = desfire_debit(&k->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1)) != LEAL_OK ||
        (err = desfire_commit(&k->d)) != LEAL_OK)
        return err;
    out->taps++;
    if ((err = ledger_card_set_counter(k->is->ledger, out->card_id, out->taps)) != LEAL_OK)
        return err;
    return ledger_card_set_seen_mark(k->is->ledger, out->card_id, body.seq, 0, 0, out->mark);
}

leal_err issuance_empty_old(struct issuance *is, struct reader *r, int64_t old_card_id,
                            struct issuance_card *out)
{
    struct desk k;
    struct reader_card rc;
    enum ledger_card_tech ctech;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = classic_of(r, &rc, &ctech)) != LEAL_OK)
        return err;
    if (ctech)
        return issuance_classic_empty_old(is, r, &rc, ctech, old_card_id, out);
    if ((err = desk_open(&k, is, r)) == LEAL_OK && (err = read_card(&k, out)) == LEAL_OK &&
        (err = issuance_old_check(is, old_card_id, out)) == LEAL_OK)
        err = empty_on(&k, out);
    desk_close(&k, out);
    return err;
}

leal_err issuance_erase(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct desk k;
    struct reader_card rc;
    enum ledger_card_tech ctech;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = classic_of(r, &rc, &ctech)) != LEAL_OK)
        return err;
    if (ctech)
        return issuance_classic_erase(is, r, &rc, ctech, out);
    if ((err = desk_open(&k, is, r)) != LEAL_OK || (err = read_card(&k, out)) != LEAL_OK)
        goto out;
    if (out->purse_cents != 0) {
        err = LEAL_E_CARD_BOUNDARY; /* money on it: replace the card or spend it first */
        goto out;
    }
    if ((err = desfire_select_application(&k.d, picc_aid)) != LEAL_OK ||
        (err = auth_card(&k, 0, KEY_ROLE_PICC_MASTER, picc_aid)) != LEAL_OK ||
        (err = desfire_format_picc(&k.d)) != LEAL_OK ||
        (err = desfire_change_key_settings(&k.d, 0x0F)) != LEAL_OK ||
        (err = factory_picc_to_des(&k.d)) != LEAL_OK)
        goto out;
    if (out->ledger.card_id && out->ledger.status != LEDGER_CARD_LOST &&
        out->ledger.status != LEDGER_CARD_REPLACED)
        err = ledger_card_change_status(is->ledger, out->card_id, LEDGER_CARD_LOST,
                                        "erased at the desk", issuance_operator(is));
out:
    desk_close(&k, out);
    return err;
}

leal_err issuance_account_program(struct issuance *is, int64_t account_id)
{
    struct ledger_account a;
    leal_err err = ledger_account_get(is->ledger, account_id, &a);
    if (err == LEAL_OK && a.program_id != (int64_t)is->program_id)
        err = LEAL_E_WRONG_PROGRAM;
    return err;
}

leal_err issuance_issue(struct issuance *is, struct reader *r, const struct issuance_request *req,
                        struct issuance_card *out)
{
    struct desk k;
    struct desfire_version ver;
    struct ledger_card lc;
    struct pending_ctx pend;
    struct state_body state;
    uint8_t picc_key[16], version, keyset, sig[DESFIRE_SIG_LEN];
    bool sig_pending = false;
    const struct key_version *terminal_key;
    enum ledger_card_tech tech;
    int64_t card_id = 0, purse = 0;
    bool resumed = false;
    struct reader_card crc;
    enum ledger_card_tech ctech;
    leal_err err;

    memset(out, 0, sizeof *out);
    memset(&state, 0, sizeof state);
    /* The card is made with is->program_id's keys: never for another program's account. */
    if ((err = issuance_account_program(is, req->account_id)) != LEAL_OK)
        return err;
    /* A replaced card's share must be known before any card is touched. */
    if (req->replacing && ((err = issuance_replaced_share(is, req, 0, "EUR", &purse)) != LEAL_OK ||
                           (err = issuance_replaced_share(is, req, 0, "PTS", &purse)) != LEAL_OK))
        return err;
    purse = 0;
    if ((err = classic_of(r, &crc, &ctech)) != LEAL_OK)
        return err;
    if (ctech)
        return issuance_classic_issue(is, r, &crc, ctech, req, out);
    /* Money the new card cannot hold is refused before anything is written. */
    if ((err = issuance_purse_caps(is, out)) != LEAL_OK)
        return err;
    if (req->replacing && (err = issuance_replaced_share(is, req, 0, "EUR", &purse)) != LEAL_OK)
        return err;
    if (purse < 0 || req->topup_cents < 0 || purse + req->topup_cents > out->purse_cap_cents)
        return LEAL_E_CARD_BOUNDARY;
    purse = 0;
    if ((err = desk_open(&k, is, r)) != LEAL_OK)
        return err;
    if ((err = desfire_select_application(&k.d, picc_aid)) != LEAL_OK ||
        (err = desfire_get_version(&k.d, &ver)) != LEAL_OK) {
        err = err == LEAL_E_PROTOCOL ? LEAL_E_CARD_UNKNOWN : err;
        goto out;
    }
    if ((tech = tech_of(&ver)) == 0) {
        err = LEAL_E_CARD_UNKNOWN; /* D40 (keys extractable, REFERENCE.md 6) or unknown */
        goto out;
    }
    /* EV2/EV3 must prove they are NXP's before anything is written. */
    if (tech != LEDGER_TECH_DESFIRE_EV1 && (err = genuine(&k, sig, &sig_pending)) != LEAL_OK)
        goto out;
    /* A card that already carries a leal identity is somebody's card. */
    err = desfire_select_application(&k.d, leal_aid);
    if (err != LEAL_OK && err != LEAL_E_CARD_APPLICATION_NOT_FOUND)
        goto out;
    if (err == LEAL_OK) {
        uint8_t rec[IDENTITY_LEN];
        struct identity id;
        err = desfire_read_data(&k.d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, sizeof rec, rec);
        /* No identity yet (a torn issuance) is not an error: it is redone below. */
        if (err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD || err == LEAL_E_READER)
            goto out;
        if (err == LEAL_OK && identity_decode(rec, sizeof rec, &id) == LEAL_OK) {
            out->card_id = (int64_t)id.card_id;
            out->issuer_id = id.issuer_id;
            out->program_id = id.program_id;
            bool known = ledger_card_find_by_id(is->ledger, out->card_id, &lc) == LEAL_OK;
            if (known)
                out->ledger = lc;
            /* Only our own torn issuance (PENDING) may be taken up again. */
            if (id.issuer_id != is->keys->issuer_id || !known || lc.status != LEDGER_CARD_PENDING) {
                err = LEAL_E_CARD_ALREADY_ISSUED;
                goto out;
            }
        }
        if ((err = desfire_select_application(&k.d, picc_aid)) != LEAL_OK)
            goto out;
    }
    /* Was this card's issuance begun and torn? Then it is PENDING on this account. */
    pend.k = &k;
    pend.found = 0;
    if ((err = ledger_card_each_of_account(is->ledger, req->account_id, find_pending, &pend)) !=
        LEAL_OK)
        goto out;
    /* The key-set version a card carries is its terminal key's (KEYS.md). */
    if ((err = keyset_current(is->keys, is->program_id, KEY_ROLE_TERMINAL, &terminal_key)) !=
        LEAL_OK)
        goto out;
    keyset = terminal_key->version;
    if (pend.found) {
        card_id = pend.found;
    } else {
        memset(&lc, 0, sizeof lc);
        lc.account_id = req->account_id;
        lc.tech = tech;
        lc.status = LEDGER_CARD_PENDING;
        lc.layout_version = LAYOUT_VERSION;
        lc.keyset_version = keyset;
        if (!k.random_uid) {
            memcpy(lc.uid, k.rc.uid, k.rc.uid_len);
            lc.uid_len = k.rc.uid_len;
        }
        do {
            if ((err = issuance_new_card_id(is, &card_id)) != LEAL_OK)
                goto out;
            lc.card_id = card_id;
            err = ledger_card_add(is->ledger, &lc);
        } while (err == LEAL_E_DUPLICATE_ID);
        if (err != LEAL_OK)
            goto out;
    }
    out->card_id = card_id;
    set_div_id(&k, card_id);
    if ((err = card_key(&k, KEY_ROLE_PICC_MASTER, picc_aid, picc_key, &version)) != LEAL_OK)
        goto out;
    /* Factory card: DES key -> leal's AES PICC key. Otherwise it must already
     * answer to leal's PICC key (a torn issuance), and is formatted. */
    err = factory_picc_to_aes(reader_card_reader(r), is->cp, picc_key, version, &k.d.round_trips);
    if (err == LEAL_E_CARD_AUTHENTICATION) {
        /* Under the PICC master key version it was torn with (the verification
         * read brings it to the current one). */
        if ((err = desfire_select_application(&k.d, picc_aid)) != LEAL_OK ||
            (err = auth_card(&k, 0, KEY_ROLE_PICC_MASTER, picc_aid)) != LEAL_OK) {
            err = err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_NOT_LEAL : err;
            goto out;
        }
        resumed = true;
        if ((err = desfire_format_picc(&k.d)) != LEAL_OK)
            goto out;
    } else if (err != LEAL_OK) {
        goto out;
    } else if ((err = desfire_authenticate_aes(&k.d, 0, picc_key)) != LEAL_OK) {
        goto out;
    } else {
        k.ver[KEY_ROLE_PICC_MASTER] = version;
    }
    if ((err = desfire_change_key_settings(&k.d, LAYOUT_PICC_KEY_SETTINGS)) != LEAL_OK)
        goto out;
    if (k.random_uid) {
        if ((err = desfire_get_card_uid(&k.d, out->uid)) != LEAL_OK ||
            (sig_pending && (err = originality_verify(out->uid, sig)) != LEAL_OK))
            goto out;
        if ((err = ledger_card_set_uid(is->ledger, card_id, out->uid, DESFIRE_UID_LEN)) != LEAL_OK)
            goto out;
        out->uid_len = DESFIRE_UID_LEN;
    }
    /* What the new card starts with: welcome points, or a replaced card's balances. */
    if ((err = issuance_opening_points(is, req, card_id, &state.points)) != LEAL_OK)
        goto out;
    if (req->replacing) {
        if ((err = issuance_replaced_share(is, req, card_id, "EUR", &purse)) != LEAL_OK)
            goto out;
        if (purse < 0 || purse > out->purse_cap_cents) {
            err = LEAL_E_CARD_BOUNDARY;
            goto out;
        }
    }
    if ((err = personalise(&k, card_id, tech, &state, keyset, (int32_t)out->purse_cap_cents)) !=
        LEAL_OK)
        goto out;
    /* The application keys are the current ones now. */
    k.ver[KEY_ROLE_APP_MASTER] = current_version(&k, KEY_ROLE_APP_MASTER);
    k.ver[KEY_ROLE_PURSE_CREDIT] = current_version(&k, KEY_ROLE_PURSE_CREDIT);
    k.ver[KEY_ROLE_TERMINAL] = current_version(&k, KEY_ROLE_TERMINAL);
    if ((err = record_versions(&k, card_id)) != LEAL_OK)
        goto out;
    if (purse > 0 && (err = credit_card(&k, (int32_t)purse, LOG_OP_REPLACE_IN)) != LEAL_OK)
        goto out;
    /* Verified as a terminal will read it, then active in the ledger. */
    if ((err = read_card(&k, out)) != LEAL_OK)
        goto out;
    if (out->card_id != card_id || out->purse_cents != purse || out->state.points != state.points) {
        err = LEAL_E_CARD_TAMPERED;
        goto out;
    }
    if ((err = issuance_activate(is, req, card_id, out)) != LEAL_OK)
        goto out;
    out->resumed = resumed;
    out->ledger.status = LEDGER_CARD_ACTIVE;
    out->ledger.last_counter = out->taps;
    if (req->topup_cents > 0)
        err = topup_on(&k, out, req->topup_cents);
    if (err == LEAL_OK)
        err = ledger_card_find_by_id(is->ledger, card_id, &out->ledger);
out:
    leal_wipe(picc_key, sizeof picc_key);
    desk_close(&k, out);
    return err;
}
