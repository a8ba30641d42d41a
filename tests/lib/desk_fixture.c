/* desk_fixture.c - the issuance desk's unit-test fixture (desk_fixture.h). */
#include "desk_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "host/cardsim/cardsim.h"
#include "keys/hosted/provider_openssl.h"
#include "testutil.h"

static leal_err os_random(uint8_t *out, size_t n)
{
    return crypto_openssl()->random(out, n);
}

/* LEAL_TEST_PG's database emptied (every table of the last test dropped). */
static void pg_empty(const char *uri)
{
    PGconn *c = PQconnectdb(uri);
    PGresult *r;
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    r = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA "
                  "public");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

int desk_fixture_setup(void **state)
{
    const char *pg = getenv("LEAL_TEST_PG");
    struct fixture *f = calloc(1, sizeof *f);
    struct ledger_program p;
    struct ledger_customer c;
    int64_t pid;
    assert_non_null(f);
    assert_int_equal(setenv("LEAL_ORIGINALITY_TEST_KEY", DESK_FIXTURE_ORIGINALITY_PUB, 1), 0);
    f->dir = test_tmpdir_fast();
    if (pg && pg[0]) {
        pg_empty(pg);
        snprintf(f->db, sizeof f->db, "%s", pg);
    } else {
        snprintf(f->db, sizeof f->db, "%s/ledger.db", f->dir);
    }
    snprintf(f->card, sizeof f->card, "%s/card.json", f->dir);
    assert_int_equal(ledger_open(f->db, &f->ledger), LEAL_OK);
    memset(&p, 0, sizeof p);
    p.id = 7;
    snprintf(p.code, sizeof p.code, "sol");
    snprintf(p.name, sizeof p.name, "Café Sol");
    p.kind = LEDGER_PROGRAM_SINGLE;
    p.points_per_euro_milli = 1000;
    p.purse_cap_cents = LEDGER_PURSE_CAP_DEFAULT;
    assert_int_equal(ledger_program_create(f->ledger, &p, &pid), LEAL_OK);
    memset(&c, 0, sizeof c);
    c.program_id = 7;
    snprintf(c.name, sizeof c.name, "Ana");
    if (pg && pg[0]) /* no customers on PostgreSQL yet: Ana's account a gift account */
        assert_int_equal(ledger_account_add(f->ledger, 7, 0, &f->account), LEAL_OK);
    else
        assert_int_equal(ledger_customer_add(f->ledger, &c, &f->customer, &f->account), LEAL_OK);
    f->keys = calloc(1, sizeof *f->keys);
    assert_non_null(f->keys);
    f->keys->issuer_id = 0x1a2b3c4d;
    snprintf(f->keys->issuer_name, sizeof f->keys->issuer_name, "Café Sol");
    assert_int_equal(keyset_add_program(f->keys, 7, 1700000000, os_random), LEAL_OK);
    f->is.ledger = f->ledger;
    f->is.keys = f->keys;
    f->is.cp = crypto_openssl();
    f->is.program_id = 7;
    f->is.operator_name = "test";
    *state = f;
    return 0;
}

int desk_fixture_teardown(void **state)
{
    struct fixture *f = *state;
    ledger_close(f->ledger);
    keyset_clear(f->keys);
    free(f->keys);
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

void desk_fixture_new_card(struct fixture *f, const char *type, const uint8_t *uid, size_t uid_len,
                           bool random_uid)
{
    struct cardsim *c;
    assert_int_equal(cardsim_new(type, uid, uid ? uid_len : 0, random_uid, &c), LEAL_OK);
    if (strncmp(type, "desfire-ev2", 11) == 0 || strncmp(type, "desfire-ev3", 11) == 0)
        assert_int_equal(cardsim_sign_originality(c, DESK_FIXTURE_ORIGINALITY_KEY), LEAL_OK);
    assert_int_equal(cardsim_save(c, f->card), LEAL_OK);
    cardsim_free(c);
}

struct reader *desk_fixture_open_card(struct fixture *f)
{
    char spec[600];
    struct reader_options o = {.allow_virtual = false};
    struct reader *r;
    snprintf(spec, sizeof spec, "sim:%s", f->card);
    assert_int_equal(reader_open(spec, &o, &r), LEAL_OK);
    assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
    return r;
}

struct reader *desk_fixture_issue(struct fixture *f, const uint8_t uid[7], int64_t account,
                                  int64_t topup_cents, struct issuance_card *out)
{
    struct issuance_request req = {.account_id = account, .topup_cents = topup_cents};
    struct reader *r;
    desk_fixture_new_card(f, "desfire-ev1", uid, 7, false);
    r = desk_fixture_open_card(f);
    assert_int_equal(issuance_issue(&f->is, r, &req, out), LEAL_OK);
    return r;
}

void desk_fixture_balances(struct fixture *f, int64_t account, int64_t eur, int64_t pts)
{
    int64_t v;
    assert_int_equal(ledger_balance(f->ledger, account, "EUR", &v), LEAL_OK);
    assert_int_equal(v, eur);
    assert_int_equal(ledger_balance(f->ledger, account, "PTS", &v), LEAL_OK);
    assert_int_equal(v, pts);
    assert_int_equal(ledger_verify(f->ledger, NULL), LEAL_OK);
}

int64_t desk_fixture_customer(struct fixture *f, const char *name)
{
    struct ledger_customer c;
    int64_t customer, account;
    memset(&c, 0, sizeof c);
    c.program_id = 7;
    snprintf(c.name, sizeof c.name, "%s", name);
    assert_int_equal(ledger_customer_add(f->ledger, &c, &customer, &account), LEAL_OK);
    return account;
}

void desk_fixture_copy(const char *from, const char *to)
{
    uint8_t *data = NULL;
    long n = test_read_file(from, &data);
    FILE *fp;
    assert_true(n >= 0);
    fp = fopen(to, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, (size_t)n, fp), (size_t)n);
    assert_int_equal(fclose(fp), 0);
    free(data);
}

struct last_event {
    struct ledger_card_event e;
    int n;
};

static int keep_last(void *ctx, const struct ledger_card_event *e)
{
    struct last_event *x = ctx;
    x->e = *e;
    x->n++;
    return 0;
}

int desk_fixture_card_event(struct fixture *f, int64_t card, enum ledger_card_status status,
                            const char *why)
{
    struct ledger_card lc;
    struct last_event x;
    memset(&x, 0, sizeof x);
    assert_int_equal(ledger_card_find_by_id(f->ledger, card, &lc), LEAL_OK);
    assert_int_equal(lc.status, status);
    assert_int_equal(ledger_card_history(f->ledger, card, keep_last, &x), LEAL_OK);
    assert_int_equal(x.e.status, status);
    assert_string_equal(x.e.reason, why);
    assert_string_equal(x.e.operator_name, "test");
    return x.n;
}

void desk_fixture_post_points(struct fixture *f, int64_t account, int64_t points,
                              const char *request)
{
    desk_fixture_post_points_at(f, account, points, request, 0);
}

void desk_fixture_post_points_at(struct fixture *f, int64_t account, int64_t points,
                                 const char *request, int64_t at)
{
    struct ledger_line lines[2];
    struct ledger_entry e;
    int64_t other, id;
    bool replayed;
    assert_int_equal(ledger_program_account(f->ledger, 7, "points_issued", &other), LEAL_OK);
    memset(lines, 0, sizeof lines);
    memset(&e, 0, sizeof e);
    lines[0].account_id = account;
    lines[1].account_id = other;
    snprintf(lines[0].asset, sizeof lines[0].asset, "PTS");
    snprintf(lines[1].asset, sizeof lines[1].asset, "PTS");
    lines[0].amount = points;
    lines[1].amount = -points;
    e.program_id = 7;
    e.kind = "adjust";
    e.at = at;
    e.request_id = request;
    e.operator_name = "test";
    e.reason = "by hand";
    e.nlines = 2;
    e.lines = lines;
    assert_int_equal(ledger_post(f->ledger, &e, &id, &replayed), LEAL_OK);
}

const struct cardsim_tear desk_fixture_tear_ways[DESK_FIXTURE_TEAR_WAYS] = {
    {.point = CARDSIM_TEAR_BEFORE_COMMAND},
    {.point = CARDSIM_TEAR_BEFORE_ANSWER},
    {.point = CARDSIM_TEAR_INSIDE_COMMIT, .commit_step = 0},
    {.point = CARDSIM_TEAR_INSIDE_COMMIT, .commit_step = 1},
    {.point = CARDSIM_TEAR_INSIDE_COMMIT, .commit_step = 2},
    {.point = CARDSIM_TEAR_INSIDE_COMMIT, .commit_step = 3},
    {.point = CARDSIM_TEAR_INSIDE_COMMIT, .commit_step = 4},
};

void desk_fixture_tear_arm(struct reader *r, size_t way, unsigned n)
{
    struct cardsim_tear tear = desk_fixture_tear_ways[way];
    tear.after = n;
    cardsim_set_tear(reader_sim_card(r), &tear);
}

bool desk_fixture_tear_fired(struct reader *r)
{
    struct cardsim_tear none = {.point = CARDSIM_TEAR_NONE};
    bool fired = cardsim_torn(reader_sim_card(r));
    cardsim_set_tear(reader_sim_card(r), &none);
    assert_int_equal(reader_wait_card(r, 0), LEAL_OK);
    return fired;
}
