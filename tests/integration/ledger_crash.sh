#!/bin/bash
# ledger_crash.sh - SIGKILL at random moments while `leal ledger import`
# posts thousands of entries in batches; after each kill `leal ledger
# verify` passes and every acknowledged entry ("committed N" was printed
# only after its batch's COMMIT returned) is there exactly once; retrying
# the same file finishes the job with exact balances and no duplicate.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-crash-XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
DB=$T/ledger.db
N=3000
SEED=${LEAL_CRASH_SEED:-$$}
RANDOM=$SEED
echo "# seed $SEED"

"$LEAL" program create --db "$DB" --code crash --name Crash >/dev/null
"$LEAL" customer add --db "$DB" --program 1 --name A >/dev/null
"$LEAL" customer add --db "$DB" --program 1 --name B >/dev/null
# request_id,account,counter_account,asset,amount,reason,operator (2 = topups)
awk -v n=$N 'BEGIN { for (i = 1; i <= n; i++)
    printf "crash-%d,%d,2,EUR,%d,crash test,robot\n", i, 11 + i % 2, (i * 37) % 1000 + 1 }' \
    >"$T/in.csv"
EXP11=$(awk -F, '$2 == 11 { s += $5 } END { print s }' "$T/in.csv")
EXP12=$(awk -F, '$2 == 12 { s += $5 } END { print s }' "$T/in.csv")

acked=0
kills=0
for round in 1 2 3 4 5 6; do
    # Killed at a random point of its progress, not of the clock: a fast
    # machine finished the whole file before a timed kill and proved nothing.
    # The target is past what earlier rounds committed and at most halfway
    # through what is left, then 0 to 30 ms later: inside a batch or a commit.
    target=$((acked + 1 + RANDOM % ((N - acked) / 2 + 1)))
    "$LEAL" ledger import "$T/in.csv" --batch 40 --db "$DB" >"$T/out.$round" 2>"$T/err.$round" &
    PID=$!
    for _ in $(seq 1 3000); do
        c=$(sed -n 's/^committed \([0-9]*\)$/\1/p' "$T/out.$round" | tail -1)
        [ -n "$c" ] && [ "$c" -ge "$target" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.005
    done
    sleep "$(awk -v r=$((RANDOM % 31)) 'BEGIN { printf "%.3f", r / 1000 }')"
    if kill -9 "$PID" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$PID" 2>/dev/null
    PID=
    a=$(sed -n 's/^committed \([0-9]*\)$/\1/p' "$T/out.$round" | tail -1)
    [ -n "$a" ] && [ "$a" -gt "$acked" ] && acked=$a
    run_capture "$LEAL" ledger verify --db "$DB"
    check_match "round $round: verify after SIGKILL" "^ledger ok: " "$OUT"
    present=$(sqlite3 "$DB" "select count(*) from entry where cast(substr(request_id, 7) as integer) <= $acked")
    check_eq "round $round: all $acked acknowledged entries there once" "$acked" "$present"
    check_eq "round $round: no key twice" "0" \
        "$(sqlite3 "$DB" 'select count(*) from (select request_id from entry group by request_id having count(*) > 1)')"
done
echo "# $kills kills, $acked entries acknowledged before the last kill"
check_match "at least one run was killed mid-way" "^[1-9]" "$kills"

# The retry completes the file exactly once.
run_capture "$LEAL" ledger import "$T/in.csv" --batch 40 --db "$DB"
check_eq "final import" 0 "$RC"
check_match "final import replays what was there" "^imported $N entries \([0-9]+ already there\)$" "$OUT"
run_capture "$LEAL" ledger verify --db "$DB"
check_eq "final verify" "0|ledger ok: $N entries, $((2 * N)) lines, 12 accounts" "$RC|$OUT"
check_eq "balance A exact" "$EXP11" "$(sqlite3 "$DB" "select amount from balance where account_id = 11 and asset = 'EUR'")"
check_eq "balance B exact" "$EXP12" "$(sqlite3 "$DB" "select amount from balance where account_id = 12 and asset = 'EUR'")"
check_eq "topups exact" "-$((EXP11 + EXP12))" "$(sqlite3 "$DB" "select amount from balance where account_id = 2 and asset = 'EUR'")"
finish
