#!/bin/bash
# pn532_driver.sh - leal-terminal tap through leal's own PN532 driver
# (firmware/core/pn532.h, the reader pn532:DEVICE of host/reader/reader_pn532.c)
# instead of libnfc: the same emulated PN532 on a pseudo-terminal as
# terminal_nfc.sh (leal-cardsim serve --pn532), a DESFire EV1 with 20.00 on
# its purse and a MIFARE Classic 1K behind it. An earn on each card with its
# exact line, a pay on the DESFire card, the balances, then the desk reads both
# cards through sim: with the same points. Every cardsim this starts, it stops.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-pn532-driver-XXXXXX)
SPID=
cleanup() {
    if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="pn532 driver passphrase"
export LEAL_BUNDLE_PASSPHRASE="pn532 bundle pass phrase"
LT="$LEAL_BUILD/bin/leal-terminal"
D=$T/till
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }

source tests/lib/pn532.sh
# The driver's reader: pn532:PTY (serve sets NFC to libnfc's nfc:pn532_uart:PTY).
ptap() {
    local name=$1 rc=$2 line=$3
    shift 3
    run_capture timeout 60 "$LT" tap "$@" --reader "pn532:${NFC#nfc:pn532_uart:}" --data "$D"
    check_eq "$name" "$rc|$line|" "$RC|$OUT|$ERR"
}

"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
"$LEAL" customer add --program 7 --name Ana >/dev/null
"$LEAL" customer add --program 7 --name Marta >/dev/null
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/marta.json" >/dev/null
ANA=$("$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --topup 20 --json | field '["card_id"]')
MARTA=$("$LEAL" card issue --customer 2 --reader "sim:$T/marta.json" --json | field '["card_id"]')
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$D" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$D" >/dev/null

# A device that is no serial line: no reader.
run_capture timeout 60 "$LT" tap --earn 1,00 --reader "pn532:/dev/null" --data "$D"
check_eq "pn532:/dev/null is refused (not a serial line): exit 1, no reader" \
    "1|leal-terminal: reader pn532:/dev/null: no card reader found; plug one in or name it with --reader" \
    "$RC|$ERR"

serve "$T/ana.json"
ptap "DESFire earn 23,50 through the PN532 driver: +23 points, 0 -> 23" 0 \
    "card $ANA earn: +23 points, 0 -> 23" --earn 23,50
ptap "DESFire pay 3,00 through the PN532 driver: 17.00 left" 0 \
    "card $ANA pay: paid 3.00, 17.00 euros left" --pay 3,00
ptap "DESFire balance through the PN532 driver" 0 \
    "card $ANA balance: 23 points, 17.00 euros, stamps 0 0 0 0" --balance
unserve
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "the desk reads the DESFire card: 23 points, 17.00" "23 1700" \
    "$(field '["points"]' <<<"$OUT") $(field '["purse_cents"]' <<<"$OUT")"

serve "$T/marta.json"
ptap "Classic earn 10,00 through the PN532 driver: +10 points, 0 -> 10" 0 \
    "card $MARTA earn: +10 points, 0 -> 10" --earn 10,00
unserve
run_capture "$LEAL" card read --reader "sim:$T/marta.json" --json
check_eq "the desk reads the Classic card: 10 points" "10" "$(field '["points"]' <<<"$OUT")"

# SIGHUP cycles the emulated reader's power (serve_pn532.c; the self-reset
# power cuts of firmware_cuts.sh): the server goes on, on the same pty, a
# half frame left on the line is dropped, and the card is loaded again from
# its file: here the file swapped for Ana's DESFire card while the Classic
# one was served, so the next tap finds Ana's card as she left it.
cp "$T/marta.json" "$T/swap.json"
serve "$T/swap.json"
printf '\x00\x00\xff\x40\xc0\xd4\x40\x01\x02' >"$(readlink "$T/pn532")" # 9 bytes of a 64-byte frame
cp "$T/ana.json" "$T/swap.json"
kill -HUP "$SPID"
for _ in $(seq 1000); do
    grep -q '^leal-cardsim: power cycle 1$' "$T/serve.log" && break
    sleep 0.01
done
check_eq "SIGHUP: the emulated PN532 says its power cycle is done" 1 \
    "$(grep -c '^leal-cardsim: power cycle 1$' "$T/serve.log")"
ptap "after the power cycle the reader answers and holds the card its file now has: Ana's" 0 \
    "card $ANA balance: 23 points, 17.00 euros, stamps 0 0 0 0" --balance
# An answer on the line that the host has not read when the power goes is
# lost with it: GetFirmwareVersion sent, its ACK and answer (19 bytes) left
# unread on the pty, then the power cycle: none of them is left for the
# host's next command (a flush of the master's side alone left them there).
$PY - "$(readlink "$T/pn532")" "$SPID" "$T/serve.log" >"$T/stale" <<'PYEOF'
import fcntl, os, signal, struct, sys, termios, time
dev, pid, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fd = os.open(dev, os.O_RDWR | os.O_NOCTTY)
def unread():
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
def wait(cond):
    for _ in range(3000):
        if cond():
            return
        time.sleep(0.01)
os.write(fd, bytes.fromhex("0000ff02fed4022a00"))
wait(lambda: unread() >= 19)
before = unread()
os.kill(pid, signal.SIGHUP)
wait(lambda: "leal-cardsim: power cycle 2\n" in open(log).read())
print(before, unread())
PYEOF
check_eq "SIGHUP: an answer the host had not read is gone with the power (19 bytes before, 0 after)" \
    "19 0" "$(cat "$T/stale")"
unserve
finish
