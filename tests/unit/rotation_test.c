/* rotation_test.c - key rotation reaching cards (keys/KEYS.md): the desk
 * authenticates with the version a card carries and, at every contact, changes
 * the card's keys to the keystore's current versions and records them in the
 * ledger. DESFire through the sim: reader: every role the card uses rotated,
 * read, top-up, rotated again, a card two versions behind, a card whose
 * versions the ledger never recorded, a version the keystore does not hold,
 * and a re-key torn at every exchange; exact key versions on the card and in
 * the ledger, exact balances and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cardlayout/classic/classic_keys.h"
#include "cardlayout/records/classic_record.h"
#include "host/cardsim/cardsim.h"
#include "host/issuance/issuance.h"
#include "host/reader/reader.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"

static const uint8_t uid7[7] = {0x04, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76};

static leal_err os_random(uint8_t *out, size_t n)
{
    return crypto_openssl()->random(out, n);
}

static void rotate(struct fixture *f, enum key_role role, uint8_t expect)
{
    uint8_t v = 0;
    assert_int_equal(keyset_rotate(f->keys, 7, role, 1700000000, os_random, &v), LEAL_OK);
    assert_int_equal(v, expect);
}

static struct keyset *copy_keys(const struct keyset *ks)
{
    struct keyset *c = calloc(1, sizeof *c);
    assert_non_null(c);
    memcpy(c, ks, sizeof *c);
    return c;
}

static void free_keys(struct keyset *ks)
{
    keyset_clear(ks);
    free(ks);
}

/* One APDU, asserting the answer's status 91 00; returns the data length. */
static size_t apdu(struct reader *r, const uint8_t *cmd, size_t len, uint8_t *data)
{
    uint8_t resp[64];
    size_t rl;
    assert_int_equal(reader_transceive(r, cmd, len, resp, sizeof resp, &rl), LEAL_OK);
    assert_true(rl >= 2);
    assert_int_equal(resp[rl - 2], 0x91);
    assert_int_equal(resp[rl - 1], 0x00);
    if (data)
        memcpy(data, resp, rl - 2);
    return rl - 2;
}

/* The key version bytes on the card, as anyone reads them (GetKeyVersion is
 * free): PICC master key, then application keys 0, 1, 2. */
static void card_versions(struct reader *r, uint8_t picc, uint8_t k0, uint8_t k1, uint8_t k2)
{
    static const uint8_t sel_picc[] = {0x90, 0x5A, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t sel_leal[] = {0x90, 0x5A, 0x00, 0x00, 0x03, 0x4C, 0x45, 0x41, 0x00};
    uint8_t gkv[] = {0x90, 0x64, 0x00, 0x00, 0x01, 0x00, 0x00}, v[8];
    assert_int_equal(apdu(r, sel_picc, sizeof sel_picc, NULL), 0);
    assert_int_equal(apdu(r, gkv, sizeof gkv, v), 1);
    assert_int_equal(v[0], picc);
    assert_int_equal(apdu(r, sel_leal, sizeof sel_leal, NULL), 0);
    for (uint8_t k = 0; k < 3; k++) {
        gkv[5] = k;
        assert_int_equal(apdu(r, gkv, sizeof gkv, v), 1);
        assert_int_equal(v[0], k == 0 ? k0 : k == 1 ? k1 : k2);
    }
}

/* How many of the card's four keys are still at version 1. */
static int keys_at_one(struct reader *r)
{
    static const uint8_t sel_picc[] = {0x90, 0x5A, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t sel_leal[] = {0x90, 0x5A, 0x00, 0x00, 0x03, 0x4C, 0x45, 0x41, 0x00};
    uint8_t gkv[] = {0x90, 0x64, 0x00, 0x00, 0x01, 0x00, 0x00}, v[8];
    int n = 0;
    assert_int_equal(apdu(r, sel_picc, sizeof sel_picc, NULL), 0);
    assert_int_equal(apdu(r, gkv, sizeof gkv, v), 1);
    n += v[0] == 1;
    assert_int_equal(apdu(r, sel_leal, sizeof sel_leal, NULL), 0);
    for (uint8_t k = 0; k < 3; k++) {
        gkv[5] = k;
        assert_int_equal(apdu(r, gkv, sizeof gkv, v), 1);
        n += v[0] == 1;
    }
    return n;
}

/* The versions the ledger records for a card (roles 1..4, and an EV2/EV3's
 * tmac key, made at issuance with version 1 and never rotated on a card;
 * no other role). */
static void ledger_versions(struct fixture *f, int64_t card_id, uint8_t picc, uint8_t app,
                            uint8_t purse, uint8_t terminal)
{
    uint8_t v[LEDGER_KEY_ROLES], want[LEDGER_KEY_ROLES] = {0};
    struct ledger_card lc;
    want[KEY_ROLE_PICC_MASTER - 1] = picc;
    want[KEY_ROLE_APP_MASTER - 1] = app;
    want[KEY_ROLE_PURSE_CREDIT - 1] = purse;
    want[KEY_ROLE_TERMINAL - 1] = terminal;
    assert_int_equal(ledger_card_find_by_id(f->ledger, card_id, &lc), LEAL_OK);
    if (picc != 0 && lc.tech != LEDGER_TECH_DESFIRE_EV1)
        want[KEY_ROLE_TMAC - 1] = 1;
    assert_int_equal(ledger_card_keys_get(f->ledger, card_id, v), LEAL_OK);
    assert_memory_equal(v, want, sizeof want);
}

static struct reader *issue(struct fixture *f, bool random_uid, int64_t account, int64_t topup,
                            struct issuance_card *out)
{
    struct issuance_request req = {.account_id = account, .topup_cents = topup};
    struct reader *r;
    desk_fixture_new_card(f, random_uid ? "desfire-ev3" : "desfire-ev1", random_uid ? NULL : uid7,
                          7, random_uid);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, out), LEAL_OK);
    assert_int_equal(out->rekeyed, 0);
    return r;
}

/* Every DESFire role rotated, one at a time and together, then twice: each
 * desk contact reads with the card's versions, brings them to the current
 * ones, and the next contact costs no more than before the rotation. */
static void test_desfire_every_role_rotated(void **state)
{
    struct fixture *f = *state;
    struct issuance_card out, v;
    struct reader *r;

    for (int random_uid = 0; random_uid <= 1; random_uid++) {
        struct keyset *start = copy_keys(f->keys);
        int64_t account = desk_fixture_customer(f, random_uid ? "Rita" : "Fixo");
        /* The desk read: 9 RT on the fixed-UID EV1; the random-UID EV3 adds
         * GetCardUID and ReadData of its Transaction MAC file (11). */
        unsigned read_rt = random_uid ? 11u : 9u;
        /* A top-up: 8, and on the EV3 (layout 3, LAYOUT.md 2.10) + its WriteData state. */
        unsigned topup_rt = random_uid ? 9u : 8u;
        r = issue(f, random_uid, account, 2000, &out);
        card_versions(r, 1, 1, 1, 1);
        ledger_versions(f, out.card_id, 1, 1, 1, 1);

        /* The terminal key: the read opens with version 1, then key 0
         * authenticates (2) and key 2 changes (1). */
        rotate(f, KEY_ROLE_TERMINAL, 2);
        assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
        assert_true(v.agrees);
        assert_int_equal(v.purse_cents, 2000);
        assert_int_equal(v.rekeyed, 1);
        assert_int_equal(v.round_trips, read_rt + 3);
        card_versions(r, 1, 1, 1, 2);
        ledger_versions(f, out.card_id, 1, 1, 1, 2);
        assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
        assert_int_equal(v.rekeyed, 0);
        assert_int_equal(v.round_trips, read_rt);

        /* The purse credit key, then a top-up with it. */
        rotate(f, KEY_ROLE_PURSE_CREDIT, 2);
        assert_int_equal(issuance_topup(&f->is, r, 550, &v), LEAL_OK);
        assert_int_equal(v.purse_cents, 2550);
        assert_int_equal(v.rekeyed, 1);
        /* read, GetKeyVersion 1, authenticate 0, ChangeKey 1, top-up */
        assert_int_equal(v.round_trips, read_rt + 1 + 2 + 1 + topup_rt);
        card_versions(r, 1, 1, 2, 2);
        ledger_versions(f, out.card_id, 1, 1, 2, 2);
        desk_fixture_balances(f, account, 2550, 0);

        /* The application master key: it changes itself, last. */
        rotate(f, KEY_ROLE_APP_MASTER, 2);
        assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
        assert_int_equal(v.rekeyed, 1);
        assert_int_equal(v.round_trips, read_rt + 1 + 2 + 1);
        card_versions(r, 1, 2, 2, 2);

        /* The PICC master key, under itself at PICC level. */
        rotate(f, KEY_ROLE_PICC_MASTER, 2);
        assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
        assert_int_equal(v.rekeyed, 1);
        /* SelectApplication 000000, GetKeyVersion, authenticate, ChangeKey */
        assert_int_equal(v.round_trips, read_rt + 1 + 1 + 2 + 1);
        card_versions(r, 2, 2, 2, 2);
        ledger_versions(f, out.card_id, 2, 2, 2, 2);

        /* All four again, and a top-up as the first contact. */
        rotate(f, KEY_ROLE_PICC_MASTER, 3);
        rotate(f, KEY_ROLE_APP_MASTER, 3);
        rotate(f, KEY_ROLE_PURSE_CREDIT, 3);
        rotate(f, KEY_ROLE_TERMINAL, 3);
        assert_int_equal(issuance_topup(&f->is, r, 1000, &v), LEAL_OK);
        assert_int_equal(v.purse_cents, 3550);
        assert_int_equal(v.rekeyed, 4);
        /* read, GetKeyVersion 1 and 0, authenticate 0, ChangeKey 2, 1, 0,
         * PICC: select, GetKeyVersion, authenticate, ChangeKey; top-up */
        assert_int_equal(v.round_trips, read_rt + 2 + 2 + 3 + 5 + topup_rt);
        card_versions(r, 3, 3, 3, 3);
        ledger_versions(f, out.card_id, 3, 3, 3, 3);
        assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
        assert_true(v.agrees);
        assert_int_equal(v.rekeyed, 0);
        assert_int_equal(v.purse_cents, 3550);
        assert_int_equal(v.taps, 3);
        desk_fixture_balances(f, account, 3550, 0);
        reader_close(r);

        /* A card issued before all that, two versions behind on every key. */
        {
            struct keyset *now = f->keys;
            int64_t behind = desk_fixture_customer(f, "Behind");
            f->keys = start;
            f->is.keys = start;
            r = issue(f, random_uid, behind, 700, &out);
            f->keys = now;
            f->is.keys = now;
            card_versions(r, 1, 1, 1, 1);
            assert_int_equal(issuance_topup(&f->is, r, 300, &v), LEAL_OK);
            assert_int_equal(v.rekeyed, 4);
            assert_int_equal(v.purse_cents, 1000);
            assert_true(v.agrees);
            card_versions(r, 3, 3, 3, 3);
            ledger_versions(f, out.card_id, 3, 3, 3, 3);
            desk_fixture_balances(f, behind, 1000, 0);
            reader_close(r);
        }
        /* A card without money issued at version 1 and erased now: the read
         * re-keys it, then the PICC master key of version 3 formats it. */
        {
            struct keyset *now = f->keys;
            f->keys = start;
            f->is.keys = start;
            r = issue(f, random_uid, desk_fixture_customer(f, "Erased"), 0, &out);
            f->keys = now;
            f->is.keys = now;
            assert_int_equal(issuance_erase(&f->is, r, &v), LEAL_OK);
            assert_int_equal(v.card_id, out.card_id);
            assert_int_equal(v.rekeyed, 4);
            assert_int_equal(issuance_read(&f->is, r, &v), LEAL_E_CARD_NOT_LEAL);
            reader_close(r);
        }
        free_keys(start);
        /* The next card starts from a fresh keystore. */
        keyset_clear(f->keys);
        memset(f->keys->programs, 0, sizeof f->keys->programs);
        f->keys->nprograms = 0;
        f->keys->issuer_id = 0x1a2b3c4d;
        assert_int_equal(keyset_add_program(f->keys, 7, 1700000000, os_random), LEAL_OK);
    }
}

/* A card whose versions the ledger never recorded (issued before they were
 * kept): the identity's key-set version opens it, the card names the others,
 * nothing changes and the ledger learns them. */
static void test_desfire_versions_learned_from_the_card(void **state)
{
    struct fixture *f = *state;
    struct issuance_card out, v;
    struct reader *r;
    sqlite3 *db;

    r = issue(f, false, f->account, 1500, &out);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM card_key", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ledger_versions(f, out.card_id, 0, 0, 0, 0);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_true(v.agrees);
    assert_int_equal(v.rekeyed, 0);
    /* GetKeyVersion 1 and 0; SelectApplication 000000 and GetKeyVersion */
    assert_int_equal(v.round_trips, 9 + 2 + 2);
    ledger_versions(f, out.card_id, 1, 1, 1, 1);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.round_trips, 9);
    desk_fixture_balances(f, f->account, 1500, 0);
    reader_close(r);
}

/* A desk whose keystore lacks the version a card carries says which (not
 * TAMPERED), and nothing moves. */
static void test_desfire_version_not_in_the_keystore(void **state)
{
    struct fixture *f = *state;
    struct issuance_card out, v;
    struct keyset *old = copy_keys(f->keys);
    struct reader *r;

    rotate(f, KEY_ROLE_TERMINAL, 2);
    r = issue(f, false, f->account, 1200, &out);
    card_versions(r, 1, 1, 1, 2);
    f->is.keys = old;
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_E_CARD_KEY_VERSION);
    assert_int_equal(v.missing_role, KEY_ROLE_TERMINAL);
    assert_int_equal(v.missing_version, 2);
    assert_int_equal(issuance_topup(&f->is, r, 100, &v), LEAL_E_CARD_KEY_VERSION);
    /* The ledger's record gone too: the card's own byte names the version. */
    {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "DELETE FROM card_key", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_E_CARD_KEY_VERSION);
    assert_int_equal(v.missing_role, KEY_ROLE_TERMINAL);
    assert_int_equal(v.missing_version, 2);
    card_versions(r, 1, 1, 1, 2);
    f->is.keys = f->keys;
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.purse_cents, 1200);
    desk_fixture_balances(f, f->account, 1200, 0);
    free_keys(old);
    reader_close(r);
}

/* A re-key of every role torn at every exchange, each way, on a card issued
 * under version 1: the next read opens it whatever was changed, finishes the
 * re-key, and a top-up follows; no euro created or lost. */
static void test_desfire_rekey_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    struct keyset *old = copy_keys(f->keys);
    struct issuance_card out, v;
    struct reader *r;
    unsigned total;
    int finished_early = 0;

    rotate(f, KEY_ROLE_PICC_MASTER, 2);
    rotate(f, KEY_ROLE_APP_MASTER, 2);
    rotate(f, KEY_ROLE_PURSE_CREDIT, 2);
    rotate(f, KEY_ROLE_TERMINAL, 2);
    f->is.keys = old;
    r = issue(f, false, f->account, 400, &out);
    reader_close(r);
    f->is.keys = f->keys;
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 4);
    total = v.round_trips;
    assert_int_equal(total, 9 + 2 + 2 + 3 + 5);
    reader_close(r);
    for (int point = CARDSIM_TEAR_BEFORE_COMMAND; point <= CARDSIM_TEAR_BEFORE_ANSWER; point++) {
        for (unsigned n = 1; n <= total; n++) {
            struct cardsim_tear tear = {.point = point, .after = n};
            char name[32];
            int64_t account;
            int behind;
            leal_err err;
            snprintf(name, sizeof name, "torn %d %u", point, n);
            account = desk_fixture_customer(f, name);
            f->is.keys = old;
            r = issue(f, false, account, 400, &out);
            f->is.keys = f->keys;
            cardsim_set_tear(reader_sim_card(r), &tear);
            err = issuance_read(&f->is, r, &v);
            tear.point = CARDSIM_TEAR_NONE;
            cardsim_set_tear(reader_sim_card(r), &tear);
            assert_int_equal(err, LEAL_E_CARD_REMOVED);
            assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
            /* The next tap: it reads, and finishes what was left. */
            behind = keys_at_one(r);
            assert_int_equal(issuance_topup(&f->is, r, 100, &v), LEAL_OK);
            assert_int_equal(v.rekeyed, behind);
            finished_early += behind < 4;
            assert_int_equal(v.purse_cents, 500);
            card_versions(r, 2, 2, 2, 2);
            ledger_versions(f, out.card_id, 2, 2, 2, 2);
            assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
            assert_true(v.agrees);
            assert_int_equal(v.round_trips, 9);
            desk_fixture_balances(f, account, 500, 0);
            reader_close(r);
        }
    }
    /* Tears after a ChangeKey took effect left part of the work done. */
    assert_true(finished_early >= 4);
    free_keys(old);
}

/* ---- MIFARE Classic ------------------------------------------------------ */

static const uint8_t uid4[4] = {0x3A, 0x7F, 0x21, 0x09};

static const enum key_role classic_roles[5] = {KEY_ROLE_CLASSIC_A, KEY_ROLE_CLASSIC_B,
                                               KEY_ROLE_MAD_B, KEY_ROLE_CLASSIC_SEAL,
                                               KEY_ROLE_PACKAGE_SIGNING};

/* The versions the ledger records for a Classic card: a, b, mad-b, seal, package. */
static void classic_ledger_versions(struct fixture *f, int64_t card_id, uint8_t a, uint8_t b,
                                    uint8_t m, uint8_t seal, uint8_t pkg)
{
    uint8_t v[LEDGER_KEY_ROLES], want[LEDGER_KEY_ROLES] = {0};
    want[KEY_ROLE_CLASSIC_A - 1] = a;
    want[KEY_ROLE_CLASSIC_B - 1] = b;
    want[KEY_ROLE_MAD_B - 1] = m;
    want[KEY_ROLE_CLASSIC_SEAL - 1] = seal;
    want[KEY_ROLE_PACKAGE_SIGNING - 1] = pkg;
    assert_int_equal(ledger_card_keys_get(f->ledger, card_id, v), LEAL_OK);
    assert_memory_equal(v, want, sizeof want);
}

/* Whether key TYPE of sector s at version of its role opens the card. */
static bool classic_opens(struct fixture *f, struct reader *r, unsigned s, uint8_t type,
                          uint8_t version)
{
    const struct key_version *v;
    enum key_role role = type == CLASSIC_KEY_A ? KEY_ROLE_CLASSIC_A
                         : s == 0              ? KEY_ROLE_MAD_B
                                               : KEY_ROLE_CLASSIC_B;
    const struct card_reader *cr = reader_card_reader(r);
    uint8_t key[6];
    leal_err err;
    assert_int_equal(keyset_version(f->keys, 7, role, version, &v), LEAL_OK);
    assert_int_equal(
        classic_keys_sector(crypto_openssl(), v->key,
                            &(struct classic_keys_card){uid4, sizeof uid4, f->keys->issuer_id, 7},
                            (uint8_t)s, key),
        LEAL_OK);
    err = cr->classic_auth(cr->ctx, (uint8_t)(4 * s), type, key);
    if (err != LEAL_OK) /* a failed authentication leaves the card idle */
        assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
    return err == LEAL_OK;
}

/* Every sector's keys A and B (sector 0: B, mad-b) are at version a / b / m. */
static void classic_card_keys(struct fixture *f, struct reader *r, uint8_t a, uint8_t b, uint8_t m)
{
    for (unsigned s = 0; s < 6; s++) {
        if (s > 0)
            assert_true(classic_opens(f, r, s, CLASSIC_KEY_A, a));
        assert_true(classic_opens(f, r, s, CLASSIC_KEY_B, s == 0 ? m : b));
    }
}

/* A keystore holding only the newest version of every role: a desk with it
 * reads a card only if the card carries nothing older. */
static struct keyset *newest_only(const struct keyset *ks)
{
    struct keyset *c = copy_keys(ks);
    for (int r = 0; r < KEY_ROLE_COUNT; r++) {
        struct key_slot *s = &c->programs[0].roles[r];
        s->v[0] = s->v[s->nversions - 1];
        s->nversions = 1;
    }
    return c;
}

static struct reader *classic_issue(struct fixture *f, int64_t account, int64_t topup,
                                    struct issuance_card *out)
{
    struct issuance_request req = {.account_id = account, .topup_cents = topup};
    struct reader *r;
    desk_fixture_new_card(f, "classic-1k", uid4, sizeof uid4, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, out), LEAL_OK);
    assert_int_equal(out->rekeyed, 0);
    return r;
}

static void classic_stored_value_on(struct fixture *f)
{
    assert_int_equal(ledger_program_set_purse(f->ledger, 7, LEDGER_PURSE_CAP_DEFAULT, 5000),
                     LEAL_OK);
}

/* Every role a Classic card uses rotated, one at a time and together, then a
 * card two versions behind: sector keys, re-sealed state, re-sealed and
 * re-signed identity, exact round trips, purse and ledger. */
static void test_classic_every_role_rotated(void **state)
{
    struct fixture *f = *state;
    struct keyset *start = copy_keys(f->keys), *newest;
    struct issuance_card out, v;
    struct reader *r;
    int64_t behind;

    classic_stored_value_on(f);
    r = classic_issue(f, f->account, 2000, &out);
    classic_ledger_versions(f, out.card_id, 1, 1, 1, 1, 1);
    classic_card_keys(f, r, 1, 1, 1);

    /* classic-a: the read tries version 2, then 1 (+1 RT, once: the other
     * sectors are tried with 1 first); sectors 1-5 re-keyed under key B. */
    rotate(f, KEY_ROLE_CLASSIC_A, 2);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_true(v.agrees);
    assert_int_equal(v.rekeyed, 1);
    assert_int_equal(v.round_trips, 19 + 1 + 5 * 2);
    assert_int_equal(v.purse_cents, 2000);
    classic_card_keys(f, r, 2, 1, 1);
    classic_ledger_versions(f, out.card_id, 2, 1, 1, 1, 1);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.round_trips, 19);
    assert_int_equal(v.rekeyed, 0);

    /* classic-b, then a top-up (4 RT) */
    rotate(f, KEY_ROLE_CLASSIC_B, 2);
    assert_int_equal(issuance_topup(&f->is, r, 500, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 1);
    assert_int_equal(v.round_trips, 19 + 5 * 2 + 4);
    assert_int_equal(v.purse_cents, 2500);
    classic_card_keys(f, r, 2, 2, 1);

    /* mad-b: sector 0 only */
    rotate(f, KEY_ROLE_MAD_B, 2);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 1);
    assert_int_equal(v.round_trips, 19 + 2);
    classic_card_keys(f, r, 2, 2, 2);

    /* classic-seal: the identity (3 authentications, 8 blocks) and the state
     * (into the other slot, seq + 1: 1 + 3) re-sealed. */
    rotate(f, KEY_ROLE_CLASSIC_SEAL, 2);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 1);
    assert_int_equal(v.round_trips, 19 + 3 + 8 + 4);
    assert_int_equal(v.state.seq, 4); /* issue 1, top-ups 2 and 3, re-seal 4 */
    assert_int_equal(v.purse_cents, 2500);
    assert_true(v.agrees);

    /* package: the identity re-signed (and sealed again) */
    rotate(f, KEY_ROLE_PACKAGE_SIGNING, 2);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 1);
    assert_int_equal(v.round_trips, 19 + 3 + 8);
    classic_ledger_versions(f, out.card_id, 2, 2, 2, 2, 2);
    newest = newest_only(f->keys);
    f->is.keys = newest;
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.round_trips, 19);
    assert_int_equal(v.purse_cents, 2500);
    f->is.keys = f->keys;
    free_keys(newest);

    /* All five again, and a top-up as the first contact: the read tries A 3
     * then 2 (+1); sector 0 (2), identity sectors 1-3 (5, 5, 4), the other
     * state slot (5), the current slot's trailer (2); the top-up (4). */
    for (int i = 0; i < 5; i++)
        rotate(f, classic_roles[i], 3);
    assert_int_equal(issuance_topup(&f->is, r, 1000, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 5);
    assert_int_equal(v.round_trips, 19 + 1 + 2 + 5 + 5 + 4 + 5 + 2 + 4);
    assert_int_equal(v.purse_cents, 3500);
    assert_true(v.agrees);
    classic_card_keys(f, r, 3, 3, 3);
    classic_ledger_versions(f, out.card_id, 3, 3, 3, 3, 3);
    desk_fixture_balances(f, f->account, 3500, 0);
    reader_close(r);

    /* A card issued at version 1 and not seen since: two versions behind. */
    behind = desk_fixture_customer(f, "Behind");
    f->is.keys = start;
    r = classic_issue(f, behind, 700, &out);
    f->is.keys = f->keys;
    assert_int_equal(issuance_topup(&f->is, r, 300, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 5);
    /* A tries 3, 2, then 1 (+2) */
    assert_int_equal(v.round_trips, 19 + 2 + 2 + 5 + 5 + 4 + 5 + 2 + 4);
    assert_int_equal(v.purse_cents, 1000);
    assert_true(v.agrees);
    classic_card_keys(f, r, 3, 3, 3);
    classic_ledger_versions(f, out.card_id, 3, 3, 3, 3, 3);
    newest = newest_only(f->keys);
    f->is.keys = newest;
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.purse_cents, 1000);
    assert_true(v.agrees);
    f->is.keys = f->keys;
    free_keys(newest);
    desk_fixture_balances(f, behind, 1000, 0);
    reader_close(r);

    /* A card without money issued at version 1, erased now: the probe finds
     * key B of each sector at version 1, and the card goes back to transport. */
    f->is.keys = start;
    r = classic_issue(f, desk_fixture_customer(f, "Erased"), 0, &out);
    f->is.keys = f->keys;
    assert_int_equal(issuance_erase(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.card_id, out.card_id);
    {
        struct issuance_request req = {.account_id = behind};
        assert_int_equal(issuance_issue(&f->is, r, &req, &v), LEAL_OK);
        classic_ledger_versions(f, v.card_id, 3, 3, 3, 3, 3);
    }
    reader_close(r);
    free_keys(start);
}

/* A Classic card whose versions the ledger never recorded: key B of every
 * sector is tried (6 RT, once), nothing is written, the ledger learns them. */
static void test_classic_versions_learned_from_the_card(void **state)
{
    struct fixture *f = *state;
    struct issuance_card out, v;
    struct reader *r;
    sqlite3 *db;

    r = classic_issue(f, f->account, 0, &out);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM card_key", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 0);
    assert_int_equal(v.round_trips, 19 + 6);
    classic_ledger_versions(f, out.card_id, 1, 1, 1, 1, 1);
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.round_trips, 19);
    reader_close(r);
}

/* Every way the virtual card tears a Classic exchange (the command lost, its
 * answer lost, power lost inside a block write leaving the old block, the new
 * one, or garbage). */
static const struct {
    enum cardsim_tear_point point;
    enum cardsim_torn_block block;
} classic_tears[] = {
    {CARDSIM_TEAR_BEFORE_COMMAND, CARDSIM_TORN_OLD},
    {CARDSIM_TEAR_BEFORE_ANSWER, CARDSIM_TORN_OLD},
    {CARDSIM_TEAR_INSIDE_COMMIT, CARDSIM_TORN_OLD},
    {CARDSIM_TEAR_INSIDE_COMMIT, CARDSIM_TORN_NEW},
    {CARDSIM_TEAR_INSIDE_COMMIT, CARDSIM_TORN_GARBAGE},
};

/* A re-key of every Classic role torn at every exchange, each way, on a card
 * issued under version 1: the next tap reads it (the identity finished from
 * the ledger when the tear fell inside it), finishes the re-key and tops it
 * up; a desk with only the newest keys then reads it. A trailer torn into
 * garbage locks its sector for good (MIFARE Classic has no way back): those
 * runs, and only those, leave a card that does not read. */
static void test_classic_rekey_torn_at_every_exchange(void **state)
{
    struct fixture *f = *state;
    struct keyset *old = copy_keys(f->keys), *newest;
    struct issuance_card out, v;
    struct reader *r;
    unsigned total, lost = 0, finished_identity = 0;

    classic_stored_value_on(f);
    for (int i = 0; i < 5; i++)
        rotate(f, classic_roles[i], 2);
    newest = newest_only(f->keys);
    f->is.keys = old;
    r = classic_issue(f, f->account, 400, &out);
    f->is.keys = f->keys;
    assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
    assert_int_equal(v.rekeyed, 5);
    total = v.round_trips;
    assert_int_equal(total, 19 + 1 + 2 + 5 + 5 + 4 + 5 + 2);
    reader_close(r);
    for (size_t w = 0; w < sizeof classic_tears / sizeof classic_tears[0]; w++) {
        for (unsigned n = 1; n <= total; n++) {
            struct cardsim_tear tear = {.point = classic_tears[w].point,
                                        .after = n,
                                        .classic_block = classic_tears[w].block};
            char name[32];
            int64_t account;
            leal_err err;
            snprintf(name, sizeof name, "torn %zu %u", w, n);
            account = desk_fixture_customer(f, name);
            f->is.keys = old;
            r = classic_issue(f, account, 400, &out);
            f->is.keys = f->keys;
            cardsim_set_tear(reader_sim_card(r), &tear);
            err = issuance_read(&f->is, r, &v);
            tear.point = CARDSIM_TEAR_NONE;
            cardsim_set_tear(reader_sim_card(r), &tear);
            assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
            if (err == LEAL_OK) {
                /* INSIDE_COMMIT on an exchange that writes nothing: no tear. */
                assert_int_equal(classic_tears[w].point, CARDSIM_TEAR_INSIDE_COMMIT);
            } else {
                assert_int_equal(err, LEAL_E_CARD_REMOVED);
            }
            /* The next tap. */
            err = issuance_topup(&f->is, r, 100, &v);
            if (err != LEAL_OK) {
                assert_int_equal(classic_tears[w].block, CARDSIM_TORN_GARBAGE);
                lost++;
                desk_fixture_balances(f, account, 400, 0);
                reader_close(r);
                continue;
            }
            assert_int_equal(v.purse_cents, 500);
            assert_true(v.agrees);
            finished_identity += v.rekeyed < 5;
            classic_card_keys(f, r, 2, 2, 2);
            classic_ledger_versions(f, out.card_id, 2, 2, 2, 2, 2);
            f->is.keys = newest;
            assert_int_equal(issuance_read(&f->is, r, &v), LEAL_OK);
            assert_int_equal(v.round_trips, 19);
            assert_int_equal(v.purse_cents, 500);
            assert_true(v.agrees);
            f->is.keys = f->keys;
            desk_fixture_balances(f, account, 500, 0);
            reader_close(r);
        }
    }
    print_message("torn re-keys: %u runs, %u left part done, %u sectors lost to garbage "
                  "trailers\n",
                  5 * total, finished_identity, lost);
    /* Garbage in one of the six trailers the re-key writes. */
    assert_int_equal(lost, 6);
    free_keys(newest);
    free_keys(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_desfire_every_role_rotated, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_versions_learned_from_the_card,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_version_not_in_the_keystore,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_desfire_rekey_torn_at_every_exchange,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_every_role_rotated, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_versions_learned_from_the_card,
                                        desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_classic_rekey_torn_at_every_exchange,
                                        desk_fixture_setup, desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
