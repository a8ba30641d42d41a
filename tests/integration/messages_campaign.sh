#!/bin/bash
# messages_campaign.sh - `leal messages campaign add|preview|test|send`
# (issue 17): one-off messages to a saved segment. Sent through a real SMTP
# server on 127.0.0.1 (tests/lib/smtp_sink.py) and read back with Python's
# email parser: the preview is the segment's count, the test send goes to
# the address given and records nothing, a send reaches exactly the members
# with an address and e-mail consent, in their language, once: a send killed
# after recording and restarted, and a second send, send nothing twice; a
# later send writes only to members who joined since. The same on
# PostgreSQL with LEAL_TEST_BACKEND=pg (customers_pg.sh).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-msgcamp-XXXXXX)
SINK_PID= RUN_PID=
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
# On PostgreSQL: a database of the cluster (tests/lib/backend.sh); q reads it.
source tests/lib/backend.sh
backend_db msgcamp || {
    finish
    exit
}
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null; wait 2>/dev/null; backend_db_stop; rm -rf "$T"' EXIT
ZONE=Pacific/Kiritimati # UTC+14: the campaign's day is the store's, not UTC's
clear_of_midnight 60 "$ZONE" # the campaign's day, reckoned once
TODAY=$(TZ=$ZONE date +%F)
L() { "$LEAL" "$@" --db "$DB"; }

L program create --code sol --name "Café Sol" --id 7 --locale es >/dev/null || exit 1
L store add --program 7 --code c1 --name "Sol Centro" --tz "$ZONE" >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 900 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
L mail set --program 7 --server 127.0.0.1 --port "$(cat "$T/port")" --tls none \
    --from club@sol.example --from-name "Café Sol" >/dev/null || exit 1

# add NAME EMAIL CONSENT(yes|no) [TAG]: prints the new customer's id.
add() {
    local id
    id=$(L customer add --program 7 --name "$1" --email "$2" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    L customer consent "$id" --channel email --granted "$3" --method form --by staff >/dev/null || exit 1
    [ -z "${4:-}" ] || L customer tag "$id" "$4" >/dev/null || exit 1
    echo "$id"
}
acct() { q "SELECT account_id FROM customer WHERE id = $1"; }
eml_count() { ls "$T/inbox" | grep -c '\.eml$'; }
# Recipients of the messages received since the last call, sorted.
echo 0 >"$T/seen"
new_rcpts() {
    local seen all
    seen=$(cat "$T/seen")
    all=$(ls "$T"/inbox/*.env 2>/dev/null | sort)
    echo "$all" | grep -c . >"$T/seen"
    echo "$all" | tail -n +$((seen + 1)) | grep . | while read -r f; do tail -n +2 "$f"; done | sort
}
# read_msg ADDRESS N: the Nth message (1: first) to ADDRESS: To, Subject, then each part.
read_msg() {
    $PY -c '
import email, email.header, email.policy, glob, sys
n = 0
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.compat32)
    if m["To"] != "<" + sys.argv[2] + ">":
        continue
    n += 1
    if n == int(sys.argv[3]):
        print(m["To"]); print(str(email.header.make_header(email.header.decode_header(m["Subject"]))))
        print("".join(p.get_payload(decode=True).decode().replace("\r\n", "\n")
                      for p in m.walk() if not p.is_multipart()), end="")' "$T/inbox" "$1" "$2"
}
token() { q "SELECT token FROM message_send WHERE customer_id = $1 AND occasion = 'campaign:spring'"; }

ANA=$(add Ana ana@example.org yes vip)        # English
BEA=$(add Bea bea@example.org yes vip)        # Spanish (the locale)
CARLOS=$(add Carlos carlos@example.org no vip) # no consent
DANI=$(add Dani "" yes vip)                   # no address
EVA=$(add Eva eva@example.org yes)            # not in the segment
L messages lang --customer "$ANA" --lang en >/dev/null || exit 1
L ledger post --account "$(acct "$ANA")" --asset PTS --amount 40 --reason gift --operator staff >/dev/null || exit 1
L segment add vip --program 7 --tag vip >/dev/null || exit 1
L segment add all --program 7 >/dev/null || exit 1

printf 'Hola {{name}}: doble de puntos esta semana en {{store}}. Tienes {{points}}.\n' >"$T/es.txt"
printf '<p>Hola {{name}}</p>\n' >"$T/es.html"
printf 'Hi {{name}}: double points this week at {{store}}. You have {{points}}.\n' >"$T/en.txt"
printf 'Hi {{nombre}}\n' >"$T/bad.txt"

# Refusals: exit 2, one line, nothing stored.
run_capture L messages campaign add spring --program 7 --segment nope --subject x --text "$T/es.txt"
check_eq "add: an unknown segment, exit 2" 2 "$RC"
check_match "add: names the segment" "^leal: campaign: segment nope" "$ERR"
run_capture L messages campaign add spring --program 7 --segment vip --subject x --text "$T/bad.txt"
check_eq "add: an unknown variable, exit 2" 2 "$RC"
run_capture L messages campaign add 'spr ing' --program 7 --segment vip --subject x --text "$T/es.txt"
check_eq "add: a bad name, exit 2" 2 "$RC"
run_capture L messages campaign add spring --program 7 --segment vip --text "$T/es.txt"
check_eq "add: no --subject, exit 2" 2 "$RC"
run_capture L messages campaign preview spring --program 7
check_eq "preview: an unknown campaign, exit 2, says how to add one" \
    "2|leal: campaign: campaign spring: no campaign of that name in the program; add it with 'leal messages campaign add'" \
    "$RC|$ERR"
check_eq "refusals stored nothing" 0 "$(q "SELECT count(*) FROM message_campaign")"

run_capture L messages campaign add spring --program 7 --segment vip --subject 'Doble de puntos, {{name}}' \
    --text "$T/es.txt" --html "$T/es.html"
check_eq "add: stored in the locale" "0|program 7: campaign spring to segment vip stored" "$RC|$OUT"
run_capture L messages campaign add spring --program 7 --segment vip --subject 'Double points, {{name}}' \
    --text "$T/en.txt" --lang en
check_eq "add: its English text" "0|program 7: campaign spring to segment vip stored (en)" "$RC|$OUT"
run_capture L messages campaign add spring --program 7 --segment all --subject x --text "$T/es.txt"
check_eq "add: the segment cannot change, exit 2" 2 "$RC"
check_match "add: says which it targets" "campaign spring targets segment vip" "$ERR"
check_eq "one campaign, two texts, of today in the store's zone" "1|$TODAY|en es" \
    "$(q "SELECT count(*), max(day) FROM message_campaign")|$(rows "SELECT lang FROM message_campaign_text ORDER BY lang")"

# Preview: the segment's count, and those a send writes to.
run_capture L messages campaign preview spring --program 7
check_eq "preview: 4 members (as segment count), 2 reachable, 2 to send" \
    "0|campaign spring, segment vip: 4 members, 2 with an e-mail address and consent, 0 written to before, 0 skipped (the address bounced): 2 e-mails to send|4" \
    "$RC|$OUT|$(L segment count vip)"

# Test sends: to the address given, rendered for a member; nothing recorded.
run_capture L messages campaign test spring --program 7 --to staff@sol.example
check_eq "test: sent for Ana (the first) to the address" \
    "0|campaign spring: a test for customer $ANA sent to staff@sol.example; nothing recorded" "$RC|$OUT"
check_eq "test: exactly one message, to staff" "staff@sol.example" "$(new_rcpts)"
check_eq "test: Ana's English text, the footer's token unsubscribes no one" "<staff@sol.example>
Double points, Ana
Hi Ana: double points this week at Sol Centro. You have 40.
-- 
To receive no more of these e-mails, reply with the subject: unsubscribe 00000000000000000000000000000000" \
    "$(read_msg staff@sol.example 1)"
run_capture L messages campaign test spring --program 7 --to staff@sol.example --customer "$BEA"
check_eq "test --customer: Bea's Spanish text and HTML" "<staff@sol.example>
Doble de puntos, Bea
Hola Bea: doble de puntos esta semana en Sol Centro. Tienes 0.
-- 
Para no recibir más estos correos, responda con el asunto: unsubscribe 00000000000000000000000000000000
<p>Hola Bea</p>" "$(new_rcpts >/dev/null; read_msg staff@sol.example 2)"
run_capture L messages campaign test spring --program 7 --to staff@sol.example --customer "$CARLOS"
check_eq "test: a member without consent, exit 2" 2 "$RC"
run_capture L messages campaign test spring --program 7 --to staff@sol.example --customer "$EVA"
check_match "test: not a member, exit 2, says so" "^2\|leal: customer $EVA is not a member of segment vip" "$RC|$ERR"
check_eq "test sends recorded nothing; the server has 2" "0|2" \
    "$(q "SELECT count(*) FROM message_send")|$(eml_count)"

# A send killed after recording, before sending: the restart sends each once.
LEAL_MESSAGES_PAUSE_AFTER_RECORD=60 "$LEAL" messages campaign send spring --program 7 --db "$DB" >"$T/run.out" 2>&1 &
RUN_PID=$!
for _ in $(seq 400); do grep -q pausing "$T/run.out" && break; sleep 0.05; done
kill -9 "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
RUN_PID=
check_eq "kill: recorded Ana's and Bea's, sent nothing" "recorded 2; pausing|$ANA pending
$BEA pending|2" "$(cat "$T/run.out")|$(q "SELECT customer_id, state FROM message_send ORDER BY customer_id" | tr '|' ' ')|$(eml_count)"
run_capture L messages campaign send spring --program 7
check_eq "send: the restart sends the two" \
    "0|campaign spring: 4 members, 0 recorded, 2 sent, 0 failed (retried later), 0 refused, 0 skipped" "$RC|$OUT"
check_eq "send: the server got exactly Ana's and Bea's" "ana@example.org
bea@example.org" "$(new_rcpts)"
check_eq "send: Ana's message in English, with her token" "<ana@example.org>
Double points, Ana
Hi Ana: double points this week at Sol Centro. You have 40.
-- 
To receive no more of these e-mails, reply with the subject: unsubscribe $(token "$ANA")" "$(read_msg ana@example.org 1)"
check_eq "send: Bea's in Spanish, with her token" "<bea@example.org>
Doble de puntos, Bea
Hola Bea: doble de puntos esta semana en Sol Centro. Tienes 0.
-- 
Para no recibir más estos correos, responda con el asunto: unsubscribe $(token "$BEA")
<p>Hola Bea</p>" "$(read_msg bea@example.org 1)"
check_match "log: Ana's campaign row, sent once" "^[0-9]+ campaign:spring $TODAY sent attempts 1 " \
    "$(L messages log --customer "$ANA")"

run_capture L messages campaign send spring --program 7
check_eq "send again: nothing new" \
    "0|campaign spring: 4 members, 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 0 skipped|4" "$RC|$OUT|$(eml_count)"

# A member who joins later gets it on the next send; the others not again.
FEDE=$(add Fede fede@example.org yes vip)
run_capture L messages campaign send spring --program 7
check_eq "send after Fede joined: only Fede" \
    "0|campaign spring: 5 members, 1 recorded, 1 sent, 0 failed (retried later), 0 refused, 0 skipped|fede@example.org" \
    "$RC|$OUT|$(new_rcpts)"
check_eq "one row per member who could be written to" "$ANA|sent
$BEA|sent
$FEDE|sent" "$(q "SELECT customer_id, state FROM message_send ORDER BY customer_id")"

# The campaign's unsubscribe token works as the occasions' do.
run_capture L messages unsubscribe "$(token "$BEA")"
check_eq "unsubscribe: Bea's token withdraws her consent" "0|customer $BEA: e-mail consent withdrawn (unsubscribe link)" "$RC|$OUT"
run_capture L messages campaign preview spring --program 7
check_eq "preview after it: 5 members, 2 reachable, both written to before: nothing to send" \
    "campaign spring, segment vip: 5 members, 2 with an e-mail address and consent, 2 written to before, 0 skipped (the address bounced): 0 e-mails to send" "$OUT"
run_capture L ledger verify
check_eq "ledger verify" 0 "$RC"
finish
