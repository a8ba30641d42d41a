#!/bin/bash
# ledger.sh - how fast leal posts journal entries, against the sqlite3 shell
# importing the same rows into the same tables in the same run.
#
# leal: `leal ledger import` posts ENTRIES two-line entries through
# ledger_post (idempotency lookup, SHA-256 content hash, reference checks,
# entry + lines + balance deltas), one transaction per BATCH entries, as the
# terminal journal import will.
# reference: the sqlite3 shell, on a copy of the same empty ledger (same
# schema and indexes; journal_mode=WAL, synchronous=FULL, foreign_keys=ON,
# cache_size=64 MiB, temp_store=MEMORY on both sides), `.import`s the entry and line rows leal wrote (CSV) and adds
# the balances, in one transaction. NULL columns cannot travel through CSV,
# so entries go through a staging table and one INSERT ... SELECT (counted).
# Prints both rates and leal/reference; the goal is >= 0.5. Reports only.
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
ENTRIES=${LEAL_BENCH_ENTRIES:-1000000}
BATCH=${LEAL_BENCH_BATCH:-10000}
ACCOUNTS=100

T=$(mktemp -d /tmp/leal-bench-ledger-XXXXXX)
trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

# The same empty ledger for both sides: a program and ACCOUNTS gift accounts.
"$LEAL" program create --db "$T/setup.db" --code bench --name Bench >/dev/null || exit 1
for _ in $(seq 1 $ACCOUNTS); do
    "$LEAL" account add --program 1 --db "$T/setup.db" >/dev/null || exit 1
done
"$LEAL" backup "$T/leal.db" --db "$T/setup.db" >/dev/null || exit 1
"$LEAL" backup "$T/ref.db" --db "$T/setup.db" >/dev/null || exit 1

# request_id,account,counter_account,asset,amount,reason,operator (2 = topups)
awk -v n="$ENTRIES" -v a=$ACCOUNTS 'BEGIN { for (i = 1; i <= n; i++)
    printf "b%d,%d,2,EUR,%d,bench,robot\n", i, 11 + i % a, i % 5000 + 1 }' >"$T/in.csv"

t0=$(now)
"$LEAL" ledger import "$T/in.csv" --batch "$BATCH" --db "$T/leal.db" >"$T/leal.out" || exit 1
t1=$(now)
tail -1 "$T/leal.out"

sqlite3 -csv "$T/leal.db" "select * from entry order by id" >"$T/entry.csv"
sqlite3 -csv "$T/leal.db" "select * from line order by id" >"$T/line.csv"
cols=$(sqlite3 "$T/leal.db" "select group_concat(name, ',') from pragma_table_info('entry')")
sel=$(sqlite3 "$T/leal.db" "select group_concat(case when \"notnull\" then name else 'nullif(' || name || ', '''')' end, ', ') from pragma_table_info('entry')")

t2=$(now)
sqlite3 "$T/ref.db" >"$T/ref.out" <<EOF || exit 1
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
t3=$(now)

same=$(sqlite3 "$T/ref.db" "select count(*) from entry")/$(sqlite3 "$T/ref.db" "select count(*) from line")
bal_l=$(sqlite3 "$T/leal.db" "select group_concat(account_id || ':' || amount) from (select * from balance order by 1, 2)")
bal_r=$(sqlite3 "$T/ref.db" "select group_concat(account_id || ':' || amount) from (select * from balance order by 1, 2)")
[ "$bal_l" = "$bal_r" ] || { echo "ledger bench: balances differ between the two sides"; exit 1; }
"$LEAL" ledger verify --db "$T/leal.db" || exit 1

rl=$(rate "$ENTRIES" "$t0" "$t1")
rr=$(rate "$ENTRIES" "$t2" "$t3")
printf 'leal ledger import: %d entries (%d per transaction) in %.2f s: %s entries/s\n' \
    "$ENTRIES" "$BATCH" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rl"
printf 'sqlite3 .import (reference, entries/lines %s): %.2f s: %s entries/s\n' "$same" \
    "$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')" "$rr"
printf 'ratio leal/sqlite3: %s (goal >= 0.5)\n' "$(awk -v a="$rl" -v b="$rr" 'BEGIN { printf "%.2f", a / b }')"
