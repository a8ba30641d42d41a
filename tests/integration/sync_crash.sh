#!/bin/bash
# sync_crash.sh - `leal sync import` killed with SIGKILL at random moments,
# again and again, then run to the end: every balance, every entry and every
# taken journal entry is exactly what one uninterrupted import gives (a
# reference ledger), nothing lost, nothing twice, and `leal ledger verify`
# holds after every kill (issue 14: transactions of whole entries).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-sync-crash-XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="sync crash passphrase"
DB=$XDG_DATA_HOME/leal/ledger.db
REF=$T/ref.db
GEN=$LEAL_BUILD/tests/tools/journal_gen
KILLS=${SYNC_CRASH_KILLS:-10}
# The kill moments are random: the seed is printed (SYNC_CRASH_SEED=N replays
# the same moments, as far as the machine's speed allows).
SEED=${SYNC_CRASH_SEED:-$$}
RANDOM=$SEED
echo "# seed $SEED"

"$LEAL" keys init --issuer Crash --program 7 >/dev/null
"$LEAL" program create --code c --name Crash --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code c --name C --tz Europe/Madrid >/dev/null
for t in 1 2 3; do "$LEAL" terminal add --store 1 --name "t$t" >/dev/null; done
for c in 1 2 3 4 5 6; do
    "$LEAL" customer add --program 7 --name "c$c" >/dev/null
    "$LEAL" account add-card $((10 + c)) --card-id $((1000 + c)) --uid "0411223344556$c" \
        --tech desfire-ev2 --status active >/dev/null
    "$LEAL" ledger post --account $((10 + c)) --asset EUR --amount 50 --counter cash \
        --reason start --operator t >/dev/null
done
START=$T/start.db
sqlite3 "$DB" ".backup $START"
sqlite3 "$DB" ".backup $REF"

# Three terminals, 900 operations each over the six cards: earns, purse
# payments, stamps, redeems of what the same terminal gave, voids.
for t in 1 2 3; do
    awk -v t=$t 'BEGIN {
        for (c = 1; c <= 6; c++) printf "card %d desfire 0 5000\n", 1000 + c
        for (i = 1; i <= 900; i++) {
            c = 1000 + (i * 7 + t) % 6 + 1; k = i % 10
            if (k < 5) printf "earn %d %d %d\n", c, 100 + i, 1 + i % 9
            else if (k < 7) printf "pay %d %d\n", c, 1 + (i * 13) % 40
            else if (k == 7) printf "stamp %d %d 1\n", c, i % 4
            else if (k == 8) printf "redeem %d 1 1\n", c
            else printf "void %d\n", c
        }
        printf "export '"$T"'/t%d\n", t }' >"$T/s$t"
    "$GEN" --keystore "$XDG_DATA_HOME/leal/keystore" --program 7 --terminal $t --units 160 \
        --time $((1796290000 + t)) <"$T/s$t" || echo "journal_gen failed for terminal $t"
done

t0=$(date +%s%N)
"$LEAL" sync import "$T/t1" "$T/t2" "$T/t3" --db "$REF" >/dev/null
DUR_MS=$((($(date +%s%N) - t0) / 1000000 + 1))
check_eq "the reference takes every entry once" "2703" "$(sqlite3 "$REF" 'select count(*) from terminal_entry')"

# Kill the importer at a random moment of an import's time (the keystore's
# unlock included); each time the ledger must verify. Once everything is in,
# the ledger goes back to its start so that the next kills land in imports.
verified=0 restarts=0
for k in $(seq 1 "$KILLS"); do
    if [ "$(sqlite3 "$DB" 'select count(*) from terminal_entry')" = 2703 ]; then
        sqlite3 "$DB" ".restore $START"
        restarts=$((restarts + 1))
    fi
    "$LEAL" sync import "$T/t1" "$T/t2" "$T/t3" >/dev/null 2>&1 &
    PID=$!
    sleep "$(awk -v ms=$((RANDOM % DUR_MS)) 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -9 "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=
    "$LEAL" ledger verify >/dev/null 2>&1 && verified=$((verified + 1))
    echo "# kill $k: $(sqlite3 "$DB" 'select count(*) from terminal_entry') entries taken"
done
echo "# $restarts restarts from the start ledger; an import takes ${DUR_MS} ms"
check_eq "ledger verify after each of the $KILLS kills" "$KILLS" "$verified"
run_capture "$LEAL" sync import "$T/t1" "$T/t2" "$T/t3"
check_eq "the import after the kills finishes" 0 "$RC"

state() {
    sqlite3 "$1" "select group_concat(account_id || ':' || asset || ':' || amount, ' ') from (select * from balance order by account_id, asset);
        select count(*), sum(length(content_hash)) from entry;
        select count(*) from line;
        select group_concat(terminal_id || '/' || seq || '/' || outcome || '/' || hex(mac), ' ') from (select * from terminal_entry order by terminal_id, seq);
        select count(*) from lot; select sum(remaining) from lot"
}
check_eq "every balance, entry, line, lot and taken entry as the uninterrupted import" \
    "$(state "$REF")" "$(state "$DB")"
check_eq "no entry key twice, none missing" "2703|2703" \
    "$(sqlite3 "$DB" 'select count(*) from terminal_entry')|$(sqlite3 "$DB" 'select count(distinct terminal_id || "/" || seq) from terminal_entry')"
run_capture "$LEAL" ledger verify
check_match "ledger verify at the end" "^ledger ok" "$OUT"
run_capture "$LEAL" sync import "$T/t1" "$T/t2" "$T/t3" --json
check_eq "once more: nothing new" "0|0 0 0" \
    "$RC|$(echo "$OUT" | sed -n 's/.*"taken":\([0-9]*\).*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
finish
