#!/bin/bash
# portal_qr_none.sh - the customer portal for a customer it shows no static
# QR code (issue 16). The portal issues none (it holds no key: README, the
# portal's "No code to show"); it says why, from the customer's newest static
# code: never one (with an active card: the card earns as it is; with
# neither: ask the desk), expired (with the day), withdrawn at the desk, or
# issued before the ledger kept codes' texts. Each is checked through the
# API (`"why"`) and word for word on the page in Debian's headless chromium
# (tests/web/portal_qr.js), English and Spanish; then the desk issues the
# card holder a code and the page shows it: zbarimg reads the screenshot to
# the code's exact text and `leal qr verify` accepts it. Sign-in links come
# through a real SMTP server on 127.0.0.1 (tests/lib/smtp_sink.py).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-portal-qr-XXXXXX)
PID= SINK_PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/ledger.db
SHOTS=build/screenshots/portal-qr
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
export XDG_DATA_HOME=$T/xdg USER=tester LEAL_PASSPHRASE="portal qr test passphrase"
q() { sqlite3 "$DB" "$1"; }

"$LEAL" keys init --issuer "Café Sol" --program 1 >/dev/null || exit 1
"$LEAL" program create --db "$DB" --code sol --name "Café Sol" --points-per-euro 1 >/dev/null || exit 1
"$LEAL" program create --db "$DB" --code luna --name "Café Luna" --locale es >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 1 --code c1 --name "Sol Centro" --tz Europe/Madrid >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 240 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
for p in 1 2; do
    "$LEAL" mail set --db "$DB" --program $p --server 127.0.0.1 --port "$(cat "$T/port")" --tls none \
        --from club@sol.example >/dev/null || exit 1
done
customer() { # PROGRAM NAME EMAIL: the new customer's account
    "$LEAL" customer add --db "$DB" --program "$1" --name "$2" --surname Test --email "$3" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])'
}
issue() { "$LEAL" qr issue --db "$DB" --account "$1" -o "$T/issued-$1.png" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["virtual_card"])'; }
BEA=$(customer 1 Bea bea@example.org)   # a card, never a QR code
DANI=$(customer 1 Dani dani@example.org) # neither
EVA=$(customer 1 Eva eva@example.org)   # a code, blocked at the desk
FEDE=$(customer 1 Fede fede@example.org) # a code issued before texts were kept
GIL=$(customer 1 Gil gil@example.org)   # a code expired
LUZ=$(customer 2 Luz luz@example.org)   # a card, never a QR code, in a Spanish program
"$LEAL" account add-card "$BEA" --card-id 701 --uid 04a1b2c3d4e701 --tech desfire-ev2 --status active --db "$DB" >/dev/null || exit 1
"$LEAL" account add-card "$LUZ" --card-id 702 --uid 04a1b2c3d4e702 --tech desfire-ev2 --status active --db "$DB" >/dev/null || exit 1
EVA_VC=$(issue "$EVA")
"$LEAL" card block "$EVA_VC" --reason "phone lost" --db "$DB" >/dev/null || exit 1
FEDE_VC=$(issue "$FEDE")
q "delete from qr_static_text where card_id = $FEDE_VC" # as a code issued before the text was kept
GIL_VC=$(issue "$GIL")
# An expired code: the ledger's kept expiry moved to yesterday 00:00 UTC (a
# code's expiry is a UTC day; waiting one out is no test).
EXPIRED_AT=$(($(date -u -d "$(date -u +%F)" +%s) - 86400))
q "update qr_static_text set expires_at = $EXPIRED_AT where card_id = $GIL_VC"
check_eq "the virtual cards: Eva's blocked, Fede's without text, Gil's expired yesterday" \
    "blocked|0|$EXPIRED_AT" \
    "$(q "select status from card where card_id = $EVA_VC")|$(q "select count(*) from qr_static_text where card_id = $FEDE_VC")|$(q "select expires_at from qr_static_text where card_id = $GIL_VC")"

"$LEAL" serve --listen 127.0.0.1:0 --db "$DB" >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")

# signin N EMAIL: asks a link from 127.0.0.N, takes it from the inbox, signs in
# with curl (jar T/jar-N) and sets COOKIE to the portal session cookie's value.
MAILS=0
signin() {
    curl -s -o /dev/null --interface "127.0.0.$1" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$2\"}" "$URL/portal/api/link"
    MAILS=$((MAILS + 1))
    for _ in $(seq 200); do [ "$(ls "$T/inbox" | grep -c '\.eml$')" -ge "$MAILS" ] && break; sleep 0.05; done
    local token
    token=$($PY - "$T/inbox/$(printf %04d "$MAILS").eml" <<'PY'
import email, email.policy, re, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
print(re.findall(r"#t=([0-9a-f]{64})", m.get_body(("plain",)).get_content())[0])
PY
)
    curl -s -o /dev/null -c "$T/jar-$1" -H 'Content-Type: application/json' -d "{\"token\":\"$token\"}" \
        "$URL/portal/api/session"
    COOKIE=$(awk '$6 == "leal_portal" { print $7 }' "$T/jar-$1")
}
why() { curl -s -b "$T/jar-$1" "$URL/portal/api/qr" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["qr"], d["why"], d.get("expired_at", "-"))'; }
ARGS=()
n=10
for who in bea dani eva fede gil luz; do
    n=$((n + 1))
    signin $n "$who@example.org"
    WHY[$n]=$(why $n)
    ARGS+=("$who=$COOKIE")
    eval "N_$who=$n"
done
check_eq "the API says why: none (Bea, Dani), withdrawn (Eva), not_kept (Fede), expired with when (Gil), none (Luz)" \
    "None none -|None none -|None withdrawn -|None not_kept -|None expired $EXPIRED_AT|None none -" \
    "${WHY[11]}|${WHY[12]}|${WHY[13]}|${WHY[14]}|${WHY[15]}|${WHY[16]}"

timeout 120 node tests/web/portal_qr.js "$URL" "$SHOTS" "${ARGS[@]}" >"$T/page.out" 2>"$T/page.err"
check_eq "tests/web/portal_qr.js ran" "0|" "$?|$(cat "$T/page.err")"
YESTERDAY=$(date -u -d "@$EXPIRED_AT" +%F)
check_eq "the page says why, word for word (lang|why|text)" \
    "bea|en|none|You have no QR code yet: your card earns at the till as it is; ask at the shop's desk if you want a QR code too.
dani|en|none|You have no card or QR code yet: ask for one at the shop's desk.
eva|en|withdrawn|Your QR code was withdrawn: ask at the shop's desk for a new one.
fede|en|not_kept|Your QR code was made before this page could show it: use the one the shop gave you, or ask at the desk for a new one.
gil|en|expired|Your QR code expired on $YESTERDAY: ask at the shop's desk for a new one.
luz|es|none|Aún no tienes código QR: tu tarjeta ya suma en caja; pídelo en el mostrador de la tienda si también lo quieres." \
    "$(sed -n 's/^NOQR //p' "$T/page.out")"

# The desk issues Bea a code: her next visit shows it.
read -r QR_TEXT QR_VC < <("$LEAL" qr issue --db "$DB" --account "$BEA" -o "$T/bea.png" --json |
    $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["text"].replace(" ", "~"), d["virtual_card"])')
QR_TEXT=${QR_TEXT//\~/ }
timeout 120 node tests/web/portal_qr.js "$URL" "$SHOTS" "bea=$(awk '$6 == "leal_portal" { print $7 }' "$T/jar-$N_bea")" >"$T/page2.out" 2>"$T/page2.err"
check_eq "Bea's page now shows a code, none of the lines" "0|bea|shown|$QR_VC" \
    "$?|$(sed -n 's/^QR //p' "$T/page2.out")"
check_eq "zbarimg reads the screenshot of it to the code's exact text" \
    "$QR_TEXT" "$(zbarimg --raw -q "$SHOTS/bea-qr.png" 2>/dev/null)"
run_capture "$LEAL" qr verify "$(zbarimg --raw -q "$SHOTS/bea-qr.png" 2>/dev/null)" --json
check_eq "and leal qr verify accepts it: Bea's account, the new virtual card" \
    "0 True static $BEA $QR_VC" \
    "$RC $(printf %s "$OUT" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["verified"], d["kind"], d["account"], d["virtual_card"])')"
finish
