/* cmd_serve.c - `leal serve`: the back office in a browser (host/web/web_server.h)
 * until SIGINT or SIGTERM; --init-admin makes the first admin first. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger_user.h"
#include "host/web/web_api.h"
#include "host/web/web_portal.h"
#include "host/web/web_server.h"
#include "host/file.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char serve_help[] =
    "usage: leal serve [--listen ADDRESS:PORT] [--db PATH] [--tls-cert F --tls-key F]\n"
    "                  [--init-admin NAME [--password-file F]] [--public-url URL]\n"
    "       leal serve --routes\n"
    "Serves the back office: pages at / and a JSON API under /api/, on\n"
    "127.0.0.1:8080 unless --listen says otherwise (port 0: any free port; the\n"
    "line 'listening on URL' names it). The server reads and writes the ledger and\n"
    "holds no card key. With --tls-cert and --tls-key (PEM) it speaks HTTPS and the\n"
    "session cookie is Secure; behind a reverse proxy, keep it on loopback.\n"
    "--init-admin NAME adds the first admin (password as for 'leal user add') before\n"
    "serving. --routes prints the API's role table: method, path, roles, and\n"
    "whether a call changes state (needs the CSRF token); the portal's routes\n"
    "(/portal/api/) follow, with the role 'customer' (a portal session, never a\n"
    "staff one) or 'public'. Stops on SIGINT or SIGTERM.\n"
    "Pages: dashboard, customers, cards, promotions (with the simulation), terminals\n"
    "and settlement, users and the audit log.\n"
    "The customer portal is at /portal/: a customer asks for a sign-in link by\n"
    "e-mail (sent with the program's 'leal mail' settings; it works once, within 15\n"
    "minutes) and sees their balances, cards, tier, rewards, history and static QR\n"
    "code (the text 'leal qr issue' kept). --public-url URL is the address\n"
    "customers reach the server at (https://club.example.com), put in the links;\n"
    "without it, the listening address.\n";

static void print_routes(void)
{
    for (int i = 0; i < web_nroutes; i++) {
        const struct web_route *r = &web_routes[i];
        char roles[64] = "";
        for (int k = LEDGER_ROLE_ADMIN; k <= LEDGER_ROLE_STAFF; k++)
            if (r->roles & WEB_ROLE_BIT(k)) {
                size_t n = strlen(roles);
                snprintf(roles + n, sizeof roles - n, "%s%s", n ? "," : "",
                         ledger_role_name((enum ledger_role)k));
            }
        printf("%s %s %s %s\n", r->method, r->path, roles[0] ? roles : "public",
               r->changes ? "change" : "read");
    }
    /* The portal's: a customer's session (the leal_portal cookie), no staff role. */
    for (int i = 0; i < web_portal_nroutes; i++) {
        const struct web_portal_route *r = &web_portal_routes[i];
        printf("%s %s %s %s\n", r->method, r->path, r->session ? "customer" : "public",
               r->changes ? "change" : "read");
    }
}

static int init_admin(struct ledger *l, const char *name, const char *password_file)
{
    struct ledger_user u;
    int rc;
    memset(&u, 0, sizeof u);
    if (strlen(name) >= sizeof u.name)
        return cli_usage("a user name has at most %zu characters", sizeof u.name - 1);
    snprintf(u.name, sizeof u.name, "%s", name);
    u.role = LEDGER_ROLE_ADMIN;
    if ((rc = user_create(l, &u, password_file)) == 0)
        printf("admin %lld '%s' added\n", (long long)u.id, u.name);
    return rc;
}

/* Serves until SIGINT or SIGTERM (blocked first, so the server's thread never takes them). */
static int serve(struct ledger *l, const struct web_server_options *wo)
{
    struct web_server *s = NULL;
    sigset_t stop;
    unsigned port;
    int sig = 0;
    leal_err err;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if ((err = web_server_start(l, wo, &s, &port)) != LEAL_OK)
        return cli_error(err, err == LEAL_E_WEB_LISTEN ? CLI_EXIT_USAGE : CLI_EXIT_FAIL,
                         "leal serve on %s: %s", wo->listen, leal_strerror(err));
    {
        const char *colon = strrchr(wo->listen, ':');
        printf("listening on %s://%.*s:%u\n", wo->tls_cert ? "https" : "http",
               (int)(colon - wo->listen), wo->listen, port);
        fflush(stdout);
    }
    sigwait(&stop, &sig);
    web_server_stop(s);
    printf("stopped (signal %d)\n", sig);
    return CLI_EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
    struct lcli_opt o[] = {{"listen", false, NULL},     {"db", false, NULL},
                           {"tls-cert", false, NULL},   {"tls-key", false, NULL},
                           {"init-admin", false, NULL}, {"password-file", false, NULL},
                           {"routes", true, NULL},      {"public-url", false, NULL}};
    struct web_server_options wo = {"127.0.0.1:8080", NULL, NULL, NULL, NULL};
    struct ledger *l = NULL;
    char db_path[4096];
    size_t npos = 0;
    int rc;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(serve_help, stdout);
        return CLI_EXIT_OK;
    }
    if ((rc = lcli_parse(argc, argv, o, N(o), NULL, &npos)) != 0)
        return rc;
    if (o[6].val) {
        print_routes();
        return CLI_EXIT_OK;
    }
    if (o[0].val)
        wo.listen = o[0].val;
    if (strrchr(wo.listen, ':') == NULL)
        return cli_usage("--listen takes ADDRESS:PORT, like 127.0.0.1:8080");
    if ((o[2].val == NULL) != (o[3].val == NULL))
        return cli_usage("--tls-cert and --tls-key go together");
    if (o[7].val && strncmp(o[7].val, "http://", 7) != 0 && strncmp(o[7].val, "https://", 8) != 0)
        return cli_usage("--public-url takes http://HOST[:PORT] or https://HOST[:PORT]");
    if (o[7].val && o[7].val[strlen(o[7].val) - 1] == '/')
        return cli_usage("--public-url takes the address without a trailing /");
    wo.public_url = o[7].val;
    wo.tls_cert = o[2].val;
    wo.tls_key = o[3].val;
    if ((rc = lcli_open(o[1].val, &l)) != 0)
        return rc;
    /* The dashboard's reports read the same file through their own connection. */
    if (o[1].val)
        wo.db_path = o[1].val;
    else if (file_default_path("ledger.db", db_path, sizeof db_path) == LEAL_OK)
        wo.db_path = db_path;
    if (o[4].val == NULL || (rc = init_admin(l, o[4].val, o[5].val)) == 0)
        rc = serve(l, &wo);
    ledger_close(l);
    return rc;
}
