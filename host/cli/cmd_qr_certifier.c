/* cmd_qr_certifier.c - `leal qr certifier`: the process that holds only a
 * program's `qr` key and certifies phones for `leal serve --qr-certifier`
 * (host/qr/qr_certifier_server.h: what it checks, what it cannot). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/desk/desk_keys.h"
#include "host/ledger/amount.h"
#include "host/qr/qr_certifier_server.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char certifier_help[] =
    "usage: leal qr certifier --socket PATH [--cap-tx EUR] [--cap-day EUR] [--refresh-days N]\n"
    "                         [--program ID] [--keystore PATH] [--passphrase-file FILE]\n"
    "Runs in the foreground until SIGTERM or SIGINT. Unlocks the keystore once, keeps\n"
    "only the program's current `qr` key (in locked memory) and certifies the phones the\n"
    "customer portal enrols: 'leal serve --qr-certifier PATH' sends it the customer's\n"
    "account and the phone's public key, it signs the certificate (caps per payment\n"
    "--cap-tx, default 20.00, per day --cap-day, default 50.00; the phone refreshes\n"
    "within --refresh-days, default 7, at most 31). The web process never holds a key.\n"
    "The socket is mode 0600 and answers only this user. One line per certificate.\n";

static void certified(void *ctx, const struct qr_certifier_request *rq, const struct qr_cert *c)
{
    char until[16];
    time_t t = (time_t)c->code.expires_day * (time_t)QR_SECONDS_PER_DAY;
    struct tm tm;
    (void)ctx;
    gmtime_r(&t, &tm);
    strftime(until, sizeof until, "%Y-%m-%d", &tm);
    printf("certified a phone: customer %llu, account %llu, virtual card %llu, refresh before "
           "%s\n",
           (unsigned long long)rq->customer_id, (unsigned long long)rq->account_id,
           (unsigned long long)c->code.virtual_card_id, until);
    fflush(stdout);
}

static int eur(const char *name, const char *v, uint32_t *cents)
{
    int64_t c;
    if (v == NULL)
        return 0;
    if (amount_parse(v, strlen(v), &c) != LEAL_OK || c < 1 || c > INT32_MAX)
        return cli_usage("--%s '%s': write euros like 20 or 12,50 (0,01 to 21474836.47)", name, v);
    *cents = (uint32_t)c;
    return 0;
}

static int options(const struct lcli_opt *o, size_t n, struct qr_certifier_config *cfg)
{
    const char *days = lcli_get(o, n, "refresh-days"), *prog = lcli_get(o, n, "program");
    int64_t d;
    int rc;
    cfg->socket_path = lcli_get(o, n, "socket");
    if (cfg->socket_path == NULL)
        return cli_usage("leal qr certifier needs --socket PATH");
    if (strlen(cfg->socket_path) >= 108)
        return cli_usage("--socket '%s': a socket's path is at most 107 bytes", cfg->socket_path);
    if ((rc = eur("cap-tx", lcli_get(o, n, "cap-tx"), &cfg->max_cap_tx_cents)) != 0 ||
        (rc = eur("cap-day", lcli_get(o, n, "cap-day"), &cfg->max_cap_day_cents)) != 0)
        return rc;
    if (cfg->max_cap_day_cents < cfg->max_cap_tx_cents)
        return cli_usage("--cap-day is below --cap-tx: a day's payments include each payment");
    if (days != NULL && (lcli_id(days, &d) != LEAL_OK || d > QR_CERTIFIER_MAX_REFRESH))
        return cli_usage("--refresh-days '%s': a whole number of days from 1 to 31", days);
    if (days != NULL)
        cfg->max_refresh_days = (uint8_t)d;
    if (prog != NULL && (lcli_id(prog, &d) != LEAL_OK || d > UINT32_MAX))
        return cli_usage("--program '%s': a program id", prog);
    if (prog != NULL)
        cfg->program_id = (uint32_t)d;
    return 0;
}

static int serve(const struct lcli_opt *o, size_t n, struct qr_certifier_config *cfg)
{
    const struct desk_key_request req = {.keystore_path = lcli_get(o, n, "keystore"),
                                         .passphrase_file = lcli_get(o, n, "passphrase-file"),
                                         .program_id = cfg->program_id,
                                         .roles = DESK_ROLE(KEY_ROLE_QR)};
    struct desk_keys dk = {0};
    struct qr_certifier_server *s = NULL;
    struct qr_certifier_status st;
    leal_err err = desk_keys_acquire(&req, &dk);
    if (err != LEAL_OK)
        return cli_desk_keys_fail(&dk, err, req.passphrase_file, cfg->program_id);
    cfg->program_id = dk.program_id;
    err = qr_certifier_server_open(cfg, dk.keys, &s);
    desk_keys_release(&dk);
    if (err == LEAL_E_EXISTS)
        return cli_error(err, CLI_EXIT_FAIL, "a certifier already answers on %s", cfg->socket_path);
    if (err != LEAL_OK)
        return cli_fail(err, "qr certifier on %s", cfg->socket_path);
    qr_certifier_server_status(s, &st);
    printf("qr certifier on %s: program %u, qr key version %u; caps %u.%02u per payment, "
           "%u.%02u per day, refresh within %u days\n",
           cfg->socket_path, st.program_id, st.key_version, st.max_cap_tx_cents / 100,
           st.max_cap_tx_cents % 100, st.max_cap_day_cents / 100, st.max_cap_day_cents % 100,
           st.max_refresh_days);
    fflush(stdout);
    err = qr_certifier_server_run(s);
    qr_certifier_server_close(s);
    if (err != LEAL_OK)
        return cli_fail(err, "qr certifier");
    printf("qr certifier stopped; its key is wiped\n");
    return CLI_EXIT_OK;
}

int cmd_qr_certifier(int argc, char **argv)
{
    struct lcli_opt o[] = {{"socket", 0, 0},          {"cap-tx", 0, 0},  {"cap-day", 0, 0},
                           {"refresh-days", 0, 0},    {"program", 0, 0}, {"keystore", 0, 0},
                           {"passphrase-file", 0, 0}, {"help", 1, 0}};
    struct qr_certifier_config cfg = {.max_cap_tx_cents = 2000,
                                      .max_cap_day_cents = 5000,
                                      .max_refresh_days = 7,
                                      .certified_cb = certified};
    const char *pos[LCLI_MAX_POS];
    size_t npos = LCLI_MAX_POS;
    int rc;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(certifier_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 0)
        return cli_usage("leal qr certifier takes no other argument ('%s')", pos[0]);
    if ((rc = options(o, N(o), &cfg)) != 0)
        return rc;
    return serve(o, N(o), &cfg);
}
