#!/bin/bash
# messages_sms_campaign.sh - campaigns and tier messages by SMS and WhatsApp
# (issue 17), through a program's gateways (no mail settings) to a real HTTP
# receiver on 127.0.0.1 (tests/lib/http_sink.py): one row per channel that
# reaches the member (a phone and that channel's consent), the exact
# requests, nothing twice on a second send, an SMS over 3 parts refused with
# its length (GSM-7 and UCS-2) while the WhatsApp of the same text goes, the
# campaign SMS's unsubscribe link withdrawing SMS consent only, a campaign's
# own SMS text (`messages template --channel sms`), and a tier_up message by
# SMS.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-msgsmsc-XXXXXX)
SINK_PID=
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/ledger.db
export XDG_DATA_HOME=$T/xdg USER=tester
L() { "$LEAL" "$@" --db "$DB"; }

L program create --code sol --name "Sol" --id 7 --locale es --points-per-euro 1 \
    --points-expiry-days 0 >/dev/null || exit 1
L store add --program 7 --code c1 --name Centro --tz Europe/Madrid >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/http_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 120 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
GW="http://127.0.0.1:$(cat "$T/port")/send"
"$LEAL" serve --listen 127.0.0.1:0 --db "$DB" >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
L messages web --program 7 --url "$URL" >/dev/null || exit 1
printf '{"to": "{{phone}}", "channel": "{{channel}}", "text": "{{text}}"}\n' >"$T/body.json"
for ch in sms whatsapp; do
    L messages gateway set --program 7 --channel $ch --url "$GW" --body "$T/body.json" >/dev/null || exit 1
done

# add NAME PHONE TAG CHANNEL...: a customer with those channels' consent.
add() {
    local id name=$1 phone=$2 tag=$3
    shift 3
    id=$(L customer add --program 7 --name "$name" --phone "$phone" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') || exit 1
    L customer tag "$id" "$tag" >/dev/null || exit 1
    for ch in "$@"; do
        L customer consent "$id" --channel "$ch" --granted yes --method form --by staff >/dev/null || exit 1
    done
    echo "$id"
}
ANA=$(add Ana '+34 600 000 001' vip sms)
BEA=$(add Bea '+34 600 000 002' vip sms whatsapp)
CARLOS=$(add Carlos '+34 600 000 003' vip)
DANI=$(add Dani '' vip sms)
EVA=$(add Eva '+34 600 000 005' other sms)
L segment add vip --program 7 --tag vip >/dev/null || exit 1
# The requests received, in order: "to channel text" per line (text's newlines as |).
received() {
    for f in $(ls "$T/inbox"/*.req | sort); do
        tail -1 "$f" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["to"], d["channel"], d["text"].replace("\n", "|"))'
    done
}
tok() { sqlite3 "$DB" "SELECT token FROM message_send WHERE customer_id = $1 AND occasion = '$2' AND channel = '$3'"; }

printf 'Hola {{name}}: doble de puntos esta semana.\n' >"$T/spring.txt"
L messages campaign add spring --program 7 --segment vip --subject x --text "$T/spring.txt" >/dev/null || exit 1
run_capture L messages campaign send spring --program 7
check_eq "send: a row per channel that reaches each member (Ana SMS, Bea SMS and WhatsApp)" \
    "0|campaign spring: 4 members, 3 recorded, 3 sent, 0 failed (retried later), 0 refused, 0 skipped" \
    "$RC|$OUT"
check_eq "the rows: no e-mail (no mail settings), none to Carlos (no consent) or Dani (no phone)" \
    "$ANA|sms|sent
$BEA|sms|sent
$BEA|whatsapp|sent" \
    "$(sqlite3 "$DB" "SELECT customer_id, channel, state FROM message_send ORDER BY customer_id, channel")"
check_eq "the exact requests, each with its own unsubscribe link" \
    "+34 600 000 001 sms Hola Ana: doble de puntos esta semana.|Baja: $URL/unsubscribe/$(tok "$ANA" campaign:spring sms)
+34 600 000 002 sms Hola Bea: doble de puntos esta semana.|Baja: $URL/unsubscribe/$(tok "$BEA" campaign:spring sms)
+34 600 000 002 whatsapp Hola Bea: doble de puntos esta semana.|Baja: $URL/unsubscribe/$(tok "$BEA" campaign:spring whatsapp)" \
    "$(received)"
run_capture L messages campaign send spring --program 7
check_eq "a second send: nothing recorded, nothing sent" \
    "0|campaign spring: 4 members, 0 recorded, 0 sent, 0 failed (retried later), 0 refused, 0 skipped|3" \
    "$RC|$OUT|$(ls "$T/inbox" | wc -l)"

# Length: 3 SMS parts at most (459 GSM-7 characters, 201 UCS-2 units).
LINK_LEN=$((${#URL} + 13 + 32)) # "/unsubscribe/" and the token
{ printf 'x%.0s' $(seq 420); echo; } >"$T/long.txt"
L messages campaign add long --program 7 --segment vip --subject x --text "$T/long.txt" >/dev/null || exit 1
run_capture L messages campaign send long --program 7
GSM=$((420 + 1 + 6 + LINK_LEN))
check_eq "a GSM-7 text over 459: the SMS refused for good with its length, the WhatsApp sent" \
    "1|campaign long: 4 members, 3 recorded, 1 sent, 0 failed (retried later), 2 refused, 0 skipped|refused|refused|sent" \
    "$RC|$OUT|$(sqlite3 "$DB" "SELECT state FROM message_send WHERE occasion = 'campaign:long' ORDER BY customer_id, channel" | tr '\n' '|' | sed 's/|$//')"
check_eq "the reason: characters, alphabet, parts" \
    "the SMS is $GSM GSM-7 characters with its link, 4 parts (at most 3: 459 characters); not sent: shorten the SMS text" \
    "$(sqlite3 "$DB" "SELECT error FROM message_send WHERE customer_id = $ANA AND occasion = 'campaign:long'")"
{ printf 'ç%.0s' $(seq 150); echo; } >"$T/ucs.txt"
L messages campaign add ucs --program 7 --segment vip --subject x --text "$T/ucs.txt" >/dev/null || exit 1
run_capture L messages campaign send ucs --program 7
check_eq "a text with a character outside GSM-7 (ç) counts UCS-2 units: over 201, refused" \
    "the SMS is $((150 + 1 + 6 + LINK_LEN)) UCS-2 characters with its link, 4 parts (at most 3: 201 characters); not sent: shorten the SMS text" \
    "$(sqlite3 "$DB" "SELECT error FROM message_send WHERE customer_id = $ANA AND occasion = 'campaign:ucs'")"
{ printf 'x%.0s' $(seq 300); echo; } >"$T/mid.txt"
L messages campaign add mid --program 7 --segment vip --subject x --text "$T/mid.txt" >/dev/null || exit 1
run_capture L messages campaign send mid --program 7
check_eq "a GSM-7 text of 3 parts is sent whole (the gateway concatenates)" \
    "0|3 sent|$((300 + 1 + 6 + LINK_LEN))" \
    "$RC|$(grep -o '[0-9]* sent' <<<"$OUT")|$(tail -1 "$(ls "$T/inbox"/*.req | sort | tail -1)" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["text"]))')"

# The campaign SMS's link withdraws SMS consent only.
check_eq "Ana's campaign SMS link: POST withdraws her SMS consent" "200|0|sms|unsubscribe link" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/unsubscribe/$(tok "$ANA" campaign:spring sms)")|$(sqlite3 "$DB" "SELECT granted, channel, method FROM consent WHERE customer_id = $ANA ORDER BY id DESC LIMIT 1")"
L messages campaign add after --program 7 --segment vip --subject x --text "$T/spring.txt" >/dev/null || exit 1
run_capture L messages campaign send after --program 7
check_eq "after it: Ana gets nothing, Bea both" "0|$BEA sms
$BEA whatsapp" \
    "$RC|$(sqlite3 -separator ' ' "$DB" "SELECT customer_id, channel FROM message_send WHERE occasion = 'campaign:after' ORDER BY 1, 2")"

# A campaign's own SMS text (in Spanish, the locale): SMS carries it,
# WhatsApp (no text of its own) the e-mail's plain text.
printf 'Largo texto para el correo, {{name}}, con todos los detalles.\n' >"$T/mail.txt"
printf '{{name}}: x2 puntos hoy\n' >"$T/sms.txt"
L messages campaign add corto --program 7 --segment vip --subject x --text "$T/mail.txt" >/dev/null || exit 1
run_capture L messages template --program 7 --occasion campaign:corto --channel fax --text "$T/sms.txt"
check_eq "--channel fax: exit 2" 2 "$RC"
run_capture L messages template --program 7 --occasion campaign:nada --channel sms --text "$T/sms.txt"
check_eq "an unknown campaign: exit 2, nothing stored" "2|0" \
    "$RC|$(sqlite3 "$DB" 'SELECT count(*) FROM message_channel_text')"
printf '{{nombre}}\n' >"$T/bad.txt"
run_capture L messages template --program 7 --occasion campaign:corto --channel sms --text "$T/bad.txt"
check_eq "an unknown variable: exit 2, nothing stored" "2|0" \
    "$RC|$(sqlite3 "$DB" 'SELECT count(*) FROM message_channel_text')"
run_capture L messages template --program 7 --occasion campaign:corto --channel sms --text "$T/sms.txt"
check_eq "the SMS text stored, with its length before variables and link ({ and } count 2)" \
    "0|program 7: campaign:corto sms text stored, 28 GSM-7 characters before variables and link|campaign:corto|es|sms" \
    "$RC|$OUT|$(sqlite3 "$DB" 'SELECT occasion, lang, channel FROM message_channel_text')"
N0=$(ls "$T/inbox" | wc -l)
run_capture L messages campaign send corto --program 7
check_eq "Bea's SMS carries the SMS text, her WhatsApp the e-mail's plain text" \
    "+34 600 000 002 sms Bea: x2 puntos hoy|Baja: $URL/unsubscribe/$(tok "$BEA" campaign:corto sms)
+34 600 000 002 whatsapp Largo texto para el correo, Bea, con todos los detalles.|Baja: $URL/unsubscribe/$(tok "$BEA" campaign:corto whatsapp)" \
    "$(received | tail -n +$((N0 + 1)))"

# tier_up by SMS.
L tier add --program 7 --name Plata --threshold 50 --reason test >/dev/null || exit 1
printf 'Hola {{name}}, ya eres {{tier}}.\n' >"$T/up.txt"
L messages template --program 7 --occasion tier_up --subject x --text "$T/up.txt" >/dev/null || exit 1
L sale --account "$(sqlite3 "$DB" "SELECT account_id FROM customer WHERE id = $EVA")" --amount 60 \
    --store 1 >/dev/null || exit 1
N0=$(ls "$T/inbox" | wc -l)
run_capture L messages run --program 7
check_eq "tier_up by SMS: one row for Eva, sent" "$EVA|tier_up:1|sms|sent" \
    "$(sqlite3 "$DB" "SELECT customer_id, occasion, channel, state FROM message_send WHERE occasion LIKE 'tier%'")"
check_eq "tier_up by SMS: the exact request" \
    "+34 600 000 005 sms Hola Eva, ya eres Plata.|Baja: $URL/unsubscribe/$(tok "$EVA" tier_up:1 sms)|1" \
    "$(tail -1 "$(ls "$T/inbox"/*.req | sort | tail -1)" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["to"], d["channel"], d["text"].replace("\n", "|"))')|$(($(ls "$T/inbox" | wc -l) - N0))"
run_capture L messages run --program 7
check_eq "a second run: no tier message again" "0 recorded, 0 sent" \
    "$(grep -o '[0-9]* recorded, [0-9]* sent' <<<"$OUT")"
finish
