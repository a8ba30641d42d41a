#!/bin/bash
# qr_certifier.sh - the portal's spending-code page (issue 16) and the QR
# certifier that signs for it: a real `leal qr certifier` holding only the
# program's `qr` key, a real `leal serve --qr-certifier` that was never given
# the keystore (another data folder, no passphrase in its environment or
# arguments, and the key's bytes nowhere in its memory), Debian's headless
# chromium (tests/web/spend.js) making the phone's key with WebCrypto. Without
# a certifier the page says enrolment is unavailable and nothing is written;
# with one the certificate verifies with the program's qr public key (leal qr
# verify, with the keystore), the screenshot of the page's code is read by
# zbarimg, a terminal (leal-terminal with the program's bundle) takes it once
# and refuses it replayed; the page shows codes offline from its cache.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
clear_of_midnight 90 UTC Europe/Madrid # the certificates' day, reckoned once

T=$(mktemp -d /tmp/leal-certifier-XXXXXX)
SERVE_PID=
CERT_PID=
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; [ -n "$CERT_PID" ] && kill "$CERT_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/desk LEAL_PASSPHRASE="certifier test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
DB=$T/ledger.db
SOCK=$T/run/certifier.sock
mkdir -m 700 "$T/run"
SHOTS=build/screenshots/spend
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
LT="$LEAL_BUILD/bin/leal-terminal"
field() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$LEAL" keys init --issuer "Café Sol" --program 1 >/dev/null || exit 1
"$LEAL" program create --db "$DB" --code sol --name "Café Sol" --points-per-euro 1 >/dev/null || exit 1
"$LEAL" program create --db "$DB" --code luna --name "Bar Luna" --points-per-euro 1 --locale es >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 1 --code c1 --name Centro --tz Europe/Madrid >/dev/null || exit 1
"$LEAL" terminal add --db "$DB" --store 1 --name "caja 1" >/dev/null || exit 1
customer() { "$LEAL" customer add --db "$DB" --program "$1" --name "$2" --json | field 'd["id"], d["account"]'; }
read -r ANA ANA_ACCT < <(customer 1 Ana)
read -r BEA BEA_ACCT < <(customer 1 Bea)
read -r CARLA CARLA_ACCT < <(customer 2 Carla)
"$LEAL" ledger post --db "$DB" --account "$ANA_ACCT" --asset EUR --amount 40,00 --counter cash \
    --reason start --operator t >/dev/null || exit 1
# A portal session for a customer (the sign-in itself is portal_e2e.sh's): TOKEN CSRF.
session() {
    local tok csrf
    tok=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    csrf=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    sqlite3 "$DB" "insert into portal_session values (x'$(printf %s "$tok" | sha256sum | cut -c1-64)', $1, '$csrf', strftime('%s'), strftime('%s') + 3600)"
    echo "$tok $csrf"
}
read -r ANA_TOK ANA_CSRF < <(session "$ANA")
read -r BEA_TOK BEA_CSRF < <(session "$BEA")
read -r CARLA_TOK CARLA_CSRF < <(session "$CARLA")
phones() { sqlite3 "$DB" "select count(*) from card where tech = 'virtual-qr'"; }

# The web process: its own data folder (no keystore in it), no passphrase.
mkdir -p "$T/web"
env -u LEAL_PASSPHRASE -u LEAL_BUNDLE_PASSPHRASE XDG_DATA_HOME="$T/web" \
    "$LEAL" serve --listen 127.0.0.1:0 --db "$DB" --qr-certifier "$SOCK" >"$T/serve.out" 2>"$T/serve.err" &
SERVE_PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
req() { # TOKEN METHOD PATH [BODY CSRF]: "STATUS BODY"
    local out
    out=$(curl -s -w ' %{http_code}' -b "leal_portal=$1" -X "$2" ${4:+-H 'Content-Type: application/json' -d "$4"} \
        ${5:+-H "X-CSRF-Token: $5"} "$URL$3")
    echo "${out##* } ${out% *}"
}
"$LEAL" qr device keygen -o "$T/dev" >/dev/null || exit 1
PUB=$(cat "$T/dev.pub")

# No certifier yet.
check_eq "no certifier: the page's status says enrolment is unavailable" '200 {"available":false}' \
    "$(req "$ANA_TOK" GET /portal/api/spend)"
OUT=$(req "$ANA_TOK" POST /portal/api/spend "{\"public_key\":\"$PUB\"}" "$ANA_CSRF")
check_eq "no certifier: an enrolment is 503 LEAL_E_QR_CERTIFIER_DOWN, one line" \
    "503 LEAL_E_QR_CERTIFIER_DOWN 1" \
    "$(echo "${OUT%% *}" "$(echo "${OUT#* }" | field 'd["error"]["name"], len(d["error"]["message"].splitlines())' | cut -d' ' -f1,2)")"
check_eq "and nothing was written" 0 "$(phones)"
timeout 120 node tests/web/spend.js unavailable "$URL" "$SHOTS" "$BEA_TOK" "$CARLA_TOK" >"$T/e2e0.out" 2>"$T/e2e0.err"
RC=$?
while IFS=$'\t' read -r name expected actual; do
    check_eq "${name#CHECK }" "$expected" "$actual"
done < <(grep '^CHECK ' "$T/e2e0.out")
check_eq "the browser run without a certifier exits 0 with 3 checks, nothing on stderr" "0 3 " \
    "$RC $(grep -c '^CHECK ' "$T/e2e0.out") $(cat "$T/e2e0.err")"
check_eq "still nothing written" 0 "$(phones)"

# The certifier: the operator starts it with the keystore's passphrase.
"$LEAL" qr certifier --socket "$SOCK" --cap-tx 15 --cap-day 30 --refresh-days 5 >"$T/cert.out" 2>"$T/cert.err" &
CERT_PID=$!
for _ in $(seq 300); do grep -q '^qr certifier on' "$T/cert.out" 2>/dev/null && break; sleep 0.1; done
check_eq "the certifier says what it holds and certifies" \
    "qr certifier on $SOCK: program 1, qr key version 1; caps 15.00 per payment, 30.00 per day, refresh within 5 days" \
    "$(head -1 "$T/cert.out")"
check_eq "its socket: mode 0600" 600 "$(stat -c %a "$SOCK")"
QR_SEED=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore" | awk '$1 == "key" && $2 == "qr" { print $4 }')
QR_PUB=$($PY -c 'import sys; from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey as K; from cryptography.hazmat.primitives import serialization as s; print(K.from_private_bytes(bytes.fromhex(sys.argv[1])).public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex())' "$QR_SEED")
check_eq "the page's status: available, the program's qr public key (from the keystore, decoded by KEYS.md alone), the caps" \
    "200 True 1 1 $QR_PUB 1500 3000 5" \
    "$(OUT=$(req "$ANA_TOK" GET /portal/api/spend); echo "${OUT%% *}" "$(echo "${OUT#* }" | field '" ".join(str(d[k]) for k in ("available","program","key_version","public_key","cap_tx_cents","cap_day_cents","refresh_days"))')")"

OUT=$(req "$ANA_TOK" POST /portal/api/spend "{\"public_key\":\"$PUB\"}" "$ANA_CSRF")
check_eq "Ana's phone (the C reference phone's key) enrolled through the portal: 201" 201 "${OUT%% *}"
VC=$(echo "${OUT#* }" | field 'd["virtual_card"]')
echo "${OUT#* }" | field 'd["certificate"]' | xxd -r -p >"$T/dev.cert"
TODAY=$(( $(date +%s) / 86400 ))
check_eq "the certificate: 132 bytes, Ana's account, refresh in 5 days, the certifier's caps" \
    "132 $ANA_ACCT $TODAY $((TODAY + 5)) 1500 3000" \
    "$(stat -c %s "$T/dev.cert") $(echo "${OUT#* }" | field 'd["account"], d["issued_day"], d["expires_day"], d["cap_tx_cents"], d["cap_day_cents"]')"
check_eq "the ledger: a phone of Ana's account, active, kind spend, key version 1, its caps" \
    "$VC|$ANA_ACCT|virtual-qr|active|2|1|1500|3000" \
    "$(sqlite3 "$DB" "select c.card_id, c.account_id, c.tech, c.status, c.layout_version, c.keyset_version, q.cap_tx_cents, q.cap_day_cents from card c join qr_phone_caps q on q.card_id = c.card_id")"
check_eq "the certifier's line for it" \
    "certified a phone: customer $ANA, account $ANA_ACCT, virtual card $VC, refresh before $(date -u -d "@$(( (TODAY + 5) * 86400 ))" +%F)" \
    "$(sed -n 2p "$T/cert.out")"
TEXT=$("$LEAL" qr device code --key "$T/dev" --cert "$T/dev.cert")
run_capture "$LEAL" qr verify "$TEXT" --json
check_eq "a code of that phone verifies with the keystore's qr public key: spending, Ana's account, the phone" \
    "0 True spending $ANA_ACCT $VC" \
    "$RC $(printf %s "$OUT" | field 'd["verified"], d["kind"], d["account"], d["virtual_card"]')"

# What the web process was given and holds.
check_eq "the web process: no passphrase in its environment, no keystore in its arguments or its data folder" \
    "0 0 0" \
    "$(tr '\0' '\n' </proc/$SERVE_PID/environ | grep -c PASSPHRASE) $(tr '\0' '\n' </proc/$SERVE_PID/cmdline | grep -c keystore) $(find "$T/web" -name keystore | wc -l)"
run_capture $PY tests/integration/mem_search.py "$SERVE_PID" "$QR_SEED"
check_eq "the qr key's 32 bytes are nowhere in the web process's memory" "0|not found" "$RC|$OUT"
run_capture $PY tests/integration/mem_search.py "$CERT_PID" "$QR_SEED"
check_eq "(the search finds them in the certifier's, which holds them)" "1|found" "$RC|$OUT"

# Refusals.
check_eq "another program's customer: the status says unavailable (the certifier is program 1's)" \
    '200 {"available":false}' "$(req "$CARLA_TOK" GET /portal/api/spend)"
check_eq "another program's customer: 403 LEAL_E_QR_CERTIFIER_REFUSED, nothing written" \
    "403 LEAL_E_QR_CERTIFIER_REFUSED 1" \
    "$(OUT=$(req "$CARLA_TOK" POST /portal/api/spend "{\"public_key\":\"$PUB\"}" "$CARLA_CSRF"); echo "${OUT%% *}" "$(echo "${OUT#* }" | field 'd["error"]["name"]')" "$(phones)")"
check_eq "a public key that is not 64 hex digits: 400" "400 400" \
    "$(req "$ANA_TOK" POST /portal/api/spend '{"public_key":"abc"}' "$ANA_CSRF" | cut -d' ' -f1) $(req "$ANA_TOK" POST /portal/api/spend "{\"public_key\":\"${PUB:0:62}zz\"}" "$ANA_CSRF" | cut -d' ' -f1)"
check_eq "without the CSRF token: 403; without a session: 401; still one phone" "403 401 1" \
    "$(req "$ANA_TOK" POST /portal/api/spend "{\"public_key\":\"$PUB\"}" | cut -d' ' -f1) $(req none POST /portal/api/spend "{\"public_key\":\"$PUB\"}" "$ANA_CSRF" | cut -d' ' -f1) $(phones)"
printf 'LC\001\002\000\001x' | $PY -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); print(s.recv(64).hex())' "$SOCK" >"$T/bad.out"
check_eq "a malformed request to the certifier: LEAL_E_PROTOCOL (106), no body; it keeps serving" \
    "4c4301006a00 200" "$(cat "$T/bad.out") $(req "$ANA_TOK" GET /portal/api/spend | cut -d' ' -f1)"

# The page in chromium: Bea's phone, a WebCrypto key; a code, offline too.
timeout 180 node tests/web/spend.js enrol "$URL" "$SHOTS" "$BEA_TOK" >"$T/e2e.out" 2>"$T/e2e.err"
RC=$?
while IFS=$'\t' read -r name expected actual; do
    check_eq "${name#CHECK }" "$expected" "$actual"
done < <(grep '^CHECK ' "$T/e2e.out")
check_eq "the browser run exits 0 with 4 checks, nothing on stderr" "0 4 " \
    "$RC $(grep -c '^CHECK ' "$T/e2e.out") $(cat "$T/e2e.err")"
BEA_VC=$(sqlite3 "$DB" "select card_id from card where account_id = $BEA_ACCT and tech = 'virtual-qr'")
CODE1=$(sed -n 's/^CODE1 //p' "$T/e2e.out")
CODE2=$(sed -n 's/^CODE2 //p' "$T/e2e.out")
check_eq "zbarimg reads the screenshot of the page's code to the page's text" "$CODE1" \
    "$(zbarimg --raw -q "$SHOTS/spend-code.png" 2>/dev/null)"
check_eq "and the code the page showed offline" "$CODE2" \
    "$(zbarimg --raw -q "$SHOTS/spend-offline.png" 2>/dev/null)"
run_capture "$LEAL" qr verify "$CODE1" --json
check_eq "leal's verifier accepts it: a spending code of Bea's phone" "0 True spending $BEA_ACCT $BEA_VC" \
    "$RC $(printf %s "$OUT" | field 'd["verified"], d["kind"], d["account"], d["virtual_card"]')"

# A terminal of the program takes the code once.
"$LEAL" ledger post --db "$DB" --account "$BEA_ACCT" --asset EUR --amount 20,00 --counter cash \
    --reason start --operator t >/dev/null || exit 1
"$LEAL" keys export-terminal --db "$DB" --terminal 1 --program 1 --expires "$(date -u -d '+300 days' +%F)" -o "$T/t1.ltb" >/dev/null || exit 1
"$LEAL" terminal package --db "$DB" --terminal 1 -o "$T/p1.lpkg" >/dev/null || exit 1
"$LT" init --bundle "$T/t1.ltb" --data "$T/d1" >/dev/null || exit 1
"$LT" load "$T/p1.lpkg" --data "$T/d1" >/dev/null || exit 1
run_capture "$LT" tap --qr "$(zbarimg --raw -q "$SHOTS/spend-offline.png" 2>/dev/null)" --pay 4,50 --data "$T/d1"
check_eq "leal-terminal takes the code the page showed offline: 4.50 paid" \
    "0|QR spending $BEA_VC pay: paid 4.50 (4.50 today with this phone here)" "$RC|$OUT"
run_capture "$LT" tap --qr "$CODE2" --pay 1,00 --data "$T/d1"
check_eq "the same code again: refused, already used" \
    "3|QR spending $BEA_VC pay: REFUSED: QR code already used at this terminal; show a fresh code" "$RC|$OUT"
run_capture "$LT" tap --qr "$CODE1" --pay 1,00 --data "$T/d1"
check_eq "the page's earlier code (a lower counter): refused too" \
    "3|QR spending $BEA_VC pay: REFUSED: QR code already used at this terminal; show a fresh code" "$RC|$OUT"

# Ana sets up another phone: the first is replaced (a terminal with the next
# package refuses its codes), both enrolments audited, the back office shows it.
run_capture "$LT" tap --qr "$("$LEAL" qr device code --key "$T/dev" --cert "$T/dev.cert")" --pay 1,00 --data "$T/d1"
check_eq "before: a code of Ana's first phone pays at the terminal" \
    "0|QR spending $VC pay: paid 1.00 (1.00 today with this phone here)" "$RC|$OUT"
"$LEAL" qr device keygen -o "$T/dev2" >/dev/null || exit 1
OUT=$(req "$ANA_TOK" POST /portal/api/spend "{\"public_key\":\"$(cat "$T/dev2.pub")\"}" "$ANA_CSRF")
VC2=$(echo "${OUT#* }" | field 'd["virtual_card"]')
echo "${OUT#* }" | field 'd["certificate"]' | xxd -r -p >"$T/dev2.cert"
check_eq "Ana re-enrols through the portal: 201, the answer names the phone it replaced" \
    "201 [$VC]" "${OUT%% *} $(echo "${OUT#* }" | field 'd["replaced"]')"
check_eq "the ledger: the first phone replaced, the new one active" \
    "$VC|replaced
$VC2|active" \
    "$(sqlite3 "$DB" "select card_id, status from card where account_id = $ANA_ACCT and tech = 'virtual-qr' order by card_id = $VC2")"
check_eq "the first phone's history: replaced, why, by whom" \
    "replaced|re-enrolled from the portal: replaced by virtual card $VC2|customer $ANA (portal)" \
    "$(sqlite3 "$DB" "select status, reason, operator from card_event where card_id = $VC order by id desc limit 1")"
check_eq "the audit log: one line per portal enrolment, the customer as actor, the phones before and after" \
    "0|customer $ANA (portal)|qr.enrol|customer $ANA|{\"phones\":[]}|{\"phones\":[$VC],\"replaced\":[]}
0|customer $BEA (portal)|qr.enrol|customer $BEA|{\"phones\":[]}|{\"phones\":[$BEA_VC],\"replaced\":[]}
0|customer $ANA (portal)|qr.enrol|customer $ANA|{\"phones\":[$VC]}|{\"phones\":[$VC2],\"replaced\":[$VC]}" \
    "$(sqlite3 "$DB" "select coalesce(user_id, 0), actor, action, object, before, after from audit where action = 'qr.enrol' order by id")"
check_eq "each audit line is dated now (within a minute)" 3 \
    "$(sqlite3 "$DB" "select count(*) from audit where action = 'qr.enrol' and at between strftime('%s') - 60 and strftime('%s')")"
printf 'boss password 1\n' >"$T/pw-boss"
"$LEAL" user add boss --role admin --password-file "$T/pw-boss" --db "$DB" >/dev/null || exit 1
curl -s -c "$T/jar" -H 'Content-Type: application/json' -d '{"name":"boss","password":"boss password 1"}' "$URL/api/session" >/dev/null
check_eq "the back office's card page: the first phone replaced, with its reason" \
    "replaced replaced re-enrolled from the portal: replaced by virtual card $VC2" \
    "$(curl -s -b "$T/jar" "$URL/api/cards/$VC" | field 'd["card"]["status"], d["history"][-1]["status"], d["history"][-1]["reason"]')"
check_eq "the back office's audit log shows the re-enrolment, newest first" \
    "customer $ANA (portal) qr.enrol customer $ANA {\"phones\":[$VC]} {\"phones\":[$VC2],\"replaced\":[$VC]}" \
    "$(curl -s -b "$T/jar" "$URL/api/audit" | field '" ".join((lambda v: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))([a for a in d["audit"] if a["action"] == "qr.enrol"][0][k]) for k in ("actor","action","object","before","after"))')"
"$LEAL" terminal package --db "$DB" --terminal 1 -o "$T/p2.lpkg" >/dev/null || exit 1
"$LT" load "$T/p2.lpkg" --data "$T/d1" >/dev/null || exit 1
run_capture "$LT" tap --qr "$("$LEAL" qr device code --key "$T/dev" --cert "$T/dev.cert")" --pay 1,00 --data "$T/d1"
check_eq "with the next package a fresh code of the replaced phone is refused, one line" \
    "3|QR spending $VC pay: REFUSED: QR code revoked (a lost phone or a re-issued code); the customer gets a new one at the desk" \
    "$RC|$OUT"
run_capture "$LT" tap --qr "$("$LEAL" qr device code --key "$T/dev2" --cert "$T/dev2.cert")" --pay 1,00 --data "$T/d1"
check_eq "and a code of the new phone pays" \
    "0|QR spending $VC2 pay: paid 1.00 (1.00 today with this phone here)" "$RC|$OUT"

# The certifier ends: the page is unavailable again.
kill -TERM "$CERT_PID"
wait "$CERT_PID"
check_eq "the certifier stops on SIGTERM, wiping its key, and removes its socket" \
    "0|qr certifier stopped; its key is wiped|no socket" \
    "$?|$(tail -1 "$T/cert.out")|$([ -e "$SOCK" ] && echo socket || echo no socket)"
CERT_PID=
check_eq "then enrolment is unavailable again: 503, nothing written" "503 3" \
    "$(req "$ANA_TOK" POST /portal/api/spend "{\"public_key\":\"$PUB\"}" "$ANA_CSRF" | cut -d' ' -f1) $(phones)"

# The enrolment limits: 3 an hour per customer, 10 an hour per client address;
# every enrolment the certifier answered counts (Ana 2, Bea 1, Carla's refusal 1).
"$LEAL" qr certifier --socket "$SOCK" --cap-tx 15 --cap-day 30 --refresh-days 5 >"$T/cert2.out" 2>"$T/cert2.err" &
CERT_PID=$!
for _ in $(seq 100); do grep -q '^qr certifier on' "$T/cert2.out" 2>/dev/null && break; sleep 0.1; done
enrol() { # TOKEN CSRF -> "STATUS NAME-or-card"
    local k="$T/k$RANDOM$RANDOM" out
    "$LEAL" qr device keygen -o "$k" >/dev/null || return 1
    out=$(req "$1" POST /portal/api/spend "{\"public_key\":\"$(cat "$k.pub")\"}" "$2")
    echo "${out%% *} $(echo "${out#* }" | field 'd["error"]["name"] + "|" + d["error"]["message"] if "error" in d else "ok"')"
}
check_eq "Ana's third enrolment in the hour: 201" "201 ok" "$(enrol "$ANA_TOK" "$ANA_CSRF")"
check_eq "her fourth: 429, one line, nothing written" \
    "429 LEAL_E_QR_ENROL_LIMIT|too many phones set up for this customer or from this address; try again in an hour|3" \
    "$(enrol "$ANA_TOK" "$ANA_CSRF")|$(sqlite3 "$DB" "select count(*) from card where account_id = $ANA_ACCT and tech = 'virtual-qr'")"
# Five new customers from the same address: 5 + 5 = 10, the eleventh refused.
for i in 1 2 3 4 5 6; do
    read -r C_ID _ < <(customer 1 "Cliente $i")
    read -r C_TOK C_CSRF < <(session "$C_ID")
    R=$(enrol "$C_TOK" "$C_CSRF")
    [ "$i" -le 5 ] && check_eq "customer $i from the same address: 201" "201 ok" "$R"
done
check_eq "the sixth new customer, the address's eleventh enrolment: 429, one line" \
    "429 LEAL_E_QR_ENROL_LIMIT|too many phones set up for this customer or from this address; try again in an hour" "$R"
check_eq "phones in the ledger: 3 + Ana's third + 5" 9 "$(phones)"
finish
