#!/bin/bash
# firmware_refusals.sh - the terminal's refusals on the bare-metal Cortex-M3
# board in QEMU (issue 18), each compared with leal-terminal's on the POSIX
# port: four DESFire EV1 cards with 20.00 each, copied after issue (one copy
# per port), and one package for terminal 1 with a day cap of 10.00:
# - Ana's card blocked at the desk before the package: on its hot list;
# - Bea's card dumped after issue, then topped up at the desk (its counter
#   moves, the host's floor with it), then the dump put back: behind the floor;
# - Cris pays 11,00, over the day cap;
# - Dani earns with the board's clock 8 days on, past the package's 7 days
#   (the board's clock is the till's TIME line; leal-terminal's is the PC's,
#   which a test cannot move, so that one refusal is the board's alone, with
#   the core's sentence leal-terminal would print).
# Each refusal: the board's operator line exact and word for word
# leal-terminal's (exit 3), "ok refused", a refusal entry in the journal,
# and the card untouched on both copies (its file byte for byte as before the
# tap; the desk reads its points and purse, but for the restored dump, which
# the desk refuses too).
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

source tests/lib/pn532.sh
pn532_fixture fw-refusals "firmware refusals"
source tests/lib/firmware.sh

terminal_program 1
declare -A ID
uid=1
for c in ana bea cris dani; do
    "$LEAL" customer add --program 7 --name "$c" >/dev/null
    "$CARDSIM" new --type desfire-ev1 --uid "0411223344550$uid" -o "$T/$c.json" >/dev/null
    ID[$c]=$("$LEAL" card issue --customer $uid --reader "sim:$T/$c.json" --topup 20 --json | field '["card_id"]')
    uid=$((uid + 1))
done
"$LEAL" card block "${ID[ana]}" --reason "robada" >/dev/null
cp "$T/bea.json" "$T/bea.dump"
"$LEAL" card top-up 5 --reader "sim:$T/bea.json" >/dev/null
mv "$T/bea.dump" "$T/bea.json"
for c in ana bea cris dani; do
    cp "$T/$c.json" "$T/$c-posix.json" && cp "$T/$c.json" "$T/$c-board.json" && mv "$T/$c.json" "$T/$c-before.json"
done
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
run_capture "$LEAL" terminal package --terminal 1 --day-cap 10 -o "$T/p1.lpkg" --json
check_eq "the package: Ana hot-listed, a floor for each of the three active cards" "0 1 3" \
    "$RC $(fields '["hot_list"]' '["floors"]' <<<"$OUT")"
pn532_keys
pn532_till 1 "$T/till"

HOT="card refused: it is on the terminal package's hot list (blocked, lost or replaced); send the customer to the desk"
FLOOR="card refused: it shows fewer transactions than the host last saw (a restored copy or a clone); send it to the desk"
CAP="card refused: the payment would pass the offline spending cap per card per day; pay another way"
EXPIRED="terminal package has expired; build a new one"

# refusal NAME CARD TILL-LINE TAP-OPTIONS OP SENTENCE LATER PURSE CODE ERRNAME: the POSIX tap
# (unless LATER: the board's clock moved on by LATER seconds after the LOAD), then one board
# run; both refuse, the tap with the SENTENCE, the board naming the code (ERRNAME: its till
# lines carry no sentences), the board's journal has the refusal (CODE), the card keeps
# 0 points and PURSE cents.
refusal() {
    local name=$1 c=$2 line=$3 opts=$4 op=$5 sentence=$6 later=${7:-} want head dec
    want="card ${ID[$c]} $op: REFUSED: ${10}"
    if [ -z "$later" ]; then
        # shellcheck disable=SC2086 # opts is a list of options
        run_capture "$LT" tap $opts --reader "sim:$T/$c-posix.json" --data "$T/till"
        check_eq "$name POSIX: leal-terminal tap $opts refuses, exit 3" \
            "3|card ${ID[$c]} $op: REFUSED: $sentence|" "$RC|$OUT|$ERR"
    fi
    {
        fw_lines "$T/t1.ltb" "$T/p1.lpkg"
        [ -z "$later" ] || echo "TIME $((NOW + later))"
        echo "$line"
        echo "EXPORT"
        echo "END"
    } >"$T/lines"
    fw_run "$name board" "$T/$c-board.json" "$T/lines"
    E=$(sed -nE 's#^ok refused .* entry ([0-9]+)/2$#\1#p' <<<"$OUT")
    head=$FW_HEAD
    [ -z "$later" ] || head+=$'\nok time'
    check_eq "$name board: $line refused, the operator line naming ${10}, the refusal entry 2 of its journal" \
        "$head
show $want
ok refused card ${ID[$c]} points 0 entry $E/2
ok end" "$(grep -v '^ok export ' <<<"$OUT")"
    dec=$(pn532_decode 1 "$(sed -n 's/^ok export //p' <<<"$OUT")")
    check_eq "$name board: its export verifies: 2 entries, the EPOCH then a refusal of card ${ID[$c]} with reason $9" \
        "2|seq 1 EPOCH|seq 2 refusal card $(printf %x "${ID[$c]}") reason $9|1" \
        "$(grep -c '^seq ' <<<"$dec")|$(grep -oE '^seq 1 [A-Za-z]+' <<<"$dec")|$(grep '^seq 2 ' <<<"$dec" |
            grep -oE '^seq 2 [a-z]+|card [0-9a-f]+|reason [0-9]+' | paste -sd' ')|$(grep -c '^export ok$' <<<"$dec")"
    for port in posix board; do
        [ -n "$later" ] && [ $port = posix ] && continue
        check_eq "$name $port: the card file byte for byte as before the tap (nothing written)" \
            same "$(cmp -s "$T/$c-$port.json" "$T/$c-before.json" && echo same)"
        [ "$c" = bea ] && continue # the desk itself refuses the restored dump (and blocks it)
        run_capture "$LEAL" card read --reader "sim:$T/$c-$port.json" --json
        check_eq "$name $port: the desk reads the card: 0 points, $8 cents" "0 0 $8" \
            "$RC $(fields '["points"]' '["purse_cents"]' <<<"$OUT")"
    done
}
refusal "hot list" ana "PAY 300" "--pay 3,00" pay "$HOT" "" 2000 460 LEAL_E_TERMINAL_HOT_LISTED
refusal "floor" bea "PAY 300" "--pay 3,00" pay "$FLOOR" "" 2000 461 LEAL_E_TERMINAL_BEHIND_FLOOR
refusal "day cap" cris "PAY 1100" "--pay 11,00" pay "$CAP" "" 2000 462 LEAL_E_TERMINAL_CAP_DAY
refusal "expired package" dani "EARN 1000" "--earn 10,00" earn "$EXPIRED" $((8 * 86400)) 2000 407 LEAL_E_PACKAGE_EXPIRED
finish
