#!/bin/bash
# report.sh - every `leal report` over a year of a generated chain (issue 17:
# 100 shops, 10 M entries by default), each timed beside a bare
# `SELECT count(*)` over the same rows (the program's entries joined to their
# lines, sqlite3 on the same file in the same run): the ratio says what the
# report costs beyond reading its rows once. The ledger is generated once by
# tests/tools/report_gen (through the ledger API, batches of 10000) and kept
# under build/bench/, named by schema version and size. Reports only.
#   LEAL_BENCH_REPORT_ENTRIES (10000000), _SHOPS (100), _CUSTOMERS (50000),
#   _LIMIT (600 seconds a report at most)
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
ENTRIES=${LEAL_BENCH_REPORT_ENTRIES:-10000000}
SHOPS=${LEAL_BENCH_REPORT_SHOPS:-100}
CUSTOMERS=${LEAL_BENCH_REPORT_CUSTOMERS:-50000}
LIMIT=${LEAL_BENCH_REPORT_LIMIT:-600}
CACHE=build/bench
mkdir -p "$CACHE"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

V=$(grep -o 'LEDGER_SCHEMA_VERSION [0-9]*' host/ledger/ledger.h | awk '{print $2}')
DB=$CACHE/report-v$V-$ENTRIES-$SHOPS-$CUSTOMERS.db
if [ ! -f "$DB" ]; then
    rm -f "$DB.tmp"*
    t0=$(now)
    "$LEAL_BUILD/tests/tools/report_gen" "$DB.tmp" "$ENTRIES" "$SHOPS" "$CUSTOMERS" 365 || exit 1
    mv "$DB.tmp" "$DB"
    rm -f "$DB.tmp-wal" "$DB.tmp-shm"
    echo "generated $DB in $(secs "$t0" "$(now)") s"
fi
W=(--program 7 --from 2026-01-01 --to 2026-12-31 --db "$DB")
t0=$(now)
ROWS=$(sqlite3 "$DB" "SELECT count(*) FROM entry e JOIN line l ON l.entry_id = e.id WHERE e.program_id = 7")
REF=$(secs "$t0" "$(now)")
ENT=$(sqlite3 "$DB" "SELECT count(*) FROM entry WHERE program_id = 7")
echo "ledger: $ENT entries, $ROWS lines, $SHOPS shops; reference SELECT count(*) over them: $REF s"
# Each report is given LIMIT seconds at most (the bench stays bounded).
# "liabilities@06-30" is the liabilities at mid-year: the balances less
# every line of the half year after (at the year's end there are none).
for r in activity liabilities liabilities@06-30 redemptions breakage customers retention; do
    w=("${W[@]}")
    [ "$r" = liabilities@06-30 ] && w=(--program 7 --from 2026-06-30 --to 2026-06-30 --db "$DB")
    t0=$(now)
    timeout "$LIMIT" "$LEAL" report "${r%@*}" "${w[@]}" --json >/dev/null
    rc=$?
    t=$(secs "$t0" "$(now)")
    if [ $rc -eq 124 ]; then echo "report $r: over $LIMIT s (stopped)"; continue; fi
    [ $rc -eq 0 ] || echo "report $r failed"
    echo "report $r: $t s, ratio $(awk -v a="$t" -v b="$REF" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }') to the count"
done
