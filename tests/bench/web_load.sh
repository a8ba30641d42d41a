#!/bin/bash
# web_load.sh - `leal serve` under load on loopback (issue 16): a ledger of
# 100,000 customers and a year of sales (report_gen asked for 30,000 entries
# posts about 20,000) in 10 shops (tests/tools/report_gen,
# generated once and kept under build/bench/), 100 concurrent clients
# (tests/bench/web_load.py, threads of /usr/bin/python3, one keep-alive
# connection each) for a bounded time on each of:
#   static     GET /app.css, the reference measured in the same run: what the
#              server and this client cost with no ledger work;
#   dashboard  GET /api/dashboard?program=7 (today and this month per shop,
#              the liabilities, the 12-month chart);
#   search     GET /api/customers?q=cNNNN, a different customer each request;
#   dash+posts the dashboard again while `leal ledger post` commits a point
#              to a customer once a second from another process: each
#              commit changes the file's data version, so the server's kept
#              answer is dropped and the next request computes it anew (its
#              cost shows in p99; the phase with no writes is all kept
#              answers after the first).
# A request unanswered a second after its phase ends is given up and counted
# as unanswered (the phase is bounded, however slow the route). Prints
# requests per second, p50 and p99 latency of each, each phase's
# requests per second as a ratio to the static route's, and the server's RSS
# at start, after a warm-up and at the end (memory should stay flat).
# Goal: search >= 300 req/s with p99 < 500 ms; dashboard p99 < 2 s; RSS at
# the end within 10 % of the RSS after the warm-up. Reports only.
#   LEAL_BENCH_WEB_CUSTOMERS (100000), _ENTRIES (30000), _SECONDS (20 per phase),
#   _CLIENTS (100)
set -u
cd "$(dirname "$0")/../.."
: "${LEAL_BUILD:=build/release}"
LEAL=$LEAL_BUILD/bin/leal
PY=/usr/bin/python3
CUSTOMERS=${LEAL_BENCH_WEB_CUSTOMERS:-100000}
ENTRIES=${LEAL_BENCH_WEB_ENTRIES:-30000}
SECONDS_EACH=${LEAL_BENCH_WEB_SECONDS:-20}
CLIENTS=${LEAL_BENCH_WEB_CLIENTS:-100}
GEN=$LEAL_BUILD/tests/tools/report_gen
[ -x "$GEN" ] || GEN=build/asan/tests/tools/report_gen
CACHE=build/bench
mkdir -p "$CACHE"
T=$(mktemp -d /tmp/leal-webload-XXXXXX)
PID=
WPID=
trap '[ -n "$WPID" ] && kill "$WPID" 2>/dev/null; [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

V=$(grep -o 'LEDGER_SCHEMA_VERSION [0-9]*' host/ledger/ledger.h | awk '{print $2}')
DB=$CACHE/web-v$V-$CUSTOMERS-$ENTRIES.db
if [ ! -f "$DB" ]; then
    rm -f "$DB.tmp"*
    t0=$(date +%s.%N)
    "$GEN" "$DB.tmp" "$ENTRIES" 10 "$CUSTOMERS" 365 >/dev/null || exit 1
    mv "$DB.tmp" "$DB"
    rm -f "$DB.tmp-wal" "$DB.tmp-shm"
    echo "generated $DB in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
fi
cp "$DB" "$T/ledger.db"
printf 'bench password 1\n' >"$T/pw"
"$LEAL" serve --listen 127.0.0.1:0 --db "$T/ledger.db" --init-admin bench --password-file "$T/pw" \
    >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 200); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$T/serve.out")
[ -n "$PORT" ] || { echo "leal serve did not start: $(cat "$T/serve.err")"; exit 1; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
RSS0=$(rss)
curl -s -c "$T/jar" -H 'Content-Type: application/json' -d '{"name":"bench","password":"bench password 1"}' \
    "http://127.0.0.1:$PORT/api/session" >/dev/null
COOKIE="leal_session=$(awk '$6 == "leal_session" { print $7 }' "$T/jar")"
NCUST=$(sqlite3 "$T/ledger.db" "select count(*) from customer")
NENT=$(sqlite3 "$T/ledger.db" "select count(*) from entry")
echo "ledger: $NCUST customers, $NENT entries, 10 shops; $CLIENTS clients, $SECONDS_EACH s a phase; load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
# Search paths: customers c<N> named by report_gen, a different one each request.
SEARCH=()
for i in $(seq 1 97 "$CUSTOMERS" | head -400); do SEARCH+=("/api/customers?q=c$i"); done
load() { $PY tests/bench/web_load.py 127.0.0.1 "$PORT" "$1" "$CLIENTS" "$COOKIE" "${@:2}"; }
# Warm-up: the static route and the search, a few seconds, before the
# start-of-run RSS (one dashboard first, timed alone).
DASH1=$(curl -s -o /dev/null -w '%{time_total}' -b "$T/jar" "http://127.0.0.1:$PORT/api/dashboard?program=7")
echo "one dashboard request alone: $DASH1 s"
load 3 /app.css "${SEARCH[@]:0:50}" >/dev/null
RSS1=$(rss)
read -r SN SE SR S50 S99 SU < <(load "$SECONDS_EACH" /app.css)
read -r QN QE QR Q50 Q99 QU < <(load "$SECONDS_EACH" "${SEARCH[@]}")
read -r DN DE DR D50 D99 DU < <(load "$SECONDS_EACH" /api/dashboard?program=7)
ACCT=$(sqlite3 "$T/ledger.db" "select id from account where kind = 'customer' order by id limit 1")
(while :; do
    "$LEAL" ledger post --account "$ACCT" --asset PTS --amount 1 --reason bench --operator bench \
        --db "$T/ledger.db" >/dev/null 2>>"$T/post.err" && echo >>"$T/posts"
    sleep 1
done) &
WPID=$!
read -r WN WE WR W50 W99 WU < <(load "$SECONDS_EACH" /api/dashboard?program=7)
kill "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
RSS2=$(rss)
row() { awk -v n="$1" -v req="$2" -v err="$3" -v rps="$4" -v p50="$5" -v p99="$6" -v un="$7" -v ref="$SR" \
    'BEGIN { printf "%-10s %7d answered %3d errors %4d unanswered %9.1f req/s  p50 %8.1f ms  p99 %8.1f ms  req/s ratio to static %.4f\n", n, req, err, un, rps, p50, p99, rps / ref }'; }
row static "$SN" "$SE" "$SR" "$S50" "$S99" "$SU"
row search "$QN" "$QE" "$QR" "$Q50" "$Q99" "$QU"
row dashboard "$DN" "$DE" "$DR" "$D50" "$D99" "$DU"
row dash+posts "$WN" "$WE" "$WR" "$W50" "$W99" "$WU"
echo "posts committed during dash+posts: $(wc -l <"$T/posts" 2>/dev/null || echo 0)"
echo "server RSS: $RSS0 KiB at start, $RSS1 KiB after the warm-up, $RSS2 KiB at the end ($(awk -v a="$RSS1" -v b="$RSS2" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }') % since the warm-up)"
awk -v qr="$QR" -v q99="$Q99" -v d99="$D99" -v w99="$W99" -v a="$RSS1" -v b="$RSS2" \
    -v e="$((SE + DE + QE + WE + SU + DU + QU + WU))" 'BEGIN {
    ok = qr >= 300 && q99 < 500 && d99 < 2000 && w99 < 2000 && (b - a) <= a * 0.10 && e == 0
    printf "goal (search >= 300 req/s, p99 < 500 ms; dashboard p99 < 2000 ms, with posts too; RSS +10 %% at most; no errors, none unanswered): %s\n", ok ? "met" : "not met" }'
