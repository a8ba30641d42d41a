/* issuance_desfire.c - the desk on MIFARE DESFire (LAYOUT.md 2; issuance_ops.h):
 * every card exchange through cardlayout/desfire/desfire_card.h, with the
 * card keys diversified here from the keystore; a blank card's PICC through
 * factory.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardlayout/desfire/desfire_card.h"
#include "cardlayout/layout.h"
#include "factory.h"
#include "issuance_books.h"
#include "issuance_ops.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/derive.h"
#include "originality.h"

/* One desk operation on one card. */
struct desk {
    struct issuance *is;
    struct reader *reader;
    struct desfire_card c;
    struct desfire_card_keys keys;
    struct reader_card rc;
    struct card_view view; /* the card as the last read (or issuance) left it */
    /* Issuance: the kind GetVersion named, the originality signature read
     * (checked once the UID shows: sig_pending), what the inspection found
     * (app_selected: leal's application exists; app_left: without an
     * identity, a torn issuance's), what personalisation writes. */
    enum ledger_card_tech tech;
    uint8_t sig[DESFIRE_SIG_LEN];
    bool sig_pending;
    bool app_selected, app_left;
    struct desfire_card_issue issue;
    /* What a stage prepared for its commit: a credit (its log record), or a
     * terminal's transaction (the next state, the purse debit). */
    struct log_record rec;
    struct state_body next;
    int32_t debit;
    bool upgraded;               /* the session is key 0's since the upgrade */
    struct bono_file bonos_next; /* a bono sale's or use's file */
};

/* The card key source of desfire_card.h, from the keystore's program masters. */
static leal_err keystore_current(void *ctx, enum key_role role, uint8_t *version)
{
    const struct issuance *is = ctx;
    const struct key_version *v;
    leal_err err = keyset_current(is->keys, is->program_id, role, &v);
    if (err == LEAL_OK)
        *version = v->version;
    return err;
}

static leal_err keystore_card_key(void *ctx, const struct desfire_card_div *card,
                                  enum key_role role, uint8_t version, const uint8_t aid[3],
                                  uint8_t out[16])
{
    const struct issuance *is = ctx;
    const struct key_version *v;
    leal_err err = keyset_version(is->keys, is->program_id, role, version, &v);
    if (err != LEAL_OK)
        return err;
    return derive_card_key(
        is->cp, v->key,
        &(struct derive_card_input){card->id, card->len, aid, is->keys->issuer_id, is->program_id},
        out);
}

/* The session kind for a card of tech (DESFIRE_CARD_SM_EV2 on EV2/EV3). */
static void desk_sm(struct desk *k, enum ledger_card_tech tech)
{
    k->c.sm = tech == LEDGER_TECH_DESFIRE_EV2 || tech == LEDGER_TECH_DESFIRE_EV3
                  ? DESFIRE_CARD_SM_EV2
                  : DESFIRE_CARD_SM_AA;
}

/* The card as the contact found it: the reader's card info is the one
 * issuance.c asked for (once per operation). */
static void desk_open(struct desk *k, const struct issuance_contact *c)
{
    struct desfire_card_setup s;
    memset(k, 0, sizeof *k);
    k->is = c->is;
    k->reader = c->reader;
    k->rc = c->rc;
    k->keys = (struct desfire_card_keys){c->is, keystore_current, keystore_card_key};
    s = (struct desfire_card_setup){reader_card_reader(c->reader),
                                    c->is->cp,
                                    &k->keys,
                                    c->is->keys->issuer_id,
                                    c->is->program_id,
                                    k->rc.uid,
                                    k->rc.uid_len};
    desfire_card_open(&k->c, &s);
}

/* The card's view into what the desk reports. */
static void view_out(const struct card_view *v, struct issuance_card *out)
{
    out->card_id = (int64_t)v->card_id;
    out->issuer_id = v->issuer_id;
    out->program_id = v->program_id;
    out->key_set_version = v->key_set_version;
    out->random_uid = v->random_uid;
    out->tech = (enum ledger_card_tech)v->kind;
    memcpy(out->uid, v->uid, v->uid_len);
    out->uid_len = v->uid_len;
    out->state = v->state;
    out->layout_version = v->layout_version;
    out->bonos = v->bonos;
    out->purse_cents = v->purse_cents;
    out->mirror_differs = v->mirror_differs;
    out->taps = v->taps;
    out->has_tmc = v->has_tmc;
    out->tmc = v->tmc;
    out->stored_value = v->stored_value;
    memcpy(out->mark, v->mark, sizeof out->mark);
    out->has_mark = v->has_mark;
}

/* EV2/EV3: NXP's originality signature (originality.h), read outside a
 * session and checked against the card's 7-byte UID. A card that cannot
 * answer Read_Sig is not genuine either. A random-UID card shows its UID only
 * to GetCardUID: read under the factory key, changing nothing; a card not on
 * its factory key (our own torn issuance) is checked once issuance has read
 * its UID (sig_pending). */
static leal_err genuine(struct desk *k)
{
    uint8_t uid[DESFIRE_UID_LEN];
    leal_err err = desfire_read_sig(&k->c.d, k->sig);
    k->sig_pending = false;
    if (err >= LEAL_E_CARD_NO_CHANGES && err <= LEAL_E_CARD_STATUS)
        return LEAL_E_CARD_NOT_GENUINE; /* a card status instead of a signature */
    if (err != LEAL_OK)
        return err;
    if (!k->c.random_uid)
        return k->rc.uid_len == DESFIRE_UID_LEN ? originality_verify(k->rc.uid, k->sig)
                                                : LEAL_E_CARD_NOT_GENUINE;
    err = factory_card_uid(reader_card_reader(k->reader), k->is->cp, uid, &k->c.d.round_trips);
    if (err == LEAL_OK)
        err = originality_verify(uid, k->sig);
    else if (err == LEAL_E_CARD_AUTHENTICATION) {
        k->sig_pending = true;
        err = LEAL_OK;
    }
    leal_wipe(uid, sizeof uid);
    return err;
}

/* The newest log record must be one the ledger knows: the one it last saw or
 * wrote, or its top-up in flight (intent_mark). Anything else was written by
 * someone holding the card's keys: a verdict, never a posting. A card from
 * before the desk kept marks (none recorded) has its record taken as seen.
 * The record is read through the codec; one it does not read is named by
 * its bytes. */
static void desfire_judge_mark(void *s, const struct ledger_card *lc, bool intent_mark,
                               const struct issuance_card *out, char *why, size_t why_len)
{
    const uint8_t *log = out->mark;
    struct log_record rec;
    char amount[32];
    (void)s;
    why[0] = '\0';
    /* Every purse move writes the mirror in its own transaction: a mirror
     * that is not the purse was written without one (a terminal key). */
    if (out->mirror_differs) {
        issuance_eur_text(out->purse_cents, amount, sizeof amount);
        snprintf(why, why_len,
                 "its state's purse mirror is not the %s its purse holds: written by a "
                 "terminal key, not with a purse move (LAYOUT.md 2.10)",
                 amount);
        return;
    }
    if (intent_mark || !lc->has_seen_mark ||
        leal_ct_equal(log, lc->seen_mark, LAYOUT_LOG_RECORD_LEN))
        return;
    if (log_record_decode(log, LAYOUT_LOG_RECORD_LEN, &rec) == LEAL_OK &&
        rec.op == LOG_RECORD_TOPUP) {
        issuance_eur_text(rec.amount, amount, sizeof amount);
        snprintf(why, why_len,
                 "its log holds a top-up of %s (counter %u) that the ledger never started", amount,
                 rec.counter);
        return;
    }
    issuance_eur_text((int32_t)load_be32(log + 8), amount, sizeof amount);
    snprintf(why, why_len,
             "its log holds a record the desk never wrote (type %u, op %u, counter %u, "
             "amount %s)",
             log[1], log[2], load_be32(log + 4), amount);
}

/* The DESFire roles: the PICC master key and the application's keys 0..2. */
_Static_assert(KEY_ROLE_TMAC <= LEDGER_KEY_ROLES, "the ledger records the tmac key");
static const enum key_role desfire_roles[4] = {KEY_ROLE_PICC_MASTER, KEY_ROLE_APP_MASTER,
                                               KEY_ROLE_PURSE_CREDIT, KEY_ROLE_TERMINAL};

/* The versions the ledger recorded for the card, where this contact knows
 * none; a tmac key recorded names a Transaction MAC file, which the read then
 * reads (the card's TMC, LAYOUT.md 2.9). */
static leal_err learn_versions(struct desk *k, int64_t card_id)
{
    uint8_t v[LEDGER_KEY_ROLES];
    leal_err err = ledger_card_keys_get(k->is->ledger, card_id, v);
    for (int i = 0; err == LEAL_OK && i < 4; i++)
        if (k->c.ver[desfire_roles[i]] == 0)
            k->c.ver[desfire_roles[i]] = v[desfire_roles[i] - 1];
    if (err == LEAL_OK && k->c.ver[KEY_ROLE_TMAC] == 0)
        k->c.ver[KEY_ROLE_TMAC] = v[KEY_ROLE_TMAC - 1];
    return err;
}

/* EV2 secure messaging for a card the ledger records as EV2/EV3 (issuance
 * recorded it from GetVersion under NXP's originality signature), EV1's AA
 * otherwise; a card the ledger does not know keeps AA and is judged by the
 * read. Anti-downgrade: an EV2/EV3 on record that answers 71 as an EV1 is
 * refused (DESFIRE_CARD_SM_EV2 has no fallback). */
static leal_err learn_tech(struct desk *k, int64_t card_id)
{
    struct ledger_card lc;
    leal_err err = ledger_card_find_by_id(k->is->ledger, card_id, &lc);
    if (err == LEAL_E_UNKNOWN_ID)
        return LEAL_OK;
    if (err == LEAL_OK)
        desk_sm(k, lc.tech);
    return err;
}

/* What the card carries now, into the ledger: the four keys, and the tmac
 * key of an EV2/EV3's Transaction MAC file once this contact made it
 * (LAYOUT.md 2.9; ChangeKey never reaches it, so it is recorded once). */
static leal_err record_versions(struct desk *k, int64_t card_id)
{
    uint8_t v[LEDGER_KEY_ROLES] = {0};
    for (int i = 0; i < 4; i++)
        v[desfire_roles[i] - 1] = k->c.ver[desfire_roles[i]];
    v[KEY_ROLE_TMAC - 1] = k->c.ver[KEY_ROLE_TMAC];
    return ledger_card_keys_set(k->is->ledger, card_id, v);
}

/* Every card key to the keystore's current version (KEYS.md rotation), right
 * after a read (desfire_card_rekey: nothing is sent when the ledger records
 * the current versions); the ledger records the versions once the card has
 * them, so a tear is finished at the next contact. */
static leal_err desfire_rekey(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    bool stale;
    unsigned rekeyed = 0;
    leal_err err = desfire_card_rekey(&k->c, &stale, &rekeyed);
    out->rekeyed += (int)rekeyed;
    if (err == LEAL_OK && stale)
        err = record_versions(k, out->card_id);
    return err;
}

/* A version-1 card to version 2 (desfire_card_upgrade, 6 RT): the bono file
 * made and the state rewritten with version 02, in one commit. */
static leal_err desfire_upgrade(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err = desfire_card_upgrade(&k->c, &k->view);
    k->upgraded = true;
    if (err != LEAL_OK)
        return err;
    view_out(&k->view, out);
    out->upgraded = true;
    return LEAL_OK;
}

/* An EV2/EV3's Transaction MAC file, after the read (desfire_card_add_tmac:
 * 4 RT; a torn call's file found and named, 7): the session is key 0's. */
static leal_err desfire_add_tmac(void *s, uint8_t known, uint8_t *version, bool *made)
{
    struct desk *k = s;
    k->upgraded = true;
    return desfire_card_add_tmac(&k->c, known, version, made);
}

/* What a terminal reads (desfire_card_read: 8 RT, random-UID 9; a version-2 card's bonos + 1; a
 * Transaction MAC file the ledger records + 1), with
 * the key versions the ledger recorded for the card; without a record, the identity's key-set
 * version (the terminal key's at issuance). */
static leal_err desfire_read(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err = desfire_card_identify(&k->c, &k->view);
    if (k->view.card_id) {
        out->card_id = (int64_t)k->view.card_id;
        out->issuer_id = k->view.issuer_id;
        out->program_id = k->view.program_id;
        out->key_set_version = k->view.key_set_version;
        out->random_uid = k->view.random_uid;
    }
    if (err != LEAL_OK || (err = learn_versions(k, out->card_id)) != LEAL_OK ||
        (err = learn_tech(k, out->card_id)) != LEAL_OK ||
        (err = desfire_card_read(&k->c, &k->view)) != LEAL_OK)
        return err;
    view_out(&k->view, out);
    return LEAL_OK;
}

/* A top-up's Credit prepared: key 1 and the counter (desfire_card_credit_begin),
 * which must be the one the read saw (same session), and the log record the
 * card will show; nothing written. */
static leal_err desfire_credit_stage(void *s, const struct issuance_card *out, int64_t cents,
                                     struct ledger_pending_topup *t)
{
    struct desk *k = s;
    int32_t counter;
    leal_err err = desfire_card_credit_begin(&k->c, &counter);
    if (err != LEAL_OK)
        return err;
    if ((uint32_t)(LAYOUT_COUNTER_START - counter) != out->taps)
        return LEAL_E_CARD_TAMPERED;
    k->rec = (struct log_record){LOG_RECORD_TOPUP, (uint32_t)(counter - 1), (int32_t)cents, 0};
    if ((err = log_record_encode(&k->rec, t->mark)) != LEAL_OK)
        return err;
    t->has_mark = true;
    t->seq_before = out->taps;
    t->seq_after = (int64_t)out->taps + 1;
    t->purse_after = out->purse_cents + cents;
    snprintf(t->request_id, sizeof t->request_id, "card:%lld:log:%u", (long long)out->card_id,
             k->rec.counter);
    return LEAL_OK;
}

static leal_err desfire_credit_commit(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err = desfire_card_credit_commit(&k->c, k->rec.amount, &k->rec, &k->view);
    if (err != LEAL_OK)
        return err;
    out->purse_cents = k->view.purse_cents;
    out->taps = k->view.taps;
    out->state = k->view.state; /* layout 3: the state written with the mirror, seq + 1 */
    memcpy(out->mark, k->view.mark, sizeof out->mark);
    out->has_mark = true;
    return LEAL_OK;
}

/* A terminal's transaction under the terminal key the read authenticated
 * with (opened again after a re-key: 3 RT): the state file at seq + 1, the
 * purse debited, the counter debited, one commit (3 or 4 RT at commit). */
static leal_err desfire_state_stage(void *s, const struct issuance_card *out, uint32_t points,
                                    uint32_t purse, struct ledger_pending_sync *p)
{
    struct desk *k = s;
    k->next = out->state;
    k->next.seq = out->state.seq + 1u;
    k->next.points = points;
    k->debit = out->purse_cents - (int32_t)purse;
    p->seq_before = out->taps;
    p->seq_after = (int64_t)out->taps + 1;
    return out->rekeyed == 0 && !k->upgraded ? LEAL_OK : desfire_card_terminal_session(&k->c);
}

static leal_err desfire_state_commit(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err = desfire_card_write_state(&k->c, &k->next, k->debit, &k->view);
    if (err != LEAL_OK)
        return err;
    out->state = k->view.state;
    out->purse_cents = k->view.purse_cents;
    out->taps = k->view.taps;
    return LEAL_OK;
}

/* A bono sale or use under the terminal key the read authenticated with
 * (opened again after a re-key or an upgrade: 3 RT): nothing written here. */
static leal_err desfire_bono_stage(void *s, const struct issuance_card *out,
                                   const struct bono_file *next, struct ledger_bono_intent *p)
{
    struct desk *k = s;
    k->bonos_next = *next;
    p->seq_before = out->taps;
    p->seq_after = (int64_t)out->taps + 1;
    return out->rekeyed == 0 && !k->upgraded ? LEAL_OK : desfire_card_terminal_session(&k->c);
}

/* WriteData bonos, Debit counter, Commit (desfire_card_write_bonos, 3 RT). */
static leal_err desfire_bono_commit(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err = desfire_card_write_bonos(&k->c, &k->bonos_next, &k->view);
    if (err != LEAL_OK)
        return err;
    out->bonos = k->view.bonos;
    out->taps = k->view.taps;
    return LEAL_OK;
}

/* Whose identity a card already carries, if any. A leal application without
 * an identity is a torn issuance's (not an error, it is redone); one without
 * any identity file is what a setup torn under the factory key leaves
 * (app_left: deleted in the next setup's session). Leaves leal's application
 * selected when it exists. */
static leal_err carried_identity(struct desk *k, struct issuance_card *out)
{
    uint8_t rec[IDENTITY_LEN];
    struct identity id;
    leal_err err = desfire_select_application(&k->c.d, desfire_card_leal_aid);
    if (err == LEAL_E_CARD_APPLICATION_NOT_FOUND)
        return LEAL_OK;
    if (err != LEAL_OK)
        return err;
    k->app_selected = true;
    err = desfire_read_data(&k->c.d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, sizeof rec, rec);
    if (err == LEAL_E_CARD_REMOVED || err == LEAL_E_NO_CARD || err == LEAL_E_READER)
        return err;
    k->app_left = err == LEAL_E_CARD_FILE_NOT_FOUND;
    if (err == LEAL_OK && identity_decode(rec, sizeof rec, &id) == LEAL_OK) {
        out->card_id = (int64_t)id.card_id;
        out->issuer_id = id.issuer_id;
        out->program_id = id.program_id;
    }
    return LEAL_OK;
}

/* A D40 (keys extractable: Oswald and Paar, CHES 2011) or unknown card is refused; an
 * EV2/EV3 must prove it is NXP's before anything is written. */
static leal_err desfire_inspect(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    struct desfire_version ver;
    leal_err err;
    if ((err = desfire_select_application(&k->c.d, desfire_card_picc_aid)) != LEAL_OK ||
        (err = desfire_get_version(&k->c.d, &ver)) != LEAL_OK)
        return err == LEAL_E_PROTOCOL ? LEAL_E_CARD_UNKNOWN : err;
    if ((k->tech = (enum ledger_card_tech)desfire_card_kind(&ver)) == 0)
        return LEAL_E_CARD_UNKNOWN;
    if (k->tech != LEDGER_TECH_DESFIRE_EV1 && (err = genuine(k)) != LEAL_OK)
        return err;
    desk_sm(k, k->tech); /* issuance's sessions: EV2 messaging on a genuine EV2/EV3 */
    /* An EV2/EV3 gets the Transaction MAC file (LAYOUT.md 2.9): a keystore
     * without the tmac key is refused before anything is written. */
    k->issue.tmac = k->tech != LEDGER_TECH_DESFIRE_EV1;
    if (k->issue.tmac && keystore_current(k->is, KEY_ROLE_TMAC, &(uint8_t){0}) != LEAL_OK)
        return LEAL_E_KEYSTORE_NO_TMAC;
    return carried_identity(k, out);
}

/* A fixed-UID card must match its recorded UID; a random-UID card's real UID
 * is only known after authentication, so any random-UID candidate is tried. */
static bool desfire_torn_here(void *s, const struct ledger_card *c)
{
    const struct desk *k = s;
    if (c->tech < LEDGER_TECH_DESFIRE_EV1 || c->tech > LEDGER_TECH_DESFIRE_EV3)
        return false;
    return k->c.random_uid ||
           (c->uid_len == k->rc.uid_len && memcmp(c->uid, k->rc.uid, c->uid_len) == 0);
}

/* The key-set version a card carries is its terminal key's (KEYS.md). */
static leal_err desfire_pending_record(void *s, bool resuming, struct ledger_card *lc)
{
    struct desk *k = s;
    leal_err err = keystore_current(k->is, KEY_ROLE_TERMINAL, &k->issue.identity.key_set_version);
    (void)resuming;
    if (err != LEAL_OK)
        return err;
    lc->tech = k->tech;
    lc->layout_version = LAYOUT_VERSION_BONOS; /* LAYOUT.md 4: made with the bono file */
    lc->keyset_version = k->issue.identity.key_set_version;
    if (!k->c.random_uid) {
        memcpy(lc->uid, k->rc.uid, k->rc.uid_len);
        lc->uid_len = k->rc.uid_len;
    }
    return LEAL_OK;
}

/* A torn issuance's card, on leal's PICC key at the version it was torn with
 * (the next read brings it to the current one): formatted and given its key
 * settings again; a random-UID card's UID read under that key, and its
 * signature checked if still due. Another PICC key: not leal's card. */
static leal_err picc_resume(struct desk *k, struct issuance_card *out)
{
    leal_err err;
    if ((err = desfire_select_application(&k->c.d, desfire_card_picc_aid)) != LEAL_OK ||
        (err = desfire_card_auth(&k->c, 0, KEY_ROLE_PICC_MASTER, desfire_card_picc_aid)) != LEAL_OK)
        return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_NOT_LEAL : err;
    out->resumed = true;
    if ((err = desfire_format_picc(&k->c.d)) != LEAL_OK ||
        (err = desfire_change_key_settings(&k->c.d, LAYOUT_PICC_KEY_SETTINGS)) != LEAL_OK ||
        !k->c.random_uid)
        return err;
    if ((err = desfire_get_card_uid(&k->c.d, out->uid)) != LEAL_OK ||
        (k->sig_pending && (err = originality_verify(out->uid, k->sig)) != LEAL_OK))
        return err;
    out->uid_len = DESFIRE_UID_LEN;
    return LEAL_OK;
}

/* The PICC made leal's: a blank card in one session under its factory key
 * (leal's application created, after deleting the empty one a setup torn
 * under that key left; the PICC key settings; the PICC master key to leal's
 * AES key, which ends the session: 5 RT, 6 with the delete), else our own
 * torn issuance taken up again (picc_resume). Everything that refuses a card
 * ran before (inspect), and the session's first command authenticates with
 * the public factory key: a card on any other PICC key is written nothing
 * here. */
static leal_err picc_to_leal(struct desk *k, struct issuance_card *out)
{
    uint8_t picc_key[16];
    struct factory_setup s = {picc_key,
                              0,
                              LAYOUT_PICC_KEY_SETTINGS,
                              k->app_left,
                              desfire_card_leal_aid,
                              LAYOUT_APP_KEY_SETTINGS,
                              LAYOUT_APP_SETTINGS2,
                              LAYOUT_DF_ISO_FID,
                              desfire_card_df_name,
                              LAYOUT_DF_NAME_LEN};
    leal_err err;
    if (k->app_selected &&
        (err = desfire_select_application(&k->c.d, desfire_card_picc_aid)) != LEAL_OK)
        return err;
    if ((err = keystore_current(k->is, KEY_ROLE_PICC_MASTER, &s.version)) != LEAL_OK ||
        (err = keystore_card_key(k->is, &k->c.div, KEY_ROLE_PICC_MASTER, s.version,
                                 desfire_card_picc_aid, picc_key)) != LEAL_OK)
        goto out;
    err = factory_picc_setup(reader_card_reader(k->reader), k->is->cp, &s, &k->c.d.round_trips);
    if (err == LEAL_OK) {
        k->c.ver[KEY_ROLE_PICC_MASTER] = s.version;
        k->issue.app_created = true;
        out->resumed = k->app_left;
    } else if (err == LEAL_E_CARD_AUTHENTICATION) {
        err = picc_resume(k, out);
    }
out:
    leal_wipe(picc_key, sizeof picc_key);
    return err;
}

/* What personalisation writes: the identity (today's day), the opening
 * points, the purse's upper limit (the program's cap, kept by the card). */
static void issue_plan(struct desk *k, int64_t card_id, const struct issuance_opening *o,
                       const struct issuance_card *out)
{
    struct identity *id = &k->issue.identity;
    id->card_id = (uint64_t)card_id;
    id->issuer_id = k->is->keys->issuer_id;
    id->program_id = k->is->program_id;
    id->card_kind = (uint8_t)k->tech;
    id->flags = k->c.random_uid ? IDENTITY_FLAG_RANDOM_UID : 0;
    id->issued_day = (uint32_t)(time(NULL) / 86400);
    memset(&k->issue.state, 0, sizeof k->issue.state);
    k->issue.state.points = o->points;
    k->issue.state.period = o->period; /* welcomed: RULES.md 3 */
    k->issue.state.tier = o->tier;     /* a replacement's: the account's */
    memcpy(k->issue.state.buckets, o->buckets, sizeof o->buckets);
    k->issue.bonos = o->bonos; /* a replacement's: the account's (LAYOUT.md 4.2) */
    k->issue.purse_cap = (int32_t)out->purse_cap_cents;
}

/* A replaced card's euros onto the new card being issued (still PENDING: the
 * issuance's verification and activation settle it); k->view follows. */
static leal_err credit_replaced(struct desk *k, int32_t cents)
{
    struct log_record rec = {LOG_RECORD_REPLACE_IN, 0, cents, 0};
    int32_t counter;
    leal_err err = desfire_card_credit_begin(&k->c, &counter);
    if (err != LEAL_OK)
        return err;
    rec.counter = (uint32_t)(counter - 1);
    return desfire_card_credit_commit(&k->c, cents, &rec, &k->view);
}

/* The card made: PICC (picc_to_leal), leal's application with the opening
 * state and the application keys at their current versions (recorded in the
 * ledger), and a replaced card's euros credited under key 1 (its log record
 * LOG_RECORD_REPLACE_IN). A random-UID card's UID, when the factory key did
 * not show it, is read under key 0 before the files are created (+1 RT). */
static leal_err desfire_personalise(void *s, int64_t card_id, const struct issuance_opening *o,
                                    struct issuance_card *out)
{
    struct desk *k = s;
    bool uid_due;
    leal_err err;
    desfire_card_set_card_id(&k->c, (uint64_t)card_id);
    issue_plan(k, card_id, o, out);
    if ((err = picc_to_leal(k, out)) != LEAL_OK)
        return err;
    uid_due = k->c.random_uid && out->uid_len == 0;
    if ((err = desfire_card_personalise(&k->c, &k->issue, uid_due ? out->uid : NULL)) != LEAL_OK)
        return err;
    if (uid_due) {
        out->uid_len = DESFIRE_UID_LEN;
        if (k->sig_pending && (err = originality_verify(out->uid, k->sig)) != LEAL_OK)
            return err;
    }
    if ((err = record_versions(k, card_id)) != LEAL_OK)
        return err;
    desfire_card_issued_view(&k->c, &k->issue, k->c.random_uid ? out->uid : k->rc.uid,
                             k->c.random_uid ? out->uid_len : k->rc.uid_len, &k->view);
    if (o->purse > 0)
        return credit_replaced(k, (int32_t)o->purse);
    return LEAL_OK;
}

/* Verified as a terminal opens it: the new terminal key and the state read
 * back (3 RT; every other write's answer was checked under the session that
 * made it), then what the desk made is what was asked for. */
static leal_err desfire_verify(void *s, int64_t card_id, const struct issuance_opening *o,
                               struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err = desfire_card_verify(&k->c, &k->view);
    if (err != LEAL_OK)
        return err;
    view_out(&k->view, out);
    if (out->card_id != card_id || out->purse_cents != o->purse || out->state.points != o->points ||
        out->state.tier != o->tier || memcmp(out->state.buckets, o->buckets, sizeof o->buckets) ||
        memcmp(&out->bonos, &o->bonos, sizeof o->bonos))
        return LEAL_E_CARD_TAMPERED;
    return LEAL_OK;
}

/* Back to the factory state: FormatPICC, then the factory DES PICC key. */
static leal_err desfire_erase(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    leal_err err;
    (void)out;
    k->c.sm = DESFIRE_CARD_SM_AA; /* factory_picc_to_des sends an EV1 cryptogram */
    if ((err = desfire_select_application(&k->c.d, desfire_card_picc_aid)) != LEAL_OK ||
        (err = desfire_card_auth(&k->c, 0, KEY_ROLE_PICC_MASTER, desfire_card_picc_aid)) !=
            LEAL_OK ||
        (err = desfire_format_picc(&k->c.d)) != LEAL_OK ||
        (err = desfire_change_key_settings(&k->c.d, LAYOUT_PICC_KEY_SETTINGS_ERASED)) != LEAL_OK)
        return err;
    return factory_picc_to_des(&k->c.d);
}

static leal_err desfire_open(const struct issuance_contact *c, void **session)
{
    struct desk *k = calloc(1, sizeof *k);
    if (k == NULL)
        return LEAL_E_NO_MEMORY;
    *session = k;
    desk_open(k, c);
    return LEAL_OK;
}

static void desfire_close(void *s, struct issuance_card *out)
{
    struct desk *k = s;
    if (k == NULL)
        return;
    if (out) {
        out->round_trips += k->c.d.round_trips;
        out->bytes += k->c.d.bytes_out + k->c.d.bytes_in;
        out->missing_role = k->c.missing_role;
        out->missing_version = k->c.missing_version;
    }
    desfire_card_clear(&k->c);
    leal_wipe(k, sizeof *k);
    free(k);
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
    .upgrade = desfire_upgrade,
    .add_tmac = desfire_add_tmac,
    .credit_stage = desfire_credit_stage,
    .credit_commit = desfire_credit_commit,
    .state_stage = desfire_state_stage,
    .state_commit = desfire_state_commit,
    .bono_stage = desfire_bono_stage,
    .bono_commit = desfire_bono_commit,
    .inspect = desfire_inspect,
    .torn_here = desfire_torn_here,
    .pending_record = desfire_pending_record,
    .personalise = desfire_personalise,
    .verify = desfire_verify,
    .erase_identify = NULL,
    .erase = desfire_erase,
};
