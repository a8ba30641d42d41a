#!/bin/bash
# pn532_libnfc.sh - libnfc's and libfreefare's own tools (independent clients)
# against `leal-cardsim serve --pn532` on a pseudo-terminal, through libnfc
# 1.8's pn532_uart driver: nfc-list shows the emulated Classic and DESFire
# cards with the right UID, ATQA, SAK (and ATS); nfc-mfclassic reads a whole
# Classic 1K with a keys file and the dump equals the card file byte for byte,
# and writes a dump back with the card file changing exactly as written;
# mifare-desfire-info and mifare-desfire-format run against a blank DESFire.
# Every cardsim this starts, it stops (trap on EXIT).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-pn532-XXXXXX)
SPID=
cleanup() {
    if [ -n "$SPID" ]; then
        kill "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0

# serve CARD: starts the emulated PN532 with CARD on a pty linked at $T/pn532.
serve() {
    rm -f "$T/pn532"
    "$CARDSIM" serve --pn532 "$T/pn532" --trace "$T/trace" "$1" >"$T/serve.log" 2>&1 &
    SPID=$!
    for _ in $(seq 100); do
        [ -L "$T/pn532" ] && break
        sleep 0.05
    done
    export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
}
# unserve: stops it (SIGTERM: saves and exits 0) and checks it left no link.
unserve() {
    kill "$SPID"
    wait "$SPID"
    local rc=$?
    SPID=
    check_eq "cardsim stopped cleanly (rc, link removed)" "0 no-link" \
        "$rc $([ -e "$T/pn532" ] && echo link || echo no-link)"
}
# sent: the host's commands in the trace so far (hex, without the TFI), one a line.
sent() { sed -n 's/^> //p' "$T/trace"; }
# blocks CARD.json OUT.mfd: the card file's EEPROM as a raw MIFARE dump.
blocks() {
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1]))
open(sys.argv[2],"wb").write(b"".join(bytes.fromhex(b) for b in d["blocks"]))' "$1" "$2"
}

# --- MIFARE Classic 1K, 4-byte UID
run_capture "$CARDSIM" new --type classic-1k --uid DEADBEEF -o "$T/c1k.json"
check_eq "new classic-1k exits 0" "0" "$RC"
serve "$T/c1k.json"
check_match "pty linked" "^pn532_uart:/dev/pts/[0-9]+$" "$LIBNFC_DEVICE"

run_capture timeout 20 nfc-list
check_eq "nfc-list (Classic 1K) exits 0" 0 "$RC"
check_match "nfc-list finds one ISO14443A target" "^1 ISO14443A passive target\(s\) found:" "$OUT"
check_match "Classic 1K ATQA 00 04" "ATQA \(SENS_RES\): 00  04  $" "$OUT"
check_match "Classic 1K UID" "UID \(NFCID1\): de  ad  be  ef  $" "$OUT"
check_match "Classic 1K SAK 08" "SAK \(SEL_RES\): 08  $" "$OUT"
# What libnfc 1.8 sends (captured against the emulation) to open the device, initialise and list.
check_eq "nfc-list: open, init and first ISO14443A list as captured in §4.4" \
    "1401 00006c69626e6663 02 1214 0663026303630d6338633d 08630280630380 320100 320101 3205ffffff 066302630363056338633c633d 08630540633c10 3205000102 4a0100 4400 4a0100" \
    "$(sent | head -15 | tr '\n' ' ' | sed 's/ $//')"
check_eq "nfc-list: the other modulations get no target" \
    "4b00 4b00 4b00 4b00" "$(sed -n 's/^< \(4b00\)$/\1/p' "$T/trace" | tr '\n' ' ' | sed 's/ $//')"
check_eq "nfc-list: close as captured in §4.4 (release, field off, power down)" \
    "5200 320100 16f0" "$(sent | tail -3 | tr '\n' ' ' | sed 's/ $//')"

blocks "$T/c1k.json" "$T/keys.mfd"
run_capture timeout 30 nfc-mfclassic r a u "$T/dump.mfd" "$T/keys.mfd"
check_eq "nfc-mfclassic read exits 0" 0 "$RC"
check_match "nfc-mfclassic read all 64 blocks" "Done, 64 of 64 blocks read\." "$OUT"
check_eq "dump equals the card file byte for byte" "" "$(cmp "$T/dump.mfd" "$T/keys.mfd" 2>&1)"
check_eq "dump is 1024 bytes" 1024 "$(stat -c %s "$T/dump.mfd")"
# §4.4: AutoRATS off, list, RATS probe unanswered, then per sector trailer first.
check_match "nfc-mfclassic: AutoRATS off, RATS probe, key A on the last trailer, read it" \
    " 1204 4a0100 42e050 4a0100 4001603fffffffffffffdeadbeef 4001303f 4001303e " \
    "$(sent | tr '\n' ' ')"

# A dump that differs from the card in every sector. libnfc 1.8.0's
# nfc-mfclassic "w" writes blocks 4..63 but, in that release, sends the write
# only for the first block of each sector (its loop body sits inside
# is_first_block(); rewritten upstream after 1.8.0): so exactly blocks 4, 8, ..., 60
# must change, and nothing else.
$PY - "$T/keys.mfd" "$T/new.mfd" "$T/expect.mfd" <<'EOF'
import sys
old = open(sys.argv[1], "rb").read()
new = bytearray(old)
for b in range(1, 64):
    if b % 4 != 3:
        new[b * 16:(b + 1) * 16] = bytes((b * 7 + i) & 0xFF for i in range(16))
open(sys.argv[2], "wb").write(new)
exp = bytearray(old)
for b in range(4, 64, 4):
    exp[b * 16:(b + 1) * 16] = new[b * 16:(b + 1) * 16]
open(sys.argv[3], "wb").write(exp)
EOF
run_capture timeout 30 nfc-mfclassic w a u "$T/new.mfd" "$T/keys.mfd"
check_eq "nfc-mfclassic write exits 0" 0 "$RC"
check_match "nfc-mfclassic wrote without failure" "Done, 60 of 64 blocks written\." "$OUT"
blocks "$T/c1k.json" "$T/after.mfd"
check_eq "card file changed exactly as written" "" "$(cmp "$T/after.mfd" "$T/expect.mfd" 2>&1)"
run_capture timeout 30 nfc-mfclassic r a u "$T/dump2.mfd" "$T/keys.mfd"
check_eq "read back equals the card file" "" "$(cmp "$T/dump2.mfd" "$T/after.mfd" 2>&1)"

# A wrong key: nfc-mfclassic reports the authentication failure (and, as
# nfc-mfclassic 1.8.0 does, still exits 0).
$PY -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[7*16:7*16+6]=b"\x01"*6; open(sys.argv[2],"wb").write(d)' \
    "$T/keys.mfd" "$T/badkeys.mfd"
run_capture timeout 30 nfc-mfclassic r a u "$T/dump3.mfd" "$T/badkeys.mfd"
check_eq "wrong key A for sector 1: no dump written" "no-dump" \
    "$([ -e "$T/dump3.mfd" ] && echo dump || echo no-dump)"
check_match "it says which block failed" "authentication failed for block 0x07" "$OUT$ERR"
unserve

# --- Bad input to leal-cardsim
run_capture "$CARDSIM" new --type desfire-ev1 --uid DEADBEEF -o "$T/bad.json"
check_eq "a 4-byte UID for a DESFire is refused (exit 2)" "2" "$RC"
check_match "... and says why" "4-byte --uid is for classic-1k/classic-4k" "$ERR"
run_capture "$CARDSIM" new --type classic-1k --random-uid -o "$T/bad.json"
check_eq "--random-uid for a Classic is refused (exit 2)" "2" "$RC"
check_match "... and says why" "Classic UIDs are fixed" "$ERR"
run_capture "$CARDSIM" new --type classic-1k --uid 88112233 -o "$T/bad.json"
check_eq "a UID starting with the cascade tag is refused (exit 2)" "2" "$RC"
check_eq "nothing was written for the refused cards" "absent" "$([ -e "$T/bad.json" ] && echo present || echo absent)"
: >"$T/plainfile"
run_capture "$CARDSIM" serve --pn532 "$T/plainfile" "$T/c1k.json"
check_eq "serve --pn532 over a regular file fails" "1" "$RC"
check_match "... and leaves it alone" "exists and is not a symlink" "$ERR"
check_eq "the regular file is untouched" "0" "$(stat -c %s "$T/plainfile")"

# --- MIFARE Classic 4K, 7-byte UID
run_capture "$CARDSIM" new --type classic-4k --uid 04112233445566 -o "$T/c4k.json"
check_eq "new classic-4k exits 0" "0" "$RC"
serve "$T/c4k.json"
run_capture timeout 20 nfc-list
check_match "Classic 4K (7-byte UID) ATQA 00 42" "ATQA \(SENS_RES\): 00  42  $" "$OUT"
check_match "Classic 4K UID" "UID \(NFCID1\): 04  11  22  33  44  55  66  $" "$OUT"
check_match "Classic 4K SAK 18" "SAK \(SEL_RES\): 18  $" "$OUT"
unserve

# --- DESFire EV1 8K
run_capture "$CARDSIM" new --type desfire-ev1-8k --uid 04063F72633480 -o "$T/df.json"
check_eq "new desfire-ev1-8k exits 0" "0" "$RC"
serve "$T/df.json"
run_capture timeout 20 nfc-list
check_eq "nfc-list (DESFire) exits 0" 0 "$RC"
check_match "DESFire ATQA 03 44" "ATQA \(SENS_RES\): 03  44  $" "$OUT"
check_match "DESFire UID" "UID \(NFCID1\): 04  06  3f  72  63  34  80  $" "$OUT"
check_match "DESFire SAK 20" "SAK \(SEL_RES\): 20  $" "$OUT"
check_match "DESFire ATS" "ATS: 75  77  81  02  80  $" "$OUT"

: >"$T/trace"
run_capture timeout 20 mifare-desfire-info
check_eq "mifare-desfire-info exits 0" 0 "$RC"
# §4.4 (libfreefare 0.4.0): select by cascaded UID, GetVersion in three frames,
# GetKeySettings, GetKeyVersion 0, GetFreeMemory, deselect.
check_match "mifare-desfire-info sends the sequence captured in §4.4" \
    " 4a01008804063f72633480 40019060000000 400190af000000 400190af000000 40019045000000 400190640000010000 4001906e000000 4400 " \
    " $(sent | tr '\n' ' ')"
check_match "info: UID" "^UID: +0x04063f72633480$" "$OUT"
check_match "info: hardware version 1.0, 8K" "Storage size: +0x1a \(=8192 bytes\)" "$OUT"
check_match "info: software version 1.4" "Version: +1\.4$" "$OUT"
check_match "info: factory key settings" "^Master Key settings \(0x0f\):$" "$OUT"
check_match "info: master key version 0" "^Master Key version: 0 \(0x00\)$" "$OUT"
check_match "info: free memory of a blank 8K" "^Free memory: 7936 bytes$" "$OUT"
check_match "info: fixed UID" "^Use random UID: no$" "$OUT"

run_capture timeout 20 mifare-desfire-format -y
check_eq "mifare-desfire-format exits 0" 0 "$RC"
check_match "format found the card" "Found Mifare DESFire with UID 04063f72633480" "$OUT$ERR"
run_capture timeout 20 mifare-desfire-info
check_match "after format: still all memory free" "^Free memory: 7936 bytes$" "$OUT"
unserve

finish
