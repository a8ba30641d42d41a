#!/bin/bash
# desk_classic.sh - the issuance desk on MIFARE Classic 1K end to end through
# `leal card ...`: on the sim: reader, through the real pcscd (vpcd, PC/SC part 3
# storage-card APDUs) and through the real libnfc (pn532_uart on the emulated
# PN532). Then libnfc's nfc-mfclassic dumps the issued card with a keys file whose
# keys come from `openssl mac` (KEYS.md's inputs, not leal's code), and
# classic_dump_state.py (python3-cryptography's AES-SIV, from LAYOUT.md alone)
# opens the sealed records of the dump and prints the points.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

T=$(mktemp -d /tmp/leal-cdesk-XXXXXX)
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="classic desk test passphrase"
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
run_capture "$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1
check_eq "program 7" 0 "$RC"
for n in Ana Luis Marta; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done
acct() { "$LEAL" customer show "$1" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["account"])'; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

# --- sim: ---------------------------------------------------------------------
"$CARDSIM" new --type classic-1k --uid 04a2195c -o "$T/ana.json" >/dev/null
run_capture "$LEAL" card issue --customer 1 --reader "sim:$T/ana.json" --welcome-points 50 --json
check_eq "issue (Classic 1K) exits 0" 0 "$RC"
ANA=$(field card_id <<<"$OUT")
check_match "issued card id has 12 digits" "^[1-9][0-9]{11}$" "$ANA"
check_eq "issued: technology, purse, points, seq, agreement, round trips (6 + 28 + 22)" \
    "classic-1k 0 50 1 True 56" \
    "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["technology"], d["purse_cents"], d["points"], d["state_seq"], d["agrees"], d["round_trips"])' <<<"$OUT")"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "read exits 0" 0 "$RC"
check_eq "read: the verified view" "card         $ANA (classic-1k, UID 04a2195c)
account      $(acct 1), card active
purse        0.00
points       50
stamps       0 0 0 0
taps         0
ledger       agrees" "$OUT"
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --json
check_eq "read: 19 round trips (LAYOUT.md 3.3)" 19 "$(field round_trips <<<"$OUT")"
run_capture "$LEAL" card top-up 10 --reader "sim:$T/ana.json"
check_eq "top-up on Classic refused in one line" "1|leal: topping up the card: stored value is off on MIFARE Classic cards (Classic money can be copied); keep the money in the account or issue a DESFire card" "$RC|$ERR"
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/ana.json"
check_eq "an issued Classic card is refused, with whose it is" "leal: this card is already issued: card $ANA, account $(acct 1) (active); use a blank card, or 'leal card read' to see it" "$ERR"
"$CARDSIM" new --type classic-1k --uid 04a2195d -o "$T/topup.json" >/dev/null
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/topup.json" --topup 5
check_eq "an opening top-up on Classic is refused" 1 "$RC"
run_capture "$LEAL" card read --reader "sim:$T/topup.json"
check_eq "... and the card was not touched" "leal: reading the card: this card was not issued by leal" "$ERR"
# A bit flipped in the state slot with a terminal's key A: tampered.
cp "$T/ana.json" "$T/tampered.json"
$PY - "$T/tampered.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
b = bytearray.fromhex(d["blocks"][17]); b[5] ^= 1; d["blocks"][17] = b.hex()
json.dump(d, open(sys.argv[1], "w"))
EOF
run_capture "$LEAL" card read --reader "sim:$T/tampered.json"
check_eq "a flipped bit in the sealed state reads as TAMPERED" "1|leal: card $ANA does not verify: TAMPERED (its data or keys are not what leal wrote); keep the card and block it" "$RC|$ERR"

# Erase: back to the transport state; the ledger keeps the card, as lost.
run_capture "$LEAL" card erase --yes --reader "sim:$T/ana.json"
check_eq "erase (Classic)" "erased card $ANA: factory state; its history stays in the ledger" "$OUT"
run_capture "$LEAL" card info --reader "sim:$T/ana.json"
check_match "every sector opens with the transport key A again" "factory key A \(FFFFFFFFFFFF\): 0-15" "$(echo $OUT)"
run_capture "$LEAL" card read --reader "sim:$T/ana.json"
check_eq "the erased card is nobody's" "leal: reading the card: this card was not issued by leal" "$ERR"
check_eq "the ledger keeps it, lost" "lost" \
    "$(sqlite3 "$XDG_DATA_HOME/leal/ledger.db" "SELECT status FROM card WHERE card_id = $ANA" 2>&1)"

# --- pcscd --------------------------------------------------------------------
if pcscd_start "$T"; then
    pass "pcscd with a vpcd reader on port $VPCD_PORT"
    "$CARDSIM" new --type classic-1k --uid 04010203 -o "$T/luis.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/luis.json" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    run_capture "$LEAL" card issue --customer 2 --reader "pcsc:$PCSC_READER" --allow-virtual --welcome-points 5 --json
    check_eq "issue (Classic) through pcscd" "0 classic-1k 5 56" \
        "$RC $($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["technology"], d["points"], d["round_trips"])' <<<"$OUT")"
    run_capture "$LEAL" card read --reader "pcsc:$PCSC_READER" --allow-virtual
    check_eq "read through pcscd exits 0" 0 "$RC"
    PCSC_READ=$OUT
    kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
    run_capture "$LEAL" card read --reader "sim:$T/luis.json"
    check_eq "read through pcscd equals read through sim:" "$PCSC_READ" "$OUT"
else
    fail "a pcscd with a vpcd reader" "no pcscd could be started"
fi

# --- libnfc, then nfc-mfclassic and Python ------------------------------------
"$CARDSIM" new --type classic-1k --uid 04c0ffee -o "$T/pn.json" >/dev/null
rm -f "$T/pn532"
"$CARDSIM" serve --pn532 "$T/pn532" "$T/pn.json" >"$T/pn532.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
run_capture "$LEAL" card issue --customer 3 --reader "nfc:$LIBNFC_DEVICE" --welcome-points 7 --json
check_eq "issue (Classic) through libnfc and the PN532" "0 classic-1k 7 56" \
    "$RC $($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["technology"], d["points"], d["round_trips"])' <<<"$OUT")"
PN=$(field card_id <<<"$OUT")
run_capture "$LEAL" card read --reader "nfc:$LIBNFC_DEVICE"
check_match "read through libnfc" "^card         $PN \(classic-1k, UID 04c0ffee\)" "$OUT"

# Sector keys outside leal: key A of sector s = the first 6 bytes of
# CMAC(classic-a master, 01 || UID || 4C 01 s || "LEAL" || issuer || program)
# (LAYOUT.md 3.1; 01 || M is 20 bytes, so CMAC's padding is AN10922's).
DEC=$(PASS="$LEAL_PASSPHRASE" $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
MA=$(sed -n 's/^key classic-a 1 //p' <<<"$DEC")
MS=$(sed -n 's/^key classic-seal 1 //p' <<<"$DEC")
ISSUER=$(sed -n 's/^issuer_id //p' <<<"$DEC")
ckey() {
    $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' \
        "0104c0ffee4c01$(printf %02x "$1")4c45414c${ISSUER}00000007" |
        openssl mac -cipher AES-128-CBC -macopt "hexkey:$MA" CMAC | cut -c1-12 | tr 'A-F' 'a-f'
}
# The keys file: nfc-mfclassic takes key A of a sector from bytes 0-5 of its trailer.
KEYS_HEX=""
for s in $(seq 0 15); do
    case $s in
    0) KA=a0a1a2a3a4a5 ;;
    [1-5]) KA=$(ckey "$s") ;;
    *) KA=ffffffffffff ;;
    esac
    if [ "$s" = 0 ]; then KEYS_HEX+="04c0ffee$(printf '%024d' 0)"; else KEYS_HEX+=$(printf '%032d' 0); fi
    KEYS_HEX+="$(printf '%064d' 0)${KA}ff078069ffffffffffff"
done
$PY -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2]))' "$T/keys.mfd" "$KEYS_HEX"
check_match "openssl mac computed sector 4's key A" "^[0-9a-f]{12}$" "$(ckey 4)"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
rm -f "$T/pn532"
"$CARDSIM" serve --pn532 "$T/pn532" "$T/pn.json" >"$T/pn532.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
run_capture nfc-mfclassic r a u "$T/dump.mfd" "$T/keys.mfd" f
check_eq "nfc-mfclassic dumps the issued card with the openssl keys" 0 "$RC"
check_eq "the dump holds 64 blocks" 1024 "$(stat -c %s "$T/dump.mfd" 2>/dev/null)"
run_capture $PY tests/integration/classic_dump_state.py "$T/dump.mfd" "$MS" "$ISSUER" 7
check_eq "Python (AES-SIV from LAYOUT.md) opens the dump's sealed records" \
    "card $PN seq 1 points 7" "$OUT"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=

run_capture "$LEAL" ledger verify
check_eq "the ledger verifies" 0 "$RC"
finish
