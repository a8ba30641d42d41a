#!/bin/bash
# desfire_libfreefare.sh - libfreefare's own tools (an independent DESFire
# implementation: D40 legacy authentication and secure messaging, ISO
# applications and files, chained writes and reads) against the virtual
# DESFire behind the emulated PN532 (libnfc pn532_uart on a pty):
# NFC Forum type 4 formatting, an NDEF message written and read back,
# SetConfiguration (default key, random UID), FormatPICC.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-lff-XXXXXX)
SPID=
cleanup() {
    if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0

serve() {
    rm -f "$T/pn532"
    "$CARDSIM" serve --pn532 "$T/pn532" "$1" >"$T/serve.log" 2>&1 &
    SPID=$!
    for _ in $(seq 100); do
        [ -L "$T/pn532" ] && break
        sleep 0.05
    done
    export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
}
unserve() {
    kill "$SPID"
    wait "$SPID"
    check_eq "cardsim stopped cleanly" "0" "$?"
    SPID=
}

run_capture "$CARDSIM" new --type desfire-ev1-4k --uid 04063F72633480 -o "$T/df.json"
check_eq "new desfire-ev1-4k" "0" "$RC"
serve "$T/df.json"

run_capture timeout 30 mifare-desfire-create-ndef -y
check_eq "mifare-desfire-create-ndef exits 0" "0" "$RC"
check_match "create-ndef: mapping v2 for software 1.4" "software v1\.4" "$OUT"
MSG="hello leal: an NDEF message longer than one DESFire frame of fifty-nine bytes, so it chains"
printf '%s' "$MSG" >"$T/msg"
run_capture timeout 30 mifare-desfire-write-ndef -y -i "$T/msg"
check_eq "mifare-desfire-write-ndef exits 0" "0" "$RC"
check_match "write-ndef: the 4096-byte NDEF file of a 4K card" "Max NDEF size: 4096 bytes" "$OUT"
run_capture timeout 30 mifare-desfire-read-ndef -y -o "$T/out"
check_eq "mifare-desfire-read-ndef exits 0" "0" "$RC"
check_eq "the NDEF message read back equals what was written" "$MSG" "$(cat "$T/out")"
run_capture timeout 30 mifare-desfire-info
check_match "info: memory left (4864 - 64 - 32 - 4096)" "^Free memory: 672 bytes$" "$OUT"

run_capture timeout 30 mifare-desfire-ev1-configure-default-key -y
check_eq "configure-default-key exits 0" "0" "$RC"
run_capture timeout 30 mifare-desfire-ev1-configure-random-uid -y
check_eq "configure-random-uid exits 0" "0" "$RC"
unserve
check_match "the card file keeps the random-UID setting" '"random_uid": true' "$(cat "$T/df.json")"

serve "$T/df.json"
run_capture timeout 30 mifare-desfire-info
check_match "info: random UID now" "^Use random UID: yes$" "$OUT"
run_capture timeout 30 mifare-desfire-format -y
check_eq "mifare-desfire-format exits 0" "0" "$RC"
run_capture timeout 30 mifare-desfire-info
check_match "after FormatPICC all memory is free again" "^Free memory: 4864 bytes$" "$OUT"
unserve

finish
