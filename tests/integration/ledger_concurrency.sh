#!/bin/bash
# ledger_concurrency.sh - several processes post to the same accounts at
# once (each entry its own BEGIN IMMEDIATE transaction); afterwards every
# balance is exactly the sum of what was posted: no lost update (ARCHITECTURE.md,
# the TiBillet post-mortem), no "database is locked" failure.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-conc-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
DB=$T/ledger.db
P=4
N=300

"$LEAL" program create --db "$DB" --code conc --name Conc >/dev/null
"$LEAL" customer add --db "$DB" --program 1 --name A >/dev/null
"$LEAL" customer add --db "$DB" --program 1 --name B >/dev/null
# Seed both accounts so that the debits below always have cover (10000 euros:
# over the program's limit for one operation, so confirmed with --over-limit).
"$LEAL" ledger post --db "$DB" --account 11 --asset EUR --amount 10000 --reason seed \
    --operator t --counter topups --request-id seed-a --over-limit >/dev/null
"$LEAL" ledger post --db "$DB" --account 12 --asset EUR --amount 10000 --reason seed \
    --operator t --counter topups --request-id seed-b --over-limit >/dev/null
# Each process: credits and debits on both customer accounts against the
# same program account (the hottest row), one entry per transaction.
for p in $(seq 1 $P); do
    awk -v n=$N -v p=$p 'BEGIN { for (i = 1; i <= n; i++) {
        amt = (i * 13 + p * 7) % 500 + 1; if (i % 3 == 0) amt = -((i + p) % 50 + 1)
        printf "p%d-%d,%d,8,EUR,%d,concurrency,proc%d\n", p, i, 11 + (i + p) % 2, amt, p } }' \
        >"$T/in.$p"
done
EXP11=$(cat "$T"/in.* | awk -F, '$2 == 11 { s += $5 } END { print s + 1000000 }')
EXP12=$(cat "$T"/in.* | awk -F, '$2 == 12 { s += $5 } END { print s + 1000000 }')
EXP8=$(cat "$T"/in.* | awk -F, '{ s -= $5 } END { print s }')

for p in $(seq 1 $P); do
    "$LEAL" ledger import "$T/in.$p" --batch 1 --db "$DB" >"$T/out.$p" 2>&1 &
    PIDS+=($!)
done
fails=0
for pid in "${PIDS[@]}"; do wait "$pid" || fails=$((fails + 1)); done
PIDS=()
check_eq "every process succeeded" 0 "$fails"
for p in $(seq 1 $P); do
    check_eq "process $p imported all" "imported $N entries (0 already there)" "$(tail -1 "$T/out.$p")"
done
run_capture "$LEAL" ledger verify --db "$DB"
check_eq "verify" "0|ledger ok: $((P * N + 2)) entries, $((2 * (P * N + 2))) lines, 12 accounts" "$RC|$OUT"
check_eq "account A exact" "$EXP11" "$(sqlite3 "$DB" "select amount from balance where account_id = 11")"
check_eq "account B exact" "$EXP12" "$(sqlite3 "$DB" "select amount from balance where account_id = 12")"
check_eq "adjustments exact" "$EXP8" "$(sqlite3 "$DB" "select amount from balance where account_id = 8")"
finish
