/* cmd_user.c - `leal user`: the back office's users (host/ledger/ledger_user.h):
 * add, passwd, disable, enable, list. Passwords come from --password-file
 * (its first line), LEAL_USER_PASSPHRASE or a prompt, never argv; they are
 * hashed with Argon2id (host/web/web_auth.h). Every change is written to
 * the audit log with the system user as its actor. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/keys/passphrase.h"
#include "host/ledger/ledger_user.h"
#include "host/mail/mail.h"
#include "host/web/web_auth.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char user_help[] =
    "usage: leal user add NAME --role admin|manager|staff [--store ID[,ID...]]\n"
    "                 [--password-file F] [--lang en|es] [--email ADDR] [--db PATH] [--json]\n"
    "       leal user set NAME [--lang en|es] [--email ADDR|''] [--db PATH]\n"
    "       leal user role NAME --role admin|manager|staff [--store ID[,ID...]] [--db PATH]\n"
    "       leal user passwd NAME [--password-file F] [--db PATH]\n"
    "       leal user disable NAME [--db PATH]\n"
    "       leal user enable NAME [--db PATH]\n"
    "       leal user list [--db PATH] [--json]\n"
    "Users of the back office ('leal serve'). An admin may do everything; a manager\n"
    "or staff member works with the customers of their stores' programs (--store).\n"
    "The password (10 to 128 characters) is read from --password-file (its first\n"
    "line), else LEAL_USER_PASSPHRASE, else asked twice on the terminal; it is kept\n"
    "as an Argon2id hash (t=2, m=19 MiB, p=1). passwd and disable end the user's\n"
    "sessions. Every change goes to the audit log.\n"
    "--lang is the back office's language: en (English) or es (Spanish). Without it\n"
    "a user of a program created with --locale es gets Spanish (an admin: when every\n"
    "program is Spanish), else English. 'set --lang' ends the user's sessions.\n"
    "--email is where a reset link goes when the user forgot their password (the\n"
    "sign-in page's 'Forgot your password?'); '' removes it. Without one, no reset.\n"
    "role gives the user a new role and stores (an admin has none) in one\n"
    "transaction that ends their sessions; the audit log keeps both.\n";

static const char *actor(void)
{
    static char name[80];
    const char *u = getenv("USER");
    snprintf(name, sizeof name, "cli:%s", u && u[0] ? u : "leal");
    return name;
}

static int parse_stores(const char *s, struct ledger_user *u)
{
    char *end;
    u->nstores = 0;
    while (s && *s) {
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 1 || u->nstores == LEDGER_USER_STORES || (*end && *end != ','))
            return cli_usage("bad --store '%s': store ids, separated by commas (at most %d)", s,
                             LEDGER_USER_STORES);
        u->stores[u->nstores++] = (int64_t)v;
        s = *end ? end + 1 : end;
    }
    return 0;
}

/* A new password's hash from the file, the variable or the terminal. */
static int password_hash(const char *file, char *hash, size_t cap)
{
    struct passphrase p;
    leal_err err = passphrase_get(file, "LEAL_USER_PASSPHRASE", "user password", true, &p);
    if (err != LEAL_OK)
        return cli_passphrase_fail(err, file, "--password-file", "LEAL_USER_PASSPHRASE",
                                   "user password");
    err = web_auth_hash(p.text, hash, cap);
    passphrase_clear(&p);
    if (err != LEAL_OK)
        return cli_fail(err, "the password");
    return 0;
}

/* 0 when addr is an e-mail address (or "", none), else the usage error. */
static int email_ok(const char *addr)
{
    if (addr[0] && (strlen(addr) >= LEDGER_USER_EMAIL || mail_address_check(addr) != LEAL_OK))
        return cli_usage("--email '%s' is not an e-mail address (name@example.com)", addr);
    return 0;
}

static int audit(struct ledger *l, const char *action, int64_t id, const char *after)
{
    char object[64];
    struct ledger_audit_line a = {0, actor(), action, object, NULL, after};
    leal_err err;
    snprintf(object, sizeof object, "user %lld", (long long)id);
    if ((err = ledger_audit_add(l, &a)) != LEAL_OK)
        return lcli_fail(l, err, "the audit log");
    return 0;
}

int user_create(struct ledger *l, struct ledger_user *u, const char *password_file)
{
    char *after;
    json_t *j;
    int64_t id;
    leal_err err;
    int rc;
    if ((rc = password_hash(password_file, u->pass_hash, sizeof u->pass_hash)) != 0)
        return rc;
    if ((err = ledger_user_add(l, u, &id)) != LEAL_OK) {
        if (err == LEAL_E_WEB_USER_EXISTS || err == LEAL_E_WEB_ROLE || err == LEAL_E_UNKNOWN_ID)
            return cli_error(err, CLI_EXIT_USAGE, "user '%s': %s: %s", u->name, ledger_errmsg(l),
                             leal_strerror(err));
        return lcli_fail(l, err, "the user");
    }
    u->id = id;
    j = json_pack("{s:s,s:s,s:[]}", "name", u->name, "role", ledger_role_name(u->role), "stores");
    for (int i = 0; j && i < u->nstores; i++)
        json_array_append_new(json_object_get(j, "stores"), json_integer(u->stores[i]));
    after = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    rc = audit(l, "user.add", id, after);
    free(after);
    return rc;
}

static int user_add(int argc, char **argv, const char *name)
{
    struct lcli_opt o[] = {{"role", false, NULL},          {"store", false, NULL},
                           {"password-file", false, NULL}, {"db", false, NULL},
                           {"json", true, NULL},           {"lang", false, NULL},
                           {"email", false, NULL}};
    struct ledger_user u;
    struct ledger *l = NULL;
    size_t npos = 0;
    int rc = lcli_parse(argc, argv, o, N(o), NULL, &npos);
    if (rc != 0)
        return rc;
    memset(&u, 0, sizeof u);
    if (strlen(name) >= sizeof u.name)
        return cli_usage("a user name has at most %zu characters", sizeof u.name - 1);
    snprintf(u.name, sizeof u.name, "%s", name);
    if (ledger_role_parse(o[0].val, &u.role) != LEAL_OK)
        return cli_usage("leal user add needs --role admin, manager or staff");
    if ((rc = parse_stores(o[1].val, &u)) != 0)
        return rc;
    if (o[5].val && strcmp(o[5].val, "en") != 0 && strcmp(o[5].val, "es") != 0)
        return cli_usage("--lang is en or es, not '%s'", o[5].val);
    snprintf(u.lang, sizeof u.lang, "%s", o[5].val ? o[5].val : "");
    if (o[6].val && (rc = email_ok(o[6].val)) != 0)
        return rc;
    snprintf(u.email, sizeof u.email, "%s", o[6].val ? o[6].val : "");
    if ((rc = lcli_open(o[3].val, &l)) != 0)
        return rc;
    if ((rc = user_create(l, &u, o[2].val)) == 0) {
        leal_err err = ledger_user_get(l, u.id, &u); /* the language it was given */
        if (err != LEAL_OK) {
            rc = lcli_fail(l, err, "the user");
        } else if (o[4].val) {
            printf("{\"id\":%lld,\"name\":", (long long)u.id);
            cli_json_string(stdout, u.name);
            printf(",\"role\":\"%s\",\"lang\":\"%s\"}\n", ledger_role_name(u.role), u.lang);
        } else {
            printf("user %lld '%s' added (%s, %s)\n", (long long)u.id, u.name,
                   ledger_role_name(u.role), u.lang);
        }
    }
    ledger_close(l);
    return rc;
}

/* The user's reset address, with its audit line (before and after). */
static int set_email(struct ledger *l, const struct ledger_user *u, const char *email)
{
    json_t *was = json_pack("{s:s}", "email", u->email), *now = json_pack("{s:s}", "email", email);
    char *before = was ? json_dumps(was, JSON_COMPACT) : NULL;
    char *after = now ? json_dumps(now, JSON_COMPACT) : NULL;
    char object[64];
    struct ledger_audit_line a = {0, actor(), "user.email", object, before, after};
    leal_err err;
    int rc = 0;
    json_decref(was);
    json_decref(now);
    snprintf(object, sizeof object, "user %lld", (long long)u->id);
    if ((err = ledger_user_set_email(l, u->id, email)) != LEAL_OK)
        rc = lcli_fail(l, err, "the user");
    else if ((err = ledger_audit_add(l, &a)) != LEAL_OK)
        rc = lcli_fail(l, err, "the audit log");
    else if (email[0])
        printf("user '%s': e-mail %s\n", u->name, email);
    else
        printf("user '%s': no e-mail (no reset by e-mail)\n", u->name);
    free(before);
    free(after);
    return rc;
}

/* passwd, disable, enable, set, role: one user by name. */
static int user_change(int argc, char **argv, const char *sub, const char *name)
{
    struct lcli_opt o[] = {{"password-file", false, NULL}, {"db", false, NULL},
                           {"lang", false, NULL},          {"role", false, NULL},
                           {"store", false, NULL},         {"email", false, NULL}};
    struct ledger_user to;
    struct ledger_user u;
    struct ledger *l = NULL;
    size_t npos = 0;
    leal_err err;
    int rc = lcli_parse(argc, argv, o, N(o), NULL, &npos);
    if (rc != 0)
        return rc;
    if (strcmp(sub, "set") == 0 && o[2].val && strcmp(o[2].val, "en") != 0 &&
        strcmp(o[2].val, "es") != 0)
        return cli_usage("leal user set NAME needs --lang en or es");
    if (strcmp(sub, "set") == 0 && o[2].val == NULL && o[5].val == NULL)
        return cli_usage("leal user set NAME needs --lang en|es or --email ADDR");
    if (strcmp(sub, "set") == 0 && o[5].val && (rc = email_ok(o[5].val)) != 0)
        return rc;
    memset(&to, 0, sizeof to);
    if (strcmp(sub, "role") == 0 && (ledger_role_parse(o[3].val, &to.role) != LEAL_OK ||
                                     (o[4].val && (rc = parse_stores(o[4].val, &to)) != 0)))
        return rc ? rc : cli_usage("leal user role NAME needs --role admin, manager or staff");
    if ((rc = lcli_open(o[1].val, &l)) != 0)
        return rc;
    if ((err = ledger_user_by_name(l, name, &u)) != LEAL_OK) {
        rc = err == LEAL_E_WEB_NO_USER
                 ? cli_error(err, CLI_EXIT_USAGE, "user '%s': %s", name, leal_strerror(err))
                 : lcli_fail(l, err, "the user");
    } else if (strcmp(sub, "passwd") == 0) {
        if ((rc = password_hash(o[0].val, u.pass_hash, sizeof u.pass_hash)) == 0) {
            if ((err = ledger_user_set_password(l, u.id, u.pass_hash)) != LEAL_OK)
                rc = lcli_fail(l, err, "the user");
            else if ((rc = audit(l, "user.passwd", u.id, NULL)) == 0)
                printf("user '%s': new password set; their sessions ended\n", u.name);
        }
    } else if (strcmp(sub, "role") == 0) {
        if ((err = ledger_user_set_role(l, u.id, &to, 0, actor())) == LEAL_E_WEB_ROLE ||
            err == LEAL_E_UNKNOWN_ID)
            rc = cli_error(err, CLI_EXIT_USAGE, "user '%s': %s: %s", u.name, ledger_errmsg(l),
                           leal_strerror(err));
        else if (err != LEAL_OK)
            rc = lcli_fail(l, err, "the user");
        else
            printf("user '%s' is now %s; their sessions ended\n", u.name,
                   ledger_role_name(to.role));
    } else if (strcmp(sub, "set") == 0) {
        char after[32];
        if (o[2].val) {
            snprintf(after, sizeof after, "{\"lang\":\"%s\"}", o[2].val);
            if ((err = ledger_user_set_lang(l, u.id, o[2].val)) != LEAL_OK)
                rc = lcli_fail(l, err, "the user");
            else if ((rc = audit(l, "user.lang", u.id, after)) == 0)
                printf("user '%s': language %s; their sessions ended\n", u.name, o[2].val);
        }
        if (rc == 0 && o[5].val)
            rc = set_email(l, &u, o[5].val);
    } else {
        bool off = strcmp(sub, "disable") == 0;
        if ((err = ledger_user_set_disabled(l, u.id, off)) != LEAL_OK)
            rc = lcli_fail(l, err, "the user");
        else if ((rc = audit(l, off ? "user.disable" : "user.enable", u.id,
                             off ? "{\"disabled\":true}" : "{\"disabled\":false}")) == 0)
            printf("user '%s' %s\n", u.name, off ? "disabled; their sessions ended" : "enabled");
    }
    ledger_close(l);
    return rc;
}

struct listing {
    bool json;
    int n;
};

static int list_one(void *ctx, const struct ledger_user *u)
{
    struct listing *li = ctx;
    if (li->json) {
        printf("%s{\"id\":%lld,\"name\":", li->n ? "," : "", (long long)u->id);
        cli_json_string(stdout, u->name);
        printf(",\"role\":\"%s\",\"lang\":\"%s\",\"email\":", ledger_role_name(u->role), u->lang);
        cli_json_string(stdout, u->email);
        printf(",\"disabled\":%s,\"stores\":[", u->disabled ? "true" : "false");
        for (int i = 0; i < u->nstores; i++)
            printf("%s%lld", i ? "," : "", (long long)u->stores[i]);
        printf("]}");
    } else {
        printf("%-4lld %-24s %-8s %s%s", (long long)u->id, u->name, ledger_role_name(u->role),
               u->lang, u->nstores ? " stores" : "");
        for (int i = 0; i < u->nstores; i++)
            printf("%s%lld", i ? "," : " ", (long long)u->stores[i]);
        printf("%s%s%s\n", u->email[0] ? " " : "", u->email, u->disabled ? " (disabled)" : "");
    }
    li->n++;
    return 0;
}

static int user_list(int argc, char **argv)
{
    struct lcli_opt o[] = {{"db", false, NULL}, {"json", true, NULL}};
    struct listing li = {false, 0};
    struct ledger *l = NULL;
    size_t npos = 0;
    leal_err err;
    int rc = lcli_parse(argc, argv, o, N(o), NULL, &npos);
    if (rc != 0)
        return rc;
    li.json = o[1].val != NULL;
    if ((rc = lcli_open(o[0].val, &l)) != 0)
        return rc;
    if (li.json)
        printf("[");
    if ((err = ledger_user_each(l, list_one, &li)) != LEAL_OK)
        rc = lcli_fail(l, err, "the users");
    else if (li.json)
        printf("]\n");
    else if (li.n == 0)
        printf("no users yet; add the first admin with 'leal user add NAME --role admin'\n");
    ledger_close(l);
    return rc;
}

int cmd_user(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            sub = "--help";
    if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(user_help, sub ? stdout : stderr);
        return sub ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if (strcmp(sub, "list") == 0)
        return user_list(argc - 1, argv + 1);
    if (argc < 3 || argv[2][0] == '-')
        return cli_usage("leal user %s needs a user NAME (see 'leal user --help')", sub);
    if (strcmp(sub, "add") == 0)
        return user_add(argc - 2, argv + 2, argv[2]);
    if (strcmp(sub, "passwd") == 0 || strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0 ||
        strcmp(sub, "set") == 0 || strcmp(sub, "role") == 0)
        return user_change(argc - 2, argv + 2, sub, argv[2]);
    return cli_usage("unknown 'leal user %s' (add, passwd, disable, enable, set, role, list)", sub);
}
