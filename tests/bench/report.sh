#!/bin/bash
# report.sh - every `leal report` over a year of a generated chain (issue 17:
# 100 shops, 10 M entries by default), each timed beside a bare
# `SELECT count(*)` over the same rows (the program's entries joined to their
# lines, sqlite3 on the same file in the same run): the ratio says what the
# report costs beyond reading its rows once. The ledger is generated once and
# kept under build/bench/, named by schema version and size: up to
# LEAL_BENCH_REPORT_API entries (200000) by tests/tools/report_gen, through
# the ledger API (batches of 10000; about 2,000 entries a second on a busy
# machine, so 10 M would take over an hour); above that, report_gen makes
# the program, shops and customers (with 2000 entries) and the sqlite3 shell
# adds the rest in bulk (the SQL below: earns, purse payments, top-ups,
# redemptions, adjustments and voids of payments, two lines each, spread
# evenly over the year, shops and customers by a multiplicative hash, the
# balances summed from the lines), then one `leal ledger post` brings the
# report summaries up to date with every entry (report_sum_sql.h: a write
# transaction takes the entries after report_mark). Reports only.
#   LEAL_BENCH_REPORT_ENTRIES (10000000), _SHOPS (100), _CUSTOMERS (50000),
#   _API (200000), _LIMIT (600 seconds a report at most)
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
ENTRIES=${LEAL_BENCH_REPORT_ENTRIES:-10000000}
SHOPS=${LEAL_BENCH_REPORT_SHOPS:-100}
CUSTOMERS=${LEAL_BENCH_REPORT_CUSTOMERS:-50000}
LIMIT=${LEAL_BENCH_REPORT_LIMIT:-600}
API=${LEAL_BENCH_REPORT_API:-200000}
CACHE=build/bench
mkdir -p "$CACHE"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

V=$(grep -o 'LEDGER_SCHEMA_VERSION [0-9]*' host/ledger/ledger.h | awk '{print $2}')
DB=$CACHE/report-v$V-$ENTRIES-$SHOPS-$CUSTOMERS.db
if [ ! -f "$DB" ]; then
    rm -f "$DB.tmp"*
    t0=$(now)
    if [ "$ENTRIES" -le "$API" ]; then
        "$LEAL_BUILD/tests/tools/report_gen" "$DB.tmp" "$ENTRIES" "$SHOPS" "$CUSTOMERS" 365 || exit 1
    else
        "$LEAL_BUILD/tests/tools/report_gen" "$DB.tmp" 2000 "$SHOPS" "$CUSTOMERS" 365 || exit 1
        N=$((ENTRIES - $(sqlite3 "$DB.tmp" "SELECT count(*) FROM entry")))
        sqlite3 -bail "$DB.tmp" <<EOF || exit 1
PRAGMA cache_size = -262144;
CREATE TEMP TABLE cust(n INTEGER PRIMARY KEY, acct INTEGER NOT NULL, card INTEGER);
INSERT INTO cust SELECT row_number() OVER (ORDER BY a.id) - 1, a.id,
 (SELECT max(card_id) FROM card WHERE account_id = a.id) FROM account a
 WHERE a.program_id = 7 AND a.kind = 'customer';
CREATE TEMP TABLE pa(kind TEXT PRIMARY KEY, acct INTEGER NOT NULL);
INSERT INTO pa SELECT k, (SELECT id FROM account WHERE program_id = 7 AND name = n) FROM
 (SELECT 'earn' AS k, 'points_issued' AS n UNION ALL SELECT 'redeem', 'points_redeemed'
  UNION ALL SELECT 'adjust', 'adjustments' UNION ALL SELECT 'spend', 'cash'
  UNION ALL SELECT 'topup', 'topups');
CREATE TEMP TABLE base AS SELECT max(id) AS b, (SELECT min(id) FROM store WHERE program_id = 7)
 AS s0, (SELECT count(*) FROM cust) AS nc FROM entry;
-- g: entry i, the kind it counts as (a void: of the payment four before it)
CREATE TEMP VIEW g AS SELECT i, b + i AS id, k, sgn, at, s0 + (h / 7) % $SHOPS AS store,
 c.acct AS acct, c.card AS card, 1 + h % 50 AS pts, 100 + h % 5000 AS eur FROM
 (SELECT i, CASE WHEN i % 20 = 18 THEN -1 ELSE 1 END AS sgn,
  CASE (CASE WHEN i % 20 = 18 THEN i - 4 ELSE i END) % 20 WHEN 11 THEN 'spend'
   WHEN 12 THEN 'spend' WHEN 13 THEN 'spend' WHEN 14 THEN 'spend' WHEN 15 THEN 'topup'
   WHEN 16 THEN 'redeem' WHEN 17 THEN 'adjust' ELSE 'earn' END AS k,
  ((CASE WHEN i % 20 = 18 THEN i - 4 ELSE i END) * 2654435761) % 1000003 AS h,
  1767225600 + (i - 1) * 31536000 / $N AS at
  FROM (SELECT value AS i FROM generate_series(1, $N))), base JOIN cust c ON c.n = h % nc;
BEGIN;
INSERT INTO entry(id, program_id, kind, at, store_id, request_id, operator, reason, reference,
 spend_cents, reverses, card_id, content_hash)
 SELECT id, 7, CASE WHEN sgn < 0 THEN 'void' ELSE k END, at, store, 'bench:' || i, 'bench',
 'bench', CASE WHEN k = 'redeem' THEN 'reward:coffee' ELSE '' END, 0,
 CASE WHEN sgn < 0 THEN id - 4 END, CASE WHEN sgn > 0 AND k IN ('earn', 'spend', 'redeem')
 THEN card END, 'bench' FROM g;
INSERT INTO line(entry_id, account_id, asset, amount)
 SELECT g.id, CASE WHEN side = 0 THEN g.acct ELSE pa.acct END,
 CASE WHEN g.k IN ('spend', 'topup') THEN 'EUR' ELSE 'PTS' END,
 g.sgn * (CASE WHEN side = 0 THEN 1 ELSE -1 END) * CASE g.k WHEN 'earn' THEN g.pts
  WHEN 'adjust' THEN g.pts WHEN 'redeem' THEN -g.pts WHEN 'topup' THEN g.eur ELSE -g.eur END
 FROM g JOIN pa ON pa.kind = g.k CROSS JOIN (SELECT 0 AS side UNION ALL SELECT 1);
DELETE FROM balance;
INSERT INTO balance(account_id, asset, amount) SELECT account_id, asset, sum(amount) FROM line
 GROUP BY 1, 2;
COMMIT;
EOF
        ACCT=$(sqlite3 "$DB.tmp" "SELECT min(id) FROM account WHERE program_id = 7 AND kind = 'customer'")
        "$LEAL" ledger post --db "$DB.tmp" --account "$ACCT" --asset PTS --amount 1 \
            --reason bench --operator bench >/dev/null || exit 1
    fi
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
# report_held's months after it (rep8; at the year's end there are none);
# "@06-15" also reads the half month of lines nearer the date. campaigns
# compares each rule's window with the weeks before it. settlement is not
# here: it is a collective's, the bench's program is a chain.
for r in activity liabilities liabilities@06-30 liabilities@06-15 redemptions breakage customers retention campaigns; do
    w=("${W[@]}")
    [ "${r#*@}" != "$r" ] && w=(--program 7 --from "2026-${r#*@}" --to "2026-${r#*@}" --db "$DB")
    t0=$(now)
    timeout "$LIMIT" "$LEAL" report "${r%@*}" "${w[@]}" --json >/dev/null
    rc=$?
    t=$(secs "$t0" "$(now)")
    if [ $rc -eq 124 ]; then echo "report $r: over $LIMIT s (stopped)"; continue; fi
    [ $rc -eq 0 ] || echo "report $r failed"
    echo "report $r: $t s, ratio $(awk -v a="$t" -v b="$REF" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }') to the count"
done
