#!/bin/bash
# web_dash_zone.sh - the back office's dashboard counts today and this month
# in the time zone of the program's stores (issue 16): a program whose one
# store is in Pacific/Kiritimati (UTC+14, its day starts at 10:00 UTC the day
# before), a sale one second after its local midnight and one a second
# before it; `leal serve`'s /api/dashboard counts exactly the first as
# today's, and names the local days and the zone. A program with stores in
# two zones keeps UTC days (timezone "").
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh

web_fixture dashzone
DB=$T/ledger.db
ZONE=Pacific/Kiritimati
clear_of_midnight 30 UTC "$ZONE" # the local today and month, reckoned once
LOCAL_TODAY=$(TZ=$ZONE date +%F)
MIDNIGHT=$(TZ=$ZONE date -d "$LOCAL_TODAY 00:00:00" +%s)

"$LEAL" program create --db "$DB" --code k --name "Kiri" >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 1 --code k1 --name "K one" --tz "$ZONE" >/dev/null || exit 1
"$LEAL" program create --db "$DB" --code m --name "Mixed" >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 2 --code m1 --name "M one" --tz "$ZONE" >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 2 --code m2 --name "M two" --tz Europe/Madrid >/dev/null || exit 1
ACCT=$("$LEAL" customer add --db "$DB" --program 1 --name Kai --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])')
"$LEAL" sale --account "$ACCT" --amount 10 --store 1 --at "@$((MIDNIGHT + 1))" --db "$DB" >/dev/null || exit 1
"$LEAL" sale --account "$ACCT" --amount 7 --store 1 --at "@$((MIDNIGHT - 1))" --db "$DB" >/dev/null || exit 1
printf 'admin password 1\n' >"$T/pw"
web_start serve --db "$DB" --init-admin ana --password-file "$T/pw"
curl -s -c "$T/jar" -H 'Content-Type: application/json' -d '{"name":"ana","password":"admin password 1"}' \
    "$URL/api/session" >/dev/null
curl -s -b "$T/jar" "$URL/api/dashboard?program=1" >"$T/dash.json"
sums() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); t=lambda p: "%s..%s sales %d points %d" % (d[p]["from"], d[p]["to"], d[p]["total"]["sales_no_card"], d[p]["total"]["points_issued"]); print(d["timezone"], "|", t("today"), "|", t("month"))' "$1"; }
# This month: both sales unless today is the 1st there (the second is last month's).
if [ "${LOCAL_TODAY:8:2}" = 01 ]; then MONTH="$LOCAL_TODAY..$LOCAL_TODAY sales 1 points 10"
else MONTH="${LOCAL_TODAY:0:8}01..$LOCAL_TODAY sales 2 points 17"; fi
check_eq "today and this month are the stores' local days: only the sale after local midnight is today's" \
    "$ZONE | $LOCAL_TODAY..$LOCAL_TODAY sales 1 points 10 | $MONTH" "$(sums "$T/dash.json")"
UTC_DAY=$(date -u -d "@$MIDNIGHT" +%F)
check_eq "counted in UTC days both sales fall on one day (what the dashboard no longer does)" 2 \
    "$("$LEAL" report activity --program 1 --from "$UTC_DAY" --to "$UTC_DAY" --db "$DB" --json | $PY -c 'import json,sys; print(sum(r["sales_no_card"] for r in json.load(sys.stdin)["parts"]["activity"]))')"
curl -s -b "$T/jar" "$URL/api/dashboard?program=2" >"$T/dash2.json"
check_eq "stores in two zones: UTC days, timezone empty" " | $(date -u +%F)..$(date -u +%F) sales 0 points 0" \
    "$(sums "$T/dash2.json" | cut -d'|' -f1,2 | sed 's/ *$//')"
finish
