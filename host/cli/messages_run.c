/* messages_run.c - the send engine `leal messages run` (cmd_messages.c) and
 * `leal messages campaign` (cmd_campaign.c) share (messages_cli.h): a
 * program's send context and one recorded row claimed, rendered, sent over
 * SMTP and finished. Apart from both commands so neither calls the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "host/file.h"
#include "host/ledger/ledger_mail.h"
#include "host/ledger/ledger_messages.h"
#include "host/mail/mail.h"
#include "host/mail/mail_render.h"
#include "host/mail/msg_gateway.h"
#include "ledger_cli.h"
#include "messages_cli.h"

/* Retries of a message the server could not take now: the ledger's backoff
 * (ledger_message_retry_at), which soft bounces share. */

static int read_body(const char *path, char *out, size_t cap)
{
    uint8_t *data = NULL;
    size_t len = 0;
    leal_err err = file_read(path, cap - 1, &data, &len);
    if (err != LEAL_OK)
        return cli_fail(err, "%s", path);
    memcpy(out, data, len);
    out[len] = '\0';
    free(data);
    if (strlen(out) != len)
        return cli_fail(LEAL_E_TEXT, "%s holds a NUL byte", path);
    return CLI_EXIT_OK;
}

/* Every variable a template may use, with empty values: a template is
 * checked at `template` time against this list. */
static const char *const msg_var_names[] = {
    "name",           "points",          "tier",        "store", "program",
    "unsubscribe",    "expiring_points", "expiry_date", "bonus", "next_tier_missing",
    "unsubscribe_url"};
#define MSG_NVARS 11

/* {{tier}} and {{next_tier_missing}} of row m's customer now: the tier's name
 * and the euros (two decimals, a decimal comma in Spanish) still missing
 * for the next tier ("" at the top). */
static leal_err msg_tier_vars(struct msg_run *r, const struct ledger_message_send *m, char *name,
                              size_t cap, char missing[32])
{
    struct ledger_message_tier t;
    leal_err err =
        ledger_message_tier_vars(r->l, r->program_id, m->customer_id, m->occasion, r->now, &t);
    name[0] = missing[0] = '\0';
    if (err != LEAL_OK)
        return err;
    snprintf(name, cap, "%s", t.name);
    if (t.has_next)
        snprintf(missing, 32, "%lu%s00", (unsigned long)t.missing_units,
                 strcmp(r->t->lang, "es") == 0 ? "," : ".");
    return LEAL_OK;
}

static int template_check(const char *what, const char *tmpl)
{
    struct mail_var v[MSG_NVARS];
    char *out = NULL;
    size_t where = 0;
    for (size_t i = 0; i < MSG_NVARS; i++)
        v[i] = (struct mail_var){msg_var_names[i], ""};
    leal_err err = mail_render(tmpl, v, MSG_NVARS, false, &out, &where);
    free(out);
    if (err != LEAL_OK)
        return cli_error(err, CLI_EXIT_USAGE, "the %s at byte %zu: %s", what, where,
                         leal_strerror(err));
    return CLI_EXIT_OK;
}

int msg_channel_text_fill(const char *file, char *out, size_t cap)
{
    int rc = read_body(file, out, cap);
    return rc ? rc : template_check("text", out);
}

int msg_template_fill(struct ledger_message_template *t, const char *subject, const char *text,
                      const char *html)
{
    int rc;
    if (snprintf(t->subject, sizeof t->subject, "%s", subject) >= (int)sizeof t->subject)
        return cli_usage("--subject is longer than %zu bytes", sizeof t->subject - 1);
    if ((rc = read_body(text, t->text, sizeof t->text)) == 0 &&
        (!html || (rc = read_body(html, t->html, sizeof t->html)) == 0) &&
        (rc = template_check("subject", t->subject)) == 0 &&
        (rc = template_check("text", t->text)) == 0)
        rc = template_check("HTML", t->html);
    return rc;
}

/* The message for row m, rendered; its consent (for the row's channel and
 * purpose) checked again (it may have been withdrawn since the row was recorded).
 * *state "skipped" without, or without the channel's address. */
static leal_err msg_build(struct msg_run *r, const struct ledger_message_send *m,
                          struct ledger_customer *c, char *rendered[3], const char **state)
{
    const char *channel = m->channel[0] ? m->channel : "email";
    /* A campaign is marketing; the occasions and tier messages are the
     * service of the programme (points, tier, birthday). */
    const char *purpose = strncmp(m->occasion, "campaign:", 9) == 0 ? "marketing" : "service";
    bool email = strcmp(channel, "email") == 0, granted = false;
    int64_t points = 0, expiring = 0, bonus = 0;
    char pts[32], exp_pts[32] = "", exp_day[11] = "", bonus_s[32] = "", missing[32] = "";
    char tier[64] = "", unsub_url[LEDGER_MSG_WEB_URL + 48] = "";
    bool expiry = strcmp(m->occasion, "expiring") == 0;
    leal_err err = ledger_customer_get(r->l, m->customer_id, c);
    if (err == LEAL_OK)
        err = ledger_consent_granted(r->l, m->customer_id, channel, purpose, &granted);
    if (err == LEAL_OK)
        err = ledger_balance(r->l, c->account_id, "PTS", &points);
    if (err == LEAL_OK)
        err = ledger_message_template_for(r->l, r->program_id, m->occasion, m->customer_id, r->t);
    if (err == LEAL_OK && !email) {
        /* The channel's own text in the template's language, if any. */
        char base[LEDGER_MSG_OCCASION];
        struct ledger_message_channel_key k = {
            r->program_id, ledger_message_tier_base(m->occasion, base, sizeof base), r->t->lang,
            channel};
        err = ledger_message_channel_text_get(r->l, &k, r->t->text, sizeof r->t->text);
        if (err == LEAL_E_NOT_FOUND)
            err = LEAL_OK;
    }
    if (err == LEAL_OK && expiry)
        err = ledger_message_expiring(r->l, m->customer_id, r->tz, m->day, r->now, &expiring);
    if (err == LEAL_OK && strcmp(m->occasion, "birthday") == 0 &&
        (err = ledger_message_bonus_get(r->l, r->program_id, &bonus)) == LEAL_OK && bonus)
        snprintf(bonus_s, sizeof bonus_s, "%lld", (long long)bonus);
    if (err == LEAL_OK)
        err = msg_tier_vars(r, m, tier, sizeof tier, missing);
    if (err != LEAL_OK)
        return err;
    /* Points spent or expired since the row was recorded leave nothing to
     * announce. */
    if (!granted || (email ? c->email : c->phone)[0] == '\0' || (expiry && expiring == 0)) {
        *state = "skipped";
        return LEAL_OK;
    }
    snprintf(pts, sizeof pts, "%lld", (long long)points);
    if (expiry) {
        snprintf(exp_pts, sizeof exp_pts, "%lld", (long long)expiring);
        /* The date as the message's language writes it. */
        if (strcmp(r->t->lang, "es") == 0)
            snprintf(exp_day, sizeof exp_day, "%.2s/%.2s/%.4s", m->day + 8, m->day + 5, m->day);
        else
            snprintf(exp_day, sizeof exp_day, "%s", m->day);
    }
    struct mail_var v[MSG_NVARS] = {{"name", c->name},
                                    {"points", pts},
                                    {"tier", tier},
                                    {"store", r->store},
                                    {"program", r->p.name},
                                    {"unsubscribe", m->token},
                                    {"expiring_points", exp_pts},
                                    {"expiry_date", exp_day},
                                    {"bonus", bonus_s},
                                    {"next_tier_missing", missing},
                                    {"unsubscribe_url", unsub_url}};
    if (r->web[0])
        snprintf(unsub_url, sizeof unsub_url, "%s/unsubscribe/%s", r->web, m->token);
    const char *src[3] = {r->t->subject, r->t->text, r->t->html};
    for (int i = 0; i < 3 && err == LEAL_OK; i++)
        err = mail_render(src[i], v, MSG_NVARS, i == 2, &rendered[i], NULL);
    return err;
}

/* Sends rendered (subject, text, HTML) of row m to `to`, with the row's
 * token in the text's last line and in List-Unsubscribe (a mail to the
 * sender with the token, and the web link when there is one), as its
 * attempt-th attempt: the Message-ID <TOKEN.ATTEMPT@DOMAIN> is the
 * attempt's own, so a bounce names the attempt it is about. out:
 * mail_send's result; the return value is ours (no memory). */
static leal_err msg_deliver(struct msg_run *r, const struct ledger_message_send *m, const char *to,
                            int64_t attempt, char *rendered[3], struct msg_outcome *out)
{
    const char *domain = strchr(r->srv.from, '@');
    char msgid[320], unsub[400], unsub_web[LEDGER_MSG_WEB_URL + 48];
    size_t rl = strlen(rendered[1]), tl = rl + 200 + sizeof r->web;
    bool es = strcmp(r->t->lang, "es") == 0;
    char *text = malloc(tl);
    if (!text)
        return LEAL_E_NO_MEMORY;
    /* Always a reply to the sender; with the program's `leal serve` link
     * also that link, which a mail client may POST to (RFC 8058). */
    snprintf(unsub, sizeof unsub, "mailto:%s?subject=unsubscribe%%20%s", r->srv.from, m->token);
    snprintf(unsub_web, sizeof unsub_web, "%s/unsubscribe/%s", r->web, m->token);
    if (r->web[0])
        snprintf(text, tl, "%s%s-- \n%s: %s\n", rendered[1],
                 rl && rendered[1][rl - 1] == '\n' ? "" : "\n",
                 es ? "Para no recibir más estos correos" : "To receive no more of these e-mails",
                 unsub_web);
    else
        snprintf(text, tl, "%s%s-- \n%s: unsubscribe %s\n", rendered[1],
                 rl && rendered[1][rl - 1] == '\n' ? "" : "\n",
                 es ? "Para no recibir más estos correos, responda con el asunto"
                    : "To receive no more of these e-mails, reply with the subject",
                 m->token);
    snprintf(msgid, sizeof msgid, "%s.%lld%s", m->token, (long long)attempt,
             domain ? domain : "@leal.invalid");
    struct mail_message msg = {.to = to,
                               .subject = rendered[0],
                               .text = text,
                               .html = rendered[2][0] ? rendered[2] : NULL,
                               .message_id = msgid,
                               .unsubscribe = unsub,
                               .unsubscribe_post = r->web[0] ? unsub_web : NULL};
    out->sent = mail_send(&r->srv, &msg, out->why, sizeof out->why);
    free(text);
    return LEAL_OK;
}

/* The SMS or WhatsApp of row m: the rendered text and the unsubscribe link
 * (which the program's `leal serve` answers), put into the gateway's body
 * template with each value escaped for its format, sent to the gateway.
 * out: the gateway's answer; the return value is ours. */
static leal_err msg_deliver_gateway(struct msg_run *r, const struct ledger_message_send *m,
                                    const struct ledger_customer *c, const char *text,
                                    struct msg_outcome *out)
{
    struct ledger_message_gateway *g = malloc(sizeof *g);
    char link[LEDGER_MSG_WEB_URL + 48], *sms = NULL, *body = NULL;
    const char *raw[5] = {c->phone, NULL, c->name, m->channel, link};
    char *esc[5] = {NULL, NULL, NULL, NULL, NULL};
    long status = 0;
    size_t tl = strlen(text);
    leal_err err =
        g ? ledger_message_gateway_get(r->l, r->program_id, m->channel, g) : LEAL_E_NO_MEMORY;
    if (err == LEAL_E_GATEWAY_CONFIG || (err == LEAL_OK && !r->web[0])) {
        /* Removed since the row was recorded, or no link to give: the
         * row waits (failed) for the operator. */
        out->sent = LEAL_E_GATEWAY_CONFIG;
        snprintf(out->why, sizeof out->why, "%s",
                 err != LEAL_OK ? "the program has no gateway for the channel now"
                                : "SMS and WhatsApp need the web unsubscribe link: 'leal "
                                  "messages web --program ID --url URL'");
        free(g);
        return LEAL_OK;
    }
    snprintf(link, sizeof link, "%s/unsubscribe/%s", r->web, m->token);
    if (err == LEAL_OK && (sms = malloc(tl + sizeof link + 64)) == NULL)
        err = LEAL_E_NO_MEMORY;
    if (err == LEAL_OK) {
        while (tl && (text[tl - 1] == '\n' || text[tl - 1] == ' '))
            tl--;
        snprintf(sms, tl + sizeof link + 64, "%.*s\n%s: %s", (int)tl, text,
                 strcmp(r->t->lang, "es") == 0 ? "Baja" : "Unsubscribe", link);
        raw[1] = sms;
    }
    if (err == LEAL_OK && strcmp(m->channel, "sms") == 0) {
        /* Up to MSG_SMS_MAX_PARTS parts goes as one concatenated SMS (the
         * gateway splits it); a longer text is refused for good: the
         * template is too long for SMS. */
        struct msg_sms_length len;
        msg_sms_length(sms, &len);
        if (len.parts > MSG_SMS_MAX_PARTS) {
            out->sent = LEAL_E_SMS_TOO_LONG;
            snprintf(out->why, sizeof out->why,
                     "the SMS is %zu %s characters with its link, %zu parts (at most %d: %d "
                     "characters); not sent: shorten the SMS text",
                     len.units, len.ucs2 ? "UCS-2" : "GSM-7", len.parts, MSG_SMS_MAX_PARTS,
                     len.ucs2 ? 67 * MSG_SMS_MAX_PARTS : 153 * MSG_SMS_MAX_PARTS);
            for (int i = 0; i < 5; i++)
                free(esc[i]);
            free(sms);
            free(g);
            return LEAL_OK;
        }
    }
    for (int i = 0; i < 5 && err == LEAL_OK; i++)
        err = msg_gateway_escape(g->format, raw[i], &esc[i]);
    if (err == LEAL_OK) {
        struct mail_var v[5] = {{"phone", esc[0]},
                                {"text", esc[1]},
                                {"name", esc[2]},
                                {"channel", esc[3]},
                                {"unsubscribe_url", esc[4]}};
        err = mail_render(g->body, v, 5, false, &body, NULL);
    }
    if (err == LEAL_OK) {
        struct msg_gateway gw = {.url = g->url,
                                 .method = g->method,
                                 .format = g->format,
                                 .headers = g->headers,
                                 .secret_file = g->secret_file};
        out->sent =
            msg_gateway_send(&gw, body, &status, &out->retry_after_s, out->why, sizeof out->why);
    }
    for (int i = 0; i < 5; i++)
        free(esc[i]);
    free(body);
    free(sms);
    free(g);
    return err;
}

/* Whether e-mail row m goes to an address that bounced for good (a hard
 * bounce, `leal messages bounces`): then *bounced and why say so. */
static leal_err msg_bounced(struct msg_run *r, const struct ledger_message_send *m, bool *bounced,
                            char *why, size_t cap)
{
    struct ledger_customer c;
    char status[10], at[32];
    int64_t when = 0;
    leal_err err;
    *bounced = false;
    if (m->channel[0] && strcmp(m->channel, "email") != 0)
        return LEAL_OK;
    if ((err = ledger_customer_get(r->l, m->customer_id, &c)) != LEAL_OK ||
        (err = ledger_message_bounced(r->l, m->customer_id, c.email, status, &when)) != LEAL_OK ||
        !status[0])
        return err;
    *bounced = true;
    lcli_time_str(when, at, sizeof at);
    snprintf(why, cap, "the address bounced (%s, recorded %s): no e-mail until it changes", status,
             at);
    return LEAL_OK;
}

leal_err msg_send_test(struct msg_run *r, const struct ledger_message_send *m, const char *to,
                       struct msg_outcome *out)
{
    struct ledger_customer c;
    char *rendered[3] = {NULL, NULL, NULL};
    const char *state = "sent";
    bool bounced = false;
    leal_err err = r->has_mail ? msg_build(r, m, &c, rendered, &state) : LEAL_E_MAIL_CONFIG;
    if (err == LEAL_OK && strcmp(state, "sent") != 0)
        err = LEAL_E_STATE;
    /* A test send to another address goes; to the customer's, not if it bounced. */
    if (err == LEAL_OK && !to &&
        (err = msg_bounced(r, m, &bounced, out->why, sizeof out->why)) == LEAL_OK && bounced)
        err = LEAL_E_MAIL_BOUNCED;
    if (err == LEAL_OK)
        err = msg_deliver(r, m, to ? to : c.email, m->attempts + 1, rendered, out);
    for (int i = 0; i < 3; i++)
        free(rendered[i]);
    return err;
}

static leal_err msg_send_one(struct msg_run *r, const struct ledger_message_send *m, int64_t now)
{
    struct ledger_customer c;
    char *rendered[3] = {NULL, NULL, NULL};
    const char *state = "sent";
    struct msg_outcome o = {LEAL_OK, "", 0};
    char *why = o.why;
    int won = 0;
    int64_t next_at = now;
    bool bounced = false;
    leal_err err = ledger_message_claim(r->l, m->id, now, &won);
    if (err != LEAL_OK || !won)
        return err;
    /* An address that bounced for good gets nothing: the row is skipped,
     * saying why, and counted apart. */
    if ((err = msg_bounced(r, m, &bounced, why, sizeof o.why)) == LEAL_OK && bounced)
        state = "skipped";
    else if (err == LEAL_OK && (err = msg_build(r, m, &c, rendered, &state)) == LEAL_OK &&
             strcmp(state, "sent") == 0) {
        if (m->channel[0] && strcmp(m->channel, "email") != 0)
            err = msg_deliver_gateway(r, m, &c, rendered[1], &o);
        else if (r->has_mail)
            err = msg_deliver(r, m, c.email, m->attempts + 1, rendered, &o);
        else
            o.sent = LEAL_E_MAIL_CONFIG; /* mail settings removed since: the row waits */
        leal_err sent = o.sent;
        if (err == LEAL_OK) {
            /* A request the server or gateway called wrong stays wrong:
             * refused for good, never retried. */
            if (sent == LEAL_E_MAIL_REFUSED || sent == LEAL_E_MAIL_ADDRESS ||
                sent == LEAL_E_GATEWAY_REJECTED || sent == LEAL_E_SMS_TOO_LONG ||
                (sent != LEAL_OK && m->attempts + 1 >= LEDGER_MSG_MAX_ATTEMPTS))
                state = "refused";
            else if (sent != LEAL_OK) {
                next_at = ledger_message_retry_at(m->attempts + 1, now);
                /* A gateway's Retry-After (429, 503) in place of the backoff. */
                if (o.retry_after_s > 0)
                    next_at =
                        now + (o.retry_after_s < LEDGER_MSG_RETRY_MAX_S ? o.retry_after_s
                                                                        : LEDGER_MSG_RETRY_MAX_S);
                state = "failed";
            }
            if (sent != LEAL_OK && why[0] == '\0')
                snprintf(why, sizeof o.why, "%s", leal_strerror(sent));
        }
    }
    if (err != LEAL_OK) { /* ours, not the server's: the row is retried */
        state = "failed";
        next_at = now + LEDGER_MSG_RETRY_FIRST_S;
        snprintf(why, sizeof o.why, "%s", leal_strerror(err));
    }
    for (int i = 0; i < 3; i++)
        free(rendered[i]);
    leal_err fin = ledger_message_finish(r->l, m->id, state, why, next_at);
    int64_t *count = strcmp(state, "sent") == 0      ? &r->sent
                     : strcmp(state, "failed") == 0  ? &r->failed
                     : strcmp(state, "refused") == 0 ? &r->refused
                     : bounced                       ? &r->bounced
                                                     : &r->skipped;
    (*count)++;
    if (err == LEAL_OK && strcmp(state, "sent") != 0 && strcmp(state, "skipped") != 0)
        fprintf(stderr, "leal: message %lld to customer %lld %s: %s\n", (long long)m->id,
                (long long)m->customer_id, state, why);
    return fin;
}

leal_err msg_run_due(struct msg_run *r, const char *occasion)
{
    struct ledger_message_send *due = NULL;
    size_t n = 0;
    leal_err err = ledger_message_due(r->l, r->program_id, r->now, occasion, &due, &n);
    for (size_t i = 0; i < n && err == LEAL_OK; i++) {
        int64_t before = r->sent;
        err = msg_send_one(r, &due[i], r->now);
        if (r->sent != before)
            msg_pause_sent_hook(r->sent);
    }
    free(due);
    return err;
}

int msg_run_open(struct ledger *l, int64_t program, struct msg_run *r)
{
    char local[64];
    leal_err err;
    memset(r, 0, sizeof *r);
    r->l = l;
    r->program_id = program;
    r->now = (int64_t)time(NULL);
    if ((err = ledger_program_get(l, program, &r->p)) == LEAL_OK &&
        (err = ledger_mail_get(l, program, &r->lm)) == LEAL_E_NOT_FOUND) {
        /* A program may send by SMS or WhatsApp alone. */
        struct ledger_message_gateway *g = malloc(sizeof *g);
        err = g ? LEAL_OK : LEAL_E_NO_MEMORY;
        for (size_t i = 1; i < LEDGER_MSG_NCHANNELS && err == LEAL_OK && !r->has_gateway; i++)
            if ((err = ledger_message_gateway_get(l, program, ledger_message_channels[i], g)) ==
                LEAL_OK)
                r->has_gateway = true;
            else if (err == LEAL_E_GATEWAY_CONFIG)
                err = LEAL_OK;
        free(g);
        if (err == LEAL_OK && !r->has_gateway)
            err = LEAL_E_NOT_FOUND;
    } else if (err == LEAL_OK)
        r->has_mail = true;
    if (err != LEAL_OK) {
        if (err == LEAL_E_NOT_FOUND)
            return cli_fail(err,
                            "program %lld needs mail settings ('leal mail set') or a gateway "
                            "('leal messages gateway set'), and a message template ('leal "
                            "messages template')",
                            (long long)program);
        return lcli_fail(l, err, "program");
    }
    if (r->has_mail)
        mail_server_of(&r->lm, &r->srv);
    if ((err = ledger_message_zone(l, program, r->tz, sizeof r->tz, r->store, sizeof r->store)) !=
            LEAL_OK ||
        (err = ledger_message_web_get(l, program, r->web, sizeof r->web)) != LEAL_OK)
        return lcli_fail(l, err, "program's zone and web address");
    lcli_time_str_tz(r->now, r->tz, local, sizeof local);
    snprintf(r->day, sizeof r->day, "%.10s", local);
    if ((r->t = calloc(1, sizeof *r->t)) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "template");
    return CLI_EXIT_OK;
}

void msg_run_close(struct msg_run *r)
{
    free(r->t);
    r->t = NULL;
}

void msg_pause_sent_hook(int64_t sent)
{
    const char *pause = getenv("LEAL_MESSAGES_PAUSE_AFTER_SENT");
    long k = pause ? strtol(pause, NULL, 10) : 0;
    if (k > 0 && sent == k) {
        printf("sent %lld; pausing\n", (long long)sent);
        fflush(stdout);
        sleep(60);
    }
}

void msg_pause_hook(int64_t added)
{
    const char *pause = getenv("LEAL_MESSAGES_PAUSE_AFTER_RECORD");
    long secs = pause ? strtol(pause, NULL, 10) : 0;
    if (secs > 0 && secs <= 3600) {
        printf("recorded %lld; pausing\n", (long long)added);
        fflush(stdout);
        sleep((unsigned)secs);
    }
}
