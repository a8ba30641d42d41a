#!/bin/bash
# layout_facts.sh - what cardlayout/LAYOUT.md says of the DESFire log, the
# counter and sessions, checked on the virtual card through every face:
# a cyclic record file of 6 keeps 5 (sim:); issuance does not step the counter
# (0 taps, the issue record with counter 7FFFFFFF) and an opening top-up is the
# first counted transaction (1 tap); the desk read is 8 round trips and reads
# only the newest log record (ReadRecords 05, offset 0, 1 record: the PN532
# trace through libnfc); a session is still open after leal exits (pcscd keeps
# the card powered), which is why every transaction starts with SelectApplication.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-layoutfacts-XXXXXX)
SIM_PID=
HOLD_PID=
cleanup() {
    [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null && wait "$HOLD_PID" 2>/dev/null
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
    pcscd_stop
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data
export LEAL_PASSPHRASE="layout facts passphrase"
"$LEAL" keys init --issuer "Café Sol" --program 1 >/dev/null
"$LEAL" program create --id 1 --code sol --name "Café Sol" >/dev/null
for n in Ana Bea Cris Dani; do "$LEAL" customer add --program 1 --name "$n" >/dev/null; done

# log_file CARD: the leal application's log file as "max_records n record..." (the
# virtual card's EEPROM); counter CARD: the counter file's value in hex.
log_file() {
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
f = [f for f in app["files"] if f["no"] == 5][0]
print(f["max_records"], len(f["records"]), *f["records"])' "$1"
}
counter() {
    $PY -c '
import json, sys
app = [a for a in json.load(open(sys.argv[1]))["apps"] if a["aid"] == "41454c"][0]
print("%08x" % [f for f in app["files"] if f["no"] == 4][0]["value"])' "$1"
}
field() { $PY -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }

# Issuance does not step the counter; the opening top-up does.
"$CARDSIM" new --type desfire-ev1 --uid 04100000000001 -o "$T/a.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/a.json" --json
check_eq "issue exits 0" 0 "$RC"
check_eq "a new card without a top-up: 0 taps" 0 "$(field taps <<<"$OUT")"
check_eq "its counter is untouched" 7fffffff "$(counter "$T/a.json")"
check_eq "its log: 6 records made, the issue record {op 1, counter 7FFFFFFF, 0}" \
    "6 1 010301007fffffff0000000000000000" "$(log_file "$T/a.json")"
"$CARDSIM" new --type desfire-ev1 --uid 04100000000002 -o "$T/b.json" >/dev/null
run_capture "$LEAL" card issue --customer 2 --topup 5 --reader "sim:$T/b.json" --json
check_eq "a new card with an opening top-up: 1 tap" "0 1" "$RC $(field taps <<<"$OUT")"
check_eq "its counter stepped once" 7ffffffe "$(counter "$T/b.json")"
check_eq "its log: the issue record, then the top-up {op 2, counter 7FFFFFFE, 500}" \
    "6 2 010301007fffffff0000000000000000 010302007ffffffe000001f400000000" "$(log_file "$T/b.json")"

# A cyclic file of 6 keeps 5: the issue record and 6 top-ups leave the newest 5.
for i in 1 2 3 4 5 6; do
    run_capture "$LEAL" card top-up 1 --reader "sim:$T/a.json"
    check_eq "top-up $i exits 0" 0 "$RC"
done
check_eq "after 7 log writes the card keeps 5, oldest first (top-ups 2..6)" \
    "6 5 010302007ffffffd0000006400000000 010302007ffffffc0000006400000000 010302007ffffffb0000006400000000 010302007ffffffa0000006400000000 010302007ffffff90000006400000000" \
    "$(log_file "$T/a.json")"
run_capture "$LEAL" card read --reader "sim:$T/a.json" --json
check_eq "taps = 7FFFFFFF - counter = 6" "0 6" "$RC $(field taps <<<"$OUT")"

# The desk read through libnfc and the emulated PN532: 9 round trips (a
# version-2 card's bono file the ninth, LAYOUT.md 4.4), and the log is read
# with one ReadRecords of the newest record only.
"$CARDSIM" serve --pn532 "$T/pn532" --trace "$T/trace" "$T/a.json" >"$T/pn532.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
run_capture "$LEAL" card read --reader "nfc:pn532_uart:$(readlink "$T/pn532")" --json
check_eq "desk read through libnfc exits 0" 0 "$RC"
check_eq "desk read: 9 round trips" 9 "$(field round_trips <<<"$OUT")"
kill "$SIM_PID"
wait "$SIM_PID" 2>/dev/null
SIM_PID=
# InDataExchange (40 01) frames carrying a DESFire command (ISO-wrapped: 90 INS 00 00).
CMDS=$(sed -nE 's/^> 4001(90..)0000(.*)$/\1 \2/p' "$T/trace")
check_eq "desk read commands: select, identity, auth (2), state, purse, counter, log, bonos" \
    "905a 90bd 90aa 90af 90bd 906c 906c 90bb 90bd" "$(cut -d' ' -f1 <<<"$CMDS" | tr '\n' ' ' | sed 's/ $//')"
check_eq "ReadRecords: file 05, offset 0 (the newest), 1 record" "90bb 070500000001000000" \
    "$(grep '^90bb' <<<"$CMDS")"

# A previous session is still open at the next connection through pcscd.
if pcscd_start "$T"; then
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/b.json" >"$T/vpcd.log" 2>&1 &
    SIM_PID=$!
    pcscd_wait present
    # pcscd powers a card down 0.4 s after its last handle goes (its power-off
    # grace period), so a scriptor that starts later than that on a loaded
    # machine would find a fresh card. Another client holding a shared handle
    # (sending nothing) across leal's exit keeps the card powered: what is
    # checked is leal's disconnect (SCARD_LEAVE_CARD), not how fast the next
    # program starts. A reset by leal would still end the session for all.
    mkfifo "$T/hold"
    scriptor -r "$PCSC_READER" <"$T/hold" >"$T/hold.out" 2>"$T/hold.err" &
    HOLD_PID=$!
    exec 7>"$T/hold"
    for _ in $(seq 100); do grep -q "Reading commands from STDIN" "$T/hold.err" && break; sleep 0.1; done
    check_match "a second client holds the card (shared)" "Reading commands from STDIN" "$(cat "$T/hold.err")"
    R="pcsc:$PCSC_READER"
    run_capture "$LEAL" card read --reader "$R" --allow-virtual --json
    check_eq "card read through pcscd exits 0" 0 "$RC"
    printf '90 6C 00 00 01 04 00\n' >"$T/getvalue"
    printf '90 5A 00 00 03 4C 45 41 00\n90 6C 00 00 01 04 00\n' >"$T/select-getvalue"
    run_capture scriptor -r "$PCSC_READER" "$T/getvalue"
    check_match "after leal exits, GetValue with no select and no authentication is answered enciphered (the session is open)" \
        "^< ([0-9A-F]{2} ){16}$" "$(grep -A1 '^> 90 6C' <<<"$OUT" | sed -n 2p)"
    check_match "... with 91 00" "^91 00" "$(grep -A2 '^> 90 6C' <<<"$OUT" | sed -n 3p)"
    run_capture scriptor -r "$PCSC_READER" "$T/select-getvalue"
    check_match "SelectApplication ends that session: the same GetValue is refused 91 AE" \
        "^< 91 AE" "$(grep -A1 '^> 90 6C' <<<"$OUT" | sed -n 2p)"
    exec 7>&-
    wait "$HOLD_PID"
    rc=$?
    check_eq "the holder sent nothing and left without an error" "0 Using T=1 protocol" "$rc $(cat "$T/hold.out")"
    HOLD_PID=
else
    fail "a pcscd with a vpcd reader" "no pcscd could be started"
fi
finish
