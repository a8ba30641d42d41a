#!/bin/bash
# terminal_nfc_purse.sh - a MIFARE Classic purse paid from through libnfc
# (issue 13): a program with Classic stored value on (cap 50.00) tops up a
# Classic 1K at the desk with 20.00; leal-terminal then taps it on the reader
# nfc:pn532_uart:PTY, libnfc 1.8's pn532_uart driver talking to leal-cardsim's
# emulated PN532 (as terminal_nfc.sh starts it): pay 3,00 (17.00 left), pay
# 2,00 with an earn of 10,00 (15.00, +10 points), a one-shot void of that
# (17.00 and 0 points back), the balance; each with its exact line and exit
# code. Then the desk reads the card through sim: (0 points, 17.00, seq), and
# the journal, read by the independent reader of JOURNAL.md, holds each tap
# with its euros, every entry field by field. Every cardsim this starts, it stops.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-terminal-nfc-purse-XXXXXX)
SPID=
cleanup() {
    if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="terminal nfc purse passphrase"
export LEAL_BUNDLE_PASSPHRASE="nfc purse bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
D=$T/till
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 \
    --classic-stored-value-cap 50 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" customer add --program 7 --name Marta >/dev/null
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/marta.json" --topup 20 --json
check_eq "a Classic 1K issued with 20.00 topped up at the desk" "0 2000" \
    "$RC $(field '["purse_cents"]' <<<"$OUT")"
MARTA=$(field '["card_id"]' <<<"$OUT")
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null

source tests/lib/pn532.sh
serve "$T/marta.json"
check_match "the emulated PN532 is on a pty" "^nfc:pn532_uart:/dev/pts/[0-9]+$" "$NFC"
tap "Classic pay 3,00 through libnfc: 17.00 left" 0 "card $MARTA pay: paid 3.00, 17.00 euros left" \
    --pay 3,00
tap "Classic pay 2,00 with an earn of 10,00: 15.00 left, +10 points" 0 \
    "card $MARTA pay+earn: paid 2.00, 15.00 euros left; +10 points, 0 -> 10" --pay 2,00 --earn 10,00
tap "a one-shot void of it: 2.00 and the 10 points back" 0 \
    "card $MARTA void: voided the pay+earn: 2.00 euros back, 17.00 left; 10 -> 0 points" --void
tap "the balance: 0 points, 17.00" 0 "card $MARTA balance: 0 points, 17.00 euros, stamps 0 0 0 0" \
    --balance
unserve

run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "the desk reads the card: 0 points, 17.00 on the purse, state seq 5 (issue, top-up, 3 writes)" \
    "0 1700 5" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["state_seq"]' <<<"$OUT")"

"$LT" journal export -o "$T/e.ljx" --data "$D" >/dev/null
KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
DEC=$($PY tests/integration/journal_decode.py "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" \
    "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" 7 1 "$(od -An -tx1 -v "$T/e.ljx" | tr -d ' \n')" 00 2>&1)
CARD=$(printf %x "$MARTA")
check_match "the journal: the pay, 300 cents, 17.00 after" \
    "^seq 2 pay kind 2 .* card $CARD counter 2->3 .* purse 300 points 0 .* after 0/1700/" "$DEC"
check_match "the pay + earn: 200 cents, +10, 15.00 after, the card before it in its state lines" \
    "^seq 3 pay\\+earn kind 2 .* card $CARD counter 3->4 .* amount 1000 purse 200 points 10 .* after 10/1500/0 .* before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 3 lines 1:0:0:10 *$" "$DEC"
check_match "the void: refers to it, 200 cents back, 17.00 after" \
    "^seq 4 void kind 2 .* card $CARD counter 4->5 package 1 ref [0-9]+/3 .* purse 200 points -10 .* after 0/1700/" "$DEC"
check_match "the balance: 17.00" "^seq 5 balance kind 2 .* card $CARD counter 5->5 .* after 0/1700/" "$DEC"
check_match "the export verifies" "^export ok$" "$DEC"
# Every entry field by field (issue 13.1), the local time checked apart: from
# the EPOCH's on, in order, at +60 (Madrid in December, the package's site).
E=$(sed -n 's/^export .* epoch \([0-9]*\) seq .*/\1/p' <<<"$DEC")
times=$(sed -n 's/^seq [0-9]* [A-Za-z+]* kind [0-9] time \([0-9]*\)\([+-][0-9]*\) .*/\1 \2/p' <<<"$DEC")
check_eq "the entries' times: from the EPOCH's on, never back, each at +60" "5|0|$E +0" \
    "$(wc -l <<<"$times")|$(awk -v e="$E" 'NR > 1 && ($1 < p || $2 != "+60") { bad++ } { p = $1 } $1 < e { bad++ } END { print bad + 0 }' <<<"$times")|$(head -1 <<<"$times")"
Z="ref 0/0 item 0 amount 0 purse 0 points 0 qty 0 bono 0"
check_eq "the independent reader: all 5 entries, field by field" \
    "seq 1 EPOCH kind 0 time T card 0 counter 0->0 package 0 $Z after 0/0/0 stamps 0.0.0.0 reason 0 lines 
seq 2 pay kind 2 time T card $CARD counter 2->3 package 1 ref 0/0 item 0 amount 0 purse 300 points 0 qty 0 bono 0 after 0/1700/0 stamps 0.0.0.0 reason 0 lines 
seq 3 pay+earn kind 2 time T card $CARD counter 3->4 package 1 ref 0/0 item 0 amount 1000 purse 200 points 10 qty 0 bono 0 after 10/1500/0 stamps 0.0.0.0 reason 0 before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 3 lines 1:0:0:10
seq 4 void kind 2 time T card $CARD counter 4->5 package 1 ref $E/3 item 0 amount 0 purse 200 points -10 qty 0 bono 0 after 0/1700/0 stamps 0.0.0.0 reason 0 lines 
seq 5 balance kind 2 time T card $CARD counter 5->5 package 1 $Z after 0/1700/0 stamps 0.0.0.0 reason 0 lines " \
    "$(grep '^seq ' <<<"$DEC" | sed 's/ time [0-9]*[+-][0-9]* / time T /')"
finish
