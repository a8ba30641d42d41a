/*
 * web_auth_test.c - the back office's security pieces (issue 16): Argon2id
 * password hashes with the stated parameters (host/web/web_auth.h), session
 * and CSRF tokens, the sign-in rate limit (host/web/web_limit.h), the role
 * table every API route is checked against (host/web/web_api.h) and the
 * portal's routes beside it (host/web/web_portal.h), and the
 * users, sessions and audit log in a real ledger (host/ledger/ledger_user.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/ledger/ledger.h"
#include "host/ledger/ledger_portal_pin.h"
#include "host/ledger/ledger_user.h"
#include "host/web/web_api.h"
#include "host/web/web_auth.h"
#include "host/web/web_limit.h"
#include "host/web/web_portal.h"
#include "tests/lib/testutil.h"

static void hash_verifies_with_stated_parameters(void **state)
{
    char h1[WEB_AUTH_HASH_MAX], h2[WEB_AUTH_HASH_MAX];
    (void)state;
    assert_int_equal(web_auth_hash("correct horse battery", h1, sizeof h1), LEAL_OK);
    assert_int_equal(web_auth_hash("correct horse battery", h2, sizeof h2), LEAL_OK);
    assert_memory_equal(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31);
    /* 16-byte salt (22 base64 digits), 32-byte tag (43): a fresh salt each time. */
    assert_int_equal(strlen(h1), 31 + 22 + 1 + 43);
    assert_string_not_equal(h1, h2);
    assert_true(web_auth_verify("correct horse battery", h1));
    assert_true(web_auth_verify("correct horse battery", h2));
    assert_false(web_auth_verify("correct horse batterz", h1));
    assert_false(web_auth_verify("", h1));
    assert_false(web_auth_verify("correct horse battery", "$argon2i$v=19$m=19456,t=2,p=1$x$y"));
    assert_false(web_auth_verify("correct horse battery", "plain"));
}

static void hash_refuses_bad_passwords(void **state)
{
    char h[WEB_AUTH_HASH_MAX], big[WEB_AUTH_PASSWORD_MAX + 2];
    (void)state;
    assert_int_equal(web_auth_hash("123456789", h, sizeof h), LEAL_E_WEB_PASSWORD);
    assert_string_equal(h, "");
    assert_int_equal(web_auth_hash(NULL, h, sizeof h), LEAL_E_WEB_PASSWORD);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(web_auth_hash(big, h, sizeof h), LEAL_E_WEB_PASSWORD);
    big[WEB_AUTH_PASSWORD_MAX] = '\0';
    assert_int_equal(web_auth_hash(big, h, sizeof h), LEAL_OK);
    assert_int_equal(web_auth_hash("0123456789", h, 40), LEAL_E_NO_SPACE);
}

static void pins_are_4_to_8_digits_hashed_like_passwords(void **state)
{
    char h[WEB_AUTH_HASH_MAX];
    (void)state;
    assert_true(web_auth_pin_ok("0000"));
    assert_true(web_auth_pin_ok("12345678"));
    assert_false(web_auth_pin_ok("123"));
    assert_false(web_auth_pin_ok("123456789"));
    assert_false(web_auth_pin_ok("12a4"));
    assert_false(web_auth_pin_ok(" 1234"));
    assert_false(web_auth_pin_ok(""));
    assert_false(web_auth_pin_ok(NULL));
    assert_int_equal(web_auth_pin_hash("12a4", h, sizeof h), LEAL_E_PORTAL_PIN_FORMAT);
    assert_string_equal(h, "");
    assert_int_equal(web_auth_pin_hash("2468", h, sizeof h), LEAL_OK);
    assert_memory_equal(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31);
    assert_int_equal(strlen(h), 31 + 22 + 1 + 43);
    assert_true(web_auth_verify("2468", h));
    assert_false(web_auth_verify("2469", h));
    assert_false(web_auth_verify("", h));
}

static void tokens_are_random_hex_kept_by_hash(void **state)
{
    char a[WEB_AUTH_TOKEN_HEX], b[WEB_AUTH_TOKEN_HEX], hex[65];
    uint8_t h[32];
    (void)state;
    assert_int_equal(web_auth_token(a), LEAL_OK);
    assert_int_equal(web_auth_token(b), LEAL_OK);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
    assert_string_not_equal(a, b);
    /* SHA-256 of 64 '0' digits (python3 -c "import hashlib;
     * print(hashlib.sha256(b'0'*64).hexdigest())"). */
    assert_int_equal(
        web_auth_token_hash("0000000000000000000000000000000000000000000000000000000000000000", h),
        LEAL_OK);
    hex_encode(h, 32, hex);
    assert_string_equal(hex, "60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55");
    assert_int_equal(
        web_auth_token_hash("0000000000000000000000000000000000000000000000000000000000000000"
                            "0",
                            h),
        LEAL_E_WEB_SESSION);
    assert_int_equal(
        web_auth_token_hash("000000000000000000000000000000000000000000000000000000000000000G", h),
        LEAL_E_WEB_SESSION);
    assert_int_equal(
        web_auth_token_hash("00000000000000000000000000000000000000000000000000000000000000A0", h),
        LEAL_E_WEB_SESSION);
    assert_int_equal(web_auth_token_hash(NULL, h), LEAL_E_WEB_SESSION);
}

static void csrf_compares_whole_tokens(void **state)
{
    char t[WEB_AUTH_TOKEN_HEX], u[WEB_AUTH_TOKEN_HEX];
    (void)state;
    assert_int_equal(web_auth_token(t), LEAL_OK);
    memcpy(u, t, sizeof u);
    assert_true(web_auth_csrf_ok(u, t));
    u[63] = u[63] == 'a' ? 'b' : 'a';
    assert_false(web_auth_csrf_ok(u, t));
    assert_false(web_auth_csrf_ok(NULL, t));
    assert_false(web_auth_csrf_ok("", t));
    u[10] = '\0';
    assert_false(web_auth_csrf_ok(u, t));
    assert_false(web_auth_csrf_ok(t, ""));
}

static void limit_refuses_the_sixth_in_a_minute(void **state)
{
    static struct web_limit w;
    (void)state;
    web_limit_init(&w);
    for (int i = 0; i < WEB_LIMIT_FAILS; i++) {
        assert_true(web_limit_allowed(&w, "user:ana", 1000 + i));
        web_limit_fail(&w, "user:ana", 1000 + i);
    }
    assert_int_equal(WEB_LIMIT_FAILS, 5);
    assert_false(web_limit_allowed(&w, "user:ana", 1005));
    assert_true(web_limit_allowed(&w, "user:bea", 1005));
    /* The oldest failure (at 1000) leaves the window at 1060. */
    assert_false(web_limit_allowed(&w, "user:ana", 1059));
    assert_true(web_limit_allowed(&w, "user:ana", 1060));
    web_limit_fail(&w, "user:ana", 1060);
    assert_false(web_limit_allowed(&w, "user:ana", 1060));
    web_limit_clear(&w, "user:ana");
    assert_true(web_limit_allowed(&w, "user:ana", 1060));
}

/* The portal's phone enrolments: their own table, 3 an hour per customer and
 * 10 per address (README, web_limit.h). */
static void limit_enrolments_per_hour(void **state)
{
    static struct web_limit who, from;
    (void)state;
    assert_int_equal(WEB_ENROL_PER_CUSTOMER, 3);
    assert_int_equal(WEB_ENROL_PER_ADDR, 10);
    assert_int_equal(WEB_ENROL_WINDOW, 3600);
    web_limit_init_rate(&who, WEB_ENROL_PER_CUSTOMER, WEB_ENROL_WINDOW);
    web_limit_init_rate(&from, WEB_ENROL_PER_ADDR, WEB_ENROL_WINDOW);
    for (int i = 0; i < 3; i++) {
        assert_true(web_limit_allowed(&who, "enrol:7", 5000 + i));
        web_limit_fail(&who, "enrol:7", 5000 + i);
    }
    assert_false(web_limit_allowed(&who, "enrol:7", 5003));
    assert_false(web_limit_allowed(&who, "enrol:7", 5000 + 3599));
    assert_true(web_limit_allowed(&who, "enrol:7", 5000 + 3600));
    assert_true(web_limit_allowed(&who, "enrol:8", 5003));
    for (int i = 0; i < 10; i++) {
        assert_true(web_limit_allowed(&from, "enrol-from:10.0.0.1", 6000));
        web_limit_fail(&from, "enrol-from:10.0.0.1", 6000);
    }
    assert_false(web_limit_allowed(&from, "enrol-from:10.0.0.1", 6000 + 3599));
    assert_true(web_limit_allowed(&from, "enrol-from:10.0.0.1", 6000 + 3600));
    /* Out of range: clamped to 1..WEB_LIMIT_RING. */
    web_limit_init_rate(&who, 50, 10);
    assert_int_equal(who.max, WEB_LIMIT_RING);
    web_limit_init_rate(&who, 0, 0);
    assert_int_equal(who.max, 1);
    assert_int_equal(who.window, 1);
}

static void limit_table_full_reuses_the_stalest(void **state)
{
    static struct web_limit w;
    char key[32];
    (void)state;
    web_limit_init(&w);
    for (int i = 0; i < WEB_LIMIT_FAILS; i++)
        web_limit_fail(&w, "addr:10.0.0.1", 2000);
    for (int i = 0; i < WEB_LIMIT_SLOTS - 1; i++) {
        snprintf(key, sizeof key, "addr:10.1.%d.%d", i / 256, i % 256);
        web_limit_fail(&w, key, 2001);
    }
    assert_false(web_limit_allowed(&w, "addr:10.0.0.1", 2001));
    /* One more key: every slot is recent, 10.0.0.1's newest failure is the oldest. */
    web_limit_fail(&w, "addr:10.9.9.9", 2002);
    assert_true(web_limit_allowed(&w, "addr:10.0.0.1", 2002));
    assert_true(web_limit_allowed(&w, "addr:10.9.9.9", 2002));
    snprintf(key, sizeof key, "addr:10.1.%d.%d", 0, 7);
    assert_true(web_limit_allowed(&w, key, 2002));
}

/* The role table, route by route: what each role may call and what needs
 * the CSRF token. A new route fails this test until it is listed here. */
static void role_table_lists_every_route(void **state)
{
    const unsigned A = WEB_ROLE_BIT(LEDGER_ROLE_ADMIN), M = WEB_ROLE_BIT(LEDGER_ROLE_MANAGER),
                   S = WEB_ROLE_BIT(LEDGER_ROLE_STAFF);
    static const struct {
        const char *method, *path;
        unsigned roles;
        bool changes;
    } want[] = {
        {"POST", "/api/session", 0, false},
        {"DELETE", "/api/session", 0, true},
        {"POST", "/api/password/forgot", 0, false},
        {"POST", "/api/password/reset", 0, false},
        {"GET", "/api/me", 0, false},
        {"GET", "/api/customers", 0, false},
        {"POST", "/api/customers", 0, true},
        {"GET", "/api/customers/:id", 0, false},
        {"PUT", "/api/customers/:id", 0, true},
        {"POST", "/api/customers/:id/notes", 0, true},
        {"PUT", "/api/notes/:id", 0, true},
        {"DELETE", "/api/notes/:id", 0, true},
        {"POST", "/api/customers/:id/erasure", 0, true},
        {"POST", "/api/customers/:id/erase", 0, true},
        {"POST", "/api/me", 0, true},
        {"POST", "/api/cards/:id/detach", 0, true},
        {"GET", "/api/users", 0, false},
        {"POST", "/api/users", 0, true},
        {"PUT", "/api/users/:id", 0, true},
        {"POST", "/api/users/:id", 0, true},
        {"PUT", "/api/users/:id/email", 0, true},
        {"GET", "/api/audit", 0, false},
        {"GET", "/api/dashboard", 0, false},
        {"GET", "/api/cards/:id", 0, false},
        {"POST", "/api/cards/:id", 0, true},
        {"GET", "/api/hotlist", 0, false},
        {"GET", "/api/terminals", 0, false},
        {"GET", "/api/settlement", 0, false},
        {"GET", "/api/rules", 0, false},
        {"POST", "/api/rules/simulate", 0, true},
        {"PUT", "/api/rules/:id", 0, true},
        {"POST", "/api/catalogue/simulate", 0, true},
        {"PUT", "/api/catalogue", 0, true},
    };
    /* Staff: customers and cards; managers also the figures, terminals,
     * rules and catalogue, and the users of their stores (web_users.h); the
     * audit log is admins' only. */
    /* Notes: every role (the author rule is the handler's, web_care.h); an
     * erasure request: managers and admins; carrying it out: admins; one's
     * own language: everyone; detaching a family card: managers and admins.
     * A forgotten password's link and its reset: public (web_reset.h); a
     * user's e-mail address: as their other edits, managers and admins. */
    const unsigned roles[] = {0,         A | M | S, 0,         0,         A | M | S, A | M | S,
                              A | M | S, A | M | S, A | M | S, A | M | S, A | M | S, A | M | S,
                              A | M,     A,         A | M | S, A | M,     A | M,     A | M,
                              A | M,     A | M,     A | M,     A,         A | M,     A | M | S,
                              A | M | S, A | M | S, A | M,     A | M,     A | M,     A | M,
                              A | M,     A | M,     A | M};
    (void)state;
    assert_int_equal(web_nroutes, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < web_nroutes; i++) {
        assert_string_equal(web_routes[i].method, want[i].method);
        assert_string_equal(web_routes[i].path, want[i].path);
        assert_int_equal(web_routes[i].roles, roles[i]);
        assert_int_equal(web_routes[i].changes, want[i].changes);
        assert_non_null(web_routes[i].handle);
        /* Every state change needs a session: the CSRF token is the session's. */
        if (web_routes[i].changes)
            assert_int_not_equal(web_routes[i].roles, 0);
    }
}

/* The portal's routes, route by route: none takes an id, each is under
 * /portal/api/, a change needs the customer's session (the CSRF token is
 * the session's), and the two tables share no path, so a portal route is
 * never found as a staff one nor the other way round (web_server.c gives
 * each table its own cookie). A new portal route fails this test until it
 * is listed here. */
static void portal_routes_apart_from_the_role_table(void **state)
{
    static const struct {
        const char *method, *path;
        bool session, changes;
    } want[] = {
        {"POST", "/portal/api/link", false, false},
        {"POST", "/portal/api/session", false, false},
        {"POST", "/portal/api/pin", false, false},
        {"POST", "/portal/api/redeem", true, true},
        {"GET", "/portal/api/me", true, false},
        {"GET", "/portal/api/qr", true, false},
        {"GET", "/portal/api/rewards", true, false},
        {"GET", "/portal/api/history", true, false},
        {"GET", "/portal/api/spend", true, false},
        {"POST", "/portal/api/spend", true, true},
        {"DELETE", "/portal/api/session", true, true},
    };
    int64_t id;
    bool known;
    (void)state;
    assert_int_equal(web_portal_nroutes, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < web_portal_nroutes; i++) {
        const struct web_portal_route *r = &web_portal_routes[i];
        assert_string_equal(r->method, want[i].method);
        assert_string_equal(r->path, want[i].path);
        assert_int_equal(r->session, want[i].session);
        assert_int_equal(r->changes, want[i].changes);
        assert_non_null(r->handle);
        assert_null(strchr(r->path, ':'));
        assert_int_equal(strncmp(r->path, "/portal/api/", 12), 0);
        if (r->changes)
            assert_true(r->session);
        assert_null(web_route_find(r->method, r->path, &id, &known));
        assert_false(known);
    }
    for (int i = 0; i < web_nroutes; i++) {
        assert_int_equal(strncmp(web_routes[i].path, "/api/", 5), 0);
        assert_null(web_portal_route_find(web_routes[i].method, web_routes[i].path, &known));
        assert_false(known);
    }
    assert_non_null(web_portal_route_find("GET", "/portal/api/me", &known));
    assert_null(web_portal_route_find("GET", "/portal/api/me/2", &known));
    assert_false(known);
}

static void routes_found_by_method_and_path(void **state)
{
    int64_t id;
    bool known;
    const struct web_route *r;
    (void)state;
    r = web_route_find("POST", "/api/rules/simulate", &id, &known);
    assert_non_null(r);
    assert_string_equal(r->path, "/api/rules/simulate");
    r = web_route_find("POST", "/api/rules/7", &id, &known);
    assert_null(r);
    assert_true(known); /* PUT /api/rules/:id: a wrong method, 405 */
    r = web_route_find("GET", "/api/customers/42", &id, &known);
    assert_non_null(r);
    assert_string_equal(r->path, "/api/customers/:id");
    assert_int_equal(id, 42);
    r = web_route_find("PUT", "/api/customers/7", &id, &known);
    assert_non_null(r);
    assert_true(r->changes);
    assert_null(web_route_find("DELETE", "/api/customers/7", &id, &known));
    assert_true(known); /* 405, not 404 */
    assert_null(web_route_find("GET", "/api/customers/07", &id, &known));
    assert_false(known);
    assert_null(web_route_find("GET", "/api/customers/7x", &id, &known));
    assert_null(web_route_find("GET", "/api/customers/", &id, &known));
    assert_null(web_route_find("GET", "/api/customers/99999999999999999999", &id, &known));
    assert_false(known);
    assert_null(web_route_find("GET", "/api/customersx", &id, &known));
    assert_non_null(web_route_find("GET", "/api/customers", &id, &known));
    /* An id followed by the rest of the path. */
    r = web_route_find("POST", "/api/customers/12/notes", &id, &known);
    assert_non_null(r);
    assert_string_equal(r->path, "/api/customers/:id/notes");
    assert_int_equal(id, 12);
    r = web_route_find("POST", "/api/customers/12/erase", &id, &known);
    assert_non_null(r);
    assert_string_equal(r->path, "/api/customers/:id/erase");
    assert_null(web_route_find("GET", "/api/customers/12/notes", &id, &known));
    assert_true(known); /* 405 */
    assert_null(web_route_find("POST", "/api/customers/12/notesx", &id, &known));
    assert_false(known);
    assert_null(web_route_find("POST", "/api/customers/12/", &id, &known));
    assert_null(web_route_find("POST", "/api/customers//notes", &id, &known));
    assert_false(known);
    assert_null(web_route_find("GET", "/api/nothing", &id, &known));
    assert_false(known);
}

struct fx {
    char *dir;
    struct ledger *l;
    int64_t program, program2, store, store2;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char db[512];
    struct ledger_program p = {
        .code = "a", .name = "A", .kind = LEDGER_PROGRAM_CHAIN, .points_per_euro_milli = 1000};
    f->dir = test_tmpdir_fast();
    snprintf(db, sizeof db, "%s/l.db", f->dir);
    assert_int_equal(ledger_open(db, &f->l), LEAL_OK);
    assert_int_equal(ledger_program_create(f->l, &p, &f->program), LEAL_OK);
    snprintf(p.code, sizeof p.code, "b");
    assert_int_equal(ledger_program_create(f->l, &p, &f->program2), LEAL_OK);
    assert_int_equal(ledger_store_add(f->l, f->program, "s1", "S1", "Europe/Madrid", &f->store),
                     LEAL_OK);
    assert_int_equal(ledger_store_add(f->l, f->program2, "s2", "S2", "Europe/Madrid", &f->store2),
                     LEAL_OK);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void card_pins_in_the_ledger(void **state)
{
    struct fx *f = *state;
    struct ledger_customer c = {.program_id = f->program, .name = "Ana"};
    struct ledger_card card = {.card_id = 601,
                               .tech = LEDGER_TECH_DESFIRE_EV2,
                               .status = LEDGER_CARD_ACTIVE,
                               .uid = {4, 1},
                               .uid_len = 7};
    struct ledger_card_pin got;
    struct ledger_redemption d;
    char h[WEB_AUTH_HASH_MAX];
    int64_t id;
    bool removed;
    assert_int_equal(ledger_customer_add(f->l, &c, &id, &card.account_id), LEAL_OK);
    assert_int_equal(ledger_card_add(f->l, &card), LEAL_OK);
    assert_int_equal(web_auth_pin_hash("2468", h, sizeof h), LEAL_OK);
    assert_int_equal(ledger_card_pin_get(f->l, 601, &got), LEAL_E_NOT_FOUND);
    assert_int_equal(ledger_card_pin_set(f->l, 602, h, "desk"), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_card_pin_set(f->l, 601, "plain", "desk"), LEAL_E_ARG);
    assert_int_equal(ledger_card_pin_set(f->l, 601, h, "desk"), LEAL_OK);
    assert_int_equal(ledger_card_pin_tried(f->l, 601, false), LEAL_OK);
    assert_int_equal(ledger_card_pin_tried(f->l, 601, false), LEAL_OK);
    assert_int_equal(ledger_card_pin_get(f->l, 601, &got), LEAL_OK);
    assert_int_equal(got.customer_id, id);
    assert_int_equal(got.status, LEDGER_CARD_ACTIVE);
    assert_int_equal(got.fails, 2);
    assert_string_equal(got.pin_hash, h);
    assert_int_equal(ledger_card_pin_tried(f->l, 601, true), LEAL_OK);
    assert_int_equal(ledger_card_pin_get(f->l, 601, &got), LEAL_OK);
    assert_int_equal(got.fails, 0);
    /* Setting it again forgets the wrong tries. */
    assert_int_equal(ledger_card_pin_tried(f->l, 601, false), LEAL_OK);
    assert_int_equal(ledger_card_pin_set(f->l, 601, h, "desk"), LEAL_OK);
    assert_int_equal(ledger_card_pin_get(f->l, 601, &got), LEAL_OK);
    assert_int_equal(got.fails, 0);
    assert_int_equal(ledger_card_pin_clear(f->l, 601, &removed), LEAL_OK);
    assert_true(removed);
    assert_int_equal(ledger_card_pin_clear(f->l, 601, &removed), LEAL_OK);
    assert_false(removed);
    assert_int_equal(ledger_card_pin_get(f->l, 601, &got), LEAL_E_NOT_FOUND);
    assert_int_equal(ledger_redemption_honour(f->l, "ABCD-EFGH", "desk", 5, &d),
                     LEAL_E_REDEEM_CODE_UNKNOWN);
    assert_int_equal(ledger_redemption_keep(f->l, "SHORT", 1, id, 1, 5), LEAL_E_ARG);
}

static void users_roles_and_scope(void **state)
{
    struct fx *f = *state;
    struct ledger_user u = {.name = "bea", .role = LEDGER_ROLE_STAFF, .pass_hash = "h1"}, got;
    int64_t id, admin, programs[4];
    int n;
    bool yes, all;
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_E_WEB_ROLE); /* staff without a store */
    u.nstores = 1;
    u.stores[0] = f->store;
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_OK);
    assert_int_equal(ledger_user_add(f->l, &u, &admin), LEAL_E_WEB_USER_EXISTS);
    u.stores[0] = 999;
    snprintf(u.name, sizeof u.name, "cai");
    assert_int_equal(ledger_user_add(f->l, &u, &admin), LEAL_E_UNKNOWN_ID);
    assert_int_equal(ledger_user_by_name(f->l, "cai", &got), LEAL_E_WEB_NO_USER);
    u.role = LEDGER_ROLE_ADMIN;
    u.nstores = 1;
    assert_int_equal(ledger_user_add(f->l, &u, &admin), LEAL_E_WEB_ROLE); /* admin with a store */
    u.nstores = 0;
    assert_int_equal(ledger_user_add(f->l, &u, &admin), LEAL_OK);
    assert_int_equal(ledger_user_by_name(f->l, "bea", &got), LEAL_OK);
    assert_int_equal(got.id, id);
    assert_int_equal(got.role, LEDGER_ROLE_STAFF);
    assert_string_equal(got.pass_hash, "h1");
    assert_int_equal(got.nstores, 1);
    assert_int_equal(got.stores[0], f->store);
    assert_int_equal(ledger_user_sees_program(f->l, &got, f->program, &yes), LEAL_OK);
    assert_true(yes);
    assert_int_equal(ledger_user_sees_program(f->l, &got, f->program2, &yes), LEAL_OK);
    assert_false(yes);
    assert_int_equal(ledger_user_programs(f->l, &got, programs, 4, &n, &all), LEAL_OK);
    assert_int_equal(n, 1);
    assert_false(all);
    assert_int_equal(programs[0], f->program);
    assert_int_equal(ledger_user_get(f->l, admin, &got), LEAL_OK);
    assert_int_equal(ledger_user_sees_program(f->l, &got, f->program2, &yes), LEAL_OK);
    assert_true(yes);
    assert_int_equal(ledger_user_programs(f->l, &got, programs, 4, &n, &all), LEAL_OK);
    assert_true(all);
}

static void sessions_end_with_password_and_disable(void **state)
{
    struct fx *f = *state;
    struct ledger_user u = {.name = "dan", .role = LEDGER_ROLE_ADMIN, .pass_hash = "h"}, got;
    uint8_t t1[32] = {1}, t2[32] = {2};
    char csrf[LEDGER_SESSION_CSRF];
    int64_t id;
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_OK);
    assert_int_equal(ledger_session_add(f->l, t1, id, "c1", 5000), LEAL_OK);
    assert_int_equal(ledger_session_find(f->l, t1, 4999, &got, csrf), LEAL_OK);
    assert_int_equal(got.id, id);
    assert_string_equal(csrf, "c1");
    assert_int_equal(ledger_session_find(f->l, t1, 5000, &got, csrf), LEAL_E_WEB_SESSION);
    assert_int_equal(ledger_session_find(f->l, t2, 10, &got, csrf), LEAL_E_WEB_SESSION);
    assert_int_equal(ledger_user_set_password(f->l, id, "h2"), LEAL_OK);
    assert_int_equal(ledger_session_find(f->l, t1, 10, &got, csrf), LEAL_E_WEB_SESSION);
    assert_int_equal(ledger_session_add(f->l, t2, id, "c2", 5000), LEAL_OK);
    assert_int_equal(ledger_user_set_disabled(f->l, id, true), LEAL_OK);
    assert_int_equal(ledger_session_find(f->l, t2, 10, &got, csrf), LEAL_E_WEB_SESSION);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_true(got.disabled);
    assert_string_equal(got.pass_hash, "h2");
    assert_int_equal(ledger_user_set_disabled(f->l, 99, true), LEAL_E_WEB_NO_USER);
    assert_int_equal(ledger_session_add(f->l, t1, id, "c3", 5000), LEAL_OK);
    assert_int_equal(ledger_session_end(f->l, t1, 10), LEAL_OK);
    assert_int_equal(ledger_user_set_disabled(f->l, id, false), LEAL_OK);
    assert_int_equal(ledger_session_find(f->l, t1, 10, &got, csrf), LEAL_E_WEB_SESSION);
}

/* The newest audit line as "actor|action|object|before|after"; counts lines. */
struct audit_seen {
    int n;
    char line[200];
};

static int audit_line_of(void *ctx, int64_t id, int64_t at, const struct ledger_audit_line *a)
{
    struct audit_seen *s = ctx;
    (void)id;
    (void)at;
    if (s->n++ == 0)
        snprintf(s->line, sizeof s->line, "%s|%s|%s|%s|%s", a->actor, a->action, a->object,
                 a->before ? a->before : "", a->after ? a->after : "");
    return 0;
}

/* A new role and stores in one transaction: the sessions end, the audit
 * line has the role and stores before and after; a refused change leaves
 * the user, their sessions and the log as they were. */
static void role_change_is_one_audited_transaction(void **state)
{
    struct fx *f = *state;
    struct ledger_user u = {.name = "eva", .role = LEDGER_ROLE_STAFF, .pass_hash = "h"}, to, got;
    uint8_t t1[32] = {7};
    char csrf[LEDGER_SESSION_CSRF];
    struct audit_seen seen = {0, ""};
    int64_t id;
    u.nstores = 1;
    u.stores[0] = f->store;
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_OK);
    assert_int_equal(ledger_session_add(f->l, t1, id, "c1", 5000), LEAL_OK);
    memset(&to, 0, sizeof to);
    to.role = LEDGER_ROLE_MANAGER;
    to.nstores = 2;
    to.stores[0] = f->store2;
    to.stores[1] = f->store;
    assert_int_equal(ledger_user_set_role(f->l, id, &to, 0, "root"), LEAL_OK);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_int_equal(got.role, LEDGER_ROLE_MANAGER);
    assert_int_equal(got.nstores, 2);
    assert_true(got.stores[0] < got.stores[1]);
    assert_int_equal(ledger_session_find(f->l, t1, 10, &got, csrf), LEAL_E_WEB_SESSION);
    assert_int_equal(ledger_audit_each(f->l, 1, audit_line_of, &seen), LEAL_OK);
    char want[200];
    snprintf(want, sizeof want,
             "root|user.role|user %lld|{\"role\":\"staff\",\"stores\":[%lld]}|{\"role\":"
             "\"manager\",\"stores\":[%lld,%lld]}",
             (long long)id, (long long)f->store, (long long)f->store, (long long)f->store2);
    assert_string_equal(seen.line, want);
    /* An admin with a store, and an unknown store: refused, nothing changed. */
    assert_int_equal(ledger_session_add(f->l, t1, id, "c2", 5000), LEAL_OK);
    to.role = LEDGER_ROLE_ADMIN;
    assert_int_equal(ledger_user_set_role(f->l, id, &to, 0, "root"), LEAL_E_WEB_ROLE);
    to.role = LEDGER_ROLE_STAFF;
    to.nstores = 1;
    to.stores[0] = 999;
    assert_int_not_equal(ledger_user_set_role(f->l, id, &to, 0, "root"), LEAL_OK);
    assert_int_equal(ledger_user_set_role(f->l, 999, &to, 0, "root"), LEAL_E_WEB_NO_USER);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_int_equal(got.role, LEDGER_ROLE_MANAGER);
    assert_int_equal(got.nstores, 2);
    assert_int_equal(ledger_session_find(f->l, t1, 10, &got, csrf), LEAL_OK);
    seen.n = 0;
    assert_int_equal(ledger_audit_each(f->l, 0, audit_line_of, &seen), LEAL_OK);
    assert_int_equal(seen.n, 1);
}

struct seen {
    int n;
    char text[4][160];
};

static int audit_seen(void *ctx, int64_t id, int64_t at, const struct ledger_audit_line *a)
{
    struct seen *s = ctx;
    (void)at;
    snprintf(s->text[s->n++], sizeof s->text[0], "%lld %lld %s %s %s %s|%s", (long long)id,
             (long long)a->user_id, a->actor, a->action, a->object, a->before ? a->before : "-",
             a->after ? a->after : "-");
    return s->n == 4;
}

static void audit_is_newest_first(void **state)
{
    struct fx *f = *state;
    struct ledger_audit_line a = {0, "cli:root", "user.add", "user 1", NULL, "{\"name\":\"x\"}"};
    struct ledger_audit_line b = {0,           "ana",      "customer.edit", "customer 3",
                                  "{\"n\":1}", "{\"n\":2}"};
    struct seen s = {0};
    assert_int_equal(ledger_audit_add(f->l, &a), LEAL_OK);
    assert_int_equal(ledger_audit_add(f->l, &b), LEAL_OK);
    assert_int_equal(ledger_audit_each(f->l, 0, audit_seen, &s), LEAL_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[0], "2 0 ana customer.edit customer 3 {\"n\":1}|{\"n\":2}");
    assert_string_equal(s.text[1], "1 0 cli:root user.add user 1 -|{\"name\":\"x\"}");
    s.n = 0;
    assert_int_equal(ledger_audit_each(f->l, 1, audit_seen, &s), LEAL_OK);
    assert_int_equal(s.n, 1);
}

/* Languages: Spanish by default for users of a Spanish program (an admin:
 * when every program is), --lang over it; and the stores' one zone. */
static void languages_and_zones(void **state)
{
    struct fx *f = *state;
    struct ledger_program p = {.code = "c",
                               .name = "C",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .points_per_euro_milli = 1000,
                               .locale = "es"},
                          got_p;
    struct ledger_user u = {.name = "eva", .role = LEDGER_ROLE_STAFF, .pass_hash = "h"}, got;
    int64_t es_program, es_store, id;
    char tz[LEDGER_ZONE];
    assert_int_equal(ledger_program_create(f->l, &p, &es_program), LEAL_OK);
    assert_int_equal(ledger_program_get(f->l, es_program, &got_p), LEAL_OK);
    assert_string_equal(got_p.locale, "es");
    assert_int_equal(ledger_program_get(f->l, f->program, &got_p), LEAL_OK);
    assert_string_equal(got_p.locale, "en"); /* "" at creation */
    snprintf(p.code, sizeof p.code, "d");
    snprintf(p.locale, sizeof p.locale, "fr");
    assert_int_equal(ledger_program_create(f->l, &p, &id), LEAL_E_WEB_LANG);
    assert_int_equal(ledger_store_add(f->l, es_program, "s3", "S3", "Atlantic/Canary", &es_store),
                     LEAL_OK);
    u.nstores = 1;
    u.stores[0] = es_store;
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_OK);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_string_equal(got.lang, "es");
    snprintf(u.name, sizeof u.name, "fer");
    snprintf(u.lang, sizeof u.lang, "en");
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_OK);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_string_equal(got.lang, "en");
    assert_int_equal(ledger_user_set_lang(f->l, id, "es"), LEAL_OK);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_string_equal(got.lang, "es");
    assert_int_equal(ledger_user_set_lang(f->l, id, "de"), LEAL_E_WEB_LANG);
    snprintf(u.name, sizeof u.name, "gil");
    snprintf(u.lang, sizeof u.lang, "xx");
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_E_WEB_LANG);
    assert_int_equal(ledger_user_by_name(f->l, "gil", &got), LEAL_E_WEB_NO_USER);
    /* A staff member of an English program, and an admin while two programs
     * are English: English. */
    u.lang[0] = '\0';
    u.stores[0] = f->store;
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_OK);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_string_equal(got.lang, "en");
    u.role = LEDGER_ROLE_ADMIN;
    u.nstores = 0;
    snprintf(u.name, sizeof u.name, "hal");
    assert_int_equal(ledger_user_add(f->l, &u, &id), LEAL_OK);
    assert_int_equal(ledger_user_get(f->l, id, &got), LEAL_OK);
    assert_string_equal(got.lang, "en");
    /* Zones: program 1's stores share Europe/Madrid; all stores do not. */
    assert_int_equal(ledger_program_zone(f->l, f->program, tz), LEAL_OK);
    assert_string_equal(tz, "Europe/Madrid");
    assert_int_equal(ledger_program_zone(f->l, es_program, tz), LEAL_OK);
    assert_string_equal(tz, "Atlantic/Canary");
    assert_int_equal(ledger_program_zone(f->l, 0, tz), LEAL_OK);
    assert_string_equal(tz, "");
    assert_int_equal(ledger_program_zone(f->l, 77, tz), LEAL_OK); /* no stores */
    assert_string_equal(tz, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_verifies_with_stated_parameters),
        cmocka_unit_test(hash_refuses_bad_passwords),
        cmocka_unit_test(pins_are_4_to_8_digits_hashed_like_passwords),
        cmocka_unit_test(tokens_are_random_hex_kept_by_hash),
        cmocka_unit_test(csrf_compares_whole_tokens),
        cmocka_unit_test(limit_refuses_the_sixth_in_a_minute),
        cmocka_unit_test(limit_table_full_reuses_the_stalest),
        cmocka_unit_test(limit_enrolments_per_hour),
        cmocka_unit_test(role_table_lists_every_route),
        cmocka_unit_test(routes_found_by_method_and_path),
        cmocka_unit_test(portal_routes_apart_from_the_role_table),
        cmocka_unit_test_setup_teardown(users_roles_and_scope, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(card_pins_in_the_ledger, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(sessions_end_with_password_and_disable, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(audit_is_newest_first, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(role_change_is_one_audited_transaction, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(languages_and_zones, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
