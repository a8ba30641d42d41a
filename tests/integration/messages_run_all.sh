#!/bin/bash
# messages_run_all.sh - one scheduled `leal messages run` with the three
# occasions of issue 17's Done-means together (birthday today, inactive,
# points expiring), against a real SMTP server on 127.0.0.1
# (tests/lib/smtp_sink.py): the run sends exactly the expected set (one
# customer gets all three, one has no consent, one is neither inactive nor
# expiring nor born today), a second run sends nothing new, and a run killed
# with SIGKILL halfway through its sending (the test hook
# LEAL_MESSAGES_PAUSE_AFTER_SENT=2 stops it after its second message) and
# restarted sends the rest, none twice.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/messages.sh

ZONE=Europe/Madrid
clear_of_midnight 120 "$ZONE" UTC # the birthday (local) and the expiry days (UTC), reckoned once
NOW=$(date +%s)
DAY=86400
TODAY=$(TZ=$ZONE date +%F)
MD=${TODAY:5:5}
messages_fixture msgall "$ZONE" --locale es --points-per-euro 1 --points-expiry-days 0

# add NAME EMAIL BIRTH(MM-DD) CONSENT(yes|no): prints the new customer's id (born in 1992, a leap year).
add() {
    local id
    id=$("$LEAL" customer add --db "$DB" --program 7 --name "$1" --email "$2" --birth-date "1992-$3" \
        --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    "$LEAL" customer consent "$id" --db "$DB" --channel email --granted "$4" --method form \
        --by staff >/dev/null || exit 1
    echo "$id"
}
acct() { sqlite3 "$DB" "SELECT account_id FROM customer WHERE id = $1"; }
# visit CUSTOMER SECONDS_AGO: a 10-euro sale that long ago.
visit() { "$LEAL" sale --db "$DB" --account "$(acct "$1")" --amount 10 --store 1 --at "@$((NOW - $2))" >/dev/null || exit 1; }
# points CUSTOMER N DAYS_AHEAD: N points usable until that day (UTC).
points() {
    "$LEAL" ledger post --db "$DB" --account "$(acct "$1")" --asset PTS --amount "$2" --reason gift \
        --operator staff --expires "$(date -u -d "@$((NOW + $3 * DAY))" +%F)" >/dev/null || exit 1
}
OTHER_MD=$(TZ=$ZONE date -d "$TODAY + 40 days" +%m-%d)
ANA=$(add Ana ana@example.org "$MD" yes)          # birthday today
BEA=$(add Bea bea@example.org "$OTHER_MD" yes)    # last visit 40 days ago: inactive
CARLOS=$(add Carlos carlos@example.org "$OTHER_MD" yes) # 6 points expiring in 10 days
DANI=$(add Dani dani@example.org "$MD" yes)       # all three
EVA=$(add Eva eva@example.org "$MD" no)           # all three, but no consent
FEDE=$(add Fede fede@example.org "$OTHER_MD" yes) # visited 5 days ago: none
visit "$BEA" $((40 * DAY))
visit "$DANI" $((40 * DAY))
visit "$EVA" $((40 * DAY))
visit "$FEDE" $((5 * DAY))
points "$CARLOS" 6 10
points "$DANI" 4 10
points "$EVA" 4 10

printf 'Feliz cumpleaños, {{name}}.\n' >"$T/b.txt"
printf 'Te echamos de menos, {{name}}.\n' >"$T/i.txt"
printf '{{name}}: {{expiring_points}} puntos caducan el {{expiry_date}}.\n' >"$T/e.txt"
"$LEAL" messages template --db "$DB" --program 7 --occasion birthday --subject Cumple --text "$T/b.txt" >/dev/null || exit 1
"$LEAL" messages template --db "$DB" --program 7 --occasion inactive --days 30 --subject Vuelve --text "$T/i.txt" >/dev/null || exit 1
"$LEAL" messages template --db "$DB" --program 7 --occasion expiring --days 14 --subject Caducan --text "$T/e.txt" >/dev/null || exit 1

# Every message received: "recipient subject: first line", sorted.
received() {
    $PY -c '
import email, email.policy, glob, sys
out = []
for f in glob.glob(sys.argv[1] + "/*.eml"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    out.append("%s %s: %s" % (m["To"], m["Subject"], m.get_body(("plain",)).get_content().splitlines()[0]))
print("\n".join(sorted(out)))' "$T/inbox"
}
D=$(date -u -d "@$((NOW + 10 * DAY))" +%F) # the points' last day of use (UTC, as lots keep it)
EXP=$(TZ=$ZONE date -d "$(date -u -d "$D + 1 day" +%F) 00:00 UTC - 1 second" +%d/%m/%Y)
EXPECTED="ana@example.org Cumple: Feliz cumpleaños, Ana.
bea@example.org Vuelve: Te echamos de menos, Bea.
carlos@example.org Caducan: Carlos: 6 puntos caducan el $EXP.
dani@example.org Caducan: Dani: 4 puntos caducan el $EXP.
dani@example.org Cumple: Feliz cumpleaños, Dani.
dani@example.org Vuelve: Te echamos de menos, Dani."

# Run 1, killed halfway: after its second message, with SIGKILL.
LEAL_MESSAGES_PAUSE_AFTER_SENT=2 "$LEAL" messages run --db "$DB" --program 7 >"$T/run.out" 2>&1 &
RUN_PID=$!
for _ in $(seq 1200); do grep -q pausing "$T/run.out" && break; sleep 0.05; done
kill -9 "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
RUN_PID=
check_eq "killed: the run stopped after its second message" "sent 2; pausing" "$(cat "$T/run.out")"
check_eq "killed: 6 rows recorded, 2 sent, 4 still pending; the server has 2 messages" "sent|2 pending|4 |2" \
    "$(sqlite3 "$DB" "SELECT state || '|' || count(*) FROM message_send GROUP BY state ORDER BY state DESC" | tr '\n' ' ')|$(ls "$T"/inbox/*.eml | wc -l)"

run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "restart: the 4 left sent, nothing recorded twice" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 4 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown" "$RC|$OUT"
check_eq "the server got exactly the expected set, each once: birthday, inactive and expiring" \
    "$EXPECTED" "$(received)"
check_eq "the rows: one per customer and occasion, each sent on its first attempt" \
    "$ANA|birthday|$TODAY|sent|1
$BEA|inactive|sent|1
$CARLOS|expiring|sent|1
$DANI|birthday|$TODAY|sent|1
$DANI|expiring|sent|1
$DANI|inactive|sent|1" \
    "$(sqlite3 "$DB" "SELECT customer_id, occasion, CASE occasion WHEN 'birthday' THEN day || '|' ELSE '' END || state, attempts FROM message_send ORDER BY customer_id, occasion")"
run_capture "$LEAL" messages run --db "$DB" --program 7
check_eq "run 2: nothing new" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown|6" \
    "$RC|$OUT|$(ls "$T"/inbox/*.eml | wc -l)"
check_eq "nothing to Eva (no consent) nor Fede (none of the three)" "0|0" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM message_send WHERE customer_id = $EVA")|$(sqlite3 "$DB" "SELECT count(*) FROM message_send WHERE customer_id = $FEDE")"
finish
