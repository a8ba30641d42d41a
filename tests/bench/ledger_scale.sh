#!/bin/bash
# ledger_scale.sh - the ledger at scale, each figure against a reference
# measured in the same run:
# - `leal ledger import` of ENTRIES two-line entries spread over ACCOUNTS
#   (1 M) gift accounts: entries/s, and the bytes the import handed to
#   write() (wchar) and sent to storage (write_bytes), from the kernel's I/O
#   accounting of the importing process (/proc/PID/io); reference: the same
#   import, same entries, over 100 accounts.
# - `leal ledger verify` of a ledger of VERIFY_ENTRIES entries (half euro
#   top-ups, half points earned, each a lot) over ACCOUNTS accounts;
#   reference: `PRAGMA quick_check` of the same file (one read of every page),
#   which verify also runs.
# The ledgers are generated once with SQL (a program made by leal, then rows
# that satisfy every check of verify, then one `leal ledger post` that brings
# the report summaries up to date) and kept under build/bench/, named by
# schema version and size ("-s": with the summaries). Reports only.
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
ACCOUNTS=${LEAL_BENCH_SCALE_ACCOUNTS:-1000000}
ENTRIES=${LEAL_BENCH_SCALE_ENTRIES:-200000}
BATCH=${LEAL_BENCH_BATCH:-10000}
VERIFY_ENTRIES=${LEAL_BENCH_VERIFY_ENTRIES:-1000000}
CACHE=build/bench
mkdir -p "$CACHE"

T=$(mktemp -d /tmp/leal-bench-scale-XXXXXX)
trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

V=$("$LEAL" ledger init --db "$T/v.db" | sed -n 's/.*schema version \([0-9]*\).*/\1/p')
[ -n "$V" ] || { echo "ledger_scale: no schema version"; exit 1; }

# empty DB A: a program (accounts 1-10 are its own) and A gift accounts 11..10+A.
empty() {
    rm -f "$1"*
    "$LEAL" program create --db "$1" --code scale --name Scale >/dev/null || return 1
    sqlite3 "$1" >/dev/null <<EOF
PRAGMA synchronous = OFF;
INSERT INTO account(id, program_id, kind, created_at) SELECT 10 + value, 1, 'gift', 0 FROM generate_series(1, $2);
PRAGMA wal_checkpoint(TRUNCATE);
EOF
}

# books DB N A: a ledger of N entries over A gift accounts that verify accepts:
# odd entries earn points (a lot each) from points_issued (3), even ones top
# up euros from topups (2). Built without the line, entry and lot indexes,
# which are then created as the schema has them.
books() {
    local idx drop
    empty "$1" "$3" || return 1
    idx=$(sqlite3 "$1" "select group_concat(sql, '; ') from sqlite_schema where type = 'index' and tbl_name in ('entry', 'line', 'lot') and sql is not null")
    drop=$(sqlite3 "$1" "select group_concat('DROP INDEX ' || name, '; ') from sqlite_schema where type = 'index' and tbl_name in ('entry', 'line', 'lot') and sql is not null")
    sqlite3 "$1" >/dev/null <<EOF
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
$drop;
INSERT INTO entry(id, program_id, kind, at, request_id, operator, reason, reference, spend_cents, content_hash)
  SELECT value, 1, iif(value % 2, 'earn', 'topup'), 1700000000 + value, 'v' || value, 'robot', 'bench', '', 0, printf('%064d', value)
  FROM generate_series(1, $2);
INSERT INTO line(id, entry_id, account_id, asset, amount)
  SELECT 2 * value - 1, value, 11 + (value * 7919) % $3, iif(value % 2, 'PTS', 'EUR'), value % 5000 + 1 FROM generate_series(1, $2);
INSERT INTO line(id, entry_id, account_id, asset, amount)
  SELECT 2 * value, value, iif(value % 2, 3, 2), iif(value % 2, 'PTS', 'EUR'), -(value % 5000 + 1) FROM generate_series(1, $2);
INSERT INTO lot(account_id, asset, line_id, expires_at, original, remaining)
  SELECT account_id, asset, id, NULL, amount, amount FROM line WHERE asset = 'PTS' AND amount > 0 ORDER BY id;
INSERT INTO balance(account_id, asset, amount) SELECT account_id, asset, sum(amount) FROM line GROUP BY account_id, asset;
$idx;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOF
    # The report summaries (report_sum_sql.h) hold what every write transaction
    # posted; the rows above were not posted through leal, so one manual post
    # brings them up to date with every entry (a write takes the entries after
    # report_mark), as verify then checks.
    "$LEAL" ledger post --db "$1" --account 11 --asset EUR --amount 0,01 \
        --reason bench --operator robot >/dev/null
}

cached() { # NAME BUILDER ARGS...: the cached file, built when missing
    local f=$CACHE/$1 build=$2
    shift 2
    if [ ! -s "$f" ]; then
        "$build" "$f.tmp" "$@" || { rm -f "$f.tmp"*; return 1; }
        mv "$f.tmp" "$f" && rm -f "$f.tmp"*
    fi
    echo "$f"
}

# import ACCOUNTS: prints seconds, wchar, write_bytes of one import.
import() {
    local db=$T/import.db csv=$CACHE/scale-$ENTRIES-$1.csv base t0 t1
    base=$(cached "scale-v$V-empty-$1.db" empty "$1") || return 1
    if [ ! -s "$csv" ]; then
        awk -v n="$ENTRIES" -v a="$1" 'BEGIN { for (i = 1; i <= n; i++)
            printf "s%d,%d,2,EUR,%d,bench,robot\n", i, 11 + (i * 7919) % a, i % 5000 + 1 }' \
            >"$csv.tmp" && mv "$csv.tmp" "$csv" || return 1
    fi
    rm -f "$db"*
    cp "$base" "$db"
    t0=$(now)
    # The I/O of a reaped child is added to its parent's: read by the shell that waited.
    bash -c '"$@" >/dev/null || exit 1; while read -r k v; do echo "$k $v"; done </proc/$$/io' \
        _ "$LEAL" ledger import "$csv" --batch "$BATCH" --db "$db" >"$T/io" || return 1
    t1=$(now)
    "$LEAL" ledger verify --db "$db" >/dev/null || return 1
    echo "$(secs "$t0" "$t1") $(awk '$1 == "wchar:" { w = $2 } $1 == "write_bytes:" { b = $2 } END { print w, b }' "$T/io")"
}

r=$(import 100) || exit 1
read -r ref_s ref_w ref_b <<<"$r"
r=$(import "$ACCOUNTS") || exit 1
read -r s w b <<<"$r"
rate() { awk -v n="$ENTRIES" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
printf 'leal ledger import over %d accounts: %d entries (%d per transaction) in %.2f s: %s entries/s; %s MB to write(), %s MB to storage\n' \
    "$ACCOUNTS" "$ENTRIES" "$BATCH" "$s" "$(rate "$s")" "$(mb "$w")" "$(mb "$b")"
printf 'same import over 100 accounts (reference): %.2f s: %s entries/s; %s MB to write(), %s MB to storage\n' \
    "$ref_s" "$(rate "$ref_s")" "$(mb "$ref_w")" "$(mb "$ref_b")"
printf 'ratio %d accounts/100 accounts: %.2f in entries/s, %.2f in bytes to storage\n' "$ACCOUNTS" \
    "$(awk -v a="$s" -v b="$ref_s" 'BEGIN { print b / a }')" "$(awk -v a="$b" -v b="$ref_b" 'BEGIN { print (b > 0) ? a / b : 0 }')"

db=$(cached "verify-v$V-s-$VERIFY_ENTRIES-$ACCOUNTS.db" books "$VERIFY_ENTRIES" "$ACCOUNTS") || exit 1
t0=$(now)
"$LEAL" ledger verify --db "$db" >"$T/verify.out" || { cat "$T/verify.out"; exit 1; }
t1=$(now)
sqlite3 "$db" "PRAGMA quick_check" >"$T/qc.out" || exit 1
t2=$(now)
printf 'leal ledger verify: %s in %s s\n' "$(sed 's/^ledger ok: //' "$T/verify.out")" "$(secs "$t0" "$t1")"
printf 'PRAGMA quick_check of the same file (reference): %s s\n' "$(secs "$t1" "$t2")"
printf 'ratio verify/quick_check: %.2f (time; verify includes a quick_check)\n' \
    "$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { print (b - a) / (c - b) }')"
