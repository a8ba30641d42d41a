/* till.c - an offline terminal in a unit test (till.h). */
#include "tests/lib/till.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/classic/classic_keys.h"
#include "cardlayout/desfire/desfire_card.h"
#include "cardlayout/layout.h"
#include "host/cardsim/cardsim.h"
#include "host/issuance/factory.h"
#include "host/reader/reader.h"
#include "keys/base/ct.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"

static const uint8_t desfire_uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
static const uint8_t classic_uid[4] = {0x0A, 0x0B, 0x0C, 0x0D};
static const uint8_t transport[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
/* The package role's private key (RFC 8032 7.1 TEST 1): signs the package
 * and the Classic identities. */
static const uint8_t package_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};

static leal_err det_random(uint8_t *out, size_t n)
{
    static uint8_t x = 0x5A;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(x = (uint8_t)(x * 13u + 7u));
    return LEAL_OK;
}

/* --- the SAM-shaped key source over the desk fixture's keystore ---------- */

static leal_err sam_info(void *ctx, struct sam_info *out)
{
    const struct till *t = ctx;
    *out = (struct sam_info){t->f->keys->issuer_id, t->program_id, t->terminal_id,
                             TILL_NOW + 365 * 86400ULL, 1};
    return LEAL_OK;
}

static leal_err sam_current(void *ctx, enum key_role role, uint8_t *version)
{
    const struct till *t = ctx;
    const struct key_version *v;
    leal_err err;
    if (role != KEY_ROLE_TERMINAL && role != KEY_ROLE_CLASSIC_A && role != KEY_ROLE_CLASSIC_SEAL)
        return LEAL_E_PERMISSION; /* a terminal holds no other key */
    if ((err = keyset_current(t->f->keys, t->program_id, role, &v)) == LEAL_OK)
        *version = v->version;
    return err;
}

static leal_err sam_card_key(void *ctx, const struct sam_card *card, enum key_role role,
                             uint8_t version, const uint8_t aid[3], uint8_t out[16])
{
    const struct till *t = ctx;
    const struct key_version *v;
    leal_err err;
    if (role != KEY_ROLE_TERMINAL)
        return LEAL_E_KEY_VERSION;
    if ((err = keyset_version(t->f->keys, t->program_id, role, version, &v)) != LEAL_OK)
        return err;
    return derive_card_key(crypto_openssl(), v->key,
                           &(struct derive_card_input){card->id, card->id_len, aid,
                                                       t->f->keys->issuer_id, t->program_id},
                           out);
}

static leal_err sam_classic_a(void *ctx, const struct sam_card *card, uint8_t version,
                              uint8_t sector, uint8_t key[6])
{
    const struct till *t = ctx;
    const struct key_version *v;
    leal_err err;
    if ((err = keyset_version(t->f->keys, t->program_id, KEY_ROLE_CLASSIC_A, version, &v)) !=
        LEAL_OK)
        return err;
    return classic_keys_sector(
        crypto_openssl(), v->key,
        &(struct classic_keys_card){card->id, card->id_len, t->f->keys->issuer_id, t->program_id},
        sector, key);
}

static leal_err sam_classic_seal(void *ctx, const struct sam_card *card, unsigned nth,
                                 uint8_t key[32], uint8_t *version)
{
    const struct till *t = ctx;
    const struct key_version *v;
    leal_err err;
    if (nth > 0)
        return LEAL_E_NOT_FOUND;
    if ((err = keyset_current(t->f->keys, t->program_id, KEY_ROLE_CLASSIC_SEAL, &v)) != LEAL_OK)
        return err;
    *version = v->version;
    if (t->wrong_seal) {
        memset(key, 0x5E, 32);
        return LEAL_OK;
    }
    return classic_keys_seal(
        crypto_openssl(), v->key,
        &(struct classic_keys_card){card->id, card->id_len, t->f->keys->issuer_id, t->program_id},
        key);
}

static leal_err sam_package(void *ctx, unsigned nth, uint8_t pub[32], uint8_t *version)
{
    (void)ctx;
    if (nth > 0)
        return LEAL_E_NOT_FOUND;
    *version = 1;
    return crypto_openssl_ed25519_public(package_seed, pub);
}

static leal_err sam_journal(void *ctx, uint8_t key[16], uint8_t *version)
{
    const struct till *t = ctx;
    memset(key, 0x40 + (int)t->terminal_id, 16);
    *version = 1;
    return LEAL_OK;
}

/* --- the port -------------------------------------------------------------- */

static leal_err till_now(void *ctx, struct port_time *out)
{
    const struct till *t = ctx;
    *out = t->now;
    return LEAL_OK;
}

static leal_err till_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    return det_random(out, n);
}

static leal_err till_show(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    (void)line;
    (void)len;
    return LEAL_OK;
}

void till_rules(struct rules_set *s)
{
    memset(s, 0, sizeof *s);
    s->version = 3;
    s->program.rate_milli = 1000;
    s->program.n_rules = 1;
    s->program.rules[0] = (struct rules_rule){.id = 77,
                                              .kind = RULES_MULTIPLIER,
                                              .combine = RULES_STACK,
                                              .multiplier_milli = 2000,
                                              .n_categories = 1,
                                              .categories = {3},
                                              .cap_per_day = 5};
    s->program.n_stamps = 1;
    s->program.stamps[0] = (struct rules_stamp){RULES_STAMP_PER_SALE, 0, 3, 9, 0};
    s->program.n_rewards = 2;
    s->program.rewards[0] = (struct rules_reward){5, RULES_REWARD_PRODUCT, 10, 1234, 0};
    s->program.rewards[1] = (struct rules_reward){6, RULES_REWARD_VOUCHER, 30, 200, 0};
    s->n_bonos = 1;
    s->bonos[0] = (struct rules_bono_kind){21, 5, 0, 5000};
}

static void build_package(struct till *t, const struct till_package *pp)
{
    struct rules_set rs;
    uint8_t rules[RULES_CODEC_MAX_LEN], msg[PACKAGE_SIGNED_MSG_LEN];
    size_t rules_len, body;
    struct package_contents c;
    if (pp && pp->rules)
        pp->rules(&rs);
    else
        till_rules(&rs);
    assert_int_equal(rules_codec_encode(&rs, rules, sizeof rules, &rules_len), LEAL_OK);
    memset(&c, 0, sizeof c);
    c.key_version = 1;
    c.program_id = pp && pp->program_id ? pp->program_id : 7;
    c.terminal_id = t->terminal_id;
    c.version = pp && pp->version ? pp->version : 4;
    c.issued = TILL_NOW - 3600;
    c.valid_until = pp && pp->valid_until ? pp->valid_until : TILL_NOW + 7 * 86400;
    c.rules = rules;
    c.rules_len = (uint32_t)rules_len;
    if (pp) {
        c.hot = pp->hot;
        c.hot_count = pp->hot_count;
        c.floors = pp->floors;
        c.floor_count = pp->floor_count;
        c.pending = pp->pending;
        c.pending_count = pp->pending_count;
    }
    c.cap_day_cents = pp && pp->cap_day_cents ? pp->cap_day_cents : 10000;
    c.cap_sync_cents = pp && pp->cap_sync_cents ? pp->cap_sync_cents : 30000;
    assert_int_equal(package_encoded_size(&c, &t->package_len), LEAL_OK);
    t->package = malloc(t->package_len);
    assert_non_null(t->package);
    assert_int_equal(
        package_encode_body(crypto_openssl(), &c, t->package, t->package_len, &body, msg), LEAL_OK);
    assert_int_equal(body + 64, t->package_len);
    assert_int_equal(crypto_openssl_ed25519_sign(package_seed, msg, sizeof msg, t->package + body),
                     LEAL_OK);
}

/* The packages of the tills opened with pp NULL, one per terminal id: such a
 * package is a function of the id alone (program 7, till_rules, fixed dates,
 * a deterministic Ed25519 signature), so the first open of an id builds and
 * loads it as a terminal loads it (package_load: its signature verified by
 * the portable provider) and later opens copy the bytes and the loaded
 * package (terminal_tear_test opens a till hundreds of times; the portable
 * Ed25519 verify under ASan was a tenth of its CPU). Kept to the end of the
 * process. */
struct till_loaded {
    uint32_t terminal_id;
    uint8_t *package;
    uint32_t package_len;
    struct package_terminal pkg; /* its source's ctx: package */
};
static struct till_loaded loaded[8];
static unsigned n_loaded;

static const struct till_loaded *loaded_package(uint32_t id)
{
    for (unsigned i = 0; i < n_loaded; i++)
        if (loaded[i].terminal_id == id)
            return &loaded[i];
    return NULL;
}

static void keep_package(const struct till *t)
{
    struct till_loaded *k;
    if (n_loaded == sizeof loaded / sizeof loaded[0])
        return; /* more ids than kept: the others are loaded at each open */
    k = &loaded[n_loaded];
    k->package = malloc(t->package_len);
    assert_non_null(k->package);
    memcpy(k->package, t->package, t->package_len);
    k->package_len = t->package_len;
    k->terminal_id = t->terminal_id;
    k->pkg = t->pkg;
    k->pkg.source.ctx = k->package;
    n_loaded++;
}

void till_open(struct till *t, struct fixture *f, uint32_t id, const struct till_package *pp)
{
    const struct till_loaded *cached;
    static const struct crypto_provider portable = CRYPTO_PORTABLE_PROVIDER(det_random);
    struct journal_config jc;
    struct journal_report rep;
    struct package_key pk;
    struct terminal_setup s;
    uint32_t program = pp && pp->program_id ? pp->program_id : 7;

    memset(t, 0, sizeof *t);
    t->f = f;
    t->terminal_id = id;
    t->cp = portable;
    t->now = (struct port_time){TILL_NOW, 120};
    assert_int_equal(ram_storage_init(&t->js, t->jmem, TILL_JOURNAL_UNIT, TILL_JOURNAL_UNITS),
                     LEAL_OK);
    assert_int_equal(ram_storage_init(&t->ps, t->pmem, 4096, 2), LEAL_OK);
    memset(&jc, 0, sizeof jc);
    jc.program_id = program;
    jc.terminal_id = id;
    jc.key_version = 1;
    memset(jc.key, 0x40 + (int)id, sizeof jc.key);
    assert_int_equal(journal_open(&t->j, &t->js.port, &t->cp, &jc, &t->now, &rep), LEAL_OK);
    assert_int_equal(rep.status, JOURNAL_FRESH);

    if (pp == NULL && (cached = loaded_package(id)) != NULL) {
        /* The same bytes as the first open's, loaded as it loaded them. */
        t->package_len = cached->package_len;
        t->package = malloc(t->package_len);
        assert_non_null(t->package);
        memcpy(t->package, cached->package, t->package_len);
        t->pkg = cached->pkg;
        t->pkg.source.ctx = t->package;
    } else {
        build_package(t, pp);
        pk.version = 1;
        assert_int_equal(crypto_openssl_ed25519_public(package_seed, pk.public_key), LEAL_OK);
        assert_int_equal(
            package_load(&t->pkg, &t->cp,
                         &(struct package_source){package_memory_read, t->package, t->package_len},
                         &(struct package_expect){program, id, TILL_NOW, 0, &pk, 1}),
            LEAL_OK);
        if (pp == NULL)
            keep_package(t);
    }

    t->program_id = program;
    t->sam = (struct sam){
        t,           sam_info,   sam_current, sam_card_key, sam_classic_a, sam_classic_seal,
        sam_package, sam_journal};
    till_present(t);
    t->port = (struct terminal_port){"till",      t,           reader_card_reader(t->r),
                                     &t->js.port, &t->ps.port, till_now,
                                     till_random, till_show};
    memset(&s, 0, sizeof s);
    s.port = &t->port;
    s.cp = &t->cp;
    s.sam = &t->sam;
    s.cfg = (struct terminal_config){0, 10000};
    s.package = &t->pkg;
    s.journal = &t->j;
    memset(&t->sum, 0, sizeof t->sum);
    s.sum = &t->sum;
    assert_int_equal(terminal_open(&t->t, &s), LEAL_OK);
}

void till_load(struct till *t, const struct till_package *pp)
{
    uint8_t *old = t->package;
    struct package_key pk = {.version = 1};
    assert_int_equal(crypto_openssl_ed25519_public(package_seed, pk.public_key), LEAL_OK);
    build_package(t, pp);
    assert_int_equal(
        package_load(&t->pkg, &t->cp,
                     &(struct package_source){package_memory_read, t->package, t->package_len},
                     &(struct package_expect){t->program_id, t->terminal_id, TILL_NOW,
                                              t->pkg.info.version, &pk, 1}),
        LEAL_OK);
    free(old);
}

void till_ack(struct till *t)
{
    struct journal_ack a;
    uint8_t key[16], b[JOURNAL_ACK_LEN];
    memset(&a, 0, sizeof a);
    a.key_version = 1;
    a.program_id = t->program_id;
    a.terminal_id = t->terminal_id;
    a.epoch = t->j.head.epoch;
    a.seq = t->j.head.seq;
    memcpy(a.entry_mac, t->j.head_mac, JOURNAL_MAC_LEN);
    memset(key, 0x40 + (int)t->terminal_id, sizeof key);
    assert_int_equal(journal_ack_encode(&t->cp, key, &a, b), LEAL_OK);
    assert_int_equal(journal_ack(&t->j, b, sizeof b, &t->now), LEAL_OK);
}

void till_restart(struct till *t)
{
    /* The journal's own configuration: its key too (a till keyed by the
     * host's derivation keeps it across the restart). */
    struct journal_config jc = t->j.cfg;
    struct journal_report rep;
    struct terminal_setup s = t->t.s;
    terminal_close(&t->t);
    journal_close(&t->j);
    assert_int_equal(journal_open(&t->j, &t->js.port, &t->cp, &jc, &t->now, &rep), LEAL_OK);
    leal_wipe(jc.key, sizeof jc.key);
    assert_int_equal(rep.status, JOURNAL_CLEAN);
    till_present(t);
    s.journal = &t->j;
    memset(&t->sum, 0, sizeof t->sum); /* RAM is lost: rebuilt from the journal */
    s.sum = &t->sum;
    assert_int_equal(terminal_open(&t->t, &s), LEAL_OK);
}

void till_close(struct till *t)
{
    terminal_close(&t->t);
    journal_close(&t->j);
    if (t->r)
        reader_close(t->r);
    free(t->package);
    t->r = NULL;
    t->package = NULL;
}

void till_present(struct till *t)
{
    if (t->r)
        reader_close(t->r);
    t->r = desk_fixture_open_card(t->f);
    t->port.reader = reader_card_reader(t->r);
}

struct terminal_request till_request(uint8_t op, int64_t amount, int64_t pay, uint32_t item)
{
    struct terminal_request q;
    memset(&q, 0, sizeof q);
    q.op = op;
    q.amount_cents = amount;
    q.pay_cents = pay;
    q.item = item;
    return q;
}

leal_err till_tap(struct till *t, const struct terminal_request *q, struct terminal_result *out)
{
    struct reader_card rc;
    struct terminal_card c;
    const char *type = cardsim_type(reader_sim_card(t->r));
    assert_int_equal(reader_card_info(t->r, &rc), LEAL_OK);
    memset(&c, 0, sizeof c);
    c.type = strncmp(type, "desfire", 7) == 0 ? TERMINAL_CARD_DESFIRE : TERMINAL_CARD_CLASSIC;
    memcpy(c.uid, rc.uid, rc.uid_len);
    c.uid_len = rc.uid_len;
    return terminal_tap(&t->t, &c, q, out);
}

unsigned till_entries(struct till *t, struct journal_entry *out, unsigned n)
{
    struct journal_iter it;
    struct journal_entry e;
    bool done = false;
    unsigned k = 0;
    journal_iter_begin(&t->j, &it, false);
    for (;;) {
        assert_int_equal(journal_iter_next(&t->j, &it, &e, NULL, NULL, &done), LEAL_OK);
        if (done)
            return k;
        if (e.op == JOURNAL_OP_EPOCH)
            continue;
        if (k < n)
            out[k] = e;
        k++;
    }
}

void till_last_entry(struct till *t, struct journal_entry *e)
{
    struct journal_entry all[64];
    unsigned n = till_entries(t, all, 64);
    assert_true(n > 0 && n <= 64);
    *e = all[n - 1];
}

void till_expect_state_lines(const struct journal_entry *e, const struct state_body *before)
{
    struct state_body was;
    bool told;
    uint8_t at;
    assert_true(e->n_lines >= JOURNAL_STATE_LINES);
    at = (uint8_t)(e->n_lines - JOURNAL_STATE_LINES -
                   (e->lines[e->n_lines - 1].source == JOURNAL_LINE_HOST ? 1 : 0));
    assert_int_equal(e->lines[at].source, JOURNAL_LINE_STATE);
    assert_int_equal(e->lines[at].rule_index, 1);
    assert_int_equal(e->lines[at + 1].source, JOURNAL_LINE_STATE);
    assert_int_equal(e->lines[at + 1].rule_index, 2);
    journal_state_of(e, &was, &told);
    assert_true(told);
    assert_int_equal(was.seq, before->seq);
    assert_int_equal(was.points, before->points);
    assert_int_equal(was.tier, before->tier);
    assert_memory_equal(was.stamps, before->stamps, sizeof was.stamps);
    assert_int_equal(was.period, before->period);
    assert_memory_equal(was.buckets, before->buckets, sizeof was.buckets);
}

leal_err till_openssl_random(uint8_t *out, size_t n)
{
    return crypto_openssl()->random(out, n);
}

unsigned till_expect_refused(struct till *t, const struct terminal_request *q, leal_err reason)
{
    struct terminal_result r;
    struct journal_entry e;
    unsigned before = till_entries(t, NULL, 0);
    const char *type = cardsim_type(reader_sim_card(t->r));
    uint8_t kind = strncmp(type, "desfire", 7) == 0 ? JOURNAL_CARD_DESFIRE : JOURNAL_CARD_CLASSIC;
    assert_int_equal(till_tap(t, q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_REFUSED);
    assert_int_equal(r.reason, reason);
    assert_int_equal(till_entries(t, NULL, 0), before + 1);
    till_last_entry(t, &e);
    assert_int_equal(e.op, JOURNAL_OP_REFUSAL);
    assert_int_equal(e.reason, reason);
    assert_int_equal(e.card_kind, kind);
    assert_int_equal(e.item, q->op);
    assert_int_equal(e.counter_after, e.counter_before);
    return r.round_trips;
}

void till_expect_desfire(struct till *t, uint32_t seq, uint32_t points, int32_t purse,
                         uint32_t taps)
{
    struct card_view v;
    till_read_desfire(t->f, &v);
    assert_int_equal(v.state.seq, seq);
    assert_int_equal(v.state.points, points);
    assert_int_equal(v.purse_cents, purse);
    assert_int_equal(v.taps, taps);
    till_present(t);
}

void till_expect_classic(struct till *t, uint32_t seq, uint32_t points, uint32_t purse)
{
    struct classic_record_state st;
    till_read_classic(t->f, &st);
    assert_int_equal(st.body.seq, seq);
    assert_int_equal(st.body.points, points);
    assert_int_equal(st.purse, purse);
    till_present(t);
}

/* --- cards made the desk's way ---------------------------------------------- */

static leal_err desk_current(void *ctx, enum key_role role, uint8_t *version)
{
    const struct fixture *f = ctx;
    const struct key_version *v;
    leal_err err = keyset_current(f->keys, 7, role, &v);
    if (err == LEAL_OK)
        *version = v->version;
    return err;
}

static leal_err desk_key(void *ctx, const struct desfire_card_div *card, enum key_role role,
                         uint8_t version, const uint8_t aid[3], uint8_t out[16])
{
    const struct fixture *f = ctx;
    const struct key_version *v;
    leal_err err = keyset_version(f->keys, 7, role, version, &v);
    if (err == LEAL_OK)
        err = derive_card_key(
            crypto_openssl(), v->key,
            &(struct derive_card_input){card->id, card->len, aid, f->keys->issuer_id, 7}, out);
    return err;
}

void till_tmac_key(struct fixture *f, uint8_t key[16])
{
    const struct key_version *v;
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_TMAC, &v), LEAL_OK);
    assert_int_equal(
        derive_card_key(crypto_openssl(), v->key,
                        &(struct derive_card_input){desfire_uid, sizeof desfire_uid,
                                                    desfire_card_leal_aid, f->keys->issuer_id, 7},
                        key),
        LEAL_OK);
}

/* A desk's session with the card in the field of r: its UID as the reader
 * saw it (a random-UID card's changes at each activation), diversified with
 * the card id when the UID is random. */
static void desk_open(struct fixture *f, struct reader *r, struct desfire_card_keys *keys,
                      struct desfire_card *c)
{
    struct reader_card rc;
    struct desfire_card_setup ds;
    assert_int_equal(reader_card_info(r, &rc), LEAL_OK);
    ds = (struct desfire_card_setup){
        reader_card_reader(r), crypto_openssl(), keys, f->keys->issuer_id, 7, rc.uid, rc.uid_len};
    desfire_card_open(c, &ds);
    desfire_card_set_card_id(c, TILL_CARD_ID);
}

struct reader *till_desk_session(struct fixture *f, struct desfire_card_keys *keys,
                                 struct desfire_card *c)
{
    struct reader *r = desk_fixture_open_card(f);
    *keys = (struct desfire_card_keys){f, desk_current, desk_key};
    desk_open(f, r, keys, c);
    return r;
}

void till_make_desfire_uid(struct fixture *f, int32_t purse_cents, uint16_t bono_sessions,
                           bool random_uid)
{
    till_make_desfire_type(f, "desfire-ev1", purse_cents, bono_sessions, random_uid);
}

/* till_make_desfire_tmac sets it for the one card it makes: 3, issued with
 * the file (layout 3, LAYOUT.md 2.10); 2, a layout-2 card given the file by
 * the desk's upgrade (till_make_desfire_tmac_v2). */
static int make_tmac;

void till_make_desfire_tmac(struct fixture *f, const char *type, int32_t purse_cents,
                            uint16_t bono_sessions, bool random_uid)
{
    make_tmac = 3;
    till_make_desfire_type(f, type, purse_cents, bono_sessions, random_uid);
    make_tmac = 0;
}

void till_make_desfire_tmac_v2(struct fixture *f, const char *type, int32_t purse_cents,
                               uint16_t bono_sessions, bool random_uid)
{
    make_tmac = 2;
    till_make_desfire_type(f, type, purse_cents, bono_sessions, random_uid);
    make_tmac = 0;
}

void till_make_desfire_type(struct fixture *f, const char *type, int32_t purse_cents,
                            uint16_t bono_sessions, bool random_uid)
{
    uint8_t chip = strcmp(type, "desfire-ev3") == 0   ? IDENTITY_DESFIRE_EV3
                   : strcmp(type, "desfire-ev2") == 0 ? IDENTITY_DESFIRE_EV2
                                                      : IDENTITY_DESFIRE_EV1;
    struct desfire_card_keys keys = {f, desk_current, desk_key};
    struct desfire_card c;
    struct desfire_card_issue p;
    struct card_view v;
    const struct key_version *kv;
    uint8_t picc[16];
    struct factory_setup s = {picc,
                              0,
                              LAYOUT_PICC_KEY_SETTINGS,
                              false,
                              desfire_card_leal_aid,
                              LAYOUT_APP_KEY_SETTINGS,
                              LAYOUT_APP_SETTINGS2,
                              LAYOUT_DF_ISO_FID,
                              desfire_card_df_name,
                              LAYOUT_DF_NAME_LEN};
    struct reader *r;

    desk_fixture_new_card(f, type, random_uid ? NULL : desfire_uid, 7, random_uid);
    r = desk_fixture_open_card(f);
    desk_open(f, r, &keys, &c);
    assert_int_equal(c.random_uid, random_uid);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_PICC_MASTER, &kv), LEAL_OK);
    s.version = kv->version;
    assert_int_equal(
        desk_key(f, &c.div, KEY_ROLE_PICC_MASTER, kv->version, desfire_card_picc_aid, picc),
        LEAL_OK);
    assert_int_equal(desfire_select_application(&c.d, desfire_card_picc_aid), LEAL_OK);
    assert_int_equal(
        factory_picc_setup(reader_card_reader(r), crypto_openssl(), &s, &c.d.round_trips), LEAL_OK);
    memset(&p, 0, sizeof p);
    p.identity = (struct identity){
        TILL_CARD_ID, f->keys->issuer_id, 7, 1, chip, random_uid ? IDENTITY_FLAG_RANDOM_UID : 0,
        20424};
    p.state.seq = 1;
    p.state.points = 25;
    p.purse_cap = 100000;
    p.app_created = true;
    p.tmac = make_tmac == 3;
    assert_int_equal(desfire_card_personalise(&c, &p, NULL), LEAL_OK);
    desfire_card_clear(&c);
    reader_close(r);
    if (make_tmac == 2) { /* the desk's upgrade of a card issued before the file */
        uint8_t version = 0;
        bool made = false;
        r = desk_fixture_open_card(f);
        desk_open(f, r, &keys, &c);
        assert_int_equal(desfire_card_add_tmac(&c, 0, &version, &made), LEAL_OK);
        assert_true(made);
        desfire_card_clear(&c);
        reader_close(r);
    }
    if (purse_cents > 0) {
        int32_t counter;
        struct log_record rec;
        r = desk_fixture_open_card(f);
        desk_open(f, r, &keys, &c);
        /* As the desk: its read, then the credit (a layout-3 card's state
         * written with it, seq + 1 and the mirror). */
        assert_int_equal(desfire_card_identify(&c, &v), LEAL_OK);
        assert_int_equal(desfire_card_read(&c, &v), LEAL_OK);
        assert_int_equal(desfire_card_credit_begin(&c, &counter), LEAL_OK);
        rec = (struct log_record){LOG_RECORD_TOPUP, (uint32_t)counter - 1, purse_cents, 0};
        assert_int_equal(desfire_card_credit_commit(&c, purse_cents, &rec, &v), LEAL_OK);
        desfire_card_clear(&c);
        reader_close(r);
    }
    if (bono_sessions > 0) {
        struct bono_file b;
        r = desk_fixture_open_card(f);
        desk_open(f, r, &keys, &c);
        assert_int_equal(desfire_card_identify(&c, &v), LEAL_OK);
        assert_int_equal(desfire_card_read(&c, &v), LEAL_OK);
        b = v.bonos;
        assert_int_equal(bono_file_add(&b, 21, bono_sessions, 0), LEAL_OK);
        assert_int_equal(desfire_card_write_bonos(&c, &b, &v), LEAL_OK);
        desfire_card_clear(&c);
        reader_close(r);
    }
}

void till_make_desfire(struct fixture *f, int32_t purse_cents, uint16_t bono_sessions)
{
    till_make_desfire_uid(f, purse_cents, bono_sessions, false);
}

void till_read_desfire(struct fixture *f, struct card_view *v)
{
    struct desfire_card_keys keys = {f, desk_current, desk_key};
    struct desfire_card c;
    struct reader *r = desk_fixture_open_card(f);
    desk_open(f, r, &keys, &c);
    assert_int_equal(desfire_card_identify(&c, v), LEAL_OK);
    assert_int_equal(desfire_card_read(&c, v), LEAL_OK);
    desfire_card_clear(&c);
    reader_close(r);
}

void till_read_classic(struct fixture *f, struct classic_record_state *st)
{
    struct till t;
    struct terminal_request q = {.op = TERMINAL_BALANCE};
    struct terminal_result r;
    /* A terminal's own balance read, on a till of its own (its journal apart).
     * Its identity signature verified by OpenSSL's Ed25519 rather than the
     * portable one: this till only reads the card for a test (the tills under
     * test verify with the portable provider), and the portable verify under
     * ASan was a tenth of terminal_tear_test's CPU. */
    till_open(&t, f, 99, NULL);
    t.cp.ed25519_verify = crypto_openssl()->ed25519_verify;
    assert_int_equal(till_tap(&t, &q, &r), LEAL_OK);
    assert_int_equal(r.outcome, TERMINAL_DONE);
    st->body = r.after;
    st->purse = (uint32_t)r.purse_after;
    till_close(&t);
}

void till_make_classic(struct fixture *f, uint32_t purse_cents)
{
    const struct crypto_provider *cp = crypto_openssl();
    const struct key_version *ka, *kb, *km, *ks;
    struct classic_card_keys keys = {0};
    struct classic_card cc;
    struct identity id = {TILL_CARD_ID,        f->keys->issuer_id,         7,    1,
                          IDENTITY_CLASSIC_1K, IDENTITY_FLAG_STORED_VALUE, 20415};
    struct classic_record_state st = {.body = {.seq = 1, .points = 25}, .purse = purse_cents};
    struct classic_keys_card kc = {classic_uid, 4, f->keys->issuer_id, 7};
    uint8_t seal[32], rec[32], msg[IDENTITY_MAX_SIGNED], sig[64];
    uint8_t ispan[CLASSIC_RECORD_IDENTITY_SPAN], sspan[CLASSIC_RECORD_STATE_SPAN];
    size_t ml;
    struct reader *r;

    desk_fixture_new_card(f, "classic-1k", classic_uid, 4, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_CLASSIC_A, &ka), LEAL_OK);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_CLASSIC_B, &kb), LEAL_OK);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_MAD_B, &km), LEAL_OK);
    assert_int_equal(keyset_current(f->keys, 7, KEY_ROLE_CLASSIC_SEAL, &ks), LEAL_OK);
    for (uint8_t s = 0; s < CLASSIC_CARD_SECTORS; s++) {
        assert_int_equal(classic_keys_sector(cp, s == 0 ? km->key : kb->key, &kc, s, keys.b[s]),
                         LEAL_OK);
        assert_int_equal(classic_keys_sector(cp, ka->key, &kc, s, keys.a[s]), LEAL_OK);
    }
    memcpy(keys.a[0], (uint8_t[6]){0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5}, 6);
    assert_int_equal(classic_keys_seal(cp, ks->key, &kc, seal), LEAL_OK);
    assert_int_equal(identity_encode(&id, rec), LEAL_OK);
    assert_int_equal(identity_signed_message(rec, classic_uid, 4, msg, &ml), LEAL_OK);
    assert_int_equal(crypto_openssl_ed25519_sign(package_seed, msg, ml, sig), LEAL_OK);
    assert_int_equal(
        classic_record_identity_seal(&(struct classic_record_key){cp, seal}, rec, sig, ispan),
        LEAL_OK);
    assert_int_equal(classic_record_state_seal(&(struct classic_record_key){cp, seal}, TILL_CARD_ID,
                                               0, &st, sspan),
                     LEAL_OK);
    classic_card_init(&cc, reader_card_reader(r));
    assert_int_equal(classic_card_personalise(&cc, transport, &keys, ispan, sspan), LEAL_OK);
    reader_close(r);
}
