/*
 * report_sum_sql.h - the SQL of the report summaries (rep7, issue 17):
 * report_day and report_visit (REPORT_SUMMARY_MIGRATION in schema.c), and
 * the same rows computed from the entries after a mark: every write
 * transaction that posted entries adds theirs just before its COMMIT
 * (store.c, from the entries after report_mark, then moves the mark), the
 * migration adds every entry's, ledger_verify compares all of them. Part of a
 * released migration once merged: change nothing here then, add new macros
 * for a new one. Aliases: e an entry, r the entry a void reverses, l a
 * line, a its account, c the card. Private to host/ledger. Hosted.
 */
#ifndef LEAL_LEDGER_REPORT_SUM_SQL_H
#define LEAL_LEDGER_REPORT_SUM_SQL_H

/* An entry's UTC day (days since 1970). */
#define RS_DAY "e.at / 86400"
/* The entry a void reverses, and the kind an entry counts as. */
#define RS_REVERSED "LEFT JOIN entry r ON r.id = e.reverses AND e.kind = 'void'"
#define RS_KIND "coalesce(r.kind, e.kind)"
#define RS_CARD "LEFT JOIN card c ON c.card_id = coalesce(e.card_id, r.card_id)"
/* An entry's key and sales: an earn or a purse payment is a sale, its
 * void takes one back; by what identified the customer (c). */
#define RS_SIGN                                                                                    \
    "CASE WHEN " RS_KIND " IN ('earn','spend') THEN CASE WHEN e.kind = 'void' THEN -1 ELSE 1 END " \
    "ELSE 0 END"
#define RS_ENTRY_SALES                                                                             \
    "e.program_id, " RS_DAY ", coalesce(e.store_id, 0), CASE WHEN c.tech IS NOT NULL AND c.tech "  \
    "<> 'virtual-qr' THEN " RS_SIGN " ELSE 0 END, CASE WHEN c.tech = 'virtual-qr' THEN " RS_SIGN   \
    " ELSE 0 END, CASE WHEN c.tech IS NULL THEN " RS_SIGN " ELSE 0 END, 0, 0, 0, 0, 0, 0, 0"
/* A line's key and figures: points issued, redeemed, expired and adjusted
 * (the program accounts' other side), purse euros loaded and spent (a
 * customer's or gift card's), and 1 for a line on one of the three point
 * accounts. */
#define RS_LINE_FIGURES                                                                            \
    "e.program_id, " RS_DAY ", coalesce(e.store_id, 0), 0, 0, 0, CASE WHEN a.name = "              \
    "'points_issued' AND l.asset = 'PTS' THEN -l.amount ELSE 0 END, CASE WHEN a.name = "           \
    "'points_redeemed' AND l.asset = 'PTS' THEN l.amount ELSE 0 END, CASE WHEN a.name = "          \
    "'points_expired' AND l.asset = 'PTS' THEN l.amount ELSE 0 END, CASE WHEN a.name = "           \
    "'adjustments' AND l.asset = 'PTS' THEN -l.amount ELSE 0 END, CASE WHEN a.kind <> 'program' "  \
    "AND l.asset = 'EUR' AND " RS_KIND " IN ('topup','gift_sale') THEN l.amount ELSE 0 END, CASE " \
    "WHEN a.kind <> 'program' AND l.asset = 'EUR' AND " RS_KIND " IN ('spend','refund') THEN "     \
    "-l.amount ELSE 0 END, CASE WHEN a.kind = 'program' AND l.asset = 'PTS' AND a.name IN "        \
    "('points_issued','points_redeemed','points_expired') THEN 1 ELSE 0 END"
#define RS_LINE_JOINS                                                                              \
    "CROSS JOIN entry e ON e.id = l.entry_id CROSS JOIN account a ON a.id = "                      \
    "l.account_id " RS_REVERSED
/* A line that moves a figure. */
#define RS_LINE_COUNTS                                                                             \
    "((l.asset = 'PTS' AND a.kind = 'program' AND a.name IN ('points_issued','points_redeemed',"   \
    "'points_expired','adjustments')) OR (l.asset = 'EUR' AND a.kind <> 'program' AND " RS_KIND    \
    " IN ('topup','gift_sale','spend','refund')))"
/* A customer's movement (expiries aside: not something they did). */
#define RS_VISIT "a.kind = 'customer' AND e.kind <> 'expire'"

#define REPORT_DAY_COLS                                                                            \
    "program_id, day, store_id, sales_card, sales_qr, sales_no_card, points_issued, "              \
    "points_redeemed, points_expired, points_adjusted, purse_loaded, purse_spent, point_lines"
#define REPORT_DAY_ADD                                                                             \
    " ON CONFLICT (program_id, day, store_id) DO UPDATE SET sales_card = sales_card + "            \
    "excluded.sales_card, sales_qr = sales_qr + excluded.sales_qr, sales_no_card = "               \
    "sales_no_card + excluded.sales_no_card, points_issued = points_issued + "                     \
    "excluded.points_issued, points_redeemed = points_redeemed + excluded.points_redeemed, "       \
    "points_expired = points_expired + excluded.points_expired, points_adjusted = "                \
    "points_adjusted + excluded.points_adjusted, purse_loaded = purse_loaded + "                   \
    "excluded.purse_loaded, purse_spent = purse_spent + excluded.purse_spent, point_lines = "      \
    "point_lines + excluded.point_lines"
#define REPORT_VISIT_COLS "program_id, customer_id, month, first_day, last_day"

/* The rows of report_day and report_visit computed from the entries
 * after entry id M (and their lines). */
#define REPORT_DAY_FROM(M)                                                                         \
    "WITH u(program_id, day, store_id, c1, c2, c3, p1, p2, p3, p4, e1, e2, n) AS "                 \
    "(SELECT " RS_ENTRY_SALES " FROM entry e " RS_REVERSED " " RS_CARD " WHERE e.id > " M          \
    " UNION ALL SELECT " RS_LINE_FIGURES " FROM line l " RS_LINE_JOINS " WHERE l.entry_id > " M    \
    " AND " RS_LINE_COUNTS ") SELECT program_id, day, store_id, sum(c1) AS c1, sum(c2) AS c2, "    \
    "sum(c3) AS c3, sum(p1) AS p1, sum(p2) AS p2, sum(p3) AS p3, sum(p4) AS p4, sum(e1) AS e1, "   \
    "sum(e2) AS e2, sum(n) AS n FROM u GROUP BY program_id, day, store_id"
/* (The month of each customer's day, not of each line: fewer date
 * conversions.) */
#define REPORT_VISIT_FROM(M)                                                                       \
    "SELECT program_id, customer_id, CAST(julianday(strftime('%Y-%m-01', day * 86400, "            \
    "'unixepoch')) - 2440587.5 AS INTEGER) AS month, min(day) AS first_day, max(day) AS last_day " \
    "FROM (SELECT DISTINCT e.program_id AS program_id, a.customer_id AS customer_id, " RS_DAY      \
    " AS day FROM line l " RS_LINE_JOINS " WHERE l.entry_id > " M " AND " RS_VISIT                 \
    ") GROUP BY 1, 2, 3"

/* The last entry the summaries hold. */
#define REPORT_MARK "(SELECT entry_id FROM report_mark WHERE id = 1)"
/* What a transaction adds before its COMMIT, in this order. */
#define REPORT_DAY_FLUSH                                                                           \
    "INSERT INTO report_day(" REPORT_DAY_COLS                                                      \
    ") SELECT * FROM (" REPORT_DAY_FROM(REPORT_MARK) ") WHERE true" REPORT_DAY_ADD
#define REPORT_VISIT_FLUSH                                                                         \
    "INSERT INTO report_visit(" REPORT_VISIT_COLS ") SELECT * FROM (" REPORT_VISIT_FROM(           \
        REPORT_MARK) ") WHERE true ON CONFLICT (program_id, month, customer_id) DO "               \
                     "UPDATE SET first_day = min(first_day, excluded.first_day), last_day = "      \
                     "max(last_day, "                                                              \
                     "excluded.last_day) WHERE excluded.first_day < first_day OR "                 \
                     "excluded.last_day > last_day"
#define REPORT_MARK_MOVE                                                                           \
    "UPDATE report_mark SET entry_id = coalesce((SELECT max(id) FROM entry), 0) WHERE id = 1"

/* rep8 (REP8_MIGRATION in schema.c): report_held and report_redeem, the
 * summaries of liabilities at a date and of redemptions, brought up to date
 * with the two above (store.c). */
/* The net movement per program, month (its first day, days since 1970),
 * customer or gift card account and asset: the lines of the program's
 * entries on its non-program accounts (the month of each line's day, not of
 * each line: fewer date conversions). */
#define REPORT_HELD_COLS "program_id, month, account_id, asset, amount"
#define REPORT_HELD_FROM(M) REPORT_HELD_WHERE("l.entry_id > " M)
#define REPORT_HELD_WHERE(W)                                                                       \
    "SELECT program_id, CAST(julianday(strftime('%Y-%m-01', day * 86400, 'unixepoch')) - "         \
    "2440587.5 AS INTEGER) AS month, account_id, asset, sum(amount) AS amount FROM (SELECT "       \
    "e.program_id AS program_id, " RS_DAY                                                          \
    " AS day, l.account_id AS account_id, l.asset AS asset, "                                      \
    "sum(l.amount) AS amount FROM line l CROSS JOIN entry e ON e.id = l.entry_id CROSS JOIN "      \
    "account a ON a.id = l.account_id WHERE " W " AND a.kind <> 'program' AND "                    \
    "a.program_id = e.program_id GROUP BY 1, 2, 3, 4) GROUP BY 1, 2, 3, 4"
/* Per program, UTC day, store (0: none), reward (the redeeming entry's
 * reference, or its reason when it has none; a void, or a sale's refund
 * that undoes the stamp rewards the sale gave, counts -1 against the entry
 * it reverses) and asset: how many redemptions and how many units, from
 * the lines on the points_redeemed and stamps_redeemed accounts. (rep10:
 * a refund counted +1 under its own reason, "sale refund": 85 rewards of
 * which 5 undone were 90 redemptions.) */
/* The entry a redemption's void or refund undoes (r). */
#define RS_UNDONE "LEFT JOIN entry r ON r.id = e.reverses AND e.kind IN ('void','refund')"
#define REPORT_REDEEM_COLS "program_id, day, store_id, reward, asset, redemptions, units"
#define REPORT_REDEEM_FROM(M) REPORT_REDEEM_WHERE("l.entry_id > " M)
#define REPORT_REDEEM_WHERE(W)                                                                     \
    "SELECT e.program_id AS program_id, " RS_DAY " AS day, coalesce(e.store_id, 0) AS store_id, "  \
    "CASE WHEN coalesce(r.reference, e.reference) <> '' THEN coalesce(r.reference, e.reference) "  \
    "ELSE coalesce(r.reason, e.reason) END AS reward, l.asset AS asset, sum(CASE WHEN e.kind IN "  \
    "('void','refund') THEN -1 ELSE 1 END) AS redemptions, sum(l.amount) AS units FROM line l "    \
    "CROSS JOIN entry e ON e.id = l.entry_id CROSS JOIN account a ON a.id = "                      \
    "l.account_id " RS_UNDONE " WHERE " W " AND a.kind = 'program' AND "                           \
    "a.program_id = e.program_id AND a.name IN ('points_redeemed', 'stamps_redeemed') GROUP BY "   \
    "1, 2, 3, 4, 5"
#define REPORT_HELD_FLUSH                                                                          \
    "INSERT INTO report_held(" REPORT_HELD_COLS ") SELECT * FROM (" REPORT_HELD_FROM(              \
        REPORT_MARK) ") WHERE true ON CONFLICT (program_id, month, account_id, asset) DO UPDATE "  \
                     "SET amount = amount + excluded.amount"
#define REPORT_REDEEM_FLUSH                                                                        \
    "INSERT INTO report_redeem(" REPORT_REDEEM_COLS ") SELECT * FROM (" REPORT_REDEEM_FROM(        \
        REPORT_MARK) ") WHERE true ON CONFLICT (program_id, day, store_id, reward, asset) DO "     \
                     "UPDATE SET redemptions = redemptions + excluded.redemptions, units = units " \
                     "+ excluded.units"

#endif
