/* cmd_messages.c - `leal messages template|run|log|unsubscribe|lang`: messages to
 * customers (issue 17) through the program's mail settings (cmd_mail.c).
 * The idempotence lives in the ledger (host/ledger/ledger_messages.h): a
 * run records every message first, then claims each one just before its
 * SMTP exchange, so a run killed at any point and run again never sends a
 * message twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "host/file.h"
#include "host/ledger/ledger_campaign.h"
#include "host/ledger/ledger_mail.h"
#include "host/ledger/ledger_messages.h"
#include "host/mail/mail.h"
#include "host/mail/mail_render.h"
#include "host/mail/msg_gateway.h"
#include "ledger_cli.h"
#include "messages_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char messages_help[] =
    "usage: leal messages template --program ID --occasion OCCASION [--days N] [--lang en|es]\n"
    "                              [--bonus POINTS]\n"
    "                              --subject TEXT --text FILE [--html FILE] [--db PATH]\n"
    "       leal messages template --program ID --occasion OCCASION|campaign:NAME\n"
    "                              --channel sms|whatsapp --text FILE [--lang en|es]\n"
    "       leal messages run --program ID [--db PATH]\n"
    "       leal messages log --customer ID [--db PATH]\n"
    "       leal messages unsubscribe TOKEN [--db PATH]\n"
    "       leal messages lang --customer ID --lang en|es [--db PATH]\n"
    "       leal messages web --program ID --url URL [--db PATH]\n"
    "       leal messages campaign add|preview|test|send NAME --program ID ... (see --help)\n"
    "       leal messages gateway set|show --program ID ... (SMS and WhatsApp; see --help)\n"
    "       leal messages bounces [--program ID] [--json] FILE... (mbox or .eml; see --help)\n"
    "template stores the program's message for an occasion in a language (default: the\n"
    "program's locale): a subject and a plain-text body with an optional HTML one, with the\n"
    "variables {{name}}, {{points}}, {{tier}}, {{store}}, {{program}}, {{expiring_points}},\n"
    "{{expiry_date}}, {{bonus}}, {{next_tier_missing}} (euros still missing for the next\n"
    "tier) and {{unsubscribe}} (the message's unsubscribe token). OCCASION is\n"
    "birthday (birthday today), inactive (no visit for --days N days), expiring (points\n"
    "expiring within --days N days), welcome (enrolled within the last --days N days),\n"
    "tier_up or tier_down (the customer's tier rose or fell since the last run);\n"
    "--days is the program's, for every language, and is needed the first time. --bonus\n"
    "(birthday only; 0 removes it) gives that many points on the birthday, once a year, as\n"
    "a host post that reaches the customer's card at its next tap; {{bonus}} shows it.\n"
    "With --channel, the occasion's (or campaign:NAME's) own text for SMS or WhatsApp in a\n"
    "language, which that channel then carries instead of the e-mail's plain text.\n"
    "run sends the messages due today (in the zone of the program's first store) for every\n"
    "occasion with a template, to the customers with an e-mail address and e-mail consent,\n"
    "in the customer's language (else the program's locale), once per customer and period\n"
    "(birthday; inactivity spell, re-armed by a visit; expiry day; enrolment) even if runs\n"
    "overlap or are killed; a message the server could not take is retried by later runs.\n"
    "A message to an address that bounced for good ('leal messages bounces') is not sent:\n"
    "its row is skipped, saying why, and run counts it as 'to a bounced address'.\n"
    "log prints a customer's messages; unsubscribe withdraws the e-mail consent of the\n"
    "customer whose message carried TOKEN; lang sets the language of a customer's messages.\n"
    "web sets the address customers reach the program's 'leal serve' at (https://HOST, no\n"
    "trailing /; '' removes it): each message then carries the link URL/unsubscribe/TOKEN\n"
    "(also {{unsubscribe_url}}), whose page withdraws the e-mail consent.\n";

/* The occasions `run` goes through, in this order. */
static const char *const msg_occasions[] = {"birthday", "inactive", "expiring", "welcome"};

/* template --channel sms|whatsapp: an occasion's or campaign's own text for
 * that channel. */
static int messages_channel_text(struct ledger *l, const struct lcli_opt *o, int64_t program)
{
    const char *ch = o[12].val, *occ = o[1].val;
    struct ledger_campaign c;
    struct msg_sms_length len = {0, 0, 0};
    char *text = NULL;
    int rc = CLI_EXIT_OK;
    leal_err err;
    if (strcmp(ch, "sms") != 0 && strcmp(ch, "whatsapp") != 0)
        return cli_usage("--channel is sms or whatsapp, not '%s'", ch);
    if (!occ || !o[3].val || o[2].val || o[4].val || o[9].val || o[10].val)
        return cli_usage("leal messages template --channel takes --occasion and --text (and "
                         "--lang), no --subject, --html, --days or --bonus");
    if (o[8].val && strcmp(o[8].val, "en") != 0 && strcmp(o[8].val, "es") != 0)
        return cli_usage("--lang is en or es, not '%s'", o[8].val);
    if (strncmp(occ, LEDGER_CAMPAIGN_PREFIX, strlen(LEDGER_CAMPAIGN_PREFIX)) == 0) {
        if ((err = ledger_campaign_get(l, program, occ + strlen(LEDGER_CAMPAIGN_PREFIX), &c)) !=
            LEAL_OK)
            return cli_error(err, CLI_EXIT_USAGE, "%s: %s", occ, leal_strerror(err));
    } else if (!ledger_message_occasion_ok(occ)) {
        return cli_usage("the occasion is birthday, inactive, expiring, welcome, tier_up, "
                         "tier_down or campaign:NAME, not '%s'",
                         occ);
    }
    if ((text = malloc(LEDGER_MSG_BODY)) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "template");
    if ((rc = msg_channel_text_fill(o[3].val, text, LEDGER_MSG_BODY)) == CLI_EXIT_OK) {
        struct ledger_message_channel_key k = {program, occ, o[8].val ? o[8].val : "", ch};
        if ((err = ledger_message_channel_text_set(l, &k, text)) != LEAL_OK)
            rc = lcli_fail(l, err, "channel text");
        else {
            msg_sms_length(text, &len);
            printf("program %lld: %s %s text stored%s%s%s", (long long)program, occ, ch,
                   o[8].val ? " (" : "", o[8].val ? o[8].val : "", o[8].val ? ")" : "");
            /* Before its variables are filled in and its link added. */
            if (strcmp(ch, "sms") == 0)
                printf(", %zu %s characters before variables and link", len.units,
                       len.ucs2 ? "UCS-2" : "GSM-7");
            printf("\n");
        }
    }
    free(text);
    return rc;
}

static int messages_template(struct ledger *l, const struct lcli_opt *o, int64_t program)
{
    struct ledger_message_template *t = NULL;
    int rc;
    if (o[12].val)
        return messages_channel_text(l, o, program);
    if ((t = calloc(1, sizeof *t)) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "template");
    t->program_id = program;
    if (!o[1].val || !o[2].val || !o[3].val) {
        free(t);
        return cli_usage("leal messages template needs --occasion, --subject and --text");
    }
    if (!ledger_message_occasion_ok(o[1].val)) {
        free(t);
        return cli_usage("the occasion is birthday, inactive, expiring, welcome, tier_up or "
                         "tier_down, not '%s'",
                         o[1].val);
    }
    if (o[9].val && (!ledger_message_occasion_days(o[1].val) ||
                     lcli_id(o[9].val, &t->days) != LEAL_OK || t->days > 3650)) {
        free(t);
        return cli_usage("--days is 1 to 3650, for inactive, expiring and welcome");
    }
    if (o[8].val && strcmp(o[8].val, "en") != 0 && strcmp(o[8].val, "es") != 0) {
        free(t);
        return cli_usage("--lang is en or es, not '%s'", o[8].val);
    }
    if (o[10].val &&
        (strcmp(o[1].val, "birthday") != 0 || lcli_amount("PTS", o[10].val, &t->bonus) != LEAL_OK ||
         t->bonus < 0 || t->bonus > 100000)) {
        free(t);
        return cli_usage("--bonus is 0 to 100000 points, for birthday (0: none)");
    }
    t->bonus_set = o[10].val != NULL;
    snprintf(t->occasion, sizeof t->occasion, "%s", o[1].val);
    snprintf(t->lang, sizeof t->lang, "%s", o[8].val ? o[8].val : "");
    if ((rc = msg_template_fill(t, o[2].val, o[3].val, o[4].val)) == 0) {
        leal_err err = ledger_message_template_set(l, t);
        if (err != LEAL_OK)
            rc = lcli_fail(l, err, "message template");
        else if (t->lang[0])
            printf("program %lld: %s template (%s) stored\n", (long long)program, t->occasion,
                   t->lang);
        else
            printf("program %lld: %s template stored\n", (long long)program, t->occasion);
    }
    free(t);
    return rc;
}

/* Records the rows of every occasion with a template: today's birthdays,
 * and the periods of the occasions that count days. *templates: how many
 * occasions have one. */
static leal_err messages_record(struct ledger *l, int64_t program, const char *tz, int64_t now,
                                int64_t *added, int *templates)
{
    char local[64], day[11];
    leal_err err = LEAL_OK;
    lcli_time_str_tz(now, tz, local, sizeof local);
    snprintf(day, sizeof day, "%.10s", local);
    *added = 0;
    *templates = 0;
    for (size_t i = 0; i < N(msg_occasions) && err == LEAL_OK; i++) {
        int64_t n = 0, k = 0;
        const char *occ = msg_occasions[i];
        if ((err = ledger_message_template_count(l, program, occ, &n)) != LEAL_OK || n == 0)
            continue;
        (*templates)++;
        if (strcmp(occ, "birthday") == 0) {
            /* The bonus first, so the message's {{points}} include it. */
            int64_t posted = 0, points = 0;
            if ((err = ledger_message_birthday_bonus(l, program, day, &posted, &points)) ==
                    LEAL_OK &&
                posted)
                printf("program %lld, %s: birthday bonus of %lld points posted to %lld "
                       "customer(s)\n",
                       (long long)program, day, (long long)points, (long long)posted);
            if (err == LEAL_OK)
                err = ledger_message_record_birthdays(l, program, day, &k);
        } else
            err = ledger_message_record(l, program, occ, tz, now, &k);
        *added += k;
    }
    /* Tier changes: a scan only when a tier template exists. */
    for (size_t i = 0; i < 2 && err == LEAL_OK; i++) {
        int64_t n = 0;
        if ((err = ledger_message_template_count(l, program, i ? "tier_down" : "tier_up", &n)) ==
                LEAL_OK &&
            n > 0)
            (*templates)++;
    }
    if (err == LEAL_OK) {
        int64_t k = 0;
        err = ledger_message_record_tiers(l, program, day, now, &k);
        *added += k;
    }
    return err;
}

static int messages_run(struct ledger *l, int64_t program)
{
    struct msg_run *r = calloc(1, sizeof *r);
    int64_t added = 0, unknown = 0;
    int templates = 0;
    int rc;
    leal_err err;
    if (!r)
        return cli_fail(LEAL_E_NO_MEMORY, "messages");
    if ((rc = msg_run_open(l, program, r)) != CLI_EXIT_OK) {
        free(r);
        return rc;
    }
    if ((err = messages_record(l, program, r->tz, r->now, &added, &templates)) != LEAL_OK ||
        (err = ledger_message_expire_sending(l, program, r->now, &unknown)) != LEAL_OK)
        rc = lcli_fail(l, err, "messages");
    else if (templates == 0)
        rc = cli_fail(LEAL_E_NOT_FOUND,
                      "program %lld has no message template ('leal messages template')",
                      (long long)program);
    if (rc != CLI_EXIT_OK) {
        msg_run_close(r);
        free(r);
        return rc;
    }
    /* Test hook: a pause between recording and sending, so a test can kill
     * the run there with SIGKILL (tests/integration/messages.sh). */
    msg_pause_hook(added);
    /* Every occasion's due rows, campaigns' retries included. */
    if ((err = msg_run_due(r, NULL)) != LEAL_OK)
        rc = lcli_fail(l, err, "messages");
    else {
        printf("program %lld, %s (%s): %lld recorded, %lld sent, %lld failed (retried later), "
               "%lld refused, %lld skipped, %lld unknown",
               (long long)program, r->day, r->tz, (long long)added, (long long)r->sent,
               (long long)r->failed, (long long)r->refused, (long long)r->skipped,
               (long long)unknown);
        /* Rows not sent because the address bounced for good (said only when
         * there are some, so the line stays as it was without bounces). */
        if (r->bounced)
            printf(", %lld to a bounced address", (long long)r->bounced);
        printf("\n");
        if (r->failed || r->refused)
            rc = CLI_EXIT_FAIL;
    }
    msg_run_close(r);
    free(r);
    return rc;
}

static int messages_web(struct ledger *l, int64_t program, const char *url)
{
    leal_err err = ledger_message_web_set(l, program, url);
    if (err != LEAL_OK)
        return lcli_fail(l, err, "web address");
    if (url[0])
        printf("program %lld: messages carry the link %s/unsubscribe/TOKEN\n", (long long)program,
               url);
    else
        printf("program %lld: messages say to reply to unsubscribe\n", (long long)program);
    return CLI_EXIT_OK;
}

static int log_cb(void *ctx, const struct ledger_message_send *m)
{
    char at[32];
    (void)ctx;
    lcli_time_str(m->updated_at, at, sizeof at);
    /* E-mail rows as before; a gateway's name their channel. */
    bool email = m->channel[0] == '\0' || strcmp(m->channel, "email") == 0;
    printf("%lld %s %s %s attempts %lld at %s token %s%s%s%s%s\n", (long long)m->id, m->occasion,
           m->day, m->state, (long long)m->attempts, at, m->token, email ? "" : " by ",
           email ? "" : m->channel, m->error[0] ? ": " : "", m->error);
    return 0;
}

int cmd_messages(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"program", false, NULL}, {"occasion", false, NULL}, {"subject", false, NULL},
        {"text", false, NULL},    {"html", false, NULL},     {"customer", false, NULL},
        {"db", false, NULL},      {"help", true, NULL},      {"lang", false, NULL},
        {"days", false, NULL},    {"bonus", false, NULL},    {"url", false, NULL},
        {"channel", false, NULL}};
    const char *pos[1];
    size_t npos = 1;
    int64_t id = 0;
    struct ledger *l = NULL;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(messages_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "campaign") == 0)
        return cmd_messages_campaign(argc - 1, argv + 1);
    if (strcmp(cmd, "gateway") == 0)
        return cmd_messages_gateway(argc - 1, argv + 1);
    if (strcmp(cmd, "bounces") == 0)
        return cmd_messages_bounces(argc - 1, argv + 1);
    const char *const cmds[] = {"template", "run", "log", "unsubscribe", "lang", "web"};
    size_t c = 0;
    while (c < N(cmds) && strcmp(cmd, cmds[c]) != 0)
        c++;
    if (c == N(cmds))
        return cli_usage("leal messages has template, run, log, unsubscribe, lang, web, "
                         "campaign, gateway and bounces, not '%s'",
                         cmd);
    int rc = lcli_parse(argc - 1, argv + 1, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (o[7].val) {
        fputs(messages_help, stdout);
        return CLI_EXIT_OK;
    }
    if (c == 3 && npos != 1)
        return cli_usage("leal messages unsubscribe needs the TOKEN");
    if (c != 3 && npos != 0)
        return cli_usage("leal messages %s takes no argument '%s'", cmd, pos[0]);
    const char *idopt = c >= 2 && c != 5 ? o[5].val : o[0].val;
    if (c != 3 && (!idopt || lcli_id(idopt, &id) != LEAL_OK))
        return cli_usage("leal messages %s needs %s ID", cmd,
                         c >= 2 && c != 5 ? "--customer" : "--program");
    if (c == 5 && !o[11].val)
        return cli_usage("leal messages web needs --url URL (or --url '' to remove it)");
    if (c == 4 && (!o[8].val || (strcmp(o[8].val, "en") != 0 && strcmp(o[8].val, "es") != 0)))
        return cli_usage("leal messages lang needs --lang en or --lang es");
    if ((rc = lcli_open(o[6].val, &l)) != 0)
        return rc;
    if (c == 0)
        rc = messages_template(l, o, id);
    else if (c == 1)
        rc = messages_run(l, id);
    else if (c == 5)
        rc = messages_web(l, id, o[11].val);
    else if (c == 4) {
        leal_err err = ledger_message_lang_set(l, id, o[8].val);
        if (err != LEAL_OK)
            rc = lcli_fail(l, err, "customer");
        else
            printf("customer %lld: messages in %s\n", (long long)id, o[8].val);
    } else if (c == 2) {
        leal_err err = ledger_message_each(l, id, log_cb, NULL);
        if (err != LEAL_OK)
            rc = lcli_fail(l, err, "message log");
    } else {
        int64_t who = 0;
        leal_err err = ledger_message_unsubscribe(l, pos[0], &who);
        if (err == LEAL_E_MESSAGE_TOKEN)
            rc = cli_fail(err, "'%.40s'", pos[0]);
        else if (err != LEAL_OK)
            rc = lcli_fail(l, err, "unsubscribe");
        else
            printf("customer %lld: e-mail consent withdrawn (unsubscribe link)\n", (long long)who);
    }
    ledger_close(l);
    return rc;
}
