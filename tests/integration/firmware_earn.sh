#!/bin/bash
# firmware_earn.sh - one real transaction on the bare-metal Cortex-M3 terminal
# (build/firmware/leal-cm3.elf in QEMU's mps2-an385): UART1 is wired to
# `leal-cardsim serve --pn532` (its pseudo-terminal), so the board's own PN532
# driver talks to the emulated PN532 holding a DESFire EV1 card issued by the
# desk. UART0 carries the till's lines (firmware/port/cortex-m/till.c): the
# clock, a seed, the terminal's bundle (opened on the PC by
# tests/tools/fw_provision and sent in plaintext, as a provisioning jig
# would), the package from `leal terminal package`, an earn of 23,50, the
# journal export. Checked: every answer line exact, the card's points read by
# the desk through sim: afterwards, the export verified and imported by
# `leal sync import`, after which card and ledger agree. QEMU missing is a
# failure (make deps installs qemu-system-arm), never a skip.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-fw-earn-XXXXXX)
SPID=
cleanup() {
    if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="firmware earn passphrase"
export LEAL_BUNDLE_PASSPHRASE="firmware bundle pass phrase"
ELF=build/firmware/leal-cm3.elf
PROVISION=$LEAL_BUILD/tests/tools/fw_provision
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

check_eq "qemu-system-arm and the firmware are there (make deps, make firmware)" "yes yes" \
    "$(command -v qemu-system-arm >/dev/null && echo yes) $([ -f "$ELF" ] && echo yes)"

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --topup 20 --json | field '["card_id"]')
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null

NOW=$(date +%s)
# The till's lines: clock, seed and keys, a blank flash, the package, one earn.
{
    echo "TIME $NOW"
    "$PROVISION" "$T/t1.ltb" || echo "PROVISION FAILED"
    echo "FORMAT"
    echo "LOAD $(hex "$T/p1.lpkg")"
    echo "EARN 2350"
    echo "EXPORT"
    echo "END"
} >"$T/lines"

source tests/lib/pn532.sh
serve "$T/ana.json"
run_capture timeout 120 qemu-system-arm -M mps2-an385 -display none -monitor none \
    -semihosting-config enable=on,target=native -kernel "$ELF" \
    -serial stdio -serial "$(readlink "$T/pn532")" <"$T/lines"
unserve
OUT=$(tr -d '\r' <<<"$OUT")
BOARD=$OUT
check_eq "QEMU ran the board to END: exit 0" 0 "$RC"
check_eq "UART0: the answers, exact (export aside)" "leal terminal core on Cortex-M3 (mps2-an385), 256 KiB flash, 64 KiB RAM, no heap
self-test aes128 69c4e0d86a7b0430d8cdb78070b4c55a ok
self-test sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ok
self-test cmac bb1d6929e95937287fa37d129b756746 ok
self-test passed
till: ready
ok time
ok seed
ok bundle
ok format
ok package
show card $ANA earn: +23 points, 0 -> 23
ok done card $ANA points 23 entry EPOCH/2
ok end" "$(grep -v '^ok export ' <<<"$OUT" | sed -E 's#entry [0-9]+/#entry EPOCH/#')"

run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "the desk reads the card through sim: 23 points, 20.00 on the purse" "23 2000" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT")"

# The journal the board kept in its flash, exported over UART0.
sed -n 's/^ok export //p' <<<"$BOARD" | $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$T/board.ljx"
EPOCH=$(sed -nE 's#^ok done .* entry ([0-9]+)/2$#\1#p' <<<"$BOARD")
check_eq "the journal's epoch is the board's clock at its first open (TIME + at most 60 s)" yes \
    "$([ -n "$EPOCH" ] && [ "$EPOCH" -ge "$NOW" ] && [ "$EPOCH" -le $((NOW + 60)) ] && echo yes)"
run_capture "$LEAL" sync import "$T/board.ljx"
check_eq "leal sync import takes the board's export: its EPOCH entry and the earn" \
    "0|$T/board.ljx: terminal 1, epoch $EPOCH, sequences 1 to 2: 2 taken (1 posted, 1 recorded without movement, 0 held, 0 undone by a settle), 0 already there|" \
    "$RC|$OUT|$ERR"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "after the import, card and ledger agree: 23 points, the earn booked from the board's entry" \
    "23 True 2 earn 23 terminal earn" \
    "$(field '["ledger_points"]' <<<"$OUT") $(field '["agrees"]' <<<"$OUT") $(field '["last_operations"][0]["entry"]' <<<"$OUT") $(field '["last_operations"][0]["kind"]' <<<"$OUT") $(field '["last_operations"][0]["amount"]' <<<"$OUT") $(field '["last_operations"][0]["reason"]' <<<"$OUT")"
finish
