#!/bin/bash
# ledger.sh - how fast leal posts journal entries, against the sqlite3 shell
# importing the same rows into the same tables in the same run.
#
# leal (A): `leal ledger import` posts ENTRIES two-line entries through
# ledger_post (idempotency lookup, SHA-256 content hash, reference checks,
# negative-balance check, entry + lines + balance deltas), one transaction per
# BATCH entries, as the terminal journal import will.
# reference (B): the sqlite3 shell, on a copy of the same empty ledger (same
# schema and indexes; journal_mode=WAL, synchronous=FULL, foreign_keys=ON,
# cache_size=64 MiB, temp_store=MEMORY on both sides), `.import`s the entry and
# line rows leal wrote (CSV) and adds the balances, in one transaction. NULL
# columns cannot travel through CSV, so entries go through a staging table and
# one INSERT ... SELECT (counted).
# The two sides run in pairs, A B A B ... (PAIRS pairs, each on fresh copies):
# each pair gives a ratio and the median ratio is the figure, so one disturbed
# run on a shared machine cannot move it. Goal >= 0.8. Reports only.
#
# Generated inputs (the empty ledger, the CSV) are kept under build/bench/
# and made again when leal is newer than them.
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
ENTRIES=${LEAL_BENCH_ENTRIES:-200000}
BATCH=${LEAL_BENCH_BATCH:-10000}
PAIRS=${LEAL_BENCH_PAIRS:-7}
ACCOUNTS=100
CACHE=build/bench
mkdir -p "$CACHE"

T=$(mktemp -d /tmp/leal-bench-ledger-XXXXXX)
trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The same empty ledger for both sides: a program and ACCOUNTS gift accounts.
EMPTY=$CACHE/import-empty-$ACCOUNTS.db
if [ ! -s "$EMPTY" ] || [ "$LEAL" -nt "$EMPTY" ]; then
    rm -f "$T/setup.db" "$EMPTY"
    "$LEAL" program create --db "$T/setup.db" --code bench --name Bench >/dev/null || exit 1
    for _ in $(seq 1 $ACCOUNTS); do
        "$LEAL" account add --program 1 --db "$T/setup.db" >/dev/null || exit 1
    done
    "$LEAL" backup "$EMPTY" --db "$T/setup.db" >/dev/null || exit 1
fi
# request_id,account,counter_account,asset,amount,reason,operator (2 = topups)
IN=$CACHE/import-$ENTRIES-$ACCOUNTS.csv
if [ ! -s "$IN" ]; then
    awk -v n="$ENTRIES" -v a=$ACCOUNTS 'BEGIN { for (i = 1; i <= n; i++)
        printf "b%d,%d,2,EUR,%d,bench,robot\n", i, 11 + i % a, i % 5000 + 1 }' >"$IN.tmp" &&
        mv "$IN.tmp" "$IN" || exit 1
fi

side_a() { # leal: prints wall seconds and CPU seconds (user + system)
    rm -f "$T"/leal.db*
    cp "$EMPTY" "$T/leal.db"
    local t0 t1
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$T/cpu" \
        "$LEAL" ledger import "$IN" --batch "$BATCH" --db "$T/leal.db" >"$T/leal.out" || exit 1
    t1=$(now)
    awk -v a="$t0" -v b="$t1" '{ print b - a, $1 + $2 }' "$T/cpu"
}

side_b() { # the sqlite3 shell: prints wall seconds and CPU seconds
    rm -f "$T"/ref.db*
    cp "$EMPTY" "$T/ref.db"
    local t0 t1
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$T/cpu" sqlite3 "$T/ref.db" >"$T/ref.out" <<EOF || exit 1
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;
BEGIN IMMEDIATE;
CREATE TEMP TABLE entry_in($cols);
.import --csv $T/entry.csv entry_in
INSERT INTO entry SELECT $sel FROM entry_in;
.import --csv $T/line.csv line
INSERT INTO balance(account_id, asset, amount) SELECT account_id, asset, sum(amount) FROM line GROUP BY account_id, asset;
COMMIT;
EOF
    t1=$(now)
    awk -v a="$t0" -v b="$t1" '{ print b - a, $1 + $2 }' "$T/cpu"
}

: >"$T/pairs"
for p in $(seq 1 "$PAIRS"); do
    a=$(side_a) || exit 1
    if [ "$p" = 1 ]; then
        tail -1 "$T/leal.out"
        # The reference imports the rows leal wrote.
        sqlite3 -csv "$T/leal.db" "select * from entry order by id" >"$T/entry.csv"
        sqlite3 -csv "$T/leal.db" "select * from line order by id" >"$T/line.csv"
        cols=$(sqlite3 "$T/leal.db" "select group_concat(name, ',') from pragma_table_info('entry')")
        sel=$(sqlite3 "$T/leal.db" "select group_concat(case when \"notnull\" then name else 'nullif(' || name || ', '''')' end, ', ') from pragma_table_info('entry')")
        "$LEAL" ledger verify --db "$T/leal.db" || exit 1
    fi
    b=$(side_b) || exit 1
    if [ "$p" = 1 ]; then
        same=$(sqlite3 "$T/ref.db" "select count(*) from entry")/$(sqlite3 "$T/ref.db" "select count(*) from line")
        bal_l=$(sqlite3 "$T/leal.db" "select group_concat(account_id || ':' || amount) from (select * from balance order by 1, 2)")
        bal_r=$(sqlite3 "$T/ref.db" "select group_concat(account_id || ':' || amount) from (select * from balance order by 1, 2)")
        [ "$bal_l" = "$bal_r" ] || { echo "ledger bench: balances differ between the two sides"; exit 1; }
    fi
    echo "$a $b" >>"$T/pairs"
done

# Each line of pairs: leal wall, leal CPU, sqlite3 wall, sqlite3 CPU.
ratios=$(awk '{ printf "%.2f ", $3 / $1 }' "$T/pairs")
ta=$(awk '{ print $1 }' "$T/pairs" | median)
tb=$(awk '{ print $3 }' "$T/pairs" | median)
r=$(awk '{ print $3 / $1 }' "$T/pairs" | median)
rc=$(awk '{ print $4 / $2 }' "$T/pairs" | median)
printf 'leal ledger import: %d entries (%d per transaction), median of %d: %.2f s: %.0f entries/s\n' \
    "$ENTRIES" "$BATCH" "$PAIRS" "$ta" "$(awk -v n="$ENTRIES" -v t="$ta" 'BEGIN { print n / t }')"
printf 'sqlite3 .import (reference, entries/lines %s), median of %d: %.2f s: %.0f entries/s\n' \
    "$same" "$PAIRS" "$tb" "$(awk -v n="$ENTRIES" -v t="$tb" 'BEGIN { print n / t }')"
printf 'ratio leal/sqlite3 per pair (A B A B ...): %s\n' "$ratios"
printf 'ratio leal/sqlite3 in CPU time (user + system), median: %.2f\n' "$rc"
printf 'ratio leal/sqlite3: %.2f (median of %d pairs; goal >= 0.8)\n' "$r" "$PAIRS"
