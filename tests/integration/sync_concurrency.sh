#!/bin/bash
# sync_concurrency.sh - four `leal sync import` processes (one terminal each,
# the same cards and accounts) and the desk posting at the same time (manual
# posts and online sales on those accounts): every balance ends exactly as
# when the same work runs one after the other (a reference ledger), every
# process succeeds (no "database is locked"), and `leal ledger verify` holds
# (issue 14: balances move as deltas inside one write transaction).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-sync-conc-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="sync concurrency passphrase"
DB=$XDG_DATA_HOME/leal/ledger.db
REF=$T/ref.db
GEN=$LEAL_BUILD/tests/tools/journal_gen

"$LEAL" keys init --issuer Conc --program 7 >/dev/null
"$LEAL" program create --code c --name Conc --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code c --name C --tz Europe/Madrid >/dev/null
for t in 1 2 3 4; do "$LEAL" terminal add --store 1 --name "t$t" >/dev/null; done
for c in 1 2 3 4; do
    "$LEAL" customer add --program 7 --name "c$c" >/dev/null
    "$LEAL" account add-card $((10 + c)) --card-id $((1000 + c)) --uid "0411223344556$c" \
        --tech desfire-ev2 --status active >/dev/null
    "$LEAL" ledger post --account $((10 + c)) --asset EUR --amount 1000 --counter cash \
        --reason start --operator t --over-limit >/dev/null
    "$LEAL" ledger post --account $((10 + c)) --asset PTS --amount 50000 --reason start \
        --operator t >/dev/null
done
sqlite3 "$DB" ".backup $REF"

# Four terminals, 500 operations each on the same four cards.
for t in 1 2 3 4; do
    awk -v t=$t 'BEGIN {
        for (c = 1; c <= 4; c++) printf "card %d desfire 50000 100000\n", 1000 + c
        for (i = 1; i <= 500; i++) {
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

# desk DB: manual posts and online sales on the same accounts.
desk() {
    for i in $(seq 1 12); do
        "$LEAL" ledger post --db "$1" --account $((11 + i % 4)) --asset PTS --amount $((i * 3)) \
            --reason "desk $i" --operator desk --request-id "desk-$i" >/dev/null || echo "post $i failed"
        if [ $((i % 3)) = 0 ]; then
            "$LEAL" sale --db "$1" --account $((11 + i % 4)) --amount "1$i,50" --store 1 \
                --request-id "sale-$i" >/dev/null || echo "sale $i failed"
        fi
    done
}

# The reference: one after the other.
for t in 1 2 3 4; do "$LEAL" sync import "$T/t$t" --db "$REF" >/dev/null; done
check_eq "the desk alone: every post and sale" "" "$(desk "$REF")"

for t in 1 2 3 4; do
    "$LEAL" sync import "$T/t$t" >"$T/out.$t" 2>&1 &
    PIDS+=($!)
done
desk "$DB" >"$T/desk.out" 2>&1 &
PIDS+=($!)
fails=0
for p in "${PIDS[@]}"; do wait "$p" || fails=$((fails + 1)); done
PIDS=()
check_eq "four importers and the desk at once: all succeed" "0|" "$fails|$(cat "$T/desk.out")"
check_eq "each importer took its 501 entries" "501 501 501 501" \
    "$(for t in 1 2 3 4; do sed -n 's/.*: \([0-9]*\) taken.*/\1/p' "$T/out.$t"; done | tr '\n' ' ' | sed 's/ $//')"

state() {
    sqlite3 "$1" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from (select * from balance order by account_id, asset);
        select count(*) from entry; select count(*) from line;
        select group_concat(terminal_id || '/' || seq || '/' || outcome || '/' || hex(mac), ' ') from (select * from terminal_entry order by terminal_id, seq);
        select sum(remaining) from lot"
}
check_eq "every balance (and entry count, taken entries, lots) as one after the other" \
    "$(state "$REF")" "$(state "$DB")"
check_eq "points and euros moved (not a vacuous comparison)" "yes" \
    "$([ "$(sqlite3 "$DB" "select count(*) from line where asset in ('PTS','EUR')")" -gt 1500 ] && echo yes)"
run_capture "$LEAL" ledger verify
check_match "ledger verify" "^ledger ok" "$OUT"
finish
