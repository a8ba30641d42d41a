#!/bin/bash
# messages.sh - `leal messages` end to end (issue 17): birthday messages of
# one program sent through a real SMTP server on 127.0.0.1
# (tests/lib/smtp_sink.py, Debian's python3-aiosmtpd) and read back with
# Python's email parser: a run sends exactly the expected set (birthday today
# in the store's zone, e-mail address and consent), a second run sends
# nothing new, a run killed with SIGKILL after recording and restarted sends
# no duplicate, a run that died during a send never sends it again, a server
# that cannot take the message now gets it on a later run (after the
# backoff), and unsubscribe withdraws consent. The same on PostgreSQL with
# LEAL_TEST_BACKEND=pg (customers_pg.sh).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-msgs-XXXXXX)
SINK_PID=
RUN_PID=
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
# On PostgreSQL: a database of the cluster (tests/lib/backend.sh); q reads it.
source tests/lib/backend.sh
backend_db msgs || {
    finish
    exit
}
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null; wait 2>/dev/null; backend_db_stop; rm -rf "$T"' EXIT
ZONE=Pacific/Kiritimati # UTC+14: its today is not UTC's for 14 hours a day
clear_of_midnight 60 "$ZONE" # TODAY is reckoned once and checked to the end
TODAY=$(TZ=$ZONE date +%F)
MD=${TODAY:5:5}
TOMORROW_MD=$(TZ=$ZONE date -d "$TODAY + 1 day" +%m-%d)

"$LEAL" program create --db "$DB" --code sol --name "Café Sol" --id 7 >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 7 --code c1 --name "Sol Centro" --tz "$ZONE" >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 900 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/port")
"$LEAL" mail set --db "$DB" --program 7 --server 127.0.0.1 --port "$PORT" --tls none \
    --from club@sol.example --from-name "Café Sol" >/dev/null || exit 1

# add NAME EMAIL MM-DD CONSENT(yes|no|none): prints the new customer's id. Born in 1992, a leap year, so the test runs on 29 February too.
add() {
    local id
    id=$("$LEAL" customer add --db "$DB" --program 7 --name "$1" --email "$2" \
        --birth-date "1992-$3" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    [ "$4" = none ] || "$LEAL" customer consent "$id" --db "$DB" --channel email --granted "$4" \
        --method form --by staff >/dev/null || exit 1
    echo "$id"
}
ANA=$(add Ana ana@example.org "$MD" yes)
BEA=$(add Bea bea@example.org "$MD" none)
CARLOS=$(add Carlos carlos@example.org "$MD" yes)
"$LEAL" customer consent "$CARLOS" --db "$DB" --channel email --granted no --method phone --by staff >/dev/null
DANI=$(add Dani dani@example.org "$TOMORROW_MD" yes)
EVA=$(add '<b>Eva & "co"</b>' eva@example.org "$MD" yes)
FEDE=$(add Fede '' "$MD" yes)
eml_count() { ls "$T/inbox" | grep -c '\.eml$'; }
# The recipients of every message received, sorted, one a line.
rcpts() { tail -q -n +2 "$T"/inbox/*.env 2>/dev/null | sort; }

# killed_run: a run paused by the test hook after recording, killed there with SIGKILL.
killed_run() {
    # A fresh file: the previous killed run's "pausing" must not be read before this
    # run's redirection empties it (it was, once, on a loaded machine: Hugo killed
    # before he was recorded).
    rm -f "$T/run.out"
    LEAL_MESSAGES_PAUSE_AFTER_RECORD=60 "$LEAL" messages run --db "$DB" --program 7 >"$T/run.out" 2>&1 &
    RUN_PID=$!
    for _ in $(seq 400); do grep -qs pausing "$T/run.out" && break; sleep 0.05; done
    kill -9 "$RUN_PID"
    wait "$RUN_PID" 2>/dev/null
    RUN_PID=
}

printf 'Hola {{nombre}}\n' >"$T/bad.txt"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion birthday --subject x --text "$T/bad.txt"
check_eq "template: an unknown variable is refused, exit 2" 2 "$RC"
check_match "template: the error names the variables and the byte" "at byte 5.*\{\{name\}\}" "$ERR"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run: without a template, exit 1" 1 "$RC"
check_match "run: says what to set" "leal messages template" "$ERR"

printf 'Hola {{name}}: tienes {{points}} puntos en {{store}} ({{program}}).\n' >"$T/b.txt"
printf '<p>Hola {{name}}, feliz día</p>\n' >"$T/b.html"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion birthday \
    --subject 'Feliz cumpleaños, {{name}}' --text "$T/b.txt" --html "$T/b.html"
check_eq "template: stored" "0|program 7: birthday template stored" "$RC|$OUT"

run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 1: exactly the two customers with consent, e-mail and birthday today" \
    "0|program 7, $TODAY ($ZONE): 2 recorded, 2 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown" "$RC|$OUT"
check_eq "run 1: the server got exactly Ana's and Eva's" "ana@example.org
eva@example.org" "$(rcpts)"
read_msg() {
    $PY -c '
import email, email.header, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
parts = [p for p in m.walk() if not p.is_multipart()]
subj = str(email.header.make_header(email.header.decode_header(m["Subject"])))
print(m["To"]); print(subj); print(m["List-Unsubscribe"]); print(m["Message-ID"])
for p in parts: print(p.get_content_type()); print(p.get_payload(decode=True).decode().replace("\r\n", "\n"), end="")' "$1"
}
ANA_EML=$(grep -l ana@example.org "$T"/inbox/*.env); ANA_EML=${ANA_EML%.env}.eml
EVA_EML=$(grep -l eva@example.org "$T"/inbox/*.env); EVA_EML=${EVA_EML%.env}.eml
ANA_TOKEN=$(q "SELECT token FROM message_send WHERE customer_id = $ANA")
check_eq "run 1: Ana's message, both parts rendered, with her token" "<ana@example.org>
Feliz cumpleaños, Ana
<mailto:club@sol.example?subject=unsubscribe%20$ANA_TOKEN>
<$ANA_TOKEN.1@sol.example>
text/plain
Hola Ana: tienes 0 puntos en Sol Centro (Café Sol).
-- 
To receive no more of these e-mails, reply with the subject: unsubscribe $ANA_TOKEN
text/html
<p>Hola Ana, feliz día</p>" "$(read_msg "$ANA_EML")"
check_match "run 1: Eva's name is escaped in the HTML part" \
    '<p>Hola &lt;b&gt;Eva &amp; &quot;co&quot;&lt;/b&gt;, feliz día</p>' "$(read_msg "$EVA_EML")"
check_eq "run 1: one row each, sent, one attempt" "$ANA|birthday|$TODAY|sent|1
$EVA|birthday|$TODAY|sent|1" "$(q "SELECT customer_id, occasion, day, state, attempts FROM message_send ORDER BY id")"

run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 2: nothing new" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown" "$RC|$OUT"
check_eq "run 2: the server still has 2 messages" 2 "$(eml_count)"

# A run killed with SIGKILL after recording, before sending: the restart sends it once.
GIL=$(add Gil gil@example.org "$MD" yes)
killed_run
check_eq "kill: the run had recorded Gil's message" "recorded 1; pausing" "$(cat "$T/run.out")"
check_eq "kill: Gil's row is pending, nothing sent" "pending|2" \
    "$(q "SELECT state FROM message_send WHERE customer_id = $GIL")|$(eml_count)"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "kill: the restart sends Gil's message, once" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 1 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown|3" "$RC|$OUT|$(eml_count)"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "kill: and the next run sends nothing" "0 sent|3" "$(grep -o '[0-9]* sent' <<<"$OUT")|$(eml_count)"

# A run that died DURING a send (row left in "sending" 1000 s ago): never sent again.
HUGO=$(add Hugo hugo@example.org "$MD" yes)
killed_run
check_eq "died mid-send: the run had recorded Hugo's message" "recorded 1; pausing" "$(cat "$T/run.out")"
q "UPDATE message_send SET state = 'sending', attempts = 1, updated_at = $(($(date +%s) - 1000)) WHERE customer_id = $HUGO"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "died mid-send: marked unknown, not sent" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 0 skipped, 1 unknown|3" "$RC|$OUT|$(eml_count)"
run_capture "$LEAL" messages log --db "$DB" --customer "$HUGO"
check_match "log: Hugo's message is unknown, with why" \
    "^[0-9]+ birthday $TODAY unknown attempts 1 at .* token [0-9a-f]{32}: a run stopped during the send; not sent again$" "$OUT"

# A server that cannot be reached: failed, retried only after the backoff.
IRIS=$(add Iris iris@example.org "$MD" yes)
$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$T/closed"
"$LEAL" mail set --db "$DB" --program 7 --server 127.0.0.1 --port "$(cat "$T/closed")" --tls none \
    --from club@sol.example --from-name "Café Sol" >/dev/null
RUN_AT=$(date +%s)
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "unreachable: exit 1, one failed" \
    "1|program 7, $TODAY ($ZONE): 1 recorded, 0 sent, 1 failed (retried later), 0 refused, 0 skipped, 0 unknown" "$RC|$OUT"
check_match "unreachable: one line on stderr naming the message" "^leal: message [0-9]+ to customer $IRIS failed: " "$ERR"
# The backoff counts from the run's start (a second no column keeps: the run
# began at or after RUN_AT and before it recorded Iris's row); updated_at is the
# end of the attempt, a second later on a slow run.
check_eq "unreachable: retried 300 s after the run's start (first backoff)" "failed|1|1" \
    "$(q "SELECT state, attempts, CASE WHEN next_at - 300 BETWEEN $RUN_AT AND created_at THEN 1 ELSE 0 END FROM message_send WHERE customer_id = $IRIS")"
"$LEAL" mail set --db "$DB" --program 7 --server 127.0.0.1 --port "$PORT" --tls none \
    --from club@sol.example --from-name "Café Sol" >/dev/null
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "unreachable: not retried before its time" "0 sent|3" "$(grep -o '[0-9]* sent' <<<"$OUT")|$(eml_count)"
q "UPDATE message_send SET next_at = $(($(date +%s) - 1)) WHERE customer_id = $IRIS"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "unreachable: sent once its time came" "0|1 sent|4" "$RC|$(grep -o '[0-9]* sent' <<<"$OUT")|$(eml_count)"
check_eq "unreachable: the log shows two attempts" "sent attempts 2" \
    "$("$LEAL" messages log --db "$DB" --customer "$IRIS" | grep -o 'sent attempts [0-9]*')"

# Unsubscribe with the token Ana's message carried.
run_capture "$LEAL" messages unsubscribe "$ANA_TOKEN" --db "$DB"
check_eq "unsubscribe: exit 0, says who" "0|customer $ANA: e-mail consent withdrawn (unsubscribe link)" "$RC|$OUT"
check_eq "unsubscribe: consent recorded with its source" "0|unsubscribe link|message 1" \
    "$(q "SELECT granted, method, recorded_by FROM consent WHERE customer_id = $ANA AND channel = 'email' ORDER BY id DESC LIMIT 1")"
run_capture "$LEAL" messages unsubscribe 0123456789abcdef0123456789abcdef --db "$DB"
check_eq "unsubscribe: an unknown token, exit 1" 1 "$RC"
check_match "unsubscribe: one line naming the problem" "^leal: .*no message carries that unsubscribe token" "$ERR"
run_capture "$LEAL" messages unsubscribe 'x;DROP' --db "$DB"
check_eq "unsubscribe: a malformed token, exit 1" 1 "$RC"
# Consent withdrawn between recording and sending: the message is skipped.
JON=$(add Jon jon@example.org "$MD" yes)
killed_run
"$LEAL" messages unsubscribe "$(q "SELECT token FROM message_send WHERE customer_id = $JON")" --db "$DB" >/dev/null
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "withdrawn before the send: skipped, nothing sent" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 1 skipped, 0 unknown|4" "$RC|$OUT|$(eml_count)"
check_eq "at the end: every message went to a customer with consent at the time, once" "ana@example.org
eva@example.org
gil@example.org
iris@example.org" "$(rcpts)"
check_eq "no message to Bea, Carlos, Dani or Fede" 0 \
    "$(q "SELECT count(*) FROM message_send WHERE customer_id IN ($BEA, $CARLOS, $DANI, $FEDE)")"
finish
