#!/bin/bash
# portal_e2e.sh - the customer portal's sign-in by e-mail link (issue 16)
# against a real `leal serve` and a real SMTP server on 127.0.0.1
# (tests/lib/smtp_sink.py): the link is read out of the received message with
# Python's e-mail parser, Debian's headless chromium (tests/web/portal.js,
# playwright-core) follows it and sees the customer's exact balances; the
# link works once; used, expired and unknown links are refused each with its
# own message; link requests are limited per e-mail address and per client
# address; the customer sees only their own data; sign-out needs the CSRF
# token. The customer's static QR code (made at the desk by `leal qr issue`)
# is shown on the page: zbarimg reads the screenshot of it to the code's
# exact text and `leal qr verify` accepts that text; a blocked code is no
# longer shown. Screenshots go to build/screenshots/portal/.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
clear_of_midnight 120 UTC Europe/Madrid # today in UTC and Madrid, reckoned once

T=$(mktemp -d /tmp/leal-portal-XXXXXX)
PID=
SINK_PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/ledger.db
SHOTS=build/screenshots/portal
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
export XDG_DATA_HOME=$T/xdg USER=tester LEAL_PASSPHRASE="portal test passphrase"

"$LEAL" keys init --issuer "Café Sol" --program 1 >/dev/null || exit 1
"$LEAL" program create --db "$DB" --code sol --name "Café Sol" --points-per-euro 1 >/dev/null || exit 1
"$LEAL" store add --db "$DB" --program 1 --code c1 --name "Sol Centro" --tz Europe/Madrid >/dev/null || exit 1
mkdir "$T/inbox"
$PY tests/lib/smtp_sink.py --dir "$T/inbox" --port-file "$T/port" --lifetime 600 &
SINK_PID=$!
for _ in $(seq 600); do [ -s "$T/port" ] && break; sleep 0.05; done
"$LEAL" mail set --db "$DB" --program 1 --server 127.0.0.1 --port "$(cat "$T/port")" --tls none \
    --from club@sol.example --from-name "Café Sol" >/dev/null || exit 1
customer() { # NAME SURNAME EMAIL: the new customer's id and account
    "$LEAL" customer add --db "$DB" --program 1 --name "$1" --surname "$2" --email "$3" --json |
        $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["account"])'
}
read -r ANA ANA_ACCT < <(customer Ana Sol ana@example.org)
read -r BEA BEA_ACCT < <(customer Bea Other bea@example.org)
"$LEAL" account add-card "$ANA_ACCT" --card-id 601 --uid 04a1b2c3d4e601 --tech desfire-ev2 \
    --status active --db "$DB" >/dev/null || exit 1
post() { "$LEAL" ledger post --db "$DB" --account "$1" --asset "$2" --amount "$3" --reason opening --operator test >/dev/null || exit 1; }
post "$ANA_ACCT" PTS 120
post "$ANA_ACCT" EUR 12,50
post "$BEA_ACCT" PTS 999
# Two tiers and three rewards; a sale of 30 € gives Ana 30 points and tier 1.
rules() { "$LEAL" "$@" --program 1 --db "$DB" --reason catalogue >/dev/null || exit 1; }
rules tier add --name Plata --threshold 20 --multiplier 1,5
rules tier add --name Oro --threshold 100 --multiplier 2
rules reward add --name "Café gratis" --kind product --value 1001 --cost 100
rules reward add --name Descuento --kind voucher --value 5 --cost 200
rules reward add --name VIP --kind product --value 1002 --cost 50 --min-tier 2
"$LEAL" sale --db "$DB" --account "$ANA_ACCT" --amount 30 --store 1 >/dev/null || exit 1
# Ana's static QR code, made at the desk (the serving process holds no key).
read -r QR_TEXT QR_VC < <("$LEAL" qr issue --db "$DB" --account "$ANA_ACCT" -o "$T/issued.png" --json |
    $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["text"].replace(" ", "~"), d["virtual_card"])')
QR_TEXT=${QR_TEXT//\~/ }

"$LEAL" serve --listen 127.0.0.1:0 --db "$DB" >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")

# ask FROM EMAIL: asks for a link from client address FROM; prints the HTTP status.
ask() { curl -s -o /dev/null -w '%{http_code}' --interface "$1" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$2\"}" "$URL/portal/api/link"; }
eml_count() { ls "$T/inbox" | grep -c '\.eml$'; }
wait_mail() { for _ in $(seq 200); do [ "$(eml_count)" -ge "$1" ] && return; sleep 0.05; done; }
# link N: the sign-in link in message N (its plain text, decoded), and its recipients.
link() { $PY - "$T/inbox/$(printf %04d "$1").eml" <<'PY'
import email, email.policy, re, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
found = re.findall(r"https?://\S+", m.get_body(("plain",)).get_content())
print(m["To"], m["Subject"], *found)
PY
}
token_of() { sed 's/.*#t=//' <<<"$1"; }
session() { curl -s -w ' %{http_code}' -c "$T/jar" -b "$T/jar" -H 'Content-Type: application/json' \
    -d "{\"token\":\"$1\"}" "$URL/portal/api/session"; }
errname() { $PY -c 'import json,sys; t=sys.stdin.read(); j,c=t.rsplit(" ",1); e=json.loads(j)["error"]; print(c, e["name"], e["message"])'; }

check_eq "a link is asked for with the address in other case: 202" 202 "$(ask 127.0.0.1 Ana@Example.org)"
wait_mail 1
read -r TO SUBJECT1 SUBJECT2 SUBJECT3 LINK1 < <(link 1)
check_eq "one message, to the customer, with the sign-in link" \
    "1|ana@example.org|Your sign-in link|$URL/portal/#t=" "$(eml_count)|$TO|$SUBJECT1 $SUBJECT2 $SUBJECT3|${LINK1%#t=*}#t="
TOKEN1=$(token_of "$LINK1")
check_match "its token: 256 random bits as hex" '^[0-9a-f]{64}$' "$TOKEN1"
check_eq "the ledger keeps its SHA-256, not the token, for 15 minutes, unused" \
    "$(printf %s "$TOKEN1" | sha256sum | cut -c1-64)|$ANA|900|" \
    "$(sqlite3 "$DB" "select lower(hex(token_hash)), customer_id, expires_at - created_at, used_at from portal_link")"
check_eq "the token is in no table as text" 0 \
    "$(sqlite3 "$DB" .dump | grep -c "$TOKEN1")"

check_eq "the ledger keeps the code's text beside its virtual card" "$QR_TEXT" \
    "$(sqlite3 "$DB" "select text from qr_static_text where card_id = $QR_VC")"
timeout 120 node tests/web/portal.js "$LINK1" "$SHOTS" "$QR_VC" "$(date -u +%F)" "$(TZ=Europe/Madrid date +%F)" >"$T/e2e.out" 2>"$T/e2e.err"
RC=$?
while IFS=$'\t' read -r name expected actual; do
    check_eq "${name#CHECK }" "$expected" "$actual"
done < <(grep '^CHECK ' "$T/e2e.out")
check_eq "the browser run exits 0 with 13 checks and nothing on stderr" "0 13 " \
    "$RC $(grep -c '^CHECK ' "$T/e2e.out") $(cat "$T/e2e.err")"
check_eq "screenshots of the portal" "link-used.png me.png qr.png sign-in.png" \
    "$(cd "$SHOTS" && ls *.png | tr '\n' ' ' | sed 's/ $//')"
check_eq "zbarimg reads the screenshot of the portal's QR code to the code's exact text" \
    "$QR_TEXT" "$(zbarimg --raw -q "$SHOTS/qr.png" 2>/dev/null)"
run_capture "$LEAL" qr verify "$(zbarimg --raw -q "$SHOTS/qr.png" 2>/dev/null)" --json
check_eq "and leal's own verifier accepts it: Ana's account, her virtual card" \
    "0 True static $ANA_ACCT $QR_VC" \
    "$RC $(printf %s "$OUT" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["verified"], d["kind"], d["account"], d["virtual_card"])')"
check_eq "the link is marked used" 1 "$(sqlite3 "$DB" "select count(*) from portal_link where used_at is not null")"

# The browser's form asked for a second link (message 2): signed in by curl here.
wait_mail 2
read -r _ _ _ _ LINK2 < <(link 2)
check_eq "used again through the API: 410 and its own message" \
    "410 LEAL_E_PORTAL_LINK_USED this sign-in link has already been used; ask for a new one" \
    "$(session "$TOKEN1" | errname)"
OUT=$(session "$(token_of "$LINK2")")
check_eq "the second link signs Ana in: her exact balances and card" \
    "200 Ana Sol Café Sol EUR=1250 PTS=150 601:active $QR_VC:active" \
    "$(echo "${OUT##* }" "$(printf %s "${OUT% *}" | $PY -c 'import json,sys; d=json.load(sys.stdin); c=d["customer"]; print(c["name"], c["surname"], c["program"], *sorted(b["asset"]+"="+str(b["amount"]) for b in d["balances"]), *[str(k["id"])+":"+k["status"] for k in d["cards"]])')")"
CSRF=$(printf %s "${OUT% *}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
check_match "the cookie: HttpOnly, the portal's path only" \
    "^#HttpOnly_127\.0\.0\.1	FALSE	/portal/	FALSE	[0-9]+	leal_portal	[0-9a-f]{64}$" "$(grep leal_portal "$T/jar")"
me() { curl -s -w ' %{http_code}' -b "$T/jar" "$URL/portal/api/me$1" | $PY -c 'import sys; t=sys.stdin.read(); j,c=t.rsplit(" ",1); import json; d=json.loads(j); print(c, d["customer"]["name"] if c=="200" else d["error"]["name"])'; }
check_eq "me: Ana" "200 Ana" "$(me "")"
qr_card() { curl -s -b "$T/jar" "$URL/portal/api/qr" | $PY -c 'import json,sys; q=json.load(sys.stdin)["qr"]; print(q["card"] if q else "none")'; }
check_eq "her QR code through the API: the virtual card the desk issued" "$QR_VC" "$(qr_card)"
api() { curl -s -b "$T/jar" "$URL/portal/api/$1" | $PY -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
check_eq "her tier through the API: tier 1 Plata at 30 € spent, Oro at 100: 70 missing" \
    "150 1 Plata 1500 30 2 Oro 100 70" \
    "$(api rewards 'd["points"], *[d["tier"][k] for k in ("tier","name","multiplier_milli","spent")], *[d["tier"]["next"][k] for k in ("tier","name","threshold","missing")]')"
check_eq "the catalogue: cost, kind, value, minimum tier, affordable, points missing" \
    "Café gratis:product:100:1001:0:True:0|Descuento:voucher:200:500:0:False:50|VIP:product:50:1002:2:False:0" \
    "$(api rewards '"|".join(":".join(str(w[k]) for k in ("name","kind","cost","value","min_tier","affordable","points_missing")) for w in d["rewards"])')"
SALE_E=$(sqlite3 "$DB" "select max(entry_id) from line where account_id = $ANA_ACCT")
EUR_E=$(sqlite3 "$DB" "select entry_id from line where account_id = $ANA_ACCT and asset = 'EUR'")
PTS_E=$(sqlite3 "$DB" "select min(entry_id) from line where account_id = $ANA_ACCT")
BEA_E=$(sqlite3 "$DB" "select max(entry_id) from line where account_id = $BEA_ACCT")
HIST='" ".join(":".join(str(m[k]) for k in ("entry", "reason", "asset", "amount")) for m in d["movements"]), d["next_before"]'
check_eq "her history, 2 entries a page, newest first, then the next page" \
    "$SALE_E:sale:PTS:30 $EUR_E:opening:EUR:1250 $EUR_E|$PTS_E:opening:PTS:120 0" \
    "$(api 'history?limit=2' "$HIST")|$(api "history?limit=2&before=$EUR_E" "$HIST")"
check_eq "a page below Bea's newest entry is still only Ana's" "$EUR_E:opening:EUR:1250 $PTS_E:opening:PTS:120 0" \
    "$(api "history?before=$((BEA_E + 1))&customer=$BEA" "$HIST")"
check_eq "a malformed page: 400" "400 400" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$URL/portal/api/history?limit=51") $(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$URL/portal/api/history?before=-1")"
check_eq "another customer's id in the URL changes nothing: still Ana" "200 Ana" "$(me "?id=$BEA&customer=$BEA")"
check_eq "a route with an id does not exist: 404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$URL/portal/api/me/$BEA")"
check_eq "without the cookie: 401" "401 LEAL_E_PORTAL_SESSION" \
    "$(curl -s -w ' %{http_code}' "$URL/portal/api/me" | errname | cut -d' ' -f1,2)"
check_eq "a back-office route refuses the portal's cookie: 401" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$URL/api/customers/$ANA")"
"$LEAL" card block "$QR_VC" --reason "phone lost" --db "$DB" >/dev/null || exit 1
check_eq "her code blocked at the desk: the portal shows none" none "$(qr_card)"
check_eq "sign-out without the CSRF token: 403" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -X DELETE "$URL/portal/api/session")"
check_eq "sign-out with it: 200, then me is 401" "200 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -c "$T/jar" -H "X-CSRF-Token: $CSRF" -X DELETE "$URL/portal/api/session") $(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$URL/portal/api/me")"

# Sign-in by card number and the PIN the desk set; a reward redeemed from
# the portal (portal2). The PIN is read from standard input, never argv.
printf '2468\n' | "$LEAL" card pin set 601 --db "$DB" >/dev/null || exit 1
"$LEAL" account add-card "$BEA_ACCT" --card-id 602 --uid 04a1b2c3d4e602 --tech desfire-ev2 \
    --status active --db "$DB" >/dev/null || exit 1
"$LEAL" account add-card "$BEA_ACCT" --card-id 603 --uid 04a1b2c3d4e603 --tech desfire-ev2 \
    --status active --db "$DB" >/dev/null || exit 1
printf '1357\n' | "$LEAL" card pin set 602 --db "$DB" >/dev/null || exit 1
printf '8642\n' | "$LEAL" card pin set 603 --db "$DB" >/dev/null || exit 1
run_capture "$LEAL" card pin set 602 --db "$DB" --pin-file <(printf '12a4\n')
check_eq "a PIN that is not 4 to 8 digits is refused, nothing changed" \
    "2|leal: the PIN must be 4 to 8 digits (from --pin-file, standard input or the terminal); nothing was changed" \
    "$RC|$ERR"
check_eq "the ledger keeps an Argon2id hash per card (t=2, m=19 MiB, p=1), no wrong tries" \
    "601|\$argon2id\$v=19\$m=19456,t=2,p=1\$|0 602|\$argon2id\$v=19\$m=19456,t=2,p=1\$|0 603|\$argon2id\$v=19\$m=19456,t=2,p=1\$|0" \
    "$(sqlite3 "$DB" "select card_id, substr(pin_hash, 1, 31), fails from card_pin order by card_id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the desk's change is in the audit log" "card.pin-set card 601" \
    "$(sqlite3 "$DB" "select action, object from audit where object = 'card 601'" | tr '|' ' ')"
waiting() { "$LEAL" account show "$ANA_ACCT" --db "$DB" --json | $PY -c 'import json,sys; w=json.load(sys.stdin)["waiting"]; print(*[str(x["card_id"])+" "+str(x["points"])+" "+str(x["entries"])+" "+str(x["upto_entry"]) for x in w])'; }
WAIT_BEFORE=$(waiting)
timeout 120 node tests/web/portal_pin.js redeem "$URL" "$SHOTS" >"$T/pin.out" 2>"$T/pin.err"
RC=$?
while IFS=$'\t' read -r name expected actual; do
    check_eq "${name#CHECK }" "$expected" "$actual"
done < <(grep '^CHECK ' "$T/pin.out")
check_eq "the PIN browser run exits 0 with 12 checks and nothing on stderr" "0 12 " \
    "$RC $(grep -c '^CHECK ' "$T/pin.out") $(cat "$T/pin.err")"
read -r _ CODE KEY < <(grep '^CODE' "$T/pin.out")
REDEEM_E=$(sqlite3 "$DB" "select entry_id from portal_redemption where code = '$CODE'")
check_eq "one redeem entry in the ledger for the double click: 100 points, keyed by the page's key" \
    "1|$REDEEM_E|redeem|portal:$ANA:$KEY" \
    "$(sqlite3 "$DB" "select count(*), max(id), kind, substr(request_id, 8) from entry where kind = 'redeem'")"
check_eq "the ledger entry through the CLI: Ana's account, -100 points" "$REDEEM_E:redeem:PTS:-100" \
    "$("$LEAL" account history "$ANA_ACCT" --limit 1 --db "$DB" --json | $PY -c 'import json,sys; d=json.load(sys.stdin); m=(d["movements"] if isinstance(d, dict) else d)[0]; print(m.get("entry", m.get("entry_id")), m["kind"], m["asset"], m["amount"], sep=":")')"
check_eq "the card learns of it at its next tap or 'leal card sync': the host change waiting for card 601 now ends at the redemption, 100 points less" \
    "601 150 2 $SALE_E|601 50 3 $REDEEM_E" "$WAIT_BEFORE|$(waiting)"
# The same request again through the API (Ana's PIN session by curl, from another address).
PJ=$T/pinjar
pin() { curl -s -w ' %{http_code}' --interface "$1" -c "$PJ" -b "$PJ" -H 'Content-Type: application/json' \
    -d "{\"card\":\"$2\",\"pin\":\"$3\"}" "$URL/portal/api/pin"; }
OUT=$(pin 127.0.0.3 601 2468)
check_eq "curl signs in with card 601 and its PIN: Ana, 50 points" "200 Ana PTS=50" \
    "$(echo "${OUT##* }" "$(printf %s "${OUT% *}" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["customer"]["name"], *["PTS="+str(b["amount"]) for b in d["balances"] if b["asset"]=="PTS"])')")"
PCSRF=$(printf %s "${OUT% *}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
redeem() { curl -s -w ' %{http_code}' -b "$PJ" -H 'Content-Type: application/json' -H "X-CSRF-Token: $2" \
    -d "$1" "$URL/portal/api/redeem"; }
check_eq "the same key again (even naming another reward and customer): the same code, entry and reward, replayed, nothing redeemed" \
    "200 $CODE $REDEEM_E True 50 1 Café gratis" \
    "$(OUT=$(redeem "{\"reward\":2,\"key\":\"$KEY\",\"customer\":$BEA}" "$PCSRF"); echo "${OUT##* }" "$(printf %s "${OUT% *}" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["code"], d["entry"], d["replayed"], d["points_after"], d["reward"], d["name"])')")"
check_eq "still one redeem entry, Ana's points 50" "1 50" \
    "$(sqlite3 "$DB" "select count(*) from entry where kind = 'redeem'") $(sqlite3 "$DB" "select amount from balance where account_id = $ANA_ACCT and asset = 'PTS'")"
check_eq "a new key with 50 points: 409, nothing redeemed" "409 LEAL_E_RULES_POINTS" \
    "$(redeem '{"reward":1,"key":"0123456789abcdef0123"}' "$PCSRF" | errname | cut -d' ' -f1,2)"
check_eq "a redeem without the CSRF token: 403" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$PJ" -H 'Content-Type: application/json' -d "{\"reward\":1,\"key\":\"$KEY\"}" "$URL/portal/api/redeem")"
check_eq "a malformed key: 400" 400 "$(redeem '{"reward":1,"key":"short"}' "$PCSRF" | errname | cut -d' ' -f1)"
check_eq "another customer's id in a portal URL: 404" "404 404" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$PJ" "$URL/portal/api/me/$BEA") $(curl -s -o /dev/null -w '%{http_code}' -b "$PJ" -H "X-CSRF-Token: $PCSRF" -d '{}' "$URL/portal/api/redeem/$BEA")"
check_eq "and in a query: still Ana's rewards, her one code" "$CODE" \
    "$(curl -s -b "$PJ" "$URL/portal/api/rewards?customer=$BEA" | $PY -c 'import json,sys; print(*[c["code"] for c in json.load(sys.stdin)["redeemed"]])')"
run_capture "$LEAL" reward honour "$(tr 'A-Z' 'a-z' <<<"$CODE")" --operator ana-desk --db "$DB"
check_eq "the desk honours the code (in any case): what to hand over" \
    "0|code $CODE honoured: Café gratis for 100 points, customer $ANA, entry $REDEEM_E
till         hand over product 1001" "$RC|$OUT"
run_capture "$LEAL" reward honour "$CODE" --db "$DB"
check_match "a second time it is refused: the reward is not given twice" \
    "^1\|leal: code $CODE was honoured already \(by ana-desk, at [0-9]+\); the reward is not given twice$" "$RC|$ERR"
run_capture "$LEAL" reward honour ABCD-EFGH --db "$DB"
check_eq "an unknown code is refused" "1|leal: no reward redeemed from the portal has code ABCD-EFGH; check it with the customer" "$RC|$ERR"
check_eq "the portal shows it given" "$CODE Café gratis, 100 points (given)" \
    "$(curl -s -b "$PJ" "$URL/portal/api/rewards" | $PY -c 'import json,sys; c=json.load(sys.stdin)["redeemed"][0]; print(c["code"], "Café gratis, " + str(c["points"]) + " points", "(given)" if c["honoured_at"] else "")')"
"$LEAL" card block 603 --reason "stolen" --db "$DB" >/dev/null || exit 1
check_eq "a blocked card's right PIN: 403 and its own message" \
    "403 LEAL_E_PORTAL_CARD_BLOCKED this card is blocked; sign in with the link by e-mail or ask at the shop's desk" \
    "$(pin 127.0.0.4 603 8642 | errname)"
check_eq "Bea's own card signs Bea in" "200 Bea" \
    "$(OUT=$(pin 127.0.0.4 602 1357); echo "${OUT##* }" "$(printf %s "${OUT% *}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["customer"]["name"])')")"
sqlite3 "$DB" "update card_pin set fails = 10 where card_id = 602"
# A locked PIN is told only to its right PIN: anyone else gets the wrong
# PIN's answer, word for word, after the same Argon2id verification.
WRONG_401="401 LEAL_E_PORTAL_PIN the card number or the PIN is not right; the sixth try in a minute is refused, ten wrong PINs in a row lock it until the desk sets a new one"
timed() { curl -s -o "$T/timed" -w '%{time_total}' --interface "$1" -H 'Content-Type: application/json' \
    -d "{\"card\":\"$2\",\"pin\":\"$3\"}" "$URL/portal/api/pin"; }
T_LOCKED=$(timed 127.0.0.5 602 9999)
LOCKED_WRONG="$(printf '%s %s' "$(cat "$T/timed")" 401 | errname)"
T_UNKNOWN=$(timed 127.0.0.5 999999 9999)
echo "# a locked card's wrong PIN answered in ${T_LOCKED} s, an unknown card's in ${T_UNKNOWN} s"
check_eq "a locked card and a wrong PIN: the 401 of a wrong PIN or an unknown card, word for word" \
    "$WRONG_401|$WRONG_401" "$LOCKED_WRONG|$(printf '%s %s' "$(cat "$T/timed")" 401 | errname)"
check_eq "and as slow as an unknown card's (both verify a PIN with Argon2id; before, the lock was told at once)" \
    "True" "$($PY -c 'import sys; a,b=map(float,sys.argv[1:]); print(a >= 0.5 * b and b >= 0.01)' "$T_LOCKED" "$T_UNKNOWN")"
check_eq "the right PIN of a locked card: 403 and what to do" \
    "403 LEAL_E_PORTAL_PIN_LOCKED this card's PIN is locked after ten wrong tries; ask at the shop's desk for a new one ('leal card pin set')" \
    "$(pin 127.0.0.5 602 1357 | errname)"
check_eq "every try of a locked PIN counts, the right one too: it stays locked" 12 \
    "$(sqlite3 "$DB" "select fails from card_pin where card_id = 602")"
sqlite3 "$DB" "update card_pin set fails = 20 where card_id = 602"
check_eq "after ten tries of the locked PIN even the right one gets the wrong PIN's 401 (no guessing the PIN at the lock)" \
    "$WRONG_401" "$(pin 127.0.0.8 602 1357 | errname)"
printf '1357\n' | "$LEAL" card pin set 602 --db "$DB" >/dev/null || exit 1
check_eq "the desk sets it again: it works" 200 "$(pin 127.0.0.5 602 1357 | cut -d' ' -f2- | grep -o '[0-9]*$')"
check_eq "a card without a PIN, an unknown card, a bad body: 401 401 400" "401 401 400" \
    "$(pin 127.0.0.6 "$QR_VC" 1234 | grep -o '[0-9]*$') $(pin 127.0.0.6 999999 1234 | grep -o '[0-9]*$') $(pin 127.0.0.6 'x1' 1234 | grep -o '[0-9]*$')"
timeout 120 node tests/web/portal_pin.js wrong "$URL" "$SHOTS" >"$T/wrong.out" 2>"$T/wrong.err"
RC=$?
while IFS=$'\t' read -r name expected actual; do
    check_eq "${name#CHECK }" "$expected" "$actual"
done < <(grep '^CHECK ' "$T/wrong.out")
check_eq "the wrong-PIN browser run exits 0 with 3 checks and nothing on stderr" "0 3 " \
    "$RC $(grep -c '^CHECK ' "$T/wrong.out") $(cat "$T/wrong.err")"
check_eq "the ledger counted the five wrong tries (the sixth was refused before it)" 5 \
    "$(sqlite3 "$DB" "select fails from card_pin where card_id = 601")"
check_eq "Ana's export has her PIN row and her code" "card_pin: 1 row|portal_redemption: 1 row" \
    "$("$LEAL" customer export "$ANA" --text --db "$DB" | grep -E '^(card_pin|portal_redemption):' | tr '\n' '|' | sed 's/|$//')"
"$LEAL" customer erase "$BEA" --confirm --cards keep --db "$DB" >/dev/null || exit 1
check_eq "Bea's erasure deletes her cards' PINs and her portal sessions; her card signs in no more" \
    "0 0 401" \
    "$(sqlite3 "$DB" "select count(*) from card_pin where card_id in (602, 603)") $(sqlite3 "$DB" "select count(*) from portal_session where customer_id = $BEA") $(pin 127.0.0.7 602 1357 | grep -o '[0-9]*$')"

# An expired link, an unknown one, a malformed one.
check_eq "a third link" 202 "$(ask 127.0.0.1 ana@example.org)"
wait_mail 3
read -r _ _ _ _ LINK3 < <(link 3)
sqlite3 "$DB" "update portal_link set expires_at = strftime('%s') - 1 where token_hash = x'$(printf %s "$(token_of "$LINK3")" | sha256sum | cut -c1-64)'"
check_eq "an expired link: 410 and its own message" \
    "410 LEAL_E_PORTAL_LINK_EXPIRED this sign-in link has expired (links last 15 minutes); ask for a new one" \
    "$(session "$(token_of "$LINK3")" | errname)"
check_eq "an unknown link: 404 and its own message" \
    "404 LEAL_E_PORTAL_LINK_UNKNOWN this sign-in link is not known here; ask for a new one" \
    "$(session "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" | errname)"
check_eq "a malformed token: the same" "404 LEAL_E_PORTAL_LINK_UNKNOWN" \
    "$(session "../../etc" | errname | cut -d' ' -f1,2)"
check_eq "and the expired link was not used by the try" 1 \
    "$(sqlite3 "$DB" "select count(*) from portal_link where used_at is null")"

# Rate limits: every request counts, per e-mail address and per client address.
CODES=""
for _ in 1 2 3 4 5 6; do CODES="$CODES $(ask 127.0.0.5 nobody@example.org)"; done
check_eq "the sixth request for one address within a minute is refused" " 202 202 202 202 202 429" "$CODES"
check_eq "from another client address too (the address's limit)" 429 "$(ask 127.0.0.6 NOBODY@example.org)"
check_eq "another address from that client is still served" 202 "$(ask 127.0.0.6 other@example.org)"
check_eq "the first client's own limit: another address from it is refused" 429 "$(ask 127.0.0.5 bea@example.org)"
check_eq "no message for an address that is no customer's, none when refused" 3 "$(eml_count)"
check_eq "a bad address: 400" 400 "$(ask 127.0.0.7 'no address')"

# A Spanish program's customer sees the page in Spanish (its locale).
"$LEAL" program create --db "$DB" --code luna --name "Bar Luna" --points-per-euro 1 --locale es >/dev/null || exit 1
"$LEAL" mail set --db "$DB" --program 2 --server 127.0.0.1 --port "$(cat "$T/port")" --tls none \
    --from club@luna.example --from-name "Bar Luna" >/dev/null || exit 1
read -r CARLA CARLA_ACCT < <("$LEAL" customer add --db "$DB" --program 2 --name Carla --surname Luna --email carla@example.org --json |
    $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["account"])')
post "$CARLA_ACCT" EUR 7,05
check_eq "a link for Carla" 202 "$(ask 127.0.0.8 carla@example.org)"
wait_mail 4
read -r _ _ _ _ _ LINK4 < <(link 4) # To, the Spanish subject (4 words), the link
timeout 120 node tests/web/portal.js --es "$LINK4" "$SHOTS" >"$T/es.out" 2>"$T/es.err"
RC=$?
while IFS=$'\t' read -r name expected actual; do
    check_eq "${name#CHECK }" "$expected" "$actual"
done < <(grep '^CHECK ' "$T/es.out")
check_eq "the Spanish browser run exits 0 with 3 checks, nothing on stderr, a screenshot" "0 3  me-es.png" \
    "$RC $(grep -c '^CHECK ' "$T/es.out") $(cat "$T/es.err") $(cd "$SHOTS" && ls me-es.png)"

# Signed in, a customer's error lines are in their program's language (the
# page's), whatever the browser asks: Carla's Spanish under an English
# browser.
check_eq "another link for Carla" 202 "$(ask 127.0.0.8 carla@example.org)"
wait_mail 5
read -r _ _ _ _ _ LINK5 < <(link 5)
check_eq "Carla signs in through it" 200 "$(session "$(token_of "$LINK5")" | awk '{print $NF}')"
check_eq "a bad page of her history: the error line in Spanish, under an English browser" \
    "400 LEAL_E_ARG before es un número de asiento; limit va de 1 a 50" \
    "$(curl -s -w ' %{http_code}' -b "$T/jar" -H 'Accept-Language: en-GB,en;q=0.9' "$URL/portal/api/history?limit=0" | errname)"
check_eq "without a session, the browser's language as before" \
    "401 LEAL_E_PORTAL_SESSION no ha entrado en el portal, o la sesión ha terminado; pida un enlace de acceso" \
    "$(curl -s -w ' %{http_code}' -H 'Accept-Language: es-ES' "$URL/portal/api/history?limit=0" | errname)"
finish
