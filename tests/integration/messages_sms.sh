#!/bin/bash
# messages_sms.sh - SMS through an HTTP gateway (issue 17): `leal messages
# gateway set` stores a program's webhook (URL, header lines with a secret
# read from a 0600 file, a JSON body template), and `leal messages run` sends
# the occasions' messages through it to a real HTTP receiver on 127.0.0.1
# (tests/lib/http_sink.py, which records each request): the exact body (a
# name with quotes JSON-escaped), the secret in its header and never printed,
# only customers with SMS consent and a phone, a 500 then a 200 giving one
# delivery and no duplicate on later runs, and the message's unsubscribe link
# answered by a real `leal serve` (withdrawing SMS consent).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-msgsms-XXXXXX)
SINK_PID=
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester

"$LEAL" program create --db "$DB" --code sol --name "Sol" --id 7 --locale es >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 7 --code c1 --name Centro --tz Europe/Madrid >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/http_sink.py --dir "$T/inbox" --port-file "$T/port" --answers 500,200 --lifetime 120 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
GW="http://127.0.0.1:$(cat "$T/port")/send"
"$LEAL" serve --listen 127.0.0.1:0 --db "$DB" >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")

# add NAME PHONE [CHANNEL]: a customer, with that channel's consent granted.
add() {
    local id
    id=$("$LEAL" customer add --db "$DB" --program 7 --name "$1" --phone "$2" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    [ -n "${3:-}" ] && { "$LEAL" customer consent "$id" --db "$DB" --channel "$3" --granted yes \
        --method form --by staff >/dev/null || exit 1; }
    echo "$id"
}
ANA=$(add 'Ana "La Rubia"' '+34 600 111 222' sms)
BEA=$(add Bea '+34 600 333 444' email)
CARLOS=$(add Carlos '' sms)
printf 'Hola {{name}}, bienvenida a {{program}}.\n' >"$T/es.txt"
"$LEAL" messages template --db "$DB" --program 7 --occasion welcome --days 2 \
    --subject Bienvenida --text "$T/es.txt" >/dev/null || exit 1
printf '{"to": "{{phone}}", "text": "{{text}}", "channel": "{{channel}}"}\n' >"$T/body.json"
printf 'Authorization: Bearer {{secret}}\nX-Shop: sol\n' >"$T/headers"
printf 's3cr3t-k3y\n' >"$T/secret"
chmod 600 "$T/secret"
set_gw() { run_capture "$LEAL" messages gateway set --db "$DB" --program 7 --channel sms "$@"; }

set_gw --url "$GW" --body "$T/body.json" --headers "$T/headers" --secret-file "$T/secret"
check_eq "gateway set without the web link: refused, one line, nothing stored" \
    "1|1|0" "$RC|$(grep -c "^leal: .*'leal messages web --program 7 --url URL'" <<<"$ERR")|$(sqlite3 "$DB" 'SELECT count(*) FROM message_gateway')"
"$LEAL" messages web --db "$DB" --program 7 --url "$URL" >/dev/null || exit 1
set_gw --url "ftp://x" --body "$T/body.json"
check_eq "a bad URL: usage error" "2|1" "$RC|$(grep -c '^leal: --url is http(s)://' <<<"$ERR")"
printf '{"to": "{{phone}}", "x": "{{points}}"}' >"$T/bad.json"
set_gw --url "$GW" --body "$T/bad.json"
check_eq "an unknown variable in the body: refused at its byte" "2|1" \
    "$RC|$(grep -c '^leal: --body .* at byte 26: the variables are' <<<"$ERR")"
set_gw --url "$GW" --body "$T/body.json" --headers "$T/headers"
check_eq "{{secret}} without --secret-file: refused" "2" "$RC"
chmod 644 "$T/secret"
set_gw --url "$GW" --body "$T/body.json" --headers "$T/headers" --secret-file "$T/secret"
check_eq "a secret file others can read: refused, the secret not shown" "1|0|0" \
    "$RC|$(grep -c s3cr3t <<<"$OUT$ERR")|$(sqlite3 "$DB" 'SELECT count(*) FROM message_gateway')"
chmod 600 "$T/secret"
set_gw --url "$GW" --body "$T/body.json" --headers "$T/headers" --secret-file "$T/secret"
check_eq "gateway set" "0|program 7: sms through POST $GW" "$RC|$OUT"
run_capture "$LEAL" messages gateway show --db "$DB" --program 7
check_eq "gateway show: the header template and the file's path, never the secret" "0|sms: POST $GW (json)
secret file: $T/secret
headers:
Authorization: Bearer {{secret}}
X-Shop: sol
body:
{\"to\": \"{{phone}}\", \"text\": \"{{text}}\", \"channel\": \"{{channel}}\"}|0" \
    "$RC|$OUT|$(grep -c s3cr3t <<<"$OUT$ERR")"
check_eq "the ledger keeps no secret" 0 "$(grep -c s3cr3t "$DB")"

# The receiver answers 500 first: the run fails it (retried later).
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 1: one SMS recorded (Ana), the gateway's 500 fails it" \
    "1|1 recorded, 0 sent, 1 failed|leal: message 1 to customer $ANA failed: the gateway answered HTTP 500" \
    "$RC|$(grep -o '[0-9]* recorded, [0-9]* sent, [0-9]* failed' <<<"$OUT")|$ERR"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 2 at once: not due yet (backoff), nothing sent" "0|0 recorded, 0 sent, 0 failed|1" \
    "$RC|$(grep -o '[0-9]* recorded, [0-9]* sent, [0-9]* failed' <<<"$OUT")|$(ls "$T/inbox" | wc -l)"
sqlite3 "$DB" "UPDATE message_send SET next_at = next_at - 300"   # five minutes later
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 3, five minutes later: the retry is sent (200)" "0|0 recorded, 1 sent, 0 failed" \
    "$RC|$(grep -o '[0-9]* recorded, [0-9]* sent, [0-9]* failed' <<<"$OUT")"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 4: nothing new, no duplicate" "0|0 recorded, 0 sent|2" \
    "$RC|$(grep -o '[0-9]* recorded, [0-9]* sent' <<<"$OUT")|$(ls "$T/inbox" | wc -l)"
TOKEN=$(sqlite3 "$DB" "SELECT token FROM message_send WHERE customer_id = $ANA")
check_match "the send log names the channel" "^1 welcome [0-9-]{10} sent attempts 2 at .* token $TOKEN by sms\$" \
    "$("$LEAL" messages log --db "$DB" --customer "$ANA")"
check_eq "the row: sms, sent, 2 attempts" "sms|sent|2" \
    "$(sqlite3 "$DB" "SELECT channel, state, attempts FROM message_send WHERE customer_id = $ANA")"
check_eq "the receiver: two identical requests (500, then 200): one delivery" 1 \
    "$(cat "$T/inbox/0001.req" | tail -1 | cmp -s - <(tail -1 "$T/inbox/0002.req") && echo 1)"
# req N: the request line, the headers the test names, the body.
req() { $PY -c '
import sys
head, body = open(sys.argv[1], "rb").read().decode().split("\n\n", 1)
lines = head.split("\n")
print(lines[0])
for l in lines[1:]:
    if l.split(":")[0].lower() in ("authorization", "x-shop", "content-type"):
        print(l)
print(body, end="")' "$T/inbox/$1.req"; }
check_eq "the exact request: POST, the secret's header, JSON with the name's quotes escaped" \
    "POST /send HTTP/1.1
Content-Type: application/json; charset=utf-8
Authorization: Bearer s3cr3t-k3y
X-Shop: sol
{\"to\": \"+34 600 111 222\", \"text\": \"Hola Ana \\\"La Rubia\\\", bienvenida a Sol.\\nBaja: $URL/unsubscribe/$TOKEN\", \"channel\": \"sms\"}" \
    "$(req 0002)"
check_eq "the body is valid JSON: the text as written, with its unsubscribe link" \
    "+34 600 111 222|Hola Ana \"La Rubia\", bienvenida a Sol.
Baja: $URL/unsubscribe/$TOKEN" \
    "$(tail -1 "$T/inbox/0002.req" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["to"] + "|" + d["text"])')"
check_eq "Bea (e-mail consent, no SMS consent) and Carlos (no phone) get nothing" 0 \
    "$(sqlite3 "$DB" "SELECT count(*) FROM message_send WHERE customer_id IN ($BEA, $CARLOS)")"
check_eq "no output of any run shows the secret" 0 "$(grep -c s3cr3t "$T/serve.out" "$T/serve.err" | awk -F: '{s+=$2} END {print s}')"

# The link in the SMS: leal serve's one-click POST withdraws SMS consent.
check_eq "the SMS's link: the page offers to stop SMS, in Ana's Spanish" \
    "<p>¿Dejar de recibir SMS de Sol?</p>" \
    "$(curl -s "$URL/unsubscribe/$TOKEN" | grep '^<p>')"
check_eq "the SMS's link: POST withdraws SMS consent (200, by the link)" "200|0|sms|unsubscribe link" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/unsubscribe/$TOKEN")|$(sqlite3 "$DB" "SELECT granted, channel, method FROM consent WHERE customer_id = $ANA ORDER BY id DESC LIMIT 1")"
sqlite3 "$DB" "DELETE FROM message_send"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "unsubscribed: the next run writes to no one" "0|0 recorded, 0 sent|2" \
    "$RC|$(grep -o '[0-9]* recorded, [0-9]* sent' <<<"$OUT")|$(ls "$T/inbox" | wc -l)"
run_capture "$LEAL" messages gateway set --db "$DB" --program 7 --channel sms --url ''
check_eq "--url '': the gateway removed" "0|program 7: no sms gateway|0" \
    "$RC|$OUT|$(sqlite3 "$DB" 'SELECT count(*) FROM message_gateway')"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "no mail settings and no gateway: run refuses, one line" "1|1" \
    "$RC|$(grep -c "^leal: program 7 needs mail settings ('leal mail set') or a gateway" <<<"$ERR")"
finish
