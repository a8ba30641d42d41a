/*
 * schema_pg.c - the ledger's schema on PostgreSQL as forward migrations
 * (store_pg.h). pg_migrations[i] takes a database from schema_version i to
 * i+1; a released migration is never edited, only followed by a new one (and
 * STORE_PG_SCHEMA_VERSION raised). The same concepts as schema.c's at
 * LEDGER_SCHEMA_VERSION, for the part of the ledger that runs on PostgreSQL
 * (README, "The ledger on PostgreSQL"): programs, stores, terminals,
 * customers, accounts, balances, cards, entries, lines, points lots,
 * online sales, the desk's cards in flight and the portal's codes,
 * customers' tags and segments, mail settings, back-office users,
 * messages to customers. The
 * same columns, checks and unique keys (the idempotency keys are unique
 * indexes, as there); integers are BIGINT, blobs BYTEA. An id behaves as
 * SQLite's INTEGER PRIMARY KEY: NULL or left out takes the next number, one
 * given explicitly (a program's) is kept and the numbering goes on after it
 * (PG_ROWID: a trigger per table).
 */
#include "store_pg.h"

#include <stddef.h>

/* SQLite's printf() of %d arguments, for the checks ledger_verify shares
 * with SQLite (its bono check words its finding with it). */
#define PG_PRINTF_FUNCTION                                                                         \
    "CREATE FUNCTION printf(fmt text, VARIADIC a numeric[]) RETURNS text LANGUAGE plpgsql "        \
    "IMMUTABLE AS $f$ DECLARE r text := fmt; x numeric; BEGIN FOREACH x IN ARRAY a LOOP "          \
    "r := regexp_replace(r, '%d', x::text); END LOOP; RETURN r; END $f$;"

#define PG_CORE_SCHEMA                                                                             \
    "CREATE TABLE program("                                                                        \
    " id BIGINT PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),"                                  \
    " code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"                                              \
    " kind TEXT NOT NULL CHECK (kind IN ('single','chain','collective')),"                         \
    " points_per_euro_milli BIGINT NOT NULL CHECK (points_per_euro_milli >= 0),"                   \
    " points_expiry_days BIGINT NOT NULL CHECK (points_expiry_days >= 0),"                         \
    " created_at BIGINT NOT NULL,"                                                                 \
    " purse_cap_cents BIGINT NOT NULL DEFAULT 100000"                                              \
    "  CHECK (purse_cap_cents BETWEEN 0 AND 2147483647),"                                          \
    " classic_stored_value_cap_cents BIGINT NOT NULL DEFAULT 0"                                    \
    "  CHECK (classic_stored_value_cap_cents BETWEEN 0 AND purse_cap_cents),"                      \
    " max_cents_per_operation BIGINT NOT NULL DEFAULT 100000 CHECK (max_cents_per_operation >= "   \
    "1),"                                                                                          \
    " max_units_per_operation BIGINT NOT NULL DEFAULT 100000 CHECK (max_units_per_operation >= "   \
    "1),"                                                                                          \
    " locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en','es')));"                           \
    "CREATE TABLE store("                                                                          \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " program_id BIGINT NOT NULL REFERENCES program(id), code TEXT NOT NULL, name TEXT NOT NULL,"  \
    " timezone TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (program_id, code));"             \
    "CREATE TABLE terminal("                                                                       \
    " id BIGINT PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),"                                  \
    " store_id BIGINT NOT NULL REFERENCES store(id), name TEXT NOT NULL,"                          \
    " epoch BIGINT NOT NULL DEFAULT 1 CHECK (epoch >= 1), created_at BIGINT NOT NULL,"             \
    " package_version BIGINT NOT NULL DEFAULT 0 CHECK (package_version BETWEEN 0 AND "             \
    "4294967295));"                                                                                \
    "CREATE INDEX terminal_store ON terminal(store_id);"                                           \
    "CREATE TABLE customer("                                                                       \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " program_id BIGINT NOT NULL REFERENCES program(id), created_at BIGINT NOT NULL,"              \
    " erased_at BIGINT, account_id BIGINT);"                                                       \
    "CREATE INDEX customer_program_created ON customer(program_id, created_at);"                   \
    "CREATE TABLE account("                                                                        \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " customer_id BIGINT REFERENCES customer(id),"                                                 \
    " kind TEXT NOT NULL CHECK (kind IN ('customer','gift','program')), name TEXT,"                \
    " created_at BIGINT NOT NULL,"                                                                 \
    " CHECK ((kind = 'customer') = (customer_id IS NOT NULL)),"                                    \
    " CHECK ((kind = 'program') = (name IS NOT NULL)));"                                           \
    "ALTER TABLE customer ADD FOREIGN KEY (account_id) REFERENCES account(id);"                    \
    "CREATE INDEX account_customer ON account(customer_id);"                                       \
    "CREATE UNIQUE INDEX account_program_name ON account(program_id, name) WHERE name IS NOT "     \
    "NULL;"                                                                                        \
    "CREATE TABLE balance("                                                                        \
    " account_id BIGINT NOT NULL REFERENCES account(id), asset TEXT NOT NULL,"                     \
    " amount BIGINT NOT NULL, PRIMARY KEY (account_id, asset));"                                   \
    "CREATE TABLE card("                                                                           \
    " card_id BIGINT PRIMARY KEY CHECK (card_id > 0),"                                             \
    " account_id BIGINT NOT NULL REFERENCES account(id), uid BYTEA NOT NULL,"                      \
    " tech TEXT NOT NULL CHECK (tech IN ('desfire-ev1','desfire-ev2','desfire-ev3',"               \
    "  'classic-1k','classic-4k','virtual-qr')),"                                                  \
    " status TEXT NOT NULL CHECK (status IN ('pending','active','blocked','lost','replaced')),"    \
    " keyset_version BIGINT NOT NULL, layout_version BIGINT NOT NULL,"                             \
    " last_counter BIGINT NOT NULL DEFAULT 0, issued_at BIGINT NOT NULL,"                          \
    " updated_at BIGINT NOT NULL, seen_at BIGINT, seen_seq BIGINT, seen_purse BIGINT,"             \
    " seen_points BIGINT,"                                                                         \
    " seen_mark BYTEA CHECK (seen_mark IS NULL OR length(seen_mark) = 16),"                        \
    " synced_entry BIGINT NOT NULL DEFAULT 0 CHECK (synced_entry >= 0));"                          \
    "CREATE INDEX card_uid ON card(uid);"                                                          \
    "CREATE INDEX card_account ON card(account_id);"                                               \
    "CREATE TABLE card_event("                                                                     \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " card_id BIGINT NOT NULL REFERENCES card(card_id), at BIGINT NOT NULL,"                       \
    " status TEXT NOT NULL CHECK (status IN ('pending','active','blocked','lost','replaced')),"    \
    " reason TEXT NOT NULL, operator TEXT NOT NULL);"                                              \
    "CREATE TABLE entry("                                                                          \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " kind TEXT NOT NULL CHECK (kind IN ('adjust','earn','redeem','topup','spend','refund',"       \
    "  'void','expire','gift_sale','transfer')),"                                                  \
    " at BIGINT NOT NULL, store_id BIGINT REFERENCES store(id),"                                   \
    " terminal_id BIGINT REFERENCES terminal(id), terminal_epoch BIGINT, terminal_seq BIGINT,"     \
    " request_id TEXT, operator TEXT NOT NULL, reason TEXT NOT NULL, reference TEXT NOT NULL,"     \
    " spend_cents BIGINT NOT NULL, reverses BIGINT REFERENCES entry(id),"                          \
    " card_id BIGINT REFERENCES card(card_id), content_hash TEXT NOT NULL,"                        \
    " CHECK ((terminal_seq IS NULL) <> (request_id IS NULL)),"                                     \
    " CHECK (terminal_seq IS NULL OR (terminal_id IS NOT NULL AND terminal_epoch IS NOT NULL)));"  \
    "CREATE UNIQUE INDEX entry_terminal_key ON entry(terminal_id, terminal_epoch, terminal_seq)"   \
    " WHERE terminal_seq IS NOT NULL;"                                                             \
    "CREATE UNIQUE INDEX entry_request_key ON entry(request_id) WHERE request_id IS NOT NULL;"     \
    "CREATE INDEX entry_reverses ON entry(reverses) WHERE reverses IS NOT NULL;"                   \
    "CREATE UNIQUE INDEX entry_void_once ON entry(reverses) WHERE kind = 'void';"                  \
    "CREATE INDEX entry_program_at ON entry(program_id, at);"                                      \
    "CREATE TABLE line("                                                                           \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " entry_id BIGINT NOT NULL REFERENCES entry(id),"                                              \
    " account_id BIGINT NOT NULL REFERENCES account(id), asset TEXT NOT NULL,"                     \
    " amount BIGINT NOT NULL CHECK (amount <> 0));"                                                \
    "CREATE INDEX line_entry ON line(entry_id);"                                                   \
    "CREATE INDEX line_account ON line(account_id, entry_id);"                                     \
    "CREATE TABLE lot("                                                                            \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " account_id BIGINT NOT NULL REFERENCES account(id), asset TEXT NOT NULL,"                     \
    " line_id BIGINT NOT NULL REFERENCES line(id), expires_at BIGINT,"                             \
    " original BIGINT NOT NULL CHECK (original > 0),"                                              \
    " remaining BIGINT NOT NULL CHECK (remaining BETWEEN 0 AND original));"                        \
    "CREATE INDEX lot_open ON lot(account_id, asset, expires_at) WHERE remaining > 0;"             \
    "CREATE INDEX lot_line ON lot(line_id);"                                                       \
    "CREATE TABLE lot_use("                                                                        \
    " line_id BIGINT NOT NULL REFERENCES line(id), lot_id BIGINT NOT NULL REFERENCES lot(id),"     \
    " amount BIGINT NOT NULL CHECK (amount >= 0), PRIMARY KEY (line_id, lot_id));"                 \
    "CREATE TABLE bono_holding("                                                                   \
    " account_id BIGINT NOT NULL REFERENCES account(id),"                                          \
    " bono_id BIGINT NOT NULL CHECK (bono_id BETWEEN 1 AND 4294967295),"                           \
    " deferred_cents BIGINT NOT NULL CHECK (deferred_cents >= 0),"                                 \
    " seen_sessions BIGINT CHECK (seen_sessions BETWEEN 0 AND 65535), seen_at BIGINT,"             \
    " last_day BIGINT CHECK (last_day IS NULL OR last_day BETWEEN 0 AND 65535),"                   \
    " PRIMARY KEY (account_id, bono_id));"                                                         \
    "CREATE TABLE card_key("                                                                       \
    " card_id BIGINT NOT NULL REFERENCES card(card_id),"                                           \
    " role BIGINT NOT NULL CHECK (role BETWEEN 1 AND 11),"                                         \
    " version BIGINT NOT NULL CHECK (version BETWEEN 1 AND 255), PRIMARY KEY (card_id, role));"

/* SQLite's rowid numbering for the id of each table of PG_ROWID: NULL or
 * left out is one more than the largest id (an index probe), so ids follow
 * each other as on SQLite (a rolled-back insert leaves no gap, as a sequence
 * would); writers hold the write lock (store_pg.h), so two never take the
 * same number. */
#define PG_ROWID_FUNCTION                                                                          \
    "CREATE FUNCTION leal_rowid() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN IF NEW.id IS "     \
    "NULL THEN EXECUTE format('SELECT coalesce(max(id), 0) + 1 FROM %I.%I', TG_TABLE_SCHEMA, "     \
    "TG_TABLE_NAME) INTO NEW.id; END IF; RETURN NEW; END $f$;"
#define PG_ROWID(tables)                                                                           \
    "DO $d$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY[" tables "] LOOP EXECUTE "              \
    "format('CREATE TRIGGER %I BEFORE INSERT ON %I FOR EACH ROW EXECUTE FUNCTION leal_rowid()', "  \
    "t || '_id', t); END LOOP; END $d$;"

/* SQLite's max() of booleans (true if any) and two-argument max(), for
 * queries the concerns share with SQLite (the host changes waiting). */
#define PG_MAX_FUNCTIONS                                                                           \
    "CREATE AGGREGATE max(boolean) (SFUNC = boolor_statefunc, STYPE = boolean);"                   \
    "CREATE FUNCTION max(a bigint, b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS "            \
    "'SELECT greatest(a, b)';"

/* What a card's host changes (ledger_host_change.c) read besides the core. */
#define PG_HOST_CHANGE_SCHEMA                                                                      \
    "CREATE TABLE terminal_entry("                                                                 \
    " terminal_id BIGINT NOT NULL REFERENCES terminal(id),"                                        \
    " epoch BIGINT NOT NULL CHECK (epoch BETWEEN 1 AND 4294967295),"                               \
    " seq BIGINT NOT NULL CHECK (seq BETWEEN 1 AND 4294967295),"                                   \
    " op BIGINT NOT NULL CHECK (op BETWEEN 1 AND 255), card_id BIGINT, at BIGINT NOT NULL,"        \
    " key_version BIGINT NOT NULL CHECK (key_version BETWEEN 1 AND 255),"                          \
    " mac BYTEA NOT NULL CHECK (length(mac) = 16),"                                                \
    " outcome TEXT NOT NULL CHECK (outcome IN ('posted','recorded','held','undone')),"             \
    " entry_id BIGINT REFERENCES entry(id),"                                                       \
    " raw BYTEA NOT NULL CHECK (length(raw) BETWEEN 128 AND 394), taken_at BIGINT NOT NULL,"       \
    " host_before BIGINT CHECK (host_before >= 0),"                                                \
    " CHECK (outcome <> 'posted' OR entry_id IS NOT NULL),"                                        \
    " PRIMARY KEY (terminal_id, epoch, seq));"                                                     \
    "CREATE INDEX terminal_entry_card ON terminal_entry(card_id) WHERE card_id IS NOT NULL;"       \
    "CREATE TABLE card_host_change_sent("                                                          \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " taps BIGINT NOT NULL CHECK (taps BETWEEN 0 AND 4294967295),"                                 \
    " upto_entry BIGINT NOT NULL CHECK (upto_entry > 0), at BIGINT NOT NULL);"

/* Terminal journals and reconciliation (issue 20, version 2): what `leal
 * sync import`, `leal sync ack` and `leal reconcile` read and write besides
 * the core: each import's findings, reconciliation's findings, the caps and
 * rule-set version of each package a terminal was given, the program's
 * rule sets (a terminal's stamps and rewards are valued by them) with their
 * names, append-only as on SQLite. */
#define PG_SYNC_SCHEMA                                                                             \
    "CREATE INDEX terminal_entry_held ON terminal_entry(at) WHERE outcome = 'held';"               \
    "CREATE TABLE sync_finding("                                                                   \
    " id BIGINT PRIMARY KEY, at BIGINT NOT NULL,"                                                  \
    " terminal_id BIGINT NOT NULL REFERENCES terminal(id),"                                        \
    " epoch BIGINT NOT NULL CHECK (epoch BETWEEN 0 AND 4294967295),"                               \
    " seq BIGINT NOT NULL CHECK (seq BETWEEN 0 AND 4294967295), card_id BIGINT,"                   \
    " kind TEXT NOT NULL CHECK (kind IN ('mac','chain','gap','conflict','epoch','recovery',"       \
    "  'card_excess','held')),"                                                                    \
    " detail TEXT NOT NULL, UNIQUE (terminal_id, epoch, seq, kind));"                              \
    "CREATE INDEX sync_finding_card ON sync_finding(card_id) WHERE card_id IS NOT NULL;"           \
    "CREATE TABLE reconcile_finding("                                                              \
    " id BIGINT PRIMARY KEY, program_id BIGINT NOT NULL REFERENCES program(id),"                   \
    " card_id BIGINT NOT NULL CHECK (card_id >= 0),"                                               \
    " terminal_id BIGINT NOT NULL CHECK (terminal_id >= 0),"                                       \
    " kind TEXT NOT NULL CHECK (kind IN ('gap','doubt','clone','rollback','balance','tamper',"     \
    "  'cap')),"                                                                                   \
    " fraud BIGINT NOT NULL CHECK (fraud IN (0, 1)), evidence TEXT NOT NULL,"                      \
    " detail TEXT NOT NULL, found_at BIGINT NOT NULL,"                                             \
    " state TEXT NOT NULL CHECK (state IN ('open','accepted','resolved')),"                        \
    " reason TEXT, operator TEXT, closed_at BIGINT, run BIGINT NOT NULL,"                          \
    " CHECK (state <> 'accepted' OR reason IS NOT NULL),"                                          \
    " UNIQUE (kind, card_id, terminal_id, evidence));"                                             \
    "CREATE INDEX reconcile_finding_card ON reconcile_finding(card_id, state);"                    \
    "CREATE TABLE package_caps("                                                                   \
    " terminal_id BIGINT NOT NULL REFERENCES terminal(id),"                                        \
    " version BIGINT NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"                           \
    " cap_day_cents BIGINT NOT NULL CHECK (cap_day_cents BETWEEN 0 AND 4294967295),"               \
    " cap_sync_cents BIGINT NOT NULL CHECK (cap_sync_cents BETWEEN cap_day_cents AND "             \
    "  4294967295),"                                                                               \
    " built_at BIGINT NOT NULL, PRIMARY KEY (terminal_id, version));"                              \
    "CREATE TABLE package_rules("                                                                  \
    " terminal_id BIGINT NOT NULL REFERENCES terminal(id),"                                        \
    " version BIGINT NOT NULL CHECK (version BETWEEN 1 AND 4294967295),"                           \
    " rules_version BIGINT NOT NULL CHECK (rules_version BETWEEN 0 AND 4294967295),"               \
    " PRIMARY KEY (terminal_id, version));"                                                        \
    "CREATE TABLE rule_set("                                                                       \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " version BIGINT NOT NULL CHECK (version BETWEEN 1 AND 4294967295), at BIGINT NOT NULL,"       \
    " operator TEXT NOT NULL CHECK (operator <> ''), reason TEXT NOT NULL CHECK (reason <> ''),"   \
    " what TEXT NOT NULL CHECK (what <> ''),"                                                      \
    " encoded BYTEA NOT NULL CHECK (length(encoded) BETWEEN 18 AND 2026),"                         \
    " PRIMARY KEY (program_id, version));"                                                         \
    "CREATE TABLE rule_set_name("                                                                  \
    " program_id BIGINT NOT NULL, version BIGINT NOT NULL,"                                        \
    " part BIGINT NOT NULL CHECK (part BETWEEN 2 AND 6),"                                          \
    " item BIGINT NOT NULL CHECK (item BETWEEN 1 AND 4294967295),"                                 \
    " name TEXT NOT NULL CHECK (name <> ''), PRIMARY KEY (program_id, version, part, item),"       \
    " FOREIGN KEY (program_id, version) REFERENCES rule_set(program_id, version));"                \
    "CREATE FUNCTION leal_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RAISE "      \
    "EXCEPTION '% is append-only', TG_TABLE_NAME; END $f$;"                                        \
    "CREATE TRIGGER rule_set_append_only BEFORE UPDATE OR DELETE ON rule_set"                      \
    " FOR EACH ROW EXECUTE FUNCTION leal_append_only();"                                           \
    "CREATE TRIGGER rule_set_name_append_only BEFORE UPDATE OR DELETE ON rule_set_name"            \
    " FOR EACH ROW EXECUTE FUNCTION leal_append_only();"

/* DESFire EV2/EV3's Transaction MAC (issue 19, version 3), as schema.c's
 * EV2_TMAC_MIGRATION: card_key takes role 12 (the host-only tmac key an
 * EV2/EV3 card is issued with); terminal_tmac keeps each TMAC entry a
 * terminal journaled with its TMC, TMV and the import's verdict (host/sync/
 * sync_tmac.c); reconcile_finding takes that check's kinds. PostgreSQL
 * widens a CHECK in place: the column checks carry their default names
 * (TABLE_COLUMN_check). */
#define PG_TMAC_SCHEMA                                                                             \
    "ALTER TABLE card_key DROP CONSTRAINT card_key_role_check,"                                    \
    " ADD CONSTRAINT card_key_role_check CHECK (role BETWEEN 1 AND 12);"                           \
    "CREATE TABLE terminal_tmac("                                                                  \
    " terminal_id BIGINT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL,"                    \
    " card_id BIGINT NOT NULL,"                                                                    \
    " tmc BIGINT NOT NULL CHECK (tmc BETWEEN 0 AND 4294967295),"                                   \
    " tmv BYTEA NOT NULL CHECK (length(tmv) = 8),"                                                 \
    " verdict TEXT NOT NULL CHECK (verdict IN ('ok','forged','altered','replay','unchecked')),"    \
    " detail TEXT NOT NULL, PRIMARY KEY (terminal_id, epoch, seq),"                                \
    " FOREIGN KEY (terminal_id, epoch, seq) REFERENCES terminal_entry(terminal_id, epoch, seq));"  \
    "CREATE INDEX terminal_tmac_card ON terminal_tmac(card_id, tmc);"                              \
    "ALTER TABLE reconcile_finding DROP CONSTRAINT reconcile_finding_kind_check,"                  \
    " ADD CONSTRAINT reconcile_finding_kind_check CHECK (kind IN ('gap','doubt','clone',"          \
    "  'rollback','balance','tamper','cap','tmv_forged','tmv_altered','tmc_replay'));"

/* Customers (issue 20, version 4), as schema.c's customer_pii, consent and
 * customer_note: the personal data apart from the ledger (erasure empties
 * it and never touches an entry), consent per channel and purpose, notes.
 * Search runs on the same stored keys as on SQLite, made in C (host/text.h:
 * case- and accent-blind names, one form of a phone number), so no
 * extension (unaccent, citext) is needed; they compare bytewise (COLLATE
 * "C") as SQLite's do, whatever the database's collation, so a prefix is an
 * index range and the order is SQLite's. SQLite's e-mail is COLLATE NOCASE;
 * here an index on lower(email) serves the search's lower(email) =
 * lower(?1) (ledger_customer.c). instr() is SQLite's, for the consent
 * queries the backends share. consent.text_version (SQLite's REP9_MIGRATION)
 * and customer_note's user_id and edited_at (WEB9_MIGRATION) are here from
 * the start. */
#define PG_CUSTOMER_SCHEMA                                                                         \
    "CREATE FUNCTION instr(s text, t text) RETURNS integer LANGUAGE sql IMMUTABLE AS "             \
    "'SELECT strpos(s, t)';"                                                                       \
    "CREATE TABLE customer_pii("                                                                   \
    " customer_id BIGINT PRIMARY KEY REFERENCES customer(id),"                                     \
    " name TEXT NOT NULL, surname TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL,"        \
    " birth_date TEXT NOT NULL, gender TEXT NOT NULL, address TEXT NOT NULL,"                      \
    " preferences TEXT NOT NULL, updated_at BIGINT NOT NULL,"                                      \
    " name_key TEXT COLLATE \"C\" NOT NULL DEFAULT '',"                                            \
    " surname_key TEXT COLLATE \"C\" NOT NULL DEFAULT '',"                                         \
    " phone_key TEXT COLLATE \"C\" NOT NULL DEFAULT '');"                                          \
    "CREATE INDEX customer_pii_name_key ON customer_pii(name_key);"                                \
    "CREATE INDEX customer_pii_surname_key ON customer_pii(surname_key);"                          \
    "CREATE INDEX customer_pii_phone_key ON customer_pii(phone_key);"                              \
    "CREATE INDEX customer_pii_email ON customer_pii(lower(email));"                               \
    "CREATE TABLE consent("                                                                        \
    " id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customer(id),"                 \
    " channel TEXT NOT NULL CHECK (channel IN ('email','sms','phone','post','whatsapp')),"         \
    " granted BIGINT NOT NULL CHECK (granted IN (0, 1)), at BIGINT NOT NULL,"                      \
    " method TEXT NOT NULL, recorded_by TEXT NOT NULL,"                                            \
    " purposes TEXT NOT NULL DEFAULT 'marketing,service' CHECK (purposes IN ('marketing',"         \
    "  'service','profiling','marketing,service','marketing,profiling','service,profiling',"       \
    "  'marketing,service,profiling')),"                                                           \
    " evidence TEXT NOT NULL DEFAULT '', text_version TEXT NOT NULL DEFAULT '');"                  \
    "CREATE INDEX consent_customer ON consent(customer_id, channel, id);"                          \
    "CREATE TABLE customer_note("                                                                  \
    " id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customer(id),"                 \
    " at BIGINT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,"                               \
    " user_id BIGINT, edited_at BIGINT);"                                                          \
    "CREATE INDEX customer_note_customer ON customer_note(customer_id, id);"

/* Online sales through the rules engine (issue 20, version 5), as schema.c's
 * 11 -> 12 and 12 -> 13: a sale keeps what the engine was given (items by
 * category, store, local civil time) and what it gave (points per line,
 * stamps per stamp card, the spend bucket, the owed points it settled), so
 * a refund takes back exactly that and `leal rules simulate` can replay it;
 * categories are named per program. Idempotency: sale.request_id and
 * sale_refund.request_id are unique, as their entries' "sale:" and
 * "refund:" keys are. What `leal sale`, `leal terminal package` (a phone's
 * tier) and `leal rules simulate` read besides the core. The local dates
 * and times (YYYY-MM-DD, hh:mm:ss: a period is a range of them) compare
 * bytewise (COLLATE "C"), as SQLite's do, whatever the database's
 * collation. */
#define PG_SALE_SCHEMA                                                                             \
    "CREATE TABLE sale_category("                                                                  \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " code BIGINT NOT NULL CHECK (code BETWEEN 1 AND 65535), name TEXT NOT NULL,"                  \
    " PRIMARY KEY (program_id, code), UNIQUE (program_id, name));"                                 \
    "CREATE TABLE sale("                                                                           \
    " id BIGINT PRIMARY KEY, program_id BIGINT NOT NULL REFERENCES program(id),"                   \
    " account_id BIGINT NOT NULL REFERENCES account(id),"                                          \
    " card_id BIGINT REFERENCES card(card_id), store_id BIGINT NOT NULL REFERENCES store(id),"     \
    " at BIGINT NOT NULL, local_date TEXT COLLATE \"C\" NOT NULL,"                                 \
    " local_time TEXT COLLATE \"C\" NOT NULL,"                                                     \
    " amount_cents BIGINT NOT NULL CHECK (amount_cents BETWEEN 0 AND 100000000),"                  \
    " request_id TEXT NOT NULL UNIQUE, content_hash TEXT NOT NULL,"                                \
    " entry_id BIGINT REFERENCES entry(id),"                                                       \
    " rules_version BIGINT NOT NULL CHECK (rules_version >= 0),"                                   \
    " points BIGINT NOT NULL CHECK (points >= 0),"                                                 \
    " period BIGINT NOT NULL CHECK (period BETWEEN 0 AND 65535),"                                  \
    " units BIGINT NOT NULL CHECK (units BETWEEN 0 AND 65535),"                                    \
    " period_after BIGINT NOT NULL CHECK (period_after BETWEEN 0 AND 65535),"                      \
    " tier_before BIGINT NOT NULL, tier_after BIGINT NOT NULL,"                                    \
    " state_after BYTEA NOT NULL CHECK (length(state_after) = 23),"                                \
    " owed_settled BIGINT NOT NULL DEFAULT 0 CHECK (owed_settled >= 0));"                          \
    "CREATE INDEX sale_account_period ON sale(account_id, period);"                                \
    "CREATE INDEX sale_account_day ON sale(account_id, local_date);"                               \
    "CREATE INDEX sale_program_day ON sale(program_id, local_date);"                               \
    "CREATE TABLE sale_item("                                                                      \
    " sale_id BIGINT NOT NULL REFERENCES sale(id), n BIGINT NOT NULL,"                             \
    " category BIGINT NOT NULL CHECK (category BETWEEN 1 AND 65535),"                              \
    " quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 65535),"                              \
    " amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0), PRIMARY KEY (sale_id, n));"          \
    "CREATE TABLE sale_line("                                                                      \
    " sale_id BIGINT NOT NULL REFERENCES sale(id), n BIGINT NOT NULL,"                             \
    " source BIGINT NOT NULL CHECK (source BETWEEN 1 AND 4), rule_id BIGINT NOT NULL,"             \
    " points BIGINT NOT NULL CHECK (points > 0), PRIMARY KEY (sale_id, n));"                       \
    "CREATE TABLE sale_refund("                                                                    \
    " id BIGINT PRIMARY KEY, sale_id BIGINT NOT NULL REFERENCES sale(id),"                         \
    " account_id BIGINT NOT NULL REFERENCES account(id), at BIGINT NOT NULL,"                      \
    " local_date TEXT COLLATE \"C\" NOT NULL,"                                                     \
    " amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),"                                      \
    " request_id TEXT NOT NULL UNIQUE, content_hash TEXT NOT NULL,"                                \
    " entry_id BIGINT REFERENCES entry(id),"                                                       \
    " points_back BIGINT NOT NULL CHECK (points_back >= 0),"                                       \
    " points_short BIGINT NOT NULL CHECK (points_short >= 0),"                                     \
    " units_back BIGINT NOT NULL CHECK (units_back >= 0),"                                         \
    " period_after BIGINT NOT NULL CHECK (period_after BETWEEN 0 AND 65535));"                     \
    "CREATE INDEX sale_refund_sale ON sale_refund(sale_id);"                                       \
    "CREATE INDEX sale_refund_account ON sale_refund(account_id, local_date);"                     \
    "CREATE TABLE sale_stamp("                                                                     \
    " sale_id BIGINT NOT NULL REFERENCES sale(id), refund_id BIGINT NOT NULL,"                     \
    " card BIGINT NOT NULL CHECK (card BETWEEN 1 AND 4),"                                          \
    " stamps BIGINT NOT NULL CHECK (stamps >= 0), rewards BIGINT NOT NULL CHECK (rewards >= 0),"   \
    " short BIGINT NOT NULL CHECK (short >= 0), PRIMARY KEY (sale_id, refund_id, card));"

/* The desk's cards in flight and the portal's codes (issue 20, version 6),
 * as schema.c's: what a desk read settles from the card it reads (a host
 * top-up, a points sync, a bono sale or use, each an intent recorded before
 * the card is written: at most one of each per card, its request id
 * unique, as the entry it posts), the identity bytes a rewrite puts back,
 * and each reward redeemed from the portal with the code the desk honours
 * once (`leal reward honour`). What `leal bono sell|use` and `leal reward
 * honour` read and write besides the core. */
#define PG_DESK_SCHEMA                                                                             \
    "CREATE TABLE card_pending_topup("                                                             \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " seq_before BIGINT NOT NULL CHECK (seq_before BETWEEN 0 AND 4294967295),"                     \
    " seq_after BIGINT NOT NULL CHECK (seq_after BETWEEN 0 AND 4294967295),"                       \
    " purse_after BIGINT NOT NULL CHECK (purse_after BETWEEN 1 AND 2147483647),"                   \
    " cents BIGINT NOT NULL CHECK (cents BETWEEN 1 AND purse_after),"                              \
    " request_id TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL,"                                \
    " mark BYTEA CHECK (mark IS NULL OR length(mark) = 16),"                                       \
    " store_id BIGINT REFERENCES store(id));"                                                      \
    "CREATE TABLE card_identity_rewrite("                                                          \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " span BYTEA NOT NULL CHECK (length(span) BETWEEN 1 AND 256), created_at BIGINT NOT NULL);"    \
    "CREATE TABLE card_pending_sync("                                                              \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " seq_before BIGINT NOT NULL CHECK (seq_before BETWEEN 0 AND 4294967295),"                     \
    " seq_after BIGINT NOT NULL CHECK (seq_after BETWEEN 0 AND 4294967295),"                       \
    " points_after BIGINT NOT NULL CHECK (points_after BETWEEN 0 AND 4294967295),"                 \
    " points BIGINT NOT NULL CHECK (points <> 0),"                                                 \
    " upto_entry BIGINT NOT NULL CHECK (upto_entry > 0), created_at BIGINT NOT NULL);"             \
    "CREATE TABLE card_pending_bono("                                                              \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " bono_id BIGINT NOT NULL CHECK (bono_id BETWEEN 1 AND 4294967295),"                           \
    " seq_before BIGINT NOT NULL CHECK (seq_before BETWEEN 0 AND 4294967295),"                     \
    " seq_after BIGINT NOT NULL CHECK (seq_after BETWEEN 0 AND 4294967295),"                       \
    " sessions BIGINT NOT NULL CHECK (sessions BETWEEN -65535 AND 65535 AND sessions <> 0),"       \
    " cents BIGINT NOT NULL CHECK (cents >= 0),"                                                   \
    " file_after BYTEA NOT NULL CHECK (length(file_after) = 34),"                                  \
    " request_id TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL,"                                \
    " store_id BIGINT REFERENCES store(id));"                                                      \
    "CREATE TABLE portal_redemption("                                                              \
    " code TEXT PRIMARY KEY CHECK (length(code) = 9),"                                             \
    " entry_id BIGINT NOT NULL UNIQUE REFERENCES entry(id),"                                       \
    " customer_id BIGINT NOT NULL REFERENCES customer(id), reward_id BIGINT NOT NULL,"             \
    " created_at BIGINT NOT NULL, honoured_at BIGINT, honoured_by TEXT);"

/* Reconciliation's check of a card's TMCs (issue 19, version 7), as
 * schema.c's EV2C_MIGRATION: reconcile_finding takes the kind tmc_gap. */
#define PG_TMC_GAP_SCHEMA                                                                          \
    "ALTER TABLE reconcile_finding DROP CONSTRAINT reconcile_finding_kind_check,"                  \
    " ADD CONSTRAINT reconcile_finding_kind_check CHECK (kind IN ('gap','doubt','clone',"          \
    "  'rollback','balance','tamper','cap','tmv_forged','tmv_altered','tmc_replay','tmc_gap'));"

/* A collective's settlement (issue 20, version 8), as schema.c's: the value
 * of a point the program settles at (history kept: the newest row is the
 * value) and each settled period, closed for good (a trigger refuses its
 * update or delete, as SQLite's do). */
#define PG_SETTLE_SCHEMA                                                                           \
    "CREATE TABLE settle_value("                                                                   \
    " id BIGINT PRIMARY KEY, program_id BIGINT NOT NULL REFERENCES program(id),"                   \
    " point_value_cents BIGINT NOT NULL CHECK (point_value_cents BETWEEN 1 AND 100000),"           \
    " at BIGINT NOT NULL, operator TEXT NOT NULL CHECK (operator <> ''));"                         \
    "CREATE INDEX settle_value_program ON settle_value(program_id, id);"                           \
    "CREATE TABLE settlement("                                                                     \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " period TEXT NOT NULL CHECK (length(period) = 7), end_at BIGINT NOT NULL,"                    \
    " upto_entry BIGINT NOT NULL CHECK (upto_entry >= 0),"                                         \
    " point_value_cents BIGINT NOT NULL CHECK (point_value_cents >= 1), at BIGINT NOT NULL,"       \
    " operator TEXT NOT NULL CHECK (operator <> ''), PRIMARY KEY (program_id, period));"           \
    "CREATE FUNCTION settlement_closed() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RAISE "     \
    "EXCEPTION 'a settled period is closed'; END $f$;"                                             \
    "CREATE TRIGGER settlement_closed BEFORE UPDATE OR DELETE ON settlement FOR EACH ROW EXECUTE " \
    "FUNCTION settlement_closed();"

/* The desk's cards (issue 20, version 9, PGCARD), as schema.c's: who
 * carries a card of a family account (`leal card holder`), the Argon2id
 * hash of the PIN the desk set for the portal with its wrong tries in a
 * row (`leal card pin`), a phone's caps (`leal qr enrol`) and the text of a
 * customer's static QR code (`leal qr issue`), each one row per card; and
 * the audit log the desk's PIN and holder changes write a line to (who,
 * what, the object's before and after). What `leal card ...`, `leal desk`
 * and `leal qr issue|enrol|revoke` read and write besides the core and the
 * desk's cards in flight. audit.user_id names a back-office user (web_user),
 * which version 10 brings and then binds it to; the desk's lines leave it
 * NULL. */
#define PG_CARD_SCHEMA                                                                             \
    "CREATE TABLE card_holder("                                                                    \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " name TEXT NOT NULL CHECK (name <> ''), set_at BIGINT NOT NULL);"                             \
    "CREATE TABLE card_pin("                                                                       \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " pin_hash TEXT NOT NULL CHECK (substr(pin_hash, 1, 10) = '$argon2id$'),"                      \
    " fails BIGINT NOT NULL DEFAULT 0 CHECK (fails >= 0), set_at BIGINT NOT NULL,"                 \
    " set_by TEXT NOT NULL);"                                                                      \
    "CREATE TABLE qr_phone_caps("                                                                  \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " cap_tx_cents BIGINT NOT NULL CHECK (cap_tx_cents BETWEEN 1 AND 4294967295),"                 \
    " cap_day_cents BIGINT NOT NULL CHECK (cap_day_cents BETWEEN cap_tx_cents AND 4294967295));"   \
    "CREATE TABLE qr_static_text("                                                                 \
    " card_id BIGINT PRIMARY KEY REFERENCES card(card_id),"                                        \
    " text TEXT NOT NULL CHECK (length(text) BETWEEN 4 AND 511), expires_at BIGINT NOT NULL);"     \
    "CREATE TABLE audit("                                                                          \
    " id BIGINT PRIMARY KEY, at BIGINT NOT NULL, user_id BIGINT, actor TEXT NOT NULL,"             \
    " action TEXT NOT NULL, object TEXT NOT NULL, before TEXT, after TEXT);"

/* What the shop owner's customer-facing commands keep (issue 20, version
 * 10, PGMSG), as schema.c's: customers' tags and the saved segments over them
 * (`leal segment`, `leal customer tag`), a program's e-mail settings (`leal
 * mail`), and the back office's users with their stores, sessions, reset
 * codes (`leal user`), whose changes go to version 9's audit log, now bound to
 * them. The same columns,
 * checks and unique keys; a segment's name and a user's are compared
 * bytewise as SQLite's are. */
#define PG_PGMSG_SCHEMA                                                                            \
    "CREATE TABLE customer_tag("                                                                   \
    " customer_id BIGINT NOT NULL REFERENCES customer(id),"                                        \
    " tag TEXT COLLATE \"C\" NOT NULL CHECK (length(tag) BETWEEN 1 AND 32),"                       \
    " at BIGINT NOT NULL, PRIMARY KEY (customer_id, tag));"                                        \
    "CREATE INDEX customer_tag_tag ON customer_tag(tag, customer_id);"                             \
    "CREATE TABLE segment("                                                                        \
    " id BIGINT PRIMARY KEY, program_id BIGINT NOT NULL REFERENCES program(id),"                   \
    " name TEXT COLLATE \"C\" NOT NULL CHECK (length(name) BETWEEN 1 AND 63),"                     \
    " tier BIGINT CHECK (tier BETWEEN 0 AND 255), store_id BIGINT REFERENCES store(id),"           \
    " visit_before BIGINT, visit_after BIGINT,"                                                    \
    " spend_min_cents BIGINT CHECK (spend_min_cents >= 0),"                                        \
    " spend_window_days BIGINT CHECK (spend_window_days BETWEEN 1 AND 3660),"                      \
    " points_above BIGINT, points_below BIGINT,"                                                   \
    " birthday_month BIGINT CHECK (birthday_month BETWEEN 1 AND 12),"                              \
    " consent TEXT CHECK (consent IN ('email','sms','phone','post','whatsapp')),"                  \
    " tag TEXT CHECK (length(tag) BETWEEN 1 AND 32), created_at BIGINT NOT NULL,"                  \
    " CHECK ((spend_min_cents IS NULL) = (spend_window_days IS NULL)),"                            \
    " UNIQUE (program_id, name));"                                                                 \
    "CREATE TABLE program_mail("                                                                   \
    " program_id BIGINT PRIMARY KEY REFERENCES program(id),"                                       \
    " host TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 253),"                                  \
    " port BIGINT NOT NULL CHECK (port BETWEEN 0 AND 65535),"                                      \
    " tls TEXT NOT NULL CHECK (tls IN ('starttls','tls','none')),"                                 \
    " sender TEXT NOT NULL CHECK (length(sender) BETWEEN 3 AND 254), sender_name TEXT NOT NULL,"   \
    " credentials TEXT NOT NULL, ca_file TEXT NOT NULL, updated_at BIGINT NOT NULL);"              \
    "CREATE TABLE web_user("                                                                       \
    " id BIGINT PRIMARY KEY,"                                                                      \
    " name TEXT COLLATE \"C\" NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),"              \
    " role TEXT NOT NULL CHECK (role IN ('admin','manager','staff')), pass_hash TEXT NOT NULL,"    \
    " disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)), created_at BIGINT NOT NULL,"  \
    " updated_at BIGINT NOT NULL, lang TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en','es')),"    \
    " email TEXT CHECK (email IS NULL OR length(email) < 256));"                                   \
    "CREATE TABLE web_user_store("                                                                 \
    " user_id BIGINT NOT NULL REFERENCES web_user(id),"                                            \
    " store_id BIGINT NOT NULL REFERENCES store(id), PRIMARY KEY (user_id, store_id));"            \
    "CREATE TABLE web_session("                                                                    \
    " token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),"                               \
    " user_id BIGINT NOT NULL REFERENCES web_user(id), csrf TEXT NOT NULL,"                        \
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);"                                    \
    "CREATE INDEX web_session_user ON web_session(user_id);"                                       \
    "CREATE TABLE web_reset("                                                                      \
    " token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),"                               \
    " user_id BIGINT NOT NULL REFERENCES web_user(id), created_at BIGINT NOT NULL,"                \
    " expires_at BIGINT NOT NULL, used_at BIGINT);"                                                \
    "ALTER TABLE audit ADD FOREIGN KEY (user_id) REFERENCES web_user(id);"

/* Messages to customers (issue 20, version 11, PGMSG2), as schema.c's at
 * its newest: a template per program, occasion and language, the days of
 * the occasions that count them, a customer's language, the birthday bonus,
 * campaigns with their texts per language, each customer's tier as the last
 * run saw it, the address of the program's `leal serve` for the unsubscribe
 * link, the SMS and WhatsApp gateways, an occasion's own text per gateway
 * channel, the send log (one row per customer, occasion, day and channel,
 * recorded before anything is sent; its token unique) and the bounces
 * matched to it. message_channel is a view, as on SQLite: the channels a
 * program sends on. randomblob() and hex() are SQLite's, for the tokens the
 * backends make with the same SQL: randomblob takes its bytes from
 * gen_random_uuid() (PostgreSQL's strong random source, no extension),
 * only those of a version 4 UUID that are random (13 of its 16), so every
 * byte is random. */
#define PG_PGMSG2_SCHEMA                                                                           \
    "CREATE FUNCTION randomblob(n bigint) RETURNS bytea LANGUAGE sql VOLATILE AS $f$ SELECT "      \
    "substring(string_agg(substring(u from 1 for 6) || substring(u from 10 for 7), ''::bytea) "    \
    "from 1 for n::integer) FROM (SELECT decode(replace(gen_random_uuid()::text, '-', ''), "       \
    "'hex') AS u FROM generate_series(1, (n::integer + 12) / 13)) g $f$;"                          \
    "CREATE FUNCTION hex(b bytea) RETURNS text LANGUAGE sql IMMUTABLE AS "                         \
    "'SELECT upper(encode(b, ''hex''))';"                                                          \
    "CREATE TABLE message_template("                                                               \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " occasion TEXT NOT NULL CHECK (occasion IN ('birthday','inactive','expiring','welcome',"      \
    "  'tier_up','tier_down')),"                                                                   \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " subject TEXT NOT NULL CHECK (length(subject) >= 1),"                                         \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1), body_html TEXT NOT NULL,"            \
    " updated_at BIGINT NOT NULL, PRIMARY KEY (program_id, occasion, lang));"                      \
    "CREATE TABLE message_occasion("                                                               \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " occasion TEXT NOT NULL CHECK (occasion IN ('inactive','expiring','welcome')),"               \
    " days BIGINT NOT NULL CHECK (days BETWEEN 1 AND 3650), updated_at BIGINT NOT NULL,"           \
    " PRIMARY KEY (program_id, occasion));"                                                        \
    "CREATE TABLE customer_lang("                                                                  \
    " customer_id BIGINT PRIMARY KEY REFERENCES customer(id),"                                     \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')), updated_at BIGINT NOT NULL);"                \
    "CREATE TABLE message_birthday_bonus("                                                         \
    " program_id BIGINT PRIMARY KEY REFERENCES program(id),"                                       \
    " points BIGINT NOT NULL CHECK (points BETWEEN 1 AND 100000), updated_at BIGINT NOT NULL);"    \
    "CREATE TABLE message_campaign("                                                               \
    " id BIGINT PRIMARY KEY, program_id BIGINT NOT NULL REFERENCES program(id),"                   \
    " name TEXT COLLATE \"C\" NOT NULL CHECK (length(name) BETWEEN 1 AND 63),"                     \
    " segment_id BIGINT NOT NULL REFERENCES segment(id),"                                          \
    " day TEXT NOT NULL CHECK (length(day) = 10), created_at BIGINT NOT NULL,"                     \
    " UNIQUE (program_id, name));"                                                                 \
    "CREATE TABLE message_campaign_text("                                                          \
    " campaign_id BIGINT NOT NULL REFERENCES message_campaign(id),"                                \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " subject TEXT NOT NULL CHECK (length(subject) >= 1),"                                         \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1), body_html TEXT NOT NULL,"            \
    " updated_at BIGINT NOT NULL, PRIMARY KEY (campaign_id, lang));"                               \
    "CREATE TABLE message_tier("                                                                   \
    " customer_id BIGINT PRIMARY KEY REFERENCES customer(id),"                                     \
    " tier BIGINT NOT NULL CHECK (tier BETWEEN 0 AND 255), updated_at BIGINT NOT NULL);"           \
    "CREATE TABLE message_web("                                                                    \
    " program_id BIGINT PRIMARY KEY REFERENCES program(id),"                                       \
    " url TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 200), updated_at BIGINT NOT NULL);"       \
    "CREATE TABLE message_gateway("                                                                \
    " program_id BIGINT NOT NULL REFERENCES program(id),"                                          \
    " channel TEXT NOT NULL CHECK (channel IN ('sms','whatsapp')),"                                \
    " url TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 500),"                                    \
    " method TEXT NOT NULL CHECK (method IN ('POST','PUT')),"                                      \
    " format TEXT NOT NULL CHECK (format IN ('json','form')), headers TEXT NOT NULL,"              \
    " secret_file TEXT NOT NULL, body TEXT NOT NULL CHECK (length(body) >= 1),"                    \
    " updated_at BIGINT NOT NULL, PRIMARY KEY (program_id, channel));"                             \
    "CREATE VIEW message_channel AS SELECT program_id, 'email' AS channel FROM program_mail "      \
    "UNION ALL SELECT program_id, channel FROM message_gateway;"                                   \
    "CREATE TABLE message_channel_text("                                                           \
    " program_id BIGINT NOT NULL REFERENCES program(id), occasion TEXT NOT NULL,"                  \
    " lang TEXT NOT NULL CHECK (lang IN ('en','es')),"                                             \
    " channel TEXT NOT NULL CHECK (channel IN ('sms','whatsapp')),"                                \
    " body_text TEXT NOT NULL CHECK (length(body_text) >= 1), updated_at BIGINT NOT NULL,"         \
    " PRIMARY KEY (program_id, occasion, lang, channel));"                                         \
    "CREATE TABLE message_send("                                                                   \
    " id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customer(id),"                 \
    " occasion TEXT NOT NULL, day TEXT NOT NULL CHECK (length(day) = 10),"                         \
    " token TEXT NOT NULL UNIQUE CHECK (length(token) = 32),"                                      \
    " state TEXT NOT NULL CHECK (state IN ('pending','sending','sent','failed','refused',"         \
    "  'unknown','skipped')),"                                                                     \
    " attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0), next_at BIGINT NOT NULL,"          \
    " error TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"     \
    " channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email','sms','whatsapp')),"        \
    " UNIQUE (customer_id, occasion, day, channel));"                                              \
    "CREATE INDEX message_send_state ON message_send(state, next_at);"                             \
    "CREATE TABLE message_bounce("                                                                 \
    " id BIGINT PRIMARY KEY, message_id BIGINT NOT NULL REFERENCES message_send(id),"              \
    " customer_id BIGINT NOT NULL REFERENCES customer(id),"                                        \
    " kind TEXT NOT NULL CHECK (kind IN ('hard','soft')),"                                         \
    " status TEXT NOT NULL CHECK (length(status) BETWEEN 5 AND 9), address TEXT NOT NULL,"         \
    " diagnostic TEXT NOT NULL DEFAULT '',"                                                        \
    " report_key TEXT NOT NULL UNIQUE CHECK (length(report_key) = 64), at BIGINT NOT NULL);"       \
    "CREATE INDEX message_bounce_customer ON message_bounce(customer_id, kind, address);"

/* Version 12 (PGSERVE): what `leal serve` needs besides. ledger_version,
 * one row whose n every write transaction that changed a row raises by one
 * just before it commits (store_pg.c), in that transaction: the counterpart of SQLite's
 * PRAGMA data_version for the dashboard's kept answers (host/report:
 * report_db_version), read in the dashboard's own snapshot, so it moves
 * exactly when a commit does and a rolled-back write leaves it as it was.
 * The customer portal's sign-in links and sessions (SQLite's
 * PORTAL_MIGRATION: only each token's SHA-256) and the back office's
 * erasure requests (WEB9_MIGRATION's erasure_request). */
#define PG_PGSERVE_SCHEMA                                                                          \
    "CREATE TABLE ledger_version("                                                                 \
    " id BIGINT PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);"                                   \
    "INSERT INTO ledger_version VALUES (1, 0);"                                                    \
    "CREATE TABLE portal_link("                                                                    \
    " token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),"                               \
    " customer_id BIGINT NOT NULL REFERENCES customer(id), created_at BIGINT NOT NULL,"            \
    " expires_at BIGINT NOT NULL, used_at BIGINT);"                                                \
    "CREATE TABLE portal_session("                                                                 \
    " token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),"                               \
    " customer_id BIGINT NOT NULL REFERENCES customer(id), csrf TEXT NOT NULL,"                    \
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);"                                    \
    "CREATE TABLE erasure_request("                                                                \
    " id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customer(id),"                 \
    " asked_on TEXT NOT NULL CHECK (asked_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),"                   \
    " channel TEXT NOT NULL CHECK (channel IN ('desk','email','post','phone','portal')),"          \
    " user_id BIGINT REFERENCES web_user(id), recorded_by TEXT NOT NULL,"                          \
    " recorded_at BIGINT NOT NULL, done_at BIGINT, done_by TEXT);"                                 \
    "CREATE UNIQUE INDEX erasure_request_pending ON erasure_request(customer_id)"                  \
    " WHERE done_at IS NULL;"

static const char *const pg_migrations[] = {
    /* 0 -> 1 */ PG_PRINTF_FUNCTION PG_MAX_FUNCTIONS PG_ROWID_FUNCTION PG_CORE_SCHEMA
        PG_HOST_CHANGE_SCHEMA PG_ROWID(
            "'program','store','terminal','customer','account','card_event','entry','line','lot'"),
    /* 1 -> 2 */ PG_SYNC_SCHEMA PG_ROWID("'sync_finding','reconcile_finding'"),
    /* 2 -> 3 */ PG_TMAC_SCHEMA,
    /* 3 -> 4 */ PG_CUSTOMER_SCHEMA PG_ROWID("'consent','customer_note'"),
    /* 4 -> 5 */ PG_SALE_SCHEMA PG_ROWID("'sale','sale_refund'"),
    /* 5 -> 6 */ PG_DESK_SCHEMA,
    /* 6 -> 7 */ PG_TMC_GAP_SCHEMA,
    /* 7 -> 8 */ PG_SETTLE_SCHEMA PG_ROWID("'settle_value'"),
    /* 8 -> 9 */ PG_CARD_SCHEMA PG_ROWID("'audit'"),
    /* 9 -> 10 */ PG_PGMSG_SCHEMA PG_ROWID("'segment','web_user'"),
    /* 10 -> 11 */ PG_PGMSG2_SCHEMA PG_ROWID("'message_campaign','message_send','message_bounce'"),
    /* 11 -> 12 */ PG_PGSERVE_SCHEMA PG_ROWID("'erasure_request'"),
};

_Static_assert(sizeof pg_migrations / sizeof pg_migrations[0] == STORE_PG_SCHEMA_VERSION,
               "one migration per PostgreSQL schema version");

const char *store_pg_migration(int from)
{
    if (from < 0 || from >= STORE_PG_SCHEMA_VERSION)
        return NULL;
    return pg_migrations[from];
}
