#!/bin/bash
# terminal_site.sh - leal-terminal stands where its package says (PACKAGE.md
# "Site"), whatever the till's own TZ: a program with Classic stored value on
# (cap 50.00) tops up a Classic 1K at the desk with 20.00; the till (TZ=UTC)
# pays 3,00 from it (17.00 left, exact journal entry), voids that payment in a
# one-shot tap (20.00 back, the void's line says what it undid), then an earn
# of 10,00 gets rule 1's +5 of a time window set around the present minute of
# Europe/Madrid (the store's zone; in UTC the window is an hour or two away):
# +15, the journal's local time carries Madrid's offset; a --store that
# contradicts the package is refused in one line (exit 2). A static QR code
# of the same customer stands at the same site (terminal_site.c): its earn in
# the window gets +15 too, journaled with Madrid's offset, and its --store 2
# is refused alike. Then the desk reads the card (15 points, 20.00, seq).
# The QR code's 15 points reach the card through the waiting changes: sync
# import, the next package, the card's next tap; card and ledger hold 30.
# sim: only: seconds.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-terminal-site-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="terminal site passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
D=$T/till
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# Madrid's offset from UTC now, in minutes, and a window of an hour centred
# on Madrid's present minute (HH:MM-HH:MM; past midnight it wraps, as rules do).
MADRID=$($PY -c '
import datetime, zoneinfo
now = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Madrid"))
off = int(now.utcoffset().total_seconds() // 60)
m = now.hour * 60 + now.minute
a, b = (m - 30) % 1440, (m + 30) % 1440
print(off, "%02d:%02d-%02d:%02d" % (a // 60, a % 60, b // 60, b % 60))')
OFFSET=${MADRID% *}
WINDOW=${MADRID#* }

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 \
    --classic-stored-value-cap 50 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
run_capture "$LEAL" rule add --program 7 --name "Hora del café" --bonus 5 --time "$WINDOW" \
    --reason "la hora de Madrid"
check_eq "rule 1: +5 in the hour around Madrid's present minute ($WINDOW)" 0 "$RC"
ACCT=$("$LEAL" customer add --program 7 --name Marta --json | field '["account"]')
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/marta.json" --topup 20 --json
check_eq "a Classic 1K issued with 20.00 topped up at the desk" "0 2000" \
    "$RC $(field '["purse_cents"]' <<<"$OUT")"
MARTA=$(field '["card_id"]' <<<"$OUT")
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null

export TZ=UTC
run_capture "$LT" tap --pay 3,00 --reader "sim:$T/marta.json" --data "$D"
check_eq "TZ=UTC, the Classic purse the desk topped up: pay 3,00, 17.00 left (the package's cap 50.00)" \
    "0|card $MARTA pay: paid 3.00, 17.00 euros left|" "$RC|$OUT|$ERR"
run_capture "$LT" tap --void --reader "sim:$T/marta.json" --data "$D"
check_eq "a one-shot void of the payment: the line says what it undid" \
    "0|card $MARTA void: voided the pay: 3.00 euros back, 20.00 left; 0 -> 0 points|" "$RC|$OUT|$ERR"
run_capture "$LT" tap --earn 10 --reader "sim:$T/marta.json" --data "$D"
check_eq "earn 10,00 in Madrid's window while TZ=UTC: +10 and rule 1's +5" \
    "0|card $MARTA earn: +15 points, 0 -> 15|" "$RC|$OUT|$ERR"
run_capture "$LT" tap --balance --store 2 --reader "sim:$T/marta.json" --data "$D"
check_eq "--store 2 against the package's store 1: exit 2, one line, no tap" \
    "2||leal-terminal: --store 2: the loaded package is for store 1; drop --store (the package names the store) or load the package of store 2" \
    "$RC|$OUT|$ERR"
run_capture "$LT" tap --balance --store 1 --reader "sim:$T/marta.json" --data "$D"
check_eq "--store 1, the package's own: the balance" \
    "0|card $MARTA balance: 15 points, 20.00 euros, stamps 0 0 0 0" "$RC|$OUT"

# A QR code stands where a card's tap stands (terminal_site.c): the same
# store, the same Madrid clock, whatever TZ says.
QR=$("$LEAL" qr issue --account "$ACCT" -o "$T/code.png" --json)
TEXT=$(field '["text"]' <<<"$QR")
VC=$(field '["virtual_card"]' <<<"$QR")
run_capture "$LT" tap --qr "$TEXT" --earn 10 --data "$D"
check_eq "a static QR code, earn 10,00 in Madrid's window while TZ=UTC: +10 and rule 1's +5" \
    "0|QR static $VC earn: +15 points to the account|" "$RC|$OUT|$ERR"
run_capture "$LT" tap --qr "$TEXT" --earn 1 --store 2 --data "$D"
check_eq "a QR tap with --store 2 against the package's store 1: exit 2, the card's line" \
    "2||leal-terminal: --store 2: the loaded package is for store 1; drop --store (the package names the store) or load the package of store 2" \
    "$RC|$OUT|$ERR"

# The journal, read by the independent reader of JOURNAL.md.
"$LT" journal export -o "$T/e.ljx" --data "$D" >/dev/null
KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
DEC=$($PY tests/integration/journal_decode.py "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" \
    "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" 7 1 "$(od -An -tx1 -v "$T/e.ljx" | tr -d ' \n')" 00 2>&1)
CARD=$(printf %x "$MARTA")
check_match "the pay: Classic, Madrid's offset, seq 2 -> 3 (issue 1, top-up 2), 300 cents, 17.00 after" \
    "^seq 2 pay kind 2 time [0-9]+\\+$OFFSET card $CARD counter 2->3 .* amount 0 purse 300 points 0 .* after 0/1700/" "$DEC"
check_match "the void: refers to the pay, 300 cents back, seq 2 -> 3, 20.00 after, seq 3 -> 4" \
    "^seq 3 void kind 2 time [0-9]+\\+$OFFSET card $CARD counter 3->4 package 1 ref [0-9]+/2 .* purse 300 points 0 .* after 0/2000/" "$DEC"
check_match "the earn: 15 points, seq 4 -> 5, the base line's 10 and rule 1's 5" \
    "^seq 4 earn kind 2 time [0-9]+\\+$OFFSET card $CARD counter 4->5 .* amount 1000 purse 0 points 15 .* after 15/2000/0 .* lines 1:0:0:10,4:0:1:5 *$" "$DEC"
check_match "the earn's state lines: the card before it (0 points, never earned: period 0, seq 4)" \
    "^seq 4 earn .* before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 4 lines 1:0:0:10,4:0:1:5 *$" "$DEC"
check_match "the export verifies" "^export ok$" "$DEC"
check_match "the QR earn: kind 3, the code's virtual card, Madrid's offset, the same lines and the QR line" \
    "^seq 6 earn kind 3 time [0-9]+\\+$OFFSET card $(printf %x "$VC") counter 0->0 .* amount 1000 purse 0 points 15 .* lines 1:0:0:10,4:0:1:5,17:1:0:0 *$" "$DEC"

run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "the desk reads the card: 15 points, 20.00 on the purse, state seq 5" "15 2000 5" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["state_seq"]' <<<"$OUT")"

# The QR code's 15 points live on the account; the waiting changes
# (ledger_host_change.h) bring them to Marta's card: sync import, the next
# package carries them, the card's next tap that writes it applies them.
run_capture "$LEAL" sync import "$T/e.ljx"
check_match "the import posts the card's three operations and the QR earn" "6 taken \\(4 posted" "$OUT"
check_eq "the ledger: 30 points on the account (15 on the card, 15 by the QR code)" 30 \
    "$(sqlite3 "$XDG_DATA_HOME/leal/ledger.db" "select amount from balance where account_id = $ACCT and asset = 'PTS'")"
"$LEAL" sync ack --terminal 1 -o "$T/a1" >/dev/null
"$LT" journal ack "$T/a1" --data "$D" >/dev/null
run_capture "$LEAL" terminal package --terminal 1 -o "$T/p2.lpkg" --json
check_eq "the next package carries one card's waiting changes" "0 1" "$RC $(field '["pending"]' <<<"$OUT")"
"$LT" load "$T/p2.lpkg" --data "$D" >/dev/null
run_capture "$LT" tap --pay 1 --reader "sim:$T/marta.json" --data "$D" --json
check_eq "the card's next tap (pay 1,00) applies them: 15 -> 30 points, 19.00 left" \
    "0 15 30 19.00" \
    "$RC $(field '["points_before"]' <<<"$OUT") $(field '["points_after"]' <<<"$OUT") $(field '["purse_after"]' <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "the desk reads the card: 30 points, as the ledger" "30" "$(field '["points"]' <<<"$OUT")"
"$LT" journal export -o "$T/e2.ljx" --data "$D" >/dev/null
"$LEAL" sync import "$T/e2.ljx" >/dev/null
check_eq "after the import of that tap: the ledger's 30 points, nothing waits for the card" \
    "30 0" \
    "$(sqlite3 "$XDG_DATA_HOME/leal/ledger.db" "select amount from balance where account_id = $ACCT and asset = 'PTS'") $("$LEAL" terminal package --terminal 1 -o "$T/p3.lpkg" --json | field '["pending"]')"
finish
