#!/bin/bash
# messages_tier.sh - `leal messages` for tier changes (issue 17): tier_up and
# tier_down, detected from the rules engine's tier of each customer (the
# spend over the tier window against the program's thresholds) against the
# tier the last run kept, once per customer and change, with {{tier}} and
# {{next_tier_missing}}. Sent through a real SMTP server on 127.0.0.1
# (tests/lib/smtp_sink.py) and read back with Python's email parser.
# The same on PostgreSQL with LEAL_TEST_BACKEND=pg (not in make test).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/messages.sh
clear_of_midnight 60 Europe/Madrid # one message per customer, tier and day, reckoned once

messages_fixture msgtier Europe/Madrid --locale es --points-per-euro 1 --points-expiry-days 0
"$LEAL" tier add --db "$DB" --program 7 --name Plata --threshold 50 --reason test >/dev/null || exit 1
"$LEAL" tier add --db "$DB" --program 7 --name Oro --threshold 100 --reason test >/dev/null || exit 1

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
# sale CUSTOMER EUROS: prints the sale's id.
sale() {
    "$LEAL" sale --db "$DB" --account "$(acct "$1")" --amount "$2" --store 1 --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["sale"])' || exit 1
}
run() {
    run_capture "$LEAL" messages run --db "$DB" --program 7
    SUMMARY=$(grep -o '[0-9]* recorded, [0-9]* sent' <<<"$OUT")
}
# read_msg ADDRESS TEXT: the first message to ADDRESS whose text part
# contains TEXT: Subject, then the text part.
read_msg() {
    $PY -c '
import email, email.header, email.policy, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.compat32)
    body = "".join(p.get_payload(decode=True).decode().replace("\r\n", "\n")
                   for p in m.walk() if p.get_content_type() == "text/plain")
    if m["To"] == "<" + sys.argv[2] + ">" and sys.argv[3] in body:
        print(str(email.header.make_header(email.header.decode_header(m["Subject"]))))
        print(body, end="")
        break' "$T/inbox" "$1" "$2"
}
tiers() { q "SELECT customer_id, tier FROM message_tier ORDER BY 1" | tr '\n' ' '; }

ANA=$(add Ana ana@example.org yes)
BEA=$(add Bea bea@example.org yes)
CARLOS=$(add Carlos carlos@example.org no)
DANI=$(add Dani dani@example.org yes)
"$LEAL" messages lang --db "$DB" --customer "$BEA" --lang en >/dev/null || exit 1
sale "$DANI" 60 >/dev/null # Plata before any tier template: not news

printf 'Hola {{name}}, ya eres {{tier}}. Te faltan {{next_tier_missing}} euros para el siguiente nivel.\n' >"$T/up_es.txt"
printf 'Hi {{name}}, you are {{tier}} now. {{next_tier_missing}} euros more for the next tier.\n' >"$T/up_en.txt"
printf '{{name}}, ahora tu nivel es "{{tier}}". Te faltan {{next_tier_missing}} euros para recuperarlo.\n' >"$T/down_es.txt"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion tier_up --days 3 \
    --subject x --text "$T/up_es.txt"
check_eq "template: tier_up takes no --days, exit 2" 2 "$RC"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion tier_sideways \
    --subject x --text "$T/up_es.txt"
check_eq "template: an unknown occasion names the six, exit 2" \
    "2|leal: the occasion is birthday, inactive, expiring, welcome, tier_up or tier_down, not 'tier_sideways' (see 'leal --help')" \
    "$RC|$ERR"
run_capture "$LEAL" messages template --db "$DB" --program 7 --occasion tier_up \
    --subject '¡Nivel {{tier}}!' --text "$T/up_es.txt"
check_eq "template: tier_up stored" "0|program 7: tier_up template stored" "$RC|$OUT"
"$LEAL" messages template --db "$DB" --program 7 --occasion tier_up --lang en \
    --subject 'Level {{tier}}!' --text "$T/up_en.txt" >/dev/null || exit 1
"$LEAL" messages template --db "$DB" --program 7 --occasion tier_down \
    --subject 'Tu nivel' --text "$T/down_es.txt" >/dev/null || exit 1
check_eq "baseline: storing the first tier template kept every customer's tier (Dani 1)" \
    "$ANA 0 $BEA 0 $CARLOS 0 $DANI 1 " "$(tiers | tr '|' ' ')"

run
check_eq "run 1: nothing changed since the templates: nothing sent" "0|0 recorded, 0 sent|" \
    "$RC|$SUMMARY|$(new_rcpts)"

sale "$ANA" 60 >/dev/null     # Plata (60 of 100 for Oro)
BEA_SALE=$(sale "$BEA" 70)    # Plata (70)
sale "$CARLOS" 60 >/dev/null  # Plata, but no consent
sale "$DANI" 50 >/dev/null    # Oro (110): the top
run
check_eq "run 2: Ana, Bea and Dani went up: 3 recorded, 3 sent" "0|3 recorded, 3 sent" "$RC|$SUMMARY"
check_eq "run 2: exactly Ana, Bea and Dani, once each" "ana@example.org
bea@example.org
dani@example.org" "$(new_rcpts)"
check_eq "run 2: Ana's message (Spanish), euros missing with a decimal comma" "¡Nivel Plata!
Hola Ana, ya eres Plata. Te faltan 40,00 euros para el siguiente nivel." \
    "$(read_msg ana@example.org 'Hola Ana' | head -2)"
check_eq "run 2: Bea's message (English), euros missing with a decimal point" "Level Plata!
Hi Bea, you are Plata now. 30.00 euros more for the next tier." \
    "$(read_msg bea@example.org 'Hi Bea' | head -2)"
check_eq "run 2: Dani's message: Oro, nothing above it" "¡Nivel Oro!
Hola Dani, ya eres Oro. Te faltan  euros para el siguiente nivel." \
    "$(read_msg dani@example.org 'Hola Dani' | head -2)"
check_eq "run 2: the rows name the tier reached" "$ANA|tier_up:1|sent
$BEA|tier_up:1|sent
$DANI|tier_up:2|sent" \
    "$(q "SELECT customer_id, occasion, state FROM message_send ORDER BY customer_id")"
check_eq "run 2: every customer's new tier is kept (Carlos's too)" \
    "$ANA 1 $BEA 1 $CARLOS 1 $DANI 2 " "$(tiers | tr '|' ' ')"

run
check_eq "run 3: nothing new" "0|0 recorded, 0 sent|" "$RC|$SUMMARY|$(new_rcpts)"

# Bea loses Plata (a refund takes 30 of her 70 euros back); no tier_down
# template in English, so hers is in Spanish. Ana reaches Oro.
"$LEAL" sale refund --db "$DB" --sale "$BEA_SALE" --amount 30 >/dev/null || exit 1
sale "$ANA" 45 >/dev/null
run
check_eq "run 4: Bea down, Ana up: 2 recorded, 2 sent" "0|2 recorded, 2 sent" "$RC|$SUMMARY"
check_eq "run 4: exactly Ana and Bea" "ana@example.org
bea@example.org" "$(new_rcpts)"
check_eq "run 4: Bea's tier_down (in the locale: no English one), 10 euros to win Plata back" "Tu nivel
Bea, ahora tu nivel es \"\". Te faltan 10,00 euros para recuperarlo." \
    "$(read_msg bea@example.org 'Bea, ahora' | head -2)"
check_eq "run 4: Ana's tier_up to Oro" "¡Nivel Oro!
Hola Ana, ya eres Oro. Te faltan  euros para el siguiente nivel." \
    "$(read_msg ana@example.org 'ya eres Oro' | head -2)"
run
check_eq "run 5: nothing new" "0|0 recorded, 0 sent|" "$RC|$SUMMARY|$(new_rcpts)"

# Bea back to Plata the same day: a change to a tier she already heard of
# today is not told twice (one row per customer, tier and day).
sale "$BEA" 10 >/dev/null
run
check_eq "run 6: Bea back at Plata the same day: kept, not told again" \
    "0|0 recorded, 0 sent||$BEA 1" \
    "$RC|$SUMMARY|$(new_rcpts)|$(q "SELECT customer_id, tier FROM message_tier WHERE customer_id = $BEA" | tr '|' ' ')"

# A killed run: recorded, then SIGKILLed before sending; the restart sends
# each message once. Eva joins and reaches Plata.
EVA=$(add Eva eva@example.org yes)
sale "$EVA" 55 >/dev/null
LEAL_MESSAGES_PAUSE_AFTER_RECORD=30 "$LEAL" messages run --db "$DB" --program 7 >"$T/killed.out" 2>&1 &
PID=$!
for _ in $(seq 300); do grep -q pausing "$T/killed.out" && break; sleep 0.05; done
kill -KILL "$PID"
wait "$PID" 2>/dev/null
check_eq "killed run: recorded Eva's, sent nothing" "recorded 1; pausing|" \
    "$(cat "$T/killed.out")|$(new_rcpts)"
run
check_eq "restart: Eva's message sent once" "0|0 recorded, 1 sent|eva@example.org" \
    "$RC|$SUMMARY|$(new_rcpts)"
run
check_eq "again: nothing" "0|0 recorded, 0 sent|" "$RC|$SUMMARY|$(new_rcpts)"

check_eq "the send logs: Ana up to 1 then 2; Bea up to 1, down to 0" "tier_up:1 sent
tier_up:2 sent
tier_up:1 sent
tier_down:0 sent" "$("$LEAL" messages log --db "$DB" --customer "$ANA" | awk '{print $2, $4}'
"$LEAL" messages log --db "$DB" --customer "$BEA" | awk '{print $2, $4}')"
# Tiers added and removed: messages follow their tier, not its number. Kept
# now: Ana 2 and Dani 2 (Oro), Bea, Carlos and Eva 1 (Plata).
"$LEAL" tier add --db "$DB" --program 7 --name Bronce --threshold 20 --reason test >/dev/null || exit 1
check_eq "a tier added below the others: each kept tier follows its tier (Plata 2, Oro 3)" \
    "$ANA 3 $BEA 2 $CARLOS 2 $DANI 3 $EVA 2 " "$(tiers | tr '|' ' ')"
run
check_eq "run after the addition: nothing (no one's tier changed)" "0|0 recorded, 0 sent|" \
    "$RC|$SUMMARY|$(new_rcpts)"
# Fede reaches Oro (3); the run is killed after recording, before sending.
FEDE=$(add Fede fede@example.org yes)
sale "$FEDE" 110 >/dev/null
LEAL_MESSAGES_PAUSE_AFTER_RECORD=30 "$LEAL" messages run --db "$DB" --program 7 >"$T/killed2.out" 2>&1 &
PID=$!
for _ in $(seq 300); do grep -q pausing "$T/killed2.out" && break; sleep 0.05; done
kill -KILL "$PID"
wait "$PID" 2>/dev/null
check_eq "Fede's tier_up to Oro (3) recorded, not sent" "$FEDE|tier_up:3|pending" \
    "$(q "SELECT customer_id, occasion, state FROM message_send WHERE customer_id = $FEDE")"
# The middle tier, Plata (2), is removed: Oro is 2 now.
"$LEAL" tier remove 2 --db "$DB" --program 7 --reason test >/dev/null || exit 1
check_eq "Plata removed: Oro's customers (Fede's kept with his row) follow it (3 -> 2), Plata's keep 2 (they fall)" \
    "$ANA 2 $BEA 2 $CARLOS 2 $DANI 2 $EVA 2 $FEDE 2 " "$(tiers | tr '|' ' ')"
check_eq "Fede's message not sent yet names Oro's new number" "$FEDE|tier_up:2|pending" \
    "$(q "SELECT customer_id, occasion, state FROM message_send WHERE customer_id = $FEDE")"
run
check_eq "run after the removal: Plata's customers with consent (Bea, Eva) told they fell to Bronce, Fede's Oro sent; Ana and Dani nothing" \
    "0|2 recorded, 3 sent|bea@example.org
eva@example.org
fede@example.org" "$RC|$SUMMARY|$(new_rcpts)"
check_eq "the new rows: tier_down:1 for Bea, Carlos (no consent: no row) and Eva" \
    "$BEA|tier_down:1
$EVA|tier_down:1" \
    "$(q "SELECT customer_id, occasion FROM message_send WHERE occasion = 'tier_down:1' ORDER BY customer_id")"
check_eq "Fede's message names Oro" "¡Nivel Oro!
Hola Fede, ya eres Oro. Te faltan  euros para el siguiente nivel." \
    "$(read_msg fede@example.org 'Hola Fede' | head -2)"
check_eq "Eva's tier_down names Bronce (55 spent, 45 missing for Oro)" "Tu nivel
Eva, ahora tu nivel es \"Bronce\". Te faltan 45,00 euros para recuperarlo." \
    "$(read_msg eva@example.org 'Eva, ahora' | head -2)"
check_eq "kept tiers now: Oro 2, Bronce 1" "$ANA 2 $BEA 1 $CARLOS 1 $DANI 2 $EVA 1 $FEDE 2 " \
    "$(tiers | tr '|' ' ')"
run_capture "$LEAL" customer export "$ANA" --db "$DB"
check_eq "export: the kept tier is the customer's data" 1 \
    "$($PY -c 'import json,sys; print(len(json.load(sys.stdin)["tables"]["message_tier"]))' <<<"$OUT" 2>&1)"
run_capture "$LEAL" ledger verify --db "$DB"
check_eq "ledger verify" 0 "$RC"
finish
