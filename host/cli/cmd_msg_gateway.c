/* cmd_msg_gateway.c - `leal messages gateway set|show`: a program's SMS or
 * WhatsApp gateway, an outbound webhook (host/mail/msg_gateway.h) that
 * `leal messages run` sends those channels' messages through. The secret
 * stays in its file: the ledger keeps its path, and nothing prints it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "host/ledger/ledger_messages.h"
#include "host/mail/mail_render.h"
#include "host/mail/msg_gateway.h"
#include "ledger_cli.h"
#include "messages_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char gateway_help[] =
    "usage: leal messages gateway set --program ID --channel sms|whatsapp --url URL\n"
    "                                 --body FILE [--method POST|PUT] [--format json|form]\n"
    "                                 [--headers FILE] [--secret-file PATH] [--db PATH]\n"
    "       leal messages gateway set --program ID --channel sms|whatsapp --url ''\n"
    "       leal messages gateway show --program ID [--db PATH]\n"
    "set stores the program's gateway for SMS or WhatsApp: each message is one request to URL\n"
    "(http:// or https://) with the body FILE's template, whose variables {{phone}}, {{text}}\n"
    "(the message's text and its unsubscribe link), {{name}}, {{channel}} and\n"
    "{{unsubscribe_url}} are escaped for --format (json, the default: inside a JSON string;\n"
    "form: application/x-www-form-urlencoded), with the --headers FILE's lines ('Name: value';\n"
    "{{secret}} in them is the first line of --secret-file, a file of yours with mode 0600,\n"
    "read at each send and never printed). A 2xx answer is sent; a 4xx other than 408 and 429\n"
    "refuses the message for good (its reason in 'leal messages log'); any other is retried\n"
    "by later runs (after a 429's or 503's Retry-After). The program needs the web\n"
    "unsubscribe link first ('leal messages web'). --url '' removes the gateway. show prints\n"
    "the program's gateways (the secret file's path, never its content).\n";

/* The body template's variables (messages_run.c's msg_deliver_gateway). */
static const char *const gateway_vars[] = {"phone", "text", "name", "channel", "unsubscribe_url"};

/* The file at path as text (at most cap - 1 bytes, no NUL) into out. */
static int read_text(const char *what, const char *path, char *out, size_t cap)
{
    uint8_t *data = NULL;
    size_t len = 0;
    leal_err err = file_read(path, cap - 1, &data, &len);
    if (err != LEAL_OK)
        return cli_fail(err, "%s %s (at most %zu bytes)", what, path, cap - 1);
    memcpy(out, data, len);
    out[len] = '\0';
    free(data);
    if (strlen(out) != len)
        return cli_fail(LEAL_E_TEXT, "%s %s holds a NUL byte", what, path);
    return CLI_EXIT_OK;
}

/* http:// or https://, a host, no space, quote or control byte. */
static int url_ok(const char *u)
{
    size_t head = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
    if (head == 0 || strlen(u) <= head || strlen(u) >= LEDGER_MSG_GATEWAY_URL)
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>\"'\\", *p))
            return 0;
    return 1;
}

/* The secret file's absolute path (runs start from cron's directory),
 * checked to be one a send can read. */
static int secret_path(const char *path, char *out, size_t cap)
{
    char abs[PATH_MAX];
    if (!realpath(path, abs) || strlen(abs) >= cap || msg_gateway_secret_check(abs) != LEAL_OK)
        return cli_fail(LEAL_E_GATEWAY_SECRET, "%s", path);
    memcpy(out, abs, strlen(abs) + 1);
    return CLI_EXIT_OK;
}

static int gateway_set(struct ledger *l, const struct lcli_opt *o, int64_t program)
{
    struct ledger_message_gateway *g = calloc(1, sizeof *g);
    char web[LEDGER_MSG_WEB_URL];
    int rc = CLI_EXIT_OK;
    leal_err err;
    if (!g)
        return cli_fail(LEAL_E_NO_MEMORY, "gateway");
    g->program_id = program;
    snprintf(g->channel, sizeof g->channel, "%s", o[1].val);
    snprintf(g->url, sizeof g->url, "%s", o[2].val);
    snprintf(g->method, sizeof g->method, "%s", o[4].val ? o[4].val : "POST");
    snprintf(g->format, sizeof g->format, "%s", o[5].val ? o[5].val : "json");
    if (o[2].val[0]) {
        if (!url_ok(o[2].val))
            rc = cli_usage("--url is http(s)://HOST[:PORT][/PATH], without spaces or quotes, "
                           "up to %d bytes",
                           LEDGER_MSG_GATEWAY_URL - 1);
        else if (!o[3].val)
            rc = cli_usage("leal messages gateway set needs --body FILE (or --url '' to remove "
                           "the gateway)");
        else if (strcmp(g->method, "POST") != 0 && strcmp(g->method, "PUT") != 0)
            rc = cli_usage("--method is POST or PUT, not '%s'", o[4].val);
        else if (strcmp(g->format, "json") != 0 && strcmp(g->format, "form") != 0)
            rc = cli_usage("--format is json or form, not '%s'", o[5].val);
        if (rc == CLI_EXIT_OK)
            rc = read_text("--body", o[3].val, g->body, sizeof g->body);
        if (rc == CLI_EXIT_OK && o[6].val &&
            (rc = read_text("--headers", o[6].val, g->headers, sizeof g->headers)) == 0) {
            size_t n = strlen(g->headers);
            while (n && (g->headers[n - 1] == '\n' || g->headers[n - 1] == '\r'))
                g->headers[--n] = '\0';
            if (msg_gateway_headers_check(g->headers) != LEAL_OK)
                rc = cli_usage("--headers %s: each line is 'Name: value' (no other variable "
                               "than {{secret}}, no control characters)",
                               o[6].val);
        }
        if (rc == CLI_EXIT_OK) {
            struct mail_var v[N(gateway_vars)];
            char *out = NULL;
            size_t where = 0;
            for (size_t i = 0; i < N(gateway_vars); i++)
                v[i] = (struct mail_var){gateway_vars[i], ""};
            if (mail_render(g->body, v, N(gateway_vars), false, &out, &where) != LEAL_OK)
                rc = cli_usage("--body %s at byte %zu: the variables are {{phone}}, {{text}}, "
                               "{{name}}, {{channel}} and {{unsubscribe_url}}",
                               o[3].val, where);
            free(out);
        }
        if (rc == CLI_EXIT_OK && (strstr(g->headers, "{{secret}}") != NULL) != (o[7].val != NULL))
            rc = cli_usage(o[7].val ? "--secret-file needs a header line with {{secret}}"
                                    : "a header line with {{secret}} needs --secret-file PATH");
        if (rc == CLI_EXIT_OK && o[7].val)
            rc = secret_path(o[7].val, g->secret_file, sizeof g->secret_file);
        if (rc == CLI_EXIT_OK) {
            if ((err = ledger_message_web_get(l, program, web, sizeof web)) != LEAL_OK)
                rc = lcli_fail(l, err, "web address");
            else if (!web[0])
                rc = cli_fail(LEAL_E_GATEWAY_CONFIG,
                              "program %lld has no web unsubscribe link, which every SMS and "
                              "WhatsApp carries: set it first with 'leal messages web "
                              "--program %lld --url URL'",
                              (long long)program, (long long)program);
        }
    }
    if (rc == CLI_EXIT_OK) {
        if ((err = ledger_message_gateway_set(l, g)) != LEAL_OK)
            rc = lcli_fail(l, err, "gateway");
        else if (g->url[0])
            printf("program %lld: %s through %s %s\n", (long long)program, g->channel, g->method,
                   g->url);
        else
            printf("program %lld: no %s gateway\n", (long long)program, g->channel);
    }
    free(g);
    return rc;
}

static int gateway_show(struct ledger *l, int64_t program)
{
    struct ledger_message_gateway *g = calloc(1, sizeof *g);
    int shown = 0, rc = CLI_EXIT_OK;
    if (!g)
        return cli_fail(LEAL_E_NO_MEMORY, "gateway");
    for (size_t i = 1; i < LEDGER_MSG_NCHANNELS && rc == CLI_EXIT_OK; i++) {
        leal_err err = ledger_message_gateway_get(l, program, ledger_message_channels[i], g);
        if (err == LEAL_E_GATEWAY_CONFIG)
            continue;
        if (err != LEAL_OK) {
            rc = lcli_fail(l, err, "gateway");
            break;
        }
        /* The header lines as stored: {{secret}} stands for the file's. */
        printf("%s: %s %s (%s)\nsecret file: %s\nheaders:\n%s%sbody:\n%s%s",
               ledger_message_channels[i], g->method, g->url, g->format,
               g->secret_file[0] ? g->secret_file : "(none)", g->headers, g->headers[0] ? "\n" : "",
               g->body, g->body[0] && g->body[strlen(g->body) - 1] == '\n' ? "" : "\n");
        shown++;
    }
    if (rc == CLI_EXIT_OK && !shown)
        printf("program %lld: no gateway\n", (long long)program);
    free(g);
    return rc;
}

int cmd_messages_gateway(int argc, char **argv)
{
    struct lcli_opt o[] = {{"program", false, NULL}, {"channel", false, NULL},
                           {"url", false, NULL},     {"body", false, NULL},
                           {"method", false, NULL},  {"format", false, NULL},
                           {"headers", false, NULL}, {"secret-file", false, NULL},
                           {"db", false, NULL},      {"help", true, NULL}};
    const char *pos[1];
    size_t npos = 1;
    int64_t program = 0;
    struct ledger *l = NULL;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(gateway_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    bool set = strcmp(argv[1], "set") == 0;
    if (!set && strcmp(argv[1], "show") != 0)
        return cli_usage("leal messages gateway has set and show, not '%s'", argv[1]);
    int rc = lcli_parse(argc - 1, argv + 1, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (o[9].val) {
        fputs(gateway_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 0)
        return cli_usage("leal messages gateway %s takes no argument '%s'", argv[1], pos[0]);
    if (!o[0].val || lcli_id(o[0].val, &program) != LEAL_OK)
        return cli_usage("leal messages gateway %s needs --program ID", argv[1]);
    if (set && (!o[1].val || (strcmp(o[1].val, "sms") != 0 && strcmp(o[1].val, "whatsapp") != 0)))
        return cli_usage("leal messages gateway set needs --channel sms or --channel whatsapp");
    if (set && !o[2].val)
        return cli_usage("leal messages gateway set needs --url URL (or --url '' to remove it)");
    if (!set && (o[1].val || o[2].val || o[3].val || o[4].val || o[5].val || o[6].val || o[7].val))
        return cli_usage("leal messages gateway show takes only --program and --db");
    if ((rc = lcli_open(o[8].val, &l)) != 0)
        return rc;
    rc = set ? gateway_set(l, o, program) : gateway_show(l, program);
    ledger_close(l);
    return rc;
}
