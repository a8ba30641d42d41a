#!/bin/bash
# qr_caps.sh - a phone's spending code pays within the lower of each pair of
# caps (cardlayout/qr/QR.md "Once per terminal, caps"): its certificate's
# (per payment, per day) and the package's offline caps per card (per day;
# the package has no cap per payment, so its daily cap bounds one payment
# too). Phone A's certificate (15.00 / 25.00) is below the package's 30.00 a
# day: the certificate's refusals. Phone B's (50.00 / 100.00) is above it:
# the package's refusal, for one payment of 30.01 and for a day's total. The
# import books exactly what was taken. And two QR stamps complete a stamp
# card of goal 2: the import grants its reward as a card tap's is booked.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
clear_of_midnight 60 UTC Europe/Madrid # the day's caps, reckoned once

T=$(mktemp -d /tmp/leal-qrcaps-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="qr caps test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
DB=$XDG_DATA_HOME/leal/ledger.db
LT="$LEAL_BUILD/bin/leal-terminal"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
bal() { sqlite3 "$DB" "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
code() { "$LEAL" qr device code --key "$T/$1.key" --cert "$T/$1.cert"; }
# pay PHONE EUR [OPTION]: a fresh code of the phone pays EUR at terminal 1.
pay() { run_capture "$LT" tap --qr "$(code "$1")" --pay "$2" --data "$T/d1" "${@:3}"; }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason catálogo --operator Marta >/dev/null
"$LEAL" stamp add --program 7 --name Café --per sale --goal 2 --reward 1 --reason café \
    --operator Marta >/dev/null
ACCT=$("$LEAL" customer add --program 7 --name Ana --json | field account)
"$LEAL" ledger post --account "$ACCT" --asset EUR --amount 100,00 --counter cash --reason start \
    --operator t >/dev/null
"$LEAL" qr device keygen -o "$T/a.key" >/dev/null
"$LEAL" qr device keygen -o "$T/b.key" >/dev/null
A=$("$LEAL" qr enrol --account "$ACCT" --pubkey "$T/a.key.pub" -o "$T/a.cert" \
    --cap-tx 15 --cap-day 25 --json | field virtual_card)
B=$("$LEAL" qr enrol --account "$ACCT" --pubkey "$T/b.key.pub" -o "$T/b.cert" \
    --cap-tx 50 --cap-day 100 --json | field virtual_card)
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
run_capture "$LEAL" terminal package --terminal 1 --day-cap 30 --sync-cap 100 -o "$T/p1.lpkg"
check_eq "the package: 30.00 a card a day, 100.00 between syncs" 0 "$RC"
"$LT" init --bundle "$T/t1.ltb" --data "$T/d1" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$T/d1" >/dev/null

CERT_TX="the payment is above what this phone may pay at once offline; pay less or another way"
CERT_DAY="the payment would pass what this phone may pay a day offline; pay another way"
PKG_DAY="card refused: the payment would pass the offline spending cap per card per day; pay another way"

# Phone A: its certificate is the lower.
pay a 15,01
check_eq "A: 15,01 over the certificate's 15.00 a payment" \
    "3|QR spending $A pay: REFUSED: $CERT_TX|" "$RC|$OUT|$ERR"
pay a 15,00
check_eq "A: 15,00 paid" "0|QR spending $A pay: paid 15.00 (15.00 today with this phone here)" \
    "$RC|$OUT"
pay a 10,01
check_eq "A: 10,01 more passes the certificate's 25.00 a day (the package allows 30.00)" \
    "3|QR spending $A pay: REFUSED: $CERT_DAY" "$RC|$OUT"
pay a 10,00
check_eq "A: 10,00 paid, 25.00 today" \
    "0|QR spending $A pay: paid 10.00 (25.00 today with this phone here)" "$RC|$OUT"

# Phone B: the package is the lower.
pay b 30,01 --json
check_eq "B: one payment of 30,01 (the certificate allows 50.00) passes the package's 30.00 a day" \
    "3|LEAL_E_TERMINAL_CAP_DAY|$PKG_DAY" \
    "$RC|$($PY -c 'import json,sys; r=json.load(sys.stdin)["reason"]; print(r["name"] + "|" + r["message"])' <<<"$OUT")"
pay b 20,00
check_eq "B: 20,00 paid" "0|QR spending $B pay: paid 20.00 (20.00 today with this phone here)" \
    "$RC|$OUT"
pay b 10,01
check_eq "B: 10,01 more passes the package's 30.00 a day (the certificate allows 100.00)" \
    "3|QR spending $B pay: REFUSED: $PKG_DAY" "$RC|$OUT"
pay b 10,00
check_eq "B: 10,00 paid, 30.00 today" \
    "0|QR spending $B pay: paid 10.00 (30.00 today with this phone here)" "$RC|$OUT"

# Two stamps by QR: the second completes the card.
run_capture "$LT" tap --qr "$(code a)" --stamp 1 --data "$T/d1"
check_eq "A: a stamp" "0|QR spending $A stamp: stamped card 1" "$RC|$OUT"
run_capture "$LT" tap --qr "$(code a)" --stamp 1 --data "$T/d1"
check_eq "A: a second stamp (the terminal cannot see the account's count)" \
    "0|QR spending $A stamp: stamped card 1" "$RC|$OUT"

"$LT" journal export -o "$T/e1" --data "$T/d1" >/dev/null
run_capture "$LEAL" sync import "$T/e1"
check_match "the import: 4 payments posted, the EPOCH and 4 refusals recorded" \
    "11 taken \\(6 posted, 5 recorded without movement, 0 held" "$OUT"
check_eq "the account: 100.00 - 15.00 - 10.00 - 20.00 - 10.00" 4500 "$(bal "$ACCT" EUR)"
check_eq "the stamps: 2 given, the reward took both back (STAMP:1 0, stamps_redeemed 2)" "0|2" \
    "$(bal "$ACCT" STAMP:1)|$(sqlite3 "$DB" "select amount from balance b join account a on a.id = b.account_id where a.name = 'stamps_redeemed' and b.asset = 'STAMP:1'")"
check_eq "the reward is in the second stamp's entry (seq 11), said in its reason" \
    "11|-2|terminal stamp by QR code: stamp card reward granted" \
    "$(sqlite3 "$DB" "select e.terminal_seq, l.amount, e.reason from entry e join line l on l.entry_id = e.id where l.account_id = $ACCT and l.asset = 'STAMP:1' and l.amount < 0")"

# The host holds a phone to its certificate's caps over every terminal: A
# paid 25.00 at terminal 1 today; terminal 2 counts its own journal only and
# takes 10.00 more. Its import shows 35.00 today: a cap finding of its own,
# and the phone blocked.
"$LEAL" terminal add --store 1 --name "caja 2" >/dev/null
"$LEAL" keys export-terminal --terminal 2 --program 7 --expires 2027-06-01 -o "$T/t2.ltb" >/dev/null
"$LEAL" terminal package --terminal 2 --day-cap 30 --sync-cap 100 -o "$T/p2.lpkg" >/dev/null
"$LT" init --bundle "$T/t2.ltb" --data "$T/d2" >/dev/null
"$LT" load "$T/p2.lpkg" --data "$T/d2" >/dev/null
run_capture "$LT" tap --qr "$(code a)" --pay 10,00 --data "$T/d2"
check_eq "A at terminal 2: 10,00 paid (it sees nothing of terminal 1)" \
    "0|QR spending $A pay: paid 10.00 (10.00 today with this phone here)" "$RC|$OUT"
"$LT" journal export -o "$T/e2" --data "$T/d2" >/dev/null
run_capture "$LEAL" sync import "$T/e2"
check_eq "the import books it (45.00 - 10.00) and its reconciliation finds one fraud" \
    "0|3500|1" "$RC|$(bal "$ACCT" EUR)|$(grep -c "fraud" <<<"$OUT")"
# The terminal's local day (the store is in Madrid) and each terminal's epoch.
DAY=$(TZ=Europe/Madrid date -d "@$(sqlite3 "$DB" "select at from terminal_entry where terminal_id = 2 and op = 2")" +%F)
E1=$(sqlite3 "$DB" "select epoch from terminal_entry where terminal_id = 1 limit 1")
E2=$(sqlite3 "$DB" "select epoch from terminal_entry where terminal_id = 2 limit 1")
check_eq "the finding: cap, fraud, on A at terminal 2, the day's total over the certificate's 25.00" \
    "cap|1|$A|2|qr t2/e$E2/s2 cap day|QR spending code of virtual card $A paid 10.00 at terminal 2 (t2/e$E2/s2): 35.00 on local day $DAY at all terminals, over its certificate's 25.00 a day: phone blocked" \
    "$(sqlite3 "$DB" "select kind, fraud, card_id, terminal_id, evidence, detail from reconcile_finding where card_id = $A")"
check_eq "the phone is blocked by it, and B is not" "blocked|reconcile cap: qr t2/e$E2/s2 cap day|active" \
    "$(sqlite3 "$DB" "select c.status || '|' || (select reason from card_event where card_id = c.card_id order by id desc limit 1) from card c where card_id = $A")|$(sqlite3 "$DB" "select status from card where card_id = $B")"
run_capture "$LEAL" sync import "$T/e2"
check_eq "the same import again: no second finding" 1 \
    "$(sqlite3 "$DB" "select count(*) from reconcile_finding where card_id = $A")"
# One payment above the cap per payment: the host's record of B's
# certificate said 20.00 a payment when its 30.00 were paid in two payments
# of 20.00 and 10.00, so no finding; the record read as 19.99 makes the
# 20.00 payment one.
sqlite3 "$DB" "update qr_phone_caps set cap_tx_cents = 1999 where card_id = $B"
run_capture "$LEAL" reconcile
check_eq "a payment above the cap per payment: its own evidence and text" \
    "cap|1|qr t1/e$E1/s7 cap payment|QR spending code of virtual card $B paid 20.00 at terminal 1 (t1/e$E1/s7), over its certificate's 19.99 a payment: phone blocked|blocked" \
    "$(sqlite3 "$DB" "select kind, fraud, evidence, detail from reconcile_finding where card_id = $B")|$(sqlite3 "$DB" "select status from card where card_id = $B")"
run_capture "$LEAL" ledger verify
check_eq "ledger verify: exit 0" 0 "$RC"
finish
