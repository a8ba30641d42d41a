#!/bin/bash
# sync_pg_concurrency.sh - on PostgreSQL, four `leal sync import` processes
# (one terminal each, the same cards and accounts) and the desk posting on
# those accounts at the same time: every process succeeds, and every
# balance, the entries and lines, each terminal's taken entries (sequence,
# outcome, MAC) and the open points lots end exactly as when the same work
# runs one after the other on an SQLite file (the reference); `leal ledger
# verify` holds. The concurrency rules of store_pg.h under load: one
# advisory lock per write transaction, balances moved as deltas.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/pg.sh

T=$(mktemp -d /tmp/leal-sync-pg-conc-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pg_stop; rm -rf "$T"; }
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="sync pg concurrency passphrase"
REF=$T/ref.db
GEN=$LEAL_BUILD/tests/tools/journal_gen
OPS=300

# setup DB: the program, its store, four terminals, four cards on accounts 11..14.
setup() {
    "$LEAL" ledger init --db "$1" >/dev/null
    "$LEAL" program create --code c --name Conc --id 7 --points-per-euro 1 --db "$1" >/dev/null
    "$LEAL" store add --program 7 --code c --name C --tz Europe/Madrid --db "$1" >/dev/null
    for t in 1 2 3 4; do "$LEAL" terminal add --store 1 --name "t$t" --db "$1" >/dev/null; done
    for c in 1 2 3 4; do
        "$LEAL" account add --program 7 --db "$1" >/dev/null
        "$LEAL" account add-card $((10 + c)) --card-id $((1000 + c)) --uid "0411223344556$c" \
            --tech desfire-ev2 --status active --db "$1" >/dev/null
        "$LEAL" ledger post --account $((10 + c)) --asset EUR --amount 1000 --counter cash \
            --reason start --operator t --over-limit --db "$1" >/dev/null
        "$LEAL" ledger post --account $((10 + c)) --asset PTS --amount 50000 --reason start \
            --operator t --db "$1" >/dev/null
    done
}
# desk DB: manual posts, earns and spends, on the same accounts.
desk() {
    for i in $(seq 1 16); do
        a=$(((i % 2) * 2 - 1))
        "$LEAL" ledger post --db "$1" --account $((11 + i % 4)) --asset PTS --amount $((a * i * 3)) \
            --reason "desk $i" --operator desk --request-id "desk-$i" >/dev/null ||
            echo "post $i failed"
    done
}
# state DB KIND: what must end the same.
state() {
    local mac="lower(hex(mac))" run=(sqlite3 "$1")
    if [ "$2" = pg ]; then mac="encode(mac, 'hex')" run=("$PG_BIN/psql" "$1" -qAtX -c); fi
    "${run[@]}" "select account_id || ':' || asset || ':' || amount from balance order by \
account_id, asset" | tr '\n' ' '
    echo
    "${run[@]}" "select (select count(*) from entry) || ' ' || (select count(*) from line) || ' ' || \
(select sum(remaining) from lot)"
    "${run[@]}" "select terminal_id || '/' || seq || '/' || outcome || '/' || $mac from \
terminal_entry order by terminal_id, seq" | tr '\n' ' '
}

if ! pg_available; then
    fail "PostgreSQL 15 is not installed (make deps installs postgresql-15)"
    finish; exit $?
fi
"$LEAL" keys init --issuer Conc --program 7 >/dev/null
pg_start || { fail "pg: the test cluster did not start"; finish; exit $?; }
trap cleanup EXIT # pg_start set its own
DB=$LEAL_TEST_PG
setup "$REF" &
PIDS+=($!)
setup "$DB"
wait "${PIDS[@]}"
PIDS=()

# Four terminals, OPS operations each on the same four cards.
for t in 1 2 3 4; do
    awk -v t=$t -v n=$OPS 'BEGIN {
        for (c = 1; c <= 4; c++) printf "card %d desfire 50000 100000\n", 1000 + c
        for (i = 1; i <= n; i++) {
            c = 1000 + (i + t) % 4 + 1; k = i % 8
            if (k < 3) printf "earn %d %d %d\n", c, 100 + i, 1 + i % 9
            else if (k < 5) printf "pay %d %d\n", c, 1 + (i * 13) % 90
            else if (k == 5) printf "stamp %d %d 1\n", c, i % 4
            else if (k == 6) printf "redeem %d 1 %d\n", c, 1 + i % 5
            else printf "void %d\n", c
        }
        printf "export '"$T"'/t%d\n", t }' >"$T/s$t"
    "$GEN" --keystore "$XDG_DATA_HOME/leal/keystore" --program 7 --terminal $t --units 100 \
        --time $((1796290000 + t)) <"$T/s$t" || echo "journal_gen failed for terminal $t"
done

# The reference, one after the other, on SQLite.
for t in 1 2 3 4; do "$LEAL" sync import "$T/t$t" --db "$REF" >/dev/null; done
check_eq "the desk alone on SQLite: every post" "" "$(desk "$REF")"

for t in 1 2 3 4; do
    "$LEAL" sync import "$T/t$t" --db "$DB" >"$T/out.$t" 2>&1 &
    PIDS+=($!)
done
desk "$DB" >"$T/desk.out" 2>&1 &
PIDS+=($!)
fails=0
for p in "${PIDS[@]}"; do wait "$p" || fails=$((fails + 1)); done
PIDS=()
check_eq "four importers and the desk at once on PostgreSQL: all succeed" "0|" \
    "$fails|$(cat "$T/desk.out")"
check_eq "each importer took its $((OPS + 1)) entries" \
    "$((OPS + 1)) $((OPS + 1)) $((OPS + 1)) $((OPS + 1))" \
    "$(for t in 1 2 3 4; do sed -n 's/.*: \([0-9]*\) taken.*/\1/p' "$T/out.$t"; done | tr '\n' ' ' | sed 's/ $//')"
state "$DB" pg >"$T/pg.state"
check_eq "every balance, the entries and lines, the taken entries and lots as one after the other" \
    "$(state "$REF" sqlite)" "$(cat "$T/pg.state")"
check_eq "the comparison holds every taken entry and 8 balances" "$((4 * (OPS + 1)))|yes" \
    "$(sed -n 3p "$T/pg.state" | wc -w)|$([ "$(sed -n 1p "$T/pg.state" | wc -w)" -ge 8 ] && echo yes)"
check_eq "points and euros moved (not a vacuous comparison)" "yes" \
    "$([ "$("$PG_BIN/psql" "$DB" -qAtX -c "select count(*) from line where asset in ('PTS','EUR')")" \
        -gt $((OPS * 3)) ] && echo yes)"
run_capture "$LEAL" ledger verify --db "$DB"
check_match "ledger verify on PostgreSQL" "^ledger ok" "$OUT"
finish
