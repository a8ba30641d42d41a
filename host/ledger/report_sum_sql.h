/*
 * report_sum_sql.h - the SQL of the report summaries (rep7, issue 17):
 * report_day and report_visit, kept by triggers (REPORT_SUMMARY_MIGRATION in
 * schema.c), and the same rows computed from the entries, which the
 * migration fills them with and ledger_verify compares them to. Part of a
 * released migration once merged: change nothing here then, add new macros
 * for a new one. Aliases: e an entry, r the entry a void reverses, l a
 * line, a its account, c the card. Private to host/ledger. Hosted.
 */
#ifndef LEAL_LEDGER_REPORT_SUM_SQL_H
#define LEAL_LEDGER_REPORT_SUM_SQL_H

/* An entry's UTC day, and the first day of its month (days since 1970). */
#define RS_DAY "e.at / 86400"
#define RS_MONTH "CAST(julianday(strftime('%Y-%m-01', e.at, 'unixepoch')) - 2440587.5 AS INTEGER)"
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
    "JOIN entry e ON e.id = l.entry_id JOIN account a ON a.id = l.account_id " RS_REVERSED
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

/* The new row of a trigger as e (an entry) or l (a line). */
#define RS_NEW_ENTRY                                                                               \
    "(SELECT NEW.program_id AS program_id, NEW.kind AS kind, NEW.at AS at, NEW.store_id AS "       \
    "store_id, NEW.reverses AS reverses, NEW.card_id AS card_id) e"
#define RS_NEW_LINE                                                                                \
    "(SELECT NEW.entry_id AS entry_id, NEW.account_id AS account_id, NEW.asset AS asset, "         \
    "NEW.amount AS amount) l"

/* The rows of report_day and report_visit computed from the entries. */
#define REPORT_DAY_FROM_ENTRIES                                                                    \
    "WITH u(program_id, day, store_id, c1, c2, c3, p1, p2, p3, p4, e1, e2, n) AS "                 \
    "(SELECT " RS_ENTRY_SALES " FROM entry e " RS_REVERSED " " RS_CARD                             \
    " UNION ALL SELECT " RS_LINE_FIGURES " FROM line l " RS_LINE_JOINS " WHERE " RS_LINE_COUNTS    \
    ") SELECT program_id, day, store_id, "                                                         \
    "sum(c1) AS c1, sum(c2) AS c2, sum(c3) AS c3, sum(p1) AS p1, sum(p2) AS p2, sum(p3) AS p3, "   \
    "sum(p4) AS p4, sum(e1) AS e1, sum(e2) AS e2, sum(n) AS n FROM u GROUP BY program_id, day, "   \
    "store_id"
#define REPORT_VISIT_FROM_ENTRIES                                                                  \
    "SELECT e.program_id AS program_id, a.customer_id AS customer_id, " RS_MONTH " AS month, "     \
    "min(" RS_DAY ") AS first_day, max(" RS_DAY ") AS last_day FROM line l JOIN entry e ON e.id "  \
    "= l.entry_id JOIN account a ON a.id = l.account_id WHERE " RS_VISIT " GROUP BY 1, 2, 3"

/* The triggers: an entry adds its sales to its day's row (making the row),
 * a line that moves a figure adds it, a customer's line widens their
 * month's first and last day. */
#define REPORT_DAY_ENTRY_TRIGGER                                                                   \
    "CREATE TRIGGER report_day_entry AFTER INSERT ON entry BEGIN INSERT INTO "                     \
    "report_day(" REPORT_DAY_COLS ") SELECT " RS_ENTRY_SALES " FROM " RS_NEW_ENTRY " " RS_REVERSED \
    " " RS_CARD " WHERE true" REPORT_DAY_ADD "; END;"
#define REPORT_DAY_LINE_TRIGGER                                                                    \
    "CREATE TRIGGER report_day_line AFTER INSERT ON line WHEN NEW.asset IN ('PTS','EUR') BEGIN "   \
    "INSERT INTO report_day(" REPORT_DAY_COLS ") SELECT " RS_LINE_FIGURES " FROM " RS_NEW_LINE     \
    " " RS_LINE_JOINS " WHERE " RS_LINE_COUNTS REPORT_DAY_ADD "; END;"
#define REPORT_VISIT_LINE_TRIGGER                                                                  \
    "CREATE TRIGGER report_visit_line AFTER INSERT ON line BEGIN INSERT INTO "                     \
    "report_visit(" REPORT_VISIT_COLS ") SELECT e.program_id, a.customer_id, " RS_MONTH            \
    ", " RS_DAY ", " RS_DAY " FROM " RS_NEW_LINE                                                   \
    " JOIN entry e ON e.id = l.entry_id JOIN account a ON a.id = "                                 \
    "l.account_id WHERE " RS_VISIT " ON CONFLICT (program_id, month, customer_id) DO UPDATE SET "  \
    "first_day = min(first_day, excluded.first_day), last_day = max(last_day, "                    \
    "excluded.last_day); END;"

#endif
