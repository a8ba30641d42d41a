#!/bin/bash
# messages_occasions.sh - `leal messages` for the occasions beyond birthdays
# (issue 17): inactive (no visit for N days, once per inactivity spell, a new
# visit re-arms it), expiring (points expiring within N days, once per expiry
# day, with {{expiring_points}} and {{expiry_date}}) and welcome (enrolled in
# the last N days), in the customer's language or else the program's locale.
# Sent through a real SMTP server on 127.0.0.1 (tests/lib/smtp_sink.py) and
# read back with Python's email parser: each run's recipient set and the
# messages' text are checked exactly; a second run sends nothing new. The
# same on PostgreSQL with LEAL_TEST_BACKEND=pg (customers_pg.sh), but for the
# SQLite migration at the end.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/messages.sh

ZONE=Pacific/Kiritimati # UTC+14: its days are not UTC's
clear_of_midnight 60 "$ZONE" # the occasions' days, reckoned once
NOW=$(date +%s)
DAY=86400
messages_fixture msgocc "$ZONE" --locale es --points-per-euro 1 --points-expiry-days 0

# add NAME EMAIL CONSENT(yes|no): prints the new customer's id.
add() {
    local id
    id=$("$LEAL" customer add --db "$DB" --program 7 --name "$1" --email "$2" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    "$LEAL" customer consent "$id" --db "$DB" --channel email --granted "$3" \
        --method form --by staff >/dev/null || exit 1
    echo "$id"
}
acct() { q "SELECT account_id FROM customer WHERE id = $1"; }
# visit CUSTOMER SECONDS_AGO: a 10-euro sale at the store that long ago.
visit() { "$LEAL" sale --db "$DB" --account "$(acct "$1")" --amount 10 --store 1 --at "@$(($NOW - $2))" >/dev/null || exit 1; }
# points CUSTOMER N DAYS_AHEAD: N points that can be used until that day (UTC) inclusive.
points() {
    "$LEAL" ledger post --db "$DB" --account "$(acct "$1")" --asset PTS --amount "$2" --reason gift \
        --operator staff --expires "$(date -u -d "@$(($NOW + $3 * DAY))" +%F)" >/dev/null || exit 1
}
# The local day (in the store's zone) of a moment.
lday() { TZ=$ZONE date -d "@$1" +%F; }
# The last day of use of points expiring DAYS_AHEAD, as lots store it (the next 00:00 UTC, less a second).
lastday() { lday $(($(date -u -d "$(date -u -d "@$(($NOW + $1 * DAY))" +%F) + 1 day" +%s) - 1)); }
run() {
    run_capture "$LEAL" messages run --db "$DB" --program 7
    SUMMARY=$(grep -o '[0-9]* recorded, [0-9]* sent' <<<"$OUT")
}
# read_msg ADDRESS TEXT: the first message to ADDRESS whose decoded parts
# contain TEXT: To, Subject, then each part.
read_msg() {
    $PY -c '
import email, email.header, email.policy, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.compat32)
    body = "".join(p.get_payload(decode=True).decode().replace("\r\n", "\n")
                   for p in m.walk() if not p.is_multipart())
    if m["To"] == "<" + sys.argv[2] + ">" and sys.argv[3] in body:
        print(m["To"]); print(str(email.header.make_header(email.header.decode_header(m["Subject"]))))
        print(body, end="")
        break' "$T/inbox" "$1" "$2"
}

ANA=$(add Ana ana@example.org yes)     # last visit 40 days ago: inactive
BEA=$(add Bea bea@example.org yes)     # visits 40 and 5 days ago: active
CARLOS=$(add Carlos carlos@example.org no) # last visit 40 days ago, no consent
EVA=$(add Eva eva@example.org yes)     # 5 + 3 points usable 10 more days, 4 for 12
FEDE=$(add Fede fede@example.org yes)  # 6 points usable 20 more days
visit "$ANA" $((40 * DAY))
visit "$BEA" $((40 * DAY))
visit "$BEA" $((5 * DAY))
visit "$CARLOS" $((40 * DAY))
points "$EVA" 5 10
points "$EVA" 3 10
points "$EVA" 4 12
points "$FEDE" 6 20
"$LEAL" messages lang --db "$DB" --customer "$ANA" --lang en >/dev/null || exit 1
run_capture "$LEAL" messages lang --db "$DB" --customer "$EVA" --lang fr
check_eq "lang: only en or es, exit 2" 2 "$RC"

# Templates: inactive in Spanish (the locale) and English; expiring in Spanish only.
printf 'Hola {{name}}, te echamos de menos. Tienes {{points}} puntos.\n' >"$T/in_es.txt"
printf 'Hi {{name}}, we miss you. You have {{points}} points.\n' >"$T/in_en.txt"
printf '{{name}}: {{expiring_points}} puntos caducan el {{expiry_date}}.\n' >"$T/ex_es.txt"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion inactive \
    --subject 'Te echamos de menos' --text "$T/in_es.txt"
check_eq "template: inactive needs --days the first time, exit 1" 1 "$RC"
check_match "template: says so" "inactive occasion needs its days" "$ERR"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion birthday --days 3 \
    --subject x --text "$T/in_es.txt"
check_eq "template: birthday takes no --days, exit 2" 2 "$RC"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion inactive --days 30 \
    --subject 'Te echamos de menos' --text "$T/in_es.txt"
check_eq "template: inactive stored in the program's locale" "0|program 7: inactive template stored" "$RC|$OUT"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion inactive --lang en \
    --subject 'We miss you, {{name}}' --text "$T/in_en.txt"
check_eq "template: inactive in English, days kept" "0|program 7: inactive template (en) stored" "$RC|$OUT"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion expiring --days 14 \
    --subject 'Tus puntos caducan' --text "$T/ex_es.txt"
check_eq "template: expiring stored" 0 "$RC"
check_eq "the program's days per occasion and its templates' languages" "expiring|14
inactive|30
expiring|es
inactive|en
inactive|es" "$(q "SELECT occasion, days FROM message_occasion ORDER BY 1")
$(q "SELECT occasion, lang FROM message_template ORDER BY 1, 2")"

run
check_eq "run 1: Ana inactive, Eva's two expiry days: 3 recorded, 3 sent" "0|3 recorded, 3 sent" "$RC|$SUMMARY"
check_eq "run 1: exactly Ana once and Eva twice" "ana@example.org
eva@example.org
eva@example.org" "$(new_rcpts)"
ANA_TOKEN=$(q "SELECT token FROM message_send WHERE customer_id = $ANA")
check_eq "run 1: Ana's message in her language (English), footer too" "<ana@example.org>
We miss you, Ana
Hi Ana, we miss you. You have 10 points.
-- 
To receive no more of these e-mails, reply with the subject: unsubscribe $ANA_TOKEN" \
    "$(read_msg ana@example.org 'miss you')"
D10=$(lastday 10)
D12=$(lastday 12)
ES10="${D10:8:2}/${D10:5:2}/${D10:0:4}"
ES12="${D12:8:2}/${D12:5:2}/${D12:0:4}"
check_eq "run 1: Eva's messages in the program's locale (no English expiring template), one per day" \
    "Eva: 8 puntos caducan el $ES10.|Eva: 4 puntos caducan el $ES12." \
    "$(read_msg eva@example.org "$ES10" | sed -n 3p)|$(read_msg eva@example.org "$ES12" | sed -n 3p)"
check_match "run 1: the Spanish footer" "Para no recibir más estos correos, responda con el asunto: unsubscribe [0-9a-f]{32}" \
    "$(read_msg eva@example.org "$ES10")"
check_eq "run 1: the rows: the spell's day is the last visit's, the expiry's its last day" \
    "$ANA|inactive|$(lday $((NOW - 40 * DAY)))|sent
$EVA|expiring|$D10|sent
$EVA|expiring|$D12|sent" \
    "$(q "SELECT customer_id, occasion, day, state FROM message_send ORDER BY customer_id, day")"

run
check_eq "run 2: nothing new" "0|0 recorded, 0 sent|" "$RC|$SUMMARY|$(new_rcpts)"

# A new visit re-arms inactivity: Ana came back 35 days ago, so a new spell
# began then (and is 30 days old already); a visit today ends it.
visit "$ANA" $((35 * DAY))
run
check_eq "re-armed: a visit after the last message starts a new spell, one more message" \
    "0|1 recorded, 1 sent|ana@example.org" "$RC|$SUMMARY|$(new_rcpts)"
visit "$ANA" 60
run
check_eq "re-armed: a visit today, nothing" "0|0 recorded, 0 sent|" "$RC|$SUMMARY|$(new_rcpts)"
check_eq "re-armed: Ana has two inactive rows, one per spell" "$(lday $((NOW - 40 * DAY)))
$(lday $((NOW - 35 * DAY)))" "$(q "SELECT day FROM message_send WHERE customer_id = $ANA ORDER BY id")"

# Points spent between recording and sending: nothing left to announce, skipped.
points "$FEDE" 2 13
GIL=$(add Gil gil@example.org yes)
points "$GIL" 7 13
LEAL_MESSAGES_PAUSE_AFTER_RECORD=60 "$LEAL" messages run --db "$DB" --program 7 >"$T/run.out" 2>&1 &
RP=$!
for _ in $(seq 400); do grep -q pausing "$T/run.out" && break; sleep 0.05; done
kill -9 "$RP"
wait "$RP" 2>/dev/null
check_eq "killed: Fede's and Gil's expiring rows were recorded" "recorded 2; pausing" "$(cat "$T/run.out")"
"$LEAL" ledger post --db "$DB" --account "$(acct "$GIL")" --asset PTS --amount -7 --reason spent \
    --operator staff >/dev/null || exit 1
run
check_eq "killed: the restart sends Fede's, skips Gil's (spent)" \
    "0|0 recorded, 1 sent|fede@example.org|1 skipped" "$RC|$SUMMARY|$(new_rcpts)|$(grep -o '[0-9]* skipped' <<<"$OUT")"
check_eq "killed: Fede's message names only the points of that day" "Fede: 2 puntos caducan el $(
    D=$(lastday 13); echo "${D:8:2}/${D:5:2}/${D:0:4}")." "$(read_msg fede@example.org puntos | sed -n 3p)"

# Welcome: customers enrolled in the last 2 days with consent; Bea's
# enrolment is moved 3 days back (standing in for the passage of time).
q "UPDATE customer SET created_at = created_at - 3 * $DAY WHERE id = $BEA"
printf 'Bienvenido, {{name}}.\n' >"$T/we_es.txt"
"$LEAL" messages template --db "$DB" --program 7 --occasion welcome --days 2 \
    --subject 'Bienvenido a {{program}}' --text "$T/we_es.txt" >/dev/null || exit 1
run
check_eq "welcome: everyone enrolled in the last 2 days with consent (not Bea, not Carlos)" \
    "0|4 recorded, 4 sent|ana@example.org
eva@example.org
fede@example.org
gil@example.org" "$RC|$SUMMARY|$(new_rcpts)"
check_eq "welcome: Gil's text" "<gil@example.org>
Bienvenido a Café Sol
Bienvenido, Gil." "$(read_msg gil@example.org Bienvenido | head -3)"
run
check_eq "welcome: once" "0|0 recorded, 0 sent|" "$RC|$SUMMARY|$(new_rcpts)"
check_eq "at the end: no message to Bea (active, enrolled earlier) or Carlos (no consent)" 0 \
    "$(q "SELECT count(*) FROM message_send WHERE customer_id IN ($BEA, $CARLOS)")"

# The migration: a ledger of the previous version, with a birthday template
# and no language, gets the template in its program's locale. The ledger is
# rolled back to the version MSG_OCCASIONS_MIGRATION starts from (read from
# schema.c's "from -> to" comment, so a renumbering follows), and what the
# migrations after it made is dropped so they all run again: the campaign
# tables (CAMPAIGN), qr_static_text (QR_TEXT), the report indexes
# (REPORT_INDEX), message_tier and message_web (TIER_MSG), card_pin and
# portal_redemption (PORTAL2), message_gateway and the view message_channel
# (MSG_GATEWAY; it rebuilds message_send from whatever columns it has),
# consent's purposes and evidence and message_channel_text (MSG_PURPOSE), the
# report summaries and their mark (REPORT_SUMMARY), the erasure requests, the
# card holders and the notes' signer and edit time (WEB9).
[ "$BK" = sqlite ] || {
    finish
    exit
}
FROM=$(grep -o 'MSG_OCCASIONS_MIGRATION, */\* [0-9]* ->' host/ledger/schema.c | grep -o '[0-9][0-9]*')
M=$T/old.db
"$LEAL" program create --db "$M" --code luna --name Luna --id 8 --locale es >/dev/null || exit 1
sqlite3 "$M" "DROP TABLE message_template; DROP TABLE message_occasion; DROP TABLE customer_lang;
DROP TABLE message_campaign_text; DROP TABLE message_campaign; DROP TABLE message_birthday_bonus;
DROP TABLE qr_static_text; DROP INDEX entry_program_at; DROP INDEX customer_program_created;
DROP TABLE message_tier; DROP TABLE message_web;
DROP TABLE card_pin; DROP TABLE portal_redemption;
DROP VIEW message_channel; DROP TABLE message_gateway;
ALTER TABLE consent DROP COLUMN purposes; ALTER TABLE consent DROP COLUMN evidence;
DROP TABLE message_channel_text;
DROP TABLE report_mark;
DROP TABLE report_day; DROP TABLE report_visit;
DROP TABLE terminal_tmac;
DROP TABLE report_held; DROP TABLE report_redeem;
DROP TABLE message_bounce; ALTER TABLE consent DROP COLUMN text_version;
DROP TABLE erasure_request; DROP TABLE card_holder; ALTER TABLE customer_note DROP COLUMN user_id; ALTER TABLE customer_note DROP COLUMN edited_at;
DROP TABLE web_reset; ALTER TABLE web_user DROP COLUMN email;
CREATE TABLE message_template(program_id INTEGER NOT NULL REFERENCES program(id),
 occasion TEXT NOT NULL CHECK (occasion IN ('birthday')), subject TEXT NOT NULL, body_text TEXT NOT NULL,
 body_html TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (program_id, occasion)) STRICT, WITHOUT ROWID;
INSERT INTO message_template VALUES (8, 'birthday', 'Feliz', 'Hola {{name}}', '', 1);
PRAGMA user_version = $FROM;"
run_capture "$LEAL" messages template --db "$M" --program 8 --occasion welcome --days 7 --lang en \
    --subject Welcome --text "$T/in_en.txt"
check_eq "migration: the old template is Spanish (the locale), a new occasion is stored beside it" \
    "0|8|birthday|es|Feliz|Hola {{name}}
8|welcome|en|Welcome|Hi {{name}}, we miss you. You have {{points}} points." \
    "$RC|$(sqlite3 "$M" "SELECT program_id, occasion, lang, subject, body_text FROM message_template ORDER BY occasion")"
finish
