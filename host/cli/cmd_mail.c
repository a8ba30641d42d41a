/* cmd_mail.c - `leal mail set|show|test`: a program's SMTP settings
 * (host/ledger/ledger_mail.h) and a test message through them (host/mail). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "host/ledger/ledger_mail.h"
#include "host/mail/mail.h"
#include "host/mail/mail_ledger.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char mail_help[] =
    "usage: leal mail set --program ID --server HOST --from ADDRESS [--port N]\n"
    "                     [--tls starttls|tls|none] [--from-name NAME] [--credentials FILE]\n"
    "                     [--ca-file FILE] [--db PATH]\n"
    "       leal mail show --program ID [--db PATH]\n"
    "       leal mail test --program ID --to ADDRESS [--db PATH]\n"
    "set stores the program's SMTP settings (the default TLS is starttls: plain connect,\n"
    "then STARTTLS required; tls: TLS from the first byte; none: only for a relay on this\n"
    "machine, never with credentials). --credentials names a file of yours with mode 0600\n"
    "holding the user on its first line and the password on its second: the ledger keeps\n"
    "its path, never the password, and leal never prints or logs it. --ca-file adds a CA to\n"
    "trust (the server's certificate is always checked). show prints the settings; test\n"
    "sends a short plain-text and HTML message through them.\n";

static int mail_settings(struct ledger *l, const struct lcli_opt *o, int64_t program)
{
    struct ledger_mail m = {.program_id = program};
    const char *port = o[3].val, *tls = o[4].val ? o[4].val : "starttls";
    char *end = NULL;
    if (!o[1].val || !o[2].val)
        return cli_usage("leal mail set needs --server HOST and --from ADDRESS");
    if (mail_address_check(o[2].val) != LEAL_OK)
        return cli_error(LEAL_E_MAIL_ADDRESS, CLI_EXIT_USAGE, "--from '%s'", o[2].val);
    if (port) {
        long p = strtol(port, &end, 10);
        if (*port == '\0' || *end != '\0' || p < 1 || p > 65535)
            return cli_usage("--port is 1..65535, not '%s'", port);
        m.port = (int)p;
    }
    if (o[6].val && strcmp(tls, "none") == 0)
        return cli_fail(LEAL_E_MAIL_CONFIG, "credentials are never sent without TLS; use "
                                            "--tls starttls or tls");
    struct {
        char *dst;
        size_t cap;
        const char *src;
    } f[] = {{m.host, sizeof m.host, o[1].val},
             {m.tls, sizeof m.tls, tls},
             {m.from, sizeof m.from, o[2].val},
             {m.from_name, sizeof m.from_name, o[5].val},
             {m.credentials, sizeof m.credentials, o[6].val},
             {m.ca_file, sizeof m.ca_file, o[7].val}};
    for (size_t i = 0; i < N(f); i++)
        if (f[i].src && snprintf(f[i].dst, f[i].cap, "%s", f[i].src) >= (int)f[i].cap)
            return cli_usage("'%s' is too long", f[i].src);
    if (o[6].val) { /* refused now rather than at the first send */
        char user[MAIL_CREDENTIAL_MAX + 1], pass[MAIL_CREDENTIAL_MAX + 1];
        leal_err err = mail_credentials_read(o[6].val, user, pass);
        explicit_bzero(user, sizeof user);
        explicit_bzero(pass, sizeof pass);
        if (err != LEAL_OK)
            return cli_fail(err, "%s", o[6].val);
    }
    leal_err err = ledger_mail_set(l, &m);
    if (err != LEAL_OK)
        return lcli_fail(l, err, "mail settings");
    printf("program %lld: mail through %s (%s)\n", (long long)program, m.host, m.tls);
    return CLI_EXIT_OK;
}

/* The stored settings as host/mail's server (pointers into m). */
void mail_server_of(const struct ledger_mail *m, struct mail_server *srv)
{
    mail_server_from(m, srv);
}

static int mail_show_or_test(struct ledger *l, const char *cmd, const char *to, int64_t program)
{
    struct ledger_mail m;
    struct mail_server srv;
    char why[512];
    leal_err err = ledger_mail_get(l, program, &m);
    if (err == LEAL_E_NOT_FOUND)
        return cli_fail(err, "program %lld has no mail settings; set them with 'leal mail set'",
                        (long long)program);
    if (err != LEAL_OK)
        return lcli_fail(l, err, "mail settings");
    if (strcmp(cmd, "show") == 0) {
        printf("server: %s\nport: %d\ntls: %s\nfrom: %s\nfrom name: %s\ncredentials file: %s\n"
               "ca file: %s\n",
               m.host, m.port, m.tls, m.from, m.from_name, m.credentials[0] ? m.credentials : "-",
               m.ca_file[0] ? m.ca_file : "-");
        return CLI_EXIT_OK;
    }
    if (!to)
        return cli_usage("leal mail test needs --to ADDRESS");
    mail_server_of(&m, &srv);
    struct mail_message msg = {
        .to = to,
        .subject = "leal: test message",
        .text = "This is a test message from leal: this program's mail settings work.\n",
        .html = "<p>This is a test message from leal: this program's mail settings work.</p>\n",
    };
    err = mail_send(&srv, &msg, why, sizeof why);
    if (err != LEAL_OK)
        return cli_fail(err, "%s", why[0] ? why : to);
    printf("sent a test message to %s through %s\n", to, m.host);
    return CLI_EXIT_OK;
}

int cmd_mail(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"program", false, NULL},     {"server", false, NULL},  {"from", false, NULL},
        {"port", false, NULL},        {"tls", false, NULL},     {"from-name", false, NULL},
        {"credentials", false, NULL}, {"ca-file", false, NULL}, {"to", false, NULL},
        {"db", false, NULL},          {"help", true, NULL}};
    const char *pos[1];
    size_t npos = 0;
    int64_t program;
    struct ledger *l = NULL;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(mail_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "set") != 0 && strcmp(cmd, "show") != 0 && strcmp(cmd, "test") != 0)
        return cli_usage("leal mail has set, show and test, not '%s'", cmd);
    int rc = lcli_parse(argc - 1, argv + 1, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (o[10].val) {
        fputs(mail_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 0)
        return cli_usage("leal mail %s takes no argument '%s'", cmd, pos[0]);
    if (!o[0].val || lcli_id(o[0].val, &program) != LEAL_OK)
        return cli_usage("leal mail %s needs --program ID", cmd);
    if ((rc = lcli_open(o[9].val, &l)) != 0)
        return rc;
    rc = strcmp(cmd, "set") == 0 ? mail_settings(l, o, program)
                                 : mail_show_or_test(l, cmd, o[8].val, program);
    ledger_close(l);
    return rc;
}
