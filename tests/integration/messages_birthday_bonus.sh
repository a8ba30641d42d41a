#!/bin/bash
# messages_birthday_bonus.sh - the birthday bonus (issue 17): a program's
# birthday template carries `--bonus N`; `leal messages run` posts N points
# to each customer whose birthday it is, once per customer and year (request
# id birthday:CUSTOMER:YEAR), with or without an e-mail to them, before the
# message (whose {{points}} and {{bonus}} show it). The post is a host change:
# it waits for the customer's card and a terminal applies it at the card's
# next tap; after the journal is in, card and ledger agree, exactly.
# sim: only: seconds.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

program_fixture bday "bday test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
ZONE=Europe/Madrid
clear_of_midnight 60 "$ZONE" # today's birthdays and the bonus year, reckoned once
TODAY=$(TZ=$ZONE date +%F)
MD=${TODAY:5:5}
TOMORROW_MD=$(TZ=$ZONE date -d "$TODAY + 1 day" +%m-%d)
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 120 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
"$LEAL" mail set --program 7 --server 127.0.0.1 --port "$(cat "$T/port")" --tls none \
    --from club@sol.example >/dev/null || exit 1

# add NAME EMAIL MM-DD: the new customer's id (born in 1992, a leap year), e-mail consent granted.
add() {
    local id
    id=$("$LEAL" customer add --program 7 --name "$1" --email "$2" --birth-date "1992-$3" --json | field id) || exit 1
    "$LEAL" customer consent "$id" --channel email --granted yes --method form --by staff >/dev/null || exit 1
    echo "$id"
}
pts() { q "SELECT coalesce(sum(l.amount), 0) FROM line l JOIN customer c ON c.account_id = l.account_id WHERE c.id = $1 AND l.asset = 'PTS'"; }
eml_count() { ls "$T/inbox" | grep -c '\.eml$'; }
ANA=$(add Ana ana@example.org "$MD")      # birthday today, a card
BEA=$(add Bea "" "$MD")                   # birthday today, no address: the bonus, no message
CARLOS=$(add Carlos carlos@example.org "$TOMORROW_MD")
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
CARD=$("$LEAL" card issue --customer "$ANA" --reader "sim:$T/ana.json" --json | field card_id)

printf 'Hola {{name}}: te regalamos {{bonus}} puntos. Tienes {{points}}.\n' >"$T/b.txt"
printf 'Hola {{name}}\n' >"$T/i.txt"
run_capture "$LEAL" messages template --program 7 --occasion inactive --days 30 --bonus 5 --subject x --text "$T/i.txt"
check_eq "--bonus on another occasion: exit 2" 2 "$RC"
run_capture "$LEAL" messages template --program 7 --occasion birthday --bonus 100001 --subject x --text "$T/b.txt"
check_eq "--bonus over 100000: exit 2, nothing stored" "2|0" "$RC|$(q "SELECT count(*) FROM message_template")"
run_capture "$LEAL" messages template --program 7 --occasion birthday --bonus 50 \
    --subject 'Feliz cumpleaños' --text "$T/b.txt"
check_eq "template with a bonus: stored" "0|50" "$RC|$(q "SELECT points FROM message_birthday_bonus WHERE program_id = 7")"

run_capture "$LEAL" messages run --program 7
check_eq "run 1: the bonus to Ana and Bea, then Ana's message" \
    "0|program 7, $TODAY: birthday bonus of 50 points posted to 2 customer(s)
program 7, $TODAY ($ZONE): 1 recorded, 1 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown" \
    "$RC|$OUT"
check_eq "run 1: balances: Ana 50, Bea 50, Carlos 0" "50 50 0" "$(pts "$ANA") $(pts "$BEA") $(pts "$CARLOS")"
check_eq "run 1: one entry each, kind adjust, its request id and reference" \
    "adjust|birthday:$ANA:${TODAY:0:4}|bonus birthday ${TODAY:0:4}|leal messages
adjust|birthday:$BEA:${TODAY:0:4}|bonus birthday ${TODAY:0:4}|leal messages" \
    "$(q "SELECT kind, request_id, reference, operator FROM entry WHERE request_id LIKE 'birthday:%' ORDER BY id")"
check_eq "run 1: Ana's message shows the bonus and her points" \
    "Hola Ana: te regalamos 50 puntos. Tienes 50." \
    "$($PY -c '
import email, glob, sys
m = email.message_from_binary_file(open(glob.glob(sys.argv[1] + "/*.eml")[0], "rb"))
print([p for p in m.walk() if not p.is_multipart()][0].get_payload(decode=True).decode().splitlines()[0])' "$T/inbox")"

run_capture "$LEAL" messages run --program 7
check_eq "run 2: no bonus line, nothing sent" \
    "0|program 7, $TODAY ($ZONE): 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 0 skipped, 0 unknown" "$RC|$OUT"
"$LEAL" messages template --program 7 --occasion birthday --bonus 60 --subject 'Feliz cumpleaños' \
    --text "$T/b.txt" >/dev/null || fail "bonus changed to 60"
q "DELETE FROM message_send" # as if the messages had never been recorded: the bonus has its own key
run_capture "$LEAL" messages run --program 7
check_eq "run 3 (bonus now 60, messages again): no second bonus this year" \
    "0|50 50|2" "$RC|$(pts "$ANA") $(pts "$BEA")|$(q "SELECT count(*) FROM entry WHERE request_id LIKE 'birthday:%'")"
"$LEAL" messages template --program 7 --occasion birthday --bonus 0 --subject 'Feliz cumpleaños' \
    --text "$T/b.txt" >/dev/null || fail "bonus removed"
check_eq "--bonus 0 removes it" 0 "$(q "SELECT count(*) FROM message_birthday_bonus")"

# The bonus waits for Ana's card; the next tap applies it.
run_capture "$LEAL" account show "$(q "SELECT account_id FROM card WHERE card_id = $CARD")" --json
check_eq "the bonus waits for Ana's card: +50, unsent" "50 unsent" \
    "$($PY -c 'import json,sys; w = json.load(sys.stdin)["waiting"][0]; print(w["points"], w["state"])' <<<"$OUT")"
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$T/till" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$T/till" >/dev/null
run_capture "$LT" tap --earn 10 --reader "sim:$T/ana.json" --data "$T/till"
check_eq "the till applies the bonus and earns 10: 0 -> 60" "0|card $CARD earn: +10 points, 0 -> 60" "$RC|$OUT"
"$LT" journal export -o "$T/e.ljx" --data "$T/till" >/dev/null
"$LEAL" sync import "$T/e.ljx" >/dev/null || fail "journal imported"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "card read: nothing waits (None), card and ledger agree at 60" "None True 60" \
    "$(field waiting <<<"$OUT") $(field agrees <<<"$OUT") $(field ledger_points <<<"$OUT")"
check_eq "the ledger: Ana 60" 60 "$(pts "$ANA")"
run_capture "$LEAL" ledger verify
check_eq "ledger verify" 0 "$RC"
finish
