/*
 * web_pages.h - the back office's handlers beyond customers (issue 16): the
 * dashboard (host/report's activity, customers, liabilities and breakage
 * reports, the chart through report_chart/host/svg) and the cards (the
 * ledger's card status, history and hot list; block and unblock audited).
 * They sit in web_api.c's role table like every other route and get a
 * request already authenticated and authorised. Hosted; uses jansson.
 */
#ifndef LEAL_WEB_PAGES_H
#define LEAL_WEB_PAGES_H

#include "host/web/web_api.h"

/* GET /api/dashboard[?program=N]: today and this month (UTC days, as the
 * reports count them), per store and in total, the outstanding liability
 * and the last 12 months as an SVG chart. Every figure is read in one read
 * snapshot of the ledger (report_db_begin) and the answer is kept per
 * program (struct web_dash_cache) while it stays exact. */
void web_dashboard(struct web_req *r);

/* web_dashboard in two halves, so that one computation can answer every
 * request waiting for it (web_server.c's flight). web_dash_key_of: what r
 * asks for (its program, checked against r's user; the program's zone read
 * from r->l; the second it asks at); false after setting r's error.
 * web_dash_in_snapshot: the answer into r, read through r->reports inside
 * the snapshot the caller holds (report_db_begin, whose version is
 * version), from r->dash when kept there for that version. */
struct web_dash_key {
    int64_t program, now;
    char tz[LEDGER_ZONE];
};
bool web_dash_key_of(struct web_req *r, struct web_dash_key *k);
void web_dash_in_snapshot(struct web_req *r, const struct web_dash_key *k, int64_t version);

/* The dashboard's answers, one per program (the least recently used goes
 * when full). An answer is given again only while the ledger file's data
 * version (report_db_version: any commit by any connection or process
 * changes it) and the periods it covers (the program's zone, today's and
 * the month's first second, today's UTC day) are those it was computed
 * for; anything else computes it anew. */
#define WEB_DASH_CACHED 16
struct web_dash_cache {
    struct web_dash_answer {
        int64_t program, version, utc_day, day_at, month_at, to_at;
        char tz[LEDGER_ZONE];
        json_t *out; /* NULL: empty slot */
        uint64_t used;
    } a[WEB_DASH_CACHED];
    uint64_t clock;
};
void web_dash_cache_free(struct web_dash_cache *c);

/* GET /api/cards/:id: status, history; POST /api/cards/:id with
 * {"block": true|false, "reason": TEXT}: blocks or unblocks it, the reason
 * in the card's history and the audit log; GET /api/hotlist[?program=N]. */
void web_card_view(struct web_req *r);
void web_card_status(struct web_req *r);
void web_hotlist(struct web_req *r);

/* GET /api/terminals[?program=N]: each terminal (ledger_terminals.h) and
 * the program's open reconciliation findings; GET /api/settlement
 * [?program=N&from=YYYY-MM-DD&to=YYYY-MM-DD] (default: this month): the
 * settlement report's rows per month and shop (a collective only). */
void web_terminals(struct web_req *r);
void web_settlement(struct web_req *r);

/* GET /api/rules[?program=N]: the current rule set (tiers, earning rules,
 * stamp cards, rewards, bonos, with their names); POST /api/rules/simulate
 * ({"rule", "multiplier_milli"/"bonus_points", "from", "to"}): the past
 * sales replayed under the set with that change; PUT /api/rules/:id
 * (the same and "reason"): saves it as the next version (web_rules.c). */
void web_rules(struct web_req *r);
void web_rules_simulate(struct web_req *r);
void web_rule_edit(struct web_req *r);
/* A simulation's period: the body's "from" and "to", local dates
 * YYYY-MM-DD (false after answering 400); its answer: the program, the
 * period, the sales' accounts, sales, real points, the points under the
 * current rules and with the change. */
struct ledger_sim_totals;
bool web_sim_period(struct web_req *r, const char **from, const char **to);
json_t *web_sim_json(int64_t program, const char *from, const char *to,
                     const struct ledger_sim_totals *now, const struct ledger_sim_totals *with);
/* The promotions page's tiers, rewards, stamp cards and bono kinds
 * (web_catalogue.c): POST /api/catalogue/simulate and PUT /api/catalogue. */
void web_catalogue_simulate(struct web_req *r);
void web_catalogue_edit(struct web_req *r);

/* The program a request is about: ?program=N if r's user sees it, else the
 * user's first (an admin: the lowest id). false after setting the answer
 * (403 for another store's, 404 when there is none). */
bool web_program_of(struct web_req *r, int64_t *program);

#endif
