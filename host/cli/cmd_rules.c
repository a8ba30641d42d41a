/* cmd_rules.c - what a shop decides, per program: `leal rule add|list|show|end|history|welcome`,
 * `leal tier add|list|remove`, `leal reward add|list|remove`, `leal stamp add|list|remove`,
 * `leal bono add|list|remove`. Every change is a new version of the program's rule set in
 * the ledger (host/ledger/ledger_rules.h) with --reason and the operator; every value is
 * checked before the ledger is opened, and a set the rules check refuses is named in one
 * line (exit 2) with nothing stored. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/ledger/amount.h"
#include "host/ledger/ledger_catalogue.h"
#include "host/ledger/ledger_rules.h"
#include "host/ledger/ledger_sale.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_SECONDS 86400

static const char *const weekday_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* One rules command: what was asked, and the change it makes. */
struct rc {
    const char *cmd; /* rule, tier, reward, stamp, bono */
    const char *sub; /* add, list, show, end, remove, history */
    const char *arg; /* the id or number of show, end, remove */
    struct lcli_opt *o;
    size_t n;
    int64_t program;
    uint32_t version; /* list/show: --version (0: the current one) */
    struct rules_rule rule;
    struct rules_tier tier;
    struct rules_reward reward;
    struct rules_stamp stamp;
    struct rules_bono_kind bono;
    char name[LEDGER_RULES_NAME];
    uint32_t target;  /* end, remove: id, or tier/stamp card number */
    uint32_t end_day; /* end: the last day the rule applies */
    uint32_t made;    /* add: the id or number given */
    char what[160];
    char why[256]; /* an edit's own refusal, in words */
    /* add: the category names typed (--categories, --category), resolved to
     * their codes in the program's sale_category once the ledger is open. */
    const char *cat_option;
    unsigned n_cats;
    char cat_names[RULES_MAX_RULE_CATS][LEDGER_CATEGORY_NAME];
};

/* The program's category names, for showing the engine's numbers. */
#define CATS_SHOWN 256
static struct {
    unsigned n;
    uint16_t code[CATS_SHOWN];
    char name[CATS_SHOWN][LEDGER_CATEGORY_NAME];
} cats;

static int cat_keep(void *ctx, uint16_t code, const char *name)
{
    (void)ctx;
    if (cats.n >= CATS_SHOWN)
        return 1;
    cats.code[cats.n] = code;
    snprintf(cats.name[cats.n], LEDGER_CATEGORY_NAME, "%s", name);
    cats.n++;
    return 0;
}

/* The name of category code (its number when the program has not named it). */
static const char *cat_name(uint16_t code, char buf[8])
{
    for (unsigned i = 0; i < cats.n; i++)
        if (cats.code[i] == code)
            return cats.name[i];
    snprintf(buf, 8, "%u", code);
    return buf;
}

/* JSON: the name, or null when the program has not named the code. */
static void cat_json(uint16_t code)
{
    char buf[8];
    const char *n = cat_name(code, buf);
    if (n == buf)
        printf("null");
    else
        cli_json_string(stdout, n);
}

static const char *opt(const struct rc *c, const char *name)
{
    return lcli_get(c->o, c->n, name);
}

/* ---- parsing values ---- */

static int bad(const char *option, const char *v, const char *want)
{
    return cli_usage("--%s '%s': %s", option, v, want);
}

/* A whole number 0..max (option absent: *v untouched). */
static int get_uint(const struct rc *c, const char *name, uint32_t max, uint32_t *v)
{
    const char *s = opt(c, name);
    char *end;
    unsigned long long x;
    if (s == NULL)
        return 0;
    if (s[0] < '0' || s[0] > '9' || (x = strtoull(s, &end, 10), *end != '\0') || x > max) {
        char want[64];
        snprintf(want, sizeof want, "a whole number from 0 to %u", max);
        return bad(name, s, want);
    }
    *v = (uint32_t)x;
    return 0;
}

/* Euros with up to two decimals ("12,50"), 0..max cents. */
static int get_euros(const struct rc *c, const char *name, int64_t max, int64_t *cents)
{
    const char *s = opt(c, name);
    if (s == NULL)
        return 0;
    if (amount_parse(s, strlen(s), cents) != LEAL_OK || *cents < 0 || *cents > max)
        return bad(name, s, "write euros like 5 or 12,50");
    return 0;
}

/* A factor with up to two decimals ("2", "1,5") as thousandths, min..max. */
static int get_factor(const struct rc *c, const char *name, uint32_t min, uint32_t max,
                      uint32_t *milli)
{
    const char *s = opt(c, name);
    int64_t hundredths;
    if (s == NULL)
        return 0;
    if (amount_parse(s, strlen(s), &hundredths) != LEAL_OK || hundredths * 10 < min ||
        hundredths * 10 > max) {
        char want[96];
        snprintf(want, sizeof want, "a factor from %u.%03u to %u like 2 or 1,5", min / 1000,
                 min % 1000, max / 1000);
        return bad(name, s, want);
    }
    *milli = (uint32_t)(hundredths * 10);
    return 0;
}

/* YYYY-MM-DD as days since 1970-01-01. */
static int get_day(const struct rc *c, const char *name, uint32_t *day)
{
    const char *s = opt(c, name);
    int64_t t;
    if (s == NULL)
        return 0;
    if (lcli_date(s, &t) != LEAL_OK || t < 946684800LL || t >= 7258118400LL)
        return bad(name, s, "a date YYYY-MM-DD from 2000-01-01 to 2199-12-31");
    *day = (uint32_t)(t / DAY_SECONDS);
    return 0;
}

/* "mon,tue,sat" as bits, Monday bit 0. */
static int get_weekdays(const struct rc *c, uint8_t *bits)
{
    const char *s = opt(c, "days");
    char buf[64], *save = NULL;
    *bits = 0;
    if (s == NULL)
        return 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned d = 0;
        while (d < 7 && strcmp(w, weekday_names[d]) != 0)
            d++;
        if (d == 7 || (*bits & (1u << d)))
            return bad("days", s, "weekdays like mon,tue,sat, each once");
        *bits = (uint8_t)(*bits | 1u << d);
    }
    if (*bits == 0)
        return bad("days", s, "weekdays like mon,tue,sat, each once");
    return 0;
}

static bool hhmm(const char *s, uint16_t *minute)
{
    unsigned h, m;
    for (unsigned i = 0; i < 5; i++)
        if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
            return false;
    h = (unsigned)(s[0] - '0') * 10u + (unsigned)(s[1] - '0');
    m = (unsigned)(s[3] - '0') * 10u + (unsigned)(s[4] - '0');
    if (s[5] != '\0' || m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *minute = (uint16_t)(h * 60 + m);
    return true;
}

/* "16:00-20:00": from 16:00 up to, not including, 20:00 (22:00-02:00 runs past midnight). */
static int get_window(const struct rc *c, uint16_t *start, uint16_t *end)
{
    const char *s = opt(c, "time");
    char a[8], b[8];
    if (s == NULL)
        return 0;
    if (strlen(s) != 11 || s[5] != '-' || (memcpy(a, s, 5), a[5] = 0, !hhmm(a, start)) ||
        (memcpy(b, s + 6, 5), b[5] = 0, !hhmm(b, end)) || *start == *end)
        return bad("time", s, "a window HH:MM-HH:MM, like 16:00-20:00 (the end not included)");
    return 0;
}

/* "1,2,5": up to max ids from 1 to limit. */
static int get_ids(const struct rc *c, const char *name, uint32_t limit, uint32_t *ids,
                   unsigned max, uint8_t *n)
{
    const char *s = opt(c, name);
    char buf[128], *save = NULL, *end, want[96];
    *n = 0;
    if (s == NULL)
        return 0;
    snprintf(want, sizeof want, "up to %u ids from 1 to %u, like 1,2", max, limit);
    snprintf(buf, sizeof buf, "%s", s);
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned long long x = strtoull(w, &end, 10);
        if (w[0] < '0' || w[0] > '9' || *end != '\0' || x < 1 || x > limit || *n >= max)
            return bad(name, s, want);
        ids[(*n)++] = (uint32_t)x;
    }
    if (*n == 0)
        return bad(name, s, want);
    return 0;
}

/* "cafe,te": up to max category names (a-z 0-9 _ -), kept for run_change. */
static int get_cats(struct rc *c, const char *name, unsigned max)
{
    const char *s = opt(c, name);
    char buf[RULES_MAX_RULE_CATS * LEDGER_CATEGORY_NAME + 16], *save = NULL, want[96];
    c->n_cats = 0;
    c->cat_option = name;
    if (s == NULL)
        return 0;
    snprintf(want, sizeof want, "up to %u category names, like cafe,te (leal sale category list)",
             max);
    if (strlen(s) >= sizeof buf)
        return bad(name, s, want);
    snprintf(buf, sizeof buf, "%s", s);
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (c->n_cats >= max || strlen(w) >= LEDGER_CATEGORY_NAME)
            return bad(name, s, want);
        snprintf(c->cat_names[c->n_cats++], LEDGER_CATEGORY_NAME, "%s", w);
    }
    if (c->n_cats == 0)
        return bad(name, s, want);
    return 0;
}

static int get_name(struct rc *c, bool required)
{
    const char *s = opt(c, "name");
    if (s == NULL || s[0] == '\0')
        return required ? cli_usage("leal %s add needs --name (not empty)", c->cmd) : 0;
    if (strlen(s) >= LEDGER_RULES_NAME)
        return bad("name", s, "at most 63 bytes");
    snprintf(c->name, sizeof c->name, "%s", s);
    return 0;
}

/* ---- showing values ---- */

static void day_str(uint32_t day, char out[16])
{
    time_t t = (time_t)day * DAY_SECONDS;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 16, "%u", day);
}

/* 2000 -> "2", 1500 -> "1.5", 1250 -> "1.25". */
static void factor_str(uint32_t milli, char out[16])
{
    size_t n;
    snprintf(out, 16, "%u.%03u", milli / 1000, milli % 1000);
    n = strlen(out);
    while (out[n - 1] == '0')
        out[--n] = '\0';
    if (out[n - 1] == '.')
        out[n - 1] = '\0';
}

static void euros_str(int64_t cents, char out[AMOUNT_FORMAT_MAX])
{
    lcli_amount_str("EUR", cents, out, AMOUNT_FORMAT_MAX);
}

static void json_name(const char *key, const char *name)
{
    printf("\"%s\":", key);
    cli_json_string(stdout, name);
}

/* ---- earning rules ---- */

static void rule_text(const struct rules_rule *r, const char *name)
{
    char a[16], b[16], e[AMOUNT_FORMAT_MAX];
    printf("rule %u", r->id);
    if (name[0])
        printf(" \"%s\"", name);
    if (r->kind == RULES_MULTIPLIER) {
        factor_str(r->multiplier_milli, a);
        printf(": x%s", a);
    } else {
        printf(": +%u points", r->bonus_points);
    }
    printf(", %s", r->combine == RULES_BEST ? "best only" : "stacks");
    for (unsigned d = 0, first = 1; d < 7; d++)
        if (r->weekdays & (1u << d)) {
            printf("%s%s", first ? ", " : ",", weekday_names[d]);
            first = 0;
        }
    if (r->start_minute != r->end_minute)
        printf(", %02u:%02u-%02u:%02u", r->start_minute / 60u, r->start_minute % 60u,
               r->end_minute / 60u, r->end_minute % 60u);
    day_str(r->from_day, a);
    day_str(r->to_day, b);
    if (r->from_day)
        printf(", from %s", a);
    if (r->to_day)
        printf(", until %s", b);
    for (unsigned i = 0; i < r->n_stores; i++)
        printf("%s%u", i ? "," : ", stores ", r->stores[i]);
    for (unsigned i = 0; i < r->n_categories; i++) {
        char buf[8];
        printf("%s%s", i ? "," : ", categories ", cat_name(r->categories[i], buf));
    }
    euros_str(r->min_spend_cents, e);
    if (r->min_spend_cents)
        printf(", spend at least %s", e);
    if (r->cap_per_sale)
        printf(", at most %u a sale", r->cap_per_sale);
    if (r->cap_per_day)
        printf(", at most %u a card a day", r->cap_per_day);
    printf("\n");
}

static void rule_json(const struct rules_rule *r, const char *name)
{
    char a[16];
    printf("{\"id\":%u,", r->id);
    json_name("name", name);
    printf(",\"kind\":\"%s\",\"combine\":\"%s\",\"multiplier_milli\":%u,\"bonus_points\":%u,",
           r->kind == RULES_MULTIPLIER ? "multiplier" : "bonus",
           r->combine == RULES_BEST ? "best" : "stack", r->multiplier_milli, r->bonus_points);
    day_str(r->from_day, a);
    printf(r->from_day ? "\"from\":\"%s\"," : "\"from\":null,", a);
    day_str(r->to_day, a);
    printf(r->to_day ? "\"to\":\"%s\",\"days\":[" : "\"to\":null,\"days\":[", a);
    for (unsigned d = 0, first = 1; d < 7; d++)
        if (r->weekdays & (1u << d)) {
            printf("%s\"%s\"", first ? "" : ",", weekday_names[d]);
            first = 0;
        }
    printf("],\"start_minute\":%u,\"end_minute\":%u,\"stores\":[", r->start_minute, r->end_minute);
    for (unsigned i = 0; i < r->n_stores; i++)
        printf("%s%u", i ? "," : "", r->stores[i]);
    printf("],\"categories\":[");
    for (unsigned i = 0; i < r->n_categories; i++)
        printf("%s%u", i ? "," : "", r->categories[i]);
    printf("],\"category_names\":[");
    for (unsigned i = 0; i < r->n_categories; i++) {
        printf("%s", i ? "," : "");
        cat_json(r->categories[i]);
    }
    printf("],\"min_spend_cents\":%lld,\"cap_per_sale\":%u,\"cap_per_day\":%u}",
           (long long)r->min_spend_cents, r->cap_per_sale, r->cap_per_day);
}

/* rule add's options into c->rule. */
static int rule_from_opts(struct rc *c)
{
    struct rules_rule *r = &c->rule;
    const char *mult = opt(c, "multiplier"), *bonus = opt(c, "bonus");
    int rc;
    if ((mult == NULL) == (bonus == NULL))
        return cli_usage("leal rule add needs --multiplier X or --bonus POINTS (one of them)");
    if (opt(c, "best") && opt(c, "stack"))
        return cli_usage("leal rule add: --best or --stack, not both");
    r->kind = mult ? RULES_MULTIPLIER : RULES_BONUS;
    r->combine = opt(c, "best") ? RULES_BEST : RULES_STACK;
    if ((rc = get_uint(c, "id", UINT32_MAX, &r->id)) != 0 ||
        (rc = get_factor(c, "multiplier", 1010, RULES_MAX_MULTIPLIER, &r->multiplier_milli)) != 0 ||
        (rc = get_uint(c, "bonus", RULES_MAX_BONUS, &r->bonus_points)) != 0 ||
        (rc = get_day(c, "from", &r->from_day)) != 0 || (rc = get_day(c, "to", &r->to_day)) != 0 ||
        (rc = get_weekdays(c, &r->weekdays)) != 0 ||
        (rc = get_window(c, &r->start_minute, &r->end_minute)) != 0 ||
        (rc = get_ids(c, "stores", UINT32_MAX, r->stores, RULES_MAX_RULE_STORES, &r->n_stores)) !=
            0 ||
        (rc = get_cats(c, "categories", RULES_MAX_RULE_CATS)) != 0 ||
        (rc = get_euros(c, "min-spend", RULES_MAX_SALE_CENTS, &r->min_spend_cents)) != 0 ||
        (rc = get_uint(c, "cap-sale", RULES_MAX_BONUS, &r->cap_per_sale)) != 0 ||
        (rc = get_uint(c, "cap-day", RULES_MAX_BONUS, &r->cap_per_day)) != 0)
        return rc;
    if (opt(c, "id") && r->id == 0)
        return bad("id", opt(c, "id"), "a rule id from 1");
    if (bonus && r->bonus_points == 0)
        return bad("bonus", bonus, "points from 1");
    if (r->from_day && r->to_day && r->from_day > r->to_day)
        return cli_usage("leal rule add: --from %s is after --to %s", opt(c, "from"), opt(c, "to"));
    return get_name(c, false);
}

/* The first unused id above every id in ids. */
static uint32_t next_id(const uint32_t *ids, size_t stride, unsigned n)
{
    uint32_t top = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, (const unsigned char *)ids + stride * i, sizeof v);
        top = v > top ? v : top;
    }
    return top + 1;
}

static leal_err edit_rule_add(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct rules_program *p = &r->set.program;
    if (p->n_rules >= RULES_MAX_RULES) {
        snprintf(c->why, sizeof c->why, "program %lld already has %d rules (the most)",
                 (long long)c->program, RULES_MAX_RULES);
        return LEAL_E_RULES_PROGRAM;
    }
    if (c->rule.id == 0)
        c->rule.id = next_id(&p->rules[0].id, sizeof p->rules[0], p->n_rules);
    p->rules[p->n_rules] = c->rule;
    memcpy(r->rule_name[p->n_rules], c->name, sizeof c->name);
    p->n_rules++;
    c->made = c->rule.id;
    snprintf(c->what, sizeof c->what, "rule %u added", c->rule.id);
    return LEAL_OK;
}

static int find_rule(const struct rules_program *p, uint32_t id)
{
    for (unsigned i = 0; i < p->n_rules; i++)
        if (p->rules[i].id == id)
            return (int)i;
    return -1;
}

static leal_err edit_rule_end(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct rules_rule *x;
    char a[16];
    int i = find_rule(&r->set.program, c->target);
    if (i < 0) {
        snprintf(c->why, sizeof c->why, "program %lld has no rule %u", (long long)c->program,
                 c->target);
        return LEAL_E_UNKNOWN_ID;
    }
    x = &r->set.program.rules[i];
    if (x->from_day > c->end_day) {
        day_str(x->from_day, a);
        snprintf(c->why, sizeof c->why, "rule %u starts on %s, after the end asked for", c->target,
                 a);
        return LEAL_E_RULES_PROGRAM;
    }
    if (x->to_day != 0 && c->end_day > x->to_day) { /* end never extends a rule */
        char b[16];
        day_str(x->to_day, a);
        day_str(c->end_day, b);
        snprintf(c->why, sizeof c->why,
                 "rule %u already ends on %s: 'rule end' only brings its end earlier, not to %s; "
                 "add a new rule for the days after",
                 c->target, a, b);
        return LEAL_E_RULES_PROGRAM;
    }
    x->to_day = c->end_day;
    day_str(c->end_day, a);
    snprintf(c->what, sizeof c->what, "rule %u ends on %s", c->target, a);
    return LEAL_OK;
}

/* ---- tiers (numbered 1.. by threshold) ---- */

static void tier_text(const struct rules_tier *t, unsigned number, const char *name)
{
    char f[16];
    factor_str(t->multiplier_milli, f);
    printf("tier %u", number);
    if (name[0])
        printf(" \"%s\"", name);
    printf(": from %u euros spent in the window, points x%s\n", t->threshold_units, f);
}

static void tier_json(const struct rules_tier *t, unsigned number, const char *name)
{
    printf("{\"tier\":%u,", number);
    json_name("name", name);
    printf(",\"threshold_euros\":%u,\"multiplier_milli\":%u}", t->threshold_units,
           t->multiplier_milli);
}

static int tier_from_opts(struct rc *c)
{
    int rc;
    c->tier.multiplier_milli = 1000;
    if (!opt(c, "threshold"))
        return cli_usage("leal tier add needs --threshold EUROS (whole euros spent in the "
                         "window)");
    if ((rc = get_uint(c, "threshold", UINT32_MAX, &c->tier.threshold_units)) != 0 ||
        (rc = get_factor(c, "multiplier", 1000, RULES_MAX_MULTIPLIER, &c->tier.multiplier_milli)) !=
            0)
        return rc;
    if (c->tier.threshold_units == 0)
        return bad("threshold", opt(c, "threshold"), "whole euros from 1");
    return get_name(c, true);
}

/* The shared edit's refusal (host/ledger/ledger_catalogue.h) in c->why. */
static leal_err cat_why(struct rc *c, leal_err err, const struct ledger_cat_why *w)
{
    if (err != LEAL_OK && w->fmt != NULL)
        snprintf(c->why, sizeof c->why, w->fmt, w->a, w->b);
    return err;
}

static leal_err edit_tier_add(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_tier_add(r, &c->tier, c->name, &c->made, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "tier %u added", c->made);
    return cat_why(c, err, &w);
}

static leal_err edit_tier_remove(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_tier_remove(r, c->target, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "tier %u removed", c->target);
    return cat_why(c, err, &w);
}

/* ---- rewards ---- */

static const char *const reward_kinds[] = {"", "product", "voucher", "percent", "cashback"};

static void reward_value(const struct rules_reward *w, char out[48])
{
    char e[AMOUNT_FORMAT_MAX];
    euros_str(w->value, e);
    if (w->kind == RULES_REWARD_PRODUCT)
        snprintf(out, 48, "product %lld", (long long)w->value);
    else if (w->kind == RULES_REWARD_PERCENT)
        snprintf(out, 48, "%s %% off the sale", e);
    else if (w->kind == RULES_REWARD_VOUCHER)
        snprintf(out, 48, "%s EUR off", e);
    else
        snprintf(out, 48, "%s EUR cashback", e);
}

static void reward_text(const struct rules_reward *w, const char *name)
{
    char v[48];
    reward_value(w, v);
    printf("reward %u", w->id);
    if (name[0])
        printf(" \"%s\"", name);
    printf(": %s for %u points", v, w->cost_points);
    if (w->min_tier)
        printf(", tier %u and up", w->min_tier);
    printf("\n");
}

static void reward_json(const struct rules_reward *w, const char *name)
{
    printf("{\"id\":%u,", w->id);
    json_name("name", name);
    printf(",\"kind\":\"%s\",\"cost_points\":%u,\"value\":%lld,\"min_tier\":%u}",
           reward_kinds[w->kind], w->cost_points, (long long)w->value, w->min_tier);
}

static int reward_from_opts(struct rc *c)
{
    struct rules_reward *w = &c->reward;
    const char *kind = opt(c, "kind"), *value = opt(c, "value");
    uint32_t tier = 0, product = 0;
    int rc;
    for (unsigned k = 1; kind && k < N(reward_kinds); k++)
        if (strcmp(kind, reward_kinds[k]) == 0)
            w->kind = (uint8_t)k;
    if (w->kind == 0)
        return cli_usage("leal reward add needs --kind product, voucher, percent or cashback");
    if (!opt(c, "cost") || !value)
        return cli_usage("leal reward add needs --cost POINTS and --value (a product id, "
                         "euros, or a percentage)");
    if ((rc = get_uint(c, "id", UINT32_MAX, &w->id)) != 0 ||
        (rc = get_uint(c, "cost", UINT32_MAX, &w->cost_points)) != 0 ||
        (rc = get_uint(c, "min-tier", RULES_MAX_TIERS, &tier)) != 0)
        return rc;
    if (w->kind == RULES_REWARD_PRODUCT)
        rc = get_uint(c, "value", UINT32_MAX, &product);
    else
        rc = get_euros(c, "value", w->kind == RULES_REWARD_PERCENT ? 10000 : RULES_MAX_SALE_CENTS,
                       &w->value);
    if (rc != 0)
        return rc;
    if (w->kind == RULES_REWARD_PRODUCT)
        w->value = product;
    else if (w->value == 0)
        return bad("value", value, "more than 0 (percent: up to 100)");
    if (w->cost_points == 0)
        return bad("cost", opt(c, "cost"), "points from 1");
    if (opt(c, "id") && w->id == 0)
        return bad("id", opt(c, "id"), "a reward id from 1");
    w->min_tier = (uint8_t)tier;
    return get_name(c, true);
}

static leal_err edit_reward_add(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_reward_add(r, &c->reward, c->name, &c->made, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "reward %u added", c->made);
    return cat_why(c, err, &w);
}

static leal_err edit_reward_remove(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_reward_remove(r, c->target, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "reward %u removed", c->target);
    return cat_why(c, err, &w);
}

/* ---- stamp cards (numbered 1..4: the card's stamp counters) ---- */

static void stamp_text(const struct rules_stamp *s, unsigned number, const char *name)
{
    char e[AMOUNT_FORMAT_MAX];
    printf("stamp card %u", number);
    if (name[0])
        printf(" \"%s\"", name);
    printf(": a stamp per %s", s->per == RULES_STAMP_PER_ITEM ? "item" : "sale");
    if (s->category) {
        char buf[8];
        printf(" of category %s", cat_name(s->category, buf));
    }
    euros_str(s->min_spend_cents, e);
    if (s->min_spend_cents)
        printf(" of at least %s", e);
    printf(", %u stamps give reward %u\n", s->goal, s->reward_id);
}

static void stamp_json(const struct rules_stamp *s, unsigned number, const char *name)
{
    printf("{\"stamp_card\":%u,", number);
    json_name("name", name);
    printf(",\"per\":\"%s\",\"category\":%u,\"category_name\":",
           s->per == RULES_STAMP_PER_ITEM ? "item" : "sale", s->category);
    if (s->category)
        cat_json(s->category);
    else
        printf("null");
    printf(",\"goal\":%u,\"reward\":%u,\"min_spend_cents\":%lld}", s->goal, s->reward_id,
           (long long)s->min_spend_cents);
}

static int stamp_from_opts(struct rc *c)
{
    struct rules_stamp *s = &c->stamp;
    const char *per = opt(c, "per");
    uint32_t goal = 0;
    int rc;
    if (per == NULL || (strcmp(per, "sale") != 0 && strcmp(per, "item") != 0))
        return cli_usage("leal stamp add needs --per sale or --per item");
    if (!opt(c, "goal") || !opt(c, "reward"))
        return cli_usage("leal stamp add needs --goal N and --reward ID");
    s->per = strcmp(per, "item") == 0 ? RULES_STAMP_PER_ITEM : RULES_STAMP_PER_SALE;
    if ((rc = get_uint(c, "goal", 255, &goal)) != 0 ||
        (rc = get_uint(c, "reward", UINT32_MAX, &s->reward_id)) != 0 ||
        (rc = get_cats(c, "category", 1)) != 0 ||
        (rc = get_euros(c, "min-spend", RULES_MAX_SALE_CENTS, &s->min_spend_cents)) != 0)
        return rc;
    if (goal < 2)
        return bad("goal", opt(c, "goal"), "stamps from 2 to 255");
    s->goal = (uint8_t)goal;
    return get_name(c, true);
}

static leal_err edit_stamp_add(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_stamp_add(r, &c->stamp, c->name, &c->made, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "stamp card %u added", c->made);
    return cat_why(c, err, &w);
}

static leal_err edit_stamp_remove(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_stamp_remove(r, c->target, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "stamp card %u removed", c->target);
    return cat_why(c, err, &w);
}

/* ---- bono kinds ---- */

static void bono_text(const struct rules_bono_kind *b, const char *name)
{
    char e[AMOUNT_FORMAT_MAX];
    euros_str(b->price_cents, e);
    printf("bono %u", b->id);
    if (name[0])
        printf(" \"%s\"", name);
    printf(": %u sessions for %s EUR", b->sessions, e);
    if (b->valid_days)
        printf(", valid %u days from the sale\n", b->valid_days);
    else
        printf(", no end date\n");
}

static void bono_json(const struct rules_bono_kind *b, const char *name)
{
    printf("{\"id\":%u,", b->id);
    json_name("name", name);
    printf(",\"sessions\":%u,\"valid_days\":%u,\"price_cents\":%lld}", b->sessions, b->valid_days,
           (long long)b->price_cents);
}

static int bono_from_opts(struct rc *c)
{
    struct rules_bono_kind *b = &c->bono;
    uint32_t sessions = 0, days = 0;
    int rc;
    if (!opt(c, "sessions") || !opt(c, "price"))
        return cli_usage("leal bono add needs --sessions N and --price EUR");
    if ((rc = get_uint(c, "id", UINT32_MAX, &b->id)) != 0 ||
        (rc = get_uint(c, "sessions", 65535, &sessions)) != 0 ||
        (rc = get_uint(c, "valid-days", RULES_MAX_BONO_VALID_DAYS, &days)) != 0 ||
        (rc = get_euros(c, "price", RULES_MAX_SALE_CENTS, &b->price_cents)) != 0)
        return rc;
    if (sessions == 0)
        return bad("sessions", opt(c, "sessions"), "sessions from 1 to 65535");
    if (opt(c, "id") && b->id == 0)
        return bad("id", opt(c, "id"), "a bono id from 1");
    b->sessions = (uint16_t)sessions;
    b->valid_days = (uint16_t)days;
    return get_name(c, true);
}

static leal_err edit_bono_add(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_bono_add(r, &c->bono, c->name, &c->made, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "bono %u added", c->made);
    return cat_why(c, err, &w);
}

static leal_err edit_bono_remove(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    struct ledger_cat_why w = {NULL, 0, 0};
    leal_err err = ledger_cat_bono_remove(r, c->target, &w);
    if (err == LEAL_OK)
        snprintf(c->what, sizeof c->what, "bono %u removed", c->target);
    return cat_why(c, err, &w);
}

/* ---- listing ---- */

enum kind { K_RULE, K_TIER, K_REWARD, K_STAMP, K_BONO };

static enum kind kind_of(const struct rc *c)
{
    return c->cmd[0] == 'r' && c->cmd[1] == 'u' ? K_RULE
           : c->cmd[0] == 't'                   ? K_TIER
           : c->cmd[0] == 'r'                   ? K_REWARD
           : c->cmd[0] == 's'                   ? K_STAMP
                                                : K_BONO;
}

static const char *const list_key[] = {"rules", "tiers", "rewards", "stamp_cards", "bonos"};
static const char *const one_name[] = {"rule", "tier", "reward", "stamp card", "bono"};
static const char *const many_name[] = {"rules", "tiers", "rewards", "stamp cards", "bonos"};
static const char *const one_key[] = {"rule", "tier", "reward", "stamp_card", "bono"};

static unsigned count_of(const struct ledger_rules *r, enum kind k)
{
    const struct rules_program *p = &r->set.program;
    const unsigned n[] = {p->n_rules, p->n_tiers, p->n_rewards, p->n_stamps, r->set.n_bonos};
    return n[k];
}

/* The id (or number) of item i, as the commands name it. */
static uint32_t item_id(const struct ledger_rules *r, enum kind k, unsigned i)
{
    const struct rules_program *p = &r->set.program;
    return k == K_RULE     ? p->rules[i].id
           : k == K_REWARD ? p->rewards[i].id
           : k == K_BONO   ? r->set.bonos[i].id
                           : i + 1;
}

static void print_item(const struct ledger_rules *r, enum kind k, unsigned i, bool json)
{
    const struct rules_program *p = &r->set.program;
    if (k == K_RULE)
        (json ? rule_json : rule_text)(&p->rules[i], r->rule_name[i]);
    else if (k == K_TIER)
        (json ? tier_json : tier_text)(&p->tiers[i], i + 1, r->tier_name[i]);
    else if (k == K_REWARD)
        (json ? reward_json : reward_text)(&p->rewards[i], r->reward_name[i]);
    else if (k == K_STAMP)
        (json ? stamp_json : stamp_text)(&p->stamps[i], i + 1, r->stamp_name[i]);
    else
        (json ? bono_json : bono_text)(&r->set.bonos[i], r->bono_name[i]);
}

/* list (target 0) or show (one item). */
static int print_items(const struct rc *c, const struct ledger_rules *r, uint32_t target)
{
    enum kind k = kind_of(c);
    bool json = opt(c, "json") != NULL;
    unsigned n = count_of(r, k), shown = 0;
    if (target)
        for (unsigned i = 0; i < n; i++)
            shown += item_id(r, k, i) == target;
    if (target && !shown)
        return cli_error(LEAL_E_UNKNOWN_ID, CLI_EXIT_USAGE, "program %lld has no %s %u",
                         (long long)c->program, one_name[k], target);
    if (json)
        printf("{\"program\":%lld,\"version\":%u,\"%s\":%s", (long long)c->program, r->set.version,
               target ? one_key[k] : list_key[k], target ? "" : "[");
    else if (!target)
        printf("program %lld, rule set version %u: %u %s\n", (long long)c->program, r->set.version,
               n, n == 1 ? one_name[k] : many_name[k]);
    for (unsigned i = 0, first = 1; i < n; i++) {
        if (target && item_id(r, k, i) != target)
            continue;
        if (json && !first)
            printf(",");
        print_item(r, k, i, json);
        first = 0;
    }
    if (json)
        printf(target ? "}\n" : "]}\n");
    return CLI_EXIT_OK;
}

static int print_version(const struct ledger_rules_version *v, void *ctx)
{
    bool json = *(bool *)ctx;
    char at[32];
    lcli_time_str(v->at, at, sizeof at);
    if (!json) {
        printf("version %u  %s UTC  %s  %s: %s\n", v->version, at, v->operator_name, v->what,
               v->reason);
        return 0;
    }
    printf("%s{\"version\":%u,\"at\":%lld,\"operator\":", v->version > 1 ? "," : "", v->version,
           (long long)v->at);
    cli_json_string(stdout, v->operator_name);
    printf(",\"what\":");
    cli_json_string(stdout, v->what);
    printf(",\"reason\":");
    cli_json_string(stdout, v->reason);
    printf("}");
    return 0;
}

/* rule welcome without --points: the set's welcome points. */
static int print_welcome(const struct rc *c, const struct ledger_rules *r)
{
    uint32_t w = r->set.program.welcome_points;
    if (opt(c, "json"))
        printf("{\"program\":%lld,\"version\":%u,\"welcome_points\":%u}\n", (long long)c->program,
               r->set.version, w);
    else if (w)
        printf("program %lld, rule set version %u: %u welcome points at an account's first earn\n",
               (long long)c->program, r->set.version, w);
    else
        printf("program %lld, rule set version %u: no welcome points\n", (long long)c->program,
               r->set.version);
    return CLI_EXIT_OK;
}

/* list, show, history, welcome without --points: nothing changes. */
static int run_read(struct rc *c)
{
    static struct ledger_rules r;
    struct ledger *l = NULL;
    bool json = opt(c, "json") != NULL;
    leal_err err;
    int rc;
    if ((rc = lcli_open(opt(c, "db"), &l)) != 0)
        return rc;
    if (strcmp(c->sub, "history") == 0) {
        if (json)
            printf("{\"program\":%lld,\"versions\":[", (long long)c->program);
        err = ledger_rules_history(l, c->program, print_version, &json);
        if (json && err == LEAL_OK)
            printf("]}\n");
    } else if (strcmp(c->sub, "welcome") == 0) {
        if ((err = ledger_rules_get(l, c->program, c->version, &r)) == LEAL_OK)
            rc = print_welcome(c, &r);
    } else if ((err = ledger_rules_get(l, c->program, c->version, &r)) == LEAL_OK &&
               (err = ledger_category_each(l, c->program, cat_keep, NULL)) == LEAL_OK) {
        rc = print_items(c, &r, c->target);
    }
    if (err != LEAL_OK)
        rc = lcli_fail(l, err, c->cmd);
    ledger_close(l);
    return rc;
}

/* add's category names into the engine's codes (the program's sale_category). */
static int resolve_cats(struct rc *c, struct ledger *l)
{
    uint16_t code[RULES_MAX_RULE_CATS];
    for (unsigned i = 0; i < c->n_cats; i++)
        if (ledger_category_code(l, c->program, c->cat_names[i], &code[i]) != LEAL_OK)
            return cli_error(LEAL_E_UNKNOWN_ID, CLI_EXIT_USAGE,
                             "--%s: program %lld has no category '%s'; add it with 'leal sale "
                             "category add %s --program %lld'",
                             c->cat_option, (long long)c->program, c->cat_names[i], c->cat_names[i],
                             (long long)c->program);
    if (kind_of(c) == K_STAMP && c->n_cats == 1)
        c->stamp.category = code[0];
    if (kind_of(c) == K_RULE) {
        c->rule.n_categories = (uint8_t)c->n_cats;
        for (unsigned i = 0; i < c->n_cats; i++)
            c->rule.categories[i] = code[i];
    }
    return 0;
}

/* add, end, remove: one new version of the rule set. */
static int run_change(struct rc *c, leal_err (*edit)(struct ledger_rules *, void *))
{
    struct ledger_rules_change ch;
    struct ledger *l = NULL;
    const char *who = opt(c, "operator") ? opt(c, "operator") : getenv("USER");
    leal_err err;
    int rc;
    if ((rc = lcli_open(opt(c, "db"), &l)) != 0)
        return rc;
    if ((rc = resolve_cats(c, l)) != 0) {
        ledger_close(l);
        return rc;
    }
    memset(&ch, 0, sizeof ch);
    ch.operator_name = who && who[0] ? who : "desk";
    ch.reason = opt(c, "reason");
    ch.what = c->what;
    ch.edit = edit;
    ch.ctx = c;
    snprintf(c->what, sizeof c->what, "%s %s", c->cmd, c->sub);
    err = ledger_rules_change(l, c->program, &ch);
    if (err != LEAL_OK && c->why[0])
        rc = cli_error(err, CLI_EXIT_USAGE, "%s", c->why);
    else if (err == LEAL_E_RULES_PROGRAM || err == LEAL_E_TEXT)
        rc = cli_error(err, CLI_EXIT_USAGE, "%s %s: %s", c->cmd, c->sub, ledger_errmsg(l));
    else if (err != LEAL_OK)
        rc = cli_fail(err, "%s %s%s%s", c->cmd, c->sub, ledger_errmsg(l)[0] ? ": " : "",
                      ledger_errmsg(l));
    else if (opt(c, "json"))
        printf("{\"program\":%lld,\"version\":%u,\"what\":\"%s\",\"%s\":%u}\n",
               (long long)c->program, ch.version, c->what,
               strcmp(c->sub, "welcome") == 0 ? "welcome_points"
               : kind_of(c) == K_TIER         ? "tier"
               : kind_of(c) == K_STAMP        ? "stamp_card"
                                              : "id",
               c->made ? c->made : c->target);
    else
        printf("%s (program %lld, rule set version %u)\n", c->what, (long long)c->program,
               ch.version);
    ledger_close(l);
    return rc;
}

/* rule welcome --points N: the welcome points of the rule set (0: none), given
 * once per account at its first earn (RULES.md 3). */
static leal_err edit_welcome(struct ledger_rules *r, void *ctx)
{
    struct rc *c = ctx;
    if (r->set.program.welcome_points == c->made) {
        snprintf(c->why, sizeof c->why,
                 "program %lld's rules (version %u) already give %u welcome points; nothing "
                 "changed",
                 (long long)c->program, r->set.version, c->made);
        return LEAL_E_RULES_PROGRAM;
    }
    r->set.program.welcome_points = c->made;
    if (c->made)
        snprintf(c->what, sizeof c->what, "welcome set to %u points", c->made);
    else
        snprintf(c->what, sizeof c->what, "welcome removed");
    return LEAL_OK;
}

/* ---- the commands ---- */

static const char rules_common_help[] =
    "Every change makes a new version of the program's rule set in the ledger, with\n"
    "--reason (required) and --operator (default $USER); 'leal rule history' lists\n"
    "them. list and show take --version N for an earlier version. Euros like 12,50;\n"
    "dates YYYY-MM-DD; times HH:MM. Exit 0 done, 2 refused (nothing stored), 1 failed.\n";

static const char rule_help[] =
    "usage: leal rule add --program ID (--multiplier X | --bonus POINTS) [--best|--stack]\n"
    "                     [--id N] [--name NAME] [--from DATE] [--to DATE]\n"
    "                     [--days mon,tue,...] [--time HH:MM-HH:MM] [--stores 1,2]\n"
    "                     [--categories cafe,te] [--min-spend EUR] [--cap-sale POINTS]\n"
    "                     [--cap-day POINTS] --reason TEXT [--operator NAME]\n"
    "       leal rule list --program ID [--version N]\n"
    "       leal rule show RULE --program ID [--version N]\n"
    "       leal rule end RULE --program ID [--on DATE] --reason TEXT\n"
    "       leal rule history --program ID\n"
    "       leal rule welcome --program ID [--version N]\n"
    "       leal rule welcome --program ID --points N --reason TEXT [--operator NAME]\n"
    "       (each also takes --db PATH and --json)\n"
    "An earning rule multiplies the base points (--multiplier 2: double points) or adds\n"
    "a fixed --bonus once a sale, when the sale is within its dates, weekdays, time\n"
    "window (the end not included; 22:00-02:00 runs past midnight), stores and product\n"
    "categories (named with 'leal sale category add'), and reaches --min-spend;\n"
    "--cap-sale and --cap-day bound what it gives.\n"
    "--stack rules all add (the default); of the --best rules only the one giving most\n"
    "applies. 'end' makes --on (default today, UTC) the rule's last day; it never\n"
    "extends a rule that already ends earlier.\n"
    "'welcome' shows the welcome points an account gets at its first earn, once ever;\n"
    "with --points it sets them (0: none). While they are set, 'leal card issue'\n"
    "gives no --welcome-points of its own.\n";

static const char tier_help[] =
    "usage: leal tier add --program ID --name NAME --threshold EUROS [--multiplier X]\n"
    "                     --reason TEXT [--operator NAME]\n"
    "       leal tier list --program ID [--version N]\n"
    "       leal tier remove N --program ID --reason TEXT\n"
    "       (each also takes --db PATH and --json)\n"
    "Tiers are numbered 1.. by threshold: whole euros spent over the window the card\n"
    "carries (four months); a tier's points multiplier (default 1) applies to the base\n"
    "rate. The tier is recomputed on every tap, up and down. Rewards asking for a tier\n"
    "follow it when tiers are added; a tier a reward asks for cannot be removed.\n";

static const char reward_help[] =
    "usage: leal reward add --program ID --name NAME --kind product|voucher|percent|cashback\n"
    "                       --cost POINTS --value V [--min-tier N] [--id N]\n"
    "                       --reason TEXT [--operator NAME]\n"
    "       leal reward list --program ID [--version N]\n"
    "       leal reward show REWARD --program ID [--version N]\n"
    "       leal reward remove REWARD --program ID --reason TEXT\n"
    "       (each also takes --db PATH and --json)\n"
    "The catalogue: --value is the product id the till hands over (product), euros off\n"
    "(voucher), a percentage off the sale like 10 or 12,5 (percent), or euros the ledger\n"
    "holds until the desk loads them on the card (cashback).\n"
    "       leal reward redeem --program ID --reward NAME|ID (--card ID | --account ID)\n"
    "                          --request KEY   (at the host: 'leal reward redeem --help')\n"
    "       leal reward honour CODE   (a reward redeemed from the portal, given at the desk)\n";

static const char stamp_help[] =
    "usage: leal stamp add --program ID --name NAME --per sale|item --goal N --reward ID\n"
    "                      [--category NAME] [--min-spend EUR] --reason TEXT [--operator NAME]\n"
    "       leal stamp list --program ID [--version N]\n"
    "       leal stamp remove N --program ID --reason TEXT\n"
    "       (each also takes --db PATH and --json)\n"
    "Up to four stamp cards, numbered 1..4 (the card's stamp counters): a stamp per sale\n"
    "or per item (of --category, a name from 'leal sale category add', or any), and at\n"
    "--goal stamps the catalogue's --reward.\n"
    "Only the last stamp card can be removed.\n";

static const char bono_help[] =
    "usage: leal bono add --program ID --name NAME --sessions N --price EUR\n"
    "                     [--valid-days N] [--id N] --reason TEXT [--operator NAME]\n"
    "       leal bono list --program ID [--version N]\n"
    "       leal bono show BONO --program ID [--version N]\n"
    "       leal bono remove BONO --program ID --reason TEXT\n"
    "       (each also takes --db PATH and --json)\n"
    "A bono is a prepaid bundle of --sessions sessions of a service (10 massages),\n"
    "sold at the desk for --price, one session used per tap, valid --valid-days days\n"
    "from the sale (default: no end).\n"
    "       leal bono sell|use --kind NAME|ID ...   (at the desk: 'leal bono sell --help')\n"
    "       leal bono expire --program ID --operator NAME [--today YYYY-MM-DD]\n"
    "                        (bonos past their last day: deferred euros to breakage)\n";

/* Options a subcommand other than add takes. */
static int only_options(const struct rc *c, const char *const *allowed)
{
    for (size_t k = 0; k < c->n; k++) {
        bool ok = c->o[k].val == NULL;
        for (const char *const *a = allowed; !ok && *a; a++)
            ok = strcmp(c->o[k].name, *a) == 0;
        if (!ok)
            return cli_usage("--%s is not an option of 'leal %s %s'", c->o[k].name, c->cmd, c->sub);
    }
    return 0;
}

/* Checks everything but add's values, before the ledger is opened. */
static int common_args(struct rc *c, const char *subs)
{
    static const char *const reading[] = {"program", "version", "db", "json", NULL};
    static const char *const changing[] = {"program", "reason", "operator", "on",
                                           "db",      "json",   NULL};
    static const char *const welcome[] = {"program", "points", "reason", "operator",
                                          "db",      "json",   NULL};
    const char *p = opt(c, "program");
    char key[16];
    bool change, takes_arg;
    int rc;
    snprintf(key, sizeof key, " %s ", c->sub ? c->sub : "");
    if (c->sub == NULL || strstr(subs, key) == NULL)
        return cli_usage("leal %s: expected one of:%s", c->cmd, subs);
    change = strcmp(c->sub, "add") == 0 || strcmp(c->sub, "end") == 0 ||
             strcmp(c->sub, "remove") == 0 ||
             (strcmp(c->sub, "welcome") == 0 && opt(c, "points") != NULL);
    takes_arg =
        strcmp(c->sub, "show") == 0 || strcmp(c->sub, "end") == 0 || strcmp(c->sub, "remove") == 0;
    if (takes_arg != (c->arg != NULL))
        return cli_usage(takes_arg ? "leal %s %s needs the %s's id or number"
                                   : "leal %s %s takes no argument%s",
                         c->cmd, c->sub, takes_arg ? c->cmd : "");
    if (strcmp(c->sub, "add") != 0 &&
        (rc = only_options(c, change && strcmp(c->sub, "welcome") == 0 ? welcome
                              : change                                 ? changing
                                                                       : reading)) != 0)
        return rc;
    if (p == NULL || lcli_id(p, &c->program) != LEAL_OK || c->program > 4294967295LL)
        return cli_usage("leal %s %s needs --program ID", c->cmd, c->sub);
    if (change && (opt(c, "reason") == NULL || opt(c, "reason")[0] == '\0'))
        return cli_usage("leal %s %s needs --reason TEXT: why the rules change", c->cmd, c->sub);
    if (c->arg) {
        char *end;
        unsigned long long x = strtoull(c->arg, &end, 10);
        if (c->arg[0] < '0' || c->arg[0] > '9' || *end || x < 1 || x > UINT32_MAX)
            return cli_usage("leal %s %s: '%s' is not a %s id or number", c->cmd, c->sub, c->arg,
                             c->cmd);
        c->target = (uint32_t)x;
    }
    return get_uint(c, "version", UINT32_MAX, &c->version);
}

/* end's --on: the rule's last day (default today, UTC). */
static int end_day(struct rc *c)
{
    if (opt(c, "on") == NULL) {
        c->end_day = (uint32_t)(time(NULL) / DAY_SECONDS);
        return 0;
    }
    return get_day(c, "on", &c->end_day);
}

/* One of the five commands: its name, help, subcommands and what its changes do. */
struct rules_cmd {
    const char *name;
    const char *help;
    const char *subs;
    int (*from_opts)(struct rc *c);
    leal_err (*add)(struct ledger_rules *r, void *ctx);
    leal_err (*remove)(struct ledger_rules *r, void *ctx); /* rule: end */
};

static int rules_command(const struct rules_cmd *d, struct lcli_opt *o, size_t n, int argc,
                         char **argv)
{
    static struct rc c;
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    int rc;
    memset(&c, 0, sizeof c);
    c.cmd = d->name;
    c.o = o;
    c.n = n;
    if ((rc = lcli_parse(argc, argv, o, n, pos, &npos)) != 0)
        return rc;
    if (opt(&c, "help")) {
        fputs(d->help, stdout);
        fputs(rules_common_help, stdout);
        return CLI_EXIT_OK;
    }
    c.sub = npos >= 1 ? pos[0] : NULL;
    c.arg = npos >= 2 ? pos[1] : NULL;
    if (npos > 2)
        return cli_usage("unexpected argument '%s'", pos[2]);
    if ((rc = common_args(&c, d->subs)) != 0)
        return rc;
    if (strcmp(c.sub, "end") == 0)
        return (rc = end_day(&c)) != 0 ? rc : run_change(&c, d->remove);
    if (strcmp(c.sub, "remove") == 0)
        return run_change(&c, d->remove);
    if (strcmp(c.sub, "add") == 0)
        return (rc = d->from_opts(&c)) != 0 ? rc : run_change(&c, d->add);
    if (strcmp(c.sub, "welcome") == 0 && opt(&c, "points"))
        return (rc = get_uint(&c, "points", RULES_MAX_BONUS, &c.made)) != 0
                   ? rc
                   : run_change(&c, edit_welcome);
    return run_read(&c);
}

/* The options every command takes, then its own. */
#define COMMON_OPTS                                                                                \
    {"program", 0, 0}, {"version", 0, 0}, {"reason", 0, 0}, {"operator", 0, 0}, {"db", 0, 0},      \
        {"json", 1, 0},                                                                            \
    {                                                                                              \
        "help", 1, 0                                                                               \
    }

int cmd_rule(int argc, char **argv)
{
    static const struct rules_cmd d = {
        "rule",         rule_help,     " add list show end history welcome ",
        rule_from_opts, edit_rule_add, edit_rule_end};
    struct lcli_opt o[] = {COMMON_OPTS,          {"id", 0, 0},        {"name", 0, 0},
                           {"multiplier", 0, 0}, {"bonus", 0, 0},     {"best", 1, 0},
                           {"stack", 1, 0},      {"from", 0, 0},      {"to", 0, 0},
                           {"days", 0, 0},       {"time", 0, 0},      {"stores", 0, 0},
                           {"categories", 0, 0}, {"min-spend", 0, 0}, {"cap-sale", 0, 0},
                           {"cap-day", 0, 0},    {"on", 0, 0},        {"points", 0, 0}};
    return rules_command(&d, o, N(o), argc, argv);
}

int cmd_tier(int argc, char **argv)
{
    static const struct rules_cmd d = {"tier",         tier_help,     " add list remove ",
                                       tier_from_opts, edit_tier_add, edit_tier_remove};
    struct lcli_opt o[] = {COMMON_OPTS, {"name", 0, 0}, {"threshold", 0, 0}, {"multiplier", 0, 0}};
    return rules_command(&d, o, N(o), argc, argv);
}

int cmd_reward(int argc, char **argv)
{
    static const struct rules_cmd d = {"reward",         reward_help,     " add list show remove ",
                                       reward_from_opts, edit_reward_add, edit_reward_remove};
    struct lcli_opt o[] = {COMMON_OPTS,    {"id", 0, 0},    {"name", 0, 0},    {"kind", 0, 0},
                           {"cost", 0, 0}, {"value", 0, 0}, {"min-tier", 0, 0}};
    /* Redeeming one is the host's, against the ledger (cmd_reward.c). */
    if (argc >= 2 && strcmp(argv[1], "redeem") == 0)
        return reward_redeem(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "honour") == 0)
        return reward_honour(argc - 1, argv + 1);
    return rules_command(&d, o, N(o), argc, argv);
}

int cmd_stamp(int argc, char **argv)
{
    static const struct rules_cmd d = {"stamp",         stamp_help,     " add list remove ",
                                       stamp_from_opts, edit_stamp_add, edit_stamp_remove};
    struct lcli_opt o[] = {COMMON_OPTS,      {"name", 0, 0},     {"per", 0, 0},      {"goal", 0, 0},
                           {"reward", 0, 0}, {"category", 0, 0}, {"min-spend", 0, 0}};
    return rules_command(&d, o, N(o), argc, argv);
}

int cmd_bono(int argc, char **argv)
{
    static const struct rules_cmd d = {"bono",         bono_help,     " add list show remove ",
                                       bono_from_opts, edit_bono_add, edit_bono_remove};
    struct lcli_opt o[] = {COMMON_OPTS,        {"id", 0, 0},    {"name", 0, 0},
                           {"sessions", 0, 0}, {"price", 0, 0}, {"valid-days", 0, 0}};
    /* Selling and using one is the desk's, on a card (cmd_bono.c). */
    if (argc >= 2 && (strcmp(argv[1], "sell") == 0 || strcmp(argv[1], "use") == 0))
        return bono_desk(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "expire") == 0)
        return bono_expire(argc - 1, argv + 1);
    return rules_command(&d, o, N(o), argc, argv);
}
