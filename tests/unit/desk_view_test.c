/* desk_view_test.c - host/desk's view of a desk card operation: names, the
 * UID in hex, euros, the verdict and every note in its exact words, and on
 * a read the account's newest entries from a real ledger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/books/books.h"
#include "host/books/import.h"
#include "host/desk/desk_view.h"
#include "tests/lib/testutil.h"

static void card(struct issuance_card *v)
{
    static const uint8_t uid[] = {0x04, 0xA1, 0xB2, 0x0C, 0xD3, 0x5E, 0x80};
    memset(v, 0, sizeof *v);
    v->card_id = 9001;
    v->tech = LEDGER_TECH_DESFIRE_EV1;
    memcpy(v->uid, uid, sizeof uid);
    v->uid_len = sizeof uid;
    v->ledger.account_id = 11;
    v->ledger.status = LEDGER_CARD_ACTIVE;
    v->purse_cents = 1250;
    v->state.points = 40;
    v->state.stamps[0] = 1;
    v->state.stamps[3] = 9;
    v->state.tier = 2;
    v->state.seq = 17;
    v->taps = 5;
    v->account_eur = 1000;
    v->account_pts = 40;
    v->stored_value = true;
    v->round_trips = 12;
    v->bytes = 345;
}

static void test_view_topped_up_differs(void **state)
{
    struct issuance_card v;
    struct desk_card_view w;
    (void)state;
    card(&v);
    v.agrees = false;
    snprintf(v.why, sizeof v.why, "purse 12.50 on the card, 10.00 in the ledger");
    v.recovered = 1;
    v.dropped = 2;
    v.synced = 3;
    v.sync_points = -5;
    v.rekeyed = 4;
    desk_card_view(NULL, &v, DESK_VIEW_TOPPED_UP, &w);
    assert_string_equal(w.result, "topped-up");
    assert_int_equal(w.card_id, 9001);
    assert_string_equal(w.technology, "desfire-ev1");
    assert_string_equal(w.uid, "04a1b20cd35e80");
    assert_false(w.random_uid);
    assert_int_equal(w.account_id, 11);
    assert_string_equal(w.status, "active");
    assert_int_equal(w.purse_cents, 1250);
    assert_string_equal(w.purse, "12.50");
    assert_int_equal(w.points, 40);
    assert_int_equal(w.stamps[0], 1);
    assert_int_equal(w.stamps[1], 0);
    assert_int_equal(w.stamps[3], 9);
    assert_int_equal(w.tier, 2);
    assert_int_equal(w.state_seq, 17);
    assert_int_equal(w.taps, 5);
    assert_int_equal(w.ledger_eur_cents, 1000);
    assert_int_equal(w.ledger_points, 40);
    assert_false(w.agrees);
    assert_string_equal(w.difference, "purse 12.50 on the card, 10.00 in the ledger");
    assert_string_equal(w.agreement, "DIFFERS: purse 12.50 on the card, 10.00 in the ledger");
    assert_true(w.stored_value);
    assert_int_equal(w.recovered_topups, 1);
    assert_int_equal(w.dropped_topups, 2);
    assert_int_equal(w.keys_updated, 4);
    assert_int_equal(w.synced_points, -5);
    assert_int_equal(w.round_trips, 12);
    assert_int_equal(w.bytes, 345);
    assert_int_equal(w.nnotes, 5);
    assert_string_equal(w.notes[0].topic, "recovered");
    assert_string_equal(w.notes[0].text, "1 interrupted top-up(s) the card shows were posted");
    assert_string_equal(w.notes[1].topic, "dropped");
    assert_string_equal(w.notes[1].text,
                        "2 interrupted top-up(s) or sync(s) the card never took were dropped");
    assert_string_equal(w.notes[2].topic, "synced");
    assert_string_equal(w.notes[2].text, "3 interrupted sync(s) the card shows were settled");
    assert_string_equal(w.notes[3].topic, "synced");
    assert_string_equal(w.notes[3].text, "-5 points brought onto the card from the ledger");
    assert_string_equal(w.notes[4].topic, "keys");
    assert_string_equal(w.notes[4].text,
                        "4 card key(s) changed to the keystore's current versions");
    /* Not a read: no history asked for (the ledger is not even open). */
    assert_false(w.has_operations);
    assert_int_equal(w.noperations, 0);
    assert_int_equal(w.operations_err, LEAL_OK);
}

static void test_view_agrees_without_notes(void **state)
{
    struct issuance_card v;
    struct desk_card_view w;
    (void)state;
    card(&v);
    v.agrees = true;
    snprintf(v.why, sizeof v.why, "left over");
    v.random_uid = true;
    v.tech = LEDGER_TECH_CLASSIC_1K;
    v.ledger.status = LEDGER_CARD_PENDING;
    v.purse_cents = 5;
    v.sync_points = 12;
    desk_card_view(NULL, &v, DESK_VIEW_REPLACED, &w);
    assert_string_equal(w.result, "replaced");
    assert_string_equal(w.technology, "classic-1k");
    assert_string_equal(w.status, "pending");
    assert_true(w.random_uid);
    assert_string_equal(w.purse, "0.05");
    assert_true(w.agrees);
    assert_string_equal(w.difference, "");
    assert_string_equal(w.agreement, "agrees");
    assert_int_equal(w.nnotes, 1);
    assert_string_equal(w.notes[0].text, "+12 points brought onto the card from the ledger");
    desk_card_view(NULL, &v, DESK_VIEW_ISSUED, &w);
    assert_string_equal(w.result, "issued");
    desk_card_view(NULL, &v, DESK_VIEW_SYNCED, &w);
    assert_string_equal(w.result, "synced");
}

/* leal desk's line: the view in one line, each note after it, and cut short
 * (never overrun) in a small buffer. */
static void test_view_line(void **state)
{
    struct issuance_card v;
    struct desk_card_view w;
    char line[1024], small[24];
    (void)state;
    card(&v);
    v.agrees = true;
    desk_card_view(NULL, &v, DESK_VIEW_ISSUED, &w);
    desk_card_view_line(&w, line, sizeof line);
    assert_string_equal(line,
                        "issued card 9001 (desfire-ev1, UID 04a1b20cd35e80): account 11, card "
                        "active, purse 12.50, points 40, stamps 1 0 0 9, taps 5; ledger "
                        "agrees");
    v.agrees = false;
    snprintf(v.why, sizeof v.why, "purse 12.50 on the card, 10.00 in the ledger");
    v.random_uid = true;
    v.recovered = 1;
    v.rekeyed = 2;
    desk_card_view(NULL, &v, DESK_VIEW_TOPPED_UP, &w);
    desk_card_view_line(&w, line, sizeof line);
    assert_string_equal(line, "topped-up card 9001 (desfire-ev1, UID 04a1b20cd35e80, random UID): "
                              "account 11, card active, purse 12.50, points 40, stamps 1 0 0 9, "
                              "taps 5; ledger DIFFERS: purse 12.50 on the card, 10.00 in the "
                              "ledger; recovered: 1 interrupted top-up(s) the card shows were "
                              "posted; keys: 2 card key(s) changed to the keystore's current "
                              "versions");
    desk_card_view_line(&w, small, sizeof small);
    assert_string_equal(small, "topped-up card 9001 (de");
}

static void committed(void *ctx, int64_t n)
{
    (void)ctx;
    (void)n;
}

static void refused(void *ctx, const struct books_import_refusal *r)
{
    (void)ctx;
    fail_msg("line %lld refused: %s", (long long)r->lineno, r->why);
}

static void post(const char *path, const char *csv)
{
    const struct books_import_events ev = {NULL, committed, refused};
    struct books_where where;
    struct books_import_result res;
    struct ledger *l;
    FILE *f = fmemopen((void *)csv, strlen(csv), "r");
    assert_non_null(f);
    assert_int_equal(books_open(path, false, &l, &where), LEAL_OK);
    assert_int_equal(books_import(l, f, 10, &ev, &res), LEAL_OK);
    assert_int_equal(res.refused, 0);
    fclose(f);
    ledger_close(l);
}

static void test_view_read_last_operations(void **state)
{
    char *dir = test_tmpdir(), path[512];
    struct ledger_program p = {.code = "view",
                               .name = "View",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .points_per_euro_milli = 1000};
    struct books_where where;
    struct issuance_card v;
    struct desk_card_view w;
    struct ledger *l;
    int64_t prog, a1, a2;
    (void)state;
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    assert_int_equal(books_open(path, true, &l, &where), LEAL_OK);
    assert_int_equal(ledger_program_create(l, &p, &prog), LEAL_OK);
    assert_int_equal(ledger_account_add(l, prog, 0, &a1), LEAL_OK);
    assert_int_equal(ledger_account_add(l, prog, 0, &a2), LEAL_OK);
    ledger_close(l);
    assert_int_equal(a1, 11);
    post(path, "v1,11,2,EUR,1250,first top-up,ana\nv2,11,2,PTS,40,welcome,ana\n"
               "v3,12,2,EUR,700,other account,ana\nv4,11,2,EUR,1,one cent,luis\n"
               "v5,11,2,PTS,7,bonus,luis\n");
    assert_int_equal(books_open(path, false, &l, &where), LEAL_OK);
    card(&v);
    v.agrees = true;
    desk_card_view(l, &v, DESK_VIEW_READ, &w);
    assert_string_equal(w.result, "read");
    assert_true(w.has_operations);
    assert_int_equal(w.operations_err, LEAL_OK);
    /* The newest three of account 11, newest first; account 12's is not one. */
    assert_int_equal(w.noperations, 3);
    assert_string_equal(w.operations[0].amount, "+7");
    assert_string_equal(w.operations[0].unit, "points");
    assert_string_equal(w.operations[0].movement.reason, "bonus");
    assert_string_equal(w.operations[0].movement.kind, "adjust");
    assert_string_equal(w.operations[1].amount, "+0.01");
    assert_string_equal(w.operations[1].unit, "EUR");
    assert_string_equal(w.operations[1].movement.reason, "one cent");
    assert_int_equal(w.operations[1].movement.amount, 1);
    assert_string_equal(w.operations[2].amount, "+40");
    assert_string_equal(w.operations[2].movement.reason, "welcome");
    assert_true(w.operations[0].movement.entry_id > w.operations[1].movement.entry_id);
    /* A card with no account yet: the list is there, and empty. */
    v.ledger.account_id = 0;
    desk_card_view(l, &v, DESK_VIEW_READ, &w);
    assert_true(w.has_operations);
    assert_int_equal(w.noperations, 0);
    assert_int_equal(w.operations_err, LEAL_OK);
    ledger_close(l);
    test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_topped_up_differs),
        cmocka_unit_test(test_view_agrees_without_notes),
        cmocka_unit_test(test_view_line),
        cmocka_unit_test(test_view_read_last_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
