/* cmd_serve.c - `leal serve`: the back office in a browser (host/web/web_server.h)
 * until SIGINT or SIGTERM; --init-admin makes the first admin first. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/ledger/ledger_user.h"
#include "host/web/web_api.h"
#include "host/web/web_portal.h"
#include "host/web/web_server.h"
#include "host/file.h"
#include "host/sync/sync_net.h"
#include "keys/hosted/provider_openssl.h"
#include "ledger_cli.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <time.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char serve_help[] =
    "usage: leal serve [--listen ADDRESS:PORT] [--db PATH] [--tls-cert F --tls-key F]\n"
    "                  [--init-admin NAME [--password-file F]] [--public-url URL]\n"
    "                  [--terminals DIR [--keystore PATH] [--passphrase-file F]]\n"
    "                  [--qr-certifier SOCKET] [--packages DIR]\n"
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
    "without it, the listening address.\n"
    "--qr-certifier SOCKET: the portal's spending-code page (/portal/spend/) enrols the\n"
    "customer's phone (a key made in the browser) through the QR certifier listening on\n"
    "SOCKET ('leal qr certifier --socket SOCKET', which alone holds the qr key); without\n"
    "it, or while none answers, the page says enrolment is unavailable.\n"
    "--terminals DIR (with --tls-cert) takes terminal syncs over HTTPS at /terminal/\n"
    "('leal-terminal sync --server URL'): journal uploads go through 'leal sync import',\n"
    "each terminal gets DIR/terminal-ID.lpkg ('leal terminal package'). A terminal proves\n"
    "itself with a MAC of its journal key over a fresh server challenge, so the server\n"
    "opens the keystore (its journal masters only; passphrase as for 'leal sync import')\n"
    "and prints the line 'terminal pin sha256//...', the certificate's public key that\n"
    "terminals pin (leal-terminal sync --pin).\n"
    "--packages DIR: where 'leal terminal package -o' puts the terminals' packages\n"
    "(DIR/terminal-ID.lpkg; --terminals DIR says it too): the terminals page shows\n"
    "each one's version and validity, expired or expiring within a day, read from\n"
    "the file (the ledger keeps no validity; the signature is not checked there:\n"
    "'leal package show' does). Without it, the page says the validity is unknown.\n";

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

/* libcurl's pin of the certificate in cert_path: "sha256//" and the base64
 * of the SHA-256 of its SubjectPublicKeyInfo (DER). */
static int cert_pin(const char *cert_path, char *out, size_t cap)
{
    FILE *f = fopen(cert_path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL, digest[SHA256_DIGEST_LENGTH], b64[64];
    int n = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;
    if (f)
        fclose(f);
    X509_free(x);
    if (n <= 0)
        return cli_fail(LEAL_E_FORMAT, "--tls-cert %s: no certificate to pin", cert_path);
    SHA256(der, (size_t)n, digest);
    OPENSSL_free(der);
    EVP_EncodeBlock(b64, digest, sizeof digest);
    snprintf(out, cap, "sha256//%s", (const char *)b64);
    return 0;
}

/* host/web's hook into host/sync/sync_net.h. */
static void terminal_route(void *ctx, const struct web_hook_request *rq, struct web_hook_answer *a)
{
    struct sync_net_answer na;
    const struct sync_net_request nr = {rq->method,
                                        rq->url,
                                        rq->header(rq->conn, "X-Leal-Terminal"),
                                        rq->header(rq->conn, "X-Leal-Auth"),
                                        rq->body,
                                        rq->len,
                                        (uint64_t)time(NULL)};
    sync_net_handle(ctx, &nr, &na);
    *a = (struct web_hook_answer){na.status, na.type, na.body, na.len};
}

/* Serves until SIGINT or SIGTERM (blocked first, so the server's thread never takes them). */
static int serve(struct ledger *l, const struct web_server_options *wo, const char *pin)
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
        if (pin)
            printf("terminal pin %s\n", pin);
        fflush(stdout);
    }
    sigwait(&stop, &sig);
    web_server_stop(s);
    printf("stopped (signal %d)\n", sig);
    return CLI_EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
    struct lcli_opt o[] = {{"listen", false, NULL},          {"db", false, NULL},
                           {"tls-cert", false, NULL},        {"tls-key", false, NULL},
                           {"init-admin", false, NULL},      {"password-file", false, NULL},
                           {"routes", true, NULL},           {"public-url", false, NULL},
                           {"terminals", false, NULL},       {"keystore", false, NULL},
                           {"passphrase-file", false, NULL}, {"qr-certifier", false, NULL},
                           {"packages", false, NULL}};
    struct web_server_options wo = {"127.0.0.1:8080", NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    struct keyset *ks = NULL;
    struct sync_net *net = NULL;
    struct web_hook hook;
    char pin[128];
    leal_err err;
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
    if (o[11].val && strlen(o[11].val) >= 108)
        return cli_usage("--qr-certifier '%s': a socket's path is at most 107 bytes", o[11].val);
    wo.qr_certifier = o[11].val;
    wo.packages_dir = o[12].val ? o[12].val : o[8].val;
    if (wo.packages_dir && strlen(wo.packages_dir) >= 4000)
        return cli_usage("--packages '%.40s...': a directory's path is at most 3999 bytes",
                         wo.packages_dir);
    wo.tls_cert = o[2].val;
    wo.tls_key = o[3].val;
    if ((rc = lcli_open(o[1].val, &l)) != 0)
        return rc;
    /* The dashboard's reports read the same ledger through their own
     * connection (--db, else LEAL_DB, else the default file, as lcli_open). */
    if (o[1].val)
        wo.db_path = o[1].val;
    else if (getenv("LEAL_DB") && getenv("LEAL_DB")[0])
        wo.db_path = getenv("LEAL_DB");
    else if (file_default_path("ledger.db", db_path, sizeof db_path) == LEAL_OK)
        wo.db_path = db_path;
    if (o[8].val && o[2].val == NULL)
        rc =
            cli_usage("--terminals needs --tls-cert and --tls-key: terminals sync over HTTPS only");
    else if (o[8].val && (rc = cert_pin(o[2].val, pin, sizeof pin)) == 0 &&
             (rc = sync_cli_journal_keys(o, N(o), &ks)) == 0) {
        const struct sync_keys k = {crypto_openssl(), ks};
        if ((err = sync_net_open(l, &k, o[8].val, &net)) != LEAL_OK)
            rc = cli_fail(err, "--terminals %s", o[8].val);
        hook = (struct web_hook){"/terminal/", 64u << 20, terminal_route, net};
        wo.hook = &hook;
    }
    if (rc == 0 && (o[4].val == NULL || (rc = init_admin(l, o[4].val, o[5].val)) == 0))
        rc = serve(l, &wo, o[8].val ? pin : NULL);
    sync_net_close(net);
    sync_cli_free_keys(ks);
    ledger_close(l);
    return rc;
}
