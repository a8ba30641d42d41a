#!/bin/bash
# terminal_ev2.sh - leal-terminal's transactions on DESFire EV2 and EV3 under
# EV2 secure messaging (issue 19), through each reader leal has: the virtual
# card in-process (sim:), the real pcscd in front of leal-cardsim's vpcd
# (pcsc:), and libnfc 1.8's pn532_uart driver talking to leal-cardsim's
# emulated PN532 (nfc:). On each, an EV2 and an EV3 issued at the desk with
# 20.00 (originality-signed with the test key): earn 23,50, pay 3,00, pay
# 2,00 + earn 10,00, the void of that, redeem a reward of 20 points, each
# with its exact operator line and exit code, then a balance --json with the
# exact points, euros and round trips (7: AuthenticateEV2First answered, no
# AA); the desk then reads every card (3 points, 17.00, taps 3, and the TMC
# of its Transaction MAC file: 6, in 10 exchanges: the earn, the pay and the
# pay + earn read and debit no counter, the TMC stands for it, and the pays
# read the purse mirror of layout 3 instead of GetValue purse: issue 19's
# earn in 6 and pay + earn in 7, cardlayout/LAYOUT.md 2.10). The package
# names the EV2/EV3 cards as such (floor flag 2) and their Transaction MAC
# file (flag 4) and not the EV1; an EV1's earn beside them costs 9 (the 71
# probe, AA, the counter) against the EV2's 6.
# Every process this starts, it stops.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
source tests/lib/terminal_setup.sh
pcscd_reexec "$@"

pcscd_fixture terminal-ev2 SPID
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0
terminal_env ev2
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
source tests/lib/pn532.sh

terminal_program 1
REWARD=$(terminal_reward)
declare -A ID
N=0
for c in sim-ev2 sim-ev3 pcsc-ev2 pcsc-ev3 nfc-ev2 nfc-ev3 sim-ev1; do
    N=$((N + 1))
    "$LEAL" customer add --program 7 --name "c$N" >/dev/null
    "$CARDSIM" new --type "desfire-${c##*-}" --uid "0411223344550$N" -o "$T/$c.json" >/dev/null
    ID[$c]=$("$LEAL" card issue --customer "$N" --reader "sim:$T/$c.json" --topup 20 --json |
        field '["card_id"]')
done
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null

# The package's floors, read from its bytes as PACKAGE.md lays them out
# (header, rules, hot list, floors): the flags byte is 6 on the six EV2/EV3
# cards (2: EV2/EV3; 4: the Transaction MAC file, whose tmac key issuance
# recorded), 0 on the EV1.
check_eq "the package: the floors' flags, by card id" "0 6 6 6 6 6 6" \
    "$(terminal_floor_flags "$T/p1.lpkg" "${ID[sim-ev1]}")"

# tap_on READER EXTRA NAME RC LINE OPERATION...: one tap through READER.
tap_on() {
    local reader=$1 extra=$2 name=$3 rc=$4 line=$5
    shift 5
    # shellcheck disable=SC2086
    run_capture timeout 60 "$LT" tap "$@" --reader "$reader" $extra --data "$D"
    check_eq "$name" "$rc|$line|" "$RC|$OUT|$ERR"
}

# story WHERE CARD READER EXTRA: the five transactions and a balance.
story() {
    local w=$1 c=$2 r=$3 x=$4 id=${ID[$2]}
    tap_on "$r" "$x" "$w $c earn 23,50: +23 points, 0 -> 23" 0 "card $id earn: +23 points, 0 -> 23" \
        --earn 23,50
    tap_on "$r" "$x" "$w $c pay 3,00: 17.00 left" 0 "card $id pay: paid 3.00, 17.00 euros left" \
        --pay 3,00
    tap_on "$r" "$x" "$w $c pay 2,00 with an earn of 10,00" 0 \
        "card $id pay+earn: paid 2.00, 15.00 euros left; +10 points, 23 -> 33" --pay 2,00 --earn 10,00
    tap_on "$r" "$x" "$w $c void of the pay + earn: 2.00 back, 33 -> 23" 0 \
        "card $id void: voided the pay+earn: 2.00 euros back, 17.00 left; 33 -> 23 points" --void
    tap_on "$r" "$x" "$w $c redeem reward $REWARD (20 points): 23 -> 3" 0 \
        "card $id redeem: reward redeemed: 23 -> 3 points" --redeem "$REWARD"
    # shellcheck disable=SC2086
    run_capture timeout 60 "$LT" tap --balance --json --reader "$r" $x --data "$D"
    check_eq "$w $c balance --json: 3 points, 17.00, 3 taps (the earn and the pays debited none), 7 round trips" "0 done 3 17.00 3 7" \
        "$RC $(field '["outcome"]' <<<"$OUT") $(field '["points_after"]' <<<"$OUT") $(field '["purse_after"]' <<<"$OUT") $(field '["taps_after"]' <<<"$OUT") $(field '["round_trips"]' <<<"$OUT")"
}

# --- sim: (in-process)
story sim sim-ev2 "sim:$T/sim-ev2.json" ""
story sim sim-ev3 "sim:$T/sim-ev3.json" ""

# --- pcsc: the real pcscd in front of leal-cardsim serve --vpcd
vpcd_story() {
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/pcsc-$1.json" 2>"$T/serve-$1.log" &
    SIM_PID=$!
    if pcscd_wait present; then
        story pcscd "pcsc-$1" "pcsc:$PCSC_READER" --allow-virtual
    else
        fail "pcscd: the virtual $1 present" "$(pcscd_card_state)"
    fi
    kill "$SIM_PID"
    wait "$SIM_PID"
    check_eq "pcscd: cardsim $1 stopped cleanly" 0 "$?"
    SIM_PID=
    pcscd_wait absent || true
}
if pcscd_start "$T"; then
    vpcd_story ev2
    vpcd_story ev3
else
    fail "pcscd started"
fi

# --- nfc: libnfc's pn532_uart and the emulated PN532
for k in ev2 ev3; do
    serve "$T/nfc-$k.json"
    story libnfc "nfc-$k" "$NFC" ""
    unserve
done

# The desk reads every card: exactly what the till left.
for c in sim-ev2 sim-ev3 pcsc-ev2 pcsc-ev3 nfc-ev2 nfc-ev3; do
    run_capture "$LEAL" card read --reader "sim:$T/$c.json" --json
    check_eq "the desk reads $c: 3 points, 17.00, taps 3 (the desk's top-up, the till's void and redeem: its earn and pays debited none), TMC 6 (the top-up and the till's 5 commits), 10 RT (+ its Transaction MAC file)" \
        "3 1700 3 6 10" \
        "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT") $(field '["taps"]' <<<"$OUT") $(field '["tmc"]' <<<"$OUT") $(field '["round_trips"]' <<<"$OUT")"
done

# An EV1 beside them: 71 answered ILLEGAL_COMMAND, then AA: one exchange more.
run_capture "$LT" tap --earn 23,50 --json --reader "sim:$T/sim-ev1.json" --data "$D"
check_eq "EV1 earn: done, 9 round trips (the 71 probe, AA)" "0 done 23 9" \
    "$RC $(field '["outcome"]' <<<"$OUT") $(field '["points_after"]' <<<"$OUT") $(field '["round_trips"]' <<<"$OUT")"
run_capture "$LT" tap --earn 1,00 --json --reader "sim:$T/sim-ev2.json" --data "$D"
check_eq "EV2 earn: done, 6 round trips (no counter: its TMC stands for it)" "0 done 4 6" \
    "$RC $(field '["outcome"]' <<<"$OUT") $(field '["points_after"]' <<<"$OUT") $(field '["round_trips"]' <<<"$OUT")"
run_capture "$LT" tap --pay 1,00 --earn 1,00 --json --reader "sim:$T/sim-ev3.json" --data "$D"
check_eq "EV3 pay + earn: done, 16.00 left, 7 round trips (the purse mirror, no counter)" \
    "0 done 4 16.00 7" \
    "$RC $(field '["outcome"]' <<<"$OUT") $(field '["points_after"]' <<<"$OUT") $(field '["purse_after"]' <<<"$OUT") $(field '["round_trips"]' <<<"$OUT")"

# The journal: the EPOCH, then every tap (6 cards x 6 taps, and 3), and a
# TMAC entry after each EV2/EV3 commit (6 cards x 5, and 2), none synced.
run_capture "$LT" status --json --data "$D"
check_eq "the journal holds the EPOCH, all 39 taps and 32 TMAC entries, none synced" "72 72" \
    "$(field '["journal"]["seq"]' <<<"$OUT") $(field '["journal"]["unsynced"]' <<<"$OUT")"
finish
