/*
 * ledger_segment.h - segments (issue 17): saved filters over a program's
 * customers, and customers' tags. A segment is stored as validated columns
 * (one per filter, NULL when not used; nothing is parsed back from text) and
 * compiled to ONE parameterised SQL query (ledger_segment_sql): every value
 * is a bound parameter, never pasted into the SQL. The filters, all ANDed:
 *   tier          the tier the customer's newest sale not voided left them in
 *                 (0: none)
 *   store         a visit at that store (ever)
 *   visit before  the last visit earlier than that day (00:00 UTC)
 *   visit after   the last visit later than that day (from 00:00 UTC of the next)
 *   spend         at least spend_min_cents of qualifying spend in earns made
 *                 with a card or QR code (entry.card_id) in the spend_window_days
 *                 up to now, voided earns left out
 *   points        the PTS balance over the customer's accounts strictly above /
 *                 strictly below
 *   birthday      birth_date's month
 *   consent       the channel's latest consent (by record) is a grant
 *   tag           the customer carries the tag
 * A visit is an entry of kind earn, redeem, topup, spend or gift_sale on one
 * of the customer's accounts; a customer without one matches no visit
 * filter. Erased customers never match. Hosted.
 * Errors: those of ledger.h, LEAL_E_SEGMENT_FILTER (a filter that does not
 * hold, detail in *why or the ledger's message), LEAL_E_SEGMENT_UNKNOWN,
 * LEAL_E_SEGMENT_EXISTS, LEAL_E_SEGMENT_AMBIGUOUS, LEAL_E_UNKNOWN_ID.
 */
#ifndef LEAL_LEDGER_SEGMENT_H
#define LEAL_LEDGER_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

#define LEDGER_SEGMENT_NAME 64 /* 1..63 bytes of [A-Za-z0-9_.-] */
#define LEDGER_SEGMENT_TAG 33  /* 1..32 bytes of [A-Za-z0-9_.-] */
#define LEDGER_SEGMENT_MAX_PARAMS 16
#define LEDGER_SEGMENT_SQL 4096

/* Which filters a segment uses (ledger_segment.has). */
enum {
    LEDGER_SEG_TIER = 1u << 0,
    LEDGER_SEG_STORE = 1u << 1,
    LEDGER_SEG_VISIT_BEFORE = 1u << 2,
    LEDGER_SEG_VISIT_AFTER = 1u << 3,
    LEDGER_SEG_SPEND = 1u << 4,
    LEDGER_SEG_POINTS_ABOVE = 1u << 5,
    LEDGER_SEG_POINTS_BELOW = 1u << 6,
    LEDGER_SEG_BIRTHDAY = 1u << 7,
    LEDGER_SEG_CONSENT = 1u << 8,
    LEDGER_SEG_TAG = 1u << 9,
};

struct ledger_segment {
    int64_t id;
    int64_t program_id;
    char name[LEDGER_SEGMENT_NAME];
    unsigned has;
    int64_t tier;         /* 0..255 */
    int64_t store_id;     /* a store of the program */
    int64_t visit_before; /* Unix seconds, 00:00 UTC of a day */
    int64_t visit_after;  /* Unix seconds, 00:00 UTC of a day */
    int64_t spend_min_cents, spend_window_days;
    int64_t points_above, points_below;
    int birthday_month; /* 1..12 */
    char consent[16];   /* email, sms, phone, post, whatsapp */
    char tag[LEDGER_SEGMENT_TAG];
    int64_t created_at;
};

/* One customer of a segment, with what an export may show. */
struct ledger_segment_member {
    int64_t customer_id;
    char name[LEDGER_TEXT], surname[LEDGER_TEXT], email[LEDGER_TEXT], phone[LEDGER_TEXT];
    int64_t points;
    int64_t tier;
    char store[LEDGER_TEXT]; /* the code of the last visit's store, "" without one */
    int64_t last_visit;      /* Unix seconds, 0: never */
    bool email_ok, sms_ok;   /* latest marketing consent of the channel is a grant */
    bool profiling_ok;       /* latest profiling consent of some channel is a grant */
};

/* The compiled query: SQL text and its parameters ?1..?n in order. */
struct ledger_segment_param {
    bool text;
    int64_t i;
    const char *s; /* points into the segment compiled */
};
struct ledger_segment_sql {
    char sql[LEDGER_SEGMENT_SQL];
    struct ledger_segment_param param[LEDGER_SEGMENT_MAX_PARAMS];
    int n;
};

/* Whether a name or tag is 1..cap-1 bytes of [A-Za-z0-9_.-]. */
bool ledger_segment_word_ok(const char *s, size_t cap);

/* Checks s's name and filters on their own (no ledger needed: before a
 * database is opened): LEAL_OK, or LEAL_E_SEGMENT_FILTER with the reason in
 * why. */
LEAL_MUST_CHECK leal_err ledger_segment_check(const struct ledger_segment *s, char *why,
                                              size_t cap);

/* Compiles s's filters to one query over program s->program_id's customers
 * that are not erased, spend windows ending at now (Unix seconds); its rows
 * are the member fields in struct order, by customer id. */
LEAL_MUST_CHECK leal_err ledger_segment_sql(const struct ledger_segment *s, int64_t now,
                                            struct ledger_segment_sql *out);

/* Saves s (checked; the store must be the program's); *id its row. */
LEAL_MUST_CHECK leal_err ledger_segment_add(struct ledger *l, const struct ledger_segment *s,
                                            int64_t *id);
/* The segment named name of program_id (0: whichever program has it, if
 * only one does). */
LEAL_MUST_CHECK leal_err ledger_segment_get(struct ledger *l, int64_t program_id, const char *name,
                                            struct ledger_segment *out);
typedef int (*ledger_segment_cb)(void *ctx, const struct ledger_segment *s);
/* Program program_id's segments by name; a non-zero cb return stops. */
LEAL_MUST_CHECK leal_err ledger_segment_each(struct ledger *l, int64_t program_id,
                                             ledger_segment_cb cb, void *ctx);
typedef int (*ledger_segment_member_cb)(void *ctx, const struct ledger_segment_member *m);
/* Runs s (saved or not) at now in one read snapshot: cb per member. */
LEAL_MUST_CHECK leal_err ledger_segment_members(struct ledger *l, const struct ledger_segment *s,
                                                int64_t now, ledger_segment_member_cb cb,
                                                void *ctx);

/* Tags customer_id with tag (on) or takes it off; twice is the same as
 * once. LEAL_E_UNKNOWN_ID for no such customer, LEAL_E_STATE if erased. */
LEAL_MUST_CHECK leal_err ledger_customer_tag(struct ledger *l, int64_t customer_id, const char *tag,
                                             bool on);

#endif
