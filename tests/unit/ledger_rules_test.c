/* ledger_rules_test.c - a program's rule sets in the ledger
 * (host/ledger/ledger_rules.h): version 0 before any change, each change a
 * new version with who, when, why and what, the base rate always the
 * program table's, names kept per version, a refused change storing
 * nothing (the part at fault named), the stored bytes exactly
 * rules_codec's, the tables append-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "host/ledger/ledger.h"
#include "host/ledger/ledger_rules.h"
#include "tests/lib/testutil.h"

struct fx {
    char *dir;
    char path[512];
    struct ledger *l;
    int64_t program, other;
};

static int setup(void **state)
{
    static struct fx f;
    struct ledger_program p = {.code = "cafe",
                               .name = "Café Sol",
                               .kind = LEDGER_PROGRAM_SINGLE,
                               .points_per_euro_milli = 1200};
    memset(&f, 0, sizeof f);
    f.dir = test_tmpdir_fast();
    snprintf(f.path, sizeof f.path, "%s/ledger.db", f.dir);
    assert_int_equal(ledger_open(f.path, &f.l), LEAL_OK);
    assert_int_equal(ledger_program_create(f.l, &p, &f.program), LEAL_OK);
    snprintf(p.code, sizeof p.code, "libros");
    p.points_per_euro_milli = 500;
    assert_int_equal(ledger_program_create(f.l, &p, &f.other), LEAL_OK);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    test_rmtree(f->dir);
    free(f->dir);
    return 0;
}

static int64_t query(struct fx *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Runs sql on the file through a connection of its own: SQLite's result code. */
static int sql_exec(struct fx *f, const char *sql)
{
    sqlite3 *db;
    int rc;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Edits: add a double-points rule (ctx: its id and combine). */
struct add_rule {
    uint32_t id;
    uint8_t combine;
    const char *name;
};

static leal_err edit_add_rule(struct ledger_rules *r, void *ctx)
{
    const struct add_rule *a = ctx;
    struct rules_program *p = &r->set.program;
    struct rules_rule *x = &p->rules[p->n_rules];
    memset(x, 0, sizeof *x);
    x->id = a->id;
    x->kind = RULES_MULTIPLIER;
    x->combine = a->combine;
    x->multiplier_milli = 2000;
    x->weekdays = 0x02;
    x->start_minute = 960;
    x->end_minute = 1200;
    snprintf(r->rule_name[p->n_rules], LEDGER_RULES_NAME, "%s", a->name);
    p->n_rules++;
    return LEAL_OK;
}

static leal_err edit_add_tier_and_bono(struct ledger_rules *r, void *ctx)
{
    (void)ctx;
    r->set.program.tiers[0] = (struct rules_tier){500, 1500};
    r->set.program.n_tiers = 1;
    snprintf(r->tier_name[0], LEDGER_RULES_NAME, "Oro");
    r->set.bonos[0] = (struct rules_bono_kind){4, 10, 365, 4500};
    r->set.n_bonos = 1;
    snprintf(r->bono_name[0], LEDGER_RULES_NAME, "10 masajes");
    return LEAL_OK;
}

static leal_err edit_bad_reward(struct ledger_rules *r, void *ctx)
{
    (void)ctx;
    r->set.program.rewards[0] = (struct rules_reward){9, RULES_REWARD_PRODUCT, 100, 1, 3};
    r->set.program.n_rewards = 1;
    return LEAL_OK;
}

static leal_err edit_refuses(struct ledger_rules *r, void *ctx)
{
    (void)ctx;
    r->set.program.n_rules = 0; /* would be a change, but the edit says no */
    return LEAL_E_UNKNOWN_ID;
}

static struct ledger_rules_change change(const char *what,
                                         leal_err (*edit)(struct ledger_rules *, void *), void *ctx)
{
    struct ledger_rules_change c;
    memset(&c, 0, sizeof c);
    c.operator_name = "Marta";
    c.reason = "campaña de diciembre";
    c.what = what;
    c.edit = edit;
    c.ctx = ctx;
    return c;
}

static void test_none_then_versions(void **state)
{
    struct fx *f = *state;
    struct rules_program p;
    struct ledger_rules r;
    struct add_rule a = {12, RULES_BEST, "Martes doble"};
    struct ledger_rules_change c = change("rule 12 added", edit_add_rule, &a);
    uint32_t v = 99;
    assert_int_equal(ledger_rules_load(f->l, f->program, &p, &v), LEAL_OK);
    assert_int_equal(v, 0);
    assert_int_equal(p.rate_milli, 1200);
    assert_int_equal(p.n_rules, 0);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_OK);
    assert_int_equal(c.version, 1);
    c = change("tier 1 and bono 4 added", edit_add_tier_and_bono, NULL);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_OK);
    assert_int_equal(c.version, 2);
    assert_int_equal(ledger_rules_load(f->l, f->program, &p, &v), LEAL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(p.rate_milli, 1200);
    assert_int_equal(p.n_rules, 1);
    assert_int_equal(p.rules[0].id, 12);
    assert_int_equal(p.rules[0].multiplier_milli, 2000);
    assert_int_equal(p.n_tiers, 1);
    assert_int_equal(p.tiers[0].threshold_units, 500);
    /* Names, per version. */
    assert_int_equal(ledger_rules_get(f->l, f->program, 0, &r), LEAL_OK);
    assert_int_equal(r.set.version, 2);
    assert_string_equal(r.rule_name[0], "Martes doble");
    assert_string_equal(r.tier_name[0], "Oro");
    assert_string_equal(r.bono_name[0], "10 masajes");
    assert_int_equal(r.set.bonos[0].price_cents, 4500);
    assert_int_equal(ledger_rules_get(f->l, f->program, 1, &r), LEAL_OK);
    assert_int_equal(r.set.version, 1);
    assert_int_equal(r.set.program.n_tiers, 0);
    assert_int_equal(r.set.n_bonos, 0);
    assert_string_equal(r.rule_name[0], "Martes doble");
    assert_int_equal(ledger_rules_get(f->l, f->program, 3, &r), LEAL_E_UNKNOWN_ID);
    assert_string_equal(ledger_errmsg(f->l), "program 1 has no rule set version 3");
    /* The other program is untouched. */
    assert_int_equal(ledger_rules_load(f->l, f->other, &p, &v), LEAL_OK);
    assert_int_equal(v, 0);
    assert_int_equal(p.rate_milli, 500);
    assert_int_equal(ledger_rules_load(f->l, 77, &p, &v), LEAL_E_UNKNOWN_ID);
}

/* The rate is the program table's at load time, not what was stored. */
static void test_rate_is_the_programs(void **state)
{
    struct fx *f = *state;
    struct rules_program p;
    struct add_rule a = {1, RULES_STACK, ""};
    struct ledger_rules_change c = change("rule 1 added", edit_add_rule, &a);
    uint32_t v;
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_OK);
    assert_int_equal(query(f, "SELECT hex(substr(encoded, 6, 4)) = '000004B0' FROM rule_set"), 1);
    {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(
            sqlite3_exec(db, "UPDATE program SET points_per_euro_milli = 2500", NULL, NULL, NULL),
            SQLITE_OK);
        sqlite3_close(db);
    }
    assert_int_equal(ledger_rules_load(f->l, f->program, &p, &v), LEAL_OK);
    assert_int_equal(v, 1);
    assert_int_equal(p.rate_milli, 2500);
}

static int collect(const struct ledger_rules_version *v, void *ctx)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%u|%s|%s|%s|%d\n", v->version, v->operator_name, v->reason,
             v->what, v->at > 1700000000);
    return 0;
}

static void test_history_and_stored_bytes(void **state)
{
    struct fx *f = *state;
    struct add_rule a = {12, RULES_BEST, "Martes doble"};
    struct ledger_rules_change c = change("rule 12 added", edit_add_rule, &a);
    struct ledger_rules r;
    uint8_t want[RULES_CODEC_MAX_LEN];
    char hist[1024] = "", sql[RULES_CODEC_MAX_LEN * 2 + 128], hex[RULES_CODEC_MAX_LEN * 2 + 1];
    size_t len;
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_OK);
    c = change("tier 1 and bono 4 added", edit_add_tier_and_bono, NULL);
    c.operator_name = "Jon";
    c.reason = "clientes oro";
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_OK);
    assert_int_equal(ledger_rules_history(f->l, f->program, collect, hist), LEAL_OK);
    assert_string_equal(hist, "1|Marta|campaña de diciembre|rule 12 added|1\n"
                              "2|Jon|clientes oro|tier 1 and bono 4 added|1\n");
    /* Stored: rules_codec's bytes of the set, 18 + 8 + 41 + 12 = 79 bytes. */
    assert_int_equal(ledger_rules_get(f->l, f->program, 2, &r), LEAL_OK);
    assert_int_equal(rules_codec_encode(&r.set, want, sizeof want, &len), LEAL_OK);
    assert_int_equal(len, 79);
    hex_encode(want, len, hex);
    for (char *h = hex; *h; h++)
        *h = (char)(*h >= 'a' ? *h - 32 : *h);
    snprintf(sql, sizeof sql, "SELECT hex(encoded) = '%s' FROM rule_set WHERE version = 2", hex);
    assert_int_equal(query(f, sql), 1);
    assert_int_equal(query(f, "SELECT count(*) FROM rule_set_name"), 4);
    assert_int_equal(query(f, "SELECT count(*) FROM rule_set_name WHERE version = 2 AND part = 6 "
                              "AND item = 4 AND name = '10 masajes'"),
                     1);
    /* Append-only. */
    assert_int_equal(sql_exec(f, "UPDATE rule_set SET reason = 'x'"), SQLITE_CONSTRAINT);
    assert_int_equal(sql_exec(f, "DELETE FROM rule_set"), SQLITE_CONSTRAINT);
    assert_int_equal(sql_exec(f, "DELETE FROM rule_set_name"), SQLITE_CONSTRAINT);
    assert_int_equal(query(f, "SELECT count(*) FROM rule_set"), 2);
}

static void test_refused_changes_store_nothing(void **state)
{
    struct fx *f = *state;
    struct add_rule a = {12, RULES_BEST, "Martes doble"};
    struct add_rule same_scope = {14, RULES_BEST, "Martes triple"};
    struct add_rule same_id = {12, RULES_STACK, ""};
    struct ledger_rules_change c = change("rule 12 added", edit_add_rule, &a);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_OK);
    /* Two best-only rules with one scope. */
    c = change("rule 14 added", edit_add_rule, &same_scope);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_E_RULES_PROGRAM);
    assert_int_equal(c.problem.part, RULES_PART_RULE);
    assert_int_equal(c.problem.index, 1);
    assert_int_equal(c.version, 0);
    assert_string_equal(ledger_errmsg(f->l),
                        "rule 14 has the same scope as rule 12 and both are best-only: only the "
                        "one giving more points would ever apply; make one of them stack or "
                        "change its scope");
    /* The same as a stacking rule is fine. */
    same_scope.combine = RULES_STACK;
    c = change("rule 14 added", edit_add_rule, &same_scope);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_OK);
    assert_int_equal(c.version, 2);
    /* A repeated id, a reward above the tiers, an edit's own refusal. */
    c = change("rule 12 added again", edit_add_rule, &same_id);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_E_RULES_PROGRAM);
    assert_int_equal(c.problem.part, RULES_PART_RULE);
    assert_int_equal(c.problem.index, 2);
    assert_string_equal(ledger_errmsg(f->l), "rule 12: another rule has this id");
    c = change("reward 9 added", edit_bad_reward, NULL);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_E_RULES_PROGRAM);
    assert_int_equal(c.problem.part, RULES_PART_REWARD);
    assert_string_equal(ledger_errmsg(f->l), "reward 9 asks for tier 3 and the program has 0");
    c = change("nothing", edit_refuses, NULL);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_E_UNKNOWN_ID);
    c = change("rule 1 added", edit_add_rule, &same_id);
    c.reason = "";
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_E_ARG);
    assert_int_equal(query(f, "SELECT count(*) FROM rule_set"), 2);
    assert_int_equal(query(f, "SELECT max(version) FROM rule_set"), 2);
    assert_int_equal(query(f, "SELECT count(*) FROM rule_set_name"), 3);
}

static void test_rate_over_engine_limit(void **state)
{
    struct fx *f = *state;
    struct add_rule a = {1, RULES_STACK, ""};
    struct ledger_rules_change c = change("rule 1 added", edit_add_rule, &a);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE program SET points_per_euro_milli = 1000001", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(ledger_rules_change(f->l, f->program, &c), LEAL_E_RULES_PROGRAM);
    assert_int_equal(c.problem.part, RULES_PART_PROGRAM);
    assert_string_equal(ledger_errmsg(f->l),
                        "the program's rate (1000001 thousandths of a point per euro) is over "
                        "the rules' limit of 1000 points per euro");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_none_then_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_is_the_programs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_and_stored_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_changes_store_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_over_engine_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
