/*
 * ledger_campaign.h - campaigns (issue 17): a one-off message to the members
 * of a saved segment (ledger_segment.h), with a text per language. A
 * campaign's sends are message_send rows (ledger_messages.h) of occasion
 * "campaign:NAME" and of the campaign's day, so the row's UNIQUE (customer,
 * occasion, day) key sends each member the campaign once, whatever the
 * number of sends, overlapping or killed; the rows are recorded before
 * anything is sent and go through the same claim/finish states as the
 * automatic occasions. Hosted.
 * Errors: those of ledger.h, LEAL_E_CAMPAIGN_UNKNOWN, LEAL_E_CAMPAIGN_SEGMENT
 * (the name already targets another segment), LEAL_E_SEGMENT_UNKNOWN,
 * LEAL_E_SEGMENT_FILTER (a bad name), LEAL_E_TEXT.
 */
#ifndef LEAL_LEDGER_CAMPAIGN_H
#define LEAL_LEDGER_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "ledger_messages.h"
#include "ledger_segment.h"

#define LEDGER_CAMPAIGN_PREFIX "campaign:"

struct ledger_campaign {
    int64_t id;
    int64_t program_id;
    char name[LEDGER_SEGMENT_NAME]; /* 1..63 bytes of [A-Za-z0-9_.-] */
    int64_t segment_id;
    char segment[LEDGER_SEGMENT_NAME];
    char day[11];                       /* YYYY-MM-DD: its sends' period */
    char occasion[LEDGER_MSG_OCCASION]; /* "campaign:NAME" */
    int64_t created_at;
};

/* Stores campaign name of program_id, to the program's segment named
 * segment, with t's subject and bodies as its text in t->lang ("" the
 * program's locale), replacing the text of that language, in one
 * transaction. A new campaign takes day (YYYY-MM-DD) as its period; an
 * existing one keeps its own, and must keep its segment. */
LEAL_MUST_CHECK leal_err ledger_campaign_set(struct ledger *l, int64_t program_id, const char *name,
                                             const char *segment, const char *day,
                                             const struct ledger_message_template *t);

/* The campaign named name of program_id into *out. */
LEAL_MUST_CHECK leal_err ledger_campaign_get(struct ledger *l, int64_t program_id, const char *name,
                                             struct ledger_campaign *out);

/* Campaign name's text for customer_id into *out (its occasion
 * "campaign:NAME"): the customer's language, else the program's locale,
 * else the first by language. */
LEAL_MUST_CHECK leal_err ledger_campaign_text_for(struct ledger *l, int64_t program_id,
                                                  const char *name, int64_t customer_id,
                                                  struct ledger_message_template *out);

/* Records, in one transaction, a pending row of the campaign for each of
 * the n customers in ids and each channel that reaches them (the program
 * sends on it, the customer has its address and its consent: e-mail, SMS,
 * WhatsApp) that has none yet; *added: how many. */
LEAL_MUST_CHECK leal_err ledger_campaign_record(struct ledger *l, const struct ledger_campaign *c,
                                                const int64_t *ids, size_t n, int64_t *added);

#endif
