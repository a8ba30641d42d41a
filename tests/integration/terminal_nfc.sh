#!/bin/bash
# terminal_nfc.sh - every transaction of leal-terminal tap through libnfc:
# the reader nfc:pn532_uart:PTY, libnfc 1.8's pn532_uart driver talking to
# leal-cardsim's emulated PN532 on a pseudo-terminal (as pn532_libnfc.sh
# starts it). On a DESFire EV1 (20.00 on its purse, a bono of 10 sessions
# sold at the desk) and on a MIFARE Classic 1K (stored value, 20.00): earn,
# pay, pay + earn, redeem, stamp, bono, void, balance, each with its exact
# line (points before and after, euros left, stamps, sessions) and exit
# code; then the desk reads each card through sim: (points, purse, stamps,
# taps) and the terminal's journal holds every tap (status, and the export's
# entries field by field through journal_decode.py); last, with no card in
# the PN532's field, tap says no card (exit 4) and serve --stdio answers as
# the board does, journaling nothing. Every cardsim this starts, it stops.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/terminal_journal.sh

source tests/lib/pn532.sh

pn532_fixture terminal-nfc "terminal nfc"
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0
NOTHING="nothing to void: only this terminal's own last operation on this card, while the card has done nothing since"
D=$T/till

terminal_program 1
terminal_catalogue
pn532_cards --bono ana marta
pn532_bundles 1
pn532_till 1 "$D"

# --- DESFire EV1 through libnfc
serve "$T/ana.json"
check_match "the emulated PN532 is on a pty" "^nfc:pn532_uart:/dev/pts/[0-9]+$" "$NFC"
tap "DESFire earn 23,50: +23 points, 0 -> 23" 0 "card $ANA earn: +23 points, 0 -> 23" --earn 23,50
tap "DESFire pay 3,00: 17.00 left" 0 "card $ANA pay: paid 3.00, 17.00 euros left" --pay 3,00
tap "DESFire pay 2,00 with an earn of 10,00" 0 \
    "card $ANA pay+earn: paid 2.00, 15.00 euros left; +10 points, 23 -> 33" --pay 2,00 --earn 10,00
tap "DESFire redeem reward $REWARD (20 points): 33 -> 13" 0 \
    "card $ANA redeem: reward redeemed: 33 -> 13 points" --redeem "$REWARD"
tap "DESFire stamp card 1: one stamp" 0 "card $ANA stamp: stamped: stamps 1 0 0 0" --stamp 1
tap "DESFire bono $BONO: one session, 9 left" 0 "card $ANA bono: bono session used: 9 left" \
    --bono "$BONO"
tap "DESFire void in a one-shot tap: the bono session (the last operation, from the journal) back" 0 \
    "card $ANA void: voided the session of bono $BONO (10 masajes): 10 left" --void
tap "DESFire void again: refused, exit 3 (a void is never voided)" 3 "card $ANA void: REFUSED: $NOTHING" --void
tap "DESFire balance" 0 "card $ANA balance: 13 points, 15.00 euros, stamps 1 0 0 0" --balance
unserve
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "the desk reads the DESFire card: 13 points, 15.00, stamp 1, taps 9 (the desk's 2, the till's 7)" \
    "13 1500 1 9" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["stamps"][0]' <<<"$OUT") $(field '["taps"]' <<<"$OUT")"

# --- MIFARE Classic 1K through libnfc. No stored value: the program keeps
# Classic stored value off, so the package's site carries a Classic cap of 0;
# no bonos on Classic (LAYOUT.md 4.5).
serve "$T/marta.json"
tap "Classic earn 23,50: +23 points, 0 -> 23" 0 "card $MARTA earn: +23 points, 0 -> 23" --earn 23,50
tap "Classic earn 10,00 with a coffee of 3,20 (category 3)" 0 \
    "card $MARTA earn: +10 points, 23 -> 33" --earn 10,00 --category 3=3,20
tap "Classic pay 3,00: refused, exit 3, the whole reason on the operator's line (160 bytes)" 3 \
    "card $MARTA pay: REFUSED: stored value is off on MIFARE Classic cards (Classic money can be copied); keep the money in the account or issue a DESFire card" \
    --pay 3,00
tap "Classic redeem reward $REWARD (20 points): 33 -> 13" 0 \
    "card $MARTA redeem: reward redeemed: 33 -> 13 points" --redeem "$REWARD"
tap "Classic stamp card 1: one stamp" 0 "card $MARTA stamp: stamped: stamps 2 0 0 0" --stamp 1
tap "Classic bono: refused, exit 3 (Classic cards carry no bonos)" 3 \
    "card $MARTA bono: REFUSED: the card holds no bono of that kind" --bono "$BONO"
tap "Classic void in a one-shot tap: the stamp (the last operation, from the journal) back" 0 \
    "card $MARTA void: voided the stamp on card 1: stamps 1 0 0 0" --void
tap "Classic balance" 0 "card $MARTA balance: 13 points, 0.00 euros, stamps 1 0 0 0" --balance
unserve
run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "the desk reads the Classic card: 13 points, no purse, 1 stamp, seq 0 -> 5 (5 writing taps)" \
    "13 0 1 5" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["stamps"][0]' <<<"$OUT") $(field '["taps"]' <<<"$OUT")"

# The journal: EPOCH, then 9 taps on the DESFire card and 8 on the Classic,
# refusals and balances included (the 18 entries in order, as
# journal_decode.py names them).
run_capture "$LT" status --json --data "$D"
check_eq "the journal holds the EPOCH and all 17 taps, none synced" "18 18" \
    "$(field '["journal"]["seq"]' <<<"$OUT") $(field '["journal"]["unsynced"]' <<<"$OUT")"
"$LT" journal export -o "$T/e.ljx" --data "$D" >/dev/null
pn532_keys
DEC=$(pn532_decode 1 "$(hex "$T/e.ljx")")
check_eq "the independent reader: the export's operations in order" \
    "EPOCH earn pay pay+earn redeem stamp bono void refusal balance earn earn refusal redeem stamp refusal void balance" \
    "$(sed -n 's/^seq [0-9]* \([A-Za-z+]*\) .*/\1/p' <<<"$DEC" | paste -sd' ')"
check_match "the independent reader: the export verifies" "^export ok$" "$DEC"
# Every entry field by field (issue 13.1: exact journal entries through
# libnfc). The local time is the tap's and is checked apart: each entry's
# UTC from the EPOCH's on, in order, at +60 minutes (Madrid in December, the
# package's site). Reasons: 466 nothing to void, 206 Classic stored value
# off, 467 no such bono on the card. The DESFire counter starts at 2 (the
# desk's issue and top-up), the Classic seq at 1 (its issue); a refusal and a
# balance leave them; purse after is read only where a tap reads the purse.
A=$(printf %x "$ANA")
M=$(printf %x "$MARTA")
E=$(sed -n 's/^export .* epoch \([0-9]*\) seq .*/\1/p' <<<"$DEC")
journal_times "the entries' times: from the EPOCH's on, never back, each at +60" "$DEC" 18
Z="ref 0/0 item 0 amount 0 purse 0 points 0 qty 0 bono 0"
# The card's period: months since 1999-12 (2026-12 is 324), in Madrid.
P=$(TZ=Europe/Madrid date -d "@$E" +'%Y %m' | awk '{ print ($1 - 2000) * 12 + $2 }')
check_eq "the independent reader: all 18 entries, field by field" \
    "$(desfire_table_entries "$A" "$E" "$P" "$REWARD" "$BONO")
seq 11 earn kind 2 time T card $M counter 1->2 package 1 ref 0/0 item 0 amount 2350 purse 0 points 23 qty 0 bono 0 after 23/0/0 stamps 0.0.0.0 reason 0 before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 1 lines 1:0:0:23
seq 12 earn kind 2 time T card $M counter 2->3 package 1 ref 0/0 item 0 amount 1000 purse 0 points 10 qty 1 bono 0 after 33/0/0 stamps 1.0.0.0 reason 0 before 23/0/0.0.0.0 period $P buckets 23.0.0.0 seq 2 lines 1:0:0:10
seq 13 refusal kind 2 time T card $M counter 3->3 package 1 ref 0/0 item 2 amount 0 purse 300 points 0 qty 0 bono 0 after 33/0/0 stamps 1.0.0.0 reason 206 lines 
seq 14 redeem kind 2 time T card $M counter 3->4 package 1 ref 0/0 item $REWARD amount 0 purse 0 points -20 qty 0 bono 0 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 15 stamp kind 2 time T card $M counter 4->5 package 1 ref 0/0 item 0 amount 0 purse 0 points 0 qty 1 bono 0 after 13/0/0 stamps 2.0.0.0 reason 0 lines 
seq 16 refusal kind 2 time T card $M counter 5->5 package 1 ref 0/0 item 6 amount 0 purse 0 points 0 qty 0 bono 0 after 13/0/0 stamps 2.0.0.0 reason 467 lines 
seq 17 void kind 2 time T card $M counter 5->6 package 1 ref $E/15 item 0 amount 0 purse 0 points 0 qty -1 bono 0 after 13/0/0 stamps 1.0.0.0 reason 0 lines 
seq 18 balance kind 2 time T card $M counter 6->6 package 1 $Z after 13/0/0 stamps 1.0.0.0 reason 0 lines " \
    "$(journal_entries "$DEC")"

# No card in the PN532's field (leal-cardsim serve --pn532 --empty): a
# one-shot tap waits --timeout 1 and says so (exit 4); serve --stdio answers
# a BALANCE as the board answers when no card comes; nothing journaled.
serve --empty
run_capture timeout 60 "$LT" tap --balance --timeout 1 --reader "$NFC" --data "$D"
check_eq "no card through libnfc: exit 4, one line, nothing on standard output" \
    "4||leal-terminal: no card in the field of $NFC: present one and tap again" "$RC|$OUT|$ERR"
run_capture timeout 60 "$LT" serve --stdio --timeout 1 --reader "$NFC" --data "$D" \
    <<<$'BALANCE\nEND'
check_eq "serve --stdio through libnfc with no card: the board's no-card answer, then END, exit 0" \
    "0|till: ready
error LEAL_E_NO_CARD
ok end|" "$RC|$OUT|$ERR"
unserve
run_capture "$LT" status --json --data "$D"
check_eq "the no-card taps journaled nothing: seq 18" 18 "$(field '["journal"]["seq"]' <<<"$OUT")"
finish
