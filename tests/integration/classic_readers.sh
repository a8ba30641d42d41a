#!/bin/bash
# classic_readers.sh - one card, three readers: MIFARE Classic behind the real
# pcscd (vpcd), with pcsc-tools' scriptor (an independent client) speaking PC/SC
# part 3 storage-card APDUs and ACR122U value-block APDUs with exact answers;
# then `leal card info` through pcsc:, nfc: (libnfc pn532_uart on the emulated
# PN532) and sim: prints the same for the same card, for a Classic card and a
# DESFire. Stops every daemon it starts (trap on EXIT).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

TMP=$(mktemp -d)
SIM_PID=
stop_sim() {
    if [ -n "$SIM_PID" ]; then
        kill "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
        SIM_PID=
    fi
}
cleanup() {
    stop_sim
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
export LIBNFC_AUTO_SCAN=false

if ! pcscd_start "$TMP"; then
    fail "a pcscd with a vpcd reader" "no pcscd could be started or found"
    finish
    exit 1
fi
pass "pcscd with a vpcd reader on port $VPCD_PORT"

# serve_pn532 CARD: the card on the emulated PN532; sets LIBNFC_DEVICE.
serve_pn532() {
    rm -f "$TMP/pn532"
    "$CARDSIM" serve --pn532 "$TMP/pn532" "$1" 2>"$TMP/pn532.log" &
    SIM_PID=$!
    for _ in $(seq 100); do
        [ -L "$TMP/pn532" ] && break
        sleep 0.05
    done
    export LIBNFC_DEVICE="pn532_uart:$(readlink "$TMP/pn532")"
}

CARD=$TMP/classic.json
run_capture "$CARDSIM" new --type classic-1k --uid DEADBEEF -o "$CARD"
check_eq "leal-cardsim new classic-1k" "0" "$RC"
"$CARDSIM" serve --vpcd "$VPCD_PORT" "$CARD" 2>"$TMP/sim.log" &
SIM_PID=$!
if pcscd_wait present; then pass "Classic card present in pcscd"; else fail "Classic card present in pcscd" "$(pcscd_card_state)"; fi

# The reader's storage-card dialect (PC/SC Part 3; ACR122U and Identiv
# manuals): load keys,
# authenticate, read/update binary, ACR122U value block store/increment/
# restore/read, a trailer with new keys and access bits 08778F, and the
# refusals (old key, unauthenticated sector, a DESFire APDU to a Classic card).
cat >"$TMP/apdus" <<'APDU'
reset
FF CA 00 00 00
FF 82 00 00 06 FF FF FF FF FF FF
FF 86 00 00 05 01 00 04 60 00
FF B0 00 04 10
FF D6 00 04 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
FF B0 00 04 10
FF D7 00 05 05 00 00 00 00 64
FF B0 00 05 10
FF D7 00 05 05 01 00 00 00 05
FF B1 00 05 04
FF D7 00 05 02 03 06
FF B0 00 06 10
FF 86 00 00 05 01 00 08 60 00
FF D6 00 0B 10 A0 A1 A2 A3 A4 A5 08 77 8F 69 B0 B1 B2 B3 B4 B5
FF 86 00 00 05 01 00 08 60 00
FF 82 00 01 06 A0 A1 A2 A3 A4 A5
FF 86 00 00 05 01 00 08 60 01
FF B0 00 0B 10
FF B0 00 00 10
FF 86 00 00 05 01 00 00 61 00
FF D6 00 01 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
90 60 00 00 00
APDU
OUT=$(timeout 20 scriptor -r "$PCSC_READER" "$TMP/apdus" 2>&1)
# scriptor prints an answer as "< " plus 16 bytes a line, the last line ending
# with " : " and the status word's meaning; RESET answers "< OK: ATR".
ANSWERS=$(printf '%s\n' "$OUT" | $PY -c '
import sys
cur = None
for line in sys.stdin.read().splitlines():
    if line.startswith("< OK: "):
        print(line[6:].strip()); continue
    if line.startswith("< "):
        cur = line[2:]
    elif cur is not None:
        cur += " " + line
    else:
        continue
    if " : " in cur:
        print(" ".join(cur.split(" : ")[0].split())); cur = None
')
EXPECTED="3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A
DE AD BE EF 90 00
90 00
90 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 90 00
90 00
00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 90 00
90 00
64 00 00 00 9B FF FF FF 64 00 00 00 05 FA 05 FA 90 00
90 00
00 00 00 69 90 00
90 00
69 00 00 00 96 FF FF FF 69 00 00 00 05 FA 05 FA 90 00
90 00
90 00
63 00
90 00
90 00
00 00 00 00 00 00 08 77 8F 69 00 00 00 00 00 00 90 00
69 82
90 00
69 82
6A 81"
check_eq "scriptor: Classic ATR, UID, load keys, auth, read/update, value blocks, trailer, refusals" \
    "$EXPECTED" "$ANSWERS"

# Sector 2 now has its own keys: the factory keys open every other sector.
INFO_EXPECTED="type: MIFARE Classic 1K
uid: deadbeef
atr: 3b 8f 80 01 80 4f 0c a0 00 00 03 06 03 00 01 00 00 00 00 6a
sectors: 16
factory key A (FFFFFFFFFFFF): 0-1 3-15
factory key B (FFFFFFFFFFFF): 0-1 3-15"
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual
check_eq "card info (Classic) through pcscd exits 0" "0" "$RC"
check_eq "card info (Classic) through pcscd" "$INFO_EXPECTED" "$OUT"
PCSC_INFO=$OUT
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual --json
PCSC_JSON=$OUT
check_match "card info --json lists the factory-key sectors" \
    '"classic":\{"sectors":16,"factory_key_a":\[0,1,3,4,5,6,7,8,9,10,11,12,13,14,15\],' "$OUT"
stop_sim

serve_pn532 "$CARD"
run_capture "$LEAL" card info --reader "nfc:$LIBNFC_DEVICE"
check_eq "card info (Classic) through libnfc exits 0" "0" "$RC"
check_eq "card info (Classic): nfc: prints what pcsc: printed" "$PCSC_INFO" "$OUT"
run_capture "$LEAL" card info --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "card info --json (Classic): nfc: equals pcsc:" "$PCSC_JSON" "$OUT"
stop_sim
run_capture "$LEAL" card info --reader "sim:$CARD"
check_eq "card info (Classic): sim: prints the same" "$PCSC_INFO" "$OUT"

# The value block and trailer written through pcscd are in the card file.
BLOCKS=$($PY -c 'import json,sys; b=json.load(open(sys.argv[1]))["blocks"]; print(b[5], b[6], b[11])' "$CARD")
check_eq "card file: value blocks 5, 6 and sector 2's trailer" \
    "6900000096ffffff6900000005fa05fa 6900000096ffffff6900000005fa05fa a0a1a2a3a4a508778f69b0b1b2b3b4b5" \
    "$BLOCKS"

# DESFire: nfc: and pcsc: print the same.
DF=$TMP/desfire.json
run_capture "$CARDSIM" new --type desfire-ev1-4k --uid 04112233445566 -o "$DF"
"$CARDSIM" serve --vpcd "$VPCD_PORT" "$DF" 2>"$TMP/sim2.log" &
SIM_PID=$!
if pcscd_wait present; then pass "DESFire present in pcscd"; else fail "DESFire present in pcscd" "$(pcscd_card_state)"; fi
run_capture "$LEAL" card info --reader "pcsc:$PCSC_READER" --allow-virtual
check_eq "card info (DESFire) through pcscd exits 0" "0" "$RC"
check_match "card info (DESFire) names the card" "^type: MIFARE DESFire EV1$" "$OUT"
PCSC_INFO=$OUT
stop_sim
serve_pn532 "$DF"
run_capture "$LEAL" card info --reader "nfc:$LIBNFC_DEVICE"
check_eq "card info (DESFire) through libnfc exits 0" "0" "$RC"
check_eq "card info (DESFire): nfc: prints what pcsc: printed" "$PCSC_INFO" "$OUT"
stop_sim

finish
