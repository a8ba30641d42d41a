#!/bin/bash
# ledger_pg.sh - the core book-keeping end to end on both backends, the same
# cases with the same expected output: on an SQLite file, then on a private
# PostgreSQL 15 cluster this script starts (tests/lib/pg.sh) and stops.
# Program, store, terminal, gift account and card creation; posts with
# idempotency keys (a replay, a reused key with other content); a spend
# beyond the balance refused with nothing written; a void; balances;
# `ledger verify` clean; points expired past their lot's last day, once;
# then `ledger verify` finding a balance changed behind its back;
# two processes posting to the same account at once (totals exact, no lost
# update). On PostgreSQL also: LEAL_DB selects the backend, `leal agent`
# runs there (the last command refused), a newer schema is
# refused; `leal ledger copy` from the SQLite file to PostgreSQL and back
# (the portal's links and sessions and the erasure requests with the rest);
# `account show` lists balances in their names' byte order on an SQLite file
# and on a database collated for Spanish alike, and `ledger verify` names
# the first of two broken balances in that order on both; `leal ledger import`
# (as ledger_import.sh) refuses a batch whole and imports the corrected file
# once, and `leal settle` with `leal report settlement` settle a collective's
# month to the same figures, on a new file and a new database alike, and so
# do `leal program set` (caps and limits, a lower Classic cap refused with
# nothing set) and `leal terminal new-epoch`.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/backend.sh

PSQL="$PG_BIN/psql"

# The backend under test: BK (sqlite|pg), DB (--db value), q SQL (its rows:
# tests/lib/backend.sh).
l() { run_capture "$LEAL" "$@" --db "$DB"; }
# Everything the ledger holds, for "nothing written".
state() {
    q "SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM line), (SELECT count(*) FROM \
account), (SELECT coalesce(sum(amount), 0) FROM balance), (SELECT count(*) FROM lot)"
}

# post ACCOUNT AMOUNT REQUEST [ASSET]
post() {
    l ledger post --account "$1" --asset "${4:-PTS}" --amount "$2" --reason test --operator ana \
        --request-id "$3" --json
}

cases() {
    local n=$BK
    l ledger init
    check_eq "$n: ledger init" 0 "$RC"
    l program create --code cafe --name "Café Sol" --kind collective --points-per-euro 1,2 \
        --points-expiry-days 365
    check_eq "$n: program create" "0|program 1 created (cafe)" "$RC|$OUT"
    check_eq "$n: program accounts" 10 "$(q "SELECT count(*) FROM account WHERE kind = 'program'")"
    l program create --code bar --name "Bar" --kind single
    check_eq "$n: second program" "0|program 2 created (bar)" "$RC|$OUT"
    l program show 2 --json
    check_match "$n: program show" '"code":"bar"' "$OUT"
    l store add --program 1 --code centro --name "Sol Centro" --tz Europe/Madrid
    check_eq "$n: store add" "0|store 1 added to program 1" "$RC|$OUT"
    l terminal add --store 1 --name "caja 1" --json
    check_eq "$n: terminal add" '0|{"id":1,"epoch":1}' "$RC|$OUT"
    l account add --program 1
    check_eq "$n: gift account" "0|account 21 added" "$RC|$OUT"
    l account add --program 1 --json
    check_eq "$n: second account" '0|{"id":22}' "$RC|$OUT"
    l account add-card 21 --card-id 900001 --uid 04A1B2C3D4E5F6 --tech desfire-ev3
    check_eq "$n: card add" "0|card 900001 added to account" "$RC|$OUT"
    check_eq "$n: card uid stored as bytes" "7" "$(q "SELECT length(uid) FROM card")"
    l account add-card 22 --card-id 900001 --uid 04A1B2C3D4E5F7 --tech desfire-ev3
    check_eq "$n: card id taken twice refused" 1 "$([ "$RC" -ne 0 ] && echo 1)"

    post 21 100 r-1
    check_eq "$n: post" '0|{"entry":1,"replayed":false}' "$RC|$OUT"
    post 21 100 r-1
    check_eq "$n: same request replayed" '0|{"entry":1,"replayed":true}' "$RC|$OUT"
    before=$(state)
    post 21 101 r-1
    check_eq "$n: request id reused with other content: exit 2" 2 "$RC"
    check_match "$n: request id reused: error" "r-1|request" "$OUT$ERR"
    check_eq "$n: request id reused: nothing written" "$before" "$(state)"
    post 21 -500 r-2
    check_eq "$n: spend beyond the balance refused" 1 "$([ "$RC" -ne 0 ] && echo 1)"
    check_eq "$n: spend refused: nothing written" "$before" "$(state)"
    post 21 -30 r-3
    check_eq "$n: spend" '0|{"entry":2,"replayed":false}' "$RC|$OUT"
    post 21 12,50 r-4 EUR
    check_eq "$n: euros" '0|{"entry":3,"replayed":false}' "$RC|$OUT"
    check_eq "$n: balances" "EUR|1250
PTS|70" "$(q "SELECT asset, amount FROM balance WHERE account_id = 21 ORDER BY asset")"
    check_eq "$n: lines balance" "0" "$(q "SELECT sum(amount) FROM line")"
    l ledger void 2 --reason mistake --operator ana
    check_eq "$n: void" "0|entry 2 voided by entry 4" "$RC|$OUT"
    check_eq "$n: void restores the points" "100" \
        "$(q "SELECT amount FROM balance WHERE account_id = 21 AND asset = 'PTS'")"
    l account show 21 --json
    check_eq "$n: account show" 0 "$RC"
    check_match "$n: account show: balances" '"PTS".*100|100.*"PTS"' "$OUT"
    l ledger verify
    check_eq "$n: verify" 0 "$RC"
    check_match "$n: verify says ok" "ok" "$OUT"

    # Two processes posting +1 to account 22, each with its own keys.
    for w in a b; do
        (for i in $(seq 1 10); do
            "$LEAL" ledger post --account 22 --asset PTS --amount 1 --reason c --operator "$w" \
                --request-id "c-$w-$i" --db "$DB" >/dev/null 2>"$T/err-$n-$w" || echo "fail $w $i"
        done) >"$T/out-$n-$w" &
        pids="${pids:-} $!"
    done
    # shellcheck disable=SC2086
    wait $pids
    pids=
    check_eq "$n: concurrent writers: no failure" "" "$(cat "$T/out-$n-a" "$T/out-$n-b")"
    check_eq "$n: concurrent writers: total exact" "20" \
        "$(q "SELECT amount FROM balance WHERE account_id = 22 AND asset = 'PTS'")"
    check_eq "$n: concurrent writers: 20 entries" "20" \
        "$(q "SELECT count(*) FROM entry WHERE request_id LIKE 'c-%'")"
    l ledger verify
    check_eq "$n: verify after the writers" 0 "$RC"

    # Points past their lot's last day to points_expired, once (ledger expire).
    l ledger post --account 22 --asset PTS --amount 40 --reason promo --operator ana \
        --request-id x-1 --expires "$EXP_DAY"
    check_eq "$n: a lot of 40 points until $EXP_DAY" "0|$EXP_AT" \
        "$RC|$(q "SELECT expires_at FROM lot WHERE account_id = 22 AND original = 40")"
    l ledger expire --program 1 --operator nightly --at "$EXP_DAY" --json
    check_eq "$n: on its last day nothing expires" '0|{"accounts":0,"points":0}' "$RC|$OUT"
    l ledger expire --program 1 --operator nightly --at "$EXP_NEXT"
    check_eq "$n: the day after: its 40 points" "0|expired 40 points in 1 accounts" "$RC|$OUT"
    check_eq "$n: account 22 back to 20, points_expired 40, the lot used up, the entry" \
        "20|40|0|expire|nightly|expire:22:$EXP_AT" \
        "$(q "SELECT (SELECT amount FROM balance WHERE account_id = 22 AND asset = 'PTS') || '|' || (SELECT b.amount FROM balance b JOIN account a ON a.id = b.account_id WHERE a.program_id = 1 AND a.name = 'points_expired' AND b.asset = 'PTS') || '|' || (SELECT remaining FROM lot WHERE expires_at = $EXP_AT) || '|' || kind || '|' || operator || '|' || request_id FROM entry WHERE kind = 'expire'")"
    l ledger expire --program 1 --operator nightly --at "$EXP_NEXT" --json
    check_eq "$n: swept again: nothing more" '0|{"accounts":0,"points":0}' "$RC|$OUT"
    l ledger verify
    check_eq "$n: verify after the expiry" 0 "$RC"

    # A balance changed behind the ledger's back is found.
    q "UPDATE balance SET amount = amount + 1 WHERE account_id = 21 AND asset = 'EUR'" >/dev/null
    l ledger verify
    check_eq "$n: verify finds a changed balance: exit" 2 "$RC"
    check_match "$n: verify names it" "EUR: account 21 balance is 1251 but its lines sum to 1250" \
        "$ERR"
}

# A lot's last day a month ahead (the lots of the program's 365 days end
# later), its end (UTC) and the day after it.
EXP_DAY=$(date -u -d '+30 days' +%F)
EXP_NEXT=$(date -u -d "$EXP_DAY +1 day" +%F)
EXP_AT=$(date -u -d "$EXP_NEXT" +%s)

# The SQLite cases run while the cluster starts, then the same on PostgreSQL.
backend_both ledger-pg cases

n=pg
before=$(state)
LEAL_DB=$DB run_capture "$LEAL" account show 21 --json
check_eq "$n: LEAL_DB selects the backend" 0 "$RC"
# The last commands refused there run now (desk_ledger.sh's agent on PostgreSQL: desk_pg.sh).
LEAL_DB=$DB XDG_RUNTIME_DIR=$T/norun run_capture "$LEAL" agent status
check_eq "$n: agent status runs (no agent: exit 1, says so)" "1|no agent runs" "$RC|$OUT"
check_eq "$n: and wrote nothing" "$before" "$(state)"
# An unknown subcommand or command is the CLI's usage error, as on SQLite, not "not on
# PostgreSQL yet" (cli_pg.c lists whole commands).
l program bogus
check_eq "$n: an unknown subcommand: its command's usage error" \
    "2|leal: leal program: expected 'create', 'set ID' or 'show ID' (see 'leal --help')" "$RC|$ERR"
l bogus
check_eq "$n: an unknown command: the usage error" \
    "2|leal: unknown command 'bogus' (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" ledger verify --db "postgresql:///nosuchdb?host=$PG_DIR&user=postgres"
check_eq "$n: a database that does not exist: exit 1" 1 "$RC"
check_match "$n: a database that does not exist: one line" '^leal: .*nosuchdb' "$ERR"
# A URI's password is a secret: an error shows the rest of the URI, not it.
run_capture "$LEAL" ledger verify --db "postgresql://bob:s3cret@/nosuchdb?host=$PG_DIR&password=pw2"
check_eq "$n: a URI's passwords are not shown: exit 1" 1 "$RC"
check_match "$n: a URI's passwords are not shown" \
    "^leal: postgresql://bob:\*\*\*@/nosuchdb\?host=$PG_DIR&password=\*\*\*: " "$ERR"
check_eq "$n: neither password anywhere in the output" "" "$(printf '%s\n%s' "$OUT" "$ERR" | grep -e s3cret -e pw2)"
# leal ledger copy: the SQLite ledger of the cases into a new PostgreSQL
# database and back into a new file, verified entry by entry; the file that
# comes back is the file that left (its whole dump), less what a copy does
# not carry (none here but the cases' own PTS lots, which it does carry).
sqlite3 "$T/ledger.db" "UPDATE balance SET amount = amount - 1 WHERE account_id = 21 AND \
asset = 'EUR'"
backend_copy_both_ways copy \
    "copied 136 rows; 26 entries compared with the source; the copy's books are ok"
# The copy's planner statistics, taken before anything plans on it: every
# table ANALYZEd by the copy itself (autovacuum's show in last_autoanalyze).
check_eq "$n: copy: every table's statistics taken" 0 \
    "$("$PSQL" "$CHAIN" -qAtX -c "SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NULL")"
run_capture "$LEAL" ledger copy --from "sqlite:$T/ledger.db" --to "$CHAIN"
check_eq "$n: copy into a ledger that is not empty: refused" 1 "$RC"
check_match "$n: copy into a ledger that is not empty: why" "not empty" "$ERR"
check_eq "$n: copy into a ledger that is not empty: nothing written" 26 \
    "$("$PSQL" "$CHAIN" -qAtX -c "SELECT count(*) FROM entry")"
run_capture "$LEAL" customer add --program 1 --name Ana --db "$T/ledger.db"
sqlite3 "$T/ledger.db" "INSERT INTO customer_lang(customer_id, lang, updated_at) VALUES (1, 'es', 1)"
run_capture "$LEAL" ledger copy --from "sqlite:$T/ledger.db" --to "sqlite:$T/c.db"
check_eq "$n: copy between two files: use backup" 2 "$RC"
# A customer's language is carried (messages, schema version 11), and so are
# the portal's sign-in links and sessions and the erasure requests (version
# 12), a done one and a pending one: row for row to PostgreSQL and back to a
# new file, the same rows.
sqlite3 "$T/ledger.db" "INSERT INTO erasure_request(customer_id, asked_on, channel, recorded_by, \
recorded_at, done_at, done_by) VALUES (1, '2025-12-01', 'email', 'mia', 1, 2, 'ana'); \
INSERT INTO erasure_request(customer_id, asked_on, channel, recorded_by, recorded_at) VALUES \
(1, '2026-01-01', 'desk', 't', 3); INSERT INTO portal_link VALUES (zeroblob(32), 1, 10, 20, 15), \
(x'$(printf 'ab%.0s' $(seq 32))', 1, 11, 21, NULL); INSERT INTO portal_session VALUES \
(x'$(printf 'cd%.0s' $(seq 32))', 1, 'csrf-1', 12, 22)"
C2=$(backend_pg_db chain2)
run_capture "$LEAL" ledger copy --from "sqlite:$T/ledger.db" --to "$C2"
check_eq "$n: the copy carries the customer's language" "0|1|es" \
    "$RC|$("$PSQL" "$C2" -qAtX -c "SELECT customer_id, lang FROM customer_lang")"
portal_rows() { # SQL with HEX(token_hash) for the backend's hex
    echo "SELECT id, customer_id, asked_on, channel, coalesce(user_id, -1), recorded_by, \
recorded_at, coalesce(done_at, -1), coalesce(done_by, '-') FROM erasure_request ORDER BY id; \
SELECT $1, customer_id, created_at, expires_at, coalesce(used_at, -1) FROM portal_link ORDER BY 1; \
SELECT $1, customer_id, csrf, created_at, expires_at FROM portal_session"
}
check_eq "$n: the erasure requests, portal links and sessions there, row for row" \
    "1|1|2025-12-01|email|-1|mia|1|2|ana
2|1|2026-01-01|desk|-1|t|3|-1|-
0000000000000000000000000000000000000000000000000000000000000000|1|10|20|15
abababababababababababababababababababababababababababababababab|1|11|21|-1
cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd|1|csrf-1|12|22" \
    "$("$PSQL" "$C2" -qAtX -c "$(portal_rows "encode(token_hash, 'hex')")")"
run_capture "$LEAL" ledger copy --from "$C2" --to "sqlite:$T/back2.db"
check_eq "$n: and back to a new file: the same rows" \
    "0|$(sqlite3 "$T/ledger.db" "$(portal_rows "lower(hex(token_hash))")")" \
    "$RC|$(sqlite3 "$T/back2.db" "$(portal_rows "lower(hex(token_hash))")")"
run_capture "$LEAL" ledger copy --from "sqlite:$T/ledger.db" --to "sqlite:$T/none/x.db"
check_eq "$n: copy to a file: refused before anything" 2 "$RC"

# A statement the server refuses: one line naming what the statement was
# doing, PostgreSQL's SQLSTATE and its primary message (never its DETAIL,
# which quotes the row), and nothing written.
cq() { "$PSQL" "$CHAIN" -qAtX -c "$1"; }
cq "CREATE FUNCTION no_lines() RETURNS trigger LANGUAGE plpgsql AS \$f\$ BEGIN RAISE EXCEPTION \
'lines are closed today'; END \$f\$; CREATE TRIGGER no_lines BEFORE INSERT ON line FOR EACH ROW \
EXECUTE FUNCTION no_lines()"
run_capture "$LEAL" ledger post --account 21 --asset PTS --amount 5 --reason x --operator t \
    --db "$CHAIN"
# An entry, its lines and its lots are one statement on PostgreSQL (ledger_post.c):
# a trigger's refusal does not say which table, so the line names both.
check_eq "$n: a statement refused by the server: exit 1, the operation, SQLSTATE and reason" \
    "1||leal: ledger post: adding to entry, line and lot: PostgreSQL P0001: lines are closed today: the PostgreSQL server refused the statement; its SQLSTATE and reason say why|26" \
    "$RC|$OUT|$ERR|$(cq "SELECT count(*) FROM entry")"
run_capture "$LEAL" ledger post --account 21 --asset PTS --amount 5 --reason x --operator t \
    --db "$CHAIN" --json
check_match "$n: its code in --json" '^\{"error":\{"code":762,"name":"LEAL_E_PG_STATEMENT",' "$OUT"
cq "DROP TRIGGER no_lines ON line; CREATE UNIQUE INDEX one_store_name ON store(name)"
run_capture "$LEAL" store add --program 1 --code other --name "$(cq "SELECT name FROM store \
ORDER BY id LIMIT 1")" --tz Europe/Madrid --db "$CHAIN"
check_eq "$n: a unique violation: exit 2, the index named, not the row's values" \
    "2|leal: store add: adding to store: PostgreSQL 23505: duplicate key value violates unique constraint \"one_store_name\": this id or code is already in use; choose another" \
    "$RC|$ERR"
# A refused row of the entry's one statement names its own table, as each
# table's own insert did.
cq "DROP INDEX one_store_name; CREATE UNIQUE INDEX one_reason ON entry(reason) WHERE reason = \
'once'; CREATE UNIQUE INDEX one_amount ON line(amount) WHERE amount = 777"
for k in 1 2; do
    run_capture "$LEAL" ledger post --account 21 --asset PTS --amount 5 --reason once --operator t \
        --db "$CHAIN"
done
check_eq "$n: a unique violation of an entry: exit 2, its table and index, nothing written" \
    "2|leal: ledger post: adding to entry: PostgreSQL 23505: duplicate key value violates unique constraint \"one_reason\": this id or code is already in use; choose another|1" \
    "$RC|$ERR|$(cq "SELECT count(*) FROM entry WHERE reason = 'once'")"
for k in 1 2; do
    run_capture "$LEAL" ledger post --account 21 --asset PTS --amount 777 --reason x --operator t \
        --db "$CHAIN"
done
check_eq "$n: a unique violation of a line: exit 2, its table and index, nothing written" \
    "2|leal: ledger post: adding to line: PostgreSQL 23505: duplicate key value violates unique constraint \"one_amount\": this id or code is already in use; choose another|1" \
    "$RC|$ERR|$(cq "SELECT count(*) FROM line WHERE amount = 777")"
cq "DROP INDEX one_reason; DROP INDEX one_amount"
cq "DROP TABLE bono_holding"
run_capture "$LEAL" ledger verify --db "$CHAIN"
check_eq "$n: a dropped table: exit 1, the table named" \
    "1|leal: ledger verify: reading bono_holding: PostgreSQL 42P01: relation \"bono_holding\" does not exist: the PostgreSQL server refused the statement; its SQLSTATE and reason say why" \
    "$RC|$ERR"

# account show lists an account's balances in the order of their names'
# bytes on both backends, whatever the database's collation: a database
# collated for Spanish (ICU: '_' before '-' before digits) lists them as the
# SQLite file does.
asset_order() { # LABEL DB
    local db=$2 acct a
    run_capture "$LEAL" ledger init --db "$db"
    run_capture "$LEAL" program create --code cafe --name Café --kind single --db "$db"
    run_capture "$LEAL" account add --program 1 --json --db "$db"
    acct=$(printf '%s' "$OUT" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    for a in STAMP:_a STAMP:-a STAMP:1 EUR; do
        run_capture "$LEAL" ledger post --account "$acct" --asset "$a" --amount 1 --reason t \
            --operator ana --request-id "o-$a" --db "$db"
    done
    run_capture "$LEAL" account show "$acct" --json --db "$db"
    check_eq "$1: account show --json: balances in their names' byte order" \
        "0|EUR STAMP:-a STAMP:1 STAMP:_a" \
        "$RC|$(printf '%s' "$OUT" | $PY -c 'import json,sys; print(" ".join(json.load(sys.stdin)["balances"]))')"
    run_capture "$LEAL" account show "$acct" --db "$db"
    check_eq "$1: account show: the same order" "EUR STAMP:-a STAMP:1 STAMP:_a" \
        "$(printf '%s\n' "$OUT" | sed -n '/^balances/,/^cards/p' | awk 'NF == 2 {print $1}' | paste -sd ' ')"
    # ledger verify, given two balances changed behind its back, names the
    # first in the same order: the same difference on both backends.
    local sql="UPDATE balance SET amount = 7 WHERE account_id = $acct AND asset IN ('STAMP:_a', 'STAMP:-a')"
    case $db in
    postgresql:*) "$PSQL" "$db" -qAtX -c "$sql" >/dev/null ;;
    *) sqlite3 "$db" "$sql" ;;
    esac
    run_capture "$LEAL" ledger verify --db "$db"
    check_eq "$1: ledger verify names the first broken balance in the same order" \
        "2|leal: ledger verify: STAMP:-a: account $acct balance is 7 but its lines sum to 1: ledger check failed: balances or entries disagree" \
        "$RC|$ERR"
}
asset_order sqlite "$T/order.db"
ES=$(backend_pg_db order_es "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'es' LOCALE 'C' \
ENCODING 'UTF8'")
check_eq "$n: the Spanish-collated database orders those names otherwise" \
    "STAMP:_a STAMP:-a STAMP:1" \
    "$("$PSQL" "$ES" -qAtX -c "SELECT string_agg(x, ' ' ORDER BY x) FROM (VALUES ('STAMP:1'), \
('STAMP:-a'), ('STAMP:_a')) v(x)")"
asset_order pg-es "$ES"

# leal ledger import: batches of 4; line 7 takes account 11 from 2.00 (5.00 + 1.00 - 4.00 left by
# lines 5 and 6) to -1.00: its batch is rolled back whole, the first one stays; the file corrected
# imports the rest, the first 4 lines replayed by their request ids.
import_case() { # LABEL DB
    local db=$2
    iq() { case $db in postgresql://*) "$PSQL" "$db" -qAtX -c "$1" ;; *) sqlite3 "$db" "$1" ;; esac }
    run_capture "$LEAL" ledger init --db "$db"
    run_capture "$LEAL" program create --code imp --name Import --db "$db"
    run_capture "$LEAL" account add --program 1 --db "$db"
    run_capture "$LEAL" account add --program 1 --db "$db"
    printf 'i%s,EUR,%s,t,robot\n' 1,11,2 200 2,12,2 50 3,11,2 300 4,12,2 50 5,11,2 100 6,11,2 -400 \
        7,11,2 -300 8,12,2 100 >"$T/in.csv"
    run_capture "$LEAL" ledger import "$T/in.csv" --batch 4 --db "$db"
    check_eq "$1: ledger import: a negative balance in the middle of a batch is refused" \
        "2|committed 4|leal: $T/in.csv line 7: account 11 would hold -100 EUR: balance too low for this movement
leal: $T/in.csv: 1 line(s) refused; 4 entries committed before line 7, nothing from it on: fix the lines named and import again (committed lines are recognised by their request ids)" \
        "$RC|$OUT|$ERR"
    check_eq "$1: ledger import: the first batch kept, its balances" "i1 i2 i3 i4|2:-600 11:500 12:100" \
        "$(iq "SELECT request_id FROM entry ORDER BY id" | paste -sd ' ')|$(iq "SELECT account_id \
|| ':' || amount FROM balance ORDER BY account_id" | paste -sd ' ')"
    sed -i 's/^i7,11,2,EUR,-300/i7,11,2,EUR,-200/' "$T/in.csv"
    run_capture "$LEAL" ledger import "$T/in.csv" --batch 4 --db "$db"
    check_eq "$1: ledger import: the corrected file imports the rest" \
        "0|committed 4
committed 8
imported 8 entries (4 already there)|0" \
        "$RC|$OUT|$(iq "SELECT amount FROM balance WHERE account_id = 11 AND asset = 'EUR'")"
    run_capture "$LEAL" ledger verify --db "$db"
    check_eq "$1: ledger import: verify" "0|ledger ok: 8 entries, 16 lines, 12 accounts" "$RC|$OUT"
}
import_case sqlite "$T/import.db"
import_case pg "$(backend_pg_db import)"

# leal program set and leal terminal new-epoch: a program's caps and limits set in one
# transaction, a lower Classic cap refused while a Classic card holds more (and the limits given
# with it not set either), a terminal's epoch moved on twice; on PostgreSQL a setting moves
# ledger_version (the dashboard's cache) and a refused one does not.
program_case() { # LABEL DB
    local db=$2 row ver=
    pq() { case $db in postgresql://*) "$PSQL" "$db" -qAtX -c "$1" ;; *) sqlite3 "$db" "$1" ;; esac }
    pl() { run_capture "$LEAL" "$@" --db "$db"; }
    pl ledger init
    pl program create --code cafe --name Cafe --kind collective --points-per-euro 1
    pl store add --program 1 --code c --name C --tz Europe/Madrid
    pl terminal add --store 1 --name caja
    pl terminal new-epoch 1 --json
    check_eq "$1: terminal new-epoch --json" '0|{"epoch":2}' "$RC|$OUT"
    pl terminal new-epoch 1
    check_eq "$1: terminal new-epoch again" "0|terminal 1 is now at epoch 3|3" \
        "$RC|$OUT|$(pq "SELECT epoch FROM terminal WHERE id = 1")"
    pl terminal new-epoch 9
    check_eq "$1: terminal new-epoch of no terminal" \
        "2|leal: terminal new-epoch: terminal 9: no such id|3" \
        "$RC|$ERR|$(pq "SELECT max(epoch) FROM terminal")"
    case $db in postgresql://*) ver=$(pq "SELECT n FROM ledger_version") ;; esac
    pl program set 1 --purse-cap 100 --classic-stored-value-cap 60 --max-euros-per-operation 50 \
        --max-points-per-operation 1000 --json
    check_eq "$1: program set: caps and limits at once" \
        '0|{"id":1,"code":"cafe","name":"Cafe","kind":"collective","points_per_euro_milli":1000,"points_expiry_days":0,"purse_cap_cents":10000,"classic_stored_value_cap_cents":6000,"max_cents_per_operation":5000,"max_units_per_operation":1000,"locale":"en"}' \
        "$RC|$OUT"
    case $db in
    postgresql://*)
        check_eq "$1: program set moves ledger_version" "$((ver + 1))" "$(pq "SELECT n FROM ledger_version")"
        ;;
    esac
    pl account add --program 1
    pl account add-card 11 --card-id 5 --uid 04A1B2C3 --tech classic-1k
    pl ledger post --account 11 --asset EUR --amount 50 --reason t --operator a --request-id e1
    row="SELECT purse_cap_cents || '|' || classic_stored_value_cap_cents || '|' || \
max_cents_per_operation || '|' || max_units_per_operation FROM program WHERE id = 1"
    check_eq "$1: program set: the row" "10000|6000|5000|1000" "$(pq "$row")"
    case $db in postgresql://*) ver=$(pq "SELECT n FROM ledger_version") ;; esac
    pl program set 1 --classic-stored-value-cap 20 --max-points-per-operation 7
    check_eq "$1: program set: a Classic cap below what a card holds refused, nothing set" \
        "2||leal: program set: 1 account(s) with a Classic card of program 1 hold more than 2000 cents: cards of this program may hold more than that cap; lower it once their money is spent|10000|6000|5000|1000" \
        "$RC|$OUT|$ERR|$(pq "$row")"
    case $db in
    postgresql://*)
        check_eq "$1: a refused program set leaves ledger_version" "$ver" "$(pq "SELECT n FROM ledger_version")"
        ;;
    esac
    pl program set 1 --classic-stored-value-cap 50 --max-points-per-operation 7
    check_eq "$1: program set: the cap at what the card holds" "0|10000|5000|5000|7" \
        "$RC|$(pq "$row")"
    pl program set 1 --purse-cap 50
    check_eq "$1: program set: the purse cap down to the Classic cap" "0|5000|5000|5000|7" "$RC|$(pq "$row")"
    pl program set 2 --purse-cap 10
    check_eq "$1: program set of no program" "2|leal: program: program 2: no such id" "$RC|$ERR"
    pl ledger verify
    check_eq "$1: program set: verify" 0 "$RC"
}
program_case sqlite "$T/program.db"
program_case pg "$(backend_pg_db program)"

# leal settle and leal report settlement (settle.sh's collective): three shops, November's sales
# and a refund at 0.02 EUR a point; the preview and the report, the month closed, the report of
# a settled month, and the settled period closed to any change (a trigger on both).
settle_case() { # LABEL DB
    local db=$2
    sq() { case $db in postgresql://*) "$PSQL" "$db" -qAtX -c "$1" 2>&1 ;; *) sqlite3 "$db" "$1" 2>&1 ;; esac }
    sl() { run_capture env USER=tester "$LEAL" "$@" --db "$db"; }
    sl ledger init
    sl program create --code mercado --name Mercado --kind collective --points-per-euro 1
    for c in pan fru pes; do sl store add --program 1 --code $c --name "$c" --tz Europe/Madrid; done
    sl customer add --program 1 --name Ana
    sl sale --account 11 --amount 30 --store 1 --at 2026-11-05T10:00:00Z
    sl sale --account 11 --amount 12,50 --store 2 --at 2026-11-06T10:00:00Z
    sl sale refund --sale 1 --amount 10 --at 2026-11-07T10:00:00Z
    sl settle --period 2026-11 --preview
    check_eq "$1: settle without a point value: refused" \
        "2|leal: settling 2026-11: the program has no point value for settlement; set it first ('leal settle value --program ID --point-value EUR'); nothing was settled" \
        "$RC|$ERR"
    sl settle value --point-value 0,02
    check_eq "$1: settle value" "0|program 1 settles points at 0.02 EUR a point from now on" "$RC|$OUT"
    local want
    want="0|$(printf '%s\r\n' month,row,store,points_collected,points_paid_out,purse_loaded,purse_spent,balance \
        2026-11,shop,pan,20,0,0.00,0.00,-0.40 2026-11,shop,fru,12,0,0.00,0.00,-0.24 \
        2026-11,shop,pes,0,0,0.00,0.00,0.00 2026-11,no-shop,,0,0,0.00,0.00,0.00 \
        2026-11,pool,,-32,0,0.00,0.00,0.64)"
    sl report settlement --program 1 --from 2026-11-01 --to 2026-11-30 --csv
    check_eq "$1: report settlement: November's preview" "$want" "$RC|$OUT"
    sl settle --period 2026-11 --json
    check_match "$1: November settled" '^0\|\{"program":1,"period":"2026-11","closed":true,"closed_now":true,"point_value_cents":2,"upto_entry":3,' "$RC|$OUT"
    sl report settlement --program 1 --from 2026-11-01 --to 2026-11-30 --csv
    check_eq "$1: report settlement: November as settled" "$want" "$RC|$OUT"
    check_match "$1: a settled period is closed to changes" "a settled period is closed" \
        "$(sq "UPDATE settlement SET upto_entry = 0")"
    check_eq "$1: the settlement as recorded" "2026-11|3|2|tester" \
        "$(sq "SELECT period || '|' || upto_entry || '|' || point_value_cents || '|' || operator FROM settlement")"
    sl ledger verify
    check_eq "$1: settle: verify" 0 "$RC"
}
settle_case sqlite "$T/settle.db"
settle_case pg "$(backend_pg_db settle)"
SC=$(backend_pg_db settle_copy)
run_capture "$LEAL" ledger copy --from "sqlite:$T/settle.db" --to "$SC"
SETTLED="SELECT v.program_id || '|' || v.point_value_cents || '|' || v.at || '|' || v.operator \
|| '|' || s.period || '|' || s.end_at || '|' || s.upto_entry || '|' || s.point_value_cents || '|' \
|| s.at || '|' || s.operator FROM settle_value v JOIN settlement s ON s.program_id = v.program_id"
check_eq "$n: a settled ledger copied there: its point value and settled month, row for row" \
    "0|$(sqlite3 "$T/settle.db" "$SETTLED")" "$RC|$("$PSQL" "$SC" -qAtX -c "$SETTLED")"

# A spend takes its lots nearest expiry first, lots without expiry last
# (oldest first); on PostgreSQL in one statement (ledger_post.c
# lots_debit_pg, each lot_use row written by it: a trigger records the
# statement): the same lots taken, the same lot_use rows. Lots holding less
# than the balance refuse the spend with nothing written.
lots_case() { # LABEL DB
    local db=$2
    sq() { case $db in postgresql://*) "$PSQL" "$db" -qAtX -c "$1" 2>&1 ;; *) sqlite3 "$db" "$1" 2>&1 ;; esac }
    sl() { run_capture "$LEAL" "$@" --db "$db"; }
    lp() { sl ledger post --account 11 --asset PTS --reason test --operator ana --amount "$@"; }
    sl ledger init
    sl program create --code bar --name Bar --kind single
    sl account add --program 1
    check_eq "$1: lots: an account of a program without expiry" "0|account 11 added" "$RC|$OUT"
    [ "$1" != pg ] || sq "CREATE TABLE use_by(what TEXT); CREATE FUNCTION use_by() RETURNS trigger LANGUAGE plpgsql AS \$f\$ BEGIN INSERT INTO use_by VALUES (split_part(current_query(), ' ', 1)); RETURN NULL; END \$f\$; CREATE TRIGGER use_by AFTER INSERT ON lot_use FOR EACH ROW EXECUTE FUNCTION use_by()" >/dev/null
    lp 10 --request-id o-1
    lp 10 --request-id o-2 --expires 2031-01-01
    lp 10 --request-id o-3 --expires 2030-01-01
    lp 5 --request-id o-4
    lp -25 --request-id o-5
    check_eq "$1: lots: 25 points from the lot of 2030, then 2031's, then the oldest undated" \
        "0|10:5 10:0 10:0 5:5|10:10 10:10 10:5" \
        "$RC|$(sq "SELECT original || ':' || remaining FROM lot ORDER BY id" | paste -sd ' ')|$(sq "SELECT o.original || ':' || u.amount FROM lot_use u JOIN lot o ON o.id = u.lot_id ORDER BY o.expires_at IS NULL, o.expires_at, o.id" | paste -sd ' ')"
    [ "$1" != pg ] || check_eq "$1: lots: each lot_use row written by the spend's one statement" \
        "WITH WITH WITH" "$(sq "SELECT what FROM use_by" | paste -sd ' ')"
    sq "UPDATE lot SET remaining = 0 WHERE original = 5" >/dev/null
    before=$(sq "SELECT (SELECT count(*) FROM entry) || ':' || (SELECT count(*) FROM lot_use) || ':' || (SELECT sum(remaining) FROM lot) || ':' || (SELECT amount FROM balance WHERE account_id = 11)")
    lp -8 --request-id o-6
    check_eq "$1: lots: lots holding less than the balance: refused, nothing written" \
        "2|leal: ledger post: account 11: lots hold less than the balance: ledger check failed: balances or entries disagree|5:3:5:10" \
        "$RC|$ERR|$before"
    check_eq "$1: lots: nothing written" "$before" "$(sq "SELECT (SELECT count(*) FROM entry) || ':' || (SELECT count(*) FROM lot_use) || ':' || (SELECT sum(remaining) FROM lot) || ':' || (SELECT amount FROM balance WHERE account_id = 11)")"
}
lots_case sqlite "$T/lots.db"
lots_case pg "$(backend_pg_db lots)"

q "UPDATE schema_version SET version = version + 1" >/dev/null
l ledger verify
check_eq "$n: a newer schema refused: exit" 2 "$RC"
check_match "$n: a newer schema refused: why" "schema version" "$ERR"
finish
