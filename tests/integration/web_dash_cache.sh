#!/bin/bash
# web_dash_cache.sh - the back office keeps the dashboard's answer per
# program and gives it again only while it is exact (issue 16, perf): the
# same answer while nothing is committed; a point posted by another process
# (`leal ledger post`) shows at once, to the point; a customer created
# through the server itself (its own connection) shows at once; two
# programs keep their own answers; and every figure of the kept answer is
# still `leal report --json`'s (tests/integration/web_dash_check.py). The
# same cases and expectations on PostgreSQL with LEAL_TEST_BACKEND=pg
# (web_pg.sh): there the kept answer's version is ledger_version's counter.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh
source tests/lib/backend.sh
clear_of_midnight 30 # today's figures, reckoned once

web_fixture dashcache
DB=$T/ledger.db
backend_db dashcache || {
    finish
    exit
}
trap 'web_cleanup; backend_db_stop' EXIT
"$LEAL" program create --db "$DB" --code a --name "A" >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 1 --code a1 --name "A one" --tz UTC >/dev/null || exit 1
"$LEAL" program create --db "$DB" --code b --name "B" >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 2 --code b1 --name "B one" --tz UTC >/dev/null || exit 1
ACCT=$("$LEAL" customer add --db "$DB" --program 1 --name Eva --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])')
"$LEAL" sale --account "$ACCT" --amount 10 --store 1 --db "$DB" >/dev/null || exit 1
printf 'admin password 1\n' >"$T/pw"
web_start serve --db "$DB" --init-admin ana --password-file "$T/pw"
CSRF=$(curl -s -c "$T/jar" -H 'Content-Type: application/json' \
    -d '{"name":"ana","password":"admin password 1"}' "$URL/api/session" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
dash() { curl -s -b "$T/jar" "$URL/api/dashboard?program=$1"; }
# Points outstanding, today's points issued, today's new customers.
figs() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["liability"]["PTS"]["units"], d["today"]["total"]["points_issued"], d["today"]["total"]["new"])'; }

dash 1 >"$T/d1.json"
dash 1 >"$T/d2.json"
check_eq "nothing committed: the same answer again, byte for byte" "$(cat "$T/d1.json")" "$(cat "$T/d2.json")"
check_eq "the first answer: 10 points outstanding, 10 issued today, 1 new customer" "10 10 1" \
    "$(figs <"$T/d1.json")"
"$LEAL" ledger post --account "$ACCT" --asset PTS --amount 5 --reason "a gift" --operator ana \
    --db "$DB" >/dev/null || exit 1
check_eq "a post by another process shows at once: 15 outstanding, issued unchanged (an adjustment)" \
    "15 10 1" "$(dash 1 | figs)"
dash 2 >"$T/b1.json"
check_eq "program 2 has its own answer: nothing outstanding" "{}" \
    "$($PY -c 'import json,sys; d=json.load(sys.stdin)["liability"]; d.pop("point_value_cents"); print(json.dumps(d))' <"$T/b1.json")"
check_eq "created through the server's own connection: 2 new customers today" "15 10 2" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
        --data-binary '{"program":1,"name":"Luz"}' "$URL/api/customers" >/dev/null; dash 1 | figs)"
check_eq "program 1 asked again after program 2: still its own, current answer" "15 10 2" "$(dash 1 | figs)"
# Under steady writes (a point posted by another process every 0.2 s),
# 24 requests in bursts of 6: each waits for the next computation, whose
# snapshot begins after it arrived, so none shows fewer points than were
# committed when it was sent.
COOKIE=$(awk '$6 == "leal_session" { print $7 }' "$T/jar")
check_eq "under writes: 24 answers, none older than its request" "24 200s, 0 older" \
    "$($PY - "$URL" "$COOKIE" "$LEAL" "$DB" "$ACCT" <<'PYEOF'
import json, subprocess, sys, threading, time, urllib.request
url, cookie, leal, db, acct = sys.argv[1:6]
lock = threading.Lock()
done = [0]
def poster():
    for _ in range(8):
        subprocess.run([leal, "ledger", "post", "--account", acct, "--asset", "PTS", "--amount",
                        "1", "--reason", "steady", "--operator", "ana", "--db", db],
                       check=True, stdout=subprocess.DEVNULL)
        with lock:
            done[0] += 1
        time.sleep(0.2)
results = []
def ask():
    with lock:
        before = done[0]
    rq = urllib.request.Request(url + "/api/dashboard?program=1",
                                headers={"Cookie": "leal_session=" + cookie})
    with urllib.request.urlopen(rq, timeout=60) as r:
        status, pts = r.status, json.load(r)["liability"]["PTS"]["units"]
    with lock:
        results.append((status, pts - 15 >= before))
p = threading.Thread(target=poster)
p.start()
asks = []
for _ in range(4):
    for _ in range(6):
        t = threading.Thread(target=ask)
        t.start()
        asks.append(t)
    time.sleep(0.25)
for t in asks + [p]:
    t.join()
print("%d 200s, %d older" % (sum(s == 200 for s, _ in results), sum(not ok for _, ok in results)))
PYEOF
)"
check_eq "under writes: the answer after them has all 8 points" "23 10 2" "$(dash 1 | figs)"
# The kept answer against the reports, as web_serve.sh checks a fresh one.
dash 1 >"$T/dash.json"
DAY0=$(date -u +%F)
MON0=$(date -u +%Y-%m-01)
for w in "today $DAY0" "month $MON0"; do
    set -- $w
    "$LEAL" report activity --program 1 --from "$2" --to "$DAY0" --db "$DB" --json >"$T/act-$1.json"
    "$LEAL" report customers --program 1 --from "$2" --to "$DAY0" --db "$DB" --json >"$T/cust-$1.json"
    "$LEAL" report customers --program 1 --store a1 --from "$2" --to "$DAY0" --db "$DB" --json >"$T/cust-$1-a1.json"
done
"$LEAL" report liabilities --program 1 --from "$DAY0" --to "$DAY0" --db "$DB" --json >"$T/liab.json"
check_eq "every figure of the answer given again is the reports'" "ok" \
    "$($PY tests/integration/web_dash_check.py "$T" 2>&1)"
finish
