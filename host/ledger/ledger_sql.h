/*
 * ledger_sql.h - SQL text a concern runs and ledger_check_plans reads too, so
 * that the plan check tests the very statements the concerns prepare.
 * Private to host/ledger. Hosted.
 */
#ifndef LEAL_LEDGER_SQL_H
#define LEAL_LEDGER_SQL_H

#define CUSTOMER_COLUMNS                                                                           \
    "c.id, c.program_id, c.account_id, "                                                           \
    "c.created_at, p.name, p.surname, p.email, p.phone, p.birth_date, p.gender, p.address, "       \
    "p.preferences FROM customer c JOIN customer_pii p ON p.customer_id = c.id"

#define NOTES_SQL                                                                                  \
    "SELECT id, at, author, text, coalesce(user_id, 0), coalesce(edited_at, 0) FROM "              \
    "customer_note "                                                                               \
    "WHERE customer_id = ?1 ORDER BY id"

#define CARD_COLUMNS                                                                               \
    "c.card_id, c.account_id, a.program_id, c.uid, c.tech, c.status, c.keyset_version, "           \
    "c.layout_version, c.last_counter, c.issued_at, coalesce(c.seen_at, 0), "                      \
    "coalesce(c.seen_seq, 0), coalesce(c.seen_purse, 0), coalesce(c.seen_points, 0), "             \
    "c.seen_mark, c.synced_entry FROM card c JOIN account a ON a.id = c.account_id"

#define CARD_KEYS_SQL "SELECT role, version FROM card_key WHERE card_id = ?1"

/* Live cards of a program on a role's version, and those with none recorded. */
#define CARD_KEYS_COUNT_SQL                                                                        \
    "SELECT count(*), count(*) FILTER (WHERE k.version IS NULL) FROM card c JOIN account a ON "    \
    "a.id = c.account_id LEFT JOIN card_key k ON k.card_id = c.card_id AND k.role = ?2 WHERE "     \
    "a.program_id = ?1 AND c.status IN ('pending','active','blocked') AND (k.version IS NULL OR "  \
    "k.version = ?3)"

#define CARD_REWRITE_SQL                                                                           \
    "SELECT r.card_id, r.span FROM card c JOIN card_identity_rewrite r ON r.card_id = c.card_id "  \
    "WHERE c.uid = ?1 AND c.status IN ('pending','active','blocked') ORDER BY r.created_at DESC, " \
    "r.card_id DESC LIMIT 1 OFFSET ?2"

#define CARD_EVENT_COLUMNS "e.id, e.card_id, e.at, e.status, e.reason, e.operator"

#define CARD_HISTORY_SQL                                                                           \
    "SELECT " CARD_EVENT_COLUMNS " FROM card_event e WHERE e.card_id = ?1 ORDER BY e.id"

/* The newest event of each hot card; card_hot serves the status test. */
#define CARD_HOTLIST_SQL                                                                           \
    "SELECT " CARD_EVENT_COLUMNS " FROM card c JOIN account a ON a.id = c.account_id"              \
    " JOIN card_event e ON e.id = (SELECT max(id) FROM card_event WHERE card_id = c.card_id)"      \
    " WHERE c.status IN ('blocked','lost','replaced') AND a.program_id = ?1 ORDER BY c.card_id"

#define DRIFT_SQL                                                                                  \
    "SELECT coalesce(sum(n.amount), 0), count(DISTINCT e.id), coalesce(max(e.id), 0) FROM card c " \
    "JOIN line n ON n.account_id = c.account_id AND n.entry_id > c.synced_entry JOIN entry e ON "  \
    "e.id = n.entry_id WHERE c.card_id = ?1 AND n.asset = 'PTS' AND e.terminal_id IS NULL AND "    \
    "(e.request_id IS NULL OR substr(e.request_id, 1, 5) <> 'card:')"

#define PENDING_SYNC_SQL                                                                           \
    "SELECT card_id, seq_before, seq_after, points_after, points, upto_entry, created_at FROM "    \
    "card_pending_sync WHERE card_id = ?1"

/* Every desk read of a Classic card asks this. */
#define PENDING_TOPUP_SQL                                                                          \
    "SELECT card_id, seq_before, seq_after, purse_after, cents, request_id, created_at, mark, "    \
    "coalesce(store_id, 0) FROM card_pending_topup WHERE card_id = ?1"

#define MOVEMENT_COLUMNS                                                                           \
    "e.id, e.at, e.kind, e.reason, e.operator, e.reference, e.reverses, n.account_id, n.asset, "   \
    "n.amount, s.timezone FROM line n JOIN entry e ON e.id = n.entry_id LEFT JOIN store s ON "     \
    "s.id = e.store_id"

#define HISTORY_SQL                                                                                \
    "SELECT " MOVEMENT_COLUMNS " WHERE n.account_id = ?1 AND n.entry_id IN (SELECT DISTINCT "      \
    "entry_id FROM line WHERE account_id = ?1 AND entry_id < ?2 ORDER BY entry_id DESC LIMIT "     \
    "?3) ORDER BY n.entry_id DESC, n.id"

/* The latest consent of customer c.id for channel ch.channel and purpose
 * P (a bare word: marketing, service or profiling) is a grant. */
#define MSG_CHANNEL_CONSENT(P)                                                                     \
    "(SELECT k.granted FROM consent k WHERE k.customer_id = c.id AND k.channel = ch.channel AND "  \
    "instr(',' || k.purposes || ',', '," P ",') > 0 ORDER BY k.id DESC LIMIT 1) = 1"
/* The customers c of program ?1 a message of purpose P can reach, each
 * with every channel ch the program sends on (message_channel: e-mail with
 * mail settings, SMS and WhatsApp with a gateway) that reaches them: not
 * erased, with the channel's address (p: the e-mail address, else the
 * phone) and that channel's consent for P ("service" for the occasions and
 * tier messages, "marketing" for campaigns). */
#define MSG_REACHABLE_FOR(P)                                                                       \
    "customer c JOIN customer_pii p ON p.customer_id = c.id JOIN message_channel ch ON "           \
    "ch.program_id = c.program_id WHERE c.program_id = ?1 AND c.erased_at IS NULL AND "            \
    "(CASE ch.channel WHEN 'email' THEN p.email ELSE p.phone END) <> '' AND " MSG_CHANNEL_CONSENT( \
        P)
#define MSG_REACHABLE MSG_REACHABLE_FOR("service")

#endif
