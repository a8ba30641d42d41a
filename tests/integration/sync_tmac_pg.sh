#!/bin/bash
# sync_tmac_pg.sh - the Transaction MAC checks of EV2/EV3 journals on
# PostgreSQL (issues 19 and 20): sync_reconcile_test's Transaction MAC cases
# (a genuine journal, a forged TMV, an entry altered after the card's commit,
# a dropped TMAC entry, an earn without the counter torn then made at another
# terminal, a desk write between two TMACed taps, a pay + earn
# altered (it read the counter), an earn without the counter (flag 40)
# rewritten to claim one; issue 19's restart gap: an earn torn at a
# terminal restarted before the card came back, the same earn at another
# (EV2 and EV3, either order, the TMAC entry in a later batch), a payment
# the same way, an answered earn whose TMAC entry a crash lost (the card
# itself next, a clone from the same step, and an entry rewritten to claim
# that step), a real clone; a replayed
# TMC last; real terminal code on a virtual EV3, the import's check with the
# card's tmac key, reconciliation's findings) run with their ledger on a
# private PostgreSQL 15 cluster (tests/lib/pg.sh; the fixture reads
# LEAL_TEST_PG), each asserting the same verdicts and findings as on SQLite;
# then what the last case left in the database, and a schema version 2
# database taken to the current version by opening it.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/pg.sh

if ! pg_available; then
    fail "PostgreSQL 15 is not installed (make deps installs postgresql-15)"
    finish; exit $?
fi
pg_start || { fail "pg: the test cluster did not start"; finish; exit $?; }

OUT=$(LEAL_TEST_PG=$LEAL_TEST_PG "$LEAL_BUILD/tests/unit/sync_reconcile_test" 2>&1)
RC=$?
for c in genuine forged altered dropped torn_then_same_step desk_write_is_no_gap altered_counted \
    no_counter_altered restart_then_same_step_ev2 restart_then_same_step_ev3 \
    restart_then_same_step_ev2_other_order restart_then_same_step_ev3_other_order \
    restart_tmac_entry_in_later_batch restart_torn_pay answered_then_crashed \
    answered_then_crashed_clone_same_step answered_then_crashed_altered_proof restart_real_clone \
    replayed mirror mirror_forged; do
    check_match "pg: test_tmac_$c" "^\[       OK \] test_tmac_$c\$" "$OUT"
done
check_eq "pg: the twenty-one Transaction MAC cases and nothing else, exit 0" \
    "0|[  PASSED  ] 21 test(s)." "$RC|$(echo "$OUT" | grep 'PASSED')"
# The replayed case's journal: the earn's TMAC entry (TMC 2), the pay +
# earn's (TMC 3), and the copy of the first (TMC 2 again) found a replay.
check_eq "pg: terminal_tmac: each TMAC entry's TMC and verdict" \
    "3:2:ok 5:3:ok 7:2:replay" \
    "$(pg_sql "select seq || ':' || tmc || ':' || verdict from terminal_tmac order by seq" | tr '\n' ' ' | sed 's/ $//')"
check_eq "pg: reconcile_finding: the replay (and the points the copied earn booked, which the card does not show: the earn read no counter, so no clone)" \
    "balance:0 tmc_replay:1" \
    "$(pg_sql "select kind || ':' || fraud from reconcile_finding order by kind" | tr '\n' ' ' | sed 's/ $//')"
check_eq "pg: the card blocked" "blocked" "$(pg_sql "select status from card")"

# A ledger of schema version 2 (as leal made it before the Transaction MAC
# came to PostgreSQL) is taken to the current version (12: customers, sales,
# the desk's cards in flight, the tmc_gap finding after the Transaction
# MAC, settlement, the desk's per-card rows and the audit log, then tags,
# segments, mail settings and back-office users, then messages, then the
# ledger's version counter, the portal's links and sessions and erasure
# requests) by the next command that opens it.
pg_reset
run_capture "$LEAL" ledger init --db "$LEAL_TEST_PG"
check_eq "pg: ledger init" "0" "$RC"
pg_sql "DROP TABLE ledger_version, portal_session, portal_link, erasure_request; DROP VIEW message_channel; DROP TABLE message_bounce, message_send, message_channel_text, message_gateway, message_web, message_tier, message_campaign_text, message_campaign, message_birthday_bonus, customer_lang, message_occasion, message_template; DROP FUNCTION randomblob(bigint); DROP FUNCTION hex(bytea); DROP TABLE audit, web_reset, web_session, web_user_store, web_user, program_mail, segment, customer_tag, qr_static_text, qr_phone_caps, card_pin, card_holder; DROP TABLE settlement, settle_value; DROP FUNCTION settlement_closed(); DROP TABLE portal_redemption, card_pending_bono, card_pending_sync, card_identity_rewrite, card_pending_topup; DROP TABLE sale_stamp, sale_refund, sale_line, sale_item, sale, sale_category; DROP TABLE customer_note, consent, customer_pii; DROP FUNCTION instr(text, text); DROP TABLE terminal_tmac; ALTER TABLE card_key DROP CONSTRAINT card_key_role_check, ADD CONSTRAINT card_key_role_check CHECK (role BETWEEN 1 AND 11); ALTER TABLE reconcile_finding DROP CONSTRAINT reconcile_finding_kind_check, ADD CONSTRAINT reconcile_finding_kind_check CHECK (kind IN ('gap','doubt','clone','rollback','balance','tamper','cap')); UPDATE schema_version SET version = 2"
check_eq "pg: made a version 2 ledger" "2|0" \
    "$(pg_sql "select version from schema_version")|$(pg_sql "select count(*) from pg_tables where tablename = 'terminal_tmac'")"
run_capture "$LEAL" ledger verify --db "$LEAL_TEST_PG"
check_match "pg: a version 2 ledger opens and verifies" "^ledger ok" "$OUT"
check_eq "pg: migrated: version 12, terminal_tmac, role 12 and the TMAC findings (tmc_gap too) allowed, sales, the desk's cards in flight, its per-card rows, the audit log, tags to users, messages, the version counter and the portal" \
    "12|1|CHECK (((role >= 1) AND (role <= 12)))|1|6|3|16|1|12|1" \
    "$(pg_sql "select version from schema_version")|$(pg_sql "select count(*) from pg_tables where tablename = 'terminal_tmac'")|$(pg_sql "select pg_get_constraintdef(oid) from pg_constraint where conname = 'card_key_role_check'")|$(pg_sql "select count(*) from pg_constraint where conname = 'reconcile_finding_kind_check' and pg_get_constraintdef(oid) like '%tmc_replay%tmc_gap%'")|$(pg_sql "select count(*) from pg_tables where tablename like 'sale%'")|$(pg_sql "select count(*) from pg_tables where tablename like 'card\_pending\_%'")|$(pg_sql "select count(*) from pg_tables where tablename in ('card_holder','card_pin','qr_phone_caps','qr_static_text','customer_tag','segment','program_mail','web_user','web_user_store','web_session','web_reset','audit','ledger_version','portal_link','portal_session','erasure_request')")|$(pg_sql "select count(*) from pg_constraint where conrelid = 'audit'::regclass and contype = 'f'")|$(pg_sql "select count(*) from pg_tables where tablename like 'message\_%' or tablename = 'customer_lang'")|$(pg_sql "select count(*) from pg_views where viewname = 'message_channel'")"

finish
