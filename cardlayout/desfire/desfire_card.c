/* desfire_card.c - leal's DESFire card operations (LAYOUT.md 2; desfire_card.h). */
#include "desfire_card.h"

#include "cardlayout/desfire/desfire_tmac.h"
#include "cardlayout/layout.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

const uint8_t desfire_card_picc_aid[3] = {0, 0, 0};
const uint8_t desfire_card_leal_aid[3] = {LAYOUT_DF_AID_0, LAYOUT_DF_AID_1, LAYOUT_DF_AID_2};
const uint8_t desfire_card_df_name[LAYOUT_DF_NAME_LEN] = {0xF0, 'L', 'E', 'A', 'L', '0', '1'};
static const uint8_t zero_key[16];
static const struct log_record issued_record = {LOG_RECORD_ISSUE, LAYOUT_COUNTER_START, 0, 0};
/* LAYOUT.md 4.2: layout version 2's bono file, made at issuance or by an upgrade. */
static const struct desfire_data_file bono_file = {LAYOUT_FILE_BONOS,    true,
                                                   LAYOUT_ISO_FID_BONOS, DESFIRE_COMM_MACED,
                                                   LAYOUT_AR_BONOS,      BONO_FILE_LEN};

/* The DESFire roles: the PICC master key and the application's keys 0..2. */
static const enum key_role app_roles[3] = {KEY_ROLE_APP_MASTER, KEY_ROLE_PURSE_CREDIT,
                                           KEY_ROLE_TERMINAL};

void desfire_card_open(struct desfire_card *c, const struct desfire_card_setup *s)
{
    size_t n = s->uid_len <= LEAL_MAX_UID ? s->uid_len : LEAL_MAX_UID;
    leal_memset(c, 0, sizeof *c);
    desfire_init(&c->d, s->reader, s->cp);
    c->keys = s->keys;
    c->issuer_id = s->issuer_id;
    c->program_id = s->program_id;
    if (n)
        leal_memcpy(c->rf_uid, s->uid, n);
    c->rf_uid_len = n;
    c->random_uid = n == 4 && c->rf_uid[0] == 0x08;
    leal_memcpy(c->div.id, c->rf_uid, n);
    c->div.len = n;
}

void desfire_card_clear(struct desfire_card *c)
{
    if (c == NULL)
        return;
    desfire_clear(&c->d);
    leal_wipe(c, sizeof *c);
}

void desfire_card_set_card_id(struct desfire_card *c, uint64_t card_id)
{
    if (!c->random_uid)
        return; /* a fixed-UID card is diversified with its UID */
    store_be64(c->div.id, card_id);
    c->div.len = 8;
}

uint8_t desfire_card_kind(const struct desfire_version *v)
{
    switch (v->hw[3]) {
    case 0x01:
        return IDENTITY_DESFIRE_EV1;
    case 0x12:
    case 0x22:
        return IDENTITY_DESFIRE_EV2;
    case 0x33:
        return IDENTITY_DESFIRE_EV3;
    default:
        return 0;
    }
}

static leal_err current_of(const struct desfire_card *c, enum key_role role, uint8_t *version)
{
    *version = 0;
    return c->keys->current_version(c->keys->ctx, role, version);
}

static uint8_t current_version(const struct desfire_card *c, enum key_role role)
{
    uint8_t v = 0;
    return c->keys->current_version(c->keys->ctx, role, &v) == LEAL_OK ? v : 0;
}

/* The card key of role at version; a version the source does not hold is
 * LEAL_E_CARD_KEY_VERSION, the role and version kept for the message. */
static leal_err key_at(struct desfire_card *c, enum key_role role, uint8_t version,
                       const uint8_t aid[3], uint8_t out[16])
{
    leal_err err = c->keys->card_key(c->keys->ctx, &c->div, role, version, aid, out);
    if (err == LEAL_E_KEY_VERSION) {
        c->missing_role = (uint8_t)role;
        c->missing_version = version;
        return LEAL_E_CARD_KEY_VERSION;
    }
    return err;
}

/* key_no with key, as c->sm says. */
static leal_err auth_key(struct desfire_card *c, uint8_t key_no, const uint8_t key[16])
{
    leal_err err;
    if (c->sm == DESFIRE_CARD_SM_AA)
        return desfire_authenticate_aes(&c->d, key_no, key);
    err = desfire_authenticate_ev2_first(&c->d, key_no, key);
    /* An EV1 does not know 71; the application stays selected. */
    if (err == LEAL_E_CARD_ILLEGAL_COMMAND && c->sm == DESFIRE_CARD_SM_EV2_FIRST) {
        c->sm = DESFIRE_CARD_SM_AA;
        err = desfire_authenticate_aes(&c->d, key_no, key);
    }
    return err;
}

static leal_err auth_at(struct desfire_card *c, uint8_t key_no, enum key_role role, uint8_t version,
                        const uint8_t aid[3])
{
    uint8_t key[16];
    leal_err err = key_at(c, role, version, aid, key);
    if (err == LEAL_OK)
        err = auth_key(c, key_no, key);
    leal_wipe(key, sizeof key);
    return err;
}

leal_err desfire_card_auth(struct desfire_card *c, uint8_t key_no, enum key_role role,
                           const uint8_t aid[3])
{
    uint8_t tried = c->ver[role] ? c->ver[role] : current_version(c, role), named;
    leal_err err = auth_at(c, key_no, role, tried, aid);
    if (err == LEAL_E_CARD_AUTHENTICATION || err == LEAL_E_CARD_KEY_VERSION) {
        leal_err asked = desfire_get_key_version(&c->d, key_no, &named);
        if (asked != LEAL_OK)
            return asked;
        if (named != tried) {
            c->missing_role = c->missing_version = 0;
            err = auth_at(c, key_no, role, named, aid);
            tried = named;
        }
    }
    if (err == LEAL_OK)
        c->ver[role] = tried;
    return err;
}

leal_err desfire_card_identify(struct desfire_card *c, struct card_view *out)
{
    uint8_t rec[IDENTITY_LEN];
    struct identity id;
    leal_err err;

    leal_memset(out, 0, sizeof *out);
    if ((err = desfire_select_application(&c->d, desfire_card_leal_aid)) != LEAL_OK)
        return err == LEAL_E_CARD_APPLICATION_NOT_FOUND ? LEAL_E_CARD_NOT_LEAL : err;
    if ((err = desfire_read_data(&c->d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, IDENTITY_LEN,
                                 rec)) != LEAL_OK)
        return err;
    if ((err = identity_decode(rec, sizeof rec, &id)) != LEAL_OK)
        return err == LEAL_E_LAYOUT_VERSION ? err : LEAL_E_CARD_TAMPERED;
    card_view_set_identity(out, &id);
    if (id.issuer_id != c->issuer_id || id.program_id != c->program_id)
        return LEAL_E_CARD_NOT_LEAL; /* another issuer's or program's card */
    desfire_card_set_card_id(c, id.card_id);
    return LEAL_OK;
}

/* The files a terminal reads, under the session read opened. */
static leal_err read_files(struct desfire_card *c, uint8_t st[STATE_FILE_MAX], size_t *st_len,
                           int32_t *purse, int32_t *counter, uint8_t log[LAYOUT_LOG_RECORD_LEN])
{
    leal_err err;
    if ((err = desfire_read_file(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, st, STATE_FILE_MAX,
                                 st_len)) != LEAL_OK ||
        (err = desfire_get_value(&c->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, purse)) != LEAL_OK ||
        (err = desfire_get_value(&c->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, counter)) !=
            LEAL_OK)
        return err;
    return desfire_read_records(
        &c->d,
        &(struct desfire_records){LAYOUT_FILE_LOG, DESFIRE_COMM_FULL, 0, 1, LAYOUT_LOG_RECORD_LEN},
        log);
}

/* A version-2 card's bono file (MACed, 1 RT), under the read's session. */
static leal_err read_bonos(struct desfire_card *c, struct card_view *out)
{
    uint8_t b[BONO_FILE_LEN];
    leal_err err;
    if (out->layout_version < LAYOUT_VERSION_BONOS)
        return LEAL_OK; /* a version-1 card: no bono file, no bonos */
    if ((err = desfire_read_data(&c->d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, BONO_FILE_LEN,
                                 b)) != LEAL_OK)
        return err;
    err = bono_file_decode(b, sizeof b, &out->bonos);
    return err == LEAL_OK || err == LEAL_E_LAYOUT_VERSION ? err : LEAL_E_CARD_TAMPERED;
}

/* An EV2/EV3's Transaction MAC file (MACed, 1 RT; ReadData of it adds
 * nothing to the TMI), under the read's session: TMC and TMV. */
static leal_err read_tmac(struct desfire_card *c, struct card_view *out)
{
    uint8_t f[DESFIRE_TMAC_FILE_LEN];
    leal_err err = desfire_read_data(&c->d, LAYOUT_FILE_TMAC, DESFIRE_COMM_MACED, 0, sizeof f, f);
    if (err == LEAL_E_CARD_FILE_NOT_FOUND)
        return LEAL_E_CARD_TMAC_MISSING;
    if (err != LEAL_OK)
        return err;
    out->tmc = load_le32(f);
    leal_memcpy(out->tmv, f + 4, sizeof out->tmv);
    out->has_tmc = true;
    return LEAL_OK;
}

leal_err desfire_card_read(struct desfire_card *c, struct card_view *out)
{
    uint8_t st[STATE_FILE_MAX], log[LAYOUT_LOG_RECORD_LEN];
    uint64_t state_card_id;
    int32_t counter, mirror;
    size_t st_len = 0;
    leal_err err;

    if (c->ver[KEY_ROLE_TERMINAL] == 0)
        c->ver[KEY_ROLE_TERMINAL] = out->key_set_version;
    /* A key that does not open the card means the identity was forged or copied. */
    err = desfire_card_auth(c, LAYOUT_KEY_TERMINAL, KEY_ROLE_TERMINAL, desfire_card_leal_aid);
    if (err != LEAL_OK)
        return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_TAMPERED : err;
    if ((err = read_files(c, st, &st_len, &out->purse_cents, &counter, log)) != LEAL_OK)
        return err;
    /* A version this code does not know is refused as such, never guessed. */
    err = state_file_decode_mirror(st, st_len, &out->layout_version, &state_card_id, &out->state,
                                   &mirror);
    if (err == LEAL_E_LAYOUT_VERSION)
        return err;
    if (err != LEAL_OK || state_card_id != out->card_id || counter < 0 ||
        counter > LAYOUT_COUNTER_START)
        return LEAL_E_CARD_TAMPERED;
    if ((err = read_bonos(c, out)) != LEAL_OK ||
        (c->ver[KEY_ROLE_TMAC] != 0 && (err = read_tmac(c, out)) != LEAL_OK))
        return err;
    out->counter = counter;
    out->taps = (uint32_t)(LAYOUT_COUNTER_START - counter);
    out->stored_value = true; /* a DESFire card always has its purse file */
    /* Every write of the purse writes the mirror in its transaction: a
     * mirror that is not the card's purse was written by a key holder. */
    out->mirror_differs =
        out->layout_version == LAYOUT_VERSION_MIRROR && mirror != out->purse_cents;
    if (out->random_uid) {
        if ((err = desfire_get_card_uid(&c->d, out->uid)) != LEAL_OK)
            return err;
        out->uid_len = DESFIRE_UID_LEN;
    } else {
        leal_memcpy(out->uid, c->rf_uid, c->rf_uid_len);
        out->uid_len = c->rf_uid_len;
    }
    /* The raw record marks the read (LAYOUT.md 2.7); one that does not
     * decode is still evidence, for the caller to judge. */
    leal_memcpy(out->mark, log, sizeof log);
    out->has_mark = true;
    out->has_log = log_record_decode(log, sizeof log, &out->log) == LEAL_OK;
    leal_memcpy(out->key_version, c->ver, sizeof out->key_version);
    return LEAL_OK;
}

leal_err desfire_card_terminal_session(struct desfire_card *c)
{
    leal_err err = desfire_select_application(&c->d, desfire_card_leal_aid);
    if (err != LEAL_OK)
        return err;
    return desfire_card_auth(c, LAYOUT_KEY_TERMINAL, KEY_ROLE_TERMINAL, desfire_card_leal_aid);
}

/* The application keys not at their current version (key 2, then 1, then 0
 * last: its change ends the session), under the application master key. */
static leal_err rekey_app(struct desfire_card *c, const uint8_t cur[KEY_ROLE_COUNT + 1],
                          unsigned *rekeyed)
{
    uint8_t oldk[16], newk[16];
    leal_err err =
        desfire_card_auth(c, LAYOUT_KEY_APP_MASTER, KEY_ROLE_APP_MASTER, desfire_card_leal_aid);
    for (int i = 2; err == LEAL_OK && i >= 0; i--) {
        enum key_role r = app_roles[i];
        if (c->ver[r] == cur[r])
            continue;
        if ((err = key_at(c, r, cur[r], desfire_card_leal_aid, newk)) != LEAL_OK ||
            (i != LAYOUT_KEY_APP_MASTER &&
             (err = key_at(c, r, c->ver[r], desfire_card_leal_aid, oldk)) != LEAL_OK) ||
            (err = desfire_change_key(&c->d, (uint8_t)i, newk, cur[r],
                                      i == LAYOUT_KEY_APP_MASTER ? NULL : oldk)) != LEAL_OK)
            break;
        c->ver[r] = cur[r];
        ++*rekeyed;
    }
    leal_wipe(oldk, sizeof oldk);
    leal_wipe(newk, sizeof newk);
    return err;
}

/* The PICC master key (0x80: it stays AES), under itself. */
static leal_err rekey_picc(struct desfire_card *c, uint8_t cur, unsigned *rekeyed)
{
    uint8_t newk[16];
    leal_err err;
    if ((err = desfire_select_application(&c->d, desfire_card_picc_aid)) != LEAL_OK ||
        (err = desfire_get_key_version(&c->d, 0, &c->ver[KEY_ROLE_PICC_MASTER])) != LEAL_OK ||
        c->ver[KEY_ROLE_PICC_MASTER] == cur)
        return err;
    if ((err = desfire_card_auth(c, 0, KEY_ROLE_PICC_MASTER, desfire_card_picc_aid)) == LEAL_OK &&
        (err = key_at(c, KEY_ROLE_PICC_MASTER, cur, desfire_card_picc_aid, newk)) == LEAL_OK &&
        (err = desfire_change_key(&c->d, 0x80, newk, cur, NULL)) == LEAL_OK) {
        c->ver[KEY_ROLE_PICC_MASTER] = cur;
        ++*rekeyed;
    }
    leal_wipe(newk, sizeof newk);
    return err;
}

leal_err desfire_card_rekey(struct desfire_card *c, bool *stale, unsigned *rekeyed)
{
    uint8_t cur[KEY_ROLE_COUNT + 1] = {0};
    bool app_behind;
    leal_err err;

    *stale = false;
    *rekeyed = 0;
    cur[KEY_ROLE_PICC_MASTER] = current_version(c, KEY_ROLE_PICC_MASTER);
    *stale = c->ver[KEY_ROLE_PICC_MASTER] != cur[KEY_ROLE_PICC_MASTER];
    for (int i = 0; i < 3; i++) {
        cur[app_roles[i]] = current_version(c, app_roles[i]);
        *stale = *stale || c->ver[app_roles[i]] != cur[app_roles[i]];
    }
    if (!*stale)
        return LEAL_OK;
    /* The terminal key's version is known: the read authenticated with it.
     * The card names the others' (GetKeyVersion needs no key). */
    app_behind = c->ver[KEY_ROLE_TERMINAL] != cur[KEY_ROLE_TERMINAL];
    for (int i = 1; i >= 0; i--) {
        enum key_role r = app_roles[i];
        if (c->ver[r] != cur[r] &&
            (err = desfire_get_key_version(&c->d, (uint8_t)i, &c->ver[r])) != LEAL_OK)
            return err;
        app_behind = app_behind || c->ver[r] != cur[r];
    }
    if (app_behind && (err = rekey_app(c, cur, rekeyed)) != LEAL_OK)
        return err;
    if (c->ver[KEY_ROLE_PICC_MASTER] != cur[KEY_ROLE_PICC_MASTER])
        return rekey_picc(c, cur[KEY_ROLE_PICC_MASTER], rekeyed);
    return LEAL_OK;
}

leal_err desfire_card_write_state(struct desfire_card *c, const struct state_body *next,
                                  int32_t purse_debit, struct card_view *v)
{
    uint8_t st[STATE_FILE_MAX];
    size_t n = 0;
    leal_err err;
    if (purse_debit < 0 || purse_debit > v->purse_cents)
        return LEAL_E_ARG;
    if ((err = state_file_encode_mirror(v->layout_version, v->card_id, next,
                                        v->purse_cents - purse_debit, st, &n)) != LEAL_OK ||
        (err = desfire_write_data(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st, n)) !=
            LEAL_OK ||
        (purse_debit > 0 && (err = desfire_debit(&c->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL,
                                                 purse_debit)) != LEAL_OK) ||
        (err = desfire_debit(&c->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1)) != LEAL_OK ||
        (err = desfire_commit(&c->d)) != LEAL_OK)
        return err;
    v->state = *next;
    v->purse_cents -= purse_debit;
    v->counter--;
    v->taps++;
    return LEAL_OK;
}

leal_err desfire_card_upgrade(struct desfire_card *c, struct card_view *v)
{
    static const struct bono_file no_bonos;
    uint8_t st[STATE_FILE_LEN], b[BONO_FILE_LEN];
    struct state_body next = v->state;
    leal_err err;
    if (v->layout_version != LAYOUT_VERSION)
        return LEAL_E_ARG;
    next.seq = v->state.seq + 1u;
    if ((err = state_file_encode(LAYOUT_VERSION_BONOS, v->card_id, &next, st)) != LEAL_OK ||
        (err = bono_file_encode(&no_bonos, b)) != LEAL_OK ||
        (err = desfire_card_auth(c, LAYOUT_KEY_APP_MASTER, KEY_ROLE_APP_MASTER,
                                 desfire_card_leal_aid)) != LEAL_OK)
        return err;
    /* A torn upgrade left the file (creation is not transactional): the card
     * answers DUPLICATE, which ends the session, so key 0 opens it again. */
    err = desfire_create_data_file(&c->d, &bono_file);
    if (err == LEAL_E_CARD_DUPLICATE)
        err =
            desfire_card_auth(c, LAYOUT_KEY_APP_MASTER, KEY_ROLE_APP_MASTER, desfire_card_leal_aid);
    if (err != LEAL_OK ||
        (err = desfire_write_data(&c->d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, b, sizeof b)) !=
            LEAL_OK ||
        (err = desfire_write_data(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st,
                                  sizeof st)) != LEAL_OK ||
        (err = desfire_commit(&c->d)) != LEAL_OK)
        return err;
    v->layout_version = LAYOUT_VERSION_BONOS;
    v->state = next;
    leal_memset(&v->bonos, 0, sizeof v->bonos);
    return LEAL_OK;
}

leal_err desfire_card_write_bonos(struct desfire_card *c, const struct bono_file *next,
                                  struct card_view *v)
{
    uint8_t b[BONO_FILE_LEN];
    leal_err err;
    if (v->layout_version < LAYOUT_VERSION_BONOS)
        return LEAL_E_ARG; /* a version-1 card has no bono file: the desk upgrades it first */
    if ((err = bono_file_encode(next, b)) != LEAL_OK ||
        (err = desfire_write_data(&c->d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, b, sizeof b)) !=
            LEAL_OK ||
        (err = desfire_debit(&c->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1)) != LEAL_OK ||
        (err = desfire_commit(&c->d)) != LEAL_OK)
        return err;
    v->bonos = *next;
    v->counter--;
    v->taps++;
    return LEAL_OK;
}

/* Why the terminal key did not open a card: another program's identity, or
 * a card that is not what its identity says (1 RT: the plain identity). */
static leal_err tap_why_not(struct desfire_card *c, struct card_view *out)
{
    uint8_t rec[IDENTITY_LEN];
    struct identity id;
    leal_err err =
        desfire_read_data(&c->d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, IDENTITY_LEN, rec);
    if (err != LEAL_OK)
        return err == LEAL_E_CARD_FILE_NOT_FOUND ? LEAL_E_CARD_NOT_LEAL : err;
    if (identity_decode(rec, sizeof rec, &id) != LEAL_OK)
        return LEAL_E_CARD_TAMPERED;
    card_view_set_identity(out, &id);
    if (id.issuer_id != c->issuer_id || id.program_id != c->program_id)
        return LEAL_E_CARD_NOT_LEAL;
    return LEAL_E_CARD_TAMPERED;
}

/* A frame of its own on a board linked with -flto (Makefile FW_CFLAGS): inlined into the
 * terminal's tap_desfire its locals would sit under the whole earn (+48 bytes painted). */
LEAL_NOINLINE leal_err desfire_card_tap_read(struct desfire_card *c, unsigned want,
                                             struct card_view *out)
{
    uint8_t st[STATE_FILE_MAX];
    uint64_t state_card_id;
    int32_t counter, mirror;
    size_t st_len = 0;
    leal_err err;

    leal_memset(out, 0, sizeof *out);
    if (c->random_uid) { /* the card id diversifies its keys: the plain identity first */
        if ((err = desfire_card_identify(c, out)) != LEAL_OK)
            return err;
        if (c->ver[KEY_ROLE_TERMINAL] == 0)
            c->ver[KEY_ROLE_TERMINAL] = out->key_set_version;
        if (c->sm_pick != NULL)
            c->sm_pick(c->sm_ctx, c, out->card_id);
    } else if ((err = desfire_select_application(&c->d, desfire_card_leal_aid)) != LEAL_OK) {
        return err == LEAL_E_CARD_APPLICATION_NOT_FOUND ? LEAL_E_CARD_NOT_LEAL : err;
    }
    err = desfire_card_auth(c, LAYOUT_KEY_TERMINAL, KEY_ROLE_TERMINAL, desfire_card_leal_aid);
    if (err == LEAL_E_CARD_AUTHENTICATION)
        return tap_why_not(c, out);
    if (err != LEAL_OK)
        return err;
    counter = LAYOUT_COUNTER_START; /* no_counter: 0 taps, not read */
    if ((err = desfire_read_file(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, st, sizeof st,
                                 &st_len)) != LEAL_OK ||
        (c->counter_skip == NULL &&
         (err = desfire_get_value(&c->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, &counter)) !=
             LEAL_OK))
        return err;
    err = state_file_decode_mirror(st, st_len, &out->layout_version, &state_card_id, &out->state,
                                   &mirror);
    if (err == LEAL_E_LAYOUT_VERSION)
        return err;
    if (err != LEAL_OK || (out->card_id != 0 && state_card_id != out->card_id) ||
        state_card_id == 0)
        return LEAL_E_CARD_TAMPERED;
    /* With counter_skip the card id is known before the counter: a card
     * whose TMC stands for it is not asked for it. */
    if (c->counter_skip != NULL) {
        c->no_counter = c->counter_skip(c->sm_ctx, state_card_id, out->layout_version);
        if (!c->no_counter && (err = desfire_get_value(&c->d, LAYOUT_FILE_COUNTER,
                                                       DESFIRE_COMM_FULL, &counter)) != LEAL_OK)
            return err;
    }
    if (counter < 0 || counter > LAYOUT_COUNTER_START)
        return LEAL_E_CARD_TAMPERED;
    out->card_id = state_card_id;
    out->issuer_id = c->issuer_id;
    out->program_id = c->program_id;
    out->counter = c->no_counter ? 0 : counter;
    out->taps = (uint32_t)(LAYOUT_COUNTER_START - counter);
    out->stored_value = true;
    /* Layout 3: the mirror stands for the purse unless the card's own
     * GetValue is asked for (LAYOUT.md 2.10); every write carries it on. */
    out->purse_cents = out->layout_version == LAYOUT_VERSION_MIRROR ? mirror : 0;
    if ((want & DESFIRE_CARD_TAP_PURSE) != 0 &&
        (out->layout_version != LAYOUT_VERSION_MIRROR || (want & DESFIRE_CARD_TAP_MIRROR) == 0) &&
        (err = desfire_get_value(&c->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, &out->purse_cents)) !=
            LEAL_OK)
        return err;
    if ((want & DESFIRE_CARD_TAP_BONOS) != 0 && (err = read_bonos(c, out)) != LEAL_OK)
        return err;
    leal_memcpy(out->uid, c->rf_uid, c->rf_uid_len);
    out->uid_len = c->rf_uid_len;
    leal_memcpy(out->key_version, c->ver, sizeof out->key_version);
    return LEAL_OK;
}

/* The state file of a terminal's transaction, staged (1 RT); at layout 3
 * with its mirror (LAYOUT.md 2.10). Each file in a frame of its own: the
 * buffers are not on the stack together under the command's crypto. */
LEAL_NOINLINE static leal_err stage_state(struct desfire_card *c, const struct card_view *v,
                                          const struct state_body *next, int32_t mirror)
{
    uint8_t st[STATE_FILE_MAX];
    size_t n = 0;
    leal_err err = state_file_encode_mirror(v->layout_version, v->card_id, next, mirror, st, &n);
    if (err != LEAL_OK)
        return err;
    return desfire_write_data(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st, n);
}

LEAL_NOINLINE static leal_err stage_bonos(struct desfire_card *c, const struct bono_file *next)
{
    uint8_t b[BONO_FILE_LEN];
    leal_err err = bono_file_encode(next, b);
    if (err != LEAL_OK)
        return err;
    return desfire_write_data(&c->d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, b, sizeof b);
}

leal_err desfire_card_stage(struct desfire_card *c, const struct desfire_card_change *ch,
                            const struct card_view *v)
{
    /* Layout 3: the state written carries the purse after the transaction
     * (a mirror that lies high is stopped by the Debit's lower limit). */
    int64_t mirror = (int64_t)v->purse_cents - ch->purse_debit + ch->purse_back;
    leal_err err;
    if (ch->purse_debit < 0 || ch->purse_back < 0 || (ch->purse_debit > 0 && ch->purse_back > 0) ||
        (ch->bonos != NULL && v->layout_version < LAYOUT_VERSION_BONOS) ||
        (v->layout_version == LAYOUT_VERSION_MIRROR && (mirror < 0 || mirror > INT32_MAX)))
        return LEAL_E_ARG;
    if ((ch->state != NULL && (err = stage_state(c, v, ch->state, (int32_t)mirror)) != LEAL_OK) ||
        (ch->bonos != NULL && (err = stage_bonos(c, ch->bonos)) != LEAL_OK))
        return err;
    if (ch->purse_debit > 0 && (err = desfire_debit(&c->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL,
                                                    ch->purse_debit)) != LEAL_OK)
        return err;
    if (ch->purse_back > 0 &&
        (err = desfire_limited_credit(&c->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL,
                                      ch->purse_back)) != LEAL_OK)
        return err;
    if (c->no_counter)
        return LEAL_OK;
    return desfire_debit(&c->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1);
}

leal_err desfire_card_commit(struct desfire_card *c)
{
    return desfire_commit(&c->d);
}

leal_err desfire_card_commit_tmac(struct desfire_card *c, uint32_t *tmc, uint8_t tmv[8])
{
    return desfire_commit_tmac(&c->d, tmc, tmv);
}

leal_err desfire_card_credit_begin(struct desfire_card *c, int32_t *counter)
{
    leal_err err;
    if ((err = desfire_select_application(&c->d, desfire_card_leal_aid)) != LEAL_OK ||
        (err = desfire_card_auth(c, LAYOUT_KEY_PURSE_CREDIT, KEY_ROLE_PURSE_CREDIT,
                                 desfire_card_leal_aid)) != LEAL_OK ||
        (err = desfire_get_value(&c->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, counter)) !=
            LEAL_OK)
        return err;
    if (*counter <= 0)
        return LEAL_E_CARD_WORN_OUT; /* 2^31 - 1 transactions: nothing can move it back */
    if (*counter > LAYOUT_COUNTER_START)
        return LEAL_E_CARD_TAMPERED;
    return LEAL_OK;
}

/* A log record into v as the card now holds it newest. */
static void view_log(struct card_view *v, const struct log_record *rec,
                     const uint8_t log[LAYOUT_LOG_RECORD_LEN])
{
    v->log = *rec;
    v->has_log = true;
    leal_memcpy(v->mark, log, LAYOUT_LOG_RECORD_LEN);
    v->has_mark = true;
}

/* Layout 3 (LAYOUT.md 2.10): the credit's state write, under key 1 (the
 * file's RW): the state as v holds it at seq + 1, its mirror the purse after. */
static leal_err credit_mirror(struct desfire_card *c, int32_t cents, const struct card_view *v,
                              struct state_body *next)
{
    uint8_t st[STATE_FILE_MAX];
    size_t n = 0;
    leal_err err;
    *next = v->state;
    next->seq = v->state.seq + 1u;
    if (cents < 0 || v->purse_cents < 0 || cents > INT32_MAX - v->purse_cents)
        return LEAL_E_ARG;
    if ((err = state_file_encode_mirror(v->layout_version, v->card_id, next, v->purse_cents + cents,
                                        st, &n)) != LEAL_OK)
        return err;
    return desfire_write_data(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st, n);
}

leal_err desfire_card_credit_commit(struct desfire_card *c, int32_t cents,
                                    const struct log_record *rec, struct card_view *v)
{
    uint8_t log[LAYOUT_LOG_RECORD_LEN];
    struct state_body next;
    bool mirror = v != NULL && v->layout_version == LAYOUT_VERSION_MIRROR;
    leal_err err;
    if ((err = log_record_encode(rec, log)) != LEAL_OK ||
        (mirror && (err = credit_mirror(c, cents, v, &next)) != LEAL_OK) ||
        (err = desfire_credit(&c->d, LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, cents)) != LEAL_OK ||
        (err = desfire_debit(&c->d, LAYOUT_FILE_COUNTER, DESFIRE_COMM_FULL, 1)) != LEAL_OK ||
        (err = desfire_write_record(&c->d, LAYOUT_FILE_LOG, DESFIRE_COMM_FULL, 0, log,
                                    sizeof log)) != LEAL_OK ||
        (err = desfire_commit(&c->d)) != LEAL_OK)
        return err;
    if (v) {
        if (mirror)
            v->state = next;
        v->purse_cents += cents;
        v->counter--;
        v->taps++;
        view_log(v, rec, log);
    }
    return LEAL_OK;
}

/* The files of the application (LAYOUT.md 2.3), empty, under key 0 at its
 * default (all zero) value; a random-UID card's real UID first. */
/* LAYOUT.md 2.2 */
static const struct desfire_app_spec leal_app = {desfire_card_leal_aid, LAYOUT_APP_KEY_SETTINGS,
                                                 LAYOUT_APP_SETTINGS2,  LAYOUT_DF_ISO_FID,
                                                 desfire_card_df_name,  LAYOUT_DF_NAME_LEN};

/* LAYOUT.md 2.3; the purse's upper limit is the issuer's cap (create_files). */
static const struct desfire_data_file identity_file = {LAYOUT_FILE_IDENTITY,    false,
                                                       LAYOUT_ISO_FID_IDENTITY, DESFIRE_COMM_PLAIN,
                                                       LAYOUT_AR_IDENTITY,      IDENTITY_LEN};
static const struct desfire_data_file state_file = {LAYOUT_FILE_STATE,    true,
                                                    LAYOUT_ISO_FID_STATE, DESFIRE_COMM_MACED,
                                                    LAYOUT_AR_STATE,      STATE_FILE_LEN};
/* Layout version 3 (LAYOUT.md 2.10): 36 bytes, made with version 2's rights
 * (key 0 writes it at issuance: RW 0) and given RW key 1 (the credit's
 * mirror) after the personalisation's commit (mirror_rights). */
static const struct desfire_data_file state_file_mirror = {
    LAYOUT_FILE_STATE,    true, LAYOUT_ISO_FID_STATE, DESFIRE_COMM_MACED, LAYOUT_AR_STATE,
    STATE_FILE_MIRROR_LEN};

/* ChangeFileSettings of a layout-3 state file to `01 10 22` (MACed; R 2,
 * W 2, RW 1, CAR 0) under key 0 (its CAR): 1 RT. */
static leal_err mirror_rights(struct desfire_card *c)
{
    const uint8_t fs[3] = {DESFIRE_COMM_MACED, (uint8_t)(LAYOUT_AR_STATE_MIRROR & 0xFF),
                           (uint8_t)(LAYOUT_AR_STATE_MIRROR >> 8)};
    return desfire_change_file_settings(&c->d, LAYOUT_FILE_STATE, fs, sizeof fs);
}
static const struct desfire_value_file counter_file = {LAYOUT_FILE_COUNTER,
                                                       DESFIRE_COMM_FULL,
                                                       LAYOUT_AR_COUNTER,
                                                       0,
                                                       LAYOUT_COUNTER_START,
                                                       LAYOUT_COUNTER_START,
                                                       0x00};
static const struct desfire_record_file log_file = {LAYOUT_FILE_LOG,    true,
                                                    LAYOUT_ISO_FID_LOG, DESFIRE_COMM_FULL,
                                                    LAYOUT_AR_LOG,      LAYOUT_LOG_RECORD_LEN,
                                                    LAYOUT_LOG_RECORDS};

static leal_err create_files(struct desfire_card *c, int32_t purse_cap, bool mirror,
                             uint8_t *real_uid)
{
    struct desfire *d = &c->d;
    const struct desfire_value_file purse = {
        LAYOUT_FILE_PURSE, DESFIRE_COMM_FULL, LAYOUT_AR_PURSE, 0, purse_cap, 0, 0x01};
    leal_err err;
    if ((err = desfire_select_application(d, desfire_card_leal_aid)) != LEAL_OK ||
        (err = auth_key(c, LAYOUT_KEY_APP_MASTER, zero_key)) != LEAL_OK ||
        (real_uid && (err = desfire_get_card_uid(d, real_uid)) != LEAL_OK) ||
        (err = desfire_create_data_file(d, &identity_file)) != LEAL_OK ||
        (err = desfire_create_data_file(d, mirror ? &state_file_mirror : &state_file)) != LEAL_OK ||
        (err = desfire_create_value_file(d, &purse)) != LEAL_OK ||
        (err = desfire_create_value_file(d, &counter_file)) != LEAL_OK ||
        (err = desfire_create_record_file(d, &log_file)) != LEAL_OK)
        return err;
    return desfire_create_data_file(d, &bono_file);
}

/* Identity, state (layout version 2), the bono file (empty, or a
 * replacement's) and the issuance's log record, in one commit. */
static leal_err write_records(struct desfire_card *c, const struct desfire_card_issue *p)
{
    uint8_t rec[IDENTITY_LEN], st[STATE_FILE_MAX], log[LAYOUT_LOG_RECORD_LEN], b[BONO_FILE_LEN];
    size_t n = 0;
    leal_err err;
    if ((err = identity_encode(&p->identity, rec)) != LEAL_OK ||
        (err = state_file_encode_mirror(p->tmac ? LAYOUT_VERSION_MIRROR : LAYOUT_VERSION_BONOS,
                                        p->identity.card_id, &p->state, 0, st, &n)) != LEAL_OK ||
        (err = bono_file_encode(&p->bonos, b)) != LEAL_OK ||
        (err = log_record_encode(&issued_record, log)) != LEAL_OK ||
        (err = desfire_write_data(&c->d, LAYOUT_FILE_IDENTITY, DESFIRE_COMM_PLAIN, 0, rec,
                                  sizeof rec)) != LEAL_OK ||
        (err = desfire_write_data(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, 0, st, n)) !=
            LEAL_OK ||
        (err = desfire_write_data(&c->d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, b, sizeof b)) !=
            LEAL_OK ||
        (err = desfire_write_record(&c->d, LAYOUT_FILE_LOG, DESFIRE_COMM_FULL, 0, log,
                                    sizeof log)) != LEAL_OK)
        return err;
    return desfire_commit(&c->d);
}

/* The Transaction MAC file of an EV2/EV3 (LAYOUT.md 2.9), under the key 0
 * session that made the files; its key is the host's alone (role tmac). */
static leal_err create_tmac(struct desfire_card *c)
{
    uint8_t key[16], version;
    leal_err err;
    if ((err = current_of(c, KEY_ROLE_TMAC, &version)) == LEAL_OK &&
        (err = key_at(c, KEY_ROLE_TMAC, version, desfire_card_leal_aid, key)) == LEAL_OK)
        err = desfire_create_tmac_file(
            &c->d, &(struct desfire_tmac_file){LAYOUT_FILE_TMAC, DESFIRE_COMM_MACED, LAYOUT_AR_TMAC,
                                               key, version});
    if (err == LEAL_OK)
        c->ver[KEY_ROLE_TMAC] = version;
    leal_wipe(key, sizeof key);
    return err;
}

/* File 0x0F as GetFileSettings answers it (key 0's session): `05 comm access
 * 02 version` with leal's settings (LAYOUT.md 2.9), or the card is not as
 * leal made it. */
static leal_err tmac_settings(struct desfire_card *c, uint8_t *version)
{
    uint8_t fs[DESFIRE_FILE_SETTINGS_MAX];
    size_t n = 0;
    leal_err err = desfire_get_file_settings(&c->d, LAYOUT_FILE_TMAC, fs, sizeof fs, &n);
    if (err != LEAL_OK)
        return err;
    if (n != 6 || fs[0] != 0x05 || fs[1] != DESFIRE_COMM_MACED ||
        load_le16(fs + 2) != LAYOUT_AR_TMAC || fs[4] != 0x02 || fs[5] == 0)
        return LEAL_E_CARD_TAMPERED;
    *version = fs[5];
    return LEAL_OK;
}

leal_err desfire_card_add_tmac(struct desfire_card *c, uint8_t known, uint8_t *version, bool *made)
{
    leal_err err;
    *version = 0;
    *made = false;
    if ((err = desfire_select_application(&c->d, desfire_card_leal_aid)) != LEAL_OK ||
        (err = desfire_card_auth(c, LAYOUT_KEY_APP_MASTER, KEY_ROLE_APP_MASTER,
                                 desfire_card_leal_aid)) != LEAL_OK)
        return err;
    if (known == 0) {
        if ((err = create_tmac(c)) == LEAL_OK) {
            *version = c->ver[KEY_ROLE_TMAC];
            *made = true;
            return LEAL_OK;
        }
        /* A torn upgrade's file (its answer lost): DUPLICATE ended the
         * session, key 0 opens it again to read what the file was made with. */
        if (err != LEAL_E_CARD_DUPLICATE ||
            (err = desfire_card_auth(c, LAYOUT_KEY_APP_MASTER, KEY_ROLE_APP_MASTER,
                                     desfire_card_leal_aid)) != LEAL_OK)
            return err;
    }
    if ((err = tmac_settings(c, version)) == LEAL_OK)
        c->ver[KEY_ROLE_TMAC] = *version;
    return err;
}

leal_err desfire_card_personalise(struct desfire_card *c, const struct desfire_card_issue *p,
                                  uint8_t *real_uid)
{
    uint8_t key[16];
    leal_err err;
    if (p->identity.issuer_id != c->issuer_id || p->identity.program_id != c->program_id)
        return LEAL_E_ARG;
    desfire_card_set_card_id(c, p->identity.card_id);
    if ((!p->app_created && (err = desfire_create_application(&c->d, &leal_app)) != LEAL_OK) ||
        (err = create_files(c, p->purse_cap, p->tmac, real_uid)) != LEAL_OK ||
        (err = write_records(c, p)) != LEAL_OK ||
        (p->tmac && ((err = mirror_rights(c)) != LEAL_OK || (err = create_tmac(c)) != LEAL_OK)))
        return err;
    /* Keys 2 and 1, then key 0 last: until then a torn issuance is redone
     * from the PICC master key. */
    for (int i = 2; i >= 0; i--) {
        enum key_role r = app_roles[i];
        uint8_t version;
        if ((err = current_of(c, r, &version)) != LEAL_OK ||
            (err = key_at(c, r, version, desfire_card_leal_aid, key)) != LEAL_OK ||
            (err = desfire_change_key(&c->d, (uint8_t)i, key, version,
                                      i == LAYOUT_KEY_APP_MASTER ? NULL : zero_key)) != LEAL_OK)
            break;
        c->ver[r] = version;
    }
    leal_wipe(key, sizeof key);
    return err;
}

void desfire_card_issued_view(const struct desfire_card *c, const struct desfire_card_issue *p,
                              const uint8_t *uid, size_t uid_len, struct card_view *out)
{
    uint8_t log[LAYOUT_LOG_RECORD_LEN];
    leal_memset(out, 0, sizeof *out);
    card_view_set_identity(out, &p->identity);
    if (uid_len > sizeof out->uid)
        uid_len = sizeof out->uid;
    leal_memcpy(out->uid, uid, uid_len);
    out->uid_len = uid_len;
    out->state = p->state;
    out->bonos = p->bonos;
    out->layout_version = p->tmac ? LAYOUT_VERSION_MIRROR : LAYOUT_VERSION_BONOS;
    out->stored_value = true;
    out->counter = LAYOUT_COUNTER_START;
    if (log_record_encode(&issued_record, log) == LEAL_OK)
        view_log(out, &issued_record, log);
    leal_memcpy(out->key_version, c->ver, sizeof out->key_version);
}

leal_err desfire_card_verify(struct desfire_card *c, const struct card_view *expect)
{
    uint8_t want[STATE_FILE_MAX], st[STATE_FILE_MAX];
    size_t want_len = 0, st_len = 0;
    leal_err err;
    if ((err = state_file_encode_mirror(expect->layout_version, expect->card_id, &expect->state,
                                        expect->purse_cents, want, &want_len)) != LEAL_OK)
        return err;
    err = desfire_card_auth(c, LAYOUT_KEY_TERMINAL, KEY_ROLE_TERMINAL, desfire_card_leal_aid);
    if (err != LEAL_OK)
        return err == LEAL_E_CARD_AUTHENTICATION ? LEAL_E_CARD_TAMPERED : err;
    if ((err = desfire_read_file(&c->d, LAYOUT_FILE_STATE, DESFIRE_COMM_MACED, st, sizeof st,
                                 &st_len)) != LEAL_OK)
        return err;
    return st_len == want_len && leal_ct_equal(st, want, want_len) ? LEAL_OK : LEAL_E_CARD_TAMPERED;
}
