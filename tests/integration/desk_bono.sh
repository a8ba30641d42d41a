#!/bin/bash
# desk_bono.sh - layout version 2 at the desk (cardlayout/LAYOUT.md 4) through
# sim: and the real pcscd (vpcd) in front of the virtual card: a new card is
# made at version 2 (state 02, file 06 with no bonos); `leal card read` shows
# the bonos the card carries, named by the program's rule set; a version-1
# card (as leal made them before: state 01, no file 06) is
# upgraded at its next desk read with exact round trips and nothing of its
# value moved; a state version nobody knows is refused in one line.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-bono-XXXXXX)
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="bono test passphrase"
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(*[json.dumps(d[k]) if isinstance(d[k], (list, dict)) else d[k] for k in sys.argv[1:]])" "$@"; }
# card_file CARD NO: file NO of the leal application of the virtual card, its data in hex.
card_file() {
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
f = [f for f in app["files"] if f["no"] == int(sys.argv[2])]
print(f[0]["data"] if f else "none")' "$1" "$2"
}
# set_card CARD STATE-VERSION-BYTE BONOS-HEX|drop: the card file edited as only
# leal's keys could (the state's first byte; file 06's data, or file 06 gone).
set_card() {
    $PY -c '
import json, sys
path, ver, bonos = sys.argv[1], sys.argv[2], sys.argv[3]
card = json.load(open(path))
app = [a for a in card["apps"] if a["aid"] == "41454c"][0]
st = [f for f in app["files"] if f["no"] == 2][0]
st["data"] = ver + st["data"][2:]
if bonos == "drop":
    app["files"] = [f for f in app["files"] if f["no"] != 6]
else:
    [f for f in app["files"] if f["no"] == 6][0]["data"] = bonos
json.dump(card, open(path, "w"))' "$1" "$2" "$3"
}

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
check_eq "program 7" 0 "$RC"
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$LEAL" customer add --program 7 --name Luis >/dev/null
run_capture "$LEAL" bono add --program 7 --name "10 masajes" --sessions 10 --price 45 \
    --valid-days 365 --reason "bonos"
check_eq "bono kind 1 defined" "0|bono 1 added (program 7, rule set version 1)" "$RC|$OUT"

# --- a new card: version 2, no bonos -------------------------------------------
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --topup 20 --reader "sim:$T/ana.json" --json
check_eq "issued: round trips (LAYOUT.md 4.4: 30 + 8)" "0|38" "$RC|$(json round_trips <<<"$OUT")"
ANA=$(json card_id <<<"$OUT")
check_eq "on the card: state 02, file 06 with no bonos (02 04, four free slots)" \
    "02 0204$(printf '0%.0s' {1..64})" \
    "$(card_file "$T/ana.json" 2 | cut -c1-2) $(card_file "$T/ana.json" 6)"

# --- the bonos a card carries, shown by the desk read ---------------------------
# Bono 1 with 9 sessions to 2026-12-13 (day 20800), and bono 5 (not in the rule set), 1 left, no last day.
set_card "$T/ana.json" 02 "020400000001000951400000000500010000$(printf "0%.0s" {1..32})"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "card read --json: agrees, round trips (9: the bono file read)" "0|True 9" \
    "$RC|$(json agrees round_trips <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "card read in words: each bono, its sessions and last day" \
    "bonos        10 masajes: 9 sessions left, until 2026-12-13
             bono 5: 1 session left" "$(grep -A1 '^bonos' <<<"$OUT")"

# --- a version-1 card upgraded at its next desk read ----------------------------
"$CARDSIM" new --type desfire-ev1 --uid 04223344556677 -o "$T/luis.json" >/dev/null
run_capture "$LEAL" card issue --customer 2 --topup 10 --welcome-points 30 --reader "sim:$T/luis.json" --json
check_eq "Luis's card issued" 0 "$RC"
set_card "$T/luis.json" 01 drop
check_eq "made a version-1 card: state 01, no file 06" "01 none" \
    "$(card_file "$T/luis.json" 2 | cut -c1-2) $(card_file "$T/luis.json" 6)"
run_capture "$LEAL" card read --reader "sim:$T/luis.json" --json
check_eq "read upgrades it: purse, points, taps, state seq, agrees, round trips (8 + 6)" \
    "0|1000 30 1 1 True 14" \
    "$RC|$(json purse_cents points taps state_seq agrees round_trips <<<"$OUT")"
check_eq "on the card: state 02, file 06 with no bonos" "02 0204$(printf '0%.0s' {1..64})" \
    "$(card_file "$T/luis.json" 2 | cut -c1-2) $(card_file "$T/luis.json" 6)"
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "the next read: nothing to upgrade, no note" "0|" "$RC|$(grep '^layout' <<<"$OUT")"
set_card "$T/luis.json" 01 drop
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "the upgrade said in words" \
    "0|layout       card upgraded to layout version 2 (room for bonos)" "$RC|$(grep '^layout' <<<"$OUT")"

# --- a state version nobody knows: refused, the card left as it is --------------
set_card "$T/luis.json" 03 "0204$(printf '0%.0s' {1..64})"
BEFORE=$(cat "$T/luis.json")
run_capture "$LEAL" card read --reader "sim:$T/luis.json"
check_eq "unknown layout version refused in one line, exit 1" 1 "$RC"
check_match "the refusal names the layout version" "layout version" "$ERR"
check_eq "one line" 1 "$(wc -l <<<"$ERR")"
check_eq "the card is left as it was" "$BEFORE" "$(cat "$T/luis.json")"

# --- through the real pcscd: the upgrade and the bonos shown ---------------------
if pcscd_start "$T"; then
    set_card "$T/luis.json" 01 drop
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/luis.json" 2>"$T/serve.log" &
    SIM_PID=$!
    if pcscd_wait present; then
        PC=(--reader "pcsc:$PCSC_READER" --allow-virtual)
        run_capture "$LEAL" card read "${PC[@]}" --json
        check_eq "pcscd: read upgrades a version-1 card (8 + 6 RT)" "0|1000 14" \
            "$RC|$(json purse_cents round_trips <<<"$OUT")"
        check_eq "pcscd: on the card: state 02, file 06 with no bonos" \
            "02 0204$(printf '0%.0s' {1..64})" \
            "$(card_file "$T/luis.json" 2 | cut -c1-2) $(card_file "$T/luis.json" 6)"
        run_capture "$LEAL" card read "${PC[@]}" --json
        check_eq "pcscd: then a version-2 read (9 RT)" "0|9 True" \
            "$RC|$(json round_trips agrees <<<"$OUT")"
    else
        fail "the virtual card present in pcscd" "$(pcscd_card_state)"
    fi
fi
finish
