/* issuance_desfire.c - the desk on MIFARE DESFire (LAYOUT.md 2; issuance_ops.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardlayout/desfire/desfire.h"
#include "cardlayout/layout.h"
#include "cardlayout/records/identity.h"
#include "factory.h"
#include "issuance_books.h"
#include "issuance_ops.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/derive.h"
#include "originality.h"

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
        if ((err = issuance_post_log_topup(k->is, lc->card_id, lc->account_id,
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
    issuance_eur_text(t.cents, amount, sizeof amount);
    issuance_eur_text(out->purse_cents, purse, sizeof purse);
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
    issuance_eur_text((int32_t)load_be32(log + 8), amount, sizeof amount);
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
    if ((err = issuance_post_log_topup(k->is, out->card_id, out->ledger.account_id,
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

static leal_err desfire_read(const struct issuance_contact *c, struct issuance_card *out)
{
    struct desk k;
    leal_err err;
    if ((err = desk_open(&k, c->is, c->reader)) == LEAL_OK)
        err = read_card(&k, out);
    desk_close(&k, out);
    return err;
}

static leal_err desfire_topup(const struct issuance_contact *c, int64_t cents,
                              struct issuance_card *out)
{
    struct desk k;
    leal_err err;
    if ((err = desk_open(&k, c->is, c->reader)) == LEAL_OK &&
        (err = read_card(&k, out)) == LEAL_OK) {
        if (!out->agrees && out->ledger.card_id == 0)
            err = LEAL_E_CARD_NOT_LEAL;
        else
            err = topup_on(&k, out, cents);
    }
    desk_close(&k, out);
    return err;
}

static leal_err desfire_sync(const struct issuance_contact *c, struct issuance_card *out)
{
    struct desk k;
    leal_err err;
    if ((err = desk_open(&k, c->is, c->reader)) == LEAL_OK && (err = read_card(&k, out)) == LEAL_OK)
        err = sync_on(&k, out);
    desk_close(&k, out);
    return err;
}

static leal_err desfire_empty_old(const struct issuance_contact *c, int64_t old_card_id,
                                  struct issuance_card *out)
{
    struct desk k;
    leal_err err;
    if ((err = desk_open(&k, c->is, c->reader)) == LEAL_OK &&
        (err = read_card(&k, out)) == LEAL_OK &&
        (err = issuance_old_check(c->is, old_card_id, out)) == LEAL_OK)
        err = empty_on(&k, out);
    desk_close(&k, out);
    return err;
}

static leal_err desfire_erase(const struct issuance_contact *c, struct issuance_card *out)
{
    struct issuance *is = c->is;
    struct desk k;
    leal_err err;
    if ((err = desk_open(&k, is, c->reader)) != LEAL_OK || (err = read_card(&k, out)) != LEAL_OK)
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

static leal_err desfire_issue(const struct issuance_contact *c, const struct issuance_request *req,
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
    struct issuance *is = c->is;
    struct reader *r = c->reader;
    leal_err err;

    memset(&state, 0, sizeof state);
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

/* Every card no other type claims: GetVersion tells the kind (issue). */
static bool desfire_claims(const struct reader_card *rc, enum ledger_card_tech *tech)
{
    (void)rc;
    *tech = 0;
    return true;
}

const struct issuance_card_ops issuance_desfire_ops = {
    .name = "desfire",
    .claims = desfire_claims,
    .issue = desfire_issue,
    .read = desfire_read,
    .topup = desfire_topup,
    .sync = desfire_sync,
    .empty_old = desfire_empty_old,
    .erase = desfire_erase,
};
