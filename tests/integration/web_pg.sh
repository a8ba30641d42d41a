#!/bin/bash
# web_pg.sh - `leal serve` on a PostgreSQL ledger (issue 20), on a private
# PostgreSQL 15 cluster this script starts (tests/lib/pg.sh) and stops. The
# cases of web_serve.sh (sign-in, customers, search, the account view, posts,
# the dashboard's figures against `leal report`, cards blocked and
# unblocked, terminals, a collective's settlement, the rules and their
# simulation, every route of the role table as each role and as a portal
# customer, sessions ended, sign-in limits, users' languages, TLS),
# of web_dash_cache.sh (the kept dashboard answer: the same while nothing
# commits, a post by another process and a write through the server shown
# at once, under steady writes none older than its request), of
# terminal_net.sh (a journal uploaded over HTTPS once, cut at every KiB and
# retried, a wrong pin, a foreign journal key and a replay refused) and of
# messages_web_unsub.sh (the messages' unsubscribe links) run
# there with LEAL_TEST_BACKEND=pg, each in a database of its own on this
# cluster and all four at once, with the same exact expectations as on
# SQLite. Then, on a server of its own: the dashboard's version
# (ledger_version) raised by a committed write and not by a refused one;
# the cluster stopped under the running server: every request 503 with one
# line saying why (the API, the dashboard's thread, the terminals' route),
# the server still up; the cluster started again: the next requests
# answered on a new connection, the session and the books as they were;
# the back office's erasure carried out on a new SQLite file and on a new
# database alike (the request closed and audited, the audit log's personal
# data emptied to the same text, `leal customer erase` closing a request);
# `leal qr certifier` (no ledger) not refused.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh
source tests/lib/backend.sh

web_fixture webpg
backend_pg_start || {
    finish
    exit
}
trap 'web_cleanup; pg_stop' EXIT

# The three suites at once, each a database of this cluster.
SUITES=()
for s in web_serve web_dash_cache terminal_net messages_web_unsub; do
    (T_PASS=0 T_FAIL=0
        LEAL_TEST_PG_HOST=$PG_DIR backend_pg_suites "$s" >"$T/$s.log" 2>&1
        echo "$T_PASS $T_FAIL" >"$T/$s.count") &
    SUITES+=($!)
done

DB=$LEAL_TEST_PG
BK=pg
"$LEAL" ledger init --db "$DB" >/dev/null
"$LEAL" program create --db "$DB" --code a --name "Shop A" >/dev/null
"$LEAL" store add --db "$DB" --program 1 --code a1 --name "A one" --tz UTC >/dev/null
ACCT=$("$LEAL" customer add --db "$DB" --program 1 --name Eva --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])')
printf 'admin password 1\n' >"$T/pw"
web_start serve --db "$DB" --init-admin ana --password-file "$T/pw"
CSRF=$(web_sign_in ana "admin password 1" | web_csrf)
version() { q "select n from ledger_version"; }

V0=$(version)
"$LEAL" ledger post --db "$DB" --account "$ACCT" --asset PTS --amount 5 --reason gift --operator t >/dev/null
V1=$(version)
run_capture "$LEAL" ledger post --db "$DB" --account "$ACCT" --asset PTS --amount -50 --reason x --operator t
check_eq "pg: a committed post raises ledger_version by one; a refused one (exit 2, overspend) leaves it" \
    "1|2|0" "$((V1 - V0))|$RC|$(($(version) - V1))"
check_eq "pg: the dashboard shows the post" "200 5" \
    "$(req "$T/jar-ana" GET "/api/dashboard?program=1" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["liability"]["PTS"]["units"]')"; })"

check_eq "pg: an unsubscribe link runs there: an unknown token is a 404, one line" \
    "404 not found: no message carries that unsubscribe link" \
    "$(curl -s -w '%{http_code} ' -o "$T/u" "$URL/unsubscribe/0123456789abcdef0123456789abcdef" | tr -d '\n')$(cat "$T/u")"

# The back office's erasure (web_care.sh's on SQLite) on a new SQLite file and on a new database
# of the cluster, each with a server of its own, the same exact expectations: the request
# recorded, then carried out from the page with the cards blocked; the audit log's personal data
# emptied (a note's text, the page's edit's fields, a card holder's name) in the same text on
# both; the request done with its audit line; a second erasure refused; `leal customer erase`
# closing a request recorded on the page, audited from the command line.
erase_case() { # LABEL DB
    local n=$1 db=$2 keep_url=$URL keep_pid=$WEB_PID csrf at made j=$T/jar-care-$1
    eq() { case $db in postgresql://*) "$PG_BIN/psql" "$db" -qAtX -c "$1" ;; *) sqlite3 "$db" "$1" ;; esac }
    "$LEAL" ledger init --db "$db" >/dev/null
    "$LEAL" program create --db "$db" --code a --name "Shop A" >/dev/null
    "$LEAL" store add --db "$db" --program 1 --code a1 --name "A one" --tz UTC >/dev/null
    "$LEAL" customer add --db "$db" --program 1 --name Rosa >/dev/null
    "$LEAL" customer add --db "$db" --program 1 --name Nuria >/dev/null
    "$LEAL" account add-card 11 --card-id 9001 --uid 04a1b2c3d4e501 --tech desfire-ev2 \
        --status active --db "$db" >/dev/null
    "$LEAL" card holder 9001 "Rosa's son" --db "$db" >/dev/null
    web_start "care-$n" --db "$db" --init-admin ana --password-file "$T/pw"
    csrf=$(req "$j" POST /api/session '{"name":"ana","password":"admin password 1"}' | web_csrf)
    req "$j" POST /api/customers/1/notes '{"text":"allergic to nuts"}' "$csrf" >/dev/null
    req "$j" PUT /api/customers/1 '{"email":"rosa@example.org","phone":"+34 611 222 333"}' \
        "$csrf" >/dev/null
    check_eq "$n: the erasure request recorded" "201 true" \
        "$(req "$j" POST /api/customers/1/erasure '{"asked_on":"2026-12-01","channel":"email"}' "$csrf" | { read -r c b; echo "$c $(echo "0 $b" | jget 'str(d["erasure"]["pending"]).lower()')"; })"
    check_eq "$n: the erasure carried out from the page: 200, done by ana, the erasure's note" \
        "200 False ana [\"personal data erased at the customer's request (leal customer erase); cards blocked by decision: 1\"]" \
        "$(req "$j" POST /api/customers/1/erase '{"cards":"block"}' "$csrf" | { read -r c b; echo "$c $(echo "0 $b" | jget '"%s %s %s" % (d["erasure"]["pending"], d["erasure"]["done_by"], [x["text"] for x in d["notes"]])')"; })"
    at=$(eq "SELECT erased_at FROM customer WHERE id = 1")
    made=$(eq "SELECT created_at FROM customer WHERE id = 1")
    check_eq "$n: the customer erased, the card blocked, the request done then" \
        "|blocked|ana|$at|customer erased: cards blocked by decision" \
        "$(eq "SELECT name FROM customer_pii WHERE customer_id = 1")|$(eq "SELECT status FROM card WHERE card_id = 9001")|$(eq "SELECT done_by || '|' || done_at FROM erasure_request")|$(eq "SELECT reason FROM card_event WHERE card_id = 9001 ORDER BY id DESC LIMIT 1")"
    check_eq "$n: audited: customer.erase by ana, the request before, the erasure after" \
        "ana|1|customer 1|{\"request\":1,\"asked_on\":\"2026-12-01\",\"channel\":\"email\",\"recorded_by\":\"ana\",\"done_at\":null}|{\"erased_at\":$at,\"done_by\":\"ana\"}" \
        "$(eq "SELECT actor || '|' || user_id || '|' || object || '|' || before || '|' || after FROM audit WHERE action = 'customer.erase'")"
    check_eq "$n: the audit log's personal data emptied, its lines kept" \
        "card.holder||{\"holder\":\"\"}
customer.note.add||{\"author\":\"ana\",\"note\":1,\"text\":\"\"}
customer.edit|{\"account\":11,\"address\":\"\",\"birth_date\":\"\",\"created_at\":$made,\"email\":\"\",\"gender\":\"\",\"id\":1,\"name\":\"\",\"phone\":\"\",\"preferences\":\"\",\"program\":1,\"surname\":\"\"}|{\"account\":11,\"address\":\"\",\"birth_date\":\"\",\"created_at\":$made,\"email\":\"\",\"gender\":\"\",\"id\":1,\"name\":\"\",\"phone\":\"\",\"preferences\":\"\",\"program\":1,\"surname\":\"\"}" \
        "$(eq "SELECT action || '|' || coalesce(before, '') || '|' || coalesce(after, '') FROM audit WHERE action IN ('card.holder', 'customer.note.add', 'customer.edit') ORDER BY id")"
    check_eq "$n: a second erasure: 409, nothing pending" "409" \
        "$(req "$j" POST /api/customers/1/erase '{"cards":"keep"}' "$csrf" | cut -d' ' -f1)"
    req "$j" POST /api/customers/2/erasure '{"asked_on":"2026-12-04","channel":"post"}' "$csrf" >/dev/null
    run_capture "$LEAL" customer erase 2 --confirm --cards keep --operator Marta --db "$db"
    check_eq "$n: leal customer erase marks the pending request done, audited from the command line" \
        "0|Marta|1|customer.erase|Marta|" \
        "$RC|$(eq "SELECT done_by || '|' || (done_at > 0)::int FROM erasure_request WHERE customer_id = 2" 2>/dev/null || eq "SELECT done_by || '|' || (done_at > 0) FROM erasure_request WHERE customer_id = 2")|$(eq "SELECT action || '|' || actor || '|' || coalesce(CAST(user_id AS TEXT), '') FROM audit WHERE action = 'customer.erase' AND object = 'customer 2'")"
    kill "$WEB_PID"
    wait "$WEB_PID"
    URL=$keep_url WEB_PID=$keep_pid
}
erase_case sqlite "$T/care.db"
erase_case pg "$(backend_pg_db care)"
LEAL_DB=$DB run_capture "$LEAL" qr certifier --socket "$T/qr.sock" --keystore "$T/none"
check_nomatch "pg: leal qr certifier (it reads no ledger) is not refused with LEAL_DB on PostgreSQL" \
    "PostgreSQL" "$RC|$ERR"

# The suites done, the cluster goes away under the running server, then
# comes back.
wait "${SUITES[@]}"
pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
A1=$(req "$T/jar-ana" GET "/api/customers/1")
A2=$(req "$T/jar-ana" GET "/api/customers/1")
check_match "pg: server gone: the API's next request is 503, LEAL_E_PG_CONNECT" \
    '^503 \{"error":\{"code":761,"name":"LEAL_E_PG_CONNECT","message":".*PostgreSQL.*"\}\}$' "$A1"
check_match "pg: and the next one too (no server to connect to), naming the socket" \
    '^503 \{"error":\{"code":761,"name":"LEAL_E_PG_CONNECT","message":"the PostgreSQL server does not answer: .*socket.*"\}\}$' "$A2"
check_eq "pg: each reason one line" "1 1" \
    "$(echo "$A1" | jget 'd["error"]["message"]' | wc -l) $(echo "$A2" | jget 'd["error"]["message"]' | wc -l)"
check_match "pg: the dashboard too: 503, LEAL_E_PG_CONNECT" \
    '^503 \{"error":\{"code":761,"name":"LEAL_E_PG_CONNECT"' "$(req "$T/jar-ana" GET "/api/dashboard?program=1")"
check_eq "pg: the server is still running, nothing on its stderr" "up|" \
    "$(kill -0 "$WEB_PID" && echo up)|$(cat "$T/serve.err")"
pg_up
check_eq "pg: server back: the same session's requests answered again, the dashboard's thread too (both reconnected)" "200 Eva 200 5" \
    "$(req "$T/jar-ana" GET "/api/customers/1" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["customer"]["name"]')"; }) $(req "$T/jar-ana" GET "/api/dashboard?program=1" | { read -r c b; echo "$c $(echo "0 $b" | jget 'd["liability"]["PTS"]["units"]')"; })"
check_eq "pg: a write through the server lands once, audited" "201|2|ana|customer.create" \
    "$(req "$T/jar-ana" POST /api/customers '{"program":1,"name":"Luz"}' "$CSRF" | cut -d' ' -f1)|$(q "select count(*) from customer")|$(q "select actor || '|' || action from audit order by id desc limit 1")"

kill "$WEB_PID"
wait "$WEB_PID"
check_eq "pg: SIGTERM stops the server, nothing on its stderr" "0|stopped (signal 15)|" \
    "$?|$(tail -n 1 "$T/serve.out")|$(cat "$T/serve.err")"
for s in web_serve web_dash_cache terminal_net messages_web_unsub; do
    cat "$T/$s.log"
    read -r p f <"$T/$s.count" || { p=0 f=1; }
    T_PASS=$((T_PASS + p))
    T_FAIL=$((T_FAIL + f))
done
finish
