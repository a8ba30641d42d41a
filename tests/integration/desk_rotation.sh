#!/bin/bash
# desk_rotation.sh - key rotation reaching cards (keys/KEYS.md) through the
# real pcscd (vpcd) and the real libnfc (pn532_uart on the emulated PN532):
# `leal keys rotate` of every role a DESFire card uses, then the next desk
# contact authenticates with the card's versions and changes its keys to the
# current ones (exact round trips, keys changed, balances); libfreefare, with
# no leal code, then proves which key the card answers to, with keys that
# `openssl mac` derives from KEYS.md; a card two versions behind; a keystore
# without the card's version gives a one-line error, not TAMPERED. MIFARE
# Classic through libnfc: every Classic role rotated, the card re-keyed and
# its records re-sealed at a read, then nfc-mfclassic dumps it with key A of
# the new version and Python opens the records with the new classic-seal.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

pcscd_fixture rotation
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="rotation test passphrase"
export LIBNFC_AUTO_SCAN=false LIBNFC_LOG_LEVEL=0
KS=$XDG_DATA_HOME/leal/keystore
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print(' '.join(str(d[k]) for k in sys.argv[1:]))" "$@"; }

run_capture "$LEAL" keys init --issuer "Café Sol" --program 7
check_eq "keystore" 0 "$RC"
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
for n in Ana Luis; do "$LEAL" customer add --program 7 --name "$n" >/dev/null; done

# Luis's card is issued now and not seen again until two rotations later.
"$CARDSIM" new --type desfire-ev1 --uid 04665544332211 -o "$T/luis.json" >/dev/null
run_capture "$LEAL" card issue --customer 2 --reader "sim:$T/luis.json" --topup 3
check_eq "Luis's card issued at version 1" 0 "$RC"
cp "$KS" "$T/keystore-v1"

# The terminal key as another implementation derives it (terminal_key.sh).
source tests/lib/terminal_key.sh
serve_pn532() {
    rm -f "$T/pn532"
    "$CARDSIM" serve --pn532 "$T/pn532" "$1" >>"$T/pn532.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 50); do [ -L "$T/pn532" ] && break; sleep 0.1; done
    export LIBNFC_DEVICE="pn532_uart:$(readlink "$T/pn532")"
}

# --- pcscd: Ana's card, every DESFire role rotated -----------------------------
if pcscd_start "$T"; then
    pass "pcscd with a vpcd reader on port $VPCD_PORT"
    "$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$T/ana.json" >/dev/null
    "$CARDSIM" serve --vpcd "$VPCD_PORT" "$T/ana.json" 2>"$T/serve.log" &
    SIM_PID=$!
    pcscd_wait present || fail "card present in pcscd" "$(pcscd_card_state)"
    PCSC=(--reader "pcsc:$PCSC_READER" --allow-virtual)
    run_capture "$LEAL" card issue --customer 1 "${PCSC[@]}" --topup 10 --json
    check_eq "issued through pcscd at version 1" "0 1000 0" "$RC $(json purse_cents keys_updated <<<"$OUT")"
    for role in terminal app-master purse-credit picc-master; do
        run_capture "$LEAL" keys rotate "$role"
        check_match "rotate $role" "^program 7: $role is now at version 2 " "$OUT"
    done
    # Read (8), GetKeyVersion of keys 1 and 0 (2), authenticate key 0 (2),
    # ChangeKey 2, 1, 0 (3), PICC: select, GetKeyVersion, authenticate,
    # ChangeKey (5), then the top-up (8).
    run_capture "$LEAL" card top-up 2,50 "${PCSC[@]}" --json
    check_eq "top-up through pcscd re-keys the card: purse, keys changed, round trips" \
        "0 1250 4 29 True" "$RC $(json purse_cents keys_updated round_trips agrees <<<"$OUT")"
    run_capture "$LEAL" card read "${PCSC[@]}"
    check_nomatch "the next read changes nothing" "^keys " "$OUT"
    check_match "the next read agrees" "^ledger       agrees$" "$OUT"
    run_capture "$LEAL" card read "${PCSC[@]}" --json
    check_eq "the next read costs the usual 9 round trips" "0 9 1250" "$RC $(json round_trips purse_cents <<<"$OUT")"
    stop_sim
else
    fail "a pcscd with a vpcd reader" "no pcscd could be started"
fi

# --- libnfc: libfreefare proves which terminal key the card answers to -------
serve_pn532 "$T/ana.json"
run_capture "$LEAL_BUILD/tests/interop/freefare_identity" "$(terminal_key 2 04112233445566)" 2
check_eq "libfreefare opens the re-keyed card with terminal key version 2" 0 "$RC"
check_match "and reads its identity (key-set version 1: the one it was issued with)" \
    "^identity version 1 type 1 card [0-9]{12} issuer [0-9a-f]{8} program 7 keyset 1 kind 1$" "$OUT"
run_capture "$LEAL_BUILD/tests/interop/freefare_identity" "$(terminal_key 1 04112233445566)" 1
check_eq "the card no longer answers to terminal key version 1" 1 "$RC"
stop_sim

# Every role again: Luis's card is now two versions behind on every key.
for role in terminal app-master purse-credit picc-master; do
    run_capture "$LEAL" keys rotate "$role"
    check_match "rotate $role again" "^program 7: $role is now at version 3 " "$OUT"
done
serve_pn532 "$T/luis.json"
run_capture "$LEAL" card read --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "a card two versions behind reads through libnfc and is re-keyed" "0 300 4 True" \
    "$RC $(json purse_cents keys_updated agrees <<<"$OUT")"
run_capture "$LEAL" card top-up 1 --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "then a top-up as usual (9 + 8 round trips)" "0 400 0 17" \
    "$RC $(json purse_cents keys_updated round_trips <<<"$OUT")"
run_capture "$LEAL_BUILD/tests/interop/freefare_identity" "$(terminal_key 3 04665544332211)" 3
check_eq "libfreefare opens Luis's card with terminal key version 3" 0 "$RC"
stop_sim

# A keystore that lacks the card's version: one line, exit 1, not TAMPERED.
run_capture "$LEAL" card read --reader "sim:$T/ana.json" --keystore "$T/keystore-v1"
check_eq "a keystore without the card's version" \
    "1|leal: reading the card: the card's terminal key is version 2, which this keystore does not hold (the card is not tampered); use the keystore, or a backup of it, that holds that version" \
    "$RC|$ERR"
# --- MIFARE Classic through libnfc: every Classic role rotated ----------------
# Stored value on, so the purse is part of what the re-sealed state carries.
"$LEAL" program set 7 --purse-cap 1000 --classic-stored-value-cap 50 >/dev/null
"$LEAL" customer add --program 7 --name Marta >/dev/null
"$CARDSIM" new --type classic-1k --uid c0ffee42 -o "$T/marta.json" >/dev/null
serve_pn532 "$T/marta.json"
run_capture "$LEAL" card issue --customer 3 --reader "nfc:$LIBNFC_DEVICE" --topup 6 --welcome-points 9 --json
check_eq "Classic card issued through libnfc" "0 600 0" "$RC $(json purse_cents keys_updated <<<"$OUT")"
MARTA=$(json card_id <<<"$OUT")
for role in classic-a classic-b mad-b classic-seal package; do
    run_capture "$LEAL" keys rotate "$role"
    check_match "rotate $role" "^program 7: $role is now at version 2 " "$OUT"
done
# Read (19; key A tried at 2, then 1: +1), then under key B: sector 0's
# trailer (2), the identity re-sealed and re-signed with sectors 1-3's
# trailers (5, 5, 4), the state re-sealed into the other slot with its
# trailer (5), the current slot's trailer (2).
run_capture "$LEAL" card read --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "a read through libnfc re-keys the Classic card: keys changed, round trips, purse, seq" \
    "0 5 43 600 3 True" "$RC $(json keys_updated round_trips purse_cents state_seq agrees <<<"$OUT")"
run_capture "$LEAL" card top-up 1,50 --reader "nfc:$LIBNFC_DEVICE" --json
check_eq "then a top-up as usual (19 + 4)" "0 0 23 750" "$RC $(json keys_updated round_trips purse_cents <<<"$OUT")"
stop_sim

# Outside leal: nfc-mfclassic dumps the card with key A of version 2 that
# `openssl mac` derives (LAYOUT.md 3.1), and classic_dump_state.py opens its
# records with classic-seal version 2 (and not with version 1).
DEC=$(PASS="$LEAL_PASSPHRASE" $PY tests/integration/keystore_decode.py "$KS")
ISSUER=$(sed -n 's/^issuer_id //p' <<<"$DEC")
ckey() { # VERSION SECTOR
    $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' \
        "01c0ffee424c01$(printf %02x "$2")4c45414c${ISSUER}00000007" |
        openssl mac -cipher AES-128-CBC -macopt "hexkey:$(sed -n "s/^key classic-a $1 //p" <<<"$DEC")" CMAC |
        cut -c1-12 | tr 'A-F' 'a-f'
}
KEYS_HEX=""
for s in $(seq 0 15); do
    case $s in
    0) KA=a0a1a2a3a4a5 ;;
    [1-5]) KA=$(ckey 2 "$s") ;;
    *) KA=ffffffffffff ;;
    esac
    if [ "$s" = 0 ]; then KEYS_HEX+="c0ffee42$(printf '%024d' 0)"; else KEYS_HEX+=$(printf '%032d' 0); fi
    KEYS_HEX+="$(printf '%064d' 0)${KA}ff078069ffffffffffff"
done
$PY -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(sys.argv[2]))' "$T/keys.mfd" "$KEYS_HEX"
serve_pn532 "$T/marta.json"
run_capture nfc-mfclassic r a u "$T/dump.mfd" "$T/keys.mfd" f
check_eq "nfc-mfclassic dumps the re-keyed card with key A version 2 from openssl" 0 "$RC"
stop_sim
run_capture $PY tests/integration/classic_dump_state.py "$T/dump.mfd" \
    "$(sed -n 's/^key classic-seal 2 //p' <<<"$DEC")" "$ISSUER" 7
check_eq "Python opens the re-sealed identity and state with classic-seal version 2" \
    "card $MARTA seq 4 points 9" "$OUT"
run_capture $PY tests/integration/classic_dump_state.py "$T/dump.mfd" \
    "$(sed -n 's/^key classic-seal 1 //p' <<<"$DEC")" "$ISSUER" 7
check_eq "and not with version 1" 1 "$RC"

acct() { "$LEAL" customer show "$1" --json | json account; }
eur() { "$LEAL" account show "$(acct "$1")" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["balances"]["EUR"])'; }
check_eq "the ledger holds Ana's 12.50 and Luis's 4.00" "1250 400" "$(eur 1) $(eur 2)"
run_capture "$LEAL" ledger verify
check_eq "the ledger verifies" 0 "$RC"
finish
