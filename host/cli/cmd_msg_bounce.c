/* cmd_msg_bounce.c - `leal messages bounces [--program ID] [--json] FILE...`:
 * the delivery status notifications (RFC 3464) a mail server returned for
 * leal's e-mails, read from mbox files or single messages (host/mail/
 * mail_dsn.h), matched to the messages by the token of their Message-ID and
 * recorded (ledger_message_bounce_record): a hard bounce (5.x.x) stops
 * e-mail to the address until it changes, a soft one (4.x.x) makes the
 * message a failure retried with the backoff; one about an attempt before
 * the message's last (each attempt has its own Message-ID, TOKEN.N@DOMAIN)
 * leaves the message as that last attempt made it. Every file is read and parsed
 * before anything is written, and everything is written in one transaction:
 * a bad file changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/file.h"
#include "host/ledger/ledger_messages.h"
#include "host/mail/mail_dsn.h"
#include "keys/portable/sha256.h"
#include "ledger_cli.h"
#include "messages_cli.h"
#include "host/grow.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define BOUNCE_FILES 64
#define BOUNCE_FILE_MAX (256u << 20) /* an mbox up to 256 MiB */

static const char bounces_help[] =
    "usage: leal messages bounces [--program ID] [--json] [--db PATH] FILE...\n"
    "Reads the bounces (delivery status notifications, RFC 3464) the mail server returned\n"
    "for leal's e-mails and records each against the message it reports on, found by the\n"
    "token in the Message-ID leal gave the message (TOKEN.N@DOMAIN, N the send attempt;\n"
    "TOKEN@DOMAIN from older versions). A FILE is an mbox (it\n"
    "starts with a 'From ' line; its messages that are not bounces, such as replies, are\n"
    "counted and left alone) or one message as the server returned it (.eml; one that is\n"
    "not a bounce is an error). A failure with a 5.x.x status (hard bounce) stops e-mail to\n"
    "that address until the customer's address changes; one with a 4.x.x status (soft\n"
    "bounce) makes the message a failure that 'leal messages run' retries with its backoff.\n"
    "Delay notices and successes change nothing; a report recorded before counts once.\n"
    "A report about an attempt before the message's last (a late one, the message sent\n"
    "again since) is recorded but leaves the message as its last attempt made it (a hard\n"
    "one still stops e-mail to the address).\n"
    "With --program only that program's messages match. Every file is read before anything\n"
    "is written, and all is written in one transaction: a bad file changes nothing.\n";

struct bounce_item {
    struct mail_dsn d;
    char key[65];
    const char *file;
    size_t no; /* the message's number in its file, from 1 */
};

struct bounce_counts {
    int64_t hard, soft, unmatched, repeated, not_failures, not_reports, earlier;
};

/* What tells one report from another, whatever file it comes in (an
 * mbox's copy and a saved .eml differ in their bytes): its Message-ID,
 * the message (and attempt) it reports on and what it says of it. A report
 * naming no attempt keeps the key it had before attempts were named. */
static void report_key(const struct mail_dsn *d, char key[65])
{
    struct portable_sha256 h;
    uint8_t dig[PORTABLE_SHA256_LEN];
    const char *f[6] = {d->report_id, d->token, d->recipient, d->action, d->status, d->diagnostic};
    char attempt[16];
    snprintf(attempt, sizeof attempt, "%u", d->attempt);
    portable_sha256_init(&h);
    for (size_t i = 0; i < 6; i++)
        portable_sha256_update(&h, (const uint8_t *)f[i], strlen(f[i]) + 1);
    if (d->attempt)
        portable_sha256_update(&h, (const uint8_t *)attempt, strlen(attempt) + 1);
    portable_sha256_final(&h, dig);
    for (size_t i = 0; i < sizeof dig; i++)
        snprintf(key + 2 * i, 3, "%02x", dig[i]);
}

/* Parses every message of file into *items; prints the error and returns
 * an exit code on a file that cannot be read or a single message that is
 * not a bounce. */
static int bounce_read(const char *file, struct bounce_item **items, size_t *n, size_t *cap,
                       struct bounce_counts *k)
{
    uint8_t *data = NULL;
    size_t len = 0, off = 0, start = 0, mlen = 0, no = 0;
    leal_err err = file_read(file, BOUNCE_FILE_MAX, &data, &len);
    if (err != LEAL_OK)
        return cli_fail(err, "%s", file);
    const char *d = (const char *)data;
    bool mbox = len >= 5 && memcmp(d, "From ", 5) == 0;
    while (mail_mbox_next(d, len, &off, &start, &mlen)) {
        struct mail_dsn dsn;
        no++;
        if (mail_dsn_parse(d + start, mlen, &dsn) != LEAL_OK) {
            if (!mbox) {
                free(data);
                return cli_error(LEAL_E_DSN_MALFORMED, CLI_EXIT_USAGE,
                                 "%s: not a delivery status notification (RFC 3464 "
                                 "multipart/report); give the bounces as the mail server "
                                 "returned them, or an mbox of them",
                                 file);
            }
            k->not_reports++;
            continue;
        }
        if (grow_room(items, cap, *n, sizeof **items) != LEAL_OK) {
            free(data);
            return cli_fail(LEAL_E_NO_MEMORY, "bounces");
        }
        struct bounce_item *it = &(*items)[(*n)++];
        it->d = dsn;
        it->file = file;
        it->no = no;
        report_key(&dsn, it->key);
    }
    if (len == 0) {
        free(data);
        return cli_error(LEAL_E_DSN_MALFORMED, CLI_EXIT_USAGE,
                         "%s is empty: give the bounces as the mail server returned them", file);
    }
    free(data);
    return CLI_EXIT_OK;
}

/* Records the items in one transaction, counting them; prints a line per
 * bounce unless json. */
static leal_err bounce_apply(struct ledger *l, int64_t program, const struct bounce_item *items,
                             size_t n, bool json, struct bounce_counts *k)
{
    int64_t now = (int64_t)time(NULL);
    leal_err err = ledger_batch_begin_whole(l);
    for (size_t i = 0; i < n && err == LEAL_OK; i++) {
        const struct mail_dsn *d = &items[i].d;
        enum ledger_bounce_outcome o;
        int64_t mid = 0, cid = 0;
        if (strcmp(d->action, "failed") != 0 || d->status[0] == '2') {
            k->not_failures++;
            continue;
        }
        struct ledger_message_bounce b = {.program_id = program,
                                          .token = d->token,
                                          .attempt = d->attempt,
                                          .status = d->status,
                                          .address = d->recipient,
                                          .diagnostic = d->diagnostic,
                                          .report_key = items[i].key,
                                          .now = now};
        if ((err = ledger_message_bounce_record(l, &b, &o, &mid, &cid)) != LEAL_OK)
            break;
        int64_t *c = o == LEDGER_BOUNCE_HARD       ? &k->hard
                     : o == LEDGER_BOUNCE_SOFT     ? &k->soft
                     : o == LEDGER_BOUNCE_REPEATED ? &k->repeated
                     : o == LEDGER_BOUNCE_EARLIER  ? &k->earlier
                                                   : &k->unmatched;
        (*c)++;
        if (json)
            continue;
        printf("%s#%zu: ", items[i].file, items[i].no);
        if (o == LEDGER_BOUNCE_HARD)
            printf("message %lld to customer %lld: hard bounce %s; no more e-mail to %s\n",
                   (long long)mid, (long long)cid, d->status,
                   d->recipient[0] ? d->recipient : "the address");
        else if (o == LEDGER_BOUNCE_SOFT)
            printf("message %lld to customer %lld: soft bounce %s; retried\n", (long long)mid,
                   (long long)cid, d->status);
        else if (o == LEDGER_BOUNCE_EARLIER)
            printf("message %lld to customer %lld: %s bounce %s about attempt %u, sent again "
                   "since: the message stays as its last attempt left it%s%s\n",
                   (long long)mid, (long long)cid, d->status[0] == '5' ? "hard" : "soft", d->status,
                   d->attempt, d->status[0] == '5' ? "; no more e-mail to " : "",
                   d->status[0] != '5' ? ""
                   : d->recipient[0]   ? d->recipient
                                       : "the address");
        else if (o == LEDGER_BOUNCE_REPEATED)
            printf("message %lld to customer %lld: recorded before\n", (long long)mid,
                   (long long)cid);
        else
            printf("unmatched: %s\n", d->token[0] ? "no e-mail of leal's carried its Message-ID"
                                                  : "its returned message has no Message-ID "
                                                    "of leal's");
    }
    if (err == LEAL_OK)
        return ledger_batch_commit(l);
    ledger_batch_rollback(l);
    return err;
}

int cmd_messages_bounces(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"program", false, NULL}, {"db", false, NULL}, {"json", true, NULL}, {"help", true, NULL}};
    const char *pos[BOUNCE_FILES];
    size_t npos = N(pos), n = 0, cap = 0;
    struct bounce_item *items = NULL;
    struct bounce_counts k = {0, 0, 0, 0, 0, 0, 0};
    struct ledger *l = NULL;
    struct ledger_program p;
    int64_t program = 0;
    int rc = lcli_parse(argc, argv, o, N(o), pos, &npos);
    if (rc != 0)
        return rc;
    if (o[3].val) {
        fputs(bounces_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos == 0)
        return cli_usage("leal messages bounces needs a FILE (an mbox or a message)");
    if (o[0].val && lcli_id(o[0].val, &program) != LEAL_OK)
        return cli_usage("--program needs a program ID");
    for (size_t i = 0; i < npos && rc == CLI_EXIT_OK; i++)
        rc = bounce_read(pos[i], &items, &n, &cap, &k);
    if (rc == CLI_EXIT_OK && (rc = lcli_open(o[1].val, &l)) == CLI_EXIT_OK) {
        leal_err err = program ? ledger_program_get(l, program, &p) : LEAL_OK;
        if (err != LEAL_OK)
            rc = lcli_fail(l, err, "program");
        else if ((err = bounce_apply(l, program, items, n, o[2].val != NULL, &k)) != LEAL_OK)
            rc = lcli_fail(l, err, "bounces");
        ledger_close(l);
    }
    free(items);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (o[2].val)
        printf("{\"reports\":%zu,\"hard\":%lld,\"soft\":%lld,\"unmatched\":%lld,\"repeated\":%lld,"
               "\"not_failures\":%lld,\"not_reports\":%lld,\"earlier\":%lld}\n",
               n, (long long)k.hard, (long long)k.soft, (long long)k.unmatched,
               (long long)k.repeated, (long long)k.not_failures, (long long)k.not_reports,
               (long long)k.earlier);
    else {
        printf("%zu report(s): %lld hard bounce(s), %lld soft (retried), %lld unmatched, %lld "
               "recorded before, %lld not failures; %lld other message(s)",
               n, (long long)k.hard, (long long)k.soft, (long long)k.unmatched,
               (long long)k.repeated, (long long)k.not_failures, (long long)k.not_reports);
        /* Said only when there are some, so the line stays as it was without. */
        if (k.earlier)
            printf("; %lld about an earlier attempt (the message's state kept)",
                   (long long)k.earlier);
        printf("\n");
    }
    return CLI_EXIT_OK;
}
