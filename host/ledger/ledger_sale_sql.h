/*
 * ledger_sale_sql.h - the lookups of ledger_sale.c and ledger_simulate.c that
 * run per sale or per account, so that ledger_check_plans proves each is an
 * index search. Private to host/ledger. Hosted.
 */
#ifndef LEAL_LEDGER_SALE_SQL_H
#define LEAL_LEDGER_SALE_SQL_H

#define SALE_PERIOD_SQL                                                                            \
    "SELECT coalesce(max(period_after), 0) FROM sale WHERE account_id = ?1 AND at < ?2"

#define SALE_REFUND_PERIOD_SQL                                                                     \
    "SELECT coalesce(max(period_after), 0) FROM sale_refund WHERE "                                \
    "account_id = ?1 AND at < ?2"

/* The newest desk welcome (issuance's "card:ID:welcome" entry) of any card of the account. */
#define SALE_DESK_WELCOME_SQL                                                                      \
    "SELECT coalesce(max(e.at), 0) FROM card c JOIN entry e ON e.request_id = 'card:' || "         \
    "c.card_id || ':welcome' WHERE c.account_id = ?1 AND e.at < ?2"

/* The points the account owes: what refunds could not take back, less what sales settled. */
#define SALE_OWED_SQL                                                                              \
    "SELECT (SELECT coalesce(sum(points_short), 0) FROM sale_refund WHERE account_id = ?1) - "     \
    "(SELECT coalesce(sum(owed_settled), 0) FROM sale WHERE account_id = ?1)"

#define SALE_BUCKETS_SQL                                                                           \
    "SELECT s.period, s.units - coalesce((SELECT sum(r.units_back) FROM "                          \
    "sale_refund r WHERE r.sale_id = s.id AND r.at < ?4), 0) FROM sale s "                         \
    "WHERE s.account_id = ?1 AND s.period BETWEEN ?2 AND ?3 AND s.at < ?4"

#define SALE_TODAY_SQL                                                                             \
    "SELECT n.rule_id, sum(n.points) FROM sale s JOIN sale_line n ON "                             \
    "n.sale_id = s.id WHERE s.account_id = ?1 AND s.local_date = ?2 "                              \
    "AND n.source = 4 GROUP BY n.rule_id"

#define SALE_LINES_BEFORE_SQL                                                                      \
    "SELECT coalesce(sum(n.amount), 0) FROM line n JOIN entry e ON "                               \
    "e.id = n.entry_id WHERE n.account_id = ?1 AND n.asset = ?2 AND "                              \
    "e.at < ?3"

#define SALE_REFUND_BY_REQUEST_SQL                                                                 \
    "SELECT id, sale_id, account_id, amount_cents, coalesce(entry_id, "                            \
    "0), points_back, points_short, units_back, content_hash, "                                    \
    "(SELECT coalesce(sum(p.amount_cents), 0) FROM sale_refund p WHERE "                           \
    "p.sale_id = r.sale_id AND p.id < r.id), (SELECT amount_cents "                                \
    "FROM sale WHERE id = r.sale_id) FROM sale_refund r WHERE "                                    \
    "request_id = ?1"

/* The simulated period's events, one account after the other, each in time order. */
#define SIM_EVENTS_SQL                                                                             \
    "SELECT account_id, at, 0, id, amount_cents, store_id, local_date, local_time, points FROM "   \
    "sale WHERE program_id = ?1 AND local_date BETWEEN ?2 AND ?3 UNION ALL SELECT r.account_id, "  \
    "r.at, 1, r.id, r.amount_cents, r.sale_id, r.local_date, '00:00:00', r.points_back FROM "      \
    "sale_refund r JOIN sale s ON s.id = r.sale_id WHERE s.program_id = ?1 AND r.local_date "      \
    "BETWEEN ?2 AND ?3 ORDER BY 1, 2, 3, 4"

#define SALE_SQL_LOOKUPS                                                                           \
    SALE_PERIOD_SQL, SALE_REFUND_PERIOD_SQL, SALE_DESK_WELCOME_SQL, SALE_OWED_SQL,                 \
        SALE_BUCKETS_SQL, SALE_TODAY_SQL, SALE_LINES_BEFORE_SQL, SALE_REFUND_BY_REQUEST_SQL,       \
        SIM_EVENTS_SQL

#endif
