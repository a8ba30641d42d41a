#!/bin/bash
# demo.sh BUILD - the leal story, told on the virtual card: run by `make demo`.
# Everything happens in a fresh temporary folder; nothing outside it is touched.
set -eu
B=${1:-build/release}
LEAL="$PWD/$B/bin/leal"
TERMINAL="$PWD/$B/bin/leal-terminal"
CARDSIM="$PWD/$B/bin/leal-cardsim"
# Debian's python3, the interpreter the tests use (PY in tests/lib/testlib.sh).
PY=${PY:-/usr/bin/python3}
D=$(mktemp -d /tmp/leal-demo-XXXXXX)
trap 'rm -rf "$D"' EXIT
export XDG_DATA_HOME="$D/data"
export LEAL_PASSPHRASE="demo keystore passphrase"
export LEAL_BACKUP_PASSPHRASE="demo backup passphrase"
export LEAL_BUNDLE_PASSPHRASE="demo bundle passphrase"
# The virtual EV3 card is signed with the test key pair and leal is told to trust
# it (a real EV3's NXP signature needs neither; host/issuance/originality.h).
export LEAL_CARDSIM_ORIGINALITY_KEY="$PWD/tests/vectors/originality_test_key.pem"
export LEAL_ORIGINALITY_TEST_KEY=0422b828d22d9b662341c7b6f4b41b1cf00bdb74cf92853675eed4f52998f512bc6a47196a36d97aaf70921fb26a77c141637e6dbd8ca72f5d

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "The issuer creates its keystore (one program, every role at version 1)" \
    "$LEAL" keys init --issuer "Café Sol" --program 1
step "Keys are listed by fingerprint, never shown" "$LEAL" keys list
step "A backup under its own passphrase, first thing" "$LEAL" keys backup -o "$D/keys.bak"
step "The shop's loyalty programme in the ledger (1 point per euro)" \
    "$LEAL" program create --code sol --name "Café Sol" --id 1 --points-per-euro 1
step "Its shop and the shop's kiosk" \
    "$LEAL" store add --program 1 --code centro --name "Sol Centro" --tz Europe/Madrid
"$LEAL" terminal add --store 1 --name "kiosk 1" >/dev/null
step "What the shop decides: double points on Tuesday afternoons (a new rule-set version)" \
    "$LEAL" rule add --program 1 --name "Martes doble" --multiplier 2 --days tue \
    --time 16:00-20:00 --reason "campaña de invierno" --operator Marta
"$LEAL" reward add --program 1 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason "catálogo" --operator Marta >/dev/null
"$LEAL" sale category add cafe --program 1 --code 3 >/dev/null
step "and a coffee stamp card: the tenth coffee is on the house" \
    "$LEAL" stamp add --program 1 --name "Café" --per item --category cafe --goal 10 --reward 1 \
    --reason "tarjeta de café" --operator Marta
step "Every change is kept: who, when, why, what" "$LEAL" rule history --program 1
step "The kiosk's key bundle: terminal roles of program 1 only, for 90 days" \
    "$LEAL" keys export-terminal --terminal 1 --program 1 --expires "$(date -u -d '+90 days' +%F)" \
    -o "$D/kiosk1.bundle"
step "The kiosk checks its bundle as it will at start-up" "$LEAL" keys verify-bundle "$D/kiosk1.bundle"
step "A customer" "$LEAL" customer add --program 1 --name Ana --surname "Pérez" --email ana@example.org
step "A blank MIFARE DESFire EV1 from the box (a virtual one: leal-cardsim)" \
    "$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$D/ana.json"
step "The desk personalises it: 50 welcome points and 20 euros on the purse" \
    "$LEAL" card issue --customer 1 --reader "sim:$D/ana.json" --welcome-points 50 --topup 20
step "Tapped again at the desk: the card, verified, and the ledger agree" \
    "$LEAL" card read --reader "sim:$D/ana.json"
step "The terminal key is rotated; cards in the field keep working on version 1" \
    "$LEAL" keys rotate terminal
step "A top-up of 12,50 euros, recorded exactly once; the card's terminal key becomes version 2" \
    "$LEAL" card top-up 12,50 --reader "sim:$D/ana.json"
ACCOUNT=$("$LEAL" customer show 1 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["account"])')
step "The customer's account in the ledger" "$LEAL" account show "$ACCOUNT"
CARD=$("$LEAL" card read --reader "sim:$D/ana.json" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["card_id"])')
step "Ana loses her card: the desk blocks it, saying why" \
    "$LEAL" card block "$CARD" --reason "lost at the gym"
"$CARDSIM" new --type desfire-ev3 --random-uid -o "$D/ana2.json" >/dev/null
step "A new card (a random-UID EV3) takes over the lost card's purse and points" \
    "$LEAL" card replace --old "$CARD" --reader "sim:$D/ana2.json"
step "The hot list the kiosks will carry: cards they must refuse" \
    "$LEAL" card hotlist --program 1
step "What happened to the lost card" "$LEAL" card history "$CARD"
"$CARDSIM" new --type desfire-ev1 --uid 04998877665544 -o "$D/gift.json" >/dev/null
step "A gift card of 25 euros sold at the desk: no customer, the gift on its purse (a gift sale)" \
    "$LEAL" card issue --gift 25 --reader "sim:$D/gift.json"
step "25 points given by hand at the counter (a campaign): not on the card yet" \
    "$LEAL" ledger post --account "$ACCOUNT" --asset PTS --amount 25 --reason "spring campaign" \
    --operator Marta
step "The desk read says why card and ledger differ, in words (exit 1: they differ)" \
    "$LEAL" card read --reader "sim:$D/ana2.json" || true
step "leal card sync brings the card to the ledger: the 25 points, exactly once" \
    "$LEAL" card sync --reader "sim:$D/ana2.json"
# The desk's card loop: one process reads card after card (keys, ledger and
# reader stay open); with sim: the card file is the card in the field.
desk_loop() {
    local pid i
    cp "$D/gift.json" "$D/field.json"
    "$LEAL" desk --reader "sim:$D/field.json" >"$D/desk.out" &
    pid=$!
    for i in $(seq 1 600); do [ "$(wc -l <"$D/desk.out")" -ge 2 ] && break; sleep 0.05; done
    cp "$D/ana2.json" "$D/field.tmp" && mv "$D/field.tmp" "$D/field.json"
    for i in $(seq 1 600); do [ "$(wc -l <"$D/desk.out")" -ge 3 ] && break; sleep 0.05; done
    kill -INT "$pid"
    wait "$pid"
    cat "$D/desk.out"
}
printf '\n\033[1m== %s\033[0m\n$ %s\n' \
    "The desk works all day: leal desk reads each card presented, one line each (two, then Ctrl-C)" \
    "leal desk --reader sim:field.json"
desk_loop
step "The books balance" "$LEAL" ledger verify
step "A bono kind: 10 massages for 45 euros, valid a year (prepaid sessions)" \
    "$LEAL" bono add --program 1 --name "10 masajes" --sessions 10 --price 45 --valid-days 365 \
    --reason "bonos de masaje" --operator Marta
step "Sold on Ana's card at the desk: 10 sessions on the card, the 45 euros owed until used" \
    "$LEAL" bono sell --kind "10 masajes" --reader "sim:$D/ana2.json"
step "A massage: one session off card and ledger, 4,50 euros of it earned" \
    "$LEAL" bono use --kind "10 masajes" --reader "sim:$D/ana2.json"
step "The card shows its layout version and its bono" "$LEAL" card read --reader "sim:$D/ana2.json"
# Luis never wanted a card (his own account, so Ana's cards stay as they are).
LUIS=$("$LEAL" customer add --program 1 --name Luis --json |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["account"])')
step "Luis has no card: a QR code that earns points and stamps, never spends" \
    "$LEAL" qr issue --account "$LUIS" -o "$D/luis-qr.png"
step "Any QR reader reads it back to the same text (here libzbar)" "$LEAL" qr decode "$D/luis-qr.png"
step "His phone makes its own key; the host certifies it for spending codes" \
    "$LEAL" qr device keygen -o "$D/luis-phone.key"
"$LEAL" qr enrol --account "$LUIS" --pubkey "$D/luis-phone.key.pub" -o "$D/luis-phone.cert" \
    --cap-tx 20 --cap-day 50 --refresh-days 7
PHONE_CODE=$("$LEAL" qr device code --key "$D/luis-phone.key" --cert "$D/luis-phone.cert")
step "The phone's code of this 30-second step, checked as a terminal would, offline" \
    "$LEAL" qr verify "$PHONE_CODE"
step "An online sale on Tuesday 1 December at 17:30 in Madrid: 12,40 euros, two coffees" \
    "$LEAL" sale --account "$ACCOUNT" --amount 12,40 --category cafe=2x3,00 --store 1 \
    --at 2026-12-01T16:30:00Z
step "Part of it comes back: the refund takes back its share of the points, never more" \
    "$LEAL" sale refund --sale 1 --amount 4,00
step "The kiosk's bundle again: the terminal key was rotated since, cards carry version 2 now" \
    "$LEAL" keys export-terminal --terminal 1 --program 1 --expires "$(date -u -d '+90 days' +%F)" \
    -o "$D/kiosk1-2.bundle"
step "The kiosk is made from its bundle (the passphrase opens it once per command)" \
    "$TERMINAL" init --bundle "$D/kiosk1-2.bundle" --data "$D/kiosk1"
step "The host builds the kiosk's package: rules, hot list, floors and caps, signed" \
    "$LEAL" terminal package --terminal 1 -o "$D/kiosk1.lpkg"
step "The kiosk verifies it and keeps it in two copies" \
    "$TERMINAL" load "$D/kiosk1.lpkg" --data "$D/kiosk1"
step "What the kiosk holds" "$TERMINAL" status --data "$D/kiosk1"
# The kiosk stands in Madrid: its package carries the store's zone (whatever the
# kiosk's own TZ), so "Martes doble" doubles a kiosk sale on Tuesday afternoons there
# as it does at the desk.
# The package carries what the host decided for Ana's card since the desk last wrote it
# (the online sale's 24 points less the refund's 7): the kiosk's write takes them too, once.
step "Ana taps her card at the kiosk: a sale of 23,50 earns points offline, and the card takes the host's 17" \
    "$TERMINAL" tap --earn 23,50 --reader "sim:$D/ana2.json" --data "$D/kiosk1"
step "and pays 3,00 from her purse" \
    "$TERMINAL" tap --pay 3,00 --reader "sim:$D/ana2.json" --data "$D/kiosk1"
step "Its journal, exported for the host (nothing is erased before the host acknowledges it)" \
    "$TERMINAL" journal export -o "$D/kiosk1.journal" --data "$D/kiosk1"
step "The host takes the kiosk's journal: every MAC and the chain verified, each entry once, and the EV3's TMVs checked with its host-only tmac key" \
    "$LEAL" sync import "$D/kiosk1.journal"
step "The same file again: nothing taken twice" "$LEAL" sync import "$D/kiosk1.journal"
step "Ana's account now holds the kiosk's points and payment too" \
    "$LEAL" account show "$ACCOUNT"
step "The acknowledgment of what the host took" "$LEAL" sync ack --terminal 1 -o "$D/kiosk1.ack"
step "The kiosk applies it: those entries may go (the ack is journaled, for the next export)" \
    "$TERMINAL" journal ack "$D/kiosk1.ack" --data "$D/kiosk1"
# Luis has no card: his printed code earns at the kiosk, his phone's code pays (the host
# posts both to his account at the next sync; a phone's code is good once per terminal).
# The kiosk stands in its package's store and zone, as for a card: no TZ needed.
"$LEAL" ledger post --account "$LUIS" --asset EUR --amount 10,00 --counter cash \
    --reason "Luis pays 10,00 into his account at the desk" --operator Marta >/dev/null
step "Luis shows a photo of his printed QR code at the kiosk: the sale's points go to his account" \
    "$TERMINAL" tap --qr-image "$D/luis-qr.png" --earn 8,00 --data "$D/kiosk1"
PHONE_CODE=$("$LEAL" qr device code --key "$D/luis-phone.key" --cert "$D/luis-phone.cert")
step "His phone's code of this step pays 4,50, within its caps, offline" \
    "$TERMINAL" tap --qr "$PHONE_CODE" --pay 4,50 --data "$D/kiosk1"
"$TERMINAL" journal export -o "$D/kiosk1-qr.journal" --data "$D/kiosk1" >/dev/null
step "The host takes them, each once, onto Luis's account" \
    "$LEAL" sync import "$D/kiosk1-qr.journal"
step "Luis's account: the kiosk's points and payment" "$LEAL" account history "$LUIS"

# The back office and the portal in a browser: `leal serve` on a free loopback port,
# without the keystore's passphrase (it holds no key), and beside it the QR certifier,
# the one process holding the program's qr key, for the portal's spending-code page.
printf 'demo admin password\n' >"$D/marta.pw"
"$LEAL" user add marta --role admin --password-file "$D/marta.pw" >/dev/null
"$LEAL" qr certifier --socket "$D/certifier.sock" >"$D/certifier.out" 2>&1 &
CERT_PID=$!
# The kiosk's package where the back office reads its validity (--packages).
mkdir "$D/packages"
cp "$D/kiosk1.lpkg" "$D/packages/terminal-1.lpkg"
env -u LEAL_PASSPHRASE -u LEAL_BACKUP_PASSPHRASE -u LEAL_BUNDLE_PASSPHRASE \
    "$LEAL" serve --listen 127.0.0.1:0 --qr-certifier "$D/certifier.sock" \
    --packages "$D/packages" >"$D/serve.out" 2>&1 &
SERVE_PID=$!
trap 'kill "$SERVE_PID" "$CERT_PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$D"' EXIT
for _ in $(seq 100); do
    grep -q '^listening on' "$D/serve.out" && [ -S "$D/certifier.sock" ] && break
    sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$D/serve.out")
# api JAR METHOD PATH [JSON [CSRF]]: the answer's body.
api() {
    curl -sf -b "$1" -c "$1" -X "$2" ${4:+-H 'Content-Type: application/json' --data-binary "$4"} \
        ${5:+-H "X-CSRF-Token: $5"} "$URL$3"
}
dashboard() {
    api "$D/marta.jar" POST /api/session '{"name":"marta","password":"demo admin password"}' >/dev/null
    api "$D/marta.jar" GET /api/dashboard | "$PY" -c '
import json, sys
t = json.load(sys.stdin)["today"]["total"]
for k in ("sales_card", "sales_qr", "points_issued", "customers"):
    print("%-14s %d" % (k, t[k]))
for k in ("purse_loaded", "purse_spent"):
    print("%-14s %.2f EUR" % (k, t[k] / 100))'
}
step "Marta signs in to the back office (leal serve, $URL) and reads today's totals on the dashboard" \
    dashboard
terminals() {
    api "$D/marta.jar" GET /api/terminals | "$PY" -c '
import json, sys, time
for t in json.load(sys.stdin)["terminals"]:
    f = t["package_file"]
    if f["file"] != "found":
        print("terminal %d (%s): package file %s" % (t["id"], t["name"], f["file"]))
        continue
    until = time.strftime("%Y-%m-%d %H:%M", time.gmtime(f["valid_until_at"]))
    print("terminal %d (%s): package %d, valid until %s UTC (%s)" % (t["id"], t["name"], f["version"], until, f["state"]))'
}
step "The terminals page: the kiosk's package and until when it holds, read from its file" terminals
CARD2=$("$LEAL" card read --reader "sim:$D/ana2.json" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["card_id"])')
care() {
    "$LEAL" card holder "$CARD2" "Ana Pérez"
    local csrf
    csrf=$(api "$D/marta.jar" GET /api/me | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
    api "$D/marta.jar" POST /api/customers/1/notes '{"text":"prefers e-mail to SMS"}' "$csrf" |
        "$PY" -c '
import json, sys
d = json.load(sys.stdin)
for k in d["cards"]:
    print("card %d  %-8s %s" % (k["id"], k["status"], k["holder"] or "-"))
for n in d["notes"]:
    print("note by %s: %s" % (n["author"], n["text"]))'
}
step "The desk names who carries Ana's card; Marta leaves a note on Ana's page in the back office" \
    care
printf '4821\n' >"$D/ana.pin"
"$LEAL" card pin set "$CARD2" --pin-file "$D/ana.pin" >/dev/null
"$LEAL" qr device keygen -o "$D/ana-phone.key" >/dev/null
portal_phone() {
    api "$D/ana.jar" POST /portal/api/pin "{\"card\":\"$CARD2\",\"pin\":\"4821\"}" >/dev/null
    local csrf
    csrf=$(api "$D/ana.jar" GET /portal/api/me | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
    api "$D/ana.jar" POST /portal/api/spend "{\"public_key\":\"$(cat "$D/ana-phone.key.pub")\"}" "$csrf" |
        "$PY" -c '
import json, sys
d = json.load(sys.stdin)
open(sys.argv[1], "wb").write(bytes.fromhex(d["certificate"]))
print("phone enrolled: virtual card %d, caps %.2f a payment and %.2f a day" % (d["virtual_card"], d["cap_tx_cents"] / 100, d["cap_day_cents"] / 100))' "$D/ana-phone.cert"
}
step "Ana signs in to the portal with her card and PIN; her phone's key is certified for spending codes" \
    portal_phone
PHONE_CODE=$("$LEAL" qr device code --key "$D/ana-phone.key" --cert "$D/ana-phone.cert")
step "Her phone's code, checked as a terminal would" "$LEAL" qr verify "$PHONE_CODE"
kill "$SERVE_PID" "$CERT_PID"
wait 2>/dev/null || true
step "The server and the certifier stop on SIGTERM; the certifier wipes its key" tail -1 "$D/certifier.out"
LUIS_ID=$("$LEAL" customer search --name luis --program 1 --json |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
step "Luis asks to be forgotten: his personal data erased, his QR codes blocked by decision (the ledger keeps its entries)" \
    "$LEAL" customer erase "$LUIS_ID" --confirm --cards block --operator Marta
step "The books still balance" "$LEAL" ledger verify

echo
echo "demo finished"
