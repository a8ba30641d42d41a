#!/bin/bash
# qr_terminal.sh - `leal-terminal tap --qr` end to end (issue 15) through the
# real terminal, its bundle's `qr` key and its journal, then `leal sync
# import`: a static code earns (text, a line on standard input as a USB
# scanner types it, leal's PNG, a JPEG photo of it) and stamps but never
# pays; a phone's spending code pays within its caps per payment and per
# day, once at a terminal (again after a restart: the memory is the
# journal); a code from a clock 5 steps behind or ahead is refused, 2 steps
# accepted; a changed character is refused; every refusal is journaled; the
# import posts each QR operation exactly once to the account (exact
# balances, ledger verify), and the same code taken at a second terminal is
# a reconcile clone finding that blocks the phone, which the next package
# hot-lists so the terminal refuses its codes.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
clear_of_midnight 120 UTC Europe/Madrid # the phone's day total, reckoned once
# code_at -210 asks the phone for a code of 210 s ago, and the certificate
# enrolled below is dated today (UTC): run at 00:00-00:03 UTC, the phone made
# no code (certificate dated after its clock, exit 2) and the terminal never saw
# it. Wait until 240 s past UTC midnight.
SINCE_MIDNIGHT=$(($(date -u +%s) % 86400))
[ "$SINCE_MIDNIGHT" -ge 240 ] || sleep $((240 - SINCE_MIDNIGHT))

T=$(mktemp -d /tmp/leal-qrterm-XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="qr terminal test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
DB=$XDG_DATA_HOME/leal/ledger.db
LT="$LEAL_BUILD/bin/leal-terminal"
q() { sqlite3 "$DB" "$1"; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
jget() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }
# code_at SECONDS: the phone's next code, its clock SECONDS off the real one (an
# ASan run takes seconds a command: each code is made just before its tap).
code_at() {
    "$LEAL" qr device code --key "$T/phone.key" --cert "$T/phone.cert" --at $(($(date -u +%s) + $1))
}

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" terminal add --store 1 --name "caja 2" >/dev/null
"$LEAL" reward add --program 7 --name "Café gratis" --kind product --value 1001 --cost 100 \
    --reason catálogo --operator Marta >/dev/null
"$LEAL" stamp add --program 7 --name Café --per sale --goal 3 --reward 1 --reason café \
    --operator Marta >/dev/null
ACCT=$("$LEAL" customer add --program 7 --name Ana --json | field account)
"$LEAL" ledger post --account "$ACCT" --asset EUR --amount 50,00 --counter cash --reason start \
    --operator t >/dev/null
STATIC=$("$LEAL" qr issue --account "$ACCT" -o "$T/code.png" --json)
TEXT=$(field text <<<"$STATIC")
VC=$(field virtual_card <<<"$STATIC")
"$LEAL" qr device keygen -o "$T/phone.key" >/dev/null
PHONE=$("$LEAL" qr enrol --account "$ACCT" --pubkey "$T/phone.key.pub" -o "$T/phone.cert" \
    --cap-tx 15 --cap-day 40 --json | field virtual_card)
for t in 1 2; do
    "$LEAL" keys export-terminal --terminal $t --program 7 --expires 2027-06-01 -o "$T/t$t.ltb" >/dev/null
    "$LEAL" terminal package --terminal $t -o "$T/p$t.lpkg" >/dev/null
    "$LT" init --bundle "$T/t$t.ltb" --data "$T/d$t" >/dev/null
    "$LT" load "$T/p$t.lpkg" --data "$T/d$t" >/dev/null
done

# A static code: earns and stamps, never pays.
run_capture "$LT" tap --qr "$TEXT" --earn 23,50 --data "$T/d1"
check_eq "static code, earn 23,50: exit 0, the operator's line" \
    "0|QR static $VC earn: +23 points to the account|" "$RC|$OUT|$ERR"
run_capture "$LT" tap --qr - --earn 4,00 --data "$T/d1" --json <<<"$TEXT"
check_eq "the code typed on standard input by a scanner, --json" \
    "0|{\"outcome\":\"done\",\"reason\":null,\"op\":\"earn\",\"code\":\"static\",\"virtual_card\":$VC,\"account\":$ACCT,\"time_step\":0,\"counter\":0,\"amount\":\"4.00\",\"paid\":\"0.00\",\"spent_today\":\"0.00\",\"points\":4,\"quantity\":1,\"item\":0,\"allowance_left\":0,\"entry\":{\"epoch\":$(jget '["entry"]["epoch"]' <<<"$OUT"),\"seq\":3}}" \
    "$RC|$OUT"
run_capture "$LT" tap --qr-image "$T/code.png" --earn 10 --data "$T/d1"
check_eq "leal's PNG of the code, read by libzbar: +10" \
    "0|QR static $VC earn: +10 points to the account" "$RC|$OUT"
# A photo: the PNG scaled, turned 4 degrees on grey, saved as a JPEG at quality 60.
$PY - "$T/code.png" "$T/photo.jpg" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("L")
im = im.resize((im.width * 3 // 2, im.height * 3 // 2), Image.BILINEAR)
im.rotate(4, resample=Image.BILINEAR, expand=True, fillcolor=200).save(sys.argv[2], quality=60)
PY
check_eq "the photo is a JPEG" "ffd8ff" "$(od -An -tx1 -N3 "$T/photo.jpg" | tr -d ' ')"
run_capture "$LT" tap --qr-image "$T/photo.jpg" --earn 1,00 --data "$T/d1"
check_eq "the JPEG photo of the code: +1" \
    "0|QR static $VC earn: +1 points to the account" "$RC|$OUT"
run_capture "$LT" tap --qr "$TEXT" --stamp 1 --data "$T/d1"
check_eq "static code, stamp card 1" "0|QR static $VC stamp: stamped card 1" \
    "$RC|$OUT"
run_capture "$LT" tap --qr "$TEXT" --pay 3 --data "$T/d1"
check_eq "static code, pay: refused, exit 3" \
    "3|QR static $VC pay: REFUSED: a static QR code only earns points and stamps; to pay, the customer shows the spending code of their phone or a card" \
    "$RC|$OUT"
BAD=${TEXT:0:40}$([ "${TEXT:40:1}" = A ] && echo B || echo A)${TEXT:41}
run_capture "$LT" tap --qr "$BAD" --earn 5 --data "$T/d1"
check_match "one character changed: refused (exit 3)" "^3\|QR .* earn: REFUSED: (QR code refused: its signature|.*malformed|.*not a leal)" "$RC|$OUT"

# A phone's spending code: caps 15.00 a payment, 40.00 a day; once per terminal.
C1=$(code_at 0)
run_capture "$LT" tap --qr "$C1" --pay 12,00 --earn 12,00 --data "$T/d1"
check_eq "spending code: pay 12,00 and earn on it" \
    "0|QR spending $PHONE pay+earn: paid 12.00 (12.00 today with this phone here); +12 points" \
    "$RC|$OUT"
run_capture "$LT" tap --qr "$C1" --pay 12,00 --data "$T/d2"
check_eq "the same code shown again at terminal 2 (it cannot know): taken offline" \
    "0|QR spending $PHONE pay: paid 12.00 (12.00 today with this phone here)" "$RC|$OUT"
run_capture "$LT" tap --qr "$C1" --pay 1,00 --data "$T/d1"
check_eq "the same code again at this terminal (a new process): refused, replayed" \
    "3|QR spending $PHONE pay: REFUSED: QR code already used at this terminal; show a fresh code" \
    "$RC|$OUT"
run_capture "$LT" tap --qr "$(code_at 0)" --pay 15,01 --data "$T/d1"
check_eq "15,01 is over the cap per payment: refused" \
    "3|QR spending $PHONE pay: REFUSED: the payment is above what this phone may pay at once offline; pay less or another way" \
    "$RC|$OUT"
run_capture "$LT" tap --qr "$(code_at 0)" --pay 15,00 --data "$T/d1"
check_eq "15,00: paid, 27.00 today" \
    "0|QR spending $PHONE pay: paid 15.00 (27.00 today with this phone here)" "$RC|$OUT"
run_capture "$LT" tap --qr "$(code_at 0)" --pay 13,01 --data "$T/d1"
check_eq "13,01 more is over the 40.00 a day: refused" \
    "3|QR spending $PHONE pay: REFUSED: the payment would pass what this phone may pay a day offline; pay another way" \
    "$RC|$OUT"
run_capture "$LT" tap --qr "$(code_at -210)" --earn 1 --data "$T/d1" --json
check_eq "a phone clock 210 s behind (7 steps): refused, expired" "3 LEAL_E_QR_EXPIRED" \
    "$RC $(jget '["reason"]["name"]' <<<"$OUT")"
run_capture "$LT" tap --qr "$(code_at 210)" --earn 1 --data "$T/d1" --json
check_eq "a phone clock 210 s ahead: refused, not valid yet" "3 LEAL_E_QR_FUTURE" \
    "$RC $(jget '["reason"]["name"]' <<<"$OUT")"
run_capture "$LT" tap --qr "$(code_at -30)" --earn 2 --data "$T/d1"
check_eq "a phone clock 30 s behind, within the window (and a newer counter): +2" \
    "0|QR spending $PHONE earn: +2 points to the account" "$RC|$OUT"
run_capture "$LT" tap --qr "$C1" --balance --data "$T/d1"
check_eq "usage: a QR code shows no balance at the terminal (the account holds it): exit 2" 2 "$RC"
run_capture "$LT" tap --qr "$TEXT" --earn 1 --reader sim:x --data "$T/d1"
check_eq "usage: --qr with --reader: exit 2, one line" "2|1" "$RC|$(wc -l <<<"$ERR")"
run_capture "$LT" tap --qr-image "$T/phone.cert" --earn 1 --data "$T/d1"
check_eq "a file that is no picture: exit 2, one line" "2|1" "$RC|$(wc -l <<<"$ERR")"

# Sync: every QR operation posted once to the account.
"$LT" journal export -o "$T/e1" --data "$T/d1" >/dev/null
"$LT" journal export -o "$T/e2" --data "$T/d2" >/dev/null
run_capture "$LEAL" sync import "$T/e1"
check_eq "terminal 1: 8 posted (5 earns, a stamp, a pay + earn, a pay), its EPOCH and 7 refusals recorded" \
    "0|$T/e1: terminal 1, epoch $(q "select epoch from terminal where id = 1"), sequences 1 to 16: 16 taken (8 posted, 8 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" \
    "$RC|$OUT|$ERR"
check_eq "account: 23+4+10+1+12+2 points, 50.00-12.00-15.00 euros, 6 sales' stamps and 1 less 2 rewards of 3" \
    "52|2300|1" \
    "$(bal "$ACCT" PTS)|$(bal "$ACCT" EUR)|$(bal "$ACCT" STAMP:1)"
# The stamp card (goal 3) completes at the third earn (seq 4) and at the
# pay + earn (seq 9, the sixth stamp; the QR stamp at seq 6 was the fifth):
# the host grants each reward as a card tap's is booked, the goal's 3 stamps
# to stamps_redeemed, in the entry that gives the completing stamp.
check_eq "the stamp rewards: 3 stamps to stamps_redeemed at seq 4 (earn) and seq 9 (pay + earn)" \
    "4:-3:terminal earn by QR code: stamp card reward granted 9:-3:terminal purse payment and earn by QR code: stamp card reward granted" \
    "$(q "select group_concat(x.terminal_seq || ':' || l.amount || ':' || x.reason, ' ') from (select e.* from entry e join line l on l.entry_id = e.id where e.terminal_id = 1 and l.account_id = $ACCT and l.asset = 'STAMP:1' and l.amount < 0 order by e.terminal_seq) x join line l on l.entry_id = x.id and l.account_id = $ACCT and l.asset = 'STAMP:1' and l.amount < 0")"
check_eq "each posted with its code's virtual card, keyed by the terminal's sequence" \
    "earn:2:$VC earn:3:$VC earn:4:$VC earn:5:$VC earn:6:$VC spend:9:$PHONE spend:12:$PHONE earn:16:$PHONE" \
    "$(q "select group_concat(kind || ':' || terminal_seq || ':' || card_id, ' ') from (select * from entry where terminal_id = 1 order by terminal_seq)")"
run_capture "$LEAL" sync import "$T/e2"
check_eq "terminal 2: the copied code posted, then found by reconciliation; the phone blocked" \
    "0|$T/e2: terminal 2, epoch $(q "select epoch from terminal where id = 2"), sequences 1 to 2: 2 taken (1 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there
reconcile: 1 new finding(s) (1 fraud, 1 card(s) blocked), 1 open: leal reconcile lists them|" \
    "$RC|$OUT|$ERR"
check_eq "the finding: a clone of the phone's code at terminal 2" "clone|1|$PHONE|2" \
    "$(q "select kind, fraud, card_id, terminal_id from reconcile_finding")"
check_eq "the phone's virtual card is blocked; the static code's stays active" "blocked active" \
    "$(q "select status from card where card_id = $PHONE") $(q "select status from card where card_id = $VC")"
check_eq "euros: both payments of the copied code were taken (11.00 left): the caps bound it" \
    1100 "$(bal "$ACCT" EUR)"
run_capture "$LEAL" sync import "$T/e1" "$T/e2"
check_match "the same exports again: nothing taken twice" "0 taken .*16 already there.*0 taken .*2 already there" "$(tr '\n' ' ' <<<"$OUT")"
check_eq "balances unchanged" "52|1100" "$(bal "$ACCT" PTS)|$(bal "$ACCT" EUR)"
run_capture "$LEAL" ledger verify
check_eq "ledger verify: exit 0" 0 "$RC"

# The next package hot-lists the phone: terminal 1 refuses its fresh codes.
"$LEAL" sync ack --terminal 1 -o "$T/a1" >/dev/null
KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
hexof() { od -An -tx1 -v "$1" | tr -d ' \n'; }
run_capture $PY tests/integration/journal_decode.py "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" \
    "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" 7 1 "$(hexof "$T/e1")" "$(hexof "$T/a1")"
check_eq "the independent reader of JOURNAL.md verifies terminal 1's export and the ack" \
    "0|export ok|ack ok" "$RC|$(grep -x 'export ok' <<<"$OUT")|$(tail -1 <<<"$OUT")"
check_match "... and reads the pay + earn as a QR entry: card kind 3, the phone's card, counters 0, the QR line last" \
    "seq 9 pay\+earn kind 3 time [0-9+-]+ card $(printf %x "$PHONE") counter 0->0 .* purse 1200 points 12 .*lines 1:0:0:12,17:2:1:[0-9]+$" "$OUT"
"$LT" journal ack "$T/a1" --data "$T/d1" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1b.lpkg" >/dev/null
"$LT" load "$T/p1b.lpkg" --data "$T/d1" >/dev/null
run_capture "$LT" tap --qr "$(code_at 0)" --earn 1 --data "$T/d1" --json
check_eq "a fresh code of the blocked phone: refused, revoked" "3 LEAL_E_QR_REVOKED" \
    "$RC $(jget '["reason"]["name"]' <<<"$OUT")"
run_capture "$LT" tap --qr "$TEXT" --earn 1 --data "$T/d1"
check_eq "the static code still earns" 0 "$RC"

finish
