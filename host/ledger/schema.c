/*
 * schema.c - the ledger's schema as forward migrations. migrations[i] takes
 * a database from user_version i to i+1; a released migration is never
 * edited, only followed by a new one (and LEDGER_SCHEMA_VERSION raised).
 * Every lookup the CLI makes has its index here.
 */
#include "schema.h"

#include <stddef.h>

#include "report_sum_sql.h"

/* Terminal journals taken by the host (issue 14, host/ledger/ledger_terminal.h):
 * every entry of every export, by (terminal, epoch, sequence), with its MAC
 * (the next export chains to it, a repeat is recognised by it) and its bytes
 * (evidence), what the import did with it, and the ledger entry it posted.
 * Findings name what the import saw and could not explain (a broken MAC or
 * chain, a gap, a key taken twice, an epoch restarted, an entry lost to
 * power, a card showing more than the ledger holds, a post the ledger
 * refused): a row per (terminal, epoch, sequence, kind); sequence 0 is the
 * export as a whole. Kept in one macro so it moves to the next number by
 * moving one line. */
#define SYNC_MIGRATION                                                                             \
    "CREATE TABLE terminal_entry("                                                                 \
    " terminal_id INTEGER NOT NULL REFERENCES terminal(id),"                                       \
    " epoch INTEGER NOT NULL CHECK (epoch BETWEEN 1 AND 4294967295),"                              \
    " seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 4294967295),"                                  \
    " op INTEGER NOT NULL CHECK (op BETWEEN 1 AND 255),"                                           \
    " card_id INTEGER,"                                                                            \
    " at INTEGER NOT NULL,"                                                                        \
    " key_version INTEGER NOT NULL CHECK (key_version BETWEEN 1 AND 255),"                         \
    " mac BLOB NOT NULL CHECK (length(mac) = 16),"                                                 \
    " outcome TEXT NOT NULL CHECK (outcome IN ('posted','recorded','held','undone')),"             \
    " entry_id INTEGER REFERENCES entry(id),"                                                      \
    " raw BLOB NOT NULL CHECK (length(raw) BETWEEN 128 AND 394),"                                  \
    " taken_at INTEGER NOT NULL,"                                                                  \
    " CHECK (outcome <> 'posted' OR entry_id IS NOT NULL),"                                        \
    " PRIMARY KEY (terminal_id, epoch, seq)) STRICT, WITHOUT ROWID;"                               \
    "CREATE INDEX terminal_entry_card ON terminal_entry(card_id) WHERE card_id IS NOT NULL;"       \
    "CREATE INDEX terminal_entry_held ON terminal_entry(at) WHERE outcome = 'held';"               \
    "CREATE TABLE sync_finding("                                                                   \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " at INTEGER NOT NULL,"                                                                        \
    " terminal_id INTEGER NOT NULL REFERENCES terminal(id),"                                       \
    " epoch INTEGER NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),"                              \
    " seq INTEGER NOT NULL CHECK (seq BETWEEN 0 AND 4294967295),"                                  \
    " card_id INTEGER,"                                                                            \
    " kind TEXT NOT NULL CHECK (kind IN ('mac','chain','gap','conflict','epoch','recovery',"       \
    "  'card_excess','held')),"                                                                    \
    " detail TEXT NOT NULL,"                                                                       \
    " UNIQUE (terminal_id, epoch, seq, kind)) STRICT;"                                             \
    "CREATE INDEX sync_finding_card ON sync_finding(card_id) WHERE card_id IS NOT NULL;"

/* Reconciliation's findings (host/ledger/ledger_reconcile.h): one row per
 * (kind, card, terminal, evidence), 0 for no card or no terminal; run is the
 * reconciliation that last saw it (a gap it no longer sees is resolved).
 * Kept in one macro so it moves to the next number by moving one line. */
#define RECONCILE_MIGRATION                                                                        \
    "CREATE TABLE reconcile_finding("                                                              \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " card_id INTEGER NOT NULL CHECK (card_id >= 0),"                                              \
    " terminal_id INTEGER NOT NULL CHECK (terminal_id >= 0),"                                      \
    " kind TEXT NOT NULL CHECK (kind IN ('gap','doubt','clone','rollback','balance','tamper',"     \
    "  'cap')),"                                                                                   \
    " fraud INTEGER NOT NULL CHECK (fraud IN (0, 1)),"                                             \
    " evidence TEXT NOT NULL,"                                                                     \
    " detail TEXT NOT NULL,"                                                                       \
    " found_at INTEGER NOT NULL,"                                                                  \
    " state TEXT NOT NULL CHECK (state IN ('open','accepted','resolved')),"                        \
    " reason TEXT,"                                                                                \
    " operator TEXT,"                                                                              \
    " closed_at INTEGER,"                                                                          \
    " run INTEGER NOT NULL,"                                                                       \
    " CHECK (state <> 'accepted' OR reason IS NOT NULL),"                                          \
    " UNIQUE (kind, card_id, terminal_id, evidence)) STRICT;"                                      \
    "CREATE INDEX reconcile_finding_card ON reconcile_finding(card_id, state);"

/* A bono's last day in the ledger (house, issue 12): the day the card's bono
 * file says (LAYOUT.md 4.2, days since 1970-01-01, 0: none), set when a sale
 * is posted from the file it wrote, so a replacement card carries the bono
 * with the same last day. NULL: sold before the ledger kept it; the next
 * desk read of the card records the card's. One macro, so it moves to the
 * next number by moving one line. */
#define BONO_LAST_DAY_MIGRATION                                                                    \
    "ALTER TABLE bono_holding ADD COLUMN last_day INTEGER"                                         \
    " CHECK (last_day IS NULL OR last_day BETWEEN 0 AND 65535);"

/* Settlement between the shops of a collective (house, issue 14,
 * host/ledger/ledger_settle.h): the value of a point the program settles
 * at (history kept: the newest row is the value), and each settled period:
 * the entries it took are those with id <= upto_entry and at < end_at not
 * taken by the period before, so an entry posted after a period closed goes
 * to the next one. One macro, so it moves to the next number by moving one
 * line. */
#define SETTLE_MIGRATION                                                                           \
    "CREATE TABLE settle_value("                                                                   \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " point_value_cents INTEGER NOT NULL CHECK (point_value_cents BETWEEN 1 AND 100000),"          \
    " at INTEGER NOT NULL,"                                                                        \
    " operator TEXT NOT NULL CHECK (operator <> '')) STRICT;"                                      \
    "CREATE INDEX settle_value_program ON settle_value(program_id, id);"                           \
    "CREATE TABLE settlement("                                                                     \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " period TEXT NOT NULL CHECK (length(period) = 7),"                                            \
    " end_at INTEGER NOT NULL,"                                                                    \
    " upto_entry INTEGER NOT NULL CHECK (upto_entry >= 0),"                                        \
    " point_value_cents INTEGER NOT NULL CHECK (point_value_cents >= 1),"                          \
    " at INTEGER NOT NULL,"                                                                        \
    " operator TEXT NOT NULL CHECK (operator <> ''),"                                              \
    " PRIMARY KEY (program_id, period)) STRICT, WITHOUT ROWID;"                                    \
    "CREATE TRIGGER settlement_closed_u BEFORE UPDATE ON settlement"                               \
    " BEGIN SELECT RAISE(ABORT, 'a settled period is closed'); END;"                               \
    "CREATE TRIGGER settlement_closed_d BEFORE DELETE ON settlement"                               \
    " BEGIN SELECT RAISE(ABORT, 'a settled period is closed'); END;"

/* The back office's users (issue 16, host/ledger/ledger_user.h): a user has
 * one role (admin: everything; manager and staff: the stores listed in
 * web_user_store), an Argon2id hash in PHC string form, and may be disabled
 * (never deleted: the audit names them). A session is the SHA-256 of its
 * cookie's token (a copy of the database lets no one in) with its CSRF token
 * and end. The audit log: who, when, what, the object's before and after
 * (JSON text, NULL when it did not exist). One macro, so it moves to the
 * next number by moving one line. */
#define WEB_USER_MIGRATION                                                                         \
    "CREATE TABLE web_user("                                                                       \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),"                            \
    " role TEXT NOT NULL CHECK (role IN ('admin','manager','staff')),"                             \
    " pass_hash TEXT NOT NULL,"                                                                    \
    " disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"                             \
    " created_at INTEGER NOT NULL,"                                                                \
    " updated_at INTEGER NOT NULL) STRICT;"                                                        \
    "CREATE TABLE web_user_store("                                                                 \
    " user_id INTEGER NOT NULL REFERENCES web_user(id),"                                           \
    " store_id INTEGER NOT NULL REFERENCES store(id),"                                             \
    " PRIMARY KEY (user_id, store_id)) STRICT, WITHOUT ROWID;"                                     \
    "CREATE TABLE web_session("                                                                    \
    " token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),"                                \
    " user_id INTEGER NOT NULL REFERENCES web_user(id),"                                           \
    " csrf TEXT NOT NULL,"                                                                         \
    " created_at INTEGER NOT NULL,"                                                                \
    " expires_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;"                                         \
    "CREATE INDEX web_session_user ON web_session(user_id);"                                       \
    "CREATE TABLE audit("                                                                          \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " at INTEGER NOT NULL,"                                                                        \
    " user_id INTEGER REFERENCES web_user(id),"                                                    \
    " actor TEXT NOT NULL,"                                                                        \
    " action TEXT NOT NULL,"                                                                       \
    " object TEXT NOT NULL,"                                                                       \
    " before TEXT,"                                                                                \
    " after TEXT) STRICT;"
/* Host changes carried by packages (pkg, issue 14, host/ledger/ledger_host_change.h):
 * per card, the taps at which packages carry its waiting changes (up to
 * upto_entry), so that changes a terminal may have applied are never sent at
 * other taps (a desk read past them before that terminal's journal is in).
 * One macro, so it moves to the next number by moving one line. */
#define HOST_CHANGE_MIGRATION                                                                      \
    "CREATE TABLE card_host_change_sent("                                                          \
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"                                       \
    " taps INTEGER NOT NULL CHECK (taps BETWEEN 0 AND 4294967295),"                                \
    " upto_entry INTEGER NOT NULL CHECK (upto_entry > 0),"                                         \
    " at INTEGER NOT NULL) STRICT;"
/* The offline spend caps of every terminal package the host builds (sync,
 * issue 14; PACKAGE.md "Caps"), by (terminal, package version): each
 * journal entry names the version it ran under, so reconciliation compares
 * what a terminal took from a card with the caps it was given. One macro, so
 * it moves to the next number by moving one line. */
#define PACKAGE_CAPS_MIGRATION                                                                     \
    "CREATE TABLE package_caps("                                                                   \
    " terminal_id INTEGER NOT NULL REFERENCES terminal(id),"                                       \
    " version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"                          \
    " cap_day_cents INTEGER NOT NULL CHECK (cap_day_cents BETWEEN 0 AND 4294967295),"              \
    " cap_sync_cents INTEGER NOT NULL CHECK (cap_sync_cents BETWEEN cap_day_cents AND "            \
    "  4294967295),"                                                                               \
    " built_at INTEGER NOT NULL,"                                                                  \
    " PRIMARY KEY (terminal_id, version)) STRICT, WITHOUT ROWID;"

/* Sync, issue 14. A host line a terminal journaled can be undone by a later
 * settle (the write never reached the card): host_before keeps the card's
 * synced entry from before that line was taken, so the undone changes wait
 * again (ledger_host_change_undone). A desk top-up in flight keeps the store
 * the desk loaded it at, so whichever read settles it posts it there (and
 * settlement counts it for that shop). One macro, so it moves to the next
 * number by moving one line. */
#define SYNC_DESK_MIGRATION                                                                        \
    "ALTER TABLE terminal_entry ADD COLUMN host_before INTEGER CHECK (host_before >= 0);"          \
    "ALTER TABLE card_pending_topup ADD COLUMN store_id INTEGER REFERENCES store(id);"

/* Each program's e-mail settings (msg, issue 17, host/ledger/ledger_mail.h):
 * the SMTP server and the paths of the credentials and CA files; the password
 * stays in its 0600 file, never in the ledger. One macro, so it moves to the
 * next number by moving one line. */
#define MAIL_SETTINGS_MIGRATION                                                                    \
    "CREATE TABLE program_mail("                                                                   \
    " program_id INTEGER PRIMARY KEY REFERENCES program(id),"                                      \
    " host TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 253),"                                  \
    " port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),"                                     \
    " tls TEXT NOT NULL CHECK (tls IN ('starttls','tls','none')),"                                 \
    " sender TEXT NOT NULL CHECK (length(sender) BETWEEN 3 AND 254),"                              \
    " sender_name TEXT NOT NULL,"                                                                  \
    " credentials TEXT NOT NULL,"                                                                  \
    " ca_file TEXT NOT NULL,"                                                                      \
    " updated_at INTEGER NOT NULL) STRICT;"

/* The rule-set version each package carried (house, issue 12): a terminal's
 * journal entry names its package version, and a reward redeemed under it
 * (a cashback's euros) is valued by that rule set, not today's. One macro,
 * so it moves to the next number by moving one line. */
#define PACKAGE_RULES_MIGRATION                                                                    \
    "CREATE TABLE package_rules("                                                                  \
    " terminal_id INTEGER NOT NULL REFERENCES terminal(id),"                                       \
    " version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"                          \
    " rules_version INTEGER NOT NULL CHECK (rules_version BETWEEN 0 AND 4294967295),"              \
    " PRIMARY KEY (terminal_id, version)) STRICT, WITHOUT ROWID;"

/* Back-office language (web2, issue 16): each program's locale, given at
 * creation ('en' unless told), and each user's page language, Spanish by
 * default for users of Spanish programs (ledger_user_add). One macro, so it
 * moves to the next number by moving one line. */
#define WEB_LANG_MIGRATION                                                                         \
    "ALTER TABLE program ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN "           \
    "('en','es'));"                                                                                \
    "ALTER TABLE web_user ADD COLUMN lang TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en','es'));"

/* A phone's certificate caps (qr3, issue 15, host/ledger/ledger_qr.h): what
 * `leal qr enrol` certified per payment and per day, so the host can hold a
 * phone's QR payments imported from every terminal to them. One macro, so
 * it moves to the next number by moving one line. */
#define QR_CAPS_MIGRATION                                                                          \
    "CREATE TABLE qr_phone_caps("                                                                  \
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"                                       \
    " cap_tx_cents INTEGER NOT NULL CHECK (cap_tx_cents BETWEEN 1 AND 4294967295),"                \
    " cap_day_cents INTEGER NOT NULL CHECK (cap_day_cents BETWEEN cap_tx_cents AND 4294967295)"    \
    ") STRICT;"

/* Messages to customers (msg2, issue 17, host/ledger/ledger_messages.h): a
 * template per program and occasion, and one row per customer, occasion and
 * day, recorded before the message is sent (pending), claimed just before
 * the send (sending) and marked after it (sent, failed with its next try, or
 * refused); a row left in sending by a crash is never sent again. Each row
 * carries the message's unsubscribe token. One macro, so it moves to the
 * next number by moving one line. */
#define MESSAGES_MIGRATION                                                                         \
    "CREATE TABLE message_template("                                                               \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " occasion TEXT NOT NULL CHECK (occasion IN ('birthday')),"                                    \
    " subject TEXT NOT NULL CHECK (length(subject) >= 1),"                                         \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1),"                                     \
    " body_html TEXT NOT NULL,"                                                                    \
    " updated_at INTEGER NOT NULL,"                                                                \
    " PRIMARY KEY (program_id, occasion)) STRICT, WITHOUT ROWID;"                                  \
    "CREATE TABLE message_send("                                                                   \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " occasion TEXT NOT NULL,"                                                                     \
    " day TEXT NOT NULL CHECK (length(day) = 10),"                                                 \
    " token TEXT NOT NULL UNIQUE CHECK (length(token) = 32),"                                      \
    " state TEXT NOT NULL CHECK (state IN ('pending','sending','sent','failed','refused',"         \
    "'unknown','skipped')),"                                                                       \
    " attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"                                  \
    " next_at INTEGER NOT NULL,"                                                                   \
    " error TEXT NOT NULL DEFAULT '',"                                                             \
    " created_at INTEGER NOT NULL,"                                                                \
    " updated_at INTEGER NOT NULL,"                                                                \
    " UNIQUE (customer_id, occasion, day)) STRICT;"                                                \
    "CREATE INDEX message_send_state ON message_send(state, next_at);"

/* The store a desk bono sale or use was made at (sync2, issue 14: `leal bono
 * sell|use --store`), kept with the intent so whichever read settles it posts
 * the entry at that store, as a top-up's (SYNC_DESK_MIGRATION). One macro, so
 * it moves to the next number by moving one line. */
#define BONO_STORE_MIGRATION                                                                       \
    "ALTER TABLE card_pending_bono ADD COLUMN store_id INTEGER REFERENCES store(id);"
/* Segments (seg, issue 17): customers' tags, and saved filters over a
 * program's customers, one validated column per filter (NULL: not used), so
 * nothing is parsed back from text (host/ledger/ledger_segment.h). */
#define SEGMENT_MIGRATION                                                                          \
    "CREATE TABLE customer_tag("                                                                   \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 32),"                                     \
    " at INTEGER NOT NULL,"                                                                        \
    " PRIMARY KEY (customer_id, tag)) STRICT, WITHOUT ROWID;"                                      \
    "CREATE INDEX customer_tag_tag ON customer_tag(tag, customer_id);"                             \
    "CREATE TABLE segment("                                                                        \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63),"                                   \
    " tier INTEGER CHECK (tier BETWEEN 0 AND 255),"                                                \
    " store_id INTEGER REFERENCES store(id),"                                                      \
    " visit_before INTEGER,"                                                                       \
    " visit_after INTEGER,"                                                                        \
    " spend_min_cents INTEGER CHECK (spend_min_cents >= 0),"                                       \
    " spend_window_days INTEGER CHECK (spend_window_days BETWEEN 1 AND 3660),"                     \
    " points_above INTEGER,"                                                                       \
    " points_below INTEGER,"                                                                       \
    " birthday_month INTEGER CHECK (birthday_month BETWEEN 1 AND 12),"                             \
    " consent TEXT CHECK (consent IN ('email','sms','phone','post','whatsapp')),"                  \
    " tag TEXT CHECK (length(tag) BETWEEN 1 AND 32),"                                              \
    " created_at INTEGER NOT NULL,"                                                                \
    " CHECK ((spend_min_cents IS NULL) = (spend_window_days IS NULL)),"                            \
    " UNIQUE (program_id, name)) STRICT;"
/* The customer portal's sign-in links and sessions (web3, issue 16,
 * host/ledger/ledger_portal.h): only the SHA-256 of each token is kept. One
 * macro, so it moves to the next number by moving one line. */
#define PORTAL_MIGRATION                                                                           \
    "CREATE TABLE portal_link("                                                                    \
    " token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),"                                \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " created_at INTEGER NOT NULL,"                                                                \
    " expires_at INTEGER NOT NULL,"                                                                \
    " used_at INTEGER) STRICT, WITHOUT ROWID;"                                                     \
    "CREATE TABLE portal_session("                                                                 \
    " token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),"                                \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " csrf TEXT NOT NULL,"                                                                         \
    " created_at INTEGER NOT NULL,"                                                                \
    " expires_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
/* Messages for more occasions, in more languages (msg3, issue 17): the
 * template table is rebuilt (SQLite cannot widen a CHECK) with a language
 * in its key, each old template taking its program's locale; the days of
 * the occasions that count them (inactive: since the last visit, expiring:
 * ahead of the expiry, welcome: since enrolment), per program; and the
 * language a customer's messages are written in. One macro, so it moves to
 * the next number by moving one line. */
#define MSG_OCCASIONS_MIGRATION                                                                    \
    "CREATE TABLE message_template_v2("                                                            \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " occasion TEXT NOT NULL CHECK (occasion IN ('birthday','inactive','expiring','welcome')),"    \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " subject TEXT NOT NULL CHECK (length(subject) >= 1),"                                         \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1),"                                     \
    " body_html TEXT NOT NULL,"                                                                    \
    " updated_at INTEGER NOT NULL,"                                                                \
    " PRIMARY KEY (program_id, occasion, lang)) STRICT, WITHOUT ROWID;"                            \
    "INSERT INTO message_template_v2 SELECT t.program_id, t.occasion, p.locale, t.subject,"        \
    " t.body_text, t.body_html, t.updated_at FROM message_template t"                              \
    " JOIN program p ON p.id = t.program_id;"                                                      \
    "DROP TABLE message_template;"                                                                 \
    "ALTER TABLE message_template_v2 RENAME TO message_template;"                                  \
    "CREATE TABLE message_occasion("                                                               \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " occasion TEXT NOT NULL CHECK (occasion IN ('inactive','expiring','welcome')),"               \
    " days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 3650),"                                      \
    " updated_at INTEGER NOT NULL,"                                                                \
    " PRIMARY KEY (program_id, occasion)) STRICT, WITHOUT ROWID;"                                  \
    "CREATE TABLE customer_lang("                                                                  \
    " customer_id INTEGER PRIMARY KEY REFERENCES customer(id),"                                    \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " updated_at INTEGER NOT NULL) STRICT;"
/* Campaigns (msg4, issue 17): a one-off message to a saved segment, its
 * text per language. Its sends are message_send rows of occasion
 * "campaign:NAME" keyed by the campaign's day, so a member gets it once.
 * And the points a program gives on a birthday (posted once per customer
 * and year, request id "birthday:CUSTOMER:YEAR"). One macro, so it moves to the next number by
 * moving one line. */
#define CAMPAIGN_MIGRATION                                                                         \
    "CREATE TABLE message_campaign("                                                               \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63),"                                   \
    " segment_id INTEGER NOT NULL REFERENCES segment(id),"                                         \
    " day TEXT NOT NULL CHECK (length(day) = 10),"                                                 \
    " created_at INTEGER NOT NULL,"                                                                \
    " UNIQUE (program_id, name)) STRICT;"                                                          \
    "CREATE TABLE message_campaign_text("                                                          \
    " campaign_id INTEGER NOT NULL REFERENCES message_campaign(id),"                               \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " subject TEXT NOT NULL CHECK (length(subject) >= 1),"                                         \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1),"                                     \
    " body_html TEXT NOT NULL,"                                                                    \
    " updated_at INTEGER NOT NULL,"                                                                \
    " PRIMARY KEY (campaign_id, lang)) STRICT, WITHOUT ROWID;"                                     \
    "CREATE TABLE message_birthday_bonus("                                                         \
    " program_id INTEGER PRIMARY KEY REFERENCES program(id),"                                      \
    " points INTEGER NOT NULL CHECK (points BETWEEN 1 AND 100000),"                                \
    " updated_at INTEGER NOT NULL) STRICT;"

/* The text of each static QR code (web4, issue 16, host/ledger/ledger_qr.h):
 * kept when `leal qr issue` signs it, so the customer portal, which never
 * opens the keystore, can show the customer their code. A static code only
 * names the account (it earns; it never pays), so it is no secret. One
 * macro, so it moves to the next number by moving one line. */
#define QR_TEXT_MIGRATION                                                                          \
    "CREATE TABLE qr_static_text("                                                                 \
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"                                       \
    " text TEXT NOT NULL CHECK (length(text) BETWEEN 4 AND 511),"                                  \
    " expires_at INTEGER NOT NULL) STRICT;"

/* The portal's sign-in by card number and PIN and its redeemed rewards
 * (portal2, issue 16): per card the Argon2id hash of the PIN the desk set
 * (`leal card pin set`), with the wrong tries in a row since the last right
 * one (ten lock it); per reward redeemed from the portal the code the shop
 * honours, its ledger entry and when and by whom it was honoured. One
 * macro, so it moves to the next number by moving one line. */
#define PORTAL2_MIGRATION                                                                          \
    "CREATE TABLE card_pin("                                                                       \
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"                                       \
    " pin_hash TEXT NOT NULL CHECK (substr(pin_hash, 1, 10) = '$argon2id$'),"                      \
    " fails INTEGER NOT NULL DEFAULT 0 CHECK (fails >= 0),"                                        \
    " set_at INTEGER NOT NULL,"                                                                    \
    " set_by TEXT NOT NULL) STRICT;"                                                               \
    "CREATE TABLE portal_redemption("                                                              \
    " code TEXT PRIMARY KEY CHECK (length(code) = 9),"                                             \
    " entry_id INTEGER NOT NULL UNIQUE REFERENCES entry(id),"                                      \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " reward_id INTEGER NOT NULL,"                                                                 \
    " created_at INTEGER NOT NULL,"                                                                \
    " honoured_at INTEGER,"                                                                        \
    " honoured_by TEXT) STRICT, WITHOUT ROWID;"

/* Indexes for the reports and the dashboard (perf, issues 16/17): a
 * program's entries by time, so a report over a day, a month or what came
 * after a date (liabilities) reads that range and not the whole journal;
 * and customers by program and enrolment, so counting a program's
 * customers up to a date reads the index alone. One macro, so it moves to
 * the next number by moving one line. */
#define REPORT_INDEX_MIGRATION                                                                     \
    "CREATE INDEX entry_program_at ON entry(program_id, at);"                                      \
    "CREATE INDEX customer_program_created ON customer(program_id, created_at);"

/* Tier messages (msg5, issue 17): the template table is rebuilt (SQLite
 * cannot widen a CHECK) to take the occasions tier_up and tier_down, and
 * each customer's tier as the last `leal messages run` saw it (the rules
 * engine's, host/ledger/ledger_sale.h ledger_sale_tier_now), so a change is
 * told once; and the address of the program's `leal serve`, so each message
 * carries a web unsubscribe link. One macro, so it moves to the next number
 * by moving one line. */
#define TIER_MSG_MIGRATION                                                                         \
    "CREATE TABLE message_template_v3("                                                            \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " occasion TEXT NOT NULL CHECK (occasion IN ('birthday','inactive','expiring','welcome',"      \
    "'tier_up','tier_down')),"                                                                     \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " subject TEXT NOT NULL CHECK (length(subject) >= 1),"                                         \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1),"                                     \
    " body_html TEXT NOT NULL,"                                                                    \
    " updated_at INTEGER NOT NULL,"                                                                \
    " PRIMARY KEY (program_id, occasion, lang)) STRICT, WITHOUT ROWID;"                            \
    "INSERT INTO message_template_v3 SELECT * FROM message_template;"                              \
    "DROP TABLE message_template;"                                                                 \
    "ALTER TABLE message_template_v3 RENAME TO message_template;"                                  \
    "CREATE TABLE message_tier("                                                                   \
    " customer_id INTEGER PRIMARY KEY REFERENCES customer(id),"                                    \
    " tier INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 255),"                                       \
    " updated_at INTEGER NOT NULL) STRICT;"                                                        \
    "CREATE TABLE message_web("                                                                    \
    " program_id INTEGER PRIMARY KEY REFERENCES program(id),"                                      \
    " url TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 200),"                                    \
    " updated_at INTEGER NOT NULL) STRICT;"

/* SMS and WhatsApp through an HTTP gateway (msg6, issue 17): a program's
 * gateway per channel (an outbound webhook: URL, method, header lines, the
 * path of a secret file, a body template), and message_send rebuilt with
 * the channel each row goes by (SQLite cannot widen a UNIQUE): a customer
 * may get an occasion's e-mail and its SMS, each once. message_channel is
 * the channels each program sends on: e-mail with mail settings, each
 * gateway's. One macro, so it moves to the next number by moving one line. */
#define MSG_GATEWAY_MIGRATION                                                                      \
    "CREATE TABLE message_gateway("                                                                \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " channel TEXT NOT NULL CHECK (channel IN ('sms','whatsapp')),"                                \
    " url TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 500),"                                    \
    " method TEXT NOT NULL CHECK (method IN ('POST','PUT')),"                                      \
    " format TEXT NOT NULL CHECK (format IN ('json','form')),"                                     \
    " headers TEXT NOT NULL,"                                                                      \
    " secret_file TEXT NOT NULL,"                                                                  \
    " body TEXT NOT NULL CHECK (length(body) >= 1),"                                               \
    " updated_at INTEGER NOT NULL,"                                                                \
    " PRIMARY KEY (program_id, channel)) STRICT, WITHOUT ROWID;"                                   \
    "CREATE TABLE message_send_v2("                                                                \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " occasion TEXT NOT NULL,"                                                                     \
    " day TEXT NOT NULL CHECK (length(day) = 10),"                                                 \
    " token TEXT NOT NULL UNIQUE CHECK (length(token) = 32),"                                      \
    " state TEXT NOT NULL CHECK (state IN ('pending','sending','sent','failed','refused',"         \
    "'unknown','skipped')),"                                                                       \
    " attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"                                  \
    " next_at INTEGER NOT NULL,"                                                                   \
    " error TEXT NOT NULL DEFAULT '',"                                                             \
    " created_at INTEGER NOT NULL,"                                                                \
    " updated_at INTEGER NOT NULL,"                                                                \
    " channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email','sms','whatsapp')),"        \
    " UNIQUE (customer_id, occasion, day, channel)) STRICT;"                                       \
    "INSERT INTO message_send_v2(id, customer_id, occasion, day, token, state, attempts, "         \
    "next_at, error, created_at, updated_at) SELECT id, customer_id, occasion, day, token, "       \
    "state, "                                                                                      \
    "attempts, next_at, error, created_at, updated_at FROM message_send;"                          \
    "DROP TABLE message_send;"                                                                     \
    "ALTER TABLE message_send_v2 RENAME TO message_send;"                                          \
    "CREATE INDEX message_send_state ON message_send(state, next_at);"                             \
    "CREATE VIEW message_channel AS SELECT program_id, 'email' AS channel FROM program_mail "      \
    "UNION ALL SELECT program_id, channel FROM message_gateway;"

/* Consent per purpose (msg7, issue 17; RGPD art. 4(11) and 6(1)(a): consent
 * is given for specific purposes). Each consent row now says which purposes
 * it grants or withdraws on its channel ('marketing': campaigns; 'service':
 * the occasions' and tier messages; 'profiling': segments exported for
 * analysis), and the evidence of how it was given. A row made before was a
 * consent to that channel's messages, which leal sent for two purposes then
 * (campaigns and the occasions), so it reads as exactly those two:
 * 'marketing,service', never 'profiling', which nobody was asked for. With
 * it, message_channel_text: an occasion's or campaign's own text for SMS or
 * WhatsApp in a language (else they carry the e-mail's plain text). One
 * macro, so it moves to the next number by moving one line. */
#define MSG_PURPOSE_MIGRATION                                                                      \
    "ALTER TABLE consent ADD COLUMN purposes TEXT NOT NULL DEFAULT 'marketing,service' CHECK "     \
    "(purposes IN ('marketing','service','profiling','marketing,service','marketing,profiling',"   \
    "'service,profiling','marketing,service,profiling'));"                                         \
    "ALTER TABLE consent ADD COLUMN evidence TEXT NOT NULL DEFAULT '';"                            \
    "UPDATE consent SET evidence = 'consent per channel before purposes: read as marketing and "   \
    "service, the messages it was given for';"                                                     \
    "CREATE TABLE message_channel_text("                                                           \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " occasion TEXT NOT NULL,"                                                                     \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " channel TEXT NOT NULL CHECK (channel IN ('sms','whatsapp')),"                                \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1),"                                     \
    " updated_at INTEGER NOT NULL,"                                                                \
    " PRIMARY KEY (program_id, occasion, lang, channel)) STRICT, WITHOUT ROWID;"
/* Report summaries (rep7, issue 17): what the reports read instead of the
 * raw entries, brought up to date inside each write transaction that posts
 * entries, just before its COMMIT, from the entries after report_mark's
 * (store.c store_commit; one pass per transaction: per-row triggers cost
 * the import half its speed), so they never disagree with a committed
 * entry; filled here from the entries already kept, recomputed by `ledger
 * verify`. SQLite only: a PostgreSQL ledger (schema_pg.c) has no reports.
 * host/report/report.c reads them.
 *   report_day: per program, UTC day and store (0: none) what the activity
 *     and breakage reports count (host/report/report.c states each figure):
 *     sales by what identified the customer, a void counting against the
 *     kind it reverses; points issued, redeemed, expired and adjusted by
 *     hand (the program accounts' other side); purse euros loaded and
 *     spent; point_lines, the lines on the three point accounts (breakage
 *     lists a month that has one). A row for every (day, store) with an
 *     entry.
 *   report_visit: per program, customer and month (its first day, as days
 *     since 1970), the first and last UTC day of a movement of theirs
 *     (expiries aside): who was active when (customers, retention).
 *   report_mark: the last entry they hold. */
#define REPORT_SUMMARY_MIGRATION                                                                   \
    "CREATE TABLE report_day("                                                                     \
    " program_id INTEGER NOT NULL,"                                                                \
    " day INTEGER NOT NULL,"                                                                       \
    " store_id INTEGER NOT NULL,"                                                                  \
    " sales_card INTEGER NOT NULL DEFAULT 0,"                                                      \
    " sales_qr INTEGER NOT NULL DEFAULT 0,"                                                        \
    " sales_no_card INTEGER NOT NULL DEFAULT 0,"                                                   \
    " points_issued INTEGER NOT NULL DEFAULT 0,"                                                   \
    " points_redeemed INTEGER NOT NULL DEFAULT 0,"                                                 \
    " points_expired INTEGER NOT NULL DEFAULT 0,"                                                  \
    " points_adjusted INTEGER NOT NULL DEFAULT 0,"                                                 \
    " purse_loaded INTEGER NOT NULL DEFAULT 0,"                                                    \
    " purse_spent INTEGER NOT NULL DEFAULT 0,"                                                     \
    " point_lines INTEGER NOT NULL DEFAULT 0,"                                                     \
    " PRIMARY KEY (program_id, day, store_id)) STRICT, WITHOUT ROWID;"                             \
    "CREATE TABLE report_visit("                                                                   \
    " program_id INTEGER NOT NULL,"                                                                \
    " month INTEGER NOT NULL,"                                                                     \
    " customer_id INTEGER NOT NULL,"                                                               \
    " first_day INTEGER NOT NULL,"                                                                 \
    " last_day INTEGER NOT NULL,"                                                                  \
    " PRIMARY KEY (program_id, month, customer_id)) STRICT, WITHOUT ROWID;"                        \
    "CREATE TABLE report_mark("                                                                    \
    " id INTEGER PRIMARY KEY CHECK (id = 1),"                                                      \
    " entry_id INTEGER NOT NULL) STRICT;"                                                          \
    "INSERT INTO report_mark VALUES (1, 0);" REPORT_DAY_FLUSH ";" REPORT_VISIT_FLUSH               \
    ";" REPORT_MARK_MOVE ";"
/* Report summaries for liabilities at a date and redemptions (rep8, issue
 * 17; report_sum_sql.h), kept like report_day (store.c store_commit) and
 * filled here from every entry already kept (up to report_mark, which the
 * migration leaves where it is); ledger_verify recomputes them.
 *   report_held: per program, month (its first day, days since 1970),
 *     customer or gift card account and asset, the sum of that month's
 *     lines: the liabilities at a past date are today's balances less the
 *     months after it (and a part month of lines), not every line after it.
 *   report_redeem: per program, UTC day, store (0: none), reward and asset,
 *     the redemptions (a void counting -1) and their units. */
#define REP8_MIGRATION                                                                             \
    "CREATE TABLE report_held("                                                                    \
    " program_id INTEGER NOT NULL,"                                                                \
    " month INTEGER NOT NULL,"                                                                     \
    " account_id INTEGER NOT NULL,"                                                                \
    " asset TEXT NOT NULL,"                                                                        \
    " amount INTEGER NOT NULL,"                                                                    \
    " PRIMARY KEY (program_id, month, account_id, asset)) STRICT, WITHOUT ROWID;"                  \
    "CREATE TABLE report_redeem("                                                                  \
    " program_id INTEGER NOT NULL,"                                                                \
    " day INTEGER NOT NULL,"                                                                       \
    " store_id INTEGER NOT NULL,"                                                                  \
    " reward TEXT NOT NULL,"                                                                       \
    " asset TEXT NOT NULL,"                                                                        \
    " redemptions INTEGER NOT NULL,"                                                               \
    " units INTEGER NOT NULL,"                                                                     \
    " PRIMARY KEY (program_id, day, store_id, reward, asset)) STRICT, WITHOUT ROWID;"              \
    "INSERT INTO report_held(" REPORT_HELD_COLS ") SELECT * FROM (" REPORT_HELD_WHERE(             \
        "l.entry_id <= " REPORT_MARK) ") WHERE true;"                                              \
                                      "INSERT INTO report_redeem(" REPORT_REDEEM_COLS              \
                                      ") SELECT * FROM (" REPORT_REDEEM_WHERE(                     \
                                          "l.entry_id <= " REPORT_MARK) ") WHERE true;"
/* Bounces and the consent's text version (rep9, issue 17). message_bounce:
 * each delivery status notification (RFC 3464) `leal messages bounces`
 * matched to a message leal sent, once per report (report_key: a SHA-256
 * of its Message-ID and what it says); kind 'hard' (a 5.x.x status) stops e-mail
 * to that address (lowercased) until the customer's address changes, 'soft'
 * (4.x.x) made the message a failure retried with the backoff. The address
 * and diagnostic are personal data: exported with the customer and deleted
 * at erasure. consent.text_version: the version of the consent text the
 * person was shown ('' before it was asked for), its own field rather than
 * a part of the evidence. Self-contained, so it moves to the next number by
 * moving one line. */
#define REP9_MIGRATION                                                                             \
    "CREATE TABLE message_bounce("                                                                 \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " message_id INTEGER NOT NULL REFERENCES message_send(id),"                                    \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " kind TEXT NOT NULL CHECK (kind IN ('hard','soft')),"                                         \
    " status TEXT NOT NULL CHECK (length(status) BETWEEN 5 AND 9),"                                \
    " address TEXT NOT NULL,"                                                                      \
    " diagnostic TEXT NOT NULL DEFAULT '',"                                                        \
    " report_key TEXT NOT NULL UNIQUE CHECK (length(report_key) = 64),"                            \
    " at INTEGER NOT NULL) STRICT;"                                                                \
    "CREATE INDEX message_bounce_customer ON message_bounce(customer_id, kind, address);"          \
    "ALTER TABLE consent ADD COLUMN text_version TEXT NOT NULL DEFAULT '';"
/* The back office's customer care (web9, issue 16; host/ledger/ledger_note.h,
 * host/ledger/ledger_erasure.h): a note is signed by the back-office user
 * who wrote it (user_id, a web_user's id, without a foreign key so that the
 * tests that rebuild older versions can drop it; NULL: the desk's `leal
 * customer note --by NAME`)
 * and records when it was last edited; a customer's erasure request (when
 * they asked, by which channel, who recorded it) stays pending until `leal
 * customer erase` (host/privacy) carries it out and marks it done, at most
 * one pending per customer. A card of a family account may carry its
 * holder's name (card_holder: personal data, exported and erased with the
 * customer; never written to the card). One macro, so it moves to the next
 * number by moving one line. */
/* Password resets by e-mail for the back office's users (pwreset,
 * host/ledger/ledger_user.h): a user's address, and per reset link the
 * SHA-256 of its token (never the token), whose password it resets, until
 * when, and when it was used. One macro, so it moves to the next number by
 * moving one line. */
#define PWRESET_MIGRATION                                                                          \
    "ALTER TABLE web_user ADD COLUMN email TEXT CHECK (email IS NULL OR length(email) < 256);"     \
    "CREATE TABLE web_reset("                                                                      \
    " token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),"                                \
    " user_id INTEGER NOT NULL REFERENCES web_user(id),"                                           \
    " created_at INTEGER NOT NULL,"                                                                \
    " expires_at INTEGER NOT NULL,"                                                                \
    " used_at INTEGER) STRICT, WITHOUT ROWID;"                                                     \
    "CREATE INDEX web_reset_user ON web_reset(user_id);"
#define WEB9_MIGRATION                                                                             \
    "ALTER TABLE customer_note ADD COLUMN user_id INTEGER;"                                        \
    "ALTER TABLE customer_note ADD COLUMN edited_at INTEGER;"                                      \
    "CREATE TABLE erasure_request("                                                                \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"                                       \
    " asked_on TEXT NOT NULL CHECK (asked_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"  \
    " channel TEXT NOT NULL CHECK (channel IN ('desk','email','post','phone','portal')),"          \
    " user_id INTEGER REFERENCES web_user(id),"                                                    \
    " recorded_by TEXT NOT NULL,"                                                                  \
    " recorded_at INTEGER NOT NULL,"                                                               \
    " done_at INTEGER,"                                                                            \
    " done_by TEXT) STRICT;"                                                                       \
    "CREATE UNIQUE INDEX erasure_request_pending ON erasure_request(customer_id)"                  \
    " WHERE done_at IS NULL;"                                                                      \
    "CREATE TABLE card_holder("                                                                    \
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"                                       \
    " name TEXT NOT NULL CHECK (name <> ''),"                                                      \
    " set_at INTEGER NOT NULL) STRICT;"
/* reconcile_finding rebuilt with KINDS (a string of quoted kinds) as its
 * kind CHECK, since SQLite cannot widen a CHECK: a new table, every row
 * copied as it is, swapped in; so the rebuild may run again. The migrations
 * spell KINDS exactly as they first did (two spaces included): the text
 * SQLite stores of the table stays what it was. */
#define RECONCILE_FINDING_REBUILD(KINDS)                                                           \
    "CREATE TABLE reconcile_finding_v2("                                                           \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " program_id INTEGER NOT NULL REFERENCES program(id),"                                         \
    " card_id INTEGER NOT NULL CHECK (card_id >= 0),"                                              \
    " terminal_id INTEGER NOT NULL CHECK (terminal_id >= 0),"                                      \
    " kind TEXT NOT NULL CHECK (kind IN (" KINDS ")),"                                             \
    " fraud INTEGER NOT NULL CHECK (fraud IN (0, 1)),"                                             \
    " evidence TEXT NOT NULL,"                                                                     \
    " detail TEXT NOT NULL,"                                                                       \
    " found_at INTEGER NOT NULL,"                                                                  \
    " state TEXT NOT NULL CHECK (state IN ('open','accepted','resolved')),"                        \
    " reason TEXT,"                                                                                \
    " operator TEXT,"                                                                              \
    " closed_at INTEGER,"                                                                          \
    " run INTEGER NOT NULL,"                                                                       \
    " CHECK (state <> 'accepted' OR reason IS NOT NULL),"                                          \
    " UNIQUE (kind, card_id, terminal_id, evidence)) STRICT;"                                      \
    "INSERT INTO reconcile_finding_v2 SELECT * FROM reconcile_finding;"                            \
    "DROP TABLE reconcile_finding;"                                                                \
    "ALTER TABLE reconcile_finding_v2 RENAME TO reconcile_finding;"                                \
    "CREATE INDEX reconcile_finding_card ON reconcile_finding(card_id, state);"

/* DESFire EV2/EV3's Transaction MAC (issue 19, cardlayout/LAYOUT.md 2.9):
 * card_key rebuilt (SQLite cannot widen a CHECK) to take role 12, the
 * host-only tmac key an EV2/EV3 card is issued with, so the ledger knows
 * which version of it each card carries; each TMAC entry a terminal
 * journaled (firmware/core/JOURNAL.md) with its TMC, TMV and what the
 * import's check of it with the card's tmac key found (host/sync/
 * sync_tmac.c); reconcile_finding rebuilt to take that check's kinds
 * (ledger_reconcile.h). card_key and reconcile_finding are rebuilt so that
 * the migration runs again on a ledger that has them (a new table, copied,
 * swapped in). One macro, so it moves to the next number by moving one line. */
#define EV2_TMAC_MIGRATION                                                                         \
    "CREATE TABLE card_key_v2("                                                                    \
    " card_id INTEGER NOT NULL REFERENCES card(card_id),"                                          \
    " role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 12),"                                        \
    " version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 255),"                                 \
    " PRIMARY KEY (card_id, role)) STRICT, WITHOUT ROWID;"                                         \
    "INSERT INTO card_key_v2(card_id, role, version) SELECT card_id, role, version FROM card_key;" \
    "DROP TABLE card_key;"                                                                         \
    "ALTER TABLE card_key_v2 RENAME TO card_key;"                                                  \
    "CREATE INDEX card_key_version ON card_key(role, version);"                                    \
    "CREATE TABLE terminal_tmac("                                                                  \
    " terminal_id INTEGER NOT NULL,"                                                               \
    " epoch INTEGER NOT NULL,"                                                                     \
    " seq INTEGER NOT NULL,"                                                                       \
    " card_id INTEGER NOT NULL,"                                                                   \
    " tmc INTEGER NOT NULL CHECK (tmc BETWEEN 0 AND 4294967295),"                                  \
    " tmv BLOB NOT NULL CHECK (length(tmv) = 8),"                                                  \
    " verdict TEXT NOT NULL CHECK (verdict IN ('ok','forged','altered','replay','unchecked')),"    \
    " detail TEXT NOT NULL,"                                                                       \
    " PRIMARY KEY (terminal_id, epoch, seq),"                                                      \
    " FOREIGN KEY (terminal_id, epoch, seq) REFERENCES terminal_entry(terminal_id, epoch, seq))"   \
    " STRICT, WITHOUT ROWID;"                                                                      \
    "CREATE INDEX terminal_tmac_card ON terminal_tmac(card_id, tmc);" RECONCILE_FINDING_REBUILD(   \
        "'gap','doubt','clone','rollback','balance','tamper',  'cap',"                             \
        "'tmv_forged','tmv_altered','tmc_replay'")

/* The redemptions summary rebuilt (rep10, issue 17): a refund that takes back
 * the stamp reward its sale earned now counts -1 against the reward, where the
 * summary counted it as one more redemption. REP8_MIGRATION builds the table
 * with the corrected query (REPORT_REDEEM_WHERE); a ledger already past it holds
 * rows counted the old way, which `ledger verify` would report, so they are
 * recomputed up to the summaries' mark (later entries are flushed as usual). */
#define REDEEM_FIX_MIGRATION                                                                       \
    "DELETE FROM report_redeem;"                                                                   \
    "INSERT INTO report_redeem(" REPORT_REDEEM_COLS                                                \
    ") SELECT * FROM (" REPORT_REDEEM_WHERE("l.entry_id <= " REPORT_MARK) ") WHERE true;"

/* Reconciliation's check of a card's TMCs (issue 19, ledger_reconcile.h
 * tmc_gap: transactions the card committed that no TMAC entry reports):
 * reconcile_finding rebuilt (SQLite cannot widen a CHECK) to take the kind.
 * The rebuild copies every row as it is, so it may run again. */
#define EV2C_MIGRATION                                                                             \
    RECONCILE_FINDING_REBUILD("'gap','doubt','clone','rollback','balance','tamper',  'cap',"       \
                              "'tmv_forged','tmv_altered','tmc_replay','tmc_gap'")

static const char *const migrations[] = {
    /* 0 -> 1: the book. */
    "CREATE TABLE program("
    " id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),"
    " code TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('single','chain','collective')),"
    " points_per_euro_milli INTEGER NOT NULL CHECK (points_per_euro_milli >= 0),"
    " points_expiry_days INTEGER NOT NULL CHECK (points_expiry_days >= 0),"
    " created_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE store("
    " id INTEGER PRIMARY KEY,"
    " program_id INTEGER NOT NULL REFERENCES program(id),"
    " code TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " timezone TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (program_id, code)) STRICT;"
    "CREATE TABLE terminal("
    " id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),"
    " store_id INTEGER NOT NULL REFERENCES store(id),"
    " name TEXT NOT NULL,"
    " epoch INTEGER NOT NULL DEFAULT 1 CHECK (epoch >= 1),"
    " created_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX terminal_store ON terminal(store_id);"
    "CREATE TABLE customer("
    " id INTEGER PRIMARY KEY,"
    " program_id INTEGER NOT NULL REFERENCES program(id),"
    " created_at INTEGER NOT NULL,"
    " erased_at INTEGER) STRICT;"
    "CREATE INDEX customer_program ON customer(program_id);"
    /* Personal data apart, so erasure never touches the ledger. */
    "CREATE TABLE customer_pii("
    " customer_id INTEGER PRIMARY KEY REFERENCES customer(id),"
    " name TEXT NOT NULL COLLATE NOCASE,"
    " surname TEXT NOT NULL COLLATE NOCASE,"
    " email TEXT NOT NULL COLLATE NOCASE,"
    " phone TEXT NOT NULL,"
    " birth_date TEXT NOT NULL,"
    " gender TEXT NOT NULL,"
    " address TEXT NOT NULL,"
    " preferences TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX customer_pii_name ON customer_pii(name);"
    "CREATE INDEX customer_pii_surname ON customer_pii(surname);"
    "CREATE INDEX customer_pii_email ON customer_pii(email);"
    "CREATE INDEX customer_pii_phone ON customer_pii(phone);"
    "CREATE TABLE account("
    " id INTEGER PRIMARY KEY,"
    " program_id INTEGER NOT NULL REFERENCES program(id),"
    " customer_id INTEGER REFERENCES customer(id),"
    " kind TEXT NOT NULL CHECK (kind IN ('customer','gift','program')),"
    " name TEXT,"
    " created_at INTEGER NOT NULL,"
    " CHECK ((kind = 'customer') = (customer_id IS NOT NULL)),"
    " CHECK ((kind = 'program') = (name IS NOT NULL))) STRICT;"
    "CREATE INDEX account_customer ON account(customer_id);"
    "CREATE UNIQUE INDEX account_program_name ON account(program_id, name) WHERE name IS NOT NULL;"
    "CREATE TABLE balance("
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " asset TEXT NOT NULL,"
    " amount INTEGER NOT NULL,"
    " PRIMARY KEY (account_id, asset)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE card("
    " card_id INTEGER PRIMARY KEY CHECK (card_id > 0),"
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " uid BLOB NOT NULL,"
    " tech TEXT NOT NULL CHECK (tech IN ('desfire-ev1','desfire-ev2','desfire-ev3',"
    "  'classic-1k','classic-4k','virtual-qr')),"
    " status TEXT NOT NULL CHECK (status IN ('pending','active','blocked','lost','replaced')),"
    " keyset_version INTEGER NOT NULL,"
    " layout_version INTEGER NOT NULL,"
    " last_counter INTEGER NOT NULL DEFAULT 0,"
    " issued_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX card_uid ON card(uid);"
    "CREATE INDEX card_account ON card(account_id);"
    "CREATE TABLE entry("
    " id INTEGER PRIMARY KEY,"
    " program_id INTEGER NOT NULL REFERENCES program(id),"
    " kind TEXT NOT NULL CHECK (kind IN ('adjust','earn','redeem','topup','spend','refund',"
    "  'void','expire','gift_sale','transfer')),"
    " at INTEGER NOT NULL,"
    " store_id INTEGER REFERENCES store(id),"
    " terminal_id INTEGER REFERENCES terminal(id),"
    " terminal_epoch INTEGER,"
    " terminal_seq INTEGER,"
    " request_id TEXT,"
    " operator TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " reference TEXT NOT NULL,"
    " spend_cents INTEGER NOT NULL,"
    " reverses INTEGER REFERENCES entry(id),"
    " card_id INTEGER REFERENCES card(card_id),"
    " content_hash TEXT NOT NULL,"
    " CHECK ((terminal_seq IS NULL) <> (request_id IS NULL)),"
    " CHECK (terminal_seq IS NULL OR (terminal_id IS NOT NULL AND terminal_epoch IS NOT NULL)))"
    " STRICT;"
    "CREATE UNIQUE INDEX entry_terminal_key ON entry(terminal_id, terminal_epoch, terminal_seq)"
    " WHERE terminal_seq IS NOT NULL;"
    "CREATE UNIQUE INDEX entry_request_key ON entry(request_id) WHERE request_id IS NOT NULL;"
    "CREATE INDEX entry_reverses ON entry(reverses) WHERE reverses IS NOT NULL;"
    "CREATE UNIQUE INDEX entry_void_once ON entry(reverses) WHERE kind = 'void';"
    "CREATE TABLE line("
    " id INTEGER PRIMARY KEY,"
    " entry_id INTEGER NOT NULL REFERENCES entry(id),"
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " asset TEXT NOT NULL,"
    " amount INTEGER NOT NULL CHECK (amount <> 0)) STRICT;"
    "CREATE INDEX line_entry ON line(entry_id);"
    "CREATE INDEX line_account ON line(account_id, entry_id);"
    /* Points as lots: each credit is a lot; debits consume nearest expiry first. */
    "CREATE TABLE lot("
    " id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " asset TEXT NOT NULL,"
    " line_id INTEGER NOT NULL REFERENCES line(id),"
    " expires_at INTEGER,"
    " original INTEGER NOT NULL CHECK (original > 0),"
    " remaining INTEGER NOT NULL CHECK (remaining BETWEEN 0 AND original)) STRICT;"
    "CREATE INDEX lot_open ON lot(account_id, asset, expires_at) WHERE remaining > 0;"
    "CREATE INDEX lot_line ON lot(line_id);"
    /* What each debit line took from which lot, so a reversal gives it back. */
    "CREATE TABLE lot_use("
    " line_id INTEGER NOT NULL REFERENCES line(id),"
    " lot_id INTEGER NOT NULL REFERENCES lot(id),"
    " amount INTEGER NOT NULL CHECK (amount >= 0),"
    " PRIMARY KEY (line_id, lot_id)) STRICT, WITHOUT ROWID;",

    /* 1 -> 2: consent per channel and free-form notes. */
    "CREATE TABLE consent("
    " id INTEGER PRIMARY KEY,"
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"
    " channel TEXT NOT NULL CHECK (channel IN ('email','sms','phone','post','whatsapp')),"
    " granted INTEGER NOT NULL CHECK (granted IN (0, 1)),"
    " at INTEGER NOT NULL,"
    " method TEXT NOT NULL,"
    " recorded_by TEXT NOT NULL) STRICT;"
    "CREATE INDEX consent_customer ON consent(customer_id, channel, id);"
    "CREATE TABLE customer_note("
    " id INTEGER PRIMARY KEY,"
    " customer_id INTEGER NOT NULL REFERENCES customer(id),"
    " at INTEGER NOT NULL,"
    " author TEXT NOT NULL,"
    " text TEXT NOT NULL) STRICT;"
    "CREATE INDEX customer_note_customer ON customer_note(customer_id, id);",

    /* 2 -> 3: every status a card took, with why and who (the hot list and
     * the desk's history read it), and what the desk last read from each card
     * (an account with several cards is reconciled against it). */
    "CREATE TABLE card_event("
    " id INTEGER PRIMARY KEY,"
    " card_id INTEGER NOT NULL REFERENCES card(card_id),"
    " at INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pending','active','blocked','lost','replaced')),"
    " reason TEXT NOT NULL,"
    " operator TEXT NOT NULL) STRICT;"
    "CREATE INDEX card_event_card ON card_event(card_id, id);"
    "CREATE INDEX card_hot ON card(status) WHERE status IN ('blocked','lost','replaced');"
    "INSERT INTO card_event(card_id, at, status, reason, operator)"
    " SELECT card_id, updated_at, status, 'recorded before card history was kept', '' FROM card;"
    "ALTER TABLE card ADD COLUMN seen_at INTEGER;"
    "ALTER TABLE card ADD COLUMN seen_seq INTEGER;"
    "ALTER TABLE card ADD COLUMN seen_purse INTEGER;"
    "ALTER TABLE card ADD COLUMN seen_points INTEGER;",

    /* 3 -> 4: stored value per program, and Classic top-ups in flight.
     * purse_cap_cents is every card's purse cap (a DESFire purse file's upper
     * limit at issuance); classic_stored_value_cap_cents is the cap on a
     * Classic card, 0 = stored value off on Classic (LAYOUT.md 3.2). */
    "ALTER TABLE program ADD COLUMN purse_cap_cents INTEGER NOT NULL DEFAULT 100000"
    " CHECK (purse_cap_cents BETWEEN 0 AND 2147483647);"
    "ALTER TABLE program ADD COLUMN classic_stored_value_cap_cents INTEGER NOT NULL DEFAULT 0"
    " CHECK (classic_stored_value_cap_cents BETWEEN 0 AND purse_cap_cents);"
    /* A Classic card keeps no log: a top-up is recorded here before the card
     * is written and settled from the card's state afterwards (LAYOUT.md
     * 3.3). At most one per card. */
    "CREATE TABLE card_pending_topup("
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"
    " seq_before INTEGER NOT NULL CHECK (seq_before BETWEEN 0 AND 4294967295),"
    " seq_after INTEGER NOT NULL CHECK (seq_after BETWEEN 0 AND 4294967295),"
    " purse_after INTEGER NOT NULL CHECK (purse_after BETWEEN 1 AND 2147483647),"
    " cents INTEGER NOT NULL CHECK (cents BETWEEN 1 AND purse_after),"
    " request_id TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL) STRICT;",

    /* 4 -> 5: a card never creates money (LAYOUT.md 2.7, 3.3). What the desk
     * last saw on a card beyond its balances, so the next read can tell a
     * change the ledger made from one it never started: the newest DESFire
     * log record, or the SIV tag of a Classic card's current state slot (an
     * equal seq with another tag is a fork). DESFire top-ups in flight use
     * card_pending_topup too, their seq_before/seq_after being the card's taps
     * (0x7FFFFFFF - counter) before and after. */
    "ALTER TABLE card ADD COLUMN seen_mark BLOB CHECK (seen_mark IS NULL OR length(seen_mark) = "
    "16);"
    "ALTER TABLE card_pending_topup ADD COLUMN mark BLOB"
    " CHECK (mark IS NULL OR length(mark) = 16);",

    /* 5 -> 6: customer search served by indexes alone (issue 10, section 8).
     * Names keyed accent- and case-blind, phones in one normal form
     * (host/text.h; leal_fold and leal_phone_key are the same C functions,
     * registered on the connection); the customer's own account on its row
     * instead of a subquery per row. Per-program sanity limits on one manual
     * operation (a manual post, welcome points), at least 1. */
    "ALTER TABLE customer ADD COLUMN account_id INTEGER REFERENCES account(id);"
    "UPDATE customer SET account_id ="
    " (SELECT min(a.id) FROM account a WHERE a.customer_id = customer.id);"
    "ALTER TABLE customer_pii ADD COLUMN name_key TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE customer_pii ADD COLUMN surname_key TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE customer_pii ADD COLUMN phone_key TEXT NOT NULL DEFAULT '';"
    "UPDATE customer_pii SET name_key = leal_fold(name), surname_key = leal_fold(surname),"
    " phone_key = leal_phone_key(phone);"
    "CREATE INDEX customer_pii_name_key ON customer_pii(name_key);"
    "CREATE INDEX customer_pii_surname_key ON customer_pii(surname_key);"
    "CREATE INDEX customer_pii_phone_key ON customer_pii(phone_key);"
    "DROP INDEX customer_pii_name;"
    "DROP INDEX customer_pii_surname;"
    "DROP INDEX customer_pii_phone;"
    "ALTER TABLE program ADD COLUMN max_cents_per_operation INTEGER NOT NULL DEFAULT 100000"
    " CHECK (max_cents_per_operation >= 1);"
    "ALTER TABLE program ADD COLUMN max_units_per_operation INTEGER NOT NULL DEFAULT 100000"
    " CHECK (max_units_per_operation >= 1);",

    /* 6 -> 7: the key version of each role a card carries (KEYS.md rotation),
     * written once the card answered to them; a card recorded before this
     * has none, and the desk learns them from the card at its next contact. */
    "CREATE TABLE card_key("
    " card_id INTEGER NOT NULL REFERENCES card(card_id),"
    " role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 11),"
    " version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 255),"
    " PRIMARY KEY (card_id, role)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX card_key_version ON card_key(role, version);",

    /* 7 -> 8: a Classic identity being re-sealed at the desk (key rotation),
     * kept until the card carries it whole: a re-key torn while the identity
     * blocks were written is finished from here at the next tap (the span is
     * what the card then shows to anyone with key A; no key). */
    "CREATE TABLE card_identity_rewrite("
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"
    " span BLOB NOT NULL CHECK (length(span) BETWEEN 1 AND 256),"
    " created_at INTEGER NOT NULL) STRICT;",

    /* 8 -> 9: the last terminal package version built for each terminal
     * (firmware/core/PACKAGE.md): the next one is always above it. */
    "ALTER TABLE terminal ADD COLUMN package_version INTEGER NOT NULL DEFAULT 0"
    " CHECK (package_version BETWEEN 0 AND 4294967295);",

    /* 9 -> 10: card and ledger drift (leal card sync). synced_entry is the
     * newest entry whose change of its account's points the card carries:
     * the account's point lines after it, of entries the desk did not make
     * for a card (request id not 'card:...': by hand, imported, voided,
     * expired), are what the card lacks. A card issued before this knows
     * nothing older (the newest entry at the upgrade). A sync in flight is
     * recorded before the card is written and settled from what the card
     * shows, as a top-up is (seq: Classic state seq, DESFire taps). */
    "ALTER TABLE card ADD COLUMN synced_entry INTEGER NOT NULL DEFAULT 0"
    " CHECK (synced_entry >= 0);"
    "UPDATE card SET synced_entry = coalesce((SELECT max(id) FROM entry), 0);"
    "CREATE TABLE card_pending_sync("
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"
    " seq_before INTEGER NOT NULL CHECK (seq_before BETWEEN 0 AND 4294967295),"
    " seq_after INTEGER NOT NULL CHECK (seq_after BETWEEN 0 AND 4294967295),"
    " points_after INTEGER NOT NULL CHECK (points_after BETWEEN 0 AND 4294967295),"
    " points INTEGER NOT NULL CHECK (points <> 0),"
    " upto_entry INTEGER NOT NULL CHECK (upto_entry > 0),"
    " created_at INTEGER NOT NULL) STRICT;",

    /* 10 -> 11: what the shop decides (host/ledger/ledger_rules.h): each
     * version of a program's rule set, append-only, with who, when, why and
     * what changed; the set in firmware/core/rules_codec's encoding (18 to
     * 2026 bytes). Names for its tiers and stamp cards (by number), rules,
     * rewards and bono kinds (by id), per version. Current = newest. */
    "CREATE TABLE rule_set("
    " program_id INTEGER NOT NULL REFERENCES program(id),"
    " version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"
    " at INTEGER NOT NULL,"
    " operator TEXT NOT NULL CHECK (operator <> ''),"
    " reason TEXT NOT NULL CHECK (reason <> ''),"
    " what TEXT NOT NULL CHECK (what <> ''),"
    " encoded BLOB NOT NULL CHECK (length(encoded) BETWEEN 18 AND 2026),"
    " PRIMARY KEY (program_id, version)) STRICT;"
    "CREATE TABLE rule_set_name("
    " program_id INTEGER NOT NULL,"
    " version INTEGER NOT NULL,"
    " part INTEGER NOT NULL CHECK (part BETWEEN 2 AND 6),"
    " item INTEGER NOT NULL CHECK (item BETWEEN 1 AND 4294967295),"
    " name TEXT NOT NULL CHECK (name <> ''),"
    " PRIMARY KEY (program_id, version, part, item),"
    " FOREIGN KEY (program_id, version) REFERENCES rule_set(program_id, version)) STRICT;"
    "CREATE TRIGGER rule_set_append_only_u BEFORE UPDATE ON rule_set"
    " BEGIN SELECT RAISE(ABORT, 'rule_set is append-only'); END;"
    "CREATE TRIGGER rule_set_append_only_d BEFORE DELETE ON rule_set"
    " BEGIN SELECT RAISE(ABORT, 'rule_set is append-only'); END;"
    "CREATE TRIGGER rule_set_name_append_only_u BEFORE UPDATE ON rule_set_name"
    " BEGIN SELECT RAISE(ABORT, 'rule_set_name is append-only'); END;"
    "CREATE TRIGGER rule_set_name_append_only_d BEFORE DELETE ON rule_set_name"
    " BEGIN SELECT RAISE(ABORT, 'rule_set_name is append-only'); END;",

    /* 11 -> 12: online sales through the rules engine (ledger_sale.c). A
     * sale keeps what the engine was given (items by category, store, local
     * civil time) and what it gave (points per line, stamps per stamp card,
     * the spend bucket), so a refund takes back exactly that and `leal rules
     * simulate` can replay it. The account's rules state is derived from
     * these rows and the balances, never from a card. Categories are named
     * per program (sale_category). Idempotency: request_id, with the hash of
     * the request's content. */
    "CREATE TABLE sale_category("
    " program_id INTEGER NOT NULL REFERENCES program(id),"
    " code INTEGER NOT NULL CHECK (code BETWEEN 1 AND 65535),"
    " name TEXT NOT NULL,"
    " PRIMARY KEY (program_id, code),"
    " UNIQUE (program_id, name)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE sale("
    " id INTEGER PRIMARY KEY,"
    " program_id INTEGER NOT NULL REFERENCES program(id),"
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " card_id INTEGER REFERENCES card(card_id),"
    " store_id INTEGER NOT NULL REFERENCES store(id),"
    " at INTEGER NOT NULL,"
    " local_date TEXT NOT NULL,"
    " local_time TEXT NOT NULL,"
    " amount_cents INTEGER NOT NULL CHECK (amount_cents BETWEEN 0 AND 100000000),"
    " request_id TEXT NOT NULL UNIQUE,"
    " content_hash TEXT NOT NULL,"
    " entry_id INTEGER REFERENCES entry(id),"
    " rules_version INTEGER NOT NULL CHECK (rules_version >= 0),"
    " points INTEGER NOT NULL CHECK (points >= 0),"
    " period INTEGER NOT NULL CHECK (period BETWEEN 0 AND 65535),"
    " units INTEGER NOT NULL CHECK (units BETWEEN 0 AND 65535),"
    " period_after INTEGER NOT NULL CHECK (period_after BETWEEN 0 AND 65535),"
    " tier_before INTEGER NOT NULL,"
    " tier_after INTEGER NOT NULL,"
    " state_after BLOB NOT NULL CHECK (length(state_after) = 23)) STRICT;"
    "CREATE INDEX sale_account_period ON sale(account_id, period);"
    "CREATE INDEX sale_account_day ON sale(account_id, local_date);"
    "CREATE INDEX sale_program_day ON sale(program_id, local_date);"
    "CREATE TABLE sale_item("
    " sale_id INTEGER NOT NULL REFERENCES sale(id),"
    " n INTEGER NOT NULL,"
    " category INTEGER NOT NULL CHECK (category BETWEEN 1 AND 65535),"
    " quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 65535),"
    " amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),"
    " PRIMARY KEY (sale_id, n)) STRICT, WITHOUT ROWID;"
    /* A line per engine line: base, tier, welcome, each rule (source as in
     * firmware/core/rules.h enum rules_source). */
    "CREATE TABLE sale_line("
    " sale_id INTEGER NOT NULL REFERENCES sale(id),"
    " n INTEGER NOT NULL,"
    " source INTEGER NOT NULL CHECK (source BETWEEN 1 AND 4),"
    " rule_id INTEGER NOT NULL,"
    " points INTEGER NOT NULL CHECK (points > 0),"
    " PRIMARY KEY (sale_id, n)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE sale_refund("
    " id INTEGER PRIMARY KEY,"
    " sale_id INTEGER NOT NULL REFERENCES sale(id),"
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " at INTEGER NOT NULL,"
    " local_date TEXT NOT NULL,"
    " amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
    " request_id TEXT NOT NULL UNIQUE,"
    " content_hash TEXT NOT NULL,"
    " entry_id INTEGER REFERENCES entry(id),"
    " points_back INTEGER NOT NULL CHECK (points_back >= 0),"
    " points_short INTEGER NOT NULL CHECK (points_short >= 0),"
    " units_back INTEGER NOT NULL CHECK (units_back >= 0),"
    " period_after INTEGER NOT NULL CHECK (period_after BETWEEN 0 AND 65535)) STRICT;"
    "CREATE INDEX sale_refund_sale ON sale_refund(sale_id);"
    "CREATE INDEX sale_refund_account ON sale_refund(account_id, local_date);"
    /* Stamps per stamp card (1..4): what a sale gave and the rewards it
     * granted (refund_id 0), or what a refund took back, the rewards it
     * reversed and what it could not take (refund_id its id). */
    "CREATE TABLE sale_stamp("
    " sale_id INTEGER NOT NULL REFERENCES sale(id),"
    " refund_id INTEGER NOT NULL,"
    " card INTEGER NOT NULL CHECK (card BETWEEN 1 AND 4),"
    " stamps INTEGER NOT NULL CHECK (stamps >= 0),"
    " rewards INTEGER NOT NULL CHECK (rewards >= 0),"
    " short INTEGER NOT NULL CHECK (short >= 0),"
    " PRIMARY KEY (sale_id, refund_id, card)) STRICT, WITHOUT ROWID;",

    /* 12 -> 13: points a refund could not take back (spent since the sale:
     * sale_refund.points_short) are owed by the account, and its next sales
     * settle them before crediting anything (RULES.md 6): each sale records
     * the owed points it settled. Owed = the refunds' points_short less the
     * sales' owed_settled. */
    "ALTER TABLE sale ADD COLUMN owed_settled INTEGER NOT NULL DEFAULT 0 CHECK (owed_settled >= "
    "0);",

    /* 13 -> 14: bonos sold and used at the desk (cardlayout/LAYOUT.md 4,
     * host/ledger/ledger_bono.h). A sale or use in flight, recorded before
     * the card is written and settled from the card's taps and bono file
     * (at most one per card, beside a top-up's); and per account and bono
     * kind the euros still deferred (the sessions are the account's
     * BONO:<id> balance) and the sessions the card last showed. */
    "CREATE TABLE card_pending_bono("
    " card_id INTEGER PRIMARY KEY REFERENCES card(card_id),"
    " bono_id INTEGER NOT NULL CHECK (bono_id BETWEEN 1 AND 4294967295),"
    " seq_before INTEGER NOT NULL CHECK (seq_before BETWEEN 0 AND 4294967295),"
    " seq_after INTEGER NOT NULL CHECK (seq_after BETWEEN 0 AND 4294967295),"
    " sessions INTEGER NOT NULL CHECK (sessions BETWEEN -65535 AND 65535 AND sessions <> 0),"
    " cents INTEGER NOT NULL CHECK (cents >= 0),"
    " file_after BLOB NOT NULL CHECK (length(file_after) = 34),"
    " request_id TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE bono_holding("
    " account_id INTEGER NOT NULL REFERENCES account(id),"
    " bono_id INTEGER NOT NULL CHECK (bono_id BETWEEN 1 AND 4294967295),"
    " deferred_cents INTEGER NOT NULL CHECK (deferred_cents >= 0),"
    " seen_sessions INTEGER CHECK (seen_sessions BETWEEN 0 AND 65535),"
    " seen_at INTEGER,"
    " PRIMARY KEY (account_id, bono_id)) STRICT, WITHOUT ROWID;",
    SYNC_MIGRATION,           /* 14 -> 15 */
    RECONCILE_MIGRATION,      /* 15 -> 16 */
    BONO_LAST_DAY_MIGRATION,  /* 16 -> 17 */
    SETTLE_MIGRATION,         /* 17 -> 18 */
    WEB_USER_MIGRATION,       /* 18 -> 19 */
    HOST_CHANGE_MIGRATION,    /* 19 -> 20 */
    PACKAGE_CAPS_MIGRATION,   /* 20 -> 21 */
    SYNC_DESK_MIGRATION,      /* 21 -> 22 */
    MAIL_SETTINGS_MIGRATION,  /* 22 -> 23 */
    PACKAGE_RULES_MIGRATION,  /* 23 -> 24 */
    WEB_LANG_MIGRATION,       /* 24 -> 25 */
    MESSAGES_MIGRATION,       /* 25 -> 26 */
    BONO_STORE_MIGRATION,     /* 26 -> 27 */
    SEGMENT_MIGRATION,        /* 27 -> 28 */
    QR_CAPS_MIGRATION,        /* 28 -> 29 */
    PORTAL_MIGRATION,         /* 29 -> 30 */
    MSG_OCCASIONS_MIGRATION,  /* 30 -> 31 */
    CAMPAIGN_MIGRATION,       /* 31 -> 32 */
    QR_TEXT_MIGRATION,        /* 32 -> 33 */
    REPORT_INDEX_MIGRATION,   /* 33 -> 34 */
    TIER_MSG_MIGRATION,       /* 34 -> 35 */
    PORTAL2_MIGRATION,        /* 35 -> 36 */
    MSG_GATEWAY_MIGRATION,    /* 36 -> 37 */
    MSG_PURPOSE_MIGRATION,    /* 37 -> 38 */
    EV2_TMAC_MIGRATION,       /* 38 -> 39 */
    REPORT_SUMMARY_MIGRATION, /* 39 -> 40 */
    REP8_MIGRATION,           /* 40 -> 41 */
    REP9_MIGRATION,           /* 41 -> 42 */
    REDEEM_FIX_MIGRATION,     /* 42 -> 43 */
    WEB9_MIGRATION,           /* 43 -> 44 */
    PWRESET_MIGRATION,        /* 44 -> 45 */
    EV2C_MIGRATION,           /* 45 -> 46 */
};

int schema_count(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

const char *schema_migration(int from)
{
    if (from < 0 || from >= schema_count())
        return NULL;
    return migrations[from];
}
