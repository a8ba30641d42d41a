#!/bin/bash
# web_serve.sh - `leal serve` (issue 16) against curl on loopback: the pages,
# sign-in and its cookie's flags, a state change refused without the CSRF
# token (and nothing written), customers created, searched accent- and
# case-blind, edited with the audit log's before and after, staff refused
# another store's customer, every route of the role table (`leal serve
# --routes`, the portal's routes with it) called with no session, as each
# role and with a customer's portal session, the sixth wrong
# password in a minute refused (per account and per address), a disabled
# user's session ended, the cookie Secure under TLS, and a program that
# serves the books linked without any key code. With LEAL_TEST_BACKEND=pg
# (web_pg.sh) every case runs on PostgreSQL with the same exact expectations,
# each row checked in that database.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh
source tests/lib/backend.sh
clear_of_midnight 120 # the dashboard's today and month, checked against date -u

web_fixture web
DB=$T/ledger.db
backend_db web_serve || {
    finish
    exit
}
trap 'web_cleanup; backend_db_stop' EXIT
# q SQL: the rows of either backend (tests/lib/backend.sh); jx COLUMN KEY: a
# JSON text column's member as text in its SQL.
jx() { if [ "$BK" = pg ]; then echo "($1::json->>'$2')"; else echo "json_extract($1, '\$.$2')"; fi; }

[ "$BK" = pg ] || "$LEAL" ledger init --db "$DB" >/dev/null
"$LEAL" program create --db "$DB" --code a --name "Shop A" --kind chain >/dev/null
"$LEAL" program create --db "$DB" --code b --name "Shop B" >/dev/null
# The stores keep UTC's days the year round (Atlantic/Reykjavik): the dashboard
# counts in its stores' zone and `leal report` in UTC days, and the checks
# below hold one against the other, which would fail for the hour each
# night when Madrid's day is not UTC's (stores' zones: web_dash_zone.sh).
"$LEAL" store add --db "$DB" --program 1 --code a1 --name "A one" --tz Atlantic/Reykjavik >/dev/null
"$LEAL" store add --db "$DB" --program 2 --code b1 --name "B one" --tz Atlantic/Reykjavik >/dev/null
"$LEAL" customer add --db "$DB" --program 2 --name Berta --surname Other >/dev/null
BERTA=$(q "select customer_id from customer_pii where name = 'Berta'")
printf 'admin password 1\n' >"$T/pw-admin"
printf 'staff password 1\n' >"$T/pw-staff"
printf 'manager password\n' >"$T/pw-manager"
printf 'robs password 1\n' >"$T/pw-rob"
run_capture "$LEAL" user add sam --role staff --store 1 --password-file "$T/pw-staff" --db "$DB"
check_eq "leal user add: a staff member of store 1" "0|user 1 'sam' added (staff, en)" "$RC|$OUT"
"$LEAL" user add mia --role manager --store 1 --password-file "$T/pw-manager" --db "$DB" >/dev/null
"$LEAL" user add rob --role staff --store 1 --password-file "$T/pw-rob" --db "$DB" >/dev/null
run_capture "$LEAL" user add x --role staff --password-file "$T/pw-rob" --db "$DB"
check_match "staff without --store is refused (exit 2)" "^2\|leal: user 'x': .*unknown role" "$RC|$ERR"
printf 'short\n' >"$T/pw-short"
run_capture "$LEAL" user add y --role admin --password-file "$T/pw-short" --db "$DB"
check_eq "a short password is refused and no user is added" "2|3" "$RC|$(q "select count(*) from web_user")"
check_eq "the password is kept as an Argon2id hash of the stated parameters" \
    '$argon2id$v=19$m=19456,t=2,p=1$' "$(q "select substr(pass_hash, 1, 31) from web_user where name = 'sam'")"

web_start serve --db "$DB" --init-admin ana --password-file "$T/pw-admin"
SERVE_PID=$WEB_PID
check_match "leal serve --init-admin adds the admin and names where it listens" \
    "^admin 4 'ana' added listening on http://127\.0\.0\.1:[0-9]+$" "$(tr '\n' ' ' <"$T/serve.out" | sed 's/ $//')"

# sign_in NAME PW: web_sign_in with the password in $T/pw-PW
sign_in() { web_sign_in "$1" "$(cat "$T/pw-$2")"; }

OUT=$(curl -s -D "$T/h" "$URL/")
check_match "GET / serves the back office page" "<title>leal back office</title>" "$OUT"
check_match "with a Content-Security-Policy allowing only its own scripts" \
    "^Content-Security-Policy: default-src 'self'; script-src 'self';" "$(tr -d '\r' <"$T/h")"
check_eq "GET /app.js is JavaScript" "200 text/javascript; charset=utf-8" \
    "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$URL/app.js")"
check_eq "the page puts server text in with textContent only (no innerHTML, no eval)" "" \
    "$(grep -nE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(' host/web/static/app.js)"
check_eq "GET /nothing is 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nothing")"
check_eq "the API without a session is 401" \
    '401 {"error":{"code":612,"name":"LEAL_E_WEB_SESSION","message":"not signed in, or the session has ended; sign in again"}}' \
    "$(req "$T/none" GET /api/customers)"

curl -s -D "$T/h" -o "$T/body" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"ana\",\"password\":\"$(cat "$T/pw-admin")\"}" "$URL/api/session" >/dev/null
check_match "sign-in sets the session cookie: HttpOnly, SameSite=Strict, not Secure without TLS" \
    "^Set-Cookie: leal_session=[0-9a-f]{64}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict$" \
    "$(tr -d '\r' <"$T/h" | grep '^Set-Cookie')"
TOKEN=$(tr -d '\r' <"$T/h" | sed -n 's/^Set-Cookie: leal_session=\([0-9a-f]*\);.*/\1/p')
check_eq "only the token's SHA-256 is kept" "1|0" \
    "$(q "select count(*) from web_session where $(sql_hex token_hash) = '$(printf %s "$TOKEN" | sha256sum | cut -c1-64)'")|$(q "select count(*) from web_session where $(sql_hex token_hash) = '$TOKEN'")"
OUT=$(sign_in ana admin)
CSRF_A=$(echo "$OUT" | jget 'd["csrf"]')
check_eq "ana signs in as admin" "200 ana admin" "$(echo "$OUT" | cut -c1-3) $(echo "$OUT" | jget 'd["user"]["name"] + " " + d["user"]["role"]')"

NEW='{"program":1,"name":"José","surname":"Núñez","email":"jose@example.com"}'
check_eq "a state change without the CSRF token is refused" \
    '403 {"error":{"code":613,"name":"LEAL_E_WEB_CSRF","message":"the request lacks this session'"'"'s CSRF token; reload the page and try again"}}' \
    "$(req "$T/jar-ana" POST /api/customers "$NEW")"
check_eq "and with another session's token" "403" \
    "$(req "$T/jar-ana" POST /api/customers "$NEW" "$(printf %064d 7)" | cut -d' ' -f1)"
check_eq "nothing was written" "1" "$(q "select count(*) from customer")"
check_eq "a form post (not JSON) is refused even with the token" "415" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-ana" -H "X-CSRF-Token: $CSRF_A" -d 'name=x' "$URL/api/customers")"
OUT=$(req "$T/jar-ana" POST /api/customers "$NEW" "$CSRF_A")
JOSE=$(echo "$OUT" | jget 'd["customer"]["id"]')
check_eq "with the token the customer is created (201)" "201 José Núñez 1 []" \
    "$(echo "$OUT" | cut -c1-3) $(echo "$OUT" | jget 'd["customer"]["name"] + " " + d["customer"]["surname"] + " " + str(d["customer"]["program"]) + " " + str(d["balances"])')"
OUT=$(req "$T/jar-ana" GET "/api/customers?q=NUNEZ")
check_eq "search ignores accents and case: NUNEZ finds Núñez" "200 [$JOSE]" \
    "$(echo "$OUT" | cut -c1-3) $(echo "$OUT" | jget '[c["id"] for c in d["customers"]]')"
check_eq "and jose finds José" "[$JOSE]" "$(req "$T/jar-ana" GET "/api/customers?q=jose" | jget '[c["id"] for c in d["customers"]]')"
ACCT=$(q "select account_id from customer where id = $JOSE")
"$LEAL" ledger post --db "$DB" --account "$ACCT" --asset EUR --amount 12,50 --reason opening \
    --operator test >/dev/null
"$LEAL" ledger post --db "$DB" --account "$ACCT" --asset PTS --amount 40 --reason welcome \
    --operator test >/dev/null
check_eq "the customer's view shows their balances" "EUR 1250 12.50 PTS 40 40" \
    "$(req "$T/jar-ana" GET "/api/customers/$JOSE" | jget '" ".join("%s %d %s" % (b["asset"], b["amount"], b["shown"]) for b in d["balances"])')"
OUT=$(req "$T/jar-ana" PUT "/api/customers/$JOSE" '{"name":"<script>alert(1)</script>"}' "$CSRF_A")
check_eq "an edit keeps the name as given, as JSON text" '200 <script>alert(1)</script>' \
    "$(echo "$OUT" | cut -c1-3) $(echo "$OUT" | jget 'd["customer"]["name"]')"
check_eq "the audit log has who, what, before and after" \
    "ana|customer.edit|customer $JOSE|José|<script>alert(1)</script>" \
    "$(q "select actor, action, object, $(jx before name), $(jx after name) from audit where action = 'customer.edit'")"
check_eq "and every change so far, in order" \
    "cli:${USER:-leal}|user.add cli:${USER:-leal}|user.add cli:${USER:-leal}|user.add cli:${USER:-leal}|user.add ana|session.sign-in ana|session.sign-in ana|customer.create ana|customer.edit" \
    "$(rows "select actor || '|' || action from audit order by id")"

OUT=$(sign_in sam staff)
CSRF_S=$(echo "$OUT" | jget 'd["csrf"]')
check_eq "staff see their store's customer" "200" "$(req "$T/jar-sam" GET "/api/customers/$JOSE" | cut -d' ' -f1)"
check_eq "staff are refused another store's customer" \
    '403 {"error":{"code":614,"name":"LEAL_E_WEB_FORBIDDEN","message":"this customer belongs to another store: this user'"'"'s role or stores do not allow that"}}' \
    "$(req "$T/jar-sam" GET "/api/customers/$BERTA")"
check_eq "and cannot edit them" "403" \
    "$(req "$T/jar-sam" PUT "/api/customers/$BERTA" '{"name":"x"}' "$CSRF_S" | cut -d' ' -f1)"
check_eq "nor create one in the other store's program" "403" \
    "$(req "$T/jar-sam" POST /api/customers '{"program":2,"name":"x"}' "$CSRF_S" | cut -d' ' -f1)"
check_eq "their search lists only their program's customers" "[$JOSE]" \
    "$(req "$T/jar-sam" GET /api/customers | jget '[c["id"] for c in d["customers"]]')"
check_eq "the admin's lists both" "[$BERTA, $JOSE]" \
    "$(req "$T/jar-ana" GET /api/customers | jget '[c["id"] for c in d["customers"]]')"
check_eq "Berta unchanged" "Berta" "$(q "select name from customer_pii where customer_id = $BERTA")"

# The dashboard: today and this month per store and in total, each figure the
# report code's (leal report activity/customers/liabilities --json, added up
# by store), and the chart the breakage report's own SVG, byte for byte.
"$LEAL" store add --db "$DB" --program 1 --code a2 --name "A two" --tz Atlantic/Reykjavik >/dev/null
"$LEAL" account add-card "$ACCT" --card-id "$JOSE" --uid 04a1b2c3d4e5f6 --tech desfire-ev2 \
    --status active --db "$DB" >/dev/null
"$LEAL" sale --card-id "$JOSE" --amount 20 --store 1 --db "$DB" >/dev/null
"$LEAL" sale --account "$ACCT" --amount 7,50 --store 3 --db "$DB" >/dev/null
"$LEAL" sale --account "$ACCT" --amount 30 --store 1 --at "@$(($(date +%s) - 86400 * 45))" --db "$DB" >/dev/null
OUT=$(req "$T/jar-ana" GET /api/dashboard)
echo "$OUT" | cut -d' ' -f2- >"$T/dash.json"
check_eq "the dashboard answers 200 for the admin" "200" "$(echo "$OUT" | cut -d' ' -f1)"
DAY0=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["today"]["from"])' "$T/dash.json")
MON0=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["month"]["from"])' "$T/dash.json")
check_eq "today is today (UTC) and the month starts on its first day" "$(date -u +%F) $(date -u +%Y-%m-01)" "$DAY0 $MON0"
for w in "today $DAY0" "month $MON0"; do
    set -- $w
    "$LEAL" report activity --program 1 --from "$2" --to "$DAY0" --db "$DB" --json >"$T/act-$1.json"
    "$LEAL" report customers --program 1 --from "$2" --to "$DAY0" --db "$DB" --json >"$T/cust-$1.json"
    for s in a1 a2; do
        "$LEAL" report customers --program 1 --store $s --from "$2" --to "$DAY0" --db "$DB" --json >"$T/cust-$1-$s.json"
    done
done
"$LEAL" report liabilities --program 1 --from "$DAY0" --to "$DAY0" --db "$DB" --json >"$T/liab.json"
check_eq "every dashboard figure is the report code's, per store and in total, today and this month" "ok" \
    "$($PY tests/integration/web_dash_check.py "$T" 2>&1)"
check_eq "today's exact figures: the desk's posts (no store), a1 1 card sale +20 points, a2 1 sale without card +7; 1 active, 1 new" \
    ":0:0:0:0 a1:1:0:0:20 a2:0:0:1:7 total:1:0:1:27:1:1" \
    "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["today"]; f=lambda s: "%d:%d:%d:%d" % (s["sales_card"], s["sales_qr"], s["sales_no_card"], s["points_issued"]); t=d["total"]; print(" ".join("%s:%s" % (s["store"], f(s)) for s in d["stores"]), "total:%s:%d:%d" % (f(t), t["active"], t["new"]))' "$T/dash.json")"
check_eq "outstanding: 27 + 30 + 40 points and 12.50 euros in the purse" "97 1250" \
    "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["liability"]; print(d["PTS"]["units"], d["EUR"]["units"])' "$T/dash.json")"
FROM12=$($PY -c 'import sys; y, m = map(int, sys.argv[1].split("-")[:2]); m -= 11
if m < 1: m += 12; y -= 1
print("%04d-%02d-01" % (y, m))' "$DAY0")
"$LEAL" report breakage --program 1 --from "$FROM12" --to "$DAY0" --svg "$T/breakage.svg" --db "$DB"
$PY -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["chart_svg"])' "$T/dash.json" >"$T/dash.svg"
check_eq "the 12-month chart is the breakage report's SVG (host/svg), byte for byte: points issued 30 then 27" "same [30.0, 27.0]" \
    "$(cmp -s "$T/breakage.svg" "$T/dash.svg" && echo same) $($PY -c 'import sys, xml.etree.ElementTree as E; g=[g for g in E.parse(sys.argv[1]).iter("{http://www.w3.org/2000/svg}g") if g.get("data-series") == "points_issued"][0]; print([float(e.get("data-value")) for e in g if e.get("data-value")])' "$T/dash.svg")"

# Cards: status and history, block and unblock with a reason (CSRF, audit), the hot list.
BCARD=$((JOSE + 100))
"$LEAL" account add-card "$(q "select account_id from customer where id = $BERTA")" --card-id "$BCARD" \
    --uid 04a1b2c3d4e5f7 --tech desfire-ev2 --status active --db "$DB" >/dev/null
check_eq "a card's page: status, kind, its first history line" "200 active desfire-ev2 active/issued" \
    "$(req "$T/jar-sam" GET "/api/cards/$JOSE" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["card"]["status"] + " " + d["card"]["tech"] + " " + d["history"][0]["status"] + "/" + d["history"][0]["reason"]')"; })"
check_eq "the card's account movements name their store's time zone (the desk's posts have none)" "['', 'Atlantic/Reykjavik']" \
    "$(req "$T/jar-sam" GET "/api/cards/$JOSE" | jget 'sorted(set(m["timezone"] for m in d["movements"]))')"
check_eq "block without the CSRF token is refused and nothing changes" "403 active" \
    "$(req "$T/jar-sam" POST "/api/cards/$JOSE" '{"block":true,"reason":"lost"}' | cut -d' ' -f1) $(q "select status from card where card_id = $JOSE")"
check_eq "block without a reason is refused" "400" \
    "$(req "$T/jar-sam" POST "/api/cards/$JOSE" '{"block":true}' "$CSRF_S" | cut -d' ' -f1)"
check_eq "staff block their store's card with a reason" "200 blocked blocked/lost at the bar/sam" \
    "$(req "$T/jar-sam" POST "/api/cards/$JOSE" '{"block":true,"reason":"lost at the bar"}' "$CSRF_S" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["card"]["status"] + " " + d["history"][-1]["status"] + "/" + d["history"][-1]["reason"] + "/" + d["history"][-1]["operator"]')"; })"
check_eq "the hot list shows it, with why" "[($JOSE, 'blocked', 'lost at the bar')]" \
    "$(req "$T/jar-sam" GET /api/hotlist | jget '[(e["card"], e["status"], e["reason"]) for e in d["hotlist"]]')"
check_eq "the audit log has the block: who, before, after with the reason" \
    "sam|card.block|card $JOSE|active|blocked|lost at the bar" \
    "$(q "select actor, action, object, $(jx before status), $(jx after status), $(jx after reason) from audit where action = 'card.block'")"
check_eq "unblock: active again, off the hot list, audited" "200 active [] 1" \
    "$(req "$T/jar-ana" POST "/api/cards/$JOSE" '{"block":false,"reason":"found"}' "$CSRF_A" | cut -d' ' -f1) $(q "select status from card where card_id = $JOSE") $(req "$T/jar-sam" GET /api/hotlist | jget '[e["card"] for e in d["hotlist"]]') $(q "select count(*) from audit where action = 'card.unblock' and actor = 'ana'")"
check_eq "staff are refused another store's card, its block and its program's hot list" "403 403 active 403" \
    "$(req "$T/jar-sam" GET "/api/cards/$BCARD" | cut -d' ' -f1) $(req "$T/jar-sam" POST "/api/cards/$BCARD" '{"block":true,"reason":"x"}' "$CSRF_S" | cut -d' ' -f1) $(q "select status from card where card_id = $BCARD") $(req "$T/jar-sam" GET "/api/hotlist?program=2" | cut -d' ' -f1)"
check_eq "the customer's view lists their cards" "[($JOSE, 'active')]" \
    "$(req "$T/jar-ana" GET "/api/customers/$JOSE" | jget '[(c["id"], c["status"]) for c in d["cards"]]')"

# Terminals: each one's store, package and last journal entry, the open
# reconciliation findings; settlement per shop of a collective for a period.
"$LEAL" terminal add --store 1 --name "till 1" --db "$DB" >/dev/null
check_eq "the terminals of program 1: till 1 at a1 (Reykjavik time), no package built, no journal taken, no findings" \
    "200 [(1, 'a1', 'Atlantic/Reykjavik', 'till 1', 0, 0, 0)] []" \
    "$(req "$T/jar-ana" GET "/api/terminals?program=1" | { read -r c b; echo "$c $(echo "0 $b" | jget '[(t["id"], t["store"], t["timezone"], t["name"], t["package_version"], t["last_entry_at"], t["entries"]) for t in d["terminals"]]') $(echo "0 $b" | jget 'd["findings"]')"; })"
"$LEAL" program create --db "$DB" --code m --name Mercado --kind collective --points-per-euro 1 >/dev/null
"$LEAL" store add --db "$DB" --program 3 --code pan --name Pan --tz Atlantic/Reykjavik >/dev/null
"$LEAL" store add --db "$DB" --program 3 --code fru --name Frutas --tz Atlantic/Reykjavik >/dev/null
"$LEAL" customer add --db "$DB" --program 3 --name Mar >/dev/null
MACC=$(q "select account_id from customer where program_id = 3")
"$LEAL" sale --account "$MACC" --amount 30 --store 4 --at 2026-11-05T10:00:00Z --db "$DB" >/dev/null
"$LEAL" sale --account "$MACC" --amount 12,50 --store 5 --at 2026-11-06T10:00:00Z --db "$DB" >/dev/null
"$LEAL" settle value --program 3 --point-value 0,02 --db "$DB" >/dev/null
"$LEAL" report settlement --program 3 --from 2026-11-01 --to 2026-11-30 --db "$DB" --json >"$T/settle.json"
req "$T/jar-ana" GET "/api/settlement?program=3&from=2026-11-01&to=2026-11-30" | cut -d' ' -f2- >"$T/settle-web.json"
check_eq "settlement for November per shop: every row the settlement report's (euros in cents)" "ok" \
    "$($PY -c 'import json,sys
w = json.load(open(sys.argv[2])); r = json.load(open(sys.argv[1]))["parts"]["settlement"]
for x in r:
    for k in ("purse_loaded", "purse_spent", "balance"): x[k] = round(x[k] * 100)
print("ok" if w["rows"] == r and w["collective"] else "%s != %s" % (w["rows"], r))' "$T/settle.json" "$T/settle-web.json" 2>&1)"
check_eq "the bakery collected 30 points and owes 0.60 (balance -60), the fruit shop 12 and owes 0.24" "pan 30 -60 fru 12 -24" \
    "$($PY -c 'import json,sys; print(" ".join("%s %d %d" % (x["store"], x["points_collected"], x["balance"]) for x in json.load(open(sys.argv[1]))["rows"] if x["row"] == "shop"))' "$T/settle-web.json")"
check_eq "a chain is not settled: the answer says it is no collective" "200 False []" \
    "$(req "$T/jar-ana" GET "/api/settlement?program=1" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["collective"]') $(echo "0 $b" | jget 'd["rows"]')"; })"
check_eq "a date that is not one is refused" "400 LEAL_E_DATE" \
    "$(req "$T/jar-ana" GET "/api/settlement?program=3&from=2026-13-01" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["error"]["name"]')"; })"
sign_in mia manager >/dev/null
CSRF_M=$(req "$T/jar-mia" GET /api/me | jget 'd["csrf"]')
check_eq "a manager is refused another program's terminals" "403" \
    "$(req "$T/jar-mia" GET "/api/terminals?program=3" | cut -d' ' -f1)"

# Promotions: the rule set as the ledger keeps it; a change simulated on past
# sales (the numbers `leal rules simulate` gives) before it is saved.
"$LEAL" rule add --program 1 --id "$JOSE" --bonus 5 --name "Bonus 5" --reason "test" --db "$DB" >/dev/null
"$LEAL" tier add --program 1 --name Gold --threshold 100 --multiplier 1,5 --reason test --db "$DB" >/dev/null
"$LEAL" reward add --program 1 --name Coffee --kind product --cost 50 --value 7 --reason test --db "$DB" >/dev/null
check_eq "the rules page: version, the rule, the tier, the reward" "200 3 [($JOSE, 'Bonus 5', 'bonus', 5)] [('Gold', 100, 1500)] [('Coffee', 50)]" \
    "$(req "$T/jar-mia" GET /api/rules | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | jget '[(x["id"], x["name"], x["kind"], x["bonus_points"]) for x in d["rules"]["rules"]]') $(echo "0 $b" | jget '[(x["name"], x["threshold_euros"], x["multiplier_milli"]) for x in d["rules"]["tiers"]]') $(echo "0 $b" | jget '[(x["name"], x["cost_points"]) for x in d["rules"]["rewards"]]')"; })"
"$LEAL" rules simulate --program 1 --from "$MON0" --to "$DAY0" --db "$DB" --json >"$T/sim-now.json"
SIM=$(req "$T/jar-mia" POST /api/rules/simulate "{\"rule\":$JOSE,\"bonus_points\":50,\"from\":\"$MON0\",\"to\":\"$DAY0\"}" "$CSRF_M")
check_eq "the simulation writes nothing and gives the CLI's real and current-rules points" \
    "200 3 $($PY -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["real_points"], t["sim_points"])' "$T/sim-now.json")" \
    "$(echo "$SIM" | cut -d' ' -f1) $(req "$T/jar-mia" GET /api/rules | jget 'd["rules"]["version"]') $(echo "$SIM" | jget '"%d %d" % (d["real_points"], d["current_rules_points"])')"
check_eq "a rule that is not there cannot be simulated" "404" \
    "$(req "$T/jar-mia" POST /api/rules/simulate "{\"rule\":999,\"bonus_points\":50,\"from\":\"$MON0\",\"to\":\"$DAY0\"}" "$CSRF_M" | cut -d' ' -f1)"
check_eq "saving needs a reason" "400" "$(req "$T/jar-mia" PUT "/api/rules/$JOSE" '{"bonus_points":50}' "$CSRF_M" | cut -d' ' -f1)"
check_eq "saved: version 4 with the rule at +50" "200 4 50" \
    "$(req "$T/jar-mia" PUT "/api/rules/$JOSE" '{"bonus_points":50,"reason":"christmas"}' "$CSRF_M" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["rules"]["version"]') $(echo "0 $b" | jget 'd["rules"]["rules"][0]["bonus_points"]')"; })"
"$LEAL" rules simulate --program 1 --from "$MON0" --to "$DAY0" --db "$DB" --json >"$T/sim-after.json"
check_eq "what the page showed before saving is what the saved rules give" \
    "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["sim_points"])' "$T/sim-after.json")" \
    "$(echo "$SIM" | jget 'd["with_change_points"]')"
check_eq "the rule history and the audit log name who and why" "mia|christmas|rules.edit|5|50" \
    "$(q "select operator || '|' || reason from rule_set where program_id = 1 and version = 4")|$(q "select action, $(jx before bonus_points), $(jx after bonus_points) from audit where action = 'rules.edit'")"
check_eq "staff cannot open the rules nor simulate nor save (the API refuses)" "403 403 403" \
    "$(req "$T/jar-sam" GET /api/rules | cut -d' ' -f1) $(req "$T/jar-sam" POST /api/rules/simulate "{\"rule\":$JOSE,\"bonus_points\":1,\"from\":\"$MON0\",\"to\":\"$DAY0\"}" "$CSRF_S" | cut -d' ' -f1) $(req "$T/jar-sam" PUT "/api/rules/$JOSE" '{"bonus_points":1,"reason":"x"}' "$CSRF_S" | cut -d' ' -f1)"


# Every route of the role table, with no session and as each role.
sign_in mia manager >/dev/null
CSRF_M=$(req "$T/jar-mia" GET /api/me | jget 'd["csrf"]')
declare -A CSRF=([admin]=$CSRF_A [manager]=$CSRF_M [staff]=$CSRF_S)
declare -A JAR=([admin]=$T/jar-ana [manager]=$T/jar-mia [staff]=$T/jar-sam)
# A customer's portal session (the portal's sign-in by link is portal_e2e.sh's):
# its cookie kept for every path, so it is sent to the back office's routes too.
PORTAL_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORTAL_CSRF=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
NOW_S=$(date +%s)
q "insert into portal_session values ($(sql_blob "$(printf %s "$PORTAL_TOKEN" | sha256sum | cut -c1-64)"), $JOSE, '$PORTAL_CSRF', $NOW_S, $((NOW_S + 3600)))" >/dev/null
printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tleal_portal\t%s\n' "$PORTAL_TOKEN" >"$T/jar-portal"
CSRF[customer]=$PORTAL_CSRF
JAR[customer]=$T/jar-portal
ROUTES=$("$LEAL" serve --routes | sort -k1,1 | grep -v '^DELETE /\(portal/\)\?api/session'; "$LEAL" serve --routes | grep '^DELETE /portal/api/session'; "$LEAL" serve --routes | grep '^DELETE /api/session')
# A staff member the walk's user routes change (and leave as they were).
"$LEAL" user add wally --role staff --store 1 --password-file "$T/pw-rob" --db "$DB" >/dev/null
WALLY=$(q "select id from web_user where name = 'wally'")
# The customer-care routes change what they name once (web_care.sh has their
# details): each role edits and deletes a note of its own, records the
# erasure request of a customer of its own, and the admin erases a customer
# whose request is pending; POST /api/me keeps each user's language.
declare -A PER=() LANG_OF=()
for role in admin manager staff; do
    who=${JAR[$role]##*jar-}
    uid=$(q "select id from web_user where name = '$who'")
    LANG_OF[$role]=$(q "select lang from web_user where id = $uid")
    for m in PUT DELETE; do
        n=$(q "insert into customer_note(customer_id, at, author, text, user_id) values ($JOSE, 1, '$who', 'walk', $uid) returning id")
        PER["$m /api/notes/:id $role"]=/api/notes/$n
    done
    "$LEAL" customer add --db "$DB" --program 1 --name "Walk $role" >/dev/null
    walker=$(q "select max(id) from customer")
    PER["POST /api/customers/:id/erasure $role"]=/api/customers/$walker/erasure
    # A household of two cards, one of which the role detaches.
    for k in 1 2; do
        card=$((880000 + walker * 10 + k))
        "$LEAL" account add-card "$(q "select id from account where customer_id = $walker")" \
            --card-id "$card" --uid "04$(printf '%012x' "$card")" --tech desfire-ev2 --status active \
            --db "$DB" >/dev/null
    done
    PER["POST /api/cards/:id/detach $role"]=/api/cards/$card/detach
done
"$LEAL" customer add --db "$DB" --program 1 --name "Walk erase" >/dev/null
WALK_ERASE=$(q "select max(id) from customer")
q "insert into erasure_request(customer_id, asked_on, channel, recorded_by, recorded_at) values ($WALK_ERASE, '2026-01-01', 'desk', 'walk', 1)"
PER["POST /api/customers/:id/erase admin"]=/api/customers/$WALK_ERASE/erase
check_eq "the role table lists 33 routes and the portal's 11" "33 11" \
    "$(echo "$ROUTES" | grep -c ' /api/') $(echo "$ROUTES" | grep -c ' /portal/api/')"
WRONG=""
while read -r method path roles kind; do
    p=${path//:id/$JOSE}
    body=""
    case $method in POST | PUT) body='{}' ;; esac
    [ "$path" = /api/session ] && [ "$method" = POST ] && body='{"name":"walker","password":"x"}'
    [ "$path" = /portal/api/link ] && body='{"email":"walker@example.org"}'
    # (A reset request counts against the address's limit as a wrong sign-in: asked without a name, 400.)
    [ "$path" = /api/password/reset ] && body='{"token":"'$(printf '%064d' 0)'","password":"walk password 1"}'
    [ "$path" = /portal/api/session ] && [ "$method" = POST ] && body="{\"token\":\"$PORTAL_CSRF\"}"
    [ "$path" = /portal/api/pin ] && body='{"card":"1","pin":"0000"}'
    [ "$path" = /portal/api/redeem ] && body='{"reward":1,"key":"walk-walk-walk-walk"}'
    [ "$path" = /portal/api/spend ] && [ "$method" = POST ] && body='{"public_key":"'$(printf '%064d' 0)'"}'
    [ "$path" = /api/customers ] && [ "$method" = POST ] && body='{"program":1,"name":"Walk"}'
    [ "$path" = /api/cards/:id ] && [ "$method" = POST ] && body='{"block":true,"reason":"walk"}'
    [ "$path" = /api/rules/simulate ] && body="{\"rule\":$JOSE,\"bonus_points\":5,\"from\":\"$MON0\",\"to\":\"$DAY0\"}"
    [ "$path" = /api/rules/:id ] && body='{"bonus_points":5,"reason":"walk"}'
    [ "$path" = /api/users ] && [ "$method" = POST ] && body='{"name":"walk-@ROLE@","password":"walk password 1","role":"staff","stores":[1]}'
    [ "$path" = /api/users/:id ] && p=${path//:id/$WALLY}
    [ "$path" = /api/users/:id ] && [ "$method" = PUT ] && body='{"role":"staff","stores":[1]}'
    [ "$path" = /api/users/:id ] && [ "$method" = POST ] && body='{"disabled":false}'
    [ "$path" = /api/users/:id/email ] && p=${path//:id/$WALLY} && body='{"email":"wally@example.org"}'
    [ "$path" = /api/catalogue/simulate ] && body="{\"part\":\"tier\",\"id\":1,\"multiplier_milli\":1500,\"from\":\"$MON0\",\"to\":\"$DAY0\"}"
    [ "$path" = /api/catalogue ] && body='{"part":"tier","id":1,"multiplier_milli":1500,"reason":"walk"}'
    [ "$path" = /api/customers/:id/notes ] && body='{"text":"walk"}'
    [ "$path" = /api/notes/:id ] && [ "$method" = PUT ] && body='{"text":"walked"}'
    [ "$path" = /api/customers/:id/erasure ] && body='{"asked_on":"2026-01-01","channel":"desk"}'
    [ "$path" = /api/customers/:id/erase ] && body='{"cards":"keep"}'
    [ "$path" = /api/me ] && [ "$method" = POST ] && body='{"lang":"@LANG@"}'
    [ "$path" = /api/cards/:id/detach ] && body='{"reason":"walk"}'
    code=$(req "$T/none" "$method" "$p" "$body" | cut -d' ' -f1)
    if [ "$roles" = public ]; then [ "$code" = 401 ] && [ "$method" != POST ] && WRONG+=" none:$method:$path:$code"
    else [ "$code" = 401 ] || WRONG+=" none:$method:$path:$code"; fi
    for role in admin manager staff customer; do
        # (A public route's wrong sign-in counts against the address's limit: not a fifth time.)
        [ "$role" = customer ] && [ "$roles" = public ] && continue
        rbody=${body//@ROLE@/$role}
        rbody=${rbody//@LANG@/${LANG_OF[$role]:-en}}
        code=$(req "${JAR[$role]}" "$method" "${PER["$method $path $role"]:-$p}" "$rbody" "${CSRF[$role]}" | cut -d' ' -f1)
        if [[ ",$roles," == *",$role,"* ]]; then
            # (This server has no QR certifier: a phone's enrolment is 503, qr_certifier.sh's.)
            [ "$method $path $code" = "POST /portal/api/spend 503" ] && continue
            case $code in 2??) ;; *) WRONG+=" $role:$method:$path:$code" ;; esac
        elif [ "$roles" = customer ] || [ "$role" = customer ] && [ "$roles" != public ]; then
            # A staff session is no portal session, nor the other way round.
            [ "$code" = 401 ] || WRONG+=" $role:$method:$path:$code"
        elif [ "$roles" != public ]; then
            [ "$code" = 403 ] || WRONG+=" $role:$method:$path:$code"
        fi
    done
done <<<"$ROUTES"
check_eq "every route: 401 without a session; 2xx for the roles it lists (customer: a portal session; a phone's enrolment 503, this server has no QR certifier), 403 for the other staff roles, 401 for a staff session on a portal route and for a portal session on a staff route" "" "$WRONG"
check_eq "the portal session was ended by the walk's sign-out" 0 \
    "$(q "select count(*) from portal_session where customer_id = $JOSE")"
check_eq "signed out (the walk's last route), the admin's session is gone" "401" \
    "$(req "$T/jar-ana" GET /api/me | cut -d' ' -f1)"

sign_in sam staff >/dev/null
check_eq "staff signed in again" "200" "$(req "$T/jar-sam" GET /api/me | cut -d' ' -f1)"
run_capture "$LEAL" user disable sam --db "$DB"
check_eq "leal user disable ends the user's sessions" "0|user 'sam' disabled; their sessions ended|401" \
    "$RC|$OUT|$(req "$T/jar-sam" GET /api/me | cut -d' ' -f1)"
check_eq "and they cannot sign in" "401" "$(sign_in sam staff | cut -d' ' -f1)"
check_match "leal user list shows it" "^1 +sam +staff +en +stores 1 \(disabled\)$" "$("$LEAL" user list --db "$DB" | head -1)"

# The sixth wrong password in a minute: per account (from three addresses) and per address.
from() { curl -s -o /dev/null -w '%{http_code}' --interface "$1" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"$2\",\"password\":\"$3\"}" "$URL/api/session"; }
CODES=""
for a in 2 3 2 3 2; do CODES+="$(from 127.0.0.$a rob 'wrong password') "; done
check_eq "five wrong passwords for rob: 401 each" "401 401 401 401 401 " "$CODES"
check_eq "the sixth attempt in the minute is refused, even with the right password, from a new address" \
    "429" "$(from 127.0.0.4 rob "$(cat "$T/pw-rob")")"
check_eq "another user from an address with three failures still signs in" "200" \
    "$(from 127.0.0.2 mia "$(cat "$T/pw-manager")")"
CODES=""
for _ in 1 2; do CODES+="$(from 127.0.0.2 nobody 'wrong password') "; done
check_eq "two more failures from 127.0.0.2 (five there): then any user from it is refused" "401 401 429" \
    "$CODES$(from 127.0.0.2 mia "$(cat "$T/pw-manager")")"

# leal user passwd: the new password signs in, the old one no longer (from an
# address of its own, apart from the limits above).
printf 'wally new password 1\n' >"$T/pw-wally"
run_capture "$LEAL" user passwd wally --password-file "$T/pw-wally" --db "$DB"
check_eq "leal user passwd sets a new password, exit 0, one line" "0 1" "$RC $(printf '%s\n' "$OUT" | wc -l)"
check_eq "then the old password is refused and the new one signs in" "401 200" \
    "$(from 127.0.0.7 wally "$(cat "$T/pw-rob")") $(from 127.0.0.7 wally "$(cat "$T/pw-wally")")"

# Times kept without a store (card status changes, the hot list, the audit
# log) come with the zone of the program's stores when they share one.
# (Sign-ins from addresses the rate-limit checks above did not use.)
sign_in_at() { curl -s -w ' %{http_code}' --interface "$3" -c "$T/jar-$1" -b "$T/jar-$1" \
    -H 'Content-Type: application/json' --data-binary "{\"name\":\"$1\",\"password\":\"$(cat "$T/pw-$2")\"}" \
    "$URL/api/session" | $PY -c 'import json,sys; b, c = sys.stdin.read().rsplit(" ", 1); print(c, b)'; }
sign_in_at ana admin 127.0.0.6 >/dev/null
check_eq "card view, hot list and audit log name the stores' one zone" "Atlantic/Reykjavik Atlantic/Reykjavik Atlantic/Reykjavik" \
    "$(req "$T/jar-ana" GET "/api/cards/$JOSE" | jget 'd["timezone"]') $(req "$T/jar-ana" GET /api/hotlist | jget 'd["timezone"]') $(req "$T/jar-ana" GET /api/audit | jget 'd["timezone"]')"
"$LEAL" store add --db "$DB" --program 2 --code b2 --name "B two" --tz Atlantic/Canary >/dev/null
check_eq "with two zones among the stores: none for the audit log and program 2; program 1 keeps its own" \
    "Atlantic/Reykjavik||" \
    "$(req "$T/jar-ana" GET "/api/cards/$JOSE" | jget 'd["timezone"]')|$(req "$T/jar-ana" GET /api/audit | jget 'd["timezone"]')|$(req "$T/jar-ana" GET /api/hotlist?program=2 | jget 'd["timezone"]')"
# Languages: English unless told (program 1 was created without --locale).
check_eq "a user's language comes with the session: en" "en" "$(sign_in_at mia manager 127.0.0.7 | jget 'd["user"]["lang"]')"
run_capture "$LEAL" user set mia --lang es --db "$DB"
check_eq "leal user set --lang es ends mia's sessions" "0|user 'mia': language es; their sessions ended|401" \
    "$RC|$OUT|$(req "$T/jar-mia" GET /api/me | cut -d' ' -f1)"
check_eq "her next session is in Spanish, and the audit log says who changed it" "es|user.lang|{\"lang\":\"es\"}" \
    "$(sign_in_at mia manager 127.0.0.7 | jget 'd["user"]["lang"]')|$(q "select action || '|' || after from audit where action = 'user.lang' order by id desc limit 1")"
run_capture "$LEAL" user set mia --lang fr --db "$DB"
check_eq "another language is refused" "2|leal: leal user set NAME needs --lang en or es (see 'leal --help')" "$RC|$ERR"
run_capture "$LEAL" program create --db "$DB" --code zz --name Z --locale fr
check_eq "so is a program locale other than en or es, and nothing is written" "2|0" "$RC|$(q "select count(*) from program where code = 'zz'")"

kill "$SERVE_PID"
wait "$SERVE_PID"
check_eq "SIGTERM stops the server cleanly" "0|stopped (signal 15)" "$?|$(tail -1 "$T/serve.out")"
check_eq "nothing on its stderr" "" "$(cat "$T/serve.err")"

# Under TLS the cookie is Secure.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout "$T/key.pem" \
    -out "$T/cert.pem" >/dev/null 2>&1
web_start tls --db "$DB" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
TURL=$URL
check_match "with --tls-cert it listens on https" "^https://127\.0\.0\.1:[0-9]+$" "$TURL"
curl -s -k -D "$T/h" -o /dev/null -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"mia\",\"password\":\"$(cat "$T/pw-manager")\"}" "$TURL/api/session"
check_match "and the session cookie is Secure" \
    "^Set-Cookie: leal_session=[0-9a-f]{64}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$" \
    "$(tr -d '\r' <"$T/h" | grep '^Set-Cookie')"

# A program that serves the books links no key code.
case "$LEAL_BUILD" in *asan*) SAN="-fsanitize=address,undefined" ;; *) SAN= ;; esac
PKGS="libpcsclite libnfc libcrypto sqlite3 libqrencode libpng jansson zbar libjpeg libmicrohttpd libargon2 xlsxwriter libcurl libpq"
cat >"$T/web.c" <<'EOC'
#include <stdio.h>
#include "host/books/books.h"
#include "host/web/web_server.h"
int main(int argc, char **argv)
{
    struct books_where where;
    struct web_server_options o = {"127.0.0.1:0", NULL, NULL, argv[1], NULL};
    struct web_server *s;
    struct ledger *l;
    unsigned port;
    if (argc != 2 || books_open(argv[1], false, &l, &where) != LEAL_OK)
        return 2;
    if (web_server_start(l, &o, &s, &port) != LEAL_OK)
        return 1;
    printf("%s\n", port > 0 ? "serving" : "no port");
    web_server_stop(s);
    ledger_close(l);
    return 0;
}
EOC
OUT=$(cc -std=c11 -D_POSIX_C_SOURCE=200809L -I. $(pkg-config --cflags $PKGS) $SAN -o "$T/web" "$T/web.c" \
    "$LEAL_BUILD/libleal.a" $(pkg-config --libs $PKGS) -lutil 2>&1)
check_eq "a program that serves the books (host/web) links against libleal.a" "0|" "$?|$OUT"
run_capture "$T/web" "$DB"
check_eq "and serves" "0|serving" "$RC|$OUT"
check_eq "with no symbol of the keystore, key files, locked key memory or the desk's keys" "" \
    "$(nm "$T/web" | grep -Eo '\b(keystore_[a-z_]+|keyfile_[a-z_]+|secmem_[a-z_]+|passphrase_[a-z_]+|desk_keys_[a-z_]+)\b' | sort -u | tr '\n' ' ')"
finish
