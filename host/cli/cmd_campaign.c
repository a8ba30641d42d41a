/* cmd_campaign.c - `leal messages campaign add|preview|test|send`: one-off
 * messages to the members of a saved segment (issue 17). The members are
 * those `leal segment count` counts (ledger_segment_members: the same query
 * in one read snapshot); each is recorded as a message_send row of the
 * campaign per channel that reaches them (e-mail: an address and e-mail
 * consent; SMS, WhatsApp: the program's gateway, a phone and that channel's
 * consent) before
 * anything is sent and sent by the same claim/finish path as `leal messages
 * run` (messages_cli.h), so a member gets a campaign once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/ledger/ledger_campaign.h"
#include "ledger_cli.h"
#include "messages_cli.h"
#include "host/grow.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char campaign_help[] =
    "usage: leal messages campaign add NAME --program ID --segment SEGMENT --subject TEXT\n"
    "                                  --text FILE [--html FILE] [--lang en|es] [--db PATH]\n"
    "       leal messages campaign preview NAME --program ID [--json] [--db PATH]\n"
    "       leal messages campaign test NAME --program ID --to ADDRESS [--customer ID]\n"
    "                                   [--db PATH]\n"
    "       leal messages campaign send NAME --program ID [--db PATH]\n"
    "add stores a one-off message to the members of a saved segment ('leal segment add'), in a\n"
    "language (default: the program's locale; add it again with another --lang for another\n"
    "language), with the variables of 'leal messages template'. preview counts the segment's\n"
    "members now (as 'leal segment count'), those with an e-mail address and e-mail consent,\n"
    "of them those the campaign was written to before, those a send skips because their\n"
    "address bounced for good ('leal messages bounces'), and so the e-mails a send would\n"
    "write. test renders the message for one of the members with an address and consent\n"
    "(--customer, else the first) and sends it to ADDRESS; nothing is recorded. send records\n"
    "a message for each\n"
    "member and channel that reaches them (e-mail; SMS and WhatsApp with the program's gateway\n"
    "('leal messages gateway'), a phone and that channel's consent) without one of this\n"
    "campaign yet, then sends them: each member\n"
    "gets a campaign once, even if sends overlap or are killed; a later send writes only to\n"
    "members who joined since; failures are retried by 'leal messages run'.\n";

struct camp_members {
    int64_t *ids;
    size_t n, cap;
    int64_t members;
    int64_t want;    /* test: this customer (0: the first reachable) */
    bool email_only; /* keep those an e-mail reaches (preview, test); else every member, whose
                        rows ledger_campaign_record makes per channel that reaches them */
    leal_err err;
};

/* Keeps the members (those an e-mail can reach: an address and e-mail
 * consent, when x->email_only). */
static int members_cb(void *ctx, const struct ledger_segment_member *m)
{
    struct camp_members *x = ctx;
    x->members++;
    if ((x->email_only && (!m->email_ok || m->email[0] == '\0')) ||
        (x->want && m->customer_id != x->want))
        return 0;
    if ((x->err = grow_room(&x->ids, &x->cap, x->n, sizeof *x->ids)) != LEAL_OK)
        return 1;
    x->ids[x->n++] = m->customer_id;
    return 0;
}

/* A refusal of what was asked (no such campaign or segment): exit 2. */
static int camp_fail(const struct ledger *l, leal_err err, const char *what)
{
    const char *d = ledger_errmsg(l);
    bool usage = err == LEAL_E_CAMPAIGN_UNKNOWN || err == LEAL_E_CAMPAIGN_SEGMENT ||
                 (err >= LEAL_E_SEGMENT_FILTER && err <= LEAL_E_SEGMENT_FIELD);
    return cli_error(err, usage ? CLI_EXIT_USAGE : cli_exit_code(err), "%s: %s%s%s", what,
                     d && d[0] ? d : "", d && d[0] ? ": " : "", leal_strerror(err));
}

/* The campaign's reachable members now, into x. */
static int camp_members(struct ledger *l, const struct ledger_campaign *c, int64_t now,
                        struct camp_members *x)
{
    struct ledger_segment s;
    leal_err err = ledger_segment_get(l, c->program_id, c->segment, &s);
    if (err == LEAL_OK)
        err = ledger_segment_members(l, &s, now, members_cb, x);
    if (err == LEAL_OK)
        err = x->err;
    return err == LEAL_OK ? CLI_EXIT_OK : camp_fail(l, err, "campaign's segment");
}

static int camp_add(struct ledger *l, int64_t program, const char *name, const struct lcli_opt *o)
{
    struct ledger_message_template *t = calloc(1, sizeof *t);
    char tz[72], store[LEDGER_TEXT], local[64], day[11];
    int rc;
    leal_err err;
    if (!t)
        return cli_fail(LEAL_E_NO_MEMORY, "campaign");
    snprintf(t->lang, sizeof t->lang, "%s", o[4].val ? o[4].val : "");
    if ((rc = msg_template_fill(t, o[2].val, o[3].val, o[5].val)) == 0) {
        /* The campaign's period is the day it was first stored, in the
         * program's zone: its sends' rows share it. */
        if ((err = ledger_message_zone(l, program, tz, sizeof tz, store, sizeof store)) ==
            LEAL_OK) {
            lcli_time_str_tz((int64_t)time(NULL), tz, local, sizeof local);
            snprintf(day, sizeof day, "%.10s", local);
            err = ledger_campaign_set(l, program, name, o[1].val, day, t);
        }
        if (err != LEAL_OK)
            rc = camp_fail(l, err, "campaign");
        else
            printf("program %lld: campaign %s to segment %s stored%s%s%s\n", (long long)program,
                   name, o[1].val, t->lang[0] ? " (" : "", t->lang, t->lang[0] ? ")" : "");
    }
    free(t);
    return rc;
}

/* What a send would do with the members x kept (an e-mail address and
 * consent): "before" had this campaign's e-mail already (a row that is not
 * due: sent, refused, waiting for its retry...); "bounced" would be skipped,
 * their address having bounced for good (the send's test, messages_run.c
 * msg_bounced: the customer's address now against the hard bounces); the
 * rest, "to_send", a send writes to (a new row, or a row due now). */
struct camp_preview {
    const struct ledger_campaign *c;
    int64_t now, before, bounced, to_send;
    bool row, due; /* the member's e-mail row of the campaign, and whether it is due */
};

static int preview_row_cb(void *ctx, const struct ledger_message_send *m)
{
    struct camp_preview *p = ctx;
    if (strcmp(m->occasion, p->c->occasion) != 0 || strcmp(m->day, p->c->day) != 0 ||
        (m->channel[0] && strcmp(m->channel, "email") != 0))
        return 0;
    p->row = true;
    p->due = strcmp(m->state, "pending") == 0 ||
             (strcmp(m->state, "failed") == 0 && m->next_at <= p->now);
    return 1;
}

static leal_err camp_count(struct ledger *l, const struct camp_members *x, struct camp_preview *p)
{
    struct ledger_customer cu;
    char status[10];
    int64_t at = 0;
    leal_err err = LEAL_OK;
    for (size_t i = 0; i < x->n && err == LEAL_OK; i++) {
        p->row = p->due = false;
        status[0] = '\0';
        if ((err = ledger_message_each(l, x->ids[i], preview_row_cb, p)) != LEAL_OK)
            break;
        if (p->row && !p->due) {
            p->before++;
            continue;
        }
        if ((err = ledger_customer_get(l, x->ids[i], &cu)) != LEAL_OK ||
            (err = ledger_message_bounced(l, x->ids[i], cu.email, status, &at)) != LEAL_OK)
            break;
        if (status[0])
            p->bounced++;
        else
            p->to_send++;
    }
    return err;
}

/* The segment's members now, those with an e-mail address and consent, and
 * of them those a send skips and those it writes to. */
static int camp_preview(struct ledger *l, const struct ledger_campaign *c, bool json)
{
    struct camp_members x = {.email_only = true};
    struct camp_preview p = {.c = c, .now = (int64_t)time(NULL)};
    leal_err err;
    int rc = camp_members(l, c, p.now, &x);
    if (rc == CLI_EXIT_OK && (err = camp_count(l, &x, &p)) != LEAL_OK)
        rc = lcli_fail(l, err, "campaign preview");
    if (rc == CLI_EXIT_OK && json) {
        printf("{\"campaign\":");
        cli_json_string(stdout, c->name);
        printf(",\"segment\":");
        cli_json_string(stdout, c->segment);
        printf(",\"members\":%lld,\"email\":%zu,\"before\":%lld,\"bounced\":%lld,"
               "\"to_send\":%lld}\n",
               (long long)x.members, x.n, (long long)p.before, (long long)p.bounced,
               (long long)p.to_send);
    } else if (rc == CLI_EXIT_OK)
        printf("campaign %s, segment %s: %lld members, %zu with an e-mail address and consent, "
               "%lld written to before, %lld skipped (the address bounced): %lld e-mails to "
               "send\n",
               c->name, c->segment, (long long)x.members, x.n, (long long)p.before,
               (long long)p.bounced, (long long)p.to_send);
    free(x.ids);
    return rc;
}

static int camp_test(struct ledger *l, const struct ledger_campaign *c, const char *to,
                     int64_t customer)
{
    struct camp_members x = {.want = customer, .email_only = true};
    struct msg_run *r = calloc(1, sizeof *r);
    struct msg_outcome out = {LEAL_OK, "", 0};
    leal_err err;
    int rc = r ? msg_run_open(l, c->program_id, r) : cli_fail(LEAL_E_NO_MEMORY, "campaign");
    if (rc == CLI_EXIT_OK && (rc = camp_members(l, c, r->now, &x)) == CLI_EXIT_OK && x.n == 0) {
        if (customer)
            rc = cli_error(LEAL_E_NOT_FOUND, CLI_EXIT_USAGE,
                           "customer %lld is not a member of segment %s with an e-mail address "
                           "and consent",
                           (long long)customer, c->segment);
        else
            rc = cli_error(LEAL_E_NOT_FOUND, CLI_EXIT_USAGE,
                           "segment %s has no member with an e-mail address and consent",
                           c->segment);
    }
    if (rc == CLI_EXIT_OK) {
        /* A row that is never stored: its token unsubscribes no one. */
        struct ledger_message_send m = {.customer_id = x.ids[0]};
        snprintf(m.occasion, sizeof m.occasion, "%s", c->occasion);
        snprintf(m.day, sizeof m.day, "%s", c->day);
        memset(m.token, '0', LEDGER_MSG_TOKEN - 1);
        if ((err = msg_send_test(r, &m, to, &out)) != LEAL_OK)
            rc = lcli_fail(l, err, "campaign test");
        else if (out.sent != LEAL_OK)
            rc = cli_fail(out.sent, "%s", out.why[0] ? out.why : to);
        else
            printf("campaign %s: a test for customer %lld sent to %s; nothing recorded\n", c->name,
                   (long long)x.ids[0], to);
    }
    if (r)
        msg_run_close(r);
    free(r);
    free(x.ids);
    return rc;
}

static int camp_send(struct ledger *l, const struct ledger_campaign *c)
{
    struct camp_members x = {0};
    struct msg_run *r = calloc(1, sizeof *r);
    int64_t added = 0, unknown = 0;
    leal_err err = LEAL_OK;
    int rc = r ? msg_run_open(l, c->program_id, r) : cli_fail(LEAL_E_NO_MEMORY, "campaign");
    if (rc == CLI_EXIT_OK && (rc = camp_members(l, c, r->now, &x)) == CLI_EXIT_OK &&
        ((err = ledger_campaign_record(l, c, x.ids, x.n, &added)) != LEAL_OK ||
         (err = ledger_message_expire_sending(l, c->program_id, r->now, &unknown)) != LEAL_OK))
        rc = lcli_fail(l, err, "campaign");
    if (rc == CLI_EXIT_OK) {
        msg_pause_hook(added);
        if ((err = msg_run_due(r, c->occasion)) != LEAL_OK)
            rc = lcli_fail(l, err, "campaign");
        else {
            printf("campaign %s: %lld members, %lld recorded, %lld sent, %lld failed (retried "
                   "later), %lld refused, %lld skipped",
                   c->name, (long long)x.members, (long long)added, (long long)r->sent,
                   (long long)r->failed, (long long)r->refused, (long long)r->skipped);
            if (r->bounced) /* as `messages run` says it */
                printf(", %lld to a bounced address", (long long)r->bounced);
            printf("\n");
            if (r->failed || r->refused)
                rc = CLI_EXIT_FAIL;
        }
    }
    if (r)
        msg_run_close(r);
    free(r);
    free(x.ids);
    return rc;
}

int cmd_messages_campaign(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"program", false, NULL}, {"segment", false, NULL},  {"subject", false, NULL},
        {"text", false, NULL},    {"lang", false, NULL},     {"html", false, NULL},
        {"to", false, NULL},      {"customer", false, NULL}, {"db", false, NULL},
        {"help", true, NULL},     {"json", true, NULL}};
    const char *pos[2];
    size_t npos = 2;
    int64_t program = 0, customer = 0;
    struct ledger *l = NULL;
    struct ledger_campaign c;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(campaign_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *const cmds[] = {"add", "preview", "test", "send"};
    size_t k = 0;
    while (k < N(cmds) && strcmp(argv[1], cmds[k]) != 0)
        k++;
    if (k == N(cmds))
        return cli_usage("leal messages campaign has add, preview, test and send, not '%s'",
                         argv[1]);
    int rc = lcli_parse(argc - 1, argv + 1, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (o[9].val) {
        fputs(campaign_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 1)
        return cli_usage("leal messages campaign %s needs the campaign's NAME", cmds[k]);
    if (!o[0].val || lcli_id(o[0].val, &program) != LEAL_OK)
        return cli_usage("leal messages campaign %s needs --program ID", cmds[k]);
    if (k == 0 && (!o[1].val || !o[2].val || !o[3].val))
        return cli_usage("leal messages campaign add needs --segment, --subject and --text");
    if (k == 0 && o[4].val && strcmp(o[4].val, "en") != 0 && strcmp(o[4].val, "es") != 0)
        return cli_usage("--lang is en or es, not '%s'", o[4].val);
    if (k != 0 && (o[1].val || o[2].val || o[3].val || o[4].val || o[5].val))
        return cli_usage("--segment, --subject, --text, --html and --lang go with 'campaign add'");
    if ((k == 2) != (o[6].val != NULL))
        return cli_usage(k == 2 ? "leal messages campaign test needs --to ADDRESS"
                                : "--to goes with 'campaign test'");
    if (o[7].val && (k != 2 || lcli_id(o[7].val, &customer) != LEAL_OK))
        return cli_usage("--customer ID goes with 'campaign test'");
    if (o[10].val && k != 1)
        return cli_usage("--json goes with 'campaign preview'");
    if ((rc = lcli_open(o[8].val, &l)) != 0)
        return rc;
    if (k == 0)
        rc = camp_add(l, program, pos[0], o);
    else {
        leal_err err = ledger_campaign_get(l, program, pos[0], &c);
        if (err != LEAL_OK)
            rc = camp_fail(l, err, "campaign");
        else if (k == 1)
            rc = camp_preview(l, &c, o[10].val != NULL);
        else if (k == 2)
            rc = camp_test(l, &c, o[6].val, customer);
        else
            rc = camp_send(l, &c);
    }
    ledger_close(l);
    return rc;
}
