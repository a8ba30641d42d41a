#!/bin/bash
# terminal_pcsc.sh - every transaction of leal-terminal tap through the real
# pcscd (issue 13): the reader pcsc:"Virtual PCD 00 00", vsmartcard's vpcd
# driver in a private pcscd talking to leal-cardsim serve --vpcd. On a
# DESFire EV1 (20.00 on its purse, a bono of 10 sessions sold at the desk)
# and on a MIFARE Classic 1K (Classic stored value on, 20.00 topped up):
# earn, pay, pay + earn, redeem, stamp, bono (refused on Classic: no bonos),
# void, balance, each with its exact operator's line and exit code. Then the
# desk reads each card through sim: (points, purse, stamps, taps), and the
# terminal's journal, read by the independent reader of JOURNAL.md, holds
# every tap in order with its counters and euros. Then issue 14's import of
# those real taps: `leal sync import` posts them with exact balances (points,
# euros, stamps, bono sessions of both accounts), the same file again takes
# nothing, a later export that overlaps it takes only the new taps, and
# `leal ledger verify` holds. Last, `leal-terminal serve --stdio` on the same
# reader: a till's BALANCE line with the card in the field and one without;
# then a one-shot tap with no card in the field (exit 4, nothing journaled).
# Every process this starts, it stops.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/terminal_journal.sh
source tests/lib/pcscd.sh
source tests/lib/terminal_setup.sh
pcscd_reexec "$@"

pcscd_fixture terminal-pcsc TILL_PID
terminal_env pcsc
NOTHING="nothing to void: only this terminal's own last operation on this card, while the card has done nothing since"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
q() { sqlite3 "$DB" "$1"; }
bal() { q "select coalesce((select amount from balance where account_id = $1 and asset = '$2'), 0)"; }

# vserve CARD: the card in the field of pcscd's virtual reader.
vserve() {
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$1" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "the virtual card present in pcscd" "$(pcscd_card_state)"
}
# vunserve: the card out (SIGTERM: its file saved), the reader empty again.
vunserve() {
    kill "$SIM_PID"
    wait "$SIM_PID"
    check_eq "cardsim stopped cleanly" 0 "$?"
    SIM_PID=
    pcscd_wait absent || fail "the reader empty again" "$(pcscd_card_state)"
}
# tap NAME EXPECTED-RC EXPECTED-LINE OPERATION...: one tap through pcscd.
tap() {
    local name=$1 rc=$2 line=$3
    shift 3
    run_capture timeout 60 "$LT" tap "$@" --reader "pcsc:$PCSC_READER" --allow-virtual --data "$D"
    check_eq "$name" "$rc|$line|" "$RC|$OUT|$ERR"
}

terminal_program 1 --classic-stored-value-cap 50
terminal_catalogue
ANA_ACC=$("$LEAL" customer add --program 7 --name Ana --json | field '["account"]')
MARTA_ACC=$("$LEAL" customer add --program 7 --name Marta --json | field '["account"]')
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --topup 20 --json | field '["card_id"]')
"$LEAL" bono sell --kind "10 masajes" --reader "sim:$T/ana.json" >/dev/null
MARTA=$("$LEAL" card issue --customer 2 --reader "sim:$T/marta.json" --topup 20 --json | field '["card_id"]')
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null
check_eq "the ledger before any tap: Ana 20.00 and 10 sessions, Marta 20.00, no points" \
    "2000 10 0 2000 0" \
    "$(bal "$ANA_ACC" EUR) $(bal "$ANA_ACC" "BONO:$BONO") $(bal "$ANA_ACC" PTS) $(bal "$MARTA_ACC" EUR) $(bal "$MARTA_ACC" PTS)"

pcscd_start "$T" || { fail "a private pcscd with the vpcd reader"; finish; exit 1; }

# --- DESFire EV1 through pcscd
vserve "$T/ana.json"
tap "pcscd DESFire earn 23,50: +23 points, 0 -> 23" 0 "card $ANA earn: +23 points, 0 -> 23" --earn 23,50
tap "pcscd DESFire pay 3,00: 17.00 left" 0 "card $ANA pay: paid 3.00, 17.00 euros left" --pay 3,00
tap "pcscd DESFire pay 2,00 with an earn of 10,00" 0 \
    "card $ANA pay+earn: paid 2.00, 15.00 euros left; +10 points, 23 -> 33" --pay 2,00 --earn 10,00
tap "pcscd DESFire redeem reward $REWARD (20 points): 33 -> 13" 0 \
    "card $ANA redeem: reward redeemed: 33 -> 13 points" --redeem "$REWARD"
tap "pcscd DESFire stamp card 1: one stamp" 0 "card $ANA stamp: stamped: stamps 1 0 0 0" --stamp 1
tap "pcscd DESFire bono $BONO: one session, 9 left" 0 "card $ANA bono: bono session used: 9 left" \
    --bono "$BONO"
tap "pcscd DESFire void in a one-shot tap: the bono session back" 0 \
    "card $ANA void: voided the session of bono $BONO (10 masajes): 10 left" --void
tap "pcscd DESFire void again: refused, exit 3" 3 "card $ANA void: REFUSED: $NOTHING" --void
tap "pcscd DESFire balance" 0 "card $ANA balance: 13 points, 15.00 euros, stamps 1 0 0 0" --balance
vunserve
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "the desk reads the DESFire card: 13 points, 15.00, stamp 1, 10 sessions, taps 9 (the desk's 2, the till's 7)" \
    "13 1500 1 10 9" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["stamps"][0]' <<<"$OUT") $(field '["bonos"][0]["sessions"]' <<<"$OUT") $(field '["taps"]' <<<"$OUT")"

# --- MIFARE Classic 1K through pcscd (PC/SC part 3: load key, authenticate, read, update)
vserve "$T/marta.json"
tap "pcscd Classic earn 23,50: +23 points, 0 -> 23" 0 "card $MARTA earn: +23 points, 0 -> 23" --earn 23,50
tap "pcscd Classic pay 3,00: 17.00 left" 0 "card $MARTA pay: paid 3.00, 17.00 euros left" --pay 3,00
tap "pcscd Classic pay 2,00 with an earn of 10,00" 0 \
    "card $MARTA pay+earn: paid 2.00, 15.00 euros left; +10 points, 23 -> 33" --pay 2,00 --earn 10,00
tap "pcscd Classic redeem reward $REWARD (20 points): 33 -> 13" 0 \
    "card $MARTA redeem: reward redeemed: 33 -> 13 points" --redeem "$REWARD"
tap "pcscd Classic stamp card 1: one stamp" 0 "card $MARTA stamp: stamped: stamps 1 0 0 0" --stamp 1
tap "pcscd Classic bono: refused, exit 3 (Classic cards carry no bonos)" 3 \
    "card $MARTA bono: REFUSED: the card holds no bono of that kind" --bono "$BONO"
tap "pcscd Classic void in a one-shot tap: the stamp back" 0 \
    "card $MARTA void: voided the stamp on card 1: stamps 0 0 0 0" --void
tap "pcscd Classic balance" 0 "card $MARTA balance: 13 points, 15.00 euros, stamps 0 0 0 0" --balance
vunserve
run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "the desk reads the Classic card: 13 points, 15.00, no stamp, state seq 8 (issue, top-up, 6 writes)" \
    "13 1500 0 8" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["stamps"][0]' <<<"$OUT") $(field '["state_seq"]' <<<"$OUT")"

# The journal: the EPOCH, 9 taps on the DESFire card and 8 on the Classic.
run_capture "$LT" status --json --data "$D"
check_eq "the journal holds the EPOCH and all 17 taps, none synced" "18 18" \
    "$(field '["journal"]["seq"]' <<<"$OUT") $(field '["journal"]["unsynced"]' <<<"$OUT")"
"$LT" journal export -o "$T/e1.ljx" --data "$D" >/dev/null
KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
decode() {
    $PY tests/integration/journal_decode.py "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" \
        "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" 7 1 "$(od -An -tx1 -v "$1" | tr -d ' \n')" 00 2>&1
}
DEC=$(decode "$T/e1.ljx")
check_eq "the independent reader: the export's operations in order" \
    "EPOCH earn pay pay+earn redeem stamp bono void refusal balance earn pay pay+earn redeem stamp refusal void balance" \
    "$(sed -n 's/^seq \([0-9]*\) \([A-Za-z+]*\) .*/\2/p' <<<"$DEC" | paste -sd' ')"
# Every entry field by field (issue 13.1: exact journal entries through
# pcscd), the times checked apart (journal_times). The DESFire rows are
# terminal_nfc.sh's (desfire_table_entries says how each value comes). The
# Classic card has stored value: its seq starts at 2 (issue, top-up), the
# record seq is the counter and the state seq of "before", and every tap reads
# the purse (its sealed state holds it). Reason 467: no such bono on the
# card. A void's ref is the entry it undoes, its quantity that entry's
# negated.
A=$(printf %x "$ANA")
M=$(printf %x "$MARTA")
E=$(sed -n 's/^export .* epoch \([0-9]*\) seq .*/\1/p' <<<"$DEC")
journal_times "the entries' times: from the EPOCH's on, never back, each at +60" "$DEC" 18
Z="ref 0/0 item 0 amount 0 purse 0 points 0 qty 0 bono 0"
P=$(TZ=Europe/Madrid date -d "@$E" +'%Y %m' | awk '{ print ($1 - 2000) * 12 + $2 }')
ENTRIES="$(desfire_table_entries "$A" "$E" "$P" "$REWARD" "$BONO")
seq 11 earn kind 2 time T card $M counter 2->3 package 1 ref 0/0 item 0 amount 2350 purse 0 points 23 qty 0 bono 0 after 23/2000/0 stamps 0.0.0.0 reason 0 before 0/0/0.0.0.0 period 0 buckets 0.0.0.0 seq 2 lines 1:0:0:23
seq 12 pay kind 2 time T card $M counter 3->4 package 1 ref 0/0 item 0 amount 0 purse 300 points 0 qty 0 bono 0 after 23/1700/0 stamps 0.0.0.0 reason 0 lines 
seq 13 pay+earn kind 2 time T card $M counter 4->5 package 1 ref 0/0 item 0 amount 1000 purse 200 points 10 qty 0 bono 0 after 33/1500/0 stamps 0.0.0.0 reason 0 before 23/0/0.0.0.0 period $P buckets 23.0.0.0 seq 4 lines 1:0:0:10
seq 14 redeem kind 2 time T card $M counter 5->6 package 1 ref 0/0 item $REWARD amount 0 purse 0 points -20 qty 0 bono 0 after 13/1500/0 stamps 0.0.0.0 reason 0 lines 
seq 15 stamp kind 2 time T card $M counter 6->7 package 1 ref 0/0 item 0 amount 0 purse 0 points 0 qty 1 bono 0 after 13/1500/0 stamps 1.0.0.0 reason 0 lines 
seq 16 refusal kind 2 time T card $M counter 7->7 package 1 ref 0/0 item 6 amount 0 purse 0 points 0 qty 0 bono 0 after 13/1500/0 stamps 1.0.0.0 reason 467 lines 
seq 17 void kind 2 time T card $M counter 7->8 package 1 ref $E/15 item 0 amount 0 purse 0 points 0 qty -1 bono 0 after 13/1500/0 stamps 0.0.0.0 reason 0 lines 
seq 18 balance kind 2 time T card $M counter 8->8 package 1 $Z after 13/1500/0 stamps 0.0.0.0 reason 0 lines "
check_eq "the independent reader: all 18 entries, field by field" "$ENTRIES" \
    "$(journal_entries "$DEC")"
check_match "the export verifies" "^export ok$" "$DEC"

# --- issue 14: the real taps into the ledger, exactly once.
run_capture "$LEAL" sync import "$T/e1.ljx"
check_eq "import: 18 taken; 13 posted (DESFire earn, pay, pay+earn, redeem, stamp, bono, void; Classic the same but the bono); 5 recorded (EPOCH, 2 refusals, 2 balances)" \
    "0|$T/e1.ljx: terminal 1, epoch $(sed -n 's/^export .* epoch \([0-9]*\) seq .*/\1/p' <<<"$DEC"), sequences 1 to 18: 18 taken (13 posted, 5 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" \
    "$RC|$OUT|$ERR"
LEDGER_STATE() {
    echo "$(bal "$ANA_ACC" PTS) $(bal "$ANA_ACC" EUR) $(bal "$ANA_ACC" STAMP:1) $(bal "$ANA_ACC" "BONO:$BONO") $(bal "$MARTA_ACC" PTS) $(bal "$MARTA_ACC" EUR) $(bal "$MARTA_ACC" STAMP:1)"
}
check_eq "the ledger as the cards: Ana 13 points, 15.00, 1 stamp, 10 sessions; Marta 13 points, 15.00, no stamp" \
    "13 1500 1 10 13 1500 0" "$(LEDGER_STATE)"
run_capture "$LEAL" sync import "$T/e1.ljx"
check_eq "the same file again: nothing taken" \
    "0|0 taken|18 already there|13 1500 1 10 13 1500 0" \
    "$RC|$(grep -o '[0-9]* taken' <<<"$OUT")|$(grep -o '[0-9]* already there' <<<"$OUT")|$(LEDGER_STATE)"

# Two taps more, exported without an ack: the new export overlaps the first.
vserve "$T/ana.json"
tap "pcscd DESFire earn 5,00: 13 -> 18" 0 "card $ANA earn: +5 points, 13 -> 18" --earn 5
vunserve
vserve "$T/marta.json"
tap "pcscd Classic pay 1,50: 13.50 left" 0 "card $MARTA pay: paid 1.50, 13.50 euros left" --pay 1,50
vunserve
"$LT" journal export -o "$T/e2.ljx" --data "$D" >/dev/null
DEC2=$(decode "$T/e2.ljx")
# The second export holds the first's 18 entries again, then the 2 new ones:
# the DESFire earn (its state written by 5 taps since the issue: earn, pay,
# pay + earn, redeem, stamp; 33 euros spent this month) and the Classic
# payment.
check_eq "the second export: the same 18 entries, then the two new taps, field by field" \
    "$ENTRIES
seq 19 earn kind 1 time T card $A counter 9->10 package 1 ref 0/0 item 0 amount 500 purse 0 points 5 qty 0 bono 0 after 18/0/0 stamps 1.0.0.0 reason 0 before 13/0/1.0.0.0 period $P buckets 33.0.0.0 seq 5 lines 1:0:0:5
seq 20 pay kind 2 time T card $M counter 8->9 package 1 ref 0/0 item 0 amount 0 purse 150 points 0 qty 0 bono 0 after 13/1350/0 stamps 0.0.0.0 reason 0 lines |export ok" \
    "$(journal_entries "$DEC2")|$(grep -x 'export ok' <<<"$DEC2")"
run_capture "$LEAL" sync import "$T/e2.ljx" "$T/e1.ljx" "$T/e2.ljx" --json
check_eq "the overlapping export, then both again: only its 2 new entries taken" \
    "0|2 0 0|18 18 20" \
    "$RC|$(sed -n 's/.*"taken":\([0-9]*\).*/\1/p' <<<"$OUT" | paste -sd' ')|$(sed -n 's/.*"already_there":\([0-9]*\).*/\1/p' <<<"$OUT" | paste -sd' ')"
check_eq "the ledger: Ana 18 points, Marta 13.50" "18 1500 1 10 13 1350 0" "$(LEDGER_STATE)"
check_eq "20 journal entries taken, each once; no finding" "20|20|0" \
    "$(q 'select count(*) from terminal_entry')|$(q 'select count(distinct seq) from terminal_entry')|$(q 'select count(*) from reconcile_finding')"
run_capture "$LEAL" ledger verify
check_match "ledger verify" "^ledger ok" "$OUT"
"$LEAL" sync ack --terminal 1 -o "$T/a1" >/dev/null
run_capture "$LT" journal ack "$T/a1" --data "$D"
check_eq "the terminal takes the host's ack" 0 "$RC"
run_capture "$LT" status --json --data "$D"
check_eq "after the ack only its own ACK entry is unsynced" 1 "$(field '["journal"]["unsynced"]' <<<"$OUT")"

# --- leal-terminal serve --stdio through pcscd: the board's till lines from a
# till program on a pipe. A BALANCE with the DESFire card in the field (the
# entry after the ACK, 22), then, the card out, a BALANCE answered as the
# board answers when no card comes (--timeout 1), journaling nothing; the end
# of the input ends it (exit 0).
mkfifo "$T/till-in"
vserve "$T/ana.json"
"$LT" serve --stdio --timeout 1 --reader "pcsc:$PCSC_READER" --allow-virtual --data "$D" \
    <"$T/till-in" >"$T/till-out" 2>"$T/till-err" &
TILL_PID=$!
exec 3>"$T/till-in"
# till_wait N: until the till has N answer lines (60 s at most).
till_wait() {
    local _
    for _ in $(seq 1 1200); do
        [ "$(wc -l <"$T/till-out")" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}
till_wait 1
echo "BALANCE" >&3
till_wait 3
vunserve
echo "BALANCE" >&3
till_wait 4
exec 3>&-
wait "$TILL_PID"
TILL_RC=$?
TILL_PID=
check_eq "serve --stdio through pcscd: the balance, then no card (nothing journaled), exit 0 at the end of the input" \
    "0|till: ready
show card $ANA balance: 18 points, 15.00 euros, stamps 1 0 0 0
ok done card $ANA points 18 entry $E/22
error LEAL_E_NO_CARD|" \
    "$TILL_RC|$(cat "$T/till-out")|$(cat "$T/till-err")"
run_capture "$LT" status --json --data "$D"
check_eq "the journal: the ACK and serve's balance unsynced, seq 22" "2 22" \
    "$(field '["journal"]["unsynced"]' <<<"$OUT") $(field '["journal"]["seq"]' <<<"$OUT")"
# The one-shot tap with no card in the field (the card still out): exit 4,
# one line, nothing journaled.
run_capture "$LT" tap --balance --timeout 1 --reader "pcsc:$PCSC_READER" --allow-virtual --data "$D"
check_eq "tap through pcscd with no card: exit 4, one line, nothing on standard output" \
    "4||leal-terminal: no card in the field of pcsc:$PCSC_READER: present one and tap again" \
    "$RC|$OUT|$ERR"
run_capture "$LT" status --json --data "$D"
check_eq "the no-card tap journaled nothing: seq 22" 22 "$(field '["journal"]["seq"]' <<<"$OUT")"
finish
