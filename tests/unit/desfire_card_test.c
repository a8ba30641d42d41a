/* desfire_card_test.c - leal's DESFire card operations (cardlayout/desfire/
 * desfire_card.h) on the virtual card through the sim: reader, with a key
 * source made from the test keystore: personalise, the verified view, a purse
 * credit with its log record, a terminal's state write, key versions the
 * source lacks, keys that do not open the card, another program's card, and
 * a key rotation; exact values and round trips throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/desfire/desfire_card.h"
#include "cardlayout/layout.h"
#include "host/cardsim/cardsim.h"
#include "host/issuance/factory.h"
#include "keys/base/ct.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/testutil.h"

#define CARD_ID 100000000042ULL

static const uint8_t uid7[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

/* The key source the desk builds from its keystore; `wrong` flips a byte of
 * every key it gives (a forged or copied identity's keys). */
struct source {
    const struct keyset *keys;
    uint32_t program_id;
    bool wrong;
};

static leal_err src_current(void *ctx, enum key_role role, uint8_t *version)
{
    const struct source *s = ctx;
    const struct key_version *v;
    leal_err err = keyset_current(s->keys, s->program_id, role, &v);
    if (err == LEAL_OK)
        *version = v->version;
    return err;
}

static leal_err src_key(void *ctx, const struct desfire_card_div *card, enum key_role role,
                        uint8_t version, const uint8_t aid[3], uint8_t out[16])
{
    const struct source *s = ctx;
    const struct key_version *v;
    leal_err err = keyset_version(s->keys, s->program_id, role, version, &v);
    if (err == LEAL_OK)
        err = derive_card_key(crypto_openssl(), v->key,
                              &(struct derive_card_input){card->id, card->len, aid,
                                                          s->keys->issuer_id, s->program_id},
                              out);
    if (err == LEAL_OK && s->wrong)
        out[0] ^= 1;
    return err;
}

struct bench {
    struct fixture *f;
    struct reader *r;
    struct source src;
    struct desfire_card_keys keys;
    struct desfire_card c;
    struct card_view view; /* what make_card wrote, as a read gives it */
};

static void open_card(struct bench *b, uint32_t program_id)
{
    struct reader_card rc;
    struct desfire_card_setup s;
    assert_int_equal(reader_card_info(b->r, &rc), LEAL_OK);
    b->src = (struct source){b->f->keys, b->f->is.program_id, false};
    b->keys = (struct desfire_card_keys){&b->src, src_current, src_key};
    s = (struct desfire_card_setup){reader_card_reader(b->r),
                                    crypto_openssl(),
                                    &b->keys,
                                    b->f->keys->issuer_id,
                                    program_id,
                                    rc.uid,
                                    rc.uid_len};
    desfire_card_open(&b->c, &s);
}

/* A blank EV1 made ready under its factory key (the host's DES step:
 * application created, PICC key settings and key set, 5 RT; with
 * app_left, an empty application a torn setup left is deleted first, +1),
 * then personalised by the card operation: card CARD_ID with 25 points. */
static void make_card_as(struct bench *b, bool app_left)
{
    struct fixture *f = b->f;
    uint8_t picc[16];
    const struct key_version *v;
    struct desfire_card_issue p;
    struct desfire_card_div div = {{0}, 7};
    struct factory_setup s = {picc,
                              0,
                              LAYOUT_PICC_KEY_SETTINGS,
                              app_left,
                              desfire_card_leal_aid,
                              LAYOUT_APP_KEY_SETTINGS,
                              LAYOUT_APP_SETTINGS2,
                              LAYOUT_DF_ISO_FID,
                              desfire_card_df_name,
                              LAYOUT_DF_NAME_LEN};

    desk_fixture_new_card(f, "desfire-ev1", uid7, 7, false);
    b->r = desk_fixture_open_card(f);
    open_card(b, f->is.program_id);
    memcpy(div.id, uid7, 7);
    assert_int_equal(keyset_current(f->keys, f->is.program_id, KEY_ROLE_PICC_MASTER, &v), LEAL_OK);
    s.version = v->version;
    assert_int_equal(
        src_key(&b->src, &div, KEY_ROLE_PICC_MASTER, v->version, desfire_card_picc_aid, picc),
        LEAL_OK);
    assert_int_equal(desfire_select_application(&b->c.d, desfire_card_picc_aid), LEAL_OK);
    if (app_left) /* the factory settings let anybody create one */
        assert_int_equal(
            desfire_create_application(
                &b->c.d, &(struct desfire_app_spec){desfire_card_leal_aid, 0x0F, 0x83, 0, NULL, 0}),
            LEAL_OK);
    b->c.d.round_trips = 0;
    assert_int_equal(
        factory_picc_setup(reader_card_reader(b->r), crypto_openssl(), &s, &b->c.d.round_trips),
        LEAL_OK);
    assert_int_equal(b->c.d.round_trips, app_left ? 6 : 5);
    /* Blank no more: the factory key no longer opens it. */
    assert_int_equal(
        factory_picc_setup(reader_card_reader(b->r), crypto_openssl(), &s, &b->c.d.round_trips),
        LEAL_E_CARD_AUTHENTICATION);
    memset(&p, 0, sizeof p);
    p.identity = (struct identity){
        CARD_ID, f->keys->issuer_id, f->is.program_id, 1, IDENTITY_DESFIRE_EV1, 0, 20424};
    p.state.seq = 1;
    p.state.points = 25;
    p.purse_cap = 100000;
    p.app_created = true;
    b->c.d.round_trips = 0;
    assert_int_equal(desfire_card_personalise(&b->c, &p, NULL), LEAL_OK);
    /* LAYOUT.md 2.7 and 4.4: select, authenticate (2), 6 files (the bono
     * file the sixth), 4 writes and the commit, 3 keys. */
    assert_int_equal(b->c.d.round_trips, 17);
    assert_int_equal(b->c.ver[KEY_ROLE_TERMINAL], 1);
    /* Verified as a terminal opens it: the new key 2 and the state (3 RT). */
    desfire_card_issued_view(&b->c, &p, uid7, 7, &b->view);
    b->c.d.round_trips = 0;
    assert_int_equal(desfire_card_verify(&b->c, &b->view), LEAL_OK);
    assert_int_equal(b->c.d.round_trips, 3);
    b->view.state.points = 26; /* not what the card holds */
    assert_int_equal(desfire_card_verify(&b->c, &b->view), LEAL_E_CARD_TAMPERED);
    b->view.state.points = 25;
    desfire_card_clear(&b->c);
    leal_wipe(picc, sizeof picc);
}

static void make_card(struct bench *b)
{
    make_card_as(b, false);
}

static void read_view(struct bench *b, struct card_view *v)
{
    open_card(b, b->f->is.program_id);
    assert_int_equal(desfire_card_identify(&b->c, v), LEAL_OK);
    assert_int_equal(desfire_card_read(&b->c, v), LEAL_OK);
}

static void test_personalised_card_reads_as_written(void **state)
{
    struct bench b = {.f = *state};
    struct card_view v;
    static const uint8_t issued[16] = {0x01, 0x03, 0x01, 0x00, 0x7F, 0xFF, 0xFF, 0xFF,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    make_card(&b);
    read_view(&b, &v);
    assert_int_equal(b.c.d.round_trips, 2 + 7); /* identify, then the terminal's read, bonos too */
    assert_int_equal(v.card_id, CARD_ID);
    assert_int_equal(v.issuer_id, b.f->keys->issuer_id);
    assert_int_equal(v.program_id, 7);
    assert_int_equal(v.kind, IDENTITY_DESFIRE_EV1);
    assert_int_equal(v.key_set_version, 1);
    assert_int_equal(v.issued_day, 20424);
    assert_false(v.random_uid);
    assert_true(v.stored_value);
    assert_memory_equal(v.uid, uid7, 7);
    assert_int_equal(v.uid_len, 7);
    assert_int_equal(v.state.seq, 1);
    assert_int_equal(v.state.points, 25);
    assert_int_equal(v.purse_cents, 0);
    assert_int_equal(v.counter, LAYOUT_COUNTER_START);
    assert_int_equal(v.taps, 0);
    assert_true(v.has_mark);
    assert_memory_equal(v.mark, issued, 16);
    assert_true(v.has_log);
    assert_int_equal(v.log.op, LOG_RECORD_ISSUE);
    assert_int_equal(v.log.counter, LAYOUT_COUNTER_START);
    assert_int_equal(v.log.amount, 0);
    assert_int_equal(v.log.terminal_id, 0);
    assert_int_equal(v.key_version[KEY_ROLE_TERMINAL], 1);
    assert_int_equal(v.key_version[KEY_ROLE_PURSE_CREDIT], 0); /* not used by the read */
    /* What issuance knew it wrote is what the read gives. */
    assert_int_equal(v.state.seq, b.view.state.seq);
    assert_int_equal(v.state.points, b.view.state.points);
    assert_memory_equal(v.mark, b.view.mark, 16);
    assert_int_equal(v.counter, b.view.counter);
    assert_int_equal(v.card_id, b.view.card_id);
    assert_int_equal(v.kind, b.view.kind);
    desfire_card_clear(&b.c);
    reader_close(b.r);
}

/* A setup torn after CreateApplication left an empty application on a card
 * still on its factory key: deleted and made again in the same session. */
static void test_setup_after_a_torn_setup(void **state)
{
    struct bench b = {.f = *state};
    struct card_view v;
    make_card_as(&b, true);
    read_view(&b, &v);
    assert_int_equal(v.card_id, CARD_ID);
    assert_int_equal(v.state.points, 25);
    desfire_card_clear(&b.c);
    reader_close(b.r);
}

static void test_credit_then_terminal_write(void **state)
{
    struct bench b = {.f = *state};
    struct card_view v;
    struct state_body next;
    int32_t counter;
    struct log_record rec;
    static const uint8_t topup[16] = {0x01, 0x03, 0x02, 0x00, 0x7F, 0xFF, 0xFF, 0xFE,
                                      0x00, 0x00, 0x04, 0xE2, 0x00, 0x00, 0x00, 0x00};
    make_card(&b);
    open_card(&b, b.f->is.program_id);
    assert_int_equal(desfire_card_credit_begin(&b.c, &counter), LEAL_OK);
    assert_int_equal(counter, LAYOUT_COUNTER_START);
    rec = (struct log_record){LOG_RECORD_TOPUP, (uint32_t)counter - 1, 1250, 0};
    assert_int_equal(desfire_card_credit_commit(&b.c, 1250, &rec, NULL), LEAL_OK);
    assert_int_equal(b.c.d.round_trips, 4 + 4);
    desfire_card_clear(&b.c);

    read_view(&b, &v);
    assert_int_equal(v.purse_cents, 1250);
    assert_int_equal(v.taps, 1);
    assert_int_equal(v.counter, LAYOUT_COUNTER_START - 1);
    assert_memory_equal(v.mark, topup, 16);
    assert_int_equal(v.log.op, LOG_RECORD_TOPUP);
    assert_int_equal(v.log.amount, 1250);

    /* A terminal's transaction under the key the read opened: 4 RT. */
    next = v.state;
    next.seq = 2;
    next.points = 40;
    b.c.d.round_trips = 0;
    assert_int_equal(desfire_card_write_state(&b.c, &next, 250, &v), LEAL_OK);
    assert_int_equal(b.c.d.round_trips, 4);
    assert_int_equal(v.purse_cents, 1000);
    assert_int_equal(v.taps, 2);
    assert_int_equal(desfire_card_write_state(&b.c, &next, 1001, &v), LEAL_E_ARG);
    desfire_card_clear(&b.c);

    read_view(&b, &v);
    assert_int_equal(v.purse_cents, 1000);
    assert_int_equal(v.taps, 2);
    assert_int_equal(v.counter, LAYOUT_COUNTER_START - 2);
    assert_int_equal(v.state.seq, 2);
    assert_int_equal(v.state.points, 40);
    assert_memory_equal(v.mark, topup, 16); /* a terminal's write adds no log record */
    desfire_card_clear(&b.c);
    reader_close(b.r);
}

/* Layout version 2's bono file (LAYOUT.md 4.2, 4.4): a sale, then a session
 * used, each the bono file, the counter and one commit under the terminal
 * key (3 RT), read back with exact bytes; a torn write leaves the card as
 * it was; a version-1 view has no file to write. */
static void test_bonos_written_and_read(void **state)
{
    struct bench b = {.f = *state};
    struct card_view v, v1;
    struct bono_file next;
    uint8_t raw[BONO_FILE_LEN];
    static const uint8_t want[BONO_FILE_LEN] = {
        0x02, 0x04, 0x00, 0x00, 0x00, 0x07, 0x00, 0x09, 0x51, 0x40}; /* bono 7, 9 left, day 20800 */
    make_card(&b);
    read_view(&b, &v);
    assert_int_equal(v.layout_version, LAYOUT_VERSION_BONOS);
    for (int i = 0; i < BONO_SLOTS; i++)
        assert_int_equal(v.bonos.slot[i].id, 0);
    v1 = v;
    v1.layout_version = LAYOUT_VERSION;
    next = v.bonos;
    assert_int_equal(bono_file_add(&next, 7, 10, 20800), LEAL_OK);
    assert_int_equal(desfire_card_write_bonos(&b.c, &next, &v1), LEAL_E_ARG);
    b.c.d.round_trips = 0;
    assert_int_equal(desfire_card_write_bonos(&b.c, &next, &v), LEAL_OK); /* sold */
    assert_int_equal(b.c.d.round_trips, 3);
    assert_int_equal(v.taps, 1);
    desfire_card_clear(&b.c);

    read_view(&b, &v);
    assert_int_equal(v.taps, 1);
    assert_int_equal(v.counter, LAYOUT_COUNTER_START - 1);
    assert_int_equal(v.bonos.slot[0].id, 7);
    assert_int_equal(v.bonos.slot[0].sessions, 10);
    assert_int_equal(v.bonos.slot[0].last_day, 20800);
    assert_int_equal(v.state.seq, 1); /* the state is not written */
    next = v.bonos;
    next.slot[0].sessions = 9; /* one used */
    assert_int_equal(desfire_card_write_bonos(&b.c, &next, &v), LEAL_OK);
    assert_int_equal(
        desfire_read_data(&b.c.d, LAYOUT_FILE_BONOS, DESFIRE_COMM_MACED, 0, sizeof raw, raw),
        LEAL_OK);
    assert_memory_equal(raw, want, sizeof want);
    desfire_card_clear(&b.c);

    /* Torn before the commit reaches the card: nothing of it took. */
    read_view(&b, &v);
    next = v.bonos;
    next.slot[0].sessions = 8;
    cardsim_set_tear(reader_sim_card(b.r),
                     &(struct cardsim_tear){.point = CARDSIM_TEAR_BEFORE_COMMAND, .after = 3});
    assert_int_equal(desfire_card_write_bonos(&b.c, &next, &v), LEAL_E_CARD_REMOVED);
    cardsim_set_tear(reader_sim_card(b.r), &(struct cardsim_tear){.point = CARDSIM_TEAR_NONE});
    assert_int_equal(reader_wait_card(b.r, 0), LEAL_OK);
    desfire_card_clear(&b.c);
    read_view(&b, &v);
    assert_int_equal(v.bonos.slot[0].sessions, 9);
    assert_int_equal(v.taps, 2);
    desfire_card_clear(&b.c);
    reader_close(b.r);
}

static void test_refusals(void **state)
{
    struct bench b = {.f = *state};
    struct card_view v;
    make_card(&b);

    /* Another program's reader: not its card, nothing authenticated. */
    open_card(&b, 8);
    assert_int_equal(desfire_card_identify(&b.c, &v), LEAL_E_CARD_NOT_LEAL);
    assert_int_equal(v.card_id, CARD_ID);
    assert_int_equal(b.c.d.round_trips, 2);
    desfire_card_clear(&b.c);

    /* Keys that do not open the card: the identity was forged or copied. The
     * key version byte names version 1, the one tried: no second try. */
    open_card(&b, b.f->is.program_id);
    b.src.wrong = true;
    assert_int_equal(desfire_card_identify(&b.c, &v), LEAL_OK);
    assert_int_equal(desfire_card_read(&b.c, &v), LEAL_E_CARD_TAMPERED);
    assert_int_equal(b.c.d.round_trips, 2 + 2 + 1);
    desfire_card_clear(&b.c);

    /* A card that carries a terminal key version the source lacks. */
    open_card(&b, b.f->is.program_id);
    assert_int_equal(desfire_card_identify(&b.c, &v), LEAL_OK);
    b.c.ver[KEY_ROLE_TERMINAL] = 9;
    assert_int_equal(desfire_card_read(&b.c, &v), LEAL_OK); /* the card names 1: opened */
    assert_int_equal(b.c.ver[KEY_ROLE_TERMINAL], 1);
    assert_int_equal(b.c.d.round_trips, 2 + 1 + 2 + 5); /* + GetKeyVersion */
    desfire_card_clear(&b.c);
    reader_close(b.r);
}

static void test_rotation_brings_keys_current(void **state)
{
    struct bench b = {.f = *state};
    struct card_view v;
    uint8_t version;
    bool stale;
    unsigned rekeyed;
    make_card(&b);
    assert_int_equal(keyset_rotate(b.f->keys, b.f->is.program_id, KEY_ROLE_TERMINAL, 1000,
                                   crypto_openssl()->random, &version),
                     LEAL_OK);
    assert_int_equal(version, 2);
    /* The read opens with the identity's version 1 (the card carries it). */
    read_view(&b, &v);
    assert_int_equal(v.key_version[KEY_ROLE_TERMINAL], 1);
    /* Roles the read did not use are unknown: the card names them (keys 1
     * and 0: 2 RT), then key 2 changes under key 0 (2 + 1), and the PICC key's
     * version byte is asked (select + 1). */
    b.c.d.round_trips = 0;
    assert_int_equal(desfire_card_rekey(&b.c, &stale, &rekeyed), LEAL_OK);
    assert_true(stale);
    assert_int_equal(rekeyed, 1);
    assert_int_equal(b.c.d.round_trips, 2 + 3 + 2);
    assert_int_equal(b.c.ver[KEY_ROLE_TERMINAL], 2);
    assert_int_equal(b.c.ver[KEY_ROLE_PURSE_CREDIT], 1);
    assert_int_equal(b.c.ver[KEY_ROLE_APP_MASTER], 1);
    assert_int_equal(b.c.ver[KEY_ROLE_PICC_MASTER], 1);
    desfire_card_clear(&b.c);
    /* Without a record of it, the identity's version 1 is tried, fails, and
     * the card names 2 (+3 RT); with the caller's record (the ledger's), 2 at
     * once. Nothing is stale then. */
    read_view(&b, &v);
    assert_int_equal(v.key_version[KEY_ROLE_TERMINAL], 2);
    assert_int_equal(b.c.d.round_trips, 9 + 3);
    desfire_card_clear(&b.c);
    open_card(&b, b.f->is.program_id);
    assert_int_equal(desfire_card_identify(&b.c, &v), LEAL_OK);
    b.c.ver[KEY_ROLE_TERMINAL] = 2;
    assert_int_equal(desfire_card_read(&b.c, &v), LEAL_OK);
    assert_int_equal(b.c.d.round_trips, 9);
    for (int i = KEY_ROLE_PICC_MASTER; i < KEY_ROLE_TERMINAL; i++)
        b.c.ver[i] = 1;
    assert_int_equal(desfire_card_rekey(&b.c, &stale, &rekeyed), LEAL_OK);
    assert_false(stale);
    assert_int_equal(rekeyed, 0);
    assert_int_equal(b.c.d.round_trips, 9);
    desfire_card_clear(&b.c);
    reader_close(b.r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_personalised_card_reads_as_written, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_setup_after_a_torn_setup, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_credit_then_terminal_write, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bonos_written_and_read, desk_fixture_setup,
                                        desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, desk_fixture_setup, desk_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_rotation_brings_keys_current, desk_fixture_setup,
                                        desk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
