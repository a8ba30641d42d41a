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
    /* Issuance: the kind GetVersion named, the originality signature read
     * (checked once the UID shows: sig_pending), the key-set version. */
    enum ledger_card_tech tech;
    uint8_t sig[DESFIRE_SIG_LEN];
    bool sig_pending;
    bool app_selected; /* leal's application, by the inspection */
    uint8_t keyset;
    /* What a stage prepared for its commit: a credit (counter read under key
     * 1, log record), or a terminal's transaction (state file, purse debit). */
    int32_t counter, cents, debit;
    uint8_t log[LAYOUT_LOG_RECORD_LEN];
    struct state_body next;
    uint8_t st[STATE_FILE_LEN];
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
    return derive_card_key(k->is->cp, v->key,
                           &(struct derive_card_input){k->div_id, k->div_id_len, aid,
                                                       k->is->keys->issuer_id, k->is->program_id},
                           out);
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
    return derive_card_key(k->is->cp, v->key,
                           &(struct derive_card_input){k->div_id, k->div_id_len, aid,
                                                       k->is->keys->issuer_id, k->is->program_id},
                           out);
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

/* The newest log record must be one the ledger knows: the one it last saw or
 * wrote, or its top-up in flight (intent_mark). Anything else was written by
 * someone holding the card's keys: a verdict, never a posting. A card from
 * before the desk kept marks (none recorded) has its record taken as seen. */
static void desfire_judge_mark(void *s, const struct ledger_card *lc, bool intent_mark,
                               const struct issuance_card *out, char *why, size_t why_len)
{
    const uint8_t *log = out->mark;
    char amount[32];
    (void)s;
    why[0] = '\0';
    if (intent_mark || !lc->has_seen_mark ||
        leal_ct_equal(log, lc->seen_mark, LAYOUT_LOG_RECORD_LEN))
        return;
    issuance_eur_text((int32_t)load_be32(log + 8), amount, sizeof amount);
    if (log[0] == LAYOUT_VERSION && log[1] == LAYOUT_TYPE_LOG && log[2] == LOG_OP_TOPUP)
        snprintf(why, why_len,
                 "its log holds a top-up of %s (counter %u) that the ledger never started", amount,
                 load_be32(log + 4));
    else
        snprintf(why, why_len,
                 "its log holds a record the desk never wrote (type %u, op %u, counter %u, "
                 "amount %s)",
                 log[1], log[2], load_be32(log + 4), amount);
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

/* Reads what a terminal reads and checks it (9 RT; 10 with a random UID). */
static leal_err read_card(struct desk *k, struct issuance_card *out)
{
    uint8_t rec[IDENTITY_LEN], st[STATE_FILE_LEN], log[LAYOUT_LOG_RECORD_LEN];
    struct identity id;
    uint64_t state_card_id;
    int32_t counter;
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

static leal_err desfire_open(const struct issuance_contact *c, void **session)
{
    struct desk *k = calloc(1, sizeof *k);
    if (k == NULL)
        return LEAL_E_NO_MEMORY;
    *session = k;
    return desk_open(k, c->is, c->reader);
}

static void desfire_close(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    if (k == NULL)
        return;
    desk_close(k, out);
    leal_wipe(k, sizeof *k);
    free(k);
}

static leal_err desfire_read(void *s, struct issuance_card *out)
{
    return read_card(s, out);
}

static leal_err desfire_rekey(void *s, struct issuance_card *out)
{
    return rekey(s, out);
}

/* A top-up's Credit prepared: key 1 and the counter (credit_begin), which
 * must be the one the read saw (same session), and the log record the card
 * will show; nothing written. */
static leal_err desfire_credit_stage(void *s, const struct issuance_card *out, int64_t cents,
                                     struct ledger_pending_topup *t)
{
    struct desk *k = s;
    leal_err err = credit_begin(k, &k->counter);
    if (err != LEAL_OK)
        return err;
    if ((uint32_t)(LAYOUT_COUNTER_START - k->counter) != out->taps)
        return LEAL_E_CARD_TAMPERED;
    k->cents = (int32_t)cents;
    log_record(k->log, LOG_OP_TOPUP, (uint32_t)(k->counter - 1), k->cents);
    t->seq_before = out->taps;
    t->seq_after = (int64_t)out->taps + 1;
    t->purse_after = out->purse_cents + cents;
    snprintf(t->request_id, sizeof t->request_id, "card:%lld:log:%u", (long long)out->card_id,
             (uint32_t)(k->counter - 1));
    t->has_mark = true;
    memcpy(t->mark, k->log, sizeof k->log);
    return LEAL_OK;
}

static leal_err desfire_credit_commit(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err = credit_commit(k, k->cents, k->log);
    if (err != LEAL_OK)
        return err;
    out->purse_cents += k->cents;
    out->taps = (uint32_t)(LAYOUT_COUNTER_START - (k->counter - 1));
    memcpy(out->mark, k->log, sizeof k->log);
    return LEAL_OK;
}

/* A terminal's transaction under the terminal key the read authenticated
 * with (terminal_session after a re-key): the state file at seq + 1, the
 * purse debited, the counter debited, one commit (3 or 4 RT at commit). */
static leal_err desfire_state_stage(void *s, const struct issuance_card *out, uint32_t points,
                                    uint32_t purse, struct ledger_pending_sync *p)
{
    struct desk *k = s;
    leal_err err;
    k->next = out->state;
    k->next.seq = out->state.seq + 1u;
    k->next.points = points;
    k->debit = out->purse_cents - (int32_t)purse;
    p->seq_before = out->taps;
    p->seq_after = (int64_t)out->taps + 1;
    if ((err = terminal_session(k, out)) != LEAL_OK)
        return err;
    return state_file_encode((uint64_t)out->card_id, &k->next, k->st);
}

static leal_err desfire_state_commit(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err;
    if ((err = desfire_write_data(&k->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, k->st,
                                  sizeof k->st)) != LEAL_OK)
        return err;
    if (k->debit > 0 &&
        (err = desfire_debit(&k->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, k->debit)) != LEAL_OK)
        return err;
    if ((err = desfire_debit(&k->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1)) != LEAL_OK ||
        (err = desfire_commit(&k->d)) != LEAL_OK)
        return err;
    out->state = k->next;
    out->purse_cents -= k->debit;
    out->taps++;
    return LEAL_OK;
}

/* Whose identity a card already carries, if any (a torn issuance may have
 * none yet: not an error, it is redone). Leaves leal's application selected
 * when it exists. */
static leal_err carried_identity(struct desk *k, struct issuance_card *out)
{
    uint8_t rec[IDENTITY_LEN];
    struct identity id;
    leal_err err = desfire_select_application(&k->d, leal_aid);
    if (err == LEAL_E_CARD_APPLICATION_NOT_FOUND)
        return LEAL_OK;
    if (err != LEAL_OK)
        return err;
    k->app_selected = true;
    err = desfire_read_data(&k->d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, sizeof rec, rec);
    if (err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD || err == LEAL_E_READER)
        return err;
    if (err == LEAL_OK && identity_decode(rec, sizeof rec, &id) == LEAL_OK) {
        out->card_id = (int64_t)id.card_id;
        out->issuer_id = id.issuer_id;
        out->program_id = id.program_id;
    }
    return LEAL_OK;
}

/* A D40 (keys extractable, REFERENCE.md 6) or unknown card is refused; an
 * EV2/EV3 must prove it is NXP's before anything is written. */
static leal_err desfire_inspect(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    struct desfire_version ver;
    leal_err err;
    if ((err = desfire_select_application(&k->d, picc_aid)) != LEAL_OK ||
        (err = desfire_get_version(&k->d, &ver)) != LEAL_OK)
        return err == LEAL_E_PROTOCOL ? LEAL_E_CARD_UNKNOWN : err;
    if ((k->tech = tech_of(&ver)) == 0)
        return LEAL_E_CARD_UNKNOWN;
    if (k->tech != LEDGER_TECH_DESFIRE_EV1 &&
        (err = genuine(k, k->sig, &k->sig_pending)) != LEAL_OK)
        return err;
    return carried_identity(k, out);
}

/* A fixed-UID card must match its recorded UID; a random-UID card's real UID
 * is only known after authentication, so any random-UID candidate is tried. */
static bool desfire_torn_here(void *s, const struct ledger_card *c)
{
    const struct desk *k = s;
    if (c->tech < LEDGER_TECH_DESFIRE_EV1 || c->tech > LEDGER_TECH_DESFIRE_EV3)
        return false;
    return k->random_uid ||
           (c->uid_len == k->rc.uid_len && memcmp(c->uid, k->rc.uid, c->uid_len) == 0);
}

/* The key-set version a card carries is its terminal key's (KEYS.md). */
static leal_err desfire_pending_record(void *s, bool resuming, struct ledger_card *lc)
{
    struct desk *k = s;
    const struct key_version *terminal_key;
    leal_err err = keyset_current(k->is->keys, k->is->program_id, KEY_ROLE_TERMINAL, &terminal_key);
    (void)resuming;
    if (err != LEAL_OK)
        return err;
    k->keyset = terminal_key->version;
    lc->tech = k->tech;
    lc->layout_version = LAYOUT_VERSION;
    lc->keyset_version = k->keyset;
    if (!k->random_uid) {
        memcpy(lc->uid, k->rc.uid, k->rc.uid_len);
        lc->uid_len = k->rc.uid_len;
    }
    return LEAL_OK;
}

/* Factory card: DES key -> leal's AES PICC key. Otherwise it must already
 * answer to leal's PICC key (a torn issuance: under the version it was torn
 * with; the verification read brings it to the current one), and is
 * formatted. Then the PICC key settings, and a random-UID card's real UID
 * (its originality signature checked against it now if it was not before). */
static leal_err picc_to_leal(struct desk *k, struct issuance_card *out)
{
    uint8_t picc_key[16], version;
    leal_err err = card_key(k, KEY_ROLE_PICC_MASTER, picc_aid, picc_key, &version);
    if (err == LEAL_OK)
        err = factory_picc_to_aes(reader_card_reader(k->reader), k->is->cp, picc_key, version,
                                  &k->d.round_trips);
    if (err == LEAL_E_CARD_AUTHENTICATION) {
        if ((err = desfire_select_application(&k->d, picc_aid)) == LEAL_OK &&
            (err = auth_card(k, 0, KEY_ROLE_PICC_MASTER, picc_aid)) == LEAL_OK) {
            out->resumed = true;
            err = desfire_format_picc(&k->d);
        } else if (err == LEAL_E_CARD_AUTHENTICATION) {
            err = LEAL_E_CARD_NOT_LEAL;
        }
    } else if (err == LEAL_OK && (err = desfire_authenticate_aes(&k->d, 0, picc_key)) == LEAL_OK) {
        k->ver[KEY_ROLE_PICC_MASTER] = version;
    }
    leal_wipe(picc_key, sizeof picc_key);
    if (err != LEAL_OK ||
        (err = desfire_change_key_settings(&k->d, LAYOUT_PICC_KEY_SETTINGS)) != LEAL_OK ||
        !k->random_uid)
        return err;
    if ((err = desfire_get_card_uid(&k->d, out->uid)) != LEAL_OK ||
        (k->sig_pending && (err = originality_verify(out->uid, k->sig)) != LEAL_OK))
        return err;
    out->uid_len = DESFIRE_UID_LEN;
    return LEAL_OK;
}

/* The card made: PICC key, leal's application with the opening state, the
 * application keys (now the current ones, recorded in the ledger), and a
 * replaced card's euros credited under key 1 (LOG_OP_REPLACE_IN). */
static leal_err desfire_personalise(void *s, int64_t card_id, const struct issuance_opening *o,
                                    struct issuance_card *out)
{
    struct desk *k = s;
    struct state_body state;
    leal_err err;
    memset(&state, 0, sizeof state);
    state.points = o->points;
    if (k->app_selected && (err = desfire_select_application(&k->d, picc_aid)) != LEAL_OK)
        return err;
    set_div_id(k, card_id);
    if ((err = picc_to_leal(k, out)) != LEAL_OK ||
        (err = personalise(k, card_id, k->tech, &state, k->keyset,
                           (int32_t)out->purse_cap_cents)) != LEAL_OK)
        return err;
    k->ver[KEY_ROLE_APP_MASTER] = current_version(k, KEY_ROLE_APP_MASTER);
    k->ver[KEY_ROLE_PURSE_CREDIT] = current_version(k, KEY_ROLE_PURSE_CREDIT);
    k->ver[KEY_ROLE_TERMINAL] = current_version(k, KEY_ROLE_TERMINAL);
    if ((err = record_versions(k, card_id)) != LEAL_OK)
        return err;
    if (o->purse > 0)
        return credit_card(k, (int32_t)o->purse, LOG_OP_REPLACE_IN);
    return LEAL_OK;
}

/* Verified as a terminal will read it. */
static leal_err desfire_verify(void *s, int64_t card_id, const struct issuance_opening *o,
                               struct issuance_card *out)
{
    leal_err err = read_card(s, out);
    if (err != LEAL_OK)
        return err;
    if (out->card_id != card_id || out->purse_cents != o->purse || out->state.points != o->points)
        return LEAL_E_CARD_TAMPERED;
    return LEAL_OK;
}

/* Back to the factory state: FormatPICC, then the factory DES PICC key. */
static leal_err desfire_erase(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err;
    (void)out;
    if ((err = desfire_select_application(&k->d, picc_aid)) != LEAL_OK ||
        (err = auth_card(k, 0, KEY_ROLE_PICC_MASTER, picc_aid)) != LEAL_OK ||
        (err = desfire_format_picc(&k->d)) != LEAL_OK ||
        (err = desfire_change_key_settings(&k->d, LAYOUT_PICC_KEY_SETTINGS_ERASED)) != LEAL_OK)
        return err;
    return factory_picc_to_des(&k->d);
}

/* Every card no other type claims: GetVersion tells the kind (inspect). */
static bool desfire_claims(const struct reader_card *rc, enum ledger_card_tech *tech)
{
    (void)rc;
    *tech = 0;
    return true;
}

const struct issuance_card_ops issuance_desfire_ops = {
    .name = "desfire",
    .claims = desfire_claims,
    .open = desfire_open,
    .close = desfire_close,
    .read = desfire_read,
    .judge_mark = desfire_judge_mark,
    .rekey = desfire_rekey,
    .credit_stage = desfire_credit_stage,
    .credit_commit = desfire_credit_commit,
    .state_stage = desfire_state_stage,
    .state_commit = desfire_state_commit,
    .inspect = desfire_inspect,
    .torn_here = desfire_torn_here,
    .pending_record = desfire_pending_record,
    .personalise = desfire_personalise,
    .verify = desfire_verify,
    .erase_identify = NULL,
    .erase = desfire_erase,
};
