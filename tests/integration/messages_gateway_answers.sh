#!/bin/bash
# messages_gateway_answers.sh - what `leal messages run` does with each answer
# of an SMS gateway (issue 17), against a real HTTP receiver on 127.0.0.1
# (tests/lib/http_sink.py): a 400 says the request is wrong and stays wrong,
# so the message is refused for good with the status and the gateway's words
# (in the run's error line, the send log and the customer export) and never
# sent again; a 429 (with Retry-After) and a 503 are retried, the 429 after
# the gateway's Retry-After and the 503 after the backoff's first 5 minutes,
# each then delivered exactly once.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-msggwa-XXXXXX)
SINK_PID=
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester

"$LEAL" program create --db "$DB" --code sol --name "Sol" --id 7 --locale es >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 7 --code c1 --name Centro --tz Europe/Madrid >/dev/null || exit 1
"$LEAL" serve --listen 127.0.0.1:0 --db "$DB" >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
"$LEAL" messages web --db "$DB" --program 7 --url "$URL" >/dev/null || exit 1
ANA=$("$LEAL" customer add --db "$DB" --program 7 --name Ana --phone '+34 600 111 222' --json |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
"$LEAL" customer consent "$ANA" --db "$DB" --channel sms --granted yes --method form --by staff \
    >/dev/null || exit 1
printf 'Hola {{name}}.\n' >"$T/es.txt"
"$LEAL" messages template --db "$DB" --program 7 --occasion welcome --days 2 \
    --subject Hola --text "$T/es.txt" >/dev/null || exit 1
printf '{"to": "{{phone}}", "text": "{{text}}"}\n' >"$T/body.json"

# sink NAME ANSWERS [ARGS...]: a fresh receiver answering ANSWERS in turn,
# the program's SMS gateway pointed at it, and no message recorded yet.
sink() {
    local name=$1 answers=$2
    shift 2
    [ -n "$SINK_PID" ] && { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
    mkdir "$T/$name"
    $PY tests/lib/http_sink.py --dir "$T/$name" --port-file "$T/$name.port" --answers "$answers" \
        --lifetime 120 "$@" &
    SINK_PID=$!
    for _ in $(seq 600); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
    "$LEAL" messages gateway set --db "$DB" --program 7 --channel sms --body "$T/body.json" \
        --url "http://127.0.0.1:$(cat "$T/$name.port")/send" >/dev/null || exit 1
    sqlite3 "$DB" "DELETE FROM message_send"
}
counts() { grep -o '[0-9]* recorded, [0-9]* sent, [0-9]* failed (retried later), [0-9]* refused' <<<"$OUT"; }
later() { sqlite3 "$DB" "UPDATE message_send SET next_at = next_at - $1"; }

# 400: wrong for good.
sink bad 400 --error-body '{"error": "invalid destination number"}'
run_capture "$LEAL" messages run --db "$DB" --program 7
ID=$(sqlite3 "$DB" "SELECT id FROM message_send")
REASON="the gateway refused it with HTTP 400 (\"{\"error\": \"invalid destination number\"}\"); not retried: check the customer's phone and 'leal messages gateway show'"
check_eq "400: refused at once, one line naming the status and the gateway's words" \
    "1|1 recorded, 0 sent, 0 failed (retried later), 1 refused|leal: message $ID to customer $ANA refused: $REASON" \
    "$RC|$(counts)|$ERR"
check_eq "400: the row is refused for good (no retry time), one attempt, the reason kept" \
    "refused|1|$REASON" \
    "$(sqlite3 "$DB" "SELECT state, attempts, error FROM message_send")"
later 86400
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "400: a day later nothing is sent again: one request in all" \
    "0|0 recorded, 0 sent, 0 failed (retried later), 0 refused|1" \
    "$RC|$(counts)|$(ls "$T/bad" | wc -l)"
check_eq "400: the send log shows it refused with the reason" \
    "$ID welcome refused attempts 1 by sms: $REASON" \
    "$("$LEAL" messages log --db "$DB" --customer "$ANA" | sed 's/ [0-9-]\{10\} refused/ refused/; s/ at .* token [0-9a-f]*//')"
check_eq "400: the customer export (--json) holds the row with its state and reason" \
    "refused|$REASON" \
    "$("$LEAL" customer export "$ANA" --db "$DB" --json | $PY -c '
import json,sys
d = json.load(sys.stdin)
rows = [r for t, v in d["tables"].items() if t == "message_send" for r in v]
print(rows[0]["state"] + "|" + rows[0]["error"])')"

# 429 with Retry-After: 120, then 200.
sink busy 429,200 --retry-after 120
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "429: failed, retried later" "1|1 recorded, 0 sent, 1 failed (retried later), 0 refused" \
    "$RC|$(counts)"
WAIT=$(sqlite3 "$DB" "SELECT next_at - updated_at FROM message_send")
check_eq "429: the next attempt waits the gateway's Retry-After (120 s, not the 300 s backoff)" \
    "yes" "$([ "$WAIT" -ge 119 ] && [ "$WAIT" -le 120 ] && echo yes || echo "no ($WAIT)")"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "429: a run at once sends nothing (not due)" "0|0 sent|1" \
    "$RC|$(grep -o '[0-9]* sent' <<<"$OUT")|$(ls "$T/busy" | wc -l)"
later 120
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "429 then 200: delivered after Retry-After" "0|0 recorded, 1 sent, 0 failed (retried later), 0 refused|sent|2" \
    "$RC|$(counts)|$(sqlite3 -separator '|' "$DB" "SELECT state, attempts FROM message_send")"
later 86400
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "429 then 200: exactly one delivery (2 requests, no third)" "0 sent|2" \
    "$(grep -o '[0-9]* sent' <<<"$OUT")|$(ls "$T/busy" | wc -l)"

# 503 without Retry-After, then 200: the backoff's first 5 minutes.
sink down 503,200
run_capture "$LEAL" messages run --db "$DB" --program 7
WAIT=$(sqlite3 "$DB" "SELECT next_at - updated_at FROM message_send")
check_eq "503: failed, retried after the backoff (300 s)" \
    "1|1 recorded, 0 sent, 1 failed (retried later), 0 refused|yes|leal: message $(sqlite3 "$DB" "SELECT id FROM message_send") to customer $ANA failed: the gateway answered HTTP 503" \
    "$RC|$(counts)|$([ "$WAIT" -ge 299 ] && [ "$WAIT" -le 300 ] && echo yes || echo "no ($WAIT)")|$ERR"
later 200
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "503: 200 s later, nothing is sent yet" "0 sent|1" \
    "$(grep -o '[0-9]* sent' <<<"$OUT")|$(ls "$T/down" | wc -l)"
later 100
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "503 then 200: delivered by the retry" "0|1 sent|sent|2" \
    "$RC|$(grep -o '[0-9]* sent' <<<"$OUT")|$(sqlite3 "$DB" "SELECT state FROM message_send")|$(sqlite3 "$DB" "SELECT attempts FROM message_send")"
later 86400
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "503 then 200: exactly one delivery (2 requests, no third)" "0 sent|2" \
    "$(grep -o '[0-9]* sent' <<<"$OUT")|$(ls "$T/down" | wc -l)"
finish
